//! OCI bundles for the container tier: a rootfs folder built from files
//! (busybox-static, the static lockdrop, the probe, fixture /etc/passwd and
//! /etc/group) and a config.json written by hand, started with the host's
//! `runc` exactly as Docker, containerd and Kubernetes start containers.
//!
//! Owns: finding the tools (a missing one is a failure that says what to
//! install, never a skip), capability presets, config.json, running and
//! killing containers, and cleaning up (`runc delete -f`, bundle removed) when
//! a `Bundle` is dropped. Does not own what the scenarios assert.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Docker's (and containerd's, so Kubernetes') default capability set:
/// moby `oci/caps/defaults.go`, containerd `oci/spec.go` `defaultUnixCaps`.
pub const DOCKER_DEFAULT_CAPS: &[&str] = &[
    "CHOWN",
    "DAC_OVERRIDE",
    "FSETID",
    "FOWNER",
    "MKNOD",
    "NET_RAW",
    "SETGID",
    "SETUID",
    "SETFCAP",
    "SETPCAP",
    "NET_BIND_SERVICE",
    "SYS_CHROOT",
    "KILL",
    "AUDIT_WRITE",
];

/// `runc spec`'s default: what a bare OCI runtime gives.
pub const RUNC_DEFAULT_CAPS: &[&str] = &["AUDIT_WRITE", "KILL", "NET_BIND_SERVICE"];

/// The capability presets every scenario picks from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caps {
    /// `docker run` with no --cap-add.
    Docker,
    /// `docker run --cap-add IPC_LOCK` / Kubernetes `capabilities.add: ["IPC_LOCK"]`.
    DockerIpcLock,
    /// `--cap-add IPC_LOCK --cap-add SYS_RESOURCE`: runc can only grant it
    /// when the host has CAP_SYS_RESOURCE itself.
    DockerIpcLockSysResource,
    /// runc's own default 3.
    Runc,
}

impl Caps {
    pub fn names(self) -> Vec<&'static str> {
        let mut v: Vec<&str> = match self {
            Caps::Runc => RUNC_DEFAULT_CAPS.to_vec(),
            _ => DOCKER_DEFAULT_CAPS.to_vec(),
        };
        if matches!(self, Caps::DockerIpcLock | Caps::DockerIpcLockSysResource) {
            v.push("IPC_LOCK");
        }
        if self == Caps::DockerIpcLockSysResource {
            v.push("SYS_RESOURCE");
        }
        v
    }
}

/// The fixture users, shaped like the official Elasticsearch image
/// (elasticsearch is uid 1000, gid 1000, and a member of group root).
pub const PASSWD: &str = "\
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
elasticsearch:x:1000:1000:Elasticsearch:/usr/share/elasticsearch:/bin/sh
app:x:1001:1001::/home/app:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
";

pub const GROUP: &str = "\
root:x:0:elasticsearch
daemon:x:1:
tty:x:5:
elasticsearch:x:1000:
app:x:1001:
data:x:2000:elasticsearch,app
nogroup:x:65534:
";

/// busybox applets linked into /bin (the scenarios' shell scripts use these).
const APPLETS: &[&str] = &[
    "sh", "su", "cat", "echo", "grep", "kill", "sleep", "mkfifo", "setsid", "ls", "id", "true",
    "false", "test", "env", "ps", "wc", "touch", "readlink",
];

/// Paths of everything the tier needs, found once.
pub struct Tools {
    pub runc: PathBuf,
    pub busybox: PathBuf,
    pub lockdrop: PathBuf,
    pub probe: PathBuf,
    pub memlock: PathBuf,
    /// `runc --root`: the tier's own state directory, so other users of runc
    /// on the machine (its default /run/runc) never see these containers.
    pub state: PathBuf,
}

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    let found = path
        .split(':')
        .filter(|d| !d.is_empty())
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"])
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file());
    found
}

/// An ELF executable without a PT_INTERP program header needs no dynamic
/// loader, so it runs in a rootfs without libc.
pub fn is_static(path: &Path) -> bool {
    let Ok(b) = std::fs::read(path) else {
        return false;
    };
    let u16_at = |o: usize| u16::from_le_bytes([b[o], b[o + 1]]) as usize;
    if b.len() < 64 || &b[..4] != b"\x7fELF" || b[4] != 2 {
        return false;
    }
    let phoff = u64::from_le_bytes(b[0x20..0x28].try_into().unwrap()) as usize;
    let (size, num) = (u16_at(0x36), u16_at(0x38));
    const PT_INTERP: u32 = 3;
    (0..num).all(|i| {
        let o = phoff + i * size;
        o + 4 <= b.len() && u32::from_le_bytes(b[o..o + 4].try_into().unwrap()) != PT_INTERP
    })
}

/// A missing tool is a failure with the fix, never a skip: CI runs as root
/// with the packages `.ci/run` installs.
pub fn require(name: &str, package: &str) -> PathBuf {
    which(name).unwrap_or_else(|| {
        panic!(
            "the runc container tier needs `{}`: install it (Debian: apt-get install {})",
            name, package
        )
    })
}

pub fn tools() -> &'static Tools {
    static TOOLS: OnceLock<Tools> = OnceLock::new();
    TOOLS.get_or_init(|| {
        // SAFETY: geteuid has no preconditions.
        let euid = unsafe { libc::geteuid() };
        assert_eq!(
            euid, 0,
            "the runc container tier must run as root (CI does): runc needs it to create containers"
        );
        let runc = require("runc", "runc");
        let busybox = require("busybox", "busybox-static");
        assert!(
            is_static(&busybox),
            "{} is dynamically linked: the container rootfs has no libc; install busybox-static",
            busybox.display()
        );
        let lockdrop = PathBuf::from(env!("CARGO_BIN_EXE_lockdrop"));
        let examples = lockdrop
            .parent()
            .expect("binary has a directory")
            .join("examples");
        let probe = examples.join("probe");
        let memlock = examples.join("memlock");
        for p in [&probe, &memlock] {
            assert!(
                p.is_file(),
                "{} is missing: build it with scripts/build.sh (cargo build --release --examples --target ...)",
                p.display()
            );
        }
        for p in [&lockdrop, &probe, &memlock] {
            assert!(
                is_static(p),
                "{} is dynamically linked: the container rootfs has no libc; build with scripts/build.sh (static target)",
                p.display()
            );
        }
        // Container ids carry the test process's pid, so one state directory
        // serves every run without collisions; `runc delete` empties it.
        let state = std::env::temp_dir().join("lockdrop-runc-state");
        std::fs::create_dir_all(&state).expect("create runc state dir");
        Tools {
            runc,
            busybox,
            lockdrop,
            probe,
            memlock,
            state,
        }
    })
}

/// The host's capability bounding set contains `bit` (CapBnd of this process).
pub fn host_has_cap(bit: u32) -> bool {
    let st = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    st.lines()
        .find_map(|l| l.strip_prefix("CapBnd:"))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        .map(|m| m & (1u64 << bit) != 0)
        .unwrap_or(false)
}
pub const CAP_IPC_LOCK: u32 = 14;
pub const CAP_SYS_RESOURCE: u32 = 24;

/// (soft, hard) of an rlimit of this process, `None` = unlimited.
pub fn host_rlimit(name: &str) -> (Option<u64>, Option<u64>) {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    let line = limits
        .lines()
        .find(|l| l.starts_with(name))
        .unwrap_or_else(|| panic!("no {:?} in /proc/self/limits", name));
    let cols: Vec<&str> = line[name.len()..].split_whitespace().collect();
    let v = |s: &str| s.parse::<u64>().ok();
    (v(cols[0]), v(cols[1]))
}

pub fn host_sysctl(path: &str) -> Option<u64> {
    std::fs::read_to_string(Path::new("/proc/sys").join(path))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// What the rootfs holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Image {
    /// busybox, lockdrop, probe, memlock, fixture /etc/passwd and /etc/group.
    Busybox,
    /// lockdrop and the probe only: no shell, no /etc at all (`FROM scratch`).
    Scratch,
}

/// A bind mount from the host into the container.
#[derive(Debug, Clone)]
pub struct Bind {
    pub dest: String,
    pub src: PathBuf,
    pub ro: bool,
}

/// One container: bundle directory, rootfs and the config to write.
pub struct Bundle {
    pub id: String,
    pub dir: PathBuf,
    pub rootfs: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<String>,
    pub caps: Vec<String>,
    /// ("RLIMIT_MEMLOCK", soft, hard); `None` = unlimited. Empty: the
    /// container inherits runc's limits, as Docker's do for memlock.
    pub rlimits: Vec<(&'static str, Option<u64>, Option<u64>)>,
    pub uid: u32,
    pub gid: u32,
    pub no_new_privs: bool,
    pub readonly_root: bool,
    pub binds: Vec<Bind>,
    pub tmpfs: Vec<String>,
}

static SEQ: AtomicUsize = AtomicUsize::new(0);

fn json_str(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\t' => o.push_str("\\t"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

fn json_list<S: AsRef<str>>(v: &[S]) -> String {
    format!(
        "[{}]",
        v.iter()
            .map(|s| json_str(s.as_ref()))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

fn copy_exe(src: &Path, dst: &Path) {
    if let Some(p) = dst.parent() {
        std::fs::create_dir_all(p).unwrap();
    }
    std::fs::copy(src, dst)
        .unwrap_or_else(|e| panic!("copy {} -> {}: {}", src.display(), dst.display(), e));
    std::fs::set_permissions(dst, std::fs::Permissions::from_mode(0o755)).unwrap();
}

impl Bundle {
    /// A Docker-like container: `caps`, uid 0, Docker's default mounts,
    /// masked and read-only /proc paths, no_new_privileges off.
    pub fn new(name: &str, image: Image, caps: Caps) -> Bundle {
        let t = tools();
        let n = SEQ.fetch_add(1, Ordering::SeqCst);
        let id = format!("ld-{}-{}-{}", name, std::process::id(), n);
        let dir = std::env::temp_dir().join(format!("lockdrop-runc-{}", id));
        let _ = std::fs::remove_dir_all(&dir);
        let rootfs = dir.join("rootfs");
        std::fs::create_dir_all(&rootfs).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(&rootfs, std::fs::Permissions::from_mode(0o755)).unwrap();
        copy_exe(&t.lockdrop, &rootfs.join("sbin/lockdrop"));
        copy_exe(&t.probe, &rootfs.join("probe"));
        if image == Image::Busybox {
            copy_exe(&t.busybox, &rootfs.join("bin/busybox"));
            for a in APPLETS {
                std::os::unix::fs::symlink("busybox", rootfs.join("bin").join(a)).unwrap();
            }
            copy_exe(&t.memlock, &rootfs.join("memlock"));
            Bundle::write_in(&rootfs, "etc/passwd", PASSWD, 0o644);
            Bundle::write_in(&rootfs, "etc/group", GROUP, 0o644);
            std::fs::create_dir_all(rootfs.join("tmp")).unwrap();
            std::fs::set_permissions(rootfs.join("tmp"), std::fs::Permissions::from_mode(0o1777))
                .unwrap();
        }
        Bundle {
            id,
            dir,
            rootfs,
            args: vec!["/probe".into(), "status".into()],
            env: vec![
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
                "HOSTNAME=lockdrop-test".into(),
                "HOME=/root".into(),
            ],
            caps: caps.names().iter().map(|s| s.to_string()).collect(),
            rlimits: Vec::new(),
            uid: 0,
            gid: 0,
            no_new_privs: false,
            readonly_root: false,
            binds: Vec::new(),
            tmpfs: Vec::new(),
        }
    }

    fn write_in(rootfs: &Path, rel: &str, contents: &str, mode: u32) -> PathBuf {
        let p = rootfs.join(rel.trim_start_matches('/'));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, contents).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        p
    }

    /// Writes a file into the rootfs (e.g. a different /etc/group).
    pub fn file(&mut self, path: &str, contents: &str, mode: u32) -> &mut Self {
        Bundle::write_in(&self.rootfs, path, contents, mode);
        self
    }

    /// Makes the container's command `/sbin/lockdrop ARGS...`.
    pub fn lockdrop(&mut self, args: &[&str]) -> &mut Self {
        self.args = std::iter::once("/sbin/lockdrop")
            .chain(args.iter().copied())
            .map(String::from)
            .collect();
        self
    }

    /// `lockdrop` with whitespace-separated words (no quoting: use
    /// `lockdrop` for words with spaces).
    pub fn lockdrop_words(&mut self, words: &str) -> &mut Self {
        self.lockdrop(&words.split_whitespace().collect::<Vec<_>>())
    }

    pub fn bind(&mut self, dest: &str, src: &Path, ro: bool) -> &mut Self {
        self.binds.push(Bind {
            dest: dest.into(),
            src: src.to_path_buf(),
            ro,
        });
        self
    }

    /// A host directory shared read-write with the container at `dest`
    /// (writable by every uid), for markers that must outlive the container.
    pub fn shared_dir(&mut self, dest: &str) -> PathBuf {
        let host = self.dir.join(format!("shared{}", dest.replace('/', "_")));
        std::fs::create_dir_all(&host).unwrap();
        std::fs::set_permissions(&host, std::fs::Permissions::from_mode(0o1777)).unwrap();
        self.bind(dest, &host.clone(), false);
        host
    }

    /// config.json: the OCI runtime spec 1.0 fields Docker fills in.
    pub fn config_json(&self) -> String {
        let caps = json_list(
            &self
                .caps
                .iter()
                .map(|c| format!("CAP_{}", c))
                .collect::<Vec<_>>(),
        );
        let rlimits = self
            .rlimits
            .iter()
            .map(|(k, s, h)| {
                let v = |x: &Option<u64>| x.unwrap_or(u64::MAX).to_string();
                format!(r#"{{"type": "{}", "soft": {}, "hard": {}}}"#, k, v(s), v(h))
            })
            .collect::<Vec<_>>()
            .join(", ");
        let mut mounts = vec![
            r#"{"destination": "/proc", "type": "proc", "source": "proc"}"#.to_string(),
            r#"{"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]}"#.into(),
            r#"{"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]}"#.into(),
            r#"{"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]}"#.into(),
            r#"{"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]}"#.into(),
            r#"{"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]}"#.into(),
            r#"{"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}"#.into(),
        ];
        for t in &self.tmpfs {
            mounts.push(format!(
                r#"{{"destination": {}, "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=1777"]}}"#,
                json_str(t)
            ));
        }
        for b in &self.binds {
            let mut opts = vec!["rbind", "rprivate"];
            if b.ro {
                opts.push("ro");
            }
            mounts.push(format!(
                r#"{{"destination": {}, "type": "bind", "source": {}, "options": {}}}"#,
                json_str(&b.dest),
                json_str(&b.src.display().to_string()),
                json_list(&opts)
            ));
        }
        format!(
            r#"{{
  "ociVersion": "1.0.2",
  "process": {{
    "terminal": false,
    "user": {{"uid": {uid}, "gid": {gid}}},
    "args": {args},
    "env": {env},
    "cwd": "/",
    "capabilities": {{
      "bounding": {caps},
      "effective": {caps},
      "permitted": {caps},
      "inheritable": [],
      "ambient": []
    }},
    "rlimits": [{rlimits}],
    "noNewPrivileges": {nnp}
  }},
  "root": {{"path": "rootfs", "readonly": {ro}}},
  "hostname": "lockdrop-test",
  "mounts": [
    {mounts}
  ],
  "linux": {{
    "resources": {{"devices": [{{"allow": false, "access": "rwm"}}]}},
    "namespaces": [{{"type": "pid"}}, {{"type": "network"}}, {{"type": "ipc"}}, {{"type": "uts"}}, {{"type": "mount"}}],
    "maskedPaths": ["/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap"],
    "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
  }}
}}
"#,
            uid = self.uid,
            gid = self.gid,
            args = json_list(&self.args),
            env = json_list(&self.env),
            caps = caps,
            rlimits = rlimits,
            nnp = self.no_new_privs,
            ro = self.readonly_root,
            mounts = mounts.join(",\n    "),
        )
    }

    fn runc(&self) -> Command {
        let t = tools();
        let mut c = Command::new(&t.runc);
        c.arg("--root").arg(&t.state);
        c
    }

    fn write_config(&self) {
        std::fs::write(self.dir.join("config.json"), self.config_json()).unwrap();
    }

    /// `runc run` in the foreground (what a container manager's shim does),
    /// stdin empty, stdout/stderr captured; runc's exit code is the
    /// container's (128+N when its PID 1 died of signal N).
    pub fn run(&self) -> Outcome {
        self.start().wait(Duration::from_secs(120))
    }

    /// Starts the container in the foreground and returns at once; its stdout
    /// lines arrive on a channel so the scenario can wait for a ready line.
    pub fn start(&self) -> Running<'_> {
        self.write_config();
        let mut child = self
            .runc()
            .arg("run")
            .arg("--bundle")
            .arg(&self.dir)
            .arg(&self.id)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn runc");
        let (tx, rx) = mpsc::channel();
        let out = Arc::new(Mutex::new(String::new()));
        let stdout = child.stdout.take().unwrap();
        let out2 = out.clone();
        let t_out = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                {
                    let mut o = out2.lock().unwrap();
                    o.push_str(&line);
                    o.push('\n');
                }
                let _ = tx.send(line);
            }
        });
        let mut stderr = child.stderr.take().unwrap();
        let t_err = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stderr.read_to_string(&mut s);
            s
        });
        Running {
            bundle: self,
            child: Some(child),
            lines: rx,
            out,
            t_out: Some(t_out),
            t_err: Some(t_err),
            started: Instant::now(),
        }
    }

    /// `runc exec ID ARGS...` into the running container.
    pub fn exec(&self, args: &[&str]) -> Outcome {
        let o = self
            .runc()
            .arg("exec")
            .arg(&self.id)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("spawn runc exec");
        Outcome::from(o.status, o.stdout, o.stderr, Duration::ZERO)
    }

    /// `runc kill ID SIG` (`docker stop` sends TERM this way).
    pub fn kill(&self, sig: &str) {
        let o = self
            .runc()
            .args(["kill", &self.id, sig])
            .output()
            .expect("spawn runc kill");
        assert!(
            o.status.success(),
            "runc kill {} {}: {}",
            self.id,
            sig,
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

impl Drop for Bundle {
    fn drop(&mut self) {
        let _ = self
            .runc()
            .args(["delete", "-f", &self.id])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if std::env::var_os("LOCKDROP_KEEP_BUNDLES").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A container started with `Bundle::start`.
pub struct Running<'a> {
    pub bundle: &'a Bundle,
    child: Option<Child>,
    lines: Receiver<String>,
    out: Arc<Mutex<String>>,
    t_out: Option<std::thread::JoinHandle<()>>,
    t_err: Option<std::thread::JoinHandle<String>>,
    pub started: Instant,
}

impl Running<'_> {
    /// Everything the container printed on stdout until now.
    pub fn stdout_so_far(&self) -> String {
        self.out.lock().unwrap().clone()
    }

    /// Waits for a stdout line containing `needle`; fails with everything
    /// printed so far when the deadline passes or the container ends first.
    pub fn wait_line(&mut self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) if l.contains(needle) => return l,
                Ok(_) => continue,
                Err(e) => {
                    let so_far = self.out.lock().unwrap().clone();
                    let _ = self
                        .bundle
                        .runc()
                        .args(["kill", &self.bundle.id, "KILL"])
                        .status();
                    let rest = self.finish();
                    panic!(
                        "{}: no line with {:?} on stdout ({:?})\nstdout so far:\n{}\n{}",
                        self.bundle.id, needle, e, so_far, rest
                    );
                }
            }
        }
    }

    /// Waits for the container to end (runc run returns). Past the deadline
    /// the container is killed and the scenario fails.
    pub fn wait(mut self, timeout: Duration) -> Outcome {
        let deadline = Instant::now() + timeout;
        let mut child = self.child.take().unwrap();
        let status = loop {
            if let Some(s) = child.try_wait().expect("wait runc") {
                break s;
            }
            if Instant::now() >= deadline {
                let _ = self
                    .bundle
                    .runc()
                    .args(["kill", &self.bundle.id, "KILL"])
                    .status();
                let s = child.wait().expect("wait runc");
                let o = self.collect(s);
                panic!(
                    "{}: the container did not end within {:?}\n{}",
                    self.bundle.id,
                    timeout,
                    o.show()
                );
            }
            // Polling a process that has its own deadline; no event is
            // inferred from the passing of time.
            std::thread::sleep(Duration::from_millis(5));
        };
        self.collect(status)
    }

    fn collect(&mut self, status: ExitStatus) -> Outcome {
        let elapsed = self.started.elapsed();
        if let Some(t) = self.t_out.take() {
            let _ = t.join();
        }
        let err = self
            .t_err
            .take()
            .map(|t| t.join().unwrap_or_default())
            .unwrap_or_default();
        let out = self.out.lock().unwrap().clone();
        Outcome::from(status, out.into_bytes(), err.into_bytes(), elapsed)
    }

    fn finish(&mut self) -> String {
        match self.child.take() {
            Some(mut c) => {
                let s = c.wait().expect("wait runc");
                self.collect(s).show()
            }
            None => String::new(),
        }
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = self
                .bundle
                .runc()
                .args(["kill", &self.bundle.id, "KILL"])
                .status();
            let _ = c.wait();
        }
    }
}

/// What a container run produced.
#[derive(Debug)]
pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Outcome {
    fn from(status: ExitStatus, out: Vec<u8>, err: Vec<u8>, elapsed: Duration) -> Outcome {
        use std::os::unix::process::ExitStatusExt;
        let code = status.code().unwrap_or_else(|| {
            panic!(
                "runc itself died of signal {:?}\nstderr: {}",
                status.signal(),
                String::from_utf8_lossy(&err)
            )
        });
        Outcome {
            code,
            stdout: String::from_utf8_lossy(&out).into_owned(),
            stderr: String::from_utf8_lossy(&err).into_owned(),
            elapsed,
        }
    }

    /// Everything, for assertion messages.
    pub fn show(&self) -> String {
        format!(
            "exit {} after {:?}\n--- stdout\n{}--- stderr\n{}---",
            self.code, self.elapsed, self.stdout, self.stderr
        )
    }

    /// The probe's `key=value` lines (`status`), e.g. `field("Uid")`.
    pub fn fields(&self) -> BTreeMap<String, String> {
        self.stdout
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    pub fn field(&self, key: &str) -> String {
        self.fields()
            .get(key)
            .cloned()
            .unwrap_or_else(|| panic!("probe printed no {}=\n{}", key, self.show()))
    }

    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "{}", self.show());
        self
    }

    pub fn assert_stdout(&self, needle: &str) -> &Self {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {:?}\n{}",
            needle,
            self.show()
        );
        self
    }

    pub fn assert_stderr(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {:?}\n{}",
            needle,
            self.show()
        );
        self
    }
}
