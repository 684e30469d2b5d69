//! Fault schedules: what breaks, and when.

use std::collections::BTreeMap;

use bond_core::{Duration, EthernetAddress, Instant};

use crate::link::{LinkId, NodeId};

/// Something that happens to the network at a scheduled instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Cut a link (cable pulled): frames in flight are lost and both ends lose carrier.
    LinkDown(LinkId),
    /// Restore a cut link.
    LinkUp(LinkId),
    /// The link keeps its carrier but stops passing frames, both ways (a dead transceiver lane,
    /// a hung media converter, a switch whose data plane froze). No carrier event tells the
    /// bonds; only a protocol timeout can. Frames already in flight still arrive.
    Silence(LinkId),
    /// A silenced link passes frames again.
    Unsilence(LinkId),
    /// Cut and restore a link `times` times: down at the start of each `period`, up halfway
    /// through it. Expanded into `LinkDown`/`LinkUp` entries when scheduled.
    Flap {
        /// The link.
        link: LinkId,
        /// How many down/up cycles.
        times: u32,
        /// Length of one cycle.
        period: Duration,
    },
    /// Power a switch off: all its links lose carrier and it forgets what it learned.
    SwitchDown(NodeId),
    /// Power a switch back on.
    SwitchUp(NodeId),
    /// Take NIC `nic` out of the bond of `host` (Linux release).
    RemovePort {
        /// The bonded host.
        host: NodeId,
        /// NIC index.
        nic: usize,
    },
    /// Put NIC `nic` back into the bond of `host` (Linux enslave).
    AddPort {
        /// The bonded host.
        host: NodeId,
        /// NIC index.
        nic: usize,
    },
    /// The bond of `host` restarts from scratch, fast enough that no carrier is lost (a
    /// switch's control plane restarting, a host rebooting behind a media converter): same
    /// configuration, NICs and addresses, but the LACP system ID is now `actor_system`
    /// (`ad_actor_system`). A crash says no goodbye: nothing is sent before the restart.
    Reboot {
        /// The bonded host.
        host: NodeId,
        /// Its LACP system ID after the restart.
        actor_system: EthernetAddress,
    },
}

/// Faults ordered by time; faults at the same instant apply in the order they were scheduled.
#[derive(Debug, Default)]
pub struct FaultSchedule {
    entries: BTreeMap<(Instant, u64), Fault>,
    next_order: u64,
}

impl FaultSchedule {
    /// Schedule `fault` at `at`. A `Flap` is expanded into its downs and ups.
    pub fn add(&mut self, at: Instant, fault: Fault) {
        match fault {
            Fault::Flap {
                link,
                times,
                period,
            } => {
                let half = Duration::from_micros(period.total_micros() / 2);
                for i in 0..u64::from(times) {
                    let start = at + Duration::from_micros(period.total_micros() * i);
                    self.push(start, Fault::LinkDown(link));
                    self.push(start + half, Fault::LinkUp(link));
                }
            }
            f => self.push(at, f),
        }
    }

    fn push(&mut self, at: Instant, fault: Fault) {
        self.entries.insert((at, self.next_order), fault);
        self.next_order += 1;
    }

    /// When the next fault is due.
    pub fn next_due(&self) -> Option<Instant> {
        self.entries.keys().next().map(|(t, _)| *t)
    }

    /// Remove and return the next fault if it is due at or before `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<Fault> {
        let (&key, _) = self.entries.iter().next().filter(|((t, _), _)| *t <= now)?;
        self.entries.remove(&key)
    }

    /// Number of faults still to apply.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no faults are left.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flap_expands_and_pops_in_order() {
        let mut s = FaultSchedule::default();
        let l = LinkId(0);
        s.add(
            Instant::from_millis(10),
            Fault::Flap {
                link: l,
                times: 2,
                period: Duration::from_millis(4),
            },
        );
        s.add(Instant::from_millis(10), Fault::SwitchDown(NodeId(1)));
        assert_eq!(s.len(), 5);
        assert_eq!(s.next_due(), Some(Instant::from_millis(10)));
        assert_eq!(s.pop_due(Instant::from_millis(9)), None);
        let t = Instant::from_millis(100);
        let got: Vec<Fault> = std::iter::from_fn(|| s.pop_due(t)).collect();
        assert_eq!(
            got,
            [
                Fault::LinkDown(l),
                Fault::SwitchDown(NodeId(1)),
                Fault::LinkUp(l),
                Fault::LinkDown(l),
                Fault::LinkUp(l)
            ]
        );
        assert!(s.is_empty());
    }
}
