#!/usr/bin/env bash
# Runs the test suite under one sanitizer, in its own build directory (.build-asan, -ubsan, -tsan).
# usage: scripts/sanitize.sh address|undefined|thread [swift test options, e.g. --filter SUITES]
# address: memory errors and leaks (LeakSanitizer); the only suppressions are leaks inside libcurl,
#   which Foundation's URLSession uses (scripts/lsan-suppressions.txt).
# undefined: undefined behaviour in the C code (the kernels, the fuzz driver is not built here):
#   swiftc has no -sanitize=undefined, and Swift code traps on overflow and bad indexes anyway in
#   these debug builds. Any report fails the run.
# thread: data races.
set -euo pipefail
cd "$(dirname "$0")/.."
sanitizer=${1:?usage: scripts/sanitize.sh address|undefined|thread [swift test options]}
shift
bash scripts/install-deps.sh
export ASAN_OPTIONS=detect_leaks=1
export LSAN_OPTIONS=suppressions=$PWD/scripts/lsan-suppressions.txt:print_suppressions=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
case $sanitizer in
  address) scratch=.build-asan ;;
  undefined) scratch=.build-ubsan ;;
  thread) scratch=.build-tsan ;;
  *) echo "unknown sanitizer '$sanitizer' (address, undefined or thread)" >&2; exit 64 ;;
esac
if [ "$sanitizer" = undefined ]; then
  swift test --scratch-path "$scratch" -Xcc -fsanitize=undefined -Xcc -fno-sanitize-recover=all \
    -Xswiftc -Xclang-linker -Xswiftc -fsanitize=undefined "$@"
else
  swift test --sanitize="$sanitizer" --scratch-path "$scratch" "$@"
fi
