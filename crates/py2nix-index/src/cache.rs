//! The on-disk cache: small JSON files, each written atomically (a temporary file renamed into
//! place), so concurrent runs and interrupted runs never leave a half-written entry.
//!
//! - `simple-v2/<index key>/<package>.json`: what py2nix keeps of a project page (the files
//!   runs needed, plus every file of the versions listed in `versions`);
//! - `file-sha256-v1/<key>.json`: a downloaded file's sha256 and size;
//! - `metadata-v1/<key>.json`: a distribution's core metadata.
//!
//! Every key is a digest of a URL without credentials (`redact_url`), and no entry holds one.
//! Entries that do not parse are treated as absent; a format change bumps the directory name,
//! so old entries are simply ignored (`simple-v1` entries lacked `versions`).

use std::path::{Path, PathBuf};

use serde::{de::DeserializeOwned, Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{redact_url, Page, PageFile};

/// Bump when the cached page form changes; old entries are then ignored.
const PAGE_FORMAT: &str = "simple-v2";
pub(crate) const SHA256_FORMAT: &str = "file-sha256-v1";
pub(crate) const METADATA_FORMAT: &str = "metadata-v1";

/// A cache directory.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
}

/// A cached page and the versions whose files it holds all of.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PageEntry {
    pub files: Vec<PageFile>,
    /// Versions (as requested) every file of which on the page was kept.
    #[serde(default)]
    pub versions: Vec<String>,
}

impl Cache {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Cache { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The entry's path: keyed by the index URL without credentials and the package name.
    fn page_path(&self, index_url: &str, package: &str) -> PathBuf {
        let digest = Sha256::digest(redact_url(index_url).as_bytes());
        let index_key = hex::encode(&digest[..12]);
        let name = crate::filename::normalize_name(package);
        let stem =
            if !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                name
            } else {
                hex::encode(&Sha256::digest(package.as_bytes())[..12])
            };
        self.root
            .join(PAGE_FORMAT)
            .join(index_key)
            .join(format!("{stem}.json"))
    }

    /// The cached page, if there is a readable one.
    pub fn read(&self, index_url: &str, package: &str) -> Option<Page> {
        self.read_entry(index_url, package)
            .map(|entry| Page { files: entry.files })
    }

    /// Stores a page; failures are returned for the caller to report, never fatal to a plan.
    pub fn write(&self, index_url: &str, package: &str, page: &Page) -> std::io::Result<()> {
        let entry = PageEntry {
            files: page.files.clone(),
            versions: Vec::new(),
        };
        self.write_entry(index_url, package, &entry)
    }

    pub(crate) fn read_entry(&self, index_url: &str, package: &str) -> Option<PageEntry> {
        read_json(&self.page_path(index_url, package))
    }

    pub(crate) fn write_entry(
        &self,
        index_url: &str,
        package: &str,
        entry: &PageEntry,
    ) -> std::io::Result<()> {
        write_json(&self.page_path(index_url, package), entry)
    }

    /// An entry of `format` keyed by `key` (a redacted URL and whatever else identifies it).
    fn keyed_path(&self, format: &str, key: &str) -> PathBuf {
        let digest = Sha256::digest(redact_url(key).as_bytes());
        self.root
            .join(format)
            .join(format!("{}.json", hex::encode(&digest[..16])))
    }

    pub(crate) fn read_keyed<T: DeserializeOwned>(&self, format: &str, key: &str) -> Option<T> {
        read_json(&self.keyed_path(format, key))
    }

    pub(crate) fn write_keyed<T: Serialize>(
        &self,
        format: &str,
        key: &str,
        value: &T,
    ) -> std::io::Result<()> {
        write_json(&self.keyed_path(format, key), value)
    }
}

fn read_json<T: DeserializeOwned>(path: &Path) -> Option<T> {
    let text = std::fs::read(path).ok()?;
    serde_json::from_slice(&text).ok()
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| std::io::Error::other("no parent"))?;
    std::fs::create_dir_all(dir)?;
    let body = serde_json::to_vec(value).map_err(std::io::Error::other)?;
    let mut temp = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut temp, &body)?;
    temp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PageFile;

    #[test]
    fn round_trip_and_credentials_do_not_change_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        let page = Page {
            files: vec![PageFile {
                filename: "x-1.tar.gz".into(),
                url: "https://example.org/x-1.tar.gz".into(),
                sha256: Some("ab".into()),
                requires_python: None,
                yanked: false,
                core_metadata: Some(crate::CoreMetadataRef {
                    sha256: Some("cd".into()),
                }),
            }],
        };
        cache
            .write("https://user:secret@example.org/simple/", "x", &page)
            .unwrap();
        assert_eq!(cache.read("https://example.org/simple/", "x"), Some(page));
        cache
            .write_keyed(SHA256_FORMAT, "https://user:secret@example.org/f", &1)
            .unwrap();
        assert_eq!(
            cache.read_keyed::<u32>(SHA256_FORMAT, "https://example.org/f"),
            Some(1)
        );
        for entry in walk(dir.path()) {
            let text = std::fs::read_to_string(&entry).unwrap();
            assert!(!text.contains("secret") && !entry.to_string_lossy().contains("secret"));
        }
    }

    #[test]
    fn entries_without_versions_still_read() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        let path = cache.page_path("https://example.org/simple/", "x");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, r#"{"files": []}"#).unwrap();
        let entry = cache
            .read_entry("https://example.org/simple/", "x")
            .unwrap();
        assert!(entry.files.is_empty() && entry.versions.is_empty());
        std::fs::write(&path, "not json").unwrap();
        assert!(cache.read("https://example.org/simple/", "x").is_none());
    }

    pub(crate) fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                out.push(path);
            }
        }
        out
    }
}
