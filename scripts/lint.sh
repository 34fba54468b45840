#!/usr/bin/env bash
# Style check: swift-format (the toolchain's `swift format lint`) with the repository's .swift-format,
# over every Swift file of the package and the benchmark harness. --strict makes any finding an error,
# so the script exits non-zero if there is one. It only reads the sources; `swift format -i` rewrites them.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS

paths=()
for p in Sources Tests Package.swift Benchmarks/Sources Benchmarks/Package.swift Fuzz/Sources Fuzz/Package.swift; do
    if [[ -e $p ]]; then paths+=("$p"); fi
done
files=$(find "${paths[@]}" -name '*.swift' -type f | wc -l)

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
swift format lint --strict --recursive --parallel --configuration .swift-format "${paths[@]}" 2>"$log" || status=$?
cat "$log" >&2

findings=$(grep -cE '^[^ ]+:[0-9]+:[0-9]+: (error|warning): ' "$log" || true)
if [[ $status -eq 0 ]]; then
    echo "lint: ok, $files Swift files, no findings ($((SECONDS - start)) s)"
else
    echo "lint: FAILED, $findings findings in $(grep -oE '^[^ :]+\.swift' "$log" | sort -u | wc -l) of $files Swift files ($((SECONDS - start)) s; exit $status)"
fi
exit "$status"
