//! lockdrop: a container entrypoint that raises resource limits, verifies
//! capabilities, checks kernel tunables, drops to the target user without PAM,
//! keeps only the capabilities asked for, then execs the command or supervises
//! it as PID 1.
//!
//! The data flows one way: parse → resolve → check → apply → run. The modules
//! are listed in that order; `run` below is the table of contents.

// The stages, in the order the data flows through them. A stage uses only
// earlier stages, `model`, `host`, `sys`, `error` and `msg` (tests/layout.rs
// fails when an import breaks this).
pub mod apply;
pub mod check;
pub mod host;
pub mod model;
pub mod parse;
pub mod report;
pub mod resolve;
pub mod run;
// support
pub mod error;
pub mod msg;
pub mod sys;

use error::Result;
use std::ffi::OsString;

/// The whole program: returns the exit code to use, or the error to print.
pub fn run(args: Vec<OsString>) -> Result<i32> {
    // A set-uid or set-capable lockdrop would hand any caller root's powers.
    apply::privileges::refuse_setid()?;
    // Hold every signal from here on: none that arrives during start-up is
    // lost (a namespace's PID 1 drops unhandled ones) or kills us half-way.
    // Exec mode restores the caller's mask just before execve.
    let startup = run::startup::Startup::block();

    // parse: defaults < profile < file < environment < flags
    let flags = parse::flags::parse_args(args)?;
    if flags.help {
        msg::stdout(&parse::flags::help_text());
        return Ok(0);
    }
    if flags.version {
        msg::stdout(concat!("lockdrop ", env!("CARGO_PKG_VERSION"), "\n"));
        return Ok(0);
    }
    // One pass over the environment for LOCKDROP_* (no per-variable lookups).
    let ours: Vec<(&[u8], &[u8])> = sys::environ_matching(&[b"LOCKDROP_"])
        .filter_map(|(_, e)| {
            e.iter()
                .position(|b| *b == b'=')
                .map(|i| (&e[..i], &e[i + 1..]))
        })
        .collect();
    let env = parse::flags::parse_env(&|k| {
        ours.iter()
            .find(|(n, _)| *n == k.as_bytes())
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
    })?;
    // The host view is lazy; a profile's limits are minimums against it.
    let host = host::Host::live();
    let opts = parse::config::layered(env, flags, &host)?;
    msg::set_level(opts.verbose.unwrap_or(0), opts.quiet.unwrap_or(false));
    if opts.profile.as_deref() == Some("list") {
        msg::stdout(&parse::profiles::list_text());
        return Ok(0);
    }

    if opts.doctor {
        return report::doctor::run(&host, opts.json);
    }

    // resolve → check
    let plan = resolve::resolve(&opts, &host)?;
    let findings = check::check(&plan, &host);
    if opts.check {
        return Ok(report::check::report(&plan, &host, &findings, opts.json));
    }
    check::enforce(&findings)?;

    // apply → run (kernel tunables first, under --sysctl-policy modify, while still root)
    apply::sysctl::modify(&plan, &host)?;
    match plan.mode {
        parse::Mode::Exec => {
            apply::privileges::apply(&plan, &host)?;
            // Without a switch the command is who started lockdrop: no new
            // power over the terminal, and no /proc read on the fast path.
            if plan.switch {
                run::terminal::detach_foreign_terminal()?;
            }
            startup.restore();
            Err(run::exec::exec(&plan.command))
        }
        parse::Mode::Supervise => {
            // Signals are blocked before anything changes so none that arrive
            // during start-up is lost: they are forwarded once the child exists.
            let saved = run::supervise::prepare(&plan, startup)?;
            apply::privileges::apply(&plan, &host)?;
            run::supervise::run(&plan, saved)
        }
    }
}

/// Prints an error once, the way every lockdrop error looks.
pub fn report(e: &error::Error) {
    msg::error(&e.to_string());
}
