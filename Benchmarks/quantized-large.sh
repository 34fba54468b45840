#!/usr/bin/env bash
# HNSW on int8 codes at scale (e.g. a 1M-row `vectorsearch gen` set): ours int8 re-ranking k and
# 2k, and float32, against FAISS IndexHNSWSQ (SQ8, SQfp16). M 16, efConstruction 100, builds on
# both cores, single queries one at a time on one thread, one round (a round is ~10 minutes at
# 1M × 96). Writes Benchmarks/results/quantized/NAME/<system>-<storage>[-r<rerank>]-1.json and prints
# the table of quantized-vs-peers.sh.
# usage: Benchmarks/quantized-large.sh BASE QUERIES GROUNDTRUTH METRIC [SWEEP]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 4 ] || { sed -n 2,7p "$0" | sed 's/^# \{0,1\}//'; exit 2; }
base=$1 queries=$2 truth=$3 metric=$4 sweep=${5:-16,24,32,48,64,96,128,192,256,384,512}
bash "$here/peers/setup.sh" >/dev/null
py="$here/peers/.venv/bin/python"
(cd "$here/.." && swift build -c release --product vectorsearch >/dev/null)
bin="$here/../.build/release/vectorsearch"
out="$here/results/quantized/$(basename "$(dirname "$base")")"
mkdir -p "$out"
common=(--base "$base" --queries "$queries" --groundtruth "$truth" --metric "$metric" --sweep-ef "$sweep")
for rerank in 1 2; do
  echo "ours int8 r$rerank" >&2
  "$bin" bench "${common[@]}" --index hnsw --m 16 --ef-construction 100 --storage int8 --rerank $rerank \
    --threads 1 --runs 1 --json "$out/ours-int8-r$rerank-1.json" >/dev/null 2>&1
done
echo "ours float32" >&2
"$bin" bench "${common[@]}" --index hnsw --m 16 --ef-construction 100 --threads 1 --runs 1 \
  --json "$out/ours-float32-1.json" >/dev/null 2>&1
for storage in int8 float16; do
  echo "faiss $storage" >&2
  "$py" "$here/peers/peers.py" faiss "${common[@]}" --m 16 --ef-construction 100 --storage "$storage" \
    --threads 1 --build-threads 2 --json "$out/faiss-$storage-1.json" >/dev/null
done
"$py" "$here/peers/quantized_table.py" "$out"
