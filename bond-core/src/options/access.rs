//! Reading and writing an option's field of [`Config`] through its table slot.

use core::fmt;

use super::table::{OptionSpec, Slot, ValueKind};
use super::value::{ipv4, ipv6, Value};
use crate::config::Config;

/// Store a validated value. A value of the wrong shape for the slot cannot come out of
/// [`parse_value`](super::value::parse_value) for the same spec; it is ignored rather than trusted.
pub(crate) fn store(config: &mut Config, spec: &OptionSpec, value: Value) {
    match (spec.slot, value) {
        (Slot::Scalar { set, .. }, Value::Scalar(n)) => set(config, n),
        (Slot::AdActorSystem, Value::Mac(mac)) => config.ad_actor_system = mac,
        (Slot::Primary, Value::IfName(name)) => config.primary = name,
        (Slot::ActiveSlave, Value::IfName(name)) => config.active_slave = name,
        (Slot::ArpTargets, Value::Ipv4(list)) => config.arp_ip_target = list,
        (Slot::NsTargets, Value::Ipv6(list)) => config.ns_ip6_target = list,
        _ => {}
    }
}

/// Whether `a` and `b` hold the same value for this option.
pub(crate) fn same(a: &Config, b: &Config, spec: &OptionSpec) -> bool {
    match spec.slot {
        Slot::Scalar { get, .. } => get(a) == get(b),
        Slot::AdActorSystem => a.ad_actor_system == b.ad_actor_system,
        Slot::Primary => a.primary == b.primary,
        Slot::ActiveSlave => a.active_slave == b.active_slave,
        Slot::ArpTargets => a.arp_ip_target == b.arp_ip_target,
        Slot::NsTargets => a.ns_ip6_target == b.ns_ip6_target,
    }
}

/// Write the option's value in the kernel grammar: enum names, decimal numbers, `0`/`1` for
/// booleans (what both modprobe and sysfs accept), MACs in lower case, comma-joined lists, and
/// nothing for an unset name.
pub(crate) fn write_value(
    f: &mut fmt::Formatter<'_>,
    config: &Config,
    spec: &OptionSpec,
) -> fmt::Result {
    match spec.slot {
        Slot::Scalar { get, .. } => write_scalar(f, spec, get(config)),
        Slot::AdActorSystem => write!(f, "{}", config.ad_actor_system),
        Slot::Primary => f.write_str(config.primary.as_deref().unwrap_or("")),
        Slot::ActiveSlave => f.write_str(config.active_slave.as_deref().unwrap_or("")),
        Slot::ArpTargets => write_list(f, config.arp_ip_target.iter().map(|a| ipv4(*a))),
        Slot::NsTargets => write_list(f, config.ns_ip6_target.iter().map(|a| ipv6(*a))),
    }
}

fn write_scalar(f: &mut fmt::Formatter<'_>, spec: &OptionSpec, n: u64) -> fmt::Result {
    if let ValueKind::Enum(values) = spec.kind {
        if let Some(v) = values.iter().find(|v| v.value == n) {
            return f.write_str(v.name);
        }
    }
    write!(f, "{n}")
}

fn write_list<T: fmt::Display>(
    f: &mut fmt::Formatter<'_>,
    items: impl Iterator<Item = T>,
) -> fmt::Result {
    for (i, item) in items.enumerate() {
        if i > 0 {
            f.write_str(",")?;
        }
        write!(f, "{item}")?;
    }
    Ok(())
}
