// `openclaw clawjail [--agent ID] [--json]`: which job, CST file and WPC each OpenClaw agent's
// sandboxed calls run under. OpenClaw's own `sandbox explain` names the backend but has no place for
// what a backend runs an agent under; `sandbox list` shows it only for agents that have a runtime.
import { configForAgent, resolveConfig } from "./config.js";

// The agents OpenClaw knows (agents.entries; "main" when it has none) and those the plugin maps.
function agentIds(openclawConfig, settings) {
  const entries = Object.keys(openclawConfig?.agents?.entries ?? {}).map((id) => id.trim().toLowerCase());
  return [...new Set([...(entries.length > 0 ? entries : ["main"]), ...settings.agents.keys()])].sort();
}

export function describeAgents(rawConfig, openclawConfig, only) {
  const settings = resolveConfig(rawConfig);
  const ids = only === undefined ? agentIds(openclawConfig, settings) : [only.trim().toLowerCase()];
  return ids.map((agentId) => {
    try {
      const c = configForAgent(settings, agentId);
      return { agentId, source: settings.agents.has(agentId) ? `agents.${agentId}` : "default",
               job: c.job, cstFile: c.cstFile, wpc: c.wpc ?? null };
    } catch (e) {
      return { agentId, error: e.message };
    }
  });
}

function formatAgent(a) {
  if (a.error) return `  ${a.agentId}: no job, every sandboxed call fails closed (${a.error})`;
  return `  ${a.agentId}: job ${a.job}, wpc ${a.wpc ?? "from CST"}, CST ${a.cstFile} (${a.source})`;
}

export const CLI_DESCRIPTION = "Show the clawjail job, CST file and WPC each agent's sandboxed calls run under";

export function registerSandboxCommand(program, rawConfig, openclawConfig) {
  program.command("clawjail")
    .description(CLI_DESCRIPTION)
    .option("--agent <id>", "one agent only")
    .option("--json", "Output result as JSON", false)
    .action((opts) => {
      let agents;
      try {
        agents = describeAgents(rawConfig, openclawConfig, opts.agent);
      } catch (e) {
        process.stderr.write(`${e.message}\n`);
        process.exitCode = 1;
        return;
      }
      if (opts.json) process.stdout.write(`${JSON.stringify({ backend: "clawjail", agents }, null, 2)}\n`);
      else process.stdout.write(`clawjail sandbox backend (plugins.entries.clawjail.config):\n${agents.map(formatAgent).join("\n")}\n`);
    });
}
