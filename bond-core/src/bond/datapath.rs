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

/// Sentinel for "no port" in the transmit tables.
const NO_PORT: u8 = u8::MAX;

/// Precomputed transmit tables, rebuilt when port state changes, so that choosing a port is a
/// table lookup: no walk over ports, no `Option<Port>` on the hot path.
#[derive(Debug)]
pub(super) struct TxTables<const N: usize> {
    /// Ports that can send, in join order (balance-xor and 802.3ad `usable_slaves`).
    usable: heapless::Vec<PortId, N>,
    /// For each join-order position `i`: the first port at or after `i` (wrapping) that can
    /// send — Linux's scan in `bond_get_slave_by_id`, done ahead of time.
    rr_next: [u8; N],
    /// Number of ports in the bond (Linux `slave_cnt`, the round-robin modulus).
    port_count: u32,
    /// Ports that get a copy in broadcast mode.
    broadcast: PortSet,
    /// The active-backup port, if it has carrier; else `NO_PORT`.
    active: u8,
    /// The active port for IGMP in balance-rr if it can send, else the first port that can.
    igmp: u8,
    /// Linux's round-robin counter (pre-incremented: the first frame gets 1).
    rr_counter: u32,
    /// `rr_counter / rr_pps % port_count` and `rr_counter % rr_pps`, kept up to date by
    /// counting instead of dividing while `rr_synced`.
    rr_slot: u32,
    rr_sub: u32,
    /// `packets_per_slave` (0: a random port per frame).
    rr_pps: u32,
    /// `rr_slot` and `rr_sub` match `rr_counter`; false after a rebuild, in random mode and
    /// without ports.
    rr_synced: bool,
    rng: u64,
}

impl<const N: usize> TxTables<N> {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            usable: heapless::Vec::new(),
            rr_next: [NO_PORT; N],
            port_count: 0,
            broadcast: PortSet::EMPTY,
            active: NO_PORT,
            igmp: NO_PORT,
            rr_counter: 0,
            rr_slot: 0,
            rr_sub: 0,
            rr_pps: 1,
            rr_synced: false,
            // xorshift64 must not start at zero.
            rng: seed | 1,
        }
    }

    pub(crate) fn usable_count(&self) -> usize {
        self.usable.len()
    }

    /// Linux `bond_rr_gen_slave_id` reduced modulo the port count: `(counter / pps) % ports`
    /// with the counter pre-incremented, or a random number when `packets_per_slave` is 0.
    /// Counts instead of dividing; `u32::MAX` when the bond has no ports.
    #[inline]
    fn next_rr_slot(&mut self) -> u32 {
        self.rr_counter = self.rr_counter.wrapping_add(1);
        // The counter wrapping breaks the counting (2^32 is rarely a multiple of the period).
        if !self.rr_synced || self.rr_counter == 0 {
            return self.rr_slot_slow();
        }
        self.rr_sub += 1;
        if self.rr_sub == self.rr_pps {
            self.rr_sub = 0;
            self.rr_slot += 1;
            if self.rr_slot == self.port_count {
                self.rr_slot = 0;
            }
        }
        self.rr_slot
    }

    /// Divide once: after a table rebuild or the counter wrapping; every frame in random mode.
    #[cold]
    fn rr_slot_slow(&mut self) -> u32 {
        if self.port_count == 0 {
            return u32::MAX;
        }
        if self.rr_pps == 0 {
            self.rr_counter = self.rr_counter.wrapping_sub(1);
            let mut x = self.rng;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.rng = x;
            return ((x >> 32) as u32) % self.port_count;
        }
        self.rr_sub = self.rr_counter % self.rr_pps;
        self.rr_slot = self.rr_counter / self.rr_pps % self.port_count;
        self.rr_synced = true;
        self.rr_slot
    }
}

impl<const N: usize> Bond<N> {
    /// Rebuild the transmit tables from the ports' current state.
    pub(crate) fn refresh_tx_tables(&mut self) {
        let can_tx =
            |b: &Self, id: PortId| b.ports[id.index()].as_ref().is_some_and(|p| p.can_tx());
        let n = self.order.len();
        let mut rr_next = [NO_PORT; N];
        for (i, slot) in rr_next.iter_mut().enumerate().take(n) {
            *slot = (0..n)
                .map(|k| self.order[(i + k) % n])
                .find(|&id| can_tx(self, id))
                .map_or(NO_PORT, |id| id.0);
        }
        let active = self
            .curr_active
            .filter(|a| self.ports[a.index()].as_ref().is_some_and(|p| p.carrier));
        let igmp = self
            .curr_active
            .filter(|&a| can_tx(self, a))
            .map_or(rr_next[0], |a| a.0);
        let up = self.admin_up;
        let t = &mut self.tables;
        t.usable.clear();
        t.broadcast = PortSet::EMPTY;
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
        t.port_count = n as u32;
        t.rr_next = rr_next;
        // During downdelay the active port has no carrier: Linux would hand it the frame and
        // the NIC would drop it; refusing here keeps "nothing sent on a dead link" true.
        t.active = active.map_or(NO_PORT, |a| a.0);
        t.igmp = igmp;
        t.rr_pps = u32::from(self.config.packets_per_slave);
        t.rr_synced = false;
        if !up {
            // A bond that is down sends nothing: empty tables, and the drop path names why.
            t.usable.clear();
            t.broadcast = PortSet::EMPTY;
            t.rr_next = [NO_PORT; N];
            t.active = NO_PORT;
            t.igmp = NO_PORT;
        }
    }

    /// Choose the port(s) for a frame the host sends through the bond.
    ///
    /// Never panics, whatever `frame` holds; a frame too short to be Ethernet is dropped and
    /// counted. Costs O(1) in the number of ports. Data frames are not counted here: like
    /// Linux, which counts a member's transmissions in the member's driver, the adapter counts
    /// what it actually sends.
    #[inline]
    pub fn select_tx(&mut self, now: Instant, frame: &[u8]) -> TxVerdict {
        // No mode implemented so far needs the time per frame; balance-tlb's rebalancing will.
        let _ = now;
        if frame.len() < ethernet::HEADER_LEN {
            return self.tx_truncated();
        }
        // The two cheapest modes first, by plain comparisons rather than a jump table.
        let mode = self.config.mode;
        let port = if mode == Mode::ActiveBackup {
            self.tables.active
        } else if mode == Mode::RoundRobin {
            self.select_round_robin(frame)
        } else {
            return self.select_other(mode, frame);
        };
        if port == NO_PORT {
            return self.tx_no_port();
        }
        TxVerdict::Port(PortId(port))
    }

    /// The hashed and broadcast modes, out of line: inlined, their register pressure would
    /// cost active-backup and balance-rr a longer prologue and epilogue on every frame.
    #[inline(never)]
    fn select_other(&mut self, mode: Mode, frame: &[u8]) -> TxVerdict {
        let port = match mode {
            Mode::Xor => self.select_hashed(frame),
            Mode::Lacp if self.config.broadcast_neighbor && is_neighbor_discovery(frame) => {
                // broadcast_neighbor: ARP and ND go out on every port so every switch of a
                // multi-chassis LAG learns us.
                return self.select_broadcast();
            }
            Mode::Lacp => self.select_hashed(frame),
            Mode::Broadcast => return self.select_broadcast(),
            // Bond::new refuses these modes until they are implemented; the first two are
            // handled by select_tx.
            Mode::Tlb | Mode::Alb | Mode::ActiveBackup | Mode::RoundRobin => NO_PORT,
        };
        if port == NO_PORT {
            return self.tx_no_port();
        }
        TxVerdict::Port(PortId(port))
    }

    #[inline]
    fn select_round_robin(&mut self, frame: &[u8]) -> u8 {
        // IGMP always leaves by the active port so the switch sees joins on one port.
        if is_igmp(frame) {
            return self.tables.igmp;
        }
        let slot = self.tables.next_rr_slot();
        self.tables
            .rr_next
            .get(slot as usize)
            .copied()
            .unwrap_or(NO_PORT)
    }

    #[inline]
    fn select_hashed(&self, frame: &[u8]) -> u8 {
        let usable = &self.tables.usable;
        if usable.is_empty() {
            return NO_PORT;
        }
        let hash = xmit_hash(self.config.xmit_hash_policy, frame);
        usable[(hash % usable.len() as u32) as usize].0
    }

    fn select_broadcast(&mut self) -> TxVerdict {
        match self.tables.broadcast {
            set if set.is_empty() => self.tx_no_port(),
            set => TxVerdict::Ports(set),
        }
    }

    #[cold]
    #[inline(never)]
    fn tx_truncated(&mut self) -> TxVerdict {
        self.stats.tx_truncated += 1;
        TxVerdict::Drop(DropReason::Truncated)
    }

    /// No port can take the frame: the bond is down (its tables are empty), or none is up.
    #[cold]
    #[inline(never)]
    fn tx_no_port(&mut self) -> TxVerdict {
        if !self.admin_up {
            self.stats.tx_bond_down += 1;
            return TxVerdict::Drop(DropReason::BondDown);
        }
        self.stats.tx_no_port += 1;
        TxVerdict::Drop(DropReason::NoPort)
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
fn is_neighbor_discovery(frame: &[u8]) -> bool {
    const ICMPV6: u8 = 58;
    match u16::from_be_bytes([frame[12], frame[13]]) {
        ethernet::ethertype::ARP => true,
        ethernet::ethertype::IPV6 => {
            frame.len() > 54 && frame[20] == ICMPV6 && (133..=137).contains(&frame[54])
        }
        _ => false,
    }
}

/// An untagged IPv4 frame carrying IGMP (Linux checks `skb->protocol` and `iph->protocol`,
/// after making sure a whole IPv4 header is there).
#[inline]
fn is_igmp(frame: &[u8]) -> bool {
    const IPPROTO_IGMP: u8 = 2;
    // The protocol byte first: it is almost never IGMP, so one test settles most frames.
    frame.get(23) == Some(&IPPROTO_IGMP)
        && frame.len() >= 34
        && frame[12] == 0x08
        && frame[13] == 0x00
}
