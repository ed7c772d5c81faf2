#!/usr/bin/env bash
# Release artifacts, from a clean clone:
#   dist/lockdrop-VERSION-linux-ARCH   static binary per architecture (ARCH as
#                                      `uname -m` prints it)
#   dist/lockdrop-VERSION-oci.tar      OCI image layout, multi-arch index, each
#                                      image FROM scratch holding /lockdrop
#   dist/SHA256SUMS                    `sha256sum -c SHA256SUMS` format
#
#   scripts/release.sh                      every architecture
#   scripts/release.sh --arch x86_64 ...    some (tests/release.rs builds one, twice)
#   scripts/release.sh --out DIR            another output folder (default dist)
#
# Reproducible: the same commit gives byte-identical files wherever and
# whenever it is built. What would vary is pinned: paths are remapped
# (scripts/cross.sh), the commit is the checkout's, the only time used is the
# commit's (SOURCE_DATE_EPOCH, for the tar mtimes and the image config's
# "created"), the musl package is pinned by version and hash, Cargo.lock is
# --locked. The toolchain is the installed one: its version is printed and
# belongs to the release notes (another rustc gives other bytes).
set -euo pipefail
cd "$(dirname "$0")/.."
out=dist
arches=()
while [ $# -gt 0 ]; do
  case "$1" in
    --arch) arches+=("$2"); shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "release.sh: unknown argument $1 (--arch ARCH, --out DIR)" >&2; exit 2 ;;
  esac
done
[ ${#arches[@]} -gt 0 ] || arches=(x86_64 aarch64 armv7l i686 ppc64le riscv64 s390x)

if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] && [ -z "${LOCKDROP_RELEASE_DIRTY:-}" ]; then
  echo "release.sh: the checkout has uncommitted changes; commit them (or LOCKDROP_RELEASE_DIRTY=1 for a trial)" >&2
  exit 1
fi
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
export LOCKDROP_COMMIT=$(git rev-parse --short=12 HEAD)
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}
echo "release.sh: lockdrop $version, commit $LOCKDROP_COMMIT, $(rustc -V)" >&2

mapfile -t bins < <(scripts/cross.sh "${arches[@]}")
rm -rf "$out"
mkdir -p "$out"
pairs=()
for b in "${bins[@]}"; do
  arch=${b##*/lockdrop-}
  size=$(stat -c %s "$b")
  if [ "$size" -gt $((600 * 1024)) ]; then
    echo "release.sh: $b is $size bytes, over the 600 KiB budget" >&2
    exit 1
  fi
  f="$out/lockdrop-$version-linux-$arch"
  install -m 0755 "$b" "$f"
  touch -d "@$SOURCE_DATE_EPOCH" "$f"
  pairs+=("$arch=$f")
done
python3 scripts/oci.py "$out/lockdrop-$version-oci.tar" "$version" "$SOURCE_DATE_EPOCH" "${pairs[@]}"
touch -d "@$SOURCE_DATE_EPOCH" "$out/lockdrop-$version-oci.tar"
(cd "$out" && sha256sum lockdrop-* >SHA256SUMS)
ls -l "$out" >&2
echo "$out"
