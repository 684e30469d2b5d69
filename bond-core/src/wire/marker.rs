//! Marker PDUs (IEEE 802.1AX-2014 6.5.3, formerly 802.3 clause 43.5.3): Marker Information
//! (a request) and Marker Response, a checked view ([`MarkerPacket`]), the decoded form
//! ([`MarkerRepr`]) and the frame emitter.
//!
//! ```text
//! 0 subtype 02 | 1 version 01 | 2 TLV 01 or 02 | 3 len 10 | 4..6 Requester_Port
//! 6..12 Requester_System | 12..16 Requester_Transaction_ID | 16..18 pad
//! 18 TLV 00 | 19 len 00 | 20..110 reserved
//! ```
//!
//! Receive tolerance follows Linux, which reads nothing but the TLV type: the version, the
//! length octet, the pad and the reserved octets are ignored (FreeBSD's stricter checks would
//! refuse PDUs Linux answers). An unknown TLV type is reported as
//! [`Error::UnknownMarkerTlv`] so the bond can count it in `marker_unknown_rx`.
//!
//! A response is emitted in standard form, version 1 and zero pad, rather than as a copy of the
//! request with the TLV type changed as Linux does; the two differ only when the request
//! itself was not standard, and then a standard answer is the safer one.

use super::ethernet::{self, ethertype, EthernetAddress, HEADER_LEN as ETHERNET_HEADER_LEN};
use super::slow::{subtype, Error, Result};

/// Octets of a Marker PDU, from the Subtype octet to the end of the reserved octets.
pub const MARKER_PDU_LEN: usize = 110;

/// Octets of an untagged Marker frame without FCS: Ethernet header plus [`MARKER_PDU_LEN`].
pub const MARKER_FRAME_LEN: usize = ETHERNET_HEADER_LEN + MARKER_PDU_LEN;

/// The Marker protocol version we transmit.
pub const MARKER_VERSION: u8 = 1;

/// Marker_Information_Length and Marker_Response_Information_Length: 16, header included
/// (Linux's header comment says 0x16, which is wrong; its code and every peer use 0x10).
pub const MARKER_INFO_LEN: u8 = 0x10;

/// Byte offsets of the Marker PDU fields, counted from the Subtype octet.
pub mod field {
    /// A byte range inside the PDU.
    pub type Field = core::ops::Range<usize>;

    /// Subtype (2 for the Marker protocol).
    pub const SUBTYPE: usize = 0;
    /// Version_Number.
    pub const VERSION: usize = 1;
    /// TLV_type: 1 Marker Information, 2 Marker Response Information.
    pub const TLV_TYPE: usize = 2;
    /// Marker_Information_Length.
    pub const INFO_LEN: usize = 3;
    /// Requester_Port.
    pub const REQUESTER_PORT: Field = 4..6;
    /// Requester_System.
    pub const REQUESTER_SYSTEM: Field = 6..12;
    /// Requester_Transaction_ID.
    pub const REQUESTER_TRANSACTION_ID: Field = 12..16;
    /// Pad.
    pub const PAD: Field = 16..18;
    /// TLV_type of the Terminator.
    pub const TERMINATOR_TLV_TYPE: usize = 18;
    /// Terminator_Length.
    pub const TERMINATOR_LEN: usize = 19;
    /// Reserved up to 110 octets.
    pub const RESERVED: Field = 20..110;
}

/// Which Marker PDU this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum MarkerKind {
    /// Marker Information (TLV type 1): a request the partner must answer.
    Information,
    /// Marker Response Information (TLV type 2): the answer.
    Response,
}

impl MarkerKind {
    /// The TLV_type octet.
    pub const fn tlv_type(self) -> u8 {
        match self {
            Self::Information => 0x01,
            Self::Response => 0x02,
        }
    }

    /// The kind for a TLV_type octet, if it is one of the two defined.
    pub const fn from_tlv_type(tlv_type: u8) -> Option<Self> {
        match tlv_type {
            0x01 => Some(Self::Information),
            0x02 => Some(Self::Response),
            _ => None,
        }
    }
}

/// A view of a Marker PDU in a byte buffer, from the Subtype octet on.
///
/// After [`new_checked`](Self::new_checked) (or [`check_len`](Self::check_len)) succeeds, no
/// getter or setter panics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MarkerPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> MarkerPacket<T> {
    /// Wrap `buffer` without checking its length; getters panic if it is shorter than
    /// [`MARKER_PDU_LEN`].
    pub const fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// Wrap `buffer`, checking that it can hold a Marker PDU.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Err([`Error::Truncated`]) if the buffer is shorter than [`MARKER_PDU_LEN`]. Linux needs
    /// the full 110 octets before it looks at any Slow Protocols PDU, markers included.
    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < MARKER_PDU_LEN {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Subtype.
    pub fn subtype(&self) -> u8 {
        self.buffer.as_ref()[field::SUBTYPE]
    }

    /// Version_Number.
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VERSION]
    }

    /// TLV_type.
    pub fn tlv_type(&self) -> u8 {
        self.buffer.as_ref()[field::TLV_TYPE]
    }

    /// Marker_Information_Length.
    pub fn info_len(&self) -> u8 {
        self.buffer.as_ref()[field::INFO_LEN]
    }

    /// Requester_Port.
    pub fn requester_port(&self) -> u16 {
        let b = &self.buffer.as_ref()[field::REQUESTER_PORT];
        u16::from_be_bytes([b[0], b[1]])
    }

    /// Requester_System.
    pub fn requester_system(&self) -> EthernetAddress {
        EthernetAddress::from_bytes(&self.buffer.as_ref()[field::REQUESTER_SYSTEM])
    }

    /// Requester_Transaction_ID.
    pub fn transaction_id(&self) -> u32 {
        let b = &self.buffer.as_ref()[field::REQUESTER_TRANSACTION_ID];
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }

    /// The two pad octets after the transaction ID, as a number (0 when well formed).
    pub fn pad(&self) -> u16 {
        let b = &self.buffer.as_ref()[field::PAD];
        u16::from_be_bytes([b[0], b[1]])
    }

    /// The Terminator's TLV_type octet.
    pub fn terminator_tlv_type(&self) -> u8 {
        self.buffer.as_ref()[field::TERMINATOR_TLV_TYPE]
    }

    /// Terminator_Length.
    pub fn terminator_len(&self) -> u8 {
        self.buffer.as_ref()[field::TERMINATOR_LEN]
    }

    /// Whether the length octet is 16 and the Terminator 00/00. [`MarkerRepr::parse`] does not
    /// require it (Linux does not); the bond may report a peer that gets it wrong.
    pub fn tlv_header_valid(&self) -> bool {
        self.info_len() == MARKER_INFO_LEN
            && self.terminator_tlv_type() == 0
            && self.terminator_len() == 0
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> MarkerPacket<T> {
    /// Set Subtype.
    pub fn set_subtype(&mut self, value: u8) {
        self.buffer.as_mut()[field::SUBTYPE] = value;
    }

    /// Set Version_Number.
    pub fn set_version(&mut self, value: u8) {
        self.buffer.as_mut()[field::VERSION] = value;
    }

    /// Set TLV_type.
    pub fn set_tlv_type(&mut self, value: u8) {
        self.buffer.as_mut()[field::TLV_TYPE] = value;
    }

    /// Set Marker_Information_Length.
    pub fn set_info_len(&mut self, value: u8) {
        self.buffer.as_mut()[field::INFO_LEN] = value;
    }

    /// Set Requester_Port.
    pub fn set_requester_port(&mut self, value: u16) {
        self.buffer.as_mut()[field::REQUESTER_PORT].copy_from_slice(&value.to_be_bytes());
    }

    /// Set Requester_System.
    pub fn set_requester_system(&mut self, value: EthernetAddress) {
        self.buffer.as_mut()[field::REQUESTER_SYSTEM].copy_from_slice(&value.0);
    }

    /// Set Requester_Transaction_ID.
    pub fn set_transaction_id(&mut self, value: u32) {
        self.buffer.as_mut()[field::REQUESTER_TRANSACTION_ID].copy_from_slice(&value.to_be_bytes());
    }

    /// Set the Terminator's TLV_type octet.
    pub fn set_terminator_tlv_type(&mut self, value: u8) {
        self.buffer.as_mut()[field::TERMINATOR_TLV_TYPE] = value;
    }

    /// Set Terminator_Length.
    pub fn set_terminator_len(&mut self, value: u8) {
        self.buffer.as_mut()[field::TERMINATOR_LEN] = value;
    }

    /// Zero the pad and the reserved octets.
    pub fn clear_reserved(&mut self) {
        let data = self.buffer.as_mut();
        data[field::PAD].fill(0);
        data[field::RESERVED].fill(0);
    }
}

/// The decoded fields of a Marker PDU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MarkerRepr {
    /// Information (request) or Response.
    pub kind: MarkerKind,
    /// Requester_Port: the requester's port number.
    pub requester_port: u16,
    /// Requester_System: the requester's system MAC.
    pub requester_system: EthernetAddress,
    /// Requester_Transaction_ID, chosen by the requester.
    pub transaction_id: u32,
}

impl MarkerRepr {
    /// Decode `packet`: fails if it is shorter than [`MARKER_PDU_LEN`] ([`Error::Truncated`]),
    /// its Subtype is not the Marker protocol ([`Error::WrongSubtype`]), or its TLV type is
    /// neither 1 nor 2 ([`Error::UnknownMarkerTlv`], Linux's `marker_unknown_rx`). Everything
    /// else is read as found (see the module documentation). Never panics.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &MarkerPacket<&T>) -> Result<Self> {
        packet.check_len()?;
        if packet.subtype() != subtype::MARKER {
            return Err(Error::WrongSubtype(packet.subtype()));
        }
        let kind = MarkerKind::from_tlv_type(packet.tlv_type())
            .ok_or(Error::UnknownMarkerTlv(packet.tlv_type()))?;
        Ok(Self {
            kind,
            requester_port: packet.requester_port(),
            requester_system: packet.requester_system(),
            transaction_id: packet.transaction_id(),
        })
    }

    /// The Marker Response to this PDU: the same requester fields, kind Response.
    pub const fn response(&self) -> Self {
        Self {
            kind: MarkerKind::Response,
            ..*self
        }
    }

    /// Octets [`emit`](Self::emit) writes: [`MARKER_PDU_LEN`].
    pub const fn buffer_len(&self) -> usize {
        MARKER_PDU_LEN
    }

    /// Write the 110 octets of the PDU in standard form: Subtype 2, version 1, this kind's TLV
    /// type, length 16, zero pad, Terminator 00/00 and 90 zero octets. Octets of the buffer
    /// after the first 110 are left alone.
    ///
    /// # Panics
    /// If the buffer is shorter than [`MARKER_PDU_LEN`].
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut MarkerPacket<T>) {
        packet.set_subtype(subtype::MARKER);
        packet.set_version(MARKER_VERSION);
        packet.set_tlv_type(self.kind.tlv_type());
        packet.set_info_len(MARKER_INFO_LEN);
        packet.set_requester_port(self.requester_port);
        packet.set_requester_system(self.requester_system);
        packet.set_transaction_id(self.transaction_id);
        packet.set_terminator_tlv_type(0);
        packet.set_terminator_len(0);
        packet.clear_reserved();
    }
}

/// Write a whole untagged Marker frame into `buf`: destination 01:80:c2:00:00:02, source
/// `src` (the sending port's own MAC), EtherType 0x8809, then the PDU. Returns
/// [`MARKER_FRAME_LEN`]; octets of `buf` after it are left alone.
///
/// # Panics
/// If `buf` is shorter than [`MARKER_FRAME_LEN`].
pub fn emit_marker_frame(buf: &mut [u8], src: EthernetAddress, repr: &MarkerRepr) -> usize {
    let frame = &mut buf[..MARKER_FRAME_LEN];
    ethernet::emit_header(frame, EthernetAddress::SLOW_PROTOCOLS, src, ethertype::SLOW);
    repr.emit(&mut MarkerPacket::new_unchecked(
        &mut frame[ETHERNET_HEADER_LEN..],
    ));
    MARKER_FRAME_LEN
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::lacp::fixtures::{SCAPY_MARKER_INFO, V4_MARKER_INFO, V4_MARKER_RESPONSE};
    use proptest::prelude::*;

    fn pdu(frame: &[u8]) -> &[u8] {
        &frame[ETHERNET_HEADER_LEN..]
    }

    fn v4_repr() -> MarkerRepr {
        MarkerRepr {
            kind: MarkerKind::Information,
            requester_port: 22,
            requester_system: EthernetAddress([0x00, 0x13, 0xc4, 0x12, 0x0f, 0x00]),
            transaction_id: 1,
        }
    }

    fn v4_src() -> EthernetAddress {
        EthernetAddress::from_bytes(&V4_MARKER_INFO[6..12])
    }

    #[test]
    fn test_deconstruct() {
        let p = MarkerPacket::new_checked(pdu(&V4_MARKER_INFO)).unwrap();
        assert_eq!(p.subtype(), 2);
        assert_eq!(p.version(), 1);
        assert_eq!(p.tlv_type(), 1);
        assert_eq!(p.info_len(), 16);
        assert_eq!(p.requester_port(), 22);
        assert_eq!(
            p.requester_system(),
            EthernetAddress([0x00, 0x13, 0xc4, 0x12, 0x0f, 0x00])
        );
        assert_eq!(p.transaction_id(), 1);
        assert_eq!(p.pad(), 0);
        assert_eq!((p.terminator_tlv_type(), p.terminator_len()), (0, 0));
        assert!(p.tlv_header_valid());

        let p = MarkerPacket::new_checked(pdu(&SCAPY_MARKER_INFO)).unwrap();
        assert_eq!(p.transaction_id(), 0xdead_beef);
    }

    #[test]
    fn test_construct() {
        let mut frame = [0xa5u8; MARKER_FRAME_LEN];
        frame[..ETHERNET_HEADER_LEN].copy_from_slice(&V4_MARKER_RESPONSE[..ETHERNET_HEADER_LEN]);
        let mut p = MarkerPacket::new_unchecked(&mut frame[ETHERNET_HEADER_LEN..]);
        p.set_subtype(2);
        p.set_version(1);
        p.set_tlv_type(2);
        p.set_info_len(0x10);
        p.set_requester_port(22);
        p.set_requester_system(EthernetAddress([0x00, 0x13, 0xc4, 0x12, 0x0f, 0x00]));
        p.set_transaction_id(1);
        p.set_terminator_tlv_type(0);
        p.set_terminator_len(0);
        p.clear_reserved();
        assert_eq!(frame, V4_MARKER_RESPONSE);
    }

    #[test]
    fn test_parse() {
        let info = MarkerRepr::parse(&MarkerPacket::new_unchecked(pdu(&V4_MARKER_INFO)));
        assert_eq!(info, Ok(v4_repr()));
        let resp = MarkerRepr::parse(&MarkerPacket::new_unchecked(pdu(&V4_MARKER_RESPONSE)));
        assert_eq!(resp, Ok(v4_repr().response()));
        let scapy = MarkerRepr::parse(&MarkerPacket::new_unchecked(pdu(&SCAPY_MARKER_INFO)));
        assert_eq!(
            scapy,
            Ok(MarkerRepr {
                kind: MarkerKind::Information,
                requester_port: 1,
                requester_system: EthernetAddress([2, 0, 0, 0, 0x0a, 0x01]),
                transaction_id: 0xdead_beef,
            })
        );
    }

    #[test]
    fn test_emit() {
        for (frame, repr) in [
            (&V4_MARKER_INFO, v4_repr()),
            (&V4_MARKER_RESPONSE, v4_repr().response()),
        ] {
            let mut buf = [0xa5u8; MARKER_FRAME_LEN + 4];
            let n = emit_marker_frame(&mut buf, v4_src(), &repr);
            assert_eq!(n, MARKER_FRAME_LEN);
            assert_eq!(&buf[..n], &frame[..]);
            assert_eq!(buf[n..], [0xa5; 4]);
            assert_eq!(repr.buffer_len(), MARKER_PDU_LEN);
        }
    }

    #[test]
    fn response_keeps_the_requester_fields() {
        let r = v4_repr().response();
        assert_eq!(r.kind, MarkerKind::Response);
        assert_eq!(
            (r.requester_port, r.requester_system, r.transaction_id),
            (22, v4_repr().requester_system, 1)
        );
        assert_eq!(r.response(), r);
    }

    #[test]
    fn unknown_tlv_type_is_its_own_error() {
        for t in [0x00, 0x03, 0x10, 0xff] {
            let mut f = V4_MARKER_INFO;
            f[ETHERNET_HEADER_LEN + field::TLV_TYPE] = t;
            let p = MarkerPacket::new_unchecked(pdu(&f));
            assert_eq!(MarkerRepr::parse(&p), Err(Error::UnknownMarkerTlv(t)));
        }
    }

    #[test]
    fn tolerant_of_what_linux_ignores() {
        let mut f = V4_MARKER_INFO;
        f[ETHERNET_HEADER_LEN + field::VERSION] = 7;
        f[ETHERNET_HEADER_LEN + field::INFO_LEN] = 0x16;
        f[ETHERNET_HEADER_LEN + 16..].fill(0x33);
        let p = MarkerPacket::new_unchecked(pdu(&f));
        assert!(!p.tlv_header_valid());
        assert_eq!(MarkerRepr::parse(&p), Ok(v4_repr()));
    }

    #[test]
    fn truncated_and_wrong_subtype() {
        for len in 0..MARKER_PDU_LEN {
            let p = MarkerPacket::new_unchecked(&pdu(&V4_MARKER_INFO)[..len]);
            assert_eq!(MarkerRepr::parse(&p), Err(Error::Truncated), "{len}");
        }
        let mut f = V4_MARKER_INFO;
        f[ETHERNET_HEADER_LEN] = 1;
        let p = MarkerPacket::new_unchecked(pdu(&f));
        assert_eq!(MarkerRepr::parse(&p), Err(Error::WrongSubtype(1)));
    }

    proptest! {
        #[test]
        fn parse_emit_round_trip(
            response in any::<bool>(),
            requester_port in any::<u16>(),
            system in any::<[u8; 6]>(),
            transaction_id in any::<u32>(),
            fill in any::<u8>(),
        ) {
            let kind = if response { MarkerKind::Response } else { MarkerKind::Information };
            let repr = MarkerRepr {
                kind,
                requester_port,
                requester_system: EthernetAddress(system),
                transaction_id,
            };
            let mut buf = [fill; MARKER_PDU_LEN];
            repr.emit(&mut MarkerPacket::new_unchecked(&mut buf[..]));
            let p = MarkerPacket::new_checked(&buf[..]).unwrap();
            prop_assert!(p.tlv_header_valid());
            prop_assert_eq!(MarkerRepr::parse(&p), Ok(repr));
        }
    }
}
