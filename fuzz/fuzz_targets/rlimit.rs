//! `--rlimit NAME=SOFT[:HARD]`, values and names: never panic (no overflow
//! on suffixes), soft never above hard, and what is printed parses back to
//! the same value.
#![no_main]
use libfuzzer_sys::fuzz_target;
use lockdrop::model::rlimits::{fmt_value, parse_name, parse_spec, parse_value, Limit, INFINITY};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(v) = parse_value(s) {
        assert_eq!(parse_value(&fmt_value(v)).ok(), Some(v), "{:?}", s);
        assert_eq!(parse_value(&v.to_string()).ok(), Some(v), "{:?}", s);
    }
    if let Ok(r) = parse_name(s) {
        assert_ne!(r.name(), "unknown");
        assert_eq!(parse_name(r.name()).ok(), Some(r));
        assert_eq!(
            parse_name(&format!("RLIMIT_{}", r.name().to_uppercase())).ok(),
            Some(r)
        );
    }
    if let Ok(spec) = parse_spec(s) {
        if let Some(h) = spec.hard {
            assert!(spec.soft <= h, "{:?}", s);
        }
        let again = match spec.hard {
            Some(h) => format!(
                "{}={}:{}",
                spec.resource.name(),
                fmt_value(spec.soft),
                fmt_value(h)
            ),
            None => format!("{}={}", spec.resource.name(), fmt_value(spec.soft)),
        };
        assert_eq!(
            parse_spec(&again).ok(),
            Some(spec),
            "{:?} -> {:?}",
            s,
            again
        );
        // The limit to set never has soft above hard, whatever the current one.
        for cur in [0, 1 << 23, INFINITY] {
            let t = spec.target(Limit {
                soft: cur,
                hard: cur,
            });
            assert!(t.soft <= t.hard, "{:?} over hard {}: {:?}", s, cur, t);
        }
    }
});
