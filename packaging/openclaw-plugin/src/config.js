// The plugin's settings (plugins.entries.clawjail.config). Anything missing or malformed is
// reported as one clear message and every sandboxed call fails closed with it.
import fs from "node:fs";
import path from "node:path";

// The supervisor's job-id grammar (policy::check_job_id, policy/job_id.cc); tests/data/job_ids.json
// holds the table both are tested against.
const JOB_ID = /^(?!.*\.\.)[A-Za-z0-9_:@+][A-Za-z0-9._:@+-]{0,127}$/;
const HASH_B64U = /^[A-Za-z0-9_-]{43}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const KNOWN = new Set(["binary", "socket", "job", "cstFile", "wpc", "execTimeoutMs", "envPass", "agents"]);
const AGENT_KNOWN = new Set(["job", "cstFile", "wpc"]);
// OpenClaw's canonical agent id (agents.entries keys, lowercased by OpenClaw; see docs/openclaw.md).
export const AGENT_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;
export const DEFAULT_BINARY = "/usr/bin/clawjail";
export const DEFAULT_ENV_PASS = ["LANG", "LC_ALL", "TZ", "TERM"];

export class ClawjailConfigError extends Error {
  constructor(problems) {
    super(`clawjail: plugin config (plugins.entries.clawjail.config): ${problems.join("; ")}`);
    this.name = "ClawjailConfigError";
    this.code = "CLAWJAIL_CONFIG_INVALID";
  }
}

function absolutePath(raw, key, problems, { required }) {
  if (raw === undefined) {
    if (required) problems.push(`${key} is required`);
    return undefined;
  }
  if (typeof raw !== "string" || !path.isAbsolute(raw) || raw.includes("\0")) {
    problems.push(`${key} must be an absolute path`);
    return undefined;
  }
  return path.normalize(raw);
}

function checkJob(raw, key, problems) {
  if (raw === undefined) return problems.push(`${key} is required (the job id the CST was issued for)`);
  if (typeof raw !== "string" || !JOB_ID.test(raw))
    problems.push(`${key} must be 1-128 of [A-Za-z0-9._:@+-], not starting with . or - and without ..`);
}

function checkWpc(raw, key, problems) {
  if (raw !== undefined && (typeof raw !== "string" || !HASH_B64U.test(raw)))
    problems.push(`${key} must be a policy_hash_b64u (43 base64url characters)`);
}

function isObject(raw) {
  return typeof raw === "object" && raw !== null && !Array.isArray(raw);
}

// One job binding: the job, its CST file and optionally the WPC. `prefix` names where it sits in
// the config ("" for the default, "agents.<id>." for an agent), so every problem names its key.
function jobBinding(raw, prefix, problems) {
  const before = problems.length;
  const cstFile = absolutePath(raw.cstFile, `${prefix}cstFile`, problems, { required: true });
  checkJob(raw.job, `${prefix}job`, problems);
  checkWpc(raw.wpc, `${prefix}wpc`, problems);
  if (problems.length > before) return undefined;
  return Object.freeze({ job: raw.job, cstFile, wpc: raw.wpc });
}

// agents: { "<OpenClaw agent id>": { job, cstFile, wpc? } }. An entry is complete on its own:
// nothing is inherited from the default, so an agent never runs with another agent's token.
function agentBindings(raw, problems) {
  const agents = new Map();
  if (raw === undefined) return agents;
  if (!isObject(raw)) {
    problems.push("agents must be an object keyed by OpenClaw agent id");
    return agents;
  }
  for (const [id, entry] of Object.entries(raw)) {
    if (!AGENT_ID.test(id)) {
      problems.push(`agents.${id} is not an OpenClaw agent id (1-64 of a-z, 0-9, _ and -, starting with a letter or digit)`);
      continue;
    }
    if (!isObject(entry)) {
      problems.push(`agents.${id} must be an object { job, cstFile, wpc? }`);
      continue;
    }
    for (const key of Object.keys(entry)) if (!AGENT_KNOWN.has(key)) problems.push(`unknown setting agents.${id}.${key}`);
    const binding = jobBinding(entry, `agents.${id}.`, problems);
    if (binding) agents.set(id, binding);
  }
  return agents;
}

// The default binding (top-level job, cstFile, wpc): required without an agents map, optional
// with one, but then whole (job and cstFile together) or absent.
function defaultBinding(raw, agents, problems) {
  const present = ["job", "cstFile", "wpc"].filter((k) => raw[k] !== undefined);
  if (agents.size > 0 && present.length === 0) return undefined;
  if (agents.size > 0 && !(raw.job !== undefined && raw.cstFile !== undefined)) {
    problems.push(`${present.join(" and ")} set without ${raw.job === undefined ? "job" : "cstFile"}: ` +
                  "the default for agents without an entry needs both job and cstFile (or neither)");
    return undefined;
  }
  return jobBinding(raw, "", problems);
}

function checkOptional(raw, problems) {
  if (raw.execTimeoutMs !== undefined && !(Number.isSafeInteger(raw.execTimeoutMs) && raw.execTimeoutMs > 0))
    problems.push("execTimeoutMs must be a positive integer");
  if (raw.envPass !== undefined &&
      !(Array.isArray(raw.envPass) && raw.envPass.every((n) => typeof n === "string" && ENV_NAME.test(n))))
    problems.push("envPass must be a list of environment variable names");
}

// Returns the validated settings or throws ClawjailConfigError listing every problem. The
// default binding's job, cstFile and wpc sit at the top (undefined when there is none), so the
// result is itself the call settings of an agent without an entry; configForAgent picks the rest.
export function resolveConfig(raw) {
  if (raw === undefined || raw === null) raw = {};
  if (!isObject(raw)) throw new ClawjailConfigError(["must be an object"]);
  const problems = Object.keys(raw).filter((k) => !KNOWN.has(k)).map((k) => `unknown setting ${k}`);
  const binary = absolutePath(raw.binary ?? DEFAULT_BINARY, "binary", problems, { required: true });
  const socket = absolutePath(raw.socket, "socket", problems, { required: false });
  const agents = agentBindings(raw.agents, problems);
  const fallback = defaultBinding(raw, agents, problems);
  checkOptional(raw, problems);
  if (problems.length > 0) throw new ClawjailConfigError(problems);
  return Object.freeze({
    binary, socket, job: fallback?.job, cstFile: fallback?.cstFile, wpc: fallback?.wpc,
    execTimeoutMs: raw.execTimeoutMs, envPass: Object.freeze([...(raw.envPass ?? DEFAULT_ENV_PASS)]),
    agents,
  });
}

export class ClawjailAgentError extends Error {
  constructor(message) {
    super(`clawjail: ${message}`);
    this.name = "ClawjailAgentError";
    this.code = "CLAWJAIL_AGENT_UNMAPPED";
  }
}

// The settings one agent's calls run with: its own entry, else the default. `agentId` is
// undefined when OpenClaw's scope names no agent; with an agents map that is refused, since the
// calls of any agent could then land in the default's job.
export function configForAgent(config, agentId) {
  const binding = agentId === undefined ? undefined : config.agents.get(agentId);
  if (binding) return Object.freeze({ ...config, ...binding, agent: agentId });
  if (agentId === undefined && config.agents.size > 0)
    throw new ClawjailAgentError("OpenClaw named no agent for this sandbox, so no entry of agents applies");
  if (config.job === undefined)
    throw new ClawjailAgentError(`agent "${agentId}" has no job: add plugins.entries.clawjail.config.agents.${agentId} ` +
                                 "= { job, cstFile } or a default job and cstFile");
  return Object.freeze({ ...config, agent: agentId });
}

// Checked on every call rather than once: the operator's issuer rotates the CST file, and the
// binary may be reinstalled; either missing must fail the call with a message, not a spawn error.
export function checkRuntimeFiles(config) {
  const problems = [];
  try {
    fs.accessSync(config.binary, fs.constants.X_OK);
  } catch (e) {
    problems.push(`binary ${config.binary} is not executable (${e.code ?? e.message})`);
  }
  try {
    if (!fs.statSync(config.cstFile).isFile()) problems.push(`cstFile ${config.cstFile} is not a file`);
  } catch (e) {
    problems.push(`cstFile ${config.cstFile} cannot be read (${e.code ?? e.message})`);
  }
  if (problems.length > 0) throw new ClawjailConfigError(problems);
}
