//! The layers of options: built-in defaults < profile < YAML file <
//! environment < flags, written down once here. The YAML file itself is
//! parsed behind the `yaml` feature.
use crate::cli::Options;
use crate::error::{Error, Result};
use crate::profiles;

/// Merges the layers. `env` and `flags` are already parsed.
pub fn layered(env: Options, flags: Options) -> Result<Options> {
    let top = env.overlay(flags);
    let file = match &top.config {
        Some(path) => load(path)?,
        None => Options::default(),
    };
    let profile_name = top.profile.clone().or_else(|| file.profile.clone());
    let base = match profile_name.as_deref() {
        None | Some("list") => Options::default(),
        Some(n) => profiles::find(n)
            .ok_or_else(|| {
                Error::Usage(format!(
                    "unknown profile {:?}: use one of {} (lockdrop --profile list)",
                    n,
                    profiles::PROFILES
                        .iter()
                        .map(|p| p.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?
            .options(),
    };
    Ok(base.overlay(file).overlay(top))
}

#[cfg(not(feature = "yaml"))]
fn load(path: &str) -> Result<Options> {
    Err(Error::Usage(format!(
        "--config {}: this lockdrop was built without YAML support (feature \"yaml\")",
        path
    )))
}

#[cfg(feature = "yaml")]
fn load(path: &str) -> Result<Options> {
    let _ = path;
    Err(Error::Usage("config files: not yet".into()))
}
