#!/bin/sh
# Bundles made by the C++ library, checked by the independent JavaScript verifier:
# the good one must PASS, each tampered one must FAIL with the reason code in its name.
set -eu
maker=$1
verifier=$2
command -v node >/dev/null || { echo "node is not installed (scripts/install-deps.sh installs it)" >&2; exit 1; }
out=$(mktemp -d /var/tmp/clawjail-js-verify.XXXXXX)
trap 'rm -rf "$out"' EXIT
"$maker" "$out"
trust=$(cat "$out/trust.txt")
status=0
verdict=$(node "$verifier" "$out/good.json" --trust "$trust") || { echo "good bundle: $verdict" >&2; status=1; }
echo "good.json: $verdict"
case "$verdict" in PASS*) ;; *) status=1 ;; esac
# A call interrupted by a restart is accounted for, and fails --strict.
verdict=$(node "$verifier" "$out/interrupted.json" --trust "$trust") || status=1
echo "interrupted.json: $verdict"
case "$verdict" in "PASS 4 receipts, 1 interrupted") ;; *) echo "  want PASS with 1 interrupted" >&2; status=1 ;; esac
verdict=$(node "$verifier" "$out/interrupted.json" --trust "$trust" --strict) && status=1
echo "interrupted.json --strict: $verdict"
case "$verdict" in "FAIL RECEIPT_INTERRUPTED_CALL"*) ;; *) echo "  want FAIL RECEIPT_INTERRUPTED_CALL" >&2; status=1 ;; esac
count=0
for bundle in "$out"/bad-*.json; do
  want=$(basename "$bundle" .json | sed 's/^bad-//; s/--.*//')
  if verdict=$(node "$verifier" "$bundle" --trust "$trust"); then
    echo "$(basename "$bundle"): accepted by the JS verifier: $verdict" >&2
    status=1
    continue
  fi
  echo "$(basename "$bundle"): $verdict"
  case "$verdict" in "FAIL $want"*) ;; *) echo "  want FAIL $want" >&2; status=1 ;; esac
  count=$((count + 1))
done
[ "$count" -ge 9 ] || { echo "only $count tampered bundles were made" >&2; status=1; }
# Without --trust nothing passes.
if node "$verifier" "$out/good.json" >/dev/null; then echo "passed without --trust" >&2; status=1; fi
exit $status
