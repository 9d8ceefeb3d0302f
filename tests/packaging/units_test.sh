#!/usr/bin/env bash
# The systemd units: `systemd-analyze verify` clean, exposure <= 4.5, socket and config agree, and
# the default configuration passes the supervisor's own strict parser.
# usage: units_test.sh SOURCE_DIR CLAWJAIL_BINARY
set -euo pipefail
src=$1 binary=$2
units=$src/packaging/systemd
work=$(mktemp -d /var/tmp/clawjail-units-XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# verify resolves dependencies (sockets.target, sysinit.target) and ExecStart= inside --root, so
# the root holds the host's own units, ours, and the binary where the unit expects it.
root=$work/root
mkdir -p "$root/usr/lib/systemd/system" "$root/usr/bin" "$root/etc"
cp -a /lib/systemd/system/. "$root/usr/lib/systemd/system/"
cp "$units/clawjail.service" "$units/clawjail.socket" "$root/usr/lib/systemd/system/"
cp "$binary" "$root/usr/bin/clawjail"
install -D /bin/kill "$root/bin/kill"  # ExecReload=
if ! out=$(systemd-analyze verify --root="$root" --man=no clawjail.socket clawjail.service 2>&1) || [ -n "$out" ]; then
  echo "$out" >&2
  fail "systemd-analyze verify is not clean"
fi
echo "ok: systemd-analyze verify clean"

report=$(systemd-analyze security --offline=yes --threshold=45 "$units/clawjail.service" 2>&1) ||
  { echo "$report" >&2; fail "exposure above 4.5"; }
level=$(sed -n 's/.*Overall exposure level for clawjail.service: \([0-9.]*\).*/\1/p' <<<"$report")
[ -n "$level" ] || fail "no exposure level in: $report"
awk -v l="$level" 'BEGIN { exit !(l <= 4.5) }' || fail "exposure $level > 4.5"
echo "ok: exposure $level"

# Directives that must hold whatever else changes.
need() { grep -qx "$2" "$units/$1" || fail "$1 lacks '$2'"; }
need clawjail.socket 'ListenStream=/run/clawjail/clawjail.sock'
need clawjail.socket 'SocketGroup=clawjail'
need clawjail.socket 'SocketMode=0660'
need clawjail.service 'Delegate=yes'
need clawjail.service 'NoNewPrivileges=yes'
need clawjail.service 'RestrictSUIDSGID=yes'
need clawjail.service 'StateDirectoryMode=0700'
need clawjail.service 'PrivateMounts=yes'
need clawjail.service 'ExecReload=/bin/kill -HUP $MAINPID'
need clawjail.service 'ExecStart=/usr/bin/clawjail serve --config /etc/clawjail/config.json'
! grep -qiE '^(User|Group)=' "$units/clawjail.service" || fail "the service must run as root (uid maps)"
! grep -qE 'AmbientCapabilities=.+' "$units/clawjail.service" || fail "no ambient capabilities"
echo "ok: directives"

# The socket unit and the default config name the same socket.
grep -q '"socket": "/run/clawjail/clawjail.sock"' "$src/packaging/config.json" ||
  fail "packaging/config.json names another socket than clawjail.socket"
grep -qx 'g clawjail - -' "$src/packaging/sysusers.conf" || fail "sysusers.conf lacks the clawjail group"
grep -qE '^d /var/lib/clawjail +0700 root root' "$src/packaging/tmpfiles.conf" || fail "tmpfiles.conf: state dir not 0700"

# The default config passes the supervisor's strict parser (unknown keys are errors): the audit
# of it must not report config.unreadable, and must report that nobody is trusted yet.
json=$("$binary" audit --config "$src/packaging/config.json" --json) && rc=0 || rc=$?
[ "$rc" = 1 ] || fail "audit of the default config exited $rc, expected 1 (nothing trusted yet)"
grep -q '"config.unreadable"' <<<"$json" && fail "default config does not parse: $json"
grep -q '"trust.wpc_signers_missing"' <<<"$json" || fail "audit did not flag the empty signer list: $json"
echo "ok: default config parses"

# The man page documents every command the binary has (two levels: `clawjail wpc sign`).
subcommands() { "$binary" "$@" --help | sed -n '/^Subcommands:/,$p' | awk 'NR > 1 && /^  [a-z]/ {print $1}'; }
man=$src/packaging/clawjail.1
for cmd in $(subcommands); do
  grep -q "clawjail $cmd\b" "$man" || fail "clawjail.1 does not document 'clawjail $cmd'"
  for sub in $(subcommands "$cmd"); do
    grep -q "clawjail $cmd $sub\b" "$man" || fail "clawjail.1 does not document 'clawjail $cmd $sub'"
  done
done
echo "ok: the man page covers every subcommand"
echo PASS
