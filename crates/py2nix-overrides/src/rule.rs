//! One `override.toml`: its TOML wire form (the source of the JSON Schema), the checked
//! [`Rule`] and the checks that need only the file itself.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use pep440_rs::{Operator, Version, VersionSpecifiers};
use serde::Deserialize;

/// The schema version this py2nix reads.
pub const SCHEMA_VERSION: u32 = 1;

/// An `override.toml`: the build facts of one package that its lock file does not say.
#[derive(Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[cfg_attr(
    test,
    schemars(
        title = "py2nix override.toml",
        description = "One entry of py2nix's override database: \
                       `overrides/<shard>/<name>/override.toml` (see overrides/README.md)."
    )
)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct OverrideFileWire {
    /// The format version; must be 1.
    #[cfg_attr(test, schemars(range(min = 1, max = 1)))]
    pub schema_version: u32,
    /// Free text about the entry, shown by `py2nix overrides show`.
    pub note: Option<String>,
    /// The rules, newest versions first; for each artifact kind (sdist, wheel) at most one
    /// rule may match a version.
    #[cfg_attr(test, schemars(length(min = 1)))]
    pub rule: Vec<RuleWire>,
}

/// One `[[rule]]`.
#[derive(Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct RuleWire {
    /// PEP 440 version specifiers (`">=1.26"`, `">=2,<3"`, `"==1.4.*"`); omitted: every
    /// version. `===` and local version labels are refused.
    pub versions: Option<String>,
    /// Which files the rule is for: `"sdist"` (built from source; the default), `"wheel"`
    /// (binary wheels) or `"any"` (both).
    #[serde(default)]
    pub applies_to: AppliesTo,
    /// sdists only: the PEP 517 build backend and build requirements, as normalised names in
    /// nixpkgs' Python package set (`python3.pkgs.<name>`). Empty: `setuptools`.
    #[serde(default)]
    #[cfg_attr(test, schemars(inner(regex(pattern = NORMALIZED_NAME_PATTERN))))]
    pub build_system: Vec<String>,
    /// sdists only: PEP 508 build requirements (`"setuptools>=61"`, `"cython<3; python_version
    /// < '3.13'"`) added to what the sdist's `[build-system] requires` says when py2nix
    /// discovers its build system, or replacing it with `build-requires-replace = true`.
    /// Direct references (`name @ url`) are refused.
    #[serde(default)]
    #[cfg_attr(test, schemars(inner(length(min = 1))))]
    pub build_requires: Vec<String>,
    /// sdists only: `build-requires` replaces the sdist's own `[build-system] requires`
    /// instead of adding to it. Needs `build-requires`.
    #[serde(default)]
    pub build_requires_replace: bool,
    /// nixpkgs attribute paths of tools run at build time (`nativeBuildInputs`).
    #[serde(default)]
    #[cfg_attr(test, schemars(inner(regex(pattern = ATTRIBUTE_PATH_PATTERN))))]
    pub native_build_inputs: Vec<String>,
    /// nixpkgs attribute paths of libraries linked against (`buildInputs`).
    #[serde(default)]
    #[cfg_attr(test, schemars(inner(regex(pattern = ATTRIBUTE_PATH_PATTERN))))]
    pub build_inputs: Vec<String>,
    /// nixpkgs attribute paths needed at run time (`propagatedBuildInputs`), such as a
    /// library the package loads with `dlopen`.
    #[serde(default)]
    #[cfg_attr(test, schemars(inner(regex(pattern = ATTRIBUTE_PATH_PATTERN))))]
    pub propagated_build_inputs: Vec<String>,
    /// Environment variables of the build (`NAME = "value"`).
    #[serde(default)]
    #[cfg_attr(
        test,
        schemars(extend("propertyNames" = {
            "pattern": ENV_NAME_PATTERN,
            "not": { "enum": DERIVATION_ARGUMENT_NAMES }
        }))
    )]
    pub env: BTreeMap<String, String>,
    /// sdists only: patch files beside this `override.toml`, applied in order (`patches`).
    #[serde(default)]
    #[cfg_attr(test, schemars(inner(regex(pattern = PATCH_NAME_PATTERN))))]
    pub patches: Vec<String>,
    /// sdists only: arguments for the PEP 517 frontend (`pypaBuildFlags`), such as
    /// `"-Csetup-args=-Dsystem-freetype=true"`; no whitespace (nixpkgs splits the flags there).
    #[serde(default)]
    #[cfg_attr(test, schemars(inner(regex(pattern = BUILD_FLAG_PATTERN))))]
    pub build_flags: Vec<String>,
    /// wheels only (`applies-to` `"wheel"` or `"any"`): shared libraries the wheel's ELF
    /// files need, by soname, to the nixpkgs attribute path providing them.
    #[serde(default)]
    #[cfg_attr(
        test,
        schemars(extend(
            "propertyNames" = { "pattern": SONAME_PATTERN },
            "additionalProperties" = { "type": "string", "pattern": ATTRIBUTE_PATH_PATTERN }
        ))
    )]
    pub sonames: BTreeMap<String, String>,
    /// wheels only: sonames the wheel's ELF files need that may stay missing, because only an
    /// optional part of the wheel needs them (a plugin loaded on request, such as
    /// onnxruntime-gpu's TensorRT provider) and nixpkgs has no package giving them: left
    /// unresolved at build time (`autoPatchelfIgnoreMissingDeps`), not reported as unknown.
    #[serde(default)]
    #[cfg_attr(test, schemars(inner(regex(pattern = SONAME_PATTERN))))]
    pub ignore_missing: Vec<String>,
    /// wheels only: Python packages whose wheels' library directories the wheel opens at
    /// run time (`dlopen`) through RUNPATH entries relative to its own directory
    /// (`$ORIGIN/../nvidia/cublas/lib`), which cannot reach another derivation: each one in
    /// the package's dependency closure has its library directories appended to the wheel's
    /// RUNPATH (`appendRunpaths`). Names as in the lock (`nvidia-cublas-cu12`).
    #[serde(default)]
    #[cfg_attr(test, schemars(inner(regex(pattern = NORMALIZED_NAME_PATTERN))))]
    pub runpath_packages: Vec<String>,
}

/// The JSON Schema forms of the checks below (documentation for editors; the loader checks
/// with the functions).
#[cfg(test)]
const NORMALIZED_NAME_PATTERN: &str = "^[a-z0-9]+(-[a-z0-9]+)*$";
#[cfg(test)]
const ATTRIBUTE_PATH_PATTERN: &str = "^[A-Za-z_][A-Za-z0-9_'-]*(\\.[A-Za-z_][A-Za-z0-9_'-]*)*$";
#[cfg(test)]
const ENV_NAME_PATTERN: &str = "^[A-Za-z_][A-Za-z0-9_]*$";
#[cfg(test)]
const BUILD_FLAG_PATTERN: &str = "^[^\\s]+$";
#[cfg(test)]
const PATCH_NAME_PATTERN: &str = "^[A-Za-z0-9_+-][A-Za-z0-9._+-]*$";
#[cfg(test)]
const SONAME_PATTERN: &str = "^[^/\\s]+\\.so(\\.[0-9]+)*$";

/// Which files a rule is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum AppliesTo {
    /// Packages built from source (an sdist, or a git or local tree).
    #[default]
    Sdist,
    /// Binary wheels.
    Wheel,
    /// Both.
    Any,
}

impl AppliesTo {
    /// Whether a rule with this `applies-to` is for files of `kind`.
    pub fn covers(self, kind: ArtifactKind) -> bool {
        matches!(
            (self, kind),
            (AppliesTo::Any, _)
                | (AppliesTo::Sdist, ArtifactKind::Sdist)
                | (AppliesTo::Wheel, ArtifactKind::Wheel)
        )
    }

    /// The TOML spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AppliesTo::Sdist => "sdist",
            AppliesTo::Wheel => "wheel",
            AppliesTo::Any => "any",
        }
    }
}

/// What a package is built from, for [`crate::OverrideDb::lookup`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ArtifactKind {
    /// From source: an sdist, or a git or local source tree.
    Sdist,
    /// A binary wheel.
    Wheel,
}

impl ArtifactKind {
    /// Both kinds, sdist first.
    pub const ALL: [ArtifactKind; 2] = [ArtifactKind::Sdist, ArtifactKind::Wheel];

    /// `sdist` or `wheel`.
    pub fn as_str(self) -> &'static str {
        match self {
            ArtifactKind::Sdist => "sdist",
            ArtifactKind::Wheel => "wheel",
        }
    }
}

impl std::fmt::Display for ArtifactKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One checked rule: what to add to a package's build at the versions it covers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rule {
    /// The versions this rule covers; `None` covers all.
    pub versions: Option<VersionSpecifiers>,
    /// Which files the rule is for.
    pub applies_to: AppliesTo,
    /// PEP 517 build backend and build requirements, as names of packages in nixpkgs'
    /// Python package set (`setuptools`, `poetry-core`, `meson-python`). Sdists only.
    pub build_system: Vec<String>,
    /// PEP 508 build requirements for build-system discovery, as written (checked). Sdists
    /// only.
    pub build_requires: Vec<String>,
    /// Whether [`Rule::build_requires`] replaces the sdist's own requirements rather than
    /// adding to them.
    pub build_requires_replace: bool,
    /// nixpkgs attribute paths of tools run at build time (`pkg-config`, `gfortran`).
    pub native_build_inputs: Vec<String>,
    /// nixpkgs attribute paths of libraries linked against (`zlib`, `xorg.libxcb`).
    pub build_inputs: Vec<String>,
    /// nixpkgs attribute paths needed at run time (`propagatedBuildInputs`).
    pub propagated_build_inputs: Vec<String>,
    /// Environment variables of the build.
    pub env: BTreeMap<String, String>,
    /// Patch file names, beside the entry's `override.toml` ([`crate::Entry::patches`] has
    /// their text). Sdists only.
    pub patches: Vec<String>,
    /// Arguments for the PEP 517 frontend (`pypaBuildFlags`). Sdists only.
    pub build_flags: Vec<String>,
    /// Soname to nixpkgs attribute path, for the libraries a wheel's ELF files need. Wheels
    /// only.
    pub sonames: BTreeMap<String, String>,
    /// Sonames a wheel needs that may stay missing (an optional plugin's). Wheels only.
    pub ignore_missing: Vec<String>,
    /// Packages whose wheels' library directories join the wheel's RUNPATH when they are in
    /// its dependency closure (libraries it opens at run time). Wheels only.
    pub runpath_packages: Vec<String>,
}

impl Rule {
    /// Whether this rule covers `version` (and [`Rule::applies_to`] aside).
    pub fn covers_version(&self, version: &Version) -> bool {
        match &self.versions {
            Some(specifiers) => specifiers_contain(specifiers, version),
            None => true,
        }
    }

    /// Every nixpkgs attribute path the rule names, with its key: the input lists, then the
    /// `sonames` values.
    pub fn attribute_paths(&self) -> impl Iterator<Item = (&'static str, &str)> {
        let lists = [
            ("native-build-inputs", &self.native_build_inputs),
            ("build-inputs", &self.build_inputs),
            ("propagated-build-inputs", &self.propagated_build_inputs),
        ];
        lists
            .into_iter()
            .flat_map(|(key, list)| list.iter().map(move |name| (key, name.as_str())))
            .chain(self.sonames.values().map(|name| ("sonames", name.as_str())))
    }
}

/// PEP 440 matching, with the candidate's release padded with zeros to the longest release
/// in `specifiers`: pep440_rs compares a `==X.Y.*` prefix only as far as the candidate's
/// release goes (so `1` would match `==1.4.*`); padding gives PEP 440's meaning (`1` is
/// `1.0`), which [`crate::ranges`] models.
pub(crate) fn specifiers_contain(specifiers: &VersionSpecifiers, version: &Version) -> bool {
    let longest = specifiers
        .iter()
        .map(|specifier| specifier.version().release().len())
        .max()
        .unwrap_or(0);
    if version.release().len() >= longest {
        return specifiers.contains(version);
    }
    let mut release = version.release().to_vec();
    release.resize(longest, 0);
    specifiers.contains(&version.clone().with_release(release))
}

/// A parsed file: its note and rules, with each rule's `versions` as written (for messages).
pub(crate) struct ParsedFile {
    pub note: Option<String>,
    pub rules: Vec<Rule>,
    pub versions_text: Vec<Option<String>>,
}

/// Parses and checks one `override.toml` on its own; `Err` holds every problem found.
pub(crate) fn parse_file(text: &str) -> Result<ParsedFile, Vec<String>> {
    let wire: OverrideFileWire = toml::from_str(text).map_err(|e| vec![e.to_string()])?;
    if wire.schema_version != SCHEMA_VERSION {
        return Err(vec![format!(
            "schema-version {} is not {SCHEMA_VERSION}",
            wire.schema_version
        )]);
    }
    if wire.rule.is_empty() {
        return Err(vec!["no [[rule]]".to_string()]);
    }
    let mut problems = Vec::new();
    if wire
        .note
        .as_deref()
        .is_some_and(|note| note.trim().is_empty())
    {
        problems.push("note is empty".to_string());
    }
    let mut rules = Vec::new();
    let mut versions_text = Vec::new();
    for (index, rule) in wire.rule.into_iter().enumerate() {
        versions_text.push(rule.versions.clone());
        let mut rule_problems = Vec::new();
        let converted = convert_rule(rule, &mut rule_problems);
        problems.extend(
            rule_problems
                .into_iter()
                .map(|problem| format!("rule {}: {problem}", index + 1)),
        );
        rules.push(converted);
    }
    if problems.is_empty() {
        Ok(ParsedFile {
            note: wire.note,
            rules,
            versions_text,
        })
    } else {
        Err(problems)
    }
}

fn convert_rule(wire: RuleWire, problems: &mut Vec<String>) -> Rule {
    let versions = wire.versions.as_deref().and_then(|text| {
        parse_versions(text)
            .map_err(|problem| problems.push(format!("versions `{text}`: {problem}")))
            .ok()
    });
    for name in &wire.build_system {
        if !is_normalized(name) {
            problems.push(format!(
                "build-system `{name}` is not a normalised package name"
            ));
        }
    }
    let lists = [
        ("build-system", &wire.build_system),
        ("build-requires", &wire.build_requires),
        ("native-build-inputs", &wire.native_build_inputs),
        ("build-inputs", &wire.build_inputs),
        ("propagated-build-inputs", &wire.propagated_build_inputs),
        ("patches", &wire.patches),
        ("build-flags", &wire.build_flags),
        ("ignore-missing", &wire.ignore_missing),
        ("runpath-packages", &wire.runpath_packages),
    ];
    for (key, list) in lists {
        let mut seen = BTreeSet::new();
        for item in list {
            if !seen.insert(item) {
                problems.push(format!("{key} lists `{item}` twice"));
            }
        }
    }
    let attribute_paths = wire
        .native_build_inputs
        .iter()
        .chain(&wire.build_inputs)
        .chain(&wire.propagated_build_inputs)
        .chain(wire.sonames.values());
    for attr in attribute_paths {
        if !is_attribute_path(attr) {
            problems.push(format!("`{attr}` is not a nixpkgs attribute path"));
        }
    }
    for requirement in &wire.build_requires {
        if let Err(problem) = check_requirement(requirement) {
            problems.push(format!("build-requires `{requirement}`: {problem}"));
        }
    }
    if wire.build_requires_replace && wire.build_requires.is_empty() {
        problems.push(
            "build-requires-replace is set, but build-requires is empty: list the requirements \
             that replace the sdist's"
                .to_string(),
        );
    }
    for name in wire.env.keys() {
        if !is_env_name(name) {
            problems.push(format!(
                "env `{name}` is not an environment variable name ([A-Za-z_][A-Za-z0-9_]*)"
            ));
        } else if DERIVATION_ARGUMENT_NAMES.contains(&name.as_str()) {
            problems.push(format!(
                "env `{name}` is also an argument of the package's derivation, and nixpkgs' \
                 mkDerivation refuses an `env` entry of such a name: choose another variable"
            ));
        }
    }
    for patch in &wire.patches {
        if !is_patch_name(patch) {
            problems.push(format!(
                "patches `{patch}` is not the name of a file beside override.toml"
            ));
        }
    }
    for flag in &wire.build_flags {
        if flag.trim().is_empty() || flag.contains('\n') {
            problems.push(format!("build-flags `{flag}` is empty or spans lines"));
        } else if flag.chars().any(|c| c.is_ascii_whitespace()) {
            problems.push(format!(
                "build-flags `{flag}` holds whitespace, where nixpkgs' pypa build hook splits \
                 `pypaBuildFlags`: give each argument as a flag of its own"
            ));
        }
    }
    for soname in wire.sonames.keys() {
        if !is_soname(soname) {
            problems.push(format!(
                "sonames `{soname}` is not a shared library's soname (`libz.so.1`)"
            ));
        }
    }
    for soname in &wire.ignore_missing {
        if !is_soname(soname) {
            problems.push(format!(
                "ignore-missing `{soname}` is not a shared library's soname (`libz.so.1`)"
            ));
        } else if wire.sonames.contains_key(soname) {
            problems.push(format!(
                "ignore-missing `{soname}` is also mapped in sonames: keep one of the two"
            ));
        }
    }
    for name in &wire.runpath_packages {
        if !is_normalized(name) {
            problems.push(format!(
                "runpath-packages `{name}` is not a normalized package name (`nvidia-cublas-cu12`)"
            ));
        }
    }
    let wheel_only = [
        ("sonames", wire.sonames.is_empty()),
        ("ignore-missing", wire.ignore_missing.is_empty()),
        ("runpath-packages", wire.runpath_packages.is_empty()),
    ];
    match wire.applies_to {
        AppliesTo::Wheel => {
            let sdist_only = [
                ("build-system", wire.build_system.is_empty()),
                ("build-requires", wire.build_requires.is_empty()),
                ("build-requires-replace", !wire.build_requires_replace),
                ("patches", wire.patches.is_empty()),
                ("build-flags", wire.build_flags.is_empty()),
            ];
            for (key, empty) in sdist_only {
                if !empty {
                    problems.push(format!(
                        "{key} is for builds from source, but the rule applies to wheels only"
                    ));
                }
            }
            let says_nothing = wire.native_build_inputs.is_empty()
                && wire.build_inputs.is_empty()
                && wire.propagated_build_inputs.is_empty()
                && wire.env.is_empty()
                && wheel_only.iter().all(|(_, empty)| *empty);
            if says_nothing {
                problems.push("the rule applies to wheels but adds nothing".to_string());
            }
        }
        AppliesTo::Sdist => {
            for (key, empty) in wheel_only {
                if !empty {
                    problems.push(format!(
                        "{key} is for wheels: set `applies-to = \"wheel\"` or `\"any\"`"
                    ));
                }
            }
        }
        AppliesTo::Any => {}
    }
    Rule {
        versions,
        applies_to: wire.applies_to,
        build_system: wire.build_system,
        build_requires: wire.build_requires,
        build_requires_replace: wire.build_requires_replace,
        native_build_inputs: wire.native_build_inputs,
        build_inputs: wire.build_inputs,
        propagated_build_inputs: wire.propagated_build_inputs,
        env: wire.env,
        patches: wire.patches,
        build_flags: wire.build_flags,
        sonames: wire.sonames,
        ignore_missing: wire.ignore_missing,
        runpath_packages: wire.runpath_packages,
    }
}

/// PEP 440 specifiers that the range checks can model: no `===`, no local version labels.
fn parse_versions(text: &str) -> Result<VersionSpecifiers, String> {
    let specifiers = VersionSpecifiers::from_str(text).map_err(|e| e.to_string())?;
    for specifier in specifiers.iter() {
        #[allow(deprecated)]
        if *specifier.operator() == Operator::ExactEqual {
            return Err("`===` is not supported".to_string());
        }
        if specifier.version().is_local() {
            return Err("local version labels (`+…`) are not supported".to_string());
        }
    }
    Ok(specifiers)
}

/// A PEP 508 requirement on a package by name (with optional extras, version specifiers and
/// marker), not a direct reference. pep508_rs 0.9 panics on some inputs (non-ASCII text, a
/// name ending in `-`, `_` or `.` followed by more text): those are refused before it sees
/// them, and a panic is caught all the same.
pub(crate) fn check_requirement(text: &str) -> Result<(), String> {
    if text.trim().is_empty() || text.contains('\n') || text.contains('\r') {
        return Err("a requirement is one non-empty line".to_string());
    }
    if !text.is_ascii() {
        return Err("py2nix reads only ASCII requirements".to_string());
    }
    let trimmed = text.trim_start();
    let name_end = trimmed
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')))
        .unwrap_or(trimmed.len());
    let name = &trimmed[..name_end];
    if name.is_empty() || name.ends_with(['.', '-', '_']) || name.starts_with(['.', '-', '_']) {
        return Err("it does not start with a package name".to_string());
    }
    let owned = text.to_string();
    let parsed = std::panic::catch_unwind(move || {
        pep508_rs::Requirement::<pep508_rs::VerbatimUrl>::from_str(&owned)
            .map(|requirement| requirement.version_or_url)
            .map_err(|e| e.to_string())
    })
    .map_err(|_| "the PEP 508 parser failed on it".to_string())??;
    match parsed {
        Some(pep508_rs::VersionOrUrl::Url(_)) => Err(
            "a direct reference (`name @ url`) cannot be planned; name a version range".to_string(),
        ),
        _ => Ok(()),
    }
}

/// A PEP 503 normalised name: lower-case letters, digits and single inner `-`.
pub(crate) fn is_normalized(name: &str) -> bool {
    py2nix_dist::is_normalized(name)
}

/// A dotted path of Nix identifiers, such as `xorg.libxcb` or `python3Packages.tkinter`.
pub(crate) fn is_attribute_path(path: &str) -> bool {
    path.split('.').all(|part| {
        let mut chars = part.chars();
        matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '\''))
    })
}

/// The arguments a package of python.nix passes to its derivation (nixpkgs' mkDerivation and
/// buildPythonPackage add most of them, python.nix the rest), as the real code's `drvAttrs`
/// show them on Linux and Darwin. mkDerivation throws on an `env` entry of one of these names
/// ("The `env` attribute set cannot contain any attributes passed to derivation").
pub(crate) const DERIVATION_ARGUMENT_NAMES: &[&str] = &[
    "LANG",
    "__darwinAllowLocalNetworking",
    "__ignoreNulls",
    "__impureHostDeps",
    "__propagatedImpureHostDeps",
    "__propagatedSandboxProfile",
    "__sandboxProfile",
    "__structuredAttrs",
    "args",
    "buildInputs",
    "builder",
    "cargoDeps",
    "cargoRoot",
    "catchConflicts",
    "cmakeFlags",
    "configureFlags",
    "depsBuildBuild",
    "depsBuildBuildPropagated",
    "depsBuildTarget",
    "depsBuildTargetPropagated",
    "depsHostHost",
    "depsHostHostPropagated",
    "depsTargetTarget",
    "depsTargetTargetPropagated",
    "disallowedReferences",
    "doCheck",
    "doInstallCheck",
    "dontCheckRuntimeDeps",
    "dontWrapPythonPrograms",
    "mesonFlags",
    "name",
    "nativeBuildInputs",
    "outputs",
    "patches",
    "pname",
    "postFixup",
    "postUnpack",
    "propagatedBuildInputs",
    "propagatedNativeBuildInputs",
    "pypaBuildFlags",
    "src",
    "stdenv",
    "strictDeps",
    "system",
    "unpackPhase",
    "userHook",
    "version",
];

fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A plain file name (no directory), not hidden and not `override.toml` itself.
fn is_patch_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name != "override.toml"
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+'))
}

pub(crate) fn is_soname(name: &str) -> bool {
    if name.contains('/') || name.chars().any(char::is_whitespace) {
        return false;
    }
    let Some((stem, numbers)) = name.split_once(".so") else {
        return false;
    };
    !stem.is_empty()
        && (numbers.is_empty()
            || numbers.strip_prefix('.').is_some_and(|rest| {
                rest.split('.')
                    .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sonames_and_patch_names() {
        for good in [
            "libz.so.1",
            "libstdc++.so.6",
            "ld-linux-x86-64.so.2",
            "libfoo.so",
        ] {
            assert!(is_soname(good), "{good}");
        }
        for bad in ["libz", "lib/z.so.1", "libz.so.1a", ".so.1", "libz.so."] {
            assert!(!is_soname(bad), "{bad}");
        }
        assert!(is_patch_name("fix-build.patch"));
        for bad in ["../x.patch", "a/b.patch", ".hidden", "override.toml", ""] {
            assert!(!is_patch_name(bad), "{bad}");
        }
    }

    #[test]
    fn build_requirements_are_pep_508_by_name() {
        for good in [
            "setuptools>=61",
            "cython<3",
            "setuptools_scm[toml]>=6.2",
            "numpy>=2; python_version >= '3.9'",
            "wheel",
        ] {
            assert_eq!(check_requirement(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "pkg @ https://example.org/pkg.tar.gz",
            "six->=1",
            "caf\u{e9}>=1",
            ">=1",
            "a\nb",
            "setuptools>=>",
        ] {
            assert!(check_requirement(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn build_requires_keys_are_checked_with_the_rule() {
        let parsed = parse_file(
            "schema-version = 1\n[[rule]]\nbuild-requires = [\"cython<3\"]\n\
             build-requires-replace = true\n",
        )
        .map_err(|p| p.join("; "))
        .unwrap();
        assert_eq!(parsed.rules[0].build_requires, ["cython<3"]);
        assert!(parsed.rules[0].build_requires_replace);
        let problems = |text: &str| parse_file(text).err().unwrap_or_default().join("; ");
        assert_eq!(
            problems("schema-version = 1\n[[rule]]\nbuild-requires-replace = true\n"),
            "rule 1: build-requires-replace is set, but build-requires is empty: list the \
             requirements that replace the sdist's"
        );
        assert_eq!(
            problems(
                "schema-version = 1\n[[rule]]\napplies-to = \"wheel\"\nbuild-inputs = [\"zlib\"]\n\
                 build-requires = [\"cython\"]\n"
            ),
            "rule 1: build-requires is for builds from source, but the rule applies to wheels only"
        );
        assert_eq!(
            problems("schema-version = 1\n[[rule]]\nbuild-requires = [\"a\", \"a\", \"b @ file:///x\"]\n"),
            "rule 1: build-requires lists `a` twice; rule 1: build-requires `b @ file:///x`: a \
             direct reference (`name @ url`) cannot be planned; name a version range"
        );
    }

    #[test]
    fn env_names_of_derivation_arguments_and_build_flags_with_whitespace_are_refused() {
        let problems = |text: &str| parse_file(text).err().unwrap_or_default().join("; ");
        assert_eq!(
            problems(
                "schema-version = 1\n[[rule]]\nenv = { OK_NAME = \"1\", LANG = \"C\" }\n\
                 [[rule]]\napplies-to = \"wheel\"\nversions = \"<1\"\nenv = { src = \"x\" }\n"
            ),
            "rule 1: env `LANG` is also an argument of the package's derivation, and nixpkgs' \
             mkDerivation refuses an `env` entry of such a name: choose another variable; \
             rule 2: env `src` is also an argument of the package's derivation, and nixpkgs' \
             mkDerivation refuses an `env` entry of such a name: choose another variable"
        );
        assert_eq!(
            problems(
                "schema-version = 1\n[[rule]]\nbuild-flags = [\"-Cok=1\", \"-Csetup-args=-Dx=a b\", \"-Cy=\\t1\"]\n"
            ),
            "rule 1: build-flags `-Csetup-args=-Dx=a b` holds whitespace, where nixpkgs' pypa \
             build hook splits `pypaBuildFlags`: give each argument as a flag of its own; \
             rule 1: build-flags `-Cy=\t1` holds whitespace, where nixpkgs' pypa build hook \
             splits `pypaBuildFlags`: give each argument as a flag of its own"
        );
        // What mkDerivation accepts passes: names of the build's own variables.
        assert_eq!(
            problems(
                "schema-version = 1\n[[rule]]\nenv = { dontUseCmakeConfigure = \"1\", LANG_X = \"1\" }\n\
                 build-flags = [\"-Csetup-args=-Dx=a\"]\n"
            ),
            ""
        );
        let mut sorted = DERIVATION_ARGUMENT_NAMES.to_vec();
        sorted.sort_unstable();
        assert_eq!(sorted, DERIVATION_ARGUMENT_NAMES);
    }

    #[test]
    fn short_releases_match_star_specifiers_as_pep_440_says() {
        let star: VersionSpecifiers = "==1.4.*".parse().unwrap();
        let one: Version = "1".parse().unwrap();
        // pep440_rs alone would say yes (it compares `1` with `1.4` only as far as `1`).
        assert!(!specifiers_contain(&star, &one));
        assert!(specifiers_contain(&star, &"1.4".parse().unwrap()));
        assert!(specifiers_contain(&"==1.0.*".parse().unwrap(), &one));
        assert!(!specifiers_contain(&"!=1.0.*".parse().unwrap(), &one));
    }
}
