#!/usr/bin/env python3
"""Sequenced UDP stream for failover measurements (used by bondd-failover.sh).

  udpseq.py recv ADDR PORT OUT.json        receive until 1 s idle after the stream started
  udpseq.py send ADDR PORT INTERVAL_MS SECONDS OUT.json
  udpseq.py outage SENT.json RECV.json     -> "outage_ms lost"

Times are CLOCK_MONOTONIC (shared by all network namespaces). Outage = from the send time of
the first lost datagram to the arrival of the first later datagram, the longest such gap in the
run (0 if nothing was lost; "inf" if the stream never came back).
"""
import json, socket, struct, sys, time

FMT = "!Q"

def recv(addr, port, out):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((addr, int(port)))
    got = {}
    s.settimeout(20.0)
    while True:
        try:
            data = s.recv(64)
        except socket.timeout:
            break
        got.setdefault(struct.unpack_from(FMT, data)[0], time.monotonic_ns())
        s.settimeout(1.0)
    json.dump(got, open(out, "w"))

def send(addr, port, interval_ms, seconds, out):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    iv = float(interval_ms) * 1e6
    n = int(float(seconds) * 1e9 / iv)
    sent = []
    t0 = time.monotonic_ns()
    pad = b"\0" * 56
    for i in range(n):
        deadline = t0 + i * iv
        while True:
            now = time.monotonic_ns()
            if now >= deadline:
                break
            if deadline - now > 300_000:
                time.sleep((deadline - now - 200_000) / 1e9)
        sent.append(time.monotonic_ns())
        try:
            s.sendto(struct.pack(FMT, i) + pad, (addr, int(port)))
        except OSError:
            pass  # e.g. ENOBUFS while the bond has no port: counts as lost
    json.dump(sent, open(out, "w"))

def outage(sent_f, recv_f):
    sent = json.load(open(sent_f))
    got = {int(k): v for k, v in json.load(open(recv_f)).items()}
    lost = [i for i in range(len(sent)) if i not in got]
    worst, i = 0.0, 0
    while i < len(lost):
        first = lost[i]
        j = i
        while j + 1 < len(lost) and lost[j + 1] == lost[j] + 1:
            j += 1
        nxt = lost[j] + 1
        if nxt >= len(sent):
            worst = float("inf")
        else:
            worst = max(worst, (got[nxt] - sent[first]) / 1e6)
        i = j + 1
    print(f"{worst:.3f} {len(lost)}")

if __name__ == "__main__":
    {"recv": recv, "send": send, "outage": outage}[sys.argv[1]](*sys.argv[2:])
