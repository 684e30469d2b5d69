//! Mux machine (802.1AX 6.4.15): coupled control (Figure 6-22, Linux's default) and
//! independent control (Figure 6-21, `coupled_control=0`: collecting before distributing).

use super::port::{LacpPort, MuxState, Selected};
use super::AGGREGATE_WAIT;
use crate::time::Instant;
use crate::wire::lacp::PortState;

/// What the machine needs to know about the port's aggregator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AggView {
    /// Every port that selected the aggregator has waited Aggregate_Wait_Time (802.1AX `Ready`).
    pub(crate) ready: bool,
    /// The bond uses this aggregator (Linux keeps one active aggregator per bond).
    pub(crate) active: bool,
}

/// Evaluate the machine; returns whether its state or `Ready_N` changed (a port becoming ready
/// can make its whole aggregator ready, so the caller must evaluate again).
pub(crate) fn run(p: &mut LacpPort, agg: AggView, coupled: bool, now: Instant) -> bool {
    let before = (p.mux, p.ready_n);
    if p.begin {
        enter(p, MuxState::Detached, agg, now);
        return (p.mux, p.ready_n) != before;
    }
    let selected = p.selected == Selected::Selected;
    let leave = p.selected == Selected::Unselected || p.selected == Selected::Standby;
    let partner_sync = p.partner.state.contains(PortState::SYNCHRONIZATION);
    let partner_collecting = p.partner.state.contains(PortState::COLLECTING);
    match p.mux {
        MuxState::Detached if !matches!(p.selected, Selected::Unselected) => {
            enter(p, MuxState::Waiting, agg, now)
        }
        MuxState::Waiting => {
            if p.selected == Selected::Unselected {
                enter(p, MuxState::Detached, agg, now);
            } else {
                if p.wait_while.is_some_and(|t| t <= now) {
                    p.ready_n = true;
                    p.wait_while = None;
                }
                if selected && agg.ready && p.ready_n {
                    enter(p, MuxState::Attached, agg, now);
                }
            }
        }
        MuxState::Attached if leave => enter(p, MuxState::Detached, agg, now),
        MuxState::Attached if selected && partner_sync && agg.active => {
            let next = if coupled {
                MuxState::CollectingDistributing
            } else {
                MuxState::Collecting
            };
            enter(p, next, agg, now);
        }
        MuxState::Attached => {
            // Linux: a port attached to the aggregator that becomes active is now in sync.
            if agg.active && !p.actor_state.contains(PortState::SYNCHRONIZATION) {
                p.actor_state.insert(PortState::SYNCHRONIZATION);
                p.ntt = true;
            }
        }
        MuxState::CollectingDistributing | MuxState::Collecting
            if leave || !partner_sync || !agg.active =>
        {
            enter(p, MuxState::Attached, agg, now)
        }
        MuxState::Collecting if selected && partner_collecting => {
            enter(p, MuxState::Distributing, agg, now)
        }
        MuxState::Distributing if leave || !partner_sync || !partner_collecting || !agg.active => {
            enter(p, MuxState::Collecting, agg, now)
        }
        MuxState::Detached
        | MuxState::Collecting
        | MuxState::Distributing
        | MuxState::CollectingDistributing => {}
    }
    (p.mux, p.ready_n) != before
}

/// Entry actions.
fn enter(p: &mut LacpPort, state: MuxState, agg: AggView, now: Instant) {
    let s = &mut p.actor_state;
    match state {
        MuxState::Detached => {
            s.remove(PortState::SYNCHRONIZATION);
            s.remove(PortState::COLLECTING);
            s.remove(PortState::DISTRIBUTING);
            p.ready_n = false;
            p.wait_while = None;
            p.ntt = true;
        }
        MuxState::Waiting => {
            p.ready_n = false;
            p.wait_while = Some(now + AGGREGATE_WAIT);
        }
        MuxState::Attached => {
            // Ports of an aggregator the bond does not use must not claim sync (Linux).
            s.set(PortState::SYNCHRONIZATION, agg.active);
            s.remove(PortState::COLLECTING);
            s.remove(PortState::DISTRIBUTING);
            p.ntt = true;
        }
        MuxState::Collecting => {
            s.insert(PortState::COLLECTING);
            s.remove(PortState::DISTRIBUTING);
            p.ntt = true;
        }
        MuxState::Distributing => {
            s.insert(PortState::DISTRIBUTING);
        }
        MuxState::CollectingDistributing => {
            s.insert(PortState::SYNCHRONIZATION);
            s.insert(PortState::COLLECTING);
            s.insert(PortState::DISTRIBUTING);
            p.ntt = true;
        }
    }
    p.mux = state;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(t: u64) -> Instant {
        Instant::from_millis(t)
    }

    const READY_ACTIVE: AggView = AggView {
        ready: true,
        active: true,
    };

    fn port(selected: Selected, partner: PortState) -> LacpPort {
        let mut p = LacpPort::new(1, 255);
        p.begin = false;
        p.selected = selected;
        p.partner.state = partner;
        p
    }

    #[test]
    fn coupled_path_to_collecting_distributing() {
        let sync = PortState::SYNCHRONIZATION | PortState::COLLECTING;
        let mut p = port(Selected::Selected, sync);
        run(&mut p, READY_ACTIVE, true, ms(0));
        assert_eq!(p.mux, MuxState::Waiting);
        assert_eq!(p.wait_while, Some(ms(2000)));
        run(&mut p, READY_ACTIVE, true, ms(1999));
        assert_eq!(p.mux, MuxState::Waiting);
        run(&mut p, READY_ACTIVE, true, ms(2000));
        assert_eq!(p.mux, MuxState::Attached);
        assert!(p.actor_state.contains(PortState::SYNCHRONIZATION));
        run(&mut p, READY_ACTIVE, true, ms(2000));
        assert_eq!(p.mux, MuxState::CollectingDistributing);
        assert_eq!(p.actor_state.0 & 0x38, 0x38);
        assert!(p.mux.is_collecting() && p.mux.is_distributing());
    }

    #[test]
    fn independent_control_collects_first() {
        let mut p = port(Selected::Selected, PortState::SYNCHRONIZATION);
        p.mux = MuxState::Attached;
        run(&mut p, READY_ACTIVE, false, ms(0));
        assert_eq!(p.mux, MuxState::Collecting);
        assert!(p.mux.is_collecting() && !p.mux.is_distributing());
        // Distributing waits for the partner to collect.
        run(&mut p, READY_ACTIVE, false, ms(0));
        assert_eq!(p.mux, MuxState::Collecting);
        p.partner.state.insert(PortState::COLLECTING);
        run(&mut p, READY_ACTIVE, false, ms(0));
        assert_eq!(p.mux, MuxState::Distributing);
        p.partner.state.remove(PortState::COLLECTING);
        run(&mut p, READY_ACTIVE, false, ms(0));
        assert_eq!(p.mux, MuxState::Collecting);
    }

    /// (state, selected, partner sync, aggregator active) → next state, coupled control.
    #[test]
    fn leaving_table() {
        use MuxState::*;
        let cases = [
            (
                CollectingDistributing,
                Selected::Selected,
                false,
                true,
                Attached,
            ),
            (
                CollectingDistributing,
                Selected::Unselected,
                true,
                true,
                Attached,
            ),
            (
                CollectingDistributing,
                Selected::Selected,
                true,
                false,
                Attached,
            ),
            (
                CollectingDistributing,
                Selected::Selected,
                true,
                true,
                CollectingDistributing,
            ),
            (Attached, Selected::Unselected, true, true, Detached),
            (Attached, Selected::Standby, true, true, Detached),
            (Attached, Selected::Selected, true, false, Attached),
            (Waiting, Selected::Unselected, true, true, Detached),
            (Detached, Selected::Standby, true, true, Waiting),
        ];
        for (from, sel, sync, active, to) in cases {
            let mut p = port(
                sel,
                if sync {
                    PortState::SYNCHRONIZATION
                } else {
                    PortState(0)
                },
            );
            p.mux = from;
            run(
                &mut p,
                AggView {
                    ready: true,
                    active,
                },
                true,
                ms(0),
            );
            assert_eq!(p.mux, to, "{from:?} {sel:?} sync={sync} active={active}");
        }
    }

    #[test]
    fn waiting_needs_the_whole_aggregator_ready() {
        let mut p = port(Selected::Selected, PortState(0));
        run(
            &mut p,
            AggView {
                ready: false,
                active: true,
            },
            true,
            ms(0),
        );
        run(
            &mut p,
            AggView {
                ready: false,
                active: true,
            },
            true,
            ms(5000),
        );
        assert_eq!(p.mux, MuxState::Waiting);
        assert!(p.ready_n);
        run(&mut p, READY_ACTIVE, true, ms(5000));
        assert_eq!(p.mux, MuxState::Attached);
    }
}
