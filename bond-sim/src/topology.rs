//! The seed's topologies, ready to run.
//!
//! High availability (one host on two switches, an inter-switch link between them):
//! ```text
//!       +----------+   port2   ISL   port2   +----------+
//!       | switch A +-------------------------+ switch B |
//!       +--+----+--+                         +--+----+--+
//!    port1 |    | port3                  port1 |    | port3 (far host in the "on B" variant)
//!          |  far host                         |
//!          +------ eth0 [ router ] eth1 -------+
//! ```
//! Maximum throughput (both ports on one switch): router eth0 → port1, eth1 → port2, far host →
//! port3. Back to back: two bonded hosts, eth0–eth0 and eth1–eth1, no switch
//! ([`crate::lacp::LacpPair`] builds it for 802.3ad with any number of links).

use bond_core::{BondError, Config, Duration, EthernetAddress, Instant};

use crate::host::{BondedHost, CarrierDelivery, HostSpec};
use crate::link::{Endpoint, LinkId, LinkParams, NodeId};
use crate::sim::{Sim, SimConfig};
use crate::switch::{Learning, SwitchConfig};
use crate::traffic::{FlowId, FlowSpec};

/// The router's (bonded host's) NIC MACs; eth0's is the one in the seed's `ip a` output.
pub const ROUTER_MACS: [EthernetAddress; 2] = [
    EthernetAddress([0x52, 0x54, 0x00, 0x4d, 0x77, 0xd3]),
    EthernetAddress([0x52, 0x54, 0x00, 0x4d, 0x77, 0xd4]),
];
/// The router's address (the seed's bond0 address).
pub const ROUTER_IP: [u8; 4] = [192, 168, 1, 1];
/// The far host's MAC.
pub const FAR_MAC: EthernetAddress = EthernetAddress([0x0a, 0x00, 0x27, 0x00, 0x00, 0x1a]);
/// The peer bond's NIC MACs (back-to-back topology).
pub const PEER_MACS: [EthernetAddress; 2] = [
    EthernetAddress([0x52, 0x54, 0x00, 0xaa, 0xbb, 0x01]),
    EthernetAddress([0x52, 0x54, 0x00, 0xaa, 0xbb, 0x02]),
];
/// The far host's (or peer bond's) address (the seed's host-only adapter address).
pub const FAR_IP: [u8; 4] = [192, 168, 1, 2];

/// Which of the seed's networks to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topology {
    /// Router eth0 → switch A, eth1 → switch B, A–B inter-switch link, far host on A (or B).
    HighAvailability {
        /// Put the far host on switch B instead of A.
        far_on_b: bool,
    },
    /// Router eth0 and eth1 → one switch, far host on the same switch.
    Throughput,
    /// Two bonded hosts, eth0–eth0 and eth1–eth1, no switch.
    BackToBack,
}

/// Everything a topology needs besides its shape.
#[derive(Debug, Clone)]
pub struct Setup {
    /// Simulator settings.
    pub sim: SimConfig,
    /// The router's bond configuration.
    pub config: Config,
    /// The peer bond's configuration (back to back); `None` uses `config`.
    pub peer_config: Option<Config>,
    /// How carrier changes reach the bonds.
    pub carrier: CarrierDelivery,
    /// miimon poll phase (see [`HostSpec::miimon_phase`]).
    pub miimon_phase: Option<Duration>,
    /// Every link's parameters.
    pub link: LinkParams,
    /// The switches' learning policy.
    pub learning: Learning,
}

impl Setup {
    /// Default settings around bond configuration `config`.
    pub fn new(config: Config) -> Self {
        Self {
            sim: SimConfig::default(),
            config,
            peer_config: None,
            carrier: CarrierDelivery::Events,
            miimon_phase: None,
            link: LinkParams::default(),
            learning: Learning::Roam,
        }
    }
}

/// A built topology: the simulator and handles to its parts.
#[derive(Debug)]
pub struct Net {
    /// The simulator.
    pub sim: Sim,
    /// The bonded host ("router", the dual-port device under test).
    pub router: NodeId,
    /// The far host, or the peer bond (back to back).
    pub peer: NodeId,
    /// Switches: `[A, B]`, `[switch]`, or none.
    pub switches: Vec<NodeId>,
    /// The router's links, by NIC index (eth0, eth1).
    pub router_links: Vec<LinkId>,
    /// The peer's links, by NIC index.
    pub peer_links: Vec<LinkId>,
    /// The inter-switch link (high availability only).
    pub isl: Option<LinkId>,
}

impl Topology {
    /// The seed's high-availability topology, far host on switch A.
    pub fn high_availability() -> Self {
        Self::HighAvailability { far_on_b: false }
    }

    /// High availability with the far host on switch B.
    pub fn high_availability_far_on_b() -> Self {
        Self::HighAvailability { far_on_b: true }
    }

    /// The seed's maximum-throughput topology.
    pub fn throughput() -> Self {
        Self::Throughput
    }

    /// Two bonds over two direct links.
    pub fn back_to_back() -> Self {
        Self::BackToBack
    }

    /// Build the network.
    ///
    /// # Panics
    /// If `Bond::new` refuses the configuration; see [`Self::try_build`].
    pub fn build(self, setup: &Setup) -> Net {
        self.try_build(setup)
            .unwrap_or_else(|e| panic!("bond configuration refused: {e}"))
    }

    /// Build the network, or say why `Bond::new` refused the configuration.
    pub fn try_build(self, setup: &Setup) -> Result<Net, BondError> {
        let mut sim = Sim::new(setup.sim);
        let spec = |config: &Config, macs: [EthernetAddress; 2], ip, seed| HostSpec {
            config: config.clone(),
            nics: vec![("eth0".into(), macs[0]), ("eth1".into(), macs[1])],
            ip,
            bond_mac: None,
            carrier: setup.carrier,
            miimon_phase: setup.miimon_phase,
            seed,
        };
        let router = sim.add_bonded_host(
            "router",
            spec(&setup.config, ROUTER_MACS, ROUTER_IP, setup.sim.seed),
        )?;
        let switch_cfg = |ports| SwitchConfig {
            learning: setup.learning,
            ..SwitchConfig::new(ports)
        };
        let l = setup.link;
        let r = |nic| Endpoint::new(router, nic);
        Ok(match self {
            Self::HighAvailability { far_on_b } => {
                let a = sim.add_switch("A", switch_cfg(3));
                let b = sim.add_switch("B", switch_cfg(3));
                let far = sim.add_plain_host("far", "eth0", FAR_MAC, FAR_IP);
                let eth0 = sim.connect(r(0), Endpoint::new(a, 0), l);
                let eth1 = sim.connect(r(1), Endpoint::new(b, 0), l);
                let isl = sim.connect(Endpoint::new(a, 1), Endpoint::new(b, 1), l);
                let far_sw = if far_on_b { b } else { a };
                let far_link = sim.connect(Endpoint::new(far, 0), Endpoint::new(far_sw, 2), l);
                Net {
                    sim,
                    router,
                    peer: far,
                    switches: vec![a, b],
                    router_links: vec![eth0, eth1],
                    peer_links: vec![far_link],
                    isl: Some(isl),
                }
            }
            Self::Throughput => {
                let s = sim.add_switch("S", switch_cfg(3));
                let far = sim.add_plain_host("far", "eth0", FAR_MAC, FAR_IP);
                let eth0 = sim.connect(r(0), Endpoint::new(s, 0), l);
                let eth1 = sim.connect(r(1), Endpoint::new(s, 1), l);
                let far_link = sim.connect(Endpoint::new(far, 0), Endpoint::new(s, 2), l);
                Net {
                    sim,
                    router,
                    peer: far,
                    switches: vec![s],
                    router_links: vec![eth0, eth1],
                    peer_links: vec![far_link],
                    isl: None,
                }
            }
            Self::BackToBack => {
                let peer_cfg = setup.peer_config.as_ref().unwrap_or(&setup.config);
                let peer = sim.add_bonded_host(
                    "peer",
                    spec(peer_cfg, PEER_MACS, FAR_IP, setup.sim.seed ^ 0x5eed),
                )?;
                let l0 = sim.connect(r(0), Endpoint::new(peer, 0), l);
                let l1 = sim.connect(r(1), Endpoint::new(peer, 1), l);
                Net {
                    sim,
                    router,
                    peer,
                    switches: vec![],
                    router_links: vec![l0, l1],
                    peer_links: vec![l0, l1],
                    isl: None,
                }
            }
        })
    }
}

impl Net {
    /// Add `n` flows each way between router and peer, one frame per `interval` each, their
    /// start times spread evenly over one interval from 10 ms on, so the aggregate is smooth.
    /// Flow `i` uses UDP ports 40000+i → 5001+i (router → peer) and 41000+i → 6001+i (back).
    /// Returns (router → peer, peer → router) flow ids.
    pub fn add_flows(&mut self, n: usize, interval: Duration) -> (Vec<FlowId>, Vec<FlowId>) {
        self.add_flows_at(n, interval, Instant::from_millis(10))
    }

    /// [`Self::add_flows`] starting at `start` instead of 10 ms (after an 802.3ad bond has
    /// negotiated, for instance).
    pub fn add_flows_at(
        &mut self,
        n: usize,
        interval: Duration,
        start: Instant,
    ) -> (Vec<FlowId>, Vec<FlowId>) {
        let first = start;
        let mut out = (Vec::new(), Vec::new());
        for i in 0..n {
            let offset =
                Duration::from_micros(interval.total_micros() * i as u64 / n.max(1) as u64);
            let start = first + offset;
            let i16 = i as u16;
            let mut spec = FlowSpec::new(self.router, self.peer, 40000 + i16, 5001 + i16);
            spec.interval = interval;
            spec.start = start;
            out.0.push(self.sim.add_flow(spec));
            let mut spec = FlowSpec::new(self.peer, self.router, 41000 + i16, 6001 + i16);
            spec.interval = interval;
            spec.start = start;
            out.1.push(self.sim.add_flow(spec));
        }
        out
    }

    /// The router.
    pub fn router(&self) -> &BondedHost {
        self.sim.bonded(self.router)
    }
}
