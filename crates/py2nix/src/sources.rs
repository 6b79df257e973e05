//! Where each package's files come from: which index (and its name, for credentials), local
//! paths relative to the generated file, git checkouts hashed (and cached) as Nix hashes them.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use crate::cache::{KeyedCache, GIT_HASH, GIT_TREE};
use anyhow::{anyhow, Context};
use py2nix_index::{Credentials, Page, DEFAULT_INDEX_URL};
use py2nix_lock::{
    GitSource, IndexDecl, Lock, LockFormat, LockedFile, LockedPackage, PackageSource,
};
use py2nix_plan::{IndexedFile, PlanError, ResolvedGit};

/// An index to ask for a package's page.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct IndexChoice {
    pub url: String,
    /// The name credentials are looked up by; empty for the default index.
    pub name: String,
}

/// Maps packages to indexes: the default (`--index-url`, or a requirements file's
/// `--index-url`), and named ones from the lock and pyproject.toml.
pub struct Indexes {
    default: IndexChoice,
    extra: Vec<IndexChoice>,
    declared: Vec<IndexDecl>,
}

pub(crate) fn same_index(a: &str, b: &str) -> bool {
    // The same text is the same index; only different texts need URL parsing.
    if a.trim_end_matches('/') == b.trim_end_matches('/') {
        return true;
    }
    let trim = |s: &str| {
        py2nix_index::redact_url(s)
            .trim_end_matches('/')
            .to_ascii_lowercase()
    };
    trim(a) == trim(b)
}

impl Indexes {
    pub fn new(default_url: &str, lock: &Lock, declared: &[IndexDecl]) -> Self {
        let mut default = IndexChoice {
            url: default_url.to_string(),
            name: String::new(),
        };
        let mut extra = Vec::new();
        if lock.format == LockFormat::Requirements {
            let mut lock_indexes = lock.indexes.iter();
            // An empty first URL means the file names extra indexes only: the default stays.
            // So is the built-in default written out (`--index-url` still redirects it).
            if let Some(first) = lock_indexes
                .next()
                .filter(|first| !first.url.is_empty() && !same_index(&first.url, DEFAULT_INDEX_URL))
            {
                default = IndexChoice {
                    url: first.url.clone(),
                    name: first.name.clone(),
                };
            }
            extra = lock_indexes
                .map(|i| IndexChoice {
                    url: i.url.clone(),
                    name: i.name.clone(),
                })
                .collect();
        }
        Indexes {
            default,
            extra,
            declared: declared.to_vec(),
        }
    }

    /// The default index (`--index-url`, or a requirements file's own): where build
    /// requirements the lock does not pin are resolved.
    pub fn default_index(&self) -> IndexChoice {
        self.default.clone()
    }

    /// The indexes to ask for a package, in order: one, except for a requirements file's
    /// default-index packages when it names extra indexes (pip asks them all).
    pub fn candidates(&self, package: &LockedPackage) -> Vec<IndexChoice> {
        match &package.source {
            PackageSource::DefaultIndex => {
                let mut all = vec![self.default.clone()];
                all.extend(self.extra.iter().cloned());
                all
            }
            PackageSource::Index { name, url } => vec![self.named(name, url)],
            _ => Vec::new(),
        }
    }

    /// A lock's index: the default one when its URL is the built-in default (so
    /// `--index-url` redirects it) or empty; else named by the lock, by pyproject.toml's
    /// declaration of the same URL, or by its host.
    fn named(&self, name: &str, url: &str) -> IndexChoice {
        if url.is_empty() || same_index(url, DEFAULT_INDEX_URL) {
            return self.default.clone();
        }
        let name = if !name.is_empty() {
            name.to_string()
        } else if let Some(decl) = self.declared.iter().find(|d| same_index(&d.url, url)) {
            decl.name.clone()
        } else {
            url::Url::parse(url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_string))
                .unwrap_or_default()
        };
        IndexChoice {
            url: url.to_string(),
            name,
        }
    }
}

/// The name an index lists a locked file under: the last segment of the lock's URL for it
/// (percent-decoded) when that is a file of the package's version, else the lock's name. A lock
/// may write a file's name normalised (uv's pylock.toml: `pysocks-1.7.1-py3-none-any.whl`)
/// where the index lists it as uploaded (`PySocks-1.7.1-py3-none-any.whl`).
pub fn index_filename(package: &LockedPackage, file: &LockedFile) -> String {
    file.url
        .as_deref()
        .map(py2nix_lock::url_filename)
        .filter(|name| name != &file.filename)
        .filter(|name| py2nix_plan::file_is_version(name, package.name.as_ref(), &package.version))
        .unwrap_or_else(|| file.filename.clone())
}

/// The page's entry for a locked file: by the lock's name, else by the name the index lists
/// it under ([`index_filename`]), else by the lock's name without regard to case.
pub fn listed_file<'p>(
    page: &'p Page,
    package: &LockedPackage,
    file: &LockedFile,
) -> Option<&'p py2nix_index::PageFile> {
    page.file(&file.filename)
        .or_else(|| page.file(&index_filename(package, file)))
        .or_else(|| {
            page.files
                .iter()
                .find(|f| f.filename.eq_ignore_ascii_case(&file.filename))
        })
}

/// The project pages fetched, by (index URL, normalised package name).
pub type Pages = BTreeMap<(String, String), Page>;

/// Everything looked up for the plan; implements the planner's [`py2nix_plan::Sources`].
pub struct LookedUp<'a> {
    pub indexes: &'a Indexes,
    pub pages: &'a Pages,
    pub credentials: &'a Credentials,
    pub url_hashes: BTreeMap<String, String>,
    pub gits: BTreeMap<(String, Option<String>, Option<String>, bool), ResolvedGit>,
    pub paths: &'a LocalPaths,
}

pub fn git_key(git: &GitSource) -> (String, Option<String>, Option<String>, bool) {
    (
        git.url.clone(),
        git.reference.clone(),
        git.commit.clone(),
        git.submodules,
    )
}

impl py2nix_plan::Sources for LookedUp<'_> {
    fn index_file(
        &self,
        package: &LockedPackage,
        file: &LockedFile,
    ) -> Result<IndexedFile, PlanError> {
        let source_error = |message: String| PlanError::Source {
            package: package.name.to_string(),
            message,
        };
        let candidates = self.indexes.candidates(package);
        for index in &candidates {
            let Some(page) = self
                .pages
                .get(&(index.url.clone(), package.name.to_string()))
            else {
                continue;
            };
            if let Some(listed) = listed_file(page, package, file) {
                // The index's credentials belong to its origin: a file the page links on
                // another host, port or scheme (or reached through a redirect there) is
                // fetched without them, by py2nix and by python.nix alike.
                let needs_auth = py2nix_index::same_origin(&listed.url, &index.url)
                    && self
                        .credentials
                        .for_index(&index.name, &index.url)
                        .is_some();
                let auth_index = needs_auth.then(|| {
                    if index.name.is_empty() {
                        "default".to_string()
                    } else {
                        index.name.clone()
                    }
                });
                return Ok(IndexedFile {
                    // Pages are parsed without credentials already; a URL with no `@`
                    // has no user information to remove.
                    url: if listed.url.contains('@') {
                        py2nix_index::redact_url(&listed.url)
                    } else {
                        listed.url.clone()
                    },
                    sha256: listed.sha256.clone(),
                    yanked: listed.yanked,
                    auth_index,
                });
            }
        }
        let pages: Vec<String> = candidates
            .iter()
            .map(|i| {
                py2nix_index::redact_url(&py2nix_index::page_url(&i.url, package.name.as_ref()))
            })
            .collect();
        Err(source_error(format!(
            "`{}` is not listed on the index page {}",
            file.filename,
            pages.join(" or ")
        )))
    }

    fn url_sha256(&self, package: &LockedPackage, url: &str) -> Result<String, PlanError> {
        self.url_hashes
            .get(url)
            .cloned()
            .ok_or_else(|| PlanError::Source {
                package: package.name.to_string(),
                message: format!("no hash was computed for {}", py2nix_index::redact_url(url)),
            })
    }

    fn git(&self, package: &LockedPackage, git: &GitSource) -> Result<ResolvedGit, PlanError> {
        self.gits
            .get(&git_key(git))
            .cloned()
            .ok_or_else(|| PlanError::Source {
                package: package.name.to_string(),
                message: format!(
                    "the git source {} was not resolved",
                    py2nix_source::redact_git_url(&git.url)
                ),
            })
    }

    fn local_path(&self, package: &LockedPackage, path: &str) -> Result<String, PlanError> {
        self.paths.relative(path).map_err(|e| PlanError::Source {
            package: package.name.to_string(),
            message: format!("{e:#}"),
        })
    }
}

/// Local paths: the lock writes them relative to its directory; the plan relative to the
/// directory the generated file goes to (the `-o` file's, or the working directory's).
pub struct LocalPaths {
    lock_dir: PathBuf,
    output_dir: PathBuf,
    /// `--allow-outside-paths`: a path outside `lock_dir` is planned instead of refused.
    allow_outside: bool,
}

/// Refuses `path` (`what` names it in the message) unless it resolves, symbolic links
/// followed, inside `project_dir`: a project's files may not make py2nix read, or Nix copy
/// into the world-readable store, a directory outside the project without
/// `--allow-outside-paths`.
pub fn check_inside_project(path: &Path, project_dir: &Path, what: &str) -> anyhow::Result<()> {
    let target = path
        .canonicalize()
        .with_context(|| format!("{what} `{}` does not exist", path.display()))?;
    let root = project_dir
        .canonicalize()
        .with_context(|| format!("failed to read `{}`", project_dir.display()))?;
    if target.starts_with(&root) {
        return Ok(());
    }
    Err(anyhow!(
        "{what} `{}` is outside the project directory `{}`; refusing to read it (Nix would copy a local source into the store, readable by every user); hint: pass --allow-outside-paths if you trust this project's paths, or --overrides DIR for an overrides directory",
        path.display(),
        root.display()
    ))
}

impl LocalPaths {
    pub fn new(
        lock_dir: &Path,
        output: Option<&Path>,
        allow_outside: bool,
    ) -> anyhow::Result<Self> {
        let cwd = std::env::current_dir().context("failed to read the working directory")?;
        let output_dir = match output.and_then(Path::parent) {
            Some(parent) if !parent.as_os_str().is_empty() => cwd.join(parent),
            _ => cwd.clone(),
        };
        Ok(LocalPaths {
            lock_dir: cwd.join(lock_dir),
            output_dir,
            allow_outside,
        })
    }

    /// A path as the plan writes it (relative to the output directory) on this machine.
    pub fn planned(&self, path: &str) -> PathBuf {
        self.output_dir.join(path)
    }

    /// `path` (as the lock writes it, `file://` URLs too) relative to the output directory,
    /// `/`-separated; `.` for the directory itself.
    pub fn relative(&self, path: &str) -> anyhow::Result<String> {
        let plain = path
            .strip_prefix("file://")
            .map(|rest| {
                url::Url::parse(path)
                    .ok()
                    .and_then(|u| u.to_file_path().ok())
                    .unwrap_or_else(|| PathBuf::from(rest))
            })
            .unwrap_or_else(|| PathBuf::from(path));
        let absolute = self.lock_dir.join(plain);
        if !self.allow_outside {
            check_inside_project(&absolute, &self.lock_dir, "the local path")?;
        }
        let target = absolute
            .canonicalize()
            .with_context(|| format!("the local path `{}` does not exist", absolute.display()))?;
        let base = self.output_dir.canonicalize().with_context(|| {
            format!(
                "the output directory `{}` does not exist",
                self.output_dir.display()
            )
        })?;
        relative_path(&base, &target)
    }
}

/// `target` relative to `base`, both absolute and canonical.
///
/// ```ignore
/// relative_path("/a/b", "/a/c/d") == "../c/d"
/// ```
fn relative_path(base: &Path, target: &Path) -> anyhow::Result<String> {
    let base: Vec<Component> = base.components().collect();
    let target: Vec<Component> = target.components().collect();
    let common = base.iter().zip(&target).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> =
        std::iter::repeat_n("..".to_string(), base.len() - common).collect();
    for component in &target[common..] {
        let text = component.as_os_str().to_str().ok_or_else(|| {
            anyhow!(
                "the path `{}` is not valid UTF-8",
                target.iter().collect::<PathBuf>().display()
            )
        })?;
        parts.push(text.to_string());
    }
    Ok(if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    })
}

/// The lock's git URLs (with their credentials, if any) by the URL the plan writes (without
/// them), so that reading a planned git tree again can still clone a private repository.
static GIT_URLS: std::sync::Mutex<BTreeMap<String, String>> =
    std::sync::Mutex::new(BTreeMap::new());

fn remember_git_url(url: &str) {
    let (planned, credentials) = py2nix_plan::git_url_without_credentials(url);
    if credentials.is_some() {
        GIT_URLS
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(planned, url.to_string());
    }
}

/// The URL to clone for a git URL as the plan writes it: the lock's, credentials included.
fn lock_git_url(planned: &str) -> String {
    GIT_URLS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .get(planned)
        .cloned()
        .unwrap_or_else(|| planned.to_string())
}

/// Whether py2nix may clone the git repository at `url`, named by a Cargo.lock the user did
/// not write (in a downloaded sdist or a git checkout): never a local one (`file://`, a
/// path), and on the network only from the hosts in `allowed` (`--allow-cargo-git-host`).
pub fn check_cargo_git(url: &str, allowed: &[String]) -> Result<(), String> {
    let shown = py2nix_source::redact_git_url(url);
    let parsed = url::Url::parse(url).ok();
    let host = parsed
        .as_ref()
        .filter(|u| matches!(u.scheme(), "https" | "http" | "ssh" | "git"))
        .and_then(|u| u.host_str())
        .map(|h| {
            h.trim_start_matches('[')
                .trim_end_matches(']')
                .to_ascii_lowercase()
        });
    let Some(host) = host else {
        return Err(format!(
            "it comes from `{shown}`, which is not a network repository (https, ssh or git); \
             py2nix never clones local repositories named by a downloaded sdist"
        ));
    };
    if allowed.iter().any(|a| a.eq_ignore_ascii_case(&host)) {
        return Ok(());
    }
    Err(format!(
        "it comes from the git repository {shown}, on `{host}`, a host you did not allow; \
         pass --allow-cargo-git-host {host} (or set PY2NIX_CARGO_GIT_HOSTS) to let py2nix clone it"
    ))
}

/// Resolves and hashes a git source, with the result cached under `cache_root` (a commit's
/// checkout never changes, so the cache entry never goes stale).
pub fn resolve_git(
    git: &GitSource,
    cache_root: Option<&Path>,
    offline: bool,
) -> anyhow::Result<ResolvedGit> {
    remember_git_url(&git.url);
    let commit = match &git.commit {
        Some(commit) => commit.clone(),
        None if offline => {
            return Err(anyhow!(
                "--offline: the git source {} names `{}`, not a commit, and resolving it needs the network",
                py2nix_source::redact_git_url(&git.url),
                git.reference.as_deref().unwrap_or("HEAD")
            ))
        }
        None => py2nix_source::resolve_ref(&git.url, git.reference.as_deref())?,
    };
    let cache = KeyedCache::new(cache_root);
    let key = format!(
        "{}\n{commit}\n{}",
        py2nix_source::redact_git_url(&git.url),
        git.submodules
    );
    if let Some(hash) = cache.get::<String>(GIT_HASH, &key) {
        return Ok(ResolvedGit { commit, hash });
    }
    if offline {
        return Err(crate::report::with_hint(
            anyhow!(
                "--offline: the cache has no checkout hash for {} at {commit}",
                py2nix_source::redact_git_url(&git.url)
            ),
            crate::network::OFFLINE_HINT,
        ));
    }
    // One checkout gives both the hash and what the tree says about its build.
    let temporary = tempfile::tempdir().context("failed to create a temporary directory")?;
    let dest = temporary.path().join("source");
    py2nix_source::checkout(&git.url, &commit, git.submodules, &dest)?;
    let sri = py2nix_source::nar_sri(&dest)?;
    cache.put(GIT_HASH, &key, &sri);
    if let Ok(files) = read_git_subdirectory(&dest, git.subdirectory.as_deref()) {
        write_cached_tree_files(
            cache_root,
            &git.url,
            &commit,
            git.submodules,
            git.subdirectory.as_deref(),
            &files,
        );
    }
    Ok(ResolvedGit { commit, hash: sri })
}

/// What a source tree says about its own build: its `pyproject.toml` and the `Cargo.lock`
/// its Rust build uses, as text (see `buildsys::tree_facts`).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct TreeFiles {
    /// The top `pyproject.toml`'s text; `None` when the tree has none.
    pub pyproject: Option<String>,
    /// The shallowest `Cargo.lock` (outside hidden directories, `target` and
    /// `node_modules`, at most four levels down), as in an sdist.
    pub cargo_lock: Option<py2nix_source::CargoLockFile>,
}

/// The largest `pyproject.toml` or `Cargo.lock` read from a tree: 16 MiB, as from an sdist.
const MAX_TREE_FILE: u64 = 16 * 1024 * 1024;
/// How deep a tree is searched for a `Cargo.lock`.
const CARGO_LOCK_DEPTH: usize = 4;

/// Reads a source tree's [`TreeFiles`] from the directory `root`.
pub fn read_tree_files(root: &Path) -> anyhow::Result<TreeFiles> {
    let metadata = std::fs::metadata(root)
        .with_context(|| format!("the source tree `{}` cannot be read", root.display()))?;
    if !metadata.is_dir() {
        return Err(anyhow!(
            "the source tree `{}` is not a directory",
            root.display()
        ));
    }
    let pyproject = read_small_text(&root.join("pyproject.toml"))?;
    // Breadth first, each level in name order: the first Cargo.lock is the shallowest.
    let mut level = vec![(root.to_path_buf(), String::new())];
    for _depth in 0..=CARGO_LOCK_DEPTH {
        let mut next = Vec::new();
        for (dir, relative) in &level {
            let lock = dir.join("Cargo.lock");
            if lock.is_file() {
                if let Some(text) = read_small_text(&lock)? {
                    let root = if relative.is_empty() {
                        ".".to_string()
                    } else {
                        relative.clone()
                    };
                    return Ok(TreeFiles {
                        pyproject,
                        cargo_lock: Some(py2nix_source::CargoLockFile { root, text }),
                    });
                }
            }
            let Ok(entries) = std::fs::read_dir(dir) else {
                continue;
            };
            let mut children: Vec<(PathBuf, String)> = entries
                .flatten()
                .filter(|entry| entry.file_type().is_ok_and(|t| t.is_dir()))
                .filter_map(|entry| {
                    let name = entry.file_name().into_string().ok()?;
                    if name.starts_with('.') || name == "target" || name == "node_modules" {
                        return None;
                    }
                    let child = if relative.is_empty() {
                        name
                    } else {
                        format!("{relative}/{name}")
                    };
                    Some((entry.path(), child))
                })
                .collect();
            children.sort_by(|a, b| a.1.cmp(&b.1));
            next.extend(children);
        }
        level = next;
    }
    Ok(TreeFiles {
        pyproject,
        cargo_lock: None,
    })
}

/// A file's text, `None` when it does not exist; refused when it is not a regular file (a
/// link to a device, say) or larger than 16 MiB.
fn read_small_text(path: &Path) -> anyhow::Result<Option<String>> {
    use std::io::Read as _;
    let file = match std::fs::File::open(path) {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => {
            return Err(error).with_context(|| format!("failed to read `{}`", path.display()))
        }
        Ok(file) => file,
    };
    let metadata = file
        .metadata()
        .with_context(|| format!("failed to read `{}`", path.display()))?;
    if !metadata.is_file() {
        return Err(anyhow!("`{}` is not a regular file", path.display()));
    }
    let mut bytes = Vec::new();
    file.take(MAX_TREE_FILE + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("failed to read `{}`", path.display()))?;
    if bytes.len() as u64 > MAX_TREE_FILE {
        return Err(anyhow!(
            "`{}` is larger than the {MAX_TREE_FILE} bytes py2nix reads",
            path.display()
        ));
    }
    Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
}

/// The project directory `subdirectory` of a checkout at `root`; a subdirectory that leaves
/// the checkout (`..`, absolute) is refused.
fn read_git_subdirectory(root: &Path, subdirectory: Option<&str>) -> anyhow::Result<TreeFiles> {
    let Some(subdirectory) = subdirectory.filter(|s| !s.is_empty() && *s != ".") else {
        return read_tree_files(root);
    };
    let relative = Path::new(subdirectory);
    if !relative
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(anyhow!(
            "the subdirectory `{subdirectory}` is not a path inside the checkout"
        ));
    }
    read_tree_files(&root.join(relative))
}

/// The key of a git tree's [`TreeFiles`] in the cache ([`GIT_TREE`]).
fn tree_cache_key(url: &str, commit: &str, submodules: bool, subdirectory: Option<&str>) -> String {
    format!(
        "{}\n{commit}\n{submodules}\n{}",
        py2nix_source::redact_git_url(url),
        subdirectory.unwrap_or_default()
    )
}

fn write_cached_tree_files(
    cache_root: Option<&Path>,
    url: &str,
    commit: &str,
    submodules: bool,
    subdirectory: Option<&str>,
    files: &TreeFiles,
) {
    KeyedCache::new(cache_root).put(
        GIT_TREE,
        &tree_cache_key(url, commit, submodules, subdirectory),
        files,
    );
}

/// The [`TreeFiles`] of a git source at `commit` (in its `subdirectory`): from the cache
/// (written when the checkout was hashed), else from a new checkout.
pub fn git_tree_files(
    url: &str,
    commit: &str,
    submodules: bool,
    subdirectory: Option<&str>,
    cache_root: Option<&Path>,
    offline: bool,
) -> anyhow::Result<TreeFiles> {
    let key = tree_cache_key(url, commit, submodules, subdirectory);
    if let Some(files) = KeyedCache::new(cache_root).get::<TreeFiles>(GIT_TREE, &key) {
        return Ok(files);
    }
    if offline {
        return Err(crate::report::with_hint(
            anyhow!(
                "--offline: the cache has no build system of {} at {commit}",
                py2nix_source::redact_git_url(url)
            ),
            crate::network::OFFLINE_HINT,
        ));
    }
    let temporary = tempfile::tempdir().context("failed to create a temporary directory")?;
    let dest = temporary.path().join("source");
    py2nix_source::checkout(&lock_git_url(url), commit, submodules, &dest)?;
    let files = read_git_subdirectory(&dest, subdirectory)?;
    write_cached_tree_files(cache_root, url, commit, submodules, subdirectory, &files);
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trees_files_are_its_pyproject_and_its_shallowest_cargo_lock() {
        let root = tempfile::tempdir().unwrap();
        let write = |path: &str, text: &str| {
            let path = root.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write(
            "pyproject.toml",
            "[build-system]\nrequires = [\"maturin\"]\n",
        );
        write(".hidden/Cargo.lock", "hidden");
        write("target/Cargo.lock", "built");
        write("rust/deep/Cargo.lock", "deep");
        write("rust/Cargo.lock", "shallow");
        let files = read_tree_files(root.path()).unwrap();
        assert!(files.pyproject.unwrap().contains("maturin"));
        let lock = files.cargo_lock.unwrap();
        assert_eq!(
            (lock.root.as_str(), lock.text.as_str()),
            ("rust", "shallow")
        );
        // A subdirectory is read as its own tree; one leaving the checkout is refused.
        let files = read_git_subdirectory(root.path(), Some("rust")).unwrap();
        assert!(files.pyproject.is_none());
        assert_eq!(files.cargo_lock.unwrap().root, ".");
        assert!(read_git_subdirectory(root.path(), Some("../x")).is_err());
        assert!(read_git_subdirectory(root.path(), Some("/etc")).is_err());
        assert!(read_tree_files(&root.path().join("missing")).is_err());
    }

    #[test]
    fn cargo_git_crates_come_only_from_allowed_network_hosts() {
        let allowed = vec!["github.com".to_string(), "git.corp.example".to_string()];
        assert_eq!(
            check_cargo_git("https://github.com/PyO3/pyo3", &allowed),
            Ok(())
        );
        assert_eq!(check_cargo_git("https://GitHub.com/o/r", &allowed), Ok(()));
        assert_eq!(
            check_cargo_git("ssh://git@git.corp.example/r.git", &allowed),
            Ok(())
        );
        let elsewhere = check_cargo_git("https://u:tok@evil.example/r", &allowed).unwrap_err();
        assert!(
            elsewhere.contains("--allow-cargo-git-host evil.example"),
            "{elsewhere}"
        );
        assert!(!elsewhere.contains("tok"), "{elsewhere}");
        // Local repositories, whatever is allowed.
        let everything = vec!["localhost".to_string(), String::new(), "/srv".to_string()];
        for local in [
            "file:///srv/r.git",
            "file://localhost/srv/r.git",
            "/srv/r.git",
            "../r",
        ] {
            let refused = check_cargo_git(local, &everything).unwrap_err();
            assert!(
                refused.contains("not a network repository"),
                "{local}: {refused}"
            );
        }
    }

    #[test]
    fn relative_paths() {
        let rel = |a: &str, b: &str| relative_path(Path::new(a), Path::new(b)).unwrap();
        assert_eq!(rel("/a/b", "/a/c/d"), "../c/d");
        assert_eq!(rel("/a/b", "/a/b"), ".");
        assert_eq!(rel("/a", "/a/my dir/x"), "my dir/x");
        assert_eq!(rel("/a/b/c", "/x"), "../../../x");
    }
}
