//! The `/proc/net/bonding/<bond>` text, byte for byte as Linux prints it (`bond_procfs.c`),
//! rendered through `core::fmt` without allocation.

use core::fmt::{self, Display, Formatter};

use crate::bond::Bond;
use crate::config::{FailOverMac, Mode};
use crate::port::{Duplex, PortId};

/// The version our status text claims in its first line, where Linux prints `v<kernel release>`.
pub const DRIVER_VERSION: &str = concat!("v", env!("CARGO_PKG_VERSION"));

/// Renders a bond's status as `/proc/net/bonding/<bond>` does. Build it with [`Bond::status`].
pub struct Status<'a, const N: usize> {
    bond: &'a Bond<N>,
    version: &'a str,
    name: &'a str,
}

impl<const N: usize> Bond<N> {
    /// The `/proc/net/bonding` text of this bond (implements `Display`).
    pub fn status(&self) -> Status<'_, N> {
        Status {
            bond: self,
            version: DRIVER_VERSION,
            name: "bond0",
        }
    }
}

impl<'a, const N: usize> Status<'a, N> {
    /// Print `version` (for instance a kernel release such as `v6.1.0`) in the first line.
    pub fn with_version(mut self, version: &'a str) -> Self {
        self.version = version;
        self
    }

    /// The bond's interface name, printed where Linux names the bond (default `bond0`).
    pub fn with_name(mut self, name: &'a str) -> Self {
        self.name = name;
        self
    }

    fn master(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let b = self.bond;
        let c = b.config();
        write!(f, "Bonding Mode: {}", c.mode.description())?;
        if c.mode == Mode::ActiveBackup && c.fail_over_mac != FailOverMac::None {
            write!(f, " (fail_over_mac {})", c.fail_over_mac)?;
        }
        writeln!(f)?;
        if c.mode.uses_xmit_hash() {
            writeln!(
                f,
                "Transmit Hash Policy: {} ({})",
                c.xmit_hash_policy,
                c.xmit_hash_policy.number()
            )?;
        }
        if c.mode.uses_primary() {
            match b.port_name(b.primary_port()) {
                Some(name) => write!(
                    f,
                    "Primary Slave: {name} (primary_reselect {})",
                    c.primary_reselect
                )?,
                None => f.write_str("Primary Slave: None")?,
            }
            let active = b.port_name(b.active_port()).map_or("None", |n| n.as_str());
            writeln!(f, "\nCurrently Active Slave: {active}")?;
        }
        writeln!(f, "MII Status: {}", if b.carrier() { "up" } else { "down" })?;
        writeln!(f, "MII Polling Interval (ms): {}", c.miimon)?;
        writeln!(f, "Up Delay (ms): {}", c.updelay().total_millis())?;
        writeln!(f, "Down Delay (ms): {}", c.downdelay().total_millis())?;
        writeln!(
            f,
            "Peer Notification Delay (ms): {}",
            c.peer_notif_delay().total_millis()
        )?;
        if c.arp_interval > 0 {
            writeln!(f, "ARP Polling Interval (ms): {}", c.arp_interval)?;
            writeln!(f, "ARP Missed Max: {}", c.arp_missed_max)?;
            f.write_str("ARP IP target/s (n.n.n.n form):")?;
            for (i, t) in c.arp_ip_target.iter().enumerate() {
                let sep = if i > 0 { "," } else { "" };
                write!(f, "{sep} {}", core::net::Ipv4Addr::from(*t))?;
            }
            f.write_str("\nNS IPv6 target/s (xx::xx form):")?;
            for (i, t) in c.ns_ip6_target.iter().enumerate() {
                let sep = if i > 0 { "," } else { "" };
                write!(f, "{sep} {}", core::net::Ipv6Addr::from(*t))?;
            }
            writeln!(f)?;
        }
        if c.mode == Mode::Lacp {
            self.lacp_master(f)?;
        }
        Ok(())
    }

    /// The "802.3ad info" block (Linux prints the system and aggregator part only to
    /// CAP_NET_ADMIN readers; whoever holds the bond here is its administrator).
    fn lacp_master(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let b = self.bond;
        let c = b.config();
        f.write_str("\n802.3ad info\n")?;
        writeln!(
            f,
            "LACP active: {}",
            if c.lacp_active { "on" } else { "off" }
        )?;
        writeln!(f, "LACP rate: {}", c.lacp_rate)?;
        writeln!(f, "Min links: {}", c.min_links)?;
        writeln!(
            f,
            "Aggregator selection policy (ad_select): {}",
            c.ad_select
        )?;
        if c.lacp_fallback {
            // Not a Linux line: printed only when the non-Linux option is on.
            match b.port_name(b.lacp_fallback_port()) {
                Some(name) => {
                    writeln!(f, "LACP fallback: active on {name} (no LACP partner heard)")?
                }
                None => writeln!(f, "LACP fallback: standing by")?,
            }
        }
        let actor = b.lacp_actor();
        writeln!(f, "System priority: {}", actor.system_priority)?;
        writeln!(f, "System MAC address: {}", actor.system)?;
        match b.active_aggregator() {
            None => writeln!(f, "bond {} has no active aggregator", self.name)?,
            Some(agg) => {
                f.write_str("Active Aggregator Info:\n")?;
                writeln!(f, "\tAggregator ID: {}", agg.id)?;
                writeln!(f, "\tNumber of ports: {}", agg.ports)?;
                writeln!(f, "\tActor Key: {}", agg.actor_key)?;
                writeln!(f, "\tPartner Key: {}", agg.partner_key)?;
                writeln!(f, "\tPartner Mac Address: {}", agg.partner_system)?;
            }
        }
        Ok(())
    }

    fn lacp_port(&self, f: &mut Formatter<'_>, id: PortId) -> fmt::Result {
        let Some(l) = self.bond.lacp_port(id) else {
            return Ok(());
        };
        let Some(agg_id) = l.aggregator_id else {
            return f.write_str("Aggregator ID: N/A\n");
        };
        writeln!(f, "Aggregator ID: {agg_id}")?;
        writeln!(f, "Actor Churn State: {}", l.actor_churn.name())?;
        writeln!(f, "Partner Churn State: {}", l.partner_churn.name())?;
        writeln!(f, "Actor Churned Count: {}", l.actor_churn_count)?;
        writeln!(f, "Partner Churned Count: {}", l.partner_churn_count)?;
        f.write_str("details actor lacp pdu:\n")?;
        let a = &l.actor;
        writeln!(f, "    system priority: {}", a.system_priority)?;
        writeln!(f, "    system mac address: {}", a.system)?;
        writeln!(f, "    port key: {}", a.key)?;
        writeln!(f, "    port priority: {}", a.port_priority)?;
        writeln!(f, "    port number: {}", a.port)?;
        writeln!(f, "    port state: {}", a.state.0)?;
        f.write_str("details partner lacp pdu:\n")?;
        let p = &l.partner;
        writeln!(f, "    system priority: {}", p.system_priority)?;
        writeln!(f, "    system mac address: {}", p.system)?;
        writeln!(f, "    oper key: {}", p.key)?;
        writeln!(f, "    port priority: {}", p.port_priority)?;
        writeln!(f, "    port number: {}", p.port)?;
        writeln!(f, "    port state: {}", p.state.0)
    }

    fn ports(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for id in self.bond.ports() {
            let Some(p) = self.bond.port(id) else {
                continue;
            };
            writeln!(f, "\nSlave Interface: {}", p.name)?;
            writeln!(f, "MII Status: {}", p.link.name())?;
            match p.speed_mbps {
                Some(s) => writeln!(f, "Speed: {s} Mbps")?,
                None => writeln!(f, "Speed: Unknown")?,
            }
            let duplex = match p.duplex {
                Duplex::Full => "full",
                Duplex::Half => "half",
                Duplex::Unknown => "Unknown",
            };
            writeln!(f, "Duplex: {duplex}")?;
            writeln!(f, "Link Failure Count: {}", p.link_failure_count)?;
            writeln!(f, "Permanent HW addr: {}", p.perm_mac)?;
            writeln!(f, "Slave queue ID: {}", p.queue_id)?;
            if self.bond.config().mode == Mode::Lacp {
                self.lacp_port(f, id)?;
            }
        }
        Ok(())
    }
}

impl<const N: usize> Display for Status<'_, N> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        // Linux's version string ends in a newline and is printed with "%s\n".
        write!(f, "Ethernet Channel Bonding Driver: {}\n\n", self.version)?;
        self.master(f)?;
        self.ports(f)
    }
}
