//! The bond's face to the host: a TAP interface (`IFF_TAP | IFF_NO_PI`) created through
//! `/dev/net/tun`. It is not persistent, so it disappears when the daemon's descriptor closes,
//! however the daemon ends.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use rustix::fs::{Mode, OFlags};

use crate::netdev::ifreq;

/// A TAP interface owned by this process.
#[derive(Debug)]
pub struct Tap {
    fd: OwnedFd,
    name: String,
}

impl Tap {
    /// Create TAP interface `name` (down; bring it up with [`crate::netdev::NetDev::set_up`]).
    ///
    /// Fails with `EBUSY` if a TAP of that name is already attached to another process, and
    /// with `EINVAL`/`EEXIST` if another kind of interface has the name.
    pub fn create(name: &str) -> io::Result<Self> {
        let fd = rustix::fs::open(
            "/dev/net/tun",
            OFlags::RDWR | OFlags::CLOEXEC | OFlags::NONBLOCK,
            Mode::empty(),
        )?;
        let mut ifr = ifreq(name)?;
        ifr.ifr_ifru.ifru_flags = (libc::IFF_TAP | libc::IFF_NO_PI) as libc::c_short;
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
        Ok(Self { fd, name })
    }

    /// The interface name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Read one frame the host sent through the bond, or `None` if there is none.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        match rustix::io::read(&self.fd, buf) {
            Ok(n) => Ok(Some(n)),
            Err(e) if e == rustix::io::Errno::AGAIN || e == rustix::io::Errno::INTR => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Hand `frame` to the host as received by the bond.
    pub fn send(&self, frame: &[u8]) -> io::Result<()> {
        rustix::io::write(&self.fd, frame)?;
        Ok(())
    }

    /// Set the interface's carrier (`TUNSETCARRIER`, Linux 5.0+), so `ip link` shows
    /// `NO-CARRIER` when the bond has none, as for a kernel bond.
    pub fn set_carrier(&self, up: bool) -> io::Result<()> {
        let value: libc::c_int = up.into();
        // SAFETY: TUNSETCARRIER reads one `int` through the pointer, which lives for the call.
        let rc = unsafe { libc::ioctl(self.fd.as_raw_fd(), libc::TUNSETCARRIER as _, &value) };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

impl AsFd for Tap {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}
