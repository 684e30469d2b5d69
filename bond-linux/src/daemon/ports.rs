//! Opening, configuring and closing member ports.

use bond_core::{Action, EthernetAddress, Instant, LinkSample, Mode, PortConfig, PortId};

use super::{say, Daemon};
use crate::error::{Context, Error, Result};
use crate::isolate::Isolation;
use crate::lock::PortLock;
use crate::netdev::NetDev;
use crate::packet::{Membership, PacketSocket};
use crate::status_json::AdapterPort;

/// The Slow Protocols multicast address LACPDUs and markers go to.
pub(crate) const SLOW_PROTOCOLS_MAC: EthernetAddress =
    EthernetAddress([0x01, 0x80, 0xc2, 0, 0, 0x02]);

/// One member port as the daemon holds it.
#[derive(Debug)]
pub struct PortIo {
    /// Interface name.
    pub name: String,
    /// The port's socket.
    pub sock: PacketSocket,
    _lock: PortLock,
    /// The MAC the interface had when it joined; restored when it leaves.
    pub original_mac: EthernetAddress,
    /// The MAC the interface carries now (as far as we programmed it).
    pub current_mac: EthernetAddress,
    /// The MAC could not be programmed, so this address is received through the NIC's unicast
    /// filter instead (`PACKET_MR_UNICAST`).
    pub extra_unicast: Option<EthernetAddress>,
    /// The interface was administratively down when it joined (we brought it up, as Linux
    /// bonding opens its members); it is taken down again when it leaves.
    pub was_down: bool,
    /// What was changed to keep the kernel's IP stack off the port (restored on close).
    pub isolation: Option<Isolation>,
    /// The last link sample given to the bond.
    pub link: LinkSample,
    /// Adapter-side facts and counters.
    pub info: AdapterPort,
}

impl PortIo {
    /// Restore what joining changed: the MAC, and the admin state. Errors are logged, not
    /// returned: shutdown must go on to the next port.
    pub fn close(mut self, netdev: &NetDev) {
        if self.current_mac != self.original_mac {
            match netdev.set_mac_any_state(&self.name, self.original_mac) {
                Ok(()) => say!("{}: MAC restored to {}", self.name, self.original_mac),
                Err(e) => say!(
                    "{}: cannot restore MAC {}: {e}",
                    self.name,
                    self.original_mac
                ),
            }
        }
        if let Some(iso) = self.isolation.take() {
            iso.restore(netdev);
        }
        if self.was_down {
            if let Err(e) = netdev.set_up(&self.name, false) {
                say!("{}: cannot take it down again: {e}", self.name);
            }
        }
        // The socket closes here, and with it every membership it added.
    }

    /// Program `mac` into the port (live, or down/up if the driver insists); if the driver
    /// refuses altogether, receive `mac` through the unicast filter instead.
    fn program_mac(&mut self, netdev: &NetDev, mac: EthernetAddress) {
        if mac == self.current_mac {
            return;
        }
        match netdev.set_mac_any_state(&self.name, mac) {
            Ok(()) => {
                self.current_mac = mac;
                if let Some(old) = self.extra_unicast.take() {
                    let _ = self.sock.drop_membership(Membership::Unicast(old));
                }
            }
            Err(e) => {
                say!(
                    "{}: cannot set MAC {mac} ({e}); receiving it through the unicast filter",
                    self.name
                );
                if let Some(old) = self.extra_unicast.take() {
                    let _ = self.sock.drop_membership(Membership::Unicast(old));
                }
                match self.sock.add_membership(Membership::Unicast(mac)) {
                    Ok(()) => self.extra_unicast = Some(mac),
                    Err(e) => say!("{}: cannot add unicast address {mac}: {e}", self.name),
                }
            }
        }
    }
}

impl Daemon {
    /// Open port `name` and add it to the bond.
    pub(crate) fn add_port(
        &mut self,
        now: Instant,
        name: &str,
        lock: Option<PortLock>,
    ) -> Result<PortId> {
        if self.bond.port_by_name(name).is_some() {
            return Err(Error::refused(format!(
                "{name} is already a port of {}",
                self.name
            )));
        }
        if name == self.name {
            return Err(Error::refused(format!("{name} is the bond itself")));
        }
        if self.bond.port_count() >= super::MAX_PORTS {
            return Err(Error::refused(format!(
                "{} already has {} ports",
                self.name,
                super::MAX_PORTS
            )));
        }
        let lock = match lock {
            Some(l) => l,
            None => {
                let owner = format!("bondd {} (pid {})", self.name, std::process::id());
                PortLock::acquire(&self.lock_dir, name, &owner)?
            }
        };
        let nd = &self.netdev;
        let ifindex = nd.ifindex(name).context(|| format!("port {name}"))?;
        let original_mac = nd.mac(name).context(|| format!("read MAC of {name}"))?;
        let hw_perm_mac = nd.permanent_mac(name);
        let was_down = !nd.flags(name).context(|| format!("port {name}"))?.up();
        let sock =
            PacketSocket::open(ifindex).context(|| format!("open AF_PACKET socket on {name}"))?;
        let mut port = PortIo {
            name: name.to_string(),
            sock,
            _lock: lock,
            original_mac,
            current_mac: original_mac,
            extra_unicast: None,
            was_down,
            isolation: None,
            link: LinkSample::DOWN,
            info: AdapterPort {
                ifindex,
                hw_perm_mac,
                original_mac,
                ..AdapterPort::default()
            },
        };
        // Any failure from here on must undo what was done to the interface.
        match self.configure_port(now, &mut port) {
            Ok(id) => {
                say!(
                    "{}: port {name} joined (MAC {original_mac}, {})",
                    self.name,
                    describe(port.link)
                );
                self.ports[id.index()] = Some(port);
                Ok(id)
            }
            Err(e) => {
                port.close(&self.netdev);
                Err(e)
            }
        }
    }

    fn configure_port(&mut self, now: Instant, port: &mut PortIo) -> Result<PortId> {
        let name = port.name.clone();
        // Every multicast frame, rather than mirroring the TAP's multicast list as Linux
        // bonding does (dev_mc_sync): the host stack behind the TAP filters what it did not
        // join, and IPv6 neighbour discovery works through NICs that filter multicast.
        port.sock
            .add_membership(Membership::AllMulti)
            .context(|| format!("{name}: PACKET_MR_ALLMULTI"))?;
        if self.bond.config().mode == Mode::Lacp {
            // As Linux adds the LACPDU address to each 802.3ad member's multicast filter.
            port.sock
                .add_membership(Membership::Multicast(SLOW_PROTOCOLS_MAC))
                .context(|| format!("{name}: join {SLOW_PROTOCOLS_MAC}"))?;
        }
        if self.tap_promisc {
            port.sock
                .add_membership(Membership::Promisc)
                .context(|| format!("{name}: PACKET_MR_PROMISC"))?;
        }
        let (isolation, warnings) = Isolation::apply(&self.netdev, &name);
        port.isolation = Some(isolation);
        for w in warnings {
            say!("{}: {w}", self.name);
        }
        if port.was_down {
            self.netdev
                .set_up(&name, true)
                .context(|| format!("bring {name} up"))?;
        }
        port.link = self
            .netdev
            .link_sample(&name)
            .context(|| format!("link state of {name}"))?;
        let cfg = PortConfig::new(&name, port.original_mac, port.link)
            .ok_or_else(|| Error::refused(format!("invalid port name {name:?}")))?;
        self.bond
            .add_port(now, &cfg)
            .map_err(|e| Error::refused(format!("cannot add {name}: {e}")))
    }

    /// Take port `id` out of the bond: its goodbye LACPDU goes out, its MAC is restored and its
    /// socket closed. `vanished`: the interface is gone, so nothing can be restored.
    pub(crate) fn release_port(&mut self, now: Instant, id: PortId, vanished: bool) {
        let _ = self.bond.remove_port(now, id);
        // Drain now, while the port's socket is still open (the goodbye goes out on it).
        self.drain(now);
        if let Some(port) = self.ports[id.index()].take() {
            say!(
                "{}: port {} {}",
                self.name,
                port.name,
                if vanished {
                    "vanished; released"
                } else {
                    "released"
                }
            );
            if !vanished {
                port.close(&self.netdev);
            }
        }
    }

    /// Carry out a MAC change the bond asked for.
    pub(crate) fn apply_action(&mut self, action: Action) {
        match action {
            Action::SetPortMac { port, mac } => {
                if let Some(p) = self.ports[port.index()].as_mut() {
                    p.program_mac(&self.netdev, mac);
                }
            }
            Action::SetBondMac { mac } => {
                if let Err(e) = self.set_tap_mac(mac) {
                    say!("{}: {e}", self.name);
                }
            }
            other => say!("{}: unhandled bond action {other:?}", self.name),
        }
    }

    /// The TAP's promiscuity changed: follow it on every port, as Linux bonding propagates
    /// `IFF_PROMISC` to its members.
    pub(crate) fn set_promisc(&mut self, on: bool) {
        if on == self.tap_promisc {
            return;
        }
        self.tap_promisc = on;
        for port in self.ports.iter().flatten() {
            let r = if on {
                port.sock.add_membership(Membership::Promisc)
            } else {
                port.sock.drop_membership(Membership::Promisc)
            };
            if let Err(e) = r {
                say!(
                    "{}: promiscuous mode {}: {e}",
                    port.name,
                    if on { "on" } else { "off" }
                );
            }
        }
    }

    /// The id of the port whose interface index is `ifindex`.
    pub(crate) fn port_by_ifindex(&self, ifindex: u32) -> Option<PortId> {
        self.bond.ports().find(|id| {
            self.ports[id.index()]
                .as_ref()
                .is_some_and(|p| p.info.ifindex == ifindex)
        })
    }
}

/// A link sample in words, for the log.
pub(crate) fn describe(link: LinkSample) -> String {
    if !link.up {
        return "no carrier".into();
    }
    let speed = link
        .speed_mbps
        .map_or("unknown speed".to_string(), |s| format!("{s} Mbps"));
    format!("carrier, {speed}, {:?} duplex", link.duplex)
}
