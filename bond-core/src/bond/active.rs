//! Choosing the current active port (Linux `bond_find_best_slave`, `bond_change_active_slave`)
//! and the member-MAC policy that goes with it (`fail_over_mac`).

use super::{Bond, SetActiveError};
use crate::config::{FailOverMac, Mode, PrimaryReselect};
use crate::event::Event;
use crate::port::{Duplex, LinkState, PortId};
use crate::time::Instant;

impl<const N: usize> Bond<N> {
    /// Make `id` the active port (Linux `active_slave`); `None` clears the choice and lets the
    /// bond pick the best port again.
    pub fn set_active_port(
        &mut self,
        now: Instant,
        id: Option<PortId>,
    ) -> Result<(), SetActiveError> {
        if !self.config.mode.uses_primary() {
            return Err(SetActiveError::NotSupportedInMode(self.config.mode));
        }
        let Some(id) = id else {
            let old = self.curr_active.take();
            if let Some(o) = old {
                // The old port is a backup until the bond picks again.
                let all_active = self.config.all_slaves_active;
                if let Some(p) = self.port_mut(o) {
                    p.active = false;
                    p.inactive = !all_active;
                }
                self.events.push(Event::ActiveChanged { old, new: None });
            }
            self.select_active(now);
            self.refresh_tx_tables();
            self.update_carrier();
            return Ok(());
        };
        let port = self.port_ref(id).ok_or(SetActiveError::NoSuchPort)?;
        if self.curr_active == Some(id) {
            return Ok(());
        }
        if self.curr_active.is_none() {
            return Err(SetActiveError::NoCurrentActive);
        }
        if port.link != LinkState::Up || !port.carrier {
            return Err(SetActiveError::LinkDown);
        }
        self.change_active(now, Some(id));
        Ok(())
    }

    /// Linux `bond_select_active_slave`.
    pub(crate) fn select_active(&mut self, now: Instant) {
        let best = self.find_best(now);
        if best != self.curr_active {
            self.change_active(now, best);
            self.update_carrier();
        }
    }

    /// Linux `bond_find_best_slave`: the primary or current port if it should stay, else the
    /// first port that is up, else the port closest to the end of its `updelay`.
    fn find_best(&mut self, now: Instant) -> Option<PortId> {
        if let Some(id) = self.choose_primary_or_current() {
            return Some(id);
        }
        let updelay = self.config.updelay();
        let mut best = None;
        let mut min_left = updelay;
        for &id in &self.order {
            let Some(p) = self.port_ref(id) else { continue };
            if p.link == LinkState::Up {
                return Some(id);
            }
            if p.link == LinkState::Back && p.carrier {
                let left = p.link_deadline.map_or(updelay, |d| d - now);
                if left < min_left {
                    min_left = left;
                    best = Some(id);
                }
            }
        }
        best
    }

    /// Linux `bond_choose_primary_or_current` (with the per-port `prio` of Linux 6.0+).
    fn choose_primary_or_current(&mut self) -> Option<PortId> {
        let is_up = |b: &Self, id: Option<PortId>| {
            id.and_then(|id| b.port_ref(id))
                .is_some_and(|p| p.link == LinkState::Up)
        };
        let curr = self.curr_active;
        let mut prim = self.primary;
        if !is_up(self, prim) {
            // No usable primary: the highest-priority port that is up, first joined on ties.
            let mut hprio: Option<(PortId, i32)> = None;
            for &id in &self.order {
                let Some(p) = self.port_ref(id) else { continue };
                if p.link == LinkState::Up && hprio.is_none_or(|(_, best)| p.prio > best) {
                    hprio = Some((id, p.prio));
                }
            }
            match hprio {
                Some((h, _)) if Some(h) != curr => prim = Some(h),
                _ => return curr.filter(|_| is_up(self, curr)),
            }
        } else if self.force_primary {
            self.force_primary = false;
            return prim;
        }
        if !is_up(self, curr) {
            return prim;
        }
        let (Some(p), Some(c)) = (
            prim.and_then(|p| self.port_ref(p)),
            curr.and_then(|c| self.port_ref(c)),
        ) else {
            return curr;
        };
        match self.config.primary_reselect {
            PrimaryReselect::Always => prim,
            PrimaryReselect::Better => {
                // Linux compares raw speed (unknown = -1) and duplex (half 0 < full 1).
                let speed = |s: Option<u32>| s.map_or(-1, i64::from);
                let duplex = |d: Duplex| match d {
                    Duplex::Half => 0,
                    Duplex::Full => 1,
                    Duplex::Unknown => 255,
                };
                let (ps, cs) = (speed(p.speed_mbps), speed(c.speed_mbps));
                if ps < cs || (ps == cs && duplex(p.duplex) <= duplex(c.duplex)) {
                    curr
                } else {
                    prim
                }
            }
            PrimaryReselect::Failure => curr,
        }
    }

    /// Linux `bond_change_active_slave`.
    pub(crate) fn change_active(&mut self, now: Instant, new: Option<PortId>) {
        let old = self.curr_active;
        if old == new {
            return;
        }
        let mode = self.config.mode;
        if let Some(n) = new {
            let mut cut_updelay = false;
            if let Some(p) = self.port_mut(n) {
                p.last_link_up = Some(now);
                if p.link == LinkState::Back {
                    // Taken before its updelay ended because nothing better is up.
                    p.link = LinkState::Up;
                    p.link_deadline = None;
                    // In the trunk modes the port can send at once; in 802.3ad LACP decides.
                    p.active |= !matches!(mode, Mode::ActiveBackup | Mode::Lacp);
                    cut_updelay = true;
                }
            }
            if cut_updelay {
                self.events.push(Event::LinkChanged {
                    port: n,
                    state: LinkState::Up,
                });
                // Linux tells 802.3ad here too (bond_3ad_handle_link_change).
                if mode == Mode::Lacp {
                    self.lacp_link_changed(now, n);
                }
            }
        }
        self.curr_active = new;
        info!("bond: active port changed");
        self.events.push(Event::ActiveChanged { old, new });

        if mode == Mode::ActiveBackup {
            if let Some(o) = old {
                let all_active = self.config.all_slaves_active;
                if let Some(p) = self.port_mut(o) {
                    p.active = false;
                    p.inactive = !all_active;
                }
            }
            if let Some(n) = new {
                if let Some(p) = self.port_mut(n) {
                    p.active = true;
                    p.inactive = false;
                }
                self.apply_fail_over_mac(n, old);
                if self.admin_up {
                    self.notify.start_peer_notification(now, &self.config);
                }
            }
        }
        if self.admin_up
            && self.config.resend_igmp > 0
            && ((mode.uses_primary() && new.is_some()) || mode == Mode::RoundRobin)
        {
            self.notify
                .start_mcast_rejoin(now, self.config.resend_igmp, &mut self.events);
        }
        self.refresh_tx_tables();
    }

    /// Linux `bond_do_fail_over_mac`.
    fn apply_fail_over_mac(&mut self, new: PortId, old: Option<PortId>) {
        match self.config.fail_over_mac {
            FailOverMac::None => {}
            FailOverMac::Active => {
                if let Some(mac) = self.port_ref(new).map(|p| p.mac) {
                    self.set_bond_mac(mac);
                }
            }
            FailOverMac::Follow => {
                // Without an old active port, the port that now holds the bond MAC gives it up.
                let bond_mac = self.mac;
                let old = old.or_else(|| {
                    self.order.iter().copied().find(|&id| {
                        id != new && self.port_ref(id).is_some_and(|p| p.mac == bond_mac)
                    })
                });
                let Some(new_mac) = self.port_ref(new).map(|p| p.mac) else {
                    return;
                };
                match old.and_then(|o| self.port_ref(o).map(|p| (o, p.mac))) {
                    Some((o, old_mac)) => {
                        if let Some(p) = self.port_mut(new) {
                            p.set_mac(old_mac);
                        }
                        if let Some(p) = self.port_mut(o) {
                            p.set_mac(new_mac);
                        }
                    }
                    None => {
                        if let Some(p) = self.port_mut(new) {
                            p.set_mac(bond_mac);
                        }
                    }
                }
            }
        }
    }
}
