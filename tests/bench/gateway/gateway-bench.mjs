// The gateway benchmark: OpenClaw's own tools, called by OpenClaw's own tool code in a real gateway,
// in three modes taking turns in one run — host (sandbox off, the baseline), clawjail (the plugin
// with a real `clawjail serve`) and bwrap (bwrap-backend/, a minimal bubblewrap backend with no
// file bridge of its own). Started by run.sh, which owns the work directory and the processes.
//
// One gateway holds three agents, one per mode; each mode's cron script job runs every tool
// `--calls` times (after one untimed warm-up call each) and times each call with performance.now()
// inside OpenClaw's script executor, around the tool call itself. The jobs take turns, in a
// rotating order, for `--rounds` rounds.
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Gateway, Operator, env, freePort, stopDaemon } from "../../e2e/harness.mjs";

const MODES = ["host", "clawjail", "bwrap"];
const TOOLS = ["exec", "write", "read", "edit", "ls"];
const FILE_TOOLS = ["write", "read", "edit", "ls"];
// The issue's targets for OpenClaw's file tools through clawjail, against the host's time.
const TARGET = 1.5;
const MOONSHOT = 1.2;
const JOB = "job-gateway-bench";
// OpenClaw stops a script after 200 tool calls.
const MAX_TOOL_BUDGET = 200;
const JOB_TIMEOUT_SECONDS = 600;
const BWRAP_PLUGIN = path.join(path.dirname(fileURLToPath(import.meta.url)), "bwrap-backend");

function say(message) {
  process.stdout.write(`${message}\n`);
}

function usage(problem) {
  process.stderr.write(`gateway-bench: ${problem}\n` +
    "usage: tests/bench/gateway/run.sh /path/to/clawjail [--rounds N] [--calls N] [--only MODE,…] [--json FILE]\n");
  process.exit(2);
}

function parseArgs(argv) {
  const options = { rounds: 6, calls: 5, modes: MODES, json: undefined };
  for (let i = 0; i < argv.length; i++) {
    const value = () => argv[++i] ?? usage(`${argv[i - 1]} needs a value`);
    const count = (name) => {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 1) usage(`${name} must be a positive integer`);
      return n;
    };
    switch (argv[i]) {
      case "--rounds": options.rounds = count("--rounds"); break;
      case "--calls": options.calls = count("--calls"); break;
      case "--only": {
        options.modes = value().split(",").filter(Boolean);
        const unknown = options.modes.filter((m) => !MODES.includes(m));
        if (unknown.length > 0 || options.modes.length === 0) usage(`--only takes modes from ${MODES.join(",")}`);
        break;
      }
      case "--json": options.json = path.resolve(value()); break;
      default: usage(`unknown argument ${argv[i]}`);
    }
  }
  if ((options.calls + 1) * TOOLS.length > MAX_TOOL_BUDGET)
    usage(`--calls ${options.calls} needs more than OpenClaw's ${MAX_TOOL_BUDGET} tool calls per script`);
  return options;
}

// The script job each mode runs: the same calls, the same checks, each call timed on its own.
// Call -1 of each tool is the warm-up and is not timed. A call that throws or returns the wrong
// thing is a failure, and the run is not counted as a figure.
function benchScript(calls) {
  return `
const timed = typeof performance === "object" && typeof performance.now === "function";
const clock = timed ? () => performance.now() : () => Date.now();
const out = { clock: timed ? "performance.now" : "Date.now", times: {}, failures: [] };
for (const tool of ${JSON.stringify(TOOLS)}) out.times[tool] = [];
const text = (v) => typeof v === "string" ? v
  : Array.isArray(v?.content) ? v.content.map((c) => c.text ?? "").join("\\n")
  : typeof v?.aggregated === "string" ? v.aggregated : JSON.stringify(v);
async function call(tool, i, run, expect) {
  const t0 = clock();
  let value;
  try {
    value = await run();
  } catch (e) {
    out.failures.push(tool + " #" + i + ": " + String(e?.message ?? e).slice(0, 300));
    return;
  }
  const ms = clock() - t0;
  const shown = text(value);
  if (value?.status === "failed" || !shown.includes(expect)) {
    out.failures.push(tool + " #" + i + ": expected " + JSON.stringify(expect) + ", got " + shown.slice(0, 300));
    return;
  }
  if (i >= 0) out.times[tool].push(ms);
}
for (let i = -1; i < ${calls}; i++) {
  const file = "bench/f" + (i + 1) + ".txt";
  // About 1 KiB: a first line that is unique (for edit), then lines of text.
  const content = "head " + i + "\\n" + Array.from({ length: 24 }, (_, k) => "line " + k + " of a benchmark file\\n").join("");
  await call("exec", i, () => exec({ command: "echo bench-" + i }), "bench-" + i);
  await call("write", i, () => write({ path: file, content }), "");
  await call("read", i, () => read({ path: file }), "head " + i);
  await call("edit", i, () => edit({ path: file, edits: [{ oldText: "head " + i + "\\n", newText: "edited " + i + "\\n" }] }), "");
  await call("ls", i, () => ls({ path: "bench" }), "f" + (i + 1) + ".txt");
}
return { notify: JSON.stringify(out) };
`;
}

function gatewayConfig({ port, token, modes, operator, cstFile, home }) {
  const ws = (mode) => path.join(env.work, `workspace-${mode}`);
  const sandbox = {
    host: { mode: "off" },
    clawjail: { mode: "all", backend: "clawjail", scope: "agent", workspaceAccess: "rw" },
    bwrap: { mode: "all", backend: "bwrap-bench", scope: "agent", workspaceAccess: "rw" },
  };
  const entries = {};
  for (const mode of modes) {
    fs.mkdirSync(ws(mode), { recursive: true });
    entries[mode] = { workspace: ws(mode), sandbox: sandbox[mode] };
  }
  return {
    gateway: { mode: "local", bind: "loopback", port, auth: { mode: "token", token } },
    logging: { file: path.join(home, "openclaw.log") },
    plugins: {
      allow: ["clawjail", "bwrap-bench"],
      load: { paths: [env.plugin, BWRAP_PLUGIN] },
      entries: {
        clawjail: { enabled: true, config: { binary: env.binary, socket: operator.socket, job: JOB, cstFile } },
        "bwrap-bench": { enabled: true, config: {} },
      },
    },
    agents: { entries },
    tools: { exec: { notifyOnExit: false } },
  };
}

function median(values) {
  return percentile(values, 50);
}

// Linear interpolation between the closest ranks.
function percentile(values, p) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}

const round3 = (x) => (x === null ? null : Math.round(x * 1000) / 1000);
const ratio = (a, b) => (a === null || b === null || b === 0 ? null : round3(a / b));

function figuresOf(results, modes) {
  const figures = {};
  for (const mode of modes) {
    figures[mode] = {};
    for (const tool of TOOLS) {
      const perRound = results[mode].map((r) => r.times[tool] ?? []);
      const all = perRound.flat();
      figures[mode][tool] = {
        calls: all.length,
        median_ms: round3(median(all)),
        p90_ms: round3(percentile(all, 90)),
        min_ms: round3(all.length ? Math.min(...all) : null),
        max_ms: round3(all.length ? Math.max(...all) : null),
        round_medians_ms: perRound.map((times) => round3(median(times))),
        samples_ms: perRound.map((times) => times.map(round3)),
      };
    }
  }
  return figures;
}

function ratiosOf(figures) {
  const pairs = [["clawjail", "host"], ["bwrap", "host"], ["clawjail", "bwrap"]];
  const ratios = {};
  for (const tool of TOOLS) {
    ratios[tool] = {};
    for (const [a, b] of pairs) {
      if (!figures[a] || !figures[b]) continue;
      ratios[tool][`${a}/${b}`] = { median: ratio(figures[a][tool].median_ms, figures[b][tool].median_ms),
                                    p90: ratio(figures[a][tool].p90_ms, figures[b][tool].p90_ms) };
    }
  }
  return ratios;
}

function targetsOf(ratios) {
  return FILE_TOOLS.filter((tool) => ratios[tool]["clawjail/host"]?.median != null).map((tool) => {
    const value = ratios[tool]["clawjail/host"].median;
    return { tool, measure: "clawjail/host median", value, target: TARGET, pass: value <= TARGET,
             moonshot: MOONSHOT, moonshot_pass: value <= MOONSHOT };
  });
}

function pad(text, width) {
  return String(text).padEnd(width);
}

function summary(report) {
  const { modes, figures, ratios, targets } = report;
  const ms = (x) => (x === null ? "-" : x < 10 ? x.toFixed(2) : x.toFixed(1));
  const x = (r) => (r == null ? "-" : `${r.toFixed(2)}×`);
  const lines = [];
  lines.push(`OpenClaw ${report.openclaw} gateway, ${report.rounds} round(s) × ${report.calls} call(s) per tool and mode, ` +
             `timed with ${report.clock}; load ${report.load.before.join(" ")} → ${report.load.after.join(" ")}`);
  lines.push(`${pad("tool", 6)}${modes.map((m) => pad(`${m} p50/p90 ms`, 22)).join("")}` +
             Object.keys(ratios.exec).map((k) => pad(`${k} p50 (p90)`, 24)).join(""));
  for (const tool of TOOLS) {
    lines.push(`${pad(tool, 6)}${modes.map((m) => pad(`${ms(figures[m][tool].median_ms)} / ${ms(figures[m][tool].p90_ms)}`, 22)).join("")}` +
               Object.values(ratios[tool]).map((r) => pad(`${x(r.median)} (${x(r.p90)})`, 24)).join(""));
  }
  for (const t of targets) {
    lines.push(`${t.pass ? "PASS" : "FAIL"} ${t.tool}: clawjail ${x(t.value)} the host's median (target ≤ ${t.target}×; ` +
               `moonshot ≤ ${t.moonshot}× ${t.moonshot_pass ? "met" : "not met"})`);
  }
  return lines.join("\n");
}

// Read from the package: one more OpenClaw CLI call would cost seconds.
function openclawVersion() {
  return JSON.parse(fs.readFileSync(path.join(path.dirname(env.openclaw), "package.json"), "utf8")).version;
}

function loadAverage() {
  return os.loadavg().map((l) => Number(l.toFixed(2)));
}

// The JSON must hold a median and a p90 for every tool of every mode measured.
function checkReport(file, modes) {
  const report = JSON.parse(fs.readFileSync(file, "utf8"));
  const missing = [];
  for (const mode of modes) {
    for (const tool of TOOLS) {
      const f = report.figures?.[mode]?.[tool];
      if (!(f?.calls > 0) || typeof f.median_ms !== "number" || typeof f.p90_ms !== "number") missing.push(`${mode}/${tool}`);
    }
  }
  return missing;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const { modes } = options;
  const operator = new Operator(env.work);
  const cstFile = path.join(env.work, "job.cst");
  let supervisor;
  const gateway = new Gateway({ port: await freePort(), token: randomBytes(24).toString("hex"),
                                home: path.join(env.work, "openclaw-home") });
  try {
    if (modes.includes("clawjail")) {
      operator.setUp();
      const policy = operator.installWpc("bench", operator.wpcPayload("gateway-bench", {
        // No `process`: Code Mode gives every exec a yieldMs, which stays a foreground call (docs/openclaw.md §6).
      allow: ["exec", "read", "write:workspace"], deny: ["docker_socket"] }, JOB));
      operator.issueCst(policy, { job: JOB, out: cstFile });
      supervisor = await operator.startSupervisor();
    }
    gateway.writeConfig(gatewayConfig({ port: gateway.port, token: gateway.token, modes, operator, cstFile, home: gateway.home }));
    const t0 = Date.now();
    await gateway.start();
    say(`gateway-bench: gateway healthy after ${((Date.now() - t0) / 1000).toFixed(1)} s; modes ${modes.join(", ")}`);
    const source = benchScript(options.calls);
    const jobs = {};
    for (const mode of modes) {
      jobs[mode] = gateway.createScriptJob(source, { agent: mode, timeoutSeconds: JOB_TIMEOUT_SECONDS,
                                                    toolBudget: (options.calls + 1) * TOOLS.length });
    }
    const load = { before: loadAverage() };
    const results = Object.fromEntries(modes.map((m) => [m, []]));
    const failures = Object.fromEntries(modes.map((m) => [m, []]));
    const order = [];
    let clock;
    for (let round = 0; round < options.rounds; round++) {
      const turn = modes.map((_, i) => modes[(i + round) % modes.length]);
      order.push(turn);
      for (const mode of turn) {
        const t = Date.now();
        const out = gateway.runScriptJob(jobs[mode], { timeoutSeconds: JOB_TIMEOUT_SECONDS });
        clock = out.clock;
        results[mode].push(out);
        failures[mode].push(...out.failures.map((f) => `round ${round + 1}: ${f}`));
        say(`gateway-bench: round ${round + 1}/${options.rounds} ${mode}: ${TOOLS.map((tool) =>
          `${tool} ${median(out.times[tool])?.toFixed(2) ?? "-"}`).join(", ")} ms (job ${((Date.now() - t) / 1000).toFixed(1)} s` +
          `${out.failures.length ? `, ${out.failures.length} failed` : ""})`);
      }
    }
    load.after = loadAverage();
    const figures = figuresOf(results, modes);
    const ratios = ratiosOf(figures);
    const report = {
      benchmark: "gateway", openclaw: openclawVersion(), node: process.version,
      clawjail: env.binary, rounds: options.rounds, calls: options.calls, modes, tools: TOOLS, order, clock,
      method: "each tool call timed inside OpenClaw's cron script executor, around the tool call; one untimed warm-up call per tool and job run",
      load, figures, ratios, targets: targetsOf(ratios), failures,
    };
    say(summary(report));
    if (options.json) {
      fs.writeFileSync(options.json, `${JSON.stringify(report, null, 2)}\n`);
      say(`gateway-bench: figures in ${options.json}`);
    }
    let status = 0;
    for (const mode of modes) {
      if (failures[mode].length === 0) continue;
      say(`gateway-bench: ${mode}: ${failures[mode].length} call(s) failed:\n  ${failures[mode].slice(0, 10).join("\n  ")}`);
      status = 1;
    }
    const missing = options.json ? checkReport(options.json, modes) : [];
    if (missing.length > 0) {
      say(`gateway-bench: no figures for ${missing.join(", ")}`);
      status = 1;
    }
    return status;
  } finally {
    await gateway.stop();
    await stopDaemon(supervisor);
  }
}

main().then((status) => process.exit(status), (e) => {
  process.stderr.write(`gateway-bench: ${e.stack ?? e}\n`);
  process.exit(1);
});
