//! Every mode, bondd against bondd over two veth pairs (needs root; see `support`).
//!
//! Each test builds `A <== a0/z0, a1/z1 ==> Z`, runs one bondd per namespace with
//! `miimon=100`, addresses the TAPs, and checks that ping and TCP cross, that A's per-port
//! transmit counters (`bondctl status --json`) show the distribution the mode promises, and that
//! traffic still crosses after one veth is cut.

mod support;

use std::io::Write;
use std::time::Duration;

use support::{start_sink, transfer, Lab};

/// Start a bondd on each side with `options` and address the TAPs 10.214.<net>.1 and .2.
fn bonded_pair(lab: &mut Lab, options: &str, net: u8) -> (String, String) {
    let a = lab.netns("A");
    let z = lab.netns("Z");
    lab.veth(&a, "a0", &z, "z0");
    lab.veth(&a, "a1", &z, "z1");
    lab.start_bondd(&a, "bond0", options, &["a0", "a1"], &[]);
    lab.start_bondd(&z, "bond0", options, &["z0", "z1"], &[]);
    for (ns, host) in [(&a, 1), (&z, 2)] {
        let addr = format!("10.214.{net}.{host}/24");
        support::run_ok("ip", &["-n", ns, "addr", "add", &addr, "dev", "bond0"]);
    }
    (a, z)
}

fn log(text: &str) {
    // Straight to stderr, so `--nocapture` is not needed to see the measurements in a failure.
    let _ = writeln!(std::io::stderr(), "{text}");
}

/// Ping from `ns`; at least 4 of 5 replies. Returns the number of duplicate replies.
fn assert_ping(lab: &Lab, ns: &str, addr: &str, what: &str) -> u32 {
    let (replies, dups) = lab.ping(ns, addr, 5);
    assert!(replies >= 4, "{what}: only {replies}/5 replies");
    dups
}

/// Per-port (tx_packets, tx_bytes) of daemon `i`, in port order.
fn port_tx(lab: &Lab, i: usize) -> Vec<(String, u64, u64)> {
    let s = lab.status_json(i);
    s["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let c = &p["counters"];
            (
                p["name"].as_str().unwrap().to_string(),
                c["tx_packets"].as_u64().unwrap(),
                c["tx_bytes"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// `after - before`, per port: (name, packets, bytes).
fn delta(before: &[(String, u64, u64)], after: &[(String, u64, u64)]) -> Vec<(String, u64, u64)> {
    before
        .iter()
        .zip(after)
        .map(|(b, a)| {
            assert_eq!(b.0, a.0);
            (a.0.clone(), a.1 - b.1, a.2 - b.2)
        })
        .collect()
}

/// Bytes of the frames the kernel handed to the TAP `bond0` in `ns` (what bondd had to send).
/// Bytes, not frames: with offloads the TAP hands over TCP super-frames, which the ports count
/// as the segments they become.
fn tap_tx_bytes(lab: &Lab, ns: &str) -> u64 {
    tap_tx(lab, ns)["bytes"].as_u64().unwrap()
}

/// The TAP's tx statistics (packets, bytes, ...).
fn tap_tx(lab: &Lab, ns: &str) -> serde_json::Value {
    let out = lab.ip(ns, &["-j", "-s", "link", "show", "dev", "bond0"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v[0]["stats64"]["tx"].clone()
}

/// One bulk transfer from A; returns A's per-port tx delta and the TAP's tx bytes delta.
fn measured_transfer(
    lab: &Lab,
    a: &str,
    peer: &str,
    sport: u16,
    len: usize,
) -> (Vec<(String, u64, u64)>, u64) {
    let before = port_tx(lab, 0);
    let tap_before = tap_tx_bytes(lab, a);
    transfer(a, peer, sport, len);
    let d = delta(&before, &port_tx(lab, 0));
    (d, tap_tx_bytes(lab, a) - tap_before)
}

/// Cut `port` on A, wait until both bondds see it down, and check ping and TCP still cross.
fn cut_and_check(lab: &Lab, a: &str, port: &str, peer: &str) {
    support::run_ok("ip", &["-n", a, "link", "set", port, "down"]);
    let peer_port = port.replace('a', "z");
    lab.wait_status(0, Duration::from_secs(3), "cut port down on A", |s| {
        s["ports"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == port && p["link"] == "down")
    });
    lab.wait_status(1, Duration::from_secs(3), "cut port down on Z", |s| {
        s["ports"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == peer_port.as_str() && p["link"] == "down")
    });
    assert_ping(lab, a, peer, "after the cut");
    let (d, _) = measured_transfer(lab, a, peer, 0, 1 << 20);
    let cut = d.iter().find(|p| p.0 == port).unwrap();
    assert_eq!(cut.1, 0, "frames sent on the cut port: {d:?}");
    log(&format!("  after cutting {port}: A tx delta {d:?}"));
}

#[test]
fn balance_rr_alternates_frames_and_survives_a_cut() {
    let Some(mut lab) = Lab::new("balance_rr_alternates_frames_and_survives_a_cut") else {
        return;
    };
    let (a, z) = bonded_pair(&mut lab, "mode=balance-rr miimon=100", 1);
    let peer = "10.214.1.2";
    assert_ping(&lab, &a, peer, "balance-rr");
    let sink = start_sink(&z, 2);
    let (d, tap) = measured_transfer(&lab, &a, peer, 0, 4 << 20);
    log(&format!("balance-rr: A tx delta {d:?}, TAP tx {tap}"));
    let (p0, p1) = (d[0].2, d[1].2);
    assert!(p0 > 1 << 20 && p1 > 1 << 20, "both ports carry data: {d:?}");
    assert!(
        p0.abs_diff(p1) * 10 <= 3 * p0.max(p1),
        "balance-rr: tx bytes differ by more than 30%: {d:?}"
    );
    assert!(
        p0 + p1 >= tap,
        "every frame went out: {d:?}, TAP {tap} bytes"
    );
    cut_and_check(&lab, &a, "a1", peer);
    sink.join().unwrap();
}

#[test]
fn active_backup_sends_on_the_active_port_only_and_fails_over() {
    let Some(mut lab) = Lab::new("active_backup_sends_on_the_active_port_only_and_fails_over")
    else {
        return;
    };
    let (a, z) = bonded_pair(&mut lab, "mode=active-backup miimon=100", 2);
    let peer = "10.214.2.2";
    assert_ping(&lab, &a, peer, "active-backup");
    assert_eq!(lab.status_json(0)["active_port"], "a0");
    let sink = start_sink(&z, 2);
    let tap_frames = tap_tx(&lab, &a)["packets"].as_u64().unwrap();
    let (d, tap) = measured_transfer(&lab, &a, peer, 0, 4 << 20);
    let tap_frames = tap_tx(&lab, &a)["packets"].as_u64().unwrap() - tap_frames;
    log(&format!(
        "active-backup: A tx delta {d:?}, TAP tx {tap} bytes in {tap_frames} frames"
    ));
    assert!(d[0].2 >= tap, "the active port a0 sent everything: {d:?}");
    // Offloads: the host's TCP handed bondd super-frames (4 MiB in well under 2900 frames of
    // 1448 bytes), and bondd passed them on whole: as many frames left a0 as the TAP handed over.
    assert!(
        tap / tap_frames > 8000 && d[0].1 <= tap_frames + 3,
        "no TCP super-frames crossed bondd: {tap} bytes in {tap_frames} TAP frames, {d:?}"
    );
    assert!(d[1].1 <= 3, "the backup a1 sent data: {d:?}");
    // Cut the active port: a1 takes over.
    support::run_ok("ip", &["-n", &a, "link", "set", "a0", "down"]);
    lab.wait_status(0, Duration::from_secs(3), "a1 active", |s| {
        s["active_port"] == "a1"
    });
    lab.wait_status(1, Duration::from_secs(3), "z1 active", |s| {
        s["active_port"] == "z1"
    });
    assert_ping(&lab, &a, peer, "active-backup after failover");
    let (d, tap) = measured_transfer(&lab, &a, peer, 0, 1 << 20);
    log(&format!(
        "  after cutting a0: A tx delta {d:?}, TAP tx {tap}"
    ));
    assert_eq!(d[0].1, 0, "frames sent on the cut port: {d:?}");
    assert!(d[1].2 >= tap, "the new active a1 sent everything: {d:?}");
    sink.join().unwrap();
}

/// Eight connections from fixed source ports, one after another: each must go out on one
/// port only, and together they must use both ports.
fn flows_stick_and_spread(lab: &Lab, a: &str, z: &str, peer: &str, mode: &str) {
    let flows = 8u16;
    let sink = start_sink(z, usize::from(flows) + 1);
    let mut used = [0usize; 2];
    for f in 0..flows {
        let sport = 40000 + f;
        let (d, _) = measured_transfer(lab, a, peer, sport, 512 << 10);
        let on = if d[0].2 >= d[1].2 { 0 } else { 1 };
        let (main, other) = (d[on].2, d[1 - on].2);
        assert!(
            other * 50 <= main,
            "{mode}: flow from port {sport} was split across ports: {d:?}"
        );
        used[on] += 1;
        log(&format!(
            "{mode}: flow sport {sport} -> {} ({d:?})",
            d[on].0
        ));
    }
    assert!(
        used[0] > 0 && used[1] > 0,
        "{mode}: all {flows} flows hashed to one port: {used:?}"
    );
    cut_and_check(lab, a, "a1", peer);
    sink.join().unwrap();
}

#[test]
fn balance_xor_layer34_keeps_flows_on_one_port_and_fails_over() {
    let Some(mut lab) = Lab::new("balance_xor_layer34_keeps_flows_on_one_port_and_fails_over")
    else {
        return;
    };
    let (a, z) = bonded_pair(
        &mut lab,
        "mode=balance-xor miimon=100 xmit_hash_policy=layer3+4",
        3,
    );
    let peer = "10.214.3.2";
    assert_ping(&lab, &a, peer, "balance-xor");
    flows_stick_and_spread(&lab, &a, &z, peer, "balance-xor");
}

#[test]
fn broadcast_sends_every_frame_on_every_port() {
    let Some(mut lab) = Lab::new("broadcast_sends_every_frame_on_every_port") else {
        return;
    };
    let (a, z) = bonded_pair(&mut lab, "mode=broadcast miimon=100", 4);
    let peer = "10.214.4.2";
    // Each echo arrives twice (once per port), so duplicates are expected here.
    let dups = assert_ping(&lab, &a, peer, "broadcast");
    log(&format!("broadcast: ping duplicates {dups}"));
    let sink = start_sink(&z, 2);
    let (d, tap) = measured_transfer(&lab, &a, peer, 0, 4 << 20);
    log(&format!("broadcast: A tx delta {d:?}, TAP tx {tap}"));
    for p in &d {
        assert!(
            p.2 >= tap && p.2 <= tap + 3 * 128,
            "broadcast: {} did not send every frame once: {d:?}, TAP {tap} bytes",
            p.0
        );
    }
    cut_and_check(&lab, &a, "a1", peer);
    sink.join().unwrap();
}

#[test]
fn lacp_layer34_distributes_flows_and_fails_over() {
    let Some(mut lab) = Lab::new("lacp_layer34_distributes_flows_and_fails_over") else {
        return;
    };
    let (a, z) = bonded_pair(
        &mut lab,
        "mode=802.3ad miimon=100 lacp_rate=fast xmit_hash_policy=layer3+4",
        5,
    );
    let all_distributing = |s: &serde_json::Value| {
        s["ports"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["lacp"]["distributing"] == true)
    };
    lab.wait_status(
        0,
        Duration::from_secs(10),
        "A distributing",
        all_distributing,
    );
    lab.wait_status(
        1,
        Duration::from_secs(10),
        "Z distributing",
        all_distributing,
    );
    let peer = "10.214.5.2";
    assert_ping(&lab, &a, peer, "802.3ad");
    flows_stick_and_spread(&lab, &a, &z, peer, "802.3ad");
}
