#!/usr/bin/env bash
# Two builds of vsbench side by side on saved indexes, interleaved (A then B in odd repeats, B
# then A in even ones): single-query IVF and HNSW passes (best of 5 passes of the query file),
# their batches on 1 and 2 threads, the single-query flat scan and the batched exact search.
# Prints one line per measurement; Benchmarks/peers/ab_vsbench_table.py turns them into ratios.
# usage: Benchmarks/ab-vsbench.sh A_VSBENCH B_VSBENCH DATA_DIR IVF_INDEX HNSW_INDEX [REPEATS]
#   build the two vsbench binaries from the two commits (swift build -c release --package-path
#   Benchmarks --product vsbench in two worktrees) and the indexes once with either build.
set -euo pipefail
a=$1 b=$2 data=$3 ivf=$4 hnsw=$5 repeats=${6:-6}
for r in $(seq "$repeats"); do
  if (( r % 2 )); then order=(A B); else order=(B A); fi
  for which in "${order[@]}"; do
    bin=$a; [ "$which" = B ] && bin=$b
    for nprobe in 8 32; do
      "$bin" ivf "$ivf" "$data/query.fvecs" "$nprobe" 5 | sed "s/^/$r $which ivf-$nprobe /"
    done
    "$bin" hnsw "$hnsw" "$data/query.fvecs" 64 5 | sed "s/^/$r $which hnsw-64 /"
    "$bin" scan "$data/base.fvecs" | grep single-query | sed "s/^/$r $which flat /"
    "$bin" batch "$data/base.fvecs" "$data/query.fvecs" | grep "batch search" | sed "s/^/$r $which flat /"
  done
done
