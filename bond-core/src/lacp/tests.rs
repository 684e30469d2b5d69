//! 802.3ad end to end in virtual time: two bonds (or a bond and a scripted peer) joined by
//! point-to-point links, with every LACPDU carried by a tiny event loop.

use std::vec::Vec;

use super::*;
use crate::bond::{TxVerdict, MIN_TRANSMIT_BUF};
use crate::config::{Config, Mode};
use crate::port::{LinkSample, PortConfig};
use crate::wire::lacp::{LacpduPacket, LacpduRepr};
use crate::wire::marker::{MarkerKind, MarkerRepr};
use crate::wire::slow::{classify, SlowFrame};

const LATENCY: Duration = Duration::from_micros(50);

fn ms(t: u64) -> Instant {
    Instant::from_millis(t)
}

fn mac(side: u8, port: u8) -> EthernetAddress {
    EthernetAddress([0x02, 0, 0, 0, side, port])
}

fn lacp_config(extra: &str) -> Config {
    Config::parse(&std::format!(
        "mode=802.3ad miimon=100 lacp_rate=fast {extra}"
    ))
    .unwrap()
}

/// A frame in flight.
struct Flight {
    at: Instant,
    to: (usize, PortId),
    frame: Vec<u8>,
}

/// A link between port `a.1` of bond `a.0` and port `b.1` of bond `b.0`.
struct Link {
    a: (usize, PortId),
    b: (usize, PortId),
    up: bool,
    /// Deliver frames (false: carrier up but frames lost, a silently broken cable).
    passes: bool,
}

/// Bonds joined by links, driven in virtual time.
struct Net {
    bonds: Vec<Bond<4>>,
    links: Vec<Link>,
    flights: Vec<Flight>,
    now: Instant,
    /// (time, bond, port, pdu) of every LACPDU sent.
    sent: Vec<(Instant, usize, PortId, LacpduRepr)>,
    /// Frames sent that were not LACPDUs: (time, bond, port, bytes).
    other: Vec<(Instant, usize, PortId, Vec<u8>)>,
    /// Bond `i` sends every LACPDU it receives straight back (an echoing partner).
    echo: Vec<bool>,
}

impl Net {
    fn new(configs: &[Config], ports: &[usize]) -> Self {
        let mut bonds = Vec::new();
        for (i, c) in configs.iter().enumerate() {
            let mut b = Bond::<4>::new(ms(0), c.clone(), None, 1).unwrap();
            for p in 0..ports[i] {
                let name = std::format!("eth{p}");
                let cfg =
                    PortConfig::new(&name, mac(i as u8 + 1, p as u8), LinkSample::up_full(1000))
                        .unwrap();
                b.add_port(ms(0), &cfg).unwrap();
            }
            bonds.push(b);
        }
        let n = bonds.len();
        Self {
            bonds,
            links: Vec::new(),
            flights: Vec::new(),
            now: ms(0),
            sent: Vec::new(),
            other: Vec::new(),
            echo: std::vec![false; n],
        }
    }

    /// A pair of bonds with `n` links between port i and port i.
    fn pair(a: Config, b: Config, n: usize) -> Self {
        let mut net = Self::new(&[a, b], &[n, n]);
        for i in 0..n {
            net.connect((0, PortId(i as u8)), (1, PortId(i as u8)));
        }
        net
    }

    fn connect(&mut self, a: (usize, PortId), b: (usize, PortId)) {
        self.links.push(Link {
            a,
            b,
            up: true,
            passes: true,
        });
    }

    fn peer_of(&self, end: (usize, PortId)) -> Option<(usize, PortId)> {
        self.links.iter().find_map(|l| {
            if !l.up || !l.passes {
                return None;
            }
            if l.a == end {
                Some(l.b)
            } else if l.b == end {
                Some(l.a)
            } else {
                None
            }
        })
    }

    /// Cut or restore link `i`: both ends see carrier change at once.
    fn set_link(&mut self, i: usize, up: bool) {
        self.links[i].up = up;
        let (a, b) = (self.links[i].a, self.links[i].b);
        let sample = if up {
            LinkSample::up_full(1000)
        } else {
            LinkSample::DOWN
        };
        for (side, port) in [a, b] {
            self.bonds[side].handle_link(self.now, port, sample);
        }
        self.drain();
    }

    /// Drain every bond's outputs into the links.
    fn drain(&mut self) {
        let mut buf = [0u8; MIN_TRANSMIT_BUF];
        for side in 0..self.bonds.len() {
            while self.bonds[side].poll_action().is_some() {}
            while self.bonds[side].poll_event().is_some() {}
            while let Some(t) = self.bonds[side].poll_transmit(self.now, &mut buf) {
                let frame = buf[..t.len].to_vec();
                match classify(&frame) {
                    SlowFrame::Lacpdu { repr, .. } => {
                        self.sent.push((self.now, side, t.port, repr))
                    }
                    _ => self.other.push((self.now, side, t.port, frame.clone())),
                }
                if let Some(to) = self.peer_of((side, t.port)) {
                    self.flights.push(Flight {
                        at: self.now + LATENCY,
                        to,
                        frame,
                    });
                }
            }
        }
    }

    /// Run until `end`, delivering frames and timeouts in time order.
    fn run_until(&mut self, end: Instant) {
        self.drain();
        for _ in 0..1_000_000 {
            let next_flight = self.flights.iter().map(|f| f.at).min();
            let next_timer = self.bonds.iter().filter_map(Bond::poll_timeout).min();
            let Some(next) = [next_flight, next_timer].into_iter().flatten().min() else {
                break;
            };
            if next > end {
                break;
            }
            // A deadline left behind by a test that moved the clock by hand is due now.
            self.now = next.max(self.now);
            let (due, rest): (Vec<_>, Vec<_>) =
                self.flights.drain(..).partition(|f| f.at <= self.now);
            self.flights = rest;
            for f in due {
                let (side, port) = f.to;
                if self.echo[side] {
                    if let SlowFrame::Lacpdu { .. } = classify(&f.frame) {
                        if let Some(back) = self.peer_of(f.to) {
                            self.flights.push(Flight {
                                at: self.now + LATENCY,
                                to: back,
                                frame: f.frame.clone(),
                            });
                        }
                        continue;
                    }
                }
                let _ = self.bonds[side].handle_rx(self.now, port, &f.frame);
            }
            for b in &mut self.bonds {
                if b.poll_timeout().is_some_and(|t| t <= self.now) {
                    b.handle_timeout(self.now);
                }
            }
            self.drain();
        }
        self.now = self.now.max(end);
    }

    fn distributing(&self, side: usize) -> Vec<PortId> {
        let b = &self.bonds[side];
        b.ports()
            .filter(|&p| b.port_ref(p).is_some_and(|p| p.lacp.mux.is_distributing()))
            .collect()
    }

    /// First instant at which every port of every bond distributes.
    fn converge(&mut self, limit: Instant) -> Option<Instant> {
        let step = Duration::from_millis(10);
        while self.now < limit {
            let all = (0..self.bonds.len())
                .all(|s| self.distributing(s).len() == self.bonds[s].port_count());
            if all {
                return Some(self.now);
            }
            let t = self.now + step;
            self.run_until(t);
        }
        None
    }

    /// The most LACPDUs any port sent in any window of one second.
    fn max_pdus_per_second(&self) -> usize {
        let mut worst = 0;
        for (i, (t, side, port, _)) in self.sent.iter().enumerate() {
            let n = self.sent[i..]
                .iter()
                .filter(|(u, s, p, _)| s == side && p == port && *u < *t + FAST_PERIODIC)
                .count();
            worst = worst.max(n);
        }
        worst
    }
}

fn udp_frame(src_port: u16) -> Vec<u8> {
    let mut f = std::vec![0u8; 64];
    f[..6].copy_from_slice(&[0x02, 0, 0, 0, 0, 0x99]);
    f[6..12].copy_from_slice(&mac(1, 0).0);
    f[12..14].copy_from_slice(&[0x08, 0x00]);
    f[14] = 0x45;
    f[23] = 17;
    f[26..30].copy_from_slice(&[10, 0, 0, 1]);
    f[30..34].copy_from_slice(&[10, 0, 0, 2]);
    f[34..36].copy_from_slice(&src_port.to_be_bytes());
    f[36..38].copy_from_slice(&4789u16.to_be_bytes());
    f
}

#[test]
fn two_bonds_converge_within_aggregate_wait_plus_two_round_trips() {
    let c = lacp_config("xmit_hash_policy=layer3+4");
    let mut net = Net::pair(c.clone(), c, 2);
    let t = net.converge(ms(10_000)).expect("converges");
    let bound = Instant::ZERO
        + AGGREGATE_WAIT
        + Duration::from_micros(4 * LATENCY.total_micros())
        + Duration::from_millis(10);
    assert!(t <= bound, "converged at {t}, bound {bound}");
    for side in 0..2 {
        let b = &net.bonds[side];
        let aggs: Vec<_> = b
            .ports()
            .map(|p| b.port_ref(p).unwrap().lacp.aggregator)
            .collect();
        assert_eq!(aggs[0], aggs[1], "both ports in one aggregator");
        assert!(b.carrier());
        let partner = b.port_ref(PortId(0)).unwrap().lacp.partner;
        assert_eq!(partner.system, net.bonds[1 - side].mac());
        assert_eq!(partner.key, 9);
        assert_eq!(
            partner.state.0 & 0x3f,
            0x3f,
            "partner Act|Tmo|Agg|Syn|Col|Dis"
        );
    }
    // Data goes out on both ports, a flow on one.
    let mut used = [0u32; 2];
    for sport in 0..64u16 {
        match net.bonds[0].select_tx(net.now, &udp_frame(sport)) {
            TxVerdict::Port(p) => used[p.index()] += 1,
            v => panic!("{v:?}"),
        }
    }
    assert!(used[0] > 0 && used[1] > 0, "{used:?}");
}

#[test]
fn first_pdu_is_the_linux_like_hello() {
    let mut net = Net::pair(lacp_config(""), lacp_config(""), 1);
    net.run_until(ms(0));
    let (_, _, port, pdu) = &net.sent[0];
    assert_eq!(*port, PortId(0));
    assert_eq!(pdu.actor.system_priority, 65535);
    assert_eq!(pdu.actor.key, 9);
    assert_eq!(pdu.actor.port_priority, 255);
    assert_eq!(pdu.actor.port, 1);
    // Act|Tmo|Agg|Def|Exp: fast rate, defaulted and expired before anything is heard.
    assert_eq!(pdu.actor.state.0, 0xc7);
    assert_eq!(pdu.partner.system, EthernetAddress::ZERO);
    assert_eq!(pdu.partner.key, 1);
}

#[test]
fn periodic_pdus_are_on_time_to_the_microsecond() {
    let mut net = Net::pair(lacp_config(""), lacp_config(""), 1);
    net.run_until(ms(20_000));
    let times: Vec<u64> = net
        .sent
        .iter()
        .filter(|(t, s, _, _)| *s == 0 && *t > ms(5_000))
        .map(|(t, _, _, _)| t.total_micros())
        .collect();
    assert!(times.len() >= 14, "{times:?}");
    for w in times.windows(2) {
        assert_eq!(w[1] - w[0], 1_000_000, "{times:?}");
    }
    assert!(net.max_pdus_per_second() <= 3);
}

#[test]
fn slow_rate_partner_gets_pdus_every_thirty_seconds() {
    let mut net = Net::pair(
        Config::parse("mode=802.3ad").unwrap(),
        Config::parse("mode=802.3ad").unwrap(),
        1,
    );
    net.run_until(ms(200_000));
    let times: Vec<u64> = net
        .sent
        .iter()
        .filter(|(t, s, _, _)| *s == 0 && *t > ms(60_000))
        .map(|(t, ..)| t.total_millis())
        .collect();
    for w in times.windows(2) {
        assert_eq!(w[1] - w[0], 30_000, "{times:?}");
    }
    assert!(net.distributing(0).len() == 1);
}

#[test]
fn link_cut_moves_traffic_at_once() {
    let mut net = Net::pair(lacp_config(""), lacp_config(""), 2);
    net.converge(ms(10_000)).unwrap();
    net.set_link(0, false);
    assert_eq!(net.distributing(0), std::vec![PortId(1)]);
    assert_eq!(net.distributing(1), std::vec![PortId(1)]);
    for sport in 0..32u16 {
        assert_eq!(
            net.bonds[0].select_tx(net.now, &udp_frame(sport)),
            TxVerdict::Port(PortId(1))
        );
    }
    assert!(net.bonds[0].carrier());
    // And it comes back.
    net.set_link(0, true);
    let back = net
        .converge(net.now + Duration::from_secs(10))
        .expect("reconverges");
    assert!(back <= ms(20_000));
}

#[test]
fn silent_partner_times_out_after_three_seconds_with_fast_rate() {
    let mut net = Net::pair(lacp_config(""), lacp_config(""), 2);
    net.converge(ms(10_000)).unwrap();
    let cut = net.now;
    // The cable stays up but passes nothing.
    net.links[0].passes = false;
    net.run_until(cut + Duration::from_millis(2_900));
    assert_eq!(net.distributing(0).len(), 2, "still within Short_Timeout");
    net.run_until(cut + Duration::from_millis(3_100));
    assert_eq!(net.distributing(0), std::vec![PortId(1)]);
    let p = net.bonds[0].port_ref(PortId(0)).unwrap();
    assert_eq!(p.lacp.rx, RxState::Expired);
    net.run_until(cut + Duration::from_millis(6_200));
    assert_eq!(
        net.bonds[0].port_ref(PortId(0)).unwrap().lacp.rx,
        RxState::Defaulted
    );
}

#[test]
fn partner_reboot_with_a_new_system_id_reconverges() {
    let mut net = Net::pair(lacp_config(""), lacp_config(""), 2);
    net.converge(ms(10_000)).unwrap();
    // The partner comes back as a new system.
    let mut fresh = Bond::<4>::new(
        net.now,
        lacp_config("ad_actor_system=02:00:00:00:77:77"),
        None,
        1,
    )
    .unwrap();
    for p in 0..2u8 {
        let cfg = PortConfig::new(
            &std::format!("eth{p}"),
            mac(2, p),
            LinkSample::up_full(1000),
        )
        .unwrap();
        fresh.add_port(net.now, &cfg).unwrap();
    }
    net.bonds[1] = fresh;
    let t = net.now;
    let done = net
        .converge(t + Duration::from_secs(15))
        .expect("reconverges");
    assert!(done - t <= Duration::from_secs(4), "took {}", done - t);
    let partner = net.bonds[0].port_ref(PortId(0)).unwrap().lacp.partner;
    assert_eq!(partner.system, EthernetAddress([0x02, 0, 0, 0, 0x77, 0x77]));
}

#[test]
fn two_partners_make_two_aggregators_one_active() {
    let c = lacp_config("");
    let mut net = Net::new(&[c.clone(), c.clone(), c], &[2, 1, 1]);
    net.connect((0, PortId(0)), (1, PortId(0)));
    net.connect((0, PortId(1)), (2, PortId(0)));
    net.run_until(ms(10_000));
    let b = &net.bonds[0];
    let a0 = b.port_ref(PortId(0)).unwrap().lacp.aggregator;
    let a1 = b.port_ref(PortId(1)).unwrap().lacp.aggregator;
    assert_ne!(a0, a1);
    let active: Vec<_> = (0..4).filter(|&i| b.aggs[i].is_active).collect();
    assert_eq!(active.len(), 1);
    assert_eq!(
        net.distributing(0).len(),
        1,
        "only the active aggregator distributes"
    );
    // The port on the inactive aggregator says it is not in sync.
    let idle = if b.aggs[a0.unwrap()].is_active {
        PortId(1)
    } else {
        PortId(0)
    };
    assert!(!b
        .port_ref(idle)
        .unwrap()
        .lacp
        .actor_state
        .contains(PortState::SYNCHRONIZATION));
}

#[test]
fn port_cabled_back_to_its_own_bond_never_storms() {
    let mut net = Net::new(&[lacp_config("")], &[2]);
    net.connect((0, PortId(0)), (0, PortId(1)));
    net.run_until(ms(30_000));
    assert!(net.max_pdus_per_second() <= 3);
    let p = net.bonds[0].port_ref(PortId(0)).unwrap();
    assert!(p.lacp.looped_rx > 0);
    assert_ne!(p.lacp.rx, RxState::Current, "own PDUs are not a partner");
    assert!(net.distributing(0).len() <= 1);
}

#[test]
fn echoing_partner_is_ignored() {
    let mut net = Net::pair(lacp_config(""), lacp_config(""), 1);
    net.echo[1] = true;
    net.run_until(ms(20_000));
    assert!(net.max_pdus_per_second() <= 3);
    let sent_by_us = net.sent.iter().filter(|(_, s, _, _)| *s == 0).count();
    assert!(sent_by_us <= 22, "{sent_by_us} PDUs in 20 s");
    assert_eq!(
        net.bonds[0].port_ref(PortId(0)).unwrap().lacp.rx,
        RxState::Defaulted
    );
}

#[test]
fn passive_and_active_converge_passive_pair_stays_silent() {
    let mut net = Net::pair(lacp_config("lacp_active=0"), lacp_config(""), 2);
    assert!(net.converge(ms(10_000)).is_some());
    // The passive side keeps answering periodically.
    let before = net.sent.iter().filter(|(_, s, _, _)| *s == 0).count();
    net.run_until(net.now + Duration::from_secs(10));
    let after = net.sent.iter().filter(|(_, s, _, _)| *s == 0).count();
    assert!(
        after - before >= 18,
        "passive side sent {} PDUs in 10 s",
        after - before
    );

    let mut quiet = Net::pair(
        lacp_config("lacp_active=0"),
        lacp_config("lacp_active=0"),
        2,
    );
    quiet.run_until(ms(10_000));
    assert!(
        quiet.sent.is_empty(),
        "passive/passive sends nothing: {:?}",
        quiet.sent.len()
    );
    assert!(quiet.distributing(0).len() <= 1);
}

#[test]
fn independent_control_converges_too() {
    let mut net = Net::pair(
        lacp_config("coupled_control=0"),
        lacp_config("coupled_control=0"),
        2,
    );
    assert!(net.converge(ms(10_000)).is_some());
    let p = net.bonds[0].port_ref(PortId(0)).unwrap();
    assert_eq!(p.lacp.mux, MuxState::Distributing);
}

#[test]
fn removed_port_says_goodbye() {
    let mut net = Net::pair(lacp_config(""), lacp_config(""), 2);
    net.converge(ms(10_000)).unwrap();
    // Well past convergence, so the rate limit does not hold the goodbye back.
    net.run_until(ms(5_000));
    let n = net.sent.len();
    net.bonds[0].remove_port(net.now, PortId(1));
    net.drain();
    let (_, side, port, pdu) = &net.sent[n];
    assert_eq!((*side, *port), (0, PortId(1)));
    assert_eq!(
        pdu.actor.state.0 & 0x3c,
        0,
        "Agg|Syn|Col|Dis cleared: {}",
        pdu.actor.state
    );
    // The partner stops using its end at once.
    net.run_until(net.now + Duration::from_millis(1));
    assert_eq!(net.distributing(1), std::vec![PortId(0)]);
}

#[test]
fn marker_request_is_answered_on_the_same_port_and_responses_are_not() {
    let mut net = Net::pair(lacp_config(""), lacp_config(""), 2);
    net.converge(ms(10_000)).unwrap();
    let request = MarkerRepr {
        kind: MarkerKind::Information,
        requester_port: 7,
        requester_system: mac(9, 9),
        transaction_id: 0xdead_beef,
    };
    let mut frame = [0u8; 124];
    let len = crate::wire::marker::emit_marker_frame(&mut frame, mac(9, 9), &request);
    assert_eq!(
        net.bonds[0].handle_rx(net.now, PortId(1), &frame[..len]),
        RxVerdict::Consumed
    );
    let mut buf = [0u8; MIN_TRANSMIT_BUF];
    let t = net.bonds[0]
        .poll_transmit(net.now, &mut buf)
        .expect("a response");
    assert_eq!(t.port, PortId(1));
    let SlowFrame::Marker(resp) = classify(&buf[..t.len]) else {
        panic!("not a marker")
    };
    assert_eq!(
        resp,
        MarkerRepr {
            kind: MarkerKind::Response,
            ..request
        }
    );
    assert_eq!(&buf[6..12], &mac(1, 1).0, "from the port's own MAC");
    // A response is counted, never answered.
    let len = crate::wire::marker::emit_marker_frame(&mut frame, mac(9, 9), &resp);
    assert_eq!(
        net.bonds[0].handle_rx(net.now, PortId(1), &frame[..len]),
        RxVerdict::Consumed
    );
    assert!(net.bonds[0].poll_transmit(net.now, &mut buf).is_none());
    let stats = net.bonds[0].port_ref(PortId(1)).unwrap().lacp.stats;
    assert_eq!(
        (stats.marker_rx, stats.marker_resp_rx, stats.marker_resp_tx),
        (1, 1, 1)
    );
}

#[test]
fn floods_and_garbage_are_counted_and_other_ports_keep_working() {
    let mut net = Net::pair(lacp_config(""), lacp_config(""), 2);
    net.converge(ms(10_000)).unwrap();
    let good = net
        .sent
        .iter()
        .rev()
        .find(|(_, s, _, _)| *s == 1)
        .unwrap()
        .3;
    let mut frame = [0u8; 124];
    crate::wire::lacp::emit_lacpdu_frame(&mut frame, mac(2, 0), &good);
    let start = net.now;
    // 500 PDUs a second on port 0 for 2 s: valid, truncated, unknown subtype, zero partner.
    for i in 0..1000u64 {
        let now = start + Duration::from_millis(2 * i);
        let b = &mut net.bonds[0];
        let v = match i % 4 {
            0 => b.handle_rx(now, PortId(0), &frame),
            1 => b.handle_rx(now, PortId(0), &frame[..60]),
            2 => {
                let mut f = frame;
                f[14] = 0x0b;
                b.handle_rx(now, PortId(0), &f)
            }
            _ => {
                let mut f = frame;
                LacpduPacket::new_unchecked(&mut f[14..]).set_actor_system(EthernetAddress::ZERO);
                b.handle_rx(now, PortId(0), &f)
            }
        };
        let _ = v;
        net.now = now;
        net.drain();
    }
    let s = net.bonds[0].port_ref(PortId(0)).unwrap().lacp.stats;
    assert!(
        s.lacpdu_illegal_rx >= 250 && s.lacpdu_unknown_rx >= 250,
        "{s:?}"
    );
    assert!(
        net.max_pdus_per_second() <= 3,
        "floods never make us talk faster"
    );
    net.run_until(net.now + Duration::from_secs(5));
    assert!(
        net.distributing(0).contains(&PortId(1)),
        "the other port kept working"
    );
}

#[test]
fn half_duplex_port_runs_no_lacp() {
    let mut net = Net::pair(lacp_config(""), lacp_config(""), 1);
    let half = LinkSample {
        up: true,
        speed_mbps: Some(100),
        duplex: crate::port::Duplex::Half,
    };
    net.bonds[0].handle_link(net.now, PortId(0), half);
    net.run_until(ms(5_000));
    let p = net.bonds[0].port_ref(PortId(0)).unwrap();
    assert_eq!(p.lacp.rx, RxState::LacpDisabled);
    assert_eq!(p.lacp.key & 1, 0);
    assert!(!net.sent.iter().any(|(t, s, _, _)| *s == 0 && *t > ms(0)));
}

#[test]
fn lacp_strict_keeps_carrier_down_until_min_links_distribute() {
    let mut net = Net::pair(lacp_config("min_links=2 lacp_strict=1"), lacp_config(""), 2);
    net.run_until(ms(1_000));
    assert!(!net.bonds[0].carrier(), "nothing negotiated yet");
    net.converge(ms(10_000)).unwrap();
    assert!(net.bonds[0].carrier());
    net.set_link(0, false);
    assert!(!net.bonds[0].carrier(), "one port left, min_links=2");
}

#[test]
fn no_partner_means_one_port_carries_traffic_as_in_linux() {
    // A switch that never speaks LACP: Linux enables the ports of the active, partnerless
    // aggregator, which holds one port.
    let mut net = Net::new(&[lacp_config("")], &[2]);
    net.run_until(ms(10_000));
    let b = &net.bonds[0];
    assert!(b.carrier());
    let carrying: Vec<_> = b
        .ports()
        .filter(|&p| b.port_ref(p).unwrap().lacp.is_distributing())
        .collect();
    assert_eq!(carrying, std::vec![PortId(0)]);
}

#[test]
fn status_text_for_802_3ad() {
    let mut net = Net::pair(lacp_config(""), lacp_config(""), 2);
    net.converge(ms(10_000)).unwrap();
    net.run_until(ms(70_000));
    let text = std::format!("{}", net.bonds[0].status().with_version("v6.1.0"));
    let expected = "Ethernet Channel Bonding Driver: v6.1.0

Bonding Mode: IEEE 802.3ad Dynamic link aggregation
Transmit Hash Policy: layer2 (0)
MII Status: up
MII Polling Interval (ms): 100
Up Delay (ms): 0
Down Delay (ms): 0
Peer Notification Delay (ms): 0

802.3ad info
LACP active: on
LACP rate: fast
Min links: 0
Aggregator selection policy (ad_select): stable
System priority: 65535
System MAC address: 02:00:00:00:01:00
Active Aggregator Info:
\tAggregator ID: 1
\tNumber of ports: 2
\tActor Key: 9
\tPartner Key: 9
\tPartner Mac Address: 02:00:00:00:02:00

Slave Interface: eth0
MII Status: up
Speed: 1000 Mbps
Duplex: full
Link Failure Count: 0
Permanent HW addr: 02:00:00:00:01:00
Slave queue ID: 0
Aggregator ID: 1
Actor Churn State: none
Partner Churn State: none
Actor Churned Count: 0
Partner Churned Count: 0
details actor lacp pdu:
    system priority: 65535
    system mac address: 02:00:00:00:01:00
    port key: 9
    port priority: 255
    port number: 1
    port state: 63
details partner lacp pdu:
    system priority: 65535
    system mac address: 02:00:00:00:02:00
    oper key: 9
    port priority: 255
    port number: 1
    port state: 63

Slave Interface: eth1
MII Status: up
Speed: 1000 Mbps
Duplex: full
Link Failure Count: 0
Permanent HW addr: 02:00:00:00:01:01
Slave queue ID: 0
Aggregator ID: 1
Actor Churn State: none
Partner Churn State: none
Actor Churned Count: 0
Partner Churned Count: 0
details actor lacp pdu:
    system priority: 65535
    system mac address: 02:00:00:00:01:00
    port key: 9
    port priority: 255
    port number: 2
    port state: 63
details partner lacp pdu:
    system priority: 65535
    system mac address: 02:00:00:00:02:00
    oper key: 9
    port priority: 255
    port number: 2
    port state: 63
";
    assert_eq!(text, expected);
    let no_agg = Bond::<2>::new(ms(0), lacp_config(""), None, 0).unwrap();
    let text = std::format!("{}", no_agg.status().with_name("bond7"));
    assert!(
        text.contains("\nbond bond7 has no active aggregator\n"),
        "{text}"
    );
}

#[test]
fn lacp_counters_sum_over_ports() {
    let mut net = Net::pair(lacp_config(""), lacp_config(""), 2);
    net.run_until(ms(10_000));
    let total = net.bonds[0].lacp_stats();
    let per_port: u64 = (0..2)
        .map(|i| net.bonds[0].lacp_port(PortId(i)).unwrap().stats.lacpdu_tx)
        .sum();
    assert_eq!(total.lacpdu_tx, per_port);
    assert!(total.lacpdu_rx > 0 && total.lacpdu_tx > 0);
    let sent = net.sent.iter().filter(|(_, s, _, _)| *s == 0).count() as u64;
    assert_eq!(total.lacpdu_tx, sent);
}

#[test]
fn lacp_fallback_keeps_one_port_up_under_lacp_strict_and_says_so() {
    // A switch that never speaks LACP, and a bond that insists on negotiation...
    let mut strict = Net::new(&[lacp_config("lacp_strict=1")], &[2]);
    strict.run_until(ms(10_000));
    assert!(
        !strict.bonds[0].carrier(),
        "lacp_strict alone: no carrier without a partner"
    );
    // ...unless the fallback is on: then one port carries traffic, and status says which.
    let mut net = Net::new(&[lacp_config("lacp_strict=1 lacp_fallback=1")], &[2]);
    net.run_until(ms(10_000));
    let now = net.now;
    let b = &mut net.bonds[0];
    assert!(b.carrier());
    assert_eq!(b.lacp_fallback_port(), Some(PortId(0)));
    assert_eq!(b.select_tx(now, &udp_frame(1)), TxVerdict::Port(PortId(0)));
    let text = std::format!("{}", b.status());
    assert!(
        text.contains("\nLACP fallback: active on eth0 (no LACP partner heard)\n"),
        "{text}"
    );
    // The fallback port fails over like active-backup.
    net.bonds[0].handle_link(net.now, PortId(0), LinkSample::DOWN);
    assert_eq!(net.bonds[0].lacp_fallback_port(), Some(PortId(1)));
    assert!(net.bonds[0].carrier());
    // A partner appears: LACP takes over and the fallback stands down.
    let mut net = Net::pair(
        lacp_config("lacp_strict=1 lacp_fallback=1"),
        lacp_config(""),
        2,
    );
    net.converge(ms(10_000)).unwrap();
    assert_eq!(net.bonds[0].lacp_fallback_port(), None);
    let text = std::format!("{}", net.bonds[0].status());
    assert!(text.contains("\nLACP fallback: standing by\n"), "{text}");
}

#[test]
fn slow_rate_pair_attaches_when_aggregate_wait_ends_not_at_the_next_pdu() {
    // Found by bond-sim's convergence property: with slow LACPDUs nothing else happens at the
    // end of Aggregate_Wait_Time, so the machines must move on their own.
    let c = Config::parse("mode=802.3ad").unwrap();
    let mut net = Net::pair(c.clone(), c, 2);
    let t = net.converge(ms(40_000)).expect("converges");
    assert!(t <= ms(2_100), "converged at {t}");
}

#[test]
fn goodbye_respects_three_per_second() {
    let mut net = Net::pair(lacp_config(""), lacp_config(""), 2);
    net.converge(ms(10_000)).unwrap();
    // Attach and collect/distribute just spent PDUs: remove a port right away.
    net.run_until(ms(2_000));
    let before = net
        .sent
        .iter()
        .filter(|(_, s, p, _)| *s == 0 && *p == PortId(0))
        .count();
    net.bonds[0].remove_port(net.now, PortId(0));
    assert!(net.bonds[0].goodbye_pending(PortId(0)));
    assert!(!net.bonds[0].goodbye_pending(PortId(1)));
    net.run_until(net.now + Duration::from_secs(2));
    let after = net
        .sent
        .iter()
        .filter(|(_, s, p, _)| *s == 0 && *p == PortId(0))
        .count();
    assert_eq!(after, before + 1, "the goodbye went out");
    assert!(!net.bonds[0].goodbye_pending(PortId(0)));
    assert!(net.max_pdus_per_second() <= 3);
    assert_eq!(net.bonds[0].poll_timeout().filter(|&t| t <= net.now), None);
}

#[test]
fn stopping_the_bond_says_goodbye_on_every_port_and_then_sleeps() {
    let mut net = Net::pair(lacp_config(""), lacp_config(""), 2);
    net.converge(ms(10_000)).unwrap();
    let n = net.sent.len();
    let now = net.now;
    net.bonds[0].set_admin_up(now, false);
    net.run_until(now + Duration::from_secs(5));
    let goodbyes: Vec<_> = net.sent[n..]
        .iter()
        .filter(|(_, s, _, _)| *s == 0)
        .collect();
    assert_eq!(goodbyes.len(), 2, "one per port, then silence");
    assert!(goodbyes
        .iter()
        .all(|(_, _, _, pdu)| pdu.actor.state.0 & 0x38 == 0));
    assert_eq!(net.bonds[0].poll_timeout(), None);
    assert!(!net.bonds[0].carrier());
    assert_eq!(
        net.distributing(1).len(),
        0,
        "the partner stopped using both links"
    );
    // Up again: negotiates from scratch.
    let now = net.now;
    net.bonds[0].set_admin_up(now, true);
    assert!(net.converge(now + Duration::from_secs(10)).is_some());
}

#[test]
fn actor_port_priority_changes_reach_the_partner() {
    let mut net = Net::pair(lacp_config(""), lacp_config(""), 2);
    net.converge(ms(10_000)).unwrap();
    assert_eq!(
        net.bonds[0].set_port_actor_prio(net.now, PortId(1), 0),
        None,
        "0 is not a priority"
    );
    net.bonds[0]
        .set_port_actor_prio(net.now, PortId(1), 100)
        .unwrap();
    // Convergence just spent the port's three PDUs for this second: at most 1 s of delay.
    net.run_until(net.now + FAST_PERIODIC);
    let partner = net.bonds[1].lacp_port(PortId(1)).unwrap().partner;
    assert_eq!(partner.port_priority, 100);
    // Port priority is part of what update_Selected compares: the partner re-selects that
    // port and waits Aggregate_Wait_Time again, as 802.1AX (and Linux) do.
    net.run_until(net.now + AGGREGATE_WAIT + FAST_PERIODIC);
    assert_eq!(net.distributing(0).len(), 2);
    assert_eq!(net.distributing(1).len(), 2);
}

#[test]
fn no_stuck_deadline_after_a_port_loses_carrier_without_miimon() {
    // Found by the handle_rx fuzz target (miimon=0, a port loses carrier): poll_timeout stayed
    // in the past after handle_timeout.
    let mut net = Net::pair(lacp_config(""), lacp_config(""), 2);
    net.converge(ms(10_000)).unwrap();
    // Module load forces miimon=100 in 802.3ad; at run time it can be switched off.
    net.bonds[0].set_option(net.now, "miimon", "0").unwrap();
    net.bonds[0].handle_link(net.now, PortId(0), LinkSample::DOWN);
    for _ in 0..20 {
        let now = net.now + Duration::from_secs(10);
        net.run_until(now);
        let b = &mut net.bonds[0];
        b.handle_timeout(now);
        assert!(
            b.poll_timeout().is_none_or(|t| t > now),
            "{:?} at {now}",
            b.poll_timeout()
        );
    }
}

#[test]
fn a_held_goodbye_is_dropped_if_its_port_loses_carrier() {
    // Found by the handle_rx fuzz target.
    let mut net = Net::pair(lacp_config(""), lacp_config(""), 2);
    net.converge(ms(10_000)).unwrap();
    let now = net.now;
    // Convergence spent this second's PDUs, so the goodbyes are held back...
    net.bonds[0].set_admin_up(now, false);
    net.bonds[0].handle_link(now, PortId(0), LinkSample::DOWN);
    let n = net.sent.len();
    net.run_until(now + Duration::from_secs(3));
    // ...and the one for the port that lost carrier is never sent.
    assert!(net.sent[n..]
        .iter()
        .all(|(_, s, p, _)| *s != 0 || *p != PortId(0)));
}

#[test]
fn a_held_goodbye_dies_with_its_port_handle() {
    // Found by the handle_rx fuzz target: a rate-held goodbye went out seconds later under a
    // PortId that a new interface had taken meanwhile.
    let mut net = Net::pair(lacp_config(""), lacp_config(""), 2);
    net.converge(ms(10_000)).unwrap();
    let now = net.now;
    net.bonds[0].remove_port(now, PortId(1));
    let cfg = PortConfig::new("eth9", mac(1, 9), LinkSample::DOWN).unwrap();
    assert_eq!(net.bonds[0].add_port(now, &cfg), Ok(PortId(1)));
    let n = net.sent.len();
    net.run_until(now + Duration::from_secs(3));
    assert!(net.sent[n..]
        .iter()
        .all(|(_, s, p, _)| *s != 0 || *p != PortId(1)));
}

#[test]
fn a_bond_that_is_down_sends_no_lacpdu_when_links_change() {
    // Found by the handle_rx fuzz target.
    let mut net = Net::pair(lacp_config(""), lacp_config(""), 2);
    net.converge(ms(10_000)).unwrap();
    let now = net.now + Duration::from_secs(5);
    net.run_until(now);
    net.bonds[0].set_admin_up(now, false);
    net.run_until(now + Duration::from_secs(2));
    let n = net.sent.len();
    net.set_link(0, false);
    net.set_link(0, true);
    net.run_until(net.now + Duration::from_secs(5));
    assert!(
        net.sent[n..].iter().all(|(_, s, _, _)| *s != 0),
        "LACPDUs from a bond that is down"
    );
}

#[test]
fn removing_the_port_that_hosts_the_aggregator_keeps_the_lag() {
    // Found in review: the other ports shared the aggregator in port 0's slot.
    let mut net = Net::pair(lacp_config(""), lacp_config(""), 3);
    net.converge(ms(10_000)).unwrap();
    let id_before = net.bonds[0].active_aggregator().unwrap().id;
    net.bonds[0].remove_port(net.now, PortId(0));
    net.run_until(net.now + Duration::from_millis(1));
    let b = &net.bonds[0];
    assert!(b.carrier());
    assert_eq!(
        net.distributing(0),
        std::vec![PortId(1), PortId(2)],
        "no renegotiation needed"
    );
    let agg = b.active_aggregator().unwrap();
    assert_eq!(agg.ports, 2);
    assert_ne!(
        agg.id, id_before,
        "the LAG moved to another port's aggregator"
    );
}

#[test]
fn a_port_taken_before_its_updelay_ends_runs_lacp() {
    // Found in review: the port became Up but LACP was never told.
    let c = lacp_config("updelay=500");
    let mut net = Net::pair(c.clone(), c, 2);
    net.converge(ms(10_000)).unwrap();
    net.set_link(1, false);
    net.set_link(1, true);
    assert_eq!(
        net.bonds[0].port(PortId(1)).unwrap().link,
        crate::port::LinkState::Back
    );
    net.run_until(net.now + Duration::from_millis(100));
    // The other port dies: the bond takes port 1 at once, cutting its updelay short.
    net.set_link(0, false);
    net.run_until(net.now + Duration::from_secs(5));
    assert!(net.bonds[0].lacp_port(PortId(1)).unwrap().distributing);
    assert!(net.bonds[0].carrier());
}

/// The Marker frames bond `side` sent on `port`, decoded with the wire module.
fn markers_sent(
    net: &Net,
    side: usize,
    port: PortId,
) -> Vec<(Instant, EthernetAddress, MarkerRepr)> {
    use crate::wire::marker::MarkerPacket;
    net.other
        .iter()
        .filter(|(_, s, p, _)| *s == side && *p == port)
        .filter_map(|(t, _, _, f)| {
            let pdu = MarkerPacket::new_checked(f.get(14..)?).ok()?;
            let repr = MarkerRepr::parse(&pdu).ok()?;
            (f[..6] == crate::wire::slow::SLOW_PROTOCOLS_MAC.0 && f[12..14] == [0x88, 0x09])
                .then(|| (*t, EthernetAddress::from_bytes(&f[6..12]), repr))
        })
        .collect()
}

#[test]
fn send_marker_emits_a_request_the_partner_answers_and_the_answer_is_matched() {
    let mut net = Net::pair(lacp_config(""), lacp_config(""), 2);
    net.converge(ms(10_000)).unwrap();
    let port = PortId(1);
    let actor = net.bonds[0].lacp_port(port).unwrap().actor;
    let id = net.bonds[0].send_marker(net.now, port).unwrap();
    assert_eq!(id, 1, "transaction IDs start at 1 per port");
    let queued = net.bonds[0].lacp_port(port).unwrap().last_marker.unwrap();
    assert_eq!((queued.transaction_id, queued.sent_at), (1, None));
    let t0 = net.now;
    net.run_until(t0 + Duration::from_millis(1));
    let sent = markers_sent(&net, 0, port);
    assert_eq!(
        sent,
        [(
            t0,
            mac(1, 1),
            MarkerRepr {
                kind: MarkerKind::Information,
                requester_port: actor.port,
                requester_system: actor.system,
                transaction_id: id,
            }
        )]
    );
    assert_eq!(actor.system, net.bonds[0].mac());
    // The partner bond answered on the same link, and the answer was matched.
    let answer = markers_sent(&net, 1, port);
    assert_eq!(answer.len(), 1);
    assert_eq!(answer[0].2.kind, MarkerKind::Response);
    let x = net.bonds[0].lacp_port(port).unwrap().last_marker.unwrap();
    assert_eq!(x.transaction_id, id);
    assert_eq!(x.sent_at, Some(t0));
    assert_eq!(x.round_trip(), Some(LATENCY + LATENCY));
    let (ours, theirs) = (
        net.bonds[0].lacp_port(port).unwrap().stats,
        net.bonds[1].lacp_port(port).unwrap().stats,
    );
    assert_eq!(
        (ours.marker_tx, ours.marker_resp_rx, ours.marker_rx),
        (1, 1, 0)
    );
    assert_eq!(
        (theirs.marker_rx, theirs.marker_resp_tx, theirs.marker_tx),
        (1, 1, 0)
    );
    // The other port has its own counter and sent nothing.
    assert_eq!(net.bonds[0].lacp_port(PortId(0)).unwrap().last_marker, None);
    assert_eq!(net.bonds[0].send_marker(net.now, PortId(0)), Ok(1));
    assert_eq!(net.bonds[0].send_marker(net.now, port), Ok(2));
    assert_eq!(net.bonds[0].lacp_stats().marker_tx, 1);
    // Marker traffic leaves LACP alone.
    assert_eq!(net.distributing(0).len(), 2);
}

#[test]
fn foreign_and_stale_responses_are_counted_but_not_matched() {
    let mut net = Net::pair(lacp_config(""), lacp_config(""), 1);
    net.converge(ms(10_000)).unwrap();
    let port = PortId(0);
    let actor = net.bonds[0].lacp_port(port).unwrap().actor;
    // The partner is cut off so that only the injected responses arrive.
    net.links[0].passes = false;
    let id = net.bonds[0].send_marker(net.now, port).unwrap();
    net.drain();
    let mine = MarkerRepr {
        kind: MarkerKind::Response,
        requester_port: actor.port,
        requester_system: actor.system,
        transaction_id: id,
    };
    let foreign = [
        MarkerRepr {
            transaction_id: id + 1,
            ..mine
        },
        MarkerRepr {
            requester_port: actor.port + 1,
            ..mine
        },
        MarkerRepr {
            requester_system: mac(9, 9),
            ..mine
        },
    ];
    let mut frame = [0u8; 124];
    for (i, resp) in foreign.iter().enumerate() {
        let len = crate::wire::marker::emit_marker_frame(&mut frame, mac(2, 1), resp);
        assert_eq!(
            net.bonds[0].handle_rx(net.now, port, &frame[..len]),
            RxVerdict::Consumed
        );
        let s = net.bonds[0].lacp_port(port).unwrap();
        assert_eq!(s.stats.marker_resp_rx, i as u64 + 1);
        assert_eq!(s.last_marker.unwrap().answered_at, None, "case {i}");
    }
    let later = net.now + Duration::from_millis(3);
    let len = crate::wire::marker::emit_marker_frame(&mut frame, mac(2, 1), &mine);
    net.bonds[0].handle_rx(later, port, &frame[..len]);
    let x = net.bonds[0].lacp_port(port).unwrap().last_marker.unwrap();
    assert_eq!(x.round_trip(), Some(Duration::from_millis(3)));
    // A duplicate keeps the first answer; nothing is ever sent back for a response.
    net.bonds[0].handle_rx(later + Duration::from_millis(1), port, &frame[..len]);
    assert_eq!(net.bonds[0].lacp_port(port).unwrap().last_marker, Some(x));
    assert_eq!(
        net.bonds[0].lacp_port(port).unwrap().stats.marker_resp_rx,
        5
    );
    let mut buf = [0u8; MIN_TRANSMIT_BUF];
    while let Some(t) = net.bonds[0].poll_transmit(later, &mut buf) {
        assert!(matches!(classify(&buf[..t.len]), SlowFrame::Lacpdu { .. }));
    }
}

#[test]
fn send_marker_refusals() {
    // (what is done first, port asked, error)
    type Setup = fn(&mut Net);
    let cases: [(&str, Setup, PortId, MarkerError); 5] = [
        (
            "not 802.3ad",
            |net| {
                let c = Config::parse("mode=active-backup miimon=100").unwrap();
                net.bonds[0] = Bond::new(ms(0), c, None, 1).unwrap();
                let cfg = PortConfig::new("eth0", mac(1, 0), LinkSample::up_full(1000)).unwrap();
                net.bonds[0].add_port(ms(0), &cfg).unwrap();
            },
            PortId(0),
            MarkerError::NotSupportedInMode(Mode::ActiveBackup),
        ),
        ("no such port", |_| {}, PortId(3), MarkerError::NoSuchPort),
        (
            "link down",
            |net| net.set_link(0, false),
            PortId(0),
            MarkerError::LinkDown,
        ),
        (
            "bond down",
            |net| net.bonds[0].set_admin_up(net.now, false),
            PortId(0),
            MarkerError::BondDown,
        ),
        (
            "still waiting to be sent",
            |net| assert_eq!(net.bonds[0].send_marker(net.now, PortId(0)), Ok(1)),
            PortId(0),
            MarkerError::Pending(1),
        ),
    ];
    for (what, setup, port, err) in cases {
        let mut net = Net::pair(lacp_config(""), lacp_config(""), 2);
        net.converge(ms(10_000)).unwrap();
        setup(&mut net);
        let before = net.bonds[0].lacp_port(PortId(0));
        assert_eq!(net.bonds[0].send_marker(net.now, port), Err(err), "{what}");
        assert_eq!(
            net.bonds[0].lacp_port(PortId(0)),
            before,
            "{what}: a refusal changes nothing"
        );
        assert!(!std::format!("{err}").is_empty());
    }
}

#[test]
fn markers_are_held_to_three_a_second_and_dropped_with_the_link() {
    let mut net = Net::pair(lacp_config(""), lacp_config(""), 1);
    net.converge(ms(10_000)).unwrap();
    let port = PortId(0);
    let t0 = net.now;
    for expected in 1..=4 {
        assert_eq!(net.bonds[0].send_marker(net.now, port), Ok(expected));
        net.run_until(net.now + Duration::from_millis(10));
    }
    let times: Vec<_> = markers_sent(&net, 0, port)
        .iter()
        .filter(|(_, _, m)| m.kind == MarkerKind::Information)
        .map(|(t, _, _)| *t - t0)
        .collect();
    assert_eq!(times.len(), 3, "the fourth waits for the window");
    let x = net.bonds[0].lacp_port(port).unwrap().last_marker.unwrap();
    assert_eq!((x.transaction_id, x.sent_at), (4, None));
    // poll_timeout wakes the caller when it may go; it is then answered.
    net.run_until(t0 + Duration::from_millis(1100));
    let sent: Vec<_> = markers_sent(&net, 0, port)
        .iter()
        .filter(|(_, _, m)| m.kind == MarkerKind::Information)
        .map(|(t, _, m)| (*t - t0, m.transaction_id))
        .collect();
    assert_eq!(sent[3], (FAST_PERIODIC, 4));
    assert!(net.bonds[0]
        .lacp_port(port)
        .unwrap()
        .last_marker
        .unwrap()
        .answered_at
        .is_some());
    assert!(
        net.max_pdus_per_second() <= 3,
        "LACPDUs keep their own limit"
    );
    // A request held when the link goes away is dropped, not sent when it comes back.
    let mut held = None;
    for _ in 0..5 {
        let id = net.bonds[0].send_marker(net.now, port).unwrap();
        net.drain();
        if net.bonds[0]
            .lacp_port(port)
            .unwrap()
            .last_marker
            .unwrap()
            .sent_at
            .is_none()
        {
            held = Some(id);
            break;
        }
        net.run_until(net.now + Duration::from_millis(10));
    }
    let held = held.expect("the limit holds a request back");
    net.set_link(0, false);
    assert_eq!(net.bonds[0].lacp_port(port).unwrap().last_marker, None);
    net.set_link(0, true);
    let end = net.now + Duration::from_secs(3);
    net.run_until(end);
    assert!(markers_sent(&net, 0, port)
        .iter()
        .all(|(_, _, m)| m.transaction_id != held));
}
