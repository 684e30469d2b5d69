//! bondd in 802.3ad mode against the Linux kernel's bonding driver, in a QEMU guest (TCG) whose
//! two virtio NICs are TAPs in a test namespace (needs root, qemu-system-x86 and
//! busybox-static; the guest is built by `scripts/peers/linux-guest.sh` on first use).
//!
//! One guest boot per test (TCG boots in ~8 s), several checks in it: negotiation to
//! collecting+distributing on both sides, ping, a guest-side and a bondd-side link cut and their
//! recovery, a Marker sent by bondd (`bondctl marker`) answered by Linux, and each side as the
//! passive one.

mod linux_guest_support;
mod support;

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use linux_guest_support::{Bonding, Guest, IN_USE, TAPS};
use support::{pcap_frames, port, Lab};

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

    let rtt = marker_is_answered(&rig, &bond_mac);
    let _ = writeln!(
        std::io::stderr(),
        "{test}: bondd's marker on qtap0 answered by the guest in {rtt} µs"
    );

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
    let out = rig.lab.bondctl(0, &["marker", "qtap1"]);
    assert!(!out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "bondctl: could not send a marker: the port's link is down\n"
    );
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

/// bondd sends a Marker Information PDU on qtap0 (`bondctl marker qtap0`); Linux's Marker
/// Responder answers with the same requester fields, which bondd matches to its request
/// (`last_marker` answered in `status --json`), and `--pcap` holds both. Returns the round
/// trip in µs.
fn marker_is_answered(rig: &Rig, bond_mac: &str) -> u64 {
    let before = rig.lab.status_json(0);
    let stats_before = port(&before, "qtap0")["lacp"]["stats"].clone();
    let out = rig.lab.bondctl(0, &["marker", "qtap0"]);
    assert!(
        out.status.success(),
        "bondctl marker qtap0: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id: u32 = String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .expect("bondctl marker prints the transaction ID");
    let s = rig.lab.wait_status(
        0,
        Duration::from_secs(5),
        "the guest's marker response",
        |s| {
            let m = &port(s, "qtap0")["lacp"]["last_marker"];
            m["transaction_id"] == id && m["answered"] == true
        },
    );
    let qtap0 = port(&s, "qtap0");
    let rtt = qtap0["lacp"]["last_marker"]["round_trip_us"]
        .as_u64()
        .expect("a round-trip time");
    let stats = &qtap0["lacp"]["stats"];
    for (counter, more) in [("marker_tx", 1), ("marker_resp_rx", 1), ("marker_rx", 0)] {
        assert_eq!(
            stats[counter].as_u64().unwrap(),
            stats_before[counter].as_u64().unwrap() + more,
            "{counter}: {s:#}"
        );
    }

    // On the wire (bondd's pcap): the request from qtap0 with Requester_Port = qtap0's actor
    // port, Requester_System = the bond's actor system and the transaction ID, then the
    // guest's response from its eth0 echoing the three.
    let mac = |text: &str| -> Vec<u8> {
        text.split(':')
            .map(|h| u8::from_str_radix(h, 16).unwrap())
            .collect()
    };
    assert_eq!(qtap0["lacp"]["actor"]["system"], bond_mac, "{s:#}");
    let mut echo = Vec::new();
    echo.extend((qtap0["lacp"]["actor"]["port"].as_u64().unwrap() as u16).to_be_bytes());
    echo.extend(mac(bond_mac));
    echo.extend(id.to_be_bytes());
    let is_marker = |f: &[u8], tlv: u8| {
        f.len() >= 30
            && f[..6] == [0x01, 0x80, 0xc2, 0x00, 0x00, 0x02]
            && f[12..18] == [0x88, 0x09, 0x02, 0x01, tlv, 0x10]
            && f[18..30] == echo[..]
    };
    let bytes = std::fs::read(&rig.pcap).unwrap();
    let frames = pcap_frames(&bytes);
    let request = frames
        .iter()
        .position(|f| {
            is_marker(f, 0x01) && f[6..12] == mac(qtap0["perm_hwaddr"].as_str().unwrap())[..]
        })
        .expect("bondd's Marker Information PDU is not in its pcap");
    let response = frames
        .iter()
        .position(|f| is_marker(f, 0x02) && f[6..12] == [0x52, 0x54, 0, 0x12, 0x34, 0x01])
        .expect("the guest's Marker Response (from eth0) is not in bondd's pcap");
    assert!(request < response);
    rtt
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
