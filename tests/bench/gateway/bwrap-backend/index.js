// Benchmark only (tests/bench/gateway): the sandbox backend a third party would write with
// bubblewrap, as the peer of clawjail in the gateway benchmark. Exec only: it has no file bridge
// of its own, so OpenClaw runs its file tools through its shell helper scripts
// (runShellCommand) in a fresh bwrap sandbox each, and reads file bytes on the host. Never ship
// it: it signs nothing, checks no policy and records no receipt.
import { spawn } from "node:child_process";
import { definePluginEntry } from "openclaw/plugin-sdk/plugin-entry";
import { registerSandboxBackend } from "openclaw/plugin-sdk/sandbox";

const BACKEND_ID = "bwrap-bench";
const WORKDIR = "/workspace";
const PATH = "/usr/local/bin:/usr/bin:/bin";

// The usual bwrap sandbox: the system read-only, every namespace new (no network), a private /tmp,
// the agent's workspace bound read-write at /workspace, killed with its parent.
function bwrapArgv(binary, workspaceDir, workdir, command) {
  const system = ["/usr", "/bin", "/sbin", "/lib", "/lib64", "/etc"].flatMap((dir) => ["--ro-bind-try", dir, dir]);
  return [binary, ...system, "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
    "--bind", workspaceDir, WORKDIR, "--chdir", workdir || WORKDIR,
    "--unshare-all", "--die-with-parent", "--new-session",
    "--clearenv", "--setenv", "PATH", PATH, "--setenv", "HOME", WORKDIR, "--", ...command];
}

function runShellCommand(binary, workspaceDir, { script, args, stdin, allowFailure, signal }) {
  const argv = bwrapArgv(binary, workspaceDir, WORKDIR, ["sh", "-c", script, "openclaw-sandbox-fs", ...(args ?? [])]);
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ["pipe", "pipe", "pipe"], env: { PATH }, signal });
    const stdout = [], stderr = [];
    child.stdout.on("data", (d) => stdout.push(d));
    child.stderr.on("data", (d) => stderr.push(d));
    child.on("error", reject);
    child.on("close", (code) => {
      const result = { stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr), code: code ?? 1 };
      if (result.code !== 0 && !allowFailure)
        reject(new Error(`bwrap-bench: shell command exited ${result.code}: ${result.stderr.toString("utf8").trim()}`));
      else resolve(result);
    });
    child.stdin.on("error", () => {});  // a script that does not read its stdin
    child.stdin.end(stdin ?? undefined);
  });
}

function createFactory(pluginConfig) {
  const binary = pluginConfig?.binary ?? "/usr/bin/bwrap";
  return async (params) => {
    const workspaceDir = params.workspaceDir;
    const runtimeId = `bwrap-bench-${String(params.scopeKey ?? "default").replace(/[^A-Za-z0-9]+/g, "-").slice(0, 48)}`;
    return {
      id: BACKEND_ID,
      runtimeId,
      runtimeLabel: runtimeId,
      workdir: WORKDIR,
      capabilities: { browser: false },
      buildExecSpec: async ({ command, workdir }) => ({
        argv: bwrapArgv(binary, workspaceDir, workdir, ["sh", "-c", command]),
        env: { PATH },
        cwd: "/",
        stdinMode: "pipe-closed",
      }),
      finalizeExec: async () => {},
      runShellCommand: (command) => runShellCommand(binary, workspaceDir, command),
    };
  };
}

export default definePluginEntry({
  id: BACKEND_ID,
  name: BACKEND_ID,
  description: "Benchmark only: a minimal bubblewrap sandbox backend",
  register(api) {
    if (api.registrationMode !== "full") return;
    const unregister = registerSandboxBackend(BACKEND_ID, { factory: createFactory(api.pluginConfig), resolveWorkdir: () => WORKDIR });
    api.lifecycle?.registerRuntimeLifecycle?.({
      id: "bwrap-bench-sandbox-backend",
      cleanup: ({ reason, sessionKey, runId } = {}) => {
        if (sessionKey === undefined && runId === undefined && (reason === "disable" || reason === "restart")) unregister();
      },
    });
  },
});
