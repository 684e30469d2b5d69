//! 802.3ad in the simulator: a bonded host's LACP ports looked up by NIC, and two LACP bonds
//! cabled back to back over any number of links (the shape of a server and a switch, or of the
//! bond-demo's router and "switch" bond).

use bond_core::lacp::LacpPortStatus;
use bond_core::{Config, EthernetAddress, Instant};

use crate::host::{BondedHost, CarrierDelivery, HostSpec, MAX_PORTS};
use crate::link::{Endpoint, LinkParams, NodeId};
use crate::sim::{Sim, SimConfig};
use crate::topology::{Net, FAR_IP, ROUTER_IP};

impl BondedHost {
    /// The 802.3ad state of NIC `nic`'s bond port (`None` if the NIC is not in the bond).
    pub fn lacp_port(&self, nic: usize) -> Option<LacpPortStatus> {
        self.bond().lacp_port(self.nics().get(nic)?.port()?)
    }

    /// NICs whose Mux machine is collecting and distributing: negotiated with a partner.
    pub fn negotiated_nics(&self) -> Vec<usize> {
        (0..self.nics().len())
            .filter(|&i| self.lacp_port(i).is_some_and(|s| s.mux.is_distributing()))
            .collect()
    }

    /// NICs that carry traffic: negotiated, or enabled by Linux's partnerless-aggregator rule or
    /// by `lacp_fallback`.
    pub fn distributing_nics(&self) -> Vec<usize> {
        (0..self.nics().len())
            .filter(|&i| self.lacp_port(i).is_some_and(|s| s.distributing))
            .collect()
    }

    /// Every NIC in the bond has negotiated collecting and distributing.
    pub fn all_negotiated(&self) -> bool {
        let in_bond = self.nics().iter().filter(|n| n.port().is_some()).count();
        in_bond > 0 && self.negotiated_nics().len() == in_bond
    }
}

/// Whether every NIC of every host in `hosts` has negotiated collecting and distributing.
pub fn all_negotiated(sim: &Sim, hosts: &[NodeId]) -> bool {
    hosts.iter().all(|&h| sim.bonded(h).all_negotiated())
}

/// MAC of the router's NIC `i` (eth0 and eth1 are [`crate::topology::ROUTER_MACS`]).
pub fn router_mac(i: usize) -> EthernetAddress {
    EthernetAddress([0x52, 0x54, 0x00, 0x4d, 0x77, 0xd3 + i as u8])
}

/// MAC of the peer's NIC `i` (eth0 and eth1 are [`crate::topology::PEER_MACS`]).
pub fn peer_mac(i: usize) -> EthernetAddress {
    EthernetAddress([0x52, 0x54, 0x00, 0xaa, 0xbb, 0x01 + i as u8])
}

/// A bonded host with NICs `eth0`, `eth1`, ... carrying `macs`, carrier delivered as events.
pub fn host_spec(config: Config, macs: &[EthernetAddress], ip: [u8; 4], seed: u64) -> HostSpec {
    HostSpec {
        config,
        nics: macs
            .iter()
            .enumerate()
            .map(|(i, m)| (format!("eth{i}"), *m))
            .collect(),
        ip,
        bond_mac: None,
        carrier: CarrierDelivery::Events,
        miimon_phase: None,
        seed,
    }
}

/// Two LACP bonds, "router" and a peer (by default called "peer"), NIC `i` cabled to NIC `i`.
#[derive(Debug, Clone)]
pub struct LacpPair {
    /// Simulator settings.
    pub sim: SimConfig,
    /// The router's bond configuration.
    pub router: Config,
    /// The peer's bond configuration.
    pub peer: Config,
    /// The peer's host name.
    pub peer_name: String,
    /// How carrier changes reach both bonds.
    pub carrier: CarrierDelivery,
    /// Links (and NICs per side), 1 to [`MAX_PORTS`].
    pub ports: usize,
    /// Every link's parameters.
    pub link: LinkParams,
    /// When the links get carrier. At [`Instant::ZERO`] they have it as the ports join;
    /// later, the ports join without carrier and the links come up together then.
    pub links_up_at: Instant,
}

impl LacpPair {
    /// `ports` links between bonds configured `router` and `peer`, up from the start.
    pub fn new(router: Config, peer: Config, ports: usize) -> Self {
        Self {
            sim: SimConfig::default(),
            router,
            peer,
            peer_name: "peer".into(),
            carrier: CarrierDelivery::Events,
            ports,
            link: LinkParams::default(),
            links_up_at: Instant::ZERO,
        }
    }

    /// Build the network. `Net::peer_links` and `Net::router_links` are the same links.
    ///
    /// # Panics
    /// If `ports` is out of range or a bond refuses its configuration.
    pub fn build(&self) -> Net {
        assert!(
            (1..=MAX_PORTS).contains(&self.ports),
            "1 to {MAX_PORTS} ports"
        );
        let mut sim = Sim::new(self.sim);
        let macs = |f: fn(usize) -> EthernetAddress| (0..self.ports).map(f).collect::<Vec<_>>();
        let seed = self.sim.seed;
        let spec = |config: &Config, macs: &[EthernetAddress], ip, seed| HostSpec {
            carrier: self.carrier,
            ..host_spec(config.clone(), macs, ip, seed)
        };
        let router = sim
            .add_bonded_host(
                "router",
                spec(&self.router, &macs(router_mac), ROUTER_IP, seed),
            )
            .unwrap_or_else(|e| panic!("router configuration refused: {e}"));
        let peer = sim
            .add_bonded_host(
                &self.peer_name,
                spec(&self.peer, &macs(peer_mac), FAR_IP, seed ^ 0x5eed),
            )
            .unwrap_or_else(|e| panic!("{} configuration refused: {e}", self.peer_name));
        let links: Vec<_> = (0..self.ports)
            .map(|i| sim.connect(Endpoint::new(router, i), Endpoint::new(peer, i), self.link))
            .collect();
        if self.links_up_at > Instant::ZERO {
            for &l in &links {
                sim.start_cut(l);
                sim.schedule(self.links_up_at, crate::Fault::LinkUp(l));
            }
        }
        Net {
            sim,
            router,
            peer,
            switches: vec![],
            router_links: links.clone(),
            peer_links: links,
            isl: None,
        }
    }
}
