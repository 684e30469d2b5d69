#!/usr/bin/env python3
"""Writes the committed seeds of the handle_rx fuzz target (fuzz/seeds/handle_rx/).

handle_rx decodes its input with `arbitrary` 1.x, so its seeds are not readable by eye. This
script encodes operation sequences the way `arbitrary` decodes them: enum variants as a
little-endian u32 scaled to the variant count (`(x * count) >> 32`), bool as a byte's low bit,
integers little-endian, Option as a bool then the value, and the target's own `Bytes` as a length
byte then the bytes. Keep the tables below in step with fuzz_targets/handle_rx.rs (variant order,
OPTION_NAMES, OPTION_VALUES, frame choices); check a seed with
`BOND_FUZZ_TRACE=1 cargo +nightly fuzz run handle_rx fuzz/seeds/handle_rx/NAME`.

Usage: python3 fuzz/seeds/make_handle_rx_seeds.py [OUT_DIR]   (default: fuzz/seeds/handle_rx)
"""
import os
import struct
import sys

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "handle_rx")

def variant(i, n):
    x = -(-(i << 32) // n)  # ceil
    assert (x * n) >> 32 == i and x < 2**32
    return struct.pack("<I", x)
def b(v): return bytes([1 if v else 0])
def u8(v): return bytes([v])
def u16(v): return struct.pack("<H", v)
def u64(v): return struct.pack("<Q", v)
def byts(data): return u8(len(data)) + data
def opt(v, enc): return b(False) if v is None else b(True) + enc(v)

MODES = {"rr": 0, "ab": 1, "xor": 2, "bcast": 3, "lacp": 4}
def setup(mode, miimon, updelay, downdelay, ports, carrier, seed=7):
    return variant(MODES[mode], len(MODES)) + b(miimon) + b(updelay) + b(downdelay) + u8(ports - 1) + u8(carrier) + u64(seed)

OPS = ["Advance", "Link", "Rx", "Tx", "Timeout", "AddPort", "RemovePort", "SetOption", "SetActive", "AddAddress", "AdminUp"]
def op(name): return variant(OPS.index(name), len(OPS))
def sample(up, speed=3, duplex=1): return b(up) + u8(speed) + u8(duplex)
def link_local(last):
    return next(v for v in range(last << 4, (last << 4) + 16) if v % 6 == 2)
DST = {"peer": 0, "bcast": 1, "lldp": link_local(0xe), "slow": link_local(2), "mcast4": 3, "mcast6": 4, "bond": 5}
ET = {"ipv4": 0, "ipv6": 1, "arp": 2, "vlan": 3, "slow": 4, "lldp": 5, "qinq": 6}
def frame(dst, et, payload): return variant(0, 2) + u8(DST[dst]) + u8(ET[et]) + byts(payload)
def raw(data): return variant(1, 2) + byts(data)

def advance(ms, wake=True): return op("Advance") + u16(ms) + b(wake)
def link(p, up): return op("Link") + u8(p) + sample(up)
def rx(p, fr): return op("Rx") + u8(p) + fr
def tx(fr): return op("Tx") + fr
def timeout(): return op("Timeout")
def add_port(name, mac, up): return op("AddPort") + u8(name) + u8(mac) + sample(up)
def remove(p): return op("RemovePort") + u8(p)
NAMES = ["mode", "miimon", "updelay", "downdelay", "primary", "primary_reselect", "active_slave", "all_slaves_active", "fail_over_mac", "num_grat_arp", "num_unsol_na", "peer_notif_delay", "packets_per_slave", "resend_igmp", "xmit_hash_policy", "use_carrier", "arp_interval", "arp_ip_target", "min_links", "lacp_rate"]
VALUES = ["0", "1", "2", "50", "100", "200", "1000", "255", "balance-rr", "active-backup", "balance-xor", "broadcast", "802.3ad", "eth0", "eth1", "eth2", "eth3", "", "always", "better", "failure", "active", "follow", "none", "layer3+4", "encap3+4", "vlan+srcmac", "+10.0.0.1", "maxval", "off"]
def set_opt(name, value):
    if value in VALUES:
        v = variant(0, 2) + u8(VALUES.index(value))
    else:
        v = variant(1, 2) + byts(value.encode())
    return op("SetOption") + u8(NAMES.index(name)) + v
def set_active(p): return op("SetActive") + opt(p, u8)
def add_addr(v6, last, vlan=None): return op("AddAddress") + b(v6) + u8(last) + opt(vlan, u16)
def admin(up): return op("AdminUp") + b(up)

def ipv4_udp(sport, dport, src=10, dst=20):
    return struct.pack(">BBHHHBBH4B4B", 0x45, 0, 28, 1, 0x4000, 64, 17, 0, 192, 168, 1, src, 192, 168, 1, dst) + struct.pack(">HHHH", sport, dport, 8, 0)
IGMP = struct.pack(">BBHHHBBH4B4B", 0x46, 0, 32, 1, 0, 1, 2, 0, 192, 168, 1, 10, 224, 0, 0, 22) + b"\x94\x04\x00\x00" + b"\x22\x00\xf9\x02"
ARP = struct.pack(">HHBBH", 1, 0x0800, 6, 4, 1) + bytes([2, 0, 0, 0, 0, 0x98, 192, 168, 1, 20]) + bytes(6) + bytes([192, 168, 1, 10])

def lacpdu(sys_last, port, state, partner_port):
    actor = struct.pack(">BBH6sHHHB3s", 1, 20, 0x8000, bytes([2, 0, 0, 0, 0, sys_last]), 0x11, 0xff, port, state, bytes(3))
    partner = struct.pack(">BBH6sHHHB3s", 2, 20, 0xffff, bytes([2, 0, 0, 0, 0, 0x10]), 0x11, 0xff, partner_port, 0x3d, bytes(3))
    collector = struct.pack(">BBH12s", 3, 16, 0, bytes(12))
    return bytes([1, 1]) + actor + partner + collector + bytes(2) + bytes(50)

seeds = {
    # 802.3ad: a partner answers on both ports, a link fails, a port leaves (goodbye LACPDU).
    "lacp-partner-churn": setup("lacp", True, False, False, 2, 0b11)
        + advance(100) + rx(0, frame("slow", "slow", lacpdu(0xaa, 1, 0x3d, 1)))
        + rx(1, frame("slow", "slow", lacpdu(0xaa, 2, 0x3d, 2))) + advance(1000)
        + rx(0, frame("slow", "slow", lacpdu(0xaa, 1, 0x3d, 1))) + tx(frame("peer", "ipv4", ipv4_udp(1, 2)))
        + link(0, False) + tx(frame("peer", "ipv4", ipv4_udp(1, 2))) + remove(1) + advance(3000)
        + tx(frame("peer", "ipv4", ipv4_udp(1, 2))),
    # active-backup with MII monitor and both delays: failover, failback, announcements.
    "ab-failover-delays": setup("ab", True, True, True, 2, 0b11)
        + add_addr(False, 1) + add_addr(True, 1, 100)
        + tx(frame("peer", "ipv4", ipv4_udp(1000, 53)))
        + link(0, False) + tx(frame("peer", "ipv4", ipv4_udp(1000, 53)))
        + advance(300) + tx(frame("peer", "ipv4", ipv4_udp(1000, 53)))
        + rx(0, frame("bond", "ipv4", ipv4_udp(53, 1000))) + rx(0, frame("lldp", "lldp", bytes(8)))
        + rx(1, frame("bond", "arp", ARP))
        + link(0, True) + advance(100) + advance(300) + timeout(),
    # balance-rr without monitoring: carrier loss, IGMP through the active port.
    "rr-carrier-igmp": setup("rr", False, False, False, 3, 0b111)
        + tx(frame("peer", "ipv4", ipv4_udp(1, 2))) + tx(frame("peer", "ipv4", ipv4_udp(1, 2)))
        + link(1, False) + tx(frame("mcast4", "ipv4", IGMP)) + tx(frame("peer", "ipv6", bytes(40)))
        + tx(raw(bytes(10))) + rx(2, frame("bcast", "arp", ARP)) + remove(0) + tx(frame("mcast4", "ipv4", IGMP)),
    # balance-xor: hash policy change, a port leaving and coming back.
    "xor-layer34-churn": setup("xor", True, False, False, 2, 0b11)
        + set_opt("xmit_hash_policy", "layer3+4")
        + tx(frame("peer", "ipv4", ipv4_udp(1000, 53))) + tx(frame("peer", "ipv4", ipv4_udp(1001, 53)))
        + remove(1) + tx(frame("peer", "ipv4", ipv4_udp(1001, 53)))
        + add_port(1, 1, True) + tx(frame("peer", "ipv4", ipv4_udp(1001, 53)))
        + set_opt("miimon", "0") + link(0, False) + tx(frame("peer", "ipv4", ipv4_udp(1000, 53))),
    # broadcast: admin down, mode change refused with ports, allowed without.
    "bcast-admin-mode-change": setup("bcast", True, False, True, 2, 0b01)
        + tx(frame("bcast", "arp", ARP)) + admin(False) + tx(frame("bcast", "arp", ARP))
        + set_opt("mode", "active-backup") + remove(0) + remove(1)
        + set_opt("mode", "active-backup") + admin(True) + add_port(0, 0, True) + add_port(1, 1, True)
        + tx(frame("peer", "ipv4", ipv4_udp(1, 2))) + rx(1, frame("bond", "ipv4", ipv4_udp(2, 1))),
    # active-backup: primary, primary_reselect, active_slave, all_slaves_active.
    "ab-primary-active-slave": setup("ab", True, False, False, 3, 0b111)
        + set_opt("primary", "eth1") + set_opt("primary_reselect", "failure") + set_opt("primary", "eth2")
        + set_active(None) + set_opt("active_slave", "eth0") + set_opt("all_slaves_active", "1")
        + rx(1, frame("bond", "ipv4", ipv4_udp(2, 1))) + set_opt("all_slaves_active", "0")
        + rx(1, frame("bond", "ipv4", ipv4_udp(2, 1))) + set_opt("num_grat_arp", "3") + add_addr(False, 7)
        + link(2, False) + advance(1000) + timeout(),
}
os.makedirs(OUT, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
    print(name, len(data))
