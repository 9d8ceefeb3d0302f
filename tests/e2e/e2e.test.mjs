// OpenClaw end to end: a real OpenClaw gateway with the clawjail plugin as its sandbox backend, a
// real `clawjail serve`, and real tool calls made by OpenClaw's own tool code (cron script jobs).
// Started by tests/e2e/run.sh, which installs OpenClaw, owns the work directory and stops every
// process it recorded, whatever happens here.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { Gateway, Operator, clawjail, env, freePort, log, run, runAsync, scriptOf, stopDaemon, textOf, waitFor } from "./harness.mjs";
import { startScriptedModel } from "./scripted-model.mjs";

const JOB = "job-openclaw-e2e";
// The two-agent gateway: one job per OpenClaw agent.
const AGENT_JOBS = { coder: "job-openclaw-coder", reader: "job-openclaw-reader" };
// The coder's WPC: a foreground call dies after this; its background calls live up to 120 s.
const CODER_TIMEOUT_MS = 4000;
const W = env.work;
const ws = path.join(W, "workspace");
const cstFile = path.join(W, "job.cst");
const operator = new Operator(W);
const { socket, configFile, dids } = operator;
let supervisor;
let gateway;
let model;
const policies = {};

function wpcPayload(id, tools, job = JOB, limits = { timeout_ms: 60000 }) {
  return operator.wpcPayload(id, tools, job, limits);
}

function installWpc(name, payload) {
  return operator.installWpc(name, payload);
}

// The operator's issuer rotates this file (as clawjail-cst@JOB.service does); the plugin hands its
// path to every call.
function issueCst(policyHash, ttl = 3600, { job = JOB, out = cstFile } = {}) {
  operator.issueCst(policyHash, { ttl, job, out });
}

// The job's receipt payloads, in order (`receipts show --json`: {job_id, receipts:[payload…], torn}).
function receipts(job = JOB) {
  const r = clawjail(["receipts", "show", "--job", job, "--json", "--config", configFile], { allowFailure: true });
  if (r.status !== 0) {
    if (/no receipt log for job/.test(r.stderr)) return [];  // no call yet
    throw new Error(`clawjail receipts show failed: ${r.stderr}`);
  }
  const out = JSON.parse(r.stdout);
  assert.equal(out.torn ?? null, null, "the receipt log has a torn line");
  return out.receipts;
}

// A scripted OpenAI-compatible model on loopback, run by OpenClaw's embedded agent runtime.
function modelConfig(modelPort) {
  return {
    mode: "merge",
    providers: {
      scripted: {
        baseUrl: `http://127.0.0.1:${modelPort}/v1`, apiKey: "scripted", api: "openai-completions",
        agentRuntime: { id: "openclaw" },
        models: [{ id: "scripted", name: "Scripted", reasoning: false, input: ["text"],
                   cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 }, contextWindow: 120000, maxTokens: 4096 }],
      },
    },
  };
}

function openclawConfig(port, token, modelPort, pluginConfig = { job: JOB, cstFile }, agentEntries) {
  return {
    models: modelConfig(modelPort),
    gateway: { mode: "local", bind: "loopback", port, auth: { mode: "token", token } },
    logging: { file: path.join(W, "openclaw-home", "openclaw.log") },
    plugins: {
      allow: ["clawjail"],
      load: { paths: [env.plugin] },
      entries: { clawjail: { enabled: true, config: { binary: env.binary, socket, ...pluginConfig } } },
    },
    agents: {
      defaults: {
        workspace: ws,
        model: { primary: "scripted/scripted" },
        sandbox: { mode: "all", backend: "clawjail", scope: "agent", workspaceAccess: "rw" },
      },
      ...(agentEntries ? { entries: agentEntries } : {}),
    },
    // A background exec's exit would otherwise wake its session for another agent turn a few
    // seconds later, whose model call (and exec) would land in the next test's receipts.
    tools: { exec: { host: "sandbox", notifyOnExit: false } },
  };
}

async function startSupervisor() {
  supervisor = await operator.startSupervisor();
}

// The body of a script that starts `command` with exec({background: true}) and drives it with the
// process tool; `steps(id)` is the script text between the start and the end, with `out` to fill.
function backgroundScript(command, steps) {
  return [
    "const out = {};",
    "const text = (v) => JSON.stringify(v);",
    "const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));",
    `out.started = await exec({ command: ${JSON.stringify(command)}, background: true });`,
    "const id = out.started.sessionId ?? out.started.details?.sessionId;",
    "out.id = id;",
    steps,
    "return { notify: JSON.stringify(out) };",
    "",
  ].join("\n");
}

function hostProcesses(pattern) {
  const r = run(["pgrep", "-f", pattern], { allowFailure: true });
  return r.stdout.split("\n").filter(Boolean).filter((pid) => Number(pid) !== process.pid);
}

before(async () => {
  fs.mkdirSync(ws, { recursive: true });
  operator.setUp();
  policies.allow = installWpc("allow", wpcPayload("openclaw-e2e-allow", {
    allow: ["exec", "process", "read", "write:workspace"], deny: ["docker_socket"] }));
  policies.denyExec = installWpc("deny-exec", wpcPayload("openclaw-e2e-deny-exec", {
    allow: ["read", "write:workspace"], deny: ["exec", "process"] }));
  policies.noProcess = installWpc("no-process", wpcPayload("openclaw-e2e-no-process", {
    allow: ["exec", "read", "write:workspace"], deny: ["docker_socket"] }));
  issueCst(policies.allow);
  const port = await freePort();
  gateway = new Gateway({ port, token: randomBytes(24).toString("hex"), home: path.join(W, "openclaw-home") });
  model = await startScriptedModel(log);
  gateway.writeConfig(openclawConfig(port, gateway.token, model.port));
  const t0 = Date.now();
  await gateway.start();
  log(`gateway healthy after ${((Date.now() - t0) / 1000).toFixed(1)} s on port ${port}`);
});

after(async () => {
  for (const job of [JOB, ...Object.values(AGENT_JOBS)]) {
    try {
      log(`receipts of job ${job}:\n${clawjail(["receipts", "show", "--job", job, "--config", configFile], { allowFailure: true }).stdout}`);
    } catch { /* the suite's own result matters more */ }
  }
  await gateway?.stop();
  await stopDaemon(supervisor);
  await model?.close();
});

describe("clawjail as OpenClaw's sandbox backend", { concurrency: false }, () => {
  test("without a supervisor, exec and file tools fail closed and nothing runs on the host", () => {
    const marker = path.join(W, "ran-on-host");
    const out = gateway.scriptJob(scriptOf([
      ["exec", `exec({ command: "touch ${marker}; echo ran" })`],
      ["write", `write({ path: "offline.txt", content: "x" })`],
    ]));
    for (const step of ["exec", "write"]) {
      assert.equal(out[step].ok, false, `${step} did not fail: ${JSON.stringify(out[step])}`);
      assert.match(out[step].error, /clawjail: the supervisor is not running: no socket at /);
    }
    assert.equal(fs.existsSync(marker), false, "the command ran on the host");
    assert.equal(fs.existsSync(path.join(ws, "offline.txt")), false, "the file was written from the host");
  });

  test("exec runs inside a jail: own pid namespace, /workspace as cwd, /etc/shadow unreadable", async () => {
    await startSupervisor();
    const hostPidNs = fs.readlinkSync("/proc/self/ns/pid");
    const before = receipts().length;
    const out = gateway.scriptJob(scriptOf([["exec", `exec({ command: ${JSON.stringify(
      "echo pidns=$(readlink /proc/self/ns/pid); echo cwd=$(pwd); echo uid=$(id -u); " +
      "if cat /etc/shadow >/dev/null 2>&1; then echo shadow=readable; else echo shadow=unreadable; fi")} })`]]));
    assert.ok(out.exec.ok, `exec failed: ${out.exec.error}`);
    const text = textOf(out.exec);
    log(`exec output:\n${text}`);
    assert.equal(out.exec.value.exitCode, 0, text);
    const pidns = text.match(/^pidns=(pid:\[\d+\])$/m)?.[1];
    assert.ok(pidns, `no pid namespace in output: ${text}`);
    assert.notEqual(pidns, hostPidNs, "the command ran in the host's pid namespace");
    assert.match(text, /^cwd=\/workspace$/m);
    assert.doesNotMatch(text, /^uid=0$/m, "the command ran as root");
    assert.match(text, /^shadow=unreadable$/m);
    const added = receipts().slice(before).filter((r) => r.tool === "exec");
    assert.deepEqual(added.map((r) => r.phase), ["started", "finished"], JSON.stringify(added));
    assert.equal(added[0].call_id, added[1].call_id);
    assert.equal(added[1].decision, "allowed");
    assert.equal(added[1].result?.status, "success");
    assert.equal(added[1].policy_hash_b64u, policies.allow);
  });

  test("write, read, edit, ls and apply_patch go through clawjail's file operations", () => {
    const addPatch = "*** Begin Patch\n*** Add File: notes/patched.txt\n+from a patch\n*** End Patch";
    const before = receipts().length;
    const out = gateway.scriptJob(scriptOf([
      ["write", `write({ path: "notes/hello.txt", content: "hello from openclaw\\n" })`],
      ["read", `read({ path: "notes/hello.txt" })`],
      ["edit", `edit({ path: "notes/hello.txt", edits: [{ oldText: "hello", newText: "edited" }] })`],
      ["ls", `ls({ path: "notes" })`],
      ["patch", `apply_patch({ input: ${JSON.stringify(addPatch)} })`],
      ["patchAgain", `apply_patch({ input: ${JSON.stringify(addPatch)} })`],
    ]));
    for (const step of ["write", "read", "edit", "ls", "patch"]) assert.ok(out[step].ok, `${step} failed: ${out[step].error}`);
    assert.match(textOf(out.read), /hello from openclaw/);
    assert.match(textOf(out.ls), /hello\.txt/);
    assert.equal(fs.readFileSync(path.join(ws, "notes", "hello.txt"), "utf8"), "edited from openclaw\n");
    assert.equal(fs.readFileSync(path.join(ws, "notes", "patched.txt"), "utf8"), "from a patch\n");
    // Adding a file that exists is refused by the supervisor's exclusive create, not overwritten.
    assert.equal(out.patchAgain.ok, false, JSON.stringify(out.patchAgain));
    assert.match(out.patchAgain.error, /already exists/);
    const tools = new Set(receipts().slice(before).map((r) => r.tool));
    for (const op of ["write", "read", "ls"]) assert.ok(tools.has(op), `no receipt for ${op}: ${[...tools]}`);
  });

  test("a read outside the workspace and a symlink pointing out are refused", () => {
    fs.symlinkSync("/etc/passwd", path.join(ws, "escape-link"));
    const out = gateway.scriptJob(scriptOf([
      ["absolute", `read({ path: "/etc/passwd" })`],
      ["dotdot", `read({ path: "../../../../etc/passwd" })`],
      ["symlink", `read({ path: "escape-link" })`],
    ]));
    for (const step of ["absolute", "dotdot", "symlink"]) {
      const text = out[step].ok ? textOf(out[step]) : out[step].error;
      assert.equal(out[step].ok, false, `${step} was not refused: ${text}`);
      assert.doesNotMatch(text, /root:x:0:0/, `${step} leaked /etc/passwd`);
    }
    log(`symlink refusal: ${out.symlink.error}`);
    assert.match(out.symlink.error, /clawjail/, "the symlink was not refused by clawjail");
  });

  test("an OpenClaw timeout kills everything in the jail and the finished receipt says so", async () => {
    const before = receipts().length;
    // yieldMs keeps OpenClaw waiting in the foreground until its own 2 s timeout fires.
    const job = gateway.scriptJobAsync(scriptOf([["exec",
      `exec({ command: "sleep 417 & sleep 418 & sleep 419; echo not-killed", timeoutSeconds: 4, yieldMs: 60000 })`]]));
    // The check below can fail: the jail's processes are visible from the host while they run.
    await waitFor("the jail's processes to start", () => hostProcesses("^sleep 41[789]$").length === 3,
                  { timeoutMs: 60_000, intervalMs: 100 });
    const out = await job;
    assert.ok(out.exec.ok, `exec threw: ${out.exec.error}`);
    const text = textOf(out.exec);
    log(`timed-out exec: ${JSON.stringify({ ...out.exec.value, aggregated: undefined })}`);
    assert.equal(out.exec.value.status, "failed", text);
    assert.equal(out.exec.value.timedOut, true, text);
    assert.doesNotMatch(text, /not-killed/);
    await waitFor("the jail's processes to be gone", () => hostProcesses("^sleep 41[789]$").length === 0,
                  { timeoutMs: 10_000 });
    let finished;
    await waitFor("the finished receipt", () => {
      finished = receipts().slice(before).find((r) => r.tool === "exec" && r.phase === "finished");
      return finished !== undefined;
    }, { timeoutMs: 10_000 });
    log(`its finished receipt: ${finished.reason_code} ${JSON.stringify(finished.result)}`);
    assert.match(finished.result?.status ?? "", /^(killed|timeout)$/, JSON.stringify(finished));
  });

  test("without the WPC's process scope, a background exec is blocked with a blocked receipt; nothing runs", () => {
    const marker = path.join(ws, "background-denied.txt");
    const before = receipts().length;
    issueCst(policies.noProcess);
    let out;
    try {
      // OpenClaw answers a background exec at once ("running"); the process tool then shows how it ended.
      out = gateway.scriptJob(backgroundScript("echo ran > /workspace/background-denied.txt; sleep 30", `
        for (let i = 0; i < 20; i++) {
          out.polled = await process({ action: "poll", sessionId: id, timeout: 1000 });
          if (!/"status":"running"/.test(text(out.polled))) break;
        }`));
    } finally {
      issueCst(policies.allow);
    }
    log(`background exec without process: ${JSON.stringify(out)}`);
    assert.ok(out.id, `no process session: ${JSON.stringify(out.started)}`);
    assert.match(JSON.stringify(out.polled), /clawjail: blocked: EXEC_DENIED: process: not allowed by the WPC \(a background exec needs it\)/);
    assert.equal(fs.existsSync(marker), false, "the refused background command ran");
    const added = receipts().slice(before);
    assert.deepEqual(added.map((r) => [r.tool, r.phase, r.reason_code, r.scopes]),
                     [["exec", "blocked", "EXEC_DENIED", ["exec", "process"]]], JSON.stringify(added));
    assert.equal(added[0].policy_hash_b64u, policies.noProcess);
  });

  test("with a WPC that denies exec, OpenClaw's exec fails with clawjail's reason code", () => {
    const marker = path.join(ws, "denied.txt");
    const before = receipts().length;
    issueCst(policies.denyExec);
    let out;
    try {
      out = gateway.scriptJob(scriptOf([["exec", `exec({ command: "echo ran > /workspace/denied.txt" })`]]));
    } finally {
      issueCst(policies.allow);
    }
    assert.ok(out.exec.ok, `exec threw: ${out.exec.error}`);
    const text = textOf(out.exec);
    log(`denied exec: ${JSON.stringify(out.exec.value)}`);
    // OpenClaw's exec reports a failed call as a result with status "failed", never by throwing.
    assert.equal(out.exec.value.status, "failed", text);
    assert.equal(out.exec.value.exitCode, 126, text);
    const code = text.match(/clawjail: blocked: ([A-Z_]+): /)?.[1];
    assert.ok(code, `no reason code in: ${text}`);
    assert.equal(fs.existsSync(marker), false, "the denied command ran");
    const blocked = receipts().slice(before).filter((r) => r.phase === "blocked");
    assert.equal(blocked.length, 1, JSON.stringify(blocked));
    assert.equal(blocked[0].tool, "exec");
    assert.equal(blocked[0].reason_code, code);
    assert.equal(blocked[0].policy_hash_b64u, policies.denyExec);
  });

  test("with an expired CST, OpenClaw's exec fails at once with CST_EXPIRED, no hang", async () => {
    const marker = path.join(ws, "expired.txt");
    const before = receipts().length;
    issueCst(policies.allow, 1);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    let out;
    try {
      // A short script timeout: a call that hung on the expired token would fail the job.
      out = gateway.scriptJob(scriptOf([["exec", `exec({ command: "echo ran > /workspace/expired.txt" })`]]),
                              { timeoutSeconds: 20 });
    } finally {
      issueCst(policies.allow);
    }
    assert.ok(out.exec.ok, `exec threw: ${out.exec.error}`);
    const text = textOf(out.exec);
    log(`expired CST: ${JSON.stringify(out.exec.value)}`);
    assert.equal(out.exec.value.status, "failed", text);
    assert.equal(out.exec.value.exitCode, 126, text);
    assert.match(text, /clawjail: blocked: CST_EXPIRED: /);
    assert.equal(fs.existsSync(marker), false, "the command ran with an expired token");
    const blocked = receipts().slice(before).filter((r) => r.phase === "blocked");
    assert.deepEqual(blocked.map((r) => [r.tool, r.reason_code]), [["exec", "CST_EXPIRED"]]);
  });

  test("a real agent turn: the model's exec tool call runs in the jail", async () => {
    const before = receipts().length;
    const asked = model.requests.length;
    const created = JSON.parse(gateway.cli(["automations", "create", "--name", "agent-turn", "--at", "1h",
      "--message", "Run the probe.", "--session", "isolated", "--no-deliver", "--keep-after-run", "--json",
      ...gateway.auth()]).stdout);
    // Asynchronously: the scripted model answers from this very process.
    const ran = JSON.parse((await runAsync([env.node, env.openclaw, "automations", "run", created.id, "--wait",
      ...gateway.auth()], { extraEnv: gateway.env, timeoutMs: 180_000 })).stdout);
    log(`agent turn: ${JSON.stringify({ status: ran.run?.status, error: ran.run?.error, summary: ran.run?.summary })}`);
    const requests = model.requests.slice(asked);
    assert.equal(requests.length, 2, `the model was asked ${requests.length} times`);
    const toolMessage = requests[1].messages.find((m) => m.role === "tool");
    const toolText = typeof toolMessage?.content === "string" ? toolMessage.content : JSON.stringify(toolMessage?.content);
    assert.match(toolText, /agent-turn/);
    assert.match(toolText, /\/workspace/);
    assert.doesNotMatch(toolText, new RegExp(fs.readlinkSync("/proc/self/ns/pid").replace(/[[\]]/g, "\\$&")));
    const execs = receipts().slice(before).filter((r) => r.tool === "exec");
    assert.deepEqual(execs.map((r) => r.phase), ["started", "finished"], JSON.stringify(execs));
    assert.equal(execs[1].result?.status, "success");
  });

  test("openclaw sandbox list shows the clawjail runtime", () => {
    const listed = JSON.parse(gateway.cli(["sandbox", "list", "--json"]).stdout);
    const rows = listed.containers ?? listed.runtimes ?? listed;
    log(`sandbox list: ${JSON.stringify(rows)}`);
    const row = (Array.isArray(rows) ? rows : []).find((r) => (r.backendId ?? r.backend) === "clawjail");
    assert.ok(row, `no clawjail runtime in ${JSON.stringify(listed)}`);
    assert.equal(row.running, true);
  });
});

// Two agents in one gateway, each under its own job and WPC, and a third with no job at all: the
// plugin's agents map with no default. The gateway restarts once with that config.
describe("one job per OpenClaw agent", { concurrency: false }, () => {
  const agentWs = (id) => path.join(W, `workspace-${id}`);
  const agentCst = (id) => path.join(W, `${id}.cst`);
  const agentPolicy = {};

  before(async () => {
    // A short foreground timeout: the background server below must outlive it.
    agentPolicy.coder = installWpc("coder", wpcPayload("openclaw-e2e-coder", {
      allow: ["exec", "process", "read", "write:workspace"], deny: ["docker_socket"] }, AGENT_JOBS.coder,
      { timeout_ms: CODER_TIMEOUT_MS, background_ms: 120000 }));
    agentPolicy.reader = installWpc("reader", wpcPayload("openclaw-e2e-reader", {
      allow: ["read"], deny: ["exec", "process", "write:workspace"] }, AGENT_JOBS.reader));
    const agents = {};
    for (const id of ["coder", "reader"]) {
      issueCst(agentPolicy[id], 3600, { job: AGENT_JOBS[id], out: agentCst(id) });
      agents[id] = { job: AGENT_JOBS[id], cstFile: agentCst(id), wpc: agentPolicy[id] };
    }
    const entries = {};
    for (const id of ["coder", "reader", "stranger"]) {
      fs.mkdirSync(agentWs(id), { recursive: true });
      entries[id] = { workspace: agentWs(id) };
    }
    fs.writeFileSync(path.join(agentWs("reader"), "brief.txt"), "for the reader\n");
    await gateway.stop();
    gateway.writeConfig(openclawConfig(gateway.port, gateway.token, model.port, { agents }, entries));
    const t0 = Date.now();
    await gateway.start();
    log(`two-agent gateway healthy after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });

  test("the coder's exec runs under the coder's job and WPC", () => {
    const before = receipts(AGENT_JOBS.coder).length;
    const out = gateway.scriptJob(scriptOf([["exec", `exec({ command: "echo coder-ran > /workspace/coder.txt; echo coder-ok" })`]]),
                                  { agent: "coder" });
    assert.ok(out.exec.ok, `exec threw: ${out.exec.error}`);
    assert.equal(out.exec.value.exitCode, 0, textOf(out.exec));
    assert.match(textOf(out.exec), /coder-ok/);
    assert.equal(fs.readFileSync(path.join(agentWs("coder"), "coder.txt"), "utf8"), "coder-ran\n");
    const added = receipts(AGENT_JOBS.coder).slice(before);
    log(`coder receipts: ${JSON.stringify(added.map((r) => [r.job_id, r.tool, r.phase, r.decision, r.reason_code]))}`);
    assert.deepEqual(added.map((r) => [r.tool, r.phase, r.decision]), [["exec", "started", "allowed"], ["exec", "finished", "allowed"]]);
    for (const r of added) {
      assert.equal(r.job_id, AGENT_JOBS.coder);
      assert.equal(r.policy_hash_b64u, agentPolicy.coder);
    }
  });

  test("the reader's exec is blocked with EXEC_DENIED under the reader's job; its read runs", () => {
    const before = receipts(AGENT_JOBS.reader).length;
    const coderBefore = receipts(AGENT_JOBS.coder).length;
    const out = gateway.scriptJob(scriptOf([
      ["exec", `exec({ command: "echo ran > /workspace/reader-exec.txt" })`],
      ["read", `read({ path: "brief.txt" })`],
    ]), { agent: "reader" });
    assert.ok(out.exec.ok, `exec threw: ${out.exec.error}`);
    const text = textOf(out.exec);
    log(`reader exec: ${JSON.stringify(out.exec.value)}`);
    assert.equal(out.exec.value.status, "failed", text);
    assert.equal(out.exec.value.exitCode, 126, text);
    assert.match(text, /clawjail: blocked: EXEC_DENIED: /);
    assert.equal(fs.existsSync(path.join(agentWs("reader"), "reader-exec.txt")), false, "the reader's exec ran");
    assert.ok(out.read.ok, `read failed: ${out.read.error}`);
    assert.match(textOf(out.read), /for the reader/);
    const added = receipts(AGENT_JOBS.reader).slice(before);
    log(`reader receipts: ${JSON.stringify(added.map((r) => [r.job_id, r.tool, r.phase, r.decision, r.reason_code]))}`);
    const blocked = added.filter((r) => r.phase === "blocked");
    assert.deepEqual(blocked.map((r) => [r.tool, r.decision, r.reason_code]), [["exec", "blocked", "EXEC_DENIED"]]);
    assert.ok(added.some((r) => r.tool === "read" && r.decision === "allowed"), JSON.stringify(added));
    for (const r of added) {
      assert.equal(r.job_id, AGENT_JOBS.reader);
      assert.equal(r.policy_hash_b64u, agentPolicy.reader);
    }
    assert.equal(receipts(AGENT_JOBS.coder).length, coderBefore, "a call of the reader landed in the coder's job");
  });

  test("an agent with no entry and no default fails closed, naming the agent; nothing runs", () => {
    const marker = path.join(agentWs("stranger"), "stranger.txt");
    const counts = [JOB, ...Object.values(AGENT_JOBS)].map((job) => receipts(job).length);
    const out = gateway.scriptJob(scriptOf([["exec", `exec({ command: "echo ran > /workspace/stranger.txt" })`]]),
                                  { agent: "stranger", failedRun: true });
    assert.equal(out.failed, true, `the unmapped agent's job finished ok: ${JSON.stringify(out)}`);
    log(`unmapped agent: ${out.run.status}: ${out.run.error}`);
    assert.match(out.run.error ?? "", /clawjail: agent "stranger" has no job: add plugins\.entries\.clawjail\.config\.agents\.stranger/);
    assert.equal(fs.existsSync(marker), false, "the unmapped agent's command ran");
    assert.deepEqual([JOB, ...Object.values(AGENT_JOBS)].map((job) => receipts(job).length), counts,
                     "a call of the unmapped agent reached a job");
  });

  test("the coder's background server: started, polled, its log read, killed by OpenClaw's process tool; receipts show it", async () => {
    const before = receipts(AGENT_JOBS.coder).length;
    const server = "^sleep 4242$";
    // A sleep-like server: says it is up, then waits. The script holds it past the WPC's
    // foreground timeout before OpenClaw's process tool kills it.
    const job = gateway.scriptJobAsync(backgroundScript("echo server-up; exec sleep 4242", `
      for (let i = 0; i < 30; i++) {
        out.poll = await process({ action: "poll", sessionId: id, timeout: 1000 });
        if (text(out.poll).includes("server-up")) break;
      }
      out.log = await process({ action: "log", sessionId: id });
      await sleep(${CODER_TIMEOUT_MS + 4000});
      out.pollLater = await process({ action: "poll", sessionId: id });
      out.kill = await process({ action: "kill", sessionId: id });
      for (let i = 0; i < 30; i++) {
        out.end = await process({ action: "poll", sessionId: id, timeout: 1000 });
        if (!/"status":"running"/.test(text(out.end))) break;
      }`), { agent: "coder" });
    await waitFor("the background server in its jail", () => hostProcesses(server).length === 1, { timeoutMs: 60_000, intervalMs: 100 });
    const t0 = Date.now();
    let running = receipts(AGENT_JOBS.coder).slice(before);
    assert.deepEqual(running.map((r) => [r.tool, r.phase, r.scopes]), [["exec", "started", ["exec", "process"]]], JSON.stringify(running));
    // Past the foreground timeout: still running, still only its started receipt.
    await new Promise((resolve) => setTimeout(resolve, CODER_TIMEOUT_MS + 1000));
    assert.equal(hostProcesses(server).length, 1, "the background server died at the foreground timeout");
    running = receipts(AGENT_JOBS.coder).slice(before);
    assert.deepEqual(running.map((r) => r.phase), ["started"], JSON.stringify(running));
    const out = await job;
    log(`background server (alive ${((Date.now() - t0) / 1000).toFixed(1)} s after it was seen): ${JSON.stringify(out)}`);
    assert.match(JSON.stringify(out.started), /"status":"running"/);
    assert.match(JSON.stringify(out.poll), /server-up/);
    assert.match(JSON.stringify(out.log), /server-up/);
    assert.match(JSON.stringify(out.pollLater), /"status":"running"/);
    // The script sees the tools' details: kill answers "completed" once it asked for the kill;
    // the session then ends by OpenClaw's own cancellation of the client.
    assert.equal(out.kill?.status, "completed", JSON.stringify(out.kill));
    assert.equal(out.end?.exitReason, "manual-cancel", JSON.stringify(out.end));
    await waitFor("the jail and its client to be gone", () =>
      hostProcesses(server).length === 0 && hostProcesses("server-up; exec sleep 4242").length === 0, { timeoutMs: 10_000 });
    let added;
    await waitFor("the finished receipt", () => {
      added = receipts(AGENT_JOBS.coder).slice(before);
      return added.some((r) => r.phase === "finished");
    }, { timeoutMs: 10_000 });
    log(`background receipts: ${JSON.stringify(added.map((r) => [r.tool, r.phase, r.scopes, r.reason_code, r.reason, r.result?.status, r.result?.duration_ms]))}`);
    assert.deepEqual(added.map((r) => [r.tool, r.phase, r.decision]), [["exec", "started", "allowed"], ["exec", "finished", "allowed"]]);
    assert.equal(added[0].call_id, added[1].call_id);
    assert.equal(added[1].result.status, "killed");
    assert.equal(added[1].reason_code, "CLIENT_DISCONNECTED");
    assert.ok(added[1].result.duration_ms > CODER_TIMEOUT_MS, `ran ${added[1].result.duration_ms} ms`);
  });

  test("each agent's job exports a bundle that verifies", () => {
    for (const [id, job] of Object.entries(AGENT_JOBS)) {
      const file = path.join(W, `${job}.bundle.json`);
      clawjail(["bundle", "export", "--job", job, "--out", file, "--config", configFile]);
      const verdict = clawjail(["bundle", "verify", file, "--trust", dids.supervisor]).stdout;
      log(`bundle of ${id} (${job}): ${verdict.split("\n")[0]}`);
      assert.equal(verdict.split("\n")[0], "PASS", verdict);
      const bundle = JSON.parse(Buffer.from(JSON.parse(fs.readFileSync(file, "utf8")).payload, "base64").toString("utf8"));
      assert.equal(bundle.job_id, job);
      assert.equal(bundle.wpc.payload_hash_b64u, agentPolicy[id], `the ${id} bundle does not carry its WPC`);
      assert.equal(bundle.cst.claims.mission_id, job);
    }
  });

  test("sandbox list and openclaw clawjail show each agent's job and policy; explain shows the agent on clawjail", () => {
    const listed = JSON.parse(gateway.cli(["sandbox", "list", "--json"]).stdout);
    const rows = (listed.containers ?? []).filter((r) => r.backendId === "clawjail");
    log(`sandbox list: ${JSON.stringify(rows.map((r) => [r.sessionKey, r.configLabelKind, r.image, r.imageMatch, r.running]))}`);
    for (const id of ["coder", "reader"]) {
      const row = rows.find((r) => r.sessionKey.startsWith(`agent:${id}:`));
      assert.ok(row, `no runtime of ${id} in ${JSON.stringify(rows)}`);
      assert.equal(row.image, `job ${AGENT_JOBS[id]}, wpc ${agentPolicy[id]}`);
      assert.equal(row.configLabelKind, "Policy");
      assert.equal(row.imageMatch, true);
      assert.equal(row.running, true);
    }
    assert.equal(rows.some((r) => r.sessionKey.startsWith("agent:stranger:")), false, "the unmapped agent got a runtime");
    // main's runtime from before the restart: main has no job now, and the list says so.
    const main = rows.find((r) => r.sessionKey.startsWith("agent:main:"));
    assert.match(main?.image ?? "", /clawjail: agent "main" has no job/);
    assert.equal(main.imageMatch, false);
    // Every OpenClaw CLI call costs seconds: explain is checked for one agent (it says the same of each).
    for (const id of ["reader"]) {
      const explained = JSON.parse(gateway.cli(["sandbox", "explain", "--agent", id, "--json"]).stdout);
      log(`sandbox explain --agent ${id}: ${JSON.stringify({ agentId: explained.agentId, ...explained.sandbox, tools: undefined })}`);
      assert.equal(explained.agentId, id);
      assert.equal(explained.sandbox.backend, "clawjail");
      assert.equal(explained.sandbox.sessionIsSandboxed, true);
    }
    // explain has no place for a backend's own settings; the plugin's `openclaw clawjail` says them.
    const described = JSON.parse(gateway.cli(["clawjail", "--json"]).stdout);
    log(`openclaw clawjail: ${JSON.stringify(described.agents)}`);
    const byAgent = Object.fromEntries(described.agents.map((a) => [a.agentId, a]));
    for (const id of ["coder", "reader"]) {
      assert.deepEqual([byAgent[id]?.job, byAgent[id]?.wpc, byAgent[id]?.cstFile], [AGENT_JOBS[id], agentPolicy[id], agentCst(id)]);
    }
    assert.match(byAgent.stranger?.error ?? "", /agent "stranger" has no job/);
  });
});
