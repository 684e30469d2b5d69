//! bondd in 802.3ad mode against the Linux kernel's bonding driver, in a QEMU guest (TCG) whose
//! two virtio NICs are TAPs in a test namespace (needs root, qemu-system-x86 and
//! busybox-static; the guest is built by `scripts/peers/linux-guest.sh` on first use).
//!
//! One guest boot per test (TCG boots in ~8 s), several checks in it: negotiation to
//! collecting+distributing on both sides, ping, a guest-side and a bondd-side link cut and their
//! recovery, a Marker answered by Linux, and each side as the passive one.

mod linux_guest_support;
mod support;

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use bond_linux::netdev::NetDev;
use bond_linux::packet::{PacketSocket, Received};
use linux_guest_support::{Bonding, Guest, IN_USE, TAPS};
use support::Lab;

/// A guest and bondd in one namespace. Fields drop in order: QEMU dies before the lab stops
/// bondd and deletes the namespace.
struct Rig {
    guest: Guest,
    lab: Lab,
    ns: String,
    pcap: PathBuf,
    guest_ip: String,
}

fn skip_or_fail(test: &str, reason: &str) {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{test}: cannot run under CI=true: {reason}");
    }
    let _ = writeln!(std::io::stderr(), "SKIPPED: {test}: {reason}");
}

/// Boot the guest (bond options `guest_sysfs` via sysfs), wait for its bond, then start bondd
/// with `options` on the TAPs. Returns the rig and the boot time.
fn rig(test: &str, net: u8, options: &str, guest_sysfs: &str) -> Option<(Rig, Duration)> {
    let mut lab = Lab::new(test)?;
    let guest_dir = match linux_guest_support::prepare() {
        Ok(d) => d,
        Err(reason) => {
            skip_or_fail(test, &reason);
            return None;
        }
    };
    let ns = lab.netns("G");
    let guest_ip = format!("10.231.{net}.2");
    let mut append = format!("lg.ip={guest_ip}/24");
    if !guest_sysfs.is_empty() {
        append += &format!(" lg.sysfs={guest_sysfs}");
    }
    let mut guest = Guest::boot(&ns, &guest_dir, &lab.dir, &append);
    guest.wait_console("LG BOND UP", Duration::from_secs(60));
    let boot = guest.started.elapsed();
    let pcap = lab.dir.join("bondd.pcap");
    let pcap_arg = pcap.to_str().unwrap().to_string();
    lab.start_bondd(&ns, "bond0", options, &TAPS, &["--pcap", &pcap_arg]);
    let addr = format!("10.231.{net}.1/24");
    support::run_ok("ip", &["-n", &ns, "addr", "add", &addr, "dev", "bond0"]);
    Some((
        Rig {
            guest,
            lab,
            ns,
            pcap,
            guest_ip,
        },
        boot,
    ))
}

fn port<'a>(status: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    status["ports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no port {name} in {status:#}"))
}

fn in_use(p: &serde_json::Value) -> bool {
    p["lacp"]["collecting"] == true && p["lacp"]["distributing"] == true
}

fn all_in_use(s: &serde_json::Value) -> bool {
    s["ports"].as_array().unwrap().iter().all(in_use)
}

impl Rig {
    /// Both sides use both ports: bondd's status and the guest's /proc/net/bonding.
    fn wait_both_sides_in_use(&mut self, timeout: Duration, what: &str) -> Bonding {
        let s = self
            .lab
            .wait_status(0, timeout, &format!("bondd: {what}"), all_in_use);
        let agg = &s["lacp"]["active_aggregator"];
        assert_eq!(agg["ports"], 2, "{s:#}");
        assert_eq!(agg["partner_system"], "52:54:00:12:34:01", "{s:#}");
        let b = self
            .guest
            .wait_bonding(timeout, &format!("guest: {what}"), Bonding::both_in_use);
        for s in &b.slaves {
            assert!(s.mii_up, "{}", b.text);
        }
        b
    }

    fn assert_ping(&self, what: &str) {
        let (replies, dups) = self.lab.ping(&self.ns, &self.guest_ip, 5);
        assert!(replies >= 4, "{what}: only {replies}/5 replies");
        assert_eq!(dups, 0, "{what}: duplicate replies");
    }
}

#[test]
fn lacp_with_linux_guest_negotiates_fails_over_and_answers_markers() {
    let test = "lacp_with_linux_guest_negotiates_fails_over_and_answers_markers";
    let Some((mut rig, boot)) = rig(test, 1, "mode=802.3ad miimon=100 lacp_rate=fast", "") else {
        return;
    };
    let t0 = Instant::now();
    let b = rig.wait_both_sides_in_use(Duration::from_secs(30), "both ports in use");
    let negotiation = t0.elapsed();
    let _ = writeln!(
        std::io::stderr(),
        "{test}: guest bond up {boot:.1?} after QEMU start; both sides distributing \
         {negotiation:.1?} after bondd start"
    );
    // Both fast and active: the guest's actor and partner (bondd) states are 63 (0x3f).
    for slave in &b.slaves {
        assert_eq!(slave.actor_state, 63, "{}", b.text);
        assert_eq!(slave.partner_state, 63, "{}", b.text);
    }
    let s = rig.lab.status_json(0);
    let bond_mac = s["mac"].as_str().unwrap().to_string();
    assert_eq!(b.slave("eth0").partner_system, bond_mac, "{}", b.text);
    rig.assert_ping("both ports");

    marker_is_answered(&rig, &bond_mac);

    // Guest-side cut of eth0/qtap0: bondd's qtap0 times out (3 s, fast) and stops
    // distributing; traffic goes on over qtap1.
    let t = Instant::now();
    rig.guest.set_link("n1", false);
    rig.lab
        .wait_status(0, Duration::from_secs(10), "qtap0 out", |s| {
            !in_use(port(s, "qtap0")) && in_use(port(s, "qtap1"))
        });
    let _ = writeln!(
        std::io::stderr(),
        "{test}: guest cut: bondd's qtap0 out of use after {:.1?}",
        t.elapsed()
    );
    let b = rig
        .guest
        .wait_bonding(Duration::from_secs(10), "eth0 down", |b| {
            !b.slave("eth0").mii_up && b.ports_in_aggregator == Some(1)
        });
    assert!(b.slave("eth1").actor_state & IN_USE == IN_USE, "{}", b.text);
    rig.assert_ping("guest eth0 cut");
    rig.guest.set_link("n1", true);
    rig.wait_both_sides_in_use(Duration::from_secs(20), "after the guest cut");
    rig.assert_ping("guest cut repaired");

    // bondd-side cut: qtap1 down. bondd drops the port at once (carrier); the guest's eth1
    // stops hearing LACPDUs and leaves the aggregator after its 3 s timeout.
    support::run_ok("ip", &["-n", &rig.ns, "link", "set", "qtap1", "down"]);
    rig.lab
        .wait_status(0, Duration::from_secs(5), "qtap1 down", |s| {
            port(s, "qtap1")["link"] == "down" && in_use(port(s, "qtap0"))
        });
    rig.guest
        .wait_bonding(Duration::from_secs(15), "eth1 out of use", |b| {
            b.ports_in_aggregator == Some(1)
                && b.slave("eth1").actor_state & IN_USE != IN_USE
                && b.slave("eth0").actor_state & IN_USE == IN_USE
        });
    rig.assert_ping("bondd qtap1 cut");
    support::run_ok("ip", &["-n", &rig.ns, "link", "set", "qtap1", "up"]);
    rig.wait_both_sides_in_use(Duration::from_secs(20), "after the bondd cut");
    rig.assert_ping("bondd cut repaired");

    let s = rig.lab.status_json(0);
    assert_eq!(port(&s, "qtap1")["link_failure_count"], 1, "{s:#}");
}

/// Send a Marker Information PDU out of qtap0 (as if from bondd's port); Linux answers with a
/// Marker Response carrying the same requester fields, which bondd receives and records.
fn marker_is_answered(rig: &Rig, bond_mac: &str) {
    const TRANSACTION: u32 = 0x5eed_1234;
    let mac: Vec<u8> = bond_mac
        .split(':')
        .map(|h| u8::from_str_radix(h, 16).unwrap())
        .collect();
    let mut frame = vec![0x01, 0x80, 0xc2, 0x00, 0x00, 0x02];
    frame.extend(&mac);
    frame.extend([0x88, 0x09, 0x02, 0x01]); // Slow Protocols, Marker, version 1
    frame.extend([0x01, 0x10]); // Marker Information, length 16
    frame.extend(1u16.to_be_bytes()); // requester port
    frame.extend(&mac); // requester system
    frame.extend(TRANSACTION.to_be_bytes());
    frame.extend([0, 0]); // pad
    frame.extend([0, 0]); // terminator
    frame.extend([0u8; 90]);
    assert_eq!(frame.len(), 124);

    let response = support::in_netns(&rig.ns, || {
        let nd = NetDev::new().unwrap();
        let sock = PacketSocket::open(nd.ifindex("qtap0").unwrap()).unwrap();
        sock.send(&frame).unwrap();
        let mut buf = vec![0u8; 2048];
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            match sock.recv(&mut buf).unwrap() {
                Some(Received::Frame(r)) => {
                    let f = &buf[r];
                    if f.len() >= 30 && f[12..16] == [0x88, 0x09, 0x02, 0x01] && f[16] == 0x02 {
                        return Some(f.to_vec());
                    }
                }
                Some(_) => {}
                None => std::thread::sleep(Duration::from_millis(5)),
            }
        }
        None
    });
    let response = response.expect("no Marker Response from the guest within 5 s");
    assert_eq!(&response[..6], &frame[..6], "to the Slow Protocols address");
    assert_eq!(
        &response[6..12],
        &[0x52, 0x54, 0, 0x12, 0x34, 0x01],
        "from eth0"
    );
    assert_eq!(response[17], 0x10, "TLV length");
    assert_eq!(
        &response[18..30],
        &frame[18..30],
        "requester port, system and transaction echoed"
    );
    // bondd counts it and --pcap records it.
    let s = rig
        .lab
        .wait_status(0, Duration::from_secs(3), "marker_resp_rx", |s| {
            port(s, "qtap0")["lacp"]["stats"]["marker_resp_rx"] == 1
        });
    assert_eq!(s["lacp"]["stats"]["marker_resp_rx"], 1, "{s:#}");
    let bytes = std::fs::read(&rig.pcap).unwrap();
    assert!(
        pcap_frames(&bytes).iter().any(|f| f.len() >= 30
            && f[12..17] == [0x88, 0x09, 0x02, 0x01, 0x02]
            && f[18..30] == frame[18..30]),
        "the Marker Response is not in bondd's pcap"
    );
}

/// The frames of a classic pcap file.
fn pcap_frames(bytes: &[u8]) -> Vec<&[u8]> {
    assert!(bytes.len() >= 24 && bytes[..4] == [0xd4, 0xc3, 0xb2, 0xa1]);
    let mut frames = Vec::new();
    let mut at = 24;
    while at + 16 <= bytes.len() {
        let incl = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
        if at + 16 + incl > bytes.len() {
            break;
        }
        frames.push(&bytes[at + 16..at + 16 + incl]);
        at += 16 + incl;
    }
    frames
}

#[test]
fn lacp_with_linux_guest_bondd_passive() {
    let test = "lacp_with_linux_guest_bondd_passive";
    let Some((mut rig, _boot)) = rig(
        test,
        2,
        "mode=802.3ad miimon=100 lacp_rate=fast lacp_active=0",
        "",
    ) else {
        return;
    };
    let b = rig.wait_both_sides_in_use(Duration::from_secs(30), "passive bondd, active guest");
    // bondd's actor state as the guest sees it: no Activity bit (0x3e), the guest's has it.
    for slave in &b.slaves {
        assert_eq!(slave.partner_state, 0x3e, "{}", b.text);
        assert_eq!(slave.actor_state, 0x3f, "{}", b.text);
    }
    let s = rig.lab.status_json(0);
    for p in s["ports"].as_array().unwrap() {
        let flags = p["lacp"]["actor"]["state_flags"].as_array().unwrap();
        assert!(!flags.contains(&"activity".into()), "{p:#}");
    }
    rig.assert_ping("passive bondd");
}

#[test]
fn lacp_with_linux_guest_passive() {
    let test = "lacp_with_linux_guest_passive";
    let Some((mut rig, _boot)) = rig(
        test,
        3,
        "mode=802.3ad miimon=100 lacp_rate=fast",
        "lacp_active=off",
    ) else {
        return;
    };
    let b = rig.wait_both_sides_in_use(Duration::from_secs(30), "active bondd, passive guest");
    for slave in &b.slaves {
        assert_eq!(slave.actor_state, 0x3e, "{}", b.text);
        assert_eq!(slave.partner_state, 0x3f, "{}", b.text);
    }
    let s = rig.lab.status_json(0);
    for p in s["ports"].as_array().unwrap() {
        let flags = p["lacp"]["partner"]["state_flags"].as_array().unwrap();
        assert!(!flags.contains(&"activity".into()), "{p:#}");
    }
    rig.assert_ping("passive guest");
}
