//! The layers of options: built-in defaults < profile < YAML file <
//! environment < flags, written down once here (`layered`), and the YAML
//! file itself (`load`, behind the default-on `yaml` feature).
//!
//! Every long option is a key of the file, spelled as the flag (`memlock-via`,
//! `require-cap`), plus `mode: exec|supervise` for `--exec`/`--supervise` and
//! `command: [...]`, used when the command line names no command. Values are
//! checked as they are read, with the same parsers the flags go through, so a
//! bad value is reported with its line; they still go through
//! `plan::resolve` exactly like flags afterwards. Unknown keys are errors
//! naming the key and its line. Does not interpret values beyond that.
use crate::error::{Error, Result};
use crate::host::Host;
use crate::parse::flags::Options;
use crate::parse::profiles;

/// Merges the layers. `env` and `flags` are already parsed.
///
/// Scalars: the highest layer that sets one wins. Lists replace the lower
/// layer's list (a flag states the whole value), except `rlimit` and
/// `sysctl`, which merge per resource and per key, so that `--profile
/// elasticsearch` plus `-l core=0` keeps the profile's nofile: resolution
/// keeps the last spec of each resource, and here a higher layer's
/// requirements for a key replace the lower layers' ones for that key. A
/// profile's limits are minimums: one the host already meets is left out (a
/// profile never lowers a limit).
pub fn layered(env: Options, flags: Options, host: &Host) -> Result<Options> {
    // No copies of the layers (two Options clones were ~2,000 instructions
    // of every start): overlay is associative, so the four merge in order.
    let file = match flags.config.as_ref().or(env.config.as_ref()) {
        Some(path) => load(path)?,
        None => Options::default(),
    };
    let profile_name = flags
        .profile
        .clone()
        .or_else(|| env.profile.clone())
        .or_else(|| file.profile.clone());
    let base = match profile_name.as_deref() {
        None | Some("list") => Options::default(),
        Some(n) => profiles::find(n)
            .ok_or_else(|| {
                Error::Usage(format!(
                    "unknown profile {:?}: use one of {} (lockdrop --profile list)",
                    n,
                    profiles::names()
                ))
            })?
            .options(host),
    };
    let layers = [&base, &file, &env, &flags];
    let rlimits = layers.iter().flat_map(|l| l.rlimits.clone()).collect();
    let mut sysctls: Vec<String> = Vec::new();
    for l in layers {
        let keys: Vec<String> = l.sysctls.iter().map(|s| sysctl_key(s)).collect();
        sysctls.retain(|s| !keys.contains(&sysctl_key(s)));
        sysctls.extend(l.sysctls.iter().cloned());
    }
    let mut o = base.overlay(file).overlay(env).overlay(flags);
    o.rlimits = rlimits;
    o.sysctls = sysctls;
    Ok(o)
}

/// The key of a `--sysctl` spec, for merging (an unparsable spec is its own
/// key: resolution reports it).
fn sysctl_key(s: &str) -> String {
    crate::model::sysctl::parse(s)
        .map(|r| r.key)
        .unwrap_or_else(|_| s.to_string())
}

#[cfg(not(feature = "yaml"))]
pub fn load(path: &str) -> Result<Options> {
    Err(Error::Usage(format!(
        "--config {}: this lockdrop was built without YAML support (cargo feature \"yaml\"); pass the options as flags or LOCKDROP_* variables",
        path
    )))
}

/// Reads and checks a config file.
#[cfg(feature = "yaml")]
pub fn load(path: &str) -> Result<Options> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::Usage(format!(
            "cannot read config file {}: {}; check the path given to --config or LOCKDROP_CONFIG",
            path,
            e.to_string().to_lowercase()
        ))
    })?;
    parse(&text).map_err(|e| Error::Usage(format!("config file {}: {}", path, e)))
}

/// Parses the text of a config file (the error is the message without the
/// file name).
#[cfg(feature = "yaml")]
pub fn parse(text: &str) -> std::result::Result<Options, String> {
    // An empty file (or only comments) is an empty configuration.
    let blank = text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#') || l.trim() == "---");
    if blank {
        return Ok(Options::default());
    }
    match yaml_serde::from_str::<file::File>(text) {
        Ok(f) => Ok(f.into_options()),
        Err(e) => Err(file::explain(&e)),
    }
}

#[cfg(feature = "yaml")]
mod file {
    //! The file's shape. Each value is read by a small visitor that accepts
    //! what YAML users write (`memlock: 64M`, `nofile: 65535` as a number,
    //! a list or a comma-separated string for capability lists) and checks it
    //! with the flag's own parser, so the error carries the value's line.
    use crate::model::{caps, rlimits, signals, sysctl, users};
    use crate::parse::flags::{Mode, Options};
    use serde::de::{self, DeserializeSeed, Deserializer, SeqAccess, Visitor};
    use serde::Deserialize;
    use std::fmt;

    type Check = fn(&str) -> crate::error::Result<()>;

    /// The keys, for "did you mean" (must match the struct below).
    pub const KEYS: &[&str] = &[
        "user",
        "groups",
        "rlimit",
        "memlock",
        "memlock-via",
        "require-cap",
        "ambient-cap",
        "no-new-privs",
        "workdir",
        "mode",
        "process-group",
        "rewrite",
        "grace",
        "remap-exit",
        "pdeathsig",
        "profile",
        "sysctl",
        "sysctl-policy",
        "verbose",
        "quiet",
        "command",
    ];

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "kebab-case")]
    pub struct File {
        #[serde(default, deserialize_with = "user")]
        user: Option<String>,
        #[serde(default, deserialize_with = "groups")]
        groups: Option<String>,
        #[serde(default, deserialize_with = "rlimit")]
        rlimit: Vec<String>,
        #[serde(default, deserialize_with = "memlock")]
        memlock: Option<String>,
        #[serde(default, deserialize_with = "memlock_via")]
        memlock_via: Option<String>,
        #[serde(default, deserialize_with = "cap_list")]
        require_cap: Vec<String>,
        #[serde(default, deserialize_with = "cap_list")]
        ambient_cap: Vec<String>,
        #[serde(default)]
        no_new_privs: Option<bool>,
        #[serde(default, deserialize_with = "any_text")]
        workdir: Option<String>,
        #[serde(default, deserialize_with = "mode")]
        mode: Option<String>,
        #[serde(default)]
        process_group: Option<bool>,
        #[serde(default, deserialize_with = "rewrite")]
        rewrite: Vec<String>,
        #[serde(default, deserialize_with = "grace")]
        grace: Option<String>,
        #[serde(default, deserialize_with = "remap_exit")]
        remap_exit: Option<String>,
        #[serde(default, deserialize_with = "pdeathsig")]
        pdeathsig: Option<String>,
        #[serde(default, deserialize_with = "profile")]
        profile: Option<String>,
        #[serde(default, deserialize_with = "sysctl")]
        sysctl: Vec<String>,
        #[serde(default, deserialize_with = "sysctl_policy")]
        sysctl_policy: Option<String>,
        #[serde(default)]
        verbose: Option<u8>,
        #[serde(default)]
        quiet: Option<bool>,
        #[serde(default, deserialize_with = "command")]
        command: Vec<String>,
    }

    impl File {
        pub fn into_options(self) -> Options {
            Options {
                user: self.user,
                groups: self.groups,
                rlimits: self.rlimit,
                memlock: self.memlock,
                memlock_via: self.memlock_via,
                require_caps: self.require_cap,
                ambient_caps: self.ambient_cap,
                no_new_privs: self.no_new_privs,
                workdir: self.workdir,
                mode: self.mode.map(|m| {
                    if m.trim().eq_ignore_ascii_case("supervise") {
                        Mode::Supervise
                    } else {
                        Mode::Exec
                    }
                }),
                process_group: self.process_group,
                rewrite: self.rewrite,
                grace: self.grace,
                remap_exit: self.remap_exit,
                pdeathsig: self.pdeathsig,
                profile: self.profile,
                sysctls: self.sysctl,
                sysctl_policy: self.sysctl_policy,
                verbose: self.verbose,
                quiet: self.quiet,
                command: self.command.into_iter().map(Into::into).collect(),
                ..Options::default()
            }
        }
    }

    /// One scalar (string or number; not a boolean or null), checked; with
    /// `commas`, each comma-separated part is checked.
    #[derive(Clone, Copy)]
    struct Text(Check, bool);

    impl<'de> Visitor<'de> for Text {
        type Value = String;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a string or a number")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
            for part in split(v, self.1) {
                (self.0)(part).map_err(E::custom)?;
            }
            Ok(v.to_string())
        }
    }

    // Scalars are read as their text (`deserialize_str`: YAML's `65535` is
    // "65535"), so lockdrop's own parsers see exactly what was written and
    // no float parsing or printing is linked in for them.
    impl<'de> DeserializeSeed<'de> for Text {
        type Value = String;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
            d.deserialize_str(self)
        }
    }

    fn split(v: &str, commas: bool) -> Vec<&str> {
        if commas {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect()
        } else {
            vec![v]
        }
    }

    /// A list of scalars, or (when `scalar` is set) one scalar standing for
    /// a one-element list; `commas` splits entries like the flag does.
    #[derive(Clone, Copy)]
    struct List {
        check: Check,
        scalar: bool,
        commas: bool,
    }

    impl<'de> Visitor<'de> for List {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str(if self.scalar {
                "a list or a single value"
            } else {
                "a list of words, e.g. [\"/usr/bin/app\", \"--flag\"]"
            })
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<String>, A::Error> {
            let mut v = Vec::new();
            while let Some(s) = seq.next_element_seed(Text(self.check, self.commas))? {
                v.extend(split(&s, self.commas).into_iter().map(String::from));
            }
            Ok(v)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<String>, E> {
            if !self.scalar {
                return Err(E::invalid_type(de::Unexpected::Str(v), &self));
            }
            let s = Text(self.check, self.commas).visit_str(v)?;
            Ok(split(&s, self.commas)
                .into_iter()
                .map(String::from)
                .collect())
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Vec<String>, E> {
            self.visit_str(&v.to_string())
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Vec<String>, E> {
            self.visit_str(&v.to_string())
        }
    }

    fn any(_: &str) -> crate::error::Result<()> {
        Ok(())
    }

    fn one_of(v: &str, what: &str, allowed: &[&str]) -> crate::error::Result<()> {
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

    macro_rules! text_key {
        ($($name:ident => $check:expr;)*) => { $(
            fn $name<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
                d.deserialize_str(Text($check, false)).map(Some)
            }
        )* };
    }
    macro_rules! list_key {
        ($($name:ident => $check:expr, $scalar:expr, $commas:expr;)*) => { $(
            fn $name<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
                d.deserialize_any(List { check: $check, scalar: $scalar, commas: $commas })
            }
        )* };
    }

    text_key! {
        user => |s| users::parse_spec(s).map(drop);
        memlock => |s| rlimits::parse_value(s).map(drop);
        memlock_via => |s| one_of(s, "memlock-via", &["auto", "rlimit", "ambient"]);
        any_text => any;
        mode => |s| one_of(s, "mode", &["exec", "supervise"]);
        grace => |s| signals::parse_duration(s).map(drop);
        pdeathsig => |s| signals::parse_signal(s).map(drop);
        profile => |s| match crate::parse::profiles::find(s) {
            Some(_) => Ok(()),
            None => Err(crate::error::Error::Usage(format!(
                "unknown profile {:?}: use one of {}", s, crate::parse::profiles::names()))),
        };
        sysctl_policy => |s| sysctl::parse_policy(s).map(drop);
    }
    list_key! {
        rlimit => |s| rlimits::parse_spec(s).map(drop), true, false;
        cap_list => |s| caps::parse(s).map(drop), true, true;
        rewrite => |s| signals::parse_rewrite(s).map(drop), true, false;
        sysctl => |s| sysctl::parse(s).map(drop), true, false;
        command => any, false, false;
    }

    /// `groups: "a,b"`, `groups: [a, 10]` or `groups: []` (none): kept as the
    /// flag's comma-separated text.
    fn groups<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        d.deserialize_any(List {
            check: any,
            scalar: true,
            commas: true,
        })
        .map(|v| Some(v.join(",")))
    }

    /// `remap-exit: 143` or `remap-exit: [143, 130]`.
    fn remap_exit<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        d.deserialize_any(List {
            check: |s| match s.trim().parse::<u8>() {
                Ok(_) => Ok(()),
                Err(_) => Err(crate::error::Error::Usage(format!(
                    "invalid remap-exit {:?}: list exit codes from 0 to 255, e.g. 143",
                    s
                ))),
            },
            scalar: true,
            commas: true,
        })
        .map(|v| Some(v.join(",")))
    }

    /// One line for any error, starting with where it is: unknown keys get
    /// the nearest key name, syntax errors a hint.
    pub fn explain(e: &yaml_serde::Error) -> String {
        let msg = e.to_string().replace('\n', " ");
        let loc = e.location().map(|l| (l.line(), l.column()));
        let at = loc
            .map(|(l, c)| format!("line {} column {}: ", l, c))
            .unwrap_or_default();
        if let Some(rest) = msg.strip_prefix("unknown field `") {
            let key = rest.split('`').next().unwrap_or("");
            let hint = KEYS
                .iter()
                .map(|k| (k, caps::distance(key, k)))
                .min_by_key(|(_, d)| *d)
                .filter(|(_, d)| *d <= 3)
                .map(|(k, _)| format!("did you mean `{}`? ", k))
                .unwrap_or_default();
            let action = match key {
                "check" | "doctor" | "json" | "help" | "version" | "config" => {
                    "it is a command-line action, not a setting; "
                }
                "exec" | "supervise" => "write `mode: exec` or `mode: supervise`; ",
                _ => "",
            };
            return format!(
                "{}unknown key `{}`; {}{}keys are the long options without dashes (see lockdrop --help)",
                at, key, action, hint
            );
        }
        // Value errors end with " at line L column C" (moved to the front);
        // YAML syntax errors carry their own positions.
        if let Some((l, c)) = loc {
            if let Some(m) = msg.strip_suffix(&format!(" at line {} column {}", l, c)) {
                return format!("{}{}", at, m);
            }
        }
        format!(
            "{}; fix the YAML syntax (indent with spaces; quote values that contain \": \" or start with [, {{, *, & or !)",
            msg
        )
    }
}

#[cfg(all(test, feature = "yaml"))]
mod tests {
    use super::*;
    use crate::parse::flags::Mode;

    #[test]
    fn every_key() {
        let o = parse(
            "user: es:1000\ngroups: [wheel, 10]\nrlimit: [nofile=65535, \"core=0\"]\nmemlock: 64M\n\
             memlock-via: ambient\nrequire-cap: ipc_lock, sys_nice\nambient-cap: [IPC_LOCK]\n\
             no-new-privs: true\nworkdir: /data\nmode: supervise\nprocess-group: true\n\
             rewrite: [\"TERM:INT\"]\ngrace: 10s\nremap-exit: [143, 130]\npdeathsig: KILL\n\
             profile: elasticsearch\nsysctl: [\"vm.max_map_count>=262144\"]\nsysctl-policy: warn\n\
             verbose: 2\nquiet: false\ncommand: [java, -jar, app.jar]\n",
        )
        .unwrap();
        assert_eq!(o.user.as_deref(), Some("es:1000"));
        assert_eq!(o.groups.as_deref(), Some("wheel,10"));
        assert_eq!(o.rlimits, ["nofile=65535", "core=0"]);
        assert_eq!(o.require_caps, ["ipc_lock", "sys_nice"]);
        assert_eq!(o.mode, Some(Mode::Supervise));
        assert_eq!(o.remap_exit.as_deref(), Some("143,130"));
        assert_eq!(o.verbose, Some(2));
        assert_eq!(o.command.len(), 3);
        assert_eq!(o.no_new_privs, Some(true));
    }

    #[test]
    fn numbers_are_values() {
        let o = parse("memlock: 65536\nuser: 1000:1000\ngrace: 1.5\nremap-exit: 143\n").unwrap();
        assert_eq!(o.memlock.as_deref(), Some("65536"));
        assert_eq!(o.user.as_deref(), Some("1000:1000"));
        assert_eq!(o.grace.as_deref(), Some("1.5"));
        assert_eq!(o.remap_exit.as_deref(), Some("143"));
    }

    #[test]
    fn unknown_key_names_key_and_line() {
        let e = parse("user: es\n\nusr: x\n").unwrap_err();
        assert!(
            e.contains("unknown key `usr`") && e.contains("line 3") && e.contains("`user`"),
            "{}",
            e
        );
        let e = parse("check: true\n").unwrap_err();
        assert!(e.contains("command-line action"), "{}", e);
    }

    #[test]
    fn bad_values_name_the_line() {
        for (text, want) in [
            ("user: es\nmemlock: lots\n", "line 2"),
            ("rlimit:\n  - nofile=1\n  - bogus=1\n", "line 3"),
            ("require-cap: [CAP_CAP_IPC_LOCK]\n", "containerd"),
            ("mode: daemon\n", "exec or supervise"),
            ("sysctl-policy: fix\n", "error, warn or modify"),
            ("profile: mysql\n", "elasticsearch"),
            ("no-new-privs: maybe\n", "line 1"),
            ("command: java -jar x\n", "list of words"),
            ("user: [a\n", "line"),
            ("user: a\nuser: b\n", "duplicate"),
        ] {
            let e = parse(text).unwrap_err();
            assert!(e.contains(want), "{:?}: {}", text, e);
            assert!(!e.contains('\n'), "{}", e);
        }
    }

    #[test]
    fn empty_file_is_empty_config() {
        assert_eq!(parse("# nothing\n\n").unwrap(), Options::default());
    }

    #[test]
    fn profile_lists_merge_per_key() {
        use crate::model::rlimits::{Limit, NOFILE, NPROC};
        let host = Host::fixture(
            "/nonexistent",
            0,
            crate::model::caps::CapState::default(),
            vec![
                (
                    NOFILE,
                    Limit {
                        soft: 1024,
                        hard: 4096,
                    },
                ),
                (
                    NPROC,
                    Limit {
                        soft: 100000,
                        hard: 100000,
                    },
                ),
            ],
        );
        let flags = Options {
            profile: Some("elasticsearch".into()),
            rlimits: vec!["nofile=100000".into()],
            sysctls: vec!["vm.max_map_count>=100000".into(), "vm.swappiness<=1".into()],
            ..Options::default()
        };
        let o = layered(Options::default(), flags, &host).unwrap();
        assert_eq!(o.rlimits.first().map(String::as_str), Some("nofile=65535"));
        assert_eq!(o.rlimits.last().map(String::as_str), Some("nofile=100000"));
        // The host's nproc is already above the profile's minimum: not lowered.
        assert!(
            !o.rlimits.iter().any(|r| r.starts_with("nproc")),
            "{:?}",
            o.rlimits
        );
        assert!(o.rlimits.iter().any(|r| r == "as=unlimited"));
        assert_eq!(o.sysctls, ["vm.max_map_count>=100000", "vm.swappiness<=1"]);
        assert_eq!(o.memlock.as_deref(), Some("unlimited"));
    }
}
