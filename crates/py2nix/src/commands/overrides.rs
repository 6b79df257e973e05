//! `py2nix overrides show`: what the override database says about one package, for sdists and
//! for wheels, and which file says it (built in, or a user's directory).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use py2nix_overrides::{ArtifactKind, Entry, OverrideDb, Rule, Version};

use crate::output;
use crate::report::{Classify, Failure, Reporter};

/// Show the override rules for a package and where they come from.
#[derive(clap::Args, Debug)]
// `--version` is the package's version here, not py2nix's.
#[command(disable_version_flag = true)]
pub struct OverridesShowArgs {
    /// The package (any spelling: `Pillow`, `zope.interface`).
    #[arg(value_name = "PACKAGE")]
    pub package: String,

    /// Only what applies at this version, for an sdist and for a wheel (default: every rule).
    #[arg(long, value_name = "VERSION")]
    pub version: Option<String>,

    /// A directory of your own overrides, laid out as py2nix's `overrides/`; an entry there
    /// replaces the built-in entry of its package. Default: `[tool.py2nix] overrides` in
    /// ./pyproject.toml, if set.
    #[arg(long, value_name = "DIR")]
    pub overrides: Option<PathBuf>,

    /// Let ./pyproject.toml's [tool.py2nix] overrides name a directory outside the project
    /// (the current directory), as `lock --allow-outside-paths` does; without it such a
    /// directory is refused. See docs/security.md.
    #[arg(long)]
    pub allow_outside_paths: bool,
}

/// What `show` was asked, checked.
#[derive(Debug)]
struct ShowSettings {
    name: String,
    version: Option<Version>,
    user_dir: Option<PathBuf>,
}

impl ShowSettings {
    fn from_args(args: OverridesShowArgs, reporter: &Reporter) -> anyhow::Result<ShowSettings> {
        let OverridesShowArgs {
            package,
            version,
            overrides,
            allow_outside_paths,
        } = args;
        let name = py2nix_dist::normalize_name(package.trim());
        if !py2nix_dist::is_normalized(&name) {
            anyhow::bail!("`{package}` is not a package name");
        }
        let version = version
            .map(|text| {
                text.parse::<Version>().map_err(|e| {
                    anyhow::anyhow!("`--version {text}` is not a PEP 440 version: {e}")
                })
            })
            .transpose()?;
        let user_dir = match overrides {
            Some(dir) => Some(dir),
            None => from_pyproject(allow_outside_paths, reporter)?,
        };
        Ok(ShowSettings {
            name,
            version,
            user_dir,
        })
    }
}

/// `[tool.py2nix] overrides` of ./pyproject.toml, relative to the current directory; refused
/// outside it unless `allow_outside`.
fn from_pyproject(allow_outside: bool, reporter: &Reporter) -> anyhow::Result<Option<PathBuf>> {
    let path = PathBuf::from("pyproject.toml");
    if !path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path).context("failed to read `pyproject.toml`")?;
    let Some(dir) = crate::overrides::user_dir_from_pyproject(&text) else {
        return Ok(None);
    };
    reporter.explain(&format!(
        "user overrides from pyproject.toml's [tool.py2nix]: `{dir}`"
    ));
    let dir = PathBuf::from(dir);
    if !allow_outside {
        crate::sources::check_inside_project(
            &dir,
            Path::new("."),
            "pyproject.toml's `[tool.py2nix] overrides` directory",
        )?;
    }
    Ok(Some(dir))
}

/// Prints what applies to the package and where each rule comes from.
pub fn show(args: OverridesShowArgs, reporter: &Reporter) -> Result<(), Failure> {
    let settings = ShowSettings::from_args(args, reporter).input()?;
    let (db, warnings) = match &settings.user_dir {
        Some(dir) => crate::overrides::load(Some(dir)).input()?,
        None => crate::overrides::load(None).unexpected()?,
    };
    for warning in &warnings {
        reporter.warn(warning);
    }
    let text = render(&db, &settings.name, settings.version.as_ref());
    // A built-in entry is parsed on first use; one that fails is a build defect.
    db.check_loaded()
        .context("the built-in override database does not load")
        .unexpected()?;
    output::print(&text)
}

/// The text `show` prints.
fn render(db: &OverrideDb, name: &str, version: Option<&Version>) -> String {
    let mut out = String::new();
    let title = match version {
        Some(version) => format!("{name} {version}"),
        None => name.to_string(),
    };
    let Some(entry) = db.entry(name) else {
        let _ = writeln!(out, "{title}: no entry in the override database");
        if version.is_some() {
            let _ = writeln!(out, "sdist: no rule: built with setuptools");
            let _ = writeln!(out, "wheel: no rule");
        }
        return out;
    };
    let _ = writeln!(out, "{title}: {}", entry.origin);
    if let Some(replaced) = &entry.replaces {
        let _ = writeln!(out, "  replaces {replaced}");
    }
    if let Some(note) = &entry.note {
        let _ = writeln!(out, "  note: {}", note.trim());
    }
    match version {
        Some(version) => {
            for kind in ArtifactKind::ALL {
                match entry.lookup(version, kind) {
                    Some((index, rule)) => {
                        let _ = writeln!(out, "{kind}: rule {} ({})", index + 1, versions(rule));
                        write_rule(&mut out, entry, rule, Some(kind));
                    }
                    None if kind == ArtifactKind::Sdist => {
                        let _ = writeln!(
                            out,
                            "sdist: no rule covers {version}: built with setuptools"
                        );
                    }
                    None => {
                        let _ = writeln!(out, "wheel: no rule covers {version}");
                    }
                }
            }
        }
        None => {
            for (index, rule) in entry.rules.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "rule {} ({}, for {}):",
                    index + 1,
                    versions(rule),
                    match rule.applies_to.as_str() {
                        "any" => "sdists and wheels",
                        "wheel" => "wheels",
                        _ => "sdists",
                    }
                );
                write_rule(&mut out, entry, rule, None);
            }
        }
    }
    out
}

fn versions(rule: &Rule) -> String {
    match &rule.versions {
        Some(specifiers) => format!("versions {specifiers}"),
        None => "every version".to_string(),
    }
}

/// The rule's keys, one per line; for `Some(kind)` only the keys that apply to that kind.
fn write_rule(out: &mut String, entry: &Entry, rule: &Rule, kind: Option<ArtifactKind>) {
    let sdist = kind != Some(ArtifactKind::Wheel);
    let wheel = kind != Some(ArtifactKind::Sdist);
    let mut line = |key: &str, value: String| {
        let _ = writeln!(out, "  {key}: {value}");
    };
    if sdist && rule.applies_to.covers(ArtifactKind::Sdist) {
        if rule.build_system.is_empty() {
            line("build-system", "setuptools (the default)".to_string());
        } else {
            line("build-system", rule.build_system.join(", "));
        }
    }
    for (key, list) in [
        ("native-build-inputs", &rule.native_build_inputs),
        ("build-inputs", &rule.build_inputs),
        ("propagated-build-inputs", &rule.propagated_build_inputs),
    ] {
        if !list.is_empty() {
            line(key, list.join(", "));
        }
    }
    for (name, value) in &rule.env {
        line("env", format!("{name}={value}"));
    }
    if sdist {
        for patch in &rule.patches {
            line(
                "patch",
                format!("{patch} ({})", entry.origin.sibling(patch)),
            );
        }
        if !rule.build_flags.is_empty() {
            line("build-flags", rule.build_flags.join(" "));
        }
        if !rule.build_requires.is_empty() {
            let how = if rule.build_requires_replace {
                "replacing the sdist's"
            } else {
                "added to the sdist's"
            };
            line(
                "build-requires",
                format!("{} ({how})", rule.build_requires.join(", ")),
            );
        }
    }
    if wheel {
        for (soname, attribute) in &rule.sonames {
            line("soname", format!("{soname} -> {attribute}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> OverrideDb {
        let builtin = OverrideDb::from_files([
            (
                "nu/numpy/override.toml",
                "schema-version = 1\nnote = \"BLAS from nixpkgs\"\n\
                 [[rule]]\napplies-to = \"wheel\"\nversions = \">=2\"\n\
                 sonames = { \"libgfortran.so.5\" = \"gfortran.cc.lib\" }\n\
                 [[rule]]\nversions = \">=2\"\nbuild-system = [\"meson-python\"]\n\
                 build-flags = [\"-Csetup-args=-Dblas=openblas\"]\npatches = [\"fix.patch\"]\n\
                 env = { NPY_BLAS_ORDER = \"openblas\" }\n\
                 [[rule]]\nversions = \"<2\"\nbuild-requires = [\"cython<3\"]\n",
            ),
            ("nu/numpy/fix.patch", "--- a\n+++ b\n"),
            (
                "pi/pillow/override.toml",
                "schema-version = 1\n[[rule]]\nbuild-inputs = [\"zlib\"]\n",
            ),
        ])
        .unwrap();
        let user = OverrideDb::from_user_files(
            "mine",
            [(
                "pi/pillow/override.toml",
                "schema-version = 1\n[[rule]]\napplies-to = \"any\"\nbuild-inputs = [\"libjpeg\"]\n",
            )],
        )
        .unwrap();
        OverrideDb::merge(builtin, user)
    }

    fn v(text: &str) -> Version {
        text.parse().unwrap()
    }

    #[test]
    fn every_rule_with_its_file() {
        insta::assert_snapshot!(render(&db(), "numpy", None), @r"
        numpy: overrides/nu/numpy/override.toml (built in)
          note: BLAS from nixpkgs
        rule 1 (versions >=2, for wheels):
          soname: libgfortran.so.5 -> gfortran.cc.lib
        rule 2 (versions >=2, for sdists):
          build-system: meson-python
          env: NPY_BLAS_ORDER=openblas
          patch: fix.patch (overrides/nu/numpy/fix.patch)
          build-flags: -Csetup-args=-Dblas=openblas
        rule 3 (versions <2, for sdists):
          build-system: setuptools (the default)
          build-requires: cython<3 (added to the sdist's)
        ");
    }

    #[test]
    fn what_applies_at_a_version() {
        insta::assert_snapshot!(render(&db(), "numpy", Some(&v("2.1.0"))), @r"
        numpy 2.1.0: overrides/nu/numpy/override.toml (built in)
          note: BLAS from nixpkgs
        sdist: rule 2 (versions >=2)
          build-system: meson-python
          env: NPY_BLAS_ORDER=openblas
          patch: fix.patch (overrides/nu/numpy/fix.patch)
          build-flags: -Csetup-args=-Dblas=openblas
        wheel: rule 1 (versions >=2)
          soname: libgfortran.so.5 -> gfortran.cc.lib
        ");
        insta::assert_snapshot!(render(&db(), "numpy", Some(&v("1.26"))), @r"
        numpy 1.26: overrides/nu/numpy/override.toml (built in)
          note: BLAS from nixpkgs
        sdist: rule 3 (versions <2)
          build-system: setuptools (the default)
          build-requires: cython<3 (added to the sdist's)
        wheel: no rule covers 1.26
        ");
    }

    #[test]
    fn a_user_entry_says_what_it_replaces() {
        insta::assert_snapshot!(render(&db(), "pillow", Some(&v("11"))), @r"
        pillow 11: mine/pi/pillow/override.toml (user)
          replaces overrides/pi/pillow/override.toml (built in)
        sdist: rule 1 (every version)
          build-system: setuptools (the default)
          build-inputs: libjpeg
        wheel: rule 1 (every version)
          build-inputs: libjpeg
        ");
    }

    #[test]
    fn a_package_without_an_entry() {
        insta::assert_snapshot!(render(&db(), "flask", Some(&v("3.0.0"))), @r"
        flask 3.0.0: no entry in the override database
        sdist: no rule: built with setuptools
        wheel: no rule
        ");
    }

    #[test]
    fn arguments_are_checked() {
        let reporter = Reporter::new(true, false);
        let args = OverridesShowArgs {
            package: "Zope.Interface".to_string(),
            version: Some("1.0".to_string()),
            overrides: Some(PathBuf::from("x")),
            allow_outside_paths: false,
        };
        let settings = ShowSettings::from_args(args, &reporter).unwrap();
        assert_eq!(settings.name, "zope-interface");
        let bad = OverridesShowArgs {
            package: "x".to_string(),
            version: Some("one".to_string()),
            overrides: Some(PathBuf::from("x")),
            allow_outside_paths: false,
        };
        let error = ShowSettings::from_args(bad, &reporter)
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("`--version one` is not a PEP 440 version"),
            "{error}"
        );
    }
}
