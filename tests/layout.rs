//! The dependency rule of src/ (STYLE.md): the data flows parse → resolve →
//! check → report → apply → run, and a stage uses only earlier stages plus
//! `model` (pure vocabulary), `host` (the read-only view), `error` and `msg`.
//! Only `host`, `apply` and `run` (and the table of contents, lib.rs) reach
//! the syscall layer `sys`; `sys` itself knows only `model`. This test reads
//! every source file and fails on an import that breaks the rule, so the
//! folders keep telling the truth.
use std::path::Path;

/// Stages in pipeline order; the index is the rank.
const ORDER: &[&str] = &[
    "model", "sys", "host", "parse", "resolve", "check", "report", "apply", "run",
];
/// Usable from everywhere.
const SUPPORT: &[&str] = &["error", "msg"];
/// Stages that may call into `sys` (everything else is pure over the host view).
const SYS_USERS: &[&str] = &["host", "apply", "run"];

fn rank(m: &str) -> Option<usize> {
    ORDER.iter().position(|s| *s == m)
}

/// The first path segment after every `crate::` in `code`.
fn crate_refs(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if rest.starts_with('{') {
            // use crate::{a::b, c};
            let end = rest.find('}').unwrap_or(rest.len());
            for part in rest[1..end].split(',') {
                let seg: String = part
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !seg.is_empty() {
                    out.push(seg);
                }
            }
        } else {
            let seg: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            out.push(seg);
        }
    }
    out
}

/// A violation of the rule for file `stage` using module `used`, if any.
fn violation(stage: &str, used: &str) -> Option<String> {
    if used == stage || SUPPORT.contains(&used) {
        return None;
    }
    if used == "sys" && !SYS_USERS.contains(&stage) && stage != "sys" {
        return Some("only host, apply and run call the syscall layer".into());
    }
    let (Some(s), Some(u)) = (rank(stage), rank(used)) else {
        return Some(format!("{} is not a stage of the pipeline", used));
    };
    let allowed = u < s && (used != "sys" || SYS_USERS.contains(&stage));
    (!allowed).then(|| format!("{} comes after {} in the pipeline", used, stage))
}

fn walk(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).expect("src/ is readable") {
        let p = e.expect("a directory entry").path();
        if p.is_dir() {
            walk(&p, files);
        } else if p.extension().is_some_and(|x| x == "rs") {
            files.push(p);
        }
    }
}

#[test]
fn stages_import_only_earlier_stages() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    let mut bad = Vec::new();
    let mut checked = 0;
    for f in &files {
        let rel = f.strip_prefix(&src).expect("below src/");
        let first = rel
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .expect("a path");
        let stage = first.trim_end_matches(".rs");
        if matches!(stage, "lib" | "main") || SUPPORT.contains(&stage) {
            // lib.rs is the table of contents and runs the stages in order;
            // error and msg use nothing.
            if SUPPORT.contains(&stage) {
                let text = std::fs::read_to_string(f).expect("readable");
                for used in crate_refs(&text) {
                    if !SUPPORT.contains(&used.as_str()) {
                        bad.push(format!("{}: uses crate::{}", rel.display(), used));
                    }
                }
            }
            continue;
        }
        let text = std::fs::read_to_string(f).expect("readable");
        // Unit tests may build fixtures from anything.
        let code = text
            .split("#[cfg(test)]")
            .next()
            .and_then(|c| c.split("#[cfg(all(test").next())
            .unwrap_or("");
        for used in crate_refs(code) {
            checked += 1;
            if let Some(why) = violation(stage, &used) {
                bad.push(format!("{}: uses crate::{}: {}", rel.display(), used, why));
            }
        }
    }
    assert!(checked > 50, "the scan found only {} imports", checked);
    assert!(
        bad.is_empty(),
        "dependency rule broken:\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_rule_itself() {
    assert_eq!(violation("run", "resolve"), None);
    assert_eq!(violation("resolve", "model"), None);
    assert_eq!(violation("check", "error"), None);
    assert!(violation("resolve", "run").is_some());
    assert!(violation("model", "host").is_some());
    assert!(violation("resolve", "sys").is_some());
    assert!(violation("report", "apply").is_some());
    assert_eq!(violation("apply", "sys"), None);
    assert_eq!(
        crate_refs("use crate::{model::caps, error::Result};\nlet x = crate::host::Host::live();"),
        vec!["model", "error", "host"]
    );
}
