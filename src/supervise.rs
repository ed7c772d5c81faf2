//! Supervise mode (PID-1 duties): block signals before fork, start the
//! command with the caller's mask and dispositions, forward signals, reap
//! every zombie, tear the tree down with a grace period, and exit with the
//! command's status. (Stub: being written.)
use crate::cli::Options;
use crate::error::{Error, Result};
use crate::plan::Plan;
use crate::signals;
use std::time::Duration;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    pub process_group: bool,
    pub rewrite: Vec<(i32, i32)>,
    pub grace: Duration,
    pub remap_exit: Vec<i32>,
    pub pdeathsig: Option<i32>,
}

pub fn settings(o: &Options) -> Result<Settings> {
    let mut remap_exit = Vec::new();
    if let Some(list) = &o.remap_exit {
        for c in list.split(',').map(str::trim).filter(|c| !c.is_empty()) {
            let n: i32 = c
                .parse()
                .ok()
                .filter(|n| (0..=255).contains(n))
                .ok_or_else(|| {
                    Error::Usage(format!(
                        "invalid --remap-exit {:?}: list exit codes from 0 to 255, e.g. 143",
                        list
                    ))
                })?;
            remap_exit.push(n);
        }
    }
    Ok(Settings {
        process_group: o.process_group.unwrap_or(false),
        rewrite: o
            .rewrite
            .iter()
            .map(|r| signals::parse_rewrite(r))
            .collect::<Result<_>>()?,
        grace: o
            .grace
            .as_deref()
            .map(signals::parse_duration)
            .transpose()?
            .unwrap_or(Duration::ZERO),
        remap_exit,
        pdeathsig: o
            .pdeathsig
            .as_deref()
            .map(signals::parse_signal)
            .transpose()?,
    })
}

/// What `prepare` saved to restore in the child.
pub struct Saved;

pub fn prepare(_plan: &Plan) -> Result<Saved> {
    Ok(Saved)
}

pub fn run(plan: &Plan, _saved: Saved) -> Result<i32> {
    Err(crate::exec::exec(&plan.command))
}
