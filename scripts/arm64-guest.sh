#!/usr/bin/env bash
# The arm64 VM tier's guest pieces (tests/vm_arm64.rs calls this): Debian
# bookworm's arm64 cloud kernel and busybox-static, fetched with apt-get
# download into a private apt state and extracted with dpkg-deb (nothing is
# installed), plus the aarch64 lockdrop and probe from scripts/cross.sh.
# Cached in target/vm-cache/arm64. Prints KEY=PATH lines.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/apt-private.sh
cache=$PWD/target/vm-cache/arm64
mkdir -p "$cache"
if [ ! -f "$cache/vmlinuz" ] || [ ! -f "$cache/busybox" ]; then
  apt_private "$cache/apt" bookworm arm64
  apt_private_update
  image=$(apt-cache "${APT_PRIVATE[@]}" depends linux-image-cloud-arm64:arm64 |
    sed -n 's/.*Depends: \(linux-image-[^ ]*\)/\1/p' | head -1)
  [ -n "$image" ] || { echo "arm64-guest.sh: no kernel behind linux-image-cloud-arm64" >&2; exit 1; }
  rm -rf "$cache/debs" "$cache/x"
  mkdir -p "$cache/debs"
  (cd "$cache/debs" && apt-get "${APT_PRIVATE[@]}" -qq download "$image" busybox-static:arm64 >&2)
  for d in "$cache"/debs/*.deb; do dpkg-deb -x "$d" "$cache/x"; done
  cp "$cache"/x/boot/vmlinuz-* "$cache/vmlinuz"
  cp "$cache/x/bin/busybox" "$cache/busybox"
  rm -rf "$cache/debs" "$cache/x"
fi
[ -x target/cross/bin/lockdrop-aarch64 ] && [ -x target/cross/aarch64-unknown-linux-musl/release/examples/probe ] ||
  LOCKDROP_CROSS_EXAMPLES=1 scripts/cross.sh aarch64 >/dev/null
echo "kernel=$cache/vmlinuz"
echo "busybox=$cache/busybox"
echo "lockdrop=$PWD/target/cross/bin/lockdrop-aarch64"
echo "probe=$PWD/target/cross/aarch64-unknown-linux-musl/release/examples/probe"
