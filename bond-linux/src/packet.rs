//! A member port's frames: an `AF_PACKET` raw socket bound to one interface.
//!
//! AF_PACKET is a tap, not a steal: the kernel still sees every frame the port receives, which
//! is why the member's own IP stack must be kept off it (`arp off`, `disable_ipv6`; see the
//! reference notes on peers). Our own transmissions come back to the socket as
//! `PACKET_OUTGOING`; those are skipped.
//!
//! The kernel takes the 802.1Q tag out of a received frame before AF_PACKET sees it (into
//! `skb->vlan_tci`, whether or not the NIC offloads VLANs) and reports it in `PACKET_AUXDATA`;
//! [`PacketSocket::recv`] puts it back, so tagged traffic reaches the TAP (and VLAN interfaces
//! on it) as it was on the wire.

use std::io;
use std::mem::size_of;
use std::ops::Range;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use bond_core::EthernetAddress;
use rustix::net::{AddressFamily, SendFlags, SocketFlags, SocketType};

/// `ETH_P_ALL`, in the network byte order `sockaddr_ll` wants.
const ETH_P_ALL_BE: u16 = (libc::ETH_P_ALL as u16).to_be();

/// Receive buffer asked for: a few hundred full-size frames, so a burst survives a slow turn
/// of the event loop.
const RCVBUF: usize = 1 << 20;

/// A link-layer membership of the socket (`PACKET_ADD_MEMBERSHIP`); the kernel drops it when
/// the socket closes, so nothing is left behind on the interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Membership {
    /// Receive this multicast group (the NIC's multicast filter gets it).
    Multicast(EthernetAddress),
    /// Receive this unicast address besides the port's own (the NIC's unicast filter gets it,
    /// or the NIC goes promiscuous if it has no room). The kernel's stack on the port still
    /// treats such frames as for another host.
    Unicast(EthernetAddress),
    /// Every multicast frame.
    AllMulti,
    /// Promiscuous mode.
    Promisc,
}

/// Bytes [`PacketSocket::recv`] keeps free at the start of the buffer, where a VLAN tag the
/// kernel took out is put back without moving the payload.
pub const HEADROOM: usize = 4;

/// What [`PacketSocket::recv`] got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// A frame occupies this part of the buffer.
    Frame(Range<usize>),
    /// A frame longer than the buffer arrived (its real length); it was cut and must be dropped.
    Truncated(usize),
    /// Our own (or the host's) transmission on this port, looped back by AF_PACKET.
    Outgoing,
}

/// An `AF_PACKET`/`SOCK_RAW` socket bound to one interface, non-blocking.
#[derive(Debug)]
pub struct PacketSocket {
    fd: OwnedFd,
    ifindex: u32,
}

impl PacketSocket {
    /// Open a socket that receives every frame (`ETH_P_ALL`) of interface `ifindex` and sends on
    /// it.
    pub fn open(ifindex: u32) -> io::Result<Self> {
        // Protocol 0 at creation: the socket receives nothing until bind narrows it to one
        // interface, so no frame of another interface can slip in between.
        let fd = rustix::net::socket_with(
            AddressFamily::PACKET,
            SocketType::RAW,
            SocketFlags::CLOEXEC | SocketFlags::NONBLOCK,
            None,
        )?;
        let sock = Self { fd, ifindex };
        let mut addr = sockaddr_ll_zeroed();
        addr.sll_family = libc::AF_PACKET as u16;
        addr.sll_protocol = ETH_P_ALL_BE;
        addr.sll_ifindex = ifindex as i32;
        // SAFETY: `addr` is a fully initialised `sockaddr_ll` and the length passed is its size.
        let rc = unsafe {
            libc::bind(
                sock.fd.as_raw_fd(),
                (&raw const addr).cast(),
                size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        // Best effort: a larger buffer and no copies of outgoing frames (Linux 4.20+); the
        // PACKET_OUTGOING check in `recv` stays for older kernels.
        let _ = rustix::net::sockopt::set_socket_recv_buffer_size(&sock.fd, RCVBUF);
        let _ = sock.setsockopt_int(libc::PACKET_IGNORE_OUTGOING, 1);
        // Not best effort: without it VLAN tags would be lost silently.
        sock.setsockopt_int(libc::PACKET_AUXDATA, 1)?;
        Ok(sock)
    }

    /// The interface this socket is bound to.
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// Add a link-layer membership.
    pub fn add_membership(&self, m: Membership) -> io::Result<()> {
        self.membership(libc::PACKET_ADD_MEMBERSHIP, m)
    }

    /// Drop a link-layer membership added before.
    pub fn drop_membership(&self, m: Membership) -> io::Result<()> {
        self.membership(libc::PACKET_DROP_MEMBERSHIP, m)
    }

    fn membership(&self, op: libc::c_int, m: Membership) -> io::Result<()> {
        let (kind, addr) = match m {
            Membership::Multicast(a) => (libc::PACKET_MR_MULTICAST, Some(a)),
            Membership::Unicast(a) => (libc::PACKET_MR_UNICAST, Some(a)),
            Membership::AllMulti => (libc::PACKET_MR_ALLMULTI, None),
            Membership::Promisc => (libc::PACKET_MR_PROMISC, None),
        };
        let mut mreq = libc::packet_mreq {
            mr_ifindex: self.ifindex as i32,
            mr_type: kind as u16,
            mr_alen: 0,
            mr_address: [0; 8],
        };
        if let Some(a) = addr {
            mreq.mr_alen = 6;
            mreq.mr_address[..6].copy_from_slice(&a.0);
        }
        self.setsockopt(op, &mreq)
    }

    /// Receive one frame into `buf`, or `None` if none is waiting. The frame lands at
    /// [`HEADROOM`] (or at 0 when a VLAN tag was put back); the returned range says where.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<Option<Received>> {
        if buf.len() <= HEADROOM + 14 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "buffer too small",
            ));
        }
        let mut from = sockaddr_ll_zeroed();
        // u64s: cmsg headers must be aligned like `size_t`.
        let mut control = [0u64; 8];
        let mut iov = libc::iovec {
            iov_base: buf[HEADROOM..].as_mut_ptr().cast(),
            iov_len: buf.len() - HEADROOM,
        };
        // SAFETY: `msghdr` is plain data (integers and raw pointers); all zeros is valid.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_name = (&raw mut from).cast();
        msg.msg_namelen = size_of::<libc::sockaddr_ll>() as libc::socklen_t;
        msg.msg_iov = &raw mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = size_of::<[u64; 8]>() as _;
        // SAFETY: every pointer in `msg` points at a live local or at `buf[HEADROOM..]`, with
        // the lengths given; the kernel writes no more than those lengths.
        let n = unsafe {
            libc::recvmsg(
                self.fd.as_raw_fd(),
                &raw mut msg,
                // MSG_TRUNC: packet sockets then return the frame's real length, so a cut frame
                // is recognised instead of passed on short.
                libc::MSG_TRUNC | libc::MSG_DONTWAIT,
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            return match e.kind() {
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(None),
                _ => Err(e),
            };
        }
        let n = n as usize;
        if from.sll_pkttype == libc::PACKET_OUTGOING {
            return Ok(Some(Received::Outgoing));
        }
        if n > buf.len() - HEADROOM || msg.msg_flags & libc::MSG_TRUNC != 0 {
            return Ok(Some(Received::Truncated(n)));
        }
        let frame = HEADROOM..HEADROOM + n;
        Ok(Some(match auxdata_vlan(&msg) {
            Some((tpid, tci)) if n >= 12 => Received::Frame(reinsert_vlan(buf, frame, tpid, tci)),
            _ => Received::Frame(frame),
        }))
    }

    /// Send `frame` (a whole Ethernet frame, without FCS) on the port.
    pub fn send(&self, frame: &[u8]) -> io::Result<()> {
        // A bound packet socket sends on its interface when no address is given.
        let n = rustix::net::send(&self.fd, frame, SendFlags::DONTWAIT)?;
        if n != frame.len() {
            return Err(io::Error::new(io::ErrorKind::WriteZero, "short send"));
        }
        Ok(())
    }

    fn setsockopt_int(&self, opt: libc::c_int, value: libc::c_int) -> io::Result<()> {
        self.setsockopt(opt, &value)
    }

    fn setsockopt<T>(&self, opt: libc::c_int, value: &T) -> io::Result<()> {
        // SAFETY: `value` points at a live `T` of the size passed; the kernel only reads it.
        // Callers pass the type the option expects (`packet_mreq` or `int`).
        let rc = unsafe {
            libc::setsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_PACKET,
                opt,
                (value as *const T).cast(),
                size_of::<T>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

impl AsFd for PacketSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// The VLAN tag (TPID, TCI) that `PACKET_AUXDATA` in `msg` reports, if the kernel took one out.
fn auxdata_vlan(msg: &libc::msghdr) -> Option<(u16, u16)> {
    // SAFETY: CMSG_LEN is arithmetic on its argument; it touches no memory.
    let min_len = unsafe { libc::CMSG_LEN(size_of::<libc::tpacket_auxdata>() as u32) } as usize;
    // SAFETY: `msg` was filled by a successful recvmsg, so its control buffer holds
    // `msg_controllen` bytes of well-formed cmsgs, which the CMSG_* helpers walk within bounds.
    let mut cmsg = unsafe { libc::CMSG_FIRSTHDR(msg) };
    while !cmsg.is_null() {
        // SAFETY: `cmsg` is non-null and points into the control buffer (see above).
        let hdr = unsafe { &*cmsg };
        let len_ok = hdr.cmsg_len as usize >= min_len;
        if hdr.cmsg_level == libc::SOL_PACKET && hdr.cmsg_type == libc::PACKET_AUXDATA && len_ok {
            // SAFETY: the cmsg is long enough for a `tpacket_auxdata` (checked above); its data
            // may be unaligned, hence read_unaligned.
            let aux: libc::tpacket_auxdata =
                unsafe { std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast()) };
            if aux.tp_status & libc::TP_STATUS_VLAN_VALID == 0 {
                return None;
            }
            let tpid = if aux.tp_status & libc::TP_STATUS_VLAN_TPID_VALID != 0 {
                aux.tp_vlan_tpid
            } else {
                0x8100
            };
            return Some((tpid, aux.tp_vlan_tci));
        }
        // SAFETY: as for CMSG_FIRSTHDR.
        cmsg = unsafe { libc::CMSG_NXTHDR(msg, cmsg) };
    }
    None
}

/// Put a VLAN tag back into the frame at `frame` (which starts at [`HEADROOM`]): the two MAC
/// addresses move 4 bytes towards the start of `buf` and the tag goes after them.
fn reinsert_vlan(buf: &mut [u8], frame: Range<usize>, tpid: u16, tci: u16) -> Range<usize> {
    let start = frame.start - HEADROOM;
    buf.copy_within(frame.start..frame.start + 12, start);
    buf[start + 12..start + 14].copy_from_slice(&tpid.to_be_bytes());
    buf[start + 14..start + 16].copy_from_slice(&tci.to_be_bytes());
    start..frame.end
}

fn sockaddr_ll_zeroed() -> libc::sockaddr_ll {
    // SAFETY: `sockaddr_ll` is plain integers and arrays; all zeros is valid.
    unsafe { std::mem::zeroed() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vlan_tag_goes_back_after_the_addresses() {
        let mut buf = [0u8; 64];
        let frame: Vec<u8> = (1..=20).collect(); // dst 1..6, src 7..12, type 13-14, payload
        buf[HEADROOM..HEADROOM + 20].copy_from_slice(&frame);
        let r = reinsert_vlan(&mut buf, HEADROOM..HEADROOM + 20, 0x8100, 0x2007);
        assert_eq!(r, 0..24);
        assert_eq!(&buf[0..12], &frame[..12]);
        assert_eq!(&buf[12..16], &[0x81, 0x00, 0x20, 0x07]);
        assert_eq!(&buf[16..24], &frame[12..]);
    }
}
