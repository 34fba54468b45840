#!/usr/bin/env bash
# kill -9 at random moments (docs/RELIABILITY.md): every outcome must be the old state or the new,
# never a broken file or a lost collection.
#   build: `vectorsearch build --output I` over an existing index I (old: 2,000 vectors, new: 3,000);
#          after each kill, I must load and hold 2,000 or 3,000 vectors.
#   update: `vectorsearch rag update` of one document of a collection; after each kill, the
#          collection must open with every document, the updated one old or new.
# usage: scripts/kill-trials.sh [TRIALS per kind, default 100]
set -euo pipefail
cd "$(dirname "$0")/.."
trials=${1:-100}
swift build -c release --product vectorsearch > /dev/null
bin=$PWD/.build/release/vectorsearch
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" gen --n 3000 --dim 64 --queries 1 --clusters 8 --output "$work/data" 2> /dev/null
python3 - "$work" <<'PY'
import struct, sys
work = sys.argv[1]
raw = open(f"{work}/data/base.fvecs", "rb").read()
row = 4 + 64 * 4
open(f"{work}/old.fvecs", "wb").write(raw[: 2000 * row])
lines = []
for i in range(300):
    vector = struct.unpack_from("<64f", raw, i * row + 4)
    lines.append('{"id": "d%d", "text": "document %d", "embedding": [%s]}' % (i, i, ", ".join("%.6f" % v for v in vector)))
open(f"{work}/docs.jsonl", "w").write("\n".join(lines) + "\n")
v = struct.unpack_from("<64f", raw, 2999 * row + 4)
open(f"{work}/update.jsonl", "w").write('{"id": "d7", "text": "updated", "embedding": [%s]}\n' % ", ".join("%.6f" % x for x in v))
PY
# A random delay in [0, the command's own duration): the kill lands anywhere in it.
duration() { local s=$(date +%s%N); "$@" > /dev/null 2>&1; echo $(( ($(date +%s%N) - s) / 1000 )); }

"$bin" build --input "$work/old.fvecs" --index hnsw --output "$work/index.vsidx" 2> /dev/null
span=$(duration "$bin" build --input "$work/data/base.fvecs" --index hnsw --output "$work/probe.vsidx")
old=0 new=0
for t in $(seq "$trials"); do
  "$bin" build --input "$work/old.fvecs" --index hnsw --output "$work/index.vsidx" 2> /dev/null
  "$bin" build --input "$work/data/base.fvecs" --index hnsw --output "$work/index.vsidx" > /dev/null 2>&1 &
  pid=$!
  sleep "$(awk -v s="$span" -v r="$RANDOM" 'BEGIN { printf "%.6f", s * r / 32768 / 1e6 }')"
  kill -9 "$pid" 2> /dev/null || true
  wait "$pid" 2> /dev/null || true
  count=$("$bin" search --index "$work/index.vsidx" --queries "$work/data/query.fvecs" --k 100000 --output "$work/o.ivecs" 2>&1 > /dev/null && python3 -c "import os; print(os.path.getsize('$work/o.ivecs') // 4 - 1)")
  case $count in
    2000) old=$((old + 1)) ;;
    3000) new=$((new + 1)) ;;
    *) echo "build trial $t: the index holds '$count' vectors, neither the old nor the new" >&2; exit 1 ;;
  esac
done
echo "build --output killed at random, $trials trials: old index $old, new index $new, broken 0"

kb=$work/kb
"$bin" rag ingest --documents "$work/docs.jsonl" --collection "$kb" --index flat 2> /dev/null
span=$(duration "$bin" rag update --documents "$work/update.jsonl" --collection "$kb")
old=0 new=0
for t in $(seq "$trials"); do
  rm -rf "$kb"
  "$bin" rag ingest --documents "$work/docs.jsonl" --collection "$kb" --index flat 2> /dev/null
  "$bin" rag update --documents "$work/update.jsonl" --collection "$kb" > /dev/null 2>&1 &
  pid=$!
  sleep "$(awk -v s="$span" -v r="$RANDOM" 'BEGIN { printf "%.6f", s * r / 32768 / 1e6 }')"
  kill -9 "$pid" 2> /dev/null || true
  wait "$pid" 2> /dev/null || true
  state=$("$bin" rag query --collection "$kb" --vector "$work/data/base.fvecs:2999" --k 300 --json 2>&1 | python3 -c '
import json, sys
report = json.load(sys.stdin)
documents = {c["document"]: c["text"] for c in report["chunks"]}
assert len(documents) == 300, len(documents)
print({"document 7": "old", "updated": "new"}[documents["d7"]])' 2>&1) || state="broken: $state"
  case $state in
    old) old=$((old + 1)) ;;
    new) new=$((new + 1)) ;;
    *) echo "update trial $t: $state" >&2; exit 1 ;;
  esac
done
echo "rag update killed at random, $trials trials: old collection $old, new collection $new, broken 0"
