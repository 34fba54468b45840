#!/usr/bin/env bash
# Makes Benchmarks/peers/.venv-eval for the retrieval-evaluation checks: pytrec-eval-terrier
# (trec_eval's code), numpy, matplotlib, and LlamaIndex's adapter fine-tuning with its
# HuggingFace embeddings (torch, sentence-transformers). Skips the install when the venv
# already imports everything.
set -euo pipefail
cd "$(dirname "$0")"
PY=.venv-eval/bin/python
[ -x "$PY" ] || python3 -m venv .venv-eval
[ -f .venv-eval/.gitignore ] || echo '*' > .venv-eval/.gitignore
CHECK='import pytrec_eval, numpy, matplotlib, torch
from llama_index.finetuning import EmbeddingAdapterFinetuneEngine
from llama_index.embeddings.huggingface import HuggingFaceEmbedding'
if ! "$PY" -c "$CHECK" 2>/dev/null; then
  "$PY" -m pip install -q --upgrade pip
  # llama-index-finetuning 0.4.2 imports mistralai's 1.x API.
  "$PY" -m pip install -q pytrec-eval-terrier numpy matplotlib llama-index-finetuning llama-index-embeddings-huggingface "mistralai<2"
fi
"$PY" -c "$CHECK
from importlib.metadata import version
print(' '.join(f'{p} {version(p)}' for p in ['pytrec-eval-terrier', 'llama-index-finetuning', 'llama-index-core', 'torch', 'sentence-transformers', 'numpy']))"
