//! uv's locker settings in the plan: `conflicts` (a selection uv refuses is refused, and the
//! plan records them for python.nix's `envWith`), the environments the lock supports (which
//! targets are planned), and the build settings of packages built from source
//! (`extra-build-variables` into `env`, `config-settings` into `build-flags`).

use std::collections::BTreeMap;

use py2nix_lock::{ConflictItem, ConflictKind, Project, UvSettings};
use serde::{Deserialize, Serialize};

use crate::{Plan, PlanError, Selection, Target};

/// One item of a set of conflicting groups and extras, as the plan records it: exactly one
/// of `group` and `extra`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub struct ConflictPlan {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<String>,
}

/// The project's conflict sets for the plan (an item's package is not recorded: the plan's
/// groups and extras are the project's, a virtual root's merged from its members by name).
pub fn conflicts_plan(project: &Project) -> Vec<Vec<ConflictPlan>> {
    project
        .uv
        .conflicts
        .iter()
        .map(|set| {
            set.iter()
                .map(|item| match &item.kind {
                    ConflictKind::Group(group) => ConflictPlan {
                        group: Some(group.clone()),
                        extra: None,
                    },
                    ConflictKind::Extra(extra) => ConflictPlan {
                        group: None,
                        extra: Some(extra.to_string()),
                    },
                })
                .collect()
        })
        .collect()
}

/// Refuses a selection named on the command line that turns on two items of one of uv's
/// conflict sets, with uv's message.
pub fn check_selection(project: &Project, selection: &Selection) -> Result<(), PlanError> {
    if project.uv.conflicts.is_empty() || !selection.is_explicit() {
        return Ok(());
    }
    let mut chosen: Vec<ConflictItem> = selection
        .groups_of(project)?
        .into_iter()
        .map(|group| ConflictItem {
            package: None,
            kind: ConflictKind::Group(group),
        })
        .collect();
    chosen.extend(
        selection
            .checked_extras(project)?
            .into_iter()
            .map(|extra| ConflictItem {
                package: None,
                kind: ConflictKind::Extra(extra),
            }),
    );
    let Some((first, second)) = project.uv.first_conflict(&chosen) else {
        return Ok(());
    };
    let name = |item: &ConflictItem| match &item.kind {
        ConflictKind::Group(group) => group.clone(),
        ConflictKind::Extra(extra) => extra.to_string(),
    };
    let what = match (&first.kind, &second.kind) {
        (ConflictKind::Group(_), ConflictKind::Group(_)) => {
            format!("Groups `{}` and `{}`", name(first), name(second))
        }
        (ConflictKind::Extra(_), ConflictKind::Extra(_)) => {
            format!("Extras `{}` and `{}`", name(first), name(second))
        }
        (ConflictKind::Extra(_), ConflictKind::Group(_)) => {
            format!("Extra `{}` and group `{}`", name(first), name(second))
        }
        (ConflictKind::Group(_), ConflictKind::Extra(_)) => {
            format!("Group `{}` and extra `{}`", name(first), name(second))
        }
    };
    let set = project
        .uv
        .conflicts
        .iter()
        .find(|set| set.contains(first) && set.contains(second))
        .map(|set| {
            set.iter()
                .map(|item| {
                    let package = item
                        .package
                        .as_ref()
                        .or(project.name.as_ref())
                        .map(ToString::to_string)
                        .unwrap_or_default();
                    format!("`{package}:{}`", name(item))
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    Err(PlanError::Request(format!(
        "{what} are incompatible with the conflicts: {{{set}}} ([tool.uv] conflicts); name at most one of them"
    )))
}

/// Whether the lock supports `target`: uv's `environments` (uv.lock's `supported-markers`)
/// hold for it, or there are none.
pub fn supports_target(settings: &UvSettings, target: &Target) -> bool {
    if settings.environments.is_empty() {
        return true;
    }
    let env = target.marker_environment();
    settings
        .environments
        .iter()
        .any(|marker| marker.evaluate(&env, &[]))
}

/// Whether the lock requires `target` (uv's `required-environments`, uv.lock's
/// `required-markers`: environments it must have wheels for). With none declared, every
/// target is required; a marker that does not parse counts as matching.
pub fn requires_target(settings: &UvSettings, target: &Target) -> bool {
    if settings.required_environments.is_empty() {
        return true;
    }
    let env = target.marker_environment();
    settings.required_environments.iter().any(|text| {
        py2nix_lock::parse_marker(text).map_or(true, |marker| marker.evaluate(&env, &[]))
    })
}

/// Why the lock does not support `target`, for messages.
pub fn unsupported_reason(settings: &UvSettings, target: &Target) -> String {
    format!(
        "the lock supports only the environments {} ([tool.uv] environments, uv.lock's supported-markers), and {} is none of them",
        settings
            .environments_text
            .iter()
            .map(|m| format!("`{m}`"))
            .collect::<Vec<_>>()
            .join(", "),
        target.id()
    )
}

/// Adds uv's build settings to every package the plan builds from source: the package's
/// `extra-build-variables` to its `env`, and `config-settings` (then its
/// `config-settings-package`) to its `build-flags` as `-C<key>=<value>`, the PEP 517
/// frontend's syntax. A package's own setting replaces a global one of the same key.
pub fn apply_build_settings(plan: &mut Plan, settings: &UvSettings) {
    if settings.extra_build_variables.is_empty()
        && settings.config_settings.is_empty()
        && settings.config_settings_package.is_empty()
    {
        return;
    }
    for target in plan.targets.values_mut() {
        for (name, package) in target
            .packages
            .iter_mut()
            .chain(target.build_packages.iter_mut())
        {
            if !package.src.is_built() {
                continue;
            }
            let Ok(name) = name.parse::<py2nix_lock::PackageName>() else {
                continue;
            };
            if let Some(variables) = settings.extra_build_variables.get(&name) {
                package
                    .env
                    .extend(variables.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            let mut config: BTreeMap<&String, &Vec<String>> =
                settings.config_settings.iter().collect();
            if let Some(own) = settings.config_settings_package.get(&name) {
                config.extend(own.iter());
            }
            for (key, values) in config {
                for value in values {
                    let flag = format!("-C{key}={value}");
                    if !package.build_flags.contains(&flag) {
                        package.build_flags.push(flag);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{NixSystem, PackagePlan, PythonVersion, SourceKind, SourcePlan, TargetPlan};

    fn project(settings: &str) -> Project {
        let mut project = py2nix_lock::parse_pyproject(
            "[project]\nname = \"proj\"\n[project.optional-dependencies]\nx = []\ny = []\n[dependency-groups]\na = []\nb = []\nc = []\n",
        )
        .unwrap();
        project.uv = py2nix_lock::parse_uv_settings(settings).unwrap();
        project
    }

    fn select(groups: &[&str], extras: &[&str]) -> Selection {
        Selection {
            groups: groups.iter().map(ToString::to_string).collect(),
            extras: extras.iter().map(|e| e.parse().unwrap()).collect(),
            ..Selection::default()
        }
    }

    #[test]
    fn a_conflicting_selection_is_refused_with_uvs_message() {
        let project = project(
            "[tool.uv]\nconflicts = [[{ group = \"a\" }, { group = \"b\" }], [{ extra = \"x\" }, { group = \"c\" }]]\n",
        );
        let error = check_selection(&project, &select(&["a", "b"], &[])).unwrap_err();
        assert_eq!(
            error.to_string(),
            "Groups `a` and `b` are incompatible with the conflicts: {`proj:a`, `proj:b`} ([tool.uv] conflicts); name at most one of them"
        );
        let error = check_selection(&project, &select(&["c"], &["x"])).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("Extra `x` and group `c` are incompatible"),
            "{error}"
        );
        check_selection(&project, &select(&["a", "c"], &["y"])).unwrap();
        // Without names the plan holds everything for choosing at evaluation time.
        check_selection(&project, &Selection::default()).unwrap();
        let all = Selection {
            all_groups: true,
            ..Selection::default()
        };
        assert!(check_selection(&project, &all).is_err());
        assert_eq!(
            serde_json::to_value(conflicts_plan(&project)).unwrap(),
            serde_json::json!([[{"group": "a"}, {"group": "b"}], [{"extra": "x"}, {"group": "c"}]])
        );
    }

    #[test]
    fn environments_choose_the_targets() {
        let settings = py2nix_lock::parse_uv_settings(
            "[tool.uv]\nenvironments = [\"sys_platform == 'linux'\"]\n",
        )
        .unwrap();
        let linux = Target::new(NixSystem::X86_64Linux, PythonVersion::new(12));
        let mac = Target::new(NixSystem::Aarch64Darwin, PythonVersion::new(12));
        assert!(supports_target(&settings, &linux));
        assert!(!supports_target(&settings, &mac));
        assert!(unsupported_reason(&settings, &mac).contains("`sys_platform == 'linux'`"));
        assert!(supports_target(&UvSettings::default(), &mac));
    }

    #[test]
    fn build_settings_reach_built_packages_only() {
        let settings = py2nix_lock::parse_uv_settings(
            "[tool.uv]\nextra-build-variables = { built = { FOO = \"BAR\" }, wheel = { NO = \"1\" } }\nconfig-settings = { mode = \"compat\", many = [\"1\", \"2\"] }\nconfig-settings-package = { built = { mode = \"strict\" } }\n",
        )
        .unwrap();
        let sdist = SourcePlan::file(
            SourceKind::Sdist,
            "built-1.tar.gz".into(),
            "u".into(),
            "h".into(),
            None,
            None,
        );
        let wheel = SourcePlan::file(
            SourceKind::Wheel,
            "wheel-1-py3-none-any.whl".into(),
            "u".into(),
            "h".into(),
            None,
            None,
        );
        let mut plan = Plan {
            schema: crate::PLAN_SCHEMA,
            generator: String::new(),
            inputs: None,
            project: None,
            targets: BTreeMap::from([(
                "t".to_string(),
                TargetPlan {
                    system: String::new(),
                    python: String::new(),
                    python_full_version: String::new(),
                    platform: BTreeMap::new(),
                    roots: Vec::new(),
                    packages: BTreeMap::from([
                        (
                            "built".to_string(),
                            PackagePlan::new("1".into(), sdist, Vec::new()),
                        ),
                        (
                            "wheel".to_string(),
                            PackagePlan::new("1".into(), wheel, Vec::new()),
                        ),
                    ]),
                    build_packages: BTreeMap::new(),
                    selections: None,
                },
            )]),
        };
        apply_build_settings(&mut plan, &settings);
        let packages = &plan.targets["t"].packages;
        assert_eq!(packages["built"].env["FOO"], "BAR");
        assert_eq!(
            packages["built"].build_flags,
            ["-Cmany=1", "-Cmany=2", "-Cmode=strict"]
        );
        assert!(packages["wheel"].env.is_empty() && packages["wheel"].build_flags.is_empty());
    }
}
