#!/usr/bin/env bash
# Debian's own package checker on the package under test: no error (warnings are printed, and
# the tags this package accepts on purpose are listed with their reason in the lintian overrides
# it ships).
# usage: lintian_test.sh SOURCE_DIR BUILD_DIR   (CLAWJAIL_DEB=FILE tests that package)
set -euo pipefail
src=$1 build=$2
work=$(mktemp -d /var/tmp/clawjail-lintian-XXXXXX)
trap 'rm -rf "$work"' EXIT
command -v lintian >/dev/null || { echo "FAIL: lintian is not installed (scripts/install-deps.sh installs it)" >&2; exit 1; }
. "$src/tests/packaging/deb_under_test.sh"
deb=$(deb_under_test "$build" "$work/out")
# lintian refuses to run as root without --allow-root.
if lintian --allow-root --fail-on error --no-tag-display-limit "$deb" >"$work/lintian.log" 2>&1; then
  cat "$work/lintian.log"
  echo "PASS: lintian reports no error for $(basename "$deb")"
else
  cat "$work/lintian.log" >&2
  echo "FAIL: lintian reports errors for $(basename "$deb")" >&2
  exit 1
fi
