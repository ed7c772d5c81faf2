//! A fixture host for tests and fuzz targets: a directory standing in for
//! `/` (with the files a test writes into it), the ids, capability sets and
//! limits the test chooses. One builder, so each test says only what
//! differs from "root in a default container". Never used by a real start.
use super::Host;
use crate::model::caps::{CapSet, CapState};
use crate::model::rlimits::{Limit, Resource};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Every capability but CAP_SYS_RESOURCE: this machine's kind, and a
/// default Docker container's bounding set as far as lockdrop cares.
pub const ALL_BUT_SYS_RESOURCE: CapSet = CapSet(0x1ff_feff_ffff);

pub struct Fixture {
    root: PathBuf,
    uid: u32,
    caps: CapState,
    limits: Vec<(Resource, Limit)>,
}

impl Fixture {
    /// A fixture over an existing directory (or a path that need not exist
    /// when the test reads no file).
    pub fn at(root: impl Into<PathBuf>) -> Fixture {
        Fixture {
            root: root.into(),
            uid: 0,
            caps: CapState::default(),
            limits: Vec::new(),
        }
    }

    /// A fixture over a new, empty directory of its own under the temporary
    /// directory (`tag` names it for whoever looks).
    pub fn temp(tag: &str) -> Fixture {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let root = std::env::temp_dir().join(format!(
            "lockdrop-fixture-{}-{}-{}",
            tag,
            std::process::id(),
            n
        ));
        if let Err(e) = std::fs::create_dir_all(&root) {
            panic!("fixture: cannot create {}: {}", root.display(), e);
        }
        Fixture::at(root)
    }

    /// Writes `text` to `path` (absolute, as on the host) below the root.
    pub fn file(self, path: &str, text: &str) -> Fixture {
        let p = self.root.join(path.trim_start_matches('/'));
        let written = p
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|_| std::fs::write(&p, text));
        if let Err(e) = written {
            panic!("fixture: cannot write {}: {}", p.display(), e);
        }
        self
    }

    /// The process's uid (also its euid and gid).
    pub fn uid(mut self, uid: u32) -> Fixture {
        self.uid = uid;
        self
    }

    /// Effective, permitted and bounding sets all `set` (a container's
    /// root); inheritable and ambient empty.
    pub fn caps(mut self, set: CapSet) -> Fixture {
        self.caps = CapState {
            effective: set,
            permitted: set,
            inheritable: CapSet::EMPTY,
            bounding: set,
            ambient: CapSet::EMPTY,
        };
        self
    }

    /// All five sets as given.
    pub fn cap_state(mut self, caps: CapState) -> Fixture {
        self.caps = caps;
        self
    }

    /// One resource limit; resources never given read as unavailable.
    pub fn limit(mut self, r: Resource, soft: u64, hard: u64) -> Fixture {
        self.limits.retain(|(x, _)| *x != r);
        self.limits.push((r, Limit { soft, hard }));
        self
    }

    pub fn root(&self) -> &std::path::Path {
        &self.root
    }

    pub fn build(self) -> Host {
        Host::fixture(self.root, self.uid, self.caps, self.limits)
    }
}
