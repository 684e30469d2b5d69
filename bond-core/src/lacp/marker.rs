//! Marker Generator (802.1AX-2014 6.5, formerly 802.3 clause 43.5): Marker Information PDUs the
//! bond sends on request, and the matching of the partner's Marker Responses to them.
//!
//! The protocol is optional on the generating side (Linux never generates markers); it checks
//! that a partner's Marker Responder works and lets a caller flush a conversation off a link
//! before moving it: once the response to a marker arrives, every frame the partner received
//! on that port before the marker has been delivered.
//!
//! One request per port may wait to be sent (a second is refused, never queued), and at most
//! [`MARKER_MAX_PER_PERIODIC`] requests leave a port in any Fast_Periodic_Time: with the three
//! LACPDUs a second of the Transmit machine that stays within the ten Slow Protocols frames a
//! second per port of IEEE 802.3 Annex 57A. A request held by that limit is delayed, not
//! dropped, like a LACPDU. Only the last exchange per port is remembered.

use core::fmt;

use super::FAST_PERIODIC;
use crate::bond::Bond;
use crate::config::Mode;
use crate::port::{LinkState, PortId};
use crate::time::{Duration, Instant};
use crate::wire::marker::{MarkerKind, MarkerRepr};

/// Marker Information PDUs a port sends at most in any Fast_Periodic_Time (one second).
pub const MARKER_MAX_PER_PERIODIC: usize = 3;

/// Why [`Bond::send_marker`] refused to send a Marker Information PDU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum MarkerError {
    /// Markers belong to 802.3ad; the bond runs another mode.
    NotSupportedInMode(Mode),
    /// No such port in the bond.
    NoSuchPort,
    /// The bond is administratively down, so it sends nothing.
    BondDown,
    /// The port's link is down: nobody would hear the marker.
    LinkDown,
    /// An earlier marker on this port (this transaction ID) has not been sent yet.
    Pending(u32),
}

impl fmt::Display for MarkerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotSupportedInMode(m) => write!(
                f,
                "could not send a marker: markers need mode 802.3ad, the bond is in mode {m}"
            ),
            Self::NoSuchPort => f.write_str("no such port in the bond"),
            Self::BondDown => f.write_str("could not send a marker: the bond is down"),
            Self::LinkDown => f.write_str("could not send a marker: the port's link is down"),
            Self::Pending(id) => write!(
                f,
                "could not send a marker: marker {id} on this port is still waiting to be sent"
            ),
        }
    }
}

impl core::error::Error for MarkerError {}

/// The last Marker exchange of a port, as [`LacpPortStatus`](super::LacpPortStatus) shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MarkerExchange {
    /// Requester_Transaction_ID of the Marker Information PDU.
    pub transaction_id: u32,
    /// When it was handed out by `poll_transmit` (`None` while it waits to be sent).
    pub sent_at: Option<Instant>,
    /// When the partner's matching Marker Response arrived (`None` until then).
    pub answered_at: Option<Instant>,
}

impl MarkerExchange {
    /// Time from sending to the matching response, once answered.
    pub fn round_trip(&self) -> Option<Duration> {
        Some(self.answered_at? - self.sent_at?)
    }
}

/// A port's Marker Generator state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MarkerGenerator {
    /// The transaction ID of the next request.
    next_id: u32,
    /// The last request (what a response must echo) and what became of it.
    last: Option<(MarkerRepr, MarkerExchange)>,
    /// Send times of the last requests (the per-second limit).
    tx_times: [Option<Instant>; MARKER_MAX_PER_PERIODIC],
}

impl Default for MarkerGenerator {
    fn default() -> Self {
        Self {
            next_id: 1,
            last: None,
            tx_times: [None; MARKER_MAX_PER_PERIODIC],
        }
    }
}

impl MarkerGenerator {
    /// The last exchange, for status.
    pub(crate) fn last(&self) -> Option<MarkerExchange> {
        self.last.map(|(_, x)| x)
    }

    /// The transaction ID of the request waiting to be sent, if any.
    fn pending(&self) -> Option<u32> {
        self.last
            .filter(|(_, x)| x.sent_at.is_none())
            .map(|(_, x)| x.transaction_id)
    }

    /// Queue a request; returns its transaction ID.
    fn queue(&mut self, request: MarkerRepr) -> u32 {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        let request = MarkerRepr {
            transaction_id: id,
            ..request
        };
        self.last = Some((
            request,
            MarkerExchange {
                transaction_id: id,
                sent_at: None,
                answered_at: None,
            },
        ));
        id
    }

    /// When the waiting request may go: `Some(now)` or later, `None` if none waits.
    pub(crate) fn ready_at(&self, now: Instant) -> Option<Instant> {
        self.pending()?;
        Some(match self.tx_times[0] {
            Some(oldest) if self.tx_times.iter().all(Option::is_some) => {
                (oldest + FAST_PERIODIC).max(now)
            }
            _ => now,
        })
    }

    /// Hand out the waiting request if the limit allows it at `now`, and account for it.
    pub(crate) fn transmit(&mut self, now: Instant) -> Option<MarkerRepr> {
        if self.ready_at(now)? > now {
            return None;
        }
        let (request, exchange) = self.last.as_mut()?;
        exchange.sent_at = Some(now);
        self.tx_times.rotate_left(1);
        self.tx_times[MARKER_MAX_PER_PERIODIC - 1] = Some(now);
        Some(*request)
    }

    /// Forget a request that has not been sent (the link went away, the bond stopped).
    pub(crate) fn cancel_pending(&mut self) {
        if self.pending().is_some() {
            self.last = None;
        }
    }

    /// A Marker Response arrived: record it if it answers the last request sent. Returns
    /// whether it matched.
    pub(crate) fn on_response(&mut self, response: &MarkerRepr, now: Instant) -> bool {
        let Some((request, exchange)) = self.last.as_mut() else {
            return false;
        };
        let matches = response.kind == MarkerKind::Response
            && exchange.sent_at.is_some()
            && exchange.answered_at.is_none()
            && response.requester_port == request.requester_port
            && response.requester_system == request.requester_system
            && response.transaction_id == request.transaction_id;
        if matches {
            exchange.answered_at = Some(now);
        }
        matches
    }
}

impl<const N: usize> Bond<N> {
    /// Send one Marker Information PDU on port `id` (802.1AX Marker Generator): Requester_Port
    /// is the port's Actor_Port, Requester_System the actor system, and the transaction ID,
    /// returned, counts up per port from 1. The next `poll_transmit` hands it out (at most
    /// [`MARKER_MAX_PER_PERIODIC`] a second per port; a request held by that limit goes when
    /// `poll_timeout` says) and counts it in `marker_tx`. A Marker Response that echoes the
    /// three requester fields is recorded in [`LacpPortStatus::last_marker`](super::LacpPortStatus).
    ///
    /// Refused, changing nothing, outside mode 802.3ad, for an unknown port, while the bond is
    /// down or the port's link is down, and while an earlier marker of the port still waits to
    /// be sent.
    pub fn send_marker(&mut self, _now: Instant, id: PortId) -> Result<u32, MarkerError> {
        if self.config.mode != Mode::Lacp {
            return Err(MarkerError::NotSupportedInMode(self.config.mode));
        }
        let actor = self.lacp_actor();
        let admin_up = self.admin_up;
        let p = self.port_mut(id).ok_or(MarkerError::NoSuchPort)?;
        if !admin_up {
            return Err(MarkerError::BondDown);
        }
        if !(p.carrier && p.link == LinkState::Up) {
            return Err(MarkerError::LinkDown);
        }
        if let Some(pending) = p.lacp.marker.pending() {
            return Err(MarkerError::Pending(pending));
        }
        Ok(p.lacp.marker.queue(MarkerRepr {
            kind: MarkerKind::Information,
            requester_port: p.lacp.number,
            requester_system: actor.system,
            transaction_id: 0,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::EthernetAddress;

    fn ms(t: u64) -> Instant {
        Instant::from_millis(t)
    }

    const SYSTEM: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 1]);

    fn request() -> MarkerRepr {
        MarkerRepr {
            kind: MarkerKind::Information,
            requester_port: 1,
            requester_system: SYSTEM,
            transaction_id: 0,
        }
    }

    #[test]
    fn ids_count_up_and_one_request_waits_at_most() {
        let mut g = MarkerGenerator::default();
        assert_eq!(g.ready_at(ms(0)), None);
        assert_eq!(g.queue(request()), 1);
        assert_eq!(g.pending(), Some(1));
        assert_eq!(g.transmit(ms(5)).map(|r| r.transaction_id), Some(1));
        assert_eq!(g.pending(), None);
        assert_eq!(g.transmit(ms(5)), None, "sent once");
        assert_eq!(g.queue(request()), 2);
        g.cancel_pending();
        assert_eq!(g.last(), None);
        assert_eq!(g.queue(request()), 3, "a cancelled ID is not reused");
    }

    #[test]
    fn at_most_three_a_second_delayed_not_dropped() {
        let mut g = MarkerGenerator::default();
        let mut sent = heapless::Vec::<u64, 16>::new();
        let mut now = ms(0);
        // A caller asks again as soon as the previous request has gone, every 100 ms.
        while now < ms(2500) {
            if g.pending().is_none() {
                g.queue(request());
            }
            if let Some(r) = g.transmit(now) {
                assert_eq!(g.last().unwrap().transaction_id, r.transaction_id);
                sent.push(now.total_millis()).unwrap();
            }
            now += Duration::from_millis(100);
        }
        assert_eq!(
            &sent[..],
            &[0, 100, 200, 1000, 1100, 1200, 2000, 2100, 2200]
        );
        assert_eq!(g.ready_at(ms(2500)), Some(ms(3000)));
    }

    #[test]
    fn only_the_echo_of_the_last_request_sent_matches() {
        let sent = |g: &mut MarkerGenerator| {
            let id = g.queue(request());
            g.transmit(ms(10)).unwrap();
            MarkerRepr {
                kind: MarkerKind::Response,
                transaction_id: id,
                ..request()
            }
        };
        // (what is changed in the echo, matches)
        type Change = fn(&mut MarkerRepr);
        let cases: [(Change, bool); 6] = [
            (|_| {}, true),
            (|r| r.transaction_id += 1, false),
            (|r| r.requester_port = 2, false),
            (
                |r| r.requester_system = EthernetAddress([2, 0, 0, 0, 0, 9]),
                false,
            ),
            (|r| r.kind = MarkerKind::Information, false),
            (
                |r| r.transaction_id = r.transaction_id.wrapping_sub(1),
                false,
            ),
        ];
        for (i, (change, matches)) in cases.into_iter().enumerate() {
            let mut g = MarkerGenerator::default();
            let mut echo = sent(&mut g);
            change(&mut echo);
            assert_eq!(g.on_response(&echo, ms(12)), matches, "case {i}");
            let x = g.last().unwrap();
            assert_eq!(x.answered_at, matches.then_some(ms(12)), "case {i}");
            assert_eq!(
                x.round_trip(),
                matches.then_some(Duration::from_millis(2)),
                "case {i}"
            );
        }
        // No request, a request not yet sent, an answer already recorded: nothing matches.
        let mut g = MarkerGenerator::default();
        let echo = MarkerRepr {
            kind: MarkerKind::Response,
            transaction_id: 1,
            ..request()
        };
        assert!(!g.on_response(&echo, ms(1)));
        g.queue(request());
        assert!(!g.on_response(&echo, ms(1)));
        g.transmit(ms(2)).unwrap();
        assert!(g.on_response(&echo, ms(3)));
        assert!(!g.on_response(&echo, ms(4)), "a duplicate answer");
        assert_eq!(g.last().unwrap().answered_at, Some(ms(3)));
    }
}
