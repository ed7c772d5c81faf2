//! The real-kernel tier: lockdrop as PID 1 of a Linux VM (qemu, software
//! emulation) where it holds every capability, CAP_SYS_RESOURCE included,
//! which neither this machine nor CI grants to a namespace or a container.
//! Each test boots the Debian cloud kernel with an initramfs built by
//! `vm/harness.rs`; the guest prints on the serial console and the kernel's
//! "Attempted to kill init! exitcode=0x…" panic carries PID 1's exit status.
//!
//! Most scenarios boot `rdinit=/vmtool` (tests/vm/vmtool.c), which prints the
//! rlimits the kernel gave init, mounts /proc, optionally shrinks the
//! bounding set, runs `lockdrop --check` or starts the signal relay, and
//! then execs lockdrop in the same process: lockdrop is PID 1 with no runtime
//! in between. The first scenario boots `rdinit=/lockdrop` with nothing else.
//!
//! Arguments are written as the kernel command line carries them: one
//! string, split at spaces, and never a `--` (the kernel swallows it), so
//! lockdrop's command starts at its first non-option word.
//!
//! The kernel's defaults for init: memlock 8 MiB, nofile 1024:4096, nproc
//! ~824 at 256 MiB (it scales with memory).
// Probes and fixtures make raw syscalls; Cargo.toml denies `unsafe` by default.
#![allow(unsafe_code)]

#[path = "vm/harness.rs"]
mod harness;
#[path = "vm/java.rs"]
mod java;

use harness::{boot, boot_with, Boot, Entry};

const MIB: u64 = 1 << 20;
const IPC_LOCK: u64 = 1 << 14;
const SYS_RESOURCE: u64 = 1 << 24;

/// The probe's command of the memlock scenarios.
const STATUS_AND_LOCK: &str = "/probe status , mlock 64M";

/// vmtool as init: `vmtool init PRE /lockdrop ARGS`.
fn via_vmtool(name: &str, pre: &str, args: &str, extra: &[Entry]) -> Boot {
    let b = boot(
        name,
        "/vmtool",
        &format!("init {} /lockdrop {}", pre, args),
        extra,
    );
    b.check(
        b.has_line("vmtool: pid 1 execs /lockdrop"),
        "vmtool did not exec lockdrop as PID 1",
    );
    b
}

/// vmtool's `--before` option running `lockdrop --check ARGS` first.
fn check_first(args: &str) -> String {
    format!(
        "--before /lockdrop,--check,{}",
        args.split_whitespace().collect::<Vec<_>>().join(",")
    )
}

fn cap_mask(b: &Boot, key: &str) -> u64 {
    let v = b.value(key);
    b.check(v.is_some(), &format!("the probe printed no {}", key));
    u64::from_str_radix(v.unwrap_or("0"), 16).unwrap_or(u64::MAX)
}

/// `soft:hard` of a `rlimit.NAME=` line as numbers (unlimited = u64::MAX).
fn limit(b: &Boot, key: &str) -> (u64, u64) {
    let v = b.value(key);
    b.check(v.is_some(), &format!("no {} line", key));
    let n = |s: &str| {
        if s == "unlimited" {
            u64::MAX
        } else {
            s.parse().unwrap_or(0)
        }
    };
    let (s, h) = v.unwrap_or("0:0").split_once(':').unwrap_or(("0", "0"));
    (n(s), n(h))
}

fn lockdrop_lines(b: &Boot) -> Vec<&str> {
    b.lines()
        .into_iter()
        .filter(|l| l.starts_with("lockdrop:"))
        .collect()
}

/// The memlock finding of `--check`'s report (`ok    memlock: …`), printed
/// by the `--before` run, which must have exited 0.
fn check_memlock_finding(b: &Boot) -> &str {
    let l = b.lines().into_iter().find(|l| {
        let t = l.trim_start();
        t.starts_with("ok") && t.contains("memlock:")
    });
    b.check(l.is_some(), "--check printed no memlock finding");
    b.check(
        b.has_line("vmtool: before exited 0"),
        "--check did not exit 0",
    );
    l.unwrap_or("")
}

/// The purest form: the kernel runs /lockdrop as init, nothing before it (no
/// /proc either). It raises RLIMIT_MEMLOCK to unlimited with CAP_SYS_RESOURCE,
/// becomes `app`, supervises the probe, which locks 64 MiB with no
/// capability, and exits with the probe's status.
#[test]
fn vm_lockdrop_is_the_kernels_init() {
    let b = boot(
        "init-direct",
        "/lockdrop",
        "--memlock unlimited --user app /probe status , mlock 64M , exit 42",
        &[],
    );
    // No /proc here: the probe's status has only what syscalls tell.
    b.check(
        limit(&b, "rlimit.memlock") == (u64::MAX, u64::MAX),
        "RLIMIT_MEMLOCK is not unlimited:unlimited in the child",
    );
    b.check(
        b.has_line("mlock ok bytes=67108864"),
        "the probe could not lock 64 MiB",
    );
    b.expect_exit(42);
}

/// `--memlock unlimited --user app` as root with every capability takes the
/// rlimit path (and `--check` says so first): soft and hard unlimited in the
/// child, no capability at all, and it locks far more than the 8 MiB default.
#[test]
fn vm_memlock_rlimit_path_with_sys_resource() {
    let opts = "--memlock unlimited --user app";
    let b = via_vmtool(
        "memlock-rlimit",
        &check_first(&format!("{} /probe", opts)),
        &format!("{} {}", opts, STATUS_AND_LOCK),
        &[],
    );
    let finding = check_memlock_finding(&b);
    b.check(
        finding.contains("RLIMIT_MEMLOCK")
            && finding.contains("CAP_SYS_RESOURCE")
            && !finding.contains("ambient"),
        &format!("--check does not announce the rlimit path: {:?}", finding),
    );
    b.expect_value("Uid", "1000 1000 1000 1000");
    b.expect_value("Gid", "1000 1000 1000 1000");
    b.expect_value("Groups", "1000 2000");
    b.expect_value("PPid", "1");
    for set in ["CapInh", "CapPrm", "CapEff", "CapAmb"] {
        b.check(cap_mask(&b, set) == 0, &format!("{} is not empty", set));
    }
    b.check(
        limit(&b, "rlimit.memlock") == (u64::MAX, u64::MAX),
        "RLIMIT_MEMLOCK is not unlimited:unlimited in the child",
    );
    b.check(
        b.has_line("mlock ok bytes=67108864"),
        "the probe could not lock 64 MiB",
    );
    let vmlck: u64 = b
        .lines()
        .iter()
        .find_map(|l| l.split("VmLck_kB=").nth(1))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    b.check(vmlck * 1024 >= 64 * MIB, "VmLck is below 64 MiB");
    b.expect_exit(0);
}

/// SYS_RESOURCE removed from the bounding set before lockdrop starts: the
/// hard limit stays 8 MiB, CAP_IPC_LOCK is kept ambient (`--check` says so
/// first) and the child locks 64 MiB anyway; lockdrop says so in one notice
/// line.
#[test]
fn vm_memlock_ambient_path_without_sys_resource() {
    let opts = "--memlock unlimited --user app";
    let b = via_vmtool(
        "memlock-ambient",
        &format!(
            "--drop-bound sys_resource {}",
            check_first(&format!("{} /probe", opts))
        ),
        &format!("{} {}", opts, STATUS_AND_LOCK),
        &[],
    );
    let finding = check_memlock_finding(&b);
    b.check(
        finding.contains("ambient") && finding.contains("IPC_LOCK"),
        &format!("--check does not announce the ambient path: {:?}", finding),
    );
    b.expect_value("Uid", "1000 1000 1000 1000");
    b.check(
        cap_mask(&b, "CapBnd") & SYS_RESOURCE == 0,
        "SYS_RESOURCE is still in the bounding set",
    );
    b.check(
        cap_mask(&b, "CapAmb") == IPC_LOCK,
        "CapAmb is not exactly IPC_LOCK",
    );
    b.check(
        cap_mask(&b, "CapEff") == IPC_LOCK,
        "CapEff is not exactly IPC_LOCK",
    );
    b.check(
        limit(&b, "rlimit.memlock") == (8 * MIB, 8 * MIB),
        "RLIMIT_MEMLOCK is not the boot default 8 MiB",
    );
    b.check(
        b.has_line("mlock ok bytes=67108864"),
        "the probe could not lock 64 MiB through ambient CAP_IPC_LOCK",
    );
    let notices: Vec<&str> = lockdrop_lines(&b)
        .into_iter()
        .filter(|l| l.contains("IPC_LOCK"))
        .collect();
    b.check(
        notices.len() == 1 && notices[0].contains("ambient"),
        "expected one notice line about ambient CAP_IPC_LOCK",
    );
    b.expect_exit(0);
}

/// Neither SYS_RESOURCE nor IPC_LOCK: nothing runs, exit 125, and the error
/// names the fixes.
#[test]
fn vm_memlock_fails_without_sys_resource_and_ipc_lock() {
    let b = via_vmtool(
        "memlock-impossible",
        "--drop-bound sys_resource,ipc_lock",
        &format!("--memlock unlimited --user app {}", STATUS_AND_LOCK),
        &[],
    );
    let text = lockdrop_lines(&b).join("\n");
    b.check(text.contains("lockdrop: error:"), "no error line");
    b.check(
        text.contains("--ulimit memlock=-1:-1") && text.contains("--cap-add IPC_LOCK"),
        "the error does not name the docker fixes",
    );
    b.check(
        !b.has_line("Uid=") && !b.has_line("mlock"),
        "the command ran",
    );
    b.expect_exit(125);
}

/// nofile and nproc raised above the kernel's defaults for init (hard limits
/// too, which needs SYS_RESOURCE) survive the switch to `app`.
#[test]
fn vm_nofile_nproc_raised_and_kept_after_user_switch() {
    let b = via_vmtool(
        "nofile-nproc",
        "",
        "--rlimit nofile=1048576 --rlimit nproc=65536:131072 --user app /probe status",
        &[],
    );
    let boot_nofile = b.value("vmtool: boot rlimit.nofile").map(str::to_string);
    let boot_nproc = b.value("vmtool: boot rlimit.nproc").map(str::to_string);
    b.check(
        boot_nofile.as_deref() == Some("1024:4096"),
        &format!("unexpected boot nofile {:?}", boot_nofile),
    );
    b.expect_value("Uid", "1000 1000 1000 1000");
    b.check(
        limit(&b, "rlimit.nofile") == (1048576, 1048576),
        &format!("nofile is not 1048576:1048576 (boot {:?})", boot_nofile),
    );
    b.check(
        limit(&b, "rlimit.nproc") == (65536, 131072),
        &format!("nproc is not 65536:131072 (boot {:?})", boot_nproc),
    );
    b.expect_exit(0);
}

/// Supervise as the kernel's PID 1: a second process (vmtool's relay, root,
/// started before lockdrop) sends signals to PID 1 one at a time, each after
/// the previous one came back from the probe; each must arrive exactly once
/// (real-time ones included). Then the relay SIGKILLs the probe directly:
/// lockdrop exits 128+9.
#[test]
fn vm_supervise_forwards_signals_sent_to_pid1() {
    let sent = ["10", "1", "12", "28", "40", "64", "15"];
    let b = via_vmtool(
        "supervise-signals",
        &format!("--relay {},all:9", sent.join(",")),
        "--user app /probe signals --stay",
        &[],
    );
    b.check(b.has_line("ready"), "the probe never became ready");
    for s in sent {
        let n = b.count_lines(&format!("sig {}", s));
        b.check(n == 1, &format!("signal {} arrived {} times", s, n));
    }
    b.check(
        b.init_status.unwrap_or(0) & 0x7f == 0,
        "lockdrop itself died of a signal",
    );
    b.expect_exit(137);
}

/// Orphans double-forked by the probe are re-parented to PID 1 (lockdrop);
/// none stays a zombie, and the main child's exit code comes back in the
/// kernel's panic line.
#[test]
fn vm_supervise_reaps_orphans_and_passes_exit_code() {
    let script = Entry::file(
        "/scen/orphans.sh",
        0o755,
        "#!/bin/sh\n/probe orphans 300\n/vmtool zombies\nexit 42\n",
    );
    let b = via_vmtool(
        "supervise-orphans",
        "",
        "--user app /scen/orphans.sh",
        &[script],
    );
    b.check(b.has_line("orphans 300"), "the probe made no orphans");
    b.check(b.has_line("zombies=0"), "zombies remained");
    b.expect_exit(42);
}

/// The optional scenario of the issue, cheap enough to keep: a real JVM
/// (examples/java/MemoryLock.java through JNA, Elasticsearch's memory-lock
/// check in miniature) started by lockdrop as PID 1 with `--memlock
/// unlimited --user app` fills 64 MiB of a pre-touched 128 MiB heap (the
/// runc tier's sizes) and mlockall()s it, unprivileged, on the rlimit path.
#[test]
fn vm_java_memorylock_locks_its_heap() {
    let jre = java::entries();
    let b = boot_with(
        "java-memorylock",
        "/vmtool",
        &format!(
            "init /lockdrop --memlock unlimited --user app {} -Xms128m -Xmx128m \
             -XX:+AlwaysPreTouch -XX:-UsePerfData -cp {} MemoryLock 64",
            java::JAVA,
            java::CLASSPATH
        ),
        jre,
        768,
    );
    let who = b
        .lines()
        .into_iter()
        .find(|l| l.starts_with("memorylock: uid"))
        .unwrap_or("");
    b.check(
        who.contains("uid 1000") && who.contains("RLIMIT_MEMLOCK soft unlimited hard unlimited"),
        &format!(
            "the JVM did not run as app with memlock unlimited: {:?}",
            who
        ),
    );
    b.check(
        b.has_line("memorylock: mlockall ok: heap 64 MiB"),
        "the JVM could not lock its heap",
    );
    b.expect_exit(0);
}
