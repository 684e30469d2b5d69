//! A MAC-learning Ethernet switch: learns source MACs, forwards known unicast to one port,
//! floods unknown unicast, broadcast and multicast to every other port with carrier, and never
//! forwards IEEE 802.1D link-local frames (01:80:c2:00:00:0x), as Linux bridges and real
//! switches do not. A port that loses carrier forgets what it learned (real switches flush the
//! port's entries on link down, which is what lets a peer reach a bond right after failover).

use std::collections::BTreeMap;

use bond_core::{Duration, EthernetAddress, Instant};

use crate::link::NodeId;
use crate::log::LogKind;
use crate::node::Ctx;
use crate::packet::{parse_announcement, Announcement};

/// What a switch does when it sees a known source MAC arrive on another port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Learning {
    /// Move the entry to the new port at once (Linux bridge, most switches).
    #[default]
    Roam,
    /// Keep the first port until the entry ages out or its port loses carrier (Linux bridge
    /// `sticky` entries, switches with MAC-move protection, VirtualBox's internal network). This
    /// is what makes all of a balance-rr bond's receive traffic arrive on one port in the seed's
    /// `sar` experiment.
    Sticky,
}

/// Switch settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SwitchConfig {
    /// Number of ports.
    pub ports: usize,
    /// Learning policy.
    pub learning: Learning,
    /// Entries not refreshed for this long are forgotten; `None` keeps them forever.
    pub aging: Option<Duration>,
}

impl SwitchConfig {
    /// `ports` ports, roaming learning, Linux bridge's default ageing time of 300 s.
    pub fn new(ports: usize) -> Self {
        Self {
            ports,
            learning: Learning::Roam,
            aging: Some(Duration::from_secs(300)),
        }
    }
}

/// Counters of a switch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SwitchStats {
    /// Frames received on any port.
    pub received: u64,
    /// Frames sent to a single learned port.
    pub forwarded: u64,
    /// Frames flooded (unknown unicast, broadcast, multicast).
    pub flooded: u64,
    /// Link-local frames (01:80:c2:00:00:0x) dropped.
    pub dropped_link_local: u64,
    /// Unicast frames whose destination was learned on the ingress port (filtered).
    pub dropped_same_port: u64,
    /// Source MACs re-learned on another port.
    pub mac_moves: u64,
}

#[derive(Debug, Clone, Copy)]
struct FdbEntry {
    port: usize,
    last_seen: Instant,
}

/// A MAC-learning switch.
#[derive(Debug)]
pub struct Switch {
    id: NodeId,
    name: String,
    config: SwitchConfig,
    carrier: Vec<bool>,
    powered: bool,
    // A BTreeMap keeps every iteration deterministic.
    fdb: BTreeMap<EthernetAddress, FdbEntry>,
    stats: SwitchStats,
}

impl Switch {
    pub(crate) fn new(id: NodeId, name: String, config: SwitchConfig) -> Self {
        Self {
            id,
            name,
            carrier: vec![false; config.ports],
            config,
            powered: true,
            fdb: BTreeMap::new(),
            stats: SwitchStats::default(),
        }
    }

    /// Name, e.g. `A`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Settings.
    pub fn config(&self) -> &SwitchConfig {
        &self.config
    }

    /// Whether the switch is powered.
    pub fn is_powered(&self) -> bool {
        self.powered
    }

    /// Counters.
    pub fn stats(&self) -> &SwitchStats {
        &self.stats
    }

    /// The port `mac` is learned on at `now`, if any (0-based).
    pub fn lookup(&self, now: Instant, mac: EthernetAddress) -> Option<usize> {
        let e = self.fdb.get(&mac)?;
        let fresh = self.config.aging.is_none_or(|age| now - e.last_seen < age);
        fresh.then_some(e.port)
    }

    /// The display name of port `port` (1-based, as on a switch's faceplate).
    pub fn port_name(&self, port: usize) -> String {
        format!("{}.port{}", self.name, port + 1)
    }

    pub(crate) fn set_powered(&mut self, up: bool) {
        self.powered = up;
        if !up {
            self.fdb.clear();
        }
    }

    pub(crate) fn set_carrier(&mut self, port: usize, up: bool) {
        self.carrier[port] = up;
        if !up {
            self.fdb.retain(|_, e| e.port != port);
        }
    }

    pub(crate) fn receive(&mut self, ctx: &mut Ctx, port: usize, frame: &[u8]) {
        if !self.powered || frame.len() < 14 {
            return;
        }
        self.stats.received += 1;
        let dst = EthernetAddress::from_bytes(&frame[0..6]);
        let src = EthernetAddress::from_bytes(&frame[6..12]);
        if dst.is_link_local() {
            self.stats.dropped_link_local += 1;
            return;
        }
        self.learn(ctx, src, port);
        if let Some(what) = parse_announcement(frame) {
            let text = match what {
                Announcement::GratuitousArp { mac, ip } => format!(
                    "switch {}: gratuitous ARP {} is-at {mac}",
                    self.port_name(port),
                    std::net::Ipv4Addr::from(ip)
                ),
                Announcement::UnsolicitedNa { mac, ip } => format!(
                    "switch {}: unsolicited NA {} is-at {mac}",
                    self.port_name(port),
                    std::net::Ipv6Addr::from(ip)
                ),
            };
            ctx.log(
                LogKind::Announcement {
                    switch: self.id,
                    port,
                    what,
                },
                text,
            );
        }
        let out = if dst.is_multicast() {
            None
        } else {
            self.lookup(ctx.now, dst)
        };
        match out {
            Some(p) if p == port => self.stats.dropped_same_port += 1,
            Some(p) => {
                if self.carrier[p] {
                    self.stats.forwarded += 1;
                    ctx.out.push((p, frame.to_vec()));
                }
            }
            None => {
                self.stats.flooded += 1;
                for p in (0..self.config.ports).filter(|&p| p != port && self.carrier[p]) {
                    ctx.out.push((p, frame.to_vec()));
                }
            }
        }
    }

    fn learn(&mut self, ctx: &mut Ctx, src: EthernetAddress, port: usize) {
        if !src.is_unicast() {
            return;
        }
        let now = ctx.now;
        let known = self.lookup(now, src);
        match known {
            Some(p) if p != port && self.config.learning == Learning::Sticky => {
                // Sticky: the entry stays where it is; do not refresh it from the other port.
            }
            Some(p) if p != port => {
                self.stats.mac_moves += 1;
                let text = format!(
                    "switch {}: {src} moved from port{} to port{}",
                    self.name,
                    p + 1,
                    port + 1
                );
                ctx.log(
                    LogKind::MacMoved {
                        switch: self.id,
                        mac: src,
                        from: p,
                        to: port,
                    },
                    text,
                );
                self.fdb.insert(
                    src,
                    FdbEntry {
                        port,
                        last_seen: now,
                    },
                );
            }
            _ => {
                self.fdb.insert(
                    src,
                    FdbEntry {
                        port,
                        last_seen: now,
                    },
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H1: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 1]);
    const H2: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 2]);

    fn frame(dst: EthernetAddress, src: EthernetAddress) -> Vec<u8> {
        let mut f = vec![0u8; 60];
        f[0..6].copy_from_slice(&dst.0);
        f[6..12].copy_from_slice(&src.0);
        f
    }

    fn switch(learning: Learning) -> Switch {
        let mut s = Switch::new(
            NodeId(0),
            "A".into(),
            SwitchConfig {
                learning,
                ..SwitchConfig::new(3)
            },
        );
        for p in 0..3 {
            s.set_carrier(p, true);
        }
        s
    }

    fn ports(ctx: &Ctx) -> Vec<usize> {
        ctx.out.iter().map(|(p, _)| *p).collect()
    }

    #[test]
    fn floods_unknown_then_forwards_learned() {
        let mut s = switch(Learning::Roam);
        let mut ctx = Ctx::new(Instant::ZERO);
        s.receive(&mut ctx, 0, &frame(H2, H1));
        assert_eq!(ports(&ctx), [1, 2]);
        let mut ctx = Ctx::new(Instant::ZERO);
        s.receive(&mut ctx, 2, &frame(H1, H2));
        assert_eq!(ports(&ctx), [0]);
        assert_eq!(s.lookup(Instant::ZERO, H2), Some(2));
    }

    #[test]
    fn link_local_is_never_forwarded() {
        let mut s = switch(Learning::Roam);
        let mut ctx = Ctx::new(Instant::ZERO);
        s.receive(&mut ctx, 0, &frame(EthernetAddress::SLOW_PROTOCOLS, H1));
        assert!(ctx.out.is_empty());
        assert_eq!(s.stats().dropped_link_local, 1);
    }

    #[test]
    fn roam_moves_sticky_stays_carrier_loss_flushes() {
        let mut s = switch(Learning::Roam);
        let mut ctx = Ctx::new(Instant::ZERO);
        s.receive(&mut ctx, 0, &frame(H2, H1));
        s.receive(&mut ctx, 1, &frame(H2, H1));
        assert_eq!(s.lookup(Instant::ZERO, H1), Some(1));
        assert_eq!(s.stats().mac_moves, 1);

        let mut s = switch(Learning::Sticky);
        s.receive(&mut ctx, 0, &frame(H2, H1));
        s.receive(&mut ctx, 1, &frame(H2, H1));
        assert_eq!(s.lookup(Instant::ZERO, H1), Some(0));
        s.set_carrier(0, false);
        assert_eq!(s.lookup(Instant::ZERO, H1), None);
    }

    #[test]
    fn entries_age_out() {
        let mut s = switch(Learning::Roam);
        let mut ctx = Ctx::new(Instant::ZERO);
        s.receive(&mut ctx, 0, &frame(H2, H1));
        assert_eq!(s.lookup(Instant::from_millis(299_999), H1), Some(0));
        assert_eq!(s.lookup(Instant::from_millis(300_000), H1), None);
    }
}
