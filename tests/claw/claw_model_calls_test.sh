#!/usr/bin/env bash
# Model calls in a job's proof (docs/claw-bundles.md, "Model calls in the same proof"), against a real supervisor and
# Claw Bureau's own verifier. The job's WPC lists one provider and requires gateway receipts.
# `clawjail model-call` admits a call of a listed provider (started + finished receipts, and the
# binding clawproxy needs) and blocks another; gateway receipts for the admitted calls are minted by
# an independent maker (gateway-mint.mjs, Node crypto, clawproxy's shapes), with one forgery of each
# kind. `bundle export --gateway-receipts` must import exactly the valid ones and name each forgery
# with its reason; `bundle verify` must fail a job whose model call has no receipt
# (MODEL_CALL_UNRECEIPTED naming it) and pass it once covered; the Claw form must be VALID for
# verifyProofBundle at the gateway tier with the gateway allowlisted.
# usage: claw_model_calls_test.sh SOURCE_DIR CLAWJAIL_BINARY CLAWBUREAU_DIR NODE
set -euo pipefail
src=$1 bin=$(realpath "$2") bureau=$3 node=$4
here=$src/tests/claw
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (the supervisor maps subordinate uids)"; exit 77; }
. "$here/clawverify_env.sh"
clawverify_env "$src" "$bureau" "$node"

work=$(mktemp -d /var/tmp/clawjail-model-XXXXXX)
pids=()
trap 'stop_world; rm -rf "$work"' EXIT
ws=$work/workspace
mkdir -p "$ws"
. "$src/tests/common/supervisor_world.sh"
supervisor_world "$work" "$bin" claw-models
cat >"$work/wpc.json" <<JSON
{ "wpc_version": "v1", "policy_id": "claw-models", "issuer_did": "$(cat "$work/signer.did")",
  "tools": { "allow": ["exec"] },
  "models": { "require_gateway_receipts": true, "route_via": ["clawproxy"], "providers": ["anthropic"] },
  "tokens": { "require_cst": true, "pin_wpc_hash": true },
  "sandbox": { "workspace_access": "rw" } }
JSON
"$bin" wpc sign --key "$work/keys/signer.key" "$work/wpc.json" >"$work/wpc.env.json"
hash=$("$bin" wpc install --config "$work/config.json" "$work/wpc.env.json")
"$bin" explain --wpc "$work/wpc.env.json" | grep -qx "model calls (clawjail model-call): providers anthropic; models any; gateway receipts required" ||
  fail "explain does not say what the WPC allows of model calls"
serve_world "$work" "$bin"
supervisor_did=$(cat "$work/state/keys/supervisor.pub")

for job in job-model job-other; do
  "$bin" cst issue --key "$work/keys/issuer.key" --kid issuer-1 --sub "$(cat "$work/agent.did")" --job $job \
    --policy "$hash" --ttl 600 --out "$work/$job.cst" >/dev/null
done
model_call() {  # model_call JOB PROVIDER EXPECTED_EXIT OUT
  local got=0
  "$bin" model-call --config "$work/config.json" --job "$1" --cst-file "$work/$1.cst" --provider "$2" \
    --model m-1 >"$4" 2>"$work/last.err" || got=$?
  [ "$got" = "$3" ] || { cat "$work/last.err" >&2; fail "model-call $1 $2: exit $got, expected $3"; }
}
"$bin" run --config "$work/config.json" --job job-model --cst-file "$work/job-model.cst" --workspace "$ws" \
  -- /bin/echo hi </dev/null >/dev/null || fail "exec"
model_call job-model anthropic 0 "$work/b1.json"
model_call job-model openai 126 /dev/null
grep -q MODEL_PROVIDER_NOT_ALLOWED "$work/last.err" || { cat "$work/last.err" >&2; fail "the unlisted provider's refusal names MODEL_PROVIDER_NOT_ALLOWED"; }
model_call job-model anthropic 0 "$work/b2.json"
model_call job-other anthropic 0 "$work/bother.json"
for k in run_id event_hash_b64u nonce policy_hash '"X-Run-Id"' '"X-Event-Hash"' '"X-Idempotency-Key"'; do
  grep -q "$k" "$work/b1.json" || { cat "$work/b1.json" >&2; fail "the model call's answer lacks $k"; }
done
ok "job-model: an exec, 2 model calls admitted (anthropic), 1 blocked (openai: MODEL_PROVIDER_NOT_ALLOWED); job-other: 1"

"$node" "$here/gateway-mint.mjs" "$work"
gateway_did=$(cat "$work/gateway.did")
# The configuration trusts the gateway for imports (gateway_receipt_signers).
"$node" -e 'const fs=require("fs");const c=JSON.parse(fs.readFileSync(process.argv[1]));c.gateway_receipt_signers=[process.argv[2]];fs.writeFileSync(process.argv[1],JSON.stringify(c))' \
  "$work/config.json" "$gateway_did"

out=$work/out
mkdir -p "$out"
# 1. Only the first call's receipt: the second model call is unreceipted.
"$bin" bundle export --config "$work/config.json" --job job-model --gateway-receipts "$work/good1.json" \
  --out "$out/partial.json" 2>"$work/export1.err" || { cat "$work/export1.err" >&2; fail "export with one receipt"; }
call2=$("$node" -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).nonce)' "$work/b2.json")
if line=$("$bin" bundle verify "$out/partial.json" --trust "$supervisor_did" --gateway-signer "$gateway_did"); then
  fail "a model call without a gateway receipt passed: $line"
fi
case "$line" in "FAIL MODEL_CALL_UNRECEIPTED"*"$call2"*) ok "unreceipted: $line" ;; *) fail "expected MODEL_CALL_UNRECEIPTED naming $call2: $line" ;; esac

# 2. Every forgery and the plugin's bundle: each forgery refused with its reason, the valid ones imported.
"$bin" bundle export --config "$work/config.json" --job job-model --format claw --out "$out/job-model.json" \
  --gateway-receipts "$work/forgeries.json" --gateway-receipts "$work/plugin-bundle.json" 2>"$work/export2.err" ||
  { cat "$work/export2.err" >&2; fail "export with the forgeries"; }
cat "$work/export2.err"
printf '%-45s %-34s %s\n' "gateway receipt" "expected" "clawjail bundle export" >"$work/table"
while IFS=$'\t' read -r i code name; do
  if [ "$code" = OK ]; then
    grep -q "gateway receipt #$i " "$work/export2.err" && fail "the valid receipt #$i was refused"
    got="imported"
  else
    got=$(grep "gateway receipt #$i " "$work/export2.err" | sed -n 's/.*refused: \([A-Z_]*\):.*/\1/p')
    [ "$got" = "$code" ] || fail "$name (#$i): refused with '${got:-nothing}', expected $code"
    got="refused $got"
  fi
  printf '%-45s %-34s %s\n' "$name" "$code" "$got" >>"$work/table"
done <"$work/forgeries.expect"
n=$(wc -l <"$work/forgeries.expect")
plugin_own=$(grep "gateway receipt #$((n + 1)) " "$work/export2.err" | sed -n 's/.*refused: \([A-Z_]*\):.*/\1/p')
[ "$plugin_own" = GATEWAY_RECEIPT_OTHER_JOB ] || fail "the plugin bundle's receipt bound to its own run: '${plugin_own}'"
grep -q "gateway receipt #$n " "$work/export2.err" && fail "the plugin bundle's receipt bound through clawjail was refused"
printf '%-45s %-34s %s\n' "provider plugin bundle: bound via clawjail" OK imported >>"$work/table"
printf '%-45s %-34s %s\n' "provider plugin bundle: bound to its own run" GATEWAY_RECEIPT_OTHER_JOB "refused $plugin_own" >>"$work/table"
cat "$work/table"
grep -q "2 of $((n + 2)) gateway receipt(s) imported, covering 2 of 2 model call(s)" "$work/export2.err" || fail "import count"

# 3. clawjail's verdicts: PASS with the gateway trusted, FAIL without.
line=$("$bin" bundle verify "$out/job-model.native.json" --trust "$supervisor_did" --gateway-signer "$gateway_did") ||
  fail "native bundle with its gateway receipts: $line"
ok "native: $line"
if line=$("$bin" bundle verify "$out/job-model.native.json" --trust "$supervisor_did"); then fail "passed without a trusted gateway: $line"; fi
case "$line" in "FAIL GATEWAY_SIGNER_NOT_ALLOWED"*) ok "no --gateway-signer: $line" ;; *) fail "without --gateway-signer: $line" ;; esac
line=$("$bin" bundle verify "$out/job-model.json" --trust "$supervisor_did" --gateway-signer "$gateway_did") ||
  fail "Claw form: $line"
case "$line" in *"2 gateway receipts"*"checked against the native bundle"*) ok "Claw form: $line" ;; *) fail "Claw form: $line" ;; esac

# 4. Claw's verifier: VALID at the gateway tier with the gateway allowlisted.
verdict=$("$node" "$here/claw-verify.mjs" "$dist" "$supervisor_did,$gateway_did" "$out/job-model.json")
echo "clawverify-core: $verdict"
case "$verdict" in *'"status":"VALID"'*'"proof_tier":"gateway"'*) ;; *) fail "Claw's verifier: not VALID at the gateway tier" ;; esac
verdict=$("$node" "$here/claw-verify.mjs" "$dist" "$supervisor_did" "$out/job-model.json")
case "$verdict" in *'"proof_tier":"gateway"'*) fail "gateway tier without the gateway allowlisted: $verdict" ;; esac
ok "without the gateway allowlisted Claw's verifier does not count its receipts: $verdict"
