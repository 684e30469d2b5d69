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
//!
//! The old values are read first ([`Isolation::plan`]), so that they are recorded in the port's
//! state file before anything changes; a bondd that finds such a file left by one that was
//! killed puts them back from it ([`Isolation::recorded`]).

use std::fs;
use std::path::PathBuf;

use crate::netdev::NetDev;

/// The settings one member had before it joined, as far as bondd changes them.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Isolation {
    name: String,
    /// `IFF_NOARP` was clear and we set it (or will).
    set_noarp: bool,
    /// Old `rp_filter`, if we changed it (or will).
    old_rp_filter: Option<String>,
    /// Old `disable_ipv6`, if we changed it (or will).
    old_disable_ipv6: Option<String>,
}

impl Isolation {
    /// Read what [`apply`](Self::apply) will change on `name`, changing nothing, so that it
    /// can be recorded first (see [`crate::port_state`]). Failures are returned as warnings.
    pub fn plan(netdev: &NetDev, name: &str) -> (Self, Vec<String>) {
        let mut iso = Self {
            name: name.to_string(),
            ..Self::default()
        };
        let mut warnings = Vec::new();
        match netdev.flags(name) {
            Ok(f) => iso.set_noarp = f.0 & libc::IFF_NOARP as u32 == 0,
            Err(e) => warnings.push(format!("{name}: cannot read flags: {e}")),
        }
        match read_sysctl(&sysctl_path("ipv4", name, "rp_filter")) {
            Ok(old) => iso.old_rp_filter = (old != "1").then_some(old),
            Err(e) => warnings.push(format!("{name}: cannot read rp_filter: {e}")),
        }
        match read_sysctl(&sysctl_path("ipv6", name, "disable_ipv6")) {
            Ok(old) => iso.old_disable_ipv6 = (old != "1").then_some(old),
            // No IPv6 in this kernel or namespace: nothing to turn off.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => warnings.push(format!("{name}: cannot read disable_ipv6: {e}")),
        }
        (iso, warnings)
    }

    /// The settings a previous bondd recorded for `name` (to [`restore`](Self::restore) them).
    pub fn recorded(
        name: &str,
        set_noarp: bool,
        old_rp_filter: Option<String>,
        old_disable_ipv6: Option<String>,
    ) -> Self {
        Self {
            name: name.to_string(),
            set_noarp,
            old_rp_filter,
            old_disable_ipv6,
        }
    }

    /// Apply the planned settings. Failures are returned as warnings (the bond still works;
    /// only the host's view of the member is noisier), and what failed is not restored later.
    pub fn apply(&mut self, netdev: &NetDev) -> Vec<String> {
        let name = self.name.clone();
        let mut warnings = Vec::new();
        if self.set_noarp {
            if let Err(e) = netdev.set_noarp(&name, true) {
                warnings.push(format!("{name}: cannot turn ARP off: {e}"));
                self.set_noarp = false;
            }
        }
        if self.old_rp_filter.is_some() {
            if let Err(e) = fs::write(sysctl_path("ipv4", &name, "rp_filter"), "1") {
                warnings.push(format!("{name}: cannot set rp_filter: {e}"));
                self.old_rp_filter = None;
            }
        }
        if self.old_disable_ipv6.is_some() {
            if let Err(e) = fs::write(sysctl_path("ipv6", &name, "disable_ipv6"), "1") {
                warnings.push(format!("{name}: cannot disable IPv6: {e}"));
                self.old_disable_ipv6 = None;
            }
        }
        warnings
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

    /// `IFF_NOARP` is set by bondd (and cleared again on restore).
    pub fn sets_noarp(&self) -> bool {
        self.set_noarp
    }

    /// The `rp_filter` value to restore, if bondd changes it.
    pub fn old_rp_filter(&self) -> Option<&str> {
        self.old_rp_filter.as_deref()
    }

    /// The `disable_ipv6` value to restore, if bondd changes it.
    pub fn old_disable_ipv6(&self) -> Option<&str> {
        self.old_disable_ipv6.as_deref()
    }

    /// What restoring will do, in words for the log (empty if nothing).
    pub fn describe_restore(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.set_noarp {
            out.push("ARP on".to_string());
        }
        if let Some(v) = &self.old_rp_filter {
            out.push(format!("rp_filter={v}"));
        }
        if let Some(v) = &self.old_disable_ipv6 {
            out.push(format!("disable_ipv6={v}"));
        }
        out
    }
}

fn sysctl_path(family: &str, name: &str, key: &str) -> PathBuf {
    // Interface names cannot contain '/', and check_name refused anything odd before.
    PathBuf::from(format!("/proc/sys/net/{family}/conf/{name}/{key}"))
}

/// A sysctl's value, trimmed.
fn read_sysctl(path: &std::path::Path) -> std::io::Result<String> {
    Ok(fs::read_to_string(path)?.trim().to_string())
}
