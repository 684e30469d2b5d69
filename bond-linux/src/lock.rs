//! One bondd per member port: an exclusive `flock` on `/run/bondd/ports/<netns>-<port>.lock`.
//!
//! The lock is tied to the open file, so it goes away with the process however it ends; the
//! file itself stays (removing it would race with a daemon that has just opened it). Names are
//! qualified by the network namespace, because `eth0` in one namespace is not `eth0` in
//! another, while `/run` is shared between them. Beside each lock, its holder keeps the port's
//! state file ([`PortLock::state_path`], [`crate::port_state`]).

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use rustix::fs::FlockOperation;

use crate::error::{Context, Error, Result};

/// Where port locks live by default.
pub const DEFAULT_LOCK_DIR: &str = "/run/bondd/ports";

/// A held port lock; dropping it releases the lock.
#[derive(Debug)]
pub struct PortLock {
    _file: File,
    path: PathBuf,
}

impl PortLock {
    /// Take the lock for port `ifname` in directory `dir` (created 0700 if missing), writing
    /// `owner` (who holds it, for the next one's error message) into the file.
    ///
    /// Fails with [`Error::Refused`] naming the holder if another process has the port.
    pub fn acquire(dir: &Path, ifname: &str, owner: &str) -> Result<Self> {
        crate::netdev::check_name(ifname).context(|| format!("port {ifname:?}"))?;
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .context(|| format!("create {}", dir.display()))?;
        let path = dir.join(format!("{}-{ifname}.lock", netns_id()));
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .context(|| format!("open {}", path.display()))?;
        if let Err(e) = rustix::fs::flock(&file, FlockOperation::NonBlockingLockExclusive) {
            if e == rustix::io::Errno::WOULDBLOCK {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                let holder = if holder.is_empty() {
                    "another process"
                } else {
                    holder
                };
                return Err(Error::refused(format!(
                    "port {ifname} is already in use by {holder} (lock {})",
                    path.display()
                )));
            }
            return Err(Error::io(format!("lock {}", path.display()), e));
        }
        // We hold the lock: record who we are for the next one's message.
        let _ = file.set_len(0);
        let _ = file.rewind();
        let _ = writeln!(file, "{owner}");
        Ok(Self { _file: file, path })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The port's state file beside the lock (`<netns>-<port>.state`): what the holder must
    /// restore on the port (see [`crate::port_state`]). Only the lock's holder touches it, so
    /// one found on taking the lock was left by a holder that did not exit cleanly.
    pub fn state_path(&self) -> PathBuf {
        self.path.with_extension("state")
    }
}

/// This process's network namespace, as the inode number of `/proc/self/ns/net` (`net0` if it
/// cannot be read, which makes locks global rather than absent).
pub fn netns_id() -> String {
    match rustix::fs::stat("/proc/self/ns/net") {
        Ok(st) => format!("net{}", st.st_ino),
        Err(_) => "net0".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("bondd-lock-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn second_holder_is_refused_with_the_first_ones_name() {
        let dir = temp_dir("second");
        let first = PortLock::acquire(&dir, "veth0", "bondd bond0 (pid 1)").unwrap();
        let err = PortLock::acquire(&dir, "veth0", "bondd bond1 (pid 2)").unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("port veth0 is already in use by bondd bond0 (pid 1)"),
            "{text}"
        );
        // Another port is independent.
        let _other = PortLock::acquire(&dir, "veth1", "x").unwrap();
        assert_eq!(
            first.state_path(),
            first
                .path()
                .with_file_name(format!("{}-veth0.state", netns_id()))
        );
        drop(first);
        PortLock::acquire(&dir, "veth0", "bondd bond1 (pid 2)").unwrap();
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn bad_names_never_reach_the_file_system() {
        let dir = temp_dir("names");
        assert!(PortLock::acquire(&dir, "../../etc", "x").is_err());
        assert!(PortLock::acquire(&dir, "", "x").is_err());
        let _ = fs::remove_dir_all(&dir);
    }
}
