//! `poetry.lock`, lock-versions 1.x (hashes under `[metadata.files]`) and 2.x.

use std::collections::{BTreeMap, HashSet};
use std::str::FromStr;

use pep440_rs::Version;
use pep508_rs::{ExtraName, MarkerTree, PackageName};
use serde::Deserialize;

use crate::constraint::parse_poetry_constraint;
use crate::model::{Dependency, FileHash, Lock, LockedFile, LockedPackage, PackageSource};
use crate::{LockError, VersionConstraint};

#[derive(Deserialize)]
struct PoetryLockWire {
    #[serde(default)]
    package: Vec<PackageWire>,
    metadata: MetadataWire,
}

/// The first piece of a large poetry.lock read in pieces (see `parts`): `[metadata]` may be in
/// any one piece, usually the last.
#[derive(Deserialize)]
struct HeadWire {
    #[serde(default)]
    package: Vec<PackageWire>,
    metadata: Option<MetadataWire>,
}

/// A later piece: packages and perhaps `[metadata]`, nothing else.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RestWire {
    #[serde(default)]
    package: Vec<PackageWire>,
    metadata: Option<MetadataWire>,
}

/// The whole file's wire struct from pieces on several threads, when the file is large and
/// the pieces hold packages and exactly one `[metadata]` between them; else `None`, and the
/// caller parses it whole.
fn parse_wire_in_pieces(text: &str) -> Option<PoetryLockWire> {
    const HEADER: &str = "[[package]]";
    let pieces = crate::parts::pieces_for(text);
    if pieces < 2 {
        return None;
    }
    let cuts = crate::parts::cut_points(text, HEADER, pieces);
    let (head, rest) = crate::parts::parse_pieces::<HeadWire, RestWire>(text, &cuts)?;
    if !head.package.is_empty() && !crate::parts::has_header_line(&text[..cuts[0]], HEADER) {
        return None;
    }
    let mut package = head.package;
    let mut metadata = head.metadata;
    for piece in rest {
        package.extend(piece.package);
        if let Some(found) = piece.metadata {
            if metadata.replace(found).is_some() {
                return None;
            }
        }
    }
    Some(PoetryLockWire {
        package,
        metadata: metadata?,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct MetadataWire {
    lock_version: Option<String>,
    /// Lock-version 1.x keeps every file here, keyed by package name.
    #[serde(default)]
    files: BTreeMap<String, Vec<FileWire>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct PackageWire {
    name: String,
    version: String,
    python_versions: Option<String>,
    files: Option<Vec<FileWire>>,
    #[serde(default)]
    dependencies: BTreeMap<String, DependencyWire>,
    #[serde(default)]
    extras: BTreeMap<String, Vec<String>>,
    source: Option<SourceWire>,
    markers: Option<MarkersWire>,
    /// `develop = true` marks a path dependency installed in editable mode.
    #[serde(default)]
    develop: bool,
}

#[derive(Deserialize)]
struct FileWire {
    file: String,
    hash: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct SourceWire {
    #[serde(rename = "type")]
    kind: String,
    url: String,
    reference: Option<String>,
    #[serde(alias = "resolved_reference")]
    resolved_reference: Option<String>,
    subdirectory: Option<String>,
}

/// Poetry 2.1 writes one marker, or one per dependency group.
#[derive(Deserialize)]
#[serde(untagged)]
enum MarkersWire {
    One(String),
    ByGroup(BTreeMap<String, String>),
}

/// A dependency: a bare constraint, a table, or several tables for different markers.
/// pyproject.toml's `[tool.poetry.dependencies]` uses the same shapes.
#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum DependencyWire {
    Constraint(String),
    Table(DependencyTableWire),
    Many(Vec<DependencyTableWire>),
}

#[derive(Deserialize, Default)]
pub(crate) struct DependencyTableWire {
    pub(crate) version: Option<String>,
    pub(crate) markers: Option<String>,
    pub(crate) python: Option<String>,
    pub(crate) platform: Option<String>,
    #[serde(default)]
    pub(crate) extras: Vec<String>,
    #[serde(default)]
    pub(crate) optional: bool,
}

/// Reads a `poetry.lock` from its text.
pub fn parse_poetry_lock(text: &str) -> Result<Lock, LockError> {
    let wire: PoetryLockWire = match parse_wire_in_pieces(text) {
        Some(wire) => wire,
        None => toml::from_str(text)?,
    };
    from_wire(wire)
}

fn from_wire(wire: PoetryLockWire) -> Result<Lock, LockError> {
    let lock_version = wire
        .metadata
        .lock_version
        .clone()
        .unwrap_or_else(|| "1.0".to_string());
    let mut warnings = Vec::new();
    check_lock_version(&lock_version, &mut warnings)?;
    let files_by_name: BTreeMap<PackageName, &Vec<FileWire>> = wire
        .metadata
        .files
        .iter()
        .filter_map(|(name, files)| Some((PackageName::from_str(name).ok()?, files)))
        .collect();
    let mut seen = HashSet::new();
    let mut packages = Vec::with_capacity(wire.package.len());
    for package in &wire.package {
        let checked = convert_package(package, &files_by_name)?;
        if !seen.insert((checked.name.clone(), checked.version.clone())) {
            return Err(LockError::DuplicatePackage {
                name: checked.name.to_string(),
                version: checked.version.to_string(),
            });
        }
        packages.push(checked);
    }
    Ok(Lock {
        format: crate::LockFormat::Poetry,
        lock_version,
        packages,
        warnings,
        project: None,
        install: crate::InstallSet::Graph,
        indexes: Vec::new(),
    })
}

fn check_lock_version(version: &str, warnings: &mut Vec<String>) -> Result<(), LockError> {
    let (major, minor) = version
        .split_once('.')
        .and_then(|(a, b)| Some((a.parse::<u32>().ok()?, b.parse::<u32>().ok()?)))
        .ok_or_else(|| LockError::InvalidVersion(version.to_string()))?;
    match (major, minor) {
        (1, 0..=1) | (2, 0..=1) => Ok(()),
        (1 | 2, _) => {
            warnings.push(format!(
                "poetry.lock has lock-version {version}, newer than py2nix knows (2.1); reading it as {major}.x"
            ));
            Ok(())
        }
        _ => Err(LockError::UnsupportedVersion(version.to_string())),
    }
}

fn convert_package(
    wire: &PackageWire,
    files_by_name: &BTreeMap<PackageName, &Vec<FileWire>>,
) -> Result<LockedPackage, LockError> {
    let fail = |message: String| LockError::package(&wire.name, message);
    let name = PackageName::from_str(&wire.name).map_err(|e| fail(e.to_string()))?;
    let version = Version::from_str(&wire.version)
        .map_err(|e| fail(format!("invalid version `{}`: {e}", wire.version)))?;
    let fail = |message: String| LockError::package(format!("{name} {version}"), message);
    let requires_python = match &wire.python_versions {
        Some(text) => parse_poetry_constraint(text).map_err(fail)?,
        None => VersionConstraint::any(),
    };
    let file_wires = match &wire.files {
        Some(files) => files.as_slice(),
        None => files_by_name
            .get(&name)
            .map(|f| f.as_slice())
            .unwrap_or_default(),
    };
    let files = file_wires
        .iter()
        .map(|f| {
            let hash =
                FileHash::parse(&f.hash).map_err(|e| fail(format!("file `{}`: {e}", f.file)))?;
            Ok(LockedFile {
                filename: f.file.clone(),
                hash: Some(hash),
                url: None,
                size: None,
            })
        })
        .collect::<Result<Vec<_>, LockError>>()?;
    let mut dependencies = Vec::new();
    for (dep_name, dep) in &wire.dependencies {
        dependencies.extend(convert_dependency(dep_name, dep).map_err(fail)?);
    }
    let extras = convert_extras(&wire.extras).map_err(fail)?;
    let marker = wire
        .markers
        .as_ref()
        .map(package_marker)
        .transpose()
        .map_err(fail)?;
    let source = match &wire.source {
        None => PackageSource::DefaultIndex,
        Some(source) if matches!(source.kind.as_str(), "legacy" | "pypi") => PackageSource::Index {
            name: source.reference.clone().unwrap_or_default(),
            url: source.url.clone(),
        },
        Some(source) => match source.kind.as_str() {
            "git" => PackageSource::Git(crate::GitSource {
                url: source.url.clone(),
                reference: source.reference.clone(),
                commit: source.resolved_reference.clone(),
                subdirectory: source.subdirectory.clone(),
                // Poetry checks out submodules of git dependencies.
                submodules: true,
            }),
            "url" => PackageSource::Url {
                url: source.url.clone(),
                subdirectory: source.subdirectory.clone(),
            },
            "file" => PackageSource::Path {
                path: source.url.clone(),
                kind: crate::PathKind::Archive,
                editable: false,
            },
            "directory" => PackageSource::Path {
                path: source.url.clone(),
                kind: crate::PathKind::Directory,
                editable: wire.develop,
            },
            _ => PackageSource::Unsupported {
                kind: source.kind.clone(),
                url: source.url.clone(),
            },
        },
    };
    Ok(LockedPackage {
        name,
        version,
        requires_python,
        marker,
        files,
        dependencies,
        extras,
        source,
        dependencies_known: true,
        requested_extras: Vec::new(),
        index_hashes: None,
    })
}

/// The union of the group markers: the package is needed wherever any group needs it.
fn package_marker(wire: &MarkersWire) -> Result<MarkerTree, String> {
    match wire {
        MarkersWire::One(text) => parse_marker(text),
        MarkersWire::ByGroup(by_group) => {
            let mut union = MarkerTree::FALSE;
            for text in by_group.values() {
                union.or(parse_marker(text)?);
            }
            Ok(union)
        }
    }
}

/// Parses a PEP 508 marker, refusing one nested too deeply to parse safely.
pub fn parse_marker(text: &str) -> Result<MarkerTree, String> {
    crate::pyproject::guarded_parse(text, "marker", MarkerTree::from_str)
}

/// Turns one `[package.dependencies]` (or `[tool.poetry.dependencies]`) entry into edges.
pub(crate) fn convert_dependency(
    name: &str,
    wire: &DependencyWire,
) -> Result<Vec<Dependency>, String> {
    let package = PackageName::from_str(name).map_err(|e| format!("dependency `{name}`: {e}"))?;
    let tables: Vec<DependencyTableWire> = match wire {
        DependencyWire::Constraint(version) => {
            vec![DependencyTableWire {
                version: Some(version.clone()),
                ..Default::default()
            }]
        }
        DependencyWire::Table(table) => vec![clone_table(table)],
        DependencyWire::Many(tables) => tables.iter().map(clone_table).collect(),
    };
    tables
        .iter()
        .map(|table| {
            convert_table(&package, table).map_err(|e| format!("dependency `{name}`: {e}"))
        })
        .collect()
}

fn clone_table(table: &DependencyTableWire) -> DependencyTableWire {
    DependencyTableWire {
        version: table.version.clone(),
        markers: table.markers.clone(),
        python: table.python.clone(),
        platform: table.platform.clone(),
        extras: table.extras.clone(),
        optional: table.optional,
    }
}

fn convert_table(name: &PackageName, table: &DependencyTableWire) -> Result<Dependency, String> {
    let version = match &table.version {
        Some(text) => parse_poetry_constraint(text)?,
        None => VersionConstraint::any(),
    };
    let mut marker = match &table.markers {
        Some(text) => parse_marker(text)?,
        None => MarkerTree::TRUE,
    };
    if let Some(platform) = &table.platform {
        marker.and(parse_marker(&format!("sys_platform == {platform:?}"))?);
    }
    let python = table
        .python
        .as_deref()
        .map(parse_poetry_constraint)
        .transpose()?;
    let extras = table
        .extras
        .iter()
        .map(|e| ExtraName::from_str(e).map_err(|err| format!("extra `{e}`: {err}")))
        .collect::<Result<_, _>>()?;
    Ok(Dependency {
        name: name.clone(),
        version,
        marker,
        python,
        extras,
        optional: table.optional,
    })
}

/// `[package.extras]` lists requirements such as `PySocks (>=1.5.6,!=1.5.7)` or
/// `uvicorn[standard]>=0.12`; only the names matter, the edge itself is in the dependencies.
fn convert_extras(
    wire: &BTreeMap<String, Vec<String>>,
) -> Result<BTreeMap<ExtraName, Vec<PackageName>>, String> {
    let mut extras = BTreeMap::new();
    for (extra, requirements) in wire {
        let extra_name = ExtraName::from_str(extra).map_err(|e| format!("extra `{extra}`: {e}"))?;
        let names = requirements
            .iter()
            .map(|requirement| requirement_name(requirement))
            .collect::<Result<_, _>>()?;
        extras.insert(extra_name, names);
    }
    Ok(extras)
}

fn requirement_name(requirement: &str) -> Result<PackageName, String> {
    let end = requirement
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(requirement.len());
    PackageName::from_str(&requirement[..end])
        .map_err(|e| format!("extra requirement `{requirement}`: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK_2_1: &str = r#"
[[package]]
name = "Requests"
version = "2.32.3"
description = "HTTP"
optional = false
python-versions = ">=3.8"
groups = ["main"]
markers = 'python_version >= "3.9"'
files = [
    {file = "requests-2.32.3-py3-none-any.whl", hash = "sha256:70761cfe03c773ceb22aa2f671b4757976145175cdfca038c02654d061d6dcc6"},
]

[package.dependencies]
idna = ">=2.5,<4"
PySocks = {version = ">=1.5.6,<1.5.7 || >1.5.7", optional = true, markers = "extra == \"socks\""}
numpy = [
    {version = ">=1.22.4", markers = "python_version < \"3.11\""},
    {version = ">=1.23.2", python = ">=3.11"},
]

[package.extras]
socks = ["PySocks (>=1.5.6,!=1.5.7)"]

[metadata]
lock-version = "2.1"
python-versions = ">=3.9"
content-hash = "x"
"#;

    #[test]
    fn reads_lock_version_2_1() {
        let lock = parse_poetry_lock(LOCK_2_1).unwrap();
        assert_eq!(lock.lock_version, "2.1");
        assert!(lock.warnings.is_empty());
        let requests = &lock.packages[0];
        assert_eq!(requests.name.as_ref(), "requests");
        assert_eq!(requests.files.len(), 1);
        assert_eq!(requests.dependencies.len(), 4);
        let socks = requests
            .dependencies
            .iter()
            .find(|d| d.name.as_ref() == "pysocks")
            .unwrap();
        assert!(socks.optional);
        assert!(!socks.version.contains(&"1.5.7".parse().unwrap()));
        let numpy: Vec<_> = requests
            .dependencies
            .iter()
            .filter(|d| d.name.as_ref() == "numpy")
            .collect();
        assert_eq!(numpy.len(), 2);
        assert!(numpy[1].python.is_some());
        let socks_extra = &requests.extras[&ExtraName::from_str("socks").unwrap()];
        assert_eq!(socks_extra[0].as_ref(), "pysocks");
        assert!(requests.marker.is_some());
    }

    #[test]
    fn reads_lock_version_1_1_files_from_metadata() {
        let text = r#"
[[package]]
name = "click"
version = "8.1.7"
description = ""
category = "main"
optional = false
python-versions = ">=3.7"

[metadata]
lock-version = "1.1"
python-versions = "^3.9"
content-hash = "x"

[metadata.files]
Click = [
    {file = "click-8.1.7.tar.gz", hash = "sha256:ca9853ad459e787e2192211578cc907e7594e294c7ccc834310722b41b9ca6de"},
]
"#;
        let lock = parse_poetry_lock(text).unwrap();
        assert_eq!(lock.packages[0].files[0].filename, "click-8.1.7.tar.gz");
    }

    #[test]
    fn unknown_minor_warns_and_unknown_major_fails() {
        let newer = LOCK_2_1.replace("lock-version = \"2.1\"", "lock-version = \"2.7\"");
        assert_eq!(parse_poetry_lock(&newer).unwrap().warnings.len(), 1);
        let future = LOCK_2_1.replace("lock-version = \"2.1\"", "lock-version = \"3.0\"");
        let err = parse_poetry_lock(&future).unwrap_err().to_string();
        assert_eq!(
            err,
            "unsupported `poetry.lock` lock-version `3.0`: py2nix reads lock-versions 1.x and 2.x"
        );
    }

    #[test]
    fn truncated_toml_reports_line_and_column() {
        let cut = &LOCK_2_1[..LOCK_2_1.find("[package.extras]").unwrap() + 10];
        let err = parse_poetry_lock(cut).unwrap_err().to_string();
        assert!(
            err.starts_with("TOML parse error at line 22, column 11"),
            "{err}"
        );
        assert!(err.contains("[package.e\n"), "{err}");
    }

    #[test]
    fn bad_hash_names_the_package() {
        let bad = LOCK_2_1.replace("sha256:70761cfe", "sha256:zz761cfe");
        let err = parse_poetry_lock(&bad).unwrap_err().to_string();
        assert!(
            err.starts_with("package `requests 2.32.3`: file `requests-2.32.3-py3-none-any.whl`"),
            "{err}"
        );
    }

    #[test]
    fn duplicate_packages_after_normalisation_fail() {
        let first = LOCK_2_1.split("[metadata]").next().unwrap();
        let doubled = format!(
            "{first}{}",
            LOCK_2_1.replace("name = \"Requests\"", "name = \"requests\"")
        );
        let err = parse_poetry_lock(&doubled).unwrap_err().to_string();
        assert_eq!(err, "package `requests` 2.32.3 appears twice in the lock");
    }

    #[test]
    fn a_large_lock_read_in_pieces_is_the_lock_read_whole() {
        let text = include_str!("../../../fixtures/bench/jupyterlab/poetry.lock");
        let whole = from_wire(toml::from_str(text).unwrap()).unwrap();
        let pieces = parse_wire_in_pieces(text).map(|wire| from_wire(wire).unwrap());
        if crate::parts::pieces_for(text) > 1 {
            assert_eq!(format!("{:?}", pieces.unwrap()), format!("{whole:?}"));
        }
        // Lock-version 1.1 keeps files under `[metadata.files]`, after every package.
        let mut old = text.replace("lock-version = \"2.1\"", "lock-version = \"1.1\"");
        old.push_str("\n[metadata.files]\nanyio = []\n");
        let whole_old = from_wire(toml::from_str(&old).unwrap()).unwrap();
        if let Some(wire) = parse_wire_in_pieces(&old) {
            assert_eq!(
                format!("{:?}", from_wire(wire).unwrap()),
                format!("{whole_old:?}")
            );
        }
        // Two `[metadata]` tables are the whole parse's error.
        let twice = text.replacen(
            "[[package]]",
            "[metadata]\nlock-version = \"2.1\"\n\n[[package]]",
            1,
        );
        assert!(parse_wire_in_pieces(&twice).is_none());
        assert!(parse_poetry_lock(&twice).is_err());
    }
}
