#!/usr/bin/env bash
# The package as shipped, on a real systemd: boots a Debian 12 root filesystem with
# systemd-nspawn (systemd as PID 1), installs the .deb with dpkg and runs tests/hosts/checks.sh
# inside it. The root filesystem is built once with mmdebstrap from the mirror apt is configured
# with, cached under /var/cache/clawjail-tests keyed by its package list and this script's
# version, and extracted afresh for every run. Every run is bounded and leaves nothing behind:
# the container is halted (killed if it does not halt), its cgroups and its directory removed
# (tests/hosts/nspawn_lib.sh, shared with fleet_test.sh).
# usage: nspawn_test.sh SOURCE_DIR BUILD_DIR   (CLAWJAIL_DEB=FILE tests that package instead of
#        building one with cpack, tests/packaging/deb_under_test.sh; CLAWJAIL_TESTS_CACHE overrides
#        the cache directory)
set -euo pipefail
src=$1 build=$2
here=$(cd "$(dirname "$0")" && pwd)
checks_timeout=${CLAWJAIL_HOSTS_TIMEOUT:-270}
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (systemd-nspawn, mmdebstrap)"; exit 77; }
. "$here/nspawn_lib.sh"

# ---- per-run state, removed on every exit path ----
name=cjh$$
checks_pid=''
on_cleanup() {
  if [ -n "$checks_pid" ]; then kill -KILL "$checks_pid" 2>/dev/null || true; wait "$checks_pid" 2>/dev/null || true; fi
}
nspawn_begin clawjail-hosts

ensure_tools
enter_own_cgroups

# ---- the package under test: CLAWJAIL_DEB (scripts/dev.sh builds it with Debian's flags), else
# one CPack makes from BUILD_DIR ----
. "$src/tests/packaging/deb_under_test.sh"
t=$(now)
deb=$(deb_under_test "$build" "$work/out") || fail "no package to test"
echo "package: $(basename "$deb") ($(since "$t") s)"
rootfs_image "$deb"

t=$(now)
root=$work/root
mkdir -p "$root" "$work/in"
tar -C "$root" --zstd -xf "$image"
cp "$deb" "$work/in/clawjail.deb"
cp "$here/checks.sh" "$work/in/"
echo "time: extract $(since "$t") s"

# ---- boot ----
t=$(now)
boot_start "$name" "$root" --private-network --bind-ro="$work/in:/srv/in"
boot_wait "$name"
echo "time: boot $(since "$t") s"

# ---- the checks: a root shell inside the container drives them; everything under test runs as
# a unit of the container's systemd (the service itself, or systemd-run), never from this shell ----
t=$(now)
inside "$name" /bin/bash /srv/in/checks.sh &
checks_pid=$!
deadline=$((SECONDS + checks_timeout))
while kill -0 "$checks_pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
if kill -0 "$checks_pid" 2>/dev/null; then
  inside "$name" journalctl -b --no-pager -n 60 >&2 || true
  fail "the checks did not finish within $checks_timeout s"
fi
rc=0
wait "$checks_pid" || rc=$?
checks_pid=''
echo "time: checks $(since "$t") s"
[ $rc = 0 ] || fail "checks inside the container failed (exit $rc)"
halt_all
echo PASS
