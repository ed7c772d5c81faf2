//! Signal masks, dispositions, fork, wait and kill for the supervisor.
//! (Stub: being written.)
