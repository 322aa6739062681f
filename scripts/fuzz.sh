#!/bin/sh
# Coverage-guided fuzzing of the guest-facing decoders and the file parsers (libFuzzer).
#
#   scripts/fuzz.sh [short|long|build] [TARGET...]
#
# short (the default; CI): each target for 10,000 executions. long: each for 1,000,000
# executions (FUZZ_RUNS overrides the count, FUZZ_SECONDS adds a time limit). build: only
# build. Targets (Fuzz/Targets): psc ghcb tdcall hypercall elf firmware; all by default.
#
# The package's modules are built with `-sanitize=fuzzer` by SwiftPM into .build-fuzz
# (release), and each target is linked against their objects with Fuzz/Support. Every
# target checks its answers against the specification (Fuzz/Support/*Oracle.swift and the
# targets' own comments), not only "no crash": a broken oracle aborts, and libFuzzer keeps
# the input as .build-fuzz/findings/TARGET/crash-*. Seeds: Fuzz/Corpus/TARGET (small, kept
# in the repository); what a run discovers goes to .build-fuzz/corpus/TARGET.
# Exit status: 0 when every target ran clean, 1 on a finding, 2 on a usage error.
set -eu

cd "$(dirname "$0")/.."
mode=${1:-short}
case "$mode" in
short) runs=${FUZZ_RUNS:-10000} ;;
long) runs=${FUZZ_RUNS:-1000000} ;;
build) runs=0 ;;
-h|--help) sed -n '2,18p' "$0"; exit 0 ;;
*) echo "error: unknown mode '$mode' (short, long or build)" >&2; exit 2 ;;
esac
[ $# -gt 0 ] && shift
targets=${*:-psc ghcb tdcall hypercall elf firmware}

build=.build-fuzz
release=$build/x86_64-unknown-linux-gnu/release
mkdir -p "$build/fuzz"
for module in GuestABI Measurement; do
    if ! swift build --build-path "$build" -c release --target "$module" -Xswiftc -sanitize=fuzzer >"$build/fuzz/build.log" 2>&1; then
        grep -E "error" "$build/fuzz/build.log" >&2
        exit 2
    fi
done

# The support files each target compiles with it (the spec oracles need GuestABI).
support_for() {
    case "$1" in
    psc|ghcb|tdcall|hypercall) echo Fuzz/Support/*.swift ;;
    *) echo Fuzz/Support/FuzzInput.swift ;;
    esac
}

# The modules each target links (in dependency order) and their object folders.
modules_for() {
    case "$1" in
    psc|ghcb|tdcall|hypercall) echo "GuestABI GuestPhysical" ;;
    elf) echo "Payload GuestPhysical Crypto CryptoBoringWrapper CCryptoBoringSSLShims CCryptoBoringSSL SwiftASN1" ;;
    firmware) echo "Measurement Payload GuestPhysical Crypto CryptoBoringWrapper CCryptoBoringSSLShims CCryptoBoringSSL SwiftASN1" ;;
    *) echo "error: unknown target '$1' (psc ghcb tdcall hypercall elf firmware)" >&2; exit 2 ;;
    esac
}

# libFuzzer limits each target runs under, beyond its own oracles. firmware: one input's
# digests must finish within 120 s and the process stay under 512 MB (docs/measurement.md
# bounds inspect at a few seconds and tens of MB for such images; the margin is for the
# coverage instrumentation and a loaded machine).
limits_for() {
    case "$1" in
    firmware) echo "-timeout=120 -rss_limit_mb=512" ;;
    *) echo "" ;;
    esac
}

status=0
for target in $targets; do
    objects=""
    for module in $(modules_for "$target"); do
        objects="$objects $(find "$release/$module.build" -name '*.o' | sort | tr '\n' ' ')"
    done
    # shellcheck disable=SC2086 # the object list is meant to split
    swiftc -sanitize=fuzzer -O -parse-as-library -module-name "Fuzz_$target" \
        -I "$release/Modules" \
        $(support_for "$target") "Fuzz/Targets/$target.swift" $objects -lstdc++ \
        -o "$build/fuzz/$target"
    [ "$runs" -eq 0 ] && continue
    mkdir -p "$build/corpus/$target" "$build/findings/$target"
    limit=""
    [ -n "${FUZZ_SECONDS:-}" ] && limit="-max_total_time=$FUZZ_SECONDS"
    echo "fuzz $target: $runs executions"
    # Swift's own backtracer would take the oracle's abort() before libFuzzer's handler,
    # which then never writes the crash input: turn it off for the fuzz runs.
    # shellcheck disable=SC2086
    if ! SWIFT_BACKTRACE=enable=no "$build/fuzz/$target" -runs="$runs" -max_len=8192 $limit $(limits_for "$target") -print_final_stats=1 \
        -artifact_prefix="$build/findings/$target/" "$build/corpus/$target" "Fuzz/Corpus/$target" \
        2>"$build/fuzz/$target.log"; then
        echo "fuzz $target: FINDING (see $build/fuzz/$target.log and $build/findings/$target/)" >&2
        grep -E "oracle failed|ERROR|Fatal error|timeout|out-of-memory" "$build/fuzz/$target.log" | head -5 >&2
        status=1
    fi
    grep -E "stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb" "$build/fuzz/$target.log" | sed "s/^/  $target /"
done
exit $status
