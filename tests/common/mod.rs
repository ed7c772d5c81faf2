//! Shared helpers for the integration tests that run the built binary:
//! locating lockdrop and the probe, fixture /etc/passwd and /etc/group
//! through a private mount namespace, and running with a deadline.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

pub const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\n\
app:x:1000:1000:App:/home/app:/bin/sh\n\
svc:x:1001:1001::/srv/svc:/bin/sh\n\
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
pub const GROUP: &str = "root:x:0:\n\
app:x:1000:\n\
svc:x:1001:\n\
wheel:x:10:app,svc\n\
data:x:2001:app\n\
nogroup:x:65534:\n";

/// The lockdrop under test: the build's own binary, or LOCKDROP_BIN (another
/// architecture's release binary, scripts/emulated.sh), run through
/// LOCKDROP_RUNNER (e.g. `qemu-aarch64-static`) when set. With a runner the
/// path is a wrapper script that execs `RUNNER BIN "$@"`, so the emulated
/// lockdrop keeps the wrapper's pid (PID 1 of a namespace stays PID 1).
pub fn lockdrop() -> PathBuf {
    static BIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(|| lockdrop_under_test(env!("CARGO_BIN_EXE_lockdrop")))
        .clone()
}

/// lockdrop runs under an emulator (LOCKDROP_RUNNER): qemu-user keeps a few
/// host real-time signals for itself, and their dispositions reach the
/// command it execs.
pub fn emulated() -> bool {
    std::env::var("LOCKDROP_RUNNER").is_ok_and(|r| !r.trim().is_empty())
}

pub fn lockdrop_under_test(built: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let bin = match std::env::var_os("LOCKDROP_BIN") {
        Some(b) if !b.is_empty() => PathBuf::from(b),
        _ => return PathBuf::from(built),
    };
    assert!(
        bin.is_file(),
        "LOCKDROP_BIN={} is not a file",
        bin.display()
    );
    let bin = std::fs::canonicalize(&bin).unwrap();
    let runner = std::env::var("LOCKDROP_RUNNER").unwrap_or_default();
    if runner.trim().is_empty() {
        return bin;
    }
    // Absolute, so that tests that change PATH still reach the runner.
    let mut words = runner.split_whitespace();
    let first = words.next().unwrap();
    let abs = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join(first))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "LOCKDROP_RUNNER={}: {} not found (Debian package qemu-user-static)",
                runner, first
            )
        });
    let runner: String = std::iter::once(abs.display().to_string())
        .chain(words.map(String::from))
        .collect::<Vec<_>>()
        .join(" ");
    // A world-accessible wrapper: some tests run lockdrop as another user.
    let d = std::env::temp_dir().join(format!("lockdrop-runner-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
    let copy = d.join("lockdrop.bin");
    std::fs::copy(&bin, &copy).unwrap();
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).unwrap();
    let w = d.join("lockdrop");
    std::fs::write(
        &w,
        format!("#!/bin/sh\nexec {} {} \"$@\"\n", runner, copy.display()),
    )
    .unwrap();
    std::fs::set_permissions(&w, std::fs::Permissions::from_mode(0o755)).unwrap();
    w
}

/// The static probe (examples/probe.rs), built next to the binary.
pub fn probe() -> PathBuf {
    let p = std::path::Path::new(env!("CARGO_BIN_EXE_lockdrop"))
        .parent()
        .unwrap()
        .join("examples/probe");
    assert!(
        p.exists(),
        "{} is missing: run the tests through scripts/test.sh (it builds the examples)",
        p.display()
    );
    reachable_copy(&p)
}

/// A copy of `p` named `name` that the unprivileged users the tests switch
/// to can execute, whatever the mode of the checkout's parents (CI clones
/// into a 0700 temporary folder): in a world-accessible directory, made once
/// per test process.
pub fn reachable_copy_of(p: &std::path::Path, name: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let d = std::env::temp_dir().join(format!("lockdrop-probe-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
    let c = d.join(name);
    if !c.exists() {
        // Copied under a temporary name and renamed: parallel tests never
        // see (or execute) a half-written copy.
        let tmp = d.join(format!(".{}.{:?}", name, std::thread::current().id()));
        std::fs::copy(p, &tmp).unwrap();
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::rename(&tmp, &c).unwrap();
    }
    c
}

fn reachable_copy(p: &std::path::Path) -> std::path::PathBuf {
    reachable_copy_of(p, "probe")
}

/// A fresh scratch directory.
pub fn scratch(tag: &str) -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "lockdrop-it-{}-{}-{}",
        tag,
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

pub fn require_tool(name: &str) -> PathBuf {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {}", name))
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(text(&o.stdout).trim()));
    found.unwrap_or_else(|| {
        panic!(
            "{} is required for this test (root, util-linux, libcap2-bin): see scripts/deps.sh",
            name
        )
    })
}

pub fn require_root() {
    // SAFETY: geteuid has no preconditions.
    assert_eq!(
        unsafe { libc::geteuid() },
        0,
        "these tests need root (CI runs them as root)"
    );
}

/// `prefix... lockdrop args...` inside a private mount namespace where
/// /etc/passwd and /etc/group are the fixtures above. `prefix` shapes the
/// starting conditions (setpriv, prlimit, ...).
pub fn run_with_fixture(prefix: &[&str], args: &[&str], env: &[(&str, &str)]) -> Output {
    let dir = scratch("etc");
    std::fs::write(dir.join("passwd"), PASSWD).unwrap();
    std::fs::write(dir.join("group"), GROUP).unwrap();
    let mut c = in_private_mount_ns(
        "mount --bind \"$1\" /etc/passwd && mount --bind \"$2\" /etc/group && shift 2 && exec \"$@\"",
    );
    c.arg(dir.join("passwd")).arg(dir.join("group"));
    c.args(prefix).arg(lockdrop()).args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.stdin(Stdio::null()).output().expect("spawn unshare");
    let _ = std::fs::remove_dir_all(&dir);
    out
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The value of `key=` in probe output.
pub fn field(out: &Output, key: &str) -> String {
    let s = text(&out.stdout);
    s.lines()
        .find_map(|l| l.strip_prefix(&format!("{}=", key)).map(String::from))
        .unwrap_or_else(|| {
            panic!(
                "no {} in probe output:\n{}\nstderr:\n{}",
                key,
                s,
                text(&out.stderr)
            )
        })
}

pub fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

/// The run ended with `code` and its stderr names `needle`.
pub fn assert_fails(out: &Output, code_want: i32, needle: &str) {
    assert_eq!(code(out), code_want, "{}", show(out));
    assert!(text(&out.stderr).contains(needle), "{}", show(out));
}

/// `unshare --mount` running `script` (sh -c) in a private mount namespace;
/// the caller adds the script's arguments.
pub fn in_private_mount_ns(script: &str) -> Command {
    require_root();
    require_tool("unshare");
    let mut c = Command::new("unshare");
    c.args([
        "--mount",
        "--propagation",
        "private",
        "--",
        "sh",
        "-c",
        script,
        "sh",
    ]);
    c
}

pub fn show(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    )
}

/// A new pseudo-terminal: its master (close-on-exec, not anyone's
/// controlling terminal) and the path of its slave.
pub fn pty_master() -> (i32, PathBuf) {
    // SAFETY: plain pty calls on a descriptor this test owns; the name is
    // read from a buffer ptsname_r NUL-terminates.
    unsafe {
        let m = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC);
        assert!(m >= 0, "posix_openpt failed");
        assert_eq!(libc::grantpt(m), 0);
        assert_eq!(libc::unlockpt(m), 0);
        let mut buf = [0 as libc::c_char; 128];
        assert_eq!(libc::ptsname_r(m, buf.as_mut_ptr(), buf.len()), 0);
        let path = std::ffi::CStr::from_ptr(buf.as_ptr())
            .to_string_lossy()
            .into_owned();
        (m, PathBuf::from(path))
    }
}
