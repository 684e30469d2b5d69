#!/usr/bin/env bash
# Fuzz every cargo-fuzz target for a short, fixed time.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     SECONDS per target, default 20; default: all targets
#
# For each target (`cargo fuzz list`):
#   1. replay: run every committed seed (fuzz/seeds/<target>/) and the local working corpus
#      (fuzz/corpus/<target>/, gitignored) once (-runs=0): a regression test;
#   2. fuzz for SECONDS (-max_total_time); new inputs go to fuzz/corpus/<target>/.
# Options: -use_value_profile=1 and -dict=D, where D is fuzz/dict/<target>.dict, else
# fuzz/dict/<prefix>.dict (<prefix> = the target name up to the first '_'), else
# fuzz/dict/ethernet.dict. Builds have debug assertions on (-a), so overflows panic.
# A crash leaves its input in fuzz/artifacts/<target>/ and fails the script.
#
# Toolchain: nightly with AddressSanitizer when nightly is installed; otherwise the default
# toolchain with `-s none` (no sanitizer). Override with FUZZ_TOOLCHAIN=NAME (a rustup
# toolchain) and FUZZ_SANITIZER=address|none|...
# Logs: fuzz/target/fuzz-logs/<target>-{replay,run}.log.
set -euo pipefail

cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:-20}
shift || true
case $SECONDS_PER_TARGET in
    '' | *[!0-9]*) echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...]" >&2; exit 2 ;;
esac

say() { echo "fuzz: $*"; }
die() { echo "fuzz: FAILED: $*" >&2; exit 1; }

cargo fuzz --version >/dev/null 2>&1 || die "cargo-fuzz is not installed (run scripts/install-deps.sh)"

# ---- toolchain and sanitizer ----
TOOLCHAIN=${FUZZ_TOOLCHAIN:-}
if [ -z "$TOOLCHAIN" ] && rustup run nightly rustc --version >/dev/null 2>&1; then
    TOOLCHAIN=nightly
fi
if [ -n "$TOOLCHAIN" ]; then
    rustup run "$TOOLCHAIN" rustc --version >/dev/null 2>&1 || die "toolchain '$TOOLCHAIN' is not installed"
    CARGO=(cargo "+$TOOLCHAIN")
else
    CARGO=(cargo)
fi
case $TOOLCHAIN in nightly*) default_san=address ;; *) default_san=none ;; esac
SANITIZER=${FUZZ_SANITIZER:-$default_san}
if [ "$SANITIZER" = none ] && [ -z "${FUZZ_SANITIZER:-}" ]; then
    echo "fuzz: ******************************************************************" >&2
    echo "fuzz: WARNING: no nightly toolchain: fuzzing on $("${CARGO[@]}" --version)" >&2
    echo "fuzz: WARNING: with '-s none', i.e. WITHOUT AddressSanitizer." >&2
    echo "fuzz: ******************************************************************" >&2
fi
BUILD_FLAGS=(-s "$SANITIZER" -a)   # same flags for build and run, so run does not rebuild

# ---- targets ----
if [ $# -gt 0 ]; then
    TARGETS=("$@")
else
    mapfile -t TARGETS < <("${CARGO[@]}" fuzz list)
fi
[ ${#TARGETS[@]} -gt 0 ] || die "no fuzz targets (cargo fuzz list is empty)"

LOGS=fuzz/target/fuzz-logs
mkdir -p "$LOGS"
say "toolchain: $("${CARGO[@]}" --version); rustc: $(rustup run "${TOOLCHAIN:-$(rustup show active-toolchain | cut -d' ' -f1)}" rustc --version)"
say "sanitizer: $SANITIZER; debug assertions on; targets: ${TARGETS[*]}; ${SECONDS_PER_TARGET}s each"

say "building: ${CARGO[*]} fuzz build ${BUILD_FLAGS[*]}"
"${CARGO[@]}" fuzz build "${BUILD_FLAGS[@]}" || die "cargo fuzz build"

pick_dict() {
    local t=$1 d
    for d in "fuzz/dict/$t.dict" "fuzz/dict/${t%%_*}.dict" fuzz/dict/ethernet.dict; do
        if [ -f "$d" ]; then echo "$d"; return; fi
    done
}

# count_files DIR: number of files in DIR (0 if DIR does not exist).
count_files() {
    if [ -d "$1" ]; then find "$1" -maxdepth 1 -type f | wc -l; else echo 0; fi
}

# stat LOG NAME: a libFuzzer -print_final_stats value.
stat() { sed -n "s/^stat::$2: *//p" "$1" | tail -n 1; }

# run_fuzzer LOG ARGS...: cargo fuzz run, output to LOG; on failure show the report.
run_fuzzer() {
    local log=$1
    shift
    if ! "${CARGO[@]}" fuzz run "${BUILD_FLAGS[@]}" "$@" >"$log" 2>&1; then
        echo "----- last 80 lines of $log -----" >&2
        tail -n 80 "$log" >&2
        echo "---------------------------------" >&2
        return 1
    fi
}

SUMMARY=()
FAILED=()
# fail TARGET MESSAGE: record a failure and go on with the next target, so one failing target
# never hides the others; the script fails at the end.
fail() {
    echo "fuzz: FAILED: $1: $2" >&2
    FAILED+=("$1")
    SUMMARY+=("$1: FAILED ($2)")
}
for t in "${TARGETS[@]}"; do
    corpus=fuzz/corpus/$t
    seeds=fuzz/seeds/$t
    mkdir -p "$corpus"
    dirs=("$corpus")
    [ -d "$seeds" ] && dirs+=("$seeds")
    dict=$(pick_dict "$t")
    opts=(-use_value_profile=1 -timeout=10 -print_final_stats=1)
    [ -n "$dict" ] && opts+=("-dict=$dict")

    n_seeds=$(count_files "$seeds")
    n_before=$(count_files "$corpus")
    say "[$t] replay: $n_seeds seeds ($seeds) + $n_before corpus inputs ($corpus), -runs=0"
    if ! run_fuzzer "$LOGS/$t-replay.log" "$t" "${dirs[@]}" -- "${opts[@]}" -runs=0; then
        fail "$t" "an input of $seeds or $corpus crashes (see above; reproduce with: ${CARGO[*]} fuzz run ${BUILD_FLAGS[*]} $t fuzz/artifacts/$t/<file>)"
        continue
    fi
    replayed=$(stat "$LOGS/$t-replay.log" number_of_executed_units)

    say "[$t] fuzz ${SECONDS_PER_TARGET}s: -max_total_time=$SECONDS_PER_TARGET ${opts[*]}"
    if ! run_fuzzer "$LOGS/$t-run.log" "$t" "${dirs[@]}" -- "${opts[@]}" "-max_total_time=$SECONDS_PER_TARGET"; then
        fail "$t" "the fuzzer found a crash (see above: the input is under fuzz/artifacts/$t/ and in Base64 in the log); reproduce with: ${CARGO[*]} fuzz run ${BUILD_FLAGS[*]} $t fuzz/artifacts/$t/<file>"
        continue
    fi
    runs=$(stat "$LOGS/$t-run.log" number_of_executed_units)
    per_s=$(stat "$LOGS/$t-run.log" average_exec_per_sec)
    cov=$(grep -o 'cov: [0-9]*' "$LOGS/$t-run.log" | tail -n 1 || true)
    n_after=$(count_files "$corpus")
    line="$t: replayed ${replayed:-?} inputs OK; fuzzed ${SECONDS_PER_TARGET}s, ${runs:-?} runs (${per_s:-?}/s), ${cov:-cov: ?}, corpus $n_before -> $n_after, dict ${dict:-none}"
    say "[$t] ok: $line"
    SUMMARY+=("$line")
done

say "summary (toolchain ${TOOLCHAIN:-default}, sanitizer $SANITIZER):"
for line in "${SUMMARY[@]}"; do say "  $line"; done
if [ "${#FAILED[@]}" -gt 0 ]; then
    die "${#FAILED[@]} target(s) failed: ${FAILED[*]}"
fi
