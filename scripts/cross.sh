#!/usr/bin/env bash
# Builds the size-tuned static lockdrop for every release architecture, in one
# cargo invocation, into target/cross/<triple>/release/lockdrop, and copies
# each to target/cross/bin/lockdrop-<uname -m>. Prints those paths.
#
#   scripts/cross.sh                 every architecture
#   scripts/cross.sh aarch64 s390x   some (uname -m spelling, or the Rust triple)
#
# Why this path (docs/platforms.md has the measurements):
# - `rustup target add` cannot be relied on: the Rust distribution server
#   answered 404 for armv7/riscv64/powerpc64le musl here, and a fresh machine
#   may not reach it at all. So no architecture uses a rustup std: std is
#   rebuilt from the installed rust-src with -Z build-std (RUSTC_BOOTSTRAP=1 on
#   the stable toolchain), which works for any target rustc knows. The same
#   build also drops the panic-time backtrace machinery (immediate-abort), as
#   scripts/build.sh does for the x86_64 binary.
# - The C library is musl: glibc static costs ~730 KiB more (over the 600 KiB
#   budget) and would pull in NSS. Rust's musl targets normally link against
#   a musl copy shipped inside the rustup std component; without it we take
#   libc.a and crt1.o from Debian's musl-dev package for the target
#   architecture. Debian 12 (bookworm) has no riscv64 port, so every
#   architecture takes musl-dev from Debian 13 (trixie), one musl version for
#   all. The packages are fetched with apt-get into a private apt state under
#   target/cross/apt (no `dpkg --add-architecture`, nothing installed on the
#   machine), pinned by version and sha256 (MUSL_VERSION, MUSL_SHA256 below).
# - The linker is rust-lld, shipped with the toolchain: it links every
#   architecture, so no cross gcc is needed. link-self-contained=no because
#   the self-contained objects are the rustup component's; crt1.o (static,
#   non-PIE start code) is passed explicitly. crti.o/crtn.o are not needed:
#   musl's _init is a weak no-op and constructors use .init_array.
# - std's `unwind` crate links `-lunwind` on musl; with panic=immediate-abort
#   nothing unwinds and LTO leaves no _Unwind_* reference, so an empty
#   libunwind.a satisfies the linker (a reference would fail the link, not
#   the binary).
# - Compiler intrinsics musl's libc.a needs (__aeabi_* on arm, 64-bit
#   division on i686/armv7) come from Rust's compiler_builtins.
# - Reproducible: paths are remapped (checkout, cargo registry, rust-src), the
#   commit comes from git, no timestamps are embedded; see scripts/release.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

# arch (uname -m) | Rust triple | Debian architecture | musl directory
TABLE="x86_64   x86_64-unknown-linux-musl         amd64   x86_64-linux-musl
aarch64  aarch64-unknown-linux-musl        arm64   aarch64-linux-musl
armv7l   armv7-unknown-linux-musleabihf    armhf   arm-linux-musleabihf
i686     i686-unknown-linux-musl           i386    i386-linux-musl
ppc64le  powerpc64le-unknown-linux-musl    ppc64el powerpc64le-linux-musl
riscv64  riscv64gc-unknown-linux-musl      riscv64 riscv64-linux-musl
s390x    s390x-unknown-linux-musl          s390x   s390x-linux-musl
armv5tel armv5te-unknown-linux-musleabi    armel   arm-linux-musleabi"

MUSL_VERSION="1.2.5-3.1~deb13u1"
MUSL_SHA256="amd64 a3f7d47e452129bb65aae201d6c115abf4d5d3efb136b38b7c6b4fa03ec065e9
arm64 384ea029e3694baac696d3993d93246f9a4b3741c493697e1ceb7256d8820748
armel b46bb747728b114ce6ccd85195d71529dc13463f78be49be4fc47ce88eb16139
armhf db485234c01cb9887da0907f3e47d36d101a3299528afd3bbeb46edd551c8264
i386 7c6500215eeb2d7479f238969b8e38daafc23d5c746044764a47c80bfe24415f
ppc64el 99d343084123cc212d06d75bf4e221f8017b0828b21a9d298e67fcc9308189e7
riscv64 1666931c146dd7fec5902c7ecfbf0c8566528362c922a1cfa4ed91c6d3bc97ce
s390x 8fc6480922d04cbec46684d52bc35854a39a590a105eab2fc0656c94f19afe14"

want=("$@")
rows=()
while read -r arch triple deb mdir; do
  if [ ${#want[@]} -eq 0 ]; then
    # armel (ARMv5) is built on request only: not in the release set.
    [ "$arch" = armv5tel ] && continue
    rows+=("$arch $triple $deb $mdir")
  else
    for w in "${want[@]}"; do
      [ "$w" = "$arch" ] || [ "$w" = "$triple" ] && rows+=("$arch $triple $deb $mdir")
    done
  fi
done <<<"$TABLE"
[ ${#rows[@]} -gt 0 ] || { echo "cross.sh: unknown architecture ${want[*]}" >&2; exit 2; }

out=target/cross
mkdir -p "$out/bin" "$out/stub"
# The extracted musl-dev packages; LOCKDROP_MUSL_CACHE shares them between
# checkouts (tests/release.rs builds in two fresh clones).
musl=${LOCKDROP_MUSL_CACHE:-$root/$out/musl}
mkdir -p "$musl"
# The empty libunwind.a (see above); deterministic (ar D).
[ -f "$out/stub/libunwind.a" ] || ar rcD "$out/stub/libunwind.a"

# musl-dev per Debian architecture, from a private apt state (no system change).
. scripts/apt-private.sh
need_debs=()
for r in "${rows[@]}"; do
  read -r _ _ deb _ <<<"$r"
  [ -f "$musl/$deb/.done" ] || need_debs+=("$deb")
done
if [ ${#need_debs[@]} -gt 0 ]; then
  apt_private "$root/$out/apt" trixie "$(IFS=,; echo "${need_debs[*]}")"
  apt_private_update
  mkdir -p "$out/apt/debs"
  for deb in "${need_debs[@]}"; do
    f="musl-dev_${MUSL_VERSION}_${deb}.deb"
    (cd "$out/apt/debs" && apt-get "${APT_PRIVATE[@]}" -qq download "musl-dev:$deb=$MUSL_VERSION" >&2) || {
      echo "cross.sh: musl-dev:$deb=$MUSL_VERSION is no longer in Debian trixie: update MUSL_VERSION and MUSL_SHA256" >&2
      exit 1; }
    sum=$(sha256sum "$out/apt/debs/$f" | cut -d' ' -f1)
    grep -qx "$deb $sum" <<<"$MUSL_SHA256" || { echo "cross.sh: $f: unexpected sha256 $sum" >&2; exit 1; }
    rm -rf "$musl/$deb"
    mkdir -p "$musl/$deb"
    dpkg-deb -x "$out/apt/debs/$f" "$musl/$deb"
    touch "$musl/$deb/.done"
  done
fi

sysroot=$(rustc --print sysroot)
lld="$sysroot/lib/rustlib/$(rustc -vV | sed -n 's/^host: //p')/bin/rust-lld"
[ -x "$lld" ] || { echo "cross.sh: $lld missing (the toolchain's rust-lld)" >&2; exit 1; }
[ -d "$sysroot/lib/rustlib/src/rust/library" ] || timeout 120 rustup component add rust-src >&2 || {
  echo "cross.sh: the rust-src component is needed (-Z build-std)" >&2; exit 1; }

commit=${LOCKDROP_COMMIT:-$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)}
cargo_home=${CARGO_HOME:-$HOME/.cargo}
# Paths that would otherwise end up in panic locations and debug sections.
remap="--remap-path-prefix=$root=/lockdrop --remap-path-prefix=$cargo_home=/cargo --remap-path-prefix=$sysroot=/rustc"
. scripts/flags.sh
common="$LOCKDROP_SHIP_RUSTFLAGS
  -C linker-flavor=ld.lld -C link-self-contained=no -C link-arg=--build-id=none $remap"
targets=()
for r in "${rows[@]}"; do
  read -r arch triple deb mdir <<<"$r"
  lib="$musl/$deb/usr/lib/$mdir"
  up=$(echo "$triple" | tr 'a-z-' 'A-Z_')
  export "CARGO_TARGET_${up}_LINKER=$lld"
  extra=
  # powerpc64le keeps std's gcc personality routine (the .eh_frame of its
  # ELFv2 ABI references it), which names two unwinder accessors. With
  # immediate-abort nothing unwinds, so the personality never runs: the
  # accessors are defined as address 0 rather than linking an unwinder.
  [ "$arch" = ppc64le ] && extra="-C link-arg=--defsym=_Unwind_GetDataRelBase=0 -C link-arg=--defsym=_Unwind_GetTextRelBase=0"
  export "CARGO_TARGET_${up}_RUSTFLAGS=$common -L native=$lib -L native=$root/$out/stub -C link-arg=$lib/crt1.o $extra"
  targets+=(--target "$triple")
done

start=$(date +%s)
RUSTC_BOOTSTRAP=1 LOCKDROP_COMMIT=$commit cargo build --release --locked "${targets[@]}" \
  --target-dir "$out" $LOCKDROP_BUILD_STD --bin lockdrop ${LOCKDROP_CROSS_EXAMPLES:+--example probe} >&2
echo "cross.sh: built ${#rows[@]} architecture(s) in $(( $(date +%s) - start )) s" >&2
for r in "${rows[@]}"; do
  read -r arch triple _ _ <<<"$r"
  cp "$out/$triple/release/lockdrop" "$out/bin/lockdrop-$arch"
  echo "$out/bin/lockdrop-$arch"
done
