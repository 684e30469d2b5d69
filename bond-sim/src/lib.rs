//! Deterministic simulation of bonds, links and switches in virtual time.
//!
//! `bond-sim` runs [`bond_core::Bond`] the way quinn-proto's tests run a connection pair: a
//! virtual clock that starts at [`Instant::ZERO`](bond_core::Instant::ZERO) and jumps from one
//! deadline to the next, links that are queues of `(arrival, frame)`, and no wall clock, sleep or
//! thread anywhere, so a run is a pure function of its set-up and seed.
//!
//! The pieces:
//! - [`sim`]: the event loop ([`Sim::step`], [`Sim::run_until`], [`Sim::run_for`]) and the
//!   invariant checks every run gets for free (no frame on a port the bond was told is down,
//!   `poll_timeout` never in the past, one active port in active-backup, every LACPDU decodes
//!   and no port sends more than three a second);
//! - [`link`]: full-duplex links with latency, seeded loss and carrier;
//! - [`switch`]: a MAC-learning switch (flooding, ageing, flush on link down, no forwarding of
//!   link-local frames);
//! - [`host`]: a bonded host (the bond plus a tiny host stack) and a plain one-NIC host;
//! - [`traffic`] and [`packet`]: constant-rate UDP flows whose payload carries (flow, seq), and
//!   the loss / duplicate / reordering / outage measurements made from them;
//! - [`faults`]: scheduled link cuts, flaps, silenced links (carrier up, nothing passes), switch
//!   failures, port removal and addition, bond restarts with a new LACP system ID;
//! - [`lacp`]: 802.3ad helpers (LACP port state by NIC, back-to-back LACP pairs of any width);
//! - [`scripted`]: scripted link partners (one that echoes LACPDUs, one that floods malformed
//!   Slow Protocols frames);
//! - [`slow`]: the checks every LACPDU a bond sends gets (it decodes, at most three a second);
//! - [`topology`]: the seed's high-availability and throughput networks, and back-to-back bonds;
//! - [`sar`]: per-interface counters printed like `sar -n DEV`;
//! - [`pcapng`]: a capture of every bond port with virtual timestamps;
//! - [`log`]: the timeline and the violations.
//!
//! ```
//! use bond_core::{Config, Duration, Instant, Mode};
//! use bond_sim::{Fault, Setup, Topology};
//!
//! let mut config = Config::default();
//! config.mode = Mode::ActiveBackup;
//! config.miimon = 100;
//! let mut net = Topology::high_availability().build(&Setup::new(config));
//! net.add_flows(2, Duration::from_millis(1));
//! net.sim.schedule(Instant::from_millis(500), Fault::LinkDown(net.router_links[0]));
//! net.sim.run_until(Instant::from_millis(1000));
//! assert_eq!(net.router().active_nic(), Some(1));
//! assert!(net.sim.violations().is_empty());
//! ```

pub mod faults;
pub mod host;
pub mod lacp;
pub mod link;
pub mod log;
mod node;
pub mod packet;
pub mod pcapng;
pub mod rng;
pub mod sar;
pub mod scripted;
pub mod sim;
pub mod slow;
pub mod switch;
pub mod topology;
pub mod traffic;

pub use faults::Fault;
pub use host::{BondedHost, CarrierDelivery, HostSpec, PlainHost, SimBond};
pub use link::{Endpoint, LinkId, LinkParams, NodeId};
pub use log::{LogEntry, LogKind, Violation, ViolationKind};
pub use sim::{Node, Sim, SimConfig};
pub use switch::{Learning, SwitchConfig};
pub use topology::{Net, Setup, Topology};
pub use traffic::{FlowId, FlowSpec, Outage};
