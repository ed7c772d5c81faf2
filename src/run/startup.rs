//! The start-up signal mask: every signal is blocked from the first line
//! of `lib::run`, so none that arrives during parsing and checks is lost (a
//! namespace's PID 1 drops unhandled ones) or kills lockdrop half-way.
use crate::sys::signal::{self as sig, SigSet};
use crate::sys::SysResult;

/// The signal mask lockdrop was started with; every signal is blocked from
/// `block` on. Exec mode puts the mask back just before execve, supervise
/// mode hands it to `prepare` (or the errno with which blocking failed:
/// supervise mode cannot start without it, and says why).
pub struct Startup {
    pub(crate) mask: SysResult<SigSet>,
}

impl Startup {
    pub fn block() -> Startup {
        Startup {
            mask: sig::block_all(),
        }
    }
    /// Exec mode: the command gets the caller's mask (signals that arrived
    /// meanwhile are still pending and reach it, or lockdrop, right away).
    pub fn restore(&self) {
        if let Ok(m) = self.mask {
            let _ = sig::set_mask(m);
        }
    }
}
