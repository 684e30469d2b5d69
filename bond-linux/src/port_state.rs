//! What bondd must put back on a member port when it leaves, kept in a small file next to the
//! port's lock so that a bondd killed with SIGKILL (no `Drop`, no signal handler) does not leave
//! the port with the bond's MAC, the bond's MTU, ARP off and IPv6 disabled for good.
//!
//! bondd writes the file before it changes anything on the port, rewrites it around every MAC
//! it programs, and removes it after a clean restore. The next bondd that takes the port's lock
//! (so the writer is gone) and still finds the file restores the port from it first.
//!
//! The format is line-based `key=value` text, one file per port, versioned by its first line:
//!
//! ```text
//! bondd-port-state=1
//! port=veth0
//! ifindex=7
//! owner=bondd bond0 (pid 4242)
//! mac=aa:bb:cc:dd:ee:01
//! bond_macs=02:00:00:00:00:01
//! mtu=1500
//! was_down=0
//! noarp=1
//! rp_filter=0
//! disable_ipv6=0
//! ```
//!
//! `mac`, `mtu` and `was_down` are the port's own values from before it joined; `bond_macs` the
//! addresses bondd may have put on it (a port carrying anything else is not the one the file
//! describes); `noarp=1` means bondd set `IFF_NOARP`; `rp_filter` and `disable_ipv6`, when
//! present, are the old sysctl values bondd overwrote. The file is input to the next daemon:
//! [`PortState::parse`] checks every field and fails with the line at fault, never panics.
//! The interface index and MAC checks catch a stale file (a port re-created, a namespace
//! reused); they are not authentication: the lock directory must be writable by root only.

use std::fmt::{self, Write as _};
use std::fs::{self, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use bond_core::EthernetAddress;

/// The first line of every state file (the format's version).
const HEADER: &str = "bondd-port-state=1";
/// Larger files are not state files; they are refused unread.
const MAX_LEN: u64 = 4096;
/// Most MACs one file lists as possibly put on the port by bondd.
const MAX_BOND_MACS: usize = 4;

/// What to put back on one port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortState {
    /// Interface name.
    pub port: String,
    /// Interface index when the state was recorded (an interface with the same name but
    /// another index is another interface).
    pub ifindex: u32,
    /// Who recorded it, for the log (`bondd bond0 (pid 4242)`); one line, printable.
    pub owner: String,
    /// The port's MAC before it joined.
    pub mac: EthernetAddress,
    /// MACs bondd may have programmed into the port.
    pub bond_macs: Vec<EthernetAddress>,
    /// The port's MTU before it joined.
    pub mtu: u32,
    /// The port was administratively down before it joined.
    pub was_down: bool,
    /// bondd set `IFF_NOARP` (it was clear).
    pub noarp: bool,
    /// The old `net.ipv4.conf.<port>.rp_filter`, if bondd changed it.
    pub rp_filter: Option<String>,
    /// The old `net.ipv6.conf.<port>.disable_ipv6`, if bondd changed it.
    pub disable_ipv6: Option<String>,
}

/// A state file that is not one: which line, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line number (0: the file as a whole).
    pub line: usize,
    /// What is wrong.
    pub what: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            f.write_str(&self.what)
        } else {
            write!(f, "line {}: {}", self.line, self.what)
        }
    }
}

impl std::error::Error for ParseError {}

impl PortState {
    /// The file's text.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "{HEADER}");
        let _ = writeln!(s, "port={}", self.port);
        let _ = writeln!(s, "ifindex={}", self.ifindex);
        // One printable line, whatever the caller passed.
        let owner: String = self
            .owner
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let _ = writeln!(s, "owner={owner}");
        let _ = writeln!(s, "mac={}", self.mac);
        let macs: Vec<String> = self.bond_macs.iter().map(|m| m.to_string()).collect();
        let _ = writeln!(s, "bond_macs={}", macs.join(","));
        let _ = writeln!(s, "mtu={}", self.mtu);
        let _ = writeln!(s, "was_down={}", u8::from(self.was_down));
        let _ = writeln!(s, "noarp={}", u8::from(self.noarp));
        if let Some(v) = &self.rp_filter {
            let _ = writeln!(s, "rp_filter={v}");
        }
        if let Some(v) = &self.disable_ipv6 {
            let _ = writeln!(s, "disable_ipv6={v}");
        }
        s
    }

    /// Parse a file's text. Every field is checked (a MAC is a MAC, sysctl values are small
    /// integers, the port name is a valid interface name); an unknown, repeated or missing
    /// key, or a wrong header, is an error.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let err = |line: usize, what: String| ParseError { line, what };
        let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
        match lines.next() {
            Some((_, HEADER)) => {}
            Some((n, l)) => {
                return Err(err(
                    n,
                    format!("expected {HEADER:?}, found {:?}", shorten(l)),
                ))
            }
            None => return Err(err(0, "empty file".into())),
        }
        let mut port = None;
        let mut ifindex = None;
        let mut owner = None;
        let mut mac = None;
        let mut bond_macs = None;
        let mut mtu = None;
        let mut was_down = None;
        let mut noarp = None;
        let mut rp_filter = None;
        let mut disable_ipv6 = None;
        for (n, line) in lines {
            if line.is_empty() {
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                return Err(err(
                    n,
                    format!("expected key=value, found {:?}", shorten(line)),
                ));
            };
            let bad = |what: &str| err(n, format!("{key}: {what}, found {:?}", shorten(value)));
            let fresh = |slot_set: bool| {
                if slot_set {
                    Err(err(n, format!("{key} given twice")))
                } else {
                    Ok(())
                }
            };
            match key {
                "port" => {
                    fresh(port.is_some())?;
                    crate::netdev::check_name(value)
                        .map_err(|_| bad("expected an interface name"))?;
                    port = Some(value.to_string());
                }
                "ifindex" => {
                    fresh(ifindex.is_some())?;
                    let v: u32 = value
                        .parse()
                        .ok()
                        .filter(|&v| v > 0)
                        .ok_or_else(|| bad("expected an interface index"))?;
                    ifindex = Some(v);
                }
                "owner" => {
                    fresh(owner.is_some())?;
                    if value.chars().any(char::is_control) {
                        return Err(bad("control characters"));
                    }
                    owner = Some(value.to_string());
                }
                "mac" => {
                    fresh(mac.is_some())?;
                    mac = Some(
                        value
                            .parse::<EthernetAddress>()
                            .map_err(|_| bad("expected a MAC address"))?,
                    );
                }
                "bond_macs" => {
                    fresh(bond_macs.is_some())?;
                    let mut macs = Vec::new();
                    for m in value.split(',').filter(|m| !m.is_empty()) {
                        macs.push(
                            m.parse::<EthernetAddress>()
                                .map_err(|_| bad("expected MAC addresses separated by commas"))?,
                        );
                    }
                    if macs.len() > MAX_BOND_MACS {
                        return Err(bad("too many MAC addresses"));
                    }
                    bond_macs = Some(macs);
                }
                "mtu" => {
                    fresh(mtu.is_some())?;
                    let v: u32 = value
                        .parse()
                        .ok()
                        .filter(|&v| v > 0 && v <= i32::MAX as u32)
                        .ok_or_else(|| bad("expected an MTU"))?;
                    mtu = Some(v);
                }
                "was_down" | "noarp" => {
                    let slot = if key == "was_down" {
                        &mut was_down
                    } else {
                        &mut noarp
                    };
                    fresh(slot.is_some())?;
                    *slot = Some(match value {
                        "0" => false,
                        "1" => true,
                        _ => return Err(bad("expected 0 or 1")),
                    });
                }
                "rp_filter" | "disable_ipv6" => {
                    let slot = if key == "rp_filter" {
                        &mut rp_filter
                    } else {
                        &mut disable_ipv6
                    };
                    fresh(slot.is_some())?;
                    if !is_sysctl_int(value) {
                        return Err(bad("expected a small integer"));
                    }
                    *slot = Some(value.to_string());
                }
                _ => return Err(err(n, format!("unknown key {:?}", shorten(key)))),
            }
        }
        let missing = |key: &str| err(0, format!("{key}= is missing"));
        Ok(Self {
            port: port.ok_or_else(|| missing("port"))?,
            ifindex: ifindex.ok_or_else(|| missing("ifindex"))?,
            owner: owner.unwrap_or_default(),
            mac: mac.ok_or_else(|| missing("mac"))?,
            bond_macs: bond_macs.unwrap_or_default(),
            mtu: mtu.ok_or_else(|| missing("mtu"))?,
            was_down: was_down.ok_or_else(|| missing("was_down"))?,
            noarp: noarp.unwrap_or(false),
            rp_filter,
            disable_ipv6,
        })
    }

    /// Record `bond_mac` as possibly on the port (keeping at most the last few, and never the
    /// port's own MAC).
    pub fn note_bond_mac(&mut self, bond_mac: EthernetAddress) {
        if bond_mac == self.mac || self.bond_macs.contains(&bond_mac) {
            return;
        }
        if self.bond_macs.len() == MAX_BOND_MACS {
            self.bond_macs.remove(0);
        }
        self.bond_macs.push(bond_mac);
    }

    /// Write the state to `path` (mode 0600), atomically: a reader sees the old file or the
    /// new one, never half of one.
    pub fn store(&self, path: &Path) -> io::Result<()> {
        let tmp = tmp_path(path);
        // A fresh file, never one somebody put there (a symlink to elsewhere, a FIFO).
        match fs::remove_file(&tmp) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&tmp)?;
        file.write_all(self.render().as_bytes())?;
        drop(file);
        fs::rename(&tmp, path)
    }

    /// Read the state file at `path`: `Ok(None)` if there is none, `Err` (with the line at
    /// fault) if it is not a state file for port `port`.
    pub fn load(path: &Path, port: &str) -> Result<Option<Self>, LoadError> {
        // Not through a symlink, and without blocking on a FIFO: only a regular file is read.
        let file = match OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(LoadError::Io(e)),
        };
        if !file.metadata().map_err(LoadError::Io)?.is_file() {
            return Err(LoadError::Parse(ParseError {
                line: 0,
                what: "not a regular file".into(),
            }));
        }
        let mut bytes = Vec::new();
        file.take(MAX_LEN + 1)
            .read_to_end(&mut bytes)
            .map_err(LoadError::Io)?;
        if bytes.len() as u64 > MAX_LEN {
            return Err(LoadError::Parse(ParseError {
                line: 0,
                what: format!("larger than {MAX_LEN} bytes"),
            }));
        }
        let text = String::from_utf8(bytes).map_err(|_| {
            LoadError::Parse(ParseError {
                line: 0,
                what: "not UTF-8 text".into(),
            })
        })?;
        let state = Self::parse(&text).map_err(LoadError::Parse)?;
        if state.port != port {
            return Err(LoadError::Parse(ParseError {
                line: 0,
                what: format!("it is for port {}, not {port}", state.port),
            }));
        }
        Ok(Some(state))
    }
}

/// Why a state file could not be read.
#[derive(Debug)]
pub enum LoadError {
    /// Reading it failed.
    Io(io::Error),
    /// It is not a valid state file.
    Parse(ParseError),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "cannot read it: {e}"),
            Self::Parse(e) => write!(f, "not a valid state file: {e}"),
        }
    }
}

impl std::error::Error for LoadError {}

/// Remove the state file at `path` (and a temporary one beside it); a missing file is fine.
pub fn remove(path: &Path) -> io::Result<()> {
    let _ = fs::remove_file(tmp_path(path));
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

fn tmp_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".tmp");
    PathBuf::from(p)
}

/// A sysctl integer as the kernel prints these (`0`, `2`, `-1`): what may be written back.
fn is_sysctl_int(v: &str) -> bool {
    let digits = v.strip_prefix('-').unwrap_or(v);
    !digits.is_empty() && digits.len() <= 10 && digits.bytes().all(|b| b.is_ascii_digit())
}

/// At most 40 characters of `s`, for error messages about garbage.
fn shorten(s: &str) -> String {
    let mut out: String = s.chars().take(40).collect();
    if s.chars().count() > 40 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> PortState {
        PortState {
            port: "veth0".into(),
            ifindex: 7,
            owner: "bondd bond0 (pid 4242)".into(),
            mac: EthernetAddress([0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0x01]),
            bond_macs: vec![EthernetAddress([2, 0, 0, 0, 0, 1])],
            mtu: 1500,
            was_down: true,
            noarp: true,
            rp_filter: Some("0".into()),
            disable_ipv6: None,
        }
    }

    #[test]
    fn round_trip() {
        let s = sample();
        assert_eq!(PortState::parse(&s.render()).unwrap(), s);
        let mut t = sample();
        t.bond_macs.clear();
        t.was_down = false;
        t.noarp = false;
        t.rp_filter = None;
        t.disable_ipv6 = Some("-1".into());
        t.mtu = 9000;
        assert_eq!(PortState::parse(&t.render()).unwrap(), t);
    }

    #[test]
    fn the_documented_example_parses() {
        let text = "bondd-port-state=1\nport=veth0\nifindex=7\nowner=bondd bond0 (pid 4242)\n\
                    mac=aa:bb:cc:dd:ee:01\nbond_macs=02:00:00:00:00:01\nmtu=1500\nwas_down=0\n\
                    noarp=1\nrp_filter=0\ndisable_ipv6=0\n";
        let s = PortState::parse(text).unwrap();
        assert_eq!(s.port, "veth0");
        assert_eq!(s.mtu, 1500);
        assert_eq!(s.disable_ipv6.as_deref(), Some("0"));
    }

    #[test]
    fn owner_with_a_newline_stays_one_line() {
        let mut s = sample();
        s.owner = "evil\nmac=00:00:00:00:00:00".into();
        let back = PortState::parse(&s.render()).unwrap();
        assert_eq!(back.mac, s.mac);
        assert_eq!(back.owner, "evil mac=00:00:00:00:00:00");
    }

    #[test]
    fn garbage_is_an_error_naming_the_line() {
        let good = sample().render();
        let cases: Vec<(String, &str)> = vec![
            (String::new(), "empty file"),
            ("\u{0}\u{1}\u{2}garbage".into(), "line 1: expected"),
            ("bondd-port-state=2\n".into(), "line 1: expected"),
            (good.replace("mac=aa:bb", "mac=zz:bb"), "line 5: mac:"),
            (good.replace("mtu=1500", "mtu=-5"), "line 7: mtu:"),
            (good.replace("mtu=1500", "mtu=99999999999999999999"), "mtu:"),
            (good.replace("was_down=1", "was_down=yes"), "was_down:"),
            (
                good.replace("rp_filter=0", "rp_filter=1; rm -rf /"),
                "rp_filter:",
            ),
            (good.replace("port=veth0", "port=../../etc"), "port:"),
            (good.replace("ifindex=7", "ifindex=0"), "ifindex:"),
            (good.replace("mtu=1500\n", ""), "mtu= is missing"),
            (format!("{good}mtu=1500\n"), "mtu given twice"),
            (format!("{good}colour=blue\n"), "unknown key"),
            (format!("{good}no equals sign\n"), "expected key=value"),
            (
                good.replace(
                    "bond_macs=02:00:00:00:00:01",
                    "bond_macs=02:00:00:00:00:01,x",
                ),
                "bond_macs:",
            ),
        ];
        for (text, want) in cases {
            let e = PortState::parse(&text).unwrap_err().to_string();
            assert!(e.contains(want), "{text:?}: {e:?} lacks {want:?}");
        }
        // Truncated anywhere: an error or (cut after a whole optional line) a valid state,
        // never a panic.
        for cut in 0..good.len() {
            let _ = PortState::parse(&good[..cut]);
        }
    }

    #[test]
    fn store_load_remove() {
        let dir = std::env::temp_dir().join(format!("bondd-state-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("net1-veth0.state");
        assert!(PortState::load(&path, "veth0").unwrap().is_none());
        let s = sample();
        s.store(&path).unwrap();
        assert_eq!(PortState::load(&path, "veth0").unwrap(), Some(s.clone()));
        // Another port's file, garbage, and a huge file are errors, not panics.
        let e = PortState::load(&path, "veth1").unwrap_err().to_string();
        assert!(e.contains("for port veth0, not veth1"), "{e}");
        fs::write(&path, [0xff, 0xfe, 0x00]).unwrap();
        assert!(PortState::load(&path, "veth0").is_err());
        fs::write(&path, vec![b'a'; 10_000]).unwrap();
        let e = PortState::load(&path, "veth0").unwrap_err().to_string();
        assert!(e.contains("larger than"), "{e}");
        remove(&path).unwrap();
        assert!(!path.exists());
        remove(&path).unwrap();
        // A symlink or a FIFO in its place is refused without following or blocking; one in
        // place of the temporary file is replaced, not written through.
        let elsewhere = dir.join("elsewhere");
        fs::write(&elsewhere, "keep").unwrap();
        std::os::unix::fs::symlink(&elsewhere, &path).unwrap();
        assert!(PortState::load(&path, "veth0").is_err());
        fs::remove_file(&path).unwrap();
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &path,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        let e = PortState::load(&path, "veth0").unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");
        fs::remove_file(&path).unwrap();
        std::os::unix::fs::symlink(&elsewhere, tmp_path(&path)).unwrap();
        s.store(&path).unwrap();
        assert_eq!(fs::read_to_string(&elsewhere).unwrap(), "keep");
        assert_eq!(PortState::load(&path, "veth0").unwrap(), Some(s));
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn bond_macs_are_bounded() {
        let mut s = sample();
        for i in 0..10 {
            s.note_bond_mac(EthernetAddress([2, 0, 0, 0, 1, i]));
        }
        s.note_bond_mac(s.mac);
        assert_eq!(s.bond_macs.len(), MAX_BOND_MACS);
        assert_eq!(
            *s.bond_macs.last().unwrap(),
            EthernetAddress([2, 0, 0, 0, 1, 9])
        );
        assert!(!s.bond_macs.contains(&s.mac));
        assert_eq!(PortState::parse(&s.render()).unwrap(), s);
    }
}
