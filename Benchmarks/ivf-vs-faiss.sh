#!/usr/bin/env bash
# IVF, ours and FAISS IndexIVFFlat side by side, interleaved over repeats: same nlist, same
# training-sample cap (256 per list, all of the data unless --train-size), 10 k-means iterations,
# train + add and the batch on THREADS threads; queries one at a time on one thread (FAISS: one
# native batch call with one thread), over the same nprobe sweep.
# usage: Benchmarks/ivf-vs-faiss.sh BASE QUERIES GROUNDTRUTH METRIC NLIST [THREADS] [REPEATS] [SWEEP]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
base=$1 queries=$2 truth=$3 metric=$4 nlist=$5 threads=${6:-2} repeats=${7:-3} sweep=${8:-1,2,4,8,16,32,64,128}
bash "$here/peers/setup.sh" >/dev/null
(cd "$here/.." && swift build -c release --product vectorsearch >/dev/null)
bin="$here/../.build/release/vectorsearch"
out="$here/results/ivf-$(basename "$(dirname "$base")")-$metric-nlist$nlist-threads$threads"
mkdir -p "$out"
for r in $(seq 1 "$repeats"); do
  echo "== repeat $r"
  "$bin" bench --base "$base" --queries "$queries" --groundtruth "$truth" --index ivf --metric "$metric" \
    --nlist "$nlist" --sweep-nprobe "$sweep" --k 10 --threads "$threads" --build-threads "$threads" --runs 1 \
    --json "$out/vectorsearch-$r.json" 2>/dev/null | grep -E "^build|at recall"
  "$here/peers/.venv/bin/python" "$here/peers/peers.py" faiss-ivf --base "$base" --queries "$queries" \
    --groundtruth "$truth" --metric "$metric" --nlist "$nlist" --sweep-nprobe "$sweep" --k 10 \
    --threads "$threads" --json "$out/faiss-ivf-$r.json" | sed 's/; nprobe=.*; at/; at/'
done
"$here/peers/.venv/bin/python" "$here/peers/table.py" "$out"
