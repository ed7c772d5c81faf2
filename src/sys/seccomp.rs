//! A seccomp filter that makes ioctl(TIOCSTI) and ioctl(TIOCLINUX) fail with
//! EPERM, written by hand as classic BPF (no libseccomp: ~20 instructions do
//! not earn a C library). Inherited across fork and execve and never
//! removable (seccomp(2)), so it holds for the command and everything it
//! starts, whatever session or terminal they later acquire.
//!
//! What it checks, in order:
//! - `seccomp_data.arch`: each ABI the kernel can run next to the build
//!   target's (i386/x32 beside x86_64, arm beside aarch64, ...) has its own
//!   ioctl number; an unknown arch is allowed (the kernel cannot run it).
//! - the syscall number is ioctl's for that ABI;
//! - only the LOW 32 bits of the request: the kernel truncates `cmd` to an
//!   unsigned int, so comparing all 64 bits would let `0x1_0000_5412` through
//!   (flatpak's CVE-2019-10063).
use super::{check, SysResult};

// linux/audit.h: EM_* | __AUDIT_ARCH_64BIT (0x8000_0000) | __AUDIT_ARCH_LE (0x4000_0000).
#[allow(dead_code)]
mod audit {
    pub const X86_64: u32 = 0xC000_003E;
    pub const I386: u32 = 0x4000_0003;
    pub const AARCH64: u32 = 0xC000_00B7;
    pub const ARM: u32 = 0x4000_0028;
    pub const PPC64LE: u32 = 0xC000_0015;
    pub const PPC64: u32 = 0x8000_0015;
    pub const PPC: u32 = 0x0000_0014;
    pub const S390X: u32 = 0x8000_0016;
    pub const S390: u32 = 0x0000_0016;
    pub const RISCV64: u32 = 0xC000_00F3;
    pub const RISCV32: u32 = 0x4000_00F3;
}

/// (arch, ioctl's syscall number) for every ABI a kernel running the build
/// target may also run: a 32-bit lockdrop on a 64-bit kernel can exec a
/// 64-bit command and the other way round. Numbers from each arch's
/// syscall table (x32 numbers carry __X32_SYSCALL_BIT).
#[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
const ABIS: &[(u32, u32)] = &[
    (audit::X86_64, 16),
    (audit::X86_64, 0x4000_0000 | 514),
    (audit::I386, 54),
];
#[cfg(any(target_arch = "aarch64", target_arch = "arm"))]
const ABIS: &[(u32, u32)] = &[(audit::AARCH64, 29), (audit::ARM, 54)];
#[cfg(any(target_arch = "powerpc64", target_arch = "powerpc"))]
const ABIS: &[(u32, u32)] = &[(audit::PPC64LE, 54), (audit::PPC64, 54), (audit::PPC, 54)];
#[cfg(target_arch = "s390x")]
const ABIS: &[(u32, u32)] = &[(audit::S390X, 54), (audit::S390, 54)];
#[cfg(any(target_arch = "riscv64", target_arch = "riscv32"))]
const ABIS: &[(u32, u32)] = &[(audit::RISCV64, 29), (audit::RISCV32, 29)];

// The build target's own ioctl must be in the table (catches a wrong row).
const _: () = {
    let mut i = 0;
    let mut found = false;
    while i < ABIS.len() {
        if ABIS[i].1 as libc::c_long == libc::SYS_ioctl {
            found = true;
        }
        i += 1;
    }
    assert!(found, "ABIS lacks the build target's ioctl number");
};

/// The requests denied. The constants come from libc for the build target;
/// every ABI of one family shares them.
pub const DENIED: [u32; 2] = [libc::TIOCSTI as u32, libc::TIOCLINUX as u32];

// struct seccomp_data { int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6]; }
const OFF_NR: u32 = 0;
const OFF_ARCH: u32 = 4;
/// The low word of args[1] (ioctl's request).
#[cfg(target_endian = "little")]
const OFF_CMD: u32 = 16 + 8;
#[cfg(target_endian = "big")]
const OFF_CMD: u32 = 16 + 8 + 4;

const LD_W_ABS: u16 = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
const JEQ_K: u16 = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
const RET_K: u16 = (libc::BPF_RET | libc::BPF_K) as u16;

const fn stmt(code: u16, k: u32) -> libc::sock_filter {
    libc::sock_filter {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}
const fn jeq(k: u32, jt: usize, jf: usize) -> libc::sock_filter {
    libc::sock_filter {
        code: JEQ_K,
        jt: jt as u8,
        jf: jf as u8,
        k,
    }
}

/// Distinct arches in ABIS (rows of one arch are adjacent).
const fn arch_count() -> usize {
    let (mut n, mut i) = (0, 0);
    while i < ABIS.len() {
        if i == 0 || ABIS[i].0 != ABIS[i - 1].0 {
            n += 1;
        }
        i += 1;
    }
    n
}

/// Per arch 3 + its ioctl numbers; `ret allow`; `ld cmd`, the compares,
/// `ret allow`, `ret deny`.
const LEN: usize = arch_count() * 3 + ABIS.len() + 1 + 1 + DENIED.len() + 2;

/// The program, built at compile time (no start-up cost): per arch
/// `ld arch; jeq ARCH ? on : next arch; ld nr; jeq IOCTL_1 ? request : ...;
/// jeq IOCTL_n ? request : allow`; an arch no block knows is allowed (the
/// kernel cannot run it); then the request compares. Jumps are relative to
/// the next instruction (classic BPF).
const fn build() -> [libc::sock_filter; LEN] {
    let allow = libc::SECCOMP_RET_ALLOW;
    let deny = libc::SECCOMP_RET_ERRNO | (libc::EPERM as u32 & libc::SECCOMP_RET_DATA);
    let allow_at = arch_count() * 3 + ABIS.len();
    let request_at = allow_at + 1;
    let deny_at = LEN - 1;
    let mut p = [stmt(0, 0); LEN];
    let (mut pc, mut i) = (0, 0);
    while i < ABIS.len() {
        let arch = ABIS[i].0;
        let mut n = 0;
        while i + n < ABIS.len() && ABIS[i + n].0 == arch {
            n += 1;
        }
        let next_arch = if i + n < ABIS.len() {
            pc + 3 + n
        } else {
            allow_at
        };
        p[pc] = stmt(LD_W_ABS, OFF_ARCH);
        p[pc + 1] = jeq(arch, 0, next_arch - (pc + 2));
        p[pc + 2] = stmt(LD_W_ABS, OFF_NR);
        pc += 3;
        let mut j = 0;
        while j < n {
            let miss = if j + 1 == n { allow_at - (pc + 1) } else { 0 };
            p[pc] = jeq(ABIS[i + j].1, request_at - (pc + 1), miss);
            pc += 1;
            j += 1;
        }
        i += n;
    }
    p[pc] = stmt(RET_K, allow);
    p[pc + 1] = stmt(LD_W_ABS, OFF_CMD);
    pc += 2;
    let mut d = 0;
    while d < DENIED.len() {
        p[pc] = jeq(DENIED[d], deny_at - (pc + 1), 0);
        pc += 1;
        d += 1;
    }
    p[pc] = stmt(RET_K, allow);
    p[pc + 1] = stmt(RET_K, deny);
    p
}

static PROGRAM: [libc::sock_filter; LEN] = build();

/// The program (see `build`).
pub fn program() -> &'static [libc::sock_filter] {
    &PROGRAM
}

/// Installs the filter. Needs no_new_privs set, or CAP_SYS_ADMIN in the
/// effective set (seccomp(2)); EACCES otherwise.
pub fn install_tty_filter() -> SysResult<()> {
    super::inject("seccomp")?;
    let fprog = libc::sock_fprog {
        len: LEN as u16,
        // The kernel only reads (copies) the program.
        filter: PROGRAM.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: fprog points at the static program; the kernel copies it.
    check(unsafe {
        libc::prctl(
            libc::PR_SET_SECCOMP,
            libc::SECCOMP_MODE_FILTER as libc::c_ulong,
            &fprog as *const libc::sock_fprog,
            0,
            0,
        )
    })
    .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the program over one seccomp_data, the kernel's way for the
    /// three instructions it uses.
    fn run(arch: u32, nr: u32, cmd: u64) -> u32 {
        let mut data = [0u8; 64];
        data[0..4].copy_from_slice(&nr.to_ne_bytes());
        data[4..8].copy_from_slice(&arch.to_ne_bytes());
        data[24..32].copy_from_slice(&cmd.to_ne_bytes());
        let prog = program();
        let (mut pc, mut acc) = (0usize, 0u32);
        loop {
            let i = prog[pc];
            match i.code {
                LD_W_ABS => {
                    let k = i.k as usize;
                    acc = u32::from_ne_bytes(data[k..k + 4].try_into().unwrap());
                    pc += 1;
                }
                JEQ_K => pc += 1 + if acc == i.k { i.jt } else { i.jf } as usize,
                RET_K => return i.k,
                c => panic!("unexpected instruction {c:#x}"),
            }
        }
    }

    #[test]
    fn denies_only_the_two_requests_of_ioctl_on_every_abi() {
        let deny = libc::SECCOMP_RET_ERRNO | libc::EPERM as u32;
        let allow = libc::SECCOMP_RET_ALLOW;
        assert!(program().len() < 64);
        for (arch, nr) in ABIS {
            for d in DENIED {
                assert_eq!(run(*arch, *nr, d as u64), deny, "{arch:#x} {nr}");
                // High bits the kernel truncates away change nothing.
                assert_eq!(run(*arch, *nr, 0xffff_ffff_0000_0000 | d as u64), deny);
            }
            assert_eq!(run(*arch, *nr, libc::TIOCSCTTY as u64), allow);
            assert_eq!(run(*arch, *nr, libc::TCGETS as u64), allow);
            assert_eq!(run(*arch, nr + 1, libc::TIOCSTI as u64), allow);
        }
        // An arch the table does not know: allowed whatever it asks.
        assert_eq!(run(0x1234, 16, libc::TIOCSTI as u64), allow);
    }
}
