//! Stage 1, parse: command line, `LOCKDROP_*` environment, YAML file and
//! built-in profiles → one `Options` (what the user said, values still
//! strings), layered defaults < profile < file < environment < flags.
pub mod config;
pub mod flags;
pub mod options;
pub mod profiles;

pub use options::{Action, Mode, Options};
