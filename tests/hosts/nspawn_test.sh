#!/usr/bin/env bash
# The package as shipped, on a real systemd: boots a Debian 12 root filesystem with
# systemd-nspawn (systemd as PID 1), installs the .deb with dpkg and runs tests/hosts/checks.sh
# inside it. The root filesystem is built once with mmdebstrap from the mirror apt is configured
# with, cached under /var/cache/clawjail-tests keyed by its package list and this script's
# version, and extracted afresh for every run. Every run is bounded and leaves nothing behind:
# the container is halted (killed if it does not halt), its cgroups and its directory removed.
# usage: nspawn_test.sh SOURCE_DIR BUILD_DIR   (CLAWJAIL_DEB=FILE tests that package instead of
#        building one with cpack, tests/packaging/deb_under_test.sh; CLAWJAIL_TESTS_CACHE overrides
#        the cache directory)
set -euo pipefail
readonly harness_version=1
src=$1 build=$2
here=$(cd "$(dirname "$0")" && pwd)
cache=${CLAWJAIL_TESTS_CACHE:-/var/cache/clawjail-tests}
boot_timeout=60 checks_timeout=${CLAWJAIL_HOSTS_TIMEOUT:-270}

fail() { echo "FAIL: $*" >&2; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (systemd-nspawn, mmdebstrap)"; exit 77; }
t_start=$(now)

# ---- tools ----
ensure_tools() {
  command -v systemd-nspawn >/dev/null && command -v mmdebstrap >/dev/null && command -v zstd >/dev/null && return
  echo "installing systemd-container mmdebstrap zstd"
  local apt=(apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends systemd-container mmdebstrap zstd)
  DEBIAN_FRONTEND=noninteractive "${apt[@]}" >/dev/null 2>&1 ||
    { apt-get -o DPkg::Lock::Timeout=600 update -qq && DEBIAN_FRONTEND=noninteractive "${apt[@]}" >/dev/null; } ||
    fail "cannot install systemd-container mmdebstrap zstd"
}

# ---- per-run state, removed on every exit path ----
work=$(mktemp -d /var/tmp/clawjail-hosts-XXXXXX)
name=cjh$$
cg_dirs=()
nspawn_pid='' checks_pid='' image_tmp=''

# The run gets cgroups of its own in the hierarchies nspawn uses, so that parallel runs never
# share the payload/supervisor cgroups nspawn creates beside itself.
enter_own_cgroups() {
  local h
  for h in unified systemd; do
    [ -e "/sys/fs/cgroup/$h/cgroup.procs" ] || continue
    mkdir -p "/sys/fs/cgroup/$h/clawjail-hosts-$name"
    cg_dirs+=("/sys/fs/cgroup/$h/clawjail-hosts-$name")
    echo $$ >"/sys/fs/cgroup/$h/clawjail-hosts-$name/cgroup.procs"
  done
}

kill_cgroup_leftovers() {
  local d pid
  for d in "${cg_dirs[@]}"; do
    [ -d "$d" ] || continue
    echo $$ >"$(dirname "$d")/cgroup.procs" 2>/dev/null || true
    for pid in $(find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
    for _ in $(seq 50); do
      find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
      [ -d "$d" ] || break
      sleep 0.1
    done
    [ ! -d "$d" ] || echo "warning: could not remove the cgroup $d" >&2
  done
}

halt_container() {
  [ -n "$nspawn_pid" ] && kill -0 "$nspawn_pid" 2>/dev/null || return 0
  local t=$(now)
  kill -TERM "$nspawn_pid" 2>/dev/null || true  # nspawn asks the container's systemd to power off
  for _ in $(seq 100); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$nspawn_pid" 2>/dev/null; then
    echo "warning: the container did not halt within 10 s; killing it" >&2
    kill -KILL "$nspawn_pid" 2>/dev/null || true
  fi
  wait "$nspawn_pid" 2>/dev/null || true
  nspawn_pid=''
  echo "time: halt $(since "$t") s"
}

cleanup() {
  local rc=$?
  if [ -n "$checks_pid" ]; then kill -KILL "$checks_pid" 2>/dev/null || true; wait "$checks_pid" 2>/dev/null || true; fi
  halt_container
  kill_cgroup_leftovers
  [ -z "$image_tmp" ] || rm -rf --one-file-system "$image_tmp"
  rm -rf --one-file-system "$work"
  echo "time: total $(since "$t_start") s"
  exit $rc
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP

ensure_tools
enter_own_cgroups

# ---- the package under test: CLAWJAIL_DEB (scripts/dev.sh builds it with Debian's flags), else
# one CPack makes from BUILD_DIR ----
. "$src/tests/packaging/deb_under_test.sh"
t=$(now)
deb=$(deb_under_test "$build" "$work/out") || fail "no package to test"
echo "package: $(basename "$deb") ($(since "$t") s)"

# ---- the root filesystem: built once per package list, then cached ----
# What the container needs beyond minbase: systemd as init, the package's own dependencies (no
# network inside), and busybox for the checks (an HTTP server for the egress proxy, wget).
packages=(systemd-sysv dbus busybox procps iproute2)
for dep in $(dpkg-deb -f "$deb" Depends | tr ',|' '\n\n' | sed 's/(.*)//; s/ //g' | grep -v '^$'); do
  packages+=("$dep")
done
mapfile -t packages < <(printf '%s\n' "${packages[@]}" | sort -u)
key=$(printf '%s\n' "harness $harness_version" "${packages[@]}" | sha256sum | cut -c1-16)
image=$cache/nspawn-bookworm-$key.tar.zst

# The mirror apt already uses: the host's own source list, handed to mmdebstrap as is.
apt_sources() {
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then echo /etc/apt/sources.list.d/debian.sources
  elif [ -s /etc/apt/sources.list ]; then echo /etc/apt/sources.list
  else fail "no apt source list to build the root filesystem from"; fi
}

build_image() {
  mkdir -p "$cache"
  exec 8>"$cache/.nspawn.lock"
  flock -w 900 8 || fail "another run holds $cache/.nspawn.lock for over 15 minutes"
  if [ ! -f "$image" ]; then
    # mmdebstrap picks the output format from the name: keep .tar.zst at its end.
    local t=$(now) tmp="$cache/.nspawn-bookworm-$key.$$.tar.zst"
    image_tmp=$tmp
    echo "building the root filesystem ($(IFS=' '; echo "${packages[*]}"))"
    if ! timeout 900 mmdebstrap --quiet --variant=minbase --include="$(IFS=,; echo "${packages[*]}")" \
         bookworm "$tmp" "$(apt_sources)" >"$work/mmdebstrap.log" 2>&1; then
      rm -f "$tmp"
      tail -30 "$work/mmdebstrap.log" >&2
      fail "mmdebstrap failed"
    fi
    mv "$tmp" "$image"
    image_tmp=''
    echo "time: image build $(since "$t") s ($(du -m "$image" | cut -f1) MB)"
  fi
  exec 8>&-
}
build_image

t=$(now)
root=$work/root
mkdir -p "$root" "$work/in"
tar -C "$root" --zstd -xf "$image"
cp "$deb" "$work/in/clawjail.deb"
cp "$here/checks.sh" "$work/in/"
echo "time: extract $(since "$t") s"

# ---- boot ----
t=$(now)
SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 systemd-nspawn --boot --register=no --keep-unit --console=passive --quiet \
  --private-network --directory="$root" --machine="$name" --bind-ro="$work/in:/srv/in" \
  systemd.firstboot=off >"$work/console.log" 2>&1 &
nspawn_pid=$!
leader='' state=''
deadline=$((SECONDS + boot_timeout))
while [ $SECONDS -lt $deadline ]; do
  kill -0 "$nspawn_pid" 2>/dev/null || { cat "$work/console.log" >&2; fail "systemd-nspawn exited during boot"; }
  leader=$(pgrep -P "$nspawn_pid" | head -1 || true)
  if [ -n "$leader" ]; then
    state=$(nsenter -t "$leader" -a systemctl is-system-running 2>/dev/null || true)
    case $state in running|degraded) break ;; esac
  fi
  sleep 0.1
done
case $state in
  running) ;;
  degraded) nsenter -t "$leader" -a systemctl --failed --no-pager >&2 || true; fail "the container booted degraded" ;;
  *) cat "$work/console.log" >&2; fail "the container did not boot within $boot_timeout s (state: ${state:-none})" ;;
esac
echo "time: boot $(since "$t") s"

# ---- the checks: a root shell inside the container drives them; everything under test runs as
# a unit of the container's systemd (the service itself, or systemd-run), never from this shell ----
t=$(now)
nsenter -t "$leader" -a /bin/bash /srv/in/checks.sh &
checks_pid=$!
deadline=$((SECONDS + checks_timeout))
while kill -0 "$checks_pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
if kill -0 "$checks_pid" 2>/dev/null; then
  nsenter -t "$leader" -a journalctl -b --no-pager -n 60 >&2 || true
  fail "the checks did not finish within $checks_timeout s"
fi
rc=0
wait "$checks_pid" || rc=$?
checks_pid=''
echo "time: checks $(since "$t") s"
[ $rc = 0 ] || fail "checks inside the container failed (exit $rc)"
halt_container
echo PASS
