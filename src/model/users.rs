//! Users and groups without NSS or PAM: parses `--user` specs and the text of
//! /etc/passwd and /etc/group, and resolves a spec to numeric ids, the
//! supplementary groups and HOME. Pure: the caller reads the files (from an
//! injectable root) and hands their text in. Malformed lines are skipped, as
//! getpwnam(3) skips them; the first entry of a duplicated name wins.
use crate::error::{Error, Result};

/// The highest valid id: (uid_t)-1 means "unchanged" to setresuid(2), so it
/// must never be accepted as a target.
pub const MAX_ID: u32 = u32::MAX - 1;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    Name(String),
    Id(u32),
}

/// A parsed `--user` spec: `NAME`, `UID`, `NAME:GROUP`, `UID:GID`, ...
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSpec {
    pub user: Who,
    pub group: Option<Who>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswdEntry {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupEntry {
    pub name: String,
    pub gid: u32,
    pub members: Vec<String>,
}

/// Who the command runs as, fully resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub uid: u32,
    pub gid: u32,
    pub groups: Vec<u32>,
    pub name: Option<String>,
    pub home: String,
}

/// The text of a file we tried to read: its content, or why not.
pub type FileText = std::result::Result<String, String>;

pub fn parse_id(s: &str, what: &str) -> Result<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::Usage(format!(
            "invalid {} {:?}: expected a name or a number from 0 to {}",
            what, s, MAX_ID
        )));
    }
    match s.parse::<u64>() {
        Ok(n) if n <= MAX_ID as u64 => Ok(n as u32),
        _ => Err(Error::Usage(format!(
            "{} {} is out of range: ids go from 0 to {} ({} is reserved as \"unchanged\")",
            what,
            s,
            MAX_ID,
            u32::MAX
        ))),
    }
}

fn who(s: &str, what: &str) -> Result<Who> {
    if s.is_empty() {
        return Err(Error::Usage(format!(
            "invalid --user: empty {} (write NAME, UID, NAME:GROUP or UID:GID)",
            what
        )));
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(Who::Id(parse_id(s, what)?));
    }
    if s.starts_with('-')
        || s.bytes()
            .any(|b| b == b':' || b == b',' || b.is_ascii_whitespace() || b == 0)
    {
        return Err(Error::Usage(format!(
            "invalid {} name {:?} in --user",
            what, s
        )));
    }
    Ok(Who::Name(s.to_string()))
}

pub fn parse_spec(s: &str) -> Result<UserSpec> {
    let (u, g) = match s.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (s, None),
    };
    Ok(UserSpec {
        user: who(u, "user")?,
        group: g.map(|g| who(g, "group")).transpose()?,
    })
}

fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

/// The fields of each passwd line with 7 fields or more, borrowed from the
/// text: (name, uid, gid, home), ids still unparsed. No allocation per line:
/// lockdrop reads these files at every start (a Vec and Strings per line cost
/// ~3,000 instructions a line, most of a `--user` start-up).
fn passwd_fields(text: &str) -> impl Iterator<Item = (&str, &str, &str, &str)> + '_ {
    lines(text).filter_map(|l| {
        let mut f = l.split(':');
        let (name, _pw, uid, gid, _gecos, home, _shell) = (
            f.next()?,
            f.next()?,
            f.next()?,
            f.next()?,
            f.next()?,
            f.next()?,
            f.next()?,
        );
        if name.is_empty() || name.starts_with(['+', '-']) {
            return None;
        }
        Some((name, uid, gid, home))
    })
}

fn passwd_entry((name, uid, gid, home): (&str, &str, &str, &str)) -> Option<PasswdEntry> {
    Some(PasswdEntry {
        uid: parse_id(uid, "uid").ok()?,
        gid: parse_id(gid, "gid").ok()?,
        name: name.to_string(),
        home: home.to_string(),
    })
}

/// Valid passwd lines; NIS `+`/`-` lines and malformed lines are skipped.
pub fn parse_passwd(text: &str) -> impl Iterator<Item = PasswdEntry> + '_ {
    passwd_fields(text).filter_map(passwd_entry)
}

/// The fields of each group line with 4 fields or more, borrowed: (name,
/// gid, members), the gid still unparsed.
fn group_fields(text: &str) -> impl Iterator<Item = (&str, &str, &str)> + '_ {
    lines(text).filter_map(|l| {
        let mut f = l.split(':');
        let (name, _pw, gid, members) = (f.next()?, f.next()?, f.next()?, f.next()?);
        if name.is_empty() || name.starts_with(['+', '-']) {
            return None;
        }
        Some((name, gid, members))
    })
}

/// Member names as glibc's initgroups reads them: leading white space is
/// skipped, trailing white space is part of the name (`app ` is not `app`).
fn members(list: &str) -> impl Iterator<Item = &str> {
    list.split(',')
        .map(|m| m.trim_start_matches([' ', '\t']))
        .filter(|m| !m.is_empty())
}

pub fn parse_group(text: &str) -> impl Iterator<Item = GroupEntry> + '_ {
    group_fields(text).filter_map(|(name, gid, list)| {
        Some(GroupEntry {
            gid: parse_id(gid, "gid").ok()?,
            name: name.to_string(),
            members: members(list).map(String::from).collect(),
        })
    })
}

fn need<'a>(file: &'a FileText, path: &str, why: &str) -> Result<&'a str> {
    file.as_deref().map_err(|e| {
        Error::Resolve(format!(
            "cannot read {} ({}) to resolve {}; give numeric ids instead (--user UID:GID) or fix the image",
            path, e, why
        ))
    })
}

fn group_gid(spec: &str, group: &FileText) -> Result<u32> {
    match who(spec, "group")? {
        Who::Id(g) => Ok(g),
        Who::Name(n) => {
            let text = need(group, "/etc/group", &format!("group {:?}", n))?;
            // The first entry with that name decides, as for getgrnam(3): a
            // malformed one is an error, never a pass to a later line.
            let f = group_fields(text).find(|f| f.0 == n).ok_or_else(|| {
                Error::Resolve(format!(
                    "unknown group {:?}: not in /etc/group; add it to the image (groupadd) or give a numeric gid",
                    n
                ))
            })?;
            parse_id(f.1, "gid").map_err(|_| {
                Error::Resolve(format!(
                    "/etc/group: the first entry of group {:?} has an invalid gid {:?}; fix that line (a gid is digits only) or give a numeric gid",
                    n, f.1
                ))
            })
        }
    }
}

/// Resolves a spec against passwd and group text. `groups_override` is
/// `--groups` (comma-separated names or gids, "" = none).
pub fn resolve(
    spec: &UserSpec,
    groups_override: Option<&str>,
    passwd: &FileText,
    group: &FileText,
) -> Result<Target> {
    let entry = match &spec.user {
        Who::Name(n) => {
            let text = need(passwd, "/etc/passwd", &format!("user {:?}", n))?;
            // The first entry with that name decides, as for getpwnam(3): a
            // malformed one (uid ` 1000`, `+1000`) is an error, never a pass
            // to a later line that may say uid 0.
            let f = passwd_fields(text).find(|f| f.0 == n).ok_or_else(|| {
                Error::Resolve(format!(
                    "unknown user {:?}: not in /etc/passwd; add it to the image (useradd/adduser) or give numeric ids (--user UID:GID)",
                    n
                ))
            })?;
            Some(passwd_entry(f).ok_or_else(|| {
                Error::Resolve(format!(
                    "/etc/passwd: the first entry of user {:?} has an invalid uid {:?} or gid {:?}; fix that line (ids are digits only) or give numeric ids (--user UID:GID)",
                    n, f.1, f.2
                ))
            })?)
        }
        Who::Id(uid) => match passwd {
            Ok(text) => parse_passwd(text).find(|e| e.uid == *uid),
            Err(_) => None,
        },
    };
    let uid = match &spec.user {
        Who::Id(u) => *u,
        Who::Name(_) => entry.as_ref().map(|e| e.uid).unwrap_or(0),
    };
    let (gid, explicit_group) = match (&spec.group, &entry) {
        (Some(Who::Id(g)), _) => (*g, true),
        (Some(Who::Name(n)), _) => (group_gid(n, group)?, true),
        (None, Some(e)) => (e.gid, false),
        (None, None) => {
            return Err(Error::Resolve(format!(
                "uid {} is not in /etc/passwd, so its group is unknown; give one explicitly (--user {}:GID)",
                uid, uid
            )))
        }
    };
    let groups = if let Some(list) = groups_override {
        let mut v = Vec::new();
        for g in list.split(',').map(str::trim).filter(|g| !g.is_empty()) {
            let gid = group_gid(g, group)?;
            if !v.contains(&gid) {
                v.push(gid);
            }
        }
        v
    } else if explicit_group {
        // Docker and gosu: an explicit group means exactly that group.
        vec![gid]
    } else {
        let mut v = vec![gid];
        // A set, not v.contains: a user in 100k groups took 5 s (quadratic).
        let mut seen = std::collections::HashSet::from([gid]);
        if let (Some(e), Ok(text)) = (&entry, group) {
            for (_, g, list) in group_fields(text) {
                if members(list).any(|m| m == e.name) {
                    if let Ok(g) = parse_id(g, "gid") {
                        if seen.insert(g) {
                            v.push(g);
                        }
                    }
                }
            }
        }
        v
    };
    let home = entry
        .as_ref()
        .map(|e| e.home.clone())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "/".into());
    Ok(Target {
        uid,
        gid,
        groups,
        name: entry.map(|e| e.name),
        home,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\n\
        # comment\n\
        +nis::::::\n\
        broken line\n\
        bad:x:notanumber:1::/:/bin/sh\n\
        es:x:1000:1000:Elastic:/usr/share/elasticsearch:/bin/bash\r\n\
        es:x:2000:2000:dup:/dup:/bin/sh\n\
        nohome:x:1001:1001:::/bin/sh\n\
        nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
    const GROUP: &str = "root:x:0:\n\
        es:x:1000:\n\
        wheel:x:10:es,other\n\
        data:x:2001: es\n\
        trail:x:2002:es \n\
        bad:x:zz:es\n\
        nogroup:x:65534:\n";

    fn res(spec: &str, groups: Option<&str>) -> Result<Target> {
        resolve(
            &parse_spec(spec)?,
            groups,
            &Ok(PASSWD.into()),
            &Ok(GROUP.into()),
        )
    }

    #[test]
    fn name_gets_primary_and_supplementary() {
        let t = res("es", None).unwrap();
        assert_eq!((t.uid, t.gid), (1000, 1000));
        // `data` lists " es" (leading space skipped, as glibc does); `trail`
        // lists "es " (trailing space is part of the name for initgroups).
        assert_eq!(t.groups, vec![1000, 10, 2001]);
        assert_eq!(t.home, "/usr/share/elasticsearch");
        assert_eq!(t.name.as_deref(), Some("es"));
    }

    #[test]
    fn explicit_group_means_only_that_group() {
        let t = res("es:wheel", None).unwrap();
        assert_eq!((t.uid, t.gid, t.groups.clone()), (1000, 10, vec![10]));
        let t = res("es:5", None).unwrap();
        assert_eq!((t.gid, t.groups.clone()), (5, vec![5]));
        let t = res("1000:wheel", None).unwrap();
        assert_eq!((t.uid, t.gid, t.name.as_deref()), (1000, 10, Some("es")));
    }

    #[test]
    fn numeric_uid() {
        let t = res("65534", None).unwrap();
        assert_eq!((t.uid, t.gid), (65534, 65534));
        let t = res("4242:4242", None).unwrap();
        assert_eq!(
            (
                t.uid,
                t.gid,
                t.groups.clone(),
                t.home.as_str(),
                t.name.clone()
            ),
            (4242, 4242, vec![4242], "/", None)
        );
        assert!(res("4242", None)
            .unwrap_err()
            .to_string()
            .contains("4242:GID"));
    }

    #[test]
    fn empty_home_is_root() {
        assert_eq!(res("nohome", None).unwrap().home, "/");
    }

    #[test]
    fn groups_override() {
        assert_eq!(res("es", Some("")).unwrap().groups, Vec::<u32>::new());
        assert_eq!(
            res("es", Some("wheel,7,wheel")).unwrap().groups,
            vec![10, 7]
        );
        assert!(res("es", Some("nosuch")).is_err());
    }

    #[test]
    fn bad_specs() {
        for s in [
            "",
            ":",
            "es:",
            ":es",
            "-1",
            "4294967295",
            "4294967296",
            "99999999999999999999",
            "a b",
            "1000:-1",
            "1000:4294967295",
        ] {
            let e = res(s, None).unwrap_err();
            assert_eq!(e.exit_code(), 125, "{}", s);
        }
        assert!(res("nosuch", None)
            .unwrap_err()
            .to_string()
            .contains("unknown user \"nosuch\""));
        assert!(res("es:nosuch", None)
            .unwrap_err()
            .to_string()
            .contains("unknown group"));
        assert_eq!(res("4294967294:0", None).unwrap().uid, 4294967294);
    }

    #[test]
    fn missing_files() {
        let gone: FileText = Err("no such file or directory".into());
        let e = resolve(&parse_spec("es").unwrap(), None, &gone, &gone)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("cannot read /etc/passwd") && e.contains("UID:GID"),
            "{}",
            e
        );
        let t = resolve(&parse_spec("1:2").unwrap(), None, &gone, &gone).unwrap();
        assert_eq!((t.uid, t.gid, t.home.as_str()), (1, 2, "/"));
        // A name's supplementary groups are simply absent without /etc/group.
        let t = resolve(&parse_spec("es").unwrap(), None, &Ok(PASSWD.into()), &gone).unwrap();
        assert_eq!(t.groups, vec![1000]);
    }

    #[test]
    fn garbage_and_huge_files() {
        let garbage: String = (0..2000u32)
            .map(|i| char::from_u32(i * 7 % 0x2fff).unwrap_or('x'))
            .collect();
        assert!(parse_passwd(&garbage).count() < 2);
        let mut big = String::new();
        for i in 0..100_000 {
            big.push_str(&format!(
                "u{}:x:{}:{}::/h{}:/bin/sh\n",
                i,
                i + 10,
                i + 10,
                i
            ));
        }
        let t = resolve(
            &parse_spec("u99999").unwrap(),
            None,
            &Ok(big),
            &Ok(String::new()),
        )
        .unwrap();
        assert_eq!(t.uid, 100_009);
    }
}
