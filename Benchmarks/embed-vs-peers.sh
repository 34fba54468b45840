#!/usr/bin/env bash
# The built-in sentence embedder against ONNX Runtime and sentence-transformers (PyTorch CPU) on
# the same model directory and texts: short (first 5,000 texts of META) and long (500 texts of 8
# joined), 1 and 2 threads, batch 32 and 128, the three systems interleaved within each repeat.
# Then texts/s, load time and peak memory per system, ours / peer ratios, and how closely the
# three agree on the vectors.
# usage: Benchmarks/embed-vs-peers.sh META.jsonl [REPEATS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
meta=$1 repeats=${2:-2}
bash "$here/../scripts/fetch-model.sh" >/dev/null
model=${VECTORSEARCH_MODEL:-$HOME/.cache/vectorsearch/all-MiniLM-L6-v2}
bash "$here/peers/setup-embed.sh"
py="$here/peers/.venv-embed/bin/python"
(cd "$here/.." && swift build -c release --product vectorsearch >/dev/null)
bin="$here/../.build/release/vectorsearch"
out="$here/results/embed"
mkdir -p "$out"
[ -f "$out/minilm.onnx" ] || "$py" "$here/peers/export_onnx.py" "$model" "$out/minilm.onnx"
"$py" "$here/peers/make_embed_texts.py" "$meta" "$out"
for r in $(seq 1 "$repeats"); do
  echo "== repeat $r"
  for set in short5k long500; do
    for threads in 1 2; do
      for batch in 32 128; do
        tag="$set-t$threads-b$batch"
        "$bin" embed --input "$out/$set.jsonl" --output "$out/vectorsearch-$set.fvecs" --model "$model" \
          --batch "$batch" --threads "$threads" --json "$out/vectorsearch-$tag-$r.json" 2>&1 | tail -1
        "$py" "$here/peers/embed_peers.py" ort --onnx "$out/minilm.onnx" --model-dir "$model" \
          --texts "$out/$set.jsonl" --batch "$batch" --threads "$threads" --json "$out/onnxruntime-$tag-$r.json" \
          --write-fvecs "$out/onnxruntime-$set.fvecs"
        "$py" "$here/peers/embed_peers.py" st --model-dir "$model" \
          --texts "$out/$set.jsonl" --batch "$batch" --threads "$threads" --json "$out/sentence-transformers-$tag-$r.json" \
          --write-fvecs "$out/sentence-transformers-$set.fvecs"
      done
    done
  done
done
"$py" "$here/peers/embed_table.py" "$out"
