#!/usr/bin/env bash
# The whole test suite: unit tests for kernels, indexes, file formats and the built-in embedder,
# and the CLI end to end.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/fetch-model.sh   # the built-in embedder's model, cached in ~/.cache/vectorsearch
swift test "$@"
