"""Turns bench/run.sh's measurements into the markdown of bench/results.md.

usage: table.py RUN_DIR MACHINE REV RUNS SIGNALS ORPHANS [LOAD]

RUN_DIR holds rows.txt (name|binary|start-up command|PID-1 prefix|kind, one
per line, in row order), measurements.tsv (row, metric, value) and the
hyperfine exports wall.N.json. Prints the markdown on stdout.
"""
import datetime
import glob
import json
import os
import statistics
import sys

run_dir, machine, rev, runs, signals, orphans = sys.argv[1:7]
load = sys.argv[7] if len(sys.argv) > 7 else None
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(run_dir))))

rows = []
for line in open(os.path.join(run_dir, "rows.txt")):
    name, binary, cmd, prefix, kind = line.rstrip("\n").split("|")
    rows.append({"name": name, "binary": binary, "cmd": cmd, "prefix": prefix, "kind": kind})

values = {}
for line in open(os.path.join(run_dir, "measurements.tsv")):
    i, metric, value = line.rstrip("\n").split("\t")
    if not value.strip():
        continue
    values.setdefault((int(i), metric), []).append(value)


def one(i, metric):
    v = values.get((i, metric))
    return v[0] if v else None


# Start-up: pool every run of every round, then take the median.
times = {}
for path in sorted(glob.glob(os.path.join(run_dir, "wall.*.json"))):
    for result in json.load(open(path))["results"]:
        times.setdefault(int(result["command"]), []).extend(result["times"])

for i, r in enumerate(rows):
    size = one(i, "size")
    r["size"] = int(size) / 1024 if size else None
    r["static"] = one(i, "static")
    r["wall"] = statistics.median(times[i]) * 1e6 if i in times else None
    n = one(i, "instructions")
    r["instr"] = int(n) if n else None
    rss = one(i, "rss")
    r["rss"] = int(rss) if rss else None
    fwd = values.get((i, "fwd"))
    # Each round prints "median p10 p90"; report the median of the rounds' medians.
    r["fwd"] = statistics.median(float(v.split()[0]) for v in fwd) if fwd else None
    # "cpu_us_per_orphan storm_wall_s wakeups_per_orphan"
    reap = one(i, "reap")
    r["reap"] = float(reap.split()[0]) if reap else None
    r["wakes"] = float(reap.split()[2]) if reap else None
    reap_as = one(i, "reap_as")
    r["reap_as"] = float(reap_as.split()[0]) if reap_as else None
    r["wakes_as"] = float(reap_as.split()[2]) if reap_as else None

base = next(r for r in rows if r["kind"] == "base")
floor = next(r for r in rows if r["kind"] == "floor")
spawn_floor = next((r for r in rows if r["kind"] == "floor2"), None)
peers = [r for r in rows if r["kind"] in ("init", "drop")]
for r in rows:
    r["over"] = r["wall"] - base["wall"] if r["wall"] is not None else None
    r["ratio"] = r["wall"] / base["wall"] if r["wall"] is not None else None
    r["iover"] = r["instr"] - base["instr"] if r["instr"] is not None else None


def best(metric):
    vals = [(r[metric], r["name"]) for r in peers if r[metric] is not None]
    return min(vals) if vals else (None, None)


SIZE_BUDGET_KIB = 600
budgets = []  # (row name, what, ok, detail)
marks = {}  # (row index, column) -> ok


def budget(i, column, what, ok, detail):
    marks[(i, column)] = ok
    budgets.append((rows[i]["name"], what, ok, detail))


b_instr, b_instr_name = best("iover")
b_wall, b_wall_name = best("wall")
b_fwd, b_fwd_name = best("fwd")
b_reap, b_reap_name = best("reap")
b_reap_as, b_reap_as_name = best("reap_as")
cata = next((r for r in rows if r["name"] == "catatonit"), None)
for i, r in enumerate(rows):
    if r["kind"] != "lockdrop":
        continue
    budget(i, "size", "static binary ≤ 600 KiB", r["size"] <= SIZE_BUDGET_KIB,
           f"{r['size']:.0f} KiB")
    # Issue 15's instruction budgets for the user switch (catatonit and the
    # inits switch no user; the droppers are the peers there).
    user_budget = {"lockdrop --user nobody": 30_000,
                   "lockdrop --user nobody --memlock 64M": 35_000}.get(r["name"])
    if r["iover"] is not None and user_budget is not None:
        budget(i, "iover", f"start-up instructions ≤ +{user_budget:,} over `/bin/true`",
               r["iover"] <= user_budget, f"{r['iover']:,}")
    elif r["iover"] is not None and b_instr is not None:
        budget(i, "iover", "start-up instructions below every peer", r["iover"] < b_instr,
               f"{r['iover']:,} vs {b_instr:,} ({b_instr_name})")
    if r["name"] == "lockdrop --exec" and r["instr"] is not None and floor["instr"] is not None:
        ratio = r["instr"] / floor["instr"]
        budget(i, "iover", "whole tree within 1.2× the exec-only floor's (`floor /bin/true`)",
               ratio <= 1.2, f"{ratio:.3f}× ({r['instr']:,} vs {floor['instr']:,})")
    if r["wall"] is not None:
        limit = 1.5 * floor["over"]
        ok = r["wall"] < b_wall and r["over"] <= limit
        if floor["over"] <= 0:
            ok = None  # the floor measured no slower than /bin/true: noise won
        spawn = ""
        if spawn_floor and spawn_floor["over"] is not None and "supervise" in r["name"]:
            spawn = (f"; for reference, 1.5 × the spawn floor's overhead is "
                     f"{1.5 * spawn_floor['over']:.0f} µs")
        budget(i, "wall", "start-up below every peer and overhead ≤ 1.5× the floor's", ok,
               f"{r['wall']:.0f} µs vs {b_wall:.0f} µs ({b_wall_name}); overhead "
               f"{r['over']:.0f} µs vs limit {limit:.0f} µs (1.5 × {floor['over']:.0f}){spawn}")
    if r["rss"] is not None and cata and cata["rss"] is not None:
        budget(i, "rss", "supervising RSS below catatonit's", r["rss"] < cata["rss"],
               f"{r['rss']} KiB vs {cata['rss']} KiB")
    if r["fwd"] is not None and b_fwd is not None:
        budget(i, "fwd", "SIGTERM forwarding no slower than the best peer", r["fwd"] <= b_fwd,
               f"{r['fwd']:.1f} µs vs {b_fwd:.1f} µs ({b_fwd_name})")
    if r["reap"] is not None and b_reap is not None:
        budget(i, "reap", "reaping CPU per orphan no worse than the best peer (orphans made "
               "in their own session, alike for all)",
               r["reap"] <= b_reap, f"{r['reap']:.2f} µs vs {b_reap:.2f} µs ({b_reap_name})")
    if r["reap_as"] is not None and b_reap_as is not None:
        budget(i, "reap_as", "the same with the child where each tool puts it",
               r["reap_as"] <= b_reap_as,
               f"{r['reap_as']:.2f} µs vs {b_reap_as:.2f} µs ({b_reap_as_name})")


def mark(ok):
    return "✅" if ok else "❔" if ok is None else "❌"


def cell(i, column, text):
    if (i, column) not in marks:
        return text
    return f"{text} {mark(marks[(i, column)])}"


def fmt(v, spec, dash="—"):
    return dash if v is None else format(v, spec)


out = []
now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
out.append(f"Run {now} on {machine}; lockdrop at commit {rev}"
           + (f"; {load} (other work on the machine makes the wall times noisy)." if load else "."))
out.append(f"Start-up: {runs} runs per command (`hyperfine -N`, rounds in alternating order), "
           f"medians. Signals: {signals} SIGTERMs per init. Reaping: {orphans} orphans.")
out.append("")
out.append("| tool | size (KiB) | static | start-up (µs, median) | × `/bin/true` | overhead (µs) "
           "| instructions over `/bin/true` | supervising RSS (KiB) | SIGTERM forward (µs, median) "
           "| reaping CPU per orphan (µs) | … child where the tool puts it (µs) |")
out.append("|---|---:|:-:|---:|---:|---:|---:|---:|---:|---:|---:|")
for i, r in enumerate(rows):
    if r["kind"] == "base":
        ratio, over, iover = "1.00", "0", f"({r['instr']:,} itself)"
    else:
        ratio = fmt(r["ratio"], ".2f")
        over = fmt(r["over"], ".0f")
        iover = fmt(r["iover"], ",")
    name = f"**{r['name']}**" if r["kind"] == "lockdrop" else r["name"]
    out.append("| " + " | ".join([
        name,
        cell(i, "size", fmt(r["size"], ".0f")),
        r["static"] or "—",
        cell(i, "wall", fmt(r["wall"], ".0f")),
        ratio,
        over,
        cell(i, "iover", iover),
        cell(i, "rss", fmt(r["rss"], "d")),
        cell(i, "fwd", fmt(r["fwd"], ".1f")),
        cell(i, "reap", fmt(r["reap"], ".2f")),
        cell(i, "reap_as", fmt(r["reap_as"], ".2f")),
    ]) + " |")
out.append("")
if budgets:
    met = sum(1 for b in budgets if b[2])
    unknown = sum(1 for b in budgets if b[2] is None)
    out.append(f"Budgets ({met} of {len(budgets)} met"
               + (f", {unknown} not measurable in this run: too noisy" if unknown else "") + "):")
    for name, what, ok, detail in budgets:
        out.append(f"- {mark(ok)} {name}: {what}: {detail}")
    out.append("")
out.append("How to read it: start-up is the median wall time of `TOOL … /bin/true` over all runs, "
           "its overhead the difference from `/bin/true` alone (noisy: a busy machine moves it by "
           "tens of µs; compare rows of the same run only). Instructions are exact and repeatable "
           "(every process of the tree single-stepped with ptrace, minus `/bin/true` alone; each "
           "iteration of a `rep` string instruction counts as one; counted with a fixed "
           "3-variable environment, `env -i PATH=… HOME=/root TERM=xterm`: every variable "
           "costs every tool something, see the environment table below). They do not "
           "depend on the load, unlike every time in this table. RSS is VmRSS of the tool while "
           "its child idles; SIGTERM forward is `kill(tool)` → the child's signalfd wakes (median "
           "of the rounds' medians); reaping is the tool's on-CPU time (schedstat) per "
           "double-forked orphan. The PID-1 columns run the tool as PID 1 of a new PID namespace "
           "around `bench/pid1.c`'s child. `—`: not applicable (the tool execs the command, or "
           "kills its child on SIGTERM instead of forwarding it).")
out.append("")
out.append("Reaping is measured twice because of the kernel's autogroup scheduling "
           "(`sched_autogroup_enabled`): an orphan-maker in a session other than the init's "
           "can make the init wake once per several orphans rather than once per orphan, at a "
           "fraction of the CPU (how much depends on the load; see the wake-ups below). The first column gives every tool that arrangement (the "
           "orphan-maker calls setsid); the second leaves the child where the tool puts it "
           "(dumb-init: a new session; the others: the init's own).")
out.append("")
out.append("Commands timed and counted:")
for r in rows:
    cmd = r["cmd"].replace(root + "/", "")
    out.append(f"- {r['name']}: `{cmd}`")
out.append("")
wakes = ", ".join(f"{r['name']} {r['wakes']:.2f} / {r['wakes_as']:.2f}" for r in rows
                  if r.get("wakes") is not None and r.get("wakes_as") is not None)
if wakes:
    out.append("Wake-ups per orphan (own session / where the tool puts the child): " + wakes + ".")
    out.append("")
out.append("The floor row's SIGTERM figure is the signal sent straight to the child, with no "
           "init in between.")
print("\n".join(out))
