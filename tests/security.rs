//! Security review (issue 13): each shape the review reproduced, now with
//! the safe outcome. Runs as root (CI); a missing prerequisite is a failure.
//!
//! 1. config trust: owner, mode, parents, symlink, FIFO, size, depth, no echo;
//! 2. TIOCSTI shapes a, b, c (the filter is inherited), d, in both modes,
//!    each with a control that shows the same injection works without lockdrop;
//! 3. /etc/passwd and /etc/group writable by others than root are refused;
//! 4. the first passwd/group entry of a name decides; members as initgroups;
//! 5. options never silently dropped;
//! 8. --doctor escapes what it read from the system.
#![allow(unsafe_code)]
mod common;

use common::*;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn lockdrop_cmd() -> Command {
    require_root();
    Command::new(lockdrop())
}

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A directory everyone can enter, with a marker path the command touches.
fn open_dir(tag: &str) -> PathBuf {
    let d = scratch(tag);
    chmod(&d, 0o755);
    d
}

// ---------------------------------------------------------------------------
// 1. The config file.
// ---------------------------------------------------------------------------

/// `--config F -- sh -c 'touch MARKER'`: the outcome and whether it ran.
fn with_config(cfg: &Path, dir: &Path) -> (Output, bool) {
    let marker = dir.join("ran");
    let _ = std::fs::remove_file(&marker);
    let mut c = lockdrop_cmd();
    c.arg("--config")
        .arg(cfg)
        .args(["--exec", "--", "sh", "-c", "touch \"$0\""])
        .arg(&marker)
        .stdin(Stdio::null());
    let child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = wait_deadline(child, 20, "lockdrop --config");
    (out, marker.exists())
}

fn wait_deadline(child: std::process::Child, secs: u64, what: &str) -> Output {
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(std::time::Duration::from_secs(secs)) {
        Ok(o) => o.expect("wait"),
        Err(_) => {
            // SAFETY: killing the child this test spawned.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            panic!("{} hung for {} s", what, secs);
        }
    }
}

fn refused(out: &Output, ran: bool, needles: &[&str], what: &str) {
    assert!(!ran, "{}: the command ran\n{}", what, show(out));
    assert_eq!(code(out), 125, "{}\n{}", what, show(out));
    let err = text(&out.stderr);
    for n in needles {
        assert!(
            err.contains(n),
            "{}: stderr lacks {:?}\n{}",
            what,
            n,
            show(out)
        );
    }
    assert_eq!(err.lines().count(), 1, "{}: one line\n{}", what, show(out));
}

#[test]
fn config_trusted_only_when_root_alone_can_change_it() {
    let d = open_dir("cfg");
    let cfg = d.join("lockdrop.yaml");
    let f = cfg.display().to_string();
    // The review's payload: the service gives itself root and setuid+setgid.
    std::fs::write(&cfg, "user: root\nambient-cap: [setuid, setgid]\n").unwrap();
    chmod(&cfg, 0o644);
    let (o, ran) = with_config(&cfg, &d);
    assert!(
        ran && code(&o) == 0,
        "control: a root-owned 0644 file is read\n{}",
        show(&o)
    );

    for (mode, who) in [
        (0o664, "group 0"),
        (0o646, "others"),
        (0o666, "group 0 and others"),
    ] {
        chmod(&cfg, mode);
        let (o, ran) = with_config(&cfg, &d);
        let fix = format!("chown root: {f}; chmod go-w {f}");
        refused(&o, ran, &[&f, who, &fix], "group/other-writable config");
    }
    chmod(&cfg, 0o644);

    // Owned by the service's uid.
    std::os::unix::fs::chown(&cfg, Some(1000), None).unwrap();
    let (o, ran) = with_config(&cfg, &d);
    refused(
        &o,
        ran,
        &[&f, "owned by uid 1000"],
        "config owned by the service",
    );
    std::os::unix::fs::chown(&cfg, Some(0), None).unwrap();

    // A writable directory above it (the file could be replaced).
    chmod(&d, 0o777);
    let (o, ran) = with_config(&cfg, &d);
    refused(
        &o,
        ran,
        &[&format!("directory {}", d.display()), "chmod go-w"],
        "writable parent",
    );
    chmod(&d, 0o755);
    // ... but a sticky one (/tmp) is fine: others cannot replace root's file.
    chmod(&d, 0o1777);
    let (o, ran) = with_config(&cfg, &d);
    assert!(ran && code(&o) == 0, "sticky parent\n{}", show(&o));
    chmod(&d, 0o755);
}

#[test]
fn config_symlink_fifo_size_depth_and_no_echo() {
    let d = open_dir("cfg2");
    // A symlink to a root-only file: refused, and no line of it is shown.
    let secret = d.join("secret");
    std::fs::write(&secret, "root:$6$S3CRETHASH:20000:0:99999:7:::\n").unwrap();
    chmod(&secret, 0o600);
    let link = d.join("link.yaml");
    std::os::unix::fs::symlink(&secret, &link).unwrap();
    let (o, ran) = with_config(&link, &d);
    refused(&o, ran, &["symbolic link"], "symlinked config");
    assert!(!text(&o.stderr).contains("S3CRET"), "{}", show(&o));
    // The same content given directly (root's own file): the error has the
    // line and column, not the content.
    let (o, ran) = with_config(&secret, &d);
    refused(&o, ran, &["line 1"], "not a config");
    assert!(
        !text(&o.stderr).contains("S3CRET"),
        "content echoed\n{}",
        show(&o)
    );

    // A FIFO would block start-up (with every signal held) until a writer came.
    let fifo = d.join("fifo.yaml");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let (o, ran) = with_config(&fifo, &d);
    refused(&o, ran, &["not a regular file"], "FIFO config");

    // Size cap: 64 KiB.
    let big = d.join("big.yaml");
    std::fs::write(&big, format!("# {}\nuser: root\n", "x".repeat(70_000))).unwrap();
    let (o, ran) = with_config(&big, &d);
    refused(&o, ran, &["larger than 64 KiB"], "huge config");

    // Depth cap: 100k levels took 38 s to parse; now refused before parsing.
    let deep = d.join("deep.yaml");
    std::fs::write(&deep, format!("user: {}\n", "[".repeat(30_000))).unwrap();
    let t = std::time::Instant::now();
    let (o, ran) = with_config(&deep, &d);
    refused(&o, ran, &["nested", "levels deep"], "deep config");
    // Not a timing assertion on lockdrop's speed: only that it did not
    // parse for seconds (the deadline above is the hard stop).
    assert!(t.elapsed().as_secs() < 5, "{:?}", t.elapsed());
    let ladder: String = (0..40).map(|i| format!("{}a:\n", " ".repeat(i))).collect();
    std::fs::write(&deep, ladder).unwrap();
    let (o, ran) = with_config(&deep, &d);
    refused(&o, ran, &["nested"], "deep block config");
}

// ---------------------------------------------------------------------------
// 2. TIOCSTI.
// ---------------------------------------------------------------------------

struct Pty {
    master: i32,
    slave: std::fs::File,
    path: PathBuf,
}

fn pty() -> Pty {
    // SAFETY: plain pty calls on descriptors this test owns.
    unsafe {
        let (m, path) = pty_master();
        let slave = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags_noctty()
            .open(&path)
            .expect("open pty slave");
        // Drain whatever lockdrop writes to the terminal, so it never blocks.
        let rfd = libc::fcntl(m, libc::F_DUPFD_CLOEXEC, 0);
        std::thread::spawn(move || {
            let mut b = [0u8; 4096];
            while libc::read(rfd, b.as_mut_ptr().cast(), b.len()) > 0 {}
        });
        Pty {
            master: m,
            slave,
            path,
        }
    }
}

trait NoCtty {
    fn custom_flags_noctty(&mut self) -> &mut Self;
}
impl NoCtty for std::fs::OpenOptions {
    fn custom_flags_noctty(&mut self) -> &mut Self {
        use std::os::unix::fs::OpenOptionsExt;
        self.custom_flags(libc::O_NOCTTY)
    }
}

impl Pty {
    /// Bytes waiting in the terminal's input queue: what a root shell reading
    /// it would execute next.
    fn pending_input(&self) -> i32 {
        use std::os::fd::AsRawFd;
        let mut n: libc::c_int = 0;
        // SAFETY: FIONREAD writes one int.
        assert_eq!(
            unsafe { libc::ioctl(self.slave.as_raw_fd(), libc::FIONREAD, &mut n) },
            0
        );
        n
    }
    fn flush(&self) {
        use std::os::fd::AsRawFd;
        // SAFETY: integer-only ioctl on our descriptor.
        unsafe { libc::tcflush(self.slave.as_raw_fd(), libc::TCIFLUSH) };
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        // SAFETY: closing our own descriptor.
        unsafe { libc::close(self.master) };
    }
}

/// The test binary, executable by `nobody` whatever the checkout's mode.
fn me() -> PathBuf {
    static COPY: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    COPY.get_or_init(|| {
        let d = open_dir("self");
        let c = d.join("security-test");
        std::fs::copy(std::env::current_exe().unwrap(), &c).unwrap();
        chmod(&c, 0o755);
        c
    })
    .clone()
}

/// How the terminal reaches lockdrop.
#[derive(Clone, Copy, Debug)]
enum Shape {
    /// (a) the terminal belongs to the target user; root's session holds it.
    OwnedByTarget,
    /// (b) lockdrop leads the terminal's session; the command retakes it.
    SessionLeader,
    /// (c) a grandchild in a new session takes the terminal.
    Grandchild,
    /// (d) a root-owned pty on stdio that is no session's terminal.
    StdioOnly,
}

/// Runs `[lockdrop args] helper` on a fresh pty shaped as `shape`; returns
/// lockdrop's exit, the helper's report and the bytes left in the
/// terminal's input queue. `lockdrop: false` runs the helper as root
/// directly (the control: the injection works without lockdrop).
fn inject(shape: Shape, mode: Option<&str>) -> (i32, String, i32) {
    require_root();
    let t = pty();
    if matches!(shape, Shape::OwnedByTarget) {
        std::os::unix::fs::chown(&t.path, Some(65534), None).unwrap();
    }
    let d = open_dir("tty");
    chmod(&d, 0o777);
    let report = d.join("report");
    let mut c = match mode {
        Some(m) => {
            let mut c = lockdrop_cmd();
            c.args([m, "--user", "nobody", "--"]).arg(me());
            c
        }
        None => Command::new(me()),
    };
    c.args([
        "--exact",
        "helper_inject",
        "--nocapture",
        "--test-threads=1",
    ]);
    c.env("LOCKDROP_SECURITY_HELPER", format!("{:?}", shape))
        .env("LOCKDROP_SECURITY_REPORT", &report);
    c.stdin(t.slave.try_clone().unwrap())
        .stdout(t.slave.try_clone().unwrap())
        .stderr(t.slave.try_clone().unwrap());
    // (c) and (d): nobody holds the terminal, so a new session can take it.
    let take_ctty = !matches!(shape, Shape::StdioOnly | Shape::Grandchild);
    // SAFETY: setsid (and TIOCSCTTY) in the forked child before exec.
    unsafe {
        use std::os::unix::process::CommandExt;
        c.pre_exec(move || {
            libc::setsid();
            if take_ctty && libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = wait_deadline(c.spawn().expect("spawn on a pty"), 60, "injection run");
    let rep = std::fs::read_to_string(&report).unwrap_or_else(|_| "no report".into());
    let pending = t.pending_input();
    t.flush();
    (code(&out), rep.trim().to_string(), pending)
}

#[test]
fn tiocsti_every_shape_both_modes_is_denied() {
    let mut bad = Vec::new();
    for shape in [
        Shape::OwnedByTarget,
        Shape::SessionLeader,
        Shape::Grandchild,
        Shape::StdioOnly,
    ] {
        // The control: as root without lockdrop, the same steps inject.
        let (_, rep, pending) = inject(shape, None);
        assert!(
            rep.contains("injected") && pending > 0,
            "control {:?}: the helper could not inject even without lockdrop ({}, {} bytes); the test proves nothing",
            shape,
            rep,
            pending
        );
        for mode in ["--exec", "--supervise"] {
            let (rc, rep, pending) = inject(shape, Some(mode));
            if !(rc == 0 && rep.contains("denied errno=1") && pending == 0) {
                bad.push(format!(
                    "{:?} {}: exit {}, {}, {} bytes typed into root's terminal",
                    shape, mode, rc, rep, pending
                ));
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// Not a test on its own: the command under lockdrop for the shapes above.
#[test]
fn helper_inject() {
    let Ok(shape) = std::env::var("LOCKDROP_SECURITY_HELPER") else {
        return;
    };
    let report = std::env::var("LOCKDROP_SECURITY_REPORT").unwrap();
    // SAFETY: process and terminal calls on this process's own descriptors;
    // the forked child only makes syscalls and _exits.
    let line = unsafe {
        let try_inject = || {
            // What a root shell would run after lockdrop exits.
            let mut errno = 0;
            for b in b"id\n" {
                if libc::ioctl(0, libc::TIOCSTI, b as *const u8) < 0 {
                    errno = *libc::__errno_location();
                    break;
                }
            }
            errno
        };
        let errno = match shape.as_str() {
            // (b), (d): a new session if possible, then take the terminal.
            "SessionLeader" | "StdioOnly" => {
                libc::setsid();
                libc::ioctl(0, libc::TIOCSCTTY, 0);
                try_inject()
            }
            // (c): a grandchild in its own session takes the terminal.
            "Grandchild" => {
                let mut p = [0i32; 2];
                libc::pipe(p.as_mut_ptr());
                let pid = libc::fork();
                if pid == 0 {
                    libc::setsid();
                    libc::ioctl(0, libc::TIOCSCTTY, 0);
                    let e = try_inject();
                    libc::write(p[1], (&e as *const i32).cast(), 4);
                    libc::_exit(0);
                }
                let mut e = -1i32;
                libc::read(p[0], (&mut e as *mut i32).cast(), 4);
                libc::waitpid(pid, std::ptr::null_mut(), 0);
                e
            }
            _ => try_inject(),
        };
        if errno == 0 {
            "tiocsti injected".to_string()
        } else {
            format!("tiocsti denied errno={}", errno)
        }
    };
    std::fs::write(report, line).unwrap();
    // SAFETY: leave without the harness's output.
    unsafe { libc::_exit(0) };
}

// ---------------------------------------------------------------------------
// 3, 4. The user database.
// ---------------------------------------------------------------------------

/// `prefix... lockdrop args` with /etc/passwd and /etc/group bind-mounted
/// from `passwd` and `group` (mode and owner as given).
fn with_etc(
    passwd: &str,
    group: &str,
    prep: impl Fn(&Path, &Path),
    script_after: &str,
    args: &[&str],
) -> Output {
    let d = open_dir("etc");
    let (p, g) = (d.join("passwd"), d.join("group"));
    std::fs::write(&p, passwd).unwrap();
    std::fs::write(&g, group).unwrap();
    chmod(&p, 0o644);
    chmod(&g, 0o644);
    prep(&p, &g);
    let mut c = in_private_mount_ns(&format!(
        "mount --bind \"$1\" /etc/passwd && mount --bind \"$2\" /etc/group && shift 2 && {}",
        script_after
    ));
    c.arg(&p).arg(&g).arg(lockdrop()).args(args);
    c.stdin(Stdio::null()).output().unwrap()
}

#[test]
fn account_files_writable_by_others_are_refused() {
    let run = |prep: &dyn Fn(&Path, &Path)| {
        with_etc(
            PASSWD,
            GROUP,
            prep,
            "exec \"$@\"",
            &["--user", "app:root", "--", "true"],
        )
    };
    let o = run(&|_, _| {});
    assert_eq!(code(&o), 0, "control\n{}", show(&o));
    // OpenShift style: group 0 writable, with the documented --user app:root.
    let o = run(&|p, _| chmod(p, 0o664));
    assert_fails(&o, 125, "/etc/passwd");
    assert_fails(&o, 125, "writable by group 0");
    assert_fails(&o, 125, "chmod go-w /etc/passwd");
    let o = run(&|_, g| chmod(g, 0o666));
    assert_fails(&o, 125, "/etc/group");
    let o = run(&|p, _| std::os::unix::fs::chown(p, Some(1000), None).unwrap());
    assert_fails(&o, 125, "owned by uid 1000");
    // Numeric UID:GID takes no id from the files (the documented way with an
    // untrusted image): not refused.
    let o = with_etc(
        PASSWD,
        GROUP,
        |p, _| chmod(p, 0o666),
        "exec \"$@\"",
        &["--user", "1000:1000", "--groups", "2001", "--", "id", "-G"],
    );
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert_eq!(text(&o.stdout).trim(), "1000 2001", "{}", show(&o));
}

const GLIBC_GROUPS: &str = "root:x:0:\napp:x:1000:\nlead:x:3001: app\ntrail:x:3002:app \nmid:x:3003:x,app ,y\ntab:x:3004:\tapp\nplain:x:3005:app\n";

#[test]
fn first_passwd_entry_decides_and_members_never_exceed_initgroups() {
    // A malformed uid on the first `app` line must not pass to the uid-0 line.
    for uid in [" 1000", "+1000", "1000x", ""] {
        let passwd = format!(
            "root:x:0:0:root:/root:/bin/sh\napp:x:{}:1000::/home/app:/bin/sh\napp:x:0:0::/root:/bin/sh\n",
            uid
        );
        let o = with_etc(
            &passwd,
            GLIBC_GROUPS,
            |_, _| {},
            "exec \"$@\"",
            &["--user", "app", "--", "id", "-u"],
        );
        assert_eq!(code(&o), 125, "uid {:?}\n{}", uid, show(&o));
        assert!(
            text(&o.stderr)
                .contains("/etc/passwd line 2: the first entry for user \"app\" is malformed"),
            "{}",
            show(&o)
        );
        assert!(o.stdout.is_empty(), "the command ran\n{}", show(&o));
    }
    // Same for a group named in --user: the first entry decides.
    let o = with_etc(
        PASSWD,
        "root:x:0:\ndata:x:+2001:\ndata:x:0:\n",
        |_, _| {},
        "exec \"$@\"",
        &["--user", "app:data", "--", "id", "-g"],
    );
    assert_fails(&o, 125, "the first entry for group \"data\" is malformed");

    // Members are matched exactly, as musl does: never a group that a C
    // library would not add. glibc's initgroups also skips blanks before a
    // member (` app`, `\tapp`), so lockdrop's set is the intersection of the
    // two libraries' answers. This machine's `id` (glibc) is the oracle for
    // "never more than initgroups", in the same namespace.
    let passwd = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n";
    let o = with_etc(
        passwd,
        GLIBC_GROUPS,
        |_, _| {},
        "id -G app; \"$@\"",
        &["--user", "app", "--", "id", "-G"],
    );
    assert!(o.status.success(), "{}", show(&o));
    let lines: Vec<Vec<u32>> = text(&o.stdout)
        .lines()
        .map(|l| {
            let mut v: Vec<u32> = l.split_whitespace().map(|x| x.parse().unwrap()).collect();
            v.sort_unstable();
            v
        })
        .collect();
    assert_eq!(lines.len(), 2, "{}", show(&o));
    assert_eq!(
        lines[0],
        vec![1000, 3001, 3004, 3005],
        "glibc's own answer changed"
    );
    assert_eq!(
        lines[1],
        vec![1000, 3005],
        "lockdrop's groups: the primary and the exact member lines\n{}",
        show(&o)
    );
    assert!(
        lines[1].iter().all(|g| lines[0].contains(g)),
        "lockdrop added a group initgroups would not\n{}",
        show(&o)
    );
}

// ---------------------------------------------------------------------------
// 5. Options never silently dropped.
// ---------------------------------------------------------------------------

#[test]
fn options_take_effect_or_exit_125() {
    require_tool("setpriv");
    // Non-root with supplementary groups: --groups "" and a user:group spec
    // naming who we are cannot drop them; setpriv and su-exec fail, so do we.
    let nonroot = [
        "setpriv",
        "--reuid",
        "65534",
        "--regid",
        "65534",
        "--groups",
        "65534,100",
    ];
    for args in [
        &["--groups", "", "--", "true"][..],
        &["--user", "nobody:nogroup", "--", "true"][..],
    ] {
        let o = run_with_fixture(&nonroot, args, &[]);
        // check names what is missing before anything changes; apply's
        // setgroups hint ("not root") is the backstop behind it.
        assert_fails(&o, 125, "needs lockdrop to start as root");
        assert!(o.stdout.is_empty(), "{}", show(&o));
    }
    // The control: groups already as asked is a no-op, not an error.
    let o = run_with_fixture(
        &[
            "setpriv",
            "--reuid",
            "65534",
            "--regid",
            "65534",
            "--clear-groups",
        ],
        &["--groups", "", "--", "true"],
        &[],
    );
    assert_eq!(code(&o), 0, "{}", show(&o));

    // Supervise-only options in exec mode.
    for opt in [
        &["-g"][..],
        &["--grace", "5s"],
        &["--remap-exit", "143"],
        &["--rewrite", "TERM:INT"],
    ] {
        let mut c = lockdrop_cmd();
        c.arg("--exec").args(opt).args(["--", "true"]);
        let o = c.stdin(Stdio::null()).output().unwrap();
        assert_fails(&o, 125, "only work(s) when lockdrop supervises");
    }

    // --pdeathsig in exec mode (setpriv's meaning): when lockdrop's parent
    // exits, the command gets TERM. The parent shell exits only after the
    // command said "ready" (pipes, no timing); the command's trap reports.
    use std::io::{BufRead, BufReader, Write};
    let mut c = Command::new("sh");
    c.args(["-c", "\"$@\" & read _; exit 0", "sh"])
        .arg(lockdrop())
        .args(["--exec", "--pdeathsig", "TERM", "--user", "nobody", "--"])
        .args([
            "sh",
            "-c",
            "sleep 1000 & trap 'kill $!; echo got-term; exit 0' TERM; echo ready; wait",
        ]);
    let mut child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for l in BufReader::new(out).lines() {
            let Ok(l) = l else { break };
            let _ = tx.send(l);
        }
    });
    let wait = std::time::Duration::from_secs(20);
    assert_eq!(rx.recv_timeout(wait).as_deref(), Ok("ready"));
    writeln!(stdin, "go").unwrap();
    let got = rx.recv_timeout(wait);
    let _ = child.wait();
    assert_eq!(
        got.as_deref(),
        Ok("got-term"),
        "--exec --pdeathsig TERM: the command was not signalled when lockdrop's parent exited"
    );
}

// ---------------------------------------------------------------------------
// 8. --doctor output.
// ---------------------------------------------------------------------------

#[test]
fn doctor_escapes_pid1_comm() {
    require_root();
    require_tool("unshare");
    // PID 1 of a new pid namespace renames itself with an escape sequence
    // (OSC: set the window title) and runs lockdrop --doctor as its child.
    let o = Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc", "--", "sh", "-c"])
        .arg("printf '\\033]0;pwn\\007' > /proc/self/comm && \"$0\" --doctor; exit $?")
        .arg(lockdrop())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", show(&o));
    let out = text(&o.stdout);
    assert!(
        out.contains("\\x1b]0;pwn\\x07"),
        "PID 1's comm not shown escaped\n{}",
        out
    );
    assert!(
        !o.stdout.iter().any(|b| *b == 0x1b || *b == 0x07),
        "raw escape bytes reach the terminal\n{}",
        out
    );
}

/// The filter's no_new_privs trade-off, read from the command's
/// /proc/self/status: with CAP_SYS_ADMIN the filter costs nothing and is
/// always there; without it, no_new_privs is set only when a terminal is
/// reachable (set-uid programs keep working in the usual tty-less container).
#[test]
fn filter_and_no_new_privs_follow_the_terminal() {
    require_tool("setpriv");
    let status = |no_admin: bool, tty: bool| -> (String, String, String) {
        let t = pty();
        let mut c = if no_admin {
            // As root, execve recomputes permitted within the bounding set.
            let mut c = Command::new("setpriv");
            c.args(["--bounding-set", "-sys_admin", "--"])
                .arg(lockdrop());
            c
        } else {
            lockdrop_cmd()
        };
        c.args([
            "--exec",
            "--user",
            "nobody",
            "--",
            "cat",
            "/proc/self/status",
        ]);
        if tty {
            c.stdin(t.slave.try_clone().unwrap());
        } else {
            c.stdin(Stdio::null());
        }
        let o = c.output().unwrap();
        assert!(o.status.success(), "{}", show(&o));
        let s = text(&o.stdout);
        let f = |k: &str| {
            s.lines()
                .find_map(|l| l.strip_prefix(k))
                .map(|v| v.trim().to_string())
                .unwrap_or_default()
        };
        (f("Seccomp:"), f("NoNewPrivs:"), text(&o.stderr))
    };
    let (sc, nnp, _) = status(false, false);
    assert_eq!(
        (sc.as_str(), nnp.as_str()),
        ("2", "0"),
        "CAP_SYS_ADMIN, no terminal"
    );
    let (sc, nnp, _) = status(false, true);
    assert_eq!(
        (sc.as_str(), nnp.as_str()),
        ("2", "0"),
        "CAP_SYS_ADMIN, a terminal"
    );
    let (sc, nnp, _) = status(true, false);
    assert_eq!(
        (sc.as_str(), nnp.as_str()),
        ("0", "0"),
        "no CAP_SYS_ADMIN, no terminal"
    );
    let (sc, nnp, err) = status(true, true);
    assert_eq!(
        (sc.as_str(), nnp.as_str()),
        ("2", "1"),
        "no CAP_SYS_ADMIN, a terminal"
    );
    assert!(
        err.contains("no_new_privs is set"),
        "the notice says why:\n{}",
        err
    );
}
