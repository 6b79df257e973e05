//! The plan (schema 1) and how it is assembled from the resolved targets, the index's answers
//! and the override database.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine as _;
use pep508_rs::PackageName;
use py2nix_lock::{FileHash, Lock, LockedFile, LockedPackage, PackageSource};
use py2nix_overrides::OverrideDb;
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
    /// For sdists: nixpkgs attribute paths of build tools.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub native_build_inputs: Vec<String>,
    /// For sdists: nixpkgs attribute paths of libraries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub build_inputs: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// The file to fetch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourcePlan {
    pub kind: SourceKind,
    pub filename: String,
    pub url: String,
    /// An SRI hash, `sha256-<base64>`.
    pub hash: String,
}

/// A target's closure with the file chosen for each package.
#[derive(Debug, Clone)]
pub struct TargetResolution {
    pub target: Target,
    pub closure: Closure,
    /// Package name to (index of the file in the locked package's files, kind).
    pub files: BTreeMap<PackageName, (usize, SourceKind)>,
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
    let roots = crate::resolve::root_dependencies(project, selection)?;
    let root_extras = selection.extras_of(project);
    let mut resolutions = Vec::new();
    let mut errors = Vec::new();
    for target in targets {
        let closure = walk_closure(lock, &roots, &root_extras, target)?;
        let tags = TagPriorities::for_target(target);
        let mut files = BTreeMap::new();
        for (name, selected) in &closure.packages {
            let package = &lock.packages[selected.lock_index];
            if let PackageSource::Unsupported { kind, url } = &package.source {
                errors.push(PlanError::UnsupportedSource {
                    package: name.to_string(),
                    kind: kind.clone(),
                    url: url.clone(),
                });
                continue;
            }
            match choose_file(package, &tags, control, target) {
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

/// A file as the index lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedFile {
    pub url: String,
    /// The index's sha256 of the file (lower-case hex), when it gives one.
    pub sha256: Option<String>,
    /// Whether the index marks the file as yanked (PEP 592).
    pub yanked: bool,
}

/// Every chosen file, once, with its package: what must be looked up on an index.
pub fn chosen_files<'a>(
    lock: &'a Lock,
    resolutions: &[TargetResolution],
) -> Vec<(&'a LockedPackage, &'a LockedFile)> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for resolution in resolutions {
        for (name, (file_index, _)) in &resolution.files {
            let package = &lock.packages[resolution.closure.packages[name].lock_index];
            let file = &package.files[*file_index];
            if seen.insert((&package.name, &file.filename)) {
                out.push((package, file));
            }
        }
    }
    out
}

/// Builds the plan from resolved targets. `lookup` gives each chosen file's URL and hash from
/// the index; its hash must equal the lock's.
pub fn assemble_plan(
    lock: &Lock,
    resolutions: &[TargetResolution],
    lookup: &dyn Fn(&LockedPackage, &LockedFile) -> Result<IndexedFile, PlanError>,
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
            let Some(&(file_index, kind)) = resolution.files.get(name) else {
                continue;
            };
            let file = &package.files[file_index];
            let mut yanked = false;
            let looked_up = lookup(package, file).and_then(|indexed| {
                yanked = indexed.yanked;
                source_plan(package, file, kind, indexed)
            });
            let src = match looked_up {
                Ok(src) => src,
                Err(error) => {
                    errors.push(error);
                    continue;
                }
            };
            let mut plan = PackagePlan {
                version: package.version.to_string(),
                src,
                dependencies: selected
                    .dependencies
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
                cycle_breaks: breaks
                    .get(name)
                    .map(|b| b.iter().map(ToString::to_string).collect())
                    .unwrap_or_default(),
                extras: selected.extras.iter().map(ToString::to_string).collect(),
                build_system: Vec::new(),
                native_build_inputs: Vec::new(),
                build_inputs: Vec::new(),
                warnings: Vec::new(),
            };
            if yanked {
                plan.warnings
                    .push(format!("the index marks `{}` as yanked", file.filename));
            }
            match kind {
                SourceKind::Sdist => apply_overrides(&mut plan, package, overrides),
                SourceKind::Wheel => {
                    add_binary_wheel_inputs(&mut plan, &resolution.target, &file.filename)
                }
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

/// A Linux wheel with compiled code links against libraries the manylinux policy lets it
/// assume; on Nix, autoPatchelfHook points it at nixpkgs' copies of them.
fn add_binary_wheel_inputs(plan: &mut PackagePlan, target: &Target, filename: &str) {
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

fn apply_overrides(plan: &mut PackagePlan, package: &LockedPackage, overrides: &OverrideDb) {
    match overrides.lookup(package.name.as_ref(), &package.version) {
        Some(rule) => {
            plan.build_system = rule.build_system.clone();
            plan.native_build_inputs = rule.native_build_inputs.clone();
            plan.build_inputs = rule.build_inputs.clone();
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
            plan.warnings.push(format!(
                "built from its sdist, but {missing}: assuming setuptools"
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
    Ok(SourcePlan {
        kind,
        filename: file.filename.clone(),
        url: indexed.url,
        hash,
    })
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
