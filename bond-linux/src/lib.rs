//! **Not implemented yet.** This crate will hold the Linux host front end: TAP and AF_PACKET
//! ports, carrier events, the `bondd` daemon and `bondctl` (DESIGN.md §4). Today it contains no
//! code; nothing here opens a socket.
