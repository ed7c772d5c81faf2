//! The command line: argv words are NUL-separated arbitrary bytes. Never
//! panic; the command, when there is one, is the input's own tail byte for
//! byte (non-UTF-8 and option-looking words included); the environment
//! layer (KEY=VALUE lines after a 0xff byte) never panics either.
#![no_main]
use libfuzzer_sys::fuzz_target;
use lockdrop::parse::flags::{parse_args, parse_env};
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

fuzz_target!(|data: &[u8]| {
    let (argv, env) = match data.iter().position(|b| *b == 0xff) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let args: Vec<OsString> = if argv.is_empty() {
        Vec::new()
    } else {
        argv.split(|b| *b == 0)
            .map(|w| OsString::from_vec(w.to_vec()))
            .collect()
    };
    if let Ok(o) = parse_args(args.clone()).map(|l| l.options()) {
        if !o.command.is_empty() {
            assert!(args.ends_with(&o.command), "{:?} -> {:?}", args, o.command);
            let first = args.len() - o.command.len();
            // The command starts right after `--` or at a word not starting with `-`.
            let before = first.checked_sub(1).map(|i| args[i].as_encoded_bytes());
            let word = o.command[0].as_encoded_bytes();
            assert!(
                before == Some(b"--") || !word.starts_with(b"-") || word == b"-",
                "{:?} -> {:?}",
                args,
                o.command
            );
        }
    }
    let text = String::from_utf8_lossy(env);
    let vars: Vec<(String, String)> = text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let _ = parse_env(&|k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()));
});
