//! Hand-computed vectors, truncation sweeps and properties for [`xmit_hash`].
//!
//! Notation in the comments: `le(b0 b1 b2 b3)` is four frame bytes read as a little-endian word,
//! `fold(h)` is `h ^= h >> 16; h ^= h >> 8`, and every vector lists its steps so a reviewer can
//! redo them on paper.
//!
//! Shared ingredients:
//! - MACs: dst 00:00:5e:00:53:01, src 52:54:00:12:34:56, so `dst[5] ^ src[5] = 0x01 ^ 0x56 =
//!   0x57`; vlan+srcmac of an untagged frame is `0x525400 ^ 0x123456 = 0x406056`.
//! - A = 192.168.1.10 = le(c0 a8 01 0a) = 0x0a01a8c0, B = 192.168.1.20 = 0x1401a8c0,
//!   so `A ^ B = 0x1e000000`.
//! - A6 = 2001:db8::1: words le(20 01 0d b8) = 0xb80d0120, 0, 0, le(00 00 00 01) = 0x01000000,
//!   folded 0xb90d0120; B6 = 2001:db8::2 folds to 0xba0d0120; `A6 ^ B6 = 0x03000000`.

use super::xmit_hash;
use crate::config::XmitHashPolicy::{self, Encap23, Encap34, Layer2, Layer23, Layer34, VlanSrcMac};
use proptest::prelude::*;

/// Every policy, in the order the expectation arrays below use.
const POLICIES: [XmitHashPolicy; 6] = [Layer2, Layer23, Layer34, Encap23, Encap34, VlanSrcMac];

const DST: [u8; 6] = [0x00, 0x00, 0x5e, 0x00, 0x53, 0x01];
const SRC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
const A: [u8; 4] = [192, 168, 1, 10];
const B: [u8; 4] = [192, 168, 1, 20];
const C: [u8; 4] = [198, 51, 100, 7];
const ROUTER: [u8; 4] = [10, 0, 0, 1];
const TUN_SRC: [u8; 4] = [10, 1, 1, 1];
const TUN_DST: [u8; 4] = [10, 2, 2, 2];
const A6: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const B6: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

const TCP: u8 = 6;
const UDP: u8 = 17;

// ---------------------------------------------------------------------------------------------
// Frame builders.

fn eth(ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(14 + payload.len());
    f.extend_from_slice(&DST);
    f.extend_from_slice(&SRC);
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// `frame` with a tag inserted after the MAC addresses.
fn tagged(tpid: u16, tci: u16, frame: &[u8]) -> Vec<u8> {
    let mut f = frame[..12].to_vec();
    f.extend_from_slice(&tpid.to_be_bytes());
    f.extend_from_slice(&tci.to_be_bytes());
    f.extend_from_slice(&frame[12..]);
    f
}

/// An IPv4 header of exactly 20 bytes whatever `ver_ihl` claims, then `payload`.
fn ipv4_raw(
    ver_ihl: u8,
    frag: u16,
    proto: u8,
    src: [u8; 4],
    dst: [u8; 4],
    payload: &[u8],
) -> Vec<u8> {
    let total = u16::try_from(20 + payload.len()).unwrap();
    let mut p = vec![ver_ihl, 0];
    p.extend_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&[0x12, 0x34]); // identification
    p.extend_from_slice(&frag.to_be_bytes());
    p.extend_from_slice(&[64, proto, 0, 0]); // TTL, protocol, checksum (not checked)
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    p.extend_from_slice(payload);
    p
}

fn ipv4(proto: u8, src: [u8; 4], dst: [u8; 4], payload: &[u8]) -> Vec<u8> {
    ipv4_raw(0x45, 0, proto, src, dst, payload)
}

fn ipv6(next: u8, src: [u8; 16], dst: [u8; 16], payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x60, 0, 0, 0];
    p.extend_from_slice(&u16::try_from(payload.len()).unwrap().to_be_bytes());
    p.extend_from_slice(&[next, 64]);
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    p.extend_from_slice(payload);
    p
}

fn tcp(sport: u16, dport: u16, data: &[u8]) -> Vec<u8> {
    let mut p = Vec::new();
    p.extend_from_slice(&sport.to_be_bytes());
    p.extend_from_slice(&dport.to_be_bytes());
    p.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x10, 0xff, 0xff, 0, 0, 0, 0]);
    p.extend_from_slice(data);
    p
}

fn udp(sport: u16, dport: u16, data: &[u8]) -> Vec<u8> {
    let mut p = Vec::new();
    p.extend_from_slice(&sport.to_be_bytes());
    p.extend_from_slice(&dport.to_be_bytes());
    p.extend_from_slice(&u16::try_from(8 + data.len()).unwrap().to_be_bytes());
    p.extend_from_slice(&[0, 0]);
    p.extend_from_slice(data);
    p
}

/// An ICMP/ICMPv6 message: type, code, checksum 0, then `rest` (id and sequence for echo).
fn icmp(kind: u8, code: u8, rest: [u8; 4], data: &[u8]) -> Vec<u8> {
    let mut p = vec![kind, code, 0, 0];
    p.extend_from_slice(&rest);
    p.extend_from_slice(data);
    p
}

fn ipv4_tcp() -> Vec<u8> {
    eth(0x0800, &ipv4(TCP, A, B, &tcp(12345, 80, b"hello")))
}

fn ipv6_udp() -> Vec<u8> {
    eth(0x86dd, &ipv6(UDP, A6, B6, &udp(40000, 443, b"quic")))
}

/// Router 10.0.0.1 tells B that C's UDP port 53 is unreachable; `quote` bytes of B's packet.
fn icmp_port_unreachable(quote: usize) -> Vec<u8> {
    let offending = ipv4(UDP, B, C, &udp(5353, 53, b"query"));
    let msg = icmp(3, 3, [0; 4], &offending[..quote]);
    eth(0x0800, &ipv4(1, ROUTER, B, &msg))
}

fn check(name: &str, frame: &[u8], expect: [u32; 6]) {
    for (policy, want) in POLICIES.into_iter().zip(expect) {
        let got = xmit_hash(policy, frame);
        assert_eq!(
            got, want,
            "{name} under {policy:?}: got {got:#010x}, want {want:#010x}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Hand-computed vectors. Order: [layer2, layer2+3, layer3+4, encap2+3, encap3+4, vlan+srcmac].

#[test]
fn ipv4_tcp_vector() {
    // layer2   = 0x57 ^ 0x0800                                          = 0x00000857
    // layer2+3 = fold(0x0857 ^ 0x1e000000 = 0x1e000857):
    //            ^ 0x00001e00 -> 0x1e001657; ^ 0x001e0016 -> 0x1e1e1641
    // ports    = le(30 39 00 50) (12345 -> 80)                          = 0x50003930
    // layer3+4 = fold(0x50003930 ^ 0x1e000000 = 0x4e003930):
    //            ^ 0x00004e00 -> 0x4e007730; ^ 0x004e0077 -> 0x4e4e7747; >> 1 = 0x27273ba3
    // encap: no tunnel, so the same headers and values.
    check(
        "ipv4 tcp",
        &ipv4_tcp(),
        [
            0x0857,
            0x1e1e_1641,
            0x2727_3ba3,
            0x1e1e_1641,
            0x2727_3ba3,
            0x0040_6056,
        ],
    );
}

#[test]
fn ipv4_udp_vector() {
    // ports    = le(14 e9 00 35) (5353 -> 53)                           = 0x3500e914
    // layer3+4 = fold(0x3500e914 ^ 0x1e000000 = 0x2b00e914):
    //            ^ 0x00002b00 -> 0x2b00c214; ^ 0x002b00c2 -> 0x2b2bc2d6; >> 1 = 0x1595e16b
    let f = eth(0x0800, &ipv4(UDP, A, B, &udp(5353, 53, b"query")));
    check(
        "ipv4 udp",
        &f,
        [
            0x0857,
            0x1e1e_1641,
            0x1595_e16b,
            0x1e1e_1641,
            0x1595_e16b,
            0x0040_6056,
        ],
    );
}

#[test]
fn ipv6_udp_vector() {
    // layer2   = 0x57 ^ 0x86dd                                          = 0x0000868a
    // layer2+3 = fold(0x868a ^ 0x03000000 = 0x0300868a):
    //            ^ 0x00000300 -> 0x0300858a; ^ 0x00030085 -> 0x0303850f
    // ports    = le(9c 40 01 bb) (40000 -> 443)                         = 0xbb01409c
    // layer3+4 = fold(0xbb01409c ^ 0x03000000 = 0xb801409c):
    //            ^ 0x0000b801 -> 0xb801f89d; ^ 0x00b801f8 -> 0xb8b9f965; >> 1 = 0x5c5cfcb2
    check(
        "ipv6 udp",
        &ipv6_udp(),
        [
            0x868a,
            0x0303_850f,
            0x5c5c_fcb2,
            0x0303_850f,
            0x5c5c_fcb2,
            0x0040_6056,
        ],
    );
}

#[test]
fn icmp_echo_vectors() {
    // Echo request, identifier 0, which counts as 1: word = 8 | 0 << 8 | 1 << 16 = 0x00010008.
    // layer3+4 = fold(0x00010008 ^ 0x1e000000 = 0x1e010008):
    //            ^ 0x00001e01 -> 0x1e011e09; ^ 0x001e011e -> 0x1e1f1f17; >> 1 = 0x0f0f8f8b
    // layer2+3 ignores ICMP: 0x1e1e1641 as for TCP.
    let f = eth(0x0800, &ipv4(1, A, B, &icmp(8, 0, [0, 0, 0, 1], b"ping")));
    check(
        "echo id 0",
        &f,
        [
            0x0857,
            0x1e1e_1641,
            0x0f0f_8f8b,
            0x1e1e_1641,
            0x0f0f_8f8b,
            0x0040_6056,
        ],
    );

    // Identifier 0x1234: word = 0x12340008.
    // layer3+4 = fold(0x12340008 ^ 0x1e000000 = 0x0c340008):
    //            ^ 0x00000c34 -> 0x0c340c3c; ^ 0x000c340c -> 0x0c383830; >> 1 = 0x061c1c18
    let f = eth(
        0x0800,
        &ipv4(1, A, B, &icmp(8, 0, [0x12, 0x34, 0, 1], b"ping")),
    );
    check(
        "echo id 0x1234",
        &f,
        [
            0x0857,
            0x1e1e_1641,
            0x061c_1c18,
            0x1e1e_1641,
            0x061c_1c18,
            0x0040_6056,
        ],
    );

    // The sequence number is not part of the word: a later ping of the same session agrees.
    let g = eth(
        0x0800,
        &ipv4(1, A, B, &icmp(8, 0, [0x12, 0x34, 0x99, 0x99], b"pong")),
    );
    assert_eq!(xmit_hash(Layer34, &f), xmit_hash(Layer34, &g));

    // ICMPv6 echo request (128), identifier 0x1234: word = 0x12340080.
    // layer3+4 = fold(0x12340080 ^ 0x03000000 = 0x11340080):
    //            ^ 0x00001134 -> 0x113411b4; ^ 0x00113411 -> 0x112525a5; >> 1 = 0x089292d2
    let f = eth(
        0x86dd,
        &ipv6(58, A6, B6, &icmp(128, 0, [0x12, 0x34, 0, 1], b"ping")),
    );
    check(
        "icmpv6 echo",
        &f,
        [
            0x868a,
            0x0303_850f,
            0x0892_92d2,
            0x0303_850f,
            0x0892_92d2,
            0x0040_6056,
        ],
    );
}

#[test]
fn icmp_error_vectors() {
    // Outer 10.0.0.1 -> B: le(0a 00 00 01) ^ le(c0 a8 01 14) = 0x0100000a ^ 0x1401a8c0 = 0x1501a8ca.
    // Quoted B -> C:       le(c0 a8 01 14) ^ le(c6 33 64 07) = 0x1401a8c0 ^ 0x076433c6 = 0x13659b06.
    // Quoted ports 5353 -> 53 = 0x3500e914.
    // layer2+3 (quoted addresses) = fold(0x0857 ^ 0x13659b06 = 0x13659351):
    //            ^ 0x00001365 -> 0x13658034; ^ 0x00136580 -> 0x1376e5b4
    // layer3+4 (quoted addresses and ports; type 3 has no identifier) =
    //            fold(0x3500e914 ^ 0x13659b06 = 0x26657212):
    //            ^ 0x00002665 -> 0x26655477; ^ 0x00266554 -> 0x26433123; >> 1 = 0x13219891
    // encap2+3: the flow dissector does not follow errors, outer addresses =
    //            fold(0x0857 ^ 0x1501a8ca = 0x1501a09d):
    //            ^ 0x00001501 -> 0x1501b59c; ^ 0x001501b5 -> 0x1514b429
    // encap3+4: no identifier and ICMP has no ports word, so addresses only =
    //            fold(0x1501a8ca): ^ 0x00001501 -> 0x1501bdcb; ^ 0x001501bd -> 0x1514bc76;
    //            >> 1 = 0x0a8a5e3b
    let f = icmp_port_unreachable(28);
    check(
        "port unreachable",
        &f,
        [
            0x0857,
            0x1376_e5b4,
            0x1321_9891,
            0x1514_b429,
            0x0a8a_5e3b,
            0x0040_6056,
        ],
    );

    // The error follows its flow: B's own UDP packet to C lands where the error does (layer3+4
    // addresses and ports are symmetric under XOR).
    let flow = eth(0x0800, &ipv4(UDP, B, C, &udp(5353, 53, b"query")));
    assert_eq!(xmit_hash(Layer34, &flow), 0x1321_9891);

    // Quote cut inside the IP header (10 of 20 bytes): Linux falls back to layer2.
    let f = icmp_port_unreachable(10);
    check(
        "port unreachable, cut",
        &f,
        [
            0x0857,
            0x0857,
            0x0857,
            0x1514_b429,
            0x0a8a_5e3b,
            0x0040_6056,
        ],
    );

    // Quote with the IP header but only 2 bytes of UDP: addresses from the quote, ports word 0.
    // layer3+4 = fold(0x13659b06): ^ 0x00001365 -> 0x13658863; ^ 0x00136588 -> 0x1376edeb;
    //            >> 1 = 0x09bb76f5
    let f = icmp_port_unreachable(22);
    assert_eq!(xmit_hash(Layer34, &f), 0x09bb_76f5);
    assert_eq!(xmit_hash(Layer23, &f), 0x1376_e5b4);

    // An ICMP header cut short (4 of 8 bytes): type unknown, no quote, outer addresses only.
    // layer3+4 = fold(0x1501a8ca) >> 1 = 0x0a8a5e3b (as for encap3+4 above).
    let f = eth(0x0800, &ipv4(1, ROUTER, B, &[3, 3, 0, 0]));
    assert_eq!(xmit_hash(Layer34, &f), 0x0a8a_5e3b);
}

#[test]
fn ipv4_fragment_vectors() {
    // Any fragment has no ports word, the first one (MF set, offset 0) included:
    // layer3+4 = fold(0x1e000000): ^ 0x00001e00 -> 0x1e001e00; ^ 0x001e001e -> 0x1e1e1e1e;
    //            >> 1 = 0x0f0f0f0f
    let first = eth(
        0x0800,
        &ipv4_raw(0x45, 0x2000, UDP, A, B, &udp(5353, 53, &[0; 32])),
    );
    check(
        "first fragment",
        &first,
        [
            0x0857,
            0x1e1e_1641,
            0x0f0f_0f0f,
            0x1e1e_1641,
            0x0f0f_0f0f,
            0x0040_6056,
        ],
    );
    // A later fragment (offset 185 * 8 bytes), whose payload is not a UDP header at all.
    let later = eth(0x0800, &ipv4_raw(0x45, 0x00b9, UDP, A, B, &[0xaa; 40]));
    check(
        "later fragment",
        &later,
        [
            0x0857,
            0x1e1e_1641,
            0x0f0f_0f0f,
            0x1e1e_1641,
            0x0f0f_0f0f,
            0x0040_6056,
        ],
    );
}

#[test]
fn non_ip_vectors() {
    // ARP: layer2 = 0x57 ^ 0x0806 = 0x0851, and layer2+3/layer3+4 fall back to it unfolded.
    // The flow dissector accepts ARP without addresses (bonding asks for no ARP key), so
    // encap2+3 = fold(0x0851) = 0x0851 ^ 0 ^ 0x08 = 0x0859 and encap3+4 = fold(0) >> 1 = 0.
    let arp = eth(0x0806, &[0, 1, 8, 0, 6, 4, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    check(
        "arp",
        &arp,
        [0x0851, 0x0851, 0x0851, 0x0859, 0, 0x0040_6056],
    );
    // LLDP: the dissector does not know it, so every policy but vlan+srcmac gives layer2 =
    // 0x57 ^ 0x88cc = 0x889b.
    let lldp = eth(0x88cc, &[0x02, 0x07, 0x04, 0, 0, 0x5e, 0, 0x53, 0x01]);
    check(
        "lldp",
        &lldp,
        [0x889b, 0x889b, 0x889b, 0x889b, 0x889b, 0x0040_6056],
    );
}

#[test]
fn vlan_vectors() {
    // One tag (PCP 3, VID 100: TCI 0x6064) is taken out of band: every IP policy sees the plain
    // IPv4 TCP frame; vlan+srcmac = 0x6064 ^ 0x525400 ^ 0x123456 = 0x400032.
    let f = tagged(0x8100, 0x6064, &ipv4_tcp());
    check(
        "802.1Q",
        &f,
        [
            0x0857,
            0x1e1e_1641,
            0x2727_3ba3,
            0x1e1e_1641,
            0x2727_3ba3,
            0x0040_0032,
        ],
    );
    // The same with an 802.1ad TPID.
    let f = tagged(0x88a8, 0x6064, &ipv4_tcp());
    check(
        "802.1ad",
        &f,
        [
            0x0857,
            0x1e1e_1641,
            0x2727_3ba3,
            0x1e1e_1641,
            0x2727_3ba3,
            0x0040_0032,
        ],
    );

    // QinQ: outer 802.1ad TCI 0x000a out of band, inner 802.1Q tag stays in the frame, so
    // skb->protocol is 0x8100: layer2 = 0x57 ^ 0x8100 = 0x8157, and layer2+3/layer3+4 fall back
    // to it. The flow dissector takes the first VLAN protocol for the out-of-band tag, then reads
    // the IP header's first bytes (45 00 00 2d) as a tag: EtherType 0x002d is unknown, so the
    // encap policies fall back too. vlan+srcmac = 0x000a ^ 0x406056 = 0x40605c.
    let f = tagged(0x88a8, 0x000a, &tagged(0x8100, 0x0014, &ipv4_tcp()));
    check(
        "QinQ",
        &f,
        [0x8157, 0x8157, 0x8157, 0x8157, 0x8157, 0x0040_605c],
    );
}

#[test]
fn ipsec_vectors() {
    // ESP: the SPI 0x00001000 is the ports word, le(00 00 10 00) = 0x00100000.
    // layer3+4 = fold(0x00100000 ^ 0x1e000000 = 0x1e100000):
    //            ^ 0x00001e10 -> 0x1e101e10; ^ 0x001e101e -> 0x1e0e0e0e; >> 1 = 0x0f070707
    let esp = eth(
        0x0800,
        &ipv4(50, A, B, &[0, 0, 0x10, 0, 0, 0, 0, 1, 0xee, 0xee]),
    );
    check(
        "esp",
        &esp,
        [
            0x0857,
            0x1e1e_1641,
            0x0f07_0707,
            0x1e1e_1641,
            0x0f07_0707,
            0x0040_6056,
        ],
    );
    // AH: next header, length, reserved, then the SPI de ad be ef at offset 4:
    // ports word = le(de ad be ef) = 0xefbeadde.
    // layer3+4 = fold(0xefbeadde ^ 0x1e000000 = 0xf1beadde):
    //            ^ 0x0000f1be -> 0xf1be5c60; ^ 0x00f1be5c -> 0xf14fe23c; >> 1 = 0x78a7f11e
    let ah = eth(
        0x0800,
        &ipv4(51, A, B, &[6, 4, 0, 0, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 1]),
    );
    check(
        "ah",
        &ah,
        [
            0x0857,
            0x1e1e_1641,
            0x78a7_f11e,
            0x1e1e_1641,
            0x78a7_f11e,
            0x0040_6056,
        ],
    );
}

#[test]
fn ipv6_extension_header_vector() {
    // IPv6, hop-by-hop (8 bytes: next TCP, length 0, padding), TCP 40000 -> 443.
    // layer3+4 does not walk extension headers: protocol 0 has no ports word, so
    //   fold(0x03000000): ^ 0x00000300 -> 0x03000300; ^ 0x00030003 -> 0x03030303; >> 1 = 0x01818181
    // encap3+4's flow dissector walks it and finds TCP: ports le(9c 40 01 bb) = 0xbb01409c,
    //   fold(0xbb01409c ^ 0x03000000) >> 1 = 0x5c5cfcb2 (as in the IPv6 UDP vector).
    let mut payload = vec![TCP, 0, 1, 4, 0, 0, 0, 0];
    payload.extend_from_slice(&tcp(40000, 443, b"data"));
    let f = eth(0x86dd, &ipv6(0, A6, B6, &payload));
    check(
        "ipv6 hop-by-hop",
        &f,
        [
            0x868a,
            0x0303_850f,
            0x0181_8181,
            0x0303_850f,
            0x5c5c_fcb2,
            0x0040_6056,
        ],
    );

    // A chain of 20 empty hop-by-hop headers: the dissector stops after its 15 further rounds,
    // still inside the chain (protocol 0, no ports), so encap3+4 hashes the addresses only.
    let mut chain = Vec::new();
    for _ in 0..20 {
        chain.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]);
    }
    chain[19 * 8] = TCP;
    chain.extend_from_slice(&tcp(40000, 443, b""));
    let f = eth(0x86dd, &ipv6(0, A6, B6, &chain));
    assert_eq!(xmit_hash(Encap34, &f), 0x0181_8181);
}

#[test]
fn ipv4_header_length_vectors() {
    // IHL 0: layer3+4 uses it as found, so the "ports" are the IP header's first four bytes,
    // le(40 00 00 28) = 0x28000040:
    //   fold(0x28000040 ^ 0x1e000000 = 0x36000040): ^ 0x00003600 -> 0x36003640;
    //   ^ 0x00360036 -> 0x36363676; >> 1 = 0x1b1b1b3b
    // The flow dissector rejects an IHL below 5, so the encap policies fall back to layer2.
    let f = eth(0x0800, &ipv4_raw(0x40, 0, TCP, A, B, &tcp(12345, 80, b"")));
    check(
        "ihl 0",
        &f,
        [
            0x0857,
            0x1e1e_1641,
            0x1b1b_1b3b,
            0x0857,
            0x0857,
            0x0040_6056,
        ],
    );

    // IHL 15 (60 bytes) in a 40-byte frame: the addresses are there, the L4 header is not, so
    // the ports word is 0 and layer3+4 = fold(0x1e000000) >> 1 = 0x0f0f0f0f.
    let f = eth(0x0800, &ipv4_raw(0x4f, 0, TCP, A, B, &[1, 2, 3, 4, 5, 6]));
    assert_eq!(f.len(), 40);
    check(
        "ihl 15",
        &f,
        [
            0x0857,
            0x1e1e_1641,
            0x0f0f_0f0f,
            0x1e1e_1641,
            0x0f0f_0f0f,
            0x0040_6056,
        ],
    );
}

#[test]
fn tunnel_vectors() {
    // Outer 10.1.1.1 -> 10.2.2.2: le(0a 01 01 01) ^ le(0a 02 02 02) = 0x0101010a ^ 0x0202020a
    // = 0x03030300.
    // layer2+3 = fold(0x0857 ^ 0x03030300 = 0x03030b57):
    //            ^ 0x00000303 -> 0x03030854; ^ 0x00030308 -> 0x03000b5c
    // layer3+4 (IP-in-IP and GRE have no ports word) = fold(0x03030300):
    //            ^ 0x00000303 -> 0x03030003; ^ 0x00030300 -> 0x03000303; >> 1 = 0x01800181
    // encap: the inner IPv4 TCP headers, the layer2 term still the outer frame's (0x0857), so
    // the plain IPv4 TCP values 0x1e1e1641 / 0x27273ba3.
    let inner = ipv4(TCP, A, B, &tcp(12345, 80, b"hello"));
    let ipip = eth(0x0800, &ipv4(4, TUN_SRC, TUN_DST, &inner));
    check(
        "ipip",
        &ipip,
        [
            0x0857,
            0x0300_0b5c,
            0x0180_0181,
            0x1e1e_1641,
            0x2727_3ba3,
            0x0040_6056,
        ],
    );

    // GRE with a key, carrying IPv4 directly.
    let mut gre = vec![0x20, 0x00, 0x08, 0x00, 0, 0, 0, 42];
    gre.extend_from_slice(&inner);
    let f = eth(0x0800, &ipv4(47, TUN_SRC, TUN_DST, &gre));
    check(
        "gre ip",
        &f,
        [
            0x0857,
            0x0300_0b5c,
            0x0180_0181,
            0x1e1e_1641,
            0x2727_3ba3,
            0x0040_6056,
        ],
    );

    // GRE with checksum and sequence, transparent Ethernet bridging: inner Ethernet + IPv4 TCP.
    let mut gre = vec![0x90, 0x00, 0x65, 0x58, 0, 0, 0, 0, 0, 0, 0, 7];
    gre.extend_from_slice(&[0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02, 0x08, 0x00]);
    gre.extend_from_slice(&inner);
    let f = eth(0x0800, &ipv4(47, TUN_SRC, TUN_DST, &gre));
    check(
        "gre teb",
        &f,
        [
            0x0857,
            0x0300_0b5c,
            0x0180_0181,
            0x1e1e_1641,
            0x2727_3ba3,
            0x0040_6056,
        ],
    );

    // GRE with routing: Linux does not look inside, the outer addresses stay:
    // encap2+3 = layer2+3 = 0x03000b5c, encap3+4 = layer3+4 = 0x01800181.
    let mut gre = vec![0x40, 0x00, 0x08, 0x00];
    gre.extend_from_slice(&inner);
    let f = eth(0x0800, &ipv4(47, TUN_SRC, TUN_DST, &gre));
    check(
        "gre routing",
        &f,
        [
            0x0857,
            0x0300_0b5c,
            0x0180_0181,
            0x0300_0b5c,
            0x0180_0181,
            0x0040_6056,
        ],
    );

    // IPv6 in IPv4 (protocol 41), inner IPv6 UDP: encap3+4 = 0x5c5cfcb2 as for plain IPv6 UDP;
    // encap2+3 keeps the outer layer2 term 0x0857:
    //   fold(0x0857 ^ 0x03000000 = 0x03000857): ^ 0x00000300 -> 0x03000b57;
    //   ^ 0x0003000b -> 0x03030b5c
    let inner6 = ipv6(UDP, A6, B6, &udp(40000, 443, b"quic"));
    let f = eth(0x0800, &ipv4(41, TUN_SRC, TUN_DST, &inner6));
    check(
        "6in4",
        &f,
        [
            0x0857,
            0x0300_0b5c,
            0x0180_0181,
            0x0303_0b5c,
            0x5c5c_fcb2,
            0x0040_6056,
        ],
    );

    // A tunnel whose inner header is cut short: the dissector fails, encap falls back to layer2.
    let f = eth(0x0800, &ipv4(4, TUN_SRC, TUN_DST, &inner[..12]));
    check(
        "ipip cut",
        &f,
        [
            0x0857,
            0x0300_0b5c,
            0x0180_0181,
            0x0857,
            0x0857,
            0x0040_6056,
        ],
    );
}

#[test]
fn deep_nesting_is_bounded() {
    // 40 nested IP-in-IP headers: the dissector stops after its 15 further rounds, inside the
    // tunnel, and hashes the addresses it reached (the tunnel's, as in every layer here):
    // fold(0x03030300) >> 1 = 0x01800181, the tunnel vector's layer3+4 value.
    let mut pkt = ipv4(TCP, A, B, &tcp(1, 2, b""));
    for _ in 0..40 {
        pkt = ipv4(4, TUN_SRC, TUN_DST, &pkt);
    }
    assert_eq!(xmit_hash(Encap34, &eth(0x0800, &pkt)), 0x0180_0181);
    // The same with 40 GRE layers, IPv4 inside each.
    let mut pkt = ipv4(TCP, A, B, &tcp(1, 2, b""));
    for _ in 0..40 {
        let mut gre = vec![0, 0, 0x08, 0x00];
        gre.extend_from_slice(&pkt);
        pkt = ipv4(47, TUN_SRC, TUN_DST, &gre);
    }
    assert_eq!(xmit_hash(Encap34, &eth(0x0800, &pkt)), 0x0180_0181);
    // 60 stacked tags: no panic, bounded work; under layer2 that is one outer tag and an inner
    // EtherType of 0x8100: 0x57 ^ 0x8100 = 0x8157.
    let mut f = ipv4_tcp();
    for _ in 0..60 {
        f = tagged(0x8100, 1, &f);
    }
    for policy in POLICIES {
        let _ = xmit_hash(policy, &f);
    }
    assert_eq!(xmit_hash(Layer2, &f), 0x8157);
}

#[test]
fn runt_frames() {
    // Shorter than an Ethernet header: 0 everywhere, as Linux's header pulls fail.
    for len in 0..14 {
        check("runt", &ipv4_tcp()[..len], [0; 6]);
    }
    // A tag and nothing after it (16 bytes), or a tag and half an EtherType (17): without the
    // tag Linux would see 12 or 13 bytes.
    let f = tagged(0x8100, 0x6064, &ipv4_tcp());
    check("tag only", &f[..16], [0; 6]);
    check("tag, half type", &f[..17], [0; 6]);
    // Tag and inner EtherType, no IP header: IP policies fall back to layer2 (0x0857); the
    // flow dissector fails on the missing IPv4 header too.
    check(
        "tag, no ip",
        &f[..18],
        [0x0857, 0x0857, 0x0857, 0x0857, 0x0857, 0x0040_0032],
    );
}

#[test]
fn layer2_plus_3_spreads_two_and_three_ports() {
    // A talks to B = .20 ... .27 through one gateway, so the layer2 term is fixed at 0x0857 and
    // only the last address byte changes: A ^ dst = 0x1e000000, 0x1f000000, 0x1c000000, ...
    //   .20: fold(0x1e000857) = 0x1e1e1641   (% 2 = 1, % 3 = 0)
    //   .21: fold(0x1f000857) = 0x1f1f1740   (% 2 = 0, % 3 = 2)
    //   .22: fold(0x1c000857) = 0x1c1c1443   (% 2 = 1, % 3 = 2)
    //   .23: fold(0x1d000857) = 0x1d1d1542   (% 2 = 0, % 3 = 1)
    // With the old extra `>> 1` for layer2+3, .20 and .21 (0x0f0f0b20, 0x0f8f8ba0) would both be
    // even and share port 0 of a 2-port bond, and so would every such pair.
    let want = [0x1e1e_1641_u32, 0x1f1f_1740, 0x1c1c_1443, 0x1d1d_1542];
    let mut per_port2 = [0; 2];
    let mut per_port3 = [0; 3];
    for (i, last) in (20..28).enumerate() {
        let f = eth(
            0x0800,
            &ipv4(TCP, A, [192, 168, 1, last], &tcp(12345, 80, b"")),
        );
        let h = xmit_hash(Layer23, &f);
        if let Some(w) = want.get(i) {
            assert_eq!(h, *w, "dst .{last}");
        }
        per_port2[(h % 2) as usize] += 1;
        per_port3[(h % 3) as usize] += 1;
    }
    assert_eq!(per_port2, [4, 4], "2-port bond");
    assert!(
        per_port3.iter().all(|&n| n > 0),
        "3-port bond: {per_port3:?}"
    );
    // Neighbours differing only in the address's low bit take different ports of a 2-port bond.
    for last in (20..28).step_by(2) {
        let a = eth(0x0800, &ipv4(TCP, A, [192, 168, 1, last], &tcp(1, 2, b"")));
        let b = eth(
            0x0800,
            &ipv4(TCP, A, [192, 168, 1, last + 1], &tcp(1, 2, b"")),
        );
        assert_ne!(xmit_hash(Layer23, &a) % 2, xmit_hash(Layer23, &b) % 2);
    }
}

// ---------------------------------------------------------------------------------------------
// Truncation sweeps.

/// Frames of every kind above, with the length of the headers their full hash depends on.
fn sample_frames() -> Vec<(&'static str, Vec<u8>)> {
    let inner = ipv4(TCP, A, B, &tcp(12345, 80, b"hello"));
    let mut gre_teb = vec![0xb0, 0x00, 0x65, 0x58, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2];
    gre_teb.extend_from_slice(&[0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02, 0x08, 0x00]);
    gre_teb.extend_from_slice(&inner);
    let mut hbh = vec![
        60, 0, 1, 4, 0, 0, 0, 0, TCP, 1, 1, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    hbh.extend_from_slice(&tcp(40000, 443, b"data"));
    let quoted6 = ipv6(UDP, B6, A6, &udp(53, 5353, b"answer"));
    let mut frag6 = vec![UDP, 0, 0, 1, 0, 0, 0, 9];
    frag6.extend_from_slice(&udp(1, 2, b"fragment"));
    let pppoe = {
        let ip = ipv4(UDP, A, B, &udp(5353, 53, b"query"));
        let mut p = vec![0x11, 0, 0, 1];
        p.extend_from_slice(&u16::try_from(ip.len() + 2).unwrap().to_be_bytes());
        p.extend_from_slice(&[0x00, 0x21]);
        p.extend_from_slice(&ip);
        p
    };
    vec![
        ("ipv4 tcp", ipv4_tcp()),
        ("ipv6 udp", ipv6_udp()),
        (
            "echo",
            eth(0x0800, &ipv4(1, A, B, &icmp(8, 0, [0, 7, 0, 1], b"ping"))),
        ),
        ("unreachable", icmp_port_unreachable(28)),
        (
            "icmpv6 unreachable",
            eth(0x86dd, &ipv6(58, A6, B6, &icmp(1, 4, [0; 4], &quoted6))),
        ),
        (
            "first fragment",
            eth(
                0x0800,
                &ipv4_raw(0x45, 0x2000, UDP, A, B, &udp(1, 2, &[0; 16])),
            ),
        ),
        ("ipv6 fragment", eth(0x86dd, &ipv6(44, A6, B6, &frag6))),
        (
            "arp",
            eth(0x0806, &[0, 1, 8, 0, 6, 4, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]),
        ),
        ("vlan", tagged(0x8100, 0x6064, &ipv4_tcp())),
        ("qinq", tagged(0x88a8, 10, &tagged(0x8100, 20, &ipv4_tcp()))),
        (
            "esp",
            eth(0x0800, &ipv4(50, A, B, &[0, 0, 0x10, 0, 0, 0, 0, 1])),
        ),
        (
            "ah",
            eth(
                0x0800,
                &ipv4(51, A, B, &[6, 4, 0, 0, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 1]),
            ),
        ),
        ("ipv6 ext", eth(0x86dd, &ipv6(0, A6, B6, &hbh))),
        ("ipip", eth(0x0800, &ipv4(4, TUN_SRC, TUN_DST, &inner))),
        (
            "gre teb",
            eth(0x0800, &ipv4(47, TUN_SRC, TUN_DST, &gre_teb)),
        ),
        ("pppoe", eth(0x8864, &pppoe)),
        (
            "ihl 0",
            eth(0x0800, &ipv4_raw(0x40, 0, TCP, A, B, &tcp(1, 2, b""))),
        ),
    ]
}

#[test]
fn every_prefix_of_every_sample_is_defined() {
    for (name, frame) in sample_frames() {
        // 14 bytes of Ethernet header, plus the outer tag when there is one.
        let eth_len = if matches!(frame[12..14], [0x81, 0x00] | [0x88, 0xa8]) {
            18
        } else {
            14
        };
        for policy in POLICIES {
            let full = xmit_hash(policy, &frame);
            for len in 0..=frame.len() {
                let prefix = &frame[..len];
                let got = xmit_hash(policy, prefix);
                let l2 = xmit_hash(Layer2, prefix);
                match policy {
                    // The Ethernet-only policies are settled once the (tag-less) header is there,
                    // and 0 before.
                    Layer2 | VlanSrcMac => {
                        let want = if len < eth_len { 0 } else { full };
                        assert_eq!(got, want, "{name}[..{len}] {policy:?}");
                    }
                    // Otherwise a prefix gives the full value, the layer2 fallback, 0 for a
                    // runt, or one of the values of a longer prefix (a header found, the next
                    // one not yet): never anything a longer prefix would not also produce.
                    _ => {
                        let later: Vec<u32> = (len..=frame.len())
                            .map(|l| xmit_hash(policy, &frame[..l]))
                            .collect();
                        assert!(
                            got == 0 || got == l2 || got == full || later.contains(&got),
                            "{name}[..{len}] {policy:?}: {got:#x}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn payload_truncation_keeps_the_flow() {
    // Cutting the payload (not the headers) changes nothing: the same frames with their data
    // trimmed hash like the full ones.
    let long = eth(0x0800, &ipv4(TCP, A, B, &tcp(12345, 80, &[0x5a; 1000])));
    let short = eth(0x0800, &ipv4(TCP, A, B, &tcp(12345, 80, b"")));
    for policy in POLICIES {
        assert_eq!(
            xmit_hash(policy, &long),
            xmit_hash(policy, &short),
            "{policy:?}"
        );
        // Only the first 4 bytes of TCP count for layer3+4: a frame cut right after the ports
        // word agrees with the full one.
        assert_eq!(
            xmit_hash(policy, &long),
            xmit_hash(policy, &long[..38]),
            "{policy:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Properties.

/// Arbitrary bytes, with an EtherType the parsers care about written at offset 12 (and at 16,
/// after a possible tag) most of the time, and sometimes a plausible IP first byte.
fn hostile_frame() -> impl Strategy<Value = Vec<u8>> {
    let ethertype = prop_oneof![
        Just(0x0800_u16),
        Just(0x86dd),
        Just(0x8100),
        Just(0x88a8),
        Just(0x0806),
        Just(0x8864),
        Just(0x892f),
        Just(0x4305),
        Just(0x88ca),
        Just(0x8847),
        any::<u16>(),
    ];
    // IP protocols that make the walkers go further: tunnels, extension headers, ICMP.
    let ip_proto = prop::sample::select(vec![1_u8, 4, 6, 17, 41, 44, 47, 51, 58, 0, 43, 60]);
    (
        prop::collection::vec(any::<u8>(), 0..200),
        ethertype.clone(),
        ethertype,
        any::<bool>(),
        0x40_u8..0x70,
        ip_proto,
    )
        .prop_map(|(mut f, outer, inner, ip_like, v, proto)| {
            for (at, t) in [(12, outer), (16, inner)] {
                if let Some(b) = f.get_mut(at..at + 2) {
                    b.copy_from_slice(&t.to_be_bytes());
                }
            }
            if ip_like {
                // Version/IHL, then the IPv4 protocol and IPv6 next-header fields, untagged
                // and tagged.
                for (at, b) in [
                    (14, v),
                    (18, v),
                    (23, proto),
                    (27, proto),
                    (20, proto),
                    (24, proto),
                ] {
                    if let Some(x) = f.get_mut(at) {
                        *x = b;
                    }
                }
            }
            f
        })
}

/// A flow's headers (optionally VLAN-tagged) with any payload after its L4 ports.
#[derive(Debug, Clone)]
struct FlowFrame {
    v6: bool,
    proto: u8,
    src: [u8; 16],
    dst: [u8; 16],
    ports: [u8; 4],
    tci: Option<u16>,
}

impl FlowFrame {
    fn build(&self, payload: &[u8]) -> Vec<u8> {
        let mut l4 = Vec::new();
        match self.proto {
            // Echo: type, code, checksum, the identifier (ports[0..2]) and a sequence number.
            1 | 58 => {
                let kind = if self.proto == 1 { 8 } else { 128 };
                l4.extend_from_slice(&[kind, 0, 0, 0, self.ports[0], self.ports[1], 0, 1]);
            }
            // AH: next header, length, reserved, then the SPI.
            51 => l4.extend_from_slice(&[
                59,
                4,
                0,
                0,
                self.ports[0],
                self.ports[1],
                self.ports[2],
                self.ports[3],
            ]),
            _ => l4.extend_from_slice(&self.ports),
        }
        l4.extend_from_slice(payload);
        let frame = if self.v6 {
            eth(0x86dd, &ipv6(self.proto, self.src, self.dst, &l4))
        } else {
            let (mut s, mut d) = ([0; 4], [0; 4]);
            s.copy_from_slice(&self.src[..4]);
            d.copy_from_slice(&self.dst[..4]);
            eth(0x0800, &ipv4(self.proto, s, d, &l4))
        };
        match self.tci {
            Some(tci) => tagged(0x8100, tci, &frame),
            None => frame,
        }
    }
}

fn flow_frame() -> impl Strategy<Value = FlowFrame> {
    (
        any::<bool>(),
        prop::sample::select(vec![6_u8, 17, 33, 50, 51, 132, 136, 1, 58]),
        any::<[u8; 16]>(),
        any::<[u8; 16]>(),
        any::<[u8; 4]>(),
        prop::option::of(any::<u16>()),
    )
        .prop_map(|(v6, proto, src, dst, ports, tci)| FlowFrame {
            v6,
            proto,
            src,
            dst,
            ports,
            tci,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    /// No byte string makes any policy panic (or loop: the test would hang).
    #[test]
    fn hostile_bytes_never_panic(frame in hostile_frame()) {
        for policy in POLICIES {
            let _ = xmit_hash(policy, &frame);
        }
    }

    /// Flows stick to one port: only the bytes after the L4 ports word change.
    #[test]
    fn payload_after_the_ports_does_not_move_a_flow(
        flow in flow_frame(),
        a in prop::collection::vec(any::<u8>(), 0..64),
        b in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let (fa, fb) = (flow.build(&a), flow.build(&b));
        for policy in POLICIES {
            prop_assert_eq!(xmit_hash(policy, &fa), xmit_hash(policy, &fb), "{:?}", policy);
        }
    }

    /// An outer tag in the frame hashes as Linux's out-of-band tag: the IP and layer2 policies
    /// see the untagged frame, and vlan+srcmac XORs in the TCI.
    #[test]
    fn an_outer_tag_is_transparent(mut frame in hostile_frame(), tpid in prop::sample::select(vec![0x8100_u16, 0x88a8]), tci in any::<u16>()) {
        // A whole Ethernet header without a tag of its own, so `tagged` adds the outer one.
        if frame.len() < 14 {
            frame.resize(14, 0);
        }
        if matches!(frame[12..14], [0x81, 0x00] | [0x88, 0xa8]) {
            frame[12..14].copy_from_slice(&[0x08, 0x00]);
        }
        let tagged_frame = tagged(tpid, tci, &frame);
        for policy in [Layer2, Layer23, Layer34] {
            prop_assert_eq!(xmit_hash(policy, &tagged_frame), xmit_hash(policy, &frame), "{:?}", policy);
        }
        prop_assert_eq!(xmit_hash(VlanSrcMac, &tagged_frame), xmit_hash(VlanSrcMac, &frame) ^ u32::from(tci));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    /// The IPv4 fast path answers exactly as the full walk does, for every frame it takes.
    #[test]
    fn fast_path_equals_the_general_path(
        mut frame in proptest::collection::vec(any::<u8>(), 38..120),
        proto in prop_oneof![Just(1u8), Just(6), Just(17), Just(33), Just(50), Just(51), Just(58), Just(132), Just(136), any::<u8>()],
        frag in prop_oneof![Just([0u8, 0]), Just([0x40, 0]), Just([0x20, 0]), Just([0, 1]), any::<[u8; 2]>()],
        ihl in prop_oneof![Just(0x45u8), any::<u8>()],
    ) {
        frame[12] = 0x08;
        frame[13] = 0x00;
        frame[14] = ihl;
        frame[20] = frag[0];
        frame[21] = frag[1];
        frame[23] = proto;
        for policy in [Layer2, Layer23, Layer34] {
            if let Some(fast) = super::fast_ipv4(policy, &frame) {
                prop_assert_eq!(fast, super::xmit_hash_general(policy, &frame), "{:?}", policy);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    /// Under layer2 the fast path agrees with the full walk on any frame, tagged or not.
    #[test]
    fn layer2_fast_path_equals_the_general_path(
        mut frame in proptest::collection::vec(any::<u8>(), 0..40),
        tpid in prop_oneof![Just([0x81u8, 0x00]), Just([0x88, 0xa8]), Just([0x08, 0x00]), any::<[u8; 2]>()],
    ) {
        if frame.len() >= 14 {
            frame[12] = tpid[0];
            frame[13] = tpid[1];
        }
        if let Some(fast) = super::fast_ipv4(Layer2, &frame) {
            prop_assert_eq!(fast, super::xmit_hash_general(Layer2, &frame));
        }
    }
}
