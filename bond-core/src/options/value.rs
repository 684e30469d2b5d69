//! Parsing one option value, following Linux `bond_opt_parse` and the raw-value setters.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::error::OptionError;
use super::table::{NamedValue, OptionFlags, OptionSpec, ValueKind, OFF_ON};
use crate::config::{IfName, IFNAME_MAX, MAX_ARP_TARGETS};
use crate::wire::EthernetAddress;

/// IPv4 targets, as stored in [`Config`](crate::Config).
pub(crate) type Ipv4Targets = heapless::Vec<[u8; 4], MAX_ARP_TARGETS>;
/// IPv6 targets, as stored in [`Config`](crate::Config).
pub(crate) type Ipv6Targets = heapless::Vec<[u8; 16], MAX_ARP_TARGETS>;

/// The error for `text` not fitting the grammar of `spec`.
pub(crate) fn invalid(spec: &OptionSpec, text: &str) -> OptionError {
    OptionError::InvalidValue {
        option: spec.id,
        value: super::ValueText::new(text),
    }
}

/// Parse a number, an enum name, a boolean word or `default` for a scalar option.
///
/// Like Linux, text made only of digits is a number (decimal, leading zeros allowed) and anything
/// else is a word; `default` is a word only for options whose Linux table flags a default.
pub(crate) fn parse_scalar(spec: &OptionSpec, text: &str) -> Result<u64, OptionError> {
    if text == "default" && spec.flags.contains(OptionFlags::DEFAULT_WORD) {
        // The table's default is spelled as it renders, so it always parses as a plain value.
        return parse_plain_scalar(spec, spec.default);
    }
    parse_plain_scalar(spec, text)
}

fn parse_plain_scalar(spec: &OptionSpec, text: &str) -> Result<u64, OptionError> {
    let number = parse_decimal(text);
    match spec.kind {
        ValueKind::Enum(values) => match_value(values, text, number),
        ValueKind::Bool => match_value(OFF_ON, text, number),
        ValueKind::Int { min, max, words } => match number {
            Some(n) if (min..=max).contains(&n) => Some(n),
            Some(_) => {
                return Err(OptionError::OutOfRange {
                    option: spec.id,
                    value: super::ValueText::new(text),
                })
            }
            None => match_value(words, text, None),
        },
        ValueKind::Mac | ValueKind::IfName | ValueKind::Ipv4List | ValueKind::Ipv6List => None,
    }
    .ok_or_else(|| invalid(spec, text))
}

/// A run of ASCII digits as a number; `u64::MAX` stands for anything larger (always out of
/// range). `None` if the text is not all digits.
fn parse_decimal(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(text.bytes().fold(0u64, |n, b| {
        n.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    }))
}

/// The table entry matching `number` (if the text was a number) or the name `text`.
fn match_value(values: &[NamedValue], text: &str, number: Option<u64>) -> Option<u64> {
    values
        .iter()
        .find(|v| match number {
            Some(n) => v.value == n,
            None => v.name == text,
        })
        .map(|v| v.value)
}

/// Whether `name` is a valid Linux interface name (`dev_valid_name`): 1 to 15 bytes, not `.` or
/// `..`, and no `/`, `:`, NUL or ASCII whitespace.
pub fn is_valid_ifname(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= IFNAME_MAX
        && name != "."
        && name != ".."
        && !name
            .bytes()
            .any(|b| b == b'/' || b == b':' || b == 0 || is_c_space(b))
}

/// C `isspace`: what Linux refuses in a name (it includes vertical tab, unlike Rust's helper).
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// `name` as an [`IfName`], if it is a valid interface name.
pub fn parse_ifname(name: &str) -> Option<IfName> {
    if !is_valid_ifname(name) {
        return None;
    }
    let mut out = IfName::new();
    out.push_str(name).ok()?;
    Some(out)
}

/// `primary` / `active_slave`: an interface name, or empty for none.
pub(crate) fn parse_optional_ifname(
    spec: &OptionSpec,
    text: &str,
) -> Result<Option<IfName>, OptionError> {
    if text.is_empty() {
        return Ok(None);
    }
    parse_ifname(text)
        .map(Some)
        .ok_or_else(|| invalid(spec, text))
}

/// `ad_actor_system`: a MAC address that is not multicast (Linux refuses multicast; all zeros
/// means "use the bond's MAC").
pub(crate) fn parse_actor_system(
    spec: &OptionSpec,
    text: &str,
) -> Result<EthernetAddress, OptionError> {
    match text.parse::<EthernetAddress>() {
        Ok(mac) if !mac.is_multicast() => Ok(mac),
        _ => Err(invalid(spec, text)),
    }
}

/// An ARP target: IPv4, not in 0.0.0.0/8 nor the limited broadcast (Linux
/// `bond_is_ip_target_ok`), and not multicast (no host answers ARP for a group).
pub(crate) fn parse_ipv4_target(spec: &OptionSpec, text: &str) -> Result<[u8; 4], OptionError> {
    match text.parse::<Ipv4Addr>() {
        Ok(ip) if ip.octets()[0] != 0 && !ip.is_broadcast() && !ip.is_multicast() => {
            Ok(ip.octets())
        }
        _ => Err(invalid(spec, text)),
    }
}

/// An NS target: IPv6, not unspecified, loopback or multicast (Linux `bond_is_ip6_target_ok`).
pub(crate) fn parse_ipv6_target(spec: &OptionSpec, text: &str) -> Result<[u8; 16], OptionError> {
    match text.parse::<Ipv6Addr>() {
        Ok(ip) if !ip.is_unspecified() && !ip.is_loopback() && !ip.is_multicast() => {
            Ok(ip.octets())
        }
        _ => Err(invalid(spec, text)),
    }
}

/// A parsed target list: the addresses in order, and the first address that was repeated.
pub(crate) struct TargetList<T, const N: usize> {
    pub(crate) addresses: heapless::Vec<T, N>,
    pub(crate) first_duplicate: Option<IpAddr>,
}

/// A comma-separated target list; empty text is an empty list. Repeats are kept out of the list
/// and reported in `first_duplicate`.
pub(crate) fn parse_target_list<T: Copy + PartialEq, const N: usize>(
    spec: &OptionSpec,
    text: &str,
    parse_one: fn(&OptionSpec, &str) -> Result<T, OptionError>,
    to_ip: fn(T) -> IpAddr,
) -> Result<TargetList<T, N>, OptionError> {
    let mut list = TargetList {
        addresses: heapless::Vec::new(),
        first_duplicate: None,
    };
    if text.is_empty() {
        return Ok(list);
    }
    for item in text.split(',') {
        let address = parse_one(spec, item)?;
        if list.addresses.contains(&address) {
            list.first_duplicate.get_or_insert(to_ip(address));
            continue;
        }
        list.addresses
            .push(address)
            .map_err(|_| OptionError::TooManyTargets { option: spec.id })?;
    }
    Ok(list)
}

/// The IPv4 target as an address, for messages.
pub(crate) fn ipv4(octets: [u8; 4]) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(octets))
}

/// The IPv6 target as an address, for messages.
pub(crate) fn ipv6(octets: [u8; 16]) -> IpAddr {
    IpAddr::V6(Ipv6Addr::from(octets))
}

/// A validated value, ready to be stored in its option's slot.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Scalar(u64),
    Mac(EthernetAddress),
    IfName(Option<IfName>),
    Ipv4(Ipv4Targets),
    Ipv6(Ipv6Targets),
}

/// Parse `text` by the grammar of `spec`. A target list also returns its first repeated address,
/// which the caller reports (load time) or refuses (runtime).
pub(crate) fn parse_value(
    spec: &OptionSpec,
    text: &str,
) -> Result<(Value, Option<IpAddr>), OptionError> {
    let value = match spec.kind {
        ValueKind::Enum(_) | ValueKind::Bool | ValueKind::Int { .. } => {
            Value::Scalar(parse_scalar(spec, text)?)
        }
        ValueKind::Mac => Value::Mac(parse_actor_system(spec, text)?),
        ValueKind::IfName => Value::IfName(parse_optional_ifname(spec, text)?),
        ValueKind::Ipv4List => {
            let list = parse_target_list(spec, text, parse_ipv4_target, ipv4)?;
            return Ok((Value::Ipv4(list.addresses), list.first_duplicate));
        }
        ValueKind::Ipv6List => {
            let list = parse_target_list(spec, text, parse_ipv6_target, ipv6)?;
            return Ok((Value::Ipv6(list.addresses), list.first_duplicate));
        }
    };
    Ok((value, None))
}
