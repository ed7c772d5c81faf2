//! Users and groups without NSS or PAM: parses `--user` specs and the text of
//! /etc/passwd and /etc/group, and resolves a spec to numeric ids, the
//! supplementary groups and HOME. Pure: the caller reads the files (from an
//! injectable root) and hands their bytes in. A name resolves to the first
//! entry with that name, or an error (see "The byte scanner" below: where
//! glibc and musl would read a line differently, lockdrop refuses it).
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

/// The bytes of a file we tried to read: its content, or why not. Bytes, not
/// text: the scan below never validates or copies what it skips.
pub type FileText = std::result::Result<Vec<u8>, String>;

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

// ---------------------------------------------------------------------------
// The byte scanner. lockdrop reads these files at every start, so lines that
// cannot match cost only the search for their end (eight bytes per step),
// nothing is allocated per line, and a name lookup stops at its first line.
//
// Agreement with the C libraries (glibc nss_files: files-parse.c, files-pwd.c,
// files-initgroups.c; musl: getpwent_a.c, getgrent_a.c): for a *plain* entry
// (seven passwd fields or four group fields, ids in decimal digits) they all
// agree. They disagree on the rest: glibc skips blanks before a line and
// before an id and takes a `+` sign (strtoul), and skips a line it cannot
// parse, taking a later one; musl takes none of that and needs every field.
// So the first line whose name matches is either plain (used) or an error
// naming the file and line: never a later line, never a guess.
// ---------------------------------------------------------------------------

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// The bytes of `w` equal to the byte repeated in `pattern`, flagged by
/// their high bit (SWAR: equal bytes become zero after the XOR). The lowest
/// flag is exact; flags above a true one may be false (a borrow).
#[inline(always)]
fn equal_bytes(w: u64, pattern: u64) -> u64 {
    let x = w ^ pattern;
    x.wrapping_sub(LO) & !x & HI
}

/// The first eight bytes of `b` as one word (callers pass eight or more).
#[inline(always)]
fn word(b: &[u8]) -> u64 {
    b.first_chunk::<8>().map_or(0, |a| u64::from_le_bytes(*a))
}

/// The offset of the first `b` in `hay`, sixteen bytes a step (inlined: a
/// call per passwd line cost a fifth of the scan).
#[inline(always)]
fn find_byte(hay: &[u8], b: u8) -> Option<usize> {
    let pattern = LO * b as u64;
    let mut at = 0;
    let mut chunks = hay.chunks_exact(16);
    for c in &mut chunks {
        let (lo, hi) = (
            equal_bytes(word(&c[..8]), pattern),
            equal_bytes(word(&c[8..]), pattern),
        );
        if lo | hi != 0 {
            let z = if lo != 0 {
                lo.trailing_zeros()
            } else {
                64 + hi.trailing_zeros()
            };
            return Some(at + (z / 8) as usize);
        }
        at += 16;
    }
    let n = hay.len();
    if n < 8 {
        return hay.iter().position(|x| *x == b);
    }
    // Up to 15 bytes left: one or two more words, the last one overlapping
    // bytes already checked (they hold no match, so the lowest hit is new).
    let tail = hay.last_chunk::<8>().map_or(0, |a| u64::from_le_bytes(*a));
    let mut z = 0;
    let mut start = n - 8;
    if n - at > 8 {
        z = equal_bytes(word(&hay[at..]), pattern);
        start = at;
    }
    if z == 0 {
        z = equal_bytes(tail, pattern);
        start = n - 8;
    }
    (z != 0).then(|| start + (z.trailing_zeros() / 8) as usize)
}

/// Offsets where `needle` (two bytes or more) may start in `hay`, from
/// `from` on, found eight positions a step by its first two bytes; the
/// caller compares the rest.
fn find_pair(hay: &[u8], needle: &[u8], mut from: usize) -> Option<usize> {
    let (p0, p1) = (LO * needle[0] as u64, LO * needle[1] as u64);
    while from + 9 <= hay.len() {
        let z = equal_bytes(word(&hay[from..]), p0) & equal_bytes(word(&hay[from + 1..]), p1);
        if z != 0 {
            let i = from + (z.trailing_zeros() / 8) as usize;
            if hay[i] == needle[0] && hay[i + 1] == needle[1] {
                return Some(i);
            }
            // A false flag (borrow): go on after it.
            from = i + 1;
            continue;
        }
        from += 8;
    }
    (from..hay.len().saturating_sub(1)).find(|i| hay[*i] == needle[0] && hay[*i + 1] == needle[1])
}

/// Lines as the C libraries split them (at '\n'), with trailing '\r's cut
/// (a file saved with CRLF reads like its LF twin), numbered from 1.
struct Lines<'a> {
    rest: &'a [u8],
    no: usize,
}

impl<'a> Iterator for Lines<'a> {
    type Item = (usize, &'a [u8]);
    #[inline]
    fn next(&mut self) -> Option<(usize, &'a [u8])> {
        if self.rest.is_empty() {
            return None;
        }
        let (mut line, rest) = match find_byte(self.rest, b'\n') {
            Some(i) => (&self.rest[..i], &self.rest[i + 1..]),
            None => (self.rest, &self.rest[..0]),
        };
        self.rest = rest;
        self.no += 1;
        while let [l @ .., b'\r'] = line {
            line = l;
        }
        Some((self.no, line))
    }
}

fn lines(text: &[u8]) -> Lines<'_> {
    Lines { rest: text, no: 0 }
}

/// The blanks glibc skips before a line and before an id (isspace(3)).
fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\x0b' | b'\x0c' | b'\r' | b'\n')
}

/// A plain id: decimal digits only, in range.
fn plain_id(f: &[u8]) -> Option<u32> {
    if f.is_empty() || f.len() > 10 || !f.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = f.iter().fold(0u64, |n, d| n * 10 + (d - b'0') as u64);
    (n <= MAX_ID as u64).then_some(n as u32)
}

/// The first `N` ':'-separated fields of `line` and the rest after them.
fn fields<const N: usize>(line: &[u8]) -> Option<([&[u8]; N], &[u8])> {
    let mut out = [&line[..0]; N];
    let mut rest = line;
    for f in out.iter_mut() {
        let i = rest.iter().position(|b| *b == b':')?;
        *f = &rest[..i];
        rest = &rest[i + 1..];
    }
    Some((out, rest))
}

/// A plain passwd line: (name, uid, gid, home).
fn plain_passwd(line: &[u8]) -> Option<(&[u8], u32, u32, &[u8])> {
    // Seven fields or more: both C libraries take the rest as the shell.
    let ([name, _pw, uid, gid, _gecos, home], _shell) = fields::<6>(line)?;
    if name.is_empty() {
        return None;
    }
    Some((name, plain_id(uid)?, plain_id(gid)?, home))
}

/// A plain group line: (name, gid, members).
fn plain_group(line: &[u8]) -> Option<(&[u8], u32, &[u8])> {
    let (name, gid, members) = group_split(line)?;
    if name.is_empty() {
        return None;
    }
    Some((name, plain_id(gid)?, members))
}

/// name, gid (unparsed) and members of a group line: one pass over the bytes
/// up to the third ':'.
#[inline]
fn group_split(line: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let mut colons = [0usize; 3];
    let mut n = 0;
    for (i, b) in line.iter().enumerate() {
        if *b == b':' {
            colons[n] = i;
            n += 1;
            if n == 3 {
                return Some((
                    &line[..colons[0]],
                    &line[colons[1] + 1..colons[2]],
                    &line[colons[2] + 1..],
                ));
            }
        }
    }
    None
}

/// Lines that are no entry for anyone: empty, comments, NIS `+`/`-` lines.
fn skipped(line: &[u8]) -> bool {
    matches!(line.first(), None | Some(b'#' | b'+' | b'-'))
}

/// The first line that glibc or musl reads as the entry of `name`: its
/// offset in `text` and its bytes. A line costs the search for its end
/// unless it starts with the name's first byte or a blank (glibc skips blanks
/// before the name, so such a line counts, and is then refused as not plain).
fn first_named<'a>(text: &'a [u8], name: &[u8]) -> Option<(usize, &'a [u8])> {
    if name.is_empty() || matches!(name[0], b'#' | b'+' | b'-') {
        return None;
    }
    let mut pos = 0;
    while pos < text.len() {
        let rest = &text[pos..];
        if rest[0] == name[0] || (is_blank(rest[0]) && rest[0] != b'\n') {
            let line = lines(rest).next().map(|(_, l)| l).unwrap_or_default();
            let l = &line[line
                .iter()
                .position(|b| !is_blank(*b))
                .unwrap_or(line.len())..];
            // A bare `NAME` line counts too: it is that name's entry, malformed.
            if l.starts_with(name) && matches!(l.get(name.len()), None | Some(b':')) {
                return Some((pos, line));
            }
        }
        pos += find_byte(rest, b'\n')? + 1;
    }
    None
}

/// The 1-based number of the line at offset `pos` (for error messages only).
fn line_no(text: &[u8], pos: usize) -> usize {
    1 + text[..pos].iter().filter(|b| **b == b'\n').count()
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Why a line is not a plain entry, for the error message.
fn not_plain(line: &[u8], n_fields: usize) -> String {
    if line.first().is_some_and(|b| is_blank(*b)) {
        return "it starts with blanks".into();
    }
    let f: Vec<&[u8]> = line.split(|b| *b == b':').collect();
    if f.len() < n_fields {
        return format!("{} fields instead of {}", f.len(), n_fields);
    }
    let ids = if n_fields == 7 { &f[2..4] } else { &f[2..3] };
    match ids.iter().find(|id| plain_id(id).is_none()) {
        Some(id) => format!(
            "id {:?} is not a plain decimal number from 0 to {}",
            lossy(id),
            MAX_ID
        ),
        None => "not a plain entry".into(),
    }
}

fn ambiguous(file: &str, no: usize, what: &str, name: &str, why: String) -> Error {
    Error::Resolve(format!(
        "{} line {}: the first entry for {} {:?} is malformed ({}); C libraries read such a line differently (glibc may take it or a later entry, musl skips it), so lockdrop refuses it: fix the line or give numeric ids (--user UID:GID)",
        file, no, what, name, why
    ))
}

/// Valid passwd entries, in file order. Lines that are not plain (and NIS
/// `+`/`-` lines, comments) are skipped: this is the listing `--doctor` uses;
/// a *lookup* by name goes through `resolve`, which refuses a malformed first
/// entry instead of skipping it.
pub fn parse_passwd(text: &[u8]) -> impl Iterator<Item = PasswdEntry> + '_ {
    lines(text).filter_map(|(_, line)| {
        if skipped(line) || is_blank(line[0]) {
            return None;
        }
        let (name, uid, gid, home) = plain_passwd(line)?;
        Some(PasswdEntry {
            name: lossy(name),
            uid,
            gid,
            home: lossy(home),
        })
    })
}

/// Valid group entries, in file order (members exactly as written, empty ones
/// dropped), skipping lines that are not plain.
pub fn parse_group(text: &[u8]) -> impl Iterator<Item = GroupEntry> + '_ {
    lines(text).filter_map(|(_, line)| {
        if skipped(line) || is_blank(line[0]) {
            return None;
        }
        let (name, gid, members) = plain_group(line)?;
        Some(GroupEntry {
            name: lossy(name),
            gid,
            members: members
                .split(|b| *b == b',')
                .filter(|m| !m.is_empty())
                .map(lossy)
                .collect(),
        })
    })
}

/// getpwnam: the first entry named `name`, plain or an error.
fn user_by_name(text: &[u8], name: &str) -> Result<Option<PasswdEntry>> {
    let Some((at, line)) = first_named(text, name.as_bytes()) else {
        return Ok(None);
    };
    match plain_passwd(line) {
        Some((n, uid, gid, home)) if n == name.as_bytes() => Ok(Some(PasswdEntry {
            name: name.to_string(),
            uid,
            gid,
            home: lossy(home),
        })),
        _ => Err(ambiguous(
            "/etc/passwd",
            line_no(text, at),
            "user",
            name,
            not_plain(line, 7),
        )),
    }
}

/// getgrnam: the gid of the first group named `name`, plain or an error.
fn group_by_name(text: &[u8], name: &str) -> Result<Option<u32>> {
    let Some((at, line)) = first_named(text, name.as_bytes()) else {
        return Ok(None);
    };
    match plain_group(line) {
        Some((n, gid, _)) if n == name.as_bytes() => Ok(Some(gid)),
        _ => Err(ambiguous(
            "/etc/group",
            line_no(text, at),
            "group",
            name,
            not_plain(line, 4),
        )),
    }
}

/// Whether `user` is listed in a group's member field, exactly: no blanks
/// trimmed (glibc's parser drops blanks before a member, musl does not: an
/// entry ` app` is not taken, so lockdrop adds no group that musl would
/// not; the one exception is a CRLF file, read like its LF twin). Comment and
/// NIS lines, which both libraries would read as groups, are skipped.
fn lists(members: &[u8], user: &[u8]) -> bool {
    let mut rest = members;
    while rest.len() >= user.len() {
        let end = rest.iter().position(|b| *b == b',').unwrap_or(rest.len());
        if &rest[..end] == user {
            return true;
        }
        if end == rest.len() {
            break;
        }
        rest = &rest[end + 1..];
    }
    false
}

fn need<'a>(file: &'a FileText, path: &str, why: &str) -> Result<&'a [u8]> {
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
            group_by_name(text, &n)?.ok_or_else(|| {
                Error::Resolve(format!(
                    "unknown group {:?}: not in /etc/group; add it to the image (groupadd) or give a numeric gid",
                    n
                ))
            })
        }
    }
}

/// The groups listing `user`, after `primary`, each once: initgroups(3) over
/// plain group lines.
fn supplementary(text: &[u8], user: &[u8], primary: u32) -> Vec<u32> {
    let mut v = vec![primary];
    // Only lines holding the name are read: the search jumps from one place
    // the name's first two bytes occur to the next (a one-byte name: every line).
    let mut from = 0;
    while from < text.len() {
        let at = if user.len() >= 2 {
            match find_pair(text, user, from) {
                Some(at) => at,
                None => break,
            }
        } else {
            from
        };
        let start = text[..at]
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |i| i + 1);
        let end = find_byte(&text[at..], b'\n').map_or(text.len(), |i| at + i);
        from = end + 1;
        let Some((_, line)) = lines(&text[start..end]).next() else {
            continue;
        };
        if skipped(line) {
            continue;
        }
        // Most lines list nobody or others: the gid is parsed only for a hit.
        let Some((name, gid, members)) = group_split(line) else {
            continue;
        };
        if members.len() < user.len() || !lists(members, user) || name.is_empty() {
            continue;
        }
        if let Some(gid) = plain_id(gid) {
            v.push(gid);
        }
    }
    first_of_each(v)
}

/// `v` without repeats, first occurrences in order. Sorting (gid, position)
/// pairs keeps it O(n log n): a user in 100k groups took 5 s with a linear
/// check, and a hash set costs ~300 instructions a group and a random seed.
fn first_of_each(v: Vec<u32>) -> Vec<u32> {
    if v.len() <= 16 {
        let mut out = Vec::with_capacity(v.len());
        for g in v {
            if !out.contains(&g) {
                out.push(g);
            }
        }
        return out;
    }
    let mut by_gid: Vec<(u32, usize)> = v.iter().copied().zip(0..).collect();
    by_gid.sort_unstable();
    by_gid.dedup_by_key(|(g, _)| *g);
    if by_gid.len() == v.len() {
        return v;
    }
    by_gid.sort_unstable_by_key(|(_, i)| *i);
    by_gid.into_iter().map(|(g, _)| g).collect()
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
            Some(user_by_name(text, n)?.ok_or_else(|| {
                Error::Resolve(format!(
                    "unknown user {:?}: not in /etc/passwd; add it to the image (useradd/adduser) or give numeric ids (--user UID:GID)",
                    n
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
        match (&entry, group) {
            (Some(e), Ok(text)) => supplementary(text, e.name.as_bytes(), gid),
            _ => vec![gid],
        }
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
        data:x:2001: es \n\
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
        // " es " in data's member list is not "es" (no trimming).
        assert_eq!(t.groups, vec![1000, 10]);
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
        assert!(parse_passwd(garbage.as_bytes()).count() < 2);
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
            &Ok(big.into_bytes()),
            &Ok(Vec::new()),
        )
        .unwrap();
        assert_eq!(t.uid, 100_009);
    }

    fn with(passwd: &str, group: &str, spec: &str) -> Result<Target> {
        resolve(
            &parse_spec(spec)?,
            None,
            &Ok(passwd.into()),
            &Ok(group.into()),
        )
    }

    /// Issue 13 item 4: the first line named `app` decides, or lockdrop
    /// refuses; a later `app` line (uid 0 here) is never taken.
    #[test]
    fn first_entry_or_an_error_never_a_later_line() {
        let later = "app:x:0:0:later:/root:/bin/sh\n";
        for first in [
            "app:x: 1000:1000::/home/app:/bin/sh\n", // glibc: 1000, musl: skipped
            "app:x:+1000:1000::/home/app:/bin/sh\n", // glibc: 1000, musl: skipped
            "app:x:1000: 1000::/home/app:/bin/sh\n",
            "app:x:-1:1000::/home/app:/bin/sh\n", // glibc: (uid_t)-1
            "app:x:99999999999:1::/:/bin/sh\n",   // glibc clamps to (uid_t)-1
            "app:x:4294967295:1::/:/bin/sh\n",
            "app:x:abc:1000::/home/app:/bin/sh\n", // both skip it: later line
            "app:x:1000x:1000::/:/bin/sh\n",
            "app:x::1000::/:/bin/sh\n",
            "app:x:1000:1000\n", // glibc takes 4 fields, musl needs 7
            "app:x:1000\n",
            "app\n",
            "  app:x:1000:1000::/home/app:/bin/sh\n", // glibc skips the blanks
            "\tapp:x:1000:1000::/home/app:/bin/sh\n",
        ] {
            let pw = format!("root:x:0:0::/root:/bin/sh\n# c\n{}{}", first, later);
            let e = with(&pw, "", "app").unwrap_err();
            let msg = e.to_string();
            assert_eq!(e.exit_code(), 125, "{:?}", first);
            assert!(
                msg.contains("/etc/passwd line 3") && msg.contains("\"app\""),
                "{:?}: {}",
                first,
                msg
            );
            assert!(!msg.contains('\n'), "one line: {}", msg);
        }
        // A plain first line wins; leading zeros and CRLF are plain.
        for (first, uid) in [
            ("app:x:1000:1000::/home/app:/bin/sh\n", 1000),
            ("app:x:0001000:1000::/home/app:/bin/sh\r\n", 1000),
            ("app:x:1000:1000:gecos, with: colons?::/bin/sh\n", 1000), // 8 fields: shell takes the rest
        ] {
            let pw = format!("{}{}", first, later);
            assert_eq!(with(&pw, "", "app").unwrap().uid, uid, "{:?}", first);
        }
        // Names are compared whole: "ap", "app2" and "+app" lines are others.
        let pw = format!(
            "ap:x:5:5::/:/bin/sh\napp2:x:6:6::/:/bin/sh\n+app:x:7:7::/:/bin/sh\n{}",
            later
        );
        assert_eq!(with(&pw, "", "app").unwrap().uid, 0);
        // A malformed line for *another* name is skipped, as both libraries do.
        let pw = format!("bob:x: 1:1::/:/bin/sh\n{}", later);
        assert_eq!(with(&pw, "", "app").unwrap().uid, 0);
    }

    #[test]
    fn group_names_first_entry_or_an_error() {
        let pw = "app:x:1000:1000::/home/app:/bin/sh\n";
        for first in [
            "data:x: 7:\n",
            "data:x:+7:\n",
            "data:x:7\n",
            " data:x:7:\n",
            "data:x:x7:\n",
        ] {
            let gr = format!("root:x:0:\n{}data:x:0:\n", first);
            let e = with(pw, &gr, "app:data").unwrap_err().to_string();
            assert!(
                e.contains("/etc/group line 2") && e.contains("\"data\""),
                "{:?}: {}",
                first,
                e
            );
            let e = resolve(
                &parse_spec("app").unwrap(),
                Some("data"),
                &Ok(pw.into()),
                &Ok(gr.into()),
            );
            assert!(e.is_err(), "--groups data with {:?}", first);
        }
        let t = with(pw, "data:x:7:\ndata:x:0:\n", "app:data").unwrap();
        assert_eq!((t.gid, t.groups), (7, vec![7]));
    }

    /// initgroups: a member is the user only when written exactly so. glibc
    /// drops blanks before a member (" app"), musl does not; trailing blanks
    /// count for both. lockdrop adds neither: never a group musl would not.
    #[test]
    fn membership_is_exact() {
        let pw = "app:x:1000:1000::/home/app:/bin/sh\n";
        let gr = "lead:x:2001: app\n\
                  trail:x:2002:app \n\
                  both:x:2003:x, app ,y\n\
                  sub:x:2004:xapp,appx,ap\n\
                  #cmt:x:2005:app\n\
                  sp:x: 2006:app\n\
                  plus:x:+2007:app\n\
                  +nis:x:2008:app\n\
                  ok:x:2009:x,app\n\
                  crlf:x:2010:y,app\r\n\
                  empty:x:2011:,,app,,\n\
                  ok:x:2009:app\n";
        assert_eq!(
            with(pw, gr, "app").unwrap().groups,
            vec![1000, 2009, 2010, 2011]
        );
    }

    #[test]
    fn repeats_keep_the_first_place() {
        assert_eq!(first_of_each(vec![5, 1, 5, 2, 1]), vec![5, 1, 2]);
        let many: Vec<u32> = (0..100).chain((0..100).rev()).chain([7, 300]).collect();
        assert_eq!(
            first_of_each(many),
            (0..100).chain([300]).collect::<Vec<_>>()
        );
        let distinct: Vec<u32> = (0..50).rev().collect();
        assert_eq!(first_of_each(distinct.clone()), distinct);
    }

    #[test]
    fn byte_search_finds_every_position() {
        let hay: Vec<u8> = (0..40u8).map(|i| b'a' + i % 20).collect();
        for len in 0..hay.len() {
            for at in 0..len {
                let mut h = hay[..len].to_vec();
                h[at] = b'\n';
                assert_eq!(find_byte(&h, b'\n'), Some(at), "len {} at {}", len, at);
            }
            assert_eq!(find_byte(&hay[..len], b'\n'), None);
        }
        // Pairs: every offset, and a false flag (a borrow) is passed over.
        for len in 2..hay.len() {
            for at in 0..len - 1 {
                let mut h = hay[..len].to_vec();
                h[at] = b'#';
                h[at + 1] = b'!';
                assert_eq!(find_pair(&h, b"#!x", 0), Some(at), "len {} at {}", len, at);
                assert_eq!(find_pair(&h, b"#!x", at + 1), None);
            }
        }
        assert_eq!(find_pair(b"\x00\x01#\x01#!......", b"#!", 0), Some(4));
        // One-byte names are matched line by line.
        let t = with("a:x:7:7::/:/bin/sh\n", "g:x:5:b,a\nh:x:6:ab\n", "a").unwrap();
        assert_eq!(t.groups, vec![7, 5]);
        // Bytes ≥ 0x80 next to the target do not fool the zero-byte test.
        assert_eq!(
            find_byte(b"\xff\x8a\x0b\x0a\xff\xff\xff\xff\x0a", b'\n'),
            Some(3)
        );
        assert_eq!(
            find_byte(b"\x0b\x8a\x0b\x8a\x0b\x8a\x0b\x8a\x8a", b'\n'),
            None
        );
    }

    #[test]
    fn non_utf8_files_are_scanned_as_bytes() {
        let pw = b"\xff\xfe:x:1:1::/:/bin/sh\napp:x:1000:1000::/h\xc3\xa9:/bin/sh\n".to_vec();
        let gr = b"\xff:x:5:app\n".to_vec();
        let t = resolve(&parse_spec("app").unwrap(), None, &Ok(pw), &Ok(gr)).unwrap();
        assert_eq!(
            (t.uid, t.groups, t.home.as_str()),
            (1000, vec![1000, 5], "/hé")
        );
    }
}
