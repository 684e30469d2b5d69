//! Runtime changes (the sysfs/netlink path).

use super::*;
use crate::config::{ArpValidate, LacpRate};
use crate::time::Duration;

const UP: OptionContext = OptionContext {
    bond_up: true,
    has_ports: false,
};
const WITH_PORTS: OptionContext = OptionContext {
    bond_up: false,
    has_ports: true,
};

/// Set an option that must succeed; returns the warnings.
fn set(config: &mut Config, name: &str, value: &str) -> Warnings {
    match set_option(config, name, value, &IDLE) {
        Ok(applied) => applied.warnings,
        Err(e) => panic!("{name}={value}: {e}"),
    }
}

fn side(option: OptionId, cause: OptionId) -> Warning {
    Warning::SideEffect { option, cause }
}

#[test]
fn state_requirements() {
    use OptionError as E;
    let lacp = config_in(Mode::Lacp);
    let cases: &[(&Config, &str, &str, OptionContext, OptionError)] = &[
        (
            &lacp,
            "mode",
            "1",
            UP,
            E::RequiresDown {
                option: OptionId::Mode,
            },
        ),
        (
            &lacp,
            "mode",
            "garbage",
            UP,
            E::RequiresDown {
                option: OptionId::Mode,
            },
        ),
        (
            &lacp,
            "mode",
            "1",
            WITH_PORTS,
            E::RequiresNoPorts {
                option: OptionId::Mode,
            },
        ),
        (
            &lacp,
            "lacp_rate",
            "fast",
            UP,
            E::RequiresDown {
                option: OptionId::LacpRate,
            },
        ),
        (
            &lacp,
            "ad_user_port_key",
            "1",
            UP,
            E::RequiresDown {
                option: OptionId::AdUserPortKey,
            },
        ),
        (
            &lacp,
            "fail_over_mac",
            "active",
            WITH_PORTS,
            E::RequiresNoPorts {
                option: OptionId::FailOverMac,
            },
        ),
        (
            &lacp,
            "primary",
            "eth0",
            IDLE,
            E::NotForMode {
                option: OptionId::Primary,
                mode: Mode::Lacp,
            },
        ),
        (
            &lacp,
            "arp_interval",
            "100",
            IDLE,
            E::NotForMode {
                option: OptionId::ArpInterval,
                mode: Mode::Lacp,
            },
        ),
        (
            &lacp,
            "packets_per_slave",
            "2",
            IDLE,
            E::NotForMode {
                option: OptionId::PacketsPerSlave,
                mode: Mode::Lacp,
            },
        ),
        (
            &lacp,
            "tlb_dynamic_lb",
            "0",
            IDLE,
            E::NotForMode {
                option: OptionId::TlbDynamicLb,
                mode: Mode::Lacp,
            },
        ),
        (
            &lacp,
            "max_bonds",
            "2",
            IDLE,
            E::LoadTimeOnly {
                option: OptionId::MaxBonds,
            },
        ),
        (
            &lacp,
            "updelay",
            "100",
            IDLE,
            E::MiimonDisabled {
                option: OptionId::Updelay,
            },
        ),
        (
            &lacp,
            "downdelay",
            "100",
            IDLE,
            E::MiimonDisabled {
                option: OptionId::Downdelay,
            },
        ),
        (
            &lacp,
            "peer_notif_delay",
            "100",
            IDLE,
            E::MiimonDisabled {
                option: OptionId::PeerNotifDelay,
            },
        ),
    ];
    for (config, name, value, ctx, expected) in cases {
        let mut changed = (*config).clone();
        assert_eq!(
            set_option(&mut changed, name, value, ctx),
            Err(*expected),
            "{name}={value}"
        );
        assert_eq!(&changed, *config, "{name}={value} changed the config");
    }
    // Options without requirements change on a running bond with ports.
    let mut running = config_in(Mode::Lacp);
    let busy = OptionContext {
        bond_up: true,
        has_ports: true,
    };
    set_option(&mut running, "miimon", "100", &busy).unwrap();
    set_option(&mut running, "min_links", "2", &busy).unwrap();
    set_option(&mut running, "ad_actor_sys_prio", "10", &busy).unwrap();
    assert_eq!(
        (running.miimon, running.min_links, running.ad_actor_sys_prio),
        (100, 2, 10)
    );
}

#[test]
fn lacp_rate_only_in_802_3ad() {
    let mut config = config_in(Mode::RoundRobin);
    assert_eq!(
        set_option(&mut config, "lacp_rate", "fast", &IDLE),
        Err(OptionError::NotForMode {
            option: OptionId::LacpRate,
            mode: Mode::RoundRobin
        })
    );
    let mut config = config_in(Mode::Lacp);
    set(&mut config, "lacp_rate", "fast\n");
    assert_eq!(config.lacp_rate, LacpRate::Fast);
}

#[test]
fn miimon_and_arp_interval_exclude_each_other() {
    let mut config = config_in(Mode::ActiveBackup);
    set(&mut config, "arp_ip_target", "+10.0.0.1");
    set(&mut config, "arp_interval", "1000");
    set(&mut config, "arp_validate", "active");
    let warnings = set(&mut config, "miimon", "100");
    assert_eq!((config.miimon, config.arp_interval), (100, 0));
    assert_eq!(config.arp_validate, ArpValidate::None);
    assert_eq!(
        warnings.as_slice(),
        [
            side(OptionId::ArpInterval, OptionId::Miimon),
            side(OptionId::ArpValidate, OptionId::Miimon)
        ]
    );
    let warnings = set(&mut config, "arp_interval", "500");
    assert_eq!((config.miimon, config.arp_interval), (0, 500));
    assert_eq!(
        warnings.as_slice(),
        [side(OptionId::Miimon, OptionId::ArpInterval)]
    );
    // Turning the last monitor off gets the loud warning.
    let warnings = set(&mut config, "arp_interval", "0");
    assert_eq!(warnings.as_slice(), [Warning::NoLinkMonitoring]);
}

#[test]
fn arp_interval_without_targets_is_noted() {
    let mut config = config_in(Mode::ActiveBackup);
    let warnings = set(&mut config, "arp_interval", "100");
    assert_eq!(config.arp_interval, 100);
    assert_eq!(
        warnings.as_slice(),
        [Warning::ArpWithoutTargets {
            arp_interval: 100,
            disabled: false
        }]
    );
}

#[test]
fn delays_need_miimon_and_round_down() {
    let mut config = config_in(Mode::ActiveBackup);
    set(&mut config, "miimon", "100");
    let warnings = set(&mut config, "updelay", "250");
    assert_eq!(
        warnings.as_slice(),
        [Warning::DelayRounded {
            option: OptionId::Updelay,
            given: 250,
            miimon: 100
        }]
    );
    assert_eq!(config.updelay(), Duration::from_millis(200));
    assert!(set(&mut config, "downdelay", "300").is_empty());
    // Linux keeps delays in miimon ticks: a new miimon scales them.
    let warnings = set(&mut config, "miimon", "50");
    assert_eq!((config.updelay_ms, config.downdelay_ms), (100, 150));
    assert_eq!(
        warnings.as_slice(),
        [
            side(OptionId::Updelay, OptionId::Miimon),
            side(OptionId::Downdelay, OptionId::Miimon)
        ]
    );
}

#[test]
fn mode_change_side_effects() {
    // To a mode without ARP monitoring: ARP off, miimon 100, arp_validate reset.
    let mut config = config_in(Mode::ActiveBackup);
    set(&mut config, "arp_ip_target", "10.0.0.1");
    set(&mut config, "arp_interval", "1000");
    set(&mut config, "arp_validate", "all");
    let warnings = set(&mut config, "mode", "balance-alb");
    assert_eq!(config.mode, Mode::Alb);
    assert_eq!((config.miimon, config.arp_interval), (100, 0));
    assert_eq!(config.arp_validate, ArpValidate::None);
    assert_eq!(
        warnings.as_slice(),
        [
            side(OptionId::ArpInterval, OptionId::Mode),
            side(OptionId::Miimon, OptionId::Mode),
            side(OptionId::ArpValidate, OptionId::Mode)
        ]
    );
    // balance-alb forces dynamic load balancing back on.
    let mut config = config_in(Mode::Tlb);
    set(&mut config, "tlb_dynamic_lb", "0");
    set(&mut config, "mode", "6");
    assert!(config.tlb_dynamic_lb);
    // broadcast_neighbor does not survive a mode change; miimon is kept when set.
    let mut config = config_in(Mode::Lacp);
    set(&mut config, "miimon", "200");
    set(&mut config, "broadcast_neighbor", "on");
    let warnings = set(&mut config, "mode", "802.3ad");
    assert!(!config.broadcast_neighbor);
    assert_eq!(config.miimon, 200);
    assert_eq!(
        warnings.as_slice(),
        [side(OptionId::BroadcastNeighbor, OptionId::Mode)]
    );
    // A mode with ARP monitoring leaves the monitors alone (and may leave none).
    let mut config = Config::default();
    let warnings = set(&mut config, "mode", "active-backup");
    assert_eq!(config.miimon, 0);
    assert_eq!(warnings.as_slice(), [Warning::NoLinkMonitoring]);
}

#[test]
fn arp_targets_add_remove_replace() {
    use OptionError as E;
    let mut config = config_in(Mode::ActiveBackup);
    set(&mut config, "arp_ip_target", "+10.0.0.1");
    set(&mut config, "arp_ip_target", "+10.0.0.2");
    assert_eq!(value_of(&config, "arp_ip_target"), "10.0.0.1,10.0.0.2");
    let ip = |d| core::net::IpAddr::V4(core::net::Ipv4Addr::new(10, 0, 0, d));
    let errors = [
        (
            "+10.0.0.1",
            E::TargetPresent {
                option: OptionId::ArpIpTarget,
                address: ip(1),
            },
        ),
        (
            "-10.0.0.9",
            E::TargetAbsent {
                option: OptionId::ArpIpTarget,
                address: ip(9),
            },
        ),
        (
            "+0.0.0.0",
            E::InvalidValue {
                option: OptionId::ArpIpTarget,
                value: ValueText::new("0.0.0.0"),
            },
        ),
        (
            "+",
            E::InvalidValue {
                option: OptionId::ArpIpTarget,
                value: ValueText::new(""),
            },
        ),
        (
            "10.0.0.3,10.0.0.3",
            E::TargetPresent {
                option: OptionId::ArpIpTarget,
                address: ip(3),
            },
        ),
    ];
    for (value, expected) in errors {
        let before = config.clone();
        assert_eq!(
            set_option(&mut config, "arp_ip_target", value, &IDLE),
            Err(expected),
            "{value}"
        );
        assert_eq!(config, before);
    }
    set(&mut config, "arp_ip_target", "-10.0.0.1");
    assert_eq!(value_of(&config, "arp_ip_target"), "10.0.0.2");
    set(&mut config, "arp_interval", "100");
    let warnings = set(&mut config, "arp_ip_target", "-10.0.0.2");
    assert_eq!(
        warnings.as_slice(),
        [Warning::LastTargetRemoved {
            option: OptionId::ArpIpTarget
        }]
    );
    set(&mut config, "arp_ip_target", "10.0.0.5,10.0.0.6");
    assert_eq!(value_of(&config, "arp_ip_target"), "10.0.0.5,10.0.0.6");
    set(&mut config, "arp_ip_target", "");
    assert!(config.arp_ip_target.is_empty());
    for i in 1..=16 {
        set(&mut config, "arp_ip_target", &format!("+10.0.1.{i}"));
    }
    assert_eq!(
        set_option(&mut config, "arp_ip_target", "+10.0.1.17", &IDLE),
        Err(E::TooManyTargets {
            option: OptionId::ArpIpTarget
        })
    );
    set(&mut config, "ns_ip6_target", "+2001:db8::1");
    set(&mut config, "ns_ip6_target", "+2001:db8::2");
    set(&mut config, "ns_ip6_target", "-2001:db8::1");
    assert_eq!(value_of(&config, "ns_ip6_target"), "2001:db8::2");
}

#[test]
fn primary_and_active_slave_names() {
    let mut config = config_in(Mode::ActiveBackup);
    set(&mut config, "primary", "eth0\n");
    assert_eq!(config.primary.as_deref(), Some("eth0"));
    set(&mut config, "primary", "");
    assert_eq!(config.primary, None);
    set(&mut config, "active_slave", "eth1");
    assert_eq!(config.active_slave.as_deref(), Some("eth1"));
    set(&mut config, "active_slave", "\n");
    assert_eq!(config.active_slave, None);
    for bad in ["eth:0", "a/b", "..", "sixteen-bytes-xx"] {
        let before = config.clone();
        assert_eq!(
            set_option(&mut config, "primary", bad, &IDLE),
            Err(OptionError::InvalidValue {
                option: OptionId::Primary,
                value: ValueText::new(bad)
            })
        );
        assert_eq!(config, before);
    }
}

#[test]
fn unknown_options_at_runtime() {
    let mut config = Config::default();
    assert_eq!(
        set_option(&mut config, "updealy", "1", &IDLE),
        Err(OptionError::UnknownOption {
            name: ValueText::new("updealy"),
            suggestion: Some(OptionId::Updelay)
        })
    );
    assert_eq!(config, Config::default());
}
