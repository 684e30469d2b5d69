//! Failover and failback: outage with carrier events vs miimon polling, updelay/downdelay,
//! primary/primary_reselect, gratuitous ARPs re-teaching the switches, switch failure, port
//! removal and addition.

mod common;

use bond_core::config::{Mode, PrimaryReselect};
use bond_core::{Duration, Event, LinkState};
use bond_sim::packet::Announcement;
use bond_sim::topology::ROUTER_IP;
use bond_sim::{CarrierDelivery, Fault, FlowSpec, LogKind, Net, Setup, Topology};
use common::*;

/// Active-backup on `topology`, 2 flows each way at 1 ms, active port cut at 1000 ms.
fn ab_cut(topology: Topology, carrier: CarrierDelivery) -> Net {
    let mut net = build(topology, config(Mode::ActiveBackup, 100), carrier);
    net.add_flows(2, Duration::from_millis(1));
    net.sim
        .schedule(ms(1000), Fault::LinkDown(net.router_links[0]));
    net.sim.run_until(ms(2000));
    assert_eq!(net.router().active_nic(), Some(1));
    assert_eq!(
        duplicates(&net, net.peer, net.router),
        0,
        "no duplicate delivery in active-backup"
    );
    assert_clean(&net);
    net
}

#[test]
fn failover_outage_carrier_events_vs_miimon_polling() {
    for topology in [Topology::high_availability(), Topology::throughput()] {
        let ev = ab_cut(topology, CarrierDelivery::Events);
        let mii = ab_cut(topology, CarrierDelivery::Miimon);
        let o = |n: &Net| {
            (
                worst_outage(n, n.router, n.peer),
                worst_outage(n, n.peer, n.router),
            )
        };
        let (ev_out, ev_back) = o(&ev);
        let (mii_out, mii_back) = o(&mii);
        println!(
            "{topology:?}: outage router->far / far->router: events {ev_out} / {ev_back}, miimon=100 {mii_out} / {mii_back}"
        );
        // Carrier events: the bond fails over at the instant of the cut; nothing is lost.
        assert_eq!((ev_out, ev_back), (Duration::ZERO, Duration::ZERO));
        // Polling at phase 50 ms: the cut at 1000 ms is seen at 1050 ms. Frames sent meanwhile
        // die at the NIC (no carrier) or on the backup port, so the outage is the 50 ms
        // detection delay plus delivery latency.
        for d in [mii_out, mii_back] {
            assert!(
                d >= Duration::from_millis(50) && d <= Duration::from_millis(51),
                "{d}"
            );
        }
        assert!(mii.router().stats().tx_no_carrier >= 99);
    }
}

#[test]
fn downdelay_defers_failover_and_short_flaps_are_ignored() {
    let mut c = config(Mode::ActiveBackup, 100);
    c.downdelay_ms = 200;
    let mut net = build(Topology::throughput(), c, CarrierDelivery::Events);
    net.add_flows(2, Duration::from_millis(1));
    // A 50 ms blip (shorter than downdelay), then a real failure.
    net.sim.schedule(
        ms(500),
        Fault::Flap {
            link: net.router_links[0],
            times: 1,
            period: Duration::from_millis(100),
        },
    );
    net.sim
        .schedule(ms(1000), Fault::LinkDown(net.router_links[0]));
    net.sim.run_until(ms(2000));
    let ev = bond_events(&net, net.router);
    let downs: Vec<_> = ev
        .iter()
        .filter(|(_, e)| {
            matches!(
                e,
                Event::LinkChanged {
                    state: LinkState::Down,
                    ..
                }
            )
        })
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(
        downs,
        [ms(1200)],
        "only the real failure, after downdelay: {ev:?}"
    );
    let changes: Vec<_> = ev
        .iter()
        .filter(|(_, e)| matches!(e, Event::ActiveChanged { .. }))
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(changes, [ms(0), ms(1200)]);
    let outages = net.sim.outages(net.router, net.peer);
    let d: Vec<Duration> = outages.iter().filter_map(|o| o.duration()).collect();
    println!("downdelay=200 outages router->far: {d:?}");
    assert_eq!(d.len(), 2);
    assert!(
        d[0] >= Duration::from_millis(50) && d[0] <= Duration::from_millis(51),
        "blip: {}",
        d[0]
    );
    assert!(
        d[1] >= Duration::from_millis(200) && d[1] <= Duration::from_millis(201),
        "failure: {}",
        d[1]
    );
    assert_clean(&net);
}

/// Active-backup with `primary=eth0`, eth0 cut at 1000 ms and restored at 2000 ms.
fn primary_run(reselect: PrimaryReselect, updelay: u32, speeds: [u32; 2]) -> Net {
    let mut c = config(Mode::ActiveBackup, 100);
    c.primary = Some("eth0".try_into().unwrap());
    c.primary_reselect = reselect;
    c.updelay_ms = updelay;
    let mut net = build(Topology::high_availability(), c, CarrierDelivery::Events);
    for (l, s) in net.router_links.clone().into_iter().zip(speeds) {
        net.sim.link_mut(l).params.speed_mbps = s;
    }
    net.add_flows(1, Duration::from_millis(1));
    net.sim
        .schedule(ms(1000), Fault::LinkDown(net.router_links[0]));
    net.sim
        .schedule(ms(2000), Fault::LinkUp(net.router_links[0]));
    net.sim.run_until(ms(3000));
    assert_eq!(duplicates(&net, net.peer, net.router), 0);
    assert_clean(&net);
    net
}

fn active_changes(net: &Net) -> Vec<(u64, Option<usize>)> {
    bond_events(net, net.router)
        .into_iter()
        .filter_map(|(t, e)| match e {
            Event::ActiveChanged { new, .. } => {
                Some((t.total_millis(), new.and_then(|p| net.router().nic_of(p))))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn primary_reselect_always_fails_back_after_updelay() {
    let net = primary_run(PrimaryReselect::Always, 300, [1000, 1000]);
    assert_eq!(
        active_changes(&net),
        [(0, Some(0)), (1000, Some(1)), (2300, Some(0))]
    );
    let back: Vec<_> = bond_events(&net, net.router)
        .into_iter()
        .filter(|(t, e)| *t >= ms(2000) && matches!(e, Event::LinkChanged { .. }))
        .collect();
    assert!(
        matches!(back[0], (t, Event::LinkChanged { state: LinkState::Back, .. }) if t == ms(2000))
    );
    assert!(
        matches!(back[1], (t, Event::LinkChanged { state: LinkState::Up, .. }) if t == ms(2300))
    );
    // Traffic kept flowing on eth1 during the updelay: no outage at failback.
    assert_eq!(worst_outage(&net, net.peer, net.router), Duration::ZERO);
}

#[test]
fn primary_reselect_better_compares_speed() {
    // The primary comes back slower: stay on eth1.
    let net = primary_run(PrimaryReselect::Better, 0, [100, 1000]);
    assert_eq!(active_changes(&net), [(0, Some(0)), (1000, Some(1))]);
    // The primary comes back faster: take it back.
    let net = primary_run(PrimaryReselect::Better, 0, [1000, 100]);
    assert_eq!(
        active_changes(&net),
        [(0, Some(0)), (1000, Some(1)), (2000, Some(0))]
    );
}

#[test]
fn primary_reselect_failure_stays_until_the_active_port_fails() {
    let mut net = primary_run(PrimaryReselect::Failure, 0, [1000, 1000]);
    assert_eq!(active_changes(&net), [(0, Some(0)), (1000, Some(1))]);
    net.sim
        .schedule(ms(3500), Fault::LinkDown(net.router_links[1]));
    net.sim.run_until(ms(4000));
    assert_eq!(active_changes(&net).last(), Some(&(3500, Some(0))));
    assert_clean(&net);
}

#[test]
fn gratuitous_arp_reteaches_the_switches_after_failover() {
    // Far host on switch B, which learned the bond MAC on the inter-switch link. Only the far
    // host talks, so after failover nothing but the bond's gratuitous ARP tells B that the bond
    // now sits on B.port1.
    for grat_arp in [1u8, 0] {
        let mut c = config(Mode::ActiveBackup, 100);
        c.num_peer_notif = grat_arp;
        let mut net = build(
            Topology::high_availability_far_on_b(),
            c,
            CarrierDelivery::Events,
        );
        let mut spec = FlowSpec::new(net.peer, net.router, 41000, 6001);
        spec.interval = Duration::from_millis(1);
        net.sim.add_flow(spec);
        net.sim
            .schedule(ms(1000), Fault::LinkDown(net.router_links[0]));
        net.sim.run_until(ms(2000));
        let (a, b) = (net.switches[0], net.switches[1]);
        let seen: Vec<_> = net
            .sim
            .log()
            .iter()
            .filter_map(|e| match e.kind {
                LogKind::Announcement {
                    switch,
                    port,
                    what: Announcement::GratuitousArp { ip, .. },
                } if e.at >= ms(1000) && ip == ROUTER_IP => Some((e.at, switch, port)),
                _ => None,
            })
            .collect();
        let mac = net.router().mac();
        if grat_arp == 1 {
            // Sent at the failover instant, seen one link latency later on B.port1, then on A.
            assert_eq!(
                seen[0],
                (ms(1000) + Duration::from_micros(50), b, 0),
                "{seen:?}"
            );
            assert_eq!(net.sim.switch(b).lookup(net.sim.now(), mac), Some(0));
            assert_eq!(net.sim.switch(a).lookup(net.sim.now(), mac), Some(1));
            assert_eq!(worst_outage(&net, net.peer, net.router), Duration::ZERO);
        } else {
            // Without it, B keeps sending to A, which has no port for the bond any more.
            assert!(seen.is_empty());
            let o = net.sim.outages(net.peer, net.router);
            assert_eq!(o.len(), 1);
            assert_eq!(
                o[0].resumed, None,
                "black hole until the bond sends something"
            );
        }
        assert_clean(&net);
    }
}

#[test]
fn switch_failure_in_the_high_availability_topology() {
    for carrier in [CarrierDelivery::Events, CarrierDelivery::Miimon] {
        let mut net = build(
            Topology::high_availability_far_on_b(),
            config(Mode::ActiveBackup, 100),
            carrier,
        );
        net.add_flows(2, Duration::from_millis(1));
        let a = net.switches[0];
        net.sim.schedule(ms(1000), Fault::SwitchDown(a));
        net.sim.schedule(ms(2000), Fault::SwitchUp(a));
        net.sim.run_until(ms(3000));
        assert_eq!(net.router().active_nic(), Some(1));
        let (out, back) = (
            worst_outage(&net, net.router, net.peer),
            worst_outage(&net, net.peer, net.router),
        );
        println!("switch A failure, {carrier:?}: outage {out} / {back}");
        let limit = if carrier == CarrierDelivery::Events {
            Duration::ZERO
        } else {
            Duration::from_millis(51)
        };
        assert!(out <= limit && back <= limit);
        assert_eq!(duplicates(&net, net.peer, net.router), 0);
        assert!(net.sim.switch(a).is_powered());
        assert_clean(&net);
    }
}

#[test]
fn port_removal_and_addition() {
    let mut net = build(
        Topology::throughput(),
        config(Mode::ActiveBackup, 100),
        CarrierDelivery::Events,
    );
    net.add_flows(2, Duration::from_millis(1));
    let r = net.router;
    net.sim
        .schedule(ms(500), Fault::RemovePort { host: r, nic: 0 });
    net.sim
        .schedule(ms(1000), Fault::RemovePort { host: r, nic: 1 });
    net.sim
        .schedule(ms(1500), Fault::AddPort { host: r, nic: 1 });
    net.sim
        .schedule(ms(1600), Fault::AddPort { host: r, nic: 0 });
    net.sim.run_for(Duration::from_millis(700));
    assert_eq!(net.router().active_nic(), Some(1));
    assert_eq!(net.router().nics()[0].port(), None);
    net.sim.run_until(ms(1200));
    assert_eq!(net.sim.bond(r).port_count(), 0);
    assert!(!net.sim.bond(r).carrier());
    // Released, eth1 gets its own MAC back (eth0's was the bond's from the start).
    let eth1 = &net.router().nics()[1];
    assert_eq!(eth1.mac(), eth1.perm_mac());
    net.sim.run_until(ms(2000));
    assert_eq!(net.sim.bond(r).port_count(), 2);
    assert_eq!(net.router().active_nic(), Some(1));
    let outages = net.sim.outages(r, net.peer);
    assert_eq!(outages.len(), 1, "{outages:?}");
    assert!(
        outages[0].first_lost_sent == ms(1000) && outages[0].resumed.is_some_and(|t| t < ms(1501))
    );
    assert_clean(&net);
}

#[test]
fn back_to_back_bonds_fail_over_together() {
    let mut setup = Setup::new(config(Mode::ActiveBackup, 100));
    setup.carrier = CarrierDelivery::Events;
    let mut net = Topology::back_to_back().build(&setup);
    net.add_flows(2, Duration::from_millis(1));
    net.sim
        .schedule(ms(500), Fault::LinkDown(net.router_links[0]));
    net.sim.run_until(ms(1000));
    assert_eq!(net.router().active_nic(), Some(1));
    assert_eq!(net.sim.bonded(net.peer).active_nic(), Some(1));
    assert_eq!(worst_outage(&net, net.router, net.peer), Duration::ZERO);
    assert_eq!(worst_outage(&net, net.peer, net.router), Duration::ZERO);
    assert_clean(&net);
}

#[test]
fn fail_over_mac_active_needs_the_gratuitous_arp() {
    // The bond MAC follows the active port, so after failover the far host must learn the new
    // MAC, which only the bond's gratuitous ARP tells it.
    for grat_arp in [1u8, 0] {
        let mut c = config(Mode::ActiveBackup, 100);
        c.fail_over_mac = bond_core::config::FailOverMac::Active;
        c.num_peer_notif = grat_arp;
        let mut net = build(Topology::high_availability(), c, CarrierDelivery::Events);
        net.add_flows(2, Duration::from_millis(1));
        net.sim
            .schedule(ms(1000), Fault::LinkDown(net.router_links[0]));
        net.sim.run_until(ms(2000));
        let eth1_mac = net.router().nics()[1].perm_mac();
        assert_eq!(net.router().mac(), eth1_mac, "the bond took eth1's MAC");
        let far_cache = net.sim.plain(net.peer).neighbors().get(ROUTER_IP);
        if grat_arp == 1 {
            assert_eq!(far_cache, Some(eth1_mac));
            // Frames the far host sent before the announcement reached it (150 µs: three
            // links) went to the old MAC; at one frame per 0.5 ms that is at most one frame.
            let o = net.sim.outages(net.peer, net.router);
            assert!(o.len() <= 1 && o.iter().all(|o| o.lost <= 1), "{o:?}");
            assert!(worst_outage(&net, net.peer, net.router) < Duration::from_millis(1));
        } else {
            assert_eq!(
                far_cache,
                Some(net.router().nics()[0].perm_mac()),
                "stale cache"
            );
            assert_eq!(net.sim.outages(net.peer, net.router)[0].resumed, None);
        }
        // The router's own traffic is unaffected either way.
        assert_eq!(worst_outage(&net, net.router, net.peer), Duration::ZERO);
        assert_clean(&net);
    }
}
