//! Resolution: `Options` (strings) + a read-only `Host` → an immutable
//! `Plan` with numeric ids, typed limits, capability sets, the memlock
//! strategy and the command. Pure over the host view: invalid *input* is an
//! error here; missing *privilege* is not (it becomes a finding in `check`,
//! so `--check` can print the whole plan).
pub mod supervise;

use crate::error::{Error, Result};
use crate::host::Host;
use crate::model::caps::{self, CapSet};
use crate::model::command::{Command, Env};
use crate::model::rlimits::{self, Limit, Resource};
use crate::model::sysctl::{self, Policy, Requirement};
use crate::model::users::{self, Target};
use crate::parse::flags::{Mode, Options};
use crate::parse::profiles::{self, Profile};
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;

/// How `--memlock` is met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// The soft limit already allows it.
    Already,
    /// Raise the soft limit up to the existing hard limit (no privilege).
    SoftRaise,
    /// Raise the hard limit too (needs CAP_SYS_RESOURCE, outside a user namespace).
    HardRaise,
    /// Keep CAP_IPC_LOCK as an ambient capability: mlock(2) then ignores RLIMIT_MEMLOCK.
    Ambient,
    /// The command runs as root with CAP_IPC_LOCK, which ignores RLIMIT_MEMLOCK.
    Root,
    /// No way: `check` reports it with the fixes.
    Impossible,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    Auto,
    Rlimit,
    Ambient,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Memlock {
    pub want: u64,
    pub strategy: Strategy,
    pub via: Via,
    pub current: Limit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitChange {
    pub resource: Resource,
    pub current: Limit,
    pub desired: Limit,
}

impl LimitChange {
    pub fn raises_hard(&self) -> bool {
        self.desired.hard > self.current.hard
    }
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub mode: Mode,
    /// Who the command runs as when ids and groups change; None: as
    /// lockdrop was started (no --user, or, as non-root, a spec naming who
    /// we already are).
    pub target: Option<Target>,
    pub limits: Vec<LimitChange>,
    pub memlock: Option<Memlock>,
    pub require: CapSet,
    /// Capabilities the command keeps as ambient (asked, plus IPC_LOCK for Via::Ambient).
    pub ambient: CapSet,
    pub no_new_privs: bool,
    pub workdir: Option<CString>,
    pub command: Command,
    pub supervise: supervise::Settings,
    pub sysctls: Vec<Requirement>,
    pub sysctl_policy: Policy,
    pub profile: Option<&'static Profile>,
    pub pid1: bool,
}

impl Plan {
    /// The uid the command ends up with.
    pub fn final_uid(&self, host: &Host) -> u32 {
        final_uid(self.target.as_ref(), host)
    }
    /// Whether the command's capability sets are set exactly to `ambient`:
    /// after a switch to a non-root uid.
    pub fn exact_caps(&self) -> bool {
        self.target.as_ref().is_some_and(|t| t.uid != 0)
    }
    /// Capabilities lockdrop must hold to carry the plan out, each with why.
    pub fn needs(&self) -> Vec<(caps::Cap, String)> {
        let mut v = Vec::new();
        if self.target.is_some() {
            v.push((
                caps::SETGID,
                "to set the groups and gid of the target user".into(),
            ));
            v.push((caps::SETUID, "to switch to the target uid".into()));
        }
        for l in self.limits.iter().filter(|l| l.raises_hard()) {
            v.push((
                caps::SYS_RESOURCE,
                format!(
                    "to raise the hard limit of RLIMIT_{} from {} to {}",
                    l.resource.name().to_ascii_uppercase(),
                    rlimits::fmt_value(l.current.hard),
                    rlimits::fmt_value(l.desired.hard)
                ),
            ));
        }
        v
    }
}

/// The uid the command ends up with, for a plan's target.
fn final_uid(target: Option<&Target>, host: &Host) -> u32 {
    target.map_or(host.euid, |t| t.uid)
}

fn to_cstring(what: &str, s: &[u8]) -> Result<CString> {
    CString::new(s.to_vec()).map_err(|_| Error::Usage(format!("{} contains a NUL byte", what)))
}

fn strategy(s: Option<&str>) -> Result<Strategy> {
    match s.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
        None | Some("auto") => Ok(Strategy::Auto),
        Some("rlimit") => Ok(Strategy::Rlimit),
        Some("ambient") => Ok(Strategy::Ambient),
        Some(_) => Err(Error::Usage(format!(
            "invalid --memlock-via {:?}: use auto, rlimit or ambient",
            s.unwrap_or_default()
        ))),
    }
}

/// Picks how `want` bytes become lockable for a command that runs as `final_uid`.
pub fn memlock_via(
    want: u64,
    strategy: Strategy,
    current: Limit,
    final_uid: u32,
    host: &Host,
) -> Via {
    let ipc_lock_keepable = host.ipc_lock_lifts_memlock();
    let can_raise_hard = host.can_raise_hard_limits();
    let rlimit_via = if current.soft >= want {
        Via::Already
    } else if current.hard >= want {
        Via::SoftRaise
    } else if can_raise_hard {
        Via::HardRaise
    } else {
        Via::Impossible
    };
    match strategy {
        Strategy::Rlimit => rlimit_via,
        Strategy::Ambient if final_uid == 0 => {
            if ipc_lock_keepable {
                Via::Root
            } else {
                Via::Impossible
            }
        }
        Strategy::Ambient => {
            if ipc_lock_keepable {
                Via::Ambient
            } else {
                Via::Impossible
            }
        }
        Strategy::Auto => {
            if rlimit_via != Via::Impossible {
                rlimit_via
            } else if final_uid == 0 && ipc_lock_keepable {
                Via::Root
            } else if ipc_lock_keepable {
                Via::Ambient
            } else {
                Via::Impossible
            }
        }
    }
}

fn same_set(a: &[u32], b: &[u32]) -> bool {
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    a.sort_unstable();
    a.dedup();
    b.sort_unstable();
    b.dedup();
    a == b
}

pub fn resolve(o: &Options, host: &Host) -> Result<Plan> {
    let pid1 = host.pid == 1;
    let mode = o
        .mode
        .unwrap_or(if pid1 { Mode::Supervise } else { Mode::Exec });

    // Supervise-only options would do nothing once the command replaces
    // lockdrop: refuse rather than ignore them.
    if mode == Mode::Exec {
        let sup = supervise::settings(o)?;
        let ignored: Vec<&str> = [
            (sup.process_group, "-g/--process-group"),
            (!sup.rewrite.is_empty(), "--rewrite"),
            (!sup.grace.is_zero(), "--grace"),
            (!sup.remap_exit.is_empty(), "--remap-exit"),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, n)| *n)
        .collect();
        if !ignored.is_empty() {
            return Err(Error::Usage(format!(
                "{} only work(s) when lockdrop supervises the command; in exec mode the command replaces lockdrop. Add --supervise or drop {}",
                ignored.join(", "),
                if ignored.len() == 1 { "it" } else { "them" }
            )));
        }
    }
    // Who. When the user database decides ids, only root may be able to
    // change it. Numeric `UID:GID` (and numeric --groups) take nothing from
    // it but HOME: the documented way to run with an untrusted image.
    let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let ids_given = o.user.as_deref().is_none_or(|u| {
        u.split_once(':')
            .is_some_and(|(u, g)| numeric(u) && numeric(g))
    });
    let groups_given = o.groups.as_deref().is_none_or(|g| {
        g.split(',')
            .map(str::trim)
            .all(|x| x.is_empty() || numeric(x))
    });
    let trust = !(ids_given && groups_given);
    let target = match (&o.user, &o.groups) {
        (Some(spec), _) => {
            let (passwd, group) = host.account_files(trust)?;
            Some(users::resolve(
                &users::parse_spec(spec)?,
                o.groups.as_deref(),
                &passwd,
                &group,
            )?)
        }
        (None, Some(groups)) => {
            // --groups alone: the current user with other supplementary groups.
            let spec = users::UserSpec {
                user: users::Who::Id(host.euid),
                group: Some(users::Who::Id(host.gid)),
            };
            let (passwd, group) = host.account_files(trust)?;
            Some(users::resolve(&spec, Some(groups), &passwd, &group)?)
        }
        (None, None) => None,
    };
    // As non-root, a spec naming who we already are is a no-op, not an error.
    // Not root: a no-op only when the supplementary groups match too;
    // otherwise apply tries (and fails with EPERM without CAP_SETGID)
    // rather than silently skipping them, like setpriv and su-exec.
    let target = target.filter(|t| {
        host.euid == 0
            || t.uid != host.euid
            || t.gid != host.gid
            || !same_set(&t.groups, &host.groups())
    });
    let final_uid = final_uid(target.as_ref(), host);

    // Limits. A later spec for the same resource replaces an earlier one
    // (profile < file < environment < flags arrive in that order from the layers).
    let mut limits: Vec<LimitChange> = Vec::new();
    for s in &o.rlimits {
        let spec = rlimits::parse_spec(s)?;
        let current = host.limit(spec.resource);
        let change = LimitChange {
            resource: spec.resource,
            current,
            desired: spec.target(current),
        };
        limits.retain(|l| l.resource != spec.resource);
        limits.push(change);
    }

    // Memlock requirement.
    let strategy = strategy(o.memlock_via.as_deref())?;
    let explicit_memlock_rlimit = limits.iter().any(|l| l.resource == rlimits::MEMLOCK);
    let memlock = match &o.memlock {
        Some(v) if !explicit_memlock_rlimit => {
            let want = rlimits::parse_value(v)?;
            let current = host.limit(rlimits::MEMLOCK);
            let via = memlock_via(want, strategy, current, final_uid, host);
            match via {
                Via::SoftRaise | Via::HardRaise => limits.push(LimitChange {
                    resource: rlimits::MEMLOCK,
                    current,
                    desired: Limit {
                        soft: want,
                        hard: if want > current.hard {
                            want
                        } else {
                            current.hard
                        },
                    },
                }),
                // The rlimit is ignored with CAP_IPC_LOCK, but programs that
                // print or check it (Elasticsearch logs it) see the most we can give.
                Via::Ambient | Via::Root if current.soft < current.hard => {
                    limits.push(LimitChange {
                        resource: rlimits::MEMLOCK,
                        current,
                        desired: Limit {
                            soft: current.hard,
                            hard: current.hard,
                        },
                    })
                }
                _ => {}
            }
            Some(Memlock {
                want,
                strategy,
                via,
                current,
            })
        }
        _ => None,
    };

    let require = caps::CapSet::from_list(&o.require_caps)?;
    let mut ambient = caps::CapSet::from_list(&o.ambient_caps)?;
    if memlock.as_ref().map(|m| m.via) == Some(Via::Ambient) {
        ambient = ambient.with(caps::IPC_LOCK);
    }

    let sysctls = o
        .sysctls
        .iter()
        .map(|s| sysctl::parse(s))
        .collect::<Result<Vec<_>>>()?;
    let sysctl_policy = o
        .sysctl_policy
        .as_deref()
        .map(sysctl::parse_policy)
        .transpose()?
        .unwrap_or(Policy::Error);
    let profile = match o.profile.as_deref() {
        None | Some("list") => None,
        Some(n) => Some(profiles::lookup(n)?),
    };

    // The command and its environment.
    if o.command.is_empty() {
        return Err(Error::Usage(
            "no command given: write it after the options, e.g. lockdrop --user app -- /usr/bin/app (or command: in the config file)".into(),
        ));
    }
    let argv = o
        .command
        .iter()
        .map(|a| to_cstring("an argument of the command", a.as_bytes()))
        .collect::<Result<Vec<_>>>()?;
    // HOME, USER and LOGNAME follow the target user; everything else passes through.
    let env = match &target {
        None => None,
        Some(t) => {
            let skip = host
                .env_matching(&[b"HOME=", b"USER=", b"LOGNAME="])
                .map(|(i, _)| i)
                .collect();
            let mut added = Vec::with_capacity(3);
            let mut set = |k: &str, v: &str| {
                let mut e = Vec::with_capacity(k.len() + 1 + v.len() + 1);
                e.extend_from_slice(k.as_bytes());
                e.push(b'=');
                e.extend_from_slice(v.as_bytes());
                if let Ok(c) = CString::new(e) {
                    added.push(c);
                }
            };
            set("HOME", &t.home);
            if let Some(n) = &t.name {
                set("USER", n);
                set("LOGNAME", n);
            }
            let env = Env { skip, added };
            Some(env)
        }
    };
    let workdir = o
        .workdir
        .as_deref()
        .map(|w| to_cstring("--workdir", w.as_bytes()))
        .transpose()?;

    Ok(Plan {
        mode,
        target,
        limits,
        memlock,
        require,
        ambient,
        no_new_privs: o.no_new_privs.unwrap_or(false),
        workdir,
        command: Command {
            // The switch replaces HOME, USER and LOGNAME only: PATH is the caller's.
            path: host.getenv("PATH").map(<[u8]>::to_vec),
            argv,
            env,
        },
        supervise: supervise::settings(o)?,
        sysctls,
        sysctl_policy,
        profile,
        pid1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::fixture::Fixture;
    use crate::model::rlimits::INFINITY;

    const FULL_NO_RESOURCE: u64 = 0x1fffeffffff; // this machine: all but CAP_SYS_RESOURCE

    pub fn fixture(uid: u32, eff: u64, memlock: Limit) -> Host {
        Fixture::temp("plan")
            .file(
                "/etc/passwd",
                "root:x:0:0::/root:/bin/sh\nes:x:1000:1000::/home/es:/bin/sh\n",
            )
            .file("/etc/group", "root:x:0:\nes:x:1000:\nwheel:x:10:es\n")
            .uid(uid)
            .caps(CapSet(eff))
            .limit(rlimits::MEMLOCK, memlock.soft, memlock.hard)
            .limit(rlimits::NOFILE, 1024, 524288)
            .build()
    }

    fn opts(user: &str, memlock: &str, via: Option<&str>) -> Options {
        Options {
            user: Some(user.into()),
            memlock: Some(memlock.into()),
            memlock_via: via.map(String::from),
            command: vec!["/bin/true".into()],
            ..Options::default()
        }
    }

    const MIB8: Limit = Limit {
        soft: 8 << 20,
        hard: 8 << 20,
    };

    #[test]
    fn default_container_takes_ambient_path() {
        let h = fixture(0, FULL_NO_RESOURCE, MIB8);
        let p = resolve(&opts("es", "unlimited", None), &h).unwrap();
        assert_eq!(p.memlock.as_ref().unwrap().via, Via::Ambient);
        assert!(p.ambient.has(caps::IPC_LOCK));
        assert_eq!(p.target.as_ref().unwrap().groups, vec![1000, 10]);
        assert!(p
            .command
            .env
            .as_ref()
            .unwrap()
            .added
            .iter()
            .any(|e| e.to_bytes() == b"HOME=/home/es"));
    }

    #[test]
    fn rlimit_strategy_without_sys_resource_is_impossible() {
        let h = fixture(0, FULL_NO_RESOURCE, MIB8);
        let p = resolve(&opts("es", "unlimited", Some("rlimit")), &h).unwrap();
        assert_eq!(p.memlock.unwrap().via, Via::Impossible);
    }

    #[test]
    fn sys_resource_raises_hard() {
        let h = fixture(0, FULL_NO_RESOURCE | (1 << 24), MIB8);
        let p = resolve(&opts("es", "unlimited", None), &h).unwrap();
        assert_eq!(p.memlock.as_ref().unwrap().via, Via::HardRaise);
        let l = p
            .limits
            .iter()
            .find(|l| l.resource == rlimits::MEMLOCK)
            .unwrap();
        assert_eq!(
            l.desired,
            Limit {
                soft: INFINITY,
                hard: INFINITY
            }
        );
        assert!(p.needs().iter().any(|(c, _)| *c == caps::SYS_RESOURCE));
    }

    #[test]
    fn within_hard_is_a_soft_raise() {
        let h = fixture(
            0,
            0,
            Limit {
                soft: 64 << 10,
                hard: INFINITY,
            },
        );
        let p = resolve(&opts("es", "64M", None), &h).unwrap();
        assert_eq!(p.memlock.unwrap().via, Via::SoftRaise);
    }

    #[test]
    fn nothing_available_is_impossible() {
        let h = fixture(0, 0xc0, MIB8); // SETUID+SETGID only
        let p = resolve(&opts("es", "unlimited", None), &h).unwrap();
        assert_eq!(p.memlock.unwrap().via, Via::Impossible);
    }

    #[test]
    fn non_root_same_user_is_noop() {
        let h = fixture(1000, 0, MIB8);
        // Same uid and gid, and the groups already as asked: nothing to do.
        let p = resolve(
            &Options {
                groups: Some(String::new()),
                ..opts("es", "1M", None)
            },
            &h,
        )
        .unwrap();
        assert!(p.target.is_none());
        // Same uid and gid but other groups: applied (and refused by the
        // kernel without CAP_SETGID), never silently skipped.
        let p = resolve(&opts("es", "1M", None), &h).unwrap();
        assert!(p.target.is_some());
        let p = resolve(&opts("root", "1M", None), &h).unwrap();
        assert!(p.target.is_some());
    }

    #[test]
    fn user_namespace_ipc_lock_does_not_lift_memlock() {
        let h = fixture(0, FULL_NO_RESOURCE, MIB8);
        std::fs::create_dir_all(h.root.join("proc/self")).unwrap();
        std::fs::write(
            h.root.join("proc/self/uid_map"),
            "         0     100000      65536\n",
        )
        .unwrap();
        assert_eq!(
            resolve(&opts("es", "64M", None), &h)
                .unwrap()
                .memlock
                .unwrap()
                .via,
            Via::Impossible
        );
        assert_eq!(
            resolve(&opts("root", "64M", None), &h)
                .unwrap()
                .memlock
                .unwrap()
                .via,
            Via::Impossible
        );
    }

    #[test]
    fn no_command_is_an_error() {
        let h = fixture(0, 0, MIB8);
        let mut o = opts("es", "1M", None);
        o.command.clear();
        assert!(resolve(&o, &h)
            .unwrap_err()
            .to_string()
            .contains("no command"));
    }
}
