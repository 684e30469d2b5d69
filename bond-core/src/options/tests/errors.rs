//! Exact messages of every error and warning.

use core::net::{IpAddr, Ipv4Addr};

use super::*;

#[test]
fn error_messages() {
    use OptionError as E;
    let ip = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
    let cases: &[(OptionError, &str)] = &[
        (
            E::Syntax {
                token: ValueText::new("miimon"),
            },
            r#"expected name=value, found "miimon""#,
        ),
        (
            E::UnknownOption {
                name: ValueText::new("mimon"),
                suggestion: Some(OptionId::Miimon),
            },
            r#"unknown option "mimon" (did you mean "miimon"?)"#,
        ),
        (
            E::UnknownOption {
                name: ValueText::new("zzz"),
                suggestion: None,
            },
            r#"unknown option "zzz""#,
        ),
        (
            E::Duplicate {
                option: OptionId::Miimon,
            },
            r#"option "miimon" is given more than once"#,
        ),
        (
            E::Duplicate {
                option: OptionId::NumUnsolNa,
            },
            r#"option "num_unsol_na" is given more than once (num_grat_arp and num_unsol_na set the same value)"#,
        ),
        (
            E::InvalidValue {
                option: OptionId::Mode,
                value: ValueText::new("foo"),
            },
            r#"invalid value "foo" for option "mode": allowed values are balance-rr (0), active-backup (1), balance-xor (2), broadcast (3), 802.3ad (4), balance-tlb (5), balance-alb (6)"#,
        ),
        (
            E::InvalidValue {
                option: OptionId::Miimon,
                value: ValueText::new("fast"),
            },
            r#"invalid value "fast" for option "miimon": allowed values are 0..2147483647, off (0), maxval (2147483647)"#,
        ),
        (
            E::InvalidValue {
                option: OptionId::UseCarrier,
                value: ValueText::new("2"),
            },
            r#"invalid value "2" for option "use_carrier": allowed values are 0, 1, off (0), on (1)"#,
        ),
        (
            E::InvalidValue {
                option: OptionId::AdActorSystem,
                value: ValueText::new("01:00:5e:00:00:01"),
            },
            r#"invalid value "01:00:5e:00:00:01" for option "ad_actor_system": allowed values are a unicast MAC address such as 02:00:00:00:00:01 (00:00:00:00:00:00 uses the bond's MAC)"#,
        ),
        (
            E::InvalidValue {
                option: OptionId::Primary,
                value: ValueText::new("a:b"),
            },
            r#"invalid value "a:b" for option "primary": allowed values are an interface name of 1 to 15 bytes without '/', ':' or whitespace, other than "." and ".." (empty for none)"#,
        ),
        (
            E::InvalidValue {
                option: OptionId::ArpIpTarget,
                value: ValueText::new("1.2.3"),
            },
            r#"invalid value "1.2.3" for option "arp_ip_target": allowed values are up to 16 comma-separated unicast IPv4 addresses such as 192.0.2.1"#,
        ),
        (
            E::InvalidValue {
                option: OptionId::NsIp6Target,
                value: ValueText::new("::1"),
            },
            r#"invalid value "::1" for option "ns_ip6_target": allowed values are up to 16 comma-separated unicast IPv6 addresses such as 2001:db8::1"#,
        ),
        (
            E::OutOfRange {
                option: OptionId::AdActorSysPrio,
                value: ValueText::new("70000"),
            },
            r#"value 70000 for option "ad_actor_sys_prio" is out of range 1..65535"#,
        ),
        (
            E::NotForMode {
                option: OptionId::LacpRate,
                mode: Mode::RoundRobin,
            },
            r#"option "lacp_rate" is not supported in mode balance-rr (only in 802.3ad)"#,
        ),
        (
            E::NotForMode {
                option: OptionId::Primary,
                mode: Mode::Xor,
            },
            r#"option "primary" is not supported in mode balance-xor (only in active-backup, balance-tlb and balance-alb)"#,
        ),
        (
            E::RequiresDown {
                option: OptionId::Mode,
            },
            r#"option "mode" can only be changed while the bond is down"#,
        ),
        (
            E::RequiresNoPorts {
                option: OptionId::Mode,
            },
            r#"option "mode" can only be changed while the bond has no ports"#,
        ),
        (
            E::LoadTimeOnly {
                option: OptionId::MaxBonds,
            },
            r#"option "max_bonds" can only be given when the bond is created"#,
        ),
        (
            E::MiimonDisabled {
                option: OptionId::Updelay,
            },
            r#"option "updelay" cannot be set while MII monitoring is disabled (miimon=0)"#,
        ),
        (
            E::RequiresArpInterval {
                option: OptionId::ArpValidate,
            },
            r#"option "arp_validate" requires ARP monitoring: arp_interval > 0 with miimon=0 and at least one arp_ip_target or ns_ip6_target"#,
        ),
        (
            E::TooManyTargets {
                option: OptionId::ArpIpTarget,
            },
            r#"too many addresses for option "arp_ip_target": at most 16"#,
        ),
        (
            E::TargetPresent {
                option: OptionId::ArpIpTarget,
                address: ip,
            },
            r#"address 10.0.0.1 is already in option "arp_ip_target""#,
        ),
        (
            E::TargetAbsent {
                option: OptionId::ArpIpTarget,
                address: ip,
            },
            r#"address 10.0.0.1 is not in option "arp_ip_target""#,
        ),
    ];
    for (error, message) in cases {
        assert_eq!(error.to_string(), *message);
    }
    // The message names the option even when it comes from a real parse.
    assert_eq!(
        Config::parse("ad_actor_sys_prio=70000 mode=4")
            .unwrap_err()
            .to_string(),
        r#"value 70000 for option "ad_actor_sys_prio" is out of range 1..65535"#
    );
    let _: &dyn core::error::Error = &E::Duplicate {
        option: OptionId::Mode,
    };
}

#[test]
fn warning_messages() {
    let ip = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
    let cases: &[(Warning, &str)] = &[
        (
            Warning::NoLinkMonitoring,
            "neither miimon nor arp_interval is set: bonding will not detect link failures",
        ),
        (
            Warning::MiimonForced { mode: Mode::Lacp },
            "mode 802.3ad needs link monitoring: miimon forced to 100 ms",
        ),
        (
            Warning::ArpMonitorDisabled {
                miimon: 100,
                arp_interval: 1000,
            },
            "miimon (100) and arp_interval (1000) can't be used simultaneously: miimon takes \
             precedence, ARP monitoring disabled",
        ),
        (
            Warning::ArpWithoutTargets {
                arp_interval: 1000,
                disabled: true,
            },
            "arp_interval (1000) given without arp_ip_target or ns_ip6_target: ARP monitoring \
             disabled",
        ),
        (
            Warning::ArpWithoutTargets {
                arp_interval: 1000,
                disabled: false,
            },
            "arp_interval (1000) is set but no ARP targets have been specified",
        ),
        (
            Warning::DelayRounded {
                option: OptionId::Updelay,
                given: 250,
                miimon: 100,
            },
            "updelay (250) is not a multiple of miimon (100), rounded to 200 ms",
        ),
        (
            Warning::DelayWithoutMiimon {
                option: OptionId::Downdelay,
            },
            "downdelay has no effect unless miimon is set",
        ),
        (
            Warning::NoEffect {
                option: OptionId::Primary,
                mode: Mode::RoundRobin,
                effective: ModeSet::of(&[Mode::ActiveBackup, Mode::Tlb, Mode::Alb]),
                ignored: true,
            },
            r#"option "primary" has no effect in mode balance-rr (only in active-backup, balance-tlb and balance-alb); ignored"#,
        ),
        (
            Warning::NoEffect {
                option: OptionId::AdSelect,
                mode: Mode::Xor,
                effective: ModeSet::of(&[Mode::Lacp]),
                ignored: false,
            },
            r#"option "ad_select" has no effect in mode balance-xor (only in 802.3ad)"#,
        ),
        (
            Warning::DuplicateTarget {
                option: OptionId::ArpIpTarget,
                address: ip,
            },
            "duplicate address 10.0.0.1 in arp_ip_target, skipped",
        ),
        (
            Warning::SideEffect {
                option: OptionId::ArpInterval,
                cause: OptionId::Miimon,
            },
            r#"setting "miimon" also changed "arp_interval""#,
        ),
        (
            Warning::LastTargetRemoved {
                option: OptionId::ArpIpTarget,
            },
            "removed the last address of arp_ip_target while arp_interval is on",
        ),
    ];
    for (warning, message) in cases {
        assert_eq!(warning.to_string(), *message);
    }
}

#[test]
fn value_text_is_short_and_escaped() {
    let long = "x".repeat(100);
    let kept = ValueText::new(&long);
    assert_eq!(kept.as_str().len(), VALUE_TEXT_MAX);
    assert!(kept.as_str().ends_with('…'));
    // Multi-byte characters are never cut in half.
    let wide = "é".repeat(40);
    let kept = ValueText::new(&wide);
    assert!(kept.as_str().ends_with('…'));
    assert!(kept.as_str().len() <= VALUE_TEXT_MAX);
    assert_eq!(ValueText::new("ok").as_str(), "ok");
    assert_eq!(
        ValueText::new(&"y".repeat(VALUE_TEXT_MAX)).as_str().len(),
        VALUE_TEXT_MAX
    );
    // Quotes and control characters cannot forge a message.
    assert_eq!(
        ValueText::new("a\"b\n\u{1b}[31m").to_string(),
        r#""a\"b\n\u{1b}[31m""#
    );
    assert_eq!(format!("{:?}", ValueText::new("ü")), "\"ü\"");
}

#[test]
fn suggestions_only_for_near_misses() {
    let cases = [
        ("mimon", Some(OptionId::Miimon)),
        ("miimon ", Some(OptionId::Miimon)),
        ("arp_ip_targets", Some(OptionId::ArpIpTarget)),
        ("lacp-rate", Some(OptionId::LacpRate)),
        ("xyzzy", None),
        ("", None),
    ];
    for (name, expected) in cases {
        let OptionError::UnknownOption { suggestion, .. } = super::super::unknown_option(name)
        else {
            unreachable!()
        };
        assert_eq!(suggestion, expected, "{name:?}");
    }
    let long = "a".repeat(1000);
    assert!(matches!(
        super::super::unknown_option(&long),
        OptionError::UnknownOption {
            suggestion: None,
            ..
        }
    ));
}
