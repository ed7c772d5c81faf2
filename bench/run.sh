#!/usr/bin/env bash
# lockdrop's benchmark against the entrypoints users pick instead: the inits
# tini, dumb-init and catatonit, the privilege droppers gosu, setpriv, runuser
# and su, and a static C program that only execs its argument (the floor).
#
#   bench/run.sh            full run: about 5 minutes, plus about 5 the first
#                           time, while the peers' instruction counts are not
#                           cached yet (bench/.cache/, by binary sha256)
#   bench/run.sh --quick    fewer runs, signals and orphans, for trying it out
#
# Prints one markdown table (and the budgets below it), then the tables of
# bench/envsize.sh (instructions against the environment's size) and
# bench/growth.sh (against the size of /etc/passwd and /etc/group), and
# writes the same to bench/results.md. Needs root (PID namespaces, ptrace of set-uid tools,
# dropping to nobody). Not part of the test suite: nothing here asserts.
#
# Knobs (environment): BENCH_RUNS (start-ups timed per command, default 300),
# BENCH_ROUNDS (hyperfine rounds the start-ups are split over, in
# alternating order so a burst of load hits every tool alike; default 30),
# BENCH_SIGNAL_ROUNDS (the same for the signals, default 10),
# BENCH_SIGNALS (SIGTERMs per init, default 300), BENCH_ORPHANS (default
# 20000), BENCH_JOBS (instruction counts run at once, default 2),
# BENCH_NO_LOCKDROP=1 (peers only, when lockdrop does not build),
# BENCH_NO_TABLES=1 (skip the environment and user-database tables).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BENCH=$ROOT/bench
CACHE=$BENCH/.cache
BIN=$CACHE/bin
RUN=$CACHE/run
RUNS=${BENCH_RUNS:-300}
ROUNDS=${BENCH_ROUNDS:-30}
SIGNAL_ROUNDS=${BENCH_SIGNAL_ROUNDS:-10}
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
SIGNALS=${BENCH_SIGNALS:-300}
ORPHANS=${BENCH_ORPHANS:-20000}
if [ "${1:-}" = --quick ]; then
  RUNS=${BENCH_RUNS:-60}; SIGNALS=${BENCH_SIGNALS:-60}; ORPHANS=${BENCH_ORPHANS:-2000}
fi

say() { echo "bench: $*" >&2; }
[ "$(id -u)" = 0 ] || { say "must run as root (PID namespaces, ptrace, dropping to nobody)"; exit 1; }

# --- what it needs, installed from Debian only when missing ----------------
need=()
want() { command -v "$1" >/dev/null 2>&1 || need+=("$2"); }
want hyperfine hyperfine
want valgrind valgrind
want tini tini
want tini-static tini
want dumb-init dumb-init
want catatonit catatonit
want gosu gosu
want setpriv util-linux
want runuser util-linux
want su util-linux
want unshare util-linux
want gcc gcc
want readelf binutils
want sha256sum coreutils
want python3 python3
want musl-gcc musl-tools
[ -e /usr/include/stdio.h ] || need+=(libc6-dev)
if [ ${#need[@]} -gt 0 ]; then
  mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
  say "installing ${need[*]}"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2
fi

# --- the helpers and lockdrop ----------------------------------------------
mkdir -p "$BIN" "$CACHE/icount"
rm -rf "$RUN"; mkdir -p "$RUN"
gcc -O2 -Wall -o "$BIN/icount" "$BENCH/icount.c"
gcc -O2 -Wall -o "$BIN/pid1" "$BENCH/pid1.c"
CC_STATIC=gcc
command -v musl-gcc >/dev/null && CC_STATIC=musl-gcc
for f in floor floor-spawn; do
  "$CC_STATIC" -static -O2 -s -o "$BIN/$f" "$BENCH/$f.c"
done
# The drop-to-nobody tools run pid1 as nobody: it must be reachable.
chmod 755 "$CACHE" "$BIN"

LOCKDROP=
if [ -z "${BENCH_NO_LOCKDROP:-}" ]; then
  say "building lockdrop (scripts/build.sh)"
  scripts/build.sh >/dev/null 2>"$RUN/build.log" || { cat "$RUN/build.log" >&2; exit 1; }
  LOCKDROP=$ROOT/target/lockdrop
fi
P=$BIN/pid1

# --- the rows ---------------------------------------------------------------
# name | binary | start-up command (ends in /bin/true) | PID-1 prefix (the
# child command is appended; empty: the tool does not stay as a parent) |
# kind: base, floor (exec only), floor2 (spawn), init, drop (privilege
# droppers), lockdrop
ROWS=()
row() { ROWS+=("$1|$2|$3|$4|$5"); }
row "/bin/true alone" /bin/true "/bin/true" "" base
row "floor (exec only, static C)" "$BIN/floor" "$BIN/floor /bin/true" "" floor
row "spawn floor (vfork+exec+wait, static C)" "$BIN/floor-spawn" "$BIN/floor-spawn /bin/true" "" floor2
row "tini (Debian)" "$(command -v tini)" "tini -s -- /bin/true" "tini --" init
row "tini-static" "$(command -v tini-static)" "tini-static -s -- /bin/true" "tini-static --" init
row "dumb-init" "$(command -v dumb-init)" "dumb-init /bin/true" "dumb-init" init
row "catatonit" "$(command -v catatonit)" "catatonit -- /bin/true" "catatonit --" init
row "gosu" "$(command -v gosu)" "gosu nobody /bin/true" "" drop
row "setpriv" "$(command -v setpriv)" "setpriv --reuid nobody --regid nogroup --init-groups /bin/true" "" drop
row "runuser" "$(command -v runuser)" "runuser -u nobody -- /bin/true" "runuser -u nobody --" drop
row "su" "$(command -v su)" "su -s /bin/true nobody" "su -s $P nobody" drop
if [ -n "$LOCKDROP" ]; then
  row "lockdrop --exec" "$LOCKDROP" "$LOCKDROP --exec /bin/true" "" lockdrop
  row "lockdrop --supervise" "$LOCKDROP" "$LOCKDROP --supervise /bin/true" "$LOCKDROP --supervise --" lockdrop
  row "lockdrop --user nobody" "$LOCKDROP" "$LOCKDROP --user nobody /bin/true" "" lockdrop
  row "lockdrop --user nobody --memlock 64M" "$LOCKDROP" "$LOCKDROP --user nobody --memlock 64M /bin/true" "" lockdrop
fi

# Everything measured goes to one TSV: row index, metric, value.
OUT=$RUN/measurements.tsv
: >"$OUT"
put() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$OUT"; }
field() { local IFS='|'; read -r -a F <<<"$1"; }

# --- 1. size and linkage ----------------------------------------------------
for i in "${!ROWS[@]}"; do
  field "${ROWS[$i]}"
  real=$(readlink -f "${F[1]}")
  put "$i" size "$(stat -c %s "$real")"
  if readelf -lW "$real" | grep -q 'program interpreter'; then put "$i" static no; else put "$i" static yes; fi
done

# --- 2. start-up wall time: hyperfine -N, rounds in alternating order --------
per_round=$(( (RUNS + ROUNDS - 1) / ROUNDS ))
for r in $(seq 1 "$ROUNDS"); do
  say "start-up wall time, round $r/$ROUNDS ($per_round runs per command)"
  args=()
  order=("${!ROWS[@]}")
  if [ $((r % 2)) = 0 ]; then mapfile -t order < <(printf '%s\n' "${order[@]}" | tac); fi
  for i in "${order[@]}"; do
    field "${ROWS[$i]}"
    args+=(-n "$i" "${F[2]}")
  done
  hyperfine -N --style none --warmup 2 --runs "$per_round" \
    --export-json "$RUN/wall.$r.json" "${args[@]}" >"$RUN/hyperfine.$r.log" 2>&1 \
    || { cat "$RUN/hyperfine.$r.log" >&2; exit 1; }
done

# --- 3. instructions of the whole tree (ptrace single-stepping), cached ------
# About 25 us per instruction here: su, runuser and gosu take 2-3 minutes each
# the first time, so uncached counts run BENCH_JOBS (default 2) at a time.
# Every count runs with the same fixed 3-variable environment (each variable
# costs every tool something; bench/envsize.sh shows how much).
ENV3=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=xterm)
libc_sum=$(sha256sum /lib/x86_64-linux-gnu/libc.so.6 2>/dev/null | cut -c1-16 || echo none)
declare -A cached_of
for i in "${!ROWS[@]}"; do
  field "${ROWS[$i]}"
  # The key: the binary, the C library the dynamic peers load, the command line.
  key=$(sha256sum "$(readlink -f "${F[1]}")" | cut -c1-32)-$libc_sum-$(printf '%s' "env3 ${F[2]}" | sed "s|$ROOT|ROOT|g" | sha256sum | cut -c1-16)
  cached_of[$i]=$CACHE/icount/$key
  [ -s "${cached_of[$i]}" ] && continue
  say "counting instructions of: ${F[2]} (single-stepping, not cached yet)"
  while [ "$(jobs -rp | wc -l)" -ge "${BENCH_JOBS:-2}" ]; do wait -n || true; done
  # shellcheck disable=SC2086 # the command is a word list on purpose
  ( env -i "${ENV3[@]}" "$BIN/icount" -v ${F[2]} >"${cached_of[$i]}.tmp" 2>"${cached_of[$i]}.log" \
      && mv "${cached_of[$i]}.tmp" "${cached_of[$i]}" ) &
done
wait
for i in "${!ROWS[@]}"; do
  if [ -s "${cached_of[$i]}" ]; then
    put "$i" instructions "$(cat "${cached_of[$i]}")"
    cp "${cached_of[$i]}.log" "$RUN/icount.$i.log" 2>/dev/null || true
  else
    field "${ROWS[$i]}"; say "failed: icount ${F[2]}"
  fi
done

# --- 4-6. as PID 1 of a new PID namespace ------------------------------------
# A tool that fails here (or does not stay a parent) gets a dash, not an abort.
pid1() { local v; if v=$("$P" "$@"); then echo "$v"; else say "failed: pid1 $*"; return 1; fi; }
# shellcheck disable=SC2086 # the PID-1 prefixes are word lists on purpose
{
inits=()
for i in "${!ROWS[@]}"; do
  field "${ROWS[$i]}"
  [ -n "${F[3]}" ] || continue
  say "supervising RSS: ${F[0]}"
  v=$(pid1 rss -- ${F[3]} "$P" idle) && put "$i" rss "$v"
  # su and runuser kill their child on SIGTERM rather than forwarding it.
  [ "${F[4]}" = drop ] || inits+=("$i")
done
# Signals: rounds outside, tools inside, so a burst of load hits every tool.
# The floor row (1) gets the signal sent straight to the child.
per=$(( (SIGNALS + SIGNAL_ROUNDS - 1) / SIGNAL_ROUNDS ))
for r in $(seq 1 "$SIGNAL_ROUNDS"); do
  say "SIGTERM forwarding, round $r/$SIGNAL_ROUNDS ($per signals per init)"
  for i in "${inits[@]}"; do
    field "${ROWS[$i]}"
    v=$(pid1 fwd -n "$per" -- ${F[3]} "$P" sig) && put "$i" fwd "$v"
  done
  v=$(pid1 fwd -n "$per" -d -- "$P" sig) && put 1 fwd "$v"
done
# Reaping twice: the orphan-maker in its own session (the same scheduling
# arrangement for every tool), then wherever the tool puts its child
# (dumb-init: a new session; the rest: the init's own). See pid1.c.
for arrangement in own as; do
  for i in "${inits[@]}"; do
    field "${ROWS[$i]}"
    say "reaping $ORPHANS orphans ($arrangement): ${F[0]}"
    if [ "$arrangement" = own ]; then
      v=$(pid1 reap -n "$ORPHANS" -- ${F[3]} "$P" storm "$ORPHANS" own) && put "$i" reap "$v"
    else
      v=$(pid1 reap -n "$ORPHANS" -- ${F[3]} "$P" storm "$ORPHANS") && put "$i" reap_as "$v"
    fi
  done
done
}

# --- the table --------------------------------------------------------------
{
  printf '%s\n' "${ROWS[@]}" >"$RUN/rows.txt"
  load="load average $LOAD_START at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end"
  machine="$(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), Linux $(uname -r)"
  rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
  python3 "$BENCH/table.py" "$RUN" "$machine" "$rev" "$RUNS" "$SIGNALS" "$ORPHANS" "$load"
  if [ -n "$LOCKDROP" ] && [ -z "${BENCH_NO_TABLES:-}" ]; then
    say "instructions against the environment's size (bench/envsize.sh)"
    echo
    echo "### Start-up instructions against the size of the environment"
    echo
    "$BENCH/envsize.sh" "$LOCKDROP"
    echo
    echo "Whole trees counted as above, started by \`env -i\` with PATH, HOME and VAR_3… VAR_N; columns after the first two are over \`/bin/true\` with the same environment."
    say "start-up against the size of the user database (bench/growth.sh)"
    echo
    echo "### Start-up against the size of the user database"
    echo
    "$BENCH/growth.sh" "$LOCKDROP"
    echo
    echo "Fixture /etc/passwd and /etc/group bind-mounted in a private mount namespace (bench/growth.sh): passwd lines of about 65 bytes (\`userN:x:10N:10N:User N:/home/userN:/usr/sbin/nologin\`), the user on the last line; group lines \`groupN:x:GID:other,target\` for the user's groups, \`…:other\` for the rest."
  fi
} >"$BENCH/results.md.tmp"
mv "$BENCH/results.md.tmp" "$BENCH/results.md"
cat "$BENCH/results.md"
