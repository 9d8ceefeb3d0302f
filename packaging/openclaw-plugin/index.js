// OpenClaw plugin: registers the `clawjail` sandbox backend. A thin shim — every decision and every
// receipt stays in the clawjail supervisor.
import { definePluginEntry } from "openclaw/plugin-sdk/plugin-entry";
import { registerSandboxBackend } from "openclaw/plugin-sdk/sandbox";
import { BACKEND_ID, createFactory, createManager } from "./src/backend.js";
import { markBackgroundExec } from "./src/background.js";
import { resolveConfig } from "./src/config.js";
import { CLI_DESCRIPTION, registerSandboxCommand } from "./src/describe.js";

export default definePluginEntry({
  id: "clawjail",
  name: "clawjail",
  description: "Runs every sandboxed tool call in a clawjail jail, with signed receipts",
  register(api) {
    if (["full", "discovery", "cli-metadata"].includes(api.registrationMode)) {
      api.registerCli?.(({ program, config }) => registerSandboxCommand(program, api.pluginConfig, config), {
        descriptors: [{ name: "clawjail", description: CLI_DESCRIPTION, hasSubcommands: false }],
      });
    }
    if (api.registrationMode !== "full") return;
    // Registered even with a bad config: the factory then refuses every call with the config
    // error, instead of OpenClaw reporting an unknown backend.
    try {
      resolveConfig(api.pluginConfig);
    } catch (e) {
      api.logger?.error?.(e.message);
    }
    const unregister = registerSandboxBackend(BACKEND_ID, {
      factory: createFactory(api.pluginConfig),
      manager: createManager(api.pluginConfig),
      resolveWorkdir: () => "/workspace",
    });
    // Tells buildExecSpec which exec calls OpenClaw may run in the background (src/background.js).
    api.on?.("before_tool_call", markBackgroundExec, { matcher: ["exec"] });
    api.lifecycle?.registerRuntimeLifecycle?.({
      id: "clawjail-sandbox-backend",
      // Called per session and run too; only a plugin disable or restart retires the backend.
      cleanup: ({ reason, sessionKey, runId } = {}) => {
        if (sessionKey === undefined && runId === undefined && (reason === "disable" || reason === "restart")) unregister();
      },
    });
  },
});
