//! Stage 4, apply: the only code that changes the process (limits,
//! credentials, capabilities) or the host (`--sysctl-policy modify`), each
//! step fail-closed.
pub mod privileges;
pub mod sysctl;
