//! /etc/group text: never panic; entries are well-formed and round-trip;
//! member names are trimmed and never empty.
#![no_main]
use libfuzzer_sys::fuzz_target;
use lockdrop::model::users::{parse_group, MAX_ID};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for g in parse_group(&text) {
        assert!(
            !g.name.is_empty() && !g.name.starts_with(['+', '-', '#']),
            "{:?}",
            g
        );
        assert!(g.gid <= MAX_ID, "{:?}", g);
        for m in &g.members {
            assert!(
                !m.is_empty() && m.trim() == m && !m.contains([',', ':', '\n']),
                "{:?}",
                g
            );
        }
        let line = format!("{}:x:{}:{}\n", g.name, g.gid, g.members.join(","));
        let again: Vec<_> = parse_group(&line).collect();
        assert_eq!(again, vec![g.clone()], "line {:?}", line);
    }
});
