//! Files lockdrop reads as root at every start and that decide what the
//! command may do: the config file (`--config`) and, when a user is
//! switched to, /etc/passwd and /etc/group. Anything the service can write
//! is its input at the next start, so these are read only when nobody but
//! root (or, for the config, whoever started lockdrop) can change them:
//! sshd's StrictModes (`secure_filename`) and sudo's sudoers checks.
//!
//! The rules, for the file and every directory up to `/`:
//! - owned by root or by the starting uid;
//! - not writable by group or others; a directory may be if it is sticky
//!   (/tmp: others cannot replace an entry they do not own);
//! - the file is a regular file, opened without following a final symlink
//!   (O_NOFOLLOW) and without blocking (a FIFO cannot hang start-up), then
//!   checked with fstat on the open descriptor (no race with a rename);
//! - the config file is at most `MAX_CONFIG_BYTES` and nested at most
//!   `MAX_DEPTH` levels (deep YAML takes seconds to parse).
//!
//! Refusals name the path and the fix and never echo the file's content.
//! Owns no parsing of the content.
use crate::error::{Error, Result};
use crate::model::users::FileText;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// Far above any real config (the longest profile written out is ~1 KiB).
pub const MAX_CONFIG_BYTES: u64 = 64 * 1024;
/// Nesting levels a config may use; real ones use 2 (a key holding a list).
pub const MAX_DEPTH: usize = 16;

const S_ISVTX: u32 = 0o1000;

/// What is wrong with one path's owner or mode, if anything.
fn unsafe_owner_mode(md: &std::fs::Metadata, ok_uid: u32, dir: bool) -> Option<String> {
    let mode = md.mode() & 0o7777;
    if md.uid() != 0 && md.uid() != ok_uid {
        return Some(format!("is owned by uid {}", md.uid()));
    }
    if mode & 0o022 != 0 && !(dir && mode & S_ISVTX != 0) {
        let who = match (mode & 0o020 != 0, mode & 0o002 != 0) {
            (true, true) => format!("group {} and others", md.gid()),
            (true, false) => format!("group {}", md.gid()),
            _ => "others".to_string(),
        };
        return Some(format!("is writable by {} (mode {:04o})", who, mode));
    }
    None
}

fn refuse(what: &str, path: &Path, why: &str, target: &Path) -> Error {
    let p = path.display();
    let fix = if path == target {
        format!("chown root: {p}; chmod go-w {p}")
    } else {
        format!(
            "chown root: {p}; chmod go-w {p} (or move {} elsewhere)",
            target.display()
        )
    };
    Error::Usage(format!(
        "{} {}: {} {}; lockdrop reads it as root at every start, so whoever can change it chooses the command's user and capabilities. Fix: {}",
        what,
        target.display(),
        if path == target { "it".to_string() } else { format!("the directory {p} above it") },
        why,
        fix
    ))
}

/// Checks every directory from `/` down to `dir` (already canonical).
fn check_dirs(what: &str, dir: &Path, ok_uid: u32, target: &Path) -> Result<()> {
    for d in dir.ancestors() {
        let md = std::fs::metadata(d).map_err(|e| {
            Error::Usage(format!(
                "{} {}: cannot check the directory {}: {}",
                what,
                target.display(),
                d.display(),
                e.to_string().to_lowercase()
            ))
        })?;
        if let Some(why) = unsafe_owner_mode(&md, ok_uid, true) {
            return Err(refuse(what, d, &why, target));
        }
    }
    Ok(())
}

/// Each directory from `dir` up to `/` (nearest first) with its lstat,
/// when `dir` is already its real path: absolute, spelled plainly (no `.`,
/// `..`, `//` or trailing `/`), no symlink on the way. None sends the
/// caller to realpath(3) and stat, which report any error in their own
/// words. The walk is over the bytes: Path::parent re-parses the path at
/// every step, which cost more than the syscalls here.
fn plain_dirs(dir: &Path) -> Option<Vec<(&Path, std::fs::Metadata)>> {
    use std::os::unix::ffi::OsStrExt;
    let b = dir.as_os_str().as_bytes();
    let plain = b.first() == Some(&b'/')
        && (b.len() == 1
            || b[1..]
                .split(|&c| c == b'/')
                .all(|c| !c.is_empty() && c != b"." && c != b".."));
    if !plain {
        return None;
    }
    let mut out = Vec::with_capacity(4);
    let mut end = b.len();
    loop {
        let d = Path::new(std::ffi::OsStr::from_bytes(&b[..end]));
        let md = std::fs::symlink_metadata(d).ok()?;
        if md.file_type().is_symlink() {
            return None;
        }
        out.push((d, md));
        if end == 1 {
            return Some(out);
        }
        // The next one up: up to the last `/`, or `/` itself.
        end = b[..end].iter().rposition(|&c| c == b'/')?.max(1);
    }
}

/// Opens `path` the trusted way and returns the open file, its real path
/// and its size (from the fstat of the check); `ok_uid` is the uid besides root allowed to own it.
/// `dirs_done`: the directories above were checked a moment ago (a second
/// file of the same directory).
fn open_trusted(
    what: &str,
    path: &Path,
    ok_uid: u32,
    dirs_done: bool,
) -> Result<(std::fs::File, PathBuf, u64)> {
    let cannot = |e: std::io::Error| {
        let why = match e.raw_os_error() {
            // O_NOFOLLOW on a final symlink.
            Some(libc::ELOOP) => "it is a symbolic link; give the real path".to_string(),
            _ => e.to_string().to_lowercase(),
        };
        Error::Usage(format!(
            "cannot read {} {}: {}; check the path given to --config or LOCKDROP_CONFIG",
            what,
            path.display(),
            why
        ))
    };
    let name = path
        .file_name()
        .ok_or_else(|| cannot(std::io::Error::from_raw_os_error(libc::EISDIR)))?;
    let real = if dirs_done {
        path.to_path_buf()
    } else {
        // The directories as they really are (symlinks above the file
        // resolved: the checked chain is the one opened).
        let parent = match path.parent().filter(|p| !p.as_os_str().is_empty()) {
            Some(p) => p.to_path_buf(),
            None => PathBuf::from("."),
        };
        if let Some(dirs) = plain_dirs(&parent) {
            // Already the real path (the usual /etc): no realpath(3), and
            // the lstat of each directory is its stat.
            let real = path.to_path_buf();
            for (d, md) in &dirs {
                if let Some(why) = unsafe_owner_mode(md, ok_uid, true) {
                    return Err(refuse(what, d, &why, &real));
                }
            }
            real
        } else {
            let dir = std::fs::canonicalize(&parent).map_err(cannot)?;
            let real = dir.join(name);
            check_dirs(what, &dir, ok_uid, &real)?;
            real
        }
    };
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(&real)
        .map_err(cannot)?;
    let md = f.metadata().map_err(cannot)?;
    if !md.file_type().is_file() {
        return Err(Error::Usage(format!(
            "{} {} is not a regular file; give the path of a file",
            what,
            real.display()
        )));
    }
    if let Some(why) = unsafe_owner_mode(&md, ok_uid, false) {
        return Err(refuse(what, &real, &why, &real));
    }
    Ok((f, real, md.len()))
}

/// Reads the config file: trusted (see the module), at most
/// `MAX_CONFIG_BYTES`, nested at most `MAX_DEPTH`. Besides root, the real
/// uid lockdrop was started with may own it.
pub fn read_config(path: &str) -> Result<String> {
    read_config_as(path, crate::sys::getresuid().0)
}

fn read_config_as(path: &str, starting_uid: u32) -> Result<String> {
    let what = "config file";
    let (f, real, _) = open_trusted(what, Path::new(path), starting_uid, false)?;
    let mut buf = Vec::new();
    f.take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut buf)
        .map_err(|e| {
            Error::Usage(format!(
                "cannot read {} {}: {}",
                what,
                real.display(),
                e.to_string().to_lowercase()
            ))
        })?;
    let text = String::from_utf8(buf).map_err(|e| {
        Error::Usage(format!(
            "{} {} is not UTF-8 text (byte {}); write it as UTF-8",
            what,
            real.display(),
            e.utf8_error().valid_up_to()
        ))
    })?;
    check_text(&text)
        .map_err(|why| Error::Usage(format!("{} {}: {}", what, real.display(), why)))?;
    Ok(text)
}

/// The size and nesting limits, on the text alone (fuzzed).
pub fn check_text(text: &str) -> std::result::Result<(), String> {
    if text.len() as u64 > MAX_CONFIG_BYTES {
        return Err(format!(
            "larger than {} KiB; a config needs a few lines",
            MAX_CONFIG_BYTES / 1024
        ));
    }
    let (depth, line) = nesting(text);
    if depth > MAX_DEPTH {
        return Err(format!(
            "line {}: nested {} levels deep (at most {}); a config is a map of values and lists",
            line, depth, MAX_DEPTH
        ));
    }
    Ok(())
}

/// An upper bound of the YAML nesting depth and the line where it is
/// reached: open flow brackets (`[`, `{`) + the block indentation levels
/// open at the line + the sequence/key indicators (`- `, `? `) that start
/// it. Quoted text and comments do not count. Cheap and linear: it runs
/// before the parser so that the parser never sees a deep document.
pub fn nesting(text: &str) -> (usize, usize) {
    let mut flow = 0usize;
    let mut indents: Vec<usize> = Vec::new();
    let (mut max, mut at) = (0usize, 0usize);
    for (n, line) in text.lines().enumerate() {
        let body = line.trim_start_matches(' ');
        let indent = line.len() - body.len();
        if body.trim().is_empty() || body.starts_with('#') {
            continue;
        }
        if flow == 0 {
            while indents.last().is_some_and(|&i| i >= indent) {
                indents.pop();
            }
            indents.push(indent);
        }
        let mut rest = body;
        let mut lead = 0usize;
        while let Some(r) = rest
            .strip_prefix("- ")
            .or_else(|| rest.strip_prefix("? "))
            .or_else(|| rest.strip_prefix(": "))
        {
            lead += 1;
            rest = r.trim_start_matches(' ');
        }
        let mut quote: Option<char> = None;
        let mut line_max = flow;
        let mut prev = ' ';
        for c in rest.chars() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') => quote = Some(c),
                (None, '#') if prev == ' ' => break,
                (None, '[' | '{') => {
                    flow += 1;
                    line_max = line_max.max(flow);
                }
                (None, ']' | '}') => flow = flow.saturating_sub(1),
                _ => {}
            }
            prev = c;
        }
        let d = indents.len() + lead + line_max;
        if d > max {
            max = d;
            at = n + 1;
        }
    }
    (max, at)
}

/// A parse error without the file's content: a quoted or back-quoted
/// piece is kept only when it is shaped like an option name (`memlock-via`);
/// anything else (a line of another file, a secret) becomes `…`. Line and
/// column stay, and they are enough to find the mistake.
pub fn redact(msg: &str) -> String {
    let keyish = |t: &str| {
        !t.is_empty()
            && t.len() <= 32
            && t.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
            && t.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    };
    let mut out = String::with_capacity(msg.len());
    let mut rest = msg;
    while let Some(i) = rest.find(['`', '"']) {
        let q = rest.as_bytes()[i] as char;
        out.push_str(&rest[..=i]);
        let after = &rest[i + 1..];
        // Closing: a backtick closes a backtick; a quote closes a quote.
        let Some(j) = after
            .find(q)
            .or_else(|| (q == '`').then(|| after.find('\'')).flatten())
        else {
            out.push('…');
            return out;
        };
        let inner = &after[..j];
        out.push_str(if keyish(inner) { inner } else { "…" });
        out.push_str(&after[j..=j]);
        rest = &after[j + 1..];
    }
    out.push_str(rest);
    out
}

/// /etc/passwd and /etc/group as read to switch users as root: refused
/// when anyone but root can change them or a directory above them. An
/// OpenShift-style group-0-writable passwd with `--user app:root` would let
/// the service prepend `app:x:0:0:` and start as root next time.
///
/// Each file is checked and read through the one descriptor (open
/// O_NOFOLLOW, fstat, check, read): what is checked is what is read, and
/// start-up pays one open per file. A file that cannot be opened that way
/// (missing, a symlink) is read as before and resolve reports its error
/// when it needs the file.
pub fn read_account_files<const N: usize>(paths: [&Path; N]) -> Result<[FileText; N]> {
    let what = "user database";
    let mut checked: Option<&Path> = None;
    let mut out: [FileText; N] = std::array::from_fn(|_| Ok(Vec::new()));
    for (path, slot) in paths.iter().zip(out.iter_mut()) {
        // Files of one directory (/etc) share the walk up to `/`.
        let dir = path.parent();
        let same_dir = checked.is_some() && checked == dir;
        *slot = match open_trusted(what, path, 0, same_dir) {
            Ok((mut f, _, size)) => {
                checked = dir;
                // One read for the whole file, one more to see its end.
                let mut buf = Vec::with_capacity(size as usize + 1);
                f.read_to_end(&mut buf)
                    .map(|_| buf)
                    .map_err(|e| e.to_string().to_lowercase())
            }
            // Unreadable: resolve says so when it needs the file.
            Err(Error::Usage(m)) if m.starts_with("cannot read") => {
                std::fs::read(path).map_err(|e| e.to_string().to_lowercase())
            }
            Err(Error::Usage(m)) => return Err(Error::Usage(m.replace(
                "chooses the command's user and capabilities",
                "chooses the command's uid (e.g. a line `app:x:0:0:...` first); images that need it writable at run time (OpenShift's arbitrary uids) do not start lockdrop as root",
            ))),
            Err(e) => return Err(e),
        };
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_bound() {
        assert_eq!(nesting("").0, 0);
        assert_eq!(nesting("user: app\n").0, 1);
        assert_eq!(nesting("rlimit:\n  - nofile=1\n  - core=0\n").0, 3);
        assert_eq!(nesting("command: [\"a\", \"b]\"]\n").0, 2);
        assert_eq!(nesting("a: [[[[x]]]]\n").0, 5);
        assert_eq!(nesting("- - - - x\n").0, 5);
        assert_eq!(nesting("a: \"[[[[\" # [[[[\n").0, 1);
        let deep = "[".repeat(1000);
        assert!(check_text(&deep)
            .unwrap_err()
            .contains("nested 1001 levels"));
        let mut ladder = String::new();
        for i in 0..40 {
            ladder.push_str(&" ".repeat(i));
            ladder.push_str("a:\n");
        }
        assert!(check_text(&ladder).is_err());
        assert!(check_text(&"#".repeat(70_000))
            .unwrap_err()
            .contains("64 KiB"));
    }

    #[test]
    fn plain_dirs_only_for_real_paths() {
        // The cheap walk answers only for a path that is already real;
        // anything else goes to realpath(3).
        let tmp = std::fs::canonicalize(std::env::temp_dir()).unwrap();
        let base = tmp.join(format!("ld-plain-dirs-{}", std::process::id()));
        let real = base.join("real");
        std::fs::create_dir_all(&real).unwrap();
        let link = base.join("link");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let walked: Vec<PathBuf> = plain_dirs(&real)
            .unwrap()
            .into_iter()
            .map(|(d, _)| d.to_path_buf())
            .collect();
        let ancestors: Vec<PathBuf> = real.ancestors().map(Path::to_path_buf).collect();
        assert_eq!(walked, ancestors);
        assert_eq!(plain_dirs(Path::new("/")).unwrap().len(), 1);
        assert!(plain_dirs(&link).is_none());
        assert!(plain_dirs(&real.join("..").join("real")).is_none());
        assert!(plain_dirs(&real.join(".")).is_none());
        assert!(plain_dirs(Path::new("etc")).is_none());
        assert!(plain_dirs(Path::new("//etc")).is_none());
        assert!(plain_dirs(Path::new("/etc/")).is_none());
        assert!(plain_dirs(&base.join("missing")).is_none());
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn redaction() {
        assert_eq!(
            redact("line 1 column 1: unknown key `root:*:20228:0:99999:7::`; did you mean `user`?"),
            "line 1 column 1: unknown key `…`; did you mean `user`?"
        );
        assert_eq!(
            redact("invalid type: string \"S3cr3t:x\", expected a map"),
            "invalid type: string \"…\", expected a map"
        );
        assert_eq!(redact("unknown key `memlok`"), "unknown key `memlok`");
        assert_eq!(redact("unterminated `abc"), "unterminated `…");
    }
}
