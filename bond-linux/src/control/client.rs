//! `bondctl`'s end of the control socket.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use super::{encode_line, Request, Response};
use crate::error::{Context, Error, Result};

/// How long to wait for the daemon's answer.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Send `request` to the daemon listening on `path` and wait for its response.
pub fn request(path: &Path, request: &Request) -> Result<Response> {
    let mut stream = UnixStream::connect(path).map_err(|e| {
        Error::io(
            format!(
                "cannot reach bondd at {} (is it running? see --name / --control)",
                path.display()
            ),
            e,
        )
    })?;
    stream
        .set_read_timeout(Some(TIMEOUT))
        .context(|| "control socket".into())?;
    stream
        .write_all(&encode_line(request))
        .context(|| format!("send request to {}", path.display()))?;
    let mut line = String::new();
    BufReader::new(&stream)
        .read_line(&mut line)
        .context(|| format!("read response from {}", path.display()))?;
    if line.is_empty() {
        return Err(Error::refused(format!(
            "bondd at {} closed the connection without answering",
            path.display()
        )));
    }
    serde_json::from_str(&line).map_err(|e| Error::refused(format!("malformed response: {e}")))
}
