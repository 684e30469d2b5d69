//! The per-frame data path: `select_tx` and `handle_rx`.
//!
//! Everything a frame needs is precomputed in [`TxTables`] whenever port state changes, so
//! choosing a port costs one hash (balance-xor) or one counter step (balance-rr), whatever the
//! number of ports.

use super::Bond;
use crate::config::Mode;
use crate::hash::xmit_hash;
use crate::port::{PortId, PortSet};
use crate::time::Instant;
use crate::wire::{ethernet, EthernetFrame};

/// Where a frame from the host goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum TxVerdict {
    /// Send on this port.
    Port(PortId),
    /// Send a copy on each of these ports (broadcast mode).
    Ports(PortSet),
    /// Do not send.
    Drop(DropReason),
}

/// What to do with a frame received on a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum RxVerdict {
    /// Deliver to the host through the bond.
    Deliver,
    /// Not for the bond, but not dropped either: a link-local frame (01:80:c2:00:00:0x) on an
    /// inactive port, which Linux passes to listeners of the port itself (an LLDP agent, say).
    PassToPort,
    /// The bond used the frame itself (LACPDUs, markers); nothing to deliver.
    Consumed,
    /// Drop it.
    Drop(DropReason),
}

/// Why a frame was dropped. Every drop is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum DropReason {
    /// Shorter than an Ethernet header.
    Truncated,
    /// `handle_rx` named a port that is not in the bond.
    UnknownPort,
    /// Received on an inactive (backup) port.
    InactivePort,
    /// No port can send: none is up, or the active port has no carrier.
    NoPort,
    /// The bond is administratively down.
    BondDown,
}

/// Sentinel for "no port" in the round-robin table.
const NO_PORT: u8 = u8::MAX;

/// Precomputed transmit tables, rebuilt when port state changes.
#[derive(Debug)]
pub(super) struct TxTables<const N: usize> {
    /// Ports that can send, in join order (balance-xor `usable_slaves`).
    usable: heapless::Vec<PortId, N>,
    /// For each join-order position `i`: the first port at or after `i` (wrapping) that can
    /// send — Linux's scan in `bond_get_slave_by_id`, done ahead of time.
    rr_next: [u8; N],
    /// Number of ports in the bond (Linux `slave_cnt`, the round-robin modulus).
    port_count: u32,
    /// Ports that get a copy in broadcast mode.
    broadcast: PortSet,
    rr_counter: u32,
    rng: u64,
}

impl<const N: usize> TxTables<N> {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            usable: heapless::Vec::new(),
            rr_next: [NO_PORT; N],
            port_count: 0,
            broadcast: PortSet::EMPTY,
            rr_counter: 0,
            // xorshift64 must not start at zero.
            rng: seed | 1,
        }
    }

    pub(crate) fn usable_count(&self) -> usize {
        self.usable.len()
    }

    /// Linux `bond_rr_gen_slave_id`: a counter (pre-incremented, so the first frame gets 1),
    /// divided by `packets_per_slave`, or a random number when it is 0.
    fn next_rr_id(&mut self, packets_per_slave: u16) -> u32 {
        match packets_per_slave {
            0 => {
                let mut x = self.rng;
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                self.rng = x;
                (x >> 32) as u32
            }
            pps => {
                self.rr_counter = self.rr_counter.wrapping_add(1);
                self.rr_counter / u32::from(pps)
            }
        }
    }
}

impl<const N: usize> Bond<N> {
    /// Rebuild the transmit tables from the ports' current state.
    pub(crate) fn refresh_tx_tables(&mut self) {
        let t = &mut self.tables;
        t.usable.clear();
        t.broadcast = PortSet::EMPTY;
        t.port_count = self.order.len() as u32;
        for &id in &self.order {
            let Some(p) = self.ports[id.index()].as_ref() else {
                continue;
            };
            if p.can_tx() {
                // Cannot overflow: at most N ports are listed.
                let _ = t.usable.push(id);
            }
            if p.carrier && p.link == crate::port::LinkState::Up {
                t.broadcast.insert(id);
            }
        }
        let n = self.order.len();
        for i in 0..N {
            t.rr_next[i] = (0..n)
                .map(|k| self.order[(i + k) % n.max(1)])
                .find(|id| self.ports[id.index()].as_ref().is_some_and(|p| p.can_tx()))
                .map_or(NO_PORT, |id| id.0);
        }
    }

    /// Choose the port(s) for a frame the host sends through the bond.
    ///
    /// Never panics, whatever `frame` holds; a frame too short to be Ethernet is dropped and
    /// counted. Costs O(1) in the number of ports.
    pub fn select_tx(&mut self, now: Instant, frame: &[u8]) -> TxVerdict {
        let _ = now;
        let Some(eth) = EthernetFrame::new_checked(frame) else {
            self.stats.tx_truncated += 1;
            return TxVerdict::Drop(DropReason::Truncated);
        };
        if !self.admin_up {
            self.stats.tx_bond_down += 1;
            return TxVerdict::Drop(DropReason::BondDown);
        }
        let verdict = match self.config.mode {
            Mode::RoundRobin => self.select_round_robin(&eth),
            Mode::ActiveBackup => self.select_active_backup(),
            Mode::Xor => self.select_xor(frame),
            Mode::Lacp if self.config.broadcast_neighbor && is_neighbor_discovery(&eth) => {
                // broadcast_neighbor: ARP and ND go out on every port so every switch of a
                // multi-chassis LAG learns us.
                Some(TxVerdict::Ports(self.tables.broadcast))
                    .filter(|_| !self.tables.broadcast.is_empty())
            }
            Mode::Lacp => self.select_xor(frame),
            Mode::Broadcast => match self.tables.broadcast {
                set if set.is_empty() => None,
                set => Some(TxVerdict::Ports(set)),
            },
            // Bond::new refuses these modes until they are implemented.
            Mode::Tlb | Mode::Alb => None,
        };
        let Some(verdict) = verdict else {
            self.stats.tx_no_port += 1;
            return TxVerdict::Drop(DropReason::NoPort);
        };
        self.count_tx(verdict, frame.len());
        verdict
    }

    fn select_round_robin(&mut self, eth: &EthernetFrame<'_>) -> Option<TxVerdict> {
        // IGMP always leaves by the active port so the switch sees joins on one port.
        if is_igmp(eth) {
            let active = self
                .curr_active
                .filter(|&a| self.port_ref(a).is_some_and(|p| p.can_tx()));
            if let Some(a) = active {
                return Some(TxVerdict::Port(a));
            }
            return self.rr_port_at(0).map(TxVerdict::Port);
        }
        if self.tables.port_count == 0 {
            return None;
        }
        let id = self.tables.next_rr_id(self.config.packets_per_slave);
        self.rr_port_at(id % self.tables.port_count)
            .map(TxVerdict::Port)
    }

    fn rr_port_at(&self, index: u32) -> Option<PortId> {
        match self.tables.rr_next.get(index as usize) {
            Some(&p) if p != NO_PORT => Some(PortId(p)),
            _ => None,
        }
    }

    fn select_active_backup(&self) -> Option<TxVerdict> {
        // During downdelay the active port has no carrier: Linux would hand it the frame and the
        // NIC would drop it; counting the drop here keeps "nothing sent on a dead link" true.
        let active = self.curr_active?;
        self.port_ref(active)
            .filter(|p| p.carrier)
            .map(|_| TxVerdict::Port(active))
    }

    fn select_xor(&self, frame: &[u8]) -> Option<TxVerdict> {
        let usable = &self.tables.usable;
        if usable.is_empty() {
            return None;
        }
        let hash = xmit_hash(self.config.xmit_hash_policy, frame);
        Some(TxVerdict::Port(
            usable[(hash % usable.len() as u32) as usize],
        ))
    }

    fn count_tx(&mut self, verdict: TxVerdict, len: usize) {
        let mut count = |id: PortId| {
            if let Some(p) = self.ports.get_mut(id.index()).and_then(Option::as_mut) {
                p.stats.tx_packets += 1;
                p.stats.tx_bytes += len as u64;
            }
        };
        match verdict {
            TxVerdict::Port(id) => count(id),
            TxVerdict::Ports(set) => set.iter().for_each(count),
            TxVerdict::Drop(_) => {}
        }
    }

    /// Decide what happens to a frame received on port `id`.
    ///
    /// Never panics, whatever `frame` holds. Linux semantics: a frame arriving on an inactive
    /// (backup) port is not delivered to the bond, except link-local group frames, which go to
    /// the port's own listeners; `all_slaves_active=1` turns the suppression off.
    pub fn handle_rx(&mut self, now: Instant, id: PortId, frame: &[u8]) -> RxVerdict {
        let Some(port) = self.ports.get_mut(id.index()).and_then(Option::as_mut) else {
            self.stats.rx_unknown_port += 1;
            return RxVerdict::Drop(DropReason::UnknownPort);
        };
        port.stats.rx_packets += 1;
        port.stats.rx_bytes += frame.len() as u64;
        if frame.len() < ethernet::HEADER_LEN {
            self.stats.rx_truncated += 1;
            return RxVerdict::Drop(DropReason::Truncated);
        }
        // 802.3ad consumes its own protocol frames first (Linux `recv_probe`).
        if self.config.mode == Mode::Lacp && self.admin_up {
            if let Some(verdict) = self.lacp_rx(now, id, frame) {
                return verdict;
            }
        }
        let Some(port) = self.ports.get_mut(id.index()).and_then(Option::as_mut) else {
            return RxVerdict::Drop(DropReason::UnknownPort);
        };
        let Some(eth) = EthernetFrame::new_checked(frame) else {
            return RxVerdict::Drop(DropReason::Truncated);
        };
        if port.inactive {
            if eth.dst_addr().is_link_local() {
                return RxVerdict::PassToPort;
            }
            port.stats.rx_dropped_inactive += 1;
            return RxVerdict::Drop(DropReason::InactivePort);
        }
        port.stats.rx_delivered += 1;
        RxVerdict::Deliver
    }
}

/// ARP, or ICMPv6 neighbor discovery (router/neighbor solicitation and advertisement, redirect),
/// untagged: what `broadcast_neighbor` sends on every port.
fn is_neighbor_discovery(eth: &EthernetFrame<'_>) -> bool {
    const ICMPV6: u8 = 58;
    let ip = eth.payload();
    match eth.ethertype() {
        ethernet::ethertype::ARP => true,
        ethernet::ethertype::IPV6 => {
            ip.len() > 40 && ip[6] == ICMPV6 && (133..=137).contains(&ip[40])
        }
        _ => false,
    }
}

/// An untagged IPv4 frame carrying IGMP (Linux checks `skb->protocol` and `iph->protocol`).
fn is_igmp(eth: &EthernetFrame<'_>) -> bool {
    const IPPROTO_IGMP: u8 = 2;
    let ip = eth.payload();
    eth.ethertype() == ethernet::ethertype::IPV4 && ip.len() >= 20 && ip[9] == IPPROTO_IGMP
}
