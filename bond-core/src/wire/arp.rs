//! ARP (RFC 826) over Ethernet/IPv4: just what the bond emits, a gratuitous ARP request.

use super::ethernet::{ethertype, EthernetAddress};

/// Length of an Ethernet/IPv4 ARP packet.
pub const PACKET_LEN: usize = 28;

/// Emit a gratuitous ARP request for `ip` from `mac` into `buf` (Ethernet header included,
/// optionally 802.1Q-tagged with `vlan`), as Linux does for peer notification: broadcast
/// destination, sender and target IP both `ip`, target MAC all zeros. Returns the frame length.
///
/// # Panics
/// If `buf` is shorter than 46 bytes (42 untagged).
pub fn emit_gratuitous(
    buf: &mut [u8],
    mac: EthernetAddress,
    ip: [u8; 4],
    vlan: Option<u16>,
) -> usize {
    let off = super::emit_l2_header(buf, EthernetAddress::BROADCAST, mac, vlan, ethertype::ARP);
    let arp = &mut buf[off..off + PACKET_LEN];
    arp[0..2].copy_from_slice(&1u16.to_be_bytes()); // hardware: Ethernet
    arp[2..4].copy_from_slice(&ethertype::IPV4.to_be_bytes());
    arp[4] = 6;
    arp[5] = 4;
    arp[6..8].copy_from_slice(&1u16.to_be_bytes()); // request
    arp[8..14].copy_from_slice(&mac.0);
    arp[14..18].copy_from_slice(&ip);
    arp[18..24].fill(0);
    arp[24..28].copy_from_slice(&ip);
    off + PACKET_LEN
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gratuitous_request_bytes() {
        let mut buf = [0xa5u8; 64];
        let mac = EthernetAddress([0x02, 0, 0, 0, 0, 0x01]);
        let n = emit_gratuitous(&mut buf, mac, [192, 168, 1, 1], None);
        assert_eq!(n, 42);
        let expected: [u8; 42] = [
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 0x01, 0x08,
            0x06, // Ethernet
            0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, // htype, ptype, hlen, plen, op
            0x02, 0, 0, 0, 0, 0x01, 192, 168, 1, 1, // sender
            0, 0, 0, 0, 0, 0, 192, 168, 1, 1, // target
        ];
        assert_eq!(&buf[..n], &expected[..]);
    }

    #[test]
    fn tagged() {
        let mut buf = [0u8; 64];
        let n = emit_gratuitous(
            &mut buf,
            EthernetAddress([2, 0, 0, 0, 0, 1]),
            [10, 0, 0, 1],
            Some(0x0123),
        );
        assert_eq!(n, 46);
        assert_eq!(&buf[12..18], &[0x81, 0x00, 0x01, 0x23, 0x08, 0x06]);
    }
}
