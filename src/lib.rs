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
use parse::Action;
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
    // --help and --version whatever the environment and the file hold.
    match flags.action() {
        Action::Help => {
            msg::stdout(&parse::flags::help_text());
            return Ok(0);
        }
        Action::Version => {
            // Version, commit and target triple (build.rs): which release binary this is.
            msg::stdout(concat!(
                "lockdrop ",
                env!("CARGO_PKG_VERSION"),
                " (commit ",
                env!("LOCKDROP_COMMIT"),
                ", ",
                env!("LOCKDROP_TARGET_TRIPLE"),
                ")\n"
            ));
            return Ok(0);
        }
        _ => {}
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
    // `--check --json` answers with one JSON document even when the input
    // cannot be resolved: a tool piping it to a JSON reader gets the error.
    let json_check = flags.action() == Action::Check && flags.switched_on("json");
    let as_json = |e: error::Error| {
        if json_check {
            msg::stdout(&report::check::error_json(&e));
        }
        e
    };
    let opts = parse::config::layered(env, flags, &host).map_err(as_json)?;
    msg::set_level(opts.verbose.unwrap_or(0), opts.quiet.unwrap_or(false));
    match opts.action {
        Action::ProfileList => {
            msg::stdout(&parse::profiles::list_text());
            return Ok(0);
        }
        Action::Doctor => return report::doctor::run(&host, opts.json),
        _ => {}
    }

    // resolve → check
    let plan = resolve::resolve(&opts, &host).map_err(as_json)?;
    // Only --check prints what is ok.
    let findings = check::check_with(&plan, &host, opts.action == Action::Check);
    if opts.action == Action::Check {
        return Ok(report::check::report(&plan, &host, &findings, opts.json));
    }
    check::enforce(&findings)?;

    // apply → run (kernel tunables first, under --sysctl-policy modify, while still root)
    apply::sysctl::modify(&plan, &host)?;
    // While still root, before the switch; inherited by the command's tree.
    run::terminal::deny_injection(&plan)?;
    match plan.mode {
        parse::Mode::Exec => {
            // The parent before the switch, to notice one that dies meanwhile.
            let ppid = plan
                .supervise
                .pdeathsig
                .map_or(0, |_| sys::signal::getppid());
            apply::privileges::apply(&plan, &host)?;
            // After the switch: a change of credentials clears it.
            run::exec::parent_death_signal(plan.supervise.pdeathsig, ppid)?;
            // Without a switch the command is who started lockdrop: no new
            // power over the terminal, and no /proc read on the fast path.
            if plan.target.is_some() {
                run::terminal::detach_foreign_terminal()?;
            }
            startup.restore();
            Err(run::exec::exec(&plan.command))
        }
        parse::Mode::Supervise => {
            // Signals are blocked before anything changes so none that arrive
            // during start-up is lost: they are forwarded once the child exists.
            // Credentials change in the child (see run::supervise): the
            // supervisor keeps a uid the command cannot signal or ptrace.
            let saved = run::supervise::prepare(&plan, startup)?;
            run::supervise::run(&plan, &host, saved)
        }
    }
}

/// Prints an error once, the way every lockdrop error looks (several
/// failed checks: each on its own `lockdrop: error:` line).
pub fn report(e: &error::Error) {
    for m in e.messages() {
        msg::error(&m);
    }
}
