//! The whole-string grammar with Linux module-load semantics, and rendering.

use core::net::{IpAddr, Ipv4Addr};

use super::*;
use crate::config::{AdSelect, FailOverMac, LacpRate, XmitHashPolicy};
use crate::time::Duration;

fn ip(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

/// (input, rendered configuration, warnings).
const GRAMMAR: &[(&str, &str, &[Warning])] = &[
    (
        "mode=active-backup miimon=100 primary=eth0",
        "mode=active-backup miimon=100 primary=eth0",
        &[],
    ),
    ("mode=1", "mode=active-backup", &[Warning::NoLinkMonitoring]),
    ("", "mode=balance-rr", &[Warning::NoLinkMonitoring]),
    (
        "arp_interval=1000 arp_ip_target=10.0.0.1,10.0.0.2",
        "mode=balance-rr arp_interval=1000 arp_ip_target=10.0.0.1,10.0.0.2",
        &[],
    ),
    (
        "mode=802.3ad lacp_rate=fast",
        "mode=802.3ad miimon=100 lacp_rate=fast",
        &[Warning::MiimonForced { mode: Mode::Lacp }],
    ),
    // Linux forces miimon whenever it is 0 in a mode without ARP monitoring, even when given.
    (
        "mode=802.3ad miimon=0 arp_interval=0",
        "mode=802.3ad miimon=100",
        &[Warning::MiimonForced { mode: Mode::Lacp }],
    ),
    (
        "mode=balance-tlb",
        "mode=balance-tlb miimon=100",
        &[Warning::MiimonForced { mode: Mode::Tlb }],
    ),
    ("mode=6 miimon=50", "mode=balance-alb miimon=50", &[]),
    // arp_interval in a mode without ARP monitoring: the forced MII monitor wins (a warning).
    (
        "mode=802.3ad arp_interval=1000 arp_ip_target=10.0.0.1",
        "mode=802.3ad miimon=100 arp_ip_target=10.0.0.1",
        &[
            Warning::MiimonForced { mode: Mode::Lacp },
            Warning::ArpMonitorDisabled {
                miimon: 100,
                arp_interval: 1000,
            },
        ],
    ),
    (
        "miimon=100 arp_interval=1000 arp_ip_target=10.0.0.1",
        "mode=balance-rr miimon=100 arp_ip_target=10.0.0.1",
        &[Warning::ArpMonitorDisabled {
            miimon: 100,
            arp_interval: 1000,
        }],
    ),
    (
        "arp_interval=1000",
        "mode=balance-rr",
        &[
            Warning::ArpWithoutTargets {
                arp_interval: 1000,
                disabled: true,
            },
            Warning::NoLinkMonitoring,
        ],
    ),
    (
        "mode=active-backup arp_interval=200 ns_ip6_target=2001:db8::1",
        "mode=active-backup arp_interval=200 ns_ip6_target=2001:db8::1",
        &[],
    ),
    (
        "updelay=200 miimon=100",
        "mode=balance-rr miimon=100 updelay=200",
        &[],
    ),
    (
        "miimon=100 updelay=250 downdelay=99 peer_notif_delay=300",
        "mode=balance-rr miimon=100 updelay=250 downdelay=99 peer_notif_delay=300",
        &[
            Warning::DelayRounded {
                option: OptionId::Updelay,
                given: 250,
                miimon: 100,
            },
            Warning::DelayRounded {
                option: OptionId::Downdelay,
                given: 99,
                miimon: 100,
            },
        ],
    ),
    (
        "updelay=200 downdelay=100",
        "mode=balance-rr updelay=200 downdelay=100",
        &[
            Warning::DelayWithoutMiimon {
                option: OptionId::Updelay,
            },
            Warning::DelayWithoutMiimon {
                option: OptionId::Downdelay,
            },
            Warning::NoLinkMonitoring,
        ],
    ),
    (
        "mode=balance-rr miimon=100 primary=eth0",
        "mode=balance-rr miimon=100",
        &[Warning::NoEffect {
            option: OptionId::Primary,
            mode: Mode::RoundRobin,
            effective: ModeSet::of(&[Mode::ActiveBackup, Mode::Tlb, Mode::Alb]),
            ignored: true,
        }],
    ),
    ("miimon=100 primary=", "mode=balance-rr miimon=100", &[]),
    (
        "miimon=100 lacp_rate=fast",
        "mode=balance-rr miimon=100",
        &[Warning::NoEffect {
            option: OptionId::LacpRate,
            mode: Mode::RoundRobin,
            effective: ModeSet::of(&[Mode::Lacp]),
            ignored: true,
        }],
    ),
    (
        "mode=1 miimon=100 xmit_hash_policy=layer3+4",
        "mode=active-backup miimon=100",
        &[Warning::NoEffect {
            option: OptionId::XmitHashPolicy,
            mode: Mode::ActiveBackup,
            effective: ModeSet::of(&[Mode::Xor, Mode::Lacp, Mode::Tlb, Mode::Alb]),
            ignored: true,
        }],
    ),
    (
        "mode=balance-xor miimon=100 xmit_hash_policy=1",
        "mode=balance-xor miimon=100 xmit_hash_policy=layer3+4",
        &[],
    ),
    (
        "mode=balance-tlb xmit_hash_policy=layer2+3 tlb_dynamic_lb=0",
        "mode=balance-tlb miimon=100 xmit_hash_policy=layer2+3 tlb_dynamic_lb=0",
        &[Warning::MiimonForced { mode: Mode::Tlb }],
    ),
    (
        "miimon=100 ad_select=count fail_over_mac=active",
        "mode=balance-rr miimon=100 ad_select=count fail_over_mac=active",
        &[
            Warning::NoEffect {
                option: OptionId::AdSelect,
                mode: Mode::RoundRobin,
                effective: ModeSet::of(&[Mode::Lacp]),
                ignored: false,
            },
            Warning::NoEffect {
                option: OptionId::FailOverMac,
                mode: Mode::RoundRobin,
                effective: ModeSet::of(&[Mode::ActiveBackup]),
                ignored: false,
            },
        ],
    ),
    (
        "mode=2 miimon=100 packets_per_slave=3",
        "mode=balance-xor miimon=100 packets_per_slave=3",
        &[Warning::NoEffect {
            option: OptionId::PacketsPerSlave,
            mode: Mode::Xor,
            effective: ModeSet::of(&[Mode::RoundRobin]),
            ignored: false,
        }],
    ),
    (
        "arp_interval=100 arp_ip_target=10.0.0.1,10.0.0.2,10.0.0.1",
        "mode=balance-rr arp_interval=100 arp_ip_target=10.0.0.1,10.0.0.2",
        &[Warning::DuplicateTarget {
            option: OptionId::ArpIpTarget,
            address: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
        }],
    ),
    (
        "mode=active-backup miimon=100 num_unsol_na=3 use_carrier=off all_slaves_active=on",
        "mode=active-backup miimon=100 use_carrier=0 num_grat_arp=3 all_slaves_active=1",
        &[],
    ),
    (
        "mode=4 lacp_rate=1 lacp_active=off ad_select=bandwidth ad_actor_sys_prio=100 \
         ad_actor_system=02:00:00:00:00:01 ad_user_port_key=5 coupled_control=0 \
         broadcast_neighbor=on lacp_strict=1 min_links=2 xmit_hash_policy=layer3+4",
        "mode=802.3ad miimon=100 lacp_rate=fast lacp_active=0 ad_select=bandwidth \
         ad_actor_sys_prio=100 ad_actor_system=02:00:00:00:00:01 ad_user_port_key=5 \
         coupled_control=0 broadcast_neighbor=1 lacp_strict=1 min_links=2 \
         xmit_hash_policy=layer3+4",
        &[Warning::MiimonForced { mode: Mode::Lacp }],
    ),
    (
        "mode=active-backup arp_interval=100 arp_ip_target=10.0.0.1 arp_validate=all \
         arp_all_targets=all arp_missed_max=3 primary=eth1 primary_reselect=better \
         active_slave=eth2 fail_over_mac=follow num_grat_arp=0 peer_notif_delay=0 \
         resend_igmp=5 lp_interval=10 max_bonds=2",
        "mode=active-backup arp_interval=100 arp_ip_target=10.0.0.1 arp_validate=all \
         arp_all_targets=all arp_missed_max=3 primary=eth1 primary_reselect=better \
         active_slave=eth2 fail_over_mac=follow num_grat_arp=0 resend_igmp=5 lp_interval=10 \
         max_bonds=2",
        &[],
    ),
];

#[test]
fn grammar_cases() {
    for &(input, rendered, warnings) in GRAMMAR {
        let (config, got) = parse_ok(input);
        assert_eq!(config.options().to_string(), rendered, "{input}");
        assert_eq!(got.as_slice(), warnings, "{input}");
        // Rendering is canonical: parsing it gives the same configuration back.
        assert_eq!(parse_ok(rendered).0, config, "{input}");
    }
}

#[test]
fn names_and_numbers_are_the_same_option_value() {
    assert_eq!(parse_ok("mode=802.3ad").0, parse_ok("mode=4").0);
    assert_eq!(parse_ok("mode=1").0, parse_ok("mode=active-backup").0);
    let a = parse_ok("mode=balance-xor xmit_hash_policy=layer3+4").0;
    assert_eq!(a, parse_ok("mode=balance-xor xmit_hash_policy=1").0);
    assert_eq!(a.xmit_hash_policy, XmitHashPolicy::Layer34);
    let b = parse_ok("mode=802.3ad lacp_rate=fast").0;
    assert_eq!(b, parse_ok("mode=4 lacp_rate=1").0);
    assert_eq!(b.lacp_rate, LacpRate::Fast);
}

#[test]
fn seed_examples() {
    // sysconfig: BONDING_MODULE_OPTS='mode=active-backup miimon=100' (quotes kept or stripped).
    for s in [
        "mode=active-backup miimon=100",
        "'mode=active-backup miimon=100'",
        "\"mode=active-backup miimon=100\"",
    ] {
        let (config, warnings) = parse_ok(s);
        assert_eq!(config.mode, Mode::ActiveBackup, "{s}");
        assert_eq!(config.miimon, 100);
        assert!(warnings.is_empty());
    }
    // initscripts: BONDING_OPTS="mode=0": balance-rr, no monitoring, and Linux's loud warning.
    let (config, warnings) = parse_ok("\"mode=0\"");
    assert_eq!(config, Config::default());
    assert_eq!(warnings.as_slice(), [Warning::NoLinkMonitoring]);
}

#[test]
fn whitespace_and_order_do_not_matter() {
    let a = parse_ok("mode=1 miimon=100 updelay=200").0;
    for s in [
        "  mode=1\t\tmiimon=100  \n updelay=200 ",
        "updelay=200 miimon=100 mode=1",
        "miimon=100\rmode=active-backup updelay=200",
    ] {
        assert_eq!(parse_ok(s).0, a, "{s:?}");
    }
    assert_eq!(a.updelay(), Duration::from_millis(200));
}

#[test]
fn delays_are_rounded_to_miimon() {
    let (config, _) = parse_ok("miimon=100 updelay=250");
    assert_eq!(config.updelay_ms, 250);
    assert_eq!(config.updelay(), Duration::from_millis(200));
}

#[test]
fn errors_of_the_grammar() {
    use OptionError as E;
    let cases: &[(&str, OptionError)] = &[
        (
            "mimon=100",
            E::UnknownOption {
                name: ValueText::new("mimon"),
                suggestion: Some(OptionId::Miimon),
            },
        ),
        (
            "frobnicate=1",
            E::UnknownOption {
                name: ValueText::new("frobnicate"),
                suggestion: None,
            },
        ),
        (
            "mode=1 miimon",
            E::Syntax {
                token: ValueText::new("miimon"),
            },
        ),
        (
            "=100",
            E::Syntax {
                token: ValueText::new("=100"),
            },
        ),
        (
            "miimon=100 miimon=200",
            E::Duplicate {
                option: OptionId::Miimon,
            },
        ),
        (
            "num_grat_arp=2 num_unsol_na=3",
            E::Duplicate {
                option: OptionId::NumUnsolNa,
            },
        ),
        (
            "mode=foo",
            E::InvalidValue {
                option: OptionId::Mode,
                value: ValueText::new("foo"),
            },
        ),
        (
            "miimon=99999999999999999999",
            E::OutOfRange {
                option: OptionId::Miimon,
                value: ValueText::new("99999999999999999999"),
            },
        ),
        (
            "miimon=100 lacp_rate=bogus",
            E::InvalidValue {
                option: OptionId::LacpRate,
                value: ValueText::new("bogus"),
            },
        ),
        (
            "miimon=100 lacp_active=0",
            E::NotForMode {
                option: OptionId::LacpActive,
                mode: Mode::RoundRobin,
            },
        ),
        (
            "mode=1 miimon=100 tlb_dynamic_lb=0",
            E::NotForMode {
                option: OptionId::TlbDynamicLb,
                mode: Mode::ActiveBackup,
            },
        ),
        (
            "mode=802.3ad arp_validate=active",
            E::NotForMode {
                option: OptionId::ArpValidate,
                mode: Mode::Lacp,
            },
        ),
        (
            "mode=802.3ad arp_missed_max=3",
            E::NotForMode {
                option: OptionId::ArpMissedMax,
                mode: Mode::Lacp,
            },
        ),
        (
            "miimon=100 active_slave=eth0",
            E::NotForMode {
                option: OptionId::ActiveSlave,
                mode: Mode::RoundRobin,
            },
        ),
        (
            "arp_validate=active",
            E::RequiresArpInterval {
                option: OptionId::ArpValidate,
            },
        ),
        (
            "miimon=100 arp_validate=none",
            E::RequiresArpInterval {
                option: OptionId::ArpValidate,
            },
        ),
        (
            "miimon=100 arp_interval=100 arp_ip_target=10.0.0.1 arp_validate=all",
            E::RequiresArpInterval {
                option: OptionId::ArpValidate,
            },
        ),
        (
            "mode=1 primary=eth0/1",
            E::InvalidValue {
                option: OptionId::Primary,
                value: ValueText::new("eth0/1"),
            },
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(parse_err(input), *expected, "{input}");
    }
}

#[test]
fn ignored_values_are_still_validated() {
    // Linux skips parsing an ignored module parameter; a typo there is still a typo.
    assert!(matches!(
        parse_err("mode=1 xmit_hash_policy=layer5"),
        OptionError::InvalidValue { .. }
    ));
    assert!(matches!(
        parse_err("primary=a:b"),
        OptionError::InvalidValue { .. }
    ));
}

#[test]
fn kept_and_aliased_values() {
    let (config, _) = parse_ok("miimon=100 ad_select=count fail_over_mac=active num_unsol_na=7");
    assert_eq!(config.ad_select, AdSelect::Count);
    assert_eq!(config.fail_over_mac, FailOverMac::Active);
    assert_eq!(config.num_peer_notif, 7);
    assert_eq!(value_of(&config, "num_unsol_na"), "7");
    assert_eq!(value_of(&config, "num_grat_arp"), "7");
    let (config, warnings) = parse_ok("mode=1 miimon=100 fail_over_mac=active");
    assert_eq!(config.fail_over_mac, FailOverMac::Active);
    assert!(warnings.is_empty());
    let (config, _) = parse_ok("mode=active-backup miimon=100 active_slave=eth1");
    assert_eq!(config.active_slave.as_deref(), Some("eth1"));
    assert_eq!(parse_ok("max_bonds=0").0.max_bonds, 0);
}

#[test]
fn duplicate_targets_are_skipped_once_reported() {
    let (config, warnings) =
        parse_ok("arp_interval=100 arp_ip_target=10.0.0.1,10.0.0.2,10.0.0.1,10.0.0.2");
    assert_eq!(
        config.arp_ip_target.as_slice(),
        [[10, 0, 0, 1], [10, 0, 0, 2]]
    );
    assert_eq!(
        warnings.as_slice(),
        [Warning::DuplicateTarget {
            option: OptionId::ArpIpTarget,
            address: ip(10, 0, 0, 1)
        }]
    );
}

#[test]
fn the_worst_case_warnings_all_fit() {
    // Six options without effect in broadcast mode, two repeated targets, miimon beating
    // arp_interval and three rounded delays.
    let s = "mode=broadcast xmit_hash_policy=layer2 lacp_rate=fast primary=eth0 ad_select=count \
             fail_over_mac=active packets_per_slave=2 updelay=1 downdelay=1 peer_notif_delay=1 \
             arp_interval=5 arp_ip_target=10.0.0.1,10.0.0.1 ns_ip6_target=2001:db8::1,2001:db8::1 \
             miimon=3";
    let (_, warnings) = parse_ok(s);
    assert_eq!(warnings.len(), 12, "{warnings:?}");
    assert!(warnings.len() < MAX_WARNINGS);
}

#[test]
fn rendering_a_hand_built_config() {
    let mut config = config_in(Mode::ActiveBackup);
    config.miimon = 100;
    config.updelay_ms = 200;
    config.primary = parse_ifname("eth0");
    assert_eq!(
        config.options().to_string(),
        "mode=active-backup miimon=100 updelay=200 primary=eth0"
    );
    assert_eq!(Config::parse(&config.options().to_string()), Ok(config));
}

#[test]
fn single_values() {
    let (config, _) =
        parse_ok("mode=active-backup miimon=100 primary=eth0 arp_ip_target=10.0.0.1,192.0.2.7");
    let cases = [
        ("mode", "active-backup"),
        ("miimon", "100"),
        ("primary", "eth0"),
        ("active_slave", ""),
        ("arp_ip_target", "10.0.0.1,192.0.2.7"),
        ("ns_ip6_target", ""),
        ("use_carrier", "1"),
        ("lacp_rate", "slow"),
        ("num_unsol_na", "1"),
    ];
    for (name, expected) in cases {
        assert_eq!(value_of(&config, name), expected, "{name}");
    }
    let value = option_value(&config, "primary").unwrap();
    assert_eq!(value.spec().id, OptionId::Primary);
    assert!(matches!(
        option_value(&config, "primry"),
        Err(OptionError::UnknownOption {
            suggestion: Some(OptionId::Primary),
            ..
        })
    ));
}
