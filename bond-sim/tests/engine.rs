//! The simulator itself: clock semantics, determinism, the no-progress guard, and the pcapng
//! capture (checked block by block, and by tshark when it is installed).

mod common;

use std::process::Command;

use bond_core::config::Mode;
use bond_core::{Duration, Instant};
use bond_sim::pcapng::{read_blocks, Block};
use bond_sim::{CarrierDelivery, Fault, FlowSpec, Net, Setup, SimConfig, Topology};
use common::*;

fn scenario(seed: u64, capture: bool) -> Net {
    let mut setup = Setup::new(config(Mode::ActiveBackup, 100));
    setup.sim = SimConfig {
        seed,
        capture,
        ..SimConfig::default()
    };
    setup.link.loss = 0.01;
    setup.carrier = CarrierDelivery::Miimon;
    let mut net = Topology::high_availability().build(&setup);
    net.add_flows(2, Duration::from_millis(1));
    net.sim.schedule(
        ms(300),
        Fault::Flap {
            link: net.router_links[0],
            times: 3,
            period: Duration::from_millis(170),
        },
    );
    net.sim.run_until(ms(1500));
    net
}

#[test]
fn runs_are_deterministic_and_seeds_matter() {
    let (a, b, c) = (scenario(7, true), scenario(7, true), scenario(8, true));
    let texts = |n: &Net| {
        n.sim
            .log()
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(texts(&a), texts(&b));
    assert_eq!(
        a.sim.pcapng().unwrap().as_bytes(),
        b.sim.pcapng().unwrap().as_bytes()
    );
    // 1 % loss: a different seed loses different frames.
    assert_ne!(
        a.sim.pcapng().unwrap().as_bytes(),
        c.sim.pcapng().unwrap().as_bytes()
    );
}

#[test]
fn step_jumps_to_the_next_deadline() {
    let mut net = Topology::throughput().build(&Setup::new(config(Mode::ActiveBackup, 100)));
    let mut spec = FlowSpec::new(net.peer, net.router, 1, 2);
    spec.start = ms(20);
    spec.stop = Some(ms(21));
    net.sim.add_flow(spec);
    // t=0: start-up announcements; next: their arrival one link latency later.
    assert!(net.sim.step());
    assert_eq!(net.sim.now(), Instant::from_micros(50));
    let mut times = vec![];
    while net.sim.step() {
        times.push(net.sim.now());
        if net.sim.now() > ms(25) {
            break;
        }
    }
    // Floods reach the far ports at 100 µs, the flow's frame leaves at 20 ms and crosses two
    // links; then only the 1 s sar sample is left.
    assert_eq!(
        &times[..4],
        &[
            Instant::from_micros(100),
            ms(20),
            ms(20) + Duration::from_micros(50),
            ms(20) + Duration::from_micros(100)
        ]
    );
    assert_eq!(times[4], ms(1000));
}

#[test]
fn run_until_stops_exactly_there() {
    let mut net = Topology::throughput().build(&Setup::new(config(Mode::RoundRobin, 100)));
    net.sim.run_until(Instant::from_micros(12_345));
    assert_eq!(net.sim.now(), Instant::from_micros(12_345));
    net.sim.run_for(Duration::from_millis(1));
    assert_eq!(net.sim.now(), Instant::from_micros(13_345));
}

#[test]
#[should_panic(expected = "no progress")]
fn a_run_stuck_at_one_instant_fails_loudly() {
    let mut setup = Setup::new(config(Mode::RoundRobin, 100));
    setup.sim.max_steps_per_instant = 50;
    let mut net = Topology::throughput().build(&setup);
    // 100 flows all due at the same instant exceed the (deliberately tiny) budget.
    for i in 0..100 {
        net.sim
            .add_flow(FlowSpec::new(net.router, net.peer, 1000 + i, 2000));
    }
    net.sim.run_until(ms(20));
}

#[test]
fn pcapng_has_one_interface_per_bond_port_and_every_frame() {
    let net = scenario(3, true);
    let pcap = net.sim.pcapng().unwrap();
    let blocks = read_blocks(pcap.as_bytes()).expect("well-formed pcapng");
    assert_eq!(blocks[0], Block::Section { major: 1, minor: 0 });
    let names: Vec<&str> = blocks
        .iter()
        .filter_map(|b| match b {
            Block::Interface {
                name,
                linktype: 1,
                tsresol: Some(6),
            } => Some(name.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(names, ["eth0", "eth1"]);
    let packets: Vec<(u32, u64, u32)> = blocks
        .iter()
        .filter_map(|b| match b {
            Block::Packet {
                iface,
                ts,
                flags: Some(f),
                ..
            } => Some((*iface, *ts, *f)),
            _ => None,
        })
        .collect();
    assert_eq!(packets.len() as u64, pcap.packet_count());
    assert!(
        packets.windows(2).all(|w| w[0].1 <= w[1].1),
        "timestamps never go back"
    );
    let router = net.router();
    let (tx, rx): (u64, u64) = router.nics().iter().fold((0, 0), |(t, r), n| {
        (
            t + n.counters().tx_packets,
            r + n.counters().rx_packets + router.stats().rx_filtered,
        )
    });
    let out = packets.iter().filter(|p| p.2 == 2).count() as u64;
    assert_eq!(out, tx, "every frame a bond port sent is captured");
    assert!(packets.len() as u64 - out >= rx - router.stats().rx_filtered * 2);

    // tshark as an independent reader, when it is installed.
    let path = std::env::temp_dir().join(format!("bond-sim-test-{}.pcapng", std::process::id()));
    pcap.write_to(&path).unwrap();
    let result = Command::new("tshark")
        .args(["-r"])
        .arg(&path)
        .args([
            "-T",
            "fields",
            "-e",
            "frame.interface_name",
            "-e",
            "frame.p2p_dir",
        ])
        .output();
    let _ = std::fs::remove_file(&path);
    match result {
        Err(e) => {
            println!("tshark unavailable ({e}): block structure verified by read_blocks only")
        }
        Ok(o) => {
            assert!(
                o.status.success(),
                "tshark failed: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            let text = String::from_utf8_lossy(&o.stdout);
            let lines: Vec<&str> = text.lines().collect();
            assert_eq!(lines.len(), packets.len(), "tshark read every packet");
            assert!(lines
                .iter()
                .all(|l| l.starts_with("eth0\t") || l.starts_with("eth1\t")));
            assert_eq!(
                lines.iter().filter(|l| l.ends_with("\t0")).count() as u64,
                out,
                "outbound (sent) frames"
            );
            println!("tshark read {} packets", lines.len());
        }
    }
}
