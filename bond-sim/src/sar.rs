//! Per-interface counters sampled at a fixed interval and printed like `sar -n DEV`:
//! `IFACE rxpck/s txpck/s rxkB/s txkB/s`, one block per interval and an `Average:` block
//! (kB = 1024 bytes, as sysstat counts). A bond's row is the sum of its member NICs, as Linux's
//! `bond0` counters are.

use std::fmt::Write as _;

use bond_core::{Duration, Instant};

use crate::host::IfCounters;
use crate::link::NodeId;

/// Which counters a `sar` row reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SarSource {
    /// NIC `usize` of a host.
    Nic(NodeId, usize),
    /// The sum of a bonded host's NICs (`bond0`).
    Bond(NodeId),
}

/// One row of the table: rates over one interval.
#[derive(Debug, Clone, PartialEq)]
pub struct SarRow {
    /// End of the interval.
    pub end: Instant,
    /// Interface label.
    pub iface: String,
    /// Received frames per second.
    pub rxpck: f64,
    /// Sent frames per second.
    pub txpck: f64,
    /// Received kB (1024 bytes) per second.
    pub rxkb: f64,
    /// Sent kB per second.
    pub txkb: f64,
}

/// Samples of the watched interfaces.
#[derive(Debug, Clone)]
pub struct Sar {
    interval: Duration,
    next: Option<Instant>,
    ifaces: Vec<(String, SarSource)>,
    samples: Vec<(Instant, Vec<IfCounters>)>,
}

impl Sar {
    pub(crate) fn new(interval: Duration) -> Self {
        Self {
            interval,
            next: None,
            ifaces: Vec::new(),
            samples: Vec::new(),
        }
    }

    pub(crate) fn watch(&mut self, label: String, source: SarSource) {
        self.ifaces.push((label, source));
    }

    pub(crate) fn sources(&self) -> impl Iterator<Item = SarSource> + '_ {
        self.ifaces.iter().map(|(_, s)| *s)
    }

    /// When the next sample is due.
    pub(crate) fn next_due(&self) -> Option<Instant> {
        self.next
    }

    pub(crate) fn record(&mut self, at: Instant, counters: Vec<IfCounters>) {
        self.samples.push((at, counters));
        self.next = (!self.interval.is_zero()).then_some(at + self.interval);
    }

    /// Sampling interval.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Rows of every complete interval, oldest first.
    pub fn rows(&self) -> Vec<SarRow> {
        self.samples
            .windows(2)
            .flat_map(|w| self.rates(&w[0], &w[1]))
            .collect()
    }

    /// Rows averaged over all complete intervals (`Average:`), or `None` before the first one.
    pub fn average(&self) -> Option<Vec<SarRow>> {
        let (first, last) = (self.samples.first()?, self.samples.last()?);
        (self.samples.len() >= 2).then(|| self.rates(first, last))
    }

    /// The average row of interface `label`.
    pub fn average_of(&self, label: &str) -> Option<SarRow> {
        self.average()?.into_iter().find(|r| r.iface == label)
    }

    fn rates(&self, a: &(Instant, Vec<IfCounters>), b: &(Instant, Vec<IfCounters>)) -> Vec<SarRow> {
        let secs = (b.0 - a.0).total_micros() as f64 / 1e6;
        let per_s = |x: u64, y: u64| {
            if secs > 0.0 {
                (y - x) as f64 / secs
            } else {
                0.0
            }
        };
        self.ifaces
            .iter()
            .zip(a.1.iter().zip(&b.1))
            .map(|((label, _), (x, y))| SarRow {
                end: b.0,
                iface: label.clone(),
                rxpck: per_s(x.rx_packets, y.rx_packets),
                txpck: per_s(x.tx_packets, y.tx_packets),
                rxkb: per_s(x.rx_bytes, y.rx_bytes) / 1024.0,
                txkb: per_s(x.tx_bytes, y.tx_bytes) / 1024.0,
            })
            .collect()
    }

    /// The whole report: one block per interval, then `Average:`.
    pub fn table(&self) -> String {
        let mut s = String::new();
        let mut rows = self.rows().into_iter().peekable();
        while let Some(first) = rows.peek().cloned() {
            let _ = writeln!(s, "{}", header(&format!("{}", Stamp(first.end))));
            while let Some(r) = rows.next_if(|r| r.end == first.end) {
                let _ = writeln!(s, "{}", line(&format!("{}", Stamp(r.end)), &r));
            }
            s.push('\n');
        }
        if let Some(avg) = self.average() {
            let _ = writeln!(s, "{}", header("Average:"));
            for r in &avg {
                let _ = writeln!(s, "{}", line("Average:", r));
            }
        }
        s
    }
}

/// A virtual time printed like sar's clock column.
struct Stamp(Instant);

impl std::fmt::Display for Stamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = self.0.total_millis();
        write!(f, "t={}.{:03}s", ms / 1000, ms % 1000)
    }
}

fn header(stamp: &str) -> String {
    format!(
        "{stamp:<11} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "IFACE", "rxpck/s", "txpck/s", "rxkB/s", "txkB/s"
    )
}

fn line(stamp: &str, r: &SarRow) -> String {
    format!(
        "{stamp:<11} {:>9} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
        r.iface, r.rxpck, r.txpck, r.rxkb, r.txkb
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(rx: u64, tx: u64) -> IfCounters {
        IfCounters {
            rx_packets: rx,
            tx_packets: tx,
            rx_bytes: rx * 1024,
            tx_bytes: tx * 512,
        }
    }

    #[test]
    fn rates_and_table() {
        let mut s = Sar::new(Duration::from_secs(1));
        s.watch("bond0".into(), SarSource::Bond(NodeId(0)));
        s.watch("eth0".into(), SarSource::Nic(NodeId(0), 0));
        s.record(Instant::ZERO, vec![c(0, 0), c(0, 0)]);
        assert_eq!(s.next_due(), Some(Instant::from_millis(1000)));
        s.record(Instant::from_millis(1000), vec![c(4, 2), c(4, 1)]);
        s.record(Instant::from_millis(2000), vec![c(8, 4), c(8, 2)]);
        let rows = s.rows();
        assert_eq!(rows.len(), 4);
        assert_eq!(
            (rows[0].rxpck, rows[0].txpck, rows[0].rxkb, rows[0].txkb),
            (4.0, 2.0, 4.0, 1.0)
        );
        assert_eq!(s.average_of("eth0").map(|r| r.txpck), Some(1.0));
        let t = s.table();
        assert!(
            t.contains("t=1.000s        bond0      4.00      2.00      4.00      1.00"),
            "{t}"
        );
        assert!(
            t.contains("Average:         eth0      4.00      1.00      4.00      0.50"),
            "{t}"
        );
    }
}
