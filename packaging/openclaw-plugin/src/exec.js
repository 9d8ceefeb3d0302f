// exec and runShellCommand: one `clawjail run` per call. OpenClaw spawns the client itself, so
// its own timeout and kill reach the client, and the supervisor kills the jail when the client dies.
import path from "node:path";
import { takeBackgroundMark } from "./background.js";
import { CLIENT_ENV, callFlags, errorForExit, runClient } from "./cli.js";

export const JAIL_WORKDIR = "/workspace";

// Host paths that mean nothing inside the jail; the jail sets its own.
const HOST_ONLY = new Set(["PATH"]);

// Only what this call set on purpose, plus the operator's pass list, goes into the jail: OpenClaw
// hands over the gateway's whole environment, and its secrets must not follow the command.
export function jailEnv(env, envPass, gatewayEnv = process.env) {
  const out = {};
  for (const [key, value] of Object.entries(env ?? {})) {
    if (typeof value !== "string" || key.length === 0 || key.includes("=")) continue;
    if (envPass.includes(key) || (!HOST_ONLY.has(key) && gatewayEnv[key] !== value)) out[key] = value;
  }
  return out;
}

// Jail paths only: a workdir outside /workspace (or with ..) is refused before anything runs.
export function jailWorkdir(workdir) {
  if (workdir === undefined || workdir === null || workdir === "") return JAIL_WORKDIR;
  const normalized = path.posix.normalize(workdir);
  if (normalized !== JAIL_WORKDIR && !normalized.startsWith(`${JAIL_WORKDIR}/`))
    throw new Error(`clawjail: workdir ${workdir} is outside ${JAIL_WORKDIR}`);
  return normalized;
}

function envFlags(env) {
  return Object.entries(env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .flatMap(([k, v]) => ["--env", `${k}=${v}`]);
}

// The repeatable --env comes first: clawjail's parser lets a repeatable option right before `--`
// swallow the separator, and the command's own flags (`sh -c`) would then be taken for clawjail's.
export function runArgv(config, workspaceDir, { workdir, env, timeoutMs, pty, background, argv }) {
  const args = [config.binary, "run", ...envFlags(env ?? {}), ...callFlags(config, workspaceDir),
                "--workdir", jailWorkdir(workdir)];
  if (timeoutMs) args.push("--timeout-ms", String(timeoutMs));
  if (pty) args.push("--pty");
  if (background) args.push("--background");
  args.push("--", ...argv);
  return args;
}

// `usePty` (the exec tool's `pty: true`) asks the supervisor for a terminal of the call's own. A
// background call (background.js) is bounded by the WPC's background_ms, not by execTimeoutMs.
export function buildExecSpec(config, workspaceDir, { command, workdir, env, usePty }) {
  if (typeof command !== "string" || command.length === 0) throw new Error("clawjail: exec needs a command");
  const { background, env: callEnv } = takeBackgroundMark(env);
  return {
    argv: runArgv(config, workspaceDir, {
      workdir, env: jailEnv(callEnv, config.envPass), timeoutMs: background ? undefined : config.execTimeoutMs,
      pty: usePty === true, background, argv: ["sh", "-c", command],
    }),
    env: { ...CLIENT_ENV },
    cwd: "/",
    // The client's stdin (the terminal's input with a pty) is closed unless OpenClaw writes.
    stdinMode: "pipe-closed",
  };
}

// OpenClaw's helper scripts: `sh -c SCRIPT openclaw-sandbox-fs ARGS…` inside the jail.
export async function runShellCommand(config, workspaceDir, { script, args, stdin, allowFailure, signal }) {
  const argv = runArgv(config, workspaceDir, {
    env: {}, timeoutMs: config.execTimeoutMs,
    argv: ["sh", "-c", script, "openclaw-sandbox-fs", ...(args ?? [])],
  });
  const result = await runClient(argv[0], argv.slice(1), { stdin, signal });
  if (result.code !== 0 && !allowFailure) throw errorForExit(result, "shell command");
  return { stdout: result.stdout, stderr: result.stderr, code: result.code };
}
