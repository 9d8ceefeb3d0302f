// The sandbox backend handle OpenClaw asks for on every agent turn. A clawjail "runtime" holds no
// state of its own: each call gets a fresh jail from the supervisor, so creating one is free.
import { createHash } from "node:crypto";
import fs from "node:fs";
import { AGENT_ID, ClawjailAgentError, checkRuntimeFiles, configForAgent, resolveConfig } from "./config.js";
import { JAIL_WORKDIR, buildExecSpec, runShellCommand } from "./exec.js";
import { ClawjailFsBridge } from "./fs-bridge.js";
import { supervisorSocket } from "./socket.js";

export const BACKEND_ID = "clawjail";

export function runtimeIdFor(scopeKey) {
  const safe = String(scopeKey ?? "default").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
  const digest = createHash("sha256").update(String(scopeKey ?? "")).digest("hex").slice(0, 8);
  return `clawjail-${safe.slice(0, 40)}-${digest}`;
}

export function configLabel(config) {
  return `job ${config.job}, wpc ${config.wpc ?? "from CST"}`;
}

// OpenClaw's agent id normalization (normalizeAgentId), except that an id it cannot represent is
// undefined here instead of OpenClaw's fallback "main": no agent must borrow main's job.
function normalizeAgentId(raw) {
  const lower = String(raw).trim().toLowerCase();
  if (AGENT_ID.test(lower)) return lower;
  const id = lower.replace(/[^a-z0-9_-]+/g, "-").replace(/^-+/, "").replace(/-+$/, "").slice(0, 64);
  return id || undefined;
}

// The agent a sandbox belongs to, read as OpenClaw itself reads it (resolveSandboxAgentId): the
// scope key is agent:<id>:workspace:<hash> for scope "agent" and the session key
// (agent:<id>:…) plus that suffix for scope "session"; the shared scope names no agent.
export function agentIdOf(scopeKey) {
  const parts = String(scopeKey ?? "").trim().split(":").filter(Boolean);
  if (parts.length >= 2 && parts[0].toLowerCase() === "agent") return normalizeAgentId(parts[1]);
  return undefined;
}

// The settings of the agent whose sandbox OpenClaw asks for. One shared runtime cannot hold
// several agents' jobs, so scope "shared" is refused once agents are mapped.
function configForSandbox(settings, params) {
  if (settings.agents.size > 0 && params.cfg?.scope === "shared")
    throw new ClawjailAgentError('agents.*.sandbox.scope "shared" runs every agent in one sandbox; ' +
                                 'per-agent jobs (plugins.entries.clawjail.config.agents) need scope "agent" or "session"');
  return configForAgent(settings, agentIdOf(params.scopeKey));
}

// Binds from OpenClaw's docker settings would bypass the WPC: binds come from the policy only.
function refuseForeignMounts(cfg) {
  if ((cfg?.docker?.binds?.length ?? 0) > 0)
    throw new Error("clawjail: agents.*.sandbox.docker.binds is not supported; extra binds come from the WPC");
}

export function createFactory(rawConfig) {
  return async (params) => {
    const config = configForSandbox(resolveConfig(rawConfig), params);
    checkRuntimeFiles(config);
    refuseForeignMounts(params.cfg);
    const workspaceDir = params.workspaceDir;
    if (typeof workspaceDir !== "string" || !workspaceDir.startsWith("/"))
      throw new Error("clawjail: OpenClaw gave no absolute workspace directory");
    const runtimeId = params.runtimeId ?? runtimeIdFor(params.scopeKey);
    const readOnly = params.cfg?.workspaceAccess === "ro";
    return {
      id: BACKEND_ID,
      runtimeId,
      runtimeLabel: runtimeId,
      workdir: JAIL_WORKDIR,
      configLabel: configLabel(config),
      configLabelKind: "Policy",
      capabilities: { browser: false },
      buildExecSpec: async (spec) => {
        checkReady(config);
        return buildExecSpec(config, workspaceDir, spec);
      },
      finalizeExec: async () => {},  // the supervisor already wrote the finished receipt
      runShellCommand: async (command) => {
        checkReady(config);
        return runShellCommand(config, workspaceDir, command);
      },
      createFsBridge: () => new ClawjailFsBridge({ config, workspaceDir, readOnly, beforeCall: () => checkReady(config) }),
    };
  };
}

// Before every call: the CST file and binary are there, and so is the supervisor's socket. A
// stopped supervisor then gives one clear tool error instead of a command's exit status 125.
// Returns the socket it checked (the file bridge connects to that one).
function checkReady(config) {
  checkRuntimeFiles(config);
  const socket = supervisorSocket(config);
  let isSocket = false;
  try {
    isSocket = fs.statSync(socket).isSocket();
  } catch {
    isSocket = false;
  }
  if (!isSocket)
    throw new Error(`clawjail: the supervisor is not running: no socket at ${socket} (start clawjail.service); nothing was run`);
  return socket;
}

// `openclaw sandbox list|recreate`. "Running" means the supervisor's socket is there; connecting
// to it would cost a request (and a receipt), so only its presence is checked. The label is the
// job and WPC the runtime's agent runs under now (OpenClaw passes the agent id it reads from the
// runtime's scope key); a runtime recorded under other settings shows as a mismatch.
export function createManager(rawConfig) {
  return {
    async describeRuntime({ entry, agentId }) {
      let config;
      try {
        config = configForAgent(resolveConfig(rawConfig), agentId ?? agentIdOf(entry?.sessionKey));
      } catch (e) {
        return { running: false, actualConfigLabel: e.message, configLabelMatch: false };
      }
      let running = false;
      try {
        running = fs.statSync(supervisorSocket(config)).isSocket();
      } catch {
        running = false;
      }
      const label = configLabel(config);
      return { running, actualConfigLabel: label, configLabelMatch: entry?.image === label };
    },
    // Jails end with their calls; there is nothing per runtime to tear down.
    async removeRuntime() {},
  };
}
