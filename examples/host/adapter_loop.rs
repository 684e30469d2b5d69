//! The adapter loop every integration of bond-core runs, over two in-memory "NICs".
//!
//! A custom network stack owns its ports and its clock; the bond only decides. Each turn of the
//! loop: feed carrier changes (`handle_link`) and received frames (`handle_rx`), let time pass
//! (`handle_timeout`), then drain the outputs in order — MAC changes (`poll_action`), control
//! frames (`poll_transmit`), events (`poll_event`) — and sleep until `poll_timeout`. Frames from
//! the host go through `select_tx`.
//!
//! Run: `cargo run -p bond-examples --example adapter_loop`

use std::collections::VecDeque;

use bond_core::bond::MIN_TRANSMIT_BUF;
use bond_core::{
    Action, Bond, BondAddress, Config, Duration, EthernetAddress, Instant, IpAddress, LinkSample,
    PortConfig, PortId, RxVerdict, TxVerdict,
};

/// A stand-in for a MAC/PHY: a carrier flag, a programmed MAC and an outgoing queue.
struct FakeNic {
    name: &'static str,
    perm_mac: EthernetAddress,
    mac: EthernetAddress,
    carrier: bool,
    sent: VecDeque<Vec<u8>>,
}

impl FakeNic {
    fn new(name: &'static str, last: u8) -> Self {
        let mac = EthernetAddress([0x02, 0, 0, 0, 0, last]);
        Self {
            name,
            perm_mac: mac,
            mac,
            carrier: true,
            sent: VecDeque::new(),
        }
    }
}

/// One turn of the adapter loop: drain every output of the bond.
fn drain(bond: &mut Bond<2>, nics: &mut [FakeNic; 2], ids: &[PortId; 2], now: Instant) {
    while let Some(action) = bond.poll_action() {
        match action {
            Action::SetPortMac { port, mac } => {
                let nic = &mut nics[ids.iter().position(|&p| p == port).unwrap()];
                println!("{now}: program {mac} into {}", nic.name);
                nic.mac = mac;
            }
            Action::SetBondMac { mac } => println!("{now}: bond MAC is now {mac}"),
            other => println!("{now}: unhandled action {other:?}"),
        }
    }
    let mut buf = [0u8; MIN_TRANSMIT_BUF];
    while let Some(t) = bond.poll_transmit(now, &mut buf) {
        let nic = &mut nics[ids.iter().position(|&p| p == t.port).unwrap()];
        println!("{now}: control frame of {} bytes on {}", t.len, nic.name);
        nic.sent.push_back(buf[..t.len].to_vec());
    }
    while let Some(event) = bond.poll_event() {
        println!("{now}: event {event:?}");
    }
}

fn main() {
    let config = Config::parse("mode=active-backup miimon=100 downdelay=200 num_grat_arp=2")
        .expect("valid options");
    let mut bond = Bond::<2>::new(Instant::ZERO, config, None, 1).expect("supported config");
    bond.add_address(BondAddress {
        ip: IpAddress::V4([192, 168, 1, 1]),
        vlan: None,
    })
    .expect("room for an address");
    let mut nics = [FakeNic::new("eth0", 0x10), FakeNic::new("eth1", 0x11)];
    let ids: [PortId; 2] = std::array::from_fn(|i| {
        let cfg =
            PortConfig::new(nics[i].name, nics[i].perm_mac, LinkSample::up_full(1000)).unwrap();
        bond.add_port(Instant::ZERO, &cfg).expect("room for a port")
    });
    drain(&mut bond, &mut nics, &ids, Instant::ZERO);

    // The host sends a frame every 50 ms; eth0 loses carrier at 300 ms (an interrupt).
    let mut now = Instant::ZERO;
    let end = Instant::from_millis(800);
    let mut next_frame = Instant::ZERO;
    while now < end {
        if now == Instant::from_millis(300) {
            nics[0].carrier = false;
            bond.handle_link(now, ids[0], LinkSample::DOWN);
        }
        if now >= next_frame {
            let mut frame = vec![0u8; 60];
            frame[..6].copy_from_slice(&[0x02, 0, 0, 0, 0, 0x99]);
            frame[6..12].copy_from_slice(&bond.mac().0);
            frame[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
            match bond.select_tx(now, &frame) {
                TxVerdict::Port(p) => {
                    let i = ids.iter().position(|&id| id == p).unwrap();
                    assert!(
                        nics[i].carrier,
                        "the bond never picks a port without carrier"
                    );
                    nics[i].sent.push_back(frame);
                }
                TxVerdict::Ports(set) => println!("{now}: copy to {} ports", set.len()),
                TxVerdict::Drop(reason) => println!("{now}: frame dropped: {reason:?}"),
                _ => {}
            }
            next_frame = now + Duration::from_millis(50);
        }
        // A frame arriving on the backup port is not for the host in active-backup.
        if now == Instant::from_millis(100) {
            let verdict = bond.handle_rx(now, ids[1], &[0u8; 60]);
            assert_eq!(
                verdict,
                RxVerdict::Drop(bond_core::DropReason::InactivePort)
            );
        }
        bond.handle_timeout(now);
        drain(&mut bond, &mut nics, &ids, now);
        // Sleep until the bond's next deadline or our next frame, whichever comes first.
        let wake = bond
            .poll_timeout()
            .map_or(next_frame, |t| t.min(next_frame));
        now = if wake > now {
            wake
        } else {
            now + Duration::from_millis(1)
        };
    }
    for nic in &nics {
        println!(
            "{} sent {} frames, MAC {}",
            nic.name,
            nic.sent.len(),
            nic.mac
        );
    }
    println!("\n{}", bond.status());
}
