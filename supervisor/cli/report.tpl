{{%AUTOESCAPE context="HTML"}}<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'">
<meta name="referrer" content="no-referrer">
<title>clawjail report: {{JOB_ID}} ({{RESULT}})</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:0 auto;max-width:1000px;padding:1em;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;border-bottom:1px solid #ccc;margin-top:1.6em}
code,.mono{font-family:ui-monospace,monospace;font-size:12px;word-break:break-all}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f4f4f4}
.verdict{padding:.8em 1em;border-radius:6px;border:2px solid}
.verdict.pass{background:#e9f7ec;border-color:#2e7d32}.verdict.fail{background:#fdeaea;border-color:#c62828;color:#8e0000}
.verdict .big{font-size:1.6em;font-weight:bold}
.warn{color:#8e0000;font-weight:bold}
.tag{display:inline-block;padding:0 6px;border-radius:3px;font-size:12px;color:#fff;background:#555}
.o-success{background:#2e7d32}.o-blocked{background:#c62828}.o-timeout{background:#ef6c00}.o-killed{background:#6a1b9a}
.o-limit{background:#ad1457}.o-interrupted{background:#455a64}.o-error{background:#795548}.o-unfinished{background:#000}
details{border:1px solid #ddd;border-radius:4px;margin:4px 0;padding:2px 8px}
details.unverified{border-color:#c62828;background:#fff6f6}
summary{cursor:pointer}
svg text{font:11px system-ui,sans-serif;fill:#222}
.bar-success{fill:#2e7d32}.bar-timeout{fill:#ef6c00}.bar-killed{fill:#6a1b9a}.bar-limit{fill:#ad1457}
.bar-interrupted{fill:#455a64}.bar-error{fill:#795548}.bar-unfinished{fill:#000}.bar-blocked{fill:#c62828}
</style>
</head>
<body>
<h1>clawjail proof bundle report</h1>
<div class="verdict {{VERDICT_CLASS}}" id="verdict">
<div class="big" id="verdict-result">{{RESULT}}{{#FAILED}} {{REASON_CODE}}{{/FAILED}}</div>
<div>reason code: <code id="verdict-reason">{{REASON_CODE}}</code></div>
<div>detail: <span id="verdict-detail">{{DETAIL}}</span></div>
<div>trusted supervisor key(s):{{#TRUSTED}} <code class="trusted">{{DID}}</code>{{/TRUSTED}}</div>
<div>receipts checked: {{RECEIPTS}}</div>
{{#FAILED}}<p class="warn" id="unverified-note">This bundle did NOT verify. Everything below is read from the bundle without trusting it.{{#BROKEN_AT}} The check stopped at receipt #{{INDEX}}: that receipt and the ones after it are marked unverified.{{/BROKEN_AT}}</p>{{/FAILED}}
{{#INTERRUPTED}}<p>Interrupted by the supervisor's death (accounted for):{{#ICALL}} <code>{{ID}}</code>{{/ICALL}}</p>{{/INTERRUPTED}}
{{#UNREADABLE}}<p class="warn">The bundle's payload could not be read at all.</p>{{/UNREADABLE}}
</div>

<h2>Job</h2>
<table id="job">
<tr><th>job id</th><td><code>{{JOB_ID}}</code></td></tr>
<tr><th>WPC hash</th><td><code>{{POLICY_HASH}}</code></td></tr>
<tr><th>WPC signer</th><td><code>{{WPC_SIGNER}}</code></td></tr>
<tr><th>bundle created</th><td>{{CREATED_AT}}</td></tr>
<tr><th>time span</th><td>{{FIRST_AT}} &rarr; {{LAST_AT}} ({{SPAN_MS}} ms)</td></tr>
<tr><th>calls</th><td>{{CALL_COUNT}}: {{#DECISION}}{{NAME}} {{N}}; {{/DECISION}} outcomes: {{#OUTCOME}}<span class="tag o-{{NAME}}">{{NAME}} {{N}}</span> {{/OUTCOME}}</td></tr>
</table>

<h3>Calls by tool</h3>
<table id="by-tool"><tr><th>tool</th><th>allowed</th><th>blocked</th></tr>
{{#TOOL_COUNT}}<tr><td>{{TOOL}}</td><td>{{ALLOWED}}</td><td>{{BLOCKED}}</td></tr>
{{/TOOL_COUNT}}</table>

<h3>CST claims (the token itself is never shown)</h3>
{{#NO_CST}}<p>No CST recorded for this job.</p>{{/NO_CST}}
{{#CST}}<table id="cst"><tr><th>issuer kid</th><td><code>{{KID}}</code></td></tr>
<tr><th>token SHA-256</th><td><code>{{TOKEN_HASH}}</code></td></tr>
{{#CLAIM}}<tr><th>{{NAME}}</th><td><code>{{VALUE}}</code></td></tr>
{{/CLAIM}}</table>{{/CST}}

<h2>What the WPC allows (as <code>clawjail explain</code>)</h2>
{{#NO_POLICY}}<p class="warn">The bundled WPC could not be read: {{WHY}}</p>{{/NO_POLICY}}
{{#POLICY}}<p>jail hash <code>{{JAIL_HASH}}</code>; {{CST_REQUIRED}}; namespaces: {{NAMESPACES}}; network: {{NETWORK}}</p>
<table id="tools"><tr><th>tool</th><th>decision</th><th>reason</th></tr>
{{#TOOL}}<tr><td>{{NAME}}</td><td><span class="tag o-{{CLASS}}">{{DECISION}}</span></td><td><code>{{REASON_CODE}}</code> {{REASON}}</td></tr>
{{/TOOL}}</table>
<h3>Mounts</h3>
<table><tr><th>path</th><th>type</th><th>mode</th><th>source</th></tr>
{{#MOUNT}}<tr><td><code>{{PATH}}</code></td><td>{{TYPE}}</td><td>{{MODE}}</td><td><code>{{SOURCE}}</code></td></tr>
{{/MOUNT}}</table>
<p>limits: {{#LIMIT}}<code>{{NAME}}={{VALUE}}</code> {{/LIMIT}}</p>
<p>seccomp: {{SECCOMP}}</p>{{/POLICY}}

<h2>Timeline</h2>
<p>Each row is a call: a bar from started to finished, coloured by how it ended; a blocked call is a red mark. Times are from the job's first receipt.</p>
<svg id="timeline" xmlns="http://www.w3.org/2000/svg" width="{{TL_WIDTH}}" height="{{TL_HEIGHT}}" role="img" aria-label="timeline of calls">
{{#ROW}}<text x="2" y="{{TEXT_Y}}">{{LABEL}}</text>{{#BAR}}<rect class="bar-{{OUTCOME}}" x="{{X}}" y="{{Y}}" width="{{W}}" height="12"><title>{{TIP}}</title></rect>{{/BAR}}{{#MARK}}<rect class="bar-blocked" x="{{X}}" y="{{Y}}" width="6" height="12" transform="rotate(45 {{CX}} {{CY}})"><title>{{TIP}}</title></rect>{{/MARK}}
{{/ROW}}<text x="{{AXIS_X}}" y="{{AXIS_Y}}">0 ms</text><text x="{{AXIS_END}}" y="{{AXIS_Y}}" text-anchor="end">{{AXIS_MS}} ms</text>
</svg>

<h2>Call durations</h2>
<svg id="durations" xmlns="http://www.w3.org/2000/svg" width="{{DUR_WIDTH}}" height="{{DUR_HEIGHT}}" role="img" aria-label="call durations">
{{#DUR}}<text x="2" y="{{TEXT_Y}}">{{LABEL}}</text><rect class="bar-{{OUTCOME}}" x="{{X}}" y="{{Y}}" width="{{W}}" height="12"></rect><text x="{{VX}}" y="{{TEXT_Y}}">{{MS}} ms</text>
{{/DUR}}</svg>

<h2>Blocked calls by reason</h2>
{{#NO_BLOCKED}}<p>No call was blocked.</p>{{/NO_BLOCKED}}
<svg id="blocked" xmlns="http://www.w3.org/2000/svg" width="{{BLK_WIDTH}}" height="{{BLK_HEIGHT}}" role="img" aria-label="blocked calls by reason">
{{#BLK}}<text x="2" y="{{TEXT_Y}}" class="blocked-reason">{{REASON_CODE}}</text><rect class="bar-blocked" x="{{X}}" y="{{Y}}" width="{{W}}" height="12"></rect><text x="{{VX}}" y="{{TEXT_Y}}">{{N}}</text>
{{/BLK}}</svg>

<h2>Calls</h2>
<div id="calls">
{{#CALL}}<details class="call {{VERIFIED_CLASS}}" id="call-{{INDEX}}">
<summary><span class="tag o-{{OUTCOME}}">{{OUTCOME}}</span> <code class="call-id">{{CALL_ID}}</code> {{TOOL}} at +{{OFFSET_MS}} ms, {{DURATION_MS}} ms: <code class="reason-code">{{REASON_CODE}}</code> <span class="reason">{{REASON}}</span>{{#UNVERIFIED}} <span class="warn">UNVERIFIED</span>{{/UNVERIFIED}}</summary>
<table>
<tr><th>decision</th><td>{{DECISION}}</td></tr>
<tr><th>scopes</th><td>{{SCOPES}}</td></tr>
<tr><th>reason</th><td><code>{{REASON_CODE}}</code> <span class="reason-full">{{REASON}}</span></td></tr>
<tr><th>started / finished</th><td>{{STARTED_AT}} &rarr; {{FINISHED_AT}}</td></tr>
<tr><th>agent</th><td><code>{{AGENT}}</code></td></tr>
<tr><th>CST jti</th><td><code>{{CST_JTI}}</code></td></tr>
<tr><th>jail hash</th><td><code>{{JAIL_HASH}}</code></td></tr>
<tr><th>request hash</th><td><code>{{REQUEST_HASH}}</code></td></tr>
{{#RESULT}}<tr><th>exit</th><td>status {{STATUS}}, exit code {{EXIT_CODE}}, signal {{SIGNAL}}</td></tr>
<tr><th>stdout</th><td>{{STDOUT_BYTES}} bytes, SHA-256 <code>{{STDOUT_HASH}}</code></td></tr>
<tr><th>stderr</th><td>{{STDERR_BYTES}} bytes, SHA-256 <code>{{STDERR_HASH}}</code>{{#TRUNCATED}} (output truncated){{/TRUNCATED}}</td></tr>
<tr><th>violations</th><td>{{#VIOLATION}}<code>{{SYSCALL}}</code> &times;{{COUNT}} {{/VIOLATION}}{{NO_VIOLATIONS}}</td></tr>
{{#ERROR}}<tr><th>error</th><td><code>{{REASON_CODE}}</code> {{REASON}}</td></tr>{{/ERROR}}{{/RESULT}}
</table>
<table class="receipts"><tr><th>#</th><th>seq</th><th>phase</th><th>time</th><th>receipt id</th><th>verified</th></tr>
{{#RECEIPT}}<tr><td>{{INDEX}}</td><td>{{SEQ}}</td><td>{{PHASE}}</td><td>{{TIMESTAMP}}</td><td><code>{{RECEIPT_ID}}</code></td><td>{{VERIFIED}}</td></tr>
{{/RECEIPT}}</table>
</details>
{{/CALL}}</div>
<p><small>Generated by clawjail {{VERSION}} from the bundle alone; no network, no script.</small></p>
</body>
</html>
