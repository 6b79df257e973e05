//! `py2nix check`: is python.nix (or a JSON plan) still what `lock` would make from the
//! project as it is now? Compares the file's `inputs` record with the files on disk, the
//! built-in override database, this py2nix's version and (when given) the options, and (unless
//! `--frozen`) whether the lock is still current with pyproject.toml. A pyproject.toml counts
//! by the parts that change a plan only. Never plans, never uses the network.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context};

use py2nix_plan::Plan;

use crate::cli::{CheckArgs, CheckFormat};
use crate::inputs::{self, Inputs};
use crate::output;
use crate::report::{Classify, Failure, Hint, Reporter};

/// The verdict.
struct Verdict {
    file: PathBuf,
    reasons: Vec<String>,
    inputs: Option<Inputs>,
}

pub fn run(args: CheckArgs, reporter: &Reporter) -> Result<(), Failure> {
    let file = args
        .file
        .clone()
        .unwrap_or_else(|| args.project_dir.join("python.nix"));
    let plan = read_generated(&file)?;
    let verdict = judge(&file, &plan, &args).input()?;
    let current = verdict.reasons.is_empty();
    let text = match args.format {
        CheckFormat::Text => {
            if current {
                let inputs = verdict.inputs.as_ref();
                let files: Vec<&str> = inputs
                    .map(|i| {
                        let all: std::collections::BTreeSet<&str> = i
                            .files
                            .keys()
                            .chain(i.pyprojects.keys())
                            .map(String::as_str)
                            .collect();
                        all.into_iter().collect()
                    })
                    .unwrap_or_default();
                format!(
                    "current: {} matches {} and py2nix {}\n",
                    verdict.file.display(),
                    files.join(", "),
                    env!("CARGO_PKG_VERSION")
                )
            } else {
                format!("stale: {}\n", verdict.reasons.join("; "))
            }
        }
        CheckFormat::Json => {
            let value = serde_json::json!({
                "status": if current { "current" } else { "stale" },
                "file": verdict.file.display().to_string(),
                "reasons": verdict.reasons,
                "py2nix": env!("CARGO_PKG_VERSION"),
                "recorded": verdict.inputs,
            });
            let mut text = serde_json::to_string_pretty(&value)
                .context("failed to serialise the answer")
                .unexpected()?;
            text.push('\n');
            text
        }
    };
    output::print(&text)?;
    if current {
        Ok(())
    } else {
        if let Some(recorded) = &verdict.inputs {
            reporter.hint(&format!(
                "regenerate it with `{}`",
                lock_command(&file, recorded)
            ));
        }
        Err(Failure::Answered)
    }
}

/// The plan in a python.nix or JSON plan that py2nix generated.
fn read_generated(file: &Path) -> Result<Plan, Failure> {
    let text = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(Failure::Input(anyhow!(
                "`{}` does not exist, so there is nothing to check",
                file.display()
            )))
            .hint(format!(
                "make it with `py2nix lock -o {}`, or name the file with --file",
                file.display()
            ));
        }
        Err(error) => {
            return Err(error)
                .with_context(|| format!("failed to read `{}`", file.display()))
                .input()
        }
    };
    crate::commands::diff::plan_from_text(&text)
        .with_context(|| format!("failed to read `{}`", file.display()))
        .input()?
        .ok_or_else(|| {
            anyhow!(
                "`{}` is neither a python.nix nor a JSON plan made by py2nix",
                file.display()
            )
        })
        .input()
}

fn judge(file: &Path, plan: &Plan, args: &CheckArgs) -> anyhow::Result<Verdict> {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| file.display().to_string());
    let generator = &plan.generator;
    let Some(recorded) = plan.inputs.clone() else {
        return Ok(Verdict {
            file: file.to_path_buf(),
            reasons: vec![format!(
                "{name} records no inputs (made by {generator}, before `check` existed), so it cannot be checked"
            )],
            inputs: None,
        });
    };
    let base = inputs::base_dir(Some(file))?;
    let mut reasons = Vec::new();
    let version = env!("CARGO_PKG_VERSION");
    if recorded.py2nix != version {
        reasons.push(format!(
            "made by py2nix {}, this is {version}",
            recorded.py2nix
        ));
    }
    if recorded.overrides != inputs::overrides_digest() {
        reasons.push("the built-in override database changed".to_string());
    }
    if inputs::any_given(&args.select) {
        let asked = inputs::normalised_options(&args.select, &base)?;
        if asked != recorded.options {
            reasons.push(format!(
                "options changed ({name} has {}, asked for {})",
                show_options(&recorded.options),
                show_options(&asked)
            ));
        }
    }
    let mut changed = Vec::new();
    let mut gone = Vec::new();
    for (path, hash) in &recorded.files {
        let full = base.join(path.trim_end_matches('/'));
        let now = if path.ends_with('/') {
            if full.is_dir() {
                Some(inputs::dir_digest(&full)?)
            } else {
                None
            }
        } else {
            match std::fs::read(&full) {
                Ok(bytes) => Some(inputs::sri(&bytes)),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
                Err(error) => {
                    return Err(error)
                        .with_context(|| format!("failed to read `{}`", full.display()))
                }
            }
        };
        match now {
            None => gone.push(path.as_str()),
            Some(now) if &now != hash => changed.push(path.as_str()),
            Some(_) => {}
        }
    }
    for (path, digest) in &recorded.pyprojects {
        let full = base.join(path);
        if !full.is_file() {
            gone.push(path.as_str());
        } else if &inputs::pyproject_digest(&full)? != digest {
            changed.push(path.as_str());
        }
    }
    if !changed.is_empty() {
        reasons.push(format!(
            "{} changed since {name} was made",
            and_list(&changed)
        ));
    }
    if !gone.is_empty() {
        reasons.push(format!(
            "{} no longer exist{}",
            and_list(&gone),
            if gone.len() == 1 { "s" } else { "" }
        ));
    }
    // A lock found (not named) must still be the one lock of its directory, and a
    // pyproject.toml that appeared beside it is new input.
    let lock_path = base.join(&recorded.lock);
    let lock_dir = lock_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| base.clone());
    let named = recorded.options.iter().any(|o| o == "--lock");
    if !named && lock_dir.is_dir() {
        match crate::project::find_lock(&lock_dir, Some(&lock_path)) {
            Ok(found) if found.file_name() != lock_path.file_name() => reasons.push(format!(
                "the project's lock is now {}, not {}",
                found.file_name().unwrap_or_default().to_string_lossy(),
                recorded.lock
            )),
            Ok(_) => {}
            Err(error) => {
                if gone.is_empty() {
                    reasons.push(format!("{error:#}"));
                }
            }
        }
    }
    // So is a pyproject.toml that appeared beside it, or a new uv workspace member's.
    let format = if lock_path.is_file() {
        crate::project::format_of_file(&lock_path)?
    } else {
        py2nix_lock::LockFormat::detect(lock_path.file_name().and_then(|n| n.to_str()), "")
    };
    let mut appeared = Vec::new();
    for pyproject in crate::freshness::project_pyprojects(format, &lock_dir)? {
        let key = inputs::relative_to(&base, &pyproject)?;
        if !recorded.files.contains_key(&key) && !recorded.pyprojects.contains_key(&key) {
            appeared.push(key);
        }
    }
    if !appeared.is_empty() {
        let appeared: Vec<&str> = appeared.iter().map(String::as_str).collect();
        reasons.push(format!(
            "{} appeared since {name} was made",
            and_list(&appeared)
        ));
    }
    // The lock itself may be out of date with pyproject.toml (as `lock` would refuse it).
    if !args.frozen && lock_path.is_file() {
        if let py2nix_lock::LockFreshness::Stale(staleness) =
            crate::freshness::lock_freshness(format, &lock_path, &lock_dir)?
        {
            reasons.push(format!(
                "{} is out of date with pyproject.toml ({}); lock again with `{}`",
                recorded.lock,
                staleness.differences.join("; "),
                staleness.relock
            ));
        }
    }
    Ok(Verdict {
        file: file.to_path_buf(),
        reasons,
        inputs: Some(recorded),
    })
}

/// The `lock` command that makes the file again, run in the file's directory (which the
/// recorded paths are relative to).
fn lock_command(file: &Path, recorded: &Inputs) -> String {
    let mut words = vec!["py2nix".to_string(), "lock".to_string()];
    let named = recorded.options.iter().any(|o| o == "--lock");
    let lock_dir = Path::new(&recorded.lock)
        .parent()
        .filter(|d| !d.as_os_str().is_empty());
    if let (false, Some(dir)) = (named, lock_dir) {
        words.push(shell_word(&dir.to_string_lossy()));
    }
    words.extend(recorded.options.iter().map(|o| shell_word(o)));
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "python.nix".to_string());
    if name.ends_with(".json") {
        words.extend(["--format".to_string(), "json".to_string()]);
    }
    words.extend(["-o".to_string(), shell_word(&name)]);
    match file
        .parent()
        .filter(|d| !d.as_os_str().is_empty() && *d != Path::new("."))
    {
        Some(dir) => format!(
            "cd {} && {}",
            shell_word(&dir.to_string_lossy()),
            words.join(" ")
        ),
        None => words.join(" "),
    }
}

fn show_options(options: &[String]) -> String {
    if options.is_empty() {
        "no options".to_string()
    } else {
        format!("`{}`", options.join(" "))
    }
}

fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// A word as a POSIX shell reads it back: bare when it is plain, else single-quoted.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_words() {
        assert_eq!(and_list(&["a"]), "a");
        assert_eq!(and_list(&["a", "b", "c"]), "a, b and c");
        assert_eq!(shell_word("x86_64-linux"), "x86_64-linux");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
        assert_eq!(shell_word(":all:"), ":all:");
    }
}
