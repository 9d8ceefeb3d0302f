#!/usr/bin/env bash
# The systemd units: `systemd-analyze verify` clean, exposure <= 4.5 (the CST renewal service's
# <= 2.0), socket and config agree, the renewal timer's example file sets what its service uses, and
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
cp "$units/clawjail.service" "$units/clawjail.socket" "$units/clawjail-cst@.service" "$units/clawjail-cst@.timer" \
  "$root/usr/lib/systemd/system/"
cp "$binary" "$root/usr/bin/clawjail"
install -D /bin/kill "$root/bin/kill"  # ExecReload=
if ! out=$(systemd-analyze verify --root="$root" --man=no clawjail.socket clawjail.service \
                      clawjail-cst@job-1.timer clawjail-cst@job-1.service 2>&1) || [ -n "$out" ]; then
  echo "$out" >&2
  fail "systemd-analyze verify is not clean"
fi
echo "ok: systemd-analyze verify clean"

exposure_at_most() {  # exposure_at_most UNIT MAX: systemd-analyze's overall exposure level
  local report level
  report=$(systemd-analyze security --offline=yes --threshold="${2/./}" "$units/$1" 2>&1) ||
    { echo "$report" >&2; fail "$1: exposure above $2"; }
  level=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$report")
  [ -n "$level" ] || fail "no exposure level in: $report"
  awk -v l="$level" -v m="$2" 'BEGIN { exit !(l <= m) }' || fail "$1: exposure $level > $2"
  echo "ok: $1 exposure $level"
}
exposure_at_most clawjail.service 4.5
# The renewal service reads a key and replaces one file: it is held far tighter.
exposure_at_most clawjail-cst@.service 2.0

# Directives that must hold whatever else changes.
need() { grep -qxF -- "$2" "$units/$1" || fail "$1 lacks '$2'"; }
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
need clawjail-cst@.service 'Type=oneshot'
need clawjail-cst@.service 'EnvironmentFile=/etc/clawjail/cst/%i.conf'
need clawjail-cst@.service 'NoNewPrivileges=yes'
need clawjail-cst@.service 'PrivateNetwork=yes'
need clawjail-cst@.service 'ProtectSystem=strict'
need clawjail-cst@.service 'CapabilityBoundingSet=CAP_CHOWN CAP_DAC_OVERRIDE'
grep -qE '^ExecStart=/usr/bin/clawjail cst issue .*--out \$\{CLAWJAIL_CST_OUT\}' "$units/clawjail-cst@.service" ||
  fail "clawjail-cst@.service does not run 'clawjail cst issue --out'"
! grep -qE 'AmbientCapabilities=.+' "$units/clawjail-cst@.service" || fail "clawjail-cst@: no ambient capabilities"
need clawjail-cst@.timer 'Persistent=true'
need clawjail-cst@.timer 'OnCalendar=*:0/15'
need clawjail-cst@.timer 'WantedBy=timers.target'
echo "ok: directives"

# Every variable the renewal service reads is set: by its Environment= defaults or by the example
# job file the package ships (the operator's copy of it).
conf=$src/packaging/cst-renew.conf
for var in $(grep -oE '\$\{?CLAWJAIL_CST_[A-Z]+' "$units/clawjail-cst@.service" | tr -d '${' | sort -u); do
  grep -qE "^Environment=.*\b$var=" "$units/clawjail-cst@.service" || grep -qE "^#?$var=" "$conf" ||
    fail "$var is used by clawjail-cst@.service but set nowhere"
  grep -qE "^#?$var=" "$conf" || fail "the example cst-renew.conf does not mention $var"
done
echo "ok: the example job file covers the renewal service's variables"

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
