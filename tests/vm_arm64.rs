//! The real-kernel tier on arm64: Debian's arm64 cloud kernel under
//! qemu-system-aarch64 (software emulation, `virt` board) with the aarch64
//! release binary as PID 1, where it holds every capability. The same
//! harness as tests/vm.rs (vm/harness.rs); the guest pieces come from
//! scripts/arm64-guest.sh (kernel and busybox-static from Debian's arm64
//! archive, lockdrop and the probe from scripts/cross.sh).
//!
//! Each scenario's init is a busybox shell script that mounts /proc and
//! execs lockdrop, so lockdrop is PID 1 with nothing in between; the kernel's
//! "Attempted to kill init! exitcode=0x…" panic carries its exit status.
//! Nothing skips: a missing qemu-system-aarch64 fails (CI installs
//! qemu-system-arm).
// Probes and fixtures make raw syscalls; Cargo.toml denies `unsafe` by default.
#![allow(unsafe_code)]

#[path = "vm/harness.rs"]
mod harness;

use harness::{boot_on, Boot, Entry, Machine};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const MIB: u64 = 1 << 20;
const IPC_LOCK: u64 = 1 << 14;

/// KEY=PATH lines of scripts/arm64-guest.sh (fetched and built once).
fn guest() -> &'static HashMap<String, PathBuf> {
    static G: OnceLock<HashMap<String, PathBuf>> = OnceLock::new();
    G.get_or_init(|| {
        let root = env!("CARGO_MANIFEST_DIR");
        let out = std::process::Command::new(Path::new(root).join("scripts/arm64-guest.sh"))
            .current_dir(root)
            .stderr(std::process::Stdio::inherit())
            .output()
            .expect("run scripts/arm64-guest.sh");
        assert!(
            out.status.success(),
            "scripts/arm64-guest.sh failed (it needs the Debian mirrors once, rust-src and rust-lld)"
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), PathBuf::from(v)))
            .collect()
    })
}

fn kernel() -> &'static Path {
    &guest()["kernel"]
}

fn base() -> &'static [Entry] {
    static B: OnceLock<Vec<Entry>> = OnceLock::new();
    B.get_or_init(|| {
        let g = guest();
        let file = |k: &str| {
            harness::read_static(&g[k], "scripts/arm64-guest.sh")
                .unwrap_or_else(|e| panic!("arm64 VM tier: {}", e))
        };
        let mut v = vec![
            Entry::dir("/bin", 0o755),
            Entry::dir("/dev", 0o755),
            Entry::chardev("/dev/console", 0o600, 5, 1),
            Entry::dir("/etc", 0o755),
            Entry::dir("/home", 0o755),
            Entry::dir("/home/app", 0o755),
            Entry::dir("/proc", 0o555),
            Entry::dir("/scen", 0o755),
            Entry::file(
                "/etc/passwd",
                0o644,
                "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n",
            ),
            Entry::file(
                "/etc/group",
                0o644,
                "root:x:0:\napp:x:1000:\nmemlockers:x:2000:app\n",
            ),
            Entry::file("/bin/busybox", 0o755, file("busybox")),
            Entry::file("/lockdrop", 0o755, file("lockdrop")),
            Entry::file("/probe", 0o755, file("probe")),
        ];
        for applet in ["sh", "cat", "kill", "mount", "echo", "uname"] {
            v.push(Entry::symlink(&format!("/bin/{}", applet), "busybox"));
        }
        v
    })
}

const ARM64: Machine = Machine {
    qemu: "qemu-system-aarch64",
    qemu_args: &["-M", "virt", "-cpu", "cortex-a57"],
    console: "ttyAMA0",
    kernel,
    base,
};

/// Boots with /scen/init (a shell script: mount /proc, then `exec` the
/// given line, which starts with /lockdrop) as the kernel's first process.
fn boot(name: &str, exec: &str, extra: &[Entry]) -> Boot {
    let mut files = vec![Entry::file(
        "/scen/init",
        0o755,
        format!(
            "#!/bin/sh\nmount -t proc proc /proc\necho scenario {} on $(uname -m)\nexec {}\n",
            name, exec
        ),
    )];
    files.extend(
        extra
            .iter()
            .map(|e| Entry::file(&e.path, e.mode, e.data.clone())),
    );
    let b = boot_on(&ARM64, name, "/scen/init", "", &files, 256);
    b.check(
        b.has_line(&format!("scenario {} on aarch64", name)),
        "the guest is not an aarch64 kernel",
    );
    b
}

fn cap_mask(b: &Boot, key: &str) -> u64 {
    let v = b.value(key);
    b.check(v.is_some(), &format!("the probe printed no {}", key));
    u64::from_str_radix(v.unwrap_or("0"), 16).unwrap_or(u64::MAX)
}

/// As root with every capability (CAP_SYS_RESOURCE included, which no
/// container here has), `--memlock-via rlimit` raises RLIMIT_MEMLOCK to
/// unlimited; the child runs as app with no capability, locks 64 MiB, and
/// its exit status comes through as PID 1's.
#[test]
fn vm_arm64_rlimit_path_with_full_root() {
    let b = boot(
        "arm64-rlimit",
        "/lockdrop --memlock unlimited --memlock-via rlimit --user app /probe status , mlock 64M , exit 42",
        &[],
    );
    b.expect_value("Uid", "1000 1000 1000 1000");
    b.expect_value("Groups", "1000 2000");
    b.expect_value("PPid", "1");
    b.expect_value("rlimit.memlock", "unlimited:unlimited");
    for set in ["CapInh", "CapPrm", "CapEff", "CapAmb"] {
        b.check(cap_mask(&b, set) == 0, &format!("{} is not empty", set));
    }
    b.check(
        b.has_line("mlock ok bytes=67108864"),
        "the probe could not lock 64 MiB",
    );
    b.expect_exit(42);
}

/// `--memlock-via ambient`: the limit stays the kernel's 8 MiB default,
/// CAP_IPC_LOCK is the child's only (ambient) capability, and it locks
/// 64 MiB anyway.
#[test]
fn vm_arm64_ambient_path() {
    let b = boot(
        "arm64-ambient",
        "/lockdrop --memlock unlimited --memlock-via ambient --user app /probe status , mlock 64M",
        &[],
    );
    b.expect_value("Uid", "1000 1000 1000 1000");
    b.expect_value("rlimit.memlock", &format!("{}:{}", 8 * MIB, 8 * MIB));
    for set in ["CapPrm", "CapEff", "CapAmb"] {
        b.check(
            cap_mask(&b, set) == IPC_LOCK,
            &format!("{} is not IPC_LOCK alone", set),
        );
    }
    b.check(
        b.has_line("mlock ok bytes=67108864"),
        "the probe could not lock 64 MiB with ambient CAP_IPC_LOCK",
    );
    b.expect_exit(0);
}

/// Signals sent to PID 1 reach the command's process group once each: a
/// shell (ignoring them itself) reads the probe's lines and signals PID 1
/// after each, so every step waits for the previous one; SIGTERM ends the
/// probe and the status 0 comes through.
#[test]
fn vm_arm64_signals_forwarded_once() {
    let relay = "trap '' USR1 HUP TERM\n\
        /probe signals | { read r; echo \"relay $r\"; kill -USR1 1; read s; echo \"relay $s\"; \
        kill -HUP 1; read s; echo \"relay $s\"; kill -TERM 1; cat; }\n";
    let b = boot(
        "arm64-signals",
        "/lockdrop --process-group /bin/sh /scen/relay",
        &[Entry::file("/scen/relay", 0o755, relay)],
    );
    b.check(b.has_line("relay ready"), "the probe did not start");
    for s in [libc::SIGUSR1, libc::SIGHUP, libc::SIGTERM] {
        let line = format!("sig {}", s);
        let n = b.count_lines(&line) + b.count_lines(&format!("relay {}", line));
        b.check(n == 1, &format!("{} seen {} times", line, n));
    }
    b.expect_exit(0);
}

/// A command killed by a signal: PID 1 exits 128 + N (SIGKILL: 137).
#[test]
fn vm_arm64_exit_code_of_a_killed_command() {
    let b = boot("arm64-killed", "/lockdrop /probe kill 9", &[]);
    b.expect_exit(137);
}
