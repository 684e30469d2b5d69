//! The MII/carrier link monitor (Linux `bond_miimon_inspect` + `bond_miimon_commit`).
//!
//! Linux polls every `miimon` ms and counts `updelay`/`downdelay` in polls. Here a sample is
//! inspected the moment it arrives — an interrupt-driven PHY need not wait for the next poll —
//! and the delays are deadlines on the injected clock, so a port that loses carrier at `t`
//! is declared down at exactly `t + downdelay`.

use super::Bond;
use crate::config::Mode;
use crate::event::Event;
use crate::port::{LinkSample, LinkState, PortId};
use crate::time::Instant;

/// What inspecting a port concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// Nothing changed.
    Same,
    /// Entered `Fail` or `Back`: a delay started.
    Pending(LinkState),
    /// Link definitely up.
    Up,
    /// Link definitely down.
    Down,
}

impl<const N: usize> Bond<N> {
    /// A carrier/MII sample of port `id`: a poll result or a link interrupt.
    ///
    /// With `miimon=0` (and no ARP monitor) Linux never changes a port's link state; the carrier
    /// is still recorded, so ports without carrier carry no traffic in the load-balancing modes.
    pub fn handle_link(&mut self, now: Instant, id: PortId, sample: LinkSample) {
        let Some(port) = self.port_mut(id) else {
            return;
        };
        let carrier_changed = port.carrier != sample.up;
        port.carrier = sample.up;
        // As Linux re-reads ethtool on every carrier change: a NIC without link usually
        // reports unknown speed and duplex, and the status text says so.
        port.speed_mbps = sample.speed_mbps;
        port.duplex = sample.duplex;
        if self.config.miimon != 0 {
            let verdict = self.inspect(now, id);
            self.commit(now, id, verdict);
        }
        if self.config.mode == Mode::Lacp {
            self.lacp_link_changed(now, id);
        } else if carrier_changed && self.config.miimon == 0 {
            // With the MII monitor on, commit() has rebuilt the tables already.
            self.refresh_tx_tables();
        }
    }

    /// End the `updelay`/`downdelay` of every port whose deadline has passed.
    pub(crate) fn expire_link_delays(&mut self, now: Instant) {
        for i in 0..self.order.len() {
            let id = self.order[i];
            let due = self
                .port_ref(id)
                .and_then(|p| p.link_deadline)
                .is_some_and(|d| d <= now);
            if due {
                let verdict = self.inspect(now, id);
                self.commit(now, id, verdict);
                if self.config.mode == Mode::Lacp {
                    self.lacp_link_changed(now, id);
                }
            }
        }
    }

    /// Linux `bond_miimon_inspect` for one port, with delays as deadlines.
    fn inspect(&mut self, now: Instant, id: PortId) -> Verdict {
        let ignore_updelay = self.ignore_updelay();
        let downdelay = self.config.downdelay();
        let updelay = self.config.updelay();
        let Some(port) = self.port_mut(id) else {
            return Verdict::Same;
        };
        let expired = port.link_deadline.is_some_and(|d| d <= now);
        match (port.link, port.carrier) {
            (LinkState::Up, true) | (LinkState::Down, false) => Verdict::Same,
            (LinkState::Up, false) if downdelay.is_zero() => Verdict::Down,
            (LinkState::Up, false) => {
                port.link_deadline = Some(now + downdelay);
                Verdict::Pending(LinkState::Fail)
            }
            (LinkState::Fail, true) => Verdict::Up,
            (LinkState::Fail, false) if expired => Verdict::Down,
            (LinkState::Down, true) if ignore_updelay || updelay.is_zero() => Verdict::Up,
            (LinkState::Down, true) => {
                port.link_deadline = Some(now + updelay);
                Verdict::Pending(LinkState::Back)
            }
            (LinkState::Back, false) => Verdict::Down,
            (LinkState::Back, true) if expired || ignore_updelay => Verdict::Up,
            (LinkState::Fail | LinkState::Back, _) => Verdict::Same,
        }
    }

    /// Linux skips `updelay` while the bond has nothing to send on: no active port in
    /// active-backup, an empty usable-port array in balance-xor. (balance-rr and broadcast keep
    /// no such array in Linux, so they always wait.)
    pub(crate) fn ignore_updelay(&self) -> bool {
        match self.config.mode {
            Mode::ActiveBackup => self.curr_active.is_none(),
            Mode::Xor => self.tables.usable_count() == 0,
            _ => false,
        }
    }

    /// Linux `bond_miimon_commit` for one port.
    fn commit(&mut self, now: Instant, id: PortId, verdict: Verdict) {
        let mode = self.config.mode;
        let do_failover = match verdict {
            Verdict::Same => return,
            Verdict::Pending(state) => {
                if let Some(p) = self.port_mut(id) {
                    p.link = state;
                }
                self.events.push(Event::LinkChanged { port: id, state });
                // A port going down stops carrying traffic at once: it has no carrier.
                self.refresh_tx_tables();
                return;
            }
            Verdict::Up => {
                let active_prio = self
                    .curr_active
                    .and_then(|a| self.port_ref(a))
                    .map(|a| a.prio);
                let primary = self.primary;
                let Some(p) = self.port_mut(id) else { return };
                p.link = LinkState::Up;
                p.link_deadline = None;
                p.last_link_up = Some(now);
                // LACP, not the link, decides when an 802.3ad port carries traffic.
                if !matches!(mode, Mode::ActiveBackup | Mode::Lacp) {
                    p.active = true;
                    p.inactive = false;
                }
                let prio = p.prio;
                info!("bond: port {} link up", id.0);
                self.events.push(Event::LinkChanged {
                    port: id,
                    state: LinkState::Up,
                });
                match active_prio {
                    None => true,
                    Some(active_prio) => primary == Some(id) || prio > active_prio,
                }
            }
            Verdict::Down => {
                let backup = matches!(mode, Mode::ActiveBackup | Mode::Lacp);
                let all_active = self.config.all_slaves_active;
                let Some(p) = self.port_mut(id) else { return };
                p.link = LinkState::Down;
                p.link_deadline = None;
                p.link_failure_count = p.link_failure_count.saturating_add(1);
                if backup {
                    p.active = false;
                    p.inactive = !all_active;
                }
                info!("bond: port {} link down", id.0);
                self.events.push(Event::LinkChanged {
                    port: id,
                    state: LinkState::Down,
                });
                self.curr_active == Some(id)
            }
        };
        self.refresh_tx_tables();
        if do_failover {
            self.select_active(now);
        }
        self.update_carrier();
    }
}
