#!/usr/bin/env bash
# Where lockdrop's start-up instructions go: callgrind on a build with symbols
# (the shipped binary is stripped), built like scripts/build.sh's shipping
# build (build-std with panic=immediate-abort, static, non-PIE).
#
#   bench/profile.sh            the three start-up paths the bench measures
#   bench/profile.sh ARGS...    lockdrop ARGS under callgrind
#
# valgrind writes nothing for a process that execs (the profile of the image
# being replaced is lost, with or without --trace-children), so the exec paths
# run a command that does not exist: lockdrop does all of its work, execve
# fails with ENOENT, and the profile ends with the error message, whose cost
# shows as its own subtree (lockdrop::report). --supervise keeps its parent,
# so it runs /bin/true for real; the child's file (it execs) stays empty.
#
# Runs with the same fixed 3-variable environment as bench/run.sh's counts.
# Writes bench/.cache/profile/NAME.callgrind (open them with callgrind_annotate
# or kcachegrind) and prints the top functions, inclusive and self.
# BENCH_JOBS (default 1) jobs for the build, into bench/.cache/prof-target.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=$PWD/bench/.cache/profile
mkdir -p "$OUT"
command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind >&2; }
. scripts/target.sh
sysroot=$(rustc --print sysroot)
flags=(--release --target "$LOCKDROP_TARGET" --bin lockdrop -j "${BENCH_JOBS:-1}")
export CARGO_TARGET_DIR=$PWD/bench/.cache/prof-target
export CARGO_PROFILE_RELEASE_STRIP=false CARGO_PROFILE_RELEASE_DEBUG=line-tables-only
if [ -d "$sysroot/lib/rustlib/src/rust/library" ]; then
  RUSTC_BOOTSTRAP=1 RUSTFLAGS="${RUSTFLAGS:-} $LOCKDROP_SHIP_RUSTFLAGS" \
    cargo build "${flags[@]}" $LOCKDROP_BUILD_STD >&2
else
  echo "bench: no rust-src: profiling the plain release build" >&2
  cargo build "${flags[@]}" >&2
fi
BIN=$CARGO_TARGET_DIR/$LOCKDROP_TARGET/release/lockdrop

# Paths from the toolchain and musl's build tree, shortened for reading.
short() { sed -E 's|/build/musl-cross-make/[^ ]*/src_musl/||g; s|/rustc/[0-9a-f]+/library/||g; s|[^ ]*/rustlib/src/rust/library/||g; s| \[[^]]*lockdrop\]||g; s|'"$PWD"'/||g'; }

run() {
  local name=$1; shift
  local file=$OUT/$name.callgrind
  # After --user the process is nobody when valgrind writes the file.
  rm -f "$file"* && : >"$file" && chmod 666 "$file"
  env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=xterm \
    valgrind --tool=callgrind --callgrind-out-file="$file" "$BIN" "$@" \
    >/dev/null 2>"$OUT/$name.log" || true
  echo "== lockdrop $*: $(grep -o 'Collected : [0-9]*' "$OUT/$name.log" | head -1 | tr -d ' ') instructions"
  echo "-- inclusive"
  callgrind_annotate --inclusive=yes "$file" 2>/dev/null | sed -n '/file:function/,$p' | sed -n '3,32p' | short
  echo "-- self"
  callgrind_annotate "$file" 2>/dev/null | sed -n '/file:function/,$p' | sed -n '3,22p' | short
  echo
}
if [ $# -gt 0 ]; then
  run custom "$@"
else
  run exec --exec /nonexistent/true
  run supervise --supervise /bin/true
  run user --user nobody /nonexistent/true
  run memlock --user nobody --memlock 64M /nonexistent/true
fi
