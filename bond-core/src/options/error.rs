//! Errors and warnings of option parsing and runtime changes, with messages that name the option,
//! the value and what is allowed.

use core::fmt;
use core::net::IpAddr;

use super::table::{ModeSet, OptionId, ValueKind};
use crate::config::{Mode, IFNAME_MAX, MAX_ARP_TARGETS};

/// Bytes of an offending value kept in an error; longer values end in `…`.
pub const VALUE_TEXT_MAX: usize = 32;

/// A short copy of user input, kept inline so errors stay `Copy` and allocation-free.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ValueText {
    buf: [u8; VALUE_TEXT_MAX],
    len: u8,
}

impl ValueText {
    const ELLIPSIS: &'static str = "…";

    /// A copy of `text`, cut at a character boundary and ended with `…` if it does not fit.
    pub fn new(text: &str) -> Self {
        let mut out = Self {
            buf: [0; VALUE_TEXT_MAX],
            len: 0,
        };
        if text.len() <= VALUE_TEXT_MAX {
            out.append(text);
        } else {
            out.append(floor_char_boundary(
                text,
                VALUE_TEXT_MAX - Self::ELLIPSIS.len(),
            ));
            out.append(Self::ELLIPSIS);
        }
        out
    }

    /// The kept text.
    pub fn as_str(&self) -> &str {
        // Only whole characters are ever copied in, so this cannot fail; fall back to "" anyway.
        core::str::from_utf8(&self.buf[..usize::from(self.len)]).unwrap_or("")
    }

    fn append(&mut self, s: &str) {
        let start = usize::from(self.len);
        let end = start + s.len();
        if let Some(dst) = self.buf.get_mut(start..end) {
            dst.copy_from_slice(s.as_bytes());
            self.len = end as u8;
        }
    }
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
fn floor_char_boundary(s: &str, max: usize) -> &str {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

impl fmt::Debug for ValueText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// Writes the text in double quotes, escaping quotes and control characters so that hostile
/// input cannot forge log lines or terminal sequences.
impl fmt::Display for ValueText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        for c in self.as_str().chars() {
            write!(f, "{}", c.escape_debug())?;
        }
        f.write_str("\"")
    }
}

/// Why an option string or change was refused. The configuration is left untouched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OptionError {
    /// A token of the option string is not `name=value`.
    Syntax {
        /// The token.
        token: ValueText,
    },
    /// No option has this name.
    UnknownOption {
        /// The name given.
        name: ValueText,
        /// The closest option name, if one is close.
        suggestion: Option<OptionId>,
    },
    /// The option string sets the same option twice (`num_grat_arp` and `num_unsol_na` are one
    /// option).
    Duplicate {
        /// The second occurrence.
        option: OptionId,
    },
    /// The value does not fit the option's grammar.
    InvalidValue {
        /// The option.
        option: OptionId,
        /// The offending value (for lists, the offending element).
        value: ValueText,
    },
    /// A number outside the option's range.
    OutOfRange {
        /// The option.
        option: OptionId,
        /// The number as given.
        value: ValueText,
    },
    /// The option is not supported in the bond's mode (Linux `-EACCES`).
    NotForMode {
        /// The option.
        option: OptionId,
        /// The bond's mode.
        mode: Mode,
    },
    /// The option can only change while the bond is down (Linux `-EBUSY`).
    RequiresDown {
        /// The option.
        option: OptionId,
    },
    /// The option can only change while the bond has no ports (Linux `-ENOTEMPTY`).
    RequiresNoPorts {
        /// The option.
        option: OptionId,
    },
    /// The option can only be given when the bond is created (`max_bonds`).
    LoadTimeOnly {
        /// The option.
        option: OptionId,
    },
    /// A delay cannot be set at runtime while `miimon` is 0 (Linux `-EPERM`).
    MiimonDisabled {
        /// The delay option.
        option: OptionId,
    },
    /// `arp_validate` was given but ARP monitoring ends up off (Linux module load refuses this).
    RequiresArpInterval {
        /// The option.
        option: OptionId,
    },
    /// More than [`MAX_ARP_TARGETS`] addresses.
    TooManyTargets {
        /// The list option.
        option: OptionId,
    },
    /// `+address` for an address already in the list.
    TargetPresent {
        /// The list option.
        option: OptionId,
        /// The address.
        address: IpAddr,
    },
    /// `-address` for an address not in the list.
    TargetAbsent {
        /// The list option.
        option: OptionId,
        /// The address.
        address: IpAddr,
    },
}

impl fmt::Display for OptionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Syntax { token } => write!(f, "expected name=value, found {token}"),
            Self::UnknownOption { name, suggestion } => {
                write!(f, "unknown option {name}")?;
                match suggestion {
                    Some(s) => write!(f, " (did you mean \"{s}\"?)"),
                    None => Ok(()),
                }
            }
            Self::Duplicate { option } => {
                write!(f, "option \"{option}\" is given more than once")?;
                if option.canonical() != option || option == OptionId::NumGratArp {
                    f.write_str(" (num_grat_arp and num_unsol_na set the same value)")?;
                }
                Ok(())
            }
            Self::InvalidValue { option, value } => {
                write!(
                    f,
                    "invalid value {value} for option \"{option}\": allowed values are "
                )?;
                write_allowed(f, option)
            }
            Self::OutOfRange { option, value } => {
                write!(
                    f,
                    "value {} for option \"{option}\" is out of range ",
                    value.as_str()
                )?;
                match option.spec().kind {
                    ValueKind::Int { min, max, .. } => write!(f, "{min}..{max}"),
                    _ => write_allowed(f, option),
                }
            }
            Self::NotForMode { option, mode } => write!(
                f,
                "option \"{option}\" is not supported in mode {mode} (only in {})",
                option.spec().modes
            ),
            Self::RequiresDown { option } => write!(
                f,
                "option \"{option}\" can only be changed while the bond is down"
            ),
            Self::RequiresNoPorts { option } => write!(
                f,
                "option \"{option}\" can only be changed while the bond has no ports"
            ),
            Self::LoadTimeOnly { option } => write!(
                f,
                "option \"{option}\" can only be given when the bond is created"
            ),
            Self::MiimonDisabled { option } => write!(
                f,
                "option \"{option}\" cannot be set while MII monitoring is disabled (miimon=0)"
            ),
            Self::RequiresArpInterval { option } => write!(
                f,
                "option \"{option}\" requires ARP monitoring: arp_interval > 0 with miimon=0 \
                 and at least one arp_ip_target or ns_ip6_target"
            ),
            Self::TooManyTargets { option } => write!(
                f,
                "too many addresses for option \"{option}\": at most {MAX_ARP_TARGETS}"
            ),
            Self::TargetPresent { option, address } => {
                write!(f, "address {address} is already in option \"{option}\"")
            }
            Self::TargetAbsent { option, address } => {
                write!(f, "address {address} is not in option \"{option}\"")
            }
        }
    }
}

impl core::error::Error for OptionError {}

/// Describes the values `option` accepts, for error messages.
fn write_allowed(f: &mut fmt::Formatter<'_>, option: OptionId) -> fmt::Result {
    match option.spec().kind {
        ValueKind::Enum(values) => {
            for (i, v) in values.iter().enumerate() {
                let sep = if i == 0 { "" } else { ", " };
                write!(f, "{sep}{} ({})", v.name, v.value)?;
            }
            Ok(())
        }
        ValueKind::Int { min, max, words } => {
            write!(f, "{min}..{max}")?;
            for w in words {
                write!(f, ", {} ({})", w.name, w.value)?;
            }
            Ok(())
        }
        ValueKind::Bool => f.write_str("0, 1, off (0), on (1)"),
        ValueKind::Mac => f.write_str(
            "a unicast MAC address such as 02:00:00:00:00:01 \
             (00:00:00:00:00:00 uses the bond's MAC)",
        ),
        ValueKind::IfName => write!(
            f,
            "an interface name of 1 to {IFNAME_MAX} bytes without '/', ':' or whitespace, \
             other than \".\" and \"..\" (empty for none)"
        ),
        ValueKind::Ipv4List => write!(
            f,
            "up to {MAX_ARP_TARGETS} comma-separated unicast IPv4 addresses such as 192.0.2.1"
        ),
        ValueKind::Ipv6List => write!(
            f,
            "up to {MAX_ARP_TARGETS} comma-separated unicast IPv6 addresses such as 2001:db8::1"
        ),
    }
}

/// At most this many warnings are kept per parse or change; every distinct warning the parser can
/// give fits (the list-duplicate warning is given once per list).
pub const MAX_WARNINGS: usize = 16;

/// Warnings of one parse or change.
pub type Warnings = heapless::Vec<Warning, MAX_WARNINGS>;

/// Adds `warning` unless it is already there; a full list drops it (see [`MAX_WARNINGS`]).
pub(crate) fn warn(warnings: &mut Warnings, warning: Warning) {
    if !warnings.contains(&warning) {
        let _ = warnings.push(warning);
    }
}

/// Something Linux accepts but reports; the configuration was applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Warning {
    /// Neither `miimon` nor `arp_interval` is set: the bond will not notice a failed link. Linux
    /// prints "bonding will not detect link failures"; bonds should surface this loudly.
    NoLinkMonitoring,
    /// 802.3ad, balance-tlb and balance-alb need the MII monitor: `miimon` was 0 and is now 100.
    MiimonForced {
        /// The bond's mode.
        mode: Mode,
    },
    /// `miimon` and `arp_interval` were both set; the MII monitor wins and ARP monitoring is off.
    ArpMonitorDisabled {
        /// `miimon` in ms.
        miimon: u32,
        /// The discarded `arp_interval` in ms.
        arp_interval: u32,
    },
    /// `arp_interval` is set but there is no ARP or NS target.
    ArpWithoutTargets {
        /// `arp_interval` in ms.
        arp_interval: u32,
        /// Whether ARP monitoring was turned off because of it (module load does this).
        disabled: bool,
    },
    /// A delay is not a multiple of `miimon` and is rounded down.
    DelayRounded {
        /// `updelay`, `downdelay` or `peer_notif_delay`.
        option: OptionId,
        /// The delay given, in ms.
        given: u32,
        /// `miimon` in ms.
        miimon: u32,
    },
    /// A delay is set while `miimon` is 0, so it has no effect.
    DelayWithoutMiimon {
        /// `updelay`, `downdelay` or `peer_notif_delay`.
        option: OptionId,
    },
    /// The option does nothing in the bond's mode.
    NoEffect {
        /// The option.
        option: OptionId,
        /// The bond's mode.
        mode: Mode,
        /// Modes where the option has an effect.
        effective: ModeSet,
        /// Whether the value was dropped (true) or kept for a later mode change (false).
        ignored: bool,
    },
    /// An address appears twice in a target list given at load time; the copy is skipped.
    DuplicateTarget {
        /// The list option.
        option: OptionId,
        /// The repeated address.
        address: IpAddr,
    },
    /// Setting one option changed another, as Linux does (e.g. `miimon` turns `arp_interval`
    /// off, a mode change resets `arp_validate`).
    SideEffect {
        /// The option that changed.
        option: OptionId,
        /// The option that was set.
        cause: OptionId,
    },
    /// The last ARP target was removed while `arp_interval` is on.
    LastTargetRemoved {
        /// The list option.
        option: OptionId,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::NoLinkMonitoring => f.write_str(
                "neither miimon nor arp_interval is set: bonding will not detect link failures",
            ),
            Self::MiimonForced { mode } => write!(
                f,
                "mode {mode} needs link monitoring: miimon forced to 100 ms"
            ),
            Self::ArpMonitorDisabled {
                miimon,
                arp_interval,
            } => write!(
                f,
                "miimon ({miimon}) and arp_interval ({arp_interval}) can't be used \
                 simultaneously: miimon takes precedence, ARP monitoring disabled"
            ),
            Self::ArpWithoutTargets {
                arp_interval,
                disabled: true,
            } => write!(
                f,
                "arp_interval ({arp_interval}) given without arp_ip_target or ns_ip6_target: \
                 ARP monitoring disabled"
            ),
            Self::ArpWithoutTargets {
                arp_interval,
                disabled: false,
            } => write!(
                f,
                "arp_interval ({arp_interval}) is set but no ARP targets have been specified"
            ),
            Self::DelayRounded {
                option,
                given,
                miimon,
            } => write!(
                f,
                "{option} ({given}) is not a multiple of miimon ({miimon}), rounded to {} ms",
                given / miimon.max(1) * miimon
            ),
            Self::DelayWithoutMiimon { option } => {
                write!(f, "{option} has no effect unless miimon is set")
            }
            Self::NoEffect {
                option,
                mode,
                effective,
                ignored,
            } => {
                write!(
                    f,
                    "option \"{option}\" has no effect in mode {mode} (only in {effective})"
                )?;
                if ignored {
                    f.write_str("; ignored")?;
                }
                Ok(())
            }
            Self::DuplicateTarget { option, address } => {
                write!(f, "duplicate address {address} in {option}, skipped")
            }
            Self::SideEffect { option, cause } => {
                write!(f, "setting \"{cause}\" also changed \"{option}\"")
            }
            Self::LastTargetRemoved { option } => write!(
                f,
                "removed the last address of {option} while arp_interval is on"
            ),
        }
    }
}
