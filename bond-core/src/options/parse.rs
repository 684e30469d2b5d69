//! The whole-string grammar of `modprobe bonding ...`, `BONDING_OPTS="..."` and
//! `BONDING_MODULE_OPTS='...'`, with the semantics of Linux module load (`bond_check_params`).

use super::access::store;
use super::error::{warn, OptionError, ValueText, Warning, Warnings};
use super::table::{lookup, ModeSet, OptionId, OptionSpec, OPTIONS};
use super::value::{parse_value, Value};
use crate::config::{Config, Mode};

/// The MII period Linux forces on modes that need link monitoring (`BOND_DEFAULT_MIIMON`).
pub(crate) const DEFAULT_MIIMON: u32 = 100;

/// The text of each option given, indexed by the canonical [`OptionId`], and the name used.
type Given<'a> = [Option<(&'a str, OptionId)>; OptionId::ALL.len()];

/// Parse an option string into a fresh [`Config`] (see [`Config::parse_with_warnings`]).
pub(crate) fn parse(s: &str) -> Result<(Config, Warnings), OptionError> {
    let given = collect(strip_quotes(s))?;
    let mut config = Config::default();
    let mut warnings = Warnings::new();
    if let Some((text, _)) = given[OptionId::Mode as usize] {
        let (value, _) = parse_value(OptionId::Mode.spec(), text)?;
        store(&mut config, OptionId::Mode.spec(), value);
    }
    for spec in OPTIONS.iter().filter(|s| s.id != OptionId::Mode) {
        if let Some((text, id)) = given[spec.id as usize] {
            apply_at_load(&mut config, id.spec(), text, &mut warnings)?;
        }
    }
    settle_monitors(&mut config, &given, &mut warnings)?;
    Ok((config, warnings))
}

/// Drop one pair of matching quotes around the whole string, in case the caller kept them.
fn strip_quotes(s: &str) -> &str {
    let s = s.trim_matches(|c: char| c.is_ascii_whitespace());
    for quote in ['"', '\''] {
        if let Some(inner) = s
            .strip_prefix(quote)
            .and_then(|rest| rest.strip_suffix(quote))
        {
            return inner;
        }
    }
    s
}

/// Split into `name=value` tokens and file each under its option; unknown names, malformed
/// tokens and repeated options are errors.
fn collect(s: &str) -> Result<Given<'_>, OptionError> {
    let mut given: Given<'_> = [None; OptionId::ALL.len()];
    for token in s.split_ascii_whitespace() {
        let (name, text) = match token.split_once('=') {
            Some((name, text)) if !name.is_empty() => (name, text),
            _ => {
                return Err(OptionError::Syntax {
                    token: ValueText::new(token),
                })
            }
        };
        let spec = lookup(name).ok_or_else(|| super::unknown_option(name))?;
        let slot = &mut given[spec.id.canonical() as usize];
        if slot.is_some() {
            return Err(OptionError::Duplicate { option: spec.id });
        }
        *slot = Some((text, spec.id));
    }
    Ok(given)
}

/// Validate one option and store it, or ignore it, as Linux module load does in this mode.
///
/// Linux module parameters that do not apply to the mode are handled as `bond_check_params`
/// does: `xmit_hash_policy` (balance-rr, active-backup, broadcast), `lacp_rate` (not 802.3ad)
/// and `primary` (not active-backup/tlb/alb) are ignored with a warning; `ad_select`,
/// `fail_over_mac` and `packets_per_slave` are kept with a warning; `arp_interval` is turned
/// off later by the forced MII monitor. Options that only exist in sysfs/netlink are refused
/// in a mode Linux refuses them in ([`OptionError::NotForMode`]), as those interfaces do.
/// Values are always validated, even when ignored, so a typo never passes silently.
fn apply_at_load(
    config: &mut Config,
    spec: &OptionSpec,
    text: &str,
    warnings: &mut Warnings,
) -> Result<(), OptionError> {
    let mode = config.mode;
    let effect = load_time_effect(spec, mode);
    if let LoadEffect::Refused = effect {
        return Err(OptionError::NotForMode {
            option: spec.id,
            mode,
        });
    }
    let (value, duplicate) = parse_value(spec, text)?;
    if let Some(address) = duplicate {
        warn(
            warnings,
            Warning::DuplicateTarget {
                option: spec.id,
                address,
            },
        );
    }
    if let LoadEffect::NoEffect { effective, ignored } = effect {
        // An empty primary is "no primary": nothing to ignore, nothing to warn about.
        if value != Value::IfName(None) {
            warn(
                warnings,
                Warning::NoEffect {
                    option: spec.id,
                    mode,
                    effective,
                    ignored,
                },
            );
        }
        if ignored {
            return Ok(());
        }
    }
    store(config, spec, value);
    Ok(())
}

/// What module load does with an option given in `mode`.
enum LoadEffect {
    Applied,
    NoEffect { effective: ModeSet, ignored: bool },
    Refused,
}

fn load_time_effect(spec: &OptionSpec, mode: Mode) -> LoadEffect {
    let (effective, ignored) = match spec.id {
        OptionId::XmitHashPolicy => (
            ModeSet::of(&[Mode::Xor, Mode::Lacp, Mode::Tlb, Mode::Alb]),
            true,
        ),
        OptionId::LacpRate | OptionId::Primary => (spec.modes, true),
        OptionId::AdSelect => (ModeSet::LACP, false),
        OptionId::FailOverMac => (ModeSet::of(&[Mode::ActiveBackup]), false),
        OptionId::PacketsPerSlave => (spec.modes, false),
        OptionId::ArpInterval => return LoadEffect::Applied,
        _ if spec.modes.contains(mode) => return LoadEffect::Applied,
        _ => return LoadEffect::Refused,
    };
    if effective.contains(mode) {
        LoadEffect::Applied
    } else {
        LoadEffect::NoEffect { effective, ignored }
    }
}

/// Link-monitor rules of Linux module load, in the kernel's order: force miimon where the mode
/// needs it, let miimon win over arp_interval, round the delays, drop ARP monitoring without
/// targets, refuse arp_validate without ARP monitoring, and warn when nothing watches the links.
fn settle_monitors(
    config: &mut Config,
    given: &Given<'_>,
    warnings: &mut Warnings,
) -> Result<(), OptionError> {
    if !config.mode.supports_arp_monitor() && config.miimon == 0 {
        config.miimon = DEFAULT_MIIMON;
        warn(warnings, Warning::MiimonForced { mode: config.mode });
    }
    if config.miimon == 0 {
        warn_delays_without_miimon(config, warnings);
    } else {
        if config.arp_interval != 0 {
            warn(
                warnings,
                Warning::ArpMonitorDisabled {
                    miimon: config.miimon,
                    arp_interval: config.arp_interval,
                },
            );
            config.arp_interval = 0;
        }
        warn_rounded_delays(config, warnings);
    }
    if config.arp_interval != 0 && !has_targets(config) {
        warn(
            warnings,
            Warning::ArpWithoutTargets {
                arp_interval: config.arp_interval,
                disabled: true,
            },
        );
        config.arp_interval = 0;
    }
    // Linux refuses any arp_validate (even "none") once ARP monitoring ended up off.
    if given[OptionId::ArpValidate as usize].is_some() && config.arp_interval == 0 {
        return Err(OptionError::RequiresArpInterval {
            option: OptionId::ArpValidate,
        });
    }
    if config.miimon == 0 && config.arp_interval == 0 {
        warn(warnings, Warning::NoLinkMonitoring);
    }
    Ok(())
}

/// Whether ARP monitoring has anything to probe (an ARP or an NS target).
pub(crate) fn has_targets(config: &Config) -> bool {
    !config.arp_ip_target.is_empty() || !config.ns_ip6_target.is_empty()
}

/// The delays kept in miimon ticks, with their values in ms.
pub(crate) fn delays(config: &Config) -> [(OptionId, u32); 3] {
    [
        (OptionId::Updelay, config.updelay_ms),
        (OptionId::Downdelay, config.downdelay_ms),
        (OptionId::PeerNotifDelay, config.peer_notif_delay_ms),
    ]
}

fn warn_delays_without_miimon(config: &Config, warnings: &mut Warnings) {
    for (option, ms) in delays(config) {
        if ms != 0 {
            warn(warnings, Warning::DelayWithoutMiimon { option });
        }
    }
}

fn warn_rounded_delays(config: &Config, warnings: &mut Warnings) {
    for (option, ms) in delays(config) {
        if !ms.is_multiple_of(config.miimon) {
            warn(
                warnings,
                Warning::DelayRounded {
                    option,
                    given: ms,
                    miimon: config.miimon,
                },
            );
        }
    }
}
