#!/usr/bin/env bash
# Our server over a collection against Chroma's server (`chroma run`, from Benchmarks/peers/
# setup-collections.sh), the same documents, vectors and HNSW settings (cosine, M 16,
# efConstruction 200, ef 64), over HTTP on this machine:
#   bash Benchmarks/serve-vs-chroma.sh DOCS.jsonl VECTORS.fvecs QUERIES.fvecs GROUNDTRUTH.ivecs [ROUNDS]
# DOCS.jsonl: {"id": ROW, "text", other keys as metadata}, row i's vector in VECTORS. Prints each
# server's recall@10 over HTTP, then per round, interleaved (ours, chroma): wrk at 1, 4 and 16
# connections for DURATION seconds (default 10), answers with text, metadata and score; then 4
# connections again while a writer upserts 10 documents a second (WRITES).
set -euo pipefail
[ $# -ge 4 ] || { echo "usage: serve-vs-chroma.sh DOCS.jsonl VECTORS.fvecs QUERIES.fvecs GROUNDTRUTH.ivecs [ROUNDS]" >&2; exit 2; }
docs=$(realpath "$1") vectors=$(realpath "$2") queries=$(realpath "$3") groundtruth=$(realpath "$4")
cd "$(dirname "$0")/.."
rounds=${5:-2}
duration=${DURATION:-10}
writes=${WRITES:-10}
ours_port=${PORT:-18090}
chroma_port=$((ours_port + 1))
command -v wrk > /dev/null || { echo "needs wrk (apt-get install wrk)" >&2; exit 1; }
bash Benchmarks/peers/setup-collections.sh > /dev/null
py=$PWD/Benchmarks/peers/.venv-collections/bin/python
swift build -c release --product vectorsearch > /tmp/serve-bench-build.log 2>&1 || { tail -30 /tmp/serve-bench-build.log; exit 1; }
bin=$PWD/.build/release/vectorsearch
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2> /dev/null || true; rm -rf "$work"' EXIT

start=$SECONDS
$bin rag ingest --documents "$docs" --embeddings "$vectors" --collection "$work/ours" --index hnsw --m 16 --ef-construction 200 2>&1 | tail -1
$bin rag compact --collection "$work/ours" > /dev/null 2>&1 || true
echo "ours: ingested in $((SECONDS - start)) s"
$bin serve --collection "$work/ours" --port "$ours_port" > "$work/ours.log" 2>&1 &
pids+=($!)
"$(dirname "$py")/chroma" run --path "$work/chroma" --port "$chroma_port" > "$work/chroma.log" 2>&1 &
pids+=($!)
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$chroma_port/api/v2/heartbeat" > /dev/null && break; sleep 0.1; done
start=$SECONDS
id=$(cd Benchmarks/serve && "$py" chroma_setup.py "$chroma_port" "$docs" "$vectors" 16 200 64)
echo "chroma: loaded in $((SECONDS - start)) s (collection $id)"
for _ in $(seq 100); do grep -q "listening on" "$work/ours.log" && break; sleep 0.1; done

ours=http://127.0.0.1:$ours_port
chroma=http://127.0.0.1:$chroma_port/api/v2/tenants/default_tenant/databases/default_database/collections/$id
python3 Benchmarks/serve/serve_client.py bodies "$queries" 64 "$work/ours.jsonl"
python3 Benchmarks/serve/serve_client.py chroma-bodies "$queries" "$work/chroma.jsonl"
# The first search loads our collection's index; both answer every query once before timing.
python3 Benchmarks/serve/serve_client.py recall-documents ours "$ours/v1/search" "$work/ours.jsonl" "$groundtruth"
python3 Benchmarks/serve/serve_client.py recall-documents chroma "$chroma/query" "$work/chroma.jsonl" "$groundtruth"

load() {  # ENGINE CLIENTS LABEL
  local engine=$1 clients=$2 label=$3 url path
  if [ "$engine" = ours ]; then url=$ours path=/v1/search; else url=http://127.0.0.1:$chroma_port path=${chroma#http://127.0.0.1:$chroma_port}/query; fi
  BODIES=$work/$engine.jsonl REQUEST_PATH=$path wrk -t $((clients < 2 ? 1 : 2)) -c "$clients" -d "${duration}s" --latency \
    -s Benchmarks/serve/search.lua "$url" |
    awk -v e="$engine" -v c="$clients" -v l="$label" '/^RESULT/ {
      for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
      printf "%s %s %d %.0f %s %s %d\n", e, l, c, v["requests"] / v["seconds"], v["p50_ms"], v["p99_ms"], v["errors"] + v["non2xx"] }'
}

echo "engine load clients q/s p50_ms p99_ms errors"
for round in $(seq "$rounds"); do
  for clients in 1 4 16; do
    for engine in ours chroma; do load "$engine" "$clients" search; done
  done
  for engine in ours chroma; do
    if [ "$engine" = ours ]; then url=$ours; else url=$chroma; fi
    python3 Benchmarks/serve/serve_client.py writer "$engine" "$url" "$vectors" "$duration" "$writes" "$work/writer.txt" &
    writer=$!
    load "$engine" 4 "search+${writes}w/s"
    wait "$writer"
    echo "  $engine $(cat "$work/writer.txt")"
  done
done
