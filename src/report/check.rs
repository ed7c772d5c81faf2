//! `--check`'s output: the resolved plan and every finding, as text or as
//! one JSON document. Decides nothing (the findings are `check`'s).
use crate::check::{command, Finding, Level};
use crate::error::Error;
use crate::host::Host;
use crate::model::caps;
use crate::model::rlimits::{self, fmt_bytes};
use crate::report::json::{self, Value};
use crate::resolve::{Plan, Via};

fn level_name(l: Level) -> &'static str {
    match l {
        Level::Ok => "ok",
        Level::Warn => "warn",
        Level::Error => "error",
    }
}

fn via_name(v: Via) -> &'static str {
    match v {
        Via::Already => "already allowed by RLIMIT_MEMLOCK",
        Via::SoftRaise => "rlimit: raise the soft limit",
        Via::HardRaise => "rlimit: raise soft and hard limits (CAP_SYS_RESOURCE)",
        Via::Ambient => "ambient CAP_IPC_LOCK",
        Via::Root => "runs as root with CAP_IPC_LOCK",
        Via::Impossible => "impossible",
    }
}

/// The resolved plan as (key, text, JSON) rows: one source for both outputs.
fn plan_rows(plan: &Plan, host: &Host) -> Vec<(&'static str, String, Value)> {
    let mut rows: Vec<(&'static str, String, Value)> = Vec::new();
    let argv: Vec<String> = plan
        .command
        .argv
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    rows.push(("command", argv.join(" "), argv.clone().into()));
    rows.push((
        "mode",
        format!("{:?}", plan.mode).to_lowercase(),
        format!("{:?}", plan.mode).to_lowercase().into(),
    ));
    match plan.target.as_ref() {
        Some(t) => {
            let groups: Vec<String> = t.groups.iter().map(|g| g.to_string()).collect();
            rows.push((
                "user",
                format!(
                    "uid {}{} gid {} groups {} home {}",
                    t.uid,
                    t.name
                        .as_deref()
                        .map(|n| format!(" ({})", n))
                        .unwrap_or_default(),
                    t.gid,
                    if groups.is_empty() {
                        "none".to_string()
                    } else {
                        groups.join(",")
                    },
                    t.home
                ),
                Value::obj()
                    .with("uid", t.uid)
                    .with("name", t.name.clone())
                    .with("gid", t.gid)
                    .with("groups", t.groups.clone())
                    .with("home", t.home.as_str()),
            ));
        }
        None => rows.push((
            "user",
            format!("unchanged (uid {} gid {})", host.euid, host.gid),
            Value::Null,
        )),
    }
    let mut lim_json = Vec::new();
    for l in &plan.limits {
        let f = |x: u64| rlimits::fmt_value(x);
        rows.push((
            "rlimit",
            format!(
                "{} {}:{} -> {}:{}",
                l.resource.name(),
                f(l.current.soft),
                f(l.current.hard),
                f(l.desired.soft),
                f(l.desired.hard)
            ),
            Value::Null,
        ));
        lim_json.push(
            Value::obj()
                .with("name", l.resource.name())
                .with(
                    "current",
                    Value::obj()
                        .with("soft", json::limit(l.current.soft))
                        .with("hard", json::limit(l.current.hard)),
                )
                .with(
                    "desired",
                    Value::obj()
                        .with("soft", json::limit(l.desired.soft))
                        .with("hard", json::limit(l.desired.hard)),
                ),
        );
    }
    rows.push(("rlimits", String::new(), Value::Arr(lim_json)));
    if let Some(m) = &plan.memlock {
        rows.push((
            "memlock",
            format!(
                "{} via {} (--memlock-via {})",
                fmt_bytes(m.want),
                via_name(m.via),
                format!("{:?}", m.strategy).to_lowercase()
            ),
            Value::obj()
                .with("bytes", json::limit(m.want))
                .with("via", via_name(m.via))
                .with("strategy", format!("{:?}", m.strategy).to_lowercase()),
        ));
    }
    let caps =
        |s: caps::CapSet| -> Value { s.iter().map(|c| c.upper()).collect::<Vec<_>>().into() };
    rows.push(("require-cap", plan.require.names(), caps(plan.require)));
    rows.push(("ambient-cap", plan.ambient.names(), caps(plan.ambient)));
    rows.push((
        "no-new-privs",
        if plan.no_new_privs { "yes" } else { "no" }.into(),
        plan.no_new_privs.into(),
    ));
    let wd = plan
        .workdir
        .as_ref()
        .map(|w| w.to_string_lossy().into_owned());
    rows.push((
        "workdir",
        wd.clone().unwrap_or_else(|| "unchanged".into()),
        wd.into(),
    ));
    let reqs: Vec<String> = plan
        .sysctls
        .iter()
        .map(|r| format!("{}{}{}", r.key, r.op_str(), r.value))
        .collect();
    rows.push((
        "sysctl",
        if reqs.is_empty() {
            "none".into()
        } else {
            format!("{} (policy {})", reqs.join(" "), plan.sysctl_policy.name())
        },
        reqs.into(),
    ));
    rows.push((
        "sysctl-policy",
        String::new(),
        plan.sysctl_policy.name().into(),
    ));
    let prof = plan.profile.map(|p| p.name);
    rows.push(("profile", prof.unwrap_or("none").into(), prof.into()));
    rows
}

/// `--check --json` when the input cannot be resolved (unknown user, bad
/// spec): the same document shape, no plan, the error as the one finding.
pub fn error_json(e: &Error) -> String {
    let finding = Value::obj()
        .with("level", "error")
        .with("what", e.to_string().as_str())
        .with("fix", None::<&str>);
    let mut s = Value::obj()
        .with("plan", None::<&str>)
        .with("findings", Value::Arr(vec![finding]))
        .with("errors", 1u64)
        .with("warnings", 0u64)
        .with("would_start", false)
        .with("exit_code", e.exit_code() as i64)
        .to_json();
    s.push('\n');
    s
}

/// `--check`: prints the resolved plan and every finding (plus whether the
/// command would be found); 0 when a real start would proceed, 125 when it
/// would not. With `json`, one JSON document on one line.
pub fn report(plan: &Plan, host: &Host, findings: &[Finding], json: bool) -> i32 {
    let mut all = findings.to_vec();
    all.push(command(plan, host));
    let errors = all.iter().filter(|f| f.level == Level::Error).count();
    let warnings = all.iter().filter(|f| f.level == Level::Warn).count();
    let code = if errors > 0 {
        crate::error::EXIT_LOCKDROP
    } else {
        0
    };
    let rows = plan_rows(plan, host);
    let mut s = String::new();
    if json {
        let mut p = Value::obj();
        for (k, _, v) in rows.into_iter().filter(|(k, _, _)| *k != "rlimit") {
            p.push(k, v);
        }
        let list: Vec<Value> = all
            .iter()
            .map(|f| {
                Value::obj()
                    .with("level", level_name(f.level))
                    .with("what", f.what.as_str())
                    .with(
                        "fix",
                        if f.fix.is_empty() {
                            None
                        } else {
                            Some(f.fix.as_str())
                        },
                    )
            })
            .collect();
        let doc = Value::obj()
            .with("plan", p)
            .with("findings", Value::Arr(list))
            .with("errors", errors as u64)
            .with("warnings", warnings as u64)
            .with("would_start", errors == 0)
            .with("exit_code", code as i64);
        s.push_str(&doc.to_json());
        s.push('\n');
    } else {
        s.push_str("plan:\n");
        for (k, text, _) in rows
            .iter()
            .filter(|(k, _, _)| !matches!(*k, "rlimits" | "sysctl-policy"))
        {
            s.push_str(&format!("  {:<13} {}\n", format!("{}:", k), text));
        }
        s.push_str("findings:\n");
        for f in &all {
            s.push_str(&format!("  {:<5} {}\n", level_name(f.level), f.what));
            if !f.fix.is_empty() {
                s.push_str(&format!(
                    "        fix: {}\n",
                    f.fix.replace('\n', "\n             ")
                ));
            }
        }
        s.push_str(&if errors == 0 {
            format!(
                "result: a real start would proceed ({} warning{})\n",
                warnings,
                if warnings == 1 { "" } else { "s" }
            )
        } else {
            format!(
                "result: a real start would stop with exit code 125 ({} error{})\n",
                errors,
                if errors == 1 { "" } else { "s" }
            )
        });
    }
    crate::msg::stdout(&s);
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_json_is_one_document_with_the_error() {
        let j = error_json(&Error::Resolve("unknown user \"x\"".into()));
        assert!(
            j.starts_with("{\"plan\":null,\"findings\":[{\"level\":\"error\""),
            "{}",
            j
        );
        assert!(
            j.contains("unknown user \\\"x\\\"") && j.trim_end().ends_with("\"exit_code\":125}"),
            "{}",
            j
        );
        assert_eq!(j.lines().count(), 1);
    }
}
