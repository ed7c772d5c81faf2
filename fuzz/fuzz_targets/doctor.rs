//! `--doctor`'s parsers of /proc and /sys text, through a fixture root: the
//! input is split at 0xff bytes into /proc/self/status, /proc/self/uid_map,
//! /proc/1/comm, /proc/sys/fs/file-nr, /proc/meminfo, /proc/self/mountinfo,
//! /proc/self/cgroup, the cgroup's memory.max, /proc/sys/vm/max_map_count
//! and /etc/passwd. A missing part is a missing file. Never panics (overflow
//! included: debug assertions are on); the JSON output has no raw control
//! characters (everything is escaped).
#![no_main]
use libfuzzer_sys::fuzz_target;
use lockdrop::host::fixture::{Fixture, ALL_BUT_SYS_RESOURCE};
use lockdrop::model::rlimits;
use lockdrop::report::doctor;
use std::path::PathBuf;

const FILES: &[&str] = &[
    "proc/self/status",
    "proc/self/uid_map",
    "proc/1/comm",
    "proc/sys/fs/file-nr",
    "proc/meminfo",
    "proc/self/mountinfo",
    "proc/self/cgroup",
    "sys/fs/cgroup/memory.max",
    "proc/sys/vm/max_map_count",
    "etc/passwd",
];

fn root() -> PathBuf {
    // tmpfs when there is one: the fixture files are rewritten on every input.
    let base = if std::path::Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    let d = base.join(format!("lockdrop-fuzz-doctor-{}", std::process::id()));
    for f in FILES {
        let p = d.join(f);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("fixture dirs");
    }
    d
}

fuzz_target!(|data: &[u8]| {
    let dir = root();
    let mut parts = data.split(|b| *b == 0xff);
    for f in FILES {
        let p = dir.join(f);
        match parts.next() {
            Some(b) => std::fs::write(&p, b).expect("write fixture"),
            None => {
                let _ = std::fs::remove_file(&p);
            }
        }
    }
    let host = Fixture::at(dir)
        .caps(ALL_BUT_SYS_RESOURCE)
        .limit(rlimits::MEMLOCK, 8 << 20, 8 << 20)
        .build();
    let sections = doctor::report(&host);
    let _ = doctor::to_text(&sections);
    let json = doctor::to_json(&sections);
    assert!(
        !json.chars().any(|c| (c as u32) < 0x20),
        "raw control character in JSON: {:?}",
        json
    );
});
