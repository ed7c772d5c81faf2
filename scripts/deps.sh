#!/usr/bin/env bash
# Installs the Debian packages the test tiers need, only when one is missing
# (apt-get update first, as a fresh machine's package lists may be empty).
set -euo pipefail
PKGS=(util-linux libcap2-bin procps python3 runc busybox-static
      openjdk-17-jdk-headless libjna-java qemu-system-x86 gcc libc6-dev
      docker.io podman containerd python3-grpcio tar
      # release and emulation tiers (scripts/release.sh, scripts/emulated.sh,
      # tests/release.rs): foreign binaries under qemu-user, the arm64 VM,
      # ar for the link stub, file(1), git for clones
      qemu-user-static qemu-system-arm binutils file git)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "lockdrop tests: missing packages ${missing[*]}; run as root or: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
