//! The start-up signal mask: every signal is blocked from the first line
//! of `lib::run`, so none that arrives during parsing and checks is lost (a
//! namespace's PID 1 drops unhandled ones) or kills lockdrop half-way.
use crate::sys::signal::{self as sig, SigSet};

/// The signal mask lockdrop was started with; every signal is blocked from
/// `block` on. Exec mode puts the mask back just before execve, supervise
/// mode hands it to `prepare`.
pub struct Startup {
    pub(crate) mask: Option<SigSet>,
}

impl Startup {
    pub fn block() -> Startup {
        Startup {
            mask: sig::block_all().ok(),
        }
    }
    /// Exec mode: the command gets the caller's mask (signals that arrived
    /// meanwhile are still pending and reach it, or lockdrop, right away).
    pub fn restore(&self) {
        if let Some(m) = self.mask {
            let _ = sig::set_mask(m);
        }
    }
}
