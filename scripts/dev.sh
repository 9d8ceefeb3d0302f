#!/usr/bin/env bash
# The README's two commands:  scripts/dev.sh demo  |  scripts/dev.sh test
# demo: install what is missing, build, run `clawjail demo`.
# test: install what is missing, build (plain, ASan+UBSan, libFuzzer, and the .deb with Debian's
#       own flags), run every test suite (the sanitized run skips the OpenClaw end-to-end suite,
#       the packaging and the real-host tests: they test the .deb).
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
mode=${1:-}
case "$mode" in demo|test) ;; *) echo "usage: scripts/dev.sh demo|test" >&2; exit 2 ;; esac

scripts/install-deps.sh
jobs=$(nproc)

# ccache (installed by install-deps.sh) keeps a rebuild of an unchanged file instant; the cache is
# keyed by paths relative to the checkout's parent, so another clone of the same tree shares it.
launcher=()
if command -v ccache >/dev/null; then
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$(dirname "$PWD")} CCACHE_NOHASHDIR=1
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi

build() {  # build DIR BUILD_TYPE [cmake args…]
  local dir=$1 type=$2; shift 2
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE="$type" "${launcher[@]}" "$@" >/dev/null
  cmake --build "$dir" -j"$jobs"
}

# The package as a packager builds it: Debian's own flags (dpkg-buildflags, every hardening
# option, CMAKE_BUILD_TYPE=None as debhelper does), no -Werror, the product without its tests.
# Any compiler warning fails the test command. Prints the path of the .deb.
build_package() {
  local dir=build-pkg log=build-pkg.log
  (
    export DEB_BUILD_MAINT_OPTIONS=hardening=+all
    eval "$(dpkg-buildflags --export=sh)"
    export CFLAGS="$CFLAGS $CPPFLAGS" CXXFLAGS="$CXXFLAGS $CPPFLAGS"
    # From scratch every time: an incremental build would not print the warnings of files it
    # skips, and the check below reads the log (ccache still makes unchanged files cheap).
    rm -rf "$dir"
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=None -DCLAWJAIL_TESTS=OFF "${launcher[@]}" >/dev/null
    cmake --build "$dir" -j"$jobs"
  ) >"$log" 2>&1 || { cat "$log" >&2; echo "clawjail: the package build failed" >&2; return 1; }
  if grep -E 'warning:' "$log" >&2; then
    echo "clawjail: the package build (Debian's flags) has compiler warnings: see $log" >&2
    return 1
  fi
  (cd "$dir" && cpack -G DEB >/dev/null) || { echo "clawjail: cpack failed" >&2; return 1; }
  ls "$PWD/$dir"/clawjail_*.deb
}

if [ "$mode" = demo ]; then
  build build RelWithDebInfo
  exec ./build/clawjail demo
fi

# The test builds carry no optimisation or debug flags: on a 2-core machine that halves the build,
# and no test measures speed (the benchmarks are run by hand from an optimised build; ctest runs
# the gateway benchmark once as a smoke, which asserts that its calls work, never how fast).
build build-test "" -DCLAWJAIL_WERROR=ON
# The benchmark is never run here, only compiled, so that a change cannot break it unseen.
cmake --build build-test --target clawjail_bench -j"$jobs"
build build-asan "" -DCLAWJAIL_SANITIZE=ON -DCLAWJAIL_WERROR=ON
# libFuzzer needs clang; only the fuzz targets (and the libraries they parse with) are built there.
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCLAWJAIL_FUZZ=ON \
  -DCLAWJAIL_WERROR=ON "${launcher[@]}" >/dev/null
cmake --build build-fuzz --target fuzzers -j"$jobs"
# The packaging and real-host tests install this package, not one made from the test build.
CLAWJAIL_DEB=$(build_package)
export CLAWJAIL_DEB
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
( cd build-test && ctest --output-on-failure -j"$jobs" --timeout 900 ) || status=1
# The sanitized run skips what does not exercise the sanitized code: the OpenClaw end-to-end suite,
# the benchmark, the fuzzers, and the tests of the package (they install CLAWJAIL_DEB, built above)
# on a scratch root or on real hosts.
( cd build-asan && ctest --output-on-failure -j"$jobs" --timeout 900 -LE 'e2e|bench|fuzz|hosts' \
    -E '^packaging[.](deb|lintian)$' ) || status=1
( cd build-fuzz && ctest --output-on-failure -j"$jobs" -L fuzz ) || status=1
exit $status
