//! Selection Logic (802.1AX 6.4.14) as Linux implements it: each port owns one aggregator slot;
//! ports with the same LAG ID share the first matching aggregator; the bond uses one active
//! aggregator at a time, chosen by `ad_select`.

use super::port::{LacpPort, MuxState, Selected};
use crate::bond::Bond;
use crate::config::AdSelect;
use crate::port::{LinkState, Port, PortId, PortSet};
use crate::wire::lacp::PortState;
use crate::wire::EthernetAddress;

/// An aggregator. Linux gives every port one, so a bond of N ports has N slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Aggregator {
    /// Aggregator ID shown in status (1-based, assigned when its port joined the bond).
    pub(crate) id: u16,
    pub(crate) actor_key: u16,
    pub(crate) partner_system: EthernetAddress,
    pub(crate) partner_system_priority: u16,
    pub(crate) partner_key: u16,
    /// An Individual link: never shared.
    pub(crate) is_individual: bool,
    /// The bond sends and receives through this aggregator.
    pub(crate) is_active: bool,
    /// Ports that selected it.
    pub(crate) ports: PortSet,
}

impl Aggregator {
    /// Some partner answered (Linux `__agg_has_partner`).
    pub(crate) fn has_partner(&self) -> bool {
        self.partner_system != EthernetAddress::ZERO
    }

    fn clear(&mut self) {
        *self = Self {
            id: self.id,
            ..Self::default()
        };
    }
}

/// Whether a port's link can aggregate: full duplex on our side, and neither end Individual.
fn is_individual(p: &LacpPort) -> bool {
    !p.lacp_enabled
        || !p.actor_state.contains(PortState::AGGREGATION)
        || (p.rx == super::port::RxState::Current
            && !p.partner.state.contains(PortState::AGGREGATION))
}

impl<const N: usize> Bond<N> {
    /// Linux `ad_port_selection_logic` for an unselected port; returns whether anything changed.
    pub(crate) fn lacp_select_port(&mut self, id: PortId) -> bool {
        let Some(port) = self.port_ref(id) else {
            return false;
        };
        // An unselected port first lets its Mux machine detach, so it never carries collecting
        // or distributing over into another aggregator without waiting there.
        let l = &port.lacp;
        if l.selected != Selected::Unselected || !l.enabled || l.mux != MuxState::Detached {
            return false;
        }
        let p = l.clone();
        let p = &p;
        self.lacp_leave_aggregator(id);
        let individual = is_individual(p);
        let mut free = None;
        let mut found = None;
        for &q in &self.order {
            let agg = &self.aggs[q.index()];
            if agg.ports.is_empty() {
                free = free.or(Some(q.index()));
                continue;
            }
            let same_lag = agg.actor_key == p.key
                && agg.partner_system == p.partner.system
                && agg.partner_system_priority == p.partner.system_priority
                && agg.partner_key == p.partner.key;
            if same_lag && agg.has_partner() && !agg.is_individual && !individual {
                found = Some(q.index());
                break;
            }
        }
        let Some(slot) = found.or(free) else {
            return false;
        };
        let agg = &mut self.aggs[slot];
        if found.is_none() {
            agg.actor_key = p.key;
            agg.partner_system = p.partner.system;
            agg.partner_system_priority = p.partner.system_priority;
            agg.partner_key = p.partner.key;
            agg.is_individual = individual;
        }
        agg.ports.insert(id);
        if let Some(port) = self.port_mut(id) {
            port.lacp.aggregator = Some(slot);
            port.lacp.selected = Selected::Selected;
        }
        self.lacp_select_aggregator();
        let active = self.aggs[slot].is_active;
        if let Some(port) = self.port_mut(id) {
            if !active {
                port.lacp.actor_state.remove(PortState::SYNCHRONIZATION);
            }
        }
        true
    }

    /// Take port `id` out of its aggregator; an emptied aggregator forgets its LAG.
    pub(crate) fn lacp_leave_aggregator(&mut self, id: PortId) {
        let Some(slot) = self.port_mut(id).and_then(|p| p.lacp.aggregator.take()) else {
            return;
        };
        let agg = &mut self.aggs[slot];
        let mut ports = PortSet::EMPTY;
        for q in agg.ports.iter().filter(|&q| q != id) {
            ports.insert(q);
        }
        agg.ports = ports;
        if agg.ports.is_empty() {
            agg.clear();
        }
    }

    /// Number of ports of aggregator `slot` whose link is up (Linux `__agg_active_ports`).
    fn agg_enabled_ports(&self, slot: usize) -> u32 {
        self.aggs[slot]
            .ports
            .iter()
            .filter(|&q| self.port_ref(q).is_some_and(|p| p.lacp.enabled))
            .count() as u32
    }

    /// Some port of the aggregator has carrier (Linux `agg_device_up`).
    fn agg_device_up(&self, slot: usize) -> bool {
        self.aggs[slot]
            .ports
            .iter()
            .any(|q| self.port_ref(q).is_some_and(|p| p.carrier))
    }

    /// Linux `__get_agg_bandwidth`: ports × speed, in Mbit/s.
    fn agg_bandwidth(&self, slot: usize) -> u64 {
        let agg = &self.aggs[slot];
        let speed = agg
            .ports
            .iter()
            .find_map(|q| self.port_ref(q).and_then(|p| p.speed_mbps))
            .unwrap_or(0);
        agg.ports.len() as u64 * u64::from(speed)
    }

    /// Linux `__agg_ports_priority`: the sum of the enabled ports' actor port priorities.
    fn agg_priority(&self, slot: usize) -> u32 {
        self.aggs[slot]
            .ports
            .iter()
            .filter_map(|q| self.port_ref(q).filter(|p| p.lacp.enabled))
            .map(|p| u32::from(p.lacp.port_priority))
            .sum()
    }

    /// Linux `ad_agg_selection_test`: is `curr` better than `best`?
    fn agg_better(&self, best: Option<usize>, curr: usize) -> usize {
        let Some(best) = best else { return curr };
        let (b, c) = (&self.aggs[best], &self.aggs[curr]);
        if !c.is_individual && b.is_individual {
            return curr;
        }
        if c.is_individual && !b.is_individual {
            return best;
        }
        if c.has_partner() != b.has_partner() {
            return if c.has_partner() { curr } else { best };
        }
        let policy = self.config.ad_select;
        if policy == AdSelect::ActorPortPrio {
            let (cp, bp) = (self.agg_priority(curr), self.agg_priority(best));
            if cp != bp {
                return if cp > bp { curr } else { best };
            }
        }
        if matches!(policy, AdSelect::ActorPortPrio | AdSelect::Count) {
            let (cn, bn) = (self.agg_enabled_ports(curr), self.agg_enabled_ports(best));
            if cn != bn {
                return if cn > bn { curr } else { best };
            }
        }
        if self.agg_bandwidth(curr) > self.agg_bandwidth(best) {
            curr
        } else {
            best
        }
    }

    /// Linux `ad_agg_selection_logic`: choose the bond's active aggregator; returns whether it
    /// changed.
    pub(crate) fn lacp_select_aggregator(&mut self) -> bool {
        let active = (0..N).find(|&i| self.aggs[i].is_active && !self.aggs[i].ports.is_empty());
        let mut best = active.filter(|&a| self.agg_device_up(a));
        for &q in &self.order {
            let slot = q.index();
            self.aggs[slot].is_active = false;
            if self.agg_enabled_ports(slot) > 0 && self.agg_device_up(slot) {
                best = Some(self.agg_better(best, slot));
            }
        }
        if let (Some(b), Some(a)) = (best, active) {
            // stable: keep the active aggregator while it still works, unless it has a zero key
            // and the best does not.
            let act = &self.aggs[a];
            let keep = self.config.ad_select == AdSelect::Stable
                && self.agg_enabled_ports(a) > 0
                && (act.has_partner() || !self.aggs[b].has_partner())
                && !(act.actor_key == 0 && self.aggs[b].actor_key != 0);
            if keep {
                best = Some(a);
            }
        }
        if let Some(b) = best {
            self.aggs[b].is_active = true;
        }
        let changed = best != active;
        // Linux enables the ports of an active aggregator whose partner never answered.
        for i in 0..self.order.len() {
            let q = self.order[i];
            let slot_active = |b: &Self, p: &Port| {
                p.lacp
                    .aggregator
                    .is_some_and(|s| b.aggs[s].is_active && !b.aggs[s].has_partner())
            };
            let enable = self
                .port_ref(q)
                .is_some_and(|p| slot_active(self, p) && p.link == LinkState::Up && p.carrier);
            if let Some(p) = self.port_mut(q) {
                p.lacp.enabled_without_partner = enable;
            }
        }
        changed
    }

    /// The active aggregator's slot.
    pub(crate) fn lacp_active_aggregator(&self) -> Option<usize> {
        (0..N).find(|&i| self.aggs[i].is_active && !self.aggs[i].ports.is_empty())
    }

    /// Whether every port of aggregator `slot` has waited Aggregate_Wait_Time (802.1AX `Ready`).
    pub(crate) fn lacp_agg_ready(&self, slot: usize) -> bool {
        self.aggs[slot]
            .ports
            .iter()
            .all(|q| self.port_ref(q).is_some_and(|p| p.lacp.ready_n))
    }
}
