// Background exec: OpenClaw's exec tool runs a call with `background: true` as a process session
// the `process` tool can poll, read and kill, but it hands the sandbox backend only
// {command, workdir, env, usePty}. A before_tool_call hook therefore marks such a call in
// its env; buildExecSpec takes the mark out again (it never reaches the jail) and asks the
// supervisor for a background call, which needs the WPC's `process` scope and lives up to its
// sandbox.limits.background_ms. Nothing is gained by forging the mark: it only asks for what
// `background: true` asks for, under the same scope.
export const BACKGROUND_ENV = "CLAWJAIL_BACKGROUND";

// Only an explicit `background: true` asks for a background call. `yieldMs` is how long OpenClaw
// waits before it hands the agent a session to poll, and every exec has such a window (10 s by
// default); OpenClaw's prompt suggests `yieldMs` for a long wait and its Code Mode sets it on
// every exec. Such a call is a foreground call for clawjail: it needs no `process` scope and
// ends at the WPC's timeout_ms.
export function wantsBackground(params) {
  return params?.background === true;
}

// before_tool_call on `exec`: the params to merge (OpenClaw merges them shallowly), or nothing.
// A mark the caller set itself on a foreground call is removed.
export function markBackgroundExec(event) {
  const params = event?.params;
  // Code Mode's outer `exec` runs JavaScript, not a command: its inner tool calls come here again.
  if (event?.toolKind === "code_mode_exec" || !params || typeof params !== "object") return undefined;
  const env = params.env && typeof params.env === "object" ? { ...params.env } : {};
  const had = Object.hasOwn(env, BACKGROUND_ENV);
  delete env[BACKGROUND_ENV];
  if (wantsBackground(params)) return { params: { env: { ...env, [BACKGROUND_ENV]: "1" } } };
  return had ? { params: { env } } : undefined;
}

// In buildExecSpec: whether OpenClaw's env carries the mark, and that env without it.
export function takeBackgroundMark(env) {
  const rest = { ...(env ?? {}) };
  const background = rest[BACKGROUND_ENV] === "1";
  delete rest[BACKGROUND_ENV];
  return { background, env: rest };
}
