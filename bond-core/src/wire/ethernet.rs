//! Ethernet II frames and MAC addresses: the few fields the bond reads on every frame.

use core::fmt;
use core::str::FromStr;

/// Length of an Ethernet II header (destination, source, EtherType).
pub const HEADER_LEN: usize = 14;

/// Byte ranges of the header fields.
pub mod field {
    /// A byte range inside a frame.
    pub type Field = core::ops::Range<usize>;
    /// Destination MAC address.
    pub const DESTINATION: Field = 0..6;
    /// Source MAC address.
    pub const SOURCE: Field = 6..12;
    /// EtherType (or TPID of a VLAN tag).
    pub const ETHERTYPE: Field = 12..14;
}

/// Well-known EtherType values.
pub mod ethertype {
    /// IPv4.
    pub const IPV4: u16 = 0x0800;
    /// ARP.
    pub const ARP: u16 = 0x0806;
    /// IEEE 802.1Q VLAN tag.
    pub const VLAN: u16 = 0x8100;
    /// IEEE 802.1ad service VLAN tag.
    pub const QINQ: u16 = 0x88a8;
    /// IPv6.
    pub const IPV6: u16 = 0x86dd;
    /// Slow protocols (LACP, Marker).
    pub const SLOW: u16 = 0x8809;
}

/// A six-octet IEEE MAC address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EthernetAddress(pub [u8; 6]);

impl EthernetAddress {
    /// ff:ff:ff:ff:ff:ff.
    pub const BROADCAST: Self = Self([0xff; 6]);
    /// 00:00:00:00:00:00.
    pub const ZERO: Self = Self([0; 6]);
    /// The Slow Protocols multicast group 01:80:c2:00:00:02 (LACP, Marker).
    pub const SLOW_PROTOCOLS: Self = Self([0x01, 0x80, 0xc2, 0x00, 0x00, 0x02]);

    /// The address from the first six bytes of `bytes`.
    ///
    /// # Panics
    /// If `bytes` is shorter than six bytes.
    pub fn from_bytes(bytes: &[u8]) -> Self {
        let mut a = [0; 6];
        a.copy_from_slice(&bytes[..6]);
        Self(a)
    }

    /// The raw octets.
    pub const fn as_bytes(&self) -> &[u8; 6] {
        &self.0
    }

    /// Whether this is a unicast address that is not all zeros.
    pub fn is_unicast(&self) -> bool {
        self.0[0] & 0x01 == 0 && *self != Self::ZERO
    }

    /// Whether the group bit is set (multicast or broadcast).
    pub const fn is_multicast(&self) -> bool {
        self.0[0] & 0x01 != 0
    }

    /// Whether this is ff:ff:ff:ff:ff:ff.
    pub fn is_broadcast(&self) -> bool {
        *self == Self::BROADCAST
    }

    /// Whether this is one of the IEEE 802.1D link-local groups 01:80:c2:00:00:0x, which Linux
    /// passes up even from an inactive bond port.
    pub fn is_link_local(&self) -> bool {
        self.0[..5] == [0x01, 0x80, 0xc2, 0x00, 0x00] && self.0[5] & 0xf0 == 0
    }
}

impl fmt::Display for EthernetAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

/// The text was not a MAC address in `aa:bb:cc:dd:ee:ff` (or `-`-separated) form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ParseMacError;

impl fmt::Display for ParseMacError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("expected a MAC address such as 02:00:00:00:00:01")
    }
}

impl core::error::Error for ParseMacError {}

impl FromStr for EthernetAddress {
    type Err = ParseMacError;
    fn from_str(s: &str) -> Result<Self, ParseMacError> {
        let mut out = [0u8; 6];
        let mut parts = s.split([':', '-']);
        for byte in out.iter_mut() {
            let p = parts.next().ok_or(ParseMacError)?;
            if p.is_empty() || p.len() > 2 {
                return Err(ParseMacError);
            }
            *byte = u8::from_str_radix(p, 16).map_err(|_| ParseMacError)?;
        }
        if parts.next().is_some() {
            return Err(ParseMacError);
        }
        Ok(Self(out))
    }
}

/// A read-only view of an Ethernet II frame whose length has been checked.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    buffer: &'a [u8],
}

impl<'a> Frame<'a> {
    /// Wrap `buffer`, or `None` if it is shorter than an Ethernet header.
    pub fn new_checked(buffer: &'a [u8]) -> Option<Self> {
        (buffer.len() >= HEADER_LEN).then_some(Self { buffer })
    }

    /// Destination address.
    pub fn dst_addr(&self) -> EthernetAddress {
        EthernetAddress::from_bytes(&self.buffer[field::DESTINATION])
    }

    /// Source address.
    pub fn src_addr(&self) -> EthernetAddress {
        EthernetAddress::from_bytes(&self.buffer[field::SOURCE])
    }

    /// The EtherType field (a VLAN TPID when the frame is tagged).
    pub fn ethertype(&self) -> u16 {
        u16::from_be_bytes([self.buffer[12], self.buffer[13]])
    }

    /// Everything after the 14-byte header.
    pub fn payload(&self) -> &'a [u8] {
        &self.buffer[HEADER_LEN..]
    }

    /// The whole frame.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.buffer
    }
}

/// Write an Ethernet II header into the first 14 bytes of `buf`.
///
/// # Panics
/// If `buf` is shorter than [`HEADER_LEN`].
pub fn emit_header(buf: &mut [u8], dst: EthernetAddress, src: EthernetAddress, ethertype: u16) {
    buf[field::DESTINATION].copy_from_slice(&dst.0);
    buf[field::SOURCE].copy_from_slice(&src.0);
    buf[field::ETHERTYPE].copy_from_slice(&ethertype.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_parse_and_display() {
        let m: EthernetAddress = "02:00:5e:0A:b:ff".parse().unwrap();
        assert_eq!(m.0, [0x02, 0x00, 0x5e, 0x0a, 0x0b, 0xff]);
        assert_eq!(m.to_string_lossy(), "02:00:5e:0a:0b:ff");
        assert_eq!("02-00-5e-0a-0b-ff".parse::<EthernetAddress>(), Ok(m));
        for bad in [
            "",
            "02:00:5e:0a:0b",
            "02:00:5e:0a:0b:ff:00",
            "02:00:5e:0a:0b:fff",
            "zz:00:00:00:00:00",
            "02::00:00:00:00",
        ] {
            assert_eq!(bad.parse::<EthernetAddress>(), Err(ParseMacError), "{bad}");
        }
    }

    #[test]
    fn classes() {
        assert!(EthernetAddress::SLOW_PROTOCOLS.is_link_local());
        assert!(EthernetAddress([1, 0x80, 0xc2, 0, 0, 0x0e]).is_link_local());
        assert!(!EthernetAddress([1, 0x80, 0xc2, 0, 0, 0x10]).is_link_local());
        assert!(EthernetAddress::BROADCAST.is_multicast());
        assert!(!EthernetAddress::ZERO.is_unicast());
        assert!(EthernetAddress([2, 0, 0, 0, 0, 1]).is_unicast());
    }

    #[test]
    fn frame_view() {
        assert!(Frame::new_checked(&[0; 13]).is_none());
        let mut buf = [0u8; 20];
        emit_header(
            &mut buf,
            EthernetAddress::BROADCAST,
            EthernetAddress([2, 0, 0, 0, 0, 1]),
            ethertype::ARP,
        );
        let f = Frame::new_checked(&buf).unwrap();
        assert!(f.dst_addr().is_broadcast());
        assert_eq!(f.src_addr(), EthernetAddress([2, 0, 0, 0, 0, 1]));
        assert_eq!(f.ethertype(), ethertype::ARP);
        assert_eq!(f.payload().len(), 6);
    }

    impl EthernetAddress {
        fn to_string_lossy(self) -> heapless::String<17> {
            use core::fmt::Write;
            let mut s = heapless::String::new();
            write!(s, "{self}").unwrap();
            s
        }
    }
}
