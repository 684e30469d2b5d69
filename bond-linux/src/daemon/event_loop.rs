//! The event loop: one `poll(2)` over the signal pipe, the TAP, the rtnetlink socket, the
//! control socket and the ports, with the bond's `poll_timeout` (and the `miimon` poll) as its
//! timer.
//!
//! Frames move in batches, up to [`BUDGET`] per source per turn so one busy port cannot starve
//! the others: a port's frames come [`BATCH`] at a time with one `recvmmsg`; frames from the
//! TAP (one `read` each, as a TAP has no batch read) are gathered per port and leave with one
//! `sendmmsg` per port. With offloads on, a frame is often a 64 KiB TCP super-frame behind a
//! virtio-net header, which is passed along untouched.

use std::io::{self, Read};
use std::os::fd::AsFd;

use bond_core::wire::ethernet::ethertype;
use bond_core::{
    BondAddress, DropReason, Duration, Instant, IpAddress, LinkSample, PortId, RxVerdict, TxVerdict,
};
use rustix::event::{PollFd, PollFlags, Timespec};

use super::ports::describe;
use super::{say, Daemon, Exit};
use crate::error::{Error, Result};
use crate::packet::{Received, BATCH};
use crate::rtnl::{AddressUpdate, Batch, LinkUpdate, Update};
use crate::vnet::VNET_HDR_LEN;

/// Frames read from one source per turn of the loop (a multiple of [`BATCH`]).
const BUDGET: usize = 2 * BATCH;

/// Least time between two carrier probes set off by frames arriving on an inactive port: the
/// first probes at once, and a backup port that keeps receiving (flooding behind a switch)
/// costs at most this many ethtool calls per port per second.
const INACTIVE_RX_PROBE_GAP: Duration = Duration::from_millis(10);

/// What one `poll` said.
#[derive(Debug, Default)]
struct Ready {
    signal: bool,
    tap: bool,
    links: bool,
    control: bool,
    ports: Vec<PortId>,
}

impl Daemon {
    /// Run until SIGINT or SIGTERM. An error from the loop itself (not from one frame or one
    /// request, which are counted or answered) ends it; shutdown runs either way.
    pub fn run(&mut self) -> Result<Exit> {
        loop {
            let now = self.now();
            let ready = self.wait(now)?;
            let now = self.now();
            if ready.signal {
                let mut buf = [0u8; 64];
                while matches!((&self.signals).read(&mut buf), Ok(n) if n > 0) {}
                say!("{}: signal received, shutting down", self.name);
                return Ok(Exit::Signal);
            }
            if ready.links {
                self.links_rx(now);
            }
            for &id in &ready.ports {
                self.port_rx(now, id);
            }
            if ready.tap {
                self.tap_rx(now)?;
            }
            if ready.control {
                self.serve_control(now);
            }
            self.miimon_poll(now);
            self.expire_leaving(now);
            if self.bond.poll_timeout().is_some_and(|t| t <= now) {
                self.bond.handle_timeout(now);
            }
            self.drain(now);
        }
    }

    /// Block until something is ready or the next deadline.
    fn wait(&mut self, now: Instant) -> Result<Ready> {
        let leaving = self.leaving.iter().map(|l| l.until).min();
        let deadline = [self.bond.poll_timeout(), self.next_miimon, leaving]
            .into_iter()
            .flatten()
            .min();
        let timeout = deadline.map(|d| {
            let us = d.saturating_duration_since(now).total_micros();
            Timespec {
                tv_sec: (us / 1_000_000) as i64,
                tv_nsec: (us % 1_000_000 * 1000) as i64,
            }
        });
        let tap = self
            .tap
            .as_ref()
            .ok_or_else(|| Error::refused("the TAP is closed"))?;
        let mut fds = vec![
            PollFd::new(&self.signals, PollFlags::IN),
            PollFd::new(tap, PollFlags::IN),
        ];
        let links_at = fds.len();
        if let Some(l) = &self.links {
            fds.push(PollFd::new(l, PollFlags::IN));
        }
        let control_at = fds.len();
        for (fd, want_out) in self.control.poll_fds() {
            let flags = if want_out {
                PollFlags::IN | PollFlags::OUT
            } else {
                PollFlags::IN
            };
            fds.push(PollFd::from_borrowed_fd(fd, flags));
        }
        let ports_at = fds.len();
        let mut port_ids = Vec::new();
        for id in self.bond.ports() {
            if let Some(p) = &self.ports[id.index()] {
                fds.push(PollFd::from_borrowed_fd(p.sock.as_fd(), PollFlags::IN));
                port_ids.push(id);
            }
        }
        match rustix::event::poll(&mut fds, timeout.as_ref()) {
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => return Ok(Ready::default()),
            Err(e) => return Err(Error::io("poll", e)),
        }
        let hit = |i: usize| !fds[i].revents().is_empty();
        Ok(Ready {
            signal: hit(0),
            tap: hit(1),
            links: self.links.is_some() && hit(links_at),
            control: (control_at..ports_at).any(hit),
            ports: port_ids
                .iter()
                .enumerate()
                .filter(|&(k, _)| hit(ports_at + k))
                .map(|(_, &id)| id)
                .collect(),
        })
    }

    /// Frames from port `id`: through `handle_rx`, and the deliverable ones to the TAP.
    fn port_rx(&mut self, now: Instant, id: PortId) {
        let hdr = self.vnet_hdr_len();
        for _ in 0..BUDGET / BATCH {
            // A frame for the bond arrived on an inactive port: see `probe_carrier`.
            let mut probe = false;
            let Some(port) = self.ports[id.index()].as_mut() else {
                return;
            };
            let n = match port.sock.recv_batch(&mut self.rx) {
                Ok(0) => return,
                Ok(n) => n,
                Err(e) => {
                    self.port_error(now, id, &e);
                    return;
                }
            };
            for (i, got) in self.rx.received().iter().enumerate() {
                let range = match got {
                    Received::Frame(r) => r.clone(),
                    Received::Outgoing => continue,
                    Received::Truncated(_) => {
                        port.info.rx_truncated += 1;
                        continue;
                    }
                    Received::Undescribable => {
                        port.info.rx_offload_dropped += 1;
                        continue;
                    }
                };
                let slot = self.rx.slot(i);
                let frame = &slot[range.clone()];
                if is_slow_protocol(frame) {
                    if let Some(pcap) = self.pcap.as_mut() {
                        let _ = pcap.write_frame(frame);
                    }
                }
                // Deliver goes to the host. PassToPort needs nothing: the kernel has already
                // given the port's own listeners their copy (AF_PACKET only taps). Consumed
                // and Drop: the bond counted them.
                match self.bond.handle_rx(now, id, frame) {
                    RxVerdict::Deliver => {
                        if let Some(tap) = &self.tap {
                            // The virtio-net header, if any, sits just before the frame. A TAP
                            // that is down refuses frames (EIO): the host is not listening.
                            // Anything else (a header the TAP rejects) is a counted loss.
                            let sent = tap.send(&slot[range.start - hdr..range.end]);
                            if sent.is_err_and(|e| e.raw_os_error() != Some(libc::EIO)) {
                                port.info.rx_tap_errors += 1;
                            }
                        }
                    }
                    // Unicast: what a peer that failed over sends us.
                    RxVerdict::Drop(DropReason::InactivePort) => probe |= frame[0] & 1 == 0,
                    _ => {}
                }
            }
            if probe {
                self.probe_carrier(now);
            }
            if n < BATCH {
                return;
            }
        }
    }

    /// A socket error on port `id`. ENETDOWN comes once when the interface goes down (the
    /// carrier path handles that); the interface vanishing releases the port.
    fn port_error(&mut self, now: Instant, id: PortId, e: &io::Error) {
        match e.raw_os_error() {
            Some(libc::ENETDOWN) => {}
            Some(libc::ENXIO) | Some(libc::ENODEV) => self.release_port(now, id, true),
            _ => {
                if let Some(p) = &self.ports[id.index()] {
                    say!("{}: receive error: {e}", p.name);
                }
            }
        }
    }

    /// Frames from the host: `select_tx` picks the port(s); each port's share of a batch
    /// leaves with one `sendmmsg`.
    fn tap_rx(&mut self, now: Instant) -> Result<()> {
        let hdr = self.vnet_hdr_len();
        for _ in 0..BUDGET / BATCH {
            let tap = self
                .tap
                .as_ref()
                .ok_or_else(|| Error::refused("the TAP is closed"))?;
            let read = self
                .tx
                .fill(|buf| tap.recv(buf))
                .map_err(|e| Error::io(format!("read {}", self.name), e))?;
            for i in 0..read {
                let Some(frame) = self.tx.frame(i).get(hdr..) else {
                    continue;
                };
                match self.bond.select_tx(now, frame) {
                    TxVerdict::Port(p) => self.tx.queue(p.index(), i),
                    TxVerdict::Ports(set) => {
                        for p in set.iter() {
                            self.tx.queue(p.index(), i);
                        }
                    }
                    // Drop (counted by the bond), and verdicts a newer core may add.
                    _ => {}
                }
            }
            self.flush_tx();
            if read < BATCH {
                break;
            }
        }
        Ok(())
    }

    /// Send every frame queued by `tap_rx`, per port, counting them.
    fn flush_tx(&mut self) {
        let hdr = self.vnet_hdr_len();
        let tx = &self.tx;
        let mut frames: [&[u8]; BATCH] = [&[]; BATCH];
        for (index, slot) in self.ports.iter_mut().enumerate() {
            let queued = tx.queued(index);
            let Some(port) = slot.as_mut() else {
                continue;
            };
            if queued.is_empty() {
                continue;
            }
            for (f, &i) in frames.iter_mut().zip(queued) {
                *f = tx.frame(usize::from(i));
            }
            let frames = &frames[..queued.len()];
            port.sock.send_batch(frames, |k, result| match result {
                // A super-frame counts once, as the TAP and the core's rx counters count it.
                Ok(()) => {
                    port.info.tx_packets += 1;
                    port.info.tx_bytes += frames[k].len().saturating_sub(hdr) as u64;
                }
                Err(_) => port.info.tx_errors += 1,
            });
        }
        self.tx.clear_queues();
    }

    /// Send the control frame in `ctl_buf` (`len` bytes after its header space) on port `id`,
    /// counting it and recording it in the capture.
    fn send_control(&mut self, id: PortId, len: usize) {
        let Some(sock) = self.control_socket(id) else {
            return;
        };
        // Control frames carry an all-zero ("nothing to do") header when the port takes one.
        let start = VNET_HDR_LEN - hdr_len(sock.has_vnet_hdr());
        let sent = sock.send(&self.ctl_buf[start..VNET_HDR_LEN + len]);
        // A port that already left has no counters any more.
        if let Some(port) = self.ports[id.index()].as_mut() {
            match sent {
                Ok(()) => {
                    port.info.tx_packets += 1;
                    port.info.tx_bytes += len as u64;
                }
                Err(_) => port.info.tx_errors += 1,
            }
        }
        if let Some(pcap) = self.pcap.as_mut() {
            let _ = pcap.write_frame(&self.ctl_buf[VNET_HDR_LEN..VNET_HDR_LEN + len]);
        }
    }

    /// Bytes of virtio-net header before every frame on the TAP and the ports.
    fn vnet_hdr_len(&self) -> usize {
        hdr_len(self.tap.as_ref().is_some_and(|t| t.has_vnet_hdr()))
    }

    /// Carrier events from rtnetlink.
    fn links_rx(&mut self, now: Instant) {
        loop {
            let Some(links) = self.links.as_mut() else {
                return;
            };
            match links.read() {
                Ok(None) => return,
                Ok(Some(Batch::Overrun)) => {
                    say!("{}: link events lost; sampling every port", self.name);
                    self.sample_all(now, true);
                }
                Ok(Some(Batch::Updates(updates))) => {
                    for u in updates {
                        match u {
                            Update::Link(l) => self.link_update(now, &l),
                            Update::Address(a) => self.address_update(&a),
                        }
                    }
                }
                Err(e) => {
                    say!("{}: rtnetlink: {e}; relying on miimon polling", self.name);
                    self.links = None;
                    return;
                }
            }
        }
    }

    fn link_update(&mut self, now: Instant, u: &LinkUpdate) {
        if u.ifindex == self.tap_ifindex {
            if !u.removed {
                self.set_promisc(u.promisc());
                self.follow_tap_mtu(u.mtu);
                self.follow_tap_admin_state(now);
            }
            return;
        }
        let Some(id) = self.port_by_ifindex(u.ifindex) else {
            return;
        };
        if u.removed {
            self.release_port(now, id, true);
            return;
        }
        let Some(port) = self.ports[id.index()].as_ref() else {
            return;
        };
        let sample = self.link_sample(&port.name, u.carrier());
        self.feed_link(now, id, sample);
    }

    /// The link sample of interface `name` with `carrier`: as Linux, speed and duplex are read
    /// again on every carrier change.
    fn link_sample(&self, name: &str, carrier: bool) -> LinkSample {
        if !carrier {
            return LinkSample::DOWN;
        }
        let (speed_mbps, duplex) = self.netdev.speed_duplex(name);
        LinkSample {
            up: true,
            speed_mbps,
            duplex,
        }
    }

    /// `ip link set NAME down|up` on the TAP takes the bond down or up, as on a kernel bond
    /// (802.3ad ports say goodbye; options that need the bond down can then be changed). The
    /// flags are read now rather than taken from the event, so that the TAP's creation events,
    /// still queued when the loop starts, cannot take the bond down for a moment.
    fn follow_tap_admin_state(&mut self, now: Instant) {
        let Ok(flags) = self.netdev.flags(&self.name) else {
            return;
        };
        if flags.up() != self.bond.is_up() {
            say!(
                "{}: administratively {}",
                self.name,
                if flags.up() { "up" } else { "down" }
            );
            self.bond.set_admin_up(now, flags.up());
        }
    }

    /// An address came or went on the TAP: the bond announces its addresses after failover.
    fn address_update(&mut self, a: &AddressUpdate) {
        if a.ifindex != self.tap_ifindex {
            return;
        }
        let ip = match a.ip {
            std::net::IpAddr::V4(v4) => IpAddress::V4(v4.octets()),
            std::net::IpAddr::V6(v6) => IpAddress::V6(v6.octets()),
        };
        let addr = BondAddress { ip, vlan: None };
        if a.removed {
            self.bond.remove_address(addr);
        } else if let Err(e) = self.bond.add_address(addr) {
            say!(
                "{}: {} will not be announced after failover: {e}",
                self.name,
                a.ip
            );
        }
    }

    /// Give the bond a link sample of `id` if it differs from the last one.
    fn feed_link(&mut self, now: Instant, id: PortId, sample: LinkSample) {
        let Some(port) = self.ports[id.index()].as_mut() else {
            return;
        };
        if port.link == sample {
            return;
        }
        say!(
            "{}: {} -> {}",
            port.name,
            describe(port.link),
            describe(sample)
        );
        port.link = sample;
        self.bond.handle_link(now, id, sample);
    }

    /// The `miimon` fallback: sample every port's carrier each `miimon` ms (when no netlink
    /// event told us already, this is how a change is seen).
    fn miimon_poll(&mut self, now: Instant) {
        let miimon = self.bond.config().miimon;
        if miimon == 0 {
            self.next_miimon = None;
            return;
        }
        if self.next_miimon.is_some_and(|t| t > now) {
            return;
        }
        self.next_miimon = Some(now + Duration::from_millis(u64::from(miimon)));
        self.sample_all(now, false);
    }

    /// A unicast frame arrived on an inactive port: the peer may have failed over because our
    /// active port lost its link, before we were told. The kernel defers the rtnetlink
    /// carrier event of a device that is not a kernel LAG port and whose iflink is its own
    /// ifindex (a NIC, or a veth whose peer has the same ifindex in its namespace) to one batch
    /// a second (linkwatch), so without this the bond would learn it only at the next `miimon`
    /// poll and drop everything the peer sends meanwhile (19–80 ms measured). Sampling carrier
    /// now (`ETHTOOL_GLINK` reads the real carrier, and flushes the deferred event) is the
    /// `miimon` poll brought forward; at most one per [`INACTIVE_RX_PROBE_GAP`].
    fn probe_carrier(&mut self, now: Instant) {
        if self.bond.config().miimon == 0 || self.next_rx_probe.is_some_and(|t| t > now) {
            return;
        }
        self.next_rx_probe = Some(now + INACTIVE_RX_PROBE_GAP);
        // Only the active port's loss can be missing (a backup that keeps receiving behind a
        // switch must not cost an ioctl per port each time); without one, every port.
        match self.bond.active_port() {
            Some(id) => self.sample_port(now, id, false),
            None => self.sample_all(now, false),
        }
    }

    /// Sample every port. `full`: read speed and duplex too, even if carrier did not change.
    /// Without link events, the TAP's admin state and MTU are sampled here too.
    fn sample_all(&mut self, now: Instant, full: bool) {
        if self.links.is_none() {
            self.follow_tap_admin_state(now);
            if let Ok(mtu) = self.netdev.mtu(&self.name) {
                self.follow_tap_mtu(Some(mtu));
            }
        }
        let ids: Vec<PortId> = self.bond.ports().collect();
        for id in ids {
            self.sample_port(now, id, full);
        }
    }

    /// Sample port `id`'s carrier (and speed and duplex if it is up and changed, or `full`).
    fn sample_port(&mut self, now: Instant, id: PortId, full: bool) {
        let Some(port) = self.ports[id.index()].as_ref() else {
            return;
        };
        let carrier = match self.netdev.carrier(&port.name) {
            Ok(c) => c,
            Err(e) if e.raw_os_error() == Some(libc::ENODEV) => {
                self.release_port(now, id, true);
                return;
            }
            Err(_) => false,
        };
        if carrier == port.link.up && !full {
            return;
        }
        let sample = self.link_sample(&port.name, carrier);
        self.feed_link(now, id, sample);
    }

    /// Drain the bond's outputs, in the documented order: MAC changes, control frames, events.
    pub(crate) fn drain(&mut self, now: Instant) {
        while let Some(action) = self.bond.poll_action() {
            self.apply_action(action);
        }
        while let Some(t) = self
            .bond
            .poll_transmit(now, &mut self.ctl_buf[VNET_HDR_LEN..])
        {
            self.send_control(t.port, t.len);
        }
        let mut carrier_changed = false;
        while let Some(event) = self.bond.poll_event() {
            if matches!(event, bond_core::Event::CarrierChanged { .. }) {
                carrier_changed = true;
            }
            self.log_event(event);
        }
        if carrier_changed {
            self.sync_tap_carrier();
        }
    }

    fn log_event(&self, event: bond_core::Event) {
        use bond_core::Event as E;
        let name = |id: Option<PortId>| {
            id.and_then(|id| self.ports[id.index()].as_ref())
                .map_or("none".to_string(), |p| p.name.clone())
        };
        match event {
            E::LinkChanged { port, state } => {
                say!(
                    "{}: link {} is {}",
                    self.name,
                    name(Some(port)),
                    state.name()
                )
            }
            E::ActiveChanged { old, new } => {
                say!("{}: active port {} -> {}", self.name, name(old), name(new))
            }
            E::CarrierChanged { up } => {
                say!("{}: carrier {}", self.name, if up { "up" } else { "down" })
            }
            E::LacpMuxChanged { port, state } => {
                say!("{}: {} mux {state:?}", self.name, name(Some(port)))
            }
            other => say!("{}: {other:?}", self.name),
        }
    }
}

fn hdr_len(vnet: bool) -> usize {
    if vnet {
        VNET_HDR_LEN
    } else {
        0
    }
}

/// Slow Protocols (LACP, marker), untagged: what `--pcap` records on receive.
fn is_slow_protocol(frame: &[u8]) -> bool {
    frame.len() >= 14 && u16::from_be_bytes([frame[12], frame[13]]) == ethertype::SLOW
}
