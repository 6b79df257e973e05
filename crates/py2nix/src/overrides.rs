//! The override database, embedded in the binary from the repository's `overrides/`, and a
//! user's own directory of overrides read from disk and merged over it.

use std::borrow::Cow;
use std::path::Path;

use anyhow::Context;
use include_dir::{include_dir, Dir, DirEntry};
use py2nix_overrides::{NixpkgsNames, OverrideDb, OverrideError};

static OVERRIDES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../../overrides");

/// The embedded database. Each entry is parsed and checked on its first use
/// ([`OverrideDb::from_files_lazily`]), so a run pays only for the packages it looks up; a
/// caller asks [`OverrideDb::check_loaded`] after its lookups. The tests load every entry
/// (eagerly, with every check), so any failure here is a build defect.
pub fn embedded() -> Result<OverrideDb, OverrideError> {
    let mut files = Vec::new();
    collect(&OVERRIDES, &mut files);
    OverrideDb::from_files_lazily(files)
}

/// The embedded database loaded at once, with every check (for the tests).
#[cfg(test)]
pub fn embedded_eager() -> Result<OverrideDb, OverrideError> {
    let mut files = Vec::new();
    collect(&OVERRIDES, &mut files);
    OverrideDb::from_files(files)
}

/// The nixpkgs names the embedded database may use (`overrides/NIXPKGS-ATTRIBUTES.md`).
pub fn embedded_names() -> anyhow::Result<NixpkgsNames> {
    let text = OVERRIDES
        .get_file("NIXPKGS-ATTRIBUTES.md")
        .and_then(|file| file.contents_utf8())
        .context("the embedded override database has no NIXPKGS-ATTRIBUTES.md")?;
    NixpkgsNames::parse(text).map_err(|e| anyhow::anyhow!("`overrides/NIXPKGS-ATTRIBUTES.md`: {e}"))
}

fn collect(dir: &Dir<'static>, out: &mut Vec<(Cow<'static, str>, &'static str)>) {
    for entry in dir.entries() {
        match entry {
            DirEntry::Dir(sub) => collect(sub, out),
            DirEntry::File(file) => {
                let path = match file.path().to_str() {
                    Some(path) => Cow::Borrowed(path),
                    None => Cow::Owned(file.path().to_string_lossy().into_owned()),
                };
                // A non-UTF-8 file (a binary patch) is kept as empty text: the layout check
                // still sees it, and a patch must be text.
                out.push((path, file.contents_utf8().unwrap_or("")));
            }
        }
    }
}

/// A user's overrides directory, checked as the built-in database is.
#[derive(Debug)]
pub struct UserOverrides {
    pub db: OverrideDb,
    /// Problems that do not stop the run: nixpkgs names that py2nix's list
    /// (`NIXPKGS-ATTRIBUTES.md`) does not know, which may still exist in the user's nixpkgs.
    pub warnings: Vec<String>,
}

/// Reads a user's overrides directory (`<shard>/<name>/override.toml` with patches beside,
/// as `overrides/`): every check of the built-in database applies (layout, keys, rule order,
/// patches), except that unknown nixpkgs names are warnings. Hidden files and directories
/// (`.git`, `.DS_Store`) and top-level `*.md`/`*.json` files are skipped.
pub fn load_user_dir(dir: &Path) -> anyhow::Result<UserOverrides> {
    let root = dir
        .canonicalize()
        .with_context(|| format!("failed to read the overrides directory `{}`", dir.display()))?;
    let mut walk = Walk {
        top: dir.to_path_buf(),
        root,
        files: Vec::new(),
        bytes: 0,
    };
    walk.read_tree(dir, 0)?;
    let mut files = walk.files;
    files.sort();
    let display = dir.display().to_string();
    let db = OverrideDb::from_user_files(&display, files)
        .with_context(|| format!("the overrides in `{display}` are not valid"))?;
    let names = embedded_names()?;
    let warnings = names
        .unknown_in(&db)
        .iter()
        .map(|unknown| {
            format!("{unknown}: py2nix does not know this name, so check that your nixpkgs has it")
        })
        .collect();
    Ok(UserOverrides { db, warnings })
}

/// The largest file of a user's overrides directory (an `override.toml` or a patch): 1 MiB.
pub const MAX_USER_FILE_SIZE: u64 = 1 << 20;
/// The most files of a user's overrides directory.
pub const MAX_USER_FILES: usize = 10_000;
/// The most bytes of all files of a user's overrides directory: 64 MiB.
pub const MAX_USER_BYTES: u64 = 64 << 20;
/// How deep a user's overrides directory is read (`<shard>/<name>/<file>` is 3).
const MAX_USER_DEPTH: usize = 3;

/// Reading a user's overrides directory: only regular files and directories inside it (a
/// symbolic link must point inside it too), no devices, FIFOs or sockets, and bounded sizes,
/// so that the directory can neither put another file of the machine into python.nix nor hang
/// the run or fill its memory.
struct Walk {
    /// The directory as named.
    top: std::path::PathBuf,
    /// The directory, symbolic links resolved.
    root: std::path::PathBuf,
    files: Vec<(String, String)>,
    bytes: u64,
}

impl Walk {
    fn read_tree(&mut self, dir: &Path, depth: usize) -> anyhow::Result<()> {
        let entries = std::fs::read_dir(dir).with_context(|| {
            format!("failed to read the overrides directory `{}`", dir.display())
        })?;
        for entry in entries {
            let entry = entry.with_context(|| format!("failed to read `{}`", dir.display()))?;
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let path = entry.path();
            let mut metadata = std::fs::symlink_metadata(&path)
                .with_context(|| format!("failed to read `{}`", path.display()))?;
            if metadata.file_type().is_symlink() {
                let target = path
                    .canonicalize()
                    .with_context(|| format!("failed to read `{}`", path.display()))?;
                if !target.starts_with(&self.root) {
                    anyhow::bail!(
                        "`{}` is a symbolic link to `{}`, outside the overrides directory; refusing to read it",
                        path.display(),
                        target.display()
                    );
                }
                metadata = std::fs::metadata(&target)
                    .with_context(|| format!("failed to read `{}`", path.display()))?;
            }
            if metadata.is_dir() {
                if depth + 1 >= MAX_USER_DEPTH {
                    anyhow::bail!(
                        "`{}` is a directory nested deeper than an overrides directory's `<shard>/<name>/` layout",
                        path.display()
                    );
                }
                self.read_tree(&path, depth + 1)?;
                continue;
            }
            if !metadata.is_file() {
                anyhow::bail!(
                    "`{}` is not a regular file (a device, FIFO or socket); an overrides directory holds only files",
                    path.display()
                );
            }
            if metadata.len() > MAX_USER_FILE_SIZE {
                anyhow::bail!(
                    "`{}` is larger than {MAX_USER_FILE_SIZE} bytes, more than an override or a patch can be",
                    path.display()
                );
            }
            if self.files.len() >= MAX_USER_FILES {
                anyhow::bail!(
                    "the overrides directory `{}` holds more than {MAX_USER_FILES} files",
                    self.root.display()
                );
            }
            let relative = path
                .strip_prefix(&self.top)
                .unwrap_or(&path)
                .components()
                .map(|part| part.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            let bytes = read_bounded(&path, MAX_USER_FILE_SIZE)?;
            self.bytes += bytes.len() as u64;
            if self.bytes > MAX_USER_BYTES {
                anyhow::bail!(
                    "the overrides directory `{}` holds more than {MAX_USER_BYTES} bytes",
                    self.root.display()
                );
            }
            let text = match String::from_utf8(bytes) {
                Ok(text) => text,
                Err(_) if relative.ends_with("override.toml") => {
                    anyhow::bail!("`{}` is not UTF-8 text", path.display())
                }
                // Reported by the patch check if a rule names it.
                Err(_) => String::new(),
            };
            self.files.push((relative, text));
        }
        Ok(())
    }
}

/// At most `limit` bytes of the regular file `path` (more is an error).
fn read_bounded(path: &Path, limit: u64) -> anyhow::Result<Vec<u8>> {
    use std::io::Read;
    let file = std::fs::File::open(path)
        .with_context(|| format!("failed to read `{}`", path.display()))?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("failed to read `{}`", path.display()))?;
    if bytes.len() as u64 > limit {
        anyhow::bail!("`{}` is larger than {limit} bytes", path.display());
    }
    Ok(bytes)
}

/// The built-in database, with the entries of a user's directory (if any) replacing the
/// built-in entries of the same packages; and the warnings about the user's entries. The
/// user's entries are loaded and checked now, the built-in ones on first use (see
/// [`embedded`]): ask [`OverrideDb::check_loaded`] after the lookups.
pub fn load(user_dir: Option<&Path>) -> anyhow::Result<(OverrideDb, Vec<String>)> {
    let builtin = embedded().context("the built-in override database does not load")?;
    match user_dir {
        None => Ok((builtin, Vec::new())),
        Some(dir) => {
            let user = load_user_dir(dir)?;
            Ok((OverrideDb::merge(builtin, user.db), user.warnings))
        }
    }
}

/// `[tool.py2nix] overrides = "dir"` of a pyproject.toml (relative to the file's directory);
/// `None` when the text is not TOML or does not set it.
pub fn user_dir_from_pyproject(text: &str) -> Option<String> {
    let table: toml::Table = toml::from_str(text).ok()?;
    table
        .get("tool")?
        .get("py2nix")?
        .get("overrides")?
        .as_str()
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use py2nix_overrides::{ArtifactKind, OriginKind};

    use super::*;

    #[test]
    fn the_embedded_database_loads_and_has_pillow() {
        let db = embedded().unwrap();
        assert!(db.contains("pillow"));
        let pillow = db
            .lookup("pillow", &"11.0.0".parse().unwrap(), ArtifactKind::Sdist)
            .unwrap();
        for input in [
            "libjpeg", "zlib", "freetype", "lcms2", "libtiff", "libwebp", "openjpeg", "tcl",
        ] {
            assert!(
                pillow.build_inputs.iter().any(|i| i == input),
                "pillow lacks {input}"
            );
        }
        assert!(pillow.native_build_inputs.iter().any(|i| i == "pkg-config"));
    }

    #[test]
    fn the_embedded_database_uses_only_listed_names() {
        let unknown = embedded_names()
            .unwrap()
            .unknown_in(&embedded_eager().unwrap());
        assert!(unknown.is_empty(), "{unknown:?}");
    }

    /// Every embedded entry passes every check when loaded at once, and each entry loaded on
    /// first use is the same.
    #[test]
    fn the_embedded_database_loads_eagerly_and_lazily_alike() {
        let eager = embedded_eager().unwrap_or_else(|e| panic!("\n{e}\n"));
        let lazy = embedded().unwrap();
        assert_eq!(lazy.len(), eager.len());
        assert!(eager.len() > 100, "{}", eager.len());
        assert_eq!(lazy.check_loaded(), Ok(()));
        assert!(lazy.entries().eq(eager.entries()));
        assert_eq!(lazy.load_all(), Ok(()));
    }

    fn write(dir: &Path, path: &str, text: &str) {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn a_user_directory_replaces_builtin_entries_and_warns_about_unknown_names() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "pi/pillow/override.toml",
            "schema-version = 1\n[[rule]]\nbuild-system = [\"setuptools\"]\n\
             build-inputs = [\"zlib\", \"libfancy\"]\npatches = [\"fix.patch\"]\n",
        );
        write(dir.path(), "pi/pillow/fix.patch", "--- a/x\n+++ b/x\n");
        write(dir.path(), "README.md", "# mine\n");
        write(dir.path(), ".git/config", "[core]\n");
        let (db, warnings) = load(Some(dir.path())).unwrap();
        let pillow = db.entry("pillow").unwrap();
        assert_eq!(pillow.origin.kind, OriginKind::User);
        assert_eq!(
            pillow.origin.path,
            format!("{}/pi/pillow/override.toml", dir.path().display())
        );
        assert_eq!(
            pillow.replaces.as_ref().unwrap().path,
            "overrides/pi/pillow/override.toml"
        );
        assert_eq!(pillow.patch_text("fix.patch"), Some("--- a/x\n+++ b/x\n"));
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains("build-inputs `libfancy` is not listed"),
            "{warnings:?}"
        );
        // Other packages keep their built-in entries.
        assert_eq!(db.entry("numpy").unwrap().origin.kind, OriginKind::BuiltIn);
    }

    #[test]
    fn a_user_directory_gets_every_other_check() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "pl/pillow/override.toml",
            "schema-version = 1\n[[rule]]\n",
        );
        write(
            dir.path(),
            "nu/numpy/override.toml",
            "schema-version = 1\n[[rule]]\nversions = \"<2\"\n[[rule]]\nversions = \">=2\"\n",
        );
        let error = format!("{:#}", load_user_dir(dir.path()).unwrap_err());
        assert!(error.contains("`pillow` belongs in shard `pi`"), "{error}");
        assert!(error.contains("are not sorted newest first"), "{error}");
        let missing = load_user_dir(&dir.path().join("nowhere")).unwrap_err();
        assert!(
            format!("{missing:#}").starts_with("failed to read the overrides directory"),
            "{missing:#}"
        );
    }

    #[test]
    fn pyproject_names_the_user_directory() {
        let text = "[project]\nname = \"x\"\n[tool.py2nix]\noverrides = \"nix/overrides\"\n";
        assert_eq!(
            user_dir_from_pyproject(text).as_deref(),
            Some("nix/overrides")
        );
        assert_eq!(
            user_dir_from_pyproject("[tool.poetry]\nname = \"x\"\n"),
            None
        );
        assert_eq!(
            user_dir_from_pyproject("[tool.py2nix]\noverrides = 1\n"),
            None
        );
        assert_eq!(user_dir_from_pyproject("not toml ["), None);
    }
}
