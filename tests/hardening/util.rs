//! Helpers for tests/hardening.rs: locating lockdrop, the probe and a
//! fault-injection build of lockdrop; scratch directories; starting
//! conditions shaped in the forked child before exec (private mount namespace
//! with fixture /etc files, signal mask and dispositions, closed stdio,
//! dropped capabilities); running with a deadline so a hang fails the test
//! instead of hanging CI.
#![allow(dead_code)]

use std::ffi::{CString, OsStr};
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::sync::OnceLock;
use std::time::Duration;

// The binary, the probe and the prerequisites: one set of helpers for every
// test file (tests/common).
pub use crate::common::{lockdrop, probe, reachable_copy_of, require_root, require_tool, text};

/// The target triple the tests were built for: $LOCKDROP_TARGET (exported by
/// scripts/test.sh), else the directory above `release/` in the binary's path.
pub fn target_triple() -> Option<String> {
    if let Ok(t) = std::env::var("LOCKDROP_TARGET") {
        if !t.is_empty() {
            return Some(t);
        }
    }
    let exe = lockdrop();
    let profile_dir = exe.parent()?;
    let above = profile_dir.parent()?;
    let name = above.file_name()?.to_str()?;
    if above.parent()?.file_name()? == "target" || name.contains("-linux-") {
        if name != "target" {
            return Some(name.to_string());
        }
    }
    None
}

/// lockdrop built with `--features fault-injection` (LOCKDROP_FAULT=step
/// makes that syscall fail with EPERM), once per test run, into
/// target/fault so it never touches the binary under test.
pub fn fault_lockdrop() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut c = Command::new(cargo);
        c.current_dir(root).args([
            "build",
            "--release",
            "--features",
            "fault-injection",
            "--target-dir",
            "target/fault",
            "--bin",
            "lockdrop",
        ]);
        let triple = target_triple();
        if let Some(t) = &triple {
            c.args(["--target", t]);
            if t.ends_with("-gnu") {
                let flags = std::env::var("RUSTFLAGS").unwrap_or_default();
                if !flags.contains("crt-static") {
                    c.env(
                        "RUSTFLAGS",
                        format!("{} -C target-feature=+crt-static", flags),
                    );
                }
            }
        }
        let out = c
            .output()
            .expect("running cargo to build the fault-injection binary");
        assert!(
            out.status.success(),
            "building lockdrop --features fault-injection failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut p = root.join("target/fault");
        if let Some(t) = &triple {
            p.push(t);
        }
        p.push("release/lockdrop");
        assert!(p.exists(), "{} was not built", p.display());
        p
    })
}

/// A scratch directory (mode 0755, so other users can traverse it) with a
/// world-writable `w/` for markers; removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(tag: &str) -> Scratch {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let d = std::env::temp_dir().join(format!(
            "lockdrop-hardening-{}-{}-{}",
            tag,
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("w")).expect("scratch dir");
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        std::fs::set_permissions(d.join("w"), std::fs::Permissions::from_mode(0o1777))
            .expect("chmod");
        Scratch(d)
    }
    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
    /// A marker path the command would create (`w/NAME`).
    pub fn marker(&self, name: &str) -> PathBuf {
        self.0.join("w").join(name)
    }
    pub fn write(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, content).expect("write fixture");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        p
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Fails unless `dir` is on a mount that honours set-uid bits.
pub fn assert_suid_allowed(dir: &Path) {
    let out = Command::new(require_tool("findmnt"))
        .args(["-n", "-o", "OPTIONS", "-T"])
        .arg(dir)
        .output()
        .expect("findmnt");
    let opts = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && !opts.split(',').any(|o| o.trim() == "nosuid"),
        "{} is on a nosuid mount ({}): set TMPDIR to a directory on a suid-capable filesystem",
        dir.display(),
        opts.trim()
    );
}

fn cstr(p: impl AsRef<OsStr>) -> CString {
    CString::new(p.as_ref().as_bytes()).expect("path without NUL")
}

fn check(r: libc::c_int) -> std::io::Result<()> {
    if r < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Starting conditions, applied in the forked child before exec. Only
/// async-signal-safe syscalls run there; every string is prepared first.
#[derive(Default)]
pub struct Start {
    /// Private mount namespace with these (source, target) bind mounts.
    pub binds: Vec<(PathBuf, PathBuf)>,
    /// Empty tmpfs mounted over these directories (e.g. /proc, /sys).
    pub hide: Vec<PathBuf>,
    /// Block every signal.
    pub full_mask: bool,
    /// Ignore every signal that can be ignored.
    pub ignore_all: bool,
    /// Close these descriptors.
    pub close: Vec<i32>,
    /// Drop these capabilities from the bounding set (root then lacks them after exec).
    pub drop_bounding: Vec<u32>,
}

impl Start {
    pub fn apply(self, cmd: &mut Command) {
        let binds: Vec<(CString, CString)> =
            self.binds.iter().map(|(s, t)| (cstr(s), cstr(t))).collect();
        let hide: Vec<CString> = self.hide.iter().map(cstr).collect();
        let tmpfs = cstr("tmpfs");
        let root = cstr("/");
        let Start {
            full_mask,
            ignore_all,
            close,
            drop_bounding,
            ..
        } = self;
        let private = !binds.is_empty() || !hide.is_empty();
        // SAFETY: the closure runs in the forked child and only makes
        // syscalls on data prepared above.
        unsafe {
            cmd.pre_exec(move || {
                if private {
                    check(libc::unshare(libc::CLONE_NEWNS))?;
                    check(libc::mount(
                        std::ptr::null(),
                        root.as_ptr(),
                        std::ptr::null(),
                        libc::MS_REC | libc::MS_PRIVATE,
                        std::ptr::null(),
                    ))?;
                }
                for (s, t) in &binds {
                    check(libc::mount(
                        s.as_ptr(),
                        t.as_ptr(),
                        std::ptr::null(),
                        libc::MS_BIND,
                        std::ptr::null(),
                    ))?;
                }
                for d in &hide {
                    check(libc::mount(
                        tmpfs.as_ptr(),
                        d.as_ptr(),
                        tmpfs.as_ptr(),
                        0,
                        std::ptr::null(),
                    ))?;
                }
                for c in &drop_bounding {
                    check(libc::prctl(
                        libc::PR_CAPBSET_DROP,
                        *c as libc::c_ulong,
                        0,
                        0,
                        0,
                    ))?;
                }
                if ignore_all {
                    for s in 1..=libc::SIGRTMAX() {
                        if s != libc::SIGKILL && s != libc::SIGSTOP {
                            libc::signal(s, libc::SIG_IGN);
                        }
                    }
                }
                if full_mask {
                    let mut set: libc::sigset_t = std::mem::zeroed();
                    libc::sigfillset(&mut set);
                    check(libc::sigprocmask(
                        libc::SIG_SETMASK,
                        &set,
                        std::ptr::null_mut(),
                    ))?;
                }
                for fd in &close {
                    libc::close(*fd);
                }
                Ok(())
            });
        }
    }
}

/// A private mount namespace whose /etc/passwd and /etc/group are these files.
pub fn etc(passwd: &Path, group: &Path) -> Start {
    Start {
        binds: vec![
            (passwd.to_path_buf(), "/etc/passwd".into()),
            (group.to_path_buf(), "/etc/group".into()),
        ],
        ..Start::default()
    }
}

/// Waits for `child` but kills it and fails after `limit`: a hang is a
/// failure, not a stuck CI job. (The deadline is a guard, never a way to
/// synchronise.)
pub fn wait_deadline(child: Child, limit: Duration, what: &str) -> Output {
    let pid = child.id() as i32;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(r) => r.expect("waiting for the child"),
        Err(_) => {
            // SAFETY: kill takes integers; the pid is our unreaped child.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            let _ = rx.recv_timeout(Duration::from_secs(5));
            panic!("{} did not finish within {:?} (hang)", what, limit);
        }
    }
}

/// Runs `cmd` to completion (stdin closed to /dev/null) with a deadline.
pub fn run(mut cmd: Command) -> Output {
    let what = format!("{:?}", cmd);
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawning {}: {}", what, e));
    wait_deadline(child, Duration::from_secs(60), &what)
}

/// The value of a probe `key=value` line.
pub fn kv(out: &str, key: &str) -> Option<String> {
    out.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .map(String::from)
}

pub fn must_kv(o: &Output, key: &str) -> String {
    kv(&text(&o.stdout), key).unwrap_or_else(|| {
        panic!(
            "no {}= line in the probe's output\nstdout:\n{}\nstderr:\n{}",
            key,
            text(&o.stdout),
            text(&o.stderr)
        )
    })
}

/// Asserts lockdrop failed the way every failure looks: `code`, exactly one
/// `lockdrop: error:` line (continuation lines only prefixed `lockdrop:`),
/// containing `needle`.
pub fn assert_failed(o: &Output, code: i32, needle: &str, what: &str) {
    let err = text(&o.stderr);
    assert_eq!(
        o.status.code(),
        Some(code),
        "{}: exit status {:?}, want {}\nstderr:\n{}\nstdout:\n{}",
        what,
        o.status,
        code,
        err,
        text(&o.stdout)
    );
    let errors: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("lockdrop: error:"))
        .collect();
    assert_eq!(
        errors.len(),
        1,
        "{}: want one error line, got:\n{}",
        what,
        err
    );
    assert!(
        errors[0].contains(needle),
        "{}: error line should mention {:?}:\n{}",
        what,
        needle,
        err
    );
    assert!(
        err.lines().all(|l| l.starts_with("lockdrop:")),
        "{}: stray stderr lines:\n{}",
        what,
        err
    );
}

pub fn status_ok(o: &Output, what: &str) {
    assert!(
        o.status.success(),
        "{}: {:?}\nstderr:\n{}\nstdout:\n{}",
        what,
        o.status,
        text(&o.stderr),
        text(&o.stdout)
    );
}

/// Exit status as a shell would print it, for messages.
pub fn status_text(s: &ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (s.code(), s.signal()) {
        (Some(c), _) => format!("exit {}", c),
        (_, Some(n)) => format!("killed by signal {}", n),
        _ => format!("{:?}", s),
    }
}

/// Reads everything `r` yields, for threads that drain a pipe.
pub fn drain(mut r: impl Read) -> Vec<u8> {
    let mut v = Vec::new();
    let _ = r.read_to_end(&mut v);
    v
}
