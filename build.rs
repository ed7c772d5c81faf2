//! Build facts for `lockdrop --version`: the git commit and the target triple.
//! The commit comes from LOCKDROP_COMMIT (the release scripts set it) or
//! `git rev-parse`; nothing time-dependent is embedded, so two builds of the
//! same commit stay byte-identical.
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=LOCKDROP_COMMIT");
    println!("cargo:rerun-if-changed=build.rs");
    let commit = std::env::var("LOCKDROP_COMMIT")
        .ok()
        .filter(|c| !c.is_empty())
        .or_else(|| {
            let o = Command::new("git")
                .args(["rev-parse", "--short=12", "HEAD"])
                .output()
                .ok()?;
            let s = String::from_utf8(o.stdout).ok()?.trim().to_string();
            (o.status.success() && !s.is_empty()).then_some(s)
        })
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=LOCKDROP_COMMIT={}", commit);
    let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown".into());
    println!("cargo:rustc-env=LOCKDROP_TARGET_TRIPLE={}", target);
}
