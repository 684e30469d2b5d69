//! Control requests: what `bondctl` asks, carried out on the live bond.

use bond_core::Instant;

use super::{say, Daemon};
use crate::control::{Request, Response};
use crate::status_json::{bond_status, AdapterPort};

impl Daemon {
    /// Serve the control socket: read requests, answer each, flush.
    pub(crate) fn serve_control(&mut self, now: Instant) {
        for pending in self.control.service() {
            let response = match &pending.request {
                Ok(req) => self.handle_request(now, req),
                Err(e) => Response::error(e.clone()),
            };
            // Changes take effect (MACs, control frames) before the answer goes out.
            self.drain(now);
            self.control.respond(&pending, &response);
        }
        self.control.flush();
    }

    /// Carry out one request. Refusals change nothing.
    pub fn handle_request(&mut self, now: Instant, req: &Request) -> Response {
        match req {
            Request::Status { json: false } => {
                Response::text(self.bond.status().with_name(&self.name).to_string())
            }
            Request::Status { json: true } => {
                let status = bond_status(&self.bond, &self.name, |id| {
                    self.ports[id.index()]
                        .as_ref()
                        .map_or(AdapterPort::default(), |p| p.info)
                });
                match serde_json::to_value(status) {
                    Ok(v) => Response::status(v),
                    Err(e) => Response::error(format!("internal error: {e}")),
                }
            }
            Request::Set { option, value } => match self.bond.set_option(now, option, value) {
                Ok(applied) => {
                    for w in applied.warnings.iter() {
                        say!("{}: {w}", self.name);
                    }
                    say!("{}: {option} set to {value}", self.name);
                    Response::ok()
                }
                Err(e) => Response::error(e.to_string()),
            },
            Request::Add { port } => match self.add_port(now, port, None) {
                Ok(_) => Response::ok(),
                Err(e) => Response::error(e.to_string()),
            },
            Request::Remove { port } => match self.bond.port_by_name(port) {
                Some(id) => {
                    self.release_port(now, id, false);
                    Response::ok()
                }
                None => Response::error(format!("{port} is not a port of {}", self.name)),
            },
            Request::Active { port } => match self.bond.port_by_name(port) {
                Some(id) => match self.bond.set_active_port(now, Some(id)) {
                    Ok(()) => Response::ok(),
                    Err(e) => Response::error(e.to_string()),
                },
                None => Response::error(format!("{port} is not a port of {}", self.name)),
            },
            Request::Prio { port, prio } => match self.bond.port_by_name(port) {
                Some(id) => match self.bond.set_port_prio(now, id, *prio) {
                    Some(()) => {
                        say!("{}: {port}: prio set to {prio}", self.name);
                        Response::ok()
                    }
                    None => Response::error(format!("{port} is not a port of {}", self.name)),
                },
                None => Response::error(format!("{port} is not a port of {}", self.name)),
            },
            Request::QueueId { port, queue_id } => match self.bond.port_by_name(port) {
                Some(id) => match self.bond.set_port_queue_id(id, *queue_id) {
                    Some(()) => {
                        say!("{}: {port}: queue_id set to {queue_id}", self.name);
                        Response::ok()
                    }
                    None => Response::error(format!("{port} is not a port of {}", self.name)),
                },
                None => Response::error(format!("{port} is not a port of {}", self.name)),
            },
            Request::ActorPortPrio { port, prio } => match self.bond.port_by_name(port) {
                Some(id) => match self.bond.set_port_actor_prio(now, id, *prio) {
                    Some(()) => {
                        say!("{}: {port}: actor_port_prio set to {prio}", self.name);
                        Response::ok()
                    }
                    None => Response::error(format!(
                        "actor_port_prio: invalid value {prio} (allowed: 1 to 65535)"
                    )),
                },
                None => Response::error(format!("{port} is not a port of {}", self.name)),
            },
            Request::Marker { port } => match self.bond.port_by_name(port) {
                Some(id) => match self.bond.send_marker(now, id) {
                    Ok(transaction_id) => Response::marker(transaction_id),
                    Err(e) => Response::error(e.to_string()),
                },
                None => Response::error(format!("{port} is not a port of {}", self.name)),
            },
        }
    }
}
