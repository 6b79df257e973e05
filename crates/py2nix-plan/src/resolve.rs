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
