//! LACPDUs (IEEE 802.1AX-2014 6.4.2, formerly 802.3 clause 43.4.2): a checked view over the PDU
//! bytes ([`LacpduPacket`]), its decoded form ([`LacpduRepr`]) and the frame emitter.
//!
//! The view starts at the Slow Protocols Subtype octet, right after the Ethernet header, and
//! covers the 110 octets of a version 1 LACPDU:
//!
//! ```text
//! 0  subtype 01 | 1 version | 2 TLV 01 | 3 len 14 | 4..22 actor info (18) + 3 reserved
//! 22 TLV 02 | 23 len 14 | 24..42 partner info + 3 reserved
//! 42 TLV 03 | 43 len 10 | 44..46 CollectorMaxDelay | 46..58 reserved
//! 58 TLV 00 | 59 len 00 | 60..110 pad
//! ```
//!
//! # Receive tolerance
//!
//! We are exact on transmit and as tolerant as Linux on receive, because interoperating with
//! every peer that interoperates with Linux is the contract, and Linux checks almost nothing:
//!
//! - **Length**: at least [`LACPDU_LEN`] octets. Longer PDUs (802.1AX-2014 "Long LACPDUs",
//!   vendor trailers such as HP/H3C IRF-MAD, Ethernet padding) are accepted; the extra octets
//!   are ignored. FreeBSD's "exactly 124 octets" rule rejects real switches.
//! - **Version**: any value is accepted, 0 included, and recorded in [`LacpduRepr::version`].
//!   Linux, FreeBSD, OVS and teamd all ignore it; 802.1AX-2014 requires a version 1 receiver to
//!   handle version 2 PDUs (whose extra TLVs sit between the Collector and the Terminator) as
//!   version 1. Version 0 was never assigned, but refusing it would make us the only
//!   implementation that drops such a peer, for no protection: every field is still read at
//!   its fixed offset.
//! - **TLV headers**: the version 1 fields are decoded at their fixed offsets whatever the TLV
//!   type and length octets say, exactly as Linux does (it validates none of them). OVS refuses
//!   a PDU whose Actor or Partner header is not 01/14 or 02/14, teamd one whose lengths are not
//!   20/20/16/0 (which also refuses every version 2 PDU). We do not refuse: no peer we must
//!   interoperate with sends wrong headers, so refusing gains nothing, and a peer that does
//!   would work with Linux and fail with us. Nor is such a PDU counted in
//!   `lacpdu_illegal_rx`: Linux counts it as a normal `lacpdu_rx`, and our counters must read
//!   the same as Linux's for the same traffic. [`LacpduPacket::tlv_headers_valid`] tells the
//!   bond that the headers were wrong so it can log it or keep a diagnostic count of its own.
//! - **Reserved octets and pad**: ignored on receive, written as zero on transmit.

use core::fmt;
use core::ops::{BitOr, BitOrAssign};

use super::ethernet::{self, ethertype, EthernetAddress, HEADER_LEN as ETHERNET_HEADER_LEN};
use super::slow::{subtype, Error, Result};

/// Octets of a version 1 LACPDU, from the Subtype octet to the end of the pad.
pub const LACPDU_LEN: usize = 110;

/// Octets of an untagged LACP frame without FCS: Ethernet header plus [`LACPDU_LEN`].
pub const LACP_FRAME_LEN: usize = ETHERNET_HEADER_LEN + LACPDU_LEN;

/// The LACP version this implementation speaks (802.1AX-2008 / 802.3ad).
pub const LACP_VERSION: u8 = 1;

/// TLV type and length values of a version 1 LACPDU (lengths include the two header octets).
pub mod tlv {
    /// Terminator TLV type.
    pub const TERMINATOR: u8 = 0x00;
    /// Actor Information TLV type.
    pub const ACTOR_INFORMATION: u8 = 0x01;
    /// Partner Information TLV type.
    pub const PARTNER_INFORMATION: u8 = 0x02;
    /// Collector Information TLV type.
    pub const COLLECTOR_INFORMATION: u8 = 0x03;
    /// Actor_Information_Length and Partner_Information_Length (20).
    pub const PORT_INFORMATION_LEN: u8 = 0x14;
    /// Collector_Information_Length (16).
    pub const COLLECTOR_INFORMATION_LEN: u8 = 0x10;
    /// Terminator_Length (0).
    pub const TERMINATOR_LEN: u8 = 0x00;
}

/// Byte offsets of the LACPDU fields, counted from the Subtype octet.
pub mod field {
    /// A byte range inside the PDU.
    pub type Field = core::ops::Range<usize>;

    /// Subtype (1 for LACP).
    pub const SUBTYPE: usize = 0;
    /// Version_Number.
    pub const VERSION: usize = 1;

    /// TLV_type of the Actor Information TLV.
    pub const ACTOR_TLV_TYPE: usize = 2;
    /// Actor_Information_Length.
    pub const ACTOR_INFO_LEN: usize = 3;
    /// Actor_System_Priority.
    pub const ACTOR_SYSTEM_PRIORITY: Field = 4..6;
    /// Actor_System.
    pub const ACTOR_SYSTEM: Field = 6..12;
    /// Actor_Key.
    pub const ACTOR_KEY: Field = 12..14;
    /// Actor_Port_Priority.
    pub const ACTOR_PORT_PRIORITY: Field = 14..16;
    /// Actor_Port.
    pub const ACTOR_PORT: Field = 16..18;
    /// Actor_State.
    pub const ACTOR_STATE: usize = 18;
    /// Reserved after the actor information.
    pub const ACTOR_RESERVED: Field = 19..22;

    /// TLV_type of the Partner Information TLV.
    pub const PARTNER_TLV_TYPE: usize = 22;
    /// Partner_Information_Length.
    pub const PARTNER_INFO_LEN: usize = 23;
    /// Partner_System_Priority.
    pub const PARTNER_SYSTEM_PRIORITY: Field = 24..26;
    /// Partner_System.
    pub const PARTNER_SYSTEM: Field = 26..32;
    /// Partner_Key.
    pub const PARTNER_KEY: Field = 32..34;
    /// Partner_Port_Priority.
    pub const PARTNER_PORT_PRIORITY: Field = 34..36;
    /// Partner_Port.
    pub const PARTNER_PORT: Field = 36..38;
    /// Partner_State.
    pub const PARTNER_STATE: usize = 38;
    /// Reserved after the partner information.
    pub const PARTNER_RESERVED: Field = 39..42;

    /// TLV_type of the Collector Information TLV.
    pub const COLLECTOR_TLV_TYPE: usize = 42;
    /// Collector_Information_Length.
    pub const COLLECTOR_INFO_LEN: usize = 43;
    /// CollectorMaxDelay, in tens of microseconds.
    pub const COLLECTOR_MAX_DELAY: Field = 44..46;
    /// Reserved after the collector information.
    pub const COLLECTOR_RESERVED: Field = 46..58;

    /// TLV_type of the Terminator TLV (where a version 1 PDU has it; a version 2 PDU may carry
    /// more TLVs here).
    pub const TERMINATOR_TLV_TYPE: usize = 58;
    /// Terminator_Length.
    pub const TERMINATOR_LEN: usize = 59;
    /// Pad up to 110 octets.
    pub const PAD: Field = 60..110;
}

/// An Actor_State or Partner_State octet (802.1AX 6.4.2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PortState(pub u8);

impl PortState {
    /// LACP_Activity: active (set) or passive LACP.
    pub const ACTIVITY: Self = Self(0x01);
    /// LACP_Timeout: short (set, 3 s) or long (90 s) timeout asked of the partner.
    pub const TIMEOUT: Self = Self(0x02);
    /// Aggregation: aggregatable (set) or individual.
    pub const AGGREGATION: Self = Self(0x04);
    /// Synchronization: attached to the right aggregator.
    pub const SYNCHRONIZATION: Self = Self(0x08);
    /// Collecting enabled.
    pub const COLLECTING: Self = Self(0x10);
    /// Distributing enabled.
    pub const DISTRIBUTING: Self = Self(0x20);
    /// Defaulted: the receive machine uses administrative partner values.
    pub const DEFAULTED: Self = Self(0x40);
    /// Expired: the receive machine is in EXPIRED.
    pub const EXPIRED: Self = Self(0x80);

    /// The flags with their short names, lowest bit first (the order tshark and the reference
    /// use).
    const NAMES: [(Self, &'static str); 8] = [
        (Self::ACTIVITY, "Act"),
        (Self::TIMEOUT, "Tmo"),
        (Self::AGGREGATION, "Agg"),
        (Self::SYNCHRONIZATION, "Syn"),
        (Self::COLLECTING, "Col"),
        (Self::DISTRIBUTING, "Dis"),
        (Self::DEFAULTED, "Def"),
        (Self::EXPIRED, "Exp"),
    ];

    /// The raw octet.
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// Whether every flag of `flags` is set.
    pub const fn contains(self, flags: Self) -> bool {
        self.0 & flags.0 == flags.0
    }

    /// Set the flags of `flags`.
    pub fn insert(&mut self, flags: Self) {
        self.0 |= flags.0;
    }

    /// Clear the flags of `flags`.
    pub fn remove(&mut self, flags: Self) {
        self.0 &= !flags.0;
    }

    /// Set (`on`) or clear the flags of `flags`.
    pub fn set(&mut self, flags: Self, on: bool) {
        if on {
            self.insert(flags);
        } else {
            self.remove(flags);
        }
    }
}

impl BitOr for PortState {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

impl BitOrAssign for PortState {
    fn bitor_assign(&mut self, rhs: Self) {
        self.0 |= rhs.0;
    }
}

impl fmt::Display for PortState {
    /// `0x3d (Act|Agg|Syn|Col|Dis)`; just `0x00` when no flag is set.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#04x}", self.0)?;
        let mut sep = " (";
        for (flag, name) in Self::NAMES {
            if self.contains(flag) {
                f.write_str(sep)?;
                f.write_str(name)?;
                sep = "|";
            }
        }
        if self.0 != 0 {
            f.write_str(")")?;
        }
        Ok(())
    }
}

/// One Actor or Partner Information TLV: who a port is and what state it is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PortInfo {
    /// System_Priority.
    pub system_priority: u16,
    /// System (a MAC address).
    pub system: EthernetAddress,
    /// Key.
    pub key: u16,
    /// Port_Priority.
    pub port_priority: u16,
    /// Port (number).
    pub port: u16,
    /// State.
    pub state: PortState,
}

/// A view of an LACPDU in a byte buffer, from the Subtype octet on.
///
/// After [`new_checked`](Self::new_checked) (or [`check_len`](Self::check_len)) succeeds, no
/// getter or setter panics. Setters never change the length, so they cannot invalidate it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LacpduPacket<T: AsRef<[u8]>> {
    buffer: T,
}

/// Big-endian u16 at `f`; callers have checked the length.
fn get_u16(data: &[u8], f: field::Field) -> u16 {
    let b = &data[f];
    u16::from_be_bytes([b[0], b[1]])
}

impl<T: AsRef<[u8]>> LacpduPacket<T> {
    /// Wrap `buffer` without checking its length; getters panic if it is shorter than
    /// [`LACPDU_LEN`].
    pub const fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// Wrap `buffer`, checking that it can hold a version 1 LACPDU.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Err([`Error::Truncated`]) if the buffer is shorter than [`LACPDU_LEN`]. Longer buffers
    /// are fine: the octets after the first 110 are never read.
    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < LACPDU_LEN {
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

    /// TLV_type of the Actor Information TLV.
    pub fn actor_tlv_type(&self) -> u8 {
        self.buffer.as_ref()[field::ACTOR_TLV_TYPE]
    }

    /// Actor_Information_Length.
    pub fn actor_info_len(&self) -> u8 {
        self.buffer.as_ref()[field::ACTOR_INFO_LEN]
    }

    /// Actor_System_Priority.
    pub fn actor_system_priority(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::ACTOR_SYSTEM_PRIORITY)
    }

    /// Actor_System.
    pub fn actor_system(&self) -> EthernetAddress {
        EthernetAddress::from_bytes(&self.buffer.as_ref()[field::ACTOR_SYSTEM])
    }

    /// Actor_Key.
    pub fn actor_key(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::ACTOR_KEY)
    }

    /// Actor_Port_Priority.
    pub fn actor_port_priority(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::ACTOR_PORT_PRIORITY)
    }

    /// Actor_Port.
    pub fn actor_port(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::ACTOR_PORT)
    }

    /// Actor_State.
    pub fn actor_state(&self) -> PortState {
        PortState(self.buffer.as_ref()[field::ACTOR_STATE])
    }

    /// TLV_type of the Partner Information TLV.
    pub fn partner_tlv_type(&self) -> u8 {
        self.buffer.as_ref()[field::PARTNER_TLV_TYPE]
    }

    /// Partner_Information_Length.
    pub fn partner_info_len(&self) -> u8 {
        self.buffer.as_ref()[field::PARTNER_INFO_LEN]
    }

    /// Partner_System_Priority.
    pub fn partner_system_priority(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::PARTNER_SYSTEM_PRIORITY)
    }

    /// Partner_System.
    pub fn partner_system(&self) -> EthernetAddress {
        EthernetAddress::from_bytes(&self.buffer.as_ref()[field::PARTNER_SYSTEM])
    }

    /// Partner_Key.
    pub fn partner_key(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::PARTNER_KEY)
    }

    /// Partner_Port_Priority.
    pub fn partner_port_priority(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::PARTNER_PORT_PRIORITY)
    }

    /// Partner_Port.
    pub fn partner_port(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::PARTNER_PORT)
    }

    /// Partner_State.
    pub fn partner_state(&self) -> PortState {
        PortState(self.buffer.as_ref()[field::PARTNER_STATE])
    }

    /// TLV_type of the Collector Information TLV.
    pub fn collector_tlv_type(&self) -> u8 {
        self.buffer.as_ref()[field::COLLECTOR_TLV_TYPE]
    }

    /// Collector_Information_Length.
    pub fn collector_info_len(&self) -> u8 {
        self.buffer.as_ref()[field::COLLECTOR_INFO_LEN]
    }

    /// CollectorMaxDelay, in tens of microseconds.
    pub fn collector_max_delay(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::COLLECTOR_MAX_DELAY)
    }

    /// The TLV_type octet where a version 1 PDU has its Terminator (a version 2 PDU may have
    /// another TLV there).
    pub fn terminator_tlv_type(&self) -> u8 {
        self.buffer.as_ref()[field::TERMINATOR_TLV_TYPE]
    }

    /// The length octet where a version 1 PDU has its Terminator_Length.
    pub fn terminator_len(&self) -> u8 {
        self.buffer.as_ref()[field::TERMINATOR_LEN]
    }

    /// The Actor Information TLV.
    pub fn actor(&self) -> PortInfo {
        PortInfo {
            system_priority: self.actor_system_priority(),
            system: self.actor_system(),
            key: self.actor_key(),
            port_priority: self.actor_port_priority(),
            port: self.actor_port(),
            state: self.actor_state(),
        }
    }

    /// The Partner Information TLV.
    pub fn partner(&self) -> PortInfo {
        PortInfo {
            system_priority: self.partner_system_priority(),
            system: self.partner_system(),
            key: self.partner_key(),
            port_priority: self.partner_port_priority(),
            port: self.partner_port(),
            state: self.partner_state(),
        }
    }

    /// Whether the three TLV headers every LACP version has at fixed offsets are right: Actor
    /// 01/14, Partner 02/14, Collector 03/10. The Terminator is not checked because version 2
    /// PDUs carry more TLVs in its place.
    ///
    /// [`LacpduRepr::parse`] does not require this (Linux does not either; see the module
    /// documentation); it is here so the bond can notice and report a peer that gets it wrong.
    pub fn tlv_headers_valid(&self) -> bool {
        self.actor_tlv_type() == tlv::ACTOR_INFORMATION
            && self.actor_info_len() == tlv::PORT_INFORMATION_LEN
            && self.partner_tlv_type() == tlv::PARTNER_INFORMATION
            && self.partner_info_len() == tlv::PORT_INFORMATION_LEN
            && self.collector_tlv_type() == tlv::COLLECTOR_INFORMATION
            && self.collector_info_len() == tlv::COLLECTOR_INFORMATION_LEN
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> LacpduPacket<T> {
    fn set_u16(&mut self, f: field::Field, value: u16) {
        self.buffer.as_mut()[f].copy_from_slice(&value.to_be_bytes());
    }

    /// Set Subtype.
    pub fn set_subtype(&mut self, value: u8) {
        self.buffer.as_mut()[field::SUBTYPE] = value;
    }

    /// Set Version_Number.
    pub fn set_version(&mut self, value: u8) {
        self.buffer.as_mut()[field::VERSION] = value;
    }

    /// Set the TLV_type of the Actor Information TLV.
    pub fn set_actor_tlv_type(&mut self, value: u8) {
        self.buffer.as_mut()[field::ACTOR_TLV_TYPE] = value;
    }

    /// Set Actor_Information_Length.
    pub fn set_actor_info_len(&mut self, value: u8) {
        self.buffer.as_mut()[field::ACTOR_INFO_LEN] = value;
    }

    /// Set Actor_System_Priority.
    pub fn set_actor_system_priority(&mut self, value: u16) {
        self.set_u16(field::ACTOR_SYSTEM_PRIORITY, value);
    }

    /// Set Actor_System.
    pub fn set_actor_system(&mut self, value: EthernetAddress) {
        self.buffer.as_mut()[field::ACTOR_SYSTEM].copy_from_slice(&value.0);
    }

    /// Set Actor_Key.
    pub fn set_actor_key(&mut self, value: u16) {
        self.set_u16(field::ACTOR_KEY, value);
    }

    /// Set Actor_Port_Priority.
    pub fn set_actor_port_priority(&mut self, value: u16) {
        self.set_u16(field::ACTOR_PORT_PRIORITY, value);
    }

    /// Set Actor_Port.
    pub fn set_actor_port(&mut self, value: u16) {
        self.set_u16(field::ACTOR_PORT, value);
    }

    /// Set Actor_State.
    pub fn set_actor_state(&mut self, value: PortState) {
        self.buffer.as_mut()[field::ACTOR_STATE] = value.0;
    }

    /// Set the TLV_type of the Partner Information TLV.
    pub fn set_partner_tlv_type(&mut self, value: u8) {
        self.buffer.as_mut()[field::PARTNER_TLV_TYPE] = value;
    }

    /// Set Partner_Information_Length.
    pub fn set_partner_info_len(&mut self, value: u8) {
        self.buffer.as_mut()[field::PARTNER_INFO_LEN] = value;
    }

    /// Set Partner_System_Priority.
    pub fn set_partner_system_priority(&mut self, value: u16) {
        self.set_u16(field::PARTNER_SYSTEM_PRIORITY, value);
    }

    /// Set Partner_System.
    pub fn set_partner_system(&mut self, value: EthernetAddress) {
        self.buffer.as_mut()[field::PARTNER_SYSTEM].copy_from_slice(&value.0);
    }

    /// Set Partner_Key.
    pub fn set_partner_key(&mut self, value: u16) {
        self.set_u16(field::PARTNER_KEY, value);
    }

    /// Set Partner_Port_Priority.
    pub fn set_partner_port_priority(&mut self, value: u16) {
        self.set_u16(field::PARTNER_PORT_PRIORITY, value);
    }

    /// Set Partner_Port.
    pub fn set_partner_port(&mut self, value: u16) {
        self.set_u16(field::PARTNER_PORT, value);
    }

    /// Set Partner_State.
    pub fn set_partner_state(&mut self, value: PortState) {
        self.buffer.as_mut()[field::PARTNER_STATE] = value.0;
    }

    /// Set the TLV_type of the Collector Information TLV.
    pub fn set_collector_tlv_type(&mut self, value: u8) {
        self.buffer.as_mut()[field::COLLECTOR_TLV_TYPE] = value;
    }

    /// Set Collector_Information_Length.
    pub fn set_collector_info_len(&mut self, value: u8) {
        self.buffer.as_mut()[field::COLLECTOR_INFO_LEN] = value;
    }

    /// Set CollectorMaxDelay (tens of microseconds).
    pub fn set_collector_max_delay(&mut self, value: u16) {
        self.set_u16(field::COLLECTOR_MAX_DELAY, value);
    }

    /// Set the Terminator's TLV_type octet.
    pub fn set_terminator_tlv_type(&mut self, value: u8) {
        self.buffer.as_mut()[field::TERMINATOR_TLV_TYPE] = value;
    }

    /// Set Terminator_Length.
    pub fn set_terminator_len(&mut self, value: u8) {
        self.buffer.as_mut()[field::TERMINATOR_LEN] = value;
    }

    /// Set every field of the Actor Information TLV (not its header).
    pub fn set_actor(&mut self, info: &PortInfo) {
        self.set_actor_system_priority(info.system_priority);
        self.set_actor_system(info.system);
        self.set_actor_key(info.key);
        self.set_actor_port_priority(info.port_priority);
        self.set_actor_port(info.port);
        self.set_actor_state(info.state);
    }

    /// Set every field of the Partner Information TLV (not its header).
    pub fn set_partner(&mut self, info: &PortInfo) {
        self.set_partner_system_priority(info.system_priority);
        self.set_partner_system(info.system);
        self.set_partner_key(info.key);
        self.set_partner_port_priority(info.port_priority);
        self.set_partner_port(info.port);
        self.set_partner_state(info.state);
    }

    /// Zero the reserved octets of the three information TLVs and the pad.
    pub fn clear_reserved(&mut self) {
        let data = self.buffer.as_mut();
        data[field::ACTOR_RESERVED].fill(0);
        data[field::PARTNER_RESERVED].fill(0);
        data[field::COLLECTOR_RESERVED].fill(0);
        data[field::PAD].fill(0);
    }
}

/// The decoded fields of an LACPDU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LacpduRepr {
    /// Version_Number as received; we transmit [`LACP_VERSION`].
    pub version: u8,
    /// The sender's own information.
    pub actor: PortInfo,
    /// What the sender believes about us.
    pub partner: PortInfo,
    /// CollectorMaxDelay, in tens of microseconds (Linux, FreeBSD and OVS send 0).
    pub collector_max_delay: u16,
}

impl LacpduRepr {
    /// Decode `packet` with the tolerance described in the [module documentation](self):
    /// fails only if it is shorter than [`LACPDU_LEN`] ([`Error::Truncated`]) or its Subtype is
    /// not LACP ([`Error::WrongSubtype`]). Never panics.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &LacpduPacket<&T>) -> Result<Self> {
        packet.check_len()?;
        if packet.subtype() != subtype::LACP {
            return Err(Error::WrongSubtype(packet.subtype()));
        }
        Ok(Self {
            version: packet.version(),
            actor: packet.actor(),
            partner: packet.partner(),
            collector_max_delay: packet.collector_max_delay(),
        })
    }

    /// Octets [`emit`](Self::emit) writes: [`LACPDU_LEN`].
    pub const fn buffer_len(&self) -> usize {
        LACPDU_LEN
    }

    /// Write the 110 octets of the PDU exactly as 802.1AX lays them out: Subtype 1, this
    /// version, TLV headers 01/14, 02/14, 03/10 and 00/00, every reserved octet and the pad
    /// zero. Octets of the buffer after the first 110 are left alone.
    ///
    /// # Panics
    /// If the buffer is shorter than [`LACPDU_LEN`].
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut LacpduPacket<T>) {
        packet.set_subtype(subtype::LACP);
        packet.set_version(self.version);
        packet.set_actor_tlv_type(tlv::ACTOR_INFORMATION);
        packet.set_actor_info_len(tlv::PORT_INFORMATION_LEN);
        packet.set_actor(&self.actor);
        packet.set_partner_tlv_type(tlv::PARTNER_INFORMATION);
        packet.set_partner_info_len(tlv::PORT_INFORMATION_LEN);
        packet.set_partner(&self.partner);
        packet.set_collector_tlv_type(tlv::COLLECTOR_INFORMATION);
        packet.set_collector_info_len(tlv::COLLECTOR_INFORMATION_LEN);
        packet.set_collector_max_delay(self.collector_max_delay);
        packet.set_terminator_tlv_type(tlv::TERMINATOR);
        packet.set_terminator_len(tlv::TERMINATOR_LEN);
        packet.clear_reserved();
    }
}

/// Write a whole untagged LACP frame into `buf`: destination 01:80:c2:00:00:02, source `src`
/// (Linux uses the member port's permanent MAC, which is how a looped-back PDU is recognised),
/// EtherType 0x8809, then the PDU. Returns [`LACP_FRAME_LEN`]; octets of `buf` after it are
/// left alone. Slow Protocols frames are never tagged, so there is no VLAN parameter.
///
/// # Panics
/// If `buf` is shorter than [`LACP_FRAME_LEN`].
pub fn emit_lacpdu_frame(buf: &mut [u8], src: EthernetAddress, repr: &LacpduRepr) -> usize {
    let frame = &mut buf[..LACP_FRAME_LEN];
    ethernet::emit_header(frame, EthernetAddress::SLOW_PROTOCOLS, src, ethertype::SLOW);
    repr.emit(&mut LacpduPacket::new_unchecked(
        &mut frame[ETHERNET_HEADER_LEN..],
    ));
    LACP_FRAME_LEN
}

/// Test fixtures shared by the wire tests: real and reference frames as hex.
#[cfg(test)]
pub(crate) mod fixtures {
    /// Decode `hex` into `N` octets at compile time, zero-filling what the string leaves out
    /// (the reference writes its vectors as "these octets, then so many zeros"). Whitespace is
    /// skipped.
    pub(crate) const fn hex<const N: usize>(hex: &str) -> [u8; N] {
        const fn nibble(c: u8) -> u8 {
            match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                b'A'..=b'F' => c - b'A' + 10,
                _ => panic!("not a hex digit"),
            }
        }
        let s = hex.as_bytes();
        let mut out = [0u8; N];
        let (mut i, mut n, mut high) = (0, 0, None);
        while i < s.len() {
            let c = s[i];
            i += 1;
            if c == b' ' || c == b'\n' {
                continue;
            }
            match high {
                None => high = Some(nibble(c)),
                Some(h) => {
                    out[n] = h << 4 | nibble(c);
                    n += 1;
                    high = None;
                }
            }
        }
        assert!(high.is_none(), "odd number of hex digits");
        out
    }

    /// V1 of the reference (§6): a real Cisco LACPDU from scapy's test suite. Actor 32768 /
    /// 00:13:c4:12:0f:00 key 13 port 22 state 0x85; partner 32768 / 00:0e:83:16:f5:00 key 13
    /// port 25 state 0x36; CollectorMaxDelay 0x8000.
    pub(crate) static V1_CISCO: [u8; 124] = hex("0180c2000002 0013c4120f0d 8809
         01 01 0114 8000 0013c4120f00 000d 8000 0016 85 000000
         0214 8000 000e8316f500 000d 8000 0019 36 000000
         0310 8000");

    /// V2 of the reference (§6): SONiC/teamd's first PDU, before it heard from a partner.
    pub(crate) static V2_TEAMD: [u8; 124] = hex("0180c2000002 5254004cd743 8809
         01 01 0114 8000 5254001a2a4b 0001 8000 0001 45 000000
         0214 0000 000000000000 0000 0000 0000 02 000000
         0310 0000");

    /// Linux 6.1 bonding (in QEMU), first LACPDU of linux-bond.pcap: expired, not yet
    /// collecting (actor 0x8f), with lacp_rate=fast, 10 G (key 15).
    pub(crate) static LINUX_EXPIRED: [u8; 124] = hex("0180c2000002 525400123401 8809
         01 01 0114 ffff 525400123401 000f 00ff 0001 8f 000000
         0214 8000 0efc9d5b0e7b 000f 00ff 0001 37 000000
         0310 0000");

    /// Linux 6.1 bonding, fifth frame of linux-bond.pcap: collecting and distributing on both
    /// sides (0x3f / 0x3f).
    pub(crate) static LINUX_DISTRIBUTING: [u8; 124] = hex("0180c2000002 525400123401 8809
         01 01 0114 ffff 525400123401 000f 00ff 0001 3f 000000
         0214 8000 0efc9d5b0e7b 000f 00ff 0001 3f 000000
         0310 0000");

    /// Open vSwitch 3.1 (userspace datapath) with no partner yet, ovs-single.pcap: actor
    /// 65534 / be:6a:2d:3d:45:46 key 1 port 1 priority 65535 state 0x77; partner all zero.
    pub(crate) static OVS_NO_PARTNER: [u8; 124] = hex("0180c2000002 46df0ee0b01c 8809
         01 01 0114 fffe be6a2d3d4546 0001 ffff 0001 77 000000
         0214 0000 000000000000 0000 0000 0000 00 000000
         0310 0000");

    /// Open vSwitch 3.1 talking to another OVS, first frame of ovs-pair.pcap (0x3f / 0x3f).
    pub(crate) static OVS_PAIR: [u8; 124] = hex("0180c2000002 daaba5d3f4fd 8809
         01 01 0114 fffe dec1ed965641 0001 ffff 0001 3f 000000
         0214 fffe ae10a9512343 0001 ffff 0002 3f 000000
         0310 0000");

    /// V4 of the reference (§6, constructed from the layout): a Marker Information PDU with
    /// port 22, system 00:13:c4:12:0f:00, transaction 1, behind the V1 Ethernet header.
    pub(crate) static V4_MARKER_INFO: [u8; 124] = hex("0180c2000002 0013c4120f0d 8809
         02 01 01 10 0016 0013c4120f00 00000001 0000 0000");

    /// V4's Marker Response: identical except TLV_type 2.
    pub(crate) static V4_MARKER_RESPONSE: [u8; 124] = hex("0180c2000002 0013c4120f0d 8809
         02 01 02 10 0016 0013c4120f00 00000001 0000 0000");

    /// The Marker Information PDU that scapy builds (oracle.pcap frame 4), transaction
    /// 0xdeadbeef.
    pub(crate) static SCAPY_MARKER_INFO: [u8; 124] = hex("0180c2000002 020000000a01 8809
         02 01 01 10 0001 020000000a01 deadbeef 0000 0000");
}

#[cfg(test)]
mod tests {
    use super::fixtures::*;
    use super::*;
    use crate::wire::slow::{classify, SlowFrame};
    use proptest::prelude::*;

    fn pdu(frame: &[u8]) -> &[u8] {
        &frame[ETHERNET_HEADER_LEN..]
    }

    fn v1_repr() -> LacpduRepr {
        LacpduRepr {
            version: 1,
            actor: PortInfo {
                system_priority: 32768,
                system: EthernetAddress([0x00, 0x13, 0xc4, 0x12, 0x0f, 0x00]),
                key: 13,
                port_priority: 32768,
                port: 22,
                state: PortState::ACTIVITY | PortState::AGGREGATION | PortState::EXPIRED,
            },
            partner: PortInfo {
                system_priority: 32768,
                system: EthernetAddress([0x00, 0x0e, 0x83, 0x16, 0xf5, 0x00]),
                key: 13,
                port_priority: 32768,
                port: 25,
                state: PortState::TIMEOUT
                    | PortState::AGGREGATION
                    | PortState::COLLECTING
                    | PortState::DISTRIBUTING,
            },
            collector_max_delay: 0x8000,
        }
    }

    fn v2_repr() -> LacpduRepr {
        LacpduRepr {
            version: 1,
            actor: PortInfo {
                system_priority: 32768,
                system: EthernetAddress([0x52, 0x54, 0x00, 0x1a, 0x2a, 0x4b]),
                key: 1,
                port_priority: 32768,
                port: 1,
                state: PortState(0x45),
            },
            partner: PortInfo {
                state: PortState::TIMEOUT,
                ..PortInfo::default()
            },
            collector_max_delay: 0,
        }
    }

    fn linux_expired_repr() -> LacpduRepr {
        let linux = EthernetAddress([0x52, 0x54, 0x00, 0x12, 0x34, 0x01]);
        LacpduRepr {
            version: 1,
            actor: PortInfo {
                system_priority: 0xffff,
                system: linux,
                key: 15,
                port_priority: 0xff,
                port: 1,
                state: PortState(0x8f),
            },
            partner: PortInfo {
                system_priority: 0x8000,
                system: EthernetAddress([0x0e, 0xfc, 0x9d, 0x5b, 0x0e, 0x7b]),
                key: 15,
                port_priority: 0xff,
                port: 1,
                state: PortState(0x37),
            },
            collector_max_delay: 0,
        }
    }

    fn ovs_no_partner_repr() -> LacpduRepr {
        LacpduRepr {
            version: 1,
            actor: PortInfo {
                system_priority: 65534,
                system: EthernetAddress([0xbe, 0x6a, 0x2d, 0x3d, 0x45, 0x46]),
                key: 1,
                port_priority: 65535,
                port: 1,
                state: PortState(0x77),
            },
            partner: PortInfo::default(),
            collector_max_delay: 0,
        }
    }

    #[test]
    fn test_deconstruct() {
        let p = LacpduPacket::new_checked(pdu(&V1_CISCO)).unwrap();
        assert_eq!(p.subtype(), 1);
        assert_eq!(p.version(), 1);
        assert_eq!((p.actor_tlv_type(), p.actor_info_len()), (1, 20));
        assert_eq!(p.actor_system_priority(), 32768);
        assert_eq!(
            p.actor_system(),
            EthernetAddress([0x00, 0x13, 0xc4, 0x12, 0x0f, 0x00])
        );
        assert_eq!(p.actor_key(), 13);
        assert_eq!(p.actor_port_priority(), 32768);
        assert_eq!(p.actor_port(), 22);
        assert_eq!(p.actor_state(), PortState(0x85));
        assert_eq!((p.partner_tlv_type(), p.partner_info_len()), (2, 20));
        assert_eq!(p.partner_system_priority(), 32768);
        assert_eq!(
            p.partner_system(),
            EthernetAddress([0x00, 0x0e, 0x83, 0x16, 0xf5, 0x00])
        );
        assert_eq!(p.partner_key(), 13);
        assert_eq!(p.partner_port_priority(), 32768);
        assert_eq!(p.partner_port(), 25);
        assert_eq!(p.partner_state(), PortState(0x36));
        assert_eq!((p.collector_tlv_type(), p.collector_info_len()), (3, 16));
        assert_eq!(p.collector_max_delay(), 0x8000);
        assert_eq!((p.terminator_tlv_type(), p.terminator_len()), (0, 0));
        assert!(p.tlv_headers_valid());
    }

    #[test]
    fn test_construct() {
        let mut frame = [0xa5u8; LACP_FRAME_LEN];
        frame[..ETHERNET_HEADER_LEN].copy_from_slice(&V1_CISCO[..ETHERNET_HEADER_LEN]);
        let mut p = LacpduPacket::new_unchecked(&mut frame[ETHERNET_HEADER_LEN..]);
        p.set_subtype(1);
        p.set_version(1);
        p.set_actor_tlv_type(1);
        p.set_actor_info_len(0x14);
        p.set_actor_system_priority(32768);
        p.set_actor_system(EthernetAddress([0x00, 0x13, 0xc4, 0x12, 0x0f, 0x00]));
        p.set_actor_key(13);
        p.set_actor_port_priority(32768);
        p.set_actor_port(22);
        p.set_actor_state(PortState(0x85));
        p.set_partner_tlv_type(2);
        p.set_partner_info_len(0x14);
        p.set_partner_system_priority(32768);
        p.set_partner_system(EthernetAddress([0x00, 0x0e, 0x83, 0x16, 0xf5, 0x00]));
        p.set_partner_key(13);
        p.set_partner_port_priority(32768);
        p.set_partner_port(25);
        p.set_partner_state(PortState(0x36));
        p.set_collector_tlv_type(3);
        p.set_collector_info_len(0x10);
        p.set_collector_max_delay(0x8000);
        p.set_terminator_tlv_type(0);
        p.set_terminator_len(0);
        p.clear_reserved();
        assert_eq!(frame, V1_CISCO);
    }

    #[test]
    fn test_parse() {
        let cases: [(&[u8; 124], LacpduRepr); 4] = [
            (&V1_CISCO, v1_repr()),
            (&V2_TEAMD, v2_repr()),
            (&LINUX_EXPIRED, linux_expired_repr()),
            (&OVS_NO_PARTNER, ovs_no_partner_repr()),
        ];
        for (frame, want) in cases {
            let p = LacpduPacket::new_checked(pdu(frame)).unwrap();
            assert_eq!(LacpduRepr::parse(&p), Ok(want));
        }
        // The real captures in full: symmetric pairs decode as each other's mirror image.
        let linux = LacpduRepr::parse(&LacpduPacket::new_unchecked(pdu(&LINUX_DISTRIBUTING)));
        let linux = linux.unwrap();
        assert_eq!(linux.actor.state, PortState(0x3f));
        assert_eq!(linux.partner.state, PortState(0x3f));
        assert_eq!(linux.actor.system, linux_expired_repr().actor.system);
        let ovs = LacpduRepr::parse(&LacpduPacket::new_unchecked(pdu(&OVS_PAIR))).unwrap();
        assert_eq!((ovs.actor.port, ovs.partner.port), (1, 2));
        assert_eq!(ovs.actor.system_priority, 0xfffe);
    }

    #[test]
    fn test_emit() {
        // Every fixture has zero reserved octets, so emit reproduces each byte for byte.
        let cases: [(&[u8; 124], LacpduRepr); 4] = [
            (&V1_CISCO, v1_repr()),
            (&V2_TEAMD, v2_repr()),
            (&LINUX_EXPIRED, linux_expired_repr()),
            (&OVS_NO_PARTNER, ovs_no_partner_repr()),
        ];
        for (frame, repr) in cases {
            let mut buf = [0xa5u8; LACP_FRAME_LEN + 6];
            let src = EthernetAddress::from_bytes(&frame[6..12]);
            let n = emit_lacpdu_frame(&mut buf, src, &repr);
            assert_eq!(n, LACP_FRAME_LEN);
            assert_eq!(&buf[..n], &frame[..]);
            assert_eq!(buf[n..], [0xa5; 6], "wrote past the frame");

            let mut pdu_buf = [0xa5u8; LACPDU_LEN];
            repr.emit(&mut LacpduPacket::new_unchecked(&mut pdu_buf[..]));
            assert_eq!(&pdu_buf[..], pdu(frame));
            assert_eq!(repr.buffer_len(), LACPDU_LEN);
        }
        for frame in [&LINUX_DISTRIBUTING, &OVS_PAIR] {
            let repr = LacpduRepr::parse(&LacpduPacket::new_unchecked(pdu(frame))).unwrap();
            let mut buf = [0xa5u8; LACP_FRAME_LEN];
            emit_lacpdu_frame(&mut buf, EthernetAddress::from_bytes(&frame[6..12]), &repr);
            assert_eq!(&buf, frame);
        }
    }

    #[test]
    fn every_truncation_is_refused() {
        for len in 0..LACPDU_LEN {
            let short = &pdu(&V1_CISCO)[..len];
            assert_eq!(
                LacpduPacket::new_checked(short).err(),
                Some(Error::Truncated),
                "{len}"
            );
            assert_eq!(
                LacpduRepr::parse(&LacpduPacket::new_unchecked(short)),
                Err(Error::Truncated)
            );
        }
        for len in 0..LACP_FRAME_LEN {
            assert!(!matches!(
                classify(&V1_CISCO[..len]),
                SlowFrame::Lacpdu { .. }
            ));
        }
    }

    #[test]
    fn wrong_subtype_is_refused() {
        for st in [0x00, 0x02, 0x0b] {
            let mut f = V1_CISCO;
            f[ETHERNET_HEADER_LEN] = st;
            let p = LacpduPacket::new_unchecked(pdu(&f));
            assert_eq!(LacpduRepr::parse(&p), Err(Error::WrongSubtype(st)));
        }
    }

    #[test]
    fn wrong_tlv_headers_are_decoded_at_fixed_offsets_and_flagged() {
        // Negative vector (c): Actor_Information_Length 0x13. Linux decodes it, and so do we.
        let mut f = V1_CISCO;
        f[ETHERNET_HEADER_LEN + field::ACTOR_INFO_LEN] = 0x13;
        let p = LacpduPacket::new_checked(pdu(&f)).unwrap();
        assert_eq!(LacpduRepr::parse(&p), Ok(v1_repr()));
        assert!(!p.tlv_headers_valid());
        // Each header octet matters to the check.
        for at in [2, 3, 22, 23, 42, 43] {
            let mut f = V1_CISCO;
            f[ETHERNET_HEADER_LEN + at] ^= 0x40;
            let p = LacpduPacket::new_unchecked(pdu(&f));
            assert!(!p.tlv_headers_valid(), "octet {at}");
            assert_eq!(LacpduRepr::parse(&p), Ok(v1_repr()));
        }
        // The terminator is not checked: version 2 PDUs put TLVs there.
        let mut f = V1_CISCO;
        f[ETHERNET_HEADER_LEN + field::TERMINATOR_LEN] = 6;
        assert!(LacpduPacket::new_unchecked(pdu(&f)).tlv_headers_valid());
    }

    #[test]
    fn version_2_with_port_algorithm_tlv_is_accepted() {
        // Negative vector (d): version 2, Port Algorithm TLV `04 06 00000005` after the
        // Collector TLV, pad shortened by 6 so the PDU stays 110 octets.
        let mut f = V1_CISCO;
        let tlv_at = ETHERNET_HEADER_LEN + field::TERMINATOR_TLV_TYPE;
        f[ETHERNET_HEADER_LEN + field::VERSION] = 2;
        f[tlv_at..tlv_at + 6].copy_from_slice(&[0x04, 0x06, 0x00, 0x00, 0x00, 0x05]);
        f[tlv_at + 6..tlv_at + 8].copy_from_slice(&[0x00, 0x00]);
        let SlowFrame::Lacpdu { repr, pdu } = classify(&f) else {
            panic!("{:?}", classify(&f));
        };
        assert_eq!(
            repr,
            LacpduRepr {
                version: 2,
                ..v1_repr()
            }
        );
        assert!(pdu.tlv_headers_valid());
    }

    #[test]
    fn versions_0_and_255_are_accepted() {
        for v in [0, 2, 0xff] {
            let mut f = V1_CISCO;
            f[ETHERNET_HEADER_LEN + field::VERSION] = v;
            let p = LacpduPacket::new_unchecked(pdu(&f));
            assert_eq!(LacpduRepr::parse(&p).map(|r| r.version), Ok(v));
        }
    }

    #[test]
    fn vendor_trailer_and_nonzero_reserved_are_accepted() {
        // Negative vector (e): V1 followed by a 20-octet HP IRF-style trailer.
        let mut f = [0u8; LACP_FRAME_LEN + 20];
        f[..LACP_FRAME_LEN].copy_from_slice(&V1_CISCO);
        f[LACP_FRAME_LEN] = 0x64;
        f[LACP_FRAME_LEN + 1] = 0x12;
        f[LACP_FRAME_LEN + 2..].fill(0x77);
        let SlowFrame::Lacpdu { repr, .. } = classify(&f) else {
            panic!()
        };
        assert_eq!(repr, v1_repr());

        let mut f = V1_CISCO;
        let reserved = [
            field::ACTOR_RESERVED,
            field::PARTNER_RESERVED,
            field::COLLECTOR_RESERVED,
            field::PAD,
        ];
        for r in reserved {
            f[ETHERNET_HEADER_LEN + r.start..ETHERNET_HEADER_LEN + r.end].fill(0xee);
        }
        let p = LacpduPacket::new_unchecked(pdu(&f));
        assert_eq!(LacpduRepr::parse(&p), Ok(v1_repr()));
    }

    #[test]
    fn port_state_flags_and_display() {
        use core::fmt::Write;
        let mut s = PortState::default();
        s.insert(PortState::ACTIVITY | PortState::AGGREGATION);
        s.set(PortState::SYNCHRONIZATION, true);
        s |= PortState::COLLECTING | PortState::DISTRIBUTING;
        assert_eq!(s.bits(), 0x3d);
        assert!(s.contains(PortState::ACTIVITY | PortState::DISTRIBUTING));
        assert!(!s.contains(PortState::ACTIVITY | PortState::TIMEOUT));
        s.set(PortState::SYNCHRONIZATION, false);
        s.remove(PortState::COLLECTING);
        assert_eq!(s, PortState(0x25));

        let cases: [(u8, &str); 6] = [
            (0x3d, "0x3d (Act|Agg|Syn|Col|Dis)"),
            (0x3f, "0x3f (Act|Tmo|Agg|Syn|Col|Dis)"),
            (0x45, "0x45 (Act|Agg|Def)"),
            (0xc5, "0xc5 (Act|Agg|Def|Exp)"),
            (0x02, "0x02 (Tmo)"),
            (0x00, "0x00"),
        ];
        for (bits, text) in cases {
            let mut out = heapless::String::<48>::new();
            write!(out, "{}", PortState(bits)).unwrap();
            assert_eq!(out, text);
        }
    }

    fn port_info() -> impl Strategy<Value = PortInfo> {
        (
            any::<u16>(),
            any::<[u8; 6]>(),
            any::<u16>(),
            any::<u16>(),
            any::<u16>(),
            any::<u8>(),
        )
            .prop_map(
                |(system_priority, mac, key, port_priority, port, state)| PortInfo {
                    system_priority,
                    system: EthernetAddress(mac),
                    key,
                    port_priority,
                    port,
                    state: PortState(state),
                },
            )
    }

    proptest! {
        #[test]
        fn parse_emit_round_trip(
            version in any::<u8>(),
            actor in port_info(),
            partner in port_info(),
            collector_max_delay in any::<u16>(),
            fill in any::<u8>(),
        ) {
            let repr = LacpduRepr { version, actor, partner, collector_max_delay };
            let mut buf = [fill; LACPDU_LEN];
            repr.emit(&mut LacpduPacket::new_unchecked(&mut buf[..]));
            let p = LacpduPacket::new_checked(&buf[..]).unwrap();
            prop_assert!(p.tlv_headers_valid());
            prop_assert_eq!(LacpduRepr::parse(&p), Ok(repr));
        }

        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..160)) {
            let p = LacpduPacket::new_unchecked(&bytes[..]);
            if let Ok(repr) = LacpduRepr::parse(&p) {
                prop_assert!(bytes.len() >= LACPDU_LEN);
                prop_assert_eq!(repr.actor, p.actor());
            }
        }
    }
}
