//! Choosing one file per package and target: the best wheel by tag priority, else the sdist,
//! as `--no-binary` and `--only-binary` allow (with pip's semantics).

use std::collections::BTreeSet;
use std::str::FromStr;

use pep440_rs::Version;
use pep508_rs::PackageName;
use py2nix_lock::{LockedFile, LockedPackage};
use serde::{Deserialize, Serialize};

use crate::tags::{TagPriorities, WheelName};
use crate::target::Target;
use crate::PlanError;

/// Whether a planned file is a wheel or an sdist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// A wheel file, installed as is.
    Wheel,
    /// An sdist file, built.
    Sdist,
    /// A git checkout, built.
    Git,
    /// A local directory or file, relative to the generated file.
    Path,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Scope {
    all: bool,
    names: BTreeSet<PackageName>,
}

/// Which packages may use wheels and which sdists, like pip's `FormatControl`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormatControl {
    no_binary: Scope,
    only_binary: Scope,
}

impl FormatControl {
    /// Reads `--no-binary` and `--only-binary` values: comma-separated names, `:all:` or `:none:`.
    /// As in pip, naming a package in one option removes it from the other, and a name beats `:all:`.
    ///
    /// ```
    /// use py2nix_plan::FormatControl;
    /// let control = FormatControl::parse(&[":all:".into()], &["numpy".into()]).unwrap();
    /// assert!(control.wheels_allowed(&"numpy".parse().unwrap()));
    /// assert!(!control.sdists_allowed(&"numpy".parse().unwrap()));
    /// assert!(!control.wheels_allowed(&"flask".parse().unwrap()));
    /// ```
    pub fn parse(no_binary: &[String], only_binary: &[String]) -> Result<FormatControl, PlanError> {
        let mut control = FormatControl::default();
        for value in no_binary {
            apply(value, &mut control.no_binary, &mut control.only_binary)?;
        }
        for value in only_binary {
            apply(value, &mut control.only_binary, &mut control.no_binary)?;
        }
        Ok(control)
    }

    pub fn wheels_allowed(&self, name: &PackageName) -> bool {
        if self.only_binary.names.contains(name) {
            return true;
        }
        !(self.no_binary.names.contains(name) || (!self.only_binary.all && self.no_binary.all))
    }

    pub fn sdists_allowed(&self, name: &PackageName) -> bool {
        if self.no_binary.names.contains(name) {
            return true;
        }
        !(self.only_binary.names.contains(name) || self.only_binary.all)
    }
}

fn apply(value: &str, target: &mut Scope, other: &mut Scope) -> Result<(), PlanError> {
    for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match item {
            ":all:" => {
                *target = Scope {
                    all: true,
                    names: BTreeSet::new(),
                };
                *other = Scope::default();
            }
            ":none:" => *target = Scope::default(),
            name => {
                let name = PackageName::from_str(name).map_err(|e| {
                    PlanError::Request(format!("`{name}` in --no-binary/--only-binary: {e}"))
                })?;
                other.names.remove(&name);
                target.names.insert(name);
            }
        }
    }
    Ok(())
}

/// The version a wheel's or sdist's file name carries, read without the project's name
/// ([`py2nix_dist::unnamed_filename_version`]); prefer [`py2nix_dist::filename_version`].
pub fn filename_version(filename: &str) -> Option<Version> {
    py2nix_dist::unnamed_filename_version(filename).map(|(_, version)| version)
}

/// Whether `filename` is of `version` (given also as text, as the lock writes it), or does
/// not say: a file name that spells the version as the lock does needs no parsing.
fn own_version(filename: &str, package: &PackageName, version: &Version, text: &str) -> bool {
    if let Some(wheel) = WheelName::parse(filename) {
        if wheel.version == text {
            return true;
        }
    }
    py2nix_dist::filename_version(filename, package.as_ref()).is_none_or(|v| v == *version)
}

/// Whether a wheel's or sdist's file name of project `package` carries `version` (PEP 440
/// equality).
///
/// ```
/// let v = "1.0".parse().unwrap();
/// assert!(py2nix_plan::file_is_version("foo_bar-1.0.0-py3-none-any.whl", "foo-bar", &v));
/// assert!(py2nix_plan::file_is_version("Foo.Bar-1.0.tar.gz", "foo-bar", &v));
/// assert!(!py2nix_plan::file_is_version("foo-bar-1.0.1.tar.gz", "foo-bar", &v));
/// assert!(!py2nix_plan::file_is_version("foo-1.0.tar.gz", "foo-bar", &v));
/// ```
pub fn file_is_version(filename: &str, package: &str, version: &Version) -> bool {
    py2nix_dist::filename_version(filename, package).is_some_and(|v| v == *version)
}

/// Picks the file `target` installs for `package`: the index of the file in
/// `package.files` and its kind.
pub fn choose_file(
    package: &LockedPackage,
    tags: &TagPriorities,
    control: &FormatControl,
    target: &Target,
) -> Result<(usize, SourceKind), PlanError> {
    // Lock-version 1.x lists the files of every locked version of a name together.
    let version_text = package.version.to_string();
    let candidates: Vec<(usize, &LockedFile)> = package
        .files
        .iter()
        .enumerate()
        .filter(|(_, f)| own_version(&f.filename, &package.name, &package.version, &version_text))
        .collect();
    let wheels_allowed = control.wheels_allowed(&package.name);
    let sdists_allowed = control.sdists_allowed(&package.name);
    if wheels_allowed {
        let best = candidates
            .iter()
            .filter_map(|(i, f)| {
                let wheel = WheelName::parse(&f.filename)?;
                // Only a wheel whose version reads counts (as `WheelFilename::parse` has it).
                if wheel.version != version_text && Version::from_str(wheel.version).is_err() {
                    return None;
                }
                Some((tags.rank_name(&wheel)?, &f.filename, *i))
            })
            .min();
        if let Some((_, _, index)) = best {
            return Ok((index, SourceKind::Wheel));
        }
    }
    if sdists_allowed {
        let sdist = candidates
            .iter()
            .filter_map(|(i, f)| {
                let preference = py2nix_dist::sdist_preference(&f.filename)?;
                Some((preference, &f.filename, *i))
            })
            .min();
        if let Some((_, _, index)) = sdist {
            return Ok((index, SourceKind::Sdist));
        }
    }
    let reason = match (wheels_allowed, sdists_allowed) {
        (true, true) => "no wheel matches the target and there is no sdist",
        (true, false) => "no wheel matches the target and --only-binary forbids the sdist",
        (false, true) => "--no-binary forbids wheels and there is no sdist",
        (false, false) => "--no-binary and --only-binary together forbid every file",
    };
    Err(PlanError::NoUsableFile {
        package: package.name.to_string(),
        version: package.version.to_string(),
        target: target.describe(),
        reason: reason.to_string(),
        files: candidates.iter().map(|(_, f)| f.filename.clone()).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdist_versions_are_read_from_names_with_dashes() {
        assert_eq!(
            filename_version("python-dateutil-2.9.0.post0.tar.gz"),
            Some("2.9.0.post0".parse().unwrap())
        );
        assert_eq!(
            filename_version("flask-3.1.0-py3-none-any.whl"),
            Some("3.1.0".parse().unwrap())
        );
        assert_eq!(filename_version("weird.exe"), None);
    }

    #[test]
    fn pip_semantics_for_format_control() {
        let name = |s: &str| PackageName::from_str(s).unwrap();
        let none_reset = FormatControl::parse(&[":all:".into(), ":none:".into()], &[]).unwrap();
        assert!(none_reset.wheels_allowed(&name("x")));
        let listed = FormatControl::parse(&["pillow,numpy".into()], &[]).unwrap();
        assert!(!listed.wheels_allowed(&name("Pillow")));
        assert!(listed.sdists_allowed(&name("pillow")));
        assert!(listed.wheels_allowed(&name("flask")));
        let only = FormatControl::parse(&[], &[":all:".into()]).unwrap();
        assert!(!only.sdists_allowed(&name("flask")));
        assert!(only.wheels_allowed(&name("flask")));
        assert!(FormatControl::parse(&["not a name".into()], &[]).is_err());
    }
}
