//! `pyproject.toml`: Poetry's `[tool.poetry]`, PEP 621 `[project]` and PEP 735 `[dependency-groups]`.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use pep508_rs::{ExtraName, PackageName, Requirement, VerbatimUrl, VersionOrUrl};
use serde::Deserialize;

use crate::constraint::parse_poetry_constraint;
use crate::model::{Dependency, Project};
use crate::poetry_lock::{convert_dependency, DependencyWire};
use crate::{LockError, VersionConstraint};

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct PyprojectWire {
    project: Option<ProjectWire>,
    tool: Option<ToolWire>,
    dependency_groups: Option<BTreeMap<String, Vec<GroupEntryWire>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct ProjectWire {
    name: Option<String>,
    requires_python: Option<String>,
    dependencies: Option<Vec<String>>,
    #[serde(default)]
    optional_dependencies: BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize)]
struct ToolWire {
    poetry: Option<PoetryWire>,
    uv: Option<UvWire>,
    pdm: Option<PdmWire>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct UvWire {
    default_groups: Option<DefaultGroupsWire>,
    #[serde(default)]
    index: Vec<NamedIndexWire>,
}

/// `default-groups = ["dev", "lint"]` or `default-groups = "all"`.
#[derive(Deserialize)]
#[serde(untagged)]
enum DefaultGroupsWire {
    List(Vec<String>),
    Keyword(String),
}

#[derive(Deserialize)]
struct NamedIndexWire {
    name: Option<String>,
    url: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct PdmWire {
    /// PDM's development groups (before PEP 735): group name to PEP 508 requirements.
    #[serde(default)]
    dev_dependencies: BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct PoetryWire {
    name: Option<String>,
    #[serde(default)]
    dependencies: BTreeMap<String, DependencyWire>,
    #[serde(default)]
    dev_dependencies: BTreeMap<String, DependencyWire>,
    #[serde(default)]
    group: BTreeMap<String, PoetryGroupWire>,
    #[serde(default)]
    extras: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    source: Vec<NamedIndexWire>,
}

#[derive(Deserialize)]
struct PoetryGroupWire {
    #[serde(default)]
    dependencies: BTreeMap<String, DependencyWire>,
    #[serde(default)]
    optional: bool,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum GroupEntryWire {
    Requirement(String),
    Include {
        #[serde(rename = "include-group")]
        include_group: String,
    },
}

/// Reads a project's `pyproject.toml` from its text.
pub fn parse_pyproject(text: &str) -> Result<Project, LockError> {
    let wire: PyprojectWire = toml::from_str(text)?;
    let poetry = wire.tool.as_ref().and_then(|tool| tool.poetry.as_ref());
    let mut project = Project::default();
    let name = wire
        .project
        .as_ref()
        .and_then(|p| p.name.as_deref())
        .or(poetry.and_then(|p| p.name.as_deref()));
    project.name = name.and_then(|n| PackageName::from_str(n).ok());

    let mut poetry_main = Vec::new();
    if let Some(poetry) = poetry {
        for (name, dep) in &poetry.dependencies {
            if name.eq_ignore_ascii_case("python") {
                project.requires_python = Some(python_constraint(dep)?);
                continue;
            }
            poetry_main.extend(
                convert_dependency(name, dep)
                    .map_err(project_error("[tool.poetry.dependencies]"))?,
            );
        }
        read_poetry_groups(poetry, &mut project)?;
        read_poetry_extras(poetry, &poetry_main, &mut project)?;
    }
    match wire.project.as_ref() {
        Some(pep621) => read_pep621(pep621, poetry_main, &mut project)?,
        None => project.dependencies = poetry_main.into_iter().filter(|d| !d.optional).collect(),
    }
    if let Some(groups) = &wire.dependency_groups {
        read_dependency_groups(groups, &mut project)?;
    }
    let tool = wire.tool.as_ref();
    if let Some(pdm) = tool.and_then(|t| t.pdm.as_ref()) {
        read_pdm_groups(pdm, &mut project)?;
    }
    let uv = tool.and_then(|t| t.uv.as_ref());
    project.default_groups = default_groups(uv, &project)?;
    let poetry_sources = poetry.map(|p| p.source.as_slice()).unwrap_or_default();
    let uv_indexes = uv.map(|u| u.index.as_slice()).unwrap_or_default();
    for index in poetry_sources.iter().chain(uv_indexes) {
        if let (Some(name), Some(url)) = (&index.name, &index.url) {
            project.indexes.push(crate::IndexDecl {
                name: name.clone(),
                url: url.clone(),
            });
        }
    }
    Ok(project)
}

/// uv's default groups: `[tool.uv] default-groups` (a list, or `"all"`), else `dev`.
/// Only the uv reader's projects use them; Poetry installs the main group alone.
fn default_groups(uv: Option<&UvWire>, project: &Project) -> Result<Vec<String>, LockError> {
    match uv.and_then(|u| u.default_groups.as_ref()) {
        None => Ok(vec!["dev".to_string()]),
        Some(DefaultGroupsWire::List(groups)) => {
            Ok(groups.iter().map(|g| normalize_group(g)).collect())
        }
        Some(DefaultGroupsWire::Keyword(word)) if word == "all" => {
            Ok(project.groups.keys().cloned().collect())
        }
        Some(DefaultGroupsWire::Keyword(word)) => Err(LockError::Project(format!(
            "[tool.uv] default-groups: expected a list of groups or \"all\", found \"{word}\""
        ))),
    }
}

fn read_pdm_groups(pdm: &PdmWire, project: &mut Project) -> Result<(), LockError> {
    for (group, requirements) in &pdm.dev_dependencies {
        let deps = requirements
            .iter()
            .map(|r| pdm_dependency(r))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| LockError::Project(format!("[tool.pdm.dev-dependencies] {group}: {e}")))?;
        project
            .groups
            .entry(normalize_group(group))
            .or_default()
            .extend(deps);
    }
    Ok(())
}

/// A PDM development dependency: a PEP 508 requirement, or an editable one as PDM writes it,
/// `-e file:///${PROJECT_ROOT}/packages/devtool#egg=devtool` (named by `#egg=`) or
/// `-e devtool @ file:///${PROJECT_ROOT}/packages/devtool`. The lock says where it comes from.
fn pdm_dependency(text: &str) -> Result<Dependency, String> {
    let Some(target) = text
        .trim_start()
        .strip_prefix("-e")
        .filter(|rest| rest.starts_with(char::is_whitespace))
        .map(str::trim)
    else {
        return pep508_dependency(text);
    };
    let egg = target.split_once('#').and_then(|(_, fragment)| {
        fragment
            .split('&')
            .find_map(|pair| pair.strip_prefix("egg="))
    });
    match egg {
        Some(name) => pep508_dependency(name),
        None if target.contains(" @ ") => pep508_dependency(target),
        None => Err(format!(
            "editable requirement `{text}` names no package: write `-e <name> @ <url>` or add `#egg=<name>`"
        )),
    }
}

fn project_error(table: &'static str) -> impl Fn(String) -> LockError {
    move |message| LockError::Project(format!("{table}: {message}"))
}

fn python_constraint(dep: &DependencyWire) -> Result<VersionConstraint, LockError> {
    let text = match dep {
        DependencyWire::Constraint(text) => text.clone(),
        _ => {
            return Err(LockError::Project(
                "[tool.poetry.dependencies]: `python` must be a version constraint string".into(),
            ))
        }
    };
    parse_poetry_constraint(&text).map_err(project_error("[tool.poetry.dependencies] python"))
}

fn read_pep621(
    pep621: &ProjectWire,
    poetry_main: Vec<Dependency>,
    project: &mut Project,
) -> Result<(), LockError> {
    if let Some(requires) = &pep621.requires_python {
        project.requires_python = Some(
            parse_poetry_constraint(requires)
                .map_err(project_error("[project] requires-python"))?,
        );
    }
    project.dependencies = match &pep621.dependencies {
        Some(requirements) => requirements
            .iter()
            .map(|r| pep508_dependency(r))
            .collect::<Result<_, _>>()
            .map_err(project_error("[project] dependencies"))?,
        // Poetry 2 allows `dependencies` to be declared in `[tool.poetry]` only.
        None => poetry_main.into_iter().filter(|d| !d.optional).collect(),
    };
    for (extra, requirements) in &pep621.optional_dependencies {
        let extra_name = ExtraName::from_str(extra).map_err(|e| {
            LockError::Project(format!(
                "[project.optional-dependencies]: extra `{extra}`: {e}"
            ))
        })?;
        let deps = requirements
            .iter()
            .map(|r| pep508_dependency(r))
            .collect::<Result<Vec<_>, _>>()
            .map_err(project_error("[project.optional-dependencies]"))?;
        project.extras.entry(extra_name).or_default().extend(deps);
    }
    Ok(())
}

/// Runs a pep508_rs parser on untrusted text. pep508_rs 0.9 can panic on some non-ASCII input
/// (a char-boundary slice) and expands `${VAR}` in URLs; PEP 508 text is ASCII apart from URLs
/// and string literals, so non-ASCII text is refused up front, and a panic is still caught and
/// turned into an error rather than crashing py2nix.
pub(crate) fn guarded_parse<T, E: std::fmt::Display>(
    text: &str,
    what: &str,
    parse: impl FnOnce(&str) -> Result<T, E> + std::panic::UnwindSafe,
) -> Result<T, String> {
    if !text.is_ascii() {
        return Err(format!(
            "invalid {what} `{text}`: py2nix reads only ASCII {what}s"
        ));
    }
    crate::pylock::check_nesting(text, what)?;
    let owned = text.to_string();
    let result = std::panic::catch_unwind(move || parse(&owned).map_err(|e| e.to_string()));
    match result {
        Ok(parsed) => parsed.map_err(|e| format!("invalid {what} `{text}`: {e}")),
        Err(_) => Err(format!(
            "invalid {what} `{text}`: the PEP 508 parser failed on it"
        )),
    }
}

/// A name in the requirement's leading `name[extra, ...]` that ends in a character names cannot
/// end with (`-`, `_`, `.`): the name or extra, and that character.
fn name_with_bad_end(text: &str) -> Option<(String, char)> {
    fn identifier(text: &str) -> &str {
        let end = text
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')))
            .unwrap_or(text.len());
        &text[..end]
    }
    let bad_end = |name: &str| {
        name.chars()
            .last()
            .filter(|c| matches!(c, '.' | '-' | '_'))
            .map(|c| (name.to_string(), c))
    };
    let text = text.trim_start();
    let name = identifier(text);
    if let Some(bad) = bad_end(name) {
        return Some(bad);
    }
    let rest = text[name.len()..].trim_start();
    let extras = rest.strip_prefix('[')?;
    let extras = &extras[..extras.find(']').unwrap_or(extras.len())];
    extras
        .split(',')
        .find_map(|extra| bad_end(identifier(extra.trim_start())))
}

/// A PEP 508 requirement string (`requests[socks]>=2; python_version >= "3.8"`) as a
/// dependency edge, as pyproject.toml and core metadata's `Requires-Dist` write them.
pub fn pep508_dependency(text: &str) -> Result<Dependency, String> {
    if let Some((name, last)) = name_with_bad_end(text) {
        // pep508_rs 0.9 panics on such a name when more text follows it (`six->=1`,
        // `x[so- cks]`, `x[a-]`).
        return Err(format!(
            "invalid requirement `{text}`: a name must end with a letter or digit, not `{last}` (`{name}`)"
        ));
    }
    let requirement = guarded_parse(text, "requirement", Requirement::<VerbatimUrl>::from_str)?;
    let version = match requirement.version_or_url {
        Some(VersionOrUrl::VersionSpecifier(specifiers)) => {
            VersionConstraint::from_pep440(specifiers)
        }
        _ => VersionConstraint::any(),
    };
    Ok(Dependency {
        name: requirement.name,
        version,
        marker: requirement.marker,
        python: None,
        extras: requirement.extras,
        optional: false,
    })
}

fn read_poetry_groups(poetry: &PoetryWire, project: &mut Project) -> Result<(), LockError> {
    let mut add = |group: &str, deps: &BTreeMap<String, DependencyWire>| -> Result<(), LockError> {
        let entry = project.groups.entry(normalize_group(group)).or_default();
        for (name, dep) in deps {
            let converted = convert_dependency(name, dep).map_err(|e| {
                LockError::Project(format!("[tool.poetry.group.{group}.dependencies]: {e}"))
            })?;
            entry.extend(converted);
        }
        Ok(())
    };
    if !poetry.dev_dependencies.is_empty() {
        add("dev", &poetry.dev_dependencies)?;
    }
    for (group, wire) in &poetry.group {
        add(group, &wire.dependencies)?;
    }
    project.optional_groups = poetry
        .group
        .iter()
        .filter(|(_, wire)| wire.optional)
        .map(|(group, _)| normalize_group(group))
        .collect();
    Ok(())
}

fn read_poetry_extras(
    poetry: &PoetryWire,
    poetry_main: &[Dependency],
    project: &mut Project,
) -> Result<(), LockError> {
    for (extra, names) in &poetry.extras {
        let extra_name = ExtraName::from_str(extra).map_err(|e| {
            LockError::Project(format!("[tool.poetry.extras]: extra `{extra}`: {e}"))
        })?;
        let mut deps = Vec::new();
        for name in names {
            let package = PackageName::from_str(name).map_err(|e| {
                LockError::Project(format!("[tool.poetry.extras] {extra}: `{name}`: {e}"))
            })?;
            let matching: Vec<_> = poetry_main
                .iter()
                .filter(|d| d.name == package)
                .cloned()
                .collect();
            if matching.is_empty() {
                return Err(LockError::Project(format!(
                    "[tool.poetry.extras] {extra}: `{name}` is not in [tool.poetry.dependencies]"
                )));
            }
            deps.extend(matching.into_iter().map(|mut d| {
                d.optional = false;
                d
            }));
        }
        project.extras.entry(extra_name).or_default().extend(deps);
    }
    Ok(())
}

fn read_dependency_groups(
    groups: &BTreeMap<String, Vec<GroupEntryWire>>,
    project: &mut Project,
) -> Result<(), LockError> {
    let normalized: BTreeMap<String, &Vec<GroupEntryWire>> = groups
        .iter()
        .map(|(name, entries)| (normalize_group(name), entries))
        .collect();
    for name in normalized.keys() {
        let mut deps = Vec::new();
        expand_group(name, &normalized, &mut BTreeSet::new(), &mut deps)?;
        project.groups.entry(name.clone()).or_default().extend(deps);
    }
    Ok(())
}

fn expand_group(
    name: &str,
    groups: &BTreeMap<String, &Vec<GroupEntryWire>>,
    visiting: &mut BTreeSet<String>,
    out: &mut Vec<Dependency>,
) -> Result<(), LockError> {
    let entries = groups.get(name).ok_or_else(|| {
        LockError::Project(format!(
            "[dependency-groups]: included group `{name}` does not exist"
        ))
    })?;
    if !visiting.insert(name.to_string()) {
        return Err(LockError::Project(format!(
            "[dependency-groups]: group `{name}` includes itself"
        )));
    }
    for entry in entries.iter() {
        match entry {
            GroupEntryWire::Requirement(text) => out.push(
                pep508_dependency(text)
                    .map_err(|e| LockError::Project(format!("[dependency-groups] {name}: {e}")))?,
            ),
            GroupEntryWire::Include { include_group } => {
                expand_group(&normalize_group(include_group), groups, visiting, out)?
            }
        }
    }
    visiting.remove(name);
    Ok(())
}

/// Group names compare like package names (PEP 735).
pub fn normalize_group(name: &str) -> String {
    py2nix_dist::normalize_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_tool_poetry_layout() {
        let project = parse_pyproject(
            r#"
[tool.poetry]
name = "app"
[tool.poetry.dependencies]
python = "^3.9"
flask = "^3.0"
reportlab = { version = "^4", optional = true }
win = { version = "*", markers = "sys_platform == 'win32'" }
[tool.poetry.extras]
pdf = ["reportlab"]
[tool.poetry.dev-dependencies]
black = "*"
[tool.poetry.group.test.dependencies]
pytest = "^8"
"#,
        )
        .unwrap();
        assert_eq!(project.name.unwrap().as_ref(), "app");
        assert!(project
            .requires_python
            .unwrap()
            .contains(&"3.12".parse().unwrap()));
        let main: Vec<_> = project
            .dependencies
            .iter()
            .map(|d| d.name.to_string())
            .collect();
        assert_eq!(main, ["flask", "win"]);
        assert_eq!(
            project.extras[&ExtraName::from_str("pdf").unwrap()][0]
                .name
                .as_ref(),
            "reportlab"
        );
        assert_eq!(project.groups.keys().collect::<Vec<_>>(), ["dev", "test"]);
    }

    #[test]
    fn reads_pep621_with_dependency_groups() {
        let project = parse_pyproject(
            r#"
[project]
name = "App"
requires-python = ">=3.9,<3.14"
dependencies = ["httpx>=0.27", "tomli; python_version < '3.11'"]
[project.optional-dependencies]
yaml = ["pyyaml"]
[dependency-groups]
Dev = ["pytest", {include-group = "lint"}]
lint = ["ruff"]
"#,
        )
        .unwrap();
        assert_eq!(project.dependencies.len(), 2);
        let dev: Vec<_> = project.groups["dev"]
            .iter()
            .map(|d| d.name.to_string())
            .collect();
        assert_eq!(dev, ["pytest", "ruff"]);
    }

    #[test]
    fn group_include_cycles_are_errors() {
        let err = parse_pyproject(
            "[dependency-groups]\na = [{include-group = \"b\"}]\nb = [{include-group = \"a\"}]\n",
        )
        .unwrap_err()
        .to_string();
        assert_eq!(err, "[dependency-groups]: group `a` includes itself");
    }

    #[test]
    fn uv_default_groups_and_indexes() {
        let project = parse_pyproject(
            r#"
[project]
name = "app"
dependencies = []
[dependency-groups]
dev = ["pytest"]
lint = ["ruff"]
[tool.uv]
default-groups = ["Dev", "lint"]
[[tool.uv.index]]
name = "corp"
url = "https://corp.example/simple"
"#,
        )
        .unwrap();
        assert_eq!(project.default_groups, ["dev", "lint"]);
        assert_eq!(
            project.indexes,
            [crate::IndexDecl {
                name: "corp".into(),
                url: "https://corp.example/simple".into()
            }]
        );
        let all = parse_pyproject(
            "[dependency-groups]\na = []\nb = []\n[tool.uv]\ndefault-groups = \"all\"\n",
        )
        .unwrap();
        assert_eq!(all.default_groups, ["a", "b"]);
        let default = parse_pyproject("[project]\nname = \"x\"\n").unwrap();
        assert_eq!(default.default_groups, ["dev"]);
        let bad = parse_pyproject("[tool.uv]\ndefault-groups = \"some\"\n").unwrap_err();
        assert!(bad.to_string().contains("default-groups"), "{bad}");
    }

    /// Found by fuzzing pdm.lock and pyproject.toml: pep508_rs 0.9 panics (`PackageName` /
    /// `ExtraName` validation should match PEP 508 parsing) on a name or extra ending in `-`,
    /// `_` or `.` followed by more text. The panic was caught, but only after the panic hook
    /// had printed it; now it is never reached.
    #[test]
    fn names_ending_in_punctuation_are_refused_before_the_parser() {
        for text in [
            "six->=1.16",
            "six_ >=1",
            "a.[x]",
            "six-",
            " six-; python_version > '3'",
            "requests[so- cks]",
            "requests[socks, a-]",
            "x [a_,b]>=1",
        ] {
            let error = pep508_dependency(text).unwrap_err();
            assert!(
                error.contains("must end with a letter or digit"),
                "{text}: {error}"
            );
        }
        assert!(pep508_dependency("six>=1.16").is_ok());
        let editable =
            pdm_dependency("-e file:///${PROJECT_ROOT}/packages/devtool#egg=devtool").unwrap();
        assert_eq!(editable.name.as_ref(), "devtool");
        let named = pdm_dependency("-e devtool[x] @ file:///${PROJECT_ROOT}/d").unwrap();
        assert_eq!(named.name.as_ref(), "devtool");
        assert_eq!(named.extras.len(), 1);
        assert!(pdm_dependency("-e ./d")
            .unwrap_err()
            .contains("names no package"));
        assert!(pep508_dependency("a-b.c_d>=1").is_ok());
        assert!(pep508_dependency("requests[socks, use-chardet]>=2; extra == 'a-b'").is_ok());
        assert!(pep508_dependency("x @ https://h.example/a-/b_.whl").is_ok());
    }

    /// Found by fuzzing requirements files: pep508_rs parses markers recursively, and a few
    /// thousand nested parentheses overflowed the stack, which aborts py2nix.
    #[test]
    fn deeply_nested_markers_are_refused_before_the_parser() {
        let deep = format!(
            "x; {}python_version > '3'{}",
            "(".repeat(100_000),
            ")".repeat(100_000)
        );
        let error = pep508_dependency(&deep).unwrap_err();
        assert!(error.contains("parentheses nest deeper than 32"), "{error}");
        assert!(crate::poetry_lock::parse_marker(&deep[3..]).is_err());
        let fine = format!(
            "x; {}python_version > '3'{}",
            "(".repeat(32),
            ")".repeat(32)
        );
        assert!(pep508_dependency(&fine).is_ok());
        assert!(
            pep508_dependency("x; platform_version == '((((((((((((((((((((((((((((((((((('")
                .is_ok()
        );
    }

    #[test]
    fn poetry_sources_and_pdm_groups() {
        let project = parse_pyproject(
            r#"
[tool.poetry]
name = "app"
[tool.poetry.dependencies]
python = "^3.11"
[[tool.poetry.source]]
name = "private"
url = "https://private.example/simple/"
priority = "supplemental"
[[tool.poetry.source]]
name = "PyPI"
priority = "primary"
[tool.pdm.dev-dependencies]
test = ["pytest>=8"]
"#,
        )
        .unwrap();
        assert_eq!(project.indexes.len(), 1);
        assert_eq!(project.indexes[0].name, "private");
        assert_eq!(project.groups["test"][0].name.as_ref(), "pytest");
    }
}
