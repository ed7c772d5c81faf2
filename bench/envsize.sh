#!/usr/bin/env bash
# Start-up instructions against the size of the environment: 3, 30 and 300
# variables (PATH and HOME, then VAR_N=value-N), for /bin/true alone, the
# exec-only floor, catatonit and lockdrop's exec paths. Each count is the
# whole tree (ptrace single-stepped, bench/icount.c), started by `env -i`
# so only the listed variables are set.
#
#   bench/envsize.sh [LOCKDROP]   (default target/lockdrop)
#
# Prints a markdown table: instructions over `/bin/true` with the same
# environment, and lockdrop --exec's whole tree as a multiple of the floor's
# whole tree (`floor /bin/true`). Needs root (the --user rows drop to
# nobody). Not part of the test suite: nothing here asserts.
set -euo pipefail
cd "$(dirname "$0")/.."
L=$(readlink -f "${1:-target/lockdrop}")
BIN=$PWD/bench/.cache/bin
mkdir -p "$BIN"
[ -x "$BIN/icount" ] || gcc -O2 -Wall -o "$BIN/icount" bench/icount.c
if [ ! -x "$BIN/floor" ]; then
  cc=gcc; command -v musl-gcc >/dev/null && cc=musl-gcc
  "$cc" -static -O2 -s -o "$BIN/floor" bench/floor.c
fi
CATATONIT=$(command -v catatonit || true)

environment() {
  echo "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
  echo "HOME=/root"
  for i in $(seq 3 "$1"); do echo "VAR_$i=value-$i"; done
}
count() { env -i "${E[@]}" "$BIN/icount" "$@" 2>/dev/null; }

echo "| variables | \`/bin/true\` itself | floor (exec only) | catatonit | lockdrop --exec | --exec whole tree ÷ floor's | lockdrop --user nobody | … --memlock 64M |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
for n in 3 30 300; do
  mapfile -t E < <(environment "$n")
  t=$(count /bin/true)
  f=$(count "$BIN/floor" /bin/true)
  c=-
  [ -n "$CATATONIT" ] && c=$(( $(count "$CATATONIT" -- /bin/true) - t ))
  x=$(count "$L" --exec /bin/true)
  u=$(count "$L" --user nobody /bin/true)
  m=$(count "$L" --user nobody --memlock 64M /bin/true)
  ratio=$(python3 -c "print(f'{$x / $f:.3f}')")
  printf "| %s | %'d | %'d | %'d | %'d | %s | %'d | %'d |\n" "$n" "$t" $((f - t)) "$c" $((x - t)) "$ratio" $((u - t)) $((m - t))
done
