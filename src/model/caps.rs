//! Capability names and sets: parsing every spelling users write
//! (`ipc_lock`, `IPC_LOCK`, `CAP_IPC_LOCK`), rejecting the `CAP_CAP_X` that a
//! Kubernetes manifest turns into under containerd, and suggesting the nearest
//! name for typos. Pure; reading and writing the process's sets is `sys`'s job.
use crate::error::{Error, Result};

/// Capability names, index = capability number (linux/capability.h).
pub const NAMES: &[&str] = &[
    "chown",
    "dac_override",
    "dac_read_search",
    "fowner",
    "fsetid",
    "kill",
    "setgid",
    "setuid",
    "setpcap",
    "linux_immutable",
    "net_bind_service",
    "net_broadcast",
    "net_admin",
    "net_raw",
    "ipc_lock",
    "ipc_owner",
    "sys_module",
    "sys_rawio",
    "sys_chroot",
    "sys_ptrace",
    "sys_pacct",
    "sys_admin",
    "sys_boot",
    "sys_nice",
    "sys_resource",
    "sys_time",
    "sys_tty_config",
    "mknod",
    "lease",
    "audit_write",
    "audit_control",
    "setfcap",
    "mac_override",
    "mac_admin",
    "syslog",
    "wake_alarm",
    "block_suspend",
    "audit_read",
    "perfmon",
    "bpf",
    "checkpoint_restore",
];

pub const KILL: Cap = Cap(5);
pub const SETGID: Cap = Cap(6);
pub const SETUID: Cap = Cap(7);
pub const IPC_LOCK: Cap = Cap(14);
pub const SYS_RESOURCE: Cap = Cap(24);

/// One capability, by number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cap(pub u8);

impl Cap {
    pub fn name(self) -> &'static str {
        NAMES.get(self.0 as usize).copied().unwrap_or("unknown")
    }
    /// `CAP_IPC_LOCK`: the spelling of capabilities(7) and error messages.
    pub fn upper(self) -> String {
        format!("CAP_{}", self.name().to_ascii_uppercase())
    }
    /// `IPC_LOCK`: the spelling Docker, Compose and Kubernetes want.
    pub fn short(self) -> String {
        self.name().to_ascii_uppercase()
    }
}

/// A capability set as the kernel's 64-bit mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CapSet(pub u64);

impl CapSet {
    pub const EMPTY: CapSet = CapSet(0);
    pub fn has(self, c: Cap) -> bool {
        self.0 & (1u64 << c.0) != 0
    }
    pub fn with(self, c: Cap) -> CapSet {
        CapSet(self.0 | (1u64 << c.0))
    }
    pub fn union(self, o: CapSet) -> CapSet {
        CapSet(self.0 | o.0)
    }
    pub fn minus(self, o: CapSet) -> CapSet {
        CapSet(self.0 & !o.0)
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    pub fn iter(self) -> impl Iterator<Item = Cap> {
        (0..64u8)
            .filter(move |i| self.0 & (1u64 << i) != 0)
            .map(Cap)
    }
    /// `CAP_IPC_LOCK,CAP_SYS_RESOURCE` (or `none`).
    pub fn names(self) -> String {
        if self.is_empty() {
            return "none".into();
        }
        self.iter()
            .map(|c| {
                if (c.0 as usize) < NAMES.len() {
                    c.upper()
                } else {
                    format!("cap_{}", c.0)
                }
            })
            .collect::<Vec<_>>()
            .join(",")
    }
    pub fn from_list(list: &[String]) -> Result<CapSet> {
        let mut s = CapSet::EMPTY;
        for n in list {
            s = s.with(parse(n)?);
        }
        Ok(s)
    }
}

/// Parses one capability name in any spelling; errors name the input and
/// what to write instead.
pub fn parse(input: &str) -> Result<Cap> {
    let t = input.trim();
    let lower = t.to_ascii_lowercase();
    let bare = lower.strip_prefix("cap_").unwrap_or(&lower);
    if let Some(rest) = bare.strip_prefix("cap_") {
        if NAMES.contains(&rest) {
            return Err(Error::Usage(format!(
                "capability {:?} has the CAP_ prefix twice: containerd adds CAP_ to the names in a Kubernetes \
                 securityContext and silently ignores unknown ones, so the pod would start without it; \
                 write {:?} (capabilities.add: [\"{}\"])",
                t, rest.to_ascii_uppercase(), rest.to_ascii_uppercase()
            )));
        }
    }
    if let Some(i) = NAMES.iter().position(|n| *n == bare) {
        return Ok(Cap(i as u8));
    }
    if let Ok(n) = bare.parse::<u8>() {
        if (n as usize) < NAMES.len() {
            return Ok(Cap(n));
        }
    }
    let hint = nearest(bare)
        .map(|n| format!("; did you mean {}?", n.to_ascii_uppercase()))
        .unwrap_or_default();
    Err(Error::Usage(format!(
        "unknown capability {:?}{} (names as in capabilities(7), with or without CAP_, any case)",
        t, hint
    )))
}

fn nearest(s: &str) -> Option<&'static str> {
    let (best, d) = NAMES
        .iter()
        .map(|n| (*n, distance(s, n)))
        .min_by_key(|(_, d)| *d)?;
    if d <= 3.max(s.len() / 3) {
        Some(best)
    } else {
        None
    }
}

/// Levenshtein distance (names are short; quadratic is fine).
pub fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Parses a hex mask as printed in /proc/PID/status (`CapEff:\t000001ff...`).
pub fn parse_mask(hex: &str) -> Option<CapSet> {
    u64::from_str_radix(hex.trim(), 16).ok().map(CapSet)
}

/// The five capability sets of a process.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CapState {
    pub effective: CapSet,
    pub permitted: CapSet,
    pub inheritable: CapSet,
    pub bounding: CapSet,
    pub ambient: CapSet,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling() {
        for s in [
            "ipc_lock",
            "IPC_LOCK",
            "CAP_IPC_LOCK",
            "cap_ipc_lock",
            " Cap_Ipc_Lock ",
            "14",
        ] {
            assert_eq!(parse(s).unwrap(), IPC_LOCK, "{}", s);
        }
        assert_eq!(parse("SYS_RESOURCE").unwrap(), SYS_RESOURCE);
        assert_eq!(NAMES.len(), 41);
    }

    #[test]
    fn double_prefix_explains_kubernetes() {
        let e = parse("CAP_CAP_SYS_RESOURCE").unwrap_err().to_string();
        assert!(
            e.contains("containerd") && e.contains("\"SYS_RESOURCE\""),
            "{}",
            e
        );
    }

    #[test]
    fn typo_gets_suggestion() {
        let e = parse("IPC_LOKC").unwrap_err().to_string();
        assert!(e.contains("did you mean IPC_LOCK"), "{}", e);
        let e = parse("sysresource").unwrap_err().to_string();
        assert!(e.contains("SYS_RESOURCE"), "{}", e);
        assert!(parse("").is_err());
        assert!(parse("99").is_err());
    }

    #[test]
    fn sets() {
        let s = CapSet::from_list(&["ipc_lock".into(), "CAP_SYS_RESOURCE".into()]).unwrap();
        assert!(s.has(IPC_LOCK) && s.has(SYS_RESOURCE) && !s.has(SETUID));
        assert_eq!(s.names(), "CAP_IPC_LOCK,CAP_SYS_RESOURCE");
        assert_eq!(
            parse_mask("000001fffeffffff").unwrap().has(SYS_RESOURCE),
            false
        );
        assert_eq!(
            parse_mask("0000000000004000").unwrap(),
            CapSet::EMPTY.with(IPC_LOCK)
        );
    }
}
