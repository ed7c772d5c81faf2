//! The one table of options (ripgrep's `Flag` model). Each entry carries its
//! names for every input — long and short flag, `LOCKDROP_*` variable, YAML
//! key —, its help text, the kind of value it takes and ONE `set` function
//! that writes it into `Options`. The three parsers (`flags::parse_args`,
//! `flags::parse_env`, `config::parse`) read the table and call `set`, so an
//! option behaves the same whichever way it is given; `--help` and README's
//! options table are rendered from it. Adding an option is one entry here
//! plus its effect (an `Options` field and what `resolve` makes of it).
//!
//! What an input said is a `Layer`: the values in the order given, one per
//! option (a repeated list flag adds to its list; `-v -v` counts 2).
//! `Layer::apply` replays it through the `set` functions, so the layers
//! (defaults < profile < file < environment < flags, see
//! `config::layered`) merge by the same code: a higher layer's value replaces
//! the lower one's; `rlimit` and `sysctl` merge per resource and per key.
//!
//! Values stay strings here: they are interpreted by `resolve` (YAML also
//! checks them as it reads them, with `check`, so a mistake carries its line).
use crate::error::Result;
use crate::model::{caps, rlimits, signals, sysctl, users};
use crate::parse::profiles;
use std::ffi::OsString;

/// Execution mode of the command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Replace lockdrop with the command (execve).
    Exec,
    /// Fork the command and stay as its supervisor (PID-1 duties).
    Supervise,
}

/// What lockdrop does this time. When several are asked for, the later one
/// in this list wins (`--help` over everything, `--doctor` over `--check`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    /// Start the command (the normal case).
    #[default]
    Run,
    /// `--check`: resolve and check, print the plan, change nothing.
    Check,
    /// `--doctor`: print the host report.
    Doctor,
    /// `--profile list`: print the built-in profiles.
    ProfileList,
    /// `--version`.
    Version,
    /// `--help`.
    Help,
}

/// Everything the user asked for, unresolved: what the layers said, merged.
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
    pub action: Action,
    /// `--json`: with `--check` or `--doctor`, one JSON document.
    pub json: bool,
    pub command: Vec<OsString>,
}

/// Checks one YAML value with the flag's own parser (flags and the
/// environment are checked later, by `resolve`, in the same words).
pub type Check = fn(&str) -> Result<()>;

/// How the environment separates the values of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sep {
    Spaces,
    Commas,
}

/// The value an option takes, and its `set` function.
#[derive(Clone, Copy)]
pub enum Kind {
    /// On or off: `--flag` turns it on; the variable says true or false
    /// (1/0, yes/no, on/off); the YAML key takes a boolean.
    Switch(fn(&mut Options, bool)),
    /// One of the switches that share a variable and a YAML key naming the
    /// choice (`--exec`, `LOCKDROP_MODE=exec`, `mode: exec`).
    Choice(&'static str, fn(&mut Options)),
    /// Counted: each `-v` adds one; the variable and the key give the number.
    Count(fn(&mut Options, u8)),
    /// One value.
    Text(Check, fn(&mut Options, String)),
    /// One value that is a comma-separated list (the YAML key also takes a
    /// list); with `empty`, an empty value means something (`--groups ""`).
    Commas {
        check: Check,
        empty: bool,
        set: fn(&mut Options, String),
    },
    /// Repeatable: every flag adds its value (split at commas with
    /// `commas`, in YAML too); the variable holds them all, separated by
    /// `sep`; the YAML key takes a list or one value.
    List {
        check: Check,
        commas: bool,
        sep: Sep,
        set: fn(&mut Options, Vec<String>),
    },
    /// The command: the words after the options, or YAML's `command:` list.
    Words(fn(&mut Options, Vec<OsString>)),
}

/// One option, documented once.
pub struct Opt {
    /// `--long` ("" for none: the command).
    pub long: &'static str,
    pub short: Option<char>,
    /// The value's name in `--help` ("" for none).
    pub value: &'static str,
    /// `LOCKDROP_*` ("" for none: command-line actions).
    pub env: &'static str,
    /// The config file's key ("" for none: command-line actions, `config`).
    pub yaml: &'static str,
    pub help: &'static str,
    /// A valid value, written as on the command line (the table test
    /// gives it through every input and compares the results).
    pub example: &'static str,
    pub kind: Kind,
}

impl Opt {
    /// The variable as `--help` shows it (`LOCKDROP_MODE=exec` for a choice).
    pub fn env_text(&self) -> String {
        match self.kind {
            Kind::Choice(v, _) => format!("{}={}", self.env, v),
            _ => self.env.to_string(),
        }
    }
}

fn any(_: &str) -> Result<()> {
    Ok(())
}

pub fn one_of(v: &str, what: &str, allowed: &[&str]) -> Result<()> {
    if allowed.iter().any(|a| a.eq_ignore_ascii_case(v.trim())) {
        Ok(())
    } else {
        Err(crate::error::Error::Usage(format!(
            "invalid {} {:?}: use {}",
            what,
            v,
            allowed.join(" or ")
        )))
    }
}

/// Requirements for a key replace the lower layers' ones for that key
/// (several for one key in the same layer are all kept).
fn merge_sysctls(have: &mut Vec<String>, new: Vec<String>) {
    // An unparsable spec is its own key: resolution reports it.
    let key = |s: &str| {
        sysctl::parse(s)
            .map(|r| r.key)
            .unwrap_or_else(|_| s.to_string())
    };
    let keys: Vec<String> = new.iter().map(|s| key(s)).collect();
    have.retain(|s| !keys.contains(&key(s)));
    have.extend(new);
}

/// Every option, in `--help` order.
pub const OPTIONS: &[Opt] = &[
    Opt {
        long: "user",
        short: Some('u'),
        value: "SPEC",
        env: "LOCKDROP_USER",
        yaml: "user",
        help: "run the command as NAME, UID, NAME:GROUP, UID:GID (read from /etc/passwd and /etc/group, no PAM)",
        example: "es:1000",
        kind: Kind::Text(|s| users::parse_spec(s).map(drop), |o, v| o.user = Some(v)),
    },
    Opt {
        long: "groups",
        short: None,
        value: "LIST",
        env: "LOCKDROP_GROUPS",
        yaml: "groups",
        help: "supplementary groups, comma-separated names or gids, replacing the computed ones (\"\" = none)",
        example: "wheel,10",
        kind: Kind::Commas { check: any, empty: true, set: |o, v| o.groups = Some(v) },
    },
    Opt {
        long: "rlimit",
        short: Some('l'),
        value: "NAME=SOFT[:HARD]",
        env: "LOCKDROP_RLIMIT",
        yaml: "rlimit",
        help: "set a resource limit (memlock, nofile, nproc, core, ...; K/M/G/T, unlimited, -1); repeatable, env: space-separated",
        example: "nofile=65535",
        // Every layer's specs are kept: resolution keeps the last of each resource.
        kind: Kind::List { check: |s| rlimits::parse_spec(s).map(drop), commas: false, sep: Sep::Spaces, set: |o, v| o.rlimits.extend(v) },
    },
    Opt {
        long: "memlock",
        short: None,
        value: "VALUE",
        env: "LOCKDROP_MEMLOCK",
        yaml: "memlock",
        help: "the command must be able to lock VALUE bytes (e.g. unlimited, 64M)",
        example: "64M",
        kind: Kind::Text(|s| rlimits::parse_value(s).map(drop), |o, v| o.memlock = Some(v)),
    },
    Opt {
        long: "memlock-via",
        short: None,
        value: "auto|rlimit|ambient",
        env: "LOCKDROP_MEMLOCK_VIA",
        yaml: "memlock-via",
        help: "how --memlock is met: raise RLIMIT_MEMLOCK, or keep CAP_IPC_LOCK ambient (default auto)",
        example: "ambient",
        kind: Kind::Text(|s| one_of(s, "memlock-via", &["auto", "rlimit", "ambient"]), |o, v| o.memlock_via = Some(v)),
    },
    Opt {
        long: "require-cap",
        short: None,
        value: "LIST",
        env: "LOCKDROP_REQUIRE_CAP",
        yaml: "require-cap",
        help: "fail unless each capability is in the effective set (ipc_lock, IPC_LOCK, CAP_IPC_LOCK)",
        example: "ipc_lock,sys_nice",
        kind: Kind::List { check: |s| caps::parse(s).map(drop), commas: true, sep: Sep::Commas, set: |o, v| o.require_caps = v },
    },
    Opt {
        long: "ambient-cap",
        short: None,
        value: "LIST",
        env: "LOCKDROP_AMBIENT_CAP",
        yaml: "ambient-cap",
        help: "capabilities the command keeps as ambient after the user switch",
        example: "IPC_LOCK",
        kind: Kind::List { check: |s| caps::parse(s).map(drop), commas: true, sep: Sep::Commas, set: |o, v| o.ambient_caps = v },
    },
    Opt {
        long: "no-new-privs",
        short: None,
        value: "",
        env: "LOCKDROP_NO_NEW_PRIVS",
        yaml: "no-new-privs",
        help: "set PR_SET_NO_NEW_PRIVS before exec (set-uid binaries gain nothing)",
        example: "",
        kind: Kind::Switch(|o, on| o.no_new_privs = Some(on)),
    },
    Opt {
        long: "workdir",
        short: Some('w'),
        value: "DIR",
        env: "LOCKDROP_WORKDIR",
        yaml: "workdir",
        help: "change to DIR before running the command",
        example: "/data",
        kind: Kind::Text(any, |o, v| o.workdir = Some(v)),
    },
    Opt {
        long: "exec",
        short: None,
        value: "",
        env: "LOCKDROP_MODE",
        yaml: "mode",
        help: "replace lockdrop with the command (default when not PID 1)",
        example: "",
        kind: Kind::Choice("exec", |o| o.mode = Some(Mode::Exec)),
    },
    Opt {
        long: "supervise",
        short: None,
        value: "",
        env: "LOCKDROP_MODE",
        yaml: "mode",
        help: "stay as the command's supervisor: forward signals, reap zombies (default as PID 1)",
        example: "",
        kind: Kind::Choice("supervise", |o| o.mode = Some(Mode::Supervise)),
    },
    Opt {
        long: "process-group",
        short: Some('g'),
        value: "",
        env: "LOCKDROP_PROCESS_GROUP",
        yaml: "process-group",
        help: "forward signals to the command's whole process group",
        example: "",
        kind: Kind::Switch(|o, on| o.process_group = Some(on)),
    },
    Opt {
        long: "rewrite",
        short: None,
        value: "FROM:TO",
        env: "LOCKDROP_REWRITE",
        yaml: "rewrite",
        help: "forward signal FROM as TO (names or numbers; TO=0 drops it); repeatable",
        example: "TERM:INT",
        kind: Kind::List { check: |s| signals::parse_rewrite(s).map(drop), commas: false, sep: Sep::Spaces, set: |o, v| o.rewrite = v },
    },
    Opt {
        long: "grace",
        short: None,
        value: "DURATION",
        env: "LOCKDROP_GRACE",
        yaml: "grace",
        help: "on shutdown give the rest of the tree DURATION (10s, 500ms) after SIGTERM, then SIGKILL; 0 (default): when the command exits, SIGTERM to what it left, and exit at once",
        example: "10s",
        kind: Kind::Text(|s| signals::parse_duration(s).map(drop), |o, v| o.grace = Some(v)),
    },
    Opt {
        long: "remap-exit",
        short: None,
        value: "N[,M]",
        env: "LOCKDROP_REMAP_EXIT",
        yaml: "remap-exit",
        help: "exit 0 instead of these codes (e.g. 143 for a JVM stopped by SIGTERM)",
        example: "143,130",
        kind: Kind::Commas { check: remap_exit, empty: false, set: |o, v| o.remap_exit = Some(v) },
    },
    Opt {
        long: "pdeathsig",
        short: None,
        value: "SIG",
        env: "LOCKDROP_PDEATHSIG",
        yaml: "pdeathsig",
        help: "signal the command (exec mode) or lockdrop (supervise mode) receives when lockdrop's parent dies",
        example: "KILL",
        kind: Kind::Text(|s| signals::parse_signal(s).map(drop), |o, v| o.pdeathsig = Some(v)),
    },
    Opt {
        long: "config",
        short: Some('c'),
        value: "FILE",
        env: "LOCKDROP_CONFIG",
        yaml: "",
        help: "read options (and the command) from a YAML file",
        example: "/etc/lockdrop.yaml",
        kind: Kind::Text(any, |o, v| o.config = Some(v)),
    },
    Opt {
        long: "profile",
        short: None,
        value: "NAME|list",
        env: "LOCKDROP_PROFILE",
        yaml: "profile",
        help: "start from a service profile (elasticsearch, opensearch, cassandra); `list` prints them",
        example: "elasticsearch",
        kind: Kind::Text(|s| profiles::lookup(s).map(drop), |o, v| o.profile = Some(v)),
    },
    Opt {
        long: "sysctl",
        short: None,
        value: "KEY OP VALUE",
        env: "LOCKDROP_SYSCTL",
        yaml: "sysctl",
        help: "require a kernel tunable, OP one of >= <= = (vm.max_map_count>=262144); repeatable, env: comma-separated",
        example: "vm.max_map_count>=262144",
        // Commas in the variable, not spaces: "vm.max_map_count >= 262144" may contain spaces.
        kind: Kind::List { check: |s| sysctl::parse(s).map(drop), commas: false, sep: Sep::Commas, set: |o, v| merge_sysctls(&mut o.sysctls, v) },
    },
    Opt {
        long: "sysctl-policy",
        short: None,
        value: "error|warn|modify",
        env: "LOCKDROP_SYSCTL_POLICY",
        yaml: "sysctl-policy",
        help: "what a failed --sysctl does (default error; modify writes /proc/sys when it can)",
        example: "warn",
        kind: Kind::Text(|s| sysctl::parse_policy(s).map(drop), |o, v| o.sysctl_policy = Some(v)),
    },
    Opt {
        long: "check",
        short: None,
        value: "",
        env: "",
        yaml: "",
        help: "resolve and check everything, print the plan, change nothing; exit 0 or 125",
        example: "",
        kind: Kind::Switch(|o, _| o.action = o.action.max(Action::Check)),
    },
    Opt {
        long: "doctor",
        short: None,
        value: "",
        env: "",
        yaml: "",
        help: "print a report of this environment (identity, caps, limits, sysctls, cgroups)",
        example: "",
        kind: Kind::Switch(|o, _| o.action = o.action.max(Action::Doctor)),
    },
    Opt {
        long: "json",
        short: None,
        value: "",
        env: "",
        yaml: "",
        help: "with --check or --doctor: print one JSON document",
        example: "",
        kind: Kind::Switch(|o, _| o.json = true),
    },
    Opt {
        long: "verbose",
        short: Some('v'),
        value: "",
        env: "LOCKDROP_VERBOSE",
        yaml: "verbose",
        help: "say each step on stderr (repeat for more)",
        example: "",
        kind: Kind::Count(|o, n| o.verbose = Some(n)),
    },
    Opt {
        long: "quiet",
        short: Some('q'),
        value: "",
        env: "LOCKDROP_QUIET",
        yaml: "quiet",
        help: "print errors only",
        example: "",
        kind: Kind::Switch(|o, on| o.quiet = Some(on)),
    },
    Opt {
        long: "help",
        short: Some('h'),
        value: "",
        env: "",
        yaml: "",
        help: "print this help",
        example: "",
        kind: Kind::Switch(|o, _| o.action = o.action.max(Action::Help)),
    },
    Opt {
        long: "version",
        short: Some('V'),
        value: "",
        env: "",
        yaml: "",
        help: "print the version",
        example: "",
        kind: Kind::Switch(|o, _| o.action = o.action.max(Action::Version)),
    },
    Opt {
        long: "",
        short: None,
        value: "",
        env: "",
        yaml: "command",
        help: "the command and its arguments (used when the command line names none)",
        example: "",
        kind: Kind::Words(|o, v| o.command = v),
    },
];

fn remap_exit(s: &str) -> Result<()> {
    match s.trim().parse::<u8>() {
        Ok(_) => Ok(()),
        Err(_) => Err(crate::error::Error::Usage(format!(
            "invalid remap-exit {:?}: list exit codes from 0 to 255, e.g. 143",
            s
        ))),
    }
}

/// One value as an input gave it (`Kind` says which it is).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Switch(bool),
    Count(u8),
    Text(String),
    List(Vec<String>),
    Words(Vec<OsString>),
}

/// What one input said: (index into `OPTIONS`, value), at most one entry
/// per option, in the order given.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Layer {
    said: Vec<(usize, Value)>,
}

impl Layer {
    /// Records a value: a list adds to the option's list in this layer, a
    /// count adds up; anything else replaces the earlier value and moves to
    /// the end (`--exec --supervise`: the last one wins). An empty list
    /// says nothing (it leaves the lower layer's list alone).
    pub fn push(&mut self, i: usize, v: Value) {
        if matches!(&v, Value::List(l) if l.is_empty())
            || matches!(&v, Value::Words(w) if w.is_empty())
        {
            return;
        }
        if let Some(pos) = self.said.iter().position(|(j, _)| *j == i) {
            match (&mut self.said[pos].1, v) {
                (Value::List(a), Value::List(b)) => a.extend(b),
                (Value::Words(a), Value::Words(b)) => a.extend(b),
                (Value::Count(a), Value::Count(b)) => *a = a.saturating_add(b),
                (_, v) => {
                    self.said.remove(pos);
                    self.said.push((i, v));
                }
            }
        } else {
            self.said.push((i, v));
        }
    }

    /// Pushes a value for the option named `name` (its long name or YAML key).
    pub fn set(&mut self, name: &str, v: Value) {
        if let Some(i) = index(name) {
            self.push(i, v);
        }
    }

    /// The value given for the option named `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        // Over what this layer said (a few entries, none for most layers at
        // a start) rather than the whole table first. A name shared by the
        // choices of one key (`mode`: exec, supervise) means the first of
        // them, as `index` says (test `get_by_name`).
        self.said
            .iter()
            .find(|(j, _)| named(&OPTIONS[*j], name) && index(name) == Some(*j))
            .map(|(_, v)| v)
    }

    /// The text given for `name` (a `Text` option).
    pub fn text(&self, name: &str) -> Option<&str> {
        match self.get(name)? {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    /// Whether the switch `name` was turned on in this layer.
    pub fn switched_on(&self, name: &str) -> bool {
        matches!(self.get(name), Some(Value::Switch(true)))
    }

    /// Forgets what was said for `name`.
    pub fn remove(&mut self, name: &str) {
        if let Some(i) = index(name) {
            self.said.retain(|(j, _)| *j != i);
        }
    }

    /// Replays the values through each option's `set`, over `o` (the
    /// lower layers).
    pub fn apply(self, o: &mut Options) {
        for (i, v) in self.said {
            match (OPTIONS[i].kind, v) {
                (Kind::Switch(set), Value::Switch(on)) => set(o, on),
                (Kind::Choice(_, set), Value::Switch(_)) => set(o),
                (Kind::Count(set), Value::Count(n)) => set(o, n),
                (Kind::Text(_, set), Value::Text(s))
                | (Kind::Commas { set, .. }, Value::Text(s)) => set(o, s),
                (Kind::List { set, .. }, Value::List(l)) => set(o, l),
                (Kind::Words(set), Value::Words(w)) => set(o, w),
                // The parsers build each value from its option's kind.
                _ => {}
            }
        }
    }

    /// This layer alone, over the defaults.
    pub fn options(self) -> Options {
        let mut o = Options::default();
        self.apply(&mut o);
        o
    }

    /// The action the switches ask for (the command line's, before anything
    /// else is read: `--help` works whatever the environment holds).
    pub fn action(&self) -> Action {
        let mut o = Options::default();
        for (i, v) in &self.said {
            if let (Kind::Switch(set), Value::Switch(on)) = (OPTIONS[*i].kind, v) {
                set(&mut o, *on);
            }
        }
        o.action
    }
}

/// The index of the option whose long name or YAML key is `name`.
pub fn index(name: &str) -> Option<usize> {
    OPTIONS.iter().position(|o| named(o, name))
}

/// Whether `name` is the option's long name or YAML key.
fn named(o: &Opt, name: &str) -> bool {
    (!o.long.is_empty() && o.long == name) || (!o.yaml.is_empty() && o.yaml == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::flags::{parse_args, parse_env};

    #[test]
    fn get_by_name() {
        // Layer::get answers for the option `index` names, and only for it.
        for (i, o) in OPTIONS.iter().enumerate() {
            for name in [o.long, o.yaml].into_iter().filter(|n| !n.is_empty()) {
                let mut l = Layer::default();
                l.push(i, Value::Switch(true));
                assert_eq!(l.get(name).is_some(), index(name) == Some(i), "{name}");
            }
        }
    }

    /// The option given once by each input that knows it.
    fn by_flag(f: &Opt) -> Options {
        let args: Vec<OsString> = match f.kind {
            Kind::Count(_) => vec![format!("--{}", f.long).into(); 2],
            Kind::Switch(_) | Kind::Choice(..) => vec![format!("--{}", f.long).into()],
            Kind::Words(_) => vec!["--".into(), "java".into(), "-jar".into()],
            _ => vec![format!("--{}", f.long).into(), f.example.into()],
        };
        parse_args(args).unwrap().options()
    }

    fn env_value(f: &Opt) -> String {
        match f.kind {
            Kind::Switch(_) => "true".into(),
            Kind::Choice(v, _) => v.into(),
            Kind::Count(_) => "2".into(),
            _ => f.example.into(),
        }
    }

    fn by_env(f: &Opt) -> Options {
        let v = env_value(f);
        parse_env(&|k| (k == f.env).then(|| v.clone()))
            .unwrap()
            .options()
    }

    #[cfg(feature = "yaml")]
    fn by_yaml(f: &Opt) -> Options {
        let text = match f.kind {
            Kind::Words(_) => format!("{}: [java, -jar]\n", f.yaml),
            Kind::Switch(_) | Kind::Choice(..) | Kind::Count(_) => {
                format!("{}: {}\n", f.yaml, env_value(f))
            }
            _ => format!("{}: {:?}\n", f.yaml, f.example),
        };
        crate::parse::config::parse(&text)
            .unwrap_or_else(|e| panic!("{}: {}", text, e))
            .options()
    }

    /// Every option is reachable by its flag, its variable and its YAML key
    /// (bar the documented exceptions), with the same result, and has an
    /// effect: the table, the three parsers and `set` agree.
    #[test]
    fn every_input_sets_the_same() {
        for f in OPTIONS {
            let name = if f.long.is_empty() { f.yaml } else { f.long };
            let flag_only = matches!(name, "check" | "doctor" | "json" | "help" | "version");
            match name {
                _ if flag_only => assert!(f.env.is_empty() && f.yaml.is_empty(), "{}", name),
                // The file cannot name another file.
                "config" => assert!(!f.env.is_empty() && f.yaml.is_empty()),
                // The command line's tail, or the file's `command:`.
                "command" => assert!(f.env.is_empty() && !f.yaml.is_empty()),
                _ => assert!(
                    !f.long.is_empty() && !f.env.is_empty() && !f.yaml.is_empty(),
                    "--{} needs a flag, a LOCKDROP_ variable and a YAML key",
                    name
                ),
            }
            let want = by_flag(f);
            assert_ne!(want, Options::default(), "--{} has no effect", name);
            if !f.env.is_empty() {
                assert_eq!(by_env(f), want, "{} and --{} differ", f.env, name);
            }
            #[cfg(feature = "yaml")]
            if !f.yaml.is_empty() {
                assert_eq!(by_yaml(f), want, "`{}:` and --{} differ", f.yaml, name);
            }
        }
    }

    /// Lists: a repeated flag adds, a higher layer replaces; `rlimit` and
    /// `sysctl` merge per resource and per key.
    #[test]
    fn layers_merge_through_set() {
        let args = |v: &[&str]| parse_args(v.iter().map(Into::into).collect()).unwrap();
        let mut o = args(&[
            "--require-cap",
            "a",
            "--require-cap",
            "b,c",
            "-l",
            "nofile=1",
            "--sysctl",
            "vm.x>=1",
            "--sysctl",
            "vm.y>=1",
            "-v",
            "--exec",
        ])
        .options();
        assert_eq!(o.require_caps, ["a", "b", "c"]);
        args(&[
            "--require-cap",
            "d",
            "-l",
            "core=0",
            "--sysctl",
            "vm.x>=2",
            "-v",
            "--supervise",
            "--exec",
            "--supervise",
        ])
        .apply(&mut o);
        assert_eq!(o.require_caps, ["d"]);
        assert_eq!(o.rlimits, ["nofile=1", "core=0"]);
        assert_eq!(o.sysctls, ["vm.y>=1", "vm.x>=2"]);
        assert_eq!(o.verbose, Some(1));
        assert_eq!(o.mode, Some(Mode::Supervise));
        // An empty list says nothing.
        args(&["--ambient-cap", ","]).apply(&mut o);
        assert_eq!(o.require_caps, ["d"]);
    }

    #[test]
    fn actions_rank() {
        let a = |v: &[&str]| {
            parse_args(v.iter().map(Into::into).collect())
                .unwrap()
                .action()
        };
        assert_eq!(a(&["--check", "--doctor"]), Action::Doctor);
        assert_eq!(a(&["--help", "--version"]), Action::Help);
        assert_eq!(a(&["--json"]), Action::Run);
    }
}
