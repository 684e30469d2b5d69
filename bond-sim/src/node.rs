//! What a node hands back to the simulator from one input: frames to put on its links,
//! timeline entries, application deliveries and invariant violations. A fresh, empty context is
//! passed to every node call, which keeps nodes free of references to the rest of the network.

use bond_core::Instant;

use crate::log::{LogEntry, LogKind, Violation, ViolationKind};

/// An application frame a host delivered to its application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Delivery {
    pub(crate) flow: u32,
    pub(crate) seq: u64,
    /// The NIC it came in on.
    pub(crate) nic: usize,
}

/// Outputs of one node call.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub(crate) now: Instant,
    /// Frames to transmit: (local port, frame). The node has already checked its own carrier.
    pub(crate) out: Vec<(usize, Vec<u8>)>,
    pub(crate) log: Vec<LogEntry>,
    pub(crate) delivered: Vec<Delivery>,
    pub(crate) violations: Vec<Violation>,
}

impl Ctx {
    pub(crate) fn new(now: Instant) -> Self {
        Self {
            now,
            out: Vec::new(),
            log: Vec::new(),
            delivered: Vec::new(),
            violations: Vec::new(),
        }
    }

    pub(crate) fn log(&mut self, kind: LogKind, text: String) {
        self.log.push(LogEntry {
            at: self.now,
            kind,
            text,
        });
    }

    pub(crate) fn violation(&mut self, kind: ViolationKind, text: String) {
        self.violations.push(Violation {
            at: self.now,
            kind,
            text,
        });
    }
}
