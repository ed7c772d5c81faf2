#!/usr/bin/env bash
# Start-up cost of `lockdrop --user NAME` against the size of the user
# database: /etc/passwd of 10, 1,000 and 100,000 lines with the user on the
# last one, and the user in 1, 100 and 10,000 groups of a 10,000-line
# /etc/group. Fixture files are bind-mounted over /etc in a private mount
# namespace (unshare --mount), so the host's files are never touched.
#
#   bench/growth.sh [LOCKDROP]     (default target/lockdrop; run bench/run.sh
#                                   or scripts/build.sh first)
#
# Prints a markdown table: lockdrop's own instructions (valgrind's count,
# Ir: ptrace single-stepping 100,000 lines would take minutes; valgrind stops
# counting at a successful execve, so the command here is one that does not
# exist and each count ends with the "command not found" message, the same
# ~3,000 instructions in every row), the instructions per passwd line
# scanned (the difference from the 10-line row over the extra lines), and
# the median wall time of 20 real starts of `--user target /bin/true`
# (hyperfine). Needs root and valgrind. Not part of the test suite: nothing
# here asserts.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
L=$(readlink -f "${1:-target/lockdrop}")
BIN=$ROOT/bench/.cache/bin
mkdir -p "$BIN"
command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind >&2; }
W=$(mktemp -d /tmp/lockdrop-growth.XXXXXX)
trap 'rm -rf "$W"' EXIT
chmod 755 "$W"

# passwd with N lines, the user `target` last; group with G lines, `target`
# a member of the first M of them.
make_etc() {
  local dir=$1 n=$2 g=$3 m=$4
  mkdir -p "$dir"
  python3 - "$dir" "$n" "$g" "$m" <<'PY'
import sys
d, n, g, m = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
with open(d + "/passwd", "w") as f:
    f.write("root:x:0:0:root:/root:/bin/bash\n")
    for i in range(n - 2):
        f.write(f"user{i}:x:{10000 + i}:{10000 + i}:User {i}:/home/user{i}:/usr/sbin/nologin\n")
    f.write("target:x:4321:4321:Target:/home/target:/bin/sh\n")
with open(d + "/group", "w") as f:
    f.write("root:x:0:\ntarget:x:4321:\n")
    for i in range(g):
        members = "other,target" if i < m else "other"
        f.write(f"group{i}:x:{200000 + i}:{members}\n")
PY
}

# icount and wall time of CMD... inside a namespace with DIR's files as /etc.
in_etc() {
  local dir=$1; shift
  unshare --mount sh -c 'mount --bind "$1/passwd" /etc/passwd && mount --bind "$1/group" /etc/group && shift && exec "$@"' sh "$dir" "$@"
}

echo "| /etc/passwd lines (user on the last) | groups the user is in (of /etc/group lines) | lockdrop's instructions (valgrind) | per extra passwd line | wall of a start, median of 20 (ms) |"
echo "|---:|---:|---:|---:|---:|"
base_cost=
for spec in "10 10 1" "1000 10 1" "100000 10 1" "10 100 1" "10 1000 100" "10 10000 10000"; do
  read -r n g m <<<"$spec"
  d=$W/etc-$n-$g-$m
  make_etc "$d" "$n" "$g" "$m"
  in_etc "$d" valgrind --tool=callgrind --callgrind-out-file=/dev/null "$L" --user target /nonexistent/true >/dev/null 2>"$d/vg.log" || true
  over=$(grep -o 'Collected : [0-9]*' "$d/vg.log" | grep -o '[0-9]*$')
  per=-
  if [ "$g" = 10 ]; then
    if [ -z "$base_cost" ]; then base_cost=$over; per=-; else per=$(( (over - base_cost) / (n - 10) )); fi
  fi
  wall=$(in_etc "$d" hyperfine -N --style none --runs 20 --warmup 2 --export-json "$d/w.json" "$L --user target /bin/true" >/dev/null 2>&1 \
    && python3 -c "import json,statistics;print('%.2f' % (statistics.median(json.load(open('$d/w.json'))['results'][0]['times'])*1000))")
  printf '| %s | %s (of %s) | %s | %s | %s |\n' "$(printf "%'d" "$n")" "$(printf "%'d" "$m")" "$(printf "%'d" "$g")" "$(printf "%'d" "$over")" "$per" "$wall"
done
