//! The real engines for the engine tier, each private to this test process:
//! a dockerd with its own data root, exec root, pidfile and socket; rootful
//! podman with its own storage, run root and containers.conf; a containerd
//! with its CRI plugin on its own socket, root and state. All live under
//! `target/tmp/engines-PID/`. The images come from `docker import` of a
//! rootfs folder built here (busybox-static, the static lockdrop, the probe,
//! fixture /etc) and `docker build` FROM it; podman and containerd load them
//! with `docker save`. No registry is reachable.
//!
//! Owns: starting each engine once (lazily, first test that needs it),
//! measuring its start, running containers, and the teardown at process exit
//! (an `atexit` hook, so a failed test still cleans up): containers removed,
//! daemons stopped by pid, leftover shims killed by pid, mounts under the
//! work directory detached, the directory removed. A work directory left by a
//! killed run is cleaned the same way at the next start.
//! Does not own what the scenarios assert.
#![allow(dead_code)]

use crate::bundle::{tools, Caps, Image, Outcome};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The docker CLI that talks to dockerd 20.10 (another `docker` may come
/// first in PATH, e.g. /usr/local/bin/docker).
pub const DOCKER: &str = "/usr/bin/docker";
pub const PODMAN: &str = "/usr/bin/podman";
/// Debian's python3 with python3-grpcio (a pyenv python may come first).
pub const PYTHON: &str = "/usr/bin/python3";

pub const SECOND: Duration = Duration::from_secs(1);

/// A missing engine is a failure that says what to install, never a skip.
pub fn require(path: &str, package: &str) {
    assert!(
        Path::new(path).is_file(),
        "the engine tier needs {}: install it (Debian: apt-get install {}; scripts/deps.sh does)",
        path,
        package
    );
}

/// This process's work directory, in $TMPDIR rather than target/: the
/// engines' unix sockets (dockerd's containerd.sock.ttrpc four levels down)
/// must fit in sun_path's 108 bytes whatever the checkout's path.
static WORKDIR: OnceLock<PathBuf> = OnceLock::new();

pub fn workdir() -> &'static PathBuf {
    WORKDIR.get_or_init(|| {
        let base = std::env::temp_dir();
        std::fs::create_dir_all(&base).unwrap();
        clean_stale(&base);
        let w = base.join(format!("lockdrop-engines-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&w);
        std::fs::create_dir_all(&w).unwrap();
        std::fs::set_permissions(&w, std::fs::Permissions::from_mode(0o755)).unwrap();
        // SAFETY: registering a plain extern "C" fn; it runs once at exit().
        unsafe { libc::atexit(teardown_at_exit) };
        w
    })
}

/// Names unique to this process (containers, images, pods).
pub fn tag() -> String {
    format!("{}", std::process::id())
}

pub fn unique(name: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "lockdrop-{}-{}-{}",
        name,
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

// ---------------------------------------------------------------------------
// Running a CLI
// ---------------------------------------------------------------------------

fn outcome(o: std::process::Output, elapsed: Duration) -> Outcome {
    Outcome {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        elapsed,
    }
}

/// Runs a command to its end (stdin closed) and returns what it printed.
pub fn output(c: &mut Command) -> Outcome {
    let t = Instant::now();
    let o = c
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("spawn {:?}: {}", c, e));
    outcome(o, t.elapsed())
}

/// Runs a command that must succeed (engine plumbing, not a scenario).
pub fn ok(c: &mut Command) -> String {
    let o = output(c);
    assert_eq!(o.code, 0, "{:?} failed\n{}", c, o.show());
    o.stdout
}

/// A foreground `docker run` / `podman run` whose stdout is read line by
/// line while it runs (the pipe is the synchronisation).
pub struct Attached {
    child: Option<Child>,
    lines: Receiver<String>,
    out: Arc<Mutex<String>>,
    t_out: Option<std::thread::JoinHandle<()>>,
    t_err: Option<std::thread::JoinHandle<String>>,
    started: Instant,
    /// Run on timeout or drop: stops the container.
    kill: Vec<String>,
}

impl Attached {
    pub fn spawn(mut c: Command, kill: Vec<String>) -> Attached {
        let mut child = c
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {:?}: {}", c, e));
        let (tx, rx) = mpsc::channel();
        let out = Arc::new(Mutex::new(String::new()));
        let so = child.stdout.take().unwrap();
        let o2 = out.clone();
        let t_out = std::thread::spawn(move || {
            for l in BufReader::new(so).lines().map_while(Result::ok) {
                o2.lock().unwrap().push_str(&format!("{}\n", l));
                let _ = tx.send(l);
            }
        });
        let mut se = child.stderr.take().unwrap();
        let t_err = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = se.read_to_string(&mut s);
            s
        });
        Attached {
            child: Some(child),
            lines: rx,
            out,
            t_out: Some(t_out),
            t_err: Some(t_err),
            started: Instant::now(),
            kill,
        }
    }

    fn stop_container(&self) {
        if let Some((p, a)) = self.kill.split_first() {
            let _ = Command::new(p)
                .args(a)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }

    pub fn stdout_so_far(&self) -> String {
        self.out.lock().unwrap().clone()
    }

    /// Waits for a stdout line containing `needle`.
    pub fn wait_line(&mut self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) if l.contains(needle) => return l,
                Ok(_) => continue,
                Err(e) => {
                    self.stop_container();
                    let o = self.finish();
                    panic!(
                        "no line with {:?} on stdout ({:?})\n{}",
                        needle,
                        e,
                        o.show()
                    );
                }
            }
        }
    }

    /// Waits for the CLI to return (the container ended).
    pub fn wait(mut self, timeout: Duration) -> Outcome {
        let deadline = Instant::now() + timeout;
        loop {
            let done = self.child.as_mut().unwrap().try_wait().expect("wait");
            if done.is_some() {
                break;
            }
            if Instant::now() >= deadline {
                self.stop_container();
                let o = self.finish();
                panic!(
                    "the container did not end within {:?}\n{}",
                    timeout,
                    o.show()
                );
            }
            // Polling a process that has its own deadline; no event is
            // inferred from the passing of time.
            std::thread::sleep(Duration::from_millis(5));
        }
        self.finish()
    }

    fn finish(&mut self) -> Outcome {
        let status = self.child.take().map(|mut c| c.wait().expect("wait"));
        let elapsed = self.started.elapsed();
        if let Some(t) = self.t_out.take() {
            let _ = t.join();
        }
        let err = self
            .t_err
            .take()
            .map(|t| t.join().unwrap_or_default())
            .unwrap_or_default();
        Outcome {
            code: status.and_then(|s| s.code()).unwrap_or(-1),
            stdout: self.out.lock().unwrap().clone(),
            stderr: err,
            elapsed,
        }
    }
}

impl Drop for Attached {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            self.stop_container();
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

// ---------------------------------------------------------------------------
// Images: a rootfs folder, `docker import`, `docker build`
// ---------------------------------------------------------------------------

/// The image a user would build: ENTRYPOINT/CMD of Dockerfile.example, the
/// Elasticsearch stand-ins (docker-entrypoint.sh; "elasticsearch" locks
/// 64 MiB with examples/memlock and exits 1 if it cannot).
pub const ENTRYPOINT_SH: &str = "#!/bin/sh\n# stand-in: eswrapper starts Elasticsearch, anything else is exec'd\n\
if [ \"$1\" = eswrapper ]; then shift; exec /usr/share/elasticsearch/bin/elasticsearch \"$@\"; fi\nexec \"$@\"\n";
pub const ELASTICSEARCH_SH: &str = "#!/bin/sh\nexec /memlock 64M\n";

fn write_file(p: &Path, text: &str, mode: u32) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn json_list(v: &[String]) -> String {
    let q: Vec<String> = v
        .iter()
        .map(|s| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    format!("[{}]", q.join(", "))
}

pub struct Images {
    /// `docker import` of the rootfs folder (no ENTRYPOINT, no CMD).
    pub base: String,
    /// `docker build` FROM base, shaped like Dockerfile.example.
    pub app: String,
    /// The CRI sandbox ("pause") image: the base with a sleeping ENTRYPOINT.
    pub pause: String,
    /// The saved archive of all three, loaded by podman and containerd.
    pub archive: PathBuf,
    pub build_time: Duration,
}

impl Images {
    fn build(docker: &Docker) -> Images {
        let t = Instant::now();
        let w = workdir().join("image");
        // The runc tier's bundle builder makes the rootfs folder.
        let b = crate::bundle::Bundle::new("engines-rootfs", Image::Busybox, Caps::Docker);
        let rootfs = b.rootfs.clone();
        let tagv = tag();
        let base = format!("lockdrop-engines-base:{}", tagv);
        let pause = format!("lockdrop-engines-pause:{}", tagv);
        let app = format!("lockdrop-engines-app:{}", tagv);
        let tar = || {
            Command::new("tar")
                .args(["-C"])
                .arg(&rootfs)
                .args(["-c", "."])
                .stdout(Stdio::piped())
                .spawn()
                .expect("tar")
        };
        for (name, change) in [
            (&base, None),
            (&pause, Some("ENTRYPOINT [\"/bin/sleep\", \"2147483647\"]")),
        ] {
            let mut t = tar();
            let mut c = docker.cmd();
            c.arg("import");
            if let Some(ch) = change {
                c.args(["--change", ch]);
            }
            c.args(["-", name]).stdin(t.stdout.take().unwrap());
            let o = c.output().expect("docker import");
            assert!(t.wait().unwrap().success());
            assert!(
                o.status.success(),
                "docker import: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
        drop(b);

        // docker build, the way Dockerfile.example's final stage does it.
        let df = crate::examples::Dockerfile::load();
        let ctx = w.join("context");
        std::fs::create_dir_all(&ctx).unwrap();
        std::fs::copy(&tools().lockdrop, ctx.join("lockdrop")).unwrap();
        write_file(&ctx.join("docker-entrypoint.sh"), ENTRYPOINT_SH, 0o755);
        write_file(&ctx.join("elasticsearch"), ELASTICSEARCH_SH, 0o755);
        let dockerfile = format!(
            "FROM {base}\nUSER root\nCOPY lockdrop {lp}\n\
             COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh\n\
             COPY elasticsearch /usr/share/elasticsearch/bin/elasticsearch\n\
             ENV bootstrap.memory_lock=true\nENTRYPOINT {ep}\nCMD {cmd}\n",
            lp = df.lockdrop_path,
            ep = json_list(&df.entrypoint),
            cmd = json_list(&df.cmd),
        );
        write_file(&ctx.join("Dockerfile"), &dockerfile, 0o644);
        ok(docker
            .cmd()
            .env("DOCKER_BUILDKIT", "0")
            .args(["build", "-q", "-t", &app])
            .arg(&ctx));
        let archive = w.join("images.tar");
        ok(docker
            .cmd()
            .args(["save", "-o"])
            .arg(&archive)
            .args([&base, &pause, &app]));
        Images {
            base,
            app,
            pause,
            archive,
            build_time: t.elapsed(),
        }
    }
}

/// Starts something once; a failed start fails every later caller at once
/// with the same message instead of retrying (and timing out) per test.
fn once<T>(cell: &'static OnceLock<Result<T, String>>, f: impl FnOnce() -> T) -> &'static T {
    let r = cell.get_or_init(|| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|e| {
            e.downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default()
        })
    });
    match r {
        Ok(t) => t,
        Err(m) => panic!("engine setup failed earlier: {}", m),
    }
}

pub fn images() -> &'static Images {
    static I: OnceLock<Result<Images, String>> = OnceLock::new();
    once(&I, || {
        let i = Images::build(docker());
        eprintln!(
            "[engines] images (import, build, save) in {:?}",
            i.build_time
        );
        i
    })
}

// ---------------------------------------------------------------------------
// Docker
// ---------------------------------------------------------------------------

pub struct Docker {
    pub dir: PathBuf,
    pub sock: PathBuf,
    pub start_time: Duration,
}

static DAEMONS: Mutex<Vec<(&'static str, Child)>> = Mutex::new(Vec::new());

/// Waits until `probe` succeeds (a daemon answering on its socket).
fn wait_until(what: &str, child_pid: u32, log: &Path, mut probe: impl FnMut() -> bool) {
    let deadline = Instant::now() + 60 * SECOND;
    while !probe() {
        let alive = Path::new(&format!("/proc/{}", child_pid)).exists();
        if !alive || Instant::now() > deadline {
            panic!(
                "{} did not start ({}):\n{}",
                what,
                if alive { "timeout" } else { "exited" },
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        // Polling a socket with a deadline; no event is inferred from time.
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Docker {
    fn start() -> Docker {
        require(DOCKER, "docker.io");
        require("/usr/sbin/dockerd", "docker.io");
        let dir = workdir().join("docker");
        std::fs::create_dir_all(&dir).unwrap();
        let sock = dir.join("docker.sock");
        let log = dir.join("dockerd.log");
        let t = Instant::now();
        let child = Command::new("/usr/sbin/dockerd")
            .arg("--data-root")
            .arg(dir.join("data"))
            .arg("--exec-root")
            .arg(dir.join("exec"))
            .arg("--pidfile")
            .arg(dir.join("dockerd.pid"))
            .arg("-H")
            .arg(format!("unix://{}", sock.display()))
            .args([
                "--iptables=false",
                "--ip6tables=false",
                "--bridge=none",
                "--storage-driver=overlay2",
            ])
            // Containers' cgroups under a parent of our own, removed at the end.
            .arg(format!("--cgroup-parent=/{}", cgroup_parent("docker")))
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(std::fs::File::create(dir.join("dockerd.stderr")).unwrap())
            .spawn()
            .expect("spawn dockerd");
        let pid = child.id();
        DAEMONS.lock().unwrap().push(("dockerd", child));
        let d = Docker {
            dir: dir.clone(),
            sock,
            start_time: Duration::ZERO,
        };
        wait_until("dockerd", pid, &dir.join("dockerd.stderr"), || {
            d.cmd()
                .arg("version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .map(|s| s.success())
                .unwrap_or(false)
        });
        Docker {
            start_time: t.elapsed(),
            ..d
        }
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::new(DOCKER);
        c.env("DOCKER_HOST", format!("unix://{}", self.sock.display()));
        c
    }

    /// `docker run --rm --network none ARGS...` to its end.
    pub fn run(&self, args: &[&str]) -> Outcome {
        let mut c = self.cmd();
        c.args(["run", "--rm", "--network", "none"]).args(args);
        output(&mut c)
    }

    /// `docker run --name NAME ...` attached, read while it runs.
    pub fn start_attached(&self, name: &str, args: &[&str]) -> Attached {
        let mut c = self.cmd();
        c.args(["run", "--rm", "--network", "none", "--name", name])
            .args(args);
        let kill = vec![
            DOCKER.to_string(),
            "-H".into(),
            format!("unix://{}", self.sock.display()),
            "rm".into(),
            "-f".into(),
            name.to_string(),
        ];
        Attached::spawn(c, kill)
    }

    fn teardown(&self) {
        let ids = output(self.cmd().args(["ps", "-aq"])).stdout;
        let ids: Vec<&str> = ids.split_whitespace().collect();
        if !ids.is_empty() {
            let _ = output(self.cmd().args(["rm", "-f"]).args(&ids));
        }
        let imgs = output(self.cmd().args(["images", "-q"])).stdout;
        let imgs: Vec<&str> = imgs.split_whitespace().collect();
        if !imgs.is_empty() {
            let _ = output(self.cmd().args(["rmi", "-f"]).args(&imgs));
        }
    }
}

static DOCKER_D: OnceLock<Result<Docker, String>> = OnceLock::new();

pub fn docker() -> &'static Docker {
    once(&DOCKER_D, || {
        let d = Docker::start();
        eprintln!("[engines] dockerd started in {:?}", d.start_time);
        d
    })
}

// ---------------------------------------------------------------------------
// Podman
// ---------------------------------------------------------------------------

pub struct Podman {
    pub dir: PathBuf,
    pub load_time: Duration,
}

impl Podman {
    fn start() -> Podman {
        require(PODMAN, "podman");
        let dir = workdir().join("podman");
        std::fs::create_dir_all(dir.join("tmp")).unwrap();
        // runc cannot give a container more than this session's hard limits:
        // podman's defaults (nofile 1048576, nproc 4194304) fail here.
        let (_, nofile) = crate::bundle::host_rlimit("Max open files");
        let (_, nproc) = crate::bundle::host_rlimit("Max processes");
        let nofile = nofile.unwrap_or(1048576);
        let nproc = nproc.unwrap_or(32768).min(32768);
        let conf = format!(
            "[containers]\ndefault_ulimits = [\"nofile={n}:{n}\", \"nproc={p}:{p}\"]\n\
             [engine]\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\nevents_logfile_path = \"{d}/events.log\"\n",
            n = nofile,
            p = nproc,
            d = dir.display()
        );
        write_file(&dir.join("containers.conf"), &conf, 0o644);
        let p = Podman {
            dir,
            load_time: Duration::ZERO,
        };
        let t = Instant::now();
        ok(p.cmd().arg("load").arg("-i").arg(&images().archive));
        Podman {
            load_time: t.elapsed(),
            ..p
        }
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::new(PODMAN);
        c.env("CONTAINERS_CONF", self.dir.join("containers.conf"));
        c.arg("--root")
            .arg(self.dir.join("root"))
            .arg("--runroot")
            .arg(self.dir.join("run"))
            .arg("--tmpdir")
            .arg(self.dir.join("tmp"))
            .args(["--storage-driver", "overlay"]);
        c
    }

    pub fn image(&self, docker_name: &str) -> String {
        format!("localhost/{}", docker_name)
    }

    pub fn run(&self, args: &[&str]) -> Outcome {
        let mut c = self.cmd();
        c.args(["run", "--rm", "--network", "none"]).args(args);
        output(&mut c)
    }

    pub fn start_attached(&self, name: &str, args: &[&str]) -> Attached {
        let mut c = self.cmd();
        c.args(["run", "--rm", "--network", "none", "--name", name])
            .args(args);
        let k = self.cmd();
        let mut kill: Vec<String> = vec![k.get_program().to_string_lossy().into_owned()];
        kill.extend(k.get_args().map(|a| a.to_string_lossy().into_owned()));
        kill.extend([
            "rm".into(),
            "-f".into(),
            "-t".into(),
            "0".into(),
            name.to_string(),
        ]);
        Attached::spawn(c, kill)
    }

    fn teardown(&self) {
        let _ = output(self.cmd().args(["pod", "rm", "-af", "-t", "0"]));
        let _ = output(self.cmd().args(["rm", "-af", "-t", "0"]));
        let _ = output(self.cmd().args(["rmi", "-af"]));
    }
}

static PODMAN_P: OnceLock<Result<Podman, String>> = OnceLock::new();

pub fn podman() -> &'static Podman {
    once(&PODMAN_P, || {
        let p = Podman::start();
        eprintln!(
            "[engines] podman: images loaded in {:?} (no daemon)",
            p.load_time
        );
        p
    })
}

// ---------------------------------------------------------------------------
// containerd + CRI
// ---------------------------------------------------------------------------

pub struct Cri {
    pub dir: PathBuf,
    pub sock: PathBuf,
    pub start_time: Duration,
    pub load_time: Duration,
}

/// What tests/engines/cri.py reports for one pod.
pub struct PodResult {
    pub outcome: Outcome,
    pub reason: String,
}

impl Cri {
    fn start() -> Cri {
        require("/usr/bin/containerd", "containerd");
        require("/usr/bin/ctr", "containerd");
        require(PYTHON, "python3");
        let grpc = Command::new(PYTHON).args(["-c", "import grpc"]).status();
        assert!(
            grpc.map(|s| s.success()).unwrap_or(false),
            "the CRI client needs python3-grpcio (Debian: apt-get install python3-grpcio; scripts/deps.sh does)"
        );
        let dir = workdir().join("cri");
        std::fs::create_dir_all(dir.join("cni/net.d")).unwrap();
        std::fs::create_dir_all(dir.join("cni/bin")).unwrap();
        let sock = dir.join("containerd.sock");
        let imgs = images();
        let conf = format!(
            "version = 2\nroot = \"{d}/root\"\nstate = \"{d}/state\"\n\
             [grpc]\n  address = \"{s}\"\n[ttrpc]\n  address = \"{s}.ttrpc\"\n\
             [debug]\n  address = \"\"\n[metrics]\n  address = \"\"\n\
             [plugins.\"io.containerd.grpc.v1.cri\"]\n\
             # The sandbox asks for oom_score_adj -998: lowering it needs\n\
             # CAP_SYS_RESOURCE, which this machine kind lacks even in PID 1.\n\
             restrict_oom_score_adj = {restrict}\n\
             sandbox_image = \"docker.io/library/{pause}\"\n\
             [plugins.\"io.containerd.grpc.v1.cri\".cni]\n  bin_dir = \"{d}/cni/bin\"\n  conf_dir = \"{d}/cni/net.d\"\n\
             [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc]\n  runtime_type = \"io.containerd.runc.v2\"\n\
             # runc's state with ours, not in /run/containerd/runc.\n\
             [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\n  Root = \"{d}/runc\"\n",
            d = dir.display(),
            s = sock.display(),
            pause = imgs.pause,
            restrict = !crate::bundle::host_has_cap(crate::bundle::CAP_SYS_RESOURCE),
        );
        write_file(&dir.join("config.toml"), &conf, 0o644);
        let log = dir.join("containerd.log");
        let t = Instant::now();
        let child = Command::new("/usr/bin/containerd")
            .arg("--config")
            .arg(dir.join("config.toml"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("spawn containerd");
        let pid = child.id();
        write_file(&dir.join("containerd.pid"), &pid.to_string(), 0o644);
        DAEMONS.lock().unwrap().push(("containerd", child));
        let c = Cri {
            dir: dir.clone(),
            sock: sock.clone(),
            start_time: Duration::ZERO,
            load_time: Duration::ZERO,
        };
        wait_until("containerd", pid, &log, || {
            c.ctr()
                .arg("version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .map(|s| s.success())
                .unwrap_or(false)
        });
        let start_time = t.elapsed();
        let t = Instant::now();
        ok(c.ctr()
            .args(["-n", "k8s.io", "images", "import"])
            .arg(&imgs.archive));
        Cri {
            start_time,
            load_time: t.elapsed(),
            ..c
        }
    }

    fn ctr(&self) -> Command {
        let mut c = Command::new("/usr/bin/ctr");
        c.arg("-a").arg(&self.sock);
        c
    }

    /// One pod through the CRI client. `pod` is the JSON cri.py reads
    /// (name, image, log_dir and timeout are filled in here).
    pub fn run_pod(&self, name: &str, mut fields: Vec<(&str, String)>) -> PodResult {
        let n = unique(name);
        let logs = self.dir.join("logs").join(&n);
        std::fs::create_dir_all(&logs).unwrap();
        fields.push(("name", format!("\"{}\"", name)));
        fields.push(("log_dir", format!("\"{}\"", logs.display())));
        fields.push(("timeout", "60".into()));
        fields.push(("cgroup_parent", format!("\"/{}\"", cgroup_parent("k8s"))));
        let json = format!(
            "{{{}}}",
            fields
                .iter()
                .map(|(k, v)| format!("\"{}\": {}", k, v))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let pod = logs.join("pod.json");
        write_file(&pod, &json, 0o644);
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/engines/cri.py");
        let t = Instant::now();
        let o = output(Command::new(PYTHON).arg(script).arg(&self.sock).arg(&pod));
        assert_eq!(o.code, 0, "cri.py failed\n{}", o.show());
        let r = o.stdout.trim();
        let get = |key: &str| -> String {
            let mut c = Command::new(PYTHON);
            c.args([
                "-c",
                &format!(
                    "import json,sys; v=json.load(sys.stdin)[{:?}]; sys.stdout.write('' if v is None else str(v))",
                    key
                ),
            ]);
            c.stdin(Stdio::piped()).stdout(Stdio::piped());
            let mut ch = c.spawn().unwrap();
            ch.stdin.take().unwrap().write_all(r.as_bytes()).unwrap();
            let out = ch.wait_with_output().unwrap();
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
        let code = get("exit_code").parse::<i32>().unwrap_or(-1);
        let reason = get("reason");
        let mut stderr = get("stderr");
        if code == -1 {
            // No container exit: the engine's own error, for the failure text.
            stderr.push_str(&format!("[cri] {}\n", reason));
        }
        PodResult {
            outcome: Outcome {
                code,
                stdout: get("stdout"),
                stderr,
                elapsed: t.elapsed(),
            },
            reason,
        }
    }
}

static CRI_C: OnceLock<Result<Cri, String>> = OnceLock::new();

pub fn cri() -> &'static Cri {
    once(&CRI_C, || {
        let c = Cri::start();
        eprintln!(
            "[engines] containerd (CRI) started in {:?}, images imported in {:?}",
            c.start_time, c.load_time
        );
        c
    })
}

/// A JSON string.
pub fn js(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

pub fn js_list<S: AsRef<str>>(v: &[S]) -> String {
    let q: Vec<String> = v.iter().map(|s| js(s.as_ref())).collect();
    format!("[{}]", q.join(", "))
}

// ---------------------------------------------------------------------------
// Teardown
// ---------------------------------------------------------------------------

/// Processes whose command line names `dir` (containerd shims, conmon):
/// found by pid, killed by pid.
fn kill_processes_under(dir: &Path) {
    let needle = dir.to_string_lossy().into_owned();
    let me = std::process::id();
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return;
    };
    for e in rd.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        if pid as u32 == me {
            continue;
        }
        let cmd = std::fs::read(format!("/proc/{}/cmdline", pid)).unwrap_or_default();
        if String::from_utf8_lossy(&cmd).contains(&needle) {
            // SAFETY: kill(2) on a pid just read from /proc; at worst ESRCH.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
}

/// Detaches every mount at or under `dir` (overlay layers, shm, netns).
fn unmount_under(dir: &Path) {
    let d = dir.to_string_lossy().into_owned();
    for _ in 0..5 {
        let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let mut points: Vec<String> = info
            .lines()
            .filter_map(|l| l.split(' ').nth(4).map(|p| p.replace("\\040", " ")))
            .filter(|p| p.starts_with(&d))
            .collect();
        if points.is_empty() {
            return;
        }
        points.sort_by_key(|p| std::cmp::Reverse(p.len()));
        for p in points {
            let _ = Command::new("umount")
                .args(["-l", &p])
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// The cgroup (v1: in every hierarchy; v2: one tree) the engines put this
/// process's containers under.
pub fn cgroup_parent(engine: &str) -> String {
    format!("lockdrop-engines-{}-{}", std::process::id(), engine)
}

/// Removes our cgroup trees, leaves first (rmdir of an empty cgroup).
fn remove_cgroups(prefix: &str) {
    fn rm_tree(d: &Path) {
        if let Ok(rd) = std::fs::read_dir(d) {
            for e in rd.flatten() {
                if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                    rm_tree(&e.path());
                }
            }
        }
        let _ = std::fs::remove_dir(d);
    }
    let root = Path::new("/sys/fs/cgroup");
    let mut tops = vec![root.to_path_buf()];
    if let Ok(rd) = std::fs::read_dir(root) {
        tops.extend(rd.flatten().map(|e| e.path()));
    }
    for t in tops {
        if let Ok(rd) = std::fs::read_dir(&t) {
            for e in rd.flatten() {
                if e.file_name().to_string_lossy().starts_with(prefix) {
                    rm_tree(&e.path());
                }
            }
        }
    }
}

/// Stops a daemon we started: TERM, then KILL after a deadline.
fn stop_child(name: &str, c: &mut Child) {
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
    let deadline = Instant::now() + 20 * SECOND;
    loop {
        if let Ok(Some(_)) = c.try_wait() {
            return;
        }
        if Instant::now() > deadline {
            eprintln!("[engines] {} did not stop on SIGTERM: SIGKILL", name);
            let _ = c.kill();
            let _ = c.wait();
            return;
        }
        // Polling our own child with a deadline.
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn remove_dir(dir: &Path) {
    kill_processes_under(dir);
    unmount_under(dir);
    if let Err(e) = std::fs::remove_dir_all(dir) {
        eprintln!("[engines] could not remove {}: {}", dir.display(), e);
    }
}

/// The whole teardown: containers, images, daemons, shims, mounts, files.
pub fn teardown() {
    let Some(w) = WORKDIR.get() else { return };
    let t = Instant::now();
    // The closing note's numbers (not assertions).
    if let Some(Ok(d)) = DOCKER_D.get() {
        eprintln!("[engines] setup: dockerd start {:?}", d.start_time);
    }
    if let Some(Ok(p)) = PODMAN_P.get() {
        eprintln!("[engines] setup: podman image load {:?}", p.load_time);
    }
    if let Some(Ok(c)) = CRI_C.get() {
        eprintln!(
            "[engines] setup: containerd start {:?}, image import {:?}",
            c.start_time, c.load_time
        );
    }
    if let Some(Ok(p)) = PODMAN_P.get() {
        p.teardown();
    }
    if let Some(Ok(d)) = DOCKER_D.get() {
        d.teardown();
    }
    let mut daemons = std::mem::take(&mut *DAEMONS.lock().unwrap_or_else(|e| e.into_inner()));
    for (name, c) in daemons.iter_mut() {
        stop_child(name, c);
    }
    remove_dir(w);
    remove_cgroups(&format!("lockdrop-engines-{}-", std::process::id()));
    eprintln!("[engines] teardown in {:?}", t.elapsed());
}

extern "C" fn teardown_at_exit() {
    teardown();
}

/// A work directory whose process is gone (a killed run): its daemons
/// (named by pidfile, checked by command line) are stopped and it is removed.
fn clean_stale(base: &Path) {
    let Ok(rd) = std::fs::read_dir(base) else {
        return;
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix("lockdrop-engines-")
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        // Alive means running: a killed run's process may stay a zombie
        // when its parent does not reap it.
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid)).unwrap_or_default();
        let state = stat.rsplit_once(") ").map(|(_, r)| r.chars().next());
        if matches!(state, Some(Some(c)) if c != 'Z') {
            continue;
        }
        eprintln!(
            "[engines] cleaning {} left by a killed run",
            e.path().display()
        );
        remove_dir(&e.path());
        remove_cgroups(&format!("lockdrop-engines-{}-", pid));
    }
}
