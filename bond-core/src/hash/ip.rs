//! The header walk of layer2+3 and layer3+4: Linux's `bond_flow_dissect` / `bond_flow_ip`.
//!
//! It is deliberately shallower than the flow dissector: one IPv4 or IPv6 header chosen by
//! `skb->protocol`, no IPv6 extension headers (a hop-by-hop header before TCP leaves the ports
//! word at 0), and for ICMP errors one step into the quoted packet. Its quirks are kept because
//! they decide the port: the IPv4 version field is not checked, a header length below 20 bytes is
//! used as found (the ports word is then read from inside the IP header), and a header longer than
//! the frame only loses the ports word.
//!
//! This is the hot path of balance-xor and 802.3ad, so the common case (one IP header, then TCP
//! or UDP) is straight-line code and ICMP is handled out of line.

use super::{chunk, ipv4_addrs, ipv6_addrs, ports_word, Flow, Frame, Icmp, ETH_P_IP, ETH_P_IPV6};

/// What one IP header gave: Linux's `bond_flow_ip`.
#[derive(Clone, Copy)]
struct Ip {
    /// Source XOR destination address words.
    addrs: u32,
    /// Offset of the L4 header (the IP header length taken as found).
    l4: usize,
    /// The L4 protocol; `None` for an IPv4 fragment (Linux leaves its previous value).
    proto: Option<u8>,
}

/// Parse the IP header at `off` as `skb->protocol` says; `None` when it is not all there or the
/// protocol is not IP.
#[inline(always)]
fn ip(l3: &[u8], proto: u16, off: usize) -> Option<Ip> {
    match proto {
        ETH_P_IP => {
            // Linux pulls only the fixed 20 bytes, whatever the header length says.
            let h = chunk::<20>(l3, off)?;
            Some(Ip {
                addrs: ipv4_addrs(h),
                l4: off.saturating_add(usize::from(h[0] & 0x0f) * 4),
                // MF set or a non-zero offset: the first fragment loses its ports too.
                proto: (u16::from_be_bytes([h[6], h[7]]) & 0x3fff == 0).then_some(h[9]),
            })
        }
        ETH_P_IPV6 => {
            let h = chunk::<40>(l3, off)?;
            Some(Ip {
                addrs: ipv6_addrs(h),
                l4: off.saturating_add(40),
                proto: Some(h[6]),
            })
        }
        _ => None,
    }
}

/// Linux's `bond_flow_dissect` for layer2+3 (`l34 == false`) and layer3+4; `None` means "use the
/// layer2 formula".
#[inline(always)]
pub(super) fn dissect(frame: &Frame<'_>, l34: bool) -> Option<Flow> {
    let outer = ip(frame.l3, frame.ethertype, 0)?;
    match outer.proto {
        Some(p @ (1 | 58)) => icmp(frame.l3, frame.ethertype, outer.addrs, outer.l4, p, l34),
        // The ports word matters to layer3+4 only; layer2+3 does not even read it.
        Some(p) if l34 => Some(Flow {
            addrs: outer.addrs,
            word: ports_word(frame.l3, outer.l4, p),
        }),
        _ => Some(Flow {
            addrs: outer.addrs,
            word: 0,
        }),
    }
}

/// The ICMP part of `bond_flow_dissect` for a message at `l4` in an IP packet whose addresses
/// gave `addrs`; out of line (and with scalar arguments) to keep the TCP/UDP path short.
#[inline(never)]
fn icmp(l3: &[u8], proto: u16, addrs: u32, l4: usize, ip_proto: u8, l34: bool) -> Option<Flow> {
    let icmp = Icmp::read(l3, l4);
    // The L4 protocol number picks the error list, not the IP version.
    let error = match ip_proto {
        1 => matches!(icmp.kind, 3 | 4 | 5 | 11 | 12),
        _ => matches!(icmp.kind, 1..=4),
    };
    if !error {
        // ICMP has no ports word, so a message without identifier hashes its addresses only.
        return Some(Flow::new(addrs, 0, icmp));
    }
    // An error quotes the offending packet after its 8-byte header, parsed as the outer IP
    // version: hash that packet's addresses and ports so the error follows its flow. If the quote
    // is cut short, the whole frame falls back to layer2, as in Linux.
    let inner = ip(l3, proto, l4.saturating_add(8))?;
    // A quoted IPv4 fragment leaves Linux's protocol at ICMP, which has no ports word.
    let ports = match inner.proto {
        Some(p) if l34 => ports_word(l3, inner.l4, p),
        _ => 0,
    };
    Some(Flow::new(inner.addrs, ports, icmp))
}
