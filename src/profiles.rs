//! Built-in service profiles: the limits and kernel checks that
//! Elasticsearch, OpenSearch and Cassandra document, as a base `Options`
//! layer (below the config file, the environment and flags).
use crate::cli::Options;

#[derive(Debug)]
pub struct Profile {
    pub name: &'static str,
    pub about: &'static str,
    pub rlimits: &'static [&'static str],
    pub memlock: &'static str,
    pub sysctls: &'static [&'static str],
    /// The service refuses to run as root (Elasticsearch does).
    pub refuse_root: bool,
}

pub const PROFILES: &[Profile] = &[
    Profile {
        name: "elasticsearch",
        about: "Elasticsearch with bootstrap.memory_lock: true (its bootstrap checks)",
        rlimits: &[
            "nofile=65535",
            "nproc=4096",
            "as=unlimited",
            "fsize=unlimited",
        ],
        memlock: "unlimited",
        sysctls: &["vm.max_map_count>=262144"],
        refuse_root: true,
    },
    Profile {
        name: "opensearch",
        about: "OpenSearch with bootstrap.memory_lock: true (Elasticsearch's checks)",
        rlimits: &[
            "nofile=65535",
            "nproc=4096",
            "as=unlimited",
            "fsize=unlimited",
        ],
        memlock: "unlimited",
        sysctls: &["vm.max_map_count>=262144"],
        refuse_root: true,
    },
    Profile {
        name: "cassandra",
        about: "Apache Cassandra production settings (memlock, nofile, nproc, as, max_map_count)",
        rlimits: &["nofile=1048576", "nproc=32768", "as=unlimited"],
        memlock: "unlimited",
        sysctls: &["vm.max_map_count>=1048575"],
        refuse_root: false,
    },
];

pub fn find(name: &str) -> Option<&'static Profile> {
    PROFILES
        .iter()
        .find(|p| p.name.eq_ignore_ascii_case(name.trim()))
}

impl Profile {
    pub fn options(&self) -> Options {
        Options {
            rlimits: self.rlimits.iter().map(|s| s.to_string()).collect(),
            memlock: Some(self.memlock.to_string()),
            sysctls: self.sysctls.iter().map(|s| s.to_string()).collect(),
            profile: Some(self.name.to_string()),
            ..Options::default()
        }
    }
}

pub fn list_text() -> String {
    let mut s = String::new();
    for p in PROFILES {
        s.push_str(&format!("{:<14} {}\n", p.name, p.about));
        s.push_str(&format!(
            "{:<14}   memlock={} rlimits: {} sysctls: {}{}\n",
            "",
            p.memlock,
            p.rlimits.join(" "),
            p.sysctls.join(" "),
            if p.refuse_root {
                " (refuses uid 0)"
            } else {
                ""
            }
        ));
    }
    s
}
