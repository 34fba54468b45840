#!/usr/bin/env bash
# Opening a saved index memory-mapped against reading it: open time (page cache cold and warm),
# single-thread queries/s (first pass on a cold cache, then warm), and the resident set split
# into own memory and mapped-file pages, from `vectorsearch search` and `vectorsearch info`.
# Builds INDEX from BASE first when it is missing (any `build` options after the arguments).
# Dropping the page cache needs root; without it the cold rows are skipped.
# usage: Benchmarks/mmap-open.sh BASE QUERIES INDEX [build options...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 3 ] || { sed -n 2,7p "$0" | sed 's/^# \{0,1\}//'; exit 2; }
base=$1 queries=$2 index=$3
shift 3
(cd "$here/.." && swift build -c release --product vectorsearch >/dev/null)
bin="$here/../.build/release/vectorsearch"
[ -f "$index" ] || "$bin" build --input "$base" --output "$index" "$@"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
drop() { sync; [ -w /proc/sys/vm/drop_caches ] && echo 3 >/proc/sys/vm/drop_caches; }
"$bin" info "$index"
for round in 1 2 3; do
  for mode in mapped copied; do
    flag=(); [ $mode = mapped ] && flag=(--mmap)
    if drop; then
      echo "round $round, $mode, cold: $("$bin" search --index "$index" --queries "$queries" --threads 1 "${flag[@]}" --output "$tmp/ids.ivecs" 2>&1 | tail -1)"
    fi
    "$bin" search --index "$index" --queries "$queries" --threads 1 "${flag[@]}" --output "$tmp/ids.ivecs" >/dev/null 2>&1
    echo "round $round, $mode, warm: $("$bin" search --index "$index" --queries "$queries" --threads 1 "${flag[@]}" --output "$tmp/ids.ivecs" 2>&1 | tail -1)"
  done
done
