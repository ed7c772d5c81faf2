//! Entry point. `#![no_main]` so that Rust's runtime does not set SIGPIPE to
//! ignored before we run: the command must inherit exactly the signal
//! dispositions lockdrop was started with (an ignored SIGPIPE survives exec).
// The C entry point takes raw argv (Cargo.toml denies `unsafe` elsewhere).
#![allow(unsafe_code)]
#![no_main]

use std::ffi::{CStr, OsString};
use std::os::raw::{c_char, c_int};
use std::os::unix::ffi::OsStringExt;

// A bump arena for start-up's small allocations (src/sys/alloc.rs).
#[global_allocator]
static ALLOC: lockdrop::sys::alloc::Bump = lockdrop::sys::alloc::Bump;

// The C runtime is the only caller, with its own argc/argv.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
#[no_mangle]
pub extern "C" fn main(argc: c_int, argv: *const *const c_char) -> c_int {
    let args: Vec<OsString> = (1..argc.max(1) as isize)
        .map(|i| {
            // SAFETY: the C runtime hands us argc valid NUL-terminated
            // strings, and i < argc.
            let arg = unsafe { CStr::from_ptr(*argv.offset(i)) };
            OsString::from_vec(arg.to_bytes().to_vec())
        })
        .collect();
    match lockdrop::run(args) {
        Ok(code) => code,
        Err(e) => {
            lockdrop::report(&e);
            e.exit_code()
        }
    }
}
