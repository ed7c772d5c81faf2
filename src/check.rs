//! Checks: `Plan` × host → findings, each with a level, what is wrong and the
//! exact fix for Docker, Compose and Kubernetes. Runs before anything
//! changes; a real start stops at the first error, `--check` prints them all.
use crate::caps::{self, Cap};
use crate::error::{Error, Result};
use crate::host::Host;
use crate::plan::{Plan, Via};
use crate::rlimits::{self, fmt_bytes};

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

fn memlock_fix(want: u64, userns: bool) -> String {
    let v = if want == rlimits::INFINITY {
        "-1".to_string()
    } else {
        want.to_string()
    };
    let mut s = format!(
        "docker run --cap-add IPC_LOCK ...   or   docker run --ulimit memlock={v}:{v} ...\n\
         compose: cap_add: [\"IPC_LOCK\"]   or   ulimits: {{memlock: {{soft: {v}, hard: {v}}}}}\n\
         kubernetes (no ulimit field): securityContext.capabilities.add: [\"IPC_LOCK\"] (no CAP_ prefix)"
    );
    if userns {
        s.push_str("\nthis process is in a user namespace: no capability inside it can raise a hard limit; raise it where the container is started, or add IPC_LOCK");
    }
    s
}

pub fn check(plan: &Plan, host: &Host) -> Vec<Finding> {
    let mut out = Vec::new();
    let eff = host.effective();
    let userns = host.in_user_namespace() == Some(true);

    // Starting as non-root can only switch to ourselves.
    if let Some(t) = plan.target.as_ref().filter(|_| plan.switch) {
        if host.euid != 0 {
            out.push(Finding::error(
                format!("switching to uid {} needs lockdrop to start as root, but it started as uid {}", t.uid, host.euid),
                "start the container as root (Dockerfile USER root, Kubernetes runAsUser: 0); lockdrop drops to --user itself".into(),
            ));
        } else {
            out.push(Finding::ok(format!(
                "user: uid {} gid {} groups {:?} home {}",
                t.uid, t.gid, t.groups, t.home
            )));
        }
        if let Some(p) = plan.profile.filter(|p| p.refuse_root && t.uid == 0) {
            out.push(Finding::error(
                format!("{} refuses to run as root (uid 0)", p.name),
                "pass --user with the service's own user (e.g. --user elasticsearch)".into(),
            ));
        }
    } else if let Some(p) = plan.profile.filter(|p| p.refuse_root && host.euid == 0) {
        out.push(Finding::error(
            format!("{}: can not run elasticsearch as root; lockdrop was given no --user", p.name),
            "add --user with the service's user (e.g. --user elasticsearch:root as in the official image)".into(),
        ));
    }

    for (cap, why) in plan.needs() {
        if eff.has(cap) && !(cap == caps::SYS_RESOURCE && userns) {
            continue;
        }
        let mut fix = cap_fix(cap);
        if cap == caps::SYS_RESOURCE {
            fix = if userns {
                "this process is in a user namespace: no capability inside it can raise a hard limit; set the limit where the container is started (docker run --ulimit ...)".into()
            } else {
                format!("{}\nor set the limit when the container starts: docker run --ulimit NAME=SOFT:HARD, compose ulimits:", fix)
            };
        }
        out.push(Finding::error(
            format!("{} is missing: needed {}", cap.upper(), why),
            fix,
        ));
    }

    // nofile cannot exceed fs.nr_open (setrlimit fails with EPERM even for root).
    for l in &plan.limits {
        if l.resource == rlimits::NOFILE {
            if let Some(nr_open) = host.sysctl_u64("fs.nr_open") {
                let over = |v: u64| v != rlimits::INFINITY && v > nr_open || v == rlimits::INFINITY;
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
        let can = |how: &str| {
            Finding::ok(format!(
                "memlock: the command can lock {} ({})",
                fmt_bytes(m.want),
                how
            ))
        };
        match m.via {
            Via::Already => out.push(can("RLIMIT_MEMLOCK already allows it")),
            Via::SoftRaise => {
                out.push(can("raising the soft RLIMIT_MEMLOCK within the hard limit"))
            }
            Via::HardRaise => out.push(can(
                "raising RLIMIT_MEMLOCK with CAP_SYS_RESOURCE: the rlimit path",
            )),
            Via::Ambient => out.push(can(&format!(
                "keeping CAP_IPC_LOCK as an ambient capability; RLIMIT_MEMLOCK stays at {}",
                fmt_bytes(m.current.hard)
            ))),
            Via::Root => out.push(can("the command runs as root with CAP_IPC_LOCK")),
            Via::Impossible => {
                let why = match m.strategy {
                    crate::plan::Strategy::Rlimit => "--memlock-via rlimit needs CAP_SYS_RESOURCE",
                    crate::plan::Strategy::Ambient => "--memlock-via ambient needs CAP_IPC_LOCK",
                    crate::plan::Strategy::Auto => {
                        "neither CAP_SYS_RESOURCE nor CAP_IPC_LOCK is available"
                    }
                };
                out.push(Finding::error(
                    format!(
                        "the command must lock {} of memory, but RLIMIT_MEMLOCK's hard limit is {} and {}",
                        fmt_bytes(m.want), fmt_bytes(m.current.hard), why
                    ),
                    memlock_fix(m.want, userns),
                ));
            }
        }
    }

    for c in plan.require.iter() {
        if eff.has(c) {
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
    let prm = host.caps().permitted;
    let bnd = host.caps().bounding;
    for c in plan.ambient.iter() {
        if !(prm.has(c) && bnd.has(c)) {
            out.push(Finding::error(
                format!(
                    "{} cannot be kept as ambient: lockdrop does not hold it",
                    c.upper()
                ),
                cap_fix(c),
            ));
        }
    }
    out
}

/// A real start: warnings are printed, the errors stop it.
pub fn enforce(findings: &[Finding]) -> Result<()> {
    for f in findings.iter().filter(|f| f.level == Level::Warn) {
        crate::msg::warn(&join(f));
    }
    let errors: Vec<String> = findings
        .iter()
        .filter(|f| f.level == Level::Error)
        .map(join)
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Check(errors.join("\n")))
    }
}

fn join(f: &Finding) -> String {
    if f.fix.is_empty() {
        f.what.clone()
    } else {
        format!("{}\nfix: {}", f.what, f.fix.replace('\n', "\n     "))
    }
}

/// `--check`: prints the plan and every finding; 0 when a real start would
/// proceed, 125 when it would not.
pub fn report(plan: &Plan, findings: &[Finding], _json: bool) -> i32 {
    let mut s = String::new();
    s.push_str(&format!("command: {}\n", plan.command.name()));
    s.push_str(&format!("mode: {:?}\n", plan.mode));
    for f in findings {
        let tag = match f.level {
            Level::Ok => "ok   ",
            Level::Warn => "warn ",
            Level::Error => "error",
        };
        s.push_str(&format!("{} {}\n", tag, f.what));
        if !f.fix.is_empty() {
            s.push_str(&format!(
                "      fix: {}\n",
                f.fix.replace('\n', "\n           ")
            ));
        }
    }
    crate::msg::stdout(&s);
    if findings.iter().any(|f| f.level == Level::Error) {
        crate::error::EXIT_LOCKDROP
    } else {
        0
    }
}
