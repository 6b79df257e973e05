//! `uv.lock`, version 1 (revisions 1 to 5, and none as uv 0.4 wrote it).
//!
//! Every `[[package]]` becomes a [`LockedPackage`] except those uv never installs by
//! themselves, and the project comes from the lock too:
//!
//! - **The project** (the workspace root member) is the package whose source is
//!   `editable = "."`, `virtual = "."` or `directory = "."`. It becomes [`Lock::project`]: its
//!   `dependencies` are the main dependencies, its `[package.optional-dependencies]` the extras,
//!   its `[package.dev-dependencies]` the groups, its `default-groups` (where recent uv versions
//!   record `[tool.uv] default-groups`) the default groups, else `["dev"]`, uv's default.
//! - **A virtual workspace root** (a root pyproject.toml without `[project]`) has no package.
//!   uv then installs every workspace member, so the project (named `None`) depends on each
//!   `[manifest] members` entry plus `[manifest] requirements` (a PEP 723 script's
//!   dependencies); its groups are `[manifest.dependency-groups]` merged with the members'
//!   `dev-dependencies`; its extra `x` turns on extra `x` of every member that has one (all as
//!   `uv sync`/`uv export` do at a virtual root); its default groups are
//!   `[manifest] default-groups`, else `["dev"]`.
//! - **Virtual members** (`virtual = "packages/x"`, members with `[tool.uv] package = false`)
//!   cannot be installed: an edge to one (or to the project itself) is replaced by that package's own
//!   dependencies, plus those of the extras the edge asks for, each with the edge's marker
//!   ANDed in, transitively. They are not in [`Lock::packages`].
//!
//! Other workspace members are ordinary packages with a `Path` source (editable for
//! `editable`), so a project depending on a member works. Their own `dev-dependencies` are
//! ignored unless the root is virtual, as uv installs only the target's groups.
//!
//! A package's `[package.optional-dependencies]` become ordinary edges whose marker is ANDed
//! with `extra == "<extra>"`, so the closure walk turns them on with the extra (and `extras`
//! lists their names). Packages uv resolved differently per fork carry `resolution-markers`;
//! their [`LockedPackage::marker`] is the OR of them, and edges to them name the `version`.
//! A member whose version is dynamic has no `version` key: it is read as version `0`.
//! uv.lock records no per-package `requires-python`, so every package allows any Python.
//! `conflicts`, `supported-markers` and `required-markers` go to the project's
//! [`crate::UvSettings`]. Not read: `[options]`, `[package.metadata]`, upload times,
//! and an edge's `source` (only its `version` tells same-named packages apart).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifier, VersionSpecifiers};
use pep508_rs::{ExtraName, MarkerTree, PackageName};
use serde::Deserialize;

use crate::model::{
    Dependency, FileHash, GitSource, InstallSet, Lock, LockFormat, LockedFile, LockedPackage,
    PackageSource, PathKind, Project, ProjectRoot,
};
use crate::poetry_lock::parse_marker;
use crate::{normalize_group, LockError, VersionConstraint};

/// The newest revision of version 1 this reader knows; a newer one is read with a warning.
const KNOWN_REVISION: u32 = 5;

/// Read first, alone, so that a future format is refused before its shape can confuse.
#[derive(Deserialize)]
struct VersionWire {
    version: u32,
    revision: Option<u32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct UvLockWire {
    version: u32,
    revision: Option<u32>,
    requires_python: Option<String>,
    #[serde(default)]
    conflicts: Vec<Vec<crate::uv_settings::ConflictItemWire>>,
    #[serde(default)]
    supported_markers: Vec<String>,
    #[serde(default)]
    required_markers: Vec<String>,
    #[serde(default)]
    manifest: ManifestWire,
    #[serde(default, rename = "package", alias = "distribution")]
    packages: Vec<PackageWire>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
struct ManifestWire {
    #[serde(default)]
    members: Vec<String>,
    #[serde(default)]
    requirements: Vec<RequirementWire>,
    #[serde(default)]
    dependency_groups: BTreeMap<String, Vec<RequirementWire>>,
    default_groups: Option<DefaultGroupsWire>,
}

/// `default-groups = ["dev", "lint"]` or `default-groups = "all"`.
#[derive(Deserialize, Clone)]
#[serde(untagged)]
enum DefaultGroupsWire {
    List(Vec<String>),
    Keyword(String),
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct PackageWire {
    name: String,
    version: Option<String>,
    source: SourceWire,
    #[serde(default, alias = "environment-markers")]
    resolution_markers: Vec<String>,
    #[serde(default)]
    dependencies: Vec<DependencyWire>,
    #[serde(default)]
    optional_dependencies: BTreeMap<String, Vec<DependencyWire>>,
    #[serde(default)]
    dev_dependencies: BTreeMap<String, Vec<DependencyWire>>,
    sdist: Option<FileWire>,
    #[serde(default)]
    wheels: Vec<FileWire>,
    default_groups: Option<DefaultGroupsWire>,
}

/// One of the keys names the kind; `subdirectory` goes with `url` (and is inside `git`).
#[derive(Deserialize)]
struct SourceWire {
    registry: Option<String>,
    git: Option<String>,
    url: Option<String>,
    path: Option<String>,
    directory: Option<String>,
    editable: Option<String>,
    #[serde(rename = "virtual")]
    virtual_path: Option<String>,
    subdirectory: Option<String>,
    /// A kind this reader does not know (a newer revision's).
    #[serde(flatten)]
    other: BTreeMap<String, toml::Value>,
}

/// An `sdist` or a `wheels` entry. Registry files have a `url`; a local archive's have a
/// `path` or a `filename`, or nothing but the hash (the source names the file).
#[derive(Deserialize)]
struct FileWire {
    url: Option<String>,
    path: Option<String>,
    filename: Option<String>,
    hash: Option<String>,
    size: Option<u64>,
}

/// An edge to a locked package; `version` (and `source`) only when the name is ambiguous.
#[derive(Deserialize)]
struct DependencyWire {
    name: String,
    version: Option<String>,
    marker: Option<String>,
    #[serde(default)]
    extra: Vec<String>,
}

/// A requirement as the user wrote it (`[manifest]`), with a specifier instead of a version.
#[derive(Deserialize)]
struct RequirementWire {
    name: String,
    specifier: Option<String>,
    marker: Option<String>,
    #[serde(default)]
    extras: Vec<String>,
}

/// Reads a uv.lock into the model, with the project (the workspace's root member) in
/// [`Lock::project`].
pub fn parse_uv_lock(text: &str) -> Result<Lock, LockError> {
    // One parse in the common case; only a file that does not fit version 1's shape is read
    // again for its version alone, so that a future format is refused by its version rather
    // than by whatever part of its new shape confused the reader.
    let mut warnings = Vec::new();
    if let Some((wire, nodes)) = parse_in_pieces(text) {
        return from_parts(wire, nodes, warnings);
    }
    let wire: UvLockWire = match toml::from_str(text) {
        Ok(wire) => wire,
        Err(shape_error) => {
            let VersionWire { version, revision } = toml::from_str(text)?;
            check_version(version, revision, &mut warnings)?;
            return Err(shape_error.into());
        }
    };
    from_wire(wire, warnings)
}

fn convert_nodes(packages: &[PackageWire]) -> Result<Vec<Node>, LockError> {
    packages.iter().map(convert_node).collect()
}

fn from_wire(wire: UvLockWire, warnings: Vec<String>) -> Result<Lock, LockError> {
    let nodes = convert_nodes(&wire.packages);
    from_parts(wire, nodes, warnings)
}

/// The lock from its wire struct and its packages' nodes (converted apart, perhaps on
/// several threads; the first error in file order is the lock's, after the version's).
fn from_parts(
    wire: UvLockWire,
    nodes: Result<Vec<Node>, LockError>,
    mut warnings: Vec<String>,
) -> Result<Lock, LockError> {
    check_version(wire.version, wire.revision, &mut warnings)?;
    let requires_python = wire
        .requires_python
        .as_deref()
        .map(parse_requires_python)
        .transpose()?;
    let nodes = nodes?;
    let root = nodes.iter().position(|node| node.role == Role::Root);
    let inliner = Inliner::new(&nodes);
    let packages = locked_packages(&nodes, &inliner)?;
    let mut project = match root {
        Some(index) => root_project(&nodes[index], &inliner)?,
        None => virtual_root_project(&wire.manifest, &nodes, &inliner)?,
    };
    project.requires_python = requires_python;
    project.uv = lock_settings(&wire)?;
    Ok(Lock {
        format: LockFormat::Uv,
        lock_version: wire.version.to_string(),
        packages,
        warnings,
        project: Some(project),
        install: InstallSet::Graph,
        indexes: Vec::new(),
    })
}

/// What uv.lock records of uv's settings: `conflicts`, `supported-markers` (the
/// environments) and `required-markers`.
fn lock_settings(wire: &UvLockWire) -> Result<crate::UvSettings, LockError> {
    let lock_error =
        |key: &str, message: String| LockError::Project(format!("uv.lock `{key}`: {message}"));
    let mut settings = crate::UvSettings::default();
    for set in &wire.conflicts {
        settings
            .conflicts
            .push(crate::uv_settings::conflict_set(set).map_err(|e| lock_error("conflicts", e))?);
    }
    settings.environments = wire
        .supported_markers
        .iter()
        .map(|text| {
            parse_marker(text)
                .map_err(|e| lock_error("supported-markers", format!("`{text}`: {e}")))
        })
        .collect::<Result<_, _>>()?;
    settings.environments_text = wire.supported_markers.clone();
    for text in &wire.required_markers {
        parse_marker(text).map_err(|e| lock_error("required-markers", format!("`{text}`: {e}")))?;
    }
    settings.required_environments = wire.required_markers.clone();
    Ok(settings)
}

/// A large file's wire struct (without its packages) and its packages' nodes, parsed and
/// converted in pieces on several threads (see `parts`); `None` when the file is small or the
/// pieces are not accepted, and the caller parses it whole.
fn parse_in_pieces(text: &str) -> Option<(UvLockWire, Result<Vec<Node>, LockError>)> {
    const HEADER: &str = "[[package]]";
    let pieces = crate::parts::pieces_for(text);
    // Old locks name their packages `distribution`, an alias the pieces cannot check.
    if pieces < 2 || text.contains("distribution") {
        return None;
    }
    let cuts = crate::parts::cut_points(text, HEADER, pieces);
    let ((mut head, had_packages, head_nodes), rest) = crate::parts::parse_pieces_then(
        text,
        &cuts,
        |head: UvLockWire| {
            let nodes = convert_nodes(&head.packages);
            let had = !head.packages.is_empty();
            (head, had, nodes)
        },
        |rest: RestWire| convert_nodes(&rest.packages),
    )?;
    if had_packages && !crate::parts::has_header_line(&text[..cuts[0]], HEADER) {
        return None;
    }
    head.packages.clear();
    let nodes = head_nodes.and_then(|mut nodes| {
        for piece in rest {
            nodes.extend(piece?);
        }
        Ok(nodes)
    });
    Some((head, nodes))
}

/// A piece of uv.lock after the first: packages only (any other key sends the file back to
/// one whole parse).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RestWire {
    #[serde(rename = "package")]
    packages: Vec<PackageWire>,
}

fn check_version(
    version: u32,
    revision: Option<u32>,
    warnings: &mut Vec<String>,
) -> Result<(), LockError> {
    if version != 1 {
        return Err(LockError::UnsupportedUvLockVersion(version.to_string()));
    }
    match revision {
        Some(revision) if revision > KNOWN_REVISION => warnings.push(format!(
            "uv.lock has revision {revision}, newer than py2nix knows ({KNOWN_REVISION}); \
             reading it as revision {KNOWN_REVISION}"
        )),
        _ => {}
    }
    Ok(())
}

fn parse_requires_python(text: &str) -> Result<VersionConstraint, LockError> {
    VersionSpecifiers::from_str(text)
        .map(VersionConstraint::from_pep440)
        .map_err(|e| LockError::Project(format!("invalid `requires-python` `{text}`: {e}")))
}

/// What a `[[package]]` is to the project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Installed as itself.
    Package,
    /// The workspace root member: the project.
    Root,
    /// A virtual member: stands for its dependencies.
    Virtual,
}

/// A `[[package]]` checked, before edges to virtual packages are replaced.
struct Node {
    role: Role,
    name: PackageName,
    version: Version,
    marker: Option<MarkerTree>,
    files: Vec<LockedFile>,
    source: PackageSource,
    dependencies: Vec<Dependency>,
    optional: BTreeMap<ExtraName, Vec<Dependency>>,
    groups: BTreeMap<String, Vec<Dependency>>,
    default_groups: Option<DefaultGroupsWire>,
    /// Whether the lock records a `version` (a dynamic one is left out).
    version_recorded: bool,
    /// Whether the source is `virtual = ...` (nothing to build).
    virtual_source: bool,
}

impl Node {
    fn label(&self) -> String {
        format!("{} {}", self.name, self.version)
    }
}

fn convert_node(wire: &PackageWire) -> Result<Node, LockError> {
    let fail = |message: String| LockError::package(&wire.name, message);
    let name = PackageName::from_str(&wire.name).map_err(|e| fail(e.to_string()))?;
    let (source, role) = convert_source(&wire.source).map_err(fail)?;
    let version = match &wire.version {
        Some(text) => {
            Version::from_str(text).map_err(|e| fail(format!("invalid version `{text}`: {e}")))?
        }
        // A workspace member with a dynamic version: uv leaves the version out.
        None if matches!(source, PackageSource::Path { .. }) || role == Role::Virtual => {
            Version::new([0])
        }
        None => return Err(fail("has no version".to_string())),
    };
    let fail = |message: String| LockError::package(format!("{name} {version}"), message);
    let marker = fork_marker(&wire.resolution_markers).map_err(fail)?;
    let files = convert_files(wire, &source).map_err(fail)?;
    let dependencies = convert_dependencies(&wire.dependencies).map_err(fail)?;
    let mut optional = BTreeMap::new();
    for (extra, deps) in &wire.optional_dependencies {
        let extra_name =
            ExtraName::from_str(extra).map_err(|e| fail(format!("extra `{extra}`: {e}")))?;
        optional.insert(extra_name, convert_dependencies(deps).map_err(fail)?);
    }
    let mut groups: BTreeMap<String, Vec<Dependency>> = BTreeMap::new();
    for (group, deps) in &wire.dev_dependencies {
        let converted = convert_dependencies(deps).map_err(fail)?;
        groups
            .entry(normalize_group(group))
            .or_default()
            .extend(converted);
    }
    Ok(Node {
        role,
        name,
        version,
        marker,
        files,
        source,
        dependencies,
        optional,
        groups,
        default_groups: wire.default_groups.clone(),
        version_recorded: wire.version.is_some(),
        virtual_source: wire.source.virtual_path.is_some(),
    })
}

/// The OR of a package's `resolution-markers`: where its forks apply. `None`: everywhere.
fn fork_marker(markers: &[String]) -> Result<Option<MarkerTree>, String> {
    if markers.is_empty() {
        return Ok(None);
    }
    let mut union = MarkerTree::FALSE;
    for text in markers {
        union.or(parse_marker(text)?);
    }
    Ok(Some(union))
}

fn convert_source(wire: &SourceWire) -> Result<(PackageSource, Role), String> {
    let local = |path: &str, editable: bool| PackageSource::Path {
        path: path.to_string(),
        kind: PathKind::Directory,
        editable,
    };
    let root_or = |path: &str, role: Role| {
        if is_workspace_root(path) {
            Role::Root
        } else {
            role
        }
    };
    if let Some(dir) = wire.registry.as_ref().filter(|r| !r.contains("://")) {
        // A local `find-links` directory: its files are planned as local paths.
        let source = PackageSource::Path {
            path: dir.clone(),
            kind: PathKind::FindLinks,
            editable: false,
        };
        return Ok((source, Role::Package));
    }
    if let Some(url) = &wire.registry {
        let source = PackageSource::Index {
            name: String::new(),
            url: url.clone(),
        };
        return Ok((source, Role::Package));
    }
    if let Some(git) = &wire.git {
        return Ok((PackageSource::Git(parse_git_source(git)?), Role::Package));
    }
    if let Some(url) = &wire.url {
        let source = PackageSource::Url {
            url: url.clone(),
            subdirectory: wire.subdirectory.clone(),
        };
        return Ok((source, Role::Package));
    }
    if let Some(path) = &wire.path {
        let source = PackageSource::Path {
            path: path.clone(),
            kind: PathKind::Archive,
            editable: false,
        };
        return Ok((source, Role::Package));
    }
    if let Some(path) = &wire.directory {
        return Ok((local(path, false), root_or(path, Role::Package)));
    }
    if let Some(path) = &wire.editable {
        return Ok((local(path, true), root_or(path, Role::Package)));
    }
    if let Some(path) = &wire.virtual_path {
        return Ok((local(path, false), root_or(path, Role::Virtual)));
    }
    match wire.other.iter().next() {
        Some((kind, value)) => {
            let url = value.as_str().unwrap_or_default().to_string();
            let kind = kind.clone();
            Ok((PackageSource::Unsupported { kind, url }, Role::Package))
        }
        None => Err("has an empty `source`".to_string()),
    }
}

/// A URL for a message: the `user:token@` of its authority left out, so that credentials in
/// a lock's git URL reach no message.
fn without_userinfo(text: &str) -> String {
    let Some(start) = text.find("://") else {
        return text.to_string();
    };
    let (scheme, after) = text.split_at(start + 3);
    let end = after
        .find(|c: char| matches!(c, '/' | '?' | '#'))
        .unwrap_or(after.len());
    match after[..end].rfind('@') {
        Some(at) => format!("{scheme}{}", &after[at + 1..]),
        None => text.to_string(),
    }
}

fn is_workspace_root(path: &str) -> bool {
    matches!(path.trim_end_matches('/'), "." | "")
}

/// `https://host/repo?rev=main&subdirectory=x#<commit>`; uv writes the reference as `rev`,
/// `tag` or `branch` (none for the default branch) and always the commit.
fn parse_git_source(text: &str) -> Result<GitSource, String> {
    let shown = without_userinfo(text);
    let (rest, commit) = text
        .rsplit_once('#')
        .ok_or_else(|| format!("git source `{shown}` does not end in `#<commit>`"))?;
    let is_commit =
        matches!(commit.len(), 40 | 64) && commit.bytes().all(|b| b.is_ascii_hexdigit());
    if !is_commit {
        return Err(format!(
            "git source `{shown}` has `{commit}` where a full commit id belongs"
        ));
    }
    let (base, query) = rest.split_once('?').unwrap_or((rest, ""));
    let mut reference = None;
    let mut subdirectory = None;
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode(&value.replace('+', " "));
        match key {
            "rev" | "tag" | "branch" => reference = Some(value),
            "subdirectory" => subdirectory = Some(value),
            _ => {}
        }
    }
    Ok(GitSource {
        url: base.strip_prefix("git+").unwrap_or(base).to_string(),
        reference,
        commit: Some(commit.to_ascii_lowercase()),
        subdirectory,
        submodules: false,
    })
}

/// The sdist and the wheels. A file without a location of its own is the source's archive
/// (a direct URL or a local path).
fn convert_files(wire: &PackageWire, source: &PackageSource) -> Result<Vec<LockedFile>, String> {
    if let PackageSource::Path {
        kind: PathKind::FindLinks,
        ..
    } = source
    {
        for file in wire.sdist.iter().chain(&wire.wheels) {
            match (&file.path, &file.url) {
                (Some(path), _) if !path.contains(['/', '\\']) => {}
                (None, Some(_)) => {}
                _ => {
                    return Err(
                        "has a find-links file that is not named by its file name in the directory"
                            .to_string(),
                    )
                }
            }
        }
    }
    let (source_url, source_path) = match source {
        PackageSource::Url { url, .. } => (Some(url.as_str()), None),
        PackageSource::Path {
            path,
            kind: PathKind::Archive,
            ..
        } => (None, Some(path.as_str())),
        _ => (None, None),
    };
    wire.sdist
        .iter()
        .chain(&wire.wheels)
        .map(|file| convert_file(file, source_url, source_path))
        .collect()
}

fn convert_file(
    wire: &FileWire,
    source_url: Option<&str>,
    source_path: Option<&str>,
) -> Result<LockedFile, String> {
    let url = match (&wire.url, &wire.path, &wire.filename) {
        (Some(url), _, _) => Some(url.clone()),
        (None, None, None) => source_url.map(str::to_string),
        _ => None,
    };
    let filename = match (&wire.filename, &url, &wire.path) {
        (Some(filename), _, _) => filename.clone(),
        (None, Some(url), _) => url_filename(url),
        (None, None, Some(path)) => path_filename(path),
        (None, None, None) => source_path.map(path_filename).unwrap_or_default(),
    };
    if filename.is_empty() {
        return Err("has a file without a name (no `url`, `path` or `filename`)".to_string());
    }
    let hash = wire
        .hash
        .as_deref()
        .map(FileHash::parse)
        .transpose()
        .map_err(|e| format!("file `{filename}`: {e}"))?;
    Ok(LockedFile {
        filename,
        hash,
        url,
        size: wire.size,
    })
}

/// The last path segment of a URL, without query or fragment, percent-decoded: the file name
/// a URL names.
///
/// ```
/// assert_eq!(py2nix_lock::url_filename("https://h/p/My%20pkg-1.0.tar.gz#sha256=ab"), "My pkg-1.0.tar.gz");
/// ```
pub fn url_filename(url: &str) -> String {
    let end = url
        .bytes()
        .position(|b| b == b'?' || b == b'#')
        .unwrap_or(url.len());
    let path = url.get(..end).unwrap_or(url);
    percent_decode(path.rsplit('/').next().unwrap_or_default())
}

fn path_filename(path: &str) -> String {
    path.rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .to_string()
}

fn percent_decode(text: &str) -> String {
    if !text.contains('%') {
        return text.to_string();
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escaped = bytes
            .get(index + 1..index + 3)
            .filter(|hex| bytes[index] == b'%' && hex.iter().all(u8::is_ascii_hexdigit))
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                index += 3;
            }
            None => {
                out.push(bytes[index]);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn convert_dependencies(wires: &[DependencyWire]) -> Result<Vec<Dependency>, String> {
    wires
        .iter()
        .map(|wire| {
            convert_dependency(wire).map_err(|e| format!("dependency `{}`: {e}", wire.name))
        })
        .collect()
}

fn convert_dependency(wire: &DependencyWire) -> Result<Dependency, String> {
    let version = match &wire.version {
        Some(text) => {
            let version =
                Version::from_str(text).map_err(|e| format!("invalid version `{text}`: {e}"))?;
            VersionConstraint::from_pep440(VersionSpecifier::equals_version(version).into())
        }
        None => VersionConstraint::any(),
    };
    edge(&wire.name, version, wire.marker.as_deref(), &wire.extra)
}

fn convert_requirement(wire: &RequirementWire) -> Result<Dependency, String> {
    let version = match &wire.specifier {
        Some(text) => VersionSpecifiers::from_str(text)
            .map(VersionConstraint::from_pep440)
            .map_err(|e| format!("invalid specifier `{text}`: {e}"))?,
        None => VersionConstraint::any(),
    };
    edge(&wire.name, version, wire.marker.as_deref(), &wire.extras)
        .map_err(|e| format!("requirement `{}`: {e}", wire.name))
}

fn edge(
    name: &str,
    version: VersionConstraint,
    marker: Option<&str>,
    extras: &[String],
) -> Result<Dependency, String> {
    let name = PackageName::from_str(name).map_err(|e| e.to_string())?;
    let marker = marker
        .map(parse_marker)
        .transpose()?
        .unwrap_or(MarkerTree::TRUE);
    let extras = extras
        .iter()
        .map(|e| ExtraName::from_str(e).map_err(|err| format!("extra `{e}`: {err}")))
        .collect::<Result<_, _>>()?;
    Ok(Dependency {
        name,
        version,
        marker,
        python: None,
        extras,
        optional: false,
    })
}

/// Replaces edges to packages that are not installed by themselves (the project, virtual
/// members) with those packages' own edges.
struct Inliner<'a> {
    virtual_nodes: HashMap<&'a PackageName, &'a Node>,
}

/// How many edges flattening one list may visit: uv writes few virtual packages, but a
/// crafted lock could make the paths through them exponential.
const INLINE_BUDGET: usize = 100_000;

impl<'a> Inliner<'a> {
    fn new(nodes: &'a [Node]) -> Self {
        let virtual_nodes = nodes
            .iter()
            .filter(|node| node.role != Role::Package)
            .map(|node| (&node.name, node))
            .collect();
        Inliner { virtual_nodes }
    }

    fn inline(&self, edges: &[Dependency]) -> Result<Vec<Dependency>, LockError> {
        let mut out = Vec::with_capacity(edges.len());
        let mut budget = INLINE_BUDGET;
        for edge in edges {
            self.inline_edge(edge, &mut Vec::new(), &mut out, &mut budget)?;
        }
        Ok(out)
    }

    /// `path` holds the virtual packages being expanded, so that a cycle through them ends.
    fn inline_edge(
        &self,
        edge: &Dependency,
        path: &mut Vec<PackageName>,
        out: &mut Vec<Dependency>,
        budget: &mut usize,
    ) -> Result<(), LockError> {
        *budget = budget.checked_sub(1).ok_or_else(|| {
            LockError::Project(format!(
                "the dependencies of uv.lock's virtual packages nest too deeply to flatten \
                 (more than {INLINE_BUDGET} edges)"
            ))
        })?;
        let Some(node) = self.virtual_nodes.get(&edge.name) else {
            out.push(edge.clone());
            return Ok(());
        };
        if path.contains(&edge.name) {
            return Ok(());
        }
        path.push(edge.name.clone());
        let extra_edges = edge
            .extras
            .iter()
            .filter_map(|extra| node.optional.get(extra))
            .flatten();
        for dependency in node.dependencies.iter().chain(extra_edges) {
            let mut marker = edge.marker.clone();
            marker.and(dependency.marker.clone());
            let replaced = Dependency {
                marker,
                ..dependency.clone()
            };
            self.inline_edge(&replaced, path, out, budget)?;
        }
        path.pop();
        Ok(())
    }

    fn inline_map<K: Ord + Clone>(
        &self,
        map: &BTreeMap<K, Vec<Dependency>>,
    ) -> Result<BTreeMap<K, Vec<Dependency>>, LockError> {
        map.iter()
            .map(|(key, edges)| Ok((key.clone(), self.inline(edges)?)))
            .collect()
    }
}

/// The installable packages, in file order; a (name, version, source) twice is an error.
fn locked_packages(nodes: &[Node], inliner: &Inliner) -> Result<Vec<LockedPackage>, LockError> {
    let mut seen = HashSet::new();
    let mut packages = Vec::with_capacity(nodes.len());
    for node in nodes.iter().filter(|node| node.role == Role::Package) {
        let key = (
            node.name.clone(),
            node.version.clone(),
            format!("{:?}", node.source),
        );
        if !seen.insert(key) {
            return Err(LockError::DuplicatePackage {
                name: node.name.to_string(),
                version: node.version.to_string(),
            });
        }
        packages.push(locked_package(node, inliner)?);
    }
    Ok(packages)
}

fn locked_package(node: &Node, inliner: &Inliner) -> Result<LockedPackage, LockError> {
    let mut dependencies = inliner.inline(&node.dependencies)?;
    let mut extras = BTreeMap::new();
    for (extra, edges) in &node.optional {
        let condition = parse_marker(&format!("extra == '{extra}'"))
            .map_err(|e| LockError::package(node.label(), e))?;
        let mut names: Vec<PackageName> = Vec::new();
        for mut dependency in inliner.inline(edges)? {
            dependency.marker.and(condition.clone());
            if !names.contains(&dependency.name) {
                names.push(dependency.name.clone());
            }
            dependencies.push(dependency);
        }
        extras.insert(extra.clone(), names);
    }
    Ok(LockedPackage {
        name: node.name.clone(),
        version: node.version.clone(),
        requires_python: VersionConstraint::any(),
        marker: node.marker.clone(),
        files: node.files.clone(),
        dependencies,
        extras,
        source: node.source.clone(),
        dependencies_known: true,
        requested_extras: Vec::new(),
        index_hashes: None,
    })
}

/// The project of a workspace whose root is a package (editable, virtual or not).
fn root_project(root: &Node, inliner: &Inliner) -> Result<Project, LockError> {
    let groups = inliner.inline_map(&root.groups)?;
    let default_groups = default_groups(root.default_groups.as_ref(), &groups)?;
    Ok(Project {
        name: Some(root.name.clone()),
        requires_python: None,
        dependencies: inliner.inline(&root.dependencies)?,
        extras: inliner.inline_map(&root.optional)?,
        groups,
        default_groups,
        indexes: Vec::new(),
        root: if root.virtual_source {
            ProjectRoot::Virtual
        } else {
            ProjectRoot::Package {
                version: root.version_recorded.then(|| root.version.clone()),
            }
        },
        ..Project::default()
    })
}

fn manifest_error(message: String) -> LockError {
    LockError::Project(format!("uv.lock `[manifest]`: {message}"))
}

/// The project of a virtual workspace root: every member, the manifest's groups.
fn virtual_root_project(
    manifest: &ManifestWire,
    nodes: &[Node],
    inliner: &Inliner,
) -> Result<Project, LockError> {
    let members = workspace_members(manifest, nodes)?;
    let mut dependencies: Vec<Dependency> = members
        .iter()
        .map(|member| member_edge(member, Vec::new()))
        .collect();
    for requirement in &manifest.requirements {
        dependencies.push(convert_requirement(requirement).map_err(manifest_error)?);
    }
    let mut extras: BTreeMap<ExtraName, Vec<Dependency>> = BTreeMap::new();
    for member in &members {
        for extra in member.optional.keys() {
            let edge = member_edge(member, vec![extra.clone()]);
            extras.entry(extra.clone()).or_default().push(edge);
        }
    }
    let groups = inliner.inline_map(&virtual_root_groups(manifest, &members)?)?;
    let default_groups = default_groups(manifest.default_groups.as_ref(), &groups)?;
    Ok(Project {
        name: None,
        requires_python: None,
        dependencies: inliner.inline(&dependencies)?,
        extras: inliner.inline_map(&extras)?,
        groups,
        default_groups,
        indexes: Vec::new(),
        root: ProjectRoot::Virtual,
        ..Project::default()
    })
}

/// The `[[package]]` of each `[manifest] members` entry.
fn workspace_members<'a>(
    manifest: &ManifestWire,
    nodes: &'a [Node],
) -> Result<Vec<&'a Node>, LockError> {
    manifest
        .members
        .iter()
        .map(|member| {
            let name = PackageName::from_str(member).map_err(|e| manifest_error(e.to_string()))?;
            nodes
                .iter()
                .find(|node| node.name == name && matches!(node.source, PackageSource::Path { .. }))
                .ok_or_else(|| manifest_error(format!("workspace member `{member}` is not locked")))
        })
        .collect()
}

/// `[manifest.dependency-groups]` merged with the members' own groups.
fn virtual_root_groups(
    manifest: &ManifestWire,
    members: &[&Node],
) -> Result<BTreeMap<String, Vec<Dependency>>, LockError> {
    let mut groups: BTreeMap<String, Vec<Dependency>> = BTreeMap::new();
    for (group, requirements) in &manifest.dependency_groups {
        let entry = groups.entry(normalize_group(group)).or_default();
        for requirement in requirements {
            entry.push(convert_requirement(requirement).map_err(manifest_error)?);
        }
    }
    for member in members {
        for (group, edges) in &member.groups {
            let entry = groups.entry(group.clone()).or_default();
            entry.extend(edges.iter().cloned());
        }
    }
    Ok(groups)
}

fn member_edge(member: &Node, extras: Vec<ExtraName>) -> Dependency {
    Dependency {
        name: member.name.clone(),
        version: VersionConstraint::any(),
        marker: MarkerTree::TRUE,
        python: None,
        extras,
        optional: false,
    }
}

/// The lock's `default-groups` (normalised; `"all"` is every group), else uv's `["dev"]`.
fn default_groups(
    wire: Option<&DefaultGroupsWire>,
    groups: &BTreeMap<String, Vec<Dependency>>,
) -> Result<Vec<String>, LockError> {
    match wire {
        None => Ok(vec!["dev".to_string()]),
        Some(DefaultGroupsWire::List(names)) => {
            Ok(names.iter().map(|name| normalize_group(name)).collect())
        }
        Some(DefaultGroupsWire::Keyword(keyword)) if keyword == "all" => {
            Ok(groups.keys().cloned().collect())
        }
        Some(DefaultGroupsWire::Keyword(other)) => Err(LockError::Project(format!(
            "uv.lock `default-groups` is `{other}`; expected a list of groups or \"all\""
        ))),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn git_source_errors_name_the_url_without_its_credentials() {
        let error =
            super::parse_git_source("https://me:t0k@h.example/r.git?rev=main#main").unwrap_err();
        assert_eq!(error, "git source `https://h.example/r.git?rev=main#main` has `main` where a full commit id belongs");
        let error = super::parse_git_source("https://t0k@h.example/r.git").unwrap_err();
        assert!(!error.contains("t0k"), "{error}");
    }

    use std::collections::{BTreeSet, VecDeque};

    use pep508_rs::{MarkerEnvironment, MarkerEnvironmentBuilder};

    use super::*;

    const FLASK_PILLOW: &str = include_str!("../../../fixtures/uv/flask-pillow/uv.lock");
    const FORKS: &str = include_str!("../../../fixtures/uv/forks/uv.lock");
    const WORKSPACE: &str = include_str!("../../../fixtures/uv/workspace/uv.lock");
    const VIRTUAL_ROOT: &str = include_str!("../../../fixtures/uv/virtual-root/uv.lock");
    const OLD_REVISION: &str = include_str!("../../../fixtures/uv/old-revision/uv.lock");

    const SHA_A: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

    /// A lock with one root (`app`, editable `.`) and the given packages after it.
    fn lock_with(root_dependencies: &str, packages: &str) -> String {
        format!(
            r#"version = 1
revision = 3
requires-python = ">=3.10"

[[package]]
name = "app"
version = "0.1.0"
source = {{ editable = "." }}
dependencies = [{root_dependencies}]
{packages}"#
        )
    }

    fn package<'a>(lock: &'a Lock, name: &str) -> &'a LockedPackage {
        let matching: Vec<_> = lock
            .packages
            .iter()
            .filter(|p| p.name.as_ref() == name)
            .collect();
        assert_eq!(matching.len(), 1, "{name}");
        matching[0]
    }

    fn names(deps: &[Dependency]) -> Vec<String> {
        deps.iter().map(|d| d.name.to_string()).collect()
    }

    fn marker(text: &str) -> MarkerTree {
        MarkerTree::from_str(text).unwrap()
    }

    fn linux(python: &str) -> MarkerEnvironment {
        let minor = python.rsplit_once('.').map_or(python, |(minor, _)| minor);
        MarkerEnvironment::try_from(MarkerEnvironmentBuilder {
            implementation_name: "cpython",
            implementation_version: python,
            os_name: "posix",
            platform_machine: "x86_64",
            platform_python_implementation: "CPython",
            platform_release: "",
            platform_system: "Linux",
            platform_version: "",
            python_full_version: python,
            python_version: minor,
            sys_platform: "linux",
        })
        .unwrap()
    }

    /// What `uv sync` installs on Linux x86_64 with `python`: the project's dependencies,
    /// default groups and `extras`, walked through the lock the way the planner walks it
    /// (edge markers with the package's extras; among versions, the one the edge pins or
    /// whose fork marker holds). Returns `name==version` for each package.
    fn installed(lock: &Lock, extras: &[&str], python: &str) -> BTreeSet<String> {
        let env = linux(python);
        let project = lock.project.as_ref().unwrap();
        let mut queue: VecDeque<Dependency> = project.dependencies.iter().cloned().collect();
        for group in &project.default_groups {
            queue.extend(project.groups.get(group).into_iter().flatten().cloned());
        }
        for extra in extras {
            let extra = ExtraName::from_str(extra).unwrap();
            queue.extend(project.extras[&extra].iter().cloned());
        }
        queue.retain(|dep| dep.marker.evaluate(&env, &[]));
        let mut chosen: BTreeMap<PackageName, (usize, BTreeSet<ExtraName>)> = BTreeMap::new();
        while let Some(dep) = queue.pop_front() {
            let candidates: Vec<usize> = (0..lock.packages.len())
                .filter(|&i| {
                    let p = &lock.packages[i];
                    p.name == dep.name && dep.version.contains(&p.version)
                })
                .collect();
            let index = *candidates
                .iter()
                .find(|&&i| {
                    lock.packages[i]
                        .marker
                        .as_ref()
                        .is_none_or(|m| m.evaluate(&env, &[]))
                })
                .or(candidates.first())
                .unwrap_or_else(|| panic!("no locked version for {}", dep.name));
            let (chosen_index, active) = chosen
                .entry(dep.name.clone())
                .or_insert((index, BTreeSet::new()));
            assert_eq!(*chosen_index, index, "two versions of {}", dep.name);
            let before = active.len();
            active.extend(dep.extras.iter().cloned());
            if before == active.len() && before > 0 {
                continue;
            }
            let active: Vec<ExtraName> = active.iter().cloned().collect();
            for edge in &lock.packages[index].dependencies {
                if edge.marker.evaluate(&env, &active) && edge.name != dep.name {
                    let seen = chosen.get(&edge.name).is_some_and(|(_, have)| {
                        edge.extras.iter().all(|extra| have.contains(extra))
                    });
                    if !seen {
                        queue.push_back(edge.clone());
                    }
                }
            }
        }
        chosen
            .values()
            .map(|&(i, _)| format!("{}=={}", lock.packages[i].name, lock.packages[i].version))
            .collect()
    }

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn flask_pillow_fixture_forks_pytest_by_python_version() {
        let lock = parse_uv_lock(FLASK_PILLOW).unwrap();
        assert_eq!(
            (lock.format, lock.lock_version.as_str()),
            (LockFormat::Uv, "1")
        );
        assert!(lock.warnings.is_empty());
        assert_eq!(lock.install, InstallSet::Graph);
        // 28 [[package]] tables; the project (`virtual = "."`) is not one of the packages.
        assert_eq!(lock.packages.len(), 27);
        assert!(lock
            .packages
            .iter()
            .all(|p| p.name.as_ref() != "flask-pillow"));
        let project = lock.project.as_ref().unwrap();
        assert_eq!(project.name.as_ref().unwrap().as_ref(), "flask-pillow");
        assert_eq!(
            names(&project.dependencies),
            ["flask", "pillow", "requests"]
        );
        assert_eq!(project.default_groups, ["dev"]);
        let python = project.requires_python.as_ref().unwrap();
        assert!(python.contains(&"3.9.0".parse().unwrap()));
        assert!(!python.contains(&"3.14.0".parse().unwrap()));
        let dev = &project.groups["dev"];
        assert_eq!(names(dev), ["pytest", "pytest"]);
        assert_eq!(dev[0].marker, marker("python_full_version < '3.10'"));
        assert!(dev[0].version.contains(&"8.4.2".parse().unwrap()));
        assert!(!dev[0].version.contains(&"9.2.0".parse().unwrap()));
        let pytests: Vec<_> = lock
            .packages
            .iter()
            .filter(|p| p.name.as_ref() == "pytest")
            .collect();
        assert_eq!(pytests.len(), 2);
        assert_eq!(
            pytests[1].marker,
            Some(marker("python_full_version >= '3.10'"))
        );
        assert!(package(&lock, "flask").marker.is_none());
        let pillow = package(&lock, "pillow");
        assert_eq!(pillow.version.to_string(), "11.3.0");
        assert_eq!(
            pillow.source,
            PackageSource::Index {
                name: String::new(),
                url: "https://pypi.org/simple".to_string()
            }
        );
        assert!(pillow.files.len() > 50);
        let sdist = &pillow.files[0];
        assert_eq!(sdist.filename, "pillow-11.3.0.tar.gz");
        assert!(sdist
            .url
            .as_ref()
            .unwrap()
            .ends_with("/pillow-11.3.0.tar.gz"));
        assert_eq!(sdist.hash.as_ref().unwrap().algorithm, "sha256");
        assert!(pillow.requires_python.is_any() && pillow.dependencies_known);
    }

    #[test]
    fn flask_pillow_fixture_installs_what_uv_export_lists() {
        let lock = parse_uv_lock(FLASK_PILLOW).unwrap();
        let main = [
            "blinker==1.9.0",
            "certifi==2026.10.18",
            "charset-normalizer==3.5.2",
            "click==8.1.8",
            "flask==3.1.3",
            "idna==3.20",
            "itsdangerous==2.2.0",
            "jinja2==3.1.6",
            "markupsafe==3.0.4",
            "pillow==11.3.0",
            "requests==2.32.5",
            "urllib3==2.6.3",
            "werkzeug==3.1.9",
        ];
        let mut py311 = set(&main);
        py311.extend(set(&[
            "iniconfig==2.3.1",
            "packaging==26.3",
            "pluggy==1.7.0",
        ]));
        py311.extend(set(&["pygments==2.21.0", "pytest==9.2.0"]));
        assert_eq!(installed(&lock, &[], "3.11.9"), py311);
        let mut py39 = set(&main);
        py39.extend(set(&["exceptiongroup==1.3.1", "importlib-metadata==8.7.1"]));
        py39.extend(set(&[
            "iniconfig==2.1.0",
            "packaging==26.3",
            "pluggy==1.6.0",
        ]));
        py39.extend(set(&["pygments==2.21.0", "pytest==8.4.2", "tomli==2.5.0"]));
        py39.extend(set(&["typing-extensions==4.16.0", "zipp==3.23.1"]));
        assert_eq!(installed(&lock, &[], "3.9.18"), py39);
    }

    #[test]
    fn forks_fixture_numpy_versions_markers_and_extras() {
        let lock = parse_uv_lock(FORKS).unwrap();
        assert_eq!(lock.packages.len(), 10);
        let project = lock.project.as_ref().unwrap();
        assert_eq!(project.name.as_ref().unwrap().as_ref(), "forks");
        assert_eq!(
            names(&project.dependencies),
            ["colorama", "numpy", "numpy", "tomli"]
        );
        assert_eq!(
            project.dependencies[0].marker,
            marker("sys_platform == 'win32'")
        );
        let http = &project.extras[&ExtraName::from_str("http").unwrap()];
        assert_eq!(names(http), ["requests"]);
        assert_eq!(http[0].extras, [ExtraName::from_str("socks").unwrap()]);
        assert!(project.groups.is_empty());
        let numpy: Vec<_> = lock
            .packages
            .iter()
            .filter(|p| p.name.as_ref() == "numpy")
            .collect();
        assert_eq!(numpy[0].version.to_string(), "1.26.4");
        assert_eq!(
            numpy[0].marker,
            Some(marker("python_full_version < '3.12'"))
        );
        assert_eq!(
            numpy[1].marker,
            Some(marker("python_full_version >= '3.12'"))
        );
        // requests' `socks` extra: an edge to pysocks that only holds with the extra.
        let requests = package(&lock, "requests");
        let socks = ExtraName::from_str("socks").unwrap();
        assert_eq!(requests.extras[&socks][0].as_ref(), "pysocks");
        let pysocks = requests
            .dependencies
            .iter()
            .find(|d| d.name.as_ref() == "pysocks");
        assert_eq!(pysocks.unwrap().marker, marker("extra == 'socks'"));
        let base = [
            "certifi==2026.10.18",
            "charset-normalizer==3.5.2",
            "idna==3.20",
            "pysocks==1.7.1",
            "requests==2.34.2",
            "urllib3==2.8.0",
        ];
        let mut py310 = set(&base);
        py310.extend(set(&["numpy==1.26.4", "tomli==2.5.0"]));
        assert_eq!(installed(&lock, &["http"], "3.10.14"), py310);
        let mut py313 = set(&base);
        py313.insert("numpy==2.5.4".to_string());
        assert_eq!(installed(&lock, &["http"], "3.13.1"), py313);
        assert_eq!(installed(&lock, &[], "3.13.1"), set(&["numpy==2.5.4"]));
    }

    #[test]
    fn workspace_fixture_members_are_editable_packages() {
        let lock = parse_uv_lock(WORKSPACE).unwrap();
        assert_eq!(lock.packages.len(), 5);
        let project = lock.project.as_ref().unwrap();
        assert_eq!(project.name.as_ref().unwrap().as_ref(), "ws-root");
        assert_eq!(names(&project.dependencies), ["attrs", "ws-app"]);
        assert_eq!(project.default_groups, ["dev", "lint"]);
        assert_eq!(names(&project.groups["dev"]), ["idna", "six"]);
        assert_eq!(names(&project.groups["lint"]), ["idna"]);
        let app = package(&lock, "ws-app");
        let editable = |path: &str| PackageSource::Path {
            path: path.to_string(),
            kind: PathKind::Directory,
            editable: true,
        };
        assert_eq!(app.source, editable("packages/app"));
        assert!(app.files.is_empty());
        assert_eq!(names(&app.dependencies), ["attrs", "ws-lib"]);
        // ws-lib's version is dynamic: uv.lock has no `version` for it.
        let lib = package(&lock, "ws-lib");
        assert_eq!(
            (lib.version.to_string(), &lib.source),
            ("0".to_string(), &editable("packages/lib"))
        );
        assert_eq!(
            installed(&lock, &[], "3.12.3"),
            set(&[
                "attrs==26.1.0",
                "idna==3.20",
                "six==1.17.0",
                "ws-app==0.2.0",
                "ws-lib==0"
            ])
        );
    }

    #[test]
    fn virtual_root_fixture_depends_on_its_members() {
        let lock = parse_uv_lock(VIRTUAL_ROOT).unwrap();
        // 10 [[package]] tables; vr-tool is virtual (`package = false`), so not installable.
        assert_eq!(lock.packages.len(), 9);
        assert!(lock.packages.iter().all(|p| p.name.as_ref() != "vr-tool"));
        let project = lock.project.as_ref().unwrap();
        assert!(project.name.is_none());
        assert_eq!(project.default_groups, ["dev"]);
        // The member stands for its own dependencies, markers kept.
        assert_eq!(names(&project.dependencies), ["attrs", "idna"]);
        assert_eq!(
            project.dependencies[1].marker,
            marker("sys_platform != 'win32'")
        );
        assert_eq!(names(&project.groups["dev"]), ["pytest", "attrs", "idna"]);
        assert_eq!(names(&project.groups["docs"]), ["six"]);
        let cli = &project.extras[&ExtraName::from_str("cli").unwrap()];
        assert_eq!(names(cli), ["attrs", "idna", "colorama"]);
        let pytest = [
            "iniconfig==2.3.1",
            "packaging==26.3",
            "pluggy==1.7.0",
            "pygments==2.21.0",
            "pytest==9.2.0",
        ];
        let mut expected = set(&pytest);
        expected.extend(set(&["attrs==26.1.0", "idna==3.20"]));
        assert_eq!(installed(&lock, &[], "3.11.9"), expected);
        expected.insert("colorama==0.4.6".to_string());
        assert_eq!(installed(&lock, &["cli"], "3.11.9"), expected);
    }

    #[test]
    fn old_revision_fixture_has_no_revision_and_reads() {
        assert!(!OLD_REVISION.contains("revision ="));
        let lock = parse_uv_lock(OLD_REVISION).unwrap();
        assert!(lock.warnings.is_empty());
        assert_eq!(lock.packages.len(), 16);
        let project = lock.project.as_ref().unwrap();
        assert_eq!(project.name.as_ref().unwrap().as_ref(), "old-revision");
        assert_eq!(names(&project.groups["dev"]), ["pytest"]);
        let socks = &project.extras[&ExtraName::from_str("socks").unwrap()];
        assert_eq!(socks[0].extras, [ExtraName::from_str("socks").unwrap()]);
        let expected = set(&[
            "attrs==26.1.0",
            "certifi==2026.10.18",
            "charset-normalizer==3.5.2",
            "idna==3.20",
            "iniconfig==2.1.0",
            "packaging==26.3",
            "pluggy==1.6.0",
            "pygments==2.21.0",
            "pysocks==1.7.1",
            "pytest==8.4.2",
            "requests==2.32.5",
            "urllib3==2.6.3",
        ]);
        assert_eq!(installed(&lock, &["socks"], "3.11.9"), expected);
    }

    #[test]
    fn git_sources_keep_reference_commit_and_subdirectory() {
        let check = |text: &str, url: &str, reference: Option<&str>, subdirectory: Option<&str>| {
            let git = parse_git_source(text).unwrap();
            assert_eq!(git.url, url, "{text}");
            assert_eq!(git.reference.as_deref(), reference, "{text}");
            assert_eq!(git.subdirectory.as_deref(), subdirectory, "{text}");
            assert_eq!(git.commit.as_deref(), Some(COMMIT), "{text}");
            assert!(!git.submodules);
        };
        let repo = "https://github.com/org/repo";
        check(
            &format!("{repo}?rev=main#{COMMIT}"),
            repo,
            Some("main"),
            None,
        );
        check(
            &format!("{repo}?tag=v1.0#{COMMIT}"),
            repo,
            Some("v1.0"),
            None,
        );
        check(
            &format!("{repo}?subdirectory=pkgs%2Fa&branch=feature%2Fx#{COMMIT}"),
            repo,
            Some("feature/x"),
            Some("pkgs/a"),
        );
        check(
            &format!("git+{repo}.git#{COMMIT}"),
            &format!("{repo}.git"),
            None,
            None,
        );
        let upper = format!("{repo}#{}", COMMIT.to_ascii_uppercase());
        check(&upper, repo, None, None);
        assert!(parse_git_source(repo).is_err());
        assert!(parse_git_source(&format!("{repo}?rev=main#main")).is_err());
    }

    #[test]
    fn git_package_has_no_files() {
        let text = lock_with(
            r#"{ name = "dep" }"#,
            &format!(
                r#"
[[package]]
name = "dep"
version = "1.0"
source = {{ git = "https://github.com/org/dep?tag=v1.0#{COMMIT}" }}
"#
            ),
        );
        let lock = parse_uv_lock(&text).unwrap();
        let dep = package(&lock, "dep");
        assert!(dep.files.is_empty());
        let PackageSource::Git(git) = &dep.source else {
            panic!("{:?}", dep.source)
        };
        assert_eq!(git.reference.as_deref(), Some("v1.0"));
    }

    #[test]
    fn url_source_names_its_archive() {
        // As uv writes a direct URL sdist: the hash only, the URL is the source's.
        let text = lock_with(
            r#"{ name = "six" }, { name = "idna" }"#,
            &format!(
                r#"
[[package]]
name = "six"
version = "1.17.0"
source = {{ url = "https://example.org/files/six-1.17.0.tar.gz", subdirectory = "src" }}
sdist = {{ hash = "{SHA_A}" }}

[[package]]
name = "idna"
version = "3.20"
source = {{ url = "https://example.org/files/idna-3.20-py3-none-any.whl" }}
wheels = [
    {{ url = "https://example.org/files/idna-3.20-py3-none-any.whl", hash = "{SHA_A}" }},
]
"#
            ),
        );
        let lock = parse_uv_lock(&text).unwrap();
        let six = package(&lock, "six");
        let url = "https://example.org/files/six-1.17.0.tar.gz";
        assert_eq!(
            six.source,
            PackageSource::Url {
                url: url.to_string(),
                subdirectory: Some("src".to_string())
            }
        );
        assert_eq!(six.files.len(), 1);
        assert_eq!(six.files[0].filename, "six-1.17.0.tar.gz");
        assert_eq!(six.files[0].url.as_deref(), Some(url));
        assert_eq!(six.files[0].hash, Some(FileHash::parse(SHA_A).unwrap()));
        let idna = package(&lock, "idna");
        assert_eq!(idna.files[0].filename, "idna-3.20-py3-none-any.whl");
    }

    #[test]
    fn path_archives_and_local_directories() {
        let text = lock_with(
            r#"{ name = "wheelpkg" }, { name = "sdistpkg" }, { name = "local" }, { name = "dev" }"#,
            &format!(
                r#"
[[package]]
name = "wheelpkg"
version = "2.0.0"
source = {{ path = "dist/wheelpkg-2.0.0-py2.py3-none-any.whl" }}
wheels = [
    {{ filename = "wheelpkg-2.0.0-py2.py3-none-any.whl", hash = "{SHA_A}" }},
]

[[package]]
name = "sdistpkg"
version = "1.0"
source = {{ path = "dist/sdistpkg-1.0.tar.gz" }}
sdist = {{ hash = "{SHA_A}" }}

[[package]]
name = "local"
version = "1.0"
source = {{ directory = "../local" }}

[[package]]
name = "dev"
version = "1.0"
source = {{ editable = "packages/dev" }}
"#
            ),
        );
        let lock = parse_uv_lock(&text).unwrap();
        let archive = |path: &str| PackageSource::Path {
            path: path.to_string(),
            kind: PathKind::Archive,
            editable: false,
        };
        let wheel = package(&lock, "wheelpkg");
        assert_eq!(
            wheel.source,
            archive("dist/wheelpkg-2.0.0-py2.py3-none-any.whl")
        );
        assert_eq!(
            wheel.files[0].filename,
            "wheelpkg-2.0.0-py2.py3-none-any.whl"
        );
        assert_eq!(wheel.files[0].url, None);
        let sdist = package(&lock, "sdistpkg");
        assert_eq!(sdist.source, archive("dist/sdistpkg-1.0.tar.gz"));
        assert_eq!(sdist.files[0].filename, "sdistpkg-1.0.tar.gz");
        let directory = |path: &str, editable: bool| PackageSource::Path {
            path: path.to_string(),
            kind: PathKind::Directory,
            editable,
        };
        assert_eq!(package(&lock, "local").source, directory("../local", false));
        assert_eq!(
            package(&lock, "dev").source,
            directory("packages/dev", true)
        );
        assert!(package(&lock, "dev").files.is_empty());
    }

    #[test]
    fn file_names_are_percent_decoded_and_sizes_kept() {
        let text = lock_with(
            r#"{ name = "odd" }"#,
            &format!(
                r#"
[[package]]
name = "odd"
version = "1.0+local"
source = {{ registry = "https://example.org/simple" }}
sdist = {{ url = "https://example.org/f/odd-1.0%2Blocal.tar.gz#frag", hash = "{SHA_A}", size = 1234, upload-time = "2024-01-01T00:00:00Z" }}
wheels = [{{ url = "https://example.org/f/odd-1.0-py3-none-any.whl?x=%zz", size = 99 }}]
"#
            ),
        );
        let lock = parse_uv_lock(&text).unwrap();
        let odd = package(&lock, "odd");
        assert_eq!(odd.files[0].filename, "odd-1.0+local.tar.gz");
        assert_eq!(odd.files[0].size, Some(1234));
        assert_eq!(odd.files[1].filename, "odd-1.0-py3-none-any.whl");
        assert_eq!(
            (odd.files[1].hash.clone(), odd.files[1].size),
            (None, Some(99))
        );
        assert_eq!(percent_decode("a%2Fb%2fc%zz%4"), "a/b/c%zz%4");
        assert_eq!(percent_decode("%+1%e2%82%ac"), "%+1€");
    }

    #[test]
    fn dependency_version_chooses_among_forked_versions() {
        let text = lock_with(
            r#"{ name = "lib", version = "1.0", source = { registry = "https://example.org/simple" }, marker = "python_full_version < '3.12'" },
    { name = "lib", version = "2.0", source = { registry = "https://example.org/simple" }, marker = "python_full_version >= '3.12'" }"#,
            r#"
[[package]]
name = "lib"
version = "1.0"
source = { registry = "https://example.org/simple" }
resolution-markers = ["python_full_version < '3.12' and sys_platform == 'linux'", "python_full_version < '3.12' and sys_platform != 'linux'"]

[[package]]
name = "lib"
version = "2.0"
source = { registry = "https://example.org/simple" }
resolution-markers = ["python_full_version >= '3.12'"]
"#,
        );
        let lock = parse_uv_lock(&text).unwrap();
        assert_eq!(lock.packages.len(), 2);
        assert_eq!(
            lock.packages[0].marker,
            Some(marker("python_full_version < '3.12'"))
        );
        let roots = &lock.project.as_ref().unwrap().dependencies;
        let v1: Version = "1.0".parse().unwrap();
        let v2: Version = "2.0".parse().unwrap();
        assert!(roots[0].version.contains(&v1) && !roots[0].version.contains(&v2));
        assert!(roots[1].version.contains(&v2) && !roots[1].version.contains(&v1));
        assert_eq!(installed(&lock, &[], "3.11.2"), set(&["lib==1.0"]));
        assert_eq!(installed(&lock, &[], "3.13.0"), set(&["lib==2.0"]));
    }

    #[test]
    fn unknown_major_version_is_refused() {
        let text = lock_with("", "").replace("version = 1\n", "version = 2\n");
        let err = parse_uv_lock(&text).unwrap_err().to_string();
        assert_eq!(
            err,
            "unsupported `uv.lock` version `2`: py2nix reads version 1"
        );
    }

    #[test]
    fn newer_revision_reads_with_a_warning() {
        let text = lock_with("", "").replace("revision = 3", "revision = 9");
        let lock = parse_uv_lock(&text).unwrap();
        assert_eq!(
            lock.warnings,
            ["uv.lock has revision 9, newer than py2nix knows (5); reading it as revision 5"]
        );
        let known = lock_with("", "").replace("revision = 3", "revision = 5");
        assert!(parse_uv_lock(&known).unwrap().warnings.is_empty());
    }

    #[test]
    fn invalid_marker_names_the_package() {
        let text = lock_with(
            "",
            r#"
[[package]]
name = "lib"
version = "1.0"
source = { registry = "https://example.org/simple" }
dependencies = [{ name = "six", marker = "python_version <<< '3'" }]
"#,
        );
        let err = parse_uv_lock(&text).unwrap_err().to_string();
        assert!(
            err.starts_with(
                "package `lib 1.0`: dependency `six`: invalid marker `python_version <<< '3'`"
            ),
            "{err}"
        );
    }

    #[test]
    fn bad_names_versions_and_hashes_name_the_package() {
        let one = |body: &str| {
            let text = lock_with("", &format!("\n[[package]]\n{body}\n"));
            parse_uv_lock(&text).unwrap_err().to_string()
        };
        let registry = r#"source = { registry = "https://example.org/simple" }"#;
        let err = one(&format!("name = \"lib\"\nversion = \"x.y\"\n{registry}"));
        assert!(
            err.starts_with("package `lib`: invalid version `x.y`"),
            "{err}"
        );
        let err = one(&format!("name = \"lib\"\n{registry}"));
        assert_eq!(err, "package `lib`: has no version");
        let err = one(&format!("name = \"-lib-\"\nversion = \"1\"\n{registry}"));
        assert!(err.starts_with("package `-lib-`: "), "{err}");
        let err = one(&format!(
            "name = \"lib\"\nversion = \"1\"\n{registry}\nsdist = {{ url = \"https://e.org/lib-1.tar.gz\", hash = \"sha256:abc\" }}"
        ));
        assert!(
            err.starts_with("package `lib 1`: file `lib-1.tar.gz`: hash"),
            "{err}"
        );
        let err = one("name = \"lib\"\nversion = \"1\"\nsource = {}");
        assert_eq!(err, "package `lib`: has an empty `source`");
    }

    #[test]
    fn duplicate_package_is_an_error() {
        let lib = r#"
[[package]]
name = "Lib"
version = "1.0"
source = { registry = "https://example.org/simple" }
"#;
        let text = lock_with("", &format!("{lib}{}", lib.replace("Lib", "lib")));
        let err = parse_uv_lock(&text).unwrap_err().to_string();
        assert_eq!(err, "package `lib` 1.0 appears twice in the lock");
        // The same name and version from two sources is two packages.
        let other = lib.replace("example.org", "example.com");
        assert_eq!(
            parse_uv_lock(&lock_with("", &format!("{lib}{other}")))
                .unwrap()
                .packages
                .len(),
            2
        );
    }

    #[test]
    fn invalid_toml_keeps_line_and_column() {
        let text = lock_with("", "\n[[package]]\nname = \"lib\nversion = \"1\"\n");
        let err = parse_uv_lock(&text).unwrap_err();
        assert!(matches!(err, LockError::Toml(_)));
        assert!(
            err.to_string()
                .starts_with("TOML parse error at line 12, column 12"),
            "{err}"
        );
        let err = parse_uv_lock("requires-python = \">=3.9\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing field `version`"), "{err}");
    }

    #[test]
    fn optional_dependencies_are_edges_guarded_by_their_extra() {
        let text = lock_with(
            r#"{ name = "lib", extra = ["fast"] }"#,
            r#"
[[package]]
name = "lib"
version = "1.0"
source = { registry = "https://example.org/simple" }

[package.optional-dependencies]
fast = [{ name = "speedups", marker = "sys_platform == 'linux'" }]

[[package]]
name = "speedups"
version = "1.0"
source = { registry = "https://example.org/simple" }
"#,
        );
        let lock = parse_uv_lock(&text).unwrap();
        let lib = package(&lock, "lib");
        let edge = &lib.dependencies[0];
        assert_eq!(
            edge.marker,
            marker("sys_platform == 'linux' and extra == 'fast'")
        );
        assert!(!edge.optional);
        assert_eq!(
            installed(&lock, &[], "3.11.1"),
            set(&["lib==1.0", "speedups==1.0"])
        );
    }

    #[test]
    fn virtual_members_and_the_root_stand_for_their_dependencies() {
        // `tools` is a virtual member with an extra; `lib` depends on it and on the root.
        let text = lock_with(
            r#"{ name = "tools", extra = ["x"], marker = "sys_platform == 'linux'" }"#,
            r#"
[[package]]
name = "tools"
version = "0.1.0"
source = { virtual = "packages/tools" }
dependencies = [{ name = "lib", marker = "python_full_version >= '3.11'" }]

[package.optional-dependencies]
x = [{ name = "six" }]

[[package]]
name = "lib"
version = "1.0"
source = { editable = "packages/lib" }
dependencies = [{ name = "tools" }, { name = "app" }]

[[package]]
name = "six"
version = "1.17.0"
source = { registry = "https://example.org/simple" }
"#,
        );
        let lock = parse_uv_lock(&text).unwrap();
        let project = lock.project.as_ref().unwrap();
        assert_eq!(names(&project.dependencies), ["lib", "six"]);
        assert_eq!(
            project.dependencies[0].marker,
            marker("sys_platform == 'linux' and python_full_version >= '3.11'")
        );
        // lib -> tools -> lib (a cycle through a virtual package) and lib -> app -> tools.
        assert_eq!(
            names(&package(&lock, "lib").dependencies),
            ["lib", "lib", "six"]
        );
        assert_eq!(lock.packages.len(), 2);
    }

    #[test]
    fn exponential_virtual_paths_stop_with_an_error() {
        // v0 -> a0, b0 -> v1 -> a1, b1 -> v2 ...: 2^24 paths through virtual packages.
        let mut packages = String::new();
        let virtual_package = |name: String, deps: &[String]| {
            let deps: Vec<String> = deps
                .iter()
                .map(|d| format!("{{ name = \"{d}\" }}"))
                .collect();
            format!(
                "\n[[package]]\nname = \"{name}\"\nversion = \"1\"\nsource = {{ virtual = \"{name}\" }}\ndependencies = [{}]\n",
                deps.join(", ")
            )
        };
        for level in 0..24 {
            let next = format!("v{}", level + 1);
            let (a, b) = (format!("a{level}"), format!("b{level}"));
            packages += &virtual_package(format!("v{level}"), &[a.clone(), b.clone()]);
            packages += &virtual_package(a, std::slice::from_ref(&next));
            packages += &virtual_package(b, &[next]);
        }
        packages += &virtual_package("v24".to_string(), &[]);
        let err = parse_uv_lock(&lock_with(r#"{ name = "v0" }"#, &packages)).unwrap_err();
        assert!(err.to_string().contains("nest too deeply"), "{err}");
    }

    #[test]
    fn default_groups_come_from_the_lock() {
        let text = lock_with("", "").replace(
            "source = { editable = \".\" }",
            "source = { editable = \".\" }\ndefault-groups = \"all\"",
        ) + "\n[package.dev-dependencies]\nDocs_Site = []\ntest = []\n";
        let project = parse_uv_lock(&text).unwrap().project.unwrap();
        assert_eq!(project.default_groups, ["docs-site", "test"]);
        let virtual_root = r#"version = 1
revision = 2
requires-python = ">=3.12"

[manifest]
members = ["tool"]
requirements = [{ name = "six", specifier = ">=1.16" }]
default-groups = ["docs"]

[manifest.dependency-groups]
docs = [{ name = "six", extras = ["x"], marker = "os_name == 'posix'" }]

[[package]]
name = "tool"
version = "1.0"
source = { directory = "packages/tool" }

[package.dev-dependencies]
docs = [{ name = "idna" }]

[[package]]
name = "six"
version = "1.17.0"
source = { registry = "https://example.org/simple" }

[[package]]
name = "idna"
version = "3.20"
source = { registry = "https://example.org/simple" }
"#;
        let lock = parse_uv_lock(virtual_root).unwrap();
        let project = lock.project.unwrap();
        assert_eq!(project.default_groups, ["docs"]);
        assert_eq!(names(&project.dependencies), ["tool", "six"]);
        assert!(!project.dependencies[1]
            .version
            .contains(&"1.15".parse().unwrap()));
        assert_eq!(names(&project.groups["docs"]), ["six", "idna"]);
        assert_eq!(
            project.groups["docs"][0].marker,
            marker("os_name == 'posix'")
        );
        let missing = virtual_root.replace("members = [\"tool\"]", "members = [\"gone\"]");
        let err = parse_uv_lock(&missing).unwrap_err().to_string();
        assert_eq!(
            err,
            "uv.lock `[manifest]`: workspace member `gone` is not locked"
        );
    }

    #[test]
    fn unknown_source_kind_is_unsupported_not_an_error() {
        let text = lock_with(
            "",
            r#"
[[package]]
name = "lib"
version = "1.0"
source = { hg = "https://example.org/lib" }
"#,
        );
        let lock = parse_uv_lock(&text).unwrap();
        assert_eq!(
            package(&lock, "lib").source,
            PackageSource::Unsupported {
                kind: "hg".to_string(),
                url: "https://example.org/lib".to_string()
            }
        );
    }

    #[test]
    fn a_large_lock_read_in_pieces_is_the_lock_read_whole() {
        let text = include_str!("../../../fixtures/bench/jupyterlab/uv.lock");
        let whole = from_wire(toml::from_str(text).unwrap(), Vec::new()).unwrap();
        for pieces in 2..=4 {
            let cuts = crate::parts::cut_points(text, "[[package]]", pieces);
            assert_eq!(cuts.len(), pieces - 1);
            let (mut head, rest) =
                crate::parts::parse_pieces::<UvLockWire, RestWire>(text, &cuts).unwrap();
            for piece in rest {
                head.packages.extend(piece.packages);
            }
            let read = from_wire(head, Vec::new()).unwrap();
            assert_eq!(format!("{read:?}"), format!("{whole:?}"), "{pieces} pieces");
        }
        // The public entry point takes the same path on a machine with several cores.
        let parsed = parse_uv_lock(text).unwrap();
        assert_eq!(format!("{parsed:?}"), format!("{whole:?}"));
    }

    #[test]
    fn pieces_that_do_not_hold_only_packages_send_the_file_to_one_parse() {
        let mut text = String::from("version = 1\nrequires-python = \">=3.11\"\n");
        let package = |i: usize| {
            format!(
                "[[package]]\nname = \"p{i}\"\nversion = \"1.0\"\nsource = {{ registry = \"https://example.org/simple\" }}\nsdist = {{ url = \"https://example.org/p{i}-1.0.tar.gz\", hash = \"sha256:{}\", size = 1 }}\n\n",
                "0".repeat(64)
            )
        };
        for i in 0..2000 {
            text.push_str(&package(i));
        }
        let cuts = crate::parts::cut_points(&text, "[[package]]", 2);
        assert_eq!(cuts.len(), 1);
        assert_eq!(
            parse_in_pieces(&text).map(|(_, nodes)| nodes.unwrap().len()),
            if crate::parts::pieces_for(&text) > 1 {
                Some(2000)
            } else {
                None
            }
        );
        // A bad package in a later piece: the error is the one a whole parse gives.
        let bad = text.replacen("name = \"p1500\"", "name = \"p 1500!\"", 1);
        let whole = from_wire(toml::from_str(&bad).unwrap(), Vec::new()).unwrap_err();
        assert_eq!(
            parse_uv_lock(&bad).unwrap_err().to_string(),
            whole.to_string()
        );
        // A key after the packages: the later piece refuses it, the whole parse reads it.
        let with_manifest = format!("{text}[manifest]\nmembers = []\n");
        assert!(parse_in_pieces(&with_manifest).is_none());
        assert_eq!(parse_uv_lock(&with_manifest).unwrap().packages.len(), 2000);
        // An inline package array may not be extended by `[[package]]`: the whole parse's
        // error, not the pieces' merge.
        let inline = text.replacen(
            "requires-python = \">=3.11\"\n",
            "requires-python = \">=3.11\"\npackage = [{ name = \"q\", version = \"1.0\" }]\n",
            1,
        );
        assert!(parse_in_pieces(&inline).is_none());
        assert!(parse_uv_lock(&inline).is_err());
    }

    #[test]
    fn the_locks_conflicts_and_environments_are_read() {
        let conflicts =
            parse_uv_lock(include_str!("../../../fixtures/uv2nix/conflicts/uv.lock")).unwrap();
        let settings = &conflicts.project.as_ref().unwrap().uv;
        assert_eq!(settings.conflicts.len(), 1);
        let items: Vec<String> = settings.conflicts[0]
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            items,
            [
                "extra `extra-a` of `conflicts`",
                "extra `extra-b` of `conflicts`",
                "group `group-c` of `conflicts`"
            ]
        );
        let envs = parse_uv_lock(include_str!(
            "../../../fixtures/uv2nix/with-supported-environments/uv.lock"
        ))
        .unwrap();
        let settings = &envs.project.as_ref().unwrap().uv;
        assert_eq!(settings.environments.len(), 2);
        assert_eq!(
            settings.environments_text,
            ["sys_platform == 'darwin'", "sys_platform == 'linux'"]
        );
        let required = parse_uv_lock(include_str!(
            "../../../fixtures/uv2nix/with-required-markers/uv.lock"
        ))
        .unwrap();
        assert_eq!(
            required
                .project
                .as_ref()
                .unwrap()
                .uv
                .required_environments
                .len(),
            4
        );
        let bad = "version = 1\nsupported-markers = [\"sys_platform ==\"]\n";
        assert!(parse_uv_lock(bad)
            .unwrap_err()
            .to_string()
            .contains("supported-markers"));
        let bad = "version = 1\nconflicts = [[{ extra = \"a\" }]]\n";
        assert!(parse_uv_lock(bad)
            .unwrap_err()
            .to_string()
            .contains("uv.lock `conflicts`"));
    }

    #[test]
    fn a_local_find_links_registry_is_a_directory_of_files() {
        let lock = parse_uv_lock(include_str!(
            "../../../fixtures/uv2nix/overriden-registry/uv.lock"
        ))
        .unwrap();
        let urllib3 = lock
            .packages
            .iter()
            .find(|p| p.name.as_ref() == "urllib3")
            .unwrap();
        assert_eq!(
            urllib3.source,
            PackageSource::Path {
                path: "../kitchen-sink".into(),
                kind: PathKind::FindLinks,
                editable: false,
            }
        );
        assert_eq!(urllib3.files.len(), 1);
        assert_eq!(urllib3.files[0].filename, "urllib3-2.2.3-py3-none-any.whl");
        assert_eq!(urllib3.files[0].url, None);
        // A URL registry stays an index.
        let attrs = lock
            .packages
            .iter()
            .find(|p| p.name.as_ref() == "attrs")
            .unwrap();
        assert!(matches!(attrs.source, PackageSource::Index { .. }));
        // A file in a subdirectory of the find-links directory is refused, not misplanned.
        let nested = "version = 1\n[[package]]\nname = \"a\"\nversion = \"1\"\nsource = { registry = \"wheels\" }\nwheels = [{ path = \"sub/a-1-py3-none-any.whl\" }]\n";
        assert!(parse_uv_lock(nested)
            .unwrap_err()
            .to_string()
            .contains("find-links file"));
    }
}
