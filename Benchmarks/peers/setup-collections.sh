#!/usr/bin/env bash
# Makes Benchmarks/peers/.venv-collections with the collection peers from PyPI (chromadb, lancedb,
# plus numpy and pyarrow). Skips the install when the venv already imports everything.
set -euo pipefail
cd "$(dirname "$0")"
PY=.venv-collections/bin/python
[ -x "$PY" ] || python3 -m venv .venv-collections
# The venv ignores itself, so no change to the repository's .gitignore is needed.
[ -f .venv-collections/.gitignore ] || echo '*' > .venv-collections/.gitignore
CHECK='import chromadb, lancedb, numpy, pyarrow'
if ! "$PY" -c "$CHECK" 2>/dev/null; then
  "$PY" -m pip install -q --upgrade pip
  "$PY" -m pip install -q --upgrade chromadb lancedb numpy pyarrow
fi
"$PY" -c "$CHECK
from importlib.metadata import version
print(' '.join(f'{p} {version(p)}' for p in ['chromadb', 'lancedb', 'numpy', 'pyarrow']))"
