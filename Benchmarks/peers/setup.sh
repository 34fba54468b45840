#!/usr/bin/env bash
# Makes Benchmarks/peers/.venv with the peer engines from PyPI (faiss-cpu, hnswlib, usearch).
set -euo pipefail
cd "$(dirname "$0")"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --upgrade faiss-cpu hnswlib usearch numpy
.venv/bin/python -c "import faiss, numpy; print('faiss', faiss.__version__, 'numpy', numpy.__version__)"
