//! `--sysctl KEY OP VALUE`: never panic; a parsed key can never name a path
//! outside /proc/sys (no empty component, no `..`, no `/`), and a printed
//! requirement parses back to itself.
#![no_main]
use libfuzzer_sys::fuzz_target;
use lockdrop::model::sysctl::{parse, parse_policy};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let _ = parse_policy(s);
    let Ok(r) = parse(s) else { return };
    assert!(
        !r.key.is_empty() && !r.key.contains('/'),
        "{:?} -> {:?}",
        s,
        r.key
    );
    assert!(
        r.key.split('.').all(|c| !c.is_empty() && c != ".."),
        "{:?} -> {:?}",
        s,
        r.key
    );
    let again = format!("{}{}{}", r.key, r.op_str(), r.value);
    assert_eq!(
        parse(&again).ok(),
        Some(r.clone()),
        "{:?} -> {:?}",
        s,
        again
    );
    assert!(r.holds(r.value));
});
