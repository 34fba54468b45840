#!/usr/bin/env bash
# Two builds of vectorsearch side by side, interleaved: flat, IVF (an nprobe sweep) and HNSW
# (an ef sweep) on one dataset, REPEATS times, alternating A and B within every repeat, then
# the per-point ratios B/A of single-query and batched queries/s (ab_table.py).
# usage: Benchmarks/ab.sh A_BINARY B_BINARY DATA_DIR [REPEATS] [OUT_DIR]
#   DATA_DIR holds base.fvecs, query.fvecs, groundtruth.ivecs (e.g. ../shared/data/pypi-minilm).
set -euo pipefail
a=$1 b=$2 data=$3 repeats=${4:-3} out=${5:-$(mktemp -d)}
mkdir -p "$out"
common=(--base "$data/base.fvecs" --queries "$data/query.fvecs" --groundtruth "$data/groundtruth.ivecs" --metric cosine --k 10)
for r in $(seq "$repeats"); do
  for kind in flat ivf hnsw; do
    case $kind in
      flat) extra=() ;;
      ivf) extra=(--sweep-nprobe 4,8,16,32) ;;
      hnsw) extra=(--sweep-ef 16,32,64,128) ;;
    esac
    # Alternate which build goes first, so drift in the machine's speed favours neither.
    if (( r % 2 )); then order=(A B); else order=(B A); fi
    for which in "${order[@]}"; do
      bin=$a; [ "$which" = B ] && bin=$b
      echo "repeat $r, $kind, $which" >&2
      "$bin" bench "${common[@]}" --index $kind "${extra[@]}" --json "$out/$which-$kind-$r.json" > /dev/null
    done
  done
done
python3 "$(dirname "$0")/peers/ab_table.py" "$out"
