#!/usr/bin/env bash
# Builds Claw Bureau's verifier (clawverify-core: TypeScript, not on npm) from the shared copy into
# a cache outside the source tree, once per version of its sources: npm ci, then tsc.
# Usage: install-clawverify.sh CLAWVERIFY_SRC_DIR [CACHE_DIR]
#   (default cache: $CLAWJAIL_CLAWVERIFY_CACHE, else /var/cache/clawjail-clawverify)
# Prints the directory holding dist/index.js; exits non-zero with the reason on stderr.
set -euo pipefail
src=$1
cache=${2:-${CLAWJAIL_CLAWVERIFY_CACHE:-/var/cache/clawjail-clawverify}}
command -v npm >/dev/null || { echo "clawverify: npm is missing (apt-get install npm)" >&2; exit 1; }
# The stamp names the sources' content: a changed copy is built again, not served stale.
sum=$(cd "$src" && find . -type f -not -path './node_modules/*' -not -path './dist/*' -print0 | sort -z |
      xargs -0 sha256sum | sha256sum | cut -c1-16)
dir=$cache/clawverify-$sum
if [ ! -e "$dir/ready" ]; then
  mkdir -p "$cache"
  # One builder at a time (ctest -j may start two tests that need it).
  exec 9>"$cache/.lock"
  flock -w 600 9 || { echo "clawverify: timed out waiting for $cache/.lock" >&2; exit 1; }
  if [ ! -e "$dir/ready" ]; then
    rm -rf "$dir"
    mkdir -p "$dir"
    (cd "$src" && tar --exclude=./node_modules --exclude=./dist -cf - .) | (cd "$dir" && tar -xf -)
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null && npx --no-install tsc >/dev/null) ||
      { echo "clawverify: npm ci / tsc failed in $dir" >&2; exit 1; }
    [ -f "$dir/dist/index.js" ] || { echo "clawverify: tsc wrote no dist/index.js" >&2; exit 1; }
    touch "$dir/ready"
  fi
fi
echo "$dir"
