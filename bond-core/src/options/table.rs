//! The option table: one entry per Linux bonding option, in the spirit of Linux `bond_opts[]`
//! (drivers/net/bonding/bond_options.c).
//!
//! Parsing, validation, runtime changes and rendering all read this table, so an option's name,
//! value grammar, default, mode applicability and state requirements are written down once.

use core::fmt;

use crate::config::{
    AdSelect, ArpAllTargets, ArpValidate, Config, FailOverMac, LacpRate, Mode, PrimaryReselect,
    XmitHashPolicy,
};

/// Linux `INT_MAX`: the upper bound of the millisecond and count options stored as C `int`.
pub const INT_MAX: u64 = i32::MAX as u64;

/// One spelled value of an option: a name and the number Linux stores for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NamedValue {
    /// Linux's spelling, e.g. `active-backup` or `maxval`.
    pub name: &'static str,
    /// The number it stands for.
    pub value: u64,
}

impl NamedValue {
    /// A name for `value`.
    pub const fn new(name: &'static str, value: u64) -> Self {
        Self { name, value }
    }
}

/// A set of bonding modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModeSet(u8);

impl ModeSet {
    /// Every mode.
    pub const ALL: Self = Self(0x7f);
    /// Modes with an ARP monitor (Linux `bond_mode_uses_arp`).
    pub const ARP: Self = Self::of(&[
        Mode::RoundRobin,
        Mode::ActiveBackup,
        Mode::Xor,
        Mode::Broadcast,
    ]);
    /// Modes that elect one active port (Linux `bond_uses_primary`).
    pub const PRIMARY: Self = Self::of(&[Mode::ActiveBackup, Mode::Tlb, Mode::Alb]);
    /// 802.3ad only.
    pub const LACP: Self = Self::of(&[Mode::Lacp]);
    /// balance-tlb and balance-alb.
    pub const TLB: Self = Self::of(&[Mode::Tlb, Mode::Alb]);
    /// balance-rr only.
    pub const ROUND_ROBIN: Self = Self::of(&[Mode::RoundRobin]);

    /// The set of `modes`.
    pub const fn of(modes: &[Mode]) -> Self {
        let mut bits = 0;
        let mut i = 0;
        while i < modes.len() {
            bits |= 1 << modes[i].number();
            i += 1;
        }
        Self(bits)
    }

    /// Whether `mode` is in the set.
    pub const fn contains(self, mode: Mode) -> bool {
        self.0 & (1 << mode.number()) != 0
    }

    /// The modes of the set, in Linux's numeric order.
    pub fn iter(self) -> impl Iterator<Item = Mode> {
        Mode::ALL.iter().copied().filter(move |m| self.contains(*m))
    }
}

/// Lists the modes as prose: `active-backup, balance-tlb and balance-alb`.
impl fmt::Display for ModeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.iter().count();
        for (i, mode) in self.iter().enumerate() {
            let sep = match i {
                0 => "",
                _ if i + 1 == count => " and ",
                _ => ", ",
            };
            write!(f, "{sep}{mode}")?;
        }
        Ok(())
    }
}

/// Requirements and properties of an option (Linux `BOND_OPTFLAG_*` and a few of our own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionFlags(u8);

impl OptionFlags {
    /// No flag.
    pub const NONE: Self = Self(0);
    /// The bond must be down to change it (Linux `BOND_OPTFLAG_IFDOWN`).
    pub const REQUIRES_DOWN: Self = Self(1);
    /// The bond must have no ports to change it (Linux `BOND_OPTFLAG_NOSLAVES`).
    pub const REQUIRES_NO_PORTS: Self = Self(2);
    /// Another name for the option before it in the table; never rendered.
    pub const ALIAS: Self = Self(4);
    /// Only meaningful when the bond is created (a module parameter without a sysfs file).
    pub const LOAD_TIME_ONLY: Self = Self(8);
    /// The word `default` selects the default value (Linux `BOND_VALFLAG_DEFAULT` in the table).
    pub const DEFAULT_WORD: Self = Self(16);

    /// Both sets of flags.
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// Whether every flag of `other` is set.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
}

/// The grammar of an option's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// One of the names, or its number.
    Enum(&'static [NamedValue]),
    /// A decimal number in `min..=max`, or one of the words.
    Int {
        /// Smallest value.
        min: u64,
        /// Largest value.
        max: u64,
        /// Special words Linux accepts (`off`, `maxval`, ...).
        words: &'static [NamedValue],
    },
    /// `0`/`1`, or `off`/`on`.
    Bool,
    /// A unicast MAC address; all zeros means "unset".
    Mac,
    /// An interface name; empty means "none".
    IfName,
    /// Up to [`MAX_ARP_TARGETS`](crate::config::MAX_ARP_TARGETS) comma-separated IPv4 addresses.
    Ipv4List,
    /// Up to [`MAX_ARP_TARGETS`](crate::config::MAX_ARP_TARGETS) comma-separated IPv6 addresses.
    Ipv6List,
}

/// Where an option lives in [`Config`]. Scalars go through accessors so that one code path can
/// parse, compare and render every number, enum and boolean.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Slot {
    Scalar {
        get: fn(&Config) -> u64,
        set: fn(&mut Config, u64),
    },
    AdActorSystem,
    Primary,
    ActiveSlave,
    ArpTargets,
    NsTargets,
}

/// A `Config` field type that travels as a `u64` (Linux `bond_opt_value.value`).
pub(crate) trait Scalar: Sized {
    fn to_u64(self) -> u64;
    fn from_u64(value: u64) -> Option<Self>;
}

macro_rules! scalar_int {
    ($($t:ty),+) => {$(
        impl Scalar for $t {
            fn to_u64(self) -> u64 {
                u64::from(self)
            }
            fn from_u64(value: u64) -> Option<Self> {
                Self::try_from(value).ok()
            }
        }
    )+};
}
scalar_int!(u8, u16, u32);

impl Scalar for bool {
    fn to_u64(self) -> u64 {
        u64::from(self)
    }
    fn from_u64(value: u64) -> Option<Self> {
        match value {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }
}

macro_rules! scalar_enum {
    ($($t:ty),+) => {$(
        impl Scalar for $t {
            fn to_u64(self) -> u64 {
                u64::from(self.number())
            }
            fn from_u64(value: u64) -> Option<Self> {
                Self::from_number(value)
            }
        }
    )+};
}
scalar_enum!(
    Mode,
    XmitHashPolicy,
    LacpRate,
    AdSelect,
    ArpValidate,
    ArpAllTargets,
    PrimaryReselect,
    FailOverMac
);

/// Accessors for a scalar `Config` field. The value reaching `set` has been validated against the
/// table, so the conversion cannot fail; if it ever did, the field is left as it was.
macro_rules! scalar {
    ($field:ident) => {
        Slot::Scalar {
            get: |c| Scalar::to_u64(c.$field),
            set: |c, v| {
                if let Some(x) = Scalar::from_u64(v) {
                    c.$field = x;
                }
            },
        }
    };
}

/// The name/number table of a `linux_enum!` type, built from its `ALL` at compile time so that
/// the spellings live only in `config.rs`.
macro_rules! enum_values {
    ($t:ty) => {{
        const VALUES: [NamedValue; <$t>::ALL.len()] = {
            let mut out = [NamedValue::new("", 0); <$t>::ALL.len()];
            let mut i = 0;
            while i < out.len() {
                let v = <$t>::ALL[i];
                out[i] = NamedValue::new(v.name(), v.number() as u64);
                i += 1;
            }
            out
        };
        &VALUES
    }};
}

/// Words of Linux `bond_intmax_tbl` (miimon, updelay, downdelay, arp_interval, min_links).
const INTMAX_WORDS: &[NamedValue] = &[
    NamedValue::new("off", 0),
    NamedValue::new("maxval", INT_MAX),
];
/// `off`/`maxval` up to 255 (num_grat_arp, num_unsol_na, resend_igmp).
const BYTE_WORDS: &[NamedValue] = &[NamedValue::new("off", 0), NamedValue::new("maxval", 255)];
const PPS_WORDS: &[NamedValue] = &[NamedValue::new("maxval", 65535)];
const PEER_NOTIF_DELAY_WORDS: &[NamedValue] = &[
    NamedValue::new("off", 0),
    NamedValue::new("maxval", 300_000),
];
const LP_INTERVAL_WORDS: &[NamedValue] = &[
    NamedValue::new("minval", 1),
    NamedValue::new("maxval", INT_MAX),
];
const SYS_PRIO_WORDS: &[NamedValue] = &[
    NamedValue::new("minval", 1),
    NamedValue::new("maxval", 65535),
];
const PORT_KEY_WORDS: &[NamedValue] = &[
    NamedValue::new("minval", 0),
    NamedValue::new("maxval", 1023),
];
const MISSED_MAX_WORDS: &[NamedValue] =
    &[NamedValue::new("minval", 1), NamedValue::new("maxval", 255)];
/// The words of a boolean option (every Linux 0/1 table spells them `off`/`on`).
pub(crate) const OFF_ON: &[NamedValue] = &[NamedValue::new("off", 0), NamedValue::new("on", 1)];

const fn int(min: u64, max: u64, words: &'static [NamedValue]) -> ValueKind {
    ValueKind::Int { min, max, words }
}

const DOWN: OptionFlags = OptionFlags::REQUIRES_DOWN;
const DEFAULT: OptionFlags = OptionFlags::DEFAULT_WORD;
const DOWN_DEFAULT: OptionFlags = DOWN.union(DEFAULT);

macro_rules! option_ids {
    ($($(#[$m:meta])* $id:ident),+ $(,)?) => {
        /// Identifies an option; the discriminant is its index in [`OPTIONS`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        #[repr(u8)]
        pub enum OptionId { $($(#[$m])* $id),+ }

        impl OptionId {
            /// Every option, in table order.
            pub const ALL: &'static [Self] = &[$(Self::$id),+];
        }
    };
}

option_ids! {
    /// `mode`.
    Mode,
    /// `miimon`.
    Miimon,
    /// `updelay`.
    Updelay,
    /// `downdelay`.
    Downdelay,
    /// `use_carrier`.
    UseCarrier,
    /// `arp_interval`.
    ArpInterval,
    /// `arp_ip_target`.
    ArpIpTarget,
    /// `ns_ip6_target`.
    NsIp6Target,
    /// `arp_validate`.
    ArpValidate,
    /// `arp_all_targets`.
    ArpAllTargets,
    /// `arp_missed_max`.
    ArpMissedMax,
    /// `lacp_rate`.
    LacpRate,
    /// `lacp_active`.
    LacpActive,
    /// `ad_select`.
    AdSelect,
    /// `ad_actor_sys_prio`.
    AdActorSysPrio,
    /// `ad_actor_system`.
    AdActorSystem,
    /// `ad_user_port_key`.
    AdUserPortKey,
    /// `coupled_control`.
    CoupledControl,
    /// `broadcast_neighbor`.
    BroadcastNeighbor,
    /// `lacp_strict`.
    LacpStrict,
    /// `lacp_fallback` (not a Linux option).
    LacpFallback,
    /// `min_links`.
    MinLinks,
    /// `xmit_hash_policy`.
    XmitHashPolicy,
    /// `primary`.
    Primary,
    /// `primary_reselect`.
    PrimaryReselect,
    /// `active_slave`.
    ActiveSlave,
    /// `fail_over_mac`.
    FailOverMac,
    /// `num_grat_arp`.
    NumGratArp,
    /// `num_unsol_na` (alias of `num_grat_arp`).
    NumUnsolNa,
    /// `peer_notif_delay`.
    PeerNotifDelay,
    /// `all_slaves_active`.
    AllSlavesActive,
    /// `packets_per_slave`.
    PacketsPerSlave,
    /// `resend_igmp`.
    ResendIgmp,
    /// `tlb_dynamic_lb`.
    TlbDynamicLb,
    /// `lp_interval`.
    LpInterval,
    /// `max_bonds`.
    MaxBonds,
}

impl OptionId {
    /// The option's table entry.
    pub fn spec(self) -> &'static OptionSpec {
        &OPTIONS[self as usize]
    }

    /// The option's Linux name.
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// The option whose value this one sets: itself, or the option it is an alias of.
    pub const fn canonical(self) -> Self {
        match self {
            Self::NumUnsolNa => Self::NumGratArp,
            other => other,
        }
    }
}

impl fmt::Display for OptionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One row of the option table.
#[derive(Debug, Clone, Copy)]
pub struct OptionSpec {
    /// The option's identifier (its index in [`OPTIONS`]).
    pub id: OptionId,
    /// Linux's name, as in `modprobe bonding NAME=...` and `/sys/class/net/bondX/bonding/NAME`.
    pub name: &'static str,
    /// One line saying what the option does.
    pub description: &'static str,
    /// The value grammar.
    pub kind: ValueKind,
    /// The default, spelled as it renders (empty for "none").
    pub default: &'static str,
    /// Modes in which Linux accepts the option (the complement of Linux `unsuppmodes`); a runtime
    /// change in any other mode fails with "option not supported in mode".
    pub modes: ModeSet,
    /// State requirements and properties.
    pub flags: OptionFlags,
    pub(crate) slot: Slot,
}

/// Every option, indexed by [`OptionId`]; the order is the render order.
pub static OPTIONS: [OptionSpec; OptionId::ALL.len()] = [
    OptionSpec {
        id: OptionId::Mode,
        name: "mode",
        description: "bonding policy: how frames are spread over the ports",
        kind: ValueKind::Enum(enum_values!(Mode)),
        default: "balance-rr",
        modes: ModeSet::ALL,
        flags: OptionFlags::REQUIRES_DOWN
            .union(OptionFlags::REQUIRES_NO_PORTS)
            .union(DEFAULT),
        slot: scalar!(mode),
    },
    OptionSpec {
        id: OptionId::Miimon,
        name: "miimon",
        description: "MII link sampling period in milliseconds; 0 turns the MII monitor off",
        kind: int(0, INT_MAX, INTMAX_WORDS),
        default: "0",
        modes: ModeSet::ALL,
        flags: DEFAULT,
        slot: scalar!(miimon),
    },
    OptionSpec {
        id: OptionId::Updelay,
        name: "updelay",
        description: "milliseconds a link must stay up before a port is used (multiple of miimon)",
        kind: int(0, INT_MAX, INTMAX_WORDS),
        default: "0",
        modes: ModeSet::ALL,
        flags: DEFAULT,
        slot: scalar!(updelay_ms),
    },
    OptionSpec {
        id: OptionId::Downdelay,
        name: "downdelay",
        description:
            "milliseconds a link must stay down before a port is dropped (multiple of miimon)",
        kind: int(0, INT_MAX, INTMAX_WORDS),
        default: "0",
        modes: ModeSet::ALL,
        flags: DEFAULT,
        slot: scalar!(downdelay_ms),
    },
    OptionSpec {
        id: OptionId::UseCarrier,
        name: "use_carrier",
        description: "read link state from the carrier (1) or from MII registers (0); obsolete",
        kind: ValueKind::Bool,
        default: "1",
        modes: ModeSet::ALL,
        flags: DEFAULT,
        slot: scalar!(use_carrier),
    },
    OptionSpec {
        id: OptionId::ArpInterval,
        name: "arp_interval",
        description: "ARP monitor probe period in milliseconds; 0 turns the ARP monitor off",
        kind: int(0, INT_MAX, INTMAX_WORDS),
        default: "0",
        modes: ModeSet::ARP,
        flags: DEFAULT,
        slot: scalar!(arp_interval),
    },
    OptionSpec {
        id: OptionId::ArpIpTarget,
        name: "arp_ip_target",
        description: "IPv4 addresses the ARP monitor probes",
        kind: ValueKind::Ipv4List,
        default: "",
        modes: ModeSet::ALL,
        flags: OptionFlags::NONE,
        slot: Slot::ArpTargets,
    },
    OptionSpec {
        id: OptionId::NsIp6Target,
        name: "ns_ip6_target",
        description: "IPv6 addresses the ARP monitor probes with neighbour solicitations",
        kind: ValueKind::Ipv6List,
        default: "",
        modes: ModeSet::ALL,
        flags: OptionFlags::NONE,
        slot: Slot::NsTargets,
    },
    OptionSpec {
        id: OptionId::ArpValidate,
        name: "arp_validate",
        description: "which ports check that ARP replies come from the targets",
        kind: ValueKind::Enum(enum_values!(ArpValidate)),
        default: "none",
        modes: ModeSet::ARP,
        flags: DEFAULT,
        slot: scalar!(arp_validate),
    },
    OptionSpec {
        id: OptionId::ArpAllTargets,
        name: "arp_all_targets",
        description: "whether any or all ARP targets must answer for a port to count as up",
        kind: ValueKind::Enum(enum_values!(ArpAllTargets)),
        default: "any",
        modes: ModeSet::ALL,
        flags: DEFAULT,
        slot: scalar!(arp_all_targets),
    },
    OptionSpec {
        id: OptionId::ArpMissedMax,
        name: "arp_missed_max",
        description: "ARP intervals without an answer before a port is declared down",
        kind: int(1, 255, MISSED_MAX_WORDS),
        default: "2",
        modes: ModeSet::ARP,
        flags: DEFAULT,
        slot: scalar!(arp_missed_max),
    },
    OptionSpec {
        id: OptionId::LacpRate,
        name: "lacp_rate",
        description: "LACPDU rate asked of the partner: slow (30 s) or fast (1 s)",
        kind: ValueKind::Enum(enum_values!(LacpRate)),
        default: "slow",
        modes: ModeSet::LACP,
        // Linux's lacp_rate table flags no default, so the word `default` is refused.
        flags: DOWN,
        slot: scalar!(lacp_rate),
    },
    OptionSpec {
        id: OptionId::LacpActive,
        name: "lacp_active",
        description: "send LACPDUs unprompted (1) or only when spoken to (0)",
        kind: ValueKind::Bool,
        default: "1",
        modes: ModeSet::LACP,
        flags: DOWN_DEFAULT,
        slot: scalar!(lacp_active),
    },
    OptionSpec {
        id: OptionId::AdSelect,
        name: "ad_select",
        description: "802.3ad aggregator selection policy",
        kind: ValueKind::Enum(enum_values!(AdSelect)),
        default: "stable",
        // Linux accepts ad_select in every mode; it only has an effect in 802.3ad.
        modes: ModeSet::ALL,
        flags: DOWN_DEFAULT,
        slot: scalar!(ad_select),
    },
    OptionSpec {
        id: OptionId::AdActorSysPrio,
        name: "ad_actor_sys_prio",
        description: "LACP actor system priority",
        kind: int(1, 65535, SYS_PRIO_WORDS),
        default: "65535",
        modes: ModeSet::LACP,
        flags: DEFAULT,
        slot: scalar!(ad_actor_sys_prio),
    },
    OptionSpec {
        id: OptionId::AdActorSystem,
        name: "ad_actor_system",
        description: "LACP actor system MAC address; 00:00:00:00:00:00 uses the bond's MAC",
        kind: ValueKind::Mac,
        default: "00:00:00:00:00:00",
        modes: ModeSet::LACP,
        flags: OptionFlags::NONE,
        slot: Slot::AdActorSystem,
    },
    OptionSpec {
        id: OptionId::AdUserPortKey,
        name: "ad_user_port_key",
        description: "upper 10 bits of the LACP port key",
        kind: int(0, 1023, PORT_KEY_WORDS),
        default: "0",
        modes: ModeSet::LACP,
        flags: DOWN_DEFAULT,
        slot: scalar!(ad_user_port_key),
    },
    OptionSpec {
        id: OptionId::CoupledControl,
        name: "coupled_control",
        description: "collect and distribute together (1) or independently (0)",
        kind: ValueKind::Bool,
        default: "1",
        modes: ModeSet::LACP,
        flags: DOWN_DEFAULT,
        slot: scalar!(coupled_control),
    },
    OptionSpec {
        id: OptionId::BroadcastNeighbor,
        name: "broadcast_neighbor",
        description: "send ARP and neighbour discovery frames on every port",
        kind: ValueKind::Bool,
        default: "0",
        modes: ModeSet::LACP,
        flags: DEFAULT,
        slot: scalar!(broadcast_neighbor),
    },
    OptionSpec {
        id: OptionId::LacpStrict,
        name: "lacp_strict",
        description: "carrier only while at least min_links ports collect and distribute",
        kind: ValueKind::Bool,
        default: "0",
        modes: ModeSet::LACP,
        flags: DEFAULT,
        slot: scalar!(lacp_strict),
    },
    OptionSpec {
        id: OptionId::LacpFallback,
        name: "lacp_fallback",
        description: "not in Linux: keep one port carrying traffic while no LACP partner is heard",
        kind: ValueKind::Bool,
        default: "0",
        modes: ModeSet::LACP,
        flags: DEFAULT,
        slot: scalar!(lacp_fallback),
    },
    OptionSpec {
        id: OptionId::MinLinks,
        name: "min_links",
        description: "ports that must be up before the bond reports carrier",
        kind: int(0, INT_MAX, INTMAX_WORDS),
        default: "0",
        modes: ModeSet::ALL,
        flags: DEFAULT,
        slot: scalar!(min_links),
    },
    OptionSpec {
        id: OptionId::XmitHashPolicy,
        name: "xmit_hash_policy",
        description: "headers hashed to pick a port in balance-xor, 802.3ad and balance-tlb",
        kind: ValueKind::Enum(enum_values!(XmitHashPolicy)),
        default: "layer2",
        modes: ModeSet::ALL,
        flags: DEFAULT,
        slot: scalar!(xmit_hash_policy),
    },
    OptionSpec {
        id: OptionId::Primary,
        name: "primary",
        description: "port preferred as the active one",
        kind: ValueKind::IfName,
        default: "",
        modes: ModeSet::PRIMARY,
        flags: OptionFlags::NONE,
        slot: Slot::Primary,
    },
    OptionSpec {
        id: OptionId::PrimaryReselect,
        name: "primary_reselect",
        description: "when a recovered primary port becomes active again",
        kind: ValueKind::Enum(enum_values!(PrimaryReselect)),
        default: "always",
        modes: ModeSet::ALL,
        flags: DEFAULT,
        slot: scalar!(primary_reselect),
    },
    OptionSpec {
        id: OptionId::ActiveSlave,
        name: "active_slave",
        description: "port to make active now; empty lets the bond choose",
        kind: ValueKind::IfName,
        default: "",
        modes: ModeSet::PRIMARY,
        flags: OptionFlags::NONE,
        slot: Slot::ActiveSlave,
    },
    OptionSpec {
        id: OptionId::FailOverMac,
        name: "fail_over_mac",
        description: "how active-backup moves MAC addresses on failover",
        kind: ValueKind::Enum(enum_values!(FailOverMac)),
        default: "none",
        modes: ModeSet::ALL,
        flags: OptionFlags::REQUIRES_NO_PORTS.union(DEFAULT),
        slot: scalar!(fail_over_mac),
    },
    OptionSpec {
        id: OptionId::NumGratArp,
        name: "num_grat_arp",
        description: "peer notifications (gratuitous ARP, unsolicited NA) sent after a failover",
        kind: int(0, 255, BYTE_WORDS),
        default: "1",
        modes: ModeSet::ALL,
        flags: DEFAULT,
        slot: scalar!(num_peer_notif),
    },
    OptionSpec {
        id: OptionId::NumUnsolNa,
        name: "num_unsol_na",
        description: "alias of num_grat_arp",
        kind: int(0, 255, BYTE_WORDS),
        default: "1",
        modes: ModeSet::ALL,
        flags: OptionFlags::ALIAS.union(DEFAULT),
        slot: scalar!(num_peer_notif),
    },
    OptionSpec {
        id: OptionId::PeerNotifDelay,
        name: "peer_notif_delay",
        description: "milliseconds between peer notifications (multiple of miimon; 0 = miimon)",
        // Linux's table has no default entry: `default` is refused.
        kind: int(0, 300_000, PEER_NOTIF_DELAY_WORDS),
        default: "0",
        modes: ModeSet::ALL,
        flags: OptionFlags::NONE,
        slot: scalar!(peer_notif_delay_ms),
    },
    OptionSpec {
        id: OptionId::AllSlavesActive,
        name: "all_slaves_active",
        description: "deliver frames received on inactive ports too",
        kind: ValueKind::Bool,
        default: "0",
        modes: ModeSet::ALL,
        flags: DEFAULT,
        slot: scalar!(all_slaves_active),
    },
    OptionSpec {
        id: OptionId::PacketsPerSlave,
        name: "packets_per_slave",
        description: "frames sent on a port before moving to the next; 0 picks a random port",
        kind: int(0, 65535, PPS_WORDS),
        default: "1",
        modes: ModeSet::ROUND_ROBIN,
        flags: DEFAULT,
        slot: scalar!(packets_per_slave),
    },
    OptionSpec {
        id: OptionId::ResendIgmp,
        name: "resend_igmp",
        description: "IGMP membership reports sent after a failover",
        kind: int(0, 255, BYTE_WORDS),
        default: "1",
        modes: ModeSet::ALL,
        flags: DEFAULT,
        slot: scalar!(resend_igmp),
    },
    OptionSpec {
        id: OptionId::TlbDynamicLb,
        name: "tlb_dynamic_lb",
        description: "balance by load (1) or by xmit_hash_policy (0) in balance-tlb",
        kind: ValueKind::Bool,
        default: "1",
        modes: ModeSet::TLB,
        flags: DOWN_DEFAULT,
        slot: scalar!(tlb_dynamic_lb),
    },
    OptionSpec {
        id: OptionId::LpInterval,
        name: "lp_interval",
        description: "seconds between learning packets sent for each port",
        kind: int(1, INT_MAX, LP_INTERVAL_WORDS),
        default: "1",
        modes: ModeSet::ALL,
        flags: DEFAULT,
        slot: scalar!(lp_interval),
    },
    OptionSpec {
        id: OptionId::MaxBonds,
        name: "max_bonds",
        description: "bonds the module creates when it loads",
        kind: int(0, INT_MAX, &[]),
        default: "1",
        modes: ModeSet::ALL,
        flags: OptionFlags::LOAD_TIME_ONLY,
        slot: scalar!(max_bonds),
    },
];

/// The option called `name` (exact, case-sensitive, as Linux matches).
pub fn lookup(name: &str) -> Option<&'static OptionSpec> {
    OPTIONS.iter().find(|spec| spec.name == name)
}
