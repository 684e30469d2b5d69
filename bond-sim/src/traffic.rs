//! Application traffic: constant-rate UDP flows between hosts, and what the receivers saw of
//! them (loss, duplicates, reordering, outages).

use bond_core::{Duration, Instant};

use crate::link::NodeId;

/// A flow of the simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FlowId(pub usize);

/// A constant-rate UDP flow: one frame every `interval` from `start` until `stop`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowSpec {
    /// Sending host.
    pub from: NodeId,
    /// Receiving host.
    pub to: NodeId,
    /// UDP source port.
    pub src_port: u16,
    /// UDP destination port.
    pub dst_port: u16,
    /// Time between two frames.
    pub interval: Duration,
    /// First frame.
    pub start: Instant,
    /// No frame at or after this instant (`None`: never stop).
    pub stop: Option<Instant>,
    /// UDP payload bytes (at least the 24-byte application header).
    pub payload_len: usize,
}

impl FlowSpec {
    /// A flow of one 100-byte datagram per millisecond from `from` to `to`, starting at 10 ms
    /// (after the hosts have announced themselves).
    pub fn new(from: NodeId, to: NodeId, src_port: u16, dst_port: u16) -> Self {
        Self {
            from,
            to,
            src_port,
            dst_port,
            interval: Duration::from_millis(1),
            start: Instant::from_millis(10),
            stop: None,
            payload_len: 100,
        }
    }
}

/// One frame as the sender saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    /// When the application sent it.
    pub at: Instant,
    /// NICs the sender's bond chose (bit `i` = NIC `i`; 0 = dropped by the bond; a plain host
    /// reports 1 when its NIC had carrier).
    pub nics: u32,
    /// The sender's membership epoch at that moment (0 for plain hosts).
    pub epoch: u64,
}

/// One frame as the receiver saw it (first copy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Received {
    /// When it was delivered to the application.
    pub at: Instant,
    /// The NIC it came in on.
    pub nic: usize,
}

/// Everything known about one flow.
#[derive(Debug, Clone)]
pub struct FlowRecord {
    /// What it is.
    pub spec: FlowSpec,
    /// Per sequence number, as sent.
    pub sent: Vec<Sent>,
    /// Per sequence number, first delivery (`None`: not delivered, yet or ever).
    pub received: Vec<Option<Received>>,
    /// Copies delivered after the first one.
    pub duplicates: u64,
    /// Frames delivered after a frame with a higher sequence number.
    pub reordered: u64,
    max_seq: Option<u64>,
    pub(crate) next_send: Option<Instant>,
}

impl FlowRecord {
    pub(crate) fn new(spec: FlowSpec) -> Self {
        Self {
            spec,
            sent: Vec::new(),
            received: Vec::new(),
            duplicates: 0,
            reordered: 0,
            max_seq: None,
            next_send: Some(spec.start),
        }
    }

    /// The next sequence number and send time, advancing the schedule.
    pub(crate) fn take_due(&mut self, now: Instant) -> Option<u64> {
        let t = self.next_send.filter(|t| *t <= now)?;
        let next = t + self.spec.interval;
        self.next_send = match self.spec.stop {
            Some(stop) if next >= stop => None,
            _ if self.spec.interval.is_zero() => None,
            _ => Some(next),
        };
        Some(self.sent.len() as u64)
    }

    pub(crate) fn record_sent(&mut self, sent: Sent) {
        self.sent.push(sent);
        self.received.push(None);
    }

    pub(crate) fn record_received(&mut self, seq: u64, at: Instant, nic: usize) {
        let Some(slot) = self.received.get_mut(seq as usize) else {
            return;
        };
        if slot.is_some() {
            self.duplicates += 1;
            return;
        }
        *slot = Some(Received { at, nic });
        if self.max_seq.is_some_and(|m| seq < m) {
            self.reordered += 1;
        }
        self.max_seq = Some(self.max_seq.map_or(seq, |m| m.max(seq)));
    }

    /// Frames sent.
    pub fn sent_count(&self) -> u64 {
        self.sent.len() as u64
    }

    /// Distinct frames delivered.
    pub fn delivered_count(&self) -> u64 {
        self.received.iter().filter(|r| r.is_some()).count() as u64
    }

    /// Frames sent before `before` that were never delivered.
    pub fn lost_before(&self, before: Instant) -> u64 {
        self.sent
            .iter()
            .zip(&self.received)
            .filter(|(s, r)| s.at < before && r.is_none())
            .count() as u64
    }
}

/// A run of lost frames in one direction, and how long the receiver went without traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outage {
    /// When the first lost frame was sent.
    pub first_lost_sent: Instant,
    /// How many frames in a row (across the direction's flows, in send order) were lost.
    pub lost: u64,
    /// When the first frame sent after them was delivered (`None`: nothing delivered since).
    pub resumed: Option<Instant>,
}

impl Outage {
    /// First lost frame sent → first later frame delivered (`None` while still out).
    pub fn duration(&self) -> Option<Duration> {
        self.resumed.map(|r| r - self.first_lost_sent)
    }
}

/// The outages of a set of flows taken together (frames merged in send order, ties by flow).
/// Frames sent at or after `settled` are ignored: they may still be in flight.
pub fn outages<'a>(
    flows: impl IntoIterator<Item = &'a FlowRecord>,
    settled: Instant,
) -> Vec<Outage> {
    let mut frames: Vec<(Instant, usize, Option<Instant>)> = Vec::new();
    for (i, f) in flows.into_iter().enumerate() {
        for (s, r) in f.sent.iter().zip(&f.received) {
            if s.at < settled {
                frames.push((s.at, i, r.map(|r| r.at)));
            }
        }
    }
    frames.sort_by_key(|&(at, i, _)| (at, i));
    let mut out = Vec::new();
    let mut current: Option<Outage> = None;
    for (sent, _, delivered) in frames {
        match (delivered, current.as_mut()) {
            (None, Some(o)) => o.lost += 1,
            (None, None) => {
                current = Some(Outage {
                    first_lost_sent: sent,
                    lost: 1,
                    resumed: None,
                })
            }
            (Some(at), Some(o)) => {
                o.resumed = Some(at);
                out.extend(current.take());
            }
            (Some(_), None) => {}
        }
    }
    out.extend(current);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(pattern: &[bool]) -> FlowRecord {
        let mut f = FlowRecord::new(FlowSpec::new(NodeId(0), NodeId(1), 1, 2));
        for (i, ok) in pattern.iter().enumerate() {
            let at = Instant::from_millis(i as u64);
            f.record_sent(Sent {
                at,
                nics: 1,
                epoch: 0,
            });
            if *ok {
                f.record_received(i as u64, at + Duration::from_micros(100), 0);
            }
        }
        f
    }

    #[test]
    fn schedule_stops() {
        let mut spec = FlowSpec::new(NodeId(0), NodeId(1), 1, 2);
        spec.stop = Some(Instant::from_millis(12));
        let mut f = FlowRecord::new(spec);
        assert_eq!(f.take_due(Instant::from_millis(9)), None);
        assert_eq!(f.take_due(Instant::from_millis(10)), Some(0));
        f.record_sent(Sent {
            at: Instant::from_millis(10),
            nics: 1,
            epoch: 0,
        });
        assert_eq!(f.take_due(Instant::from_millis(11)), Some(1));
        f.record_sent(Sent {
            at: Instant::from_millis(11),
            nics: 1,
            epoch: 0,
        });
        assert_eq!(f.take_due(Instant::from_millis(12)), None);
    }

    #[test]
    fn duplicates_and_reordering() {
        let mut f = record(&[false, false, false]);
        f.record_received(2, Instant::from_millis(5), 0);
        f.record_received(0, Instant::from_millis(6), 1);
        f.record_received(0, Instant::from_millis(7), 0);
        assert_eq!((f.duplicates, f.reordered, f.delivered_count()), (1, 1, 2));
        assert_eq!(f.lost_before(Instant::from_millis(100)), 1);
    }

    #[test]
    fn outage_runs() {
        let f = record(&[true, false, false, true, true, false]);
        let o = outages([&f], Instant::from_millis(100));
        assert_eq!(o.len(), 2);
        assert_eq!(o[0].first_lost_sent, Instant::from_millis(1));
        assert_eq!(o[0].lost, 2);
        assert_eq!(o[0].duration(), Some(Duration::from_micros(2_100)));
        assert_eq!(o[1].resumed, None);
        // The trailing frame is excluded while it may be in flight.
        assert_eq!(outages([&f], Instant::from_millis(5)).len(), 1);
    }
}
