//! The command lockdrop runs: argv, the environment it gets, and the PATH
//! lookup execvp(3) would do (`candidates`). Pure vocabulary shared by
//! `check` (is it there?) and `run` (exec it); executing is `run::exec`'s job.
use std::ffi::CString;

/// Used when the command's environment has no PATH or an empty one (Docker's
/// default; an empty PATH meaning "the current directory" would be a trap).
pub const DEFAULT_PATH: &[u8] = b"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The candidates for argv[0]: itself when it has a slash, else each PATH entry.
pub fn candidates(cmd: &[u8], path: Option<&[u8]>) -> Vec<Vec<u8>> {
    if cmd.contains(&b'/') {
        return vec![cmd.to_vec()];
    }
    let path = path.filter(|p| !p.is_empty()).unwrap_or(DEFAULT_PATH);
    path.split(|b| *b == b':')
        .map(|dir| {
            let dir = if dir.is_empty() { &b"."[..] } else { dir };
            let mut p = dir.to_vec();
            if !p.ends_with(b"/") {
                p.push(b'/');
            }
            p.extend_from_slice(cmd);
            p
        })
        .collect()
}

/// The command to run: argv and the environment it gets.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    pub argv: Vec<CString>,
    /// None: lockdrop's own environment, passed on as is (the common case
    /// without a user switch costs no copy).
    pub env: Option<Env>,
    /// PATH as the command will see it (for the lookup in `candidates`),
    /// read from the host view at resolution.
    pub path: Option<Vec<u8>>,
}

/// A changed environment: the original one (the C runtime's environ, which
/// lockdrop never modifies) without the entries at `skip`, plus new ones.
/// Only indices: copying every entry cost ~28k instructions per start, and
/// even measuring each one (strlen) ~40 per variable (bench/).
#[derive(Debug, Clone, PartialEq)]
pub struct Env {
    /// Indices, ascending, of the original entries left out.
    pub skip: Vec<usize>,
    pub added: Vec<CString>,
}

impl Command {
    pub fn name(&self) -> String {
        self.argv
            .first()
            .map(|a| a.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
    /// PATH as the command will see it.
    pub fn path_var(&self) -> Option<&[u8]> {
        self.path.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_candidates() {
        assert_eq!(candidates(b"./x", Some(b"/bin")), vec![b"./x".to_vec()]);
        assert_eq!(
            candidates(b"ls", Some(b"/a:/b/")),
            vec![b"/a/ls".to_vec(), b"/b/ls".to_vec()]
        );
        assert_eq!(candidates(b"ls", Some(b"")).len(), 6);
        assert_eq!(candidates(b"ls", None)[0], b"/usr/local/sbin/ls".to_vec());
        assert_eq!(candidates(b"ls", Some(b"/a::/b"))[1], b"./ls".to_vec());
    }
}
