//! `--doctor`: a report of the environment for the person debugging a
//! crash-looping pod: identity, capability sets, rlimits with the memlock
//! verdict, namespaces and PID-1 facts, the kernel tunables JVM services
//! trip over, and cgroup limits. Everything is read through the host view
//! (so fixture trees test it); anything missing prints "unavailable" and
//! nothing here fails. Each row that is a problem says so and why. Changes
//! nothing; deciding whether a start may proceed is `check`'s job.
use crate::error::Result;
use crate::host::Host;
use crate::model::caps::{self, CapSet};
use crate::model::rlimits::{self, fmt_bytes, Resource, INFINITY};
use crate::model::users;
use crate::parse::profiles;
use crate::report::json::{self, Value};

const UNAVAILABLE: &str = "unavailable";

/// One line of the report.
pub struct Row {
    pub key: String,
    pub text: String,
    pub value: Value,
    pub problem: Option<String>,
}

pub struct Section {
    pub name: &'static str,
    pub rows: Vec<Row>,
}

fn row(key: &str, text: impl Into<String>, value: impl Into<Value>) -> Row {
    Row {
        key: key.to_string(),
        text: text.into(),
        value: value.into(),
        problem: None,
    }
}

fn unavailable(key: &str, why: &str) -> Row {
    row(key, format!("{} ({})", UNAVAILABLE, why), Value::Null)
}

impl Row {
    fn problem(mut self, why: impl Into<String>) -> Row {
        self.problem = Some(why.into());
        self
    }
    fn problem_if(self, cond: bool, why: impl FnOnce() -> String) -> Row {
        if cond {
            self.problem(why())
        } else {
            self
        }
    }
}

pub fn run(host: &Host, json: bool) -> Result<i32> {
    let sections = report(host);
    crate::msg::stdout(&if json {
        to_json(&sections) + "\n"
    } else {
        to_text(&sections)
    });
    Ok(0)
}

/// The whole report, as data (both outputs are rendered from it).
pub fn report(host: &Host) -> Vec<Section> {
    let status = Status(host.read("/proc/self/status").ok());
    vec![
        Section {
            name: "identity",
            rows: identity(host, &status),
        },
        Section {
            name: "capabilities",
            rows: capabilities(host),
        },
        Section {
            name: "limits",
            rows: limits(host),
        },
        Section {
            name: "process",
            rows: process(host, &status),
        },
        Section {
            name: "sysctl",
            rows: sysctls(host),
        },
        Section {
            name: "cgroup",
            rows: cgroups(host),
        },
    ]
}

/// A system string made safe for a terminal: control characters (C0, DEL,
/// C1, which start escape sequences) and backslashes as `\xNN` / `\u{..}`;
/// everything else, including non-ASCII text, unchanged.
pub fn escape(s: &str) -> std::borrow::Cow<'_, str> {
    // Bidirectional overrides too: they reorder what the operator reads.
    let bad = |c: char| {
        c.is_control()
            || c == '\\'
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !s.chars().any(bad) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut o = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x80 && c.is_control() => o.push_str(&format!("\\x{:02x}", c as u32)),
            c if bad(c) => o.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => o.push(c),
        }
    }
    std::borrow::Cow::Owned(o)
}

pub fn to_text(sections: &[Section]) -> String {
    let mut s = String::new();
    let mut problems = 0;
    for sec in sections {
        s.push_str(sec.name);
        s.push('\n');
        for r in &sec.rows {
            // Keys and texts carry strings read from the system (PID 1's
            // comm, mount options, cgroup paths): escaped, so that they
            // cannot drive the operator's terminal.
            s.push_str(&format!("  {:<30} {}\n", escape(&r.key), escape(&r.text)));
            if let Some(p) = &r.problem {
                problems += 1;
                s.push_str(&format!("  {:<30} PROBLEM: {}\n", "", escape(p)));
            }
        }
    }
    s.push_str(&match problems {
        0 => "no problems found\n".to_string(),
        1 => "1 problem\n".to_string(),
        n => format!("{} problems\n", n),
    });
    s
}

pub fn to_json(sections: &[Section]) -> String {
    let mut doc = Value::obj();
    let mut problems = Vec::new();
    for sec in sections {
        let mut o = Value::obj();
        for r in &sec.rows {
            o.push(&r.key, r.value.clone());
            if let Some(p) = &r.problem {
                problems.push(
                    Value::obj()
                        .with("section", sec.name)
                        .with("key", r.key.as_str())
                        .with("problem", p.as_str()),
                );
            }
        }
        doc.push(sec.name, o);
    }
    doc.push("problems", Value::Arr(problems));
    doc.to_json()
}

/// /proc/self/status, field by field.
struct Status(Option<String>);

impl Status {
    fn field(&self, name: &str) -> Option<&str> {
        self.0.as_deref()?.lines().find_map(|l| {
            l.strip_prefix(name)
                .and_then(|r| r.strip_prefix(':'))
                .map(str::trim)
        })
    }
    fn numbers(&self, name: &str) -> Option<Vec<u64>> {
        self.field(name)?
            .split_whitespace()
            .map(|n| n.parse().ok())
            .collect()
    }
}

/// a as a percentage of b, without overflow (values come from files that
/// may hold anything up to 2^64-1).
fn percent(a: u64, b: u64) -> u64 {
    if b == 0 {
        0
    } else {
        (a as u128 * 100 / b as u128).min(u64::MAX as u128) as u64
    }
}

fn identity(host: &Host, status: &Status) -> Vec<Row> {
    let passwd = host.read("/etc/passwd").ok().unwrap_or_default();
    let group = host.read("/etc/group").ok().unwrap_or_default();
    let user_name = |id: u64| {
        users::parse_passwd(passwd.as_bytes())
            .find(|e| e.uid as u64 == id)
            .map(|e| e.name)
    };
    let group_name = |id: u64| {
        users::parse_group(group.as_bytes())
            .find(|e| e.gid as u64 == id)
            .map(|e| e.name)
    };
    let named = |id: u64, name: Option<String>| match name {
        Some(n) => format!("{} ({})", id, n),
        None => id.to_string(),
    };
    let mut rows = Vec::new();
    for (key, field, lookup) in [
        ("uid", "Uid", &user_name as &dyn Fn(u64) -> Option<String>),
        ("gid", "Gid", &group_name),
    ] {
        let ids = status
            .numbers(field)
            .filter(|v| v.len() >= 3)
            .unwrap_or_else(|| {
                // No /proc: what the syscalls say (real and effective only).
                let (r, e) = if key == "uid" {
                    (host.uid, host.euid)
                } else {
                    (host.gid, host.gid)
                };
                vec![r as u64, e as u64, e as u64]
            });
        rows.push(row(
            key,
            format!(
                "{}, effective {}, saved {}",
                named(ids[0], lookup(ids[0])),
                ids[1],
                ids[2]
            ),
            Value::obj()
                .with("real", ids[0])
                .with("effective", ids[1])
                .with("saved", ids[2])
                .with("name", lookup(ids[0])),
        ));
    }
    match status.numbers("Groups") {
        Some(g) => {
            let text = if g.is_empty() {
                "none".to_string()
            } else {
                g.iter()
                    .map(|id| named(*id, group_name(*id)))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            rows.push(row("groups", text, g));
        }
        None => rows.push(unavailable("groups", "no /proc/self/status")),
    }
    rows
}

fn capabilities(host: &Host) -> Vec<Row> {
    let c = host.caps();
    let set = |key: &str, s: CapSet| {
        let names: Vec<String> = s.iter().map(|c| c.upper()).collect();
        let text = if s.is_empty() {
            "none".to_string()
        } else if names.len() > 8 {
            // Long sets read better as what is missing from the full list.
            let all = CapSet((1u64 << caps::NAMES.len()) - 1);
            let missing = all.minus(s);
            if missing.is_empty() {
                format!("all {}", names.len())
            } else {
                format!("all but {} ({} caps)", missing.names(), names.len())
            }
        } else {
            s.names()
        };
        row(key, text, names)
    };
    let userns = host.in_user_namespace() == Some(true);
    vec![
        set("effective", c.effective),
        set("permitted", c.permitted),
        set("inheritable", c.inheritable),
        set("bounding", c.bounding),
        set("ambient", c.ambient)
            .problem_if(!c.ambient.is_empty() && !userns && host.euid != 0, || {
                "ambient capabilities are inherited by every program this process runs".into()
            }),
    ]
}

/// The soft limit Elasticsearch's bootstrap checks demand for `r` (the
/// profile owns the number).
fn es_needs(r: Resource) -> Option<u64> {
    profiles::find("elasticsearch")?.rlimit_min(r)
}

fn limits(host: &Host) -> Vec<Row> {
    // The full capability state first: the report shows every set.
    host.caps();
    let userns = host.in_user_namespace() == Some(true);
    let can_raise = host.can_raise_hard_limits();
    let mut rows = Vec::new();
    for r in Resource::all() {
        let key = r.name();
        let Some(l) = host.limit_opt(r) else {
            rows.push(unavailable(key, "getrlimit failed"));
            continue;
        };
        let f = |v: u64| {
            // Limits counted in bytes (getrlimit(2)): fsize, data, stack, rss, memlock, as, msgqueue.
            if matches!(r.0, 1 | 2 | 3 | 5 | 8 | 9 | 12) {
                fmt_bytes(v)
            } else {
                rlimits::fmt_value(v)
            }
        };
        let row = row(
            key,
            format!("soft {}, hard {}", f(l.soft), f(l.hard)),
            Value::obj()
                .with("soft", json::limit(l.soft))
                .with("hard", json::limit(l.hard)),
        );
        let low = |want: u64| l.hard != INFINITY && l.hard < want && !can_raise;
        let row = match (r, es_needs(r)) {
            (rlimits::NOFILE, Some(n)) => row.problem_if(low(n), || {
                format!("hard limit below {n} (Elasticsearch and OpenSearch refuse to start) and raising it needs CAP_SYS_RESOURCE{}: docker run --ulimit nofile={n}:{n}", if userns { " outside a user namespace" } else { "" })
            }),
            (rlimits::NPROC, Some(n)) => row.problem_if(low(n), || {
                format!("hard limit below {n} threads (Elasticsearch's bootstrap check) and it cannot be raised here: docker run --ulimit nproc={n}:{n}")
            }),
            _ => row,
        };
        rows.push(row);
    }
    rows.push(memlock_verdict(host, can_raise));
    rows
}

/// "An unprivileged child can lock N bytes: via rlimit / via ambient
/// IPC_LOCK / no". CAP_IPC_LOCK makes mlock(2) ignore RLIMIT_MEMLOCK, and
/// lockdrop can keep it as an ambient capability across the user switch.
/// mlock(2) asks capable(CAP_IPC_LOCK), i.e. in the initial user namespace:
/// inside any other one the capability does not lift the limit.
fn memlock_verdict(host: &Host, can_raise: bool) -> Row {
    let ipc = host.ipc_lock_lifts_memlock();
    let hard = host.limit_opt(rlimits::MEMLOCK).map(|l| l.hard);
    let (bytes, via) = match hard {
        Some(h) if h == INFINITY || can_raise => (INFINITY, "rlimit"),
        _ if ipc => (INFINITY, "ambient IPC_LOCK"),
        Some(h) if h > 0 => (h, "rlimit"),
        _ => (0, "no"),
    };
    let mut text = format!(
        "an unprivileged child can lock {}: {}",
        if bytes == INFINITY {
            "unlimited bytes".to_string()
        } else {
            format!("{} bytes ({})", bytes, fmt_bytes(bytes))
        },
        if via == "no" {
            "no".to_string()
        } else {
            format!("via {}", via)
        }
    );
    if via == "ambient IPC_LOCK" {
        if let Some(h) = hard {
            text.push_str(&format!(
                " (RLIMIT_MEMLOCK alone allows {}; lockdrop --memlock keeps CAP_IPC_LOCK)",
                fmt_bytes(h)
            ));
        }
    }
    row(
        "memlock verdict",
        text,
        Value::obj()
            .with("bytes", json::limit(bytes))
            .with("via", via),
    )
    .problem_if(bytes != INFINITY, || {
        "locking a JVM heap (bootstrap.memory_lock, Cassandra's mlockall) will fail: docker run --cap-add IPC_LOCK (or --ulimit memlock=-1:-1); kubernetes: capabilities.add: [\"IPC_LOCK\"]".into()
    })
}

fn process(host: &Host, status: &Status) -> Vec<Row> {
    let mut rows = Vec::new();
    match host.read("/proc/self/uid_map") {
        Ok(map) => {
            let lines: Vec<String> = map
                .lines()
                .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
                .filter(|l| !l.is_empty())
                .collect();
            let initial = lines == ["0 0 4294967295"];
            rows.push(row(
                "user namespace",
                if initial {
                    "no (initial namespace, uid_map 0 0 4294967295)".to_string()
                } else {
                    format!(
                        "yes (uid_map {}): no capability here can raise a hard rlimit",
                        lines.join("; ")
                    )
                },
                Value::obj()
                    .with("in_user_namespace", !initial)
                    .with("uid_map", lines),
            ));
        }
        Err(e) => rows.push(unavailable(
            "user namespace",
            &format!("/proc/self/uid_map: {}", e),
        )),
    }
    let nspid = status
        .numbers("NSpid")
        .and_then(|v| v.last().copied())
        .or_else(|| (host.root == std::path::Path::new("/")).then_some(host.pid as u64));
    let pid1 = host.read("/proc/1/comm").ok().map(|s| s.trim().to_string());
    match nspid {
        Some(p) => rows.push(row(
            "pid",
            if p == 1 {
                "1: this process is PID 1 of its namespace (it must reap zombies and forward signals: lockdrop supervises by default)".to_string()
            } else {
                format!("{} (PID 1 is {})", p, pid1.clone().unwrap_or_else(|| UNAVAILABLE.into()))
            },
            Value::obj().with("pid", p).with("pid1", pid1),
        )),
        None => rows.push(unavailable("pid", "no /proc/self/status")),
    }
    match host.subreaper() {
        Some(s) => rows.push(row("child subreaper", if s { "yes" } else { "no" }, s)),
        None => rows.push(unavailable("child subreaper", "not the live host")),
    }
    match status.field("NoNewPrivs") {
        Some(v) => rows.push(row(
            "no_new_privs",
            if v == "1" {
                "set (set-uid and file capabilities gain nothing)"
            } else {
                "not set"
            },
            v == "1",
        )),
        None => rows.push(unavailable("no_new_privs", "no /proc/self/status")),
    }
    match status.field("Seccomp") {
        Some(v) => {
            let filters = status.field("Seccomp_filters").unwrap_or("?");
            let (name, text) = match v {
                "0" => ("disabled", "disabled".to_string()),
                "1" => ("strict", "strict".to_string()),
                "2" => (
                    "filter",
                    format!(
                        "filter ({} filters: some syscalls may fail with EPERM)",
                        filters
                    ),
                ),
                other => ("unknown", format!("unknown mode {}", other)),
            };
            rows.push(row("seccomp", text, name));
        }
        None => rows.push(unavailable("seccomp", "no /proc/self/status")),
    }
    rows
}

fn sysctls(host: &Host) -> Vec<Row> {
    let num = |k: &str| crate::host::sysctl::read(host, k);
    let mut rows = Vec::new();
    let mut simple = |key: &str, check: &dyn Fn(i64) -> Option<String>| match num(key) {
        Ok(v) => {
            let r = row(key, v.to_string(), v);
            rows.push(match check(v) {
                Some(p) => r.problem(p),
                None => r,
            });
        }
        Err(e) => rows.push(unavailable(key, &e)),
    };
    // The services' own minimums, from their profiles.
    let map_count = |name: &str| profiles::find(name)?.sysctl_min("vm.max_map_count");
    let (es, cassandra) = (map_count("elasticsearch"), map_count("cassandra"));
    simple("vm.max_map_count", &|v| {
        let es = es.filter(|es| v < *es)?;
        Some(format!("below {es}: Elasticsearch and OpenSearch refuse to start (bootstrap check){}; set it on the host: sysctl -w vm.max_map_count={es}",
            cassandra.map(|c| format!(", Cassandra wants {c}")).unwrap_or_default()))
    });
    simple("fs.file-max", &|_| None);
    let nofile = es_needs(rlimits::NOFILE);
    simple("fs.nr_open", &|v| {
        let n = nofile.filter(|n| (v as i128) < (*n as i128))?;
        Some(format!(
            "RLIMIT_NOFILE cannot exceed it, and Elasticsearch needs {n}"
        ))
    });
    simple("fs.inotify.max_user_watches", &|v| {
        (v < 65536).then(|| "low: watchers share it per user across the host; inotify_add_watch fails with ENOSPC (\"no space left on device\")".into())
    });
    simple("fs.inotify.max_user_instances", &|v| {
        (v <= 128).then(|| "the kernel default, shared per user by every container on the host: inotify_init fails with EMFILE (\"too many open files\")".into())
    });
    simple("kernel.pid_max", &|v| {
        (v < 32768).then(|| "below the usual default: every JVM thread uses a pid".into())
    });
    simple("kernel.threads-max", &|v| {
        (v < 32768).then(|| {
            "low: thread creation fails with EAGAIN (\"unable to create native thread\")".into()
        })
    });
    simple("vm.overcommit_memory", &|v| {
        (v == 2).then(|| {
            "strict accounting: a JVM reserving a large heap or forking can fail with ENOMEM".into()
        })
    });
    simple("vm.swappiness", &|_| None);
    // Open files in use (fs.file-nr: allocated, free, max).
    if let Ok(t) = host.read("/proc/sys/fs/file-nr") {
        let f: Vec<u64> = t
            .split_whitespace()
            .filter_map(|n| n.parse().ok())
            .collect();
        if let [alloc, _, max] = f[..] {
            let pct = percent(alloc, max);
            let r = row(
                "fs.file-nr (files in use)",
                format!("{} of {} ({}%)", alloc, max, pct),
                Value::obj().with("allocated", alloc).with("max", max),
            );
            rows.push(r.problem_if(pct >= 90, || {
                "the host is close to fs.file-max: open(2) fails with ENFILE".into()
            }));
        }
    } else {
        rows.push(unavailable(
            "fs.file-nr (files in use)",
            "cannot read /proc/sys/fs/file-nr",
        ));
    }
    // Swap in use, from /proc/meminfo (kB).
    match host.read("/proc/meminfo") {
        Ok(m) => {
            let kb = |name: &str| {
                m.lines()
                    .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
                    .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
            };
            match (kb("SwapTotal"), kb("SwapFree")) {
                (Some(total), Some(free)) => {
                    let used = total.saturating_sub(free).saturating_mul(1024);
                    let total = total.saturating_mul(1024);
                    let r = row(
                        "swap in use",
                        if total == 0 {
                            "none (no swap configured)".to_string()
                        } else {
                            format!("{} of {}", fmt_bytes(used), fmt_bytes(total))
                        },
                        Value::obj().with("used", used).with("total", total),
                    );
                    rows.push(r.problem_if(used > 0, || {
                        "a swapped-out JVM heap stalls garbage collection: Elasticsearch and Cassandra recommend disabling swap (or locking memory)".into()
                    }));
                }
                _ => rows.push(unavailable("swap in use", "no SwapTotal in /proc/meminfo")),
            }
        }
        Err(e) => rows.push(unavailable("swap in use", &format!("/proc/meminfo: {}", e))),
    }
    rows
}

/// A cgroup mount from /proc/self/mountinfo.
struct Mount {
    root: String,
    point: String,
    v2: bool,
    opts: String,
}

fn mounts(host: &Host) -> Vec<Mount> {
    let text = host.read("/proc/self/mountinfo").unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let (pre, post) = l.split_once(" - ")?;
            let pre: Vec<&str> = pre.split_whitespace().collect();
            let post: Vec<&str> = post.split_whitespace().collect();
            let fstype = *post.first()?;
            if fstype != "cgroup" && fstype != "cgroup2" {
                return None;
            }
            Some(Mount {
                root: pre.get(3)?.to_string(),
                point: pre.get(4)?.to_string(),
                v2: fstype == "cgroup2",
                opts: post.get(2).unwrap_or(&"").to_string(),
            })
        })
        .collect()
}

/// Where a controller's files for this process are, and whether it is v2.
/// From /proc/self/cgroup and the mounts; without mountinfo, the usual
/// /sys/fs/cgroup layout.
fn controller_dir(cgroup: &str, mounts: &[Mount], ctl: &str) -> Option<(String, bool, String)> {
    let mut v1_path = None;
    let mut v2_path = None;
    for l in cgroup.lines() {
        let mut f = l.splitn(3, ':');
        let (id, ctls, path) = (f.next()?, f.next()?, f.next()?);
        if id == "0" && ctls.is_empty() {
            v2_path = Some(path.to_string());
        } else if ctls.split(',').any(|c| c == ctl) {
            v1_path = Some(path.to_string());
        }
    }
    let join = |m: Option<&Mount>, path: &str, fallback: &str| -> String {
        match m {
            Some(m) => {
                let rel = path.strip_prefix(m.root.as_str()).unwrap_or(path);
                format!(
                    "{}/{}",
                    m.point.trim_end_matches('/'),
                    rel.trim_start_matches('/')
                )
                .trim_end_matches('/')
                .to_string()
            }
            None => format!("{}/{}", fallback, path.trim_start_matches('/'))
                .trim_end_matches('/')
                .to_string(),
        }
    };
    if let Some(p) = v1_path {
        let m = mounts
            .iter()
            .find(|m| !m.v2 && m.opts.split(',').any(|o| o == ctl));
        return Some((join(m, &p, &format!("/sys/fs/cgroup/{}", ctl)), false, p));
    }
    let p = v2_path?;
    let m = mounts.iter().find(|m| m.v2);
    Some((join(m, &p, "/sys/fs/cgroup"), true, p))
}

fn cg_value(host: &Host, dir: &str, file: &str) -> Option<u64> {
    let t = host.read(&format!("{}/{}", dir, file)).ok()?;
    let t = t.trim();
    if t == "max" {
        return Some(INFINITY);
    }
    // v1 reports "no limit" as a huge page-aligned number.
    t.parse::<u64>()
        .ok()
        .map(|v| if v >= 1 << 62 { INFINITY } else { v })
}

fn cgroups(host: &Host) -> Vec<Row> {
    let cgroup = match host.read("/proc/self/cgroup") {
        Ok(c) => c,
        Err(e) => return vec![unavailable("version", &format!("/proc/self/cgroup: {}", e))],
    };
    let mounts = mounts(host);
    let has_v1 = cgroup.lines().any(|l| !l.starts_with("0::"));
    let has_v2 = cgroup.lines().any(|l| l.starts_with("0::")) || mounts.iter().any(|m| m.v2);
    let version = match (has_v1, has_v2) {
        (true, true) => "hybrid (v1 controllers, v2 unified mount without them)",
        (true, false) => "v1",
        (false, true) => "v2",
        (false, false) => UNAVAILABLE,
    };
    let mut rows = vec![row(
        "version",
        version,
        match (has_v1, has_v2) {
            (true, true) => "hybrid",
            (true, false) => "v1",
            (false, true) => "v2",
            _ => "unknown",
        },
    )];
    for (ctl, limit_v1, usage_v1, limit_v2, usage_v2) in [
        (
            "memory",
            "memory.limit_in_bytes",
            "memory.usage_in_bytes",
            "memory.max",
            "memory.current",
        ),
        (
            "pids",
            "pids.max",
            "pids.current",
            "pids.max",
            "pids.current",
        ),
    ] {
        let Some((dir, v2, path)) = controller_dir(&cgroup, &mounts, ctl) else {
            rows.push(unavailable(ctl, "controller not in /proc/self/cgroup"));
            continue;
        };
        let (lf, uf) = if v2 {
            (limit_v2, usage_v2)
        } else {
            (limit_v1, usage_v1)
        };
        let limit = cg_value(host, &dir, lf);
        let usage = cg_value(host, &dir, uf);
        let at_root = path == "/";
        let show = |v: Option<u64>| match v {
            Some(v) if ctl == "memory" => fmt_bytes(v),
            Some(v) => rlimits::fmt_value(v),
            None => UNAVAILABLE.into(),
        };
        let text = if limit.is_none() && usage.is_none() && at_root {
            // The root cgroup has no limit files: nothing above us limits it.
            format!("no limit: the root cgroup ({})", dir)
        } else {
            format!(
                "limit {}, in use {} ({}{})",
                show(limit),
                show(usage),
                dir,
                if v2 { "" } else { ", v1" }
            )
        };
        let mut r = row(
            ctl,
            text,
            Value::obj()
                .with("limit", limit.map(json::limit))
                .with("usage", usage)
                .with("path", dir.as_str())
                .with("v2", v2),
        );
        if let (Some(l), Some(u)) = (limit, usage) {
            if l != INFINITY && l > 0 && percent(u, l) >= 90 {
                r = r.problem(format!(
                    "{} use is at {}% of the cgroup limit",
                    ctl,
                    percent(u, l)
                ));
            }
        }
        if ctl == "pids" {
            if let (Some(l), Some(n)) = (limit, es_needs(rlimits::NPROC)) {
                if l != INFINITY && l < n {
                    r = r.problem(format!("pids limit {} counts threads: Elasticsearch needs {} (docker run --pids-limit, kubelet podPidsLimit)", l, n));
                }
            }
        }
        rows.push(r);
        if ctl == "memory" && !v2 {
            let kmem = cg_value(host, &dir, "memory.kmem.limit_in_bytes");
            let r = row(
                "kernel memory (v1 kmem)",
                match kmem {
                    Some(INFINITY) => "not limited".to_string(),
                    Some(v) => format!("limited to {}", fmt_bytes(v)),
                    None => format!("{} (no memory.kmem.limit_in_bytes)", UNAVAILABLE),
                },
                Value::obj()
                    .with("limited", kmem.map(|v| v != INFINITY))
                    .with("limit", kmem.map(json::limit)),
            );
            rows.push(r.problem_if(matches!(kmem, Some(v) if v != INFINITY), || {
                "kernel memory accounting is limited: older kernels leak memory cgroups with it, and creating containers then fails with \"no space left on device\"".into()
            }));
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mount(root: &str, point: &str, v2: bool, opts: &str) -> Mount {
        Mount {
            root: root.into(),
            point: point.into(),
            v2,
            opts: opts.into(),
        }
    }

    #[test]
    fn cgroup_paths() {
        // v1 without a cgroup namespace: the mount's root is our own cgroup.
        let m = [mount(
            "/docker/abc",
            "/sys/fs/cgroup/memory",
            false,
            "rw,memory",
        )];
        let (dir, v2, _) = controller_dir("4:memory:/docker/abc\n", &m, "memory").unwrap();
        assert_eq!((dir.as_str(), v2), ("/sys/fs/cgroup/memory", false));
        // v2 with a cgroup namespace.
        let m = [mount("/kubepods/x", "/sys/fs/cgroup", true, "rw")];
        let (dir, v2, _) = controller_dir("0::/\n", &m, "pids").unwrap();
        assert_eq!((dir.as_str(), v2), ("/sys/fs/cgroup", true));
        // hybrid: the v1 controller wins over the empty unified hierarchy.
        let m = [
            mount("/", "/sys/fs/cgroup/pids", false, "rw,pids"),
            mount("/", "/sys/fs/cgroup/unified", true, "rw"),
        ];
        let cg = "8:pids:/a/b\n0::/a/b\n";
        assert_eq!(
            controller_dir(cg, &m, "pids").unwrap().0,
            "/sys/fs/cgroup/pids/a/b"
        );
        assert_eq!(
            controller_dir(cg, &m, "memory").unwrap().0,
            "/sys/fs/cgroup/unified/a/b"
        );
        // No mountinfo: the usual layout.
        assert_eq!(
            controller_dir("0::/x\n", &[], "memory").unwrap().0,
            "/sys/fs/cgroup/x"
        );
        assert!(controller_dir("", &[], "memory").is_none());
    }

    #[test]
    fn numbers() {
        assert_eq!(percent(1 << 60, 1 << 61), 50);
        assert_eq!(percent(u64::MAX, 1), u64::MAX);
        assert_eq!(percent(5, 0), 0);
        let s = Status(Some("Uid:\t0\t1\t2\t3\nGroups:\t\nNSpid:\t9\t1\n".into()));
        assert_eq!(s.numbers("Uid"), Some(vec![0, 1, 2, 3]));
        assert_eq!(s.numbers("Groups"), Some(vec![]));
        assert_eq!(s.numbers("NSpid").unwrap().last(), Some(&1));
        assert_eq!(Status(None).field("Uid"), None);
    }
}
