//! The on-disk cache: small JSON files, each written atomically (a temporary file renamed into
//! place), so concurrent runs and interrupted runs never leave a half-written entry.
//!
//! - `simple-v4/<index key>/<package>.json`: what py2nix keeps of a project page (the files
//!   runs needed, plus every file of the versions listed in `versions`), one file per index and
//!   package, so a warm lookup is one `open` and one `read`. A run that learns more writes the
//!   union of what it read and what it fetched. Two runs at once may race: a writer re-reads
//!   the entry under a short-lived lock file and adds what another run wrote since it read;
//!   where that lock cannot be had, the last rename wins. Either way every entry stays whole
//!   and valid, and a file lost to the race only costs a later run a request;
//! - `file-sha256-v1/<key>.json`: a downloaded file's sha256 and size;
//! - `metadata-v1/<key>.json`: a distribution's core metadata.
//!
//! Every key is a digest of a URL without credentials (`redact_url`), and no entry holds one.
//! Entries that do not parse are treated as absent; a format change bumps the directory name,
//! so old entries are simply ignored and never migrated (`simple-v1` entries lacked
//! `versions`; `simple-v2` kept one file per page, which concurrent runs overwrote; `simple-v3`
//! kept a directory of entries per page, read together, which cost a directory listing per
//! package).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{de::DeserializeOwned, Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{redact_url, Page};

/// Bump when the cached page form changes; old entries are then ignored.
const PAGE_FORMAT: &str = "simple-v4";
pub(crate) const SHA256_FORMAT: &str = "file-sha256-v1";
pub(crate) const METADATA_FORMAT: &str = "metadata-v1";

/// A cache directory.
#[derive(Clone)]
pub struct Cache {
    root: PathBuf,
    /// [`Cache::index_dir`] of the index URLs seen (a URL parse and a digest each, once per
    /// index rather than once per package).
    index_dirs: Arc<Mutex<Vec<(String, PathBuf)>>>,
}

/// A cached page and the versions whose files it holds all of.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PageEntry {
    pub files: Vec<crate::PageFile>,
    /// Versions (as requested) every file of which on the page was kept.
    #[serde(default)]
    pub versions: Vec<String>,
    /// The bytes of the entry file this entry was read from (`None`: there was none). Writing
    /// the entry back finds other bytes there only when another run wrote in between, and then
    /// keeps what that run added too.
    #[serde(skip)]
    pub read_from: Option<Vec<u8>>,
}

impl PageEntry {
    /// Adds the files (by name) and versions of `other` that this entry lacks.
    fn absorb(&mut self, other: PageEntry) {
        for file in other.files {
            if !self.files.iter().any(|f| f.filename == file.filename) {
                self.files.push(file);
            }
        }
        for version in other.versions {
            if !self.versions.contains(&version) {
                self.versions.push(version);
            }
        }
    }
}

/// Only the directory: the index URLs remembered may hold credentials.
impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache").field("root", &self.root).finish()
    }
}

impl Cache {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Cache {
            root: root.into(),
            index_dirs: Arc::default(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The directory of an index's page entries, keyed by its URL without credentials.
    fn index_dir(&self, index_url: &str) -> PathBuf {
        let mut known = self
            .index_dirs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((_, dir)) = known.iter().find(|(url, _)| url == index_url) {
            return dir.clone();
        }
        let digest = Sha256::digest(redact_url(index_url).as_bytes());
        let dir = self.root.join(PAGE_FORMAT).join(hex::encode(&digest[..12]));
        known.push((index_url.to_string(), dir.clone()));
        dir
    }

    /// A package's file name stem: its normalised name, or a digest of a name that is not
    /// safe as a file name.
    fn page_stem(package: &str) -> String {
        let name = py2nix_dist::normalize_name(package);
        if py2nix_dist::is_normalized(&name) {
            name
        } else {
            hex::encode(&Sha256::digest(package.as_bytes())[..12])
        }
    }

    /// The page entry of a package on an index.
    fn page_path(&self, index_url: &str, package: &str) -> PathBuf {
        self.index_dir(index_url)
            .join(format!("{}.json", Self::page_stem(package)))
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
            read_from: None,
        };
        self.write_entry(index_url, package, &entry)
    }

    /// The page's entry; `None` when there is no readable one.
    pub(crate) fn read_entry(&self, index_url: &str, package: &str) -> Option<PageEntry> {
        let (mut entry, bytes) = read_json_bytes::<PageEntry>(&self.page_path(index_url, package))?;
        entry.read_from = Some(bytes);
        Some(entry)
    }

    /// Replaces the page's entry with `entry` (which holds what was read from it and what was
    /// learnt since), atomically. Under a lock file, the entry is read again first: bytes
    /// other than those `entry` was read from are another run's, written in between, and what
    /// that run added is kept too. Without the lock (another run holds it for long, or the
    /// file system refuses it) the last rename wins: the entry is still whole and valid, and
    /// what the other run added only costs a later run a request.
    pub(crate) fn write_entry(
        &self,
        index_url: &str,
        package: &str,
        entry: &PageEntry,
    ) -> std::io::Result<()> {
        let dir = self.index_dir(index_url);
        let stem = Self::page_stem(package);
        let path = dir.join(format!("{stem}.json"));
        std::fs::create_dir_all(&dir)?;
        let _lock = WriteLock::acquire(dir.join(format!("{stem}.lock")));
        let now = read_bytes(&path);
        let body = if now == entry.read_from {
            serde_json::to_vec(entry)
        } else {
            let mut union = entry.clone();
            if let Some(theirs) = now.and_then(|b| serde_json::from_slice::<PageEntry>(&b).ok()) {
                union.absorb(theirs);
            }
            serde_json::to_vec(&union)
        }
        .map_err(std::io::Error::other)?;
        write_bytes(&path, &body)
    }

    /// Removes every cached page of `package` (from every index): for a run that found a page
    /// disagreeing with the lock, so that the next run asks the index again rather than repeat
    /// a wrong answer from the cache. Returns how many entries were removed.
    pub fn forget_package(&self, package: &str) -> usize {
        let name = format!("{}.json", Self::page_stem(package));
        let Ok(indexes) = std::fs::read_dir(self.root.join(PAGE_FORMAT)) else {
            return 0;
        };
        indexes
            .flatten()
            .filter(|index| std::fs::remove_file(index.path().join(&name)).is_ok())
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
        read_json_bytes(&self.keyed_path(format, key)).map(|(value, _)| value)
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

/// How much of an entry the first `read` asks for: a page entry of a graph lock's file is a few
/// hundred bytes (a larger one, every wheel of a version, takes another read or two).
const FIRST_READ: usize = 4096;

/// A JSON entry and its bytes, usually with one `open` and one `read` (no `stat` for a size
/// hint, no second `read` to see the end): entries are JSON objects written whole and renamed
/// into place, and a prefix of an object that parses is all of it (bar trailing white space),
/// so a first read that the buffer did not fill and that parses is the whole file. Anything
/// else is read to the end and parsed again.
fn read_json_bytes<T: DeserializeOwned>(path: &Path) -> Option<(T, Vec<u8>)> {
    let mut file = std::fs::File::open(path).ok()?;
    let mut bytes = vec![0; FIRST_READ];
    let read = loop {
        match file.read(&mut bytes) {
            Ok(n) => break n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return None,
        }
    };
    bytes.truncate(read);
    if read < FIRST_READ {
        if let Ok(value) = serde_json::from_slice(&bytes) {
            return Some((value, bytes));
        }
    }
    file.read_to_end(&mut bytes).ok()?;
    let value = serde_json::from_slice(&bytes).ok()?;
    Some((value, bytes))
}

/// A file's bytes, `None` when it cannot be read (usually: it does not exist).
fn read_bytes(path: &Path) -> Option<Vec<u8>> {
    std::fs::read(path).ok()
}

/// A lock file held while a page entry is read again, merged and replaced (well under a
/// millisecond), so that two runs writing one entry at once add to each other's rather than
/// replace it. Removed when dropped; one left by a killed run is taken over once it is older
/// than any write takes. Only a write (after a request to the index) ever waits for one, and
/// only while another process writes the same entry, so the wait simply blocks the thread.
struct WriteLock {
    path: PathBuf,
}

impl WriteLock {
    /// How long a writer waits for another's lock before writing without it.
    const WAIT: Duration = Duration::from_secs(1);
    /// A lock older than this is a killed run's.
    const STALE: Duration = Duration::from_secs(5);

    /// The lock, or `None` when it cannot be had (then the write goes ahead without it).
    fn acquire(path: PathBuf) -> Option<WriteLock> {
        let deadline = Instant::now() + Self::WAIT;
        loop {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(_) => return Some(WriteLock { path }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let stale = std::fs::metadata(&path)
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|t| t.elapsed().ok())
                        .is_some_and(|age| age > Self::STALE);
                    if stale {
                        let _ = std::fs::remove_file(&path);
                    } else if Instant::now() >= deadline {
                        return None;
                    } else {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                }
                Err(_) => return None,
            }
        }
    }
}

impl Drop for WriteLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
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
        assert!(!format!("{cache:?}").contains("secret"));
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
        let path = cache.page_path("https://example.org/simple/", "x");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, r#"{"files": []}"#).unwrap();
        let entry = cache
            .read_entry("https://example.org/simple/", "x")
            .unwrap();
        assert!(entry.files.is_empty() && entry.versions.is_empty());
        std::fs::write(&path, "not json").unwrap();
        assert!(cache.read("https://example.org/simple/", "x").is_none());
        std::fs::write(&path, r#"{"files": [], "versions": ["1"]"#).unwrap();
        assert!(
            cache.read("https://example.org/simple/", "x").is_none(),
            "cut short"
        );
    }

    #[test]
    fn one_file_per_package_and_index() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        let page = Page {
            files: vec![file("Foo_Bar-1.tar.gz")],
        };
        cache
            .write("https://example.org/simple/", "Foo_Bar", &page)
            .unwrap();
        cache
            .write("https://example.org/simple/", "foo.bar", &page)
            .unwrap();
        cache
            .write("https://example.org/simple/", "a/b", &page)
            .unwrap();
        let mut names: Vec<String> = walk(dir.path())
            .iter()
            .map(|p| {
                let relative = p.strip_prefix(dir.path()).unwrap();
                let parts: Vec<_> = relative.iter().map(|c| c.to_string_lossy()).collect();
                assert_eq!(parts.len(), 3, "{relative:?}");
                assert_eq!(parts[0], "simple-v4");
                parts[2].to_string()
            })
            .collect();
        names.sort();
        assert_eq!(names.len(), 2, "{names:?}");
        assert!(names.contains(&"foo-bar.json".to_string()), "{names:?}");
        assert!(names
            .iter()
            .all(|n| !n.contains('/') && n.ends_with(".json")));
        assert_eq!(cache.read("https://example.org/simple/", "a/b"), Some(page));
    }

    #[test]
    fn large_entries_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        let page = Page {
            files: (0..1000).map(|i| file(&format!("x-{i}.tar.gz"))).collect(),
        };
        cache
            .write("https://example.org/simple/", "x", &page)
            .unwrap();
        let path = cache.page_path("https://example.org/simple/", "x");
        assert!(std::fs::metadata(&path).unwrap().len() > FIRST_READ as u64 * 2);
        assert_eq!(cache.read("https://example.org/simple/", "x"), Some(page));
    }

    fn file(name: &str) -> PageFile {
        PageFile {
            filename: name.into(),
            url: format!("https://example.org/{name}"),
            sha256: None,
            requires_python: None,
            yanked: false,
            core_metadata: None,
        }
    }

    #[test]
    fn a_write_keeps_what_another_run_wrote_since_the_read() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        let index = "https://example.org/simple/";
        // Two runs read nothing, then each writes what it learnt: the second keeps the first's.
        let first = PageEntry {
            files: vec![file("x-1.tar.gz")],
            versions: vec!["1".into()],
            read_from: None,
        };
        let second = PageEntry {
            files: vec![file("x-2.tar.gz"), file("x-1.tar.gz")],
            versions: Vec::new(),
            read_from: None,
        };
        cache.write_entry(index, "x", &first).unwrap();
        cache.write_entry(index, "x", &second).unwrap();
        let union = cache.read_entry(index, "x").unwrap();
        let names: Vec<_> = union.files.iter().map(|f| f.filename.as_str()).collect();
        assert_eq!(names, ["x-2.tar.gz", "x-1.tar.gz"]);
        assert_eq!(union.versions, ["1"]);
        // A run writing back what it read, changed, replaces it whole (a file the index no
        // longer lists is dropped).
        let mut changed = union.clone();
        changed.files.retain(|f| f.filename != "x-1.tar.gz");
        cache.write_entry(index, "x", &changed).unwrap();
        let again = cache.read_entry(index, "x").unwrap();
        assert_eq!(again.files, [file("x-2.tar.gz")]);
        assert_eq!(again.versions, ["1"]);
        // Written since the read: kept.
        cache.write_entry(index, "x", &first).unwrap();
        cache.write_entry(index, "x", &changed).unwrap();
        let kept = cache.read_entry(index, "x").unwrap();
        assert_eq!(kept.files.len(), 2);
        // No lock file stays.
        assert!(walk(dir.path())
            .iter()
            .all(|p| p.extension().is_some_and(|e| e == "json")));
    }

    #[test]
    fn a_held_lock_delays_a_write_and_a_stale_one_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        let held = WriteLock::acquire(path.clone()).unwrap();
        let waiter = std::thread::spawn({
            let path = path.clone();
            move || {
                let start = Instant::now();
                let lock = WriteLock::acquire(path);
                (lock.is_some(), start.elapsed())
            }
        });
        std::thread::sleep(Duration::from_millis(50));
        drop(held);
        let (got, waited) = waiter.join().unwrap();
        assert!(got && waited >= Duration::from_millis(40), "{waited:?}");
        assert!(!path.exists());
        // A killed run's lock, from long ago.
        let file = std::fs::File::create(&path).unwrap();
        file.set_modified(std::time::SystemTime::now() - WriteLock::STALE * 2)
            .unwrap();
        let start = Instant::now();
        assert!(WriteLock::acquire(path).is_some());
        assert!(start.elapsed() < WriteLock::WAIT);
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
