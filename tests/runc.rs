//! The container tier: lockdrop as the first process of real OCI containers,
//! started by the host's `runc` the way Docker, containerd and Kubernetes start
//! them. Each scenario builds its own bundle (busybox-static + the static
//! lockdrop + the probe + fixture /etc/passwd and /etc/group, config.json
//! written here with a capability preset) and asserts the exit code, stderr
//! and what the probe inside reports.
//!
//! Needs root and `runc`, `busybox-static`, Java 17 and `libjna-java` (CI has
//! them, see .ci/run): a missing one fails with what to install.
//! Run alone: `scripts/build.sh && cargo test --release --target $T --test runc`.
//! `LOCKDROP_KEEP_BUNDLES=1` keeps the bundles in $TMPDIR for inspection.
// Probes and fixtures make raw syscalls; Cargo.toml denies `unsafe` by default.
#![allow(unsafe_code)]

#[path = "runc/bundle.rs"]
mod bundle;
#[path = "runc/examples.rs"]
mod examples;
#[path = "runc/java.rs"]
mod java;

use bundle::*;
use std::time::{Duration, Instant};

const ES: &str = "elasticsearch";
const SECOND: Duration = Duration::from_secs(1);

fn memlock_hard() -> Option<u64> {
    host_rlimit("Max locked memory").1
}

// ---------------------------------------------------------------------------
// Capabilities and memory locking
// ---------------------------------------------------------------------------

#[test]
fn docker_defaults_memlock_unlimited_fails_125_with_the_fixes() {
    let mut b = Bundle::new("docker-default", Image::Busybox, Caps::Docker);
    b.lockdrop_words("--user elasticsearch --memlock unlimited -- /probe status");
    let o = b.run();
    o.assert_code(125);
    assert!(
        o.stdout.is_empty(),
        "the command must not run:\n{}",
        o.show()
    );
    assert!(o.stderr.starts_with("lockdrop: error:"), "{}", o.show());
    for fix in [
        "--cap-add IPC_LOCK",
        "--ulimit memlock=-1:-1",
        "cap_add: [\"IPC_LOCK\"]",
        "ulimits:",
        "securityContext.capabilities.add: [\"IPC_LOCK\"]",
    ] {
        o.assert_stderr(fix);
    }
}

#[test]
fn ipc_lock_added_unprivileged_command_locks_beyond_the_hard_limit() {
    let mut b = Bundle::new("ipc-lock", Image::Busybox, Caps::DockerIpcLock);
    b.lockdrop_words("--user elasticsearch --memlock unlimited -- /probe mlock 64M , status");
    let o = b.run();
    o.assert_code(0).assert_stdout("mlock ok bytes=67108864");
    assert_eq!(o.field("Uid"), "1000 1000 1000 1000", "{}", o.show());
    assert_eq!(
        o.field("CapAmb"),
        "0000000000004000",
        "only IPC_LOCK stays, ambient"
    );
    assert_eq!(o.field("CapEff"), "0000000000004000");
    // The limit itself is untouched: the capability does the work.
    let hard = memlock_hard().map_or("unlimited".into(), |h| h.to_string());
    assert!(
        o.field("rlimit.memlock").ends_with(&format!(":{}", hard)),
        "{}",
        o.show()
    );
    o.assert_stderr("ambient");
    let vmlck = o
        .stdout
        .lines()
        .find(|l| l.starts_with("mlock ok"))
        .unwrap();
    eprintln!(
        "[runc] docker + IPC_LOCK, uid 1000, RLIMIT_MEMLOCK hard {}: {}",
        hard, vmlck
    );
}

#[test]
fn ipc_lock_works_with_no_new_privileges() {
    // Kubernetes allowPrivilegeEscalation: false / docker --security-opt
    // no-new-privileges: ambient capabilities survive it.
    let mut b = Bundle::new("ipc-lock-nnp", Image::Busybox, Caps::DockerIpcLock);
    b.no_new_privs = true;
    b.lockdrop_words("--user elasticsearch --memlock unlimited -- /probe mlock 64M , status");
    let o = b.run();
    o.assert_code(0).assert_stdout("mlock ok bytes=67108864");
    assert_eq!(o.field("NoNewPrivs"), "1");
    assert_eq!(o.field("CapAmb"), "0000000000004000");
}

#[test]
fn memlock_via_rlimit_needs_sys_resource_even_with_ipc_lock() {
    let mut b = Bundle::new("via-rlimit", Image::Busybox, Caps::DockerIpcLock);
    b.lockdrop_words(
        "--user elasticsearch --memlock unlimited --memlock-via rlimit -- /probe status",
    );
    let o = b.run();
    o.assert_code(125).assert_stderr("SYS_RESOURCE");
    assert!(o.stdout.is_empty(), "{}", o.show());
}

#[test]
fn runtime_rlimit_already_high_enough_needs_no_capability() {
    // `docker run --ulimit memlock=H:H`, here H = what runc may set on this
    // host (its own hard limit: raising past it needs CAP_SYS_RESOURCE on the
    // host), with a low soft limit that lockdrop raises.
    let hard = memlock_hard();
    let (want, lock) = match hard {
        None => ("unlimited".to_string(), "64M".to_string()),
        Some(h) => (h.to_string(), format!("{}", h / 2)),
    };
    let mut b = Bundle::new("ulimit", Image::Busybox, Caps::Docker);
    b.rlimits.push(("RLIMIT_MEMLOCK", Some(64 << 10), hard));
    b.lockdrop_words(&format!(
        "--user {ES} --memlock {want} -- /probe mlock {lock} , status"
    ));
    let o = b.run();
    o.assert_code(0).assert_stdout("mlock ok");
    assert_eq!(
        o.field("CapAmb"),
        "0000000000000000",
        "no capability needed"
    );
    assert_eq!(o.field("CapEff"), "0000000000000000");
    assert_eq!(o.field("rlimit.memlock"), format!("{}:{}", want, want));
}

#[test]
fn sys_resource_preset_is_refused_by_runc_without_it_on_the_host() {
    let mut b = Bundle::new(
        "sys-resource",
        Image::Busybox,
        Caps::DockerIpcLockSysResource,
    );
    b.lockdrop_words("--user elasticsearch --memlock unlimited --memlock-via rlimit -- /probe mlock 64M , status");
    let o = b.run();
    if host_has_cap(CAP_SYS_RESOURCE) {
        // A host that has it: the rlimit path raises both limits.
        o.assert_code(0).assert_stdout("mlock ok bytes=67108864");
        assert_eq!(o.field("rlimit.memlock"), "unlimited:unlimited");
        assert_eq!(o.field("CapAmb"), "0000000000000000");
    } else {
        // This machine: runc cannot hand out what it does not hold.
        assert_ne!(o.code, 0, "{}", o.show());
        o.assert_stderr("unable to apply caps");
        assert!(o.stdout.is_empty(), "{}", o.show());
        eprintln!(
            "[runc] host lacks CAP_SYS_RESOURCE: runc refuses --cap-add SYS_RESOURCE (asserted)"
        );
    }
}

#[test]
fn runc_default_caps_cannot_switch_user() {
    let mut b = Bundle::new("runc-default", Image::Busybox, Caps::Runc);
    b.lockdrop_words("--user elasticsearch -- /probe status");
    let o = b.run();
    o.assert_code(125)
        .assert_stderr("SETUID")
        .assert_stderr("--cap-add");
    assert!(o.stdout.is_empty(), "{}", o.show());
}

// ---------------------------------------------------------------------------
// Users, groups and environment from the container's own files
// ---------------------------------------------------------------------------

#[test]
fn user_switch_reads_the_containers_passwd_and_group() {
    let mut b = Bundle::new("user", Image::Busybox, Caps::Docker);
    b.lockdrop_words("--user elasticsearch -- /probe status");
    let o = b.run();
    o.assert_code(0);
    assert_eq!(o.field("Uid"), "1000 1000 1000 1000");
    assert_eq!(o.field("Gid"), "1000 1000 1000 1000");
    // root and data list elasticsearch in the fixture /etc/group, plus its primary group.
    assert_eq!(o.field("Groups"), "0 1000 2000");
    assert_eq!(
        o.field("env.HOME"),
        "/usr/share/elasticsearch",
        "HOME=/root from the runtime is replaced"
    );
    assert_eq!(o.field("env.USER"), ES);
    assert_eq!(o.field("env.LOGNAME"), ES);
    assert_eq!(
        o.field("env.PATH"),
        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    );
    for set in ["CapInh", "CapPrm", "CapEff", "CapAmb"] {
        assert_eq!(o.field(set), "0000000000000000", "{} after the switch", set);
    }
    assert!(
        o.stderr.is_empty(),
        "a clean start says nothing:\n{}",
        o.show()
    );

    // An explicit group means exactly that group (Docker and gosu semantics).
    let mut b = Bundle::new("user-group", Image::Busybox, Caps::Docker);
    b.lockdrop_words("--user elasticsearch:data -- /probe status");
    let o = b.run();
    o.assert_code(0);
    assert_eq!(o.field("Gid"), "2000 2000 2000 2000");
    assert_eq!(o.field("Groups"), "2000");
}

#[test]
fn scratch_rootfs_numeric_user_without_etc() {
    let mut b = Bundle::new("scratch", Image::Scratch, Caps::Docker);
    b.readonly_root = true;
    b.lockdrop_words("--user 1000:1000 -- /probe status");
    let o = b.run();
    o.assert_code(0);
    assert_eq!(o.field("Uid"), "1000 1000 1000 1000");
    assert_eq!(o.field("Gid"), "1000 1000 1000 1000");
    assert_eq!(o.field("Groups"), "1000");
    assert_eq!(o.field("env.HOME"), "/");

    // A name needs /etc/passwd, which a scratch image does not have.
    let mut b = Bundle::new("scratch-name", Image::Scratch, Caps::Docker);
    b.readonly_root = true;
    b.lockdrop_words("--user elasticsearch -- /probe status");
    let o = b.run();
    o.assert_code(125).assert_stderr("/etc/passwd");
    assert!(o.stdout.is_empty(), "{}", o.show());
}

// ---------------------------------------------------------------------------
// PID 1: docker stop, kill, zombies, grace
// ---------------------------------------------------------------------------

/// A service that prints "ready", and on SIGTERM prints "stopping" and exits 42.
const SERVICE_42: &str =
    "trap 'echo stopping; exit 42' TERM; echo ready; while :; do sleep 1000 & wait $!; done";

#[test]
fn docker_stop_term_ends_the_service_with_its_own_status() {
    let mut b = Bundle::new("stop", Image::Busybox, Caps::Docker);
    b.lockdrop(&["--user", ES, "--", "/bin/sh", "-c", SERVICE_42]);
    let mut r = b.start();
    r.wait_line("ready", 30 * SECOND);
    let sent = Instant::now();
    b.kill("TERM");
    let o = r.wait(10 * SECOND);
    let took = sent.elapsed();
    o.assert_code(42).assert_stdout("stopping");
    eprintln!("[runc] runc kill TERM -> exit 42 in {:?}", took);
    assert!(
        took < 5 * SECOND,
        "docker stop would have escalated to SIGKILL: {:?}",
        took
    );

    // The probe sees exactly one TERM, forwarded by lockdrop.
    let mut b = Bundle::new("stop-probe", Image::Busybox, Caps::Docker);
    b.lockdrop_words("--user elasticsearch -- /probe signals");
    let mut r = b.start();
    r.wait_line("ready", 30 * SECOND);
    b.kill("TERM");
    let o = r.wait(10 * SECOND);
    o.assert_code(0);
    assert_eq!(o.stdout.matches("sig 15").count(), 1, "{}", o.show());
}

#[test]
fn kill_on_the_child_gives_137() {
    let mut b = Bundle::new("kill-child", Image::Busybox, Caps::Docker);
    b.lockdrop_words("--user elasticsearch -- /probe status , signals --stay");
    let mut r = b.start();
    r.wait_line("ready", 30 * SECOND);
    let pid = r
        .stdout_so_far()
        .lines()
        .find_map(|l| l.strip_prefix("Pid=").map(String::from))
        .expect("probe printed Pid=");
    assert_ne!(pid, "1", "lockdrop is PID 1, the command its child");
    // `kill` itself may be SIGKILLed by the kernel when the container's PID 1
    // exits before it does: only the container's status counts.
    b.exec(&["/bin/kill", "-KILL", &pid]);
    let o = r.wait(10 * SECOND);
    o.assert_code(137);
}

/// Zombies (state Z) in the container, counted from inside.
fn zombies(b: &Bundle) -> usize {
    let o = b.exec(&["/bin/sh", "-c", "cat /proc/[0-9]*/stat 2>/dev/null"]);
    o.stdout
        .lines()
        .filter(|l| {
            l.rsplit_once(") ")
                .map(|(_, rest)| rest.starts_with("Z "))
                .unwrap_or(false)
        })
        .count()
}

/// Starts `lockdrop MODE -- probe signals`, lets `docker exec`'d jobs leave
/// 200 orphans behind (re-parented to the container's PID 1), then polls the
/// zombie count until `done` says so or the deadline passes; returns it.
fn orphans_left(name: &str, mode: &str, done: fn(usize) -> bool) -> usize {
    let mut b = Bundle::new(name, Image::Busybox, Caps::Docker);
    b.lockdrop(&[mode, "--user", ES, "--", "/probe", "signals"]);
    let mut r = b.start();
    r.wait_line("ready", 30 * SECOND);
    b.exec(&["/probe", "orphans", "200"])
        .assert_code(0)
        .assert_stdout("orphans 200");
    b.exec(&["/bin/sh", "-c", "(sleep 0 &) ; (sleep 0 &) ; exit 0"])
        .assert_code(0);
    let deadline = Instant::now() + 10 * SECOND;
    let mut n = zombies(&b);
    while !done(n) && Instant::now() < deadline {
        n = zombies(&b);
    }
    b.kill("TERM");
    r.wait(10 * SECOND).assert_code(0);
    n
}

#[test]
fn zombies_from_runc_exec_background_jobs_are_reaped() {
    let n = orphans_left("zombies", "--supervise", |n| n == 0);
    assert_eq!(n, 0, "zombies left in the container with lockdrop as PID 1");
    // The control: with --exec the probe is PID 1 and reaps nothing, so the
    // count above measures lockdrop, not luck.
    let n = orphans_left("zombies-exec", "--exec", |n| n > 0);
    assert!(n > 0, "with --exec the probe as PID 1 must leave zombies");
    eprintln!(
        "[runc] orphans from runc exec: 0 zombies under lockdrop, {} with --exec",
        n
    );
}

/// The main child starts an adopted daemon whose shutdown takes a while, then
/// becomes the probe. On TERM the probe exits at once; the daemon writes
/// /out/marker half a second after its own TERM.
const WITH_SLOW_DAEMON: &str = "mkfifo /tmp/up; \
    (setsid sh -c 'trap \"sleep 0.5; echo finished > /out/marker; exit 0\" TERM; echo up > /tmp/up; while :; do sleep 1000 & wait $!; done' </dev/null >/dev/null 2>&1 &); \
    read x < /tmp/up; exec /probe signals";

fn run_with_slow_daemon(name: &str, grace: Option<&str>) -> (Outcome, Option<String>) {
    let mut b = Bundle::new(name, Image::Busybox, Caps::Docker);
    let out = b.shared_dir("/out");
    let mut args = vec!["--user", ES];
    if let Some(g) = grace {
        args.extend(["--grace", g]);
    }
    args.extend(["--", "/bin/sh", "-c", WITH_SLOW_DAEMON]);
    b.lockdrop(&args);
    let mut r = b.start();
    r.wait_line("ready", 30 * SECOND);
    b.kill("TERM");
    let o = r.wait(20 * SECOND);
    let marker = std::fs::read_to_string(out.join("marker")).ok();
    (o, marker)
}

#[test]
fn grace_lets_an_adopted_daemon_finish_its_shutdown() {
    let (o, marker) = run_with_slow_daemon("grace", Some("5s"));
    o.assert_code(0);
    assert_eq!(marker.as_deref(), Some("finished\n"), "{}", o.show());
    assert!(o.elapsed < 15 * SECOND, "{}", o.show());
    eprintln!(
        "[runc] --grace 5s: daemon finished its 0.5 s shutdown; container ended {:?} after start",
        o.elapsed
    );

    // Without --grace (tini's behaviour) lockdrop exits with the main child
    // and the kernel kills the rest of the PID namespace mid-shutdown.
    let (o, marker) = run_with_slow_daemon("no-grace", None);
    o.assert_code(0);
    assert_eq!(
        marker,
        None,
        "without --grace the daemon is killed:\n{}",
        o.show()
    );
}

// ---------------------------------------------------------------------------
// --check and --doctor in a locked-down container
// ---------------------------------------------------------------------------

#[test]
fn check_and_doctor_in_a_read_only_container() {
    let mut b = Bundle::new("check", Image::Busybox, Caps::DockerIpcLock);
    b.readonly_root = true;
    b.lockdrop_words("--check --user elasticsearch --memlock unlimited -- /probe status");
    let o = b.run();
    o.assert_code(0).assert_stdout("ambient");
    assert!(
        !o.stdout.contains("Uid="),
        "--check must not run the command:\n{}",
        o.show()
    );

    let mut b = Bundle::new("check-fail", Image::Busybox, Caps::Docker);
    b.readonly_root = true;
    b.lockdrop_words("--check --user elasticsearch --memlock unlimited -- /probe status");
    let o = b.run();
    o.assert_code(125).assert_stdout("--cap-add IPC_LOCK");
    assert!(!o.stdout.contains("Uid="), "{}", o.show());

    for json in [false, true] {
        let mut b = Bundle::new("doctor", Image::Busybox, Caps::DockerIpcLock);
        b.readonly_root = true;
        let mut args = vec!["--doctor"];
        if json {
            args.push("--json");
        }
        b.lockdrop(&args);
        let o = b.run();
        o.assert_code(0);
        assert!(!o.stdout.trim().is_empty(), "{}", o.show());
        assert!(
            !o.stderr.contains("error"),
            "masked /proc paths are not errors:\n{}",
            o.show()
        );
        if json {
            let t = o.stdout.trim();
            assert!(
                t.starts_with('{') && t.ends_with('}'),
                "one JSON document:\n{}",
                o.show()
            );
        } else {
            eprintln!(
                "[runc] --doctor in a read-only Docker+IPC_LOCK container:\n{}",
                o.stdout
            );
        }
    }
}

// ---------------------------------------------------------------------------
// The shipped examples: Dockerfile.example, docker-compose.yml, Kubernetes
// ---------------------------------------------------------------------------

/// Stand-ins for the Elasticsearch image's entrypoint script and for
/// Elasticsearch itself (target/memlock: touch 64 MiB, mlockall, exit 1 if
/// not locked), at the paths the examples use.
fn elasticsearch_image(name: &str, caps: Caps, lockdrop_path: &str) -> Bundle {
    let mut b = Bundle::new(name, Image::Busybox, caps);
    if lockdrop_path != "/sbin/lockdrop" {
        let t = tools();
        let dst = b.rootfs.join(lockdrop_path.trim_start_matches('/'));
        std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
        std::fs::copy(&t.lockdrop, dst).unwrap();
    }
    b.file(
        "/usr/local/bin/docker-entrypoint.sh",
        "#!/bin/sh\n# stand-in: eswrapper starts Elasticsearch, anything else is exec'd\n\
         if [ \"$1\" = eswrapper ]; then shift; exec /usr/share/elasticsearch/bin/elasticsearch \"$@\"; fi\nexec \"$@\"\n",
        0o755,
    );
    b.file(
        "/usr/share/elasticsearch/bin/elasticsearch",
        "#!/bin/sh\nexec /memlock 64M\n",
        0o755,
    );
    b.env.push("bootstrap.memory_lock=true".into());
    b
}

/// The errors `--check` may report here for reasons of the host, not of the
/// example: vm.max_map_count is not namespaced, and a hard rlimit above the
/// host's needs CAP_SYS_RESOURCE on the host.
fn host_caused(line: &str, max_map_count: bool, nofile: Option<u64>) -> bool {
    let l = line.to_lowercase();
    let mmc = host_sysctl("vm/max_map_count").unwrap_or(0);
    if max_map_count && mmc < 262144 && l.contains("max_map_count") {
        return true;
    }
    if let Some(want) = nofile {
        let (_, hard) = host_rlimit("Max open files");
        if hard.is_some_and(|h| h < want)
            && !host_has_cap(CAP_SYS_RESOURCE)
            && (l.contains("nofile") || l.contains("sys_resource"))
        {
            return true;
        }
    }
    false
}

fn assert_check_passes_but_for_the_host(o: &Outcome, max_map_count: bool, nofile: Option<u64>) {
    assert!(o.code == 0 || o.code == 125, "{}", o.show());
    assert!(
        o.stdout.contains("command:") && o.stdout.contains("findings:"),
        "--check printed its plan and findings (a usage error prints neither):\n{}",
        o.show()
    );
    let errors: Vec<&str> = o
        .stdout
        .lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with("error "))
        .collect();
    for e in &errors {
        assert!(
            host_caused(e, max_map_count, nofile),
            "--check error not explained by this host: {}\n{}",
            e,
            o.show()
        );
    }
    assert_eq!(o.code == 0, errors.is_empty(), "{}", o.show());
    if !errors.is_empty() {
        eprintln!(
            "[runc] --check: host-only findings (expected here): {:?}",
            errors
        );
    }
}

#[test]
fn dockerfile_example_entrypoint_checks_and_runs() {
    let df = examples::Dockerfile::load();
    assert_eq!(
        df.user, "root",
        "lockdrop must start as root to switch users"
    );
    let (opts, cmd) = df.split();
    let mut command: Vec<String> = cmd.clone();
    command.extend(df.cmd.iter().cloned());

    // 1. Every option parses and resolves: --check with `--cap-add IPC_LOCK`.
    let mut b = elasticsearch_image("dockerfile-check", Caps::DockerIpcLock, &df.lockdrop_path);
    b.readonly_root = true;
    let mut args: Vec<String> = vec![df.lockdrop_path.clone(), "--check".into()];
    args.extend(opts.iter().cloned());
    args.push("--".into());
    args.extend(command.iter().cloned());
    b.args = args;
    let o = b.run();
    assert_check_passes_but_for_the_host(&o, true, None);
    o.assert_stdout("ambient");

    // 2. `docker run --cap-add IPC_LOCK image`: ENTRYPOINT + CMD for real.
    let mut b = elasticsearch_image("dockerfile-run", Caps::DockerIpcLock, &df.lockdrop_path);
    b.args = df.entrypoint.iter().chain(df.cmd.iter()).cloned().collect();
    // The laptop escape hatch the Dockerfile documents, for hosts (like CI)
    // whose vm.max_map_count the test must not change.
    b.env.push("LOCKDROP_SYSCTL_POLICY=warn".into());
    let o = b.run();
    o.assert_code(0)
        .assert_stdout("memlock: uid 1000")
        .assert_stdout("locked 64 MiB");
    eprintln!(
        "[runc] Dockerfile.example ENTRYPOINT+CMD, --cap-add IPC_LOCK: {}",
        o.stdout.trim().replace('\n', " | ")
    );

    // `docker run --cap-add IPC_LOCK image /probe status`: CMD replaced,
    // ENTRYPOINT kept; what the command really got.
    let mut b = elasticsearch_image("dockerfile-probe", Caps::DockerIpcLock, &df.lockdrop_path);
    b.args = df.entrypoint.clone();
    b.args.extend(["/probe".into(), "status".into()]);
    b.env.push("LOCKDROP_SYSCTL_POLICY=warn".into());
    let o = b.run();
    o.assert_code(0);
    assert_eq!(o.field("Uid"), "1000 1000 1000 1000", "{}", o.show());
    assert_eq!(
        o.field("Gid"),
        "0 0 0 0",
        "USER 1000:0 like the official image"
    );
    assert_eq!(
        o.field("Groups"),
        "0",
        "an explicit group means exactly that group"
    );
    assert_eq!(o.field("CapAmb"), "0000000000004000");
    assert_eq!(o.field("env.HOME"), "/usr/share/elasticsearch");

    // 3. Plain `docker run image`: exit 125 before Elasticsearch starts.
    let mut b = elasticsearch_image("dockerfile-nocap", Caps::Docker, &df.lockdrop_path);
    b.args = df.entrypoint.iter().chain(df.cmd.iter()).cloned().collect();
    b.env.push("LOCKDROP_SYSCTL_POLICY=warn".into());
    let o = b.run();
    o.assert_code(125)
        .assert_stderr("--cap-add IPC_LOCK")
        .assert_stderr("--ulimit memlock=-1:-1");
    assert!(
        !o.stdout.contains("memlock:"),
        "Elasticsearch must not start:\n{}",
        o.show()
    );
}

#[test]
fn compose_example_cap_add_and_environment_work() {
    let text = examples::read("examples/docker-compose.yml");
    let (_, cap_add) =
        examples::yaml_value_after(&text, 0, "cap_add").expect("compose file has cap_add");
    let cap_add = examples::string_array(&cap_add);
    assert_eq!(cap_add, vec!["IPC_LOCK"]);
    let env = examples::yaml_mapping(&text, "environment:");
    let df = examples::Dockerfile::load();

    let mut b = elasticsearch_image("compose", Caps::DockerIpcLock, &df.lockdrop_path);
    b.caps = DOCKER_DEFAULT_CAPS
        .iter()
        .map(|s| s.to_string())
        .chain(cap_add.iter().cloned())
        .collect();
    for (k, v) in &env {
        b.env.push(format!("{}={}", k, v));
    }
    b.env.push("LOCKDROP_SYSCTL_POLICY=warn".into());
    b.args = df.entrypoint.iter().chain(df.cmd.iter()).cloned().collect();
    let o = b.run();
    o.assert_code(0)
        .assert_stdout("memlock: uid 1000")
        .assert_stdout("locked 64 MiB");
    if env.iter().any(|(k, _)| k == "LOCKDROP_VERBOSE") {
        assert!(
            !o.stderr.is_empty(),
            "LOCKDROP_VERBOSE from compose says the steps:\n{}",
            o.show()
        );
    }
}

#[test]
fn kubernetes_example_config_map_and_security_context() {
    let text = examples::read("examples/kubernetes/elasticsearch.yaml");
    let config = examples::yaml_block(&text, "lockdrop.yaml");
    let containers = examples::line_of(&text, "containers:");
    let (_, command) = examples::yaml_value_after(&text, containers, "command").unwrap();
    let (_, args) = examples::yaml_value_after(&text, containers, "args").unwrap();
    let (_, add) = examples::yaml_value_after(&text, containers, "add").unwrap();
    let (_, run_as) = examples::yaml_value_after(&text, containers, "runAsUser").unwrap();
    let (_, mount) = examples::yaml_value_after(&text, containers, "mountPath").unwrap();
    assert_eq!(run_as, "0", "lockdrop starts as root");
    // allowPrivilegeEscalation: false is no_new_privs for the container.
    let nnp = examples::yaml_value_after(&text, containers, "allowPrivilegeEscalation")
        .is_some_and(|(_, v)| v == "false");
    let command = examples::string_array(&command);
    let args = examples::string_array(&args);
    let add = examples::string_array(&add);
    assert!(
        add.iter().all(|c| !c.starts_with("CAP_")),
        "no CAP_ prefix in Kubernetes"
    );
    let cfg_flag = command
        .iter()
        .position(|w| w == "-c" || w == "--config")
        .expect("command passes -c FILE");
    let cfg_path = &command[cfg_flag + 1];
    assert!(
        cfg_path.starts_with(mount.as_str()),
        "-c {} is inside the ConfigMap mount {}",
        cfg_path,
        mount
    );
    let nofile = config
        .lines()
        .find_map(|l| l.trim().trim_start_matches("- ").strip_prefix("nofile="))
        .and_then(|v| v.split(':').next_back()?.parse::<u64>().ok());

    let image = |name: &str| {
        let mut b = elasticsearch_image(name, Caps::Docker, &command[0]);
        // containerd's defaults are Docker's 14, plus securityContext's add.
        b.caps = DOCKER_DEFAULT_CAPS
            .iter()
            .map(|s| s.to_string())
            .chain(add.iter().cloned())
            .collect();
        b.file(cfg_path, &config, 0o644);
        b.readonly_root = true;
        b.no_new_privs = nnp;
        b
    };

    // --check: the ConfigMap parses, every key exists, and with IPC_LOCK the
    // memlock plan is the ambient one.
    let mut b = image("k8s-check");
    let mut a = vec![command[0].clone(), "--check".into()];
    a.extend(command[1..].iter().cloned());
    a.extend(args.iter().cloned());
    b.args = a;
    let o = b.run();
    assert_check_passes_but_for_the_host(&o, true, nofile);
    o.assert_stdout("ambient");

    // The pod for real, when this host can give what the config asks for
    // (the init container's sysctl is replaced by the warn policy: the test
    // must not change the shared host's vm.max_map_count).
    let mut b = image("k8s-run");
    b.args = command.iter().chain(args.iter()).cloned().collect();
    b.env.push("LOCKDROP_SYSCTL_POLICY=warn".into());
    // containerd gives containers RLIMIT_NOFILE 1048576 (or 1024:524288);
    // runc here can give no more than this host's hard limit. The
    // environment layer (a pod `env:` would do the same) lowers the file's
    // nofile to what the host has.
    let (_, nofile_hard) = host_rlimit("Max open files");
    if let (Some(want), Some(h)) = (nofile, nofile_hard) {
        if h < want && !host_has_cap(CAP_SYS_RESOURCE) {
            eprintln!(
                "[runc] kubernetes pod: host RLIMIT_NOFILE hard {} < {}: LOCKDROP_RLIMIT=nofile={}",
                h, want, h
            );
            b.env.push(format!("LOCKDROP_RLIMIT=nofile={}", h));
        }
    }
    let o = b.run();
    o.assert_code(0)
        .assert_stdout("memlock: uid 1000")
        .assert_stdout("locked 64 MiB");
}

// ---------------------------------------------------------------------------
// A real JVM: examples/java/MemoryLock.java through JNA, like Elasticsearch
// ---------------------------------------------------------------------------

const JVM_HEAP_MIB: u32 = 128;
const JVM_TOUCH_MIB: u32 = 64;

#[test]
fn jvm_locks_its_heap_under_lockdrop_and_fails_the_old_way() {
    let jdk = java::jdk();
    let java_cmd = jdk.command(JVM_HEAP_MIB, JVM_TOUCH_MIB);
    let hard = memlock_hard().map_or("unlimited".into(), |h| format!("{} KiB", h >> 10));

    // lockdrop: `docker run --cap-add IPC_LOCK` with lockdrop as entrypoint.
    let mut b = Bundle::new("jvm-lockdrop", Image::Busybox, Caps::DockerIpcLock);
    jdk.mount_into(&mut b);
    let mut args = vec![
        "/sbin/lockdrop".to_string(),
        "--user".into(),
        ES.into(),
        "--memlock".into(),
        "unlimited".into(),
        "--".into(),
    ];
    args.extend(java_cmd.iter().cloned());
    b.args = args;
    let o = b.run();
    o.assert_code(0)
        .assert_stdout("mlockall ok")
        .assert_stdout("uid 1000");
    o.assert_stdout("CapAmb 0000000000004000");
    // The whole pre-touched heap (and more of the JVM) is resident and locked.
    let locked_mib: u64 = o
        .stdout
        .split("resident and locked ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no locked MiB in\n{}", o.show()));
    assert!(locked_mib >= JVM_HEAP_MIB as u64, "{}", o.show());
    eprintln!(
        "[runc] JVM under lockdrop (docker + IPC_LOCK, RLIMIT_MEMLOCK hard {}):\n  {}",
        hard,
        o.stdout.trim().replace('\n', "\n  ")
    );

    // Like Elasticsearch, the program refuses to run as root.
    let mut b = Bundle::new("jvm-root", Image::Busybox, Caps::DockerIpcLock);
    jdk.mount_into(&mut b);
    b.args = java_cmd.clone();
    let o = b.run();
    o.assert_code(1).assert_stderr("can not run as root");

    // Today's run.sh: the same container, `ulimit -l unlimited; su ...`.
    let mut b = Bundle::new("jvm-runsh", Image::Busybox, Caps::DockerIpcLock);
    jdk.mount_into(&mut b);
    let java_line = java_cmd.join(" ");
    b.args = vec![
        "/bin/sh".into(),
        "-c".into(),
        format!(
            "ulimit -l unlimited; exec su -s /bin/sh {} -c 'exec {}'",
            ES, java_line
        ),
    ];
    let o = b.run();
    assert_ne!(o.code, 0, "{}", o.show());
    // busybox sh: raising the hard limit needs CAP_SYS_RESOURCE; su then
    // clears every capability, IPC_LOCK included.
    o.assert_stderr("error setting limit")
        .assert_stdout("CapAmb 0000000000000000")
        .assert_stdout("Unable to lock JVM Memory: error=12")
        .assert_stdout("memory locking requested but memory is not locked");
    eprintln!(
        "[runc] JVM the run.sh way (same container):\n  stderr: {}\n  {}\n  exit {}",
        o.stderr.trim().replace('\n', "\n  stderr: "),
        o.stdout.trim().replace('\n', "\n  "),
        o.code
    );
    let _ = std::fs::remove_dir_all(&jdk.classes);
}
