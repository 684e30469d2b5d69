//! Receive machine (802.1AX 6.4.12, Figure 6-18) and the functions it calls: recordPDU,
//! recordDefault, update_Selected, update_Default_Selected, update_NTT (6.4.9).

use super::port::{LacpPort, RxState, Selected, PARTNER_ADMIN};
use super::{Actor, LONG_TIMEOUT, SHORT_TIMEOUT};
use crate::time::Instant;
use crate::wire::lacp::{LacpduRepr, PortInfo, PortState};

/// What became of a received LACPDU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PduOutcome {
    /// Recorded: the machine is in CURRENT.
    Recorded,
    /// The port is disabled or runs no LACP: ignored.
    Ignored,
    /// Our own system sent it (a loop back to this bond): ignored as Linux does, so an echoing
    /// partner or a port cabled to its own bond can never cause a storm.
    LoopedBack,
}

/// Evaluate the machine's global conditions and timers, following unconditional transitions;
/// returns whether anything happened.
pub(crate) fn run(p: &mut LacpPort, now: Instant) -> bool {
    let begin = p.begin;
    if begin {
        enter_initialize(p);
    }
    let mut changed = begin;
    // Each state is left at most once per evaluation; four steps cover the longest chain
    // (INITIALIZE → PORT_DISABLED → LACP_DISABLED → PORT_DISABLED → EXPIRED).
    for _ in 0..4 {
        if !step(p, now) {
            break;
        }
        changed = true;
    }
    changed
}

/// Take one transition if one is enabled.
fn step(p: &mut LacpPort, now: Instant) -> bool {
    if !p.enabled && p.rx != RxState::PortDisabled {
        enter_port_disabled(p);
        return true;
    }
    let expired = p.current_while.is_some_and(|t| t <= now);
    match p.rx {
        RxState::Initialize => enter_port_disabled(p),
        RxState::PortDisabled if p.enabled && p.lacp_enabled => enter_expired(p, now),
        RxState::PortDisabled if p.enabled => enter_lacp_disabled(p),
        RxState::LacpDisabled if p.lacp_enabled => enter_port_disabled(p),
        RxState::Expired if expired => enter_defaulted(p),
        RxState::Current if expired => enter_expired(p, now),
        RxState::PortDisabled
        | RxState::LacpDisabled
        | RxState::Expired
        | RxState::Defaulted
        | RxState::Current => return false,
    }
    true
}

/// A LACPDU arrived on the port.
pub(crate) fn on_pdu(
    p: &mut LacpPort,
    actor: &Actor,
    pdu: &LacpduRepr,
    now: Instant,
) -> PduOutcome {
    if pdu.actor.system == actor.system {
        return PduOutcome::LoopedBack;
    }
    match p.rx {
        RxState::Expired | RxState::Defaulted | RxState::Current => {}
        RxState::Initialize | RxState::PortDisabled | RxState::LacpDisabled => {
            return PduOutcome::Ignored
        }
    }
    update_selected(p, &pdu.actor);
    update_ntt(p, actor, pdu);
    record_pdu(p, actor, pdu);
    let timeout = if p.actor_state.contains(PortState::TIMEOUT) {
        SHORT_TIMEOUT
    } else {
        LONG_TIMEOUT
    };
    p.current_while = Some(now + timeout);
    p.actor_state.remove(PortState::EXPIRED);
    p.rx = RxState::Current;
    PduOutcome::Recorded
}

fn enter_initialize(p: &mut LacpPort) {
    p.selected = Selected::Unselected;
    record_default(p);
    p.actor_state.remove(PortState::EXPIRED);
    p.rx = RxState::Initialize;
}

fn enter_port_disabled(p: &mut LacpPort) {
    // A stale partner Sync kept through a link outage made Linux flap carrier at link-up
    // (fixed in Linux in 2026); the standard clears it here.
    p.partner.state.remove(PortState::SYNCHRONIZATION);
    p.current_while = None;
    p.rx = RxState::PortDisabled;
}

fn enter_lacp_disabled(p: &mut LacpPort) {
    p.selected = Selected::Unselected;
    record_default(p);
    p.partner.state.remove(PortState::AGGREGATION);
    p.actor_state.remove(PortState::EXPIRED);
    p.current_while = None;
    p.rx = RxState::LacpDisabled;
}

fn enter_expired(p: &mut LacpPort, now: Instant) {
    p.partner.state.remove(PortState::SYNCHRONIZATION);
    p.partner.state.insert(PortState::TIMEOUT);
    p.current_while = Some(now + SHORT_TIMEOUT);
    p.actor_state.insert(PortState::EXPIRED);
    // 802.1AX-2014 Cor-1: tell the partner at once that we stopped hearing it.
    p.ntt = true;
    p.rx = RxState::Expired;
}

fn enter_defaulted(p: &mut LacpPort) {
    update_default_selected(p);
    record_default(p);
    p.actor_state.remove(PortState::EXPIRED);
    p.current_while = None;
    p.rx = RxState::Defaulted;
}

/// recordDefault: the partner is the administrative one.
fn record_default(p: &mut LacpPort) {
    p.partner = PARTNER_ADMIN;
    p.actor_state.insert(PortState::DEFAULTED);
}

/// recordPDU: take the partner's view from the PDU; the partner is in sync only if it agrees
/// with what we say about ourselves (or is Individual) and somebody is active.
fn record_pdu(p: &mut LacpPort, actor: &Actor, pdu: &LacpduRepr) {
    let about_us = &pdu.partner;
    let agg = PortState::AGGREGATION;
    p.matched = (about_us.port == p.number
        && about_us.port_priority == p.port_priority
        && about_us.system == actor.system
        && about_us.system_priority == actor.system_priority
        && about_us.key == p.key
        && about_us.state.contains(agg) == p.actor_state.contains(agg))
        || !pdu.actor.state.contains(agg);
    let active = pdu.actor.state.contains(PortState::ACTIVITY)
        || (p.actor_state.contains(PortState::ACTIVITY)
            && about_us.state.contains(PortState::ACTIVITY));
    let sync = p.matched && pdu.actor.state.contains(PortState::SYNCHRONIZATION) && active;
    p.partner = pdu.actor;
    p.partner.state.set(PortState::SYNCHRONIZATION, sync);
    p.actor_state.remove(PortState::DEFAULTED);
}

/// The fields that identify a partner port (LAG ID material) plus its Aggregation bit.
fn same_partner(a: &PortInfo, b: &PortInfo) -> bool {
    a.port == b.port
        && a.port_priority == b.port_priority
        && a.system == b.system
        && a.system_priority == b.system_priority
        && a.key == b.key
        && a.state.contains(PortState::AGGREGATION) == b.state.contains(PortState::AGGREGATION)
}

/// update_Selected: a different partner invalidates the aggregator choice.
fn update_selected(p: &mut LacpPort, pdu_actor: &PortInfo) {
    if !same_partner(pdu_actor, &p.partner) {
        p.selected = Selected::Unselected;
    }
}

/// update_Default_Selected: falling back to the administrative partner is a new partner too.
fn update_default_selected(p: &mut LacpPort) {
    if !same_partner(&PARTNER_ADMIN, &p.partner) {
        p.selected = Selected::Unselected;
    }
}

/// update_NTT: answer at once when the partner's view of us is out of date.
fn update_ntt(p: &mut LacpPort, actor: &Actor, pdu: &LacpduRepr) {
    let about_us = &pdu.partner;
    let mask = (PortState::ACTIVITY
        | PortState::TIMEOUT
        | PortState::SYNCHRONIZATION
        | PortState::AGGREGATION)
        .0;
    if about_us.port != p.number
        || about_us.port_priority != p.port_priority
        || about_us.system != actor.system
        || about_us.system_priority != actor.system_priority
        || about_us.key != p.key
        || about_us.state.0 & mask != p.actor_state.0 & mask
    {
        p.ntt = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::EthernetAddress;

    const US: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0xaa]);
    const THEM: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0xbb]);
    const ACTOR: Actor = Actor {
        system: US,
        system_priority: 65535,
    };

    fn ms(t: u64) -> Instant {
        Instant::from_millis(t)
    }

    fn port() -> LacpPort {
        let mut p = LacpPort::new(1, 255);
        p.key = 9;
        p.actor_state = PortState::ACTIVITY | PortState::AGGREGATION;
        p.enabled = true;
        p.lacp_enabled = true;
        p
    }

    fn pdu(partner_agrees: bool, actor_state: PortState) -> LacpduRepr {
        let them = PortInfo {
            system_priority: 32768,
            system: THEM,
            key: 13,
            port_priority: 32768,
            port: 22,
            state: actor_state,
        };
        let about_us = if partner_agrees {
            PortInfo {
                system_priority: 65535,
                system: US,
                key: 9,
                port_priority: 255,
                port: 1,
                state: PortState::ACTIVITY | PortState::AGGREGATION,
            }
        } else {
            PortInfo {
                system_priority: 0,
                system: EthernetAddress::ZERO,
                key: 0,
                port_priority: 0,
                port: 0,
                state: PortState(0),
            }
        };
        LacpduRepr {
            version: 1,
            actor: them,
            partner: about_us,
            collector_max_delay: 0,
        }
    }

    #[test]
    fn begin_then_enabled_goes_to_expired() {
        let mut p = port();
        assert!(run(&mut p, ms(0)));
        assert_eq!(p.rx, RxState::Expired);
        assert!(p.actor_state.contains(PortState::EXPIRED));
        assert!(p.actor_state.contains(PortState::DEFAULTED));
        assert!(p.partner.state.contains(PortState::TIMEOUT));
        assert_eq!(p.current_while, Some(ms(3000)));
        assert!(p.ntt);
    }

    /// (state on entry, timer expired?, port enabled, lacp enabled) → state after.
    #[test]
    fn transitions_table() {
        let cases = [
            (RxState::Expired, true, true, true, RxState::Defaulted),
            (RxState::Expired, false, true, true, RxState::Expired),
            (RxState::Current, true, true, true, RxState::Expired),
            (RxState::Current, false, false, true, RxState::PortDisabled),
            (
                RxState::Defaulted,
                false,
                false,
                true,
                RxState::PortDisabled,
            ),
            (
                RxState::PortDisabled,
                false,
                true,
                false,
                RxState::LacpDisabled,
            ),
            (RxState::LacpDisabled, false, true, true, RxState::Expired),
        ];
        for (from, expired, enabled, lacp, to) in cases {
            let mut p = port();
            p.begin = false;
            p.rx = from;
            p.enabled = enabled;
            p.lacp_enabled = lacp;
            p.current_while = Some(if expired { ms(10) } else { ms(1000) });
            run(&mut p, ms(10));
            assert_eq!(
                p.rx, to,
                "{from:?} expired={expired} enabled={enabled} lacp={lacp}"
            );
        }
    }

    #[test]
    fn matching_pdu_records_partner_in_sync() {
        let mut p = port();
        run(&mut p, ms(0));
        p.ntt = false;
        let all = PortState::ACTIVITY | PortState::AGGREGATION | PortState::SYNCHRONIZATION;
        assert_eq!(
            on_pdu(&mut p, &ACTOR, &pdu(true, all), ms(100)),
            PduOutcome::Recorded
        );
        assert_eq!(p.rx, RxState::Current);
        assert_eq!(p.partner.system, THEM);
        assert_eq!(p.partner.port, 22);
        assert!(p.partner.state.contains(PortState::SYNCHRONIZATION));
        assert!(!p.actor_state.contains(PortState::DEFAULTED));
        assert!(!p.actor_state.contains(PortState::EXPIRED));
        assert_eq!(p.current_while, Some(ms(100) + LONG_TIMEOUT));
        assert!(!p.ntt, "the partner's view of us is current");
        assert_eq!(
            p.selected,
            Selected::Unselected,
            "a new partner invalidates selection"
        );
    }

    #[test]
    fn partner_that_does_not_know_us_is_not_in_sync_and_gets_an_answer() {
        let mut p = port();
        run(&mut p, ms(0));
        p.ntt = false;
        let st = PortState::ACTIVITY | PortState::AGGREGATION | PortState::SYNCHRONIZATION;
        on_pdu(&mut p, &ACTOR, &pdu(false, st), ms(100));
        assert!(!p.partner.state.contains(PortState::SYNCHRONIZATION));
        assert!(p.ntt);
    }

    #[test]
    fn individual_partner_is_matched_and_passive_pair_is_not_in_sync() {
        let mut p = port();
        run(&mut p, ms(0));
        on_pdu(
            &mut p,
            &ACTOR,
            &pdu(false, PortState::SYNCHRONIZATION | PortState::ACTIVITY),
            ms(100),
        );
        assert!(p.matched && p.partner.state.contains(PortState::SYNCHRONIZATION));
        // Both passive: nobody is active, so no sync.
        let mut q = port();
        q.actor_state.remove(PortState::ACTIVITY);
        run(&mut q, ms(0));
        let mut pd = pdu(true, PortState::AGGREGATION | PortState::SYNCHRONIZATION);
        pd.partner.state.remove(PortState::ACTIVITY);
        on_pdu(&mut q, &ACTOR, &pd, ms(100));
        assert!(!q.partner.state.contains(PortState::SYNCHRONIZATION));
    }

    #[test]
    fn own_pdu_is_ignored() {
        let mut p = port();
        run(&mut p, ms(0));
        let mut own = pdu(true, PortState(0x3d));
        own.actor.system = US;
        assert_eq!(on_pdu(&mut p, &ACTOR, &own, ms(5)), PduOutcome::LoopedBack);
        assert_eq!(p.rx, RxState::Expired);
    }

    #[test]
    fn pdu_on_disabled_port_is_ignored() {
        let mut p = port();
        p.enabled = false;
        run(&mut p, ms(0));
        assert_eq!(p.rx, RxState::PortDisabled);
        assert_eq!(
            on_pdu(&mut p, &ACTOR, &pdu(true, PortState(0x3d)), ms(5)),
            PduOutcome::Ignored
        );
    }

    #[test]
    fn short_timeout_when_we_ask_for_fast() {
        let mut p = port();
        p.actor_state.insert(PortState::TIMEOUT);
        run(&mut p, ms(0));
        on_pdu(&mut p, &ACTOR, &pdu(true, PortState(0x3d)), ms(100));
        assert_eq!(p.current_while, Some(ms(100) + SHORT_TIMEOUT));
    }
}
