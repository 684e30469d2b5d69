//! Per-frame data-path benchmarks: `Bond::select_tx` and `Bond::handle_rx`, each beside the
//! cost of copying the same frames in the same run (DESIGN.md §6).
//!
//! Two parts run in one binary:
//! 1. criterion groups (`copy`, `select_tx-2p`, `select_tx-32p`, `handle_rx`), each iteration
//!    going once over a fixed set of [`FRAMES`] well-formed Ethernet/IPv4/UDP frames of 64 or
//!    1500 bytes (criterion's throughput is in frames);
//! 2. a self-timed table that interleaves the 64-byte copy baseline with each candidate, batch
//!    by batch, and prints the median ns/frame, the median of the per-batch ratios and the
//!    verdict against the targets. A missed target is reported, never turned into a failure.
//!
//! `cargo bench -p bond-core --bench datapath` runs both. Under `cargo test --all-targets`
//! (no `--bench` flag) criterion runs each routine once and the table is only exercised, with a
//! handful of iterations, and not printed. Environment knobs: `DATAPATH_TABLE_ONLY=1` skips the
//! criterion groups, `DATAPATH_NO_TABLE=1` skips the table.

use std::hint::black_box;
use std::time::{Duration as StdDuration, Instant as StdInstant};

use bond_core::bond::MIN_TRANSMIT_BUF;
use bond_core::{
    Bond, Config, EthernetAddress, Instant, LinkSample, Mode, PortConfig, PortId, RxVerdict,
    TxVerdict, XmitHashPolicy,
};
use criterion::{BenchmarkId, Criterion, Throughput};

/// Frames in the set every routine walks (distinct addresses and ports).
const FRAMES: usize = 8;
/// The frame sizes measured (whole Ethernet frame, no FCS).
const SIZES: [usize; 2] = [64, 1500];

// ---- frames -------------------------------------------------------------------------------------

/// The Internet checksum of `data` (RFC 1071), with `init` already summed in.
fn inet_checksum(data: &[u8], init: u32) -> u16 {
    let mut sum = init;
    for pair in data.chunks(2) {
        let hi = u32::from(pair[0]) << 8;
        let lo = pair.get(1).map_or(0, |&b| u32::from(b));
        sum += hi | lo;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// A well-formed Ethernet/IPv4/UDP frame of `len` bytes, number `i` of the set: MACs, addresses
/// and ports all differ from frame to frame; both checksums are valid.
fn udp_frame(len: usize, i: usize) -> Vec<u8> {
    const DPORTS: [u16; FRAMES] = [53, 80, 123, 443, 4789, 5353, 8080, 51820];
    assert!(len >= 14 + 20 + 8);
    let n = i as u8;
    let mut f = vec![0u8; len];
    f[0..6].copy_from_slice(&[0x02, 0x00, 0x5e, 0x10, 0x00, 0x10 + 3 * n]);
    f[6..12].copy_from_slice(&[0x02, 0x42, 0xac, 0x11, n, 0x20 + 5 * n]);
    f[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
    let ip_len = (len - 14) as u16;
    let src = [10, 0, n, 1 + 7 * n];
    let dst = [192, 168, 100 + n, 200 - 9 * n];
    {
        let ip = &mut f[14..34];
        ip[0] = 0x45;
        ip[2..4].copy_from_slice(&ip_len.to_be_bytes());
        ip[4..6].copy_from_slice(&(0x1000 + u16::from(n)).to_be_bytes());
        ip[6..8].copy_from_slice(&0x4000u16.to_be_bytes()); // DF, not a fragment
        ip[8] = 64;
        ip[9] = 17;
        ip[12..16].copy_from_slice(&src);
        ip[16..20].copy_from_slice(&dst);
        let csum = inet_checksum(ip, 0);
        ip[10..12].copy_from_slice(&csum.to_be_bytes());
    }
    let udp_len = ip_len - 20;
    let sport = 49152 + 1031 * u16::from(n);
    f[34..36].copy_from_slice(&sport.to_be_bytes());
    f[36..38].copy_from_slice(&DPORTS[i].to_be_bytes());
    f[38..40].copy_from_slice(&udp_len.to_be_bytes());
    for (k, b) in f[42..].iter_mut().enumerate() {
        *b = (k as u8).wrapping_mul(31).wrapping_add(n);
    }
    let pseudo: u32 = [src, dst]
        .iter()
        .flat_map(|a| {
            [
                u32::from(a[0]) << 8 | u32::from(a[1]),
                u32::from(a[2]) << 8 | u32::from(a[3]),
            ]
        })
        .sum::<u32>()
        + 17
        + u32::from(udp_len);
    let csum = match inet_checksum(&f[34..], pseudo) {
        0 => 0xffff,
        c => c,
    };
    f[40..42].copy_from_slice(&csum.to_be_bytes());
    f
}

/// The frame set of one size.
fn frame_set(len: usize) -> Vec<Vec<u8>> {
    (0..FRAMES).map(|i| udp_frame(len, i)).collect()
}

// ---- bonds --------------------------------------------------------------------------------------

/// A transmit configuration under test.
#[derive(Clone, Copy)]
struct TxCase {
    mode: Mode,
    policy: XmitHashPolicy,
}

impl TxCase {
    fn name(self) -> String {
        match self.mode {
            Mode::Xor => format!("balance-xor:{}", self.policy.name()),
            m => m.name().to_owned(),
        }
    }
}

/// Every mode `select_tx` serves, balance-xor with every hash policy.
fn tx_cases() -> Vec<TxCase> {
    let plain = [Mode::RoundRobin, Mode::ActiveBackup, Mode::Broadcast]
        .into_iter()
        .map(|mode| TxCase {
            mode,
            policy: XmitHashPolicy::Layer2,
        });
    let xor = [
        XmitHashPolicy::Layer2,
        XmitHashPolicy::Layer23,
        XmitHashPolicy::Layer34,
        XmitHashPolicy::Encap23,
        XmitHashPolicy::Encap34,
        XmitHashPolicy::VlanSrcMac,
    ]
    .into_iter()
    .map(|policy| TxCase {
        mode: Mode::Xor,
        policy,
    });
    plain.chain(xor).collect()
}

/// Drain everything the bond wants to tell the adapter, as an adapter would after a command.
fn drain<const N: usize>(b: &mut Bond<N>) {
    let mut buf = [0u8; MIN_TRANSMIT_BUF];
    while b.poll_action().is_some() {}
    while b.poll_transmit(Instant::ZERO, &mut buf).is_some() {}
    while b.poll_event().is_some() {}
}

/// A bond of `N` ports, all up at 1 Gb/s full duplex, with miimon 100.
fn bond<const N: usize>(case: TxCase) -> (Bond<N>, Vec<PortId>) {
    let mut c = Config::default();
    c.mode = case.mode;
    c.miimon = 100;
    c.xmit_hash_policy = case.policy;
    let mut b = Bond::<N>::new(Instant::ZERO, c, None, 1).expect("supported mode");
    let ids = (0..N)
        .map(|i| {
            let mac = EthernetAddress([0x02, 0, 0, 0, 0x01, i as u8 + 1]);
            let name = format!("eth{i}");
            let cfg = PortConfig::new(&name, mac, LinkSample::up_full(1000)).expect("valid name");
            b.add_port(Instant::ZERO, &cfg).expect("room for the port")
        })
        .collect();
    drain(&mut b);
    (b, ids)
}

/// A bond of `N` ports for `case`, checked to send every frame of `frames`.
fn tx_bond<const N: usize>(case: TxCase, frames: &[Vec<u8>]) -> Bond<N> {
    let (mut b, _) = bond::<N>(case);
    for f in frames {
        let v = b.select_tx(Instant::ZERO, f);
        assert!(
            matches!(v, TxVerdict::Port(_) | TxVerdict::Ports(_)),
            "{}: {v:?}",
            case.name()
        );
    }
    b
}

/// An active-backup bond of two ports: (bond, active port, backup port).
fn rx_bond(frames: &[Vec<u8>]) -> (Bond<2>, PortId, PortId) {
    let case = TxCase {
        mode: Mode::ActiveBackup,
        policy: XmitHashPolicy::Layer2,
    };
    let (mut b, ids) = bond::<2>(case);
    let active = b.active_port().expect("an active port");
    let backup = *ids.iter().find(|&&p| p != active).expect("a backup port");
    for f in frames {
        assert_eq!(b.handle_rx(Instant::ZERO, active, f), RxVerdict::Deliver);
        assert!(matches!(
            b.handle_rx(Instant::ZERO, backup, f),
            RxVerdict::Drop(_)
        ));
    }
    (b, active, backup)
}

// ---- the routines (shared by criterion and the table) -------------------------------------------

/// The baseline: copy each frame into a buffer, as an adapter does at least once per frame.
#[inline(always)]
fn copy_all(frames: &[Vec<u8>], dst: &mut [u8]) {
    for f in frames {
        let src: &[u8] = black_box(f);
        dst[..src.len()].copy_from_slice(src);
        black_box(&mut *dst);
    }
}

#[inline(always)]
fn select_all<const N: usize>(b: &mut Bond<N>, frames: &[Vec<u8>]) {
    for f in frames {
        black_box(b.select_tx(Instant::ZERO, black_box(f)));
    }
}

#[inline(always)]
fn rx_all<const N: usize>(b: &mut Bond<N>, port: PortId, frames: &[Vec<u8>]) {
    for f in frames {
        black_box(b.handle_rx(Instant::ZERO, black_box(port), black_box(f)));
    }
}

// ---- criterion ----------------------------------------------------------------------------------

fn criterion_copy(c: &mut Criterion) {
    let mut g = c.benchmark_group("copy");
    g.throughput(Throughput::Elements(FRAMES as u64));
    let mut dst = vec![0u8; 2048];
    for len in SIZES {
        let frames = frame_set(len);
        g.bench_function(BenchmarkId::new("copy_from_slice", len), |bch| {
            bch.iter(|| copy_all(&frames, &mut dst));
        });
    }
    g.finish();
}

fn criterion_select_tx<const N: usize>(c: &mut Criterion) {
    let mut g = c.benchmark_group(format!("select_tx-{N}p"));
    g.throughput(Throughput::Elements(FRAMES as u64));
    for len in SIZES {
        let frames = frame_set(len);
        for case in tx_cases() {
            let mut b = tx_bond::<N>(case, &frames);
            g.bench_function(BenchmarkId::new(case.name(), len), |bch| {
                bch.iter(|| select_all(&mut b, &frames));
            });
        }
    }
    g.finish();
}

fn criterion_handle_rx(c: &mut Criterion) {
    let mut g = c.benchmark_group("handle_rx");
    g.throughput(Throughput::Elements(FRAMES as u64));
    for len in SIZES {
        let frames = frame_set(len);
        let (mut b, active, backup) = rx_bond(&frames);
        g.bench_function(BenchmarkId::new("active-backup:active", len), |bch| {
            bch.iter(|| rx_all(&mut b, active, &frames));
        });
        g.bench_function(BenchmarkId::new("active-backup:backup", len), |bch| {
            bch.iter(|| rx_all(&mut b, backup, &frames));
        });
    }
    g.finish();
}

// ---- the self-timed table -----------------------------------------------------------------------

/// How hard the table measures.
#[derive(Clone, Copy)]
struct Effort {
    /// Batches per routine; the median is reported.
    batches: usize,
    /// Passes over the frame set per batch.
    rounds: u64,
}

/// A routine under the table's clock: runs `rounds` passes over its frame set.
type Routine<'a> = Box<dyn FnMut(u64) + 'a>;

/// Time `routines` in interleaved batches (every batch runs each routine once, in an order that
/// rotates from batch to batch); returns ns/frame per routine per batch.
fn interleaved(effort: Effort, routines: &mut [Routine<'_>]) -> Vec<Vec<f64>> {
    // One untimed pass each to warm caches, branch predictors and the CPU clock.
    for r in routines.iter_mut() {
        r(effort.rounds);
    }
    let n = routines.len();
    let mut out = vec![Vec::with_capacity(effort.batches); n];
    let frames = (effort.rounds * FRAMES as u64) as f64;
    for batch in 0..effort.batches {
        for k in 0..n {
            let i = (batch + k) % n;
            let t = StdInstant::now();
            routines[i](effort.rounds);
            out[i].push(t.elapsed().as_nanos() as f64 / frames);
        }
    }
    out
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let m = s.len() / 2;
    if s.len() % 2 == 1 {
        s[m]
    } else {
        (s[m - 1] + s[m]) / 2.0
    }
}

/// Median of the batch-by-batch ratios `num[i] / den[i]` (the pairing cancels slow phases of a
/// noisy machine).
fn median_ratio(num: &[f64], den: &[f64]) -> f64 {
    let r: Vec<f64> = num.iter().zip(den).map(|(a, b)| a / b).collect();
    median(&r)
}

/// The interquartile range of the batch-by-batch ratios, to show how noisy a row was.
fn ratio_iqr(num: &[f64], den: &[f64]) -> (f64, f64) {
    let mut r: Vec<f64> = num.iter().zip(den).map(|(a, b)| a / b).collect();
    r.sort_by(f64::total_cmp);
    let q = |p: usize| r[(r.len() - 1) * p / 4];
    (q(1), q(3))
}

/// A ratio target: `Some(limit)` means "at most `limit`".
fn verdict(ratio: f64, limit: Option<f64>) -> (String, &'static str) {
    match limit {
        Some(l) if ratio <= l => (format!("≤ {l}×"), "PASS"),
        Some(l) => (format!("≤ {l}×"), "FAIL"),
        None => ("—".to_owned(), "info"),
    }
}

/// The target of a select_tx row, as a ratio to copying a 64-byte frame.
fn tx_target(case: TxCase) -> Option<f64> {
    match (case.mode, case.policy) {
        (Mode::RoundRobin | Mode::ActiveBackup, _) => Some(1.0),
        (Mode::Xor, XmitHashPolicy::Layer34) => Some(2.0),
        _ => None,
    }
}

/// Limit on the 32-port cost over the 2-port cost.
const SCALING_LIMIT: f64 = 1.3;

struct Row {
    name: String,
    ns: f64,
    copy64: f64,
    ratio64: f64,
    iqr64: (f64, f64),
    copy_same: f64,
    ratio_same: f64,
    limit: Option<f64>,
}

struct ScaleRow {
    name: String,
    ns2: f64,
    ns32: f64,
    ratio: f64,
    iqr: (f64, f64),
}

fn table(effort: Effort, print: bool) {
    // Spin for a moment so the first rows do not pay for the CPU leaving an idle state.
    let spin = StdInstant::now();
    while spin.elapsed() < StdDuration::from_millis(if print { 300 } else { 0 }) {
        black_box(spin);
    }
    let mut rows = Vec::new();
    let mut scale = Vec::new();
    let f64s = frame_set(64);
    let mut dst64 = vec![0u8; 2048];

    for len in SIZES {
        let frames = frame_set(len);
        let mut dst = vec![0u8; 2048];
        for case in tx_cases() {
            let mut b2 = tx_bond::<2>(case, &frames);
            let mut b32 = tx_bond::<32>(case, &frames);
            let mut routines: Vec<Routine<'_>> = vec![
                Box::new(|r| (0..r).for_each(|_| copy_all(&f64s, &mut dst64))),
                Box::new(|r| (0..r).for_each(|_| copy_all(&frames, &mut dst))),
                Box::new(|r| (0..r).for_each(|_| select_all(&mut b2, &frames))),
                Box::new(|r| (0..r).for_each(|_| select_all(&mut b32, &frames))),
            ];
            let t = interleaved(effort, &mut routines);
            drop(routines);
            for (ports, k) in [(2, 2), (32, 3)] {
                rows.push(Row {
                    name: format!("select_tx {} {ports}p {len}B", case.name()),
                    ns: median(&t[k]),
                    copy64: median(&t[0]),
                    ratio64: median_ratio(&t[k], &t[0]),
                    iqr64: ratio_iqr(&t[k], &t[0]),
                    copy_same: median(&t[1]),
                    ratio_same: median_ratio(&t[k], &t[1]),
                    limit: tx_target(case),
                });
            }
            scale.push(ScaleRow {
                name: format!("select_tx {} {len}B", case.name()),
                ns2: median(&t[2]),
                ns32: median(&t[3]),
                ratio: median_ratio(&t[3], &t[2]),
                iqr: ratio_iqr(&t[3], &t[2]),
            });
        }
    }
    for len in SIZES {
        let frames = frame_set(len);
        let mut dst = vec![0u8; 2048];
        let (mut ba, active, _) = rx_bond(&frames);
        let (mut bb, _, backup) = rx_bond(&frames);
        let mut routines: Vec<Routine<'_>> = vec![
            Box::new(|r| (0..r).for_each(|_| copy_all(&f64s, &mut dst64))),
            Box::new(|r| (0..r).for_each(|_| copy_all(&frames, &mut dst))),
            Box::new(|r| (0..r).for_each(|_| rx_all(&mut ba, active, &frames))),
            Box::new(|r| (0..r).for_each(|_| rx_all(&mut bb, backup, &frames))),
        ];
        let t = interleaved(effort, &mut routines);
        drop(routines);
        for (which, k) in [("active", 2), ("backup", 3)] {
            rows.push(Row {
                name: format!("handle_rx active-backup {which} port {len}B"),
                ns: median(&t[k]),
                copy64: median(&t[0]),
                ratio64: median_ratio(&t[k], &t[0]),
                iqr64: ratio_iqr(&t[k], &t[0]),
                copy_same: median(&t[1]),
                ratio_same: median_ratio(&t[k], &t[1]),
                limit: None,
            });
        }
        rows.push(Row {
            name: format!("copy {len}B (baseline)"),
            ns: median(&t[1]),
            copy64: median(&t[0]),
            ratio64: median_ratio(&t[1], &t[0]),
            iqr64: ratio_iqr(&t[1], &t[0]),
            copy_same: median(&t[1]),
            ratio_same: 1.0,
            limit: None,
        });
    }

    if !print {
        println!(
            "datapath: self-timed table exercised ({} rows, {} scaling rows); run with \
             `cargo bench` for figures",
            rows.len(),
            scale.len()
        );
        return;
    }
    let (mut pass, mut fail) = (0, 0);
    let mut tally = |r: &str| match r {
        "PASS" => pass += 1,
        "FAIL" => fail += 1,
        _ => {}
    };
    println!();
    println!(
        "Self-timed: median of {} interleaved batches of {} frames ({} rounds × {FRAMES} frames); \
         ratios are medians of per-batch ratios.",
        effort.batches,
        effort.rounds * FRAMES as u64,
        effort.rounds
    );
    println!();
    println!(
        "| name | ns/frame | copy64 ns | ratio vs copy64 (IQR) | same-size copy ns | ratio vs same-size copy | target (vs copy64) | result |"
    );
    println!("|---|---:|---:|---:|---:|---:|---|---|");
    for r in &rows {
        let (target, result) = verdict(r.ratio64, r.limit);
        tally(result);
        println!(
            "| {} | {:.2} | {:.2} | {:.2}× ({:.2}–{:.2}) | {:.2} | {:.2}× | {target} | {result} |",
            r.name, r.ns, r.copy64, r.ratio64, r.iqr64.0, r.iqr64.1, r.copy_same, r.ratio_same
        );
    }
    println!();
    println!(
        "| name | 2 ports ns/frame | 32 ports ns/frame | ratio 32p / 2p (IQR) | target | result |"
    );
    println!("|---|---:|---:|---:|---|---|");
    for s in &scale {
        let (target, result) = verdict(s.ratio, Some(SCALING_LIMIT));
        tally(result);
        println!(
            "| {} | {:.2} | {:.2} | {:.2}× ({:.2}–{:.2}) | {target} | {result} |",
            s.name, s.ns2, s.ns32, s.ratio, s.iqr.0, s.iqr.1
        );
    }
    println!();
    println!("targets: {pass} PASS, {fail} FAIL (a miss is reported, not fatal)");
}

// ---- main ---------------------------------------------------------------------------------------

fn main() {
    let bench_mode = std::env::args().any(|a| a == "--bench");
    let flag = |name: &str| std::env::var_os(name).is_some_and(|v| v != "0");

    if !flag("DATAPATH_TABLE_ONLY") {
        let mut c = Criterion::default()
            .warm_up_time(StdDuration::from_secs(1))
            .measurement_time(StdDuration::from_secs(2))
            .configure_from_args();
        criterion_copy(&mut c);
        criterion_select_tx::<2>(&mut c);
        criterion_select_tx::<32>(&mut c);
        criterion_handle_rx(&mut c);
        c.final_summary();
    }
    if !flag("DATAPATH_NO_TABLE") {
        let effort = if bench_mode {
            Effort {
                batches: 61,
                rounds: 25_000,
            }
        } else {
            Effort {
                batches: 1,
                rounds: 2,
            }
        };
        table(effort, bench_mode);
    }
}
