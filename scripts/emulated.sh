#!/usr/bin/env bash
# Runs the core and supervise integration tests (tests/core.rs,
# tests/supervise.rs) against every architecture's release binary: a foreign
# binary runs under qemu-user-static (LOCKDROP_RUNNER), i686 natively (the
# x86_64 kernel's 32-bit syscall ABI is real, not emulated). The command
# lockdrop starts is the host's probe (qemu-user hands execve of a host
# binary to the kernel), so what is tested is lockdrop's own code on each
# architecture: its syscalls, struct layouts and signal numbers, as qemu
# translates them to the host kernel.
#
#   scripts/emulated.sh                 every architecture built by scripts/cross.sh
#   scripts/emulated.sh aarch64 s390x   some
# Needs root (the tiers do); builds what is missing. Prints one timing line per
# architecture.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/target.sh
arches=("$@")
[ ${#arches[@]} -gt 0 ] || arches=(x86_64 aarch64 armv7l i686 ppc64le riscv64 s390x)
missing=()
for a in "${arches[@]}"; do [ -x "target/cross/bin/lockdrop-$a" ] || missing+=("$a"); done
[ ${#missing[@]} -eq 0 ] || scripts/cross.sh "${missing[@]}" >/dev/null
cargo build --release --target "$LOCKDROP_TARGET" --bins --examples
cargo test --release --target "$LOCKDROP_TARGET" --test core --test supervise --no-run
declare -A QEMU=([aarch64]=qemu-aarch64-static [armv7l]=qemu-arm-static [ppc64le]=qemu-ppc64le-static
                 [riscv64]=qemu-riscv64-static [s390x]=qemu-s390x-static [armv5tel]=qemu-arm-static
                 [x86_64]="" [i686]="")
summary=()
failed=()
for a in "${arches[@]}"; do
  runner=${QEMU[$a]-}
  if [ -n "$runner" ] && ! command -v "$runner" >/dev/null; then
    echo "emulated.sh: $runner missing (Debian qemu-user-static; scripts/deps.sh installs it)" >&2
    exit 1
  fi
  bin="target/cross/bin/lockdrop-$a"
  triple=$(${runner:+$runner} "$bin" --version | sed -n 's/.*, \(.*\))$/\1/p')
  echo "== $a ($triple) ${runner:-native}" >&2
  t0=$(date +%s.%N)
  skip=()
  # What qemu-user cannot express, so these run natively only (x86_64, i686;
  # the arm64 VM tier covers PID 1 on a real arm64 kernel):
  # - prctl(PR_SET_CHILD_SUBREAPER) is unimplemented (EINVAL), so supervise
  #   mode outside PID 1 cannot start;
  # - signal dispositions are emulated inside qemu, so SIG_IGN set by the
  #   emulated lockdrop does not reach a host command it execs;
  # - the terminal's foreground process group is not translated.
  # Not PID 1 (subreaper): the not_pid1_* tests, the own-group, grace-0,
  # job-control and supervisor-isolation tests (a plain child of the test);
  # terminals: the Ctrl-C, Ctrl-Z (bash -i) and foreign-terminal tests.
  [ -n "$runner" ] && for t in not_pid1_grace_kills_the_lingering_grandchild \
      not_pid1_is_a_subreaper_and_reaps_orphans not_pid1_survives_fatal_signals_and_forwards_them \
      pdeathsig_forwards_when_the_parent_dies child_gets_the_callers_mask_and_dispositions \
      ctrl_c_on_a_terminal_reaches_the_child_once terminal_of_another_user_gets_a_new_session \
      the_command_gets_its_own_process_group_without_a_terminal grace_zero_terms_what_the_command_leaves \
      job_control_stops_lockdrop_too_when_not_pid1 the_command_cannot_touch_its_supervisor \
      ctrl_z_in_a_shell_stops_the_job; do
    skip+=(--skip "$t")
  done
  rc=0
  LOCKDROP_BIN="$bin" LOCKDROP_RUNNER="$runner" LOCKDROP_TRIPLE="$triple" \
    cargo test --release --target "$LOCKDROP_TARGET" --no-fail-fast --test core --test supervise -- "${skip[@]}" || rc=$?
  [ $rc -eq 0 ] || failed+=("$a")
  summary+=("$(printf '%-9s %-32s %6d bytes  tests %5.1f s' "$a" "$triple" "$(stat -c %s "$bin")" \
    "$(awk "BEGIN{print $(date +%s.%N) - $t0}")")")
done
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "emulated.sh: tests failed on: ${failed[*]}" >&2
  exit 1
fi
