//! The Slow Protocols demultiplexer (IEEE 802.3 Annex 57A): which frames the bond keeps for
//! LACP and the Marker protocol, which it counts, and which it passes on as normal traffic.
//!
//! [`classify`] mirrors what Linux does in 802.3ad mode, where `bond_3ad_lacpdu_recv` is the
//! bond's receive probe and `bond_3ad_rx_indication` dispatches on the subtype, so that the
//! counters of `/proc` and netlink (`lacpdu_illegal_rx`, `lacpdu_unknown_rx`,
//! `marker_unknown_rx`) count the same frames here as there, and the frames Linux hands on to
//! the stack are handed on here too. In the other modes Linux installs no probe and a Slow
//! Protocols frame is ordinary traffic; the caller simply does not call [`classify`] then.

use core::fmt;

use super::ethernet::{ethertype, EthernetAddress, HEADER_LEN as ETHERNET_HEADER_LEN};
use super::lacp::{LacpduPacket, LacpduRepr};
use super::marker::{MarkerPacket, MarkerRepr};

/// The Slow Protocols EtherType.
pub const SLOW_PROTOCOLS_ETHERTYPE: u16 = ethertype::SLOW;

/// The only destination Linux accepts Slow Protocols PDUs on (01:80:c2:00:00:02).
pub const SLOW_PROTOCOLS_MAC: EthernetAddress = EthernetAddress::SLOW_PROTOCOLS;

/// Octets Linux requires after the Ethernet header before it looks at the subtype:
/// `sizeof(struct lacpdu)`, which is also the size of a Marker PDU.
pub const MIN_PDU_LEN: usize = 110;

/// Slow Protocols subtypes (the first octet after the EtherType).
pub mod subtype {
    /// Link Aggregation Control Protocol.
    pub const LACP: u8 = 0x01;
    /// Link Aggregation Marker Protocol.
    pub const MARKER: u8 = 0x02;
    /// Ethernet OAM (802.3 clause 57); not ours, counted as unknown as Linux does.
    pub const OAM: u8 = 0x03;
    /// Organization Specific Slow Protocol (ESMC/SyncE); not ours either.
    pub const OSSP: u8 = 0x0a;
}

/// Why a Slow Protocols PDU could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    /// Fewer than 110 octets: Linux counts the frame in `lacpdu_illegal_rx`.
    Truncated,
    /// The Subtype octet is not the one of the PDU being parsed (LACPDU parsed as a marker, or
    /// the reverse); [`classify`] never produces this, it dispatches on the subtype first.
    WrongSubtype(u8),
    /// A Marker PDU whose TLV type is neither Information (1) nor Response (2): Linux counts it
    /// in `marker_unknown_rx` (and still consumes the frame).
    UnknownMarkerTlv(u8),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => write!(f, "slow protocols PDU shorter than {MIN_PDU_LEN} octets"),
            Self::WrongSubtype(s) => write!(f, "unexpected slow protocols subtype {s:#04x}"),
            Self::UnknownMarkerTlv(t) => write!(f, "unknown marker TLV type {t:#04x}"),
        }
    }
}

impl core::error::Error for Error {}

/// The result type of the Slow Protocols parsers.
pub type Result<T> = core::result::Result<T, Error>;

/// What a received frame is, as far as the bond's Slow Protocols handling goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SlowFrame<'a> {
    /// Not for the Slow Protocols handler: the EtherType is not 0x8809 (after at most one
    /// 802.1Q/802.1ad tag), or the destination is not 01:80:c2:00:00:02. Linux returns
    /// `RX_HANDLER_ANOTHER` for these, so they go on as normal traffic, uncounted. That includes
    /// a 0x8809 frame to 01:80:c2:00:00:03 or to a unicast address.
    NotSlow,
    /// A Slow Protocols frame shorter than 110 octets after the Ethernet header (and tag).
    /// Linux counts it in `lacpdu_illegal_rx` and then passes it on as normal traffic
    /// (`RX_HANDLER_ANOTHER`); it does not drop it.
    Illegal,
    /// An LACPDU (subtype 1). Linux consumes it.
    Lacpdu {
        /// The decoded fields.
        repr: LacpduRepr,
        /// The PDU itself, from the Subtype octet to the end of the frame, for what the
        /// representation leaves out (for example [`LacpduPacket::tlv_headers_valid`]).
        pdu: LacpduPacket<&'a [u8]>,
    },
    /// A Marker Information or Marker Response PDU (subtype 2). Linux consumes it, counts an
    /// Information in `marker_rx` (and answers it) and a Response in `marker_resp_rx` only.
    Marker(MarkerRepr),
    /// A Marker PDU (subtype 2) whose TLV type is neither 1 nor 2. Linux counts it in
    /// `marker_unknown_rx` (only there: not in `marker_rx`) and consumes it.
    MarkerUnknown,
    /// A Slow Protocols frame with any other subtype (OAM, OSSP, reserved or illegal values).
    /// Linux counts it in `lacpdu_unknown_rx` and then passes it on as normal traffic
    /// (`RX_HANDLER_ANOTHER`), so an OAM or SyncE stack above the bond still sees it.
    Unknown {
        /// The subtype octet found.
        subtype: u8,
    },
}

impl SlowFrame<'_> {
    /// Whether Linux consumes the frame (`RX_HANDLER_CONSUMED`) rather than passing it on to the
    /// normal receive path: true for LACPDUs and for every Marker PDU, known TLV type or not.
    pub const fn is_consumed(&self) -> bool {
        matches!(
            self,
            Self::Lacpdu { .. } | Self::Marker(_) | Self::MarkerUnknown
        )
    }
}

/// Classify a received Ethernet frame (starting at the destination address, without FCS) the
/// way Linux's 802.3ad receive probe does, in the same order:
///
/// 1. EtherType 0x8809, else [`SlowFrame::NotSlow`]. One 802.1Q or 802.1ad tag is looked
///    through: the Linux core strips one tag before the bond's receive handler runs, and unless
///    a VLAN device for that VID sits on the member port itself (never the case for a bond
///    member), the handler sees the inner EtherType and processes the PDU. 802.1AX says Slow
///    Protocols frames are untagged, but priority-tagged (VID 0) frames are to be treated as
///    untagged, and accepting what Linux accepts keeps us interoperable with the same peers.
///    A second tag is not looked through (Linux strips only one before the handler).
/// 2. Destination 01:80:c2:00:00:02, else [`SlowFrame::NotSlow`].
/// 3. At least 110 octets after the header, else [`SlowFrame::Illegal`], whatever the subtype.
/// 4. Subtype 1: [`SlowFrame::Lacpdu`]; subtype 2: [`SlowFrame::Marker`] or
///    [`SlowFrame::MarkerUnknown`]; anything else: [`SlowFrame::Unknown`].
///
/// Never panics, whatever the bytes.
pub fn classify(frame: &[u8]) -> SlowFrame<'_> {
    let Some(pdu_offset) = slow_pdu_offset(frame) else {
        return SlowFrame::NotSlow;
    };
    if frame[..6] != SLOW_PROTOCOLS_MAC.0 {
        return SlowFrame::NotSlow;
    }
    let pdu = &frame[pdu_offset..];
    if pdu.len() < MIN_PDU_LEN {
        return SlowFrame::Illegal;
    }
    match pdu[0] {
        subtype::LACP => {
            let pdu = LacpduPacket::new_unchecked(pdu);
            match LacpduRepr::parse(&pdu) {
                Ok(repr) => SlowFrame::Lacpdu { repr, pdu },
                // Unreachable after the checks above; answered as Linux would answer a PDU it
                // cannot read rather than with a panic.
                Err(_) => SlowFrame::Illegal,
            }
        }
        subtype::MARKER => match MarkerRepr::parse(&MarkerPacket::new_unchecked(pdu)) {
            Ok(repr) => SlowFrame::Marker(repr),
            Err(Error::UnknownMarkerTlv(_)) => SlowFrame::MarkerUnknown,
            Err(_) => SlowFrame::Illegal,
        },
        subtype => SlowFrame::Unknown { subtype },
    }
}

/// Where the Slow Protocols PDU starts when `frame` carries EtherType 0x8809, untagged or
/// behind one 802.1Q/802.1ad tag.
fn slow_pdu_offset(frame: &[u8]) -> Option<usize> {
    let ethertype_at = |at: usize| {
        frame
            .get(at..at + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
    };
    match ethertype_at(12)? {
        SLOW_PROTOCOLS_ETHERTYPE => Some(ETHERNET_HEADER_LEN),
        ethertype::VLAN | ethertype::QINQ => {
            (ethertype_at(16)? == SLOW_PROTOCOLS_ETHERTYPE).then_some(ETHERNET_HEADER_LEN + 4)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::lacp::fixtures::V1_CISCO;
    use crate::wire::lacp::{emit_lacpdu_frame, PortInfo, PortState, LACP_FRAME_LEN};
    use crate::wire::marker::{emit_marker_frame, MarkerKind};
    use proptest::prelude::*;

    fn lacp_frame() -> [u8; LACP_FRAME_LEN] {
        V1_CISCO
    }

    fn marker_frame(tlv_type: u8) -> [u8; 124] {
        let mut buf = [0u8; 124];
        let repr = MarkerRepr {
            kind: MarkerKind::Information,
            requester_port: 7,
            requester_system: EthernetAddress([2, 0, 0, 0, 0, 1]),
            transaction_id: 0x0102_0304,
        };
        emit_marker_frame(&mut buf, EthernetAddress([2, 0, 0, 0, 0, 1]), &repr);
        buf[16] = tlv_type;
        buf
    }

    #[test]
    fn lacpdu_is_consumed() {
        let f = lacp_frame();
        let SlowFrame::Lacpdu { repr, pdu } = classify(&f) else {
            panic!("{:?}", classify(&f));
        };
        assert_eq!(repr.actor.port, 0x16);
        assert!(pdu.tlv_headers_valid());
        assert!(classify(&f).is_consumed());
    }

    #[test]
    fn subtypes_other_than_lacp_and_marker_are_unknown_and_passed_on() {
        for st in [0x00, 0x03, 0x04, 0x0a, 0x0b, 0xff] {
            let mut f = lacp_frame();
            f[14] = st;
            assert_eq!(classify(&f), SlowFrame::Unknown { subtype: st });
            assert!(!classify(&f).is_consumed());
        }
    }

    #[test]
    fn every_truncation_is_illegal_or_not_slow() {
        let f = lacp_frame();
        for len in 0..f.len() {
            let got = classify(&f[..len]);
            // Linux needs the EtherType to know it is a slow frame at all.
            let want = if len < 14 {
                SlowFrame::NotSlow
            } else {
                SlowFrame::Illegal
            };
            assert_eq!(got, want, "length {len}");
            assert!(!got.is_consumed());
        }
        assert!(matches!(classify(&f), SlowFrame::Lacpdu { .. }));
    }

    #[test]
    fn short_frames_are_illegal_whatever_the_subtype() {
        // Linux checks the length before it reads the subtype.
        let mut f = lacp_frame();
        f[14] = 0x03;
        assert_eq!(classify(&f[..100]), SlowFrame::Illegal);
        let m = marker_frame(9);
        assert_eq!(classify(&m[..123]), SlowFrame::Illegal);
    }

    #[test]
    fn other_destinations_and_ethertypes_are_not_slow() {
        let mut f = lacp_frame();
        f[5] = 0x03; // Nearest non-TPMR Bridge group: Linux accepts only ...:02.
        assert_eq!(classify(&f), SlowFrame::NotSlow);
        let mut f = lacp_frame();
        f[..6].copy_from_slice(&[0x02, 0, 0, 0, 0, 1]);
        assert_eq!(classify(&f), SlowFrame::NotSlow);
        let mut f = lacp_frame();
        f[12..14].copy_from_slice(&[0x08, 0x00]);
        assert_eq!(classify(&f), SlowFrame::NotSlow);
    }

    #[test]
    fn one_vlan_tag_is_looked_through_as_linux_does() {
        let untagged = lacp_frame();
        for tpid in [[0x81, 0x00], [0x88, 0xa8]] {
            let mut tagged = [0u8; 128];
            tagged[..12].copy_from_slice(&untagged[..12]);
            tagged[12..14].copy_from_slice(&tpid);
            tagged[14..16].copy_from_slice(&[0x00, 0x05]);
            tagged[16..].copy_from_slice(&untagged[12..]);
            let (SlowFrame::Lacpdu { repr: a, .. }, SlowFrame::Lacpdu { repr: b, .. }) =
                (classify(&tagged), classify(&untagged))
            else {
                panic!("{:?}", classify(&tagged));
            };
            assert_eq!(a, b);
            // 110 octets are needed after the tag, not after the TPID.
            assert_eq!(classify(&tagged[..127]), SlowFrame::Illegal);
            // Two tags: Linux strips only the outer one before the bond sees the frame.
            let mut double = [0u8; 132];
            double[..16].copy_from_slice(&tagged[..16]);
            double[16..18].copy_from_slice(&[0x81, 0x00]);
            double[18..20].copy_from_slice(&[0x00, 0x06]);
            double[20..].copy_from_slice(&untagged[12..]);
            assert_eq!(classify(&double), SlowFrame::NotSlow);
        }
    }

    #[test]
    fn markers() {
        let info = marker_frame(1);
        let SlowFrame::Marker(m) = classify(&info) else {
            panic!()
        };
        assert_eq!(m.kind, MarkerKind::Information);
        assert_eq!(m.transaction_id, 0x0102_0304);
        let resp = marker_frame(2);
        assert!(matches!(
            classify(&resp),
            SlowFrame::Marker(MarkerRepr {
                kind: MarkerKind::Response,
                ..
            })
        ));
        for t in [0, 3, 0xff] {
            let f = marker_frame(t);
            assert_eq!(classify(&f), SlowFrame::MarkerUnknown);
            assert!(classify(&f).is_consumed());
        }
    }

    #[test]
    fn longer_frames_are_accepted() {
        let mut big = [0u8; 1514];
        big[..124].copy_from_slice(&lacp_frame());
        big[124..].fill(0x5a);
        assert!(matches!(classify(&big), SlowFrame::Lacpdu { .. }));
    }

    #[test]
    fn error_display() {
        use core::fmt::Write;
        let mut s = heapless::String::<64>::new();
        write!(s, "{}", Error::UnknownMarkerTlv(3)).unwrap();
        assert_eq!(s, "unknown marker TLV type 0x03");
    }

    /// A frame that often looks like a Slow Protocols frame: the EtherType, destination and
    /// subtype are biased towards the values `classify` dispatches on.
    fn slowish_frame() -> impl Strategy<Value = Vec<u8>> {
        (
            proptest::collection::vec(any::<u8>(), 0..200),
            any::<bool>(),
            any::<bool>(),
            prop_oneof![Just(1u8), Just(2u8), any::<u8>()],
            prop_oneof![Just(1u8), Just(2u8), any::<u8>()],
        )
            .prop_map(|(mut f, slow_da, tagged, subtype, tlv)| {
                if slow_da && f.len() >= 6 {
                    f[..6].copy_from_slice(&SLOW_PROTOCOLS_MAC.0);
                }
                let at = if tagged && f.len() >= 16 {
                    f[12..14].copy_from_slice(&[0x81, 0x00]);
                    16
                } else {
                    12
                };
                if f.len() >= at + 2 {
                    f[at..at + 2].copy_from_slice(&[0x88, 0x09]);
                }
                if let Some(b) = f.get_mut(at + 2) {
                    *b = subtype;
                }
                if let Some(b) = f.get_mut(at + 4) {
                    *b = tlv;
                }
                f
            })
    }

    proptest! {
        #[test]
        fn classify_never_panics(frame in slowish_frame()) {
            let c = classify(&frame);
            if let SlowFrame::Lacpdu { repr, pdu } = c {
                prop_assert_eq!(LacpduRepr::parse(&pdu), Ok(repr));
            }
        }

        #[test]
        fn classify_finds_what_we_emit(
            system in any::<[u8; 6]>(),
            port in any::<u16>(),
            state in any::<u8>(),
        ) {
            let repr = LacpduRepr {
                version: 1,
                actor: PortInfo {
                    system_priority: 0xffff,
                    system: EthernetAddress(system),
                    key: 9,
                    port_priority: 0xff,
                    port,
                    state: PortState(state),
                },
                partner: PortInfo::default(),
                collector_max_delay: 0,
            };
            let mut buf = [0u8; LACP_FRAME_LEN];
            let n = emit_lacpdu_frame(&mut buf, EthernetAddress(system), &repr);
            let SlowFrame::Lacpdu { repr: got, .. } = classify(&buf[..n]) else {
                return Err(TestCaseError::fail("not an LACPDU"));
            };
            prop_assert_eq!(got, repr);
        }
    }
}
