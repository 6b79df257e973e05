//! Writing results: stdout, or a file replaced atomically.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

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

/// The temporary files being written now: removed by the signal thread before the process
/// ends on SIGINT, SIGTERM or SIGHUP. (SIGKILL cannot be caught: a `.py2nix-XXXXXX` file may
/// then stay behind; docs/security.md says so.)
static TEMPORARY_FILES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Installs the handlers for SIGINT, SIGTERM and SIGHUP: a thread that, on the first of
/// them, removes the temporary files [`write_file`] is writing and then ends the process as
/// the signal would have. Without them, a run stopped while writing a large python.nix left
/// its temporary file (tens of megabytes) beside the output.
pub fn remove_temporary_files_on_signals() {
    #[cfg(unix)]
    {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
            return;
        };
        std::thread::spawn(move || {
            if let Some(signal) = signals.forever().next() {
                // Waits for a rename in progress, so the output is the old file or the new one.
                let files = TEMPORARY_FILES
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                for file in files.iter() {
                    let _ = std::fs::remove_file(file);
                }
                // git runs in its own process groups, which the signal did not reach.
                py2nix_source::stop_running_git();
                let _ = signal_hook::low_level::emulate_default_handler(signal);
                std::process::exit(128 + signal);
            }
        });
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
    // Created and listed under the lock, so that a signal never finds it unlisted.
    let mut listed = TEMPORARY_FILES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let temp = tempfile::Builder::new()
        .prefix(".py2nix-")
        .tempfile_in(dir)
        .with_context(|| format!("failed to create a temporary file in `{}`", dir.display()))
        .unexpected()?;
    let temp_path = temp.path().to_path_buf();
    listed.push(temp_path.clone());
    drop(listed);
    let result = write_temporary(temp, path, text);
    TEMPORARY_FILES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .retain(|file| file != &temp_path);
    result
}

/// Fills `temp` with `text` and renames it over `path` (holding the list of temporary files,
/// so that a signal waits for the rename).
fn write_temporary(
    mut temp: tempfile::NamedTempFile,
    path: &Path,
    text: &str,
) -> Result<(), Failure> {
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
    let _renaming = TEMPORARY_FILES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
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
