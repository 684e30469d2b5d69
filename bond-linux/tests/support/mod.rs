//! A network-namespace lab for bondd's integration tests.
//!
//! Every test builds its own namespaces (`bondtest-<pid>-<n>-<tag>`), veth pairs between them
//! and bondd processes inside them; [`Lab`]'s `Drop` stops those processes and deletes those
//! namespaces even when the test panics, and then prints the daemons' logs to help the reader.
//! Traffic only flows between namespaces the lab made.

#![allow(dead_code)] // each test uses a different part of the lab

use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, TcpStream};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub(crate) const BONDD: &str = env!("CARGO_BIN_EXE_bondd");
pub(crate) const BONDCTL: &str = env!("CARGO_BIN_EXE_bondctl");

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// Whether `test` may run, given why it cannot (`None`: it can). A test that cannot run says
/// so loudly and is skipped; with `CI=true` it must run, so this panics instead.
pub(crate) fn may_run(test: &str, unavailable: Option<String>) -> bool {
    let Some(reason) = unavailable else {
        return true;
    };
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{test}: cannot run under CI=true: {reason}");
    }
    // Straight to the process's stderr: eprintln! would be captured (and hidden) by the test
    // harness for a test that passes.
    let _ = writeln!(std::io::stderr(), "SKIPPED: {test}: {reason}");
    false
}

/// Why these tests cannot run here, if they cannot.
fn unavailable() -> Option<String> {
    if !rustix::process::geteuid().is_root() {
        return Some("not running as root".into());
    }
    if !Path::new("/dev/net/tun").exists() {
        return Some("no /dev/net/tun".into());
    }
    for tool in ["ip", "ping"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            return Some(format!("`{tool}` is not installed"));
        }
    }
    // Tests run on parallel threads of one process: each probe needs its own name.
    let probe = format!(
        "bondtest-{}-probe{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    );
    let added = Command::new("ip").args(["netns", "add", &probe]).output();
    match added {
        Ok(o) if o.status.success() => {
            let _ = Command::new("ip").args(["netns", "del", &probe]).output();
            None
        }
        Ok(o) => Some(format!(
            "`ip netns add` fails: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Err(e) => Some(format!("cannot run `ip`: {e}")),
    }
}

/// A running bondd.
pub(crate) struct Daemon {
    pub(crate) ns: String,
    pub(crate) name: String,
    pub(crate) control: PathBuf,
    pub(crate) log: PathBuf,
    child: Option<Child>,
}

/// The test's namespaces, daemons and scratch directory.
pub(crate) struct Lab {
    pub(crate) tag: String,
    pub(crate) dir: PathBuf,
    namespaces: Vec<String>,
    pub(crate) daemons: Vec<Daemon>,
}

/// A name unique to this test (`<prefix>-<pid>-<n>`; tests run on parallel threads of one
/// process) and an empty scratch directory of that name.
pub(crate) fn scratch(prefix: &str) -> (String, PathBuf) {
    let tag = format!(
        "{prefix}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    );
    let dir = std::env::temp_dir().join(&tag);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    (tag, dir)
}

impl Lab {
    /// A new lab, or `None` (after a loud `SKIPPED:` line) where the tests cannot run. With
    /// `CI=true` they must run: panic instead.
    pub(crate) fn new(test: &str) -> Option<Self> {
        if !may_run(test, unavailable()) {
            return None;
        }
        let (tag, dir) = scratch("bondtest");
        Some(Self {
            tag,
            dir,
            namespaces: Vec::new(),
            daemons: Vec::new(),
        })
    }

    /// Create namespace `<tag>-<suffix>`.
    pub(crate) fn netns(&mut self, suffix: &str) -> String {
        let ns = format!("{}-{suffix}", self.tag);
        run_ok("ip", &["netns", "add", &ns]);
        self.namespaces.push(ns.clone());
        run_ok("ip", &["-n", &ns, "link", "set", "lo", "up"]);
        ns
    }

    /// A veth pair `a` (in `ns_a`) <-> `z` (in `ns_z`), both up.
    pub(crate) fn veth(&self, ns_a: &str, a: &str, ns_z: &str, z: &str) {
        run_ok(
            "ip",
            &[
                "link", "add", a, "netns", ns_a, "type", "veth", "peer", "name", z, "netns", ns_z,
            ],
        );
        run_ok("ip", &["-n", ns_a, "link", "set", a, "up"]);
        run_ok("ip", &["-n", ns_z, "link", "set", z, "up"]);
    }

    /// Run `bondd` in `ns` without waiting (for tests that expect it to fail at once).
    pub(crate) fn bondd_command(
        &self,
        ns: &str,
        name: &str,
        options: &str,
        ports: &[&str],
    ) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args([
            "netns",
            "exec",
            ns,
            BONDD,
            "--name",
            name,
            "--options",
            options,
        ]);
        cmd.arg("--control")
            .arg(self.dir.join(format!("{ns}-{name}.sock")));
        cmd.arg("--lock-dir").arg(self.dir.join("locks"));
        cmd.args(ports);
        cmd
    }

    /// Start bondd in `ns` and wait until its control socket answers. `extra` goes on its
    /// command line before the ports.
    pub(crate) fn start_bondd(
        &mut self,
        ns: &str,
        name: &str,
        options: &str,
        ports: &[&str],
        extra: &[&str],
    ) -> usize {
        let mut args = vec!["--name", name, "--options", options];
        args.extend(extra);
        args.extend(ports);
        self.start_bondd_args(ns, name, &args)
    }

    /// Start bondd in `ns` with `args` (the lab adds `--control` and `--lock-dir`; `name` is
    /// the bond's name, for the control socket's) and wait until its control socket answers.
    pub(crate) fn start_bondd_args(&mut self, ns: &str, name: &str, args: &[&str]) -> usize {
        let control = self.dir.join(format!("{ns}-{name}.sock"));
        let log = self.dir.join(format!("{ns}-{name}.log"));
        let mut cmd = self.bondd_args_command(ns, name, args);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(&log).unwrap());
        let child = cmd.spawn().expect("spawn bondd");
        self.daemons.push(Daemon {
            ns: ns.into(),
            name: name.into(),
            control,
            log,
            child: Some(child),
        });
        let i = self.daemons.len() - 1;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if self.bondctl(i, &["status"]).status.success() {
                return i;
            }
            if let Some(status) = self.daemons[i].child.as_mut().unwrap().try_wait().unwrap() {
                panic!(
                    "bondd in {ns} exited with {status}:\n{}",
                    fs::read_to_string(&self.daemons[i].log).unwrap_or_default()
                );
            }
            assert!(Instant::now() < deadline, "bondd in {ns} never answered");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `bondd --control <lab>/<ns>-<name>.sock --lock-dir <lab>/locks ARGS` in `ns`, not run.
    pub(crate) fn bondd_args_command(&self, ns: &str, name: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", ns, BONDD]);
        cmd.arg("--control")
            .arg(self.dir.join(format!("{ns}-{name}.sock")));
        cmd.arg("--lock-dir").arg(self.dir.join("locks"));
        cmd.args(args);
        cmd
    }

    /// Run bondctl against daemon `i`.
    pub(crate) fn bondctl(&self, i: usize, args: &[&str]) -> Output {
        Command::new(BONDCTL)
            .arg("--control")
            .arg(&self.daemons[i].control)
            .args(args)
            .output()
            .expect("run bondctl")
    }

    /// `bondctl status --json` of daemon `i`.
    pub(crate) fn status_json(&self, i: usize) -> serde_json::Value {
        let out = self.bondctl(i, &["status", "--json"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("status --json is JSON")
    }

    /// Poll daemon `i`'s JSON status until `pred` holds (panics after `timeout`).
    pub(crate) fn wait_status(
        &self,
        i: usize,
        timeout: Duration,
        what: &str,
        pred: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let deadline = Instant::now() + timeout;
        loop {
            let s = self.status_json(i);
            if pred(&s) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; last status:\n{s:#}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGTERM daemon `i` and wait for it to exit.
    pub(crate) fn stop(&mut self, i: usize) -> ExitStatus {
        let mut child = self.daemons[i].child.take().expect("daemon still running");
        terminate(&mut child)
    }

    /// `ip -n ns ARGS`.
    pub(crate) fn ip(&self, ns: &str, args: &[&str]) -> Output {
        Command::new("ip")
            .args(["-n", ns])
            .args(args)
            .output()
            .unwrap()
    }

    /// `ip netns exec ns CMD...`.
    pub(crate) fn exec(&self, ns: &str, cmd: &[&str]) -> Output {
        Command::new("ip")
            .args(["netns", "exec", ns])
            .args(cmd)
            .output()
            .unwrap()
    }

    /// Ping `addr` from `ns`: `count` echoes 0.1 s apart. Returns (replies, duplicates).
    pub(crate) fn ping(&self, ns: &str, addr: &str, count: u32) -> (u32, u32) {
        let out = self.exec(
            ns,
            &[
                "ping",
                "-n",
                "-c",
                &count.to_string(),
                "-i",
                "0.1",
                "-W",
                "1",
                addr,
            ],
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let replies = text
            .lines()
            .filter(|l| l.contains("bytes from") && !l.contains("DUP!"))
            .count() as u32;
        let dups = text.lines().filter(|l| l.contains("DUP!")).count() as u32;
        (replies, dups)
    }

    /// The MAC address of `dev` in `ns`.
    pub(crate) fn mac(&self, ns: &str, dev: &str) -> String {
        let out = self.ip(ns, &["-j", "link", "show", "dev", dev]);
        assert!(
            out.status.success(),
            "{dev} in {ns}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v[0]["address"].as_str().unwrap().to_string()
    }

    /// Whether `dev` exists in `ns`.
    pub(crate) fn has_link(&self, ns: &str, dev: &str) -> bool {
        self.ip(ns, &["link", "show", "dev", dev]).status.success()
    }
}

/// Run `f` on a thread that has entered network namespace `ns` (so sockets it opens live there).
pub(crate) fn in_netns<T: Send>(ns: &str, f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        s.spawn(|| {
            let fd = File::open(format!("/var/run/netns/{ns}")).expect("open netns");
            rustix::thread::move_into_link_name_space(
                std::os::fd::AsFd::as_fd(&fd),
                Some(rustix::thread::LinkNameSpaceType::Network),
            )
            .expect("setns");
            f()
        })
        .join()
        .expect("netns thread panicked")
    })
}

impl Drop for Lab {
    fn drop(&mut self) {
        for d in &mut self.daemons {
            if let Some(mut child) = d.child.take() {
                terminate(&mut child);
            }
        }
        if std::thread::panicking() {
            for d in &self.daemons {
                eprintln!(
                    "---- bondd {} in {} ----\n{}",
                    d.name,
                    d.ns,
                    fs::read_to_string(&d.log).unwrap_or_default()
                );
            }
        }
        for ns in &self.namespaces {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// SIGTERM, then SIGKILL after 5 s.
pub(crate) fn terminate(child: &mut Child) -> ExitStatus {
    if let Some(pid) = rustix::process::Pid::from_raw(child.id() as i32) {
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            return child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Run a command that must succeed.
pub(crate) fn run_ok(prog: &str, args: &[&str]) -> Output {
    let out = Command::new(prog).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{prog} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

impl Lab {
    /// SIGKILL daemon `i` (no signal handler, no `Drop`: nothing is restored) and reap it.
    pub(crate) fn kill(&mut self, i: usize) -> ExitStatus {
        let mut child = self.daemons[i].child.take().expect("daemon still running");
        let _ = child.kill();
        child.wait().unwrap()
    }

    /// The process id of daemon `i` (`ip netns exec` execs bondd, so it is bondd's).
    pub(crate) fn pid(&self, i: usize) -> u32 {
        self.daemons[i].child.as_ref().expect("daemon running").id()
    }

    /// Whether daemon `i` is still running.
    pub(crate) fn alive(&mut self, i: usize) -> bool {
        let child = self.daemons[i].child.as_mut().expect("daemon not reaped");
        child.try_wait().unwrap().is_none()
    }

    /// What daemon `i` has logged so far.
    pub(crate) fn log(&self, i: usize) -> String {
        fs::read_to_string(&self.daemons[i].log).unwrap_or_default()
    }

    /// `ip -j link show dev DEV` in `ns`: the link's JSON object.
    pub(crate) fn link_json(&self, ns: &str, dev: &str) -> serde_json::Value {
        let out = self.ip(ns, &["-j", "link", "show", "dev", dev]);
        assert!(
            out.status.success(),
            "{dev} in {ns}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v[0].clone()
    }

    /// The MTU of `dev` in `ns`.
    pub(crate) fn mtu(&self, ns: &str, dev: &str) -> u64 {
        self.link_json(ns, dev)["mtu"].as_u64().unwrap()
    }

    /// The `IFF_*` flags of `dev` in `ns`, as `ip` names them (`UP`, `NOARP`, ...).
    pub(crate) fn link_flags(&self, ns: &str, dev: &str) -> Vec<String> {
        self.link_json(ns, dev)["flags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap().to_string())
            .collect()
    }

    /// Read `/proc/sys/KEY` (e.g. `net/ipv4/conf/a0/rp_filter`) in `ns`.
    pub(crate) fn sysctl(&self, ns: &str, key: &str) -> String {
        let out = self.exec(ns, &["cat", &format!("/proc/sys/{key}")]);
        assert!(
            out.status.success(),
            "{key} in {ns}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Write `value` to `/proc/sys/KEY` in `ns`.
    pub(crate) fn set_sysctl(&self, ns: &str, key: &str, value: &str) {
        let out = self.exec(
            ns,
            &["sh", "-c", &format!("echo {value} > /proc/sys/{key}")],
        );
        assert!(
            out.status.success(),
            "{key}={value} in {ns}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Poll `cond` every 20 ms until it holds; panic with `what` after `timeout`.
pub(crate) fn wait_until(timeout: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Port `name` in a `bondctl status --json` document.
pub(crate) fn port<'a>(status: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    status["ports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no port {name} in {status:#}"))
}

/// The frames of a classic (microsecond) pcap file, as bondd's `--pcap` writes it.
pub(crate) fn pcap_frames(bytes: &[u8]) -> Vec<&[u8]> {
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

/// A MAC address as `status --json` prints it (`aa:bb:cc:dd:ee:ff`), as bytes.
pub(crate) fn mac_bytes(text: &str) -> [u8; 6] {
    let v: Vec<u8> = text
        .split(':')
        .map(|h| u8::from_str_radix(h, 16).unwrap())
        .collect();
    v.try_into().expect("six bytes")
}

impl Lab {
    /// Two namespaces `A` and `Z` joined by two veth pairs (a0-z0, a1-z1); returns their names.
    pub(crate) fn two_hosts(&mut self) -> (String, String) {
        let a = self.netns("A");
        let z = self.netns("Z");
        self.veth(&a, "a0", &z, "z0");
        self.veth(&a, "a1", &z, "z1");
        (a, z)
    }
}

/// The TCP port of [`start_sink`].
pub(crate) const SERVER_PORT: u16 = 5201;

/// A TCP sink in `ns`: each connection's bytes are counted and the count is sent back.
pub(crate) fn start_sink(z: &str, connections: usize) -> std::thread::JoinHandle<()> {
    let listener = in_netns(z, || {
        TcpListener::bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, SERVER_PORT)).unwrap()
    });
    std::thread::spawn(move || {
        for _ in 0..connections {
            let (mut s, _) = listener.accept().unwrap();
            s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
            let mut buf = vec![0u8; 64 * 1024];
            let mut total = 0u64;
            loop {
                let n = s.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                total += n as u64;
            }
            s.write_all(&total.to_le_bytes()).unwrap();
        }
    })
}

/// Send `len` bytes from `ns` to the sink at `peer`, from source port `sport` (0: any), and
/// check the sink received them all.
pub(crate) fn transfer(ns: &str, peer: &str, sport: u16, len: usize) {
    let peer: Ipv4Addr = peer.parse().unwrap();
    let mut s = in_netns(ns, || {
        use rustix::net::{AddressFamily, SocketType};
        let fd: OwnedFd =
            rustix::net::socket(AddressFamily::INET, SocketType::STREAM, None).unwrap();
        rustix::net::sockopt::set_socket_reuseaddr(&fd, true).unwrap();
        rustix::net::bind(&fd, &SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, sport)).unwrap();
        rustix::net::connect(&fd, &SocketAddrV4::new(peer, SERVER_PORT)).unwrap();
        TcpStream::from(fd)
    });
    s.set_write_timeout(Some(Duration::from_secs(20))).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let chunk: Vec<u8> = (0..64 * 1024).map(|i| (i % 251) as u8).collect();
    let mut left = len;
    while left > 0 {
        let n = left.min(chunk.len());
        s.write_all(&chunk[..n]).unwrap();
        left -= n;
    }
    s.shutdown(std::net::Shutdown::Write).unwrap();
    let mut reply = [0u8; 8];
    s.read_exact(&mut reply).unwrap();
    assert_eq!(
        u64::from_le_bytes(reply),
        len as u64,
        "the sink got a different byte count"
    );
}
