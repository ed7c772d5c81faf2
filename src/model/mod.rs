//! The pure vocabulary every stage speaks: users and groups, resource
//! limits, capabilities, signals and durations, kernel-tunable
//! requirements, the command. Parsing and formatting only: nothing here
//! reads the host or changes the process.
pub mod caps;
pub mod command;
pub mod rlimits;
pub mod signals;
pub mod sysctl;
pub mod users;
