//! The bond's configuration: one field per Linux bonding option, Linux defaults.
//!
//! Values are stored as the user means them (milliseconds, names); parsing, validation and
//! rendering of the kernel's option grammar live in [`crate::options`], driven by one table.

use crate::time::Duration;
use crate::wire::EthernetAddress;

/// Longest interface name, as Linux's IFNAMSIZ (16) less the terminating NUL.
pub const IFNAME_MAX: usize = 15;
/// At most this many `arp_ip_target` / `ns_ip6_target` addresses (BOND_MAX_ARP_TARGETS).
pub const MAX_ARP_TARGETS: usize = 16;

/// An interface name such as `eth0`.
pub type IfName = heapless::String<IFNAME_MAX>;

macro_rules! linux_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $var:ident = $num:literal => $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        pub enum $name { $($(#[$vm])* $var = $num),+ }

        impl $name {
            /// Every value, in Linux's numeric order.
            pub const ALL: &'static [Self] = &[$(Self::$var),+];
            /// Linux's name for the value (`/proc` and sysfs spelling).
            pub const fn name(self) -> &'static str {
                match self { $(Self::$var => $text),+ }
            }
            /// Linux's number for the value.
            pub const fn number(self) -> u8 {
                self as u8
            }
            /// The value with Linux number `n`.
            pub fn from_number(n: u64) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| u64::from(v.number()) == n)
            }
            /// The value with Linux name `s`.
            pub fn from_name(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.name() == s)
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

linux_enum! {
    /// Bonding mode (`mode=`).
    Mode {
        /// balance-rr: frames in turn on each port.
        RoundRobin = 0 => "balance-rr",
        /// active-backup: one port carries everything, the others stand by.
        ActiveBackup = 1 => "active-backup",
        /// balance-xor: a hash of the frame picks the port.
        Xor = 2 => "balance-xor",
        /// broadcast: every frame on every port.
        Broadcast = 3 => "broadcast",
        /// 802.3ad: IEEE 802.1AX link aggregation with LACP.
        Lacp = 4 => "802.3ad",
        /// balance-tlb: adaptive transmit load balancing.
        Tlb = 5 => "balance-tlb",
        /// balance-alb: adaptive load balancing (TLB plus receive balancing by ARP).
        Alb = 6 => "balance-alb",
    }
}

linux_enum! {
    /// Transmit hash policy (`xmit_hash_policy=`).
    XmitHashPolicy {
        /// MAC addresses and EtherType.
        Layer2 = 0 => "layer2",
        /// IP addresses and L4 ports.
        Layer34 = 1 => "layer3+4",
        /// MAC and IP addresses.
        Layer23 = 2 => "layer2+3",
        /// layer2+3 over the innermost headers.
        Encap23 = 3 => "encap2+3",
        /// layer3+4 over the innermost headers.
        Encap34 = 4 => "encap3+4",
        /// VLAN id and source MAC.
        VlanSrcMac = 5 => "vlan+srcmac",
    }
}

linux_enum! {
    /// The rate at which we ask the LACP partner to send (`lacp_rate=`).
    LacpRate {
        /// Every 30 seconds.
        Slow = 0 => "slow",
        /// Every second.
        Fast = 1 => "fast",
    }
}

linux_enum! {
    /// 802.3ad aggregator selection policy (`ad_select=`).
    AdSelect {
        /// Reselect only when the active aggregator has no ports up.
        Stable = 0 => "stable",
        /// The aggregator with the most bandwidth.
        Bandwidth = 1 => "bandwidth",
        /// The aggregator with the most ports.
        Count = 2 => "count",
        /// The aggregator whose ports have the best actor port priority.
        ActorPortPrio = 3 => "actor_port_prio",
    }
}

linux_enum! {
    /// ARP validation (`arp_validate=`).
    ArpValidate {
        /// No validation.
        None = 0 => "none",
        /// Validate on the active port only.
        Active = 1 => "active",
        /// Validate on backup ports only.
        Backup = 2 => "backup",
        /// Validate on every port.
        All = 3 => "all",
        /// Only ARP frames count as traffic.
        Filter = 4 => "filter",
        /// filter plus active.
        FilterActive = 5 => "filter_active",
        /// filter plus backup.
        FilterBackup = 6 => "filter_backup",
    }
}

linux_enum! {
    /// How many ARP targets must answer (`arp_all_targets=`).
    ArpAllTargets {
        /// Any one target.
        Any = 0 => "any",
        /// All targets.
        All = 1 => "all",
    }
}

linux_enum! {
    /// When the primary port takes over again after it recovers (`primary_reselect=`).
    PrimaryReselect {
        /// As soon as it is up.
        Always = 0 => "always",
        /// Only if it is faster, or as fast with better duplex, than the current port.
        Better = 1 => "better",
        /// Only when the current active port fails.
        Failure = 2 => "failure",
    }
}

linux_enum! {
    /// How the bond handles member MAC addresses in active-backup (`fail_over_mac=`).
    FailOverMac {
        /// Every port takes the bond MAC when it joins.
        None = 0 => "none",
        /// The bond MAC follows the active port; port MACs never change.
        Active = 1 => "active",
        /// Only the active port carries the bond MAC; MACs move on failover.
        Follow = 2 => "follow",
    }
}

impl Mode {
    /// Modes that elect one current active port (Linux `bond_uses_primary`).
    pub const fn uses_primary(self) -> bool {
        matches!(self, Self::ActiveBackup | Self::Tlb | Self::Alb)
    }

    /// Modes that pick a port with `xmit_hash_policy` (Linux `bond_mode_uses_xmit_hash`).
    pub const fn uses_xmit_hash(self) -> bool {
        matches!(self, Self::Xor | Self::Lacp)
    }

    /// Modes that support the ARP monitor.
    pub const fn supports_arp_monitor(self) -> bool {
        !matches!(self, Self::Lacp | Self::Tlb | Self::Alb)
    }

    /// The `Bonding Mode:` text of `/proc/net/bonding`.
    pub const fn description(self) -> &'static str {
        match self {
            Self::RoundRobin => "load balancing (round-robin)",
            Self::ActiveBackup => "fault-tolerance (active-backup)",
            Self::Xor => "load balancing (xor)",
            Self::Broadcast => "fault-tolerance (broadcast)",
            Self::Lacp => "IEEE 802.3ad Dynamic link aggregation",
            Self::Tlb => "transmit load balancing",
            Self::Alb => "adaptive load balancing",
        }
    }
}

/// Every bonding option, with Linux's defaults.
///
/// Build one with [`Config::default`] and assign fields, or parse the kernel's option grammar
/// with [`Config::parse`]; change one option with Linux's runtime rules with
/// [`crate::options::set_option`] (or `Bond::set_option` on a live bond). Durations are stored in milliseconds as
/// given; [`Config::updelay`] and friends return the effective values (rounded down to a multiple
/// of `miimon`, as Linux stores them in monitor ticks).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// `mode`.
    pub mode: Mode,
    /// `miimon`, link sampling period in ms; 0 disables the MII monitor.
    pub miimon: u32,
    /// `updelay` in ms as given.
    pub updelay_ms: u32,
    /// `downdelay` in ms as given.
    pub downdelay_ms: u32,
    /// `use_carrier` (obsolete in current kernels; kept for compatibility).
    pub use_carrier: bool,
    /// `arp_interval` in ms; 0 disables the ARP monitor.
    pub arp_interval: u32,
    /// `arp_ip_target`, IPv4 addresses in network order.
    pub arp_ip_target: heapless::Vec<[u8; 4], MAX_ARP_TARGETS>,
    /// `ns_ip6_target`, IPv6 addresses in network order.
    pub ns_ip6_target: heapless::Vec<[u8; 16], MAX_ARP_TARGETS>,
    /// `arp_validate`.
    pub arp_validate: ArpValidate,
    /// `arp_all_targets`.
    pub arp_all_targets: ArpAllTargets,
    /// `arp_missed_max`.
    pub arp_missed_max: u8,
    /// `lacp_rate`.
    pub lacp_rate: LacpRate,
    /// `lacp_active`.
    pub lacp_active: bool,
    /// `ad_select`.
    pub ad_select: AdSelect,
    /// `ad_actor_sys_prio`.
    pub ad_actor_sys_prio: u16,
    /// `ad_actor_system`; all zeros means "use the bond MAC".
    pub ad_actor_system: EthernetAddress,
    /// `ad_user_port_key` (upper 10 bits of the LACP key).
    pub ad_user_port_key: u16,
    /// `coupled_control`.
    pub coupled_control: bool,
    /// `broadcast_neighbor`.
    pub broadcast_neighbor: bool,
    /// `lacp_strict`.
    pub lacp_strict: bool,
    /// `lacp_fallback` (ours, not Linux's): while no port hears an LACP partner, one port keeps
    /// carrying traffic — even with `lacp_strict` — and the status says so (like Open vSwitch's
    /// `lacp-fallback-ab`).
    pub lacp_fallback: bool,
    /// `min_links`.
    pub min_links: u32,
    /// `xmit_hash_policy`.
    pub xmit_hash_policy: XmitHashPolicy,
    /// `primary`, a port name.
    pub primary: Option<IfName>,
    /// `primary_reselect`.
    pub primary_reselect: PrimaryReselect,
    /// `active_slave`: the port to make active, by name (applied on a running bond).
    pub active_slave: Option<IfName>,
    /// `fail_over_mac`.
    pub fail_over_mac: FailOverMac,
    /// `num_grat_arp` and its alias `num_unsol_na` (one value in Linux).
    pub num_peer_notif: u8,
    /// `peer_notif_delay` in ms as given; 0 means "every miimon".
    pub peer_notif_delay_ms: u32,
    /// `all_slaves_active`.
    pub all_slaves_active: bool,
    /// `packets_per_slave`; 0 picks a random port per frame.
    pub packets_per_slave: u16,
    /// `resend_igmp`.
    pub resend_igmp: u8,
    /// `tlb_dynamic_lb`.
    pub tlb_dynamic_lb: bool,
    /// `lp_interval` in seconds.
    pub lp_interval: u32,
    /// `max_bonds` (module-load option; accepted and reported only).
    pub max_bonds: u32,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            mode: Mode::RoundRobin,
            miimon: 0,
            updelay_ms: 0,
            downdelay_ms: 0,
            use_carrier: true,
            arp_interval: 0,
            arp_ip_target: heapless::Vec::new(),
            ns_ip6_target: heapless::Vec::new(),
            arp_validate: ArpValidate::None,
            arp_all_targets: ArpAllTargets::Any,
            arp_missed_max: 2,
            lacp_rate: LacpRate::Slow,
            lacp_active: true,
            ad_select: AdSelect::Stable,
            ad_actor_sys_prio: 65535,
            ad_actor_system: EthernetAddress::ZERO,
            ad_user_port_key: 0,
            coupled_control: true,
            broadcast_neighbor: false,
            lacp_strict: false,
            lacp_fallback: false,
            min_links: 0,
            xmit_hash_policy: XmitHashPolicy::Layer2,
            primary: None,
            primary_reselect: PrimaryReselect::Always,
            active_slave: None,
            fail_over_mac: FailOverMac::None,
            num_peer_notif: 1,
            peer_notif_delay_ms: 0,
            all_slaves_active: false,
            packets_per_slave: 1,
            resend_igmp: 1,
            tlb_dynamic_lb: true,
            lp_interval: 1,
            max_bonds: 1,
        }
    }
}

impl Config {
    /// `miimon` as a duration (zero when the MII monitor is off).
    pub fn miimon_period(&self) -> Duration {
        Duration::from_millis(u64::from(self.miimon))
    }

    /// Round `ms` down to a multiple of `miimon`, as Linux does when it stores delays in ticks.
    fn in_mii_ticks(&self, ms: u32) -> Duration {
        if self.miimon == 0 {
            return Duration::ZERO;
        }
        Duration::from_millis(u64::from(ms / self.miimon * self.miimon))
    }

    /// Effective `updelay` (a multiple of `miimon`; zero when `miimon` is 0).
    pub fn updelay(&self) -> Duration {
        self.in_mii_ticks(self.updelay_ms)
    }

    /// Effective `downdelay` (a multiple of `miimon`; zero when `miimon` is 0).
    pub fn downdelay(&self) -> Duration {
        self.in_mii_ticks(self.downdelay_ms)
    }

    /// Effective `peer_notif_delay` (a multiple of `miimon`; zero when `miimon` is 0).
    pub fn peer_notif_delay(&self) -> Duration {
        self.in_mii_ticks(self.peer_notif_delay_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_names_and_numbers() {
        assert_eq!(Mode::from_name("802.3ad"), Some(Mode::Lacp));
        assert_eq!(Mode::from_number(6), Some(Mode::Alb));
        assert_eq!(Mode::from_number(7), None);
        assert_eq!(XmitHashPolicy::Layer23.number(), 2);
        assert_eq!(
            XmitHashPolicy::from_name("vlan+srcmac"),
            Some(XmitHashPolicy::VlanSrcMac)
        );
        assert_eq!(FailOverMac::Follow.to_string_buf().as_str(), "follow");
    }

    #[test]
    fn delays_round_to_miimon() {
        let mut c = Config {
            miimon: 100,
            updelay_ms: 250,
            downdelay_ms: 99,
            ..Config::default()
        };
        assert_eq!(c.updelay(), Duration::from_millis(200));
        assert_eq!(c.downdelay(), Duration::ZERO);
        c.miimon = 0;
        assert_eq!(c.updelay(), Duration::ZERO);
    }

    impl FailOverMac {
        fn to_string_buf(self) -> heapless::String<16> {
            use core::fmt::Write;
            let mut s = heapless::String::new();
            write!(s, "{self}").unwrap();
            s
        }
    }
}
