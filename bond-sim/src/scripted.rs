//! Scripted nodes: link partners that do what a test tells them rather than what a protocol
//! says, for the hostile cases of DESIGN.md §7 (a partner that echoes our LACPDUs, a flood of
//! malformed PDUs). A [`ScriptedNode`] owns the ports and their carrier; its [`Script`] decides
//! what to send on a received frame and on its own timer.

use std::any::Any;
use std::fmt;

use bond_core::wire::lacp::{emit_lacpdu_frame, LacpduPacket, LacpduRepr, PortInfo, PortState};
use bond_core::wire::marker::{emit_marker_frame, MarkerKind, MarkerRepr};
use bond_core::wire::slow::{classify, SlowFrame, SLOW_PROTOCOLS_MAC};
use bond_core::{Duration, EthernetAddress, Instant};

use crate::node::Ctx;
use crate::rng::Rng;

/// Frames a script wants sent: (local port, frame).
pub type Out = Vec<(usize, Vec<u8>)>;

/// What a scripted node does. `Any` lets a test get its script back with its own counters
/// ([`ScriptedNode::script`]).
pub trait Script: fmt::Debug + Any {
    /// A frame arrived on `port`; push what to send into `out`.
    fn on_frame(&mut self, now: Instant, port: usize, frame: &[u8], out: &mut Out);
    /// When the script next wants [`Script::on_wake`] (`None`: never).
    fn next_wake(&self) -> Option<Instant>;
    /// The script's timer is due; push what to send into `out`.
    fn on_wake(&mut self, now: Instant, out: &mut Out);
}

/// Frame counters of a scripted node.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScriptedStats {
    /// Frames received.
    pub rx: u64,
    /// Frames put on a link.
    pub tx: u64,
    /// Frames the script wanted to send on a port without carrier.
    pub tx_no_carrier: u64,
}

/// A node whose behaviour is a [`Script`].
#[derive(Debug)]
pub struct ScriptedNode {
    name: String,
    carrier: Vec<bool>,
    script: Box<dyn Script>,
    stats: ScriptedStats,
}

impl ScriptedNode {
    pub(crate) fn new(name: &str, ports: usize, script: Box<dyn Script>) -> Self {
        Self {
            name: name.to_owned(),
            carrier: vec![false; ports],
            script,
            stats: ScriptedStats::default(),
        }
    }

    /// Node name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Counters.
    pub fn stats(&self) -> &ScriptedStats {
        &self.stats
    }

    /// The script, if it is a `T`.
    pub fn script<T: Script>(&self) -> Option<&T> {
        let any: &dyn Any = self.script.as_ref();
        any.downcast_ref()
    }

    pub(crate) fn set_carrier(&mut self, port: usize, up: bool) {
        self.carrier[port] = up;
    }

    pub(crate) fn next_wake(&self) -> Option<Instant> {
        self.script.next_wake()
    }

    pub(crate) fn receive(&mut self, ctx: &mut Ctx, port: usize, frame: &[u8]) {
        self.stats.rx += 1;
        let mut out = Out::new();
        self.script.on_frame(ctx.now, port, frame, &mut out);
        self.send(ctx, out);
    }

    /// Run the script's timer if due. Returns whether it ran.
    pub(crate) fn wake(&mut self, ctx: &mut Ctx) -> bool {
        if self.script.next_wake().is_none_or(|t| t > ctx.now) {
            return false;
        }
        let mut out = Out::new();
        self.script.on_wake(ctx.now, &mut out);
        self.send(ctx, out);
        true
    }

    fn send(&mut self, ctx: &mut Ctx, out: Out) {
        for (port, frame) in out {
            if self.carrier.get(port).copied().unwrap_or(false) {
                self.stats.tx += 1;
                ctx.out.push((port, frame));
            } else {
                self.stats.tx_no_carrier += 1;
            }
        }
    }
}

/// Sends every LACPDU it receives straight back, byte for byte, on the port it came in on (a
/// loop-back plug, a misconfigured media converter, a partner that reflects).
#[derive(Debug, Default)]
pub struct Echo {
    /// LACPDUs reflected.
    pub echoed: u64,
}

impl Script for Echo {
    fn on_frame(&mut self, _now: Instant, port: usize, frame: &[u8], out: &mut Out) {
        if matches!(classify(frame), SlowFrame::Lacpdu { .. }) {
            self.echoed += 1;
            out.push((port, frame.to_vec()));
        }
    }

    fn next_wake(&self) -> Option<Instant> {
        None
    }

    fn on_wake(&mut self, _now: Instant, _out: &mut Out) {}
}

/// The kinds of bad frames a [`Flood`] sends, in turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Junk {
    /// Random bytes, random length (0 to 200): mostly not even Slow Protocols.
    RandomBytes,
    /// A Slow Protocols header and a random body shorter than 110 octets.
    ShortSlow,
    /// A Slow Protocols header, a random body of 110 to 200 octets, subtype neither 1 nor 2.
    LongSlowUnknown,
    /// A well-formed LACPDU cut anywhere before its 110th octet.
    Truncated,
    /// A well-formed LACPDU with subtype 0, 3, 10 or 0xff.
    WrongSubtype,
    /// An LACPDU whose TLV lengths are wrong (Linux accepts it: it does not check them).
    BadTlvLengths,
    /// An LACPDU that knows nothing about us: all-zero partner information.
    ZeroPartner,
    /// A Marker PDU with TLV type 7.
    MarkerUnknownTlv,
    /// A Marker Response nobody asked for (must never be answered).
    MarkerResponse,
}

impl Junk {
    /// Every kind, in the order a [`Flood`] sends them.
    pub const ALL: [Self; 9] = [
        Self::RandomBytes,
        Self::ShortSlow,
        Self::LongSlowUnknown,
        Self::Truncated,
        Self::WrongSubtype,
        Self::BadTlvLengths,
        Self::ZeroPartner,
        Self::MarkerUnknownTlv,
        Self::MarkerResponse,
    ];
}

/// Floods port 0 with malformed and hostile Slow Protocols frames, one every `interval` from
/// `start` until `stop`, cycling through [`Junk::ALL`]. Random content is seeded. It never
/// answers anything.
#[derive(Debug)]
pub struct Flood {
    interval: Duration,
    next: Option<Instant>,
    stop: Option<Instant>,
    rng: Rng,
    turn: usize,
    /// Frames sent, per kind (indexed like [`Junk::ALL`]).
    pub sent: [u64; Junk::ALL.len()],
}

/// The flooder's own MAC and LACP system.
const FLOOD_MAC: EthernetAddress = EthernetAddress([0x02, 0xf1, 0x00, 0xd0, 0x00, 0x01]);

impl Flood {
    /// One frame every `interval` from `start` until `stop` (`None`: forever).
    pub fn new(start: Instant, interval: Duration, stop: Option<Instant>, seed: u64) -> Self {
        Self {
            interval,
            next: Some(start),
            stop,
            rng: Rng::new(seed),
            turn: 0,
            sent: [0; Junk::ALL.len()],
        }
    }

    /// Frames of kind `kind` sent so far.
    pub fn sent_of(&self, kind: Junk) -> u64 {
        Junk::ALL
            .iter()
            .position(|k| *k == kind)
            .map_or(0, |i| self.sent[i])
    }

    /// Frames sent so far.
    pub fn total(&self) -> u64 {
        self.sent.iter().sum()
    }

    fn random_bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.rng.next_u64() as u8).collect()
    }

    fn below(&mut self, n: u64) -> u64 {
        self.rng.next_u64() % n
    }

    /// A Slow Protocols header (to 01:80:c2:00:00:02, EtherType 0x8809) and `body`.
    fn slow(body: &[u8]) -> Vec<u8> {
        let mut f = Vec::with_capacity(14 + body.len());
        f.extend_from_slice(&SLOW_PROTOCOLS_MAC.0);
        f.extend_from_slice(&FLOOD_MAC.0);
        f.extend_from_slice(&[0x88, 0x09]);
        f.extend_from_slice(body);
        f
    }

    /// A well-formed LACPDU frame from the flooder with random state bits, about `partner`.
    fn lacpdu(&mut self, partner: PortInfo) -> Vec<u8> {
        let repr = LacpduRepr {
            version: 1,
            actor: PortInfo {
                system_priority: 32768,
                system: FLOOD_MAC,
                key: self.below(4) as u16 + 1,
                port_priority: 32768,
                port: 1,
                state: PortState(self.rng.next_u64() as u8),
            },
            partner,
            collector_max_delay: 0,
        };
        let mut buf = vec![0u8; 14 + repr.buffer_len()];
        let n = emit_lacpdu_frame(&mut buf, FLOOD_MAC, &repr);
        buf.truncate(n);
        buf
    }

    fn zero_partner() -> PortInfo {
        PortInfo {
            system_priority: 0,
            system: EthernetAddress::ZERO,
            key: 0,
            port_priority: 0,
            port: 0,
            state: PortState(0),
        }
    }

    fn marker(kind: MarkerKind) -> Vec<u8> {
        let repr = MarkerRepr {
            kind,
            requester_port: 1,
            requester_system: FLOOD_MAC,
            transaction_id: 0x0bad_cafe,
        };
        let mut buf = vec![0u8; 128];
        let n = emit_marker_frame(&mut buf, FLOOD_MAC, &repr);
        buf.truncate(n);
        buf
    }

    fn build(&mut self, kind: Junk) -> Vec<u8> {
        match kind {
            Junk::RandomBytes => {
                let n = self.below(201) as usize;
                self.random_bytes(n)
            }
            Junk::ShortSlow => {
                let n = self.below(110) as usize;
                Self::slow(&self.random_bytes(n))
            }
            Junk::LongSlowUnknown => {
                let n = 110 + self.below(91) as usize;
                let mut body = self.random_bytes(n);
                body[0] = 3 + self.below(253) as u8;
                Self::slow(&body)
            }
            Junk::Truncated => {
                let f = self.lacpdu(Self::zero_partner());
                let n = 14 + self.below(110) as usize;
                f[..n].to_vec()
            }
            Junk::WrongSubtype => {
                let mut f = self.lacpdu(Self::zero_partner());
                f[14] = [0x00, 0x03, 0x0a, 0xff][self.below(4) as usize];
                f
            }
            Junk::BadTlvLengths => {
                let mut f = self.lacpdu(Self::zero_partner());
                let mut p = LacpduPacket::new_unchecked(&mut f[14..]);
                p.set_actor_info_len(self.below(256) as u8);
                p.set_partner_info_len(0);
                p.set_collector_info_len(0xff);
                f
            }
            Junk::ZeroPartner => self.lacpdu(Self::zero_partner()),
            Junk::MarkerUnknownTlv => {
                let mut f = Self::marker(MarkerKind::Information);
                f[16] = 7;
                f
            }
            Junk::MarkerResponse => Self::marker(MarkerKind::Response),
        }
    }
}

impl Script for Flood {
    fn on_frame(&mut self, _now: Instant, _port: usize, _frame: &[u8], _out: &mut Out) {}

    fn next_wake(&self) -> Option<Instant> {
        self.next
    }

    fn on_wake(&mut self, now: Instant, out: &mut Out) {
        let Some(due) = self.next.filter(|t| *t <= now) else {
            return;
        };
        let i = self.turn % Junk::ALL.len();
        self.turn += 1;
        let frame = self.build(Junk::ALL[i]);
        self.sent[i] += 1;
        out.push((0, frame));
        let next = due + self.interval;
        self.next = match self.stop {
            Some(stop) if next >= stop => None,
            _ if self.interval.is_zero() => None,
            _ => Some(next),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flood_kinds_decode_as_intended() {
        let mut f = Flood::new(Instant::ZERO, Duration::from_millis(1), None, 7);
        for _ in 0..20 {
            for kind in Junk::ALL {
                let frame = f.build(kind);
                let c = classify(&frame);
                let ok = match kind {
                    Junk::RandomBytes => true,
                    Junk::ShortSlow | Junk::Truncated => c == SlowFrame::Illegal,
                    Junk::LongSlowUnknown | Junk::WrongSubtype => {
                        matches!(c, SlowFrame::Unknown { .. })
                    }
                    Junk::BadTlvLengths => matches!(
                        c,
                        SlowFrame::Lacpdu { pdu, .. } if !pdu.tlv_headers_valid()
                    ),
                    Junk::ZeroPartner => matches!(c, SlowFrame::Lacpdu { .. }),
                    Junk::MarkerUnknownTlv => c == SlowFrame::MarkerUnknown,
                    Junk::MarkerResponse => matches!(
                        c,
                        SlowFrame::Marker(MarkerRepr {
                            kind: MarkerKind::Response,
                            ..
                        })
                    ),
                };
                assert!(ok, "{kind:?} decodes as {c:?}");
            }
        }
    }

    #[test]
    fn flood_keeps_its_schedule_and_stops() {
        let mut f = Flood::new(
            Instant::from_millis(10),
            Duration::from_millis(2),
            Some(Instant::from_millis(20)),
            1,
        );
        let mut out = Out::new();
        f.on_wake(Instant::from_millis(9), &mut out);
        assert!(out.is_empty());
        while let Some(t) = f.next_wake() {
            f.on_wake(t, &mut out);
        }
        assert_eq!(out.len(), 5);
        assert_eq!(f.total(), 5);
    }
}
