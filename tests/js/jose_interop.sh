#!/usr/bin/env bash
# Tokens minted by `jose` (independent JOSE implementation) against `clawjail cst verify`:
# the genuine ones PASS and every forgery FAILs with its own reason code.
# usage: jose_interop.sh CLAWJAIL_BINARY CACHE_DIR
set -euo pipefail
bin=$1
cache=$2
here=$(cd "$(dirname "$0")" && pwd)

mkdir -p "$cache"
if [ ! -f "$cache/node_modules/jose/package.json" ]; then
  # Parallel test runs share the cache: one installs, the others wait.
  exec 9>"$cache/.install.lock"
  flock 9
  [ -f "$cache/node_modules/jose/package.json" ] ||
    npm install --no-audit --no-fund --silent --prefix "$cache" jose@5 >&2
  exec 9>&-
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/clawjail-jose-XXXXXX")
trap 'rm -rf "$work"' EXIT
cp "$here/mint.mjs" "$here/did_key.mjs" "$work/"
ln -s "$cache/node_modules" "$work/node_modules"

# A WPC signed by a clawjail key, bound to job-1, pinning its hash.
"$bin" keygen --out "$work/keys" --name signer >"$work/signer.did"
cat >"$work/wpc.json" <<'JSON'
{ "wpc_version":"v1", "policy_id":"jose-interop", "issuer_did":"did:key:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw",
  "job":{ "id":"job-1", "anti_replay":{ "bind_job_scoped_cst":true } },
  "tools":{ "allow":["read","write:workspace"], "deny":["exec"] },
  "tokens":{ "require_cst":true, "pin_wpc_hash":true } }
JSON
"$bin" wpc sign --key "$work/keys/signer.key" "$work/wpc.json" >"$work/wpc.env.json"
policy_hash=$("$bin" wpc hash "$work/wpc.env.json")
other_hash=$(printf 'another policy' | sha256sum | cut -c1-64 | xxd -r -p | base64 | tr '+/' '-_' | tr -d '=')

node "$work/mint.mjs" "$work" "$policy_hash" "$other_hash"
issuer_did=$(cat "$work/issuer.did")
cat >"$work/config.json" <<JSON
{ "state_dir": "$work/state", "wpc_signers": ["$(cat "$work/signer.did")"],
  "cst_issuers": [ { "kid": "jose-1", "did": "$issuer_did" } ] }
JSON

failures=0
# expect CASE WANT [extra args…]: WANT is PASS or a reason code.
expect() {
  local name=$1 want=$2
  shift 2
  local out status=0
  out=$("$bin" cst verify --token-file "$work/$name.jwt" --wpc "${wpc:-$work/wpc.env.json}" --job "${job:-job-1}" \
        --config "$work/config.json" "$@" 2>/dev/null) || status=$?
  local got=${out%% *}
  [ "$got" = FAIL ] && got=$(echo "$out" | cut -d' ' -f2)
  local want_status=1
  [ "$want" = PASS ] && want_status=0
  if [ "$got" = "$want" ] && [ $status = $want_status ]; then
    echo "ok   $name: $out"
  else
    echo "FAIL $name: want $want, got '$out' (exit $status)"
    failures=$((failures + 1))
  fi
}

expect good PASS
expect good PASS --tool read
expect good EXEC_DENIED --tool exec
expect good_string_aud PASS
expect none CST_ALG_REJECTED
expect hs256 CST_ALG_REJECTED
expect other_key CST_SIGNATURE_INVALID
expect unknown_kid CST_UNKNOWN_KID
expect tampered CST_SIGNATURE_INVALID
expect wrong_aud CST_AUDIENCE
expect expired CST_EXPIRED
expect mission_mismatch CST_JOB_MISMATCH
expect wrong_policy CST_POLICY_MISMATCH
expect wrong_scope_hash CST_SCOPE_HASH_MISMATCH

# Without --config the token is checked alone against --issuer.
out=$("$bin" cst verify --token-file "$work/good.jwt" --wpc "$work/wpc.env.json" --job job-1 \
      --issuer "jose-1=$issuer_did" 2>/dev/null) && [ "$out" = PASS ] && echo "ok   good (no config)" ||
  { echo "FAIL good without config: $out"; failures=$((failures + 1)); }

# A jti first used under job-2 (recorded with --bind, as the supervisor records it on admission) is
# refused under job-1. The token carries no mission_id, and the WPC binds no job, so only the
# ledger can tell.
echo '{ "wpc_version":"v1", "policy_id":"unbound", "issuer_did":"did:key:x", "tools":{ "allow":["read"] } }' >"$work/unbound.json"
wpc=$work/unbound.json job=job-2 expect replay PASS --bind
wpc=$work/unbound.json job=job-2 expect replay PASS
wpc=$work/unbound.json job=job-1 expect replay CST_JTI_REPLAYED

"$bin" cst revoke --jti jti-revoked --config "$work/config.json" >/dev/null
expect revoked CST_REVOKED

[ $failures = 0 ] && echo "all jose interop cases passed"
exit $failures
