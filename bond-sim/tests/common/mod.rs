//! Helpers shared by the scenario tests.
#![allow(dead_code, unreachable_pub)]

use bond_core::config::Mode;
use bond_core::{Config, Duration, Event, Instant};
use bond_sim::traffic::FlowRecord;
use bond_sim::{CarrierDelivery, LogKind, Net, NodeId, Setup, Topology};

pub const fn ms(t: u64) -> Instant {
    Instant::from_millis(t)
}

/// A configuration for `mode` with the MII monitor every `miimon` ms.
pub fn config(mode: Mode, miimon: u32) -> Config {
    let mut c = Config::default();
    c.mode = mode;
    c.miimon = miimon;
    c
}

/// Build `topology` around `config`, with `carrier` delivery.
pub fn build(topology: Topology, config: Config, carrier: CarrierDelivery) -> Net {
    let mut setup = Setup::new(config);
    setup.carrier = carrier;
    let mut net = topology.build(&setup);
    net.sim.watch_sar(net.router, "");
    net
}

/// The flows from `from` to `to`.
pub fn flows(net: &Net, from: NodeId, to: NodeId) -> Vec<&FlowRecord> {
    net.sim
        .flows()
        .iter()
        .filter(|f| f.spec.from == from && f.spec.to == to)
        .collect()
}

/// Copies delivered twice or more, over the flows from `from` to `to`.
pub fn duplicates(net: &Net, from: NodeId, to: NodeId) -> u64 {
    flows(net, from, to).iter().map(|f| f.duplicates).sum()
}

/// The bond events of `host`, with their times.
pub fn bond_events(net: &Net, host: NodeId) -> Vec<(Instant, Event)> {
    net.sim
        .log()
        .iter()
        .filter_map(|e| match e.kind {
            LogKind::Bond { host: h, event } if h == host => Some((e.at, event)),
            _ => None,
        })
        .collect()
}

/// The longest outage from `from` to `to` (zero if none), panicking if one never ended.
pub fn worst_outage(net: &Net, from: NodeId, to: NodeId) -> Duration {
    net.sim
        .outages(from, to)
        .iter()
        .map(|o| {
            o.duration()
                .unwrap_or_else(|| panic!("outage from {} never ended", o.first_lost_sent))
        })
        .max()
        .unwrap_or(Duration::ZERO)
}

/// Fail with the violations if there are any.
pub fn assert_clean(net: &Net) {
    let v = net.sim.violations();
    assert!(
        v.is_empty(),
        "invariant violations:\n{}",
        v.iter().map(|v| format!("  {v}\n")).collect::<String>()
    );
}
