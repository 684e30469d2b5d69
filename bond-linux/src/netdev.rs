//! Interface ioctls: index, MAC address, flags, MTU, and the ethtool queries (speed, duplex,
//! link, permanent address) that Linux bonding reads from its members.
//!
//! rustix has no typed calls for these, so they go through `libc::ioctl` on an `ifreq`. The
//! `unsafe` blocks are that one ioctl call and the reads of the `ifreq` union it filled.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};

use bond_core::{Duplex, EthernetAddress, LinkSample};
use rustix::net::{AddressFamily, SocketFlags, SocketType};

/// `ETHTOOL_GSET` (deprecated, the fallback for drivers without link ksettings).
const ETHTOOL_GSET: u32 = 0x0000_0001;
/// `ETHTOOL_GLINK`: link status (`netif_running && carrier` for most drivers).
const ETHTOOL_GLINK: u32 = 0x0000_000a;
/// `ETHTOOL_GPERMADDR`: the burned-in MAC address.
const ETHTOOL_GPERMADDR: u32 = 0x0000_0020;
/// `ETHTOOL_GLINKSETTINGS`.
const ETHTOOL_GLINKSETTINGS: u32 = 0x0000_004c;
/// `SPEED_UNKNOWN`.
const SPEED_UNKNOWN: u32 = u32::MAX;
/// `DUPLEX_HALF` / `DUPLEX_FULL`.
const DUPLEX_HALF: u8 = 0;
const DUPLEX_FULL: u8 = 1;

/// A handle for interface ioctls (they work on any socket; this is an `AF_UNIX` datagram socket,
/// as glibc uses, so no network protocol needs to be configured).
#[derive(Debug)]
pub struct NetDev {
    sock: OwnedFd,
}

/// Flags of an interface (`IFF_*`), as `SIOCGIFFLAGS` returns them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IfFlags(pub u32);

impl IfFlags {
    /// Administratively up.
    pub fn up(self) -> bool {
        self.0 & libc::IFF_UP as u32 != 0
    }

    /// Operationally up (`IFF_RUNNING`).
    pub fn running(self) -> bool {
        self.0 & libc::IFF_RUNNING as u32 != 0
    }
}

impl NetDev {
    /// Open the ioctl socket.
    pub fn new() -> io::Result<Self> {
        let sock = rustix::net::socket_with(
            AddressFamily::UNIX,
            SocketType::DGRAM,
            SocketFlags::CLOEXEC,
            None,
        )?;
        Ok(Self { sock })
    }

    /// The interface index of `name`.
    pub fn ifindex(&self, name: &str) -> io::Result<u32> {
        check_name(name)?;
        Ok(rustix::net::netdevice::name_to_index(&self.sock, name)?)
    }

    /// The current MAC address of `name`.
    pub fn mac(&self, name: &str) -> io::Result<EthernetAddress> {
        let mut ifr = ifreq(name)?;
        self.ioctl(libc::SIOCGIFHWADDR, &mut ifr)?;
        // SAFETY: SIOCGIFHWADDR succeeded, so the kernel filled `ifru_hwaddr`; every bit pattern
        // of a `sockaddr` is valid.
        let sa = unsafe { ifr.ifr_ifru.ifru_hwaddr };
        Ok(mac_from_sa_data(&sa.sa_data))
    }

    /// Program `mac` into `name`. Fails with `EBUSY` if the driver cannot change the address
    /// while the interface is up (see [`NetDev::set_mac_any_state`]).
    pub fn set_mac(&self, name: &str, mac: EthernetAddress) -> io::Result<()> {
        let mut ifr = ifreq(name)?;
        let mut sa: libc::sockaddr = sockaddr_zeroed();
        sa.sa_family = libc::ARPHRD_ETHER;
        for (dst, src) in sa.sa_data.iter_mut().zip(mac.0) {
            *dst = src as libc::c_char;
        }
        ifr.ifr_ifru.ifru_hwaddr = sa;
        self.ioctl(libc::SIOCSIFHWADDR, &mut ifr)
    }

    /// Program `mac` into `name`, taking the interface down and up again around the change if
    /// the driver refuses to change it live (`EBUSY`). veth and tun change it live; many
    /// physical NICs do not, and Linux bonding orders enslave the same way (address first,
    /// then open).
    pub fn set_mac_any_state(&self, name: &str, mac: EthernetAddress) -> io::Result<()> {
        match self.set_mac(name, mac) {
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {
                let flags = self.flags(name)?;
                if !flags.up() {
                    return Err(e);
                }
                self.set_up(name, false)?;
                let result = self.set_mac(name, mac);
                // Bring it back up whatever happened: a member left down would be worse.
                self.set_up(name, true)?;
                result
            }
            other => other,
        }
    }

    /// The `IFF_*` flags of `name`.
    pub fn flags(&self, name: &str) -> io::Result<IfFlags> {
        let mut ifr = ifreq(name)?;
        self.ioctl(libc::SIOCGIFFLAGS, &mut ifr)?;
        // SAFETY: SIOCGIFFLAGS succeeded, so `ifru_flags` holds the flags; any bits are valid.
        let flags = unsafe { ifr.ifr_ifru.ifru_flags };
        Ok(IfFlags(u32::from(flags as u16)))
    }

    /// Set or clear `IFF_UP` on `name`, keeping the other flags.
    pub fn set_up(&self, name: &str, up: bool) -> io::Result<()> {
        self.update_flags(name, libc::IFF_UP, up)
    }

    /// Set (`on`) or clear `flag` on `name`, keeping the other flags.
    fn update_flags(&self, name: &str, flag: libc::c_int, on: bool) -> io::Result<()> {
        let mut ifr = ifreq(name)?;
        self.ioctl(libc::SIOCGIFFLAGS, &mut ifr)?;
        // SAFETY: SIOCGIFFLAGS succeeded, so `ifru_flags` holds the flags; any bits are valid.
        let mut flags = unsafe { ifr.ifr_ifru.ifru_flags };
        if on {
            flags |= flag as libc::c_short;
        } else {
            flags &= !(flag as libc::c_short);
        }
        ifr.ifr_ifru.ifru_flags = flags;
        self.ioctl(libc::SIOCSIFFLAGS, &mut ifr)
    }

    /// Set or clear `IFF_NOARP` on `name` (`ip link set NAME arp off|on`).
    pub fn set_noarp(&self, name: &str, noarp: bool) -> io::Result<()> {
        self.update_flags(name, libc::IFF_NOARP, noarp)
    }

    /// The MTU of `name` (`SIOCGIFMTU`).
    pub fn mtu(&self, name: &str) -> io::Result<u32> {
        let mut ifr = ifreq(name)?;
        self.ioctl(libc::SIOCGIFMTU, &mut ifr)?;
        // SAFETY: SIOCGIFMTU succeeded, so `ifru_mtu` holds the MTU; any int is valid.
        let mtu = unsafe { ifr.ifr_ifru.ifru_mtu };
        u32::try_from(mtu).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
    }

    /// Set the MTU of `name` (`SIOCSIFMTU`, what `ip link set NAME mtu MTU` does). Fails with
    /// `EINVAL` (or `ERANGE`) if the driver does not allow it.
    pub fn set_mtu(&self, name: &str, mtu: u32) -> io::Result<()> {
        let mut ifr = ifreq(name)?;
        ifr.ifr_ifru.ifru_mtu =
            libc::c_int::try_from(mtu).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        self.ioctl(libc::SIOCSIFMTU, &mut ifr)
    }

    /// Speed and duplex from ethtool (`ETHTOOL_GLINKSETTINGS`, else `ETHTOOL_GSET`), as Linux
    /// bonding's `bond_update_speed_duplex` reads them. `None` fields when the driver does not
    /// say (or has no link).
    pub fn speed_duplex(&self, name: &str) -> (Option<u32>, Duplex) {
        self.link_ksettings(name)
            .or_else(|_| self.gset(name))
            .unwrap_or((None, Duplex::Unknown))
    }

    /// Carrier: `ETHTOOL_GLINK`, or `IFF_UP && IFF_RUNNING` for drivers without it.
    pub fn carrier(&self, name: &str) -> io::Result<bool> {
        // struct ethtool_value { u32 cmd; u32 data; }
        let mut value = EthtoolBuf::<8>::new(ETHTOOL_GLINK);
        match self.ethtool(name, &mut value) {
            Ok(()) => Ok(value.u32_at(4) != 0),
            Err(e) if e.raw_os_error() == Some(libc::EOPNOTSUPP) => {
                let flags = self.flags(name)?;
                Ok(flags.up() && flags.running())
            }
            Err(e) => Err(e),
        }
    }

    /// A full link sample of `name`: carrier, then speed and duplex while it has carrier.
    pub fn link_sample(&self, name: &str) -> io::Result<LinkSample> {
        let up = self.carrier(name)?;
        if !up {
            return Ok(LinkSample::DOWN);
        }
        let (speed_mbps, duplex) = self.speed_duplex(name);
        Ok(LinkSample {
            up,
            speed_mbps,
            duplex,
        })
    }

    /// The permanent (burned-in) MAC from `ETHTOOL_GPERMADDR`; `None` when the driver has none
    /// (veth and tun report all zeros).
    pub fn permanent_mac(&self, name: &str) -> Option<EthernetAddress> {
        // struct ethtool_perm_addr { u32 cmd; u32 size; u8 data[]; } with MAX_ADDR_LEN = 32.
        let mut buf = EthtoolBuf::<40>::new(ETHTOOL_GPERMADDR);
        buf.put_u32(4, 32);
        self.ethtool(name, &mut buf).ok()?;
        if buf.u32_at(4) != 6 {
            return None;
        }
        let mac = EthernetAddress::from_bytes(&buf.0[8..14]);
        (mac != EthernetAddress::ZERO).then_some(mac)
    }

    fn link_ksettings(&self, name: &str) -> io::Result<(Option<u32>, Duplex)> {
        // struct ethtool_link_settings: cmd (0), speed (4), duplex (8), ...,
        // link_mode_masks_nwords (s8 at 15), ..., 48 bytes, then three link-mode bitmaps of
        // nwords u32 each; nwords is an s8, so 3 * 127 words always fit. The first call is the
        // handshake in which the kernel answers with -nwords.
        const LEN: usize = 48 + 3 * 127 * 4;
        let mut buf = EthtoolBuf::<LEN>::new(ETHTOOL_GLINKSETTINGS);
        self.ethtool(name, &mut buf)?;
        let nwords = buf.0[15] as i8;
        if nwords >= 0 {
            return Err(io::Error::from_raw_os_error(libc::EOPNOTSUPP));
        }
        let mut buf = EthtoolBuf::<LEN>::new(ETHTOOL_GLINKSETTINGS);
        buf.0[15] = nwords.unsigned_abs();
        self.ethtool(name, &mut buf)?;
        Ok(decode_speed_duplex(buf.u32_at(4), buf.0[8]))
    }

    fn gset(&self, name: &str) -> io::Result<(Option<u32>, Duplex)> {
        // struct ethtool_cmd, 44 bytes: speed (u16) at 12, duplex (u8) at 14, speed_hi at 28.
        let mut buf = EthtoolBuf::<44>::new(ETHTOOL_GSET);
        self.ethtool(name, &mut buf)?;
        let b = &buf.0;
        let speed = u32::from(u16::from_ne_bytes([b[28], b[29]])) << 16
            | u32::from(u16::from_ne_bytes([b[12], b[13]]));
        Ok(decode_speed_duplex(speed, b[14]))
    }

    /// `SIOCETHTOOL` with `data` pointing at an ethtool command structure.
    fn ethtool<const L: usize>(&self, name: &str, buf: &mut EthtoolBuf<L>) -> io::Result<()> {
        let mut ifr = ifreq(name)?;
        ifr.ifr_ifru.ifru_data = buf.0.as_mut_ptr().cast();
        self.ioctl(libc::SIOCETHTOOL, &mut ifr)
    }

    fn ioctl(&self, request: libc::c_ulong, ifr: &mut libc::ifreq) -> io::Result<()> {
        // SAFETY: `ifr` is a valid, exclusively borrowed `ifreq` with a NUL-terminated name; the
        // requests used here read or write only the `ifreq` itself, except SIOCETHTOOL, whose
        // `ifru_data` the callers point at a live buffer large enough for the command they put
        // in it (the kernel copies at most the size the command implies).
        let rc = unsafe { libc::ioctl(self.sock.as_raw_fd(), request as _, ifr as *mut _) };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

/// An ethtool command structure as bytes, aligned as the kernel's structs (all `u32` based).
#[repr(C, align(8))]
struct EthtoolBuf<const L: usize>([u8; L]);

impl<const L: usize> EthtoolBuf<L> {
    /// A zeroed buffer holding command `cmd` in its first word.
    fn new(cmd: u32) -> Self {
        let mut buf = Self([0; L]);
        buf.put_u32(0, cmd);
        buf
    }

    fn put_u32(&mut self, at: usize, value: u32) {
        self.0[at..at + 4].copy_from_slice(&value.to_ne_bytes());
    }

    fn u32_at(&self, at: usize) -> u32 {
        u32::from_ne_bytes([self.0[at], self.0[at + 1], self.0[at + 2], self.0[at + 3]])
    }
}

/// ethtool's speed and duplex values as a link sample's.
fn decode_speed_duplex(speed: u32, duplex: u8) -> (Option<u32>, Duplex) {
    let speed = (speed != SPEED_UNKNOWN && speed != 0).then_some(speed);
    let duplex = match duplex {
        DUPLEX_FULL => Duplex::Full,
        DUPLEX_HALF => Duplex::Half,
        _ => Duplex::Unknown,
    };
    (speed, duplex)
}

/// Refuse names the kernel would refuse (empty, too long, with `/`, NUL or whitespace) before
/// they reach an ioctl or a path.
pub fn check_name(name: &str) -> io::Result<()> {
    if bond_core::options::is_valid_ifname(name) {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("invalid interface name {name:?}"),
        ))
    }
}

/// A zeroed `ifreq` naming `name`.
pub(crate) fn ifreq(name: &str) -> io::Result<libc::ifreq> {
    check_name(name)?;
    // SAFETY: `ifreq` is a plain C struct (a name array and a union of plain data and a raw
    // pointer); all zeros is a valid value of it.
    let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
    // check_name bounds the name to 15 bytes, so the NUL terminator stays.
    for (dst, src) in ifr.ifr_name.iter_mut().zip(name.bytes()) {
        *dst = src as libc::c_char;
    }
    Ok(ifr)
}

fn sockaddr_zeroed() -> libc::sockaddr {
    // SAFETY: `sockaddr` is plain integers; all zeros is valid.
    unsafe { std::mem::zeroed() }
}

fn mac_from_sa_data(data: &[libc::c_char; 14]) -> EthernetAddress {
    let mut mac = [0u8; 6];
    for (dst, src) in mac.iter_mut().zip(data) {
        *dst = *src as u8;
    }
    EthernetAddress(mac)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speed_and_duplex_decoding() {
        assert_eq!(decode_speed_duplex(10000, 1), (Some(10000), Duplex::Full));
        assert_eq!(decode_speed_duplex(100, 0), (Some(100), Duplex::Half));
        assert_eq!(
            decode_speed_duplex(SPEED_UNKNOWN, 0xff),
            (None, Duplex::Unknown)
        );
    }

    #[test]
    fn names_are_checked_before_any_ioctl() {
        assert!(ifreq("eth0").is_ok());
        assert!(ifreq("").is_err());
        assert!(ifreq("a-name-too-long-0").is_err());
        assert!(ifreq("../x").is_err());
    }

    #[test]
    fn loopback_queries() {
        // `lo` exists in every network namespace; these must not fail on it.
        let nd = NetDev::new().unwrap();
        assert!(nd.ifindex("lo").unwrap() >= 1);
        assert_eq!(nd.mac("lo").unwrap(), EthernetAddress::ZERO);
        assert!(nd.flags("lo").is_ok());
        assert!(nd.mtu("lo").unwrap() >= 1280);
        assert!(nd.ifindex("nonexistent0").is_err());
        assert!(nd.mtu("nonexistent0").is_err());
    }
}
