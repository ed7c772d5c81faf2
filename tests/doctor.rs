//! `--doctor` and the kernel-tunable checks: against fixture roots (cgroup
//! v1 and v2 layouts, a user namespace, a root with nothing in it), and the
//! built binary on this machine, as root and as nobody. JSON output is parsed
//! with python3's json module, which is strict about escaping.
// Probes and fixtures make raw syscalls; Cargo.toml denies `unsafe` by default.
#![allow(unsafe_code)]
use lockdrop::check::{self, Level};
use lockdrop::host::fixture::Fixture;
use lockdrop::host::Host;
use lockdrop::model::caps::CapSet;
use lockdrop::model::rlimits::{self, INFINITY};
use lockdrop::parse::flags::Options;
use lockdrop::report::doctor;
use std::path::{Path, PathBuf};
use std::process::Command;

const ALL_BUT_RESOURCE: u64 = 0x1fffeffffff;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn host(root: &Path, caps_mask: u64, memlock_hard: u64) -> Host {
    Fixture::at(root)
        .caps(CapSet(caps_mask))
        .limit(rlimits::MEMLOCK, 65536, memlock_hard)
        .limit(rlimits::NOFILE, 1024, 4096)
        .build()
}

/// Parses JSON with python3 and returns the value of a Python expression
/// over it (`d`), e.g. `d["plan"]["mode"]`.
fn py(json: &str, expr: &str) -> String {
    let out = Command::new("python3")
        .args([
            "-c",
            &format!("import json,sys; d=json.load(sys.stdin); print({})", expr),
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(json.as_bytes())?;
            c.wait_with_output()
        })
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "invalid JSON or expression {}: {}\n{}",
        expr,
        String::from_utf8_lossy(&out.stderr),
        json
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn problems(sections: &[doctor::Section]) -> Vec<String> {
    sections
        .iter()
        .flat_map(|s| {
            s.rows
                .iter()
                .filter(|r| r.problem.is_some())
                .map(|r| r.key.clone())
        })
        .collect()
}

#[test]
fn cgroup_v2_in_a_user_namespace() {
    // Docker's default set plus IPC_LOCK: in a user namespace it does not
    // lift RLIMIT_MEMLOCK (mlock checks it in the initial namespace).
    let h = host(&fixture("cgroup-v2"), 0xa80425fb | (1 << 14), 64 << 10);
    let r = doctor::report(&h);
    let text = doctor::to_text(&r);
    for want in [
        "yes (uid_map 0 100000 65536)",
        "1: this process is PID 1",
        "version                        v2",
        "limit 1 GiB, in use 972.7 MiB (/sys/fs/cgroup)",
        "limit 1024, in use 37",
        "filter (1 filters",
        "groups                         0 (root), 1000 (elasticsearch)",
        "an unprivileged child can lock 65536 bytes (64 KiB): via rlimit",
        "1023.9 MiB of 1.9 GiB",
    ] {
        assert!(text.contains(want), "missing {:?} in\n{}", want, text);
    }
    let p = problems(&r);
    for want in [
        "vm.max_map_count",
        "vm.overcommit_memory",
        "fs.inotify.max_user_watches",
        "memory",
        "pids",
        "swap in use",
        "memlock verdict",
        "nofile",
    ] {
        assert!(
            p.iter().any(|k| k == want),
            "{} is not a problem: {:?}\n{}",
            want,
            p,
            text
        );
    }
    assert!(
        !text.contains("kernel memory"),
        "v2 has no kmem row:\n{}",
        text
    );
    let j = doctor::to_json(&r);
    assert_eq!(py(&j, "d['cgroup']['version']"), "v2");
    assert_eq!(py(&j, "d['cgroup']['pids']['limit']"), "1024");
    assert_eq!(
        py(&j, "d['process']['user namespace']['in_user_namespace']"),
        "True"
    );
    assert_eq!(py(&j, "d['limits']['memlock']['hard']"), "65536");
    assert_eq!(py(&j, "d['limits']['cpu']"), "None"); // not in the fixture: unavailable
    assert_eq!(
        py(
            &j,
            "'vm.max_map_count' in [p['key'] for p in d['problems']]"
        ),
        "True"
    );
}

#[test]
fn cgroup_v1_with_limited_kmem() {
    let h = host(&fixture("cgroup-v1"), ALL_BUT_RESOURCE, 8 << 20);
    let r = doctor::report(&h);
    let text = doctor::to_text(&r);
    for want in [
        "no (initial namespace",
        "77 (PID 1 is tini)",
        "version                        v1",
        "limit 2 GiB, in use 100 MiB (/sys/fs/cgroup/memory, v1)",
        "limited to 1 GiB",
        "limit unlimited, in use 12 (/sys/fs/cgroup/pids, v1)",
        "set (set-uid",
        "none (no swap configured)",
        "unlimited bytes: via ambient IPC_LOCK (RLIMIT_MEMLOCK alone allows 8 MiB",
        "all but CAP_SYS_RESOURCE",
    ] {
        assert!(text.contains(want), "missing {:?} in\n{}", want, text);
    }
    let p = problems(&r);
    assert!(
        p.contains(&"kernel memory (v1 kmem)".to_string()),
        "{:?}",
        p
    );
    assert!(!p.contains(&"vm.max_map_count".to_string()), "{:?}", p);
    assert!(!p.contains(&"memlock verdict".to_string()), "{:?}", p);
    assert!(text.contains("no space left on device"));
    let j = doctor::to_json(&r);
    assert_eq!(
        py(&j, "d['cgroup']['kernel memory (v1 kmem)']['limited']"),
        "True"
    );
    assert_eq!(
        py(&j, "d['limits']['memlock verdict']['via']"),
        "ambient IPC_LOCK"
    );
    assert_eq!(
        py(&j, "d['limits']['memlock verdict']['bytes']"),
        "unlimited"
    );
}

#[test]
fn missing_proc_and_sys_say_unavailable() {
    let h = host(&fixture("missing"), 0, INFINITY);
    let r = doctor::report(&h);
    let text = doctor::to_text(&r);
    assert!(text.matches("unavailable").count() >= 12, "{}", text);
    for want in [
        "groups",
        "seccomp",
        "no_new_privs",
        "vm.max_map_count",
        "swap in use",
        "version",
        "user namespace",
    ] {
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with(want))
            .unwrap_or_default();
        assert!(
            line.contains("unavailable"),
            "{}: {:?}\n{}",
            want,
            line,
            text
        );
    }
    // Hard limit unlimited: the rlimit path works without any capability.
    assert!(
        text.contains("lock unlimited bytes: via rlimit"),
        "{}",
        text
    );
    py(&doctor::to_json(&r), "d['problems']");
}

fn plan_for(
    root: &Path,
    sysctl: &str,
    policy: &str,
    profile: Option<&str>,
) -> (Host, lockdrop::resolve::Plan) {
    let h = host(root, ALL_BUT_RESOURCE, INFINITY);
    let o = Options {
        user: Some("elasticsearch".into()),
        sysctls: vec![sysctl.into()],
        sysctl_policy: Some(policy.into()),
        profile: profile.map(String::from),
        command: vec!["/bin/true".into()],
        ..Options::default()
    };
    let p = lockdrop::resolve::resolve(&o, &h).expect("resolves");
    (h, p)
}

fn scratch_copy(name: &str, tag: &str) -> PathBuf {
    let dst = std::env::temp_dir().join(format!(
        "lockdrop-doctor-{}-{}-{}",
        name,
        tag,
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dst);
    let st = Command::new("cp")
        .arg("-a")
        .arg(fixture(name))
        .arg(&dst)
        .status()
        .unwrap();
    assert!(st.success());
    dst
}

#[test]
fn sysctl_policy_error_warn_and_service_wording() {
    let root = fixture("cgroup-v2");
    let (h, p) = plan_for(
        &root,
        "vm.max_map_count>=262144",
        "error",
        Some("elasticsearch"),
    );
    let f = check::check(&p, &h);
    let bad = f
        .iter()
        .find(|f| f.what.contains("vm.max_map_count"))
        .unwrap();
    assert_eq!(bad.level, Level::Error);
    assert!(
        bad.what.starts_with("max virtual memory areas vm.max_map_count [65530] is too low, increase to at least [262144]"),
        "{}",
        bad.what
    );
    for fix in [
        "sysctl -w vm.max_map_count=262144",
        "docker",
        "compose",
        "privileged init container",
        "node tuning",
    ] {
        assert!(bad.fix.contains(fix), "{} not in {}", fix, bad.fix);
    }
    let (h, p) = plan_for(&root, "vm.max_map_count>=262144", "warn", None);
    let f = check::check(&p, &h);
    let w = f
        .iter()
        .find(|f| f.what.contains("vm.max_map_count"))
        .unwrap();
    assert_eq!(w.level, Level::Warn);
    assert!(
        w.what.contains("kernel tunable vm.max_map_count is 65530"),
        "{}",
        w.what
    );
    assert!(check::enforce(&f).is_ok());
    // A namespaced one gets the per-container fixes.
    let fix = check::sysctl_fix("net.core.somaxconn", 1024);
    assert!(
        fix.contains("docker run --sysctl net.core.somaxconn=1024")
            && fix.contains("securityContext.sysctls")
    );
    // Cassandra's own words.
    let (h, p) = plan_for(
        &root,
        "vm.max_map_count>=1048575",
        "error",
        Some("cassandra"),
    );
    let f = check::check(&p, &h);
    assert!(f.iter().any(|f| f.what.starts_with(
        "Maximum number of memory map areas per process (vm.max_map_count) 65530 is too low, recommended value: 1048575"
    )));
    // A tunable that does not exist is an error naming the file.
    let (h, p) = plan_for(&root, "vm.no_such_thing>=1", "error", None);
    let f = check::check(&p, &h);
    assert!(f
        .iter()
        .any(|f| f.level == Level::Error && f.what.contains("/proc/sys/vm/no_such_thing")));
}

#[test]
fn sysctl_policy_modify_writes_and_reports() {
    let root = scratch_copy("cgroup-v2", "writes");
    let (h, p) = plan_for(&root, "vm.max_map_count>=262144", "modify", None);
    let f = check::check(&p, &h);
    let m = f
        .iter()
        .find(|f| f.what.contains("vm.max_map_count"))
        .unwrap();
    assert_eq!(m.level, Level::Ok, "{:?}", m);
    assert!(
        m.what.contains("will set it from 65530 to 262144"),
        "{}",
        m.what
    );
    lockdrop::apply::sysctl::modify(&p, &h).expect("writes the fixture");
    let now = std::fs::read_to_string(root.join("proc/sys/vm/max_map_count")).unwrap();
    assert_eq!(now.trim(), "262144");
    // Once met, nothing is written again.
    let f = check::check(&p, &h);
    assert!(f.iter().any(|f| f.level == Level::Ok
        && f.what == "vm.max_map_count = 262144 (vm.max_map_count>=262144)"));
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn sysctl_policy_modify_falls_back_with_the_reason() {
    // Where the file cannot be opened for writing, modify falls back to an
    // error that says why (a directory stands in for a read-only /proc/sys:
    // root ignores file modes).
    let root = scratch_copy("cgroup-v2", "fallback");
    let p = root.join("proc/sys/vm/max_map_count");
    std::fs::remove_file(&p).unwrap();
    std::fs::create_dir_all(p.join("0")).unwrap();
    let (h, plan) = plan_for(&root, "vm.max_map_count>=262144", "modify", None);
    let f = check::check(&plan, &h);
    let e = f
        .iter()
        .find(|f| f.what.contains("vm.max_map_count"))
        .unwrap();
    assert_eq!(e.level, Level::Error, "{:?}", e);
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn refuses_root_like_the_service() {
    let h = host(&fixture("cgroup-v1"), ALL_BUT_RESOURCE, INFINITY);
    let o = Options {
        user: Some("root".into()),
        profile: Some("elasticsearch".into()),
        command: vec!["/bin/true".into()],
        ..Options::default()
    };
    let p = lockdrop::resolve::resolve(&o, &h).unwrap();
    let f = check::check(&p, &h);
    assert!(
        f.iter()
            .any(|f| f.level == Level::Error
                && f.what.starts_with("can not run elasticsearch as root")),
        "{:?}",
        f
    );
    let o = Options {
        profile: Some("cassandra".into()),
        user: Some("root".into()),
        ..o
    };
    let p = lockdrop::resolve::resolve(&o, &h).unwrap();
    let f = check::check(&p, &h);
    assert!(
        f.iter().any(|f| f.level == Level::Warn
            && f.what
                .starts_with("Running Cassandra as root user or group")),
        "{:?}",
        f
    );
}

// ---- the built binary on this machine ----

fn lockdrop(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_lockdrop"))
        .args(args)
        .env_remove("LOCKDROP_CONFIG")
        .env_remove("LOCKDROP_PROFILE")
        .output()
        .expect("runs")
}

#[test]
fn doctor_runs_here() {
    let out = lockdrop(&["--doctor"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for s in [
        "identity",
        "capabilities",
        "limits",
        "memlock verdict",
        "process",
        "sysctl",
        "cgroup",
        "vm.max_map_count",
    ] {
        assert!(text.contains(s), "{} missing:\n{}", s, text);
    }
    let out = lockdrop(&["--doctor", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let j = String::from_utf8_lossy(&out.stdout);
    assert_eq!(j.lines().count(), 1, "one JSON document on one line");
    let v = py(&j, "d['sysctl']['vm.max_map_count']");
    let here: i64 = std::fs::read_to_string("/proc/sys/vm/max_map_count")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(v, here.to_string());
    assert_eq!(py(&j, "type(d['problems']).__name__"), "list");
}

#[test]
fn doctor_runs_as_nobody() {
    if unsafe_free_euid() != 0 {
        return; // needs root to become nobody; CI is root
    }
    let out = Command::new("setpriv")
        .args([
            "--reuid",
            "65534",
            "--regid",
            "65534",
            "--clear-groups",
            "--inh-caps=-all",
        ])
        .arg(env!("CARGO_BIN_EXE_lockdrop"))
        .args(["--doctor", "--json"])
        .output()
        .expect("setpriv (util-linux) runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j = String::from_utf8_lossy(&out.stdout);
    assert_eq!(py(&j, "d['identity']['uid']['effective']"), "65534");
    assert_eq!(py(&j, "d['capabilities']['effective']"), "[]");
}

fn unsafe_free_euid() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(u32::MAX)
}

#[test]
fn check_exit_codes_here() {
    // Nothing to check: a real start would proceed.
    let out = lockdrop(&["--check", "--", "true"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // A tunable no kernel satisfies: error → 125, warn → 0.
    let out = lockdrop(&["--check", "--sysctl", "vm.max_map_count<=0", "--", "true"]);
    assert_eq!(out.status.code(), Some(125));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("error kernel tunable vm.max_map_count is")
            && text.contains("result: a real start would stop"),
        "{}",
        text
    );
    let out = lockdrop(&[
        "--check",
        "--sysctl-policy",
        "warn",
        "--sysctl",
        "vm.max_map_count<=0",
        "--",
        "true",
    ]);
    assert_eq!(out.status.code(), Some(0));
    // The command is looked up like exec would.
    let out = lockdrop(&["--check", "--", "no-such-command-lockdrop"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(String::from_utf8_lossy(&out.stdout)
        .contains("command not found: no-such-command-lockdrop"));
    // --check never modifies: the tunable is still what it was.
    let before = std::fs::read_to_string("/proc/sys/vm/max_map_count").unwrap();
    let _ = lockdrop(&[
        "--check",
        "--sysctl-policy",
        "modify",
        "--sysctl",
        "vm.max_map_count>=262144",
        "--",
        "true",
    ]);
    assert_eq!(
        std::fs::read_to_string("/proc/sys/vm/max_map_count").unwrap(),
        before
    );
}

#[test]
fn check_json_is_one_document() {
    let out = lockdrop(&[
        "--check",
        "--json",
        "--profile",
        "elasticsearch",
        "--user",
        "nobody",
        "--sysctl",
        "vm.max_map_count<=0",
        "--",
        "sh",
        "-c",
        "echo \"quoted\\\\ \t tab\"",
    ]);
    assert_eq!(out.status.code(), Some(125));
    let j = String::from_utf8_lossy(&out.stdout);
    assert_eq!(j.lines().count(), 1);
    assert_eq!(py(&j, "d['would_start']"), "False");
    assert_eq!(py(&j, "d['exit_code']"), "125");
    assert_eq!(py(&j, "d['plan']['profile']"), "elasticsearch");
    assert_eq!(py(&j, "d['plan']['user']['uid']"), "65534");
    assert_eq!(
        py(&j, "d['plan']['command'][2]"),
        "echo \"quoted\\\\ \t tab\""
    );
    assert_eq!(py(&j, "d['plan']['memlock']['bytes']"), "unlimited");
    assert_eq!(
        py(&j, "'nofile' in [r['name'] for r in d['plan']['rlimits']]"),
        if nofile_soft() < 65535 {
            "True"
        } else {
            "False"
        }
    );
    assert_eq!(
        py(
            &j,
            "all(f['level'] in ('ok','warn','error') for f in d['findings'])"
        ),
        "True"
    );
    assert_eq!(
        py(
            &j,
            "any('vm.max_map_count' in f['what'] and f['level']=='error' for f in d['findings'])"
        ),
        "True"
    );
}

/// This process's soft RLIMIT_NOFILE (the binary under test inherits it): a
/// profile's nofile minimum is left out where the host already meets it.
fn nofile_soft() -> u64 {
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(u64::MAX)
}
