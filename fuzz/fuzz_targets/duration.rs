//! `--grace` durations: never panic (Duration::from_secs_f64 panics on
//! negative, NaN or overflowing input), never more than a year, and the
//! printed millisecond value parses back to within a millisecond.
#![no_main]
use libfuzzer_sys::fuzz_target;
use lockdrop::model::signals::parse_duration;
use std::time::Duration;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(d) = parse_duration(s) else { return };
    assert!(
        d <= Duration::from_secs(86400 * 365),
        "{:?} gave {:?}",
        s,
        d
    );
    let ms = d.as_millis();
    let back = parse_duration(&format!("{}ms", ms)).expect("printed duration must parse");
    let diff = if back > d { back - d } else { d - back };
    assert!(
        diff <= Duration::from_millis(1),
        "{:?}: {:?} vs {:?}",
        s,
        d,
        back
    );
});
