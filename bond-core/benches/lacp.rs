//! LACPDU and Marker parse/emit cost, each beside the cost of copying the same 124-byte frame in
//! the same run (criterion groups, then a ratio table measured with interleaved batches so a
//! noisy machine moves baseline and candidate alike).

use std::hint::black_box;
use std::time::Instant as WallClock;

use bond_core::wire::lacp::{emit_lacpdu_frame, LacpduRepr, PortInfo, PortState};
use bond_core::wire::marker::{emit_marker_frame, MarkerKind, MarkerRepr};
use bond_core::wire::slow::{classify, SlowFrame};
use bond_core::EthernetAddress;
use criterion::{criterion_group, Criterion};

const FRAME_LEN: usize = 124;

fn sample_pdu() -> LacpduRepr {
    let info = |sys: u8, port: u16, state: u8| PortInfo {
        system_priority: 65535,
        system: EthernetAddress([0x02, 0, 0, 0, sys, 0]),
        key: 9,
        port_priority: 255,
        port,
        state: PortState(state),
    };
    LacpduRepr {
        version: 1,
        actor: info(1, 1, 0x3d),
        partner: info(2, 1, 0x3d),
        collector_max_delay: 0,
    }
}

fn sample_marker() -> MarkerRepr {
    MarkerRepr {
        kind: MarkerKind::Information,
        requester_port: 3,
        requester_system: EthernetAddress([0x02, 0, 0, 0, 9, 9]),
        transaction_id: 0x0102_0304,
    }
}

fn frames() -> ([u8; FRAME_LEN], [u8; FRAME_LEN]) {
    let src = EthernetAddress([0x02, 0, 0, 0, 1, 0]);
    let mut lacpdu = [0u8; FRAME_LEN];
    emit_lacpdu_frame(&mut lacpdu, src, &sample_pdu());
    let mut marker = [0u8; FRAME_LEN];
    emit_marker_frame(&mut marker, src, &sample_marker());
    (lacpdu, marker)
}

fn parse_lacpdu(frame: &[u8]) -> u16 {
    match classify(frame) {
        SlowFrame::Lacpdu { repr, .. } => repr.actor.key,
        _ => 0,
    }
}

fn copy(dst: &mut [u8; FRAME_LEN], src: &[u8; FRAME_LEN]) {
    dst.copy_from_slice(black_box(src));
}

fn bench_wire(c: &mut Criterion) {
    let (lacpdu, marker) = frames();
    let pdu = sample_pdu();
    let mrk = sample_marker();
    let mut buf = [0u8; FRAME_LEN];
    let mut g = c.benchmark_group("lacp_wire");
    g.bench_function("copy 124-byte frame (baseline)", |b| {
        b.iter(|| copy(&mut buf, &lacpdu))
    });
    g.bench_function("parse LACPDU (classify)", |b| {
        b.iter(|| parse_lacpdu(black_box(&lacpdu)))
    });
    g.bench_function("emit LACPDU frame", |b| {
        b.iter(|| {
            emit_lacpdu_frame(
                black_box(&mut buf),
                EthernetAddress([2, 0, 0, 0, 1, 0]),
                black_box(&pdu),
            )
        })
    });
    g.bench_function("parse Marker (classify)", |b| {
        b.iter(|| matches!(classify(black_box(&marker)), SlowFrame::Marker(_)))
    });
    g.bench_function("emit Marker frame", |b| {
        b.iter(|| {
            emit_marker_frame(
                black_box(&mut buf),
                EthernetAddress([2, 0, 0, 0, 1, 0]),
                black_box(&mrk),
            )
        })
    });
    g.finish();
}

/// Nanoseconds per call of `f`, median of interleaved batches against the copy baseline.
fn ratio_table() {
    let (lacpdu, marker) = frames();
    let pdu = sample_pdu();
    let mrk = sample_marker();
    let mut buf = [0u8; FRAME_LEN];
    const ITERS: u32 = 200_000;
    const ROUNDS: usize = 15;
    let time = |f: &mut dyn FnMut()| {
        let t = WallClock::now();
        for _ in 0..ITERS {
            f();
        }
        t.elapsed().as_nanos() as f64 / f64::from(ITERS)
    };
    let mut cases: Vec<(&str, Vec<f64>, Vec<f64>)> = Vec::new();
    let names = ["parse LACPDU", "emit LACPDU", "parse Marker", "emit Marker"];
    for name in names {
        cases.push((name, Vec::new(), Vec::new()));
    }
    for _ in 0..ROUNDS {
        for (i, (_, base, cand)) in cases.iter_mut().enumerate() {
            base.push(time(&mut || copy(&mut buf, &lacpdu)));
            let src = EthernetAddress([2, 0, 0, 0, 1, 0]);
            cand.push(match i {
                0 => time(&mut || {
                    black_box(parse_lacpdu(black_box(&lacpdu)));
                }),
                1 => time(&mut || {
                    black_box(emit_lacpdu_frame(black_box(&mut buf), src, black_box(&pdu)));
                }),
                2 => time(&mut || {
                    black_box(classify(black_box(&marker)));
                }),
                _ => time(&mut || {
                    black_box(emit_marker_frame(black_box(&mut buf), src, black_box(&mrk)));
                }),
            });
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "\n{:<14} {:>10} {:>14} {:>8}",
        "case", "ns/PDU", "copy124 ns", "ratio"
    );
    for (name, base, cand) in &mut cases {
        let (b, c) = (median(base), median(cand));
        println!("{name:<14} {c:>10.1} {b:>14.1} {:>7.2}x", c / b);
    }
}

criterion_group!(benches, bench_wire);

fn main() {
    benches();
    // `cargo test --all-targets` runs benches once in test mode: skip the timed table there.
    if std::env::args().any(|a| a == "--bench") {
        ratio_table();
    }
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
}
