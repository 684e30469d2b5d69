//! Hostile input at the daemon, for real (needs root; see `support`): garbage and oversized
//! frames on the wire, and a port that flaps a thousand times. bondd must stay up, keep its
//! memory, count what it drops, and carry traffic again once the abuse stops.

mod support;

use std::time::{Duration, Instant};

use bond_linux::netdev::NetDev;
use bond_linux::packet::PacketSocket;
use support::{mac_bytes, Lab};

/// A small deterministic generator (xorshift64*), so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn bytes(&mut self, out: &mut [u8]) {
        out.iter_mut().for_each(|b| *b = self.next() as u8);
    }
}

/// `count` frames of garbage for a bond with MAC `bond_mac`: random bytes behind a header
/// that gets them past the NIC and into the parsers that matter (Slow Protocols cut short at
/// every length, ARP, IPv6 neighbour discovery, VLAN tags, unknown types), plus a few
/// oversized ones.
fn garbage(rng: &mut Rng, bond_mac: [u8; 6], count: usize) -> Vec<Vec<u8>> {
    const SLOW: [u8; 6] = [0x01, 0x80, 0xc2, 0, 0, 0x02];
    const TYPES: [u16; 8] = [
        0x8809, 0x8809, 0x0806, 0x86dd, 0x0800, 0x8100, 0x88a8, 0x1234,
    ];
    (0..count)
        .map(|k| {
            let len = match k % 50 {
                0 => 9000,
                1 => 60_000,
                _ => 14 + rng.below(1500),
            };
            let mut f = vec![0u8; len];
            rng.bytes(&mut f);
            let dst = match rng.below(3) {
                0 => bond_mac,
                1 => [0xff; 6],
                _ => SLOW,
            };
            f[..6].copy_from_slice(&dst);
            f[6] &= 0xfe; // a unicast source, as a NIC would send
            let ethertype = TYPES[rng.below(TYPES.len())];
            f[12..14].copy_from_slice(&ethertype.to_be_bytes());
            if ethertype == 0x8809 && len > 14 {
                // LACPDU or Marker subtype, cut anywhere before a whole PDU.
                f[14] = 1 + rng.below(2) as u8;
                f.truncate(15 + rng.below(108));
            }
            f
        })
        .collect()
}

/// Two bondds in 802.3ad back to back, negotiated; returns (A, Z).
fn lacp_pair(lab: &mut Lab) -> (String, String) {
    let (a, z) = lab.two_hosts();
    let options = "mode=802.3ad miimon=100 lacp_rate=fast xmit_hash_policy=layer3+4";
    lab.start_bondd(&a, "bond0", options, &["a0", "a1"], &[]);
    lab.start_bondd(&z, "bond0", options, &["z0", "z1"], &[]);
    for (ns, host) in [(&a, 1), (&z, 2)] {
        let addr = format!("10.215.1.{host}/24");
        support::run_ok("ip", &["-n", ns, "addr", "add", &addr, "dev", "bond0"]);
    }
    wait_distributing(lab, 0, Duration::from_secs(10));
    wait_distributing(lab, 1, Duration::from_secs(10));
    (a, z)
}

fn wait_distributing(lab: &Lab, i: usize, timeout: Duration) -> serde_json::Value {
    lab.wait_status(i, timeout, "every port distributing", |s| {
        s["ports"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["lacp"]["collecting"] == true && p["lacp"]["distributing"] == true)
    })
}

/// Resident memory of process `pid`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/PID/status")
}

fn assert_ping(lab: &Lab, ns: &str, addr: &str, what: &str) {
    let (replies, _) = lab.ping(ns, addr, 5);
    assert!(replies >= 4, "{what}: only {replies}/5 replies");
}

#[test]
fn garbage_and_oversized_frames_on_the_wire_are_survived_and_counted() {
    let Some(mut lab) =
        Lab::new("garbage_and_oversized_frames_on_the_wire_are_survived_and_counted")
    else {
        return;
    };
    let (a, z) = lacp_pair(&mut lab);
    let before = lab.status_json(0);
    let rss_before = rss_kib(lab.pid(0));
    let bond_mac = mac_bytes(before["mac"].as_str().unwrap());
    // Room on the wire for the oversized frames (bondd set a0/a1 to the bond's 1500).
    for (ns, dev) in [(&a, "a0"), (&a, "a1"), (&z, "z0"), (&z, "z1")] {
        support::run_ok("ip", &["-n", ns, "link", "set", dev, "mtu", "65535"]);
    }
    const PER_PORT: usize = 3000;
    let mut rng = Rng(0x005e_ed0f_bad1_dea5);
    let sent = support::in_netns(&z, || {
        let nd = NetDev::new().unwrap();
        let mut sent = 0;
        for port in ["z0", "z1"] {
            let sock = PacketSocket::open(nd.ifindex(port).unwrap()).unwrap();
            for f in garbage(&mut rng, bond_mac, PER_PORT) {
                // The socket buffer may fill: what the kernel refuses was never on the wire.
                if sock.send(&f).is_ok() {
                    sent += 1;
                }
            }
        }
        sent
    });
    assert!(sent > PER_PORT, "only {sent} garbage frames went out");

    assert!(lab.alive(0), "bondd A died:\n{}", lab.log(0));
    let after = lab.status_json(0);
    let mut malformed = 0;
    let mut received = 0;
    for (p, q) in before["ports"]
        .as_array()
        .unwrap()
        .iter()
        .zip(after["ports"].as_array().unwrap())
    {
        let counter = |v: &serde_json::Value, k: &str| v["lacp"]["stats"][k].as_u64().unwrap();
        malformed += counter(q, "lacpdu_illegal_rx") - counter(p, "lacpdu_illegal_rx")
            + counter(q, "lacpdu_unknown_rx")
            - counter(p, "lacpdu_unknown_rx")
            + counter(q, "marker_unknown_rx")
            - counter(p, "marker_unknown_rx");
        received += q["counters"]["rx_packets"].as_u64().unwrap()
            - p["counters"]["rx_packets"].as_u64().unwrap();
    }
    eprintln!(
        "{sent} garbage frames sent, {received} seen by bondd, {malformed} counted malformed"
    );
    assert!(
        received >= sent as u64 / 2,
        "bondd saw {received} of {sent} frames: {after:#}"
    );
    assert!(
        malformed > 100,
        "cut-short Slow Protocols frames were not counted as such ({malformed}): {after:#}"
    );
    // The LAG is intact (or back within a few LACPDU periods), traffic crosses, and memory
    // did not grow with the input.
    wait_distributing(&lab, 0, Duration::from_secs(10));
    assert_ping(&lab, &a, "10.215.1.2", "after the garbage");
    let rss_after = rss_kib(lab.pid(0));
    assert!(
        rss_after < rss_before + 8 * 1024,
        "bondd grew from {rss_before} KiB to {rss_after} KiB"
    );
}

#[test]
fn a_port_that_flaps_a_thousand_times_is_followed_to_the_end() {
    let Some(mut lab) = Lab::new("a_port_that_flaps_a_thousand_times_is_followed_to_the_end")
    else {
        return;
    };
    let (a, z) = lab.two_hosts();
    let options = "mode=active-backup miimon=100 primary=a0";
    lab.start_bondd(&a, "bond0", options, &["a0", "a1"], &[]);
    lab.start_bondd(
        &z,
        "bond0",
        "mode=active-backup miimon=100",
        &["z0", "z1"],
        &[],
    );
    for (ns, host) in [(&a, 1), (&z, 2)] {
        let addr = format!("10.215.2.{host}/24");
        support::run_ok("ip", &["-n", ns, "addr", "add", &addr, "dev", "bond0"]);
    }
    assert_ping(&lab, &a, "10.215.2.2", "before");
    let rss_before = rss_kib(lab.pid(0));

    // 1000 down/up cycles of the backup port, as fast as `ip -batch` goes.
    let batch = lab.dir.join("flap.batch");
    let mut cmds = String::new();
    for _ in 0..1000 {
        cmds.push_str("link set a1 down\nlink set a1 up\n");
    }
    std::fs::write(&batch, cmds).unwrap();
    let started = Instant::now();
    support::run_ok("ip", &["-n", &a, "-batch", batch.to_str().unwrap()]);
    let took = started.elapsed();

    assert!(lab.alive(0), "bondd A died:\n{}", lab.log(0));
    let s = lab.wait_status(0, Duration::from_secs(5), "a1 up again", |s| {
        s["ports"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["link"] == "up")
    });
    assert_eq!(
        s["active_port"], "a0",
        "the primary kept the traffic: {s:#}"
    );
    let a1 = s["ports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "a1")
        .unwrap();
    // Carrier events are read as they come, so a burst may fold several flaps into one
    // sample; every failure seen is counted, and at most the real ones.
    let failures = a1["link_failure_count"].as_u64().unwrap();
    assert!(
        (1..=1000).contains(&failures),
        "a1 failures {failures} after 1000 flaps in {took:?}: {s:#}"
    );
    eprintln!("1000 flaps in {took:?}: {failures} failures counted");
    assert_ping(&lab, &a, "10.215.2.2", "after the flapping");
    // The backup still takes over: cut the primary.
    support::run_ok("ip", &["-n", &a, "link", "set", "a0", "down"]);
    lab.wait_status(0, Duration::from_secs(3), "a1 active", |s| {
        s["active_port"] == "a1"
    });
    lab.wait_status(1, Duration::from_secs(3), "z1 active", |s| {
        s["active_port"] == "z1"
    });
    assert_ping(&lab, &a, "10.215.2.2", "after failover to the flapped port");
    let rss_after = rss_kib(lab.pid(0));
    assert!(
        rss_after < rss_before + 4 * 1024,
        "bondd grew from {rss_before} KiB to {rss_after} KiB"
    );
}
