//! Real LACPDUs (Cisco, teamd, Linux, Open vSwitch) and Marker PDUs as test fixtures.

/// Decode `hex` into `N` octets at compile time, zero-filling what the string leaves out
/// (the reference writes its vectors as "these octets, then so many zeros"). Whitespace is
/// skipped.
pub(crate) const fn hex<const N: usize>(hex: &str) -> [u8; N] {
    const fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => panic!("not a hex digit"),
        }
    }
    let s = hex.as_bytes();
    let mut out = [0u8; N];
    let (mut i, mut n, mut high) = (0, 0, None);
    while i < s.len() {
        let c = s[i];
        i += 1;
        if c == b' ' || c == b'\n' {
            continue;
        }
        match high {
            None => high = Some(nibble(c)),
            Some(h) => {
                out[n] = h << 4 | nibble(c);
                n += 1;
                high = None;
            }
        }
    }
    assert!(high.is_none(), "odd number of hex digits");
    out
}

/// V1 of the reference (§6): a real Cisco LACPDU from scapy's test suite. Actor 32768 /
/// 00:13:c4:12:0f:00 key 13 port 22 state 0x85; partner 32768 / 00:0e:83:16:f5:00 key 13
/// port 25 state 0x36; CollectorMaxDelay 0x8000.
pub(crate) static V1_CISCO: [u8; 124] = hex("0180c2000002 0013c4120f0d 8809
     01 01 0114 8000 0013c4120f00 000d 8000 0016 85 000000
     0214 8000 000e8316f500 000d 8000 0019 36 000000
     0310 8000");

/// V2 of the reference (§6): SONiC/teamd's first PDU, before it heard from a partner.
pub(crate) static V2_TEAMD: [u8; 124] = hex("0180c2000002 5254004cd743 8809
     01 01 0114 8000 5254001a2a4b 0001 8000 0001 45 000000
     0214 0000 000000000000 0000 0000 0000 02 000000
     0310 0000");

/// Linux 6.1 bonding (in QEMU), first LACPDU of linux-bond.pcap: expired, not yet
/// collecting (actor 0x8f), with lacp_rate=fast, 10 G (key 15).
pub(crate) static LINUX_EXPIRED: [u8; 124] = hex("0180c2000002 525400123401 8809
     01 01 0114 ffff 525400123401 000f 00ff 0001 8f 000000
     0214 8000 0efc9d5b0e7b 000f 00ff 0001 37 000000
     0310 0000");

/// Linux 6.1 bonding, fifth frame of linux-bond.pcap: collecting and distributing on both
/// sides (0x3f / 0x3f).
pub(crate) static LINUX_DISTRIBUTING: [u8; 124] = hex("0180c2000002 525400123401 8809
     01 01 0114 ffff 525400123401 000f 00ff 0001 3f 000000
     0214 8000 0efc9d5b0e7b 000f 00ff 0001 3f 000000
     0310 0000");

/// Open vSwitch 3.1 (userspace datapath) with no partner yet, ovs-single.pcap: actor
/// 65534 / be:6a:2d:3d:45:46 key 1 port 1 priority 65535 state 0x77; partner all zero.
pub(crate) static OVS_NO_PARTNER: [u8; 124] = hex("0180c2000002 46df0ee0b01c 8809
     01 01 0114 fffe be6a2d3d4546 0001 ffff 0001 77 000000
     0214 0000 000000000000 0000 0000 0000 00 000000
     0310 0000");

/// Open vSwitch 3.1 talking to another OVS, first frame of ovs-pair.pcap (0x3f / 0x3f).
pub(crate) static OVS_PAIR: [u8; 124] = hex("0180c2000002 daaba5d3f4fd 8809
     01 01 0114 fffe dec1ed965641 0001 ffff 0001 3f 000000
     0214 fffe ae10a9512343 0001 ffff 0002 3f 000000
     0310 0000");

/// V4 of the reference (§6, constructed from the layout): a Marker Information PDU with
/// port 22, system 00:13:c4:12:0f:00, transaction 1, behind the V1 Ethernet header.
pub(crate) static V4_MARKER_INFO: [u8; 124] = hex("0180c2000002 0013c4120f0d 8809
     02 01 01 10 0016 0013c4120f00 00000001 0000 0000");

/// V4's Marker Response: identical except TLV_type 2.
pub(crate) static V4_MARKER_RESPONSE: [u8; 124] = hex("0180c2000002 0013c4120f0d 8809
     02 01 02 10 0016 0013c4120f00 00000001 0000 0000");

/// The Marker Information PDU that scapy builds (oracle.pcap frame 4), transaction
/// 0xdeadbeef.
pub(crate) static SCAPY_MARKER_INFO: [u8; 124] = hex("0180c2000002 020000000a01 8809
     02 01 01 10 0001 020000000a01 deadbeef 0000 0000");
