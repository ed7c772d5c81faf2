//! `--sysctl-policy modify`: the only writer of /proc/sys in lockdrop.
use crate::error::{Error, Result};
use crate::host::{
    sysctl::{read, why_not},
    Host,
};
use crate::model::sysctl::{path, Policy};
use crate::resolve::Plan;

/// `--sysctl-policy modify`, in a real start: writes each unmet requirement's
/// value and says what changed. Runs after the checks passed (so every
/// write here was found possible) and before privileges are dropped. A write
/// that fails anyway is an error: the requirement is still unmet.
pub fn modify(plan: &Plan, host: &Host) -> Result<()> {
    if plan.sysctl_policy != Policy::Modify {
        return Ok(());
    }
    for r in &plan.sysctls {
        let Ok(current) = read(host, &r.key) else {
            continue; // reported by check as an error already
        };
        if r.holds(current) {
            continue;
        }
        let p = path(&r.key);
        std::fs::write(host.path(&p), format!("{}\n", r.value)).map_err(|e| {
            Error::SysctlWrite {
                key: r.key.clone(),
                value: r.value,
                why: why_not(&r.key, &p, &e),
            }
        })?;
        crate::msg::notice(&format!(
            "set {} from {} to {} (--sysctl-policy modify, required {}{})",
            r.key,
            current,
            r.value,
            r.op_str(),
            r.value
        ));
    }
    Ok(())
}
