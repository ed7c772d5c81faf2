//! Kernel tunable requirements (`vm.max_map_count>=262144`) and the policy
//! for a failed one (error / warn / modify). Parsing is pure; `check` reads
//! /proc/sys through the host view; `modify` is the only writer.
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
    Error,
    Warn,
    Modify,
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
    let key = key.trim();
    if key.is_empty()
        || key.starts_with('.')
        || key.ends_with('.')
        || key.contains("..")
        || !key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-' || b == b'/')
    {
        return Err(bad());
    }
    let value: i64 = val.trim().parse().map_err(|_| bad())?;
    Ok(Requirement {
        key: key.replace('/', "."),
        op,
        value,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

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
        ] {
            assert!(parse(bad).is_err(), "{}", bad);
        }
        assert!(r.holds(262144) && !r.holds(65530));
    }
}
