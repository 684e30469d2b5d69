//! `bondctl status --json`: the facts of the `/proc/net/bonding` text, plus the adapter's own
//! counters, as JSON for tools and tests.

use bond_core::lacp::{LacpStats, MarkerExchange};
use bond_core::wire::lacp::{PortInfo, PortState};
use bond_core::{Bond, Duplex, EthernetAddress, Mode, PortId};
use serde::Serialize;

/// What the adapter knows about a port that the core does not.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AdapterPort {
    /// Interface index.
    pub ifindex: u32,
    /// The NIC's burned-in address (`ETHTOOL_GPERMADDR`), if it has one.
    pub hw_perm_mac: Option<EthernetAddress>,
    /// The MAC the interface carried when it joined (restored when it leaves).
    pub original_mac: EthernetAddress,
    /// Data and control frames sent on the port.
    pub tx_packets: u64,
    /// Bytes of those frames.
    pub tx_bytes: u64,
    /// Sends that failed (no buffer space, link down, ...).
    pub tx_errors: u64,
    /// Frames too long for the receive buffer, dropped.
    pub rx_truncated: u64,
    /// Frames the kernel dropped because it could not describe their offload state (a GSO
    /// type without a virtio-net equivalent, such as a tunnel's).
    pub rx_offload_dropped: u64,
    /// Frames for the host that the TAP refused while up (lost after `rx_delivered` counted
    /// them).
    pub rx_tap_errors: u64,
}

/// The whole status.
#[derive(Debug, Serialize)]
pub struct BondStatus {
    /// Bond (TAP) name.
    pub name: String,
    /// Mode (Linux spelling).
    pub mode: String,
    /// The configuration as a kernel option string.
    pub options: String,
    /// Bond MAC.
    pub mac: String,
    /// Bond carrier.
    pub carrier: bool,
    /// Administratively up.
    pub up: bool,
    /// Current active port (active-backup), or the port used for IGMP.
    pub active_port: Option<String>,
    /// Primary port.
    pub primary_port: Option<String>,
    /// Ports in join order.
    pub ports: Vec<PortStatusJson>,
    /// 802.3ad state (mode 802.3ad only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lacp: Option<LacpJson>,
}

/// One port.
#[derive(Debug, Serialize)]
pub struct PortStatusJson {
    /// Interface name.
    pub name: String,
    /// Interface index.
    pub ifindex: u32,
    /// Link monitor state (`up`, `going down`, `down`, `going back`).
    pub link: &'static str,
    /// Last carrier sample.
    pub carrier: bool,
    /// Speed in Mbit/s.
    pub speed_mbps: Option<u32>,
    /// `full`, `half` or `unknown`.
    pub duplex: &'static str,
    /// Times the link monitor declared the link down.
    pub link_failure_count: u32,
    /// Linux's "Permanent HW addr": the port's MAC when it joined.
    pub perm_hwaddr: String,
    /// The NIC's burned-in MAC (ethtool), if any.
    pub hw_perm_addr: Option<String>,
    /// The MAC the bond wants the port to carry.
    pub mac: String,
    /// Active (not backup).
    pub active: bool,
    /// Failover priority.
    pub prio: i32,
    /// Queue id.
    pub queue_id: u16,
    /// Counters.
    pub counters: PortCounters,
    /// 802.3ad state of the port (mode 802.3ad only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lacp: Option<LacpPortJson>,
}

/// A port's counters: receive side from the core, transmit side from the adapter.
#[derive(Debug, Serialize)]
pub struct PortCounters {
    /// Frames received on the port.
    pub rx_packets: u64,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Frames delivered to the host.
    pub rx_delivered: u64,
    /// Frames dropped because the port is inactive.
    pub rx_dropped_inactive: u64,
    /// Frames too long for the receive buffer.
    pub rx_truncated: u64,
    /// Frames the kernel dropped for an offload state it could not describe.
    pub rx_offload_dropped: u64,
    /// Frames for the host the TAP refused while up.
    pub rx_tap_errors: u64,
    /// Frames sent (data and control); a TCP super-frame (offloads) counts once, as on the TAP
    /// and in `rx_packets`.
    pub tx_packets: u64,
    /// Bytes sent.
    pub tx_bytes: u64,
    /// Failed sends.
    pub tx_errors: u64,
    /// Gratuitous ARPs / unsolicited NAs sent.
    pub tx_control: u64,
}

/// Bond-wide 802.3ad state.
#[derive(Debug, Serialize)]
pub struct LacpJson {
    /// The active aggregator, if any.
    pub active_aggregator: Option<AggregatorJson>,
    /// Bond totals of the 802.3ad counters.
    pub stats: LacpStatsJson,
}

/// The active aggregator.
#[derive(Debug, Serialize)]
pub struct AggregatorJson {
    /// Aggregator ID.
    pub id: u16,
    /// Ports in it.
    pub ports: usize,
    /// Actor key.
    pub actor_key: u16,
    /// Partner key.
    pub partner_key: u16,
    /// Partner system MAC.
    pub partner_system: String,
}

/// One port's 802.3ad state.
#[derive(Debug, Serialize)]
pub struct LacpPortJson {
    /// Aggregator the port selected.
    pub aggregator_id: Option<u16>,
    /// Receive machine.
    pub rx_state: String,
    /// Mux machine.
    pub mux_state: String,
    /// Periodic machine.
    pub periodic_state: String,
    /// Selected / Unselected / Standby.
    pub selected: String,
    /// Frames from the port are delivered.
    pub collecting: bool,
    /// Frames are sent on the port.
    pub distributing: bool,
    /// Actor churn state.
    pub actor_churn: &'static str,
    /// Partner churn state.
    pub partner_churn: &'static str,
    /// What we tell the partner.
    pub actor: PortInfoJson,
    /// What the partner told us.
    pub partner: PortInfoJson,
    /// The port's counters.
    pub stats: LacpStatsJson,
    /// The last marker sent with `bondctl marker` (null if none).
    pub last_marker: Option<MarkerJson>,
}

/// A port's last Marker exchange (`bondctl marker`).
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct MarkerJson {
    /// Requester_Transaction_ID.
    pub transaction_id: u32,
    /// It has left (false while held by the three-a-second limit).
    pub sent: bool,
    /// The partner's matching Marker Response arrived.
    pub answered: bool,
    /// Microseconds from sending to the response, once answered.
    pub round_trip_us: Option<u64>,
}

impl From<MarkerExchange> for MarkerJson {
    fn from(x: MarkerExchange) -> Self {
        Self {
            transaction_id: x.transaction_id,
            sent: x.sent_at.is_some(),
            answered: x.answered_at.is_some(),
            round_trip_us: x.round_trip().map(|d| d.total_micros()),
        }
    }
}

/// Actor or partner information.
#[derive(Debug, Serialize)]
pub struct PortInfoJson {
    /// System priority.
    pub system_priority: u16,
    /// System MAC.
    pub system: String,
    /// Key.
    pub key: u16,
    /// Port priority.
    pub port_priority: u16,
    /// Port number.
    pub port: u16,
    /// State octet.
    pub state: u8,
    /// The state octet's flags by name.
    pub state_flags: Vec<&'static str>,
}

/// The nine Linux 802.3ad counters.
#[derive(Debug, Serialize)]
pub struct LacpStatsJson {
    /// LACPDUs received.
    pub lacpdu_rx: u64,
    /// LACPDUs sent.
    pub lacpdu_tx: u64,
    /// Slow-protocol frames with an unknown subtype.
    pub lacpdu_unknown_rx: u64,
    /// Slow-protocol frames too short.
    pub lacpdu_illegal_rx: u64,
    /// Marker PDUs received.
    pub marker_rx: u64,
    /// Marker PDUs sent.
    pub marker_tx: u64,
    /// Marker responses received.
    pub marker_resp_rx: u64,
    /// Marker responses sent.
    pub marker_resp_tx: u64,
    /// Marker PDUs with an unknown TLV.
    pub marker_unknown_rx: u64,
}

impl From<LacpStats> for LacpStatsJson {
    fn from(s: LacpStats) -> Self {
        Self {
            lacpdu_rx: s.lacpdu_rx,
            lacpdu_tx: s.lacpdu_tx,
            lacpdu_unknown_rx: s.lacpdu_unknown_rx,
            lacpdu_illegal_rx: s.lacpdu_illegal_rx,
            marker_rx: s.marker_rx,
            marker_tx: s.marker_tx,
            marker_resp_rx: s.marker_resp_rx,
            marker_resp_tx: s.marker_resp_tx,
            marker_unknown_rx: s.marker_unknown_rx,
        }
    }
}

impl From<PortInfo> for PortInfoJson {
    fn from(p: PortInfo) -> Self {
        const FLAGS: [(PortState, &str); 8] = [
            (PortState::ACTIVITY, "activity"),
            (PortState::TIMEOUT, "timeout"),
            (PortState::AGGREGATION, "aggregation"),
            (PortState::SYNCHRONIZATION, "synchronization"),
            (PortState::COLLECTING, "collecting"),
            (PortState::DISTRIBUTING, "distributing"),
            (PortState::DEFAULTED, "defaulted"),
            (PortState::EXPIRED, "expired"),
        ];
        Self {
            system_priority: p.system_priority,
            system: p.system.to_string(),
            key: p.key,
            port_priority: p.port_priority,
            port: p.port,
            state: p.state.0,
            state_flags: FLAGS
                .iter()
                .filter(|(f, _)| p.state.0 & f.0 != 0)
                .map(|&(_, n)| n)
                .collect(),
        }
    }
}

/// Build the status of `bond`, named `name`; `adapter` supplies what only the adapter knows.
pub fn bond_status<const N: usize>(
    bond: &Bond<N>,
    name: &str,
    adapter: impl Fn(PortId) -> AdapterPort,
) -> BondStatus {
    let port_name =
        |id: Option<PortId>| id.and_then(|id| bond.port(id)).map(|p| p.name.to_string());
    let lacp_mode = bond.config().mode == Mode::Lacp;
    let ports = bond
        .ports()
        .filter_map(|id| {
            let p = bond.port(id)?;
            let a = adapter(id);
            Some(PortStatusJson {
                name: p.name.to_string(),
                ifindex: a.ifindex,
                link: p.link.name(),
                carrier: p.carrier,
                speed_mbps: p.speed_mbps,
                duplex: match p.duplex {
                    Duplex::Full => "full",
                    Duplex::Half => "half",
                    Duplex::Unknown => "unknown",
                },
                link_failure_count: p.link_failure_count,
                perm_hwaddr: p.perm_mac.to_string(),
                hw_perm_addr: a.hw_perm_mac.map(|m| m.to_string()),
                mac: p.mac.to_string(),
                active: p.active,
                prio: p.prio,
                queue_id: p.queue_id,
                counters: PortCounters {
                    rx_packets: p.stats.rx_packets,
                    rx_bytes: p.stats.rx_bytes,
                    rx_delivered: p.stats.rx_delivered,
                    rx_dropped_inactive: p.stats.rx_dropped_inactive,
                    rx_truncated: a.rx_truncated,
                    rx_offload_dropped: a.rx_offload_dropped,
                    rx_tap_errors: a.rx_tap_errors,
                    tx_packets: a.tx_packets,
                    tx_bytes: a.tx_bytes,
                    tx_errors: a.tx_errors,
                    tx_control: p.stats.tx_control,
                },
                lacp: if lacp_mode {
                    bond.lacp_port(id).map(|l| LacpPortJson {
                        aggregator_id: l.aggregator_id,
                        rx_state: format!("{:?}", l.rx),
                        mux_state: format!("{:?}", l.mux),
                        periodic_state: format!("{:?}", l.periodic),
                        selected: format!("{:?}", l.selected),
                        collecting: l.collecting,
                        distributing: l.distributing,
                        actor_churn: l.actor_churn.name(),
                        partner_churn: l.partner_churn.name(),
                        actor: l.actor.into(),
                        partner: l.partner.into(),
                        stats: l.stats.into(),
                        last_marker: l.last_marker.map(MarkerJson::from),
                    })
                } else {
                    None
                },
            })
        })
        .collect();
    BondStatus {
        name: name.to_string(),
        mode: bond.config().mode.name().to_string(),
        options: bond.config().options().to_string(),
        mac: bond.mac().to_string(),
        carrier: bond.carrier(),
        up: bond.is_up(),
        active_port: port_name(bond.active_port()),
        primary_port: port_name(bond.primary_port()),
        ports,
        lacp: lacp_mode.then(|| LacpJson {
            active_aggregator: bond.active_aggregator().map(|a| AggregatorJson {
                id: a.id,
                ports: a.ports,
                actor_key: a.actor_key,
                partner_key: a.partner_key,
                partner_system: a.partner_system.to_string(),
            }),
            stats: bond.lacp_stats().into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bond_core::{Config, Instant, LinkSample, PortConfig};

    #[test]
    fn active_backup_status_has_the_proc_facts() {
        let config = Config::parse("mode=active-backup miimon=100").unwrap();
        let mut bond = Bond::<4>::new(Instant::ZERO, config, None, 0).unwrap();
        let mac = "02:00:00:00:00:01".parse().unwrap();
        let cfg = PortConfig::new("eth0", mac, LinkSample::up_full(10000)).unwrap();
        let id = bond.add_port(Instant::ZERO, &cfg).unwrap();
        let s = bond_status(&bond, "bond0", |p| AdapterPort {
            ifindex: 7,
            tx_packets: u64::from(p == id) * 3,
            ..AdapterPort::default()
        });
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["mode"], "active-backup");
        assert_eq!(v["options"], "mode=active-backup miimon=100");
        assert_eq!(v["active_port"], "eth0");
        assert_eq!(v["carrier"], true);
        assert_eq!(v["ports"][0]["speed_mbps"], 10000);
        assert_eq!(v["ports"][0]["duplex"], "full");
        assert_eq!(v["ports"][0]["perm_hwaddr"], "02:00:00:00:00:01");
        assert_eq!(v["ports"][0]["ifindex"], 7);
        assert_eq!(v["ports"][0]["counters"]["tx_packets"], 3);
        assert!(v.get("lacp").is_none());
    }

    #[test]
    fn lacp_status_has_aggregator_and_port_state() {
        let config = Config::parse("mode=802.3ad lacp_rate=fast").unwrap();
        let mut bond = Bond::<4>::new(Instant::ZERO, config, None, 0).unwrap();
        let mac = "02:00:00:00:00:01".parse().unwrap();
        let cfg = PortConfig::new("eth0", mac, LinkSample::up_full(10000)).unwrap();
        bond.add_port(Instant::ZERO, &cfg).unwrap();
        let v =
            serde_json::to_value(bond_status(&bond, "bond0", |_| AdapterPort::default())).unwrap();
        let port = &v["ports"][0]["lacp"];
        assert!(port["actor"]["state_flags"]
            .as_array()
            .unwrap()
            .contains(&"activity".into()));
        assert!(port["distributing"].is_boolean());
        assert!(port["mux_state"].is_string());
        assert!(v["lacp"]["stats"]["lacpdu_tx"].is_u64());
        assert!(port["last_marker"].is_null());
    }

    #[test]
    fn last_marker_shows_answered_and_round_trip() {
        let config = Config::parse("mode=802.3ad lacp_rate=fast").unwrap();
        let mut bond = Bond::<4>::new(Instant::ZERO, config, None, 0).unwrap();
        let mac = "02:00:00:00:00:01".parse().unwrap();
        let cfg = PortConfig::new("eth0", mac, LinkSample::up_full(10000)).unwrap();
        let id = bond.add_port(Instant::ZERO, &cfg).unwrap();
        let status = |bond: &Bond<4>| {
            let v = serde_json::to_value(bond_status(bond, "bond0", |_| AdapterPort::default()))
                .unwrap();
            v["ports"][0]["lacp"]["last_marker"].clone()
        };
        let tid = bond.send_marker(Instant::ZERO, id).unwrap();
        let queued = serde_json::json!({
            "transaction_id": tid, "sent": false, "answered": false, "round_trip_us": null
        });
        assert_eq!(status(&bond), queued);
        let mut buf = [0u8; bond_core::bond::MIN_TRANSMIT_BUF];
        let mut request = None;
        let sent_at = Instant::from_micros(1_000);
        while let Some(t) = bond.poll_transmit(sent_at, &mut buf) {
            if buf[14] == 2 {
                request = Some(buf[..t.len].to_vec());
            }
        }
        // The partner's answer: the request with TLV type 2, from the partner's MAC.
        let mut answer = request.expect("a marker request");
        answer[6..12].copy_from_slice(&[2, 0, 0, 0, 0, 9]);
        answer[16] = 2;
        bond.handle_rx(Instant::from_micros(1_250), id, &answer);
        let answered = serde_json::json!({
            "transaction_id": tid, "sent": true, "answered": true, "round_trip_us": 250
        });
        assert_eq!(status(&bond), answered);
    }
}
