# Sourced by the tests that need the package: deb_under_test BUILD_DIR OUT_DIR prints the path of
# the .deb to test. scripts/dev.sh sets CLAWJAIL_DEB to the package it built with Debian's own
# flags (the package as shipped); without it, CPack builds one from BUILD_DIR into OUT_DIR.
deb_under_test() {
  local build=$1 out=$2 debs
  mkdir -p "$out"
  if [ -n "${CLAWJAIL_DEB:-}" ]; then
    [ -f "$CLAWJAIL_DEB" ] || { echo "FAIL: CLAWJAIL_DEB=$CLAWJAIL_DEB is not a file" >&2; return 1; }
    cp "$CLAWJAIL_DEB" "$out/"
  elif ! (cd "$out" && cpack -G DEB --config "$build/CPackConfig.cmake" -B "$out") >"$out/cpack.log" 2>&1; then
    cat "$out/cpack.log" >&2
    echo "FAIL: cpack -G DEB failed" >&2
    return 1
  fi
  debs=("$out"/clawjail_*.deb)
  if [ ${#debs[@]} != 1 ] || [ ! -f "${debs[0]}" ]; then
    echo "FAIL: expected one clawjail_*.deb in $out, got: ${debs[*]}" >&2
    return 1
  fi
  echo "${debs[0]}"
}
