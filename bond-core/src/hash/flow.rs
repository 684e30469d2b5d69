//! The header walk of encap2+3 and encap3+4: a model of Linux's `__skb_flow_dissect` as the
//! bonding driver calls it (its own key set `flow_keys_bonding`, `flags == 0`, `data` given).
//!
//! `flags == 0` means no `FLOW_DISSECTOR_F_STOP_AT_ENCAP`: the dissector goes through tunnels and
//! the addresses and ports of the *innermost* headers it reaches win. Without
//! `FLOW_DISSECTOR_F_PARSE_1ST_FRAG` it stops at any fragment, with addresses but no ports. It
//! walks at most 16 protocol headers (`MAX_FLOW_DISSECT_HDRS` is 15 further steps), so a frame
//! full of extension headers or nested tunnels costs a bounded amount of work.
//!
//! Covered as in Linux 6.1 (x86):
//! - IPv4 (a header length below 20 bytes is rejected here, unlike in layer3+4) and IPv6, with
//!   hop-by-hop, routing, destination-options and fragment headers;
//! - IPv4-in-IPv4, IPv6-in-IPv4, IPv4-in-IPv6, IPv6-in-IPv6, GRE version 0 (checksum, key and
//!   sequence fields; IP, IPv6 or transparent Ethernet bridging inside, any EtherType below that
//!   handled again) and PPTP's GRE version 1 with PPP inside; GRE with routing, or of version 2
//!   and above, stops the walk at the outer headers;
//! - 802.1Q/802.1ad tags in the frame (see the VLAN note below), PPPoE sessions (IP, IPv6, MPLS;
//!   compressed protocol fields too, as 6.1 does), HSR and PRP tags, batman-adv unicast;
//! - MPLS (the walk stops at the label: bonding's key set has no MPLS key, so no addresses),
//!   ARP/RARP (stop, no addresses), PTP over Ethernet, FCoE, TIPC (its node identity as the source
//!   "address"; for keepalive messages Linux draws a random key, we keep the node identity);
//! - ICMP and ICMPv6 type/code/identifier (errors are *not* followed into the quoted packet here;
//!   that is layer3+4's own logic);
//! - any other EtherType: no flow, so the bond falls back to layer2.
//!
//! Not covered: BPF flow dissector programs, DSA tags, the `NET_IP_ALIGN` cap some architectures
//! put on GRE's inner Ethernet header (it only changes FCoE inside GRE), and what kernels after
//! 6.1 changed (they stop at an EtherType-0x8902 CFM frame with no addresses, where we fall back
//! to layer2, and no longer follow a PPPoE frame with a compressed protocol field).
//!
//! VLAN note: Linux passes `skb->protocol` as the starting protocol and, while the outer tag is
//! out of band, treats the *first* 802.1Q/802.1ad protocol it meets as that out-of-band tag:
//! it moves on to `skb->protocol` without consuming any bytes. With a second tag in the frame
//! (QinQ) `skb->protocol` is that tag's TPID and the network offset already lies after it, so the
//! next step reads the IP header's first four bytes as a "tag" and, unless the IP total length
//! happens to be a known EtherType, gives up: Linux hashes such frames with the layer2 formula.
//! We model exactly that, because the goal is to pick the port Linux picks.

use super::{
    be16, chunk, ipv4_addrs, ipv6_addrs, is_tpid, le32, ports_word, Flow, Frame, Icmp, ETH_P_IP,
    ETH_P_IPV6,
};

/// Most tags a stack of kernel VLAN devices can put in a frame (Linux's `MAX_NEST_DEV`).
const MAX_INBAND_TAGS: usize = 8;
/// Linux's `MAX_FLOW_DISSECT_HDRS`: how many times the walk may go round again.
const MAX_FLOW_DISSECT_HDRS: u8 = 15;

const ETH_P_ARP: u16 = 0x0806;
const ETH_P_RARP: u16 = 0x8035;
const ETH_P_PPP_SES: u16 = 0x8864;
const ETH_P_MPLS_UC: u16 = 0x8847;
const ETH_P_MPLS_MC: u16 = 0x8848;
const ETH_P_TIPC: u16 = 0x88ca;
const ETH_P_FCOE: u16 = 0x8906;
const ETH_P_BATMAN: u16 = 0x4305;
const ETH_P_1588: u16 = 0x88f7;
const ETH_P_HSR: u16 = 0x892f;
const ETH_P_PRP: u16 = 0x88fb;
const ETH_P_TEB: u16 = 0x6558;
const GRE_PROTO_PPP: u16 = 0x880b;

// GRE flag bits, in the big-endian flags word.
const GRE_CSUM: u16 = 0x8000;
const GRE_ROUTING: u16 = 0x4000;
const GRE_KEY: u16 = 0x2000;
const GRE_SEQ: u16 = 0x1000;
const GRE_ACK: u16 = 0x0080;
const GRE_VERSION: u16 = 0x0007;

/// Linux's `enum flow_dissect_ret`; its `OUT_BAD` is `None` where a step returns `Option<Step>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Stop: a flow was found.
    Good,
    /// Dissect `proto` at `nh` next.
    ProtoAgain,
    /// Dissect `ip_proto` at `nh` next.
    IpProtoAgain,
    /// Go on to the L4 step, or finish after it.
    Continue,
}

/// The dissector's state (the parts of `struct flow_keys` the bond reads, plus the walk).
struct Dissector<'a> {
    /// The bytes after the Ethernet header; offsets are Linux's `nhoff - ETH_HLEN`.
    l3: &'a [u8],
    /// Whether the frame's outer tag is (modelled as) out of band.
    hwaccel: bool,
    /// `skb->protocol`.
    skb_protocol: u16,
    /// The protocol to dissect at `nh`.
    proto: u16,
    /// The current header offset.
    nh: usize,
    /// The IP protocol to dissect at `nh`.
    ip_proto: u8,
    /// A VLAN protocol was already met (`dissector_vlan != FLOW_DISSECTOR_KEY_MAX`).
    vlan_seen: bool,
    /// `FLOW_DIS_IS_FRAGMENT`: no more ports words.
    fragment: bool,
    /// Rounds taken so far.
    num_hdrs: u8,
    /// Address words of the last address-bearing header, XORed (`flow_get_u32_src ^ _dst`).
    addrs: u32,
    /// The ports word.
    ports: u32,
    /// The ICMP key.
    icmp: Icmp,
}

/// Linux's `__skb_flow_dissect` with bonding's keys; `None` means "use the layer2 formula".
pub(super) fn dissect(frame: &Frame<'_>) -> Option<Flow> {
    let mut d = Dissector {
        l3: frame.l3,
        hwaccel: frame.tci.is_some(),
        skb_protocol: frame.ethertype,
        proto: frame.ethertype,
        nh: inband_tags_len(frame),
        ip_proto: 0,
        vlan_seen: false,
        fragment: false,
        num_hdrs: 0,
        addrs: 0,
        ports: 0,
        icmp: Icmp::default(),
    };
    d.run().then(|| Flow::new(d.addrs, d.ports, d.icmp))
}

/// Where the kernel's network header lies when inner tags were pushed into the frame: after all
/// of them (see the module's VLAN note).
fn inband_tags_len(frame: &Frame<'_>) -> usize {
    let mut ethertype = frame.ethertype;
    let mut len = 0;
    for _ in 0..MAX_INBAND_TAGS {
        if !is_tpid(ethertype) {
            break;
        }
        let Some(tag) = chunk::<4>(frame.l3, len) else {
            break;
        };
        ethertype = be16(tag[2], tag[3]);
        len += 4;
    }
    len
}

impl Dissector<'_> {
    /// Linux's `skb_flow_dissect_allowed`: count a further round and say whether it may run.
    #[inline]
    fn allowed(&mut self) -> bool {
        self.num_hdrs += 1;
        self.num_hdrs <= MAX_FLOW_DISSECT_HDRS
    }

    /// The walk; `true` for `out_good`. Every loop-back goes through [`Self::allowed`], so it
    /// runs at most `MAX_FLOW_DISSECT_HDRS + 1` protocol rounds.
    fn run(&mut self) -> bool {
        'proto: loop {
            match self.proto_step() {
                None => return false,
                Some(Step::Good) => return true,
                Some(Step::ProtoAgain) => {
                    if self.allowed() {
                        continue 'proto;
                    }
                    return true;
                }
                Some(Step::Continue | Step::IpProtoAgain) => {}
            }
            loop {
                let step = self.ip_proto_step();
                if !self.fragment {
                    self.ports = ports_word(self.l3, self.nh, self.ip_proto);
                }
                match step {
                    None => return false,
                    Some(Step::ProtoAgain) if self.allowed() => continue 'proto,
                    Some(Step::IpProtoAgain) if self.allowed() => continue,
                    // Good, Continue, or a round too many: stop with what was found.
                    Some(_) => return true,
                }
            }
        }
    }

    /// The `switch (proto)` half.
    fn proto_step(&mut self) -> Option<Step> {
        let (l3, nh) = (self.l3, self.nh);
        match self.proto {
            ETH_P_IP => {
                let h = chunk::<20>(l3, nh)?;
                let ihl = h[0] & 0x0f;
                if ihl < 5 {
                    return None;
                }
                self.nh = nh.saturating_add(usize::from(ihl) * 4);
                self.ip_proto = h[9];
                self.addrs = ipv4_addrs(h);
                if be16(h[6], h[7]) & 0x3fff != 0 {
                    // Any fragment, the first one included (no PARSE_1ST_FRAG): no ports.
                    self.fragment = true;
                    return Some(Step::Good);
                }
                Some(Step::Continue)
            }
            ETH_P_IPV6 => {
                let h = chunk::<40>(l3, nh)?;
                self.ip_proto = h[6];
                self.nh = nh.saturating_add(40);
                self.addrs = ipv6_addrs(h);
                Some(Step::Continue)
            }
            p if is_tpid(p) => {
                if !self.vlan_seen && self.hwaccel {
                    // Linux takes this for the out-of-band tag and consumes nothing.
                    self.proto = self.skb_protocol;
                } else {
                    let tag = chunk::<4>(l3, nh)?;
                    self.proto = be16(tag[2], tag[3]);
                    self.nh = nh.saturating_add(4);
                }
                self.vlan_seen = true;
                Some(Step::ProtoAgain)
            }
            ETH_P_PPP_SES => self.pppoe(),
            ETH_P_TIPC => {
                let h = chunk::<16>(l3, nh)?;
                // `tipc_hdr_rps_key`: the source node identity (word 3); it is the "source
                // address" and the destination counts as 0.
                let mut w3 = [0; 4];
                w3.copy_from_slice(&h[12..16]);
                self.addrs = le32(&w3);
                Some(Step::Good)
            }
            // No MPLS key in bonding's set: Linux stops at once, before reading the label.
            ETH_P_MPLS_UC | ETH_P_MPLS_MC => Some(Step::Good),
            ETH_P_FCOE => {
                if l3.len().saturating_sub(nh) < 38 {
                    return None;
                }
                Some(Step::Good)
            }
            // No ARP key in bonding's set: stop with no addresses.
            ETH_P_ARP | ETH_P_RARP => Some(Step::Good),
            ETH_P_BATMAN => {
                // A batman-adv unicast header (10 bytes) and the Ethernet header it carries.
                let h = chunk::<24>(l3, nh)?;
                if h[1] != 15 || h[0] != 0x40 {
                    return None;
                }
                self.proto = be16(h[22], h[23]);
                self.nh = nh.saturating_add(24);
                Some(Step::ProtoAgain)
            }
            ETH_P_1588 => {
                // A PTP header (34 bytes) must be there; nothing in it is hashed.
                chunk::<34>(l3, nh)?;
                Some(Step::Good)
            }
            ETH_P_HSR | ETH_P_PRP => {
                let h = chunk::<6>(l3, nh)?;
                self.proto = be16(h[4], h[5]);
                self.nh = nh.saturating_add(6);
                Some(Step::ProtoAgain)
            }
            _ => None,
        }
    }

    /// A PPPoE session header and the PPP protocol field after it, as Linux 6.1 reads them.
    fn pppoe(&mut self) -> Option<Step> {
        let h = chunk::<8>(self.l3, self.nh)?;
        // Version 1, type 1, code 0.
        if h[0] != 0x11 || h[1] != 0 {
            return None;
        }
        let mut ppp = be16(h[6], h[7]);
        if ppp & 0x0100 != 0 {
            // A compressed (one-byte) protocol field.
            ppp >>= 8;
            self.nh = self.nh.saturating_add(7);
        } else {
            self.nh = self.nh.saturating_add(8);
        }
        self.proto = match ppp {
            0x0021 => ETH_P_IP,
            0x0057 => ETH_P_IPV6,
            0x0281 => ETH_P_MPLS_UC,
            0x0283 => ETH_P_MPLS_MC,
            // Any other valid PPP protocol stops the walk with what was found so far.
            p if p & 0x0101 == 0x0001 => return Some(Step::Good),
            _ => return None,
        };
        Some(Step::ProtoAgain)
    }

    /// The `switch (ip_proto)` half.
    fn ip_proto_step(&mut self) -> Option<Step> {
        let (l3, nh) = (self.l3, self.nh);
        match self.ip_proto {
            47 => self.gre(),
            // Hop-by-hop, routing and destination options: only after IPv6.
            0 | 43 | 60 => {
                if self.proto != ETH_P_IPV6 {
                    return Some(Step::Continue);
                }
                let h = chunk::<2>(l3, nh)?;
                self.ip_proto = h[0];
                self.nh = nh.saturating_add((usize::from(h[1]) + 1) * 8);
                Some(Step::IpProtoAgain)
            }
            44 => {
                if self.proto != ETH_P_IPV6 {
                    return Some(Step::Continue);
                }
                let h = chunk::<8>(l3, nh)?;
                self.fragment = true;
                self.nh = nh.saturating_add(8);
                self.ip_proto = h[0];
                Some(Step::Good)
            }
            4 => {
                self.proto = ETH_P_IP;
                Some(Step::ProtoAgain)
            }
            41 => {
                self.proto = ETH_P_IPV6;
                Some(Step::ProtoAgain)
            }
            137 => {
                self.proto = ETH_P_MPLS_UC;
                Some(Step::ProtoAgain)
            }
            1 | 58 => {
                self.icmp = Icmp::read(l3, nh);
                Some(Step::Continue)
            }
            _ => Some(Step::Continue),
        }
    }

    /// Linux's `__skb_flow_dissect_gre`.
    fn gre(&mut self) -> Option<Step> {
        let (l3, nh) = (self.l3, self.nh);
        let h = chunk::<4>(l3, nh)?;
        let flags = be16(h[0], h[1]);
        // Only GRE without routing, of version 0 or 1, is looked into.
        if flags & GRE_ROUTING != 0 {
            return Some(Step::Good);
        }
        let version = flags & GRE_VERSION;
        if version > 1 {
            return Some(Step::Good);
        }
        self.proto = be16(h[2], h[3]);
        // Version 1 must be PPTP: PPP with a key.
        if version == 1 && !(self.proto == GRE_PROTO_PPP && flags & GRE_KEY != 0) {
            return Some(Step::Good);
        }
        let mut off = nh.saturating_add(4);
        if flags & GRE_CSUM != 0 {
            off = off.saturating_add(4);
        }
        if flags & GRE_KEY != 0 {
            chunk::<4>(l3, off)?;
            off = off.saturating_add(4);
        }
        if flags & GRE_SEQ != 0 {
            off = off.saturating_add(4);
        }
        if version == 0 {
            if self.proto == ETH_P_TEB {
                let eth = chunk::<14>(l3, off)?;
                self.proto = be16(eth[12], eth[13]);
                off = off.saturating_add(14);
            }
        } else {
            if flags & GRE_ACK != 0 {
                off = off.saturating_add(4);
            }
            let ppp = chunk::<4>(l3, off)?;
            match be16(ppp[2], ppp[3]) {
                0x0021 => self.proto = ETH_P_IP,
                0x0057 => self.proto = ETH_P_IPV6,
                // Linux keeps GRE_PROTO_PPP, which the next round rejects.
                _ => {}
            }
            off = off.saturating_add(4);
        }
        self.nh = off;
        Some(Step::ProtoAgain)
    }
}
