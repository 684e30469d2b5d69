//! The whole bond under arbitrary sequences of inputs, commands and time steps, with its
//! invariants checked after every step.
//!
//! The input is decoded with `arbitrary`: a setup (mode among balance-rr, active-backup,
//! balance-xor, broadcast and 802.3ad; miimon 0 or 100; updelay and downdelay 0 or 200; 1 to 4 ports with
//! their initial carrier) and then up to 64 operations (time steps of 0 to 5000 ms, link
//! samples, received and sent frames, timeouts, adding and removing ports, option changes,
//! `set_active_port`, `add_address`, admin up/down). After every operation the outputs are
//! drained in the documented order (`poll_action`, `poll_transmit`, `poll_event`) and checked:
//!
//! - (a) a `TxVerdict::Port(p)` / `Ports(set)` names only ports that are in the bond, whose last
//!   carrier sample (tracked here from the operations) was up and whose link state is `Up`; in
//!   active-backup, `Port(p)` is the active port;
//! - (b) in active-backup at most one port has `active == true`, and it is `active_port()`;
//! - (c) after `handle_timeout(now)` and the drain of its outputs (the documented order puts
//!   `poll_timeout` last: a control frame that is due keeps the deadline at `now` until
//!   `poll_transmit` takes it), `poll_timeout()` is `None` or later than `now`;
//! - (d) every `poll_transmit` frame is longer than an Ethernet header, fits the
//!   `MIN_TRANSMIT_BUF`-byte buffer, and names a port in the bond whose last carrier sample was
//!   up (as for data frames in (a): nothing is sent on a dead link, DESIGN.md §5). The one
//!   documented exception: a port removed from an 802.3ad bond may still send its goodbye
//!   LACPDU (Synchronization, Collecting and Distributing cleared), if its carrier was up;
//! - (e) `RxVerdict::Deliver` never comes from a backup (inactive) port in active-backup unless
//!   `all_slaves_active` is set;
//! - (f) nothing panics (the build has debug assertions, so overflows panic too);
//! - (g) `bond.status()` renders and starts with "Ethernet Channel Bonding Driver: ";
//!
//! and a few consistency checks that follow from the API docs: a failed `set_option` leaves the
//! configuration as it was; drops of truncated frames, of frames on unknown ports and on a bond
//! that is down carry those reasons; `poll_*` drains terminate; `poll_action` and
//! `active_port()` name ports in the bond; the bond's view of each port's carrier matches the
//! samples given.
//!
//! To see what an input does, run it with `BOND_FUZZ_TRACE=1` (prints the setup, each operation
//! and what the bond answered, on stderr):
//! `BOND_FUZZ_TRACE=1 cargo +nightly fuzz run handle_rx fuzz/seeds/handle_rx/ab-failover-delays`.
//! The seeds are written by `fuzz/seeds/make_handle_rx_seeds.py`, which encodes operation
//! sequences as `arbitrary` decodes them: keep it in step with the types below.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use bond_core::bond::MIN_TRANSMIT_BUF;
use bond_core::time::Duration;
use bond_core::{
    Action, Bond, BondAddress, Config, DropReason, Duplex, EthernetAddress, Instant, IpAddress,
    LinkSample, LinkState, Mode, PortConfig, PortId, RxVerdict, TxVerdict,
};
use libfuzzer_sys::fuzz_target;
use std::fmt::Write as _;
use std::sync::LazyLock;

/// `BOND_FUZZ_TRACE` is set: print what happens.
static TRACE: LazyLock<bool> = LazyLock::new(|| std::env::var_os("BOND_FUZZ_TRACE").is_some());

macro_rules! trace {
    ($($arg:tt)*) => {
        if *TRACE {
            eprintln!($($arg)*);
        }
    };
}

/// Port capacity of the bond under test.
const N: usize = 4;
/// Operations per input.
const MAX_OPS: usize = 64;
/// Longest frame built from the input.
const MAX_FRAME: usize = 256;
/// Longest raw option value.
const MAX_VALUE: usize = 48;
/// Bound on one drain of `poll_transmit` / `poll_event` / `poll_action`: each is a bounded
/// amount of state, never a queue that can grow.
const MAX_DRAIN: usize = 64;

const OPTION_NAMES: &[&str] = &[
    "mode",
    "miimon",
    "updelay",
    "downdelay",
    "primary",
    "primary_reselect",
    "active_slave",
    "all_slaves_active",
    "fail_over_mac",
    "num_grat_arp",
    "num_unsol_na",
    "peer_notif_delay",
    "packets_per_slave",
    "resend_igmp",
    "xmit_hash_policy",
    "use_carrier",
    "arp_interval",
    "arp_ip_target",
    "min_links",
    "lacp_rate",
];

const OPTION_VALUES: &[&str] = &[
    "0",
    "1",
    "2",
    "50",
    "100",
    "200",
    "1000",
    "255",
    "balance-rr",
    "active-backup",
    "balance-xor",
    "broadcast",
    "802.3ad",
    "eth0",
    "eth1",
    "eth2",
    "eth3",
    "",
    "always",
    "better",
    "failure",
    "active",
    "follow",
    "none",
    "layer3+4",
    "encap3+4",
    "vlan+srcmac",
    "+10.0.0.1",
    "maxval",
    "off",
];

#[derive(Arbitrary, Debug, Clone, Copy)]
enum ModeSel {
    RoundRobin,
    ActiveBackup,
    Xor,
    Broadcast,
    Lacp,
}

#[derive(Arbitrary, Debug)]
struct Setup {
    mode: ModeSel,
    miimon: bool,
    updelay: bool,
    downdelay: bool,
    /// 1 + this % 4 ports.
    ports: u8,
    /// Bit i: port i starts with carrier.
    carrier: u8,
    seed: u64,
}

#[derive(Arbitrary, Debug)]
enum Op {
    /// Advance time by `dt % 5001` ms; with `wake`, call `handle_timeout` at each deadline on
    /// the way, as a driver's timer would; without, the timer is late.
    Advance {
        dt: u16,
        wake: bool,
    },
    Link {
        port: u8,
        sample: Sample,
    },
    Rx {
        port: u8,
        frame: FrameSel,
    },
    Tx {
        frame: FrameSel,
    },
    Timeout,
    AddPort {
        name: u8,
        mac: u8,
        sample: Sample,
    },
    RemovePort {
        port: u8,
    },
    SetOption {
        name: u8,
        value: ValueSel,
    },
    SetActive {
        port: Option<u8>,
    },
    AddAddress {
        v6: bool,
        last: u8,
        vlan: Option<u16>,
    },
    AdminUp(bool),
    SendMarker {
        port: u8,
    },
}

#[derive(Arbitrary, Debug, Clone, Copy)]
struct Sample {
    up: bool,
    speed: u8,
    duplex: u8,
}

impl Sample {
    fn get(self) -> LinkSample {
        LinkSample {
            up: self.up,
            speed_mbps: [None, Some(10), Some(100), Some(1000)][usize::from(self.speed % 4)],
            duplex: [Duplex::Half, Duplex::Full, Duplex::Unknown][usize::from(self.duplex % 3)],
        }
    }
}

#[derive(Arbitrary, Debug)]
enum ValueSel {
    /// One of `OPTION_VALUES`.
    Common(u8),
    /// Any text (lossy UTF-8).
    Raw(Bytes),
}

/// A length byte, then that many bytes (or what is left): contiguous in the input, so frames
/// and values mutate naturally and seeds are easy to write.
#[derive(Debug)]
struct Bytes(Vec<u8>);

impl<'a> Arbitrary<'a> for Bytes {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let len = usize::from(u8::arbitrary(u)?).min(u.len());
        Ok(Self(u.bytes(len)?.to_vec()))
    }
}

#[derive(Arbitrary, Debug)]
enum FrameSel {
    /// An Ethernet header from a few choices, then `payload`.
    Built {
        dst: u8,
        ethertype: u8,
        payload: Bytes,
    },
    Raw(Bytes),
}

impl FrameSel {
    fn bytes(&self, bond_mac: EthernetAddress) -> Vec<u8> {
        let mut f = match self {
            Self::Raw(bytes) => bytes.0.clone(),
            Self::Built {
                dst,
                ethertype,
                payload,
            } => {
                let dst: [u8; 6] = match dst % 6 {
                    0 => [0x02, 0, 0, 0, 0, 0x99],
                    1 => [0xff; 6],
                    2 => [0x01, 0x80, 0xc2, 0, 0, dst >> 4],
                    3 => [0x01, 0x00, 0x5e, 0, 0, 1],
                    4 => [0x33, 0x33, 0, 0, 0, 1],
                    _ => bond_mac.0,
                };
                let ethertype: u16 = [0x0800, 0x86dd, 0x0806, 0x8100, 0x8809, 0x88cc, 0x88a8]
                    [usize::from(ethertype % 7)];
                let mut f = Vec::with_capacity(14 + payload.0.len());
                f.extend_from_slice(&dst);
                f.extend_from_slice(&[0x02, 0, 0, 0, 0, 0x98]);
                f.extend_from_slice(&ethertype.to_be_bytes());
                f.extend_from_slice(&payload.0);
                f
            }
        };
        f.truncate(MAX_FRAME);
        f
    }
}

fn port_mac(i: u8) -> EthernetAddress {
    EthernetAddress([0x02, 0, 0, 0, 0, 0x10 + i])
}

struct Harness {
    bond: Bond<N>,
    now: Instant,
    /// Every port handle seen so far (removed ones stay, to exercise unknown ports).
    ids: Vec<PortId>,
    /// The last carrier sample of each port in the bond, by slot.
    carrier: [Option<bool>; N],
    /// The last carrier sample of each port that left the bond (its slot not reused since).
    departed: [Option<bool>; N],
    buf: [u8; MIN_TRANSMIT_BUF],
    /// The status text, rendered after every operation (kept to save allocations).
    status: String,
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(setup) = Setup::arbitrary(&mut u) else {
        return;
    };
    trace!("{setup:?}");
    let Some(mut h) = Harness::new(&setup) else {
        return;
    };
    for _ in 0..MAX_OPS {
        if u.is_empty() {
            break;
        }
        let Ok(op) = Op::arbitrary(&mut u) else {
            break;
        };
        trace!("t={}ms {op:?}", h.now.total_millis());
        h.apply(op);
        h.check();
    }
});

impl Harness {
    fn new(setup: &Setup) -> Option<Self> {
        let mode = match setup.mode {
            ModeSel::RoundRobin => Mode::RoundRobin,
            ModeSel::ActiveBackup => Mode::ActiveBackup,
            ModeSel::Xor => Mode::Xor,
            ModeSel::Broadcast => Mode::Broadcast,
            ModeSel::Lacp => Mode::Lacp,
        };
        let mut config = Config::default();
        config.mode = mode;
        config.miimon = if setup.miimon { 100 } else { 0 };
        config.updelay_ms = if setup.updelay { 200 } else { 0 };
        config.downdelay_ms = if setup.downdelay { 200 } else { 0 };
        let now = Instant::from_millis(0);
        let bond = Bond::<N>::new(now, config, None, setup.seed).expect("supported mode");
        let mut h = Self {
            bond,
            now,
            ids: Vec::new(),
            carrier: [None; N],
            departed: [None; N],
            buf: [0; MIN_TRANSMIT_BUF],
            status: String::with_capacity(2048),
        };
        h.check();
        for i in 0..=setup.ports % N as u8 {
            let up = setup.carrier & (1 << i) != 0;
            let sample = if up {
                LinkSample::up_full(1000)
            } else {
                LinkSample::DOWN
            };
            let cfg = PortConfig::new(&format!("eth{i}"), port_mac(i), sample).unwrap();
            let id = h
                .bond
                .add_port(now, &cfg)
                .expect("room for the initial ports");
            h.joined(id, up);
            h.check();
        }
        Some(h)
    }

    fn joined(&mut self, id: PortId, up: bool) {
        self.departed[id.index()] = None;
        self.carrier[id.index()] = Some(up);
        if !self.ids.contains(&id) {
            self.ids.push(id);
        }
    }

    fn pick(&self, i: u8) -> Option<PortId> {
        (!self.ids.is_empty()).then(|| self.ids[usize::from(i) % self.ids.len()])
    }

    fn in_bond(&self, id: PortId) -> bool {
        self.bond.port(id).is_some()
    }

    fn apply(&mut self, op: Op) {
        let now = self.now;
        match op {
            Op::Advance { dt, wake } => {
                let target = now + Duration::from_millis(u64::from(dt % 5001));
                if wake {
                    // A timer firing at each deadline; (c) makes this loop advance.
                    for _ in 0..100_000 {
                        match self.bond.poll_timeout() {
                            Some(d) if d <= target => {
                                self.now = self.now.max(d);
                                self.timeout();
                            }
                            _ => break,
                        }
                    }
                }
                self.now = target;
            }
            Op::Timeout => self.timeout(),
            Op::Link { port, sample } => {
                let Some(id) = self.pick(port) else { return };
                let sample = sample.get();
                self.bond.handle_link(now, id, sample);
                if self.in_bond(id) {
                    self.carrier[id.index()] = Some(sample.up);
                }
            }
            Op::Rx { port, frame } => {
                let Some(id) = self.pick(port) else { return };
                let frame = frame.bytes(self.bond.mac());
                let before = self.bond.port(id).map(|p| p.active);
                let all_active = self.bond.config().all_slaves_active;
                let mode = self.bond.config().mode;
                let verdict = self.bond.handle_rx(now, id, &frame);
                trace!("  handle_rx({id}, {} bytes) = {verdict:?}", frame.len());
                match before {
                    None => assert_eq!(verdict, RxVerdict::Drop(DropReason::UnknownPort)),
                    Some(_) if frame.len() < 14 => {
                        assert_eq!(verdict, RxVerdict::Drop(DropReason::Truncated))
                    }
                    Some(active) => {
                        // (e)
                        if verdict == RxVerdict::Deliver
                            && mode == Mode::ActiveBackup
                            && !all_active
                        {
                            assert!(
                                active,
                                "(e) frame delivered from backup port {id} in active-backup"
                            );
                        }
                    }
                }
            }
            Op::Tx { frame } => {
                let frame = frame.bytes(self.bond.mac());
                let verdict = self.bond.select_tx(now, &frame);
                trace!("  select_tx({} bytes) = {verdict:?}", frame.len());
                self.check_tx(&frame, verdict);
            }
            Op::AddPort { name, mac, sample } => {
                let mac = match mac % 16 {
                    15 => EthernetAddress([0x01, 0, 0x5e, 0, 0, 1]),
                    m => port_mac(m % 8),
                };
                let name = format!("eth{}", name % 6);
                let sample = sample.get();
                let cfg = PortConfig::new(&name, mac, sample).unwrap();
                let result = self.bond.add_port(now, &cfg);
                trace!("  add_port({name}, {mac}) = {result:?}");
                if let Ok(id) = result {
                    self.joined(id, sample.up);
                }
            }
            Op::RemovePort { port } => {
                let Some(id) = self.pick(port) else { return };
                let restore = self.bond.remove_port(now, id);
                trace!("  remove_port({id}) = {restore:?}");
                assert!(
                    !self.in_bond(id),
                    "port {id} still in the bond after remove_port"
                );
                if let Some(up) = self.carrier[id.index()].take() {
                    self.departed[id.index()] = Some(up);
                }
            }
            Op::SetOption { name, value } => {
                let name = OPTION_NAMES[usize::from(name) % OPTION_NAMES.len()];
                let value = match &value {
                    ValueSel::Common(i) => {
                        OPTION_VALUES[usize::from(*i) % OPTION_VALUES.len()].to_string()
                    }
                    ValueSel::Raw(b) => {
                        String::from_utf8_lossy(&b.0[..b.0.len().min(MAX_VALUE)]).into_owned()
                    }
                };
                let value = value.as_str();
                let before = self.bond.config().clone();
                let result = self.bond.set_option(now, name, value);
                trace!("  set_option({name:?}, {value:?}) = {result:?}");
                if let Err(e) = result {
                    assert_eq!(
                        *self.bond.config(),
                        before,
                        "set_option({name:?}, {value:?}) failed ({e}) but changed the configuration"
                    );
                }
            }
            Op::SetActive { port } => {
                let id = match port {
                    None => None,
                    Some(i) => match self.pick(i) {
                        None => return,
                        some => some,
                    },
                };
                let result = self.bond.set_active_port(now, id);
                trace!("  set_active_port({id:?}) = {result:?}");
            }
            Op::AddAddress { v6, last, vlan } => {
                let ip = if v6 {
                    let mut a = [0u8; 16];
                    a[0] = 0xfe;
                    a[1] = 0x80;
                    a[15] = last;
                    IpAddress::V6(a)
                } else {
                    IpAddress::V4([10, 0, 0, last])
                };
                let _ = self.bond.add_address(BondAddress { ip, vlan });
            }
            Op::AdminUp(up) => self.bond.set_admin_up(now, up),
            Op::SendMarker { port } => {
                let Some(id) = self.pick(port) else {
                    return;
                };
                let result = self.bond.send_marker(now, id);
                trace!("  send_marker({id:?}) = {result:?}");
            }
        }
    }

    /// `handle_timeout(now)`, the outputs drained in the documented order (`check`), then (c).
    fn timeout(&mut self) {
        trace!("  handle_timeout(t={}ms)", self.now.total_millis());
        self.bond.handle_timeout(self.now);
        self.check();
        if let Some(next) = self.bond.poll_timeout() {
            assert!(
                next > self.now,
                "(c) poll_timeout() = {next:?} after handle_timeout({:?})",
                self.now
            );
        }
    }

    /// (a), and the drop reasons `select_tx` documents.
    fn check_tx(&self, frame: &[u8], verdict: TxVerdict) {
        if frame.len() < 14 {
            assert_eq!(verdict, TxVerdict::Drop(DropReason::Truncated));
            return;
        }
        if !self.bond.is_up() {
            assert_eq!(verdict, TxVerdict::Drop(DropReason::BondDown));
            return;
        }
        match verdict {
            TxVerdict::Port(id) => {
                self.check_tx_port(id, verdict);
                if self.bond.config().mode == Mode::ActiveBackup {
                    assert_eq!(
                        Some(id),
                        self.bond.active_port(),
                        "(a) active-backup sent on {id}, not on the active port"
                    );
                }
            }
            TxVerdict::Ports(set) => {
                assert!(!set.is_empty(), "(a) empty port set");
                for id in set.iter() {
                    self.check_tx_port(id, verdict);
                }
            }
            TxVerdict::Drop(_) => {}
            _ => {}
        }
    }

    fn check_tx_port(&self, id: PortId, verdict: TxVerdict) {
        let port = self.bond.port(id);
        assert!(
            port.is_some(),
            "(a) {verdict:?} names {id}, which is not in the bond"
        );
        assert_eq!(
            self.carrier[id.index()],
            Some(true),
            "(a) {verdict:?} names {id}, whose last carrier sample was down"
        );
        let link = port.unwrap().link;
        assert_eq!(
            link,
            LinkState::Up,
            "(a) {verdict:?} names {id}, whose link state is {link:?}"
        );
    }

    /// Drain the outputs and check the invariants that hold between operations.
    fn check(&mut self) {
        let now = self.now;
        let mut n = 0;
        while let Some(action) = self.bond.poll_action() {
            trace!("  action {action:?}");
            n += 1;
            assert!(n <= MAX_DRAIN, "poll_action never ends");
            if let Action::SetPortMac { port, .. } = action {
                assert!(
                    self.in_bond(port),
                    "poll_action names {port}, not in the bond"
                );
            }
        }
        let mut n = 0;
        while let Some(t) = self.bond.poll_transmit(now, &mut self.buf) {
            trace!("  transmit {t:?}");
            n += 1;
            assert!(n <= MAX_DRAIN, "poll_transmit never ends");
            // (d)
            assert!(
                t.len > 14 && t.len <= self.buf.len(),
                "(d) poll_transmit length {} (buffer {})",
                t.len,
                self.buf.len()
            );
            let i = t.port.index();
            let carrier = if self.in_bond(t.port) {
                self.carrier[i]
            } else {
                // The one documented exception: after `remove_port`, an 802.3ad port's goodbye
                // LACPDU (Synchronization, Collecting and Distributing cleared).
                let frame = &self.buf[..t.len];
                assert!(
                    self.departed[i].is_some(),
                    "(d) poll_transmit names {}, which never was in the bond",
                    t.port
                );
                assert!(
                    frame.len() > 32 && frame[12..15] == [0x88, 0x09, 0x01],
                    "(d) poll_transmit names {}, not in the bond, for a frame that is not a LACPDU",
                    t.port
                );
                assert_eq!(
                    frame[32] & 0x38,
                    0,
                    "(d) goodbye LACPDU of departed {} still claims sync/collecting/distributing",
                    t.port
                );
                self.departed[i]
            };
            // Control frames obey (a)'s rule too: nothing goes out on a dead link.
            assert_eq!(
                carrier,
                Some(true),
                "(d) poll_transmit names {}, whose last carrier sample was down",
                t.port
            );
        }
        let mut n = 0;
        while let Some(event) = self.bond.poll_event() {
            trace!("  event {event:?}");
            n += 1;
            assert!(n <= MAX_DRAIN, "poll_event never ends");
        }

        // (b)
        if self.bond.config().mode == Mode::ActiveBackup {
            let mut active = self
                .bond
                .ports()
                .filter(|&id| self.bond.port(id).is_some_and(|p| p.active));
            if let Some(first) = active.next() {
                let second = active.next();
                assert_eq!(
                    second, None,
                    "(b) two active ports in active-backup: {first} and {second:?}"
                );
                assert_eq!(
                    Some(first),
                    self.bond.active_port(),
                    "(b) {first} is active but active_port() is {:?}",
                    self.bond.active_port()
                );
            }
        }
        if let Some(a) = self.bond.active_port() {
            assert!(self.in_bond(a), "active_port() {a} is not in the bond");
        }

        // The bond's ports and carriers are the ones the operations gave it.
        let mut count = 0;
        for id in self.bond.ports() {
            count += 1;
            let carrier = self.bond.port(id).map(|p| p.carrier);
            assert_eq!(carrier, self.carrier[id.index()], "carrier of {id}");
        }
        assert_eq!(count, self.carrier.iter().flatten().count(), "port count");
        assert_eq!(count, self.bond.port_count());

        if *TRACE {
            let ports: Vec<String> = self
                .bond
                .ports()
                .filter_map(|id| self.bond.port(id))
                .map(|p| {
                    let state = if p.active { "active" } else { "backup" };
                    format!(
                        "{}:{}:{:?}:carrier={}:{state}",
                        p.id, p.name, p.link, p.carrier
                    )
                })
                .collect();
            trace!(
                "  state: active_port={:?} carrier={} ports=[{}] next_timeout={:?}",
                self.bond.active_port(),
                self.bond.carrier(),
                ports.join(" "),
                self.bond.poll_timeout().map(|t| t.total_millis())
            );
        }

        // (g)
        let status = &mut self.status;
        status.clear();
        write!(status, "{}", self.bond.status()).expect("status renders");
        assert!(
            status.starts_with("Ethernet Channel Bonding Driver: "),
            "(g) status starts with {:?}",
            &status[..status.floor_char_boundary(40)]
        );
    }
}
