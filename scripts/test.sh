#!/usr/bin/env bash
# The whole test suite: unit tests, namespace tests, the runc container tier,
# the VM tier. Builds the static binary first (the tiers run it inside
# containers and a VM). Needs root; see .ci/run for the packages.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/target.sh
scripts/deps.sh
scripts/build.sh >/dev/null
exec cargo test --release --target "$LOCKDROP_TARGET" "$@"
