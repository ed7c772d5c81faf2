//! Command line and environment → `Options` (what the user said, still
//! strings). Owns the flag table that `--help` prints and README copies; does
//! not interpret values (that is `plan`'s job), except to split the command
//! off: the first non-option word starts the command and owns every word
//! after it, even ones that look like options.
use crate::error::{Error, Result};
use std::ffi::OsString;

/// Execution mode of the command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Replace lockdrop with the command (execve).
    Exec,
    /// Fork the command and stay as its supervisor (PID-1 duties).
    Supervise,
}

/// Everything the user asked for, unresolved. Every field is optional so that
/// layers (defaults < profile < file < environment < flags) merge field by
/// field with `Options::overlay`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Options {
    pub user: Option<String>,
    pub groups: Option<String>,
    pub rlimits: Vec<String>,
    pub memlock: Option<String>,
    pub memlock_via: Option<String>,
    pub require_caps: Vec<String>,
    pub ambient_caps: Vec<String>,
    pub no_new_privs: Option<bool>,
    pub workdir: Option<String>,
    pub verbose: Option<u8>,
    pub quiet: Option<bool>,
    pub mode: Option<Mode>,
    pub pdeathsig: Option<String>,
    pub process_group: Option<bool>,
    pub rewrite: Vec<String>,
    pub grace: Option<String>,
    pub remap_exit: Option<String>,
    pub config: Option<String>,
    pub profile: Option<String>,
    pub sysctls: Vec<String>,
    pub sysctl_policy: Option<String>,
    pub check: bool,
    pub doctor: bool,
    pub json: bool,
    pub help: bool,
    pub version: bool,
    pub command: Vec<OsString>,
}

impl Options {
    /// `self` overridden by every field `top` sets. Lists given in `top`
    /// replace (not extend) the lower layer's list: a flag states the whole
    /// value, as the environment variable does.
    pub fn overlay(mut self, top: Options) -> Options {
        macro_rules! opt { ($($f:ident),*) => { $( if top.$f.is_some() { self.$f = top.$f; } )* } }
        macro_rules! list { ($($f:ident),*) => { $( if !top.$f.is_empty() { self.$f = top.$f; } )* } }
        opt!(
            user,
            groups,
            memlock,
            memlock_via,
            no_new_privs,
            workdir,
            verbose,
            quiet,
            mode,
            pdeathsig,
            process_group,
            grace,
            remap_exit,
            config,
            profile,
            sysctl_policy
        );
        list!(
            rlimits,
            require_caps,
            ambient_caps,
            rewrite,
            sysctls,
            command
        );
        self.check |= top.check;
        self.doctor |= top.doctor;
        self.json |= top.json;
        self.help |= top.help;
        self.version |= top.version;
        self
    }
}

/// One documented flag: the single source for `--help`, README and the
/// environment variable table.
pub struct Flag {
    pub long: &'static str,
    pub short: Option<char>,
    pub value: &'static str,
    pub env: &'static str,
    pub help: &'static str,
}

macro_rules! flag {
    ($long:expr, $short:expr, $value:expr, $env:expr, $help:expr) => {
        Flag {
            long: $long,
            short: $short,
            value: $value,
            env: $env,
            help: $help,
        }
    };
}

pub const FLAGS: &[Flag] = &[
    flag!("user", Some('u'), "SPEC", "LOCKDROP_USER",
        "run the command as NAME, UID, NAME:GROUP, UID:GID (read from /etc/passwd and /etc/group, no PAM)"),
    flag!("groups", None, "LIST", "LOCKDROP_GROUPS",
        "supplementary groups, comma-separated names or gids, replacing the computed ones (\"\" = none)"),
    flag!("rlimit", Some('l'), "NAME=SOFT[:HARD]", "LOCKDROP_RLIMIT",
        "set a resource limit (memlock, nofile, nproc, core, ...; K/M/G/T, unlimited, -1); repeatable, env: space-separated"),
    flag!("memlock", None, "VALUE", "LOCKDROP_MEMLOCK",
        "the command must be able to lock VALUE bytes (e.g. unlimited, 64M)"),
    flag!("memlock-via", None, "auto|rlimit|ambient", "LOCKDROP_MEMLOCK_VIA",
        "how --memlock is met: raise RLIMIT_MEMLOCK, or keep CAP_IPC_LOCK ambient (default auto)"),
    flag!("require-cap", None, "LIST", "LOCKDROP_REQUIRE_CAP",
        "fail unless each capability is in the effective set (ipc_lock, IPC_LOCK, CAP_IPC_LOCK)"),
    flag!("ambient-cap", None, "LIST", "LOCKDROP_AMBIENT_CAP",
        "capabilities the command keeps as ambient after the user switch"),
    flag!("no-new-privs", None, "", "LOCKDROP_NO_NEW_PRIVS",
        "set PR_SET_NO_NEW_PRIVS before exec (set-uid binaries gain nothing)"),
    flag!("workdir", Some('w'), "DIR", "LOCKDROP_WORKDIR", "change to DIR before running the command"),
    flag!("exec", None, "", "LOCKDROP_MODE=exec", "replace lockdrop with the command (default when not PID 1)"),
    flag!("supervise", None, "", "LOCKDROP_MODE=supervise",
        "stay as the command's supervisor: forward signals, reap zombies (default as PID 1)"),
    flag!("process-group", Some('g'), "", "LOCKDROP_PROCESS_GROUP",
        "forward signals to the command's whole process group"),
    flag!("rewrite", None, "FROM:TO", "LOCKDROP_REWRITE",
        "forward signal FROM as TO (names or numbers; TO=0 drops it); repeatable"),
    flag!("grace", None, "DURATION", "LOCKDROP_GRACE",
        "on shutdown give the rest of the tree DURATION (10s, 500ms) after SIGTERM, then SIGKILL; 0 (default): when the command exits, SIGTERM to what it left, and exit at once"),
    flag!("remap-exit", None, "N[,M]", "LOCKDROP_REMAP_EXIT",
        "exit 0 instead of these codes (e.g. 143 for a JVM stopped by SIGTERM)"),
    flag!("pdeathsig", None, "SIG", "LOCKDROP_PDEATHSIG", "signal lockdrop receives when its parent dies"),
    flag!("config", Some('c'), "FILE", "LOCKDROP_CONFIG", "read options (and the command) from a YAML file"),
    flag!("profile", None, "NAME|list", "LOCKDROP_PROFILE",
        "start from a service profile (elasticsearch, opensearch, cassandra); `list` prints them"),
    flag!("sysctl", None, "KEY OP VALUE", "LOCKDROP_SYSCTL",
        "require a kernel tunable, OP one of >= <= = (vm.max_map_count>=262144); repeatable, env: comma-separated"),
    flag!("sysctl-policy", None, "error|warn|modify", "LOCKDROP_SYSCTL_POLICY",
        "what a failed --sysctl does (default error; modify writes /proc/sys when it can)"),
    flag!("check", None, "", "", "resolve and check everything, print the plan, change nothing; exit 0 or 125"),
    flag!("doctor", None, "", "", "print a report of this environment (identity, caps, limits, sysctls, cgroups)"),
    flag!("json", None, "", "", "with --check or --doctor: print one JSON document"),
    flag!("verbose", Some('v'), "", "LOCKDROP_VERBOSE", "say each step on stderr (repeat for more)"),
    flag!("quiet", Some('q'), "", "LOCKDROP_QUIET", "print errors only"),
    flag!("help", Some('h'), "", "", "print this help"),
    flag!("version", Some('V'), "", "", "print the version"),
];

pub const EXIT_CODES: &str = "\
exit codes:
  125      lockdrop failed before the command ran (bad input, missing privilege, failed step)
  126      the command was found but is not executable
  127      the command was not found
  128+N    supervise mode: the command died of signal N
  other    the command's own exit status";

pub fn help_text() -> String {
    let mut s = String::from(concat!(
        "lockdrop ",
        env!("CARGO_PKG_VERSION"),
        " - container entrypoint: raise limits, check capabilities, drop to a user, run\n\n",
        "usage: lockdrop [OPTIONS] [--] COMMAND [ARG]...\n\noptions:\n"
    ));
    for f in FLAGS {
        let short = f
            .short
            .map(|c| format!("-{}, ", c))
            .unwrap_or_else(|| "    ".into());
        let left = format!("  {}--{} {}", short, f.long, f.value);
        s.push_str(&format!("{:<44}{}\n", left.trim_end(), f.help));
    }
    s.push_str("\nenvironment (flags win over the environment):\n");
    for f in FLAGS.iter().filter(|f| !f.env.is_empty()) {
        s.push_str(&format!("  {:<28}--{}\n", f.env, f.long));
    }
    s.push('\n');
    s.push_str(EXIT_CODES);
    s.push('\n');
    s
}

/// The options table of README.md, rendered from `FLAGS` (a test keeps the
/// README's copy identical; `UPDATE_README=1 cargo test readme` rewrites it).
pub fn markdown_table() -> String {
    let mut s = String::from("| option | environment | what it does |\n|---|---|---|\n");
    for f in FLAGS {
        let short = f.short.map(|c| format!("`-{}`, ", c)).unwrap_or_default();
        let val = if f.value.is_empty() {
            String::new()
        } else {
            format!(" {}", f.value.replace('|', "\\|"))
        };
        let env = if f.env.is_empty() {
            String::new()
        } else {
            format!("`{}`", f.env)
        };
        s.push_str(&format!(
            "| {}`--{}{}` | {} | {} |\n",
            short,
            f.long,
            val,
            env,
            f.help.replace('|', "\\|")
        ));
    }
    s
}

fn usage(msg: String) -> Error {
    Error::Usage(format!("{} (see lockdrop --help)", msg))
}

fn value(p: &mut lexopt::Parser, flag: &str) -> Result<String> {
    let v = p
        .value()
        .map_err(|_| usage(format!("--{} needs a value", flag)))?;
    v.into_string()
        .map_err(|v| usage(format!("--{}: value {:?} is not valid UTF-8", flag, v)))
}

fn split_list(v: &str) -> Vec<String> {
    v.split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Parses the command line (without argv[0]).
pub fn parse_args(args: Vec<OsString>) -> Result<Options> {
    use lexopt::prelude::*;
    let mut o = Options::default();
    let mut p = lexopt::Parser::from_args(args);
    loop {
        let arg = match p.next() {
            Ok(Some(a)) => a,
            Ok(None) => break,
            Err(e) => return Err(usage(e.to_string())),
        };
        match arg {
            Short('u') | Long("user") => o.user = Some(value(&mut p, "user")?),
            Long("groups") => o.groups = Some(value(&mut p, "groups")?),
            Short('l') | Long("rlimit") => o.rlimits.push(value(&mut p, "rlimit")?),
            Long("memlock") => o.memlock = Some(value(&mut p, "memlock")?),
            Long("memlock-via") => o.memlock_via = Some(value(&mut p, "memlock-via")?),
            Long("require-cap") => o
                .require_caps
                .extend(split_list(&value(&mut p, "require-cap")?)),
            Long("ambient-cap") => o
                .ambient_caps
                .extend(split_list(&value(&mut p, "ambient-cap")?)),
            Long("no-new-privs") => o.no_new_privs = Some(true),
            Short('w') | Long("workdir") => o.workdir = Some(value(&mut p, "workdir")?),
            Long("exec") => o.mode = Some(Mode::Exec),
            Long("supervise") => o.mode = Some(Mode::Supervise),
            Short('g') | Long("process-group") => o.process_group = Some(true),
            Long("rewrite") => o.rewrite.push(value(&mut p, "rewrite")?),
            Long("grace") => o.grace = Some(value(&mut p, "grace")?),
            Long("remap-exit") => o.remap_exit = Some(value(&mut p, "remap-exit")?),
            Long("pdeathsig") => o.pdeathsig = Some(value(&mut p, "pdeathsig")?),
            Short('c') | Long("config") => o.config = Some(value(&mut p, "config")?),
            Long("profile") => o.profile = Some(value(&mut p, "profile")?),
            Long("sysctl") => o.sysctls.push(value(&mut p, "sysctl")?),
            Long("sysctl-policy") => o.sysctl_policy = Some(value(&mut p, "sysctl-policy")?),
            Long("check") => o.check = true,
            Long("doctor") => o.doctor = true,
            Long("json") => o.json = true,
            Short('v') | Long("verbose") => {
                o.verbose = Some(o.verbose.unwrap_or(0).saturating_add(1))
            }
            Short('q') | Long("quiet") => o.quiet = Some(true),
            Short('h') | Long("help") => o.help = true,
            Short('V') | Long("version") => o.version = true,
            Value(first) => {
                o.command.push(first);
                o.command
                    .extend(p.raw_args().map_err(|e| usage(e.to_string()))?);
                break;
            }
            other => return Err(usage(other.unexpected().to_string())),
        }
    }
    // `--` followed by the command: lexopt returns the words after `--` as Values.
    Ok(o)
}

/// Reads the `LOCKDROP_*` environment variables into an `Options` layer.
/// `get` is injectable so tests need not touch the process environment.
pub fn parse_env(get: &dyn Fn(&str) -> Option<String>) -> Result<Options> {
    let mut o = Options::default();
    let bool_of = |k: &str| -> Result<Option<bool>> {
        match get(k).as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some("1" | "true" | "yes" | "on") => Ok(Some(true)),
            Some("0" | "false" | "no" | "off") => Ok(Some(false)),
            Some(v) => Err(usage(format!("{}={:?}: expected true or false", k, v))),
        }
    };
    let s = |k: &str| get(k).filter(|v| !v.is_empty());
    o.user = s("LOCKDROP_USER");
    o.groups = get("LOCKDROP_GROUPS");
    o.rlimits = s("LOCKDROP_RLIMIT")
        .map(|v| v.split_whitespace().map(String::from).collect())
        .unwrap_or_default();
    o.memlock = s("LOCKDROP_MEMLOCK");
    o.memlock_via = s("LOCKDROP_MEMLOCK_VIA");
    o.require_caps = s("LOCKDROP_REQUIRE_CAP")
        .map(|v| split_list(&v))
        .unwrap_or_default();
    o.ambient_caps = s("LOCKDROP_AMBIENT_CAP")
        .map(|v| split_list(&v))
        .unwrap_or_default();
    o.no_new_privs = bool_of("LOCKDROP_NO_NEW_PRIVS")?;
    o.workdir = s("LOCKDROP_WORKDIR");
    o.mode = match s("LOCKDROP_MODE").as_deref() {
        None => None,
        Some("exec") => Some(Mode::Exec),
        Some("supervise") => Some(Mode::Supervise),
        Some(v) => {
            return Err(usage(format!(
                "LOCKDROP_MODE={:?}: expected exec or supervise",
                v
            )))
        }
    };
    o.process_group = bool_of("LOCKDROP_PROCESS_GROUP")?;
    o.rewrite = s("LOCKDROP_REWRITE")
        .map(|v| v.split_whitespace().map(String::from).collect())
        .unwrap_or_default();
    o.grace = s("LOCKDROP_GRACE");
    o.remap_exit = s("LOCKDROP_REMAP_EXIT");
    o.pdeathsig = s("LOCKDROP_PDEATHSIG");
    o.config = s("LOCKDROP_CONFIG");
    o.profile = s("LOCKDROP_PROFILE");
    // Commas, not spaces: "vm.max_map_count >= 262144" may contain spaces.
    o.sysctls = s("LOCKDROP_SYSCTL")
        .map(|v| split_list(&v))
        .unwrap_or_default();
    o.sysctl_policy = s("LOCKDROP_SYSCTL_POLICY");
    o.verbose = match s("LOCKDROP_VERBOSE") {
        None => None,
        Some(v) => Some(
            v.parse()
                .map_err(|_| usage(format!("LOCKDROP_VERBOSE={:?}: expected a number", v)))?,
        ),
    };
    o.quiet = bool_of("LOCKDROP_QUIET")?;
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn command_owns_the_rest() {
        let o = parse_args(args(&["-u", "es", "java", "-u", "--help"])).unwrap();
        assert_eq!(o.user.as_deref(), Some("es"));
        assert_eq!(o.command, args(&["java", "-u", "--help"]));
        assert!(!o.help);
    }

    #[test]
    fn double_dash_starts_command() {
        let o = parse_args(args(&["--memlock", "unlimited", "--", "--weird", "-x"])).unwrap();
        assert_eq!(o.memlock.as_deref(), Some("unlimited"));
        assert_eq!(o.command, args(&["--weird", "-x"]));
    }

    #[test]
    fn non_utf8_command_passes_through() {
        use std::os::unix::ffi::OsStringExt;
        let bad = OsString::from_vec(vec![b'a', 0xff, b'b']);
        let o = parse_args(vec![
            OsString::from("--"),
            OsString::from("echo"),
            bad.clone(),
        ])
        .unwrap();
        assert_eq!(o.command[1], bad);
    }

    #[test]
    fn unknown_flag_is_usage_error() {
        let e = parse_args(args(&["--usr", "x", "true"])).unwrap_err();
        assert!(e.to_string().contains("--usr"), "{}", e);
        assert_eq!(e.exit_code(), 125);
    }

    #[test]
    fn missing_value() {
        assert!(parse_args(args(&["--user"])).is_err());
    }

    #[test]
    fn env_layer_and_precedence() {
        let env = |k: &str| match k {
            "LOCKDROP_USER" => Some("envuser".to_string()),
            "LOCKDROP_MEMLOCK" => Some("64M".to_string()),
            "LOCKDROP_MODE" => Some("exec".to_string()),
            _ => None,
        };
        let e = parse_env(&env).unwrap();
        let f = parse_args(args(&["--user", "flaguser", "true"])).unwrap();
        let o = e.overlay(f);
        assert_eq!(o.user.as_deref(), Some("flaguser"));
        assert_eq!(o.memlock.as_deref(), Some("64M"));
        assert_eq!(o.mode, Some(Mode::Exec));
    }

    #[test]
    fn readme_options_table_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
        let readme = std::fs::read_to_string(path).unwrap();
        let start = "<!-- options:begin -->\n";
        let end = "<!-- options:end -->";
        let (a, rest) = readme
            .split_once(start)
            .expect("README has the options markers");
        let (_, b) = rest
            .split_once(end)
            .expect("README has the options end marker");
        let fresh = format!("{}{}{}{}{}", a, start, markdown_table(), end, b);
        if std::env::var_os("UPDATE_README").is_some() {
            std::fs::write(path, &fresh).unwrap();
        }
        assert!(
            fresh == readme,
            "README's options table is stale: run UPDATE_README=1 cargo test readme"
        );
    }

    #[test]
    fn help_names_every_flag_env_and_exit_code() {
        let h = help_text();
        for f in FLAGS {
            assert!(h.contains(&format!("--{}", f.long)), "{}", f.long);
            if !f.env.is_empty() {
                assert!(h.contains(f.env), "{}", f.env);
            }
        }
        for code in ["125", "126", "127", "128+N"] {
            assert!(h.contains(code));
        }
    }
}
