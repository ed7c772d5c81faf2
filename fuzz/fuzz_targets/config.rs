//! The YAML config file (`--config`): never panics, and a file that parses
//! only holds values the flags' own parsers accept (config.rs checks values
//! as it reads them, so a bad one is reported with its line, not later).
#![no_main]
use libfuzzer_sys::fuzz_target;
use lockdrop::host::trusted;
use lockdrop::model::{caps, rlimits, signals, sysctl, users};
use lockdrop::parse::config;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The loader's limits (host::trusted): the size cap holds, the nesting
    // bound never panics, and only text within both reaches the parser, as
    // in `config::load`. A redacted error never shows a non-key token.
    let limits = trusted::check_text(text);
    if text.len() as u64 > trusted::MAX_CONFIG_BYTES {
        assert!(limits.is_err(), "{} bytes accepted", text.len());
    }
    let (depth, _) = trusted::nesting(text);
    if text.len() as u64 <= trusted::MAX_CONFIG_BYTES {
        assert_eq!(
            limits.is_ok(),
            depth <= trusted::MAX_DEPTH,
            "depth {}",
            depth
        );
    }
    if limits.is_err() {
        return;
    }
    let parsed = config::parse(text);
    if let Err(e) = &parsed {
        let _ = trusted::redact(e);
    }
    let Ok(o) = parsed.map(|l| l.options()) else {
        return;
    };
    if let Some(u) = &o.user {
        assert!(
            users::parse_spec(u).is_ok(),
            "user {:?} accepted from {:?}",
            u,
            text
        );
    }
    for r in &o.rlimits {
        assert!(
            rlimits::parse_spec(r).is_ok(),
            "rlimit {:?} accepted from {:?}",
            r,
            text
        );
    }
    if let Some(m) = &o.memlock {
        assert!(
            rlimits::parse_value(m).is_ok(),
            "memlock {:?} accepted from {:?}",
            m,
            text
        );
    }
    for list in [&o.require_caps, &o.ambient_caps] {
        assert!(
            caps::CapSet::from_list(list).is_ok(),
            "caps {:?} accepted from {:?}",
            list,
            text
        );
    }
    for s in &o.sysctls {
        assert!(
            sysctl::parse(s).is_ok(),
            "sysctl {:?} accepted from {:?}",
            s,
            text
        );
    }
    for r in &o.rewrite {
        assert!(
            signals::parse_rewrite(r).is_ok(),
            "rewrite {:?} accepted from {:?}",
            r,
            text
        );
    }
    if let Some(g) = &o.grace {
        assert!(
            signals::parse_duration(g).is_ok(),
            "grace {:?} accepted from {:?}",
            g,
            text
        );
    }
    if let Some(p) = &o.pdeathsig {
        assert!(
            signals::parse_signal(p).is_ok(),
            "pdeathsig {:?} accepted from {:?}",
            p,
            text
        );
    }
});
