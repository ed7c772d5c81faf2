//! A read-only view of the host: ids, capability sets, rlimits and files
//! (/etc/passwd, /proc, /sys), read through an injectable root so resolution
//! and checks are tested against fixture trees without root. Reads are lazy:
//! start-up pays only for what the plan asks about. Changes nothing.
pub mod fixture;
pub mod sysctl;
pub mod trusted;

use crate::model::caps::CapSet;
use crate::model::rlimits::{Limit, Resource};
use crate::model::users::FileText;
use crate::sys::{self, CapState};
use std::cell::OnceCell;
use std::ffi::CStr;
use std::path::PathBuf;

pub struct Host {
    /// "/" for the live host; a fixture directory in tests.
    pub root: PathBuf,
    pub uid: u32,
    pub euid: u32,
    pub gid: u32,
    pub pid: i32,
    /// Started by a kubelet: it always sets KUBERNETES_SERVICE_HOST. Only
    /// chooses which fixes a message puts first.
    pub kubernetes: bool,
    caps: OnceCell<CapState>,
    limits: OnceCell<Vec<(Resource, Limit)>>,
    userns: OnceCell<Option<bool>>,
    sets: OnceCell<(CapSet, CapSet, CapSet)>,
    /// The environment lockdrop was started with: None reads the C
    /// runtime's environ (borrowed, never copied); a fixture lists its own.
    env: Option<Vec<&'static CStr>>,
}

impl Host {
    pub fn live() -> Host {
        let (uid, euid, _) = sys::getresuid();
        let (gid, _, _) = sys::getresgid();
        Host {
            root: PathBuf::from("/"),
            uid,
            euid,
            gid,
            pid: sys::getpid(),
            kubernetes: std::env::var_os("KUBERNETES_SERVICE_HOST").is_some(),
            caps: OnceCell::new(),
            limits: OnceCell::new(),
            userns: OnceCell::new(),
            sets: OnceCell::new(),
            env: None,
        }
    }

    /// A fixture host: files under `root`, the given ids, capabilities and limits.
    pub fn fixture(
        root: impl Into<PathBuf>,
        uid: u32,
        caps: CapState,
        limits: Vec<(Resource, Limit)>,
    ) -> Host {
        let h = Host {
            root: root.into(),
            uid,
            euid: uid,
            gid: uid,
            pid: 1000,
            kubernetes: false,
            caps: OnceCell::new(),
            limits: OnceCell::new(),
            userns: OnceCell::new(),
            sets: OnceCell::new(),
            env: Some(Vec::new()),
        };
        let _ = h.caps.set(caps);
        let _ = h.limits.set(limits);
        h
    }

    /// A fixture's environment (`KEY=value` entries).
    pub fn with_env(mut self, env: Vec<&'static CStr>) -> Host {
        self.env = Some(env);
        self
    }

    /// The entries of the environment lockdrop was started with that start
    /// with one of `prefixes`, each with its index (a large environment
    /// costs a few instructions per variable: nothing else is measured).
    pub fn env_matching<'a>(
        &'a self,
        prefixes: &'a [&'a [u8]],
    ) -> Box<dyn Iterator<Item = (usize, &'static [u8])> + 'a> {
        match &self.env {
            None => Box::new(sys::environ_matching(prefixes)),
            Some(list) => Box::new(
                list.iter()
                    .map(|c| c.to_bytes())
                    .enumerate()
                    .filter(move |(_, e)| prefixes.iter().any(|p| e.starts_with(p))),
            ),
        }
    }

    /// One variable's value.
    pub fn getenv(&self, key: &str) -> Option<&'static [u8]> {
        self.env_matching(&[key.as_bytes()])
            .find_map(|(_, e)| e[key.len()..].strip_prefix(b"="))
    }

    pub fn caps(&self) -> &CapState {
        self.caps.get_or_init(sys::cap_state)
    }

    /// effective, permitted, inheritable: one capget (a full `caps()` costs
    /// ~120 prctls, paid only by --doctor).
    fn sets(&self) -> (CapSet, CapSet, CapSet) {
        match self.caps.get() {
            Some(c) => (c.effective, c.permitted, c.inheritable),
            None => *self.sets.get_or_init(sys::capget),
        }
    }

    pub fn effective(&self) -> CapSet {
        self.sets().0
    }

    pub fn permitted(&self) -> CapSet {
        self.sets().1
    }

    pub fn in_bounding(&self, c: crate::model::caps::Cap) -> bool {
        match self.caps.get() {
            Some(s) => s.bounding.has(c),
            None => sys::in_bounding(c),
        }
    }

    pub fn limit(&self, r: Resource) -> Limit {
        self.limit_opt(r).unwrap_or(Limit { soft: 0, hard: 0 })
    }

    /// The limit of one resource, None when it could not be read (a fixture
    /// that does not list it). The live host asks the kernel for just that
    /// one (getrlimit is cheaper than a cache of all sixteen).
    pub fn limit_opt(&self, r: Resource) -> Option<Limit> {
        match self.limits.get() {
            Some(all) => all.iter().find(|(x, _)| *x == r).map(|(_, l)| *l),
            None => sys::getrlimit(r).ok(),
        }
    }

    /// Whether this process is a child subreaper (PR_GET_CHILD_SUBREAPER);
    /// None for a fixture host or when the kernel does not say.
    pub fn subreaper(&self) -> Option<bool> {
        if self.root != std::path::Path::new("/") {
            return None;
        }
        sys::is_child_subreaper().ok()
    }

    /// The path of `path` (absolute, as on the host) below the root.
    pub fn path(&self, path: &str) -> PathBuf {
        self.root.join(path.trim_start_matches('/'))
    }

    /// Reads a file below the root (`path` is absolute, as on the host).
    pub fn read(&self, path: &str) -> Result<String, String> {
        self.read_bytes(path).map(|b| {
            // No copy for the (usual) valid UTF-8; a lossy copy otherwise.
            String::from_utf8(b)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
        })
    }

    /// The bytes of a file below the root, in one read when it is regular
    /// (/etc/passwd and /etc/group: scanned as bytes, never validated whole).
    pub fn read_bytes(&self, path: &str) -> FileText {
        std::fs::read(self.path(path)).map_err(|e| e.to_string().to_lowercase())
    }

    /// /etc/passwd and /etc/group. With `trust` (their names decide ids),
    /// as root on the live host: read only when they and the directories
    /// above them are writable by nobody but root (`trusted`), each checked
    /// and read through one descriptor. A fixture host, or lockdrop started
    /// as another user, has nothing to protect: the ids it can switch to are
    /// its own.
    pub fn account_files(&self, trust: bool) -> crate::error::Result<(FileText, FileText)> {
        if trust && self.euid == 0 && self.root == std::path::Path::new("/") {
            let [p, g] = trusted::read_account_files([
                std::path::Path::new("/etc/passwd"),
                std::path::Path::new("/etc/group"),
            ])?;
            return Ok((p, g));
        }
        Ok((
            self.read_bytes("/etc/passwd"),
            self.read_bytes("/etc/group"),
        ))
    }

    /// The supplementary groups (getgroups); a fixture host has none.
    pub fn groups(&self) -> Vec<u32> {
        if self.env.is_some() {
            return Vec::new();
        }
        sys::getgroups()
    }

    /// A /proc/sys value as a number (first field).
    pub fn sysctl_u64(&self, key: &str) -> Option<u64> {
        let path = format!("/proc/sys/{}", key.replace('.', "/"));
        self.read(&path)
            .ok()?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    }

    /// Whether this process is in a user namespace other than the initial
    /// one: there, no capability can raise a hard rlimit (setrlimit checks
    /// CAP_SYS_RESOURCE in the initial namespace).
    pub fn in_user_namespace(&self) -> Option<bool> {
        *self.userns.get_or_init(|| self.read_user_namespace())
    }

    /// Whether setrlimit(2) may raise a hard limit here: CAP_SYS_RESOURCE
    /// in the effective set counts only in the initial user namespace (the
    /// kernel asks capable(), not ns_capable()). The one home of this rule
    /// for `resolve`, `check` and `--doctor`.
    pub fn can_raise_hard_limits(&self) -> bool {
        self.effective().has(crate::model::caps::SYS_RESOURCE)
            && self.in_user_namespace() != Some(true)
    }

    /// Whether CAP_IPC_LOCK can be kept for the command (permitted and in
    /// the bounding set) and then lifts RLIMIT_MEMLOCK: mlock(2) honours it
    /// only in the initial user namespace.
    pub fn ipc_lock_lifts_memlock(&self) -> bool {
        use crate::model::caps::IPC_LOCK;
        self.permitted().has(IPC_LOCK)
            && self.in_bounding(IPC_LOCK)
            && self.in_user_namespace() != Some(true)
    }

    fn read_user_namespace(&self) -> Option<bool> {
        use std::io::Read;
        // Into a stack buffer (read at every start that asks about memlock
        // or hard limits): the initial namespace's map is one 33-byte line,
        // so a file that fills the buffer is another namespace's.
        let mut buf = [0u8; 128];
        let mut f = std::fs::File::open(self.path("/proc/self/uid_map")).ok()?;
        let mut n = 0;
        loop {
            match f.read(&mut buf[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return None,
            }
            if n == buf.len() {
                return Some(true);
            }
        }
        let map = &buf[..n];
        // The initial namespace maps everything: one line "0 0 4294967295".
        let mut f = map
            .split(|b| b.is_ascii_whitespace())
            .filter(|f| !f.is_empty());
        let all = [&b"0"[..], b"0", b"4294967295"]
            .iter()
            .all(|w| f.next() == Some(*w));
        Some(!(all && f.next().is_none()))
    }
}
