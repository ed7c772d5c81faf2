//! /etc/group text: never panic; entries are well-formed and round-trip;
//! member names are never empty and kept exactly as written (no trimming:
//! musl's initgroups does not trim, so lockdrop must not).
#![no_main]
use libfuzzer_sys::fuzz_target;
use lockdrop::model::users::{parse_group, MAX_ID};

fuzz_target!(|data: &[u8]| {
    for g in parse_group(data) {
        assert!(
            !g.name.is_empty() && !g.name.starts_with(['+', '-', '#']),
            "{:?}",
            g
        );
        assert!(g.gid <= MAX_ID, "{:?}", g);
        for m in &g.members {
            assert!(
                !m.is_empty() && !m.contains([',', '\n']),
                "{:?}",
                g
            );
        }
        // A trailing ',' keeps a last member's '\r' (a line's own trailing
        // '\r's are cut, CRLF files read like LF ones).
        let line = format!("{}:x:{}:{},\n", g.name, g.gid, g.members.join(","));
        let again: Vec<_> = parse_group(line.as_bytes()).collect();
        assert_eq!(again, vec![g.clone()], "line {:?}", line);
    }
});
