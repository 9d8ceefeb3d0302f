// The OpenClaw plugin's own logic, without OpenClaw: settings, path mapping, environment filtering,
// the argv handed to OpenClaw, and how clawjail's exit codes become errors. The real thing is
// e2e.test.mjs; this pins the details that suite cannot reach cheaply (every bad setting).
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, test } from "node:test";

const plugin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../packaging/openclaw-plugin");
const { resolveConfig, configForAgent, ClawjailConfigError } = await import(`${plugin}/src/config.js`);
const { toJailPath } = await import(`${plugin}/src/fs-bridge.js`);
const { ClawjailFsBridge } = await import(`${plugin}/src/fs-bridge.js`);
const { buildExecSpec, jailEnv, jailWorkdir } = await import(`${plugin}/src/exec.js`);
const { errorForExit, parseBlocked } = await import(`${plugin}/src/cli.js`);
const { BACKGROUND_ENV, markBackgroundExec } = await import(`${plugin}/src/background.js`);
const { agentIdOf, createFactory, createManager, runtimeIdFor } = await import(`${plugin}/src/backend.js`);
const { describeAgents } = await import(`${plugin}/src/describe.js`);
const { MAX_INLINE_BYTES, encodeFrame } = await import(`${plugin}/src/socket.js`);

const good = { binary: "/usr/bin/clawjail", job: "job-1", cstFile: "/etc/clawjail/job.cst" };
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "clawjail-plugin-test-"));
process.on("exit", () => fs.rmSync(tmp, { recursive: true, force: true }));

describe("settings fail closed with one clear message", () => {
  test("job ids follow the supervisor's grammar (the table tests/policy/job_id_test.cc reads too)", () => {
    const table = JSON.parse(fs.readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../data/job_ids.json"), "utf8"));
    assert.ok(table.valid.length >= 5 && table.invalid.length >= 5);
    for (const job of table.valid) assert.equal(resolveConfig({ ...good, job }).job, job, JSON.stringify(job));
    for (const job of table.invalid) assert.throws(() => resolveConfig({ ...good, job }), /job must be/, JSON.stringify(job));
  });
  test("missing job and cstFile are both named", () => {
    assert.throws(() => resolveConfig({}), (e) => e instanceof ClawjailConfigError &&
      /job is required/.test(e.message) && /cstFile is required/.test(e.message) &&
      e.message.startsWith("clawjail: plugin config (plugins.entries.clawjail.config): "));
  });
  test("relative paths, bad job ids, bad hashes and unknown keys are refused", () => {
    for (const [bad, why] of [
      [{ ...good, cstFile: "job.cst" }, /cstFile must be an absolute path/],
      [{ ...good, binary: "clawjail" }, /binary must be an absolute path/],
      [{ ...good, job: "-x" }, /job must be/],
      [{ ...good, job: "a/b" }, /job must be/],
      [{ ...good, wpc: "abc" }, /wpc must be/],
      [{ ...good, execTimeoutMs: -1 }, /execTimeoutMs/],
      [{ ...good, envPass: ["A=B"] }, /envPass/],
      [{ ...good, sokcet: "/x" }, /unknown setting sokcet/],
    ]) assert.throws(() => resolveConfig(bad), why);
  });
  test("a good config resolves with defaults", () => {
    const c = resolveConfig({ job: "job-1", cstFile: "/c" });
    assert.equal(c.binary, "/usr/bin/clawjail");
    assert.deepEqual([...c.envPass], ["LANG", "LC_ALL", "TZ", "TERM"]);
  });
  test("the backend factory refuses calls when the settings are bad or the CST file is gone", async () => {
    await assert.rejects(createFactory({})({ workspaceDir: tmp, scopeKey: "s", cfg: {} }), /job is required/);
    const missing = { binary: "/bin/sh", job: "job-1", cstFile: path.join(tmp, "nope.cst") };
    await assert.rejects(createFactory(missing)({ workspaceDir: tmp, scopeKey: "s", cfg: {} }), /cannot be read/);
  });
  test("docker binds from OpenClaw's config are refused: binds come from the WPC", async () => {
    const cst = path.join(tmp, "ok.cst");
    fs.writeFileSync(cst, "t");
    const factory = createFactory({ binary: "/bin/sh", job: "job-1", cstFile: cst });
    await assert.rejects(factory({ workspaceDir: tmp, scopeKey: "s", cfg: { docker: { binds: ["/:/host"] } } }),
                         /binds is not supported/);
    const handle = await factory({ workspaceDir: tmp, scopeKey: "agent:main", cfg: { workspaceAccess: "rw" } });
    assert.equal(handle.id, "clawjail");
    assert.equal(handle.workdir, "/workspace");
    assert.equal(handle.runtimeId, runtimeIdFor("agent:main"));
    assert.equal(handle.runtimeId, (await factory({ workspaceDir: tmp, scopeKey: "agent:main", cfg: {} })).runtimeId);
  });
  test("exec and file calls fail closed, naming the socket, while the supervisor is down", async () => {
    const cst = path.join(tmp, "ok2.cst");
    fs.writeFileSync(cst, "t");
    const socket = path.join(tmp, "down.sock");
    const handle = await createFactory({ binary: "/bin/sh", job: "job-1", cstFile: cst, socket })(
      { workspaceDir: tmp, scopeKey: "s", cfg: {} });
    const down = new RegExp(`Error: clawjail: the supervisor is not running: no socket at ${socket}`);
    await assert.rejects(handle.buildExecSpec({ command: "true" }), down);
    await assert.rejects(handle.runShellCommand({ script: "true" }), down);
    await assert.rejects(handle.createFsBridge({}).readFile({ filePath: "a" }), down);
  });
});

describe("one job per OpenClaw agent", () => {
  const H = "B".repeat(43);
  const coder = { job: "job-coder", cstFile: "/etc/clawjail/coder.cst", wpc: H };
  const reader = { job: "job-reader", cstFile: "/etc/clawjail/reader.cst" };
  test("an agent's entry wins; agents without one get the top-level default", () => {
    const c = resolveConfig({ ...good, agents: { coder, reader } });
    assert.deepEqual([configForAgent(c, "coder").job, configForAgent(c, "coder").cstFile, configForAgent(c, "coder").wpc],
                     ["job-coder", "/etc/clawjail/coder.cst", H]);
    assert.deepEqual([configForAgent(c, "reader").job, configForAgent(c, "reader").wpc], ["job-reader", undefined]);
    assert.deepEqual([configForAgent(c, "main").job, configForAgent(c, "main").cstFile], ["job-1", "/etc/clawjail/job.cst"]);
    // Gateway-wide settings stay with every agent.
    assert.equal(configForAgent(c, "coder").binary, "/usr/bin/clawjail");
  });
  test("an entry inherits nothing from the default: no wpc of the default's leaks into it", () => {
    const c = resolveConfig({ ...good, wpc: H, agents: { reader } });
    assert.equal(configForAgent(c, "reader").wpc, undefined);
    assert.equal(configForAgent(c, "other").wpc, H);
  });
  test("an agent with no entry and no default fails closed, naming the agent", () => {
    const c = resolveConfig({ binary: "/usr/bin/clawjail", agents: { coder } });
    assert.equal(c.job, undefined);
    assert.throws(() => configForAgent(c, "stranger"), (e) => e.code === "CLAWJAIL_AGENT_UNMAPPED" &&
      /^clawjail: agent "stranger" has no job: add plugins\.entries\.clawjail\.config\.agents\.stranger/.test(e.message));
    // No agent named (a shared sandbox) never falls back to the default once agents are mapped.
    assert.throws(() => configForAgent(resolveConfig({ ...good, agents: { coder } }), undefined), /named no agent/);
    assert.equal(configForAgent(resolveConfig(good), undefined).job, "job-1");
  });
  test("bad agent entries are refused, each naming its key", () => {
    for (const [agents, why] of [
      [[], /agents must be an object keyed by OpenClaw agent id/],
      ["coder", /agents must be an object/],
      [{ Coder: coder }, /agents\.Coder is not an OpenClaw agent id/],
      [{ "a b": coder }, /agents\.a b is not an OpenClaw agent id/],
      [{ ["x".repeat(65)]: coder }, /is not an OpenClaw agent id/],
      [{ coder: "job-coder" }, /agents\.coder must be an object \{ job, cstFile, wpc\? \}/],
      [{ coder: null }, /agents\.coder must be an object/],
      [{ coder: { cstFile: "/c" } }, /agents\.coder\.job is required/],
      [{ coder: { job: "j" } }, /agents\.coder\.cstFile is required/],
      [{ coder: { ...coder, job: "../x" } }, /agents\.coder\.job must be/],
      [{ coder: { ...coder, job: 7 } }, /agents\.coder\.job must be/],
      [{ coder: { ...coder, cstFile: "rel.cst" } }, /agents\.coder\.cstFile must be an absolute path/],
      [{ coder: { ...coder, wpc: "short" } }, /agents\.coder\.wpc must be a policy_hash_b64u/],
      [{ coder: { ...coder, socket: "/s" } }, /unknown setting agents\.coder\.socket/],
      [{ coder: { ...coder, envPass: [] } }, /unknown setting agents\.coder\.envPass/],
    ]) assert.throws(() => resolveConfig({ ...good, agents }), (e) => e instanceof ClawjailConfigError && why.test(e.message),
                     JSON.stringify(agents));
  });
  test("a default is whole or absent once agents are mapped", () => {
    const agents = { coder };
    assert.equal(resolveConfig({ agents }).agents.size, 1);
    assert.throws(() => resolveConfig({ agents, job: "job-1" }), /job set without cstFile/);
    assert.throws(() => resolveConfig({ agents, cstFile: "/c" }), /cstFile set without job/);
    assert.throws(() => resolveConfig({ agents, wpc: H }), /wpc set without job/);
    // Without agents the default stays required, as before.
    assert.throws(() => resolveConfig({ agents: {} }), /job is required/);
  });
  test("the agent id is read from OpenClaw's scope key as OpenClaw reads it", () => {
    assert.equal(agentIdOf("agent:coder:workspace:0123456789abcdef0123456789abcdef"), "coder");
    assert.equal(agentIdOf("agent:reader:cron:abc:run:1:workspace:0123"), "reader");  // scope "session"
    assert.equal(agentIdOf("Agent:Coder:main"), "coder");
    assert.equal(agentIdOf("shared"), undefined);
    assert.equal(agentIdOf("main"), undefined);
    assert.equal(agentIdOf("agent:::"), undefined);
    assert.equal(agentIdOf("agent:!!!:x"), undefined);  // OpenClaw would say "main"; no borrowing main's job
    assert.equal(agentIdOf(undefined), undefined);
  });
  test("the factory runs each agent under its own job and refuses an unmapped one", async () => {
    const cst = path.join(tmp, "agent.cst");
    fs.writeFileSync(cst, "t");
    const raw = { binary: "/bin/sh", agents: { coder: { job: "job-coder", cstFile: cst }, reader: { job: "job-reader", cstFile: cst } } };
    const factory = createFactory(raw);
    const handles = {};
    for (const id of ["coder", "reader"])
      handles[id] = await factory({ workspaceDir: tmp, scopeKey: `agent:${id}:workspace:0123`, cfg: { scope: "agent" } });
    assert.equal(handles.coder.configLabel, "job job-coder, wpc from CST");
    assert.equal(handles.reader.configLabel, "job job-reader, wpc from CST");
    assert.notEqual(handles.coder.runtimeId, handles.reader.runtimeId);
    await assert.rejects(factory({ workspaceDir: tmp, scopeKey: "agent:stranger:workspace:0123", cfg: { scope: "agent" } }),
                         /clawjail: agent "stranger" has no job/);
    await assert.rejects(factory({ workspaceDir: tmp, scopeKey: "shared", cfg: { scope: "shared" } }), /scope "shared"/);
  });
  test("openclaw clawjail lists OpenClaw's agents and the plugin's, each with its job or why it has none", () => {
    const raw = { agents: { coder, reader } };
    const openclaw = { agents: { entries: { coder: {}, stranger: {} } } };
    assert.deepEqual(describeAgents(raw, openclaw).map((a) => [a.agentId, a.job, a.wpc, a.source]), [
      ["coder", "job-coder", H, "agents.coder"], ["reader", "job-reader", null, "agents.reader"],
      ["stranger", undefined, undefined, undefined]]);
    assert.match(describeAgents(raw, openclaw, "Stranger")[0].error, /agent "stranger" has no job/);
    assert.deepEqual(describeAgents(good, {}).map((a) => [a.agentId, a.job, a.source]), [["main", "job-1", "default"]]);
    assert.throws(() => describeAgents({ agents: { Coder: coder } }, {}), /agents\.Coder is not an OpenClaw agent id/);
  });
  test("sandbox list labels each agent's runtime with its own job and policy", async () => {
    const manager = createManager({ binary: "/bin/sh", socket: path.join(tmp, "absent.sock"), agents: { coder, reader } });
    const d = await manager.describeRuntime({ entry: { image: "job job-coder, wpc from CST" }, agentId: "coder" });
    assert.deepEqual(d, { running: false, actualConfigLabel: `job job-coder, wpc ${H}`, configLabelMatch: false });
    const r = await manager.describeRuntime({ entry: { sessionKey: "agent:reader:workspace:0123", image: "job job-reader, wpc from CST" } });
    assert.equal(r.configLabelMatch, true);
    const s = await manager.describeRuntime({ entry: { image: "x" }, agentId: "stranger" });
    assert.match(s.actualConfigLabel, /agent "stranger" has no job/);
  });
});

describe("paths map to /workspace and never leave it", () => {
  const host = "/srv/agent-ws";
  test("relative, jail and host paths", () => {
    assert.equal(toJailPath("a/b.txt", undefined, host), "/workspace/a/b.txt");
    assert.equal(toJailPath("b.txt", "/workspace/a", host), "/workspace/a/b.txt");
    assert.equal(toJailPath("b.txt", "/srv/agent-ws/a", host), "/workspace/a/b.txt");
    assert.equal(toJailPath("/srv/agent-ws/c", undefined, host), "/workspace/c");
    assert.equal(toJailPath("/workspace/", undefined, host), "/workspace");
    assert.equal(toJailPath("a/../b", undefined, host), "/workspace/b");
  });
  test("escapes are refused in OpenClaw's own wording", () => {
    for (const p of ["/etc/passwd", "../x", "a/../../x", "/workspace-other/x", "/srv/agent-ws-2/x", "/srv"])
      assert.throws(() => toJailPath(p, undefined, host), /^Error: Path escapes sandbox root \(\/workspace\)/);
    assert.throws(() => toJailPath("a\0b", undefined, host), /invalid path/);
    assert.throws(() => jailWorkdir("/tmp"), /outside \/workspace/);
  });
});

describe("exec", () => {
  test("the gateway's secrets stay out of the jail; what the call set goes in", () => {
    const gatewayEnv = { PATH: "/usr/bin", OPENAI_API_KEY: "sk-secret", LANG: "C.UTF-8", HOME: "/root" };
    const callEnv = { ...gatewayEnv, PATH: "/x/agent-cli:/usr/bin", HOME: "/workspace", MY_FLAG: "1" };
    assert.deepEqual(jailEnv(callEnv, ["LANG"], gatewayEnv), { LANG: "C.UTF-8", HOME: "/workspace", MY_FLAG: "1" });
  });
  test("the argv is one clawjail run, and the client gets a fixed environment", () => {
    const config = resolveConfig({ ...good, wpc: "A".repeat(43), socket: "/run/cj.sock", execTimeoutMs: 5000 });
    const spec = buildExecSpec(config, "/srv/ws", { command: "echo hi", workdir: "/workspace/sub", env: { LANG: "C" } });
    assert.deepEqual(spec.argv, ["/usr/bin/clawjail", "run", "--env", "LANG=C", "--job", "job-1", "--cst-file",
      "/etc/clawjail/job.cst", "--wpc", "A".repeat(43), "--workspace", "/srv/ws", "--socket", "/run/cj.sock",
      "--workdir", "/workspace/sub", "--timeout-ms", "5000", "--", "sh", "-c", "echo hi"]);
    assert.deepEqual(Object.keys(spec.env).sort(), ["LANG", "PATH"]);
    assert.equal(spec.stdinMode, "pipe-closed");
    assert.ok(!spec.argv.includes("--pty"));
  });
  test("exec with pty asks the supervisor for a terminal", () => {
    const config = resolveConfig(good);
    const spec = buildExecSpec(config, "/srv/ws", { command: "tty", usePty: true });
    const dashes = spec.argv.indexOf("--");
    assert.ok(spec.argv.indexOf("--pty") > 0 && spec.argv.indexOf("--pty") < dashes, spec.argv.join(" "));
    assert.deepEqual(spec.argv.slice(dashes), ["--", "sh", "-c", "tty"]);
  });
  test("background calls are marked for buildExecSpec; yieldMs and foreground calls are not, and their own mark is removed", () => {
    const hook = (params, extra = {}) => markBackgroundExec({ toolName: "exec", params, ...extra });
    assert.deepEqual(hook({ command: "srv", background: true, env: { A: "1" } }),
                     { params: { env: { A: "1", [BACKGROUND_ENV]: "1" } } });
    // yieldMs (a long wait; Code Mode sets it on every exec) stays a foreground call: no process scope.
    assert.equal(hook({ command: "make", yieldMs: 5000 }), undefined);
    assert.deepEqual(hook({ command: "make", yieldMs: 1000, env: { [BACKGROUND_ENV]: "1" } }), { params: { env: {} } });
    assert.deepEqual(hook({ command: "srv", yieldMs: 5000, background: true }), { params: { env: { [BACKGROUND_ENV]: "1" } } });
    assert.equal(hook({ command: "ls" }), undefined);
    assert.equal(hook({ command: "ls", background: "true" }), undefined);  // OpenClaw runs it in the foreground too
    assert.deepEqual(hook({ command: "ls", env: { [BACKGROUND_ENV]: "1", B: "2" } }), { params: { env: { B: "2" } } });
    assert.equal(hook({ code: "exec({})", background: true }, { toolKind: "code_mode_exec" }), undefined);
  });
  test("a marked call is one clawjail run --background, without the mark and without execTimeoutMs", () => {
    const config = resolveConfig({ ...good, execTimeoutMs: 5000 });
    const spec = buildExecSpec(config, "/srv/ws", { command: "srv", env: { [BACKGROUND_ENV]: "1", MY_FLAG: "1" } });
    const dashes = spec.argv.indexOf("--");
    assert.ok(spec.argv.indexOf("--background") > 0 && spec.argv.indexOf("--background") < dashes, spec.argv.join(" "));
    assert.ok(!spec.argv.includes("--timeout-ms"), spec.argv.join(" "));
    assert.ok(spec.argv.includes("MY_FLAG=1"));
    assert.ok(!spec.argv.some((a) => a.includes(BACKGROUND_ENV)), spec.argv.join(" "));
    const foreground = buildExecSpec(config, "/srv/ws", { command: "ls", env: { [BACKGROUND_ENV]: "yes" } });
    assert.ok(!foreground.argv.includes("--background") && foreground.argv.includes("--timeout-ms"));
    assert.ok(!foreground.argv.some((a) => a.includes(BACKGROUND_ENV)), foreground.argv.join(" "));
  });
});

describe("clawjail's answers become errors OpenClaw shows", () => {
  const result = (code, stderr) => ({ code, stdout: Buffer.alloc(0), stderr: Buffer.from(stderr) });
  test("a blocked call carries its reason code", () => {
    const e = errorForExit(result(126, "clawjail: blocked: EXEC_DENIED: the WPC denies exec\n"), "exec");
    assert.equal(e.reasonCode, "EXEC_DENIED");
    assert.match(e.message, /^clawjail: blocked: EXEC_DENIED: the WPC denies exec/);
    assert.deepEqual(parseBlocked("noise\nclawjail: blocked: TOOL_DENIED: x\n"), { reasonCode: "TOOL_DENIED", reason: "x" });
    assert.equal(parseBlocked("clawjail: run: INTERNAL_ERROR: x"), null);
    // exit 126 without clawjail's line is the command's own "not executable", not a refusal
    assert.equal(errorForExit(result(126, "sh: ./x: Permission denied"), "exec").reasonCode, undefined);
  });
  test("an unreachable supervisor is said as such", () => {
    const e = errorForExit(result(125, "clawjail: fs: REQUEST_TIMEOUT: connect: No such file or directory\n"), "read a");
    assert.match(e.message, /^clawjail: supervisor unavailable for read a/);
  });
  test("the file bridge turns a blocked answer into a tool error with the reason code", async () => {
    const server = await fakeSupervisor(() => ({ ...answer(126, "blocked"), decision: "blocked",
      reason_code: "PATH_OUTSIDE_WORKSPACE", reason: "escape-link leaves the workspace" }));
    await assert.rejects(server.bridge.readFile({ filePath: "escape-link" }),
      (e) => e.reasonCode === "PATH_OUTSIDE_WORKSPACE" && /clawjail: blocked: PATH_OUTSIDE_WORKSPACE/.test(e.message));
    await server.close();
  });
  test("sandbox list reports a runtime as running only while the supervisor's socket exists", async () => {
    const manager = createManager({ ...good, socket: path.join(tmp, "absent.sock") });
    const d = await manager.describeRuntime({ entry: { image: "job job-1, wpc from CST" } });
    assert.deepEqual(d, { running: false, actualConfigLabel: "job job-1, wpc from CST", configLabelMatch: true });
  });
});

// A Unix-socket server standing in for the supervisor: it checks each frame's bytes (4-byte
// big-endian length, then exactly that much JSON, no descriptors possible from Node) and answers
// with `respond(request)`, or never when that returns undefined.
function answer(exit_code, status = exit_code === 0 ? "success" : "error", value = {}) {
  return { type: "result", call_id: "call_x", decision: "allowed", reason_code: exit_code === 0 ? "OK" : "FS_OP_FAILED",
           reason: "", status, exit_code, signal: 0, receipt_ids: [], killed_calls: 0, truncated: false, value };
}
async function fakeSupervisor(respond) {
  const net = await import("node:net");
  const dir = fs.mkdtempSync(path.join(tmp, "sock-"));
  const socket = path.join(dir, "s.sock");
  const cst = path.join(dir, "job.cst");
  const claims = Buffer.from(JSON.stringify({ policy_hash_b64u: "P".repeat(43) })).toString("base64url");
  fs.writeFileSync(cst, `\n  hdr.${claims}.sig \n`);
  const requests = [], closed = [];
  const server = net.createServer((conn) => {
    let got = Buffer.alloc(0);
    conn.on("close", () => closed.push(true));
    conn.on("error", () => {});
    conn.on("data", (d) => {
      got = Buffer.concat([got, d]);
      if (got.length < 4 || got.length < 4 + got.readUInt32BE(0)) return;
      assert.equal(got.length, 4 + got.readUInt32BE(0), "one frame, nothing after it");
      const request = JSON.parse(got.subarray(4).toString("utf8"));
      requests.push(request);
      const reply = respond(request);
      if (reply !== undefined) conn.write(encodeFrame(reply));
    });
  });
  await new Promise((r) => server.listen(socket, r));
  const config = resolveConfig({ ...good, cstFile: cst, socket });
  const bridge = new ClawjailFsBridge({ config, workspaceDir: "/srv/ws" });
  return { bridge, requests, closed, close: () => new Promise((r) => server.close(r)) };
}

describe("the file bridge speaks the supervisor's socket (no client process)", () => {
  test("a request is one frame: the job, the CST read from its file, the pinned WPC, the workspace", async () => {
    const s = await fakeSupervisor(() => answer(0, "success", { type: "file", size: 3, mtime_ms: 7 }));
    assert.deepEqual(await s.bridge.stat({ filePath: "/workspace/a/b.txt" }), { type: "file", size: 3, mtimeMs: 7 });
    const claims = Buffer.from(JSON.stringify({ policy_hash_b64u: "P".repeat(43) })).toString("base64url");
    assert.deepEqual(s.requests[0], { clawjail_protocol: 1, type: "call", job_id: "job-1", cst: `hdr.${claims}.sig`,
      wpc_hash_b64u: "P".repeat(43), tool: "stat", workspace: "/srv/ws", fs: { op: "stat", paths: ["a/b.txt"] } });
    const frame = encodeFrame({ a: "é" });
    assert.equal(frame.readUInt32BE(0), Buffer.byteLength('{"a":"é"}'));
    assert.throws(() => encodeFrame({ a: "x".repeat(1 << 20) }), /does not fit one frame/);
    await s.close();
  });
  test("binary data above the inline bound is written in ranges and read back in ranges", async () => {
    let file = Buffer.alloc(0);
    const s = await fakeSupervisor(({ fs: f }) => {
      if (f.op === "write") {
        const data = Buffer.from(f.data_b64, "base64");
        assert.ok(data.length <= MAX_INLINE_BYTES);
        const offset = f.offset ?? 0;
        if (f.truncate !== false) file = Buffer.alloc(0);
        const grown = Buffer.alloc(Math.max(file.length, offset + data.length));
        file.copy(grown);
        data.copy(grown, offset);
        file = grown;
        return answer(0);
      }
      assert.ok(f.length <= MAX_INLINE_BYTES);
      const bytes = file.subarray(f.offset, f.offset + f.length);
      return answer(0, "success", { data_b64: bytes.toString("base64"), eof: f.offset + bytes.length >= file.length });
    });
    const data = Buffer.alloc(MAX_INLINE_BYTES + 70000);
    for (let i = 0; i < data.length; ++i) data[i] = (i * 7919) & 0xff;
    await s.bridge.writeFile({ filePath: "big.bin", data });
    assert.equal(s.requests.length, 2);
    assert.equal(s.requests[0].fs.offset, undefined);
    assert.equal(s.requests[1].fs.offset, MAX_INLINE_BYTES);
    assert.equal(s.requests[1].fs.truncate, false);
    assert.ok(file.equals(data));
    assert.ok((await s.bridge.readFile({ filePath: "big.bin" })).equals(data));
    assert.deepEqual(s.requests.slice(2).map((r) => [r.fs.offset, r.fs.length]), [[0, MAX_INLINE_BYTES], [MAX_INLINE_BYTES, MAX_INLINE_BYTES]]);
    assert.ok((await s.bridge.readFile({ filePath: "big.bin", maxBytes: 10 })).equals(data.subarray(0, 10)));
    assert.deepEqual([s.requests[4].fs.offset, s.requests[4].fs.length], [0, 10]);
    await s.close();
  });
  test("a missing parent makes one mkdir and a retry; an exclusive create reports EEXIST", async () => {
    const s = await fakeSupervisor(({ fs: f }) => {
      if (f.op === "mkdir") return answer(0);
      if (f.exclusive) return { ...answer(1), reason: "write x: File exists (EEXIST)" };
      return s.requests.filter((r) => r.fs.op === "write").length === 1
        ? { ...answer(1), reason: "write d/x: No such file or directory" } : answer(0);
    });
    await s.bridge.writeFile({ filePath: "d/x", data: "hi" });
    assert.deepEqual(s.requests.map((r) => r.fs.op), ["write", "mkdir", "write"]);
    assert.deepEqual(s.requests[1].fs, { op: "mkdir", paths: ["d"], recursive: true });
    assert.equal(await s.bridge.createFileExclusive({ filePath: "x", data: "hi" }), "exists");
    await s.close();
  });
  test("an abort closes the connection (the supervisor then kills the call)", async () => {
    const s = await fakeSupervisor(() => undefined);
    const abort = new AbortController();
    const reading = s.bridge.readFile({ filePath: "slow", signal: abort.signal });
    while (s.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    abort.abort(new Error("stop"));
    await assert.rejects(reading, /stop/);
    while (s.closed.length === 0) await new Promise((r) => setTimeout(r, 5));
    await s.close();
  });
  test("an unreachable supervisor is a supervisor error, not a missing file", async () => {
    const s = await fakeSupervisor(() => undefined);
    await s.close();
    await assert.rejects(s.bridge.remove({ filePath: "x" }), /supervisor unavailable for remove/);
  });
});
