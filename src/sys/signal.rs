//! Signal masks and dispositions, fork, wait, kill, sessions and terminal
//! process groups for the supervisor. One syscall per function, errno out,
//! no policy.
//!
//! Masks and dispositions go through the raw `rt_sigprocmask` and
//! `rt_sigaction` syscalls with the kernel's 64-bit signal set, not libc's
//! wrappers: musl and glibc hide or refuse their internal signals (32–34),
//! and lockdrop must give the command exactly the mask it was given.
use super::{check, errno, SysResult};
use std::time::Duration;

/// The kernel's signal set (`_NSIG` = 64): bit `n - 1` is signal `n`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SigSet(pub u64);

/// Signals 1..=64, the kernel's range (SIGRTMAX is 64 on Linux).
pub const NSIG: i32 = 64;
const SETSIZE: usize = 8;

impl SigSet {
    pub const EMPTY: SigSet = SigSet(0);
    pub const FULL: SigSet = SigSet(u64::MAX);
    pub fn has(self, sig: i32) -> bool {
        (1..=NSIG).contains(&sig) && self.0 & (1 << (sig - 1)) != 0
    }
    pub fn with(self, sig: i32) -> SigSet {
        if (1..=NSIG).contains(&sig) {
            SigSet(self.0 | (1 << (sig - 1)))
        } else {
            self
        }
    }
}

fn sigprocmask(how: libc::c_int, set: Option<SigSet>) -> SysResult<SigSet> {
    let mut old = 0u64;
    let new = set.map(|s| s.0);
    // SAFETY: pointers to a u64 (the kernel sigset on 64-bit) or NULL, and
    // the matching sigsetsize.
    check(unsafe {
        libc::syscall(
            libc::SYS_rt_sigprocmask,
            how,
            new.as_ref().map_or(std::ptr::null(), |n| n as *const u64),
            &mut old as *mut u64,
            SETSIZE,
        ) as libc::c_int
    })?;
    Ok(SigSet(old))
}

/// Blocks every signal and returns the mask that was in force. The kernel
/// silently keeps SIGKILL and SIGSTOP unblockable, and still delivers
/// synchronous faults (a real SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP,
/// SIGSYS in this process) by force: force_sig_info_to_task() unblocks them
/// and resets them to SIG_DFL, so a crash is never hidden by the mask.
pub fn block_all() -> SysResult<SigSet> {
    sigprocmask(libc::SIG_BLOCK, Some(SigSet::FULL))
}

/// Sets the mask exactly (SIG_SETMASK).
pub fn set_mask(m: SigSet) -> SysResult<()> {
    sigprocmask(libc::SIG_SETMASK, Some(m)).map(drop)
}

pub fn mask() -> SysResult<SigSet> {
    sigprocmask(libc::SIG_BLOCK, None)
}

/// The kernel's `struct sigaction` for rt_sigaction(2) (asm-generic layout:
/// x86, arm, aarch64, powerpc, riscv, s390). `flags` is an unsigned long
/// (32 bits on i686 and armv7); riscv defines no SA_RESTORER, so its struct
/// has no restorer field and the mask follows the flags.
#[repr(C)]
#[derive(Default)]
struct KSigaction {
    handler: usize,
    flags: libc::c_ulong,
    #[cfg(not(any(target_arch = "riscv64", target_arch = "riscv32")))]
    restorer: usize,
    mask: u64,
}

/// Whether `sig` is ignored (SIG_IGN). None for SIGKILL/SIGSTOP or an
/// invalid number.
pub fn is_ignored(sig: i32) -> Option<bool> {
    let mut old = KSigaction::default();
    // SAFETY: NULL new action (query only) and a valid out-pointer of the
    // kernel's layout.
    let r = unsafe {
        libc::syscall(
            libc::SYS_rt_sigaction,
            sig,
            std::ptr::null::<KSigaction>(),
            &mut old as *mut KSigaction,
            SETSIZE,
        )
    };
    if r < 0 {
        return None;
    }
    Some(old.handler == libc::SIG_IGN)
}

/// Sets `sig` to SIG_IGN or SIG_DFL (never a handler: lockdrop has none).
pub fn set_ignored(sig: i32, ignore: bool) -> SysResult<()> {
    let act = KSigaction {
        handler: if ignore { libc::SIG_IGN } else { libc::SIG_DFL },
        ..KSigaction::default()
    };
    // SAFETY: a valid action of the kernel's layout; SIG_IGN/SIG_DFL need no
    // restorer; NULL old action.
    check(unsafe {
        libc::syscall(
            libc::SYS_rt_sigaction,
            sig,
            &act as *const KSigaction,
            std::ptr::null_mut::<KSigaction>(),
            SETSIZE,
        ) as libc::c_int
    })
    .map(drop)
}

/// The part of `siginfo_t` lockdrop reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Info {
    pub signo: i32,
    pub code: i32,
    pub pid: i32,
}

/// rt_sigtimedwait(2): takes one pending signal of `set` (which must be
/// blocked), waiting at most `timeout` (None: forever). Err(EAGAIN) on
/// timeout, Err(EINTR) when interrupted (e.g. by SIGCONT after a stop).
pub fn wait(set: SigSet, timeout: Option<Duration>) -> SysResult<Info> {
    // libc's siginfo_t: the union's offset differs between 32- and 64-bit
    // targets, and reading words by hand breaks on big-endian s390x.
    // SAFETY: siginfo_t is plain data; all-zero is a valid value.
    let mut si: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // The kernel's timespec for rt_sigtimedwait (not the _time64 variant):
    // two longs, 32-bit on i686 and armv7. The timeout is relative, so a
    // 32-bit second count only needs clamping.
    #[repr(C)]
    struct KTimespec {
        sec: libc::c_long,
        nsec: libc::c_long,
    }
    let ts = timeout.map(|t| KTimespec {
        sec: t.as_secs().min(libc::c_long::MAX as u64) as libc::c_long,
        nsec: t.subsec_nanos() as libc::c_long,
    });
    // SAFETY: the set is a u64 with its size, si is a writable siginfo_t,
    // the timespec is valid or NULL.
    let r = unsafe {
        libc::syscall(
            libc::SYS_rt_sigtimedwait,
            &set.0 as *const u64,
            &mut si as *mut libc::siginfo_t,
            ts.as_ref()
                .map_or(std::ptr::null(), |t| t as *const KTimespec),
            SETSIZE,
        )
    };
    if r < 0 {
        return Err(errno());
    }
    Ok(Info {
        signo: si.si_signo,
        code: si.si_code,
        // SAFETY: si_pid reads the union's first field, which the kernel
        // fills for every signal lockdrop waits for (kill, sigqueue, SIGCHLD
        // and the kernel's own, where it is 0).
        pid: unsafe { si.si_pid() },
    })
}

/// fork(2): Ok(0) in the child, Ok(pid) in the parent.
pub fn fork() -> SysResult<i32> {
    super::inject("fork")?;
    // SAFETY: lockdrop is single-threaded, so the child may run ordinary
    // code (allocation included) until it execs or _exits.
    check(unsafe { libc::fork() })
}

/// The stack `spawn`'s child runs on: in .bss, so it costs no file bytes
/// and only the pages the child touches are ever mapped. The parent is
/// suspended while the child uses it (CLONE_VFORK), and only one child is
/// ever spawned, so it is never shared.
const SPAWN_STACK: usize = 256 * 1024;
static mut STACK: [u128; SPAWN_STACK / 16] = [0; SPAWN_STACK / 16];

/// clone(CLONE_VM | CLONE_VFORK) with `child` as the new process's body
/// (what posix_spawn does): no copy of the address space and no page
/// faults for copy-on-write; the caller sleeps until the child has exec'd
/// or exited. The child shares memory with the suspended parent: it may
/// allocate (one thread, the parent holds no lock while it waits), but
/// what it writes stays behind. It has its own copy of the signal mask and
/// dispositions (no CLONE_SIGHAND), which are thus its own to change; its
/// credential syscalls are raw (sys::setresuid...), so no libc broadcast
/// to threads reaches the parent. Ok(pid) in the parent.
pub fn spawn(child: &mut dyn FnMut() -> i32) -> SysResult<i32> {
    super::inject("fork")?;
    extern "C" fn body(arg: *mut libc::c_void) -> libc::c_int {
        // SAFETY: `arg` is the `&mut &mut dyn FnMut` below, alive until
        // the parent resumes, which is after this child exec'd or exited.
        let f = unsafe { &mut *(arg as *mut &mut dyn FnMut() -> i32) };
        f()
    }
    let mut f: &mut dyn FnMut() -> i32 = child;
    // SAFETY: the top of a 16-aligned static that nothing else uses (see
    // STACK); the stack grows down on every architecture lockdrop targets
    // but hppa; `f` outlives the child's use of it (CLONE_VFORK).
    let pid = unsafe {
        let top = (std::ptr::addr_of_mut!(STACK) as *mut u8).add(SPAWN_STACK);
        libc::clone(
            body,
            top.cast(),
            libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
            (&mut f as *mut &mut dyn FnMut() -> i32).cast(),
        )
    };
    check(pid)
}

/// _exit(2): no atexit handlers, no stdio flush (for the forked child).
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns and touches no Rust state.
    unsafe { libc::_exit(code) }
}

/// How a reaped process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(i32),
}

/// waitpid(-1, WNOHANG): Ok(Some((pid, how))) for one reaped child,
/// Ok(None) when children remain but none has ended, Err(ECHILD) when
/// there are no children.
pub fn reap_one() -> SysResult<Option<(i32, Exit)>> {
    let mut status = 0;
    // SAFETY: status is a valid out-pointer.
    let pid = check(unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) })?;
    if pid == 0 {
        return Ok(None);
    }
    let how = if libc::WIFSIGNALED(status) {
        Exit::Signal(libc::WTERMSIG(status))
    } else {
        Exit::Code(libc::WEXITSTATUS(status))
    };
    Ok(Some((pid, how)))
}

/// How `wait_child` found the main child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Ended(Exit),
    /// Stopped by this signal (reported once per stop, WUNTRACED).
    Stopped(i32),
}

/// waitpid(pid, WNOHANG | WUNTRACED): Ok(None) while it runs unchanged.
pub fn wait_child(pid: i32) -> SysResult<Option<State>> {
    let mut status = 0;
    // SAFETY: status is a valid out-pointer.
    let r = check(unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG | libc::WUNTRACED) })?;
    if r == 0 {
        return Ok(None);
    }
    Ok(Some(if libc::WIFSTOPPED(status) {
        State::Stopped(libc::WSTOPSIG(status))
    } else if libc::WIFSIGNALED(status) {
        State::Ended(Exit::Signal(libc::WTERMSIG(status)))
    } else {
        State::Ended(Exit::Code(libc::WEXITSTATUS(status)))
    }))
}

/// pidfd_open(2) (Linux 5.3): a descriptor for exactly this process, which
/// a later reuse of its pid number cannot redirect. Err(ENOSYS) on older
/// kernels.
pub fn pidfd_open(pid: i32) -> SysResult<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    // SAFETY: integer-only syscall.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(errno());
    }
    // SAFETY: the kernel just returned this descriptor, owned by no one else.
    Ok(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd as i32) })
}

/// pidfd_send_signal(2): kill(2) through a pidfd.
pub fn pidfd_kill(fd: &std::os::fd::OwnedFd, sig: i32) -> SysResult<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: a valid descriptor, a NULL siginfo, no flags.
    let r = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            fd.as_raw_fd(),
            sig,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    if r < 0 {
        Err(errno())
    } else {
        Ok(())
    }
}

/// kill(2); `pid` < 0 signals a process group, -1 every process we may.
pub fn kill(pid: i32, sig: i32) -> SysResult<()> {
    // SAFETY: integer-only syscall.
    check(unsafe { libc::kill(pid, sig) }).map(drop)
}

pub fn setsid() -> SysResult<()> {
    // SAFETY: no arguments.
    check(unsafe { libc::setsid() }).map(drop)
}

pub fn setpgid(pid: i32, pgid: i32) -> SysResult<()> {
    // SAFETY: integer-only syscall.
    check(unsafe { libc::setpgid(pid, pgid) }).map(drop)
}

pub fn getpgrp() -> i32 {
    // SAFETY: no arguments.
    unsafe { libc::getpgrp() }
}

pub fn getppid() -> i32 {
    // SAFETY: no arguments.
    unsafe { libc::getppid() }
}

pub fn getsid() -> i32 {
    // SAFETY: integer-only syscall.
    unsafe { libc::getsid(0) }
}

/// tcgetpgrp(3) (TIOCGPGRP): the terminal's foreground process group.
pub fn tcgetpgrp(fd: i32) -> SysResult<i32> {
    // SAFETY: integer-only call.
    check(unsafe { libc::tcgetpgrp(fd) })
}

/// tcsetpgrp(3) (TIOCSPGRP). Called with SIGTTOU blocked, so a background
/// caller is not stopped (tty_check_change treats blocked as ignored).
pub fn tcsetpgrp(fd: i32, pgrp: i32) -> SysResult<()> {
    // SAFETY: integer-only call.
    check(unsafe { libc::tcsetpgrp(fd, pgrp) }).map(drop)
}

/// Whether the process has a controlling terminal, by opening /dev/tty:
/// Some(false) on ENXIO, None when it cannot tell (no /dev/tty node).
pub fn has_ctty() -> Option<bool> {
    // SAFETY: a NUL-terminated path; O_NOCTTY acquires nothing, and the fd
    // is closed right away.
    let fd = unsafe {
        libc::open(
            c"/dev/tty".as_ptr(),
            libc::O_RDONLY | libc::O_NOCTTY | libc::O_CLOEXEC | libc::O_NONBLOCK,
        )
    };
    if fd >= 0 {
        // SAFETY: closing the descriptor opened above.
        unsafe { libc::close(fd) };
        return Some(true);
    }
    if errno() == libc::ENXIO {
        Some(false)
    } else {
        None
    }
}

/// Gives up the controlling terminal: open /dev/tty, TIOCNOTTY
/// (tty_ioctl(4)). The descriptors 0-2 stay open for I/O; the process simply
/// has no controlling terminal any more. As a session leader the kernel also
/// sends SIGHUP and SIGCONT to the foreground group: the caller blocks them.
pub fn tiocnotty() -> SysResult<()> {
    // SAFETY: a NUL-terminated path; the fd is closed below.
    let fd = check(unsafe {
        libc::open(
            c"/dev/tty".as_ptr(),
            libc::O_RDWR | libc::O_CLOEXEC | libc::O_NOCTTY,
        )
    })?;
    // SAFETY: TIOCNOTTY takes no argument.
    let r = check(unsafe { libc::ioctl(fd, libc::TIOCNOTTY) });
    // SAFETY: closing the descriptor opened above.
    unsafe { libc::close(fd) };
    r.map(drop)
}

/// tcgetsid(3) (TIOCGSID): the session of the terminal on `fd`; fails with
/// ENOTTY unless it is the caller's controlling terminal (tty_ioctl(4)).
pub fn tcgetsid(fd: i32) -> SysResult<i32> {
    // SAFETY: integer-only call.
    check(unsafe { libc::tcgetsid(fd) })
}

/// isatty(3) (one TCGETS ioctl).
pub fn isatty(fd: i32) -> bool {
    // SAFETY: integer-only call.
    unsafe { libc::isatty(fd) == 1 }
}

/// fstat(2) of `fd` when it is a character device: (st_rdev, st_uid).
pub fn char_device(fd: i32) -> Option<(u64, u32)> {
    // SAFETY: zeroed stat is a valid out-buffer.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: st is a valid out-pointer.
    if unsafe { libc::fstat(fd, &mut st) } < 0 {
        return None;
    }
    if st.st_mode & libc::S_IFMT != libc::S_IFCHR {
        return None;
    }
    Some((st.st_rdev as u64, st.st_uid))
}

/// Closes every descriptor from `first` up: close_range(2) (Linux 5.9),
/// else each entry of /proc/self/fd.
pub fn close_from(first: u32) {
    // SAFETY: integer-only syscall.
    let r = unsafe { libc::syscall(libc::SYS_close_range, first, u32::MAX, 0) };
    if r == 0 {
        return;
    }
    let fds: Vec<i32> = std::fs::read_dir("/proc/self/fd")
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .filter(|&fd: &i32| fd >= first as i32)
                .collect()
        })
        .unwrap_or_default();
    for fd in fds {
        // SAFETY: closing a descriptor number; the directory's own
        // descriptor is already closed (EBADF is harmless).
        unsafe { libc::close(fd) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigset_bits() {
        let s = SigSet::EMPTY.with(1).with(64).with(0).with(65);
        assert!(s.has(1) && s.has(64) && !s.has(2) && !s.has(0));
        assert_eq!(s.0, 1 | (1 << 63));
    }
}
