#!/usr/bin/env bash
# `clawjail bundle export --format claw` against Claw Bureau's own verifier (clawverify-core, built
# here from the shared copy): a real supervisor runs one job's calls (an allowed exec, one that
# fails, one killed by its timeout, a file write, a path outside the workspace and an elevated call,
# both blocked); its Claw bundle must be VALID for verifyProofBundle with the supervisor's did
# allowlisted, and PASS for `clawjail bundle verify`, which checks each event against the native
# bundle beside it. Then each tamper must be INVALID for Claw (with its reason code) and FAIL for
# clawjail: a table of both. Also: every Claw event is one native receipt, in seq order.
# usage: claw_bundle_test.sh SOURCE_DIR CLAWJAIL_BINARY CLAWBUREAU_DIR NODE
set -euo pipefail
src=$1 bin=$(realpath "$2") bureau=$3 node=$4
here=$src/tests/claw
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (the supervisor maps subordinate uids)"; exit 77; }
. "$here/clawverify_env.sh"
clawverify_env "$src" "$bureau" "$node"
echo "node $("$node" --version)"

work=$(mktemp -d /var/tmp/clawjail-claw-XXXXXX)
pids=()
trap 'stop_world; rm -rf "$work"' EXIT
ws=$work/workspace
mkdir -p "$ws"
. "$src/tests/common/supervisor_world.sh"
supervisor_world "$work" "$bin" claw-export
serve_world "$work" "$bin"
supervisor_did=$(cat "$work/state/keys/supervisor.pub")

issue() {  # issue JOB: the job's CST file
  "$bin" cst issue --key "$work/keys/issuer.key" --kid issuer-1 --sub "$(cat "$work/agent.did")" --job "$1" \
    --policy "$hash" --ttl 600 --out "$work/$1.cst" >/dev/null
}
call() {  # call JOB EXPECTED_EXIT clawjail-args…: one real call
  local job=$1 want=$2 got=0
  shift 2
  "$bin" "$1" --config "$work/config.json" --job "$job" \
    --cst-file "$work/$job.cst" --workspace "$ws" "${@:2}" </dev/null >"$work/last.out" 2>&1 || got=$?
  [ "$got" = "$want" ] || { cat "$work/last.out" >&2; fail "$job: clawjail $* exited $got, expected $want"; }
}
issue job-claw
issue job-other
call job-claw 0 run -- /bin/echo hello
call job-claw 1 run -- /bin/false
call job-claw 124 run --timeout-ms 300 -- /bin/sleep 30
echo data | "$bin" fs --config "$work/config.json" --job job-claw \
  --cst-file "$work/job-claw.cst" --workspace "$ws" write notes.txt || fail "fs write"
call job-claw 1 fs read ../../etc/shadow
cp "$work/job-other.cst" "$work/job-claw-stolen.cst"
got=0; "$bin" run --config "$work/config.json" --job job-claw --cst-file "$work/job-claw-stolen.cst" --workspace "$ws" \
  -- /bin/true </dev/null >"$work/last.out" 2>&1 || got=$?
[ $got = 126 ] || { cat "$work/last.out" >&2; fail "another job's CST: exit $got, expected 126"; }
call job-claw 126 run --elevated -- /bin/true
call job-other 0 run -- /bin/echo other
ok "job-claw: 7 real calls (success, error, timeout, file write, an escape refused in the jail, 2 blocked); job-other: 1"

out=$work/out
mkdir -p "$out"
"$bin" bundle export --config "$work/config.json" --job job-claw --format claw --out "$out/job-claw.json" 2>"$work/export.err" ||
  { cat "$work/export.err" >&2; fail "bundle export --format claw"; }
cat "$work/export.err"
"$bin" bundle export --config "$work/config.json" --job job-other --format claw --out "$out/job-other.json" 2>/dev/null
for f in job-claw.json job-claw.native.json job-claw.wpc.json; do [ -s "$out/$f" ] || fail "$f not written"; done

# Every event is one native receipt, in seq order, committing to its exact payload bytes.
"$node" --input-type=module - "$out/job-claw.json" "$out/job-claw.native.json" <<'JS' || fail "events are not the native receipts"
import fs from 'node:fs'; import crypto from 'node:crypto';
const [claw, nat] = process.argv.slice(2).map((f) => JSON.parse(fs.readFileSync(f, 'utf8')));
const bundle = JSON.parse(Buffer.from(nat.payload, 'base64'));
const bytes = bundle.receipts.map((r) => Buffer.from(r.payload, 'base64'));
const events = claw.payload.event_chain;
if (events.length !== bytes.length) throw new Error(`${events.length} events for ${bytes.length} receipts`);
events.forEach((e, i) => {
  const r = JSON.parse(bytes[i]);
  const h = crypto.createHash('sha256').update(bytes[i]).digest('base64url');
  if (r.seq !== i || e.event_id !== r.receipt_id || e.payload_hash_b64u !== h || e.run_id !== 'job-claw')
    throw new Error(`event ${i} is not receipt seq ${i}`);
});
const types = events.map((e) => e.event_type).join(' ');
for (const t of ['clawjail.finished.success', 'clawjail.finished.error', 'clawjail.finished.timeout', 'clawjail.blocked'])
  if (!types.includes(t)) throw new Error(`no ${t} event: ${types}`);
const calls = events.filter((e) => e.event_type !== 'clawjail.started').length;
if (claw.payload.tool_receipts.length !== calls) throw new Error('not one tool receipt per call');
console.log(`ok: ${events.length} events = ${bytes.length} native receipts in seq order; ${calls} tool receipts; types: ${types}`);
JS

verdict=$("$node" "$here/claw-verify.mjs" "$dist" "$supervisor_did" "$out/job-claw.json")
echo "clawverify-core: $verdict"
case "$verdict" in *'"status":"VALID"'*) ;; *) fail "Claw's verifier does not accept the export" ;; esac
ours=$("$bin" bundle verify "$out/job-claw.json" --trust "$supervisor_did") || fail "bundle verify: $ours"
echo "clawjail bundle verify: $ours"
case "$ours" in *"Claw proof_bundle form"*"checked against the native bundle"*) ;; *) fail "verify does not say it checked the Claw form against the native bundle" ;; esac
"$bin" bundle verify "$out/job-claw.native.json" --trust "$supervisor_did" >/dev/null || fail "the native bundle beside it"

# ---- tampers: each INVALID for Claw and FAIL for clawjail ----
t=$work/tamper
mkdir -p "$t"
cp "$out/job-claw.native.json" "$out/job-claw.wpc.json" "$t/"
printf '%-58s %-28s %s\n' "tamper" "clawverify-core" "clawjail bundle verify" >"$work/table"
row() {  # row NAME FILE: both verdicts; both must refuse
  local name=$1 file=$2 theirs code ourline
  theirs=$("$node" "$here/claw-verify.mjs" "$dist" "$supervisor_did" "$file")
  case "$theirs" in *'"status":"INVALID"'*) ;; *) fail "$name: Claw's verifier says $theirs" ;; esac
  code=$(printf '%s' "$theirs" | sed -n 's/.*"code":"\([A-Z_]*\)".*/\1/p')
  if ourline=$("$bin" bundle verify "$file" --trust "$supervisor_did"); then fail "$name: clawjail says $ourline"; fi
  printf '%-58s %-28s %s\n' "$name" "INVALID $code" "$(printf '%s' "$ourline" | cut -d' ' -f1-2)" >>"$work/table"
}
key=$work/state/keys/supervisor.key
for kind in flip_receipt drop_event reorder_events other_job_receipt; do
  other=$out/job-other.json
  "$node" "$here/claw-tamper.mjs" $kind "$out/job-claw.json" "$t/job-claw.json" "" "$other"
  row "$kind (signature left as it was)" "$t/job-claw.json"
  "$node" "$here/claw-tamper.mjs" $kind "$out/job-claw.json" "$t/job-claw.json" "$key" "$other"
  row "$kind (re-signed with the supervisor's key)" "$t/job-claw.json"
done
"$node" "$here/claw-tamper.mjs" wrong_signer_key "$out/job-claw.json" "$t/job-claw.json" "$work/keys/agent.key"
row "wrong signer (another key signs, names the supervisor)" "$t/job-claw.json"
"$node" "$here/claw-tamper.mjs" wrong_signer_claimed "$out/job-claw.json" "$t/job-claw.json" "$work/keys/agent.key"
row "wrong signer (another key signs and is named)" "$t/job-claw.json"

# A byte of a native receipt beside the Claw form: outside Claw's payload, so Claw's verifier
# cannot see it; clawjail's check of each event against the native bundle must.
cp "$out/job-claw.json" "$t/job-claw.json"
"$node" --input-type=module - "$out/job-claw.native.json" "$t/job-claw.native.json" <<'JS'
import fs from 'node:fs';
const [from, to] = process.argv.slice(2);
const env = JSON.parse(fs.readFileSync(from, 'utf8'));
const bundle = JSON.parse(Buffer.from(env.payload, 'base64'));
const r = JSON.parse(Buffer.from(bundle.receipts[1].payload, 'base64'));
r.reason = r.reason + 'x';
bundle.receipts[1].payload = Buffer.from(JSON.stringify(r)).toString('base64');
env.payload = Buffer.from(JSON.stringify(bundle)).toString('base64');
fs.writeFileSync(to, JSON.stringify(env));
JS
theirs=$("$node" "$here/claw-verify.mjs" "$dist" "$supervisor_did" "$t/job-claw.json")
if ourline=$("$bin" bundle verify "$t/job-claw.json" --trust "$supervisor_did"); then fail "native tamper: clawjail says $ourline"; fi
printf '%-58s %-28s %s\n' "a native receipt's byte (beside the Claw form)" \
  "$(printf '%s' "$theirs" | sed -n 's/.*"status":"\([A-Z]*\)".*/\1/p') (not in its payload)" \
  "$(printf '%s' "$ourline" | cut -d' ' -f1-2)" >>"$work/table"
cat "$work/table"
ok "every tamper refused by Claw's verifier and by clawjail's"
