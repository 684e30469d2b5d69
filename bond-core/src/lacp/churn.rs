//! Churn Detection machines (802.1AX 6.4.17): diagnostics only, reported in status.

use super::port::{Churn, ChurnState};
use super::CHURN_DETECTION;
use crate::time::Instant;

/// Evaluate one churn machine given whether its side is in sync. BEGIN restarts monitoring; a
/// disabled port holds it in MONITOR with no timer (802.1AX re-enters the state for as long as
/// the port is disabled, so its timer could never expire). Returns whether anything changed.
pub(crate) fn run(c: &mut Churn, begin: bool, enabled: bool, in_sync: bool, now: Instant) -> bool {
    let before = (c.state, c.timer);
    if !enabled {
        c.state = ChurnState::Monitor;
        c.timer = None;
        return (c.state, c.timer) != before;
    }
    if begin {
        c.state = ChurnState::Monitor;
        c.timer = Some(now + CHURN_DETECTION);
        return true;
    }
    match c.state {
        // Back from a disabled period: start watching again.
        ChurnState::Monitor if c.timer.is_none() && !in_sync => {
            c.timer = Some(now + CHURN_DETECTION)
        }
        ChurnState::Monitor if in_sync => no_churn(c),
        ChurnState::Monitor if c.timer.is_some_and(|t| t <= now) => {
            c.state = ChurnState::Churned;
            c.timer = None;
            c.count = c.count.saturating_add(1);
        }
        ChurnState::NoChurn if !in_sync => {
            c.state = ChurnState::Monitor;
            c.timer = Some(now + CHURN_DETECTION);
        }
        ChurnState::Churned if in_sync => no_churn(c),
        ChurnState::Monitor | ChurnState::NoChurn | ChurnState::Churned => {}
    }
    (c.state, c.timer) != before
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
        run(&mut c, true, true, false, ms(0));
        assert_eq!(c.timer, Some(ms(60_000)));
        run(&mut c, false, true, false, ms(59_999));
        assert_eq!(c.state, ChurnState::Monitor);
        run(&mut c, false, true, false, ms(60_000));
        assert_eq!((c.state, c.count), (ChurnState::Churned, 1));
        run(&mut c, false, true, true, ms(61_000));
        assert_eq!(c.state, ChurnState::NoChurn);
        run(&mut c, false, true, false, ms(62_000));
        assert_eq!((c.state, c.timer), (ChurnState::Monitor, Some(ms(122_000))));
    }

    #[test]
    fn sync_in_time_is_no_churn() {
        let mut c = Churn {
            state: ChurnState::Monitor,
            timer: None,
            count: 0,
        };
        run(&mut c, true, true, false, ms(0));
        run(&mut c, false, true, true, ms(3000));
        assert_eq!((c.state, c.count), (ChurnState::NoChurn, 0));
    }

    #[test]
    fn a_disabled_port_keeps_no_churn_timer() {
        // Found by the handle_rx fuzz target: the timer of a disabled port used to stay armed
        // in the past, so poll_timeout never moved on.
        let mut c = Churn {
            state: ChurnState::Monitor,
            timer: None,
            count: 0,
        };
        run(&mut c, true, true, false, ms(0));
        run(&mut c, false, false, false, ms(1000));
        assert_eq!((c.state, c.timer), (ChurnState::Monitor, None));
        run(&mut c, false, false, false, ms(90_000));
        assert_eq!((c.state, c.timer, c.count), (ChurnState::Monitor, None, 0));
        run(&mut c, false, true, false, ms(100_000));
        assert_eq!(c.timer, Some(ms(160_000)), "watching again once enabled");
    }
}
