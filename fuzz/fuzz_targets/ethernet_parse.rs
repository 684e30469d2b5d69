//! Ethernet header view and MAC address text: no panic on any input, and what is read back
//! matches what was given.
#![no_main]

use bond_core::wire::{ethernet, EthernetFrame, ETHERNET_HEADER_LEN};
use bond_core::EthernetAddress;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match EthernetFrame::new_checked(data) {
        None => assert!(data.len() < ETHERNET_HEADER_LEN),
        Some(frame) => {
            let (dst, src, ethertype) = (frame.dst_addr(), frame.src_addr(), frame.ethertype());
            assert_eq!(frame.as_bytes(), data);
            assert_eq!(frame.payload(), &data[ETHERNET_HEADER_LEN..]);
            assert_eq!(dst.as_bytes(), &data[0..6]);
            assert_eq!(src.as_bytes(), &data[6..12]);
            assert_eq!(dst.is_multicast(), data[0] & 1 == 1);
            assert!(!(dst.is_unicast() && dst.is_multicast()));
            if dst.is_broadcast() || dst.is_link_local() {
                assert!(dst.is_multicast());
            }
            // emit_header writes back exactly the header that was read.
            let mut header = [0u8; ETHERNET_HEADER_LEN];
            ethernet::emit_header(&mut header, dst, src, ethertype);
            assert_eq!(&header[..], &data[..ETHERNET_HEADER_LEN]);
        }
    }

    if let Ok(text) = core::str::from_utf8(data) {
        if let Ok(mac) = text.parse::<EthernetAddress>() {
            // Display is canonical (lower-case, ':'-separated, two digits) and parses back.
            let shown = mac.to_string();
            assert_eq!(shown.len(), 17);
            assert_eq!(shown.parse::<EthernetAddress>(), Ok(mac));
        }
    }
});
