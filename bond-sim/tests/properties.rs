//! Properties over random fault schedules. Every run is checked by the simulator itself (no frame
//! on a port the bond was told is down, `poll_timeout` never in the past after
//! `handle_timeout`, at most one active port in active-backup and exactly one once a port has
//! had carrier for `updelay`); these tests add the per-mode properties and make sure nothing
//! panics.

mod common;

use bond_core::config::{FailOverMac, Mode, PrimaryReselect};
use bond_core::{Duration, XmitHashPolicy};
use bond_sim::{CarrierDelivery, Fault, Net, Setup, SimConfig, Topology};
use common::*;
use proptest::prelude::*;

/// A fault on one of the topology's parts, by index (resolved against the built network).
#[derive(Debug, Clone, Copy)]
enum F {
    Cut(usize),
    Restore(usize),
    Flap(usize, u32, u64),
    SwitchDown(usize),
    SwitchUp(usize),
    Remove(usize),
    Add(usize),
}

fn fault() -> impl Strategy<Value = F> {
    prop_oneof![
        4 => (0..4usize).prop_map(F::Cut),
        4 => (0..4usize).prop_map(F::Restore),
        2 => (0..4usize, 1..4u32, 2..300u64).prop_map(|(l, n, p)| F::Flap(l, n, p)),
        1 => (0..2usize).prop_map(F::SwitchDown),
        1 => (0..2usize).prop_map(F::SwitchUp),
        1 => (0..2usize).prop_map(F::Remove),
        1 => (0..2usize).prop_map(F::Add),
    ]
}

#[derive(Debug, Clone)]
struct Case {
    mode: Mode,
    extra: Extra,
    policy: XmitHashPolicy,
    topology: Topology,
    carrier: CarrierDelivery,
    miimon: u32,
    updelay: u32,
    downdelay: u32,
    faults: Vec<(u64, F)>,
}

/// Options that change port choice: round-robin batching, primary and its reselection policy,
/// the member-MAC policy.
#[derive(Debug, Clone, Copy)]
struct Extra {
    packets_per_slave: u16,
    primary: Option<usize>,
    reselect: PrimaryReselect,
    fail_over_mac: FailOverMac,
}

fn extra() -> impl Strategy<Value = Extra> {
    (
        prop_oneof![Just(1u16), Just(0), Just(3)],
        prop_oneof![Just(None), Just(Some(0usize)), Just(Some(1))],
        prop_oneof![
            Just(PrimaryReselect::Always),
            Just(PrimaryReselect::Better),
            Just(PrimaryReselect::Failure)
        ],
        prop_oneof![
            Just(FailOverMac::None),
            Just(FailOverMac::Active),
            Just(FailOverMac::Follow)
        ],
    )
        .prop_map(
            |(packets_per_slave, primary, reselect, fail_over_mac)| Extra {
                packets_per_slave,
                primary,
                reselect,
                fail_over_mac,
            },
        )
}

fn case() -> impl Strategy<Value = Case> {
    let modes = prop_oneof![
        Just(Mode::RoundRobin),
        Just(Mode::ActiveBackup),
        Just(Mode::Xor),
        Just(Mode::Broadcast)
    ];
    let policies = prop_oneof![
        Just(XmitHashPolicy::Layer2),
        Just(XmitHashPolicy::Layer23),
        Just(XmitHashPolicy::Layer34)
    ];
    let topologies = prop_oneof![
        Just(Topology::high_availability()),
        Just(Topology::high_availability_far_on_b()),
        Just(Topology::throughput()),
        Just(Topology::back_to_back()),
    ];
    let carriers = prop_oneof![Just(CarrierDelivery::Events), Just(CarrierDelivery::Miimon)];
    (
        (modes, extra(), policies, topologies, carriers),
        prop_oneof![Just(50u32), Just(100)],
        (0..3u32, 0..3u32),
        prop::collection::vec((0..2000u64, fault()), 0..10),
    )
        .prop_map(
            |((mode, extra, policy, topology, carrier), miimon, (up, down), faults)| Case {
                mode,
                extra,
                policy,
                topology,
                carrier,
                miimon,
                updelay: up * miimon,
                downdelay: down * miimon,
                faults,
            },
        )
}

fn run(case: &Case) -> Net {
    let mut c = config(case.mode, case.miimon);
    c.xmit_hash_policy = case.policy;
    c.updelay_ms = case.updelay;
    c.downdelay_ms = case.downdelay;
    c.packets_per_slave = case.extra.packets_per_slave;
    c.primary = case
        .extra
        .primary
        .map(|i| ["eth0", "eth1"][i].try_into().unwrap());
    c.primary_reselect = case.extra.reselect;
    c.fail_over_mac = case.extra.fail_over_mac;
    let mut setup = Setup::new(c);
    setup.carrier = case.carrier;
    setup.sim = SimConfig {
        strict: false,
        sar_interval: None,
        ..SimConfig::default()
    };
    let mut net = case.topology.build(&setup);
    // Two flows each way, one frame every 4 ms each: enough to see every fault.
    net.add_flows(2, Duration::from_millis(4));
    let mut links = net.router_links.clone();
    links.extend(net.isl);
    links.extend(net.peer_links.iter().copied());
    let switches = net.switches.clone();
    for &(at, f) in &case.faults {
        let link = |i: usize| links[i % links.len()];
        let fault = match f {
            F::Cut(l) => Fault::LinkDown(link(l)),
            F::Restore(l) => Fault::LinkUp(link(l)),
            F::Flap(l, times, period) => Fault::Flap {
                link: link(l),
                times,
                period: Duration::from_millis(period),
            },
            F::SwitchDown(s) | F::SwitchUp(s) if switches.is_empty() => Fault::LinkDown(link(s)),
            F::SwitchDown(s) => Fault::SwitchDown(switches[s % switches.len()]),
            F::SwitchUp(s) => Fault::SwitchUp(switches[s % switches.len()]),
            F::Remove(nic) => Fault::RemovePort {
                host: net.router,
                nic,
            },
            F::Add(nic) => Fault::AddPort {
                host: net.router,
                nic,
            },
        };
        net.sim.schedule(ms(at), fault);
    }
    net.sim.run_until(ms(2500));
    net
}

/// 64 cases keep the debug suite fast; `PROPTEST_CASES=5000` runs a longer hunt.
fn proptest_config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(proptest_config())]

    /// No invariant the simulator checks is ever broken, whatever breaks in the network.
    #[test]
    fn invariants_hold_under_random_faults(case in case()) {
        let net = run(&case);
        let v = net.sim.violations();
        prop_assert!(v.is_empty(), "{} violations, first: {}", v.len(), v[0]);
    }

    /// balance-xor: while membership is stable (same epoch), each flow stays on one port.
    #[test]
    fn xor_flows_stick_while_membership_is_stable(mut case in case()) {
        case.mode = Mode::Xor;
        let net = run(&case);
        for f in flows(&net, net.router, net.peer) {
            let mut seen: std::collections::BTreeMap<u64, u32> = Default::default();
            for s in f.sent.iter().filter(|s| s.nics != 0) {
                let first = *seen.entry(s.epoch).or_insert(s.nics);
                prop_assert_eq!(first, s.nics, "flow moved at {} within epoch {}", s.at, s.epoch);
                prop_assert_eq!(s.nics.count_ones(), 1);
            }
        }
        prop_assert!(net.sim.violations().is_empty());
    }

    /// active-backup: every data frame leaves by exactly one port, the active one at that time.
    #[test]
    fn active_backup_sends_on_one_port(mut case in case()) {
        case.mode = Mode::ActiveBackup;
        let net = run(&case);
        for f in flows(&net, net.router, net.peer) {
            prop_assert!(f.sent.iter().all(|s| s.nics.count_ones() <= 1));
        }
        prop_assert!(net.sim.violations().is_empty(), "{}", net.sim.violations()[0]);
    }
}
