//! What an sdist says about its own build, read from its bytes without building it: the
//! `[build-system]` table of its top-level `pyproject.toml` (PEP 518/517) and, for a project
//! with Rust code, the `Cargo.lock` that pins its crates.

use std::collections::BTreeMap;
use std::io::{Cursor, Read};

use flate2::read::MultiGzDecoder;
use py2nix_dist::normalize_name;
use serde::{Deserialize, Serialize};

use crate::archive::limits::archive_limits;
use crate::archive::tar_stream::TarStream;
use crate::archive::{sdist_format, SdistFormat};
use crate::metadata::MetadataError;

/// The largest `pyproject.toml` or `Cargo.lock` read from an sdist: 16 MiB.
const MAX_FILE_SIZE: u64 = 16 * 1024 * 1024;
/// The most bytes of `pyproject.toml` and `Cargo.lock` files read from one sdist.
const MAX_KEPT_SIZE: u64 = 4 * MAX_FILE_SIZE;
/// How many `Cargo.lock` files are kept at most (the shallowest one is used).
const MAX_CARGO_LOCKS: usize = 64;

/// The build facts of one sdist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SdistBuildInfo {
    /// The project's top-level directory inside the archive (`<name>-<version>`).
    pub directory: String,
    /// `[build-system] requires` as written (PEP 508 strings); `None` when the sdist has no
    /// `pyproject.toml`, no `[build-system]` table or no `requires` in it, which PEP 517 and
    /// pip read as "setuptools".
    pub requires: Option<Vec<String>>,
    /// `[build-system] build-backend`, when given.
    pub build_backend: Option<String>,
    /// The `Cargo.lock` the Rust build uses, when the project has one.
    pub cargo_lock: Option<CargoLockFile>,
    /// The tool that computes the project's version from its version control history, when
    /// the project's version comes from one (see `vcs_version_tool`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vcs_version: Option<VcsVersionTool>,
}

/// A build plugin that derives a project's version from version control, which a source
/// tree without `.git` (as Nix copies or fetches it) cannot do unless told the version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VcsVersionTool {
    /// setuptools-scm, as a setuptools plugin.
    SetuptoolsScm,
    /// hatch-vcs, hatchling's version source `vcs` (setuptools-scm underneath).
    HatchVcs,
    /// pdm-backend's version source `scm`.
    PdmBackendScm,
    /// The poetry-dynamic-versioning plugin (`[tool.poetry-dynamic-versioning] enable`).
    PoetryDynamicVersioning,
}

impl VcsVersionTool {
    /// The environment variable the tool documents for "this is the version, do not ask
    /// version control" (the same ones nixpkgs' setup hooks for these tools export).
    pub fn version_variable(self) -> &'static str {
        match self {
            VcsVersionTool::SetuptoolsScm | VcsVersionTool::HatchVcs => {
                "SETUPTOOLS_SCM_PRETEND_VERSION"
            }
            VcsVersionTool::PdmBackendScm => "PDM_BUILD_SCM_VERSION",
            VcsVersionTool::PoetryDynamicVersioning => "POETRY_DYNAMIC_VERSIONING_BYPASS",
        }
    }
}

/// A `Cargo.lock` found in an sdist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CargoLockFile {
    /// Its directory relative to the project's top-level directory, `/`-separated; `.` for the
    /// top-level directory itself.
    pub root: String,
    /// The file's text.
    pub text: String,
}

impl SdistBuildInfo {
    /// Whether the build runs cargo: a maturin backend, or setuptools-rust or maturin among
    /// the build requirements.
    pub fn builds_rust(&self) -> bool {
        let backend = self.build_backend.as_deref().unwrap_or_default();
        backend.starts_with("maturin")
            || self.requires.iter().flatten().any(|requirement| {
                let name = requirement_name(requirement);
                name == "maturin" || name == "setuptools-rust"
            })
    }
}

/// The normalised project name a PEP 508 requirement string starts with.
pub fn requirement_name(requirement: &str) -> String {
    let end = requirement
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(requirement.len());
    normalize_name(requirement[..end].trim())
}

/// Reads the build facts of the sdist `filename` (`.tar.gz`, `.tgz`, `.tar` or `.zip`) from its
/// whole bytes. The project directory is the top-level directory named like the file
/// (`<name>-<version>`, compared normalised), else the only top-level directory holding a
/// `PKG-INFO`, `pyproject.toml` or `setup.py`.
pub fn sdist_build_info(bytes: &[u8], filename: &str) -> Result<SdistBuildInfo, MetadataError> {
    let (format, stem) = sdist_format(filename).ok_or_else(|| MetadataError::UnsupportedSdist {
        filename: filename.to_owned(),
    })?;
    let files = match format {
        SdistFormat::TarGz => tar_files(MultiGzDecoder::new(bytes), filename)?,
        SdistFormat::Tar => tar_files(bytes, filename)?,
        SdistFormat::Zip => zip_files(bytes, filename)?,
    };
    let directory = project_directory(&files, stem).ok_or_else(|| MetadataError::NoPkgInfo {
        filename: filename.to_owned(),
    })?;
    let table = match files.pyprojects.get(&directory) {
        Some(text) => {
            pyproject_build_system(&String::from_utf8_lossy(text)).map_err(|message| {
                MetadataError::CorruptMember {
                    name: format!("{directory}/pyproject.toml"),
                    message,
                }
            })?
        }
        None => PyprojectBuildSystem::default(),
    };
    let prefix = format!("{directory}/");
    let cargo_lock = files
        .cargo_locks
        .iter()
        .filter_map(|(path, text)| {
            let inner = path.strip_prefix(&prefix)?;
            let root = inner.strip_suffix("Cargo.lock")?;
            let root = root.trim_end_matches('/');
            let depth = if root.is_empty() {
                0
            } else {
                root.split('/').count()
            };
            Some((depth, root.to_owned(), text))
        })
        .min_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)))
        .map(|(_, root, text)| CargoLockFile {
            root: if root.is_empty() {
                ".".to_owned()
            } else {
                root
            },
            text: text.clone(),
        });
    Ok(SdistBuildInfo {
        directory,
        requires: table.requires,
        build_backend: table.build_backend,
        cargo_lock,
        vcs_version: table.vcs_version,
    })
}

/// The build facts of a source tree (a git checkout or a local directory) from its
/// `pyproject.toml` text (`None`: the tree has none) and the `Cargo.lock` found in it:
/// what [`sdist_build_info`] reads from an sdist. The error is the problem with the text.
pub fn tree_build_info(
    pyproject: Option<&str>,
    cargo_lock: Option<CargoLockFile>,
) -> Result<SdistBuildInfo, String> {
    let table = match pyproject {
        Some(text) => pyproject_build_system(text)?,
        None => PyprojectBuildSystem::default(),
    };
    Ok(SdistBuildInfo {
        directory: ".".to_owned(),
        requires: table.requires,
        build_backend: table.build_backend,
        cargo_lock,
        vcs_version: table.vcs_version,
    })
}

/// What a `pyproject.toml` says about its build.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct PyprojectBuildSystem {
    requires: Option<Vec<String>>,
    build_backend: Option<String>,
    vcs_version: Option<VcsVersionTool>,
}

/// `[build-system] requires` and `build-backend` of a `pyproject.toml`, and whether its
/// version comes from version control.
fn pyproject_build_system(text: &str) -> Result<PyprojectBuildSystem, String> {
    let value: toml::Table = toml::from_str(text).map_err(|e| format!("invalid TOML: {e}"))?;
    let Some(table) = value.get("build-system") else {
        return Ok(PyprojectBuildSystem {
            vcs_version: vcs_version_tool(&value, &[]),
            ..PyprojectBuildSystem::default()
        });
    };
    let table = table
        .as_table()
        .ok_or_else(|| "`build-system` is not a table".to_owned())?;
    let requires = match table.get("requires") {
        None => None,
        Some(list) => Some(
            list.as_array()
                .ok_or_else(|| "`build-system.requires` is not a list".to_owned())?
                .iter()
                .map(|item| {
                    item.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| "`build-system.requires` holds a non-string".to_owned())
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
    };
    let build_backend = table
        .get("build-backend")
        .and_then(toml::Value::as_str)
        .map(str::to_owned);
    let vcs_version = vcs_version_tool(&value, requires.as_deref().unwrap_or_default());
    Ok(PyprojectBuildSystem {
        requires,
        build_backend,
        vcs_version,
    })
}

/// The tool that computes the version from version control, if the project really uses one:
///
/// - hatch-vcs: `hatch-vcs` required, `[tool.hatch.version] source = "vcs"`, and the PEP 621
///   version `dynamic`;
/// - pdm-backend: `pdm-backend` required, `[tool.pdm.version] source = "scm"`, version
///   `dynamic`;
/// - poetry-dynamic-versioning: required, `[tool.poetry-dynamic-versioning] enable = true`, and
///   the version `dynamic` (or no `[project]` table: Poetry 1's `[tool.poetry] version` is
///   then the placeholder the plugin replaces);
/// - setuptools-scm: required, and either the version `dynamic` with no
///   `[tool.setuptools.dynamic] version` (which would name another source), or no `[project]`
///   table but a `[tool.setuptools_scm]` table (a `setup.py` project configuring it).
fn vcs_version_tool(pyproject: &toml::Table, requires: &[String]) -> Option<VcsVersionTool> {
    let names: Vec<String> = requires.iter().map(|r| requirement_name(r)).collect();
    let requires_tool = |name: &str| names.iter().any(|n| n == name);
    let lookup = |path: &[&str]| -> Option<&toml::Value> {
        let mut value = pyproject.get(path[0])?;
        for key in &path[1..] {
            value = value.get(*key)?;
        }
        Some(value)
    };
    let project = lookup(&["project"]);
    let dynamic_version = project
        .and_then(|p| p.get("dynamic"))
        .and_then(toml::Value::as_array)
        .is_some_and(|list| list.iter().any(|item| item.as_str() == Some("version")));
    let text_is = |path: &[&str], expected: &str| {
        lookup(path).and_then(toml::Value::as_str) == Some(expected)
    };
    if requires_tool("hatch-vcs")
        && dynamic_version
        && text_is(&["tool", "hatch", "version", "source"], "vcs")
    {
        return Some(VcsVersionTool::HatchVcs);
    }
    if requires_tool("pdm-backend")
        && dynamic_version
        && text_is(&["tool", "pdm", "version", "source"], "scm")
    {
        return Some(VcsVersionTool::PdmBackendScm);
    }
    if requires_tool("poetry-dynamic-versioning")
        && lookup(&["tool", "poetry-dynamic-versioning", "enable"]).and_then(toml::Value::as_bool)
            == Some(true)
        && (dynamic_version || project.is_none())
    {
        return Some(VcsVersionTool::PoetryDynamicVersioning);
    }
    if requires_tool("setuptools-scm") {
        let other_source = lookup(&["tool", "setuptools", "dynamic", "version"]).is_some();
        let configured = lookup(&["tool", "setuptools_scm"]).is_some();
        if (dynamic_version && !other_source) || (project.is_none() && configured) {
            return Some(VcsVersionTool::SetuptoolsScm);
        }
    }
    None
}

/// The files this module reads, by their path in the archive.
#[derive(Debug, Default)]
struct Files {
    /// Top-level directories seen with a marker file (PKG-INFO, pyproject.toml, setup.py).
    directories: Vec<String>,
    /// The same, for lookups.
    seen: std::collections::BTreeSet<String>,
    /// Bytes of `pyproject.toml` and `Cargo.lock` files read so far.
    kept: u64,
    /// `<dir>/pyproject.toml` by `<dir>`.
    pyprojects: BTreeMap<String, Vec<u8>>,
    /// Every `Cargo.lock` by path (without a leading `./`).
    cargo_locks: BTreeMap<String, String>,
}

enum Wanted {
    Pyproject(String),
    CargoLock,
    Marker(String),
}

fn classify(path: &str) -> Option<Wanted> {
    let path = path.trim_start_matches("./");
    if path.split('/').any(|part| part == "..") {
        return None;
    }
    let (directory, rest) = path.split_once('/')?;
    if directory.is_empty() || directory == "." {
        return None;
    }
    match rest {
        "pyproject.toml" => Some(Wanted::Pyproject(directory.to_owned())),
        "PKG-INFO" | "setup.py" => Some(Wanted::Marker(directory.to_owned())),
        _ if rest == "Cargo.lock" || rest.ends_with("/Cargo.lock") => Some(Wanted::CargoLock),
        _ => None,
    }
}

impl Files {
    fn add(&mut self, path: &str, wanted: Wanted, contents: Vec<u8>) {
        let path = path.trim_start_matches("./");
        match wanted {
            Wanted::Pyproject(directory) => {
                self.mark(&directory);
                self.pyprojects.insert(directory, contents);
            }
            Wanted::Marker(directory) => self.mark(&directory),
            Wanted::CargoLock => {
                if self.cargo_locks.len() < MAX_CARGO_LOCKS {
                    self.cargo_locks.insert(
                        path.to_owned(),
                        String::from_utf8_lossy(&contents).into_owned(),
                    );
                }
            }
        }
    }

    fn mark(&mut self, directory: &str) {
        if self.seen.insert(directory.to_owned()) {
            self.directories.push(directory.to_owned());
        }
    }

    /// Checks that a file of `size` bytes may be read: at most [`MAX_FILE_SIZE`] each, and
    /// [`MAX_KEPT_SIZE`] in all.
    fn reserve(&mut self, path: &str, size: u64) -> Result<(), MetadataError> {
        if size > MAX_FILE_SIZE {
            return Err(too_large(path, size));
        }
        self.kept = self.kept.saturating_add(size);
        if self.kept > MAX_KEPT_SIZE {
            return Err(MetadataError::TooLarge {
                name: "the sdist's pyproject.toml and Cargo.lock files".to_owned(),
                size: self.kept,
                limit: MAX_KEPT_SIZE,
            });
        }
        Ok(())
    }
}

fn project_directory(files: &Files, stem: &str) -> Option<String> {
    let expected = normalize_name(stem);
    files
        .directories
        .iter()
        .find(|d| normalize_name(d) == expected)
        .or(match files.directories.as_slice() {
            [only] => Some(only),
            _ => None,
        })
        .cloned()
}

fn too_large(name: &str, size: u64) -> MetadataError {
    MetadataError::TooLarge {
        name: name.to_owned(),
        size,
        limit: MAX_FILE_SIZE,
    }
}

fn tar_files(reader: impl Read, filename: &str) -> Result<Files, MetadataError> {
    let mut files = Files::default();
    let mut archive = TarStream::new(reader, filename, archive_limits());
    while let Some(entry) = archive.next_entry()? {
        if !entry.is_file {
            continue;
        }
        let Some(wanted) = classify(&entry.path) else {
            continue;
        };
        let mut contents = Vec::new();
        if !matches!(wanted, Wanted::Marker(_)) {
            files.reserve(&entry.path, entry.size)?;
            contents = archive.read_data(MAX_FILE_SIZE)?;
        }
        files.add(&entry.path, wanted, contents);
    }
    Ok(files)
}

fn zip_files(bytes: &[u8], filename: &str) -> Result<Files, MetadataError> {
    let zip_error = |message: String| MetadataError::Zip {
        filename: filename.to_owned(),
        message,
    };
    let mut archive =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| zip_error(e.to_string()))?;
    crate::archive::check_member_count(vec![(); archive.len()], filename)?;
    let mut files = Files::default();
    for index in 0..archive.len() {
        let mut entry = archive
            .by_index(index)
            .map_err(|e| zip_error(e.to_string()))?;
        if !entry.is_file() {
            continue;
        }
        let path = entry.name().to_owned();
        let Some(wanted) = classify(&path) else {
            continue;
        };
        let mut contents = Vec::new();
        if !matches!(wanted, Wanted::Marker(_)) {
            files.reserve(&path, entry.size())?;
            (&mut entry)
                .take(MAX_FILE_SIZE)
                .read_to_end(&mut contents)
                .map_err(|e| zip_error(format!("`{path}`: {e}")))?;
        }
        files.add(&path, wanted, contents);
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_gz(files: &[(&str, &str)]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (path, text) in files {
            let mut header = tar::Header::new_gnu();
            header.set_size(text.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder
                .append_data(&mut header, path, text.as_bytes())
                .unwrap();
        }
        let tar = builder.into_inner().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &tar).unwrap();
        gz.finish().unwrap()
    }

    #[test]
    fn reads_the_build_system_and_the_shallowest_cargo_lock() {
        let bytes = tar_gz(&[
            (
                "rpds_py-0.1/PKG-INFO",
                "Metadata-Version: 2.1\nName: rpds-py\nVersion: 0.1\n",
            ),
            (
                "rpds_py-0.1/pyproject.toml",
                "[build-system]\nrequires = [\"maturin>=1.2,<2.0\"]\nbuild-backend = \"maturin\"\n",
            ),
            ("rpds_py-0.1/vendor/x/Cargo.lock", "deep"),
            ("rpds_py-0.1/Cargo.lock", "version = 3\n"),
        ]);
        let info = sdist_build_info(&bytes, "rpds_py-0.1.tar.gz").unwrap();
        assert_eq!(info.directory, "rpds_py-0.1");
        assert_eq!(info.requires, Some(vec!["maturin>=1.2,<2.0".to_owned()]));
        assert_eq!(info.build_backend.as_deref(), Some("maturin"));
        assert!(info.builds_rust());
        let lock = info.cargo_lock.unwrap();
        assert_eq!(
            (lock.root.as_str(), lock.text.as_str()),
            (".", "version = 3\n")
        );
    }

    #[test]
    fn no_table_means_the_default_and_garbage_is_an_error() {
        let bytes = tar_gz(&[
            ("a-1/setup.py", ""),
            ("a-1/pyproject.toml", "[tool.black]\n"),
        ]);
        let info = sdist_build_info(&bytes, "a-1.tar.gz").unwrap();
        assert_eq!(info.requires, None);
        assert!(!info.builds_rust());
        let bytes = tar_gz(&[("a-1/setup.py", "")]);
        assert_eq!(
            sdist_build_info(&bytes, "a-1.tar.gz").unwrap().requires,
            None
        );
        let bytes = tar_gz(&[("a-1/pyproject.toml", "[build-system\n")]);
        assert!(sdist_build_info(&bytes, "a-1.tar.gz").is_err());
        assert!(sdist_build_info(b"not an archive", "a-1.tar.gz").is_err());
        assert!(sdist_build_info(b"PK", "a-1.zip").is_err());
        assert!(sdist_build_info(b"", "a-1.tar.bz2").is_err());
    }

    fn tool(pyproject: &str) -> Option<VcsVersionTool> {
        tree_build_info(Some(pyproject), None).unwrap().vcs_version
    }

    #[test]
    fn a_tree_reads_like_an_sdist() {
        let info = tree_build_info(
            Some("[build-system]\nrequires = [\"hatchling>=1.20\"]\nbuild-backend = \"hatchling.build\"\n"),
            None,
        )
        .unwrap();
        assert_eq!(info.requires, Some(vec!["hatchling>=1.20".to_owned()]));
        assert_eq!(info.build_backend.as_deref(), Some("hatchling.build"));
        assert_eq!(info.vcs_version, None);
        let none = tree_build_info(None, None).unwrap();
        assert_eq!((none.requires, none.build_backend), (None, None));
        let no_table = tree_build_info(Some("[project]\nname = \"a\"\n"), None).unwrap();
        assert_eq!(no_table.requires, None);
        let no_requires =
            tree_build_info(Some("[build-system]\nbuild-backend = \"x\"\n"), None).unwrap();
        assert_eq!(no_requires.requires, None);
        assert!(tree_build_info(Some("[build-system]\nrequires = \"x\"\n"), None).is_err());
        assert!(tree_build_info(Some("[build-system"), None).is_err());
    }

    #[test]
    fn versions_from_version_control_are_recognised_only_when_used() {
        let dynamic = "[project]\nname = \"a\"\ndynamic = [\"version\"]\n";
        // setuptools-scm: required and the version dynamic.
        let scm = format!("{dynamic}[build-system]\nrequires = [\"setuptools>=64\", \"setuptools_scm[toml]>=8\"]\n");
        assert_eq!(tool(&scm), Some(VcsVersionTool::SetuptoolsScm));
        // ... but not when setuptools takes the version from elsewhere,
        assert_eq!(
            tool(&format!(
                "{scm}[tool.setuptools.dynamic]\nversion = {{ attr = \"a.V\" }}\n"
            )),
            None
        );
        // nor with a static version, nor without setuptools-scm.
        assert_eq!(
            tool("[project]\nname = \"a\"\nversion = \"1\"\n[build-system]\nrequires = [\"setuptools-scm\"]\n"),
            None
        );
        assert_eq!(
            tool(&format!(
                "{dynamic}[build-system]\nrequires = [\"setuptools\"]\n"
            )),
            None
        );
        // A setup.py project configuring setuptools-scm in pyproject.toml.
        assert_eq!(
            tool("[build-system]\nrequires = [\"setuptools\", \"setuptools-scm\"]\n[tool.setuptools_scm]\n"),
            Some(VcsVersionTool::SetuptoolsScm)
        );
        // hatch-vcs: only with the `vcs` version source.
        let hatch = format!("{dynamic}[build-system]\nrequires = [\"hatchling\", \"hatch-vcs\"]\n");
        assert_eq!(
            tool(&format!("{hatch}[tool.hatch.version]\nsource = \"vcs\"\n")),
            Some(VcsVersionTool::HatchVcs)
        );
        assert_eq!(
            tool(&format!(
                "{hatch}[tool.hatch.version]\npath = \"a/__init__.py\"\n"
            )),
            None
        );
        // pdm-backend: only with the `scm` source.
        let pdm = format!("{dynamic}[build-system]\nrequires = [\"pdm-backend\"]\n");
        assert_eq!(
            tool(&format!("{pdm}[tool.pdm.version]\nsource = \"scm\"\n")),
            Some(VcsVersionTool::PdmBackendScm)
        );
        assert_eq!(
            tool(&format!(
                "{pdm}[tool.pdm.version]\nsource = \"file\"\npath = \"a.py\"\n"
            )),
            None
        );
        // poetry-dynamic-versioning: only when enabled.
        let poetry = "[tool.poetry]\nname = \"a\"\nversion = \"0.0.0\"\n[build-system]\nrequires = [\"poetry-core\", \"poetry-dynamic-versioning>=1,<2\"]\n";
        assert_eq!(
            tool(&format!(
                "{poetry}[tool.poetry-dynamic-versioning]\nenable = true\n"
            )),
            Some(VcsVersionTool::PoetryDynamicVersioning)
        );
        assert_eq!(tool(poetry), None);
        assert_eq!(
            VcsVersionTool::PoetryDynamicVersioning.version_variable(),
            "POETRY_DYNAMIC_VERSIONING_BYPASS"
        );
        assert_eq!(
            VcsVersionTool::HatchVcs.version_variable(),
            "SETUPTOOLS_SCM_PRETEND_VERSION"
        );
        assert_eq!(
            VcsVersionTool::PdmBackendScm.version_variable(),
            "PDM_BUILD_SCM_VERSION"
        );
    }

    #[test]
    fn requirement_names() {
        assert_eq!(
            requirement_name("setuptools_scm[toml]>=6"),
            "setuptools-scm"
        );
        assert_eq!(requirement_name("Cython"), "cython");
        assert_eq!(requirement_name("maturin ; python_version>'3'"), "maturin");
    }
}
