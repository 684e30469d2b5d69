//! Rendering a configuration in the kernel grammar.

use core::fmt;

use super::access::{same, write_value};
use super::error::OptionError;
use super::table::{lookup, OptionFlags, OptionId, OptionSpec, OPTIONS};
use crate::config::Config;

/// A [`Config`] as an option string: `mode` first, then every option whose value differs from
/// Linux's default, in table order (see [`Config::options`]).
#[derive(Debug, Clone, Copy)]
pub struct OptionsDisplay<'a> {
    config: &'a Config,
}

impl<'a> OptionsDisplay<'a> {
    pub(crate) fn new(config: &'a Config) -> Self {
        Self { config }
    }
}

impl fmt::Display for OptionsDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let defaults = Config::default();
        let mode = OptionId::Mode.spec();
        write!(f, "{}=", mode.name)?;
        write_value(f, self.config, mode)?;
        for spec in OPTIONS.iter().filter(|s| rendered(s)) {
            if !same(self.config, &defaults, spec) {
                write!(f, " {}=", spec.name)?;
                write_value(f, self.config, spec)?;
            }
        }
        Ok(())
    }
}

/// Every option but `mode` (written first) and aliases (their value is written once).
fn rendered(spec: &OptionSpec) -> bool {
    spec.id != OptionId::Mode && !spec.flags.contains(OptionFlags::ALIAS)
}

/// One option's current value in the kernel grammar, as `cat /sys/class/net/bondX/bonding/NAME`
/// would show it with names instead of numbers (see [`option_value`]).
#[derive(Debug, Clone, Copy)]
pub struct OptionValue<'a> {
    config: &'a Config,
    spec: &'static OptionSpec,
}

impl OptionValue<'_> {
    /// The option's table entry.
    pub fn spec(&self) -> &'static OptionSpec {
        self.spec
    }
}

impl fmt::Display for OptionValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_value(f, self.config, self.spec)
    }
}

/// The current value of the option called `name`, for printing (empty for an unset name or an
/// empty list).
pub fn option_value<'a>(config: &'a Config, name: &str) -> Result<OptionValue<'a>, OptionError> {
    let spec = lookup(name).ok_or_else(|| super::unknown_option(name))?;
    Ok(OptionValue { config, spec })
}
