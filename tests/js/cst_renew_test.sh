#!/usr/bin/env bash
# Tokens that renew, against a real supervisor:
#  1. `clawjail cst issue --out` renews the job's CST file in a loop while it is read concurrently
#     by the OpenClaw plugin's own per-call check plus a whole-file read (cst-reader.mjs, node),
#     by real calls (`clawjail run`, the client's --cst-file read, admitted by the supervisor) and
#     by `clawjail cst verify`: every read is one complete valid token, never an empty or partial
#     file or a missing one; the file keeps its owner, group and mode; no temporary file is left.
#  2. An expired CST: `clawjail run` returns within a bound with exit 126, `clawjail: blocked:
#     CST_EXPIRED` and a blocked receipt, and the plugin's exec and file calls (its real code,
#     running the real client) fail with an error naming CST_EXPIRED.
# usage: cst_renew_test.sh SOURCE_DIR CLAWJAIL_BINARY NODE
set -euo pipefail
src=$1 bin=$(realpath "$2") node=$3
[ -x "$node" ] || { echo "cst_renew_test: no Node found: scripts/install-deps.sh installs nodejs" >&2; exit 1; }
plugin=$src/packaging/openclaw-plugin
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (the supervisor maps subordinate uids)"; exit 77; }

work=$(mktemp -d /var/tmp/clawjail-cst-renew-XXXXXX)
pids=()
stop_all() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
}
trap 'stop_all; rm -rf "$work"' EXIT

owner=4242
ws=$work/workspace
tokens=$work/tokens
mkdir -p "$ws" "$tokens"
. "$src/tests/common/supervisor_world.sh"
supervisor_world "$work" "$bin" cst-renew
issue() {  # issue JOB FILE TTL: what clawjail-cst@JOB.service runs
  "$bin" cst issue --key "$work/keys/issuer.key" --kid issuer-1 --sub "$(cat "$work/agent.did")" --job "$1" \
    --policy "$hash" --ttl "$3" --out "$2" >/dev/null
}

"$bin" serve --config "$work/config.json" >"$work/serve.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -S "$work/run/clawjail.sock" ] && break; sleep 0.05; done
[ -S "$work/run/clawjail.sock" ] || { cat "$work/serve.log" >&2; fail "the supervisor did not start"; }

# ---- 1. renewals under concurrent reads ----
job=job-renew
cst=$tokens/$job.cst
issue $job "$cst" 600
chown $owner:$owner "$cst"
chmod 0640 "$cst"
stop=$work/stop
"$node" "$src/tests/js/cst-reader.mjs" "$plugin" "$bin" "$cst" $job "$stop" >"$work/reader.out" 2>&1 &
reader=$!
pids+=($reader)
calls() {  # real calls with the file, until $stop: prints their number; exits 1 at the first failure
  local n=0 out
  while [ ! -e "$stop" ]; do
    out=$("$bin" run --config "$work/config.json" --job $job --cst-file "$cst" --workspace "$ws" -- /bin/true 2>&1 </dev/null) ||
      { echo "call $((n + 1)): $out"; return 1; }
    n=$((n + 1))
    echo $n >"$work/calls.progress"
  done
  echo $n
}
verifies() {  # `cst verify` of the file, until $stop
  local n=0 out
  while [ ! -e "$stop" ]; do
    out=$("$bin" cst verify --token-file "$cst" --issuer "issuer-1=$(cat "$work/issuer.did")" --wpc "$work/wpc.json" \
      --job $job 2>/dev/null) || { echo "verify $((n + 1)): $out"; return 1; }
    n=$((n + 1))
    echo $n >"$work/verify.progress"
  done
  echo $n
}
progress() { cat "$work/$1.progress" 2>/dev/null || echo 0; }
calls >"$work/calls.out" 2>&1 &
caller=$!
pids+=($caller)
verifies >"$work/verify.out" 2>&1 &
verifier=$!
pids+=($verifier)

# Renew until the readers have overlapped enough renewals: at least 40 renewals, and at least 10
# calls and 10 verifies done meanwhile; at most 150 (a sanitizer build starts each process slowly).
renewals=0
t0=$(date +%s%N)
while [ $renewals -lt 150 ]; do
  renewals=$((renewals + 1))
  issue $job "$cst" 600 || { touch "$stop"; fail "renewal $renewals failed"; }
  [ $renewals -ge 40 ] && [ "$(progress calls)" -ge 10 ] && [ "$(progress verify)" -ge 10 ] && break
done
t1=$(date +%s%N)
touch "$stop"
rc=0; wait $reader || rc=$?
[ $rc = 0 ] || fail "the plugin-side reader saw a bad token: $(cat "$work/reader.out")"
rc=0; wait $caller || rc=$?
[ $rc = 0 ] || fail "a call failed during renewals: $(cat "$work/calls.out")"
rc=0; wait $verifier || rc=$?
[ $rc = 0 ] || fail "cst verify failed during renewals: $(cat "$work/verify.out")"
read -r reads distinct <"$work/reader.out"
ncalls=$(cat "$work/calls.out") nverify=$(cat "$work/verify.out")
# The readers must really have overlapped the renewals: many reads, many different tokens seen.
[ "$reads" -ge 1000 ] && [ "$distinct" -ge 20 ] || fail "the plugin-side reader read $reads times, $distinct tokens"
[ "$ncalls" -ge 10 ] && [ "$nverify" -ge 10 ] || fail "only $ncalls calls and $nverify verifies overlapped the renewals"
[ "$(stat -c '%u:%g %a' "$cst")" = "$owner:$owner 640" ] || fail "after renewals: $(stat -c '%u:%g %a' "$cst")"
[ -z "$(find "$tokens" -name ".$job.cst.*")" ] || fail "temporary files left: $(ls -la "$tokens")"
ok "$renewals renewals in $(( (t1 - t0) / 1000000 )) ms; concurrently $reads plugin-side reads ($distinct distinct tokens), $ncalls calls, $nverify verifies: all whole and valid; $owner:$owner 0640 kept"

# ---- 2. an expired token ----
job=job-expired
cst=$tokens/$job.cst
issue $job "$cst" 1
sleep 2.1
t0=$(date +%s%N)
rc=0
out=$("$bin" run --config "$work/config.json" --job $job --cst-file "$cst" --workspace "$ws" -- /bin/true 2>&1 </dev/null) || rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ $rc = 126 ] || fail "expired token: exit $rc: $out"
grep -q '^clawjail: blocked: CST_EXPIRED: ' <<<"$out" || fail "expired token: $out"
[ $ms -lt 5000 ] || fail "expired token: the call took $ms ms"
receipts=$("$bin" receipts show --config "$work/config.json" --job $job --json)
"$node" -e '
  const r = JSON.parse(process.argv[1]).receipts;
  if (r.length !== 1 || r[0].phase !== "blocked" || r[0].reason_code !== "CST_EXPIRED") {
    console.error(JSON.stringify(r)); process.exit(1);
  }' "$receipts" || fail "expired token: not one blocked CST_EXPIRED receipt: $receipts"
ok "expired token: exit 126 in $ms ms, '$out', one blocked CST_EXPIRED receipt"

# The plugin's exec and file paths with that token, through its own backend handle.
"$node" --input-type=module -e '
  const [plugin, binary, cstFile, job, ws, socket] = process.argv.slice(1);
  const { createFactory } = await import(`${plugin}/src/backend.js`);
  const handle = await createFactory({ binary, cstFile, job, socket })({ workspaceDir: ws, scopeKey: "s", cfg: {} });
  for (const [what, call] of [["shell", () => handle.runShellCommand({ script: "true" })],
                              ["read", () => handle.createFsBridge({}).readFile({ filePath: "a" })]]) {
    const t0 = Date.now();
    try {
      await call();
      console.error(`${what}: ran with an expired token`); process.exit(1);
    } catch (e) {
      const ms = Date.now() - t0;
      if (e.reasonCode !== "CST_EXPIRED" || !/^clawjail: blocked: CST_EXPIRED: /.test(e.message) || ms > 5000) {
        console.error(`${what}: ${e.reasonCode} in ${ms} ms: ${e.message}`); process.exit(1);
      }
      console.log(`ok: plugin ${what} with an expired token: ${e.message} (${ms} ms)`);
    }
  }' "$plugin" "$bin" "$cst" $job "$ws" "$work/run/clawjail.sock" || fail "the plugin did not name CST_EXPIRED"
echo PASS
