#!/usr/bin/env bash
# Makes Benchmarks/peers/.venv-embed with the embedding peers from PyPI
# (onnxruntime, onnx, sentence-transformers, torch, numpy, tokenizers).
# Skips the install when the venv already imports everything.
set -euo pipefail
cd "$(dirname "$0")"
PY=.venv-embed/bin/python
[ -x "$PY" ] || python3 -m venv .venv-embed
CHECK='import onnxruntime, onnx, sentence_transformers, torch, numpy, tokenizers, transformers'
if ! "$PY" -c "$CHECK" 2>/dev/null; then
  "$PY" -m pip install -q --upgrade pip
  "$PY" -m pip install -q onnxruntime onnx sentence-transformers torch numpy tokenizers
fi
"$PY" -c "$CHECK
print('onnxruntime', onnxruntime.__version__, 'onnx', onnx.__version__, 'torch', torch.__version__,
      'sentence-transformers', sentence_transformers.__version__, 'transformers', transformers.__version__,
      'tokenizers', tokenizers.__version__, 'numpy', numpy.__version__)"
