#!/usr/bin/env bash
# Fuzzes the readers of untrusted input with libFuzzer under AddressSanitizer (Fuzz/, its own
# package). usage: scripts/fuzz.sh [TARGET|all] [SECONDS per target, default 20]; a target also stops
# after 10 million inputs.
# Targets: index index-sealed index-mapped fvecs bvecs ivecs fbin npy jsonl metadata filter safetensors
# wordpiece documents beir qrels configuration (beir: a BEIR corpus and queries file, qrels: judgments,
# configuration: a rag eval --config; index-sealed rewrites the checksums of each input, so mutations reach the
# loaders' structural checks; index-mapped does too, opens the file memory-mapped, searches and adds).
# Each run starts from the committed seeds (Fuzz/Corpus/TARGET) plus what earlier runs found
# (.build-fuzz/corpus/TARGET, not committed); an input that crashes, leaks, runs out of memory or
# takes over a second fails the run and is kept as .build-fuzz/artifacts/TARGET-*.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:-all} seconds=${2:-20}
all=(index index-sealed index-mapped fvecs bvecs ivecs fbin npy jsonl metadata filter safetensors wordpiece documents beir qrels configuration)
[ "$target" = all ] && targets=("${all[@]}") || targets=("$target")
bash scripts/install-deps.sh
swift build --package-path Fuzz -c debug --scratch-path .build-fuzz/build \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
bin=.build-fuzz/build/debug/vsfuzz
status=0
for t in "${targets[@]}"; do
  corpus=.build-fuzz/corpus/$t
  mkdir -p "$corpus" .build-fuzz/artifacts
  log=.build-fuzz/$t.log
  seeds=Fuzz/Corpus/${t%-*}
  start=$SECONDS
  if VSFUZZ_TARGET=$t "$bin" "$corpus" "$seeds" -max_total_time="$seconds" -runs=10000000 -timeout=1 -rss_limit_mb=2048 \
      -artifact_prefix=".build-fuzz/artifacts/$t-" -print_final_stats=1 > "$log" 2>&1; then
    result=ok
  else
    result=FAILED; status=1
    tail -n 30 "$log" >&2
  fi
  runs=$(grep -oE 'stat::number_of_executed_units: [0-9]+' "$log" | grep -oE '[0-9]+$' || echo "?")
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || echo "?")
  echo "fuzz $t: $result, $runs inputs in $((SECONDS - start)) s, coverage $cov edges, corpus $(ls "$corpus" | wc -l) files"
done
exit $status
