#!/usr/bin/env bash
# `vectorsearch serve` under load against in-process search, interleaved, on one machine:
#   bash Benchmarks/serve-load.sh INDEX QUERIES GROUNDTRUTH [EF] [ROUNDS]
# Checks first that answers over HTTP are the in-process answers (recall@10 against the ground
# truth too). Then, each round: in-process single-query searches (`vectorsearch search
# --threads 1` and `--threads 2`, queries tiled 20×), and wrk (Debian's wrk) POSTing the
# queries to /v1/search with 1, 4 and 16 connections for DURATION seconds (default 10).
# wrk runs on the same 2 cores as the server, so every HTTP figure pays for its client too.
set -euo pipefail
cd "$(dirname "$0")/.."
index=${1:?usage: serve-load.sh INDEX QUERIES GROUNDTRUTH [EF] [ROUNDS]}
queries=${2:?}
groundtruth=${3:?}
ef=${4:-64}
rounds=${5:-2}
duration=${DURATION:-10}
port=${PORT:-18080}
command -v wrk > /dev/null || { echo "needs wrk (apt-get install wrk)" >&2; exit 1; }
swift build -c release --product vectorsearch > /tmp/serve-bench-build.log 2>&1 || { tail -30 /tmp/serve-bench-build.log; exit 1; }
bin=.build/release/vectorsearch
work=$(mktemp -d)
trap 'kill $server 2> /dev/null || true; rm -rf "$work"' EXIT
python3 Benchmarks/serve/serve_client.py bodies "$queries" "$ef" "$work/bodies.jsonl"
python3 Benchmarks/serve/serve_client.py tile "$queries" 20 "$work/tiled.fvecs"
$bin search --index "$index" --queries "$queries" --ef "$ef" --output "$work/local.ivecs" 2> /dev/null

$bin serve --index "$index" --port "$port" > "$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 100); do grep -q "listening on" "$work/serve.log" && break; sleep 0.1; done
cat "$work/serve.log"
url=http://127.0.0.1:$port
python3 Benchmarks/serve/serve_client.py recall "$url" "$work/bodies.jsonl" "$groundtruth" "$work/local.ivecs"

echo "mode clients q/s p50_ms p99_ms errors"
for round in $(seq "$rounds"); do
  for threads in 1 2; do
    qps=$($bin search --index "$index" --queries "$work/tiled.fvecs" --ef "$ef" --threads "$threads" 2>&1 > /dev/null |
      sed -n 's/.*(\([0-9]*\) queries\/s).*/\1/p')
    echo "in-process $threads $qps - - 0"
  done
  for clients in 1 4 16; do
    wrk_threads=$((clients < 2 ? 1 : 2))
    BODIES=$work/bodies.jsonl wrk -t "$wrk_threads" -c "$clients" -d "${duration}s" --latency -s Benchmarks/serve/search.lua "$url" |
      awk -v c="$clients" '/^RESULT/ {
        for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        printf "http %d %.0f %s %s %d\n", c, v["requests"] / v["seconds"], v["p50_ms"], v["p99_ms"], v["errors"] + v["non2xx"] }'
  done
done
grep -E "^vectorsearch_requests_total" <(curl -s "$url/metrics") | grep -v " 0$" || true
