#!/usr/bin/env bash
# Makes Benchmarks/peers/.venv with the peer engines from PyPI (faiss-cpu, hnswlib, usearch), and
# h5py and matplotlib for ann-benchmarks files and plots.
set -euo pipefail
cd "$(dirname "$0")"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --upgrade faiss-cpu hnswlib usearch numpy h5py matplotlib
.venv/bin/python -c "import faiss, numpy; print('faiss', faiss.__version__, 'numpy', numpy.__version__)"
