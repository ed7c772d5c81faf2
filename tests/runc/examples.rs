//! Reads the shipped deployment examples (Dockerfile.example,
//! examples/docker-compose.yml, examples/kubernetes/elasticsearch.yaml) so the
//! container tier runs exactly what they say. Small hand parsers for the few
//! shapes those files use (JSON string arrays, flow lists, one block scalar):
//! a change that breaks them fails the tests, which is the point.
#![allow(dead_code)]

use std::path::Path;

pub fn read(rel: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {}", p.display(), e))
}

/// A JSON array of strings, e.g. `["/sbin/lockdrop", "--user", "x"]`.
pub fn string_array(s: &str) -> Vec<String> {
    let s = s.trim();
    assert!(
        s.starts_with('[') && s.ends_with(']'),
        "expected a [\"...\"] list, got {:?}",
        s
    );
    let mut out = Vec::new();
    let mut chars = s[1..s.len() - 1].chars().peekable();
    loop {
        while matches!(chars.peek(), Some(c) if c.is_whitespace() || *c == ',') {
            chars.next();
        }
        match chars.next() {
            None => break,
            Some('"') => {
                let mut w = String::new();
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some('n') => w.push('\n'),
                            Some(c) => w.push(c),
                            None => panic!("unterminated string in {:?}", s),
                        },
                        Some(c) => w.push(c),
                        None => panic!("unterminated string in {:?}", s),
                    }
                }
                out.push(w);
            }
            Some(c) => panic!(
                "unexpected {:?} in list {:?} (only quoted strings are used)",
                c, s
            ),
        }
    }
    out
}

/// One Dockerfile instruction's value (the last one, as Docker uses),
/// continuation lines joined.
pub fn dockerfile_instruction(text: &str, name: &str) -> Option<String> {
    let mut joined = Vec::new();
    let mut cur = String::new();
    for line in text.lines() {
        let t = line.trim();
        if cur.is_empty() && (t.starts_with('#') || t.is_empty()) {
            continue;
        }
        if let Some(head) = t.strip_suffix('\\') {
            cur.push_str(head);
            cur.push(' ');
        } else {
            cur.push_str(t);
            joined.push(std::mem::take(&mut cur));
        }
    }
    joined.iter().rev().find_map(|l| {
        let (k, v) = l.split_once(char::is_whitespace)?;
        k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
    })
}

pub struct Dockerfile {
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    /// Where the final stage puts lockdrop (`COPY --from=build ... DEST`).
    pub lockdrop_path: String,
    pub user: String,
}

impl Dockerfile {
    pub fn load() -> Dockerfile {
        let text = read("Dockerfile.example");
        let entrypoint = string_array(
            &dockerfile_instruction(&text, "ENTRYPOINT")
                .expect("Dockerfile.example has no ENTRYPOINT"),
        );
        let cmd = string_array(
            &dockerfile_instruction(&text, "CMD").expect("Dockerfile.example has no CMD"),
        );
        let copy = text
            .lines()
            .find(|l| l.starts_with("COPY --from=") && l.contains("lockdrop"))
            .expect("Dockerfile.example copies lockdrop from the lockdrop stage");
        let lockdrop_path = copy.split_whitespace().last().unwrap().to_string();
        // The build stage builds what the final stage copies: the shipping
        // build of scripts/build.sh, which leaves it at target/lockdrop.
        let build = text
            .lines()
            .find(|l| l.starts_with("RUN ") && l.contains("scripts/build.sh"))
            .expect("Dockerfile.example builds lockdrop with scripts/build.sh");
        let workdir = dockerfile_instruction(&text, "WORKDIR").unwrap_or_default();
        let built = format!("{}/target/lockdrop", workdir);
        // Both stages put the binary at /lockdrop (the release image holds
        // only that file; the source stage copies what the build produced
        // there), and the final stage copies it from the chosen one.
        assert!(
            build.contains(&format!("cp {} /lockdrop", built)),
            "the source stage must copy {} (what scripts/build.sh produces) to /lockdrop: {}",
            built,
            build
        );
        assert!(
            text.contains("COPY scripts scripts"),
            "the source stage needs the build scripts"
        );
        assert!(
            copy.starts_with("COPY --from=lockdrop /lockdrop "),
            "the final stage copies /lockdrop from the lockdrop stage: {}",
            copy
        );
        assert!(
            text.contains("FROM lockdrop-${LOCKDROP_FROM} AS lockdrop")
                && text.contains(&format!(
                    "FROM lockdrop:{} AS lockdrop-release",
                    env!("CARGO_PKG_VERSION")
                )),
            "Dockerfile.example offers the release image lockdrop:{} first",
            env!("CARGO_PKG_VERSION")
        );
        let user = dockerfile_instruction(&text, "USER").unwrap_or_default();
        Dockerfile {
            entrypoint,
            cmd,
            lockdrop_path,
            user,
        }
    }

    /// The ENTRYPOINT's lockdrop options (between the binary and `--`) and
    /// the command words after `--`.
    pub fn split(&self) -> (Vec<String>, Vec<String>) {
        assert_eq!(
            self.entrypoint.first(),
            Some(&self.lockdrop_path),
            "ENTRYPOINT must start with the lockdrop the image copies"
        );
        let rest = &self.entrypoint[1..];
        let dd = rest
            .iter()
            .position(|w| w == "--")
            .expect("ENTRYPOINT separates lockdrop's options from the command with --");
        (rest[..dd].to_vec(), rest[dd + 1..].to_vec())
    }
}

/// Indentation of a line.
fn indent(l: &str) -> usize {
    l.len() - l.trim_start().len()
}

/// The value of the first `key:` at or after line `from`, with its line index.
pub fn yaml_value_after(text: &str, from: usize, key: &str) -> Option<(usize, String)> {
    let pat = format!("{}:", key);
    text.lines().enumerate().skip(from).find_map(|(i, l)| {
        let t = l.trim_start().trim_start_matches("- ");
        t.strip_prefix(&pat).map(|v| (i, v.trim().to_string()))
    })
}

pub fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {:?}", needle))
}

/// The block scalar under `key: |`, de-indented.
pub fn yaml_block(text: &str, key: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let i = lines
        .iter()
        .position(|l| l.trim_start().starts_with(&format!("{}: |", key)))
        .unwrap_or_else(|| panic!("no block scalar {:?}", key));
    let base = indent(lines[i]);
    let body: Vec<&str> = lines[i + 1..]
        .iter()
        .take_while(|l| l.trim().is_empty() || indent(l) > base)
        .copied()
        .collect();
    let strip = body
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| indent(l))
        .min()
        .unwrap_or(0);
    body.iter()
        .map(|l| if l.len() >= strip { &l[strip..] } else { "" })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// `key: value` pairs nested under the mapping `key:` that starts at the
/// first line containing `section` (one level, scalars only).
pub fn yaml_mapping(text: &str, section: &str) -> Vec<(String, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let i = line_of(text, section);
    let base = indent(lines[i]);
    let mut out = Vec::new();
    let mut child: Option<usize> = None;
    for l in &lines[i + 1..] {
        if l.trim().is_empty() || l.trim_start().starts_with('#') {
            continue;
        }
        if indent(l) <= base {
            break;
        }
        let c = *child.get_or_insert(indent(l));
        if indent(l) != c {
            continue;
        }
        if let Some((k, v)) = l.trim().split_once(':') {
            let v = v.trim().trim_matches('"').to_string();
            out.push((k.trim().to_string(), v));
        }
    }
    out
}
