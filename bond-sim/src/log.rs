//! What happened during a run: a timeline of typed entries with ready-made text, and the
//! invariant violations the simulator detected.

use std::fmt;

use bond_core::{EthernetAddress, Event, Instant};

use crate::faults::Fault;
use crate::link::{LinkId, NodeId};
use crate::packet::Announcement;

/// One timeline entry.
#[derive(Debug, Clone, PartialEq)]
pub struct LogEntry {
    /// When it happened (virtual time).
    pub at: Instant,
    /// What happened, typed, for tests.
    pub kind: LogKind,
    /// What happened, for people (names resolved).
    pub text: String,
}

/// The kinds of timeline entries.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum LogKind {
    /// A scheduled fault was applied.
    Fault(Fault),
    /// A link's carrier changed (both ends see it at this instant).
    Carrier {
        /// The link.
        link: LinkId,
        /// New carrier.
        up: bool,
    },
    /// A bond reported an event (`poll_event`).
    Bond {
        /// The bonded host.
        host: NodeId,
        /// The event, as the core reported it.
        event: Event,
    },
    /// A host applied a port MAC change the bond asked for (`poll_action`).
    PortMac {
        /// The bonded host.
        host: NodeId,
        /// NIC index.
        nic: usize,
        /// The new MAC.
        mac: EthernetAddress,
    },
    /// A bond's own MAC changed (`poll_action`).
    BondMac {
        /// The bonded host.
        host: NodeId,
        /// The new MAC.
        mac: EthernetAddress,
    },
    /// An 802.3ad bond's active aggregator changed (polled after every input: the core reports
    /// no event for it).
    ActiveAggregator {
        /// The bonded host.
        host: NodeId,
        /// The new active aggregator's ID, if any.
        id: Option<u16>,
    },
    /// A NIC joined or left a bond.
    Membership {
        /// The bonded host.
        host: NodeId,
        /// NIC index.
        nic: usize,
        /// Joined (`true`) or left.
        joined: bool,
    },
    /// A switch received a gratuitous ARP or unsolicited NA.
    Announcement {
        /// The switch.
        switch: NodeId,
        /// Its ingress port (0-based).
        port: usize,
        /// What was announced.
        what: Announcement,
    },
    /// A switch re-learned a MAC address on another port.
    MacMoved {
        /// The switch.
        switch: NodeId,
        /// The address.
        mac: EthernetAddress,
        /// Previous port (0-based).
        from: usize,
        /// New port (0-based).
        to: usize,
    },
}

impl fmt::Display for LogEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "t={:>10.3}ms  {}",
            self.at.total_micros() as f64 / 1000.0,
            self.text
        )
    }
}

/// A broken invariant: something the core must guarantee did not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// When it was detected.
    pub at: Instant,
    /// Which invariant.
    pub kind: ViolationKind,
    /// Details with names resolved.
    pub text: String,
}

/// The invariants the simulator checks on every run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ViolationKind {
    /// `select_tx` or `poll_transmit` named a port whose last carrier sample given to the bond
    /// was "down".
    TxOnDownPort,
    /// After `handle_timeout(now)` and draining the outputs, `poll_timeout` was not after `now`.
    TimeoutInPast,
    /// More than one port in the active state in active-backup.
    MultipleActive,
    /// Active-backup without an active port although a port has had carrier for `updelay`.
    NoActive,
    /// A port sent a fourth LACPDU less than a second after the third-to-last one (802.1AX
    /// allows at most three in any Fast_Periodic_Time).
    LacpduRate,
    /// A bond sent a Slow Protocols frame that `bond_core::wire::slow::classify` does not
    /// decode as an LACPDU or a Marker PDU.
    MalformedSlowFrame,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at {}: {:?}: {}", self.at, self.kind, self.text)
    }
}
