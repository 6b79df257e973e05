//! `Cargo.lock` (versions 1 to 4): the crates a Rust build downloads, with where each comes
//! from and the sha256 the lock pins for it.

use serde::Deserialize;

/// The crate registry's index as `Cargo.lock` names it (`source = "registry+<this>"`).
pub const CRATES_IO_INDEX: &str = "https://github.com/rust-lang/crates.io-index";
/// The crate registry's sparse index, as newer cargo may write it (`sparse+<this>`).
pub const CRATES_IO_SPARSE_INDEX: &str = "https://index.crates.io/";

/// One dependency crate of a `Cargo.lock` (the workspace's own crates, which have no
/// `source`, are left out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedCrate {
    pub name: String,
    pub version: String,
    pub source: CrateSource,
}

/// Where a locked crate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CrateSource {
    /// The default crate registry, with the lock's sha256 (lower-case hex) of the `.crate`.
    CratesIo { checksum: String },
    /// A git repository at a commit.
    Git { url: String, commit: String },
    /// Anything else (another registry, a path): `source` as written.
    Other { source: String },
}

#[derive(Deserialize)]
struct LockWire {
    #[serde(default)]
    package: Vec<PackageWire>,
    /// Version 1 keeps the checksums here: `"checksum <name> <version> (<source>)" = "<hex>"`.
    #[serde(default)]
    metadata: std::collections::BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct PackageWire {
    name: String,
    version: String,
    source: Option<String>,
    checksum: Option<String>,
}

/// Parses `Cargo.lock` text. A registry crate without a checksum is an error naming it; so is
/// a lock that is not TOML.
pub fn parse_cargo_lock(text: &str) -> Result<Vec<LockedCrate>, String> {
    let wire: LockWire = toml::from_str(text).map_err(|e| format!("Cargo.lock: {e}"))?;
    let mut crates = Vec::new();
    for package in wire.package {
        let Some(source) = package.source else {
            continue;
        };
        let registry = source
            .strip_prefix("registry+")
            .is_some_and(|index| index == CRATES_IO_INDEX)
            || source
                .strip_prefix("sparse+")
                .is_some_and(|index| index == CRATES_IO_SPARSE_INDEX);
        let source = if registry {
            let checksum = package
                .checksum
                .clone()
                .or_else(|| {
                    wire.metadata
                        .get(&format!(
                            "checksum {} {} ({source})",
                            package.name, package.version
                        ))
                        .cloned()
                })
                .filter(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
                .ok_or_else(|| {
                    format!(
                        "Cargo.lock: crate {} {} has no valid sha256 checksum",
                        package.name, package.version
                    )
                })?;
            CrateSource::CratesIo {
                checksum: checksum.to_ascii_lowercase(),
            }
        } else if let Some(git) = source.strip_prefix("git+") {
            let (location, commit) = git.rsplit_once('#').ok_or_else(|| {
                format!(
                    "Cargo.lock: crate {} {} has a git source without a commit: {source}",
                    package.name, package.version
                )
            })?;
            let url = location.split('?').next().unwrap_or(location).to_string();
            CrateSource::Git {
                url,
                commit: commit.to_string(),
            }
        } else {
            CrateSource::Other { source }
        };
        crates.push(LockedCrate {
            name: package.name,
            version: package.version,
            source,
        });
    }
    Ok(crates)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_git_and_workspace_crates() {
        let text = r#"
version = 3

[[package]]
name = "mine"
version = "0.1.0"

[[package]]
name = "autocfg"
version = "1.4.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "ACE50BADE8E6234AA140D9A2F552BBEE1DB4D353F69B8217BC503490FC1A9F26"

[[package]]
name = "pyo3"
version = "0.22.0"
source = "git+https://github.com/PyO3/pyo3?rev=abc#0123456789abcdef0123456789abcdef01234567"
"#;
        let crates = parse_cargo_lock(text).unwrap();
        assert_eq!(crates.len(), 2);
        assert_eq!(
            crates[0].source,
            CrateSource::CratesIo {
                checksum: "ace50bade8e6234aa140d9a2f552bbee1db4d353f69b8217bc503490fc1a9f26".into()
            }
        );
        assert_eq!(
            crates[1].source,
            CrateSource::Git {
                url: "https://github.com/PyO3/pyo3".into(),
                commit: "0123456789abcdef0123456789abcdef01234567".into()
            }
        );
    }

    #[test]
    fn version_1_checksums_and_errors() {
        let text = r#"
[[package]]
name = "libc"
version = "0.2.1"
source = "registry+https://github.com/rust-lang/crates.io-index"

[metadata]
"checksum libc 0.2.1 (registry+https://github.com/rust-lang/crates.io-index)" = "0000000000000000000000000000000000000000000000000000000000000001"
"#;
        let crates = parse_cargo_lock(text).unwrap();
        assert!(
            matches!(&crates[0].source, CrateSource::CratesIo { checksum } if checksum.ends_with('1'))
        );
        let missing = text.replace("\"checksum libc", "\"checksum other");
        assert!(parse_cargo_lock(&missing)
            .unwrap_err()
            .contains("libc 0.2.1"));
        assert!(parse_cargo_lock("[[package]\n").is_err());
        let other = "[[package]]\nname = \"x\"\nversion = \"1\"\nsource = \"registry+https://example.org/index\"\n";
        assert!(matches!(
            parse_cargo_lock(other).unwrap()[0].source,
            CrateSource::Other { .. }
        ));
    }
}
