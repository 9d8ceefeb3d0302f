#!/usr/bin/env bash
# The README's two commands:  scripts/dev.sh demo  |  scripts/dev.sh test
# demo: install what is missing, build, run `clawjail demo`.
# test: install what is missing, build (plain, ASan+UBSan, libFuzzer), run every test suite
#       (the sanitized run skips only the OpenClaw end-to-end suite and the .deb build).
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
mode=${1:-}
case "$mode" in demo|test) ;; *) echo "usage: scripts/dev.sh demo|test" >&2; exit 2 ;; esac

scripts/install-deps.sh
jobs=$(nproc)

build() {  # build DIR BUILD_TYPE [cmake args…]
  local dir=$1 type=$2; shift 2
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE="$type" "$@" >/dev/null
  cmake --build "$dir" -j"$jobs"
}

if [ "$mode" = demo ]; then
  build build RelWithDebInfo
  exec ./build/clawjail demo
fi

# The test builds carry no optimisation or debug flags: on a 2-core machine that halves the build,
# and no test measures speed (tests/bench is run by hand from an optimised build).
build build-test ""
# The benchmark is never run here, only compiled, so that a change cannot break it unseen.
cmake --build build-test --target clawjail_bench -j"$jobs"
build build-asan "" -DCLAWJAIL_SANITIZE=ON
# libFuzzer needs clang; only the fuzz targets (and the libraries they parse with) are built there.
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCLAWJAIL_FUZZ=ON >/dev/null
cmake --build build-fuzz --target fuzzers -j"$jobs"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
( cd build-test && ctest --output-on-failure -j"$jobs" --timeout 900 ) || status=1
( cd build-asan && ctest --output-on-failure -j"$jobs" --timeout 900 -LE 'e2e|bench|fuzz' -E '^packaging[.]deb$' ) || status=1
( cd build-fuzz && ctest --output-on-failure -j"$jobs" -L fuzz ) || status=1
exit $status
