//! `bondd`: a bond of AF_PACKET ports behind a TAP interface, driven by bond-core.
//!
//! ```text
//! bondd [--name NAME] --options "mode=802.3ad miimon=100 lacp_rate=fast" PORT [PORT...]
//! bondd [--name NAME] --ifcfg PATH/ifcfg-bond0      # initscripts or sysconfig files
//!       [--mac MAC] [--pcap FILE] [--control SOCKET]
//! ```

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use bond_core::{Config, EthernetAddress};
use bond_linux::{control, ifcfg, lock, Daemon, DaemonConfig};
use clap::{ArgGroup, Parser};

/// The default bond name.
const DEFAULT_NAME: &str = "bond0";

/// A userspace Linux bond: creates TAP NAME as the bond and bonds the PORTs under it.
#[derive(Debug, Parser)]
#[command(name = "bondd", version)]
#[command(group(ArgGroup::new("source").required(true).args(["options", "ifcfg"])))]
struct Args {
    /// The bond's interface name (a TAP device created by bondd) [default: bond0, or the
    /// name the --ifcfg file gives].
    #[arg(long)]
    name: Option<String>,
    /// Linux bonding options, as for `modprobe bonding` or BONDING_OPTS,
    /// e.g. "mode=active-backup miimon=100".
    #[arg(long, short = 'o')]
    options: Option<String>,
    /// Take the bond (name, options, ports, addresses) from an initscripts or sysconfig file,
    /// e.g. /etc/sysconfig/network-scripts/ifcfg-bond0.
    #[arg(long, conflicts_with = "ports")]
    ifcfg: Option<PathBuf>,
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
    /// No offloads: the host segments and checksums every frame before bondd sees it, and
    /// ports get plain frames. Slower; for a peer that cannot take the TCP super-frames and
    /// partial checksums a port's device would otherwise pass on (such as Open vSwitch's
    /// userspace datapath on a veth whose transmit offloads are on).
    #[arg(long)]
    no_offload: bool,
    /// Ignore rtnetlink events and follow carrier by miimon polling only (for tests).
    #[arg(long, hide = true)]
    no_link_events: bool,
    /// Member ports (network interfaces in this network namespace).
    #[arg(required_unless_present = "ifcfg")]
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

/// What the bond is made of: from `--options` and the PORTs, or from an ifcfg file.
struct Bond {
    name: String,
    config: Config,
    ports: Vec<String>,
    addresses: Vec<(IpAddr, u8)>,
    mtu: Option<u32>,
}

/// Read the bond's definition from the command line, printing warnings; `None` after printing
/// why it cannot be had.
fn bond_definition(args: &Args) -> Option<Bond> {
    if let Some(path) = &args.ifcfg {
        let file = match ifcfg::load(path) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("bondd: {e}");
                return None;
            }
        };
        for w in &file.warnings {
            eprintln!("bondd: {w}");
        }
        if let Some(name) = args.name.as_ref().filter(|n| **n != file.name) {
            eprintln!(
                "bondd: error: --name {name} disagrees with {}, which defines bond {}",
                path.display(),
                file.name
            );
            return None;
        }
        return Some(Bond {
            name: file.name,
            config: file.options,
            ports: file.ports,
            addresses: file.addresses,
            mtu: file.mtu,
        });
    }
    let name = args.name.clone().unwrap_or_else(|| DEFAULT_NAME.into());
    let options = args.options.as_deref().unwrap_or_default();
    match Config::parse_with_warnings(options) {
        Ok((config, warnings)) => {
            for w in warnings.iter() {
                eprintln!("bondd: {name}: {w}");
            }
            Some(Bond {
                name,
                config,
                ports: args.ports.clone(),
                addresses: Vec::new(),
                mtu: None,
            })
        }
        Err(e) => {
            eprintln!("bondd: error: invalid --options: {e}");
            None
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let Some(bond) = bond_definition(&args) else {
        return ExitCode::FAILURE;
    };
    let cfg = DaemonConfig {
        control: args
            .control
            .unwrap_or_else(|| control::default_socket_path(&bond.name)),
        name: bond.name,
        config: bond.config,
        ports: bond.ports,
        mac: args.mac,
        pcap: args.pcap,
        lock_dir: args.lock_dir,
        link_events: !args.no_link_events,
        mtu: bond.mtu,
        offload: !args.no_offload,
    };
    let mut daemon = match Daemon::start(&cfg) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("bondd: error: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = daemon.add_addresses(&bond.addresses) {
        eprintln!("bondd: error: {e}");
        daemon.shutdown();
        return ExitCode::FAILURE;
    }
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
