#!/usr/bin/env bash
# Fuzzes every parser for SECONDS each (default 60; CI runs `scripts/fuzz.sh 10`).
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]     (targets: `cargo fuzz list` in fuzz/)
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`) and nightly features: with only
# a stable toolchain RUSTC_BOOTSTRAP=1 enables them (set here). Seeds live in
# fuzz/corpus/<target>/ and stay small and committed; what the fuzzer learns
# goes to fuzz/target/corpus/<target>/ (ignored by git, kept between runs).
# A crash fails the script (after the other targets ran) with the input saved
# under fuzz/artifacts/<target>/:
# reproduce it with `cargo fuzz run -O -a <target> <file>` (in fuzz/) and turn it
# into a unit test beside the parser and a case in tests/hardening.rs.
# FUZZ_JOBS=N fuzzes each target with N processes (libFuzzer -fork; default 1).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
secs="${1:-60}"
shift || true
export RUSTC_BOOTSTRAP=1
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz.sh: cargo-fuzz is missing: cargo install cargo-fuzz" >&2
  exit 1
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo fuzz list)
fi
# One build for all targets (release, debug assertions on, address sanitizer).
cargo fuzz build -O -a >&2
bin_dir="target/$(rustc -vV | sed -n 's/^host: //p')/release"
start=$(date +%s)
failed=()
for t in "${targets[@]}"; do
  work="target/corpus/$t"
  mkdir -p "$work" "artifacts/$t"
  echo "== $t: ${secs}s" >&2
  # -max_len: every input lockdrop parses is a line, an argv or a small file.
  log="target/fuzz-$t.log"
  par=()
  if [ "${FUZZ_JOBS:-1}" -gt 1 ]; then
    par=(-fork="$FUZZ_JOBS")
  fi
  # The binary directly, not `cargo fuzz run`: that re-checks the build for
  # every target (seconds each). Same options as cargo-fuzz passes.
  if ! ASAN_OPTIONS="${ASAN_OPTIONS:-detect_odr_violation=0}" "$bin_dir/$t" \
      -artifact_prefix="$PWD/artifacts/$t/" \
      -max_total_time="$secs" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 "${par[@]}" "$work" "corpus/$t" >"$log" 2>&1; then
    grep -a -A3 -m1 -E 'panicked at|ERROR: (AddressSanitizer|libFuzzer)' "$log" >&2 || tail -n 20 "$log" >&2
    echo "   $t FAILED: input in fuzz/$(ls -t artifacts/$t/* 2>/dev/null | head -n 1) (log: fuzz/$log)" >&2
    failed+=("$t")
    continue
  fi
  execs=$(grep -a -h '^stat::number_of_executed_units' "$log" | awk '{s+=$2} END {print s+0}')
  cov=$(grep -a -o 'cov: [0-9]*' "$log" | tail -n 1 || true)
  echo "   $t ok: $execs execs, $cov, corpus $(ls "$work" | wc -l) inputs" >&2
done
# The plan and doctor targets write fixture files per process.
rm -rf /dev/shm/lockdrop-fuzz-* "${TMPDIR:-/tmp}"/lockdrop-fuzz-*
took=$(( $(date +%s) - start ))
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: ${#failed[@]} of ${#targets[@]} targets FAILED in ${took}s: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz.sh: ${#targets[@]} targets clean in ${took}s" >&2
