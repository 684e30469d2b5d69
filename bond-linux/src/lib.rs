//! The Linux host front end of bond-core: the `bondd` daemon and `bondctl`.
//!
//! `bondd` creates a TAP interface as the bond's face to the host (addresses go on it with
//! `ip addr`, as on a kernel bond), opens each member port with an `AF_PACKET` socket, follows
//! carrier through rtnetlink link events (with `miimon` polling as the fallback), programs
//! member MACs as Linux bonding does for the mode, and serves a control socket that `bondctl`
//! talks to. One thread, one `poll(2)` loop, the core's `poll_timeout` as its timer.
//!
//! Modules, from the system up:
//! - [`netdev`]: interface ioctls (index, MAC, flags, MTU, ethtool speed/duplex/link/permanent
//!   MAC);
//! - [`packet`]: a member port's `AF_PACKET` socket; [`tap`]: the TAP; [`vnet`]: the
//!   offload header both carry;
//! - [`isolate`]: keeping the kernel's IP stack off members;
//! - [`rtnl`]: carrier, TAP state and address events; [`lock`]: one daemon per port;
//!   [`port_state`]: what to restore on a port, kept on disk for after a SIGKILL;
//!   [`pcap`]: `--pcap` capture;
//! - [`control`]: the control protocol, server and client; [`status_json`]: `status --json`;
//! - [`daemon`]: start-up, the event loop, control requests, shutdown;
//! - [`ifcfg`]: reading bonds from initscripts/sysconfig files (`bondd --ifcfg`).

pub mod control;
pub mod daemon;
pub mod error;
pub mod ifcfg;
pub mod isolate;
pub mod lock;
pub mod netdev;
pub mod packet;
pub mod pcap;
pub mod port_state;
pub mod rtnl;
pub mod status_json;
pub mod tap;
pub mod vnet;

pub use daemon::{Daemon, DaemonConfig, Exit};
pub use error::{Error, Result};
