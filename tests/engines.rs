//! The engine tier: lockdrop's static binary through the engines users run
//! it with — Docker (a private dockerd), Podman (rootful, `podman kube
//! play`) and the Kubernetes path (containerd's CRI plugin, driven like the
//! kubelet drives it). What only they show: Docker's seccomp profile and
//! capability handling for `--user`, `docker stop` timing, `--init`,
//! `kube play`, and the `CAP_` → `CAP_CAP_` rewrite of a Kubernetes
//! securityContext that containerd really does.
//!
//! Needs root, docker.io, podman, containerd, python3-grpcio,
//! busybox-static (scripts/deps.sh installs them); a missing one is a
//! failure, never a skip. Everything started here is stopped and removed at
//! process exit, also after a failed test (tests/engines/daemons.rs).
//! Run alone: `scripts/test.sh --test engines` (add `-- --nocapture` to see
//! the engines' real outputs, quoted in docs/engines.md).
// Probes and fixtures make raw syscalls; Cargo.toml denies `unsafe` by default.
#![allow(unsafe_code)]

#[path = "runc/bundle.rs"]
mod bundle;
#[path = "engines/daemons.rs"]
mod daemons;
#[path = "runc/examples.rs"]
mod examples;

use bundle::{host_has_cap, host_rlimit, Outcome, CAP_SYS_RESOURCE};
use daemons::*;
use std::time::Instant;

const ES: &str = "elasticsearch";
/// uid 1000 locks 64 MiB over the 8 MiB hard limit of a default container.
const LOCK64: &[&str] = &[
    "/sbin/lockdrop",
    "--user",
    ES,
    "--memlock",
    "unlimited",
    "--",
    "/probe",
    "mlock",
    "64M",
    ",",
    "status",
];
const CAP_IPC_LOCK_BIT: u64 = 1 << 14;

fn args<'a>(pre: &[&'a str], image: &'a str, cmd: &[&'a str]) -> Vec<&'a str> {
    pre.iter()
        .copied()
        .chain([image])
        .chain(cmd.iter().copied())
        .collect()
}

fn cap_bits(o: &Outcome, set: &str) -> u64 {
    u64::from_str_radix(&o.field(set), 16).unwrap()
}

/// uid 1000 locked 64 MiB through the ambient IPC_LOCK, the limit untouched.
fn assert_locked_via_ambient(o: &Outcome) {
    o.assert_code(0).assert_stdout("mlock ok bytes=67108864");
    assert_eq!(o.field("Uid"), "1000 1000 1000 1000", "{}", o.show());
    assert_eq!(o.field("CapAmb"), "0000000000004000", "{}", o.show());
    assert_eq!(o.field("CapEff"), "0000000000004000", "{}", o.show());
    let hard = host_rlimit("Max locked memory").1;
    if let Some(h) = hard {
        assert!(
            o.field("rlimit.memlock").ends_with(&format!(":{}", h)),
            "{}",
            o.show()
        );
    }
}

/// lockdrop's own refusal: 125, the command never ran, first line an error.
fn assert_lockdrop_refused(o: &Outcome) {
    o.assert_code(125);
    assert!(
        o.stdout.is_empty(),
        "the command must not run:\n{}",
        o.show()
    );
    assert!(o.stderr.contains("lockdrop: error:"), "{}", o.show());
}

/// The first `fix:` line of lockdrop's first error.
fn first_fix(o: &Outcome) -> String {
    o.stderr
        .lines()
        .skip_while(|l| !l.starts_with("lockdrop: error:"))
        .find_map(|l| l.split_once("fix: ").map(|(_, f)| f.to_string()))
        .unwrap_or_else(|| panic!("no fix: line\n{}", o.show()))
}

fn quote(o: &Outcome) -> String {
    let mut s = String::new();
    for l in o.stderr.lines() {
        s.push_str(&format!("  {}\n", l));
    }
    for l in o.stdout.lines() {
        s.push_str(&format!("  {}\n", l));
    }
    s.push_str(&format!("  (exit {})", o.code));
    s
}

/// A row the engine must refuse on a host without CAP_SYS_RESOURCE in its
/// bounding set (runc cannot hand out what it does not hold) and must run on
/// a host that has it: decided from CapBnd now, never skipped.
fn assert_sys_resource_row(engine: &str, what: &str, o: &Outcome) {
    if host_has_cap(CAP_SYS_RESOURCE) {
        o.assert_code(0).assert_stdout("mlock ok bytes=67108864");
        eprintln!(
            "[engines] {} {}: runs (host has CAP_SYS_RESOURCE)",
            engine, what
        );
    } else {
        assert_ne!(o.code, 0, "{}", o.show());
        assert!(o.stdout.is_empty(), "nothing ran:\n{}", o.show());
        assert!(
            !o.stderr.contains("lockdrop:"),
            "the engine refuses before lockdrop starts:\n{}",
            o.show()
        );
        let why = o.stderr.lines().last().unwrap_or("").to_string();
        eprintln!(
            "[engines] {} {}: refused by the engine (host CapBnd lacks CAP_SYS_RESOURCE), exit {}: {}",
            engine, what, o.code, why
        );
    }
}

// ---------------------------------------------------------------------------
// Docker
// ---------------------------------------------------------------------------

#[test]
fn docker_cap_add_ipc_lock_in_every_spelling() {
    let (d, img) = (docker(), images());
    for spelling in ["IPC_LOCK", "CAP_IPC_LOCK", "ipc_lock"] {
        let o = d.run(&args(&["--cap-add", spelling], &img.base, LOCK64));
        assert_locked_via_ambient(&o);
        // Docker's default seccomp profile is in force, and nothing lockdrop
        // does (setgroups, setres[ug]id, capset, ambient raise, prctl) is
        // refused by it.
        assert_eq!(o.field("Seccomp"), "2", "{}", o.show());
        if spelling == "IPC_LOCK" {
            eprintln!(
                "[engines] docs: docker run --rm --cap-add IPC_LOCK IMAGE {}\n{}",
                LOCK64.join(" "),
                quote(&o)
            );
        }
    }
    // no-new-privileges: the ambient capability survives it.
    let o = d.run(&args(
        &[
            "--cap-add",
            "IPC_LOCK",
            "--security-opt",
            "no-new-privileges",
        ],
        &img.base,
        LOCK64,
    ));
    assert_locked_via_ambient(&o);
    assert_eq!(o.field("NoNewPrivs"), "1");
}

#[test]
fn docker_without_the_capability_exits_125_with_the_fixes() {
    let (d, img) = (docker(), images());
    let o = d.run(&args(&[], &img.base, LOCK64));
    assert_lockdrop_refused(&o);
    for fix in [
        "--cap-add IPC_LOCK",
        "--ulimit memlock=-1:-1",
        "cap_add: [\"IPC_LOCK\"]",
        "securityContext.capabilities.add: [\"IPC_LOCK\"]",
    ] {
        o.assert_stderr(fix);
    }
    assert!(
        !o.stderr.contains("CAP_CAP_"),
        "not under Kubernetes:\n{}",
        o.show()
    );
    eprintln!(
        "[engines] docs: docker run --rm IMAGE {}\n{}",
        LOCK64.join(" "),
        quote(&o)
    );

    // --cap-drop ALL --cap-add IPC_LOCK: no SETUID/SETGID to switch users.
    let o = d.run(&args(
        &["--cap-drop", "ALL", "--cap-add", "IPC_LOCK"],
        &img.base,
        LOCK64,
    ));
    assert_lockdrop_refused(&o);
    o.assert_stderr("CAP_SETUID").assert_stderr("CAP_SETGID");

    // --memlock-via rlimit cannot use IPC_LOCK: the fix must not offer it.
    let mut via: Vec<&str> = LOCK64.to_vec();
    via.splice(5..5, ["--memlock-via", "rlimit"]);
    let o = d.run(&args(&["--cap-add", "IPC_LOCK"], &img.base, &via));
    assert_lockdrop_refused(&o);
    o.assert_stderr("--ulimit memlock=-1:-1");
    assert!(!o.stderr.contains("--cap-add IPC_LOCK"), "{}", o.show());
}

#[test]
fn docker_run_user_1000_says_start_as_root() {
    let (d, img) = (docker(), images());
    // Docker leaves an added capability only in the bounding set of a
    // non-root start: adding it again cannot help.
    for cmd in [
        LOCK64,
        &[
            "/sbin/lockdrop",
            "--memlock",
            "unlimited",
            "--",
            "/probe",
            "status",
        ][..],
    ] {
        let o = d.run(&args(
            &["--user", "1000", "--cap-add", "IPC_LOCK"],
            &img.base,
            cmd,
        ));
        assert_lockdrop_refused(&o);
        o.assert_stderr("root");
        assert!(!o.stderr.contains("--cap-add IPC_LOCK"), "{}", o.show());
        eprintln!(
            "[engines] docker run --user 1000 --cap-add IPC_LOCK: {}",
            first_fix(&o)
        );
    }
    // Without lockdrop, the same container cannot lock: the capability is
    // only in the bounding set (what lockdrop saw).
    let o = d.run(&args(
        &["--user", "1000", "--cap-add", "IPC_LOCK"],
        &img.base,
        &["/probe", "status"],
    ));
    o.assert_code(0);
    assert_eq!(cap_bits(&o, "CapEff") & CAP_IPC_LOCK_BIT, 0);
    assert_ne!(cap_bits(&o, "CapBnd") & CAP_IPC_LOCK_BIT, 0);
}

#[test]
fn docker_sys_resource_rows_follow_the_hosts_bounding_set() {
    let (d, img) = (docker(), images());
    let mut via: Vec<&str> = LOCK64.to_vec();
    via.splice(5..5, ["--memlock-via", "rlimit"]);
    let o = d.run(&args(&["--cap-add", "SYS_RESOURCE"], &img.base, &via));
    assert_sys_resource_row("docker", "--cap-add SYS_RESOURCE", &o);
    let o = d.run(&args(&["--ulimit", "memlock=-1:-1"], &img.base, LOCK64));
    assert_sys_resource_row("docker", "--ulimit memlock=-1:-1", &o);
    let o = d.run(&args(&["--privileged"], &img.base, &via));
    assert_sys_resource_row("docker", "--privileged", &o);
}

/// A service that prints "ready" and exits 143 on SIGTERM, as a JVM does.
const SERVICE_143: &str =
    "trap 'echo stopping; exit 143' TERM; echo ready; while :; do sleep 1000 & wait $!; done";

#[test]
fn docker_stop_ends_the_service_with_its_own_status_at_once() {
    let (d, img) = (docker(), images());
    for remap in [false, true] {
        let name = unique("stop");
        let mut cmd = vec!["/sbin/lockdrop", "--user", ES];
        if remap {
            cmd.extend(["--remap-exit", "143"]);
        }
        cmd.extend(["--", "/bin/sh", "-c", SERVICE_143]);
        let mut r = d.start_attached(&name, &args(&[], &img.base, &cmd));
        r.wait_line("ready", 60 * SECOND);
        let t = Instant::now();
        let stop = output(d.cmd().args(["stop", "-t", "10", &name]));
        let took = t.elapsed();
        stop.assert_code(0);
        let o = r.wait(20 * SECOND);
        o.assert_code(if remap { 0 } else { 143 })
            .assert_stdout("stopping");
        assert!(
            took < SECOND,
            "docker stop took {:?}: lockdrop did not forward SIGTERM",
            took
        );
        eprintln!(
            "[engines] docker stop{}: exit {} after {:?}",
            if remap { " (--remap-exit 143)" } else { "" },
            o.code,
            took
        );
    }
}

#[test]
fn docker_kill_forwards_each_signal_once() {
    let (d, img) = (docker(), images());
    let name = unique("kill");
    let mut r = d.start_attached(
        &name,
        &args(
            &[],
            &img.base,
            &["/sbin/lockdrop", "--user", ES, "--", "/probe", "signals"],
        ),
    );
    r.wait_line("ready", 60 * SECOND);
    let sigs = [
        ("HUP", 1),
        ("INT", 2),
        ("QUIT", 3),
        ("USR1", 10),
        ("USR2", 12),
        ("WINCH", 28),
    ];
    for (s, n) in sigs {
        output(d.cmd().args(["kill", "-s", s, &name])).assert_code(0);
        r.wait_line(&format!("sig {}", n), 20 * SECOND);
    }
    output(d.cmd().args(["kill", "-s", "TERM", &name])).assert_code(0);
    let o = r.wait(20 * SECOND);
    o.assert_code(0);
    for (_, n) in sigs.iter().chain([&("TERM", 15)]) {
        assert_eq!(
            o.stdout.matches(&format!("sig {}\n", n)).count(),
            1,
            "sig {}\n{}",
            n,
            o.show()
        );
    }
}

#[test]
fn docker_init_runs_lockdrop_as_a_child_that_execs() {
    let (d, img) = (docker(), images());
    let o = d.run(&args(
        &["--init", "--cap-add", "IPC_LOCK"],
        &img.base,
        LOCK64,
    ));
    assert_locked_via_ambient(&o);
    // docker-init is PID 1; lockdrop (not PID 1) exec'd the probe in its place.
    assert_ne!(o.field("Pid"), "1", "{}", o.show());
    assert_eq!(
        o.field("PPid"),
        "1",
        "lockdrop exec'd, did not supervise:\n{}",
        o.show()
    );
}

/// Zombies in container NAME, counted from inside.
fn zombies(d: &Docker, name: &str) -> usize {
    let o = output(d.cmd().args([
        "exec",
        name,
        "/bin/sh",
        "-c",
        "cat /proc/[0-9]*/stat 2>/dev/null",
    ]));
    o.stdout
        .lines()
        .filter(|l| {
            l.rsplit_once(") ")
                .map(|(_, r)| r.starts_with("Z "))
                .unwrap_or(false)
        })
        .count()
}

fn docker_exec_orphans(mode: &str, done: fn(usize) -> bool) -> usize {
    let (d, img) = (docker(), images());
    let name = unique("zombies");
    let mut r = d.start_attached(
        &name,
        &args(
            &[],
            &img.base,
            &[
                "/sbin/lockdrop",
                mode,
                "--user",
                ES,
                "--",
                "/probe",
                "signals",
            ],
        ),
    );
    r.wait_line("ready", 60 * SECOND);
    output(d.cmd().args(["exec", &name, "/probe", "orphans", "200"]))
        .assert_code(0)
        .assert_stdout("orphans 200");
    output(d.cmd().args([
        "exec",
        &name,
        "/bin/sh",
        "-c",
        "(sleep 0 &) ; (sleep 0 &) ; exit 0",
    ]))
    .assert_code(0);
    let deadline = Instant::now() + 10 * SECOND;
    let mut n = zombies(d, &name);
    while !done(n) && Instant::now() < deadline {
        n = zombies(d, &name);
    }
    output(d.cmd().args(["kill", "-s", "TERM", &name])).assert_code(0);
    r.wait(20 * SECOND).assert_code(0);
    n
}

#[test]
fn docker_exec_background_jobs_are_reaped() {
    let n = docker_exec_orphans("--supervise", |n| n == 0);
    assert_eq!(n, 0, "zombies left with lockdrop as PID 1");
    // Control: with --exec the probe is PID 1 and reaps nothing.
    let n = docker_exec_orphans("--exec", |n| n > 0);
    assert!(n > 0, "with --exec the probe as PID 1 must leave zombies");
    eprintln!(
        "[engines] docker exec orphans: 0 zombies under lockdrop, {} with --exec",
        n
    );
}

const WITH_SLOW_DAEMON: &str = "mkfifo /tmp/up; \
    (setsid sh -c 'trap \"sleep 0.5; echo finished > /out/marker; exit 0\" TERM; echo up > /tmp/up; while :; do sleep 1000 & wait $!; done' </dev/null >/dev/null 2>&1 &); \
    read x < /tmp/up; exec /probe signals";

#[test]
fn docker_stop_with_grace_lets_an_orphan_finish() {
    use std::os::unix::fs::PermissionsExt;
    let (d, img) = (docker(), images());
    for grace in [true, false] {
        let out = workdir().join(unique("grace-out"));
        std::fs::create_dir_all(&out).unwrap();
        std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o777)).unwrap();
        let vol = format!("{}:/out", out.display());
        let mut cmd = vec!["/sbin/lockdrop", "--user", ES];
        if grace {
            cmd.extend(["--grace", "5s"]);
        }
        cmd.extend(["--", "/bin/sh", "-c", WITH_SLOW_DAEMON]);
        let name = unique("grace");
        let mut r = d.start_attached(&name, &args(&["-v", &vol], &img.base, &cmd));
        r.wait_line("ready", 60 * SECOND);
        output(d.cmd().args(["stop", "-t", "10", &name])).assert_code(0);
        let o = r.wait(20 * SECOND);
        o.assert_code(0);
        let marker = std::fs::read_to_string(out.join("marker")).ok();
        if grace {
            assert_eq!(marker.as_deref(), Some("finished\n"), "{}", o.show());
        } else {
            assert_eq!(
                marker,
                None,
                "without --grace the orphan is killed:\n{}",
                o.show()
            );
        }
    }
}

#[test]
fn docker_build_like_dockerfile_example_and_compose_flags() {
    let (d, img) = (docker(), images());
    // `docker run --cap-add IPC_LOCK image`: ENTRYPOINT + CMD of the built
    // image. vm.max_map_count is not namespaced: the warn policy keeps the
    // test from needing (or changing) the host's value.
    let o = d.run(&[
        "--cap-add",
        "IPC_LOCK",
        "-e",
        "LOCKDROP_SYSCTL_POLICY=warn",
        &img.app,
    ]);
    o.assert_code(0)
        .assert_stdout("memlock: uid 1000")
        .assert_stdout("locked 64 MiB");
    eprintln!(
        "[engines] docs: docker run --rm --cap-add IPC_LOCK -e LOCKDROP_SYSCTL_POLICY=warn elasticsearch-lockdrop\n{}",
        quote(&o)
    );
    let o = d.run(&["-e", "LOCKDROP_SYSCTL_POLICY=warn", &img.app]);
    assert_lockdrop_refused(&o);
    o.assert_stderr("--cap-add IPC_LOCK");
    eprintln!(
        "[engines] docs: docker run --rm -e LOCKDROP_SYSCTL_POLICY=warn elasticsearch-lockdrop\n{}",
        quote(&o)
    );

    // docker-compose.yml's cap_add, environment and stop_grace_period as
    // `docker run` flags (what `docker compose up` passes to the engine).
    let text = examples::read("examples/docker-compose.yml");
    let (_, cap_add) = examples::yaml_value_after(&text, 0, "cap_add").expect("cap_add");
    let cap_add = examples::string_array(&cap_add);
    let env = examples::yaml_mapping(&text, "environment:");
    let (_, grace) =
        examples::yaml_value_after(&text, 0, "stop_grace_period").expect("stop_grace_period");
    let mut flags: Vec<String> = Vec::new();
    for c in &cap_add {
        flags.extend(["--cap-add".into(), c.clone()]);
    }
    for (k, v) in &env {
        flags.extend(["-e".into(), format!("{}={}", k, v)]);
    }
    flags.extend(["--stop-timeout".into(), grace.trim_end_matches('s').into()]);
    flags.extend([
        "-e".into(),
        "LOCKDROP_SYSCTL_POLICY=warn".into(),
        img.app.clone(),
    ]);
    let f: Vec<&str> = flags.iter().map(String::as_str).collect();
    let o = d.run(&f);
    o.assert_code(0).assert_stdout("locked 64 MiB");
    if env.iter().any(|(k, _)| k == "LOCKDROP_VERBOSE") {
        assert!(
            !o.stderr.is_empty(),
            "LOCKDROP_VERBOSE says the steps:\n{}",
            o.show()
        );
    }
}

// ---------------------------------------------------------------------------
// Podman
// ---------------------------------------------------------------------------

#[test]
fn podman_core_rows() {
    let (p, img) = (podman(), images());
    let base = p.image(&img.base);
    for spelling in ["IPC_LOCK", "CAP_IPC_LOCK", "ipc_lock"] {
        let o = p.run(&args(&["--cap-add", spelling], &base, LOCK64));
        assert_locked_via_ambient(&o);
        assert_eq!(o.field("Seccomp"), "2", "{}", o.show());
        if spelling == "IPC_LOCK" {
            eprintln!(
                "[engines] docs: podman run --rm --network none --cap-add IPC_LOCK IMAGE {}\n{}",
                LOCK64.join(" "),
                quote(&o)
            );
        }
    }
    let o = p.run(&args(
        &[
            "--cap-add",
            "IPC_LOCK",
            "--security-opt",
            "no-new-privileges",
        ],
        &base,
        LOCK64,
    ));
    assert_locked_via_ambient(&o);
    assert_eq!(o.field("NoNewPrivs"), "1");
    let o = p.run(&args(&[], &base, LOCK64));
    assert_lockdrop_refused(&o);
    o.assert_stderr("--cap-add IPC_LOCK");
    let o = p.run(&args(
        &["--cap-drop", "ALL", "--cap-add", "IPC_LOCK"],
        &base,
        LOCK64,
    ));
    assert_lockdrop_refused(&o);
    o.assert_stderr("CAP_SETUID");

    let mut via: Vec<&str> = LOCK64.to_vec();
    via.splice(5..5, ["--memlock-via", "rlimit"]);
    // Podman, unlike Docker, starts the container without a capability the
    // host lacks, silently: lockdrop's own check then stops it.
    let o = p.run(&args(&["--cap-add", "SYS_RESOURCE"], &base, &via));
    if host_has_cap(CAP_SYS_RESOURCE) {
        o.assert_code(0).assert_stdout("mlock ok bytes=67108864");
    } else {
        assert_lockdrop_refused(&o);
        o.assert_stderr("CAP_SYS_RESOURCE")
            .assert_stderr("--ulimit memlock=-1:-1");
        let o = p.run(&args(
            &["--cap-add", "SYS_RESOURCE"],
            &base,
            &["/probe", "status"],
        ));
        o.assert_code(0);
        assert_eq!(
            cap_bits(&o, "CapBnd") & (1 << CAP_SYS_RESOURCE),
            0,
            "{}",
            o.show()
        );
        eprintln!("[engines] podman --cap-add SYS_RESOURCE on a host without it: container starts without it (CapBnd {}); lockdrop exits 125", o.field("CapBnd"));
    }
    let o = p.run(&args(&["--ulimit", "memlock=-1:-1"], &base, LOCK64));
    assert_sys_resource_row("podman", "--ulimit memlock=-1:-1", &o);
}

#[test]
fn podman_stop_ends_the_service_with_its_own_status() {
    let (p, img) = (podman(), images());
    let base = p.image(&img.base);
    for remap in [false, true] {
        let name = unique("pstop");
        let mut cmd = vec!["/sbin/lockdrop", "--user", ES];
        if remap {
            cmd.extend(["--remap-exit", "143"]);
        }
        cmd.extend(["--", "/bin/sh", "-c", SERVICE_143]);
        let mut r = p.start_attached(&name, &args(&[], &base, &cmd));
        r.wait_line("ready", 60 * SECOND);
        let t = Instant::now();
        output(p.cmd().args(["stop", "-t", "10", &name])).assert_code(0);
        let took = t.elapsed();
        let o = r.wait(20 * SECOND);
        o.assert_code(if remap { 0 } else { 143 })
            .assert_stdout("stopping");
        assert!(took < 5 * SECOND, "podman stop took {:?}", took);
        eprintln!(
            "[engines] podman stop{}: exit {} after {:?}",
            if remap { " (--remap-exit 143)" } else { "" },
            o.code,
            took
        );
    }
}

/// The example's pod template, the pieces a Pod (or a CRI request) needs.
struct K8sExample {
    command: Vec<String>,
    args: Vec<String>,
    add: Vec<String>,
    run_as_user: String,
    allow_privilege_escalation: Option<bool>,
    config: String,
    mount: String,
    env: Vec<(String, String)>,
}

impl K8sExample {
    fn load() -> K8sExample {
        let text = examples::read("examples/kubernetes/elasticsearch.yaml");
        let config = examples::yaml_block(&text, "lockdrop.yaml");
        let c = examples::line_of(&text, "containers:");
        let get = |k: &str| {
            examples::yaml_value_after(&text, c, k)
                .map(|(_, v)| v)
                .unwrap_or_default()
        };
        let mut env = Vec::new();
        let lines: Vec<&str> = text.lines().collect();
        let e = examples::line_of(&text, "          env:");
        let mut i = e + 1;
        while i + 1 < lines.len() && lines[i].trim_start().starts_with("- name:") {
            let n = lines[i]
                .trim_start()
                .trim_start_matches("- name:")
                .trim()
                .to_string();
            let v = lines[i + 1]
                .trim_start()
                .trim_start_matches("value:")
                .trim()
                .trim_matches('"')
                .to_string();
            env.push((n, v));
            i += 2;
        }
        assert!(!env.is_empty(), "the example's env: was not read");
        K8sExample {
            command: examples::string_array(&get("command")),
            args: examples::string_array(&get("args")),
            add: examples::string_array(&get("add")),
            run_as_user: get("runAsUser"),
            allow_privilege_escalation: match get("allowPrivilegeEscalation").as_str() {
                "false" => Some(false),
                "true" => Some(true),
                _ => None,
            },
            config,
            mount: get("mountPath"),
            env,
        }
    }

    /// What this host needs on top of the example: vm.max_map_count is the
    /// host's (a warning, not changed by a test), and the config's nofile
    /// lowered to this host's hard limit when raising it needs
    /// CAP_SYS_RESOURCE the host does not have.
    fn host_env(&self) -> Vec<(String, String)> {
        let mut v = vec![("LOCKDROP_SYSCTL_POLICY".to_string(), "warn".to_string())];
        let want = self
            .config
            .lines()
            .find_map(|l| l.trim().trim_start_matches("- ").strip_prefix("nofile="))
            .and_then(|v| v.split(':').next_back()?.parse::<u64>().ok());
        if let (Some(w), Some(h)) = (want, host_rlimit("Max open files").1) {
            if h < w && !host_has_cap(CAP_SYS_RESOURCE) {
                v.push(("LOCKDROP_RLIMIT".into(), format!("nofile={}", h)));
            }
        }
        v
    }
}

fn pod_yaml(
    ex: &K8sExample,
    name: &str,
    image: &str,
    add: &[String],
    env: &[(String, String)],
) -> String {
    let indent = |t: &str, n: usize| -> String {
        t.lines()
            .map(|l| format!("{}{}\n", " ".repeat(n), l))
            .collect()
    };
    let envs: String = env
        .iter()
        .map(|(k, v)| format!("        - name: {}\n          value: {}\n", k, js(v)))
        .collect();
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}-config\ndata:\n  lockdrop.yaml: |\n{cfg}---\n\
         apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  restartPolicy: Never\n  containers:\n\
         \x20   - name: elasticsearch\n      image: {image}\n      command: {cmd}\n      args: {args}\n      env:\n{envs}\
         \x20     securityContext:\n        runAsUser: {uid}\n{ape}        capabilities:\n          add: {add}\n\
         \x20     volumeMounts:\n        - name: lockdrop-config\n          mountPath: {mount}\n          readOnly: true\n\
         \x20 volumes:\n    - name: lockdrop-config\n      configMap:\n        name: {name}-config\n",
        cfg = indent(&ex.config, 4),
        cmd = js_list(&ex.command),
        args = js_list(&ex.args),
        uid = ex.run_as_user,
        ape = match ex.allow_privilege_escalation {
            Some(b) => format!("        allowPrivilegeEscalation: {}\n", b),
            None => String::new(),
        },
        add = js_list(add),
        mount = ex.mount,
    )
}

/// `podman kube play` of a Pod; waits for its container and returns its
/// exit code and logs, then `kube play --down`.
fn kube_play(p: &Podman, yaml: &str, name: &str) -> (Outcome, Outcome) {
    let file = workdir().join(format!("{}.yaml", name));
    std::fs::write(&file, yaml).unwrap();
    let play = output(
        p.cmd()
            .args(["kube", "play", "--network", "none"])
            .arg(&file),
    );
    let ctr = format!("{}-elasticsearch", name);
    let o = if play.code == 0 {
        let w = output(p.cmd().args(["wait", &ctr]));
        let logs = output(p.cmd().args(["logs", &ctr]));
        Outcome {
            code: w.stdout.trim().parse().unwrap_or(-1),
            stdout: logs.stdout,
            stderr: logs.stderr,
            elapsed: play.elapsed + w.elapsed,
        }
    } else {
        Outcome {
            code: -1,
            stdout: String::new(),
            stderr: String::new(),
            elapsed: play.elapsed,
        }
    };
    let _ = output(p.cmd().args(["kube", "play", "--down"]).arg(&file));
    (play, o)
}

#[test]
fn podman_kube_play_of_the_example_pod() {
    let (p, img) = (podman(), images());
    let ex = K8sExample::load();
    let image = p.image(&img.app);
    let mut env = ex.env.clone();
    env.extend(ex.host_env());
    let yaml = pod_yaml(&ex, &unique("kube"), &image, &ex.add, &env);
    let name = yaml
        .lines()
        .skip_while(|l| *l != "kind: Pod")
        .nth(2)
        .unwrap()
        .trim()
        .trim_start_matches("name: ")
        .to_string();
    let (play, o) = kube_play(p, &yaml, &name);
    play.assert_code(0);
    o.assert_code(0)
        .assert_stdout("memlock: uid 1000")
        .assert_stdout("locked 64 MiB");
    eprintln!(
        "[engines] docs: podman kube play (example pod)\n{}\n{}",
        quote(&play),
        quote(&o)
    );

    // The CAP_ prefix in a pod's securityContext: what podman makes of it.
    let n3 = unique("kube-capprefix");
    let (play, o) = kube_play(
        p,
        &pod_yaml(&ex, &n3, &image, &["CAP_IPC_LOCK".to_string()], &env),
        &n3,
    );
    // Podman accepts the prefix, so a manifest tested with `kube play` can
    // still lose the capability under containerd (the CRI rows below).
    play.assert_code(0);
    o.assert_code(0).assert_stdout("locked 64 MiB");
    eprintln!("[engines] podman kube play, add [\"CAP_IPC_LOCK\"]: works (podman strips the prefix; containerd does not)");

    // SYS_RESOURCE asked for in the pod (with the example's nofile=65535,
    // above this host's hard limit): the engine's answer, recorded.
    let mut env = ex.env.clone();
    env.push(("LOCKDROP_SYSCTL_POLICY".into(), "warn".into()));
    let add: Vec<String> = ex
        .add
        .iter()
        .cloned()
        .chain(["SYS_RESOURCE".to_string()])
        .collect();
    let n2 = unique("kube-sysres");
    let (play, o) = kube_play(p, &pod_yaml(&ex, &n2, &image, &add, &env), &n2);
    if host_has_cap(CAP_SYS_RESOURCE) {
        play.assert_code(0);
        o.assert_code(0).assert_stdout("locked 64 MiB");
    } else {
        // Dropped silently, as with `podman run --cap-add`: the pod starts
        // and lockdrop stops it before Elasticsearch, naming the fix.
        play.assert_code(0);
        o.assert_code(125)
            .assert_stderr("CAP_SYS_RESOURCE is missing");
        assert!(!o.stdout.contains("locked 64 MiB"), "{}", o.show());
        eprintln!("[engines] docs: podman kube play, capabilities.add [\"IPC_LOCK\", \"SYS_RESOURCE\"] on a host without CAP_SYS_RESOURCE\n{}", quote(&o));
    }
}

// ---------------------------------------------------------------------------
// Kubernetes: containerd's CRI plugin, as the kubelet calls it
// ---------------------------------------------------------------------------

/// The example's container as the kubelet turns it into a CRI request.
fn cri_pod(
    ex: &K8sExample,
    image: &str,
    add: &[String],
    env: &[(String, String)],
    cfg_dir: &std::path::Path,
) -> Vec<(&'static str, String)> {
    std::fs::create_dir_all(cfg_dir).unwrap();
    std::fs::write(cfg_dir.join("lockdrop.yaml"), &ex.config).unwrap();
    let env_json = format!(
        "{{{}}}",
        env.iter()
            .map(|(k, v)| format!("{}: {}", js(k), js(v)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut v = vec![
        ("image", js(image)),
        ("command", js_list(&ex.command)),
        ("args", js_list(&ex.args)),
        ("add", js_list(add)),
        ("run_as_user", ex.run_as_user.clone()),
        ("env", env_json),
        (
            "mounts",
            format!(
                "[[{}, {}, true]]",
                js(&cfg_dir.to_string_lossy()),
                js(&ex.mount)
            ),
        ),
    ];
    if let Some(b) = ex.allow_privilege_escalation {
        v.push(("allow_privilege_escalation", b.to_string()));
    }
    v
}

#[test]
fn cri_example_pod_with_ipc_lock_locks_its_heap() {
    let (c, img) = (cri(), images());
    let ex = K8sExample::load();
    let mut env = ex.env.clone();
    env.extend(ex.host_env());
    let r = c.run_pod(
        "elasticsearch",
        cri_pod(&ex, &img.app, &ex.add, &env, &workdir().join(unique("cm"))),
    );
    r.outcome
        .assert_code(0)
        .assert_stdout("memlock: uid 1000")
        .assert_stdout("locked 64 MiB");
    eprintln!("[engines] docs: CRI RunPodSandbox/CreateContainer/StartContainer, capabilities.add {:?}\n{}", ex.add, quote(&r.outcome));
}

#[test]
fn cri_cap_prefixed_names_are_silently_dropped_and_lockdrop_says_why() {
    let (c, img) = (cri(), images());
    let ex = K8sExample::load();
    let mut env = ex.env.clone();
    env.extend(ex.host_env());

    // What containerd really gives for ["CAP_IPC_LOCK"]: no IPC_LOCK at all.
    let probe = K8sExample {
        command: vec!["/bin/sh".into()],
        args: vec!["-c".into(), "/probe status; env".into()],
        ..K8sExample::load()
    };
    let r = c.run_pod(
        "probe",
        cri_pod(
            &probe,
            &img.base,
            &["CAP_IPC_LOCK".to_string()],
            &[],
            &workdir().join(unique("cm")),
        ),
    );
    r.outcome.assert_code(0);
    assert_eq!(
        cap_bits(&r.outcome, "CapBnd") & CAP_IPC_LOCK_BIT,
        0,
        "CAP_CAP_IPC_LOCK dropped:\n{}",
        r.outcome.show()
    );
    assert!(
        !r.outcome.field("KUBERNETES_SERVICE_HOST").is_empty(),
        "set as the kubelet does"
    );

    let r = c.run_pod(
        "elasticsearch",
        cri_pod(
            &ex,
            &img.app,
            &["CAP_IPC_LOCK".to_string()],
            &env,
            &workdir().join(unique("cm")),
        ),
    );
    assert_lockdrop_refused(&r.outcome);
    let fix = first_fix(&r.outcome);
    assert!(
        fix.contains("CAP_CAP_IPC_LOCK") && fix.contains("[\"IPC_LOCK\"]"),
        "{}",
        r.outcome.show()
    );
    eprintln!(
        "[engines] docs: CRI, capabilities.add [\"CAP_IPC_LOCK\"]\n{}",
        quote(&r.outcome)
    );

    // ["IPC_LOCK", "CAP_SYS_RESOURCE"] with a nofile above the hard limit:
    // the pod starts without SYS_RESOURCE, lockdrop names the rewrite.
    let hard = host_rlimit("Max open files").1.unwrap_or(1 << 20);
    let mut env2: Vec<(String, String)> = ex.env.clone();
    env2.push(("LOCKDROP_SYSCTL_POLICY".into(), "warn".into()));
    env2.push((
        "LOCKDROP_RLIMIT".into(),
        format!("nofile={}", hard.max(65535) + 1),
    ));
    let add = vec!["IPC_LOCK".to_string(), "CAP_SYS_RESOURCE".to_string()];
    let r = c.run_pod(
        "elasticsearch",
        cri_pod(&ex, &img.app, &add, &env2, &workdir().join(unique("cm"))),
    );
    assert_lockdrop_refused(&r.outcome);
    let fix = first_fix(&r.outcome);
    assert!(fix.contains("CAP_CAP_SYS_RESOURCE"), "{}", r.outcome.show());
    r.outcome.assert_stderr("kubernetes has no ulimit field");
    eprintln!("[engines] docs: CRI, capabilities.add [\"IPC_LOCK\", \"CAP_SYS_RESOURCE\"], nofile above the hard limit\n{}", quote(&r.outcome));

    // ["SYS_RESOURCE"] spelled right: granted where the host has it.
    let add = vec!["IPC_LOCK".to_string(), "SYS_RESOURCE".to_string()];
    let r = c.run_pod(
        "elasticsearch",
        cri_pod(&ex, &img.app, &add, &env2, &workdir().join(unique("cm"))),
    );
    if host_has_cap(CAP_SYS_RESOURCE) {
        r.outcome.assert_code(0).assert_stdout("locked 64 MiB");
    } else {
        assert!(r.outcome.code != 0, "{}", r.outcome.show());
        assert!(!r.outcome.stdout.contains("locked"), "{}", r.outcome.show());
        eprintln!(
            "[engines] CRI + SYS_RESOURCE on a host without it: {} {}",
            r.reason, r.outcome.code
        );
    }
}

#[test]
fn check_json_through_docker_is_one_document_on_failure() {
    let (d, img) = (docker(), images());
    let o = d.run(&args(
        &[],
        &img.base,
        &[
            "/sbin/lockdrop",
            "--check",
            "--json",
            "--user",
            "nobody-here",
            "--",
            "/probe",
        ],
    ));
    o.assert_code(125);
    let t = o.stdout.trim();
    assert!(
        t.starts_with('{') && t.ends_with('}') && t.lines().count() == 1,
        "{}",
        o.show()
    );
    assert!(
        t.contains("\"level\":\"error\"") && t.contains("nobody-here"),
        "{}",
        o.show()
    );
}
