//! The one error type. Each variant is a kind of failure with its exit code;
//! the message names the input and the fix, in lower case, one line (a few
//! for missing privileges, where the remedies are the point). Printed once,
//! by `main`, as `lockdrop: error: …`.
use std::fmt;

/// Exit code for a failure of lockdrop itself (bad input, missing privilege,
/// failed step): the command never ran.
pub const EXIT_LOCKDROP: i32 = 125;
/// The command was found but could not be executed.
pub const EXIT_NOT_EXECUTABLE: i32 = 126;
/// The command was not found.
pub const EXIT_NOT_FOUND: i32 = 127;

#[derive(Debug)]
pub enum Error {
    /// Bad command line, environment variable or config value.
    Usage(String),
    /// Input that parsed but cannot be resolved (unknown user, unreadable passwd, ...).
    Resolve(String),
    /// A check failed before anything changed (missing capability, limit, sysctl).
    Check(String),
    /// A step that changes the process failed (setgroups, capset, ...).
    Apply {
        step: &'static str,
        errno: i32,
        hint: String,
    },
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
            Error::Usage(m) | Error::Resolve(m) | Error::Check(m) => f.write_str(m),
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
            Error::Exec { msg, .. } => f.write_str(msg),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;
