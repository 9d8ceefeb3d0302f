// OpenClaw's file tools (read, write, edit, ls, apply_patch) through `clawjail fs`: one supervisor
// round trip per operation, run by clawjail inside a jail. Nothing here opens a workspace file on
// the host; paths are only mapped between OpenClaw's view and /workspace.
import path from "node:path";
import { callFlags, errorForExit, runClient } from "./cli.js";
import { JAIL_WORKDIR } from "./exec.js";

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
function cliPath(jailPath) {
  const rel = posix.relative(JAIL_WORKDIR, jailPath);
  if (rel === "") return ".";
  return rel.startsWith("-") ? `./${rel}` : rel;
}

// The supervisor says "dir"; OpenClaw wants "directory".
function statType(type) {
  if (type === "dir" || type === "directory") return "directory";
  return type === "file" ? "file" : "other";
}

function parseJsonValue(stdout, what) {
  let parsed;
  try {
    parsed = JSON.parse(stdout.toString("utf8"));
  } catch {
    throw new Error(`clawjail: ${what}: the supervisor's answer is not JSON`);
  }
  // `--json` may print the whole response or just its value.
  return parsed && typeof parsed === "object" && !Array.isArray(parsed) && "decision" in parsed
    ? parsed.value : parsed;
}

export class ClawjailFsBridge {
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

  async call(op, jailPaths, { flags = [], json = false, stdin, signal } = {}) {
    this.beforeCall();
    const args = ["fs", ...callFlags(this.config, this.workspaceDir), ...flags, ...(json ? ["--json"] : []),
                  op, ...jailPaths.map(cliPath)];
    const result = await runClient(this.config.binary, args, { stdin, signal });
    return { ...result, what: `${op} ${jailPaths.join(" ")}` };
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

  async readFile(params) {
    const { stdout } = await this.checked("read", [this.target(params)], { signal: params.signal });
    return params.maxBytes !== undefined && stdout.length > params.maxBytes ? stdout.subarray(0, params.maxBytes) : stdout;
  }

  async writeFile(params) {
    await this.write(params, []);
  }

  async createFileExclusive(params) {
    try {
      await this.write(params, ["--exclusive"]);
      return "created";
    } catch (e) {
      if (e.code === "EEXIST") return "exists";
      throw e;
    }
  }

  // One round trip; a missing parent costs a second one (mkdir) and a retry, as OpenClaw asks.
  async write(params, flags) {
    const jailPath = this.target(params);
    this.ensureWritable(jailPath, "write files");
    const data = Buffer.isBuffer(params.data) ? params.data : Buffer.from(params.data, params.encoding ?? "utf8");
    const attempt = () => this.call("write", [jailPath], { flags, stdin: data, signal: params.signal });
    let result = await attempt();
    if (result.code !== 0 && params.mkdir !== false && isMissing(result)) {
      await this.checked("mkdir", [posix.dirname(jailPath)], { flags: ["--recursive"], signal: params.signal });
      result = await attempt();
    }
    if (result.code !== 0) {
      const error = errorForExit(result, result.what);
      if (flags.includes("--exclusive") && /\bEEXIST\b|exists/i.test(result.stderr.toString("utf8"))) error.code = "EEXIST";
      throw error;
    }
  }

  async mkdirp(params) {
    const jailPath = this.target(params);
    this.ensureWritable(jailPath, "create directories");
    if (jailPath === JAIL_WORKDIR) return;
    await this.checked("mkdir", [jailPath], { flags: ["--recursive"], signal: params.signal });
  }

  async remove(params) {
    const jailPath = this.target(params);
    this.ensureWritable(jailPath, "remove files");
    const result = await this.call("remove", [jailPath], {
      flags: params.recursive ? ["--recursive"] : [], signal: params.signal });
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
    const { stdout, what } = await this.checked("stat", [this.target(params)], { json: true, signal: params.signal });
    const value = parseJsonValue(stdout, what);
    if (value === null || value === undefined) return null;
    return { type: statType(value.type), size: value.size ?? 0, mtimeMs: value.mtime_ms ?? value.mtimeMs ?? 0 };
  }

  async readDirectory(params) {
    const { stdout, what } = await this.checked("ls", [this.target(params)], { json: true, signal: params.signal });
    const value = parseJsonValue(stdout, what);
    if (!Array.isArray(value)) throw new Error(`clawjail: ${what}: expected a list of entries`);
    return value.map((e) => ({ name: String(e.name), isDirectory: statType(e.type) === "directory" }));
  }
}

function isMissing(result) {
  return result.code !== 126 && /\bENOENT\b|No such file or directory/.test(result.stderr.toString("utf8"));
}
