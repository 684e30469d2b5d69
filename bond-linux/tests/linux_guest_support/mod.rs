//! A QEMU guest running the Linux kernel's bonding driver, for `tests/linux_guest.rs`.
//!
//! `scripts/peers/linux-guest.sh build` makes the kernel and initramfs (once, cached in
//! `target/linux-guest/`); [`Guest::boot`] starts QEMU (TCG) inside a test namespace with two
//! virtio NICs on TAPs `qtap0`/`qtap1` (QEMU netdevs `n1`/`n2`, guest `eth0`/`eth1`). The guest's
//! init enslaves both NICs to `bond0` and prints `/proc/net/bonding/bond0` to the serial console
//! file every second between `LG STATUS BEGIN` and `LG STATUS END`. [`Guest`]'s `Drop` kills
//! QEMU, even when the test panics (and then prints the end of the console).

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The host-side TAPs, in guest NIC order.
pub(crate) const TAPS: [&str; 2] = ["qtap0", "qtap1"];

/// Where the guest is built (gitignored with the rest of target/).
fn guest_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/linux-guest")
}

fn on_path(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Build (or find) the guest: its directory, or why the guest cannot run here.
pub(crate) fn prepare() -> Result<PathBuf, String> {
    for tool in ["qemu-system-x86_64", "busybox"] {
        if !on_path(tool) {
            return Err(format!(
                "`{tool}` is not installed (scripts/install-deps.sh installs qemu-system-x86 and busybox-static)"
            ));
        }
    }
    // Tests run on parallel threads: one build at a time (the script also takes a flock).
    static BUILD: Mutex<()> = Mutex::new(());
    let _once = BUILD.lock().unwrap_or_else(|e| e.into_inner());
    let dir = guest_dir();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/peers/linux-guest.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg("build")
        .arg(&dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    if !out.status.success() {
        return Err(format!(
            "building the guest failed ({} build {}): {}",
            script.display(),
            dir.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(dir)
}

/// A running guest.
pub(crate) struct Guest {
    child: Option<Child>,
    pub(crate) console: PathBuf,
    qmp: PathBuf,
    /// When QEMU was started.
    pub(crate) started: Instant,
}

impl Guest {
    /// Start QEMU in `ns` (files in `dir`); `append` is added to the kernel command line
    /// (`lg.ip=...`, `lg.sysfs=...`, see the script). Returns once the TAPs exist and are up.
    pub(crate) fn boot(ns: &str, guest: &Path, dir: &Path, append: &str) -> Self {
        let console = dir.join("console.log");
        let qmp = dir.join("qmp.sock");
        let log = fs::File::create(dir.join("qemu.log")).unwrap();
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", ns, "qemu-system-x86_64"])
            .args(["-accel", "tcg", "-m", "256", "-smp", "1", "-kernel"])
            .arg(guest.join("vmlinuz"))
            .arg("-initrd")
            .arg(guest.join("initrd.gz"))
            .arg("-append")
            .arg(format!("console=ttyS0 panic=-1 quiet loglevel=4 {append}"));
        for (i, tap) in TAPS.iter().enumerate() {
            let n = i + 1;
            cmd.arg("-netdev")
                .arg(format!("tap,id=n{n},ifname={tap},script=no,downscript=no"))
                .arg("-device")
                .arg(format!(
                    "virtio-net-pci,netdev=n{n},mac=52:54:00:12:34:0{n},speed=10000,duplex=full"
                ));
        }
        cmd.args(["-display", "none", "-monitor", "none", "-no-reboot"])
            .arg("-qmp")
            .arg(format!("unix:{},server=on,wait=off", qmp.display()))
            .arg("-serial")
            .arg(format!("file:{}", console.display()))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        let started = Instant::now();
        // `ip netns exec` execs QEMU: the child's pid is QEMU's.
        let child = cmd.spawn().expect("spawn qemu-system-x86_64");
        let mut g = Self {
            child: Some(child),
            console,
            qmp,
            started,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        for tap in TAPS {
            while !Command::new("ip")
                .args(["-n", ns, "link", "show", "dev", tap])
                .output()
                .unwrap()
                .status
                .success()
            {
                g.check_alive();
                assert!(Instant::now() < deadline, "QEMU never created {tap}");
                std::thread::sleep(Duration::from_millis(50));
            }
            crate::support::run_ok("ip", &["-n", ns, "link", "set", tap, "up"]);
        }
        g
    }

    fn check_alive(&mut self) {
        if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
            let log = fs::read_to_string(self.console.with_file_name("qemu.log"));
            panic!("QEMU exited with {status}: {}", log.unwrap_or_default());
        }
    }

    /// The serial console so far.
    pub(crate) fn console_text(&self) -> String {
        String::from_utf8_lossy(&fs::read(&self.console).unwrap_or_default()).into_owned()
    }

    /// Wait for `needle` on the console.
    pub(crate) fn wait_console(&mut self, needle: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while !self.console_text().contains(needle) {
            self.check_alive();
            assert!(
                Instant::now() < deadline,
                "guest never printed {needle:?}; console:\n{}",
                self.console_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The last complete `/proc/net/bonding/bond0` dump (with the per-NIC lines).
    pub(crate) fn bonding(&self) -> Option<String> {
        let text = self.console_text();
        let end = text.rfind("LG STATUS END")?;
        let begin = text[..end].rfind("LG STATUS BEGIN")?;
        Some(text[begin..end].to_string())
    }

    /// Wait until a dump printed after now satisfies `pred`; returns it.
    pub(crate) fn wait_bonding(
        &mut self,
        timeout: Duration,
        what: &str,
        pred: impl Fn(&Bonding) -> bool,
    ) -> Bonding {
        let seen = self.console_text().matches("LG STATUS END").count();
        let deadline = Instant::now() + timeout;
        loop {
            let text = self.console_text();
            if text.matches("LG STATUS END").count() > seen {
                let b = Bonding::parse(&self.bonding().unwrap());
                if pred(&b) {
                    return b;
                }
            }
            self.check_alive();
            assert!(
                Instant::now() < deadline,
                "timed out waiting for the guest: {what}; last dump:\n{}",
                self.bonding().unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// QMP `set_link`: `nic` is `n1` (guest eth0, host qtap0) or `n2`. The guest sees its
    /// carrier go; the host TAP stays up, but frames no longer pass.
    pub(crate) fn set_link(&self, nic: &str, up: bool) {
        let s = UnixStream::connect(&self.qmp).expect("connect QMP");
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut r = BufReader::new(s.try_clone().unwrap());
        let mut w = s;
        let mut line = String::new();
        r.read_line(&mut line).unwrap(); // greeting
        for cmd in [
            r#"{"execute":"qmp_capabilities"}"#.to_string(),
            format!(r#"{{"execute":"set_link","arguments":{{"name":"{nic}","up":{up}}}}}"#),
        ] {
            w.write_all(cmd.as_bytes()).unwrap();
            w.write_all(b"\n").unwrap();
            loop {
                line.clear();
                r.read_line(&mut line).unwrap();
                let v: serde_json::Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("QMP said {line:?}: {e}"));
                if v.get("event").is_some() {
                    continue;
                }
                assert!(v.get("return").is_some(), "QMP {cmd} -> {line}");
                break;
            }
        }
    }
}

impl Drop for Guest {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            let text = self.console_text();
            let tail: Vec<&str> = text.lines().rev().take(120).collect();
            eprintln!("---- guest console (last 120 lines) ----");
            for l in tail.iter().rev() {
                eprintln!("{l}");
            }
        }
    }
}

/// The facts of a `/proc/net/bonding/bond0` dump the tests look at.
#[derive(Debug, Default)]
pub(crate) struct Bonding {
    pub(crate) text: String,
    /// "Number of ports" of the active aggregator.
    pub(crate) ports_in_aggregator: Option<u32>,
    /// The slaves, in /proc order (eth0, eth1).
    pub(crate) slaves: Vec<Slave>,
}

/// One slave of the guest's bond.
#[derive(Debug, Default, Clone)]
pub(crate) struct Slave {
    pub(crate) name: String,
    pub(crate) mii_up: bool,
    pub(crate) actor_state: u8,
    pub(crate) partner_state: u8,
    pub(crate) partner_system: String,
}

/// Sync + collecting + distributing.
pub(crate) const IN_USE: u8 = 0x08 | 0x10 | 0x20;

impl Bonding {
    pub(crate) fn parse(text: &str) -> Self {
        let mut b = Self {
            text: text.to_string(),
            ..Default::default()
        };
        let mut partner = false;
        for line in text.lines() {
            let l = line.trim();
            if let Some(v) = l.strip_prefix("Number of ports: ") {
                b.ports_in_aggregator = v.parse().ok();
            } else if let Some(v) = l.strip_prefix("Slave Interface: ") {
                b.slaves.push(Slave {
                    name: v.to_string(),
                    ..Default::default()
                });
            } else if let Some(s) = b.slaves.last_mut() {
                if let Some(v) = l.strip_prefix("MII Status: ") {
                    s.mii_up = v == "up";
                } else if l == "details actor lacp pdu:" {
                    partner = false;
                } else if l == "details partner lacp pdu:" {
                    partner = true;
                } else if let Some(v) = l.strip_prefix("port state: ") {
                    let v = v.parse().unwrap_or(0);
                    if partner {
                        s.partner_state = v;
                    } else {
                        s.actor_state = v;
                    }
                } else if let Some(v) = l.strip_prefix("system mac address: ") {
                    if partner {
                        s.partner_system = v.to_string();
                    }
                }
            }
        }
        b
    }

    pub(crate) fn slave(&self, name: &str) -> &Slave {
        self.slaves
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no slave {name} in:\n{}", self.text))
    }

    /// Both slaves in the aggregator, synchronised, collecting and distributing, and their
    /// partners (bondd) saying the same.
    pub(crate) fn both_in_use(&self) -> bool {
        self.ports_in_aggregator == Some(2)
            && self.slaves.len() == 2
            && self
                .slaves
                .iter()
                .all(|s| s.actor_state & IN_USE == IN_USE && s.partner_state & IN_USE == IN_USE)
    }
}
