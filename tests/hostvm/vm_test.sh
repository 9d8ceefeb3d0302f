#!/usr/bin/env bash
# The package on a pure cgroup v2 host: boots a Debian 12 VM (QEMU, software emulation), installs
# the .deb there and runs guest.sh as root inside, which checks that the supervisor claims its
# delegated cgroup subtree and that each jail's memory, pids and cpu limits are enforced.
# The image is built once and cached (build-image.sh); every boot starts from it unchanged
# (snapshot=on). The guest has no network; a 9p share carries the script, the .deb and the results.
# usage: vm_test.sh SOURCE_DIR BUILD_DIR   (CLAWJAIL_DEB=FILE: that package; else CPack builds one)
set -euo pipefail
src=$1 build=$2
# CLAWJAIL_HOST_VM=0 skips it (shown as skipped in ctest's summary), e.g. on a developer's laptop.
if [ "${CLAWJAIL_HOST_VM:-1}" = 0 ]; then
  echo "SKIP: CLAWJAIL_HOST_VM=0"
  exit 77
fi
here=$src/tests/hostvm
timeout_s=${CLAWJAIL_VM_TIMEOUT:-420}
fail() { echo "FAIL: $*" >&2; exit 1; }
for tool in qemu-system-x86_64 mmdebstrap mkfs.ext4; do
  command -v "$tool" >/dev/null || fail "$tool is missing (scripts/install-deps.sh installs it)"
done
[ "$(id -u)" = 0 ] || fail "building the VM image needs root"
work=$(mktemp -d /var/tmp/clawjail-vm-XXXXXX)
qemu_pid=
cleanup() {
  [ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null && wait "$qemu_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

t0=$(date +%s.%N)
source "$src/tests/packaging/deb_under_test.sh"
deb=$(deb_under_test "$build" "$work/out") || fail "no package to test"
share=$work/share
mkdir -p "$share"
cp "$deb" "$share/clawjail.deb"
install -m 0755 "$here/guest.sh" "$share/run.sh"
t_deb=$(date +%s.%N)
# The guest has no network: the image holds the package's dependencies (the first of each set of
# alternatives), so a change of them builds a new image.
depends=$(dpkg-deb -f "$share/clawjail.deb" Depends | tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/ //g' | sort -u | paste -sd,)
# CLAWJAIL_VM_IMAGE=DIR (vmlinuz, initrd.img, root.img) boots that image instead.
image=${CLAWJAIL_VM_IMAGE:-}
[ -n "$image" ] || image=$("$here/build-image.sh" /var/cache/clawjail-tests "$depends" | tail -1) ||
  fail "building the VM image failed"
t_image=$(date +%s.%N)

# /dev/kvm may exist and still be unable to run a stock kernel (this machine's is a PVM device),
# so software emulation unless CLAWJAIL_VM_KVM=1. Two CPUs: the cpu.max check needs more than one.
accel=(-accel tcg -cpu max)
[ "${CLAWJAIL_VM_KVM:-0}" = 1 ] && accel=(-accel kvm -cpu host)
qemu-system-x86_64 "${accel[@]}" -m 1536 -smp 2 \
  -nodefaults -no-user-config -display none -serial "file:$work/serial.log" \
  -kernel "$image/vmlinuz" -initrd "$image/initrd.img" \
  -append "root=/dev/vda rw console=ttyS0 quiet panic=-1 systemd.show_status=0" \
  -drive file="$image/root.img",format=raw,if=virtio,snapshot=on,cache=unsafe \
  -virtfs local,path="$share",mount_tag=hostshare,security_model=none,id=hostshare \
  -no-reboot </dev/null &
qemu_pid=$!
# Bounded: the guest powers itself off when its script ends; a hung guest is killed here.
for ((i = 0; i < timeout_s * 2; i++)); do
  kill -0 "$qemu_pid" 2>/dev/null || break
  sleep 0.5
done
if kill -0 "$qemu_pid" 2>/dev/null; then
  kill "$qemu_pid"; wait "$qemu_pid" 2>/dev/null || true; qemu_pid=
  cat "$share/out.log" 2>/dev/null || true
  echo "--- the guest's last journal and processes:" >&2
  cat "$share/journal.log" >&2 2>/dev/null || true
  tail -40 "$work/serial.log" >&2
  fail "the VM did not finish within ${timeout_s}s"
fi
wait "$qemu_pid" && qrc=0 || qrc=$?
qemu_pid=
t_end=$(date +%s.%N)
cat "$share/out.log" 2>/dev/null || true
[ "$qrc" = 0 ] || { tail -40 "$work/serial.log" >&2; fail "qemu exited $qrc"; }
[ -f "$share/rc" ] || { tail -40 "$work/serial.log" >&2; fail "the guest left no result"; }
awk -v a="$t0" -v b="$t_deb" -v c="$t_image" -v d="$t_end" 'BEGIN {
  printf "timings: package %.1fs, image %.1fs (~0 when cached), boot+checks+poweroff %.1fs, total %.1fs\n", b - a, c - b, d - c, d - a }'
rc=$(cat "$share/rc")
[ "$rc" = 0 ] || { cat "$share/journal.log" >&2 2>/dev/null; fail "the checks inside the VM failed (exit $rc)"; }
echo PASS
