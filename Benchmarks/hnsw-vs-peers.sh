#!/usr/bin/env bash
# HNSW, ours and hnswlib / FAISS IndexHNSWFlat / USearch side by side, interleaved over repeats,
# same M and efConstruction, builds on --threads threads, queries timed one at a time on one thread
# (peers: one native batch call with one thread) and batched on --threads threads.
# usage: Benchmarks/hnsw-vs-peers.sh BASE QUERIES GROUNDTRUTH METRIC [REPEATS] [SWEEP]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
base=$1 queries=$2 truth=$3 metric=$4 repeats=${5:-3} sweep=${6:-10,16,32,48,64,96,128,256,512}
bash "$here/peers/setup.sh" >/dev/null
(cd "$here/.." && swift build -c release --product vectorsearch >/dev/null)
bin="$here/../.build/release/vectorsearch"
out="$here/results/hnsw-$(basename "$(dirname "$base")")-$metric"
mkdir -p "$out"
for r in $(seq 1 "$repeats"); do
  echo "== repeat $r"
  "$bin" bench --base "$base" --queries "$queries" --groundtruth "$truth" --index hnsw --metric "$metric" \
    --m 16 --ef-construction 200 --sweep-ef "$sweep" --k 10 --threads 2 --runs 1 \
    --json "$out/vectorsearch-$r.json" 2>/dev/null | grep -E "^build|at recall"
  for system in hnswlib faiss usearch; do
    "$here/peers/.venv/bin/python" "$here/peers/peers.py" "$system" --base "$base" --queries "$queries" \
      --groundtruth "$truth" --metric "$metric" --m 16 --ef-construction 200 --sweep-ef "$sweep" --k 10 \
      --threads 2 --json "$out/$system-$r.json" | sed 's/; ef=.*; at/; at/'
  done
done
"$here/peers/.venv/bin/python" "$here/peers/table.py" "$out"
