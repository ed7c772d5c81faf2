//! Built-in service profiles: the limits and kernel checks that
//! Elasticsearch, OpenSearch and Cassandra document, as a base `Options`
//! layer (below the config file, the environment and flags), plus each
//! service's own wording for a failed check so the message lockdrop prints is
//! the one users search for. Owns no checking logic (that is `check`).
//!
//! Sources (the values are theirs, not ours):
//! - Elasticsearch `BootstrapChecks.java` and "Bootstrap checks" docs: file
//!   descriptors >= 65535, threads (nproc) >= 4096, size virtual memory and max
//!   file size unlimited, vm.max_map_count >= 262144 (1 << 18), memory lock
//!   when `bootstrap.memory_lock: true`; `Bootstrap`: "can not run
//!   elasticsearch as root".
//! - OpenSearch: forked from Elasticsearch 7.10, same checks and limits, with
//!   "opensearch" in the messages.
//! - Cassandra: "Recommended production settings" (memlock unlimited, nofile
//!   1048576, nproc 32768, as unlimited, vm.max_map_count 1048575);
//!   `StartupChecks.checkMaxMapCount` wording; `bin/cassandra` refuses uid or
//!   gid 0 unless started with `-R`.
use crate::error::{Error, Result};
use crate::host::Host;
use crate::model::rlimits::{self, Resource};
use crate::parse::options::{Layer, Value};

/// What a service does when started as root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootRule {
    /// Runs as root.
    Allow,
    /// Refuses to start as uid 0 (an error), with the service's message.
    Refuse(&'static str),
    /// Refuses uid or gid 0 unless forced (a warning), with its message.
    Discourage(&'static str),
}

/// Whose message style a profile uses for failed checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wording {
    /// Elasticsearch bootstrap checks; the field is the process name in them.
    Bootstrap(&'static str),
    /// Cassandra startup checks.
    Cassandra,
}

#[derive(Debug)]
pub struct Profile {
    pub name: &'static str,
    pub about: &'static str,
    pub rlimits: &'static [&'static str],
    pub memlock: &'static str,
    pub sysctls: &'static [&'static str],
    pub root: RootRule,
    pub wording: Wording,
}

const ES_LIMITS: &[&str] = &[
    "nofile=65535",
    "nproc=4096",
    "as=unlimited",
    "fsize=unlimited",
];

pub const PROFILES: &[Profile] = &[
    Profile {
        name: "elasticsearch",
        about: "Elasticsearch with bootstrap.memory_lock: true (its bootstrap checks)",
        rlimits: ES_LIMITS,
        memlock: "unlimited",
        sysctls: &["vm.max_map_count>=262144"],
        root: RootRule::Refuse("can not run elasticsearch as root"),
        wording: Wording::Bootstrap("elasticsearch"),
    },
    Profile {
        name: "opensearch",
        about: "OpenSearch with bootstrap.memory_lock: true (Elasticsearch's checks)",
        rlimits: ES_LIMITS,
        memlock: "unlimited",
        sysctls: &["vm.max_map_count>=262144"],
        root: RootRule::Refuse("can not run opensearch as root"),
        wording: Wording::Bootstrap("opensearch"),
    },
    Profile {
        name: "cassandra",
        about: "Apache Cassandra recommended production settings",
        rlimits: &["nofile=1048576", "nproc=32768", "as=unlimited"],
        memlock: "unlimited",
        sysctls: &["vm.max_map_count>=1048575"],
        root: RootRule::Discourage(
            "Running Cassandra as root user or group is not recommended - please start Cassandra using a different system user.",
        ),
        wording: Wording::Cassandra,
    },
];

pub fn find(name: &str) -> Option<&'static Profile> {
    PROFILES
        .iter()
        .find(|p| p.name.eq_ignore_ascii_case(name.trim()))
}

/// The profile named `name` (any case), or the error naming the ones there
/// are: the one lookup for the config file, the layers and `resolve`.
pub fn lookup(name: &str) -> Result<&'static Profile> {
    find(name).ok_or_else(|| {
        Error::Usage(format!(
            "unknown profile {:?}: use one of {}",
            name,
            names()
        ))
    })
}

/// The names, for error messages: "elasticsearch, opensearch, cassandra".
pub fn names() -> String {
    PROFILES
        .iter()
        .map(|p| p.name)
        .collect::<Vec<_>>()
        .join(", ")
}

fn num(v: u64) -> String {
    if v == rlimits::INFINITY {
        "unlimited".into()
    } else {
        v.to_string()
    }
}

impl Profile {
    /// The profile as the lowest options layer. Its limits are minimums
    /// (what the service's checks demand): a limit whose soft value on
    /// `host` already reaches one is left as it is, never lowered.
    pub fn layer(&self, host: &Host) -> Layer {
        let mut l = Layer::default();
        l.set(
            "rlimit",
            Value::List(
                self.rlimits
                    .iter()
                    .filter(|s| match rlimits::parse_spec(s) {
                        Ok(spec) => host.limit(spec.resource).soft < spec.soft,
                        Err(_) => true,
                    })
                    .map(|s| s.to_string())
                    .collect(),
            ),
        );
        l.set("memlock", Value::Text(self.memlock.to_string()));
        l.set(
            "sysctl",
            Value::List(self.sysctls.iter().map(|s| s.to_string()).collect()),
        );
        l.set("profile", Value::Text(self.name.to_string()));
        l
    }

    /// The soft limit this profile requires for `r`, if it sets one.
    pub fn rlimit_min(&self, r: Resource) -> Option<u64> {
        self.rlimits
            .iter()
            .filter_map(|s| rlimits::parse_spec(s).ok())
            .find(|s| s.resource == r)
            .map(|s| s.soft)
    }

    /// The minimum this profile requires for kernel tunable `key`, if any.
    pub fn sysctl_min(&self, key: &str) -> Option<i64> {
        self.sysctls
            .iter()
            .filter_map(|s| crate::model::sysctl::parse(s).ok())
            .find(|r| r.key == key && r.op == crate::model::sysctl::Op::Ge)
            .map(|r| r.value)
    }

    /// The service's own message for a kernel tunable below its minimum.
    pub fn sysctl_wording(&self, key: &str, current: i64, want: i64) -> Option<String> {
        if key != "vm.max_map_count" {
            return None;
        }
        Some(match self.wording {
            Wording::Bootstrap(_) => format!(
                "max virtual memory areas vm.max_map_count [{}] is too low, increase to at least [{}]",
                current, want
            ),
            Wording::Cassandra => format!(
                "Maximum number of memory map areas per process (vm.max_map_count) {} is too low, recommended value: {}, you can change it with sysctl.",
                current, want
            ),
        })
    }

    /// The service's own message for a resource limit it would find too low
    /// (`user` as the service would name it).
    pub fn rlimit_wording(
        &self,
        r: Resource,
        current: u64,
        want: u64,
        user: &str,
    ) -> Option<String> {
        let Wording::Bootstrap(proc) = self.wording else {
            return match r {
                rlimits::MEMLOCK => Some(
                    "Unable to lock JVM memory (ENOMEM). This can result in part of the JVM being swapped out, especially with mmapped I/O enabled. Increase RLIMIT_MEMLOCK or run Cassandra as root.".into(),
                ),
                _ => None,
            };
        };
        Some(match r {
            rlimits::NOFILE => format!(
                "max file descriptors [{}] for {} process is too low, increase to at least [{}]",
                num(current),
                proc,
                num(want)
            ),
            rlimits::NPROC => format!(
                "max number of threads [{}] for user [{}] is too low, increase to at least [{}]",
                num(current),
                user,
                num(want)
            ),
            rlimits::AS => format!(
                "max size virtual memory [{}] for user [{}] is too low, increase to [unlimited]",
                num(current),
                user
            ),
            rlimits::FSIZE => format!(
                "max file size [{}] for user [{}] is too low, increase to [unlimited]",
                num(current),
                user
            ),
            rlimits::MEMLOCK => format!(
                "memory locking requested for {} process but memory is not locked",
                proc
            ),
            _ => return None,
        })
    }
}

pub fn list_text() -> String {
    let mut s = String::new();
    for p in PROFILES {
        s.push_str(&format!("{:<14} {}\n", p.name, p.about));
        let root = match p.root {
            RootRule::Allow => "",
            RootRule::Refuse(_) => " refuses uid 0",
            RootRule::Discourage(_) => " warns on uid/gid 0",
        };
        s.push_str(&format!(
            "{:<14}   memlock={} rlimit (minimums): {} sysctl: {}{}\n",
            "",
            p.memlock,
            p.rlimits.join(" "),
            p.sysctls.join(" "),
            root
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_profile_parses() {
        for p in PROFILES {
            for r in p.rlimits {
                rlimits::parse_spec(r).unwrap();
            }
            for s in p.sysctls {
                crate::model::sysctl::parse(s).unwrap();
            }
            rlimits::parse_value(p.memlock).unwrap();
            assert!(find(&p.name.to_uppercase()).is_some());
        }
        assert!(find("mysql").is_none());
    }

    #[test]
    fn elasticsearch_wording_is_its_own() {
        let es = find("elasticsearch").unwrap();
        assert_eq!(
            es.sysctl_wording("vm.max_map_count", 65530, 262144).unwrap(),
            "max virtual memory areas vm.max_map_count [65530] is too low, increase to at least [262144]"
        );
        assert_eq!(
            es.rlimit_wording(rlimits::NOFILE, 4096, 65535, "elasticsearch")
                .unwrap(),
            "max file descriptors [4096] for elasticsearch process is too low, increase to at least [65535]"
        );
        let c = find("cassandra").unwrap();
        assert!(c
            .sysctl_wording("vm.max_map_count", 65530, 1048575)
            .unwrap()
            .contains("(vm.max_map_count) 65530 is too low, recommended value: 1048575"));
        assert!(list_text().contains("opensearch"));
    }
}
