#!/usr/bin/env bash
# clawjail's verifier of the Claw form (`bundle verify --claw-rules-only`) over Claw Bureau's
# protocol-conformance vectors: every vector of the manifest of kind proof_bundle whose file is in
# the shared copy must get the manifest's verdict (valid, or invalid with one of its reason codes).
# Out of scope, listed: other kinds (export_bundle, commit_sig, aggregate_bundle: not proof bundles)
# and vectors whose files the shared copy does not hold.
# usage: claw_conformance_test.sh CLAWJAIL_BINARY CLAWBUREAU_DIR NODE
set -euo pipefail
bin=$1 bureau=$2 node=$3
dir=$bureau/fixtures/protocol-conformance
[ -f "$dir/manifest.v1.json" ] || { echo "SKIP: no conformance vectors at $dir"; exit 77; }
"$node" -e '
const fs = require("fs"), path = require("path");
const dir = process.argv[1];
for (const v of JSON.parse(fs.readFileSync(path.join(dir, "manifest.v1.json"), "utf8")).vectors) {
  const file = path.join(dir, path.basename(v.path));
  const codes = v.expected.valid ? "OK" : v.expected.reason_code.join(",");
  const scope = v.kind !== "proof_bundle" ? "kind " + v.kind : !fs.existsSync(file) ? "file not in the shared copy" : "";
  console.log([v.name, file, v.expected.valid, codes, scope].join("\t"));
}' "$dir" >"${TMPDIR:-/tmp}/claw-vectors.$$"
covered=0 failed=0
while IFS=$'\t' read -r name file valid codes scope; do
  if [ -n "$scope" ]; then printf '%-58s out of scope (%s)\n' "$name" "$scope"; continue; fi
  covered=$((covered + 1))
  got=$("$bin" bundle verify "$file" --claw-rules-only) && ok=true || ok=false
  code=OK
  $ok || code=$(printf '%s' "$got" | cut -d' ' -f2)
  verdict=agree
  if [ "$ok" != "$valid" ] || ! printf ',%s,' "$codes" | grep -q ",$code,"; then verdict=DISAGREE failed=$((failed + 1)); fi
  printf '%-58s expected %-5s %-52s clawjail %-26s %s\n' "$name" "$valid" "$codes" "$code" "$verdict"
done <"${TMPDIR:-/tmp}/claw-vectors.$$"
rm -f "${TMPDIR:-/tmp}/claw-vectors.$$"
echo "$covered proof_bundle vectors checked, $failed disagreeing"
[ "$covered" -gt 0 ] && [ "$failed" = 0 ]
