//! uv's locker settings (`[tool.uv]` of the workspace's pyproject.toml files, and what uv.lock
//! records of them) that change what a plan installs and how it builds it.
//!
//! Read from pyproject.toml ([`parse_uv_settings`]): `no-binary`, `no-binary-package`,
//! `no-build`, `no-build-package`, `extra-build-dependencies`, `extra-build-variables`,
//! `config-settings`, `config-settings-package`, `environments`, `required-environments`,
//! `conflicts` and `find-links`. Read from uv.lock (by `parse_uv_lock`, into the lock's
//! project): `conflicts`, `supported-markers` and `required-markers`, which are what uv
//! resolved with and win over pyproject.toml's. Settings of workspace members are merged into
//! the root's ([`UvSettings::merge_member`]): a boolean set differently in two files is an
//! error, lists are joined, and a per-package value given twice differently is an error.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use pep508_rs::{ExtraName, MarkerTree, PackageName};
use serde::Deserialize;

use crate::poetry_lock::parse_marker;
use crate::{normalize_group, LockError};

/// uv's locker settings, checked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UvSettings {
    /// `no-binary = true`: every package is built from its sdist (`None`: not written).
    pub no_binary: Option<bool>,
    pub no_binary_package: BTreeSet<PackageName>,
    /// `no-build = true`: no package is built from source but the project itself (`None`:
    /// not written).
    pub no_build: Option<bool>,
    pub no_build_package: BTreeSet<PackageName>,
    /// Requirements added to a package's build environment (PEP 508 text).
    pub extra_build_dependencies: BTreeMap<PackageName, Vec<String>>,
    /// Environment variables of a package's build.
    pub extra_build_variables: BTreeMap<PackageName, BTreeMap<String, String>>,
    /// PEP 517 config settings of every build: key to its values (a key may repeat).
    pub config_settings: BTreeMap<String, Vec<String>>,
    /// PEP 517 config settings of one package's build, over `config_settings`.
    pub config_settings_package: BTreeMap<PackageName, BTreeMap<String, Vec<String>>>,
    /// The environments the lock supports (`environments`, uv.lock's `supported-markers`);
    /// empty: every environment.
    pub environments: Vec<MarkerTree>,
    /// The marker texts of `environments`, as written (for messages and the plan).
    pub environments_text: Vec<String>,
    /// Environments the lock must have wheels for (`required-environments`,
    /// uv.lock's `required-markers`).
    pub required_environments: Vec<String>,
    /// Sets of extras and groups of which no two may be installed together.
    pub conflicts: Vec<Vec<ConflictItem>>,
    /// `find-links`: directories and URLs of flat lists of files, as written.
    pub find_links: Vec<String>,
}

/// One item of a `conflicts` set: an extra or a group of a package of the workspace (the
/// project when `package` is `None`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ConflictItem {
    pub package: Option<PackageName>,
    pub kind: ConflictKind,
}

/// An extra (normalised) or a dependency group (normalised).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum ConflictKind {
    Extra(ExtraName),
    Group(String),
}

impl std::fmt::Display for ConflictItem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            ConflictKind::Extra(extra) => write!(f, "extra `{extra}`")?,
            ConflictKind::Group(group) => write!(f, "group `{group}`")?,
        }
        if let Some(package) = &self.package {
            write!(f, " of `{package}`")?;
        }
        Ok(())
    }
}

#[derive(Deserialize)]
struct PyprojectWire {
    tool: Option<ToolWire>,
}

#[derive(Deserialize)]
struct ToolWire {
    uv: Option<UvSettingsWire>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
struct UvSettingsWire {
    no_binary: Option<bool>,
    #[serde(default)]
    no_binary_package: Vec<String>,
    no_build: Option<bool>,
    #[serde(default)]
    no_build_package: Vec<String>,
    #[serde(default)]
    extra_build_dependencies: BTreeMap<String, Vec<ExtraBuildDependencyWire>>,
    #[serde(default)]
    extra_build_variables: BTreeMap<String, BTreeMap<String, String>>,
    #[serde(default)]
    config_settings: BTreeMap<String, ConfigValueWire>,
    #[serde(default)]
    config_settings_package: BTreeMap<String, BTreeMap<String, ConfigValueWire>>,
    environments: Option<MarkerListWire>,
    required_environments: Option<MarkerListWire>,
    #[serde(default)]
    conflicts: Vec<Vec<ConflictItemWire>>,
    #[serde(default)]
    find_links: Vec<String>,
}

/// `"setuptools"` or `{ requirement = "setuptools", match-runtime = true }`.
#[derive(Deserialize)]
#[serde(untagged)]
enum ExtraBuildDependencyWire {
    Text(String),
    Table { requirement: String },
}

/// A config setting's value: a string or a list of strings.
#[derive(Deserialize)]
#[serde(untagged)]
enum ConfigValueWire {
    One(String),
    Many(Vec<String>),
}

/// `environments` is one marker or a list of them.
#[derive(Deserialize)]
#[serde(untagged)]
enum MarkerListWire {
    One(String),
    Many(Vec<String>),
}

/// `{ extra = "a" }`, `{ group = "b" }`, with an optional `package`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConflictItemWire {
    package: Option<String>,
    extra: Option<String>,
    group: Option<String>,
}

fn settings_error(key: &str) -> impl Fn(String) -> LockError + '_ {
    move |message| LockError::Project(format!("[tool.uv] {key}: {message}"))
}

fn package_name(text: &str) -> Result<PackageName, String> {
    PackageName::from_str(text).map_err(|e| format!("`{text}`: {e}"))
}

fn names(list: &[String], key: &str) -> Result<BTreeSet<PackageName>, LockError> {
    list.iter()
        .map(|n| package_name(n))
        .collect::<Result<_, _>>()
        .map_err(settings_error(key))
}

fn config_values(map: &BTreeMap<String, ConfigValueWire>) -> BTreeMap<String, Vec<String>> {
    map.iter()
        .map(|(key, value)| {
            let values = match value {
                ConfigValueWire::One(one) => vec![one.clone()],
                ConfigValueWire::Many(many) => many.clone(),
            };
            (key.clone(), values)
        })
        .collect()
}

/// Parses marker texts; `key` names the setting in errors.
pub(crate) fn parse_markers(texts: &[String], key: &str) -> Result<Vec<MarkerTree>, LockError> {
    texts
        .iter()
        .map(|text| parse_marker(text).map_err(|e| format!("`{text}`: {e}")))
        .collect::<Result<_, _>>()
        .map_err(settings_error(key))
}

/// Checks one `conflicts` set (at least two items, each an extra or a group).
pub(crate) fn conflict_set(items: &[ConflictItemWire]) -> Result<Vec<ConflictItem>, String> {
    if items.len() < 2 {
        return Err("a set of conflicts needs at least two items".to_string());
    }
    items
        .iter()
        .map(|item| {
            let package = item.package.as_deref().map(package_name).transpose()?;
            let kind = match (&item.extra, &item.group) {
                (Some(extra), None) => ConflictKind::Extra(
                    ExtraName::from_str(extra).map_err(|e| format!("extra `{extra}`: {e}"))?,
                ),
                (None, Some(group)) => ConflictKind::Group(normalize_group(group)),
                _ => return Err("each item names exactly one of `extra` and `group`".to_string()),
            };
            Ok(ConflictItem { package, kind })
        })
        .collect()
}

/// Reads `[tool.uv]`'s locker settings from a pyproject.toml's text.
///
/// ```
/// let settings = py2nix_lock::parse_uv_settings(
///     "[tool.uv]\nno-binary-package = [\"Pillow\"]\nconfig-settings = { a = \"b\" }\n",
/// ).unwrap();
/// assert!(settings.no_binary_package.contains(&"pillow".parse().unwrap()));
/// assert_eq!(settings.config_settings["a"], ["b"]);
/// assert!(py2nix_lock::parse_uv_settings("[tool.uv]\nno-build = \"yes\"\n").is_err());
/// ```
pub fn parse_uv_settings(text: &str) -> Result<UvSettings, LockError> {
    let wire: PyprojectWire = toml::from_str(text)?;
    let Some(uv) = wire.tool.and_then(|tool| tool.uv) else {
        return Ok(UvSettings::default());
    };
    let mut settings = UvSettings {
        no_binary: uv.no_binary,
        no_binary_package: names(&uv.no_binary_package, "no-binary-package")?,
        no_build: uv.no_build,
        no_build_package: names(&uv.no_build_package, "no-build-package")?,
        config_settings: config_values(&uv.config_settings),
        find_links: uv.find_links,
        ..UvSettings::default()
    };
    for (name, requirements) in &uv.extra_build_dependencies {
        let key = "extra-build-dependencies";
        let name = package_name(name).map_err(settings_error(key))?;
        let texts = requirements
            .iter()
            .map(|r| match r {
                ExtraBuildDependencyWire::Text(text)
                | ExtraBuildDependencyWire::Table { requirement: text } => text.clone(),
            })
            .collect::<Vec<_>>();
        for text in &texts {
            crate::pep508_dependency(text)
                .map_err(|e| format!("`{name}`: `{text}`: {e}"))
                .map_err(settings_error(key))?;
        }
        settings.extra_build_dependencies.insert(name, texts);
    }
    for (name, variables) in &uv.extra_build_variables {
        let name = package_name(name).map_err(settings_error("extra-build-variables"))?;
        settings
            .extra_build_variables
            .insert(name, variables.clone());
    }
    for (name, values) in &uv.config_settings_package {
        let name = package_name(name).map_err(settings_error("config-settings-package"))?;
        settings
            .config_settings_package
            .insert(name, config_values(values));
    }
    let marker_list = |list: Option<MarkerListWire>| match list {
        None => Vec::new(),
        Some(MarkerListWire::One(one)) => vec![one],
        Some(MarkerListWire::Many(many)) => many,
    };
    settings.environments_text = marker_list(uv.environments);
    settings.environments = parse_markers(&settings.environments_text, "environments")?;
    settings.required_environments = marker_list(uv.required_environments);
    parse_markers(&settings.required_environments, "required-environments")?;
    for set in &uv.conflicts {
        settings
            .conflicts
            .push(conflict_set(set).map_err(settings_error("conflicts"))?);
    }
    Ok(settings)
}

impl UvSettings {
    /// Adds a workspace member's settings (from `member`, a file name for messages) to the
    /// root's: `no-binary`/`no-build` set differently are an error (as uv's workspace reader
    /// has it), package lists and conflicts are joined, and a per-package value set twice
    /// differently is an error. `environments` and `required-environments` are the root's.
    pub fn merge_member(&mut self, other: UvSettings, member: &str) -> Result<(), LockError> {
        let conflicting = |key: &str| {
            LockError::Project(format!(
                "{member}: [tool.uv] {key} conflicts with the value another pyproject.toml of the workspace gives it"
            ))
        };
        merge_flag(&mut self.no_binary, other.no_binary).map_err(|_| conflicting("no-binary"))?;
        merge_flag(&mut self.no_build, other.no_build).map_err(|_| conflicting("no-build"))?;
        self.no_binary_package.extend(other.no_binary_package);
        self.no_build_package.extend(other.no_build_package);
        merge_map(
            &mut self.extra_build_dependencies,
            other.extra_build_dependencies,
        )
        .map_err(|_| conflicting("extra-build-dependencies"))?;
        merge_map(&mut self.extra_build_variables, other.extra_build_variables)
            .map_err(|_| conflicting("extra-build-variables"))?;
        merge_map(&mut self.config_settings, other.config_settings)
            .map_err(|_| conflicting("config-settings"))?;
        merge_map(
            &mut self.config_settings_package,
            other.config_settings_package,
        )
        .map_err(|_| conflicting("config-settings-package"))?;
        for set in other.conflicts {
            if !self.conflicts.contains(&set) {
                self.conflicts.push(set);
            }
        }
        for link in other.find_links {
            if !self.find_links.contains(&link) {
                self.find_links.push(link);
            }
        }
        Ok(())
    }

    /// Whether any setting is given.
    pub fn is_empty(&self) -> bool {
        *self == UvSettings::default()
    }

    /// The conflict sets two of whose items `chosen` holds, as the first pair found:
    /// `chosen` is the extras and groups (of the project) a selection turns on.
    pub fn first_conflict<'a>(
        &'a self,
        chosen: &[ConflictItem],
    ) -> Option<(&'a ConflictItem, &'a ConflictItem)> {
        let held = |item: &ConflictItem| {
            chosen.iter().any(|c| {
                c.kind == item.kind
                    && (item.package.is_none() || c.package.is_none() || c.package == item.package)
            })
        };
        for set in &self.conflicts {
            let on: Vec<&ConflictItem> = set.iter().filter(|item| held(item)).collect();
            if let [first, second, ..] = on.as_slice() {
                return Some((first, second));
            }
        }
        None
    }
}

/// A flag one file sets and another sets differently is an error; one not written is taken.
fn merge_flag(into: &mut Option<bool>, other: Option<bool>) -> Result<(), ()> {
    match (*into, other) {
        (Some(a), Some(b)) if a != b => Err(()),
        (None, Some(b)) => {
            *into = Some(b);
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Inserts `other`'s entries; an entry already present with another value is an error.
fn merge_map<K: Ord, V: PartialEq>(
    into: &mut BTreeMap<K, V>,
    other: BTreeMap<K, V>,
) -> Result<(), ()> {
    for (key, value) in other {
        match into.get(&key) {
            Some(existing) if *existing != value => return Err(()),
            Some(_) => {}
            None => {
                into.insert(key, value);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"
[tool.uv]
no-binary = true
no-build-package = ["Arpeggio"]
extra-build-dependencies = { pkg-a = ["setuptools>=70", { requirement = "wheel", match-runtime = true }] }
extra-build-variables = { pkg-a = { FOO = "BAR" } }
config-settings = { editable_mode = "compat", flags = ["-a", "-b"] }
config-settings-package = { pkg-a = { foo = "bar" } }
environments = ["sys_platform == 'linux'"]
required-environments = "sys_platform == 'darwin'"
conflicts = [[{ extra = "A" }, { group = "Group_C" }]]
find-links = ["../wheels"]
"#;

    #[test]
    fn every_setting_is_read() {
        let settings = parse_uv_settings(FULL).unwrap();
        let name = |s: &str| PackageName::from_str(s).unwrap();
        assert_eq!((settings.no_binary, settings.no_build), (Some(true), None));
        assert!(settings.no_build_package.contains(&name("arpeggio")));
        assert_eq!(
            settings.extra_build_dependencies[&name("pkg-a")],
            ["setuptools>=70", "wheel"]
        );
        assert_eq!(settings.extra_build_variables[&name("pkg-a")]["FOO"], "BAR");
        assert_eq!(settings.config_settings["flags"], ["-a", "-b"]);
        assert_eq!(
            settings.config_settings_package[&name("pkg-a")]["foo"],
            ["bar"]
        );
        assert_eq!(settings.environments.len(), 1);
        assert_eq!(settings.required_environments, ["sys_platform == 'darwin'"]);
        assert_eq!(
            settings.conflicts,
            [vec![
                ConflictItem {
                    package: None,
                    kind: ConflictKind::Extra(ExtraName::from_str("a").unwrap())
                },
                ConflictItem {
                    package: None,
                    kind: ConflictKind::Group("group-c".into())
                },
            ]]
        );
        assert_eq!(settings.find_links, ["../wheels"]);
        assert!(parse_uv_settings("[project]\nname = \"x\"\n")
            .unwrap()
            .is_empty());
    }

    #[test]
    fn bad_settings_name_the_key() {
        for (text, key) in [
            (
                "[tool.uv]\nno-binary-package = [\"not a name\"]\n",
                "no-binary-package",
            ),
            (
                "[tool.uv]\nenvironments = [\"sys_platform ==\"]\n",
                "environments",
            ),
            (
                "[tool.uv]\nconflicts = [[{ extra = \"a\" }]]\n",
                "conflicts",
            ),
            (
                "[tool.uv]\nconflicts = [[{ extra = \"a\", group = \"b\" }, { extra = \"c\" }]]\n",
                "conflicts",
            ),
            (
                "[tool.uv]\nextra-build-dependencies = { a = [\"not valid ===\"] }\n",
                "extra-build-dependencies",
            ),
        ] {
            let error = parse_uv_settings(text).unwrap_err().to_string();
            assert!(
                error.contains(&format!("[tool.uv] {key}")),
                "{text}: {error}"
            );
        }
    }

    #[test]
    fn members_merge_and_conflicting_values_are_errors() {
        let mut root = parse_uv_settings(FULL).unwrap();
        let member = parse_uv_settings(
            "[tool.uv]\nno-build = true\nno-binary-package = [\"x\"]\nconfig-settings = { editable_mode = \"compat\" }\n",
        )
        .unwrap();
        root.merge_member(member, "packages/a/pyproject.toml")
            .unwrap();
        assert_eq!((root.no_build, root.no_binary), (Some(true), Some(true)));
        let unbuilt = parse_uv_settings("[tool.uv]\nno-binary = false\n").unwrap();
        let error = root
            .clone()
            .merge_member(unbuilt, "m/pyproject.toml")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("m/pyproject.toml: [tool.uv] no-binary conflicts"),
            "{error}"
        );
        assert!(root
            .no_binary_package
            .contains(&PackageName::from_str("x").unwrap()));
        let clash = parse_uv_settings(
            "[tool.uv]\nextra-build-variables = { pkg-a = { FOO = \"OTHER\" } }\n",
        )
        .unwrap();
        let error = root
            .merge_member(clash, "packages/b/pyproject.toml")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("packages/b/pyproject.toml") && error.contains("extra-build-variables"),
            "{error}"
        );
    }

    #[test]
    fn the_first_conflicting_pair_is_found() {
        let settings = parse_uv_settings(FULL).unwrap();
        let extra = ConflictItem {
            package: None,
            kind: ConflictKind::Extra(ExtraName::from_str("a").unwrap()),
        };
        let group = ConflictItem {
            package: Some(PackageName::from_str("proj").unwrap()),
            kind: ConflictKind::Group("group-c".into()),
        };
        assert!(settings
            .first_conflict(std::slice::from_ref(&extra))
            .is_none());
        let (first, second) = settings.first_conflict(&[group, extra]).unwrap();
        assert_eq!(
            (first.to_string(), second.to_string()),
            ("extra `a`".into(), "group `group-c`".into())
        );
    }
}
