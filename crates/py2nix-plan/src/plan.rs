//! The plan (schema 1) and how it is assembled from the resolved targets, the index's answers
//! and the override database.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine as _;
use pep508_rs::PackageName;
use py2nix_lock::{FileHash, GitSource, Lock, LockedFile, LockedPackage, PackageSource, PathKind};
use py2nix_overrides::{ArtifactKind, OverrideDb};
use serde::{Deserialize, Serialize};

use crate::resolve::{cycle_breaks, walk_closure, Closure, Selection};
use crate::select::{choose_file, FormatControl, SourceKind};
use crate::tags::{TagPriorities, WheelFilename};
use crate::target::{LinuxLibc, Target};
use crate::PlanError;

/// The version of the plan's JSON schema; see docs/plan-schema.md.
pub const PLAN_SCHEMA: u32 = 1;

/// The whole plan: one entry per target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub schema: u32,
    pub generator: String,
    pub targets: BTreeMap<String, TargetPlan>,
}

/// What one target installs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct TargetPlan {
    pub system: String,
    pub python: String,
    /// The `python_full_version` markers were evaluated with.
    pub python_full_version: String,
    /// The C library or macOS baseline wheels were matched against, e.g. `{"glibc": "2.40"}`.
    pub platform: BTreeMap<String, String>,
    pub roots: Vec<String>,
    pub packages: BTreeMap<String, PackagePlan>,
    /// The build systems of the packages built from sdists that `packages` does not hold:
    /// resolved from the index, closed over their own dependencies (see `build-requires`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub build_packages: BTreeMap<String, PackagePlan>,
}

/// One package of a target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct PackagePlan {
    pub version: String,
    pub src: SourcePlan,
    /// Runtime dependencies, all keys of the same target's `packages`.
    pub dependencies: Vec<String>,
    /// Dependencies not propagated because they close a cycle (the environment still has them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cycle_breaks: Vec<String>,
    /// The package's own extras that are turned on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extras: Vec<String>,
    /// For sdists: the build system, as packages of nixpkgs' Python package set.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub build_system: Vec<String>,
    /// For sdists: the build requirements discovered in the sdist (`[build-system] requires`
    /// for this target), as names of packages of the same target's `build-packages` or
    /// `packages`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub build_requires: Vec<String>,
    /// For sdists: nixpkgs attribute paths of build tools.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub native_build_inputs: Vec<String>,
    /// For sdists: nixpkgs attribute paths of libraries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub build_inputs: Vec<String>,
    /// nixpkgs attribute paths needed at run time (`propagatedBuildInputs`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub propagated_build_inputs: Vec<String>,
    /// Environment variables of the build (the derivation's `env`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// For packages built from source: patches applied in order, with their text.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patches: Vec<PatchPlan>,
    /// For packages built from source: arguments for the PEP 517 frontend (`pypaBuildFlags`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub build_flags: Vec<String>,
    /// For Linux binary wheels: sonames their ELF files need that neither the wheel bundles
    /// nor the soname table maps.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unknown_sonames: Vec<String>,
    /// For sdists with Rust code: the crates of its `Cargo.lock`, to vendor offline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cargo: Option<CargoPlan>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// One patch of the override database, carried whole so that the plan is self-contained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct PatchPlan {
    /// The patch's file name in the database.
    pub name: String,
    /// Its text.
    pub text: String,
}

impl PackagePlan {
    /// A package with its version, source and dependencies, and nothing else yet.
    pub fn new(version: String, src: SourcePlan, dependencies: Vec<String>) -> Self {
        PackagePlan {
            version,
            src,
            dependencies,
            cycle_breaks: Vec::new(),
            extras: Vec::new(),
            build_system: Vec::new(),
            build_requires: Vec::new(),
            native_build_inputs: Vec::new(),
            build_inputs: Vec::new(),
            propagated_build_inputs: Vec::new(),
            env: BTreeMap::new(),
            patches: Vec::new(),
            build_flags: Vec::new(),
            unknown_sonames: Vec::new(),
            cargo: None,
            warnings: Vec::new(),
        }
    }
}

/// What a Rust build inside an sdist needs to vendor its crates without network access.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct CargoPlan {
    /// The text of the sdist's `Cargo.lock`.
    pub lock: String,
    /// The directory of `Cargo.lock` relative to the project's directory; `.` at its top.
    pub root: String,
    /// The registry crates of `Cargo.lock`, in its order, with their download URLs and the
    /// SRI form of their `checksum`.
    pub crates: Vec<CargoCrate>,
    /// For git dependencies: `<name>-<version>` to the SRI hash of the checkout (as nixpkgs'
    /// `importCargoLock` takes in `outputHashes`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub git_hashes: BTreeMap<String, String>,
}

/// One crate to download.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct CargoCrate {
    pub name: String,
    pub version: String,
    pub url: String,
    pub hash: String,
}

/// Where the package comes from. Which fields are present depends on `kind`; see
/// docs/plan-schema.md.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct SourcePlan {
    pub kind: SourceKind,
    /// `wheel`, `sdist`, and `path` archives: the file's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// `wheel`, `sdist`: the file's URL; `git`: the repository's URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// `wheel`, `sdist`: the file's SRI hash; `git`: the checkout's (NAR) SRI hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    /// `git`: the full commit id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rev: Option<String>,
    /// `git`: whether submodules are part of the checkout.
    #[serde(default, skip_serializing_if = "is_false")]
    pub submodules: bool,
    /// The project's directory inside the checkout or archive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subdirectory: Option<String>,
    /// `path`: the path relative to the generated file's directory (`/`-separated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// `path`: what the path holds: `wheel`, `sdist` or `tree` (a source directory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<PathFormat>,
    /// `path` trees: installed in editable mode by the project's own tools.
    #[serde(default, skip_serializing_if = "is_false")]
    pub editable: bool,
    /// `wheel`, `sdist`: the name of the index whose credentials fetching the file needs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<String>,
}

/// What a `path` source holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PathFormat {
    Wheel,
    Sdist,
    Tree,
}

#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_false(value: &bool) -> bool {
    !*value
}

impl SourcePlan {
    fn new(kind: SourceKind) -> Self {
        SourcePlan {
            kind,
            filename: None,
            url: None,
            hash: None,
            rev: None,
            submodules: false,
            subdirectory: None,
            path: None,
            format: None,
            editable: false,
            index: None,
        }
    }

    /// Whether the package is built from source (an sdist, a checkout or a directory) rather
    /// than installed from a wheel.
    pub fn is_built(&self) -> bool {
        match self.kind {
            SourceKind::Wheel => false,
            SourceKind::Path => self.format != Some(PathFormat::Wheel),
            SourceKind::Sdist | SourceKind::Git => true,
        }
    }

    /// Whether the package is built from a source py2nix reads itself rather than from an
    /// index or URL: a git checkout, or a local directory or sdist (`path`, not a wheel).
    pub fn is_tree(&self) -> bool {
        match self.kind {
            SourceKind::Git => true,
            SourceKind::Path => self.format != Some(PathFormat::Wheel),
            SourceKind::Wheel | SourceKind::Sdist => false,
        }
    }
}

/// What was chosen for a package on one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chosen {
    /// One of the locked package's files (its position in `files`), a wheel or an sdist.
    File { index: usize, format: SourceKind },
    /// The package's source tree (a git checkout or a local directory).
    Tree,
}

/// A target's closure with the file chosen for each package.
#[derive(Debug, Clone)]
pub struct TargetResolution {
    pub target: Target,
    pub closure: Closure,
    pub files: BTreeMap<PackageName, Chosen>,
}

/// Resolves every target: the closure, then one file per package. Problems with single
/// packages are gathered so the user sees all of them at once.
pub fn resolve_targets(
    lock: &Lock,
    project: &py2nix_lock::Project,
    selection: &Selection,
    targets: &[Target],
    control: &FormatControl,
) -> Result<Vec<TargetResolution>, PlanError> {
    let flat = crate::resolve::is_flat(lock);
    let (graph_roots, root_extras) = if flat {
        (
            Vec::new(),
            crate::resolve::flat_marker_extras(project, selection)?,
        )
    } else {
        (
            crate::resolve::root_dependencies(project, selection)?,
            selection.extras_of(project),
        )
    };
    let preferred: BTreeSet<PackageName> = project
        .dependencies
        .iter()
        .map(|d| d.name.clone())
        .collect();
    let mut resolutions = Vec::new();
    let mut errors = Vec::new();
    for target in targets {
        let mut closure = if flat {
            let roots = crate::resolve::flat_roots(lock, &root_extras, target);
            let mut closure = walk_closure(lock, &roots, &root_extras, target)?;
            closure.roots = crate::resolve::flat_plan_roots(&closure, &preferred);
            closure
        } else {
            walk_closure(lock, &graph_roots, &root_extras, target)?
        };
        closure
            .roots
            .retain(|name| closure.packages.contains_key(name));
        let tags = TagPriorities::for_target(target);
        let mut files = BTreeMap::new();
        for (name, selected) in &closure.packages {
            let package = &lock.packages[selected.lock_index];
            match choose(package, &tags, control, target) {
                Ok(choice) => {
                    files.insert(name.clone(), choice);
                }
                Err(error) => errors.push(error),
            }
        }
        resolutions.push(TargetResolution {
            target: target.clone(),
            closure,
            files,
        });
    }
    match PlanError::collect(errors) {
        Some(error) => Err(error),
        None => Ok(resolutions),
    }
}

fn choose(
    package: &LockedPackage,
    tags: &TagPriorities,
    control: &FormatControl,
    target: &Target,
) -> Result<Chosen, PlanError> {
    match &package.source {
        PackageSource::Unsupported { kind, url } => Err(PlanError::UnsupportedSource {
            package: package.name.to_string(),
            kind: kind.clone(),
            url: url.clone(),
        }),
        PackageSource::Git(_)
        | PackageSource::Path {
            kind: PathKind::Directory,
            ..
        } => Ok(Chosen::Tree),
        _ => choose_file(package, tags, control, target)
            .map(|(index, format)| Chosen::File { index, format }),
    }
}

/// A file as the index lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedFile {
    pub url: String,
    /// The index's sha256 of the file (lower-case hex), when it gives one.
    pub sha256: Option<String>,
    /// Whether the index marks the file as yanked (PEP 592).
    pub yanked: bool,
    /// The index's name when fetching from it needs credentials.
    pub auth_index: Option<String>,
}

/// A git source resolved to a commit and hashed the way Nix's `fetchgit` hashes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedGit {
    pub commit: String,
    /// The SRI hash of the checkout's NAR serialisation.
    pub hash: String,
}

/// What the planner needs from the outside world, looked up before the plan is assembled.
pub trait Sources {
    /// A file of an index-sourced package, as the index lists it.
    fn index_file(
        &self,
        package: &LockedPackage,
        file: &LockedFile,
    ) -> Result<IndexedFile, PlanError>;
    /// The sha256 (hex) of a direct URL's file that the lock gives no hash for.
    fn url_sha256(&self, package: &LockedPackage, url: &str) -> Result<String, PlanError>;
    /// A git source's commit and checkout hash.
    fn git(&self, package: &LockedPackage, git: &GitSource) -> Result<ResolvedGit, PlanError>;
    /// A local path as the lock writes it, relative to the generated file's directory.
    fn local_path(&self, package: &LockedPackage, path: &str) -> Result<String, PlanError>;
}

/// Every chosen index file, once, with its package: what must be looked up on an index.
pub fn chosen_files<'a>(
    lock: &'a Lock,
    resolutions: &[TargetResolution],
) -> Vec<(&'a LockedPackage, &'a LockedFile)> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for resolution in resolutions {
        for (name, chosen) in &resolution.files {
            let Chosen::File { index, .. } = chosen else {
                continue;
            };
            let package = &lock.packages[resolution.closure.packages[name].lock_index];
            if !is_index_source(&package.source) {
                continue;
            }
            let file = &package.files[*index];
            if seen.insert((&package.name, &file.filename)) {
                out.push((package, file));
            }
        }
    }
    out
}

/// Whether the package's files come from an index's Simple API.
pub fn is_index_source(source: &PackageSource) -> bool {
    matches!(
        source,
        PackageSource::DefaultIndex | PackageSource::Index { .. }
    )
}

/// Builds the plan from resolved targets. `sources` gives each chosen file's URL and hash
/// (an index file's hash must equal the lock's), git checkouts' hashes and local paths.
pub fn assemble_plan(
    lock: &Lock,
    resolutions: &[TargetResolution],
    sources: &dyn Sources,
    overrides: &OverrideDb,
    generator: &str,
) -> Result<Plan, PlanError> {
    let mut targets = BTreeMap::new();
    let mut errors = Vec::new();
    for resolution in resolutions {
        let breaks = cycle_breaks(&resolution.closure);
        let mut packages = BTreeMap::new();
        for (name, selected) in &resolution.closure.packages {
            let package = &lock.packages[selected.lock_index];
            let Some(&chosen) = resolution.files.get(name) else {
                continue;
            };
            let mut warnings = Vec::new();
            let src = match source_of(package, chosen, sources, &mut warnings) {
                Ok(src) => src,
                Err(error) => {
                    errors.push(error);
                    continue;
                }
            };
            let mut plan = PackagePlan::new(
                package.version.to_string(),
                src,
                selected
                    .dependencies
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
            );
            plan.cycle_breaks = breaks
                .get(name)
                .map(|b| b.iter().map(ToString::to_string).collect())
                .unwrap_or_default();
            plan.extras = selected.extras.iter().map(ToString::to_string).collect();
            plan.warnings = warnings;
            if plan.src.is_built() {
                if plan.src.is_tree() {
                    // A git checkout, local directory or local sdist states its own build
                    // system, which the caller reads (the binary's build-system discovery
                    // fills `build-system`); the database applies only when it has a rule for
                    // the version.
                    if overrides
                        .lookup(package.name.as_ref(), &package.version, ArtifactKind::Sdist)
                        .is_some()
                    {
                        apply_overrides(&mut plan, package, overrides);
                    }
                } else {
                    apply_overrides(&mut plan, package, overrides);
                }
            } else if let Some(filename) = plan.src.filename.clone() {
                add_binary_wheel_inputs(&mut plan, &resolution.target, &filename);
                apply_wheel_overrides(
                    &mut plan,
                    package.name.as_ref(),
                    &package.version,
                    overrides,
                );
            }
            packages.insert(name.to_string(), plan);
        }
        let target = &resolution.target;
        let (baseline_kind, baseline) = target.platform_baseline();
        targets.insert(
            target.id(),
            TargetPlan {
                system: target.system.to_string(),
                python: target.python.short(),
                python_full_version: target.python.full(),
                platform: BTreeMap::from([(baseline_kind.to_string(), baseline)]),
                roots: resolution
                    .closure
                    .roots
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
                packages,
                build_packages: BTreeMap::new(),
            },
        );
    }
    if let Some(error) = PlanError::collect(errors) {
        return Err(error);
    }
    Ok(Plan {
        schema: PLAN_SCHEMA,
        generator: generator.to_string(),
        targets,
    })
}

/// The planned source of one package.
fn source_of(
    package: &LockedPackage,
    chosen: Chosen,
    sources: &dyn Sources,
    warnings: &mut Vec<String>,
) -> Result<SourcePlan, PlanError> {
    let source_error = |message: String| PlanError::Source {
        package: package.name.to_string(),
        message,
    };
    match (&package.source, chosen) {
        (PackageSource::Git(git), _) => {
            let resolved = sources.git(package, git)?;
            let mut src = SourcePlan::new(SourceKind::Git);
            src.url = Some(git.url.clone());
            src.rev = Some(resolved.commit);
            src.hash = Some(resolved.hash);
            src.submodules = git.submodules;
            src.subdirectory = git.subdirectory.clone();
            Ok(src)
        }
        (PackageSource::Path { path, editable, .. }, chosen) => {
            let mut src = SourcePlan::new(SourceKind::Path);
            src.path = Some(sources.local_path(package, path)?);
            match chosen {
                Chosen::Tree => {
                    src.format = Some(PathFormat::Tree);
                    src.editable = *editable;
                }
                Chosen::File { index, format } => {
                    src.filename = Some(package.files[index].filename.clone());
                    src.format = Some(if format == SourceKind::Wheel {
                        PathFormat::Wheel
                    } else {
                        PathFormat::Sdist
                    });
                }
            }
            Ok(src)
        }
        (PackageSource::Url { url, subdirectory }, Chosen::File { index, format }) => {
            let file = &package.files[index];
            let hash = match &file.hash {
                Some(hash) if matches!(hash.algorithm.as_str(), "sha256" | "sha512") => sri(hash),
                _ => sri(&FileHash {
                    algorithm: "sha256".into(),
                    hex: sources.url_sha256(package, url)?,
                }),
            }
            .map_err(source_error)?;
            let mut src = SourcePlan::new(format);
            src.filename = Some(file.filename.clone());
            src.url = Some(url.clone());
            src.hash = Some(hash);
            src.subdirectory = subdirectory.clone();
            Ok(src)
        }
        (_, Chosen::File { index, format }) => {
            let file = &package.files[index];
            let indexed = sources.index_file(package, file)?;
            if indexed.yanked {
                warnings.push(format!("the index marks `{}` as yanked", file.filename));
            }
            source_plan(package, file, format, indexed)
        }
        (_, Chosen::Tree) => Err(source_error(
            "only git and local sources are source trees".to_string(),
        )),
    }
}

/// A Linux wheel with compiled code links against libraries the manylinux policy lets it
/// assume; on Nix, autoPatchelfHook points it at nixpkgs' copies of them.
pub fn add_binary_wheel_inputs(plan: &mut PackagePlan, target: &Target, filename: &str) {
    if !target.system.is_linux() {
        return;
    }
    let Some(wheel) = WheelFilename::parse(filename) else {
        return;
    };
    if wheel.platform_tags.iter().all(|tag| tag == "any") {
        return;
    }
    plan.native_build_inputs
        .push("autoPatchelfHook".to_string());
    if matches!(target.linux_libc, LinuxLibc::Glibc { .. }) {
        plan.build_inputs
            .push("pythonManylinuxPackages.manylinux2014".to_string());
    }
}

/// The override database's rule for a package installed from a binary wheel (`applies-to`
/// `"wheel"` or `"any"`): its native build inputs, build inputs and propagated build inputs
/// are added after what every binary wheel gets (each once), and its environment is laid
/// over the package's. `build-system`, `patches` and `build-flags` do not apply to a wheel.
pub fn apply_wheel_overrides(
    plan: &mut PackagePlan,
    name: &str,
    version: &pep440_rs::Version,
    overrides: &OverrideDb,
) {
    let Some(rule) = overrides.lookup(name, version, ArtifactKind::Wheel) else {
        return;
    };
    extend_unique(&mut plan.native_build_inputs, &rule.native_build_inputs);
    extend_unique(&mut plan.build_inputs, &rule.build_inputs);
    extend_unique(
        &mut plan.propagated_build_inputs,
        &rule.propagated_build_inputs,
    );
    plan.env
        .extend(rule.env.iter().map(|(k, v)| (k.clone(), v.clone())));
}

/// Appends the items of `more` that `list` does not hold yet, in order.
pub(crate) fn extend_unique(list: &mut Vec<String>, more: &[String]) {
    for item in more {
        if !list.contains(item) {
            list.push(item.clone());
        }
    }
}

/// The override database's build system, inputs, environment, patches and build flags for a
/// package built from source. A patch's text travels in the plan.
pub fn apply_overrides(plan: &mut PackagePlan, package: &LockedPackage, overrides: &OverrideDb) {
    let name: &str = package.name.as_ref();
    let found = overrides.entry(name).and_then(|entry| {
        entry
            .lookup(&package.version, ArtifactKind::Sdist)
            .map(|(_, rule)| (entry, rule))
    });
    match found {
        Some((entry, rule)) => {
            plan.build_system = rule.build_system.clone();
            plan.native_build_inputs = rule.native_build_inputs.clone();
            plan.build_inputs = rule.build_inputs.clone();
            plan.propagated_build_inputs = rule.propagated_build_inputs.clone();
            plan.env = rule.env.clone();
            plan.patches = rule
                .patches
                .iter()
                .filter_map(|file| {
                    // The loader checks that every named patch is there.
                    entry.patch_text(file).map(|text| PatchPlan {
                        name: file.clone(),
                        text: text.to_string(),
                    })
                })
                .collect();
            plan.build_flags = rule.build_flags.clone();
            if plan.build_system.is_empty() {
                plan.build_system.push("setuptools".to_string());
            }
        }
        None => {
            plan.build_system = vec!["setuptools".to_string()];
            let missing = if overrides.contains(package.name.as_ref()) {
                format!(
                    "no rule of the override database's entry for {} covers version {}",
                    package.name, package.version
                )
            } else {
                format!(
                    "the override database has no entry for {} {}",
                    package.name, package.version
                )
            };
            let from = match plan.src.kind {
                SourceKind::Sdist => "its sdist",
                SourceKind::Git => "a git checkout",
                _ => "a local path",
            };
            plan.warnings.push(format!(
                "built from {from}, but {missing}: assuming setuptools"
            ));
        }
    }
}

/// The planned source: the index's URL, the lock's hash checked against the index's.
fn source_plan(
    package: &LockedPackage,
    file: &LockedFile,
    kind: SourceKind,
    indexed: IndexedFile,
) -> Result<SourcePlan, PlanError> {
    let index_sha256 = indexed.sha256.as_ref().map(|hex| FileHash {
        algorithm: "sha256".into(),
        hex: hex.clone(),
    });
    if let (Some(index_hash), Some(lock_hash)) = (&index_sha256, &file.hash) {
        if lock_hash.algorithm == "sha256" && !index_hash.hex.eq_ignore_ascii_case(&lock_hash.hex) {
            return Err(PlanError::HashMismatch {
                package: package.name.to_string(),
                filename: file.filename.clone(),
                lock: format!("sha256:{}", lock_hash.hex),
                index: format!("sha256:{}", index_hash.hex),
                url: indexed.url,
            });
        }
    }
    let hash = match (&file.hash, &index_sha256) {
        (Some(lock_hash), _) if matches!(lock_hash.algorithm.as_str(), "sha256" | "sha512") => {
            sri(lock_hash)
        }
        (_, Some(index_hash)) => sri(index_hash),
        (Some(lock_hash), None) => Err(format!(
            "the lock's {} hash cannot be checked by Nix and the index gives no sha256",
            lock_hash.algorithm
        )),
        (None, None) => Err("neither the lock nor the index gives a hash".to_string()),
    }
    .map_err(|message| PlanError::Source {
        package: package.name.to_string(),
        message,
    })?;
    let mut src = SourcePlan::new(kind);
    src.filename = Some(file.filename.clone());
    src.url = Some(indexed.url);
    src.hash = Some(hash);
    src.index = indexed.auth_index;
    Ok(src)
}

/// `sha256:<hex>` as an SRI hash, `sha256-<base64>`.
///
/// ```
/// let hash = py2nix_lock::FileHash::parse(&format!("sha256:{}", "00".repeat(32))).unwrap();
/// assert_eq!(py2nix_plan::sri(&hash).unwrap(), "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
/// ```
pub fn sri(hash: &FileHash) -> Result<String, String> {
    let bytes = hex::decode(&hash.hex).map_err(|e| format!("hash `{}`: {e}", hash.hex))?;
    Ok(format!(
        "{}-{}",
        hash.algorithm,
        base64::engine::general_purpose::STANDARD.encode(bytes)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::{NixSystem, PythonVersion};

    const ENTRY: &str = r#"
schema-version = 1
[[rule]]
versions = ">=2"
build-system = ["meson-python"]
native-build-inputs = ["pkg-config"]
build-inputs = ["zlib"]
propagated-build-inputs = ["libffi"]
env = { APP_SYSTEM_LIBS = "1" }
patches = ["fix-build.patch", "second.patch"]
build-flags = ["-Csetup-args=-Dsystem=true"]
[[rule]]
applies-to = "wheel"
native-build-inputs = ["pkg-config"]
build-inputs = ["libGL", "zlib"]
propagated-build-inputs = ["libffi"]
env = { APP_WHEEL = "yes" }
"#;

    fn db() -> OverrideDb {
        OverrideDb::from_files([
            ("ap/app/override.toml", ENTRY),
            ("ap/app/fix-build.patch", "--- a/x\n+++ b/x\n"),
            ("ap/app/second.patch", "second\n"),
        ])
        .unwrap()
    }

    fn locked(version: &str) -> LockedPackage {
        LockedPackage {
            name: "app".parse().unwrap(),
            version: version.parse().unwrap(),
            requires_python: py2nix_lock::VersionConstraint::any(),
            marker: None,
            files: Vec::new(),
            dependencies: Vec::new(),
            extras: BTreeMap::new(),
            source: PackageSource::DefaultIndex,
            dependencies_known: true,
            requested_extras: Vec::new(),
            index_hashes: None,
        }
    }

    fn planned(kind: SourceKind, filename: &str) -> PackagePlan {
        let mut src = SourcePlan::new(kind);
        src.filename = Some(filename.to_string());
        PackagePlan::new("2.0".into(), src, Vec::new())
    }

    #[test]
    fn an_sdist_gets_every_key_of_its_rule_with_the_patch_texts() {
        let mut plan = planned(SourceKind::Sdist, "app-2.0.tar.gz");
        apply_overrides(&mut plan, &locked("2.0"), &db());
        assert_eq!(plan.build_system, ["meson-python"]);
        assert_eq!(plan.native_build_inputs, ["pkg-config"]);
        assert_eq!(plan.build_inputs, ["zlib"]);
        assert_eq!(plan.propagated_build_inputs, ["libffi"]);
        assert_eq!(
            plan.env,
            BTreeMap::from([("APP_SYSTEM_LIBS".to_string(), "1".to_string())])
        );
        assert_eq!(
            plan.patches,
            [
                PatchPlan {
                    name: "fix-build.patch".into(),
                    text: "--- a/x\n+++ b/x\n".into()
                },
                PatchPlan {
                    name: "second.patch".into(),
                    text: "second\n".into()
                },
            ]
        );
        assert_eq!(plan.build_flags, ["-Csetup-args=-Dsystem=true"]);
        assert!(plan.warnings.is_empty());
        let json = serde_json::to_value(&plan).unwrap();
        assert_eq!(json["patches"][0]["name"], "fix-build.patch");
        assert_eq!(json["env"]["APP_SYSTEM_LIBS"], "1");
        assert_eq!(json["build-flags"][0], "-Csetup-args=-Dsystem=true");
        assert_eq!(json["propagated-build-inputs"][0], "libffi");
    }

    #[test]
    fn the_new_keys_are_omitted_when_empty() {
        let mut plan = planned(SourceKind::Sdist, "app-1.0.tar.gz");
        apply_overrides(&mut plan, &locked("1.0"), &db());
        assert_eq!(plan.build_system, ["setuptools"]);
        let json = serde_json::to_value(&plan).unwrap();
        for key in [
            "propagated-build-inputs",
            "env",
            "patches",
            "build-flags",
            "unknown-sonames",
        ] {
            assert!(json.get(key).is_none(), "{key}: {json}");
        }
        let back: PackagePlan = serde_json::from_value(json).unwrap();
        assert_eq!(back, plan);
    }

    #[test]
    fn a_wheel_gets_its_rules_inputs_and_env_after_the_binary_wheel_inputs() {
        let target = Target::new(NixSystem::X86_64Linux, PythonVersion::new(11));
        let filename = "app-2.0-cp311-cp311-manylinux_2_17_x86_64.whl";
        let mut plan = planned(SourceKind::Wheel, filename);
        add_binary_wheel_inputs(&mut plan, &target, filename);
        apply_wheel_overrides(&mut plan, "app", &"2.0".parse().unwrap(), &db());
        assert_eq!(plan.native_build_inputs, ["autoPatchelfHook", "pkg-config"]);
        assert_eq!(
            plan.build_inputs,
            ["pythonManylinuxPackages.manylinux2014", "libGL", "zlib"]
        );
        assert_eq!(plan.propagated_build_inputs, ["libffi"]);
        assert_eq!(plan.env["APP_WHEEL"], "yes");
        // Nothing of the sdist rule reaches a wheel.
        assert!(plan.build_system.is_empty() && plan.patches.is_empty());
        assert!(plan.build_flags.is_empty());
        // A pure wheel on Darwin gets the rule's inputs alone.
        let darwin = Target::new(NixSystem::Aarch64Darwin, PythonVersion::new(11));
        let mut pure = planned(SourceKind::Wheel, "app-2.0-py3-none-any.whl");
        add_binary_wheel_inputs(&mut pure, &darwin, "app-2.0-py3-none-any.whl");
        apply_wheel_overrides(&mut pure, "app", &"2.0".parse().unwrap(), &db());
        assert_eq!(pure.native_build_inputs, ["pkg-config"]);
        assert_eq!(pure.build_inputs, ["libGL", "zlib"]);
        // No wheel rule, nothing added.
        let mut other = planned(SourceKind::Wheel, "app-2.0-py3-none-any.whl");
        apply_wheel_overrides(&mut other, "other", &"2.0".parse().unwrap(), &db());
        assert_eq!(
            other,
            planned(SourceKind::Wheel, "app-2.0-py3-none-any.whl")
        );
    }
}
