//! `--doctor`: a report of the environment for the person debugging a
//! crash-looping pod. (Stub: being written.)
use crate::error::Result;
use crate::host::Host;

pub fn run(_host: &Host, _json: bool) -> Result<i32> {
    crate::msg::stdout("doctor: not yet\n");
    Ok(0)
}
