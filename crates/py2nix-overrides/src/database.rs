//! The database model, its TOML wire form and the layout checks.

use std::collections::BTreeMap;
use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifiers};
use serde::Deserialize;

/// The schema version this py2nix reads.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct OverrideFileWire {
    schema_version: u32,
    #[serde(default)]
    rule: Vec<RuleWire>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct RuleWire {
    versions: Option<String>,
    #[serde(default)]
    build_system: Vec<String>,
    #[serde(default)]
    native_build_inputs: Vec<String>,
    #[serde(default)]
    build_inputs: Vec<String>,
}

/// What to add when a package is built from its sdist.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rule {
    /// The versions this rule covers; `None` covers all.
    pub versions: Option<VersionSpecifiers>,
    /// PEP 517 build backend and build requirements, as names of packages in nixpkgs'
    /// Python package set (`setuptools`, `poetry-core`, `meson-python`).
    pub build_system: Vec<String>,
    /// nixpkgs attribute paths of tools run at build time (`pkg-config`, `gfortran`).
    pub native_build_inputs: Vec<String>,
    /// nixpkgs attribute paths of libraries linked against (`zlib`, `xorg.libxcb`).
    pub build_inputs: Vec<String>,
}

/// A problem with one file of the database.
#[derive(Debug, thiserror::Error)]
pub enum OverrideError {
    #[error("`overrides/{path}`: {message}")]
    File { path: String, message: String },
}

fn file_error(path: &str, message: impl Into<String>) -> OverrideError {
    OverrideError::File {
        path: path.to_string(),
        message: message.into(),
    }
}

/// The loaded database: normalised package name to its rules, in file order.
#[derive(Debug, Clone, Default)]
pub struct OverrideDb {
    packages: BTreeMap<String, Vec<Rule>>,
}

impl OverrideDb {
    /// Loads the database from `(path relative to overrides/, text)` pairs, checking the layout:
    /// every file lies in its package's directory, the directory name is normalised and in the
    /// right shard, and each package has an `override.toml`. Other files (patches) may sit
    /// beside it.
    pub fn from_files<I, P, T>(files: I) -> Result<OverrideDb, OverrideError>
    where
        I: IntoIterator<Item = (P, T)>,
        P: AsRef<str>,
        T: AsRef<str>,
    {
        let mut packages = BTreeMap::new();
        let mut directories = BTreeMap::new();
        for (path, text) in files {
            let path = path.as_ref().replace('\\', "/");
            // Documentation beside the entries (README.md, NIXPKGS-ATTRIBUTES.md).
            if !path.contains('/') && path.ends_with(".md") {
                continue;
            }
            let (name, file) = check_location(&path)?;
            directories.entry(name.clone()).or_insert(false);
            if file == "override.toml" {
                packages.insert(name.clone(), parse_rules(&path, text.as_ref())?);
                directories.insert(name, true);
            }
        }
        if let Some((name, _)) = directories.iter().find(|(_, has_file)| !**has_file) {
            return Err(file_error(
                &format!("{}/{name}", shard(name)),
                "directory has no override.toml",
            ));
        }
        Ok(OverrideDb { packages })
    }

    /// The rule for `name` (PEP 503 normalised) at `version`, if any.
    pub fn lookup(&self, name: &str, version: &Version) -> Option<&Rule> {
        self.packages
            .get(name)?
            .iter()
            .find(|rule| match &rule.versions {
                Some(specifiers) => specifiers.contains(version),
                None => true,
            })
    }

    /// Whether the database has an entry for `name` at all.
    pub fn contains(&self, name: &str) -> bool {
        self.packages.contains_key(name)
    }

    /// The number of packages with an entry.
    pub fn len(&self) -> usize {
        self.packages.len()
    }

    /// Whether the database is empty.
    pub fn is_empty(&self) -> bool {
        self.packages.is_empty()
    }

    /// Every entry, by package name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[Rule])> {
        self.packages
            .iter()
            .map(|(name, rules)| (name.as_str(), rules.as_slice()))
    }
}

/// The shard directory of a package: its first two characters.
pub fn shard(name: &str) -> String {
    name.chars().take(2).collect()
}

fn check_location(path: &str) -> Result<(String, String), OverrideError> {
    let parts: Vec<&str> = path.split('/').collect();
    let [shard_dir, name, file] = parts.as_slice() else {
        return Err(file_error(path, "files belong in `<shard>/<package>/`"));
    };
    if !is_normalized(name) {
        return Err(file_error(
            path,
            format!("directory `{name}` is not a PEP 503 normalised name"),
        ));
    }
    if *shard_dir != shard(name) {
        return Err(file_error(
            path,
            format!("`{name}` belongs in shard `{}`", shard(name)),
        ));
    }
    Ok((name.to_string(), file.to_string()))
}

fn is_normalized(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--")
}

fn parse_rules(path: &str, text: &str) -> Result<Vec<Rule>, OverrideError> {
    let wire: OverrideFileWire =
        toml::from_str(text).map_err(|e| file_error(path, e.to_string()))?;
    if wire.schema_version != SCHEMA_VERSION {
        return Err(file_error(
            path,
            format!(
                "schema-version {} is not {SCHEMA_VERSION}",
                wire.schema_version
            ),
        ));
    }
    if wire.rule.is_empty() {
        return Err(file_error(path, "no [[rule]]"));
    }
    wire.rule
        .into_iter()
        .map(|rule| convert_rule(path, rule))
        .collect()
}

fn convert_rule(path: &str, wire: RuleWire) -> Result<Rule, OverrideError> {
    let versions = wire
        .versions
        .as_deref()
        .map(VersionSpecifiers::from_str)
        .transpose()
        .map_err(|e| file_error(path, format!("versions: {e}")))?;
    for name in &wire.build_system {
        if !is_normalized(name) {
            return Err(file_error(
                path,
                format!("build-system `{name}` is not a normalised package name"),
            ));
        }
    }
    for attr in wire.native_build_inputs.iter().chain(&wire.build_inputs) {
        if !is_attribute_path(attr) {
            return Err(file_error(
                path,
                format!("`{attr}` is not a nixpkgs attribute path"),
            ));
        }
    }
    Ok(Rule {
        versions,
        build_system: wire.build_system,
        native_build_inputs: wire.native_build_inputs,
        build_inputs: wire.build_inputs,
    })
}

/// A dotted path of Nix identifiers, such as `xorg.libxcb` or `python3Packages.tkinter`.
fn is_attribute_path(path: &str) -> bool {
    path.split('.').all(|part| {
        let mut chars = part.chars();
        matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '\''))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PILLOW: &str = r#"
schema-version = 1
[[rule]]
versions = ">=10"
build-system = ["setuptools"]
native-build-inputs = ["pkg-config"]
build-inputs = ["zlib", "xorg.libxcb"]
[[rule]]
build-system = ["setuptools", "wheel"]
"#;

    #[test]
    fn first_matching_rule_wins() {
        let db = OverrideDb::from_files([("pi/pillow/override.toml", PILLOW)]).unwrap();
        let new = db.lookup("pillow", &"11.1.0".parse().unwrap()).unwrap();
        assert_eq!(new.build_inputs, ["zlib", "xorg.libxcb"]);
        let old = db.lookup("pillow", &"9.5.0".parse().unwrap()).unwrap();
        assert_eq!(old.build_system, ["setuptools", "wheel"]);
        assert!(db.lookup("flask", &"1".parse().unwrap()).is_none());
    }

    fn layout_error(path: &str, text: &str) -> String {
        OverrideDb::from_files([(path, text)])
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn layout_mistakes_are_named() {
        assert_eq!(
            layout_error("pl/pillow/override.toml", PILLOW),
            "`overrides/pl/pillow/override.toml`: `pillow` belongs in shard `pi`"
        );
        assert_eq!(layout_error("Pi/Pillow/override.toml", PILLOW), "`overrides/Pi/Pillow/override.toml`: directory `Pillow` is not a PEP 503 normalised name");
        assert_eq!(
            layout_error("pillow.toml", PILLOW),
            "`overrides/pillow.toml`: files belong in `<shard>/<package>/`"
        );
        assert_eq!(
            layout_error("pi/pillow/fix.patch", ""),
            "`overrides/pi/pillow`: directory has no override.toml"
        );
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused() {
        let unknown = layout_error(
            "pi/pillow/override.toml",
            "schema-version = 1\n[[rule]]\nbuild_inputs = []\n",
        );
        assert!(
            unknown.contains("unknown field `build_inputs`"),
            "{unknown}"
        );
        let attr = layout_error(
            "pi/pillow/override.toml",
            "schema-version = 1\n[[rule]]\nbuild-inputs = [\"${x}\"]\n",
        );
        assert!(
            attr.ends_with("`${x}` is not a nixpkgs attribute path"),
            "{attr}"
        );
        let schema = layout_error("pi/pillow/override.toml", "schema-version = 2\n[[rule]]\n");
        assert!(schema.ends_with("schema-version 2 is not 1"), "{schema}");
    }
}
