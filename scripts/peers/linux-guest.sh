#!/usr/bin/env bash
# A tiny QEMU guest running the Linux kernel's bonding driver, as an 802.3ad peer for bondd.
#
#   scripts/peers/linux-guest.sh build [DIR]   # default DIR: target/linux-guest
#
# `build` makes DIR/vmlinuz and DIR/initrd.gz from Debian's linux-image-*-amd64 package
# (fetched with `apt-get download`, never installed; only the kernel and ~10 modules are
# unpacked) and busybox-static. It is idempotent: a finished build whose inputs have not
# changed is left alone (DIR/stamp), and concurrent builds wait for each other (flock).
# Nothing it makes belongs in git (target/ is ignored).
#
# The guest (bond-linux/tests/linux_guest.rs boots it; run it by hand the same way):
#   qemu-system-x86_64 -accel tcg -m 256 -kernel DIR/vmlinuz -initrd DIR/initrd.gz \
#     -append "console=ttyS0 panic=-1 quiet lg.ip=10.231.1.2/24" \
#     -netdev tap,id=n1,ifname=qtap0,script=no,downscript=no \
#     -device virtio-net-pci,netdev=n1,mac=52:54:00:12:34:01,speed=10000,duplex=full  (and n2)
#     -serial file:console.log -qmp unix:qmp.sock,server,nowait -display none -no-reboot
# Kernel command line read by its init:
#   lg.opts=k=v,k=v    bonding module parameters (default mode=802.3ad,lacp_rate=fast,
#                      miimon=100,xmit_hash_policy=layer3+4)
#   lg.sysfs=k=v,k=v   written to /sys/class/net/bond0/bonding/k before enslaving
#                      (e.g. lacp_active=off: 6.1 has no such module parameter)
#   lg.ip=A/N          address of bond0 (default 10.231.1.2/24)
#   lg.every=S         seconds between status dumps (default 1)
# Console: "LG BOND UP" once bond0 is configured, then every lg.every seconds
# "LG STATUS BEGIN", /proc/net/bonding/bond0, per-NIC counters, "LG STATUS END".
# Needs (scripts/install-deps.sh): qemu-system-x86 busybox-static cpio, and apt sources.
# speed=10000,duplex=full matter: without them virtio-net has no speed, the guest's port key
# is 0 and LACP never starts. KVM is not needed (and on PVM-only hosts hangs): TCG boots in ~8 s.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)

die() { echo "linux-guest: $*" >&2; exit 1; }
log() { echo "linux-guest: $*" >&2; }

# Modules in load order (modinfo -F depends: bonding needs tls; virtio_net needs net_failover).
MODULES=(
    net/tls/tls drivers/net/bonding/bonding
    drivers/virtio/virtio_ring drivers/virtio/virtio
    drivers/virtio/virtio_pci_modern_dev drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci
    net/core/failover drivers/net/net_failover drivers/net/virtio_net
)

write_init() {
    cat >"$1" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
OPTS="mode=802.3ad lacp_rate=fast miimon=100 xmit_hash_policy=layer3+4"
SYSFS=""
IP=10.231.1.2/24
EVERY=1
for a in $(cat /proc/cmdline); do
    case $a in
        lg.opts=*) OPTS=$(echo "${a#lg.opts=}" | tr , ' ') ;;
        lg.sysfs=*) SYSFS=$(echo "${a#lg.sysfs=}" | tr , ' ') ;;
        lg.ip=*) IP=${a#lg.ip=} ;;
        lg.every=*) EVERY=${a#lg.every=} ;;
    esac
done
echo "LG INIT at $(cut -d' ' -f1 /proc/uptime)s"
for m in $(cat /mods/order); do
    if [ "$m" = bonding ]; then
        insmod /mods/$m.ko $OPTS || echo "LG FAIL insmod $m"
    else
        insmod /mods/$m.ko || echo "LG FAIL insmod $m"
    fi
done
for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
    [ -d /sys/class/net/eth1 ] && break
    sleep 0.2
done
ip link set lo up
[ -d /sys/class/net/bond0 ] || echo +bond0 >/sys/class/net/bonding_masters
for kv in $SYSFS; do
    echo "${kv#*=}" >/sys/class/net/bond0/bonding/${kv%%=*} || echo "LG FAIL sysfs $kv"
done
for i in eth0 eth1; do
    ip link set $i down
    echo +$i >/sys/class/net/bond0/bonding/slaves || echo "LG FAIL enslave $i"
done
ip link set bond0 up
ip addr add $IP dev bond0 || echo "LG FAIL address $IP"
echo "LG BOND UP at $(cut -d' ' -f1 /proc/uptime)s: $OPTS $SYSFS $IP"
while true; do
    sleep $EVERY
    {
        echo "LG STATUS BEGIN t=$(cut -d' ' -f1 /proc/uptime)"
        cat /proc/net/bonding/bond0
        for i in eth0 eth1; do
            echo "LG NIC $i carrier=$(cat /sys/class/net/$i/carrier 2>/dev/null) tx=$(cat /sys/class/net/$i/statistics/tx_packets) rx=$(cat /sys/class/net/$i/statistics/rx_packets)"
        done
        echo "LG STATUS END"
    } >/dev/console 2>&1
done
INIT
}

build() {
    local dir=${1:-$ROOT/target/linux-guest}
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    exec 9>"$dir/.lock"
    flock 9
    for tool in qemu-system-x86_64 cpio dpkg-deb apt-get; do
        command -v "$tool" >/dev/null || die "$tool is not installed (run scripts/install-deps.sh)"
    done
    local busybox
    busybox=$(command -v busybox) || die "busybox is not installed (run scripts/install-deps.sh)"
    # A dynamically linked busybox cannot run in the initramfs.
    if ! file -L "$busybox" 2>/dev/null | grep -q 'statically linked' \
        && ldd "$busybox" >/dev/null 2>&1; then
        die "$busybox is not static: install busybox-static"
    fi

    local pkg
    pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
    [ -n "$pkg" ] || die "apt-cache knows no linux-image-amd64 (run apt-get update)"
    local stamp
    stamp="$pkg $(sha256sum "$0" | cut -c1-16) $(sha256sum "$busybox" | cut -c1-16)"
    if [ -f "$dir/vmlinuz" ] && [ -f "$dir/initrd.gz" ] && [ "$(cat "$dir/stamp" 2>/dev/null)" = "$stamp" ]; then
        log "up to date in $dir ($pkg)"
        return
    fi
    rm -f "$dir/stamp"

    local debs deb=""
    debs=("$dir/${pkg}"_*.deb)
    [ -e "${debs[0]}" ] && deb=${debs[0]}
    if [ -z "$deb" ]; then
        log "apt-get download $pkg"
        rm -f "$dir"/linux-image-*.deb
        # apt drops to the _apt user and warns when it cannot write here; the download works.
        (cd "$dir" && apt-get download -q "$pkg" 2>&1 | grep -v 'unsandboxed' >&2) || true
        debs=("$dir/${pkg}"_*.deb)
        [ -e "${debs[0]}" ] && deb=${debs[0]}
        [ -n "$deb" ] || die "apt-get download $pkg failed"
    fi

    local k="$dir/kroot"
    rm -rf "$k" "$dir/initrd"
    mkdir -p "$k"
    dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$k" --wildcards \
        './boot/vmlinuz-*' './lib/modules/*/kernel/net/tls/*' './lib/modules/*/kernel/net/core/*' \
        './lib/modules/*/kernel/drivers/net/bonding/*' './lib/modules/*/kernel/drivers/net/*.ko*' \
        './lib/modules/*/kernel/drivers/virtio/*'
    local kver="" d
    for d in "$k"/lib/modules/*; do [ -d "$d" ] && kver=$(basename "$d"); done
    [ -n "$kver" ] || die "no modules in $deb"

    local i="$dir/initrd"
    mkdir -p "$i/bin" "$i/dev" "$i/proc" "$i/sys" "$i/mods"
    cp "$busybox" "$i/bin/busybox"
    local m f order=()
    for m in "${MODULES[@]}"; do
        f="$k/lib/modules/$kver/kernel/$m.ko"
        if [ -f "$f.xz" ]; then
            xz -dc "$f.xz" >"$i/mods/$(basename "$m").ko"
        elif [ -f "$f" ]; then
            cp "$f" "$i/mods/"
        else
            die "module $m not in $deb"
        fi
        order+=("$(basename "$m")")
    done
    echo "${order[*]}" >"$i/mods/order"
    write_init "$i/init"
    chmod +x "$i/init"
    (cd "$i" && find . | cpio -o -H newc --quiet | gzip -1) >"$dir/initrd.gz.new"
    cp "$k/boot/vmlinuz-$kver" "$dir/vmlinuz.new"
    mv "$dir/initrd.gz.new" "$dir/initrd.gz"
    mv "$dir/vmlinuz.new" "$dir/vmlinuz"
    rm -rf "$k" "$i"
    echo "$stamp" >"$dir/stamp"
    log "built $dir/vmlinuz and $dir/initrd.gz (kernel $kver)"
}

case ${1:-} in
    build) shift; build "$@" ;;
    *) die "usage: $0 build [DIR]" ;;
esac
