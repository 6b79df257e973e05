//! The checked model every lock format is read into.

use std::collections::BTreeMap;
use std::str::FromStr;

use pep440_rs::Version;
use pep508_rs::{ExtraName, MarkerTree, PackageName};

use crate::VersionConstraint;

/// A whole lock file: every locked package, in file order.
#[derive(Debug, Clone)]
pub struct Lock {
    /// Which kind of file this was read from.
    pub format: LockFormat,
    /// The lock's format version as written (`"2.1"` for poetry.lock, `"1"` for uv.lock and
    /// pylock.toml, `""` for requirements.txt).
    pub lock_version: String,
    pub packages: Vec<LockedPackage>,
    /// Things worth telling the user that do not stop the read.
    pub warnings: Vec<String>,
    /// What the project asks for, when the lock itself records it (uv.lock's root member,
    /// pylock.toml's extras and groups). `None`: pyproject.toml says (poetry.lock).
    pub project: Option<Project>,
    /// How the packages to install are found.
    pub install: InstallSet,
    /// Indexes the lock names besides its packages' own sources (requirements.txt's
    /// `--index-url`/`--extra-index-url`, in order; the first replaces the default index).
    pub indexes: Vec<IndexDecl>,
}

/// The lock file formats py2nix reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LockFormat {
    Poetry,
    Uv,
    Pylock,
    Requirements,
    Pdm,
}

impl LockFormat {
    /// The usual file name of the format, for messages.
    pub fn file_name(self) -> &'static str {
        match self {
            LockFormat::Poetry => "poetry.lock",
            LockFormat::Uv => "uv.lock",
            LockFormat::Pylock => "pylock.toml",
            LockFormat::Requirements => "requirements.txt",
            LockFormat::Pdm => "pdm.lock",
        }
    }
}

/// How a lock says which packages a target installs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstallSet {
    /// Walk the locked dependency graph from the project's roots (poetry.lock, uv.lock, pdm.lock).
    Graph,
    /// Every package whose marker holds is installed (pylock.toml, requirements.txt). Packages
    /// whose `dependencies_known` is false get their dependencies from their metadata.
    Flat,
}

/// An index a lock names: `name` is how credentials are looked up (`PY2NIX_INDEX_<NAME>_…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexDecl {
    pub name: String,
    pub url: String,
}

/// One package at one version. A lock may hold several versions of one name (forks by marker).
#[derive(Debug, Clone)]
pub struct LockedPackage {
    pub name: PackageName,
    pub version: Version,
    /// The Python versions this locked version supports (`python-versions`).
    pub requires_python: VersionConstraint,
    /// Where the locker saw it installed (`markers` in poetry.lock 2.1); `None` means everywhere.
    pub marker: Option<MarkerTree>,
    pub files: Vec<LockedFile>,
    pub dependencies: Vec<Dependency>,
    /// Extra name to the names of the optional dependencies it turns on.
    pub extras: BTreeMap<ExtraName, Vec<PackageName>>,
    pub source: PackageSource,
    /// Whether `dependencies` is the package's whole dependency list. False for packages of a
    /// lock that records no graph (pylock.toml without `dependencies`, requirements.txt): the
    /// planner derives them from the package's core metadata.
    pub dependencies_known: bool,
    /// Extras the lock itself turns on for this package (requirements.txt's `name[extra]==…`).
    pub requested_extras: Vec<ExtraName>,
    /// `Some` when the lock names no files but hashes (requirements.txt's `--hash`): the files
    /// are the index's files of this version whose hash is one of these (every file of the
    /// version when the list is empty). The planner fills `files` from the index.
    pub index_hashes: Option<Vec<FileHash>>,
}

/// Where a package's files come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackageSource {
    /// The default index (PyPI unless configured otherwise).
    DefaultIndex,
    /// A named index with a Simple API at `url`.
    Index { name: String, url: String },
    /// A direct URL to one archive (an sdist or a wheel); `files` holds that one file, its
    /// name taken from the URL, with the lock's hash when it has one.
    Url {
        url: String,
        subdirectory: Option<String>,
    },
    /// A git repository at a commit. `files` is empty.
    Git(GitSource),
    /// A local directory or archive, `path` as the lock writes it (relative to the lock's
    /// directory unless absolute). For an archive, `files` holds it (hash when the lock has one).
    Path {
        path: String,
        kind: PathKind,
        editable: bool,
    },
    /// A kind of source py2nix cannot plan (an unknown `type`, a VCS other than git).
    Unsupported { kind: String, url: String },
}

/// A git source as locks record it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitSource {
    /// The repository URL without `git+`, revision or fragment.
    pub url: String,
    /// What the user asked for: a branch, tag or commit, if the lock says.
    pub reference: Option<String>,
    /// The full commit id, when the lock records it (uv.lock, pylock.toml and poetry.lock do;
    /// a requirements line may name only a branch or tag, which the planner resolves).
    pub commit: Option<String>,
    /// The project's directory inside the repository.
    pub subdirectory: Option<String>,
    /// Whether submodules are part of the checkout.
    pub submodules: bool,
}

/// What a local path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathKind {
    /// A source tree (a directory with a pyproject.toml or setup.py).
    Directory,
    /// An sdist or wheel file.
    Archive,
    /// A directory of sdists and wheels (uv's local `find-links`): `files` are in it, each
    /// named by its file name.
    FindLinks,
}

/// Checks that `filename`, a wheel's or an sdist's name from a lock or an index, is one
/// file name that is safe to create ([`py2nix_dist::check_filename`], where the rule lives).
/// The message says what is wrong (its caller names the package).
///
/// ```
/// assert!(py2nix_lock::check_distribution_filename("idna-3.10-py3-none-any.whl").is_ok());
/// assert!(py2nix_lock::check_distribution_filename("../../x-1.0.tar.gz").is_err());
/// ```
pub fn check_distribution_filename(filename: &str) -> Result<(), String> {
    py2nix_dist::check_filename(filename)
}

impl Lock {
    /// Checks every file name the lock gives ([`check_distribution_filename`]); the first
    /// bad one is an error naming its package.
    pub fn check_file_names(&self) -> Result<(), crate::LockError> {
        for package in &self.packages {
            for file in &package.files {
                check_distribution_filename(&file.filename).map_err(|message| {
                    crate::LockError::Package {
                        package: package.name.to_string(),
                        message,
                    }
                })?;
            }
        }
        Ok(())
    }
}

/// A distribution file named by the lock, with the lock's hash of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedFile {
    pub filename: String,
    /// The lock's hash; `None` when the lock records none (a direct URL without a hash).
    pub hash: Option<FileHash>,
    /// The URL the lock records for the file (uv.lock, pylock.toml), if any.
    pub url: Option<String>,
    /// The size in bytes the lock records, if any.
    pub size: Option<u64>,
}

/// A file hash as `algorithm` and lower-case hex digest.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FileHash {
    pub algorithm: String,
    pub hex: String,
}

impl FileHash {
    /// Parses `sha256:<hex>` as poetry.lock and the Simple API write it.
    ///
    /// ```
    /// let hex = "AB".repeat(32);
    /// let hash = py2nix_lock::FileHash::parse(&format!("sha256:{hex}")).unwrap();
    /// assert_eq!((hash.algorithm.as_str(), hash.hex), ("sha256", "ab".repeat(32)));
    /// assert!(py2nix_lock::FileHash::parse("sha256:abcdef").is_err());
    /// assert!(py2nix_lock::FileHash::parse("sha256:xyz").is_err());
    /// assert!(py2nix_lock::FileHash::parse("nohash").is_err());
    /// assert!(py2nix_lock::FileHash::parse(&format!("SHA256:{}", "ab".repeat(31))).is_err());
    /// assert!(py2nix_lock::FileHash::parse(&format!("sha3000:{hex}")).is_err());
    /// ```
    ///
    /// The algorithm is one Python's `hashlib` always has (a fixed-length one), in any case,
    /// and the digest has its length.
    pub fn parse(text: &str) -> Result<FileHash, String> {
        let (algorithm, hex) = text
            .split_once(':')
            .ok_or_else(|| format!("hash `{text}` is not of the form `algorithm:hex`"))?;
        if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!(
                "hash `{text}` has a digest that is not hexadecimal"
            ));
        }
        let algorithm = algorithm.to_ascii_lowercase();
        let len = match algorithm.as_str() {
            "md5" => 32,
            "sha1" => 40,
            "sha224" | "sha3_224" => 56,
            "sha256" | "sha3_256" | "blake2s" => 64,
            "sha384" | "sha3_384" => 96,
            "sha512" | "sha3_512" | "blake2b" => 128,
            _ => {
                return Err(format!(
                    "hash `{text}` names an unknown algorithm `{algorithm}` (sha256, sha384 and sha512 are the usual ones)"
                ))
            }
        };
        if hex.len() != len {
            return Err(format!(
                "hash `{text}` has {} hex digits; {algorithm} has {len}",
                hex.len()
            ));
        }
        Ok(FileHash {
            algorithm,
            hex: hex.to_ascii_lowercase(),
        })
    }
}

/// One dependency edge: from a package in the lock, or from the project itself.
#[derive(Debug, Clone)]
pub struct Dependency {
    pub name: PackageName,
    /// The allowed versions; a lock with several versions of `name` is disambiguated by it.
    pub version: VersionConstraint,
    /// The PEP 508 marker (including `extra == ...` clauses); `MarkerTree::TRUE` if none.
    pub marker: MarkerTree,
    /// Poetry's `python = "..."` key: the Python versions the edge applies to.
    pub python: Option<VersionConstraint>,
    /// Extras of `name` this edge turns on.
    pub extras: Vec<ExtraName>,
    /// Only installed when one of the depending package's extras names it.
    pub optional: bool,
}

/// What a project's pyproject.toml asks for: its roots, by group and extra.
#[derive(Debug, Clone, Default)]
pub struct Project {
    pub name: Option<PackageName>,
    pub requires_python: Option<VersionConstraint>,
    /// The main dependencies (Poetry's `main` group / PEP 621 `dependencies`).
    pub dependencies: Vec<Dependency>,
    /// Dependency groups (Poetry groups and PEP 735 `[dependency-groups]`), with includes expanded.
    pub groups: BTreeMap<String, Vec<Dependency>>,
    /// The project's own extras, each with the dependencies it adds.
    pub extras: BTreeMap<ExtraName, Vec<Dependency>>,
    /// Groups installed unless `--no-default-groups` is given (uv's `dev`, or
    /// `[tool.uv] default-groups`; pylock.toml's `default-groups`). Empty for Poetry, whose
    /// export installs only the main group.
    pub default_groups: Vec<String>,
    /// Indexes the project names (`[[tool.poetry.source]]`, `[[tool.uv.index]]`): their names
    /// are how credentials are looked up for their URLs.
    pub indexes: Vec<IndexDecl>,
    /// What the lock itself records of the project as a package to build.
    pub root: ProjectRoot,
    /// Poetry groups declared `optional = true`: not installed by `poetry install` unless
    /// asked, so not development groups.
    pub optional_groups: Vec<String>,
    /// The project itself as a package to build (a locked package of its own, whose source
    /// is its directory), when it is one; set by the caller from pyproject.toml.
    pub package: Option<ProjectPackage>,
    /// Why the project has nothing to build, when it has not (`package-mode = false`, ...).
    pub no_package: Option<String>,
    /// The workspace members other than the project itself, with their scripts.
    pub members: BTreeMap<PackageName, Scripts>,
    /// uv's locker settings (`[tool.uv]` and what uv.lock records of them).
    pub uv: crate::UvSettings,
}

/// The project itself as a package: its name and version, and the scripts it installs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectPackage {
    pub name: PackageName,
    pub version: Version,
    pub scripts: Scripts,
}

/// The scripts a package of the project installs in `bin/`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scripts {
    /// Console scripts: name to entry point (`module:object`).
    pub console: BTreeMap<String, String>,
    /// GUI scripts: name to entry point.
    pub gui: BTreeMap<String, String>,
    /// Poetry's file scripts, by name.
    pub files: Vec<String>,
}

impl Scripts {
    /// Every script's name, in order.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .console
            .keys()
            .chain(self.gui.keys())
            .chain(&self.files)
            .cloned()
            .collect();
        names.sort();
        names.dedup();
        names
    }
}

/// What a lock records of the project itself as a package to build.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ProjectRoot {
    /// The lock does not record the project (poetry.lock, pdm.lock, install lists): its
    /// pyproject.toml decides.
    #[default]
    Unrecorded,
    /// The lock installs the project itself (uv's `editable = "."` or `directory = "."`), at
    /// the version it records (`None` for a dynamic version uv leaves out).
    Package { version: Option<Version> },
    /// The lock records the project as having nothing to build (uv's `virtual = "."`, or a
    /// virtual workspace root without `[project]`).
    Virtual,
}

/// The pseudo-extra a flat lock's markers use for dependency group `group` (pylock.toml's
/// `'dev' in dependency_groups` is read as `extra == "<group_extra("dev")>"`), so one marker
/// evaluation covers extras and groups.
///
/// ```
/// assert_eq!(py2nix_lock::group_extra("Dev_Tools").as_ref(), "py2nix-group-dev-tools");
/// ```
pub fn group_extra(group: &str) -> ExtraName {
    let normalized = crate::normalize_group(group);
    #[allow(clippy::expect_used)]
    ExtraName::from_str(&format!("py2nix-group-{normalized}"))
        .or_else(|_| ExtraName::from_str("py2nix-group-invalid"))
        .expect("a constant extra name is valid")
}
