//! Running the command: PATH lookup like execvp(3) and execve, mapping
//! failures to 126 (found, not executable) and 127 (not found). Used by exec
//! mode and by the supervisor's child. Returns only on failure.
use crate::error::{Error, Result, EXIT_NOT_EXECUTABLE, EXIT_NOT_FOUND};
use crate::model::command::{candidates, Command, DEFAULT_PATH};
use crate::sys;
use std::ffi::CString;

pub fn exec(cmd: &Command) -> Error {
    let name = cmd.name();
    let Some(arg0) = cmd.argv.first() else {
        return Error::Exec {
            code: EXIT_NOT_FOUND,
            msg: "no command given".into(),
        };
    };
    let args = sys::ExecArgs::new(&cmd.argv, cmd.env.as_ref());

    let mut denied: Option<(Vec<u8>, i32)> = None;
    for cand in candidates(arg0.as_bytes(), cmd.path_var()) {
        let Ok(c) = CString::new(cand.clone()) else {
            continue;
        };
        let e = args.execve(&c);
        match e {
            // Keep looking, like execvp: a later PATH entry may work.
            libc::ENOENT | libc::ENOTDIR => continue,
            libc::EACCES | libc::EPERM => {
                if denied.is_none() {
                    denied = Some((cand, e));
                }
                continue;
            }
            _ => {
                let p = String::from_utf8_lossy(&cand).into_owned();
                let why = match e {
                    libc::ENOEXEC => {
                        "not an executable format (a script without a #! line?)".to_string()
                    }
                    _ => crate::error::errno_str(e),
                };
                return Error::Exec {
                    code: EXIT_NOT_EXECUTABLE,
                    msg: format!("cannot execute {}: {}", p, why),
                };
            }
        }
    }
    if let Some((p, e)) = denied {
        let (uid, _, _) = sys::getresuid();
        return Error::Exec {
            code: EXIT_NOT_EXECUTABLE,
            msg: format!(
                "cannot execute {}: {} (running as uid {}; check its mode and the directories above it{})",
                String::from_utf8_lossy(&p),
                crate::error::errno_str(e),
                uid,
                if e == libc::EPERM { ", and noexec mounts" } else { "" }
            ),
        };
    }
    let searched = if arg0.as_bytes().contains(&b'/') {
        String::new()
    } else {
        format!(
            " in PATH={}",
            String::from_utf8_lossy(
                cmd.path_var()
                    .filter(|p| !p.is_empty())
                    .unwrap_or(DEFAULT_PATH)
            )
        )
    };
    Error::Exec {
        code: EXIT_NOT_FOUND,
        msg: format!("command not found: {}{}", name, searched),
    }
}

/// `--pdeathsig` in exec mode (setpriv's meaning): the command, which is
/// this process after execve, gets `sig` when its parent dies. Set after
/// the switch (a credential change clears it, prctl(2)); `ppid` is the
/// parent seen before, so a parent that died meanwhile is not missed: the
/// command is then not started (fail closed).
pub fn parent_death_signal(sig: Option<i32>, ppid: i32) -> Result<()> {
    let Some(s) = sig else { return Ok(()) };
    sys::set_pdeathsig(s).map_err(|e| Error::apply("prctl(PR_SET_PDEATHSIG)", e))?;
    if sys::signal::getppid() != ppid {
        return Err(Error::ParentGone { ppid });
    }
    Ok(())
}
