#!/bin/sh
# The evidence commands of docs/cli.md on a real state directory written by the receipts library:
# receipts show, bundle export, bundle verify (PASS, tampered FAIL, unfinished FAIL, interrupted
# PASS and --strict FAIL, no --trust), receipts verify (log lines, journal entries, edited fields).
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

# receipts verify: receipts away from their log, as a job's log lines (DSSE envelopes) and as the
# journal entries journald holds of them (fields as receipts/journal.cc writes them).
head -5 "$out/state/receipts/js-job.log" >"$out/envelopes.jsonl"
v=$("$clawjail" receipts verify --trust "$trust" "$out/envelopes.jsonl"); code=$?
echo "$v"
[ $code -eq 0 ] && [ "$(echo "$v" | grep -c '^PASS - job=js-job ')" -eq 5 ] || fail "receipts verify of log lines: $v (exit $code)"
jq -c '. as $e | ($e.payload | @base64d | fromjson) as $p |
  { _HOSTNAME: "host-a", SYSLOG_IDENTIFIER: "clawjail", CLAWJAIL_JOB: $p.job_id, CLAWJAIL_CALL: $p.call_id,
    CLAWJAIL_TOOL: $p.tool, CLAWJAIL_PHASE: $p.phase, CLAWJAIL_DECISION: $p.decision, CLAWJAIL_REASON: $p.reason_code,
    CLAWJAIL_RECEIPT_ID: $p.receipt_id, CLAWJAIL_SEQ: ($p.seq | tostring), CLAWJAIL_RECEIPT: ($e | tojson) }' \
  "$out/envelopes.jsonl" >"$out/journal.jsonl" || fail "could not make journal entries"
v=$("$clawjail" receipts verify --trust "$trust" <"$out/journal.jsonl"); code=$?
[ $code -eq 0 ] && [ "$(echo "$v" | grep -c "^PASS host-a job=js-job .* signer=$trust\$")" -eq 5 ] ||
  fail "receipts verify of journal entries from stdin: $v (exit $code)"
# An unsigned field that says other than the signature (a blocked call shown as allowed).
jq -c 'select(.CLAWJAIL_PHASE == "blocked") | .CLAWJAIL_DECISION = "allowed"' "$out/journal.jsonl" >"$out/edited.jsonl"
v=$("$clawjail" receipts verify --trust "$trust" "$out/edited.jsonl"); code=$?
[ $code -eq 1 ] && echo "$v" | grep -q '^FAIL line 1 host-a RECEIPT_PAYLOAD_INVALID journal field CLAWJAIL_DECISION is "allowed", the signed receipt says "blocked"' ||
  fail "an edited journal field: $v (exit $code)"
# A signature that does not verify, a key not trusted, an entry that is not a receipt.
jq -c '.CLAWJAIL_RECEIPT |= (fromjson | .signatures[0].sig |= (.[0:4] + (if .[4:5] == "A" then "B" else "A" end) + .[5:]) | tojson)' \
  "$out/journal.jsonl" | head -1 >"$out/forged.jsonl"
v=$("$clawjail" receipts verify --trust "$trust" "$out/forged.jsonl"); code=$?
[ $code -eq 1 ] && echo "$v" | grep -q "^FAIL line 1 host-a RECEIPT_SIGNATURE_INVALID" || fail "a bad signature: $v (exit $code)"
v=$("$clawjail" receipts verify --trust did:key:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw "$out/journal.jsonl"); code=$?
[ $code -eq 1 ] && [ "$(echo "$v" | grep -c '^FAIL line [1-5] host-a RECEIPT_UNTRUSTED_KEY')" -eq 5 ] || fail "another key: $v (exit $code)"
(head -1 "$out/journal.jsonl"; echo '{"_HOSTNAME":"host-a","MESSAGE":"not a receipt"}') >"$out/mixed.jsonl"
v=$("$clawjail" receipts verify --trust "$trust" "$out/mixed.jsonl"); code=$?
[ $code -eq 1 ] && echo "$v" | grep -q '^PASS host-a' && echo "$v" | grep -q '^FAIL line 2 host-a RECEIPT_PAYLOAD_INVALID neither' ||
  fail "an entry that is not a receipt: $v (exit $code)"
err=$("$clawjail" receipts verify "$out/journal.jsonl" 2>&1); code=$?
[ $code -eq 2 ] && echo "$err" | grep -q "TRUST_REQUIRED" || fail "receipts verify without --trust: $err (exit $code)"
"$clawjail" receipts verify --trust "$trust" </dev/null >/dev/null 2>&1 && fail "receipts verify of nothing passed"
exit $status
