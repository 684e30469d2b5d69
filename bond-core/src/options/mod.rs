//! Linux bonding options: one table ([`OPTIONS`]) drives parsing, validation, runtime changes and
//! rendering.
//!
//! Three entry points follow the three ways Linux takes options:
//! - [`Config::parse`] / [`Config::parse_with_warnings`]: a whole option string, as given to
//!   `modprobe bonding ...`, `BONDING_OPTS="..."` (initscripts) or `BONDING_MODULE_OPTS='...'`
//!   (sysconfig): whitespace-separated `name=value` tokens in any order, with the semantics of
//!   Linux module load. The result is a fresh [`Config`] or an error; nothing half-applies.
//! - [`set_option`]: one change to an existing configuration, with the rules of sysfs and netlink
//!   (bond up or down, ports or not, side effects on other options).
//! - [`Config::options`] and [`option_value`]: rendering, in the same grammar.
//!
//! Values are spelled as Linux spells them: `mode=802.3ad` and `mode=4` are the same, integer
//! options take Linux's words (`off`, `maxval`, `minval`) and `default` where Linux's value table
//! has a default, booleans take `0`/`1`/`off`/`on`.
//!
//! ```
//! use bond_core::{Config, Mode};
//!
//! let (config, warnings) = Config::parse_with_warnings("mode=802.3ad lacp_rate=fast").unwrap();
//! assert_eq!(config.mode, Mode::Lacp);
//! assert_eq!(config.miimon, 100); // Linux forces the MII monitor on in 802.3ad
//! assert_eq!(warnings.len(), 1);
//! assert_eq!(config.options().to_string(), "mode=802.3ad miimon=100 lacp_rate=fast");
//! ```

mod access;
mod error;
mod parse;
mod render;
mod runtime;
mod table;
mod value;

#[cfg(test)]
mod tests;

pub use error::{OptionError, ValueText, Warning, Warnings, MAX_WARNINGS, VALUE_TEXT_MAX};
pub use render::{option_value, OptionValue, OptionsDisplay};
pub use runtime::{set_option, Applied, OptionContext};
pub use table::{
    lookup, ModeSet, NamedValue, OptionFlags, OptionId, OptionSpec, ValueKind, INT_MAX, OPTIONS,
};
pub use value::{is_valid_ifname, parse_ifname};

use crate::config::Config;

impl Config {
    /// Parse a kernel option string (see the [module docs](crate::options)), dropping warnings.
    ///
    /// Prefer [`Config::parse_with_warnings`] where warnings can be shown: a configuration without
    /// link monitoring parses fine but gets [`Warning::NoLinkMonitoring`].
    pub fn parse(s: &str) -> Result<Self, OptionError> {
        parse::parse(s).map(|(config, _)| config)
    }

    /// Parse a kernel option string into a fresh configuration, with Linux module-load rules:
    /// - unknown names, malformed tokens, bad or out-of-range values and an option given twice
    ///   are errors;
    /// - 802.3ad, balance-tlb and balance-alb get `miimon=100` when `miimon` is 0;
    /// - `miimon` > 0 wins over `arp_interval`, which is turned off with a warning;
    /// - `arp_interval` without any target is turned off with a warning;
    /// - `arp_validate` without ARP monitoring in the end is an error;
    /// - delays that are not a multiple of `miimon` are rounded down (warning), and have no effect
    ///   without `miimon` (warning);
    /// - options for other modes are ignored or kept with a warning where Linux module load does
    ///   so, and refused where only sysfs/netlink know them (see [`OptionError::NotForMode`]);
    /// - no link monitoring at all gives [`Warning::NoLinkMonitoring`].
    pub fn parse_with_warnings(s: &str) -> Result<(Self, Warnings), OptionError> {
        parse::parse(s)
    }

    /// This configuration as a kernel option string: `mode` first, then each option that differs
    /// from Linux's default, in table order, with value names (`mode=active-backup miimon=100
    /// primary=eth0`). For a configuration that came from [`Config::parse`], parsing the string
    /// gives the same configuration back.
    pub fn options(&self) -> OptionsDisplay<'_> {
        OptionsDisplay::new(self)
    }
}

/// The error for an unknown option name, with the closest known name when one is close.
pub(crate) fn unknown_option(name: &str) -> OptionError {
    OptionError::UnknownOption {
        name: ValueText::new(name),
        suggestion: closest_option(name),
    }
}

/// The option whose name is within two edits of `name`, if any (the closest wins).
fn closest_option(name: &str) -> Option<OptionId> {
    OPTIONS
        .iter()
        .filter_map(|spec| edit_distance(name, spec.name).map(|d| (d, spec.id)))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, id)| id)
}

/// Longest name compared for suggestions; longer input is not a typo of an option name.
const SUGGEST_MAX: usize = 32;

/// Levenshtein distance over bytes, or `None` when `a` is too long to be a typo.
fn edit_distance(a: &str, b: &str) -> Option<usize> {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() > SUGGEST_MAX || b.len() > SUGGEST_MAX {
        return None;
    }
    let mut row = [0usize; SUGGEST_MAX + 1];
    for (j, cell) in row.iter_mut().enumerate().take(b.len() + 1) {
        *cell = j;
    }
    for (i, &ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(diagonal + 1);
        }
    }
    Some(row[b.len()])
}
