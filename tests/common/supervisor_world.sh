# Sourced by the shell tests that start a real `clawjail serve`. supervisor_world WORK BINARY ID
# writes under WORK: keys (signer, issuer, agent; WORK/<name>.did holds each did:key), a
# configuration (WORK/config.json, socket WORK/run/clawjail.sock, state WORK/state) trusting that
# signer and the issuer as kid issuer-1, and a WPC with policy_id ID allowing exec and the file
# tools in a read-write workspace (WORK/wpc.json), signed and installed. Sets $hash to its hash.
supervisor_world() {
  local work=$1 bin=$2 id=$3 name
  for name in signer issuer agent; do "$bin" keygen --out "$work/keys" --name $name >"$work/$name.did"; done
  mkdir -p "$work/state/keys" "$work/run"
  chmod 700 "$work/state" "$work/state/keys"
  "$bin" keygen --out "$work/state/keys" --name supervisor >/dev/null
  cat >"$work/config.json" <<JSON
{ "socket": "$work/run/clawjail.sock", "state_dir": "$work/state",
  "signing_key": "$work/state/keys/supervisor.key",
  "wpc_signers": ["$(cat "$work/signer.did")"],
  "cst_issuers": [ { "kid": "issuer-1", "did": "$(cat "$work/issuer.did")" } ] }
JSON
  cat >"$work/wpc.json" <<JSON
{ "wpc_version": "v1", "policy_id": "$id", "issuer_did": "$(cat "$work/signer.did")",
  "tools": { "allow": ["exec", "read", "write:workspace"], "deny": ["docker_socket"] },
  "tokens": { "require_cst": true, "pin_wpc_hash": true },
  "sandbox": { "workspace_access": "rw" } }
JSON
  "$bin" wpc sign --key "$work/keys/signer.key" "$work/wpc.json" >"$work/wpc.env.json"
  hash=$("$bin" wpc install --config "$work/config.json" "$work/wpc.env.json")
}

# serve_world WORK BINARY: starts `clawjail serve` on WORK's configuration in the background, its
# pid added to the caller's pids array (stop_world stops them), and waits for its socket; a
# supervisor that does not start fails the test with its log.
serve_world() {
  local work=$1 bin=$2
  "$bin" serve --config "$work/config.json" >"$work/serve.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do [ -S "$work/run/clawjail.sock" ] && break; sleep 0.05; done
  [ -S "$work/run/clawjail.sock" ] || { cat "$work/serve.log" >&2; echo "FAIL: the supervisor did not start" >&2; exit 1; }
}
stop_world() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
}
