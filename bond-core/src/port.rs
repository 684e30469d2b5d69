//! Bond member ports: identity, link samples, monitor state, counters.

use core::fmt;

use crate::config::IfName;
use crate::lacp::port::LacpPort;
use crate::time::Instant;
use crate::wire::EthernetAddress;

/// A port's handle inside one bond: stable from `add_port` to `remove_port`.
///
/// Handles of removed ports may be reused by later `add_port` calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PortId(pub(crate) u8);

impl PortId {
    /// The slot index (0-based) of this port in the bond.
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for PortId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "port{}", self.0)
    }
}

/// A set of ports, one bit per [`PortId`] (bonds hold at most 32 ports).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PortSet(u32);

impl PortSet {
    /// No ports.
    pub const EMPTY: Self = Self(0);

    /// Add `port`.
    pub fn insert(&mut self, port: PortId) {
        self.0 |= 1 << port.0;
    }

    /// Whether `port` is in the set.
    pub const fn contains(self, port: PortId) -> bool {
        self.0 & (1 << port.0) != 0
    }

    /// Number of ports in the set.
    pub const fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The ports, lowest id first.
    pub fn iter(self) -> impl Iterator<Item = PortId> {
        (0..32u8)
            .filter(move |i| self.0 & (1 << i) != 0)
            .map(PortId)
    }
}

/// Duplex of a port's link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Duplex {
    /// Half duplex.
    Half,
    /// Full duplex.
    Full,
    /// Not known (no link, or the PHY does not say).
    #[default]
    Unknown,
}

/// One carrier/MII observation of a port: a poll result or an interrupt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LinkSample {
    /// Carrier present.
    pub up: bool,
    /// Speed in Mbit/s, if known.
    pub speed_mbps: Option<u32>,
    /// Duplex.
    pub duplex: Duplex,
}

impl LinkSample {
    /// A link that is up at `speed_mbps`, full duplex.
    pub const fn up_full(speed_mbps: u32) -> Self {
        Self {
            up: true,
            speed_mbps: Some(speed_mbps),
            duplex: Duplex::Full,
        }
    }

    /// No carrier.
    pub const DOWN: Self = Self {
        up: false,
        speed_mbps: None,
        duplex: Duplex::Unknown,
    };
}

/// The link monitor's view of a port (Linux `BOND_LINK_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum LinkState {
    /// Link up and in use.
    Up,
    /// Carrier lost; waiting `downdelay` before declaring the link down.
    Fail,
    /// Link down.
    Down,
    /// Carrier back; waiting `updelay` before declaring the link up.
    Back,
}

impl LinkState {
    /// The `/proc/net/bonding` spelling.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Up => "up",
            Self::Fail => "going down",
            Self::Down => "down",
            Self::Back => "going back",
        }
    }
}

/// What a caller supplies when adding a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortConfig {
    /// Interface name, used by `primary`, `active_slave` and the status text.
    pub name: IfName,
    /// The port's permanent (burned-in) MAC address.
    pub perm_mac: EthernetAddress,
    /// The link as it is when the port joins.
    pub link: LinkSample,
    /// Failover priority (`prio`); higher wins. Linux default 0.
    pub prio: i32,
    /// Transmit queue id (`queue_id`), reported in status. Linux default 0.
    pub queue_id: u16,
    /// 802.3ad Actor_Port_Priority (`actor_port_prio`). Linux default 255.
    pub actor_port_prio: u16,
}

impl PortConfig {
    /// A port named `name` with permanent MAC `perm_mac` and link `link`, default priority.
    ///
    /// Returns `None` if `name` is not a valid interface name (1 to 15 bytes).
    pub fn new(name: &str, perm_mac: EthernetAddress, link: LinkSample) -> Option<Self> {
        if name.is_empty() {
            return None;
        }
        Some(Self {
            name: IfName::try_from(name).ok()?,
            perm_mac,
            link,
            prio: 0,
            queue_id: 0,
            actor_port_prio: crate::lacp::DEFAULT_PORT_PRIORITY,
        })
    }
}

/// Per-port counters kept by the bond. Data frames sent are counted by the adapter, as Linux
/// counts them in the member's driver: only it knows whether a frame really left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PortStats {
    /// Frames received on the port (every frame handed to `handle_rx`).
    pub rx_packets: u64,
    /// Bytes received on the port.
    pub rx_bytes: u64,
    /// Frames the bond delivered to the host from this port.
    pub rx_delivered: u64,
    /// Frames received on an inactive port and dropped (Linux exact-match delivery).
    pub rx_dropped_inactive: u64,
    /// Control frames (gratuitous ARP, unsolicited NA) sent on this port.
    pub tx_control: u64,
}

/// A port's state inside the bond.
#[derive(Debug, Clone)]
pub(crate) struct Port {
    pub(crate) name: IfName,
    pub(crate) perm_mac: EthernetAddress,
    /// The MAC the bond wants this port to carry.
    pub(crate) mac: EthernetAddress,
    /// `mac` changed and the adapter has not been told yet.
    pub(crate) mac_pending: bool,
    /// Last carrier sample (Linux `bond_slave_is_up`).
    pub(crate) carrier: bool,
    pub(crate) speed_mbps: Option<u32>,
    pub(crate) duplex: Duplex,
    pub(crate) link: LinkState,
    /// When a `Fail` or `Back` state ends.
    pub(crate) link_deadline: Option<Instant>,
    pub(crate) link_failure_count: u32,
    /// Linux "active" (as opposed to "backup") slave state.
    pub(crate) active: bool,
    /// Frames from this port are not delivered to the bond (Linux `slave->inactive`).
    pub(crate) inactive: bool,
    pub(crate) prio: i32,
    pub(crate) queue_id: u16,
    pub(crate) last_link_up: Option<Instant>,
    pub(crate) stats: PortStats,
    /// 802.3ad state (unused in the other modes).
    pub(crate) lacp: LacpPort,
}

impl Port {
    pub(crate) fn new(cfg: &PortConfig) -> Self {
        Self {
            name: cfg.name.clone(),
            perm_mac: cfg.perm_mac,
            mac: cfg.perm_mac,
            mac_pending: false,
            carrier: cfg.link.up,
            speed_mbps: cfg.link.speed_mbps,
            duplex: cfg.link.duplex,
            link: LinkState::Down,
            link_deadline: None,
            link_failure_count: 0,
            active: false,
            inactive: false,
            prio: cfg.prio,
            queue_id: cfg.queue_id,
            last_link_up: None,
            stats: PortStats::default(),
            lacp: LacpPort::new(0, cfg.actor_port_prio),
        }
    }

    /// Linux `bond_slave_can_tx`: carrier, link up, and in the active state.
    pub(crate) fn can_tx(&self) -> bool {
        self.carrier && self.link == LinkState::Up && self.active
    }

    pub(crate) fn set_mac(&mut self, mac: EthernetAddress) {
        if self.mac != mac {
            self.mac = mac;
            self.mac_pending = true;
        }
    }
}

/// A read-only snapshot of one port, for status displays and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortStatus<'a> {
    /// The port's handle.
    pub id: PortId,
    /// Interface name.
    pub name: &'a str,
    /// Permanent MAC.
    pub perm_mac: EthernetAddress,
    /// The MAC the bond wants the port to carry now.
    pub mac: EthernetAddress,
    /// Last carrier sample.
    pub carrier: bool,
    /// Link monitor state.
    pub link: LinkState,
    /// Speed in Mbit/s, if known.
    pub speed_mbps: Option<u32>,
    /// Duplex.
    pub duplex: Duplex,
    /// Times the link monitor declared the link down.
    pub link_failure_count: u32,
    /// Whether the port is in the active (not backup) state.
    pub active: bool,
    /// Failover priority.
    pub prio: i32,
    /// Queue id.
    pub queue_id: u16,
    /// Counters.
    pub stats: PortStats,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_set() {
        let mut s = PortSet::EMPTY;
        s.insert(PortId(0));
        s.insert(PortId(31));
        assert_eq!(s.len(), 2);
        assert!(s.contains(PortId(31)));
        assert!(!s.contains(PortId(1)));
        let v: heapless::Vec<PortId, 4> = s.iter().collect();
        assert_eq!(&v[..], &[PortId(0), PortId(31)]);
    }

    #[test]
    fn port_config_names() {
        let mac = EthernetAddress([2, 0, 0, 0, 0, 1]);
        assert!(PortConfig::new("eth0", mac, LinkSample::DOWN).is_some());
        assert!(PortConfig::new("", mac, LinkSample::DOWN).is_none());
        assert!(PortConfig::new("a-very-long-name0", mac, LinkSample::DOWN).is_none());
    }
}
