//! `bond-demo`: a dual-port router (a bond-core bond) talks to a far host over the seed's
//! topologies in deterministic virtual time. It cuts the active link at 3 s, restores it at 6 s,
//! and prints the timeline, `sar -n DEV`-like counters, the measured outage, the final
//! `/proc/net/bonding/bond0` text, and writes a pcapng capture of both bond ports.
//!
//! With `--mode 802.3ad` the far end is a second bond standing in for an LACP switch, cabled
//! back to back over two links (see [`lacp`]).
//!
//! Everything printed is measured in the simulation; nothing is estimated.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use bond_core::options::Warning;
use bond_core::{Config, Duration, Instant, Mode};
use bond_sim::host::CarrierDelivery;
use bond_sim::log::LogKind;
use bond_sim::packet::HEADERS_LEN;
use bond_sim::traffic::outages as outages_of;
use bond_sim::{Fault, Net, NodeId, Setup, Topology};

const USAGE: &str = "\
usage: bond-demo [--mode MODE] [--options \"KERNEL OPTIONS\"] [--topology ha|throughput|pair]
                 [--carrier events|miimon] [--pcap FILE] [--seed N]

  --mode       balance-rr | active-backup | balance-xor | broadcast | 802.3ad, or any other
               mode bond-core implements (default active-backup)
  --options    bonding options in the kernel grammar, e.g. \"miimon=100 updelay=200\";
               they override the demo's defaults (mode=MODE miimon=100, and for 802.3ad
               lacp_rate=fast xmit_hash_policy=layer3+4)
  --topology   ha: eth0 -> switch A, eth1 -> switch B, A-B inter-switch link, far host on A
               throughput: eth0 and eth1 -> one switch, far host on it
               pair: eth0 and eth1 cabled to a second bond (an LACP switch in 802.3ad)
               (default pair in 802.3ad, ha otherwise)
  --carrier    events: the bond hears of carrier changes at once (link interrupt)
               miimon: the bond samples carrier every miimon ms          (default events)
  --pcap       capture file (default bond-demo.pcapng)
  --seed       simulation seed (default 1)";

/// Virtual times of the script.
const CUT_AT: Instant = Instant::from_millis(3000);
const RESTORE_AT: Instant = Instant::from_millis(6000);
const END_AT: Instant = Instant::from_millis(8000);
/// Traffic: this many flows each way, one frame every `FLOW_INTERVAL` each.
const FLOWS: usize = 4;
const FLOW_INTERVAL: Duration = Duration::from_millis(2);
const PAYLOAD: usize = 100;

/// `println!` into the output buffer (written once at the end, so a closed pipe cannot panic).
macro_rules! outln {
    ($out:expr) => { $out.push('\n') };
    ($out:expr, $($arg:tt)*) => {{ let _ = writeln!($out, $($arg)*); }};
}

// After `outln!`, which it uses.
mod lacp;

struct Args {
    mode: String,
    options: String,
    /// `None`: the mode's default.
    topology: Option<Topology>,
    carrier: CarrierDelivery,
    pcap: PathBuf,
    seed: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        mode: "active-backup".into(),
        options: String::new(),
        topology: None,
        carrier: CarrierDelivery::Events,
        pcap: PathBuf::from("bond-demo.pcapng"),
        seed: 1,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            return Err(String::new());
        }
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
            None => (flag.clone(), None),
        };
        let value = match inline {
            Some(v) => v,
            None => it.next().ok_or_else(|| format!("{name} needs a value"))?,
        };
        match name.as_str() {
            "--mode" => a.mode = value,
            "--options" => a.options = value,
            "--topology" => {
                a.topology = Some(match value.as_str() {
                    "ha" => Topology::high_availability(),
                    "throughput" => Topology::throughput(),
                    "pair" => Topology::back_to_back(),
                    v => {
                        return Err(format!(
                            "--topology: unknown topology {v:?} (ha, throughput, pair)"
                        ))
                    }
                })
            }
            "--carrier" => {
                a.carrier = match value.as_str() {
                    "events" => CarrierDelivery::Events,
                    "miimon" => CarrierDelivery::Miimon,
                    v => return Err(format!("--carrier: unknown value {v:?} (events, miimon)")),
                }
            }
            "--pcap" => a.pcap = PathBuf::from(value),
            "--seed" => {
                a.seed = value
                    .parse()
                    .map_err(|_| format!("--seed: not a number: {value:?}"))?
            }
            _ => return Err(format!("unknown argument {flag:?}")),
        }
    }
    Ok(a)
}

/// The demo's defaults (`mode=MODE miimon=100`, then `extra`) with the user's options on top,
/// by name.
fn option_string(mode: &str, user: &str, extra: &[(&str, &str)]) -> String {
    let given: Vec<&str> = user.split_whitespace().collect();
    let has = |name: &str| given.iter().any(|t| t.split('=').next() == Some(name));
    let mut tokens: Vec<String> = Vec::new();
    for &(name, value) in [("mode", mode), ("miimon", "100")].iter().chain(extra) {
        if !has(name) {
            tokens.push(format!("{name}={value}"));
        }
    }
    tokens.extend(given.iter().map(|s| (*s).to_owned()));
    tokens.join(" ")
}

fn ms(t: Instant) -> String {
    format!("{:.3}ms", t.total_micros() as f64 / 1000.0)
}

fn dur(d: Duration) -> String {
    format!("{:.3} ms", d.total_micros() as f64 / 1000.0)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) if e.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("bond-demo: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut options = option_string(&args.mode, &args.options, &[]);
    let mut parsed = Config::parse_with_warnings(&options);
    if parsed.as_ref().is_ok_and(|(c, _)| c.mode == Mode::Lacp) {
        // Fast LACP shows a link timeout in seconds rather than minutes, and layer3+4 spreads
        // the demo's UDP flows over both ports (layer2 would put one MAC pair on one port).
        options = option_string(&args.mode, &args.options, lacp::DEFAULTS);
        parsed = Config::parse_with_warnings(&options);
    }
    let (config, warnings) = match parsed {
        Ok(x) => x,
        Err(e) => {
            eprintln!("bond-demo: bad bonding options {options:?}: {e}");
            return ExitCode::from(2);
        }
    };
    let topology = args.topology.unwrap_or(if config.mode == Mode::Lacp {
        Topology::back_to_back()
    } else {
        Topology::high_availability()
    });
    if config.mode == Mode::Lacp && topology == Topology::back_to_back() {
        return lacp::run(&args, &options, &warnings, config);
    }
    let mut setup = Setup::new(config.clone());
    setup.sim.seed = args.seed;
    setup.sim.capture = true;
    setup.carrier = args.carrier;
    let mut net = match topology.try_build(&setup) {
        Ok(net) => net,
        Err(e) => {
            eprintln!("bond-demo: {e}");
            return ExitCode::from(2);
        }
    };
    net.sim.watch_sar(net.router, "");
    net.add_flows(FLOWS, FLOW_INTERVAL);

    let mut out = String::new();
    print_header(&mut out, &args, topology, &options, &warnings, &net);

    // Cut whichever port is carrying the traffic: the active one in active-backup.
    net.sim
        .run_until(Instant::from_micros(CUT_AT.total_micros() - 1));
    let cut_nic = net
        .router()
        .active_nic()
        .filter(|_| config.mode == Mode::ActiveBackup)
        .unwrap_or(0);
    let cut = net.router_links[cut_nic];
    net.sim.schedule(CUT_AT, Fault::LinkDown(cut));
    net.sim.schedule(RESTORE_AT, Fault::LinkUp(cut));
    net.sim.run_until(END_AT);

    print_timeline(&mut out, &net);
    outln!(out, "\nPer-interface counters, 1 s intervals (like `sar -n DEV 1`; bond0 = sum of its ports):\n");
    out.push_str(&net.sim.sar().table());
    print_outages(&mut out, &net, cut_nic);
    finish(out, &net, &args)
}

/// Print the router's `/proc/net/bonding/bond0`, any invariant violation, write the capture
/// and the output.
fn finish(mut out: String, net: &Net, args: &Args) -> ExitCode {
    outln!(
        out,
        "\n/proc/net/bonding/bond0 at t={}:\n",
        ms(net.sim.now())
    );
    outln!(out, "{}", net.sim.bond(net.router).status());

    if !net.sim.violations().is_empty() {
        outln!(out, "\nINVARIANT VIOLATIONS:");
        for v in net.sim.violations() {
            outln!(out, "  {v}");
        }
    }
    let Some(pcap) = net.sim.pcapng() else {
        return ExitCode::FAILURE;
    };
    let written = pcap.write_to(&args.pcap);
    if written.is_ok() {
        let ports = if net.switches.is_empty() {
            "the ports of both bonds"
        } else {
            "router eth0/eth1"
        };
        outln!(
            out,
            "\npcapng: {} frames on {ports}, both directions, written to {}",
            pcap.packet_count(),
            args.pcap.display()
        );
    }
    // A reader that went away (`| head`) is not an error worth a panic.
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bond-demo: cannot write {}: {e}", args.pcap.display());
            ExitCode::FAILURE
        }
    }
}

fn print_header(
    out: &mut String,
    args: &Args,
    topology: Topology,
    options: &str,
    warnings: &[Warning],
    net: &Net,
) {
    let c = net.sim.bond(net.router).config();
    outln!(out, "bond-demo: a dual-port router (bond-core, sans-IO) and a far host, simulated in virtual time (seed {})\n", args.seed);
    outln!(
        out,
        "  bond options  {options}   (parsed by bond_core::Config::parse)"
    );
    for w in warnings {
        outln!(out, "  warning       {w}");
    }
    let topo = match topology {
        Topology::Throughput => "throughput: router eth0 -> S.port1, eth1 -> S.port2, far host -> S.port3",
        Topology::BackToBack => "pair: router eth0 <-> peer eth0, router eth1 <-> peer eth1 (the peer is a second bond, same options)",
        _ => "high availability: router eth0 -> A.port1, eth1 -> B.port1, A.port2 <-> B.port2 (ISL), far host -> A.port3",
    };
    outln!(out, "  topology      {topo}");
    if c.mode == Mode::Xor && c.xmit_hash_policy == bond_core::XmitHashPolicy::Layer2 {
        outln!(out, "  note          xmit_hash_policy=layer2 hashes MACs only: one peer MAC, one port (try --options xmit_hash_policy=layer3+4)");
    }
    let carrier = match args.carrier {
        CarrierDelivery::Events => {
            "events: handle_link() at the instant the carrier changes".to_owned()
        }
        CarrierDelivery::Miimon if c.miimon == 0 => {
            "miimon polling, but miimon=0: the bond never samples carrier".to_owned()
        }
        CarrierDelivery::Miimon => format!(
            "miimon polling: handle_link() every {} ms at t = {} ms + k*{} ms",
            c.miimon,
            c.miimon / 2,
            c.miimon
        ),
    };
    outln!(out, "  carrier       {carrier}");
    let link = net.sim.link(net.router_links[0]).params;
    outln!(
        out,
        "  traffic       {FLOWS} UDP flows each way, one {}-byte frame every {} per flow; links {} µs one way, {} Mbit/s, lossless",
        HEADERS_LEN + PAYLOAD,
        dur(FLOW_INTERVAL),
        link.latency.total_micros(),
        link.speed_mbps
    );
    let what = if c.mode == Mode::ActiveBackup {
        "the active port"
    } else {
        "eth0"
    };
    outln!(
        out,
        "  script        cut {what} at {}, restore it at {}, stop at {}",
        ms(CUT_AT),
        ms(RESTORE_AT),
        ms(END_AT)
    );
}

fn print_timeline(out: &mut String, net: &Net) {
    outln!(out, "\nTimeline (bond events from poll_event, carrier changes, faults, announcements seen by switches):\n");
    let moves = net
        .sim
        .log()
        .iter()
        .filter(|e| matches!(e.kind, LogKind::MacMoved { .. }))
        .count();
    // balance-rr and broadcast make a switch re-learn the bond MAC on every frame; show the
    // first few moves and count the rest rather than print thousands of lines.
    const SHOWN_MOVES: usize = 6;
    let mut shown = 0;
    for e in net.sim.log() {
        if matches!(e.kind, LogKind::MacMoved { .. }) {
            shown += 1;
            if shown > SHOWN_MOVES {
                continue;
            }
        }
        outln!(out, "{e}");
    }
    if moves > SHOWN_MOVES {
        outln!(
            out,
            "  ... and {} more MAC moves in the switches (the bond MAC flapping between ports)",
            moves - SHOWN_MOVES
        );
    }
}

fn print_outages(out: &mut String, net: &Net, cut_nic: usize) {
    let router = net.router().name().to_owned();
    let peer = net.sim.node(net.peer).name().to_owned();
    outln!(
        out,
        "\nTraffic and outages (outage = first lost frame sent -> first later frame delivered):\n"
    );
    let dirs: [(NodeId, NodeId, String); 2] = [
        (net.router, net.peer, format!("{router} -> {peer}")),
        (net.peer, net.router, format!("{peer} -> {router}")),
    ];
    for (from, to, label) in dirs {
        let flows: Vec<_> = net
            .sim
            .flows()
            .iter()
            .filter(|f| f.spec.from == from && f.spec.to == to)
            .collect();
        let sent: u64 = flows.iter().map(|f| f.sent_count()).sum();
        let delivered: u64 = flows.iter().map(|f| f.delivered_count()).sum();
        // Frames sent in the last 10 ms may still be on the wire: not lost, in flight.
        let settled = Instant::from_micros(net.sim.now().total_micros() - 10_000);
        let lost: u64 = flows.iter().map(|f| f.lost_before(settled)).sum();
        let dups: u64 = flows.iter().map(|f| f.duplicates).sum();
        let reord: u64 = flows.iter().map(|f| f.reordered).sum();
        outln!(
        out,
            "  {label:<16} sent {sent}, delivered {delivered}, lost {lost}, in flight at the end {}, duplicate copies {dups}, reordered {reord}",
            sent - delivered - lost
        );
        let outages = net.sim.outages(from, to);
        if outages.is_empty() {
            outln!(out, "  {:<16} no outage: not one frame lost", "");
        }
        // With a hash policy the other port's flows keep delivering, which splits one failure
        // into many one-frame gaps of the merged traffic: show a few, then what each flow saw.
        const SHOWN_OUTAGES: usize = 4;
        let more = outages.len().saturating_sub(SHOWN_OUTAGES);
        for o in outages.into_iter().take(SHOWN_OUTAGES) {
            match o.duration() {
                Some(d) => {
                    outln!(
        out,
                    "  {:<16} outage {}: {} frames lost, first sent at t={}, traffic back at t={}",
                    "",
                    dur(d),
                    o.lost,
                    ms(o.first_lost_sent),
                    ms(o.resumed.unwrap_or(o.first_lost_sent))
                )
                }
                None => outln!(
                    out,
                    "  {:<16} {} frames lost from t={} on, not recovered by the end",
                    "",
                    o.lost,
                    ms(o.first_lost_sent)
                ),
            }
        }
        if more > 0 {
            let per_flow = flows
                .iter()
                .flat_map(|f| outages_of([*f], settled))
                .filter_map(|o| o.duration())
                .max();
            outln!(
                out,
                "  {:<16} ... and {more} more; the longest outage a single flow saw: {}",
                "",
                per_flow.map_or_else(|| "none ended".to_owned(), dur)
            );
        }
    }
    let h = net.router();
    let s = h.stats();
    outln!(
        out,
        "\n  router stack: {} frames the NIC could not send (no carrier, bond not told yet), {} dropped by the bond on tx, {} dropped by the bond on rx (backup port), {} control frames from the bond (LACPDUs, gratuitous ARPs/NAs)",
        s.tx_no_carrier, s.app_dropped_by_bond, s.rx_dropped_by_bond, s.control_sent
    );
    let link = net.sim.link(net.router_links[cut_nic]);
    let lost: u64 = link.stats().lost_in_flight.iter().sum();
    outln!(
        out,
        "  link {}: {} frames were in flight when it was cut",
        link.name(),
        lost
    );
}
