//! The simulator: nodes, links, a virtual clock, and the event loop that drives them.
//!
//! Shaped like quinn-proto's test `Pair`, generalised to a network: [`Sim::step`] processes
//! everything due at the current instant (faults, frame arrivals, miimon polls, bond timeouts,
//! script timers, application traffic, `sar` samples — in that order, repeated until nothing is left at this
//! instant), then jumps the clock to the earliest future deadline. There is no wall clock, no
//! sleep and no thread; a run is a pure function of its set-up and seed.

use std::collections::{BTreeMap, BTreeSet};

use bond_core::{BondError, Duration, EthernetAddress, Instant, LinkSample};

use crate::faults::{Fault, FaultSchedule};
use crate::host::{BondedHost, HostSpec, IfCounters, PlainHost, SimBond};
use crate::link::{Endpoint, Link, LinkId, LinkParams, NodeId};
use crate::log::{LogEntry, LogKind, Violation};
use crate::node::Ctx;
use crate::packet::{build_udp, AppHeader, UdpAddrs};
use crate::pcapng::{Direction, PcapngWriter};
use crate::sar::{Sar, SarSource};
use crate::scripted::{Script, ScriptedNode};
use crate::switch::{Switch, SwitchConfig};
use crate::traffic::{outages, FlowId, FlowRecord, FlowSpec, Outage, Sent};

/// Simulator-wide settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimConfig {
    /// Seed for link loss (each link derives its own stream from it).
    pub seed: u64,
    /// Record a pcapng capture of every bonded host's NICs.
    pub capture: bool,
    /// `sar` sampling interval (`None`: no sampling).
    pub sar_interval: Option<Duration>,
    /// Panic at the first invariant violation (otherwise they are only recorded).
    pub strict: bool,
    /// Work items allowed at one instant before the run is declared stuck.
    pub max_steps_per_instant: u64,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            seed: 1,
            capture: false,
            sar_interval: Some(Duration::from_secs(1)),
            strict: true,
            max_steps_per_instant: 1_000_000,
        }
    }
}

/// A node of the network.
#[derive(Debug)]
pub enum Node {
    /// A host whose NICs form a bond (boxed: a bond is much larger than the other nodes).
    Bonded(Box<BondedHost>),
    /// A host with one NIC.
    Plain(PlainHost),
    /// A MAC-learning switch.
    Switch(Switch),
    /// A node that follows a script (an echoing or flooding partner).
    Scripted(ScriptedNode),
}

impl Node {
    /// The node's name.
    pub fn name(&self) -> &str {
        match self {
            Self::Bonded(h) => h.name(),
            Self::Plain(h) => h.name(),
            Self::Switch(s) => s.name(),
            Self::Scripted(s) => s.name(),
        }
    }

    /// A host: a node that sends and receives application traffic.
    fn is_host(&self) -> bool {
        matches!(self, Self::Bonded(_) | Self::Plain(_))
    }
}

/// The simulated network and its clock.
#[derive(Debug)]
pub struct Sim {
    cfg: SimConfig,
    now: Instant,
    started: bool,
    nodes: Vec<Node>,
    /// Per node, per port: the link plugged in there.
    attach: Vec<Vec<Option<LinkId>>>,
    links: Vec<Link>,
    faults: FaultSchedule,
    flows: Vec<FlowRecord>,
    log: Vec<LogEntry>,
    violations: Vec<Violation>,
    sar: Sar,
    pcap: Option<PcapngWriter>,
    pcap_ifaces: BTreeMap<Endpoint, u32>,
    /// Work done at the current instant (the no-progress guard).
    work_at_now: u64,
    /// Hosts whose `poll_timeout` stayed in the past at this instant (non-strict runs only).
    stuck: BTreeSet<NodeId>,
}

impl Sim {
    /// An empty network at `Instant::ZERO`.
    pub fn new(cfg: SimConfig) -> Self {
        Self {
            now: Instant::ZERO,
            started: false,
            nodes: Vec::new(),
            attach: Vec::new(),
            links: Vec::new(),
            faults: FaultSchedule::default(),
            flows: Vec::new(),
            log: Vec::new(),
            violations: Vec::new(),
            sar: Sar::new(cfg.sar_interval.unwrap_or(Duration::ZERO)),
            pcap: cfg.capture.then(PcapngWriter::new),
            pcap_ifaces: BTreeMap::new(),
            work_at_now: 0,
            stuck: BTreeSet::new(),
            cfg,
        }
    }

    // ---- building ---------------------------------------------------------------------------

    fn push_node(&mut self, node: Node, ports: usize) -> NodeId {
        assert!(!self.started, "add nodes before the simulation starts");
        self.nodes.push(node);
        self.attach.push(vec![None; ports]);
        NodeId(self.nodes.len() - 1)
    }

    /// Add a bonded host. Its NICs join the bond, in order, when the simulation starts.
    pub fn add_bonded_host(&mut self, name: &str, spec: HostSpec) -> Result<NodeId, BondError> {
        let id = NodeId(self.nodes.len());
        let host = BondedHost::new(id, name, spec, self.now)?;
        let nics: Vec<String> = host.nics().iter().map(|n| n.name().to_owned()).collect();
        let id = self.push_node(Node::Bonded(Box::new(host)), nics.len());
        if let Some(p) = self.pcap.as_mut() {
            for (i, nic) in nics.iter().enumerate() {
                let iface = p.add_interface(nic, &format!("{name} {nic} (bond port)"));
                self.pcap_ifaces.insert(Endpoint::new(id, i), iface);
            }
        }
        Ok(id)
    }

    /// Add a host with one NIC called `nic`.
    pub fn add_plain_host(
        &mut self,
        name: &str,
        nic: &str,
        mac: EthernetAddress,
        ip: [u8; 4],
    ) -> NodeId {
        self.push_node(Node::Plain(PlainHost::new(name, nic, mac, ip)), 1)
    }

    /// Add a switch.
    pub fn add_switch(&mut self, name: &str, config: SwitchConfig) -> NodeId {
        let id = NodeId(self.nodes.len());
        self.push_node(
            Node::Switch(Switch::new(id, name.to_owned(), config)),
            config.ports,
        )
    }

    /// Add a scripted node with `ports` ports.
    pub fn add_scripted(&mut self, name: &str, ports: usize, script: impl Script) -> NodeId {
        self.push_node(
            Node::Scripted(ScriptedNode::new(name, ports, Box::new(script))),
            ports,
        )
    }

    /// Plug a link between two free ports.
    ///
    /// # Panics
    /// If a port does not exist or already has a link.
    pub fn connect(&mut self, a: Endpoint, b: Endpoint, params: LinkParams) -> LinkId {
        let id = LinkId(self.links.len());
        for e in [a, b] {
            let slot = self.attach.get(e.node.0).and_then(|p| p.get(e.port));
            assert!(
                matches!(slot, Some(None)),
                "port {} is missing or taken",
                self.endpoint_name(e)
            );
        }
        let name = format!("{}-{}", self.endpoint_name(a), self.endpoint_name(b));
        let seed = self.cfg.seed ^ (id.0 as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        self.links.push(Link::new(name, a, b, params, seed));
        self.attach[a.node.0][a.port] = Some(id);
        self.attach[b.node.0][b.port] = Some(id);
        id
    }

    /// Add rows for `node` to the `sar` report: `bond0` and each NIC for a bonded host, the
    /// NIC for a plain host. Labels get `prefix` in front (use "" for a single host).
    pub fn watch_sar(&mut self, node: NodeId, prefix: &str) {
        match &self.nodes[node.0] {
            Node::Bonded(h) => {
                self.sar
                    .watch(format!("{prefix}bond0"), SarSource::Bond(node));
                for (i, n) in h.nics().iter().enumerate() {
                    self.sar
                        .watch(format!("{prefix}{}", n.name()), SarSource::Nic(node, i));
                }
            }
            Node::Plain(h) => self.sar.watch(
                format!("{prefix}{}", h.nic().name()),
                SarSource::Nic(node, 0),
            ),
            Node::Switch(_) | Node::Scripted(_) => {}
        }
    }

    /// Schedule a fault.
    pub fn schedule(&mut self, at: Instant, fault: Fault) {
        self.faults.add(at, fault);
    }

    /// Start with link `l` cut: it comes up with a [`Fault::LinkUp`]. Ports on it join their
    /// bonds without carrier.
    ///
    /// # Panics
    /// If the simulation has started.
    pub fn start_cut(&mut self, l: LinkId) {
        assert!(
            !self.started,
            "links start cut only before the simulation starts"
        );
        self.links[l.0].set_cut(true);
        self.links[l.0].set_carrier(false);
    }

    /// Add a traffic flow. Both ends must be hosts.
    pub fn add_flow(&mut self, spec: FlowSpec) -> FlowId {
        for n in [spec.from, spec.to] {
            assert!(self.nodes[n.0].is_host(), "flows run between hosts");
        }
        self.flows.push(FlowRecord::new(spec));
        FlowId(self.flows.len() - 1)
    }

    // ---- getters ----------------------------------------------------------------------------

    /// Current virtual time.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Settings.
    pub fn config(&self) -> &SimConfig {
        &self.cfg
    }

    /// A node.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.0]
    }

    /// A bonded host.
    ///
    /// # Panics
    /// If `id` is not a bonded host.
    pub fn bonded(&self, id: NodeId) -> &BondedHost {
        match &self.nodes[id.0] {
            Node::Bonded(h) => h,
            n => panic!("{} is not a bonded host", n.name()),
        }
    }

    /// The bond of a bonded host.
    pub fn bond(&self, id: NodeId) -> &SimBond {
        self.bonded(id).bond()
    }

    /// A plain host.
    ///
    /// # Panics
    /// If `id` is not a plain host.
    pub fn plain(&self, id: NodeId) -> &PlainHost {
        match &self.nodes[id.0] {
            Node::Plain(h) => h,
            n => panic!("{} is not a plain host", n.name()),
        }
    }

    /// A switch.
    ///
    /// # Panics
    /// If `id` is not a switch.
    pub fn switch(&self, id: NodeId) -> &Switch {
        match &self.nodes[id.0] {
            Node::Switch(s) => s,
            n => panic!("{} is not a switch", n.name()),
        }
    }

    /// A scripted node.
    ///
    /// # Panics
    /// If `id` is not a scripted node.
    pub fn scripted(&self, id: NodeId) -> &ScriptedNode {
        match &self.nodes[id.0] {
            Node::Scripted(s) => s,
            n => panic!("{} is not a scripted node", n.name()),
        }
    }

    /// A link.
    pub fn link(&self, id: LinkId) -> &Link {
        &self.links[id.0]
    }

    /// A link, to change its parameters (before the start, or between steps).
    pub fn link_mut(&mut self, id: LinkId) -> &mut Link {
        &mut self.links[id.0]
    }

    /// All links.
    pub fn links(&self) -> &[Link] {
        &self.links
    }

    /// The link plugged into `end`.
    pub fn link_at(&self, end: Endpoint) -> Option<LinkId> {
        self.attach
            .get(end.node.0)?
            .get(end.port)
            .copied()
            .flatten()
    }

    /// A flow.
    pub fn flow(&self, id: FlowId) -> &FlowRecord {
        &self.flows[id.0]
    }

    /// All flows, by id.
    pub fn flows(&self) -> &[FlowRecord] {
        &self.flows
    }

    /// The timeline so far.
    pub fn log(&self) -> &[LogEntry] {
        &self.log
    }

    /// Invariant violations so far (always empty in strict mode, which panics instead).
    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    /// The `sar` samples.
    pub fn sar(&self) -> &Sar {
        &self.sar
    }

    /// The capture, if enabled.
    pub fn pcapng(&self) -> Option<&PcapngWriter> {
        self.pcap.as_ref()
    }

    /// Faults not applied yet.
    pub fn pending_faults(&self) -> usize {
        self.faults.len()
    }

    /// Outages of the traffic from `from` to `to` (all their flows together), ignoring frames
    /// sent in the last 10 ms, which may still be in flight.
    pub fn outages(&self, from: NodeId, to: NodeId) -> Vec<Outage> {
        let settled = Instant::from_micros(self.now.total_micros().saturating_sub(10_000));
        outages(
            self.flows
                .iter()
                .filter(|f| f.spec.from == from && f.spec.to == to),
            settled,
        )
    }

    /// Name of a port, e.g. `router.eth0` or `A.port1`.
    pub fn endpoint_name(&self, e: Endpoint) -> String {
        match &self.nodes[e.node.0] {
            Node::Bonded(h) => format!("{}.{}", h.name(), h.nics()[e.port].name()),
            Node::Plain(h) => format!("{}.{}", h.name(), h.nic().name()),
            Node::Switch(s) => s.port_name(e.port),
            Node::Scripted(s) => format!("{}.port{}", s.name(), e.port + 1),
        }
    }

    /// The MAC and IPv4 address a host sends from.
    fn host_addr(&self, id: NodeId) -> (EthernetAddress, [u8; 4]) {
        match &self.nodes[id.0] {
            Node::Bonded(h) => (h.mac(), h.ip()),
            Node::Plain(h) => (h.mac(), h.ip()),
            Node::Switch(_) | Node::Scripted(_) => unreachable!("flows run between hosts"),
        }
    }

    // ---- commands ---------------------------------------------------------------------------

    /// Run a command on the bond of `host` at the current instant (e.g. `set_active_port`),
    /// then drain and deliver its outputs.
    pub fn command<R>(&mut self, host: NodeId, f: impl FnOnce(&mut SimBond, Instant) -> R) -> R {
        self.start();
        let mut ctx = Ctx::new(self.now);
        let r = match &mut self.nodes[host.0] {
            Node::Bonded(h) => h.command(&mut ctx, f),
            n => panic!("{} is not a bonded host", n.name()),
        };
        self.dispatch(host, ctx);
        r
    }

    // ---- running ----------------------------------------------------------------------------

    /// Process everything due now, then jump to the next deadline. Returns `false` when nothing
    /// is scheduled any more (the clock stays put).
    pub fn step(&mut self) -> bool {
        self.start();
        self.process_due();
        match self.next_wake() {
            Some(t) => {
                self.advance_to(t);
                true
            }
            None => false,
        }
    }

    /// Run until the clock reads `t`, processing everything due up to and including `t`.
    pub fn run_until(&mut self, t: Instant) {
        self.start();
        self.process_due();
        while let Some(next) = self.next_wake().filter(|n| *n <= t) {
            self.advance_to(next);
            self.process_due();
        }
        if self.now < t {
            self.advance_to(t);
            self.process_due();
        }
    }

    /// Run for `d` of virtual time.
    pub fn run_for(&mut self, d: Duration) {
        self.run_until(self.now + d);
    }

    /// Run until `done` holds after everything due at some instant has been processed, and
    /// return that instant; `None` (the clock at `limit`) if it never held by `limit`. `done`
    /// is checked after every instant at which something happened, so the answer is exact.
    pub fn run_until_true(
        &mut self,
        limit: Instant,
        mut done: impl FnMut(&Self) -> bool,
    ) -> Option<Instant> {
        self.start();
        loop {
            self.process_due();
            if done(self) {
                return Some(self.now);
            }
            match self.next_wake().filter(|t| *t <= limit) {
                Some(t) => self.advance_to(t),
                None => {
                    self.run_until(limit);
                    return None;
                }
            }
        }
    }

    fn advance_to(&mut self, t: Instant) {
        assert!(
            t >= self.now,
            "time cannot go backwards ({} -> {t})",
            self.now
        );
        if t > self.now {
            self.work_at_now = 0;
            self.stuck.clear();
        }
        self.now = t;
    }

    /// Enslave ports, announce hosts and take the first `sar` sample (once).
    fn start(&mut self) {
        if self.started {
            return;
        }
        self.started = true;
        for i in 0..self.nodes.len() {
            let samples: Vec<LinkSample> = (0..self.attach[i].len())
                .map(|p| self.attach[i][p].map_or(LinkSample::DOWN, |l| self.links[l.0].sample()))
                .collect();
            let mut ctx = Ctx::new(self.now);
            match &mut self.nodes[i] {
                Node::Switch(s) => {
                    for (p, sample) in samples.iter().enumerate() {
                        s.set_carrier(p, sample.up);
                    }
                }
                Node::Scripted(s) => {
                    for (p, sample) in samples.iter().enumerate() {
                        s.set_carrier(p, sample.up);
                    }
                }
                Node::Bonded(h) => h.start(&mut ctx, &samples),
                Node::Plain(h) => h.start(&mut ctx, samples[0]),
            }
            self.dispatch(NodeId(i), ctx);
        }
        // Every host knows every other host, as if they had talked before; bonds have their
        // MAC by now (their ports joined above).
        let addrs: Vec<(NodeId, EthernetAddress, [u8; 4])> = (0..self.nodes.len())
            .filter(|&i| self.nodes[i].is_host())
            .map(|i| {
                let (mac, ip) = self.host_addr(NodeId(i));
                (NodeId(i), mac, ip)
            })
            .collect();
        for &(id, _, _) in &addrs {
            let cache = match &mut self.nodes[id.0] {
                Node::Bonded(h) => h.neighbors_mut(),
                Node::Plain(h) => h.neighbors_mut(),
                Node::Switch(_) | Node::Scripted(_) => continue,
            };
            for &(other, mac, ip) in &addrs {
                if other != id {
                    cache.insert(ip, mac);
                }
            }
        }
        if self.cfg.sar_interval.is_some() {
            self.take_sar_sample();
        }
    }

    /// Everything due at `now`, until nothing is.
    fn process_due(&mut self) {
        loop {
            let mut did = false;
            while let Some(f) = self.faults.pop_due(self.now) {
                self.apply_fault(f);
                self.tick_work();
                did = true;
            }
            did |= self.deliver_due();
            did |= self.run_due_hosts();
            did |= self.run_due_traffic();
            if !did {
                break;
            }
        }
        for i in 0..self.nodes.len() {
            if let Node::Bonded(h) = &mut self.nodes[i] {
                let mut ctx = Ctx::new(self.now);
                h.check_invariants(&mut ctx);
                self.dispatch(NodeId(i), ctx);
            }
        }
        if self.sar.next_due().is_some_and(|t| t <= self.now) {
            self.take_sar_sample();
        }
    }

    fn tick_work(&mut self) {
        self.work_at_now += 1;
        if self.work_at_now > self.cfg.max_steps_per_instant {
            panic!(
                "simulation makes no progress: more than {} steps at t={}",
                self.cfg.max_steps_per_instant, self.now
            );
        }
    }

    fn deliver_due(&mut self) -> bool {
        let mut did = false;
        for l in 0..self.links.len() {
            while let Some((to, frame)) = self.links[l].pop_due(self.now) {
                self.tick_work();
                did = true;
                self.deliver(to, &frame);
            }
        }
        did
    }

    fn deliver(&mut self, to: Endpoint, frame: &[u8]) {
        if let (Some(p), Some(iface)) = (self.pcap.as_mut(), self.pcap_ifaces.get(&to)) {
            p.packet(*iface, self.now, Direction::Inbound, frame);
        }
        let mut ctx = Ctx::new(self.now);
        match &mut self.nodes[to.node.0] {
            Node::Bonded(h) => h.receive(&mut ctx, to.port, frame),
            Node::Plain(h) => h.receive(&mut ctx, frame),
            Node::Switch(s) => s.receive(&mut ctx, to.port, frame),
            Node::Scripted(s) => s.receive(&mut ctx, to.port, frame),
        }
        self.dispatch(to.node, ctx);
    }

    /// miimon polls, bond timeouts and script timers that are due.
    fn run_due_hosts(&mut self) -> bool {
        let mut did = false;
        for i in 0..self.nodes.len() {
            if let Node::Scripted(s) = &mut self.nodes[i] {
                let mut ctx = Ctx::new(self.now);
                if s.wake(&mut ctx) {
                    self.tick_work();
                    did = true;
                }
                self.dispatch(NodeId(i), ctx);
                continue;
            }
            let Node::Bonded(h) = &mut self.nodes[i] else {
                continue;
            };
            let mut ctx = Ctx::new(self.now);
            let mut ran = h.poll_mii(&mut ctx);
            if !self.stuck.contains(&NodeId(i)) {
                ran |= h.handle_timeout(&mut ctx);
                if h.bond().poll_timeout().is_some_and(|t| t <= self.now) {
                    // Reported as a violation by the host; do not spin on it.
                    self.stuck.insert(NodeId(i));
                }
            }
            if ran {
                self.tick_work();
                did = true;
            }
            self.dispatch(NodeId(i), ctx);
        }
        did
    }

    fn run_due_traffic(&mut self) -> bool {
        let mut did = false;
        for i in 0..self.flows.len() {
            while let Some(seq) = self.flows[i].take_due(self.now) {
                self.tick_work();
                did = true;
                self.send_flow_frame(i, seq);
            }
        }
        did
    }

    fn send_flow_frame(&mut self, flow: usize, seq: u64) {
        let spec = self.flows[flow].spec;
        let (src_mac, src_ip) = self.host_addr(spec.from);
        let (real_mac, dst_ip) = self.host_addr(spec.to);
        // The sender addresses the frame with what its neighbour cache says.
        let cached = match &self.nodes[spec.from.0] {
            Node::Bonded(h) => h.neighbors().get(dst_ip),
            Node::Plain(h) => h.neighbors().get(dst_ip),
            Node::Switch(_) | Node::Scripted(_) => None,
        };
        let dst_mac = cached.unwrap_or(real_mac);
        let addrs = UdpAddrs {
            src_mac,
            dst_mac,
            src_ip,
            dst_ip,
            src_port: spec.src_port,
            dst_port: spec.dst_port,
        };
        let app = AppHeader {
            flow: flow as u32,
            seq,
            sent_at: self.now,
        };
        let frame = build_udp(&addrs, app, spec.payload_len);
        let mut ctx = Ctx::new(self.now);
        let (nics, epoch) = match &mut self.nodes[spec.from.0] {
            Node::Bonded(h) => (h.send_app(&mut ctx, &frame), h.epoch()),
            Node::Plain(h) => (h.send_app(&mut ctx, &frame), 0),
            Node::Switch(_) | Node::Scripted(_) => unreachable!("flows run between hosts"),
        };
        self.flows[flow].record_sent(Sent {
            at: self.now,
            nics,
            epoch,
        });
        self.dispatch(spec.from, ctx);
    }

    fn take_sar_sample(&mut self) {
        let counters: Vec<IfCounters> = self
            .sar
            .sources()
            .map(|src| match src {
                SarSource::Nic(n, i) => match &self.nodes[n.0] {
                    Node::Bonded(h) => *h.nics()[i].counters(),
                    Node::Plain(h) => *h.nic().counters(),
                    Node::Switch(_) | Node::Scripted(_) => IfCounters::default(),
                },
                SarSource::Bond(n) => {
                    let mut sum = IfCounters::default();
                    if let Node::Bonded(h) = &self.nodes[n.0] {
                        h.nics()
                            .iter()
                            .filter(|x| x.port().is_some())
                            .for_each(|x| sum.add(x.counters()));
                    }
                    sum
                }
            })
            .collect();
        self.sar.record(self.now, counters);
    }

    /// Earliest future instant at which something is due.
    fn next_wake(&self) -> Option<Instant> {
        let now = self.now;
        let hosts = self.nodes.iter().enumerate().filter_map(|(i, n)| match n {
            Node::Bonded(h) => h.next_wake().map(|t| {
                // A host stuck in the past gets retried a microsecond later.
                if t <= now && self.stuck.contains(&NodeId(i)) {
                    now + Duration::from_micros(1)
                } else {
                    t
                }
            }),
            Node::Scripted(s) => s.next_wake(),
            _ => None,
        });
        let links = self.links.iter().filter_map(Link::next_arrival);
        let flows = self.flows.iter().filter_map(|f| f.next_send);
        hosts
            .chain(links)
            .chain(flows)
            .chain(self.faults.next_due())
            .chain(self.sar.next_due())
            .min()
            .map(|t| t.max(now))
    }

    // ---- faults and carrier -----------------------------------------------------------------

    fn apply_fault(&mut self, fault: Fault) {
        let text = match fault {
            Fault::LinkDown(l) => format!("fault: link {} cut", self.links[l.0].name()),
            Fault::LinkUp(l) => format!("fault: link {} restored", self.links[l.0].name()),
            Fault::SwitchDown(n) => format!("fault: switch {} powered off", self.nodes[n.0].name()),
            Fault::SwitchUp(n) => format!("fault: switch {} powered on", self.nodes[n.0].name()),
            Fault::RemovePort { host, nic } => {
                format!(
                    "command: release {} from the bond",
                    self.endpoint_name(Endpoint::new(host, nic))
                )
            }
            Fault::AddPort { host, nic } => {
                format!(
                    "command: enslave {}",
                    self.endpoint_name(Endpoint::new(host, nic))
                )
            }
            Fault::Silence(l) => format!(
                "fault: link {} silenced (carrier stays up)",
                self.links[l.0].name()
            ),
            Fault::Unsilence(l) => {
                format!("fault: link {} passes frames again", self.links[l.0].name())
            }
            Fault::Reboot { host, actor_system } => format!(
                "fault: {} restarts its bond, LACP system ID now {actor_system}",
                self.nodes[host.0].name()
            ),
            Fault::Flap { .. } => unreachable!("flaps are expanded when scheduled"),
        };
        self.log.push(LogEntry {
            at: self.now,
            kind: LogKind::Fault(fault),
            text,
        });
        match fault {
            Fault::LinkDown(l) | Fault::LinkUp(l) => {
                self.links[l.0].set_cut(matches!(fault, Fault::LinkDown(_)));
                self.refresh_carrier(l);
            }
            Fault::SwitchDown(n) | Fault::SwitchUp(n) => {
                let Node::Switch(s) = &mut self.nodes[n.0] else {
                    panic!("{} is not a switch", self.nodes[n.0].name())
                };
                s.set_powered(matches!(fault, Fault::SwitchUp(_)));
                let links: Vec<LinkId> = self.attach[n.0].iter().flatten().copied().collect();
                for l in links {
                    self.refresh_carrier(l);
                }
            }
            Fault::RemovePort { host, nic } | Fault::AddPort { host, nic } => {
                let mut ctx = Ctx::new(self.now);
                let Node::Bonded(h) = &mut self.nodes[host.0] else {
                    panic!("{} is not a bonded host", self.nodes[host.0].name())
                };
                if matches!(fault, Fault::AddPort { .. }) {
                    h.add_port(&mut ctx, nic);
                } else {
                    h.remove_port(&mut ctx, nic);
                }
                self.dispatch(host, ctx);
            }
            Fault::Silence(l) | Fault::Unsilence(l) => {
                self.links[l.0].set_silent(matches!(fault, Fault::Silence(_)));
            }
            Fault::Reboot { host, actor_system } => {
                let mut ctx = Ctx::new(self.now);
                let Node::Bonded(h) = &mut self.nodes[host.0] else {
                    panic!("{} is not a bonded host", self.nodes[host.0].name())
                };
                h.reboot(&mut ctx, actor_system);
                self.dispatch(host, ctx);
            }
            Fault::Flap { .. } => {}
        }
    }

    fn powered(&self, n: NodeId) -> bool {
        match &self.nodes[n.0] {
            Node::Switch(s) => s.is_powered(),
            _ => true,
        }
    }

    /// Recompute a link's carrier; on a change, both ends learn it at this instant.
    fn refresh_carrier(&mut self, l: LinkId) {
        let ends = self.links[l.0].ends();
        let up = !self.links[l.0].is_cut() && ends.iter().all(|e| self.powered(e.node));
        if !self.links[l.0].set_carrier(up) {
            return;
        }
        let text = format!(
            "link {}: carrier {}",
            self.links[l.0].name(),
            if up { "up" } else { "down" }
        );
        self.log.push(LogEntry {
            at: self.now,
            kind: LogKind::Carrier { link: l, up },
            text,
        });
        let sample = self.links[l.0].sample();
        for e in ends {
            let mut ctx = Ctx::new(self.now);
            match &mut self.nodes[e.node.0] {
                Node::Switch(s) => s.set_carrier(e.port, up),
                Node::Scripted(s) => s.set_carrier(e.port, up),
                Node::Bonded(h) => h.set_link(&mut ctx, e.port, sample),
                Node::Plain(h) => h.set_link(sample),
            }
            self.dispatch(e.node, ctx);
        }
    }

    // ---- outputs ----------------------------------------------------------------------------

    /// Put a node's outputs into the world: frames on links, entries in the log, deliveries in
    /// the flow records, violations in the list (or a panic in strict mode).
    fn dispatch(&mut self, node: NodeId, ctx: Ctx) {
        self.log.extend(ctx.log);
        for d in ctx.delivered {
            if let Some(f) = self
                .flows
                .get_mut(d.flow as usize)
                .filter(|f| f.spec.to == node)
            {
                f.record_received(d.seq, self.now, d.nic);
            }
        }
        for v in ctx.violations {
            if self.cfg.strict {
                panic!("invariant violated: {v}");
            }
            self.violations.push(v);
        }
        for (port, frame) in ctx.out {
            self.transmit(Endpoint::new(node, port), frame);
        }
    }

    fn transmit(&mut self, from: Endpoint, frame: Vec<u8>) {
        let Some(l) = self.link_at(from) else { return };
        let link = &mut self.links[l.0];
        if !link.carrier() {
            // Nodes check their own carrier first; a switch may race with a power-off.
            return;
        }
        if let (Some(p), Some(iface)) = (self.pcap.as_mut(), self.pcap_ifaces.get(&from)) {
            p.packet(*iface, self.now, Direction::Outbound, &frame);
        }
        let side = link
            .side_of(from)
            .unwrap_or_else(|| unreachable!("attach table out of sync"));
        link.send(self.now, side, frame);
    }
}
