//! One port's 802.1AX state: actor and partner information, the machines' states and timers.

use crate::time::Instant;
use crate::wire::lacp::{PortInfo, PortState};
use crate::wire::marker::MarkerRepr;
use crate::wire::EthernetAddress;

/// Whether the port may use its aggregator (802.1AX `Selected`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Selected {
    /// No aggregator chosen, or the choice was invalidated.
    Unselected,
    /// Attached (or attaching) to its aggregator.
    Selected,
    /// Selected but held back (aggregator cannot take more ports).
    Standby,
}

/// Receive machine states (802.1AX 6.4.12, Figure 6-18).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RxState {
    /// BEGIN.
    Initialize,
    /// The port is not operable.
    PortDisabled,
    /// The link is not full duplex: LACP does not run.
    LacpDisabled,
    /// No LACPDU for one timeout: partner assumed to be timing out fast.
    Expired,
    /// No LACPDU for two timeouts: using the administrative partner.
    Defaulted,
    /// Partner information is current.
    Current,
}

/// Periodic transmission machine states (802.1AX 6.4.13).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PeriodicState {
    /// No periodic LACPDUs (both ends passive, or the port is down).
    NoPeriodic,
    /// Every Fast_Periodic_Time (1 s).
    FastPeriodic,
    /// Every Slow_Periodic_Time (30 s).
    SlowPeriodic,
}

/// Mux machine states (802.1AX 6.4.15, Figures 6-21 and 6-22).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum MuxState {
    /// Not attached to an aggregator.
    Detached,
    /// Waiting Aggregate_Wait_Time for the other ports of the LAG.
    Waiting,
    /// Attached, in sync, neither collecting nor distributing.
    Attached,
    /// Collecting only (independent control).
    Collecting,
    /// Collecting and distributing (independent control, second step).
    Distributing,
    /// Collecting and distributing (coupled control).
    CollectingDistributing,
}

impl MuxState {
    /// Frames received on the port are delivered.
    pub const fn is_collecting(self) -> bool {
        matches!(
            self,
            Self::Collecting | Self::Distributing | Self::CollectingDistributing
        )
    }

    /// Frames may be sent on the port.
    pub const fn is_distributing(self) -> bool {
        matches!(self, Self::Distributing | Self::CollectingDistributing)
    }
}

/// Churn detection machine states (802.1AX 6.4.17).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ChurnState {
    /// Waiting up to Churn_Detection_Time for synchronization.
    Monitor,
    /// In sync.
    NoChurn,
    /// Failed to synchronize within Churn_Detection_Time.
    Churned,
}

impl ChurnState {
    /// The `/proc/net/bonding` spelling.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Monitor => "monitoring",
            Self::NoChurn => "none",
            Self::Churned => "churned",
        }
    }
}

/// One churn detection machine (there is one for the actor and one for the partner).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Churn {
    pub(crate) state: ChurnState,
    pub(crate) timer: Option<Instant>,
    pub(crate) count: u32,
}

/// The nine 802.3ad counters of Linux (`BOND_3AD_STAT_*`), per port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LacpStats {
    /// LACPDUs received.
    pub lacpdu_rx: u64,
    /// LACPDUs sent.
    pub lacpdu_tx: u64,
    /// Slow-protocol frames with an unknown subtype.
    pub lacpdu_unknown_rx: u64,
    /// Slow-protocol frames too short to be a PDU.
    pub lacpdu_illegal_rx: u64,
    /// Marker Information PDUs received.
    pub marker_rx: u64,
    /// Marker Information PDUs sent (`Bond::send_marker`; Linux never sends any).
    pub marker_tx: u64,
    /// Marker responses received.
    pub marker_resp_rx: u64,
    /// Marker responses sent.
    pub marker_resp_tx: u64,
    /// Marker PDUs with an unknown TLV type.
    pub marker_unknown_rx: u64,
}

impl LacpStats {
    /// Add `other` into `self` (bond totals are the sum over ports).
    pub fn accumulate(&mut self, other: &Self) {
        self.lacpdu_rx += other.lacpdu_rx;
        self.lacpdu_tx += other.lacpdu_tx;
        self.lacpdu_unknown_rx += other.lacpdu_unknown_rx;
        self.lacpdu_illegal_rx += other.lacpdu_illegal_rx;
        self.marker_rx += other.marker_rx;
        self.marker_tx += other.marker_tx;
        self.marker_resp_rx += other.marker_resp_rx;
        self.marker_resp_tx += other.marker_resp_tx;
        self.marker_unknown_rx += other.marker_unknown_rx;
    }
}

/// Linux's administrative partner: priority 0xffff, no system, key 1, port 1, priority 0xff,
/// state 0 (so a defaulted partner is Individual and asks for long timeouts).
pub(crate) const PARTNER_ADMIN: PortInfo = PortInfo {
    system_priority: 0xffff,
    system: EthernetAddress::ZERO,
    key: 1,
    port_priority: 0xff,
    port: 1,
    state: PortState(0),
};

/// A port's 802.1AX variables.
#[derive(Debug, Clone)]
pub(crate) struct LacpPort {
    /// Actor_Port (1-based, in join order as Linux numbers them).
    pub(crate) number: u16,
    /// Actor_Port_Priority (`actor_port_prio`).
    pub(crate) port_priority: u16,
    /// Actor_Oper_Port_Key.
    pub(crate) key: u16,
    /// Actor_Oper_Port_State.
    pub(crate) actor_state: PortState,
    /// Partner_Oper_* (what the partner said, or the administrative defaults).
    pub(crate) partner: PortInfo,
    /// Port_Enabled: link up.
    pub(crate) enabled: bool,
    /// LACP_Enabled: full duplex.
    pub(crate) lacp_enabled: bool,
    /// BEGIN: reinitialize every machine at the next run.
    pub(crate) begin: bool,
    /// The received PDU's partner fields matched us (802.1AX `Matched`).
    pub(crate) matched: bool,
    pub(crate) selected: Selected,
    /// Index of the aggregator the port selected.
    pub(crate) aggregator: Option<usize>,
    /// wait_while expired (802.1AX `Ready_N`).
    pub(crate) ready_n: bool,
    /// Need To Transmit.
    pub(crate) ntt: bool,
    pub(crate) rx: RxState,
    pub(crate) current_while: Option<Instant>,
    pub(crate) periodic: PeriodicState,
    pub(crate) periodic_timer: Option<Instant>,
    pub(crate) mux: MuxState,
    pub(crate) wait_while: Option<Instant>,
    /// Start times of the last three LACPDUs sent (the 3-per-second limit).
    pub(crate) tx_times: [Option<Instant>; 3],
    pub(crate) actor_churn: Churn,
    pub(crate) partner_churn: Churn,
    /// A marker response waiting to be sent (one slot: a newer request replaces an older one).
    pub(crate) marker_reply: Option<MarkerRepr>,
    /// The Marker Generator: our own requests and their answers.
    pub(crate) marker: super::marker::MarkerGenerator,
    /// Send one last LACPDU saying we stopped aggregating (port leaving, bond stopping).
    pub(crate) final_pdu: bool,
    /// Linux enables the ports of an active aggregator that has no partner.
    pub(crate) enabled_without_partner: bool,
    pub(crate) stats: LacpStats,
    /// Our own LACPDUs that came back (ignored; Linux only logs them).
    pub(crate) looped_rx: u64,
}

impl LacpPort {
    pub(crate) fn new(number: u16, port_priority: u16) -> Self {
        let churn = Churn {
            state: ChurnState::Monitor,
            timer: None,
            count: 0,
        };
        Self {
            number,
            port_priority,
            key: 0,
            actor_state: PortState(0),
            partner: PARTNER_ADMIN,
            enabled: false,
            lacp_enabled: false,
            begin: true,
            matched: false,
            selected: Selected::Unselected,
            aggregator: None,
            ready_n: false,
            ntt: false,
            rx: RxState::Initialize,
            current_while: None,
            periodic: PeriodicState::NoPeriodic,
            periodic_timer: None,
            mux: MuxState::Detached,
            wait_while: None,
            tx_times: [None; 3],
            actor_churn: churn,
            partner_churn: churn,
            marker_reply: None,
            marker: super::marker::MarkerGenerator::default(),
            final_pdu: false,
            enabled_without_partner: false,
            stats: LacpStats::default(),
            looped_rx: 0,
        }
    }

    /// Frames from this port reach the host (collecting, or Linux's partnerless aggregator).
    pub(crate) fn is_collecting(&self) -> bool {
        self.mux.is_collecting() || self.enabled_without_partner
    }

    /// Frames may be sent on this port.
    pub(crate) fn is_distributing(&self) -> bool {
        self.mux.is_distributing() || self.enabled_without_partner
    }

    /// The earliest timer of this port.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        [
            self.current_while,
            self.periodic_timer,
            self.wait_while,
            self.actor_churn.timer,
            self.partner_churn.timer,
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

/// Linux's speed code in bits 1-5 of the key (`__get_link_speed`).
pub(crate) fn speed_code(mbps: Option<u32>) -> u16 {
    match mbps {
        Some(1) => 1,
        Some(10) => 2,
        Some(100) => 3,
        Some(1000) => 4,
        Some(2500) => 5,
        Some(5000) => 6,
        Some(10000) => 7,
        Some(14000) => 8,
        Some(20000) => 9,
        Some(25000) => 10,
        Some(40000) => 11,
        Some(50000) => 12,
        Some(56000) => 13,
        Some(100000) => 14,
        Some(200000) => 15,
        Some(400000) => 16,
        Some(800000) => 17,
        _ => 0,
    }
}

/// Linux's operational key: `ad_user_port_key << 6 | speed code << 1 | full duplex`.
pub(crate) fn oper_key(user_key: u16, speed_mbps: Option<u32>, full_duplex: bool) -> u16 {
    (user_key & 0x3ff) << 6 | speed_code(speed_mbps) << 1 | u16::from(full_duplex)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_as_linux_computes_them() {
        // (user key, speed, full duplex, key): 1 G full duplex is the well-known 9.
        let cases = [
            (0, Some(1000), true, 9),
            (0, Some(10000), true, 15),
            (0, Some(100), false, 6),
            (0, None, true, 1),
            (1, Some(1000), true, 73),
            (1023, Some(800000), true, 0xffe3),
        ];
        for (user, speed, fd, key) in cases {
            assert_eq!(oper_key(user, speed, fd), key, "{user} {speed:?} {fd}");
        }
    }
}
