//! What bondd leaves on its member ports, and what it puts back (needs root; see `support`):
//! recovery after SIGKILL from the ports' state files, and the bond's MTU on its ports.

mod support;

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::time::Duration;

use support::{wait_until, Lab};

const WAIT: Duration = Duration::from_secs(5);

/// The state files in the lab's lock directory.
fn state_files(lab: &Lab) -> Vec<PathBuf> {
    let Ok(dir) = fs::read_dir(lab.dir.join("locks")) else {
        return Vec::new();
    };
    dir.map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "state"))
        .collect()
}

/// Everything bondd changes on a port, as `ip` and `/proc/sys` show it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PortView {
    mac: String,
    mtu: u64,
    up: bool,
    noarp: bool,
    rp_filter: String,
    disable_ipv6: String,
}

fn view(lab: &Lab, ns: &str, dev: &str) -> PortView {
    let flags = lab.link_flags(ns, dev);
    PortView {
        mac: lab.mac(ns, dev),
        mtu: lab.mtu(ns, dev),
        up: flags.iter().any(|f| f == "UP"),
        noarp: flags.iter().any(|f| f == "NOARP"),
        rp_filter: lab.sysctl(ns, &format!("net/ipv4/conf/{dev}/rp_filter")),
        disable_ipv6: lab.sysctl(ns, &format!("net/ipv6/conf/{dev}/disable_ipv6")),
    }
}

#[test]
fn sigkill_leaves_state_files_the_next_bondd_restores_from() {
    let Some(mut lab) = Lab::new("sigkill_leaves_state_files_the_next_bondd_restores_from") else {
        return;
    };
    let (a, _z) = lab.two_hosts();
    // Settings bondd changes, made recognisable: a1 starts down, a0 has rp_filter=2.
    lab.set_sysctl(&a, "net/ipv4/conf/a0/rp_filter", "2");
    support::run_ok("ip", &["-n", &a, "link", "set", "a1", "down"]);
    let before = [view(&lab, &a, "a0"), view(&lab, &a, "a1")];
    assert!(!before[1].up && !before[0].noarp && before[0].mtu == 1500);

    // A bond MAC of its own, so that every port's MAC changes (by default it is a0's).
    let mac_arg = ["--mac", "02:00:5e:10:00:01"];
    let first = lab.start_bondd(
        &a,
        "bond0",
        "mode=active-backup miimon=100",
        &["a0", "a1"],
        &mac_arg,
    );
    assert_eq!(state_files(&lab).len(), 2, "one state file per port");
    support::run_ok("ip", &["-n", &a, "link", "set", "bond0", "mtu", "4000"]);
    wait_until(WAIT, "the ports at MTU 4000", || {
        lab.mtu(&a, "a0") == 4000 && lab.mtu(&a, "a1") == 4000
    });
    let bond_mac = lab.mac(&a, "bond0");
    assert_eq!(bond_mac, "02:00:5e:10:00:01");
    let during = view(&lab, &a, "a0");
    assert_eq!(during.mac, bond_mac);
    assert!(during.noarp && during.rp_filter == "1" && during.disable_ipv6 == "1");
    assert!(view(&lab, &a, "a1").up);

    // SIGKILL: nothing runs, so everything stays as bondd left it, and so do the state files.
    lab.kill(first);
    let after_kill = view(&lab, &a, "a0");
    assert_eq!(after_kill, during, "a SIGKILLed bondd restored something?");
    assert_eq!(lab.mtu(&a, "a1"), 4000);
    assert_eq!(state_files(&lab).len(), 2, "state files gone after SIGKILL");

    // The next bondd on these ports restores them from the files before it takes them.
    let second = lab.start_bondd(
        &a,
        "bond0",
        "mode=active-backup miimon=100",
        &["a0", "a1"],
        &mac_arg,
    );
    let log = lab.log(second);
    for (port, orig) in [("a0", &before[0]), ("a1", &before[1])] {
        let line = log
            .lines()
            .find(|l| {
                l.contains(&format!(
                    "{port}: restoring state left by a bondd that did not exit cleanly"
                ))
            })
            .unwrap_or_else(|| panic!("no restore line for {port} in:\n{log}"));
        let mac = format!("MAC {bond_mac} -> {}", orig.mac);
        assert!(line.contains(&mac), "{line}");
        assert!(line.contains("MTU 4000 -> 1500"), "{line}");
        assert!(line.contains("ARP on"), "{line}");
    }
    assert!(log.contains("rp_filter=2"), "{log}");
    assert!(log.contains("admin down"), "{log}");
    // It took the ports over with their restored settings as the ones to restore later.
    assert_eq!(view(&lab, &a, "a0").mtu, 1500);
    assert_eq!(state_files(&lab).len(), 2);

    // A clean exit puts the original settings back and removes the files.
    assert!(lab.stop(second).success());
    assert_eq!(view(&lab, &a, "a0"), before[0]);
    assert_eq!(view(&lab, &a, "a1"), before[1]);
    assert!(state_files(&lab).is_empty(), "{:?}", state_files(&lab));
}

#[test]
fn a_garbled_state_file_is_ignored_with_a_warning() {
    let Some(mut lab) = Lab::new("a_garbled_state_file_is_ignored_with_a_warning") else {
        return;
    };
    let (a, _z) = lab.two_hosts();
    let netns = fs::metadata(format!("/var/run/netns/{a}")).unwrap().ino();
    let locks = lab.dir.join("locks");
    fs::create_dir_all(&locks).unwrap();
    let bogus = locks.join(format!("net{netns}-a0.state"));
    fs::write(&bogus, b"\xff\xfe garbage\nmac=zz\n").unwrap();
    // And one for another interface that used to be called a1 (another index).
    let stale = locks.join(format!("net{netns}-a1.state"));
    fs::write(
        &stale,
        "bondd-port-state=1\nport=a1\nifindex=999999\nowner=bondd bond0 (pid 1)\n\
         mac=02:00:00:00:00:99\nbond_macs=\nmtu=1280\nwas_down=1\nnoarp=1\n",
    )
    .unwrap();
    let before = view(&lab, &a, "a1");

    let i = lab.start_bondd(
        &a,
        "bond0",
        "mode=active-backup miimon=100",
        &["a0", "a1"],
        &[],
    );
    let log = lab.log(i);
    assert!(
        log.contains("a0: ignoring") && log.contains("not a valid state file"),
        "{log}"
    );
    assert!(
        log.contains("a1: not restoring state left by a bondd that did not exit cleanly")
            && log.contains("it was interface index 999999"),
        "{log}"
    );
    assert!(lab.stop(i).success());
    // Nothing from the stale file was applied; the port is as it was.
    assert_eq!(view(&lab, &a, "a1"), before);
    assert!(state_files(&lab).is_empty(), "{:?}", state_files(&lab));
}

#[test]
fn ports_follow_the_bond_mtu_and_get_theirs_back() {
    let Some(mut lab) = Lab::new("ports_follow_the_bond_mtu_and_get_theirs_back") else {
        return;
    };
    let (a, z) = lab.two_hosts();
    // A port joins at the bond's MTU, whatever it had.
    support::run_ok("ip", &["-n", &a, "link", "set", "a1", "mtu", "1400"]);
    let options = "mode=active-backup miimon=100";
    let ia = lab.start_bondd(&a, "bond0", options, &["a0", "a1"], &[]);
    let iz = lab.start_bondd(&z, "bond0", options, &["z0", "z1"], &[]);
    assert_eq!(lab.mtu(&a, "a1"), 1500);
    for (ns, host) in [(&a, 1), (&z, 2)] {
        let addr = format!("10.214.1.{host}/24");
        support::run_ok("ip", &["-n", ns, "addr", "add", &addr, "dev", "bond0"]);
    }
    let (replies, _) = lab.ping(&a, "10.214.1.2", 3);
    assert!(replies >= 2, "ping at MTU 1500: {replies}/3");

    support::run_ok("ip", &["-n", &a, "link", "set", "bond0", "mtu", "4000"]);
    wait_until(WAIT, "A's ports at MTU 4000", || {
        lab.mtu(&a, "a0") == 4000 && lab.mtu(&a, "a1") == 4000
    });
    assert!(
        lab.log(ia)
            .contains("bond0: MTU 1500 -> 4000, on every port too"),
        "{}",
        lab.log(ia)
    );
    // Z is still at 1500: its veth ends drop what does not fit.
    let big = ["ping", "-n", "-c", "1", "-W", "1", "-s", "3900", "-M", "do"];
    let cmd: Vec<&str> = big.iter().copied().chain(["10.214.1.2"]).collect();
    assert!(
        !lab.exec(&a, &cmd).status.success(),
        "3900 bytes crossed to MTU 1500"
    );

    support::run_ok("ip", &["-n", &z, "link", "set", "bond0", "mtu", "4000"]);
    wait_until(WAIT, "Z's ports at MTU 4000", || {
        lab.mtu(&z, "z0") == 4000 && lab.mtu(&z, "z1") == 4000
    });
    let cmd: Vec<&str> = ["ping", "-n", "-c", "3", "-i", "0.2", "-W", "1"]
        .into_iter()
        .chain(["-s", "3900", "-M", "do", "10.214.1.2"])
        .collect();
    let out = lab.exec(&a, &cmd);
    let text = String::from_utf8_lossy(&out.stdout);
    let replies = text.lines().filter(|l| l.contains("bytes from")).count();
    assert!(replies >= 2, "jumbo ping: {replies}/3:\n{text}");
    assert!(text.contains("3908 bytes from"), "{text}");

    // On exit each port gets its own MTU back.
    assert!(lab.stop(ia).success());
    assert!(lab.stop(iz).success());
    assert_eq!(lab.mtu(&a, "a0"), 1500);
    assert_eq!(lab.mtu(&a, "a1"), 1400);
    assert_eq!(lab.mtu(&z, "z0"), 1500);
    assert_eq!(lab.mtu(&z, "z1"), 1500);
}

#[test]
fn an_mtu_a_port_refuses_is_rolled_back() {
    let Some(mut lab) = Lab::new("an_mtu_a_port_refuses_is_rolled_back") else {
        return;
    };
    let a = lab.netns("A");
    let z = lab.netns("Z");
    lab.veth(&a, "a0", &z, "z0");
    lab.veth(&a, "x0", &z, "y0");
    // A macvlan cannot go above its lower device's MTU (1500).
    let made = lab.ip(
        &a,
        &[
            "link", "add", "link", "x0", "name", "m0", "type", "macvlan", "mode", "bridge",
        ],
    );
    if !support::may_run(
        "an_mtu_a_port_refuses_is_rolled_back",
        (!made.status.success()).then(|| {
            format!(
                "no macvlan: {}",
                String::from_utf8_lossy(&made.stderr).trim()
            )
        }),
    ) {
        return;
    }
    support::run_ok("ip", &["-n", &a, "link", "set", "m0", "up"]);
    let i = lab.start_bondd(
        &a,
        "bond0",
        "mode=active-backup miimon=100",
        &["a0", "m0"],
        &[],
    );
    support::run_ok("ip", &["-n", &a, "link", "set", "bond0", "mtu", "4000"]);
    wait_until(WAIT, "the refusal logged", || {
        lab.log(i).contains("port m0 refuses MTU 4000")
    });
    wait_until(WAIT, "bond0 back at MTU 1500", || {
        lab.mtu(&a, "bond0") == 1500
    });
    assert_eq!(lab.mtu(&a, "a0"), 1500, "a0 not rolled back");
    assert_eq!(lab.mtu(&a, "m0"), 1500);
    // A change every port takes still works afterwards.
    support::run_ok("ip", &["-n", &a, "link", "set", "bond0", "mtu", "1400"]);
    wait_until(WAIT, "the ports at MTU 1400", || {
        lab.mtu(&a, "a0") == 1400 && lab.mtu(&a, "m0") == 1400
    });
    assert!(lab.stop(i).success());
    assert_eq!(lab.mtu(&a, "a0"), 1500);
    assert_eq!(lab.mtu(&a, "m0"), 1500);
}
