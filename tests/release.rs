//! Release artifacts (scripts/release.sh): two builds of one commit, in
//! different directories and at different times, give byte-identical files; the OCI image tarball is a valid multi-arch layout
//! that podman loads and runs. Needs git, rust-src, the network or a filled
//! musl cache (scripts/cross.sh) and, for the image, podman and runc (CI
//! installs them: a missing one fails).
// Probes and fixtures make raw syscalls; Cargo.toml denies `unsafe` by default.
#![allow(unsafe_code)]
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn run(c: &mut Command) -> String {
    let out = c.output().unwrap_or_else(|e| panic!("{:?}: {}", c, e));
    assert!(
        out.status.success(),
        "{:?} failed:\n{}\n{}",
        c,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// A clone of this checkout's HEAD at `dir`, built with `release.sh --arch
/// x86_64`; returns its dist folder.
fn release_in(dir: &Path) -> PathBuf {
    common::require_tool("git");
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir.parent().unwrap()).unwrap();
    run(Command::new("git")
        .args(["clone", "--quiet", "--no-hardlinks", ROOT])
        .arg(dir));
    let t = Instant::now();
    run(Command::new(dir.join("scripts/release.sh"))
        .args(["--arch", "x86_64"])
        .current_dir(dir)
        // The musl packages once, not per clone (they are pinned by hash).
        .env(
            "LOCKDROP_MUSL_CACHE",
            Path::new(ROOT).join("target/cross/musl"),
        )
        .env_remove("SOURCE_DATE_EPOCH")
        .env_remove("LOCKDROP_COMMIT"));
    eprintln!("release build in {}: {:?}", dir.display(), t.elapsed());
    dir.join("dist")
}

/// dist/ when it was built from this exact commit (a clean checkout: CI),
/// else None.
fn dist_of_head() -> Option<PathBuf> {
    let dirty = run(Command::new("git").args([
        "-C",
        ROOT,
        "status",
        "--porcelain",
        "--untracked-files=no",
    ]));
    let head = run(Command::new("git").args(["-C", ROOT, "rev-parse", "--short=12", "HEAD"]));
    let dist = Path::new(ROOT).join("dist");
    let bin = dist.join(format!("lockdrop-{}-linux-x86_64", version()));
    let v = Command::new(&bin).arg("--version").output().ok()?;
    (dirty.trim().is_empty() && String::from_utf8_lossy(&v.stdout).contains(head.trim()))
        .then_some(dist)
}

/// Two builds of one commit in different directories at different times:
/// the checkout's own dist/ (scripts/test.sh builds it first; in a clean CI
/// clone it is a build of HEAD) against a fresh clone elsewhere, or two fresh
/// clones when the checkout has uncommitted changes.
#[test]
fn two_builds_of_one_commit_are_byte_identical() {
    let base = Path::new(ROOT).join("target/repro");
    // Different depths and names: every path the build could embed differs.
    let a = dist_of_head().unwrap_or_else(|| release_in(&base.join("a/lockdrop")));
    let b = release_in(&base.join("second/build/elsewhere"));
    let bin = format!("lockdrop-{}-linux-x86_64", version());
    let line = |d: &Path| {
        std::fs::read_to_string(d.join("SHA256SUMS"))
            .unwrap()
            .lines()
            .find(|l| l.ends_with(&format!("  {}", bin)))
            .map(String::from)
            .unwrap_or_else(|| panic!("{} not in {}/SHA256SUMS", bin, d.display()))
    };
    assert_eq!(
        line(&a),
        line(&b),
        "SHA256SUMS differ between the two builds"
    );
    assert_eq!(
        std::fs::read(a.join(&bin)).unwrap(),
        std::fs::read(b.join(&bin)).unwrap(),
        "{} differs",
        bin
    );
    run(Command::new("sha256sum")
        .arg("-c")
        .arg("SHA256SUMS")
        .current_dir(&b));
    // The binary names its commit and target, and is within budget.
    let head = run(Command::new("git").args(["-C", ROOT, "rev-parse", "--short=12", "HEAD"]));
    let v = run(Command::new(b.join(&bin)).arg("--version"));
    assert_eq!(
        v,
        format!(
            "lockdrop {} (commit {}, x86_64-unknown-linux-musl)\n",
            version(),
            head.trim()
        )
    );
    let size = std::fs::metadata(b.join(&bin)).unwrap().len();
    assert!(size <= 600 * 1024, "{} bytes", size);

    // The image tarball is a function of the binaries, the version and the
    // commit time: written again elsewhere, later, in another time zone, it
    // is the same bytes.
    let oci = format!("lockdrop-{}-oci.tar", version());
    let again = base.join("oci-again");
    std::fs::create_dir_all(&again).unwrap();
    let epoch = run(Command::new("git").args(["-C", ROOT, "log", "-1", "--format=%ct"]));
    run(Command::new("python3")
        .arg(Path::new(ROOT).join("scripts/oci.py"))
        .arg(again.join(&oci))
        .arg(version())
        .arg(epoch.trim())
        .arg(format!("x86_64={}", b.join(&bin).display()))
        .current_dir(&again)
        .env("TZ", "Asia/Kolkata"));
    assert_eq!(
        std::fs::read(again.join(&oci)).unwrap(),
        std::fs::read(b.join(&oci)).unwrap(),
        "the image tarball is not a function of its inputs"
    );
    let _ = std::fs::remove_dir_all(&base);
}

/// The full release (dist/ from scripts/release.sh, built by scripts/test.sh
/// before the tests; built here when missing): one binary per architecture,
/// each the right machine and within budget, and an image tarball podman
/// loads as a multi-arch index whose images hold only /lockdrop.
#[test]
fn dist_has_every_architecture_and_a_loadable_image() {
    let dist = Path::new(ROOT).join("dist");
    let oci = dist.join(format!("lockdrop-{}-oci.tar", version()));
    if !oci.exists() {
        run(Command::new(Path::new(ROOT).join("scripts/release.sh"))
            .current_dir(ROOT)
            .env("LOCKDROP_RELEASE_DIRTY", "1"));
    }
    let machines = [
        ("x86_64", "x86-64"),
        ("aarch64", "ARM aarch64"),
        ("armv7l", "ARM, EABI5"),
        ("i686", "Intel 80386"),
        ("ppc64le", "64-bit PowerPC"),
        ("riscv64", "RISC-V"),
        ("s390x", "IBM S/390"),
    ];
    let sums = std::fs::read_to_string(dist.join("SHA256SUMS")).unwrap();
    for (arch, machine) in machines {
        let name = format!("lockdrop-{}-linux-{}", version(), arch);
        assert!(
            sums.contains(&format!("  {}\n", name)),
            "{} not in SHA256SUMS",
            name
        );
        let f = dist.join(&name);
        let size = std::fs::metadata(&f).unwrap().len();
        assert!(size <= 600 * 1024, "{}: {} bytes", name, size);
        let desc = run(Command::new("file").arg("-b").arg(&f));
        assert!(
            desc.contains(machine)
                && desc.contains("statically linked")
                && !desc.contains("interpreter"),
            "{}: {}",
            name,
            desc
        );
    }
    run(Command::new("sha256sum")
        .arg("-c")
        .arg("SHA256SUMS")
        .current_dir(&dist));

    // podman with a private store: nothing of the machine's images is touched.
    common::require_tool("podman");
    let store = Path::new(ROOT).join("target/ld-podman");
    let _ = std::fs::remove_dir_all(&store);
    let podman = |args: &[&str]| {
        let mut c = Command::new("podman");
        c.arg("--root")
            .arg(store.join("root"))
            .arg("--runroot")
            .arg(store.join("run"))
            .args([
                "--storage-driver",
                "vfs",
                "--cgroup-manager",
                "cgroupfs",
                "--events-backend",
                "none",
            ])
            .args(args);
        c
    };
    let loaded = run(&mut podman(&["load", "-i", oci.to_str().unwrap()]));
    let tag = format!("lockdrop:{}", version());
    assert!(loaded.contains(&tag), "{}", loaded);
    // podman picked the host's architecture; the image holds /lockdrop
    // only, and that file is the x86_64 release binary. (Not `podman run`:
    // runc cannot apply podman's default rlimits without CAP_SYS_RESOURCE,
    // which this machine lacks; tests/runc.rs runs lockdrop in containers.)
    let arch = run(&mut podman(&[
        "image",
        "inspect",
        "--format",
        "{{.Architecture}}/{{.Os}}",
        &tag,
    ]));
    assert_eq!(arch.trim(), "amd64/linux");
    let mount = run(&mut podman(&["image", "mount", &tag]));
    let files = run(Command::new("find")
        .arg(mount.trim())
        .args(["-mindepth", "1"]));
    assert_eq!(files.trim(), format!("{}/lockdrop", mount.trim()));
    assert_eq!(
        std::fs::read(Path::new(mount.trim()).join("lockdrop")).unwrap(),
        std::fs::read(dist.join(format!("lockdrop-{}-linux-x86_64", version()))).unwrap()
    );
    // The index names one image per architecture (python3 reads the JSON).
    let platforms = run(Command::new("python3")
        .arg("-c")
        .arg(
            "import json,sys,tarfile\n\
         t=tarfile.open(sys.argv[1])\n\
         b=lambda d: json.load(t.extractfile('blobs/sha256/'+d[7:]))\n\
         top=json.load(t.extractfile('index.json'))['manifests'][0]\n\
         print(top['annotations']['org.opencontainers.image.ref.name'])\n\
         for m in b(top['digest'])['manifests']:\n\
         \x20 p=m['platform']; man=b(m['digest']); c=b(man['config']['digest'])\n\
         \x20 assert c['architecture']==p['architecture'] and len(man['layers'])==1\n\
         \x20 print(p['architecture']+('/'+p['variant'] if 'variant' in p else ''))\n",
        )
        .arg(&oci));
    assert_eq!(
        platforms.split_whitespace().collect::<Vec<_>>(),
        [
            version(),
            "amd64",
            "arm64/v8",
            "arm/v7",
            "386",
            "ppc64le",
            "riscv64",
            "s390x"
        ]
    );
    let _ = podman(&["image", "unmount", &tag]).output();
    let _ = podman(&["rmi", "-a", "-f"]).output();
    let _ = std::fs::remove_dir_all(&store);
}
