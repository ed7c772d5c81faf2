//! Checks: `Plan` × host → findings, each with a level, what is wrong and the
//! exact fix for Docker, Compose and Kubernetes. Runs before anything
//! changes; a real start stops at the first error, `--check` prints them all.
use crate::error::{Error, Failure, Result};
use crate::host::Host;
use crate::model::caps::{self, Cap};
use crate::model::rlimits::{self, fmt_bytes};
use crate::model::sysctl::{self, Policy};
use crate::parse::profiles::RootRule;
use crate::resolve::{Plan, Via};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Ok,
    Warn,
    Error,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub level: Level,
    /// What was checked, and what is wrong when it is.
    pub what: String,
    /// The exact remedy (several lines allowed), empty when ok.
    pub fix: String,
}

impl Finding {
    fn ok(what: String) -> Finding {
        Finding {
            level: Level::Ok,
            what,
            fix: String::new(),
        }
    }
    fn error(what: String, fix: String) -> Finding {
        Finding {
            level: Level::Error,
            what,
            fix,
        }
    }
}

/// The remedies for a missing capability, in every runtime's spelling.
pub fn cap_fix(c: Cap) -> String {
    let s = c.short();
    format!(
        "docker run --cap-add {s} ... | compose: cap_add: [\"{s}\"] | kubernetes: securityContext.capabilities.add: [\"{s}\"] (no CAP_ prefix: containerd adds it)"
    )
}

/// Under Kubernetes (the kubelet always sets KUBERNETES_SERVICE_HOST) the
/// likeliest cause of a missing capability: containerd's CRI plugin prefixes
/// every `capabilities.add` name with CAP_, so "CAP_IPC_LOCK" becomes
/// CAP_CAP_IPC_LOCK, which runc drops without a word.
fn kubernetes_hint(host: &Host, s: &str) -> String {
    if host.kubernetes {
        format!("kubernetes: write securityContext.capabilities.add: [\"{s}\"] without the CAP_ prefix: containerd turns \"CAP_{s}\" into CAP_CAP_{s} and the container silently starts without it\n")
    } else {
        String::new()
    }
}

fn rlimit_value(v: u64) -> String {
    if v == rlimits::INFINITY {
        "-1".to_string()
    } else {
        v.to_string()
    }
}

/// Setting a hard limit where the container starts, for one resource.
fn ulimit_fix(name: &str, v: u64) -> String {
    let v = rlimit_value(v);
    format!(
        "or set the limit when the container starts: docker run --ulimit {name}={v}:{v} ... | compose: ulimits: {{{name}: {{soft: {v}, hard: {v}}}}}\n\
         kubernetes has no ulimit field: add SYS_RESOURCE (no CAP_ prefix) as above, or raise the runtime's default (Limit{u}= in the containerd or CRI-O systemd unit)",
        u = name.to_ascii_uppercase()
    )
}

fn memlock_fix(want: u64, strategy: crate::resolve::Strategy, userns: bool) -> String {
    let v = rlimit_value(want);
    let mut s = if strategy == crate::resolve::Strategy::Rlimit {
        // This mode raises the limit itself: IPC_LOCK cannot help it.
        format!(
            "docker run --ulimit memlock={v}:{v} ...   or   docker run --cap-add SYS_RESOURCE ...\n\
             compose: ulimits: {{memlock: {{soft: {v}, hard: {v}}}}}   or   cap_add: [\"SYS_RESOURCE\"]\n\
             kubernetes has no ulimit field: securityContext.capabilities.add: [\"SYS_RESOURCE\"] (no CAP_ prefix), or drop --memlock-via rlimit and add IPC_LOCK"
        )
    } else {
        format!(
            "docker run --cap-add IPC_LOCK ...   or   docker run --ulimit memlock={v}:{v} ...\n\
             compose: cap_add: [\"IPC_LOCK\"]   or   ulimits: {{memlock: {{soft: {v}, hard: {v}}}}}\n\
             kubernetes (no ulimit field): securityContext.capabilities.add: [\"IPC_LOCK\"] (no CAP_ prefix)"
        )
    };
    if userns {
        s.push_str("\nthis process is in a user namespace: no capability inside it can raise a hard limit, and CAP_IPC_LOCK inside it does not lift RLIMIT_MEMLOCK (mlock checks the initial namespace); raise the limit where the container is started");
    }
    s
}

pub fn check(plan: &Plan, host: &Host) -> Vec<Finding> {
    check_with(plan, host, true)
}

/// `check`, where `ok_texts` false leaves the text of an ok finding empty:
/// a start only prints warnings and errors, so it does not format the user
/// and memlock summaries only `--check` shows (start-up cost; bench/).
pub fn check_with(plan: &Plan, host: &Host, ok_texts: bool) -> Vec<Finding> {
    let mut out = Vec::new();
    // Lazy: a start that switches no user and raises nothing reads neither
    // the capability sets nor /proc (start-up cost; see bench/).
    let eff = || host.effective();
    let userns = || host.in_user_namespace() == Some(true);

    // Starting as non-root can only switch to ourselves.
    if let Some(t) = plan.target.as_ref() {
        if host.euid != 0 {
            out.push(Finding::error(
                if t.uid == host.euid && t.gid == host.gid {
                    // Same ids, other supplementary groups: never silently kept.
                    format!("setting the supplementary groups to {:?} needs lockdrop to start as root, but it started as uid {} (it has other groups now)", t.groups, host.euid)
                } else {
                    format!("switching to uid {} needs lockdrop to start as root, but it started as uid {}", t.uid, host.euid)
                },
                "start the container as root (Dockerfile USER root, Kubernetes runAsUser: 0); lockdrop drops to --user itself".into(),
            ));
        } else if t.groups.len() > 65536 {
            // setgroups(2) fails with EINVAL above NGROUPS_MAX: say why, before anything changes.
            out.push(Finding::error(
                format!("the target user is in {} groups; the kernel allows at most 65536 (NGROUPS_MAX)", t.groups.len()),
                "pass --groups with the groups the command needs, or remove the user from groups in /etc/group".into(),
            ));
        } else if !ok_texts {
            out.push(Finding::ok(String::new()));
        } else {
            // One string, no String per group (a user in 10k groups).
            use std::fmt::Write;
            let mut m = format!("user: uid {} gid {} groups ", t.uid, t.gid);
            for (i, g) in t.groups.iter().enumerate() {
                let _ = write!(m, "{}{}", if i > 0 { "," } else { "" }, g);
            }
            if t.groups.is_empty() {
                m.push_str("none");
            }
            m.push_str(" home ");
            m.push_str(&t.home);
            out.push(Finding::ok(m));
        }
    }
    out.extend(root_rule(plan, host));
    // needs() lists one SYS_RESOURCE per limit whose hard value rises, in
    // the order of plan.limits: pair them to print each real limit.
    let mut raised = plan.limits.iter().filter(|l| l.raises_hard());
    for (cap, why) in plan.needs() {
        let limit = if cap == caps::SYS_RESOURCE {
            raised.next()
        } else {
            None
        };
        let held = if cap == caps::SYS_RESOURCE {
            host.can_raise_hard_limits()
        } else {
            eff().has(cap)
        };
        if held {
            continue;
        }
        let mut fix = format!("{}{}", kubernetes_hint(host, &cap.short()), cap_fix(cap));
        if cap == caps::SYS_RESOURCE {
            fix = if userns() {
                "this process is in a user namespace: no capability inside it can raise a hard limit; set the limit where the container is started (docker run --ulimit ...)".into()
            } else if let Some(l) = limit {
                format!("{}\n{}", fix, ulimit_fix(l.resource.name(), l.desired.hard))
            } else {
                fix
            };
        }
        out.push(Finding::error(
            format!("{} is missing: needed {}", cap.upper(), why),
            fix,
        ));
    }
    // The same failure in the service's own words, so a search finds it.
    if let Some(p) = plan.profile {
        let can_raise = host.can_raise_hard_limits();
        for l in plan.limits.iter().filter(|l| l.raises_hard() && !can_raise) {
            if let Some(w) = p.rlimit_wording(
                l.resource,
                l.current.hard,
                l.desired.soft,
                &user_name(plan, host),
            ) {
                out.push(Finding::error(
                    format!("{} would fail its check: {}", p.name, w),
                    format!(
                        "docker run --ulimit {n}={v}:{v} ... | compose: ulimits: {{{n}: {v}}} | kubernetes has no ulimit field: raise the runtime's default (Limit{u}= in the containerd or CRI-O systemd unit; dockerd --default-ulimit {n}={v}:{v})",
                        n = l.resource.name(),
                        u = l.resource.name().to_ascii_uppercase(),
                        v = if l.desired.hard == rlimits::INFINITY { "-1".to_string() } else { l.desired.hard.to_string() }
                    ),
                ));
            }
        }
    }

    // nofile cannot exceed fs.nr_open (setrlimit fails with EPERM even for root).
    for l in &plan.limits {
        if l.resource == rlimits::NOFILE {
            if let Some(nr_open) = host.sysctl_u64("fs.nr_open") {
                let over = |v: u64| v == rlimits::INFINITY || v > nr_open;
                if over(l.desired.hard) || over(l.desired.soft) {
                    out.push(Finding::error(
                        format!("RLIMIT_NOFILE {} is above fs.nr_open = {}: the kernel refuses it", rlimits::fmt_value(l.desired.hard), nr_open),
                        format!("ask for at most {} (-l nofile={}), or raise fs.nr_open on the host (sysctl -w fs.nr_open=...)", nr_open, nr_open),
                    ));
                }
            }
        }
    }

    if let Some(m) = &plan.memlock {
        let can = |how: &dyn Fn() -> String| {
            Finding::ok(if ok_texts {
                format!(
                    "memlock: the command can lock {} ({})",
                    fmt_bytes(m.want),
                    how()
                )
            } else {
                String::new()
            })
        };
        match m.via {
            Via::Already => out.push(can(&|| "RLIMIT_MEMLOCK already allows it".into())),
            Via::SoftRaise => out.push(can(&|| {
                "raising the soft RLIMIT_MEMLOCK within the hard limit".into()
            })),
            Via::HardRaise => out.push(can(&|| {
                "raising RLIMIT_MEMLOCK with CAP_SYS_RESOURCE: the rlimit path".into()
            })),
            Via::Ambient => out.push(can(&|| {
                format!(
                    "keeping CAP_IPC_LOCK as an ambient capability; RLIMIT_MEMLOCK stays at {}",
                    fmt_bytes(m.current.hard)
                )
            })),
            Via::Root => out.push(can(&|| "the command runs as root with CAP_IPC_LOCK".into())),
            Via::Impossible => {
                let why = match m.strategy {
                    crate::resolve::Strategy::Rlimit => {
                        "--memlock-via rlimit needs CAP_SYS_RESOURCE"
                    }
                    crate::resolve::Strategy::Ambient => "--memlock-via ambient needs CAP_IPC_LOCK",
                    crate::resolve::Strategy::Auto => {
                        "neither CAP_SYS_RESOURCE nor CAP_IPC_LOCK is available"
                    }
                };
                let service = plan
                    .profile
                    .and_then(|p| {
                        p.rlimit_wording(
                            rlimits::MEMLOCK,
                            m.current.hard,
                            m.want,
                            &user_name(plan, host),
                        )
                    })
                    .map(|w| {
                        format!(
                            " ({} would say: {})",
                            plan.profile.map(|p| p.name).unwrap_or(""),
                            w
                        )
                    })
                    .unwrap_or_default();
                out.push(Finding::error(
                    format!(
                        "the command must lock {} of memory, but RLIMIT_MEMLOCK's hard limit is {} and {}{}",
                        fmt_bytes(m.want), fmt_bytes(m.current.hard), why, service
                    ),
                    // `docker run --user 1000 --cap-add IPC_LOCK`: Docker leaves an
                    // added capability only in the bounding set of a non-root
                    // start, so adding it again cannot help.
                    if host.euid != 0
                        && m.strategy != crate::resolve::Strategy::Rlimit
                        && host.in_bounding(caps::IPC_LOCK)
                    {
                        format!(
                            "IPC_LOCK was added to the container (it is in the bounding set), but lockdrop started as uid {} and holds no capability: start the container as root (no docker run --user, USER root, kubernetes runAsUser: 0) and give lockdrop --user instead",
                            host.euid
                        )
                    } else { format!(
                        "{}{}",
                        if m.strategy == crate::resolve::Strategy::Rlimit {
                            kubernetes_hint(host, "SYS_RESOURCE")
                        } else {
                            kubernetes_hint(host, "IPC_LOCK")
                        },
                        memlock_fix(m.want, m.strategy, userns())
                    ) },
                ));
            }
        }
    }

    for c in plan.require.iter() {
        if eff().has(c) {
            out.push(Finding::ok(format!(
                "{} is in the effective set",
                c.upper()
            )));
        } else {
            out.push(Finding::error(
                format!(
                    "{} is required (--require-cap) but not in the effective set",
                    c.upper()
                ),
                cap_fix(c),
            ));
        }
    }
    for c in plan.ambient.iter() {
        if !(host.permitted().has(c) && host.in_bounding(c)) {
            out.push(Finding::error(
                format!(
                    "{} cannot be kept as ambient: lockdrop does not hold it",
                    c.upper()
                ),
                cap_fix(c),
            ));
        }
    }
    out.extend(sysctls(plan, host));
    out
}

/// The name the service would print for the user it runs as.
fn user_name(plan: &Plan, host: &Host) -> String {
    match plan.target.as_ref() {
        Some(t) => t.name.clone().unwrap_or_else(|| t.uid.to_string()),
        None if host.euid == 0 => "root".into(),
        None => host.euid.to_string(),
    }
}

/// Services that refuse (or discourage) running as root, in their words.
fn root_rule(plan: &Plan, host: &Host) -> Option<Finding> {
    let p = plan.profile?;
    let (uid, gid) = match plan.target.as_ref() {
        Some(t) => (t.uid, t.gid),
        None => (host.euid, host.gid),
    };
    let how = if plan.target.is_some() {
        "the --user given is root"
    } else {
        "lockdrop runs as root and was given no --user"
    };
    match p.root {
        RootRule::Allow => None,
        RootRule::Refuse(msg) if uid == 0 => Some(Finding::error(
            format!("{} ({}: {})", msg, p.name, how),
            format!(
                "add --user with the service's own user (e.g. --user {}:root as in the official image)",
                p.name
            ),
        )),
        RootRule::Discourage(msg) if uid == 0 || gid == 0 => Some(Finding {
            level: Level::Warn,
            what: format!("{} ({}: uid {} gid {}; it exits unless started with -R)", msg, p.name, uid, gid),
            fix: format!("add --user {n}:{n} (the official image's user)", n = p.name),
        }),
        _ => None,
    }
}

/// The fixes for a kernel tunable, for the host and each runtime.
pub fn sysctl_fix(key: &str, value: i64) -> String {
    if sysctl::namespaced(key) {
        return format!(
            "docker run --sysctl {k}={v} ... | compose: sysctls: {{{k}: {v}}} | kubernetes: securityContext.sysctls: [{{name: {k}, value: \"{v}\"}}] (unsafe ones need kubelet --allowed-unsafe-sysctls)",
            k = key,
            v = value
        );
    }
    format!(
        "host: sysctl -w {k}={v} (persist: echo {k}={v} > /etc/sysctl.d/99-{k}.conf)\n\
         docker, compose: {k} is not namespaced, so docker run --sysctl and compose sysctls: cannot set it: set it on the host (Docker Desktop: wsl -d docker-desktop -u root sysctl -w {k}={v})\n\
         kubernetes: node tuning (node image, DaemonSet, the provider's node config), or a privileged init container: initContainers: [{{name: sysctl, image: busybox, securityContext: {{privileged: true}}, command: [sysctl, -w, {k}={v}]}}]",
        k = key,
        v = value
    )
}

/// `--sysctl` requirements against /proc/sys, under `--sysctl-policy`.
fn sysctls(plan: &Plan, host: &Host) -> Vec<Finding> {
    let policy = plan.sysctl_policy;
    let fail_level = if policy == Policy::Warn {
        Level::Warn
    } else {
        Level::Error
    };
    let mut out = Vec::new();
    for r in &plan.sysctls {
        let want = format!("{}{}{}", r.key, r.op_str(), r.value);
        let current = match crate::host::sysctl::read(host, &r.key) {
            Ok(v) => v,
            Err(why) => {
                out.push(Finding {
                    level: fail_level,
                    what: format!("--sysctl {}: {}", want, why),
                    fix: format!("check the name (sysctl -a | grep {}); a container may not see every host tunable", r.key),
                });
                continue;
            }
        };
        if r.holds(current) {
            out.push(Finding::ok(format!("{} = {} ({})", r.key, current, want)));
            continue;
        }
        let what = plan
            .profile
            .and_then(|p| {
                p.sysctl_wording(&r.key, current, r.value)
                    .map(|w| format!("{} ({} check, --sysctl {})", w, p.name, want))
            })
            .unwrap_or_else(|| {
                format!("kernel tunable {} is {}, required {}", r.key, current, want)
            });
        let fix = sysctl_fix(&r.key, r.value);
        if policy != Policy::Modify {
            out.push(Finding {
                level: fail_level,
                what,
                fix,
            });
            continue;
        }
        match crate::host::sysctl::writable(host, &r.key) {
            Ok(()) => out.push(Finding::ok(format!(
                "{}: --sysctl-policy modify will set it from {} to {}",
                what, current, r.value
            ))),
            Err(why) => out.push(Finding {
                level: Level::Error,
                what: format!("{}; --sysctl-policy modify cannot set it: {}", what, why),
                fix,
            }),
        }
    }
    out
}

/// Whether the command would be found and executable for the user it runs
/// as, the way exec resolves it (only for `--check`: a real start lets exec
/// answer, with exit code 126 or 127).
pub fn command(plan: &Plan, host: &Host) -> Finding {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::MetadataExt;
    let name = plan.command.name();
    let Some(arg0) = plan.command.argv.first() else {
        return Finding::error(
            "no command given".into(),
            "write it after the options".into(),
        );
    };
    let (uid, gids) = match plan.target.as_ref() {
        Some(t) => (
            t.uid,
            t.groups.iter().copied().chain([t.gid]).collect::<Vec<_>>(),
        ),
        None => (host.euid, vec![host.gid]),
    };
    let mut not_exec = None;
    for cand in crate::model::command::candidates(arg0.as_bytes(), plan.command.path_var()) {
        let p = std::path::Path::new(std::ffi::OsStr::from_bytes(&cand));
        let full = match p.strip_prefix("/") {
            Ok(rel) => host.root.join(rel),
            Err(_) => match &plan.workdir {
                Some(w) => std::path::Path::new(std::ffi::OsStr::from_bytes(w.as_bytes())).join(p),
                None => p.to_path_buf(),
            },
        };
        let Ok(m) = std::fs::metadata(&full) else {
            continue;
        };
        if !m.is_file() {
            continue;
        }
        let bits = if uid == 0 {
            0o111
        } else if m.uid() == uid {
            0o100
        } else if gids.contains(&m.gid()) {
            0o010
        } else {
            0o001
        };
        let shown = String::from_utf8_lossy(&cand).into_owned();
        if m.mode() & bits != 0 {
            return Finding::ok(format!("command: {} (executable by uid {})", shown, uid));
        }
        not_exec.get_or_insert(shown);
    }
    match not_exec {
        Some(p) => Finding::error(
            format!(
                "command {} is not executable by uid {} (a real start exits 126)",
                p, uid
            ),
            format!(
                "chmod a+x {} in the image, or run it as a user that may execute it",
                p
            ),
        ),
        None => Finding::error(
            format!(
                "command not found: {}{} (a real start exits 127)",
                name,
                if arg0.as_bytes().contains(&b'/') {
                    String::new()
                } else {
                    format!(
                        " in PATH={}",
                        String::from_utf8_lossy(
                            plan.command
                                .path_var()
                                .filter(|p| !p.is_empty())
                                .unwrap_or(crate::model::command::DEFAULT_PATH)
                        )
                    )
                }
            ),
            "install it in the image or give its full path".into(),
        ),
    }
}

/// A real start: warnings are printed, the errors stop it (all of them,
/// as a list).
pub fn enforce(findings: &[Finding]) -> Result<()> {
    let failure = |f: &Finding| Failure {
        what: f.what.clone(),
        fix: f.fix.clone(),
    };
    for f in findings.iter().filter(|f| f.level == Level::Warn) {
        crate::msg::warn(&failure(f).to_string());
    }
    let errors: Vec<Failure> = findings
        .iter()
        .filter(|f| f.level == Level::Error)
        .map(failure)
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Check(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::fixture::Fixture;
    use crate::model::caps::{CapSet, CapState};
    use crate::model::rlimits::{self, Limit};
    use crate::parse::Options;

    // This machine's kind: every capability but CAP_SYS_RESOURCE.
    const NO_RESOURCE: u64 = 0x1fffeffffff;
    const MIB8: Limit = Limit {
        soft: 8 << 20,
        hard: 8 << 20,
    };

    fn host(eff: u64) -> Host {
        Fixture::temp("check")
            .file(
                "/etc/passwd",
                "root:x:0:0::/root:/bin/sh\nes:x:1000:1000::/home/es:/bin/sh\n",
            )
            .file("/etc/group", "root:x:0:\nes:x:1000:\n")
            .caps(CapSet(eff))
            .limit(rlimits::MEMLOCK, MIB8.soft, MIB8.hard)
            .limit(rlimits::NOFILE, 1024, 20000)
            .build()
    }

    fn errors(o: Options, h: &Host) -> Vec<Finding> {
        let plan = crate::resolve::resolve(&o, h).unwrap();
        check(&plan, h)
            .into_iter()
            .filter(|f| f.level == Level::Error)
            .collect()
    }

    fn opts(memlock: Option<&str>, via: Option<&str>, rlimits: &[&str]) -> Options {
        Options {
            user: Some("es".into()),
            memlock: memlock.map(String::from),
            memlock_via: via.map(String::from),
            rlimits: rlimits.iter().map(|s| s.to_string()).collect(),
            command: vec!["/bin/true".into()],
            ..Options::default()
        }
    }

    #[test]
    fn rlimit_mode_failure_never_suggests_ipc_lock() {
        let h = host(NO_RESOURCE);
        let e = errors(opts(Some("unlimited"), Some("rlimit"), &[]), &h);
        assert!(!e.is_empty());
        for f in &e {
            assert!(!f.fix.contains("IPC_LOCK\""), "{}", f.fix);
            assert!(!f.fix.contains("--cap-add IPC_LOCK"), "{}", f.fix);
        }
        assert!(e.iter().any(|f| f.fix.contains("--ulimit memlock=-1:-1")));
        // The auto mode still offers both.
        let e = errors(
            opts(Some("unlimited"), None, &[]),
            &host(NO_RESOURCE & !(1 << 14)),
        );
        assert!(e[0].fix.contains("--cap-add IPC_LOCK"), "{}", e[0].fix);
    }

    #[test]
    fn hard_limit_fix_prints_the_real_limit_and_kubernetes() {
        let h = host(NO_RESOURCE);
        let e = errors(opts(None, None, &["nofile=65535:65535"]), &h);
        let f = e
            .iter()
            .find(|f| f.what.contains("RLIMIT_NOFILE"))
            .expect("a nofile error");
        assert!(f.fix.contains("--ulimit nofile=65535:65535"), "{}", f.fix);
        assert!(
            f.fix
                .contains("ulimits: {nofile: {soft: 65535, hard: 65535}}"),
            "{}",
            f.fix
        );
        assert!(
            f.fix.contains("kubernetes has no ulimit field"),
            "{}",
            f.fix
        );
        assert!(!f.fix.contains("NAME=SOFT:HARD"), "{}", f.fix);
    }

    #[test]
    fn kubernetes_fix_explains_the_cap_cap_rewrite_first() {
        let mut h = host(NO_RESOURCE & !(1 << 14));
        let e = errors(opts(Some("unlimited"), None, &[]), &h);
        assert!(!e[0].fix.contains("CAP_CAP_"), "{}", e[0].fix);
        h.kubernetes = true;
        let e = errors(opts(Some("unlimited"), None, &[]), &h);
        let first = e[0].fix.lines().next().unwrap();
        assert!(
            first.contains("CAP_CAP_IPC_LOCK") && first.contains("[\"IPC_LOCK\"]"),
            "{}",
            first
        );
        let e = errors(opts(None, None, &["nofile=65535"]), &h);
        assert!(
            e[0].fix
                .lines()
                .next()
                .unwrap()
                .contains("CAP_CAP_SYS_RESOURCE"),
            "{}",
            e[0].fix
        );
    }

    #[test]
    fn non_root_start_with_ipc_lock_in_bounding_says_start_as_root() {
        // docker run --user 1000 --cap-add IPC_LOCK: only the bounding set has it.
        let mut h = host(0);
        h.euid = 1000;
        let o = Options {
            memlock: Some("unlimited".into()),
            command: vec!["/bin/true".into()],
            ..Options::default()
        };
        let plan = crate::resolve::resolve(&o, &h).unwrap();
        let h = Fixture::at(h.root.clone())
            .uid(1000)
            .cap_state(CapState {
                bounding: CapSet(1 << 14),
                ..CapState::default()
            })
            .limit(rlimits::MEMLOCK, MIB8.soft, MIB8.hard)
            .build();
        let e: Vec<Finding> = check(&plan, &h)
            .into_iter()
            .filter(|f| f.level == Level::Error)
            .collect();
        assert!(
            e[0].fix.contains("start the container as root"),
            "{}",
            e[0].fix
        );
        assert!(!e[0].fix.contains("--cap-add IPC_LOCK"), "{}", e[0].fix);
    }
}
