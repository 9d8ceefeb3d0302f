// Reads the CST file the way the OpenClaw plugin meets it, as often as it can, while
// cst_renew_test.sh renews it: the plugin's own per-call check (checkRuntimeFiles: the file is
// there and is a file), then the whole file, which must be one complete token of the job every
// time. Stops when STOP_FILE exists; prints the number of reads; exits 1 at the first bad read.
// usage: node cst-reader.mjs PLUGIN_DIR BINARY CST_FILE JOB STOP_FILE
import fs from "node:fs";

const [pluginDir, binary, cstFile, job, stopFile] = process.argv.slice(2);
const { checkRuntimeFiles, resolveConfig } = await import(`${pluginDir}/src/config.js`);
const config = resolveConfig({ binary, cstFile, job });
const TOKEN = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{86})\n$/;

function check(text) {
  const m = TOKEN.exec(text);
  if (!m) throw new Error(`not one whole token: ${JSON.stringify(text.slice(0, 80))} (${text.length} bytes)`);
  const header = JSON.parse(Buffer.from(m[1], "base64url").toString("utf8"));
  const claims = JSON.parse(Buffer.from(m[2], "base64url").toString("utf8"));
  if (header.alg !== "EdDSA" || claims.mission_id !== job) throw new Error(`wrong token: ${JSON.stringify(claims)}`);
  return claims.jti;
}

let reads = 0;
const seen = new Set();
while (!fs.existsSync(stopFile)) {
  for (let i = 0; i < 50; i++) {
    try {
      checkRuntimeFiles(config);
      seen.add(check(fs.readFileSync(cstFile, "utf8")));
    } catch (e) {
      console.error(`read ${reads + 1}: ${e.message}`);
      process.exit(1);
    }
    reads++;
  }
}
console.log(`${reads} ${seen.size}`);
