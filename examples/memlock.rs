//! A stand-in for a JVM with `bootstrap.memory_lock: true`: touches BYTES of
//! heap (default 64M), calls mlockall(MCL_CURRENT) and says whether it worked,
//! the way Elasticsearch's bootstrap check does. Exits 1 when memory is not
//! locked. Used by README's first command: `memlock 64M` under lockdrop.
// Probes and fixtures make raw syscalls; Cargo.toml denies `unsafe` by default.
#![allow(unsafe_code)]
use std::io::Write;

fn main() {
    let arg = std::env::args().nth(1).unwrap_or_else(|| "64M".into());
    let (n, mul) = match arg.as_bytes().last() {
        Some(b'K' | b'k') => (&arg[..arg.len() - 1], 1usize << 10),
        Some(b'M' | b'm') => (&arg[..arg.len() - 1], 1 << 20),
        Some(b'G' | b'g') => (&arg[..arg.len() - 1], 1 << 30),
        _ => (&arg[..], 1),
    };
    let bytes = n.parse::<usize>().unwrap_or(64) * mul;
    let mut heap = vec![0u8; bytes];
    for i in (0..bytes).step_by(4096) {
        heap[i] = 1;
    }
    // SAFETY: mlockall takes only flags.
    let rc = unsafe { libc::mlockall(libc::MCL_CURRENT) };
    let err = std::io::Error::last_os_error();
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |k: &str| {
        status
            .lines()
            .find(|l| l.starts_with(k))
            .map(|l| l[k.len()..].trim().to_string())
            .unwrap_or_default()
    };
    let mut o = std::io::stdout().lock();
    let _ = writeln!(
        o,
        "memlock: uid {} (euid {}), CapAmb {}",
        field("Uid:").split_whitespace().next().unwrap_or("?"),
        field("Uid:").split_whitespace().nth(1).unwrap_or("?"),
        field("CapAmb:")
    );
    if rc == 0 {
        let _ = writeln!(
            o,
            "memlock: locked {} MiB of heap (VmLck {})",
            bytes >> 20,
            field("VmLck:")
        );
        std::hint::black_box(&heap);
    } else {
        let _ = writeln!(
            o,
            "memlock: memory locking requested but memory is not locked: mlockall failed: {}",
            err
        );
        std::process::exit(1);
    }
}
