#!/bin/sh
# The evidence commands of docs/cli.md on a real state directory written by the receipts library:
# receipts show, bundle export, bundle verify (PASS, tampered FAIL, unfinished FAIL, interrupted
# PASS and --strict FAIL, no --trust).
set -u
maker=$1
clawjail=$2
out=$(mktemp -d /var/tmp/clawjail-cli-evidence.XXXXXX)
trap 'rm -rf "$out"' EXIT
"$maker" "$out" || exit 1
trust=$(cat "$out/trust.txt")
cfg="$out/config.json"
status=0
fail() { echo "FAILED: $*" >&2; status=1; }

shown=$("$clawjail" receipts show --config "$cfg" --job js-job) || fail "receipts show exit $?"
echo "$shown"
[ "$(echo "$shown" | wc -l)" -eq 5 ] || fail "receipts show: want 5 lines"
echo "$shown" | grep -q "blocked .*EXEC_DENIED" || fail "receipts show: no blocked line"
echo "$shown" | grep -q "finished .*success exit=0" || fail "receipts show: no finished result"
json=$("$clawjail" receipts show --config "$cfg" --job js-job --json) || fail "receipts show --json"
echo "$json" | node -e 'const j=JSON.parse(require("fs").readFileSync(0,"utf8")); if (j.receipts.length!==5||j.torn!==null) process.exit(1)' \
  || fail "receipts show --json: unexpected document"
printf '{"payloadType":"appl' >> "$out/state/receipts/js-job.log"
torn=$("$clawjail" receipts show --config "$cfg" --job js-job 2>&1 >/dev/null)
echo "$torn" | grep -q "torn final line" || fail "receipts show did not report the torn line: $torn"
"$clawjail" receipts show --config "$cfg" --job ../etc >/dev/null 2>&1 && fail "receipts show accepted ../etc"

"$clawjail" bundle export --config "$cfg" --job js-job --out "$out/b.json" || fail "bundle export exit $?"
verdict=$("$clawjail" bundle verify "$out/b.json" --trust "$trust"); code=$?
echo "$verdict"
[ $code -eq 0 ] && echo "$verdict" | head -1 | grep -qx PASS || fail "bundle verify of a real bundle: $verdict (exit $code)"
"$clawjail" bundle verify "$out/b.json" --trust "$trust" --json | grep -q '"result":"PASS"' || fail "--json"

"$clawjail" bundle export --config "$cfg" --job js-open --out "$out/open.json" || fail "export js-open"
verdict=$("$clawjail" bundle verify "$out/open.json" --trust "$trust"); code=$?
echo "$verdict"
[ $code -eq 1 ] && echo "$verdict" | grep -q "^FAIL RECEIPT_UNFINISHED_CALL .*c-hung" || fail "unfinished: $verdict (exit $code)"

# A call interrupted by a restart: shown without crashing, accounted for, counted, --strict fails.
shown=$("$clawjail" receipts show --config "$cfg" --job js-intr) || fail "receipts show js-intr exit $?"
echo "$shown"
echo "$shown" | grep -q "finished .*SUPERVISOR_RESTARTED *interrupted \".*\"  call=c-int" || fail "receipts show: no interrupted line"
"$clawjail" bundle export --config "$cfg" --job js-intr --out "$out/intr.json" || fail "export js-intr"
verdict=$("$clawjail" bundle verify "$out/intr.json" --trust "$trust"); code=$?
echo "$verdict"
[ $code -eq 0 ] && echo "$verdict" | head -1 | grep -qx PASS && echo "$verdict" | grep -q "1 call(s) interrupted" \
  || fail "interrupted: $verdict (exit $code)"
"$clawjail" bundle verify "$out/intr.json" --trust "$trust" --json | grep -q '"interrupted_calls":\["c-int"\]' \
  || fail "--json does not list the interrupted call"
verdict=$("$clawjail" bundle verify "$out/intr.json" --trust "$trust" --strict); code=$?
echo "$verdict"
[ $code -eq 1 ] && echo "$verdict" | grep -q "^FAIL RECEIPT_INTERRUPTED_CALL .*c-int" || fail "--strict: $verdict (exit $code)"

verdict=$("$clawjail" bundle verify "$out/bad-RECEIPT_SEQ_GAP.json" --trust "$trust"); code=$?
echo "$verdict"
[ $code -eq 1 ] && echo "$verdict" | grep -q "^FAIL RECEIPT_SEQ_GAP" || fail "tampered: $verdict (exit $code)"
verdict=$("$clawjail" bundle verify "$out/b.json" --trust did:key:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw); code=$?
[ $code -eq 1 ] && echo "$verdict" | grep -q "^FAIL BUNDLE_UNTRUSTED_KEY" || fail "other trust: $verdict (exit $code)"
err=$("$clawjail" bundle verify "$out/b.json" 2>&1); code=$?
[ $code -ne 0 ] && echo "$err" | grep -q "TRUST_REQUIRED" || fail "no --trust: $err (exit $code)"
"$clawjail" bundle verify "$out/b.json" --trust not-a-did >/dev/null 2>&1 && fail "bad --trust accepted"
echo 'not json' > "$out/junk.json"
verdict=$("$clawjail" bundle verify "$out/junk.json" --trust "$trust"); code=$?
[ $code -eq 1 ] && echo "$verdict" | grep -q "^FAIL BUNDLE_MALFORMED" || fail "junk: $verdict (exit $code)"
"$clawjail" bundle export --config "$cfg" --job js-job --include-token >/dev/null 2>&1 && fail "--include-token without a recorded token"
"$clawjail" bundle export --config "$cfg" --job no-such-job >/dev/null 2>&1 && fail "export of a missing job"
exit $status
