//! The YAML config file and the layers: the shipped example parses and
//! resolves; precedence (defaults < profile < file < environment < flags)
//! end to end through the built binary's `--check --json`; bad files give
//! exit 125 and one line naming the file, the key or line, and the fix.
#![cfg(feature = "yaml")]
use lockdrop::host::fixture::{Fixture, ALL_BUT_SYS_RESOURCE};
use lockdrop::model::rlimits::{self, INFINITY};
use lockdrop::parse::flags::{self as cli, Mode};
use lockdrop::parse::options::{Layer, OPTIONS};
use std::path::{Path, PathBuf};
use std::process::Command;

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/lockdrop.yaml")
}

fn scratch(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lockdrop-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn example_parses_and_resolves() {
    let flags = cli::parse_args(vec!["--config".into(), example().into()]).unwrap();
    let host = Fixture::at(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cgroup-v1"))
        .caps(ALL_BUT_SYS_RESOURCE)
        .limit(rlimits::MEMLOCK, 8 << 20, 8 << 20)
        .build();
    let o = lockdrop::parse::config::layered(Layer::default(), flags, &host)
        .expect("the example parses");
    assert_eq!(o.profile.as_deref(), Some("elasticsearch"));
    assert_eq!(o.mode, Some(Mode::Supervise));
    assert_eq!(o.command.len(), 2);
    // The profile's limits are kept under the file's (merged per resource).
    for r in ["nproc=4096", "nofile=65535", "core=0", "as=unlimited"] {
        assert!(
            o.rlimits.iter().any(|x| x == r),
            "{} not in {:?}",
            r,
            o.rlimits
        );
    }
    let plan = lockdrop::resolve::resolve(&o, &host).expect("the example resolves");
    let t = plan.target.as_ref().unwrap();
    assert_eq!((t.uid, t.gid, t.groups.clone()), (1000, 0, vec![0]));
    assert_eq!(plan.profile.map(|p| p.name), Some("elasticsearch"));
    assert_eq!(plan.sysctls.len(), 1);
    assert_eq!(plan.memlock.as_ref().map(|m| m.want), Some(INFINITY));
    assert!(plan.no_new_privs);
    assert_eq!(plan.supervise.remap_exit, vec![143]);
}

#[test]
fn example_documents_every_key() {
    let text = std::fs::read_to_string(example()).unwrap();
    for f in OPTIONS.iter().filter(|f| !f.yaml.is_empty()) {
        let key = format!("{}:", f.yaml);
        assert!(
            text.lines()
                .any(|l| l.trim_start_matches("# ").starts_with(&key)),
            "examples/lockdrop.yaml does not show the `{}` key",
            f.yaml
        );
    }
    assert!(text.contains("\nmode: ") && text.contains("\ncommand:"));
}

// ---- the built binary ----

fn run(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_lockdrop"));
    c.args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("LOCKDROP_") {
            c.env_remove(k);
        }
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("lockdrop runs")
}

fn py(json: &str, expr: &str) -> String {
    use std::io::Write;
    let mut child = Command::new("python3")
        .args([
            "-c",
            &format!("import json,sys; d=json.load(sys.stdin); print({})", expr),
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(json.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}: {}\n{}",
        expr,
        String::from_utf8_lossy(&out.stderr),
        json
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// `--check --json` with a config file, an environment and flags; returns the JSON.
fn plan_json(file: &str, env: &[(&str, &str)], flags: &[&str]) -> String {
    let p = scratch(
        &format!(
            "layer-{}.yaml",
            file.len() + flags.len() * 7 + env.len() * 31
        ),
        file,
    );
    let mut args = vec!["--check", "--json", "--config", p.to_str().unwrap()];
    args.extend_from_slice(flags);
    let out = run(&args, env);
    assert!(
        matches!(out.status.code(), Some(0) | Some(125)),
        "{:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn precedence_end_to_end() {
    let memlock = |j: &str| py(j, "d['plan']['memlock']['bytes']");
    let mode = |j: &str| py(j, "d['plan']['mode']");
    // defaults: no memlock, exec (lockdrop is not PID 1 here)
    let j = plan_json("command: [\"true\"]\n", &[], &[]);
    assert_eq!(py(&j, "d['plan'].get('memlock')"), "None");
    assert_eq!(mode(&j), "exec");
    // profile (named in the file) over defaults
    let file = "profile: cassandra\ncommand: [\"true\"]\n";
    assert_eq!(memlock(&plan_json(file, &[], &[])), "unlimited");
    // file over profile
    let file = "profile: cassandra\nmemlock: 64M\nmode: supervise\ncommand: [\"true\"]\n";
    let j = plan_json(file, &[], &[]);
    assert_eq!(memlock(&j), (64u64 << 20).to_string());
    assert_eq!(mode(&j), "supervise");
    // environment over file
    let env = [("LOCKDROP_MEMLOCK", "32M"), ("LOCKDROP_MODE", "exec")];
    let j = plan_json(file, &env, &[]);
    assert_eq!(memlock(&j), (32u64 << 20).to_string());
    assert_eq!(mode(&j), "exec");
    // flags over environment
    let j = plan_json(file, &env, &["--memlock", "16M", "--supervise"]);
    assert_eq!(memlock(&j), (16u64 << 20).to_string());
    assert_eq!(mode(&j), "supervise");
    // a command on the command line wins over the file's
    let j = plan_json(file, &[], &["--", "sh", "-c", "exit 3"]);
    assert_eq!(py(&j, "d['plan']['command']"), "['sh', '-c', 'exit 3']");
    // rlimit merges per resource: the profile's nofile minimum stays under
    // the file's core=0, which the flag's core=1M replaces
    let file = "profile: elasticsearch\nrlimit: [core=0]\ncommand: [\"true\"]\n";
    let j = plan_json(file, &[], &["-l", "core=1M"]);
    let names = py(
        &j,
        "sorted((r['name'], r['desired']['soft']) for r in d['plan']['rlimits'])",
    );
    assert_eq!(
        names.contains("('nofile', 65535)"),
        nofile_soft() < 65535,
        "{}",
        names
    );
    assert!(
        names.contains(&format!("('core', {})", 1 << 20)) && !names.contains("('core', 0)"),
        "{}",
        names
    );
    // profile named by the environment applies under the file
    let j = plan_json(
        "command: [\"true\"]\n",
        &[("LOCKDROP_PROFILE", "elasticsearch")],
        &[],
    );
    assert_eq!(py(&j, "d['plan']['profile']"), "elasticsearch");
    assert_eq!(
        py(&j, "d['plan']['sysctl']"),
        "['vm.max_map_count>=262144']"
    );
}

#[test]
fn command_from_the_file_runs() {
    let p = scratch("cmd.yaml", "command: [sh, -c, 'exit 7']\n");
    let out = run(&["--config", p.to_str().unwrap()], &[]);
    assert_eq!(
        out.status.code(),
        Some(7),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&["-c", p.to_str().unwrap(), "true"], &[]);
    assert_eq!(out.status.code(), Some(0));
    let out = run(&[], &[("LOCKDROP_CONFIG", p.to_str().unwrap())]);
    assert_eq!(out.status.code(), Some(7));
}

fn one_error_line(out: &std::process::Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(125),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(err.lines().count(), 1, "one line: {}", err);
    assert!(err.starts_with("lockdrop: error: "), "{}", err);
    assert!(out.stdout.is_empty());
    err
}

#[test]
fn bad_files_exit_125_with_one_line() {
    let p = scratch(
        "typo.yaml",
        "user: nobody\nmemlok: 64M\ncommand: [\"true\"]\n",
    );
    let err = one_error_line(&run(&["--config", p.to_str().unwrap()], &[]));
    assert!(err.contains(p.to_str().unwrap()), "{}", err);
    assert!(
        err.contains("line 2 column 1: unknown key `memlok`")
            && err.contains("did you mean `memlock`"),
        "{}",
        err
    );

    let p = scratch(
        "syntax.yaml",
        "user: nobody\ncommand: [sh, -c\nmemlock: 64M\n",
    );
    let err = one_error_line(&run(&["--config", p.to_str().unwrap(), "true"], &[]));
    assert!(
        err.contains("syntax.yaml")
            && err.contains("line 3")
            && err.contains("fix the YAML syntax"),
        "{}",
        err
    );

    let p = scratch("value.yaml", "rlimit:\n  - nofile=65535\n  - nofile=lots\n");
    let err = one_error_line(&run(&["--config", p.to_str().unwrap(), "true"], &[]));
    assert!(
        err.contains("invalid limit value \"lots\"") && err.contains("line 3"),
        "{}",
        err
    );

    let p = scratch("kind.yaml", "no-new-privs: yes please\n");
    let err = one_error_line(&run(&["--config", p.to_str().unwrap(), "true"], &[]));
    assert!(
        err.contains("no-new-privs") && err.contains("line 1"),
        "{}",
        err
    );

    let err = one_error_line(&run(
        &["--config", "/nonexistent/lockdrop.yaml", "true"],
        &[],
    ));
    assert!(
        err.contains("cannot read config file /nonexistent/lockdrop.yaml"),
        "{}",
        err
    );
}

/// This process's soft RLIMIT_NOFILE (the binary under test inherits it): a
/// profile's nofile minimum is left out where the host already meets it.
fn nofile_soft() -> u64 {
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(u64::MAX)
}

#[test]
fn check_json_prints_one_document_when_resolving_fails() {
    // A tool piping `--check --json` to a JSON reader gets the error as a
    // finding, not an empty stdout: unknown user, bad spec, bad config file.
    let bad_file = scratch("bad-key.yaml", "no-such-key: 1\ncommand: [\"true\"]\n");
    let bad_file = format!("--config={}", bad_file.display());
    for args in [
        &[
            "--check",
            "--json",
            "--user",
            "no-such-user-11",
            "--",
            "true",
        ][..],
        &["--check", "--json", "-l", "nofile=lots", "--", "true"][..],
        &["--check", "--json", bad_file.as_str()][..],
    ] {
        let out = run(args, &[]);
        assert_eq!(out.status.code(), Some(125), "{:?}", out);
        let j = String::from_utf8_lossy(&out.stdout).into_owned();
        assert_eq!(j.trim().lines().count(), 1, "one document: {}", j);
        assert_eq!(
            py(
                &j,
                "d['errors'], d['would_start'], d['exit_code'], d['plan']"
            ),
            "1 False 125 None"
        );
        let what = py(&j, "d['findings'][0]['what']");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&what),
            "the same error on stderr: {}\n{}",
            what,
            stderr
        );
    }
}
