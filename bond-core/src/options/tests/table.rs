//! The table itself: shape, defaults, value spellings and ranges.

use super::*;
use crate::config::{
    AdSelect, ArpAllTargets, ArpValidate, FailOverMac, LacpRate, PrimaryReselect, XmitHashPolicy,
};

/// Every option of bonding-anchors.md §1.1, in table order.
const NAMES: &[&str] = &[
    "mode",
    "miimon",
    "updelay",
    "downdelay",
    "use_carrier",
    "arp_interval",
    "arp_ip_target",
    "ns_ip6_target",
    "arp_validate",
    "arp_all_targets",
    "arp_missed_max",
    "lacp_rate",
    "lacp_active",
    "ad_select",
    "ad_actor_sys_prio",
    "ad_actor_system",
    "ad_user_port_key",
    "coupled_control",
    "broadcast_neighbor",
    "lacp_strict",
    "lacp_fallback",
    "min_links",
    "xmit_hash_policy",
    "primary",
    "primary_reselect",
    "active_slave",
    "fail_over_mac",
    "num_grat_arp",
    "num_unsol_na",
    "peer_notif_delay",
    "all_slaves_active",
    "packets_per_slave",
    "resend_igmp",
    "tlb_dynamic_lb",
    "lp_interval",
    "max_bonds",
];

#[test]
fn table_is_indexed_by_id_and_complete() {
    let names: Vec<&str> = OPTIONS.iter().map(|s| s.name).collect();
    assert_eq!(names, NAMES);
    for (i, spec) in OPTIONS.iter().enumerate() {
        assert_eq!(spec.id as usize, i, "{}", spec.name);
        assert_eq!(OptionId::ALL[i], spec.id);
        assert_eq!(spec.id.name(), spec.name);
        assert!(core::ptr::eq(lookup(spec.name).unwrap(), spec));
        assert!(!spec.description.is_empty());
    }
    assert!(
        lookup("Mode").is_none(),
        "names are case-sensitive, as in Linux"
    );
}

#[test]
fn every_default_matches_config_default() {
    let config = Config::default();
    for spec in &OPTIONS {
        assert_eq!(value_of(&config, spec.name), spec.default, "{}", spec.name);
    }
    assert_eq!(config.options().to_string(), "mode=balance-rr");
}

#[test]
fn default_word_selects_the_default() {
    // `default` is a valid interface name, so primary and active_slave take it literally.
    for spec in OPTIONS.iter().filter(|s| s.kind != ValueKind::IfName) {
        let mut config = config_in(mode_for(spec));
        config.miimon = 1; // delays need the MII monitor at runtime
        let result = set_option(&mut config, spec.name, "default", &IDLE);
        let expected_ok = spec.flags.contains(OptionFlags::DEFAULT_WORD);
        assert_eq!(result.is_ok(), expected_ok, "{}: {result:?}", spec.name);
        if expected_ok {
            assert_eq!(value_of(&config, spec.name), spec.default, "{}", spec.name);
        }
    }
}

#[test]
fn flags_and_modes_follow_linux() {
    use OptionId as O;
    let down: Vec<_> = OPTIONS
        .iter()
        .filter(|s| s.flags.contains(OptionFlags::REQUIRES_DOWN))
        .map(|s| s.id)
        .collect();
    let expected_down = [
        O::Mode,
        O::LacpRate,
        O::LacpActive,
        O::AdSelect,
        O::AdUserPortKey,
        O::CoupledControl,
        O::TlbDynamicLb,
    ];
    assert_eq!(down, expected_down);
    let no_ports: Vec<_> = OPTIONS
        .iter()
        .filter(|s| s.flags.contains(OptionFlags::REQUIRES_NO_PORTS))
        .map(|s| s.id)
        .collect();
    assert_eq!(no_ports, [O::Mode, O::FailOverMac]);

    let lacp = ModeSet::of(&[Mode::Lacp]);
    let primary = ModeSet::of(&[Mode::ActiveBackup, Mode::Tlb, Mode::Alb]);
    let arp = ModeSet::of(&[
        Mode::RoundRobin,
        Mode::ActiveBackup,
        Mode::Xor,
        Mode::Broadcast,
    ]);
    let cases = [
        (O::LacpRate, lacp),
        (O::LacpActive, lacp),
        (O::AdActorSysPrio, lacp),
        (O::AdActorSystem, lacp),
        (O::AdUserPortKey, lacp),
        (O::CoupledControl, lacp),
        (O::BroadcastNeighbor, lacp),
        (O::LacpStrict, lacp),
        (O::LacpFallback, lacp),
        (O::Primary, primary),
        (O::ActiveSlave, primary),
        (O::ArpInterval, arp),
        (O::ArpValidate, arp),
        (O::ArpMissedMax, arp),
        (O::PacketsPerSlave, ModeSet::of(&[Mode::RoundRobin])),
        (O::TlbDynamicLb, ModeSet::of(&[Mode::Tlb, Mode::Alb])),
    ];
    for spec in &OPTIONS {
        let expected = cases
            .iter()
            .find(|(id, _)| *id == spec.id)
            .map_or(ModeSet::ALL, |(_, m)| *m);
        assert_eq!(spec.modes, expected, "{}", spec.name);
    }
}

#[test]
fn mode_set_reads_as_prose() {
    let primary = ModeSet::of(&[Mode::ActiveBackup, Mode::Tlb, Mode::Alb]);
    assert_eq!(
        primary.to_string(),
        "active-backup, balance-tlb and balance-alb"
    );
    assert_eq!(ModeSet::of(&[Mode::Lacp]).to_string(), "802.3ad");
    assert_eq!(
        ModeSet::of(&[Mode::Tlb, Mode::Alb]).to_string(),
        "balance-tlb and balance-alb"
    );
}

/// Every name and number of an enum option, set by name and by number.
fn check_enum_values(name: &str, expected: &[(&str, u64)]) {
    let spec = lookup(name).unwrap();
    let ValueKind::Enum(values) = spec.kind else {
        panic!("{name} is not an enum");
    };
    let table: Vec<(&str, u64)> = values.iter().map(|v| (v.name, v.value)).collect();
    assert_eq!(table, expected, "{name}");
    for &(text, number) in expected {
        for given in [text.to_string(), number.to_string()] {
            let mut config = config_in(mode_for(spec));
            set_option(&mut config, name, &given, &IDLE).unwrap();
            assert_eq!(value_of(&config, name), text, "{name}={given}");
        }
    }
}

#[test]
fn enum_values_by_name_and_number() {
    fn pairs<T: Copy>(
        all: &[T],
        name: fn(T) -> &'static str,
        n: fn(T) -> u8,
    ) -> Vec<(&'static str, u64)> {
        all.iter().map(|v| (name(*v), u64::from(n(*v)))).collect()
    }
    let mode = [
        ("balance-rr", 0),
        ("active-backup", 1),
        ("balance-xor", 2),
        ("broadcast", 3),
        ("802.3ad", 4),
        ("balance-tlb", 5),
        ("balance-alb", 6),
    ];
    check_enum_values("mode", &mode);
    let xmit = [
        ("layer2", 0),
        ("layer3+4", 1),
        ("layer2+3", 2),
        ("encap2+3", 3),
        ("encap3+4", 4),
        ("vlan+srcmac", 5),
    ];
    check_enum_values("xmit_hash_policy", &xmit);
    check_enum_values("lacp_rate", &[("slow", 0), ("fast", 1)]);
    check_enum_values(
        "ad_select",
        &[
            ("stable", 0),
            ("bandwidth", 1),
            ("count", 2),
            ("actor_port_prio", 3),
        ],
    );
    let validate = [
        ("none", 0),
        ("active", 1),
        ("backup", 2),
        ("all", 3),
        ("filter", 4),
        ("filter_active", 5),
        ("filter_backup", 6),
    ];
    check_enum_values("arp_validate", &validate);
    check_enum_values("arp_all_targets", &[("any", 0), ("all", 1)]);
    check_enum_values(
        "primary_reselect",
        &[("always", 0), ("better", 1), ("failure", 2)],
    );
    check_enum_values(
        "fail_over_mac",
        &[("none", 0), ("active", 1), ("follow", 2)],
    );
    // The table is built from the config enums, so both spell every value alike.
    assert_eq!(pairs(Mode::ALL, Mode::name, Mode::number), mode);
    assert_eq!(
        pairs(
            XmitHashPolicy::ALL,
            XmitHashPolicy::name,
            XmitHashPolicy::number
        ),
        xmit
    );
    assert_eq!(
        pairs(LacpRate::ALL, LacpRate::name, LacpRate::number).len(),
        2
    );
    assert_eq!(
        pairs(AdSelect::ALL, AdSelect::name, AdSelect::number).len(),
        4
    );
    assert_eq!(
        pairs(ArpValidate::ALL, ArpValidate::name, ArpValidate::number),
        validate
    );
    assert_eq!(
        pairs(
            ArpAllTargets::ALL,
            ArpAllTargets::name,
            ArpAllTargets::number
        )
        .len(),
        2
    );
    assert_eq!(
        pairs(
            PrimaryReselect::ALL,
            PrimaryReselect::name,
            PrimaryReselect::number
        )
        .len(),
        3
    );
    assert_eq!(
        pairs(FailOverMac::ALL, FailOverMac::name, FailOverMac::number).len(),
        3
    );
}

#[test]
fn enum_numbers_out_of_the_table_are_invalid() {
    for (name, bad) in [
        ("mode", "7"),
        ("xmit_hash_policy", "6"),
        ("lacp_rate", "2"),
        ("arp_validate", "7"),
        ("mode", "-1"),
        ("mode", "+4"),
        ("mode", "Active-Backup"),
        ("mode", ""),
    ] {
        let spec = lookup(name).unwrap();
        let mut config = config_in(mode_for(spec));
        let err = set_option(&mut config, name, bad, &IDLE).unwrap_err();
        let bad = bad.trim(); // runtime values are trimmed, like sysfs input
        assert_eq!(
            err,
            OptionError::InvalidValue {
                option: spec.id,
                value: ValueText::new(bad)
            },
            "{name}={bad}"
        );
    }
}

#[test]
fn booleans_take_numbers_and_words() {
    let bools = [
        "use_carrier",
        "lacp_active",
        "coupled_control",
        "broadcast_neighbor",
        "lacp_strict",
        "lacp_fallback",
        "all_slaves_active",
        "tlb_dynamic_lb",
    ];
    for name in bools {
        let spec = lookup(name).unwrap();
        assert_eq!(spec.kind, ValueKind::Bool, "{name}");
        for (given, rendered) in [("0", "0"), ("1", "1"), ("off", "0"), ("on", "1")] {
            let mut config = config_in(mode_for(spec));
            set_option(&mut config, name, given, &IDLE).unwrap();
            assert_eq!(value_of(&config, name), rendered, "{name}={given}");
        }
        for bad in ["2", "yes", "true", "ON"] {
            let mut config = config_in(mode_for(spec));
            assert!(matches!(
                set_option(&mut config, name, bad, &IDLE),
                Err(OptionError::InvalidValue { .. })
            ));
        }
    }
}

/// (option, min, max) of every integer option, from Linux's value tables.
const RANGES: &[(&str, u64, u64)] = &[
    ("miimon", 0, INT_MAX),
    ("updelay", 0, INT_MAX),
    ("downdelay", 0, INT_MAX),
    ("arp_interval", 0, INT_MAX),
    ("arp_missed_max", 1, 255),
    ("ad_actor_sys_prio", 1, 65535),
    ("ad_user_port_key", 0, 1023),
    ("min_links", 0, INT_MAX),
    ("num_grat_arp", 0, 255),
    ("num_unsol_na", 0, 255),
    ("peer_notif_delay", 0, 300_000),
    ("packets_per_slave", 0, 65535),
    ("resend_igmp", 0, 255),
    ("lp_interval", 1, INT_MAX),
    ("max_bonds", 0, INT_MAX),
];

#[test]
fn integer_ranges_at_the_edges() {
    let ints: Vec<&str> = OPTIONS
        .iter()
        .filter(|s| matches!(s.kind, ValueKind::Int { .. }))
        .map(|s| s.name)
        .collect();
    let listed: Vec<&str> = RANGES.iter().map(|r| r.0).collect();
    assert_eq!(ints, listed);
    for &(name, min, max) in RANGES {
        let spec = lookup(name).unwrap();
        assert!(matches!(spec.kind, ValueKind::Int { min: a, max: b, .. } if a == min && b == max));
        // A target keeps arp_interval on (without one, module load turns ARP monitoring off).
        let mode = format!("mode={} arp_ip_target=10.0.0.1", mode_for(spec).name());
        for ok in [min, max] {
            let (config, _) = parse_ok(&format!("{mode} {name}={ok}"));
            assert_eq!(value_of(&config, name), ok.to_string(), "{name}={ok}");
        }
        let mut outside = vec![max + 1, u64::MAX];
        outside.extend(min.checked_sub(1));
        for bad in outside {
            let s = format!("{mode} {name}={bad}");
            assert_eq!(
                parse_err(&s),
                OptionError::OutOfRange {
                    option: spec.id,
                    value: ValueText::new(&bad.to_string())
                },
                "{s}"
            );
        }
    }
}

#[test]
fn integer_ranges_at_runtime() {
    for &(name, min, max) in RANGES.iter().filter(|r| r.0 != "max_bonds") {
        let spec = lookup(name).unwrap();
        let mut config = config_in(mode_for(spec));
        config.miimon = 1; // so that the delays may be set
        for ok in [min, max] {
            set_option(&mut config, name, &ok.to_string(), &IDLE).unwrap();
        }
        let mut outside = vec![max + 1];
        outside.extend(min.checked_sub(1));
        for bad in outside {
            let before = config.clone();
            let err = set_option(&mut config, name, &bad.to_string(), &IDLE).unwrap_err();
            assert!(
                matches!(err, OptionError::OutOfRange { .. }),
                "{name}={bad}: {err}"
            );
            assert_eq!(config, before);
        }
    }
}

#[test]
fn integer_words_follow_linux_tables() {
    let cases: &[(&str, &str, Option<u64>)] = &[
        ("miimon", "off", Some(0)),
        ("miimon", "maxval", Some(INT_MAX)),
        ("miimon", "default", Some(0)),
        ("miimon", "minval", None),
        ("arp_interval", "maxval", Some(INT_MAX)),
        ("min_links", "off", Some(0)),
        ("packets_per_slave", "maxval", Some(65535)),
        ("packets_per_slave", "default", Some(1)),
        ("packets_per_slave", "off", None),
        ("num_grat_arp", "off", Some(0)),
        ("num_grat_arp", "maxval", Some(255)),
        ("num_unsol_na", "default", Some(1)),
        ("peer_notif_delay", "maxval", Some(300_000)),
        ("peer_notif_delay", "default", None),
        ("resend_igmp", "off", Some(0)),
        ("lp_interval", "minval", Some(1)),
        ("lp_interval", "default", Some(1)),
        ("lp_interval", "maxval", Some(INT_MAX)),
        ("ad_actor_sys_prio", "minval", Some(1)),
        ("ad_actor_sys_prio", "default", Some(65535)),
        ("ad_user_port_key", "maxval", Some(1023)),
        ("ad_user_port_key", "default", Some(0)),
        ("arp_missed_max", "default", Some(2)),
        ("arp_missed_max", "minval", Some(1)),
        ("max_bonds", "maxval", None),
        ("miimon", "0x10", None),
        ("miimon", "1e3", None),
        ("miimon", "-5", None),
    ];
    for &(name, word, expected) in cases {
        let spec = lookup(name).unwrap();
        let s = format!(
            "mode={} arp_ip_target=10.0.0.1 {name}={word}",
            mode_for(spec).name()
        );
        match expected {
            Some(n) => assert_eq!(value_of(&parse_ok(&s).0, name), n.to_string(), "{s}"),
            None => assert!(
                matches!(parse_err(&s), OptionError::InvalidValue { .. }),
                "{s}"
            ),
        }
    }
    // Linux's lacp_rate table flags no default, so `default` is refused there.
    assert!(matches!(
        parse_err("mode=802.3ad lacp_rate=default"),
        OptionError::InvalidValue { .. }
    ));
    assert_eq!(
        parse_ok("mode=802.3ad ad_select=default").0.ad_select,
        AdSelect::Stable
    );
    assert_eq!(parse_ok("miimon=0100").0.miimon, 100);
}

#[test]
fn interface_names_follow_dev_valid_name() {
    for ok in [
        "eth0",
        "a",
        "enp0s31f6",
        "123456789012345",
        "eth0.100",
        "wlan-1",
        "ä",
    ] {
        assert!(is_valid_ifname(ok), "{ok}");
        assert_eq!(parse_ifname(ok).unwrap().as_str(), ok);
    }
    for bad in [
        "",
        ".",
        "..",
        "1234567890123456",
        "eth/0",
        "eth:0",
        "eth 0",
        "eth\t0",
        "eth\n",
        "a\u{b}b",
        "nul\0",
    ] {
        assert!(!is_valid_ifname(bad), "{bad:?}");
        assert!(parse_ifname(bad).is_none());
    }
}

#[test]
fn ad_actor_system_must_be_unicast() {
    let (config, _) = parse_ok("mode=802.3ad ad_actor_system=02:00:5e:10:00:01");
    assert_eq!(config.ad_actor_system.0, [2, 0, 0x5e, 0x10, 0, 1]);
    assert_eq!(value_of(&config, "ad_actor_system"), "02:00:5e:10:00:01");
    // All zeros means "use the bond MAC" and is the default.
    let (config, _) = parse_ok("mode=802.3ad ad_actor_system=00:00:00:00:00:00");
    assert_eq!(config, parse_ok("mode=802.3ad").0);
    for bad in [
        "01:00:5e:00:00:01",
        "ff:ff:ff:ff:ff:ff",
        "02:00:5e:10:00",
        "garbage",
        "",
    ] {
        let s = format!("mode=802.3ad ad_actor_system={bad}");
        assert_eq!(
            parse_err(&s),
            OptionError::InvalidValue {
                option: OptionId::AdActorSystem,
                value: ValueText::new(bad)
            }
        );
    }
}

#[test]
fn target_addresses_must_be_unicast() {
    for bad in [
        "0.0.0.0",
        "0.1.2.3",
        "255.255.255.255",
        "224.0.0.1",
        "10.0.0.256",
        "10.0.0",
        "10.0.0.1.2",
        "::1",
        "",
    ] {
        let s = format!("arp_ip_target=10.0.0.1,{bad}");
        assert_eq!(
            parse_err(&s),
            OptionError::InvalidValue {
                option: OptionId::ArpIpTarget,
                value: ValueText::new(bad)
            },
            "{s}"
        );
    }
    for bad in [
        "::",
        "::1",
        "ff02::1",
        "10.0.0.1",
        "2001:db8::g",
        "2001:db8:::1",
    ] {
        let s = format!("ns_ip6_target={bad}");
        assert!(
            matches!(
                parse_err(&s),
                OptionError::InvalidValue {
                    option: OptionId::NsIp6Target,
                    ..
                }
            ),
            "{s}"
        );
    }
    let (config, _) = parse_ok("ns_ip6_target=2001:db8::1,fe80::1");
    assert_eq!(value_of(&config, "ns_ip6_target"), "2001:db8::1,fe80::1");
    let seventeen: Vec<String> = (1..=17).map(|i| format!("10.0.0.{i}")).collect();
    assert_eq!(
        parse_err(&format!("arp_ip_target={}", seventeen.join(","))),
        OptionError::TooManyTargets {
            option: OptionId::ArpIpTarget
        }
    );
    let sixteen = &seventeen[..16].join(",");
    let (config, _) = parse_ok(&format!("arp_ip_target={sixteen}"));
    assert_eq!(config.arp_ip_target.len(), 16);
}
