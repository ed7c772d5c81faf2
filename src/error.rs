//! The one error type. Each variant says what happened (bad input, failed
//! checks, a syscall that failed with its errno, credentials that read back
//! wrong, a tunable that could not be written, exec), with its exit code;
//! the message names the input and the fix, in lower case, one line (a few
//! for missing privileges, where the remedies are the point). Printed once,
//! by `main`, as `lockdrop: error: …`: several failed checks stay a list,
//! each printed as its own error with its fix.
use std::fmt;

/// Exit code for a failure of lockdrop itself (bad input, missing privilege,
/// failed step): the command never ran.
pub const EXIT_LOCKDROP: i32 = 125;
/// The command was found but could not be executed.
pub const EXIT_NOT_EXECUTABLE: i32 = 126;
/// The command was not found.
pub const EXIT_NOT_FOUND: i32 = 127;

/// One failed check: what is wrong, and the exact fix (several lines
/// allowed; empty when there is none).
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub what: String,
    pub fix: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.what)?;
        if !self.fix.is_empty() {
            write!(f, "\nfix: {}", self.fix.replace('\n', "\n     "))?;
        }
        Ok(())
    }
}

#[derive(Debug)]
pub enum Error {
    /// Bad command line, environment variable or config value.
    Usage(String),
    /// Input that parsed but cannot be resolved (unknown user, unreadable passwd, ...).
    Resolve(String),
    /// Checks failed before anything changed (missing capability, limit,
    /// sysctl): every one, in order.
    Check(Vec<Failure>),
    /// A syscall that changes the process failed (setgroups, capset, ...)
    /// with the errno it returned.
    Apply {
        step: &'static str,
        errno: i32,
        hint: String,
    },
    /// Every change succeeded, but the credentials read back differ from the
    /// plan (no syscall failed: there is no errno to report).
    Verify(String),
    /// `--sysctl-policy modify` could not write a kernel tunable.
    SysctlWrite {
        key: String,
        value: i64,
        why: String,
    },
    /// The parent that `--pdeathsig` watches exited before the signal
    /// could be requested: the command would never get it.
    ParentGone { ppid: i32 },
    /// exec failed: not found (127) or not executable (126).
    Exec { code: i32, msg: String },
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Exec { code, .. } => *code,
            _ => EXIT_LOCKDROP,
        }
    }
    pub fn apply(step: &'static str, errno: i32) -> Error {
        Error::Apply {
            step,
            errno,
            hint: String::new(),
        }
    }
}

pub fn errno_str(errno: i32) -> String {
    std::io::Error::from_raw_os_error(errno)
        .to_string()
        .to_lowercase()
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(m) | Error::Resolve(m) => f.write_str(m),
            Error::Check(list) => {
                for (i, x) in list.iter().enumerate() {
                    if i > 0 {
                        f.write_str("\n")?;
                    }
                    write!(f, "{}", x)?;
                }
                Ok(())
            }
            Error::Apply { step, errno, hint } => {
                write!(
                    f,
                    "{} failed: {}; the command was not started",
                    step,
                    errno_str(*errno)
                )?;
                if !hint.is_empty() {
                    write!(f, "\n{}", hint)?;
                }
                Ok(())
            }
            Error::Verify(what) => write!(
                f,
                "verification failed: {}; the command was not started",
                what
            ),
            Error::SysctlWrite { key, value, why } => write!(
                f,
                "--sysctl-policy modify could not set {} to {}: {}; set it on the host: sysctl -w {}={}",
                key, value, why, key, value
            ),
            Error::ParentGone { ppid } => write!(
                f,
                "the parent (pid {}) exited before --pdeathsig could be set; the command was not started",
                ppid
            ),
            Error::Exec { msg, .. } => f.write_str(msg),
        }
    }
}

impl Error {
    /// The messages to print, one `lockdrop: error:` each: every failed
    /// check on its own (its fix lines under it), anything else as one.
    pub fn messages(&self) -> Vec<String> {
        match self {
            Error::Check(list) => list.iter().map(|f| f.to_string()).collect(),
            e => vec![e.to_string()],
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_failures_stay_a_list() {
        let e = Error::Check(vec![
            Failure {
                what: "a is missing".into(),
                fix: "add a\nor b".into(),
            },
            Failure {
                what: "c is low".into(),
                fix: String::new(),
            },
        ]);
        assert_eq!(
            e.messages(),
            ["a is missing\nfix: add a\n     or b", "c is low"]
        );
        assert_eq!(e.exit_code(), EXIT_LOCKDROP);
        let v = Error::Verify("no_new_privs is not set".into());
        assert_eq!(
            v.to_string(),
            "verification failed: no_new_privs is not set; the command was not started"
        );
    }
}
