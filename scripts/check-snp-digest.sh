#!/usr/bin/env bash
# Compares `enlighten inspect`'s SEV-SNP launch digest with sev-snp-measure's on Debian's OVMF
# (and on our own firmware-layout hello image when its footer tables are present), then runs the
# measurement tests that need the tool. sev-snp-measure goes into a throw-away venv; OVMF is
# downloaded with apt-get, never committed.
#
# Usage: scripts/check-snp-digest.sh [--no-xctest]
# Environment: ENLIGHTEN (an enlighten binary; default: built with --scratch-path .build-fw),
#              KEEP_TMP=1 to keep the temporary directory.
# Exit: 0 all digests equal, 1 a digest differs, 2 a prerequisite is missing.
set -euo pipefail

cd "$(dirname "$0")/.."
run_xctest=1
[[ "${1:-}" == "--no-xctest" ]] && run_xctest=0

work=$(mktemp -d)
cleanup() { [[ "${KEEP_TMP:-0}" == 1 ]] && echo "kept $work" || rm -rf "$work"; }
trap cleanup EXIT

need() { command -v "$1" >/dev/null || { echo "error: $1 is required ($2)" >&2; exit 2; }; }
need python3 "apt-get install python3 python3-venv"
need apt-get "a Debian-based host is needed to download OVMF"
need dpkg-deb "apt-get install dpkg"

echo "== installing sev-snp-measure into a temporary venv"
python3 -m venv "$work/venv" || { echo "error: python3 -m venv failed (apt-get install python3-venv)" >&2; exit 2; }
"$work/venv/bin/pip" install --quiet sev-snp-measure==0.0.13 || { echo "error: pip could not install sev-snp-measure" >&2; exit 2; }
measure="$work/venv/bin/sev-snp-measure"

echo "== downloading Debian's OVMF"
(cd "$work" && apt-get download ovmf >/dev/null 2>&1) || { echo "error: apt-get download ovmf failed (run apt-get update?)" >&2; exit 2; }
dpkg-deb -x "$work"/ovmf_*.deb "$work/ovmf"
ovmf="$work/ovmf/usr/share/ovmf/OVMF.fd"

if [[ -z "${ENLIGHTEN:-}" ]]; then
  echo "== building enlighten"
  swift build --scratch-path .build-fw --product enlighten >/dev/null
  ENLIGHTEN="$(swift build --scratch-path .build-fw --show-bin-path)/enlighten"
fi

failures=0
# compare LABEL IMAGE VCPUS TYPE: one sev-snp-measure run against one inspect run.
compare() {
  local label=$1 image=$2 vcpus=$3 type=$4 expected ours
  expected=$("$measure" --mode snp --vcpus "$vcpus" --vcpu-type "$type" --ovmf "$image")
  ours=$("$ENLIGHTEN" inspect "$image" --json --vcpus "$vcpus" --vcpu-type "$type" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin).get("snpLaunchDigest") or "")') || true
  if [[ "$expected" == "$ours" ]]; then
    echo "ok   $label, $vcpus vCPU $type: $ours"
  else
    echo "FAIL $label, $vcpus vCPU $type: sev-snp-measure $expected, enlighten ${ours:-<none>}"
    failures=$((failures + 1))
  fi
}

echo "== comparing digests"
compare "OVMF.fd" "$ovmf" 1 EPYC-v4
compare "OVMF.fd" "$ovmf" 4 EPYC-Milan

"$ENLIGHTEN" build hello --layout firmware -o "$work/out" >/dev/null
hello="$work/out/hello.firmware.bin"
if "$ENLIGHTEN" inspect "$hello" --json >/dev/null 2>&1; then
  compare "hello.firmware.bin" "$hello" 1 EPYC-v4
  compare "hello.firmware.bin" "$hello" 2 EPYC-v4
else
  # Not a pass: say exactly why the comparison did not happen.
  echo "FAIL hello.firmware.bin: inspect reports problems (are the footer tables written by the builder?)"
  "$ENLIGHTEN" inspect "$hello" | grep '^problem:' || true
  failures=$((failures + 1))
fi

if [[ $run_xctest == 1 ]]; then
  echo "== measurement tests with sev-snp-measure"
  SEV_SNP_MEASURE="$measure" ENLIGHTEN_OVMF="$ovmf" \
    swift test --scratch-path .build-fw --filter 'MeasurementTests|PayloadTests.Firmware' || failures=$((failures + 1))
fi

if [[ $failures -ne 0 ]]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all SNP digests equal"
