//! Keeping the kernel's own IP stack off member ports.
//!
//! Linux bonding's receive handler takes every frame of a member away from the stack. An
//! `AF_PACKET` socket only taps, so the kernel still processes what a member receives — and
//! once the member carries the bond MAC, unicast IP for the bond's address arrives there as
//! `PACKET_HOST` and is answered a second time (ping shows `DUP!`). tc ingress filters would
//! drop it cleanly but need `cls_matchall`/`act_gact`, which not every kernel has (this CI's
//! does not). So bondd applies, while a port is a member, the settings that turn each part of
//! the stack off on that interface, and puts the old values back when it leaves:
//! - `IFF_NOARP` (`ip link set X arp off`): no ARP replies on behalf of the bond's address;
//! - `net.ipv4.conf.X.rp_filter=1` (strict): IPv4 arriving on the member is dropped, since the
//!   route back to its source goes through the bond, not through the member;
//! - `net.ipv6.conf.X.disable_ipv6=1`: no link-local address (it would be the bond's own, as
//!   the MACs are equal, and fail DAD), no RS/MLD noise, no IPv6 input.

use std::fs;
use std::path::PathBuf;

use crate::netdev::NetDev;

/// The settings one member had before it joined.
#[derive(Debug, Default)]
pub struct Isolation {
    name: String,
    /// `IFF_NOARP` was clear and we set it.
    set_noarp: bool,
    /// Old `rp_filter`, if we changed it.
    old_rp_filter: Option<String>,
    /// Old `disable_ipv6`, if we changed it.
    old_disable_ipv6: Option<String>,
}

impl Isolation {
    /// Apply the settings to `name`. Failures are returned as warnings (the bond still works;
    /// only the host's view of the member is noisier).
    pub fn apply(netdev: &NetDev, name: &str) -> (Self, Vec<String>) {
        let mut iso = Self {
            name: name.to_string(),
            ..Self::default()
        };
        let mut warnings = Vec::new();
        match netdev.flags(name) {
            Ok(f) if f.0 & libc::IFF_NOARP as u32 == 0 => match netdev.set_noarp(name, true) {
                Ok(()) => iso.set_noarp = true,
                Err(e) => warnings.push(format!("{name}: cannot turn ARP off: {e}")),
            },
            Ok(_) => {}
            Err(e) => warnings.push(format!("{name}: cannot read flags: {e}")),
        }
        match swap_sysctl(&sysctl_path("ipv4", name, "rp_filter"), "1") {
            Ok(old) => iso.old_rp_filter = old,
            Err(e) => warnings.push(format!("{name}: cannot set rp_filter: {e}")),
        }
        match swap_sysctl(&sysctl_path("ipv6", name, "disable_ipv6"), "1") {
            Ok(old) => iso.old_disable_ipv6 = old,
            // No IPv6 in this kernel or namespace: nothing to turn off.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => warnings.push(format!("{name}: cannot disable IPv6: {e}")),
        }
        (iso, warnings)
    }

    /// Put back what [`apply`](Self::apply) changed (best effort: the interface may be gone).
    pub fn restore(self, netdev: &NetDev) {
        if self.set_noarp {
            let _ = netdev.set_noarp(&self.name, false);
        }
        if let Some(old) = &self.old_rp_filter {
            let _ = fs::write(sysctl_path("ipv4", &self.name, "rp_filter"), old);
        }
        if let Some(old) = &self.old_disable_ipv6 {
            let _ = fs::write(sysctl_path("ipv6", &self.name, "disable_ipv6"), old);
        }
    }
}

fn sysctl_path(family: &str, name: &str, key: &str) -> PathBuf {
    // Interface names cannot contain '/', and check_name refused anything odd before.
    PathBuf::from(format!("/proc/sys/net/{family}/conf/{name}/{key}"))
}

/// Write `value` to `path`; returns the old value if it differed (and was therefore changed).
fn swap_sysctl(path: &std::path::Path, value: &str) -> std::io::Result<Option<String>> {
    let old = fs::read_to_string(path)?;
    let old = old.trim().to_string();
    if old == value {
        return Ok(None);
    }
    fs::write(path, value)?;
    Ok(Some(old))
}
