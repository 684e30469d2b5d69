//! Full-duplex point-to-point links: one in-flight queue per direction, fixed latency, seeded
//! random loss, a carrier that both ends see change at the same instant.

use std::collections::VecDeque;
use std::fmt;

use bond_core::{Duplex, Duration, Instant, LinkSample};

use crate::rng::Rng;

/// A node of the simulated network (host or switch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub usize);

/// A link of the simulated network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LinkId(pub usize);

/// One port of one node: where a link end plugs in. Host ports are NIC indices (eth0 = 0),
/// switch ports are 0-based too (the switch's "port1" is index 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Endpoint {
    /// The node.
    pub node: NodeId,
    /// Its port index.
    pub port: usize,
}

impl Endpoint {
    /// Port `port` of `node`.
    pub const fn new(node: NodeId, port: usize) -> Self {
        Self { node, port }
    }
}

/// Physical properties of a link.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinkParams {
    /// One-way propagation delay. Frames are not serialised: a frame takes exactly this long
    /// whatever its size (the sim studies failover, not bandwidth).
    pub latency: Duration,
    /// Probability that a frame is lost, each direction, independently per frame.
    pub loss: f64,
    /// Speed reported to the bond in link samples (Mbit/s).
    pub speed_mbps: u32,
    /// Duplex reported to the bond.
    pub duplex: Duplex,
}

impl Default for LinkParams {
    /// 50 µs, lossless, 1 Gbit/s full duplex.
    fn default() -> Self {
        Self {
            latency: Duration::from_micros(50),
            loss: 0.0,
            speed_mbps: 1000,
            duplex: Duplex::Full,
        }
    }
}

/// Per-direction counters of a link. Index 0 is A→B, 1 is B→A.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Frames put on the wire.
    pub sent: [u64; 2],
    /// Frames that reached the far end.
    pub delivered: [u64; 2],
    /// Frames lost to random loss.
    pub lost_random: [u64; 2],
    /// Frames in flight when the carrier went down.
    pub lost_in_flight: [u64; 2],
    /// Frames lost because the link was silenced (carrier up, nothing passes).
    pub lost_silent: [u64; 2],
}

#[derive(Debug)]
struct InFlight {
    arrival: Instant,
    frame: Vec<u8>,
}

/// A full-duplex link between two endpoints.
#[derive(Debug)]
pub struct Link {
    name: String,
    ends: [Endpoint; 2],
    /// Physical properties; may be changed before the simulation starts.
    pub params: LinkParams,
    /// Cut by a fault (cable pulled).
    cut: bool,
    /// Silenced by a fault: carrier stays up, every frame is lost.
    silent: bool,
    carrier: bool,
    queues: [VecDeque<InFlight>; 2],
    rng: Rng,
    stats: LinkStats,
}

impl Link {
    pub(crate) fn new(
        name: String,
        a: Endpoint,
        b: Endpoint,
        params: LinkParams,
        seed: u64,
    ) -> Self {
        Self {
            name,
            ends: [a, b],
            params,
            cut: false,
            silent: false,
            carrier: true,
            queues: [VecDeque::new(), VecDeque::new()],
            rng: Rng::new(seed),
            stats: LinkStats::default(),
        }
    }

    /// Human-readable name, e.g. `router.eth0-A.port1`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The two ends, A then B.
    pub fn ends(&self) -> [Endpoint; 2] {
        self.ends
    }

    /// The end opposite `end`.
    pub fn peer_of(&self, end: Endpoint) -> Option<Endpoint> {
        self.side_of(end).map(|s| self.ends[1 - s])
    }

    /// Whether carrier is present (not cut, and both ends powered).
    pub fn carrier(&self) -> bool {
        self.carrier
    }

    /// Whether a fault cut the cable.
    pub fn is_cut(&self) -> bool {
        self.cut
    }

    /// Whether a fault silenced the link (carrier up, frames lost).
    pub fn is_silent(&self) -> bool {
        self.silent
    }

    /// Counters.
    pub fn stats(&self) -> &LinkStats {
        &self.stats
    }

    /// The sample a NIC on this link reads now.
    pub fn sample(&self) -> LinkSample {
        if self.carrier {
            LinkSample {
                up: true,
                speed_mbps: Some(self.params.speed_mbps),
                duplex: self.params.duplex,
            }
        } else {
            LinkSample::DOWN
        }
    }

    pub(crate) fn side_of(&self, end: Endpoint) -> Option<usize> {
        self.ends.iter().position(|e| *e == end)
    }

    pub(crate) fn set_cut(&mut self, cut: bool) {
        self.cut = cut;
    }

    pub(crate) fn set_silent(&mut self, silent: bool) {
        self.silent = silent;
    }

    /// Set the carrier; going down loses every frame in flight. Returns whether it changed.
    pub(crate) fn set_carrier(&mut self, up: bool) -> bool {
        if self.carrier == up {
            return false;
        }
        self.carrier = up;
        if !up {
            for (dir, q) in self.queues.iter_mut().enumerate() {
                self.stats.lost_in_flight[dir] += q.len() as u64;
                q.clear();
            }
        }
        true
    }

    /// Put `frame` on the wire from side `from` at `now`. Returns `false` if it was lost.
    ///
    /// # Panics
    /// If the link has no carrier: callers must not send on a dead link (the simulator checks
    /// carrier first and accounts for such frames itself).
    pub(crate) fn send(&mut self, now: Instant, from: usize, frame: Vec<u8>) -> bool {
        assert!(
            self.carrier,
            "frame sent on link {} without carrier",
            self.name
        );
        self.stats.sent[from] += 1;
        if self.silent {
            self.stats.lost_silent[from] += 1;
            return false;
        }
        if self.rng.chance(self.params.loss) {
            self.stats.lost_random[from] += 1;
            return false;
        }
        // Fixed latency keeps each queue sorted by arrival time.
        self.queues[from].push_back(InFlight {
            arrival: now + self.params.latency,
            frame,
        });
        true
    }

    /// Earliest arrival of a frame in flight.
    pub(crate) fn next_arrival(&self) -> Option<Instant> {
        self.queues
            .iter()
            .filter_map(|q| q.front().map(|f| f.arrival))
            .min()
    }

    /// The next frame due at or before `now`, and the endpoint it arrives at. Ties go A→B first.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<(Endpoint, Vec<u8>)> {
        let dir = (0..2)
            .filter(|&d| self.queues[d].front().is_some_and(|f| f.arrival <= now))
            .min_by_key(|&d| self.queues[d].front().map(|f| f.arrival))?;
        let f = self.queues[dir].pop_front()?;
        self.stats.delivered[dir] += 1;
        Some((self.ends[1 - dir], f.frame))
    }
}

impl fmt::Display for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(loss: f64) -> Link {
        let a = Endpoint::new(NodeId(0), 0);
        let b = Endpoint::new(NodeId(1), 3);
        Link::new(
            "a-b".into(),
            a,
            b,
            LinkParams {
                loss,
                ..LinkParams::default()
            },
            1,
        )
    }

    #[test]
    fn frames_arrive_after_latency_in_order() {
        let mut l = link(0.0);
        let t0 = Instant::from_millis(1);
        assert!(l.send(t0, 0, vec![1]));
        assert!(l.send(t0, 1, vec![2]));
        assert!(l.send(t0 + Duration::from_micros(10), 0, vec![3]));
        assert_eq!(l.next_arrival(), Some(t0 + Duration::from_micros(50)));
        assert!(l.pop_due(t0 + Duration::from_micros(49)).is_none());
        let t = t0 + Duration::from_micros(100);
        assert_eq!(l.pop_due(t), Some((Endpoint::new(NodeId(1), 3), vec![1])));
        assert_eq!(l.pop_due(t), Some((Endpoint::new(NodeId(0), 0), vec![2])));
        assert_eq!(l.pop_due(t), Some((Endpoint::new(NodeId(1), 3), vec![3])));
        assert_eq!(l.pop_due(t), None);
    }

    #[test]
    fn carrier_loss_drops_frames_in_flight() {
        let mut l = link(0.0);
        l.send(Instant::ZERO, 0, vec![1]);
        l.send(Instant::ZERO, 1, vec![2]);
        assert!(l.set_carrier(false));
        assert!(!l.set_carrier(false));
        assert_eq!(l.stats().lost_in_flight, [1, 1]);
        assert_eq!(l.next_arrival(), None);
        assert_eq!(l.sample(), LinkSample::DOWN);
    }

    #[test]
    fn loss_is_seeded() {
        let run = || {
            let mut l = link(0.5);
            (0..64)
                .map(|_| l.send(Instant::ZERO, 0, vec![0]))
                .collect::<Vec<_>>()
        };
        let a = run();
        assert_eq!(a, run());
        assert!(a.iter().any(|x| *x) && a.iter().any(|x| !*x));
    }
}
