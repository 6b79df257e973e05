//! An sdist's top-level `PKG-INFO`, and its `pyproject.toml`'s static dependencies (PEP 621)
//! when `PKG-INFO` does not make `Requires-Dist` final (PEP 643).

use std::collections::BTreeMap;
use std::io::Read;

use flate2::read::MultiGzDecoder;

use py2nix_dist::normalize_name;

use super::limits::archive_limits;
use super::tar_stream::TarStream;
use super::{read_entry, whole_zip_entries, MAX_METADATA_SIZE};
use crate::metadata::{parse_core_metadata, CoreMetadata, MetadataError, MetadataOrigin};

/// The most bytes of top-level `PKG-INFO` and `pyproject.toml` files kept from one sdist.
const MAX_KEPT_SIZE: u64 = 2 * MAX_METADATA_SIZE;

/// What an sdist tells of itself without a build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdistMetadata {
    /// The top-level `<dir>/PKG-INFO`.
    pub pkg_info: CoreMetadata,
    /// Where the dependencies can be learnt, if anywhere.
    pub requirements: SdistRequirements,
}

impl SdistMetadata {
    /// Whether `pkg_info.requires_dist` is final ([`SdistRequirements::PkgInfo`]).
    pub fn requires_dist_is_reliable(&self) -> bool {
        self.requirements == SdistRequirements::PkgInfo
    }
}

/// The source of an sdist's dependencies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SdistRequirements {
    /// `PKG-INFO`'s `Requires-Dist` and `Provides-Extra` are final: Metadata-Version is 2.2 or
    /// later and `Dynamic` does not name `Requires-Dist`.
    PkgInfo,
    /// `PKG-INFO` is not final, but `<dir>/pyproject.toml` declares `[project] dependencies`
    /// statically, which binds the build backend (PEP 621).
    Pyproject(PyprojectRequirements),
    /// Neither: only a build (PEP 517 `prepare_metadata_for_build_wheel`) can tell. `reason`
    /// says why `pyproject.toml` did not.
    Unknown { reason: String },
}

/// The static dependencies of a `pyproject.toml`'s `[project]` table, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PyprojectRequirements {
    /// `dependencies` (empty when absent, as PEP 621 says of a field not listed in `dynamic`).
    pub dependencies: Vec<String>,
    /// `optional-dependencies` by extra name as written, or `None` when `dynamic` lists it.
    pub optional_dependencies: Option<BTreeMap<String, Vec<String>>>,
}

/// Reads the sdist `filename` (`.tar.gz`, `.tgz`, `.tar` or `.zip`; `.tar.bz2` and others are
/// refused with [`MetadataError::UnsupportedSdist`]) from its whole bytes. The `PKG-INFO` read
/// is the one directly under the directory named like the file (`<name>-<version>`, compared
/// normalised), else the only top-level one; `PKG-INFO`s deeper down (`*.egg-info/`) are not.
pub fn sdist_metadata(bytes: &[u8], filename: &str) -> Result<SdistMetadata, MetadataError> {
    let (format, stem) = sdist_format(filename).ok_or_else(|| MetadataError::UnsupportedSdist {
        filename: filename.to_owned(),
    })?;
    let files = match format {
        SdistFormat::TarGz => tar_files(MultiGzDecoder::new(bytes), filename)?,
        SdistFormat::Tar => tar_files(bytes, filename)?,
        SdistFormat::Zip => zip_files(bytes, filename)?,
    };
    let (directory, pkg_info) = choose_pkg_info(&files, filename, stem)?;
    let pkg_info = parse_core_metadata(pkg_info)?;
    let requirements = if pkg_info.requires_dist_is_reliable(MetadataOrigin::Sdist) {
        SdistRequirements::PkgInfo
    } else {
        match files.pyproject.get(directory) {
            Some(text) => pyproject_requirements(text),
            None => SdistRequirements::Unknown {
                reason: "`PKG-INFO` is not final and there is no `pyproject.toml`".to_owned(),
            },
        }
    };
    Ok(SdistMetadata {
        pkg_info,
        requirements,
    })
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum SdistFormat {
    TarGz,
    Tar,
    Zip,
}

/// The format and the stem (`<name>-<version>`) of an sdist filename (or path): of
/// [`py2nix_dist::SDIST_EXTENSIONS`], the ones this crate reads.
pub(crate) fn sdist_format(filename: &str) -> Option<(SdistFormat, &str)> {
    let basename = filename.rsplit('/').next().unwrap_or(filename);
    let (stem, extension) = py2nix_dist::split_sdist_extension(basename)?;
    let format = match extension {
        ".tar.gz" | ".tgz" => SdistFormat::TarGz,
        ".tar" => SdistFormat::Tar,
        ".zip" => SdistFormat::Zip,
        _ => return None,
    };
    Some((format, stem))
}

/// The top-level `PKG-INFO` and `pyproject.toml` files, by directory.
#[derive(Debug, Default)]
struct TopLevelFiles {
    pkg_info: BTreeMap<String, Vec<u8>>,
    pyproject: BTreeMap<String, Vec<u8>>,
    kept: u64,
}

impl TopLevelFiles {
    /// The map `path` belongs in and its directory, if it is a file this module reads.
    fn slot(&mut self, path: &str) -> Option<(&mut BTreeMap<String, Vec<u8>>, String)> {
        let path = path.trim_start_matches("./");
        let (directory, file) = path.split_once('/')?;
        let valid = !directory.is_empty() && directory != "." && directory != "..";
        let map = match file {
            "PKG-INFO" => &mut self.pkg_info,
            "pyproject.toml" => &mut self.pyproject,
            _ => return None,
        };
        valid.then(|| (map, directory.to_owned()))
    }

    /// Checks that a file of `size` bytes may be kept.
    fn reserve(&mut self, path: &str, size: u64, filename: &str) -> Result<(), MetadataError> {
        if size > MAX_METADATA_SIZE {
            return Err(MetadataError::TooLarge {
                name: path.to_owned(),
                size,
                limit: MAX_METADATA_SIZE,
            });
        }
        self.kept = self.kept.saturating_add(size);
        if self.kept > MAX_KEPT_SIZE {
            return Err(MetadataError::TooLarge {
                name: format!("{filename}'s top-level metadata files"),
                size: self.kept,
                limit: MAX_KEPT_SIZE,
            });
        }
        Ok(())
    }
}

fn tar_files(reader: impl Read, filename: &str) -> Result<TopLevelFiles, MetadataError> {
    let mut files = TopLevelFiles::default();
    let mut archive = TarStream::new(reader, filename, archive_limits());
    while let Some(entry) = archive.next_entry()? {
        if !entry.is_file || files.slot(&entry.path).is_none() {
            continue;
        }
        files.reserve(&entry.path, entry.size, filename)?;
        let contents = archive.read_data(MAX_METADATA_SIZE)?;
        if let Some((map, directory)) = files.slot(&entry.path) {
            map.insert(directory, contents);
        }
    }
    Ok(files)
}

fn zip_files(bytes: &[u8], filename: &str) -> Result<TopLevelFiles, MetadataError> {
    let mut files = TopLevelFiles::default();
    for entry in whole_zip_entries(bytes, filename)? {
        if files.slot(&entry.name).is_none() {
            continue;
        }
        files.reserve(&entry.name, entry.uncompressed_size, filename)?;
        let contents = read_entry(bytes, &entry)?;
        if let Some((map, directory)) = files.slot(&entry.name) {
            map.insert(directory, contents);
        }
    }
    Ok(files)
}

/// The `PKG-INFO` to read and its directory (see [`sdist_metadata`]).
fn choose_pkg_info<'a>(
    files: &'a TopLevelFiles,
    filename: &str,
    stem: &str,
) -> Result<(&'a str, &'a [u8]), MetadataError> {
    let expected = normalize_name(stem);
    let matching = files
        .pkg_info
        .iter()
        .find(|(directory, _)| normalize_name(directory) == expected);
    let mut all = files.pkg_info.iter();
    let only = match (all.next(), all.next()) {
        (Some(first), None) => Some(first),
        _ => None,
    };
    match matching.or(only) {
        Some((directory, contents)) => Ok((directory, contents)),
        None if files.pkg_info.is_empty() => Err(MetadataError::NoPkgInfo {
            filename: filename.to_owned(),
        }),
        None => Err(MetadataError::AmbiguousPkgInfo {
            filename: filename.to_owned(),
            candidates: files
                .pkg_info
                .keys()
                .map(|directory| format!("{directory}/PKG-INFO"))
                .collect(),
        }),
    }
}

/// What `pyproject.toml` says of the dependencies.
fn pyproject_requirements(bytes: &[u8]) -> SdistRequirements {
    match static_requirements(bytes) {
        Ok(requirements) => SdistRequirements::Pyproject(requirements),
        Err(reason) => SdistRequirements::Unknown { reason },
    }
}

fn static_requirements(bytes: &[u8]) -> Result<PyprojectRequirements, String> {
    let text =
        std::str::from_utf8(bytes).map_err(|_| "`pyproject.toml` is not UTF-8".to_owned())?;
    let document: toml::Table = text
        .parse()
        .map_err(|error: toml::de::Error| format!("`pyproject.toml`: {}", error.message()))?;
    let project = match document.get("project") {
        Some(toml::Value::Table(project)) => project,
        Some(_) => return Err("`pyproject.toml`'s `project` is not a table".to_owned()),
        None => return Err("`pyproject.toml` has no `[project]` table".to_owned()),
    };
    let dynamic = optional_strings(project, "dynamic")?;
    let is_dynamic = |field: &str| dynamic.iter().any(|name| name == field);
    if is_dynamic("dependencies") {
        return Err("`pyproject.toml` lists `dependencies` in `[project] dynamic`".to_owned());
    }
    let optional_dependencies = if is_dynamic("optional-dependencies") {
        None
    } else {
        Some(optional_dependencies(project)?)
    };
    Ok(PyprojectRequirements {
        dependencies: optional_strings(project, "dependencies")?,
        optional_dependencies,
    })
}

/// `[project] key` as a list of strings, empty when absent.
fn optional_strings(table: &toml::Table, key: &str) -> Result<Vec<String>, String> {
    match table.get(key) {
        None => Ok(Vec::new()),
        Some(value) => strings(value)
            .ok_or_else(|| format!("`pyproject.toml`'s `{key}` is not a list of strings")),
    }
}

fn optional_dependencies(project: &toml::Table) -> Result<BTreeMap<String, Vec<String>>, String> {
    let invalid =
        || "`pyproject.toml`'s `optional-dependencies` is not a table of lists of strings";
    match project.get("optional-dependencies") {
        None => Ok(BTreeMap::new()),
        Some(toml::Value::Table(extras)) => extras
            .iter()
            .map(|(extra, value)| Ok((extra.clone(), strings(value).ok_or_else(invalid)?)))
            .collect::<Result<_, &str>>()
            .map_err(str::to_owned),
        Some(_) => Err(invalid().to_owned()),
    }
}

fn strings(value: &toml::Value) -> Option<Vec<String>> {
    value
        .as_array()?
        .iter()
        .map(|item| item.as_str().map(str::to_owned))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(pyproject: &str, expected: SdistRequirements) {
        assert_eq!(pyproject_requirements(pyproject.as_bytes()), expected);
    }

    fn unknown(reason: &str) -> SdistRequirements {
        SdistRequirements::Unknown {
            reason: reason.to_owned(),
        }
    }

    #[test]
    fn static_and_dynamic_dependencies() {
        check(
            "[project]\nname = 'a'\ndependencies = ['b>=1', \"c; python_version < '3.9'\"]\n\
             [project.optional-dependencies]\nSocks = ['d']\n",
            SdistRequirements::Pyproject(PyprojectRequirements {
                dependencies: vec!["b>=1".into(), "c; python_version < '3.9'".into()],
                optional_dependencies: Some(BTreeMap::from([("Socks".into(), vec!["d".into()])])),
            }),
        );
        check(
            "[project]\nname = 'a'\ndynamic = ['version', 'optional-dependencies']\n",
            SdistRequirements::Pyproject(PyprojectRequirements {
                dependencies: vec![],
                optional_dependencies: None,
            }),
        );
        check(
            "[project]\nname = 'a'\ndynamic = ['dependencies']\n",
            unknown("`pyproject.toml` lists `dependencies` in `[project] dynamic`"),
        );
        check(
            "[tool.poetry]\nname = 'a'\n",
            unknown("`pyproject.toml` has no `[project]` table"),
        );
        check(
            "[project]\ndependencies = 'b'\n",
            unknown("`pyproject.toml`'s `dependencies` is not a list of strings"),
        );
        check(
            "[project.optional-dependencies]\nx = [1]\n",
            unknown(
                "`pyproject.toml`'s `optional-dependencies` is not a table of lists of strings",
            ),
        );
        assert!(matches!(
            pyproject_requirements(b"[project"),
            SdistRequirements::Unknown { .. }
        ));
    }

    #[test]
    fn formats() {
        let format =
            |filename| sdist_format(filename).map(|(format, stem)| (format!("{format:?}"), stem));
        assert_eq!(format("a-1.tar.gz"), Some(("TarGz".into(), "a-1")));
        assert_eq!(format("A-1.TGZ"), Some(("TarGz".into(), "A-1")));
        assert_eq!(format("a-1.tar"), Some(("Tar".into(), "a-1")));
        assert_eq!(format("x/a-1.zip"), Some(("Zip".into(), "a-1")));
        assert_eq!(format("a-1.tar.bz2"), None);
        assert_eq!(format("a-1.whl"), None);
    }
}
