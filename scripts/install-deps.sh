#!/usr/bin/env bash
# Installs what the build, the tests and CI need on a Debian machine (run as root).
# Idempotent: every step checks first and does nothing when the thing is already there.
#
#   scripts/install-deps.sh
#
# To add a Debian package, append it to DEBIAN_PACKAGES below.
set -euo pipefail

# Debian packages the tests and tools use. Add to this list (e.g. openvswitch-switch,
# qemu-system-x86) rather than writing another apt-get call.
DEBIAN_PACKAGES=(
    iproute2         # ip netns / veth / tuntap for host tests
    iputils-ping     # ping across bondd bonds in the namespace tests
    tshark           # independent decoder of our frames
    qemu-system-x86  # QEMU/TCG guest running the Linux bonding driver (tests/linux_guest.rs)
    busybox-static   # the guest's userland (scripts/peers/linux-guest.sh)
    cpio             # packs the guest's initramfs
    openvswitch-switch # LACP partner for tests/ovs.rs (private ovsdb-server + ovs-vswitchd, userspace datapath)
    ethtool          # transmit offloads off on bondd's ports toward OVS (tests/ovs.rs, scripts/bench)
)
# Python packages, installed with pip for the `python3` on PATH (the scripts run
# `#!/usr/bin/env python3`). Format: "import-name pip-requirement".
PYTHON_PACKAGES=(
    "scapy.contrib.lacp scapy==2.8.0"
)
RUST_TARGETS=(thumbv6m-none-eabi thumbv7em-none-eabihf)
RUST_COMPONENTS=(rustfmt clippy)

log() { echo "install-deps: $*"; }
fail() { echo "install-deps: failed to install $*" >&2; exit 1; }
warn() {
    echo "install-deps: ************************************************************" >&2
    echo "install-deps: WARNING: $*" >&2
    echo "install-deps: ************************************************************" >&2
}

# ---- Rust ----------------------------------------------------------------------------------

install_rust() {
    command -v rustup >/dev/null || fail "Rust: rustup is not on PATH"
    local installed t c
    installed=$(rustup target list --installed) || fail "Rust targets (rustup target list failed)"
    for t in "${RUST_TARGETS[@]}"; do
        if grep -qx "$t" <<<"$installed"; then
            log "rust target $t: already installed"
        else
            log "rust target $t: rustup target add $t"
            rustup target add "$t" || fail "rust target $t"
        fi
    done
    installed=$(rustup component list --installed) || fail "Rust components (rustup component list failed)"
    for c in "${RUST_COMPONENTS[@]}"; do
        if grep -q "^$c\(-preview\)\?-" <<<"$installed"; then
            log "rust component $c: already installed"
        else
            log "rust component $c: rustup component add $c"
            rustup component add "$c" || fail "rust component $c"
        fi
    done
}

# Nightly is only for fuzzing with AddressSanitizer; scripts/fuzz.sh falls back to the
# default toolchain without a sanitizer when nightly is missing, so this step only warns.
install_nightly() {
    if rustup run nightly rustc --version >/dev/null 2>&1; then
        log "nightly toolchain: already installed ($(rustup run nightly rustc --version))"
        return
    fi
    log "nightly toolchain: rustup toolchain install nightly --profile minimal"
    if ! rustup toolchain install nightly --profile minimal --no-self-update; then
        warn "could not install the nightly toolchain: fuzzing will run on the default (stable) toolchain with '-s none', i.e. WITHOUT AddressSanitizer"
    fi
}

install_cargo_fuzz() {
    if cargo fuzz --version >/dev/null 2>&1; then
        log "cargo-fuzz: already installed ($(cargo fuzz --version))"
        return
    fi
    log "cargo-fuzz: cargo install cargo-fuzz --locked"
    cargo install cargo-fuzz --locked || fail "cargo-fuzz"
    cargo fuzz --version >/dev/null 2>&1 || fail "cargo-fuzz ('cargo fuzz --version' still fails after install)"
}

# ---- Debian ---------------------------------------------------------------------------------

APT_UPDATED=0
apt_update_once() {
    if [ "$APT_UPDATED" = 0 ]; then
        log "apt-get update"
        apt-get update -q || fail "Debian package lists (apt-get update failed)"
        APT_UPDATED=1
    fi
}

deb_installed() {
    [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

# install_debian_packages PKG...: installs those of PKG that are not installed yet.
install_debian_packages() {
    local missing=() p
    for p in "$@"; do
        if deb_installed "$p"; then
            log "debian $p: already installed"
        else
            missing+=("$p")
        fi
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    export DEBIAN_FRONTEND=noninteractive
    for p in "${missing[@]}"; do
        if [ "$p" = tshark ]; then
            # Do not ask whether non-root users may capture.
            echo "wireshark-common wireshark-common/install-setuid boolean false" \
                | debconf-set-selections || fail "tshark (debconf preseed failed)"
        fi
    done
    apt_update_once
    log "apt-get install ${missing[*]}"
    apt-get install -y -q --no-install-recommends "${missing[@]}" || fail "${missing[*]}"
    for p in "${missing[@]}"; do
        deb_installed "$p" || fail "$p (not installed after apt-get install)"
    done
}

# ---- Python ---------------------------------------------------------------------------------

install_python_packages() {
    command -v python3 >/dev/null || fail "python packages: python3 is not on PATH"
    local entry module req
    for entry in "$@"; do
        module=${entry%% *}
        req=${entry#* }
        if python3 -c "import $module" >/dev/null 2>&1; then
            log "python $req: already importable ($module)"
            continue
        fi
        log "python $req: python3 -m pip install $req"
        PIP_DISABLE_PIP_VERSION_CHECK=1 python3 -m pip install -q --root-user-action=ignore "$req" \
            || fail "$req (pip)"
        python3 -c "import $module" >/dev/null 2>&1 || fail "$req (cannot import $module after pip install)"
    done
}

install_rust
install_nightly
install_cargo_fuzz
install_debian_packages "${DEBIAN_PACKAGES[@]}"
install_python_packages "${PYTHON_PACKAGES[@]}"
log "done"
