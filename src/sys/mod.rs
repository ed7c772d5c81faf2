//! The thin syscall layer: every `unsafe` and every raw syscall of lockdrop
//! lives under `sys/`. Functions here do one syscall each (or one documented
//! sequence), return `Result<_, i32>` with the errno, and hold no policy.
//! nix gives typed wrappers where it has them; capget/capset, the ambient and
//! bounding prctls and securebits are not in nix and go through libc.
// The one place `unsafe` is allowed (Cargo.toml denies it elsewhere).
#![allow(unsafe_code)]
use crate::model::caps::{Cap, CapSet};
use crate::model::command::Env;
use crate::model::rlimits::{Limit, Resource};

pub mod alloc;
pub mod seccomp;
pub mod signal;

pub type SysResult<T> = std::result::Result<T, i32>;

fn errno() -> i32 {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

fn check(r: libc::c_int) -> SysResult<libc::c_int> {
    if r < 0 {
        Err(errno())
    } else {
        Ok(r)
    }
}

/// Test double: with the `fault-injection` feature, `LOCKDROP_FAULT=step`
/// makes that step fail with EPERM so tests can prove nothing runs after a
/// failed step. Compiled out of normal builds.
#[cfg(feature = "fault-injection")]
pub fn inject(step: &str) -> SysResult<()> {
    match std::env::var("LOCKDROP_FAULT") {
        Ok(v) if v.split(',').any(|s| s == step) => Err(libc::EPERM),
        _ => Ok(()),
    }
}
#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub fn inject(_step: &str) -> SysResult<()> {
    Ok(())
}

extern "C" {
    static environ: *const *const libc::c_char;
}

/// The entries of the original environment that start with one of
/// `prefixes`, in order, each with its index in `environ`. Entries are compared byte by byte
/// from their first byte; only the matches are measured (strlen), so a large
/// environment costs a few instructions per variable, not a pass each.
pub fn environ_matching<'a>(
    prefixes: &'a [&'a [u8]],
) -> impl Iterator<Item = (usize, &'static [u8])> + 'a {
    // SAFETY: `environ` is the C runtime's NULL-terminated array of
    // NUL-terminated strings; nothing in lockdrop modifies it.
    let mut p = unsafe { environ };
    let mut i = 0;
    std::iter::from_fn(move || {
        if p.is_null() {
            return None;
        }
        loop {
            // SAFETY: p walks the array up to its NULL terminator.
            let e = unsafe { *p };
            if e.is_null() {
                return None;
            }
            // SAFETY: p is still inside the array (its terminator is after it).
            p = unsafe { p.add(1) };
            i += 1;
            // SAFETY: the string is NUL-terminated and a prefix holds no NUL,
            // so each comparison stops at or before the terminator (the
            // first byte is read once and rejects nearly every entry).
            let first = unsafe { *e } as u8;
            let mut hit = false;
            for pre in prefixes {
                if pre.first() == Some(&first)
                    && (1..pre.len()).all(|k| {
                        // SAFETY: bytes 0..k matched the prefix, which holds
                        // no NUL, so the terminator is at k or later.
                        (unsafe { *e.add(k) }) as u8 == pre[k]
                    })
                {
                    hit = true;
                    break;
                }
            }
            if hit {
                // SAFETY: a valid NUL-terminated string, never freed.
                return Some((i - 1, unsafe { std::ffi::CStr::from_ptr(e) }.to_bytes()));
            }
        }
    })
}

/// One variable's value from the original environment.
pub fn getenv(key: &str) -> Option<&'static [u8]> {
    environ_matching(&[key.as_bytes()]).find_map(|(_, e)| e[key.len()..].strip_prefix(b"="))
}

/// The original environment as execve wants it, without the entries at the
/// (ascending) indices in `skip`, followed by `added`: pointers only, no
/// string is measured or copied.
fn envp_without(skip: &[usize], added: &[&std::ffi::CStr]) -> Vec<*const libc::c_char> {
    let mut v = Vec::new();
    // SAFETY: as in environ_matching.
    let mut p = unsafe { environ };
    let mut i = 0;
    while !p.is_null() {
        // SAFETY: p walks the array up to its NULL terminator.
        let e = unsafe { *p };
        if e.is_null() {
            break;
        }
        if !skip.contains(&i) {
            v.push(e);
        }
        // SAFETY: the terminator comes after p.
        p = unsafe { p.add(1) };
        i += 1;
    }
    v.extend(added.iter().map(|c| c.as_ptr()));
    v.push(std::ptr::null());
    v
}

// The five sets as a value live in the vocabulary; this layer reads them.
pub use crate::model::caps::CapState;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}
const CAP_V3: u32 = 0x2008_0522;
const CAP_LAST_POSSIBLE: u8 = 63;

fn last_cap() -> u8 {
    // The kernel's highest capability: probing PR_CAPBSET_READ until EINVAL
    // avoids reading /proc/sys/kernel/cap_last_cap (absent in some sandboxes).
    let mut n = 0u8;
    while n < CAP_LAST_POSSIBLE {
        // SAFETY: PR_CAPBSET_READ takes an integer and no pointers.
        if unsafe { libc::prctl(libc::PR_CAPBSET_READ, (n + 1) as libc::c_ulong, 0, 0, 0) } < 0 {
            break;
        }
        n += 1;
    }
    n
}

/// effective, permitted, inheritable: one capget(2).
pub fn capget() -> (CapSet, CapSet, CapSet) {
    let mut hdr = CapHeader {
        version: CAP_V3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: header and a 2-element data array are what capget v3 expects.
    unsafe {
        libc::syscall(
            libc::SYS_capget,
            &mut hdr as *mut CapHeader,
            data.as_mut_ptr(),
        )
    };
    let join = |f: fn(&CapData) -> u32| CapSet(f(&data[0]) as u64 | ((f(&data[1]) as u64) << 32));
    (
        join(|d| d.effective),
        join(|d| d.permitted),
        join(|d| d.inheritable),
    )
}

pub fn in_bounding(c: Cap) -> bool {
    // SAFETY: integer-only prctl.
    unsafe { libc::prctl(libc::PR_CAPBSET_READ, c.0 as libc::c_ulong, 0, 0, 0) == 1 }
}

/// The ambient capabilities among `candidates`. The kernel keeps ambient
/// within permitted ∩ inheritable (capabilities(7)), so asking only about
/// those bits is complete and costs one prctl per bit instead of 64.
pub fn ambient_within(candidates: CapSet) -> CapSet {
    let mut amb = CapSet::EMPTY;
    for c in candidates.iter() {
        // SAFETY: integer-only prctl.
        let set = unsafe {
            libc::prctl(
                libc::PR_CAP_AMBIENT,
                libc::PR_CAP_AMBIENT_IS_SET as libc::c_ulong,
                c.0 as libc::c_ulong,
                0,
                0,
            )
        };
        if set == 1 {
            amb = amb.with(c);
        }
    }
    amb
}

pub fn cap_state() -> CapState {
    let (effective, permitted, inheritable) = capget();
    let mut bounding = CapSet::EMPTY;
    for i in 0..=last_cap() {
        if in_bounding(Cap(i)) {
            bounding = bounding.with(Cap(i));
        }
    }
    CapState {
        effective,
        permitted,
        inheritable,
        bounding,
        ambient: ambient_within(CapSet(permitted.0 & inheritable.0)),
    }
}

/// Sets effective, permitted and inheritable in one capset call: atomic, so
/// the order problems of one-set-at-a-time APIs (EPERM when permitted shrinks
/// below effective) cannot happen.
pub fn capset(effective: CapSet, permitted: CapSet, inheritable: CapSet) -> SysResult<()> {
    capset_step("capset", effective, permitted, inheritable)
}

/// `capset` under its own fault-injection step name (the supervisor's drop
/// runs beside the child's switch, which a "capset" fault already tests).
pub fn capset_step(
    step: &str,
    effective: CapSet,
    permitted: CapSet,
    inheritable: CapSet,
) -> SysResult<()> {
    inject(step)?;
    let mut hdr = CapHeader {
        version: CAP_V3,
        pid: 0,
    };
    let lo = |s: CapSet| s.0 as u32;
    let hi = |s: CapSet| (s.0 >> 32) as u32;
    let data = [
        CapData {
            effective: lo(effective),
            permitted: lo(permitted),
            inheritable: lo(inheritable),
        },
        CapData {
            effective: hi(effective),
            permitted: hi(permitted),
            inheritable: hi(inheritable),
        },
    ];
    // SAFETY: valid v3 header and 2-element data array.
    check(unsafe {
        libc::syscall(libc::SYS_capset, &mut hdr as *mut CapHeader, data.as_ptr()) as libc::c_int
    })
    .map(drop)
}

pub fn ambient_raise(c: Cap) -> SysResult<()> {
    inject("ambient")?;
    // SAFETY: integer-only prctl.
    check(unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_RAISE as libc::c_ulong,
            c.0 as libc::c_ulong,
            0,
            0,
        )
    })
    .map(drop)
}

pub fn ambient_clear_all() -> SysResult<()> {
    // SAFETY: integer-only prctl.
    check(unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong,
            0,
            0,
            0,
        )
    })
    .map(drop)
}

/// PR_SET_KEEPCAPS: keep the permitted set across the switch away from uid 0
/// (capabilities(7), "Effect of user ID changes"); cleared again after.
pub fn set_keepcaps(on: bool) -> SysResult<()> {
    inject("keepcaps")?;
    // SAFETY: integer-only prctl.
    check(unsafe { libc::prctl(libc::PR_SET_KEEPCAPS, on as libc::c_ulong, 0, 0, 0) }).map(drop)
}

pub fn set_no_new_privs() -> SysResult<()> {
    inject("no_new_privs")?;
    // SAFETY: integer-only prctl.
    check(unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) }).map(drop)
}

pub fn no_new_privs() -> bool {
    // SAFETY: integer-only prctl.
    unsafe { libc::prctl(libc::PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1 }
}

pub fn set_dumpable(on: bool) -> SysResult<()> {
    // SAFETY: integer-only prctl.
    check(unsafe { libc::prctl(libc::PR_SET_DUMPABLE, on as libc::c_ulong, 0, 0, 0) }).map(drop)
}

/// PR_GET_CHILD_SUBREAPER: whether this process is a child subreaper.
pub fn is_child_subreaper() -> SysResult<bool> {
    let mut v: libc::c_int = 0;
    // SAFETY: the kernel writes one int through the pointer, which is valid.
    check(unsafe { libc::prctl(libc::PR_GET_CHILD_SUBREAPER, &mut v as *mut libc::c_int) })?;
    Ok(v != 0)
}

pub fn set_child_subreaper() -> SysResult<()> {
    inject("subreaper")?;
    // SAFETY: integer-only prctl.
    check(unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) }).map(drop)
}

pub fn set_pdeathsig(sig: i32) -> SysResult<()> {
    inject("pdeathsig")?;
    // SAFETY: integer-only prctl.
    check(unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, sig as libc::c_ulong, 0, 0, 0) }).map(drop)
}

pub fn getrlimit(r: Resource) -> SysResult<Limit> {
    let mut l = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: l is a valid out-pointer.
    check(unsafe { libc::getrlimit(r.0 as _, &mut l) })?;
    // rlim_t is 32 bits on some targets' libcs: widen, a no-op where it is u64.
    #[allow(clippy::unnecessary_cast)]
    Ok(Limit {
        soft: l.rlim_cur as u64,
        hard: l.rlim_max as u64,
    })
}

pub fn setrlimit(r: Resource, lim: Limit) -> SysResult<()> {
    inject("setrlimit")?;
    let l = libc::rlimit {
        rlim_cur: lim.soft as _,
        rlim_max: lim.hard as _,
    };
    // SAFETY: l is a valid in-pointer.
    check(unsafe { libc::setrlimit(r.0 as _, &l) }).map(drop)
}

// On i386 and 32-bit arm the plain setgroups/setresuid/setresgid syscalls
// take 16-bit ids (a [u32] read as u16 pairs: groups [10, 1000] become
// [10, 0]); the 32-bit-id calls are the `*32` ones, which musl's own wrappers
// use. Every other architecture has only 32-bit ids under the plain names.
#[cfg(not(any(target_arch = "x86", target_arch = "arm")))]
use libc::{
    SYS_setgroups as SYS_SETGROUPS, SYS_setresgid as SYS_SETRESGID, SYS_setresuid as SYS_SETRESUID,
};
#[cfg(any(target_arch = "x86", target_arch = "arm"))]
use libc::{
    SYS_setgroups32 as SYS_SETGROUPS, SYS_setresgid32 as SYS_SETRESGID,
    SYS_setresuid32 as SYS_SETRESUID,
};

pub fn setgroups(groups: &[u32]) -> SysResult<()> {
    inject("setgroups")?;
    // The raw syscall, not libc's: musl and glibc broadcast setgroups to all
    // threads; lockdrop is single-threaded, and the raw call is one syscall.
    // SAFETY: pointer and length describe `groups`.
    check(unsafe { libc::syscall(SYS_SETGROUPS, groups.len(), groups.as_ptr()) as libc::c_int })
        .map(drop)
}

pub fn setresgid(g: u32) -> SysResult<()> {
    inject("setresgid")?;
    // SAFETY: integer-only syscall.
    check(unsafe { libc::syscall(SYS_SETRESGID, g, g, g) as libc::c_int }).map(drop)
}

pub fn setresuid(u: u32) -> SysResult<()> {
    inject("setresuid")?;
    // SAFETY: integer-only syscall.
    check(unsafe { libc::syscall(SYS_SETRESUID, u, u, u) as libc::c_int }).map(drop)
}

/// (real, effective, saved) uids.
pub fn getresuid() -> (u32, u32, u32) {
    let (mut r, mut e, mut s) = (0, 0, 0);
    // SAFETY: three valid out-pointers.
    unsafe { libc::getresuid(&mut r, &mut e, &mut s) };
    (r, e, s)
}

pub fn getresgid() -> (u32, u32, u32) {
    let (mut r, mut e, mut s) = (0, 0, 0);
    // SAFETY: three valid out-pointers.
    unsafe { libc::getresgid(&mut r, &mut e, &mut s) };
    (r, e, s)
}

pub fn getgroups() -> Vec<u32> {
    // Ask for the count first: a buffer for NGROUPS_MAX (65536) gids cost
    // 256 KiB of zeroing, most of a --user start-up's instructions.
    // SAFETY: size 0 with a null list only returns the count (getgroups(2)).
    let n = unsafe { libc::getgroups(0, std::ptr::null_mut()) };
    let mut v = vec![0u32; n.max(0) as usize];
    // SAFETY: buffer of v.len() gids.
    let got = unsafe { libc::getgroups(v.len() as libc::c_int, v.as_mut_ptr()) };
    v.truncate(got.max(0) as usize);
    v
}

pub fn getpid() -> i32 {
    // SAFETY: no arguments.
    unsafe { libc::getpid() }
}

pub fn chdir(path: &std::ffi::CStr) -> SysResult<()> {
    inject("chdir")?;
    // SAFETY: NUL-terminated path.
    check(unsafe { libc::chdir(path.as_ptr()) }).map(drop)
}

/// The argument and environment arrays of an execve(2), built from
/// borrowed C strings: the pointers cannot outlive what they point into
/// (the lifetime `'a`), and both arrays are always NULL-terminated, so
/// `execve` is safe to call with any value of this type.
pub struct ExecArgs<'a> {
    argv: Vec<*const libc::c_char>,
    /// None: the environment lockdrop was started with, unchanged.
    envp: Option<Vec<*const libc::c_char>>,
    _borrow: std::marker::PhantomData<&'a std::ffi::CStr>,
}

impl<'a> ExecArgs<'a> {
    /// `argv` as given; the environment is lockdrop's own (None), or its
    /// own without the entries `env.skip` names plus `env.added`: pointers
    /// only, no string is measured or copied (bench/).
    pub fn new(argv: &'a [std::ffi::CString], env: Option<&'a Env>) -> ExecArgs<'a> {
        let mut args: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
        args.push(std::ptr::null());
        ExecArgs {
            argv: args,
            envp: env.map(|e| {
                let added: Vec<&std::ffi::CStr> = e.added.iter().map(|c| c.as_c_str()).collect();
                envp_without(&e.skip, &added)
            }),
            _borrow: std::marker::PhantomData,
        }
    }

    /// execve(2) of `path`; returns only on failure, with the errno.
    pub fn execve(&self, path: &std::ffi::CStr) -> i32 {
        if let Err(e) = inject("exec") {
            return e;
        }
        // SAFETY: both arrays are NULL-terminated (`new`) and point into C
        // strings borrowed for 'a, which outlives self; `environ` is the C
        // runtime's own NULL-terminated array.
        unsafe {
            libc::execve(
                path.as_ptr(),
                self.argv.as_ptr(),
                self.envp.as_ref().map_or(environ, |e| e.as_ptr()),
            )
        };
        errno()
    }
}

/// Whether this binary runs set-uid/set-gid or with file capabilities:
/// AT_SECURE is what the kernel sets for exactly those cases.
pub fn is_secure_exec() -> bool {
    // SAFETY: getauxval reads the auxiliary vector; no pointers.
    unsafe { libc::getauxval(libc::AT_SECURE) != 0 }
}
