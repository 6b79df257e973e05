//! The on-disk cache: one small JSON file per (index, package) with what py2nix keeps of the
//! page. Writes are atomic (a temporary file renamed into place), so concurrent runs and
//! interrupted runs never leave a half-written entry.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::{redact_url, Page};

/// Bump when the cached form changes; old entries are then ignored.
const CACHE_FORMAT: &str = "simple-v1";

/// A cache directory.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
}

impl Cache {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Cache { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The entry's path: keyed by the index URL without credentials and the package name.
    fn entry_path(&self, index_url: &str, package: &str) -> PathBuf {
        let digest = Sha256::digest(redact_url(index_url).as_bytes());
        let index_key = hex::encode(&digest[..12]);
        self.root
            .join(CACHE_FORMAT)
            .join(index_key)
            .join(format!("{package}.json"))
    }

    /// The cached page, if there is a readable one.
    pub fn read(&self, index_url: &str, package: &str) -> Option<Page> {
        let text = std::fs::read(self.entry_path(index_url, package)).ok()?;
        serde_json::from_slice(&text).ok()
    }

    /// Stores a page; failures are returned for the caller to report, never fatal to a plan.
    pub fn write(&self, index_url: &str, package: &str, page: &Page) -> std::io::Result<()> {
        let path = self.entry_path(index_url, package);
        let dir = path.parent().unwrap_or(&self.root);
        std::fs::create_dir_all(dir)?;
        let body = serde_json::to_vec(page).map_err(std::io::Error::other)?;
        let mut temp = tempfile::NamedTempFile::new_in(dir)?;
        std::io::Write::write_all(&mut temp, &body)?;
        temp.persist(&path).map_err(|e| e.error)?;
        Ok(())
    }
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
            }],
        };
        cache
            .write("https://user:secret@example.org/simple/", "x", &page)
            .unwrap();
        assert_eq!(cache.read("https://example.org/simple/", "x"), Some(page));
        for entry in walk(dir.path()) {
            let text = std::fs::read_to_string(&entry).unwrap();
            assert!(!text.contains("secret") && !entry.to_string_lossy().contains("secret"));
        }
    }

    fn walk(dir: &Path) -> Vec<PathBuf> {
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
