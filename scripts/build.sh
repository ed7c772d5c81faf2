#!/usr/bin/env bash
# Builds the static lockdrop binary (and the probe example) and copies it to
# target/lockdrop. Prefers x86_64-unknown-linux-musl; when that target cannot be
# installed (no access to the Rust distribution server) falls back to the gnu
# target with +crt-static: still static, and lockdrop never uses NSS.
# Usage: scripts/build.sh [extra cargo args]   (prints the binary's path)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/target.sh
cargo build --release --target "$LOCKDROP_TARGET" --bins --examples "$@" >&2
cp "target/$LOCKDROP_TARGET/release/lockdrop" target/lockdrop
cp "target/$LOCKDROP_TARGET/release/examples/probe" target/probe
cp "target/$LOCKDROP_TARGET/release/examples/memlock" target/memlock
echo target/lockdrop
