//! The on-disk cache: small JSON files, each written atomically (a temporary file renamed into
//! place), so concurrent runs and interrupted runs never leave a half-written entry.
//!
//! - `simple-v3/<index key>/<package>/<digest>.json`: what py2nix keeps of a project page
//!   (the files runs needed, plus every file of the versions listed in `versions`). A page's
//!   entries are read together, as one; a run writes a new entry holding what it read and what
//!   it learnt, named by the digest of its content, then removes the entries it read. So two
//!   runs at once never undo each other's entries (a run that wrote in between keeps its own
//!   file), and identical entries share one name;
//! - `file-sha256-v1/<key>.json`: a downloaded file's sha256 and size;
//! - `metadata-v1/<key>.json`: a distribution's core metadata.
//!
//! Every key is a digest of a URL without credentials (`redact_url`), and no entry holds one.
//! Entries that do not parse are treated as absent; a format change bumps the directory name,
//! so old entries are simply ignored (`simple-v1` entries lacked `versions`; `simple-v2` kept
//! one file per page, which concurrent runs overwrote).

use std::path::{Path, PathBuf};

use serde::{de::DeserializeOwned, Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{redact_url, Page, PageFile};

/// Bump when the cached page form changes; old entries are then ignored.
const PAGE_FORMAT: &str = "simple-v3";
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
    /// The entry files this one was read from; writing an entry that holds what they held
    /// removes them.
    #[serde(skip)]
    pub superseded: Vec<PathBuf>,
}

impl Cache {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Cache { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The directory of a page's entries: keyed by the index URL without credentials and the
    /// package name.
    fn page_dir(&self, index_url: &str, package: &str) -> PathBuf {
        let digest = Sha256::digest(redact_url(index_url).as_bytes());
        let index_key = hex::encode(&digest[..12]);
        let name = crate::filename::normalize_name(package);
        let stem =
            if !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                name
            } else {
                hex::encode(&Sha256::digest(package.as_bytes())[..12])
            };
        self.root.join(PAGE_FORMAT).join(index_key).join(stem)
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
            superseded: Vec::new(),
        };
        self.write_entry(index_url, package, &entry)
    }

    /// The page's entries as one: every file (the first entry, by name, that lists a file
    /// wins) and every version; `None` when there is no readable entry.
    pub(crate) fn read_entry(&self, index_url: &str, package: &str) -> Option<PageEntry> {
        let dir = self.page_dir(index_url, package);
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
            .ok()?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        paths.sort();
        let mut union: Option<PageEntry> = None;
        for path in paths {
            let Some(entry) = read_json::<PageEntry>(&path) else {
                continue;
            };
            let union = union.get_or_insert_with(PageEntry::default);
            for file in entry.files {
                if !union.files.iter().any(|f| f.filename == file.filename) {
                    union.files.push(file);
                }
            }
            for version in entry.versions {
                if !union.versions.contains(&version) {
                    union.versions.push(version);
                }
            }
            union.superseded.push(path);
        }
        union
    }

    /// Writes `entry` as a new file, then removes the entries it supersedes.
    pub(crate) fn write_entry(
        &self,
        index_url: &str,
        package: &str,
        entry: &PageEntry,
    ) -> std::io::Result<()> {
        let body = serde_json::to_vec(entry).map_err(std::io::Error::other)?;
        let name = format!("{}.json", hex::encode(&Sha256::digest(&body)[..16]));
        let path = self.page_dir(index_url, package).join(name);
        write_bytes(&path, &body)?;
        for old in &entry.superseded {
            if old != &path {
                let _ = std::fs::remove_file(old);
            }
        }
        Ok(())
    }

    /// Removes every cached page of `package` (from every index): for a run that found a page
    /// disagreeing with the lock, so that the next run asks the index again rather than repeat
    /// a wrong answer from the cache. Returns how many entries were removed.
    pub fn forget_package(&self, package: &str) -> usize {
        let Some(stem) = self
            .page_dir("", package)
            .file_name()
            .map(|n| n.to_os_string())
        else {
            return 0;
        };
        let Ok(indexes) = std::fs::read_dir(self.root.join(PAGE_FORMAT)) else {
            return 0;
        };
        indexes
            .flatten()
            .filter(|index| std::fs::remove_dir_all(index.path().join(&stem)).is_ok())
            .count()
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
    let body = serde_json::to_vec(value).map_err(std::io::Error::other)?;
    write_bytes(path, &body)
}

fn write_bytes(path: &Path, body: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| std::io::Error::other("no parent"))?;
    std::fs::create_dir_all(dir)?;
    // A run killed between these lines leaves a `.py2nix-tmp-*` file that no read looks at.
    let mut temp = tempfile::Builder::new()
        .prefix(".py2nix-tmp-")
        .tempfile_in(dir)?;
    std::io::Write::write_all(&mut temp, body)?;
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
    fn forgetting_a_package_removes_its_pages_from_every_index() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        let page = Page { files: Vec::new() };
        for index in ["https://a.example/simple/", "https://b.example/simple/"] {
            cache.write(index, "Typing_Extensions", &page).unwrap();
            cache.write(index, "other", &page).unwrap();
        }
        assert_eq!(cache.forget_package("typing-extensions"), 2);
        assert!(cache
            .read("https://a.example/simple/", "typing-extensions")
            .is_none());
        assert!(cache.read("https://b.example/simple/", "other").is_some());
        assert_eq!(cache.forget_package("typing-extensions"), 0);
        assert_eq!(Cache::new(dir.path().join("none")).forget_package("x"), 0);
    }

    #[test]
    fn entries_without_versions_still_read() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        let path = cache
            .page_dir("https://example.org/simple/", "x")
            .join("old.json");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, r#"{"files": []}"#).unwrap();
        let entry = cache
            .read_entry("https://example.org/simple/", "x")
            .unwrap();
        assert!(entry.files.is_empty() && entry.versions.is_empty());
        std::fs::write(&path, "not json").unwrap();
        assert!(cache.read("https://example.org/simple/", "x").is_none());
    }

    #[test]
    fn entries_written_at_once_are_read_together_and_replaced_by_their_union() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        let index = "https://example.org/simple/";
        let file = |name: &str| PageFile {
            filename: name.into(),
            url: format!("https://example.org/{name}"),
            sha256: None,
            requires_python: None,
            yanked: false,
            core_metadata: None,
        };
        // Two runs read nothing, then each writes what it learnt.
        let first = PageEntry {
            files: vec![file("x-1.tar.gz")],
            versions: vec!["1".into()],
            superseded: Vec::new(),
        };
        let second = PageEntry {
            files: vec![file("x-2.tar.gz"), file("x-1.tar.gz")],
            versions: Vec::new(),
            superseded: Vec::new(),
        };
        cache.write_entry(index, "x", &first).unwrap();
        cache.write_entry(index, "x", &second).unwrap();
        cache.write_entry(index, "x", &second).unwrap();
        let union = cache.read_entry(index, "x").unwrap();
        assert_eq!(union.superseded.len(), 2, "identical entries share a file");
        let mut names: Vec<_> = union.files.iter().map(|f| f.filename.clone()).collect();
        names.sort();
        assert_eq!(names, ["x-1.tar.gz", "x-2.tar.gz"]);
        assert_eq!(union.versions, ["1"]);
        // A third run writes the union back: one entry remains.
        cache.write_entry(index, "x", &union).unwrap();
        let again = cache.read_entry(index, "x").unwrap();
        assert_eq!(again.superseded.len(), 1);
        assert_eq!(again.files.len(), 2);
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
