#!/usr/bin/env bash
# Checks the promise that a single-query search allocates nothing: every index kind and metric,
# unfiltered and filtered (each strategy), counted by a malloc interposer linked into
# Benchmarks' alloccheck (never into the library). Exits non-zero if any search allocated.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release --package-path Benchmarks --product alloccheck
Benchmarks/.build/release/alloccheck "$@"
