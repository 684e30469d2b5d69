//! LACPDU and Marker PDU parse/emit round trips, on hostile bytes.
//!
//! Two directions:
//! - any frame: `classify` never panics; whatever it decodes as an LACPDU or a Marker emits back
//!   to a frame that decodes to the same value, exactly 124 bytes long, with every reserved
//!   octet zero;
//! - any value: the first bytes of the input, read as field values, emit a PDU that parses back
//!   to the same value.
#![no_main]

use bond_core::wire::lacp::{emit_lacpdu_frame, LacpduRepr, PortInfo, PortState, LACP_FRAME_LEN};
use bond_core::wire::marker::{emit_marker_frame, MarkerKind, MarkerRepr};
use bond_core::wire::slow::{classify, SlowFrame};
use bond_core::EthernetAddress;
use libfuzzer_sys::fuzz_target;

const SRC: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x01]);

fn u16_at(b: &[u8], i: usize) -> u16 {
    u16::from_be_bytes([b[i], b[i + 1]])
}

fn mac_at(b: &[u8], i: usize) -> EthernetAddress {
    EthernetAddress::from_bytes(&b[i..i + 6])
}

fn port_info(b: &[u8]) -> PortInfo {
    PortInfo {
        system_priority: u16_at(b, 0),
        system: mac_at(b, 2),
        key: u16_at(b, 8),
        port_priority: u16_at(b, 10),
        port: u16_at(b, 12),
        state: PortState(b[14]),
    }
}

/// Emit `repr`, check the frame's shape, and return what it parses back to.
fn lacpdu_round_trip(repr: &LacpduRepr) -> LacpduRepr {
    let mut buf = [0xa5u8; LACP_FRAME_LEN + 8];
    let len = emit_lacpdu_frame(&mut buf, SRC, repr);
    assert_eq!(len, LACP_FRAME_LEN);
    assert_eq!(&buf[..6], &[0x01, 0x80, 0xc2, 0, 0, 0x02]);
    assert_eq!(&buf[12..14], &[0x88, 0x09]);
    // Reserved octets and the pad are zero; nothing is written past the frame.
    for r in [33..36, 53..56, 60..72, 74..124] {
        assert!(
            buf[r.clone()].iter().all(|&b| b == 0),
            "reserved {r:?} not zero"
        );
    }
    assert!(buf[LACP_FRAME_LEN..].iter().all(|&b| b == 0xa5));
    match classify(&buf[..len]) {
        SlowFrame::Lacpdu { repr, .. } => repr,
        other => panic!("our own LACPDU classified as {other:?}"),
    }
}

fn marker_round_trip(repr: &MarkerRepr) -> MarkerRepr {
    let mut buf = [0xa5u8; LACP_FRAME_LEN + 8];
    let len = emit_marker_frame(&mut buf, SRC, repr);
    assert_eq!(len, LACP_FRAME_LEN);
    assert!(buf[LACP_FRAME_LEN..].iter().all(|&b| b == 0xa5));
    match classify(&buf[..len]) {
        SlowFrame::Marker(m) => m,
        other => panic!("our own Marker classified as {other:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    // Direction 1: hostile frames.
    match classify(data) {
        SlowFrame::Lacpdu { repr, .. } => {
            let again = lacpdu_round_trip(&repr);
            assert_eq!(again, repr);
        }
        SlowFrame::Marker(m) => assert_eq!(marker_round_trip(&m), m),
        SlowFrame::NotSlow
        | SlowFrame::Illegal
        | SlowFrame::MarkerUnknown { .. }
        | SlowFrame::Unknown { .. } => {}
    }
    // Direction 2: hostile values.
    if data.len() >= 34 {
        let repr = LacpduRepr {
            version: data[0],
            actor: port_info(&data[1..16]),
            partner: port_info(&data[16..31]),
            collector_max_delay: u16_at(data, 31),
        };
        assert_eq!(lacpdu_round_trip(&repr), repr);
        let marker = MarkerRepr {
            kind: if data[33] & 1 == 0 {
                MarkerKind::Information
            } else {
                MarkerKind::Response
            },
            requester_port: u16_at(data, 1),
            requester_system: mac_at(data, 3),
            transaction_id: u32::from_be_bytes([data[9], data[10], data[11], data[12]]),
        };
        assert_eq!(marker_round_trip(&marker), marker);
        assert_eq!(
            marker_round_trip(&marker.response()).kind,
            MarkerKind::Response
        );
    }
});
