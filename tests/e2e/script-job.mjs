// Runs one cron script job for e2e.test.mjs in a separate process (Gateway.scriptJobAsync):
// reads {source, options} on stdin, prints the job's result as JSON on stdout.
import { Gateway } from "./harness.mjs";

const spec = JSON.parse(process.env.CLAWJAIL_E2E_GATEWAY);
let input = "";
process.stdin.on("data", (d) => { input += d; });
process.stdin.on("end", () => {
  const { source, options } = JSON.parse(input);
  const gateway = new Gateway(spec);
  process.stdout.write(JSON.stringify(gateway.scriptJob(source, options)));
});
