//! Signal names and `--rewrite FROM:TO`: never panic; a parsed signal is a
//! real signal number whose printed name (or number) parses back to it; a
//! rewrite never touches an uncatchable signal or SIGCHLD.
#![no_main]
use libfuzzer_sys::fuzz_target;
use lockdrop::model::signals::{name, parse_rewrite, parse_signal};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(n) = parse_signal(s) {
        assert!((1..=libc_sigrtmax()).contains(&n), "{:?} gave {}", s, n);
        assert_eq!(parse_signal(&n.to_string()).ok(), Some(n));
        let shown = name(n);
        if !shown.starts_with("signal ") {
            assert_eq!(
                parse_signal(&shown).ok(),
                Some(n),
                "{:?} printed as {:?}",
                s,
                shown
            );
        }
    }
    if let Ok((from, to)) = parse_rewrite(s) {
        assert!(![9, 19, 17].contains(&from), "{:?} rewrites {}", s, from);
        assert!(to == 0 || (1..=libc_sigrtmax()).contains(&to), "{:?}", s);
    }
});

fn libc_sigrtmax() -> i32 {
    // lockdrop links libc; SIGRTMAX is 64 on Linux with both glibc and musl.
    64
}
