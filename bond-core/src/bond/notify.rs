//! Telling the network about a failover: gratuitous ARPs and unsolicited NAs for the bond's
//! addresses (`num_grat_arp`/`num_unsol_na`, `peer_notif_delay`), and multicast rejoin requests
//! (`resend_igmp`).
//!
//! Linux sends the first round of notifications at once and one more every `peer_notif_delay`
//! (at least every `miimon`). The pending work is a countdown and a cursor, not a queue.

use core::fmt;

use super::Bond;
use crate::config::Config;
use crate::event::{Event, EventQueue};
use crate::port::PortId;
use crate::time::{earliest, Duration, Instant};
use crate::wire::{arp, ndisc};

/// At most this many addresses are announced on failover.
pub const MAX_ADDRESSES: usize = 8;

/// Smallest buffer `poll_transmit` accepts: a tagged unsolicited NA is 90 bytes; LACPDUs will
/// need 124.
pub const MIN_TRANSMIT_BUF: usize = 128;

/// Spacing of notification rounds when neither `peer_notif_delay` nor `miimon` is set.
const DEFAULT_NOTIF_INTERVAL: Duration = Duration::from_millis(100);
/// Linux repeats IGMP rejoins every 200 ms.
const MCAST_REJOIN_INTERVAL: Duration = Duration::from_millis(200);

/// An IP address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum IpAddress {
    /// IPv4, network order.
    V4([u8; 4]),
    /// IPv6, network order.
    V6([u8; 16]),
}

impl fmt::Display for IpAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::V4(a) => core::net::Ipv4Addr::from(a).fmt(f),
            Self::V6(a) => core::net::Ipv6Addr::from(a).fmt(f),
        }
    }
}

/// An address configured on the bond (or on a VLAN above it), announced after failover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct BondAddress {
    /// The address.
    pub ip: IpAddress,
    /// The VLAN it lives on, if any: its announcements are tagged.
    pub vlan: Option<u16>,
}

/// A control frame written into the caller's buffer by `poll_transmit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Transmit {
    /// Send it on this port.
    pub port: PortId,
    /// Its length in bytes, from the start of the buffer.
    pub len: usize,
}

#[derive(Debug, Default)]
pub(super) struct Notifier {
    addrs: heapless::Vec<BondAddress, MAX_ADDRESSES>,
    /// Rounds not yet started.
    rounds_left: u16,
    /// When the next round starts.
    round_due: Option<Instant>,
    interval: Duration,
    /// Next address to announce in the round in progress.
    cursor: Option<usize>,
    rejoins_left: u8,
    rejoin_due: Option<Instant>,
}

impl Notifier {
    /// A failover happened: announce the addresses `num_peer_notif` times.
    pub(crate) fn start_peer_notification(&mut self, now: Instant, config: &Config) {
        self.rounds_left = u16::from(config.num_peer_notif);
        self.cursor = None;
        self.round_due = (self.rounds_left > 0).then_some(now);
        self.interval = [
            config.peer_notif_delay(),
            config.miimon_period(),
            DEFAULT_NOTIF_INTERVAL,
        ]
        .into_iter()
        .find(|d| !d.is_zero())
        .unwrap_or(DEFAULT_NOTIF_INTERVAL);
        // The first round goes out with the next poll_transmit, not at a deadline.
        self.start_due_round(now);
    }

    /// Begin the round that is due, if any; the next one is scheduled `interval` later.
    /// A round still in progress is abandoned: its remaining addresses go out in the new one.
    fn start_due_round(&mut self, now: Instant) {
        if self.round_due.is_some_and(|d| d <= now) {
            self.rounds_left -= 1;
            self.round_due = (self.rounds_left > 0).then_some(now + self.interval);
            self.cursor = Some(0);
        }
    }

    pub(crate) fn start_mcast_rejoin(&mut self, now: Instant, count: u8, events: &mut EventQueue) {
        events.push(Event::McastRejoin);
        self.rejoins_left = count.saturating_sub(1);
        self.rejoin_due = (self.rejoins_left > 0).then_some(now + MCAST_REJOIN_INTERVAL);
    }

    pub(crate) fn stop(&mut self) {
        self.rounds_left = 0;
        self.round_due = None;
        self.cursor = None;
        self.rejoins_left = 0;
        self.rejoin_due = None;
    }

    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        earliest(self.round_due, self.rejoin_due)
    }

    pub(crate) fn on_timeout(&mut self, now: Instant, events: &mut EventQueue) {
        self.start_due_round(now);
        if self.rejoin_due.is_some_and(|d| d <= now) {
            events.push(Event::McastRejoin);
            self.rejoins_left -= 1;
            self.rejoin_due = (self.rejoins_left > 0).then_some(now + MCAST_REJOIN_INTERVAL);
        }
    }

    /// The next address to announce, starting a round if one is due.
    fn next_address(&mut self, now: Instant) -> Option<BondAddress> {
        if self.cursor.is_none() {
            self.start_due_round(now);
        }
        let i = self.cursor?;
        let addr = self.addrs.get(i).copied();
        self.cursor = addr.and(Some(i + 1));
        addr
    }
}

/// The address list is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AddressesFull;

impl fmt::Display for AddressesFull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the bond already has {MAX_ADDRESSES} addresses")
    }
}

impl core::error::Error for AddressesFull {}

impl<const N: usize> Bond<N> {
    /// Add an address to announce after failover (idempotent).
    pub fn add_address(&mut self, addr: BondAddress) -> Result<(), AddressesFull> {
        if self.notify.addrs.contains(&addr) {
            return Ok(());
        }
        self.notify.addrs.push(addr).map_err(|_| AddressesFull)
    }

    /// Stop announcing `addr`; returns whether it was there.
    pub fn remove_address(&mut self, addr: BondAddress) -> bool {
        let Some(i) = self.notify.addrs.iter().position(|a| *a == addr) else {
            return false;
        };
        self.notify.addrs.remove(i);
        // A round in progress simply continues with the remaining addresses.
        if let Some(c) = self.notify.cursor.as_mut() {
            *c = (*c).min(self.notify.addrs.len());
        }
        true
    }

    /// The addresses announced after failover.
    pub fn addresses(&self) -> &[BondAddress] {
        &self.notify.addrs
    }

    /// The next gratuitous ARP or unsolicited NA due, written into `buf`.
    pub(crate) fn poll_notification(&mut self, now: Instant, buf: &mut [u8]) -> Option<Transmit> {
        loop {
            let addr = self.notify.next_address(now)?;
            // Announce only while the bond can be reached: carrier, and an active port that has
            // carrier itself (not one in its downdelay, or unwatched with miimon=0).
            let port = self
                .curr_active
                .filter(|&a| self.carrier && self.port_ref(a).is_some_and(|p| p.carrier));
            let Some(port) = port else {
                continue;
            };
            let len = match addr.ip {
                IpAddress::V4(ip) => arp::emit_gratuitous(buf, self.mac, ip, addr.vlan),
                IpAddress::V6(ip) => ndisc::emit_unsolicited_na(buf, self.mac, ip, addr.vlan),
            };
            if let Some(p) = self.port_mut(port) {
                p.stats.tx_control += 1;
            }
            return Some(Transmit { port, len });
        }
    }
}
