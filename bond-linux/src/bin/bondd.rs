//! `bondd`: a bond of AF_PACKET ports behind a TAP interface, driven by bond-core.
//!
//! ```text
//! bondd [--name NAME] --options "mode=802.3ad miimon=100 lacp_rate=fast" PORT [PORT...]
//!       [--mac MAC] [--pcap FILE] [--control SOCKET]
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use bond_core::{Config, EthernetAddress};
use bond_linux::{control, lock, Daemon, DaemonConfig};
use clap::Parser;

/// A userspace Linux bond: creates TAP NAME as the bond and bonds the PORTs under it.
#[derive(Debug, Parser)]
#[command(name = "bondd", version)]
struct Args {
    /// The bond's interface name (a TAP device created by bondd).
    #[arg(long, default_value = "bond0")]
    name: String,
    /// Linux bonding options, as for `modprobe bonding` or BONDING_OPTS,
    /// e.g. "mode=active-backup miimon=100".
    #[arg(long, short = 'o')]
    options: String,
    /// The bond's MAC address (default: the first port's, as Linux does).
    #[arg(long, value_parser = parse_mac)]
    mac: Option<EthernetAddress>,
    /// Record every control frame sent and received (LACP, markers, gratuitous ARP/NA) in
    /// this pcap file.
    #[arg(long)]
    pcap: Option<PathBuf>,
    /// Control socket (default /run/bondd/NAME.sock).
    #[arg(long)]
    control: Option<PathBuf>,
    /// Directory of the per-port locks that keep two daemons off one port.
    #[arg(long, default_value = lock::DEFAULT_LOCK_DIR, hide = true)]
    lock_dir: PathBuf,
    /// Ignore rtnetlink events and follow carrier by miimon polling only (for tests).
    #[arg(long, hide = true)]
    no_link_events: bool,
    /// Member ports (network interfaces in this network namespace).
    #[arg(required = true)]
    ports: Vec<String>,
}

fn parse_mac(s: &str) -> Result<EthernetAddress, String> {
    let mac: EthernetAddress = s
        .parse()
        .map_err(|_| format!("{s:?} is not a MAC address (aa:bb:cc:dd:ee:ff)"))?;
    if !mac.is_unicast() {
        return Err(format!("{s} is not a unicast MAC address"));
    }
    Ok(mac)
}

fn main() -> ExitCode {
    let args = Args::parse();
    let config = match Config::parse_with_warnings(&args.options) {
        Ok((config, warnings)) => {
            for w in warnings.iter() {
                eprintln!("bondd: {}: {w}", args.name);
            }
            config
        }
        Err(e) => {
            eprintln!("bondd: error: invalid --options: {e}");
            return ExitCode::FAILURE;
        }
    };
    let cfg = DaemonConfig {
        control: args
            .control
            .unwrap_or_else(|| control::default_socket_path(&args.name)),
        name: args.name,
        config,
        ports: args.ports,
        mac: args.mac,
        pcap: args.pcap,
        lock_dir: args.lock_dir,
        link_events: !args.no_link_events,
    };
    let mut daemon = match Daemon::start(&cfg) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("bondd: error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = daemon.run();
    daemon.shutdown();
    match result {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bondd: error: {e}");
            ExitCode::FAILURE
        }
    }
}
