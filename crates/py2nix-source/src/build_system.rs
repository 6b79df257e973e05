//! What an sdist says about its own build, read from its bytes without building it: the
//! `[build-system]` table of its top-level `pyproject.toml` (PEP 518/517) and, for a project
//! with Rust code, the `Cargo.lock` that pins its crates.

use std::collections::BTreeMap;
use std::io::{Cursor, Read};

use flate2::read::MultiGzDecoder;
use serde::{Deserialize, Serialize};

use crate::archive::normalize_name;
use crate::metadata::MetadataError;

/// The largest `pyproject.toml` or `Cargo.lock` read from an sdist: 16 MiB.
const MAX_FILE_SIZE: u64 = 16 * 1024 * 1024;
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
    let basename = filename.rsplit('/').next().unwrap_or(filename);
    let lower = basename.to_ascii_lowercase();
    let (stem, files) = if let Some(stem) = strip_suffix_ci(basename, &lower, &[".tar.gz", ".tgz"])
    {
        (stem, tar_files(MultiGzDecoder::new(bytes), filename)?)
    } else if let Some(stem) = strip_suffix_ci(basename, &lower, &[".tar"]) {
        (stem, tar_files(bytes, filename)?)
    } else if let Some(stem) = strip_suffix_ci(basename, &lower, &[".zip"]) {
        (stem, zip_files(bytes, filename)?)
    } else {
        return Err(MetadataError::UnsupportedSdist {
            filename: filename.to_owned(),
        });
    };
    let directory = project_directory(&files, stem).ok_or_else(|| MetadataError::NoPkgInfo {
        filename: filename.to_owned(),
    })?;
    let (requires, build_backend) = match files.pyprojects.get(&directory) {
        Some(text) => build_system_table(text).map_err(|message| MetadataError::CorruptMember {
            name: format!("{directory}/pyproject.toml"),
            message,
        })?,
        None => (None, None),
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
        requires,
        build_backend,
        cargo_lock,
    })
}

fn strip_suffix_ci<'a>(basename: &'a str, lower: &str, suffixes: &[&str]) -> Option<&'a str> {
    suffixes
        .iter()
        .find(|suffix| lower.ends_with(*suffix))
        .and_then(|suffix| basename.get(..basename.len() - suffix.len()))
}

/// `[build-system] requires` and `build-backend` of a `pyproject.toml`.
#[allow(clippy::type_complexity)]
fn build_system_table(bytes: &[u8]) -> Result<(Option<Vec<String>>, Option<String>), String> {
    let text = String::from_utf8_lossy(bytes);
    let value: toml::Table = toml::from_str(&text).map_err(|e| format!("invalid TOML: {e}"))?;
    let Some(table) = value.get("build-system") else {
        return Ok((None, None));
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
    let backend = table
        .get("build-backend")
        .and_then(toml::Value::as_str)
        .map(str::to_owned);
    Ok((requires, backend))
}

/// The files this module reads, by their path in the archive.
#[derive(Debug, Default)]
struct Files {
    /// Top-level directories seen with a marker file (PKG-INFO, pyproject.toml, setup.py).
    directories: Vec<String>,
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
        if !self.directories.iter().any(|d| d == directory) {
            self.directories.push(directory.to_owned());
        }
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
    let tar_error = |source| MetadataError::Tar {
        filename: filename.to_owned(),
        source,
    };
    let mut files = Files::default();
    let mut archive = tar::Archive::new(reader);
    for entry in archive.entries().map_err(tar_error)? {
        let mut entry = entry.map_err(tar_error)?;
        let kind = entry.header().entry_type();
        if !(kind.is_file() || kind == tar::EntryType::Continuous) {
            continue;
        }
        let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let Some(wanted) = classify(&path) else {
            continue;
        };
        let mut contents = Vec::new();
        if !matches!(wanted, Wanted::Marker(_)) {
            if entry.size() > MAX_FILE_SIZE {
                return Err(too_large(&path, entry.size()));
            }
            (&mut entry)
                .take(MAX_FILE_SIZE)
                .read_to_end(&mut contents)
                .map_err(tar_error)?;
        }
        files.add(&path, wanted, contents);
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
            if entry.size() > MAX_FILE_SIZE {
                return Err(too_large(&path, entry.size()));
            }
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
