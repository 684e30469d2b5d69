#!/usr/bin/env bash
# Failover outage of bondd in active-backup (miimon=100): two bondds back to back over two veth
# pairs, a sequenced UDP stream A->Z (one datagram every INTERVAL_MS), then the active port of A
# is cut (`ip link set <port> down`: A sees its port go down, Z loses carrier on the peer).
# Outage = send time of the first lost datagram -> arrival of the first later one (udpseq.py).
# Both bondds fail over (Z drops frames on its backup port). Ports alternate: no failback.
#
#   carrier: bondd follows rtnetlink link events (the default)
#   polling: bondd --no-link-events (miimon polling only, as Linux's bonding does)
#   ovs:     the baseline: Open vSwitch userspace bonds (bond_mode=active-backup, carrier
#            detection) on both sides instead of bondd, same topology and stream
#
# Usage: scripts/bench/bondd-failover.sh     REPS=10 INTERVAL_MS=0.5 MODES="carrier polling ovs"
# Needs root and python3. Everything is removed on exit.
source "$(dirname "$0")/lib.sh"

REPS=${REPS:-10}
INTERVAL_MS=${INTERVAL_MS:-0.5}
MODES=${MODES:-"carrier polling ovs"}
OPTS=${OPTS:-"mode=active-backup miimon=100"}
UDPSEQ="$(dirname "$0")/udpseq.py"
A_ADDR=10.252.0.1; Z_ADDR=10.252.0.2
TARGET_MS=2

require_root
ensure_tool python3
build_bondd

# active_port NS: the bond's active port (bondd, or the OVS bond in `ovs` mode)
active_port() {
    if [ "$mode" = ovs ]; then
        local id=a; [ "$1" = "$NZ" ] && id=z
        ovs-appctl -t "$SCRATCH/ovs-$id/ovs-vswitchd.ctl" bond/show ovsbond |
            sed -n 's/^active member mac: .*(\(.*\))$/\1/p'
    else
        bondctl_ns "$1" bond0 status --json |
            python3 -c 'import json,sys; print(json.load(sys.stdin)["active_port"] or "")'
    fi
}

ovs_side() { # NS ID P0 P1 ADDR
    quiet_port "$1" "$3"; quiet_port "$1" "$4"
    start_ovs "$1" "$2"
    vsctl "$2" add-bond br0 ovsbond "$3" "$4" bond_mode=active-backup >/dev/null
    ip -n "$1" addr add "$5/24" dev br0
    ip -n "$1" link set br0 up
}

declare -A SUMMARY
for mode in $MODES; do
    extra=(); [ "$mode" = polling ] && extra=(--no-link-events)
    log "mode $mode ($OPTS ${extra[*]})"
    mkns NA "$mode-a"; mkns NZ "$mode-z"
    veth "$NA" a0 "$NZ" z0; veth "$NA" a1 "$NZ" z1
    if [ "$mode" = ovs ]; then
        ovs_side "$NA" a a0 a1 "$A_ADDR"; ovs_side "$NZ" z z0 z1 "$Z_ADDR"
    else
        start_bondd "$NA" bond0 "$OPTS" "${extra[@]}" -- a0 a1
        start_bondd "$NZ" bond0 "$OPTS" "${extra[@]}" -- z0 z1
        ip -n "$NA" addr add "$A_ADDR/24" dev bond0; ip -n "$NZ" addr add "$Z_ADDR/24" dev bond0
    fi
    wait_ping "$NA" "$Z_ADDR" 15
    results=()
    for rep in $(seq "$REPS"); do
        pa=$(active_port "$NA"); pz=$(active_port "$NZ")
        nsx "$NZ" python3 "$UDPSEQ" recv "$Z_ADDR" 5555 "$SCRATCH/recv.json" &
        rpid=$!
        sleep 0.3
        nsx "$NA" python3 "$UDPSEQ" send "$Z_ADDR" 5555 "$INTERVAL_MS" 1.5 "$SCRATCH/sent.json" &
        spid=$!
        sleep 0.5
        ip -n "$NA" link set "$pa" down
        wait "$spid"; wait "$rpid"
        read -r ms lost < <(python3 "$UDPSEQ" outage "$SCRATCH/sent.json" "$SCRATCH/recv.json")
        now_a=$(active_port "$NA"); now_z=$(active_port "$NZ")
        log "  rep $rep: cut $pa (A active $pa->$now_a, Z active $pz->$now_z): outage $ms ms, $lost lost"
        results+=("$ms")
        ip -n "$NA" link set "$pa" up
        sleep 1.2   # miimon + the peer's carrier: both ports up again before the next cut
    done
    SUMMARY[$mode]=$(printf '%s\n' "${results[@]}" | python3 -c '
import sys, statistics as st
v = [float(x) for x in sys.stdin.read().split()]
print("%.2f %.2f %.2f %s" % (st.median(v), min(v), max(v), " ".join("%.1f" % x for x in v)))')
    teardown
done

echo
busy_note
echo "Failover outage, active-backup bond <-> bond, UDP every ${INTERVAL_MS} ms, $REPS cuts per row, $(date), commit $(git -C "$ROOT" rev-parse --short HEAD), load $(load_avg)"
echo
ovs_med=""; [ -n "${SUMMARY[ovs]:-}" ] && ovs_med=${SUMMARY[ovs]%% *}
echo "| bond | options | median ms | min ms | max ms | median vs OVS | target | result | all runs (ms) |"
echo "|---|---|---:|---:|---:|---:|---|---|---|"
for mode in $MODES; do
    read -r med mn mx all <<<"${SUMMARY[$mode]}"
    vs=$(awk -v m="$med" -v o="$ovs_med" 'BEGIN{ if (o == "") print "—"; else if (o+0 == 0) print (m+0 == 0) ? "equal (both 0)" : "—"; else printf "%.2f×", m/o }')
    case $mode in
    carrier)
        name="bondd, carrier events"; opts="\`$OPTS\`"
        tgt="median < ${TARGET_MS} ms"; res=$(awk -v m="$med" -v t="$TARGET_MS" 'BEGIN{print (m<t)?"PASS":"FAIL"}') ;;
    polling)
        name="bondd, miimon polling"; opts="\`$OPTS\` \`--no-link-events\`"
        tgt="≤ miimon (100 ms), kernel anchor"; res=$(awk -v m="$mx" 'BEGIN{print (m<=100)?"PASS":"FAIL"}') ;;
    ovs)
        name="Open vSwitch (baseline)"; opts="\`bond_mode=active-backup\`"; tgt="—"; res="—" ;;
    esac
    echo "| $name | $opts | $med | $mn | $mx | $vs | $tgt | $res | $all |"
done
