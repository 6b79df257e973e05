//! uv's locker settings for a uv.lock: `[tool.uv]` of the workspace root's and members'
//! pyproject.toml files merged (`py2nix_lock::UvSettings::merge_member`), with what uv.lock
//! records of them (`conflicts`, `supported-markers`, `required-markers`) winning, since the
//! lock was resolved with those. Also turns packages of `find-links` pages (URLs) into
//! direct-URL packages: their files carry their own URLs and are not on an index's Simple API.

use std::path::Path;

use anyhow::Context;
use py2nix_lock::{Lock, LockFormat, PackageSource, Project, UvSettings};

/// Fills `project.uv` for a uv.lock in `dir`; other formats keep the default (no settings).
pub fn gather(
    format: LockFormat,
    dir: &Path,
    lock: &mut Lock,
    project: &mut Project,
) -> anyhow::Result<()> {
    if format != LockFormat::Uv {
        return Ok(());
    }
    let mut settings = UvSettings::default();
    for (index, (relative, file)) in crate::freshness::uv_workspace_pyprojects(dir)?
        .into_iter()
        .enumerate()
    {
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("failed to read `{}`", file.display()))?;
        let read = py2nix_lock::parse_uv_settings(&text)
            .with_context(|| format!("failed to parse `{}`", file.display()))?;
        if index == 0 {
            settings = read;
        } else {
            let member = Path::new(&relative).join("pyproject.toml");
            // Environments are the root's alone, as in uv.
            let read = UvSettings {
                environments: Vec::new(),
                environments_text: Vec::new(),
                required_environments: Vec::new(),
                ..read
            };
            settings.merge_member(read, &member.display().to_string())?;
        }
    }
    let recorded = std::mem::take(&mut project.uv);
    if !recorded.conflicts.is_empty() {
        settings.conflicts = recorded.conflicts;
    }
    if !recorded.environments.is_empty() {
        settings.environments = recorded.environments;
        settings.environments_text = recorded.environments_text;
    }
    if !recorded.required_environments.is_empty() {
        settings.required_environments = recorded.required_environments;
    }
    for package in &mut lock.packages {
        let PackageSource::Index { url, .. } = &package.source else {
            continue;
        };
        let on_page = settings
            .find_links
            .iter()
            .any(|link| link.trim_end_matches('/') == url.trim_end_matches('/'));
        if on_page && package.files.iter().all(|f| f.url.is_some()) {
            package.source = PackageSource::Url {
                url: url.clone(),
                subdirectory: None,
            };
        }
    }
    project.uv = settings;
    Ok(())
}
