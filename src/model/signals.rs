//! Signal names and numbers, `--rewrite FROM:TO` specs and durations
//! (`10s`, `500ms`). Pure parsing; delivering signals is `supervise`'s job.
use crate::error::{Error, Result};
use std::time::Duration;

/// Numbers from `libc` for the target: they differ between architectures
/// (e.g. USR1 is 10 on x86 and arm, 16 on mips, 30 on alpha), and a literal
/// table would forward the wrong signal there. tests/core.rs compares this
/// table with the target's own under emulation.
pub const NAMES: &[(&str, i32)] = &[
    ("HUP", libc::SIGHUP),
    ("INT", libc::SIGINT),
    ("QUIT", libc::SIGQUIT),
    ("ILL", libc::SIGILL),
    ("TRAP", libc::SIGTRAP),
    ("ABRT", libc::SIGABRT),
    ("BUS", libc::SIGBUS),
    ("FPE", libc::SIGFPE),
    ("KILL", libc::SIGKILL),
    ("USR1", libc::SIGUSR1),
    ("SEGV", libc::SIGSEGV),
    ("USR2", libc::SIGUSR2),
    ("PIPE", libc::SIGPIPE),
    ("ALRM", libc::SIGALRM),
    ("TERM", libc::SIGTERM),
    ("STKFLT", libc::SIGSTKFLT),
    ("CHLD", libc::SIGCHLD),
    ("CONT", libc::SIGCONT),
    ("STOP", libc::SIGSTOP),
    ("TSTP", libc::SIGTSTP),
    ("TTIN", libc::SIGTTIN),
    ("TTOU", libc::SIGTTOU),
    ("URG", libc::SIGURG),
    ("XCPU", libc::SIGXCPU),
    ("XFSZ", libc::SIGXFSZ),
    ("VTALRM", libc::SIGVTALRM),
    ("PROF", libc::SIGPROF),
    ("WINCH", libc::SIGWINCH),
    ("IO", libc::SIGIO),
    ("PWR", libc::SIGPWR),
    ("SYS", libc::SIGSYS),
];

/// `TERM`, `SIGTERM`, `sigterm`, `15`, `RTMIN+3`.
pub fn parse_signal(s: &str) -> Result<i32> {
    let t = s.trim().to_ascii_uppercase();
    let bare = t.strip_prefix("SIG").unwrap_or(&t);
    if let Some(&(_, n)) = NAMES.iter().find(|(name, _)| *name == bare) {
        return Ok(n);
    }
    let rtmin = libc::SIGRTMIN();
    let rtmax = libc::SIGRTMAX();
    // Offsets are plain decimal digits: "RTMIN+-20" or "RTMAX--43" must not
    // name another signal, and a huge offset must not overflow (fuzz/signals).
    let offset = |rest: &str, sign: char| -> Option<i32> {
        if rest.is_empty() {
            return Some(0);
        }
        let n = rest.strip_prefix(sign)?;
        if n.is_empty() || n.len() > 3 || !n.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        n.parse().ok()
    };
    if let Some(o) = bare.strip_prefix("RTMIN").and_then(|r| offset(r, '+')) {
        if rtmin + o <= rtmax {
            return Ok(rtmin + o);
        }
    }
    if let Some(o) = bare.strip_prefix("RTMAX").and_then(|r| offset(r, '-')) {
        if rtmax - o >= rtmin {
            return Ok(rtmax - o);
        }
    }
    match bare.parse::<i32>() {
        Ok(n) if (1..=rtmax).contains(&n) => Ok(n),
        _ => Err(Error::Usage(format!(
            "unknown signal {:?}: use a name (TERM, SIGUSR1, RTMIN+2) or a number from 1 to {}",
            s, rtmax
        ))),
    }
}

/// `FROM:TO`; TO = 0 drops the signal.
pub fn parse_rewrite(s: &str) -> Result<(i32, i32)> {
    let (a, b) = s.split_once(':').ok_or_else(|| {
        Error::Usage(format!(
            "invalid --rewrite {:?}: write FROM:TO, e.g. TERM:QUIT (TO 0 drops FROM)",
            s
        ))
    })?;
    let from = parse_signal(a)?;
    let to = if b.trim() == "0" { 0 } else { parse_signal(b)? };
    if from == libc::SIGKILL || from == libc::SIGSTOP || from == libc::SIGCHLD {
        return Err(Error::Usage(format!(
            "invalid --rewrite {:?}: {} cannot be caught, so it cannot be rewritten",
            s, a
        )));
    }
    Ok((from, to))
}

/// `10s`, `500ms`, `2m`, `1.5s`, `0`.
pub fn parse_duration(s: &str) -> Result<Duration> {
    let t = s.trim();
    let bad = || {
        Error::Usage(format!(
            "invalid duration {:?}: write e.g. 10s, 500ms, 2m or 0",
            s
        ))
    };
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    if num.is_empty() || num.starts_with('.') {
        return Err(bad());
    }
    let v: f64 = num.parse().map_err(|_| bad())?;
    let secs = match unit {
        "ms" => v / 1000.0,
        "s" | "" => v,
        "m" | "min" => v * 60.0,
        "h" => v * 3600.0,
        _ => return Err(bad()),
    };
    if !secs.is_finite() || secs > 86400.0 * 365.0 {
        return Err(bad());
    }
    Ok(Duration::from_secs_f64(secs))
}

pub fn name(sig: i32) -> String {
    NAMES
        .iter()
        .find(|(_, n)| *n == sig)
        .map(|(s, _)| format!("SIG{}", s))
        .unwrap_or_else(|| {
            if sig >= libc::SIGRTMIN() {
                format!("SIGRTMIN+{}", sig - libc::SIGRTMIN())
            } else {
                format!("signal {}", sig)
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals() {
        for s in ["TERM", "SIGTERM", "sigterm", "15", " term "] {
            assert_eq!(parse_signal(s).unwrap(), 15);
        }
        assert_eq!(parse_signal("RTMIN+2").unwrap(), libc::SIGRTMIN() + 2);
        assert_eq!(parse_signal("rtmax").unwrap(), libc::SIGRTMAX());
        for bad in [
            "",
            "0",
            "65",
            "FOO",
            "RTMIN+99",
            "-1",
            // found by fuzz/signals: negative and overflowing offsets
            "RTMAX--43",
            "RTMIN+-20",
            "RTMIN+-100",
            "RTMIN+2147483647",
            "RTMAX-2147483647",
        ] {
            assert!(parse_signal(bad).is_err(), "{}", bad);
        }
    }

    #[test]
    fn rewrites() {
        assert_eq!(parse_rewrite("TERM:QUIT").unwrap(), (15, 3));
        assert_eq!(parse_rewrite("USR1:0").unwrap(), (10, 0));
        assert!(parse_rewrite("KILL:TERM").is_err());
        assert!(parse_rewrite("TERM").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        for bad in ["", "s", "-1s", "1x", ".5s", "1e9s", "NaN"] {
            assert!(parse_duration(bad).is_err(), "{}", bad);
        }
    }
}
