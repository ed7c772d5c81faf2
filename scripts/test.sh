#!/usr/bin/env bash
# The whole test suite: unit tests, namespace tests, the runc container tier,
# the VM tier. Builds the static binary first (the tiers run it inside
# containers and a VM). Needs root; see .ci/run for the packages.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/target.sh
scripts/deps.sh
# The tiers use the ordinary release build (CARGO_BIN_EXE_lockdrop) and the
# examples; scripts/build.sh adds the size-tuned shipping build on top.
cargo build --release --target "$LOCKDROP_TARGET" --bins --examples
exec cargo test --release --target "$LOCKDROP_TARGET" "$@"
