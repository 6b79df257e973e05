//! `pdm.lock`, lock version 4.x.
//!
//! A pdm.lock is a dependency graph ([`InstallSet::Graph`]): the roots come from
//! pyproject.toml, so [`Lock::project`] is `None`.
//!
//! - **Extras.** PDM writes a package requested with extras a second time, as an entry with
//!   `extras = [...]` whose dependencies are the extras' dependencies plus the package itself.
//!   That entry is folded into the plain one: each of its dependencies (but the self-reference)
//!   becomes an edge whose marker is ANDed with `extra == "<one of the extras>"`, and
//!   [`LockedPackage::extras`] lists their names.
//! - **Sources.** `git` (and `hg`, `svn`, `bzr`, which are unsupported), `path` (a directory,
//!   editable when `editable = true`, or an archive) and `url` are direct sources; anything
//!   else comes from an index, which pdm.lock does not name ([`PackageSource::DefaultIndex`];
//!   pyproject.toml's `[[tool.pdm.source]]` says which).
//! - **Files.** `files` holds `{file, hash}`, or `{url, hash}` with the `static_urls` strategy.
//! - **Markers.** With the `inherit_metadata` strategy (PDM's default) each package has the
//!   `marker` under which it is needed; the per-package `groups` are not needed for a graph.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

use pep440_rs::Version;
use pep508_rs::{ExtraName, MarkerTree, PackageName};
use serde::Deserialize;

use crate::model::{
    Dependency, FileHash, GitSource, InstallSet, Lock, LockFormat, LockedFile, LockedPackage,
    PackageSource, PathKind,
};
use crate::pylock::{
    ascii_only, parse_ascii_marker as parse_marker, pep440_constraint, url_basename,
};
use crate::pyproject::pep508_dependency;
use crate::requirements::is_archive_name;
use crate::{LockError, VersionConstraint};

/// The newest minor version of lock version 4 this reader knows (PDM 2.29 writes 4.5.1).
const KNOWN_MINOR: u32 = 5;

/// Read first, alone, so that a future format is refused before its shape can confuse.
#[derive(Deserialize)]
struct VersionWire {
    metadata: MetadataVersionWire,
}

#[derive(Deserialize)]
struct MetadataVersionWire {
    lock_version: String,
}

#[derive(Deserialize)]
struct PdmLockWire {
    #[serde(default)]
    package: Vec<PackageWire>,
}

#[derive(Deserialize)]
struct PackageWire {
    name: String,
    version: Option<String>,
    #[serde(default)]
    extras: Vec<String>,
    requires_python: Option<String>,
    marker: Option<String>,
    #[serde(default)]
    dependencies: Vec<String>,
    #[serde(default)]
    files: Vec<FileWire>,
    #[serde(default)]
    editable: bool,
    subdirectory: Option<String>,
    path: Option<String>,
    url: Option<String>,
    git: Option<String>,
    hg: Option<String>,
    svn: Option<String>,
    bzr: Option<String>,
    #[serde(rename = "ref")]
    reference: Option<String>,
    revision: Option<String>,
}

#[derive(Deserialize)]
struct FileWire {
    file: Option<String>,
    url: Option<String>,
    hash: String,
}

/// Reads a pdm.lock into the model (a dependency graph; roots come from pyproject.toml).
pub fn parse_pdm_lock(text: &str) -> Result<Lock, LockError> {
    let version: VersionWire = toml::from_str(text)?;
    let lock_version = version.metadata.lock_version;
    let mut warnings = Vec::new();
    check_lock_version(&lock_version, &mut warnings)?;
    let wire: PdmLockWire = toml::from_str(text)?;
    let (plain, with_extras): (Vec<&PackageWire>, Vec<&PackageWire>) =
        wire.package.iter().partition(|p| p.extras.is_empty());
    let mut packages: Vec<LockedPackage> = Vec::with_capacity(plain.len());
    let mut index: HashMap<(PackageName, Version), usize> = HashMap::new();
    for package in plain {
        let checked = convert_package(package)?;
        let key = (checked.name.clone(), checked.version.clone());
        if index.insert(key, packages.len()).is_some() {
            return Err(LockError::DuplicatePackage {
                name: checked.name.to_string(),
                version: checked.version.to_string(),
            });
        }
        packages.push(checked);
    }
    for package in with_extras {
        let checked = convert_package(package)?;
        let key = (checked.name.clone(), checked.version.clone());
        let position = match index.get(&key) {
            Some(&position) => position,
            None => {
                // Only the entry with extras exists: it stands for the package itself too.
                let mut base = checked.clone();
                base.dependencies.clear();
                index.insert(key, packages.len());
                packages.push(base);
                packages.len() - 1
            }
        };
        fold_extras(&mut packages[position], package, checked)?;
    }
    Ok(Lock {
        format: LockFormat::Pdm,
        lock_version,
        packages,
        warnings,
        project: None,
        install: InstallSet::Graph,
        indexes: Vec::new(),
    })
}

fn check_lock_version(version: &str, warnings: &mut Vec<String>) -> Result<(), LockError> {
    let mut parts = version.split('.').map(|part| part.parse::<u32>().ok());
    let (Some(Some(major)), minor) = (parts.next(), parts.next()) else {
        return Err(LockError::InvalidVersion(version.to_string()));
    };
    let Some(minor) = minor.unwrap_or(Some(0)) else {
        return Err(LockError::InvalidVersion(version.to_string()));
    };
    if major != 4 {
        return Err(LockError::UnsupportedLockVersion {
            file: "pdm.lock",
            version: version.to_string(),
            supported: "lock_version 4.x",
        });
    }
    if minor > KNOWN_MINOR {
        warnings.push(format!(
            "pdm.lock has lock_version {version}, newer than py2nix knows (4.{KNOWN_MINOR}); reading it as 4.x"
        ));
    }
    Ok(())
}

/// Adds an extras entry's dependencies to the plain package as edges under `extra == ...`.
fn fold_extras(
    base: &mut LockedPackage,
    wire: &PackageWire,
    with_extras: LockedPackage,
) -> Result<(), LockError> {
    let fail = |message: String| {
        LockError::package(format!("{}[{}]", wire.name, wire.extras.join(",")), message)
    };
    let extras = wire
        .extras
        .iter()
        .map(|e| ExtraName::from_str(e).map_err(|err| fail(format!("extra `{e}`: {err}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let mut any_extra = MarkerTree::FALSE;
    for extra in &extras {
        any_extra.or(parse_marker(&format!("extra == \"{extra}\"")).map_err(fail)?);
    }
    for mut dependency in with_extras.dependencies {
        if dependency.name == base.name {
            continue;
        }
        for extra in &extras {
            let names = base.extras.entry(extra.clone()).or_default();
            if !names.contains(&dependency.name) {
                names.push(dependency.name.clone());
            }
        }
        dependency.marker.and(any_extra.clone());
        let known = base.dependencies.iter().any(|d| {
            d.name == dependency.name
                && d.marker == dependency.marker
                && d.version == dependency.version
        });
        if !known {
            base.dependencies.push(dependency);
        }
    }
    Ok(())
}

fn convert_package(wire: &PackageWire) -> Result<LockedPackage, LockError> {
    let fail = |message: String| LockError::package(&wire.name, message);
    let name = PackageName::from_str(&wire.name).map_err(|e| fail(e.to_string()))?;
    let version = match &wire.version {
        Some(text) => {
            Version::from_str(text).map_err(|e| fail(format!("invalid version `{text}`: {e}")))?
        }
        None => Version::new([0]),
    };
    let fail = |message: String| LockError::package(format!("{name} {version}"), message);
    let requires_python = match wire.requires_python.as_deref().map(str::trim) {
        Some(text) if !text.is_empty() => {
            pep440_constraint(text).map_err(|e| fail(format!("requires_python: {e}")))?
        }
        _ => VersionConstraint::any(),
    };
    let marker = wire
        .marker
        .as_deref()
        .map(parse_marker)
        .transpose()
        .map_err(fail)?;
    let dependencies = wire
        .dependencies
        .iter()
        .map(|text| pdm_dependency(text))
        .collect::<Result<_, _>>()
        .map_err(fail)?;
    let mut files = wire
        .files
        .iter()
        .map(convert_file)
        .collect::<Result<Vec<_>, _>>()
        .map_err(fail)?;
    let source = convert_source(wire, &mut files).map_err(fail)?;
    Ok(LockedPackage {
        name,
        version,
        requires_python,
        marker,
        files,
        dependencies,
        extras: BTreeMap::new(),
        source,
        dependencies_known: true,
        requested_extras: Vec::new(),
        index_hashes: None,
    })
}

fn convert_file(wire: &FileWire) -> Result<LockedFile, String> {
    let filename = wire
        .file
        .clone()
        .or_else(|| wire.url.as_deref().map(url_basename))
        .filter(|name| !name.is_empty())
        .ok_or_else(|| {
            format!(
                "a file with hash `{}` has neither `file` nor `url`",
                wire.hash
            )
        })?;
    let hash = FileHash::parse(&wire.hash).map_err(|e| format!("file `{filename}`: {e}"))?;
    Ok(LockedFile {
        filename,
        hash: Some(hash),
        url: wire.url.clone(),
        size: None,
    })
}

/// The package's source; a direct archive's file is added to `files` when the lock lists none.
fn convert_source(
    wire: &PackageWire,
    files: &mut Vec<LockedFile>,
) -> Result<PackageSource, String> {
    let vcs = [
        ("git", &wire.git),
        ("hg", &wire.hg),
        ("svn", &wire.svn),
        ("bzr", &wire.bzr),
    ];
    if let Some((kind, url)) = vcs.iter().find_map(|(k, u)| u.as_ref().map(|u| (*k, u))) {
        if kind != "git" {
            return Ok(PackageSource::Unsupported {
                kind: kind.to_string(),
                url: url.clone(),
            });
        }
        return Ok(PackageSource::Git(GitSource {
            url: url.clone(),
            reference: wire.reference.clone(),
            commit: wire.revision.clone(),
            subdirectory: wire.subdirectory.clone(),
            submodules: false,
        }));
    }
    if let Some(path) = &wire.path {
        let archive = is_archive_name(path);
        if archive && files.is_empty() {
            files.push(LockedFile {
                filename: crate::pylock::path_basename(path),
                hash: None,
                url: None,
                size: None,
            });
        }
        let (path, kind) = match (&wire.subdirectory, archive) {
            (Some(sub), false) => (format!("{}/{sub}", path.trim_end_matches('/')), PathKind::Directory),
            (Some(sub), true) => {
                return Err(format!(
                    "archive `{path}` with subdirectory `{sub}`: a subdirectory inside a local archive is not supported"
                ))
            }
            (None, true) => (path.clone(), PathKind::Archive),
            (None, false) => (path.clone(), PathKind::Directory),
        };
        return Ok(PackageSource::Path {
            path,
            kind,
            editable: wire.editable,
        });
    }
    if let Some(url) = &wire.url {
        if files.is_empty() {
            files.push(LockedFile {
                filename: url_basename(url),
                hash: None,
                url: Some(url.clone()),
                size: None,
            });
        }
        return Ok(PackageSource::Url {
            url: url.clone(),
            subdirectory: wire.subdirectory.clone(),
        });
    }
    Ok(PackageSource::DefaultIndex)
}

/// A dependency string. URL requirements (`name @ file:///${PROJECT_ROOT}/sub`) are split by
/// hand: only their name, extras and marker matter here, and a URL must not be expanded.
fn pdm_dependency(text: &str) -> Result<Dependency, String> {
    let Some((head, tail)) = text.split_once(" @ ").or_else(|| {
        text.split_once('@')
            .filter(|(head, _)| !head.contains([';', '<', '>', '=', '!', '~']))
    }) else {
        ascii_only(text, "requirement")?;
        return pep508_dependency(text);
    };
    let fail = |e: String| format!("invalid requirement `{text}`: {e}");
    let head = head.trim();
    let (name, extras) = match head.split_once('[') {
        Some((name, rest)) => {
            let inner = rest
                .strip_suffix(']')
                .ok_or_else(|| fail("`[` without `]`".into()))?;
            (name.trim(), inner)
        }
        None => (head, ""),
    };
    let name = PackageName::from_str(name).map_err(|e| fail(e.to_string()))?;
    let extras = extras
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|e| ExtraName::from_str(e).map_err(|err| fail(format!("extra `{e}`: {err}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let tail = tail.trim_start();
    let after_url = tail
        .find(char::is_whitespace)
        .map_or("", |i| tail[i..].trim());
    let marker = match after_url.strip_prefix(';') {
        Some(marker) => parse_marker(marker.trim())?,
        None if after_url.is_empty() => MarkerTree::TRUE,
        None => return Err(fail(format!("unexpected `{after_url}` after the URL"))),
    };
    Ok(Dependency {
        name,
        version: VersionConstraint::any(),
        marker,
        python: None,
        extras,
        optional: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = r#"
# This file is @generated by PDM.
[metadata]
groups = ["default", "dev"]
strategy = ["inherit_metadata"]
lock_version = "4.5.1"
content_hash = "sha256:00"

[[metadata.targets]]
requires_python = ">=3.9"

[[package]]
name = "requests"
version = "2.32.5"
requires_python = ">=3.9"
summary = "Python HTTP for Humans."
groups = ["default"]
dependencies = [
    "certifi>=2017.4.17",
    "idna<4,>=2.5",
]
files = [
    {file = "requests-2.32.5-py3-none-any.whl", hash = "sha256:2462f94637a34fd532264295e186976db0f5d453d1cdd31473c85a6a161affb6"},
]

[[package]]
name = "requests"
version = "2.32.5"
extras = ["socks", "use_chardet_on_py3"]
requires_python = ">=3.9"
summary = "Python HTTP for Humans."
groups = ["default"]
dependencies = [
    "PySocks!=1.5.7,>=1.5.6",
    "chardet<6,>=3.0.2; python_version >= \"3.9\"",
    "requests==2.32.5",
]
files = [
    {file = "requests-2.32.5-py3-none-any.whl", hash = "sha256:2462f94637a34fd532264295e186976db0f5d453d1cdd31473c85a6a161affb6"},
]

[[package]]
name = "helper"
version = "0.1.0"
requires_python = ">=3.9"
editable = true
path = "./packages/helper"
summary = ""
groups = ["dev"]
marker = "sys_platform == \"linux\""
dependencies = ["six @ file:///${PROJECT_ROOT}/wheels/six-1.17.0-py2.py3-none-any.whl ; python_version < \"4\""]

[[package]]
name = "six"
version = "1.17.0"
path = "./wheels/six-1.17.0-py2.py3-none-any.whl"
summary = ""
groups = ["dev"]
files = [
    {file = "six-1.17.0-py2.py3-none-any.whl", hash = "sha256:4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274"},
]

[[package]]
name = "gitpkg"
version = "1.0"
git = "https://git.example/gitpkg.git"
ref = "main"
revision = "0123456789abcdef0123456789abcdef01234567"
subdirectory = "py"
summary = ""
groups = ["default"]

[[package]]
name = "remote"
version = "2.0"
url = "https://files.example/remote-2.0.tar.gz"
summary = ""
groups = ["default"]
"#;

    fn find<'l>(lock: &'l Lock, name: &str) -> &'l LockedPackage {
        lock.packages
            .iter()
            .find(|p| p.name.as_ref() == name)
            .unwrap()
    }

    #[test]
    fn reads_packages_sources_and_extras() {
        let lock = parse_pdm_lock(SMALL).unwrap();
        assert_eq!(
            (lock.format, lock.install, lock.lock_version.as_str()),
            (LockFormat::Pdm, InstallSet::Graph, "4.5.1")
        );
        assert!(lock.project.is_none() && lock.warnings.is_empty());
        assert_eq!(lock.packages.len(), 5, "the extras entry is folded in");
        let requests = find(&lock, "requests");
        assert_eq!(requests.source, PackageSource::DefaultIndex);
        assert!(requests.dependencies_known);
        let names: Vec<_> = requests
            .dependencies
            .iter()
            .map(|d| d.name.to_string())
            .collect();
        assert_eq!(names, ["certifi", "idna", "pysocks", "chardet"]);
        let socks = ExtraName::from_str("socks").unwrap();
        let chardet = ExtraName::from_str("use-chardet-on-py3").unwrap();
        assert_eq!(requests.extras[&socks][0].as_ref(), "pysocks");
        assert_eq!(requests.extras[&chardet].len(), 2);
        let pysocks = &requests.dependencies[2];
        assert!(pysocks.marker.evaluate_extras(std::slice::from_ref(&socks)));
        assert!(pysocks
            .marker
            .evaluate_extras(std::slice::from_ref(&chardet)));
        assert!(!pysocks.marker.evaluate_extras(&[]));
        assert!(!pysocks.version.contains(&"1.5.7".parse().unwrap()));
        assert_eq!(requests.files.len(), 1);

        let helper = find(&lock, "helper");
        assert_eq!(
            helper.source,
            PackageSource::Path {
                path: "./packages/helper".into(),
                kind: PathKind::Directory,
                editable: true
            }
        );
        assert!(helper.marker.is_some());
        let six_edge = &helper.dependencies[0];
        assert_eq!(six_edge.name.as_ref(), "six");
        assert!(six_edge.version.is_any() && !six_edge.marker.is_true());
        let six = find(&lock, "six");
        assert_eq!(
            six.source,
            PackageSource::Path {
                path: "./wheels/six-1.17.0-py2.py3-none-any.whl".into(),
                kind: PathKind::Archive,
                editable: false
            }
        );
        assert!(six.files[0].hash.is_some());
        assert_eq!(
            find(&lock, "gitpkg").source,
            PackageSource::Git(GitSource {
                url: "https://git.example/gitpkg.git".into(),
                reference: Some("main".into()),
                commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
                subdirectory: Some("py".into()),
                submodules: false,
            })
        );
        let remote = find(&lock, "remote");
        assert!(
            matches!(&remote.source, PackageSource::Url { url, subdirectory: None } if url.ends_with("remote-2.0.tar.gz"))
        );
        assert_eq!(remote.files[0].filename, "remote-2.0.tar.gz");
        assert!(remote.files[0].hash.is_none());
    }

    #[test]
    fn an_extras_entry_alone_stands_for_the_package() {
        let text = SMALL.replacen("name = \"requests\"", "name = \"other\"", 1);
        let lock = parse_pdm_lock(&text).unwrap();
        let requests = find(&lock, "requests");
        let names: Vec<_> = requests
            .dependencies
            .iter()
            .map(|d| d.name.to_string())
            .collect();
        assert_eq!(names, ["pysocks", "chardet"]);
        assert!(requests.dependencies.iter().all(|d| !d.marker.is_true()));
    }

    #[test]
    fn lock_versions() {
        let with = |v: &str| {
            SMALL.replace(
                "lock_version = \"4.5.1\"",
                &format!("lock_version = \"{v}\""),
            )
        };
        assert_eq!(
            parse_pdm_lock(&with("5.0")).unwrap_err().to_string(),
            "unsupported `pdm.lock` lock-version `5.0`: py2nix reads lock_version 4.x"
        );
        let newer = parse_pdm_lock(&with("4.9.0")).unwrap();
        assert!(
            newer.warnings[0].contains("lock_version 4.9.0"),
            "{:?}",
            newer.warnings
        );
        assert!(parse_pdm_lock(&with("4.2")).unwrap().warnings.is_empty());
        assert_eq!(
            parse_pdm_lock(&with("four")).unwrap_err().to_string(),
            "invalid lock-version `four`"
        );
        assert_eq!(
            parse_pdm_lock(&with("4.x")).unwrap_err().to_string(),
            "invalid lock-version `4.x`"
        );
    }

    #[test]
    fn bad_entries_name_the_package() {
        let check = |from: &str, to: &str, expected: &str| {
            let err = parse_pdm_lock(&SMALL.replacen(from, to, 1))
                .unwrap_err()
                .to_string();
            assert!(err.starts_with(expected), "{err}");
        };
        check(
            "hash = \"sha256:2462",
            "hash = \"sha256:zz62",
            "package `requests 2.32.5`: file `requests-2.32.5-py3-none-any.whl`",
        );
        check(
            "\"idna<4,>=2.5\"",
            "\"idna<<4\"",
            "package `requests 2.32.5`: invalid requirement `idna<<4`",
        );
        check(
            "version = \"1.0\"",
            "version = \"one\"",
            "package `gitpkg`: invalid version `one`",
        );
        check(
            "marker = \"sys_platform == \\\"linux\\\"\"",
            "marker = \"sys_platform ==\"",
            "package `helper 0.1.0`: invalid marker `sys_platform ==`",
        );
        check(
            "extras = [\"socks\",",
            "extras = [\"so cks\",",
            "package `requests[so cks,use_chardet_on_py3]`: extra `so cks`",
        );
        check(
            "{file = \"six-1.17.0-py2.py3-none-any.whl\", ",
            "{",
            "package `six 1.17.0`: a file with hash",
        );
        let doubled = format!("{SMALL}\n[[package]]\nname = \"Remote\"\nversion = \"2.0\"\n");
        assert_eq!(
            parse_pdm_lock(&doubled).unwrap_err().to_string(),
            "package `remote` 2.0 appears twice in the lock"
        );
        let err = parse_pdm_lock("[metadata]\nlock_version = \"4.5.1\"\n[[package]]\nname = 1\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("TOML parse error at line 4, column 8"),
            "{err}"
        );
    }

    #[test]
    fn url_dependencies_are_not_expanded() {
        let dep = pdm_dependency("sub[a, b] @ file:///${PROJECT_ROOT}/packages/sub").unwrap();
        assert_eq!(dep.name.as_ref(), "sub");
        assert_eq!(dep.extras.len(), 2);
        assert!(dep.marker.is_true());
        assert!(pdm_dependency("sub @ https://x/sub.whl junk")
            .unwrap_err()
            .contains("unexpected `junk`"));
        let plain = pdm_dependency("click>=8.1.3; python_version >= \"3.9\"").unwrap();
        assert!(plain.version.contains(&"8.2".parse().unwrap()) && !plain.marker.is_true());
    }

    /// `pdm lock -G :all` of Flask, requests[socks], an extra and a dev group.
    #[test]
    fn fixture_flask() {
        let lock = parse_pdm_lock(include_str!("../../../fixtures/pdm/flask/pdm.lock")).unwrap();
        assert!(lock.warnings.is_empty(), "{:?}", lock.warnings);
        assert_eq!(lock.lock_version, "4.5.1");
        assert_eq!(
            lock.packages.len(),
            24,
            "25 entries, requests[socks] folded in"
        );
        assert!(lock
            .packages
            .iter()
            .all(|p| p.source == PackageSource::DefaultIndex && p.dependencies_known));
        let requests = find(&lock, "requests");
        let socks = ExtraName::from_str("socks").unwrap();
        assert_eq!(
            requests.extras[&socks]
                .iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>(),
            ["pysocks"]
        );
        assert_eq!(requests.dependencies.len(), 5);
        let flask = find(&lock, "flask");
        assert_eq!(flask.version.to_string(), "3.1.3");
        assert_eq!(flask.dependencies.len(), 7);
        assert_eq!(flask.files.len(), 2);
        let zipp = find(&lock, "zipp");
        assert_eq!(
            zipp.marker.as_ref().unwrap().try_to_string().unwrap(),
            "python_full_version < '3.10'"
        );
        let colorama = find(&lock, "colorama");
        assert!(!colorama.requires_python.contains(&"3.6".parse().unwrap()));
        let files: usize = lock.packages.iter().map(|p| p.files.len()).sum();
        assert!(files > 200, "{files}");
        assert!(lock.packages.iter().flat_map(|p| &p.files).all(|f| f
            .hash
            .as_ref()
            .is_some_and(|h| h.algorithm == "sha256")
            && f.url.is_none()));
    }

    /// `pdm lock -G :all` of a project with a local directory and an editable one.
    #[test]
    fn fixture_local_path() {
        let lock =
            parse_pdm_lock(include_str!("../../../fixtures/pdm/local-path/pdm.lock")).unwrap();
        assert_eq!(lock.packages.len(), 3);
        assert_eq!(
            find(&lock, "devtool").source,
            PackageSource::Path {
                path: "./packages/devtool".into(),
                kind: PathKind::Directory,
                editable: true
            }
        );
        let helper = find(&lock, "helper");
        assert_eq!(
            helper.source,
            PackageSource::Path {
                path: "./packages/helper".into(),
                kind: PathKind::Directory,
                editable: false
            }
        );
        assert!(helper.files.is_empty());
        assert_eq!(helper.dependencies[0].name.as_ref(), "six");
        assert_eq!(find(&lock, "six").source, PackageSource::DefaultIndex);
    }

    /// Every prefix, and every character replaced by one that matters to the syntax, is read
    /// or refused without a panic.
    #[test]
    fn mangled_input_never_panics() {
        let text = "[metadata]\nlock_version = '4.5'\n[[package]]\nname = 'r'\nversion = '2'\n\
            requires_python = '>=3.9'\nmarker = 'os_name == \"nt\"'\n\
            dependencies = ['b>=1; python_version < \"4\"', 'h[x] @ file:///${R}/h ; os_name == \"nt\"']\n\
            files = [{file = 'r-2.tar.gz', hash = 'md5:0123456789abcdef0123456789abcdef'}]\n\
            [[package]]\nname = 'r'\nversion = '2'\nextras = ['s']\ndependencies = ['r==2', 'p']\n\
            [[package]]\nname = 'g'\nversion = '1'\ngit = 'u'\nref = 'm'\n\
            [[package]]\nname = 'l'\nversion = '1'\npath = 'l'\nsubdirectory = 's'\n";
        assert!(parse_pdm_lock(text).is_ok(), "the unmangled text reads");
        let read = |text: &str| {
            let _ = parse_pdm_lock(text);
        };
        for (i, c) in text.char_indices() {
            read(&text[..i]);
            for replacement in [
                "\"", "'", "[", "]", "\\", "#", "@", ";", " ", "=", "\n", "é", "",
            ] {
                read(&format!(
                    "{}{replacement}{}",
                    &text[..i],
                    &text[i + c.len_utf8()..]
                ));
            }
        }
    }
}
