// Runs the clawjail client. The supervisor makes every decision and writes every receipt; this
// file only builds argument lists and turns exit codes into errors OpenClaw can show.
import { spawn } from "node:child_process";
import os from "node:os";

export const EXIT_TIMEOUT = 124;
export const EXIT_SUPERVISOR = 125;
export const EXIT_BLOCKED = 126;
const BLOCKED_LINE = /^clawjail: blocked: ([A-Z][A-Z0-9_]*): ?(.*)$/m;

// The client gets a fixed environment: nothing of the gateway's (API keys, tokens) reaches it.
export const CLIENT_ENV = Object.freeze({ PATH: "/usr/sbin:/usr/bin:/sbin:/bin", LANG: "C.UTF-8" });

// Flags every call carries: which job, which token, which policy, which supervisor.
export function callFlags(config, workspaceDir) {
  const flags = ["--job", config.job, "--cst-file", config.cstFile];
  if (config.wpc) flags.push("--wpc", config.wpc);
  flags.push("--workspace", workspaceDir);
  if (config.socket) flags.push("--socket", config.socket);
  return flags;
}

export class ClawjailBlockedError extends Error {
  constructor(reasonCode, reason, what) {
    super(`clawjail: blocked: ${reasonCode}: ${reason}${what ? ` (${what})` : ""}`);
    this.name = "ClawjailBlockedError";
    this.code = "CLAWJAIL_BLOCKED";
    this.reasonCode = reasonCode;
  }
}

export class ClawjailCallError extends Error {
  constructor(message, { exitCode, errno } = {}) {
    super(message);
    this.name = "ClawjailCallError";
    this.exitCode = exitCode;
    if (errno) this.code = errno;
  }
}

export function parseBlocked(stderrText) {
  const m = BLOCKED_LINE.exec(stderrText);
  return m ? { reasonCode: m[1], reason: m[2] } : null;
}

function lastLine(text) {
  const lines = text.trim().split("\n");
  return lines[lines.length - 1] ?? "";
}

// The error for a non-zero exit: blocked calls carry their reason code; the rest say what failed.
export function errorForExit(result, what) {
  const stderr = result.stderr.toString("utf8");
  const blocked = result.code === EXIT_BLOCKED ? parseBlocked(stderr) : null;
  if (blocked) return new ClawjailBlockedError(blocked.reasonCode, blocked.reason, what);
  const detail = lastLine(stderr) || `exit status ${result.code}`;
  const errno = /\bENOENT\b|No such file or directory/.test(stderr) ? "ENOENT" : undefined;
  if (result.code === EXIT_SUPERVISOR)
    return new ClawjailCallError(`clawjail: supervisor unavailable for ${what}: ${detail}`, { exitCode: result.code });
  return new ClawjailCallError(`clawjail: ${what} failed: ${detail}`, { exitCode: result.code, errno });
}

// Runs `binary args…`, feeding `stdin` and collecting stdout/stderr as Buffers. Aborting the
// signal kills the client, and the supervisor then kills the call's jail.
export function runClient(binary, args, { stdin, signal } = {}) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new Error("aborted"));
    const child = spawn(binary, args, { env: CLIENT_ENV, stdio: ["pipe", "pipe", "pipe"], signal });
    const out = [], err = [];
    child.stdout.on("data", (d) => out.push(d));
    child.stderr.on("data", (d) => err.push(d));
    child.on("error", (e) => reject(e.name === "AbortError" ? e :
      new ClawjailCallError(`clawjail: cannot run ${binary}: ${e.message}`, { exitCode: EXIT_SUPERVISOR })));
    child.on("close", (code, sig) => resolve({
      code: code ?? 128 + (os.constants.signals[sig] ?? 0), signal: sig,
      stdout: Buffer.concat(out), stderr: Buffer.concat(err),
    }));
    child.stdin.on("error", () => {});  // the call may end before reading its input
    child.stdin.end(stdin ?? undefined);
  });
}
