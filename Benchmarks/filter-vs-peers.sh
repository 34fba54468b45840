#!/usr/bin/env bash
# Filtered HNSW, ours and hnswlib (filter callable) / FAISS IndexHNSWFlat (IDSelectorBitmap) side
# by side, interleaved over repeats: the same `bench_label < s·100000` filter per selectivity, exact
# filtered ground truth, M 16, efConstruction 200, builds on 2 threads, queries one at a time on one
# thread (peers: one native batch call with one thread) and batched on 2 threads.
# usage: Benchmarks/filter-vs-peers.sh BASE QUERIES METRIC SELECTIVITIES [REPEATS] [SWEEP]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
base=$1 queries=$2 metric=$3 selectivities=$4 repeats=${5:-3} sweep=${6:-10,16,32,64,128,256,512}
bash "$here/peers/setup.sh" >/dev/null
(cd "$here/.." && swift build -c release --product vectorsearch >/dev/null)
bin="$here/../.build/release/vectorsearch"
out="$here/results/filter-$(basename "$(dirname "$base")")-$metric"
mkdir -p "$out"
for r in $(seq 1 "$repeats"); do
  echo "== repeat $r"
  "$bin" bench --base "$base" --queries "$queries" --index hnsw --metric "$metric" --filter-selectivity "$selectivities" \
    --m 16 --ef-construction 200 --sweep-ef "$sweep" --k 10 --threads 2 --runs 1 \
    --json "$out/vectorsearch-$r.json" 2>/dev/null | grep -E "^build|^filter"
  for system in hnswlib faiss; do
    "$here/peers/.venv/bin/python" "$here/peers/peers.py" "$system" --base "$base" --queries "$queries" \
      --metric "$metric" --filter-selectivity "$selectivities" --m 16 --ef-construction 200 --sweep-ef "$sweep" --k 10 \
      --threads 2 --json "$out/$system-$r.json" | grep -E "filter" | cut -c1-160
  done
done
"$here/peers/.venv/bin/python" "$here/peers/filtered_table.py" "$out"
