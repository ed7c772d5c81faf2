#!/usr/bin/env bash
# The whole test suite: a short fuzz run of every parser, clippy, the
# release build of every architecture with the core and supervise tests
# under qemu-user, unit tests, namespace tests, the hardening and security
# tests, the runc container tier, the engine tier (Docker, Podman,
# containerd's CRI: tests/engines.rs), the x86_64 and arm64 VM tiers, the
# reproducible-release tests. Installs missing Debian packages
# (scripts/deps.sh) and builds the static binary first (the tiers run it
# inside containers and a VM). Needs root. `scripts/test.sh --test NAME`
# runs one test file (no fuzz run).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/target.sh
scripts/deps.sh
# The tiers use the ordinary release build (CARGO_BIN_EXE_lockdrop) and the
# examples; scripts/build.sh adds the size-tuned shipping build on top.
cargo build --release --target "$LOCKDROP_TARGET" --bins --examples
# The habits Cargo.toml's [lints] encode (unsafe only in src/sys, each
# block with a SAFETY line, no unwrap on a library path): clippy clean.
cargo clippy --version >/dev/null 2>&1 || rustup component add clippy
cargo clippy --release --target "$LOCKDROP_TARGET" --lib --bins -- -D warnings
# Every parser fuzzed briefly (scripts/fuzz.sh 60 or longer by hand); before
# cargo test so that its summary closes the output. LOCKDROP_FUZZ_SECONDS=0
# leaves it out of a quick local run; CI never sets it.
fuzz_secs="${LOCKDROP_FUZZ_SECONDS:-10}"
if [ "$fuzz_secs" != 0 ] && [ $# -eq 0 ]; then
  cargo fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz --locked
  scripts/fuzz.sh "$fuzz_secs"
fi
# Every architecture: the release build once (dist/, reused by
# tests/release.rs), then the core and supervise tests against each
# architecture's binary under qemu-user (scripts/emulated.sh). A test build of
# a working tree, so uncommitted changes are allowed here.
if [ $# -eq 0 ]; then
  LOCKDROP_RELEASE_DIRTY=1 scripts/release.sh >/dev/null
  scripts/emulated.sh
fi
exec cargo test --release --target "$LOCKDROP_TARGET" "$@"
