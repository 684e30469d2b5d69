//! A private lab for `tests/ovs.rs`: bondd in one network namespace, a private Open vSwitch
//! (userspace `netdev` datapath) in another, joined by two veth pairs.
//!
//! ```text
//!   ns <tag>-bd: bondd bond0 {dut1, dut2}  <==veth==>  ns <tag>-sw: OVS br0 {ovsbond = sw1, sw2}
//! ```
//!
//! The OVS instance has its own database, sockets, pid files and logs in the lab's scratch
//! directory (`OVS_RUNDIR` & co. point there), so it never touches a system OVS. Both OVS
//! daemons and bondd run as children of the test (no `--detach`); [`OvsLab`]'s `Drop` stops
//! them and deletes the namespaces even when the test panics, and then prints the logs.
//! See /work/shared/reference/lacp-peers.md §1 for the OVS behaviour this relies on.

#![allow(dead_code)]

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub(crate) use crate::support::{run_ok, terminate};

pub(crate) const BONDD: &str = env!("CARGO_BIN_EXE_bondd");
pub(crate) const BONDCTL: &str = env!("CARGO_BIN_EXE_bondctl");
const OVS_SCHEMA: &str = "/usr/share/openvswitch/vswitch.ovsschema";
/// The OVS bond's name.
pub(crate) const OVS_BOND: &str = "ovsbond";

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Why these tests cannot run here, if they cannot.
fn unavailable() -> Option<String> {
    if !rustix::process::geteuid().is_root() {
        return Some("not running as root".into());
    }
    if !Path::new("/dev/net/tun").exists() {
        return Some("no /dev/net/tun".into());
    }
    for tool in ["ip", "ping", "ethtool"] {
        if !have(tool) {
            return Some(format!("`{tool}` is not installed"));
        }
    }
    for tool in [
        "ovsdb-tool",
        "ovsdb-server",
        "ovs-vswitchd",
        "ovs-vsctl",
        "ovs-appctl",
    ] {
        if !have(tool) {
            return Some(format!(
                "Open vSwitch is not installed (`{tool}` missing; apt-get install openvswitch-switch)"
            ));
        }
    }
    if !Path::new(OVS_SCHEMA).exists() {
        return Some(format!("Open vSwitch schema {OVS_SCHEMA} missing"));
    }
    None
}

/// A child process the lab must stop.
struct Proc {
    what: String,
    child: Option<Child>,
    log: PathBuf,
}

/// The namespaces, the OVS instance, bondd and the scratch directory of one test.
pub(crate) struct OvsLab {
    pub(crate) tag: String,
    pub(crate) dir: PathBuf,
    /// The switch's namespace (OVS, sw1, sw2, br0).
    pub(crate) sw: String,
    /// bondd's namespace (dut1, dut2, bond0).
    pub(crate) bd: String,
    namespaces: Vec<String>,
    procs: Vec<Proc>,
    control: PathBuf,
}

impl OvsLab {
    /// A new lab with both namespaces and the two veth pairs (all links down), or `None`
    /// (after a loud `SKIPPED:` line) where the tests cannot run. With `CI=true` they must
    /// run: panic instead.
    pub(crate) fn new(test: &str) -> Option<Self> {
        if !crate::support::may_run(test, unavailable()) {
            return None;
        }
        let (tag, dir) = crate::support::scratch("ovstest");
        let mut lab = Self {
            control: dir.join("bondd.sock"),
            sw: format!("{tag}-sw"),
            bd: format!("{tag}-bd"),
            tag,
            dir,
            namespaces: Vec::new(),
            procs: Vec::new(),
        };
        for ns in [lab.sw.clone(), lab.bd.clone()] {
            run_ok("ip", &["netns", "add", &ns]);
            lab.namespaces.push(ns.clone());
            run_ok("ip", &["-n", &ns, "link", "set", "lo", "up"]);
        }
        for i in 1..=2 {
            let (sw, dut) = (format!("sw{i}"), format!("dut{i}"));
            run_ok(
                "ip",
                &[
                    "link", "add", &sw, "netns", &lab.sw, "type", "veth", "peer", "name", &dut,
                    "netns", &lab.bd,
                ],
            );
            // Gotcha 3: keep the switch namespace's IP stack off the OVS members (bondd does
            // the same to its own ports).
            run_ok("ip", &["-n", &lab.sw, "link", "set", &sw, "arp", "off"]);
            let key = format!("net.ipv6.conf.{sw}.disable_ipv6=1");
            lab.exec_ok(&lab.sw, &["sysctl", "-qw", &key]);
            // OVS's userspace datapath reads its veths without offloads, so a sender on the
            // other end must not hand it TCP super-frames or partial checksums (OVS documents
            // this for veth). bondd passes the host's offloaded frames on, as a kernel bond
            // does: its ports here need transmit offloads off (README).
            lab.exec_ok(&lab.bd, &["ethtool", "-K", &dut, "tx", "off"]);
        }
        Some(lab)
    }

    fn ovs_env(&self, cmd: &mut Command) {
        for var in ["OVS_RUNDIR", "OVS_DBDIR", "OVS_LOGDIR", "OVS_SYSCONFDIR"] {
            cmd.env(var, &self.dir);
        }
    }

    fn spawn(&mut self, what: &str, ns: &str, argv: &[&str], log: PathBuf) {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", ns]).args(argv);
        self.ovs_env(&mut cmd);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(&log).unwrap());
        let child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {what}: {e}"));
        self.procs.push(Proc {
            what: what.into(),
            child: Some(child),
            log,
        });
    }

    /// Start ovsdb-server and ovs-vswitchd in the switch namespace and create bridge `br0`
    /// (userspace datapath).
    pub(crate) fn start_ovs(&mut self) {
        let db = self.dir.join("conf.db");
        run_ok("ovsdb-tool", &["create", db.to_str().unwrap(), OVS_SCHEMA]);
        let remote = format!("--remote=punix:{}", self.dir.join("db.sock").display());
        let d = self.dir.display().to_string();
        let (sw, dblog) = (self.sw.clone(), self.dir.join("ovsdb-server.stderr"));
        self.spawn(
            "ovsdb-server",
            &sw,
            &[
                "ovsdb-server",
                db.to_str().unwrap(),
                &remote,
                &format!("--pidfile={d}/ovsdb-server.pid"),
                &format!("--unixctl={d}/ovsdb-server.ctl"),
                &format!("--log-file={d}/ovsdb-server.log"),
                "-vconsole:off",
            ],
            dblog,
        );
        // Until the server listens.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let out = self.vsctl_raw(&["--no-wait", "init"]);
            if out.status.success() {
                break;
            }
            self.check_alive();
            assert!(
                Instant::now() < deadline,
                "ovsdb-server never answered: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let vslog = self.dir.join("ovs-vswitchd.stderr");
        self.spawn(
            "ovs-vswitchd",
            &sw,
            &[
                "ovs-vswitchd",
                &format!("unix:{d}/db.sock"),
                &format!("--pidfile={d}/ovs-vswitchd.pid"),
                &format!("--unixctl={d}/ovs-vswitchd.ctl"),
                &format!("--log-file={d}/ovs-vswitchd.log"),
                "-vconsole:off",
            ],
            vslog,
        );
        // Without --no-wait, ovs-vsctl waits until ovs-vswitchd has applied the change.
        self.vsctl(&[
            "add-br",
            "br0",
            "--",
            "set",
            "bridge",
            "br0",
            "datapath_type=netdev",
        ]);
        self.check_alive();
    }

    fn vsctl_raw(&self, args: &[&str]) -> Output {
        let db = format!("--db=unix:{}", self.dir.join("db.sock").display());
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.sw, "ovs-vsctl", &db, "--timeout=10"])
            .args(args);
        self.ovs_env(&mut cmd);
        cmd.output().unwrap()
    }

    /// `ovs-vsctl ARGS` against this lab's OVS; must succeed.
    pub(crate) fn vsctl(&self, args: &[&str]) -> String {
        let out = self.vsctl_raw(args);
        assert!(
            out.status.success(),
            "ovs-vsctl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `ovs-appctl ARGS` against this lab's ovs-vswitchd; must succeed.
    pub(crate) fn appctl(&self, args: &[&str]) -> String {
        let ctl = self.dir.join("ovs-vswitchd.ctl");
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.sw, "ovs-appctl", "-t"])
            .arg(&ctl)
            .args(args);
        self.ovs_env(&mut cmd);
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "ovs-appctl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Panic if a daemon the lab started has exited.
    pub(crate) fn check_alive(&mut self) {
        for p in &mut self.procs {
            if let Some(child) = p.child.as_mut() {
                if let Some(status) = child.try_wait().unwrap() {
                    p.child = None;
                    panic!("{} exited early with {status}", p.what);
                }
            }
        }
    }

    /// Start bondd in the bondd namespace on dut1 and dut2 and wait until it answers.
    pub(crate) fn start_bondd(&mut self, options: &str) {
        let log = self.dir.join("bondd.log");
        let mut cmd = Command::new("ip");
        cmd.args([
            "netns",
            "exec",
            &self.bd,
            BONDD,
            "--name",
            "bond0",
            "--options",
            options,
        ]);
        cmd.arg("--control").arg(&self.control);
        cmd.arg("--lock-dir").arg(self.dir.join("locks"));
        cmd.args(["dut1", "dut2"]);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(&log).unwrap());
        let child = cmd.spawn().expect("spawn bondd");
        self.procs.push(Proc {
            what: "bondd".into(),
            child: Some(child),
            log,
        });
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if self.bondctl(&["status"]).status.success() {
                return;
            }
            self.check_alive();
            assert!(Instant::now() < deadline, "bondd never answered");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub(crate) fn bondctl(&self, args: &[&str]) -> Output {
        Command::new(BONDCTL)
            .arg("--control")
            .arg(&self.control)
            .args(args)
            .output()
            .expect("run bondctl")
    }

    /// bondd's `bondctl status --json`.
    pub(crate) fn status(&self) -> serde_json::Value {
        let out = self.bondctl(&["status", "--json"]);
        assert!(
            out.status.success(),
            "bondctl status: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("status --json is JSON")
    }

    /// `ip -n NS ARGS`; must succeed.
    pub(crate) fn ip(&self, ns: &str, args: &[&str]) {
        let mut v = vec!["-n", ns];
        v.extend_from_slice(args);
        run_ok("ip", &v);
    }

    /// `ip netns exec NS CMD...`; must succeed.
    pub(crate) fn exec_ok(&self, ns: &str, cmd: &[&str]) -> Output {
        let mut v = vec!["netns", "exec", ns];
        v.extend_from_slice(cmd);
        run_ok("ip", &v)
    }

    /// Ping `addr` from bondd's namespace: `count` echoes 0.1 s apart. Returns
    /// (replies, duplicates).
    pub(crate) fn ping(&self, addr: &str, count: u32) -> (u32, u32) {
        let out = Command::new("ip")
            .args(["netns", "exec", &self.bd, "ping", "-n", "-c"])
            .arg(count.to_string())
            .args(["-i", "0.1", "-W", "1", addr])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let replies = text
            .lines()
            .filter(|l| l.contains("bytes from") && !l.contains("DUP!"))
            .count() as u32;
        let dups = text.lines().filter(|l| l.contains("DUP!")).count() as u32;
        (replies, dups)
    }
}

impl Drop for OvsLab {
    fn drop(&mut self) {
        // bondd first (it restores its ports), then ovs-vswitchd, then ovsdb-server.
        for p in self.procs.iter_mut().rev() {
            if let Some(mut child) = p.child.take() {
                terminate(&mut child);
            }
        }
        if std::thread::panicking() {
            let mut logs: Vec<PathBuf> = self.procs.iter().map(|p| p.log.clone()).collect();
            logs.push(self.dir.join("ovs-vswitchd.log"));
            for log in logs {
                let text = fs::read_to_string(&log).unwrap_or_default();
                let tail: Vec<&str> = text.lines().rev().take(60).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                eprintln!("---- {} (tail) ----\n{}", log.display(), tail.join("\n"));
            }
        }
        for ns in &self.namespaces {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}
