//! Stale locks: reads the pyproject.toml files a lock was made from (the one beside it, and
//! every uv workspace member's) and asks `py2nix-lock` whether the lock still records what they
//! declare. `lock` refuses a stale lock unless `--frozen`; `check` reports one.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context};
use py2nix_lock::{LockFormat, LockFreshness, MemberPyproject};

use crate::report::{Classify, Failure, Hint, Reporter};

/// Every pyproject.toml of the workspace whose root is `dir`: `(path relative to dir, file)`,
/// the root's first (`.`), then the members `[tool.uv.workspace] members` names (globs with
/// `*`, `?` and `**`, minus `exclude`), in path order. Only the root when it declares no
/// workspace or has no pyproject.toml.
pub fn uv_workspace_pyprojects(dir: &Path) -> anyhow::Result<Vec<(String, PathBuf)>> {
    let root = dir.join("pyproject.toml");
    if !root.is_file() {
        return Ok(Vec::new());
    }
    let text = read_text(&root)?;
    let (members, exclude) = py2nix_lock::uv_workspace_globs(&text)
        .with_context(|| format!("failed to parse `{}`", root.display()))?;
    let mut found = Vec::new();
    for pattern in &members {
        expand_glob(dir, "", &split_glob(pattern), &mut found)?;
    }
    found.retain(|path: &String| {
        path != "."
            && !exclude
                .iter()
                .any(|pattern| glob_matches(&split_glob(pattern), &split_glob(path)))
            && dir.join(path).join("pyproject.toml").is_file()
    });
    found.sort();
    found.dedup();
    let mut out = vec![(".".to_string(), root)];
    out.extend(found.into_iter().map(|path| {
        let file = dir.join(&path).join("pyproject.toml");
        (path, file)
    }));
    Ok(out)
}

/// The pyproject.toml files a lock of `format` in `dir` was made from: every uv workspace
/// member's for uv.lock, else the one beside the lock (when there is one).
pub fn project_pyprojects(format: LockFormat, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if format == LockFormat::Uv {
        return Ok(uv_workspace_pyprojects(dir)?
            .into_iter()
            .map(|(_, file)| file)
            .collect());
    }
    let pyproject = dir.join("pyproject.toml");
    Ok(if pyproject.is_file() {
        vec![pyproject]
    } else {
        Vec::new()
    })
}

fn split_glob(pattern: &str) -> Vec<&str> {
    pattern
        .split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .collect()
}

/// The directories under `dir` matching the remaining glob segments, relative to `dir`.
fn expand_glob(
    dir: &Path,
    prefix: &str,
    segments: &[&str],
    out: &mut Vec<String>,
) -> anyhow::Result<()> {
    let here = |name: &str| {
        if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}/{name}")
        }
    };
    let Some((first, rest)) = segments.split_first() else {
        if !prefix.is_empty() {
            out.push(prefix.to_string());
        }
        return Ok(());
    };
    let current = dir.join(prefix);
    if *first == "**" {
        expand_glob(dir, prefix, rest, out)?;
    }
    if !first.contains(['*', '?', '[']) {
        if current.join(first).is_dir() {
            expand_glob(dir, &here(first), rest, out)?;
        }
        return Ok(());
    }
    let Ok(entries) = std::fs::read_dir(&current) else {
        return Ok(());
    };
    let mut names: Vec<String> = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("failed to read `{}`", current.display()))?;
        if entry.path().is_dir() {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    names.sort();
    for name in names {
        if name.starts_with('.') {
            continue;
        }
        if *first == "**" {
            expand_glob(dir, &here(&name), segments, out)?;
        } else if segment_matches(first, &name) {
            expand_glob(dir, &here(&name), rest, out)?;
        }
    }
    Ok(())
}

fn glob_matches(pattern: &[&str], path: &[&str]) -> bool {
    match (pattern.split_first(), path.split_first()) {
        (None, None) => true,
        (Some((&"**", rest)), _) => {
            glob_matches(rest, path) || (!path.is_empty() && glob_matches(pattern, &path[1..]))
        }
        (Some((first, rest)), Some((name, names))) => {
            segment_matches(first, name) && glob_matches(rest, names)
        }
        _ => false,
    }
}

/// `*` and `?` within one path segment.
fn segment_matches(pattern: &str, name: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let name: Vec<char> = name.chars().collect();
    fn go(p: &[char], n: &[char]) -> bool {
        match (p.first(), n.first()) {
            (None, None) => true,
            (Some('*'), _) => go(&p[1..], n) || (!n.is_empty() && go(p, &n[1..])),
            (Some('?'), Some(_)) => go(&p[1..], &n[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &n[1..]),
            _ => false,
        }
    }
    go(&pattern, &name)
}

fn read_text(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("failed to read `{}`", path.display()))
}

/// Whether the lock at `lock_path` (of `format`, with its project in `dir`) still records what
/// the project's pyproject.toml files declare.
pub fn lock_freshness(
    format: LockFormat,
    lock_path: &Path,
    dir: &Path,
) -> anyhow::Result<LockFreshness> {
    let pyproject = dir.join("pyproject.toml");
    let context = || {
        format!(
            "failed to compare `{}` with `{}`",
            lock_path.display(),
            pyproject.display()
        )
    };
    match format {
        LockFormat::Pylock | LockFormat::Requirements => Ok(LockFreshness::Unchecked(format!(
            "a {} records nothing to compare with pyproject.toml",
            format.file_name()
        ))),
        LockFormat::Poetry | LockFormat::Pdm => {
            if !pyproject.is_file() {
                return Ok(LockFreshness::Unchecked(
                    "there is no pyproject.toml beside it".to_string(),
                ));
            }
            let lock = read_text(lock_path)?;
            let project = read_text(&pyproject)?;
            let freshness = if format == LockFormat::Poetry {
                py2nix_lock::poetry_lock_freshness(&lock, &project)
            } else {
                py2nix_lock::pdm_lock_freshness(&lock, &project)
            };
            freshness.with_context(context)
        }
        LockFormat::Uv => {
            let files = uv_workspace_pyprojects(dir)?;
            if files.is_empty() {
                return Ok(LockFreshness::Unchecked(
                    "there is no pyproject.toml beside it".to_string(),
                ));
            }
            let texts: Vec<(String, String)> = files
                .iter()
                .map(|(path, file)| Ok((path.clone(), read_text(file)?)))
                .collect::<anyhow::Result<_>>()?;
            let members: Vec<MemberPyproject> = texts
                .iter()
                .map(|(path, text)| MemberPyproject { path, text })
                .collect();
            let lock = read_text(lock_path)?;
            py2nix_lock::uv_lock_freshness(&lock, &members).with_context(context)
        }
    }
}

/// The message of a stale lock: which lock, what differs (one line each).
pub fn stale_message(lock_path: &Path, differences: &[String]) -> String {
    let mut message = format!(
        "`{}` is out of date with the project's pyproject.toml:",
        lock_path.display()
    );
    for difference in differences {
        message.push_str("\n  - ");
        message.push_str(difference);
    }
    message
}

/// `lock`'s test: a stale lock is an input error naming what differs, with a hint to lock again
/// (or to use the lock as it is with `--frozen`, which skips the test).
#[allow(clippy::result_large_err)]
pub fn refuse_stale_lock(
    format: LockFormat,
    lock_path: &Path,
    dir: &Path,
    frozen: bool,
    reporter: &Reporter,
) -> Result<(), Failure> {
    if frozen {
        reporter.explain(&format!(
            "--frozen: {} is used without comparing it with pyproject.toml",
            lock_path.display()
        ));
        return Ok(());
    }
    match lock_freshness(format, lock_path, dir).input()? {
        LockFreshness::Current => {
            reporter.explain(&format!(
                "{} is current with pyproject.toml",
                lock_path.display()
            ));
            Ok(())
        }
        LockFreshness::Unchecked(reason) => {
            reporter.explain(&format!(
                "{} is not compared with pyproject.toml: {reason}",
                lock_path.display()
            ));
            Ok(())
        }
        LockFreshness::Stale(staleness) => {
            let lock_dir = lock_path
                .parent()
                .filter(|p| !p.as_os_str().is_empty() && *p != Path::new("."))
                .map(|p| format!("cd {} && ", p.display()))
                .unwrap_or_default();
            Err(Failure::Input(anyhow!(stale_message(
                lock_path,
                &staleness.differences
            ))))
            .hint(format!(
                "lock again with `{lock_dir}{}`, or plan the lock as it is with `--frozen`",
                staleness.relock
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_segments() {
        assert!(segment_matches("*", "app"));
        assert!(segment_matches("a?p", "app"));
        assert!(!segment_matches("b*", "app"));
        assert!(glob_matches(
            &split_glob("packages/**"),
            &split_glob("packages/a/b")
        ));
        assert!(glob_matches(
            &split_glob("./packages/*"),
            &split_glob("packages/x")
        ));
        assert!(!glob_matches(
            &split_glob("packages/*"),
            &split_glob("packages/x/y")
        ));
    }

    #[test]
    fn the_workspace_fixture_has_three_pyprojects() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/uv/workspace");
        let found: Vec<String> = uv_workspace_pyprojects(&dir)
            .unwrap()
            .into_iter()
            .map(|(path, _)| path)
            .collect();
        assert_eq!(found, [".", "packages/app", "packages/lib"]);
    }
}
