//! A `no_std`, allocation-free, sans-IO implementation of Linux Ethernet bonding.
//!
//! The crate owns no clock, socket, allocator or thread. The caller feeds inputs (`handle_*`),
//! issues commands, and drains outputs (`poll_*`) after every input; every call that depends on
//! time takes `now`. The same code therefore runs in firmware, in a Linux daemon, in a
//! deterministic simulator and in a fuzzer. See [`Bond`] for the calling contract.
//!
//! ```
//! use bond_core::{Bond, Config, Instant, LinkSample, PortConfig, TxVerdict};
//!
//! let config = Config::parse("mode=active-backup miimon=100 updelay=200").unwrap();
//! let mut bond = Bond::<2>::new(Instant::ZERO, config, None, 0).unwrap();
//! let mac = "02:00:00:00:00:01".parse().unwrap();
//! let port = PortConfig::new("eth0", mac, LinkSample::up_full(1000)).unwrap();
//! let eth0 = bond.add_port(Instant::ZERO, &port).unwrap();
//! // After every input: drain poll_action (MAC changes), poll_transmit (control frames),
//! // poll_event, then sleep until poll_timeout and call handle_timeout.
//! let frame = [0u8; 60];
//! assert_eq!(bond.select_tx(Instant::from_millis(1), &frame), TxVerdict::Port(eth0));
//! ```
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(all(feature = "defmt", feature = "log"))]
compile_error!("features `defmt` and `log` are mutually exclusive");

#[macro_use]
mod fmt;

pub mod bond;
pub mod config;
pub mod event;
pub mod hash;
pub mod lacp;
pub mod options;
pub mod port;
pub mod status;
pub mod time;
pub mod wire;

pub use bond::{
    Action, Bond, BondAddress, BondError, DropReason, IpAddress, RxVerdict, SetOptionError,
    Transmit, TxVerdict,
};
pub use config::{Config, IfName, Mode, XmitHashPolicy};
pub use event::Event;
pub use port::{Duplex, LinkSample, LinkState, PortConfig, PortId, PortSet};
pub use time::{Duration, Instant};
pub use wire::EthernetAddress;
