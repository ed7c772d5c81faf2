# The static build's compiler flags, written once. Sourced by scripts/target.sh
# (and so by build.sh, test.sh, release.sh), scripts/cross.sh and
# bench/profile.sh; Dockerfile.example runs scripts/build.sh.
#
# LOCKDROP_STATIC_RUSTFLAGS, every build: static, non-PIE. A static-pie binary
# relocates itself at every start (~11k instructions for lockdrop's ~2k
# relative relocations, measured with callgrind), most of an entrypoint's
# start-up budget. Stack, heap and mmap areas stay randomised; lockdrop's own
# code is small and, in exec mode, replaced by the command within
# microseconds.
LOCKDROP_STATIC_RUSTFLAGS="-C relocation-model=static -C target-feature=+crt-static"
# LOCKDROP_SHIP_RUSTFLAGS, the shipped binary: std rebuilt (-Z build-std, see
# LOCKDROP_BUILD_STD) for panic=immediate-abort, which drops std's panic-time
# backtrace symboliser (~210 KiB: gimli, addr2line, miniz_oxide, libunwind)
# that a panic=abort binary never uses. Needs RUSTC_BOOTSTRAP=1 on stable.
LOCKDROP_SHIP_RUSTFLAGS="$LOCKDROP_STATIC_RUSTFLAGS -Zunstable-options -Cpanic=immediate-abort"
LOCKDROP_BUILD_STD="-Z build-std=std,panic_abort"
