//! The layers of options: built-in defaults < profile < YAML file <
//! environment < flags, written down once here (`layered`), and the YAML
//! file itself (`load`, behind the default-on `yaml` feature).
//!
//! The keys are the option table's (`options::OPTIONS`): every long option
//! spelled as the flag (`memlock-via`, `require-cap`), plus `mode:
//! exec|supervise` for `--exec`/`--supervise` and `command: [...]`, used when
//! the command line names no command. Values are checked as they are read,
//! with the same parsers `resolve` applies to flags, so a bad value is
//! reported with its line; they still go through `resolve` exactly like flags
//! afterwards. Unknown keys are errors naming the key and its line. Does not
//! interpret values beyond that.
use crate::error::{Error, Result};
use crate::host::Host;
use crate::parse::options::{Layer, Options};
use crate::parse::profiles;

/// Merges the layers: each is replayed over the ones below it through the
/// options' `set` functions (`options::Layer::apply`). `env` and `flags`
/// are already parsed; they name the file and the profile.
///
/// Scalars: the highest layer that sets one wins. Lists replace the lower
/// layer's list (a flag states the whole value), except `rlimit` and
/// `sysctl`, which merge per resource and per key, so that `--profile
/// elasticsearch` plus `-l core=0` keeps the profile's nofile: resolution
/// keeps the last spec of each resource, and a higher layer's requirements
/// for a key replace the lower layers' ones for that key. A profile's
/// limits are minimums: one the host already meets is left out (a profile
/// never lowers a limit).
pub fn layered(env: Layer, flags: Layer, host: &Host) -> Result<Options> {
    let file = match flags.text("config").or(env.text("config")) {
        Some(path) => load(path)?,
        None => Layer::default(),
    };
    let profile_name = flags
        .text("profile")
        .or(env.text("profile"))
        .or(file.text("profile"));
    let base = match profile_name {
        None | Some("list") => Layer::default(),
        Some(n) => profiles::lookup(n)
            .map_err(|e| Error::Usage(format!("{} (lockdrop --profile list)", e)))?
            .layer(host),
    };
    let mut o = Options::default();
    for layer in [base, file, env, flags] {
        layer.apply(&mut o);
    }
    if o.profile.as_deref() == Some("list") {
        o.action = o.action.max(crate::parse::options::Action::ProfileList);
    }
    Ok(o)
}

#[cfg(not(feature = "yaml"))]
pub fn load(path: &str) -> Result<Layer> {
    Err(Error::Usage(format!(
        "--config {}: this lockdrop was built without YAML support (cargo feature \"yaml\"); pass the options as flags or LOCKDROP_* variables",
        path
    )))
}

/// Reads and checks a config file.
#[cfg(feature = "yaml")]
pub fn load(path: &str) -> Result<Layer> {
    // Owner, mode, type, parents, size and depth (StrictModes): a file the
    // service can write would be its input at the next start.
    let text = crate::host::trusted::read_config(path)?;
    parse(&text).map_err(|e| {
        Error::Usage(format!(
            "config file {}: {}",
            path,
            crate::host::trusted::redact(&e)
        ))
    })
}

/// Parses the text of a config file (the error is the message without the
/// file name).
#[cfg(feature = "yaml")]
pub fn parse(text: &str) -> std::result::Result<Layer, String> {
    // An empty file (or only comments) is an empty configuration.
    let blank = text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#') || l.trim() == "---");
    if blank {
        return Ok(Layer::default());
    }
    match yaml_serde::from_str::<file::File>(text) {
        Ok(f) => Ok(f.0),
        Err(e) => Err(file::explain(&e)),
    }
}

#[cfg(feature = "yaml")]
mod file {
    //! The file's shape: a map whose keys are the options' YAML keys
    //! (`options::OPTIONS`). Each value is read by a small visitor that
    //! accepts what YAML users write (`memlock: 64M`, `nofile: 65535` as a
    //! number, a list or a comma-separated string for capability lists) and
    //! checks it with the option's `check`, so the error carries the value's
    //! line; then it goes into the layer like a flag's.
    use crate::model::caps;
    use crate::parse::options::{Kind, Layer, Value, OPTIONS};
    use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
    use serde::Deserialize;
    use std::fmt;

    /// The keys, in table order (for "did you mean" and for a file
    /// written as a sequence, which serde reads positionally).
    fn keys() -> impl Iterator<Item = &'static str> {
        let mut seen: Vec<&str> = Vec::new();
        OPTIONS.iter().filter_map(move |o| {
            if o.yaml.is_empty() || seen.contains(&o.yaml) {
                return None;
            }
            seen.push(o.yaml);
            Some(o.yaml)
        })
    }

    /// The file, read into a layer.
    pub struct File(pub Layer);

    impl<'de> Deserialize<'de> for File {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<File, D::Error> {
            d.deserialize_struct("File", &[], FileVisitor)
        }
    }

    struct FileVisitor;

    impl<'de> Visitor<'de> for FileVisitor {
        type Value = File;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("struct File")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<File, A::Error> {
            let mut layer = Layer::default();
            let mut seen: Vec<&'static str> = Vec::new();
            while let Some(key) = map.next_key_seed(KeyName)? {
                if seen.contains(&key) {
                    return Err(de::Error::duplicate_field(key));
                }
                seen.push(key);
                map.next_value_seed(Key(key, &mut layer))?;
            }
            Ok(File(layer))
        }
        // A sequence fills the keys in order (serde's positional struct form).
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<File, A::Error> {
            let mut layer = Layer::default();
            for key in keys() {
                if seq.next_element_seed(Key(key, &mut layer))?.is_none() {
                    break;
                }
            }
            Ok(File(layer))
        }
    }

    /// A key, known or an error raised while it is read (so the error
    /// carries the key's line).
    struct KeyName;

    impl<'de> DeserializeSeed<'de> for KeyName {
        type Value = &'static str;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<&'static str, D::Error> {
            d.deserialize_identifier(self)
        }
    }

    impl<'de> Visitor<'de> for KeyName {
        type Value = &'static str;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("field identifier")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<&'static str, E> {
            keys()
                .find(|k| *k == v)
                .ok_or_else(|| de::Error::unknown_field(v, &[]))
        }
    }

    /// The value of one key, read by its option's kind into the layer.
    struct Key<'a>(&'static str, &'a mut Layer);

    impl<'de> DeserializeSeed<'de> for Key<'_> {
        type Value = ();
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            let Key(key, layer) = self;
            let Some(i) = OPTIONS.iter().position(|o| o.yaml == key) else {
                return Ok(());
            };
            let v = match OPTIONS[i].kind {
                Kind::Switch(_) => match Option::<bool>::deserialize(d)? {
                    Some(b) => Value::Switch(b),
                    None => return Ok(()),
                },
                Kind::Count(_) => match Option::<u8>::deserialize(d)? {
                    Some(n) => Value::Count(n),
                    None => return Ok(()),
                },
                Kind::Choice(..) => {
                    let choices: Vec<(usize, &str)> = OPTIONS
                        .iter()
                        .enumerate()
                        .filter(|(_, o)| o.yaml == key)
                        .filter_map(|(j, o)| match o.kind {
                            Kind::Choice(c, _) => Some((j, c)),
                            _ => None,
                        })
                        .collect();
                    let names: Vec<&str> = choices.iter().map(|(_, c)| *c).collect();
                    let v = d.deserialize_str(Text(
                        &|s| crate::parse::options::one_of(s, key, &names),
                        false,
                    ))?;
                    let v = v.trim();
                    if let Some((j, _)) = choices.iter().find(|(_, c)| c.eq_ignore_ascii_case(v)) {
                        layer.push(*j, Value::Switch(true));
                    }
                    return Ok(());
                }
                Kind::Text(check, _) => Value::Text(d.deserialize_str(Text(&check, false))?),
                Kind::Commas { check, .. } => Value::Text(
                    d.deserialize_any(List {
                        check: &check,
                        scalar: true,
                        commas: true,
                    })?
                    .join(","),
                ),
                Kind::List { check, commas, .. } => {
                    let v = d.deserialize_any(List {
                        check: &check,
                        scalar: true,
                        commas,
                    })?;
                    // An empty list says nothing, as in the other inputs.
                    Value::List(v)
                }
                Kind::Words(_) => Value::Words(
                    d.deserialize_any(List {
                        check: &|_| Ok(()),
                        scalar: false,
                        commas: false,
                    })?
                    .into_iter()
                    .map(Into::into)
                    .collect(),
                ),
            };
            layer.push(i, v);
            Ok(())
        }
    }

    /// One scalar (string or number; not a boolean or null), checked; with
    /// `commas`, each comma-separated part is checked.
    #[derive(Clone, Copy)]
    struct Text<'a>(&'a dyn Fn(&str) -> crate::error::Result<()>, bool);

    impl<'de> Visitor<'de> for Text<'_> {
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
    impl<'de> DeserializeSeed<'de> for Text<'_> {
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
    struct List<'a> {
        check: &'a dyn Fn(&str) -> crate::error::Result<()>,
        scalar: bool,
        commas: bool,
    }

    impl<'de> Visitor<'de> for List<'_> {
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
            let hint = keys()
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
        .unwrap()
        .options();
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
        let o = parse("memlock: 65536\nuser: 1000:1000\ngrace: 1.5\nremap-exit: 143\n")
            .unwrap()
            .options();
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
        assert_eq!(parse("# nothing\n\n").unwrap(), Layer::default());
    }

    #[test]
    fn profile_lists_merge_per_key() {
        use crate::model::rlimits::{NOFILE, NPROC};
        let host = crate::host::fixture::Fixture::at("/nonexistent")
            .limit(NOFILE, 1024, 4096)
            .limit(NPROC, 100000, 100000)
            .build();
        let flags = crate::parse::flags::parse_args(
            [
                "--profile",
                "elasticsearch",
                "-l",
                "nofile=100000",
                "--sysctl",
                "vm.max_map_count>=100000",
                "--sysctl",
                "vm.swappiness<=1",
            ]
            .iter()
            .map(Into::into)
            .collect(),
        )
        .unwrap();
        let o = layered(Layer::default(), flags, &host).unwrap();
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
