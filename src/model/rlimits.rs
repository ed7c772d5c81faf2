//! Resource limits: names (`memlock`, `RLIMIT_NOFILE`, any case), values
//! (`64M`, `unlimited`, `-1`) and `NAME=SOFT[:HARD]` specs. Pure parsing and
//! formatting; deciding *how* a limit is reached (soft raise, hard raise,
//! ambient IPC_LOCK) is `plan`'s job, setting it is `privileges`'.
use crate::error::{Error, Result};

pub const INFINITY: u64 = u64::MAX;

/// (name, resource number as in asm-generic/resource.h)
pub const RESOURCES: &[(&str, u8)] = &[
    ("cpu", 0),
    ("fsize", 1),
    ("data", 2),
    ("stack", 3),
    ("core", 4),
    ("rss", 5),
    ("nproc", 6),
    ("nofile", 7),
    ("memlock", 8),
    ("as", 9),
    ("locks", 10),
    ("sigpending", 11),
    ("msgqueue", 12),
    ("nice", 13),
    ("rtprio", 14),
    ("rttime", 15),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Resource(pub u8);

pub const NOFILE: Resource = Resource(7);
pub const NPROC: Resource = Resource(6);
pub const MEMLOCK: Resource = Resource(8);
pub const AS: Resource = Resource(9);
pub const FSIZE: Resource = Resource(1);

impl Resource {
    pub fn name(self) -> &'static str {
        RESOURCES
            .iter()
            .find(|(_, n)| *n == self.0)
            .map(|(s, _)| *s)
            .unwrap_or("unknown")
    }
    pub fn all() -> impl Iterator<Item = Resource> {
        RESOURCES.iter().map(|(_, n)| Resource(*n))
    }
}

/// A (soft, hard) pair; `INFINITY` is RLIM_INFINITY.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub soft: u64,
    pub hard: u64,
}

/// What the user asked for one resource: a soft value and, when given, a hard one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    pub resource: Resource,
    pub soft: u64,
    pub hard: Option<u64>,
}

pub fn parse_name(s: &str) -> Result<Resource> {
    let l = s.trim().to_ascii_lowercase();
    let bare = l.strip_prefix("rlimit_").unwrap_or(&l);
    RESOURCES
        .iter()
        .find(|(n, _)| *n == bare)
        .map(|(_, r)| Resource(*r))
        .ok_or_else(|| {
            let names: Vec<&str> = RESOURCES.iter().map(|(n, _)| *n).collect();
            Error::Usage(format!(
                "unknown resource limit {:?}: use one of {}",
                s,
                names.join(", ")
            ))
        })
}

/// `unlimited`, `infinity`, `-1`, or an integer with an optional binary
/// suffix K, M, G, T (KiB, MiB, ... also accepted).
pub fn parse_value(s: &str) -> Result<u64> {
    let t = s.trim();
    let l = t.to_ascii_lowercase();
    if l == "unlimited" || l == "infinity" || l == "-1" {
        return Ok(INFINITY);
    }
    let bad = || {
        Error::Usage(format!(
            "invalid limit value {:?}: use a whole number with an optional K, M, G or T suffix, or unlimited (or -1)",
            s
        ))
    };
    let num_end = l.find(|c: char| !c.is_ascii_digit()).unwrap_or(l.len());
    if num_end == 0 {
        return Err(bad());
    }
    let n: u64 = l[..num_end].parse().map_err(|_| bad())?;
    let shift = match &l[num_end..] {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => return Err(bad()),
    };
    let v = n.checked_mul(1u64 << shift).ok_or_else(|| {
        Error::Usage(format!(
            "limit value {:?} is too large (more than 2^64); write unlimited instead",
            s
        ))
    })?;
    if v == INFINITY {
        // u64::MAX *is* RLIM_INFINITY; say so rather than silently meaning it.
        return Ok(INFINITY);
    }
    Ok(v)
}

/// `NAME=SOFT[:HARD]`.
pub fn parse_spec(s: &str) -> Result<Spec> {
    let (name, val) = s.split_once('=').ok_or_else(|| {
        Error::Usage(format!(
            "invalid --rlimit {:?}: write NAME=SOFT[:HARD], e.g. nofile=65535 or memlock=unlimited",
            s
        ))
    })?;
    let resource = parse_name(name)?;
    let (soft, hard) = match val.split_once(':') {
        Some((a, b)) => (parse_value(a)?, Some(parse_value(b)?)),
        None => (parse_value(val)?, None),
    };
    if let Some(h) = hard {
        if soft > h {
            return Err(Error::Usage(format!(
                "invalid --rlimit {:?}: the soft limit {} is above the hard limit {}",
                s,
                fmt_value(soft),
                fmt_value(h)
            )));
        }
    }
    Ok(Spec {
        resource,
        soft,
        hard,
    })
}

/// `unlimited`, `64 MiB`-style for byte limits is left to callers; plain numbers here.
pub fn fmt_value(v: u64) -> String {
    if v == INFINITY {
        "unlimited".into()
    } else {
        v.to_string()
    }
}

/// Human size for messages and `--doctor`: `8 MiB`, `972.7 MiB` (the
/// largest unit, tenths truncated), `unlimited`, `123 bytes`. The one byte
/// formatter: check messages and the doctor report say the same.
pub fn fmt_bytes(v: u64) -> String {
    if v == INFINITY {
        return "unlimited".into();
    }
    for (shift, unit) in [(40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB")] {
        let size = 1u64 << shift;
        if v >= size {
            let (whole, tenth) = (v / size, (v % size) * 10 / size);
            return if tenth == 0 {
                format!("{} {}", whole, unit)
            } else {
                format!("{}.{} {}", whole, tenth, unit)
            };
        }
    }
    format!("{} bytes", v)
}

impl Spec {
    /// The limit to set given the current one: an explicit HARD is used as is;
    /// with SOFT alone the hard limit is raised only when it is below SOFT
    /// (never lowered needlessly: lowering a hard limit cannot be undone).
    pub fn target(&self, current: Limit) -> Limit {
        let hard = self.hard.unwrap_or(if self.soft > current.hard {
            self.soft
        } else {
            current.hard
        });
        Limit {
            soft: self.soft,
            hard,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for s in ["memlock", "MEMLOCK", "RLIMIT_MEMLOCK", "rlimit_memlock"] {
            assert_eq!(parse_name(s).unwrap(), MEMLOCK);
        }
        assert_eq!(parse_name("as").unwrap(), AS);
        assert!(parse_name("memlocks")
            .unwrap_err()
            .to_string()
            .contains("nofile"));
    }

    #[test]
    fn values() {
        assert_eq!(parse_value("unlimited").unwrap(), INFINITY);
        assert_eq!(parse_value("-1").unwrap(), INFINITY);
        assert_eq!(parse_value("64M").unwrap(), 64 << 20);
        assert_eq!(parse_value("64m").unwrap(), 64 << 20);
        assert_eq!(parse_value("2KiB").unwrap(), 2048);
        assert_eq!(parse_value("1T").unwrap(), 1 << 40);
        assert_eq!(parse_value("65535").unwrap(), 65535);
        for bad in [
            "",
            "-2",
            "12X",
            "M",
            "1.5G",
            "99999999999999999999",
            "17179869184T",
            " -1x",
        ] {
            assert!(parse_value(bad).is_err(), "{}", bad);
        }
    }

    #[test]
    fn specs() {
        let s = parse_spec("nofile=1024:65536").unwrap();
        assert_eq!((s.resource, s.soft, s.hard), (NOFILE, 1024, Some(65536)));
        assert!(parse_spec("nofile=2:1")
            .unwrap_err()
            .to_string()
            .contains("above the hard"));
        assert!(parse_spec("nofile").is_err());
        let s = parse_spec("memlock=64M").unwrap();
        assert_eq!(
            s.target(Limit {
                soft: 8 << 20,
                hard: 8 << 20
            }),
            Limit {
                soft: 64 << 20,
                hard: 64 << 20
            }
        );
        assert_eq!(
            s.target(Limit {
                soft: 0,
                hard: INFINITY
            }),
            Limit {
                soft: 64 << 20,
                hard: INFINITY
            }
        );
    }

    #[test]
    fn formatting() {
        assert_eq!(fmt_bytes(8 << 20), "8 MiB");
        assert_eq!(fmt_bytes(INFINITY), "unlimited");
        assert_eq!(fmt_bytes(1000), "1000 bytes");
        assert_eq!(fmt_bytes(1536), "1.5 KiB");
    }
}
