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

#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod tests;
