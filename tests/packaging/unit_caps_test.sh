#!/usr/bin/env bash
# The supervisor needs no capability beyond the unit's CapabilityBoundingSet. `clawjail serve`
# runs under exactly that bounding set, parsed from packaging/systemd/clawjail.service, and
# no_new_privs, as systemd starts it; exec, file and --pty calls then work in a workspace owned by
# another user inside that user's 0700 home, and what the jail writes belongs to that user, and
# in a workspace root owns (a root gateway's). The
# same calls with one capability fewer (CAP_DAC_READ_SEARCH) are refused: the test sees a
# missing capability. A change that needs a new capability fails here, on any machine, before
# it fails on a real host (tests/hosts/nspawn_test.sh).
# usage: unit_caps_test.sh SOURCE_DIR CLAWJAIL_BINARY
set -euo pipefail
src=$1 bin=$2
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (the supervisor maps subordinate uids)"; exit 77; }

caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$src/packaging/systemd/clawjail.service")
[ -n "$caps" ] || fail "no CapabilityBoundingSet= in clawjail.service"
. "$src/tests/common/bounding_set.sh"

work=$(mktemp -d /var/tmp/clawjail-caps-XXXXXX)
server=''
stop_server() {
  [ -n "$server" ] || return 0
  kill -TERM "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  server=''
}
trap 'stop_server; rm -rf "$work"' EXIT

# An agent's home: 0700, owned by a uid that is neither root nor the jail's.
owner=4242
home=$work/home
ws=$home/.openclaw/workspace
mkdir -p "$ws"
chown -R $owner:$owner "$home"
chmod 700 "$home"
# A root gateway's: root owns it (its idmap maps uid 0, which takes more than a plain one).
root_home=$work/root-home
root_ws=$root_home/.openclaw/workspace
mkdir -p "$root_ws"
chmod 700 "$root_home"

. "$src/tests/common/supervisor_world.sh"
supervisor_world "$work" "$bin" unit-caps
"$bin" cst issue --key "$work/keys/issuer.key" --kid issuer-1 --sub "$(cat "$work/agent.did")" --job job-caps \
  --policy "$hash" --ttl 600 >"$work/job.cst"

serve() {  # serve CAP_X…: the supervisor under exactly that bounding set
  rm -f "$work/run/clawjail.sock"
  setpriv --bounding-set="$(bounding_set "$@")" --no-new-privs -- \
    "$bin" serve --config "$work/config.json" >"$work/serve.log" 2>&1 &
  server=$!
  for _ in $(seq 100); do [ -S "$work/run/clawjail.sock" ] && break; sleep 0.05; done
  [ -S "$work/run/clawjail.sock" ] || { cat "$work/serve.log" >&2; fail "the supervisor did not start"; }
  local bnd
  bnd=$(awk '/^CapBnd:/ {print $2}' "/proc/$server/status")
  [ "$(awk '/^NoNewPrivs:/ {print $2}' "/proc/$server/status")" = 1 ] || fail "serve runs without no_new_privs"
  echo "serve: CapBnd $bnd ($*)"
}
flags=(--config "$work/config.json" --job job-caps --cst-file "$work/job.cst" --workspace "$ws")
call() { "$bin" "$@" </dev/null 2>&1; }

# ---- exactly the unit's set ----
serve $caps
out=$(call run "${flags[@]}" -- sh -c 'echo from-exec >/workspace/a.txt; cat /workspace/a.txt; echo err >/dev/stderr') ||
  fail "exec under the unit's capabilities: $out"
[ "$out" = "$(printf 'from-exec\nerr')" ] || fail "exec output: $out"
[ "$(stat -c %u "$ws/a.txt")" = $owner ] || fail "the jail's file belongs to $(stat -c %u "$ws/a.txt"), not the workspace's owner"
ok "exec in another user's 0700 home, output reopened through /dev/stderr"
# The OpenClaw plugin hands a call its stdin on a pipe: the relay into the jail under this set.
out=$(printf 'piped-in\n' | "$bin" run "${flags[@]}" -- sh -c 'cat; wc -c </workspace/a.txt' 2>&1) ||
  fail "exec with piped stdin: $out"
[ "$out" = "$(printf 'piped-in\n10')" ] || fail "exec with piped stdin: $out"
ok "exec with its stdin on a pipe, relayed into the jail"
out=$(call fs "${flags[@]}" read a.txt) || fail "fs read after exec: $out"
[ "$out" = from-exec ] || fail "fs read: $out"
out=$(echo from-fs | "$bin" fs "${flags[@]}" write b.txt 2>&1) || fail "fs write: $out"
[ "$(cat "$ws/b.txt")" = from-fs ] && [ "$(stat -c %u "$ws/b.txt")" = $owner ] || fail "fs write: $(ls -ln "$ws")"
ok "file tools after an exec call"
out=$(call run "${flags[@]}" --pty -- sh -c 'tty; test -t 0 && test -t 1 && echo a-terminal') || fail "run --pty: $out"
grep -q '^/dev/pts/' <<<"$out" && grep -q a-terminal <<<"$out" || fail "run --pty: $out"
ok "run --pty"
root_flags=(--config "$work/config.json" --job job-caps --cst-file "$work/job.cst" --workspace "$root_ws")
out=$(call run "${root_flags[@]}" -- sh -c 'echo from-root-gateway >/workspace/r.txt') || fail "exec in a root-owned workspace: $out"
[ "$(stat -c %u "$root_ws/r.txt")" = 0 ] || fail "the jail's file in the root workspace belongs to $(stat -c %u "$root_ws/r.txt")"
out=$(call fs "${root_flags[@]}" read r.txt) || fail "fs read in a root-owned workspace: $out"
[ "$out" = from-root-gateway ] || fail "fs read in the root workspace: $out"
ok "exec and file tools in a root-owned workspace in a 0700 directory"
stop_server

# ---- one capability fewer: the workspace in the 0700 home is out of reach ----
fewer=()
for c in $caps; do [ "$c" = CAP_DAC_READ_SEARCH ] || fewer+=("$c"); done
[ ${#fewer[@]} -lt "$(wc -w <<<"$caps")" ] || fail "the unit no longer grants CAP_DAC_READ_SEARCH: update this test"
serve "${fewer[@]}"
rc=0
out=$(call run "${flags[@]}" -- true) || rc=$?
[ $rc = 126 ] && grep -q WORKSPACE_INVALID <<<"$out" || fail "without CAP_DAC_READ_SEARCH: exit $rc: $out"
ok "without CAP_DAC_READ_SEARCH the workspace is refused (WORKSPACE_INVALID)"
stop_server
echo PASS
