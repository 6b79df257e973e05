//! `-v` explanations of the planner's decisions: which marker left which package out of a
//! target, and why a package gets a wheel or is built from its sdist.

use std::collections::BTreeSet;

use py2nix_lock::{Dependency, Lock, Project};
use py2nix_plan::{
    root_dependencies, Chosen, FormatControl, Selection, SourceKind, TagPriorities,
    TargetResolution, WheelFilename,
};

use crate::report::Reporter;

pub fn decisions(
    lock: &Lock,
    project: &Project,
    selection: &Selection,
    resolutions: &[TargetResolution],
    control: &FormatControl,
    reporter: &Reporter,
) {
    let roots = root_dependencies(project, selection).unwrap_or_default();
    let root_extras = selection.extras_of(project);
    for resolution in resolutions {
        let id = resolution.target.id();
        let env = resolution.target.marker_environment();
        let installed =
            |name: &py2nix_lock::PackageName| resolution.closure.packages.contains_key(name);
        let mut told = BTreeSet::new();
        let mut tell = |dep: &Dependency, who: &str| {
            if installed(&dep.name) || !told.insert(dep.name.clone()) {
                return;
            }
            let marker = dep
                .marker
                .try_to_string()
                .map(|m| format!(" when `{m}`"))
                .unwrap_or_default();
            reporter.explain(&format!(
                "{id}: {} left out: {who} needs it only{marker}, which does not hold here",
                dep.name
            ));
        };
        for dep in &roots {
            if !dep.marker.evaluate(&env, &root_extras) {
                tell(dep, "the project");
            }
        }
        for (name, selected) in &resolution.closure.packages {
            let Some(package) = lock.packages.get(selected.lock_index) else {
                continue;
            };
            let extras: Vec<_> = selected.extras.iter().cloned().collect();
            for dep in &package.dependencies {
                if !dep.optional && !dep.marker.evaluate(&env, &extras) {
                    tell(dep, name.as_ref());
                }
            }
        }
        let tags = TagPriorities::for_target(&resolution.target);
        for (name, chosen) in &resolution.files {
            let Some(selected) = resolution.closure.packages.get(name) else {
                continue;
            };
            let Some(package) = lock.packages.get(selected.lock_index) else {
                continue;
            };
            let Chosen::File { index, format } = chosen else {
                continue;
            };
            let wheels: Vec<WheelFilename> = package
                .files
                .iter()
                .filter_map(|f| WheelFilename::parse(&f.filename))
                .filter(|w| w.version == package.version)
                .collect();
            let fitting = wheels.iter().filter(|w| tags.rank(w).is_some()).count();
            let filename = package
                .files
                .get(*index)
                .map(|f| f.filename.as_str())
                .unwrap_or_default();
            let why = match format {
                SourceKind::Wheel => format!(
                    "{filename}, the best of the {fitting} wheels (of {}) whose tags fit",
                    wheels.len()
                ),
                SourceKind::Sdist if wheels.is_empty() => {
                    format!("the sdist {filename}: the lock lists no wheel")
                }
                SourceKind::Sdist if !control.wheels_allowed(name) => {
                    format!("the sdist {filename}: --no-binary rules out its wheels")
                }
                SourceKind::Sdist => {
                    let example: Vec<String> = wheels
                        .iter()
                        .take(3)
                        .map(|w| {
                            format!(
                                "{}-{}-{}",
                                w.python_tags.join("."),
                                w.abi_tags.join("."),
                                w.platform_tags.join(".")
                            )
                        })
                        .collect();
                    format!(
                        "the sdist {filename}: none of its {} wheels fits {} (tags such as {})",
                        wheels.len(),
                        resolution.target.describe(),
                        example.join(", ")
                    )
                }
                SourceKind::Git | SourceKind::Path => continue,
            };
            reporter.explain(&format!("{id}: {name}: {why}"));
        }
    }
}
