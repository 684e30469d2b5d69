//! Unit tests of the bond engine against Linux semantics, in virtual time.

use super::*;
use crate::config::{PrimaryReselect, XmitHashPolicy};
use crate::port::{Duplex, LinkSample};
use crate::time::Duration;

const MAC0: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x10]);
const MAC1: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x11]);
const MAC2: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x12]);
const PEER: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x99]);

fn ms(t: u64) -> Instant {
    Instant::from_millis(t)
}

fn cfg(mode: Mode, miimon: u32) -> Config {
    Config {
        mode,
        miimon,
        ..Config::default()
    }
}

fn port(name: &str, mac: EthernetAddress, up: bool) -> PortConfig {
    let link = if up {
        LinkSample::up_full(1000)
    } else {
        LinkSample::DOWN
    };
    PortConfig::new(name, mac, link).unwrap()
}

/// A bond with ports eth0..eth{n-1}, all up, added at t=0.
fn bond_with(config: Config, n: usize) -> Bond<4> {
    let mut b = Bond::<4>::new(ms(0), config, None, 7).unwrap();
    for (i, mac) in [MAC0, MAC1, MAC2].iter().take(n).enumerate() {
        let name = ["eth0", "eth1", "eth2"][i];
        b.add_port(ms(0), &port(name, *mac, true)).unwrap();
    }
    b
}

fn frame(
    src: EthernetAddress,
    dst: EthernetAddress,
    ethertype: u16,
    len: usize,
) -> heapless::Vec<u8, 1600> {
    let mut f = heapless::Vec::new();
    f.resize(len.max(14), 0).unwrap();
    crate::wire::ethernet::emit_header(&mut f, dst, src, ethertype);
    f
}

fn drain_events<const N: usize>(b: &mut Bond<N>) -> heapless::Vec<Event, 32> {
    let mut v = heapless::Vec::new();
    while let Some(e) = b.poll_event() {
        v.push(e).unwrap();
    }
    v
}

fn drain_transmits<const N: usize>(
    b: &mut Bond<N>,
    now: Instant,
) -> heapless::Vec<(Transmit, heapless::Vec<u8, 128>), 16> {
    let mut out = heapless::Vec::new();
    let mut buf = [0u8; MIN_TRANSMIT_BUF];
    while let Some(t) = b.poll_transmit(now, &mut buf) {
        out.push((t, heapless::Vec::from_slice(&buf[..t.len]).unwrap()))
            .unwrap();
    }
    out
}

const P0: PortId = PortId(0);
const P1: PortId = PortId(1);
const P2: PortId = PortId(2);

#[test]
fn refuses_unimplemented_modes_and_arp_monitor() {
    for mode in [Mode::Tlb, Mode::Alb] {
        let err = Bond::<2>::new(ms(0), cfg(mode, 100), None, 0).unwrap_err();
        assert!(matches!(err, BondError::Unsupported { option: "mode", .. }));
    }
    let c = Config {
        arp_interval: 1000,
        ..cfg(Mode::ActiveBackup, 0)
    };
    assert!(Bond::<2>::new(ms(0), c, None, 0).is_err());
}

#[test]
fn no_link_monitoring_is_reported() {
    let mut b = Bond::<2>::new(ms(0), cfg(Mode::RoundRobin, 0), None, 0).unwrap();
    assert_eq!(b.poll_event(), Some(Event::NoLinkMonitoring));
    let mut b = Bond::<2>::new(ms(0), cfg(Mode::RoundRobin, 100), None, 0).unwrap();
    assert_eq!(b.poll_event(), None);
}

#[test]
fn first_port_lends_its_mac_and_every_port_takes_the_bond_mac() {
    let mut b = Bond::<4>::new(ms(0), cfg(Mode::Xor, 100), None, 0).unwrap();
    b.add_port(ms(0), &port("eth0", MAC0, true)).unwrap();
    b.add_port(ms(0), &port("eth1", MAC1, true)).unwrap();
    assert_eq!(b.mac(), MAC0);
    assert_eq!(b.poll_action(), Some(Action::SetBondMac { mac: MAC0 }));
    assert_eq!(
        b.poll_action(),
        Some(Action::SetPortMac {
            port: P1,
            mac: MAC0
        })
    );
    assert_eq!(b.poll_action(), None);
    // Leaving gives back the permanent MAC; the first port never changed.
    assert_eq!(b.remove_port(ms(1), P1), Some(MAC1));
    assert_eq!(b.remove_port(ms(1), P0), None);
    assert_eq!(b.remove_port(ms(1), P0), None);
}

#[test]
fn explicit_bond_mac_is_kept() {
    let mut b = Bond::<4>::new(ms(0), cfg(Mode::Xor, 100), Some(PEER), 0).unwrap();
    b.add_port(ms(0), &port("eth0", MAC0, true)).unwrap();
    assert_eq!(b.mac(), PEER);
    assert_eq!(
        b.poll_action(),
        Some(Action::SetPortMac {
            port: P0,
            mac: PEER
        })
    );
}

#[test]
fn add_port_errors() {
    let mut b = Bond::<2>::new(ms(0), cfg(Mode::Xor, 100), None, 0).unwrap();
    b.add_port(ms(0), &port("eth0", MAC0, true)).unwrap();
    assert_eq!(
        b.add_port(ms(0), &port("eth0", MAC1, true)),
        Err(AddPortError::DuplicateName)
    );
    assert_eq!(
        b.add_port(ms(0), &port("eth9", EthernetAddress::BROADCAST, true)),
        Err(AddPortError::InvalidMac)
    );
    b.add_port(ms(0), &port("eth1", MAC1, true)).unwrap();
    assert_eq!(
        b.add_port(ms(0), &port("eth2", MAC2, true)),
        Err(AddPortError::Full)
    );
}

#[test]
fn active_backup_sends_on_active_and_suppresses_backup_rx() {
    let mut b = bond_with(cfg(Mode::ActiveBackup, 100), 2);
    assert_eq!(b.active_port(), Some(P0));
    assert!(b.carrier());
    let f = frame(MAC0, PEER, 0x0800, 60);
    for _ in 0..4 {
        assert_eq!(b.select_tx(ms(1), &f), TxVerdict::Port(P0));
    }
    let from_peer = frame(PEER, MAC0, 0x0800, 60);
    assert_eq!(b.handle_rx(ms(1), P0, &from_peer), RxVerdict::Deliver);
    assert_eq!(
        b.handle_rx(ms(1), P1, &from_peer),
        RxVerdict::Drop(DropReason::InactivePort)
    );
    let lldp = frame(
        PEER,
        EthernetAddress([0x01, 0x80, 0xc2, 0, 0, 0x0e]),
        0x88cc,
        60,
    );
    assert_eq!(b.handle_rx(ms(1), P1, &lldp), RxVerdict::PassToPort);
    assert_eq!(b.port(P1).unwrap().stats.rx_dropped_inactive, 1);
}

#[test]
fn all_slaves_active_delivers_from_backup() {
    let c = Config {
        all_slaves_active: true,
        ..cfg(Mode::ActiveBackup, 100)
    };
    let mut b = bond_with(c, 2);
    let from_peer = frame(PEER, MAC0, 0x0800, 60);
    assert_eq!(b.handle_rx(ms(1), P1, &from_peer), RxVerdict::Deliver);
    // ...but it still transmits only on the active port.
    assert_eq!(b.select_tx(ms(1), &from_peer), TxVerdict::Port(P0));
}

#[test]
fn carrier_event_fails_over_at_once_and_announces() {
    let mut b = bond_with(cfg(Mode::ActiveBackup, 100), 2);
    b.add_address(BondAddress {
        ip: IpAddress::V4([192, 168, 1, 1]),
        vlan: None,
    })
    .unwrap();
    b.add_address(BondAddress {
        ip: IpAddress::V4([10, 0, 0, 1]),
        vlan: Some(5),
    })
    .unwrap();
    let _ = drain_events(&mut b);
    let _ = drain_transmits(&mut b, ms(0));

    b.handle_link(ms(1234), P0, LinkSample::DOWN);
    let ev = drain_events(&mut b);
    assert_eq!(
        &ev[..],
        &[
            Event::LinkChanged {
                port: P0,
                state: LinkState::Down
            },
            Event::ActiveChanged {
                old: Some(P0),
                new: Some(P1)
            },
            Event::McastRejoin,
        ]
    );
    assert_eq!(b.active_port(), Some(P1));
    assert_eq!(b.port(P0).unwrap().link_failure_count, 1);
    assert_eq!(
        b.select_tx(ms(1234), &frame(MAC0, PEER, 0x0800, 60)),
        TxVerdict::Port(P1)
    );
    // One gratuitous ARP per address, on the new active port, from the bond MAC.
    let tx = drain_transmits(&mut b, ms(1234));
    assert_eq!(tx.len(), 2);
    assert!(tx.iter().all(|(t, _)| t.port == P1));
    assert_eq!(&tx[0].1[6..12], &MAC0.0);
    assert_eq!(&tx[0].1[12..14], &[0x08, 0x06]);
    assert_eq!(&tx[1].1[12..14], &[0x81, 0x00]);
    // num_grat_arp=1 and resend_igmp=1: nothing more to do later.
    assert_eq!(b.poll_timeout(), None);
}

#[test]
fn peer_notifications_are_spaced_by_peer_notif_delay() {
    let c = Config {
        num_peer_notif: 3,
        peer_notif_delay_ms: 200,
        resend_igmp: 0,
        ..cfg(Mode::ActiveBackup, 100)
    };
    let mut b = bond_with(c, 2);
    b.add_address(BondAddress {
        ip: IpAddress::V6([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
        vlan: None,
    })
    .unwrap();
    let _ = drain_transmits(&mut b, ms(0));
    b.handle_link(ms(1000), P0, LinkSample::DOWN);
    let mut sent = heapless::Vec::<u64, 8>::new();
    let mut now = ms(1000);
    for _ in 0..10 {
        for (t, bytes) in drain_transmits(&mut b, now) {
            assert_eq!(t.port, P1);
            assert_eq!(&bytes[12..14], &[0x86, 0xdd]);
            sent.push(now.total_millis()).unwrap();
        }
        match b.poll_timeout() {
            Some(t) => {
                now = t;
                b.handle_timeout(now);
            }
            None => break,
        }
    }
    assert_eq!(&sent[..], &[1000, 1200, 1400]);
}

#[test]
fn downdelay_holds_the_port_then_fails_over() {
    let c = Config {
        downdelay_ms: 200,
        ..cfg(Mode::ActiveBackup, 100)
    };
    let mut b = bond_with(c, 2);
    let f = frame(MAC0, PEER, 0x0800, 60);
    b.handle_link(ms(1000), P0, LinkSample::DOWN);
    assert_eq!(b.port(P0).unwrap().link, LinkState::Fail);
    assert_eq!(b.active_port(), Some(P0));
    // No carrier: nothing goes out on the failing port meanwhile.
    assert_eq!(
        b.select_tx(ms(1100), &f),
        TxVerdict::Drop(DropReason::NoPort)
    );
    assert_eq!(b.poll_timeout(), Some(ms(1200)));
    b.handle_timeout(ms(1199));
    assert_eq!(b.port(P0).unwrap().link, LinkState::Fail);
    b.handle_timeout(ms(1200));
    assert_eq!(b.port(P0).unwrap().link, LinkState::Down);
    assert_eq!(b.active_port(), Some(P1));
    assert_eq!(b.select_tx(ms(1200), &f), TxVerdict::Port(P1));
}

#[test]
fn flap_shorter_than_downdelay_is_not_a_failure() {
    let c = Config {
        downdelay_ms: 200,
        ..cfg(Mode::ActiveBackup, 100)
    };
    let mut b = bond_with(c, 2);
    let _ = drain_events(&mut b);
    b.handle_link(ms(1000), P0, LinkSample::DOWN);
    b.handle_link(ms(1150), P0, LinkSample::up_full(1000));
    b.handle_timeout(ms(1200));
    assert_eq!(b.port(P0).unwrap().link, LinkState::Up);
    assert_eq!(b.port(P0).unwrap().link_failure_count, 0);
    assert_eq!(b.active_port(), Some(P0));
    let ev = drain_events(&mut b);
    assert!(
        ev.iter().all(|e| !matches!(e, Event::ActiveChanged { .. })),
        "{ev:?}"
    );
}

#[test]
fn updelay_rounds_to_miimon_and_delays_recovery() {
    let c = Config {
        updelay_ms: 250,
        ..cfg(Mode::ActiveBackup, 100)
    };
    let mut b = bond_with(c, 2);
    b.handle_link(ms(1000), P1, LinkSample::DOWN);
    b.handle_link(ms(2000), P1, LinkSample::up_full(1000));
    assert_eq!(b.port(P1).unwrap().link, LinkState::Back);
    assert_eq!(b.poll_timeout(), Some(ms(2200)));
    b.handle_timeout(ms(2200));
    assert_eq!(b.port(P1).unwrap().link, LinkState::Up);
    // Still the old active: no primary, equal priority.
    assert_eq!(b.active_port(), Some(P0));
}

#[test]
fn updelay_is_skipped_when_nothing_is_active() {
    let c = Config {
        updelay_ms: 5000,
        ..cfg(Mode::ActiveBackup, 100)
    };
    let mut b = Bond::<4>::new(ms(0), c, None, 0).unwrap();
    b.add_port(ms(0), &port("eth0", MAC0, false)).unwrap();
    b.add_port(ms(0), &port("eth1", MAC1, false)).unwrap();
    assert_eq!(b.active_port(), None);
    assert!(!b.carrier());
    b.handle_link(ms(100), P1, LinkSample::up_full(100));
    assert_eq!(b.port(P1).unwrap().link, LinkState::Up);
    assert_eq!(b.active_port(), Some(P1));
    assert!(b.carrier());
    // With an active port, the next one waits its updelay.
    b.handle_link(ms(200), P0, LinkSample::up_full(100));
    assert_eq!(b.port(P0).unwrap().link, LinkState::Back);
}

#[test]
fn port_in_updelay_is_taken_early_when_the_active_dies() {
    let c = Config {
        updelay_ms: 1000,
        ..cfg(Mode::ActiveBackup, 100)
    };
    let mut b = bond_with(c, 2);
    // bond_with adds ports up with updelay: eth0 is active (no active yet), eth1 waits.
    b.handle_timeout(ms(1000));
    b.handle_link(ms(2000), P1, LinkSample::DOWN);
    b.handle_link(ms(3000), P1, LinkSample::up_full(1000));
    assert_eq!(b.port(P1).unwrap().link, LinkState::Back);
    b.handle_link(ms(3500), P0, LinkSample::DOWN);
    assert_eq!(b.active_port(), Some(P1));
    assert_eq!(b.port(P1).unwrap().link, LinkState::Up);
}

/// `primary_reselect` decides whether a recovered primary takes over again.
#[test]
fn primary_reselect_policies() {
    // (policy, primary speed, current speed, primary takes over?)
    let cases = [
        (PrimaryReselect::Always, 100, 1000, true),
        (PrimaryReselect::Better, 100, 1000, false),
        (PrimaryReselect::Better, 1000, 1000, false),
        (PrimaryReselect::Better, 10000, 1000, true),
        (PrimaryReselect::Failure, 10000, 1000, false),
    ];
    for (policy, prim_speed, curr_speed, takes_over) in cases {
        let c = Config {
            primary: Some(IfName::try_from("eth0").unwrap()),
            primary_reselect: policy,
            ..cfg(Mode::ActiveBackup, 100)
        };
        let mut b = Bond::<4>::new(ms(0), c, None, 0).unwrap();
        b.add_port(ms(0), &port("eth0", MAC0, true)).unwrap();
        b.add_port(
            ms(0),
            &PortConfig {
                link: LinkSample::up_full(curr_speed),
                ..port("eth1", MAC1, true)
            },
        )
        .unwrap();
        assert_eq!(b.primary_port(), Some(P0));
        assert_eq!(b.active_port(), Some(P0));
        b.handle_link(ms(100), P0, LinkSample::DOWN);
        assert_eq!(b.active_port(), Some(P1));
        b.handle_link(ms(200), P0, LinkSample::up_full(prim_speed));
        let expect = if takes_over { P0 } else { P1 };
        assert_eq!(
            b.active_port(),
            Some(expect),
            "{policy:?} {prim_speed} vs {curr_speed}"
        );
    }
}

#[test]
fn primary_named_later_port_takes_over_on_join() {
    let c = Config {
        primary: Some(IfName::try_from("eth1").unwrap()),
        ..cfg(Mode::ActiveBackup, 100)
    };
    let b = bond_with(c, 2);
    assert_eq!(b.active_port(), Some(P1));
}

#[test]
fn higher_prio_port_takes_over_when_it_comes_up() {
    let mut b = bond_with(cfg(Mode::ActiveBackup, 100), 2);
    b.set_port_prio(ms(0), P1, 10).unwrap();
    // Setting prio reselects: eth1 now wins.
    assert_eq!(b.active_port(), Some(P1));
    b.handle_link(ms(100), P1, LinkSample::DOWN);
    assert_eq!(b.active_port(), Some(P0));
    b.handle_link(ms(200), P1, LinkSample::up_full(1000));
    assert_eq!(b.active_port(), Some(P1));
}

#[test]
fn set_active_port_follows_linux_rules() {
    let mut b = bond_with(cfg(Mode::ActiveBackup, 100), 3);
    assert_eq!(b.set_active_port(ms(1), Some(P2)), Ok(()));
    assert_eq!(b.active_port(), Some(P2));
    b.handle_link(ms(2), P1, LinkSample::DOWN);
    assert_eq!(
        b.set_active_port(ms(3), Some(P1)),
        Err(SetActiveError::LinkDown)
    );
    assert_eq!(
        b.set_active_port(ms(3), Some(PortId(3))),
        Err(SetActiveError::NoSuchPort)
    );
    assert_eq!(b.set_active_port(ms(4), None), Ok(()));
    assert_eq!(b.active_port(), Some(P0));
    let mut rr = bond_with(cfg(Mode::RoundRobin, 100), 2);
    assert_eq!(
        rr.set_active_port(ms(1), Some(P1)),
        Err(SetActiveError::NotSupportedInMode(Mode::RoundRobin))
    );
}

#[test]
fn miimon_zero_never_fails_over_like_linux() {
    let mut b = bond_with(cfg(Mode::ActiveBackup, 0), 2);
    b.handle_link(ms(10), P0, LinkSample::DOWN);
    assert_eq!(b.port(P0).unwrap().link, LinkState::Up);
    assert_eq!(b.active_port(), Some(P0));
    // The frame would go nowhere: counted, not sent on a port without carrier.
    assert_eq!(
        b.select_tx(ms(10), &frame(MAC0, PEER, 0x0800, 60)),
        TxVerdict::Drop(DropReason::NoPort)
    );
}

#[test]
fn fail_over_mac_active_moves_the_bond_mac() {
    let c = Config {
        fail_over_mac: FailOverMac::Active,
        ..cfg(Mode::ActiveBackup, 100)
    };
    let mut b = bond_with(c, 2);
    assert_eq!(b.poll_action(), Some(Action::SetBondMac { mac: MAC0 }));
    assert_eq!(b.poll_action(), None, "ports keep their own MACs");
    b.handle_link(ms(5), P0, LinkSample::DOWN);
    assert_eq!(b.mac(), MAC1);
    assert_eq!(b.poll_action(), Some(Action::SetBondMac { mac: MAC1 }));
    assert_eq!(b.poll_action(), None);
    // Ports never had their MACs changed, so nothing to restore.
    assert_eq!(b.remove_port(ms(6), P1), None);
}

#[test]
fn fail_over_mac_follow_swaps_macs() {
    let c = Config {
        fail_over_mac: FailOverMac::Follow,
        ..cfg(Mode::ActiveBackup, 100)
    };
    let mut b = bond_with(c, 2);
    while b.poll_action().is_some() {}
    assert_eq!(b.port(P0).unwrap().mac, MAC0);
    assert_eq!(b.port(P1).unwrap().mac, MAC1);
    b.handle_link(ms(5), P0, LinkSample::DOWN);
    assert_eq!(
        b.port(P1).unwrap().mac,
        MAC0,
        "new active carries the bond MAC"
    );
    assert_eq!(
        b.port(P0).unwrap().mac,
        MAC1,
        "old active takes the other MAC"
    );
    assert_eq!(b.mac(), MAC0);
    let mut actions = heapless::Vec::<Action, 4>::new();
    while let Some(a) = b.poll_action() {
        actions.push(a).unwrap();
    }
    assert_eq!(
        &actions[..],
        &[
            Action::SetPortMac {
                port: P0,
                mac: MAC1
            },
            Action::SetPortMac {
                port: P1,
                mac: MAC0
            }
        ]
    );
    assert_eq!(b.remove_port(ms(6), P1), Some(MAC1));
}

#[test]
fn round_robin_alternates_starting_with_the_second_port() {
    let mut b = bond_with(cfg(Mode::RoundRobin, 100), 2);
    let f = frame(MAC0, PEER, 0x0800, 100);
    let picks: heapless::Vec<PortId, 6> = (0..6)
        .map(|_| match b.select_tx(ms(1), &f) {
            TxVerdict::Port(p) => p,
            v => panic!("{v:?}"),
        })
        .collect();
    // Linux pre-increments its counter, so the first frame gets id 1.
    assert_eq!(&picks[..], &[P1, P0, P1, P0, P1, P0]);
}

#[test]
fn round_robin_packets_per_slave() {
    let c = Config {
        packets_per_slave: 3,
        ..cfg(Mode::RoundRobin, 100)
    };
    let mut b = bond_with(c, 2);
    let f = frame(MAC0, PEER, 0x0800, 100);
    let picks: heapless::Vec<u8, 9> = (0..9)
        .map(|_| match b.select_tx(ms(1), &f) {
            TxVerdict::Port(p) => p.0,
            v => panic!("{v:?}"),
        })
        .collect();
    // ids 1..=9 divided by 3: 0,0,1,1,1,2,2,2,3.
    assert_eq!(&picks[..], &[0, 0, 1, 1, 1, 0, 0, 0, 1]);
}

#[test]
fn round_robin_random_is_seeded() {
    let c = Config {
        packets_per_slave: 0,
        ..cfg(Mode::RoundRobin, 100)
    };
    let run = || {
        let mut b = bond_with(c.clone(), 3);
        let f = frame(MAC0, PEER, 0x0800, 100);
        let mut counts = [0u32; 3];
        let mut seq = heapless::Vec::<u8, 64>::new();
        for _ in 0..64 {
            if let TxVerdict::Port(p) = b.select_tx(ms(1), &f) {
                counts[p.index()] += 1;
                seq.push(p.0).unwrap();
            }
        }
        (counts, seq)
    };
    let (counts, a) = run();
    let (_, b2) = run();
    assert_eq!(a, b2, "same seed, same sequence");
    assert!(counts.iter().all(|&c| c > 8), "{counts:?}");
}

#[test]
fn round_robin_skips_a_down_port_like_linux() {
    let mut b = bond_with(cfg(Mode::RoundRobin, 100), 3);
    b.handle_link(ms(1), P1, LinkSample::DOWN);
    let f = frame(MAC0, PEER, 0x0800, 100);
    let mut counts = [0u32; 3];
    for _ in 0..300 {
        match b.select_tx(ms(2), &f) {
            TxVerdict::Port(p) => counts[p.index()] += 1,
            v => panic!("{v:?}"),
        }
    }
    // id % 3 == 1 lands on eth1, which is down, so the scan moves on to eth2.
    assert_eq!(counts, [100, 0, 200]);
}

#[test]
fn round_robin_sends_igmp_on_the_active_port() {
    let mut b = bond_with(cfg(Mode::RoundRobin, 100), 2);
    let mut igmp = frame(
        MAC0,
        EthernetAddress([0x01, 0, 0x5e, 0, 0, 0x16]),
        0x0800,
        60,
    );
    igmp[14] = 0x45;
    igmp[14 + 9] = 2;
    for _ in 0..3 {
        assert_eq!(b.select_tx(ms(1), &igmp), TxVerdict::Port(P0));
    }
}

#[test]
fn xor_uses_the_hash_over_usable_ports() {
    let c = Config {
        xmit_hash_policy: XmitHashPolicy::Layer2,
        ..cfg(Mode::Xor, 100)
    };
    let mut b = bond_with(c, 2);
    // layer2: (src[5] ^ dst[5] ^ 0x0800) % 2: 0x10 ^ 0x99 = 0x89 -> odd -> port 1.
    let f = frame(MAC0, PEER, 0x0800, 60);
    assert_eq!(b.select_tx(ms(1), &f), TxVerdict::Port(P1));
    assert_eq!(
        b.select_tx(ms(1), &f),
        TxVerdict::Port(P1),
        "a flow sticks to its port"
    );
    b.handle_link(ms(2), P1, LinkSample::DOWN);
    assert_eq!(b.select_tx(ms(2), &f), TxVerdict::Port(P0));
    b.handle_link(ms(3), P0, LinkSample::DOWN);
    assert_eq!(b.select_tx(ms(3), &f), TxVerdict::Drop(DropReason::NoPort));
    assert!(!b.carrier());
}

#[test]
fn broadcast_copies_to_every_port_that_is_up() {
    let mut b = bond_with(cfg(Mode::Broadcast, 100), 3);
    let f = frame(MAC0, PEER, 0x0800, 60);
    let TxVerdict::Ports(set) = b.select_tx(ms(1), &f) else {
        panic!()
    };
    assert_eq!(set.len(), 3);
    b.handle_link(ms(2), P1, LinkSample::DOWN);
    let TxVerdict::Ports(set) = b.select_tx(ms(2), &f) else {
        panic!()
    };
    assert!(set.contains(P0) && !set.contains(P1) && set.contains(P2));
}

#[test]
fn garbage_frames_get_defined_verdicts() {
    let mut b = bond_with(cfg(Mode::Xor, 100), 2);
    for len in 0..14 {
        let f = [0xffu8; 14];
        assert_eq!(
            b.select_tx(ms(1), &f[..len]),
            TxVerdict::Drop(DropReason::Truncated)
        );
        assert_eq!(
            b.handle_rx(ms(1), P0, &f[..len]),
            RxVerdict::Drop(DropReason::Truncated)
        );
    }
    assert_eq!(b.stats().tx_truncated, 14);
    assert_eq!(b.stats().rx_truncated, 14);
    assert_eq!(
        b.handle_rx(ms(1), PortId(3), &[0; 60]),
        RxVerdict::Drop(DropReason::UnknownPort)
    );
    assert_eq!(
        b.handle_rx(ms(1), PortId(200), &[0; 60]),
        RxVerdict::Drop(DropReason::UnknownPort)
    );
    b.handle_link(ms(1), PortId(200), LinkSample::DOWN);
    assert!(b.set_port_prio(ms(1), PortId(200), 1).is_none());
}

#[test]
fn admin_down_sends_nothing() {
    let mut b = bond_with(cfg(Mode::Xor, 100), 2);
    b.set_admin_up(ms(1), false);
    assert!(!b.carrier());
    assert_eq!(
        b.select_tx(ms(1), &frame(MAC0, PEER, 0x0800, 60)),
        TxVerdict::Drop(DropReason::BondDown)
    );
    b.set_admin_up(ms(2), true);
    assert!(b.carrier());
}

#[test]
fn removing_the_active_port_fails_over() {
    let mut b = bond_with(cfg(Mode::ActiveBackup, 100), 2);
    let _ = drain_events(&mut b);
    b.remove_port(ms(10), P0);
    assert_eq!(b.active_port(), Some(P1));
    assert_eq!(b.port_count(), 1);
    let ev = drain_events(&mut b);
    assert_eq!(
        ev[0],
        Event::ActiveChanged {
            old: Some(P0),
            new: None
        }
    );
    assert_eq!(
        ev[1],
        Event::ActiveChanged {
            old: None,
            new: Some(P1)
        }
    );
    // The slot is reused.
    assert_eq!(b.add_port(ms(11), &port("eth2", MAC2, true)), Ok(P0));
    assert_eq!(b.ports().collect::<heapless::Vec<_, 4>>(), [P1, P0]);
}

#[test]
fn status_text_matches_linux_for_active_backup() {
    let c = Config {
        primary: Some(IfName::try_from("eth0").unwrap()),
        updelay_ms: 200,
        downdelay_ms: 100,
        ..cfg(Mode::ActiveBackup, 100)
    };
    let mut b = Bond::<4>::new(ms(0), c, None, 0).unwrap();
    b.add_port(ms(0), &port("eth0", MAC0, true)).unwrap();
    b.add_port(
        ms(0),
        &PortConfig {
            link: LinkSample {
                up: true,
                speed_mbps: Some(100),
                duplex: Duplex::Half,
            },
            ..port("eth1", MAC1, true)
        },
    )
    .unwrap();
    b.handle_timeout(ms(200));
    b.handle_link(ms(300), P1, LinkSample::DOWN);
    b.handle_timeout(ms(400));
    let mut s = heapless::String::<1024>::new();
    core::fmt::write(
        &mut s,
        format_args!("{}", b.status().with_version("v6.1.0")),
    )
    .unwrap();
    let expected = "Ethernet Channel Bonding Driver: v6.1.0

Bonding Mode: fault-tolerance (active-backup)
Primary Slave: eth0 (primary_reselect always)
Currently Active Slave: eth0
MII Status: up
MII Polling Interval (ms): 100
Up Delay (ms): 200
Down Delay (ms): 100
Peer Notification Delay (ms): 0

Slave Interface: eth0
MII Status: up
Speed: 1000 Mbps
Duplex: full
Link Failure Count: 0
Permanent HW addr: 02:00:00:00:00:10
Slave queue ID: 0

Slave Interface: eth1
MII Status: down
Speed: Unknown
Duplex: Unknown
Link Failure Count: 1
Permanent HW addr: 02:00:00:00:00:11
Slave queue ID: 0
";
    assert_eq!(s.as_str(), expected);
}

#[test]
fn status_text_for_xor_shows_hash_policy_and_no_active() {
    let c = Config {
        xmit_hash_policy: XmitHashPolicy::Layer34,
        ..cfg(Mode::Xor, 100)
    };
    let b = bond_with(c, 1);
    let mut s = heapless::String::<1024>::new();
    core::fmt::write(
        &mut s,
        format_args!("{}", b.status().with_version("v6.1.0")),
    )
    .unwrap();
    assert!(s.starts_with(
        "Ethernet Channel Bonding Driver: v6.1.0\n\nBonding Mode: load balancing (xor)\nTransmit Hash Policy: layer3+4 (1)\nMII Status: up\n"
    ), "{s}");
    assert!(!s.contains("Currently Active Slave"));
}

#[test]
fn timeouts_are_never_in_the_past_after_handling() {
    let c = Config {
        downdelay_ms: 300,
        updelay_ms: 300,
        num_peer_notif: 5,
        ..cfg(Mode::ActiveBackup, 100)
    };
    let mut b = bond_with(c, 3);
    b.add_address(BondAddress {
        ip: IpAddress::V4([10, 0, 0, 1]),
        vlan: None,
    })
    .unwrap();
    let mut now = ms(0);
    for step in 0..200u64 {
        let port = PortId((step % 3) as u8);
        let up = step % 5 < 2;
        now += Duration::from_millis(37);
        b.handle_link(
            now,
            port,
            if up {
                LinkSample::up_full(1000)
            } else {
                LinkSample::DOWN
            },
        );
        b.handle_timeout(now);
        let _ = drain_transmits(&mut b, now);
        let _ = drain_events(&mut b);
        if let Some(t) = b.poll_timeout() {
            assert!(t > now, "deadline {t} not after {now}");
        }
        // Invariant: in active-backup at most one port is active, and it is the current one.
        let active: heapless::Vec<PortId, 4> =
            b.ports().filter(|&p| b.port(p).unwrap().active).collect();
        assert!(active.len() <= 1);
        if let Some(a) = active.first() {
            assert_eq!(b.active_port(), Some(*a));
        }
    }
}

#[test]
fn set_option_primary_takes_over_at_once() {
    let mut b = bond_with(cfg(Mode::ActiveBackup, 100), 2);
    assert_eq!(b.active_port(), Some(P0));
    b.set_option(ms(5), "primary", "eth1").unwrap();
    assert_eq!(b.primary_port(), Some(P1));
    assert_eq!(b.active_port(), Some(P1));
    b.set_option(ms(6), "primary", "").unwrap();
    assert_eq!(b.primary_port(), None);
    // Linux 6.x reselects on clearing: with no primary the highest-prio port that is up wins,
    // the first joined on ties, and primary_reselect=always lets it take over.
    assert_eq!(b.active_port(), Some(P0));
}

#[test]
fn set_option_active_slave() {
    let mut b = bond_with(cfg(Mode::ActiveBackup, 100), 2);
    b.set_option(ms(5), "active_slave", "eth1").unwrap();
    assert_eq!(b.active_port(), Some(P1));
    let err = b.set_option(ms(5), "active_slave", "eth7").unwrap_err();
    assert_eq!(err, SetOptionError::ActivePort(SetActiveError::NoSuchPort));
    assert_eq!(
        b.config().active_slave.as_deref(),
        Some("eth1"),
        "unchanged on error"
    );
}

#[test]
fn set_option_refusals_change_nothing() {
    let mut b = bond_with(cfg(Mode::ActiveBackup, 100), 2);
    let before = b.config().clone();
    // Mode needs no ports and the bond down.
    assert!(matches!(
        b.set_option(ms(1), "mode", "balance-rr"),
        Err(SetOptionError::Option(_))
    ));
    // The ARP monitor is validated but not implemented: refused whole.
    let err = b.set_option(ms(1), "arp_interval", "100").unwrap_err();
    assert!(matches!(err, SetOptionError::Unsupported(_)), "{err:?}");
    let mut text = heapless::String::<128>::new();
    core::fmt::write(&mut text, format_args!("{err}")).unwrap();
    assert_eq!(
        text.as_str(),
        "option \"arp_interval\": the ARP link monitor is not implemented yet"
    );
    assert!(b.set_option(ms(1), "mimon", "100").is_err());
    assert_eq!(b.config(), &before);
    assert_eq!(b.config().miimon, 100);
}

#[test]
fn set_option_all_slaves_active_toggles_backup_rx() {
    let mut b = bond_with(cfg(Mode::ActiveBackup, 100), 2);
    let f = frame(PEER, MAC0, 0x0800, 60);
    assert_eq!(
        b.handle_rx(ms(1), P1, &f),
        RxVerdict::Drop(DropReason::InactivePort)
    );
    b.set_option(ms(2), "all_slaves_active", "1").unwrap();
    assert_eq!(b.handle_rx(ms(3), P1, &f), RxVerdict::Deliver);
    b.set_option(ms(4), "all_slaves_active", "0").unwrap();
    assert_eq!(
        b.handle_rx(ms(5), P1, &f),
        RxVerdict::Drop(DropReason::InactivePort)
    );
}

#[test]
fn mode_change_on_an_empty_down_bond() {
    let mut b = Bond::<2>::new(ms(0), cfg(Mode::ActiveBackup, 100), None, 0).unwrap();
    b.set_admin_up(ms(0), false);
    b.set_option(ms(1), "mode", "balance-xor").unwrap();
    b.set_option(ms(1), "xmit_hash_policy", "layer3+4").unwrap();
    b.set_admin_up(ms(2), true);
    b.add_port(ms(2), &port("eth0", MAC0, true)).unwrap();
    assert_eq!(
        b.select_tx(ms(3), &frame(MAC0, PEER, 0x0800, 60)),
        TxVerdict::Port(P0)
    );
    assert_eq!(b.config().mode, Mode::Xor);
}

#[test]
fn turning_miimon_on_starts_watching_links() {
    let mut b = bond_with(cfg(Mode::ActiveBackup, 0), 2);
    b.handle_link(ms(1), P0, LinkSample::DOWN);
    assert_eq!(b.active_port(), Some(P0), "no monitor, no failover (Linux)");
    b.set_option(ms(2), "miimon", "100").unwrap();
    assert_eq!(b.port(P0).unwrap().link, LinkState::Down);
    assert_eq!(b.active_port(), Some(P1));
}

#[test]
fn joining_reports_the_starting_link_state_and_leaving_warns_about_a_borrowed_mac() {
    let c = Config {
        updelay_ms: 200,
        ..cfg(Mode::ActiveBackup, 100)
    };
    let mut b = Bond::<4>::new(ms(0), c, None, 0).unwrap();
    b.add_port(ms(0), &port("eth0", MAC0, true)).unwrap();
    b.add_port(ms(0), &port("eth1", MAC1, true)).unwrap();
    let ev = drain_events(&mut b);
    assert!(
        ev.contains(&Event::LinkChanged {
            port: P0,
            state: LinkState::Up
        }),
        "{ev:?}"
    );
    assert!(
        ev.contains(&Event::LinkChanged {
            port: P1,
            state: LinkState::Back
        }),
        "{ev:?}"
    );
    // eth0 lent the bond its MAC; eth1 stays, so Linux warns the address is still in use.
    b.remove_port(ms(1), P0);
    let ev = drain_events(&mut b);
    assert!(
        ev.contains(&Event::PermanentMacInUse { mac: MAC0 }),
        "{ev:?}"
    );
}

#[test]
fn clearing_active_slave_leaves_one_active_port() {
    // Found by the handle_rx fuzz target.
    let mut b = bond_with(cfg(Mode::ActiveBackup, 100), 3);
    b.set_active_port(ms(1), Some(P2)).unwrap();
    b.set_active_port(ms(2), None).unwrap();
    let active: heapless::Vec<PortId, 4> =
        b.ports().filter(|&p| b.port(p).unwrap().active).collect();
    assert_eq!(&active[..], &[P0]);
    assert_eq!(b.active_port(), Some(P0));
    let f = frame(PEER, MAC0, 0x0800, 60);
    assert_eq!(
        b.handle_rx(ms(3), P2, &f),
        RxVerdict::Drop(DropReason::InactivePort)
    );
}

#[test]
fn no_announcement_on_an_active_port_without_carrier() {
    // Found by the handle_rx fuzz target: during downdelay the active port has no carrier.
    let c = Config {
        downdelay_ms: 500,
        num_peer_notif: 3,
        ..cfg(Mode::ActiveBackup, 100)
    };
    let mut b = bond_with(c, 2);
    b.add_address(BondAddress {
        ip: IpAddress::V4([10, 0, 0, 1]),
        vlan: None,
    })
    .unwrap();
    b.set_active_port(ms(1), Some(P1)).unwrap();
    b.handle_link(ms(2), P1, LinkSample::DOWN);
    let mut now = ms(2);
    for _ in 0..5 {
        for (t, _) in drain_transmits(&mut b, now) {
            assert!(
                b.port(t.port).unwrap().carrier,
                "{t:?} on a port without carrier"
            );
        }
        now += Duration::from_millis(100);
        b.handle_timeout(now);
    }
}

#[test]
fn switching_miimon_off_settles_a_pending_downdelay() {
    // Found by the handle_rx fuzz campaign: the port used to stay "going down" for ever.
    let c = Config {
        downdelay_ms: 200,
        ..cfg(Mode::ActiveBackup, 100)
    };
    let mut b = bond_with(c, 2);
    b.handle_link(ms(10), P0, LinkSample::DOWN);
    assert_eq!(b.port(P0).unwrap().link, LinkState::Fail);
    b.set_option(ms(20), "miimon", "0").unwrap();
    assert_eq!(b.port(P0).unwrap().link, LinkState::Down);
    assert_eq!(b.active_port(), Some(P1));
    assert_eq!(
        b.select_tx(ms(20), &frame(MAC0, PEER, 0x0800, 60)),
        TxVerdict::Port(P1)
    );
    assert_eq!(b.poll_timeout(), None);
}
