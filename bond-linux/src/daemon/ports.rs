//! Opening, configuring and closing member ports.
//!
//! Before anything on a port is changed, what must be put back is written to the port's state
//! file beside its lock ([`crate::port_state`]); the file goes once the port has been restored.
//! A file found on taking a lock was left by a bondd that did not exit cleanly (SIGKILL, power
//! to the daemon cut): the port is restored from it before it joins again.

use std::path::{Path, PathBuf};

use bond_core::{Action, EthernetAddress, Instant, LinkSample, Mode, PortConfig, PortId};

use super::{say, Daemon, GOODBYE_WAIT};
use crate::error::{Context, Error, Result};
use crate::isolate::Isolation;
use crate::lock::PortLock;
use crate::netdev::NetDev;
use crate::packet::{Membership, PacketSocket};
use crate::port_state::{self, PortState};
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
    /// The MTU the interface had when it joined; restored when it leaves.
    pub original_mtu: u32,
    /// The MTU the interface has now (as far as we set it): the bond's.
    pub mtu: u32,
    /// What is recorded in the state file.
    state: PortState,
    /// The state file (beside the lock).
    state_path: PathBuf,
    /// The last link sample given to the bond.
    pub link: LinkSample,
    /// Adapter-side facts and counters.
    pub info: AdapterPort,
}

impl PortIo {
    /// Restore what joining changed: the MAC, the MTU, the isolation settings and the admin
    /// state; then remove the state file and close the socket. Errors are logged, not
    /// returned: shutdown must go on to the next port.
    pub fn close(self, netdev: &NetDev) {
        // The socket closes here, and with it every membership it added.
        drop(self.restore(netdev, false));
    }

    /// [`Self::close`] but for the socket, which is returned, and, with `keep_up`, for taking
    /// the interface down again (the caller does that later): a goodbye LACPDU held back by the
    /// three-a-second limit must still leave on it.
    fn restore(mut self, netdev: &NetDev, keep_up: bool) -> PacketSocket {
        // The MTU as it is now: someone may have changed it behind the bond's back. Linux's
        // __bond_release_one puts the slave's original MTU back the same way.
        let mtu = netdev.mtu(&self.name).unwrap_or(self.mtu);
        put_back(
            netdev,
            &self.name,
            PutBack {
                mac: (self.current_mac != self.original_mac).then_some(self.original_mac),
                mtu: (mtu != self.original_mtu).then_some(self.original_mtu),
                isolation: self.isolation.take(),
                take_down: self.was_down && !keep_up,
            },
        );
        self.forget_state();
        // The lock goes here; the socket with the caller.
        self.sock
    }

    /// Remove the state file: the port is restored, or gone. Called before the lock goes.
    pub(crate) fn forget_state(&self) {
        if let Err(e) = port_state::remove(&self.state_path) {
            say!(
                "{}: cannot remove {}: {e}",
                self.name,
                self.state_path.display()
            );
        }
    }

    /// Rewrite the state file (after the recorded state changed).
    fn store_state(&self) {
        if let Err(e) = self.state.store(&self.state_path) {
            say!(
                "{}: cannot update {}: {e}; a bondd killed now could not restore the port",
                self.name,
                self.state_path.display()
            );
        }
    }

    /// Program `mac` into the port (live, or down/up if the driver insists); if the driver
    /// refuses altogether, receive `mac` through the unicast filter instead.
    fn program_mac(&mut self, netdev: &NetDev, mac: EthernetAddress) {
        if mac == self.current_mac {
            return;
        }
        // Recorded first: a port found carrying an address that is neither its own nor one of
        // these after a crash is not restored (it is not the port the file describes).
        if mac != self.original_mac && !self.state.bond_macs.contains(&mac) {
            self.state.note_bond_mac(mac);
            self.store_state();
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

/// A port removed from an 802.3ad bond while its goodbye LACPDU is held back by the
/// three-a-second limit: its socket (and the interface's admin state) stays until the goodbye
/// has gone, at most [`GOODBYE_WAIT`], so that it still reaches the partner, as Linux sends it
/// on release. Everything else was restored when it left.
#[derive(Debug)]
pub(crate) struct Leaving {
    id: PortId,
    sock: PacketSocket,
    name: String,
    /// The interface was down before it joined: it goes down again once the goodbye went.
    take_down: bool,
    /// When the socket closes whether or not the goodbye went.
    pub(crate) until: Instant,
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
        let state_path = lock.state_path();
        recover_leftover(&self.netdev, name, &state_path);
        let nd = &self.netdev;
        let ifindex = nd.ifindex(name).context(|| format!("port {name}"))?;
        let original_mac = nd.mac(name).context(|| format!("read MAC of {name}"))?;
        let hw_perm_mac = nd.permanent_mac(name);
        let was_down = !nd.flags(name).context(|| format!("port {name}"))?.up();
        let original_mtu = nd.mtu(name).context(|| format!("read MTU of {name}"))?;
        let mut sock =
            PacketSocket::open(ifindex).context(|| format!("open AF_PACKET socket on {name}"))?;
        if self.tap.as_ref().is_some_and(|t| t.has_vnet_hdr()) {
            sock.set_vnet_hdr()
                .context(|| format!("PACKET_VNET_HDR on {name}"))?;
        }
        let (isolation, warnings) = Isolation::plan(&self.netdev, name);
        for w in warnings {
            say!("{}: {w}", self.name);
        }
        // Nothing is changed on the port before this is on disk.
        let state = PortState {
            port: name.to_string(),
            ifindex,
            owner: format!("bondd {} (pid {})", self.name, std::process::id()),
            mac: original_mac,
            bond_macs: Vec::new(),
            mtu: original_mtu,
            was_down,
            noarp: isolation.sets_noarp(),
            rp_filter: isolation.old_rp_filter().map(str::to_string),
            disable_ipv6: isolation.old_disable_ipv6().map(str::to_string),
        };
        state
            .store(&state_path)
            .context(|| format!("record the state of {name} in {}", state_path.display()))?;
        let mut port = PortIo {
            name: name.to_string(),
            sock,
            _lock: lock,
            original_mac,
            current_mac: original_mac,
            extra_unicast: None,
            was_down,
            isolation: Some(isolation),
            original_mtu,
            mtu: original_mtu,
            state,
            state_path,
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
        if let Some(iso) = port.isolation.as_mut() {
            for w in iso.apply(&self.netdev) {
                say!("{}: {w}", self.name);
            }
        }
        // As Linux's bond_enslave sets the slave to the bond's MTU, and refuses a slave that
        // will not take it.
        let mtu = self.tap_mtu;
        if port.mtu != mtu {
            self.netdev
                .set_mtu(&name, mtu)
                .context(|| format!("set the MTU of {name} to {mtu} (the MTU of {})", self.name))?;
            port.mtu = mtu;
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
            if vanished {
                port.forget_state();
            } else if self.bond.goodbye_pending(id) {
                let (name, take_down) = (port.name.clone(), port.was_down);
                let extra_unicast = port.extra_unicast;
                let sock = port.restore(&self.netdev, true);
                // Nothing is read from it any more; the NIC's filters go back as they were.
                sock.discard_input();
                let _ = sock.drop_membership(Membership::Multicast(SLOW_PROTOCOLS_MAC));
                if let Some(mac) = extra_unicast {
                    let _ = sock.drop_membership(Membership::Unicast(mac));
                }
                self.leaving.push(Leaving {
                    id,
                    sock,
                    name,
                    take_down,
                    until: now + GOODBYE_WAIT,
                });
            } else {
                port.close(&self.netdev);
            }
        }
    }

    /// The socket of port `id` for a control frame: the member's, or that of a port that left
    /// with its goodbye LACPDU still held back.
    pub(crate) fn control_socket(&self, id: PortId) -> Option<&PacketSocket> {
        match &self.ports[id.index()] {
            Some(p) => Some(&p.sock),
            None => self.leaving.iter().find(|l| l.id == id).map(|l| &l.sock),
        }
    }

    /// Close the sockets of departed ports whose goodbye time is up, or whose handle a new
    /// port took (the core drops a goodbye whose handle is reused).
    pub(crate) fn expire_leaving(&mut self, now: Instant) {
        let (ports, bond, netdev) = (&self.ports, &self.bond, &self.netdev);
        self.leaving.retain(|l| {
            let keep = l.until > now && ports[l.id.index()].is_none() && bond.goodbye_pending(l.id);
            if !keep && l.take_down {
                if let Err(e) = netdev.set_up(&l.name, false) {
                    say!("{}: cannot take it down again: {e}", l.name);
                }
            }
            keep
        });
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

    /// The TAP's MTU may have changed (`ip link set NAME mtu N`; `announced` is the MTU a link
    /// event carried): set every port to it, as Linux's `bond_change_mtu` does. If a port
    /// refuses, the ports already changed go back to the old MTU and so does the TAP — the
    /// user's change is refused as a kernel bond refuses it, just after the fact.
    pub(crate) fn follow_tap_mtu(&mut self, announced: Option<u32>) {
        if announced.is_none_or(|m| m == self.tap_mtu) {
            return;
        }
        // The TAP's MTU now, not the event's: queued events may be stale.
        let new = match self.netdev.mtu(&self.name) {
            Ok(m) => m,
            Err(e) => {
                say!("{}: cannot read the MTU: {e}", self.name);
                return;
            }
        };
        let old = self.tap_mtu;
        if new == old {
            return;
        }
        let netdev = &self.netdev;
        let mut changed = Vec::new();
        let mut refused = None;
        for (i, port) in self.ports.iter_mut().enumerate() {
            let Some(port) = port.as_mut() else {
                continue;
            };
            if port.mtu == new {
                continue;
            }
            match netdev.set_mtu(&port.name, new) {
                Ok(()) => {
                    port.mtu = new;
                    changed.push(i);
                }
                // Vanished: its link event releases it.
                Err(e) if e.raw_os_error() == Some(libc::ENODEV) => {}
                Err(e) => {
                    refused = Some((port.name.clone(), e));
                    break;
                }
            }
        }
        let Some((refuser, e)) = refused else {
            self.tap_mtu = new;
            say!("{}: MTU {old} -> {new}, on every port too", self.name);
            return;
        };
        for i in changed {
            if let Some(port) = self.ports[i].as_mut() {
                match netdev.set_mtu(&port.name, old) {
                    Ok(()) => port.mtu = old,
                    Err(e) => say!("{}: cannot set the MTU back to {old}: {e}", port.name),
                }
            }
        }
        say!(
            "{}: port {refuser} refuses MTU {new} ({e}); MTU change refused, {} set back to {old}",
            self.name,
            self.name
        );
        if let Err(e) = netdev.set_mtu(&self.name, old) {
            say!("{}: cannot set the MTU back to {old}: {e}", self.name);
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

/// If a bondd that did not exit cleanly left a state file for port `name` at `path` (we hold the
/// port's lock, so its writer is gone), put back what it records, then remove it. A file that
/// is garbage, or describes another interface (another index, or a MAC the port never had from
/// that bondd), is ignored with a warning: it is input, and the port is left as it is.
fn recover_leftover(netdev: &NetDev, name: &str, path: &Path) {
    let state = match PortState::load(path, name) {
        Ok(None) => return,
        Ok(Some(s)) => s,
        Err(e) => {
            say!(
                "{name}: ignoring {}: {e}; the port may still carry settings of a bondd that did \
                 not exit cleanly",
                path.display()
            );
            let _ = port_state::remove(path);
            return;
        }
    };
    let left_by = if state.owner.is_empty() {
        String::new()
    } else {
        format!(" ({})", state.owner)
    };
    let not_restoring = |why: String| {
        say!(
            "{name}: not restoring state left by a bondd that did not exit cleanly{left_by}: {why}"
        );
        let _ = port_state::remove(path);
    };
    let (ifindex, mac, mtu, flags) = match (
        netdev.ifindex(name),
        netdev.mac(name),
        netdev.mtu(name),
        netdev.flags(name),
    ) {
        (Ok(i), Ok(m), Ok(t), Ok(f)) => (i, m, t, f),
        (Err(e), ..) | (_, Err(e), ..) | (_, _, Err(e), _) | (.., Err(e)) => {
            return not_restoring(format!("cannot read the interface: {e}"));
        }
    };
    if ifindex != state.ifindex {
        return not_restoring(format!(
            "it was interface index {}, {name} is now {ifindex} (another interface)",
            state.ifindex
        ));
    }
    if mac != state.mac && !state.bond_macs.contains(&mac) {
        return not_restoring(format!(
            "the port carries {mac}, neither its recorded MAC {} nor one bondd set",
            state.mac
        ));
    }
    let iso = Isolation::recorded(
        name,
        state.noarp,
        state.rp_filter.clone(),
        state.disable_ipv6.clone(),
    );
    let mut what = Vec::new();
    if mac != state.mac {
        what.push(format!("MAC {mac} -> {}", state.mac));
    }
    if mtu != state.mtu {
        what.push(format!("MTU {mtu} -> {}", state.mtu));
    }
    what.extend(iso.describe_restore());
    let take_down = state.was_down && flags.up();
    if take_down {
        what.push("admin down".into());
    }
    if what.is_empty() {
        what.push("nothing to change".into());
    }
    say!(
        "{name}: restoring state left by a bondd that did not exit cleanly{left_by}: {}",
        what.join(", ")
    );
    put_back(
        netdev,
        name,
        PutBack {
            mac: (mac != state.mac).then_some(state.mac),
            mtu: (mtu != state.mtu).then_some(state.mtu),
            isolation: Some(iso),
            take_down,
        },
    );
    if let Err(e) = port_state::remove(path) {
        say!("{name}: cannot remove {}: {e}", path.display());
    }
}

/// What [`put_back`] restores on a port.
struct PutBack {
    /// The MAC to program back, if it differs.
    mac: Option<EthernetAddress>,
    /// The MTU to set back, if it differs.
    mtu: Option<u32>,
    /// The IP-stack settings to undo.
    isolation: Option<Isolation>,
    /// Take the interface down (it was down before it joined).
    take_down: bool,
}

/// Put port `name` back as it was before it joined: when it leaves, and from a state file a
/// killed bondd left. Errors are logged, not returned: the next step must still be tried.
fn put_back(netdev: &NetDev, name: &str, what: PutBack) {
    if let Some(mac) = what.mac {
        match netdev.set_mac_any_state(name, mac) {
            Ok(()) => say!("{name}: MAC restored to {mac}"),
            Err(e) => say!("{name}: cannot restore MAC {mac}: {e}"),
        }
    }
    if let Some(mtu) = what.mtu {
        match netdev.set_mtu(name, mtu) {
            Ok(()) => say!("{name}: MTU restored to {mtu}"),
            Err(e) => say!("{name}: cannot restore MTU {mtu}: {e}"),
        }
    }
    if let Some(iso) = what.isolation {
        iso.restore(netdev);
    }
    if what.take_down {
        if let Err(e) = netdev.set_up(name, false) {
            say!("{name}: cannot take it down again: {e}");
        }
    }
}
