//! The project as a package to build: what its pyproject.toml says of its name, version,
//! scripts, and whether there is a package at all (`[tool.poetry] package-mode`,
//! `[tool.uv] package`, `[tool.pdm] distribution`, `[build-system]`).

use std::collections::BTreeMap;
use std::str::FromStr;

use pep508_rs::PackageName;
use serde::Deserialize;

use crate::{LockError, Scripts};

/// What a pyproject.toml says of the project as a package.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectMetadata {
    /// `[project] name`, else `[tool.poetry] name`.
    pub name: Option<PackageName>,
    /// `[project] version`, else `[tool.poetry] version`, as written.
    pub version: Option<String>,
    /// `"version"` is in `[project] dynamic` (set by the build backend, often from VCS).
    pub dynamic_version: bool,
    /// Its scripts: console scripts from `[project.scripts]` and `[tool.poetry.scripts]` (name
    /// to entry point: `module:object`, `module:object.attr` or `module`), GUI scripts from
    /// `[project.gui-scripts]`, Poetry's file scripts (`{ reference = "bin/x", type = "file" }`,
    /// installed as they are).
    pub scripts: Scripts,
    /// Whether the file has a `[build-system]` table.
    pub has_build_system: bool,
    /// `[tool.poetry] package-mode`.
    pub poetry_package_mode: Option<bool>,
    /// `[tool.uv] package`.
    pub uv_package: Option<bool>,
    /// `[tool.pdm] distribution`.
    pub pdm_distribution: Option<bool>,
    /// `[tool.setuptools_scm] fallback_version`, a version to build with when none is known.
    pub fallback_version: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Wire {
    project: Option<ProjectWire>,
    build_system: Option<toml::Value>,
    tool: Option<ToolWire>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct ProjectWire {
    name: Option<String>,
    version: Option<String>,
    #[serde(default)]
    dynamic: Vec<String>,
    #[serde(default)]
    scripts: BTreeMap<String, String>,
    #[serde(default)]
    gui_scripts: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct ToolWire {
    poetry: Option<PoetryWire>,
    uv: Option<UvWire>,
    pdm: Option<PdmWire>,
    setuptools_scm: Option<ScmWire>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct PoetryWire {
    name: Option<String>,
    version: Option<String>,
    package_mode: Option<bool>,
    #[serde(default)]
    scripts: BTreeMap<String, PoetryScriptWire>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum PoetryScriptWire {
    Reference(String),
    Table {
        callable: Option<String>,
        reference: Option<String>,
        #[serde(rename = "type")]
        kind: Option<String>,
    },
}

#[derive(Deserialize)]
struct UvWire {
    package: Option<bool>,
}

#[derive(Deserialize)]
struct PdmWire {
    distribution: Option<bool>,
}

#[derive(Deserialize)]
struct ScmWire {
    fallback_version: Option<String>,
}

/// Reads what a pyproject.toml says of the project as a package. Entry points and script
/// names are checked, since they become file names and Python code in the build.
pub fn parse_project_metadata(text: &str) -> Result<ProjectMetadata, LockError> {
    let wire: Wire = toml::from_str(text)?;
    let tool = wire.tool.as_ref();
    let poetry = tool.and_then(|t| t.poetry.as_ref());
    let mut meta = ProjectMetadata {
        has_build_system: wire.build_system.is_some(),
        poetry_package_mode: poetry.and_then(|p| p.package_mode),
        uv_package: tool.and_then(|t| t.uv.as_ref()).and_then(|u| u.package),
        pdm_distribution: tool
            .and_then(|t| t.pdm.as_ref())
            .and_then(|p| p.distribution),
        fallback_version: tool
            .and_then(|t| t.setuptools_scm.as_ref())
            .and_then(|s| s.fallback_version.clone()),
        ..ProjectMetadata::default()
    };
    let pep621 = wire.project.as_ref();
    let name = pep621
        .and_then(|p| p.name.as_deref())
        .or(poetry.and_then(|p| p.name.as_deref()));
    meta.name = name
        .map(|n| {
            PackageName::from_str(n).map_err(|e| {
                LockError::Project(format!("the project's name `{n}` is invalid: {e}"))
            })
        })
        .transpose()?;
    meta.version = pep621
        .and_then(|p| p.version.clone())
        .or(poetry.and_then(|p| p.version.clone()));
    meta.dynamic_version = pep621.is_some_and(|p| p.dynamic.iter().any(|d| d == "version"));
    if let Some(pep621) = pep621 {
        for (name, entry) in &pep621.scripts {
            add_script(&mut meta.scripts.console, "[project.scripts]", name, entry)?;
        }
        for (name, entry) in &pep621.gui_scripts {
            add_script(&mut meta.scripts.gui, "[project.gui-scripts]", name, entry)?;
        }
    }
    for (name, script) in poetry.map(|p| &p.scripts).into_iter().flatten() {
        let table = "[tool.poetry.scripts]";
        match script {
            PoetryScriptWire::Reference(entry) => {
                add_script(&mut meta.scripts.console, table, name, entry)?
            }
            PoetryScriptWire::Table {
                kind: Some(kind), ..
            } if kind == "file" => {
                check_script_name(table, name)?;
                meta.scripts.files.push(name.clone());
            }
            PoetryScriptWire::Table {
                callable: Some(entry),
                ..
            }
            | PoetryScriptWire::Table {
                reference: Some(entry),
                ..
            } => add_script(&mut meta.scripts.console, table, name, entry)?,
            PoetryScriptWire::Table { .. } => {
                return Err(LockError::Project(format!(
                    "{table} `{name}` names neither a `callable` nor a file `reference`"
                )))
            }
        }
    }
    Ok(meta)
}

fn add_script(
    scripts: &mut BTreeMap<String, String>,
    table: &str,
    name: &str,
    entry: &str,
) -> Result<(), LockError> {
    check_script_name(table, name)?;
    let entry = entry_point(entry).ok_or_else(|| {
        LockError::Project(format!(
            "{table} `{name}`: `{entry}` is not an entry point (`module:object`)"
        ))
    })?;
    scripts.insert(name.to_string(), entry);
    Ok(())
}

/// A script's name becomes a file in `bin/`: letters, digits and `._+-`, not starting with a
/// dot or a dash.
fn check_script_name(table: &str, name: &str) -> Result<(), LockError> {
    let valid = !name.is_empty()
        && name.len() <= 200
        && !name.starts_with(['.', '-'])
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '-'));
    if valid {
        Ok(())
    } else {
        Err(LockError::Project(format!(
            "{table}: `{name}` is not a usable script name (letters, digits and `._+-`)"
        )))
    }
}

/// An entry point `module.sub:object.attr` as the packaging specification defines it (an
/// old-style trailing `[extras]` is dropped), checked to be dotted Python identifiers.
///
/// ```
/// use py2nix_lock::entry_point;
/// assert_eq!(entry_point(" app.cli : main "), Some("app.cli:main".to_string()));
/// assert_eq!(entry_point("app:main [gui]"), Some("app:main".to_string()));
/// assert_eq!(entry_point("app"), Some("app".to_string()));
/// assert_eq!(entry_point("app:main; rm -rf /"), None);
/// ```
pub fn entry_point(text: &str) -> Option<String> {
    let text = match text.find('[') {
        Some(bracket) if text.trim_end().ends_with(']') => &text[..bracket],
        _ => text,
    };
    let (module, object) = match text.split_once(':') {
        Some((module, object)) => (module.trim(), Some(object.trim())),
        None => (text.trim(), None),
    };
    let dotted = |s: &str| {
        !s.is_empty()
            && s.split('.').all(|part| {
                let mut chars = part.chars();
                chars
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                    && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
            })
    };
    if !dotted(module) || !object.is_none_or(dotted) {
        return None;
    }
    Some(match object {
        Some(object) => format!("{module}:{object}"),
        None => module.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pep621_project_with_scripts_and_a_dynamic_version() {
        let meta = parse_project_metadata(
            r#"
[project]
name = "My_App"
dynamic = ["version"]
[project.scripts]
myapp = "my_app.cli:main"
[project.gui-scripts]
myapp-gui = "my_app.gui:run"
[build-system]
requires = ["setuptools", "setuptools-scm"]
[tool.setuptools_scm]
fallback_version = "0.0.1"
"#,
        )
        .unwrap();
        assert_eq!(meta.name.unwrap().as_ref(), "my-app");
        assert_eq!(meta.version, None);
        assert!(meta.dynamic_version);
        assert_eq!(meta.scripts.console["myapp"], "my_app.cli:main");
        assert_eq!(meta.scripts.gui["myapp-gui"], "my_app.gui:run");
        assert!(meta.has_build_system);
        assert_eq!(meta.fallback_version.as_deref(), Some("0.0.1"));
    }

    #[test]
    fn poetry_project_scripts_and_package_mode() {
        let meta = parse_project_metadata(
            r#"
[tool.poetry]
name = "imgapp"
version = "0.3.0"
package-mode = true
[tool.poetry.scripts]
imgapp = "imgapp:main"
tool = { callable = "imgapp.tool:run" }
helper = { reference = "bin/helper.sh", type = "file" }
"#,
        )
        .unwrap();
        assert_eq!(meta.version.as_deref(), Some("0.3.0"));
        assert_eq!(meta.poetry_package_mode, Some(true));
        assert_eq!(meta.scripts.console.len(), 2);
        assert_eq!(meta.scripts.console["tool"], "imgapp.tool:run");
        assert_eq!(meta.scripts.files, vec!["helper".to_string()]);
        assert!(!meta.has_build_system);
    }

    #[test]
    fn switches_that_say_there_is_nothing_to_build() {
        let meta = parse_project_metadata(
            "[tool.poetry]\npackage-mode = false\n[tool.uv]\npackage = false\n[tool.pdm]\ndistribution = false\n",
        )
        .unwrap();
        assert_eq!(meta.poetry_package_mode, Some(false));
        assert_eq!(meta.uv_package, Some(false));
        assert_eq!(meta.pdm_distribution, Some(false));
        assert_eq!(meta.name, None);
    }

    #[test]
    fn hostile_script_names_and_entry_points_are_refused() {
        for text in [
            "[project.scripts]\n\"../../etc/x\" = \"a:b\"\n",
            "[project.scripts]\n\"-rf\" = \"a:b\"\n",
            "[project.scripts]\nx = \"a:b'; import os\"\n",
            "[project.scripts]\nx = \"a:\"\n",
            "[project.scripts]\nx = \"1a:b\"\n",
            "[project.gui-scripts]\n\"x y\" = \"a:b\"\n",
        ] {
            let error = parse_project_metadata(text).unwrap_err().to_string();
            assert!(
                error.contains("script") || error.contains("entry point"),
                "{text}: {error}"
            );
        }
    }
}
