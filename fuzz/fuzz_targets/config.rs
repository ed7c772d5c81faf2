//! The YAML config file (`--config`): never panics, and a file that parses
//! only holds values the flags' own parsers accept (config.rs checks values
//! as it reads them, so a bad one is reported with its line, not later).
#![no_main]
use libfuzzer_sys::fuzz_target;
use lockdrop::model::{caps, rlimits, signals, sysctl, users};
use lockdrop::parse::config;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(o) = config::parse(text).map(|l| l.options()) else {
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
