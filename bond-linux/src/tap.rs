//! The bond's face to the host: a TAP interface (`IFF_TAP | IFF_NO_PI`) created through
//! `/dev/net/tun`. It is not persistent, so it disappears when the daemon's descriptor closes,
//! however the daemon ends.
//!
//! With offloads on (`IFF_VNET_HDR` and `TUNSETOFFLOAD`), the TAP tells the host it can take
//! partial checksums and TCP segmentation (TSO4/6, and UDP segmentation where the kernel has
//! it), so the host's TCP hands bondd 64 KiB super-frames, each behind a
//! [`crate::vnet::VnetHdr`]; frames written back carry one too.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use rustix::fs::{Mode, OFlags};

use crate::netdev::ifreq;
use crate::vnet::VNET_HDR_LEN;

/// What the TAP offers the host when offloads are on; the UDP segmentation bits are dropped
/// on kernels that do not know them (before 6.2).
const OFFLOADS: libc::c_uint =
    libc::TUN_F_CSUM | libc::TUN_F_TSO4 | libc::TUN_F_TSO6 | libc::TUN_F_TSO_ECN;
const UDP_OFFLOADS: libc::c_uint = libc::TUN_F_USO4 | libc::TUN_F_USO6;

/// A TAP interface owned by this process.
#[derive(Debug)]
pub struct Tap {
    fd: OwnedFd,
    name: String,
    vnet: bool,
}

impl Tap {
    /// Create TAP interface `name` (down; bring it up with [`crate::netdev::NetDev::set_up`]),
    /// with offloads (every frame behind a virtio-net header) or without.
    ///
    /// Fails with `EBUSY` if a TAP of that name is already attached to another process, and
    /// with `EINVAL`/`EEXIST` if another kind of interface has the name.
    pub fn create(name: &str, offload: bool) -> io::Result<Self> {
        let fd = rustix::fs::open(
            "/dev/net/tun",
            OFlags::RDWR | OFlags::CLOEXEC | OFlags::NONBLOCK,
            Mode::empty(),
        )?;
        let mut ifr = ifreq(name)?;
        let vnet = if offload { libc::IFF_VNET_HDR } else { 0 };
        ifr.ifr_ifru.ifru_flags = (libc::IFF_TAP | libc::IFF_NO_PI | vnet) as libc::c_short;
        // SAFETY: TUNSETIFF reads and writes the `ifreq` we pass, which lives for the call.
        let rc = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TUNSETIFF as _, &raw mut ifr) };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        // The kernel writes back the name it used.
        let name: String = ifr
            .ifr_name
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8 as char)
            .collect();
        let tap = Self {
            fd,
            name,
            vnet: offload,
        };
        if offload {
            let size = VNET_HDR_LEN as libc::c_int;
            tap.ioctl_ptr(libc::TUNSETVNETHDRSZ, &size)?;
            // TUNSETOFFLOAD takes its flags by value.
            if tap.ioctl_val(OFFLOADS | UDP_OFFLOADS).is_err() {
                tap.ioctl_val(OFFLOADS)?;
            }
        }
        Ok(tap)
    }

    /// Every frame read or written is preceded by a [`crate::vnet::VnetHdr`].
    pub fn has_vnet_hdr(&self) -> bool {
        self.vnet
    }

    fn ioctl_ptr<T>(&self, request: libc::Ioctl, value: &T) -> io::Result<()> {
        // SAFETY: the TUN ioctls passed here read one `T` (an `int`) through the pointer,
        // which lives for the call.
        let rc = unsafe { libc::ioctl(self.fd.as_raw_fd(), request as _, value as *const T) };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    fn ioctl_val(&self, flags: libc::c_uint) -> io::Result<()> {
        // SAFETY: TUNSETOFFLOAD takes an integer argument, not a pointer; no memory is touched.
        let rc = unsafe {
            libc::ioctl(
                self.fd.as_raw_fd(),
                libc::TUNSETOFFLOAD as _,
                flags as libc::c_ulong,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// The interface name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Read one frame the host sent through the bond (behind its header when
    /// [`Self::has_vnet_hdr`]), or `None` if there is none.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        match rustix::io::read(&self.fd, buf) {
            Ok(n) => Ok(Some(n)),
            Err(e) if e == rustix::io::Errno::AGAIN || e == rustix::io::Errno::INTR => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Hand `frame` to the host as received by the bond (behind its header when
    /// [`Self::has_vnet_hdr`]).
    pub fn send(&self, frame: &[u8]) -> io::Result<()> {
        rustix::io::write(&self.fd, frame)?;
        Ok(())
    }

    /// Set the interface's carrier (`TUNSETCARRIER`, Linux 5.0+), so `ip link` shows
    /// `NO-CARRIER` when the bond has none, as for a kernel bond.
    pub fn set_carrier(&self, up: bool) -> io::Result<()> {
        let value: libc::c_int = up.into();
        self.ioctl_ptr(libc::TUNSETCARRIER, &value)
    }
}

impl AsFd for Tap {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}
