//! The frames simulated hosts exchange: well-formed Ethernet II / IPv4 / UDP datagrams whose
//! payload carries a flow id, a sequence number and the virtual send time, so receivers can
//! measure loss, duplicates, reordering and latency, and so the bond's hash policies see real
//! headers. Also recognises the control frames the switch reports (gratuitous ARP, unsolicited
//! neighbour advertisements).

use bond_core::wire::{ethernet::ethertype, EthernetAddress, EthernetFrame};
use bond_core::Instant;

/// Ethernet header + IPv4 header + UDP header.
pub const HEADERS_LEN: usize = 14 + 20 + 8;
/// Bytes of the application header inside the UDP payload.
pub const APP_HEADER_LEN: usize = 24;
/// Shortest Ethernet frame without FCS; shorter frames are padded, as a NIC does.
pub const MIN_FRAME_LEN: usize = 60;
/// Marks a UDP payload as simulator traffic.
const MAGIC: [u8; 4] = *b"BSIM";
const IPPROTO_UDP: u8 = 17;

/// What the simulator writes at the start of every application payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppHeader {
    /// The flow (index into the simulator's flow table).
    pub flow: u32,
    /// Sequence number within the flow, from 0.
    pub seq: u64,
    /// Virtual time at which the sender's application handed the frame to its stack.
    pub sent_at: Instant,
}

/// Addresses of one UDP datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpAddrs {
    /// Source MAC.
    pub src_mac: EthernetAddress,
    /// Destination MAC.
    pub dst_mac: EthernetAddress,
    /// Source IPv4 address.
    pub src_ip: [u8; 4],
    /// Destination IPv4 address.
    pub dst_ip: [u8; 4],
    /// UDP source port.
    pub src_port: u16,
    /// UDP destination port.
    pub dst_port: u16,
}

/// Build an Ethernet/IPv4/UDP frame carrying `app` followed by zero padding, `payload_len`
/// bytes of UDP payload in all (at least [`APP_HEADER_LEN`]). Checksums are correct, so capture
/// tools show no warnings.
pub fn build_udp(addrs: &UdpAddrs, app: AppHeader, payload_len: usize) -> Vec<u8> {
    let payload_len = payload_len.max(APP_HEADER_LEN);
    let udp_len = 8 + payload_len;
    let ip_len = 20 + udp_len;
    let mut f = vec![0u8; (14 + ip_len).max(MIN_FRAME_LEN)];
    f[0..6].copy_from_slice(&addrs.dst_mac.0);
    f[6..12].copy_from_slice(&addrs.src_mac.0);
    f[12..14].copy_from_slice(&ethertype::IPV4.to_be_bytes());

    let ip = &mut f[14..34];
    ip[0] = 0x45;
    ip[2..4].copy_from_slice(&(ip_len as u16).to_be_bytes());
    // The IP identification is the low bits of the sequence number: unique enough for a capture.
    ip[4..6].copy_from_slice(&(app.seq as u16).to_be_bytes());
    ip[6] = 0x40; // don't fragment
    ip[8] = 64;
    ip[9] = IPPROTO_UDP;
    ip[12..16].copy_from_slice(&addrs.src_ip);
    ip[16..20].copy_from_slice(&addrs.dst_ip);
    let sum = checksum(0, ip);
    ip[10..12].copy_from_slice(&sum.to_be_bytes());

    let (udp, payload) = f[34..14 + ip_len].split_at_mut(8);
    udp[0..2].copy_from_slice(&addrs.src_port.to_be_bytes());
    udp[2..4].copy_from_slice(&addrs.dst_port.to_be_bytes());
    udp[4..6].copy_from_slice(&(udp_len as u16).to_be_bytes());
    payload[0..4].copy_from_slice(&MAGIC);
    payload[4..8].copy_from_slice(&app.flow.to_be_bytes());
    payload[8..16].copy_from_slice(&app.seq.to_be_bytes());
    payload[16..24].copy_from_slice(&app.sent_at.total_micros().to_be_bytes());

    // UDP checksum over the pseudo-header, the UDP header and the payload.
    let mut pseudo = [0u8; 12];
    pseudo[0..4].copy_from_slice(&addrs.src_ip);
    pseudo[4..8].copy_from_slice(&addrs.dst_ip);
    pseudo[9] = IPPROTO_UDP;
    pseudo[10..12].copy_from_slice(&(udp_len as u16).to_be_bytes());
    let partial = sum_words(sum_words(0, &pseudo), &f[34..34 + udp_len]);
    let sum = match fold(partial) {
        0 => 0xffff, // RFC 768: a computed zero is sent as all ones
        s => s,
    };
    f[40..42].copy_from_slice(&sum.to_be_bytes());
    f
}

/// The application header and addresses of a simulator datagram, or `None` for any other frame.
pub fn parse_app(frame: &[u8]) -> Option<(AppHeader, UdpAddrs)> {
    let eth = EthernetFrame::new_checked(frame)?;
    if eth.ethertype() != ethertype::IPV4 || frame.len() < HEADERS_LEN + APP_HEADER_LEN {
        return None;
    }
    let ip = &frame[14..34];
    if ip[0] != 0x45 || ip[9] != IPPROTO_UDP {
        return None;
    }
    let udp = &frame[34..42];
    let p = &frame[42..42 + APP_HEADER_LEN];
    if p[0..4] != MAGIC {
        return None;
    }
    let be16 = |b: &[u8]| u16::from_be_bytes([b[0], b[1]]);
    let mut u64b = [0u8; 8];
    u64b.copy_from_slice(&p[8..16]);
    let seq = u64::from_be_bytes(u64b);
    u64b.copy_from_slice(&p[16..24]);
    let sent_at = Instant::from_micros(u64::from_be_bytes(u64b));
    let mut flow = [0u8; 4];
    flow.copy_from_slice(&p[4..8]);
    let ip4 = |b: &[u8]| [b[0], b[1], b[2], b[3]];
    Some((
        AppHeader {
            flow: u32::from_be_bytes(flow),
            seq,
            sent_at,
        },
        UdpAddrs {
            src_mac: eth.src_addr(),
            dst_mac: eth.dst_addr(),
            src_ip: ip4(&ip[12..16]),
            dst_ip: ip4(&ip[16..20]),
            src_port: be16(&udp[0..2]),
            dst_port: be16(&udp[2..4]),
        },
    ))
}

/// A gratuitous ARP request announcing `ip` at `mac` (what `ifup`/`arping -U` sends when an
/// address is configured), padded to the Ethernet minimum.
pub fn build_gratuitous_arp(mac: EthernetAddress, ip: [u8; 4]) -> Vec<u8> {
    let mut f = vec![0u8; MIN_FRAME_LEN.max(bond_core::bond::MIN_TRANSMIT_BUF)];
    let n = bond_core::wire::arp::emit_gratuitous(&mut f, mac, ip, None);
    f.truncate(n.max(MIN_FRAME_LEN));
    f
}

/// A peer notification a bond (or a host) sends after failover, as a switch would notice it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Announcement {
    /// Gratuitous ARP: sender IP == target IP.
    GratuitousArp {
        /// The MAC the address is announced at (ARP sender hardware address).
        mac: EthernetAddress,
        /// The announced address.
        ip: [u8; 4],
    },
    /// Unsolicited IPv6 neighbour advertisement (ICMPv6 type 136 to ff02::1).
    UnsolicitedNa {
        /// The frame's source MAC.
        mac: EthernetAddress,
        /// The announced address.
        ip: [u8; 16],
    },
}

/// Recognise a gratuitous ARP or an unsolicited NA (untagged or with one 802.1Q tag).
pub fn parse_announcement(frame: &[u8]) -> Option<Announcement> {
    let eth = EthernetFrame::new_checked(frame)?;
    let (ty, l3) = match eth.ethertype() {
        ethertype::VLAN if frame.len() >= 18 => {
            (u16::from_be_bytes([frame[16], frame[17]]), &frame[18..])
        }
        t => (t, &frame[14..]),
    };
    match ty {
        ethertype::ARP if l3.len() >= 28 => {
            let (spa, tpa) = (&l3[14..18], &l3[24..28]);
            (spa == tpa).then(|| Announcement::GratuitousArp {
                mac: EthernetAddress::from_bytes(&l3[8..14]),
                ip: [spa[0], spa[1], spa[2], spa[3]],
            })
        }
        ethertype::IPV6 if l3.len() >= 64 && l3[6] == 58 && l3[40] == 136 => {
            let mut ip = [0u8; 16];
            ip.copy_from_slice(&l3[48..64]);
            Some(Announcement::UnsolicitedNa {
                mac: eth.src_addr(),
                ip,
            })
        }
        _ => None,
    }
}

fn sum_words(mut sum: u32, bytes: &[u8]) -> u32 {
    for pair in bytes.chunks(2) {
        sum += u32::from(pair[0]) << 8 | pair.get(1).map_or(0, |&b| u32::from(b));
    }
    sum
}

fn fold(mut sum: u32) -> u16 {
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn checksum(init: u32, bytes: &[u8]) -> u16 {
    fold(sum_words(init, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs() -> UdpAddrs {
        UdpAddrs {
            src_mac: EthernetAddress([2, 0, 0, 0, 0, 1]),
            dst_mac: EthernetAddress([2, 0, 0, 0, 0, 2]),
            src_ip: [192, 168, 1, 1],
            dst_ip: [192, 168, 1, 2],
            src_port: 40001,
            dst_port: 5001,
        }
    }

    #[test]
    fn udp_round_trip_and_checksums_verify() {
        let app = AppHeader {
            flow: 3,
            seq: 70_000,
            sent_at: Instant::from_micros(1_234_567),
        };
        let f = build_udp(&addrs(), app, 100);
        assert_eq!(f.len(), HEADERS_LEN + 100);
        assert_eq!(parse_app(&f), Some((app, addrs())));
        // A header with its checksum in place sums to 0xffff, whose complement is 0.
        assert_eq!(checksum(0, &f[14..34]), 0);
        let mut pseudo = [0u8; 12];
        pseudo[0..4].copy_from_slice(&[192, 168, 1, 1]);
        pseudo[4..8].copy_from_slice(&[192, 168, 1, 2]);
        pseudo[9] = 17;
        pseudo[10..12].copy_from_slice(&108u16.to_be_bytes());
        assert_eq!(fold(sum_words(sum_words(0, &pseudo), &f[34..])), 0);
    }

    #[test]
    fn short_payloads_are_padded_and_other_frames_rejected() {
        let app = AppHeader {
            flow: 0,
            seq: 0,
            sent_at: Instant::ZERO,
        };
        let f = build_udp(&addrs(), app, 0);
        assert_eq!(f.len(), HEADERS_LEN + APP_HEADER_LEN);
        assert!(parse_app(&f).is_some());
        let garp = build_gratuitous_arp(EthernetAddress([2, 0, 0, 0, 0, 1]), [10, 0, 0, 1]);
        assert_eq!(garp.len(), MIN_FRAME_LEN);
        assert!(parse_app(&garp).is_none());
        assert!(parse_app(&f[..50]).is_none());
    }

    #[test]
    fn announcements_are_recognised() {
        let mac = EthernetAddress([2, 0, 0, 0, 0, 1]);
        let garp = build_gratuitous_arp(mac, [10, 0, 0, 1]);
        assert_eq!(
            parse_announcement(&garp),
            Some(Announcement::GratuitousArp {
                mac,
                ip: [10, 0, 0, 1]
            })
        );
        let mut buf = [0u8; 128];
        let ip6 = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        let n = bond_core::wire::ndisc::emit_unsolicited_na(&mut buf, mac, ip6, Some(5));
        assert_eq!(
            parse_announcement(&buf[..n]),
            Some(Announcement::UnsolicitedNa { mac, ip: ip6 })
        );
        let app = build_udp(
            &addrs(),
            AppHeader {
                flow: 0,
                seq: 0,
                sent_at: Instant::ZERO,
            },
            10,
        );
        assert_eq!(parse_announcement(&app), None);
    }
}
