//! Supervise-mode settings: `-g`, `--rewrite`, `--grace`, `--remap-exit`,
//! `--pdeathsig` parsed into typed values. Pure; what they do at run time is
//! `run::supervise`'s job.
use crate::error::{Error, Result};
use crate::model::signals;
use crate::parse::Options;
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
