//! Supervise mode (PID-1 duties): hold every signal from the start, fork the
//! command with exactly the mask and dispositions lockdrop was given, then
//! wait with `rt_sigtimedwait` (tini's model, no handlers): forward each
//! signal, reap every zombie, tear the tree down with a grace period, and
//! exit with the command's status. Owns the session/terminal arrangement of
//! the child, job control (Ctrl-Z stops the command and then lockdrop, so a
//! shell sees the job stopped) and the supervisor's own privilege: when the
//! command runs as another user, the credentials change only in the child
//! (`privileges::apply` after fork) and the supervisor keeps its uid with
//! CAP_KILL alone, so the command cannot signal, renice, re-limit, ptrace
//! or read it (kill(2), setpriority(2), prlimit(2), ptrace(2) all want the
//! same uid or a capability the supervisor's uid is not the command's).
//!
//! Order of events:
//! 1. `Startup::block` (top of `lib::run`): every signal blocked, so none
//!    is lost or acted on while lockdrop parses and checks. Blocked signals
//!    are queued even for a namespace's PID 1, which drops unhandled ones
//!    (kernel/signal.c: sig_ignored() is false for a blocked signal).
//! 2. `prepare`: dispositions recorded; SIGCHLD set to SIG_DFL (an inherited
//!    SIG_IGN would make the kernel reap children itself, losing the exit
//!    status); child subreaper when not PID 1.
//! 3. `run`: fork. The child sets up its session (always its own process
//!    group, like tini), switches credentials (`privileges::apply`),
//!    restores dispositions and mask, execs. The parent drops to CAP_KILL
//!    or nothing, becomes non-dumpable, closes every inherited descriptor
//!    above stderr, moves to `/`, and loops: wait for a signal → forward
//!    it; reap until nothing is left. When the command ends, what remains
//!    of its tree gets SIGTERM (then SIGKILL after `--grace`).
//!
//! Processes found in /proc are signalled through pidfds after their
//! ancestry is read again (`signal_ours`): a pid number from a snapshot
//! may belong to an unrelated process by the time it is signalled.
use crate::apply::privileges;
use crate::error::{Error, Result};
use crate::host::Host;
use crate::model::caps::{self, CapSet};
use crate::model::signals;
use crate::resolve::supervise::Settings;
use crate::resolve::Plan;
use crate::run::exec;
use crate::run::startup::Startup;
use crate::run::terminal::{ctty, decide, stat_fields, Ctty, Session};
use crate::sys::signal::{self as sig, Exit, Info, SigSet, State};
use crate::{msg, sys};
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// What `prepare` saved to restore in the child.
pub struct Saved {
    mask: SigSet,
    /// Whether the caller ignored SIGCHLD: the one disposition lockdrop
    /// changes (an ignored SIGCHLD makes the kernel reap for us and lose the
    /// status). Every other disposition is inherited untouched through fork.
    chld_ignored: bool,
    ppid: i32,
}

pub fn prepare(plan: &Plan, startup: Startup) -> Result<Saved> {
    let mask = startup
        .mask
        .map_err(|e| Error::apply("rt_sigprocmask", e))?;
    let chld_ignored = sig::is_ignored(libc::SIGCHLD) == Some(true);
    if chld_ignored {
        sig::set_ignored(libc::SIGCHLD, false)
            .map_err(|e| Error::apply("rt_sigaction(SIGCHLD, SIG_DFL)", e))?;
    }
    if !plan.pid1 {
        // Orphans of the command are re-parented to us, not to the real init.
        sys::set_child_subreaper().map_err(|e| Error::apply("prctl(PR_SET_CHILD_SUBREAPER)", e))?;
    }
    Ok(Saved {
        mask,
        chld_ignored,
        ppid: sig::getppid(),
    })
}

pub fn run(plan: &Plan, host: &Host, saved: Saved) -> Result<i32> {
    let s = &plan.supervise;
    let (uid, _, _) = sys::getresuid();
    // The command's uid. A supervisor under another uid can signal it only
    // with CAP_KILL: without that capability (a container started with
    // fewer), fall back to switching before fork, so both share the uid.
    let child_uid = plan.target.as_ref().map_or(uid, |t| t.uid);
    let apart = child_uid != uid && sys::capget().1.has(caps::KILL);
    if !apart {
        privileges::apply(plan, host)?;
    }
    // After any change of credentials in this process: it clears the setting.
    let mut pending = None;
    if let Some(d) = s.pdeathsig {
        sys::set_pdeathsig(d).map_err(|e| Error::apply("prctl(PR_SET_PDEATHSIG)", e))?;
        if sig::getppid() != saved.ppid {
            // The parent died before the request: act as if it had been sent.
            pending = Some(d);
        }
    }

    let stdio = [0, 1, 2].map(sig::char_device);
    let ctty = ctty();
    let session = decide(
        s.process_group,
        ctty,
        stdio,
        child_uid,
        &|| matches!(sig::tcgetpgrp(0), Ok(fg) if fg == sig::getpgrp()),
    );
    if session == Session::NewSession && ctty != Ctty::None {
        msg::notice(&format!(
            "the command (uid {}) runs in a new session without a controlling terminal: the terminal is not its own, and TIOCSTI would let it type into it",
            child_uid
        ));
    }
    // Whether the terminal may be handed to the child's group when a shell
    // brings the job back to the foreground (`fg` after Ctrl-Z).
    let tty_ours = matches!((ctty, stdio[0]), (Ctty::Dev(d), Some((s0, _))) if d == s0)
        && matches!(session, Session::OwnGroup { .. });

    // vfork semantics: no copy of the address space; we resume once the
    // child has exec'd (or exited 125/126/127).
    let child = sig::spawn(&mut || start_child(plan, host, &saved, session, apart))
        .map_err(|e| Error::apply("fork", e))?;

    // The parent: from here on it only forwards and reaps.
    if matches!(session, Session::OwnGroup { .. }) {
        // Both sides set the group (as shells do), so it exists before we
        // signal -child; EACCES once the child has exec'd is harmless.
        let _ = sig::setpgid(child, child);
    }
    let keep = if apart {
        CapSet::EMPTY.with(caps::KILL)
    } else {
        CapSet::EMPTY
    };
    if let Err(e) = drop_privileges(keep) {
        let _ = sig::kill(child, libc::SIGKILL);
        while sig::reap_one().is_ok() {}
        return Err(e);
    }
    let me = sys::getpid();
    let mut sup = Supervisor {
        s,
        me,
        child,
        group: s.process_group,
        pid1: me == 1,
        proc_ok: std::fs::read_link("/proc/self")
            .map(|p| p.as_os_str() == me.to_string().as_str())
            .unwrap_or(false),
        status: None,
        tty_ours,
        tty_given: session == (Session::OwnGroup { foreground: true }),
        deadline: None,
        killed: false,
        termed: HashSet::new(),
        group_termed: false,
        fallback_termed: false,
        last_walk: None,
    };
    msg::verbose(format_args!(
        "supervising {} (pid {}){}",
        plan.command.name(),
        child,
        if sup.pid1 {
            " as PID 1"
        } else {
            " as a child subreaper"
        }
    ));
    let code = sup.supervise(pending);
    // Only while the child's group still holds it: after Ctrl-Z and `bg`
    // the shell has the terminal, and taking it would steal it.
    if sup.tty_given && sig::tcgetpgrp(0) == Ok(child) {
        // Hand the terminal back; SIGTTOU is blocked, so this works from the
        // background too. 0 means our group is outside this PID namespace.
        let own = sig::getpgrp();
        if own > 0 {
            let _ = sig::tcsetpgrp(0, own);
        }
    }
    Ok(code)
}

/// The forked child: session, dispositions, mask, exec. Never returns.
fn start_child(plan: &Plan, host: &Host, saved: &Saved, session: Session, apart: bool) -> ! {
    match session {
        Session::OwnGroup { foreground } => {
            let _ = sig::setpgid(0, 0);
            if foreground {
                // All signals are still blocked, so SIGTTOU cannot stop us.
                let _ = sig::tcsetpgrp(0, sys::getpid());
            }
        }
        Session::NewSession => {
            if let Err(e) = sig::setsid() {
                // Fail closed: this session exists to keep the terminal away.
                msg::error(&format!(
                    "setsid failed: {}; the command was not started",
                    crate::error::errno_str(e)
                ));
                sig::exit_now(crate::error::EXIT_LOCKDROP);
            }
        }
    }
    if apart {
        // The switch happens here only, so the supervisor keeps its uid.
        if let Err(e) = privileges::apply(plan, host) {
            crate::report(&e);
            sig::exit_now(e.exit_code());
        }
    }
    // Exactly the caller's dispositions: lockdrop installs no handler and
    // changes no disposition but SIGCHLD's, so the others arrive here as the
    // caller left them (126 rt_sigaction calls saved per start, bench/).
    // Then exactly the caller's mask.
    if saved.chld_ignored {
        let _ = sig::set_ignored(libc::SIGCHLD, true);
    }
    let _ = sig::set_mask(saved.mask);
    let e = exec::exec(&plan.command);
    // Block again so that reporting (a write to a closed pipe) cannot kill
    // us with SIGPIPE instead of exiting 126/127.
    let _ = sig::block_all();
    crate::report(&e);
    sig::exit_now(e.exit_code())
}

/// Least privilege for the process that stays: `keep` (CAP_KILL when the
/// command runs under another uid, else nothing) effective and permitted,
/// nothing inheritable or ambient, not dumpable (no ptrace, no core,
/// /proc/<pid> owned by root), no descriptor beyond stdio (the child holds
/// what lockdrop was given, so a pipe's reader sees EOF when the child
/// closes its end), cwd `/`.
fn drop_privileges(keep: CapSet) -> Result<()> {
    sys::capset_step("supervisor-capset", keep, keep, CapSet::EMPTY)
        .map_err(|e| Error::apply("capset (dropping the supervisor's capabilities)", e))?;
    // Ambient capabilities already fell out with permitted; this is cheap.
    let _ = sys::ambient_clear_all();
    sys::set_dumpable(false).map_err(|e| Error::apply("prctl(PR_SET_DUMPABLE)", e))?;
    sig::close_from(3);
    // Pin no mount: `/` always exists. Failure is harmless, so ignored.
    let _ = sys::chdir(c"/");
    Ok(())
}

/// Whether forwarding `to` means "stop": the signal that starts the grace
/// period. HUP and USR1 are reload signals for many services; not these.
fn is_terminating(to: i32) -> bool {
    matches!(to, libc::SIGTERM | libc::SIGINT | libc::SIGQUIT)
}

fn is_stop(s: i32) -> bool {
    matches!(s, libc::SIGTSTP | libc::SIGTTIN | libc::SIGTTOU)
}

/// The exit status lockdrop reports for the main child.
pub fn exit_code(how: Exit, remap: &[i32]) -> i32 {
    let c = match how {
        Exit::Code(c) => c,
        Exit::Signal(n) => 128 + n,
    };
    if remap.contains(&c) {
        0
    } else {
        c
    }
}

/// `--rewrite`: the first rule for `from` wins; 0 drops the signal.
pub fn rewrite(rules: &[(i32, i32)], from: i32) -> i32 {
    rules
        .iter()
        .find(|(f, _)| *f == from)
        .map(|(_, t)| *t)
        .unwrap_or(from)
}

/// A signal the kernel raised against lockdrop itself, not one sent to it:
/// SIGPIPE/SIGXFSZ from its own write to stderr (si_code SI_USER, si_pid
/// ourselves), SIGXCPU from its own RLIMIT_CPU (SI_KERNEL).
fn self_inflicted(i: &Info, me: i32) -> bool {
    match i.signo {
        libc::SIGPIPE | libc::SIGXFSZ => i.code == libc::SI_USER && i.pid == me,
        libc::SIGXCPU => i.code == libc::SI_KERNEL,
        _ => false,
    }
}

/// A process as /proc shows it.
struct Proc {
    pid: i32,
    ppid: i32,
    pgrp: i32,
}

fn processes() -> Option<Vec<Proc>> {
    let mut v = Vec::new();
    for e in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else {
            continue;
        };
        // A process may vanish between readdir and read: skip it.
        let Ok(st) = std::fs::read_to_string(format!("/proc/{}/stat", pid)) else {
            continue;
        };
        let Some(f) = stat_fields(&st) else { continue };
        let num = |i: usize| f.get(i).and_then(|x| x.parse::<i32>().ok());
        if let (Some(ppid), Some(pgrp)) = (num(1), num(2)) {
            v.push(Proc { pid, ppid, pgrp });
        }
    }
    Some(v)
}

/// Everything below `root` in the process tree.
fn descendants(all: &[Proc], root: i32) -> Vec<i32> {
    let mut out = Vec::new();
    let mut frontier = vec![root];
    while let Some(p) = frontier.pop() {
        for c in all.iter().filter(|c| c.ppid == p && c.pid != root) {
            if !out.contains(&c.pid) {
                out.push(c.pid);
                frontier.push(c.pid);
            }
        }
    }
    out
}

/// Sends `sig` to each of `pids` that is still below `me`: a pidfd pins
/// the process first, then its ancestry is read again from /proc. A pid
/// from an earlier snapshot may have been reaped and reused by an
/// unrelated process since; that one fails the ancestry check, and a
/// process that died after pidfd_open is not replaced behind the pidfd
/// (pidfd_send_signal then fails with ESRCH). Before Linux 5.3 (no
/// pidfd_open) the ancestry check alone narrows the window.
fn signal_ours(pids: &[i32], me: i32, s: i32) {
    for &pid in pids {
        match sig::pidfd_open(pid) {
            Ok(fd) => {
                if is_ours(pid, me, &live_ppid) {
                    let _ = sig::pidfd_kill(&fd, s);
                }
            }
            Err(libc::ENOSYS) => {
                if is_ours(pid, me, &live_ppid) {
                    let _ = sig::kill(pid, s);
                }
            }
            Err(_) => {} // ESRCH: gone already
        }
    }
}

/// The parent of `pid` as /proc shows it now.
fn live_ppid(pid: i32) -> Option<i32> {
    let st = std::fs::read_to_string(format!("/proc/{}/stat", pid)).ok()?;
    stat_fields(&st)?.get(1)?.parse().ok()
}

/// Whether `pid` descends from `me` by its chain of parents (`ppid_of`).
fn is_ours(pid: i32, me: i32, ppid_of: &dyn Fn(i32) -> Option<i32>) -> bool {
    let mut p = pid;
    // Bounded: a chain is never longer than the number of processes.
    for _ in 0..1 << 22 {
        match ppid_of(p) {
            Some(pp) if pp == me => return true,
            // 0: above init; 1: init (we are not it here); a loop is garbage.
            Some(pp) if pp > 1 && pp != p => p = pp,
            _ => return false,
        }
    }
    false
}

struct Supervisor<'a> {
    s: &'a Settings,
    me: i32,
    child: i32,
    /// Forward to the child's process group (`-g`).
    group: bool,
    pid1: bool,
    /// /proc shows our PID namespace (its `self` is our pid): only then may
    /// pids read from it be signalled.
    proc_ok: bool,
    status: Option<Exit>,
    /// stdin is our controlling terminal and the child has its own group:
    /// on `fg` the terminal goes on to the child's group.
    tty_ours: bool,
    /// The child's group holds the terminal (hand it back at exit).
    tty_given: bool,
    /// End of the grace period, once the teardown has started.
    deadline: Option<Instant>,
    killed: bool,
    /// Who already got SIGTERM from the teardown.
    termed: HashSet<i32>,
    /// The child's group got a terminating signal forwarded (`-g`).
    group_termed: bool,
    fallback_termed: bool,
    last_walk: Option<Instant>,
}

/// How often, during the grace period, /proc is walked for new orphans (and,
/// after it, SIGKILL repeated for processes forked meanwhile).
const WALK_EVERY: Duration = Duration::from_millis(50);

impl Supervisor<'_> {
    fn supervise(&mut self, pending: Option<i32>) -> i32 {
        if let Some(s) = pending {
            self.on_signal(Info {
                signo: s,
                code: libc::SI_KERNEL,
                pid: 0,
            });
        }
        loop {
            let left = self.reap();
            if self.status.is_some() {
                if !left {
                    break;
                }
                if self.s.grace.is_zero() {
                    // We exit now; what remains would be left running under
                    // whoever adopts it (as PID 1 the kernel kills it all).
                    if !self.pid1 {
                        self.term_rest();
                    }
                    break;
                }
                // The main child is gone, others remain (adopted daemons,
                // its own children now re-parented to us).
                self.start_teardown();
            }
            if let Some(d) = self.deadline {
                if self.killed || Instant::now() >= d {
                    if !self.kill_all() && self.status.is_some() {
                        // Not PID 1 and no usable /proc: the rest cannot be
                        // found, let alone waited for.
                        break;
                    }
                    self.killed = true;
                } else if self.last_walk.is_none_or(|t| t.elapsed() >= WALK_EVERY) {
                    // Orphans re-parented to us since the last look (at most
                    // every WALK_EVERY: a storm of SIGCHLDs must not turn into
                    // a storm of /proc walks).
                    self.term_others();
                }
            }
            let timeout = self.deadline.map(|d| {
                if self.killed {
                    WALK_EVERY
                } else {
                    d.saturating_duration_since(Instant::now()).min(WALK_EVERY)
                }
            });
            // Err: EAGAIN (timeout) or EINTR (woken by a stop/continue).
            if let Ok(info) = sig::wait(SigSet::FULL, timeout) {
                self.on_signal(info);
            }
        }
        exit_code(self.status.unwrap_or(Exit::Code(0)), &self.s.remap_exit)
    }

    /// waitpid(-1, WNOHANG) until nothing more has ended: coalesced SIGCHLDs
    /// and orphans included. Returns whether any child remains. The main
    /// child is asked first with WUNTRACED: its stops matter (Ctrl-Z).
    fn reap(&mut self) -> bool {
        if self.status.is_none() {
            match sig::wait_child(self.child) {
                Ok(Some(State::Ended(how))) => {
                    msg::verbose(format_args!(
                        "the command (pid {}) ended: {:?}",
                        self.child, how
                    ));
                    self.status = Some(how);
                }
                // Stopped by the terminal (Ctrl-Z, or reading it from the
                // background): lockdrop stops too, so the shell sees its job
                // stopped; SIGSTOP from someone else stops only the child.
                Ok(Some(State::Stopped(s))) if is_stop(s) => self.stop_self(true),
                _ => {}
            }
        }
        loop {
            match sig::reap_one() {
                Ok(Some((pid, how))) => {
                    if pid == self.child && self.status.is_none() {
                        msg::verbose(format_args!("the command (pid {}) ended: {:?}", pid, how));
                        self.status = Some(how);
                    }
                }
                Ok(None) => return true,
                Err(libc::EINTR) => continue,
                // ECHILD: nothing left.
                Err(_) => return false,
            }
        }
    }

    fn on_signal(&mut self, info: Info) {
        let from = info.signo;
        if from == libc::SIGCHLD || self_inflicted(&info, self.me) {
            return;
        }
        if self.status.is_some() {
            return; // nothing to forward to any more
        }
        let to = rewrite(&self.s.rewrite, from);
        if to == 0 {
            msg::verbose(format_args!("dropped {} (--rewrite)", signals::name(from)));
            return;
        }
        let target = if self.group { -self.child } else { self.child };
        if from == libc::SIGCONT && !self.pid1 {
            // `fg` after `bg`: we were running, the child in the background.
            self.pass_terminal_on();
        }
        // The kernel discards TSTP/TTIN/TTOU with the default action in an
        // orphaned process group, which a container's child usually is:
        // a child without a handler for it gets SIGSTOP, which always stops.
        let send = if is_stop(to) && !self.child_handles(to) {
            libc::SIGSTOP
        } else {
            to
        };
        msg::verbose(format_args!(
            "forwarding {} to {}",
            signals::name(send),
            target
        ));
        let _ = sig::kill(target, send);
        if is_stop(to) || to == libc::SIGSTOP {
            // Job control: the shell waits for lockdrop, its job, to stop.
            self.stop_self(false);
        }
        if is_terminating(to) && !self.s.grace.is_zero() && self.deadline.is_none() {
            self.group_termed = self.group;
            self.start_teardown();
        }
    }

    /// Stops lockdrop (dumb-init's model), after the child stopped or was
    /// sent a stop signal; SIGCONT resumes lockdrop, which passes it on.
    /// `from_tty`: the terminal stopped the child's whole group, so the
    /// whole group is continued. Never as PID 1: the kernel ignores
    /// SIGSTOP sent to a namespace's init from inside, and an init that
    /// stops would stop the container.
    fn stop_self(&mut self, from_tty: bool) {
        if self.pid1 {
            return;
        }
        msg::verbose(format_args!("the command stopped; stopping lockdrop too"));
        // SIGSTOP cannot be blocked: we stop on the way out of kill(2), and
        // run again only after SIGCONT (or die of SIGKILL).
        let _ = sig::kill(self.me, libc::SIGSTOP);
        // That SIGCONT is pending (blocked): take it here and pass it on
        // once, after the terminal, so the child resumes in the foreground.
        let _ = sig::wait(SigSet::EMPTY.with(libc::SIGCONT), Some(Duration::ZERO));
        // The shell took the terminal back when we stopped.
        self.tty_given = false;
        if self.status.is_some() {
            return;
        }
        self.pass_terminal_on();
        let cont = rewrite(&self.s.rewrite, libc::SIGCONT);
        if cont != 0 {
            let target = if self.group || from_tty {
                -self.child
            } else {
                self.child
            };
            let _ = sig::kill(target, cont);
        }
    }

    /// `fg`: the shell gave the terminal to our group (and sent SIGCONT):
    /// the child's group gets it, as at start. SIGTTOU is blocked.
    fn pass_terminal_on(&mut self) {
        if self.tty_ours && matches!(sig::tcgetpgrp(0), Ok(fg) if fg == sig::getpgrp()) {
            self.tty_given = sig::tcsetpgrp(0, self.child).is_ok();
        }
    }

    /// Whether the main child catches or ignores `s` (/proc/<pid>/status).
    fn child_handles(&self, s: i32) -> bool {
        if !self.proc_ok {
            return true;
        }
        let Ok(st) = std::fs::read_to_string(format!("/proc/{}/status", self.child)) else {
            return true;
        };
        let mask = |key: &str| {
            st.lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
                .unwrap_or(0)
        };
        SigSet(mask("SigCgt:") | mask("SigIgn:")).has(s)
    }

    fn start_teardown(&mut self) {
        if self.deadline.is_some() {
            return;
        }
        msg::verbose(format_args!(
            "stopping the rest of the tree: SIGTERM now, SIGKILL in {:?}",
            self.s.grace
        ));
        self.deadline = Some(Instant::now() + self.s.grace);
        self.term_others();
    }

    /// SIGTERM to each process adopted by us, other than the main child and
    /// (when it already got the forwarded signal) the child's group. Their
    /// own children are theirs to stop; the SIGKILL at the deadline is for all.
    fn term_others(&mut self) {
        self.last_walk = Some(Instant::now());
        match self.processes() {
            Some(all) => {
                let mut new = Vec::new();
                for p in all.iter().filter(|p| p.ppid == self.me) {
                    if p.pid == self.child
                        || (self.group_termed && p.pgrp == self.child)
                        || !self.termed.insert(p.pid)
                    {
                        continue;
                    }
                    new.push(p.pid);
                }
                signal_ours(&new, self.me, libc::SIGTERM);
            }
            None if self.pid1 && !self.fallback_termed => {
                // No usable /proc: everything in the namespace but us (the
                // main child may see SIGTERM twice).
                self.fallback_termed = true;
                let _ = sig::kill(-1, libc::SIGTERM);
            }
            None => {}
        }
    }

    /// `--grace 0`, the command has ended and lockdrop is about to exit:
    /// SIGTERM to everything still below us (dumb-init signals the group;
    /// this also reaches what left it: setsid'd daemons, their children).
    fn term_rest(&mut self) {
        let Some(all) = self.processes() else { return };
        let rest: Vec<i32> = descendants(&all, self.me)
            .into_iter()
            .filter(|pid| {
                !(self.group_termed && all.iter().any(|p| p.pid == *pid && p.pgrp == self.child))
            })
            .collect();
        msg::verbose(format_args!(
            "the command ended; SIGTERM to the {} process(es) it left",
            rest.len()
        ));
        signal_ours(&rest, self.me, libc::SIGTERM);
    }

    /// SIGKILL to the whole tree. Returns false when the tree cannot be
    /// found (not PID 1 and no usable /proc).
    fn kill_all(&mut self) -> bool {
        if self.pid1 {
            // Everything in the namespace except ourselves, atomically.
            let _ = sig::kill(-1, libc::SIGKILL);
            return true;
        }
        match self.processes() {
            Some(all) => {
                signal_ours(&descendants(&all, self.me), self.me, libc::SIGKILL);
                true
            }
            None => {
                if self.status.is_none() {
                    let _ = sig::kill(self.child, libc::SIGKILL);
                }
                false
            }
        }
    }

    fn processes(&self) -> Option<Vec<Proc>> {
        if !self.proc_ok {
            return None;
        }
        #[allow(unused_mut)]
        let mut all = processes()?;
        // Test double for the PID-reuse race: a snapshot that names an
        // unrelated process as our child (its number reused since).
        #[cfg(feature = "fault-injection")]
        if let Some(pid) = std::env::var("LOCKDROP_FAULT_STALE_PID")
            .ok()
            .and_then(|v| v.parse().ok())
        {
            all.push(Proc {
                pid,
                ppid: self.me,
                pgrp: pid,
            });
        }
        Some(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes() {
        assert_eq!(exit_code(Exit::Code(3), &[]), 3);
        assert_eq!(exit_code(Exit::Signal(15), &[]), 143);
        assert_eq!(exit_code(Exit::Signal(15), &[143]), 0);
        assert_eq!(exit_code(Exit::Code(143), &[1, 143]), 0);
        assert_eq!(exit_code(Exit::Code(0), &[143]), 0);
    }

    #[test]
    fn rewrites() {
        let r = [(15, 3), (10, 0), (15, 1)];
        assert_eq!(rewrite(&r, 15), 3);
        assert_eq!(rewrite(&r, 10), 0);
        assert_eq!(rewrite(&r, 2), 2);
    }

    #[test]
    fn tree() {
        let p = |pid, ppid| Proc {
            pid,
            ppid,
            pgrp: pid,
        };
        let all = [p(10, 1), p(11, 10), p(12, 11), p(20, 1), p(30, 5)];
        let mut d = descendants(&all, 1);
        d.sort();
        assert_eq!(d, [10, 11, 12, 20]);
    }

    #[test]
    fn ancestry_is_read_again() {
        // Supervisor 100; 101 its child, 102 a grandchild. The snapshot said
        // 103 was a child too, but its number now belongs to a process of
        // init (reused): not signalled. A loop or a vanished pid: not ours.
        let live = |p: i32| match p {
            101 => Some(100),
            102 => Some(101),
            103 => Some(1),
            104 => Some(104),
            105 => Some(104),
            _ => None,
        };
        assert!(is_ours(101, 100, &live));
        assert!(is_ours(102, 100, &live));
        assert!(!is_ours(103, 100, &live));
        assert!(!is_ours(105, 100, &live));
        assert!(!is_ours(106, 100, &live));
        // As PID 1, its children have ppid 1.
        assert!(is_ours(7, 1, &|p| (p == 7).then_some(1)));
    }
}
