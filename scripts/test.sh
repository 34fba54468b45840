#!/usr/bin/env bash
# The whole test suite: unit tests for kernels, indexes and file formats, and the CLI end to end.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift test "$@"
