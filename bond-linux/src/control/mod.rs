//! The control socket between `bondctl` and `bondd`: a Unix stream socket carrying one JSON
//! object per line in each direction, one response per request, in order.
//!
//! ```text
//! → {"cmd":"status"}                          ← {"ok":true,"text":"Ethernet Channel Bonding Driver: ..."}
//! → {"cmd":"status","json":true}              ← {"ok":true,"status":{"name":"bond0","mode":"802.3ad",...}}
//! → {"cmd":"set","option":"miimon","value":"200"}   ← {"ok":true}
//! → {"cmd":"add","port":"veth2"}              ← {"ok":true}
//! → {"cmd":"remove","port":"veth2"}           ← {"ok":true}
//! → {"cmd":"active","port":"veth1"}           ← {"ok":false,"error":"could not set active port: its link is down"}
//! → {"cmd":"prio","port":"veth1","prio":10}   ← {"ok":true}
//! → {"cmd":"queue_id","port":"veth1","queue_id":2}          ← {"ok":true}
//! → {"cmd":"actor_port_prio","port":"veth1","prio":100}     ← {"ok":true}
//! → {"cmd":"marker","port":"veth1"}           ← {"ok":true,"transaction_id":1}
//! ```
//! A request that does not parse gets `{"ok":false,"error":...}` and changes nothing.

mod client;
mod server;

pub use client::request;
pub use server::{ControlServer, MAX_LINE};

use serde::{Deserialize, Serialize};

/// Default directory of control sockets.
pub const DEFAULT_DIR: &str = "/run/bondd";

/// The default control socket of bond `name`.
pub fn default_socket_path(name: &str) -> std::path::PathBuf {
    std::path::Path::new(DEFAULT_DIR).join(format!("{name}.sock"))
}

/// A request from `bondctl`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "lowercase", deny_unknown_fields)]
pub enum Request {
    /// The status: `/proc/net/bonding` text, or JSON when `json` is set.
    Status {
        /// Answer with the JSON form.
        #[serde(default)]
        json: bool,
    },
    /// Change one option, as writing sysfs would.
    Set {
        /// Option name (Linux spelling).
        option: String,
        /// Value (Linux spelling).
        value: String,
    },
    /// Add a port.
    Add {
        /// Interface name.
        port: String,
    },
    /// Remove a port.
    Remove {
        /// Interface name.
        port: String,
    },
    /// Make a port the active one.
    Active {
        /// Interface name.
        port: String,
    },
    /// Set a port's failover priority (Linux's per-port `prio`; higher wins).
    Prio {
        /// Interface name.
        port: String,
        /// The priority.
        prio: i32,
    },
    /// Set a port's `queue_id`.
    #[serde(rename = "queue_id")]
    QueueId {
        /// Interface name.
        port: String,
        /// The queue id.
        queue_id: u16,
    },
    /// Set a port's 802.3ad Actor_Port_Priority (`actor_port_prio`).
    #[serde(rename = "actor_port_prio")]
    ActorPortPrio {
        /// Interface name.
        port: String,
        /// The priority, 1 to 65535.
        prio: u16,
    },
    /// Send one 802.3ad Marker Information PDU on a port (the answer shows in `status`).
    Marker {
        /// Interface name.
        port: String,
    },
}

/// A response from `bondd`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Response {
    /// Whether the request was carried out.
    pub ok: bool,
    /// Text output (`status`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Structured output (`status --json`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<serde_json::Value>,
    /// Why the request was refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The Requester_Transaction_ID of the marker sent (`marker`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<u32>,
}

impl Response {
    /// Success without output.
    pub fn ok() -> Self {
        Self {
            ok: true,
            text: None,
            status: None,
            error: None,
            transaction_id: None,
        }
    }

    /// Success with text.
    pub fn text(text: String) -> Self {
        Self {
            text: Some(text),
            ..Self::ok()
        }
    }

    /// Success with a JSON status.
    pub fn status(status: serde_json::Value) -> Self {
        Self {
            status: Some(status),
            ..Self::ok()
        }
    }

    /// A marker was queued with this transaction ID.
    pub fn marker(transaction_id: u32) -> Self {
        Self {
            transaction_id: Some(transaction_id),
            ..Self::ok()
        }
    }

    /// Refusal.
    pub fn error(error: impl Into<String>) -> Self {
        Self {
            ok: false,
            error: Some(error.into()),
            ..Self::ok()
        }
    }
}

/// Parse one request line (without its newline).
pub fn parse_request(line: &[u8]) -> Result<Request, String> {
    let text = std::str::from_utf8(line).map_err(|_| "request is not UTF-8".to_string())?;
    serde_json::from_str(text.trim()).map_err(|e| format!("malformed request: {e}"))
}

/// Encode a value as one line (JSON never contains a raw newline).
pub fn encode_line<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = serde_json::to_vec(value).unwrap_or_else(|e| {
        // Serialising our own types cannot fail; if it ever does, say so on the wire.
        serde_json::to_vec(&Response::error(format!("internal error: {e}"))).unwrap_or_default()
    });
    out.push(b'\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip_and_have_the_documented_shape() {
        let cases = [
            (
                Request::Status { json: false },
                r#"{"cmd":"status","json":false}"#,
            ),
            (
                Request::Set {
                    option: "miimon".into(),
                    value: "200".into(),
                },
                r#"{"cmd":"set","option":"miimon","value":"200"}"#,
            ),
            (
                Request::Add {
                    port: "eth1".into(),
                },
                r#"{"cmd":"add","port":"eth1"}"#,
            ),
            (
                Request::Prio {
                    port: "eth1".into(),
                    prio: -3,
                },
                r#"{"cmd":"prio","port":"eth1","prio":-3}"#,
            ),
            (
                Request::QueueId {
                    port: "eth1".into(),
                    queue_id: 2,
                },
                r#"{"cmd":"queue_id","port":"eth1","queue_id":2}"#,
            ),
            (
                Request::ActorPortPrio {
                    port: "eth1".into(),
                    prio: 100,
                },
                r#"{"cmd":"actor_port_prio","port":"eth1","prio":100}"#,
            ),
            (
                Request::Marker {
                    port: "eth1".into(),
                },
                r#"{"cmd":"marker","port":"eth1"}"#,
            ),
        ];
        for (req, text) in cases {
            assert_eq!(serde_json::to_string(&req).unwrap(), text);
            assert_eq!(parse_request(text.as_bytes()).unwrap(), req);
        }
        assert_eq!(
            parse_request(br#"{"cmd":"status"}"#).unwrap(),
            Request::Status { json: false }
        );
    }

    #[test]
    fn malformed_requests_are_errors() {
        for bad in [
            &b"status"[..],
            br#"{"cmd":"reboot"}"#,
            br#"{"cmd":"set","option":"miimon"}"#,
            br#"{"cmd":"add","port":"eth0","extra":1}"#,
            br#"{"cmd":"queue_id","port":"eth0","queue_id":65536}"#,
            br#"{"cmd":"prio","port":"eth0","prio":"high"}"#,
            br#"{"cmd":"marker"}"#,
            b"\xff\xfe",
            b"",
        ] {
            assert!(parse_request(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn responses_are_single_lines() {
        let line = encode_line(&Response::text("a\nb\n".into()));
        assert_eq!(line.iter().filter(|&&b| b == b'\n').count(), 1);
        assert_eq!(*line.last().unwrap(), b'\n');
        let back: Response = serde_json::from_slice(&line).unwrap();
        assert_eq!(back.text.as_deref(), Some("a\nb\n"));
        let line = encode_line(&Response::marker(7));
        assert_eq!(line, b"{\"ok\":true,\"transaction_id\":7}\n");
    }
}
