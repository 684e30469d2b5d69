# shellcheck shell=bash
# Common helpers for scripts/bench/bondd-*.sh: private network namespaces, veth pairs, bondd and a
# private Open vSwitch (userspace datapath), all removed by a trap on EXIT (also on error or ^C).
# Traffic only flows between the namespaces made here. Source it; do not run it.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BONDD="$ROOT/target/release/bondd"
BONDCTL="$ROOT/target/release/bondctl"
OVS_SCHEMA=/usr/share/openvswitch/vswitch.ovsschema
TAG="bench$$"                       # namespace prefix, unique per run
SCRATCH=$(mktemp -d "/tmp/$TAG.XXXX")
_NAMESPACES=()
_PIDS=()

die() { echo "error: $*" >&2; exit 1; }
log() { echo "[$(date +%T)] $*" >&2; }

cleanup() {
    local rc=$?
    set +e
    for pid in "${_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for pid in "${_PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null
    done
    for ns in "${_NAMESPACES[@]}"; do ip netns del "$ns" 2>/dev/null; done
    if [ "$rc" -ne 0 ]; then
        for f in "$SCRATCH"/*.log; do [ -s "$f" ] && { echo "---- $f" >&2; tail -20 "$f" >&2; }; done
    fi
    if [ -n "${KEEP:-}" ]; then echo "KEEP: logs left in $SCRATCH" >&2; else rm -rf "$SCRATCH"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

require_root() { [ "$(id -u)" -eq 0 ] || die "must run as root (network namespaces, TAP, AF_PACKET)"; }
have() { command -v "$1" >/dev/null 2>&1; }

# apt-get install PKG if command CMD is missing (idempotent).
ensure_tool() {
    local cmd=$1 pkg=${2:-$1}
    have "$cmd" && return 0
    have apt-get || die "$cmd missing and no apt-get: install package $pkg yourself"
    log "installing $pkg"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$pkg" >"$SCRATCH/apt.log" 2>&1 ||
        { apt-get update -q >>"$SCRATCH/apt.log" 2>&1 &&
          DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$pkg" >>"$SCRATCH/apt.log" 2>&1; } ||
        die "apt-get install $pkg failed: $(tail -3 "$SCRATCH/apt.log")"
    have "$cmd" || die "$pkg installed but $cmd still not found"
}

build_bondd() {
    log "cargo build --release -p bond-linux"
    (cd "$ROOT" && cargo build --release -q -p bond-linux --bin bondd --bin bondctl) ||
        die "cargo build failed"
}

# mkns VAR SUFFIX: create namespace $TAG-SUFFIX and store its name in VAR
mkns() {
    local ns="$TAG-$2"
    ip netns add "$ns"
    _NAMESPACES+=("$ns")
    ip -n "$ns" link set lo up
    printf -v "$1" %s "$ns"
}

# veth NS_A A NS_Z Z (both up)
veth() {
    ip link add "$2" netns "$1" type veth peer name "$4" netns "$3"
    ip -n "$1" link set "$2" up
    ip -n "$3" link set "$4" up
}

nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# start_bondd NS NAME OPTIONS [EXTRA_ARGS...] -- PORTS...   sets BONDD_PID
start_bondd() {
    local ns=$1 name=$2 opts=$3; shift 3
    local extra=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do extra+=("$1"); shift; done
    [ "${1:-}" = -- ] && shift
    local ctl="$SCRATCH/$ns-$name.sock"
    ip netns exec "$ns" "$BONDD" --control "$ctl" --lock-dir "$SCRATCH/locks" \
        --name "$name" --options "$opts" "${extra[@]}" "$@" \
        </dev/null >/dev/null 2>"$SCRATCH/$ns-$name.log" &
    BONDD_PID=$!   # `ip netns exec` execs bondd: this is bondd's pid
    _PIDS+=("$BONDD_PID")
    for _ in $(seq 200); do
        "$BONDCTL" --control "$ctl" status >/dev/null 2>&1 && return 0
        kill -0 "$BONDD_PID" 2>/dev/null || die "bondd in $ns exited: $(cat "$SCRATCH/$ns-$name.log")"
        sleep 0.05
    done
    die "bondd in $ns never answered on $ctl"
}

bondctl_ns() { local ns=$1 name=$2; shift 2; "$BONDCTL" --control "$SCRATCH/$ns-$name.sock" "$@"; }

# wait_ping NS ADDR [TIMEOUT_S]: until one echo is answered
wait_ping() {
    local ns=$1 addr=$2 t=${3:-15}
    for _ in $(seq $((t * 5))); do
        nsx "$ns" ping -n -c1 -W0.2 "$addr" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    die "no ping reply from $addr in $ns within ${t}s"
}

# start_ovs NS ID: a private ovsdb-server + ovs-vswitchd in NS (state in $SCRATCH/ovs-ID) and
# bridge br0 on the userspace (netdev) datapath. Use `vsctl ID ...` afterwards.
start_ovs() {
    local ns=$1 id=$2 d="$SCRATCH/ovs-$2"
    for t in ovsdb-tool ovsdb-server ovs-vswitchd ovs-vsctl; do
        have "$t" || die "Open vSwitch missing ($t): apt-get install openvswitch-switch"
    done
    rm -rf "$d"; mkdir -p "$d"
    ovsdb-tool create "$d/conf.db" "$OVS_SCHEMA"
    OVS_RUNDIR=$d OVS_DBDIR=$d OVS_LOGDIR=$d OVS_SYSCONFDIR=$d ip netns exec "$ns" \
        ovsdb-server "$d/conf.db" --remote="punix:$d/db.sock" --pidfile="$d/ovsdb-server.pid" \
        --unixctl="$d/ovsdb-server.ctl" --log-file="$d/ovsdb-server.log" -vconsole:off \
        </dev/null >/dev/null 2>"$SCRATCH/ovsdb-$id.log" &
    _PIDS+=("$!")
    for _ in $(seq 200); do vsctl "$id" --no-wait init >/dev/null 2>&1 && break; sleep 0.05; done
    OVS_RUNDIR=$d OVS_DBDIR=$d OVS_LOGDIR=$d OVS_SYSCONFDIR=$d ip netns exec "$ns" \
        ovs-vswitchd "unix:$d/db.sock" --pidfile="$d/ovs-vswitchd.pid" \
        --unixctl="$d/ovs-vswitchd.ctl" --log-file="$d/ovs-vswitchd.log" -vconsole:off \
        </dev/null >/dev/null 2>"$SCRATCH/ovs-vswitchd-$id.log" &
    OVS_PID=$!
    _PIDS+=("$OVS_PID")
    vsctl "$id" add-br br0 -- set bridge br0 datapath_type=netdev >/dev/null
}

vsctl() {
    local id=$1; shift
    local d="$SCRATCH/ovs-$id"
    OVS_RUNDIR=$d OVS_DBDIR=$d OVS_LOGDIR=$d OVS_SYSCONFDIR=$d \
        ovs-vsctl --db="unix:$d/db.sock" --timeout=10 "$@"
}

# Keep the namespace's IP stack off an OVS member port (bondd does this to its own ports).
quiet_port() { ip -n "$1" link set "$2" arp off; nsx "$1" sysctl -qw "net.ipv6.conf.$2.disable_ipv6=1"; }

# cpu_ticks PID: utime+stime in clock ticks
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
# cpu_pct PID TICKS_BEFORE SECONDS
cpu_pct() { awk -v a="$2" -v b="$(cpu_ticks "$1")" -v s="$3" -v hz="$(getconf CLK_TCK)" \
    'BEGIN{printf "%.0f", (b-a)/hz/s*100}'; }

load_avg() { cut -d' ' -f1-3 /proc/loadavg; }

# teardown: stop what was started so far and delete the namespaces (between scenarios)
teardown() {
    local pid ns
    for pid in "${_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${_PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    for ns in "${_NAMESPACES[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
    _PIDS=(); _NAMESPACES=()
}

# sys_ticks: "busy total" jiffies over all CPUs (from /proc/stat); sys_pct BEFORE -> busy % of all vCPUs
sys_ticks() { awk '/^cpu /{b=$2+$3+$4+$7+$8; print b, b+$5+$6}' /proc/stat; }
sys_pct() { set -- $1 $(sys_ticks); awk -v b0="$1" -v t0="$2" -v b1="$3" -v t1="$4" 'BEGIN{printf "%.0f", (b1-b0)/(t1-t0)*100}'; }

# busy_note: other processes using over 20% CPU now (they share the vCPUs with the benchmark)
busy_note() {
    local others
    others=$(ps -eo pid,%cpu,comm --sort=-%cpu --no-headers | awk '$2>20 && $3!="iperf3" && $3!="bondd" && $3!="ovs-vswitchd" {printf "%s(pid %s, %s%%) ", $3, $1, $2}')
    [ -n "$others" ] && echo "NOTE: other busy processes on this machine during the run: $others"
    return 0
}
