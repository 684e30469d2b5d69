//! The daemon's end of the control socket: non-blocking, served from the daemon's event loop.

use std::fs;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};

use rustix::fs::Mode;

use super::{encode_line, parse_request, Request, Response};
use crate::error::{Context, Error, Result};

/// Longest request line accepted; a client that sends more gets an error and is disconnected.
pub const MAX_LINE: usize = 64 * 1024;
/// At most this many clients at once; more are disconnected at once (`bondctl` holds its
/// connection for one request).
const MAX_CLIENTS: usize = 16;

#[derive(Debug)]
struct Client {
    stream: UnixStream,
    input: Vec<u8>,
    output: Vec<u8>,
    /// Close once `output` is flushed.
    closing: bool,
    /// The peer closed its side or an error occurred: drop without flushing.
    dead: bool,
}

impl Client {
    /// Nothing more to do with this client.
    fn finished(&self) -> bool {
        self.dead || (self.closing && self.output.is_empty())
    }
}

/// A listening control socket and its connected clients.
#[derive(Debug)]
pub struct ControlServer {
    listener: UnixListener,
    path: PathBuf,
    clients: Vec<Client>,
}

/// A request and the client to answer.
#[derive(Debug)]
pub struct Pending {
    client: usize,
    /// The request, or why it could not be read.
    pub request: std::result::Result<Request, String>,
}

impl ControlServer {
    /// Listen on `path` (mode 0600). The parent directory is created 0700 if missing. A socket
    /// file left by a daemon that died is replaced; a live one is refused.
    pub fn bind(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.exists() {
                fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(dir)
                    .context(|| format!("create {}", dir.display()))?;
            }
        }
        if fs::symlink_metadata(path).is_ok() {
            if UnixStream::connect(path).is_ok() {
                return Err(Error::refused(format!(
                    "control socket {} is in use by another bondd (give this one --control PATH \
                     or --name NAME)",
                    path.display()
                )));
            }
            fs::remove_file(path).context(|| format!("remove stale {}", path.display()))?;
        }
        // umask rather than chmod after bind: there is no moment when others could connect.
        let old = rustix::process::umask(Mode::from_raw_mode(0o177));
        let bound = UnixListener::bind(path);
        rustix::process::umask(old);
        let listener = bound.context(|| format!("bind control socket {}", path.display()))?;
        // Belt and braces for file systems that ignore the umask on sockets.
        let _ = fs::set_permissions(path, fs::Permissions::from_mode(0o600));
        listener
            .set_nonblocking(true)
            .context(|| "control socket".into())?;
        Ok(Self {
            listener,
            path: path.to_owned(),
            clients: Vec::new(),
        })
    }

    /// The socket path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The descriptors to poll: the listener for input, each client for input, and for output
    /// while it has unsent bytes.
    pub fn poll_fds(&self) -> Vec<(BorrowedFd<'_>, bool)> {
        let mut fds = vec![(self.listener.as_fd(), false)];
        fds.extend(
            self.clients
                .iter()
                .map(|c| (c.stream.as_fd(), !c.output.is_empty())),
        );
        fds
    }

    /// Accept new clients and read what they sent; returns the complete requests in order.
    /// Call it when any of [`poll_fds`](Self::poll_fds) is ready (spurious calls are harmless).
    pub fn service(&mut self) -> Vec<Pending> {
        self.accept();
        let mut pending = Vec::new();
        for (i, c) in self.clients.iter_mut().enumerate() {
            read_available(c);
            while let Some(pos) = c.input.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = c.input.drain(..=pos).collect();
                let line = &line[..line.len() - 1];
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                pending.push(Pending {
                    client: i,
                    request: parse_request(line),
                });
            }
            if c.closing && !c.input.is_empty() && c.input.len() <= MAX_LINE {
                // The client shut down its side after a last line without a newline.
                let line = std::mem::take(&mut c.input);
                pending.push(Pending {
                    client: i,
                    request: parse_request(&line),
                });
            }
            if c.input.len() > MAX_LINE {
                c.input.clear();
                c.output.extend(encode_line(&Response::error(format!(
                    "request longer than {MAX_LINE} bytes"
                ))));
                c.closing = true;
            }
        }
        pending
    }

    /// Queue the response to `pending` and try to send it.
    pub fn respond(&mut self, pending: &Pending, response: &Response) {
        if let Some(c) = self.clients.get_mut(pending.client) {
            c.output.extend(encode_line(response));
        }
    }

    /// Send what can be sent and drop finished or dead clients. Call after `respond`, and when
    /// a client is writable.
    pub fn flush(&mut self) {
        for c in &mut self.clients {
            while !c.output.is_empty() && !c.dead {
                match c.stream.write(&c.output) {
                    Ok(0) => c.dead = true,
                    Ok(n) => {
                        c.output.drain(..n);
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => c.dead = true,
                }
            }
        }
        self.clients.retain(|c| !c.finished());
    }

    fn accept(&mut self) {
        loop {
            match self.listener.accept() {
                Ok((stream, _)) => {
                    if self.clients.len() >= MAX_CLIENTS || stream.set_nonblocking(true).is_err() {
                        continue; // dropped: closed at once
                    }
                    self.clients.push(Client {
                        stream,
                        input: Vec::new(),
                        output: Vec::new(),
                        closing: false,
                        dead: false,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
    }
}

impl Drop for ControlServer {
    fn drop(&mut self) {
        // Only the file we bound: if another daemon replaced it meanwhile, its inode differs,
        // but telling them apart is not worth a race of its own; the path is ours by config.
        let _ = fs::remove_file(&self.path);
    }
}

fn read_available(c: &mut Client) {
    let mut buf = [0u8; 4096];
    loop {
        match c.stream.read(&mut buf) {
            Ok(0) => {
                // Half-close: answer what was asked, then close.
                c.closing = true;
                if c.output.is_empty() && c.input.is_empty() {
                    c.dead = true;
                }
                break;
            }
            Ok(n) => {
                c.input.extend_from_slice(&buf[..n]);
                if c.input.len() > MAX_LINE {
                    break;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(_) => {
                c.dead = true;
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufRead;

    fn temp_sock(tag: &str) -> PathBuf {
        std::env::temp_dir().join(format!("bondctl-test-{tag}-{}.sock", std::process::id()))
    }

    /// Serve `server` until the client thread finishes.
    fn serve_until_done(server: &mut ControlServer, done: &std::sync::atomic::AtomicBool) {
        while !done.load(std::sync::atomic::Ordering::SeqCst) {
            for p in server.service() {
                let resp = match &p.request {
                    Ok(Request::Status { json: false }) => Response::text("hello\n".into()),
                    Ok(_) => Response::ok(),
                    Err(e) => Response::error(e.clone()),
                };
                server.respond(&p, &resp);
            }
            server.flush();
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }

    #[test]
    fn serves_requests_and_refuses_garbage() {
        let path = temp_sock("serve");
        let mut server = ControlServer::bind(&path).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let done = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|s| {
            s.spawn(|| {
                let resp = crate::control::request(&path, &Request::Status { json: false });
                assert_eq!(resp.unwrap().text.as_deref(), Some("hello\n"));
                let mut raw = UnixStream::connect(&path).unwrap();
                raw.write_all(b"not json\n{\"cmd\":\"status\"}\n").unwrap();
                let mut lines = io::BufReader::new(raw).lines();
                let first: Response =
                    serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
                assert!(!first.ok);
                assert!(first.error.unwrap().contains("malformed request"));
                let second: Response =
                    serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
                assert!(second.ok);
                done.store(true, std::sync::atomic::Ordering::SeqCst);
            });
            serve_until_done(&mut server, &done);
        });
        drop(server);
        assert!(!path.exists(), "the socket file is removed on drop");
    }

    #[test]
    fn a_live_socket_is_not_stolen_but_a_stale_one_is_replaced() {
        let path = temp_sock("live");
        let first = ControlServer::bind(&path).unwrap();
        let err = ControlServer::bind(&path).unwrap_err().to_string();
        assert!(err.contains("in use by another bondd"), "{err}");
        drop(first);
        // A stale file (nobody listening: a daemon that was killed) is replaced.
        drop(UnixListener::bind(&path).unwrap());
        assert!(path.exists());
        let _second = ControlServer::bind(&path).unwrap();
    }
}
