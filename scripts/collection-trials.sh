#!/usr/bin/env bash
# Collections under concurrent processes and kill -9 (docs/RELIABILITY.md, issue 21).
#   update‖update  two `rag update` processes on different documents, the second started 0-200 ms
#                  after the first: both must succeed and both changes be there.
#   update‖delete  an update of one document and a delete of another, likewise; no deleted
#                  document of any earlier trial may come back.
#   ingest‖ingest  two `rag ingest` runs of 150 different documents each into one new collection:
#                  all 300 documents there.
#   kill -9        a loop of `rag update` commands (each a different document) with a `rag compact`
#                  every third command, killed at a random moment: every update acknowledged
#                  before the kill is there, the one in flight is old or new, nothing else changed,
#                  text and metadata of each document from the same version.
# After every trial `rag check` must pass (the database, FTS5 and the index agree).
# usage: scripts/collection-trials.sh [TRIALS per concurrent kind, default 100] [KILL TRIALS, default 200]
set -euo pipefail
cd "$(dirname "$0")/.."
trials=${1:-100} kills=${2:-200}
swift build -c release --product vectorsearch > /dev/null
bin=$PWD/.build/release/vectorsearch
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" gen --n 300 --dim 32 --queries 1 --clusters 8 --output "$work/data" 2> /dev/null

# docs.jsonl: d0..d299 at version 0; doc.py ID VERSION writes one document at a version.
cat > "$work/doc.py" <<'PY'
import struct, sys
work, ids, version, out = sys.argv[1], sys.argv[2].split(","), int(sys.argv[3]), sys.argv[4]
raw = open(f"{work}/data/base.fvecs", "rb").read()
row = 4 + 32 * 4
with open(out, "w") as f:
    for name in ids:
        i = int(name[1:])
        v = struct.unpack_from("<32f", raw, i * row + 4)
        v = [x + 0.001 * version for x in v]
        f.write('{"id": "%s", "text": "%s version %d", "version": %d, "embedding": [%s]}\n'
                % (name, name, version, version, ", ".join("%.6f" % x for x in v)))
PY
# state.py KB: prints "id version" per document, failing if text and metadata disagree or a
# document has other than one chunk.
cat > "$work/state.py" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}/collection.sqlite?mode=ro", uri=True)
for id, metadata in db.execute("SELECT id, metadata FROM documents ORDER BY id"):
    texts = [t for (t,) in db.execute("SELECT text FROM chunks WHERE document = ?", (id,))]
    version = json.loads(metadata)["version"]
    if texts != [f"{id} version {version}"]:
        sys.exit(f"{id}: metadata says version {version}, chunks {texts}")
    print(id, version)
PY
all=$(seq -s, 0 299 | sed 's/\([0-9]\+\)/d\1/g')
python3 "$work/doc.py" "$work" "$all" 0 "$work/docs.jsonl"
fresh() { rm -rf "$1"; "$bin" rag ingest --documents "$work/docs.jsonl" --collection "$1" --index hnsw 2> /dev/null; }
version_of() { python3 "$work/state.py" "$1" | awk -v d="$2" '$1 == d { print $2 }'; }
check() { "$bin" rag check --collection "$1" > /dev/null 2>&1 || { echo "trial $2: rag check failed" >&2; "$bin" rag check --collection "$1"; exit 1; }; }
pause() { sleep "$(awk -v r="$RANDOM" -v m="$1" 'BEGIN { printf "%.3f", m * r / 32768 }')"; }

kb=$work/kb
fresh "$kb"
for t in $(seq "$trials"); do
  a=d$((t % 150)) b=d$((150 + t % 150))
  python3 "$work/doc.py" "$work" "$a" "$t" "$work/a.jsonl"
  python3 "$work/doc.py" "$work" "$b" "$t" "$work/b.jsonl"
  "$bin" rag update --documents "$work/a.jsonl" --collection "$kb" > /dev/null 2>&1 & p=$!
  pause 0.2
  "$bin" rag update --documents "$work/b.jsonl" --collection "$kb" > /dev/null 2>&1 || { echo "update‖update $t: the second update failed" >&2; exit 1; }
  wait $p || { echo "update‖update $t: the first update failed" >&2; exit 1; }
  [ "$(version_of "$kb" "$a")" = "$t" ] && [ "$(version_of "$kb" "$b")" = "$t" ] || { echo "update‖update $t: a change is missing" >&2; exit 1; }
  check "$kb" "update‖update $t"
done
echo "update‖update: $trials trials, both changes kept in $trials, collection checked after each"

fresh "$kb"
deleted=()
for t in $(seq "$trials"); do
  a=d$((200 + t % 100)) gone=d$((t - 1))
  python3 "$work/doc.py" "$work" "$a" "$t" "$work/a.jsonl"
  "$bin" rag update --documents "$work/a.jsonl" --collection "$kb" > /dev/null 2>&1 & p=$!
  pause 0.2
  "$bin" rag delete --collection "$kb" --id "$gone" > /dev/null 2>&1 || { echo "update‖delete $t: the delete failed" >&2; exit 1; }
  wait $p || { echo "update‖delete $t: the update failed" >&2; exit 1; }
  deleted+=("$gone")
  [ "$(version_of "$kb" "$a")" = "$t" ] || { echo "update‖delete $t: the update is missing" >&2; exit 1; }
  present=$(python3 "$work/state.py" "$kb" | awk '{ print $1 }')
  for d in "${deleted[@]}"; do
    if grep -qx "$d" <<< "$present"; then echo "update‖delete $t: deleted $d came back" >&2; exit 1; fi
  done
  check "$kb" "update‖delete $t"
done
echo "update‖delete: $trials trials, the update kept and no deleted document back in $trials, collection checked after each"

first=$(seq -s, 0 149 | sed 's/\([0-9]\+\)/d\1/g') second=$(seq -s, 150 299 | sed 's/\([0-9]\+\)/d\1/g')
python3 "$work/doc.py" "$work" "$first" 0 "$work/first.jsonl"
python3 "$work/doc.py" "$work" "$second" 0 "$work/second.jsonl"
for t in $(seq "$trials"); do
  rm -rf "$kb"
  "$bin" rag ingest --documents "$work/first.jsonl" --collection "$kb" --index hnsw > /dev/null 2>&1 & p=$!
  pause 0.1
  "$bin" rag ingest --documents "$work/second.jsonl" --collection "$kb" --index hnsw > /dev/null 2>&1 || { echo "ingest‖ingest $t: the second ingest failed" >&2; exit 1; }
  wait $p || { echo "ingest‖ingest $t: the first ingest failed" >&2; exit 1; }
  count=$(python3 "$work/state.py" "$kb" | wc -l)
  [ "$count" = 300 ] || { echo "ingest‖ingest $t: $count documents, not 300" >&2; exit 1; }
  check "$kb" "ingest‖ingest $t"
done
echo "ingest‖ingest: $trials trials, all 300 documents in $trials, collection checked after each"

# kill -9: each trial's loop updates d0, d1, ... to the trial's number (one command each), with a
# compact after every third, and is killed after up to 1.5 s.
fresh "$kb"
python3 "$work/state.py" "$kb" > "$work/before"
inflight_new=0 inflight_old=0 acked_total=0
for t in $(seq "$kills"); do
  : > "$work/acked"
  setsid bash -c '
    for k in $(seq 0 299); do
      python3 "$0/doc.py" "$0" "d$k" "$1" "$0/u.jsonl"
      echo "d$k" > "$0/inflight"
      "$2" rag update --documents "$0/u.jsonl" --collection "$3" > /dev/null 2>&1 || exit 1
      echo "d$k" >> "$0/acked"
      if [ $((k % 3)) = 2 ]; then "$2" rag compact --collection "$3" > /dev/null 2>&1 || exit 1; fi
    done' "$work" "$t" "$bin" "$kb" & loop=$!
  pause 1.5
  kill -9 -- -"$loop" 2> /dev/null || true
  wait "$loop" 2> /dev/null || true
  python3 "$work/state.py" "$kb" > "$work/after" || { echo "kill $t: text and metadata disagree" >&2; exit 1; }
  check "$kb" "kill $t"
  inflight=$(cat "$work/inflight" 2> /dev/null || true)
  while read -r id version; do
    old=$(awk -v d="$id" '$1 == d { print $2 }' "$work/before")
    if grep -qx "$id" "$work/acked"; then
      [ "$version" = "$t" ] || { echo "kill $t: acknowledged update of $id lost (version $version)" >&2; exit 1; }
    elif [ "$id" = "$inflight" ]; then
      if [ "$version" = "$t" ]; then inflight_new=$((inflight_new + 1));
      elif [ "$version" = "$old" ]; then inflight_old=$((inflight_old + 1));
      else echo "kill $t: $id in flight at version $version, neither $old nor $t" >&2; exit 1; fi
    else
      [ "$version" = "$old" ] || { echo "kill $t: $id changed to $version without an update" >&2; exit 1; }
    fi
  done < "$work/after"
  [ "$(wc -l < "$work/after")" = 300 ] || { echo "kill $t: documents lost" >&2; exit 1; }
  acked_total=$((acked_total + $(wc -l < "$work/acked")))
  rm -f "$work/inflight"
  cp "$work/after" "$work/before"
done
echo "kill -9: $kills trials, $acked_total acknowledged updates all kept; the update in flight old in $inflight_old, new in $inflight_new; nothing half-applied; collection checked after each"
