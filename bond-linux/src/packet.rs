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
//!
//! Frames move in batches: [`PacketSocket::recv_batch`] takes up to [`BATCH`] frames with one
//! `recvmmsg`, [`PacketSocket::send_batch`] sends many with one `sendmmsg`. With
//! `PACKET_VNET_HDR` ([`PacketSocket::set_vnet_hdr`]) each frame comes and goes behind a
//! [`VnetHdr`], so TCP super-frames cross whole and the port's device (or the kernel, just
//! before it) segments and checksums them.

use std::io;
use std::mem::size_of;
use std::ops::Range;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use bond_core::EthernetAddress;
use rustix::net::{AddressFamily, SocketFlags, SocketType};

use crate::vnet::{VnetHdr, VNET_HDR_LEN};

/// `ETH_P_ALL`, in the network byte order `sockaddr_ll` wants.
const ETH_P_ALL_BE: u16 = (libc::ETH_P_ALL as u16).to_be();

/// Socket buffers asked for: a burst of 64 KiB super-frames (or a few thousand full-size
/// frames) survives a slow turn of the event loop.
const SOCKBUF: usize = 8 << 20;

/// `PACKET_VNET_HDR` (linux/if_packet.h), which the libc crate does not name.
const PACKET_VNET_HDR: libc::c_int = 15;

/// Most frames one `recvmmsg`/`sendmmsg` moves.
pub const BATCH: usize = 32;

/// Control-message space per received frame (one `tpacket_auxdata`), in `u64`s so cmsg
/// headers are aligned like `size_t`.
const CONTROL_WORDS: usize = 8;

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
    /// A frame occupies this part of the buffer. On a socket with virtio-net headers, the
    /// frame's header is in the [`VNET_HDR_LEN`] bytes just before it.
    Frame(Range<usize>),
    /// A frame longer than the buffer arrived (its real length); it was cut and must be dropped.
    Truncated(usize),
    /// Our own (or the host's) transmission on this port, looped back by AF_PACKET.
    Outgoing,
    /// The kernel refused to describe the frame in a virtio-net header (a GSO type the header
    /// cannot express, such as a tunnel's) and dropped it.
    Undescribable,
}

/// Receive buffers for [`PacketSocket::recv_batch`]: [`BATCH`] slots of one frame each, and
/// what the last call put in them.
#[derive(Debug)]
pub struct RxBatch {
    buf: Vec<u8>,
    slot_len: usize,
    got: Vec<Received>,
}

impl RxBatch {
    /// Slots for frames of up to `max_frame` bytes (plus header and headroom).
    pub fn new(max_frame: usize) -> Self {
        let slot_len = HEADROOM + VNET_HDR_LEN + max_frame;
        Self {
            buf: vec![0; slot_len * BATCH],
            slot_len,
            got: Vec::with_capacity(BATCH),
        }
    }

    /// What the last receive got, one entry per slot filled.
    pub fn received(&self) -> &[Received] {
        &self.got
    }

    /// Slot `i`'s buffer (the ranges of [`Self::received`] index into it).
    pub fn slot(&self, i: usize) -> &[u8] {
        &self.buf[i * self.slot_len..(i + 1) * self.slot_len]
    }
}

/// An `AF_PACKET`/`SOCK_RAW` socket bound to one interface, non-blocking.
#[derive(Debug)]
pub struct PacketSocket {
    fd: OwnedFd,
    ifindex: u32,
    vnet: bool,
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
        let sock = Self {
            fd,
            ifindex,
            vnet: false,
        };
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
        // Best effort: larger buffers (beyond rmem_max/wmem_max when we may) and no copies
        // of outgoing frames (Linux 4.20+); the PACKET_OUTGOING check stays for older kernels.
        for (force, plain) in [
            (libc::SO_RCVBUFFORCE, libc::SO_RCVBUF),
            (libc::SO_SNDBUFFORCE, libc::SO_SNDBUF),
        ] {
            let size = SOCKBUF as libc::c_int;
            if sock.setsockopt_at(libc::SOL_SOCKET, force, &size).is_err() {
                let _ = sock.setsockopt_at(libc::SOL_SOCKET, plain, &size);
            }
        }
        let _ = sock.setsockopt_int(libc::PACKET_IGNORE_OUTGOING, 1);
        // Not best effort: without it VLAN tags would be lost silently.
        sock.setsockopt_int(libc::PACKET_AUXDATA, 1)?;
        Ok(sock)
    }

    /// The interface this socket is bound to.
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// From now on every frame received or sent is preceded by a [`VnetHdr`]
    /// (`PACKET_VNET_HDR`).
    pub fn set_vnet_hdr(&mut self) -> io::Result<()> {
        self.setsockopt_int(PACKET_VNET_HDR, 1)?;
        self.vnet = true;
        Ok(())
    }

    /// Stop receiving: drop the socket's link-layer memberships and discard every frame from
    /// now on (a filter that accepts nothing). The socket can still send. Best effort.
    pub fn discard_input(&self) {
        for m in [Membership::Promisc, Membership::AllMulti] {
            let _ = self.drop_membership(m);
        }
        let mut reject = [libc::sock_filter {
            code: (libc::BPF_RET | libc::BPF_K) as u16,
            jt: 0,
            jf: 0,
            k: 0,
        }];
        let prog = libc::sock_fprog {
            len: 1,
            filter: reject.as_mut_ptr(),
        };
        let _ = self.setsockopt_at(libc::SOL_SOCKET, libc::SO_ATTACH_FILTER, &prog);
    }

    /// Frames come and go behind a [`VnetHdr`].
    pub fn has_vnet_hdr(&self) -> bool {
        self.vnet
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
    /// [`HEADROOM`] (further on by the header on a socket with virtio-net headers), or 4 bytes
    /// earlier when a VLAN tag was put back; the returned range says where.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<Option<Received>> {
        let len = buf.len();
        let mut got = Vec::with_capacity(1);
        let n = self.recv_into(buf, len, 1, &mut got)?;
        Ok((n == 1).then(|| got.remove(0)))
    }

    /// Receive up to [`BATCH`] waiting frames with one `recvmmsg`, into `batch`; returns how
    /// many (0 when none is waiting). See [`RxBatch::received`].
    pub fn recv_batch(&self, batch: &mut RxBatch) -> io::Result<usize> {
        let RxBatch { buf, slot_len, got } = batch;
        self.recv_into(buf, *slot_len, BATCH, got)
    }

    fn recv_into(
        &self,
        buf: &mut [u8],
        slot_len: usize,
        slots: usize,
        got: &mut Vec<Received>,
    ) -> io::Result<usize> {
        got.clear();
        let hdr_len = if self.vnet { VNET_HDR_LEN } else { 0 };
        let slots = slots.min(BATCH).min(buf.len() / slot_len.max(1));
        if slot_len <= HEADROOM + hdr_len + 14 || slots == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "buffer too small",
            ));
        }
        let mut from = [sockaddr_ll_zeroed(); BATCH];
        let mut control = [[0u64; CONTROL_WORDS]; BATCH];
        // SAFETY: `iovec` and `mmsghdr` are plain data (integers and raw pointers); all zeros
        // is valid.
        let mut iov: [libc::iovec; BATCH] = unsafe { std::mem::zeroed() };
        // SAFETY: as above.
        let mut msgs: [libc::mmsghdr; BATCH] = unsafe { std::mem::zeroed() };
        for (i, slot) in buf.chunks_exact_mut(slot_len).take(slots).enumerate() {
            iov[i].iov_base = slot[HEADROOM..].as_mut_ptr().cast();
            iov[i].iov_len = slot_len - HEADROOM;
            let h = &mut msgs[i].msg_hdr;
            h.msg_name = (&raw mut from[i]).cast();
            h.msg_namelen = size_of::<libc::sockaddr_ll>() as libc::socklen_t;
            h.msg_iov = &raw mut iov[i];
            h.msg_iovlen = 1;
            h.msg_control = control[i].as_mut_ptr().cast();
            h.msg_controllen = size_of::<[u64; CONTROL_WORDS]>() as _;
        }
        // SAFETY: each of the first `slots` messages points at live locals (`from`, `iov`,
        // `control`) and, through its iovec, at its own slot of `buf` past the headroom, with
        // the lengths given; the kernel writes no more than those lengths.
        let n = unsafe {
            libc::recvmmsg(
                self.fd.as_raw_fd(),
                msgs.as_mut_ptr(),
                slots as libc::c_uint,
                // MSG_TRUNC: packet sockets then return a frame's real length, so a cut frame
                // is recognised instead of passed on short.
                libc::MSG_TRUNC | libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            return match (e.kind(), e.raw_os_error()) {
                (io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted, _) => Ok(0),
                // The first frame could not be described in a virtio-net header; the kernel
                // dropped it. Report it as a frame so the caller counts it and reads on.
                (_, Some(libc::EINVAL)) if self.vnet => {
                    got.push(Received::Undescribable);
                    Ok(1)
                }
                _ => Err(e),
            };
        }
        let n = n as usize;
        for (i, slot) in buf.chunks_exact_mut(slot_len).take(n).enumerate() {
            let len = msgs[i].msg_len as usize;
            let trunc = msgs[i].msg_hdr.msg_flags & libc::MSG_TRUNC != 0;
            got.push(if from[i].sll_pkttype == libc::PACKET_OUTGOING {
                Received::Outgoing
            } else if len > slot_len - HEADROOM || trunc {
                Received::Truncated(len.saturating_sub(hdr_len))
            } else {
                let frame = HEADROOM + hdr_len..HEADROOM + len;
                match auxdata_vlan(&msgs[i].msg_hdr) {
                    Some((tpid, tci)) if frame.len() >= 12 => {
                        Received::Frame(reinsert_vlan(slot, frame, hdr_len, tpid, tci))
                    }
                    _ => Received::Frame(frame),
                }
            });
        }
        Ok(n)
    }

    /// Send `frame` (a whole Ethernet frame without FCS, behind its header on a socket with
    /// virtio-net headers) on the port.
    pub fn send(&self, frame: &[u8]) -> io::Result<()> {
        let mut result = Ok(());
        self.send_batch(&[frame], |_, r| result = r);
        result
    }

    /// Send `frames` (as for [`Self::send`]) with as few `sendmmsg` calls as the kernel
    /// allows, in order; `done(i, result)` is told how each went. A frame the kernel refuses
    /// is skipped, so one bad frame costs one extra call, not the rest of the batch; when the
    /// socket has no buffer space left, the rest of the batch is dropped at once.
    pub fn send_batch(&self, frames: &[&[u8]], mut done: impl FnMut(usize, io::Result<()>)) {
        let mut next = 0;
        while next < frames.len() {
            let chunk = &frames[next..frames.len().min(next + BATCH)];
            // SAFETY: plain data; all zeros is valid.
            let mut iov: [libc::iovec; BATCH] = unsafe { std::mem::zeroed() };
            // SAFETY: as above.
            let mut msgs: [libc::mmsghdr; BATCH] = unsafe { std::mem::zeroed() };
            for (i, f) in chunk.iter().enumerate() {
                iov[i].iov_base = f.as_ptr().cast_mut().cast();
                iov[i].iov_len = f.len();
                // A bound packet socket sends on its interface when no address is given.
                msgs[i].msg_hdr.msg_iov = &raw mut iov[i];
                msgs[i].msg_hdr.msg_iovlen = 1;
            }
            // SAFETY: the first `chunk.len()` messages point at live iovecs, which point at the
            // caller's frames with their lengths; the kernel only reads them for a send.
            let rc = unsafe {
                libc::sendmmsg(
                    self.fd.as_raw_fd(),
                    msgs.as_mut_ptr(),
                    chunk.len() as libc::c_uint,
                    libc::MSG_DONTWAIT,
                )
            };
            if rc < 0 {
                let e = io::Error::last_os_error();
                if let Some(code @ (libc::EAGAIN | libc::ENOBUFS)) = e.raw_os_error() {
                    // No room now: nor for the rest of the batch. Dropped, counted.
                    for i in next..frames.len() {
                        done(i, Err(io::Error::from_raw_os_error(code)));
                    }
                    return;
                }
                done(next, Err(e));
                next += 1;
                continue;
            }
            for (i, f) in chunk.iter().enumerate().take(rc as usize) {
                let r = if msgs[i].msg_len as usize == f.len() {
                    Ok(())
                } else {
                    Err(io::Error::new(io::ErrorKind::WriteZero, "short send"))
                };
                done(next + i, r);
            }
            // rc == 0 cannot happen for a non-empty batch; guard against looping anyway.
            next += (rc as usize).max(1);
        }
    }

    fn setsockopt_int(&self, opt: libc::c_int, value: libc::c_int) -> io::Result<()> {
        self.setsockopt(opt, &value)
    }

    fn setsockopt<T>(&self, opt: libc::c_int, value: &T) -> io::Result<()> {
        self.setsockopt_at(libc::SOL_PACKET, opt, value)
    }

    fn setsockopt_at<T>(&self, level: libc::c_int, opt: libc::c_int, value: &T) -> io::Result<()> {
        // SAFETY: `value` points at a live `T` of the size passed; the kernel only reads it
        // (for SO_ATTACH_FILTER it also copies the filter the `sock_fprog` points at, which the
        // caller keeps alive for the call). Callers pass the type the option expects
        // (`packet_mreq`, `sock_fprog` or `int`).
        let rc = unsafe {
            libc::setsockopt(
                self.fd.as_raw_fd(),
                level,
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

/// Put a VLAN tag back into the frame at `frame` (which starts at [`HEADROOM`] + `hdr_len`):
/// the two MAC addresses move 4 bytes towards the start of `buf` and the tag goes after them.
/// A virtio-net header (`hdr_len` bytes before the frame) moves with them, its offsets grown
/// by the tag.
fn reinsert_vlan(
    buf: &mut [u8],
    frame: Range<usize>,
    hdr_len: usize,
    tpid: u16,
    tci: u16,
) -> Range<usize> {
    let start = frame.start - HEADROOM;
    if hdr_len == VNET_HDR_LEN {
        let mut raw = [0u8; VNET_HDR_LEN];
        raw.copy_from_slice(&buf[frame.start - VNET_HDR_LEN..frame.start]);
        let hdr = VnetHdr::parse(&raw).shifted(HEADROOM as u16);
        buf[start - VNET_HDR_LEN..start].copy_from_slice(&hdr.emit());
    }
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
        let r = reinsert_vlan(&mut buf, HEADROOM..HEADROOM + 20, 0, 0x8100, 0x2007);
        assert_eq!(r, 0..24);
        assert_eq!(&buf[0..12], &frame[..12]);
        assert_eq!(&buf[12..16], &[0x81, 0x00, 0x20, 0x07]);
        assert_eq!(&buf[16..24], &frame[12..]);
    }

    #[test]
    fn vlan_tag_goes_back_with_the_virtio_header_in_front() {
        let mut buf = [0u8; 64];
        let hdr = VnetHdr {
            flags: crate::vnet::F_NEEDS_CSUM,
            gso_type: 1,
            hdr_len: 54,
            gso_size: 1448,
            csum_start: 34,
            csum_offset: 16,
        };
        let frame: Vec<u8> = (1..=20).collect();
        let at = HEADROOM + VNET_HDR_LEN;
        buf[HEADROOM..at].copy_from_slice(&hdr.emit());
        buf[at..at + 20].copy_from_slice(&frame);
        let r = reinsert_vlan(&mut buf, at..at + 20, VNET_HDR_LEN, 0x8100, 7);
        assert_eq!(r, at - 4..at + 20);
        let got = VnetHdr::parse(buf[r.start - VNET_HDR_LEN..r.start].try_into().unwrap());
        assert_eq!((got.csum_start, got.hdr_len, got.gso_size), (38, 58, 1448));
        assert_eq!(&buf[r.start..r.start + 12], &frame[..12]);
        assert_eq!(&buf[r.start + 12..r.start + 16], &[0x81, 0x00, 0, 7]);
        assert_eq!(&buf[r.start + 16..r.end], &frame[12..]);
    }
}
