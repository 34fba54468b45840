#!/usr/bin/env bash
# Collections against their peers: ours (collbench, HNSW), Chroma and LanceDB (peers/collection_peers.py)
# on the same documents and embeddings, interleaved within each round (ours, chroma, lancedb, ours,
# ...), so that drift on the machine falls on all three alike. Each run's JSON goes to RESULTS
# (default Benchmarks/results/collections-<N docs>/<engine>-<round>.json); then a markdown table
# of the medians over rounds (peers/collections_table.py), written to RESULTS/table.md as well.
# Stores live under STORE_DIR (default ${TMPDIR:-/tmp}/collections-vs-peers), one folder per engine,
# replaced by every run, and removed at the end unless KEEP_STORES is set. INDEX (default hnsw) is
# our collection's index kind (an IVF collection takes COLLBENCH_NLIST and COLLBENCH_TRAIN, see
# collbench); ENGINES (default "chroma lancedb") the peers run.
# usage: Benchmarks/collections-vs-peers.sh DOCS.jsonl EMBEDDINGS.fvecs [REPEATS=2] [UPDATES=1000] [BATCH=1000]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 2 ] || { sed -n 2,9p "$0" | sed 's/^# \{0,1\}//'; exit 2; }
docs=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
embeddings=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
repeats=${3:-2} updates=${4:-1000} batch=${5:-1000}
count=$(grep -c . "$docs")
results=${RESULTS:-$here/results/collections-$count}
stores=${STORE_DIR:-${TMPDIR:-/tmp}/collections-vs-peers}
collbench=$here/.build/release/collbench
vectorsearch=$here/../.build/release/vectorsearch
# Built only when missing: a rebuild is a separate, deliberate step.
[ -x "$collbench" ] || (cd "$here" && swift build -c release --product collbench >/dev/null)
[ -x "$vectorsearch" ] || (cd "$here/.." && swift build -c release --product vectorsearch >/dev/null)
bash "$here/peers/setup-collections.sh"
py=$here/peers/.venv-collections/bin/python
mkdir -p "$results" "$stores"
for r in $(seq 1 "$repeats"); do
  echo "== round $r of $repeats ($count documents, $updates updates)"
  "$collbench" "$docs" "$embeddings" "$stores/ours" "${INDEX:-hnsw}" "$updates" "$batch" > "$results/ours-$r.json"
  # A new process: open the collection (after the updates, so with their log) and answer one
  # k = 10 vector query, as the peers' fresh subprocess does.
  start=$(date +%s%N)
  "$vectorsearch" rag query --collection "$stores/ours" --vector "$embeddings:0" --k 10 > /dev/null
  "$py" - "$results/ours-$r.json" "$(( $(date +%s%N) - start ))" <<'PY'
import json, sys
path, nanoseconds = sys.argv[1], int(sys.argv[2])
report = json.load(open(path))
report["cold_open_first_query_seconds"] = nanoseconds / 1e9
json.dump(report, open(path, "w"), indent=2, sort_keys=True)
PY
  echo "ours done"
  for engine in ${ENGINES-chroma lancedb}; do
    "$py" "$here/peers/collection_peers.py" "$engine" "$docs" "$embeddings" "$stores/$engine" "$updates" "$batch" \
      > "$results/$engine-$r.json"
    echo "$engine done"
  done
done
[ -n "${KEEP_STORES:-}" ] || rm -rf "$stores/ours" "$stores/chroma" "$stores/lancedb"
"$py" "$here/peers/collections_table.py" "$results" | tee "$results/table.md"
