//! The binary's keyed cache: small JSON entries of what a run learnt from a download or a
//! checkout that never changes (an sdist's build facts by its hash, a git checkout's hash and
//! files by commit), so that a warm run neither downloads nor runs git.
//!
//! An entry lives in `<cache root>/<namespace>-v<version>/<sha256 of the key>.json` and holds
//! its key beside its value, so that a read checks it got what it asked for. Bumping a
//! namespace's version abandons its old entries. Writes are atomic (a temporary file renamed
//! into place); a cache that cannot be read or written only costs a later download, so errors
//! are not reported. The index pages' cache (`py2nix_index::Cache`) is separate: its entries
//! are merged between runs.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::Digest as _;

/// One kind of entry: its directory name and format version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Namespace {
    pub name: &'static str,
    pub version: u32,
}

/// What an sdist (or a local sdist) says about its build, by its SRI hash.
pub const SDIST_BUILD: Namespace = Namespace {
    name: "sdist-build",
    version: 2,
};
/// A git checkout's NAR hash, by redacted URL, commit and submodules.
pub const GIT_HASH: Namespace = Namespace {
    name: "git",
    version: 2,
};
/// What a git tree says about its build, by redacted URL, commit, submodules and subdirectory.
pub const GIT_TREE: Namespace = Namespace {
    name: "git-tree",
    version: 2,
};

/// What a Linux binary wheel's shared objects need and install, by the wheel's SRI hash.
pub const WHEEL_LIBRARIES: Namespace = Namespace {
    name: "wheel-libraries",
    version: 3,
};

/// The cache under a root directory; without one (no cache), every read misses and every
/// write is dropped.
#[derive(Debug, Clone, Copy)]
pub struct KeyedCache<'a> {
    root: Option<&'a Path>,
}

#[derive(Serialize)]
struct EntryOut<'a, T> {
    key: &'a str,
    value: &'a T,
}

#[derive(serde::Deserialize)]
struct EntryIn<T> {
    key: String,
    value: T,
}

impl<'a> KeyedCache<'a> {
    pub fn new(root: Option<&'a Path>) -> Self {
        KeyedCache { root }
    }

    /// Where the entry of `key` is (whether or not it exists).
    pub fn path(&self, namespace: Namespace, key: &str) -> Option<PathBuf> {
        let digest = hex::encode(sha2::Sha256::digest(key.as_bytes()));
        Some(
            self.root?
                .join(format!("{}-v{}", namespace.name, namespace.version))
                .join(format!("{digest}.json")),
        )
    }

    /// The value stored under `key`; `None` when there is none, or it is unreadable, or it
    /// belongs to another key.
    pub fn get<T: DeserializeOwned>(&self, namespace: Namespace, key: &str) -> Option<T> {
        let bytes = std::fs::read(self.path(namespace, key)?).ok()?;
        let entry: EntryIn<T> = serde_json::from_slice(&bytes).ok()?;
        (entry.key == key).then_some(entry.value)
    }

    /// Stores `value` under `key`, atomically. A failed write only costs a later run the work.
    pub fn put<T: Serialize>(&self, namespace: Namespace, key: &str, value: &T) {
        let Some(path) = self.path(namespace, key) else {
            return;
        };
        let Ok(body) = serde_json::to_vec(&EntryOut { key, value }) else {
            return;
        };
        let _ = write_atomically(&path, body);
    }
}

/// Writes a file through a temporary file in the same directory, renamed into place, so a
/// reader never sees half of it.
pub(crate) fn write_atomically(path: &Path, bytes: impl AsRef<[u8]>) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut file, bytes.as_ref())?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEST: Namespace = Namespace {
        name: "test",
        version: 3,
    };

    #[test]
    fn entries_round_trip_by_namespace_version_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let cache = KeyedCache::new(Some(dir.path()));
        assert_eq!(cache.get::<Vec<String>>(TEST, "a"), None);
        cache.put(TEST, "a", &vec!["x".to_string()]);
        cache.put(TEST, "b", &vec!["y".to_string()]);
        assert_eq!(cache.get::<Vec<String>>(TEST, "a"), Some(vec!["x".into()]));
        assert_eq!(cache.get::<Vec<String>>(TEST, "b"), Some(vec!["y".into()]));
        // Another version of the namespace is another directory.
        let other = Namespace { version: 4, ..TEST };
        assert_eq!(cache.get::<Vec<String>>(other, "a"), None);
        assert!(dir.path().join("test-v3").is_dir());
        // A value of the wrong shape is a miss, not an error.
        assert_eq!(cache.get::<u32>(TEST, "a"), None);
        // Overwritten in place.
        cache.put(TEST, "a", &vec!["z".to_string()]);
        assert_eq!(cache.get::<Vec<String>>(TEST, "a"), Some(vec!["z".into()]));
    }

    #[test]
    fn an_entry_under_another_key_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let cache = KeyedCache::new(Some(dir.path()));
        cache.put(TEST, "a", &1u32);
        // Copy a's file to where b's entry would be: its recorded key differs.
        let a = cache.path(TEST, "a").unwrap();
        let b = cache.path(TEST, "b").unwrap();
        std::fs::copy(&a, &b).unwrap();
        assert_eq!(cache.get::<u32>(TEST, "b"), None);
        assert_eq!(cache.get::<u32>(TEST, "a"), Some(1));
        // Garbage is a miss.
        std::fs::write(&a, b"{not json").unwrap();
        assert_eq!(cache.get::<u32>(TEST, "a"), None);
    }

    #[test]
    fn without_a_root_nothing_is_stored() {
        let cache = KeyedCache::new(None);
        cache.put(TEST, "a", &1u32);
        assert_eq!(cache.get::<u32>(TEST, "a"), None);
        assert!(cache.path(TEST, "a").is_none());
    }
}
