//! Running the command: PATH lookup like execvp(3) and execve, mapping
//! failures to 126 (found, not executable) and 127 (not found). Used by exec
//! mode and by the supervisor's child. Returns only on failure.
use crate::error::{Error, EXIT_NOT_EXECUTABLE, EXIT_NOT_FOUND};
use crate::plan::Command;
use crate::sys;
use std::ffi::CString;

/// Used when the command's environment has no PATH or an empty one (Docker's
/// default; an empty PATH meaning "the current directory" would be a trap).
pub const DEFAULT_PATH: &[u8] = b"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The candidates for argv[0]: itself when it has a slash, else each PATH entry.
pub fn candidates(cmd: &[u8], path: Option<&[u8]>) -> Vec<Vec<u8>> {
    if cmd.contains(&b'/') {
        return vec![cmd.to_vec()];
    }
    let path = path.filter(|p| !p.is_empty()).unwrap_or(DEFAULT_PATH);
    path.split(|b| *b == b':')
        .map(|dir| {
            let dir = if dir.is_empty() { &b"."[..] } else { dir };
            let mut p = dir.to_vec();
            if !p.ends_with(b"/") {
                p.push(b'/');
            }
            p.extend_from_slice(cmd);
            p
        })
        .collect()
}

pub fn exec(cmd: &Command) -> Error {
    let name = cmd.name();
    let Some(arg0) = cmd.argv.first() else {
        return Error::Exec {
            code: EXIT_NOT_FOUND,
            msg: "no command given".into(),
        };
    };
    let mut argv: Vec<*const libc::c_char> = cmd.argv.iter().map(|a| a.as_ptr()).collect();
    argv.push(std::ptr::null());
    let envp: Vec<*const libc::c_char> = match &cmd.env {
        Some(env) => env
            .iter()
            .map(|e| e.as_ptr())
            .chain(std::iter::once(std::ptr::null()))
            .collect(),
        None => Vec::new(),
    };
    let envp = cmd.env.as_ref().map(|_| envp.as_slice());

    let mut denied: Option<(Vec<u8>, i32)> = None;
    for cand in candidates(arg0.as_bytes(), cmd.path_var()) {
        let Ok(c) = CString::new(cand.clone()) else {
            continue;
        };
        let e = sys::execve(&c, &argv, envp);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_candidates() {
        assert_eq!(candidates(b"./x", Some(b"/bin")), vec![b"./x".to_vec()]);
        assert_eq!(
            candidates(b"ls", Some(b"/a:/b/")),
            vec![b"/a/ls".to_vec(), b"/b/ls".to_vec()]
        );
        assert_eq!(candidates(b"ls", Some(b"")).len(), 6);
        assert_eq!(candidates(b"ls", None)[0], b"/usr/local/sbin/ls".to_vec());
        assert_eq!(candidates(b"ls", Some(b"/a::/b"))[1], b"./ls".to_vec());
    }
}
