//! Messages to the user: every line on stderr prefixed `lockdrop:`, filtered
//! by `-v`/`-q`. Owns nothing else.
use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};

// 0 = quiet (errors only), 1 = default (notices, warnings), 2+ = verbose.
static LEVEL: AtomicU8 = AtomicU8::new(1);

pub fn set_level(verbose: u8, quiet: bool) {
    LEVEL.store(if quiet { 0 } else { 1 + verbose }, Ordering::Relaxed);
}

fn line(kind: &str, text: &str) {
    let mut err = std::io::stderr().lock();
    for (i, l) in text.lines().enumerate() {
        let _ = if i == 0 && !kind.is_empty() {
            writeln!(err, "lockdrop: {}: {}", kind, l)
        } else if i == 0 {
            writeln!(err, "lockdrop: {}", l)
        } else {
            writeln!(err, "lockdrop:   {}", l)
        };
    }
}

pub fn error(text: &str) {
    line("error", text);
}

pub fn warn(text: &str) {
    if LEVEL.load(Ordering::Relaxed) >= 1 {
        line("warning", text);
    }
}

pub fn notice(text: &str) {
    if LEVEL.load(Ordering::Relaxed) >= 1 {
        line("", text);
    }
}

/// Takes `format_args!`, not a `String`: the text is built only when it is
/// printed. A `format!` at each call cost ~2,500 instructions and a heap
/// allocation at every start and, in the supervisor, before every kill().
pub fn verbose(args: std::fmt::Arguments) {
    if LEVEL.load(Ordering::Relaxed) >= 2 {
        line("", &args.to_string());
    }
}

pub fn stdout(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}
