//! Tests of the option table, the load-time grammar, runtime changes and rendering.

mod errors;
mod load;
mod props;
mod runtime;
mod table;

use super::*;
use crate::config::Mode;

/// Parse `s`, panicking with the error message if it fails.
fn parse_ok(s: &str) -> (Config, Warnings) {
    match Config::parse_with_warnings(s) {
        Ok(parsed) => parsed,
        Err(e) => panic!("{s:?} failed: {e}"),
    }
}

/// The parse error of `s`, panicking if it parses.
fn parse_err(s: &str) -> OptionError {
    match Config::parse(s) {
        Ok(c) => panic!("{s:?} parsed to {}", c.options()),
        Err(e) => e,
    }
}

/// A configuration in `mode`, as built by Linux for that mode.
fn config_in(mode: Mode) -> Config {
    Config {
        mode,
        ..Config::default()
    }
}

/// A mode in which Linux accepts `spec` (the first in numeric order).
fn mode_for(spec: &OptionSpec) -> Mode {
    spec.modes.iter().next().unwrap_or(Mode::RoundRobin)
}

/// A bond that is down and has no ports: every option may change.
const IDLE: OptionContext = OptionContext {
    bond_up: false,
    has_ports: false,
};

/// The option's current value as text.
fn value_of(config: &Config, name: &str) -> String {
    option_value(config, name).unwrap().to_string()
}
