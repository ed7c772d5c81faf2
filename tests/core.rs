//! The core, end to end: the built binary run as root in a private mount
//! namespace with fixture /etc/passwd and /etc/group, starting conditions
//! shaped with setpriv and prlimit, and the probe reporting what the command
//! really got. Needs root (CI is root): a missing prerequisite fails.
// Probes and fixtures make raw syscalls; Cargo.toml denies `unsafe` by default.
#![allow(unsafe_code)]
mod common;
use common::*;

fn probe_s() -> String {
    probe().display().to_string()
}

#[test]
fn ambient_path_locks_beyond_the_hard_limit_as_unprivileged_user() {
    // This machine: memlock hard 8 MiB, CAP_IPC_LOCK present, no CAP_SYS_RESOURCE.
    let p = probe_s();
    let out = run_with_fixture(
        &[],
        &[
            "--user",
            "app",
            "--memlock",
            "unlimited",
            "--",
            &p,
            "mlock",
            "64M",
            ",",
            "status",
        ],
        &[],
    );
    assert_eq!(code(&out), 0, "{}", show(&out));
    let s = text(&out.stdout);
    assert!(s.contains("mlock ok bytes=67108864"), "{}", show(&out));
    assert_eq!(field(&out, "Uid"), "1000 1000 1000 1000");
    assert_eq!(field(&out, "Gid"), "1000 1000 1000 1000");
    assert_eq!(field(&out, "CapAmb"), "0000000000004000");
    assert_eq!(field(&out, "CapEff"), "0000000000004000");
    assert_eq!(field(&out, "CapPrm"), "0000000000004000");
    assert_eq!(field(&out, "CapInh"), "0000000000004000");
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "one notice line: {}", err);
    assert!(err.contains("ambient"), "{}", err);
}

#[test]
fn rlimit_strategy_fails_cleanly_without_sys_resource() {
    let dir = scratch("marker");
    let marker = dir.join("ran");
    let out = run_with_fixture(
        &[],
        &[
            "--user",
            "app",
            "--memlock",
            "unlimited",
            "--memlock-via",
            "rlimit",
            "--",
            "/bin/sh",
            "-c",
            &format!("touch {}", marker.display()),
        ],
        &[],
    );
    assert_eq!(code(&out), 125, "{}", show(&out));
    assert!(!marker.exists(), "the command must not run");
    let err = text(&out.stderr);
    assert!(
        err.starts_with("lockdrop: error: the command must lock unlimited"),
        "{}",
        err
    );
    assert!(
        err.contains("--ulimit memlock=-1:-1")
            && err.contains("kubernetes")
            && err.contains("compose"),
        "{}",
        err
    );
}

#[test]
fn nothing_to_lock_with_gives_the_fixes() {
    let p = probe_s();
    let out = run_with_fixture(
        &["setpriv", "--bounding-set", "-ipc_lock"],
        &["--user", "app", "--memlock", "64M", "--", &p, "status"],
        &[],
    );
    assert_eq!(code(&out), 125, "{}", show(&out));
    let err = text(&out.stderr);
    assert!(
        err.contains("neither CAP_SYS_RESOURCE nor CAP_IPC_LOCK is available"),
        "{}",
        err
    );
    assert!(
        err.contains("--cap-add IPC_LOCK") && err.contains("capabilities.add: [\"IPC_LOCK\"]"),
        "{}",
        err
    );
    assert!(
        !text(&out.stdout).contains("Uid="),
        "the command must not run"
    );
}

#[test]
fn soft_limit_raised_within_hard_without_privilege() {
    let p = probe_s();
    let out = run_with_fixture(
        &[
            "prlimit",
            "--memlock=65536:8388608",
            "setpriv",
            "--bounding-set",
            "-ipc_lock",
            "--",
        ],
        &[
            "--user",
            "app",
            "--memlock",
            "8M",
            "--",
            &p,
            "mlock",
            "1M",
            ",",
            "status",
        ],
        &[],
    );
    assert_eq!(code(&out), 0, "{}", show(&out));
    assert_eq!(field(&out, "rlimit.memlock"), "8388608:8388608");
    assert!(text(&out.stdout).contains("mlock ok"), "{}", show(&out));
    assert_eq!(field(&out, "CapAmb"), "0000000000000000");
}

#[test]
fn switch_without_ambient_leaves_no_capabilities() {
    let p = probe_s();
    let out = run_with_fixture(
        &[],
        &["--user", "app", "--", &p, "status", ",", "setuid0"],
        &[("PROBE_MARK", "kept")],
    );
    assert_eq!(code(&out), 0, "{}", show(&out));
    for k in ["CapInh", "CapPrm", "CapEff", "CapAmb"] {
        assert_eq!(field(&out, k), "0000000000000000", "{}", k);
    }
    assert_eq!(field(&out, "Groups"), "10 1000 2001");
    assert_eq!(field(&out, "env.HOME"), "/home/app");
    assert_eq!(field(&out, "env.USER"), "app");
    assert_eq!(field(&out, "env.LOGNAME"), "app");
    assert_eq!(field(&out, "env.PROBE_MARK"), "kept");
    assert_eq!(field(&out, "NoNewPrivs"), "0");
    assert!(
        text(&out.stdout).contains("setuid0 denied errno=1"),
        "{}",
        show(&out)
    );
    assert!(out.stderr.is_empty(), "{}", show(&out));
}

#[test]
fn explicit_group_means_only_that_group_and_groups_override() {
    let p = probe_s();
    let out = run_with_fixture(&[], &["-u", "app:wheel", &p, "status"], &[]);
    assert_eq!(field(&out, "Gid"), "10 10 10 10");
    assert_eq!(field(&out, "Groups"), "10");
    let out = run_with_fixture(&[], &["-u", "app", "--groups", "data,7", &p, "status"], &[]);
    assert_eq!(field(&out, "Groups"), "7 2001");
    let out = run_with_fixture(&[], &["-u", "app", "--groups", "", &p, "status"], &[]);
    assert_eq!(field(&out, "Groups"), "");
}

#[test]
fn numeric_ids_without_passwd_entry() {
    let p = probe_s();
    let out = run_with_fixture(&[], &["--user", "4242:4343", &p, "status"], &[]);
    assert_eq!(code(&out), 0, "{}", show(&out));
    assert_eq!(field(&out, "Uid"), "4242 4242 4242 4242");
    assert_eq!(field(&out, "Groups"), "4343");
    assert_eq!(field(&out, "env.HOME"), "/");
    let out = run_with_fixture(&[], &["--user", "4242", &p, "status"], &[]);
    assert_fails(&out, 125, "--user 4242:GID");
}

#[test]
fn ambient_cap_and_no_new_privs() {
    let p = probe_s();
    let out = run_with_fixture(
        &[],
        &[
            "--user",
            "app",
            "--ambient-cap",
            "NET_BIND_SERVICE",
            "--no-new-privs",
            &p,
            "status",
        ],
        &[],
    );
    assert_eq!(code(&out), 0, "{}", show(&out));
    assert_eq!(field(&out, "CapAmb"), "0000000000000400");
    assert_eq!(field(&out, "CapEff"), "0000000000000400");
    assert_eq!(field(&out, "NoNewPrivs"), "1");
}

#[test]
fn limits_survive_the_user_switch() {
    // nofile hard is 20000 here: raise the soft limit to it, lower nproc.
    let p = probe_s();
    let out = run_with_fixture(
        &["prlimit", "--nofile=1024:20000", "--"],
        &[
            "--user",
            "app",
            "-l",
            "nofile=20000",
            "-l",
            "RLIMIT_NPROC=4096:8192",
            "-l",
            "core=0:0",
            "-l",
            "fsize=1G",
            &p,
            "status",
        ],
        &[],
    );
    assert_eq!(code(&out), 0, "{}", show(&out));
    assert_eq!(field(&out, "rlimit.nofile"), "20000:20000");
    assert_eq!(field(&out, "rlimit.nproc"), "4096:8192");
    assert_eq!(field(&out, "rlimit.core"), "0:0");
    // A single value sets the soft limit and never lowers the hard one.
    assert_eq!(field(&out, "rlimit.fsize"), "1073741824:unlimited");
}

#[test]
fn raising_a_hard_limit_needs_sys_resource() {
    let out = run_with_fixture(
        &["prlimit", "--nofile=1024:20000", "--"],
        &["--user", "app", "-l", "nofile=40000", "/bin/true"],
        &[],
    );
    assert_eq!(code(&out), 125, "{}", show(&out));
    let err = text(&out.stderr);
    assert!(
        err.contains("CAP_SYS_RESOURCE is missing")
            && err.contains("RLIMIT_NOFILE")
            && err.contains("--ulimit"),
        "{}",
        err
    );
}

#[test]
fn nofile_above_nr_open_quotes_nr_open() {
    let nr_open = std::fs::read_to_string("/proc/sys/fs/nr_open").unwrap();
    let out = run_with_fixture(&[], &["-l", "nofile=unlimited", "/bin/true"], &[]);
    assert_eq!(code(&out), 125, "{}", show(&out));
    assert!(
        text(&out.stderr).contains(&format!("fs.nr_open = {}", nr_open.trim())),
        "{}",
        show(&out)
    );
}

#[test]
fn missing_setuid_capability_is_reported_before_anything_changes() {
    let out = run_with_fixture(
        &["setpriv", "--bounding-set", "-setuid"],
        &["--user", "app", "/bin/true"],
        &[],
    );
    assert_fails(&out, 125, "CAP_SETUID is missing");
}

#[test]
fn require_cap_accepts_every_spelling() {
    for spelling in ["ipc_lock", "IPC_LOCK", "CAP_IPC_LOCK", "cap_ipc_lock"] {
        let out = run_with_fixture(&[], &["--require-cap", spelling, "/bin/true"], &[]);
        assert_eq!(code(&out), 0, "{}: {}", spelling, show(&out));
    }
    let out = run_with_fixture(&[], &["--require-cap", "sys_resource", "/bin/true"], &[]);
    assert_eq!(code(&out), 125);
    assert!(
        text(&out.stderr).contains("--cap-add SYS_RESOURCE"),
        "{}",
        show(&out)
    );
}

/// Every bad input: exit 125, one line naming the input, and the command never runs.
#[test]
fn bad_input_exits_125_with_one_line() {
    let dir = scratch("bad");
    let marker = dir.join("ran");
    let touch = format!("touch {}", marker.display());
    let cases: &[(&[&str], &str)] = &[
        (&["--user", "nosuch"], "unknown user \"nosuch\""),
        (&["--user", "app:nosuch"], "unknown group \"nosuch\""),
        (&["--user", "app:"], "empty group"),
        (&["--user", "-1"], "invalid user name"),
        (&["--user", "4294967295:0"], "out of range"),
        (&["--require-cap", "IPC_LOKC"], "did you mean IPC_LOCK"),
        (&["--ambient-cap", "CAP_CAP_IPC_LOCK"], "containerd"),
        (&["-l", "memlocks=1"], "unknown resource limit"),
        (&["-l", "nofile=2:1"], "above the hard limit"),
        (&["-l", "nofile"], "NAME=SOFT[:HARD]"),
        (&["--memlock", "lots"], "invalid limit value \"lots\""),
        (&["--memlock-via", "magic"], "--memlock-via"),
        (&["--grace", "soon"], "invalid duration"),
        (&["--bogus"], "--bogus"),
    ];
    for (args, want) in cases {
        let mut a: Vec<&str> = args.to_vec();
        a.extend(["/bin/sh", "-c", &touch]);
        let out = run_with_fixture(&[], &a, &[]);
        assert_eq!(code(&out), 125, "{:?}: {}", args, show(&out));
        let err = text(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{:?}: one line: {}", args, err);
        assert!(
            err.starts_with("lockdrop: error: ") && err.contains(want),
            "{:?}: {}",
            args,
            err
        );
        assert!(!marker.exists(), "{:?}: the command ran", args);
    }
    let out = run_with_fixture(&[], &["--user", "app"], &[]);
    assert_eq!(code(&out), 125);
    assert!(
        text(&out.stderr).contains("no command given"),
        "{}",
        show(&out)
    );
}

#[test]
fn missing_passwd_is_fatal_only_for_names() {
    // A tmpfs over /etc: no passwd, no group.
    let p = probe_s();
    let run = |args: &[&str]| {
        in_private_mount_ns("mount -t tmpfs none /etc && exec \"$@\"")
            .arg(lockdrop())
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["--user", "app", &p, "status"]);
    assert_fails(&out, 125, "cannot read /etc/passwd");
    let out = run(&["--user", "1000:1000", &p, "status"]);
    assert_eq!(code(&out), 0, "{}", show(&out));
    assert_eq!(field(&out, "Uid"), "1000 1000 1000 1000");
}

#[test]
fn non_root_start() {
    let p = probe_s();
    let as_app = [
        "setpriv",
        "--reuid",
        "1000",
        "--regid",
        "1000",
        // app's groups in the fixture: then --user app changes nothing.
        "--groups",
        "1000,10,2001",
        "--",
    ];
    // Same user: a no-op, and soft limits can still be raised.
    let out = run_with_fixture(
        &as_app,
        &["--user", "app", "-l", "nofile=20000", &p, "status"],
        &[],
    );
    assert_eq!(code(&out), 0, "{}", show(&out));
    assert_eq!(field(&out, "Uid"), "1000 1000 1000 1000");
    // Another user: says lockdrop must start as root.
    let out = run_with_fixture(&as_app, &["--user", "svc", &p, "status"], &[]);
    assert_fails(&out, 125, "needs lockdrop to start as root");
    // Same uid and gid but other groups: never silently left as they are.
    let no_groups = [
        "setpriv",
        "--reuid",
        "1000",
        "--regid",
        "1000",
        "--clear-groups",
        "--",
    ];
    let out = run_with_fixture(&no_groups, &["--user", "app", &p, "status"], &[]);
    assert_fails(
        &out,
        125,
        "setting the supplementary groups to [1000, 10, 2001]",
    );
}

#[test]
fn exit_codes_in_exec_mode() {
    let dir = scratch("exec");
    let noexec = dir.join("script");
    std::fs::write(&noexec, "#!/bin/sh\nexit 0\n").unwrap();
    let out = run_with_fixture(&[], &["--exec", "definitely-not-a-command-xyz"], &[]);
    assert_fails(&out, 127, "command not found: definitely-not-a-command-xyz");
    let out = run_with_fixture(&[], &["--exec", noexec.to_str().unwrap()], &[]);
    assert_eq!(code(&out), 126, "{}", show(&out));
    let out = run_with_fixture(&[], &["--exec", "sh", "-c", "exit 42"], &[]);
    assert_eq!(code(&out), 42, "{}", show(&out));
}

#[test]
fn workdir_is_entered_as_the_target_user() {
    let p = probe_s();
    let out = run_with_fixture(&[], &["--user", "app", "-w", "/tmp", &p, "status"], &[]);
    assert_eq!(field(&out, "cwd"), "/tmp");
    let out = run_with_fixture(&[], &["--user", "app", "-w", "/root", &p, "status"], &[]);
    assert_fails(&out, 125, "chdir failed");
}

#[test]
fn exec_mode_keeps_the_callers_signal_dispositions() {
    // Rust's runtime ignores SIGPIPE before main; lockdrop must not pass that
    // on: the command sees exactly what the probe sees when run directly.
    let p = probe_s();
    let direct = std::process::Command::new(&p)
        .arg("status")
        .output()
        .unwrap();
    let out = std::process::Command::new(lockdrop())
        .args(["--exec", &p, "status"])
        .output()
        .unwrap();
    // Under qemu-user (scripts/emulated.sh) only the standard signals
    // compare: qemu itself ignores host signals from 32 up, which it keeps
    // for its own use, and the command inherits that from qemu, not lockdrop.
    let ign = |o: &std::process::Output| {
        let v = u64::from_str_radix(&field(o, "SigIgn"), 16).unwrap();
        if emulated() {
            v & 0x7fff_ffff
        } else {
            v
        }
    };
    assert_eq!(ign(&out), ign(&direct), "{}", show(&out));
    assert_eq!(
        field(&out, "SigBlk"),
        field(&direct, "SigBlk"),
        "{}",
        show(&out)
    );
    let sig_ign = u64::from_str_radix(&field(&out, "SigIgn"), 16).unwrap();
    assert_eq!(
        sig_ign & (1 << (libc::SIGPIPE - 1)),
        0,
        "SIGPIPE ignored: {}",
        show(&out)
    );
}

#[test]
fn environment_variables_and_flags_precedence() {
    let p = probe_s();
    let out = run_with_fixture(&[], &["--exec", &p, "status"], &[("LOCKDROP_USER", "app")]);
    assert_eq!(field(&out, "Uid"), "1000 1000 1000 1000");
    let out = run_with_fixture(
        &[],
        &["--exec", "--user", "svc", &p, "status"],
        &[("LOCKDROP_USER", "app")],
    );
    assert_eq!(field(&out, "Uid"), "1001 1001 1001 1001");
}

#[test]
fn path_lookup_and_non_utf8_arguments() {
    use std::os::unix::ffi::OsStrExt;
    let dir = probe().parent().unwrap().to_path_buf();
    let out = std::process::Command::new(lockdrop())
        .args(["--exec", "probe", "status"])
        .env("PATH", format!("/nonexistent:{}", dir.display()))
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", show(&out));
    let bad = std::ffi::OsStr::from_bytes(b"a\xffb");
    let out = std::process::Command::new(lockdrop())
        .args(["--exec", "printf", "%s"])
        .arg(bad)
        .output()
        .unwrap();
    assert_eq!(out.stdout, b"a\xffb");
}

#[test]
fn help_and_version() {
    let out = std::process::Command::new(lockdrop())
        .arg("--help")
        .output()
        .unwrap();
    assert_eq!(code(&out), 0);
    let h = text(&out.stdout);
    for s in ["--user", "--memlock", "LOCKDROP_USER", "125", "126", "127"] {
        assert!(h.contains(s), "{}", s);
    }
    let out = std::process::Command::new(lockdrop())
        .arg("-V")
        .output()
        .unwrap();
    // "lockdrop VERSION (commit HASH, TRIPLE)": which release binary this is.
    let v = text(&out.stdout);
    let want = format!("lockdrop {} (commit ", env!("CARGO_PKG_VERSION"));
    assert!(v.starts_with(&want), "{}", v);
    let (commit, triple) = v[want.len()..]
        .trim_end()
        .strip_suffix(')')
        .and_then(|r| r.split_once(", "))
        .unwrap_or_else(|| panic!("{}", v));
    assert!(
        commit == "unknown" || (commit.len() >= 7 && commit.bytes().all(|b| b.is_ascii_hexdigit())),
        "{}",
        v
    );
    // scripts/emulated.sh names the triple of the binary it hands in.
    match std::env::var("LOCKDROP_TRIPLE") {
        Ok(t) if !t.is_empty() => assert_eq!(triple, t),
        _ => assert!(triple.contains("-linux-"), "{}", v),
    }
}

/// Several failed checks: each is its own `lockdrop: error:` line with its
/// fix under it (the second never reads like the first one's fix), and the
/// command never runs.
#[test]
fn several_failed_checks_are_each_an_error() {
    let dir = scratch("several");
    let marker = dir.join("ran");
    let touch = format!("touch {}", marker.display());
    // This machine lacks CAP_SYS_RESOURCE, and no kernel allows this many map areas.
    let out = run_with_fixture(
        &[],
        &[
            "--user",
            "app",
            "--require-cap",
            "sys_resource",
            "--sysctl",
            "vm.max_map_count>=2147483647",
            "/bin/sh",
            "-c",
            &touch,
        ],
        &[],
    );
    assert_eq!(code(&out), 125, "{}", show(&out));
    let err = text(&out.stderr);
    let errors: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("lockdrop: error: "))
        .collect();
    assert_eq!(errors.len(), 2, "{}", err);
    assert!(errors[0].contains("CAP_SYS_RESOURCE"), "{}", err);
    assert!(errors[1].contains("vm.max_map_count"), "{}", err);
    // Each error is followed by its own fix line.
    let lines: Vec<&str> = err.lines().collect();
    for (i, l) in lines.iter().enumerate() {
        if l.starts_with("lockdrop: error: ") {
            assert!(
                lines
                    .get(i + 1)
                    .is_some_and(|n| n.starts_with("lockdrop:   fix: ")),
                "{}",
                err
            );
        }
    }
    assert!(!marker.exists(), "the command ran");
}
