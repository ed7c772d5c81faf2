#!/usr/bin/env bash
# Where lockdrop's start-up instructions go: callgrind on a build with symbols
# (the shipped release profile strips them). callgrind stops at execve, so what
# it counts is lockdrop's own cost, the command excluded.
#
#   bench/profile.sh [LOCKDROP ARGS...]    default: --exec /bin/true, then
#                                          --user nobody --memlock 64M /bin/true
#
# Writes bench/.cache/profile/*.callgrind and prints the top functions
# (inclusive and self) of each. Builds into bench/.cache/prof-target with one
# job so it leaves the shared target/ and the other core alone.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=bench/.cache/profile
mkdir -p "$OUT"
command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind; }
. scripts/target.sh
# Same profile as the shipped binary (opt-level, LTO, panic=abort), plus symbols.
CARGO_TARGET_DIR=$PWD/bench/.cache/prof-target \
CARGO_PROFILE_RELEASE_STRIP=false \
CARGO_PROFILE_RELEASE_DEBUG=line-tables-only \
  cargo build -j1 --release --target "$LOCKDROP_TARGET" --bin lockdrop >&2
BIN=$PWD/bench/.cache/prof-target/$LOCKDROP_TARGET/release/lockdrop

run() {
  local name=$1; shift
  valgrind --tool=callgrind --callgrind-out-file="$OUT/$name.callgrind" \
    --dump-instr=no --collect-jumps=no "$BIN" "$@" >/dev/null 2>"$OUT/$name.log" || true
  echo "== lockdrop $* : $(grep -o 'Collected : [0-9]*' "$OUT/$name.log" | head -1)"
  echo "-- inclusive"
  callgrind_annotate --inclusive=yes --threshold=99 "$OUT/$name.callgrind" 2>/dev/null \
    | sed -n '/^Ir/,$p' | sed -n '3,30p'
  echo "-- self"
  callgrind_annotate --threshold=99 "$OUT/$name.callgrind" 2>/dev/null \
    | sed -n '/^Ir/,$p' | sed -n '3,25p'
}
if [ $# -gt 0 ]; then
  run custom "$@"
else
  run exec --exec /bin/true
  run user --user nobody --memlock 64M /bin/true
fi
