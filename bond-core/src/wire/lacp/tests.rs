//! LACPDU parse/emit tests against the fixtures, negative vectors and properties.

use super::fixtures::*;
use super::*;
use crate::wire::slow::{classify, SlowFrame};
use proptest::prelude::*;

fn pdu(frame: &[u8]) -> &[u8] {
    &frame[ETHERNET_HEADER_LEN..]
}

fn v1_repr() -> LacpduRepr {
    LacpduRepr {
        version: 1,
        actor: PortInfo {
            system_priority: 32768,
            system: EthernetAddress([0x00, 0x13, 0xc4, 0x12, 0x0f, 0x00]),
            key: 13,
            port_priority: 32768,
            port: 22,
            state: PortState::ACTIVITY | PortState::AGGREGATION | PortState::EXPIRED,
        },
        partner: PortInfo {
            system_priority: 32768,
            system: EthernetAddress([0x00, 0x0e, 0x83, 0x16, 0xf5, 0x00]),
            key: 13,
            port_priority: 32768,
            port: 25,
            state: PortState::TIMEOUT
                | PortState::AGGREGATION
                | PortState::COLLECTING
                | PortState::DISTRIBUTING,
        },
        collector_max_delay: 0x8000,
    }
}

fn v2_repr() -> LacpduRepr {
    LacpduRepr {
        version: 1,
        actor: PortInfo {
            system_priority: 32768,
            system: EthernetAddress([0x52, 0x54, 0x00, 0x1a, 0x2a, 0x4b]),
            key: 1,
            port_priority: 32768,
            port: 1,
            state: PortState(0x45),
        },
        partner: PortInfo {
            state: PortState::TIMEOUT,
            ..PortInfo::default()
        },
        collector_max_delay: 0,
    }
}

fn linux_expired_repr() -> LacpduRepr {
    let linux = EthernetAddress([0x52, 0x54, 0x00, 0x12, 0x34, 0x01]);
    LacpduRepr {
        version: 1,
        actor: PortInfo {
            system_priority: 0xffff,
            system: linux,
            key: 15,
            port_priority: 0xff,
            port: 1,
            state: PortState(0x8f),
        },
        partner: PortInfo {
            system_priority: 0x8000,
            system: EthernetAddress([0x0e, 0xfc, 0x9d, 0x5b, 0x0e, 0x7b]),
            key: 15,
            port_priority: 0xff,
            port: 1,
            state: PortState(0x37),
        },
        collector_max_delay: 0,
    }
}

fn ovs_no_partner_repr() -> LacpduRepr {
    LacpduRepr {
        version: 1,
        actor: PortInfo {
            system_priority: 65534,
            system: EthernetAddress([0xbe, 0x6a, 0x2d, 0x3d, 0x45, 0x46]),
            key: 1,
            port_priority: 65535,
            port: 1,
            state: PortState(0x77),
        },
        partner: PortInfo::default(),
        collector_max_delay: 0,
    }
}

#[test]
fn test_deconstruct() {
    let p = LacpduPacket::new_checked(pdu(&V1_CISCO)).unwrap();
    assert_eq!(p.subtype(), 1);
    assert_eq!(p.version(), 1);
    assert_eq!((p.actor_tlv_type(), p.actor_info_len()), (1, 20));
    assert_eq!(p.actor_system_priority(), 32768);
    assert_eq!(
        p.actor_system(),
        EthernetAddress([0x00, 0x13, 0xc4, 0x12, 0x0f, 0x00])
    );
    assert_eq!(p.actor_key(), 13);
    assert_eq!(p.actor_port_priority(), 32768);
    assert_eq!(p.actor_port(), 22);
    assert_eq!(p.actor_state(), PortState(0x85));
    assert_eq!((p.partner_tlv_type(), p.partner_info_len()), (2, 20));
    assert_eq!(p.partner_system_priority(), 32768);
    assert_eq!(
        p.partner_system(),
        EthernetAddress([0x00, 0x0e, 0x83, 0x16, 0xf5, 0x00])
    );
    assert_eq!(p.partner_key(), 13);
    assert_eq!(p.partner_port_priority(), 32768);
    assert_eq!(p.partner_port(), 25);
    assert_eq!(p.partner_state(), PortState(0x36));
    assert_eq!((p.collector_tlv_type(), p.collector_info_len()), (3, 16));
    assert_eq!(p.collector_max_delay(), 0x8000);
    assert_eq!((p.terminator_tlv_type(), p.terminator_len()), (0, 0));
    assert!(p.tlv_headers_valid());
}

#[test]
fn test_construct() {
    let mut frame = [0xa5u8; LACP_FRAME_LEN];
    frame[..ETHERNET_HEADER_LEN].copy_from_slice(&V1_CISCO[..ETHERNET_HEADER_LEN]);
    let mut p = LacpduPacket::new_unchecked(&mut frame[ETHERNET_HEADER_LEN..]);
    p.set_subtype(1);
    p.set_version(1);
    p.set_actor_tlv_type(1);
    p.set_actor_info_len(0x14);
    p.set_actor_system_priority(32768);
    p.set_actor_system(EthernetAddress([0x00, 0x13, 0xc4, 0x12, 0x0f, 0x00]));
    p.set_actor_key(13);
    p.set_actor_port_priority(32768);
    p.set_actor_port(22);
    p.set_actor_state(PortState(0x85));
    p.set_partner_tlv_type(2);
    p.set_partner_info_len(0x14);
    p.set_partner_system_priority(32768);
    p.set_partner_system(EthernetAddress([0x00, 0x0e, 0x83, 0x16, 0xf5, 0x00]));
    p.set_partner_key(13);
    p.set_partner_port_priority(32768);
    p.set_partner_port(25);
    p.set_partner_state(PortState(0x36));
    p.set_collector_tlv_type(3);
    p.set_collector_info_len(0x10);
    p.set_collector_max_delay(0x8000);
    p.set_terminator_tlv_type(0);
    p.set_terminator_len(0);
    p.clear_reserved();
    assert_eq!(frame, V1_CISCO);
}

#[test]
fn test_parse() {
    let cases: [(&[u8; 124], LacpduRepr); 4] = [
        (&V1_CISCO, v1_repr()),
        (&V2_TEAMD, v2_repr()),
        (&LINUX_EXPIRED, linux_expired_repr()),
        (&OVS_NO_PARTNER, ovs_no_partner_repr()),
    ];
    for (frame, want) in cases {
        let p = LacpduPacket::new_checked(pdu(frame)).unwrap();
        assert_eq!(LacpduRepr::parse(&p), Ok(want));
    }
    // The real captures in full: symmetric pairs decode as each other's mirror image.
    let linux = LacpduRepr::parse(&LacpduPacket::new_unchecked(pdu(&LINUX_DISTRIBUTING)));
    let linux = linux.unwrap();
    assert_eq!(linux.actor.state, PortState(0x3f));
    assert_eq!(linux.partner.state, PortState(0x3f));
    assert_eq!(linux.actor.system, linux_expired_repr().actor.system);
    let ovs = LacpduRepr::parse(&LacpduPacket::new_unchecked(pdu(&OVS_PAIR))).unwrap();
    assert_eq!((ovs.actor.port, ovs.partner.port), (1, 2));
    assert_eq!(ovs.actor.system_priority, 0xfffe);
}

#[test]
fn test_emit() {
    // Every fixture has zero reserved octets, so emit reproduces each byte for byte.
    let cases: [(&[u8; 124], LacpduRepr); 4] = [
        (&V1_CISCO, v1_repr()),
        (&V2_TEAMD, v2_repr()),
        (&LINUX_EXPIRED, linux_expired_repr()),
        (&OVS_NO_PARTNER, ovs_no_partner_repr()),
    ];
    for (frame, repr) in cases {
        let mut buf = [0xa5u8; LACP_FRAME_LEN + 6];
        let src = EthernetAddress::from_bytes(&frame[6..12]);
        let n = emit_lacpdu_frame(&mut buf, src, &repr);
        assert_eq!(n, LACP_FRAME_LEN);
        assert_eq!(&buf[..n], &frame[..]);
        assert_eq!(buf[n..], [0xa5; 6], "wrote past the frame");

        let mut pdu_buf = [0xa5u8; LACPDU_LEN];
        repr.emit(&mut LacpduPacket::new_unchecked(&mut pdu_buf[..]));
        assert_eq!(&pdu_buf[..], pdu(frame));
        assert_eq!(repr.buffer_len(), LACPDU_LEN);
    }
    for frame in [&LINUX_DISTRIBUTING, &OVS_PAIR] {
        let repr = LacpduRepr::parse(&LacpduPacket::new_unchecked(pdu(frame))).unwrap();
        let mut buf = [0xa5u8; LACP_FRAME_LEN];
        emit_lacpdu_frame(&mut buf, EthernetAddress::from_bytes(&frame[6..12]), &repr);
        assert_eq!(&buf, frame);
    }
}

#[test]
fn every_truncation_is_refused() {
    for len in 0..LACPDU_LEN {
        let short = &pdu(&V1_CISCO)[..len];
        assert_eq!(
            LacpduPacket::new_checked(short).err(),
            Some(Error::Truncated),
            "{len}"
        );
        assert_eq!(
            LacpduRepr::parse(&LacpduPacket::new_unchecked(short)),
            Err(Error::Truncated)
        );
    }
    for len in 0..LACP_FRAME_LEN {
        assert!(!matches!(
            classify(&V1_CISCO[..len]),
            SlowFrame::Lacpdu { .. }
        ));
    }
}

#[test]
fn wrong_subtype_is_refused() {
    for st in [0x00, 0x02, 0x0b] {
        let mut f = V1_CISCO;
        f[ETHERNET_HEADER_LEN] = st;
        let p = LacpduPacket::new_unchecked(pdu(&f));
        assert_eq!(LacpduRepr::parse(&p), Err(Error::WrongSubtype(st)));
    }
}

#[test]
fn wrong_tlv_headers_are_decoded_at_fixed_offsets_and_flagged() {
    // Negative vector (c): Actor_Information_Length 0x13. Linux decodes it, and so do we.
    let mut f = V1_CISCO;
    f[ETHERNET_HEADER_LEN + field::ACTOR_INFO_LEN] = 0x13;
    let p = LacpduPacket::new_checked(pdu(&f)).unwrap();
    assert_eq!(LacpduRepr::parse(&p), Ok(v1_repr()));
    assert!(!p.tlv_headers_valid());
    // Each header octet matters to the check.
    for at in [2, 3, 22, 23, 42, 43] {
        let mut f = V1_CISCO;
        f[ETHERNET_HEADER_LEN + at] ^= 0x40;
        let p = LacpduPacket::new_unchecked(pdu(&f));
        assert!(!p.tlv_headers_valid(), "octet {at}");
        assert_eq!(LacpduRepr::parse(&p), Ok(v1_repr()));
    }
    // The terminator is not checked: version 2 PDUs put TLVs there.
    let mut f = V1_CISCO;
    f[ETHERNET_HEADER_LEN + field::TERMINATOR_LEN] = 6;
    assert!(LacpduPacket::new_unchecked(pdu(&f)).tlv_headers_valid());
}

#[test]
fn version_2_with_port_algorithm_tlv_is_accepted() {
    // Negative vector (d): version 2, Port Algorithm TLV `04 06 00000005` after the
    // Collector TLV, pad shortened by 6 so the PDU stays 110 octets.
    let mut f = V1_CISCO;
    let tlv_at = ETHERNET_HEADER_LEN + field::TERMINATOR_TLV_TYPE;
    f[ETHERNET_HEADER_LEN + field::VERSION] = 2;
    f[tlv_at..tlv_at + 6].copy_from_slice(&[0x04, 0x06, 0x00, 0x00, 0x00, 0x05]);
    f[tlv_at + 6..tlv_at + 8].copy_from_slice(&[0x00, 0x00]);
    let SlowFrame::Lacpdu { repr, pdu } = classify(&f) else {
        panic!("{:?}", classify(&f));
    };
    assert_eq!(
        repr,
        LacpduRepr {
            version: 2,
            ..v1_repr()
        }
    );
    assert!(pdu.tlv_headers_valid());
}

#[test]
fn versions_0_and_255_are_accepted() {
    for v in [0, 2, 0xff] {
        let mut f = V1_CISCO;
        f[ETHERNET_HEADER_LEN + field::VERSION] = v;
        let p = LacpduPacket::new_unchecked(pdu(&f));
        assert_eq!(LacpduRepr::parse(&p).map(|r| r.version), Ok(v));
    }
}

#[test]
fn vendor_trailer_and_nonzero_reserved_are_accepted() {
    // Negative vector (e): V1 followed by a 20-octet HP IRF-style trailer.
    let mut f = [0u8; LACP_FRAME_LEN + 20];
    f[..LACP_FRAME_LEN].copy_from_slice(&V1_CISCO);
    f[LACP_FRAME_LEN] = 0x64;
    f[LACP_FRAME_LEN + 1] = 0x12;
    f[LACP_FRAME_LEN + 2..].fill(0x77);
    let SlowFrame::Lacpdu { repr, .. } = classify(&f) else {
        panic!()
    };
    assert_eq!(repr, v1_repr());

    let mut f = V1_CISCO;
    let reserved = [
        field::ACTOR_RESERVED,
        field::PARTNER_RESERVED,
        field::COLLECTOR_RESERVED,
        field::PAD,
    ];
    for r in reserved {
        f[ETHERNET_HEADER_LEN + r.start..ETHERNET_HEADER_LEN + r.end].fill(0xee);
    }
    let p = LacpduPacket::new_unchecked(pdu(&f));
    assert_eq!(LacpduRepr::parse(&p), Ok(v1_repr()));
}

#[test]
fn port_state_flags_and_display() {
    use core::fmt::Write;
    let mut s = PortState::default();
    s.insert(PortState::ACTIVITY | PortState::AGGREGATION);
    s.set(PortState::SYNCHRONIZATION, true);
    s |= PortState::COLLECTING | PortState::DISTRIBUTING;
    assert_eq!(s.bits(), 0x3d);
    assert!(s.contains(PortState::ACTIVITY | PortState::DISTRIBUTING));
    assert!(!s.contains(PortState::ACTIVITY | PortState::TIMEOUT));
    s.set(PortState::SYNCHRONIZATION, false);
    s.remove(PortState::COLLECTING);
    assert_eq!(s, PortState(0x25));

    let cases: [(u8, &str); 6] = [
        (0x3d, "0x3d (Act|Agg|Syn|Col|Dis)"),
        (0x3f, "0x3f (Act|Tmo|Agg|Syn|Col|Dis)"),
        (0x45, "0x45 (Act|Agg|Def)"),
        (0xc5, "0xc5 (Act|Agg|Def|Exp)"),
        (0x02, "0x02 (Tmo)"),
        (0x00, "0x00"),
    ];
    for (bits, text) in cases {
        let mut out = heapless::String::<48>::new();
        write!(out, "{}", PortState(bits)).unwrap();
        assert_eq!(out, text);
    }
}

fn port_info() -> impl Strategy<Value = PortInfo> {
    (
        any::<u16>(),
        any::<[u8; 6]>(),
        any::<u16>(),
        any::<u16>(),
        any::<u16>(),
        any::<u8>(),
    )
        .prop_map(
            |(system_priority, mac, key, port_priority, port, state)| PortInfo {
                system_priority,
                system: EthernetAddress(mac),
                key,
                port_priority,
                port,
                state: PortState(state),
            },
        )
}

proptest! {
    #[test]
    fn parse_emit_round_trip(
        version in any::<u8>(),
        actor in port_info(),
        partner in port_info(),
        collector_max_delay in any::<u16>(),
        fill in any::<u8>(),
    ) {
        let repr = LacpduRepr { version, actor, partner, collector_max_delay };
        let mut buf = [fill; LACPDU_LEN];
        repr.emit(&mut LacpduPacket::new_unchecked(&mut buf[..]));
        let p = LacpduPacket::new_checked(&buf[..]).unwrap();
        prop_assert!(p.tlv_headers_valid());
        prop_assert_eq!(LacpduRepr::parse(&p), Ok(repr));
    }

    #[test]
    fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..160)) {
        let p = LacpduPacket::new_unchecked(&bytes[..]);
        if let Ok(repr) = LacpduRepr::parse(&p) {
            prop_assert!(bytes.len() >= LACPDU_LEN);
            prop_assert_eq!(repr.actor, p.actor());
        }
    }
}
