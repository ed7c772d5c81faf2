//! Stage 5, run: exec the command, or supervise it (PID-1 duties), with the
//! session and terminal arranged so the command cannot reach what is not
//! its own.
pub mod exec;
pub mod startup;
pub mod supervise;
pub mod terminal;
