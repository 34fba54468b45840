#!/usr/bin/env bash
# Makes Benchmarks/peers/.venv with the peer engines from PyPI (faiss-cpu, hnswlib, usearch, scann), and
# h5py and matplotlib for ann-benchmarks files and plots. USearch's Python binding has no filtered
# search, so the headers of the same usearch release (its sdist, sha256 from PyPI's index) are
# used to build usearch_filtered.cpp into .venv/usearch_filtered.so for the filtered track.
set -euo pipefail
cd "$(dirname "$0")"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --upgrade faiss-cpu hnswlib usearch scann numpy h5py matplotlib
.venv/bin/python -c "import faiss, numpy; print('faiss', faiss.__version__, 'numpy', numpy.__version__)"
version=$(.venv/bin/python -c "import usearch; print(usearch.__version__)")
shim=.venv/usearch_filtered-$version.so
if [ ! -f "$shim" ] || [ usearch_filtered.cpp -nt "$shim" ]; then
  source=.venv/usearch-src/usearch-$version
  if [ ! -d "$source" ]; then
    mkdir -p .venv/usearch-src
    .venv/bin/python - "$version" .venv/usearch-src <<'PY'
import hashlib, io, re, sys, tarfile, urllib.request
version, into = sys.argv[1], sys.argv[2]
page = urllib.request.urlopen("https://pypi.org/simple/usearch/").read().decode()
url, digest = next((u, d) for u, d in re.findall(r'href="([^"#]+)#sha256=([0-9a-f]+)"', page)
                   if u.endswith(f"/usearch-{version}.tar.gz"))
data = urllib.request.urlopen(url).read()
if hashlib.sha256(data).hexdigest() != digest:
    raise SystemExit(f"usearch-{version}.tar.gz: sha256 does not match PyPI's index")
with tarfile.open(fileobj=io.BytesIO(data)) as archive:
    archive.extractall(into, filter="data")
PY
  fi
  # The binding's own build: OpenMP, NumKong by dynamic dispatch (symbols from the numkong wheel,
  # which `import usearch` loads globally) with every inline target off.
  targets=$(grep -o '("NK_TARGET_[A-Z0-9]*", "0")' "$source/setup.py" | sed 's/("\(.*\)", "0")/-D\1=0/' | tr '\n' ' ')
  # shellcheck disable=SC2086
  g++ -std=c++17 -O3 -ffast-math -fopenmp -fPIC -shared -DUSEARCH_USE_OPENMP=1 -DUSEARCH_USE_NUMKONG=1 \
    -DNK_DYNAMIC_DISPATCH=1 $targets -I"$source/include" -I"$source/numkong/include" \
    usearch_filtered.cpp -o "$shim"
fi
echo "usearch $version, filtered search through $shim"
