//! The 802.3ad demo: the router's bond and a "switch" bond negotiate LACP over two cables that
//! are plugged in at 100 ms; traffic starts once both ends distribute; eth0's cable is pulled
//! and put back. Convergence, re-join and outage times are measured in the run.

use std::fmt::Write as _;
use std::process::ExitCode;

use bond_core::lacp::AGGREGATE_WAIT;
use bond_core::options::Warning;
use bond_core::{Config, Instant};
use bond_sim::lacp::{all_negotiated, LacpPair};
use bond_sim::packet::HEADERS_LEN;
use bond_sim::{Fault, Net};

use super::{dur, finish, ms, print_outages, print_timeline, Args, FLOW_INTERVAL, PAYLOAD};

/// Options the 802.3ad demo adds unless the user gave them.
pub(crate) const DEFAULTS: &[(&str, &str)] =
    &[("lacp_rate", "fast"), ("xmit_hash_policy", "layer3+4")];

/// Virtual times of the script.
const LINKS_UP_AT: Instant = Instant::from_millis(100);
const TRAFFIC_AT: Instant = Instant::from_millis(3000);
const CUT_AT: Instant = Instant::from_millis(5000);
const RESTORE_AT: Instant = Instant::from_millis(7000);
const END_AT: Instant = Instant::from_millis(10_000);
/// UDP flows each way: enough for layer3+4 to use both ports.
const FLOWS: usize = 8;

/// Run the 802.3ad demo with `config` on both ends.
pub(crate) fn run(args: &Args, options: &str, warnings: &[Warning], config: Config) -> ExitCode {
    let mut pair = LacpPair::new(config.clone(), config, 2);
    pair.peer_name = "switch".into();
    pair.sim.seed = args.seed;
    pair.sim.capture = true;
    pair.carrier = args.carrier;
    pair.links_up_at = LINKS_UP_AT;
    let mut net = pair.build();
    net.sim.watch_sar(net.router, "");
    net.add_flows_at(FLOWS, FLOW_INTERVAL, TRAFFIC_AT);
    let ends = [net.router, net.peer];

    let mut out = String::new();
    print_header(&mut out, args, options, warnings, &net);

    let converged = net
        .sim
        .run_until_true(TRAFFIC_AT, |s| all_negotiated(s, &ends));
    net.sim
        .schedule(CUT_AT, Fault::LinkDown(net.router_links[0]));
    net.sim
        .schedule(RESTORE_AT, Fault::LinkUp(net.router_links[0]));
    net.sim.run_until(RESTORE_AT);
    let rejoined = net.sim.run_until_true(END_AT, |s| all_negotiated(s, &ends));
    net.sim.run_until(END_AT);

    print_timeline(&mut out, &net);
    outln!(out, "\nConvergence (measured in the run):\n");
    let link = net.sim.link(net.router_links[0]).params.latency;
    match converged {
        Some(t) => outln!(
            out,
            "  cables plugged in at {}; both ends collecting+distributing on both ports at {}: {} after link-up\n  (Aggregate_Wait_Time {} + {} of one-way latency {} µs)",
            ms(LINKS_UP_AT),
            ms(t),
            dur(t - LINKS_UP_AT),
            dur(AGGREGATE_WAIT),
            // The rest is the PDU exchange: sent, received, answered.
            dur(t - (LINKS_UP_AT + AGGREGATE_WAIT)),
            link.total_micros()
        ),
        None => outln!(out, "  NOT CONVERGED by {}", ms(TRAFFIC_AT)),
    }
    match rejoined {
        Some(t) => outln!(
            out,
            "  eth0's cable back at {}: eth0 distributing again on both ends at {} ({} later: the port kept its aggregator)",
            ms(RESTORE_AT),
            ms(t),
            dur(t - RESTORE_AT)
        ),
        None => outln!(out, "  eth0 NOT distributing again by {}", ms(END_AT)),
    }
    print_lacpdus(&mut out, &net);
    outln!(out, "\nPer-interface counters, 1 s intervals (like `sar -n DEV 1`; bond0 = sum of its ports):\n");
    out.push_str(&net.sim.sar().table());
    print_outages(&mut out, &net, 0);
    finish(out, &net, args)
}

fn print_header(out: &mut String, args: &Args, options: &str, warnings: &[Warning], net: &Net) {
    outln!(out, "bond-demo: 802.3ad between a dual-port router and an LACP switch (a second bond-core bond), simulated in virtual time (seed {})\n", args.seed);
    outln!(
        out,
        "  bond options  {options}   (both ends; parsed by bond_core::Config::parse)"
    );
    for w in warnings {
        outln!(out, "  warning       {w}");
    }
    let link = net.sim.link(net.router_links[0]).params;
    outln!(
        out,
        "  topology      router eth0 <-> switch eth0, router eth1 <-> switch eth1; {} µs one way, {} Mbit/s, lossless",
        link.latency.total_micros(),
        link.speed_mbps
    );
    outln!(
        out,
        "  traffic       {FLOWS} UDP flows each way from {}, one {}-byte frame every {} per flow",
        ms(TRAFFIC_AT),
        HEADERS_LEN + PAYLOAD,
        dur(FLOW_INTERVAL)
    );
    outln!(
        out,
        "  script        cables plugged in at {}, eth0's cable pulled at {} and put back at {}, stop at {}",
        ms(LINKS_UP_AT),
        ms(CUT_AT),
        ms(RESTORE_AT),
        ms(END_AT)
    );
}

/// LACPDUs per port, the transmit-rate check, and the router's nine counters.
fn print_lacpdus(out: &mut String, net: &Net) {
    outln!(
        out,
        "\nLACPDUs (every one decoded by bond_core::wire::slow::classify as it was sent):\n"
    );
    for host in [net.router, net.peer] {
        let h = net.sim.bonded(host);
        for n in h.nics() {
            let s = n.slow_tx();
            outln!(
                out,
                "  {:<6} {}  sent {:>3}, at most {} in any 1 s window (limit 3)",
                h.name(),
                n.name(),
                s.lacpdus().len(),
                s.max_lacpdus_per_second()
            );
        }
    }
    let s = net.sim.bond(net.router).lacp_stats();
    outln!(
        out,
        "  router bond counters: lacpdu_rx {} lacpdu_tx {} unknown_rx {} illegal_rx {} marker_rx {} marker_tx {} marker_resp_rx {} marker_resp_tx {} marker_unknown_rx {}",
        s.lacpdu_rx,
        s.lacpdu_tx,
        s.lacpdu_unknown_rx,
        s.lacpdu_illegal_rx,
        s.marker_rx,
        s.marker_tx,
        s.marker_resp_rx,
        s.marker_resp_tx,
        s.marker_unknown_rx
    );
}
