#!/usr/bin/env bash
# Builds the Debian 12 VM image for the pure-cgroup-v2 test (vm_test.sh) from the mirror apt is
# configured with: kernel, initrd and an ext4 root holding systemd and clawjail's runtime
# dependencies (the VM has no network). Cached under $CACHE keyed by a hash of this script, the
# package list and the overlay; prints the image directory. Needs root.
# usage: build-image.sh CACHE RUNTIME_PACKAGES   (comma-separated: the .deb's Depends)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=$1
# systemd as PID 1, the kernel, and what the package under test depends on.
packages=systemd,systemd-sysv,udev,dbus,linux-image-amd64,initramfs-tools,kmod,procps,iproute2,$2
key=$( { cat "$0"; echo "$packages"; tar -C "$here/overlay" -cf - --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner .; } | sha256sum | cut -c1-16)
out=$cache/vm-bookworm-$key
if [ -f "$out/ready" ]; then echo "$out"; exit 0; fi
mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources)
[ -n "$mirror" ] || { echo "clawjail: vm image: no mirror in /etc/apt/sources.list.d/debian.sources" >&2; exit 1; }
mkdir -p "$cache"
tmp=$(mktemp -d "$cache/.build-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mmdebstrap --quiet --variant=minbase --include="$packages" \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --customize-hook="sync-in $here/overlay /" \
  --customize-hook='echo clawjail-vm >"$1/etc/hostname"' \
  --customize-hook='printf "/dev/vda / ext4 rw,relatime 0 1\n" >"$1/etc/fstab"' \
  --customize-hook='mkdir -p "$1/mnt/host"' \
  --customize-hook='printf "virtio_pci\nvirtio_blk\next4\n9p\n9pnet_virtio\n" >>"$1/etc/initramfs-tools/modules"' \
  --customize-hook='cd "$1"/usr/lib/modules/*/kernel && rm -rf sound drivers/gpu drivers/media drivers/net/wireless drivers/infiniband drivers/staging drivers/bluetooth drivers/iio drivers/isdn' \
  --customize-hook='chroot "$1" sh -c "depmod -a \$(ls /usr/lib/modules) && update-initramfs -u -k all"' \
  --customize-hook='chroot "$1" passwd -d root' \
  bookworm "$tmp/rootfs" "$mirror"
cp "$tmp"/rootfs/boot/vmlinuz-* "$tmp/vmlinuz"
cp "$tmp"/rootfs/boot/initrd.img-* "$tmp/initrd.img"
mkfs.ext4 -q -F -L root -d "$tmp/rootfs" "$tmp/root.img" 1G
rm -rf "$tmp/rootfs"
touch "$tmp/ready"
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
# One image at a time: those of other package lists go.
find "$cache" -maxdepth 1 -name 'vm-bookworm-*' ! -name "$(basename "$out")" -exec rm -rf {} +
echo "$out"
