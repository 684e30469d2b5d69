//! Wire formats, in smoltcp's style: checked views over byte slices; after `new_checked`
//! succeeds no accessor panics, and emit functions never panic on a buffer of the documented size.

pub mod arp;
pub mod ethernet;
pub mod lacp;
pub mod marker;
pub mod ndisc;
pub mod slow;

pub use ethernet::{EthernetAddress, Frame as EthernetFrame, HEADER_LEN as ETHERNET_HEADER_LEN};
pub use lacp::{LacpduPacket, LacpduRepr};
pub use marker::{MarkerPacket, MarkerRepr};
pub use slow::{Error as SlowError, SlowFrame};

/// Length of an 802.1Q tag.
pub const VLAN_TAG_LEN: usize = 4;

/// Write an Ethernet header, with an 802.1Q tag when `vlan` is set; returns its length.
fn emit_l2_header(
    buf: &mut [u8],
    dst: EthernetAddress,
    src: EthernetAddress,
    vlan: Option<u16>,
    ethertype: u16,
) -> usize {
    match vlan {
        None => {
            ethernet::emit_header(buf, dst, src, ethertype);
            ETHERNET_HEADER_LEN
        }
        Some(vid) => {
            ethernet::emit_header(buf, dst, src, ethernet::ethertype::VLAN);
            buf[14..16].copy_from_slice(&(vid & 0x0fff).to_be_bytes());
            buf[16..18].copy_from_slice(&ethertype.to_be_bytes());
            ETHERNET_HEADER_LEN + VLAN_TAG_LEN
        }
    }
}
