//! The VM tier's machinery: fetch the Debian cloud kernel once, build an
//! initramfs (newc cpio written here, no external tool) holding busybox, the
//! static lockdrop, probe and vmtool, fixture /etc/passwd and /etc/group, and
//! boot it with qemu (software emulation, serial console, no network, no
//! disk). The guest's first process is lockdrop itself, or vmtool which
//! prepares /proc and the bounding set and then execs lockdrop in the same
//! process; either way lockdrop is PID 1 and its exit panics the kernel with
//! "Attempted to kill init! exitcode=0x…", which is how the exit status comes
//! back. `panic=-1` plus `-no-reboot` make qemu exit right after.
//!
//! Nothing here skips: a missing qemu, kernel, busybox-static or gcc is a
//! failure naming the Debian package to install.
#![allow(dead_code)]

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{mpsc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The kernel metapackage; its dependency names the versioned image.
pub const KERNEL_PACKAGE: &str = "linux-image-cloud-amd64";
const QEMU: &str = "qemu-system-x86_64";
/// A boot to a result takes ~3 s under TCG; this only guards against a hang.
const BOOT_TIMEOUT: Duration = Duration::from_secs(180);

const PASSWD: &str = "\
root:x:0:0:root:/root:/bin/sh
app:x:1000:1000:app user:/home/app:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
";
const GROUP: &str = "\
root:x:0:
app:x:1000:
memlockers:x:2000:app
nogroup:x:65534:
";

fn target_dir() -> PathBuf {
    // CARGO_TARGET_TMPDIR is <target-dir>[/<triple>]/tmp; cargo marks the
    // target directory itself with CACHEDIR.TAG (so does <triple>/, hence the
    // outermost one).
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.ancestors()
        .skip(1)
        .take(3)
        .filter(|d| d.join("CACHEDIR.TAG").is_file())
        .last()
        .or_else(|| tmp.parent())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("target"))
}

/// Where the kernel is cached between runs.
pub fn cache_dir() -> PathBuf {
    target_dir().join("vm-cache")
}

/// Where each boot's console is kept for reading after the run.
pub fn log_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("vm")
}

fn run(cmd: &mut Command, what: &str) -> Result<String, String> {
    let out = cmd
        .output()
        .map_err(|e| format!("{}: cannot run: {}", what, e))?;
    if !out.status.success() {
        return Err(format!(
            "{}: {}: {}",
            what,
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The versioned image package `linux-image-cloud-amd64` depends on.
fn kernel_image_package() -> Result<String, String> {
    let deps = run(
        Command::new("apt-cache").args(["depends", KERNEL_PACKAGE]),
        &format!("apt-cache depends {}", KERNEL_PACKAGE),
    )?;
    deps.lines()
        .filter_map(|l| l.trim().strip_prefix("Depends: "))
        .map(str::trim)
        .find(|p| p.starts_with("linux-image-"))
        .map(str::to_string)
        .ok_or_else(|| {
            format!(
                "apt-cache knows no image package behind {} (run `apt-get update`):\n{}",
                KERNEL_PACKAGE, deps
            )
        })
}

/// Downloads the kernel package with `apt-get download` and extracts only its
/// vmlinuz with `dpkg-deb -x` into the cache. Never installs anything.
fn fetch_kernel() -> Result<PathBuf, String> {
    if let Some(k) = std::env::var_os("LOCKDROP_VM_KERNEL") {
        let k = PathBuf::from(k);
        return if k.is_file() {
            Ok(k)
        } else {
            Err(format!("LOCKDROP_VM_KERNEL={} is not a file", k.display()))
        };
    }
    let cache = cache_dir();
    fs::create_dir_all(&cache).map_err(|e| format!("mkdir {}: {}", cache.display(), e))?;
    let cached = || -> Option<PathBuf> {
        let mut v: Vec<PathBuf> = fs::read_dir(&cache)
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("vmlinuz-"))
            })
            .collect();
        v.sort();
        v.pop()
    };
    let package = match kernel_image_package() {
        Ok(p) => p,
        // Offline but fetched before: the cached kernel is as good.
        Err(e) => return cached().ok_or(e),
    };
    let version = package.trim_start_matches("linux-image-");
    let kernel = cache.join(format!("vmlinuz-{}", version));
    if kernel.is_file() {
        return Ok(kernel);
    }
    // A private scratch directory and an atomic rename: concurrent test runs
    // sharing the target directory never see a half-written kernel.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let scratch = cache.join(format!("fetch-{}-{}", std::process::id(), nanos));
    fs::create_dir_all(&scratch).map_err(|e| format!("mkdir {}: {}", scratch.display(), e))?;
    let result = (|| {
        run(
            Command::new("apt-get")
                // Downloading as root into a directory _apt cannot enter.
                .args(["-q", "-o", "APT::Sandbox::User=root", "download", &package])
                .current_dir(&scratch),
            &format!(
                "apt-get download {} (the kernel of the Debian package {}; needs the Debian \
                 mirrors and `apt-get update`)",
                package, KERNEL_PACKAGE
            ),
        )?;
        let deb = fs::read_dir(&scratch)
            .map_err(|e| e.to_string())?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| p.extension().is_some_and(|x| x == "deb"))
            .ok_or_else(|| format!("apt-get download {} left no .deb", package))?;
        let root = scratch.join("root");
        run(
            Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&root),
            &format!("dpkg-deb -x {}", deb.display()),
        )?;
        let image = root.join("boot").join(format!("vmlinuz-{}", version));
        fs::rename(&image, &kernel)
            .map_err(|e| format!("{} → {}: {}", image.display(), kernel.display(), e))?;
        Ok(kernel.clone())
    })();
    let _ = fs::remove_dir_all(&scratch);
    match (result, cached()) {
        (Ok(k), _) => Ok(k),
        // The package lists know a newer kernel than the cache holds, but
        // the mirrors are out of reach: the cached one still tests lockdrop.
        (Err(e), Some(old)) => {
            eprintln!("VM tier: {}; using the cached {}", e, old.display());
            Ok(old)
        }
        (Err(e), None) => Err(e),
    }
}

/// The guest kernel, fetched once per test run.
pub fn kernel() -> &'static Path {
    static K: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match K.get_or_init(fetch_kernel) {
        Ok(p) => p,
        Err(e) => panic!(
            "VM tier: no guest kernel: {}\n(the tier fetches the Debian package {} itself with \
             `apt-get download`, which needs `apt-get update` and the Debian mirrors; or set \
             LOCKDROP_VM_KERNEL to a kernel image with 8250 serial and initramfs support built in)",
            e, KERNEL_PACKAGE
        ),
    }
}

/// True when the ELF file has no program interpreter (a static executable).
fn is_static_elf(bytes: &[u8]) -> bool {
    let u16_at = |o: usize| u16::from_le_bytes([bytes[o], bytes[o + 1]]) as usize;
    if bytes.len() < 64 || &bytes[..4] != b"\x7fELF" || bytes[4] != 2 {
        return false;
    }
    let phoff = u64::from_le_bytes(bytes[32..40].try_into().unwrap()) as usize;
    let (phentsize, phnum) = (u16_at(54), u16_at(56));
    (0..phnum).all(|i| {
        let o = phoff + i * phentsize;
        // PT_INTERP = 3: a dynamic executable would need a loader in the guest.
        bytes.len() >= o + 4 && u32::from_le_bytes(bytes[o..o + 4].try_into().unwrap()) != 3
    })
}

pub fn read_static(path: &Path, package_hint: &str) -> Result<Vec<u8>, String> {
    let bytes =
        fs::read(path).map_err(|e| format!("{}: {} ({})", path.display(), e, package_hint))?;
    if !is_static_elf(&bytes) {
        return Err(format!(
            "{} is not a static executable; the guest has no libc ({})",
            path.display(),
            package_hint
        ));
    }
    Ok(bytes)
}

/// The lockdrop binary under test and the probe built beside it.
pub fn lockdrop_path() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_lockdrop"))
}

fn example_path(name: &str) -> PathBuf {
    let bin = lockdrop_path();
    bin.parent()
        .unwrap_or(Path::new("."))
        .join("examples")
        .join(name)
}

/// Compiles tests/vm/vmtool.c statically.
fn build_vmtool() -> Result<Vec<u8>, String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vm/vmtool.c");
    let dir = log_dir();
    fs::create_dir_all(&dir).map_err(|e| format!("mkdir {}: {}", dir.display(), e))?;
    let out = dir.join(format!("vmtool-{}", std::process::id()));
    run(
        Command::new("gcc")
            .args(["-static", "-O2", "-Wall", "-o"])
            .arg(&out)
            .arg(&src),
        "gcc -static tests/vm/vmtool.c (Debian packages gcc and libc6-dev)",
    )?;
    let bytes = read_static(&out, "gcc -static")?;
    let _ = fs::remove_file(&out);
    Ok(bytes)
}

/// A file, directory, symlink or device node of the initramfs.
pub struct Entry {
    pub path: String,
    pub mode: u32,
    pub data: Vec<u8>,
    pub rdev: (u32, u32),
}

impl Entry {
    pub fn file(path: &str, mode: u32, data: impl Into<Vec<u8>>) -> Entry {
        Entry {
            path: path.into(),
            mode: 0o100000 | mode,
            data: data.into(),
            rdev: (0, 0),
        }
    }
    pub fn dir(path: &str, mode: u32) -> Entry {
        Entry {
            path: path.into(),
            mode: 0o040000 | mode,
            data: vec![],
            rdev: (0, 0),
        }
    }
    pub fn symlink(path: &str, target: &str) -> Entry {
        Entry {
            path: path.into(),
            mode: 0o120777,
            data: target.into(),
            rdev: (0, 0),
        }
    }
    pub fn chardev(path: &str, mode: u32, major: u32, minor: u32) -> Entry {
        Entry {
            path: path.into(),
            mode: 0o020000 | mode,
            data: vec![],
            rdev: (major, minor),
        }
    }
}

/// Appends entries as a newc cpio archive (the format the kernel unpacks;
/// see Documentation/driver-api/early-userspace/buffer-format.rst). Owner
/// is root for everything but /home/app.
fn cpio(entries: &[&Entry]) -> Vec<u8> {
    fn pad4(out: &mut Vec<u8>) {
        while out.len() % 4 != 0 {
            out.push(0);
        }
    }
    fn put(
        out: &mut Vec<u8>,
        ino: u32,
        name: &str,
        mode: u32,
        owner: u32,
        data: &[u8],
        rdev: (u32, u32),
    ) {
        // ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor
        // rdevminor namesize check
        let fields = [
            ino,
            mode,
            owner,
            owner,
            1,
            0,
            data.len() as u32,
            0,
            0,
            rdev.0,
            rdev.1,
            name.len() as u32 + 1,
            0,
        ];
        out.extend_from_slice(b"070701");
        for f in fields {
            out.extend_from_slice(format!("{:08x}", f).as_bytes());
        }
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        pad4(out);
        out.extend_from_slice(data);
        pad4(out);
    }
    let mut out = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let name = e.path.trim_start_matches('/');
        let owner = if name == "home/app" { 1000 } else { 0 };
        put(&mut out, i as u32 + 1, name, e.mode, owner, &e.data, e.rdev);
    }
    put(&mut out, 0, "TRAILER!!!", 0, 0, &[], (0, 0));
    out
}

/// The entries every boot shares.
fn base_entries() -> Result<Vec<Entry>, String> {
    let busybox = read_static(
        Path::new("/bin/busybox"),
        "install the Debian package busybox-static",
    )?;
    // `cargo test --test vm` alone builds no examples; scripts/test.sh does.
    let built =
        "scripts/test.sh builds it: cargo build --release --target <triple> --bins --examples";
    let lockdrop = read_static(&lockdrop_path(), built)?;
    let probe = read_static(&example_path("probe"), built)?;
    let mut v = vec![
        Entry::dir("/bin", 0o755),
        Entry::dir("/dev", 0o755),
        Entry::chardev("/dev/console", 0o600, 5, 1),
        Entry::dir("/etc", 0o755),
        Entry::dir("/home", 0o755),
        Entry::dir("/home/app", 0o755),
        Entry::dir("/proc", 0o555),
        Entry::dir("/root", 0o700),
        Entry::dir("/scen", 0o755),
        Entry::dir("/tmp", 0o1777),
        Entry::file("/etc/passwd", 0o644, PASSWD),
        Entry::file("/etc/group", 0o644, GROUP),
        Entry::file("/bin/busybox", 0o755, busybox),
        Entry::file("/lockdrop", 0o755, lockdrop),
        Entry::file("/probe", 0o755, probe),
        Entry::file("/vmtool", 0o755, build_vmtool()?),
    ];
    for applet in ["sh", "cat", "kill", "ls", "ps", "grep", "mount", "echo"] {
        v.push(Entry::symlink(&format!("/bin/{}", applet), "busybox"));
    }
    Ok(v)
}

fn base() -> &'static [Entry] {
    static B: OnceLock<Result<Vec<Entry>, String>> = OnceLock::new();
    match B.get_or_init(|| {
        // Consoles of an earlier run would mix with this run's.
        if let Ok(d) = fs::read_dir(log_dir()) {
            for e in d.flatten() {
                if e.path().extension().is_some_and(|x| x == "log") {
                    let _ = fs::remove_file(e.path());
                }
            }
        }
        base_entries()
    }) {
        Ok(v) => v,
        Err(e) => panic!("VM tier: cannot build the initramfs: {}", e),
    }
}

fn qemu_present() -> Result<(), String> {
    match Command::new(QEMU)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(format!("{} --version: {}", QEMU, s)),
        Err(e) => Err(format!(
            "{} not found ({}): install the Debian package qemu-system-x86",
            QEMU, e
        )),
    }
}

/// What one boot showed.
pub struct Boot {
    pub name: String,
    pub cmdline: String,
    /// Everything the serial console printed, `\r` removed.
    pub console: String,
    /// The raw wait status from "Attempted to kill init! exitcode=0x…".
    pub init_status: Option<u32>,
    /// Guest uptime at the panic (printk timestamp), seconds.
    pub uptime: Option<f64>,
    /// Host wall-clock time from qemu start to exit.
    pub wall: Duration,
}

impl Boot {
    /// Lines before the kernel panic (the scenario's own output).
    pub fn lines(&self) -> Vec<&str> {
        self.console
            .lines()
            .take_while(|l| !l.contains("Kernel panic - not syncing"))
            .collect()
    }

    /// PID 1's exit code, when it exited normally.
    pub fn exit_code(&self) -> Option<u32> {
        self.init_status
            .filter(|s| s & 0x7f == 0)
            .map(|s| (s >> 8) & 0xff)
    }

    /// The value of the first `key=value` line printed by the probe.
    pub fn value(&self, key: &str) -> Option<&str> {
        let prefix = format!("{}=", key);
        self.lines()
            .into_iter()
            .find_map(|l| l.trim().strip_prefix(prefix.as_str()))
    }

    pub fn has_line(&self, prefix: &str) -> bool {
        self.lines().iter().any(|l| l.trim().starts_with(prefix))
    }

    pub fn count_lines(&self, exact: &str) -> usize {
        self.lines().iter().filter(|l| l.trim() == exact).count()
    }

    /// Panics with the whole console unless `cond`.
    pub fn check(&self, cond: bool, what: &str) {
        if !cond {
            panic!(
                "VM scenario {}: {}\nkernel command line: {}\n--- console ---\n{}\n--- end ---",
                self.name, what, self.cmdline, self.console
            );
        }
    }

    pub fn expect_exit(&self, code: u32) {
        self.check(
            self.exit_code() == Some(code),
            &format!(
                "expected PID 1 to exit {} (panic exitcode=0x{:08x}), got status {:?}",
                code,
                code << 8,
                self.init_status.map(|s| format!("0x{:08x}", s))
            ),
        );
    }

    pub fn expect_value(&self, key: &str, want: &str) {
        let got = self.value(key);
        self.check(
            got == Some(want),
            &format!("expected {}={}, got {:?}", key, want, got),
        );
    }
}

/// One VM at a time: TCG is CPU-bound and the machine is shared.
static VM_LOCK: Mutex<()> = Mutex::new(());

/// Boots the guest with `init` as its first process and `args` as that
/// process's arguments, split at spaces as the kernel splits its command
/// line (so no argument can hold a space). `extra` entries are added to the
/// initramfs.
pub fn boot(name: &str, init: &str, args: &str, extra: &[Entry]) -> Boot {
    boot_with(name, init, args, extra, 256)
}

/// `boot` with `mem_mib` of guest memory (the initramfs is unpacked into it).
pub fn boot_with(name: &str, init: &str, args: &str, extra: &[Entry], mem_mib: u32) -> Boot {
    if let Err(e) = qemu_present() {
        panic!("VM tier: {}", e);
    }
    boot_on(&X86_64, name, init, args, extra, mem_mib)
}

/// The emulated machine a boot runs on: x86_64 (this file's kernel and
/// initramfs) or arm64 (tests/vm_arm64.rs).
pub struct Machine {
    pub qemu: &'static str,
    pub qemu_args: &'static [&'static str],
    pub console: &'static str,
    pub kernel: fn() -> &'static Path,
    pub base: fn() -> &'static [Entry],
}

pub const X86_64: Machine = Machine {
    qemu: QEMU,
    qemu_args: &[],
    console: "ttyS0",
    kernel,
    base,
};

/// Boots `machine` (see `boot_with`).
pub fn boot_on(
    machine: &Machine,
    name: &str,
    init: &str,
    args: &str,
    extra: &[Entry],
    mem_mib: u32,
) -> Boot {
    let kernel = (machine.kernel)();
    let base = (machine.base)();
    let argv: Vec<&str> = args.split_whitespace().collect();
    assert!(
        !args.contains('"'),
        "VM tier: no quotes in init arguments: {:?}",
        args
    );
    // The kernel's parse_args stops at a second "--" and drops the rest
    // (kernel/params.c), so init never sees one: lockdrop's command starts at
    // its first non-option word instead.
    assert!(
        !argv.contains(&"--"),
        "VM tier: init arguments cannot contain \"--\": {:?}",
        args
    );
    // init's argv is capped at CONFIG_INIT_ENV_ARG_LIMIT=32 entries.
    assert!(argv.len() < 31, "VM tier: too many init arguments");
    // Everything before `--` is a kernel parameter the kernel knows (unknown
    // ones would be passed to init too); everything after goes to init's argv.
    let cmdline = format!(
        "console={} quiet panic=-1 rdinit={} -- {}",
        machine.console,
        init,
        argv.join(" ")
    );
    assert!(
        cmdline.len() < 2000,
        "VM tier: kernel command line too long"
    );

    let entries: Vec<&Entry> = base.iter().chain(extra.iter()).collect();
    let image = cpio(&entries);
    let dir = log_dir();
    fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("mkdir {}: {}", dir.display(), e));
    let initrd = dir.join(format!("{}.cpio", name));
    fs::write(&initrd, &image).unwrap_or_else(|e| panic!("write {}: {}", initrd.display(), e));

    let _one_at_a_time = VM_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let start = Instant::now();
    let mut child = Command::new(machine.qemu)
        .args(machine.qemu_args)
        .args(["-accel", "tcg", "-smp", "1"])
        .arg("-m")
        .arg(format!("{}M", mem_mib))
        .args(["-nodefaults", "-no-reboot", "-display", "none"])
        .args(["-serial", "stdio"])
        .arg("-kernel")
        .arg(kernel)
        .arg("-initrd")
        .arg(&initrd)
        .arg("-append")
        .arg(&cmdline)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("VM tier: cannot start {}: {}", machine.qemu, e));
    let pid = child.id();
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stdout.read_to_end(&mut buf);
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stderr.read_to_end(&mut buf);
        buf
    });
    let (tx, rx) = mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    let status = match rx.recv_timeout(BOOT_TIMEOUT) {
        Ok(s) => Some(s),
        Err(_) => {
            // SAFETY: pid is our unreaped child (the waiter still holds it).
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            None
        }
    };
    let _ = waiter.join();
    let wall = start.elapsed();
    let console = String::from_utf8_lossy(&reader.join().unwrap_or_default()).replace('\r', "");
    let qemu_err = String::from_utf8_lossy(&err_reader.join().unwrap_or_default()).into_owned();
    drop(_one_at_a_time);
    let _ = fs::write(dir.join(format!("{}.log", name)), &console);
    let _ = fs::remove_file(&initrd);

    let panic_line = console
        .lines()
        .find(|l| l.contains("Attempted to kill init! exitcode=0x"));
    let init_status = panic_line.and_then(|l| {
        let hex = l.split("exitcode=0x").nth(1)?;
        u32::from_str_radix(hex.trim(), 16).ok()
    });
    let uptime = panic_line.and_then(|l| {
        let t = l.trim_start().strip_prefix('[')?.split(']').next()?;
        t.trim().parse().ok()
    });
    let boot = Boot {
        name: name.into(),
        cmdline,
        console,
        init_status,
        uptime,
        wall,
    };
    boot.check(
        status.is_some(),
        &format!("qemu did not finish within {:?}", BOOT_TIMEOUT),
    );
    boot.check(
        init_status.is_some(),
        &format!(
            "no \"Attempted to kill init\" panic on the console (qemu {:?}; stderr: {})",
            status,
            qemu_err.trim()
        ),
    );
    eprintln!(
        "VM {}: PID 1 status 0x{:08x}, guest uptime {:.2} s, wall {:.2} s",
        boot.name,
        init_status.unwrap_or(0),
        boot.uptime.unwrap_or(f64::NAN),
        wall.as_secs_f64()
    );
    boot
}
