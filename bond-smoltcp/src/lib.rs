//! **Not implemented yet.** This crate will expose a bond of N member devices as one smoltcp
//! `phy::Device` and as one embassy-net-driver `Driver` (see DESIGN.md §2). Today it contains no
//! adapter; use `bond_core::Bond` directly.
#![no_std]
