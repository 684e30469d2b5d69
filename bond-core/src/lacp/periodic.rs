//! Periodic Transmission machine (802.1AX 6.4.13, Figure 6-19).
//!
//! The schedule is exact: each periodic LACPDU is due one period after the previous due time,
//! not after whenever the caller got round to it, so a partner with a 3 s timeout never expires
//! us because of jitter in our transmissions.

use super::port::{LacpPort, PeriodicState};
use super::{FAST_PERIODIC, SLOW_PERIODIC};
use crate::time::{Duration, Instant};
use crate::wire::lacp::PortState;

/// Evaluate the machine; returns whether its state changed.
pub(crate) fn run(p: &mut LacpPort, now: Instant) -> bool {
    let before = p.periodic;
    let both_passive = !p.actor_state.contains(PortState::ACTIVITY)
        && !p.partner.state.contains(PortState::ACTIVITY);
    if p.begin || !p.lacp_enabled || !p.enabled || both_passive {
        p.periodic = PeriodicState::NoPeriodic;
        p.periodic_timer = None;
        return p.periodic != before;
    }
    let partner_fast = p.partner.state.contains(PortState::TIMEOUT);
    match p.periodic {
        PeriodicState::NoPeriodic => start(p, partner_fast, now, now),
        PeriodicState::FastPeriodic if !partner_fast => start(p, false, now, now),
        PeriodicState::SlowPeriodic if partner_fast => {
            // PERIODIC_TX: the partner now wants fast updates, starting with one right away.
            p.ntt = true;
            start(p, true, now, now);
        }
        PeriodicState::FastPeriodic | PeriodicState::SlowPeriodic => {
            if let Some(due) = p.periodic_timer.filter(|&t| t <= now) {
                p.ntt = true;
                start(p, partner_fast, due, now);
            }
        }
    }
    p.periodic != before
}

/// Enter FAST_PERIODIC or SLOW_PERIODIC with the timer one period after `due`, or after `now`
/// if we fell more than a period behind.
fn start(p: &mut LacpPort, fast: bool, due: Instant, now: Instant) {
    let period: Duration = if fast { FAST_PERIODIC } else { SLOW_PERIODIC };
    p.periodic = if fast {
        PeriodicState::FastPeriodic
    } else {
        PeriodicState::SlowPeriodic
    };
    let next = due + period;
    p.periodic_timer = Some(if next > now { next } else { now + period });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(t: u64) -> Instant {
        Instant::from_millis(t)
    }

    fn port(actor: PortState, partner: PortState) -> LacpPort {
        let mut p = LacpPort::new(1, 255);
        p.begin = false;
        p.enabled = true;
        p.lacp_enabled = true;
        p.actor_state = actor;
        p.partner.state = partner;
        p
    }

    #[test]
    fn passive_pair_sends_nothing_periodically() {
        let mut p = port(PortState(0), PortState(0));
        run(&mut p, ms(0));
        assert_eq!(p.periodic, PeriodicState::NoPeriodic);
        assert_eq!(p.periodic_timer, None);
    }

    #[test]
    fn passive_actor_answers_an_active_partner_periodically() {
        let mut p = port(PortState(0), PortState::ACTIVITY | PortState::TIMEOUT);
        run(&mut p, ms(0));
        assert_eq!(p.periodic, PeriodicState::FastPeriodic);
        assert_eq!(p.periodic_timer, Some(ms(1000)));
    }

    #[test]
    fn rate_follows_the_partner_timeout_bit() {
        let mut p = port(PortState::ACTIVITY, PortState(0));
        run(&mut p, ms(0));
        assert_eq!(p.periodic, PeriodicState::SlowPeriodic);
        assert_eq!(p.periodic_timer, Some(ms(30_000)));
        p.partner.state.insert(PortState::TIMEOUT);
        run(&mut p, ms(500));
        assert!(p.ntt, "switching to fast sends at once");
        assert_eq!(p.periodic_timer, Some(ms(1500)));
    }

    #[test]
    fn schedule_does_not_drift_when_handled_late() {
        let mut p = port(PortState::ACTIVITY, PortState::TIMEOUT);
        run(&mut p, ms(0));
        let mut sends = heapless::Vec::<u64, 8>::new();
        // The caller wakes up 7 ms late every time.
        for _ in 0..5 {
            let now = p.periodic_timer.unwrap() + Duration::from_millis(7);
            p.ntt = false;
            run(&mut p, now);
            assert!(p.ntt);
            sends.push(now.total_millis()).unwrap();
        }
        assert_eq!(&sends[..], &[1007, 2007, 3007, 4007, 5007]);
        assert_eq!(p.periodic_timer, Some(ms(6000)));
        // Far behind (a stalled caller): resynchronise instead of bursting.
        run(&mut p, ms(60_000));
        assert_eq!(p.periodic_timer, Some(ms(61_000)));
    }
}
