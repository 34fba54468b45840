#!/usr/bin/env bash
# Retrieval evaluation and the query adapter on a BEIR dataset with train/dev/test qrels (issue 23;
# made for manpages-qa): the corpus ingested with the built-in model (HNSW collection), `rag tune`
# on train (chosen on dev), then `rag eval` on test for exact, HNSW, IVF, hybrid and MMR, each
# with and without the adapter; every value re-computed by pytrec_eval (eval-vs-pytrec.py);
# LlamaIndex's EmbeddingAdapterFinetuneEngine trained on the same pairs (peers/llamaindex_adapter.py,
# its default learning rate and a larger one), imported into copies of the collection and scored
# by the same `rag eval`; the adapters' table (peers/adapter_table.py) and a plot. Outputs go to
# RESULTS (default Benchmarks/results/rag-eval).
# usage: Benchmarks/rag-eval.sh BEIR_DIR [MODEL_DIR=~/.cache/vectorsearch/all-MiniLM-L6-v2]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 1 ] || { sed -n 2,10p "$0" | sed 's/^# \{0,1\}//'; exit 2; }
beir=$(cd "$1" && pwd)
model=${2:-$HOME/.cache/vectorsearch/all-MiniLM-L6-v2}
results=${RESULTS:-$here/results/rag-eval}
vs=$here/../.build/release/vectorsearch
[ -x "$vs" ] || (cd "$here/.." && swift build -c release --product vectorsearch >/dev/null)
bash "$here/peers/setup-eval.sh"
py=$here/peers/.venv-eval/bin/python
rm -rf "$results" && mkdir -p "$results"
kb=$results/kb
queries=(--queries "$beir/queries.jsonl")

echo "== ingest"
"$vs" rag ingest --beir "$beir" --collection "$kb" --index hnsw --model "$model" 2>&1 | tail -1
echo "== rag tune (train, chosen on dev)"
/usr/bin/time -f "rag tune: %e s wall, %M KB peak" "$vs" rag tune --collection "$kb" "${queries[@]}" \
  --qrels "$beir/qrels/train.tsv" --validate "$beir/qrels/dev.tsv" --model "$model" 2>&1 | grep -v '^embedding' | tee "$results/tune.txt"
echo "== rag eval (test)"
configs=()
for c in "exact,index=exact" "hnsw,ef=64" "ivf,index=ivf,nprobe=8" "hybrid,index=exact,hybrid" "mmr,index=exact,mmr=0.7"; do
  name=${c%%,*} rest=${c#*,}
  configs+=(--config "name=$name,$rest" --config "name=$name+adapter,$rest,adapter")
done
"$vs" rag eval --collection "$kb" "${queries[@]}" --qrels "$beir/qrels/test.tsv" --model "$model" "${configs[@]}" \
  --json "$results/test.json" --run "$results/test.run" 2>/dev/null | tee "$results/test.txt"
echo "== pytrec_eval"
"$py" "$here/eval-vs-pytrec.py" "$beir/qrels/test.tsv" "$results/test.run" "$results/test.json" | tee "$results/pytrec.txt"
"$py" "$here/plot_eval.py" "$results/test.json" "$results/test.png"

echo "== LlamaIndex's adapter on the same pairs"
# Its default learning rate (2e-5) at 1, 4 and 10 epochs, and 1e-3 at 4 (1e-2 was tried: it overfits).
for run in "--epochs 1 4 10 --lr 2e-5" "--epochs 4 --lr 1e-3"; do
  # shellcheck disable=SC2086
  "$py" "$here/peers/llamaindex_adapter.py" "$kb" "$beir" "$model" "$results/llama" $run 2>&1 \
    | grep -E "training queries|trained in" | tee -a "$results/llama.txt"
done
peers=()
for w in "$results"/llama-e*.npy; do
  label=$(basename "$w" .npy)
  rm -rf "$results/kb-$label" && cp -r "$kb" "$results/kb-$label"
  "$vs" rag tune --collection "$results/kb-$label" --import "$w" 2>/dev/null
  "$vs" rag eval --collection "$results/kb-$label" "${queries[@]}" --qrels "$beir/qrels/test.tsv" --model "$model" \
    --config "name=$label,index=exact,adapter" --json "$results/$label.json" >/dev/null 2>&1
  rm -rf "$results/kb-$label"
  peers+=("LlamaIndex $label=$results/$label.json:$label")
done
"$py" "$here/peers/adapter_table.py" exact "$results/test.json:exact+adapter" "${peers[@]}" | tee "$results/adapters.md"
