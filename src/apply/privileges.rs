//! Apply: the only module that changes the process's credentials and
//! limits, in an order where each step is possible because of the one
//! before and nothing is half-applied: any failure returns an error, and the
//! caller never runs the command after an error (fail closed).
use crate::error::{Error, Result};
use crate::host::Host;
use crate::model::caps::CapSet;
use crate::resolve::{Plan, Via};
use crate::sys;

/// A set-uid or set-capable lockdrop would let any user run any command
/// with raised limits and kept capabilities: refuse before parsing anything.
pub fn refuse_setid() -> Result<()> {
    if sys::is_secure_exec() {
        return Err(Error::Usage(
            "lockdrop is installed set-uid, set-gid or with file capabilities; that would hand root to any caller. \
             Remove the bit (chmod u-s,g-s; setcap -r) and start the container as root instead"
                .into(),
        ));
    }
    Ok(())
}

pub fn apply(plan: &Plan, host: &Host) -> Result<()> {
    // 1. Limits first, while we still have CAP_SYS_RESOURCE (if any): after
    //    the switch it is gone. They are never touched again (unlike
    //    runuser/su, which reset nofile through PAM).
    for l in &plan.limits {
        sys::setrlimit(l.resource, l.desired).map_err(|e| Error::Apply {
            step: "setrlimit",
            errno: e,
            hint: format!(
                "while setting RLIMIT_{} to {}:{}",
                l.resource.name().to_ascii_uppercase(),
                crate::model::rlimits::fmt_value(l.desired.soft),
                crate::model::rlimits::fmt_value(l.desired.hard)
            ),
        })?;
    }

    let keep = plan.ambient;
    // Only a switch to a non-root uid sets the capability sets exactly: a
    // command that stays root gets root's capabilities back at exec anyway
    // (capabilities(7)), and clearing them would only confuse that.
    let exact = plan.exact_caps();
    if let Some(t) = &plan.target {
        // 2. Keep the permitted set across setresuid when capabilities must
        //    survive the switch (capabilities(7): without SECBIT_KEEP_CAPS a
        //    switch from uid 0 clears permitted, effective and ambient).
        if exact && !keep.is_empty() {
            sys::set_keepcaps(true).map_err(|e| Error::apply("prctl(PR_SET_KEEPCAPS)", e))?;
        }
        // 3. Groups before gid before uid: each needs the privilege the next removes.
        sys::setgroups(&t.groups).map_err(|e| Error::Apply {
            step: "setgroups",
            errno: e,
            hint: match host.euid {
                0 => String::new(),
                u => format!(
                    "lockdrop runs as uid {} (not root), so --user/--groups cannot change the groups to {:?}; start it as root, or drop --user/--groups",
                    u, t.groups
                ),
            },
        })?;
        sys::setresgid(t.gid).map_err(|e| Error::apply("setresgid", e))?;
        sys::setresuid(t.uid).map_err(|e| Error::apply("setresuid", e))?;
    }

    // 4. Capabilities: exactly `keep` in effective, permitted, inheritable and
    //    ambient after a switch (one atomic capset); without a switch only
    //    the ambient additions change.
    if exact || !keep.is_empty() {
        let (eff, prm, inh) = if exact {
            (keep, keep, keep)
        } else {
            let (e, p, i) = sys::capget();
            (e, p, i.union(keep))
        };
        sys::capset(eff, prm, inh).map_err(|e| Error::apply("capset", e))?;
        if exact {
            sys::ambient_clear_all()
                .map_err(|e| Error::apply("prctl(PR_CAP_AMBIENT_CLEAR_ALL)", e))?;
        }
        for c in keep.iter() {
            sys::ambient_raise(c).map_err(|e| Error::Apply {
                step: "raising the ambient capability",
                errno: e,
                hint: format!("{} could not be kept for the command", c.upper()),
            })?;
        }
        if exact && !keep.is_empty() {
            sys::set_keepcaps(false).map_err(|e| Error::apply("prctl(PR_SET_KEEPCAPS)", e))?;
        }
    }

    // 5. The working directory as the target user: permission checks are his.
    if let Some(dir) = &plan.workdir {
        sys::chdir(dir).map_err(|e| Error::Apply {
            step: "chdir",
            errno: e,
            hint: format!(
                "--workdir {} is not usable by the command's user",
                dir.to_string_lossy()
            ),
        })?;
    }

    // 6. Last, so that nothing above is affected by it.
    if plan.no_new_privs {
        sys::set_no_new_privs().map_err(|e| Error::apply("prctl(PR_SET_NO_NEW_PRIVS)", e))?;
    }

    verify(plan, host)?;
    if plan.memlock.as_ref().map(|m| m.via) == Some(Via::Ambient) {
        crate::msg::notice(&format!(
            "RLIMIT_MEMLOCK hard limit is {}; the command keeps CAP_IPC_LOCK as an ambient capability, so it can lock memory beyond it",
            crate::model::rlimits::fmt_bytes(plan.memlock.as_ref().map(|m| m.current.hard).unwrap_or(0))
        ));
    }
    Ok(())
}

/// Reads back what the kernel now holds: never run a command whose
/// credentials differ from the plan (fail closed).
fn verify(plan: &Plan, _host: &Host) -> Result<()> {
    // Every syscall succeeded: what differs is the result, not an errno.
    let bad = |what: String| Err(Error::Verify(what));
    if let Some(t) = &plan.target {
        let u = sys::getresuid();
        let g = sys::getresgid();
        if u != (t.uid, t.uid, t.uid) || g != (t.gid, t.gid, t.gid) {
            return bad(format!(
                "ids are uid {:?} gid {:?}, expected {} and {}",
                u, g, t.uid, t.gid
            ));
        }
        let mut have = sys::getgroups();
        let mut want = t.groups.clone();
        have.sort_unstable();
        have.dedup();
        want.sort_unstable();
        want.dedup();
        if have != want {
            return bad(format!(
                "supplementary groups are {:?}, expected {:?}",
                have, want
            ));
        }
    }
    if plan.exact_caps() || !plan.ambient.is_empty() {
        let (effective, permitted, inheritable) = sys::capget();
        // Ambient stays within permitted ∩ inheritable: ask only those bits.
        let ambient = sys::ambient_within(CapSet(permitted.0 & inheritable.0));
        if ambient.0 & plan.ambient.0 != plan.ambient.0 {
            return bad(format!(
                "ambient capabilities are {}, expected {}",
                ambient.names(),
                plan.ambient.names()
            ));
        }
        if plan.exact_caps() {
            let k = plan.ambient;
            if effective != k || permitted != k || inheritable != k || ambient != k {
                return bad(format!(
                    "capabilities after the switch are eff {} prm {} inh {} amb {}, expected {}",
                    effective.names(),
                    permitted.names(),
                    inheritable.names(),
                    ambient.names(),
                    k.names()
                ));
            }
        }
    }
    if plan.no_new_privs && !sys::no_new_privs() {
        return bad("no_new_privs is not set".into());
    }
    Ok(())
}
