//! /etc/passwd bytes: never panic on any bytes (lockdrop scans the file as
//! bytes); every entry is well-formed (no NIS `+`/`-` entry, ids in
//! range) and an entry written back as a line parses to itself.
#![no_main]
use libfuzzer_sys::fuzz_target;
use lockdrop::model::users::{parse_passwd, MAX_ID};

fuzz_target!(|data: &[u8]| {
    for e in parse_passwd(data) {
        assert!(!e.name.is_empty());
        assert!(
            !e.name.starts_with(['+', '-', '#']),
            "NIS or comment line taken as a user: {:?}",
            e
        );
        assert!(e.uid <= MAX_ID && e.gid <= MAX_ID, "{:?}", e);
        assert!(
            !e.name.contains([':', '\n']) && !e.home.contains([':', '\n']),
            "{:?}",
            e
        );
        let line = format!(
            "{}:x:{}:{}:gecos:{}:/bin/sh\n",
            e.name, e.uid, e.gid, e.home
        );
        let again: Vec<_> = parse_passwd(line.as_bytes()).collect();
        assert_eq!(again, vec![e.clone()], "line {:?}", line);
    }
});
