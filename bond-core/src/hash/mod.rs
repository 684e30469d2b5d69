//! Transmit hash policies (`xmit_hash_policy=`), bit-exact with the Linux bonding driver.
//!
//! [`xmit_hash`] returns the value Linux's `bond_xmit_hash()` computes for the same frame on a
//! little-endian machine (x86, ARM); the bond then sends on `usable_ports[hash % count]`. Matching
//! the value, not just its spirit, is what lets a mixed fleet (kernel bonds and ours, or a switch
//! configured from a kernel bond's behaviour) distribute every flow the same way.
//!
//! # The formulas
//!
//! Every word below is built the way Linux builds it in memory and then reads back as a host
//! (little-endian) `u32`; that is why network-order fields look "byte swapped" here.
//!
//! - **layer2**: `dst_mac[5] ^ src_mac[5] ^ ethertype`, the EtherType as a number (0x0800 for
//!   IPv4, as Linux does since 5.15).
//! - **layer2+3**: `h = layer2 ^ addrs`, then `h ^= h >> 16; h ^= h >> 8`. `addrs` is the XOR of
//!   the source and destination addresses; an IPv4 address is its four network-order bytes read
//!   as a little-endian word, an IPv6 address the XOR of its four such words.
//! - **layer3+4**: `h = ports ^ addrs`, the same two folding steps, then `h >> 1` (only the
//!   policies with ports drop the low bit; older kernels also did so for layer2+3, which put hosts
//!   whose addresses differ only in the lowest bit on the same port of a 2-port bond). `ports` is
//!   the first four bytes of the L4 header read little-endian (TCP, UDP, UDP-Lite, SCTP, DCCP;
//!   the SPI for ESP), the four bytes at offset 4 for AH (its SPI), and 0 for anything else, for
//!   any IPv4 fragment (first one included) and when the L4 header is not in the frame.
//!   ICMP/ICMPv6 messages with an identifier (types 0, 8, 13, 14, 128, 129, whatever the IP
//!   version) use `type | code << 8 | id << 16` instead, an identifier of 0 counting as 1. ICMP
//!   errors (IPv4 types 3, 4, 5, 11, 12; ICMPv6 types 1 to 4) take the addresses, and for
//!   layer3+4 the ports, from the quoted packet (parsed as the outer IP version); if that is cut
//!   short, the whole frame falls back to layer2.
//! - **vlan+srcmac**: `tci ^ src_mac[0..3] ^ src_mac[3..6]`, each MAC half read as a big-endian
//!   24-bit number (Linux shifts the bytes in one by one), and `tci` the whole 16-bit tag control
//!   word (priority and DEI included), 0 for an untagged frame.
//! - **encap2+3 / encap3+4**: the layer2+3 / layer3+4 formulas (the layer2 term still the outer
//!   frame's) over what Linux's flow dissector finds. It goes through tunnels and keeps the
//!   innermost addresses and ports: IPv4/IPv6 with extension headers, IP-in-IP in every
//!   combination, GRE (IP, IPv6 or transparent Ethernet bridging inside) and PPTP, PPPoE, HSR/PRP,
//!   batman-adv, in-frame VLAN tags; MPLS and ARP stop it with no addresses; ICMP errors are not
//!   followed into the quote; an IPv4 header length below 20 bytes or a truncated inner header
//!   means layer2. The `flow` submodule documents the details and the limits.
//!
//! Under layer2+3 and layer3+4, a non-IP frame (ARP, LLDP, ...) or a truncated IP header falls
//! back to the layer2 value, unfolded; under the encap policies, so does any frame the flow
//! dissector rejects. A frame shorter than an Ethernet header hashes to 0 under every policy, as
//! in Linux.
//!
//! # VLAN tags
//!
//! When a VLAN device sits on a kernel bond, the tag reaches the bond out of band
//! (`skb->vlan_tci`, "hwaccel"): the bond advertises `NETIF_F_HW_VLAN_CTAG_TX` and `..._STAG_TX`,
//! so the 8021q driver never writes the tag into the frame. What the bond then hashes is:
//! - `skb->data`: the frame *without* the tag, so the Ethernet header's type field (the layer2
//!   term) is the EtherType that followed the tag;
//! - `skb->protocol`: that same inner EtherType (the IP stack set it before the VLAN device added
//!   its tag out of band), and the network header right after the Ethernet header;
//! - `skb_vlan_tag_get()`: the whole TCI, which vlan+srcmac XORs in.
//!
//! Frames that a VLAN device above bondd's TAP sends arrive with the tag in the frame. We hash
//! them exactly as the kernel bond hashes the same packet: an outer tag (TPID 0x8100 or 0x88a8)
//! is taken out and its TCI used as the out-of-band one. A second, inner tag stays in the frame,
//! as it does in Linux: with two stacked VLAN devices the lower one cannot take the upper one's
//! tag out of band (VLAN devices do not offer tag-insertion offload), so the core pushes it into the
//! frame, which also sets `skb->protocol` to its TPID and leaves the network header after it.
//! Linux therefore treats a QinQ frame as non-IP under layer2+3 and layer3+4 (layer2 fallback,
//! EtherType term 0x8100), and so do we. A frame whose EtherType announces a tag but which ends
//! before the tag and the inner EtherType is shorter than the tag-less Ethernet header Linux
//! would see, so it hashes to 0.
//!
//! # Not modelled
//!
//! encap3+4 returns `skb->hash` in Linux when the stack already computed an L4 hash (locally
//! generated TCP carries a random per-socket hash); a frame carries no such value, so we always
//! compute the formula, which is what Linux does for forwarded traffic without one. BPF flow
//! dissector programs, DSA tags and non-Ethernet bonds are out of scope. We also assume, as for
//! any packet the kernel's IP stack sends, that `skb->protocol` is the frame's (inner) EtherType
//! and that the frame carries no Ethernet padding (padding can only matter when a header is cut
//! short).

mod flow;
mod ip;
#[cfg(test)]
mod tests;

use crate::config::XmitHashPolicy;

/// 802.1Q customer tag TPID.
const ETH_P_8021Q: u16 = 0x8100;
/// 802.1ad service tag TPID.
const ETH_P_8021AD: u16 = 0x88a8;
/// IPv4 EtherType.
const ETH_P_IP: u16 = 0x0800;
/// IPv6 EtherType.
const ETH_P_IPV6: u16 = 0x86dd;

/// Linux's xmit hash of an Ethernet frame under `policy` (the value before `% port_count`).
///
/// `frame` starts at the destination MAC and has no FCS; an outer 802.1Q/802.1ad tag in the frame
/// is hashed as Linux hashes the same frame when the tag arrives out of band (see the module
/// documentation). Never panics, allocates nothing and does a single bounded walk over the
/// headers the policy needs (layer2 reads only the Ethernet header).
#[inline]
pub fn xmit_hash(policy: XmitHashPolicy, frame: &[u8]) -> u32 {
    match fast_ipv4(policy, frame) {
        Some(hash) => hash,
        None => xmit_hash_general(policy, frame),
    }
}

/// The common cases in a few loads: an untagged frame under layer2; an untagged IPv4 frame with a 20-byte header that is not a
/// fragment, under layer2+3 or layer3+4 (for a protocol whose ports word is the first four L4
/// bytes). Anything else, and ICMP (whose errors hash the quoted packet), takes the general path.
/// Equal to [`xmit_hash_general`] wherever it answers (a property test checks this).
#[inline(always)]
fn fast_ipv4(policy: XmitHashPolicy, frame: &[u8]) -> Option<u32> {
    if policy == XmitHashPolicy::Layer2 {
        // Linux's default policy: untagged frames need only three bytes.
        let h = frame.first_chunk::<14>()?;
        let ethertype = u16::from_be_bytes([h[12], h[13]]);
        if matches!(ethertype, 0x8100 | 0x88a8) {
            return None;
        }
        return Some(u32::from(h[5] ^ h[11]) ^ u32::from(ethertype));
    }
    if !matches!(policy, XmitHashPolicy::Layer23 | XmitHashPolicy::Layer34) {
        return None;
    }
    let h = frame.first_chunk::<38>()?;
    let not_fragment = (h[20] & 0x3f) | h[21] == 0;
    if h[12] != 0x08 || h[13] != 0x00 || h[14] != 0x45 || !not_fragment {
        return None;
    }
    let word = |i: usize| u32::from_le_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
    let addrs = word(26) ^ word(30);
    let proto = h[23];
    match policy {
        XmitHashPolicy::Layer23 if !matches!(proto, 1 | 58) => {
            Some(fold(u32::from(h[5] ^ h[11]) ^ u32::from(ETH_P_IP) ^ addrs))
        }
        // TCP, UDP, DCCP, ESP (its SPI), SCTP, UDP-Lite.
        XmitHashPolicy::Layer34 if matches!(proto, 6 | 17 | 33 | 50 | 132 | 136) => {
            Some(fold(word(34) ^ addrs) >> 1)
        }
        _ => None,
    }
}

/// Every policy over every frame: the full header walk.
fn xmit_hash_general(policy: XmitHashPolicy, frame: &[u8]) -> u32 {
    let Some(eth) = Frame::parse(frame) else {
        // Shorter than an Ethernet header: Linux's `bond_eth_hash`, `bond_vlan_srcmac_hash` and
        // the IP parsers all fail to pull their header and every path yields 0.
        return 0;
    };
    match policy {
        XmitHashPolicy::Layer2 => eth.layer2(),
        XmitHashPolicy::VlanSrcMac => eth.vlan_srcmac(),
        XmitHashPolicy::Layer23 => match ip::dissect(&eth, false) {
            Some(flow) => fold(eth.layer2() ^ flow.addrs),
            None => eth.layer2(),
        },
        XmitHashPolicy::Layer34 => match ip::dissect(&eth, true) {
            Some(flow) => fold(flow.word ^ flow.addrs) >> 1,
            None => eth.layer2(),
        },
        XmitHashPolicy::Encap23 => match flow::dissect(&eth) {
            Some(flow) => fold(eth.layer2() ^ flow.addrs),
            None => eth.layer2(),
        },
        XmitHashPolicy::Encap34 => match flow::dissect(&eth) {
            Some(flow) => fold(flow.word ^ flow.addrs) >> 1,
            None => eth.layer2(),
        },
    }
}

/// The folding steps of Linux's `bond_ip_hash`, which bring the address bytes down into the low
/// bits that `% count` looks at.
#[inline]
const fn fold(mut h: u32) -> u32 {
    h ^= h >> 16;
    h ^= h >> 8;
    h
}

/// What a dissector found: the two words the L3/L4 formulas XOR together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Flow {
    /// Source XOR destination address words (0 when no address was found).
    addrs: u32,
    /// The ICMP identifier word when the message has one, otherwise the ports word.
    word: u32,
}

/// The ICMP key Linux's `skb_flow_get_icmp_tci` fills in.
#[derive(Debug, Clone, Copy, Default)]
struct Icmp {
    /// ICMP type (0 when the header was not in the frame).
    kind: u8,
    /// `type | code << 8 | id << 16`, as `struct flow_dissector_key_icmp` reads on little-endian.
    word: u32,
    /// The identifier, 1 standing in for 0, and 0 for messages without one.
    id: u16,
}

impl Icmp {
    /// Read the 8-byte ICMP/ICMPv6 header at `off`; all zero when it is not all there, because
    /// Linux then leaves its zeroed key untouched.
    #[inline]
    fn read(buf: &[u8], off: usize) -> Self {
        let Some(h) = chunk::<8>(buf, off) else {
            return Self::default();
        };
        let (kind, code) = (h[0], h[1]);
        // Echo, timestamp and ICMPv6 echo carry an identifier; the type alone decides, whatever
        // the IP version, as in Linux's `icmp_has_id`.
        let id = match kind {
            0 | 8 | 13 | 14 | 128 | 129 => match be16(h[4], h[5]) {
                // Linux uses 0 for "no identifier", so a real identifier of 0 becomes 1.
                0 => 1,
                id => id,
            },
            _ => 0,
        };
        Self {
            kind,
            word: u32::from(kind) | u32::from(code) << 8 | u32::from(id) << 16,
            id,
        }
    }
}

impl Flow {
    /// Linux's choice in `__bond_xmit_hash`: the ICMP word when an identifier was found.
    #[inline]
    const fn new(addrs: u32, ports: u32, icmp: Icmp) -> Self {
        Self {
            addrs,
            word: if icmp.id != 0 { icmp.word } else { ports },
        }
    }
}

/// An Ethernet frame as a kernel bond would see it: an outer VLAN tag taken out of band.
#[derive(Debug, Clone, Copy)]
struct Frame<'a> {
    /// The first 14 bytes; only the MAC addresses (bytes 0..12) are read from it.
    hdr: &'a [u8; 14],
    /// TCI of the outer tag, which Linux would hold in `skb->vlan_tci`.
    tci: Option<u16>,
    /// The EtherType after the outer tag: Linux's `eth->h_proto` and `skb->protocol`.
    ethertype: u16,
    /// Everything after that EtherType. Offsets into it are Linux's `nhoff - ETH_HLEN`.
    l3: &'a [u8],
}

impl<'a> Frame<'a> {
    /// Split off the Ethernet header (and an outer tag); `None` when the tag-less header Linux
    /// would see is incomplete.
    #[inline(always)]
    fn parse(frame: &'a [u8]) -> Option<Self> {
        let (hdr, rest) = frame.split_first_chunk::<14>()?;
        let outer = be16(hdr[12], hdr[13]);
        if is_tpid(outer) {
            let (tag, l3) = rest.split_first_chunk::<4>()?;
            let tci = Some(be16(tag[0], tag[1]));
            Some(Self {
                hdr,
                tci,
                ethertype: be16(tag[2], tag[3]),
                l3,
            })
        } else {
            Some(Self {
                hdr,
                tci: None,
                ethertype: outer,
                l3: rest,
            })
        }
    }

    /// Linux's `bond_eth_hash`.
    #[inline(always)]
    fn layer2(&self) -> u32 {
        u32::from(self.hdr[5] ^ self.hdr[11]) ^ u32::from(self.ethertype)
    }

    /// Linux's `bond_vlan_srcmac_hash`.
    #[inline(always)]
    fn vlan_srcmac(&self) -> u32 {
        let h = self.hdr;
        let vendor = u32::from_be_bytes([0, h[6], h[7], h[8]]);
        let device = u32::from_be_bytes([0, h[9], h[10], h[11]]);
        u32::from(self.tci.unwrap_or(0)) ^ vendor ^ device
    }
}

/// The TPIDs a kernel bond accepts out of band (it offers both CTAG and STAG insertion).
#[inline]
const fn is_tpid(ethertype: u16) -> bool {
    matches!(ethertype, ETH_P_8021Q | ETH_P_8021AD)
}

/// `N` bytes of `buf` at `off`, or `None` when they are not all there (Linux's
/// `__skb_header_pointer` failing).
#[inline(always)]
fn chunk<const N: usize>(buf: &[u8], off: usize) -> Option<&[u8; N]> {
    buf.get(off..)?.first_chunk::<N>()
}

/// A big-endian 16-bit field.
#[inline(always)]
const fn be16(hi: u8, lo: u8) -> u16 {
    u16::from_be_bytes([hi, lo])
}

/// Four bytes of a header as Linux's `memcpy` into a `u32` sees them on little-endian.
#[inline(always)]
const fn le32(b: &[u8; 4]) -> u32 {
    u32::from_le_bytes(*b)
}

/// The XOR of an IPv4 header's two address words.
#[inline]
fn ipv4_addrs(h: &[u8; 20]) -> u32 {
    let (mut src, mut dst) = ([0; 4], [0; 4]);
    src.copy_from_slice(&h[12..16]);
    dst.copy_from_slice(&h[16..20]);
    le32(&src) ^ le32(&dst)
}

/// The XOR of an IPv6 header's two addresses, each folded as Linux's `ipv6_addr_hash` does
/// (the XOR of its four little-endian words); both fold into the same XOR of eight words.
#[inline]
fn ipv6_addrs(h: &[u8; 40]) -> u32 {
    let mut acc = 0;
    let mut word = [0; 4];
    // Eight fixed words (bytes 8..40), so the loop is bounded and unrolled by the compiler.
    for i in 0..8 {
        let at = 8 + 4 * i;
        word.copy_from_slice(&h[at..at + 4]);
        acc ^= le32(&word);
    }
    acc
}

/// Linux's `__skb_flow_get_ports`: the ports word of an L4 header at `off`, 0 when the protocol
/// has none or the bytes are not in the frame.
#[inline]
fn ports_word(buf: &[u8], off: usize, ip_proto: u8) -> u32 {
    // `proto_ports_offset`: TCP, UDP, DCCP, ESP, SCTP, UDP-Lite at 0; AH's SPI at 4.
    let at = match ip_proto {
        6 | 17 | 33 | 50 | 132 | 136 => off,
        51 => off.saturating_add(4),
        _ => return 0,
    };
    chunk::<4>(buf, at).map_or(0, le32)
}
