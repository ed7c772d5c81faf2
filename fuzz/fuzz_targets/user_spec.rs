//! `--user` specs: never panic; a parsed spec never holds (uid_t)-1 (which
//! setresuid reads as "unchanged", i.e. stay root); printing a spec back and
//! parsing it again gives the same spec.
#![no_main]
use libfuzzer_sys::fuzz_target;
use lockdrop::model::users::{parse_spec, Who, MAX_ID};

fn show(w: &Who) -> String {
    match w {
        Who::Name(n) => n.clone(),
        Who::Id(i) => i.to_string(),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(spec) = parse_spec(s) else { return };
    for w in std::iter::once(&spec.user).chain(spec.group.as_ref()) {
        match w {
            Who::Id(i) => assert!(*i <= MAX_ID, "{:?} gave id {}", s, i),
            Who::Name(n) => {
                assert!(
                    !n.is_empty() && !n.contains(':') && !n.starts_with('-'),
                    "{:?}",
                    s
                );
                // A name made of digits would be read as an id: never both.
                assert!(!n.bytes().all(|b| b.is_ascii_digit()), "{:?}", s);
            }
        }
    }
    let again = match &spec.group {
        Some(g) => format!("{}:{}", show(&spec.user), show(g)),
        None => show(&spec.user),
    };
    assert_eq!(
        parse_spec(&again).ok().as_ref(),
        Some(&spec),
        "{:?} -> {:?}",
        s,
        again
    );
});
