//! The closure walk: from the project's roots through the lock, for one target.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use pep508_rs::{ExtraName, MarkerEnvironment, PackageName};
use py2nix_lock::{Dependency, InstallSet, Lock, LockedPackage, Project, VersionConstraint};

use crate::target::Target;
use crate::PlanError;

/// Which parts of the project to install, as `--group`, `--extra` and `--all-extras` say.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub groups: Vec<String>,
    pub all_groups: bool,
    pub extras: Vec<ExtraName>,
    pub all_extras: bool,
    /// `--no-default-groups`: leave out the project's default groups (uv's `dev`).
    pub no_default_groups: bool,
}

impl Selection {
    /// The project's extras this selection turns on.
    pub fn extras_of(&self, project: &Project) -> Vec<ExtraName> {
        if self.all_extras {
            project.extras.keys().cloned().collect()
        } else {
            self.extras.clone()
        }
    }
}

/// The packages one target needs.
#[derive(Debug, Clone)]
pub struct Closure {
    pub roots: BTreeSet<PackageName>,
    pub packages: BTreeMap<PackageName, ClosurePackage>,
}

/// One package of a closure.
#[derive(Debug, Clone)]
pub struct ClosurePackage {
    /// Its position in `Lock::packages`.
    pub lock_index: usize,
    pub extras: BTreeSet<ExtraName>,
    pub dependencies: BTreeSet<PackageName>,
}

impl Selection {
    /// Whether the command line names any group or extra (`--group`, `--all-groups`,
    /// `--extra`, `--all-extras`).
    pub fn is_explicit(&self) -> bool {
        !self.groups.is_empty() || self.all_groups || !self.extras.is_empty() || self.all_extras
    }

    /// What the plan holds: every group and extra of the project when the command line names
    /// none (they are chosen at evaluation time), else exactly what it names.
    pub fn held(&self) -> Selection {
        if self.is_explicit() {
            self.clone()
        } else {
            Selection {
                all_groups: true,
                all_extras: true,
                ..self.clone()
            }
        }
    }

    /// The project's groups this selection turns on: the named ones (each must exist), or all.
    /// A project's default groups are not among them: they are what `devEnv` adds.
    pub fn groups_of(&self, project: &Project) -> Result<BTreeSet<String>, PlanError> {
        let mut groups = BTreeSet::new();
        if self.all_groups {
            groups.extend(project.groups.keys().cloned());
        }
        for group in &self.groups {
            let group = py2nix_lock::normalize_group(group);
            if !project.groups.contains_key(&group) {
                return Err(unknown("group", &group, project.groups.keys()));
            }
            groups.insert(group);
        }
        Ok(groups)
    }

    /// The groups a development environment adds: the project's default groups (uv's default
    /// groups, Poetry's non-optional groups, PDM's development groups, pylock.toml's
    /// `default-groups`) that this selection holds; none with `--no-default-groups`.
    pub fn dev_groups_of(&self, project: &Project) -> Result<BTreeSet<String>, PlanError> {
        if self.no_default_groups {
            return Ok(BTreeSet::new());
        }
        let held = self.held().groups_of(project)?;
        Ok(project
            .default_groups
            .iter()
            .map(|g| py2nix_lock::normalize_group(g))
            .filter(|g| held.contains(g))
            .collect())
    }

    /// The selected extras, each checked against the project.
    pub fn checked_extras(&self, project: &Project) -> Result<Vec<ExtraName>, PlanError> {
        let extras = self.extras_of(project);
        for extra in &extras {
            if !project.extras.contains_key(extra) {
                return Err(unknown(
                    "extra",
                    extra.as_ref(),
                    project.extras.keys().map(|e| e.as_ref()),
                ));
            }
        }
        Ok(extras)
    }
}

/// The root edges the selection asks for, checked against the project.
pub fn root_dependencies(
    project: &Project,
    selection: &Selection,
) -> Result<Vec<Dependency>, PlanError> {
    let mut roots = project.dependencies.clone();
    for group in &selection.groups_of(project)? {
        if let Some(deps) = project.groups.get(group) {
            roots.extend(deps.iter().cloned());
        }
    }
    for extra in &selection.checked_extras(project)? {
        if let Some(deps) = project.extras.get(extra) {
            roots.extend(deps.iter().cloned());
        }
    }
    expand_self_references(project, roots)
}

/// For a lock that is an install list (pylock.toml, requirements.txt): the marker extras that
/// stand for the selected extras and groups, checked against what the lock declares.
pub fn flat_marker_extras(
    project: &Project,
    selection: &Selection,
) -> Result<Vec<ExtraName>, PlanError> {
    let mut extras = selection.checked_extras(project)?;
    extras.extend(
        selection
            .groups_of(project)?
            .iter()
            .map(|g| py2nix_lock::group_extra(g)),
    );
    Ok(extras)
}

/// For an install list: every package installed on `target` (its marker holds with the
/// selected extras and groups, its requires-python contains the target's Python) as a root
/// edge pinned to its version, with the extras the lock turns on for it.
pub fn flat_roots(lock: &Lock, marker_extras: &[ExtraName], target: &Target) -> Vec<Dependency> {
    let env = target.marker_environment();
    let python = target.python.full_version();
    lock.packages
        .iter()
        .filter(|p| p.requires_python.contains(&python))
        .filter(|p| {
            p.marker
                .as_ref()
                .is_none_or(|m| m.evaluate(&env, marker_extras))
        })
        .map(|p| Dependency {
            name: p.name.clone(),
            version: VersionConstraint::exactly(&p.version),
            marker: pep508_rs::MarkerTree::TRUE,
            python: None,
            extras: p.requested_extras.clone(),
            optional: false,
        })
        .collect()
}

/// The roots of an install list's closure: the project's direct dependencies when it names
/// any (`preferred`), else the packages nothing else depends on; then, so that every package
/// stays reachable, each package the roots do not reach that nothing depends on, and the first
/// (by name) of each cycle still not reached.
pub fn flat_plan_roots(
    closure: &Closure,
    preferred: &BTreeSet<PackageName>,
) -> BTreeSet<PackageName> {
    let mut roots: BTreeSet<PackageName> = preferred
        .iter()
        .filter(|name| closure.packages.contains_key(*name))
        .cloned()
        .collect();
    let depended: BTreeSet<&PackageName> = closure
        .packages
        .values()
        .flat_map(|p| p.dependencies.iter())
        .collect();
    if roots.is_empty() {
        roots.extend(
            closure
                .packages
                .keys()
                .filter(|name| !depended.contains(name))
                .cloned(),
        );
    }
    let mut reached: BTreeSet<PackageName> = BTreeSet::new();
    let reach = |start: &PackageName, reached: &mut BTreeSet<PackageName>| {
        let mut stack = vec![start.clone()];
        while let Some(name) = stack.pop() {
            if reached.insert(name.clone()) {
                if let Some(p) = closure.packages.get(&name) {
                    stack.extend(p.dependencies.iter().cloned());
                }
            }
        }
    };
    for root in &roots {
        reach(root, &mut reached);
    }
    // Packages nothing depends on first: a dependency of an unreached package is reached
    // through it rather than made a root of its own.
    for only_top_level in [true, false] {
        for name in closure.packages.keys() {
            let skip = reached.contains(name) || (only_top_level && depended.contains(name));
            if !skip {
                roots.insert(name.clone());
                reach(name, &mut reached);
            }
        }
    }
    roots
}

/// Whether a lock is an install list rather than a graph walked from the project's roots.
pub fn is_flat(lock: &Lock) -> bool {
    lock.install == InstallSet::Flat
}

fn unknown<'a>(
    kind: &'static str,
    name: &str,
    known: impl Iterator<Item = impl AsRef<str> + 'a>,
) -> PlanError {
    let known: Vec<String> = known.map(|k| k.as_ref().to_string()).collect();
    PlanError::UnknownSelection {
        kind,
        name: name.to_string(),
        known: if known.is_empty() {
            "none".to_string()
        } else {
            known.join(", ")
        },
    }
}

/// `myproject[extra]` inside the project's own extras or groups stands for that extra's edges.
fn expand_self_references(
    project: &Project,
    roots: Vec<Dependency>,
) -> Result<Vec<Dependency>, PlanError> {
    let Some(own_name) = &project.name else {
        return Ok(roots);
    };
    let mut out = Vec::new();
    let mut queue: VecDeque<Dependency> = roots.into();
    let mut expanded = BTreeSet::new();
    while let Some(dep) = queue.pop_front() {
        if &dep.name != own_name {
            out.push(dep);
            continue;
        }
        for extra in &dep.extras {
            if expanded.insert(extra.clone()) {
                let deps = project.extras.get(extra).ok_or_else(|| {
                    PlanError::Request(format!(
                        "the project refers to its own extra `{extra}`, which it does not define"
                    ))
                })?;
                queue.extend(deps.iter().cloned());
            }
        }
    }
    Ok(out)
}

struct Walk<'a> {
    lock: &'a Lock,
    target: &'a Target,
    env: MarkerEnvironment,
    root_extras: Vec<ExtraName>,
    by_name: BTreeMap<&'a PackageName, Vec<usize>>,
    packages: BTreeMap<PackageName, ClosurePackage>,
}

/// Walks the lock from `roots` for `target`, evaluating markers and activating extras
/// transitively, to the exact set of packages and the edges between them.
pub fn walk_closure(
    lock: &Lock,
    roots: &[Dependency],
    root_extras: &[ExtraName],
    target: &Target,
) -> Result<Closure, PlanError> {
    let mut by_name: BTreeMap<&PackageName, Vec<usize>> = BTreeMap::new();
    for (index, package) in lock.packages.iter().enumerate() {
        by_name.entry(&package.name).or_default().push(index);
    }
    let mut walk = Walk {
        lock,
        target,
        env: target.marker_environment(),
        root_extras: root_extras.to_vec(),
        by_name,
        packages: BTreeMap::new(),
    };
    let mut queue = VecDeque::new();
    let mut root_names = BTreeSet::new();
    for dep in roots {
        if !walk.edge_applies(dep, &[], None) {
            continue;
        }
        root_names.insert(dep.name.clone());
        walk.add(dep, "the project", &mut queue)?;
    }
    while let Some(name) = queue.pop_front() {
        walk.expand(&name, &mut queue)?;
    }
    Ok(Closure {
        roots: root_names,
        packages: walk.packages,
    })
}

impl<'a> Walk<'a> {
    fn edge_applies(
        &self,
        dep: &Dependency,
        extras: &[ExtraName],
        parent: Option<&LockedPackage>,
    ) -> bool {
        if let Some(python) = &dep.python {
            if !python.contains(&self.target.python.full_version()) {
                return false;
            }
        }
        if dep.optional {
            let Some(parent) = parent else { return false };
            let wanted = extras.iter().any(|extra| {
                parent
                    .extras
                    .get(extra)
                    .is_some_and(|names| names.contains(&dep.name))
            });
            if !wanted {
                return false;
            }
        }
        dep.marker.evaluate(&self.env, extras)
    }

    /// Selects the locked version for an active edge and queues the package when it or its
    /// extras are new.
    fn add(
        &mut self,
        dep: &Dependency,
        from: &str,
        queue: &mut VecDeque<PackageName>,
    ) -> Result<(), PlanError> {
        let index = self.choose_version(dep, from)?;
        let entry = self.packages.entry(dep.name.clone());
        let mut changed = false;
        let package = match entry {
            std::collections::btree_map::Entry::Vacant(vacant) => {
                changed = true;
                vacant.insert(ClosurePackage {
                    lock_index: index,
                    extras: BTreeSet::new(),
                    dependencies: BTreeSet::new(),
                })
            }
            std::collections::btree_map::Entry::Occupied(occupied) => occupied.into_mut(),
        };
        for extra in &dep.extras {
            changed |= package.extras.insert(extra.clone());
        }
        if changed {
            queue.push_back(dep.name.clone());
        }
        Ok(())
    }

    fn expand(
        &mut self,
        name: &PackageName,
        queue: &mut VecDeque<PackageName>,
    ) -> Result<(), PlanError> {
        let Some(selected) = self.packages.get(name) else {
            return Ok(());
        };
        let locked = &self.lock.packages[selected.lock_index];
        let extras: Vec<ExtraName> = selected.extras.iter().cloned().collect();
        let from = format!("{} {}", locked.name, locked.version);
        let mut edges = BTreeSet::new();
        for dep in &locked.dependencies {
            if !self.edge_applies(dep, &extras, Some(locked)) || dep.name == locked.name {
                continue;
            }
            self.add(dep, &from, queue)?;
            edges.insert(dep.name.clone());
        }
        if let Some(selected) = self.packages.get_mut(name) {
            selected.dependencies.extend(edges);
        }
        Ok(())
    }

    /// Picks the locked version of `dep.name` for this edge: one that satisfies the edge's
    /// constraint and supports the target's Python; the lock's own markers and then the
    /// highest version break ties. A version chosen earlier is kept while it fits.
    fn choose_version(&self, dep: &Dependency, from: &str) -> Result<usize, PlanError> {
        let all = self
            .by_name
            .get(&dep.name)
            .ok_or_else(|| PlanError::MissingPackage {
                package: dep.name.to_string(),
                from: from.to_string(),
            })?;
        let python = self.target.python.full_version();
        let fitting: Vec<usize> = all
            .iter()
            .copied()
            .filter(|&i| {
                let p = &self.lock.packages[i];
                dep.version.contains(&p.version) && p.requires_python.contains(&python)
            })
            .collect();
        if let Some(existing) = self.packages.get(&dep.name) {
            if fitting.contains(&existing.lock_index) {
                return Ok(existing.lock_index);
            }
            let chosen = &self.lock.packages[existing.lock_index];
            return Err(PlanError::Conflict {
                package: dep.name.to_string(),
                target: self.target.describe(),
                chosen: chosen.version.to_string(),
                from: from.to_string(),
                constraint: dep.version.to_string(),
            });
        }
        let marked: Vec<usize> = fitting
            .iter()
            .copied()
            .filter(|&i| {
                self.lock.packages[i]
                    .marker
                    .as_ref()
                    .is_none_or(|m| m.evaluate(&self.env, &self.root_extras))
            })
            .collect();
        let pool = if marked.is_empty() { &fitting } else { &marked };
        pool.iter()
            .copied()
            .max_by(|&a, &b| {
                self.lock.packages[a]
                    .version
                    .cmp(&self.lock.packages[b].version)
            })
            .ok_or_else(|| PlanError::NoMatchingVersion {
                package: dep.name.to_string(),
                constraint: dep.version.to_string(),
                from: from.to_string(),
                target: self.target.describe(),
                locked: all
                    .iter()
                    .map(|&i| self.lock.packages[i].version.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

/// Dependency edges that close a cycle, found by a depth-first walk from the roots in name
/// order; removing them leaves an acyclic graph Nix can build.
pub fn cycle_breaks(closure: &Closure) -> BTreeMap<PackageName, BTreeSet<PackageName>> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        Open,
        Done,
    }
    let mut state: BTreeMap<&PackageName, State> = BTreeMap::new();
    let mut breaks: BTreeMap<PackageName, BTreeSet<PackageName>> = BTreeMap::new();
    let starts = closure.roots.iter().chain(closure.packages.keys());
    for start in starts {
        if state.contains_key(start) || !closure.packages.contains_key(start) {
            continue;
        }
        // An explicit stack of (node, its dependencies still to visit) keeps deep graphs off
        // the call stack.
        let mut stack: Vec<(&PackageName, Vec<&PackageName>)> = Vec::new();
        state.insert(start, State::Open);
        stack.push((start, children(closure, start)));
        while let Some((node, pending)) = stack.last_mut() {
            let node = *node;
            match pending.pop() {
                None => {
                    state.insert(node, State::Done);
                    stack.pop();
                }
                Some(child) => match state.get(child) {
                    Some(State::Open) => {
                        breaks
                            .entry(node.clone())
                            .or_default()
                            .insert(child.clone());
                    }
                    Some(State::Done) => {}
                    None => {
                        state.insert(child, State::Open);
                        stack.push((child, children(closure, child)));
                    }
                },
            }
        }
    }
    breaks
}

/// A package's dependencies, reversed so that popping visits them in name order.
fn children<'a>(closure: &'a Closure, name: &PackageName) -> Vec<&'a PackageName> {
    closure
        .packages
        .get(name)
        .map(|p| p.dependencies.iter().rev().collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use pep440_rs::{Version, VersionSpecifiers};
    use py2nix_lock::{pep508_dependency, LockFormat, PackageSource};

    use super::*;
    use crate::target::{NixSystem, PythonVersion};

    use NixSystem::{Aarch64Darwin, Aarch64Linux, X86_64Darwin, X86_64Linux};

    fn name(text: &str) -> PackageName {
        PackageName::from_str(text).unwrap()
    }

    fn extra(text: &str) -> ExtraName {
        ExtraName::from_str(text).unwrap()
    }

    /// An edge written as PEP 508 (`b[x]>=1 ; sys_platform == 'linux'`).
    fn dep(text: &str) -> Dependency {
        pep508_dependency(text).unwrap()
    }

    /// An edge only an extra of the depending package turns on (`optional = true`).
    fn optional(text: &str) -> Dependency {
        Dependency {
            optional: true,
            ..dep(text)
        }
    }

    /// A locked `name version` with its edges.
    fn package(name_version: &str, dependencies: Vec<Dependency>) -> LockedPackage {
        let (package, version) = name_version.split_once(' ').unwrap();
        LockedPackage {
            name: name(package),
            version: Version::from_str(version).unwrap(),
            requires_python: VersionConstraint::any(),
            marker: None,
            files: Vec::new(),
            dependencies,
            extras: BTreeMap::new(),
            source: PackageSource::DefaultIndex,
            dependencies_known: true,
            requested_extras: Vec::new(),
            index_hashes: None,
        }
    }

    fn with_extra(mut locked: LockedPackage, name_of_extra: &str, names: &[&str]) -> LockedPackage {
        let names = names.iter().map(|n| name(n)).collect();
        locked.extras.insert(extra(name_of_extra), names);
        locked
    }

    fn with_marker(mut locked: LockedPackage, marker: &str) -> LockedPackage {
        locked.marker = Some(dep(&format!("x ; {marker}")).marker);
        locked
    }

    fn with_python(mut locked: LockedPackage, specifiers: &str) -> LockedPackage {
        locked.requires_python =
            VersionConstraint::from_pep440(VersionSpecifiers::from_str(specifiers).unwrap());
        locked
    }

    fn lock(packages: Vec<LockedPackage>) -> Lock {
        Lock {
            format: LockFormat::Uv,
            lock_version: "1".to_string(),
            packages,
            warnings: Vec::new(),
            project: None,
            install: InstallSet::Graph,
            indexes: Vec::new(),
        }
    }

    fn target(system: NixSystem, minor: u64) -> Target {
        Target::new(system, PythonVersion::new(minor))
    }

    /// A closure as text: one `name version[extras] -> dependencies` per package, in name
    /// order, roots marked `*`.
    fn describe(lock: &Lock, closure: &Closure) -> Vec<String> {
        closure
            .packages
            .iter()
            .map(|(package, selected)| {
                let locked = &lock.packages[selected.lock_index];
                assert_eq!(&locked.name, package);
                let mut line = format!("{package} {}", locked.version);
                if !selected.extras.is_empty() {
                    let extras: Vec<&str> = selected.extras.iter().map(|e| e.as_ref()).collect();
                    line += &format!("[{}]", extras.join(","));
                }
                if closure.roots.contains(package) {
                    line.insert(0, '*');
                }
                if !selected.dependencies.is_empty() {
                    let deps: Vec<&str> =
                        selected.dependencies.iter().map(|d| d.as_ref()).collect();
                    line += &format!(" -> {}", deps.join(", "));
                }
                line
            })
            .collect()
    }

    /// Walks `lock` from `roots` (PEP 508 texts) for `target`.
    fn walk(
        lock: &Lock,
        roots: &[&str],
        root_extras: &[&str],
        target: &Target,
    ) -> Result<Vec<String>, String> {
        let roots: Vec<Dependency> = roots.iter().map(|r| dep(r)).collect();
        let root_extras: Vec<ExtraName> = root_extras.iter().map(|e| extra(e)).collect();
        walk_closure(lock, &roots, &root_extras, target)
            .map(|closure| describe(lock, &closure))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn markers_choose_the_edges_of_each_target() {
        let lock = lock(vec![
            package(
                "a 1",
                vec![
                    dep("f ; os_name == 'nt'"),
                    dep("g ; implementation_name == 'cpython'"),
                ],
            ),
            package("b 1", vec![]),
            package("c 1", vec![]),
            package("d 1", vec![]),
            package("e 1", vec![]),
            package("f 1", vec![]),
            package("g 1", vec![]),
            package("h 1", vec![]),
        ]);
        let roots = [
            "a",
            "b ; sys_platform == 'darwin'",
            "c ; python_version < '3.12'",
            "d ; platform_machine == 'aarch64' or platform_machine == 'arm64'",
            "e ; sys_platform == 'linux' and python_full_version >= '3.12'",
            "h ; platform_system == 'Darwin' and platform_machine == 'x86_64'",
        ];
        let cases: [(NixSystem, u64, &[&str]); 5] = [
            (X86_64Linux, 11, &["*a 1 -> g", "*c 1", "g 1"]),
            (X86_64Linux, 12, &["*a 1 -> g", "*e 1", "g 1"]),
            (Aarch64Linux, 13, &["*a 1 -> g", "*d 1", "*e 1", "g 1"]),
            (
                Aarch64Darwin,
                11,
                &["*a 1 -> g", "*b 1", "*c 1", "*d 1", "g 1"],
            ),
            (X86_64Darwin, 12, &["*a 1 -> g", "*b 1", "g 1", "*h 1"]),
        ];
        for (system, minor, expected) in cases {
            let target = target(system, minor);
            assert_eq!(
                walk(&lock, &roots, &[], &target).unwrap(),
                expected,
                "{}",
                target.describe()
            );
        }
    }

    #[test]
    fn poetry_python_constraints_limit_an_edge() {
        let old = Dependency {
            python: Some(VersionConstraint::from_pep440(
                VersionSpecifiers::from_str("<3.12").unwrap(),
            )),
            ..dep("tomli")
        };
        let lock = lock(vec![package("a 1", vec![old]), package("tomli 2", vec![])]);
        for (minor, expected) in [(11, &["*a 1 -> tomli", "tomli 2"][..]), (12, &["*a 1"][..])] {
            assert_eq!(
                walk(&lock, &["a"], &[], &target(X86_64Linux, minor)).unwrap(),
                expected
            );
        }
    }

    #[test]
    fn extras_turn_on_their_edges_transitively() {
        let lock = lock(vec![
            with_extra(
                package(
                    "a 1",
                    vec![
                        optional("b"),
                        dep("c ; extra == 'y'"),
                        dep("d[z] ; extra == 'x'"),
                    ],
                ),
                "x",
                &["b"],
            ),
            package("b 1", vec![]),
            package("c 1", vec![]),
            with_extra(package("d 1", vec![optional("e"), dep("f")]), "z", &["e"]),
            package("e 1", vec![]),
            package("f 1", vec![]),
            package("g 1", vec![]),
        ]);
        let cases: [(&[&str], &[&str], &[&str]); 6] = [
            (&["a"], &[], &["*a 1"]),
            (
                &["a[x]"],
                &[],
                &["*a 1[x] -> b, d", "b 1", "d 1[z] -> e, f", "e 1", "f 1"],
            ),
            (&["a[y]"], &[], &["*a 1[y] -> c", "c 1"]),
            (
                &["a[x,y]"],
                &[],
                &[
                    "*a 1[x,y] -> b, c, d",
                    "b 1",
                    "c 1",
                    "d 1[z] -> e, f",
                    "e 1",
                    "f 1",
                ],
            ),
            // Two edges to one package: its extras are the union.
            (&["a", "a[y]"], &[], &["*a 1[y] -> c", "c 1"]),
            // An extra a package does not have turns nothing on.
            (&["a[nope]"], &[], &["*a 1[nope]"]),
        ];
        for (roots, root_extras, expected) in cases {
            let got = walk(&lock, roots, root_extras, &target(X86_64Linux, 12)).unwrap();
            assert_eq!(got, expected, "{roots:?} {root_extras:?}");
        }
    }

    #[test]
    fn forks_pick_the_version_of_each_target() {
        let lock = lock(vec![
            package("app 1", vec![dep("torch"), dep("y"), dep("x<2")]),
            with_marker(package("torch 2.0", vec![]), "sys_platform == 'darwin'"),
            with_marker(package("torch 2.1", vec![]), "sys_platform == 'linux'"),
            package("x 1", vec![]),
            package("x 2", vec![]),
            package("y 1", vec![]),
            with_python(package("y 2", vec![]), ">=3.12"),
        ]);
        let cases: [(NixSystem, u64, &[&str]); 3] = [
            (
                X86_64Linux,
                11,
                &["*app 1 -> torch, x, y", "torch 2.1", "x 1", "y 1"],
            ),
            (
                X86_64Linux,
                12,
                &["*app 1 -> torch, x, y", "torch 2.1", "x 1", "y 2"],
            ),
            (
                Aarch64Darwin,
                13,
                &["*app 1 -> torch, x, y", "torch 2.0", "x 1", "y 2"],
            ),
        ];
        for (system, minor, expected) in cases {
            let target = target(system, minor);
            let got = walk(&lock, &["app"], &[], &target).unwrap();
            assert_eq!(got, expected, "{}", target.describe());
        }
        // The edge's own constraint comes first: the lock's markers only break ties.
        let got = walk(&lock, &["torch<2.1"], &[], &target(X86_64Linux, 12)).unwrap();
        assert_eq!(got, ["*torch 2.0"]);
    }

    #[test]
    fn the_selected_extras_choose_between_versions_locked_for_conflicting_extras() {
        // uv's conflicting extras: one version per extra, told apart by the lock's markers.
        let lock = lock(vec![
            with_marker(package("t 1", vec![]), "extra == 'cpu'"),
            with_marker(package("t 2", vec![]), "extra == 'gpu'"),
        ]);
        let cases: [(&[&str], &str); 3] = [(&["cpu"], "*t 1"), (&["gpu"], "*t 2"), (&[], "*t 2")];
        for (root_extras, expected) in cases {
            let got = walk(&lock, &["t"], root_extras, &target(X86_64Linux, 12)).unwrap();
            assert_eq!(got, [expected], "{root_extras:?}");
        }
    }

    #[test]
    fn versions_that_cannot_be_chosen_are_errors_naming_the_edge() {
        let lock = lock(vec![
            package("w 1", vec![dep("z<2")]),
            package("v 1", vec![dep("z")]),
            package("u 1", vec![dep("missing>=1")]),
            package("z 1", vec![]),
            package("z 2", vec![]),
            with_python(package("old 1", vec![]), "<3.10"),
        ]);
        let t = target(X86_64Linux, 12);
        // A version chosen first is kept while later edges allow it.
        assert_eq!(
            walk(&lock, &["z<2", "v"], &[], &t).unwrap(),
            ["*v 1 -> z", "*z 1"]
        );
        assert_eq!(
            walk(&lock, &["w", "z<2"], &[], &t).unwrap(),
            ["*w 1 -> z", "*z 1"]
        );
        let cases: [(&[&str], &str); 4] = [
            (
                &["z", "w"],
                "w 1 needs `z` <2 for x86_64-linux/3.12, but version 2 was already chosen there",
            ),
            (
                &["u"],
                "u 1 depends on `missing`, which the lock does not contain",
            ),
            (
                &["z>=3"],
                "the project needs `z` >=3 for x86_64-linux/3.12, but no locked version fits (locked: 1, 2)",
            ),
            (
                &["old"],
                "the project needs `old` * for x86_64-linux/3.12, but no locked version fits (locked: 1)",
            ),
        ];
        for (roots, message) in cases {
            let error = walk(&lock, roots, &[], &t).unwrap_err();
            assert!(error.starts_with(message), "{roots:?}: {error}");
        }
    }

    #[test]
    fn a_package_depending_on_itself_gets_no_edge_to_itself() {
        let lock = lock(vec![
            package("a 1", vec![dep("a"), dep("b")]),
            package("b 1", vec![dep("b>=1")]),
        ]);
        let got = walk(&lock, &["a"], &[], &target(X86_64Linux, 12)).unwrap();
        assert_eq!(got, ["*a 1 -> b", "b 1"]);
    }

    /// A closure of `edges` (`"a -> b c"`), rooted at `roots`.
    fn graph(roots: &[&str], edges: &[&str]) -> Closure {
        let mut packages = BTreeMap::new();
        for (index, line) in edges.iter().enumerate() {
            let (from, to) = line.split_once("->").unwrap_or((line, ""));
            packages.insert(
                name(from.trim()),
                ClosurePackage {
                    lock_index: index,
                    extras: BTreeSet::new(),
                    dependencies: to.split_whitespace().map(name).collect(),
                },
            );
        }
        Closure {
            roots: roots.iter().map(|r| name(r)).collect(),
            packages,
        }
    }

    /// Whether the closure without `breaks` has no cycle (Kahn's algorithm empties it).
    fn acyclic_without(
        closure: &Closure,
        breaks: &BTreeMap<PackageName, BTreeSet<PackageName>>,
    ) -> bool {
        let mut remaining: BTreeMap<&PackageName, BTreeSet<&PackageName>> = closure
            .packages
            .iter()
            .map(|(name, p)| {
                let cut = breaks.get(name);
                let kept = p
                    .dependencies
                    .iter()
                    .filter(|d| cut.is_none_or(|c| !c.contains(*d)))
                    .filter(|d| closure.packages.contains_key(*d))
                    .collect();
                (name, kept)
            })
            .collect();
        while let Some(leaf) = remaining
            .iter()
            .find(|(_, deps)| deps.is_empty())
            .map(|(n, _)| *n)
        {
            remaining.remove(leaf);
            for deps in remaining.values_mut() {
                deps.remove(leaf);
            }
        }
        remaining.is_empty()
    }

    #[test]
    fn cycles_are_broken_at_their_back_edges() {
        let cases: [(&[&str], &[&str], &[&str]); 7] = [
            (&["a"], &["a -> b", "b -> c", "c"], &[]),
            (&["a"], &["a -> b", "b -> a"], &["b -> a"]),
            (&["b"], &["a -> b", "b -> a"], &["a -> b"]),
            (&["a"], &["a -> b", "b -> c", "c -> a b"], &["c -> a b"]),
            (&["a"], &["a -> b c", "b -> d", "c -> d", "d"], &[]),
            // A cycle the roots do not reach is walked from its first name.
            (&["a"], &["a", "x -> y", "y -> x"], &["y -> x"]),
            // Two cycles through one package: each broken once.
            (
                &["a"],
                &["a -> b c", "b -> a", "c -> a"],
                &["b -> a", "c -> a"],
            ),
        ];
        for (roots, edges, expected) in cases {
            let closure = graph(roots, edges);
            let breaks = cycle_breaks(&closure);
            let got: Vec<String> = breaks
                .iter()
                .map(|(from, to)| {
                    let to: Vec<&str> = to.iter().map(|t| t.as_ref()).collect();
                    format!("{from} -> {}", to.join(" "))
                })
                .collect();
            assert_eq!(got, expected, "{edges:?} from {roots:?}");
            assert!(acyclic_without(&closure, &breaks), "{edges:?}");
        }
        let cyclic = graph(&["a"], &["a -> b", "b -> a"]);
        assert!(!acyclic_without(&cyclic, &BTreeMap::new()));
    }

    fn project(text: &[(&str, &[&str])]) -> Project {
        let mut project = Project {
            name: Some(name("app")),
            ..Project::default()
        };
        for (key, deps) in text {
            let deps: Vec<Dependency> = deps.iter().map(|d| dep(d)).collect();
            match key.split_once(':') {
                None => project.dependencies = deps,
                Some(("group", group)) => {
                    project.groups.insert(group.to_string(), deps);
                }
                Some(("extra", e)) => {
                    project.extras.insert(extra(e), deps);
                }
                Some(_) => panic!("{key}"),
            }
        }
        project.default_groups = vec!["dev".to_string()];
        project
    }

    #[test]
    fn the_selection_chooses_the_root_edges() {
        let project = project(&[
            ("main", &["requests"]),
            ("group:dev", &["pytest"]),
            ("group:docs", &["sphinx"]),
            ("extra:cli", &["click"]),
            ("extra:all", &["app[cli,web]"]),
            ("extra:web", &["flask", "app[cli]"]),
        ]);
        let selection = |groups: &[&str], extras: &[&str], all_groups: bool| Selection {
            groups: groups.iter().map(|g| g.to_string()).collect(),
            all_groups,
            extras: extras.iter().map(|e| extra(e)).collect(),
            ..Selection::default()
        };
        let cases: [(Selection, &[&str]); 6] = [
            (selection(&[], &[], false), &["requests"]),
            (selection(&["DOCS"], &[], false), &["requests", "sphinx"]),
            (selection(&[], &[], true), &["requests", "pytest", "sphinx"]),
            (selection(&[], &["cli"], false), &["requests", "click"]),
            // `app[...]` in the project's own extras stands for those extras' edges, once.
            (
                selection(&[], &["all"], false),
                &["requests", "click", "flask"],
            ),
            (
                selection(&["dev"], &["web"], false),
                &["requests", "pytest", "flask", "click"],
            ),
        ];
        for (selection, expected) in cases {
            let roots = root_dependencies(&project, &selection).unwrap();
            let names: Vec<&str> = roots.iter().map(|d| d.name.as_ref()).collect();
            assert_eq!(names, expected, "{selection:?}");
        }
        let errors = [
            (
                selection(&["test"], &[], false),
                "the project has no group `test` (it has: dev, docs)",
            ),
            (
                selection(&[], &["gui"], false),
                "the project has no extra `gui` (it has: all, cli, web)",
            ),
        ];
        for (selection, message) in errors {
            let error = root_dependencies(&project, &selection).unwrap_err();
            assert_eq!(error.to_string(), message);
        }
        let mut broken = project.clone();
        broken.extras.insert(extra("bad"), vec![dep("app[nope]")]);
        let error = root_dependencies(&broken, &selection(&[], &["bad"], false)).unwrap_err();
        assert!(
            error.to_string().contains("its own extra `nope`"),
            "{error}"
        );
    }

    #[test]
    fn the_plan_holds_every_group_unless_the_command_line_names_some() {
        let project = project(&[("group:dev", &["pytest"]), ("group:docs", &["sphinx"])]);
        let implicit = Selection::default();
        assert!(!implicit.is_explicit());
        let held = implicit.held();
        assert!(held.all_groups && held.all_extras);
        assert_eq!(
            implicit.dev_groups_of(&project).unwrap(),
            ["dev".to_string()].into()
        );
        let docs = Selection {
            groups: vec!["docs".to_string()],
            ..Selection::default()
        };
        assert!(docs.is_explicit());
        assert!(!docs.held().all_groups);
        // `dev` is a default group, but `--group docs` does not hold it.
        assert!(docs.dev_groups_of(&project).unwrap().is_empty());
        let no_default = Selection {
            no_default_groups: true,
            ..Selection::default()
        };
        assert!(no_default.dev_groups_of(&project).unwrap().is_empty());
    }

    #[test]
    fn install_lists_keep_every_package_reachable_from_the_plan_roots() {
        let cases: [(&[&str], &[&str], &[&str]); 4] = [
            // No preferred roots: what nothing depends on.
            (&[], &["a -> b", "b", "c"], &["a", "c"]),
            (&["b"], &["a -> b", "b", "c"], &["a", "b", "c"]),
            (&["a"], &["a -> b", "b", "c -> b"], &["a", "c"]),
            // A cycle nothing outside reaches: its first name.
            (&[], &["a", "x -> y", "y -> x"], &["a", "x"]),
        ];
        for (preferred, edges, expected) in cases {
            let closure = graph(&[], edges);
            let preferred: BTreeSet<PackageName> = preferred.iter().map(|p| name(p)).collect();
            let roots = flat_plan_roots(&closure, &preferred);
            let roots: Vec<&str> = roots.iter().map(|r| r.as_ref()).collect();
            assert_eq!(roots, expected, "{edges:?} preferring {preferred:?}");
        }
    }
}
