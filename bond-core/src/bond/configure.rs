//! Changing options of a live bond: the option table validates, then the bond applies what
//! the change means for ports already in it (Linux `bond_option_*_set`).

use core::fmt;

use super::{check_supported, Bond, BondError, SetActiveError};
use crate::config::{Config, Mode};
use crate::event::Event;
use crate::options::{self, Applied, OptionContext, OptionError};
use crate::port::LinkState;
use crate::time::Instant;

/// Why `Bond::set_option` refused a change. The bond is unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SetOptionError {
    /// The option table refused the name or value, or the bond's state forbids the change.
    Option(OptionError),
    /// The resulting configuration needs something not implemented yet.
    Unsupported(BondError),
    /// `active_slave` named a port that cannot become active.
    ActivePort(SetActiveError),
}

impl fmt::Display for SetOptionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Option(e) => e.fmt(f),
            Self::Unsupported(e) => e.fmt(f),
            Self::ActivePort(e) => e.fmt(f),
        }
    }
}

impl core::error::Error for SetOptionError {}

impl From<OptionError> for SetOptionError {
    fn from(e: OptionError) -> Self {
        Self::Option(e)
    }
}

impl<const N: usize> Bond<N> {
    /// Change one option, as `echo VALUE > /sys/class/net/bond0/bonding/NAME` would: with
    /// Linux's rules for a bond that is up or has ports, its side effects on other options, and
    /// its effect on the ports (a new `primary` takes over, `all_slaves_active` changes which
    /// frames backups deliver, ...). On error nothing changes.
    pub fn set_option(
        &mut self,
        now: Instant,
        name: &str,
        value: &str,
    ) -> Result<Applied, SetOptionError> {
        let ctx = OptionContext {
            bond_up: self.admin_up,
            has_ports: !self.order.is_empty(),
        };
        let mut next = self.config.clone();
        let applied = options::set_option(&mut next, name, value, &ctx)?;
        check_supported(&next).map_err(SetOptionError::Unsupported)?;
        if name == "active_slave" {
            let target = match next.active_slave.as_deref() {
                None => None,
                Some(n) => Some(
                    self.port_by_name(n)
                        .ok_or(SetOptionError::ActivePort(SetActiveError::NoSuchPort))?,
                ),
            };
            self.set_active_port(now, target)
                .map_err(SetOptionError::ActivePort)?;
        }
        let old = core::mem::replace(&mut self.config, next);
        self.apply_config_change(now, &old);
        Ok(applied)
    }

    /// Bring the ports in line with a configuration that just changed from `old`.
    fn apply_config_change(&mut self, now: Instant, old: &Config) {
        let all_active = self.config.all_slaves_active;
        if all_active != old.all_slaves_active {
            for p in self.ports.iter_mut().flatten() {
                p.inactive = !p.active && !all_active;
            }
        }
        let (miimon, arp_interval) = (self.config.miimon, self.config.arp_interval);
        if miimon != old.miimon {
            self.restart_link_monitor(now, old.miimon);
        }
        if miimon == 0 && arp_interval == 0 && (old.miimon != 0 || old.arp_interval != 0) {
            self.events.push(Event::NoLinkMonitoring);
        }
        let primary_changed = self.config.primary != old.primary;
        if primary_changed {
            let primary = self.config.primary.clone();
            self.primary = primary.as_deref().and_then(|n| self.port_by_name(n));
            self.force_primary = self.primary.is_some();
        }
        let reselect = primary_changed || self.config.primary_reselect != old.primary_reselect;
        if self.config.mode.uses_primary() && reselect {
            self.select_active(now);
        }
        self.refresh_tx_tables();
        self.update_carrier();
    }

    /// The MII monitor was switched on, off, or to another period.
    fn restart_link_monitor(&mut self, now: Instant, old_miimon: u32) {
        if self.config.miimon == 0 {
            // Linux stops polling and leaves a port in its downdelay or updelay "going down" or
            // "going back" for ever, with no failover. We settle those delays now, on the
            // carrier last seen, and then stop watching, as Linux does.
            for p in self.ports.iter_mut().flatten() {
                if p.link_deadline.is_some() {
                    p.link_deadline = Some(now);
                }
            }
            self.expire_link_delays(now);
            return;
        }
        // Pending delays keep their end; a monitor that was off looks at every port now, as
        // Linux's first poll would.
        for i in 0..self.order.len() {
            let id = self.order[i];
            if old_miimon == 0 {
                self.handle_link_state_now(now, id);
            }
        }
        if self.config.mode == Mode::ActiveBackup && self.curr_active.is_none() {
            self.select_active(now);
        }
    }

    fn handle_link_state_now(&mut self, now: Instant, id: super::PortId) {
        let Some(p) = self.port_ref(id) else { return };
        if p.link == LinkState::Up && p.carrier {
            return;
        }
        let sample = crate::port::LinkSample {
            up: p.carrier,
            speed_mbps: p.speed_mbps,
            duplex: p.duplex,
        };
        self.handle_link(now, id, sample);
    }
}
