//! The checked model every lock format is read into.

use std::collections::BTreeMap;

use pep440_rs::Version;
use pep508_rs::{ExtraName, MarkerTree, PackageName};

use crate::VersionConstraint;

/// A whole lock file: every locked package, in file order.
#[derive(Debug, Clone)]
pub struct Lock {
    /// The lock's format version as written (`"2.1"` for poetry.lock).
    pub lock_version: String,
    pub packages: Vec<LockedPackage>,
    /// Things worth telling the user that do not stop the read.
    pub warnings: Vec<String>,
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
}

/// Where a package's files come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackageSource {
    /// The default index (PyPI unless configured otherwise).
    DefaultIndex,
    /// A named index with a Simple API at `url`.
    Index { name: String, url: String },
    /// A kind of source this version of py2nix cannot plan yet (git, url, file, directory).
    Unsupported { kind: String, url: String },
}

/// A distribution file named by the lock, with the lock's hash of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedFile {
    pub filename: String,
    pub hash: FileHash,
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
    /// ```
    pub fn parse(text: &str) -> Result<FileHash, String> {
        let (algorithm, hex) = text
            .split_once(':')
            .ok_or_else(|| format!("hash `{text}` is not of the form `algorithm:hex`"))?;
        if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!(
                "hash `{text}` has a digest that is not hexadecimal"
            ));
        }
        let expected_len = match algorithm {
            "sha256" => Some(64),
            "sha384" => Some(96),
            "sha512" => Some(128),
            "md5" => Some(32),
            _ => None,
        };
        if let Some(len) = expected_len {
            if hex.len() != len {
                return Err(format!(
                    "hash `{text}` has {} hex digits; {algorithm} has {len}",
                    hex.len()
                ));
            }
        }
        Ok(FileHash {
            algorithm: algorithm.to_ascii_lowercase(),
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
}
