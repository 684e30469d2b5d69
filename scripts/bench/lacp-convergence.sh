#!/usr/bin/env bash
# 802.3ad LACP convergence time, wall clock: from the moment the links come up to BOTH sides
# having every port collecting+distributing. Two ports per side, each scenario in fresh private
# network namespaces, REPS repetitions; median/min/max, each as a ratio against the baseline
# (Open vSwitch against Open vSwitch) measured in the same run.
#
#   ovs-ovs         OVS userspace bond (balance-tcp, lacp=active, lacp-time=fast) on both sides: BASELINE
#   bondd-bondd     bondd 802.3ad lacp_rate=fast on both sides
#   bondd-ovs       bondd (lacp_rate=fast) against OVS (lacp-time=fast)
#   bondd-ovs-slow  the same with lacp_rate=slow / lacp-time=slow
#   bondd-linux     bondd against Linux's bonding driver (802.3ad, lacp_rate=fast) in a QEMU/TCG
#                   guest (scripts/peers/linux-guest.sh; built on first use)
#
# Veth scenarios: all four veth ends are down while the daemons start (OVS leaves its members
# down; bondd brings its own ends up, so a bondd side is started while the far ends are down and,
# for bondd-bondd, side A's ends are taken down again before side Z starts: no carrier, no LACPDU
# ever crossed). Once both daemons are idle, the clock starts and one `ip -batch` brings the down
# ends up; both sides see carrier at the same moment.
# bondd-linux: the guest boots with its two virtio NICs on TAPs qtap0/qtap1, configures bond0
# (carrier up on its side, no partner) and is left to settle past Linux's 8 s aggregator-selection
# timer; then the clock starts and bondd is started on the TAPs (bondd brings them up: that is
# the link-up for bondd; bondd's own start-up time is inside the figure).
# Polling every POLL_MS (10 ms) over the daemons' control sockets (the requests
# `bondctl status --json`, `ovs-appctl lacp/show|bond/show` make):
#   bondd: every port lacp.collecting && lacp.distributing (status JSON)
#   OVS:   every member "current attached" in lacp/show and "enabled" in bond/show
#   Linux: a /proc/net/bonding/bond0 dump printed after the clock started with "Number of ports: 2"
#          and, for both slaves, actor port state with 0x08|0x10|0x20 (sync, collecting,
#          distributing) set, also the partner's (the guest prints it once a second: ~1 s
#          resolution). Also reported: the guest's collecting+distributing as bondd hears it in
#          the guest's LACPDUs (partner state 0x30 on both bondd ports; Linux sends a PDU on the
#          mux change, at most 3 per second).
#
# Usage: scripts/bench/lacp-convergence.sh
#   REPS=5  SCENARIOS="ovs-ovs bondd-bondd bondd-ovs bondd-ovs-slow bondd-linux"  TIMEOUT_S=40
#   GUEST_SETTLE_S=9 (seconds between the guest's "LG BOND UP" and bondd's start)
# Needs root, Open vSwitch, python3, and for bondd-linux qemu-system-x86 + busybox-static.
# Everything (namespaces, OVS daemons, bondd, QEMU) is removed on exit, also on error or ^C.
source "$(dirname "$0")/lib.sh"

REPS=${REPS:-5}
SCENARIOS=${SCENARIOS:-"ovs-ovs bondd-bondd bondd-ovs bondd-ovs-slow bondd-linux"}
TIMEOUT_S=${TIMEOUT_S:-40}
POLL_MS=${POLL_MS:-10}
IDLE_S=${IDLE_S:-1}
GUEST_SETTLE_S=${GUEST_SETTLE_S:-9}
GUEST_DIR=${GUEST_DIR:-$ROOT/target/linux-guest}
AGG_WAIT_MS=2000
BASELINE=ovs-ovs
POLLER="$SCRATCH/lacp_poll.py"

require_root
ensure_tool python3
build_bondd
case " $SCENARIOS " in *" $BASELINE "*) ;; *) die "SCENARIOS must include the baseline $BASELINE" ;; esac

# The poller: waits for all sides to be collecting+distributing on every port; prints JSON.
cat >"$POLLER" <<'PY'
import json, socket, sys, time

# argv: READY_FILE TIMEOUT_S POLL_MS kind=path=ports...; once warmed up it creates READY_FILE and
# reads from stdin the CLOCK_REALTIME (date +%s%N) taken just before the link-up, then polls.
ready, timeout, poll = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]) / 1000
sides = [s.split("=", 2) for s in sys.argv[4:]]   # kind=path=ports

class Bondd:
    def __init__(self, path, ports):
        self.path, self.ports, self.sock, self.buf = path, ports, None, b""
        self.last = None
    def query(self):
        if self.sock is None:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(5)
            s.connect(self.path)
            self.sock, self.buf = s, b""
        self.sock.sendall(b'{"cmd":"status","json":true}\n')
        while b"\n" not in self.buf:
            d = self.sock.recv(65536)
            if not d:
                raise OSError("bondd closed the control socket")
            self.buf += d
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)["status"]
    def check(self):
        try:
            st = self.query()
        except OSError:          # not started yet (bondd-linux), or restarting the connection
            self.sock = None
            return False, False
        self.last = st
        ports = {p["name"]: p for p in st.get("ports", [])}
        if set(ports) != set(self.ports):
            return False, False
        ok = all(p["lacp"]["collecting"] and p["lacp"]["distributing"] for p in ports.values())
        peer = all(p["lacp"]["partner"]["state"] & 0x30 == 0x30 for p in ports.values())
        return ok, peer
    def dump(self):
        return json.dumps(self.last, indent=1)[:3000]

class Ovs:
    def __init__(self, path, ports):
        self.path, self.ports, self.sock, self.buf, self.id = path, ports, None, "", 0
        self.last = ""
    def call(self, method, *params):
        if self.sock is None:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(5)
            s.connect(self.path)
            self.sock, self.buf = s, ""
        self.id += 1
        self.sock.sendall(json.dumps({"method": method, "params": list(params), "id": self.id}).encode())
        dec = json.JSONDecoder()
        while True:
            try:
                msg, end = dec.raw_decode(self.buf.lstrip())
                self.buf = self.buf.lstrip()[end:]
                if msg.get("id") == self.id:
                    if msg.get("error"):
                        raise RuntimeError(f"ovs-appctl {method}: {msg['error']}")
                    return msg["result"]
                continue
            except ValueError:
                pass
            d = self.sock.recv(65536)
            if not d:
                raise OSError("ovs-vswitchd closed the unixctl socket")
            self.buf += d.decode()
    def check(self):
        lacp = self.call("lacp/show", "ovsbond")
        bond = self.call("bond/show", "ovsbond")
        self.last = lacp + bond
        ls = [l.strip() for l in lacp.splitlines()]
        bs = [l.strip() for l in bond.splitlines()]
        ok = all(
            any(l.startswith(f"member: {m}:") and "current" in l and "attached" in l for l in ls)
            and f"member {m}: enabled" in bs
            for m in self.ports)
        return ok, ok
    def dump(self):
        return self.last

class Guest:
    """Linux in QEMU: the last /proc/net/bonding/bond0 dump on the serial console."""
    def __init__(self, path, ports):
        self.path, self.ports, self.pos, self.text, self.last = path, ports, 0, "", ""
        with open(path, "rb") as f:
            self.pos = len(f.read())         # only dumps printed after the clock started count
    def check(self):
        with open(self.path, "rb") as f:
            f.seek(self.pos)
            self.text += f.read().decode("utf-8", "replace")
        end = self.text.rfind("LG STATUS END")
        if end < 0:
            return False, False
        begin = self.text.rfind("LG STATUS BEGIN", 0, end)
        if begin < 0:
            return False, False
        self.last = self.text[begin:end]
        nports, slaves, partner = None, [], False
        for l in (x.strip() for x in self.last.splitlines()):
            if l.startswith("Number of ports: "):
                nports = int(l.split(": ")[1])
            elif l.startswith("Slave Interface: "):
                slaves.append({"name": l.split(": ")[1], "actor": 0, "partner": 0})
            elif slaves and l == "details actor lacp pdu:":
                partner = False
            elif slaves and l == "details partner lacp pdu:":
                partner = True
            elif slaves and l.startswith("port state: "):
                slaves[-1]["partner" if partner else "actor"] = int(l.split(": ")[1])
        ok = (nports == len(self.ports) and len(slaves) == len(self.ports)
              and all(s["actor"] & 0x38 == 0x38 and s["partner"] & 0x38 == 0x38 for s in slaves))
        return ok, ok
    def dump(self):
        return self.last

objs = []
for kind, path, ports in sides:
    objs.append({"bondd": Bondd, "ovs": Ovs, "guest": Guest}[kind](path, ports.split(",")))
for o in objs:      # connect now where the daemon is already running
    try:
        o.check()
    except OSError:
        pass
open(ready, "w").close()
line = sys.stdin.readline()
if not line.strip():
    sys.exit("poller: no start time on stdin")
t0 = int(line) / 1e9
first = [None] * len(objs)
peer_first = [None] * len(objs)
both = None
polls = 0
while both is None:
    now = time.time()
    if now - t0 > timeout:
        for o in objs:
            print(f"---- {type(o).__name__} {o.path}\n{o.dump()}", file=sys.stderr)
        print(f"timeout: not all sides collecting+distributing within {timeout} s", file=sys.stderr)
        sys.exit(1)
    res = [o.check() for o in objs]
    t = (time.time() - t0) * 1000     # when this poll had all its answers
    polls += 1
    for i, (ok, peer) in enumerate(res):
        if ok and first[i] is None:
            first[i] = t
        if peer and peer_first[i] is None:
            peer_first[i] = t
    if all(ok for ok, _ in res):
        both = t
    time.sleep(max(0.0, poll - (time.time() - now)))
print(json.dumps({"both": both, "sides": first, "peer": peer_first,
                  "poll_ms": (time.time() - t0) * 1000 / polls}))
PY

PY=$(python3 -c 'import sys; print(sys.executable)')   # not a pyenv shim: its start-up is slow

# poller_start SIDES...: start the poller, wait until it is connected and ready; poller_go T0
# hands it the start time; poller_wait waits for its JSON (on stdout; not in a subshell: `wait`).
poller_start() {
    rm -f "$SCRATCH/ready" "$SCRATCH/go"; mkfifo "$SCRATCH/go"
    "$PY" "$POLLER" "$SCRATCH/ready" "$TIMEOUT_S" "$POLL_MS" "$@" <"$SCRATCH/go" >"$SCRATCH/poll.json" &
    POLLER_PID=$!
    _PIDS+=("$POLLER_PID")
    exec 9>"$SCRATCH/go"
    for _ in $(seq 200); do [ -e "$SCRATCH/ready" ] && return 0; sleep 0.02; done
    die "the poller did not start"
}
poller_go() { echo "$1" >&9; exec 9>&-; }
poller_wait() { wait "$POLLER_PID" || return 1; cat "$SCRATCH/poll.json"; }

appctl() { local id=$1; shift; local d="$SCRATCH/ovs-$id"; OVS_RUNDIR=$d ovs-appctl -t "$d/ovs-vswitchd.ctl" "$@"; }
now_ns() { date +%s%N; }

# side_ovs NS ID P0 P1 TIME: a private OVS with bond ovsbond {P0, P1} (members left down)
side_ovs() {
    local ns=$1 id=$2 p0=$3 p1=$4 time=$5
    quiet_port "$ns" "$p0"; quiet_port "$ns" "$p1"
    start_ovs "$ns" "$id"
    vsctl "$id" add-bond br0 ovsbond "$p0" "$p1" lacp=active bond_mode=balance-tcp \
        "other_config:lacp-time=$time" >/dev/null
    for _ in $(seq 100); do appctl "$id" lacp/show ovsbond 2>/dev/null | grep -q "member: $p1:" && return 0; sleep 0.05; done
    die "OVS $id never showed member $p1 in lacp/show"
}

# side_bondd NS P0 P1 RATE: bondd 802.3ad on {P0, P1} (bondd brings them up)
side_bondd() {
    start_bondd "$1" bond0 "mode=802.3ad miimon=100 lacp_rate=$4 xmit_hash_policy=layer3+4" -- "$2" "$3"
}

# run_veth SCENARIO A_KIND Z_KIND RATE -> prints the poller's JSON
run_veth() {
    local sc=$1 ka=$2 kz=$3 rate=$4 ovs_time
    [ "$rate" = fast ] && ovs_time=fast || ovs_time=slow
    local NA NZ i
    mkns NA "$sc-a"; mkns NZ "$sc-z"
    for i in 0 1; do ip link add "a$i" netns "$NA" type veth peer name "z$i" netns "$NZ"; done
    local up_a="" up_z="" sides=()
    if [ "$ka" = ovs ]; then
        side_ovs "$NA" A a0 a1 "$ovs_time"; up_a=1
        sides+=("ovs=$SCRATCH/ovs-A/ovs-vswitchd.ctl=a0,a1")
    fi
    if [ "$kz" = ovs ]; then
        side_ovs "$NZ" Z z0 z1 "$ovs_time"; up_z=1
        sides+=("ovs=$SCRATCH/ovs-Z/ovs-vswitchd.ctl=z0,z1")
    fi
    if [ "$ka" = bondd ]; then
        side_bondd "$NA" a0 a1 "$rate"
        sides=("bondd=$SCRATCH/$NA-bond0.sock=a0,a1" "${sides[@]}")
        if [ "$kz" = bondd ]; then   # take A's ends down again before Z brings its ends up
            ip -n "$NA" link set a0 down; ip -n "$NA" link set a1 down; up_a=1
        fi
    fi
    if [ "$kz" = bondd ]; then
        side_bondd "$NZ" z0 z1 "$rate"
        sides+=("bondd=$SCRATCH/$NZ-bond0.sock=z0,z1")
    fi
    sleep "$IDLE_S"
    for i in 0 1; do   # no carrier anywhere yet
        [ "$(ip netns exec "$NA" cat "/sys/class/net/a$i/carrier" 2>/dev/null || echo 0)" = 1 ] &&
            die "$sc: a$i has carrier before the clock started"
    done
    poller_start "${sides[@]}"
    local t0
    t0=$(now_ns)
    [ -n "$up_a" ] && printf 'link set a0 up\nlink set a1 up\n' | ip -n "$NA" -batch -
    [ -n "$up_z" ] && printf 'link set z0 up\nlink set z1 up\n' | ip -n "$NZ" -batch -
    poller_go "$t0"
    poller_wait || die "$sc: no convergence"
    teardown
}

guest_ready() {
    have qemu-system-x86_64 || die "bondd-linux: qemu-system-x86_64 is not installed (scripts/install-deps.sh installs qemu-system-x86 and busybox-static)"
    if [ ! -f "$GUEST_DIR/vmlinuz" ] || [ ! -f "$GUEST_DIR/initrd.gz" ]; then
        log "building the Linux guest: scripts/peers/linux-guest.sh build $GUEST_DIR"
    fi
    bash "$ROOT/scripts/peers/linux-guest.sh" build "$GUEST_DIR" >"$SCRATCH/guest-build.log" 2>&1 ||
        die "bondd-linux: the Linux guest is not built and cannot be built ($ROOT/scripts/peers/linux-guest.sh build $GUEST_DIR): $(tail -5 "$SCRATCH/guest-build.log")"
    if [ ! -f "$GUEST_DIR/vmlinuz" ] || [ ! -f "$GUEST_DIR/initrd.gz" ]; then
        die "bondd-linux: $GUEST_DIR/vmlinuz or initrd.gz missing after the build"
    fi
    GUEST_KERNEL=$(awk '{sub(/^linux-image-/, "", $1); print $1}' "$GUEST_DIR/stamp" 2>/dev/null)
}

# run_guest REP -> prints the poller's JSON
run_guest() {
    local rep=$1 NG
    mkns NG "linux-$rep"
    local con="$SCRATCH/console-$rep.log" qpid t_boot
    t_boot=$(now_ns)
    ip netns exec "$NG" qemu-system-x86_64 -accel tcg -m 256 -smp 1 \
        -kernel "$GUEST_DIR/vmlinuz" -initrd "$GUEST_DIR/initrd.gz" \
        -append "console=ttyS0 panic=-1 quiet loglevel=4 lg.ip=10.231.9.2/24" \
        -netdev tap,id=n1,ifname=qtap0,script=no,downscript=no \
        -device virtio-net-pci,netdev=n1,mac=52:54:00:12:34:01,speed=10000,duplex=full \
        -netdev tap,id=n2,ifname=qtap1,script=no,downscript=no \
        -device virtio-net-pci,netdev=n2,mac=52:54:00:12:34:02,speed=10000,duplex=full \
        -display none -monitor none -no-reboot -serial "file:$con" \
        </dev/null >"$SCRATCH/qemu-$rep.log" 2>&1 &
    qpid=$!     # `ip netns exec` execs QEMU: this is QEMU's pid
    _PIDS+=("$qpid")
    for _ in $(seq 1200); do
        grep -q "LG BOND UP" "$con" 2>/dev/null && break
        kill -0 "$qpid" 2>/dev/null || die "QEMU exited: $(cat "$SCRATCH/qemu-$rep.log")"
        sleep 0.05
    done
    grep -q "LG BOND UP" "$con" || die "the guest never printed LG BOND UP in 60 s: $(tail -20 "$con")"
    grep -q "LG FAIL" "$con" && die "guest init failed: $(grep 'LG FAIL' "$con")"
    local boot_ms=$(( ($(now_ns) - t_boot) / 1000000 ))
    # qtap0/qtap1 stay down (QEMU leaves them down). Let Linux's aggregator-selection timer run
    # out before bondd starts (bond_3ad_initialize arms it for 8 s, bond_open for one tick):
    # while it runs, Linux's mux machine keeps ports out of collecting+distributing.
    sleep "$GUEST_SETTLE_S"
    poller_start "bondd=$SCRATCH/$NG-bond0.sock=qtap0,qtap1" "guest=$con=eth0,eth1"
    local t0 out
    t0=$(now_ns)
    start_bondd "$NG" bond0 "mode=802.3ad miimon=100 lacp_rate=fast xmit_hash_policy=layer3+4" -- qtap0 qtap1
    poller_go "$t0"
    poller_wait >"$SCRATCH/poll-out.json" || { tail -40 "$con" >&2; die "bondd-linux: no convergence"; }
    out=$(cat "$SCRATCH/poll-out.json")
    echo "$out" | "$PY" -c 'import json,sys; d=json.load(sys.stdin); d["boot_ms"]=int(sys.argv[1]); print(json.dumps(d))' "$boot_ms"
    teardown
}

describe() {
    case $1 in
        ovs-ovs) echo "OVS ↔ OVS, balance-tcp, lacp=active, lacp-time=fast (baseline)" ;;
        bondd-bondd) echo "bondd ↔ bondd, lacp_rate=fast" ;;
        bondd-ovs) echo "bondd lacp_rate=fast ↔ OVS lacp-time=fast" ;;
        bondd-ovs-slow) echo "bondd lacp_rate=slow ↔ OVS lacp-time=slow" ;;
        bondd-linux) echo "bondd lacp_rate=fast ↔ Linux ${GUEST_KERNEL:-?} bonding in QEMU/TCG, lacp_rate=fast" ;;
    esac
}

case " $SCENARIOS " in *" bondd-linux "*) guest_ready ;; esac   # fail early if there is no guest

RESULTS="$SCRATCH/results.jsonl"
: >"$RESULTS"
T_START=$(date +%s)
for sc in $SCENARIOS; do
    case $sc in
        ovs-ovs) args=(ovs ovs fast) ;;
        bondd-bondd) args=(bondd bondd fast) ;;
        bondd-ovs) args=(bondd ovs fast) ;;
        bondd-ovs-slow) args=(bondd ovs slow) ;;
        bondd-linux) args=() ;;
        *) die "unknown scenario $sc" ;;
    esac
    log "$sc: $(describe "$sc"), $REPS runs"
    for rep in $(seq "$REPS"); do
        if [ "$sc" = bondd-linux ]; then
            run_guest "$rep" >"$SCRATCH/out.json"
        else
            run_veth "$sc" "${args[@]}" >"$SCRATCH/out.json"
        fi
        out=$(cat "$SCRATCH/out.json")
        log "  run $rep: $out"
        "$PY" -c 'import json,sys; d=json.loads(sys.argv[2]); d["sc"]=sys.argv[1]; d["desc"]=sys.argv[3]; print(json.dumps(d))' \
            "$sc" "$out" "$(describe "$sc")" >>"$RESULTS"
    done
done
RUNTIME=$(( $(date +%s) - T_START ))

echo
busy_note
echo "LACP convergence (link-up → both sides collecting+distributing on both ports), $REPS runs per row, polled every ${POLL_MS} ms; $(date), commit $(git -C "$ROOT" rev-parse --short HEAD), load $(load_avg), ${RUNTIME} s"
echo
"$PY" - "$RESULTS" "$BASELINE" "$AGG_WAIT_MS" "$GUEST_SETTLE_S" <<'PY'
import json, statistics as st, sys
path, base, agg, settle = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
rows, order, desc = {}, [], {}
for line in open(path):
    r = json.loads(line)
    if r["sc"] not in rows:
        rows[r["sc"]] = []; order.append(r["sc"])
    rows[r["sc"]].append(r); desc[r["sc"]] = r["desc"]
b = st.median(r["both"] for r in rows[base])
def row(v, sc, what):
    med = st.median(v)
    print("| %s | %s | %d | %d | %d | %.2f× | %.2f× | %s |" % (
        sc, what, round(med), round(min(v)), round(max(v)), med / b, med / agg,
        " ".join(str(round(x)) for x in v)))
print("| scenario | configuration, what is timed | median ms | min ms | max ms | ÷ %s median | ÷ 2 s (Aggregate_Wait_Time) | all runs (ms) |" % base)
print("|---|---|---:|---:|---:|---:|---:|---|")
for sc in order:
    rs = rows[sc]
    if sc == "bondd-linux":
        row([r["both"] for r in rs], sc, desc[sc] + ": both sides, guest side from its once-a-second console dump (**~1 s resolution**, up to ~1 s late)")
        row([max(r["sides"][0], r["peer"][0]) for r in rs], sc, "both sides, guest side from the collecting+distributing bits of the guest's LACPDUs as bondd received them")
        row([r["sides"][0] for r in rs], sc, "bondd side only")
    else:
        row([r["both"] for r in rs], sc, desc[sc] + ": both sides")
if "bondd-linux" in rows:
    boots = [r["boot_ms"] for r in rows["bondd-linux"]]
    print()
    print("bondd-linux: clock started at bondd's launch on qtap0/qtap1 (its start-up included), %s s after the guest's bond was up "
          "(guest boot, QEMU start to `LG BOND UP`: median %d ms). The guest prints /proc/net/bonding/bond0 once a second, "
          "so the console row has ~1 s resolution." % (settle, st.median(boots)))
print()
print("Per side (median ms, first poll at which that side alone had both ports collecting+distributing): " + "; ".join(
    "%s %s" % (sc, " / ".join(str(round(st.median(r["sides"][i] for r in rows[sc]))) for i in range(len(rows[sc][0]["sides"]))))
    for sc in order))
print("Resolution: one poll period (below; all sides are asked once per poll), so the baseline's few tens of ms carry an error of about one period and its ratios are coarse.")
print("Mean poll period: " + ", ".join("%s %.1f ms" % (sc, st.mean(r["poll_ms"] for r in rows[sc])) for sc in order))
PY
