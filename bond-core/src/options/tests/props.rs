//! Property tests: no input makes the parser panic, and rendering round-trips.

use core::net::{Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;
use proptest::sample::{select, subsequence};

use super::*;

/// A valid spelling of a value of `spec`.
fn valid_value(spec: &'static OptionSpec) -> BoxedStrategy<String> {
    let value = match spec.kind {
        ValueKind::Enum(values) => select(values)
            .prop_flat_map(|v| prop_oneof![Just(v.name.to_string()), Just(v.value.to_string())])
            .boxed(),
        ValueKind::Int { min, max, words } => {
            let edges = select(vec![min, max]).prop_map(|n| n.to_string());
            let numbers = (min..=max).prop_map(|n| n.to_string());
            if words.is_empty() {
                prop_oneof![edges, numbers].boxed()
            } else {
                let words = select(words).prop_map(|w| w.name.to_string());
                prop_oneof![edges, numbers, words].boxed()
            }
        }
        ValueKind::Bool => select(vec!["0", "1", "on", "off"])
            .prop_map(str::to_string)
            .boxed(),
        ValueKind::Mac => any::<[u8; 6]>()
            .prop_map(|mut b| {
                b[0] &= 0xfe;
                crate::wire::EthernetAddress(b).to_string()
            })
            .boxed(),
        ValueKind::IfName => "([a-z][a-z0-9.-]{0,14})?".boxed(),
        ValueKind::Ipv4List => prop::collection::vec((1u8..224, any::<[u8; 3]>()), 0..18)
            .prop_map(|v| {
                let items: Vec<String> = v
                    .iter()
                    .map(|(a, r)| Ipv4Addr::new(*a, r[0], r[1], r[2]).to_string())
                    .collect();
                items.join(",")
            })
            .boxed(),
        ValueKind::Ipv6List => prop::collection::vec(any::<[u16; 7]>(), 0..5)
            .prop_map(|v| {
                let items: Vec<String> = v
                    .iter()
                    .map(|s| {
                        Ipv6Addr::new(0x2001, s[0], s[1], s[2], s[3], s[4], s[5], s[6]).to_string()
                    })
                    .collect();
                items.join(",")
            })
            .boxed(),
    };
    if spec.flags.contains(OptionFlags::DEFAULT_WORD) {
        prop_oneof![4 => value, 1 => Just("default".to_string())].boxed()
    } else {
        value
    }
}

/// Option strings made of valid tokens: a mode, then a few options (mostly ones that apply to
/// it), in random order and with random whitespace.
fn option_string() -> impl Strategy<Value = String> {
    let mode = select(Mode::ALL.to_vec());
    let ids: Vec<usize> = (1..OPTIONS.len()).collect();
    (mode, subsequence(ids, 0..12))
        .prop_flat_map(|(mode, ids)| {
            let tokens: Vec<BoxedStrategy<String>> = ids
                .into_iter()
                .filter(|&i| OPTIONS[i].modes.contains(mode) || i % 3 == 0)
                .filter(|&i| OPTIONS[i].id != OptionId::NumUnsolNa || i % 2 == 0)
                .map(|i| {
                    let spec = &OPTIONS[i];
                    valid_value(spec)
                        .prop_map(move |v| format!("{}={v}", spec.name))
                        .boxed()
                })
                .collect();
            let mode_token = prop_oneof![
                Just(format!("mode={}", mode.name())),
                Just(format!("mode={}", mode.number())),
            ];
            (mode_token, tokens, any::<u64>())
        })
        .prop_map(|(mode, mut tokens, seed)| {
            tokens.push(mode);
            let n = tokens.len();
            tokens.rotate_left((seed as usize) % n);
            let gap = if seed & 1 == 0 { " " } else { " \t " };
            tokens.join(gap)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn render_round_trips(s in option_string()) {
        if let Ok(config) = Config::parse(&s) {
            let rendered = config.options().to_string();
            let reparsed = Config::parse(&rendered);
            prop_assert_eq!(reparsed.as_ref(), Ok(&config), "{} -> {}", s, rendered);
            prop_assert!(rendered.starts_with("mode="));
        }
    }

    #[test]
    fn parse_never_panics(s in any::<String>()) {
        let _ = Config::parse_with_warnings(&s);
    }

    #[test]
    fn parse_never_panics_on_option_like_text(
        name in select(OPTIONS.iter().map(|s| s.name).collect::<Vec<_>>()),
        value in prop_oneof![
            any::<String>(),
            "[0-9]{1,40}",
            "[+-]?[0-9a-f:.,]{0,60}",
            Just("99999999999999999999".to_string()),
            Just("ü…\u{0}\n".to_string()),
        ],
        extra in "( [a-z_]{1,20}=[a-z0-9.:,+-]{0,20}){0,4}",
    ) {
        let s = format!("{name}={value}{extra}");
        if let Err(e) = Config::parse_with_warnings(&s) {
            // Every error renders without panicking and names something.
            prop_assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn set_option_never_panics_and_never_half_applies(
        s in option_string(),
        name in select(OPTIONS.iter().map(|s| s.name).collect::<Vec<_>>()),
        value in prop_oneof![any::<String>(), "[+-]?[0-9a-f:.,]{0,40}", "[a-z0-9+-]{0,12}"],
        bond_up in any::<bool>(),
        has_ports in any::<bool>(),
    ) {
        let mut config = Config::parse(&s).unwrap_or_default();
        let before = config.clone();
        let ctx = OptionContext { bond_up, has_ports };
        match set_option(&mut config, name, &value, &ctx) {
            Ok(applied) => {
                for w in &applied.warnings {
                    prop_assert!(!w.to_string().is_empty());
                }
                let _ = option_value(&config, name).map(|v| v.to_string());
            }
            Err(e) => {
                prop_assert_eq!(&config, &before);
                prop_assert!(!e.to_string().is_empty());
            }
        }
    }
}
