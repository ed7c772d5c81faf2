//! Kernel tunable requirements (`vm.max_map_count>=262144`) and the policy
//! for a failed one (error / warn / modify), after kubelet's desired-state
//! table. Pure parsing; reading /proc/sys is the host view's job
//! (`host::sysctl`), writing it `apply::sysctl`'s, and turning a failed
//! requirement into a finding with its fixes `check`'s.
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Ge,
    Le,
    Eq,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    pub key: String,
    pub op: Op,
    pub value: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// A failed requirement stops the start (the default).
    Error,
    /// A failed requirement is printed; the command starts anyway.
    Warn,
    /// Write the required value when /proc/sys lets us; else as `Error`.
    Modify,
}

impl Policy {
    pub fn name(self) -> &'static str {
        match self {
            Policy::Error => "error",
            Policy::Warn => "warn",
            Policy::Modify => "modify",
        }
    }
}

pub fn parse_policy(s: &str) -> Result<Policy> {
    match s.trim().to_ascii_lowercase().as_str() {
        "error" => Ok(Policy::Error),
        "warn" => Ok(Policy::Warn),
        "modify" => Ok(Policy::Modify),
        _ => Err(Error::Usage(format!(
            "invalid --sysctl-policy {:?}: use error, warn or modify",
            s
        ))),
    }
}

/// `KEY>=VALUE`, `KEY<=VALUE`, `KEY=VALUE` (spaces allowed around OP).
pub fn parse(s: &str) -> Result<Requirement> {
    let bad = || {
        Error::Usage(format!(
            "invalid --sysctl {:?}: write KEY OP VALUE with OP >=, <= or =, e.g. vm.max_map_count>=262144",
            s
        ))
    };
    let (key, op, val) = if let Some((k, v)) = s.split_once(">=") {
        (k, Op::Ge, v)
    } else if let Some((k, v)) = s.split_once("<=") {
        (k, Op::Le, v)
    } else if let Some((k, v)) = s.split_once('=') {
        (k, Op::Eq, v)
    } else {
        return Err(bad());
    };
    // Validated after `/` becomes `.`, so "vm/./x" and "/swappiness" fail too.
    let key = key.trim().replace('/', ".");
    if key.is_empty()
        || key.starts_with('.')
        || key.ends_with('.')
        || key.contains("..")
        || !key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
    {
        return Err(bad());
    }
    let value: i64 = val.trim().parse().map_err(|_| bad())?;
    Ok(Requirement { key, op, value })
}

impl Requirement {
    pub fn holds(&self, current: i64) -> bool {
        match self.op {
            Op::Ge => current >= self.value,
            Op::Le => current <= self.value,
            Op::Eq => current == self.value,
        }
    }
    pub fn op_str(&self) -> &'static str {
        match self.op {
            Op::Ge => ">=",
            Op::Le => "<=",
            Op::Eq => "=",
        }
    }
}

/// /proc/sys/vm/max_map_count for `vm.max_map_count`.
pub fn path(key: &str) -> String {
    format!("/proc/sys/{}", key.replace('.', "/"))
}

/// Sysctls that belong to a namespace a container has of its own (IPC, UTS,
/// network): Docker's `--sysctl` and Kubernetes' `securityContext.sysctls`
/// accept only these. Everything else (vm.*, fs.* but mqueue, most kernel.*)
/// is the host's and can only be changed there.
pub fn namespaced(key: &str) -> bool {
    key.starts_with("net.")
        || key.starts_with("fs.mqueue.")
        || key.starts_with("kernel.shm")
        || key.starts_with("kernel.msg")
        || matches!(key, "kernel.sem" | "kernel.hostname" | "kernel.domainname")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_and_namespaces() {
        assert_eq!(parse_policy(" Modify ").unwrap(), Policy::Modify);
        assert!(parse_policy("fix")
            .unwrap_err()
            .to_string()
            .contains("error, warn or modify"));
        assert!(namespaced("net.core.somaxconn") && namespaced("kernel.shmmax"));
        assert!(!namespaced("vm.max_map_count") && !namespaced("fs.file-max"));
        assert_eq!(path("vm.max_map_count"), "/proc/sys/vm/max_map_count");
        assert_eq!(
            parse("fs/inotify/max_user_watches>=1").unwrap().key,
            "fs.inotify.max_user_watches"
        );
    }

    #[test]
    fn parses() {
        let r = parse("vm.max_map_count>=262144").unwrap();
        assert_eq!(
            (r.key.as_str(), r.op, r.value),
            ("vm.max_map_count", Op::Ge, 262144)
        );
        assert_eq!(parse("vm.swappiness <= 1").unwrap().op, Op::Le);
        assert_eq!(parse("vm.overcommit_memory=0").unwrap().op, Op::Eq);
        for bad in [
            "",
            "vm.max_map_count",
            ">=1",
            "vm..x>=1",
            "vm.x>=abc",
            "../etc>=1",
            "a b>=1",
            "/swappiness<=1",
            "vm/./max_map_count>=1",
            "vm/>=1",
        ] {
            assert!(parse(bad).is_err(), "{}", bad);
        }
        assert!(r.holds(262144) && !r.holds(65530));
    }
}
