#!/usr/bin/env bash
# Every engine on one ann-benchmarks HDF5 file, interleaved over repeats, then the plots and the
# table. HNSW: ours, hnswlib, FAISS IndexHNSWFlat and USearch (M 16, efConstruction 200, one ef
# sweep); IVF: ours and FAISS IndexIVFFlat (the nlist ours reports, by default 4·√N, and the same
# training sample; one nprobe sweep). Builds and batches on --threads threads; single queries one
# at a time on one thread (peers: one native batch call with one thread).
# Filtered track: --filter-selectivity 0.5,0.1,0.01,0.001 measures every engine again under each
# filter `bench_label < s·100000` (the same labels everywhere, exact filtered ground truth):
# hnswlib's filter callable, FAISS's IDSelectorBitmap, USearch's filtered_search predicate; and
# --metadata M.jsonl (one object per train row) --filter JSON [--filter JSON ...] real filters.
# Writes Benchmarks/results/<dataset>/<index>/<system>-<repeat>.json (the schema of bench --json),
# plot.png, plot.svg and table.md beside them (and plot-filtered.*, table-filtered.md).
# usage: Benchmarks/compare.sh DATASET.hdf5 [--index hnsw|ivf] [--repeats 3] [--threads 2] [--sweep LIST] [--nlist N]
#                              [--filter-selectivity LIST] [--metadata M.jsonl --filter JSON ...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 1 ] || { sed -n 2,15p "$0" | sed 's/^# \{0,1\}//'; exit 2; }
dataset=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); shift
index=hnsw repeats=3 threads=2 sweep="" nlist="" filters=()
while [ $# -gt 0 ]; do
  case $1 in
    --index) index=$2 ;;
    --repeats) repeats=$2 ;;
    --threads) threads=$2 ;;
    --sweep) sweep=$2 ;;
    --nlist) nlist=$2 ;;
    --filter-selectivity|--metadata|--filter) filters+=("$1" "$2") ;;
    *) echo "compare.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done
bash "$here/peers/setup.sh" >/dev/null
py="$here/peers/.venv/bin/python"
(cd "$here/.." && swift build -c release --product vectorsearch >/dev/null)
bin="$here/../.build/release/vectorsearch"
name=$(basename "$dataset"); name=${name%.*}
out="$here/results/$name/$index"
mkdir -p "$out"
case $index in
  hnsw)
    sweep=${sweep:-10,16,32,48,64,96,128,256,512}
    ours=(--index hnsw --m 16 --ef-construction 200 --sweep-ef "$sweep")
    theirs=(--m 16 --ef-construction 200 --sweep-ef "$sweep")
    peers=(hnswlib faiss usearch) ;;
  ivf)
    sweep=${sweep:-1,2,4,8,16,32,64,128,256}
    # Without --nlist ours picks its default and FAISS then gets the nlist ours reports.
    ours=(--index ivf ${nlist:+--nlist "$nlist"} --sweep-nprobe "$sweep")
    theirs=(--sweep-nprobe "$sweep")
    peers=(faiss-ivf) ;;
  *) echo "compare.sh: --index is hnsw or ivf" >&2; exit 2 ;;
esac
for r in $(seq 1 "$repeats"); do
  echo "== repeat $r of $repeats"
  "$bin" bench --dataset "$dataset" "${ours[@]}" --k 10 --threads "$threads" --build-threads "$threads" --runs 1 \
    ${filters[@]+"${filters[@]}"} --json "$out/vectorsearch-$r.json" > "$out/vectorsearch-$r.log" 2>&1 || { cat "$out/vectorsearch-$r.log"; exit 1; }
  grep -E "^build|at recall|^filter" "$out/vectorsearch-$r.log" || true
  if [ "$index" = ivf ]; then
    nlist=$("$py" -c "import json, sys; print(json.load(open(sys.argv[1]))['build']['nlist'])" "$out/vectorsearch-$r.json")
    theirs=(--nlist "$nlist" --sweep-nprobe "$sweep")
  fi
  for system in "${peers[@]}"; do
    "$py" "$here/peers/peers.py" "$system" --dataset "$dataset" "${theirs[@]}" --k 10 --threads "$threads" \
      ${filters[@]+"${filters[@]}"} --json "$out/$system-$r.json" | sed 's/; \(ef\|nprobe\)=.*; at/; at/' | cut -c1-200
  done
done
"$py" "$here/plot.py" "$out" --title "$name, $index, k=10"
"$py" "$here/peers/table.py" "$out" > "$out/table.md"
cat "$out/table.md"
if [ ${#filters[@]} -gt 0 ]; then
  "$py" "$here/peers/filtered_table.py" "$out" > "$out/table-filtered.md"
  cat "$out/table-filtered.md"
fi
echo "wrote $out/plot.png, $out/plot.svg and $out/table.md${filters[@]+ (and plot-filtered.*, table-filtered.md)}"
