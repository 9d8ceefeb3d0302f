// The OpenClaw plugin's file bridge (packaging/openclaw-plugin/src/fs-bridge.js, the real code),
// timed against a running supervisor: stat, read and write of the bench's small file, one
// request on the socket each, no client process. Run by clawjail_bench; prints JSON figures.
//   node plugin_fs.mjs PLUGIN_DIR SOCKET JOB CST_FILE WPC WORKSPACE SAMPLES
import { setTimeout as sleep } from "node:timers/promises";

const [pluginDir, socket, job, cstFile, wpc, workspaceDir, samplesArg] = process.argv.slice(2);
const { ClawjailFsBridge } = await import(`${pluginDir}/src/fs-bridge.js`);
const bridge = new ClawjailFsBridge({ config: { socket, job, cstFile, wpc }, workspaceDir });
const data = Buffer.alloc(1024, "n");
const ops = {
  stat: () => bridge.stat({ filePath: "bench-small.txt" }),
  read: () => bridge.readFile({ filePath: "bench-small.txt" }),
  write: () => bridge.writeFile({ filePath: "bench-out-node.txt", data }),
};
const figures = {};
for (const [name, op] of Object.entries(ops)) {
  const ms = [];
  await op();  // warm: the job's file worker, the module's code
  for (let i = 0; i < Number(samplesArg); ++i) {
    const t0 = process.hrtime.bigint();
    await op();
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    await sleep(5);
  }
  ms.sort((a, b) => a - b);
  const at = (q) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))];
  figures[name] = { p50_ms: at(0.5), p99_ms: at(0.99), mean_ms: ms.reduce((a, b) => a + b, 0) / ms.length };
}
process.stdout.write(JSON.stringify(figures));
