#!/usr/bin/env bash
# Filtered HNSW, ours and hnswlib (filter callable) / FAISS IndexHNSWFlat (IDSelectorBitmap) side
# by side, interleaved over repeats: the same `bench_label < s·100000` filter per selectivity (and
# any metadata filters given), exact filtered ground truth, M 16, efConstruction 200, builds on 2
# threads, queries one at a time on one thread (peers: one native batch call with one thread) and
# batched on 2 threads.
# usage: Benchmarks/filter-vs-peers.sh BASE QUERIES METRIC SELECTIVITIES [REPEATS] [SWEEP] [--metadata M.jsonl --filter JSON ...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
positional=()
while [ $# -gt 0 ] && [[ $1 != --* ]]; do positional+=("$1"); shift; done
extra=("$@")   # --metadata and --filter, passed to every system as they are
base=${positional[0]} queries=${positional[1]} metric=${positional[2]} selectivities=${positional[3]}
repeats=${positional[4]:-3} sweep=${positional[5]:-10,16,32,64,128,256,512}
bash "$here/peers/setup.sh" >/dev/null
(cd "$here/.." && swift build -c release --product vectorsearch >/dev/null)
bin="$here/../.build/release/vectorsearch"
out="$here/results/filter-$(basename "$(dirname "$base")")-$metric"
mkdir -p "$out"
for r in $(seq 1 "$repeats"); do
  echo "== repeat $r"
  "$bin" bench --base "$base" --queries "$queries" --index hnsw --metric "$metric" --filter-selectivity "$selectivities" \
    --m 16 --ef-construction 200 --sweep-ef "$sweep" --k 10 --threads 2 --runs 1 "${extra[@]}" \
    --json "$out/vectorsearch-$r.json" 2>/dev/null | grep -E "^build|^filter"
  for system in hnswlib faiss; do
    "$here/peers/.venv/bin/python" "$here/peers/peers.py" "$system" --base "$base" --queries "$queries" \
      --metric "$metric" --filter-selectivity "$selectivities" --m 16 --ef-construction 200 --sweep-ef "$sweep" --k 10 \
      --threads 2 "${extra[@]}" --json "$out/$system-$r.json" | grep -E "filter" | cut -c1-160
  done
done
"$here/peers/.venv/bin/python" "$here/peers/filtered_table.py" "$out"
