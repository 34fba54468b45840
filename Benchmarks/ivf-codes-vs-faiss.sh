#!/usr/bin/env bash
# IVF on codes against FAISS's IndexIVFScalarQuantizer (SQ8, SQfp16) and IndexIVFFlat, interleaved
# over rounds: same nlist and training-sample rule (at most 256 points per list), single queries
# one at a time on one thread, one nprobe sweep. Ours runs float32, int8 re-ranked k and 2k, and
# float16 re-ranked k. Writes Benchmarks/results/ivf-codes/NAME/<system>-<storage>[-r<rerank>]-<round>.json
# and prints the table (queries/s at recall@10 0.90, 0.95, 0.99 and the ratio to FAISS SQ8).
# usage: Benchmarks/ivf-codes-vs-faiss.sh BASE QUERIES GROUNDTRUTH METRIC NLIST [ROUNDS] [SWEEP]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 5 ] || { sed -n 2,8p "$0" | sed 's/^# \{0,1\}//'; exit 2; }
base=$1 queries=$2 truth=$3 metric=$4 nlist=$5 rounds=${6:-2} sweep=${7:-1,2,4,8,12,16,24,32,48,64,96,128}
bash "$here/peers/setup.sh" >/dev/null
py="$here/peers/.venv/bin/python"
(cd "$here/.." && swift build -c release --product vectorsearch >/dev/null)
bin="$here/../.build/release/vectorsearch"
name=$(basename "$(dirname "$base")")
out="$here/results/ivf-codes/$name"
mkdir -p "$out"
common=(--base "$base" --queries "$queries" --groundtruth "$truth" --metric "$metric" --sweep-nprobe "$sweep")
for round in $(seq "$rounds"); do
  for config in float32-1 int8-1 int8-2 float16-1; do
    storage=${config%-*} rerank=${config#*-}
    tag=ours-$storage; [ "$storage" = float32 ] || tag=$tag-r$rerank
    echo "round $round: $tag" >&2
    "$bin" bench "${common[@]}" --index ivf --nlist "$nlist" --storage "$storage" --rerank "$rerank" \
      --threads 1 --runs 1 --json "$out/$tag-$round.json" >/dev/null 2>&1
  done
  for storage in float32 int8 float16; do
    echo "round $round: faiss-ivf-$storage" >&2
    "$py" "$here/peers/peers.py" faiss-ivf "${common[@]}" --nlist "$nlist" --storage "$storage" \
      --threads 1 --json "$out/faiss-$storage-$round.json" >/dev/null
  done
done
"$py" "$here/peers/quantized_table.py" "$out"
