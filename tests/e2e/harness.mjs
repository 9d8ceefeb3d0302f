// Shared pieces of the OpenClaw end-to-end suite: the clawjail CLI, the supervisor, the OpenClaw
// gateway, and cron script jobs that make OpenClaw's own tool code call the clawjail backend.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const env = {
  work: required("CLAWJAIL_E2E_WORK"),
  binary: required("CLAWJAIL_BINARY"),
  node: required("CLAWJAIL_E2E_NODE"),
  openclaw: required("CLAWJAIL_E2E_OPENCLAW"),
  plugin: required("CLAWJAIL_E2E_PLUGIN"),
};

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`clawjail-e2e: ${name} is not set (run tests/e2e/run.sh)`);
  return value;
}

export function log(message) {
  process.stderr.write(`clawjail-e2e: ${message}\n`);
}

// Runs a command to completion; throws with its stderr unless `allowFailure`.
export function run(argv, { input, allowFailure = false, extraEnv = {}, timeoutMs = 60_000 } = {}) {
  const r = spawnSync(argv[0], argv.slice(1), {
    input, encoding: "utf8", timeout: timeoutMs, env: { ...process.env, ...extraEnv }, maxBuffer: 64 << 20,
  });
  if (r.error) throw new Error(`${argv.join(" ")}: ${r.error.message}`);
  if (r.status !== 0 && !allowFailure)
    throw new Error(`${argv.join(" ")} exited ${r.status}:\n${r.stderr}${r.stdout}`);
  return r;
}

// The same without blocking the event loop (servers in this process keep answering meanwhile).
export function runAsync(argv, { extraEnv = {}, timeoutMs = 60_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { env: { ...process.env, ...extraEnv }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "", stderr = "";
    child.stdout.on("data", (d) => { stdout += d; });
    child.stderr.on("data", (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (status) => {
      clearTimeout(timer);
      if (status !== 0) reject(new Error(`${argv.join(" ")} exited ${status}:\n${stderr}${stdout}`));
      else resolve({ status, stdout, stderr });
    });
  });
}

export function clawjail(args, options) {
  return run([env.binary, ...args], options);
}

// Starts a long-running process in its own session and records its pid in `<name>.pid`, so
// run.sh's trap can stop it on every exit path, even when this process dies first.
export function startDaemon(name, argv, extraEnv = {}) {
  const out = fs.openSync(path.join(env.work, `${name}.log`), "a");
  const pidfile = path.join(env.work, `${name}.pid`);
  const child = spawn("setsid", ["sh", "-c", 'echo $$ > "$0"; exec "$@"', pidfile, ...argv], {
    stdio: ["ignore", out, out], env: { ...process.env, ...extraEnv }, detached: false,
  });
  fs.closeSync(out);
  return { child, pidfile, name };
}

export async function stopDaemon(daemon, graceMs = 10_000) {
  if (!daemon || daemon.child.exitCode !== null || daemon.child.signalCode !== null) return;
  const pid = Number(fs.readFileSync(daemon.pidfile, "utf8"));
  const exited = new Promise((resolve) => daemon.child.once("exit", resolve));
  try { process.kill(-pid, "SIGTERM"); } catch { /* already gone */ }
  const timer = setTimeout(() => { try { process.kill(-pid, "SIGKILL"); } catch { /* gone */ } }, graceMs);
  await exited;
  clearTimeout(timer);
}

export async function waitFor(what, check, { timeoutMs = 30_000, intervalMs = 250 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export function tail(file, lines = 40) {
  try {
    return fs.readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// The operator's side of clawjail for a gateway test: keys, the supervisor's config, WPCs signed
// and installed, CSTs issued, and `clawjail serve`, all under `dir`.
export class Operator {
  constructor(dir) {
    this.dir = dir;
    this.keys = path.join(dir, "keys");
    this.configFile = path.join(dir, "clawjail.json");
    this.socket = path.join(dir, "clawjail.sock");
    this.dids = {};
  }

  keygen(name) {
    fs.mkdirSync(this.keys, { recursive: true });
    const out = clawjail(["keygen", "--out", this.keys, "--name", name]).stdout;
    const did = out.match(/did:key:z[1-9A-HJ-NP-Za-km-z]+/)?.[0];
    if (!did) throw new Error(`keygen printed no did:key: ${out}`);
    return did;
  }

  // The three keys and the supervisor's config that trusts the signer and the issuer.
  setUp() {
    for (const name of ["supervisor", "signer", "issuer"]) this.dids[name] = this.keygen(name);
    const config = {
      socket: this.socket,
      state_dir: path.join(this.dir, "state"),
      signing_key: path.join(this.keys, "supervisor.key"),
      wpc_signers: [this.dids.signer],
      cst_issuers: [{ kid: "e2e-issuer", did: this.dids.issuer }],
      audience: "clawjail",
    };
    fs.writeFileSync(this.configFile, JSON.stringify(config, null, 2));
  }

  wpcPayload(id, tools, job, limits = { timeout_ms: 60000 }) {
    return {
      wpc_version: "v1", policy_id: id, issuer_did: this.dids.signer,
      job: { id: job, anti_replay: { bind_job_scoped_cst: true } },
      tools: { ...tools, elevated: { enabled: false } },
      tokens: { require_cst: true, pin_wpc_hash: true },
      sandbox: { workspace_access: "rw", limits: { pids: 64, ...limits } },
    };
  }

  // Signs and installs a WPC; returns its hash.
  installWpc(name, payload) {
    const file = path.join(this.dir, `${name}.payload.json`);
    fs.writeFileSync(file, JSON.stringify(payload, null, 2));
    const envelope = clawjail(["wpc", "sign", "--key", path.join(this.keys, "signer.key"), file]).stdout;
    const envFile = path.join(this.dir, `${name}.wpc.json`);
    fs.writeFileSync(envFile, envelope);
    const hash = clawjail(["wpc", "install", "--config", this.configFile, envFile]).stdout.trim().split(/\s+/).pop();
    if (!/^[A-Za-z0-9_-]{43}$/.test(hash)) throw new Error(`wpc install printed no hash: ${hash}`);
    return hash;
  }

  // Writes a CST for `job` pinned to `policyHash` into `out`, as the operator's issuer does.
  issueCst(policyHash, { ttl = 3600, job, out }) {
    clawjail(["cst", "issue", "--key", path.join(this.keys, "issuer.key"), "--kid", "e2e-issuer",
      "--sub", this.dids.issuer, "--job", job, "--aud", "clawjail", "--scope", "clawjail:call", "--policy", policyHash,
      "--ttl", String(ttl), "--out", out]);
  }

  async startSupervisor() {
    const supervisor = startDaemon("supervisor", [env.binary, "serve", "--config", this.configFile]);
    await waitFor("the supervisor's socket", () => {
      if (supervisor.child.exitCode !== null) throw new Error(`clawjail serve exited:\n${tail(path.join(env.work, "supervisor.log"))}`);
      try {
        return fs.statSync(this.socket).isSocket();
      } catch {
        return false;
      }
    });
    return supervisor;
  }
}

export class Gateway {
  constructor({ port, token, home }) {
    Object.assign(this, { port, token, home });
    this.jobCount = 0;
  }

  get env() {
    return { HOME: this.home, OPENCLAW_HOME: this.home };
  }

  cli(args, options = {}) {
    return run([env.node, env.openclaw, ...args], { ...options, extraEnv: { ...this.env, ...options.extraEnv } });
  }

  auth() {
    return ["--port", String(this.port), "--token", this.token];
  }

  writeConfig(config) {
    fs.mkdirSync(path.join(this.home, ".openclaw"), { recursive: true });
    fs.writeFileSync(path.join(this.home, ".openclaw", "openclaw.json"), JSON.stringify(config, null, 2));
  }

  async start() {
    this.daemon = startDaemon("gateway", [env.node, env.openclaw, "gateway", "run", "--port", String(this.port)],
                              this.env);
    await waitFor("the OpenClaw gateway's /health", async () => {
      if (this.daemon.child.exitCode !== null) throw new Error(`gateway exited:\n${tail(path.join(env.work, "gateway.log"))}`);
      try {
        return (await fetch(`http://127.0.0.1:${this.port}/health`)).status === 200;
      } catch {
        return false;
      }
    }, { timeoutMs: 90_000, intervalMs: 500 });
  }

  async stop() {
    await stopDaemon(this.daemon, 15_000);
  }

  // Runs `source` as an OpenClaw cron script job: OpenClaw builds its coding tools for the agent's
  // sandbox (the clawjail backend) and the script calls them as exec(), read(), write()… .
  // The script returns a JSON string through `notify`; this returns it parsed. `agent` runs it as
  // that OpenClaw agent (default: the default agent); `failedRun` returns a run that did not
  // finish ok instead of throwing.
  scriptJob(source, { timeoutSeconds = 120, agent, failedRun = false } = {}) {
    const id = this.createScriptJob(source, { timeoutSeconds, agent });
    return this.runScriptJob(id, { timeoutSeconds, failedRun });
  }

  // The two halves of scriptJob: a kept job can be run again. `toolBudget` raises OpenClaw's
  // limit of tool calls per run (default 50, at most 200).
  createScriptJob(source, { timeoutSeconds = 120, agent, toolBudget } = {}) {
    const name = `e2e-${process.pid}-${++this.jobCount}`;
    const file = path.join(env.work, `${name}.js`);
    fs.writeFileSync(file, source);
    const created = JSON.parse(this.cli(["automations", "create", "--name", name, "--at", "1h", "--script", file,
      "--script-timeout-seconds", String(timeoutSeconds), "--session", "isolated", "--no-deliver",
      ...(agent ? ["--agent", agent] : []), ...(toolBudget ? ["--script-tool-budget", String(toolBudget)] : []),
      "--keep-after-run", "--json", ...this.auth()]).stdout);
    return created.id;
  }

  runScriptJob(id, { timeoutSeconds = 120, failedRun = false } = {}) {
    const r = this.cli(["automations", "run", id, "--wait", ...this.auth()],
                       { timeoutMs: (timeoutSeconds + 60) * 1000, allowFailure: failedRun });
    let ran;
    try {
      ran = JSON.parse(r.stdout);  // a failed run exits 1 and still prints it
    } catch {
      throw new Error(`automations run of ${id} exited ${r.status}:\n${r.stderr}${r.stdout}`);
    }
    if (ran.run?.status !== "ok") {
      if (failedRun) return { failed: true, run: ran.run ?? ran };
      throw new Error(`script job ${id} did not finish ok: ${JSON.stringify(ran.run ?? ran)}`);
    }
    return JSON.parse(ran.run.summary);
  }

  // The same, without blocking this process: the caller can watch the host while the job runs.
  scriptJobAsync(source, options) {
    const worker = new URL("./script-job.mjs", import.meta.url);
    return new Promise((resolve, reject) => {
      const child = spawn(env.node, [fileURLToPath(worker)], {
        stdio: ["pipe", "pipe", "inherit"],
        env: { ...process.env, CLAWJAIL_E2E_GATEWAY: JSON.stringify({ port: this.port, token: this.token, home: this.home }) },
      });
      let out = "";
      child.stdout.on("data", (d) => { out += d; });
      child.on("error", reject);
      child.on("close", (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`script job runner exited ${code}`))));
      child.stdin.end(JSON.stringify({ source, options }));
    });
  }
}

// The body of a script job: each step runs one tool and records its result or its error.
export function scriptOf(steps) {
  const body = steps.map(([key, call]) =>
    `try { out[${JSON.stringify(key)}] = { ok: true, value: await ${call} }; } ` +
    `catch (e) { out[${JSON.stringify(key)}] = { ok: false, error: String(e && e.message || e) }; }`);
  return ["const out = {};", ...body, "return { notify: JSON.stringify(out) };", ""].join("\n");
}

// The text a tool result shows the model.
export function textOf(result) {
  const value = result?.value;
  if (typeof value === "string") return value;
  if (Array.isArray(value?.content)) return value.content.map((c) => c.text ?? "").join("\n");
  if (typeof value?.aggregated === "string") return value.aggregated;
  return JSON.stringify(value);
}
