#!/usr/bin/env bash
# Compressed IVF against its peers, interleaved over rounds, one thread, queries one at a time:
# ours `--codec pq4fs`, with and without `--opq` (nprobe × rerank sweep), FAISS
# `[OPQ<m>,]IVF<nlist>,PQ<m>x4fs,RFlat` and `IVF<nlist>,RaBitQ,RFlat` (nprobe sweep at each k_factor
# of RERANKS, on one build: the same factors as ours), and ScaNN (tree of nlist leaves, 4-bit AH
# codes, reorder 100; leaves sweep). Same nlist everywhere; every system trains on all the base vectors; builds use both cores (ours by
# default, the peers with --build-threads 2). Writes Benchmarks/results/ivf-pq/NAME/<config>-<round>.json
# and prints the table (best queries/s among the points reaching recall@10 0.90 / 0.95 / 0.99,
# resident bytes).
# usage: Benchmarks/ivf-pq-vs-peers.sh BASE QUERIES GROUNDTRUTH METRIC NLIST PQ_M [ROUNDS] [NPROBES] [RERANKS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 6 ] || { sed -n 2,10p "$0" | sed 's/^# \{0,1\}//'; exit 2; }
base=$1 queries=$2 truth=$3 metric=$4 nlist=$5 m=$6 rounds=${7:-2}
nprobes=${8:-4,8,12,16,24,32,48,64,96,128} reranks=${9:-3,4,5,8,10,15,20,30}
bash "$here/peers/setup.sh" >/dev/null
py="$here/peers/.venv/bin/python"
(cd "$here/.." && swift build -c release --product vectorsearch >/dev/null)
bin="$here/../.build/release/vectorsearch"
name=$(basename "$(dirname "$base")")
out="$here/results/ivf-pq/$name"
mkdir -p "$out"
common=(--base "$base" --queries "$queries" --groundtruth "$truth" --metric "$metric" --sweep-nprobe "$nprobes")
for round in $(seq "$rounds"); do
  for opq in "" --opq; do
    echo "round $round: ours pq4fs m$m $opq" >&2
    "$bin" bench "${common[@]}" --index ivf --nlist "$nlist" --codec pq4fs --pq-m "$m" $opq --sweep-rerank "$reranks" \
      --threads 1 --runs 1 --json "$out/ours-pq4fs${opq:+-opq}-$round.json" >/dev/null 2>&1
  done
  echo "round $round: faiss pq4fs (and with OPQ), faiss rabitq, k_factor $reranks" >&2
  for opq in "" --opq; do
    "$py" "$here/peers/peers.py" faiss-ivf "${common[@]}" --nlist "$nlist" --codec pq4fs --pq-m "$m" $opq --rerank "$reranks" \
      --threads 1 --build-threads 2 --json "$out/faiss-pq4fs${opq:+-opq}-$round.json" >/dev/null
  done
  "$py" "$here/peers/peers.py" faiss-ivf "${common[@]}" --nlist "$nlist" --codec rabitq --rerank "$reranks" \
    --threads 1 --build-threads 2 --json "$out/faiss-rabitq-$round.json" >/dev/null
  echo "round $round: scann" >&2
  "$py" "$here/peers/peers.py" scann "${common[@]}" --nlist "$nlist" --threads 1 --build-threads 2 --json "$out/scann-$round.json" >/dev/null
done
"$py" "$here/peers/frontier_table.py" "$out"
