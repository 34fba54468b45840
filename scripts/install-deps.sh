#!/usr/bin/env bash
# Installs the Debian packages VectorSearch needs when they are missing: BLAS and LAPACK (OpenBLAS
# through libblas.so.3 and liblapack.so.3, LAPACKE's header), SQLite for collections and, for the command line's HDF5 files, libhdf5. Safe to
# run again; does nothing when everything is there.
set -euo pipefail
packages=(libblas-dev liblapack-dev liblapacke-dev libopenblas-dev libhdf5-dev libsqlite3-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "installing ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
