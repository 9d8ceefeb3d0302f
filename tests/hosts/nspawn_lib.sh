# Sourced by the tests that boot Debian 12 under a real systemd with systemd-nspawn
# (nspawn_test.sh, fleet_test.sh): the tools, the cached root filesystem, booting and halting
# containers, and the run's own cgroups. Every container is bounded and leaves nothing behind:
# halted (killed if it does not halt), its cgroups removed; the caller removes its directory.
# The caller sets `name` (unique per run) and calls nspawn_begin, which makes `work` (its scratch
# directory) and installs the traps; a caller with more to stop defines on_cleanup first.
readonly harness_version=1
cache=${CLAWJAIL_TESTS_CACHE:-/var/cache/clawjail-tests}
boot_timeout=${boot_timeout:-60}

fail() { echo "FAIL: $*" >&2; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

ensure_tools() {
  command -v systemd-nspawn >/dev/null && command -v mmdebstrap >/dev/null && command -v zstd >/dev/null && return
  echo "installing systemd-container mmdebstrap zstd"
  local apt=(apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends systemd-container mmdebstrap zstd)
  DEBIAN_FRONTEND=noninteractive "${apt[@]}" >/dev/null 2>&1 ||
    { apt-get -o DPkg::Lock::Timeout=600 update -qq && DEBIAN_FRONTEND=noninteractive "${apt[@]}" >/dev/null; } ||
    fail "cannot install systemd-container mmdebstrap zstd"
}

# ---- the run's own cgroups: nspawn creates payload/supervisor cgroups beside itself, and
# parallel runs must never share them ----
cg_dirs=()
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

# ---- the root filesystem: built once per package list, then cached ----
# One lock per image (fd 8, closed by the caller): runs that need different images build them side
# by side, runs that need the same one build it once.
lock_image() {
  local lock=${image%.tar.zst}.lock
  exec 8>"$lock"
  flock -w 900 8 || fail "another run holds $lock for over 15 minutes"
}

# rootfs_image DEB EXTRA_PACKAGE…: sets `image` to the cached root filesystem with what a
# container needs beyond minbase (systemd as init, the package's own dependencies: there may be
# no network inside, busybox for the checks) and the extra packages; builds it if missing.
image='' image_tmp=''
rootfs_image() {
  local deb=$1 dep key
  shift
  local packages=(systemd-sysv dbus busybox procps iproute2 "$@")
  for dep in $(dpkg-deb -f "$deb" Depends | tr ',|' '\n\n' | sed 's/(.*)//; s/ //g' | grep -v '^$'); do
    packages+=("$dep")
  done
  mapfile -t packages < <(printf '%s\n' "${packages[@]}" | sort -u)
  key=$(printf '%s\n' "harness $harness_version" "${packages[@]}" | sha256sum | cut -c1-16)
  image=$cache/nspawn-bookworm-$key.tar.zst
  mkdir -p "$cache"
  lock_image
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

# rootfs_lower: after rootfs_image, sets `image_dir` to the image extracted once beside it, the
# read-only lower layer of overlay_root; extracts it if missing.
image_dir=''
rootfs_lower() {
  image_dir=${image%.tar.zst}.root
  lock_image
  if [ ! -d "$image_dir" ]; then
    local t=$(now) tmp="$image_dir.$$"
    image_tmp=$tmp
    mkdir "$tmp"
    tar -C "$tmp" --zstd -xf "$image" || fail "cannot extract $image"
    mv "$tmp" "$image_dir"
    image_tmp=''
    echo "time: extract the lower layer $(since "$t") s"
  fi
  exec 8>&-
}

# overlay_root DIR: DIR/root becomes a writable root filesystem over image_dir (overlayfs), so
# that each container starts from the image and a run copies nothing; unmounted by nspawn_cleanup.
overlays=()
overlay_root() {
  mkdir -p "$1/upper" "$1/overlay-work" "$1/root"
  mount -t overlay overlay -o "lowerdir=$image_dir,upperdir=$1/upper,workdir=$1/overlay-work" "$1/root" ||
    fail "cannot mount an overlay over $image_dir"
  overlays+=("$1/root")
}

# The mirror apt already uses: the host's own source list, handed to mmdebstrap as is.
apt_sources() {
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then echo /etc/apt/sources.list.d/debian.sources
  elif [ -s /etc/apt/sources.list ]; then echo /etc/apt/sources.list
  else fail "no apt source list to build the root filesystem from"; fi
}

# ---- containers, by machine name ----
declare -A nspawn_pids=() leaders=()

# boot_start MACHINE ROOT EXTRA_NSPAWN_ARG…: starts the container's systemd in the background;
# its console goes to $work/MACHINE.console. Each nspawn runs in a cgroup of its own under the
# run's, since it makes its payload/supervisor cgroups beside itself (--keep-unit).
boot_start() {
  local machine=$1 root=$2
  shift 2
  (
    for d in "${cg_dirs[@]}"; do mkdir -p "$d/$machine" && echo "$BASHPID" >"$d/$machine/cgroup.procs"; done
    SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 exec systemd-nspawn --boot --register=no --keep-unit --console=passive --quiet \
      --directory="$root" --machine="$machine" "$@" systemd.firstboot=off >"$work/$machine.console" 2>&1
  ) &
  nspawn_pids[$machine]=$!
}

# boot_wait MACHINE: waits until its systemd says running and sets leaders[MACHINE] (its PID 1,
# for nsenter); a container that boots degraded or not at all fails the run.
boot_wait() {
  local machine=$1 pid=${nspawn_pids[$1]} leader='' state='' deadline=$((SECONDS + boot_timeout))
  while [ $SECONDS -lt $deadline ]; do
    kill -0 "$pid" 2>/dev/null || { cat "$work/$machine.console" >&2; fail "systemd-nspawn of $machine exited during boot"; }
    leader=$(pgrep -P "$pid" | head -1 || true)
    if [ -n "$leader" ]; then
      state=$(nsenter -t "$leader" -a systemctl is-system-running 2>/dev/null || true)
      case $state in running|degraded) break ;; esac
    fi
    sleep 0.1
  done
  case $state in
    running) ;;
    degraded) nsenter -t "$leader" -a systemctl --failed --no-pager >&2 || true; fail "$machine booted degraded" ;;
    *) cat "$work/$machine.console" >&2; fail "$machine did not boot within $boot_timeout s (state: ${state:-none})" ;;
  esac
  leaders[$machine]=$leader
}

# inside MACHINE COMMAND…: a root shell's command inside the container (code under test runs as a
# unit of the container's systemd, started from there).
inside() { local leader=${leaders[$1]}; shift; nsenter -t "$leader" -a "$@"; }

# halt_all: SIGTERM to nspawn asks each container's systemd to power off; all halt in parallel.
halt_all() {
  local m pid t=$(now) any=''
  for m in "${!nspawn_pids[@]}"; do
    pid=${nspawn_pids[$m]}
    kill -0 "$pid" 2>/dev/null || continue
    kill -TERM "$pid" 2>/dev/null || true
    any=1
  done
  [ -n "$any" ] || return 0
  for _ in $(seq 100); do
    any=''
    for m in "${!nspawn_pids[@]}"; do kill -0 "${nspawn_pids[$m]}" 2>/dev/null && any=1; done
    [ -n "$any" ] || break
    sleep 0.1
  done
  for m in "${!nspawn_pids[@]}"; do
    pid=${nspawn_pids[$m]}
    if kill -0 "$pid" 2>/dev/null; then
      echo "warning: $m did not halt within 10 s; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
    unset "nspawn_pids[$m]"
  done
  echo "time: halt $(since "$t") s"
}

nspawn_cleanup() {
  local o
  halt_all
  kill_cgroup_leftovers
  for o in "${overlays[@]}"; do umount "$o" 2>/dev/null || umount -l "$o" || echo "warning: could not unmount $o" >&2; done
  [ -z "$image_tmp" ] || rm -rf --one-file-system "$image_tmp"
}

# Every exit path: the caller's own on_cleanup, the containers, the scratch directory.
nspawn_exit() {
  local rc=$?
  if declare -F on_cleanup >/dev/null; then on_cleanup || true; fi
  nspawn_cleanup
  rm -rf --one-file-system "$work"
  echo "time: total $(since "$t_start") s"
  exit $rc
}

nspawn_begin() {  # PREFIX: the scratch directory is /var/tmp/PREFIX-XXXXXX
  t_start=$(now)
  work=$(mktemp -d "/var/tmp/$1-XXXXXX")
  trap nspawn_exit EXIT
  trap 'exit 143' TERM INT HUP
}
