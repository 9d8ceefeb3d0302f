// The plugin's settings (plugins.entries.clawjail.config). Anything missing or malformed is
// reported as one clear message and every sandboxed call fails closed with it.
import fs from "node:fs";
import path from "node:path";

// The supervisor's job-id grammar (policy::check_job_id, policy/job_id.cc); tests/data/job_ids.json
// holds the table both are tested against.
const JOB_ID = /^(?!.*\.\.)[A-Za-z0-9_:@+][A-Za-z0-9._:@+-]{0,127}$/;
const HASH_B64U = /^[A-Za-z0-9_-]{43}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const KNOWN = new Set(["binary", "socket", "job", "cstFile", "wpc", "execTimeoutMs", "envPass"]);
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

function checkJob(raw, problems) {
  if (raw === undefined) return problems.push("job is required (the job id the CST was issued for)");
  if (typeof raw !== "string" || !JOB_ID.test(raw))
    problems.push("job must be 1-128 of [A-Za-z0-9._:@+-], not starting with . or - and without ..");
}

function checkOptional(raw, problems) {
  if (raw.wpc !== undefined && (typeof raw.wpc !== "string" || !HASH_B64U.test(raw.wpc)))
    problems.push("wpc must be a policy_hash_b64u (43 base64url characters)");
  if (raw.execTimeoutMs !== undefined && !(Number.isSafeInteger(raw.execTimeoutMs) && raw.execTimeoutMs > 0))
    problems.push("execTimeoutMs must be a positive integer");
  if (raw.envPass !== undefined &&
      !(Array.isArray(raw.envPass) && raw.envPass.every((n) => typeof n === "string" && ENV_NAME.test(n))))
    problems.push("envPass must be a list of environment variable names");
}

// Returns the validated settings or throws ClawjailConfigError listing every problem.
export function resolveConfig(raw) {
  if (raw === undefined || raw === null) raw = {};
  if (typeof raw !== "object" || Array.isArray(raw)) throw new ClawjailConfigError(["must be an object"]);
  const problems = Object.keys(raw).filter((k) => !KNOWN.has(k)).map((k) => `unknown setting ${k}`);
  const binary = absolutePath(raw.binary ?? DEFAULT_BINARY, "binary", problems, { required: true });
  const socket = absolutePath(raw.socket, "socket", problems, { required: false });
  const cstFile = absolutePath(raw.cstFile, "cstFile", problems, { required: true });
  checkJob(raw.job, problems);
  checkOptional(raw, problems);
  if (problems.length > 0) throw new ClawjailConfigError(problems);
  return Object.freeze({
    binary, socket, cstFile, job: raw.job, wpc: raw.wpc, execTimeoutMs: raw.execTimeoutMs,
    envPass: Object.freeze([...(raw.envPass ?? DEFAULT_ENV_PASS)]),
  });
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
