//! Transmit machine (802.1AX 6.4.16): one LACPDU per NTT, at most three in any
//! Fast_Periodic_Time window — delayed, never dropped — with the content taken when it is sent.

use super::port::{LacpPort, PeriodicState};
use super::{Actor, FAST_PERIODIC};
use crate::time::Instant;
use crate::wire::lacp::{LacpduRepr, PortInfo};

/// When the port may send its pending LACPDU: `Some(now)` or later, `None` if nothing to send.
pub(crate) fn ready_at(p: &LacpPort, now: Instant) -> Option<Instant> {
    let wants = p.final_pdu
        || (p.ntt && p.lacp_enabled && p.enabled && p.periodic != PeriodicState::NoPeriodic);
    if !wants {
        return None;
    }
    Some(match p.tx_times[0] {
        Some(oldest) if p.tx_times.iter().all(Option::is_some) => (oldest + FAST_PERIODIC).max(now),
        _ => now,
    })
}

/// Build the LACPDU the port sends now, and account for it.
pub(crate) fn transmit(p: &mut LacpPort, actor: &Actor, now: Instant) -> LacpduRepr {
    p.ntt = false;
    p.final_pdu = false;
    p.tx_times.rotate_left(1);
    p.tx_times[2] = Some(now);
    p.stats.lacpdu_tx += 1;
    LacpduRepr {
        version: 1,
        actor: PortInfo {
            system_priority: actor.system_priority,
            system: actor.system,
            key: p.key,
            port_priority: p.port_priority,
            port: p.number,
            state: p.actor_state,
        },
        partner: p.partner,
        collector_max_delay: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Duration;
    use crate::wire::EthernetAddress;

    const ACTOR: Actor = Actor {
        system: EthernetAddress([2, 0, 0, 0, 0, 1]),
        system_priority: 65535,
    };

    fn ms(t: u64) -> Instant {
        Instant::from_millis(t)
    }

    #[test]
    fn at_most_three_in_any_second_and_delayed_not_dropped() {
        let mut p = LacpPort::new(1, 255);
        p.enabled = true;
        p.lacp_enabled = true;
        p.periodic = PeriodicState::FastPeriodic;
        let mut sent = heapless::Vec::<u64, 16>::new();
        let mut now = ms(0);
        // The machines want to send every 100 ms for 2.5 s.
        while now < ms(2500) {
            p.ntt = true;
            if let Some(at) = ready_at(&p, now).filter(|&t| t <= now) {
                transmit(&mut p, &ACTOR, at);
                sent.push(at.total_millis()).unwrap();
            }
            now += Duration::from_millis(100);
        }
        assert_eq!(
            &sent[..],
            &[0, 100, 200, 1000, 1100, 1200, 2000, 2100, 2200]
        );
        // Pending NTT survives the limit.
        assert!(p.ntt);
        assert_eq!(ready_at(&p, ms(2500)), Some(ms(3000)));
    }

    #[test]
    fn nothing_without_ntt_or_when_both_passive() {
        let mut p = LacpPort::new(1, 255);
        p.enabled = true;
        p.lacp_enabled = true;
        assert_eq!(ready_at(&p, ms(0)), None);
        p.ntt = true;
        p.periodic = PeriodicState::NoPeriodic;
        assert_eq!(ready_at(&p, ms(0)), None);
        p.final_pdu = true;
        assert_eq!(
            ready_at(&p, ms(0)),
            Some(ms(0)),
            "the goodbye PDU always goes"
        );
    }
}
