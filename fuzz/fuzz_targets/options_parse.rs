//! The option grammar: `Config::parse_with_warnings` and `options::set_option` on any text.
//!
//! Input: `TEXT [\0 CTX NAME \0 VALUE]`. TEXT (lossy UTF-8) is parsed as a whole option string;
//! each of its `name=value` tokens is then applied with `set_option` to the parsed configuration
//! (or the default one when TEXT does not parse), and so is the optional NAME/VALUE pair after
//! the first NUL, with CTX's two low bits as "bond up" and "has ports".
//!
//! Checked:
//! - no panic, on any input, in parsing, changing, rendering and error/warning messages;
//! - a parsed configuration renders (`Config::options`) to a string that parses back to the same
//!   configuration, and so does that string (rendering is a fixed point);
//! - `set_option` leaves the configuration untouched whenever it returns `Err` ("nothing
//!   half-applies"), and every option's value renders afterwards.
#![no_main]

use bond_core::options::{option_value, set_option, OptionContext, OPTIONS};
use bond_core::Config;
use libfuzzer_sys::fuzz_target;

/// At most this many tokens of TEXT go through `set_option` (keeps each run short: an unknown
/// name costs an edit-distance search over the option table).
const MAX_TOKENS: usize = 8;

fuzz_target!(|data: &[u8]| {
    let (text, tail) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    };
    // Valid UTF-8 is used as is; anything else goes through the lossy conversion (U+FFFD).
    let text = String::from_utf8_lossy(text);
    let parsed = check_parse(&text);

    let mut config = parsed.unwrap_or_default();
    for (i, token) in text.split_ascii_whitespace().take(MAX_TOKENS).enumerate() {
        let (name, value) = token.split_once('=').unwrap_or((token, ""));
        let ctx = OptionContext {
            bond_up: i & 1 != 0,
            has_ports: i & 2 != 0,
        };
        check_set(&mut config, name, value, &ctx);
    }

    if let Some((&ctx, rest)) = tail.and_then(<[u8]>::split_first) {
        let (name, value) = match rest.iter().position(|&b| b == 0) {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &[][..]),
        };
        let ctx = OptionContext {
            bond_up: ctx & 1 != 0,
            has_ports: ctx & 2 != 0,
        };
        let (name, value) = (
            String::from_utf8_lossy(name),
            String::from_utf8_lossy(value),
        );
        check_set(&mut config, &name, &value, &ctx);
    }
});

/// Parse `text` and check the render round trip; the configuration if it parsed.
fn check_parse(text: &str) -> Option<Config> {
    let (config, warnings) = match Config::parse_with_warnings(text) {
        Ok(ok) => ok,
        Err(e) => {
            assert!(!e.to_string().is_empty(), "empty error message");
            return None;
        }
    };
    for w in &warnings {
        assert!(!w.to_string().is_empty(), "empty warning message");
    }
    let rendered = config.options().to_string();
    assert!(
        rendered.starts_with("mode="),
        "rendering must start with mode=: {rendered:?}"
    );
    match Config::parse(&rendered) {
        Ok(again) => {
            assert_eq!(
                again, config,
                "render round trip changed the configuration\n  input:    {text:?}\n  rendered: {rendered:?}"
            );
            assert_eq!(
                again.options().to_string(),
                rendered,
                "rendering is not a fixed point"
            );
        }
        Err(e) => panic!(
            "the rendering of a parsed configuration does not parse\n  input:    {text:?}\n  rendered: {rendered:?}\n  error:    {e}"
        ),
    }
    render_every_option(&config);
    Some(config)
}

/// `set_option` on `config`; on error it must not have changed.
fn check_set(config: &mut Config, name: &str, value: &str, ctx: &OptionContext) {
    let before = config.clone();
    match set_option(config, name, value, ctx) {
        Err(e) => {
            assert_eq!(
                *config, before,
                "set_option({name:?}, {value:?}) returned Err ({e}) but changed the configuration"
            );
            assert!(!e.to_string().is_empty(), "empty error message");
        }
        Ok(applied) => {
            for w in &applied.warnings {
                assert!(!w.to_string().is_empty(), "empty warning message");
            }
            // A runtime change may give a configuration module load would refuse (sysfs-only
            // options), so no round trip here; rendering must still work.
            let _ = config.options().to_string();
            let shown = option_value(config, name).map(|v| v.to_string());
            assert!(
                shown.is_ok(),
                "option_value({name:?}) failed after a successful set"
            );
        }
    }
}

/// Every option's current value renders, and looking up each name works.
fn render_every_option(config: &Config) {
    for spec in OPTIONS {
        let value = option_value(config, spec.name).expect("a table name is known");
        let _ = value.to_string();
    }
}
