//! `bondd`: one bond, its TAP face and its AF_PACKET ports, driven by one event loop.
//!
//! Start-up order is chosen so that refusals come before anything is created: the options are
//! parsed and the bond built, every port is locked, the control socket is bound, and only then
//! are the TAP created and the ports opened. Whatever happens afterwards — a signal, an error,
//! a panic — [`Daemon`]'s `Drop` sends the goodbye LACPDUs, restores every port's MAC (and
//! MTU, admin state and isolation settings), and removes the TAP (by closing it) and the
//! control socket. What cannot run after SIGKILL is covered by the ports' state files: the next
//! bondd to take a port restores it from its file (see `ports`).

mod commands;
mod event_loop;
mod ports;
mod tx_batch;

use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::{Duration as StdDuration, Instant as StdInstant};

use bond_core::bond::MIN_TRANSMIT_BUF;
use bond_core::{Bond, Config, Duration, EthernetAddress, Instant};

use crate::control::ControlServer;
use crate::error::{Context, Error, Result};
use crate::lock::PortLock;
use crate::netdev::NetDev;
use crate::packet::RxBatch;
use crate::pcap::PcapWriter;
use crate::rtnl::NetlinkMonitor;
use crate::tap::Tap;
use crate::vnet::VNET_HDR_LEN;
use tx_batch::TxBatch;

pub use ports::PortIo;

/// Most ports one bondd drives.
pub const MAX_PORTS: usize = 16;

/// Largest frame read from a port or the TAP: a 64 KiB TCP super-frame (GSO, or GRO-merged on
/// a port) with its Ethernet and VLAN headers. Anything longer is dropped and counted rather
/// than cut.
pub const FRAME_BUF: usize = 65536 + 64;

/// How long a goodbye LACPDU held back by the three-a-second limit is waited for: at shutdown,
/// and for a port removed at run time.
const GOODBYE_WAIT: Duration = Duration::from_millis(1500);

/// Log a line on stderr, prefixed with the daemon's name.
macro_rules! say {
    ($($t:tt)*) => { eprintln!("bondd: {}", format_args!($($t)*)) };
}
pub(crate) use say;

/// Everything `bondd` is told on its command line.
#[derive(Debug, Clone)]
pub struct DaemonConfig {
    /// Bond (TAP) name.
    pub name: String,
    /// The bonding options (from `--options`, or an ifcfg file).
    pub config: Config,
    /// Member ports.
    pub ports: Vec<String>,
    /// Fixed bond MAC.
    pub mac: Option<EthernetAddress>,
    /// Control frame capture.
    pub pcap: Option<PathBuf>,
    /// Control socket path.
    pub control: PathBuf,
    /// Directory of port locks.
    pub lock_dir: PathBuf,
    /// Listen to rtnetlink (carrier, TAP state and addresses). Off, carrier is followed by
    /// `miimon` polling alone (tests use this to exercise the fallback).
    pub link_events: bool,
    /// The bond's MTU (ifcfg `MTU=`): set on the TAP before the ports join, which take it.
    /// `None`: the TAP's default.
    pub mtu: Option<u32>,
    /// Offloads: the TAP takes TCP super-frames and partial checksums, and frames cross bondd
    /// behind virtio-net headers. Off, the host segments and checksums every frame before bondd
    /// sees it (slower; for peers that cannot take what the ports' devices would pass on).
    pub offload: bool,
}

/// Why the event loop stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// SIGINT or SIGTERM.
    Signal,
}

/// A running bond.
pub struct Daemon {
    pub(crate) name: String,
    pub(crate) bond: Bond<MAX_PORTS>,
    epoch: StdInstant,
    pub(crate) netdev: NetDev,
    /// The TAP; `None` only during start-up and after shutdown.
    pub(crate) tap: Option<Tap>,
    pub(crate) tap_ifindex: u32,
    /// The TAP is promiscuous (so the ports are too, as Linux bonding propagates it).
    pub(crate) tap_promisc: bool,
    /// The TAP's MTU, which every port is set to (as Linux bonding sets its members').
    pub(crate) tap_mtu: u32,
    /// Indexed by `PortId::index()`.
    pub(crate) ports: Vec<Option<PortIo>>,
    /// Ports removed at run time whose goodbye LACPDU may still be held back.
    pub(crate) leaving: Vec<ports::Leaving>,
    pub(crate) control: ControlServer,
    pub(crate) links: Option<NetlinkMonitor>,
    pub(crate) pcap: Option<PcapWriter<std::io::BufWriter<std::fs::File>>>,
    pub(crate) signals: UnixStream,
    pub(crate) lock_dir: PathBuf,
    pub(crate) next_miimon: Option<Instant>,
    /// No carrier probe for traffic on an inactive port before this (see `probe_carrier`).
    pub(crate) next_rx_probe: Option<Instant>,
    /// Receive slots for the ports.
    pub(crate) rx: RxBatch,
    /// Frames read from the TAP in one turn.
    pub(crate) tx: TxBatch,
    /// A control frame, behind room for its virtio-net header (left all zeros).
    pub(crate) ctl_buf: [u8; VNET_HDR_LEN + MIN_TRANSMIT_BUF],
    shut_down: bool,
}

impl Daemon {
    /// Build the bond, lock and open everything, and bring the bond up.
    pub fn start(cfg: &DaemonConfig) -> Result<Self> {
        crate::netdev::check_name(&cfg.name).context(|| "--name".into())?;
        // Seeds balance-rr's random port choice (packets_per_slave=0) only.
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
            ^ u64::from(std::process::id());
        let bond = Bond::<MAX_PORTS>::new(Instant::ZERO, cfg.config.clone(), cfg.mac, seed)
            .map_err(|e| Error::refused(format!("unsupported options: {e}")))?;
        if cfg.ports.len() > MAX_PORTS {
            return Err(Error::refused(format!(
                "at most {MAX_PORTS} ports per bond"
            )));
        }
        let mut seen = std::collections::HashSet::new();
        for p in &cfg.ports {
            if !seen.insert(p) {
                return Err(Error::refused(format!("port {p} is named twice")));
            }
            if *p == cfg.name {
                return Err(Error::refused(format!("port {p} has the bond's own name")));
            }
        }
        let netdev = NetDev::new().context(|| "ioctl socket".into())?;
        // Refusals first: ports in use, a missing port, a control socket in use.
        let owner = format!("bondd {} (pid {})", cfg.name, std::process::id());
        let mut locks = Vec::new();
        for p in &cfg.ports {
            locks.push(PortLock::acquire(&cfg.lock_dir, p, &owner)?);
            netdev.ifindex(p).context(|| format!("port {p}"))?;
        }
        let control = ControlServer::bind(&cfg.control)?;
        let (signals, sig_write) = UnixStream::pair().context(|| "signal pipe".into())?;
        signals
            .set_nonblocking(true)
            .context(|| "signal pipe".into())?;
        for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            let w = sig_write.try_clone().context(|| "signal pipe".into())?;
            signal_hook::low_level::pipe::register(sig, w)
                .context(|| "install signal handler".into())?;
        }
        let pcap = match &cfg.pcap {
            Some(path) => {
                Some(PcapWriter::create(path).context(|| format!("create {}", path.display()))?)
            }
            None => None,
        };
        // The netlink socket before the ports: no carrier change between sampling a port and
        // subscribing can be missed. Without it, miimon polling still follows carrier.
        let links = match NetlinkMonitor::open() {
            Ok(_) if !cfg.link_events => None,
            Ok(m) => Some(m),
            Err(e) => {
                say!(
                    "{}: no rtnetlink link events ({e}); relying on miimon polling",
                    cfg.name
                );
                None
            }
        };
        let tap =
            Tap::create(&cfg.name, cfg.offload).context(|| format!("create TAP {}", cfg.name))?;
        let tap_ifindex = netdev
            .ifindex(tap.name())
            .context(|| format!("TAP {}", cfg.name))?;
        // A configured MTU goes on the TAP before any port joins, so each port is set once.
        if let Some(mtu) = cfg.mtu {
            netdev
                .set_mtu(tap.name(), mtu)
                .context(|| format!("set the MTU of {} to {mtu}", cfg.name))?;
        }
        let tap_mtu = netdev
            .mtu(tap.name())
            .context(|| format!("MTU of {}", cfg.name))?;
        let mut daemon = Self {
            name: tap.name().to_string(),
            bond,
            epoch: StdInstant::now(),
            netdev,
            tap: Some(tap),
            tap_ifindex,
            tap_promisc: false,
            tap_mtu,
            ports: (0..MAX_PORTS).map(|_| None).collect(),
            leaving: Vec::new(),
            control,
            links,
            pcap,
            signals,
            lock_dir: cfg.lock_dir.clone(),
            next_miimon: None,
            next_rx_probe: None,
            rx: RxBatch::new(FRAME_BUF),
            tx: TxBatch::new(FRAME_BUF, MAX_PORTS),
            ctl_buf: [0; VNET_HDR_LEN + MIN_TRANSMIT_BUF],
            shut_down: false,
        };
        // From here on, Drop undoes whatever was done.
        if daemon.bond.mac() != EthernetAddress::ZERO {
            daemon.set_tap_mac(daemon.bond.mac())?;
        }
        let now = daemon.now();
        for (p, lock) in cfg.ports.iter().zip(locks) {
            daemon.add_port(now, p, Some(lock))?;
        }
        daemon.drain(now);
        // The first miimon poll at once: the loop may otherwise sleep until the first event.
        daemon.next_miimon = Some(now);
        daemon
            .netdev
            .set_up(&daemon.name, true)
            .context(|| format!("bring {} up", daemon.name))?;
        daemon.sync_tap_carrier();
        say!(
            "{}: up, {} port(s), {}; control socket {}",
            daemon.name,
            daemon.bond.port_count(),
            daemon.bond.config().options(),
            daemon.control.path().display()
        );
        Ok(daemon)
    }

    /// Put `addresses` on the TAP, as `ip addr add ADDR/PREFIX dev NAME` would (bondd
    /// `--ifcfg`), and announce them after failover. The rtnetlink events they cause tell the
    /// bond too; it is told here as well so that it knows them without link events.
    pub fn add_addresses(&mut self, addresses: &[(std::net::IpAddr, u8)]) -> Result<()> {
        for &(ip, prefix) in addresses {
            crate::rtnl::add_address(self.tap_ifindex, ip, prefix)
                .context(|| format!("add address {ip}/{prefix} to {}", self.name))?;
            let addr = bond_core::BondAddress {
                ip: match ip {
                    std::net::IpAddr::V4(v4) => bond_core::IpAddress::V4(v4.octets()),
                    std::net::IpAddr::V6(v6) => bond_core::IpAddress::V6(v6.octets()),
                },
                vlan: None,
            };
            if let Err(e) = self.bond.add_address(addr) {
                say!(
                    "{}: {ip} will not be announced after failover: {e}",
                    self.name
                );
            }
            say!("{}: address {ip}/{prefix} added", self.name);
        }
        Ok(())
    }

    /// The bond's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The bond.
    pub fn bond(&self) -> &Bond<MAX_PORTS> {
        &self.bond
    }

    /// Now, on the daemon's monotonic clock (its epoch is start-up).
    pub(crate) fn now(&self) -> Instant {
        Instant::from_micros(self.epoch.elapsed().as_micros() as u64)
    }

    pub(crate) fn set_tap_mac(&self, mac: EthernetAddress) -> Result<()> {
        self.netdev
            .set_mac_any_state(&self.name, mac)
            .context(|| format!("set {} MAC to {mac}", self.name))
    }

    /// Mirror the bond's carrier on the TAP, as a kernel bond shows NO-CARRIER.
    pub(crate) fn sync_tap_carrier(&self) {
        if let Some(tap) = &self.tap {
            if let Err(e) = tap.set_carrier(self.bond.carrier()) {
                say!("{}: cannot set TAP carrier: {e}", self.name);
            }
        }
    }

    /// Release every port (goodbye LACPDUs first), restore their MACs, remove the TAP and the
    /// control socket. Idempotent; `Drop` calls it too.
    pub fn shutdown(&mut self) {
        if self.shut_down {
            return;
        }
        self.shut_down = true;
        let now = self.now();
        let ids: Vec<_> = self.bond.ports().collect();
        for id in ids {
            let _ = self.bond.remove_port(now, id);
        }
        // Goodbyes may be held back by the three-a-second limit: wait for them, briefly.
        let start = StdInstant::now();
        loop {
            let now = self.now();
            self.bond.handle_timeout(now);
            self.drain(now);
            let Some(next) = self.bond.poll_timeout() else {
                break;
            };
            if start.elapsed().as_micros() >= u128::from(GOODBYE_WAIT.total_micros()) {
                break;
            }
            let wait = next.saturating_duration_since(self.now()).total_micros();
            std::thread::sleep(StdDuration::from_micros(wait.clamp(1000, 100_000)));
        }
        for slot in &mut self.ports {
            if let Some(port) = slot.take() {
                port.close(&self.netdev);
            }
        }
        // Closing the descriptor of a non-persistent TAP deletes the interface.
        self.tap = None;
        say!("{}: stopped", self.name);
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.shutdown();
    }
}
