#!/usr/bin/env bash
# HNSW on quantized vectors against FAISS (IndexHNSWFlat, IndexHNSWSQ SQ8 and SQfp16), USearch
# (f32, bf16, f16, i8) and ScaNN (√N-leaf tree, anisotropic 4-bit codes, reorder 100; its knob is
# leaves to search), interleaved over rounds: single queries, one at a time, one thread; M 16,
# efConstruction 200 everywhere; one ef sweep. Ours runs each storage with re-ranking factors 1 and 2,
# and int8 memory-mapped too (bench --mmap).
# Writes Benchmarks/results/quantized/NAME/<system>-<storage>[-r<rerank>]-<round>.json (the schema
# of bench --json) and prints the table (queries/s at recall@10 0.95 and 0.99, bytes per vector).
# usage: Benchmarks/quantized-vs-peers.sh BASE QUERIES GROUNDTRUTH METRIC [ROUNDS] [SWEEP]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 4 ] || { sed -n 2,7p "$0" | sed 's/^# \{0,1\}//'; exit 2; }
base=$1 queries=$2 truth=$3 metric=$4 rounds=${5:-2} sweep=${6:-10,16,24,32,48,64,96,128,192,256,384,512}
bash "$here/peers/setup.sh" >/dev/null
py="$here/peers/.venv/bin/python"
(cd "$here/.." && swift build -c release --product vectorsearch >/dev/null)
bin="$here/../.build/release/vectorsearch"
name=$(basename "$(dirname "$base")")
out="$here/results/quantized/$name"
mkdir -p "$out"
common=(--base "$base" --queries "$queries" --groundtruth "$truth" --metric "$metric" --sweep-ef "$sweep")
for round in $(seq "$rounds"); do
  for storage in float32 int8 float16 bfloat16; do
    for rerank in 1 2; do
      [ "$storage" = float32 ] && [ "$rerank" = 2 ] && continue
      tag=ours-$storage; [ "$storage" = float32 ] || tag=$tag-r$rerank
      echo "round $round: $tag" >&2
      "$bin" bench "${common[@]}" --index hnsw --m 16 --ef-construction 200 --storage "$storage" --rerank "$rerank" \
        --threads 1 --runs 1 --json "$out/$tag-$round.json" >/dev/null 2>&1
      if [ "$storage" = int8 ]; then  # the same, memory-mapped: float32 vectors in the file
        echo "round $round: $tag-mmap" >&2
        "$bin" bench "${common[@]}" --index hnsw --m 16 --ef-construction 200 --storage "$storage" --rerank "$rerank" \
          --threads 1 --runs 1 --mmap --json "$out/$tag-mmap-$round.json" >/dev/null 2>&1
      fi
    done
    if [ "$storage" = float32 ]; then
      echo "round $round: scann" >&2
      "$py" "$here/peers/peers.py" scann "${common[@]}" --sweep-nprobe 2,4,8,16,24,32,48,64,96,128,192,256 \
        --threads 1 --json "$out/scann-float32-$round.json" >/dev/null 2>&1
    fi
    for system in faiss usearch; do
      [ "$system" = faiss ] && [ "$storage" = bfloat16 ] && continue
      echo "round $round: $system-$storage" >&2
      "$py" "$here/peers/peers.py" "$system" "${common[@]}" --m 16 --ef-construction 200 --storage "$storage" \
        --threads 1 --json "$out/$system-$storage-$round.json" >/dev/null
    done
  done
done
"$py" "$here/peers/quantized_table.py" "$out"
