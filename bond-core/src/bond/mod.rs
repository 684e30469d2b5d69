//! The sans-IO bond: [`Bond`] and its inputs, commands, outputs and getters.
//!
//! # Calling contract
//! The methods fall in four groups (quinn-proto's taxonomy):
//! - **inputs** `handle_link`, `handle_rx`, `handle_timeout` — things that happened;
//! - **commands** `add_port`, `remove_port`, `set_option`, `set_active_port`, `add_address`, … ;
//! - **data path** `select_tx` — where a frame from the host goes (O(1), no allocation);
//! - **outputs** drained after every input or command, in this order: `poll_action` (MAC
//!   changes the adapter must apply), `poll_transmit` (control frames to send), `poll_event`,
//!   then `poll_timeout` (when to call `handle_timeout` next).
//!
//! `now` must not go backwards between calls; calls at the same instant may come in any order.
//! Pending output is state (per-port flags, a countdown), never a queue that can grow.

mod active;
mod configure;
mod datapath;
mod monitor;
mod notify;
#[cfg(test)]
mod tests;

use core::fmt;

use crate::config::{Config, FailOverMac, IfName, Mode};
use crate::event::{Event, EventQueue};
use crate::port::{LinkState, Port, PortConfig, PortId, PortStatus};
use crate::time::{earliest, Instant};
use crate::wire::EthernetAddress;

pub use configure::SetOptionError;
pub use datapath::{DropReason, RxVerdict, TxVerdict};
pub use notify::{
    AddressesFull, BondAddress, IpAddress, Transmit, MAX_ADDRESSES, MIN_TRANSMIT_BUF,
};

/// A MAC address change the adapter must carry out (Linux changes member MACs itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Action {
    /// Program `mac` into port `port` (and keep receiving frames addressed to it).
    SetPortMac {
        /// The port.
        port: PortId,
        /// The address to program.
        mac: EthernetAddress,
    },
    /// The bond's own MAC changed (first port joined, or `fail_over_mac=active` failover).
    SetBondMac {
        /// The new bond MAC.
        mac: EthernetAddress,
    },
}

/// Why a bond could not be created or a configuration not applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum BondError {
    /// The configuration asks for something this version does not implement yet.
    Unsupported {
        /// The option (Linux spelling).
        option: &'static str,
        /// What is missing.
        what: &'static str,
    },
}

impl fmt::Display for BondError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unsupported { option, what } => {
                write!(f, "option \"{option}\": {what} is not implemented yet")
            }
        }
    }
}

impl core::error::Error for BondError {}

/// Why a port could not be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum AddPortError {
    /// The bond already holds its capacity `N` of ports.
    Full,
    /// A port with the same name is already in the bond.
    DuplicateName,
    /// The permanent MAC is not a unicast address.
    InvalidMac,
}

impl fmt::Display for AddPortError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Full => "the bond has no room for another port",
            Self::DuplicateName => "a port with this name is already in the bond",
            Self::InvalidMac => "the port's permanent MAC address is not unicast",
        })
    }
}

impl core::error::Error for AddPortError {}

/// Why a port could not be made the active one (Linux `active_slave`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum SetActiveError {
    /// The mode has no active port (only active-backup, balance-tlb and balance-alb do).
    NotSupportedInMode(Mode),
    /// No such port in this bond.
    NoSuchPort,
    /// The port's link is not up.
    LinkDown,
    /// There is no current active port to take over from (Linux refuses this case too).
    NoCurrentActive,
}

impl fmt::Display for SetActiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotSupportedInMode(m) => {
                write!(f, "option \"active_slave\" is not supported in mode {m}")
            }
            Self::NoSuchPort => f.write_str("no such port in the bond"),
            Self::LinkDown => f.write_str("could not set active port: its link is down"),
            Self::NoCurrentActive => {
                f.write_str("could not set active port: the bond has no active port yet")
            }
        }
    }
}

impl core::error::Error for SetActiveError {}

/// Bond-wide counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct BondStats {
    /// `handle_rx` frames shorter than an Ethernet header.
    pub rx_truncated: u64,
    /// `handle_rx` calls naming a port that is not in the bond.
    pub rx_unknown_port: u64,
    /// `select_tx` frames shorter than an Ethernet header.
    pub tx_truncated: u64,
    /// `select_tx` frames dropped because no port could send them.
    pub tx_no_port: u64,
    /// `select_tx` frames dropped because the bond is administratively down.
    pub tx_bond_down: u64,
}

/// A bond of at most `N` ports (`N` ≤ 32).
#[derive(Debug)]
pub struct Bond<const N: usize> {
    pub(crate) config: Config,
    pub(crate) mac: EthernetAddress,
    /// The MAC was given by the caller, so ports joining do not replace it.
    pub(crate) mac_explicit: bool,
    pub(crate) mac_pending: bool,
    pub(crate) admin_up: bool,
    pub(crate) ports: [Option<Port>; N],
    /// Ports in the order they joined (Linux list order: it decides ties and hashing).
    pub(crate) order: heapless::Vec<PortId, N>,
    pub(crate) curr_active: Option<PortId>,
    pub(crate) primary: Option<PortId>,
    pub(crate) force_primary: bool,
    pub(crate) carrier: bool,
    tables: datapath::TxTables<N>,
    notify: notify::Notifier,
    pub(crate) events: EventQueue,
    pub(crate) stats: BondStats,
    /// 802.3ad aggregators, one per port slot (as Linux gives each port one).
    pub(crate) aggs: [crate::lacp::selection::Aggregator; N],
    /// The last aggregator ID handed out.
    pub(crate) next_agg_id: u16,
    /// Goodbye LACPDUs of ports that left, not yet sent.
    pub(crate) final_pdus: [Option<crate::lacp::FinalPdu>; N],
    /// The port `lacp_fallback` engaged, as last reported.
    pub(crate) lacp_fallback: Option<PortId>,
}

impl<const N: usize> Bond<N> {
    const CAPACITY_OK: () = assert!(N >= 1 && N <= 32, "a bond holds 1 to 32 ports");

    /// A bond with `config`, administratively up, without ports.
    ///
    /// `mac` is the bond's MAC address if the caller wants to fix it; otherwise the first port
    /// to join lends its MAC, as in Linux. `seed` seeds the generator behind
    /// `packets_per_slave=0` (random port per frame), so runs are reproducible.
    pub fn new(
        now: Instant,
        config: Config,
        mac: Option<EthernetAddress>,
        seed: u64,
    ) -> Result<Self, BondError> {
        let () = Self::CAPACITY_OK;
        check_supported(&config)?;
        let mut bond = Self {
            mac: mac.unwrap_or(EthernetAddress::ZERO),
            mac_explicit: mac.is_some(),
            mac_pending: false,
            admin_up: true,
            ports: [const { None }; N],
            order: heapless::Vec::new(),
            curr_active: None,
            primary: None,
            force_primary: false,
            carrier: false,
            tables: datapath::TxTables::new(seed),
            notify: notify::Notifier::default(),
            events: EventQueue::default(),
            stats: BondStats::default(),
            aggs: [crate::lacp::selection::Aggregator::default(); N],
            next_agg_id: 0,
            final_pdus: [None; N],
            lacp_fallback: None,
            config,
        };
        if bond.config.miimon == 0 && bond.config.arp_interval == 0 {
            warn!("bond: no link monitoring (miimon=0, arp_interval=0): link failures will not be detected");
            bond.events.push(Event::NoLinkMonitoring);
        }
        // Nothing starts ticking at creation: the first port and the first input bring time.
        let _ = now;
        Ok(bond)
    }

    // ---- getters ----------------------------------------------------------------------------

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The bond's MAC address (all zeros until a port joins, unless given to `new`).
    pub fn mac(&self) -> EthernetAddress {
        self.mac
    }

    /// Whether the bond has carrier (Linux: some port's link is up).
    pub fn carrier(&self) -> bool {
        self.carrier
    }

    /// Whether the bond is administratively up.
    pub fn is_up(&self) -> bool {
        self.admin_up
    }

    /// The current active port (active-backup), or the port used for IGMP (balance-rr, xor,
    /// broadcast).
    pub fn active_port(&self) -> Option<PortId> {
        self.curr_active
    }

    /// The primary port, if `primary` names a port of this bond.
    pub fn primary_port(&self) -> Option<PortId> {
        self.primary
    }

    /// The ports in the order they joined.
    pub fn ports(&self) -> impl Iterator<Item = PortId> + '_ {
        self.order.iter().copied()
    }

    /// Number of ports.
    pub fn port_count(&self) -> usize {
        self.order.len()
    }

    /// The port named `name`.
    pub fn port_by_name(&self, name: &str) -> Option<PortId> {
        self.ports()
            .find(|&id| self.port_ref(id).is_some_and(|p| p.name == name))
    }

    /// A snapshot of port `id`.
    pub fn port(&self, id: PortId) -> Option<PortStatus<'_>> {
        let p = self.port_ref(id)?;
        Some(PortStatus {
            id,
            name: &p.name,
            perm_mac: p.perm_mac,
            mac: p.mac,
            carrier: p.carrier,
            link: p.link,
            speed_mbps: p.speed_mbps,
            duplex: p.duplex,
            link_failure_count: p.link_failure_count,
            active: p.active,
            prio: p.prio,
            queue_id: p.queue_id,
            stats: p.stats,
        })
    }

    /// Bond-wide counters.
    pub fn stats(&self) -> &BondStats {
        &self.stats
    }

    // ---- commands ---------------------------------------------------------------------------

    /// Add a port (Linux enslave). The port starts with the link state its sample shows (with
    /// `updelay` applied); its MAC change, if the mode wants one, is reported by `poll_action`.
    pub fn add_port(&mut self, now: Instant, cfg: &PortConfig) -> Result<PortId, AddPortError> {
        if !cfg.perm_mac.is_unicast() {
            return Err(AddPortError::InvalidMac);
        }
        if self.port_by_name(&cfg.name).is_some() {
            return Err(AddPortError::DuplicateName);
        }
        let slot = self
            .ports
            .iter()
            .position(Option::is_none)
            .ok_or(AddPortError::Full)?;
        let id = PortId(slot as u8);
        let mut port = Port::new(cfg);

        if self.order.is_empty() && !self.mac_explicit {
            self.set_bond_mac(cfg.perm_mac);
        }
        // Linux gives every port the bond MAC, except active-backup with fail_over_mac set.
        if self.config.fail_over_mac == FailOverMac::None || self.config.mode != Mode::ActiveBackup
        {
            port.set_mac(self.mac);
        }
        port.link = if self.config.miimon == 0 {
            // No MII monitor: Linux treats the link as up and never looks again.
            LinkState::Up
        } else if !cfg.link.up {
            LinkState::Down
        } else if self.config.updelay().is_zero() || self.ignore_updelay() {
            // Linux waits for its next miimon tick to notice the bond has nothing up; we
            // need not.
            LinkState::Up
        } else {
            port.link_deadline = Some(now + self.config.updelay());
            LinkState::Back
        };
        if port.link != LinkState::Down {
            port.last_link_up = Some(now);
        }
        match self.config.mode {
            // 802.3ad ports carry nothing until LACP says so.
            Mode::ActiveBackup | Mode::Lacp => self.mark_backup(&mut port),
            _ => port.active = true,
        }
        let link_up = port.link == LinkState::Up;
        let initial = port.link;
        self.ports[slot] = Some(port);
        self.events.push(Event::LinkChanged {
            port: id,
            state: initial,
        });
        // Cannot fail: a free slot exists, so fewer than N ports are listed.
        let _ = self.order.push(id);
        info!("bond: port {} joined", id.0);

        if !self.config.mode.uses_primary() && self.curr_active.is_none() && link_up {
            // Trunk modes only remember a port for IGMP; no failover machinery.
            self.curr_active = Some(id);
        }
        if self.config.mode.uses_primary()
            && self.config.primary.as_deref() == Some(cfg.name.as_str())
        {
            self.primary = Some(id);
            self.force_primary = true;
        }
        self.refresh_tx_tables();
        if self.config.mode.uses_primary() {
            self.select_active(now);
        }
        if self.config.mode == Mode::Lacp {
            self.lacp_bind(now, id);
        }
        self.update_carrier();
        Ok(id)
    }

    /// Remove a port (Linux release). Returns the MAC the adapter should restore on it, if the
    /// bond had changed it.
    pub fn remove_port(&mut self, now: Instant, id: PortId) -> Option<EthernetAddress> {
        let pos = self.order.iter().position(|&p| p == id)?;
        if self.config.mode == Mode::Lacp {
            self.lacp_unbind(now, id);
        }
        let port = self.ports[id.index()].take()?;
        self.order.remove(pos);
        info!("bond: port {} left", id.0);
        if self.primary == Some(id) {
            self.primary = None;
        }
        if self.curr_active == Some(id) {
            self.curr_active = None;
            self.events.push(Event::ActiveChanged {
                old: Some(id),
                new: None,
            });
            self.select_active(now);
        }
        self.refresh_tx_tables();
        self.update_carrier();
        let keeps_mac = self.config.mode == Mode::ActiveBackup
            && self.config.fail_over_mac == FailOverMac::Active;
        if !keeps_mac && self.mac == port.perm_mac && !self.order.is_empty() {
            warn!("bond: a departed port's permanent MAC is still the bond's MAC");
            self.events
                .push(Event::PermanentMacInUse { mac: port.perm_mac });
        }
        (!keeps_mac && port.mac != port.perm_mac).then_some(port.perm_mac)
    }

    /// Bring the bond administratively up or down. A down bond sends nothing and selects no
    /// port; options marked "bond must be down" can only be changed while it is down.
    pub fn set_admin_up(&mut self, now: Instant, up: bool) {
        if self.admin_up == up {
            return;
        }
        self.admin_up = up;
        if !up {
            self.notify.stop();
        }
        if self.config.mode == Mode::Lacp {
            self.lacp_admin_changed(now, up);
        }
        self.refresh_tx_tables();
        self.update_carrier();
    }

    /// Set a port's failover priority (`prio`, higher wins) and reselect as Linux does.
    pub fn set_port_prio(&mut self, now: Instant, id: PortId, prio: i32) -> Option<()> {
        self.port_mut(id)?.prio = prio;
        if self.config.mode.uses_primary() && self.primary.is_none() {
            self.select_active(now);
        }
        Some(())
    }

    /// Set a port's `queue_id` (reported in status).
    pub fn set_port_queue_id(&mut self, id: PortId, queue_id: u16) -> Option<()> {
        self.port_mut(id)?.queue_id = queue_id;
        Some(())
    }

    // ---- outputs ----------------------------------------------------------------------------

    /// The next MAC change the adapter must apply.
    pub fn poll_action(&mut self) -> Option<Action> {
        if self.mac_pending {
            self.mac_pending = false;
            return Some(Action::SetBondMac { mac: self.mac });
        }
        for &id in &self.order {
            if let Some(p) = self.ports[id.index()].as_mut() {
                if p.mac_pending {
                    p.mac_pending = false;
                    return Some(Action::SetPortMac {
                        port: id,
                        mac: p.mac,
                    });
                }
            }
        }
        None
    }

    /// Write the next control frame the bond must send into `buf`: LACPDUs and marker
    /// responses (802.3ad), then gratuitous ARPs and unsolicited NAs after a failover.
    ///
    /// Call it until it returns `None` after every input and command. After `remove_port`,
    /// drain it before closing the port: an 802.3ad port says goodbye to its partner.
    ///
    /// # Panics
    /// If `buf` is shorter than [`MIN_TRANSMIT_BUF`] bytes.
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<Transmit> {
        assert!(
            buf.len() >= MIN_TRANSMIT_BUF,
            "poll_transmit needs a {MIN_TRANSMIT_BUF}-byte buffer"
        );
        if self.config.mode == Mode::Lacp || self.final_pdus.iter().any(Option::is_some) {
            if let Some(t) = self.lacp_poll_transmit(now, buf) {
                return Some(t);
            }
        }
        self.poll_notification(now, buf)
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop()
    }

    /// When `handle_timeout` must be called next, if ever.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let ports = self
            .order
            .iter()
            .filter_map(|&id| self.port_ref(id).and_then(|p| p.link_deadline))
            .min();
        // Goodbye LACPDUs may still be owed after the mode changed, so this is asked always.
        let lacp = self.lacp_deadline();
        earliest(earliest(ports, self.notify.next_deadline()), lacp)
    }

    /// Handle the passing of time: expire `updelay`/`downdelay` and send due notifications.
    /// Calling it early, or more than once, is harmless.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.expire_link_delays(now);
        if self.config.mode == Mode::Lacp && self.admin_up {
            self.lacp_run(now);
        }
        self.notify.on_timeout(now, &mut self.events);
    }

    // ---- internals --------------------------------------------------------------------------

    pub(crate) fn port_ref(&self, id: PortId) -> Option<&Port> {
        self.ports.get(id.index())?.as_ref()
    }

    pub(crate) fn port_mut(&mut self, id: PortId) -> Option<&mut Port> {
        self.ports.get_mut(id.index())?.as_mut()
    }

    fn set_bond_mac(&mut self, mac: EthernetAddress) {
        if self.mac != mac {
            self.mac = mac;
            self.mac_pending = true;
        }
    }

    /// Linux `bond_set_slave_inactive_flags`: backup state, and RX suppression unless
    /// `all_slaves_active`.
    pub(crate) fn mark_backup(&self, port: &mut Port) {
        port.active = false;
        port.inactive = !self.config.all_slaves_active;
    }

    /// Linux `bond_set_carrier` for the modes without LACP: up while some port's link is up.
    pub(crate) fn update_carrier(&mut self) {
        let up = self.admin_up
            && if self.config.mode == Mode::Lacp {
                self.lacp_carrier()
            } else {
                self.order
                    .iter()
                    .any(|&id| self.port_ref(id).is_some_and(|p| p.link == LinkState::Up))
            };
        if up != self.carrier {
            self.carrier = up;
            self.events.push(Event::CarrierChanged { up });
        }
    }

    /// The name of port `id`, for the status text.
    pub(crate) fn port_name(&self, id: Option<PortId>) -> Option<&IfName> {
        id.and_then(|id| self.port_ref(id)).map(|p| &p.name)
    }
}

/// Refuse configurations whose behaviour is not implemented yet, rather than pretend.
pub(super) fn check_supported(config: &Config) -> Result<(), BondError> {
    match config.mode {
        Mode::Tlb => Err(BondError::Unsupported {
            option: "mode",
            what: "balance-tlb",
        }),
        Mode::Alb => Err(BondError::Unsupported {
            option: "mode",
            what: "balance-alb",
        }),
        _ if config.arp_interval > 0 => Err(BondError::Unsupported {
            option: "arp_interval",
            what: "the ARP link monitor",
        }),
        _ => Ok(()),
    }
}
