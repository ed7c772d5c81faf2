//! Supervise mode, end to end: lockdrop runs as PID 1 of a new PID namespace
//! (`unshare --pid --fork --mount-proc`) or as a plain child subreaper, with
//! the probe example as its command. Every wait is for a line, an exit or a
//! /proc state, bounded by a deadline; nothing sleeps and hopes. Missing
//! prerequisites (unshare, python3, root) fail the test: CI runs as root.
// Probes and fixtures make raw syscalls; Cargo.toml denies `unsafe` by default.
#![allow(unsafe_code)]
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::os::fd::FromRawFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

const LONG: Duration = Duration::from_secs(60);

mod common;

/// The lockdrop under test (LOCKDROP_BIN / LOCKDROP_RUNNER: tests/common).
fn lockdrop() -> &'static str {
    static BIN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    BIN.get_or_init(|| common::lockdrop().display().to_string())
}

fn probe() -> String {
    common::probe().display().to_string()
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("lockdrop-sup-{}-{}", name, std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `unshare --pid --fork --mount-proc --kill-child PROG ARGS`: PROG is PID 1
/// of a new PID namespace; --kill-child takes the namespace down if the
/// test dies.
fn in_ns(prog: &str, args: &[&str]) -> Command {
    let mut c = Command::new("unshare");
    c.args(["--pid", "--fork", "--mount-proc", "--kill-child", prog])
        .args(args);
    c
}

/// lockdrop as PID 1 of a new namespace.
fn ns(args: &[&str]) -> Command {
    in_ns(lockdrop(), args)
}

/// A running process tree whose stdout arrives line by line.
struct Run {
    child: Child,
    lines: Receiver<String>,
    log: Vec<String>,
    stderr: Receiver<String>,
    ns: bool,
}

fn start(mut c: Command, ns: bool) -> Run {
    c.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap_or_else(|e| {
        panic!(
            "cannot start {:?}: {} (is util-linux unshare installed?)",
            c, e
        )
    });
    let lines = reader(child.stdout.take().unwrap());
    let stderr = reader(child.stderr.take().unwrap());
    Run {
        child,
        lines,
        log: Vec::new(),
        stderr,
        ns,
    }
}

fn reader(r: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for l in BufReader::new(r).lines() {
            let Ok(l) = l else { break };
            let l = l.trim_end_matches('\r').to_string();
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    rx
}

impl Run {
    /// Waits for a line starting with `prefix`; panics with what was seen.
    fn expect(&mut self, prefix: &str) -> String {
        let deadline = Instant::now() + LONG;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => {
                    self.log.push(l.clone());
                    if l.starts_with(prefix) {
                        return l;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    panic!("no line {:?} within {:?}; saw {:?}", prefix, LONG, self.log)
                }
                Err(RecvTimeoutError::Disconnected) => panic!(
                    "output ended before {:?}; saw {:?}; stderr {:?}",
                    prefix,
                    self.log,
                    self.stderr.try_iter().collect::<Vec<_>>()
                ),
            }
        }
    }

    /// The host pid of lockdrop: unshare's forked child in a namespace, the
    /// spawned process itself otherwise.
    fn lockdrop_pid(&self) -> i32 {
        if self.ns {
            let c = children(self.child.id() as i32);
            assert_eq!(c.len(), 1, "unshare should have one child: {:?}", c);
            c[0]
        } else {
            self.child.id() as i32
        }
    }

    fn kill(&self, sig: i32) {
        let pid = self.lockdrop_pid();
        // SAFETY: kill(2) with integers.
        assert_eq!(unsafe { libc::kill(pid, sig) }, 0, "kill {} {}", pid, sig);
    }

    /// Waits for the end of stdout (every writer gone); returns all lines.
    fn drain(mut self) -> Vec<String> {
        let deadline = Instant::now() + LONG;
        loop {
            match self
                .lines
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                Ok(l) => self.log.push(l),
                Err(RecvTimeoutError::Disconnected) => return std::mem::take(&mut self.log),
                Err(RecvTimeoutError::Timeout) => panic!("output never ended: {:?}", self.log),
            }
        }
    }

    /// Waits for the exit and for the rest of stdout; returns the exit code
    /// (lockdrop's, passed through by unshare) and the time it took.
    fn finish(mut self) -> (i32, Duration, Vec<String>, String) {
        let t = Instant::now();
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if t.elapsed() > LONG {
                let _ = self.child.kill();
                panic!("no exit within {:?}; saw {:?}", LONG, self.log);
            }
            std::thread::sleep(Duration::from_millis(2));
        };
        let elapsed = t.elapsed();
        let deadline = Instant::now() + LONG;
        while let Ok(l) = self
            .lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            self.log.push(l);
        }
        let err: Vec<String> = self.stderr.iter().collect();
        let code = status.code().unwrap_or_else(|| {
            panic!(
                "lockdrop died of signal {:?} (it never should); saw {:?}; stderr {:?}",
                status.signal(),
                self.log,
                err
            )
        });
        (code, elapsed, std::mem::take(&mut self.log), err.join("\n"))
    }
}

/// A failed test leaves nothing running: SIGKILL to the tree (unshare's
/// --kill-child then takes the namespace down).
impl Drop for Run {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let mut tree = vec![self.child.id() as i32];
            let mut i = 0;
            while i < tree.len() {
                tree.extend(children(tree[i]));
                i += 1;
            }
            for p in tree {
                // SAFETY: kill(2) with integers.
                unsafe { libc::kill(p, libc::SIGKILL) };
            }
            let _ = self.child.wait();
        }
    }
}

/// Children of `pid` (/proc/<pid>/task/<pid>/children).
fn children(pid: i32) -> Vec<i32> {
    std::fs::read_to_string(format!("/proc/{}/task/{}/children", pid, pid))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// The state letter of /proc/<pid>/stat.
fn state(pid: i32) -> Option<char> {
    let s = std::fs::read_to_string(format!("/proc/{}/stat", pid)).ok()?;
    s[s.rfind(')')? + 1..].trim_start().chars().next()
}

/// Polls `cond` until it holds or the deadline passes.
fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + LONG;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {}", what);
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn count(log: &[String], line: &str) -> usize {
    log.iter().filter(|l| *l == line).count()
}

/// Every signal lockdrop forwards: all catchable ones but SIGCHLD. Excluded
/// too: 32–34, which musl (the probe's libc) keeps for itself and will not
/// let the probe handle.
fn forwardable() -> Vec<i32> {
    let mut v: Vec<i32> = (1..=31)
        .filter(|s| ![libc::SIGKILL, libc::SIGSTOP, libc::SIGCHLD, libc::SIGTERM].contains(s))
        .collect();
    v.extend(libc::SIGRTMIN()..=libc::SIGRTMAX());
    v.push(libc::SIGTERM); // last: it ends the probe
    v
}

#[test]
fn forwards_every_signal_exactly_once() {
    let mut r = start(ns(&["--", &probe(), "signals"]), true);
    r.expect("ready");
    let sigs = forwardable();
    let t = Instant::now();
    for &s in &sigs {
        r.kill(s);
        r.expect(&format!("sig {}", s));
    }
    eprintln!(
        "forwarded {} signals one by one, each seen by the child, in {:?}",
        sigs.len(),
        t.elapsed()
    );
    let (code, _, log, err) = r.finish();
    assert_eq!(code, 0, "{}", err);
    for &s in &sigs {
        assert_eq!(
            count(&log, &format!("sig {}", s)),
            1,
            "signal {}: {:?}",
            s,
            log
        );
    }
    assert_eq!(log.len(), sigs.len() + 1, "unexpected lines: {:?}", log);
}

#[test]
fn not_pid1_survives_fatal_signals_and_forwards_them() {
    // Not PID 1, the kernel would act on these with their default action:
    // lockdrop holds them blocked and forwards them instead.
    let mut c = Command::new(lockdrop());
    c.args(["--supervise", "--", &probe(), "signals"]);
    let mut r = start(c, false);
    r.expect("ready");
    for s in [
        libc::SIGSEGV,
        libc::SIGABRT,
        libc::SIGBUS,
        libc::SIGHUP,
        libc::SIGINT,
        libc::SIGPIPE,
        libc::SIGTERM,
    ] {
        r.kill(s);
        r.expect(&format!("sig {}", s));
    }
    let (code, _, log, _) = r.finish();
    assert_eq!(code, 0, "{:?}", log);
}

#[test]
fn rewrite_maps_and_drops() {
    let mut r = start(
        ns(&[
            "--rewrite",
            "USR1:USR2",
            "--rewrite",
            "HUP:0",
            "--",
            &probe(),
            "signals",
        ]),
        true,
    );
    r.expect("ready");
    r.kill(libc::SIGUSR1);
    r.expect("sig 12");
    r.kill(libc::SIGHUP);
    // A signal sent after HUP is handled after it: once WINCH arrives, a
    // forwarded HUP would have been seen.
    r.kill(libc::SIGWINCH);
    r.expect("sig 28");
    r.kill(libc::SIGTERM);
    let (code, _, log, _) = r.finish();
    assert_eq!(code, 0);
    assert_eq!(count(&log, "sig 10"), 0, "{:?}", log);
    assert_eq!(count(&log, "sig 1"), 0, "{:?}", log);
    assert_eq!(count(&log, "sig 12"), 1, "{:?}", log);
}

#[test]
fn process_group_gets_the_signals() {
    let p = probe();
    // The child's own session and group.
    let r = start(ns(&["-g", "--", &p, "status"]), true);
    let (code, _, log, _) = r.finish();
    assert_eq!(code, 0);
    let pid = log
        .iter()
        .find_map(|l| l.strip_prefix("Pid="))
        .unwrap()
        .to_string();
    assert!(
        log.contains(&format!("pgid={} sid={}", pid, pid)),
        "-g: own session and group expected: {:?}",
        log
    );

    // Two probes in the child's group: both get the forwarded signal.
    let script = format!("{p} signals & exec {p} signals");
    let mut r = start(ns(&["-g", "--", "/bin/sh", "-c", &script]), true);
    r.expect("ready");
    r.expect("ready");
    r.kill(libc::SIGUSR1);
    r.expect("sig 10");
    r.expect("sig 10");
    r.kill(libc::SIGTERM);
    let (code, _, log, _) = r.finish();
    assert_eq!(code, 0);
    assert_eq!(count(&log, "sig 10"), 2, "{:?}", log);
}

#[test]
fn exit_code_sweep() {
    let p = probe();
    let codes: Vec<i32> = (0..=255).collect();
    let failures: Vec<String> = std::thread::scope(|sc| {
        let handles: Vec<_> = codes
            .chunks(32)
            .map(|chunk| {
                let p = p.clone();
                sc.spawn(move || {
                    let mut bad = Vec::new();
                    for &n in chunk {
                        let out = ns(&["--", &p, "exit", &n.to_string()])
                            .stdin(Stdio::null())
                            .output()
                            .unwrap();
                        if out.status.code() != Some(n) {
                            bad.push(format!("exit {} gave {:?}", n, out.status));
                        }
                    }
                    bad
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert!(failures.is_empty(), "{:?}", failures);
}

#[test]
fn death_by_signal_is_128_plus_n_and_remap_exit() {
    let p = probe();
    for (sig, want) in [(15, 143), (9, 137), (11, 139), (6, 134)] {
        // core=0: no core files from SEGV/ABRT.
        let out = ns(&["--rlimit", "core=0", "--", &p, "kill", &sig.to_string()])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(want), "signal {}: {:?}", sig, out);
    }
    let out = ns(&["--remap-exit", "143", "--", &p, "kill", "15"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let out = ns(&["--remap-exit", "3,143", "--", &p, "exit", "3"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let out = ns(&["--remap-exit", "143", "--", &p, "exit", "4"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
}

#[test]
fn exec_failure_in_the_child_is_126_or_127() {
    let out = ns(&["--", "/nonexistent/cmd"]).output().unwrap();
    assert_eq!(out.status.code(), Some(127), "{:?}", out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("lockdrop: error: command not found"),
        "{}",
        err
    );
    let out = ns(&["--", "/etc/passwd"]).output().unwrap();
    assert_eq!(out.status.code(), Some(126), "{:?}", out);
}

#[test]
fn orphan_storm_leaves_no_zombie() {
    let t = Instant::now();
    let mut r = start(
        ns(&["--", &probe(), "orphans", "10000", ",", "zombies", "30"]),
        true,
    );
    r.expect("orphans 10000");
    let z = r.expect("zombies ");
    let (code, _, _, _) = r.finish();
    eprintln!("orphan storm: 10000 orphans in {:?}; {}", t.elapsed(), z);
    assert_eq!(code, 0);
    assert!(z.starts_with("zombies 0 "), "{}", z);
}

/// Seconds between a SIGTERM to lockdrop and its exit, and the exit code.
fn term_and_time(r: Run) -> (i32, f64, Vec<String>) {
    let t = Instant::now();
    r.kill(libc::SIGTERM);
    let (code, _, log, _) = r.finish();
    (code, t.elapsed().as_secs_f64(), log)
}

#[test]
fn grace_kills_a_term_ignoring_grandchild() {
    let p = probe();
    // The main child exits on TERM; its TERM-ignoring child, adopted by
    // lockdrop, is killed when the grace period ends.
    let mut r = start(
        ns(&["--grace", "1s", "--", &p, "linger", ",", "signals"]),
        true,
    );
    r.expect("linger ");
    r.expect("ready");
    let (code, secs, log) = term_and_time(r);
    assert_eq!(code, 0, "{:?}", log);
    eprintln!(
        "grace 1s, TERM-ignoring orphan: lockdrop exited {:.3}s after TERM",
        secs
    );
    assert!((0.9..1.5).contains(&secs), "took {:.3}s, grace 1s", secs);

    // The main child ignores TERM too: both are killed, status 137.
    let mut r = start(
        ns(&[
            "--grace", "500ms", "--", &p, "linger", ",", "signals", "--stay",
        ]),
        true,
    );
    r.expect("ready");
    let (code, secs, log) = term_and_time(r);
    assert_eq!(code, 137, "{:?}", log);
    eprintln!(
        "grace 500ms, TERM-ignoring child and grandchild: exited {:.3}s after TERM",
        secs
    );
    assert!((0.4..1.0).contains(&secs), "took {:.3}s, grace 0.5s", secs);
}

#[test]
fn grace_zero_exits_with_the_main_child() {
    // tini's behaviour: a lingering grandchild does not keep lockdrop.
    let mut r = start(ns(&["--", &probe(), "linger", ",", "signals"]), true);
    r.expect("ready");
    let (code, secs, log) = term_and_time(r);
    assert_eq!(code, 0, "{:?}", log);
    assert!(secs < 5.0, "took {:.3}s", secs);
}

#[test]
fn double_forked_daemon_gets_term_before_exit() {
    let d = tmpdir("daemon");
    let marker = d.join("marker").display().to_string();
    // On the terminating signal.
    let mut r = start(
        ns(&[
            "--grace",
            "10s",
            "--",
            &probe(),
            "daemon",
            &marker,
            ",",
            "signals",
        ]),
        true,
    );
    r.expect("daemon ready");
    r.expect("ready");
    let (code, secs, log) = term_and_time(r);
    assert_eq!(code, 0, "{:?}", log);
    assert_eq!(
        std::fs::read_to_string(&marker).unwrap(),
        "daemon got TERM\n"
    );
    assert!(
        secs < 10.0,
        "the daemon exited on TERM; no need to wait for the grace period"
    );

    // When the main child exits by itself, with the daemon still running.
    let marker2 = d.join("marker2").display().to_string();
    let out = ns(&[
        "--grace",
        "10s",
        "--",
        &probe(),
        "daemon",
        &marker2,
        ",",
        "exit",
        "3",
    ])
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(3), "{:?}", out);
    assert_eq!(
        std::fs::read_to_string(&marker2).unwrap(),
        "daemon got TERM\n"
    );
}

/// python3 as PID 1 of a namespace: shapes its signal state, prints it,
/// then becomes lockdrop (execv keeps mask, ignored signals and pending
/// signals).
fn python_then_lockdrop(setup: &str, args: &[&str]) -> Run {
    let script = format!(
        r#"
import os, signal, sys
{setup}
for l in open('/proc/self/status'):
    if l.startswith(('SigBlk:', 'SigIgn:')):
        k, v = l.split(':')
        print('caller.' + k + '=' + v.strip())
sys.stdout.flush()
os.execv(sys.argv[1], sys.argv[1:])
"#
    );
    let mut a = vec!["-c", script.as_str(), lockdrop()];
    a.extend_from_slice(args);
    start(in_ns("python3", &a), true)
}

#[test]
fn child_gets_the_callers_mask_and_dispositions() {
    let setup = r#"
signal.pthread_sigmask(signal.SIG_SETMASK, {signal.SIGUSR1, signal.SIGWINCH, signal.SIGALRM, signal.SIGRTMIN + 3, signal.SIGRTMAX})
for s in (signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR2, signal.SIGCHLD, signal.SIGTTOU):
    signal.signal(s, signal.SIG_IGN)
"#;
    for mode in ["--supervise", "--exec"] {
        // `exit 7` with SIGCHLD ignored by the caller: lockdrop still sees it.
        let r = python_then_lockdrop(setup, &[mode, "--", &probe(), "status", ",", "exit", "7"]);
        let (code, _, log, err) = r.finish();
        let get = |k: &str| {
            log.iter()
                .find_map(|l| l.strip_prefix(k))
                .unwrap_or_else(|| panic!("{} missing: {:?} {}", k, log, err))
                .to_string()
        };
        assert_eq!(code, 7, "{}: {:?} {}", mode, log, err);
        assert_eq!(get("SigBlk="), get("caller.SigBlk="), "{}", mode);
        assert_eq!(get("SigIgn="), get("caller.SigIgn="), "{}", mode);
        assert_ne!(get("caller.SigBlk="), "0000000000000000");
    }
}

#[test]
fn signals_pending_at_startup_reach_the_child() {
    // Raised on PID 1 itself while blocked: pending across execv into
    // lockdrop, so lockdrop starts with them queued. RTMIN+2 twice: real-time
    // signals queue, both arrive.
    let setup = r#"
sigs = [signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2, signal.SIGRTMIN + 2]
signal.pthread_sigmask(signal.SIG_BLOCK, sigs)
for s in sigs + [signal.SIGRTMIN + 2]:
    os.kill(os.getpid(), s)
"#;
    let mut r = python_then_lockdrop(setup, &["--", &probe(), "signals"]);
    r.expect("ready");
    let rt2 = 34 + 2; // python's (glibc's) SIGRTMIN is 34
    let want = [(1, 1), (10, 1), (12, 1), (rt2, 2)];
    // All of them before TERM: the probe exits in its TERM handler, and a
    // process runs the handler of the signal delivered last first.
    for (s, n) in want {
        while count(&r.log, &format!("sig {}", s)) < n {
            r.expect("sig ");
        }
    }
    r.kill(libc::SIGTERM);
    let (code, _, log, err) = r.finish();
    assert_eq!(code, 0, "{}", err);
    for (s, n) in want {
        assert_eq!(
            count(&log, &format!("sig {}", s)),
            n,
            "signal {}: {:?}",
            s,
            log
        );
    }
}

fn status_field(pid: i32, key: &str) -> String {
    std::fs::read_to_string(format!("/proc/{}/status", pid))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix(key).map(|v| v.trim().to_string()))
        .unwrap_or_default()
}

fn fds_of(pid: i32) -> Vec<i32> {
    let mut v: Vec<i32> = std::fs::read_dir(format!("/proc/{}/fd", pid))
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    v.sort();
    v
}

#[test]
fn descriptors_pass_through_and_the_supervisor_keeps_none() {
    use std::os::unix::fs::OpenOptionsExt;
    // The descriptor is opened inside the namespace by the shell that then
    // becomes lockdrop: unshare, waiting outside, must not hold a copy.
    let d = tmpdir("fds");
    let fifo = d.join("fifo");
    let cpath = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(cpath.as_ptr(), 0o600) }, 0);
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&fifo)
        .unwrap();
    let p = probe();
    let mut c = in_ns(
        "/bin/sh",
        &[
            "-c",
            "exec 3>\"$0\"; exec \"$@\"",
            fifo.to_str().unwrap(),
            lockdrop(),
            "--",
            &p,
            "fds",
            ",",
            "close",
            "3",
            ",",
            "signals",
        ],
    );
    // SAFETY: close_range in the forked child before exec: unshare gets only
    // stdio (the test runner may pass descriptors of its own down to us).
    unsafe {
        c.pre_exec(|| {
            if libc::syscall(libc::SYS_close_range, 3, u32::MAX, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut r = start(c, true);
    assert_eq!(r.expect("fds="), "fds=0,1,2,3");
    r.expect("ready");
    // The child closed fd 3; lockdrop closed its copy after the fork: the
    // reader sees the hang-up (Linux reports it only once a writer came).
    let mut pfd = libc::pollfd {
        fd: std::os::fd::AsRawFd::as_raw_fd(&f),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    let n = unsafe { libc::poll(&mut pfd, 1, LONG.as_millis() as i32) };
    assert_eq!(
        n, 1,
        "no EOF on the fifo: someone still holds the write end"
    );
    assert_ne!(pfd.revents & libc::POLLHUP, 0);
    let mut buf = Vec::new();
    assert_eq!(f.read_to_end(&mut buf).unwrap(), 0);

    // The supervisor itself: stdio only, no capabilities, cwd /. It drops
    // them right after the fork, racing the child's "ready"; a signal it
    // forwards proves it reached its loop, so every drop is done.
    let ld = r.lockdrop_pid();
    // SAFETY: kill takes integers; ld is our live lockdrop.
    unsafe { libc::kill(ld, libc::SIGUSR1) };
    r.expect("sig 10");
    assert_eq!(fds_of(ld), [0, 1, 2]);
    for k in ["CapInh:", "CapPrm:", "CapEff:", "CapAmb:"] {
        assert_eq!(status_field(ld, k), "0000000000000000", "{}", k);
    }
    assert_eq!(
        std::fs::read_link(format!("/proc/{}/cwd", ld)).unwrap(),
        Path::new("/")
    );
    r.kill(libc::SIGTERM);
    assert_eq!(r.finish().0, 0);
}

#[test]
fn supervisor_keeps_its_uid_with_cap_kill_only_and_is_not_dumpable() {
    use std::os::unix::fs::MetadataExt;
    let mut r = start(
        ns(&[
            "-u",
            "65534:65534",
            "--",
            &probe(),
            "status",
            ",",
            "signals",
        ]),
        true,
    );
    r.expect("ready");
    // Forwarded only from the main loop, after every post-fork drop.
    r.kill(libc::SIGUSR1);
    r.expect("sig 10");
    let ld = r.lockdrop_pid();
    // Not the command's uid (it could signal, renice, re-limit it); only
    // CAP_KILL (bit 5), to forward to another uid; nothing to pass on.
    assert_eq!(status_field(ld, "Uid:"), "0\t0\t0\t0");
    assert_eq!(status_field(ld, "CapPrm:"), "0000000000000020");
    assert_eq!(status_field(ld, "CapEff:"), "0000000000000020");
    assert_eq!(status_field(ld, "CapInh:"), "0000000000000000");
    assert_eq!(status_field(ld, "CapAmb:"), "0000000000000000");
    assert!(
        r.log.iter().any(|l| l == "Uid=65534 65534 65534 65534"),
        "{:?}",
        r.log
    );
    assert_eq!(fields(&r.log)["CapPrm"], "0000000000000000", "{:?}", r.log);
    // Not dumpable: /proc/<pid> belongs to root, not to the process's uid.
    let m = std::fs::metadata(format!("/proc/{}/status", ld)).unwrap();
    assert_eq!(m.uid(), 0, "the supervisor is dumpable");
    r.kill(libc::SIGTERM);
    let (code, _, log, _) = r.finish();
    assert_eq!(code, 0);
    assert!(
        log.iter().any(|l| l == "dumpable=1"),
        "the command is dumpable: {:?}",
        log
    );
}

#[test]
fn job_control_stops_and_continues_the_child() {
    let mut r = start(ns(&["--", &probe(), "status", ",", "sleep", "60"]), true);
    r.expect("dumpable=");
    let ld = r.lockdrop_pid();
    let kids = children(ld);
    assert_eq!(kids.len(), 1, "{:?}", kids);
    let child = kids[0];
    eventually("the child to sleep", || state(child) == Some('S'));
    for stop in [libc::SIGTSTP, libc::SIGTTIN, libc::SIGTTOU] {
        r.kill(stop);
        eventually(&format!("stop by {}", stop), || state(child) == Some('T'));
        // lockdrop itself is not stopped (and forwards the CONT below).
        assert_ne!(state(ld), Some('T'));
        r.kill(libc::SIGCONT);
        eventually("continue", || state(child) == Some('S'));
    }
    let (code, _, _) = term_and_time(r);
    assert_eq!(code, 143);
}

#[test]
fn not_pid1_is_a_subreaper_and_reaps_orphans() {
    let d = tmpdir("subreaper");
    let marker = d.join("marker").display().to_string();
    let mut c = Command::new(lockdrop());
    c.args([
        "--supervise",
        "--grace",
        "10s",
        "--",
        &probe(),
        "daemon",
        &marker,
        ",",
        "orphans",
        "500",
        ",",
        "signals",
    ]);
    let mut r = start(c, false);
    r.expect("daemon ready");
    r.expect("orphans 500");
    r.expect("ready");
    let ld = r.lockdrop_pid();
    // The daemon was re-parented to lockdrop (not to init), and the orphans
    // were reaped: two children left, none a zombie.
    eventually("the orphans to be reaped", || {
        let k = children(ld);
        k.len() == 2 && k.iter().all(|&p| state(p) != Some('Z'))
    });
    let (code, secs, log) = term_and_time(r);
    assert_eq!(code, 0, "{:?}", log);
    assert!(secs < 10.0);
    assert_eq!(
        std::fs::read_to_string(&marker).unwrap(),
        "daemon got TERM\n"
    );
}

#[test]
fn not_pid1_grace_kills_the_lingering_grandchild() {
    let mut c = Command::new(lockdrop());
    c.args([
        "--supervise",
        "--grace",
        "300ms",
        "--",
        &probe(),
        "linger",
        ",",
        "signals",
    ]);
    let mut r = start(c, false);
    let linger: i32 = r.expect("linger ")[7..].parse().unwrap();
    r.expect("ready");
    let (code, secs, log) = term_and_time(r);
    assert_eq!(code, 0, "{:?}", log);
    assert!(secs < 0.8, "took {:.3}s, grace 0.3s", secs);
    // Killed and reaped by lockdrop before it exited.
    assert_eq!(state(linger), None, "the grandchild {} survived", linger);
}

#[test]
fn pdeathsig_forwards_when_the_parent_dies() {
    let script = format!(
        "{} --supervise --pdeathsig TERM -- {} signals & wait",
        lockdrop(),
        probe()
    );
    let mut c = Command::new("/bin/sh");
    c.args(["-c", &script]);
    let mut r = start(c, false);
    r.expect("ready");
    r.child.kill().unwrap(); // SIGKILL to the shell, lockdrop's parent
    let _ = r.child.wait();
    r.expect("sig 15");
    // EOF: lockdrop and the probe have exited.
    let log = r.drain();
    assert_eq!(count(&log, "sig 15"), 1, "{:?}", log);
}

/// A new pseudo-terminal pair: (master, slave), default termios.
fn openpty() -> (i32, i32) {
    let (mut m, mut s) = (0, 0);
    // SAFETY: out-pointers for the two descriptors; no name, default termios.
    let rc = unsafe {
        libc::openpty(
            &mut m,
            &mut s,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0, "openpty");
    (m, s)
}

/// Runs `args` (lockdrop as PID 1 of a namespace) on a new pseudo-terminal
/// that is the controlling terminal of unshare's session.
fn on_pty(args: &[&str]) -> (Run, std::fs::File) {
    let (m, s) = openpty();
    // No echo: the output is only what the processes write.
    // SAFETY: termios out/in-pointers for an open terminal.
    unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        libc::tcgetattr(s, &mut t);
        t.c_lflag &= !libc::ECHO;
        libc::tcsetattr(s, libc::TCSANOW, &t);
    }
    // SAFETY: fcntl on our own descriptors.
    unsafe {
        libc::fcntl(m, libc::F_SETFD, libc::FD_CLOEXEC);
        libc::fcntl(s, libc::F_SETFD, libc::FD_CLOEXEC);
    }
    let mut c = ns(args);
    // SAFETY: async-signal-safe calls in the forked child before exec.
    unsafe {
        c.pre_exec(move || {
            if libc::setsid() < 0 || libc::ioctl(s, libc::TIOCSCTTY, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            for fd in 0..3 {
                libc::dup2(s, fd);
            }
            Ok(())
        });
    }
    c.stdin(Stdio::inherit())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit());
    let child = c.spawn().expect("unshare");
    // SAFETY: our copy of the slave; the session holds its own.
    unsafe { libc::close(s) };
    // SAFETY: m is an open descriptor we own from here on.
    let master = unsafe { std::fs::File::from_raw_fd(m) };
    let (_, err_rx) = channel();
    let run = Run {
        child,
        lines: reader(master.try_clone().unwrap()),
        log: Vec::new(),
        stderr: err_rx,
        ns: true,
    };
    (run, master)
}

fn ctrl_c(master: &mut std::fs::File) {
    use std::io::Write;
    master.write_all(b"\x03").unwrap();
}

fn fields(log: &[String]) -> HashMap<String, String> {
    log.iter()
        .flat_map(|l| l.split(' '))
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn ctrl_c_on_a_terminal_reaches_the_child_once() {
    // The terminal is root's, the command runs as root: the child's group
    // becomes the foreground group and gets SIGINT straight from the tty.
    let (mut r, mut master) = on_pty(&["--", &probe(), "status", ",", "signals"]);
    r.expect("ready");
    let f = fields(&r.log);
    assert_eq!(f["pgid"], f["Pid"], "own process group: {:?}", r.log);
    assert_ne!(f["sid"], f["Pid"], "same session as lockdrop: {:?}", r.log);
    ctrl_c(&mut master);
    r.expect("sig 2");
    // A duplicate via lockdrop would be forwarded before this USR1 (lockdrop
    // takes pending signals lowest first): after "sig 10", count.
    r.kill(libc::SIGUSR1);
    r.expect("sig 10");
    assert_eq!(count(&r.log, "sig 2"), 1, "{:?}", r.log);
    r.kill(libc::SIGTERM);
    r.expect("sig 15");
    let (code, _, _, _) = r.finish();
    assert_eq!(code, 0);
}

#[test]
fn terminal_of_another_user_gets_a_new_session() {
    // root's terminal, command as uid 65534: no controlling terminal for the
    // command (TIOCSTI cannot reach root's input); Ctrl-C goes to lockdrop,
    // which forwards it once.
    let (mut r, mut master) = on_pty(&[
        "-u",
        "65534:65534",
        "--",
        &probe(),
        "status",
        ",",
        "signals",
    ]);
    r.expect("ready");
    let f = fields(&r.log);
    assert_eq!(f["sid"], f["Pid"], "new session expected: {:?}", r.log);
    ctrl_c(&mut master);
    r.expect("sig 2");
    r.kill(libc::SIGUSR1);
    r.expect("sig 10");
    assert_eq!(count(&r.log, "sig 2"), 1, "{:?}", r.log);
    r.kill(libc::SIGTERM);
    r.expect("sig 15");
    let (code, _, _, _) = r.finish();
    assert_eq!(code, 0);
}

/// A plain (not PID 1) lockdrop in a session of its own, so it has no
/// controlling terminal and its own process group, as under a CI runner.
fn detached(args: &[&str]) -> Command {
    let mut c = Command::new(lockdrop());
    c.args(args);
    // SAFETY: setsid is async-signal-safe.
    unsafe {
        c.pre_exec(|| {
            if libc::setsid() < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    c
}

#[test]
fn the_command_gets_its_own_process_group_without_a_terminal() {
    // No terminal, no -g: like tini, the command leads a group of its own,
    // so a signal to lockdrop's group (timeout, `kill 0`, a CI runner)
    // reaches it once, through lockdrop (and --rewrite), not also directly.
    let mut r = start(
        detached(&["--supervise", "--", &probe(), "status", ",", "signals"]),
        false,
    );
    r.expect("ready");
    let f = fields(&r.log);
    let ld = r.lockdrop_pid();
    assert_eq!(f["pgid"], f["Pid"], "own process group: {:?}", r.log);
    assert_ne!(f["pgid"], ld.to_string(), "{:?}", r.log);
    // SAFETY: kill(2) with integers: lockdrop's whole group.
    assert_eq!(unsafe { libc::kill(-ld, libc::SIGUSR1) }, 0);
    r.expect("sig 10");
    // A second, direct copy would be seen before this USR2 (lockdrop
    // forwards in order): count after it.
    r.kill(libc::SIGUSR2);
    r.expect("sig 12");
    assert_eq!(count(&r.log, "sig 10"), 1, "{:?}", r.log);
    r.kill(libc::SIGTERM);
    r.expect("sig 15");
    assert_eq!(r.finish().0, 0);
}

#[test]
fn grace_zero_terms_what_the_command_leaves() {
    // Not PID 1, default --grace 0: the command exits, leaving a daemon
    // (setsid, double fork: adopted by lockdrop, the subreaper). lockdrop
    // exits with the command and sends SIGTERM to what remains first; the
    // daemon records it. Before: it kept running, unsignalled.
    let d = tmpdir("grace0");
    let marker = d.join("marker");
    let m = marker.display().to_string();
    let mut r = start(
        detached(&[
            "--supervise",
            "--",
            &probe(),
            "daemon",
            &m,
            ",",
            "exit",
            "3",
        ]),
        false,
    );
    r.expect("daemon ready");
    let (code, _, log, err) = r.finish();
    assert_eq!(code, 3, "{:?} {}", log, err);
    eventually("the daemon to record SIGTERM", || {
        std::fs::read_to_string(&marker).is_ok_and(|t| t == "daemon got TERM\n")
    });
}

#[test]
fn job_control_stops_lockdrop_too_when_not_pid1() {
    // dumb-init's model: a stop signal is forwarded, then lockdrop stops
    // itself (its parent, a shell, waits for that); SIGCONT resumes both.
    let mut r = start(detached(&["--supervise", "--", &probe(), "signals"]), false);
    r.expect("ready");
    let ld = r.lockdrop_pid();
    for stop in [libc::SIGTSTP, libc::SIGTTIN, libc::SIGTTOU] {
        r.kill(stop);
        r.expect(&format!("sig {}", stop));
        eventually("lockdrop to stop", || state(ld) == Some('T'));
        r.kill(libc::SIGCONT);
        r.expect("sig 18");
        eventually("lockdrop to run again", || state(ld) != Some('T'));
    }
    // Forwarding still works, each signal once.
    r.kill(libc::SIGTERM);
    r.expect("sig 15");
    let (code, _, log, _) = r.finish();
    assert_eq!(code, 0, "{:?}", log);
    assert_eq!(count(&log, "sig 18"), 3, "{:?}", log);
}

/// The comm of `pid`.
fn comm(pid: i32) -> String {
    std::fs::read_to_string(format!("/proc/{}/comm", pid))
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// lockdrop's comm: its file name as the kernel keeps it (15 bytes), which
/// is `lockdrop-x86_64` for a release binary (scripts/emulated.sh).
fn lockdrop_comm() -> String {
    let p = Path::new(lockdrop());
    let name = p
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    name.chars().take(15).collect()
}

/// The process group of `pid` (field 3 after comm in /proc/<pid>/stat).
fn pgid(pid: i32) -> Option<i32> {
    let s = std::fs::read_to_string(format!("/proc/{}/stat", pid)).ok()?;
    s[s.rfind(')')? + 1..]
        .split_whitespace()
        .nth(2)?
        .parse()
        .ok()
}

/// An interactive bash (no rc files) as session leader of a new pty.
fn bash_on_pty() -> (Run, std::fs::File) {
    let bash = Path::new("/bin/bash");
    assert!(bash.exists(), "bash is missing: apt-get install bash");
    let (m, s) = openpty();
    // SAFETY: fcntl on our own descriptors.
    unsafe {
        libc::fcntl(m, libc::F_SETFD, libc::FD_CLOEXEC);
        libc::fcntl(s, libc::F_SETFD, libc::FD_CLOEXEC);
    }
    let mut c = Command::new(bash);
    c.args(["--norc", "--noprofile", "-i"])
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("TERM", "dumb")
        .env("PS1", "$ ")
        .env("HOME", "/");
    // SAFETY: async-signal-safe calls in the forked child before exec.
    unsafe {
        c.pre_exec(move || {
            if libc::setsid() < 0 || libc::ioctl(s, libc::TIOCSCTTY, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            for fd in 0..3 {
                libc::dup2(s, fd);
            }
            Ok(())
        });
    }
    let child = c.spawn().expect("bash");
    // SAFETY: our copy of the slave; the session holds its own.
    unsafe { libc::close(s) };
    // SAFETY: m is an open descriptor we own from here on.
    let master = unsafe { std::fs::File::from_raw_fd(m) };
    let (_, err_rx) = channel();
    let run = Run {
        child,
        lines: reader(master.try_clone().unwrap()),
        log: Vec::new(),
        stderr: err_rx,
        ns: false,
    };
    (run, master)
}

impl Run {
    /// Waits for a line containing `part` (a shell's lines carry prompts).
    fn expect_has(&mut self, part: &str) -> String {
        let deadline = Instant::now() + LONG;
        loop {
            match self
                .lines
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                Ok(l) => {
                    self.log.push(l.clone());
                    if l.contains(part) {
                        return l;
                    }
                }
                Err(_) => panic!("no line with {:?}; saw {:?}", part, self.log),
            }
        }
    }
}

fn type_in(master: &mut std::fs::File, text: &str) {
    use std::io::Write;
    master.write_all(text.as_bytes()).unwrap();
}

/// Ctrl-Z in `bash -i` on lockdrop running `sleep`: the job shows as
/// Stopped with lockdrop and sleep stopped, `fg` resumes both (the command
/// gets the terminal back), then Ctrl-C ends it with 130.
fn ctrl_z_in_bash(opts: &[&str], child_gets_terminal: bool) {
    use std::os::fd::AsRawFd;
    let (mut r, mut master) = bash_on_pty();
    type_in(&mut master, "echo ready-$((40+2))\n");
    r.expect_has("ready-42");
    let line = format!(
        "{} --supervise {} -- /bin/sleep 300\n",
        lockdrop(),
        opts.join(" ")
    );
    type_in(&mut master, &line);
    let bash = r.child.id() as i32;
    let (mut ld, mut sleep) = (0, 0);
    eventually("lockdrop to start sleep", || {
        ld = children(bash)
            .into_iter()
            .find(|&p| comm(p) == lockdrop_comm())
            .unwrap_or(0);
        sleep = children(ld).first().copied().unwrap_or(0);
        sleep > 0 && comm(sleep) == "sleep" && state(sleep) == Some('S')
    });
    if child_gets_terminal {
        // SAFETY: TIOCGPGRP on the master of our pty.
        eventually("sleep to hold the terminal", || unsafe {
            libc::tcgetpgrp(master.as_raw_fd()) == pgid(sleep).unwrap_or(-2)
        });
    }
    type_in(&mut master, "\x1a");
    r.expect_has("Stopped");
    assert_eq!(state(ld), Some('T'), "lockdrop is not stopped: {:?}", r.log);
    eventually("sleep to be stopped", || state(sleep) == Some('T'));
    type_in(&mut master, "fg\n");
    eventually("both to run again", || {
        state(ld) == Some('S') && state(sleep) == Some('S')
    });
    if child_gets_terminal {
        // SAFETY: TIOCGPGRP on the master of our pty.
        eventually("sleep to hold the terminal again", || unsafe {
            libc::tcgetpgrp(master.as_raw_fd()) == pgid(sleep).unwrap_or(-2)
        });
    }
    // Ctrl-Z, `bg` (both run, the shell keeps the terminal), `fg` (the
    // command's group holds it again).
    type_in(&mut master, "\x1a");
    eventually("both to stop again", || {
        state(ld) == Some('T') && state(sleep) == Some('T')
    });
    type_in(&mut master, "bg\n");
    eventually("both to run in the background", || {
        state(ld) == Some('S') && state(sleep) == Some('S')
    });
    // SAFETY: TIOCGPGRP on the master of our pty.
    eventually("the shell to hold the terminal", || unsafe {
        libc::tcgetpgrp(master.as_raw_fd()) == bash
    });
    // `fg` of a running job sends no SIGCONT (bash's start_job), so nothing
    // tells lockdrop: the terminal stays with its group and Ctrl-C is
    // forwarded (the command gets it back at its next stop by the terminal).
    type_in(&mut master, "fg\n");
    // SAFETY: TIOCGPGRP on the master of our pty.
    eventually("lockdrop to hold the terminal after bg, fg", || unsafe {
        libc::tcgetpgrp(master.as_raw_fd()) == pgid(ld).unwrap_or(-2)
    });
    type_in(&mut master, "\x03");
    eventually("lockdrop to exit", || matches!(state(ld), None | Some('Z')));
    type_in(&mut master, "echo rc=$?\n");
    r.expect_has("rc=130");
    type_in(&mut master, "exit\n");
    let _ = r.child.wait();
}

#[test]
fn ctrl_z_in_a_shell_stops_the_job() {
    ctrl_z_in_bash(&[], true);
}

#[test]
fn ctrl_z_in_a_shell_stops_the_job_with_process_group() {
    ctrl_z_in_bash(&["-g"], true);
}

#[test]
fn ctrl_z_in_a_shell_stops_the_job_in_a_new_session() {
    // The command runs as another user than the terminal's owner: it gets
    // a new session (no terminal), Ctrl-Z reaches lockdrop, which sends
    // SIGSTOP (TSTP would be discarded in an orphaned group) and stops.
    ctrl_z_in_bash(&["-u", "65534:65534"], false);
}

#[test]
fn the_command_cannot_touch_its_supervisor() {
    // As another user, the command tries every way to stop, kill, renice,
    // re-limit, ptrace or read lockdrop (not PID 1, where the kernel itself
    // would shield it): each must fail.
    let script = r#"
import ctypes, errno, os, resource, signal
pp = os.getppid()
libc = ctypes.CDLL(None, use_errno=True)
def ptrace():
    if libc.ptrace(16, pp, 0, 0) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
def t(name, f):
    try:
        f()
        print(name, "allowed", flush=True)
    except OSError as e:
        print(name, "denied", errno.errorcode.get(e.errno), flush=True)
t("kill0", lambda: os.kill(pp, 0))
t("renice", lambda: os.setpriority(os.PRIO_PROCESS, pp, 19))
t("prlimit", lambda: resource.prlimit(pp, resource.RLIMIT_CPU, (1, 1)))
t("ptrace", ptrace)
t("environ", lambda: open("/proc/%d/environ" % pp, "rb").read())
t("mem", lambda: open("/proc/%d/mem" % pp, "rb").read(1))
t("stop", lambda: os.kill(pp, signal.SIGSTOP))
t("kill", lambda: os.kill(pp, signal.SIGKILL))
print("done", flush=True)
signal.pause()
"#;
    let python = ["/usr/bin/python3", "/bin/python3"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("python3 is missing: apt-get install python3");
    let mut r = start(
        detached(&[
            "--supervise",
            "-u",
            "65534:65534",
            "--",
            python,
            "-c",
            script,
        ]),
        false,
    );
    r.expect("done");
    let tries: Vec<&String> = r.log.iter().filter(|l| *l != "done").collect();
    assert_eq!(tries.len(), 8, "{:?}", r.log);
    for l in &tries {
        assert!(l.contains(" denied "), "the command could: {:?}", r.log);
    }
    let ld = r.lockdrop_pid();
    assert_eq!(state(ld), Some('S'));
    assert_eq!(status_field(ld, "CapPrm:"), "0000000000000020");
    r.kill(libc::SIGTERM);
    let (code, _, log, _) = r.finish();
    assert_eq!(code, 143, "{:?}", log);
}

/// lockdrop's signal table is the target's: `--rewrite USR1:NAME` makes
/// lockdrop (PID 1 of a namespace) send NAME by its own number, and the probe reports the number it
/// received. Natively that must be the host C library's number for NAME; for
/// a foreign binary under qemu-user (scripts/emulated.sh), qemu translates the
/// target's numbers to the host's on every kill, so a table holding another
/// architecture's numbers would arrive as a different signal. SIGKILL is
/// seen as the exit code 137. Left out: SIGSTOP (it would only stop the
/// probe) and SIGCHLD (the probe does not report it).
#[test]
fn signal_table_matches_the_target() {
    let names: &[(&str, i32)] = &[
        ("HUP", libc::SIGHUP),
        ("INT", libc::SIGINT),
        ("QUIT", libc::SIGQUIT),
        ("ILL", libc::SIGILL),
        ("TRAP", libc::SIGTRAP),
        ("ABRT", libc::SIGABRT),
        ("BUS", libc::SIGBUS),
        ("FPE", libc::SIGFPE),
        ("SEGV", libc::SIGSEGV),
        ("USR2", libc::SIGUSR2),
        ("PIPE", libc::SIGPIPE),
        ("ALRM", libc::SIGALRM),
        ("TERM", libc::SIGTERM),
        ("STKFLT", libc::SIGSTKFLT),
        ("CONT", libc::SIGCONT),
        ("TSTP", libc::SIGTSTP),
        ("TTIN", libc::SIGTTIN),
        ("TTOU", libc::SIGTTOU),
        ("URG", libc::SIGURG),
        ("XCPU", libc::SIGXCPU),
        ("XFSZ", libc::SIGXFSZ),
        ("VTALRM", libc::SIGVTALRM),
        ("PROF", libc::SIGPROF),
        ("WINCH", libc::SIGWINCH),
        ("IO", libc::SIGIO),
        ("PWR", libc::SIGPWR),
        ("SYS", libc::SIGSYS),
    ];
    let p = probe();
    for &(name, host) in names {
        let rw = format!("USR1:{}", name);
        let mut r = start(ns(&["--rewrite", &rw, "--", &p, "signals"]), true);
        r.expect("ready");
        r.kill(libc::SIGUSR1);
        r.expect(&format!("sig {}", host));
        if host != libc::SIGTERM {
            r.kill(libc::SIGTERM);
        }
        let (code, _, log, err) = r.finish();
        assert_eq!(code, 0, "SIG{}: {:?} {}", name, log, err);
    }
    // USR1 itself, through another signal.
    let mut r = start(ns(&["--rewrite", "USR2:USR1", "--", &p, "signals"]), true);
    r.expect("ready");
    r.kill(libc::SIGUSR2);
    r.expect(&format!("sig {}", libc::SIGUSR1));
    r.kill(libc::SIGTERM);
    assert_eq!(r.finish().0, 0);
    // KILL: the probe dies of it, lockdrop exits 128 + 9.
    let mut r = start(ns(&["--rewrite", "USR1:KILL", "--", &p, "signals"]), true);
    r.expect("ready");
    r.kill(libc::SIGUSR1);
    assert_eq!(r.finish().0, 128 + libc::SIGKILL);
    // The reference is the C library's table, as `kill -l` prints it.
    let l = Command::new("bash")
        .args(["-c", "kill -l USR1 TERM CHLD PWR SYS STKFLT"])
        .output()
        .expect("bash");
    let want: Vec<String> = [
        libc::SIGUSR1,
        libc::SIGTERM,
        libc::SIGCHLD,
        libc::SIGPWR,
        libc::SIGSYS,
        libc::SIGSTKFLT,
    ]
    .iter()
    .map(|n| n.to_string())
    .collect();
    assert_eq!(
        String::from_utf8_lossy(&l.stdout)
            .split_whitespace()
            .collect::<Vec<_>>(),
        want
    );
}
