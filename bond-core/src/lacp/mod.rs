//! 802.3ad / IEEE 802.1AX Link Aggregation Control Protocol.
//!
//! One file per machine: `rx.rs` (Receive), `periodic.rs` (Periodic Transmission),
//! `selection.rs` (Selection Logic and the active aggregator), `mux.rs` (Mux, coupled and
//! independent control), `tx.rs` (Transmit, at most three LACPDUs a second), `churn.rs` (Churn
//! Detection), and `marker.rs` (the Marker Generator; the Marker Responder is part of
//! receive). Timers are deadlines on the injected clock.
//!
//! # Evaluation order
//! Linux runs the machines every 100 ms, per port in the order rx → periodic → selection →
//! mux → tx → churn. Here they run at every input (a LACPDU, a link change, a timer), in that
//! same order, and the pass repeats until nothing changes, as the standard's continuously
//! evaluated machines would: a partner's PDU can move a port from WAITING to distributing
//! without waiting for a tick. Transmission itself happens when the caller drains
//! `poll_transmit`.

pub(crate) mod churn;
pub(crate) mod marker;
pub(crate) mod mux;
pub(crate) mod periodic;
pub(crate) mod port;
pub(crate) mod rx;
pub(crate) mod selection;
#[cfg(test)]
mod tests;
pub(crate) mod tx;

use crate::bond::{Bond, RxVerdict, Transmit};
use crate::config::LacpRate;
use crate::event::Event;
use crate::port::{Duplex, LinkState, PortId};
use crate::time::{Duration, Instant};
use crate::wire::lacp::{emit_lacpdu_frame, LacpduRepr, PortInfo, PortState};
use crate::wire::marker::{emit_marker_frame, MarkerKind};
use crate::wire::slow::{classify, SlowFrame};
use crate::wire::EthernetAddress;

pub use marker::{MarkerError, MarkerExchange, MARKER_MAX_PER_PERIODIC};
pub use port::{ChurnState, LacpStats, MuxState, PeriodicState, RxState, Selected};

/// Fast_Periodic_Time.
pub const FAST_PERIODIC: Duration = Duration::from_secs(1);
/// Slow_Periodic_Time.
pub const SLOW_PERIODIC: Duration = Duration::from_secs(30);
/// Short_Timeout_Time.
pub const SHORT_TIMEOUT: Duration = Duration::from_secs(3);
/// Long_Timeout_Time.
pub const LONG_TIMEOUT: Duration = Duration::from_secs(90);
/// Churn_Detection_Time.
pub const CHURN_DETECTION: Duration = Duration::from_secs(60);
/// Aggregate_Wait_Time.
pub const AGGREGATE_WAIT: Duration = Duration::from_secs(2);
/// Linux's default Actor_Port_Priority (`actor_port_prio`).
pub const DEFAULT_PORT_PRIORITY: u16 = 255;

/// Passes of the machines per input before giving up on settling (each pass is bounded work;
/// real sequences settle in two or three).
const MAX_PASSES: usize = 8;

/// The actor's system identification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Actor {
    pub(crate) system: EthernetAddress,
    pub(crate) system_priority: u16,
}

/// The active aggregator, as `/proc/net/bonding` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AggregatorInfo {
    /// Aggregator ID.
    pub id: u16,
    /// Number of ports that selected it.
    pub ports: usize,
    /// Actor key.
    pub actor_key: u16,
    /// Partner key.
    pub partner_key: u16,
    /// Partner system (all zeros when no partner answered).
    pub partner_system: EthernetAddress,
}

/// One port's 802.3ad state, for status displays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LacpPortStatus {
    /// The aggregator the port selected, if any.
    pub aggregator_id: Option<u16>,
    /// What we tell the partner about ourselves.
    pub actor: PortInfo,
    /// What we know of the partner.
    pub partner: PortInfo,
    /// Receive machine state.
    pub rx: RxState,
    /// Mux machine state.
    pub mux: MuxState,
    /// Periodic machine state.
    pub periodic: PeriodicState,
    /// Selection.
    pub selected: Selected,
    /// Actor churn machine state.
    pub actor_churn: ChurnState,
    /// Partner churn machine state.
    pub partner_churn: ChurnState,
    /// Times the actor churned.
    pub actor_churn_count: u32,
    /// Times the partner churned.
    pub partner_churn_count: u32,
    /// Frames are delivered from this port.
    pub collecting: bool,
    /// Frames are sent on this port.
    pub distributing: bool,
    /// The nine Linux counters.
    pub stats: LacpStats,
    /// Our own LACPDUs that came back to us (ignored).
    pub looped_rx: u64,
    /// The last Marker Information PDU sent with [`Bond::send_marker`], and its answer.
    pub last_marker: Option<MarkerExchange>,
}

/// A LACPDU owed by a port that has left the bond: its last word to the partner.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FinalPdu {
    pub(crate) port: PortId,
    pub(crate) src: EthernetAddress,
    pub(crate) pdu: LacpduRepr,
    /// The three-a-second limit holds for goodbyes too: not before this instant.
    pub(crate) not_before: Instant,
}

impl<const N: usize> Bond<N> {
    /// The active aggregator (802.3ad), if any.
    pub fn active_aggregator(&self) -> Option<AggregatorInfo> {
        let agg = &self.aggs[self.lacp_active_aggregator()?];
        Some(AggregatorInfo {
            id: agg.id,
            ports: agg.ports.len(),
            actor_key: agg.actor_key,
            partner_key: agg.partner_key,
            partner_system: agg.partner_system,
        })
    }

    /// Port `id`'s 802.3ad state (meaningful in mode 802.3ad).
    pub fn lacp_port(&self, id: PortId) -> Option<LacpPortStatus> {
        let l = &self.port_ref(id)?.lacp;
        let actor = self.lacp_actor();
        Some(LacpPortStatus {
            aggregator_id: l.aggregator.map(|s| self.aggs[s].id),
            actor: PortInfo {
                system_priority: actor.system_priority,
                system: actor.system,
                key: l.key,
                port_priority: l.port_priority,
                port: l.number,
                state: l.actor_state,
            },
            partner: l.partner,
            rx: l.rx,
            mux: l.mux,
            periodic: l.periodic,
            selected: l.selected,
            actor_churn: l.actor_churn.state,
            partner_churn: l.partner_churn.state,
            actor_churn_count: l.actor_churn.count,
            partner_churn_count: l.partner_churn.count,
            collecting: l.is_collecting(),
            distributing: l.is_distributing(),
            stats: l.stats,
            looped_rx: l.looped_rx,
            last_marker: l.marker.last(),
        })
    }

    /// Set a port's Actor_Port_Priority (`actor_port_prio`, 1..=65535; lower is better in
    /// 802.1AX, while Linux's `ad_select=actor_port_prio` prefers the larger sum). The partner
    /// hears it at once, and the active aggregator is chosen again.
    pub fn set_port_actor_prio(&mut self, now: Instant, id: PortId, prio: u16) -> Option<()> {
        if prio == 0 {
            return None;
        }
        let p = self.port_mut(id)?;
        if p.lacp.port_priority != prio {
            p.lacp.port_priority = prio;
            p.lacp.ntt = true;
            if self.config.mode == crate::config::Mode::Lacp {
                self.lacp_select_aggregator();
                self.lacp_run(now);
            }
        }
        Some(())
    }

    /// The bond's 802.3ad counters: the sum over its ports (Linux's bond-level statistics).
    pub fn lacp_stats(&self) -> LacpStats {
        let mut total = LacpStats::default();
        for p in self.order.iter().filter_map(|&id| self.port_ref(id)) {
            total.accumulate(&p.lacp.stats);
        }
        total
    }

    /// The actor system: `ad_actor_system` if set, else the bond MAC.
    pub(crate) fn lacp_actor(&self) -> Actor {
        let configured = self.config.ad_actor_system;
        Actor {
            system: if configured == EthernetAddress::ZERO {
                self.mac
            } else {
                configured
            },
            system_priority: self.config.ad_actor_sys_prio,
        }
    }

    /// The actor state bits that come from configuration.
    fn lacp_admin_state(&self) -> PortState {
        let mut s = PortState::AGGREGATION;
        if self.config.lacp_active {
            s |= PortState::ACTIVITY;
        }
        if self.config.lacp_rate == LacpRate::Fast {
            s |= PortState::TIMEOUT;
        }
        s
    }

    /// A port joined an 802.3ad bond (Linux `bond_3ad_bind_slave`).
    pub(crate) fn lacp_bind(&mut self, now: Instant, id: PortId) {
        // A goodbye still held for an earlier port in this slot is moot: that interface has
        // left, and the handle now names another one.
        for f in self.final_pdus.iter_mut() {
            if f.is_some_and(|f| f.port == id) {
                *f = None;
            }
        }
        let number = self
            .order
            .iter()
            .filter(|&&q| q != id)
            .filter_map(|&q| self.port_ref(q).map(|p| p.lacp.number))
            .max()
            .map_or(1, |n| n.wrapping_add(1).max(1));
        if self.order.len() == 1 {
            self.next_agg_id = 0;
        }
        self.next_agg_id = self.next_agg_id.wrapping_add(1);
        self.aggs[id.index()] = selection::Aggregator {
            id: self.next_agg_id,
            ..Default::default()
        };
        let admin = self.lacp_admin_state();
        if let Some(p) = self.port_mut(id) {
            let prio = p.lacp.port_priority;
            p.lacp = port::LacpPort::new(number, prio);
            p.lacp.actor_state = admin;
        }
        self.lacp_link_changed(now, id);
    }

    /// A port is leaving: queue its final LACPDU (Sync, Collecting, Distributing cleared) and
    /// let the others reselect.
    pub(crate) fn lacp_unbind(&mut self, now: Instant, id: PortId) {
        self.lacp_queue_goodbye(now, id, PortState::AGGREGATION);
        self.lacp_leave_aggregator(id);
        self.lacp_move_aggregator_out_of(id);
        self.aggs[id.index()] = selection::Aggregator::default();
        self.lacp_select_aggregator();
        if self.admin_up {
            self.lacp_run(now);
        }
    }

    /// The aggregator in `id`'s slot may still serve other ports (they joined the first
    /// matching aggregator). Move it, with its ports and state, to a free slot of another port,
    /// as Linux `bond_3ad_unbind_slave` does, so the LAG carries on without renegotiating.
    fn lacp_move_aggregator_out_of(&mut self, id: PortId) {
        let old = id.index();
        if self.aggs[old].ports.is_empty() {
            return;
        }
        let free = self
            .order
            .iter()
            .map(|q| q.index())
            .find(|&slot| slot != old && self.aggs[slot].ports.is_empty());
        let Some(new) = free else { return };
        let moved = selection::Aggregator {
            id: self.aggs[new].id,
            ..self.aggs[old]
        };
        self.aggs[new] = moved;
        for q in moved.ports.iter() {
            if let Some(p) = self.port_mut(q) {
                p.lacp.aggregator = Some(new);
            }
        }
    }

    /// Queue the last LACPDU of a port that stops aggregating: Sync, Collecting, Distributing
    /// (and `also`) cleared, so the partner stops using the link at once instead of after its
    /// timeout. It goes out with the next `poll_transmit`, even if the port has left the bond.
    fn lacp_queue_goodbye(&mut self, now: Instant, id: PortId, also: PortState) {
        let actor = self.lacp_actor();
        let Some(p) = self.port_mut(id) else { return };
        if !(p.lacp.lacp_enabled && p.lacp.enabled) {
            return;
        }
        p.lacp.actor_state.remove(
            PortState::SYNCHRONIZATION | PortState::COLLECTING | PortState::DISTRIBUTING | also,
        );
        p.lacp.final_pdu = true;
        let at = tx::ready_at(&p.lacp, now).unwrap_or(now);
        let pdu = tx::transmit(&mut p.lacp, &actor, at);
        let src = p.perm_mac;
        if let Some(slot) = self.final_pdus.iter_mut().find(|s| s.is_none()) {
            *slot = Some(FinalPdu {
                port: id,
                src,
                pdu,
                not_before: at,
            });
        }
    }

    /// The link monitor or a carrier sample changed the port (Linux
    /// `bond_3ad_handle_link_change` and the key update on a speed change).
    pub(crate) fn lacp_link_changed(&mut self, now: Instant, id: PortId) {
        let user_key = self.config.ad_user_port_key;
        let Some(p) = self.port_mut(id) else { return };
        let enabled = p.link == LinkState::Up && p.carrier;
        let full = p.duplex == Duplex::Full;
        let key = if enabled {
            port::oper_key(user_key, p.speed_mbps, full)
        } else {
            port::oper_key(user_key, None, false)
        };
        let l = &mut p.lacp;
        if l.key != key {
            let was_running = l.key & 0x3f != 0;
            l.key = key;
            l.lacp_enabled = enabled && full;
            // A new speed or duplex on a live link restarts LACP on the port (Linux sets BEGIN
            // on a speed change; a duplex change also turns LACP on or off). A link that comes
            // back keeps its aggregator and is distributing again one exchange later, where
            // Linux restarts the port and waits Aggregate_Wait_Time again: 802.1AX does not ask
            // for that, and a different partner on the link still forces a new selection.
            if enabled && was_running {
                l.begin = true;
            }
            l.ntt = true;
        }
        // A port that goes down keeps its aggregator (as in Linux); its Receive machine clears
        // the partner's Sync, which takes it out of collecting and distributing.
        l.enabled = enabled;
        if !enabled {
            // Nor a marker that has not gone yet.
            l.marker.cancel_pending();
            // Nobody is left on that link to hear a goodbye still held by the rate limit.
            for f in self.final_pdus.iter_mut() {
                if f.is_some_and(|f| f.port == id) {
                    *f = None;
                }
            }
        }
        // A bond that is down runs no machine; bringing it up starts them all afresh.
        if self.admin_up {
            self.lacp_select_aggregator();
            self.lacp_run(now);
        }
    }

    /// Run every port's machines until they settle, then bring the data path up to date.
    pub(crate) fn lacp_run(&mut self, now: Instant) {
        let coupled = self.config.coupled_control;
        for pass in 0..MAX_PASSES {
            let mut changed = false;
            for i in 0..self.order.len() {
                let id = self.order[i];
                changed |= self.lacp_run_port(now, id, coupled);
            }
            changed |= self.lacp_select_aggregator();
            if pass == 0 {
                // BEGIN lasts one evaluation of every machine, as one Linux tick.
                for i in 0..self.order.len() {
                    if let Some(p) = self.port_mut(self.order[i]) {
                        p.lacp.begin = false;
                    }
                }
            }
            if !changed {
                break;
            }
        }
        self.lacp_sync_datapath();
    }

    fn lacp_run_port(&mut self, now: Instant, id: PortId, coupled: bool) -> bool {
        let mut changed = false;
        let before_mux;
        {
            let Some(p) = self.port_mut(id) else {
                return false;
            };
            changed |= rx::run(&mut p.lacp, now);
            changed |= periodic::run(&mut p.lacp, now);
            before_mux = p.lacp.mux;
        }
        changed |= self.lacp_select_port(id);
        // Without an aggregator the Mux machine can only detach.
        let view = match self.port_ref(id).and_then(|p| p.lacp.aggregator) {
            Some(slot) => mux::AggView {
                ready: self.lacp_agg_ready(slot),
                active: self.aggs[slot].is_active,
            },
            None => mux::AggView {
                ready: false,
                active: false,
            },
        };
        let Some(p) = self.port_mut(id) else {
            return changed;
        };
        changed |= mux::run(&mut p.lacp, view, coupled, now);
        let (begin, enabled) = (p.lacp.begin, p.lacp.enabled);
        let actor_sync = p.lacp.actor_state.contains(PortState::SYNCHRONIZATION);
        let partner_sync = p.lacp.partner.state.contains(PortState::SYNCHRONIZATION);
        changed |= churn::run(&mut p.lacp.actor_churn, begin, enabled, actor_sync, now);
        changed |= churn::run(&mut p.lacp.partner_churn, begin, enabled, partner_sync, now);
        if p.lacp.mux != before_mux {
            let mux = p.lacp.mux;
            self.events.push(Event::LacpMuxChanged {
                port: id,
                state: mux,
            });
        }
        changed
    }

    /// Collecting/distributing decide which ports carry data; the bond's carrier follows the
    /// active aggregator (Linux `bond_3ad_set_carrier`, and `lacp_strict`).
    fn lacp_sync_datapath(&mut self) {
        let fallback = self.lacp_fallback_port();
        if fallback != self.lacp_fallback {
            self.lacp_fallback = fallback;
            self.events.push(Event::LacpFallback { port: fallback });
        }
        for i in 0..self.order.len() {
            let id = self.order[i];
            if let Some(p) = self.port_mut(id) {
                let collecting = p.lacp.is_collecting();
                p.active = p.lacp.is_distributing();
                p.inactive = !collecting;
            }
        }
        self.refresh_tx_tables();
        self.update_carrier();
    }

    /// The port carrying traffic for `lacp_fallback`: set while the option is on and the active
    /// aggregator never heard a partner.
    pub fn lacp_fallback_port(&self) -> Option<PortId> {
        if !self.config.lacp_fallback {
            return None;
        }
        let slot = self.lacp_active_aggregator()?;
        if self.aggs[slot].has_partner() {
            return None;
        }
        self.aggs[slot].ports.iter().find(|&q| {
            self.port_ref(q)
                .is_some_and(|p| p.lacp.enabled_without_partner)
        })
    }

    /// The 802.3ad carrier rule.
    pub(crate) fn lacp_carrier(&self) -> bool {
        if self.lacp_fallback_port().is_some() {
            return true;
        }
        let Some(slot) = self.lacp_active_aggregator() else {
            return false;
        };
        let min = self.config.min_links.max(1);
        let counted = if self.config.lacp_strict {
            self.aggs[slot]
                .ports
                .iter()
                .filter(|&q| {
                    self.port_ref(q)
                        .is_some_and(|p| p.lacp.mux.is_distributing())
                })
                .count() as u32
        } else {
            self.aggs[slot]
                .ports
                .iter()
                .filter(|&q| self.port_ref(q).is_some_and(|p| p.lacp.enabled))
                .count() as u32
        };
        counted >= min
    }

    /// Slow-protocol frames are the bond's own (Linux `bond_3ad_lacpdu_recv`); `None` means the
    /// frame is data and the caller applies the usual receive rules.
    pub(crate) fn lacp_rx(&mut self, now: Instant, id: PortId, frame: &[u8]) -> Option<RxVerdict> {
        let actor = self.lacp_actor();
        let p = self.port_mut(id)?;
        let stats = &mut p.lacp.stats;
        match classify(frame) {
            SlowFrame::NotSlow => return None,
            SlowFrame::Illegal => {
                stats.lacpdu_illegal_rx += 1;
                return None;
            }
            SlowFrame::Unknown { .. } => {
                stats.lacpdu_unknown_rx += 1;
                return None;
            }
            // Counted as Linux counts them: information in marker_rx, responses in
            // marker_resp_rx, anything else in marker_unknown_rx only.
            SlowFrame::MarkerUnknown { .. } => stats.marker_unknown_rx += 1,
            SlowFrame::Marker(m) => match m.kind {
                // Never answer a response: that is how marker storms start.
                // A response is matched against our last request (if any); foreign or late
                // ones are only counted.
                MarkerKind::Response => {
                    stats.marker_resp_rx += 1;
                    p.lacp.marker.on_response(&m, now);
                }
                MarkerKind::Information => {
                    stats.marker_rx += 1;
                    p.lacp.marker_reply = Some(m.response());
                }
            },
            SlowFrame::Lacpdu { repr: pdu, .. } => {
                stats.lacpdu_rx += 1;
                if rx::on_pdu(&mut p.lacp, &actor, &pdu, now) == rx::PduOutcome::LoopedBack {
                    p.lacp.looped_rx += 1;
                }
                self.lacp_run(now);
            }
        }
        Some(RxVerdict::Consumed)
    }

    /// The next LACPDU, marker response or marker request to send, written into `buf`.
    pub(crate) fn lacp_poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<Transmit> {
        while let Some(f) = self
            .final_pdus
            .iter_mut()
            .find(|f| f.is_some_and(|f| f.not_before <= now))
            .and_then(Option::take)
        {
            // A port still in the bond whose link went away meanwhile has no partner to tell.
            if self
                .port_ref(f.port)
                .is_some_and(|p| !(p.carrier && p.link == LinkState::Up))
            {
                continue;
            }
            let len = emit_lacpdu_frame(buf, f.src, &f.pdu);
            return Some(Transmit { port: f.port, len });
        }
        if !self.admin_up {
            return None;
        }
        let actor = self.lacp_actor();
        for i in 0..self.order.len() {
            let id = self.order[i];
            let Some(p) = self.port_mut(id) else { continue };
            let link_up = p.carrier && p.link == LinkState::Up;
            if let Some(reply) = p.lacp.marker_reply.take().filter(|_| link_up) {
                p.lacp.stats.marker_resp_tx += 1;
                let len = emit_marker_frame(buf, p.perm_mac, &reply);
                return Some(Transmit { port: id, len });
            }
            if let Some(request) = link_up.then(|| p.lacp.marker.transmit(now)).flatten() {
                p.lacp.stats.marker_tx += 1;
                let len = emit_marker_frame(buf, p.perm_mac, &request);
                return Some(Transmit { port: id, len });
            }
            if tx::ready_at(&p.lacp, now).is_some_and(|t| t <= now) {
                let pdu = tx::transmit(&mut p.lacp, &actor, now);
                let len = emit_lacpdu_frame(buf, p.perm_mac, &pdu);
                return Some(Transmit { port: id, len });
            }
        }
        None
    }

    /// Whether a goodbye LACPDU for port handle `id` (a port that left, or is leaving) is still
    /// owed: an adapter keeps the port's transmit path open until it has gone.
    pub fn goodbye_pending(&self, id: PortId) -> bool {
        self.final_pdus.iter().flatten().any(|f| f.port == id)
    }

    /// The earliest LACP deadline: machine timers, and transmissions held back by the rate
    /// limit (a transmission that may go now is found by draining `poll_transmit`).
    pub(crate) fn lacp_deadline(&self) -> Option<Instant> {
        let goodbyes = self.final_pdus.iter().flatten().map(|f| f.not_before).min();
        if !self.admin_up {
            // A stopped bond runs no machine; only its goodbyes are still owed.
            return goodbyes;
        }
        self.order
            .iter()
            .filter_map(|&id| self.port_ref(id))
            .flat_map(|p| {
                [
                    p.lacp.next_deadline(),
                    tx::ready_at(&p.lacp, Instant::ZERO),
                    // As `lacp_poll_transmit`: a marker waits for the link.
                    p.lacp
                        .marker
                        .ready_at(Instant::ZERO)
                        .filter(|_| p.carrier && p.link == LinkState::Up),
                ]
            })
            .flatten()
            .chain(goodbyes)
            .min()
    }

    /// The bond went down (every port says goodbye) or came back up (every port starts over).
    pub(crate) fn lacp_admin_changed(&mut self, now: Instant, up: bool) {
        for i in 0..self.order.len() {
            let id = self.order[i];
            if up {
                if let Some(p) = self.port_mut(id) {
                    p.lacp.begin = true;
                }
                continue;
            }
            self.lacp_queue_goodbye(now, id, PortState(0));
            if let Some(p) = self.port_mut(id) {
                p.lacp.marker.cancel_pending();
                p.lacp.mux = MuxState::Detached;
                p.lacp.selected = Selected::Unselected;
                p.lacp.enabled_without_partner = false;
            }
            self.lacp_leave_aggregator(id);
        }
        if up {
            self.lacp_run(now);
        } else {
            for a in self.aggs.iter_mut() {
                a.is_active = false;
            }
            self.lacp_sync_datapath();
        }
    }
}
