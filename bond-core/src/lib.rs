//! A `no_std`, allocation-free, sans-IO implementation of Linux Ethernet bonding.
//!
//! The crate owns no clock, socket, allocator or thread. The caller feeds inputs (`handle_*`),
//! issues commands, and drains outputs (`poll_*`) after every input; every call that depends on
//! time takes `now`. The same code therefore runs in firmware, in a Linux daemon, in a
//! deterministic simulator and in a fuzzer. See [`Bond`] for the calling contract.
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
