#!/usr/bin/env bash
# `clawjail bundle report` as an auditor sees it: a real supervisor runs a job with allowed,
# blocked (WPC-denied tools, a path outside the workspace), killed, timed-out and hostile calls
# (markup planted in a command line and in file names); the bundle is exported and reported, and
# headless Chromium opens the HTML from a file:// URL: the DOM shows the verdict, every call and
# the blocked reasons, the planted markup is text only (no <script> or <img> element from the job),
# and a screenshot is a non-empty PNG. A tampered bundle and one whose chain has a gap still
# render, marked FAIL with their reason code and (for the gap) where the chain breaks; exit 1.
# usage: bundle_report_test.sh SOURCE_DIR CLAWJAIL_BINARY CHROMIUM [SCREENSHOT_COPY]
set -euo pipefail
src=$1 bin=$(realpath "$2") chromium=$3 keep_png=${4:-}
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (the supervisor maps subordinate uids)"; exit 77; }
[ -x "$chromium" ] || fail "chromium not found ($chromium): scripts/install-deps.sh installs it"
command -v jq >/dev/null || fail "jq not found: scripts/install-deps.sh installs it"

work=$(mktemp -d /var/tmp/clawjail-report-XXXXXX)
chmod 755 "$work"
serve=
trap '[ -n "$serve" ] && { kill -TERM $serve 2>/dev/null; wait $serve 2>/dev/null; }; rm -rf "$work"' EXIT
. "$src/tests/common/supervisor_world.sh"
supervisor_world "$work" "$bin" report-world
# The auditor trusts the supervisor's did:key as keygen printed it (not as the bundle names it).
rm "$work/state/keys/supervisor.key" "$work/state/keys/supervisor.pub"
supervisor_did=$("$bin" keygen --out "$work/state/keys" --name supervisor)
# This job's WPC: exec and the file tools in the workspace, a 1.5 s timeout; no process tool.
cat >"$work/wpc.json" <<JSON
{ "wpc_version": "v1", "policy_id": "report", "issuer_did": "$(cat "$work/signer.did")",
  "tools": { "allow": ["exec", "read", "write:workspace", "ls"], "deny": ["docker_socket"] },
  "tokens": { "require_cst": true, "pin_wpc_hash": true },
  "sandbox": { "workspace_access": "rw", "limits": { "timeout_ms": 1500 } } }
JSON
"$bin" wpc sign --key "$work/keys/signer.key" "$work/wpc.json" >"$work/wpc.env.json"
hash=$("$bin" wpc install --config "$work/config.json" "$work/wpc.env.json")
job=job-report
"$bin" cst issue --key "$work/keys/issuer.key" --kid issuer-1 --sub "$(cat "$work/agent.did")" --job $job \
  --policy "$hash" --ttl 600 --out "$work/job.cst" >/dev/null

"$bin" serve --config "$work/config.json" >"$work/serve.log" 2>&1 &
serve=$!
for _ in $(seq 200); do [ -S "$work/run/clawjail.sock" ] && break; sleep 0.05; done
[ -S "$work/run/clawjail.sock" ] || { cat "$work/serve.log" >&2; fail "the supervisor did not start"; }

ws=$work/workspace
mkdir -p "$ws"
run() { "$bin" run --config "$work/config.json" --job $job --cst-file "$work/job.cst" --workspace "$ws" "$@" </dev/null; }
fs() { "$bin" fs --config "$work/config.json" --job $job --cst-file "$work/job.cst" --workspace "$ws" "$@" </dev/null; }
hostile_cmd='<script>alert(1)</script>'
hostile_file='<img src=x onerror=alert(2)>.txt'
expect() {  # expect CODE WHAT COMMAND...
  local want=$1 what=$2 got=0
  shift 2
  "$@" >"$work/out" 2>&1 || got=$?
  [ "$got" = "$want" ] || { cat "$work/out" >&2; fail "$what: exit $got, expected $want"; }
}
expect 0 "allowed echo" run -- /bin/echo hello
expect 0 "a hostile file name written" sh -c "printf x | \"\$0\" fs --config '$work/config.json' --job $job --cst-file '$work/job.cst' --workspace '$ws' write '$hostile_file'" "$bin"
expect 3 "a command line with markup" run -- /bin/sh -c "exit 3" "$hostile_cmd"
expect 126 "a background process (WPC: no process tool)" run --background -- /bin/true
expect 126 "elevated mode" run --elevated -- /bin/true
expect 1 "a path outside the workspace named with markup" fs read "../$hostile_file"
expect 1 "a path outside the workspace named with a script" fs read "../$hostile_cmd"
expect 124 "a call past the WPC's timeout" run -- /bin/sleep 30
expect 137 "a call that dies of SIGKILL (status error, signal 9)" run --shell -- 'kill -9 $$'
ok "the job ran: allowed, blocked, failed, timed-out and SIGKILLed calls"

"$bin" bundle export --config "$work/config.json" --job $job --out "$work/job.bundle.json"

report=$work/report.html
code=0
"$bin" bundle report "$work/job.bundle.json" --trust "$supervisor_did" --out "$report" 2>"$work/report.err" || code=$?
[ $code = 0 ] || { cat "$work/report.err" >&2; fail "bundle report of an intact bundle: exit $code"; }
"$bin" bundle report "$work/job.bundle.json" --trust "$supervisor_did" --json >"$work/report.json"
calls=$(jq '.calls | length' "$work/report.json")
[ "$calls" = 9 ] || fail "the model holds $calls calls, expected 9"
[ "$(jq -r '.verdict.result' "$work/report.json")" = PASS ] || fail "the model's verdict is not PASS"
[ "$(jq '.job.cst | has("token")' "$work/report.json")" = false ] || fail "the model carries the raw token"
ok "report written; its --json model: PASS, 9 calls, no token"

# Chromium as a person would open it: file://, no network, no sandbox (root), a throwaway profile.
browse() {  # browse HTML OUT_PREFIX: dumps the DOM to OUT_PREFIX.dom and a screenshot to OUT_PREFIX.png
  local profile
  profile=$(mktemp -d "$work/chromium-XXXXXX")
  timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --user-data-dir="$profile" --no-first-run \
    --disable-extensions --dump-dom "file://$1" >"$2.dom" 2>"$2.log" || { tail -5 "$2.log" >&2; fail "chromium --dump-dom"; }
  timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --user-data-dir="$profile" --no-first-run \
    --disable-extensions --hide-scrollbars --window-size=1000,2400 --screenshot="$2.png" "file://$1" >>"$2.log" 2>&1 ||
    { tail -5 "$2.log" >&2; fail "chromium --screenshot"; }
}
# report_failing BUNDLE OUT_PREFIX WHAT: the report of a bundle that fails verification is still
# written, with exit 1; Chromium opens it (OUT_PREFIX.dom, OUT_PREFIX.png).
report_failing() {
  local code=0
  "$bin" bundle report "$1" --trust "$supervisor_did" --out "$2.html" 2>"$2.err" || code=$?
  [ $code = 1 ] || { cat "$2.err" >&2; fail "bundle report of $3: exit $code, expected 1"; }
  browse "$2.html" "$2"
}
browse "$report" "$work/pass"
dom=$work/pass.dom
grep -q 'id="verdict-result">PASS<' "$dom" || fail "the DOM does not show the PASS verdict"
grep -q "class=\"trusted\">$supervisor_did<" "$dom" || fail "the DOM does not name the trusted key"
for id in $(jq -r '.calls[].call_id' "$work/report.json"); do
  grep -q "class=\"call-id\">$id<" "$dom" || fail "call $id is not in the DOM"
done
for reason in EXEC_DENIED ELEVATED_DENIED PATH_OUTSIDE_WORKSPACE; do
  grep -q "class=\"reason-code\">$reason<" "$dom" || fail "reason $reason is not in the DOM"
done
grep -q 'class="blocked-reason">EXEC_DENIED<' "$dom" || fail "the blocked-by-reason chart lacks EXEC_DENIED"
for outcome in success blocked timeout error; do
  grep -q "class=\"tag o-$outcome\">$outcome<" "$dom" || fail "no call shown as $outcome"
done
# The planted markup: text in the DOM (escaped), never an element. The page's own markup has no
# <script> and no <img>; the only elements are the template's.
grep -qF '&lt;img src=x onerror=alert(2)&gt;.txt' "$dom" || fail "the hostile file name is not shown as text"
grep -qF '&lt;script&gt;alert(1)&lt;/script&gt;' "$dom" || fail "the planted script is not shown as text"
if grep -qiE '<script|<img' "$dom"; then grep -oiE '.{60}<(script|img).{60}' "$dom" >&2; fail "a <script> or <img> element is in the DOM"; fi
grep -qiE '<img|<script' "$report" && fail "the report's HTML holds a raw <img or <script"
grep -q "Content-Security-Policy\" content=\"default-src 'none'" "$report" || fail "no CSP meta tag"
grep -qiE '(src|href)="(https?:)?//' "$report" && fail "the report references the network"
[ "$(head -c 8 "$work/pass.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "the screenshot is not a PNG"
[ "$(stat -c %s "$work/pass.png")" -gt 10000 ] || fail "the screenshot is (nearly) empty"
ok "chromium: PASS verdict, $calls calls, blocked reasons, markup inert, screenshot $(stat -c %s "$work/pass.png") bytes"
[ -n "$keep_png" ] && cp "$work/pass.png" "$keep_png"

# The Claw form is not reported (its events are the native receipts'): the command says which file to use.
mkdir "$work/claw"
"$bin" bundle export --config "$work/config.json" --job $job --format claw --out "$work/claw/job.json" 2>/dev/null
code=0
"$bin" bundle report "$work/claw/job.json" --trust "$supervisor_did" >/dev/null 2>"$work/claw.err" || code=$?
[ $code = 2 ] && grep -q "Claw form: report the native bundle" "$work/claw.err" || fail "a Claw-form file: exit $code, $(cat "$work/claw.err")"
"$bin" bundle report "$work/claw/job.native.json" --trust "$supervisor_did" --json | jq -e '.verdict.result == "PASS"' >/dev/null ||
  fail "the native bundle beside the Claw form does not report PASS"
ok "a Claw-form file is refused with exit 2, naming the native bundle beside it, which reports PASS"

# A tampered bundle: one receipt's payload swapped for another's. The report still renders, FAIL.
jq '(.payload | @base64d | fromjson) as $b | .payload = ($b | .receipts[3].payload = $b.receipts[2].payload | tojson | @base64)' \
  "$work/job.bundle.json" >"$work/tampered.json"
report_failing "$work/tampered.json" "$work/fail" "a tampered bundle"
grep -q 'class="verdict fail"' "$work/fail.dom" || fail "the tampered report is not marked as failing"
grep -q 'id="verdict-result">FAIL BUNDLE_SIGNATURE_INVALID<' "$work/fail.dom" || fail "the tampered report lacks FAIL BUNDLE_SIGNATURE_INVALID"
grep -q 'id="unverified-note"' "$work/fail.dom" || fail "the tampered report does not say it is unverified"
ok "a tampered bundle: exit 1, the report renders FAIL BUNDLE_SIGNATURE_INVALID"

# A receipt deleted from the job's log before export (someone with write access to the state
# directory): the bundle is signed, but the chain has a gap. The report says where it breaks.
kill -TERM $serve; wait $serve || true
serve=
sed -i 3d "$work/state/receipts/$job.log"
"$bin" bundle export --config "$work/config.json" --job $job --out "$work/gap.bundle.json"
report_failing "$work/gap.bundle.json" "$work/gap" "a bundle with a gap"
grep -q 'id="verdict-result">FAIL RECEIPT_SEQ_GAP<' "$work/gap.dom" || fail "the gap report lacks FAIL RECEIPT_SEQ_GAP"
grep -q 'The check stopped at receipt #2' "$work/gap.dom" || fail "the gap report does not say where the chain breaks"
grep -q '<td>1</td><td>1</td><td>finished</td>' "$work/gap.dom" || fail "receipt #1 is not shown"
[ "$(grep -o '<td>yes</td>' "$work/gap.dom" | wc -l)" = 2 ] || fail "receipts #0 and #1 are not the only verified ones"
[ "$(grep -o '<td>NO</td>' "$work/gap.dom" | wc -l)" = "$(($(jq '.verdict.receipts' "$work/report.json") - 3))" ] ||
  fail "the receipts from the gap on are not all marked unverified"
ok "a receipt deleted from the log: exit 1, FAIL RECEIPT_SEQ_GAP, broken at receipt #2, later receipts unverified"

# The demo's own job, as a new operator would report it after `clawjail demo --keep`.
"$bin" demo --keep >"$work/demo.out" 2>&1 || { tail -20 "$work/demo.out" >&2; fail "clawjail demo"; }
demo_dir=$(sed -n 's/^Everything is kept in //p' "$work/demo.out")
trap '[ -n "$serve" ] && { kill -TERM $serve 2>/dev/null; wait $serve 2>/dev/null; }; rm -rf "$work" "$demo_dir"' EXIT
demo_did=$(awk '/keys: +supervisor did:key:/ {print $3}' "$work/demo.out")
[ -f "$demo_dir/demo-job.bundle.json" ] && [ -n "$demo_did" ] || fail "the demo kept no bundle: $(tail -5 "$work/demo.out")"
"$bin" bundle report "$demo_dir/demo-job.bundle.json" --trust "$demo_did" --out "$work/demo.html" ||
  fail "bundle report of the demo's job"
"$bin" bundle report "$demo_dir/demo-job.bundle.json" --trust "$demo_did" --json >"$work/demo.json"
browse "$work/demo.html" "$work/demo"
grep -q 'id="verdict-result">PASS<' "$work/demo.dom" || fail "the demo's report does not show PASS"
demo_calls=0
for id in $(jq -r '.calls[].call_id' "$work/demo.json"); do
  grep -q "class=\"call-id\">$id<" "$work/demo.dom" || fail "the demo's call $id is not in the DOM"
  demo_calls=$((demo_calls + 1))
done
for reason in $(jq -r '[.calls[] | select(.outcome == "blocked") | .reason_code] | unique | .[]' "$work/demo.json"); do
  grep -q "class=\"reason-code\">$reason<" "$work/demo.dom" || fail "the demo's blocked reason $reason is not in the DOM"
done
[ "$demo_calls" -ge 4 ] || fail "the demo's report shows only $demo_calls calls"
ok "the demo's job: PASS, $demo_calls calls and their blocked reasons in the DOM"
