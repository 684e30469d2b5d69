//! IPv6 Neighbor Discovery: just what the bond emits, an unsolicited Neighbor Advertisement
//! (RFC 4861 §7.2.6), as Linux sends for peer notification.

use super::ethernet::{ethertype, EthernetAddress};

/// IPv6 header + NA (24 bytes) + target link-layer address option (8 bytes).
pub const PACKET_LEN: usize = 40 + 24 + 8;

/// Emit an unsolicited NA for `ip` from `mac` into `buf` (Ethernet header included, optionally
/// 802.1Q-tagged): to all-nodes ff02::1, hop limit 255, Override set, Solicited and Router
/// clear, with the target link-layer address option. Returns the frame length.
///
/// # Panics
/// If `buf` is shorter than 90 bytes (86 untagged).
pub fn emit_unsolicited_na(
    buf: &mut [u8],
    mac: EthernetAddress,
    ip: [u8; 16],
    vlan: Option<u16>,
) -> usize {
    const ALL_NODES: [u8; 16] = [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    const ALL_NODES_MAC: EthernetAddress = EthernetAddress([0x33, 0x33, 0, 0, 0, 1]);
    let off = super::emit_l2_header(buf, ALL_NODES_MAC, mac, vlan, ethertype::IPV6);
    let pkt = &mut buf[off..off + PACKET_LEN];
    pkt[0..4].copy_from_slice(&[0x60, 0, 0, 0]);
    pkt[4..6].copy_from_slice(&32u16.to_be_bytes());
    pkt[6] = 58; // ICMPv6
    pkt[7] = 255;
    pkt[8..24].copy_from_slice(&ip);
    pkt[24..40].copy_from_slice(&ALL_NODES);
    let icmp = &mut pkt[40..];
    icmp[0] = 136; // Neighbor Advertisement
    icmp[1] = 0;
    icmp[2..4].fill(0);
    icmp[4..8].copy_from_slice(&[0x20, 0, 0, 0]); // Override
    icmp[8..24].copy_from_slice(&ip);
    icmp[24] = 2; // target link-layer address
    icmp[25] = 1; // in units of 8 bytes
    icmp[26..32].copy_from_slice(&mac.0);
    let sum = checksum(&ip, &ALL_NODES, icmp);
    icmp[2..4].copy_from_slice(&sum.to_be_bytes());
    off + PACKET_LEN
}

/// The ICMPv6 checksum over the pseudo-header and `icmp` (whose checksum field is zero).
fn checksum(src: &[u8; 16], dst: &[u8; 16], icmp: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    let mut add = |bytes: &[u8]| {
        for pair in bytes.chunks(2) {
            let hi = u32::from(pair[0]) << 8;
            sum += hi | pair.get(1).map_or(0, |&b| u32::from(b));
        }
    };
    add(src);
    add(dst);
    add(&(icmp.len() as u32).to_be_bytes());
    add(&[0, 0, 0, 58]);
    add(icmp);
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn na_layout_and_checksum_verifies() {
        let mut buf = [0xa5u8; 96];
        let mac = EthernetAddress([0x02, 0, 0, 0, 0, 0x01]);
        let ip = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe, 0, 0, 1];
        let n = emit_unsolicited_na(&mut buf, mac, ip, None);
        assert_eq!(n, 86);
        assert_eq!(&buf[0..6], &[0x33, 0x33, 0, 0, 0, 1]);
        assert_eq!(&buf[12..14], &[0x86, 0xdd]);
        let icmp = &buf[54..86];
        assert_eq!(icmp[0], 136);
        // Summing with the checksum in place gives 0xffff, i.e. a complement of zero.
        let mut dst = [0u8; 16];
        dst.copy_from_slice(&buf[38..54]);
        assert_eq!(checksum(&ip, &dst, icmp), 0);
    }
}
