//! /proc/sys through the host view: a tunable's current value and whether
//! it can be written, each failure worded for the person reading `--check`.
//! Changes nothing (an open for writing changes nothing in /proc/sys; only
//! write(2) does, in `apply::sysctl`).
use super::Host;
use crate::model::sysctl::{namespaced, path};

/// The current value (first field, as sysctl(8) prints it), or why not.
pub fn read(host: &Host, key: &str) -> std::result::Result<i64, String> {
    let p = path(key);
    let text = host
        .read(&p)
        .map_err(|e| format!("cannot read {}: {}", p, e))?;
    let first = text.split_whitespace().next().unwrap_or("");
    first
        .parse()
        .map_err(|_| format!("{} holds {:?}, not a number", p, text.trim()))
}

/// Whether the file can be written, checked by opening it for writing (an
/// open changes nothing in /proc/sys; only write(2) does). Err is the reason,
/// worded for the person reading `--check`.
pub fn writable(host: &Host, key: &str) -> std::result::Result<(), String> {
    let p = path(key);
    match std::fs::OpenOptions::new().write(true).open(host.path(&p)) {
        Ok(_) => Ok(()),
        Err(e) => Err(why_not(key, &p, &e)),
    }
}

pub fn why_not(key: &str, p: &str, e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(libc::EROFS) => format!(
            "{} is read-only: the container runtime mounts /proc/sys read-only unless the container is privileged",
            p
        ),
        Some(libc::EACCES) | Some(libc::EPERM) if !namespaced(key) => format!(
            "{} is not namespaced: only the host (the initial user namespace, as root) can change it",
            key
        ),
        Some(libc::EACCES) | Some(libc::EPERM) => {
            format!("permission denied writing {} (lockdrop must start as root)", p)
        }
        Some(libc::ENOENT) => format!("{} does not exist on this kernel", p),
        _ => format!("cannot write {}: {}", p, e.to_string().to_lowercase()),
    }
}
