#!/usr/bin/env bash
# The project's Swift formatting, by the toolchain's swift-format and the repository's
# .swift-format configuration.
#
#   scripts/format.sh --check   lint: print every finding, exit 1 if there is one (CI)
#   scripts/format.sh           rewrite the files in place
#
# Covers every Swift file of the package and the fuzz targets. Exit status: 0 clean (or
# rewritten), 1 findings (--check), 2 usage error or swift-format missing.
set -euo pipefail
cd "$(dirname "$0")/.."

paths=(Package.swift Sources Tests Benchmarks Fuzz)

if ! swift format --version >/dev/null 2>&1; then
    echo "error: 'swift format' is not available; it ships with Swift 6 toolchains" >&2
    exit 2
fi

case "${1:-}" in
--check)
    # --strict turns warnings into a failing status; --parallel lints files concurrently.
    if ! swift format lint --strict --parallel --recursive --configuration .swift-format "${paths[@]}"; then
        echo "error: formatting findings above; run scripts/format.sh to fix them" >&2
        exit 1
    fi
    ;;
"")
    swift format format --in-place --parallel --recursive --configuration .swift-format "${paths[@]}"
    ;;
-h|--help)
    sed -n '2,9p' "$0"
    ;;
*)
    echo "error: unknown argument '$1' (--check, or none to rewrite the files)" >&2
    exit 2
    ;;
esac
