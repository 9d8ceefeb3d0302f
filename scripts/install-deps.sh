#!/usr/bin/env bash
# Installs the Debian 12 packages clawjail needs to build and test, and only the missing ones.
set -euo pipefail
packages=(build-essential cmake pkg-config clang libclang-rt-14-dev systemd-container mmdebstrap zstd
          libseccomp-dev libcap-dev libsodium-dev nlohmann-json3-dev libspdlog-dev libsystemd-dev libctemplate-dev
          libgtest-dev libcli11-dev systemd bubblewrap util-linux iproute2 procps curl
          ccache dpkg-dev lintian jq chromium)
# The fleet test (tests/hosts/fleet_test.sh): the hosts' and the collector's certificates.
packages+=(openssl)
# The pure cgroup v2 test (tests/hostvm): a Debian 12 VM built with mmdebstrap, run by QEMU.
packages+=(qemu-system-x86 qemu-utils mmdebstrap)
command -v node >/dev/null && command -v npm >/dev/null || packages+=(nodejs npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "clawjail: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then echo "clawjail: run as root to install packages" >&2; exit 1; fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
