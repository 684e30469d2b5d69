//! Runtime changes, with the rules of Linux sysfs/netlink (`__bond_opt_set` and the
//! `bond_option_*_set` functions).

use super::access::store;
use super::error::{warn, OptionError, Warning, Warnings};
use super::parse::{delays, has_targets, DEFAULT_MIIMON};
use super::table::{lookup, OptionFlags, OptionId, OptionSpec};
use super::value::{
    invalid, ipv4, ipv6, parse_ipv4_target, parse_ipv6_target, parse_scalar, parse_value, Value,
};
use crate::config::{ArpValidate, Config, Mode};

/// The bond's state, which decides whether an option may change now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OptionContext {
    /// The bond is administratively up (Linux `IFF_UP`).
    pub bond_up: bool,
    /// The bond has at least one port.
    pub has_ports: bool,
}

/// What a successful change reports.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Applied {
    /// Side effects and notes, as Linux logs them.
    pub warnings: Warnings,
}

/// Change one option of a running (or stopped) bond, as `echo VALUE > /sys/class/net/bondX/
/// bonding/NAME` or netlink would.
///
/// Checks run in Linux's order: the option must exist, be supported in the current mode
/// ([`OptionError::NotForMode`]), allowed with ports ([`OptionError::RequiresNoPorts`]) and with
/// the bond up ([`OptionError::RequiresDown`]); then the value is parsed. Surrounding whitespace
/// (such as the newline of `echo`) is ignored. Linux side effects apply and are reported in
/// [`Applied::warnings`]:
/// - `miimon` > 0 turns ARP monitoring off (and resets `arp_validate`); a new `miimon` rescales
///   the delays, which Linux keeps in miimon ticks;
/// - `arp_interval` > 0 turns the MII monitor off;
/// - `updelay`, `downdelay`, `peer_notif_delay` need `miimon` > 0 ([`OptionError::MiimonDisabled`])
///   and are rounded down to a multiple of it;
/// - `mode`: a mode without ARP monitoring turns `arp_interval` off and sets `miimon` to 100 if
///   it was 0; balance-alb sets `tlb_dynamic_lb`; `arp_validate` and `broadcast_neighbor` reset;
/// - `arp_ip_target` / `ns_ip6_target` take `+ADDR` (add), `-ADDR` (remove), or, like netlink, a
///   whole comma-separated list that replaces the current one (empty clears it);
/// - `primary` / `active_slave` take an interface name, or an empty value to clear it. Whether
///   the port exists and is up is for the bond to check.
///
/// On error `config` is unchanged.
pub fn set_option(
    config: &mut Config,
    name: &str,
    value: &str,
    ctx: &OptionContext,
) -> Result<Applied, OptionError> {
    let spec = lookup(name).ok_or_else(|| super::unknown_option(name))?;
    check_state(spec, config.mode, ctx)?;
    let value = value.trim_matches(|c: char| c.is_ascii_whitespace());
    // Work on a copy so that nothing half-applies when a later check fails.
    let mut next = config.clone();
    let mut applied = Applied::default();
    apply(&mut next, spec, value, &mut applied.warnings)?;
    *config = next;
    Ok(applied)
}

/// Linux `bond_opt_check_deps`, plus our refusal of load-time-only options.
fn check_state(spec: &OptionSpec, mode: Mode, ctx: &OptionContext) -> Result<(), OptionError> {
    let option = spec.id;
    if spec.flags.contains(OptionFlags::LOAD_TIME_ONLY) {
        return Err(OptionError::LoadTimeOnly { option });
    }
    if !spec.modes.contains(mode) {
        return Err(OptionError::NotForMode { option, mode });
    }
    if spec.flags.contains(OptionFlags::REQUIRES_NO_PORTS) && ctx.has_ports {
        return Err(OptionError::RequiresNoPorts { option });
    }
    if spec.flags.contains(OptionFlags::REQUIRES_DOWN) && ctx.bond_up {
        return Err(OptionError::RequiresDown { option });
    }
    Ok(())
}

fn apply(
    config: &mut Config,
    spec: &OptionSpec,
    text: &str,
    warnings: &mut Warnings,
) -> Result<(), OptionError> {
    match spec.id {
        OptionId::Mode => set_mode(config, parse_mode(spec, text)?, warnings),
        OptionId::Miimon => set_miimon(config, scalar_u32(spec, text)?, warnings),
        OptionId::ArpInterval => set_arp_interval(config, scalar_u32(spec, text)?, warnings),
        OptionId::Updelay | OptionId::Downdelay | OptionId::PeerNotifDelay => {
            set_delay(config, spec, scalar_u32(spec, text)?, warnings)?
        }
        OptionId::ArpIpTarget | OptionId::NsIp6Target => {
            edit_targets(config, spec, text, warnings)?
        }
        _ => {
            let (value, _) = parse_value(spec, text)?;
            store(config, spec, value);
        }
    }
    if matches!(
        spec.id,
        OptionId::Mode | OptionId::Miimon | OptionId::ArpInterval
    ) && config.miimon == 0
        && config.arp_interval == 0
    {
        warn(warnings, Warning::NoLinkMonitoring);
    }
    Ok(())
}

/// A scalar that fits `u32` (every millisecond option and the mode number do, by their ranges).
fn scalar_u32(spec: &OptionSpec, text: &str) -> Result<u32, OptionError> {
    let n = parse_scalar(spec, text)?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

/// Record that setting `cause` changed `option`, if it did.
fn side_effect(warnings: &mut Warnings, changed: bool, option: OptionId, cause: OptionId) {
    if changed {
        warn(warnings, Warning::SideEffect { option, cause });
    }
}

fn parse_mode(spec: &OptionSpec, text: &str) -> Result<Mode, OptionError> {
    let number = parse_scalar(spec, text)?;
    Mode::from_number(number).ok_or_else(|| invalid(spec, text))
}

/// Linux `bond_option_mode_set`.
fn set_mode(config: &mut Config, mode: Mode, warnings: &mut Warnings) {
    let cause = OptionId::Mode;
    if !mode.supports_arp_monitor() {
        side_effect(
            warnings,
            config.arp_interval != 0,
            OptionId::ArpInterval,
            cause,
        );
        config.arp_interval = 0;
        if config.miimon == 0 {
            config.miimon = DEFAULT_MIIMON;
            side_effect(warnings, true, OptionId::Miimon, cause);
        }
    }
    if mode == Mode::Alb {
        side_effect(
            warnings,
            !config.tlb_dynamic_lb,
            OptionId::TlbDynamicLb,
            cause,
        );
        config.tlb_dynamic_lb = true;
    }
    // Linux does not carry arp_validate or broadcast_neighbor across modes.
    side_effect(
        warnings,
        config.arp_validate != ArpValidate::None,
        OptionId::ArpValidate,
        cause,
    );
    config.arp_validate = ArpValidate::None;
    side_effect(
        warnings,
        config.broadcast_neighbor,
        OptionId::BroadcastNeighbor,
        cause,
    );
    config.broadcast_neighbor = false;
    config.mode = mode;
}

/// Linux `bond_option_miimon_set`. Linux keeps the delays in ticks of the old `miimon`, so they
/// scale with the new one; with the MII monitor off they are kept as given.
fn set_miimon(config: &mut Config, miimon: u32, warnings: &mut Warnings) {
    let old = config.miimon;
    if old != 0 && miimon != 0 {
        rescale_delays(config, old, miimon, warnings);
    }
    config.miimon = miimon;
    if miimon != 0 && config.arp_interval != 0 {
        config.arp_interval = 0;
        side_effect(warnings, true, OptionId::ArpInterval, OptionId::Miimon);
        side_effect(
            warnings,
            config.arp_validate != ArpValidate::None,
            OptionId::ArpValidate,
            OptionId::Miimon,
        );
        config.arp_validate = ArpValidate::None;
    }
}

fn rescale_delays(config: &mut Config, old: u32, new: u32, warnings: &mut Warnings) {
    for (option, ms) in delays(config) {
        let ticks = u64::from(ms / old);
        let scaled = u32::try_from(ticks * u64::from(new))
            .unwrap_or(u32::MAX)
            .min(i32::MAX as u32);
        // Report only a change of the effective delay, not the dropping of a remainder.
        side_effect(warnings, scaled != ms / old * old, option, OptionId::Miimon);
        match option {
            OptionId::Updelay => config.updelay_ms = scaled,
            OptionId::Downdelay => config.downdelay_ms = scaled,
            _ => config.peer_notif_delay_ms = scaled,
        }
    }
}

/// Linux `bond_option_arp_interval_set`.
fn set_arp_interval(config: &mut Config, interval: u32, warnings: &mut Warnings) {
    config.arp_interval = interval;
    if interval == 0 {
        return;
    }
    side_effect(
        warnings,
        config.miimon != 0,
        OptionId::Miimon,
        OptionId::ArpInterval,
    );
    config.miimon = 0;
    if !has_targets(config) {
        warn(
            warnings,
            Warning::ArpWithoutTargets {
                arp_interval: interval,
                disabled: false,
            },
        );
    }
}

/// Linux `_bond_option_delay_set`: refused without miimon, rounded down otherwise.
fn set_delay(
    config: &mut Config,
    spec: &OptionSpec,
    ms: u32,
    warnings: &mut Warnings,
) -> Result<(), OptionError> {
    let miimon = config.miimon;
    if miimon == 0 {
        return Err(OptionError::MiimonDisabled { option: spec.id });
    }
    if !ms.is_multiple_of(miimon) {
        warn(
            warnings,
            Warning::DelayRounded {
                option: spec.id,
                given: ms,
                miimon,
            },
        );
    }
    store(config, spec, Value::Scalar(u64::from(ms)));
    Ok(())
}

/// `+ADDR`, `-ADDR` or a whole list for `arp_ip_target` / `ns_ip6_target`.
fn edit_targets(
    config: &mut Config,
    spec: &OptionSpec,
    text: &str,
    warnings: &mut Warnings,
) -> Result<(), OptionError> {
    let option = spec.id;
    let (add, address) = match text.as_bytes().first() {
        Some(b'+') => (true, &text[1..]),
        Some(b'-') => (false, &text[1..]),
        _ => return replace_targets(config, spec, text),
    };
    let removed_last = match option {
        OptionId::ArpIpTarget => {
            let a = parse_ipv4_target(spec, address)?;
            edit_list(&mut config.arp_ip_target, a, add, option, ipv4(a))?
        }
        _ => {
            let a = parse_ipv6_target(spec, address)?;
            edit_list(&mut config.ns_ip6_target, a, add, option, ipv6(a))?
        }
    };
    if removed_last && config.arp_interval != 0 {
        warn(warnings, Warning::LastTargetRemoved { option });
    }
    Ok(())
}

/// Add or remove one address; returns whether the list became empty by a removal.
fn edit_list<T: PartialEq, const N: usize>(
    list: &mut heapless::Vec<T, N>,
    address: T,
    add: bool,
    option: OptionId,
    ip: core::net::IpAddr,
) -> Result<bool, OptionError> {
    let position = list.iter().position(|t| *t == address);
    match (add, position) {
        (true, Some(_)) => Err(OptionError::TargetPresent {
            option,
            address: ip,
        }),
        (true, None) => list
            .push(address)
            .map(|_| false)
            .map_err(|_| OptionError::TooManyTargets { option }),
        (false, Some(i)) => {
            list.remove(i);
            Ok(list.is_empty())
        }
        (false, None) => Err(OptionError::TargetAbsent {
            option,
            address: ip,
        }),
    }
}

/// Netlink-style replacement of the whole list; a repeated address is refused, as Linux refuses
/// adding an address that is already present.
fn replace_targets(config: &mut Config, spec: &OptionSpec, text: &str) -> Result<(), OptionError> {
    let (value, duplicate) = parse_value(spec, text)?;
    if let Some(address) = duplicate {
        return Err(OptionError::TargetPresent {
            option: spec.id,
            address,
        });
    }
    store(config, spec, value);
    Ok(())
}
