// OpenClaw's file tools (read, write, edit, ls, apply_patch) through the supervisor's socket: one
// request per operation (per 512 KiB of data), without a client process, run by clawjail inside a
// jail. Nothing here opens a workspace file on the host; paths are only mapped between OpenClaw's
// view and /workspace.
import fs from "node:fs";
import path from "node:path";
import { ClawjailCallError, EXIT_SUPERVISOR, errorForExit } from "./cli.js";
import { JAIL_WORKDIR } from "./exec.js";
import { MAX_INLINE_BYTES, pinnedPolicyHash, reportLine, request, supervisorSocket } from "./socket.js";

const posix = path.posix;

export function pathEscapeError(filePath) {
  // OpenClaw recognises this wording and adds its own hint for the model.
  return new Error(`Path escapes sandbox root (${JAIL_WORKDIR}): ${filePath}`);
}

// Maps a path as OpenClaw gives it (relative, /workspace/…, or the host workspace path) to
// /workspace/…; anything that ends up outside /workspace is refused.
export function toJailPath(filePath, cwd, workspaceDir) {
  if (typeof filePath !== "string" || filePath.length === 0 || filePath.includes("\0"))
    throw new Error(`clawjail: invalid path ${JSON.stringify(filePath)}`);
  const fromHost = (p) => (p === workspaceDir ? JAIL_WORKDIR
    : p.startsWith(`${workspaceDir}/`) ? JAIL_WORKDIR + p.slice(workspaceDir.length) : p);
  const base = cwd ? fromHost(posix.normalize(cwd)) : JAIL_WORKDIR;
  const joined = posix.isAbsolute(filePath) ? fromHost(posix.normalize(filePath)) : posix.join(base, filePath);
  const jailPath = posix.normalize(joined).replace(/(.)\/+$/, "$1");
  if (jailPath !== JAIL_WORKDIR && !jailPath.startsWith(`${JAIL_WORKDIR}/`)) throw pathEscapeError(filePath);
  return jailPath;
}

// The supervisor takes paths relative to /workspace.
function workspacePath(jailPath) {
  return posix.relative(JAIL_WORKDIR, jailPath) || ".";
}

// The supervisor says "dir"; OpenClaw wants "directory".
function statType(type) {
  if (type === "dir" || type === "directory") return "directory";
  return type === "file" ? "file" : "other";
}

// The CST is read for every call: it may have been rotated.
function readToken(cstFile) {
  try {
    return fs.readFileSync(cstFile, "utf8").trim();
  } catch (e) {
    throw new ClawjailCallError(`clawjail: cannot read the CST file ${cstFile}: ${e.message}`, { exitCode: EXIT_SUPERVISOR });
  }
}

export class ClawjailFsBridge {
  // `beforeCall`: the readiness check before each call; it may return the socket path it checked.
  constructor({ config, workspaceDir, readOnly, beforeCall }) {
    this.config = config;
    this.workspaceDir = workspaceDir;
    this.readOnly = readOnly;
    this.beforeCall = beforeCall ?? (() => {});
  }

  get pathMappings() {
    return [{ hostRoot: this.workspaceDir, containerRoot: JAIL_WORKDIR }];
  }

  resolvePath({ filePath, cwd }) {
    const containerPath = toJailPath(filePath, cwd, this.workspaceDir);
    return { relativePath: posix.relative(JAIL_WORKDIR, containerPath), containerPath };
  }

  // One file-tool call in the inline form (docs/protocol.md). The answer is put as `clawjail fs`
  // would have exited: its exit code and its stderr line, so both map to the same errors.
  async call(op, jailPaths, { args = {}, signal } = {}) {
    // The readiness check resolves the socket (reading the supervisor's configuration): once per call.
    const socket = this.beforeCall() ?? supervisorSocket(this.config);
    const cst = readToken(this.config.cstFile);
    const message = { clawjail_protocol: 1, type: "call", job_id: this.config.job, cst,
                      wpc_hash_b64u: this.config.wpc ?? pinnedPolicyHash(cst), tool: op, workspace: this.workspaceDir,
                      fs: { op, paths: jailPaths.map(workspacePath), ...args } };
    if (message.wpc_hash_b64u === undefined) delete message.wpc_hash_b64u;
    const what = `${op} ${jailPaths.join(" ")}`;
    let answer;
    try {
      answer = await request(socket, message, { signal });
    } catch (e) {
      if (e.exitCode === undefined) throw e;  // aborted
      return { code: EXIT_SUPERVISOR, stderr: Buffer.from(e.message), value: undefined, what };
    }
    return { code: answer.exit_code, stderr: Buffer.from(reportLine(answer)), value: answer.value, what };
  }

  async checked(op, jailPaths, options) {
    const result = await this.call(op, jailPaths, options);
    if (result.code !== 0) throw errorForExit(result, result.what);
    return result;
  }

  target(params) {
    return toJailPath(params.filePath, params.cwd, this.workspaceDir);
  }

  ensureWritable(jailPath, action) {
    if (this.readOnly) throw new Error(`Sandbox path is read-only; cannot ${action}: ${jailPath}`);
  }

  // In ranges of at most MAX_INLINE_BYTES, each a call with its receipts, up to maxBytes.
  async readFile(params) {
    const jailPath = this.target(params), limit = params.maxBytes;
    const parts = [];
    for (let offset = 0; ;) {
      const length = limit === undefined ? MAX_INLINE_BYTES : Math.max(0, Math.min(MAX_INLINE_BYTES, limit - offset));
      const { value } = await this.checked("read", [jailPath], { args: { offset, length }, signal: params.signal });
      const bytes = Buffer.from(value?.data_b64 ?? "", "base64");
      parts.push(bytes);
      offset += bytes.length;
      if (value?.eof !== false || bytes.length === 0) break;
    }
    return Buffer.concat(parts);
  }

  async writeFile(params) {
    await this.write(params, {});
  }

  async createFileExclusive(params) {
    try {
      await this.write(params, { exclusive: true });
      return "created";
    } catch (e) {
      if (e.code === "EEXIST") return "exists";
      throw e;
    }
  }

  // One round trip per MAX_INLINE_BYTES of data (the first truncates, the next go at their
  // offset); a missing parent costs a second one (mkdir) and a retry, as OpenClaw asks.
  async write(params, { exclusive = false }) {
    const jailPath = this.target(params);
    this.ensureWritable(jailPath, "write files");
    const data = Buffer.isBuffer(params.data) ? params.data : Buffer.from(params.data, params.encoding ?? "utf8");
    const chunk = (offset) => data.subarray(offset, offset + MAX_INLINE_BYTES).toString("base64");
    const attempt = () => this.call("write", [jailPath], { args: { exclusive, data_b64: chunk(0) }, signal: params.signal });
    let result = await attempt();
    if (result.code !== 0 && params.mkdir !== false && isMissing(result)) {
      await this.checked("mkdir", [posix.dirname(jailPath)], { args: { recursive: true }, signal: params.signal });
      result = await attempt();
    }
    if (result.code !== 0) {
      const error = errorForExit(result, result.what);
      if (exclusive && /\bEEXIST\b|exists/i.test(result.stderr.toString("utf8"))) error.code = "EEXIST";
      throw error;
    }
    for (let offset = MAX_INLINE_BYTES; offset < data.length; offset += MAX_INLINE_BYTES)
      await this.checked("write", [jailPath], { args: { offset, truncate: false, data_b64: chunk(offset) }, signal: params.signal });
  }

  async mkdirp(params) {
    const jailPath = this.target(params);
    this.ensureWritable(jailPath, "create directories");
    if (jailPath === JAIL_WORKDIR) return;
    await this.checked("mkdir", [jailPath], { args: { recursive: true }, signal: params.signal });
  }

  async remove(params) {
    const jailPath = this.target(params);
    this.ensureWritable(jailPath, "remove files");
    const result = await this.call("remove", [jailPath], { args: { recursive: Boolean(params.recursive) }, signal: params.signal });
    if (result.code === 0 || (params.force !== false && isMissing(result))) return;
    throw errorForExit(result, result.what);
  }

  async rename(params) {
    const from = toJailPath(params.from, params.cwd, this.workspaceDir);
    const to = toJailPath(params.to, params.cwd, this.workspaceDir);
    this.ensureWritable(to, "rename files");
    await this.checked("rename", [from, to], { signal: params.signal });
  }

  async stat(params) {
    const { value } = await this.checked("stat", [this.target(params)], { signal: params.signal });
    if (value === null || value === undefined) return null;
    return { type: statType(value.type), size: value.size ?? 0, mtimeMs: value.mtime_ms ?? value.mtimeMs ?? 0 };
  }

  async readDirectory(params) {
    const { value, what } = await this.checked("ls", [this.target(params)], { signal: params.signal });
    if (!Array.isArray(value)) throw new Error(`clawjail: ${what}: expected a list of entries`);
    return value.map((e) => ({ name: String(e.name), isDirectory: statType(e.type) === "directory" }));
  }
}

// Only an operation that ran and failed (exit 1) can have met a missing file: a supervisor that
// cannot be reached (125; its socket path gone is ENOENT too) or a refusal (126) never did.
function isMissing(result) {
  return result.code === 1 && /\bENOENT\b|No such file or directory/.test(result.stderr.toString("utf8"));
}
