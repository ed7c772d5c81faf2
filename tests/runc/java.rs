//! The real JVM for the container tier: finds the host's JDK and Debian's JNA,
//! compiles examples/java/MemoryLock.java once per test run, and lends all of
//! it read-only to a container (the rootfs itself stays busybox + lockdrop).
//! A missing java, javac or JNA is a failure that says what to install.
#![allow(dead_code)]

use super::bundle::{require, Bundle};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub struct Jdk {
    /// The resolved JAVA_HOME (`readlink -f $(which java)`, minus bin/java).
    pub home: PathBuf,
    /// Directories outside JAVA_HOME its symlinks point into (Debian keeps
    /// the configuration in /etc/java-17-openjdk).
    pub extra: Vec<PathBuf>,
    /// The directory of the dynamic loader and the shared libraries the JVM
    /// and JNA's libjnidispatch link against (glibc, libz, libstdc++, libffi).
    pub libdir: PathBuf,
    /// The ELF interpreter path the binaries ask for, and where it really is.
    pub interp: (PathBuf, PathBuf),
    /// JNA's jar, the canonical file behind /usr/share/java/jna.jar.
    pub jna: PathBuf,
    /// MemoryLock.class and friends, compiled for this run.
    pub classes: PathBuf,
}

pub const JNA_IN_CONTAINER: &str = "/usr/share/java/jna.jar";
pub const CLASSES_IN_CONTAINER: &str = "/app";

pub fn jdk() -> &'static Jdk {
    static JDK: OnceLock<Jdk> = OnceLock::new();
    JDK.get_or_init(|| {
        let java = require("java", "openjdk-17-jdk-headless");
        let javac = require("javac", "openjdk-17-jdk-headless");
        let java = std::fs::canonicalize(&java).unwrap();
        let home = java.parent().and_then(Path::parent).unwrap().to_path_buf();
        let jna_link = Path::new(JNA_IN_CONTAINER);
        assert!(
            jna_link.exists(),
            "{} is missing: install JNA (Debian: apt-get install libjna-java)",
            jna_link.display()
        );
        let jna = std::fs::canonicalize(jna_link).unwrap();

        // Symlinks out of JAVA_HOME (Debian: conf and jvm.cfg live in /etc).
        let mut extra: Vec<PathBuf> = Vec::new();
        for rel in ["lib/jvm.cfg", "conf/security/java.security", "conf/logging.properties"] {
            if let Ok(t) = std::fs::canonicalize(home.join(rel)) {
                if !t.starts_with(&home) {
                    // /etc/java-17-openjdk/jvm-amd64.cfg -> /etc/java-17-openjdk
                    let top: PathBuf = t.components().take(3).collect();
                    if !extra.contains(&top) {
                        extra.push(top);
                    }
                }
            }
        }

        let interp = PathBuf::from("/lib64/ld-linux-x86-64.so.2");
        let interp_real = std::fs::canonicalize(&interp).unwrap_or_else(|e| {
            panic!("{}: {} (the JVM test expects an x86_64 glibc host)", interp.display(), e)
        });
        let libdir = interp_real.parent().unwrap().to_path_buf();
        assert!(
            libdir.join("jni").is_dir(),
            "{} has no jni/ directory: JNA's native part is missing (Debian: apt-get install libjna-jni)",
            libdir.display()
        );

        // Under target/tmp (gitignored); the JVM test removes it when done.
        let classes = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("runc-java-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&classes);
        std::fs::create_dir_all(&classes).unwrap();
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/java/MemoryLock.java");
        let out = Command::new(&javac)
            .arg("-cp")
            .arg(&jna)
            .arg("-d")
            .arg(&classes)
            .arg(&src)
            .output()
            .expect("run javac");
        assert!(
            out.status.success(),
            "javac {} failed:\n{}",
            src.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        Jdk {
            home,
            extra,
            libdir,
            interp: (interp, interp_real),
            jna,
            classes,
        }
    })
}

impl Jdk {
    /// Lends the JDK, its libraries, JNA and the compiled example to the
    /// container, read-only, at the host's paths.
    pub fn mount_into(&self, b: &mut Bundle) {
        b.bind(&self.home.display().to_string(), &self.home, true);
        for e in &self.extra {
            b.bind(&e.display().to_string(), e, true);
        }
        b.bind(&self.libdir.display().to_string(), &self.libdir, true);
        // The ELF interpreter path (/lib64/ld-linux-x86-64.so.2) as a
        // symlink into the mounted library directory.
        let link = b.rootfs.join(self.interp.0.strip_prefix("/").unwrap());
        std::fs::create_dir_all(link.parent().unwrap()).unwrap();
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&self.interp.1, &link).unwrap();
        b.bind(JNA_IN_CONTAINER, &self.jna, true);
        b.bind(CLASSES_IN_CONTAINER, &self.classes, true);
        b.tmpfs.push("/tmp".into());
    }

    /// `java ... MemoryLock MIB` with Elasticsearch's heap flags (-Xms = -Xmx,
    /// AlwaysPreTouch) so the heap is committed before mlockall.
    pub fn command(&self, heap_mib: u32, touch_mib: u32) -> Vec<String> {
        vec![
            self.home.join("bin/java").display().to_string(),
            format!("-Xms{}m", heap_mib),
            format!("-Xmx{}m", heap_mib),
            "-XX:+AlwaysPreTouch".into(),
            "-XX:-UsePerfData".into(),
            "-cp".into(),
            format!("{}:{}", CLASSES_IN_CONTAINER, JNA_IN_CONTAINER),
            "MemoryLock".into(),
            touch_mib.to_string(),
        ]
    }
}
