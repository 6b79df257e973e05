//! Dependencies for locks that record none (pylock.toml without `dependencies`,
//! requirements files): read from each package's core metadata.
//!
//! For a package from an index or a URL, one file of the locked version is read, preferring a
//! pure wheel (every wheel of a version carries the same `Requires-Dist` in practice, and a pure
//! one is small), then the wheel the lock says is smallest, then any wheel, then the sdist.
//! The index client gets the metadata as cheaply as the index allows (a PEP 658 file, a few
//! HTTP range requests into the wheel, or the whole file). A local archive is read from disk,
//! a local directory's `pyproject.toml` gives its static `[project] dependencies`. An sdist's
//! `PKG-INFO` counts only when it is final (Metadata-Version 2.2 and `Requires-Dist` not
//! dynamic); otherwise, as for a git source, the package is planned without dependencies and
//! a warning says so.

use std::path::Path;
use std::str::FromStr;

use anyhow::anyhow;
use py2nix_index::MetadataRequest;
use py2nix_lock::{
    Dependency, Lock, LockedFile, LockedPackage, MarkerTree, PackageSource, PathKind,
};
use py2nix_source::CoreMetadata;

use crate::network::{Errors, Network};
use crate::report::{Failure, Reporter};
use crate::sources::{Indexes, Pages};

/// Fills `dependencies` (and marks them known) for every package of `lock` that lacks them.
pub fn derive_dependencies(
    lock: &mut Lock,
    indexes: &Indexes,
    pages: &Pages,
    network: &Network,
    lock_dir: &Path,
    reporter: &Reporter,
) -> Result<(), Failure> {
    let mut requests = Vec::new();
    let mut requesters = Vec::new();
    let mut problems = Vec::new();
    for (position, package) in lock.packages.iter_mut().enumerate() {
        if package.dependencies_known {
            continue;
        }
        match &package.source {
            PackageSource::Path { path, kind, .. } => {
                let local =
                    local_metadata(package, &lock_dir.join(path), *kind, network.max_download());
                match local {
                    Ok(Some(deps)) => set_dependencies(package, deps),
                    Ok(None) => warn_unknown(
                        reporter,
                        package,
                        "its local source has no static dependency list",
                    ),
                    Err(error) => problems.push(format!("`{}`: {error:#}", package.name)),
                }
            }
            PackageSource::Git(_) | PackageSource::Unsupported { .. } => {
                warn_unknown(reporter, package, "a lock without dependencies names a git source, which py2nix does not read for metadata");
                package.dependencies_known = true;
            }
            _ => match metadata_request(package, indexes, pages) {
                Some(request) => {
                    requests.push(request);
                    requesters.push(position);
                }
                None => problems.push(format!(
                    "`{}` {}: no file to read its dependencies from",
                    package.name, package.version
                )),
            },
        }
    }
    if !problems.is_empty() {
        return Err(Failure::Input(anyhow!(problems.join("\n"))));
    }
    if requests.is_empty() {
        return Ok(());
    }
    reporter.explain(&format!(
        "reading the core metadata of {} packages (the lock records no dependencies)",
        requests.len()
    ));
    let results = network.core_metadata(&requests);
    let mut errors = Errors::default();
    let mut bad = Vec::new();
    for (position, result) in requesters.into_iter().zip(results) {
        let package = &mut lock.packages[position];
        let fetched = match result {
            Ok(fetched) => fetched,
            Err(error) => {
                errors.push(error);
                continue;
            }
        };
        let sdist = py2nix_source::SdistMetadata {
            pkg_info: fetched.metadata,
            requirements: fetched.requirements,
        };
        match sdist_dependencies(&sdist) {
            Ok(Some(deps)) => set_dependencies(package, deps),
            Ok(None) => warn_unknown(
                reporter,
                package,
                "its sdist's metadata leaves Requires-Dist to the build",
            ),
            Err(error) => bad.push(format!(
                "`{}` {}: its core metadata cannot be read: {error}",
                package.name, package.version
            )),
        }
    }
    errors.finish()?;
    if !bad.is_empty() {
        return Err(Failure::Input(anyhow!(bad.join("\n"))));
    }
    Ok(())
}

fn warn_unknown(reporter: &Reporter, package: &mut LockedPackage, why: &str) {
    reporter.warn(&format!(
        "{} {}: dependencies unknown ({why}); planned without them",
        package.name, package.version
    ));
    package.dependencies_known = true;
}

fn set_dependencies(package: &mut LockedPackage, deps: Vec<Dependency>) {
    package.dependencies = deps
        .into_iter()
        .filter(|d| d.name != package.name)
        .collect();
    package.dependencies_known = true;
}

/// `Requires-Dist` as dependency edges (their `extra == "…"` markers keep extras working).
fn dependencies_of(metadata: &CoreMetadata) -> Result<Vec<Dependency>, String> {
    metadata
        .requires_dist
        .iter()
        .map(|text| py2nix_lock::pep508_dependency(text))
        .collect()
}

/// The file to read a package's metadata from, as a request to the index client.
fn metadata_request(
    package: &LockedPackage,
    indexes: &Indexes,
    pages: &Pages,
) -> Option<MetadataRequest> {
    let rank = |file: &LockedFile| -> (u8, u64) {
        let name = &file.filename;
        let kind = if name.ends_with("-none-any.whl") {
            0
        } else if name.ends_with(".whl") {
            1
        } else {
            2
        };
        (kind, file.size.unwrap_or(u64::MAX))
    };
    let own: Vec<&LockedFile> = package
        .files
        .iter()
        .filter(|f| {
            py2nix_plan::file_is_version(&f.filename, package.name.as_ref(), &package.version)
                || matches!(package.source, PackageSource::Url { .. })
        })
        .collect();
    let mut files = own;
    files.sort_by_key(|f| rank(f));
    if let PackageSource::Url { url, .. } = &package.source {
        let file = files.first()?;
        return Some(MetadataRequest {
            url: url.clone(),
            filename: file.filename.clone(),
            index_name: String::new(),
            index_url: String::new(),
            expected_sha256: sha256_of(file),
            core_metadata: None,
            size: file.size,
        });
    }
    for file in files {
        for index in indexes.candidates(package) {
            let Some(page) = pages.get(&(index.url.clone(), package.name.to_string())) else {
                continue;
            };
            if let Some(listed) = crate::sources::listed_file(page, package, file) {
                return Some(MetadataRequest {
                    url: listed.url.clone(),
                    filename: file.filename.clone(),
                    index_name: index.name.clone(),
                    index_url: index.url.clone(),
                    expected_sha256: sha256_of(file).or_else(|| listed.sha256.clone()),
                    core_metadata: listed.core_metadata.clone(),
                    size: file.size,
                });
            }
        }
    }
    None
}

fn sha256_of(file: &LockedFile) -> Option<String> {
    file.hash
        .as_ref()
        .filter(|h| h.algorithm == "sha256")
        .map(|h| h.hex.clone())
}

/// Dependencies of a local archive (its metadata) or directory (its pyproject.toml's static
/// `[project]` dependencies, with each extra's as `extra == "…"` edges).
fn local_metadata(
    package: &LockedPackage,
    path: &Path,
    kind: PathKind,
    max_size: u64,
) -> anyhow::Result<Option<Vec<Dependency>>> {
    match kind {
        PathKind::Archive => {
            let bytes = py2nix_index::read_local_file(path, max_size, "--max-download-size")
                .map_err(|e| anyhow!(e))?;
            let filename = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if py2nix_dist::is_wheel(&filename) {
                let metadata = py2nix_source::wheel_metadata(&bytes, &filename)?;
                dependencies_of(&metadata).map(Some).map_err(|e| anyhow!(e))
            } else {
                let metadata = py2nix_source::sdist_metadata(&bytes, &filename)?;
                sdist_dependencies(&metadata).map_err(|e| anyhow!(e))
            }
        }
        // Only uv.lock names find-links directories, and it records the dependencies.
        PathKind::FindLinks => Ok(None),
        PathKind::Directory => {
            let pyproject = path.join("pyproject.toml");
            let Ok(text) = std::fs::read_to_string(&pyproject) else {
                return Ok(None);
            };
            if is_dynamic_dependencies(&text) {
                return Ok(None);
            }
            let project = py2nix_lock::parse_pyproject(&text)
                .map_err(|e| anyhow!("failed to parse `{}`: {e}", pyproject.display()))?;
            let _ = &package.name;
            let mut deps = project.dependencies;
            for (extra, extra_deps) in project.extras {
                let marker = extra_marker(extra.as_ref()).map_err(|e| anyhow!(e))?;
                for mut dep in extra_deps {
                    dep.marker.and(marker.clone());
                    deps.push(dep);
                }
            }
            Ok(Some(deps))
        }
    }
}

/// An sdist's dependencies when it states them without a build: its final `PKG-INFO`, or its
/// pyproject.toml's static `[project]` table (extras as `extra == "…"` edges).
pub fn sdist_dependencies(
    metadata: &py2nix_source::SdistMetadata,
) -> Result<Option<Vec<Dependency>>, String> {
    match &metadata.requirements {
        py2nix_source::SdistRequirements::PkgInfo => dependencies_of(&metadata.pkg_info).map(Some),
        py2nix_source::SdistRequirements::Pyproject(requirements) => {
            let mut deps = requirements
                .dependencies
                .iter()
                .map(|r| py2nix_lock::pep508_dependency(r))
                .collect::<Result<Vec<_>, _>>()?;
            for (extra, texts) in requirements.optional_dependencies.iter().flatten() {
                let marker = extra_marker(extra)?;
                for text in texts {
                    let mut dep = py2nix_lock::pep508_dependency(text)?;
                    dep.marker.and(marker.clone());
                    deps.push(dep);
                }
            }
            Ok(Some(deps))
        }
        py2nix_source::SdistRequirements::Unknown { .. } => Ok(None),
    }
}

/// `extra == "<name>"` for an extra named by untrusted metadata: the name is checked as an
/// extra name first, so no text of it can change the marker's shape.
fn extra_marker(extra: &str) -> Result<MarkerTree, String> {
    let name = py2nix_lock::ExtraName::from_str(extra.trim())
        .map_err(|e| format!("invalid extra name `{extra}`: {e}"))?;
    MarkerTree::from_str(&format!("extra == '{name}'")).map_err(|e| format!("extra `{name}`: {e}"))
}

fn is_dynamic_dependencies(pyproject: &str) -> bool {
    toml::from_str::<toml::Value>(pyproject)
        .ok()
        .and_then(|v| v.get("project")?.get("dynamic")?.as_array().cloned())
        .is_some_and(|dynamic| dynamic.iter().any(|d| d.as_str() == Some("dependencies")))
}
