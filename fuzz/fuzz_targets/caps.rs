//! Capability names, lists and /proc masks: never panic; a parsed name is a
//! real capability and each of its spellings parses back to it; a set's
//! printed names parse back to the set; a /proc hex mask round-trips.
#![no_main]
use libfuzzer_sys::fuzz_target;
use lockdrop::model::caps::{parse, parse_mask, CapSet, NAMES};

fuzz_target!(|data: &[u8]| {
    // The "did you mean" suggestion is a Levenshtein distance against every
    // name: quadratic, ~10 ms for a 4 KiB word under ASAN. Real input is a
    // flag value; 256 bytes keeps the fuzzer fast without losing any path.
    if data.len() > 256 {
        return;
    }
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(c) = parse(s) {
        assert!((c.0 as usize) < NAMES.len(), "{:?} gave {:?}", s, c);
        for spelling in [c.name().to_string(), c.upper(), c.short(), c.0.to_string()] {
            assert_eq!(parse(&spelling).ok(), Some(c), "{:?}", spelling);
        }
    }
    let list: Vec<String> = s.split(',').map(String::from).collect();
    if let Ok(set) = CapSet::from_list(&list) {
        let names = set.names();
        let back = if names == "none" {
            CapSet::EMPTY
        } else {
            CapSet::from_list(&names.split(',').map(String::from).collect::<Vec<_>>())
                .expect("printed names must parse")
        };
        assert_eq!(back, set, "{:?} -> {:?}", s, names);
    }
    if let Some(m) = parse_mask(s) {
        assert_eq!(parse_mask(&format!("{:016x}", m.0)), Some(m));
        // Printing a set with unknown high bits must not panic either.
        let _ = m.names();
    }
});
