#!/usr/bin/env bash
# Checks `vectorsearch serve` against its OpenAPI document (docs/openapi.json) with schemathesis
# (PyPI): requests generated from the document, valid and broken, sent to a server over an HNSW
# index and to one over a collection (both with an API key), each answer checked: no 5xx, a status,
# content type and body that the document declares, broken requests refused with a 4xx.
# usage: scripts/check-openapi.sh [EXAMPLES per operation and phase, default 60]
set -euo pipefail
cd "$(dirname "$0")/.."
examples=${1:-60}
bash scripts/install-deps.sh
venv=$PWD/.build/openapi-venv
if [ ! -x $venv/bin/schemathesis ]; then
  python3 -m venv $venv
  $venv/bin/pip install -q "schemathesis==4.32.5"
fi
swift build -c release --product vectorsearch 2>&1 | tail -n 1
bin=.build/release/vectorsearch
data=data/pypi-minilm-2k
work=$(mktemp -d)
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

$bin build --input $data/base.fvecs --metadata $data/meta.jsonl --index hnsw --metric cosine --output "$work/index.vsidx" > /dev/null
$bin rag ingest --documents $data/meta.jsonl --embeddings $data/base.fvecs --collection "$work/kb" --index hnsw > /dev/null

# Starts `serve` with the given arguments on a free port; sets $server and $address.
start() {
  "$bin" serve --port 0 "$@" > "$work/serve.out" 2> "$work/serve.err" &
  server=$!
  for _ in $(seq 300); do
    address=$(sed -n 's/^listening on \(http[^ ]*\).*/\1/p' "$work/serve.out")
    [ -n "$address" ] && return
    kill -0 "$server" 2>/dev/null || { cat "$work/serve.err" >&2; exit 1; }
    sleep 0.1
  done
  echo "serve did not start" >&2
  exit 1
}

# positive_data_acceptance is left out: the document cannot say that a vector must have the
# index's dimension, or that a document id must exist, so valid-looking requests are refused
# (400, 404) as they should be.
checks=not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,negative_data_rejection
status=0
for target in index collection; do
  # With an API key, as the document declares (without one, every endpoint is open).
  key=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
  if [ $target = index ]; then
    VECTORSEARCH_API_KEY=$key start --index "$work/index.vsidx"
  else
    VECTORSEARCH_API_KEY=$key start --collection "$work/kb"
  fi
  echo "--- schemathesis against serve --$target ($address), $examples examples per operation ---"
  # From the scratch folder: schemathesis writes a .schemathesis folder where it runs.
  (cd "$work" && $venv/bin/schemathesis --no-color run "$address/openapi.json" --checks "$checks" --max-examples "$examples" --seed 1 \
    --workers 1 --request-timeout 30 --suppress-health-check all --generation-database none \
    --header "Authorization: Bearer $key") || status=1
  kill "$server"
  wait "$server" 2>/dev/null || true
  server=""
done
exit $status
