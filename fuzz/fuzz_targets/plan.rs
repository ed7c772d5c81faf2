//! The whole pure pipeline: argv (NUL-separated words) → options (with
//! profiles, never a config file) → plan against a fixture host whose
//! /etc/passwd and /etc/group are the fuzzer's → check. Input: argv 0xff
//! passwd 0xff group. Never panics; as root, a --user spec always means a
//! switch (never "stay root"); the command keeps no capability it did not
//! ask for (plus IPC_LOCK for the ambient memlock path); every limit to set
//! has soft <= hard.
#![no_main]
use libfuzzer_sys::fuzz_target;
use lockdrop::host::fixture::{Fixture, ALL_BUT_SYS_RESOURCE};
use lockdrop::model::caps::{self, CapSet};
use lockdrop::model::rlimits::{self, INFINITY};
use lockdrop::parse::config;
use lockdrop::parse::flags::parse_args;
use lockdrop::parse::options::Layer;
use lockdrop::{check, resolve as plan};
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;

fn root() -> PathBuf {
    // tmpfs when there is one: the fixture files are rewritten on every input.
    let base = if std::path::Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    let d = base.join(format!("lockdrop-fuzz-plan-{}", std::process::id()));
    std::fs::create_dir_all(d.join("etc")).expect("temp dir");
    d
}

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |b| *b == 0xff);
    let (Some(argv), Some(passwd), Some(group)) = (parts.next(), parts.next(), parts.next()) else {
        return;
    };
    let args: Vec<OsString> = argv
        .split(|b| *b == 0)
        .map(|w| OsString::from_vec(w.to_vec()))
        .collect();
    let Ok(mut flags) = parse_args(args) else {
        return;
    };
    // A fuzzed --config could name /dev/zero; the YAML parser has its own target.
    flags.remove("config");
    let dir = root();
    std::fs::write(dir.join("etc/passwd"), passwd).expect("write passwd");
    std::fs::write(dir.join("etc/group"), group).expect("write group");
    // This machine: root with every capability but SYS_RESOURCE, memlock 8 MiB hard.
    let host = Fixture::at(dir)
        .caps(ALL_BUT_SYS_RESOURCE)
        .limit(rlimits::MEMLOCK, 8 << 20, 8 << 20)
        .limit(rlimits::NOFILE, 1024, 524_288)
        .limit(rlimits::Resource(4), 0, INFINITY)
        .build();
    let Ok(opts) = config::layered(Layer::default(), flags, &host) else {
        return;
    };
    let Ok(p) = plan::resolve(&opts, &host) else {
        return;
    };

    if opts.user.is_some() {
        let t = p
            .target
            .as_ref()
            .unwrap_or_else(|| panic!("root with --user {:?} must switch", opts.user));
        assert!(t.uid < u32::MAX && t.gid < u32::MAX);
    }
    let asked = CapSet::from_list(&opts.ambient_caps).expect("resolved plan has valid caps");
    assert_eq!(
        p.ambient
            .minus(asked)
            .minus(CapSet::EMPTY.with(caps::IPC_LOCK)),
        CapSet::EMPTY
    );
    for l in &p.limits {
        assert!(l.desired.soft <= l.desired.hard, "{:?}", l);
    }
    let _ = check::check(&p, &host);
});
