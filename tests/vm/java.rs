//! A JVM for the VM tier: examples/java/MemoryLock.java (Elasticsearch's
//! memory-lock bootstrap in miniature, through JNA) packed into the
//! initramfs. The host's JDK is cut down with `jlink` to java.base and
//! java.logging (~45 MiB instead of ~260; cached in target/vm-cache), and the
//! glibc libraries its binaries and JNA's libjnidispatch need (found with
//! ldd) go in at their host paths. A missing JDK or JNA is a failure naming
//! the Debian package (the runc tier needs the same ones).
#![allow(dead_code)]

use super::harness::{cache_dir, log_dir, Entry};
use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Where the cut-down runtime lives in the guest.
pub const JAVA: &str = "/opt/jre/bin/java";
pub const CLASSPATH: &str = "/app:/usr/share/java/jna.jar";
const JNA: &str = "/usr/share/java/jna.jar";

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(name))
            .find(|f| f.is_file())
    })
}

fn run(cmd: &mut Command, what: &str) -> Result<String, String> {
    let out = cmd
        .output()
        .map_err(|e| format!("{}: cannot run: {}", what, e))?;
    if !out.status.success() {
        return Err(format!(
            "{}: {}: {}",
            what,
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// jlink's output for this JDK, made once and kept in the cache.
fn jre(home: &Path) -> Result<PathBuf, String> {
    let release = fs::read_to_string(home.join("release")).unwrap_or_default();
    let version = release
        .lines()
        .find_map(|l| l.strip_prefix("JAVA_VERSION="))
        .unwrap_or("unknown")
        .trim_matches('"')
        .to_string();
    let stamp = fs::metadata(home.join("jmods/java.base.jmod"))
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs())
        .ok_or_else(|| {
            format!(
                "{}/jmods/java.base.jmod is missing: jlink needs the JDK's jmods \
                 (Debian package openjdk-17-jdk-headless)",
                home.display()
            )
        })?;
    let out = cache_dir().join(format!("jre-{}-{}", version, stamp));
    if out.join("bin/java").is_file() {
        return Ok(out);
    }
    fs::create_dir_all(cache_dir()).map_err(|e| e.to_string())?;
    let scratch = cache_dir().join(format!("jlink-{}", std::process::id()));
    let _ = fs::remove_dir_all(&scratch);
    run(
        Command::new(home.join("bin/jlink"))
            .args(["--add-modules", "java.base,java.logging"])
            .args(["--strip-debug", "--no-header-files", "--no-man-pages"])
            .arg("--output")
            .arg(&scratch),
        "jlink (Debian package openjdk-17-jdk-headless)",
    )?;
    // Atomic: a concurrent run either sees the whole image or none.
    if fs::rename(&scratch, &out).is_err() {
        let _ = fs::remove_dir_all(&scratch);
    }
    if out.join("bin/java").is_file() {
        Ok(out)
    } else {
        Err(format!("jlink left no {}/bin/java", out.display()))
    }
}

fn is_elf(p: &Path) -> bool {
    fs::read(p)
        .map(|b| b.starts_with(b"\x7fELF"))
        .unwrap_or(false)
}

/// Adds `path` and every ancestor to `dirs`.
fn with_parents(dirs: &mut BTreeSet<String>, path: &str) {
    let mut p = Path::new(path).parent();
    while let Some(d) = p {
        if d.as_os_str().len() > 1 {
            dirs.insert(d.display().to_string());
        }
        p = d.parent();
    }
}

fn build() -> Result<Vec<Entry>, String> {
    let java = which("java").ok_or("java not found: install openjdk-17-jdk-headless")?;
    let java = fs::canonicalize(&java).map_err(|e| e.to_string())?;
    let home = java
        .parent()
        .and_then(Path::parent)
        .ok_or("odd java path")?
        .to_path_buf();
    let javac = home.join("bin/javac");
    if !javac.is_file() {
        return Err(format!(
            "{} missing: install openjdk-17-jdk-headless",
            javac.display()
        ));
    }
    let jna = fs::canonicalize(JNA).map_err(|e| format!("{}: {} (install libjna-java)", JNA, e))?;
    let jni: Vec<PathBuf> = ["/usr/lib/x86_64-linux-gnu/jni", "/usr/lib/jni"]
        .iter()
        .filter_map(|d| fs::read_dir(d).ok())
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("libjnidispatch"))
        })
        .collect();
    if jni.is_empty() {
        return Err("JNA's libjnidispatch is missing: install libjna-jni".into());
    }
    let jre = jre(&home)?;

    let classes = log_dir().join(format!("java-classes-{}", std::process::id()));
    let _ = fs::remove_dir_all(&classes);
    fs::create_dir_all(&classes).map_err(|e| e.to_string())?;
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/java/MemoryLock.java");
    run(
        Command::new(&javac)
            .arg("-cp")
            .arg(&jna)
            .arg("-d")
            .arg(&classes)
            .arg(&src),
        "javac MemoryLock.java",
    )?;

    let mut dirs = BTreeSet::new();
    let mut files: Vec<Entry> = Vec::new();
    let mut elves: Vec<PathBuf> = jni.clone();
    // The runtime image, at /opt/jre.
    dirs.insert("/opt".into());
    dirs.insert("/opt/jre".into());
    let mut stack = vec![jre.clone()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).map_err(|e| e.to_string())? {
            let p = e.map_err(|e| e.to_string())?.path();
            let rel = p.strip_prefix(&jre).map_err(|e| e.to_string())?;
            let guest = format!("/opt/jre/{}", rel.display());
            let meta = fs::symlink_metadata(&p).map_err(|e| e.to_string())?;
            if meta.is_dir() {
                dirs.insert(guest);
                stack.push(p);
            } else if meta.is_file() {
                if is_elf(&p) {
                    elves.push(p.clone());
                }
                let data = fs::read(&p).map_err(|e| e.to_string())?;
                files.push(Entry::file(
                    &guest,
                    meta.permissions().mode() & 0o7777,
                    data,
                ));
            }
        }
    }
    // Every shared library those binaries load, and the loader, at the
    // paths ldd names (the guest has no ld.so.cache; glibc's default
    // multiarch directories find them).
    let mut libs = BTreeSet::new();
    for elf in &elves {
        let out = run(
            Command::new("ldd").arg(elf),
            &format!("ldd {}", elf.display()),
        )?;
        for line in out.lines() {
            let path = match line.split_once("=>") {
                Some((_, r)) => r.split_whitespace().next().unwrap_or(""),
                None => line.split_whitespace().next().unwrap_or(""),
            };
            if path.starts_with('/') && !path.starts_with(jre.to_str().unwrap_or("\0")) {
                libs.insert(path.to_string());
            }
        }
    }
    for lib in libs
        .iter()
        .map(String::as_str)
        .chain(jni.iter().filter_map(|p| p.to_str()))
    {
        let data = fs::read(lib).map_err(|e| format!("{}: {}", lib, e))?;
        with_parents(&mut dirs, lib);
        files.push(Entry::file(lib, 0o755, data));
    }
    with_parents(&mut dirs, JNA);
    files.push(Entry::file(
        JNA,
        0o644,
        fs::read(&jna).map_err(|e| e.to_string())?,
    ));
    dirs.insert("/app".into());
    for e in fs::read_dir(&classes).map_err(|e| e.to_string())? {
        let p = e.map_err(|e| e.to_string())?.path();
        let name = p
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("x")
            .to_string();
        files.push(Entry::file(
            &format!("/app/{}", name),
            0o644,
            fs::read(&p).map_err(|e| e.to_string())?,
        ));
    }
    let _ = fs::remove_dir_all(&classes);
    // Parents before children: the kernel creates entries in archive order.
    let mut v: Vec<Entry> = dirs.iter().map(|d| Entry::dir(d, 0o755)).collect();
    v.extend(files);
    Ok(v)
}

/// The JVM's initramfs entries, built once per test run.
pub fn entries() -> &'static [Entry] {
    static E: OnceLock<Result<Vec<Entry>, String>> = OnceLock::new();
    match E.get_or_init(build) {
        Ok(v) => v,
        Err(e) => panic!("VM tier: cannot pack the JVM: {}", e),
    }
}
