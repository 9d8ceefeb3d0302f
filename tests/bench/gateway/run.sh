#!/usr/bin/env bash
# The gateway benchmark (docs/performance.md, "Through the gateway"):
#   tests/bench/gateway/run.sh /path/to/clawjail [--rounds N] [--calls N] [--only MODE,…] [--json FILE]
# Runs gateway-bench.mjs through the end-to-end suite's runner, which installs Node and OpenClaw
# once, owns the work directory and stops every process the benchmark started.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 1 ] || { echo "usage: tests/bench/gateway/run.sh /path/to/clawjail [--rounds N] [--calls N] [--only MODE,…] [--json FILE]" >&2; exit 2; }
binary=$1
shift
export CLAWJAIL_E2E_TIMEOUT=${CLAWJAIL_E2E_TIMEOUT:-1800}
exec "$here/../../e2e/run.sh" "$binary" "$here/gateway-bench.mjs" "$@"
