//! 802.3ad in the simulator: convergence, failover on carrier loss and on silence, partner
//! reboot, two partners, loops, echoes, floods of malformed PDUs, passive ends, `lacp_fallback`,
//! and a property over random widths, latencies and rates.
//!
//! Every run also gets the simulator's own checks (strict mode: the first violation panics):
//! every Slow Protocols frame a bond sends decodes with `bond_core::wire::slow::classify`, and no
//! port sends a fourth LACPDU within a second of the third-to-last.

mod common;

use bond_core::lacp::{MuxState, RxState, AGGREGATE_WAIT, LONG_TIMEOUT, SHORT_TIMEOUT};
use bond_core::wire::lacp::PortState;
use bond_core::{Config, Duration, EthernetAddress, Event, Instant};
use bond_sim::lacp::{all_negotiated, host_spec, peer_mac, router_mac, LacpPair};
use bond_sim::scripted::{Echo, Flood, Junk};
use bond_sim::slow::MAX_LACPDUS_PER_SECOND;
use bond_sim::topology::{FAR_IP, ROUTER_IP};
use bond_sim::{Endpoint, Fault, FlowSpec, LinkParams, LogKind, Net, NodeId, Sim, SimConfig};
use bond_sim::{Setup, Topology};
use common::*;
use proptest::prelude::*;

/// 802.3ad with the MII monitor on, plus `extra`.
fn cfg(extra: &str) -> Config {
    Config::parse(&format!("mode=802.3ad miimon=100 {extra}")).unwrap()
}

/// Fast LACP and a layer3+4 hash, so several UDP flows spread over the ports.
const FAST: &str = "lacp_rate=fast xmit_hash_policy=layer3+4";

/// Two bonds over `ports` links with the same configuration `extra`.
fn pair(extra: &str, ports: usize) -> Net {
    LacpPair::new(cfg(extra), cfg(extra), ports).build()
}

/// Run until both bonds of `net` have negotiated every port; the instant it happened.
fn converge(net: &mut Net, limit: Instant) -> Instant {
    let hosts = [net.router, net.peer];
    net.sim
        .run_until_true(limit, |s| all_negotiated(s, &hosts))
        .unwrap_or_else(|| panic!("no convergence by {limit}"))
}

/// The Mux states `host`'s NIC `nic` entered at or after `since`, with their times.
fn mux_changes(net: &Net, host: NodeId, nic: usize, since: Instant) -> Vec<(Instant, MuxState)> {
    let port = net.sim.bonded(host).nics()[nic].port();
    bond_events(net, host)
        .into_iter()
        .filter(|(t, _)| *t >= since)
        .filter_map(|(t, e)| match e {
            Event::LacpMuxChanged { port: p, state } if Some(p) == port => Some((t, state)),
            _ => None,
        })
        .collect()
}

/// The NICs (bit mask) the frames of the flows from `from` to `to` left on, and arrived on.
fn nics_used(net: &Net, from: NodeId, to: NodeId) -> (u32, u32) {
    let mut sent = 0;
    let mut received = 0;
    for f in flows(net, from, to) {
        sent |= f.sent.iter().fold(0, |m, s| m | s.nics);
        received |= f.received.iter().flatten().fold(0, |m, r| m | 1 << r.nic);
    }
    (sent, received)
}

/// Frames lost by the flows from `from` to `to` (ignoring the last 10 ms, maybe in flight).
fn lost(net: &Net, from: NodeId, to: NodeId) -> u64 {
    let settled = Instant::from_micros(net.sim.now().total_micros() - 10_000);
    flows(net, from, to)
        .iter()
        .map(|f| f.lost_before(settled))
        .sum()
}

/// Two round trips on links of one-way latency `l`.
fn two_rtt(l: Duration) -> Duration {
    Duration::from_micros(4 * l.total_micros())
}

/// The most LACPDUs any NIC of `host` sent in any one-second window.
fn worst_rate(sim: &Sim, host: NodeId) -> usize {
    sim.bonded(host)
        .nics()
        .iter()
        .map(|n| n.slow_tx().max_lacpdus_per_second())
        .max()
        .unwrap_or(0)
}

// ---- 1. convergence and data ---------------------------------------------------------------

#[test]
fn two_bonds_converge_and_carry_flows_both_ways_on_both_ports() {
    let mut net = pair(FAST, 2);
    let (r, p) = (net.router, net.peer);
    let t = converge(&mut net, ms(10_000));
    let bound = Instant::ZERO + AGGREGATE_WAIT + two_rtt(LinkParams::default().latency);
    println!("802.3ad: link-up to distributing on both ends: {t} (bound {bound})");
    assert!(t <= bound, "converged at {t}, bound {bound}");

    for (me, other) in [(r, p), (p, r)] {
        let host = net.sim.bonded(me);
        let agg = host
            .bond()
            .active_aggregator()
            .expect("an active aggregator");
        assert_eq!(agg.ports, 2, "both ports in one aggregator");
        assert_eq!(agg.partner_system, net.sim.bond(other).mac());
        assert_eq!(
            (agg.actor_key, agg.partner_key),
            (9, 9),
            "1 Gbit/s full duplex"
        );
        for nic in 0..2 {
            let s = host.lacp_port(nic).unwrap();
            assert_eq!(s.aggregator_id, Some(agg.id));
            assert_eq!(s.mux, MuxState::CollectingDistributing);
            assert!(s.collecting && s.distributing);
            // The partner is the port at the other end of this very cable.
            let theirs = net.sim.bonded(other).lacp_port(nic).unwrap();
            assert_eq!(s.partner.system, theirs.actor.system);
            assert_eq!(s.partner.port, theirs.actor.port);
            assert_eq!(s.partner.key, theirs.actor.key);
        }
        assert!(host.bond().carrier());
    }

    let start = t + Duration::from_millis(10);
    net.add_flows_at(8, Duration::from_millis(1), start);
    net.sim.run_until(start + Duration::from_secs(1));
    for (from, to) in [(r, p), (p, r)] {
        assert_eq!(lost(&net, from, to), 0, "no loss after convergence");
        assert_eq!(
            nics_used(&net, from, to),
            (0b11, 0b11),
            "both ports carry data"
        );
        // layer3+4: each flow stays on one port.
        for f in flows(&net, from, to) {
            let masks: Vec<u32> = f.sent.iter().map(|s| s.nics).collect();
            assert!(masks
                .windows(2)
                .all(|w| w[0] == w[1] && w[0].count_ones() == 1));
        }
    }
    assert_eq!(duplicates(&net, r, p) + duplicates(&net, p, r), 0);
    // By now each side has heard the other collect and distribute.
    for host in [r, p] {
        for nic in 0..2 {
            let s = net.sim.bonded(host).lacp_port(nic).unwrap();
            assert_eq!(s.partner.state.0 & 0x3f, 0x3f, "Act|Tmo|Agg|Syn|Col|Dis");
        }
    }
    assert_clean(&net);
}

// ---- 2. link cut and silent link -----------------------------------------------------------

#[test]
fn link_cut_moves_traffic_in_the_same_instant() {
    let mut net = pair(FAST, 2);
    let (r, p) = (net.router, net.peer);
    converge(&mut net, ms(10_000));
    // Frames leave every 250 µs (4 flows at 1 ms) and fly 50 µs: none is on the wire at 4 s.
    net.add_flows_at(4, Duration::from_millis(1), ms(3000));
    let cut = ms(4000);
    net.sim.schedule(cut, Fault::LinkDown(net.router_links[0]));
    net.sim.run_until(cut);
    for host in [r, p] {
        let h = net.sim.bonded(host);
        assert_eq!(
            h.distributing_nics(),
            [1],
            "{}: eth0 out at the cut",
            h.name()
        );
        let changes = mux_changes(&net, host, 0, cut);
        assert_eq!(changes.first().map(|c| c.0), Some(cut), "{changes:?}");
        assert!(h.bond().carrier());
    }
    // Back in: the port kept its aggregator, so it rejoins on the partner's first LACPDU
    // (no second Aggregate_Wait_Time), both ends at the same instant.
    let restore = ms(4500);
    net.sim
        .schedule(restore, Fault::LinkUp(net.router_links[0]));
    let back = converge(&mut net, ms(6000));
    println!(
        "802.3ad link restored: eth0 distributing again after {}",
        back - restore
    );
    assert_eq!(back - restore, LinkParams::default().latency);
    net.sim.run_until(ms(6000));
    let out = (worst_outage(&net, r, p), worst_outage(&net, p, r));
    println!(
        "802.3ad link cut with carrier events: outage router->peer {} / peer->router {}",
        out.0, out.1
    );
    assert_eq!(out, (Duration::ZERO, Duration::ZERO));
    assert_eq!(lost(&net, r, p) + lost(&net, p, r), 0);
    assert_eq!(nics_used(&net, r, p), (0b11, 0b11));
    assert_clean(&net);
}

/// Silence eth0's link (carrier stays up) once the pair has converged with `rate`; check that
/// the router's eth0 leaves collecting/distributing exactly `timeout` after the last LACPDU it
/// heard, that it then expires and defaults, and that eth1 carries on.
fn silent_link(rate: &str, timeout: Duration) {
    let mut net = pair(&format!("lacp_rate={rate}"), 2);
    let (r, p) = (net.router, net.peer);
    converge(&mut net, ms(40_000));
    // Well after convergence, so the periodic schedule is in its steady state.
    let silence = net.sim.now() + Duration::from_millis(35_500);
    let link = net.router_links[0];
    net.sim.schedule(silence, Fault::Silence(link));
    net.sim
        .run_until(silence + timeout + SHORT_TIMEOUT + Duration::from_secs(1));

    let latency = net.sim.link(link).params.latency;
    let last_heard = net.sim.bonded(p).nics()[0]
        .slow_tx()
        .lacpdus()
        .iter()
        .map(|(t, _)| *t)
        .filter(|t| *t < silence)
        .max()
        .unwrap()
        + latency;
    let changes = mux_changes(&net, r, 0, silence);
    let (left, state) = changes[0];
    println!(
        "lacp_rate={rate}: silenced at {silence}, last LACPDU heard at {last_heard}, eth0 stopped distributing at {left} ({} after the last LACPDU)",
        left - last_heard
    );
    assert_eq!(left - last_heard, timeout, "{changes:?}");
    assert!(!state.is_distributing());
    assert!(left > silence && left - silence <= timeout);
    let h = net.sim.bonded(r);
    assert_eq!(h.distributing_nics(), [1]);
    assert_eq!(h.lacp_port(0).unwrap().rx, RxState::Defaulted);
    assert!(h.bond().carrier());
    // The peer heard nothing either and did the same.
    assert_eq!(net.sim.bonded(p).distributing_nics(), [1]);
    assert_clean(&net);
}

#[test]
fn silent_link_stops_distributing_after_three_seconds_with_fast_rate() {
    silent_link("fast", SHORT_TIMEOUT);
}

#[test]
fn silent_link_stops_distributing_after_ninety_seconds_with_slow_rate() {
    silent_link("slow", LONG_TIMEOUT);
}

// ---- 3. partner reboot ---------------------------------------------------------------------

#[test]
fn partner_reboot_with_a_new_system_id_reconverges() {
    let new_id = EthernetAddress([0x02, 0, 0, 0, 0x77, 0x77]);
    for reboot in [true, false] {
        let mut net = pair(FAST, 2);
        let (r, p) = (net.router, net.peer);
        converge(&mut net, ms(10_000));
        let at = ms(5000);
        if reboot {
            net.sim.schedule(
                at,
                Fault::Reboot {
                    host: p,
                    actor_system: new_id,
                },
            );
        } else {
            // Release and enslave again: the ports say goodbye, then start over.
            for nic in 0..2 {
                net.sim.schedule(at, Fault::RemovePort { host: p, nic });
            }
            for nic in 0..2 {
                net.sim.schedule(at, Fault::AddPort { host: p, nic });
            }
        }
        net.sim.run_until(at);
        assert!(
            !all_negotiated(&net.sim, &[r, p]),
            "the restart is noticed at once"
        );
        if !reboot {
            // A released port's last LACPDU reached the wire: Sync, Collecting, Distributing
            // cleared, so the router stops using the link without waiting for a timeout.
            let goodbye = net.sim.bonded(p).nics()[0].slow_tx().lacpdus()[..]
                .iter()
                .find(|(t, _)| *t == at)
                .map(|(_, pdu)| pdu.actor.state);
            assert!(goodbye.is_some_and(|s| s.0 & 0x38 == 0), "{goodbye:?}");
        }
        let done = converge(&mut net, at + Duration::from_secs(15));
        let what = if reboot {
            "reboot with a new system ID"
        } else {
            "ports removed and re-added"
        };
        println!("802.3ad partner {what}: reconverged in {}", done - at);
        assert!(
            done - at <= AGGREGATE_WAIT + Duration::from_millis(10),
            "{}",
            done - at
        );
        let expected = if reboot {
            new_id
        } else {
            net.sim.bond(p).mac()
        };
        let agg = net.sim.bond(r).active_aggregator().unwrap();
        assert_eq!((agg.ports, agg.partner_system), (2, expected));
        for nic in 0..2 {
            assert_eq!(
                net.sim.bonded(r).lacp_port(nic).unwrap().partner.system,
                expected
            );
        }
        assert_clean(&net);
    }
}

// ---- 4. two partners -----------------------------------------------------------------------

#[test]
fn ports_on_two_partners_make_two_aggregators_and_only_the_active_one_distributes() {
    let mut sim = Sim::new(SimConfig::default());
    let c = cfg(FAST);
    let router = sim
        .add_bonded_host(
            "router",
            host_spec(c.clone(), &[router_mac(0), router_mac(1)], ROUTER_IP, 1),
        )
        .unwrap();
    let a = sim
        .add_bonded_host(
            "A",
            host_spec(c.clone(), &[peer_mac(0)], [192, 168, 1, 2], 2),
        )
        .unwrap();
    let b = sim
        .add_bonded_host("B", host_spec(c, &[peer_mac(1)], [192, 168, 1, 3], 3))
        .unwrap();
    let l = LinkParams::default();
    sim.connect(Endpoint::new(router, 0), Endpoint::new(a, 0), l);
    sim.connect(Endpoint::new(router, 1), Endpoint::new(b, 0), l);
    for (i, to) in [a, b].into_iter().enumerate() {
        let mut spec = FlowSpec::new(router, to, 40000 + i as u16, 5001);
        spec.start = ms(3000);
        spec.stop = Some(ms(4000));
        sim.add_flow(spec);
    }
    sim.run_until(ms(10_000));

    let h = sim.bonded(router);
    let aggs: Vec<Option<u16>> = (0..2)
        .map(|n| h.lacp_port(n).unwrap().aggregator_id)
        .collect();
    assert!(
        aggs[0].is_some() && aggs[1].is_some() && aggs[0] != aggs[1],
        "{aggs:?}"
    );
    let active = h.bond().active_aggregator().unwrap();
    let on = aggs.iter().position(|a| *a == Some(active.id)).unwrap();
    let off = 1 - on;
    assert_eq!(active.ports, 1);
    assert_eq!(
        h.distributing_nics(),
        [on],
        "only the active aggregator's port distributes"
    );
    let idle = h.lacp_port(off).unwrap();
    assert!(
        !idle.actor.state.contains(PortState::SYNCHRONIZATION),
        "idle port claims no sync"
    );
    assert_eq!(idle.mux, MuxState::Attached);
    // The partner behind the idle port hears "not in sync" and does not use its link either.
    let partners = [a, b];
    assert!(sim.bonded(partners[on]).all_negotiated());
    assert!(sim.bonded(partners[off]).negotiated_nics().is_empty());
    // Everything the router sent left on the active port.
    for f in sim.flows() {
        assert!(
            f.sent.iter().all(|s| s.nics == 1 << on),
            "flow to {:?}",
            f.spec.to
        );
    }
    assert!(sim.violations().is_empty());
}

// ---- 5. loop to itself ---------------------------------------------------------------------

#[test]
fn port_cabled_back_to_its_own_bond_never_storms_nor_aggregates_with_itself() {
    let mut sim = Sim::new(SimConfig::default());
    let macs: Vec<_> = (0..3).map(router_mac).collect();
    let router = sim
        .add_bonded_host("router", host_spec(cfg(FAST), &macs, ROUTER_IP, 1))
        .unwrap();
    let peer = sim
        .add_bonded_host("peer", host_spec(cfg(FAST), &[peer_mac(0)], FAR_IP, 2))
        .unwrap();
    let l = LinkParams::default();
    sim.connect(Endpoint::new(router, 0), Endpoint::new(router, 1), l);
    sim.connect(Endpoint::new(router, 2), Endpoint::new(peer, 0), l);
    sim.run_until(ms(30_000));

    let h = sim.bonded(router);
    println!(
        "loop: LACPDUs sent per NIC in 30 s: {:?}, worst per second {}",
        h.nics()
            .iter()
            .map(|n| n.slow_tx().lacpdus().len())
            .collect::<Vec<_>>(),
        worst_rate(&sim, router)
    );
    assert!(worst_rate(&sim, router) <= MAX_LACPDUS_PER_SECOND);
    let (p0, p1) = (h.lacp_port(0).unwrap(), h.lacp_port(1).unwrap());
    for s in [p0, p1] {
        assert!(s.looped_rx > 0, "our own PDUs came back");
        assert_ne!(s.rx, RxState::Current, "our own PDUs are no partner");
        assert_ne!(s.partner.system, s.actor.system);
        assert!(!s.mux.is_distributing());
    }
    assert_ne!(
        p0.aggregator_id, p1.aggregator_id,
        "the two looped ports never aggregate"
    );
    // Steady state: the periodic rate, nothing more (30 s at 1/s, plus the start-up exchange).
    assert!(h.nics()[0].slow_tx().lacpdus().len() <= 35);
    // The real partner is unaffected.
    assert_eq!(h.negotiated_nics(), [2]);
    assert_eq!(
        h.bond().active_aggregator().unwrap().partner_system,
        sim.bond(peer).mac()
    );
    assert!(sim.violations().is_empty());
}

// ---- 6. echoing partner --------------------------------------------------------------------

#[test]
fn partner_echoing_our_lacpdus_is_ignored() {
    let mut sim = Sim::new(SimConfig::default());
    let router = sim
        .add_bonded_host(
            "router",
            host_spec(cfg(FAST), &[router_mac(0), router_mac(1)], ROUTER_IP, 1),
        )
        .unwrap();
    let mirror = sim.add_scripted("mirror", 1, Echo::default());
    let peer = sim
        .add_bonded_host("peer", host_spec(cfg(FAST), &[peer_mac(0)], FAR_IP, 2))
        .unwrap();
    let l = LinkParams::default();
    sim.connect(Endpoint::new(router, 0), Endpoint::new(mirror, 0), l);
    sim.connect(Endpoint::new(router, 1), Endpoint::new(peer, 0), l);
    sim.run_until(ms(20_000));

    let echoed = sim.scripted(mirror).script::<Echo>().unwrap().echoed;
    let h = sim.bonded(router);
    let s = h.lacp_port(0).unwrap();
    let sent = h.nics()[0].slow_tx().lacpdus().len();
    println!(
        "echo: {sent} LACPDUs sent on eth0 in 20 s, {echoed} echoed back, {} ignored as looped",
        s.looped_rx
    );
    assert_eq!(s.looped_rx, echoed);
    assert_eq!(s.stats.lacpdu_rx, echoed);
    assert_eq!(s.rx, RxState::Defaulted, "an echo is no partner");
    assert!(!s.mux.is_distributing());
    assert!(sent <= 25, "{sent} LACPDUs in 20 s");
    assert!(worst_rate(&sim, router) <= MAX_LACPDUS_PER_SECOND);
    assert_eq!(h.negotiated_nics(), [1]);
    assert!(sim.violations().is_empty());
}

// ---- 7. passive ends -----------------------------------------------------------------------

#[test]
fn passive_and_active_converge_and_passive_pair_stays_silent() {
    let mut net = LacpPair::new(cfg(&format!("{FAST} lacp_active=0")), cfg(FAST), 2).build();
    let t = converge(&mut net, ms(10_000));
    let bound = Instant::ZERO + AGGREGATE_WAIT + two_rtt(LinkParams::default().latency);
    println!("802.3ad passive/active: converged at {t}");
    assert!(t <= bound, "{t} > {bound}");
    assert!(
        net.sim.bonded(net.router).nics()[0]
            .slow_tx()
            .lacpdus()
            .len()
            > 2,
        "passive answers"
    );
    assert_clean(&net);

    let mut quiet = pair(&format!("{FAST} lacp_active=0"), 2);
    quiet.sim.run_until(ms(30_000));
    for host in [quiet.router, quiet.peer] {
        let h = quiet.sim.bonded(host);
        for n in h.nics() {
            assert!(
                n.slow_tx().lacpdus().is_empty(),
                "{}: passive/passive sends nothing",
                n.name()
            );
        }
        assert!(h.negotiated_nics().is_empty());
        assert_eq!(h.bond().lacp_stats().lacpdu_tx, 0);
    }
    assert_clean(&quiet);
}

// ---- 8. malformed PDUs and floods ----------------------------------------------------------

#[test]
fn flood_of_malformed_pdus_is_counted_and_the_other_port_keeps_working() {
    let mut sim = Sim::new(SimConfig::default());
    let router = sim
        .add_bonded_host(
            "router",
            host_spec(cfg(FAST), &[router_mac(0), router_mac(1)], ROUTER_IP, 1),
        )
        .unwrap();
    // 500 frames a second from 3 s to 13 s.
    let flood = Flood::new(ms(3000), Duration::from_millis(2), Some(ms(13_000)), 42);
    let flooder = sim.add_scripted("flooder", 1, flood);
    let peer = sim
        .add_bonded_host("peer", host_spec(cfg(FAST), &[peer_mac(0)], FAR_IP, 2))
        .unwrap();
    let l = LinkParams::default();
    sim.connect(Endpoint::new(router, 0), Endpoint::new(flooder, 0), l);
    sim.connect(Endpoint::new(router, 1), Endpoint::new(peer, 0), l);
    for (from, to) in [(router, peer), (peer, router)] {
        let mut spec = FlowSpec::new(from, to, 40000, 5001);
        spec.start = ms(2500);
        sim.add_flow(spec);
    }
    sim.run_until(ms(15_000));

    let f = sim.scripted(flooder).script::<Flood>().unwrap();
    let h = sim.bonded(router);
    let s = h.lacp_port(0).unwrap().stats;
    println!("flood: {} frames at 500/s, eth0 counters {s:?}", f.total());
    assert_eq!(f.total(), 5000);
    assert_eq!(
        s.lacpdu_illegal_rx,
        f.sent_of(Junk::ShortSlow) + f.sent_of(Junk::Truncated)
    );
    assert_eq!(
        s.lacpdu_unknown_rx,
        f.sent_of(Junk::LongSlowUnknown) + f.sent_of(Junk::WrongSubtype)
    );
    assert_eq!(
        s.lacpdu_rx,
        f.sent_of(Junk::BadTlvLengths) + f.sent_of(Junk::ZeroPartner)
    );
    assert_eq!(s.marker_unknown_rx, f.sent_of(Junk::MarkerUnknownTlv));
    assert_eq!(s.marker_resp_rx, f.sent_of(Junk::MarkerResponse));
    assert_eq!(
        (s.marker_tx, s.marker_resp_tx),
        (0, 0),
        "a response is never answered"
    );
    // As Linux: only Marker Information PDUs count in marker_rx.
    assert_eq!(s.marker_rx, 0);
    // Our rate never follows the flood.
    let sent_during = h.nics()[0].slow_tx().lacpdus_since(ms(3000));
    println!(
        "flood: eth0 sent {sent_during} LACPDUs in 12 s, worst per second {}",
        worst_rate(&sim, router)
    );
    assert!(worst_rate(&sim, router) <= MAX_LACPDUS_PER_SECOND);
    // The other port kept its partner and its traffic.
    assert_eq!(h.negotiated_nics(), [1]);
    assert_eq!(h.lacp_port(1).unwrap().stats.lacpdu_illegal_rx, 0);
    for flow in sim.flows() {
        assert_eq!(flow.lost_before(ms(14_990)), 0, "flow {:?}", flow.spec.from);
    }
    assert!(sim.violations().is_empty());
}

// ---- 9. lacp_fallback ----------------------------------------------------------------------

#[test]
fn lacp_fallback_on_a_switch_without_lacp_carries_traffic_on_one_port_and_fails_over() {
    for strict in ["", "lacp_strict=1"] {
        let mut setup = Setup::new(cfg(&format!("{FAST} lacp_fallback=1 {strict}")));
        setup.sim.seed = 3;
        let mut net = Topology::throughput().build(&setup);
        let (r, far) = (net.router, net.peer);
        net.add_flows(2, Duration::from_millis(1));
        let cut = ms(3000);
        net.sim
            .run_until(Instant::from_micros(cut.total_micros() - 1));
        let h = net.router();
        assert_eq!(
            h.bond().lacp_fallback_port(),
            h.nics()[0].port(),
            "{strict}"
        );
        assert_eq!(h.distributing_nics(), [0]);
        assert_eq!(
            nics_used(&net, r, far),
            (0b01, 0b01),
            "one port carries everything"
        );

        net.sim.schedule(cut, Fault::LinkDown(net.router_links[0]));
        net.sim.run_until(ms(5000));
        let h = net.router();
        assert_eq!(h.bond().lacp_fallback_port(), h.nics()[1].port());
        assert_eq!(h.distributing_nics(), [1]);
        let fallbacks: Vec<Instant> = bond_events(&net, r)
            .into_iter()
            .filter(|(_, e)| matches!(e, Event::LacpFallback { port: Some(_) }))
            .map(|(t, _)| t)
            .collect();
        assert_eq!(
            fallbacks.last(),
            Some(&cut),
            "fails over at the cut: {fallbacks:?}"
        );
        let out = (worst_outage(&net, r, far), worst_outage(&net, far, r));
        println!(
            "lacp_fallback {strict}: outage at the cut router->far {} / far->router {}",
            out.0, out.1
        );
        assert_eq!(lost(&net, r, far), 0);
        assert_eq!(lost(&net, far, r), 0);
        assert!(net.router().bond().carrier());
        assert!(net
            .sim
            .log()
            .iter()
            .any(|e| matches!(e.kind, LogKind::ActiveAggregator { .. })));
        assert_clean(&net);
    }
}

// ---- 10. property: convergence bound and transmit rate -------------------------------------

#[derive(Debug, Clone)]
struct Case {
    ports: usize,
    latency_us: u64,
    fast: (bool, bool),
    active: (bool, bool),
    up_at_ms: u64,
}

fn case() -> impl Strategy<Value = Case> {
    (
        1..=4usize,
        10..=50_000u64,
        any::<(bool, bool)>(),
        prop_oneof![Just((true, true)), Just((true, false)), Just((false, true))],
        prop_oneof![Just(0u64), 1..3000u64],
    )
        .prop_map(|(ports, latency_us, fast, active, up_at_ms)| Case {
            ports,
            latency_us,
            fast,
            active,
            up_at_ms,
        })
}

fn side(fast: bool, active: bool) -> Config {
    cfg(&format!(
        "lacp_rate={} lacp_active={}",
        if fast { "fast" } else { "slow" },
        u8::from(active)
    ))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn matching_bonds_distribute_within_aggregate_wait_plus_two_round_trips(c in case()) {
        let mut pair = LacpPair::new(side(c.fast.0, c.active.0), side(c.fast.1, c.active.1), c.ports);
        pair.link.latency = Duration::from_micros(c.latency_us);
        pair.links_up_at = ms(c.up_at_ms);
        let mut net = pair.build();
        let up = ms(c.up_at_ms);
        let bound = up + AGGREGATE_WAIT + two_rtt(pair.link.latency);
        let t = converge(&mut net, up + Duration::from_secs(30));
        prop_assert!(t <= bound, "distributing at {t}, bound {bound}");
        // And it stays so, at the steady rate, for a while (the harness checks the rate of
        // every LACPDU as it is sent; this is the same check after the fact).
        net.sim.run_for(Duration::from_secs(40));
        prop_assert!(all_negotiated(&net.sim, &[net.router, net.peer]));
        for host in [net.router, net.peer] {
            prop_assert!(worst_rate(&net.sim, host) <= MAX_LACPDUS_PER_SECOND);
        }
        prop_assert!(net.sim.violations().is_empty());
    }
}
