//! bondd in 802.3ad mode against Open vSwitch (userspace datapath, balance-tcp) as the LACP
//! partner (needs root and `openvswitch-switch`; see `ovs_support`).
//!
//! Each test builds its own two namespaces, a private OVS instance with bond `ovsbond`
//! {sw1, sw2} on bridge `br0`, and bondd on the other veth ends {dut1, dut2}; then checks
//! that both sides reach collecting+distributing on both ports, that ping crosses the bond,
//! and that a link cut on either side takes the port out on
//! both sides while traffic goes on, and that restoring the link brings it back.
//! The negotiation time (switch links up -> both sides distributing) is printed as `TIMING:`.

mod ovs_support;
mod support;

use std::io::Write;
use std::time::{Duration, Instant};

use ovs_support::{OvsLab, OVS_BOND};
use support::port;

struct Scenario {
    test: &'static str,
    /// OVS `lacp=` (active | passive).
    ovs_lacp: &'static str,
    /// OVS `other_config:lacp-time=` (fast | slow).
    lacp_time: &'static str,
    /// bondd's options.
    bondd: &'static str,
    /// Third octet of the test's 10.214.x.0/24.
    net: u8,
    /// Cut a link on each side and restore it.
    cuts: bool,
    /// Bound on the negotiation time.
    negotiate_within: Duration,
}

fn bondd_distributing(status: &serde_json::Value, name: &str) -> bool {
    let l = &port(status, name)["lacp"];
    l["collecting"] == true && l["distributing"] == true
}

/// The text of the `lacp/show` block of `member` (`member: sw1: current attached` + details).
fn lacp_member_line(lacp_show: &str, member: &str) -> Option<String> {
    let head = format!("member: {member}:");
    lacp_show
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with(&head))
        .map(str::to_string)
}

/// Whether `bond/show` says `member <m>: enabled`.
fn ovs_enabled(bond_show: &str, member: &str) -> bool {
    let head = format!("member {member}: ");
    bond_show
        .lines()
        .map(str::trim)
        .any(|l| l.starts_with(&head) && l[head.len()..].starts_with("enabled"))
}

/// OVS view of `member`: attached to the aggregate and enabled for traffic.
fn ovs_member_up(lab: &OvsLab, member: &str) -> (bool, String) {
    let lacp = lab.appctl(&["lacp/show", OVS_BOND]);
    let bond = lab.appctl(&["bond/show", OVS_BOND]);
    let attached = lacp_member_line(&lacp, member)
        .is_some_and(|l| l.contains("current") && l.contains("attached"));
    (
        attached && ovs_enabled(&bond, member),
        format!("{lacp}\n{bond}"),
    )
}

/// Poll until bondd's port `dut<i>` and OVS member `sw<i>` are (`up`) or are not (`!up`)
/// in the aggregate, for each `i` in `which`. Returns the time it took.
fn wait_ports(lab: &mut OvsLab, which: &[u8], up: bool, within: Duration, what: &str) -> Duration {
    let start = Instant::now();
    loop {
        let status = lab.status();
        let mut ovs_text = String::new();
        let mut ok = true;
        for i in which {
            let b = bondd_distributing(&status, &format!("dut{i}"));
            let (o, text) = ovs_member_up(lab, &format!("sw{i}"));
            ovs_text = text;
            ok &= b == up && o == up;
        }
        if ok {
            return start.elapsed();
        }
        lab.check_alive();
        assert!(
            start.elapsed() < within,
            "timed out after {within:?} waiting for {what}\n--- bondd status ---\n{status:#}\n--- OVS ---\n{ovs_text}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn assert_ping(lab: &OvsLab, addr: &str, what: &str) {
    let (replies, dups) = lab.ping(addr, 5);
    assert!(replies >= 4, "{what}: only {replies}/5 replies from {addr}");
    assert_eq!(dups, 0, "{what}: duplicate replies");
}

fn run(s: Scenario) {
    let Some(mut lab) = OvsLab::new(s.test) else {
        return;
    };
    let (sw, bd) = (lab.sw.clone(), lab.bd.clone());
    lab.start_ovs();
    let lacp = format!("lacp={}", s.ovs_lacp);
    let time = format!("other_config:lacp-time={}", s.lacp_time);
    lab.vsctl(&[
        "add-bond",
        "br0",
        OVS_BOND,
        "sw1",
        "sw2",
        &lacp,
        "bond_mode=balance-tcp",
        &time,
    ]);
    let ovs_addr = format!("10.214.{}.2", s.net);
    lab.ip(
        &sw,
        &["addr", "add", &format!("{ovs_addr}/24"), "dev", "br0"],
    );
    lab.ip(&sw, &["link", "set", "br0", "up"]);

    // bondd brings dut1/dut2 up itself; there is no carrier until the switch side is up.
    lab.start_bondd(s.bondd);
    let bondd_addr = format!("10.214.{}.1/24", s.net);
    lab.ip(&bd, &["addr", "add", &bondd_addr, "dev", "bond0"]);

    // Gotcha 2: the OVS members come up after add-bond.
    let t0 = Instant::now();
    lab.ip(&sw, &["link", "set", "sw1", "up"]);
    lab.ip(&sw, &["link", "set", "sw2", "up"]);
    wait_ports(
        &mut lab,
        &[1, 2],
        true,
        s.negotiate_within,
        "both ports collecting+distributing on both sides",
    );
    let negotiated = t0.elapsed();
    let _ = writeln!(
        std::io::stderr(),
        "TIMING: {}: OVS lacp={} lacp-time={} vs bondd `{}`: link-up to both sides distributing in {} ms",
        s.test,
        s.ovs_lacp,
        s.lacp_time,
        s.bondd,
        negotiated.as_millis()
    );

    // One aggregator with both ports, whose partner is the OVS bridge.
    let status = lab.status();
    let agg = &status["lacp"]["active_aggregator"];
    assert_eq!(agg["ports"], 2, "{status:#}");
    let lacp_show = lab.appctl(&["lacp/show", OVS_BOND]);
    let sys_id = lacp_show
        .lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix("sys_id: "))
        .unwrap_or_else(|| panic!("no sys_id in:\n{lacp_show}"))
        .to_string();
    assert_eq!(agg["partner_system"], sys_id.as_str(), "{status:#}");
    let bond_show = lab.appctl(&["bond/show", OVS_BOND]);
    assert!(bond_show.contains("lacp_status: negotiated"), "{bond_show}");
    assert_ping(&lab, &ovs_addr, "both ports up");
    // Bulk TCP through bondd's offloads: super-frames leave bondd's ports, whose transmit
    // offloads are off (as Open vSwitch requires of any veth sender; see the lab), so the kernel
    // segments and checksums them before OVS reads the veths. And back the other way.
    let sink = support::start_sink(&sw, 1);
    support::transfer(&bd, &ovs_addr, 0, 4 << 20);
    sink.join().unwrap();
    let sink = support::start_sink(&bd, 1);
    support::transfer(&sw, bondd_addr.split('/').next().unwrap(), 0, 4 << 20);
    sink.join().unwrap();

    if !s.cuts {
        return;
    }
    let within = Duration::from_secs(10);
    // A cut on bondd's side, then on the switch's side.
    for (ns, dev, i) in [(&bd, "dut1", 1u8), (&sw, "sw2", 2u8)] {
        let other = 3 - i;
        lab.ip(ns, &["link", "set", dev, "down"]);
        wait_ports(
            &mut lab,
            &[i],
            false,
            within,
            &format!("{dev} cut: port {i} out"),
        );
        wait_ports(&mut lab, &[other], true, within, "the other port stays");
        let st = lab.status();
        assert_eq!(port(&st, &format!("dut{i}"))["link"], "down", "{st:#}");
        assert_ping(&lab, &ovs_addr, &format!("{dev} cut"));
        let t = Instant::now();
        lab.ip(ns, &["link", "set", dev, "up"]);
        wait_ports(&mut lab, &[1, 2], true, within, &format!("{dev} restored"));
        let _ = writeln!(
            std::io::stderr(),
            "TIMING: {}: {dev} restored -> both sides distributing again in {} ms",
            s.test,
            t.elapsed().as_millis()
        );
        assert_ping(&lab, &ovs_addr, &format!("{dev} restored"));
    }
}

#[test]
fn ovs_active_fast_negotiates_and_survives_cuts() {
    run(Scenario {
        test: "ovs_active_fast_negotiates_and_survives_cuts",
        ovs_lacp: "active",
        lacp_time: "fast",
        bondd: "mode=802.3ad miimon=100 lacp_rate=fast",
        net: 1,
        cuts: true,
        negotiate_within: Duration::from_secs(20),
    });
}

#[test]
fn ovs_active_slow_negotiates_and_survives_cuts() {
    run(Scenario {
        test: "ovs_active_slow_negotiates_and_survives_cuts",
        ovs_lacp: "active",
        lacp_time: "slow",
        bondd: "mode=802.3ad miimon=100 lacp_rate=slow",
        net: 2,
        cuts: true,
        negotiate_within: Duration::from_secs(30),
    });
}

#[test]
fn bondd_passive_against_ovs_active() {
    run(Scenario {
        test: "bondd_passive_against_ovs_active",
        ovs_lacp: "active",
        lacp_time: "fast",
        bondd: "mode=802.3ad miimon=100 lacp_rate=fast lacp_active=0",
        net: 3,
        cuts: true,
        negotiate_within: Duration::from_secs(20),
    });
}

#[test]
fn ovs_passive_against_bondd_active() {
    run(Scenario {
        test: "ovs_passive_against_bondd_active",
        ovs_lacp: "passive",
        lacp_time: "fast",
        bondd: "mode=802.3ad miimon=100 lacp_rate=fast",
        net: 4,
        cuts: true,
        negotiate_within: Duration::from_secs(20),
    });
}
