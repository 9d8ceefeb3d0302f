#!/usr/bin/env bash
# A job beyond one Claw bundle's limit (1000 events): `bundle export --format claw` writes several
# parts, each a chain of its own that Claw's verifier accepts, linked through their metadata and
# together covering every native receipt once, in order; and a call interrupted by the
# supervisor's death is exported with its native status in its event (and fails --strict), and a
# running job's unfinished call is listed and fails verification as the native form's does.
# usage: claw_parts_test.sh SOURCE_DIR CLAWJAIL_BINARY MAKE_LONG_JOB CLAWBUREAU_DIR NODE
set -euo pipefail
src=$1 bin=$2 maker=$3 bureau=$4 node=$5
here=$src/tests/claw
fail() { echo "FAIL: $*" >&2; exit 1; }
. "$here/clawverify_env.sh"
clawverify_env "$src" "$bureau" "$node"
work=$(mktemp -d /var/tmp/clawjail-claw-parts-XXXXXX)
trap 'rm -rf "$work"' EXIT
"$maker" "$work" 1100 || fail "make_long_job"
trust=$(cat "$work/trust.txt")
"$bin" bundle export --config "$work/config.json" --job claw-long --format claw --out "$work/long.json" 2>"$work/err" ||
  { cat "$work/err" >&2; fail "export"; }
grep -q "in 3 part(s)" "$work/err" || { cat "$work/err" >&2; fail "2201 receipts: want 3 parts"; }
parts=("$work/long.json" "$work/long.part2.json" "$work/long.part3.json")
"$node" "$here/claw-verify.mjs" "$dist" "$trust" "${parts[@]}" | tee "$work/verdicts"
[ "$(grep -c '"status":"VALID"' "$work/verdicts")" = 3 ] || fail "Claw's verifier refuses a part"
for p in "${parts[@]}"; do
  "$bin" bundle verify "$p" --trust "$trust" | grep -q "^PASS (Claw proof_bundle form.*checked against the native bundle" ||
    fail "bundle verify $p"
done
"$node" --input-type=module - "$work/long.native.json" "${parts[@]}" <<'JS' || fail "the parts do not cover the job"
import fs from 'node:fs'; import crypto from 'node:crypto';
const [nat, ...parts] = process.argv.slice(2).map((f) => JSON.parse(fs.readFileSync(f, 'utf8')));
const receipts = JSON.parse(Buffer.from(nat.payload, 'base64')).receipts;
let seq = 0, prev = null;
parts.forEach((part, k) => {
  const md = part.payload.metadata.clawjail, chain = part.payload.event_chain;
  if (md.part !== k + 1 || md.parts !== parts.length || md.first_seq !== seq || md.prev_part_last_event_hash_b64u !== prev)
    throw new Error(`part ${k + 1}: metadata does not link it to the one before`);
  if (chain.length > 1000 || part.payload.tool_receipts.length > 1000) throw new Error('over 1000');
  for (const e of chain) {
    const h = crypto.createHash('sha256').update(Buffer.from(receipts[seq].payload, 'base64')).digest('base64url');
    if (e.payload_hash_b64u !== h) throw new Error(`event for seq ${seq} does not commit to it`);
    seq++;
  }
  prev = chain.at(-1).event_hash_b64u;
});
if (seq !== receipts.length) throw new Error(`${seq} events for ${receipts.length} receipts`);
console.log(`ok: ${parts.length} parts, ${seq} events = ${receipts.length} receipts, linked in order`);
JS
# Part 3 claims to be part 2 (re-signed by the supervisor's key): its events are not the native
# receipts at part 2's position.
"$node" --input-type=module - "$work/long.part3.json" "$work/fake.json" "$work/supervisor.key" <<'JS'
import fs from 'node:fs'; import crypto from 'node:crypto';
const [from, to, keyFile] = process.argv.slice(2);
const env = JSON.parse(fs.readFileSync(from, 'utf8'));
env.payload.metadata.clawjail.part = 2;
env.payload.metadata.clawjail.first_seq = 1000;
const seed = Buffer.from(fs.readFileSync(keyFile, 'utf8').split('\n')[1].trim(), 'base64url');
const key = crypto.createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' });
env.payload_hash_b64u = crypto.createHash('sha256').update(JSON.stringify(env.payload)).digest('base64url');
env.signature_b64u = crypto.sign(null, Buffer.from(env.payload_hash_b64u), key).toString('base64url');
fs.writeFileSync(to, JSON.stringify(env));
JS
if out=$("$bin" bundle verify "$work/fake.json" --trust "$trust" --native "$work/long.native.json"); then fail "a part at another's position: $out"; fi
echo "ok: a part claiming another's position: $out"

"$bin" bundle export --config "$work/config.json" --job claw-intr --format claw --out "$work/intr.json" 2>/dev/null || fail "export claw-intr"
v=$("$node" "$here/claw-verify.mjs" "$dist" "$trust" "$work/intr.json")
case "$v" in *'"status":"VALID"'*) ;; *) fail "interrupted job: $v" ;; esac
grep -q '"clawjail.finished.interrupted"' "$work/intr.json" || fail "the interrupted call's event does not say so"
"$bin" bundle verify "$work/intr.json" --trust "$trust" >/dev/null || fail "bundle verify of the interrupted job"
strict=$("$bin" bundle verify "$work/intr.json" --trust "$trust" --strict) && fail "--strict passed an interrupted call"
case "$strict" in "FAIL RECEIPT_INTERRUPTED_CALL"*) ;; *) fail "--strict: $strict" ;; esac
"$bin" bundle export --config "$work/config.json" --job claw-open --format claw --out "$work/open.json" 2>/dev/null || fail "export claw-open"
grep -q '"c-running"' "$work/open.json" || fail "the running call is not listed in metadata.clawjail.unfinished_calls"
open=$("$bin" bundle verify "$work/open.json" --trust "$trust") && fail "a running job's bundle passed: $open"
case "$open" in "FAIL RECEIPT_UNFINISHED_CALL"*) ;; *) fail "running job: $open" ;; esac
echo "ok: a running job's export lists its unfinished call; bundle verify: $open"
echo "ok: interrupted call exported as clawjail.finished.interrupted (tool receipt result_status error): $v"
