//! Build environments, one per package built from source: the pure resolution behind
//! `buildsys::discover`. No I/O: what the index says comes through the [`BuildIndex`] trait
//! (implemented by `buildsys` over the network and the caches, and by the tests over literals).
//!
//! Each package's build requirements are resolved alone, as pip's and uv's build isolation do:
//! its **closure** is its requirements and everything they need at run time, one version per
//! name, each the version the target installs when that fits every requirement of the closure,
//! else the newest version on the index that fits them all and has a file for the target (a
//! final release before a pre-release, a wheel before an sdist). A build package that is itself
//! an sdist gets a closure of its own the same way. Closures of equal requirement lists are
//! resolved once.
//!
//! The build packages of every closure are then interned: two are one when their name, file,
//! extras, dependencies and (for an sdist) build closure are the same, so that Nix builds each
//! once. Each gets a key ([`Environments::packages`]): its name, or `<name>@<version>` when the
//! target also installs that name or plans another build package of it (then
//! `<name>@<version>#<n>` for the rare second one of a version with other dependencies).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::rc::Rc;

use pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::MarkerEnvironment;
use py2nix_index::{Page, PageFile};
use py2nix_lock::{Dependency, ExtraName};
use py2nix_plan::{SourceKind, TagPriorities, WheelFilename};

/// Rounds of resolution of one closure before giving up: each round adds a decision.
const MAX_ROUNDS: usize = 100;
/// Versions named in a conflict message, newest first.
const VERSIONS_SHOWN: usize = 12;

/// A build requirement and who has it.
#[derive(Debug, Clone)]
pub struct Constraint {
    pub dependency: Dependency,
    pub requirer: String,
}

/// A version chosen from the index.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub version: Version,
    pub file: PageFile,
    pub kind: SourceKind,
}

/// What resolution needs from the index, in batches (every `load_*` is asked for all it will
/// need in a round, then the getters answer).
pub trait BuildIndex {
    type Error;
    /// Makes the whole pages of `names` known. `wants` says who requires each (for errors).
    fn load_pages(
        &mut self,
        names: &BTreeSet<String>,
        wants: &BTreeMap<String, Vec<Constraint>>,
    ) -> Result<(), Self::Error>;
    fn page(&self, name: &str) -> Option<&Page>;
    /// Makes the `Requires-Dist` of `files` known.
    fn load_requires(&mut self, files: &[&PageFile]) -> Result<(), Self::Error>;
    /// A file's `Requires-Dist`; `None` when it was not loaded or the file does not tell.
    fn requires(&self, file: &PageFile) -> Option<&[Dependency]>;
    /// Makes the build requirements of these sdists known.
    fn load_build_requirements(&mut self, sdists: &[(&str, &Candidate)])
        -> Result<(), Self::Error>;
    /// An sdist's build requirements for the target (markers evaluated, the override
    /// database applied); `None` when not loaded.
    fn build_requirements(
        &self,
        name: &str,
        candidate: &Candidate,
    ) -> Option<Result<Vec<Dependency>, String>>;
}

/// Why resolution failed.
#[derive(Debug)]
pub enum ResolveError<E> {
    /// Requirements that cannot be met (or a cycle), one message each.
    Unmet(Vec<String>),
    /// The index failed.
    Index(E),
}

impl<E> From<E> for ResolveError<E> {
    fn from(error: E) -> Self {
        ResolveError::Index(error)
    }
}

/// The target a resolution is for.
pub struct TargetContext<'a> {
    pub env: &'a MarkerEnvironment,
    pub tags: &'a TagPriorities,
    pub python: &'a Version,
    /// The versions the target installs, by name.
    pub runtime: &'a BTreeMap<String, Version>,
}

/// One package of a closure.
#[derive(Debug, Clone, PartialEq)]
pub enum Member {
    /// The target's own package, whose version fits.
    Runtime,
    /// A version from the index.
    Index {
        candidate: Candidate,
        /// Names of the closure it depends on (markers evaluated with its extras).
        dependencies: BTreeSet<String>,
        extras: BTreeSet<String>,
        /// Whether its metadata states its dependencies.
        stated: bool,
    },
}

/// One package's build environment: every package in it, by name.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Closure {
    pub members: BTreeMap<String, Member>,
}

/// Resolves the closure of `requirements` (the build requirements of `requirer`).
pub fn resolve_closure<I: BuildIndex>(
    requirer: &str,
    requirements: &[Dependency],
    cx: &TargetContext,
    index: &mut I,
) -> Result<Closure, ResolveError<I::Error>> {
    let mut chosen: BTreeMap<String, Candidate> = BTreeMap::new();
    let mut extras: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for _round in 0..MAX_ROUNDS {
        // Every requirement of the closure, from the packages chosen last round.
        let mut constraints: BTreeMap<String, Vec<Constraint>> = BTreeMap::new();
        let mut add = |dependency: &Dependency, requirer: String| {
            constraints
                .entry(dependency.name.to_string())
                .or_default()
                .push(Constraint {
                    dependency: dependency.clone(),
                    requirer,
                });
        };
        for dependency in requirements {
            add(dependency, format!("{requirer} (to build it)"));
        }
        for (name, candidate) in &chosen {
            let on = extra_names(extras.get(name));
            if let Some(deps) = index.requires(&candidate.file) {
                for dependency in deps {
                    if dependency.name.as_ref() != name && dependency.marker.evaluate(cx.env, &on) {
                        add(dependency, format!("{name} {}", candidate.version));
                    }
                }
            }
        }
        let next_extras: BTreeMap<String, BTreeSet<String>> = constraints
            .iter()
            .map(|(name, list)| {
                let set = list
                    .iter()
                    .flat_map(|c| c.dependency.extras.iter().map(ToString::to_string))
                    .collect();
                (name.clone(), set)
            })
            .collect();
        // The target's own version when it fits every requirement, else the index's.
        let undecided: BTreeSet<String> = constraints
            .iter()
            .filter(|(name, list)| !runtime_fits(cx.runtime, name, list))
            .map(|(name, _)| name.clone())
            .collect();
        index.load_pages(&undecided, &constraints)?;
        let mut next: BTreeMap<String, Candidate> = BTreeMap::new();
        let mut problems = Vec::new();
        for name in &undecided {
            let list = &constraints[name];
            let empty = Page { files: Vec::new() };
            let page = index.page(name).unwrap_or(&empty);
            match choose_candidate(name, page, list, cx.tags, cx.python) {
                Some(candidate) => {
                    next.insert(name.clone(), candidate);
                }
                None => problems.push(conflict_message(
                    name,
                    list,
                    cx.runtime.get(name),
                    page,
                    cx.python,
                    cx.tags,
                )),
            }
        }
        if !problems.is_empty() {
            return Err(ResolveError::Unmet(problems));
        }
        let files: Vec<&PageFile> = next.values().map(|c| &c.file).collect();
        index.load_requires(&files)?;
        let same = next == chosen && next_extras == extras;
        chosen = next;
        extras = next_extras;
        if same {
            let mut members = BTreeMap::new();
            for name in constraints.keys() {
                let member = match chosen.get(name) {
                    None => Member::Runtime,
                    Some(candidate) => {
                        let on = extra_names(extras.get(name));
                        let deps = index.requires(&candidate.file);
                        let dependencies = deps
                            .unwrap_or_default()
                            .iter()
                            .filter(|d| d.name.as_ref() != name && d.marker.evaluate(cx.env, &on))
                            .map(|d| d.name.to_string())
                            .collect();
                        Member::Index {
                            candidate: candidate.clone(),
                            dependencies,
                            extras: extras.get(name).cloned().unwrap_or_default(),
                            stated: deps.is_some(),
                        }
                    }
                };
                members.insert(name.clone(), member);
            }
            return Ok(Closure { members });
        }
    }
    Err(ResolveError::Unmet(vec![format!(
        "{requirer}: its build requirements do not settle after {MAX_ROUNDS} rounds"
    )]))
}

fn extra_names(set: Option<&BTreeSet<String>>) -> Vec<ExtraName> {
    set.into_iter()
        .flatten()
        .filter_map(|e| e.parse().ok())
        .collect()
}

fn runtime_fits(runtime: &BTreeMap<String, Version>, name: &str, list: &[Constraint]) -> bool {
    runtime
        .get(name)
        .is_some_and(|version| list.iter().all(|c| c.dependency.version.contains(version)))
}

/// The files of `page` usable on the target, by version.
fn usable_versions<'p>(
    name: &str,
    page: &'p Page,
    python: &Version,
) -> BTreeMap<Version, Vec<&'p PageFile>> {
    let mut by_version: BTreeMap<Version, Vec<&PageFile>> = BTreeMap::new();
    for file in &page.files {
        if file.yanked || file.sha256.is_none() {
            continue;
        }
        if let Some(requires) = &file.requires_python {
            match requires.trim().parse::<VersionSpecifiers>() {
                Ok(specifiers) if specifiers.contains(python) => {}
                _ => continue,
            }
        }
        let Some(version) = py2nix_dist::filename_version(&file.filename, name) else {
            continue;
        };
        by_version.entry(version).or_default().push(file);
    }
    by_version
}

/// The newest version on `page` that every constraint allows, with a file for the target:
/// final releases before pre-releases, then the best wheel, else an sdist.
pub fn choose_candidate(
    name: &str,
    page: &Page,
    list: &[Constraint],
    tags: &TagPriorities,
    python: &Version,
) -> Option<Candidate> {
    let by_version = usable_versions(name, page, python);
    let allowed = |version: &Version| list.iter().all(|c| c.dependency.version.contains(version));
    let pick = |pre: bool| {
        by_version
            .iter()
            .rev()
            .filter(|(version, _)| pre || !version.any_prerelease())
            .filter(|(version, _)| allowed(version))
            .find_map(|(version, files)| {
                best_file(files, tags).map(|(file, kind)| Candidate {
                    version: version.clone(),
                    file: file.clone(),
                    kind,
                })
            })
    };
    pick(false).or_else(|| pick(true))
}

/// The best wheel by the target's tag priority, else an sdist py2nix can read (by
/// `py2nix_dist`'s order of sdist extensions, `.tar.gz` first).
fn best_file<'a>(
    files: &[&'a PageFile],
    tags: &TagPriorities,
) -> Option<(&'a PageFile, SourceKind)> {
    let wheel = files
        .iter()
        .filter_map(|f| Some((tags.rank(&WheelFilename::parse(&f.filename)?)?, *f)))
        .min_by(|a, b| (a.0, &a.1.filename).cmp(&(b.0, &b.1.filename)))
        .map(|(_, f)| (f, SourceKind::Wheel));
    wheel.or_else(|| {
        files
            .iter()
            .filter(|f| py2nix_source::reads_sdist(&f.filename))
            .filter_map(|f| Some((py2nix_dist::sdist_preference(&f.filename)?, *f)))
            .min_by(|a, b| (a.0, &a.1.filename).cmp(&(b.0, &b.1.filename)))
            .map(|(_, f)| (f, SourceKind::Sdist))
    })
}

/// `a 1 (to build it) wants `>=2`; b 3 wants any version`.
pub fn requirers_text(list: &[Constraint]) -> String {
    let wants: Vec<String> = list
        .iter()
        .map(|c| {
            let spec = c.dependency.version.to_string();
            let spec = if spec.is_empty() {
                "any version".to_string()
            } else {
                format!("`{spec}`")
            };
            format!("{} wants {spec}", c.requirer)
        })
        .collect();
    wants.join("; ")
}

/// Why no version of `name` fits: who wants what, and the versions tried (those with a file
/// for the target, newest first), or that there are none.
pub fn conflict_message(
    name: &str,
    list: &[Constraint],
    runtime: Option<&Version>,
    page: &Page,
    python: &Version,
    tags: &TagPriorities,
) -> String {
    let wants = requirers_text(list);
    let runtime = runtime
        .map(|v| format!(" (the target installs {name} {v})"))
        .unwrap_or_default();
    let tried: Vec<String> = usable_versions(name, page, python)
        .iter()
        .rev()
        .filter(|(_, files)| best_file(files, tags).is_some())
        .map(|(version, _)| version.to_string())
        .collect();
    let mut text = format!(
        "no version of the build requirement `{name}` on the index fits all of its requirers and has a file for this target{runtime}: {wants}; "
    );
    if tried.is_empty() {
        let _ = write!(
            text,
            "the index lists {} files of it, none for this target",
            page.files.len()
        );
    } else {
        let shown = tried.len().min(VERSIONS_SHOWN);
        let _ = write!(text, "versions tried: {}", tried[..shown].join(", "));
        if tried.len() > shown {
            let _ = write!(text, " and {} older", tried.len() - shown);
        }
    }
    text
}

/// A reference from one build package or closure to a package.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Ref {
    /// The target's package of this name.
    Runtime(String),
    /// The interned build package of this number.
    Build(usize),
}

/// What makes a build package distinct.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct NodeSpec {
    name: String,
    url: String,
    extras: Vec<String>,
    dependencies: Vec<Ref>,
    /// For an sdist: its build closure.
    closure: Option<Vec<Ref>>,
}

/// One distinct build package of a target.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildPackage {
    pub name: String,
    pub candidate: Candidate,
    /// Keys of its dependencies (build packages, else names of the target's packages).
    pub dependencies: Vec<String>,
    pub extras: Vec<String>,
    pub stated: bool,
    /// For an sdist: its build requirements' names and its closure's keys.
    pub build: Option<(Vec<String>, Vec<String>)>,
}

/// Every build environment of a target.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Environments {
    /// Per package the target builds from source: the keys of its closure, sorted.
    pub closures: BTreeMap<String, Vec<String>>,
    /// The distinct build packages, by key.
    pub packages: BTreeMap<String, BuildPackage>,
}

/// The builder of [`Environments`]: closures memoised by their requirement list, build
/// packages interned.
struct Builder<'c, 'a, I: BuildIndex> {
    cx: &'c TargetContext<'a>,
    index: &'c mut I,
    closures: HashMap<String, Rc<Closure>>,
    /// Interned closures: requirement list → refs (None while being interned: a cycle).
    interned: HashMap<String, Option<Vec<Ref>>>,
    nodes: Vec<(NodeSpec, BuildPackage)>,
    ids: HashMap<NodeSpec, usize>,
}

/// The memo key of a requirement list (markers already evaluated).
fn requirements_key(requirements: &[Dependency]) -> String {
    let mut parts: Vec<String> = requirements
        .iter()
        .map(|d| {
            let mut extras: Vec<String> = d.extras.iter().map(ToString::to_string).collect();
            extras.sort();
            format!("{}[{}]{}", d.name, extras.join(","), d.version)
        })
        .collect();
    parts.sort();
    parts.dedup();
    parts.join("\n")
}

/// The build environments of `roots` (package name, its requirer text, its build
/// requirements) on one target.
pub fn plan_environments<I: BuildIndex>(
    roots: &[(String, String, Vec<Dependency>)],
    cx: &TargetContext,
    index: &mut I,
) -> Result<Environments, ResolveError<I::Error>> {
    let mut builder = Builder {
        cx,
        index,
        closures: HashMap::new(),
        interned: HashMap::new(),
        nodes: Vec::new(),
        ids: HashMap::new(),
    };
    let mut root_refs: BTreeMap<String, Vec<Ref>> = BTreeMap::new();
    let mut problems = Vec::new();
    for (name, requirer, requirements) in roots {
        match builder.intern_closure(requirer, requirements, &mut Vec::new()) {
            Ok(refs) => {
                root_refs.insert(name.clone(), refs);
            }
            Err(ResolveError::Unmet(list)) => problems.extend(list),
            Err(other) => return Err(other),
        }
    }
    if !problems.is_empty() {
        return Err(ResolveError::Unmet(problems));
    }
    Ok(builder.finish(root_refs))
}

impl<I: BuildIndex> Builder<'_, '_, I> {
    fn closure(
        &mut self,
        requirer: &str,
        requirements: &[Dependency],
        key: &str,
    ) -> Result<Rc<Closure>, ResolveError<I::Error>> {
        if let Some(closure) = self.closures.get(key) {
            return Ok(closure.clone());
        }
        let closure = Rc::new(resolve_closure(
            requirer,
            requirements,
            self.cx,
            self.index,
        )?);
        self.closures.insert(key.to_string(), closure.clone());
        Ok(closure)
    }

    /// The refs of the closure of `requirements`, its build packages interned. `stack` holds
    /// the sdists whose build closures are being interned, for cycles.
    fn intern_closure(
        &mut self,
        requirer: &str,
        requirements: &[Dependency],
        stack: &mut Vec<String>,
    ) -> Result<Vec<Ref>, ResolveError<I::Error>> {
        let key = requirements_key(requirements);
        match self.interned.get(&key) {
            Some(Some(refs)) => return Ok(refs.clone()),
            Some(None) => {
                return Err(ResolveError::Unmet(vec![format!(
                    "the build requirements form a cycle, which Nix cannot build: {} -> {requirer}",
                    stack.join(" -> ")
                )]))
            }
            None => {}
        }
        self.interned.insert(key.clone(), None);
        let closure = self.closure(requirer, requirements, &key)?;
        // Every sdist of the closure needs its build requirements first.
        let sdists: Vec<(&str, &Candidate)> = closure
            .members
            .iter()
            .filter_map(|(name, member)| match member {
                Member::Index { candidate, .. } if candidate.kind == SourceKind::Sdist => {
                    Some((name.as_str(), candidate))
                }
                _ => None,
            })
            .collect();
        if !sdists.is_empty() {
            self.index.load_build_requirements(&sdists)?;
        }
        let mut memo: BTreeMap<String, Ref> = BTreeMap::new();
        let mut refs = Vec::new();
        for name in closure.members.keys() {
            refs.push(self.intern_member(&closure, name, &mut memo, stack, &mut Vec::new())?);
        }
        refs.sort();
        self.interned.insert(key, Some(refs.clone()));
        Ok(refs)
    }

    /// The ref of `name` in `closure`, interning it (and first its dependencies).
    fn intern_member(
        &mut self,
        closure: &Closure,
        name: &str,
        memo: &mut BTreeMap<String, Ref>,
        stack: &mut Vec<String>,
        path: &mut Vec<String>,
    ) -> Result<Ref, ResolveError<I::Error>> {
        if let Some(found) = memo.get(name) {
            return Ok(found.clone());
        }
        let Some(Member::Index {
            candidate,
            dependencies,
            extras,
            stated,
        }) = closure.members.get(name)
        else {
            return Ok(Ref::Runtime(name.to_string()));
        };
        if path.iter().any(|p| p == name) {
            let mut cycle = path.clone();
            cycle.push(name.to_string());
            return Err(ResolveError::Unmet(vec![format!(
                "the build requirements form a cycle, which Nix cannot build: {}",
                cycle.join(" -> ")
            )]));
        }
        path.push(name.to_string());
        let mut dependency_refs = Vec::new();
        for dependency in dependencies {
            dependency_refs.push(self.intern_member(closure, dependency, memo, stack, path)?);
        }
        path.pop();
        dependency_refs.sort();
        let mut build = None;
        let mut closure_refs = None;
        if candidate.kind == SourceKind::Sdist {
            let requirer = format!("{name} {}", candidate.version);
            let requirements = match self.index.build_requirements(name, candidate) {
                Some(Ok(list)) => list,
                Some(Err(message)) => return Err(ResolveError::Unmet(vec![message])),
                None => Vec::new(),
            };
            stack.push(requirer.clone());
            let refs = self.intern_closure(&requirer, &requirements, stack)?;
            stack.pop();
            let names: BTreeSet<String> = requirements.iter().map(|d| d.name.to_string()).collect();
            build = Some((names.into_iter().collect(), Vec::new()));
            closure_refs = Some(refs);
        }
        let spec = NodeSpec {
            name: name.to_string(),
            url: candidate.file.url.clone(),
            extras: extras.iter().cloned().collect(),
            dependencies: dependency_refs,
            closure: closure_refs,
        };
        let id = match self.ids.get(&spec) {
            Some(id) => *id,
            None => {
                let id = self.nodes.len();
                let package = BuildPackage {
                    name: name.to_string(),
                    candidate: candidate.clone(),
                    dependencies: Vec::new(),
                    extras: spec.extras.clone(),
                    stated: *stated,
                    build,
                };
                self.ids.insert(spec.clone(), id);
                self.nodes.push((spec, package));
                id
            }
        };
        memo.insert(name.to_string(), Ref::Build(id));
        Ok(Ref::Build(id))
    }

    /// Gives every build package its key and turns refs into keys.
    fn finish(self, roots: BTreeMap<String, Vec<Ref>>) -> Environments {
        let mut by_name: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (id, (spec, _)) in self.nodes.iter().enumerate() {
            by_name.entry(spec.name.as_str()).or_default().push(id);
        }
        let mut keys = vec![String::new(); self.nodes.len()];
        for (name, ids) in &by_name {
            if ids.len() == 1 && !self.cx.runtime.contains_key(*name) {
                keys[ids[0]] = name.to_string();
                continue;
            }
            // By version, then in the order they were met (deterministic).
            let mut by_version: BTreeMap<&Version, Vec<usize>> = BTreeMap::new();
            for id in ids {
                by_version
                    .entry(&self.nodes[*id].1.candidate.version)
                    .or_default()
                    .push(*id);
            }
            for (version, same) in by_version {
                for (n, id) in same.iter().enumerate() {
                    keys[*id] = if n == 0 {
                        format!("{name}@{version}")
                    } else {
                        format!("{name}@{version}#{}", n + 1)
                    };
                }
            }
        }
        let key_of = |r: &Ref| match r {
            Ref::Runtime(name) => name.clone(),
            Ref::Build(id) => keys[*id].clone(),
        };
        let keys_of = |refs: &[Ref]| {
            let set: BTreeSet<String> = refs.iter().map(key_of).collect();
            set.into_iter().collect::<Vec<String>>()
        };
        let mut packages = BTreeMap::new();
        for (id, (spec, mut package)) in self.nodes.into_iter().enumerate() {
            package.dependencies = keys_of(&spec.dependencies);
            if let (Some((_, closure)), Some(refs)) = (&mut package.build, &spec.closure) {
                *closure = keys_of(refs);
            }
            packages.insert(keys[id].clone(), package);
        }
        let closures = roots
            .iter()
            .map(|(name, refs)| (name.clone(), keys_of(refs)))
            .collect();
        Environments { closures, packages }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use py2nix_plan::Target;

    /// An index of literals: pages by name, `Requires-Dist` and sdists' build requirements
    /// by file name; it counts the batches it is asked for.
    #[derive(Default)]
    struct FakeIndex {
        pages: BTreeMap<String, Page>,
        requires: BTreeMap<String, Vec<Dependency>>,
        build: BTreeMap<String, Vec<Dependency>>,
        page_loads: Vec<BTreeSet<String>>,
    }

    impl BuildIndex for FakeIndex {
        type Error = String;
        fn load_pages(
            &mut self,
            names: &BTreeSet<String>,
            _wants: &BTreeMap<String, Vec<Constraint>>,
        ) -> Result<(), String> {
            if let Some(missing) = names.iter().find(|n| !self.pages.contains_key(*n)) {
                return Err(format!("no page for {missing}"));
            }
            self.page_loads.push(names.clone());
            Ok(())
        }
        fn page(&self, name: &str) -> Option<&Page> {
            self.pages.get(name)
        }
        fn load_requires(&mut self, _files: &[&PageFile]) -> Result<(), String> {
            Ok(())
        }
        fn requires(&self, file: &PageFile) -> Option<&[Dependency]> {
            Some(
                self.requires
                    .get(&file.filename)
                    .map(Vec::as_slice)
                    .unwrap_or_default(),
            )
        }
        fn load_build_requirements(&mut self, _: &[(&str, &Candidate)]) -> Result<(), String> {
            Ok(())
        }
        fn build_requirements(
            &self,
            _name: &str,
            candidate: &Candidate,
        ) -> Option<Result<Vec<Dependency>, String>> {
            Some(Ok(self
                .build
                .get(&candidate.file.filename)
                .cloned()
                .unwrap_or_default()))
        }
    }

    fn dep(text: &str) -> Dependency {
        py2nix_lock::pep508_dependency(text).unwrap()
    }

    fn file(name: &str) -> PageFile {
        PageFile {
            filename: name.to_string(),
            url: format!("https://files.example.org/{name}"),
            sha256: Some("00".repeat(32)),
            requires_python: None,
            yanked: false,
            core_metadata: None,
        }
    }

    /// `"meson-python: 0.13.1 0.15.0 0.16.0s"`: a page with one wheel per version (`s`: an
    /// sdist only).
    fn index(pages: &[&str]) -> FakeIndex {
        let mut index = FakeIndex::default();
        for line in pages {
            let (name, versions) = line.split_once(": ").unwrap();
            let files = versions
                .split_whitespace()
                .map(|v| match v.strip_suffix('s') {
                    Some(v) => file(&format!("{}-{v}.tar.gz", name.replace('-', "_"))),
                    None => file(&format!("{}-{v}-py3-none-any.whl", name.replace('-', "_"))),
                })
                .collect();
            index.pages.insert(name.to_string(), Page { files });
        }
        index
    }

    fn with_target<T>(runtime: &[(&str, &str)], f: impl FnOnce(&TargetContext) -> T) -> T {
        let target = Target::new(
            py2nix_plan::NixSystem::X86_64Linux,
            py2nix_plan::PythonVersion::new(13),
        );
        let env = target.marker_environment();
        let tags = TagPriorities::for_target(&target);
        let python = target.python.full_version();
        let runtime: BTreeMap<String, Version> = runtime
            .iter()
            .map(|(n, v)| (n.to_string(), v.parse().unwrap()))
            .collect();
        f(&TargetContext {
            env: &env,
            tags: &tags,
            python: &python,
            runtime: &runtime,
        })
    }

    fn roots(list: &[(&str, &[&str])]) -> Vec<(String, String, Vec<Dependency>)> {
        list.iter()
            .map(|(name, reqs)| {
                (
                    name.to_string(),
                    format!("{name} 1"),
                    reqs.iter().map(|r| dep(r)).collect(),
                )
            })
            .collect()
    }

    /// Table: roots with their build requirements, the index, the target's packages →
    /// each root's closure keys and each build package's version.
    #[test]
    fn each_package_gets_its_own_closure() {
        struct Case {
            what: &'static str,
            pages: &'static [&'static str],
            requires: &'static [(&'static str, &'static [&'static str])],
            runtime: &'static [(&'static str, &'static str)],
            roots: &'static [(&'static str, &'static [&'static str])],
            closures: &'static [(&'static str, &'static [&'static str])],
            versions: &'static [(&'static str, &'static str)],
        }
        let cases = [
            Case {
                what: "two packages need different versions of one build tool",
                pages: &["meson-python: 0.13.1 0.15.0 0.16.0", "meson: 1.2.0 1.5.0"],
                requires: &[
                    ("meson_python-0.13.1-py3-none-any.whl", &["meson>=0.63"]),
                    ("meson_python-0.15.0-py3-none-any.whl", &["meson>=1.2.3"]),
                ],
                runtime: &[],
                roots: &[
                    ("numpy", &["meson-python>=0.15,<0.16"]),
                    ("pandas", &["meson-python==0.13.1"]),
                ],
                closures: &[
                    ("numpy", &["meson", "meson-python@0.15.0"]),
                    ("pandas", &["meson", "meson-python@0.13.1"]),
                ],
                versions: &[
                    ("meson", "1.5.0"),
                    ("meson-python@0.13.1", "0.13.1"),
                    ("meson-python@0.15.0", "0.15.0"),
                ],
            },
            Case {
                what: "the target's version is used when it fits, else one from the index",
                pages: &["setuptools: 69.5.1 80.0.0", "numpy: 1.26.4 2.1.0"],
                requires: &[],
                runtime: &[("numpy", "2.1.0"), ("setuptools", "80.0.0")],
                roots: &[
                    ("a", &["setuptools>=61", "numpy"]),
                    ("b", &["setuptools<70", "numpy<2"]),
                ],
                closures: &[
                    ("a", &["numpy", "setuptools"]),
                    ("b", &["numpy@1.26.4", "setuptools@69.5.1"]),
                ],
                versions: &[("numpy@1.26.4", "1.26.4"), ("setuptools@69.5.1", "69.5.1")],
            },
            Case {
                what: "one version shared by several packages is one build package",
                pages: &["hatchling: 1.27.0", "packaging: 24.0 25.0"],
                requires: &[("hatchling-1.27.0-py3-none-any.whl", &["packaging>=24.2"])],
                runtime: &[("packaging", "24.0")],
                roots: &[("a", &["hatchling"]), ("b", &["hatchling>=1"])],
                closures: &[
                    ("a", &["hatchling", "packaging@25.0"]),
                    ("b", &["hatchling", "packaging@25.0"]),
                ],
                versions: &[("hatchling", "1.27.0"), ("packaging@25.0", "25.0")],
            },
            Case {
                what: "one version whose dependencies differ between closures is two packages",
                pages: &["tool: 1.0", "dep: 1.0 2.0"],
                requires: &[("tool-1.0-py3-none-any.whl", &["dep"])],
                runtime: &[],
                roots: &[("a", &["tool"]), ("b", &["tool", "dep<2"])],
                closures: &[
                    ("a", &["dep@2.0", "tool@1.0"]),
                    ("b", &["dep@1.0", "tool@1.0#2"]),
                ],
                versions: &[
                    ("dep@1.0", "1.0"),
                    ("dep@2.0", "2.0"),
                    ("tool@1.0", "1.0"),
                    ("tool@1.0#2", "1.0"),
                ],
            },
        ];
        for case in cases {
            let mut fake = index(case.pages);
            for (file, deps) in case.requires {
                fake.requires
                    .insert(file.to_string(), deps.iter().map(|d| dep(d)).collect());
            }
            let envs = with_target(case.runtime, |cx| {
                plan_environments(&roots(case.roots), cx, &mut fake).unwrap()
            });
            let closures: Vec<(&str, Vec<&str>)> = envs
                .closures
                .iter()
                .map(|(n, keys)| (n.as_str(), keys.iter().map(String::as_str).collect()))
                .collect();
            let expected: Vec<(&str, Vec<&str>)> = case
                .closures
                .iter()
                .map(|(n, k)| (*n, k.to_vec()))
                .collect();
            assert_eq!(closures, expected, "{}", case.what);
            let versions: Vec<(&str, String)> = envs
                .packages
                .iter()
                .map(|(k, p)| (k.as_str(), p.candidate.version.to_string()))
                .collect();
            let expected: Vec<(&str, String)> = case
                .versions
                .iter()
                .map(|(k, v)| (*k, v.to_string()))
                .collect();
            assert_eq!(versions, expected, "{}", case.what);
            // Every key a closure or a dependency names is a build package or a runtime name.
            for key in envs
                .closures
                .values()
                .flatten()
                .chain(envs.packages.values().flat_map(|p| &p.dependencies))
            {
                assert!(
                    envs.packages.contains_key(key) || case.runtime.iter().any(|(n, _)| n == key),
                    "{}: {key}",
                    case.what
                );
            }
        }
    }

    #[test]
    fn an_sdist_build_package_has_its_own_closure_and_dependencies_are_keys() {
        let mut fake = index(&["tool: 2.0s", "flit-core: 3.9.0", "dep: 1.0"]);
        fake.requires
            .insert("tool-2.0.tar.gz".into(), vec![dep("dep")]);
        fake.build
            .insert("tool-2.0.tar.gz".into(), vec![dep("flit-core>=3")]);
        let envs = with_target(&[], |cx| {
            plan_environments(&roots(&[("a", &["tool"])]), cx, &mut fake).unwrap()
        });
        assert_eq!(envs.closures["a"], ["dep", "tool"]);
        let tool = &envs.packages["tool"];
        assert_eq!(tool.candidate.kind, SourceKind::Sdist);
        assert_eq!(tool.dependencies, ["dep"]);
        assert_eq!(
            tool.build,
            Some((vec!["flit-core".to_string()], vec!["flit-core".to_string()]))
        );
        assert_eq!(envs.packages["flit-core"].build, None);
    }

    #[test]
    fn equal_requirement_lists_are_resolved_once() {
        let mut fake = index(&["setuptools: 70.0 80.0"]);
        let list: Vec<(String, String, Vec<Dependency>)> = (0..20)
            .map(|i| {
                (
                    format!("p{i}"),
                    format!("p{i} 1"),
                    vec![dep("setuptools>=40.8.0")],
                )
            })
            .collect();
        let envs = with_target(&[], |cx| plan_environments(&list, cx, &mut fake).unwrap());
        assert_eq!(envs.closures.len(), 20);
        assert_eq!(envs.packages.len(), 1);
        // Two rounds: one choosing, one seeing nothing change.
        assert_eq!(fake.page_loads.len(), 2);
    }

    #[test]
    fn an_unmeetable_requirement_names_the_package_the_requirement_and_the_versions_tried() {
        let mut fake = index(&["meson-python: 0.13.1 0.15.0 0.16.0 0.17.0s"]);
        let error = with_target(&[], |cx| {
            plan_environments(
                &roots(&[
                    ("ok", &["meson-python"]),
                    ("pandas", &["meson-python==0.14.0"]),
                ]),
                cx,
                &mut fake,
            )
            .unwrap_err()
        });
        let ResolveError::Unmet(messages) = error else {
            panic!("not unmet")
        };
        assert_eq!(messages.len(), 1, "{messages:?}");
        let message = &messages[0];
        assert!(message.contains("`meson-python`"), "{message}");
        assert!(
            message.contains("pandas 1 (to build it) wants `==0.14.0`"),
            "{message}"
        );
        assert!(
            message.contains("versions tried: 0.17.0, 0.16.0, 0.15.0, 0.13.1"),
            "{message}"
        );
        // An index failure is passed on as such.
        let mut fake = index(&[]);
        let error = with_target(&[], |cx| {
            plan_environments(&roots(&[("a", &["nothing"])]), cx, &mut fake).unwrap_err()
        });
        assert!(matches!(error, ResolveError::Index(m) if m == "no page for nothing"));
    }

    #[test]
    fn a_build_requirement_cycle_is_an_error() {
        let mut fake = index(&["a-tool: 1.0s", "b-tool: 1.0s"]);
        fake.build
            .insert("a_tool-1.0.tar.gz".into(), vec![dep("b-tool")]);
        fake.build
            .insert("b_tool-1.0.tar.gz".into(), vec![dep("a-tool")]);
        let error = with_target(&[], |cx| {
            plan_environments(&roots(&[("p", &["a-tool"])]), cx, &mut fake).unwrap_err()
        });
        let ResolveError::Unmet(messages) = error else {
            panic!("not unmet")
        };
        assert!(messages[0].contains("cycle"), "{messages:?}");
    }
}
