//! Hardening (issue 8): every step that changes the process fails closed,
//! hostile /etc files and starting conditions are survived, and the security
//! invariants hold in the command as read from its /proc/self/status.
//!
//! Runs as root (CI: scripts/test.sh). A missing prerequisite (root, a tool,
//! a suid-capable temp dir) is a failure, never a skip. Tests run in parallel
//! threads: each uses its own scratch directory and mount namespace, and
//! synchronises through pipes and ready lines; deadlines only turn a hang into
//! a failure.
// Probes and fixtures make raw syscalls; Cargo.toml denies `unsafe` by default.
#![allow(unsafe_code)]

mod common;
#[path = "hardening/util.rs"]
mod util;

use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::time::Duration;
use util::*;

const APP_PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\n\
app:x:4321:4321:App:/home/app:/bin/sh\n\
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
const APP_GROUP: &str = "root:x:0:\n\
app:x:4321:\n\
one:x:5001:app\n\
two:x:5002:other,app\n\
three:x:5003:other\n\
nogroup:x:65534:\n";

fn fixture(s: &Scratch, passwd: impl AsRef<[u8]>, group: impl AsRef<[u8]>) -> Start {
    let p = s.write("passwd", passwd);
    let g = s.write("group", group);
    etc(&p, &g)
}

fn lockdrop_cmd(args: &[&str]) -> Command {
    let mut c = Command::new(lockdrop());
    c.args(args);
    c
}

fn probe_s() -> String {
    probe().to_string_lossy().into_owned()
}

fn sorted_ids(s: &str) -> Vec<u32> {
    let mut v: Vec<u32> = s
        .split_whitespace()
        .map(|x| x.parse().expect("numeric id"))
        .collect();
    v.sort_unstable();
    v
}

// ---------------------------------------------------------------------------
// Faults: each step the syscall layer can fail makes lockdrop exit 125 (126
// for exec) with one error line, and the command never runs.
// ---------------------------------------------------------------------------

struct Fault {
    step: &'static str,
    args: &'static [&'static str],
    code: i32,
    needle: &'static str,
}

const CORE_FAULTS: &[Fault] = &[
    Fault {
        step: "setrlimit",
        args: &["--user", "nobody", "-l", "nofile=1024:4096"],
        code: 125,
        needle: "setrlimit failed",
    },
    Fault {
        step: "keepcaps",
        args: &["--user", "nobody", "--ambient-cap", "net_bind_service"],
        code: 125,
        needle: "pr_set_keepcaps",
    },
    Fault {
        step: "setgroups",
        args: &["--user", "nobody"],
        code: 125,
        needle: "setgroups failed",
    },
    Fault {
        step: "setresgid",
        args: &["--user", "nobody"],
        code: 125,
        needle: "setresgid failed",
    },
    Fault {
        step: "setresuid",
        args: &["--user", "nobody"],
        code: 125,
        needle: "setresuid failed",
    },
    Fault {
        step: "capset",
        args: &["--user", "nobody"],
        code: 125,
        needle: "capset failed",
    },
    Fault {
        step: "ambient",
        args: &["--user", "nobody", "--ambient-cap", "net_bind_service"],
        code: 125,
        needle: "ambient",
    },
    Fault {
        step: "chdir",
        args: &["--user", "nobody", "--workdir", "/"],
        code: 125,
        needle: "chdir failed",
    },
    Fault {
        step: "no_new_privs",
        args: &["--user", "nobody", "--no-new-privs"],
        code: 125,
        needle: "pr_set_no_new_privs",
    },
    Fault {
        step: "exec",
        args: &["--exec", "--user", "nobody"],
        code: 126,
        needle: "cannot execute",
    },
];

const SUPERVISE_FAULTS: &[Fault] = &[
    Fault {
        step: "subreaper",
        args: &["--supervise", "--user", "nobody"],
        code: 125,
        needle: "subreaper",
    },
    Fault {
        step: "pdeathsig",
        args: &["--supervise", "--pdeathsig", "TERM", "--user", "nobody"],
        code: 125,
        needle: "pdeathsig",
    },
    Fault {
        step: "setgroups",
        args: &["--supervise", "--user", "nobody"],
        code: 125,
        needle: "setgroups failed",
    },
    Fault {
        step: "capset",
        args: &[
            "--supervise",
            "--user",
            "nobody",
            "--ambient-cap",
            "net_bind_service",
        ],
        code: 125,
        needle: "capset failed",
    },
    Fault {
        step: "ambient",
        args: &[
            "--supervise",
            "--user",
            "nobody",
            "--ambient-cap",
            "net_bind_service",
        ],
        code: 125,
        needle: "ambient",
    },
    Fault {
        step: "exec",
        args: &["--supervise", "--user", "nobody"],
        code: 126,
        needle: "cannot execute",
    },
];

/// Runs every fault, plus the same command without the fault (which must
/// create the marker: proves the marker would have told).
fn fault_sweep(faults: &[Fault]) {
    require_root();
    let bin = fault_lockdrop();
    let touch = require_tool("touch");
    let s = Scratch::new("fault");
    let mut failures = Vec::new();
    for (i, f) in faults.iter().enumerate() {
        for injected in [true, false] {
            let mark = s.marker(&format!("{}-{}-{}", i, f.step, injected));
            let mut c = Command::new(bin);
            c.args(f.args).arg("--").arg(&touch).arg(&mark);
            if injected {
                c.env("LOCKDROP_FAULT", f.step);
            } else {
                c.env_remove("LOCKDROP_FAULT");
            }
            let o = run(c);
            let what = format!(
                "LOCKDROP_FAULT={} lockdrop {}",
                if injected { f.step } else { "" },
                f.args.join(" ")
            );
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                if injected {
                    let mut low = o.clone();
                    low.stderr = text(&o.stderr).to_lowercase().into_bytes();
                    assert_failed(&low, f.code, f.needle, &what);
                    assert!(
                        !mark.exists(),
                        "{}: the command ran after a failed step",
                        what
                    );
                } else {
                    status_ok(&o, &what);
                    assert!(
                        mark.exists(),
                        "{}: control run did not run the command",
                        what
                    );
                }
            }));
            if let Err(e) = r {
                failures.push(
                    e.downcast_ref::<String>()
                        .cloned()
                        .unwrap_or_else(|| format!("{} failed", what)),
                );
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} fault case(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn fault_every_core_step_fails_closed() {
    fault_sweep(CORE_FAULTS);
}

#[test]
fn fault_every_supervise_step_fails_closed() {
    fault_sweep(SUPERVISE_FAULTS);
}

/// A fault the machine itself produces: RLIMIT_NPROC 0 for the target user.
/// The switch happens in the (forked) child in supervise mode too, so in
/// both modes the kernel fails execve with EAGAIN only when the user
/// already has processes elsewhere (PF_NPROC_EXCEEDED is decided at
/// setresuid time): both "ran with the limit asked for" and a clean 126
/// are right.
#[test]
fn fault_nproc_exhausted_is_not_run() {
    require_root();
    let touch = require_tool("touch");
    let s = Scratch::new("nproc");
    let mark = s.marker("supervise");
    let o = run({
        let mut c = lockdrop_cmd(&["--supervise", "--user", "nobody", "-l", "nproc=0:0", "--"]);
        c.arg(&touch).arg(&mark);
        c
    });
    nproc_outcome(&o, &mark, "--supervise");

    let mark = s.marker("exec");
    let o = run({
        let mut c = lockdrop_cmd(&["--exec", "--user", "nobody", "-l", "nproc=0:0", "--"]);
        c.arg(&touch).arg(&mark);
        c
    });
    nproc_outcome(&o, &mark, "--exec");
}

fn nproc_outcome(o: &std::process::Output, mark: &std::path::Path, mode: &str) {
    match o.status.code() {
        Some(0) => assert!(mark.exists()),
        Some(126) => {
            assert_failed(o, 126, "cannot execute", &format!("{} with nproc=0", mode));
            assert!(
                !mark.exists(),
                "{}: the command ran after a failed exec",
                mode
            );
        }
        _ => panic!(
            "{} with nproc=0: {}\n{}",
            mode,
            status_text(&o.status),
            text(&o.stderr)
        ),
    }
}

// ---------------------------------------------------------------------------
// Hostile /etc/passwd and /etc/group, through a private mount namespace.
// ---------------------------------------------------------------------------

/// lockdrop --user SPEC -- probe status, with these /etc files.
fn as_user(start: Start, spec: &str) -> std::process::Output {
    let mut c = lockdrop_cmd(&["--user", spec, "--"]);
    c.arg(probe()).arg("status");
    start.apply(&mut c);
    run(c)
}

fn assert_ids(o: &std::process::Output, uid: u32, gid: u32, groups: &[u32], what: &str) {
    status_ok(o, what);
    assert_eq!(
        must_kv(o, "Uid"),
        format!("{u} {u} {u} {u}", u = uid),
        "{}: real/effective/saved/fs uid",
        what
    );
    assert_eq!(
        must_kv(o, "Gid"),
        format!("{g} {g} {g} {g}", g = gid),
        "{}: real/effective/saved/fs gid",
        what
    );
    let mut want = groups.to_vec();
    want.sort_unstable();
    assert_eq!(
        sorted_ids(&must_kv(o, "Groups")),
        want,
        "{}: supplementary groups",
        what
    );
}

#[test]
fn etc_unreadable() {
    require_root();
    let s = Scratch::new("unreadable");
    let p = s.write("passwd", APP_PASSWD);
    let g = s.write("group", APP_GROUP);
    for f in [&p, &g] {
        std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o000)).expect("chmod 000");
    }
    // Root reads mode-000 files through CAP_DAC_OVERRIDE: take it (and
    // DAC_READ_SEARCH) out of the bounding set so lockdrop starts without them.
    let unreadable = || {
        let mut st = etc(&p, &g);
        st.drop_bounding = vec![1, 2]; // CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        st
    };
    let o = as_user(unreadable(), "app");
    assert_failed(
        &o,
        125,
        "cannot read /etc/passwd",
        "--user app, passwd unreadable",
    );
    assert!(
        text(&o.stderr).contains("UID:GID"),
        "the error should say numeric ids work:\n{}",
        text(&o.stderr)
    );
    let o = as_user(unreadable(), "app:one");
    assert_failed(
        &o,
        125,
        "cannot read /etc/passwd",
        "--user app:one, both unreadable",
    );
    let o = as_user(unreadable(), "4321:one");
    assert_failed(
        &o,
        125,
        "cannot read /etc/group",
        "--user 4321:one, group unreadable",
    );
    // Numeric ids need neither file.
    let o = as_user(unreadable(), "4321:4321");
    assert_ids(
        &o,
        4321,
        4321,
        &[4321],
        "--user 4321:4321 with unreadable files",
    );
    assert_eq!(must_kv(&o, "env.HOME"), "/");
}

#[test]
fn etc_huge() {
    require_root();
    let s = Scratch::new("huge");
    let mut pw = String::from(APP_PASSWD.replace("app:", "early:"));
    let mut gr = String::from("root:x:0:\n");
    for i in 0..100_000u32 {
        pw.push_str(&format!(
            "u{i}:x:{}:{}:user {i}:/home/u{i}:/bin/sh\n",
            100_000 + i,
            100_000 + i
        ));
        gr.push_str(&format!("g{i}:x:{}:u{},u99999\n", 300_000 + i, i));
    }
    pw.push_str("app:x:4321:4321::/home/app:/bin/sh\n");
    gr.push_str("last:x:5009:app\n");
    let o = as_user(fixture(&s, &pw, &gr), "app");
    assert_ids(
        &o,
        4321,
        4321,
        &[4321, 5009],
        "100k-line passwd, user on the last line",
    );
    // A user in 100,000 groups plus the primary: above NGROUPS_MAX (65536).
    // setgroups(2) refuses that: one clean line, nothing runs.
    let o = as_user(fixture(&s, &pw, &gr), "u99999");
    assert_failed(&o, 125, "groups", "u99999 in 100001 groups");
}

#[test]
fn etc_binary_garbage() {
    require_root();
    let s = Scratch::new("garbage");
    // xorshift: deterministic bytes including NUL, ':' and invalid UTF-8.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut garbage = Vec::with_capacity(1 << 20);
    for _ in 0..(1 << 20) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        garbage.push((x >> 24) as u8);
    }
    let mut pw = garbage.clone();
    pw.extend_from_slice(b"\napp:x:4321:4321::/home/app:/bin/sh\n");
    pw.extend_from_slice(&garbage[..4096]);
    let mut gr = garbage.clone();
    gr.extend_from_slice(b"\none:x:5001:app\n\xff\xfe:x:5002:app\n");
    let o = as_user(fixture(&s, &pw, &gr), "app");
    status_ok(&o, "garbage around a valid line");
    assert_eq!(must_kv(&o, "Uid"), "4321 4321 4321 4321");
    let groups = sorted_ids(&must_kv(&o, "Groups"));
    assert!(
        groups.contains(&4321) && groups.contains(&5001),
        "groups {:?}",
        groups
    );
    let o = as_user(fixture(&s, &garbage, &garbage), "app");
    assert_failed(&o, 125, "unknown user", "garbage only");
    // A 16 MiB single line.
    let long = vec![b'a'; 16 << 20];
    let o = as_user(fixture(&s, &long, &long), "app");
    assert_failed(&o, 125, "unknown user", "one 16 MiB line");
}

#[test]
fn etc_crlf() {
    require_root();
    let s = Scratch::new("crlf");
    let o = as_user(
        fixture(
            &s,
            APP_PASSWD.replace('\n', "\r\n"),
            APP_GROUP.replace('\n', "\r\n"),
        ),
        "app",
    );
    assert_ids(&o, 4321, 4321, &[4321, 5001, 5002], "CRLF files");
    assert_eq!(must_kv(&o, "env.HOME"), "/home/app", "no \\r in HOME");
    assert_eq!(must_kv(&o, "env.USER"), "app");
}

#[test]
fn etc_duplicates_first_wins() {
    require_root();
    let s = Scratch::new("dup");
    let pw = format!("{}app:x:0:0:second app is root:/root:/bin/sh\n", APP_PASSWD);
    let gr = format!("{}one:x:0:app\napp:x:0:\n", APP_GROUP);
    let o = as_user(fixture(&s, &pw, &gr), "app");
    // Membership scans every group line, as initgroups(3) does: the second
    // "one" (gid 0) lists app too.
    assert_ids(
        &o,
        4321,
        4321,
        &[4321, 5001, 5002, 0],
        "duplicated names: first passwd entry",
    );
    // Group names resolve to their first entry too.
    let o = as_user(fixture(&s, &pw, &gr), "app:one");
    assert_ids(
        &o,
        4321,
        5001,
        &[5001],
        "--user app:one with 'one' duplicated",
    );
}

#[test]
fn etc_nis_lines_are_skipped() {
    require_root();
    let s = Scratch::new("nis");
    let pw = format!(
        "+app::0:0:::\n+::0:0:::\n-app\n+@admins:x:0:0:::\n+\n{}",
        APP_PASSWD
    );
    let gr = format!("+one::0:app\n+:::\n-two\n{}+wheel::10:app\n", APP_GROUP);
    let o = as_user(fixture(&s, &pw, &gr), "app");
    assert_ids(
        &o,
        4321,
        4321,
        &[4321, 5001, 5002],
        "NIS lines before the real entry",
    );
    for spec in ["+", "+app", "+@admins"] {
        let o = as_user(fixture(&s, &pw, &gr), spec);
        assert_eq!(
            o.status.code(),
            Some(125),
            "--user {:?} must not match a NIS line: {}",
            spec,
            text(&o.stdout)
        );
        assert!(
            !text(&o.stdout).contains("Uid=0"),
            "--user {:?} ran as root",
            spec
        );
    }
}

// ---------------------------------------------------------------------------
// Hostile environment and starting conditions.
// ---------------------------------------------------------------------------

#[test]
fn path_empty_or_unset_never_means_cwd() {
    require_root();
    let s = Scratch::new("path");
    let name = "lockdrop-hardening-cwd-cmd";
    let mark = s.marker("ran-from-cwd");
    let touch = require_tool("touch");
    let script = s.write(
        name,
        format!("#!/bin/sh\n{} {}\n", touch.display(), mark.display()),
    );
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    for path in [Some(""), None] {
        // A command in the current directory is not found through an empty PATH.
        let mut c = lockdrop_cmd(&["--user", "nobody", "--", name]);
        c.current_dir(&s.0);
        match path {
            Some(p) => c.env("PATH", p),
            None => c.env_remove("PATH"),
        };
        let o = run(c);
        assert_failed(&o, 127, "command not found", &format!("PATH={:?}", path));
        assert!(
            !mark.exists(),
            "PATH={:?}: ran ./{} from the current directory",
            path,
            name
        );
        // A command in the default PATH is found.
        let mut c = lockdrop_cmd(&["--user", "nobody", "--", "true"]);
        match path {
            Some(p) => c.env("PATH", p),
            None => c.env_remove("PATH"),
        };
        status_ok(&run(c), &format!("true with PATH={:?}", path));
    }
}

#[test]
fn argv_bytes_pass_through_exactly() {
    require_root();
    let echo = require_tool("echo");
    let words: Vec<Vec<u8>> = vec![
        b"x".to_vec(),
        vec![0xff, 0xfe],
        b"a\x80b".to_vec(),
        b"\xc3\x28".to_vec(),
        b"-u".to_vec(),
        b"--".to_vec(),
        b"--user=root".to_vec(),
        Vec::new(),
        b"with space".to_vec(),
        b"line\nbreak".to_vec(),
        b"\xed\xa0\x80".to_vec(), // an encoded surrogate
    ];
    for user in [None, Some("nobody")] {
        let mut c = Command::new(lockdrop());
        if let Some(u) = user {
            c.args(["--user", u]);
        }
        c.arg("--").arg(&echo);
        for w in &words {
            c.arg(OsString::from_vec(w.clone()));
        }
        let o = run(c);
        status_ok(&o, "echo with non-UTF-8 words");
        let mut want = words.join(&b' ');
        want.push(b'\n');
        assert_eq!(o.stdout, want, "argv not byte-exact (user {:?})", user);
    }
    // A non-UTF-8 value for lockdrop's own option is refused cleanly.
    let mut c = Command::new(lockdrop());
    c.arg("--user")
        .arg(OsString::from_vec(vec![b'a', 0xff]))
        .arg("--")
        .arg("true");
    assert_failed(&run(c), 125, "UTF-8", "--user with a non-UTF-8 value");
}

/// The probe's signal state when started directly under `start()`, and
/// through lockdrop with `args`, must be identical.
fn signal_state_matches(args: &[&str], start: fn() -> Start, what: &str) {
    let direct = {
        let mut c = Command::new(probe());
        c.arg("status");
        start().apply(&mut c);
        run(c)
    };
    status_ok(&direct, "probe status directly");
    let through = {
        let mut c = lockdrop_cmd(args);
        c.arg("--").arg(probe()).arg("status");
        start().apply(&mut c);
        run(c)
    };
    status_ok(&through, what);
    for k in ["SigBlk", "SigIgn"] {
        assert_eq!(
            must_kv(&through, k),
            must_kv(&direct, k),
            "{}: {} differs from the caller's",
            what,
            k
        );
    }
    assert_eq!(
        must_kv(&through, "Uid"),
        "65534 65534 65534 65534",
        "{}",
        what
    );
}

fn full_mask_ignore_all() -> Start {
    Start {
        full_mask: true,
        ignore_all: true,
        ..Start::default()
    }
}
fn full_mask_only() -> Start {
    Start {
        full_mask: true,
        ..Start::default()
    }
}

#[test]
fn start_with_full_mask_and_ignored_signals_exec() {
    require_root();
    signal_state_matches(
        &["--exec", "--user", "nobody"],
        full_mask_ignore_all,
        "exec, full mask + all ignored",
    );
    signal_state_matches(
        &["--exec", "--user", "nobody"],
        full_mask_only,
        "exec, full mask",
    );
}

#[test]
fn start_with_full_mask_and_ignored_signals_supervise() {
    require_root();
    signal_state_matches(
        &["--supervise", "--user", "nobody"],
        full_mask_ignore_all,
        "supervise, full mask + all ignored",
    );
    signal_state_matches(
        &["--supervise", "--user", "nobody"],
        full_mask_only,
        "supervise, full mask",
    );
    // An ignored SIGCHLD makes the kernel reap children by itself: the
    // supervisor must still see the command's status.
    let mut c = lockdrop_cmd(&["--supervise", "--user", "nobody", "--"]);
    c.arg(probe()).args(["exit", "7"]);
    full_mask_ignore_all().apply(&mut c);
    let o = run(c);
    assert_eq!(
        o.status.code(),
        Some(7),
        "supervise with SIGCHLD ignored: {}\n{}",
        status_text(&o.status),
        text(&o.stderr)
    );
}

/// Started with fds 0, 1 and 2 closed, lockdrop must not hand the command
/// a descriptor of its own in their place (e.g. /etc/passwd as stdin), and
/// must fail cleanly when it cannot even print.
#[test]
fn start_with_closed_stdio() {
    require_root();
    let sh = require_tool("sh");
    let s = Scratch::new("closed");
    let script = |mark: &std::path::Path| format!("exec {} fds > {}", probe_s(), mark.display());
    // What the probe lists when started the same way without lockdrop: the
    // test runner may pass descriptors of its own down to every child.
    let base = s.marker("fds-direct");
    let mut c = Command::new(&sh);
    c.arg("-c").arg(script(&base));
    Start {
        close: vec![0, 1, 2],
        ..Start::default()
    }
    .apply(&mut c);
    status_ok(&run(c), "probe fds with closed stdio, directly");
    let want = std::fs::read_to_string(&base).expect("direct fds");
    assert!(want.starts_with("fds=1"), "direct run: {}", want);
    for mode in ["--exec", "--supervise"] {
        let mark = s.marker(&format!("fds{}", mode));
        let mut c = lockdrop_cmd(&[mode, "--user", "nobody", "--"]);
        // The shell opens the marker as fd 1; the probe lists what else it has.
        c.arg(&sh).arg("-c").arg(script(&mark));
        Start {
            close: vec![0, 1, 2],
            ..Start::default()
        }
        .apply(&mut c);
        let o = run(c);
        assert!(
            o.status.success(),
            "{} with closed stdio: {}",
            mode,
            status_text(&o.status)
        );
        let got = std::fs::read_to_string(&mark).unwrap_or_default();
        assert_eq!(
            got, want,
            "{}: the command got descriptors it was not given",
            mode
        );

        let mut c = lockdrop_cmd(&[mode, "--user", "no-such-user", "--", "true"]);
        Start {
            close: vec![0, 1, 2],
            ..Start::default()
        }
        .apply(&mut c);
        let o = run(c);
        assert_eq!(
            o.status.code(),
            Some(125),
            "{}: failure with closed stdio: {}",
            mode,
            status_text(&o.status)
        );
    }
}

/// /proc and /sys hidden (an empty tmpfs over each): lockdrop still runs
/// what it can, without panicking.
#[test]
fn proc_and_sys_missing() {
    require_root();
    let touch = require_tool("touch");
    let s = Scratch::new("noproc");
    for hide in [vec!["/proc"], vec!["/sys"], vec!["/proc", "/sys"]] {
        let mark = s.marker(&hide.join("").replace('/', "-"));
        let mut c = lockdrop_cmd(&[
            "--exec",
            "--user",
            "nobody",
            "-l",
            "nofile=4096",
            "--memlock",
            "1M",
            "--",
        ]);
        c.arg(&touch).arg(&mark);
        Start {
            hide: hide.iter().map(Into::into).collect(),
            ..Start::default()
        }
        .apply(&mut c);
        let o = run(c);
        assert!(
            o.status.code().is_some(),
            "{:?} hidden: lockdrop died of {}",
            hide,
            status_text(&o.status)
        );
        if o.status.success() {
            assert!(mark.exists());
        } else {
            assert_failed(&o, 125, "", &format!("{:?} hidden", hide));
            assert!(!mark.exists());
        }
    }
}

/// Inside a user namespace (rootless containers): staying "root" works, a
/// switch to an unmapped user fails cleanly, and a memlock promise is never
/// made that the kernel will not keep (CAP_IPC_LOCK inside a user namespace
/// does not lift RLIMIT_MEMLOCK: mlock checks it in the initial namespace).
#[test]
fn inside_user_namespace() {
    require_root();
    let unshare = require_tool("unshare");
    let touch = require_tool("touch");
    let s = Scratch::new("userns");
    let userns = |args: &[&str]| {
        let mut c = Command::new(&unshare);
        c.args(["--user", "--map-root-user", "--"])
            .arg(lockdrop())
            .args(args);
        c
    };
    for mode in ["--exec", "--supervise"] {
        let o = run({
            let mut c = userns(&[mode, "--"]);
            c.arg(probe()).arg("status");
            c
        });
        status_ok(&o, &format!("{}: no switch in a user namespace", mode));
        assert_eq!(must_kv(&o, "Uid"), "0 0 0 0");
    }

    let mark = s.marker("userns-switch");
    let o = run({
        let mut c = userns(&["--user", "nobody", "--"]);
        c.arg(&touch).arg(&mark);
        c
    });
    assert_failed(
        &o,
        125,
        "",
        "--user nobody inside a user namespace mapping only root",
    );
    assert!(!mark.exists());

    // 8 MiB hard memlock on this machine: asking for 64M inside a user
    // namespace must either really work or fail before starting.
    let o = run({
        let mut c = userns(&["--memlock", "64M", "--"]);
        c.arg(probe()).args(["mlock", "32M"]);
        c
    });
    let code = o.status.code();
    assert!(
        code == Some(0) || code == Some(125),
        "--memlock 64M in a user namespace: lockdrop promised it and mlock of 32M then failed ({}):\nstdout: {}\nstderr: {}",
        status_text(&o.status),
        text(&o.stdout),
        text(&o.stderr)
    );
}

// ---------------------------------------------------------------------------
// Security invariants, read from the command's /proc/self/status.
// ---------------------------------------------------------------------------

#[test]
fn invariant_switch_sets_every_id_and_exact_groups() {
    require_root();
    let s = Scratch::new("ids");
    let cases: &[(&str, Option<&str>, u32, &[u32])] = &[
        ("app", None, 4321, &[4321, 5001, 5002]),
        ("app:three", None, 5003, &[5003]),
        ("app:7777", None, 7777, &[7777]),
        ("4321:4321", None, 4321, &[4321]),
        ("app", Some("three,5001"), 4321, &[5003, 5001]),
        ("app", Some(""), 4321, &[]),
    ];
    for (spec, groups, gid, want) in cases {
        let mut c = lockdrop_cmd(&["--user", spec]);
        if let Some(g) = groups {
            c.args(["--groups", g]);
        }
        c.arg("--").arg(probe()).args(["status", ",", "setuid0"]);
        fixture(&s, APP_PASSWD, APP_GROUP).apply(&mut c);
        let o = run(c);
        let what = format!("--user {} --groups {:?}", spec, groups);
        assert_ids(&o, 4321, *gid, want, &what);
        for k in ["CapInh", "CapPrm", "CapEff", "CapAmb"] {
            assert_eq!(
                must_kv(&o, k),
                "0000000000000000",
                "{}: {} not empty",
                what,
                k
            );
        }
        assert_eq!(must_kv(&o, "NoNewPrivs"), "0", "{}", what);
        assert!(
            text(&o.stdout).contains("setuid0 denied errno=1"),
            "{}: child regained root:\n{}",
            what,
            text(&o.stdout)
        );
    }
}

#[test]
fn invariant_ambient_only_what_was_asked() {
    require_root();
    let s = Scratch::new("ambient");
    let mut c = lockdrop_cmd(&[
        "--user",
        "app",
        "--ambient-cap",
        "net_bind_service,CAP_NET_RAW",
        "--",
    ]);
    c.arg(probe()).args(["status", ",", "setuid0"]);
    fixture(&s, APP_PASSWD, APP_GROUP).apply(&mut c);
    let o = run(c);
    assert_ids(&o, 4321, 4321, &[4321, 5001, 5002], "--ambient-cap");
    let want = format!("{:016x}", (1u64 << 10) | (1u64 << 13));
    for k in ["CapInh", "CapPrm", "CapEff", "CapAmb"] {
        assert_eq!(
            must_kv(&o, k),
            want,
            "{} must be exactly NET_BIND_SERVICE+NET_RAW",
            k
        );
    }
    assert!(
        text(&o.stdout).contains("setuid0 denied"),
        "{}",
        text(&o.stdout)
    );
}

/// A set-uid-root copy of the probe: without --no-new-privs it becomes root
/// (the control: proves the bit works here); with it, it gains nothing.
#[test]
fn invariant_no_new_privs_defeats_setuid_helper() {
    require_root();
    let s = Scratch::new("nnp");
    assert_suid_allowed(&s.0);
    let helper = s.path("suid-probe");
    std::fs::copy(probe(), &helper).expect("copy probe");
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o4755)).expect("chmod 4755");
    for nnp in [false, true] {
        let mut c = lockdrop_cmd(&["--user", "app"]);
        if nnp {
            c.arg("--no-new-privs");
        }
        c.arg("--").arg(&helper).args(["status", ",", "setuid0"]);
        fixture(&s, APP_PASSWD, APP_GROUP).apply(&mut c);
        let o = run(c);
        status_ok(&o, "set-uid helper");
        let uid = must_kv(&o, "Uid");
        if nnp {
            assert_eq!(must_kv(&o, "NoNewPrivs"), "1");
            assert_eq!(
                uid, "4321 4321 4321 4321",
                "set-uid helper gained ids under no_new_privs"
            );
            assert!(text(&o.stdout).contains("setuid0 denied"));
        } else {
            assert_eq!(
                uid,
                "4321 0 0 0",
                "control: the set-uid bit should work in {}",
                s.0.display()
            );
        }
    }
}

fn refuses(prepare: impl Fn(&std::path::Path), what: &str) {
    let setpriv = require_tool("setpriv");
    let touch = require_tool("touch");
    let s = Scratch::new("refuse");
    assert_suid_allowed(&s.0);
    let copy = s.path("lockdrop");
    std::fs::copy(lockdrop(), &copy).expect("copy lockdrop");
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    prepare(&copy);
    let mark = s.marker("ran");
    let mut c = Command::new(setpriv);
    c.args([
        "--reuid",
        "65534",
        "--regid",
        "65534",
        "--clear-groups",
        "--",
    ])
    .arg(&copy)
    .args(["-l", "nofile=2048", "--"])
    .arg(&touch)
    .arg(&mark);
    let o = run(c);
    assert_failed(&o, 125, "set-uid, set-gid or with file capabilities", what);
    assert!(!mark.exists(), "{}: the command ran", what);
}

#[test]
fn invariant_refuses_setuid_setgid() {
    require_root();
    refuses(
        |p| std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o4755)).unwrap(),
        "set-uid root lockdrop",
    );
    refuses(
        |p| std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o2755)).unwrap(),
        "set-gid root lockdrop",
    );
}

#[test]
fn invariant_refuses_file_capabilities() {
    require_root();
    let setcap = require_tool("setcap");
    refuses(
        |p| {
            let o = Command::new(&setcap)
                .arg("cap_net_bind_service,cap_setuid+ep")
                .arg(p)
                .output()
                .expect("setcap");
            assert!(o.status.success(), "setcap: {}", text(&o.stderr));
        },
        "lockdrop with file capabilities",
    );
}

/// The supervising lockdrop (PID 1 of a new PID namespace) holds no
/// capability once the command runs but CAP_KILL when the command runs as
/// another user (it keeps its own uid, which the command cannot signal).
#[test]
fn invariant_supervisor_holds_no_capabilities() {
    require_root();
    let unshare = require_tool("unshare");
    let cat = require_tool("cat");
    for user in [Some("nobody"), None] {
        let mut c = Command::new(&unshare);
        c.args(["--pid", "--fork", "--mount-proc", "--"])
            .arg(lockdrop());
        if let Some(u) = user {
            c.args(["--user", u]);
        }
        // The supervisor drops its capabilities right after fork, while the
        // command may already run: wait (builtins only, bounded) until
        // CapPrm reads empty, then print the whole status for the checks.
        let script = "n=0; while [ $n -lt 200000 ]; do \
            while read -r k v; do [ \"$k\" = CapPrm: ] && p=$v; done < /proc/1/status; \
            case $p in 0000000000000000|0000000000000020) break;; esac; n=$((n+1)); done; exec \"$0\" /proc/1/status";
        c.arg("--")
            .arg(require_tool("sh"))
            .arg("-c")
            .arg(script)
            .arg(&cat);
        let o = run(c);
        status_ok(&o, "cat /proc/1/status under a supervising PID 1");
        let st = text(&o.stdout);
        let field = |k: &str| {
            st.lines()
                .find_map(|l| l.strip_prefix(k))
                .map(|v| v.trim().to_string())
                .unwrap_or_else(|| panic!("no {} in /proc/1/status:\n{}", k, st))
        };
        assert!(
            field("Name:").starts_with("lockdrop"),
            "PID 1 is not lockdrop (exec instead of supervise?):\n{}",
            st
        );
        let kill = if user.is_some() {
            "0000000000000020"
        } else {
            "0000000000000000"
        };
        for (k, want) in [
            ("CapInh:", "0000000000000000"),
            ("CapPrm:", kill),
            ("CapEff:", kill),
            ("CapAmb:", "0000000000000000"),
        ] {
            assert_eq!(
                field(k),
                want,
                "user {:?}: supervisor keeps capabilities ({})",
                user,
                k
            );
        }
        assert_eq!(
            field("Uid:").split_whitespace().collect::<Vec<_>>(),
            ["0"; 4],
            "supervisor uid"
        );
    }
}

/// TIOCSTI: a command dropped to another user must not share a session
/// whose controlling terminal belongs to root, or it could push keystrokes
/// into the root shell's input. With stdin a root-owned terminal, the
/// command runs in a new session, and TIOCSTI on that terminal fails.
#[test]
fn invariant_no_tiocsti_into_root_terminal() {
    require_root();
    let (master, slave_path) = common::pty_master();
    let slave = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&slave_path)
        .expect("open pty slave");
    // A copy the unprivileged command can execute whatever the checkout's mode.
    let me = util::reachable_copy_of(&std::env::current_exe().expect("test binary"), "hardening");
    let sh = require_tool("sh");
    // One reader for the whole test: the pty stays open (this test holds the
    // slave), so each run reads up to its report line.
    // SAFETY: F_DUPFD_CLOEXEC gives the reader thread its own descriptor.
    let rfd = unsafe { libc::fcntl(master, libc::F_DUPFD_CLOEXEC, 0) };
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        use std::os::fd::FromRawFd;
        // SAFETY: rfd is a fresh descriptor owned by this File.
        let f = unsafe { std::fs::File::from_raw_fd(rfd) };
        for l in BufReader::new(f).lines() {
            let Ok(l) = l else { break };
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    let mut failures = Vec::new();
    // "leader": lockdrop is the terminal's session leader (docker run -it, PID 1).
    // "shell": lockdrop is started by a root shell that owns the terminal.
    for shape in ["leader", "shell"] {
        for mode in ["--exec", "--supervise"] {
            let mut c = if shape == "leader" {
                lockdrop_cmd(&[])
            } else {
                let mut c = Command::new(&sh);
                c.args(["-c", "\"$0\" \"$@\"; exit $?"]).arg(lockdrop());
                c
            };
            c.args([mode, "--user", "nobody", "--"]);
            c.arg(&me).args([
                "--exact",
                "helper_tiocsti",
                "--nocapture",
                "--test-threads=1",
            ]);
            c.env("LOCKDROP_HARDENING_HELPER", "tiocsti");
            c.stdin(slave.try_clone().unwrap())
                .stdout(slave.try_clone().unwrap())
                .stderr(slave.try_clone().unwrap());
            // SAFETY: setsid and TIOCSCTTY in the forked child: the pty becomes
            // the controlling terminal of a root session.
            unsafe {
                use std::os::unix::process::CommandExt;
                c.pre_exec(|| {
                    libc::setsid();
                    if libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
            let child = c.spawn().expect("spawn lockdrop on a pty");
            let out = wait_deadline(child, Duration::from_secs(60), "lockdrop on a pty");
            let mut lines = Vec::new();
            while let Ok(l) = rx.recv_timeout(Duration::from_secs(10)) {
                let done = l.contains("tiocsti denied") || l.contains("tiocsti injected");
                lines.push(l);
                if done {
                    break;
                }
            }
            let all = lines.join("\n");
            let report = lines.iter().find_map(|l| {
                l.find("tiocsti denied")
                    .or_else(|| l.find("tiocsti injected"))
                    .map(|i| l[i..].trim().to_string())
            });
            match report {
                Some(r) if r.contains("denied") && out.status.success() => {}
                r => failures.push(format!(
                    "{} {}: {} ({}); the unprivileged command must not be able to inject input into root's terminal:\n{}",
                    shape,
                    mode,
                    r.unwrap_or_else(|| "no report".into()),
                    status_text(&out.status),
                    all
                )),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    drop(slave);
    // SAFETY: closing our own descriptor.
    unsafe { libc::close(master) };
}

/// Not a test on its own: run by `invariant_no_tiocsti_into_root_terminal`
/// as the command under lockdrop (LOCKDROP_HARDENING_HELPER=tiocsti).
#[test]
fn helper_tiocsti() {
    if std::env::var("LOCKDROP_HARDENING_HELPER").as_deref() != Ok("tiocsti") {
        return;
    }
    let c: libc::c_char = b'\n' as libc::c_char;
    // SAFETY: TIOCSTI takes a pointer to one byte.
    let r = unsafe { libc::ioctl(0, libc::TIOCSTI, &c) };
    // SAFETY: getsid/getpid take no pointers.
    let (sid, pid) = unsafe { (libc::getsid(0), libc::getpid()) };
    let line = if r == 0 {
        format!("\ntiocsti injected sid={} pid={}\n", sid, pid)
    } else {
        format!(
            "\ntiocsti denied errno={} sid={} pid={}\n",
            std::io::Error::last_os_error().raw_os_error().unwrap_or(0),
            sid,
            pid
        )
    };
    // SAFETY: write to stdout, then leave without the harness's output.
    unsafe {
        libc::write(1, line.as_ptr().cast(), line.len());
        libc::_exit(0);
    }
}

// ---------------------------------------------------------------------------
// Signals while supervising.
// ---------------------------------------------------------------------------

/// Tens of thousands of mixed signals at the supervising lockdrop: no hang,
/// no crash, each kind reaches the command, and a final TERM still stops it
/// with lockdrop exiting with the command's status.
#[test]
fn signal_storm_while_supervising() {
    require_root();
    let mut child = lockdrop_cmd(&["--supervise", "--"])
        .arg(probe())
        .args(["status", ",", "signals"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn lockdrop --supervise");
    let pid = child.id() as i32;
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for l in BufReader::new(stdout).lines() {
            let Ok(l) = l else { break };
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    let mut child_pid = None;
    loop {
        let l = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("probe never became ready");
        if let Some(p) = l.strip_prefix("Pid=") {
            child_pid = p.trim().parse::<i32>().ok();
        }
        if l == "ready" {
            break;
        }
    }
    assert_ne!(
        child_pid,
        Some(pid),
        "the command replaced lockdrop: --supervise did not supervise"
    );
    let rt = libc::SIGRTMIN();
    let mix = [
        libc::SIGHUP,
        libc::SIGUSR1,
        libc::SIGUSR2,
        libc::SIGWINCH,
        libc::SIGALRM,
        libc::SIGURG,
        libc::SIGCONT,
        libc::SIGPIPE,
        rt,
        rt + 1,
        libc::SIGRTMAX() - 1,
    ];
    const STORM: usize = 30_000;
    for i in 0..STORM {
        // SAFETY: kill takes integers; pid is our live child.
        let r = unsafe { libc::kill(pid, mix[i % mix.len()]) };
        assert_eq!(
            r, 0,
            "lockdrop vanished during the storm after {} signals",
            i
        );
    }
    // Pending signals are delivered lowest number first, not in the order
    // sent (signal(7)), both to lockdrop and to the probe: a TERM sent now
    // could overtake queued real-time signals. So wait (bounded) until every
    // kind of the storm has arrived, then send the final TERM.
    let mut lines: Vec<String> = Vec::new();
    let want: std::collections::BTreeSet<i32> = mix.iter().copied().collect();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let seen: std::collections::BTreeSet<i32> = lines
            .iter()
            .filter_map(|l| l.strip_prefix("sig ")?.parse().ok())
            .collect();
        if want.is_subset(&seen) {
            break;
        }
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(l) => lines.push(l),
            Err(_) => break, // the assertions below say which kind is missing
        }
    }
    // SAFETY: as above.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let out = wait_deadline(
        child,
        Duration::from_secs(60),
        "lockdrop after a signal storm",
    );
    let _ = reader.join();
    lines.extend(rx.try_iter());
    assert_eq!(
        out.status.code(),
        Some(0),
        "lockdrop after the storm: {}\nstderr:\n{}",
        status_text(&out.status),
        text(&out.stderr)
    );
    let got: std::collections::BTreeSet<i32> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("sig ")?.parse().ok())
        .collect();
    for s in mix {
        assert!(
            got.contains(&s),
            "signal {} never reached the command (got {:?})",
            s,
            got
        );
    }
    assert_eq!(
        lines.last().map(String::as_str),
        Some("sig 15"),
        "the final TERM was not the last thing the command saw"
    );
    assert!(
        text(&out.stderr).trim().is_empty(),
        "lockdrop complained:\n{}",
        text(&out.stderr)
    );
}

/// The command exits at the moment a signal arrives, hundreds of times:
/// lockdrop always ends with the command's status (7) or, when the forwarded
/// signal won, 128+USR1; it never hangs and never dies of the signal itself.
#[test]
fn child_exit_races_signal() {
    require_root();
    let mut outcomes = std::collections::BTreeMap::new();
    for i in 0..300u32 {
        let mut child = lockdrop_cmd(&["--supervise", "--"])
            .arg(probe())
            .args(["status", ",", "exit", "7"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let pid = child.id() as i32;
        let mut r = BufReader::new(child.stdout.take().expect("stdout"));
        // The probe's first line: the child exists, lockdrop's signals are blocked.
        let mut first = String::new();
        let _ = r.read_line(&mut first);
        // Spread the signal over the child's last microseconds.
        for _ in 0..(i % 40) * 50 {
            std::hint::spin_loop();
        }
        // SAFETY: kill takes integers; pid is our unreaped child.
        unsafe { libc::kill(pid, libc::SIGUSR1) };
        let rest = std::thread::spawn(move || drain(r));
        let out = wait_deadline(
            child,
            Duration::from_secs(30),
            "lockdrop in the exit/signal race",
        );
        let _ = rest.join();
        assert!(
            out.status.signal().is_none(),
            "run {}: lockdrop itself died of signal {:?}",
            i,
            out.status.signal()
        );
        let code = out.status.code().unwrap_or(-1);
        assert!(
            code == 7 || code == 128 + libc::SIGUSR1,
            "run {}: exit {} (want 7 or {}); stderr:\n{}",
            i,
            code,
            128 + libc::SIGUSR1,
            text(&out.stderr)
        );
        *outcomes.entry(code).or_insert(0) += 1;
    }
    eprintln!("exit/signal race outcomes: {:?}", outcomes);
}

// ---------------------------------------------------------------------------
// Inputs the fuzzers found (scripts/fuzz.sh): each stays fixed.
// ---------------------------------------------------------------------------

#[test]
fn fuzz_regressions() {
    use lockdrop::model::{signals, sysctl};
    let mut failures = Vec::new();
    // fuzz/signals: a negative offset named another signal ("RTMAX--43" was
    // signal 107, "RTMIN+-20" SIGALRM's 14) and a huge one overflowed.
    for s in [
        "RTMAX--43",
        "rTMAX--3208",
        "RTMIN+-20",
        "RTMIN+-100",
        "RTMIN+2147483647",
        "RTMAX-2147483647",
    ] {
        if let Ok(n) = signals::parse_signal(s) {
            failures.push(format!("parse_signal({:?}) = {}, want an error", s, n));
        }
    }
    // fuzz/sysctl: keys validated before `/` became `.` came out malformed
    // (".swappiness", "vm...max_map_count").
    for s in ["/swappiness<=1", "vm/./max_map_count>=1", "vm/>=1"] {
        if let Ok(r) = sysctl::parse(s) {
            failures.push(format!(
                "sysctl::parse({:?}) gave key {:?}, want an error",
                s, r.key
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// fuzz/doctor: percentages of u64 values read from /proc and cgroup files
/// overflowed (a panic with overflow checks, a wrong number without them).
#[test]
fn fuzz_regressions_doctor() {
    use lockdrop::host::fixture::Fixture;
    let s = Scratch::new("doctor");
    let w = |p: &str, t: &str| {
        let f = s.0.join(p);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, t).unwrap();
    };
    w(
        "proc/sys/fs/file-nr",
        "1152921504606846976 0 2305843009213693952\n",
    );
    w("proc/self/cgroup", "0::/\n");
    w("sys/fs/cgroup/memory.max", "2305843009213693952\n");
    w("sys/fs/cgroup/memory.current", "2305843009213693952\n");
    w(
        "proc/meminfo",
        "SwapTotal: 18446744073709551615 kB\nSwapFree: 0 kB\n",
    );
    let host = Fixture::at(&s.0).build();
    let text = lockdrop::report::doctor::to_text(&lockdrop::report::doctor::report(&host));
    assert!(
        text.contains("(50%)"),
        "fs.file-nr at 2^60 of 2^61 is 50%:\n{}",
        text
    );
    assert!(
        text.contains("at 100% of the cgroup limit"),
        "memory 2^61 of 2^61 is 100%:\n{}",
        text
    );
}

/// PID reuse in the not-PID-1 teardown: the /proc snapshot names a pid
/// that now belongs to an unrelated process (the fault-injection build
/// puts one in: LOCKDROP_FAULT_STALE_PID). The teardown (SIGTERM, then
/// SIGKILL after --grace) must leave it alone: lockdrop signals through a
/// pidfd after reading the ancestry again, not by number.
#[test]
fn teardown_spares_a_reused_pid() {
    require_root();
    let sleep = require_tool("sleep");
    let sh = require_tool("sh");
    for grace in ["0", "200ms"] {
        let mut bystander = Command::new(&sleep)
            .arg("1000")
            .spawn()
            .expect("start a bystander");
        let mut c = Command::new(fault_lockdrop());
        // The command leaves a SIGTERM-ignoring sleep, so the teardown
        // walks /proc and (with a grace period) ends with SIGKILL.
        c.env_remove("LOCKDROP_FAULT")
            .env("LOCKDROP_FAULT_STALE_PID", bystander.id().to_string())
            .args(["--supervise", "--grace", grace, "--"])
            .arg(&sh)
            .arg("-c")
            .arg("trap '' TERM; \"$0\" 0.5 & exit 0")
            .arg(&sleep);
        let o = run(c);
        status_ok(&o, &format!("--grace {} with a stale pid", grace));
        let alive = bystander.try_wait().expect("try_wait").is_none();
        let _ = bystander.kill();
        let _ = bystander.wait();
        assert!(
            alive,
            "--grace {}: the teardown signalled an unrelated process by a stale pid",
            grace
        );
    }
}
