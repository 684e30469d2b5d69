#!/usr/bin/env bash
# iperf3 TCP throughput through bondd, against a direct veth pair and against Open vSwitch's
# userspace (netdev) bond, all on one machine in private network namespaces.
#
#   (a) direct      A:veth  <-> Z:veth
#   (b) bondd-xor   A:bondd{a0,a1} <== 2 veth ==> Z:bondd{z0,z1}   balance-xor layer3+4
#   (c) bondd-lacp  same, 802.3ad lacp_rate=fast layer3+4
#   (d) bondd-ovs   A:bondd 802.3ad <== 2 veth ==> Z:OVS br0 bond balance-tcp lacp=active
#                   (a0/a1 with `ethtool -K tx off`: OVS's userspace datapath takes no TCP
#                   super-frames or partial checksums from a veth, whoever sends them)
#   (e) ovs-ovs     A:OVS bond <== 2 veth ==> Z:OVS bond (both balance-tcp, LACP): the OVS baseline
#   (f) bondd-xor-nooff  as (b) with `bondd --no-offload` (plain frames: the host segments and
#                   checksums each one; still batched): what the virtio-net headers buy
#
# Usage: scripts/bench/bondd-throughput.sh [--strace]
#   DURATION=10 (s per iperf3 run), STREAMS="1 4", SCENARIOS="direct bondd-xor bondd-lacp bondd-ovs ovs-ovs"
#   --strace: in bondd-xor, `perf record -a` (CPU by command/symbol) and `strace -c` of bondd
#             (1 stream) for where the time goes and syscalls per frame.
# Needs root. Installs iperf3 with apt-get if missing. Everything is removed on exit.
source "$(dirname "$0")/lib.sh"

DURATION=${DURATION:-10}
STREAMS=${STREAMS:-"1 4"}
SCENARIOS=${SCENARIOS:-"direct bondd-xor bondd-lacp bondd-ovs ovs-ovs bondd-xor-nooff"}
DO_STRACE=0; [ "${1:-}" = --strace ] && DO_STRACE=1
XOR="mode=balance-xor xmit_hash_policy=layer3+4 miimon=100"
LACP="mode=802.3ad lacp_rate=fast xmit_hash_policy=layer3+4 miimon=100"

require_root
ensure_tool iperf3
ensure_tool ethtool
ensure_tool python3
build_bondd

A_ADDR=10.251.0.1; Z_ADDR=10.251.0.2
declare -A RESULT CPU

two_veths() { veth "$NA" "${1}0" "$NZ" "${2}0"; veth "$NA" "${1}1" "$NZ" "${2}1"; }

ovs_bond_side() { # NS ID PORT_PREFIX ADDR
    local ns=$1 id=$2 p=$3 addr=$4
    quiet_port "$ns" "${p}0"; quiet_port "$ns" "${p}1"
    start_ovs "$ns" "$id"
    vsctl "$id" add-bond br0 ovsbond "${p}0" "${p}1" lacp=active bond_mode=balance-tcp \
        other_config:lacp-time=fast >/dev/null
    ip -n "$ns" addr add "$addr/24" dev br0
    ip -n "$ns" link set br0 up
}

setup() { # scenario -> sets NA NZ, WATCH (pids "name:pid ...")
    mkns NA "$1-a"; mkns NZ "$1-z"; WATCH=""
    case $1 in
    direct)
        veth "$NA" d0 "$NZ" d1
        ip -n "$NA" addr add "$A_ADDR/24" dev d0; ip -n "$NZ" addr add "$Z_ADDR/24" dev d1 ;;
    bondd-xor|bondd-lacp|bondd-xor-nooff)
        local o=$XOR extra=(); [ "$1" = bondd-lacp ] && o=$LACP
        [ "$1" = bondd-xor-nooff ] && extra=(--no-offload)
        two_veths a z
        start_bondd "$NA" bond0 "$o" "${extra[@]}" -- a0 a1; WATCH="bondd-A:$BONDD_PID"
        start_bondd "$NZ" bond0 "$o" "${extra[@]}" -- z0 z1; WATCH="$WATCH bondd-Z:$BONDD_PID"
        ip -n "$NA" addr add "$A_ADDR/24" dev bond0; ip -n "$NZ" addr add "$Z_ADDR/24" dev bond0 ;;
    bondd-ovs)
        two_veths a sw
        ovs_bond_side "$NZ" z sw "$Z_ADDR"; WATCH="ovs-vswitchd-Z:$OVS_PID"
        nsx "$NA" ethtool -K a0 tx off >/dev/null; nsx "$NA" ethtool -K a1 tx off >/dev/null
        start_bondd "$NA" bond0 "$LACP" -- a0 a1; WATCH="bondd-A:$BONDD_PID $WATCH"
        ip -n "$NA" addr add "$A_ADDR/24" dev bond0 ;;
    ovs-ovs)
        two_veths swa swz
        ovs_bond_side "$NA" a swa "$A_ADDR"; WATCH="ovs-vswitchd-A:$OVS_PID"
        ovs_bond_side "$NZ" z swz "$Z_ADDR"; WATCH="$WATCH ovs-vswitchd-Z:$OVS_PID" ;;
    *) die "unknown scenario $1" ;;
    esac
    wait_ping "$NA" "$Z_ADDR" 30
    sleep 1   # LACP settles on both ports
    wait_ping "$NA" "$Z_ADDR" 5
}

iperf() { # STREAMS -> Gbit/s (client A -> server Z)
    nsx "$NZ" iperf3 -s -1 -B "$Z_ADDR" >/dev/null 2>&1 &
    local srv=$!
    sleep 0.5
    nsx "$NA" iperf3 -c "$Z_ADDR" -t "$DURATION" -P "$1" -J >"$SCRATCH/iperf.json" || true
    wait "$srv" 2>/dev/null || true
    python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
print("%.2f" % (d["end"]["sum_received"]["bits_per_second"]/1e9) if "end" in d and "sum_received" in d["end"] else "ERR")' \
        "$SCRATCH/iperf.json"
}

for s in $SCENARIOS; do
    log "scenario $s"
    setup "$s"
    for n in $STREAMS; do
        declare -A before=()
        for w in $WATCH; do before[$w]=$(cpu_ticks "${w#*:}"); done
        s0=$(sys_ticks); t0=$(date +%s.%N)
        RESULT[$s,$n]=$(iperf "$n")
        el=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{print b-a}')
        c=""
        for w in $WATCH; do c="$c ${w%%:*} $(cpu_pct "${w#*:}" "${before[$w]}" "$el")%"; done
        CPU[$s,$n]="${c# }, all vCPUs busy $(sys_pct "$s0")%"
        log "  $s P=$n: ${RESULT[$s,$n]} Gbit/s  cpu: ${CPU[$s,$n]:--}"
    done
    if [ "$DO_STRACE" = 1 ] && [ "$s" = bondd-xor ]; then
        pid=${WATCH%% *}; pid=${pid#*:}
        bg_iperf() { nsx "$NZ" iperf3 -s -1 -B "$Z_ADDR" >/dev/null 2>&1 & srv=$!; sleep 0.5
                     nsx "$NA" iperf3 -c "$Z_ADDR" -t 6 -P 1 >/dev/null 2>&1 & cli=$!; sleep 1; }
        tap_pkts() { nsx "$NA" cat /sys/class/net/bond0/statistics/tx_packets /sys/class/net/bond0/statistics/rx_packets | paste -sd' '; }
        if have perf; then
            bg_iperf
            perf record -q -a -e cpu-clock -F 999 -o "$SCRATCH/perf.data" -- sleep 3 >/dev/null 2>&1 || true
            wait "$cli" "$srv" 2>/dev/null || true
            echo "== perf (cpu-clock, all CPUs, 3 s) during balance-xor 1 stream: CPU share by command =="
            perf report -q -i "$SCRATCH/perf.data" --sort comm --stdio >"$SCRATCH/p1" 2>/dev/null || true
            sed -n 1,10p "$SCRATCH/p1"
            echo "== top symbols =="
            perf report -q -i "$SCRATCH/perf.data" --sort comm,sym --stdio >"$SCRATCH/p2" 2>/dev/null || true
            sed -n 1,30p "$SCRATCH/p2"
        fi
        bg_iperf
        stats0=$(tap_pkts)
        timeout -s INT 3 strace -c -p "$pid" -o "$SCRATCH/strace.txt" 2>/dev/null || true
        stats1=$(tap_pkts)
        wait "$cli" "$srv" 2>/dev/null || true
        echo "== strace -c of bondd A (balance-xor, 1 stream, 3 s; strace slows bondd a lot: counts, not times) =="
        echo "TAP bond0 tx/rx packets (tx = frames bondd reads from the TAP) before: $stats0 after: $stats1"
        cat "$SCRATCH/strace.txt"
        STRACE_OUT=1
    fi
    teardown
done

base() { echo "${RESULT[$1,$2]:-}"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a+0>0 && b+0>0) printf "%.2f×", a/b; else print "—" }'; }

echo
busy_note
echo "Throughput, iperf3 TCP A->Z, ${DURATION}s per run, $(date), commit $(git -C "$ROOT" rev-parse --short HEAD), load $(load_avg)"
echo
echo "| scenario | streams | Gbit/s | vs direct veth | vs bondd-ovs | vs ovs-ovs | CPU (process: 100% = one vCPU; machine: % of all vCPUs) |"
echo "|---|---:|---:|---:|---:|---:|---|"
for s in $SCENARIOS; do
    for n in $STREAMS; do
        g=${RESULT[$s,$n]}
        echo "| $s | $n | $g | $(ratio "$g" "$(base direct "$n")") | $(ratio "$g" "$(base bondd-ovs "$n")") | $(ratio "$g" "$(base ovs-ovs "$n")") | ${CPU[$s,$n]:-—} |"
    done
done
