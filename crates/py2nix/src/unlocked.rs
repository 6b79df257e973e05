//! Poetry's "unsafe" packages: older Poetry never locks setuptools, pip, distribute or wheel,
//! even when a locked package depends on them (gunicorn 20 on setuptools), and poetry2nix
//! takes them from nixpkgs. py2nix plans each such dependency from the default index instead:
//! the newest version every dependent allows, with all its files and their hashes, said in a
//! warning. Only for poetry.lock, and only for those four names: any other missing package is
//! still a stale lock.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::anyhow;
use py2nix_lock::{
    FileHash, Lock, LockFormat, LockedFile, LockedPackage, PackageName, PackageSource, Project,
    VersionConstraint,
};

use crate::network::{is_input_error, Errors, Network};
use crate::report::{Failure, Reporter};

/// The packages older Poetry leaves out of its lock.
pub const POETRY_UNSAFE: [&str; 4] = ["distribute", "pip", "setuptools", "wheel"];

/// Adds to a poetry.lock the unsafe packages its packages (or the project) depend on but it
/// does not lock, chosen from the index at `index_url` (`index_name` for credentials).
#[allow(clippy::result_large_err)]
pub fn add_poetry_unsafe_packages(
    lock: &mut Lock,
    project: &Project,
    network: &Network,
    index: (&str, &str),
    reporter: &Reporter,
) -> Result<(), Failure> {
    if lock.format != LockFormat::Poetry {
        return Ok(());
    }
    let wanted = missing_unsafe(lock, project);
    if wanted.is_empty() {
        return Ok(());
    }
    let (index_url, index_name) = index;
    let requests: Vec<(String, String, String)> = wanted
        .keys()
        .map(|name| {
            (
                index_url.to_string(),
                index_name.to_string(),
                name.to_string(),
            )
        })
        .collect();
    let results = network.full_pages(&requests);
    network.warn_dropped_links(reporter);
    let mut errors = Errors::default();
    let mut problems = Vec::new();
    let mut offline_miss = false;
    for ((name, wants), result) in wanted.iter().zip(results) {
        let page = match result {
            Ok(page) => page,
            Err(error) if is_input_error(&error) => {
                offline_miss |= crate::network::is_offline_miss(&error);
                problems.push(format!(
                    "`{name}`, which poetry.lock does not lock ({}): {error}",
                    wants_text(wants)
                ));
                continue;
            }
            Err(error) => {
                errors.push(error);
                continue;
            }
        };
        let Some((version, files)) = newest_allowed(name, &page, wants) else {
            problems.push(format!(
                "`{name}`, which poetry.lock does not lock ({}): the index has no version with hashed files that all of them allow; lock again with a newer Poetry",
                wants_text(wants)
            ));
            continue;
        };
        let hashes: Vec<String> = files
            .iter()
            .filter_map(|f| {
                f.hash
                    .as_ref()
                    .map(|h| format!("{} {}:{}", f.filename, h.algorithm, h.hex))
            })
            .collect();
        reporter.warn(&format!(
            "poetry.lock does not lock `{name}` (older Poetry leaves out setuptools, pip, distribute and wheel), needed by {}: planned as {name} {version} from the index, the newest version allowed, with {}",
            wants_text(wants),
            hashes.join(", ")
        ));
        lock.packages.push(LockedPackage {
            name: name.clone(),
            version,
            requires_python: VersionConstraint::any(),
            marker: None,
            files,
            dependencies: Vec::new(),
            extras: BTreeMap::new(),
            source: PackageSource::DefaultIndex,
            dependencies_known: true,
            requested_extras: Vec::new(),
            index_hashes: None,
        });
    }
    errors.finish()?;
    let error = anyhow!(problems.join("\n"));
    match (problems.is_empty(), offline_miss) {
        (true, _) => Ok(()),
        (false, true) => Err(Failure::Input(crate::report::with_hint(
            error,
            crate::network::OFFLINE_HINT,
        ))),
        (false, false) => Err(Failure::Input(error)),
    }
}

/// What wants an unsafe package: `(dependent, constraint)` pairs.
type Wants = BTreeSet<(String, String)>;

/// The unsafe packages the lock's packages or the project depend on and the lock lacks, with
/// who wants them and how (constraints kept as the dependency edges say).
fn missing_unsafe(
    lock: &Lock,
    project: &Project,
) -> BTreeMap<PackageName, (Wants, Vec<VersionConstraint>)> {
    let locked: BTreeSet<&PackageName> = lock.packages.iter().map(|p| &p.name).collect();
    let mut out: BTreeMap<PackageName, (Wants, Vec<VersionConstraint>)> = BTreeMap::new();
    let mut add = |from: String, dependency: &py2nix_lock::Dependency| {
        if POETRY_UNSAFE.contains(&dependency.name.as_ref()) && !locked.contains(&dependency.name) {
            let entry = out.entry(dependency.name.clone()).or_default();
            entry.0.insert((from, dependency.version.to_string()));
            entry.1.push(dependency.version.clone());
        }
    };
    for package in &lock.packages {
        for dependency in &package.dependencies {
            add(format!("{} {}", package.name, package.version), dependency);
        }
    }
    let roots = project
        .dependencies
        .iter()
        .chain(project.groups.values().flatten())
        .chain(project.extras.values().flatten());
    for dependency in roots {
        add("the project".to_string(), dependency);
    }
    out
}

fn wants_text((wants, _): &(Wants, Vec<VersionConstraint>)) -> String {
    wants
        .iter()
        .map(|(from, constraint)| {
            if constraint.is_empty() || constraint == "*" {
                from.clone()
            } else {
                format!("{from} (`{constraint}`)")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The newest version on `page` (final releases before pre-releases) that every constraint
/// allows and that has files with sha256 hashes: its version and those files.
fn newest_allowed(
    name: &PackageName,
    page: &py2nix_index::Page,
    (_, constraints): &(Wants, Vec<VersionConstraint>),
) -> Option<(pep440_rs::Version, Vec<LockedFile>)> {
    let mut by_version: BTreeMap<pep440_rs::Version, Vec<LockedFile>> = BTreeMap::new();
    for file in &page.files {
        let Some(sha256) = &file.sha256 else {
            continue;
        };
        if file.yanked {
            continue;
        }
        let Some(version) = py2nix_dist::filename_version(&file.filename, name.as_ref()) else {
            continue;
        };
        by_version.entry(version).or_default().push(LockedFile {
            filename: file.filename.clone(),
            hash: Some(FileHash {
                algorithm: "sha256".to_string(),
                hex: sha256.clone(),
            }),
            url: None,
            size: None,
        });
    }
    let allowed = |version: &pep440_rs::Version| constraints.iter().all(|c| c.contains(version));
    let pick = |pre: bool| {
        by_version
            .iter()
            .rev()
            .filter(|(version, _)| pre || !version.any_prerelease())
            .find(|(version, _)| allowed(version))
            .map(|(version, files)| (version.clone(), files.clone()))
    };
    pick(false).or_else(|| pick(true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn page(files: &[(&str, bool)]) -> py2nix_index::Page {
        let text = files
            .iter()
            .map(|(name, yanked)| {
                format!(
                    "<a href=\"https://files.example/{name}#sha256={}\"{}>{name}</a>\n",
                    "a".repeat(64),
                    if *yanked { " data-yanked=\"\"" } else { "" }
                )
            })
            .collect::<String>();
        py2nix_index::parse_html(&text, "https://index.example/simple/setuptools/").unwrap()
    }

    #[test]
    fn the_newest_allowed_final_version_with_all_its_files() {
        let name = PackageName::from_str("setuptools").unwrap();
        let page = page(&[
            ("setuptools-44.0.0-py2.py3-none-any.whl", false),
            ("setuptools-44.0.0.zip", false),
            ("setuptools-45.0.0-py3-none-any.whl", false),
            ("setuptools-45.0.0.tar.gz", false),
            ("setuptools-46.0.0b1-py3-none-any.whl", false),
            ("setuptools-47.0.0-py3-none-any.whl", true),
        ]);
        let below_45 = py2nix_lock::parse_poetry_constraint("<45").unwrap();
        let (version, files) =
            newest_allowed(&name, &page, &(Wants::new(), vec![below_45])).unwrap();
        assert_eq!(version.to_string(), "44.0.0");
        assert_eq!(files.len(), 2);
        let any = VersionConstraint::any();
        let (version, files) = newest_allowed(&name, &page, &(Wants::new(), vec![any])).unwrap();
        assert_eq!(version.to_string(), "45.0.0");
        assert_eq!(files[0].filename, "setuptools-45.0.0-py3-none-any.whl");
        let none = py2nix_lock::parse_poetry_constraint(">=100").unwrap();
        assert!(newest_allowed(&name, &page, &(Wants::new(), vec![none])).is_none());
    }
}
