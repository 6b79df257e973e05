//! Writing results: stdout, or a file replaced atomically.

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context};
use py2nix_nix::GENERATED_MARKER;

use crate::report::{Classify, Failure};

/// Prints `text` on stdout; a closed pipe is not an error.
pub fn print(text: &str) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Err(Failure::BrokenPipe),
        Err(error) => Err(Failure::Unexpected(
            anyhow::Error::new(error).context("failed to write to stdout"),
        )),
    }
}

/// How to recognise a file py2nix wrote.
#[derive(Debug, Clone, Copy)]
pub enum Generated {
    /// A Nix file whose first line is the `@generated` marker.
    NixMarker,
    /// A JSON plan whose `generator` names py2nix.
    JsonPlan,
}

/// Replaces `path` with `text` atomically (a temporary file in the same directory, renamed),
/// refusing to overwrite an existing file that py2nix did not generate.
pub fn write_file(path: &Path, text: &str, generated: Generated) -> Result<(), Failure> {
    check_overwritable(path, generated).input()?;
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut temp = tempfile::Builder::new()
        .prefix(".py2nix-")
        .tempfile_in(dir)
        .with_context(|| format!("failed to create a temporary file in `{}`", dir.display()))
        .unexpected()?;
    // A temporary file is private (0600); the result gets the mode of the file it replaces,
    // else the usual 0644.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map(|m| m.permissions().mode() & 0o7777)
            .unwrap_or(0o644);
        temp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .with_context(|| format!("failed to write `{}`", path.display()))
            .unexpected()?;
    }
    temp.write_all(text.as_bytes())
        .and_then(|()| temp.as_file().sync_all())
        .with_context(|| format!("failed to write `{}`", path.display()))
        .unexpected()?;
    temp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("failed to write `{}`", path.display()))
        .unexpected()?;
    Ok(())
}

fn check_overwritable(path: &Path, generated: Generated) -> anyhow::Result<()> {
    let existing = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(error) => {
            return Err(error).with_context(|| format!("failed to read `{}`", path.display()))
        }
    };
    let ours = match generated {
        Generated::NixMarker => existing
            .split(|&b| b == b'\n')
            .next()
            .unwrap_or_default()
            .starts_with(GENERATED_MARKER.as_bytes()),
        Generated::JsonPlan => serde_json::from_slice::<serde_json::Value>(&existing)
            .ok()
            .and_then(|plan| {
                plan.get("generator")?
                    .as_str()
                    .map(|g| g.starts_with("py2nix"))
            })
            .unwrap_or(false),
    };
    if !ours {
        let expected = match generated {
            Generated::NixMarker => format!("its first line is not `{GENERATED_MARKER} ...`"),
            Generated::JsonPlan => "it is not a JSON plan made by py2nix".to_string(),
        };
        bail!("refusing to overwrite `{}`: {expected}, so py2nix did not write it; move it away or choose another file", path.display());
    }
    Ok(())
}
