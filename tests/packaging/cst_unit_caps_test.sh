#!/usr/bin/env bash
# The renewal service needs no capability beyond its unit's CapabilityBoundingSet. `clawjail cst
# issue --out` runs with the ExecStart= of packaging/systemd/clawjail-cst@.service, under exactly
# that bounding set and no_new_privs, as systemd starts it, and replaces a token file that belongs
# to another user inside that user's 0700 directory: the new token verifies and the file keeps its
# owner, group and mode; a new file gets --owner and 0600. With one capability fewer (CAP_CHOWN,
# then CAP_DAC_OVERRIDE) the renewal fails with a clear error and the old token stays as it was.
# A symlink or a directory at --out is refused. (packaging.unit_caps does the same for serve.)
# usage: cst_unit_caps_test.sh SOURCE_DIR CLAWJAIL_BINARY
set -euo pipefail
src=$1 bin=$2
unit=$src/packaging/systemd/clawjail-cst@.service
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (the service runs as root and chowns to another user)"; exit 77; }

caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit")
[ "$caps" = "CAP_CHOWN CAP_DAC_OVERRIDE" ] || fail "clawjail-cst@.service grants '$caps': update this test and the unit's comment"
. "$src/tests/common/bounding_set.sh"

work=$(mktemp -d /var/tmp/clawjail-cst-caps-XXXXXX)
trap 'rm -rf "$work"' EXIT
owner=4242 group=4243
home=$work/home
dir=$home/.openclaw
mkdir -p "$dir"
chown -R $owner:$owner "$home"
chmod 700 "$home" "$dir"
token=$dir/job.cst

"$bin" keygen --out "$work/keys" --name issuer >"$work/issuer.did"
"$bin" keygen --out "$work/keys" --name agent >"$work/agent.did"
cat >"$work/wpc.json" <<JSON
{ "wpc_version": "v1", "policy_id": "cst-caps", "issuer_did": "$(cat "$work/issuer.did")",
  "tools": { "allow": ["exec"] }, "tokens": { "require_cst": true, "pin_wpc_hash": true } }
JSON
hash=$("$bin" wpc hash "$work/wpc.json")

# The job's file, as /etc/clawjail/cst/JOB.conf would hold it.
cat >"$work/job.conf" <<EOF
CLAWJAIL_CST_KEY=$work/keys/issuer.key
CLAWJAIL_CST_KID=issuer-1
CLAWJAIL_CST_SUB=$(cat "$work/agent.did")
CLAWJAIL_CST_POLICY=$hash
CLAWJAIL_CST_TTL=600
CLAWJAIL_CST_OUT=$token
CLAWJAIL_CST_OWNER=$owner:$group
EOF

# The unit's ExecStart= with its Environment= defaults, the job's file over them and %i = job-caps,
# expanded the way systemd does: ${X} is one argument, $X splits at spaces.
exec_start() {
  local line defaults
  line=$(sed -n 's/^ExecStart=//p' "$unit")
  defaults=$(sed -n 's/^Environment=//p' "$unit")
  (
    for kv in $defaults; do export "${kv//%i/job-caps}"; done
    while IFS= read -r kv; do export "$kv"; done <"$work/job.conf"
    eval "set -- $(sed -E 's/\$\{([A-Z_]+)\}/"${\1}"/g; s/\$([A-Z_]+)/${\1}/g' <<<"$line")"
    shift  # /usr/bin/clawjail: the binary under test instead
    printf '%s\0' "$@"
  )
}
mapfile -d '' args < <(exec_start)
[ "${args[0]} ${args[1]}" = "cst issue" ] || fail "ExecStart= is not 'clawjail cst issue': ${args[*]}"
printf '%s\n' "${args[@]}" | grep -qx -- --out || fail "ExecStart= lacks --out"

renew() {  # renew CAP_X…: the unit's command under exactly that bounding set
  setpriv --bounding-set="$(bounding_set "$@")" --no-new-privs -- "$bin" "${args[@]}" 2>&1
}
valid() {
  "$bin" cst verify --token-file "$token" --issuer "issuer-1=$(cat "$work/issuer.did")" --wpc "$work/wpc.json" \
    --job job-caps 2>/dev/null | grep -qx PASS
}

# ---- exactly the unit's set ----
out=$(renew $caps) || fail "first renewal under the unit's capabilities: $out"
[ "$(stat -c '%u:%g %a' "$token")" = "$owner:$group 600" ] || fail "new file: $(stat -c '%u:%g %a' "$token"), not $owner:$group 600"
valid || fail "the token written is not valid"
grep -q "^wrote $token: a CST for job job-caps, expires " <<<"$out" || fail "renewal said: $out"
ok "a new token file: $owner:$group 0600, valid ($out)"
chmod 0640 "$token"
before=$(stat -c %i "$token")
out=$(renew $caps) || fail "renewal under the unit's capabilities: $out"
[ "$(stat -c '%u:%g %a' "$token")" = "$owner:$group 640" ] || fail "renewed file: $(stat -c '%u:%g %a' "$token")"
[ "$(stat -c %i "$token")" != "$before" ] || fail "the file was rewritten in place, not replaced"
valid || fail "the renewed token is not valid"
[ -z "$(find "$dir" -name '.job.cst.*')" ] || fail "temporary files left: $(ls -la "$dir")"
ok "renewal in another user's 0700 directory keeps $owner:$group 0640"

# ---- one capability fewer: the renewal fails, the old token stays ----
without() { local c; for c in $caps; do [ "$c" = "$1" ] || echo "$c"; done; }
for missing in CAP_CHOWN CAP_DAC_OVERRIDE; do
  sum=$(sha256sum <"$token")
  rc=0
  out=$(renew $(without $missing)) || rc=$?
  [ $rc = 1 ] || fail "without $missing: exit $rc: $out"
  grep -q "^clawjail: cst issue: --out " <<<"$out" || fail "without $missing, no clear error: $out"
  [ "$(sha256sum <"$token")" = "$sum" ] && [ "$(stat -c '%u:%g %a' "$token")" = "$owner:$group 640" ] ||
    fail "without $missing the old token changed"
  [ -z "$(find "$dir" -name '.job.cst.*')" ] || fail "without $missing: temporary files left: $(ls -la "$dir")"
  ok "without $missing: exit 1, old token kept ($out)"
done

# ---- what --out refuses ----
refused() {  # refused WHAT PATTERN: the unit's command against the current $token
  rc=0
  out=$(renew $caps) || rc=$?
  [ $rc = 1 ] && grep -q "^clawjail: cst issue: --out $token $2" <<<"$out" || fail "$1: exit $rc: $out"
  ok "$1 refused: $out"
}
mv "$token" "$work/real.cst"
ln -s "$work/real.cst" "$token"
sum=$(sha256sum <"$work/real.cst")
refused "a symlink" "is a symbolic link"
[ -L "$token" ] && [ "$(sha256sum <"$work/real.cst")" = "$sum" ] || fail "the symlink or its target changed"
rm "$token" && mkdir "$token"
refused "a directory" "is a directory"
rmdir "$token" && mkfifo "$token"
refused "a fifo" "is not a regular file"
rm "$token" && install -o 4244 -g $group -m 0600 /dev/null "$token"
refused "a file of another owner than --owner" "belongs to uid 4244, not to uid $owner"
echo PASS
