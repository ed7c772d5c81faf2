//! Resolution of a spec against passwd and group text (the security-relevant
//! step: which uid, gid and groups the command gets). Input: four parts
//! separated by 0xff bytes: spec, --groups override ("\x01" alone = none
//! given), passwd text, group text. Invariants: never panic; never (uid_t)-1;
//! a name resolves to the *first* passwd entry of that name (never a default
//! of 0); an explicit group means exactly that group; groups hold no
//! duplicates; the primary gid is among the groups unless --groups replaced them.
#![no_main]
use libfuzzer_sys::fuzz_target;
use lockdrop::model::users::{parse_passwd, parse_spec, resolve, Who, MAX_ID};

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(4, |b| *b == 0xff).map(String::from_utf8_lossy);
    let (Some(spec), Some(over), Some(passwd), Some(group)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return;
    };
    let Ok(spec) = parse_spec(&spec) else { return };
    let over = if over == "\u{1}" {
        None
    } else {
        Some(over.as_ref())
    };
    // An unreadable file is modelled by the text "\u{2}".
    let file = |t: &str| {
        if t == "\u{2}" {
            Err("permission denied".to_string())
        } else {
            Ok(t.as_bytes().to_vec())
        }
    };
    let (pw, gr) = (file(&passwd), file(&group));
    let Ok(t) = resolve(&spec, over, &pw, &gr) else {
        return;
    };

    assert!(
        t.uid <= MAX_ID && t.gid <= MAX_ID && t.groups.iter().all(|g| *g <= MAX_ID),
        "{:?}",
        t
    );
    let mut sorted = t.groups.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(
        sorted.len(),
        t.groups.len(),
        "duplicate groups {:?}",
        t.groups
    );
    match &spec.user {
        Who::Id(u) => assert_eq!(t.uid, *u),
        Who::Name(n) => {
            let first = parse_passwd(pw.as_deref().expect("a name resolved without passwd"))
                .find(|e| &e.name == n)
                .expect("a name resolved that passwd does not have");
            assert_eq!((t.uid, t.name.as_deref()), (first.uid, Some(n.as_str())));
            if spec.group.is_none() {
                assert_eq!(t.gid, first.gid);
            }
        }
    }
    match (&spec.group, over) {
        (Some(Who::Id(g)), None) => assert_eq!((t.gid, t.groups.clone()), (*g, vec![*g])),
        (Some(_), None) => assert_eq!(t.groups, vec![t.gid]),
        (None, None) => assert_eq!(t.groups.first(), Some(&t.gid)),
        (_, Some(_)) => {}
    }
    assert!(!t.home.is_empty());
});
