// The supervisor's socket protocol (docs/protocol.md), spoken from Node for the file tools: one
// request frame, one response frame per connection, no descriptors (the "inline" form: a write's
// data and a read's bytes travel in the frames). A frame is a 4-byte big-endian length and that
// many bytes of UTF-8 JSON. Closing the connection before the answer makes the supervisor kill
// the call (its receipt says CLIENT_DISCONNECTED).
import fs from "node:fs";
import net from "node:net";

export const DEFAULT_SOCKET = "/run/clawjail/clawjail.sock";
export const MAX_FRAME_BYTES = 1 << 20;
// Bytes of file data per call (proto::kMaxInlineBytes); more goes in ranges.
export const MAX_INLINE_BYTES = 512 * 1024;

// The socket from the plugin's settings, else from the supervisor's configuration, else the default.
export function supervisorSocket(config) {
  if (config.socket) return config.socket;
  try {
    const file = process.env.CLAWJAIL_CONFIG || "/etc/clawjail/config.json";
    return JSON.parse(fs.readFileSync(file, "utf8")).socket ?? DEFAULT_SOCKET;
  } catch {
    return DEFAULT_SOCKET;
  }
}

export function encodeFrame(message) {
  const body = Buffer.from(JSON.stringify(message), "utf8");
  if (body.length === 0 || body.length > MAX_FRAME_BYTES)
    throw new Error(`clawjail: a request of ${body.length} bytes does not fit one frame`);
  const header = Buffer.alloc(4);
  header.writeUInt32BE(body.length, 0);
  return Buffer.concat([header, body]);
}

// Sends `message` and resolves with the parsed answer. Errors carry exitCode 125 (the supervisor
// is unreachable or broke the protocol), as the client process exits then.
export function request(socketPath, message, { signal } = {}) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new Error("aborted"));
    const frame = encodeFrame(message);
    const conn = net.createConnection({ path: socketPath });
    let received = Buffer.alloc(0), settled = false;
    const finish = (error, value) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener("abort", onAbort);
      conn.destroy();
      error ? reject(error) : resolve(value);
    };
    const broken = (why) => Object.assign(new Error(`clawjail: supervisor at ${socketPath}: ${why}`), { exitCode: 125 });
    const onAbort = () => finish(signal.reason ?? new Error("aborted"));
    signal?.addEventListener("abort", onAbort, { once: true });
    conn.on("connect", () => conn.write(frame));
    conn.on("data", (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 4) return;
      const length = received.readUInt32BE(0);
      if (length === 0 || length > MAX_FRAME_BYTES) return finish(broken(`an answer frame of ${length} bytes`));
      if (received.length < 4 + length) return;
      try {
        finish(null, JSON.parse(received.subarray(4, 4 + length).toString("utf8")));
      } catch {
        finish(broken("the answer is not JSON"));
      }
    });
    conn.on("error", (e) => finish(broken(e.message)));
    conn.on("close", () => finish(broken("the connection closed before the answer")));
  });
}

// The line `clawjail fs` prints on stderr for this answer (client::report), so that an answer and
// a client's exit map to the same errors.
export function reportLine(answer, command = "fs") {
  const code = answer.reason_code, detail = answer.reason ?? "";
  if (answer.decision === "blocked" && answer.exit_code === 126) return `clawjail: blocked: ${code}: ${detail}`;
  if (answer.status === "failed" || answer.exit_code === 125) return `clawjail: ${command}: ${code}: ${detail}`;
  if (answer.status === "timeout") return `clawjail: ${command}: timed out${detail ? `: ${detail}` : ""}`;
  if (answer.status === "killed") return `clawjail: ${command}: killed: ${code}: ${detail}`;
  if (answer.status === "limit") return `clawjail: ${command}: stopped at a limit of the WPC`;
  return code !== "OK" ? `clawjail: ${command}: ${code}: ${detail}` : "";
}

// The WPC the CST pins, when the settings name none (as `clawjail fs` does without --wpc).
export function pinnedPolicyHash(token) {
  try {
    const claims = JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString("utf8"));
    return typeof claims.policy_hash_b64u === "string" ? claims.policy_hash_b64u : undefined;
  } catch {
    return undefined;
  }
}
