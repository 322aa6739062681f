#!/usr/bin/env bash
# README's second quick-start command: installs what the tests need on a fresh Debian/Ubuntu
# machine (as root) — nasm, QEMU, OVMF, python3-venv and sev-snp-measure in a throw-away venv —
# then checks the formatting (scripts/format.sh --check) and runs every test, so none skips
# for lack of a tool. Arguments go to `swift test` (e.g. --filter ConformanceTests). .ci/run
# runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v nasm >/dev/null 2>&1 || missing+=(nasm)
command -v qemu-system-x86_64 >/dev/null 2>&1 || missing+=(qemu-system-x86)
[ -f /usr/share/ovmf/OVMF.fd ] || missing+=(ovmf)
python3 -m venv --help >/dev/null 2>&1 || missing+=(python3-venv)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: missing ${missing[*]}; run as root or install them: apt-get install --no-install-recommends ${missing[*]}" >&2
    exit 2
  fi
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# The measurement tests compare with the distribution's OVMF build.
if [ -z "${ENLIGHTEN_OVMF:-}" ] && [ -f /usr/share/ovmf/OVMF.fd ]; then
  export ENLIGHTEN_OVMF=/usr/share/ovmf/OVMF.fd
fi

# sev-snp-measure (PyPI) in a throw-away venv, so the measurement tests compare our launch
# digests with it live; it is never a project dependency.
tools=$(mktemp -d)
trap 'rm -rf "$tools"' EXIT
if [ -z "${SEV_SNP_MEASURE:-}" ]; then
  python3 -m venv "$tools/venv"
  "$tools/venv/bin/pip" install --quiet --disable-pip-version-check sev-snp-measure==0.0.13
  export SEV_SNP_MEASURE="$tools/venv/bin/sev-snp-measure"
fi

# The tree as swift-format and .swift-format leave it (scripts/format.sh rewrites it so).
scripts/format.sh --check

swift test "$@"
