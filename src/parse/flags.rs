//! The command line and the `LOCKDROP_*` environment → a `Layer` each,
//! driven by the option table (`options::OPTIONS`), plus the two texts
//! rendered from that table: `--help` and README's options table. Does not
//! interpret values (that is `resolve`'s job), except to split the command
//! off: the first non-option word starts the command and owns every word
//! after it, even ones that look like options.
use crate::error::{Error, Result};
use crate::parse::options::{Kind, Layer, Sep, Value, OPTIONS};
use std::ffi::OsString;

pub use crate::parse::options::{Action, Mode, Opt, Options};

/// The options `--help` and README list (every one with a flag).
pub fn flags() -> impl Iterator<Item = &'static Opt> {
    OPTIONS.iter().filter(|f| !f.long.is_empty())
}

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
    for f in flags() {
        let short = f
            .short
            .map(|c| format!("-{}, ", c))
            .unwrap_or_else(|| "    ".into());
        let left = format!("  {}--{} {}", short, f.long, f.value);
        s.push_str(&format!("{:<44}{}\n", left.trim_end(), f.help));
    }
    s.push_str("\nenvironment (flags win over the environment):\n");
    for f in flags().filter(|f| !f.env.is_empty()) {
        s.push_str(&format!("  {:<28}--{}\n", f.env_text(), f.long));
    }
    s.push('\n');
    s.push_str(EXIT_CODES);
    s.push('\n');
    s
}

/// The options table of README.md, rendered from `OPTIONS` (a test keeps the
/// README's copy identical; `UPDATE_README=1 cargo test readme` rewrites it).
pub fn markdown_table() -> String {
    let mut s = String::from("| option | environment | what it does |\n|---|---|---|\n");
    for f in flags() {
        let short = f.short.map(|c| format!("`-{}`, ", c)).unwrap_or_default();
        let val = if f.value.is_empty() {
            String::new()
        } else {
            format!(" {}", f.value.replace('|', "\\|"))
        };
        let env = if f.env.is_empty() {
            String::new()
        } else {
            format!("`{}`", f.env_text())
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

/// Parses the command line (without argv[0]) into a layer, through the
/// table: a flag's value is taken as given (`resolve` checks it).
pub fn parse_args(args: Vec<OsString>) -> Result<Layer> {
    use lexopt::Arg::{Long, Short, Value as Word};
    let mut said = Layer::default();
    let mut p = lexopt::Parser::from_args(args);
    loop {
        let arg = match p.next() {
            Ok(Some(a)) => a,
            Ok(None) => break,
            Err(e) => return Err(usage(e.to_string())),
        };
        let found = match &arg {
            Short(c) => OPTIONS.iter().position(|f| f.short == Some(*c)),
            Long(l) => OPTIONS
                .iter()
                .position(|f| !f.long.is_empty() && f.long == *l),
            Word(_) => None,
        };
        let i = match (found, arg) {
            (Some(i), _) => i,
            // `--` followed by the command: lexopt returns the words after `--` as Values.
            (None, Word(first)) => {
                let mut words = vec![first];
                words.extend(p.raw_args().map_err(|e| usage(e.to_string()))?);
                if let Some(i) = OPTIONS
                    .iter()
                    .position(|f| matches!(f.kind, Kind::Words(_)))
                {
                    said.push(i, Value::Words(words));
                }
                break;
            }
            (None, other) => return Err(usage(other.unexpected().to_string())),
        };
        let f = &OPTIONS[i];
        let v = match f.kind {
            Kind::Switch(_) | Kind::Choice(..) => Value::Switch(true),
            Kind::Count(_) => Value::Count(1),
            Kind::Text(..) | Kind::Commas { .. } => Value::Text(value(&mut p, f.long)?),
            Kind::List { commas, .. } => {
                let v = value(&mut p, f.long)?;
                Value::List(if commas { split_list(&v) } else { vec![v] })
            }
            Kind::Words(_) => continue,
        };
        said.push(i, v);
    }
    Ok(said)
}

/// Reads the `LOCKDROP_*` environment variables into a layer, through the
/// table. `get` is injectable so tests need not touch the process
/// environment. An empty variable says nothing (except for `--groups`,
/// where "" means none).
pub fn parse_env(get: &dyn Fn(&str) -> Option<String>) -> Result<Layer> {
    let mut said = Layer::default();
    for (i, f) in OPTIONS.iter().enumerate() {
        if f.env.is_empty() {
            continue;
        }
        let k = f.env;
        let raw = get(k);
        let s = raw.clone().filter(|v| !v.is_empty());
        let v = match f.kind {
            Kind::Switch(_) => match raw.as_deref().map(str::trim) {
                None | Some("") => continue,
                Some("1" | "true" | "yes" | "on") => Value::Switch(true),
                Some("0" | "false" | "no" | "off") => Value::Switch(false),
                Some(v) => return Err(usage(format!("{}={:?}: expected true or false", k, v))),
            },
            Kind::Choice(..) => {
                // One variable for the whole choice: read at its first entry.
                if OPTIONS[..i].iter().any(|g| g.env == k) {
                    continue;
                }
                let Some(v) = s else { continue };
                let choices = || OPTIONS.iter().enumerate().filter(|(_, g)| g.env == k);
                match choices().find(|(_, g)| matches!(g.kind, Kind::Choice(c, _) if c == v)) {
                    Some((j, _)) => {
                        said.push(j, Value::Switch(true));
                        continue;
                    }
                    None => {
                        let names: Vec<&str> = choices()
                            .filter_map(|(_, g)| match g.kind {
                                Kind::Choice(c, _) => Some(c),
                                _ => None,
                            })
                            .collect();
                        return Err(usage(format!(
                            "{}={:?}: expected {}",
                            k,
                            v,
                            names.join(" or ")
                        )));
                    }
                }
            }
            Kind::Count(_) => match s {
                None => continue,
                Some(v) => Value::Count(
                    v.parse()
                        .map_err(|_| usage(format!("{}={:?}: expected a number", k, v)))?,
                ),
            },
            Kind::Commas { empty: true, .. } => match raw {
                None => continue,
                Some(v) => Value::Text(v),
            },
            Kind::Text(..) | Kind::Commas { .. } => match s {
                None => continue,
                Some(v) => Value::Text(v),
            },
            Kind::List { sep, .. } => match s {
                None => continue,
                Some(v) => Value::List(match sep {
                    Sep::Spaces => v.split_whitespace().map(String::from).collect(),
                    Sep::Commas => split_list(&v),
                }),
            },
            Kind::Words(_) => continue,
        };
        said.push(i, v);
    }
    Ok(said)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn command_owns_the_rest() {
        let o = parse_args(args(&["-u", "es", "java", "-u", "--help"]))
            .unwrap()
            .options();
        assert_eq!(o.user.as_deref(), Some("es"));
        assert_eq!(o.command, args(&["java", "-u", "--help"]));
        assert_eq!(o.action, Action::Run);
    }

    #[test]
    fn double_dash_starts_command() {
        let o = parse_args(args(&["--memlock", "unlimited", "--", "--weird", "-x"]))
            .unwrap()
            .options();
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
        .unwrap()
        .options();
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
        let mut o = parse_env(&env).unwrap().options();
        parse_args(args(&["--user", "flaguser", "true"]))
            .unwrap()
            .apply(&mut o);
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
        for f in flags() {
            assert!(h.contains(&format!("--{}", f.long)), "{}", f.long);
            if !f.env.is_empty() {
                assert!(h.contains(&f.env_text()), "{}", f.env);
            }
        }
        for code in ["125", "126", "127", "128+N"] {
            assert!(h.contains(code));
        }
    }
}
