//! Wire formats, in smoltcp's style: checked views over byte slices; after `new_checked`
//! succeeds no accessor panics, and emit functions never panic on a buffer of the documented size.

pub mod ethernet;

pub use ethernet::{EthernetAddress, Frame as EthernetFrame, HEADER_LEN as ETHERNET_HEADER_LEN};
