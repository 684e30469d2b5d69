//! Churn Detection machines (802.1AX 6.4.17): diagnostics only, reported in status.

use super::port::{Churn, ChurnState};
use super::CHURN_DETECTION;
use crate::time::Instant;

/// Evaluate one churn machine given whether its side is in sync; `restart` is BEGIN or the
/// port being disabled. Returns whether the state changed.
pub(crate) fn run(c: &mut Churn, restart: bool, in_sync: bool, now: Instant) -> bool {
    let before = c.state;
    if restart {
        monitor(c, now);
        return c.state != before;
    }
    match c.state {
        ChurnState::Monitor if in_sync => no_churn(c),
        ChurnState::Monitor if c.timer.is_some_and(|t| t <= now) => {
            c.state = ChurnState::Churned;
            c.timer = None;
            c.count = c.count.saturating_add(1);
        }
        ChurnState::NoChurn if !in_sync => monitor(c, now),
        ChurnState::Churned if in_sync => no_churn(c),
        ChurnState::Monitor | ChurnState::NoChurn | ChurnState::Churned => {}
    }
    c.state != before
}

fn monitor(c: &mut Churn, now: Instant) {
    if c.state != ChurnState::Monitor || c.timer.is_none() {
        c.timer = Some(now + CHURN_DETECTION);
    }
    c.state = ChurnState::Monitor;
}

fn no_churn(c: &mut Churn) {
    c.state = ChurnState::NoChurn;
    c.timer = None;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(t: u64) -> Instant {
        Instant::from_millis(t)
    }

    #[test]
    fn churns_after_sixty_seconds_without_sync() {
        let mut c = Churn {
            state: ChurnState::Monitor,
            timer: None,
            count: 0,
        };
        run(&mut c, true, false, ms(0));
        assert_eq!(c.timer, Some(ms(60_000)));
        run(&mut c, false, false, ms(59_999));
        assert_eq!(c.state, ChurnState::Monitor);
        run(&mut c, false, false, ms(60_000));
        assert_eq!((c.state, c.count), (ChurnState::Churned, 1));
        run(&mut c, false, true, ms(61_000));
        assert_eq!(c.state, ChurnState::NoChurn);
        run(&mut c, false, false, ms(62_000));
        assert_eq!((c.state, c.timer), (ChurnState::Monitor, Some(ms(122_000))));
    }

    #[test]
    fn sync_in_time_is_no_churn() {
        let mut c = Churn {
            state: ChurnState::Monitor,
            timer: None,
            count: 0,
        };
        run(&mut c, true, false, ms(0));
        run(&mut c, false, true, ms(3000));
        assert_eq!((c.state, c.count), (ChurnState::NoChurn, 0));
    }
}
