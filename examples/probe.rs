//! Test probe: the command that lockdrop's tests run *under* lockdrop, in
//! namespaces, runc containers and the VM tier. It reports what the process
//! it became actually has (ids, groups, capability sets, rlimits, signal state,
//! environment, descriptors) and does the few things tests need (lock memory,
//! wait for signals, exit with a code, make orphans).
//!
//! `#![no_main]`: Rust's runtime would set SIGPIPE to ignored before `main`,
//! which would make the probe report a SigIgn that lockdrop never gave it.
//!
//! Usage: probe CMD [ARGS]... ; several commands may be chained with `,`:
//!   status            /proc/self/status fields, limits, env, cwd (key=value lines)
//!   mlock BYTES       touch BYTES (K/M/G suffix) and mlockall(MCL_CURRENT); exit 1 on failure
//!   exit N            exit with status N
//!   kill SIG          kill itself with signal number SIG
//!   signals           handle every catchable signal, print "ready", then
//!                     "sig N" per signal; exits 0 on the first SIGTERM
//!                     unless `signals --stay` (then only a pipe close/SIGKILL ends it)
//!   fds               list open descriptor numbers
//!   orphans N         double-fork N children that exit at once (orphaned to the reaper)
//!   daemon FILE       double-fork a child that writes FILE on SIGTERM and exits
//!   sleep SECS        nanosleep
//!   setuid0           try setuid(0); print "setuid0 ok" or "setuid0 denied errno=N"
//!   ignore SIG        set signal number SIG to SIG_IGN (inherited by later commands and forks)
//!   close FD          close descriptor FD
//!   linger            fork a child that ignores SIGTERM and pauses forever; print "linger PID"
//!   zombies SECS      wait until no process in /proc is a zombie (at most SECS);
//!                     print "zombies N ms M" (N left, after M milliseconds)
// Probes and fixtures make raw syscalls; Cargo.toml denies `unsafe` by default.
#![allow(unsafe_code)]
#![no_main]

use std::ffi::CStr;
use std::io::Write;
use std::os::raw::{c_char, c_int};

fn out(s: &str) {
    let mut o = std::io::stdout().lock();
    let _ = o.write_all(s.as_bytes());
    let _ = o.write_all(b"\n");
    let _ = o.flush();
}

fn parse_bytes(s: &str) -> usize {
    let (n, m) = match s.as_bytes().last() {
        Some(b'K' | b'k') => (&s[..s.len() - 1], 1usize << 10),
        Some(b'M' | b'm') => (&s[..s.len() - 1], 1 << 20),
        Some(b'G' | b'g') => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    n.parse::<usize>().unwrap_or(0) * m
}

fn status() {
    let st = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    for line in st.lines() {
        let keep = [
            "Uid:",
            "Gid:",
            "Groups:",
            "CapInh:",
            "CapPrm:",
            "CapEff:",
            "CapBnd:",
            "CapAmb:",
            "NoNewPrivs:",
            "SigBlk:",
            "SigIgn:",
            "SigCgt:",
            "Seccomp:",
            "PPid:",
            "Pid:",
        ];
        if keep.iter().any(|k| line.starts_with(k)) {
            let (k, v) = line.split_once(':').unwrap_or((line, ""));
            out(&format!(
                "{}={}",
                k,
                v.split_whitespace().collect::<Vec<_>>().join(" ")
            ));
        }
    }
    for (name, res) in [
        ("memlock", libc::RLIMIT_MEMLOCK),
        ("nofile", libc::RLIMIT_NOFILE),
        ("nproc", libc::RLIMIT_NPROC),
        ("core", libc::RLIMIT_CORE),
        ("stack", libc::RLIMIT_STACK),
        ("as", libc::RLIMIT_AS),
        ("fsize", libc::RLIMIT_FSIZE),
    ] {
        let mut r = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: r is a valid out-pointer for getrlimit.
        unsafe { libc::getrlimit(res, &mut r) };
        let f = |v: libc::rlim_t| {
            if v == libc::RLIM_INFINITY {
                "unlimited".to_string()
            } else {
                v.to_string()
            }
        };
        out(&format!(
            "rlimit.{}={}:{}",
            name,
            f(r.rlim_cur),
            f(r.rlim_max)
        ));
    }
    for k in ["HOME", "USER", "LOGNAME", "PATH", "PROBE_MARK"] {
        out(&format!(
            "env.{}={}",
            k,
            std::env::var(k).unwrap_or_else(|_| "<unset>".into())
        ));
    }
    let cwd = std::env::current_dir()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    out(&format!("cwd={}", cwd));
    // SAFETY: plain syscalls without pointers.
    let (pgid, sid) = unsafe { (libc::getpgrp(), libc::getsid(0)) };
    out(&format!("pgid={} sid={}", pgid, sid));
    // SAFETY: prctl(PR_GET_DUMPABLE) takes no pointers.
    out(&format!("dumpable={}", unsafe {
        libc::prctl(libc::PR_GET_DUMPABLE)
    }));
}

fn mlock(bytes: usize) -> i32 {
    let mut v = vec![0u8; bytes];
    for i in (0..bytes).step_by(4096) {
        v[i] = 1;
    }
    // SAFETY: mlockall takes only flags.
    let r = unsafe { libc::mlockall(libc::MCL_CURRENT) };
    if r == 0 {
        let vmlck = std::fs::read_to_string("/proc/self/status")
            .unwrap_or_default()
            .lines()
            .find(|l| l.starts_with("VmLck:"))
            .map(|l| l.split_whitespace().nth(1).unwrap_or("0").to_string())
            .unwrap_or_default();
        out(&format!("mlock ok bytes={} VmLck_kB={}", bytes, vmlck));
        std::hint::black_box(&v);
        0
    } else {
        let e = std::io::Error::last_os_error();
        out(&format!(
            "mlock failed bytes={} errno={} ({})",
            bytes,
            e.raw_os_error().unwrap_or(0),
            e
        ));
        1
    }
}

static mut STAY: bool = false;

extern "C" fn on_signal(sig: c_int) {
    // Format "sig N\n" by hand: no allocation in a signal handler.
    let mut line = *b"sig 000\n";
    let n = sig as u8;
    line[4] = b'0' + n / 100;
    line[5] = b'0' + (n / 10) % 10;
    line[6] = b'0' + n % 10;
    let skip = if n >= 100 {
        0
    } else if n >= 10 {
        1
    } else {
        2
    };
    let mut out = [0u8; 8];
    out[..4].copy_from_slice(b"sig ");
    let digits = &line[4 + skip..7];
    out[4..4 + digits.len()].copy_from_slice(digits);
    out[4 + digits.len()] = b'\n';
    // SAFETY: write(2) is async-signal-safe; out is a valid buffer.
    unsafe { libc::write(1, out.as_ptr().cast(), 5 + digits.len()) };
    // SAFETY: reading a flag set once before handlers were installed.
    if sig == libc::SIGTERM && !unsafe { STAY } {
        // SAFETY: _exit is async-signal-safe.
        unsafe { libc::_exit(0) };
    }
}

fn signals(stay: bool) -> i32 {
    // SAFETY: written before any handler is installed; single-threaded.
    unsafe { STAY = stay };
    for sig in 1..=libc::SIGRTMAX() {
        if sig == libc::SIGKILL || sig == libc::SIGSTOP || sig == libc::SIGCHLD {
            continue;
        }
        // SAFETY: zeroed sigaction is valid; handler is an extern "C" fn.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_signal as *const () as usize;
            sa.sa_flags = libc::SA_RESTART;
            // Handlers never nest: "sig 15" followed by _exit is the last line.
            libc::sigfillset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
    // SAFETY: unblock everything so the handlers can run.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
    }
    out("ready");
    loop {
        // SAFETY: pause just waits for a signal.
        unsafe { libc::pause() };
    }
}

fn orphans(n: usize) {
    for _ in 0..n {
        // SAFETY: fork in a single-threaded program; children only _exit.
        unsafe {
            let pid = libc::fork();
            if pid == 0 {
                if libc::fork() == 0 {
                    libc::_exit(0);
                }
                libc::_exit(0);
            } else if pid > 0 {
                libc::waitpid(pid, std::ptr::null_mut(), 0);
            }
        }
    }
    out(&format!("orphans {}", n));
}

static mut DAEMON_FILE: [u8; 256] = [0; 256];

extern "C" fn daemon_term(_: c_int) {
    // SAFETY: DAEMON_FILE is a NUL-terminated path written before the handler was installed.
    unsafe {
        let p = std::ptr::addr_of!(DAEMON_FILE) as *const c_char;
        let fd = libc::open(p, libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC, 0o644);
        if fd >= 0 {
            libc::write(fd, b"daemon got TERM\n".as_ptr().cast(), 16);
            libc::close(fd);
        }
        libc::_exit(0);
    }
}

fn daemon(file: &str) {
    let b = file.as_bytes();
    // SAFETY: single-threaded; copy the path into the static before forking.
    unsafe {
        let d = &mut *std::ptr::addr_of_mut!(DAEMON_FILE);
        d[..b.len().min(255)].copy_from_slice(&b[..b.len().min(255)]);
    }
    // SAFETY: fork/setsid/sigaction in a single-threaded program.
    unsafe {
        let mut fds = [0; 2];
        libc::pipe(fds.as_mut_ptr());
        let pid = libc::fork();
        if pid == 0 {
            libc::setsid();
            if libc::fork() == 0 {
                let mut sa: libc::sigaction = std::mem::zeroed();
                sa.sa_sigaction = daemon_term as *const () as usize;
                libc::sigaction(libc::SIGTERM, &sa, std::ptr::null_mut());
                let mut set: libc::sigset_t = std::mem::zeroed();
                libc::sigemptyset(&mut set);
                libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
                libc::write(fds[1], b"x".as_ptr().cast(), 1);
                libc::close(fds[1]);
                libc::close(0);
                libc::close(1);
                libc::close(2);
                loop {
                    libc::pause();
                }
            }
            libc::_exit(0);
        }
        libc::close(fds[1]);
        let mut c = [0u8; 1];
        libc::read(fds[0], c.as_mut_ptr().cast(), 1);
        libc::waitpid(pid, std::ptr::null_mut(), 0);
    }
    out("daemon ready");
}

fn linger() {
    // SAFETY: fork in a single-threaded program; the child only sets a
    // disposition, unblocks, reports through the pipe and pauses.
    unsafe {
        let mut fds = [0; 2];
        libc::pipe(fds.as_mut_ptr());
        let pid = libc::fork();
        if pid == 0 {
            libc::signal(libc::SIGTERM, libc::SIG_IGN);
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
            libc::write(fds[1], b"x".as_ptr().cast(), 1);
            libc::close(fds[0]);
            libc::close(fds[1]);
            loop {
                libc::pause();
            }
        }
        // Report only once the child ignores SIGTERM.
        libc::close(fds[1]);
        let mut c = [0u8; 1];
        libc::read(fds[0], c.as_mut_ptr().cast(), 1);
        libc::close(fds[0]);
        out(&format!("linger {}", pid));
    }
}

fn zombies(secs: f64) {
    let start = std::time::Instant::now();
    let count = || {
        std::fs::read_dir("/proc")
            .map(|d| {
                d.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
                    .filter(|pid| {
                        std::fs::read_to_string(format!("/proc/{}/stat", pid))
                            .ok()
                            .and_then(|s| {
                                s.rfind(')')
                                    .map(|i| s[i + 1..].trim_start().starts_with('Z'))
                            })
                            .unwrap_or(false)
                    })
                    .count()
            })
            .unwrap_or(0)
    };
    let mut n = count();
    while n > 0 && start.elapsed().as_secs_f64() < secs {
        std::thread::sleep(std::time::Duration::from_millis(1));
        n = count();
    }
    out(&format!("zombies {} ms {}", n, start.elapsed().as_millis()));
}

// The C runtime is the only caller, with its own argc/argv.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
#[no_mangle]
pub extern "C" fn main(argc: c_int, argv: *const *const c_char) -> c_int {
    let args: Vec<String> = (1..argc as isize)
        // SAFETY: the C runtime passes argc valid NUL-terminated strings.
        .map(|i| {
            unsafe { CStr::from_ptr(*argv.offset(i)) }
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let mut code = 0;
    for cmd in args.split(|a| a == ",") {
        let arg = |i: usize| cmd.get(i).map(String::as_str).unwrap_or("");
        code = match arg(0) {
            "status" => {
                status();
                0
            }
            "mlock" => mlock(parse_bytes(arg(1))),
            "exit" => return arg(1).parse().unwrap_or(0),
            "kill" => {
                // SAFETY: unblock then raise; plain syscalls.
                unsafe {
                    let s: c_int = arg(1).parse().unwrap_or(libc::SIGTERM);
                    let mut set: libc::sigset_t = std::mem::zeroed();
                    libc::sigemptyset(&mut set);
                    libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
                    libc::signal(s, libc::SIG_DFL);
                    libc::kill(libc::getpid(), s);
                }
                1
            }
            "signals" => signals(arg(1) == "--stay"),
            "fds" => {
                let mut v: Vec<u32> = std::fs::read_dir("/proc/self/fd")
                    .map(|d| {
                        d.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                            .collect()
                    })
                    .unwrap_or_default();
                v.sort();
                // the read_dir descriptor itself is closed by now but was listed: drop the max
                // only if it no longer exists
                v.retain(|fd| std::path::Path::new(&format!("/proc/self/fd/{}", fd)).exists());
                out(&format!(
                    "fds={}",
                    v.iter()
                        .map(|f| f.to_string())
                        .collect::<Vec<_>>()
                        .join(",")
                ));
                0
            }
            "orphans" => {
                orphans(arg(1).parse().unwrap_or(1));
                0
            }
            "daemon" => {
                daemon(arg(1));
                0
            }
            "sleep" => {
                std::thread::sleep(std::time::Duration::from_secs_f64(
                    arg(1).parse().unwrap_or(1.0),
                ));
                0
            }
            "setuid0" => {
                // SAFETY: setuid takes an integer.
                if unsafe { libc::setuid(0) } == 0 {
                    out("setuid0 ok");
                } else {
                    out(&format!(
                        "setuid0 denied errno={}",
                        std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
                    ));
                }
                0
            }
            "ignore" => {
                // SAFETY: setting a disposition to SIG_IGN.
                unsafe { libc::signal(arg(1).parse().unwrap_or(0), libc::SIG_IGN) };
                0
            }
            "close" => {
                // SAFETY: closing a descriptor number.
                unsafe { libc::close(arg(1).parse().unwrap_or(-1)) };
                0
            }
            "linger" => {
                linger();
                0
            }
            "zombies" => {
                zombies(arg(1).parse().unwrap_or(10.0));
                0
            }
            other => {
                eprintln!("probe: unknown command {:?}", other);
                2
            }
        };
    }
    code
}
