//! The command's session and controlling terminal: the pure decision
//! (`decide`), reading lockdrop's own controlling terminal, and exec mode's
//! half of the TIOCSTI rule (`detach_foreign_terminal`), and the seccomp
//! filter that closes TIOCSTI for good in both modes (`deny_injection`).
//! Supervise mode carries the session decision out in its child.
use crate::error::{Error, Result};
use crate::resolve::Plan;
use crate::sys::signal::{self as sig, SigSet};
use crate::{msg, sys};

/// Where the child runs relative to lockdrop's session and terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Session {
    /// Its own process group in lockdrop's session (always, like tini: a
    /// signal to lockdrop's group must reach the command only through
    /// lockdrop, once, rewritten); with `foreground` it takes the terminal,
    /// so Ctrl-C reaches it once, straight from the tty.
    OwnGroup { foreground: bool },
    /// A new session (setsid): its own group and no controlling terminal.
    NewSession,
}

/// lockdrop's controlling terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ctty {
    None,
    /// Its device number, as fstat's st_rdev.
    Dev(u64),
}

/// The pure decision. `stdio`: (st_rdev, st_uid) of fds 0, 1, 2 that are
/// character devices; `uid`: the command's uid; `foreground`: lazily asks
/// whether lockdrop's group is the terminal's foreground group (ioctls only
/// when there is a terminal).
///
/// TIOCSTI (ioctl that pushes bytes into a terminal's input queue) works on
/// the caller's controlling terminal, which every process of the session
/// shares and can reopen as /dev/tty. A command that runs as another user
/// than the terminal's owner (root's shell, `lockdrop -u app`) could type
/// commands into the owner's shell after lockdrop exits. So such a command
/// gets a new session and no controlling terminal at all.
pub fn decide(
    group: bool,
    ctty: Ctty,
    stdio: [Option<(u64, u32)>; 3],
    uid: u32,
    foreground: &dyn Fn() -> bool,
) -> Session {
    let Ctty::Dev(dev) = ctty else {
        return if group {
            Session::NewSession
        } else {
            Session::OwnGroup { foreground: false }
        };
    };
    let owner = stdio
        .iter()
        .flatten()
        .find(|(d, _)| *d == dev)
        .map(|(_, u)| *u);
    if owner != Some(uid) {
        return Session::NewSession;
    }
    let stdin_is_ctty = matches!(stdio[0], Some((d, _)) if d == dev);
    Session::OwnGroup {
        foreground: stdin_is_ctty && foreground(),
    }
}

/// tty_nr, field 7 of /proc/<pid>/stat: 0 without a controlling terminal.
pub(crate) fn ctty() -> Ctty {
    // Fast path for the container case: opening /dev/tty fails with ENXIO
    // when there is no controlling terminal (one syscall, no /proc parsing).
    // With one, /proc tells which device it is (/dev/tty's own inode does not).
    if sig::has_ctty() == Some(false) {
        return Ctty::None;
    }
    match std::fs::read_to_string("/proc/self/stat")
        .ok()
        // tty_nr is the 5th field after comm; nth() instead of collecting ~50.
        .and_then(|s| {
            s[s.rfind(')')? + 1..]
                .split_whitespace()
                .nth(4)?
                .parse::<i64>()
                .ok()
        }) {
        Some(0) => Ctty::None,
        Some(n) => Ctty::Dev(tty_nr_to_rdev(n as u64)),
        // No /proc: TIOCGSID answers only for our controlling terminal (the
        // kernel's init has the console on stdin but no controlling tty).
        None => match sig::char_device(0) {
            Some((d, _)) if sig::tcgetsid(0).is_ok() => Ctty::Dev(d),
            _ => Ctty::None,
        },
    }
}

/// The fields after `(comm)` of /proc/<pid>/stat: state, ppid, pgrp,
/// session, tty_nr, ... (comm may contain spaces and parentheses).
pub(crate) fn stat_fields(s: &str) -> Option<Vec<&str>> {
    let rest = &s[s.rfind(')')? + 1..];
    Some(rest.split_whitespace().collect())
}

/// tty_nr packs major and minor differently from st_rdev (new_encode_dev
/// vs the glibc/musl dev_t): compare in one encoding.
fn tty_nr_to_rdev(n: u64) -> u64 {
    let major = (n >> 8) & 0xfff;
    let minor = (n & 0xff) | ((n >> 12) & 0xfff00);
    libc::makedev(major as u32, minor as u32)
}

/// Exec mode's half of the TIOCSTI rule (see `decide`): after the switch,
/// a command whose controlling terminal belongs to someone else loses it.
/// setsid when lockdrop leads no process group; otherwise (a shell job, or
/// the session leader) TIOCNOTTY, with SIGHUP/SIGCONT still blocked by
/// `Startup` and drained. Fails closed: the command never runs with the
/// terminal if this fails.
pub fn detach_foreign_terminal() -> Result<()> {
    let ctty = ctty();
    if ctty == Ctty::None {
        return Ok(());
    }
    let (uid, _, _) = sys::getresuid();
    let stdio = [0, 1, 2].map(sig::char_device);
    if decide(false, ctty, stdio, uid, &|| true) != Session::NewSession {
        return Ok(());
    }
    if sig::setsid().is_err() {
        sig::tiocnotty().map_err(|e| Error::Apply {
            step: "ioctl(TIOCNOTTY)",
            errno: e,
            hint: "giving up a terminal that belongs to another user (TIOCSTI protection)".into(),
        })?;
        // The hangup a session leader's TIOCNOTTY sends to its own group.
        let hup_cont = SigSet::EMPTY.with(libc::SIGHUP).with(libc::SIGCONT);
        while sig::wait(hup_cont, Some(std::time::Duration::ZERO)).is_ok() {}
    }
    msg::notice(&format!(
        "the command (uid {}) runs without a controlling terminal: the terminal is not its own, and TIOCSTI would let it type into it",
        uid
    ));
    Ok(())
}

/// CAP_SYS_ADMIN: installing a seccomp filter without no_new_privs needs it.
const CAP_SYS_ADMIN: u32 = 21;

/// Whether a terminal reaches the command: lockdrop's controlling terminal,
/// or a terminal on fds 0-2 (shape d: a pty that is no session's ctty can
/// still become the command's after a setsid).
pub fn terminal_reachable() -> bool {
    ctty() != Ctty::None || (0..3).any(sig::isatty)
}

/// Linux ≥ 6.2 with `dev.tty.legacy_tiocsti = 0`: TIOCSTI needs
/// CAP_SYS_ADMIN, which a switched command holds only when asked for.
fn kernel_denies_tiocsti(plan: &Plan) -> bool {
    !plan
        .ambient
        .has(crate::model::caps::Cap(CAP_SYS_ADMIN as u8))
        && std::fs::read("/proc/sys/dev/tty/legacy_tiocsti").is_ok_and(|v| v.trim_ascii() == b"0")
}

/// The TIOCSTI/TIOCLINUX filter (sys::seccomp) for a command that runs as
/// another user than lockdrop's caller. Called while still root, before the
/// switch, in both modes: the filter is inherited across fork and execve, so
/// it also holds for every process the command starts, whatever session or
/// terminal it later takes (shapes a-d of issue 13).
///
/// The kernel installs a filter only under no_new_privs or with
/// CAP_SYS_ADMIN (seccomp(2)). So:
/// - CAP_SYS_ADMIN in our effective set, or `--no-new-privs` asked: always
///   installed (it costs the command nothing it could use).
/// - otherwise, with a terminal reachable: no_new_privs is set so the filter
///   can be (set-uid programs in the command then gain nothing), with a
///   notice. Without a terminal there is nothing to inject into: nothing is
///   set, and set-uid programs keep working.
///
/// Fails closed: with a terminal reachable, the command never runs unfiltered.
pub fn deny_injection(plan: &Plan) -> Result<()> {
    if plan.target.is_none() {
        // The command is whoever started lockdrop: no new power over the
        // terminal.
        return Ok(());
    }
    let (eff, _, _) = sys::capget();
    let admin = eff.has(crate::model::caps::Cap(CAP_SYS_ADMIN as u8));
    let exposed = terminal_reachable() && !kernel_denies_tiocsti(plan);
    if !(admin || plan.no_new_privs || exposed) {
        return Ok(());
    }
    let fail = |step: &'static str, e: i32| Error::Apply {
        step,
        errno: e,
        hint:
            "installing the filter that keeps the command from typing into the terminal (TIOCSTI); \
               run without a terminal (no docker run -t) to start without it"
                .into(),
    };
    if !admin {
        if !plan.no_new_privs {
            msg::notice(
                "a terminal is attached: no_new_privs is set so the command cannot type into it (TIOCSTI); \
                 set-uid programs in the command gain nothing. Run without a terminal to keep them working",
            );
        }
        sys::set_no_new_privs().map_err(|e| fail("prctl(PR_SET_NO_NEW_PRIVS)", e))?;
    }
    match sys::seccomp::install_tty_filter() {
        Ok(()) => Ok(()),
        Err(e) if exposed => Err(fail("seccomp filter (TIOCSTI, TIOCLINUX)", e)),
        // No terminal reachable: the filter was only a free extra.
        Err(e) => {
            msg::verbose(format_args!(
                "no TIOCSTI filter: {} (no terminal is reachable)",
                crate::error::errno_str(e)
            ));
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_parsing() {
        let s = "42 (a) b (c)) S 1 42 42 34816 42 4194560 0";
        let f = stat_fields(s).unwrap();
        assert_eq!(&f[..5], ["S", "1", "42", "42", "34816"]);
        assert!(stat_fields("garbage").is_none());
    }

    #[test]
    fn tty_nr_encoding() {
        // /dev/pts/0 is 136:0, tty_nr 34816; /dev/pts/300 is 137:44.
        assert_eq!(tty_nr_to_rdev(34816), libc::makedev(136, 0));
        let nr = (137 << 8) | 44;
        assert_eq!(tty_nr_to_rdev(nr), libc::makedev(137, 44));
        let big = (4 << 8) | (0x1200 << 12) | 0x34; // minor 0x1234 (new_encode_dev)
        assert_eq!(tty_nr_to_rdev(big), libc::makedev(4, 0x1234));
    }

    #[test]
    fn sessions() {
        let yes = || true;
        let no = || false;
        let tty = Some((7, 1000));
        // No terminal: its own group (tini), or a new session with -g.
        assert_eq!(
            decide(false, Ctty::None, [None; 3], 0, &yes),
            Session::OwnGroup { foreground: false }
        );
        assert_eq!(
            decide(true, Ctty::None, [None; 3], 0, &yes),
            Session::NewSession
        );
        // The command's own terminal on stdin, lockdrop in the foreground.
        assert_eq!(
            decide(false, Ctty::Dev(7), [tty, tty, tty], 1000, &yes),
            Session::OwnGroup { foreground: true }
        );
        // ... in the background: no stealing the terminal.
        assert_eq!(
            decide(false, Ctty::Dev(7), [tty, None, None], 1000, &no),
            Session::OwnGroup { foreground: false }
        );
        assert_eq!(
            decide(true, Ctty::Dev(7), [tty, None, None], 1000, &no),
            Session::OwnGroup { foreground: false }
        );
        // Someone else's terminal (root's shell, command as uid 1000): new session.
        let root_tty = Some((7, 0));
        assert_eq!(
            decide(false, Ctty::Dev(7), [root_tty; 3], 1000, &yes),
            Session::NewSession
        );
        // A controlling terminal whose owner cannot be seen: new session.
        assert_eq!(
            decide(false, Ctty::Dev(7), [None; 3], 1000, &yes),
            Session::NewSession
        );
    }
}
