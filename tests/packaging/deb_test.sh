#!/usr/bin/env bash
# The Debian package: `cpack -G DEB` from the build tree, its control data and contents (owners,
# modes, no setuid), then a real install into a scratch root with dpkg --root, whose maintainer
# scripts create the group, the state directory and the key with the right owners and modes.
# Reinstall keeps the key and the operator's config; remove and purge keep the evidence.
# usage: deb_test.sh SOURCE_DIR BUILD_DIR   (CLAWJAIL_DEB=FILE tests that package instead of building one)
set -euo pipefail
src=$1 build=$2
work=$(mktemp -d /var/tmp/clawjail-deb-XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

# ---- build ----
. "$src/tests/packaging/deb_under_test.sh"
deb=$(deb_under_test "$build" "$work/out") || fail "no package to test"
ok "built $(basename "$deb")"

# ---- control data ----
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = clawjail ] || fail "Package: $(field Package)"
[ "$(field Architecture)" = "$(dpkg --print-architecture)" ] || fail "Architecture: $(field Architecture)"
depends=$(field Depends)
# libsodium is linked statically (the per-call client must not load shared libraries).
for lib in libseccomp2 libcap2 libsystemd0 libcurl4; do
  grep -q "$lib" <<<"$depends" || fail "Depends lacks $lib: $depends"
done
[ "$(dpkg-deb -I "$deb" conffiles)" = /etc/clawjail/config.json ] || fail "conffiles: $(dpkg-deb -I "$deb" conffiles)"
info=$(dpkg-deb -I "$deb")
for script in postinst prerm postrm; do
  grep -qE "^ +[0-9]+ bytes, +[0-9]+ lines +\* +$script +#!/bin/sh" <<<"$info" ||
    fail "$script missing or not executable: $info"
done
ok "control: Depends, conffiles, maintainer scripts"

# ---- contents: every file root-owned, exact modes, nothing setuid/setgid ----
dpkg-deb -c "$deb" >"$work/contents"
expect() {  # expect MODE PATH
  grep -qE "^$1 root/root +[0-9]+ [0-9-]+ [0-9:]+ \.$2\$" "$work/contents" ||
    fail "expected $1 root/root $2 in: $(grep -F "$2" "$work/contents" || echo '(absent)')"
}
expect -rwxr-xr-x /usr/bin/clawjail
expect -rwxr-xr-x /usr/libexec/clawjail/clawjail-supervisor
expect -rw-r--r-- /usr/lib/systemd/system/clawjail.service
expect -rw-r--r-- /usr/lib/systemd/system/clawjail.socket
expect -rw-r--r-- /usr/lib/systemd/system/clawjail-cst@.service
expect -rw-r--r-- /usr/lib/systemd/system/clawjail-cst@.timer
expect drwxr-xr-x /etc/clawjail/cst/
expect -rw-r--r-- /usr/share/doc/clawjail/examples/cst-renew.conf
expect -rw-r--r-- /usr/lib/sysusers.d/clawjail.conf
expect -rw-r--r-- /usr/lib/tmpfiles.d/clawjail.conf
expect drwxr-xr-x /etc/clawjail/
expect -rw-r--r-- /etc/clawjail/config.json
expect -rw-r--r-- /usr/share/man/man1/clawjail.1.gz
for page in "$src"/docs/*.md; do expect -rw-r--r-- "/usr/share/doc/clawjail/$(basename "$page")"; done
expect drwxr-xr-x /usr/share/clawjail/openclaw-plugin/
expect -rw-r--r-- /usr/share/clawjail/openclaw-plugin/package.json
expect -rw-r--r-- /usr/share/clawjail/openclaw-plugin/openclaw.plugin.json
[ -z "$(awk '$2 != "root/root"' "$work/contents")" ] || fail "files not owned by root/root"
[ -z "$(awk '$1 ~ /^...[sS]|^......[sS]/' "$work/contents")" ] || fail "setuid/setgid file in the package"
! grep -qE '/node_modules/|/var/lib/clawjail' "$work/contents" || fail "package ships node_modules or state"
ok "contents: owners, modes, no setuid"

# dpkg-deb -x: the modes as they land on disk.
dpkg-deb -x "$deb" "$work/x"
[ "$(stat -c %a "$work/x/usr/bin/clawjail")" = 755 ] || fail "extracted binary mode $(stat -c %a "$work/x/usr/bin/clawjail")"
[ -z "$(find "$work/x" -perm /6000)" ] || fail "setuid/setgid after extraction: $(find "$work/x" -perm /6000)"
[ -z "$(find "$work/x" -perm /022 ! -type l)" ] || fail "group/world-writable after extraction: $(find "$work/x" -perm /022 ! -type l)"
cmp -s "$work/x/etc/clawjail/config.json" "$src/packaging/config.json" || fail "config.json differs from packaging/config.json"
[ "$(zcat "$work/x/usr/share/man/man1/clawjail.1.gz" | head -c 14)" = '.TH CLAWJAIL 1' ] || fail "man page is not clawjail(1)"
"$work/x/usr/bin/clawjail" --help >/dev/null || fail "the packaged binary does not run"
ok "extracted: modes, config, man page, binary runs"

# ---- install into a scratch root ----
# --force-script-chrootless runs the maintainer scripts from the host with DPKG_ROOT set, so they
# use the host's systemd-sysusers/-tmpfiles with --root and touch nothing outside the root.
# --force-depends: the scratch root has no libc; the host's libraries run the binary.
root=$work/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/var/lib/dpkg/triggers" "$root/etc"
touch "$root/var/lib/dpkg/status" "$root/var/lib/dpkg/available"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"
dpkg_root() { dpkg --root="$root" --force-script-chrootless --force-depends --log=/dev/null "$@"; }
dpkg_root -i "$deb" >"$work/install.log" 2>&1 || { cat "$work/install.log" >&2; fail "dpkg -i into the scratch root failed"; }
dpkg --root="$root" -s clawjail | grep -qx 'Status: install ok installed' || fail "not installed: $(dpkg --root="$root" -s clawjail)"
grep -q 'created the supervisor.s signing key' "$work/install.log" || fail "postinst did not report the key: $(cat "$work/install.log")"

owner_mode() {  # owner_mode PATH USER:GROUP MODE
  local got
  got=$(stat -c '%U:%G %a' "$root$1" 2>/dev/null) || fail "$1 missing after install"
  [ "$got" = "$2 $3" ] || fail "$1: $got, expected $2 $3"
}
grep -qE '^clawjail:x:[0-9]+:' "$root/etc/group" || fail "no clawjail group: $(cat "$root/etc/group")"
grep -q '^clawjail:' "$root/etc/passwd" && fail "a clawjail user was created; only the group is wanted"
owner_mode /var/lib/clawjail root:root 700
owner_mode /var/lib/clawjail/keys root:root 700
owner_mode /var/lib/clawjail/policies root:root 700
owner_mode /var/lib/clawjail/keys/supervisor.key root:root 600
owner_mode /etc/clawjail root:root 755
owner_mode /etc/clawjail/config.json root:root 644
owner_mode /usr/bin/clawjail root:root 755
owner_mode /usr/libexec/clawjail/clawjail-supervisor root:root 755
[ -f "$root/var/lib/clawjail/keys/supervisor.pub" ] || fail "no supervisor.pub"
ok "installed: group, state dir 0700, key 0600"

# The units as systemd sees them inside the installed root.
cp -an /lib/systemd/system/. "$root/usr/lib/systemd/system/"
install -D /bin/kill "$root/bin/kill"  # ExecReload=
if ! out=$(systemd-analyze verify --root="$root" --man=no clawjail.socket clawjail.service \
                      clawjail-cst@job-1.timer clawjail-cst@job-1.service 2>&1) || [ -n "$out" ]; then
  echo "$out" >&2
  fail "systemd-analyze verify of the installed units"
fi
ok "installed units verify"

# The installation audits clean apart from whom to trust (the default trusts nobody): the audit of
# the installed config, its paths moved into the scratch root, reports no file problem.
sed "s#\"/var/lib/clawjail#\"$root/var/lib/clawjail#g; s#\"/run/clawjail#\"$root/run/clawjail#g" \
  "$root/etc/clawjail/config.json" >"$root/etc/clawjail/scratch.json"
audit=$("$root/usr/bin/clawjail" audit --config "$root/etc/clawjail/scratch.json") && rc=0 || rc=$?
[ "$rc" = 1 ] || fail "audit exited $rc; expected 1 for the empty trust lists"
! grep -E '^(critical|warn) fs\.' <<<"$audit" || fail "installed files fail the audit: $audit"
grep -q '^critical trust.wpc_signers_missing' <<<"$audit" || fail "audit: $audit"
ok "audit of the installed files: no fs.* finding"

# ---- reinstall: the key and the operator's config survive ----
key_sum=$(sha256sum <"$root/var/lib/clawjail/keys/supervisor.key")
sed -i 's/"log_level": "info"/"log_level": "debug"/' "$root/etc/clawjail/config.json"
dpkg_root --force-confold -i "$deb" >"$work/reinstall.log" 2>&1 || { cat "$work/reinstall.log" >&2; fail "reinstall failed"; }
[ "$(sha256sum <"$root/var/lib/clawjail/keys/supervisor.key")" = "$key_sum" ] || fail "reinstall replaced the key"
grep -q '"log_level": "debug"' "$root/etc/clawjail/config.json" || fail "reinstall overwrote the edited config"
ok "reinstall keeps the key and the edited config"

# ---- remove, purge: the binary goes, the evidence stays ----
dpkg_root -r clawjail >"$work/remove.log" 2>&1 || { cat "$work/remove.log" >&2; fail "remove failed"; }
[ ! -e "$root/usr/bin/clawjail" ] || fail "binary left after remove"
[ -e "$root/etc/clawjail/config.json" ] || fail "remove deleted the conffile (only purge may)"
dpkg_root -P clawjail >"$work/purge.log" 2>&1 || { cat "$work/purge.log" >&2; fail "purge failed"; }
[ ! -e "$root/etc/clawjail/config.json" ] || fail "config left after purge"
[ -e "$root/var/lib/clawjail/keys/supervisor.key" ] || fail "purge deleted the key that verifies old receipts"
grep -q 'kept .*/var/lib/clawjail' "$work/purge.log" || fail "purge did not say it kept the state: $(cat "$work/purge.log")"
ok "remove and purge keep /var/lib/clawjail"
echo PASS
