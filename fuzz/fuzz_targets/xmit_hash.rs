//! `hash::xmit_hash` under every policy: no panic on any frame, and a frame's hash depends only
//! on a bounded header window.
//!
//! Checked, for each policy:
//! - no panic; the same frame always gives the same hash; a frame shorter than an Ethernet
//!   header (or than the tag-less header behind an outer VLAN tag) hashes to 0;
//! - layer2 and vlan+srcmac equal their documented formulas; layer2+3 and layer3+4 fall back to
//!   layer2 for a frame that is not IPv4/IPv6 after the outer tag;
//! - **header window**: replacing the bytes at the policy's window offset and beyond (by fixed
//!   pseudo-random bytes) never changes the hash, both for the input itself and for the input
//!   extended (by repeating it) past the window, so long headers are exercised even when the
//!   input is short.
//!
//! The windows, from the frame's first byte, are what each dissector can read at most (each is
//! tight: a frame exists whose hash depends on the byte just before it):
//! - layer2, vlan+srcmac: 18 (Ethernet header and one outer tag);
//! - layer2+3: 106 = 18 + an ICMP error in IPv4 with IHL 15 (60) + ICMP header (8) + the quoted
//!   fixed IPv4 header (20); the IPv6 case is 18 + 40 + 8 + 40, the same;
//! - layer3+4: 154 = 18 + 60 + 8 + quoted IPv4 with IHL 15 (60) + AH's SPI at L4 offset 4..8;
//! - encap2+3, encap3+4: 32834. **Offset 200 is not a bound for them**: the flow dissector
//!   follows IPv6 extension headers of up to (255 + 1) * 8 = 2048 bytes each, for at most 16
//!   steps (MAX_FLOW_DISSECT_HDRS), so the worst case is 18 + IPv6 (40) + 16 * 2048 + AH SPI
//!   (8) = 32834. The seed `ipv6-hbh-tcp-ports-past-200` is a 298-byte IPv6/TCP frame (a
//!   224-byte hop-by-hop header before TCP) whose encap3+4 hash depends on its TCP ports at
//!   offsets 278..282.
#![no_main]

use std::cell::RefCell;
use std::sync::LazyLock;

use bond_core::hash::xmit_hash;
use bond_core::XmitHashPolicy;
use libfuzzer_sys::fuzz_target;

const WINDOW_L2: usize = 18;
const WINDOW_L23: usize = 106;
const WINDOW_L34: usize = 154;
const WINDOW_ENCAP: usize = 32_834;

/// Each window and the policies it bounds.
const WINDOWS: &[(usize, &[XmitHashPolicy])] = &[
    (
        WINDOW_L2,
        &[XmitHashPolicy::Layer2, XmitHashPolicy::VlanSrcMac],
    ),
    (WINDOW_L23, &[XmitHashPolicy::Layer23]),
    (WINDOW_L34, &[XmitHashPolicy::Layer34]),
    (
        WINDOW_ENCAP,
        &[XmitHashPolicy::Encap23, XmitHashPolicy::Encap34],
    ),
];

/// Length of the frames extended past a window.
const LONG: usize = WINDOW_ENCAP + 64;

/// Fixed pseudo-random bytes that replace a frame's tail (copied, not computed per run, so the
/// check stays cheap under AddressSanitizer and value profiling).
static NOISE: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..LONG.max(1 << 16))
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 56) as u8
        })
        .collect()
});

thread_local! {
    /// Two frame buffers reused across runs.
    static BUFS: RefCell<(Vec<u8>, Vec<u8>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

fuzz_target!(|data: &[u8]| {
    let hashes: Vec<u32> = XmitHashPolicy::ALL
        .iter()
        .map(|&p| xmit_hash(p, data))
        .collect();
    for (&policy, &h) in XmitHashPolicy::ALL.iter().zip(&hashes) {
        assert_eq!(xmit_hash(policy, data), h, "{policy}: not deterministic");
    }
    BUFS.with(|bufs| {
        let (a, b) = &mut *bufs.borrow_mut();
        for &(w, policies) in WINDOWS {
            check_window(w, policies, data, a, b);
        }
    });
    check_formulas(data, &hashes);
});

/// `frame` with the bytes from `w` on replaced by [`NOISE`], into `out`.
fn with_noisy_tail(out: &mut Vec<u8>, frame: &[u8], w: usize) {
    out.clear();
    out.extend_from_slice(&frame[..w]);
    out.extend_from_slice(&NOISE[w..frame.len()]);
}

/// The header-window invariant for the policies bounded by `w` (see the module docs).
fn check_window(
    w: usize,
    policies: &[XmitHashPolicy],
    data: &[u8],
    a: &mut Vec<u8>,
    b: &mut Vec<u8>,
) {
    // The input itself, its bytes past the window replaced.
    if data.len() > w && data.len() <= NOISE.len() {
        with_noisy_tail(b, data, w);
        for &policy in policies {
            assert_eq!(
                xmit_hash(policy, b),
                xmit_hash(policy, data),
                "{policy}: the hash depends on bytes at offset {w} or beyond"
            );
        }
    }
    // The input repeated to `LONG` bytes, then the same with the part past the window replaced.
    if !data.is_empty() && data.len() < LONG {
        a.clear();
        a.extend_from_slice(data);
        while a.len() < LONG {
            let n = a.len().min(LONG - a.len());
            a.extend_from_within(..n);
        }
        with_noisy_tail(b, a, w);
        for &policy in policies {
            assert_eq!(
                xmit_hash(policy, a),
                xmit_hash(policy, b),
                "{policy}: the hash of a {LONG}-byte frame depends on bytes at offset {w} or beyond"
            );
        }
    }
}

fn be16(hi: u8, lo: u8) -> u32 {
    u32::from(u16::from_be_bytes([hi, lo]))
}

fn is_tpid(ethertype: u32) -> bool {
    ethertype == 0x8100 || ethertype == 0x88a8
}

/// The formulas the hash module documents for the Ethernet-level policies and fallbacks.
fn check_formulas(data: &[u8], hashes: &[u32]) {
    let hash = |p: XmitHashPolicy| {
        let i = XmitHashPolicy::ALL.iter().position(|&q| q == p).unwrap();
        hashes[i]
    };
    if data.len() < 14 {
        assert!(hashes.iter().all(|&h| h == 0), "short frame must hash to 0");
        return;
    }
    let mut ethertype = be16(data[12], data[13]);
    let mut tci = 0;
    if is_tpid(ethertype) {
        if data.len() < 18 {
            assert!(
                hashes.iter().all(|&h| h == 0),
                "cut tagged frame must hash to 0"
            );
            return;
        }
        tci = be16(data[14], data[15]);
        ethertype = be16(data[16], data[17]);
    }
    let layer2 = u32::from(data[5] ^ data[11]) ^ ethertype;
    assert_eq!(hash(XmitHashPolicy::Layer2), layer2, "layer2 formula");
    let vendor = u32::from_be_bytes([0, data[6], data[7], data[8]]);
    let device = u32::from_be_bytes([0, data[9], data[10], data[11]]);
    assert_eq!(
        hash(XmitHashPolicy::VlanSrcMac),
        tci ^ vendor ^ device,
        "vlan+srcmac formula"
    );
    if ethertype != 0x0800 && ethertype != 0x86dd {
        assert_eq!(
            hash(XmitHashPolicy::Layer23),
            layer2,
            "non-IP layer2+3 fallback"
        );
        assert_eq!(
            hash(XmitHashPolicy::Layer34),
            layer2,
            "non-IP layer3+4 fallback"
        );
    }
}
