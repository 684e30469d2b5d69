//! Simulated hosts: a bonded host (a [`Bond`] plus a tiny host stack) and a plain host with one
//! NIC.
//!
//! The host stacks are deliberately small:
//! - no ARP resolution: every host's neighbour cache is filled with the other hosts' addresses
//!   when the simulation starts, and a received ARP updates an existing entry (Linux does so
//!   for gratuitous ARPs even with `arp_accept=0`). So every frame on the wire is application
//!   traffic or an announcement, and a bond MAC change (`fail_over_mac=active`) reaches a peer
//!   only through the bond's gratuitous ARP, as in real life;
//! - a host announces itself once at start with a gratuitous ARP, as `ifup`/`arping -U` do,
//!   so switches learn every MAC before traffic starts;
//! - data frames leave with the **bond's** MAC as source; the MAC a NIC carries (changed by the
//!   bond through `poll_action`) is its receive filter: a NIC accepts frames to its own MAC and
//!   group frames, like a NIC that is not promiscuous. Applying `poll_action` is therefore not
//!   optional: a host that ignored it would stop receiving.

use bond_core::bond::{Action, MIN_TRANSMIT_BUF};
use bond_core::config::Mode;
use bond_core::lacp::AggregatorInfo;
use bond_core::{
    Bond, BondAddress, BondError, Config, Duration, EthernetAddress, Event, Instant, IpAddress,
    LinkSample, PortConfig, PortId, RxVerdict, TxVerdict,
};

use crate::link::NodeId;
use crate::log::{LogKind, ViolationKind};
use crate::node::{Ctx, Delivery};
use crate::packet::{build_gratuitous_arp, parse_app};
use crate::slow::SlowTx;

/// Capacity of every simulated bond.
pub const MAX_PORTS: usize = 4;

/// The bond type the simulator runs.
pub type SimBond = Bond<MAX_PORTS>;

/// How carrier changes reach a bond.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CarrierDelivery {
    /// Interrupt-driven: `handle_link` is called at the instant the carrier changes.
    #[default]
    Events,
    /// Polled: the host samples every bond port every `miimon` ms on a fixed phase and calls
    /// `handle_link` only then (Linux's MII monitor). Nothing is sampled when `miimon` is 0.
    Miimon,
}

/// Packet and byte counters of one interface, as `sar -n DEV` reads them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IfCounters {
    /// Frames received.
    pub rx_packets: u64,
    /// Frames sent.
    pub tx_packets: u64,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Bytes sent.
    pub tx_bytes: u64,
}

impl IfCounters {
    /// Field-wise sum.
    pub fn add(&mut self, o: &Self) {
        self.rx_packets += o.rx_packets;
        self.tx_packets += o.tx_packets;
        self.rx_bytes += o.rx_bytes;
        self.tx_bytes += o.tx_bytes;
    }
}

/// A host's network interface card.
#[derive(Debug, Clone)]
pub struct Nic {
    name: String,
    perm_mac: EthernetAddress,
    mac: EthernetAddress,
    port: Option<PortId>,
    /// What the PHY sees now.
    sample: LinkSample,
    /// The carrier the bond was last told about (`None`: never told, or not in the bond).
    reported: Option<bool>,
    /// Since when the bond has been told "carrier up" without interruption.
    reported_up_since: Option<Instant>,
    counters: IfCounters,
    /// The LACPDUs and markers the bond sent through this NIC.
    slow: SlowTx,
}

impl Nic {
    fn new(name: &str, mac: EthernetAddress) -> Self {
        Self {
            name: name.to_owned(),
            perm_mac: mac,
            mac,
            port: None,
            sample: LinkSample::DOWN,
            reported: None,
            reported_up_since: None,
            counters: IfCounters::default(),
            slow: SlowTx::default(),
        }
    }

    /// Interface name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Burned-in MAC.
    pub fn perm_mac(&self) -> EthernetAddress {
        self.perm_mac
    }

    /// The MAC the NIC carries now (its receive filter).
    pub fn mac(&self) -> EthernetAddress {
        self.mac
    }

    /// The bond port this NIC is, if it is in the bond.
    pub fn port(&self) -> Option<PortId> {
        self.port
    }

    /// Whether the PHY has carrier now.
    pub fn carrier(&self) -> bool {
        self.sample.up
    }

    /// The carrier the bond was last told about.
    pub fn reported_carrier(&self) -> Option<bool> {
        self.reported
    }

    /// Counters.
    pub fn counters(&self) -> &IfCounters {
        &self.counters
    }

    /// The Slow Protocols frames (LACPDUs, marker responses) the bond sent through this NIC.
    pub fn slow_tx(&self) -> &SlowTx {
        &self.slow
    }

    /// Whether the NIC accepts `frame` (own MAC or a group address).
    fn accepts(&self, frame: &[u8]) -> bool {
        frame.len() >= 14 && (frame[0] & 1 == 1 || frame[0..6] == self.mac.0)
    }

    fn count_rx(&mut self, len: usize) {
        self.counters.rx_packets += 1;
        self.counters.rx_bytes += len as u64;
    }

    fn count_tx(&mut self, len: usize) {
        self.counters.tx_packets += 1;
        self.counters.tx_bytes += len as u64;
    }
}

/// Counters of a host's stack.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HostStats {
    /// Application frames handed to the stack.
    pub app_sent: u64,
    /// Application frames the bond refused (`TxVerdict::Drop`).
    pub app_dropped_by_bond: u64,
    /// Frames a NIC could not send because it had no carrier (the bond had not been told yet).
    pub tx_no_carrier: u64,
    /// Control frames the bond asked to send (`poll_transmit`).
    pub control_sent: u64,
    /// Frames the NIC's MAC filter rejected.
    pub rx_filtered: u64,
    /// Frames the bond dropped (`RxVerdict::Drop`), e.g. on a backup port.
    pub rx_dropped_by_bond: u64,
    /// Link-local frames the bond passed to the port itself.
    pub rx_pass_to_port: u64,
    /// Frames the bond consumed.
    pub rx_consumed: u64,
    /// Frames on a NIC that is not in the bond.
    pub rx_not_in_bond: u64,
    /// Application frames delivered to the application.
    pub rx_app: u64,
    /// Frames carrying the host's own source MAC (its own floods coming back).
    pub rx_own: u64,
    /// Unicast frames delivered by the bond but addressed to another MAC.
    pub rx_not_for_us: u64,
    /// Other frames (ARP, ...), ignored by the stack.
    pub rx_other: u64,
}

/// How to build a bonded host.
#[derive(Debug, Clone)]
pub struct HostSpec {
    /// Bond configuration.
    pub config: Config,
    /// NICs, in enslave order: name and burned-in MAC.
    pub nics: Vec<(String, EthernetAddress)>,
    /// The host's IPv4 address (on the bond).
    pub ip: [u8; 4],
    /// A fixed bond MAC; `None` lets the first port lend its MAC, as Linux does.
    pub bond_mac: Option<EthernetAddress>,
    /// How carrier changes reach the bond.
    pub carrier: CarrierDelivery,
    /// Offset of the miimon polls: the bond is sampled at `phase + k·miimon`. `None` means
    /// `miimon / 2`, so a fault at a multiple of `miimon` lands halfway between two polls (the
    /// average detection delay of a real MII monitor).
    pub miimon_phase: Option<Duration>,
    /// Seed for the bond's own generator (`packets_per_slave=0`).
    pub seed: u64,
}

/// A host's neighbour cache: IPv4 address → MAC.
#[derive(Debug, Clone, Default)]
pub struct Neighbors(Vec<([u8; 4], EthernetAddress)>);

impl Neighbors {
    /// The MAC cached for `ip`.
    pub fn get(&self, ip: [u8; 4]) -> Option<EthernetAddress> {
        self.0.iter().find(|(i, _)| *i == ip).map(|(_, m)| *m)
    }

    /// Create or replace the entry for `ip`.
    pub(crate) fn insert(&mut self, ip: [u8; 4], mac: EthernetAddress) {
        match self.0.iter_mut().find(|(i, _)| *i == ip) {
            Some(e) => e.1 = mac,
            None => self.0.push((ip, mac)),
        }
    }

    /// Update an existing entry from a received ARP packet (sender IP and MAC).
    fn learn_from_arp(&mut self, frame: &[u8]) {
        if frame.len() >= 42 && frame[12..14] == [0x08, 0x06] {
            let (mac, ip) = (
                EthernetAddress::from_bytes(&frame[22..28]),
                [frame[28], frame[29], frame[30], frame[31]],
            );
            if let Some(e) = self.0.iter_mut().find(|(i, _)| *i == ip) {
                e.1 = mac;
            }
        }
    }
}

/// A bond as a bonded host runs it: `config`, the host's address on it.
fn new_bond(
    now: Instant,
    config: Config,
    mac: Option<EthernetAddress>,
    seed: u64,
    ip: [u8; 4],
) -> Result<SimBond, BondError> {
    let mut bond = SimBond::new(now, config, mac, seed)?;
    // Cannot fail: the list is empty.
    let _ = bond.add_address(BondAddress {
        ip: IpAddress::V4(ip),
        vlan: None,
    });
    Ok(bond)
}

/// Deliver a frame to a host's stack (after the NIC, and after the bond for a bonded host).
fn stack_receive(
    ctx: &mut Ctx,
    stats: &mut HostStats,
    neighbors: &mut Neighbors,
    own: EthernetAddress,
    nic: usize,
    frame: &[u8],
) {
    let dst = EthernetAddress::from_bytes(&frame[0..6]);
    let src = EthernetAddress::from_bytes(&frame[6..12]);
    if src == own {
        stats.rx_own += 1;
    } else if !dst.is_multicast() && dst != own {
        stats.rx_not_for_us += 1;
    } else if let Some((app, _)) = parse_app(frame) {
        stats.rx_app += 1;
        ctx.delivered.push(Delivery {
            flow: app.flow,
            seq: app.seq,
            nic,
        });
    } else {
        neighbors.learn_from_arp(frame);
        stats.rx_other += 1;
    }
}

/// A host whose NICs form a bond.
#[derive(Debug)]
pub struct BondedHost {
    id: NodeId,
    name: String,
    bond: SimBond,
    nics: Vec<Nic>,
    ip: [u8; 4],
    neighbors: Neighbors,
    carrier: CarrierDelivery,
    miimon_phase: Duration,
    next_poll: Option<Instant>,
    stats: HostStats,
    /// Bumped whenever port membership or link state changes, so tests can tell "membership
    /// stable" periods apart.
    epoch: u64,
    /// The active-backup invariant is currently broken (report each breakage once).
    ab_violating: bool,
    /// What the bond is rebuilt from on a reboot.
    bond_mac: Option<EthernetAddress>,
    seed: u64,
    /// The 802.3ad active aggregator as last logged.
    active_agg: Option<AggregatorInfo>,
}

impl BondedHost {
    pub(crate) fn new(
        id: NodeId,
        name: &str,
        spec: HostSpec,
        now: Instant,
    ) -> Result<Self, BondError> {
        let bond = new_bond(now, spec.config, spec.bond_mac, spec.seed, spec.ip)?;
        let period = bond.config().miimon_period();
        Ok(Self {
            id,
            name: name.to_owned(),
            nics: spec.nics.iter().map(|(n, m)| Nic::new(n, *m)).collect(),
            ip: spec.ip,
            neighbors: Neighbors::default(),
            carrier: spec.carrier,
            miimon_phase: spec
                .miimon_phase
                .unwrap_or(Duration::from_micros(period.total_micros() / 2)),
            next_poll: None,
            stats: HostStats::default(),
            epoch: 0,
            ab_violating: false,
            bond_mac: spec.bond_mac,
            seed: spec.seed,
            active_agg: None,
            bond,
        })
    }

    /// Host name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The bond.
    pub fn bond(&self) -> &SimBond {
        &self.bond
    }

    /// The bond's MAC, which the host uses as source of its frames.
    pub fn mac(&self) -> EthernetAddress {
        self.bond.mac()
    }

    /// The host's IPv4 address.
    pub fn ip(&self) -> [u8; 4] {
        self.ip
    }

    /// The neighbour cache.
    pub fn neighbors(&self) -> &Neighbors {
        &self.neighbors
    }

    pub(crate) fn neighbors_mut(&mut self) -> &mut Neighbors {
        &mut self.neighbors
    }

    /// NICs, by index.
    pub fn nics(&self) -> &[Nic] {
        &self.nics
    }

    /// The NIC index of bond port `port`.
    pub fn nic_of(&self, port: PortId) -> Option<usize> {
        self.nics.iter().position(|n| n.port == Some(port))
    }

    /// The NIC index named `name`.
    pub fn nic_by_name(&self, name: &str) -> Option<usize> {
        self.nics.iter().position(|n| n.name == name)
    }

    /// The NIC index of the bond's current active port.
    pub fn active_nic(&self) -> Option<usize> {
        self.bond.active_port().and_then(|p| self.nic_of(p))
    }

    /// Stack counters.
    pub fn stats(&self) -> &HostStats {
        &self.stats
    }

    /// How carrier changes reach the bond.
    pub fn carrier_delivery(&self) -> CarrierDelivery {
        self.carrier
    }

    /// The membership epoch (see the field's documentation).
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// When the next miimon poll happens, if the host polls.
    pub fn next_poll(&self) -> Option<Instant> {
        self.next_poll
    }

    fn port_label(&self, port: Option<PortId>) -> String {
        match port {
            None => "none".into(),
            Some(p) => self
                .nic_of(p)
                .map_or_else(|| p.to_string(), |i| self.nics[i].name.clone()),
        }
    }

    /// Enslave every NIC, in order, with the link it sees now; announce the host.
    pub(crate) fn start(&mut self, ctx: &mut Ctx, samples: &[LinkSample]) {
        for (nic, s) in self.nics.iter_mut().zip(samples) {
            nic.sample = *s;
        }
        for i in 0..self.nics.len() {
            self.add_port(ctx, i);
        }
        let period = self.bond.config().miimon_period();
        if self.carrier == CarrierDelivery::Miimon && !period.is_zero() {
            let mut t = Instant::ZERO + self.miimon_phase;
            while t < ctx.now {
                t += period;
            }
            self.next_poll = Some(t);
        }
        let garp = build_gratuitous_arp(self.mac(), self.ip);
        self.send(ctx, &garp);
    }

    /// The PHY of NIC `nic` now reads `sample`.
    pub(crate) fn set_link(&mut self, ctx: &mut Ctx, nic: usize, sample: LinkSample) {
        self.nics[nic].sample = sample;
        if self.carrier == CarrierDelivery::Events {
            self.report_link(ctx, nic);
        }
    }

    /// Tell the bond what NIC `nic`'s PHY reads now.
    fn report_link(&mut self, ctx: &mut Ctx, nic: usize) {
        let n = &mut self.nics[nic];
        let Some(port) = n.port else { return };
        let up = n.sample.up;
        if n.reported != Some(up) {
            n.reported_up_since = up.then_some(ctx.now);
        }
        n.reported = Some(up);
        let sample = n.sample;
        self.bond.handle_link(ctx.now, port, sample);
        self.drain(ctx);
    }

    /// Earliest instant this host needs attention for timers (bond timeout or miimon poll).
    pub(crate) fn next_wake(&self) -> Option<Instant> {
        match (self.bond.poll_timeout(), self.next_poll) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Run the miimon poll if due. Returns whether it ran.
    pub(crate) fn poll_mii(&mut self, ctx: &mut Ctx) -> bool {
        let Some(due) = self.next_poll.filter(|t| *t <= ctx.now) else {
            return false;
        };
        for i in 0..self.nics.len() {
            self.report_link(ctx, i);
        }
        self.next_poll = Some(due + self.bond.config().miimon_period());
        true
    }

    /// Call `handle_timeout` if the bond asked for it. Returns whether it was called.
    pub(crate) fn handle_timeout(&mut self, ctx: &mut Ctx) -> bool {
        if self.bond.poll_timeout().is_none_or(|t| t > ctx.now) {
            return false;
        }
        self.bond.handle_timeout(ctx.now);
        self.drain(ctx);
        if let Some(t) = self.bond.poll_timeout().filter(|t| *t <= ctx.now) {
            ctx.violation(
                ViolationKind::TimeoutInPast,
                format!(
                    "{}: poll_timeout() = {t} after handle_timeout({})",
                    self.name, ctx.now
                ),
            );
        }
        true
    }

    /// Send a frame through the bond. Returns the NICs the bond chose (bit `i` = NIC `i`);
    /// 0 means the bond dropped it.
    pub(crate) fn send(&mut self, ctx: &mut Ctx, frame: &[u8]) -> u32 {
        let verdict = self.bond.select_tx(ctx.now, frame);
        let mut mask = 0;
        let mut put = |host: &mut Self, port: PortId| {
            if let Some(i) = host.nic_of(port) {
                mask |= 1 << i;
                host.check_port_up(ctx, i, "data frame");
                host.emit(ctx, i, frame.to_vec());
            }
        };
        match verdict {
            TxVerdict::Port(p) => put(self, p),
            TxVerdict::Ports(set) => set.iter().for_each(|p| put(self, p)),
            _ => self.stats.app_dropped_by_bond += 1,
        }
        self.drain(ctx);
        mask
    }

    /// Send an application frame (counts it as such).
    pub(crate) fn send_app(&mut self, ctx: &mut Ctx, frame: &[u8]) -> u32 {
        self.stats.app_sent += 1;
        self.send(ctx, frame)
    }

    fn check_port_up(&self, ctx: &mut Ctx, nic: usize, what: &str) {
        if self.nics[nic].reported == Some(false) {
            ctx.violation(
                ViolationKind::TxOnDownPort,
                format!(
                    "{}: bond chose {} for a {what} although it was told the carrier is down",
                    self.name, self.nics[nic].name
                ),
            );
        }
    }

    /// Hand a frame to NIC `nic`; a NIC without carrier cannot send it.
    fn emit(&mut self, ctx: &mut Ctx, nic: usize, frame: Vec<u8>) {
        let n = &mut self.nics[nic];
        if !n.sample.up {
            self.stats.tx_no_carrier += 1;
            return;
        }
        n.count_tx(frame.len());
        ctx.out.push((nic, frame));
    }

    /// A frame arrived at NIC `nic`.
    pub(crate) fn receive(&mut self, ctx: &mut Ctx, nic: usize, frame: &[u8]) {
        if !self.nics[nic].accepts(frame) {
            self.stats.rx_filtered += 1;
            return;
        }
        self.nics[nic].count_rx(frame.len());
        let Some(port) = self.nics[nic].port else {
            self.stats.rx_not_in_bond += 1;
            return;
        };
        match self.bond.handle_rx(ctx.now, port, frame) {
            RxVerdict::Deliver => {
                let own = self.bond.mac();
                stack_receive(ctx, &mut self.stats, &mut self.neighbors, own, nic, frame);
            }
            RxVerdict::PassToPort => self.stats.rx_pass_to_port += 1,
            RxVerdict::Consumed => self.stats.rx_consumed += 1,
            _ => self.stats.rx_dropped_by_bond += 1,
        }
        self.drain(ctx);
    }

    /// Enslave NIC `nic` with the link its PHY reads now.
    pub(crate) fn add_port(&mut self, ctx: &mut Ctx, nic: usize) {
        let n = &self.nics[nic];
        if n.port.is_some() {
            return;
        }
        let Some(cfg) = PortConfig::new(&n.name, n.perm_mac, n.sample) else {
            panic!("{}: invalid NIC name {:?}", self.name, n.name);
        };
        match self.bond.add_port(ctx.now, &cfg) {
            Ok(port) => {
                let n = &mut self.nics[nic];
                n.port = Some(port);
                n.slow.new_port();
                n.reported = Some(n.sample.up);
                n.reported_up_since = n.sample.up.then_some(ctx.now);
                self.epoch += 1;
                let text = format!("{}: {} joins the bond ({port})", self.name, n.name);
                ctx.log(
                    LogKind::Membership {
                        host: self.id,
                        nic,
                        joined: true,
                    },
                    text,
                );
            }
            Err(e) => panic!("{}: cannot enslave {}: {e}", self.name, n.name),
        }
        self.drain(ctx);
    }

    /// Release NIC `nic` from the bond, restoring its MAC if the bond asks.
    pub(crate) fn remove_port(&mut self, ctx: &mut Ctx, nic: usize) {
        let Some(port) = self.nics[nic].port else {
            return;
        };
        let restore = self.bond.remove_port(ctx.now, port);
        // Drain while the NIC still maps to the port: the core queues the port's goodbye
        // LACPDU (Sync, Collecting, Distributing cleared) for it, and it must reach the wire.
        self.drain(ctx);
        let n = &mut self.nics[nic];
        n.port = None;
        n.reported = None;
        n.reported_up_since = None;
        if let Some(mac) = restore {
            n.mac = mac;
        }
        self.epoch += 1;
        let text = format!("{}: {} leaves the bond", self.name, n.name);
        ctx.log(
            LogKind::Membership {
                host: self.id,
                nic,
                joined: false,
            },
            text,
        );
        self.drain(ctx);
    }

    /// Run a command on the bond, then drain its outputs.
    pub(crate) fn command<R>(
        &mut self,
        ctx: &mut Ctx,
        f: impl FnOnce(&mut SimBond, Instant) -> R,
    ) -> R {
        let r = f(&mut self.bond, ctx.now);
        self.drain(ctx);
        r
    }

    /// Drain the bond's outputs in the documented order: actions, control frames, events.
    fn drain(&mut self, ctx: &mut Ctx) {
        while let Some(action) = self.bond.poll_action() {
            match action {
                Action::SetPortMac { port, mac } => {
                    if let Some(i) = self.nic_of(port) {
                        self.nics[i].mac = mac;
                        let text = format!("{}: {} MAC set to {mac}", self.name, self.nics[i].name);
                        ctx.log(
                            LogKind::PortMac {
                                host: self.id,
                                nic: i,
                                mac,
                            },
                            text,
                        );
                    }
                }
                Action::SetBondMac { mac } => {
                    let text = format!("{}: bond0 MAC is {mac}", self.name);
                    ctx.log(LogKind::BondMac { host: self.id, mac }, text);
                }
                other => {
                    let text = format!("{}: unhandled bond action {other:?}", self.name);
                    ctx.log(
                        LogKind::BondMac {
                            host: self.id,
                            mac: self.bond.mac(),
                        },
                        text,
                    );
                }
            }
        }
        let mut buf = [0u8; MIN_TRANSMIT_BUF];
        while let Some(t) = self.bond.poll_transmit(ctx.now, &mut buf) {
            self.stats.control_sent += 1;
            if let Some(i) = self.nic_of(t.port) {
                self.check_port_up(ctx, i, "control frame");
                let frame = &buf[..t.len];
                if let Err((kind, text)) = self.nics[i].slow.record(ctx.now, frame) {
                    let text = format!("{}: {}: {text}", self.name, self.nics[i].name);
                    ctx.violation(kind, text);
                }
                self.emit(ctx, i, frame.to_vec());
            }
        }
        while let Some(event) = self.bond.poll_event() {
            if matches!(
                event,
                Event::LinkChanged { .. } | Event::ActiveChanged { .. }
            ) {
                self.epoch += 1;
            }
            let text = self.describe(event);
            ctx.log(
                LogKind::Bond {
                    host: self.id,
                    event,
                },
                text,
            );
        }
        self.log_active_aggregator(ctx);
    }

    /// Log a change of the 802.3ad active aggregator, or of its ports or partner (the core has
    /// no event for it).
    fn log_active_aggregator(&mut self, ctx: &mut Ctx) {
        if self.bond.config().mode != Mode::Lacp {
            return;
        }
        let agg = self.bond.active_aggregator();
        if agg == self.active_agg {
            return;
        }
        self.active_agg = agg;
        let id = agg.map(|a| a.id);
        let text = match agg {
            Some(a) if a.partner_system == EthernetAddress::ZERO => format!(
                "{}: active aggregator {} ({} port(s), key {}, no partner)",
                self.name, a.id, a.ports, a.actor_key
            ),
            Some(a) => format!(
                "{}: active aggregator {} ({} port(s), key {}, partner {} key {})",
                self.name, a.id, a.ports, a.actor_key, a.partner_system, a.partner_key
            ),
            None => format!("{}: no active aggregator", self.name),
        };
        ctx.log(LogKind::ActiveAggregator { host: self.id, id }, text);
    }

    /// Restart the bond from scratch with `ad_actor_system = actor_system`: a new [`SimBond`]
    /// built like the first, every NIC back to its burned-in MAC and enslaved again.
    pub(crate) fn reboot(&mut self, ctx: &mut Ctx, actor_system: EthernetAddress) {
        let mut config = self.bond.config().clone();
        config.ad_actor_system = actor_system;
        self.bond = new_bond(ctx.now, config, self.bond_mac, self.seed, self.ip)
            .unwrap_or_else(|e| panic!("{}: bond refused after reboot: {e}", self.name));
        for n in &mut self.nics {
            n.port = None;
            n.reported = None;
            n.reported_up_since = None;
            n.mac = n.perm_mac;
        }
        self.active_agg = None;
        self.epoch += 1;
        for i in 0..self.nics.len() {
            self.add_port(ctx, i);
        }
    }

    fn describe(&self, event: Event) -> String {
        let who = &self.name;
        match event {
            Event::LinkChanged { port, state } => {
                format!(
                    "{who}: {} link {}",
                    self.port_label(Some(port)),
                    state.name()
                )
            }
            Event::ActiveChanged { old, new } => format!(
                "{who}: active port {} -> {}",
                self.port_label(old),
                self.port_label(new)
            ),
            Event::CarrierChanged { up } => {
                format!("{who}: bond0 carrier {}", if up { "up" } else { "down" })
            }
            Event::McastRejoin => format!("{who}: multicast rejoin requested (resend_igmp)"),
            Event::NoLinkMonitoring => format!(
                "{who}: WARNING: no link monitoring (miimon=0): link failures will not be detected"
            ),
            Event::EventsLost { count } => format!("{who}: {count} bond events lost"),
            Event::LacpMuxChanged { port, state } => {
                format!("{who}: {} mux {state:?}", self.port_label(Some(port)))
            }
            Event::LacpFallback { port: Some(p) } => format!(
                "{who}: lacp_fallback: no LACP partner heard, {} alone carries traffic",
                self.port_label(Some(p))
            ),
            Event::LacpFallback { port: None } => {
                format!("{who}: lacp_fallback stands down: LACP is in charge")
            }
            other => format!("{who}: {other:?}"),
        }
    }

    /// Check the active-backup invariants: at most one active port, and exactly one once some
    /// port has been reported up for `updelay`. Each breakage is reported once.
    pub(crate) fn check_invariants(&mut self, ctx: &mut Ctx) {
        if self.bond.config().mode != Mode::ActiveBackup {
            return;
        }
        let active = self
            .bond
            .ports()
            .filter(|&p| self.bond.port(p).is_some_and(|s| s.active))
            .count();
        let updelay = self.bond.config().updelay();
        let qualifies = self.nics.iter().any(|n| {
            n.port.is_some()
                && n.reported_up_since
                    .is_some_and(|since| since + updelay <= ctx.now)
        });
        let broken = if active > 1 {
            Some((
                ViolationKind::MultipleActive,
                format!("{}: {active} ports active", self.name),
            ))
        } else if qualifies && (active == 0 || self.bond.active_port().is_none()) {
            Some((
                ViolationKind::NoActive,
                format!(
                    "{}: no active port although a port has had carrier for updelay",
                    self.name
                ),
            ))
        } else {
            None
        };
        match broken {
            Some((kind, text)) if !self.ab_violating => {
                self.ab_violating = true;
                ctx.violation(kind, text);
            }
            Some(_) => {}
            None => self.ab_violating = false,
        }
    }
}

/// A host with one NIC and no bond: the far host of the seed's topologies.
#[derive(Debug)]
pub struct PlainHost {
    name: String,
    nic: Nic,
    ip: [u8; 4],
    neighbors: Neighbors,
    stats: HostStats,
}

impl PlainHost {
    pub(crate) fn new(name: &str, nic: &str, mac: EthernetAddress, ip: [u8; 4]) -> Self {
        Self {
            name: name.to_owned(),
            nic: Nic::new(nic, mac),
            ip,
            neighbors: Neighbors::default(),
            stats: HostStats::default(),
        }
    }

    /// Host name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its MAC.
    pub fn mac(&self) -> EthernetAddress {
        self.nic.mac
    }

    /// Its IPv4 address.
    pub fn ip(&self) -> [u8; 4] {
        self.ip
    }

    /// The neighbour cache.
    pub fn neighbors(&self) -> &Neighbors {
        &self.neighbors
    }

    pub(crate) fn neighbors_mut(&mut self) -> &mut Neighbors {
        &mut self.neighbors
    }

    /// Its NIC.
    pub fn nic(&self) -> &Nic {
        &self.nic
    }

    /// Stack counters.
    pub fn stats(&self) -> &HostStats {
        &self.stats
    }

    pub(crate) fn start(&mut self, ctx: &mut Ctx, sample: LinkSample) {
        self.nic.sample = sample;
        let garp = build_gratuitous_arp(self.nic.mac, self.ip);
        self.emit(ctx, garp);
    }

    pub(crate) fn set_link(&mut self, sample: LinkSample) {
        self.nic.sample = sample;
    }

    /// Send an application frame. Returns 1 if the NIC sent it, 0 if it had no carrier.
    pub(crate) fn send_app(&mut self, ctx: &mut Ctx, frame: &[u8]) -> u32 {
        self.stats.app_sent += 1;
        u32::from(self.emit(ctx, frame.to_vec()))
    }

    fn emit(&mut self, ctx: &mut Ctx, frame: Vec<u8>) -> bool {
        if !self.nic.sample.up {
            self.stats.tx_no_carrier += 1;
            return false;
        }
        self.nic.count_tx(frame.len());
        ctx.out.push((0, frame));
        true
    }

    pub(crate) fn receive(&mut self, ctx: &mut Ctx, frame: &[u8]) {
        if !self.nic.accepts(frame) {
            self.stats.rx_filtered += 1;
            return;
        }
        self.nic.count_rx(frame.len());
        stack_receive(
            ctx,
            &mut self.stats,
            &mut self.neighbors,
            self.nic.mac,
            0,
            frame,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(mode: Mode, links: [LinkSample; 2]) -> (BondedHost, Ctx) {
        let mut config = Config::default();
        config.mode = mode;
        config.miimon = 100;
        let spec = HostSpec {
            config,
            nics: vec![
                ("eth0".into(), EthernetAddress([2, 0, 0, 0, 0, 1])),
                ("eth1".into(), EthernetAddress([2, 0, 0, 0, 0, 2])),
            ],
            ip: [10, 0, 0, 1],
            bond_mac: None,
            carrier: CarrierDelivery::Events,
            miimon_phase: None,
            seed: 1,
        };
        let mut h = BondedHost::new(NodeId(0), "h", spec, Instant::ZERO).unwrap();
        let mut ctx = Ctx::new(Instant::ZERO);
        h.start(&mut ctx, &links);
        (h, Ctx::new(Instant::from_millis(1000)))
    }

    // The checks must be able to fire: feed the host a state the bond was never told about.

    #[test]
    fn tx_on_a_port_reported_down_is_a_violation() {
        let (mut h, mut ctx) = host(Mode::ActiveBackup, [LinkSample::up_full(1000); 2]);
        h.nics[0].reported = Some(false);
        h.send_app(&mut ctx, &build_gratuitous_arp(h.mac(), h.ip));
        assert_eq!(ctx.violations.len(), 1);
        assert_eq!(ctx.violations[0].kind, ViolationKind::TxOnDownPort);
    }

    #[test]
    fn active_backup_without_active_port_is_a_violation_once() {
        let (mut h, mut ctx) = host(Mode::ActiveBackup, [LinkSample::DOWN; 2]);
        h.check_invariants(&mut ctx);
        assert!(
            ctx.violations.is_empty(),
            "nothing has carrier: no active port is fine"
        );
        h.nics[1].reported = Some(true);
        h.nics[1].reported_up_since = Some(Instant::ZERO);
        h.check_invariants(&mut ctx);
        h.check_invariants(&mut ctx);
        assert_eq!(ctx.violations.len(), 1);
        assert_eq!(ctx.violations[0].kind, ViolationKind::NoActive);
    }

    #[test]
    fn nic_filter_follows_the_mac_the_bond_set() {
        let (h, _) = host(Mode::RoundRobin, [LinkSample::up_full(1000); 2]);
        let bond_mac = h.mac();
        // eth1 took the bond's MAC (eth0's, lent when eth0 joined first).
        assert_eq!(h.nics[1].mac(), bond_mac);
        let mut f = build_gratuitous_arp(bond_mac, [10, 0, 0, 2]);
        f[0..6].copy_from_slice(&bond_mac.0);
        assert!(h.nics[1].accepts(&f));
        f[0..6].copy_from_slice(&h.nics[1].perm_mac().0);
        assert!(!h.nics[1].accepts(&f));
    }
}
