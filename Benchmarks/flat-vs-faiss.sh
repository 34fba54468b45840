#!/usr/bin/env bash
# Exact search, ours and FAISS side by side on one dataset, interleaved over repeats.
# usage: Benchmarks/flat-vs-faiss.sh BASE QUERIES GROUNDTRUTH METRIC [REPEATS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
base=$1 queries=$2 truth=$3 metric=$4 repeats=${5:-3}
bash "$here/peers/setup.sh" >/dev/null
(cd "$here/.." && swift build -c release --product vectorsearch >/dev/null)
bin="$here/../.build/release/vectorsearch"
out="$here/results/flat"
mkdir -p "$out"
for r in $(seq 1 "$repeats"); do
  echo "== repeat $r"
  "$bin" bench --base "$base" --queries "$queries" --groundtruth "$truth" --index flat --metric "$metric" \
    --k 10 --threads 2 --json "$out/vectorsearch-$metric-$r.json" 2>/dev/null | tail -1
  "$here/peers/.venv/bin/python" "$here/peers/flat_faiss.py" --base "$base" --queries "$queries" \
    --groundtruth "$truth" --metric "$metric" --k 10 --threads 2 --json "$out/faiss-$metric-$r.json"
done
