//! What the simulator checks about every Slow Protocols frame a bond sends: it decodes with the
//! core's own parser (`bond_core::wire::slow::classify`), and no port sends more than three
//! LACPDUs in any one-second window (802.1AX 6.4.16). The checks run on every frame of every
//! run, so each scenario and property test gets them for free.
//!
//! A NIC released from its bond and enslaved again is a new bond port, whose transmit machine
//! starts afresh (as in Linux), so the rate is checked per port lifetime: the goodbye LACPDU of
//! the old port and the hello of the new one may fall in the same second.

use bond_core::lacp::FAST_PERIODIC;
use bond_core::wire::lacp::LacpduRepr;
use bond_core::wire::slow::{classify, SlowFrame};
use bond_core::Instant;

use crate::log::ViolationKind;

/// Most LACPDUs a port may send in any window of [`FAST_PERIODIC`] (one second).
pub const MAX_LACPDUS_PER_SECOND: usize = 3;

/// The Slow Protocols frames one NIC's bond port sent.
#[derive(Debug, Clone, Default)]
pub struct SlowTx {
    lacpdus: Vec<(Instant, LacpduRepr)>,
    /// Index in `lacpdus` of the first LACPDU of each port lifetime after the first.
    lifetimes: Vec<usize>,
    markers: u64,
}

impl SlowTx {
    /// Every LACPDU sent, with its send time, decoded.
    pub fn lacpdus(&self) -> &[(Instant, LacpduRepr)] {
        &self.lacpdus
    }

    /// LACPDUs sent at or after `since`.
    pub fn lacpdus_since(&self, since: Instant) -> usize {
        self.lacpdus.iter().filter(|(t, _)| *t >= since).count()
    }

    /// Marker PDUs sent (responses: the bond never originates markers).
    pub fn markers(&self) -> u64 {
        self.markers
    }

    /// The most LACPDUs one port lifetime sent in any window `[t, t + 1 s)`.
    pub fn max_lacpdus_per_second(&self) -> usize {
        let times: Vec<Instant> = self.lacpdus.iter().map(|(t, _)| *t).collect();
        let mut bounds = vec![0];
        bounds.extend(&self.lifetimes);
        bounds.push(times.len());
        bounds
            .windows(2)
            .map(|w| max_in_window(&times[w[0]..w[1]]))
            .max()
            .unwrap_or(0)
    }

    /// The NIC joined the bond again: a new port, with a transmit machine of its own.
    pub(crate) fn new_port(&mut self) {
        let n = self.lacpdus.len();
        if n > 0 && self.lifetimes.last() != Some(&n) {
            self.lifetimes.push(n);
        }
    }

    /// Record a control frame the bond sent at `now`; a frame that breaks a rule comes back as
    /// the violation to report. Frames that are not Slow Protocols (ARP, NA) pass unrecorded.
    pub(crate) fn record(
        &mut self,
        now: Instant,
        frame: &[u8],
    ) -> Result<(), (ViolationKind, String)> {
        match classify(frame) {
            SlowFrame::NotSlow => Ok(()),
            SlowFrame::Marker(_) => {
                self.markers += 1;
                Ok(())
            }
            SlowFrame::Lacpdu { repr, .. } => {
                self.lacpdus.push((now, repr));
                // Sent in time order, so only the window ending with this PDU can be new.
                let n = self.lacpdus.len();
                let born = self.lifetimes.last().copied().unwrap_or(0);
                match n.checked_sub(MAX_LACPDUS_PER_SECOND + 1) {
                    Some(i) if i >= born && now - self.lacpdus[i].0 < FAST_PERIODIC => Err((
                        ViolationKind::LacpduRate,
                        format!(
                            "{} LACPDUs within {} (since {})",
                            MAX_LACPDUS_PER_SECOND + 1,
                            now - self.lacpdus[i].0,
                            self.lacpdus[i].0
                        ),
                    )),
                    _ => Ok(()),
                }
            }
            other => Err((
                ViolationKind::MalformedSlowFrame,
                format!(
                    "slow protocols frame of {} bytes decodes as {other:?}",
                    frame.len()
                ),
            )),
        }
    }
}

/// The most instants of sorted `times` in any half-open window of one second.
pub fn max_in_window(times: &[Instant]) -> usize {
    let mut worst = 0;
    let mut start = 0;
    for (end, t) in times.iter().enumerate() {
        while *t - times[start] >= FAST_PERIODIC {
            start += 1;
        }
        worst = worst.max(end + 1 - start);
    }
    worst
}

#[cfg(test)]
mod tests {
    use super::*;
    use bond_core::wire::lacp::{emit_lacpdu_frame, PortInfo, PortState};
    use bond_core::EthernetAddress;

    fn pdu_frame() -> Vec<u8> {
        let info = PortInfo {
            system_priority: 65535,
            system: EthernetAddress([2, 0, 0, 0, 0, 1]),
            key: 9,
            port_priority: 255,
            port: 1,
            state: PortState::ACTIVITY,
        };
        let repr = LacpduRepr {
            version: 1,
            actor: info,
            partner: info,
            collector_max_delay: 0,
        };
        let mut buf = vec![0u8; 128];
        let n = emit_lacpdu_frame(&mut buf, EthernetAddress([2, 0, 0, 0, 0, 1]), &repr);
        buf.truncate(n);
        buf
    }

    #[test]
    fn a_fourth_pdu_within_a_second_is_a_violation() {
        let mut s = SlowTx::default();
        let f = pdu_frame();
        for t in [0, 100, 999] {
            assert!(s.record(Instant::from_millis(t), &f).is_ok());
        }
        // Exactly one second after the first: allowed (the window is half-open).
        assert!(s.record(Instant::from_millis(1000), &f).is_ok());
        let err = s.record(Instant::from_millis(1099), &f).unwrap_err();
        assert_eq!(err.0, ViolationKind::LacpduRate);
        assert_eq!(s.max_lacpdus_per_second(), 4);
    }

    #[test]
    fn a_new_port_starts_a_new_window() {
        let mut s = SlowTx::default();
        let f = pdu_frame();
        s.new_port();
        for t in [0, 1, 2] {
            assert!(s.record(Instant::from_millis(t), &f).is_ok());
        }
        s.new_port();
        for t in [3, 4, 5] {
            assert!(s.record(Instant::from_millis(t), &f).is_ok());
        }
        assert_eq!(s.max_lacpdus_per_second(), 3);
        assert!(s.record(Instant::from_millis(6), &f).is_err());
    }

    #[test]
    fn undecodable_slow_frames_are_violations_and_other_frames_pass() {
        let mut s = SlowTx::default();
        let f = pdu_frame();
        let err = s.record(Instant::ZERO, &f[..60]).unwrap_err();
        assert_eq!(err.0, ViolationKind::MalformedSlowFrame);
        let mut wrong = f.clone();
        wrong[14] = 0x0b;
        assert!(s.record(Instant::ZERO, &wrong).is_err());
        assert!(s.record(Instant::ZERO, &[0u8; 60]).is_ok());
        assert!(s.lacpdus().is_empty());
    }

    #[test]
    fn window_count() {
        let t = |ms: &[u64]| {
            ms.iter()
                .map(|&m| Instant::from_millis(m))
                .collect::<Vec<_>>()
        };
        assert_eq!(max_in_window(&t(&[])), 0);
        assert_eq!(max_in_window(&t(&[0, 1000, 2000])), 1);
        assert_eq!(max_in_window(&t(&[0, 10, 999, 1000, 1005])), 4);
    }
}
