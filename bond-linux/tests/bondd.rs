//! bondd against bondd over veth pairs in network namespaces (needs root; see `support`).
//!
//! Each test builds `A <== a0/z0, a1/z1 ==> Z`, runs one bondd per namespace, puts addresses on
//! the two TAPs and checks what a person would: ping across, `bondctl status`, failover when a
//! veth is cut, LACP reaching collecting+distributing, a clean shutdown.

mod support;

use std::time::{Duration, Instant};

use bond_linux::netdev::NetDev;
use bond_linux::packet::{PacketSocket, Received};
use support::{pcap_frames, port, Lab};

/// Start a bondd on each side with `options` and address the TAPs 10.213.<net>.1 and .2.
fn bonded_pair(lab: &mut Lab, options: &str, net: u8, a_extra: &[&str]) -> (String, String) {
    let (a, z) = lab.two_hosts();
    lab.start_bondd(&a, "bond0", options, &["a0", "a1"], a_extra);
    lab.start_bondd(&z, "bond0", options, &["z0", "z1"], &[]);
    for (ns, host) in [(&a, 1), (&z, 2)] {
        let addr = format!("10.213.{net}.{host}/24");
        support::run_ok("ip", &["-n", ns, "addr", "add", &addr, "dev", "bond0"]);
    }
    (a, z)
}

fn assert_ping(lab: &Lab, ns: &str, addr: &str, what: &str) {
    let (replies, dups) = lab.ping(ns, addr, 5);
    assert!(replies >= 4, "{what}: only {replies}/5 replies");
    assert_eq!(
        dups, 0,
        "{what}: duplicate replies (kernel stack answering on a member?)"
    );
}

#[test]
fn active_backup_ping_status_and_failover() {
    let Some(mut lab) = Lab::new("active_backup_ping_status_and_failover") else {
        return;
    };
    // A follows carrier by miimon polling only, Z by rtnetlink events: both paths fail over.
    let (a, _z) = bonded_pair(
        &mut lab,
        "mode=active-backup miimon=100",
        1,
        &["--no-link-events"],
    );
    assert_ping(&lab, &a, "10.213.1.2", "before failover");

    let out = lab.bondctl(0, &["status"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for line in [
        "Ethernet Channel Bonding Driver: ",
        "Bonding Mode: fault-tolerance (active-backup)\n",
        "Currently Active Slave: a0\n",
        "MII Status: up\n",
        "MII Polling Interval (ms): 100\n",
        "\nSlave Interface: a0\nMII Status: up\nSpeed: 10000 Mbps\nDuplex: full\n",
        "\nSlave Interface: a1\n",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
    // The backup carries the bond MAC too (fail_over_mac=none), as Linux programs it.
    let bond_mac = lab.mac(&a, "bond0");
    assert_eq!(lab.mac(&a, "a0"), bond_mac);
    assert_eq!(lab.mac(&a, "a1"), bond_mac);

    // Cut the active veth: a1 becomes active on A within a miimon period, and z1 on Z at once.
    support::run_ok("ip", &["-n", &a, "link", "set", "a0", "down"]);
    let s = lab.wait_status(0, Duration::from_secs(3), "a1 active", |s| {
        s["active_port"] == "a1"
    });
    assert_eq!(port(&s, "a0")["link"], "down");
    assert_eq!(port(&s, "a0")["link_failure_count"], 1);
    lab.wait_status(1, Duration::from_secs(3), "z1 active", |s| {
        s["active_port"] == "z1"
    });
    assert_ping(&lab, &a, "10.213.1.2", "after failover");
    let text = String::from_utf8(lab.bondctl(0, &["status"]).stdout).unwrap();
    assert!(text.contains("Currently Active Slave: a1\n"), "{text}");

    // Without link events, the TAP's MTU and admin state are polled with miimon too.
    support::run_ok("ip", &["-n", &a, "link", "set", "bond0", "mtu", "1400"]);
    support::wait_until(Duration::from_secs(2), "a1 follows the bond MTU", || {
        lab.mtu(&a, "a1") == 1400
    });
    support::run_ok("ip", &["-n", &a, "link", "set", "bond0", "down"]);
    lab.wait_status(0, Duration::from_secs(2), "bond down", |s| s["up"] == false);
    support::run_ok("ip", &["-n", &a, "link", "set", "bond0", "up"]);
    lab.wait_status(0, Duration::from_secs(2), "bond up", |s| s["up"] == true);
}

#[test]
fn balance_rr_spreads_and_survives_a_cut() {
    let Some(mut lab) = Lab::new("balance_rr_spreads_and_survives_a_cut") else {
        return;
    };
    let (a, _z) = bonded_pair(&mut lab, "mode=balance-rr miimon=100", 2, &[]);
    assert_ping(&lab, &a, "10.213.2.2", "balance-rr");
    let s = lab.status_json(0);
    for p in ["a0", "a1"] {
        let sent = port(&s, p)["counters"]["tx_packets"].as_u64().unwrap();
        assert!(sent > 0, "balance-rr sent nothing on {p}: {s:#}");
    }
    support::run_ok("ip", &["-n", &a, "link", "set", "a1", "down"]);
    lab.wait_status(0, Duration::from_secs(3), "a1 down", |s| {
        port(s, "a1")["link"] == "down"
    });
    assert_ping(&lab, &a, "10.213.2.2", "balance-rr with one port cut");

    // A port that disappears is released, as Linux releases an unregistered member; the bond
    // goes on with the others.
    support::run_ok("ip", &["-n", &a, "link", "del", "a1"]);
    lab.wait_status(0, Duration::from_secs(3), "a1 released", |s| {
        s["ports"].as_array().unwrap().len() == 1
    });
    assert_ping(&lab, &a, "10.213.2.2", "balance-rr after a port vanished");
}

#[test]
fn lacp_between_two_bondds_reaches_distributing() {
    let Some(mut lab) = Lab::new("lacp_between_two_bondds_reaches_distributing") else {
        return;
    };
    let pcap = lab.dir.join("a.pcap");
    let pcap_arg = pcap.to_str().unwrap().to_string();
    let (a, _z) = bonded_pair(
        &mut lab,
        "mode=802.3ad miimon=100 lacp_rate=fast",
        3,
        &["--pcap", &pcap_arg],
    );
    let all_distributing = |s: &serde_json::Value| {
        s["ports"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["lacp"]["collecting"] == true && p["lacp"]["distributing"] == true)
    };
    let sa = lab.wait_status(
        0,
        Duration::from_secs(10),
        "A distributing",
        all_distributing,
    );
    let sz = lab.wait_status(
        1,
        Duration::from_secs(10),
        "Z distributing",
        all_distributing,
    );
    // One aggregator with both ports on each side, and each side's partner is the other.
    for (s, other) in [(&sa, &sz), (&sz, &sa)] {
        let agg = &s["lacp"]["active_aggregator"];
        assert_eq!(agg["ports"], 2, "{s:#}");
        assert_eq!(agg["partner_system"], other["mac"], "{s:#}");
        for p in s["ports"].as_array().unwrap() {
            assert_eq!(p["lacp"]["aggregator_id"], agg["id"]);
            let flags = p["lacp"]["partner"]["state_flags"].as_array().unwrap();
            assert!(flags.contains(&"distributing".into()), "{p:#}");
        }
    }
    assert_ping(&lab, &a, "10.213.3.2", "802.3ad");
    let text = String::from_utf8(lab.bondctl(0, &["status"]).stdout).unwrap();
    assert!(
        text.contains("Bonding Mode: IEEE 802.3ad Dynamic link aggregation\n"),
        "{text}"
    );
    assert!(text.contains("Active Aggregator Info:\n"), "{text}");

    // --pcap recorded LACPDUs in both directions.
    let bytes = std::fs::read(&pcap).unwrap();
    let (sent, received) = count_lacpdus(&bytes, &sa["mac"]);
    assert!(
        sent >= 2 && received >= 2,
        "pcap: {sent} sent, {received} received"
    );
}

/// `bondctl remove` of an 802.3ad port sends a goodbye LACPDU, as Linux does on release, even
/// when the three-a-second limit holds it back: the partner lets go of the link at once
/// instead of after its 3 s timeout.
#[test]
fn lacp_port_removed_at_run_time_says_goodbye_even_when_held_back() {
    let Some(mut lab) = Lab::new("lacp_port_removed_at_run_time_says_goodbye_even_when_held_back")
    else {
        return;
    };
    bonded_pair(&mut lab, "mode=802.3ad miimon=100 lacp_rate=fast", 9, &[]);
    let distributing = |s: &serde_json::Value, p: &str| port(s, p)["lacp"]["distributing"] == true;
    lab.wait_status(0, Duration::from_secs(10), "A distributing", |s| {
        distributing(s, "a0") && distributing(s, "a1")
    });
    lab.wait_status(1, Duration::from_secs(10), "Z distributing", |s| {
        distributing(s, "z0") && distributing(s, "z1")
    });
    // Three changes of a1's actor information, three LACPDUs: the goodbye that follows at once
    // is the fourth in a second, so the core holds it back.
    for prio in ["100", "200", "300"] {
        let out = lab.bondctl(0, &["actor_port_prio", "a1", prio]);
        assert!(out.status.success(), "{out:?}");
    }
    let removed = Instant::now();
    let out = lab.bondctl(0, &["remove", "a1"]);
    assert!(out.status.success(), "{out:?}");
    let s = lab.wait_status(1, Duration::from_secs(4), "z1 out of the LAG", |s| {
        !distributing(s, "z1")
    });
    let took = removed.elapsed();
    assert!(
        took < Duration::from_millis(2500),
        "Z let go of z1 only after {took:?} (its timeout, not a goodbye): {s:#}"
    );
    assert!(distributing(&s, "z0"), "{s:#}");
}

/// LACPDUs in a classic pcap file: (sent by `our_mac`, received from others).
fn count_lacpdus(bytes: &[u8], our_mac: &serde_json::Value) -> (usize, usize) {
    let ours = support::mac_bytes(our_mac.as_str().unwrap());
    let lacpdus = pcap_frames(bytes)
        .into_iter()
        .filter(|f| f.len() >= 15 && f[12..14] == [0x88, 0x09] && f[14] == 1);
    let (sent, received): (Vec<_>, Vec<_>) = lacpdus.partition(|f| f[6..12] == ours);
    (sent.len(), received.len())
}

#[test]
fn sigterm_removes_the_tap_and_restores_member_macs() {
    let Some(mut lab) = Lab::new("sigterm_removes_the_tap_and_restores_member_macs") else {
        return;
    };
    let (a, _z) = lab.two_hosts();
    let before = [lab.mac(&a, "a0"), lab.mac(&a, "a1")];
    let sysctl = |lab: &Lab, key: &str| {
        let out = lab.exec(&a, &["cat", key]);
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let rp_filter = "/proc/sys/net/ipv4/conf/a1/rp_filter";
    let disable_ipv6 = "/proc/sys/net/ipv6/conf/a1/disable_ipv6";
    let rp_before = sysctl(&lab, rp_filter);
    let v6_before = sysctl(&lab, disable_ipv6);

    let i = lab.start_bondd(
        &a,
        "bond0",
        "mode=balance-rr miimon=100",
        &["a0", "a1"],
        &[],
    );
    assert!(lab.has_link(&a, "bond0"));
    assert_eq!(
        lab.mac(&a, "a1"),
        before[0],
        "a1 carries the bond MAC (a0's)"
    );
    assert_eq!(sysctl(&lab, rp_filter), "1");
    assert_eq!(sysctl(&lab, disable_ipv6), "1");

    let status = lab.stop(i);
    assert!(status.success(), "bondd exited with {status}");
    assert!(!lab.has_link(&a, "bond0"), "the TAP is gone");
    assert_eq!([lab.mac(&a, "a0"), lab.mac(&a, "a1")], before);
    assert_eq!(sysctl(&lab, rp_filter), rp_before);
    assert_eq!(sysctl(&lab, disable_ipv6), v6_before);
    let flags = String::from_utf8(lab.ip(&a, &["link", "show", "a1"]).stdout).unwrap();
    assert!(!flags.contains("NOARP"), "ARP is back on: {flags}");
    assert!(
        !lab.daemons[i].control.exists(),
        "the control socket is removed"
    );
}

#[test]
fn a_second_bondd_on_the_same_port_is_refused() {
    let Some(mut lab) = Lab::new("a_second_bondd_on_the_same_port_is_refused") else {
        return;
    };
    let (a, _z) = lab.two_hosts();
    lab.start_bondd(
        &a,
        "bond0",
        "mode=active-backup miimon=100",
        &["a0", "a1"],
        &[],
    );
    let out = lab
        .bondd_command(&a, "bond1", "mode=active-backup miimon=100", &["a1"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("port a1 is already in use by bondd bond0"),
        "{stderr}"
    );
    assert!(!lab.has_link(&a, "bond1"), "nothing was created");
    // The first daemon is undisturbed.
    assert!(lab.bondctl(0, &["status"]).status.success());
}

#[test]
fn bad_options_are_refused_and_nothing_is_created() {
    let Some(mut lab) = Lab::new("bad_options_are_refused_and_nothing_is_created") else {
        return;
    };
    let (a, _z) = lab.two_hosts();
    let mac_before = lab.mac(&a, "a0");
    for (options, expect) in [
        ("mode=bogus miimon=100", "mode"),
        ("mode=active-backup miimon=fast", "miimon"),
        ("mode=balance-alb", "balance-alb"),
    ] {
        let out = lab
            .bondd_command(&a, "bondx", options, &["a0"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{options}: {stderr}");
        assert!(stderr.contains("options"), "{options}: {stderr}");
        assert!(stderr.contains(expect), "{options}: {stderr}");
        assert!(!lab.has_link(&a, "bondx"), "{options}: a TAP was created");
        assert!(!lab.dir.join(format!("{a}-bondx.sock")).exists());
    }
    assert_eq!(lab.mac(&a, "a0"), mac_before);
    // A port that does not exist is refused before anything is created too.
    let out = lab
        .bondd_command(&a, "bondx", "mode=active-backup miimon=100", &["nosuch0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nosuch0"));
    assert!(!lab.has_link(&a, "bondx"));
}

#[test]
fn bondctl_set_add_remove_active() {
    let Some(mut lab) = Lab::new("bondctl_set_add_remove_active") else {
        return;
    };
    let (a, _z) = lab.two_hosts();
    let a1_mac = lab.mac(&a, "a1");
    lab.start_bondd(
        &a,
        "bond0",
        "mode=active-backup miimon=100",
        &["a0", "a1"],
        &[],
    );
    let ok = |lab: &Lab, args: &[&str]| {
        let out = lab.bondctl(0, args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let refused = |lab: &Lab, args: &[&str], expect: &str| {
        let out = lab.bondctl(0, args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} was accepted");
        assert!(stderr.contains(expect), "{args:?}: {stderr}");
    };
    ok(&lab, &["set", "miimon", "200"]);
    assert_eq!(
        lab.status_json(0)["options"],
        "mode=active-backup miimon=200"
    );
    refused(&lab, &["set", "nosuchoption", "1"], "nosuchoption");
    refused(&lab, &["set", "miimon", "-5"], "miimon");
    assert_eq!(
        lab.status_json(0)["options"],
        "mode=active-backup miimon=200"
    );

    ok(&lab, &["active", "a1"]);
    assert_eq!(lab.status_json(0)["active_port"], "a1");
    refused(&lab, &["active", "nosuch0"], "not a port");

    ok(&lab, &["remove", "a0"]);
    let s = lab.status_json(0);
    assert_eq!(s["ports"].as_array().unwrap().len(), 1);
    ok(&lab, &["add", "a0"]);
    refused(&lab, &["add", "a0"], "already a port");
    refused(&lab, &["add", "nosuch0"], "nosuch0");
    assert_eq!(lab.status_json(0)["ports"].as_array().unwrap().len(), 2);

    // `ip link set bond0 down` takes the bond down, as on a kernel bond.
    support::run_ok("ip", &["-n", &a, "link", "set", "bond0", "down"]);
    lab.wait_status(0, Duration::from_secs(2), "bond down", |s| {
        s["up"] == false && s["carrier"] == false
    });
    support::run_ok("ip", &["-n", &a, "link", "set", "bond0", "up"]);
    lab.wait_status(0, Duration::from_secs(2), "bond up", |s| {
        s["up"] == true && s["carrier"] == true
    });

    // remove restores the MAC of a port that carried the bond's.
    ok(&lab, &["remove", "a1"]);
    assert_eq!(lab.mac(&a, "a1"), a1_mac);
}

#[test]
fn vlan_tags_survive_the_ports_in_broadcast_mode() {
    let Some(mut lab) = Lab::new("vlan_tags_survive_the_ports_in_broadcast_mode") else {
        return;
    };
    let (a, z) = bonded_pair(&mut lab, "mode=broadcast miimon=100", 4, &[]);
    // The kernel takes the tag out of every frame a port receives; bondd must put it back
    // before the frame reaches the TAP on the other side. Sockets on the TAPs play the hosts.
    let mut frame = vec![0xff; 6];
    frame.extend([0x02, 0, 0, 0, 0, 0x99]);
    frame.extend([0x81, 0x00, 0x20, 0x07, 0x88, 0xb5]); // PCP 1, VID 7, local experimental type
    frame.extend(b"vlan-probe-through-bondd".iter().chain([0u8; 30].iter()));
    let receiver = std::thread::scope(|s| {
        let rx = s.spawn(|| {
            support::in_netns(&z, || {
                let nd = NetDev::new().unwrap();
                let sock = PacketSocket::open(nd.ifindex("bond0").unwrap()).unwrap();
                let mut buf = vec![0u8; 2048];
                let deadline = Instant::now() + Duration::from_secs(3);
                let mut copies = Vec::new();
                while Instant::now() < deadline {
                    match sock.recv(&mut buf).unwrap() {
                        Some(Received::Frame(r)) if buf[r.clone()].ends_with(&[0u8; 30]) => {
                            copies.push(buf[r].to_vec());
                        }
                        Some(_) => {}
                        None => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
                copies
            })
        });
        std::thread::sleep(Duration::from_millis(300));
        support::in_netns(&a, || {
            let nd = NetDev::new().unwrap();
            let sock = PacketSocket::open(nd.ifindex("bond0").unwrap()).unwrap();
            sock.send(&frame).unwrap();
        });
        rx.join().unwrap()
    });
    // Broadcast mode sends a copy on each port, and the receiving bond delivers both.
    assert_eq!(receiver.len(), 2, "copies received: {receiver:02x?}");
    for copy in &receiver {
        assert_eq!(copy, &frame, "the frame arrived changed");
    }
}

/// Write `files` (name, text) into a fresh directory `sub` of the lab's, and return the path
/// of its `ifcfg-bond0`.
fn write_ifcfg(lab: &Lab, sub: &str, files: &[(&str, &str)]) -> String {
    let dir = lab.dir.join(sub);
    std::fs::create_dir_all(&dir).unwrap();
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    dir.join("ifcfg-bond0").to_str().unwrap().to_string()
}

/// The IPv4 addresses (with prefix lengths) on `dev` in `ns`.
fn ipv4_addresses(lab: &Lab, ns: &str, dev: &str) -> Vec<String> {
    let out = lab.ip(ns, &["-j", "-4", "addr", "show", "dev", dev]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v[0]["addr_info"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| format!("{}/{}", a["local"].as_str().unwrap(), a["prefixlen"]))
        .collect()
}

/// A bondd started from an ifcfg file on A against a bondd started with `peer_options` on Z:
/// the file's name, options, ports, address and MTU are in effect, and ping crosses.
fn ifcfg_bond_pings(
    test: &str,
    files: &[(&str, &str)],
    peer_options: &str,
    addrs: [&str; 2],
    mtu: u64,
) {
    let Some(mut lab) = Lab::new(test) else {
        return;
    };
    let (a, z) = lab.two_hosts();
    let path = write_ifcfg(&lab, "etc", files);
    let i = lab.start_bondd_args(&a, "bond0", &["--ifcfg", &path]);
    lab.start_bondd(&z, "bond0", peer_options, &["z0", "z1"], &[]);
    support::run_ok("ip", &["-n", &z, "addr", "add", addrs[1], "dev", "bond0"]);

    // The address is on the TAP, as `ip addr add` would have put it.
    assert_eq!(
        ipv4_addresses(&lab, &a, "bond0"),
        vec![addrs[0].to_string()]
    );
    let s = lab.status_json(i);
    assert_eq!(s["name"], "bond0");
    assert_eq!(s["options"], peer_options, "{s:#}");
    let ports: Vec<_> = s["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["name"])
        .collect();
    assert_eq!(ports, ["a0", "a1"]);
    for dev in ["bond0", "a0", "a1"] {
        assert_eq!(lab.mtu(&a, dev), mtu, "MTU of {dev}");
    }
    let log = std::fs::read_to_string(&lab.daemons[i].log).unwrap();
    assert!(
        log.contains(&format!("address {} added", addrs[0])),
        "{log}"
    );
    let peer = addrs[1].split('/').next().unwrap();
    assert_ping(&lab, &a, peer, test);
}

#[test]
fn ifcfg_initscripts_bond() {
    ifcfg_bond_pings(
        "ifcfg_initscripts_bond",
        &[
            (
                "ifcfg-bond0",
                "DEVICE=bond0\nTYPE=Bond\nBONDING_MASTER=yes\n\
                 BONDING_OPTS=\"mode=active-backup miimon=100\"\n\
                 BOOTPROTO=none\nONBOOT=yes\nIPADDR=10.213.5.1\nNETMASK=255.255.255.0\n",
            ),
            // Listed in file-name order, which is the order initscripts enslaves them in.
            (
                "ifcfg-a1",
                "DEVICE=a1\nMASTER=bond0\nSLAVE=yes\nBOOTPROTO=none\n",
            ),
            (
                "ifcfg-a0",
                "DEVICE=a0\nMASTER=bond0\nSLAVE=yes\nBOOTPROTO=none\nONBOOT=yes\n",
            ),
        ],
        "mode=active-backup miimon=100",
        ["10.213.5.1/24", "10.213.5.2/24"],
        1500,
    );
}

#[test]
fn ifcfg_sysconfig_bond() {
    ifcfg_bond_pings(
        "ifcfg_sysconfig_bond",
        &[(
            "ifcfg-bond0",
            "STARTMODE='auto'\nBOOTPROTO='static'\nIPADDR='10.0.2.10/24'\n\
             BONDING_MASTER='yes'\nBONDING_MODULE_OPTS='mode=balance-rr miimon=100'\n\
             BONDING_SLAVE0='a0'\nBONDING_SLAVE1='a1'\nMTU='1400'\n",
        )],
        "mode=balance-rr miimon=100",
        ["10.0.2.10/24", "10.0.2.11/24"],
        1400,
    );
}

#[test]
fn ifcfg_errors_are_refused_and_nothing_is_created() {
    let Some(mut lab) = Lab::new("ifcfg_errors_are_refused_and_nothing_is_created") else {
        return;
    };
    let (a, _z) = lab.two_hosts();
    let mac_before = lab.mac(&a, "a0");
    let bad = write_ifcfg(
        &lab,
        "bad",
        &[
            (
                "ifcfg-bond0",
                "DEVICE=bond0\nBONDING_OPTS=\"mode=active-backup miimon=100\nIPADDR=10.1.1.1\n",
            ),
            ("ifcfg-a0", "DEVICE=a0\nMASTER=bond0\nSLAVE=yes\n"),
        ],
    );
    let good = write_ifcfg(
        &lab,
        "good",
        &[
            (
                "ifcfg-bond0",
                "DEVICE=bond0\nBONDING_OPTS=\"mode=1 miimon=100\"\n",
            ),
            ("ifcfg-a0", "DEVICE=a0\nMASTER=bond0\nSLAVE=yes\n"),
        ],
    );
    let run = |args: &[&str]| {
        let out = lab.bondd_args_command(&a, "bond0", args).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };

    let (code, stderr) = run(&["--ifcfg", &bad]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "bondd: {bad}:2: BONDING_OPTS: unterminated double quote"
        )),
        "{stderr}"
    );
    // An explicit --name must agree with the file's.
    let (code, stderr) = run(&["--ifcfg", &good, "--name", "bond7"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("--name bond7 disagrees"), "{stderr}");
    assert!(!lab.has_link(&a, "bond7"));
    // --ifcfg excludes --options and PORT arguments.
    for extra in [&["--options", "mode=1"][..], &["a0"][..]] {
        let mut args = vec!["--ifcfg", good.as_str()];
        args.extend(extra);
        let (code, stderr) = run(&args);
        assert_eq!(code, Some(2), "{extra:?}: {stderr}");
        assert!(
            stderr.contains("cannot be used with"),
            "{extra:?}: {stderr}"
        );
    }
    assert!(!lab.has_link(&a, "bond0"), "a TAP was created");
    assert!(!lab.dir.join(format!("{a}-bond0.sock")).exists());
    assert_eq!(lab.mac(&a, "a0"), mac_before);
}

#[test]
fn bondctl_per_port_settings() {
    let Some(mut lab) = Lab::new("bondctl_per_port_settings") else {
        return;
    };
    let (a, z) = lab.two_hosts();
    lab.start_bondd(
        &a,
        "bond0",
        "mode=active-backup miimon=100",
        &["a0", "a1"],
        &[],
    );
    lab.start_bondd(&z, "bond0", "mode=802.3ad miimon=100", &["z0", "z1"], &[]);
    let ok = |lab: &Lab, i: usize, args: &[&str]| {
        let out = lab.bondctl(i, args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let refused = |lab: &Lab, i: usize, args: &[&str], expect: &str| {
        let out = lab.bondctl(i, args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} was accepted");
        assert!(stderr.contains(expect), "{args:?}: {stderr}");
    };

    ok(&lab, 0, &["prio", "a1", "10"]);
    ok(&lab, 0, &["prio", "a0", "-5"]);
    ok(&lab, 0, &["queue_id", "a1", "3"]);
    let s = lab.status_json(0);
    assert_eq!(port(&s, "a0")["prio"], -5);
    assert_eq!(port(&s, "a1")["prio"], 10);
    assert_eq!(port(&s, "a0")["queue_id"], 0);
    assert_eq!(port(&s, "a1")["queue_id"], 3);
    let text = String::from_utf8(lab.bondctl(0, &["status"]).stdout).unwrap();
    assert!(
        text.contains("\nSlave Interface: a1\n") && text.contains("Slave queue ID: 3\n"),
        "{text}"
    );
    for cmd in ["prio", "queue_id", "actor_port_prio"] {
        refused(
            &lab,
            0,
            &[cmd, "nosuch0", "1"],
            "nosuch0 is not a port of bond0",
        );
    }
    refused(&lab, 0, &["queue_id", "a1", "65536"], "65536");
    refused(&lab, 0, &["prio", "a1", "high"], "high");

    ok(&lab, 1, &["actor_port_prio", "z1", "100"]);
    let s = lab.status_json(1);
    assert_eq!(port(&s, "z1")["lacp"]["actor"]["port_priority"], 100);
    assert_eq!(port(&s, "z0")["lacp"]["actor"]["port_priority"], 255);
    refused(&lab, 1, &["actor_port_prio", "z1", "0"], "actor_port_prio");
    refused(&lab, 1, &["actor_port_prio", "z1", "65536"], "65536");
    assert_eq!(
        port(&lab.status_json(1), "z1")["lacp"]["actor"]["port_priority"],
        100
    );
}

/// Active-backup with `fail_over_mac=<policy>` on A (plain on Z): MACs after start, after a
/// failover from a0 to a1, and after shutdown. `check` gets (original a0, original a1) and the
/// MACs of (bond0, a0, a1) at each stage: "start", "failover".
fn fail_over_mac_test(test: &str, policy: &str, net: u8, expect: impl Fn(&str) -> [usize; 3]) {
    let Some(mut lab) = Lab::new(test) else {
        return;
    };
    let (a, _z) = lab.two_hosts();
    let orig = [lab.mac(&a, "a0"), lab.mac(&a, "a1")];
    let options = format!("mode=active-backup miimon=100 fail_over_mac={policy}");
    let i = lab.start_bondd(&a, "bond0", &options, &["a0", "a1"], &[]);
    lab.start_bondd(
        &_z,
        "bond0",
        "mode=active-backup miimon=100",
        &["z0", "z1"],
        &[],
    );
    for (ns, host) in [(&a, 1), (&_z, 2)] {
        let addr = format!("10.213.{net}.{host}/24");
        support::run_ok("ip", &["-n", ns, "addr", "add", &addr, "dev", "bond0"]);
    }
    let peer = format!("10.213.{net}.2");
    let macs = |lab: &Lab| [lab.mac(&a, "bond0"), lab.mac(&a, "a0"), lab.mac(&a, "a1")];
    let want = |stage: &str| expect(stage).map(|k| orig[k].clone());

    assert_eq!(macs(&lab), want("start"), "{policy}: at start");
    assert_eq!(lab.status_json(i)["mac"], orig[0]);
    assert_ping(&lab, &a, &peer, "before failover");

    support::run_ok("ip", &["-n", &a, "link", "set", "a0", "down"]);
    lab.wait_status(i, Duration::from_secs(3), "a1 active", |s| {
        s["active_port"] == "a1"
    });
    lab.wait_status(1, Duration::from_secs(3), "z1 active", |s| {
        s["active_port"] == "z1"
    });
    assert_eq!(macs(&lab), want("failover"), "{policy}: after failover");
    assert_eq!(lab.status_json(i)["mac"], want("failover")[0]);
    assert_ping(&lab, &a, &peer, "after failover");

    let status = lab.stop(i);
    assert!(status.success(), "bondd exited with {status}");
    assert_eq!(
        [lab.mac(&a, "a0"), lab.mac(&a, "a1")],
        orig,
        "{policy}: after shutdown"
    );
}

#[test]
fn fail_over_mac_active() {
    // The bond takes the active port's MAC (the TAP follows); the ports keep their own.
    fail_over_mac_test("fail_over_mac_active", "active", 7, |stage| match stage {
        "start" => [0, 0, 1],
        _ => [1, 0, 1],
    });
}

#[test]
fn fail_over_mac_follow() {
    // The first port gives the bond its MAC; the active port carries the bond MAC, and on
    // failover the old and new active ports swap MACs.
    fail_over_mac_test("fail_over_mac_follow", "follow", 8, |stage| match stage {
        "start" => [0, 0, 1],
        _ => [0, 1, 0],
    });
}
