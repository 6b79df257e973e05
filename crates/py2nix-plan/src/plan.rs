//! The plan (schema 1) and how it is assembled from the resolved targets, the index's answers
//! and the override database.

use std::collections::{BTreeMap, BTreeSet};

use pep508_rs::PackageName;
use py2nix_lock::{FileHash, GitSource, Lock, LockedFile, LockedPackage, PackageSource, PathKind};
use py2nix_overrides::{ArtifactKind, OverrideDb};
use serde::{Deserialize, Serialize};

use crate::resolve::{cycle_breaks, walk_closure, Closure, Selection};
use crate::select::{choose_file, FormatControl, SourceKind};
use crate::tags::TagPriorities;
use crate::target::{LinuxLibc, Target};
use crate::PlanError;

/// The version of the plan's JSON schema; see docs/plan-schema.md.
pub const PLAN_SCHEMA: u32 = 1;

/// The whole plan: one entry per target.
///
/// Reading a plan tolerates fields it does not know (schema 1 only ever gains fields), and
/// every field added within schema 1 has a default, so plans of older py2nix versions read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[cfg_attr(
    test,
    schemars(
        title = "py2nix plan, schema 1",
        description = "What `py2nix lock --format json` prints, and python.nix's `plan` \
                       attribute. docs/plan-schema.md describes every field; generated from \
                       crates/py2nix-plan/src/plan.rs."
    )
)]
pub struct Plan {
    #[cfg_attr(test, schemars(range(min = 1, max = 1)))]
    pub schema: u32,
    pub generator: String,
    /// What the plan was made from (`py2nix lock` records it, `py2nix check` compares it).
    /// Added within schema 1: absent from older plans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inputs: Option<PlanInputs>,
    /// The project: what it builds, and the groups and extras the plan holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<ProjectPlan>,
    pub targets: BTreeMap<String, TargetPlan>,
}

/// What a plan was made from: the hashes of the files read, the built-in override database,
/// py2nix's version and the normalised selection options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct PlanInputs {
    /// py2nix's version.
    pub py2nix: String,
    /// The lock, as a key of `files`.
    pub lock: String,
    /// Every file (and directory, with a trailing `/`) read, relative to the generated file's
    /// directory, with its SRI sha256.
    pub files: BTreeMap<String, String>,
    /// Every pyproject.toml the plan depends on (the project's and, for uv, each workspace
    /// member's), keyed like `files`, with the SRI sha256 of only the parts that change a plan.
    /// Added within schema 1: absent from older plans, which hold pyproject.toml in `files`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pyprojects: BTreeMap<String, String>,
    /// The SRI sha256 of the built-in override database.
    pub overrides: String,
    /// The selection options, normalised, as command-line arguments.
    pub options: Vec<String>,
}

/// The project itself: the package it builds (a key of every target's `packages`), its
/// workspace members, and the groups and extras the plan holds for choosing at evaluation
/// time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub struct ProjectPlan {
    /// The project's name; absent for a virtual workspace root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The package (a key of `packages`) that is the project itself; absent when there is
    /// nothing to build.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// Why the project has nothing to build, when it has not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_package: Option<String>,
    /// The workspace's packages built from its own trees: the project's package and the
    /// other members (keys of `packages`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<String>,
    /// The dependency groups the plan holds (each target's `selections.groups`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// The groups a development environment adds (uv's default groups, Poetry's
    /// non-optional groups, PDM's development groups).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dev_groups: Vec<String>,
    /// The project's extras the plan holds (each target's `selections.extras`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extras: Vec<String>,
    /// Sets of groups and extras of which no two may be installed together (uv's
    /// `conflicts`); `envWith` refuses such a choice. Added within schema 1.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<Vec<crate::ConflictPlan>>,
}

/// What each part of the project installs on one target: names of `packages`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub struct SelectionsPlan {
    /// The closure of the main dependencies (not the project itself).
    pub main: Vec<String>,
    /// Per group: what it adds to `main`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub groups: BTreeMap<String, Vec<String>>,
    /// Per extra of the project: what it adds to `main`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extras: BTreeMap<String, Vec<String>>,
}

/// What one target installs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub struct TargetPlan {
    pub system: String,
    pub python: String,
    /// The `python_full_version` markers were evaluated with.
    pub python_full_version: String,
    /// The C library or macOS baseline wheels were matched against, e.g. `{"glibc": "2.40"}`.
    pub platform: BTreeMap<String, String>,
    pub roots: Vec<String>,
    pub packages: BTreeMap<String, PackagePlan>,
    /// The distinct packages of the build environments (`build-closure`) that `packages`
    /// does not hold at the version chosen: resolved from the index, per package built from
    /// source. Keyed by name, or `<name>@<version>` when `packages` also holds the name or
    /// another version of it is planned here (`<name>@<version>#<n>` for a second one of a
    /// version with other dependencies).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub build_packages: BTreeMap<String, PackagePlan>,
    /// What the main dependencies, each group and each extra install, for choosing at
    /// evaluation time; absent in plans from before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selections: Option<SelectionsPlan>,
}

/// One package of a target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub struct PackagePlan {
    pub version: String,
    pub src: SourcePlan,
    /// Runtime dependencies, all keys of the same target's `packages`.
    pub dependencies: Vec<String>,
    /// Dependencies not propagated because they close a cycle (the environment still has them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cycle_breaks: Vec<String>,
    /// The package's own extras that are turned on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extras: Vec<String>,
    /// For sdists: the build system, as packages of nixpkgs' Python package set.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub build_system: Vec<String>,
    /// For sdists: the build requirements discovered in the sdist (`[build-system] requires`
    /// for this target), as names of packages of the same target's `build-packages` or
    /// `packages`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub build_requires: Vec<String>,
    /// For packages built from source: the whole build environment, the build requirements
    /// and everything they need, resolved for this package alone: keys of the target's
    /// `build-packages`, else names of its `packages`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub build_closure: Vec<String>,
    /// For sdists: nixpkgs attribute paths of build tools.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub native_build_inputs: Vec<String>,
    /// For sdists: nixpkgs attribute paths of libraries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub build_inputs: Vec<String>,
    /// nixpkgs attribute paths needed at run time (`propagatedBuildInputs`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub propagated_build_inputs: Vec<String>,
    /// Environment variables of the build (the derivation's `env`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// For packages built from source: patches applied in order, with their text.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patches: Vec<PatchPlan>,
    /// For packages built from source: arguments for the PEP 517 frontend (`pypaBuildFlags`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub build_flags: Vec<String>,
    /// For Linux binary wheels: sonames their ELF files need that neither the wheel bundles
    /// nor the soname table maps.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unknown_sonames: Vec<String>,
    /// For Linux binary wheels: the libraries they need that the wheels of packages in their
    /// dependency closure hold, by providing package and directory (relative to that
    /// package's site-packages), for autoPatchelf to search.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub library_providers: Vec<LibraryProvider>,
    /// For Linux binary wheels: the GPU driver's libraries they need, which no package
    /// provides: found at run time in the driver's directory (`/run/opengl-driver/lib` on
    /// NixOS), left unresolved when building. Sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub driver_libraries: Vec<String>,
    /// For Linux binary wheels: needed sonames their override rule says may stay missing
    /// (`ignore-missing`: an optional plugin's libraries that no package gives), left
    /// unresolved when building like the driver's. Sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignored_libraries: Vec<String>,
    /// For Linux binary wheels: library directories of packages in their dependency closure
    /// appended to their RUNPATH, for the libraries they open at run time (`dlopen`) rather
    /// than link (their override rule's `runpath-packages`). By package, then directory.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runpath_providers: Vec<RunpathProvider>,
    /// For sdists with Rust code: the crates of its `Cargo.lock`, to vendor offline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cargo: Option<CargoPlan>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// For the project and its workspace members: console scripts, name to entry point.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub scripts: BTreeMap<String, String>,
    /// For the project and its workspace members: GUI scripts, name to entry point.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub gui_scripts: BTreeMap<String, String>,
}

/// Libraries a wheel needs that another package of the plan installs: its wheel's shared
/// objects in one directory.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub struct LibraryProvider {
    /// The providing package: a key of the same target's `packages` (of `build-packages` or
    /// `packages` for a build package) in the needing package's dependency closure.
    pub package: String,
    /// The directory of the libraries relative to the providing package's site-packages
    /// (`nvidia/cudnn/lib`, `torch/lib`; `""` for site-packages itself).
    pub directory: String,
    /// The needed libraries found there, by file name, sorted.
    pub sonames: Vec<String>,
}

/// A library directory of another package's wheel, appended to a wheel's RUNPATH.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub struct RunpathProvider {
    /// The providing package: a key of the same target's `packages` (of `build-packages` or
    /// `packages` for a build package) in the wheel's dependency closure.
    pub package: String,
    /// A directory of the providing package's shared objects, relative to its site-packages
    /// (`nvidia/cublas/lib`; `""` for site-packages itself).
    pub directory: String,
}

/// One patch of the override database, carried whole so that the plan is self-contained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub struct PatchPlan {
    /// The patch's file name in the database.
    pub name: String,
    /// Its text.
    pub text: String,
}

impl PackagePlan {
    /// A package with its version, source and dependencies, and nothing else yet. This is the
    /// one way to make a package: there is no `Default`, because no source is a sensible
    /// default (a defaulted one would be a package without URL or hash).
    pub fn new(version: String, src: SourcePlan, dependencies: Vec<String>) -> Self {
        PackagePlan {
            version,
            src,
            dependencies,
            cycle_breaks: Vec::new(),
            extras: Vec::new(),
            build_system: Vec::new(),
            build_requires: Vec::new(),
            build_closure: Vec::new(),
            native_build_inputs: Vec::new(),
            build_inputs: Vec::new(),
            propagated_build_inputs: Vec::new(),
            env: BTreeMap::new(),
            patches: Vec::new(),
            build_flags: Vec::new(),
            unknown_sonames: Vec::new(),
            library_providers: Vec::new(),
            driver_libraries: Vec::new(),
            ignored_libraries: Vec::new(),
            runpath_providers: Vec::new(),
            cargo: None,
            warnings: Vec::new(),
            scripts: BTreeMap::new(),
            gui_scripts: BTreeMap::new(),
        }
    }
}

/// What a Rust build inside an sdist needs to vendor its crates without network access.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub struct CargoPlan {
    /// The text of the sdist's `Cargo.lock`.
    pub lock: String,
    /// The directory of `Cargo.lock` relative to the project's directory; `.` at its top.
    pub root: String,
    /// The registry crates of `Cargo.lock`, in its order, with their download URLs and the
    /// SRI form of their `checksum`.
    pub crates: Vec<CargoCrate>,
    /// For git dependencies: `<name>-<version>` to the SRI hash of the checkout (as nixpkgs'
    /// `importCargoLock` takes in `outputHashes`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub git_hashes: BTreeMap<String, String>,
}

/// One crate to download.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub struct CargoCrate {
    pub name: String,
    pub version: String,
    pub url: String,
    pub hash: String,
}

/// Where the package comes from: a tagged union on `kind`, each kind with exactly its own
/// fields (docs/plan-schema.md, `src`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum SourcePlan {
    /// A wheel file fetched by URL, installed as is.
    Wheel(WheelSourcePlan),
    /// An sdist file fetched by URL, built.
    Sdist(SdistSourcePlan),
    /// A git checkout, built.
    Git(GitSourcePlan),
    /// A local file or directory, relative to the generated file.
    Path(PathSourcePlan),
}

/// `kind` `wheel`: a wheel file fetched by URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub struct WheelSourcePlan {
    /// The file's name as the lock and the index give it.
    pub filename: String,
    /// The file's URL.
    pub url: String,
    /// The file's SRI hash.
    #[cfg_attr(test, schemars(regex(pattern = FILE_HASH_PATTERN)))]
    pub hash: String,
    /// The name of the index whose credentials fetching the file needs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<String>,
}

/// `kind` `sdist`: an sdist file fetched by URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub struct SdistSourcePlan {
    /// The file's name as the lock and the index give it.
    pub filename: String,
    /// The file's URL.
    pub url: String,
    /// The file's SRI hash.
    #[cfg_attr(test, schemars(regex(pattern = FILE_HASH_PATTERN)))]
    pub hash: String,
    /// The project's directory inside the archive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subdirectory: Option<String>,
    /// The name of the index whose credentials fetching the file needs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<String>,
}

/// `kind` `git`: a git checkout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub struct GitSourcePlan {
    /// The repository's URL, without the user information (`user:token@`) the lock may give
    /// it: credentials never reach the plan.
    pub url: String,
    /// The SRI hash of the checkout's NAR serialisation (as `fetchgit` takes it).
    #[cfg_attr(test, schemars(regex(pattern = FILE_HASH_PATTERN)))]
    pub hash: String,
    /// The full commit id.
    pub rev: String,
    /// Whether submodules are part of the checkout.
    #[serde(default, skip_serializing_if = "is_false")]
    pub submodules: bool,
    /// The project's directory inside the checkout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subdirectory: Option<String>,
    /// Set when the lock's URL carried credentials (left out of `url`): the name fetching
    /// the repository finds them under, `PY2NIX_GIT_<NAME>_USERNAME` and `_PASSWORD` in the
    /// builder's environment (`<NAME>` upper-cased, every character but an ASCII letter or
    /// digit made `_`). It is the repository's host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<String>,
}

/// A git URL without its user information, and the host it was for when it had some (see
/// [`GitSourcePlan::credentials`]): `https://user:token@host:8443/r.git` is
/// `https://host:8443/r.git` with credentials for `host`. Over HTTP(S) any user information
/// is a credential (a token is often the user name); over other schemes (`ssh://git@host`)
/// a user without a password names no secret and is kept. An scp-like
/// `user:token@host:path` loses its `user:token@` too.
///
/// ```
/// use py2nix_plan::git_url_without_credentials as split;
/// assert_eq!(split("https://me:secret@git.example.org:8443/r.git?x#y"),
///     ("https://git.example.org:8443/r.git?x#y".to_string(), Some("git.example.org".to_string())));
/// assert_eq!(split("https://git.example.org/r.git"), ("https://git.example.org/r.git".to_string(), None));
/// assert_eq!(split("ssh://git@h/r.git"), ("ssh://git@h/r.git".to_string(), None));
/// assert_eq!(split("ssh://git:pw@h/r.git"), ("ssh://h/r.git".to_string(), Some("h".to_string())));
/// assert_eq!(split("http://token@[::1]:80/r"), ("http://[::1]:80/r".to_string(), Some("::1".to_string())));
/// assert_eq!(split("git@h:o/r.git"), ("git@h:o/r.git".to_string(), None));
/// assert_eq!(split("u:p@h:o/r.git"), ("h:o/r.git".to_string(), Some("h".to_string())));
/// ```
pub fn git_url_without_credentials(url: &str) -> (String, Option<String>) {
    let Some(scheme_end) = url.find("://") else {
        if let Some((userinfo, rest)) = url.split_once('@') {
            if userinfo.contains(':') && !userinfo.contains('/') {
                let host = rest.split(':').next().unwrap_or_default().to_string();
                return (rest.to_string(), Some(host));
            }
        }
        return (url.to_string(), None);
    };
    let (scheme, after) = url.split_at(scheme_end + 3);
    let authority_end = after
        .find(|c: char| matches!(c, '/' | '?' | '#'))
        .unwrap_or(after.len());
    let (authority, rest) = after.split_at(authority_end);
    let http = matches!(
        scheme.to_ascii_lowercase().as_str(),
        "http://" | "https://" | "git+http://" | "git+https://"
    );
    match authority.rfind('@') {
        Some(at) if !http && !authority[..at].contains(':') => (url.to_string(), None),
        None => (url.to_string(), None),
        Some(at) => {
            let host_port = &authority[at + 1..];
            let host = if let Some(bracketed) = host_port.strip_prefix('[') {
                bracketed.split(']').next().unwrap_or_default()
            } else {
                host_port.split(':').next().unwrap_or_default()
            };
            (
                format!("{scheme}{host_port}{rest}"),
                Some(host.to_ascii_lowercase()),
            )
        }
    }
}

/// `kind` `path`: a local file or directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub struct PathSourcePlan {
    /// For a wheel or sdist file: its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// The path relative to the generated file's directory (`/`-separated).
    pub path: String,
    /// What the path holds.
    pub format: PathFormat,
    /// Trees: installed in editable mode by the project's own tools.
    #[serde(default, skip_serializing_if = "is_false")]
    pub editable: bool,
}

/// What a `path` source holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum PathFormat {
    Wheel,
    Sdist,
    Tree,
}

/// What an SRI hash of a file or checkout looks like in the plan (for the JSON Schema).
#[cfg(test)]
const FILE_HASH_PATTERN: &str = "^(sha256|sha512)-[A-Za-z0-9+/]+=*$";

#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_false(value: &bool) -> bool {
    !*value
}

impl SourcePlan {
    /// A file fetched by URL: a wheel when `format` says so, else an sdist (a wheel has no
    /// subdirectory).
    pub fn file(
        format: SourceKind,
        filename: String,
        url: String,
        hash: String,
        subdirectory: Option<String>,
        index: Option<String>,
    ) -> Self {
        if format == SourceKind::Wheel {
            SourcePlan::Wheel(WheelSourcePlan {
                filename,
                url,
                hash,
                index,
            })
        } else {
            SourcePlan::Sdist(SdistSourcePlan {
                filename,
                url,
                hash,
                subdirectory,
                index,
            })
        }
    }

    /// The kind, as `kind` writes it.
    pub fn kind(&self) -> SourceKind {
        match self {
            SourcePlan::Wheel(_) => SourceKind::Wheel,
            SourcePlan::Sdist(_) => SourceKind::Sdist,
            SourcePlan::Git(_) => SourceKind::Git,
            SourcePlan::Path(_) => SourceKind::Path,
        }
    }

    /// The kind as the plan writes it: `wheel`, `sdist`, `git` or `path`.
    pub fn kind_name(&self) -> &'static str {
        match self {
            SourcePlan::Wheel(_) => "wheel",
            SourcePlan::Sdist(_) => "sdist",
            SourcePlan::Git(_) => "git",
            SourcePlan::Path(_) => "path",
        }
    }

    /// The file's name: wheels, sdists, and local wheel and sdist files.
    pub fn filename(&self) -> Option<&str> {
        match self {
            SourcePlan::Wheel(wheel) => Some(&wheel.filename),
            SourcePlan::Sdist(sdist) => Some(&sdist.filename),
            SourcePlan::Git(_) => None,
            SourcePlan::Path(path) => path.filename.as_deref(),
        }
    }

    /// The file's URL, or the git repository's.
    pub fn url(&self) -> Option<&str> {
        match self {
            SourcePlan::Wheel(wheel) => Some(&wheel.url),
            SourcePlan::Sdist(sdist) => Some(&sdist.url),
            SourcePlan::Git(git) => Some(&git.url),
            SourcePlan::Path(_) => None,
        }
    }

    /// The SRI hash of the file, or of the git checkout.
    pub fn hash(&self) -> Option<&str> {
        match self {
            SourcePlan::Wheel(wheel) => Some(&wheel.hash),
            SourcePlan::Sdist(sdist) => Some(&sdist.hash),
            SourcePlan::Git(git) => Some(&git.hash),
            SourcePlan::Path(_) => None,
        }
    }

    /// The index whose credentials fetching the file needs.
    pub fn index(&self) -> Option<&str> {
        match self {
            SourcePlan::Wheel(wheel) => wheel.index.as_deref(),
            SourcePlan::Sdist(sdist) => sdist.index.as_deref(),
            SourcePlan::Git(_) | SourcePlan::Path(_) => None,
        }
    }

    /// A local source's path.
    pub fn path(&self) -> Option<&str> {
        match self {
            SourcePlan::Path(path) => Some(&path.path),
            _ => None,
        }
    }

    /// Whether the lock installs the source in editable mode (local trees only).
    pub fn is_editable(&self) -> bool {
        matches!(self, SourcePlan::Path(path) if path.editable)
    }

    /// Whether the package is built from source (an sdist, a checkout or a directory) rather
    /// than installed from a wheel.
    pub fn is_built(&self) -> bool {
        match self {
            SourcePlan::Wheel(_) => false,
            SourcePlan::Path(path) => path.format != PathFormat::Wheel,
            SourcePlan::Sdist(_) | SourcePlan::Git(_) => true,
        }
    }

    /// Whether the package is built from a source py2nix reads itself rather than from an
    /// index or URL: a git checkout, or a local directory or sdist (`path`, not a wheel).
    pub fn is_tree(&self) -> bool {
        match self {
            SourcePlan::Git(_) => true,
            SourcePlan::Path(path) => path.format != PathFormat::Wheel,
            SourcePlan::Wheel(_) | SourcePlan::Sdist(_) => false,
        }
    }
}

/// What was chosen for a package on one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chosen {
    /// One of the locked package's files (its position in `files`), a wheel or an sdist.
    File { index: usize, format: SourceKind },
    /// The package's source tree (a git checkout or a local directory).
    Tree,
}

/// A target's closure with the file chosen for each package.
#[derive(Debug, Clone)]
pub struct TargetResolution {
    pub target: Target,
    /// What the plan holds (every group and extra unless the command line narrows it), with
    /// the project itself; its `roots` are the plan's roots (the main dependencies and what
    /// the command line asks for).
    pub closure: Closure,
    pub files: BTreeMap<PackageName, Chosen>,
    /// What each part of the project installs, for choosing at evaluation time.
    pub selections: UnitClosures,
    /// The groups and extras the plan holds, named one by one.
    pub held: Selection,
    /// The groups and extras left out of what the plan holds by default because they cannot
    /// be installed together with the others (uv's conflicting extras), each with why.
    pub left_out: Vec<String>,
}

/// What the plan holds, decided by [`held_selection`].
struct Held {
    /// The groups and extras held, named one by one.
    selection: Selection,
    /// Those left out, each with why.
    left_out: Vec<String>,
    /// Without names on the command line: the closure of what is held, one per target in
    /// order, as the decision walked it.
    closures: Option<Vec<Closure>>,
}

/// What the plan holds: what the command line names; without names, every group and extra
/// of the project, or, when they cannot all be installed together (uv's `conflicts`, whose
/// extras lock different versions of one package), the main dependencies and each group and
/// extra in name order that can be added to what is already held, the others left out.
fn held_selection(
    lock: &Lock,
    project: &py2nix_lock::Project,
    selection: &Selection,
    targets: &[Target],
    preferred: &BTreeSet<PackageName>,
) -> Result<Held, PlanError> {
    if selection.is_explicit() {
        return Ok(Held {
            selection: selection.clone(),
            left_out: Vec::new(),
            closures: None,
        });
    }
    let walks = |candidate: &Selection| -> Result<Vec<Closure>, PlanError> {
        let roots = UnitRoots::of(lock, project, candidate)?;
        targets
            .iter()
            .map(|target| roots.closure(lock, target, preferred))
            .collect()
    };
    let named = |groups: Vec<String>, extras: Vec<py2nix_lock::ExtraName>| Selection {
        groups,
        extras,
        all_groups: false,
        all_extras: false,
        no_default_groups: selection.no_default_groups,
    };
    let all_groups: Vec<String> = selection.held().groups_of(project)?.into_iter().collect();
    let all_extras = selection.held().checked_extras(project)?;
    let everything = named(all_groups.clone(), all_extras.clone());
    if let Ok(closures) = walks(&everything) {
        return Ok(Held {
            selection: everything,
            left_out: Vec::new(),
            closures: Some(closures),
        });
    }
    let mut held = named(Vec::new(), Vec::new());
    let mut closures = walks(&held)?;
    let mut left_out = Vec::new();
    let candidates = all_groups
        .into_iter()
        .map(|group| (format!("group `{group}`"), Some(group), None))
        .chain(
            all_extras
                .into_iter()
                .map(|extra| (format!("extra `{extra}`"), None, Some(extra))),
        );
    for (label, group, extra) in candidates {
        let mut candidate = held.clone();
        candidate.groups.extend(group);
        candidate.extras.extend(extra);
        match walks(&candidate) {
            Ok(walked) => {
                held = candidate;
                closures = walked;
            }
            Err(error) => left_out.push(format!("{label}: {error}")),
        }
    }
    Ok(Held {
        selection: held,
        left_out,
        closures: Some(closures),
    })
}

/// The packages each part of the project installs on one target: the main dependencies'
/// closure, and for each group and extra the plan holds, what it adds to that closure.
#[derive(Debug, Clone, Default)]
pub struct UnitClosures {
    pub main: BTreeSet<PackageName>,
    pub groups: BTreeMap<String, BTreeSet<PackageName>>,
    pub extras: BTreeMap<String, BTreeSet<PackageName>>,
}

/// How one selection's closure is found: a graph lock's root edges and extras, or an install
/// list's marker extras.
enum UnitRoots {
    Graph(Vec<py2nix_lock::Dependency>, Vec<py2nix_lock::ExtraName>),
    Flat(Vec<py2nix_lock::ExtraName>),
}

impl UnitRoots {
    fn of(
        lock: &Lock,
        project: &py2nix_lock::Project,
        selection: &Selection,
    ) -> Result<Self, PlanError> {
        Ok(if crate::resolve::is_flat(lock) {
            UnitRoots::Flat(crate::resolve::flat_marker_extras(project, selection)?)
        } else {
            UnitRoots::Graph(
                crate::resolve::root_dependencies(project, selection)?,
                selection.extras_of(project),
            )
        })
    }

    fn closure(
        &self,
        lock: &Lock,
        target: &Target,
        preferred: &BTreeSet<PackageName>,
    ) -> Result<Closure, PlanError> {
        match self {
            UnitRoots::Graph(roots, extras) => walk_closure(lock, roots, extras, target),
            UnitRoots::Flat(extras) => {
                let roots = crate::resolve::flat_roots(lock, extras, target);
                let mut closure = walk_closure(lock, &roots, extras, target)?;
                closure.roots = crate::resolve::flat_plan_roots(&closure, preferred);
                Ok(closure)
            }
        }
    }
}

/// Resolves every target: the closure, then one file per package. Problems with single
/// packages are gathered so the user sees all of them at once.
///
/// The plan holds what `selection.held()` turns on; its roots are what `selection` asks for;
/// each group and extra held gets its own closure (`selections`), and the project itself
/// (`project.package`, a locked package of its own) depends on the main dependencies.
pub fn resolve_targets(
    lock: &Lock,
    project: &py2nix_lock::Project,
    selection: &Selection,
    targets: &[Target],
    control: &FormatControl,
) -> Result<Vec<TargetResolution>, PlanError> {
    let preferred: BTreeSet<PackageName> = project
        .dependencies
        .iter()
        .map(|d| d.name.clone())
        .collect();
    let Held {
        selection: held_selection,
        left_out,
        closures: held_closures,
    } = held_selection(lock, project, selection, targets, &preferred)?;
    let mut held_closures = held_closures.map(Vec::into_iter);
    let asked = UnitRoots::of(lock, project, selection)?;
    let main_selection = Selection {
        no_default_groups: selection.no_default_groups,
        ..Selection::default()
    };
    let main = UnitRoots::of(lock, project, &main_selection)?;
    let mut units: Vec<(bool, String, UnitRoots)> = Vec::new();
    for group in held_selection.groups_of(project)? {
        let unit = Selection {
            groups: vec![group.clone()],
            ..main_selection.clone()
        };
        units.push((true, group, UnitRoots::of(lock, project, &unit)?));
    }
    for extra in held_selection.checked_extras(project)? {
        let unit = Selection {
            extras: vec![extra.clone()],
            ..main_selection.clone()
        };
        units.push((
            false,
            extra.to_string(),
            UnitRoots::of(lock, project, &unit)?,
        ));
    }
    let project_package = project.package.as_ref().and_then(|package| {
        lock.packages
            .iter()
            .position(|p| p.name == package.name && is_project_source(&p.source))
    });
    let mut resolutions = Vec::new();
    let mut errors = Vec::new();
    for target in targets {
        let asked_closure = asked.closure(lock, target, &preferred)?;
        // Without groups or extras named, what is asked for is the main dependencies.
        let main_closure = if selection.is_explicit() {
            main.closure(lock, target, &preferred)?
        } else {
            asked_closure.clone()
        };
        let mut closure = match held_closures.as_mut().and_then(Iterator::next) {
            Some(held) => held,
            None => asked_closure.clone(),
        };
        closure.roots = asked_closure
            .roots
            .into_iter()
            .filter(|name| closure.packages.contains_key(name))
            .collect();
        let mut selections = UnitClosures {
            main: main_closure.packages.keys().cloned().collect(),
            ..UnitClosures::default()
        };
        for (is_group, name, unit) in &units {
            let added: BTreeSet<PackageName> = unit
                .closure(lock, target, &preferred)?
                .packages
                .into_keys()
                .filter(|p| !selections.main.contains(p))
                .collect();
            let into = if *is_group {
                &mut selections.groups
            } else {
                &mut selections.extras
            };
            into.insert(name.clone(), added);
        }
        if let Some(index) = project_package {
            let name = lock.packages[index].name.clone();
            // The project is what the environments are built for, not part of them (an
            // install list lists it like any other package).
            selections.main.remove(&name);
            for added in selections
                .groups
                .values_mut()
                .chain(selections.extras.values_mut())
            {
                added.remove(&name);
            }
            closure
                .packages
                .entry(name)
                .or_insert_with(|| crate::resolve::ClosurePackage {
                    lock_index: index,
                    extras: BTreeSet::new(),
                    dependencies: main_closure.roots.clone(),
                });
        }
        let tags = TagPriorities::for_target(target);
        let mut files = BTreeMap::new();
        for (name, selected) in &closure.packages {
            let package = &lock.packages[selected.lock_index];
            match choose(package, &tags, control, target) {
                Ok(choice) => {
                    files.insert(name.clone(), choice);
                }
                Err(error) => errors.push(error),
            }
        }
        resolutions.push(TargetResolution {
            target: target.clone(),
            closure,
            files,
            selections,
            held: held_selection.clone(),
            left_out: left_out.clone(),
        });
    }
    match PlanError::collect(errors) {
        Some(error) => Err(error),
        None => Ok(resolutions),
    }
}

/// The source the project's own package has in the lock: its directory.
fn is_project_source(source: &PackageSource) -> bool {
    matches!(
        source,
        PackageSource::Path {
            kind: PathKind::Directory,
            ..
        }
    )
}

fn choose(
    package: &LockedPackage,
    tags: &TagPriorities,
    control: &FormatControl,
    target: &Target,
) -> Result<Chosen, PlanError> {
    match &package.source {
        PackageSource::Unsupported { kind, url } => Err(PlanError::UnsupportedSource {
            package: package.name.to_string(),
            kind: kind.clone(),
            url: url.clone(),
        }),
        PackageSource::Git(_)
        | PackageSource::Path {
            kind: PathKind::Directory,
            ..
        } if control.build_refused(&package.name) => Err(PlanError::NoUsableFile {
            package: package.name.to_string(),
            version: package.version.to_string(),
            target: target.describe(),
            reason: FormatControl::no_build_reason(&package.name),
            files: Vec::new(),
        }),
        PackageSource::Git(_)
        | PackageSource::Path {
            kind: PathKind::Directory,
            ..
        } => Ok(Chosen::Tree),
        _ => choose_file(package, tags, control, target)
            .map(|(index, format)| Chosen::File { index, format }),
    }
}

/// A file as the index lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedFile {
    pub url: String,
    /// The index's sha256 of the file (lower-case hex), when it gives one.
    pub sha256: Option<String>,
    /// Whether the index marks the file as yanked (PEP 592).
    pub yanked: bool,
    /// The index's name when fetching from it needs credentials.
    pub auth_index: Option<String>,
}

/// A git source resolved to a commit and hashed the way Nix's `fetchgit` hashes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedGit {
    pub commit: String,
    /// The SRI hash of the checkout's NAR serialisation.
    pub hash: String,
}

/// What the planner needs from the outside world, looked up before the plan is assembled.
pub trait Sources {
    /// A file of an index-sourced package, as the index lists it.
    fn index_file(
        &self,
        package: &LockedPackage,
        file: &LockedFile,
    ) -> Result<IndexedFile, PlanError>;
    /// The sha256 (hex) of a direct URL's file that the lock gives no hash for.
    fn url_sha256(&self, package: &LockedPackage, url: &str) -> Result<String, PlanError>;
    /// A git source's commit and checkout hash.
    fn git(&self, package: &LockedPackage, git: &GitSource) -> Result<ResolvedGit, PlanError>;
    /// A local path as the lock writes it, relative to the generated file's directory.
    fn local_path(&self, package: &LockedPackage, path: &str) -> Result<String, PlanError>;
}

/// Every chosen index file, once, with its package: what must be looked up on an index.
pub fn chosen_files<'a>(
    lock: &'a Lock,
    resolutions: &[TargetResolution],
) -> Vec<(&'a LockedPackage, &'a LockedFile)> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for resolution in resolutions {
        for (name, chosen) in &resolution.files {
            let Chosen::File { index, .. } = chosen else {
                continue;
            };
            let package = &lock.packages[resolution.closure.packages[name].lock_index];
            if !is_index_source(&package.source) {
                continue;
            }
            let file = &package.files[*index];
            if seen.insert((&package.name, &file.filename)) {
                out.push((package, file));
            }
        }
    }
    out
}

/// Whether the package's files come from an index's Simple API.
pub fn is_index_source(source: &PackageSource) -> bool {
    matches!(
        source,
        PackageSource::DefaultIndex | PackageSource::Index { .. }
    )
}

/// Builds the plan from resolved targets. `sources` gives each chosen file's URL and hash
/// (an index file's hash must equal the lock's), git checkouts' hashes and local paths.
pub fn assemble_plan(
    lock: &Lock,
    resolutions: &[TargetResolution],
    sources: &dyn Sources,
    overrides: &OverrideDb,
    generator: &str,
) -> Result<Plan, PlanError> {
    let mut targets = BTreeMap::new();
    let mut errors = Vec::new();
    for resolution in resolutions {
        let breaks = cycle_breaks(&resolution.closure);
        let mut packages = BTreeMap::new();
        for (name, selected) in &resolution.closure.packages {
            let package = &lock.packages[selected.lock_index];
            let Some(&chosen) = resolution.files.get(name) else {
                continue;
            };
            let mut warnings = Vec::new();
            let src = match source_of(package, chosen, sources, &mut warnings) {
                Ok(src) => src,
                Err(error) => {
                    errors.push((error, resolution.target.id()));
                    continue;
                }
            };
            let mut plan = PackagePlan::new(
                package.version.to_string(),
                src,
                selected
                    .dependencies
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
            );
            plan.cycle_breaks = breaks
                .get(name)
                .map(|b| b.iter().map(ToString::to_string).collect())
                .unwrap_or_default();
            plan.extras = selected.extras.iter().map(ToString::to_string).collect();
            plan.warnings = warnings;
            if plan.src.is_built() {
                if plan.src.is_tree() {
                    // A git checkout, local directory or local sdist states its own build
                    // system, which the caller reads (the binary's build-system discovery
                    // fills `build-system`); the database applies only when it has a rule for
                    // the version.
                    if overrides
                        .lookup(package.name.as_ref(), &package.version, ArtifactKind::Sdist)
                        .is_some()
                    {
                        apply_overrides(&mut plan, package, overrides);
                    }
                } else {
                    apply_overrides(&mut plan, package, overrides);
                }
            } else if let Some(filename) = plan.src.filename().map(str::to_string) {
                add_binary_wheel_inputs(&mut plan, &resolution.target, &filename);
                apply_wheel_overrides(
                    &mut plan,
                    package.name.as_ref(),
                    &package.version,
                    overrides,
                );
            }
            packages.insert(name.to_string(), plan);
        }
        let target = &resolution.target;
        let (baseline_kind, baseline) = target.platform_baseline();
        targets.insert(
            target.id(),
            TargetPlan {
                system: target.system.to_string(),
                python: target.python.short(),
                python_full_version: target.python.full(),
                platform: BTreeMap::from([(baseline_kind.to_string(), baseline)]),
                roots: resolution
                    .closure
                    .roots
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
                packages,
                build_packages: BTreeMap::new(),
                selections: Some(selections_plan(&resolution.selections)),
            },
        );
    }
    if let Some(error) = PlanError::collect_per_target(errors, resolutions.len()) {
        return Err(error);
    }
    Ok(Plan {
        schema: PLAN_SCHEMA,
        generator: generator.to_string(),
        inputs: None,
        project: None,
        targets,
    })
}

fn selections_plan(units: &UnitClosures) -> SelectionsPlan {
    let names = |set: &BTreeSet<PackageName>| set.iter().map(ToString::to_string).collect();
    SelectionsPlan {
        main: names(&units.main),
        groups: units
            .groups
            .iter()
            .map(|(group, set)| (group.clone(), names(set)))
            .collect(),
        extras: units
            .extras
            .iter()
            .map(|(extra, set)| (extra.clone(), names(set)))
            .collect(),
    }
}

/// Records the project in the plan: its package and members (with their scripts, in every
/// target that holds them), and the groups and extras the plan holds.
pub fn add_project(
    plan: &mut Plan,
    project: &py2nix_lock::Project,
    selection: &Selection,
    held: &Selection,
) -> Result<(), PlanError> {
    let mut members = Vec::new();
    let package = project.package.as_ref().map(|p| p.name.to_string());
    let mut scripts: BTreeMap<String, &py2nix_lock::Scripts> = BTreeMap::new();
    if let Some(own) = &project.package {
        scripts.insert(own.name.to_string(), &own.scripts);
    }
    for (name, member_scripts) in &project.members {
        scripts.insert(name.to_string(), member_scripts);
    }
    for (name, package_scripts) in &scripts {
        let mut present = false;
        for target in plan.targets.values_mut() {
            if let Some(package) = target.packages.get_mut(name) {
                present = true;
                package.scripts = package_scripts.console.clone();
                package.gui_scripts = package_scripts.gui.clone();
            }
        }
        if present {
            members.push(name.clone());
        }
    }
    members.sort();
    plan.project = Some(ProjectPlan {
        name: project.name.as_ref().map(ToString::to_string),
        package,
        no_package: project.no_package.clone(),
        members,
        groups: held.groups_of(project)?.into_iter().collect(),
        dev_groups: selection
            .dev_groups_of(project)?
            .intersection(&held.groups_of(project)?)
            .cloned()
            .collect(),
        extras: held
            .checked_extras(project)?
            .iter()
            .map(ToString::to_string)
            .collect(),
        conflicts: crate::conflicts_plan(project),
    });
    Ok(())
}

/// The planned source of one package.
fn source_of(
    package: &LockedPackage,
    chosen: Chosen,
    sources: &dyn Sources,
    warnings: &mut Vec<String>,
) -> Result<SourcePlan, PlanError> {
    let source_error = |message: String| PlanError::Source {
        package: package.name.to_string(),
        message,
    };
    match (&package.source, chosen) {
        (PackageSource::Git(git), _) => {
            let resolved = sources.git(package, git)?;
            let (url, credentials) = git_url_without_credentials(&git.url);
            Ok(SourcePlan::Git(GitSourcePlan {
                url,
                hash: resolved.hash,
                rev: resolved.commit,
                submodules: git.submodules,
                subdirectory: git.subdirectory.clone(),
                credentials,
            }))
        }
        (
            PackageSource::Path {
                path,
                editable,
                kind,
            },
            chosen,
        ) => {
            let path = match (kind, chosen) {
                // A file of a find-links directory.
                (PathKind::FindLinks, Chosen::File { index, .. }) => format!(
                    "{}/{}",
                    path.trim_end_matches('/'),
                    package.files[index].filename
                ),
                _ => path.clone(),
            };
            let path = sources.local_path(package, &path)?;
            Ok(SourcePlan::Path(match chosen {
                Chosen::Tree => PathSourcePlan {
                    filename: None,
                    path,
                    format: PathFormat::Tree,
                    editable: *editable,
                },
                Chosen::File { index, format } => PathSourcePlan {
                    filename: Some(package.files[index].filename.clone()),
                    path,
                    format: if format == SourceKind::Wheel {
                        PathFormat::Wheel
                    } else {
                        PathFormat::Sdist
                    },
                    editable: false,
                },
            }))
        }
        (PackageSource::Url { url, subdirectory }, Chosen::File { index, format }) => {
            let file = &package.files[index];
            // A file of a find-links page has its own URL; a direct URL's file is the URL.
            let url = file.url.as_ref().unwrap_or(url);
            let hash = match &file.hash {
                Some(hash) if matches!(hash.algorithm.as_str(), "sha256" | "sha512") => sri(hash),
                _ => sri(&FileHash {
                    algorithm: "sha256".into(),
                    hex: sources.url_sha256(package, url)?,
                }),
            }
            .map_err(source_error)?;
            Ok(SourcePlan::file(
                format,
                file.filename.clone(),
                url.clone(),
                hash,
                subdirectory.clone(),
                None,
            ))
        }
        (_, Chosen::File { index, format }) => {
            let file = &package.files[index];
            let indexed = sources.index_file(package, file)?;
            if indexed.yanked {
                warnings.push(format!("the index marks `{}` as yanked", file.filename));
            }
            source_plan(package, file, format, indexed)
        }
        (_, Chosen::Tree) => Err(source_error(
            "only git and local sources are source trees".to_string(),
        )),
    }
}

/// A Linux wheel with compiled code links against libraries the manylinux policy lets it
/// assume; on Nix, autoPatchelfHook points it at nixpkgs' copies of them.
pub fn add_binary_wheel_inputs(plan: &mut PackagePlan, target: &Target, filename: &str) {
    if !target.system.is_linux() || !py2nix_dist::is_linux_binary_wheel(filename) {
        return;
    }
    plan.native_build_inputs
        .push("autoPatchelfHook".to_string());
    if matches!(target.linux_libc, LinuxLibc::Glibc { .. }) {
        plan.build_inputs
            .push(crate::libraries::MANYLINUX.to_string());
    }
}

/// The override database's rule for a package installed from a binary wheel (`applies-to`
/// `"wheel"` or `"any"`): its native build inputs, build inputs and propagated build inputs
/// are added after what every binary wheel gets (each once), and its environment is laid
/// over the package's. `build-system`, `patches` and `build-flags` do not apply to a wheel.
pub fn apply_wheel_overrides(
    plan: &mut PackagePlan,
    name: &str,
    version: &pep440_rs::Version,
    overrides: &OverrideDb,
) {
    let Some(rule) = overrides.lookup(name, version, ArtifactKind::Wheel) else {
        return;
    };
    extend_unique(&mut plan.native_build_inputs, &rule.native_build_inputs);
    extend_unique(&mut plan.build_inputs, &rule.build_inputs);
    extend_unique(
        &mut plan.propagated_build_inputs,
        &rule.propagated_build_inputs,
    );
    plan.env
        .extend(rule.env.iter().map(|(k, v)| (k.clone(), v.clone())));
}

/// Appends the items of `more` that `list` does not hold yet, in order.
pub(crate) fn extend_unique(list: &mut Vec<String>, more: &[String]) {
    for item in more {
        if !list.contains(item) {
            list.push(item.clone());
        }
    }
}

/// The override database's build system, inputs, environment, patches and build flags for a
/// package built from source. A patch's text travels in the plan.
pub fn apply_overrides(plan: &mut PackagePlan, package: &LockedPackage, overrides: &OverrideDb) {
    let name: &str = package.name.as_ref();
    let found = overrides.entry(name).and_then(|entry| {
        entry
            .lookup(&package.version, ArtifactKind::Sdist)
            .map(|(_, rule)| (entry, rule))
    });
    match found {
        Some((entry, rule)) => {
            plan.build_system = rule.build_system.clone();
            plan.native_build_inputs = rule.native_build_inputs.clone();
            plan.build_inputs = rule.build_inputs.clone();
            plan.propagated_build_inputs = rule.propagated_build_inputs.clone();
            plan.env = rule.env.clone();
            plan.patches = rule
                .patches
                .iter()
                .filter_map(|file| {
                    // The loader checks that every named patch is there.
                    entry.patch_text(file).map(|text| PatchPlan {
                        name: file.clone(),
                        text: text.to_string(),
                    })
                })
                .collect();
            plan.build_flags = rule.build_flags.clone();
            if plan.build_system.is_empty() {
                plan.build_system.push("setuptools".to_string());
            }
        }
        None => {
            plan.build_system = vec!["setuptools".to_string()];
            let missing = if overrides.contains(package.name.as_ref()) {
                format!(
                    "no rule of the override database's entry for {} covers version {}",
                    package.name, package.version
                )
            } else {
                format!(
                    "the override database has no entry for {} {}",
                    package.name, package.version
                )
            };
            let from = match plan.src {
                SourcePlan::Sdist(_) => "its sdist",
                SourcePlan::Git(_) => "a git checkout",
                _ => "a local path",
            };
            plan.warnings.push(format!(
                "built from {from}, but {missing}: assuming setuptools"
            ));
        }
    }
}

/// The planned source: the index's URL, the lock's hash checked against the index's.
fn source_plan(
    package: &LockedPackage,
    file: &LockedFile,
    kind: SourceKind,
    indexed: IndexedFile,
) -> Result<SourcePlan, PlanError> {
    let index_sha256 = indexed.sha256.as_ref().map(|hex| FileHash {
        algorithm: "sha256".into(),
        hex: hex.clone(),
    });
    if let (Some(index_hash), Some(lock_hash)) = (&index_sha256, &file.hash) {
        if lock_hash.algorithm == "sha256" && !index_hash.hex.eq_ignore_ascii_case(&lock_hash.hex) {
            return Err(PlanError::HashMismatch {
                package: package.name.to_string(),
                filename: file.filename.clone(),
                lock: format!("sha256:{}", lock_hash.hex),
                index: format!("sha256:{}", index_hash.hex),
                url: indexed.url,
            });
        }
    }
    let hash = match (&file.hash, &index_sha256) {
        (Some(lock_hash), _) if matches!(lock_hash.algorithm.as_str(), "sha256" | "sha512") => {
            sri(lock_hash)
        }
        (_, Some(index_hash)) => sri(index_hash),
        (Some(lock_hash), None) => Err(format!(
            "the lock's {} hash cannot be checked by Nix and the index gives no sha256",
            lock_hash.algorithm
        )),
        (None, None) => Err("neither the lock nor the index gives a hash".to_string()),
    }
    .map_err(|message| PlanError::Source {
        package: package.name.to_string(),
        message,
    })?;
    Ok(SourcePlan::file(
        kind,
        file.filename.clone(),
        indexed.url,
        hash,
        None,
        indexed.auth_index,
    ))
}

/// `sha256:<hex>` as an SRI hash, `sha256-<base64>`.
///
/// ```
/// let hash = py2nix_lock::FileHash::parse(&format!("sha256:{}", "00".repeat(32))).unwrap();
/// assert_eq!(py2nix_plan::sri(&hash).unwrap(), "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
/// ```
pub fn sri(hash: &FileHash) -> Result<String, String> {
    py2nix_dist::sri_of_hex(&hash.algorithm, &hash.hex)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::{NixSystem, PythonVersion};

    const ENTRY: &str = r#"
schema-version = 1
[[rule]]
versions = ">=2"
build-system = ["meson-python"]
native-build-inputs = ["pkg-config"]
build-inputs = ["zlib"]
propagated-build-inputs = ["libffi"]
env = { APP_SYSTEM_LIBS = "1" }
patches = ["fix-build.patch", "second.patch"]
build-flags = ["-Csetup-args=-Dsystem=true"]
[[rule]]
applies-to = "wheel"
native-build-inputs = ["pkg-config"]
build-inputs = ["libGL", "zlib"]
propagated-build-inputs = ["libffi"]
env = { APP_WHEEL = "yes" }
"#;

    fn db() -> OverrideDb {
        OverrideDb::from_files([
            ("ap/app/override.toml", ENTRY),
            ("ap/app/fix-build.patch", "--- a/x\n+++ b/x\n"),
            ("ap/app/second.patch", "second\n"),
        ])
        .unwrap()
    }

    fn locked(version: &str) -> LockedPackage {
        LockedPackage {
            name: "app".parse().unwrap(),
            version: version.parse().unwrap(),
            requires_python: py2nix_lock::VersionConstraint::any(),
            marker: None,
            files: Vec::new(),
            dependencies: Vec::new(),
            extras: BTreeMap::new(),
            source: PackageSource::DefaultIndex,
            dependencies_known: true,
            requested_extras: Vec::new(),
            index_hashes: None,
        }
    }

    fn planned(kind: SourceKind, filename: &str) -> PackagePlan {
        let src = SourcePlan::file(
            kind,
            filename.to_string(),
            format!("https://files.example.org/{filename}"),
            format!("sha256-{}=", "A".repeat(43)),
            None,
            None,
        );
        PackagePlan::new("2.0".into(), src, Vec::new())
    }

    #[test]
    fn an_sdist_gets_every_key_of_its_rule_with_the_patch_texts() {
        let mut plan = planned(SourceKind::Sdist, "app-2.0.tar.gz");
        apply_overrides(&mut plan, &locked("2.0"), &db());
        assert_eq!(plan.build_system, ["meson-python"]);
        assert_eq!(plan.native_build_inputs, ["pkg-config"]);
        assert_eq!(plan.build_inputs, ["zlib"]);
        assert_eq!(plan.propagated_build_inputs, ["libffi"]);
        assert_eq!(
            plan.env,
            BTreeMap::from([("APP_SYSTEM_LIBS".to_string(), "1".to_string())])
        );
        assert_eq!(
            plan.patches,
            [
                PatchPlan {
                    name: "fix-build.patch".into(),
                    text: "--- a/x\n+++ b/x\n".into()
                },
                PatchPlan {
                    name: "second.patch".into(),
                    text: "second\n".into()
                },
            ]
        );
        assert_eq!(plan.build_flags, ["-Csetup-args=-Dsystem=true"]);
        assert!(plan.warnings.is_empty());
        let json = serde_json::to_value(&plan).unwrap();
        assert_eq!(json["patches"][0]["name"], "fix-build.patch");
        assert_eq!(json["env"]["APP_SYSTEM_LIBS"], "1");
        assert_eq!(json["build-flags"][0], "-Csetup-args=-Dsystem=true");
        assert_eq!(json["propagated-build-inputs"][0], "libffi");
    }

    #[test]
    fn the_new_keys_are_omitted_when_empty() {
        let mut plan = planned(SourceKind::Sdist, "app-1.0.tar.gz");
        apply_overrides(&mut plan, &locked("1.0"), &db());
        assert_eq!(plan.build_system, ["setuptools"]);
        let json = serde_json::to_value(&plan).unwrap();
        for key in [
            "propagated-build-inputs",
            "env",
            "patches",
            "build-flags",
            "unknown-sonames",
        ] {
            assert!(json.get(key).is_none(), "{key}: {json}");
        }
        let back: PackagePlan = serde_json::from_value(json).unwrap();
        assert_eq!(back, plan);
    }

    #[test]
    fn a_wheel_gets_its_rules_inputs_and_env_after_the_binary_wheel_inputs() {
        let target = Target::new(NixSystem::X86_64Linux, PythonVersion::new(11));
        let filename = "app-2.0-cp311-cp311-manylinux_2_17_x86_64.whl";
        let mut plan = planned(SourceKind::Wheel, filename);
        add_binary_wheel_inputs(&mut plan, &target, filename);
        apply_wheel_overrides(&mut plan, "app", &"2.0".parse().unwrap(), &db());
        assert_eq!(plan.native_build_inputs, ["autoPatchelfHook", "pkg-config"]);
        assert_eq!(
            plan.build_inputs,
            ["pythonManylinuxPackages.manylinux2014", "libGL", "zlib"]
        );
        assert_eq!(plan.propagated_build_inputs, ["libffi"]);
        assert_eq!(plan.env["APP_WHEEL"], "yes");
        // Nothing of the sdist rule reaches a wheel.
        assert!(plan.build_system.is_empty() && plan.patches.is_empty());
        assert!(plan.build_flags.is_empty());
        // A pure wheel on Darwin gets the rule's inputs alone.
        let darwin = Target::new(NixSystem::Aarch64Darwin, PythonVersion::new(11));
        let mut pure = planned(SourceKind::Wheel, "app-2.0-py3-none-any.whl");
        add_binary_wheel_inputs(&mut pure, &darwin, "app-2.0-py3-none-any.whl");
        apply_wheel_overrides(&mut pure, "app", &"2.0".parse().unwrap(), &db());
        assert_eq!(pure.native_build_inputs, ["pkg-config"]);
        assert_eq!(pure.build_inputs, ["libGL", "zlib"]);
        // No wheel rule, nothing added.
        let mut other = planned(SourceKind::Wheel, "app-2.0-py3-none-any.whl");
        apply_wheel_overrides(&mut other, "other", &"2.0".parse().unwrap(), &db());
        assert_eq!(
            other,
            planned(SourceKind::Wheel, "app-2.0-py3-none-any.whl")
        );
    }

    /// uv's conflicting extras lock two versions of one package: holding every extra cannot
    /// work, so the plan holds the main dependencies and what can be added in name order, and
    /// says what it left out; naming the other extra plans it.
    #[test]
    fn conflicting_extras_are_held_as_far_as_they_go_together() {
        use std::str::FromStr;
        let wheel = |v: &str, c: char| {
            format!(
                "wheels = [{{ url = \"https://example.invalid/torch-{v}-py3-none-any.whl\", hash = \"sha256:{}\" }}]",
                c.to_string().repeat(64)
            )
        };
        let lock_text = format!(
            r#"version = 1
revision = 3
requires-python = ">=3.11"

[[package]]
name = "proj"
version = "0.1.0"
source = {{ virtual = "." }}

[package.optional-dependencies]
cpu = [{{ name = "torch", version = "1.0", source = {{ registry = "https://example.invalid/simple" }} }}]
gpu = [{{ name = "torch", version = "2.0", source = {{ registry = "https://example.invalid/simple" }} }}]

[[package]]
name = "torch"
version = "1.0"
source = {{ registry = "https://example.invalid/simple" }}
resolution-markers = ["extra == 'extra-4-proj-cpu'"]
{}

[[package]]
name = "torch"
version = "2.0"
source = {{ registry = "https://example.invalid/simple" }}
resolution-markers = ["extra == 'extra-4-proj-gpu'"]
{}
"#,
            wheel("1.0", 'a'),
            wheel("2.0", 'b')
        );
        let lock = py2nix_lock::parse_uv_lock(&lock_text).unwrap();
        let project = lock.project.clone().unwrap();
        let targets = [Target::new(NixSystem::X86_64Linux, PythonVersion::new(12))];
        let control = FormatControl::default();
        let resolutions =
            resolve_targets(&lock, &project, &Selection::default(), &targets, &control).unwrap();
        let first = &resolutions[0];
        assert_eq!(first.held.extras.len(), 1);
        assert_eq!(first.held.extras[0].as_ref(), "cpu");
        assert_eq!(first.left_out.len(), 1, "{:?}", first.left_out);
        assert!(
            first.left_out[0].starts_with("extra `gpu`"),
            "{:?}",
            first.left_out
        );
        let torch = &first.closure.packages[&PackageName::from_str("torch").unwrap()];
        assert_eq!(lock.packages[torch.lock_index].version.to_string(), "1.0");
        // Named on the command line, the other extra is planned.
        let gpu = Selection {
            extras: vec![py2nix_lock::ExtraName::from_str("gpu").unwrap()],
            ..Selection::default()
        };
        let resolutions = resolve_targets(&lock, &project, &gpu, &targets, &control).unwrap();
        let torch = &resolutions[0].closure.packages[&PackageName::from_str("torch").unwrap()];
        assert_eq!(lock.packages[torch.lock_index].version.to_string(), "2.0");
        assert!(resolutions[0].left_out.is_empty());
    }
}
