//! Events the bond reports, and the bounded queue that holds them until the caller drains them.

use crate::port::{LinkState, PortId};

/// Something the caller may want to log or react to. Drained with `Bond::poll_event`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Event {
    /// The link monitor moved a port to a new state.
    LinkChanged {
        /// The port.
        port: PortId,
        /// Its new state.
        state: LinkState,
    },
    /// The current active port changed (active-backup, and the port used for IGMP in balance-rr).
    ActiveChanged {
        /// The previous active port.
        old: Option<PortId>,
        /// The new active port.
        new: Option<PortId>,
    },
    /// The bond's own carrier changed.
    CarrierChanged {
        /// Whether the bond now has carrier.
        up: bool,
    },
    /// 802.3ad: a port's Mux machine changed state (it started or stopped collecting or
    /// distributing).
    LacpMuxChanged {
        /// The port.
        port: PortId,
        /// The new state.
        state: crate::lacp::MuxState,
    },
    /// 802.3ad with `lacp_fallback`: no partner is heard and `port` alone carries traffic
    /// (`Some`), or a partner answered and LACP is back in charge (`None`).
    LacpFallback {
        /// The port carrying traffic, if the fallback is engaged.
        port: Option<PortId>,
    },
    /// A port left while the bond still uses its permanent MAC; give that interface another
    /// address to avoid a conflict (Linux prints the same warning).
    PermanentMacInUse {
        /// The MAC in question.
        mac: crate::wire::EthernetAddress,
    },
    /// Multicast group memberships should be reported again (`resend_igmp`): the host stack
    /// should resend its IGMP/MLD reports through the bond.
    McastRejoin,
    /// Neither miimon nor arp_interval is set: the bond will not detect link failures
    /// (Linux prints the same warning).
    NoLinkMonitoring,
    /// The queue was full and this many events were dropped before this one.
    EventsLost {
        /// How many.
        count: u32,
    },
}

/// Capacity of the event queue.
pub const EVENT_QUEUE_LEN: usize = 16;

/// A fixed-capacity FIFO that counts what it could not keep.
#[derive(Debug, Default)]
pub(crate) struct EventQueue {
    queue: heapless::Deque<Event, EVENT_QUEUE_LEN>,
    lost: u32,
}

impl EventQueue {
    pub(crate) fn push(&mut self, event: Event) {
        if self.queue.push_back(event).is_err() {
            self.lost = self.lost.saturating_add(1);
        }
    }

    pub(crate) fn pop(&mut self) -> Option<Event> {
        if self.lost > 0 {
            let count = core::mem::take(&mut self.lost);
            return Some(Event::EventsLost { count });
        }
        self.queue.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overflow_is_counted_and_reported_first() {
        let mut q = EventQueue::default();
        for _ in 0..EVENT_QUEUE_LEN + 3 {
            q.push(Event::McastRejoin);
        }
        assert_eq!(q.pop(), Some(Event::EventsLost { count: 3 }));
        let mut n = 0;
        while q.pop().is_some() {
            n += 1;
        }
        assert_eq!(n, EVENT_QUEUE_LEN);
    }
}
