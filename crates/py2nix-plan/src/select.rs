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

/// Which packages may use wheels and which sdists, like pip's `FormatControl`, with uv's
/// `no-build` on top (which, unlike `--only-binary`, also refuses source trees).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormatControl {
    no_binary: Scope,
    only_binary: Scope,
    no_build: Scope,
    /// The project itself, built even under `no-build` (uv refuses to install it then, but
    /// installs its dependencies with `--no-install-project`; the environments of a plan do
    /// not hold the project).
    exempt: Option<PackageName>,
    /// The `--no-binary` and `--only-binary` values as given, for [`FormatControl::with_uv`].
    args: (Vec<String>, Vec<String>),
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
        let mut control = FormatControl {
            args: (no_binary.to_vec(), only_binary.to_vec()),
            ..FormatControl::default()
        };
        for value in no_binary {
            apply(value, &mut control.no_binary, &mut control.only_binary)?;
        }
        for value in only_binary {
            apply(value, &mut control.only_binary, &mut control.no_binary)?;
        }
        Ok(control)
    }

    /// The command line's `--no-binary`/`--only-binary` over uv's settings: `no-binary` and
    /// `no-binary-package` as if given first with `--no-binary`, `no-build` and
    /// `no-build-package` refusing every build of the package (sdists and source trees)
    /// but the project's own (`project`).
    ///
    /// ```
    /// let settings = py2nix_lock::parse_uv_settings("[tool.uv]\nno-build = true\n").unwrap();
    /// let cli = py2nix_plan::FormatControl::parse(&[], &[]).unwrap();
    /// let control = cli.with_uv(&settings, None).unwrap();
    /// assert!(!control.sdists_allowed(&"flask".parse().unwrap()));
    /// assert!(control.build_refused(&"flask".parse().unwrap()));
    /// ```
    pub fn with_uv(
        &self,
        settings: &py2nix_lock::UvSettings,
        project: Option<&PackageName>,
    ) -> Result<FormatControl, PlanError> {
        let (no_binary, only_binary) = &self.args;
        let mut uv_no_binary: Vec<String> = Vec::new();
        if settings.no_binary == Some(true) {
            uv_no_binary.push(":all:".to_string());
        }
        uv_no_binary.extend(settings.no_binary_package.iter().map(ToString::to_string));
        uv_no_binary.extend(no_binary.iter().cloned());
        let mut control = FormatControl::parse(&uv_no_binary, only_binary)?;
        control.no_build = Scope {
            all: settings.no_build == Some(true),
            names: settings.no_build_package.clone(),
        };
        control.exempt = project.cloned();
        Ok(control)
    }

    /// Whether uv's `no-build` refuses to build the package from source.
    pub fn build_refused(&self, name: &PackageName) -> bool {
        self.exempt.as_ref() != Some(name)
            && (self.no_build.all || self.no_build.names.contains(name))
    }

    /// uv's reason for refusing a package that has only sources to build.
    pub fn no_build_reason(name: &PackageName) -> String {
        format!(
            "`{name}` can't be installed because it is marked as `--no-build` but has no binary distribution ([tool.uv] no-build)"
        )
    }

    pub fn wheels_allowed(&self, name: &PackageName) -> bool {
        if self.only_binary.names.contains(name) {
            return true;
        }
        !(self.no_binary.names.contains(name) || (!self.only_binary.all && self.no_binary.all))
    }

    pub fn sdists_allowed(&self, name: &PackageName) -> bool {
        if self.build_refused(name) {
            return false;
        }
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
    let name = &package.name;
    let reason = match (wheels_allowed, sdists_allowed) {
        (false, false) if control.build_refused(name) => format!(
            "`{name}` can't be installed because it is marked as both `--no-binary` and `--no-build` ([tool.uv] no-binary and no-build)"
        ),
        (true, false) if control.build_refused(name) => FormatControl::no_build_reason(name),
        (true, true) => "no wheel matches the target and there is no sdist".to_string(),
        (true, false) => "no wheel matches the target and --only-binary forbids the sdist".to_string(),
        (false, true) => "--no-binary forbids wheels and there is no sdist".to_string(),
        (false, false) => "--no-binary and --only-binary together forbid every file".to_string(),
    };
    Err(PlanError::NoUsableFile {
        package: package.name.to_string(),
        version: package.version.to_string(),
        target: target.describe(),
        reason,
        files: candidates.iter().map(|(_, f)| f.filename.clone()).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn uv_settings_under_the_command_line() {
        let name = |s: &str| PackageName::from_str(s).unwrap();
        let settings = py2nix_lock::parse_uv_settings(
            "[tool.uv]\nno-binary-package = [\"urllib3\"]\nno-build-package = [\"arpeggio\"]\n",
        )
        .unwrap();
        let control = FormatControl::default().with_uv(&settings, None).unwrap();
        assert!(!control.wheels_allowed(&name("urllib3")));
        assert!(control.sdists_allowed(&name("urllib3")));
        assert!(!control.sdists_allowed(&name("arpeggio")));
        assert!(control.build_refused(&name("arpeggio")));
        assert!(!control.build_refused(&name("urllib3")));
        // --only-binary on the command line takes urllib3 back to wheels.
        let cli = FormatControl::parse(&[], &["urllib3".into()]).unwrap();
        let control = cli.with_uv(&settings, None).unwrap();
        assert!(control.wheels_allowed(&name("urllib3")));
        // `no-build = true` spares the project.
        let all = py2nix_lock::parse_uv_settings("[tool.uv]\nno-build = true\n").unwrap();
        let control = FormatControl::default()
            .with_uv(&all, Some(&name("proj")))
            .unwrap();
        assert!(control.build_refused(&name("flask")));
        assert!(!control.build_refused(&name("proj")));
    }
}
