//! Build systems, discovered: for every package the plan builds from source, what it says
//! about its own build is read — a planned sdist downloaded (its hash checked), a git
//! checkout's tree at the locked commit (in its `subdirectory`), a local directory or local
//! sdist from disk (paths relative to the generated file) — its `[build-system] requires`
//! taken (none: PEP 517's setuptools), the requirements' markers evaluated for the target, and
//! the build system planned as packages of the same target: a version the target already
//! installs when it fits, else the newest version on the index that fits every requirement and
//! has a file for the target (a wheel preferred), closed over its own dependencies from core
//! metadata. A `Cargo.lock` becomes the package's `cargo` (see `cargo`). A source tree whose
//! version comes from version control gets the locked version in the variable its tool reads
//! (`env`), since Nix builds it without `.git`.
//!
//! What is learnt from an sdist is cached by its sha256 (`sdist-build-v1/`), what a git tree
//! says by its commit (`git-tree-v1/`, see `sources.rs`), so a warm run downloads nothing and
//! runs no git.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{anyhow, Context as _};
use pep440_rs::Version;
use py2nix_index::{MetadataRequest, Page, PageFile};
use py2nix_lock::Dependency;
use py2nix_overrides::{ArtifactKind, OverrideDb, Rule};
use py2nix_plan::{PackagePlan, Plan, SourceKind, SourcePlan, TagPriorities, Target};
use py2nix_source::SdistBuildInfo;
use sha2::Digest;

use crate::buildenv::{
    self, BuildIndex, Candidate, Constraint, Environments, ResolveError, TargetContext,
};
use crate::cache::{KeyedCache, SDIST_BUILD};
use crate::network::{Errors, Network};
use crate::report::{Failure, Reporter};
use crate::sources::{IndexChoice, LocalPaths};

/// What PEP 517 and pip assume for a project without `[build-system] requires`.
pub const DEFAULT_BUILD_REQUIRES: &str = "setuptools>=40.8.0";

/// What discovery needs from the rest of the pipeline.
pub struct Inputs<'a> {
    pub network: &'a Network,
    /// The cache directory, if any.
    pub cache_root: Option<&'a Path>,
    /// Where build requirements the lock does not pin are resolved.
    pub index: IndexChoice,
    /// The plan's targets (by id, the keys of `plan.targets`).
    pub targets: &'a [Target],
    pub overrides: &'a OverrideDb,
    /// `--offline`: git crates must be hashed, and git trees read, from the cache.
    pub offline: bool,
    /// Where the plan's local paths (relative to the generated file) are on this machine.
    pub paths: &'a LocalPaths,
    /// `--allow-cargo-git-host`: the hosts whose git crates a Cargo.lock py2nix did not
    /// find in the project's own files may name.
    pub cargo_git_hosts: &'a [String],
    /// Build requirements the project adds to a package's own, by normalised package name
    /// (PEP 508 texts, markers allowed): they join that package's build closure wherever it
    /// is built from source.
    pub extra_build_requires: BTreeMap<String, Vec<String>>,
}

/// The crate registry's download URL of one crate (`{name}`, `{version}` replaced).
pub const CRATE_URL: &str = "https://static.crates.io/crates/{name}/{name}-{version}.crate";

/// An sdist to read, by its SRI hash.
#[derive(Debug, Clone)]
struct SdistJob {
    filename: String,
    url: String,
    hash: String,
    index: Option<String>,
}

/// Adds `build-requires`, `build-packages` and `cargo` to every target of `plan`.
pub fn discover(plan: &mut Plan, inputs: &Inputs, reporter: &Reporter) -> Result<(), Failure> {
    let mut memo = Memo::default();
    let jobs: Vec<SdistJob> = plan
        .targets
        .values()
        .flat_map(|t| t.packages.values())
        .filter_map(sdist_job)
        .collect();
    memo.load_facts(jobs, inputs, reporter)?;
    memo.load_tree_facts(plan, inputs, reporter)?;
    describe_trees(plan, &memo.facts, inputs.overrides);
    // The same problem on several targets is told once, with the targets it holds on.
    let mut errors: Vec<(String, Vec<String>)> = Vec::new();
    for (id, target_plan) in &mut plan.targets {
        let Some(target) = inputs.targets.iter().find(|t| &t.id() == id) else {
            continue;
        };
        match resolve_target(target, target_plan, &mut memo, inputs, reporter) {
            Ok(()) => {}
            Err(Failure::Input(error)) => {
                let text = format!("{error:#}");
                match errors.iter_mut().find(|(known, _)| *known == text) {
                    Some((_, ids)) => ids.push(id.clone()),
                    None => errors.push((text, vec![id.clone()])),
                }
            }
            Err(other) => return Err(other),
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        let lines: Vec<String> = errors
            .into_iter()
            .map(|(text, ids)| format!("{}: {text}", ids.join(", ")))
            .collect();
        Err(Failure::Input(anyhow!(lines.join("\n"))))
    }
}

fn sdist_job(package: &PackagePlan) -> Option<SdistJob> {
    let SourcePlan::Sdist(sdist) = &package.src else {
        return None;
    };
    Some(SdistJob {
        filename: sdist.filename.clone(),
        url: sdist.url.clone(),
        hash: sdist.hash.clone(),
        index: sdist.index.clone(),
    })
}

/// The key of a package's build facts in [`Memo::facts`]: an sdist's SRI hash; for a source
/// tree (git checkout, local directory or local sdist), where it is.
fn facts_key(package: &PackagePlan) -> Option<String> {
    match &package.src {
        SourcePlan::Sdist(sdist) => Some(sdist.hash.clone()),
        SourcePlan::Git(git) => Some(format!(
            "git\n{}\n{}\n{}\n{}",
            git.url,
            git.rev,
            git.submodules,
            git.subdirectory.as_deref().unwrap_or_default()
        )),
        SourcePlan::Path(path) if path.format != py2nix_plan::PathFormat::Wheel => Some(format!(
            "path\n{}\n{}",
            path.path,
            path.filename.as_deref().unwrap_or_default()
        )),
        SourcePlan::Path(_) | SourcePlan::Wheel(_) => None,
    }
}

/// What a source tree is, for messages: `a git checkout`, `a local directory`, `a local sdist`.
fn tree_origin(src: &SourcePlan) -> &'static str {
    match src {
        SourcePlan::Git(_) => "a git checkout",
        SourcePlan::Path(path) if path.format == py2nix_plan::PathFormat::Sdist => "a local sdist",
        _ => "a local directory",
    }
}

/// What a source tree says about its build, from its `pyproject.toml` text (`None`: it has
/// none) and the `Cargo.lock` found in it: what an sdist's download yields, for any package
/// built from a tree (a git checkout, a local directory, the project itself). `origin` names
/// the tree in the error (`a git checkout of … at …`, a path).
pub fn tree_facts(
    pyproject: Option<&str>,
    cargo_lock: Option<py2nix_source::CargoLockFile>,
    origin: &str,
) -> Result<SdistBuildInfo, String> {
    py2nix_source::tree_build_info(pyproject, cargo_lock)
        .map_err(|message| format!("{origin}: its pyproject.toml: {message}"))
}

/// Sets what a source tree's own files decide, on every target: `build-system` (the names of
/// its `[build-system] requires`, or setuptools, unless the override database has a rule for
/// the version, which set it already), the locked version in the variable of the tool that
/// would read it from version control (`env`), and the warning when setuptools is assumed.
fn describe_trees(
    plan: &mut Plan,
    facts_by_key: &BTreeMap<String, SdistBuildInfo>,
    overrides: &OverrideDb,
) {
    for target in plan.targets.values_mut() {
        for (name, package) in &mut target.packages {
            if !package.src.is_tree() {
                continue;
            }
            let Some(facts) = facts_key(package).and_then(|key| facts_by_key.get(&key)) else {
                continue;
            };
            let rule = sdist_rule(overrides, name, &package.version);
            if rule.is_none() {
                package.build_system = match &facts.requires {
                    Some(list) => {
                        let names: BTreeSet<String> = list
                            .iter()
                            .map(|r| py2nix_source::requirement_name(r))
                            .filter(|n| !n.is_empty())
                            .collect();
                        names.into_iter().collect()
                    }
                    None => Vec::new(),
                };
                if package.build_system.is_empty() {
                    package.build_system = vec!["setuptools".to_string()];
                }
            }
            let replaced =
                rule.is_some_and(|r| r.build_requires_replace && !r.build_requires.is_empty());
            if facts.requires.is_none() && !replaced {
                package.warnings.push(format!(
                    "built from {}, which has no `[build-system] requires` (no pyproject.toml, or none in it): assuming setuptools (PEP 517's `{DEFAULT_BUILD_REQUIRES}`)",
                    tree_origin(&package.src)
                ));
            }
            if let Some(tool) = facts.vcs_version {
                package
                    .env
                    .entry(tool.version_variable().to_string())
                    .or_insert_with(|| package.version.clone());
            }
        }
    }
}

/// What the run has learnt, shared by the targets.
#[derive(Default)]
struct Memo {
    /// sdist facts by SRI hash.
    facts: BTreeMap<String, SdistBuildInfo>,
    /// Whole project pages by normalised name.
    pages: BTreeMap<String, Page>,
    /// `Requires-Dist` by file URL; `None` when the file does not tell.
    requires: BTreeMap<String, Option<Vec<Dependency>>>,
}

impl Memo {
    /// Reads every sdist's facts, from the cache or by downloading it.
    fn load_facts(
        &mut self,
        jobs: Vec<SdistJob>,
        inputs: &Inputs,
        reporter: &Reporter,
    ) -> Result<(), Failure> {
        let mut missing: BTreeMap<String, SdistJob> = BTreeMap::new();
        for job in jobs {
            if self.facts.contains_key(&job.hash) || missing.contains_key(&job.hash) {
                continue;
            }
            match read_cached_facts(inputs.cache_root, &job.hash) {
                Some(facts) => {
                    self.facts.insert(job.hash.clone(), facts);
                }
                None => {
                    missing.insert(job.hash.clone(), job);
                }
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        reporter.explain(&format!(
            "downloading {} sdists to read their build systems",
            missing.len()
        ));
        let jobs: Vec<SdistJob> = missing.into_values().collect();
        let requests: Vec<(String, String, String, Option<String>)> = jobs
            .iter()
            .map(|job| download_request(&job.url, job.index.as_deref(), &job.hash, &inputs.index))
            .collect();
        let results = inputs.network.download_files(&requests);
        let mut errors = Errors::default();
        let mut bad = Vec::new();
        for (job, result) in jobs.into_iter().zip(results) {
            let bytes = match result {
                Ok(bytes) => bytes,
                Err(error) => {
                    errors.push(error);
                    continue;
                }
            };
            if let Err(message) = check_sri(&bytes, &job.hash) {
                bad.push(format!("`{}`: {message}", job.filename));
                continue;
            }
            match py2nix_source::sdist_build_info(&bytes, &job.filename) {
                Ok(facts) => {
                    write_cached_facts(inputs.cache_root, &job.hash, &facts);
                    self.facts.insert(job.hash, facts);
                }
                Err(error) => bad.push(format!(
                    "`{}`: cannot read its build system: {error}",
                    job.filename
                )),
            }
        }
        errors.finish()?;
        if bad.is_empty() {
            Ok(())
        } else {
            Err(Failure::Input(anyhow!(bad.join("\n"))))
        }
    }

    /// Reads what every source tree of the plan says about its build: git trees from the
    /// cache or a checkout at the locked commit, local directories and sdists from disk.
    fn load_tree_facts(
        &mut self,
        plan: &Plan,
        inputs: &Inputs,
        reporter: &Reporter,
    ) -> Result<(), Failure> {
        let mut trees: BTreeMap<String, (String, SourcePlan)> = BTreeMap::new();
        for target in plan.targets.values() {
            for (name, package) in &target.packages {
                if !package.src.is_tree() {
                    continue;
                }
                if let Some(key) = facts_key(package) {
                    trees
                        .entry(key)
                        .or_insert_with(|| (name.clone(), package.src.clone()));
                }
            }
        }
        let mut bad = Vec::new();
        for (key, (name, src)) in trees {
            if self.facts.contains_key(&key) {
                continue;
            }
            match read_tree(&src, inputs, reporter) {
                Ok(facts) => {
                    self.facts.insert(key, facts);
                }
                Err(error) => bad.push(format!(
                    "`{name}`: cannot read the build system of {}: {error:#}",
                    tree_origin(&src)
                )),
            }
        }
        if bad.is_empty() {
            Ok(())
        } else {
            Err(Failure::Input(anyhow!(bad.join("\n"))))
        }
    }

    /// Fetches the pages of `names` not yet known. A page the index does not have is an
    /// error naming who requires the package and what they want (`constraints`).
    fn load_pages(
        &mut self,
        names: &BTreeSet<String>,
        constraints: &BTreeMap<String, Vec<Constraint>>,
        inputs: &Inputs,
    ) -> Result<(), Failure> {
        let wanted: Vec<(String, String, String)> = names
            .iter()
            .filter(|name| !self.pages.contains_key(*name))
            .map(|name| {
                (
                    inputs.index.url.clone(),
                    inputs.index.name.clone(),
                    name.clone(),
                )
            })
            .collect();
        if wanted.is_empty() {
            return Ok(());
        }
        let results = inputs.network.full_pages(&wanted);
        let mut errors = Errors::default();
        let mut missing = Vec::new();
        let mut offline_miss = false;
        for ((_, _, name), result) in wanted.into_iter().zip(results) {
            match result {
                Ok(page) => {
                    self.pages.insert(name, page);
                }
                Err(error) if crate::network::is_input_error(&error) => {
                    offline_miss |= crate::network::is_offline_miss(&error);
                    let wants = constraints
                        .get(&name)
                        .map(|list| buildenv::requirers_text(list))
                        .unwrap_or_default();
                    missing.push(format!("the build requirement `{name}` ({wants}): {error}"));
                }
                Err(error) => errors.push(error),
            }
        }
        errors.finish()?;
        if missing.is_empty() {
            Ok(())
        } else if offline_miss {
            Err(Failure::Input(crate::report::with_hint(
                anyhow!(missing.join("\n")),
                crate::network::OFFLINE_HINT,
            )))
        } else {
            Err(Failure::Input(anyhow!(missing.join("\n"))))
        }
    }

    /// Reads `Requires-Dist` of the chosen files not yet known.
    fn load_requires(&mut self, files: &[&PageFile], inputs: &Inputs) -> Result<(), Failure> {
        let wanted: Vec<MetadataRequest> = files
            .iter()
            .filter(|file| !self.requires.contains_key(&file.url))
            .map(|file| MetadataRequest {
                url: file.url.clone(),
                filename: file.filename.clone(),
                index_name: inputs.index.name.clone(),
                index_url: inputs.index.url.clone(),
                expected_sha256: file.sha256.clone(),
                core_metadata: file.core_metadata.clone(),
                size: None,
            })
            .collect();
        if wanted.is_empty() {
            return Ok(());
        }
        let results = inputs.network.core_metadata(&wanted);
        let mut errors = Errors::default();
        let mut bad = Vec::new();
        for (request, result) in wanted.into_iter().zip(results) {
            match result {
                Ok(fetched) => {
                    let sdist = py2nix_source::SdistMetadata {
                        pkg_info: fetched.metadata,
                        requirements: fetched.requirements,
                    };
                    match crate::metadata::sdist_dependencies(&sdist) {
                        Ok(deps) => {
                            self.requires.insert(request.url, deps);
                        }
                        Err(error) => bad.push(format!("`{}`: {error}", request.filename)),
                    }
                }
                Err(error) => errors.push(error),
            }
        }
        errors.finish()?;
        if bad.is_empty() {
            Ok(())
        } else {
            Err(Failure::Input(anyhow!(bad.join("\n"))))
        }
    }
}

/// The build facts of one source tree.
fn read_tree(
    src: &SourcePlan,
    inputs: &Inputs,
    reporter: &Reporter,
) -> anyhow::Result<SdistBuildInfo> {
    match src {
        SourcePlan::Git(git) => {
            let url = git.url.as_str();
            let commit = git.rev.as_str();
            let origin = format!(
                "the git checkout of {} at {commit}{}",
                py2nix_source::redact_git_url(url),
                git.subdirectory
                    .as_deref()
                    .map(|s| format!(", subdirectory `{s}`"))
                    .unwrap_or_default()
            );
            reporter.explain(&format!("reading the build system of {origin}"));
            let files = crate::sources::git_tree_files(
                url,
                commit,
                git.submodules,
                git.subdirectory.as_deref(),
                inputs.cache_root,
                inputs.offline,
            )?;
            tree_facts(files.pyproject.as_deref(), files.cargo_lock, &origin)
                .map_err(|e| anyhow!(e))
        }
        SourcePlan::Path(local) => {
            let path = inputs.paths.planned(&local.path);
            if local.format == py2nix_plan::PathFormat::Sdist {
                let bytes = py2nix_index::read_local_file(
                    &path,
                    inputs.network.max_download(),
                    "--max-download-size",
                )
                .map_err(|e| anyhow!(e))?;
                let filename = local
                    .filename
                    .clone()
                    .or_else(|| path.file_name().map(|f| f.to_string_lossy().into_owned()))
                    .unwrap_or_default();
                py2nix_source::sdist_build_info(&bytes, &filename)
                    .with_context(|| format!("`{}`", path.display()))
            } else {
                let files = crate::sources::read_tree_files(&path)?;
                tree_facts(
                    files.pyproject.as_deref(),
                    files.cargo_lock,
                    &format!("`{}`", path.display()),
                )
                .map_err(|e| anyhow!(e))
            }
        }
        SourcePlan::Wheel(_) | SourcePlan::Sdist(_) => Err(anyhow!(
            "a wheel or an sdist from an index is not a source tree"
        )),
    }
}

/// The override database's sdist rule for `name` at `version`, whose `build-requires`
/// corrects what the sdist says.
fn sdist_rule<'a>(overrides: &'a OverrideDb, name: &str, version: &str) -> Option<&'a Rule> {
    let version: Version = version.parse().ok()?;
    overrides.lookup(name, &version, ArtifactKind::Sdist)
}

/// The build requirements as texts: the sdist's `[build-system] requires` (none: PEP 517's
/// setuptools), with the rule's `build-requires` added after them, or instead of them when
/// the rule says `build-requires-replace`, then `extra` (the project's own additions for
/// this package, see [`Inputs::extra_build_requires`]).
fn requirement_texts(facts: &SdistBuildInfo, rule: Option<&Rule>, extra: &[String]) -> Vec<String> {
    let mut texts: Vec<String> = match &facts.requires {
        Some(list) => list.clone(),
        None => vec![DEFAULT_BUILD_REQUIRES.to_string()],
    };
    if let Some(rule) = rule.filter(|rule| !rule.build_requires.is_empty()) {
        if rule.build_requires_replace {
            texts.clear();
        }
        texts.extend(rule.build_requires.iter().cloned());
    }
    texts.extend(extra.iter().cloned());
    texts
}

/// The build requirements of the package `name` at `version` built from source, for
/// `target`: what its sdist or tree says (`facts`), corrected by the override database, plus
/// the extra requirements the project gives for `name` ([`Inputs::extra_build_requires`]),
/// markers evaluated. This is the one place a package's build requirements are decided.
fn build_requirements(
    name: &str,
    version: &str,
    facts: &SdistBuildInfo,
    inputs: &Inputs,
    target: &Target,
) -> Result<Vec<Dependency>, String> {
    let rule = sdist_rule(inputs.overrides, name, version);
    let extra = inputs
        .extra_build_requires
        .get(name)
        .map(Vec::as_slice)
        .unwrap_or_default();
    sdist_requirements(facts, rule, extra, target, &format!("{name} {version}"))
}

/// The build requirements of an sdist for `target`, corrected by the override database's
/// `rule` and with `extra` added, markers evaluated.
fn sdist_requirements(
    facts: &SdistBuildInfo,
    rule: Option<&Rule>,
    extra: &[String],
    target: &Target,
    requirer: &str,
) -> Result<Vec<Dependency>, String> {
    let env = target.marker_environment();
    let texts = requirement_texts(facts, rule, extra);
    let mut out = Vec::new();
    for text in texts {
        if text.contains(" @ ") || text.contains("@ ") && text.contains("://") {
            return Err(format!(
                "{requirer}: the build requirement `{text}` is a direct reference, which py2nix cannot plan"
            ));
        }
        let dependency = py2nix_lock::pep508_dependency(&text)
            .map_err(|e| format!("{requirer}: build requirement `{text}`: {e}"))?;
        if dependency.marker.evaluate(&env, &[]) {
            out.push(dependency);
        }
    }
    Ok(out)
}

/// The index, the caches and the network, as [`buildenv::BuildIndex`] for one target.
struct Fetcher<'r> {
    memo: &'r mut Memo,
    inputs: &'r Inputs<'r>,
    reporter: &'r Reporter,
    target: &'r Target,
}

impl BuildIndex for Fetcher<'_> {
    type Error = Failure;

    fn load_pages(
        &mut self,
        names: &BTreeSet<String>,
        wants: &BTreeMap<String, Vec<Constraint>>,
    ) -> Result<(), Failure> {
        self.memo.load_pages(names, wants, self.inputs)
    }

    fn page(&self, name: &str) -> Option<&Page> {
        self.memo.pages.get(name)
    }

    fn load_requires(&mut self, files: &[&PageFile]) -> Result<(), Failure> {
        self.memo.load_requires(files, self.inputs)
    }

    fn requires(&self, file: &PageFile) -> Option<&[Dependency]> {
        self.memo.requires.get(&file.url)?.as_deref()
    }

    fn load_build_requirements(&mut self, sdists: &[(&str, &Candidate)]) -> Result<(), Failure> {
        let jobs: Vec<SdistJob> = sdists
            .iter()
            .filter_map(|(_, c)| {
                Some(SdistJob {
                    filename: c.file.filename.clone(),
                    url: c.file.url.clone(),
                    hash: sri_of_hex(c.file.sha256.as_ref()?),
                    index: None,
                })
            })
            .collect();
        self.memo.load_facts(jobs, self.inputs, self.reporter)
    }

    fn build_requirements(
        &self,
        name: &str,
        candidate: &Candidate,
    ) -> Option<Result<Vec<Dependency>, String>> {
        let facts = self
            .memo
            .facts
            .get(&sri_of_hex(candidate.file.sha256.as_ref()?))?;
        Some(build_requirements(
            name,
            &candidate.version.to_string(),
            facts,
            self.inputs,
            self.target,
        ))
    }
}

/// Plans one build environment per package `target_plan` builds from source.
fn resolve_target(
    target: &Target,
    target_plan: &mut py2nix_plan::TargetPlan,
    memo: &mut Memo,
    inputs: &Inputs,
    reporter: &Reporter,
) -> Result<(), Failure> {
    // The packages built from source, with their own requirements: the roots.
    let mut roots: Vec<(String, String, Vec<Dependency>)> = Vec::new();
    for (name, package) in &target_plan.packages {
        let Some(facts) = facts_key(package).and_then(|key| memo.facts.get(&key)) else {
            continue;
        };
        let requirements = build_requirements(name, &package.version, facts, inputs, target)
            .map_err(|e| Failure::Input(anyhow!(e)))?;
        roots.push((
            name.clone(),
            format!("{name} {}", package.version),
            requirements,
        ));
    }
    if roots.is_empty() {
        return Ok(());
    }
    let runtime: BTreeMap<String, Version> = target_plan
        .packages
        .iter()
        .filter_map(|(name, p)| Some((name.clone(), p.version.parse().ok()?)))
        .collect();
    let tags = TagPriorities::for_target(target);
    let python = target.python.full_version();
    let env = target.marker_environment();
    let cx = TargetContext {
        env: &env,
        tags: &tags,
        python: &python,
        runtime: &runtime,
    };
    let mut fetcher = Fetcher {
        memo,
        inputs,
        reporter,
        target,
    };
    let environments = match buildenv::plan_environments(&roots, &cx, &mut fetcher) {
        Ok(environments) => environments,
        Err(ResolveError::Index(failure)) => return Err(failure),
        Err(ResolveError::Unmet(problems)) => {
            return Err(Failure::Input(anyhow!(problems.join("\n"))))
        }
    };
    finish(target, target_plan, &roots, environments, memo, inputs)
}

/// Writes the environments into the target's plan.
fn finish(
    target: &Target,
    target_plan: &mut py2nix_plan::TargetPlan,
    roots: &[(String, String, Vec<Dependency>)],
    environments: Environments,
    memo: &Memo,
    inputs: &Inputs,
) -> Result<(), Failure> {
    for (name, _, requirements) in roots {
        let names: BTreeSet<String> = requirements.iter().map(|d| d.name.to_string()).collect();
        if let Some(package) = target_plan.packages.get_mut(name) {
            package.build_requires = names.into_iter().collect();
            package.build_closure = environments.closures.get(name).cloned().unwrap_or_default();
            let facts = facts_key(package).and_then(|key| memo.facts.get(&key));
            if let Some(facts) = facts {
                add_cargo(package, facts, inputs)
                    .map_err(|e| Failure::Input(anyhow!("{name}: {e}")))?;
            }
        }
    }
    let mut build_packages = BTreeMap::new();
    for (key, built) in environments.packages {
        let name = &built.name;
        let candidate = &built.candidate;
        let mut warnings = Vec::new();
        if !built.stated {
            warnings.push(
                "its metadata does not state its dependencies; planned without them".to_string(),
            );
        }
        let hash = sri_of_hex(candidate.file.sha256.as_deref().unwrap_or_default());
        let src = SourcePlan::file(
            candidate.kind,
            candidate.file.filename.clone(),
            candidate.file.url.clone(),
            hash.clone(),
            None,
            (!inputs.index.name.is_empty()
                && py2nix_index::same_origin(&candidate.file.url, &inputs.index.url))
            .then(|| inputs.index.name.clone()),
        );
        let mut plan = PackagePlan::new(candidate.version.to_string(), src, built.dependencies);
        plan.extras = built.extras;
        plan.warnings = warnings;
        if candidate.kind == SourceKind::Sdist {
            let version: Version = candidate.version.clone();
            match build_package_as_locked(name, &version) {
                Some(locked) => py2nix_plan::apply_overrides(&mut plan, &locked, inputs.overrides),
                None => plan.build_system = vec!["setuptools".to_string()],
            }
            if let Some((requires, closure)) = built.build {
                plan.build_requires = requires;
                plan.build_closure = closure;
            }
            if let Some(facts) = memo.facts.get(&hash) {
                add_cargo(&mut plan, facts, inputs)
                    .map_err(|e| Failure::Input(anyhow!("{name}: {e}")))?;
            }
        } else {
            py2nix_plan::add_binary_wheel_inputs(&mut plan, target, &candidate.file.filename);
            py2nix_plan::apply_wheel_overrides(
                &mut plan,
                name,
                &candidate.version,
                inputs.overrides,
            );
        }
        build_packages.insert(key, plan);
    }
    target_plan.build_packages = build_packages;
    Ok(())
}

/// The `cargo` entry of a package whose sdist builds Rust code with a `Cargo.lock`: every
/// crate with its URL and the lock's checksum as an SRI hash, git crates hashed as nixpkgs'
/// `fetchgit` hashes them (with submodules, its default).
fn add_cargo(
    plan: &mut PackagePlan,
    facts: &SdistBuildInfo,
    inputs: &Inputs,
) -> Result<(), String> {
    if !facts.builds_rust() {
        return Ok(());
    }
    let Some(lock) = &facts.cargo_lock else {
        plan.warnings.push(
            "its build runs cargo, but its sdist has no Cargo.lock: the crates cannot be vendored ahead of time".to_string(),
        );
        return Ok(());
    };
    let crates = py2nix_source::parse_cargo_lock(&lock.text)?;
    let mut planned = Vec::new();
    let mut git_hashes = BTreeMap::new();
    let mut git_commits: BTreeMap<(String, String), String> = BTreeMap::new();
    for locked in crates {
        match locked.source {
            py2nix_source::CrateSource::CratesIo { checksum } => planned.push(py2nix_plan::CargoCrate {
                url: CRATE_URL
                    .replace("{name}", &locked.name)
                    .replace("{version}", &locked.version),
                hash: sri_of_hex(&checksum),
                name: locked.name,
                version: locked.version,
            }),
            py2nix_source::CrateSource::Git { url, commit } => {
                // Only the project's own Cargo.lock may name any repository.
                if !matches!(plan.src, SourcePlan::Path(_)) {
                    crate::sources::check_cargo_git(&url, inputs.cargo_git_hosts).map_err(|e| {
                        format!("git crate {} {} of its Cargo.lock: {e}", locked.name, locked.version)
                    })?;
                }
                let key = (url.clone(), commit.clone());
                let hash = match git_commits.get(&key) {
                    Some(hash) => hash.clone(),
                    None => {
                        let git = py2nix_lock::GitSource {
                            url: url.clone(),
                            reference: None,
                            commit: Some(commit.clone()),
                            subdirectory: None,
                            submodules: true,
                        };
                        let resolved = crate::sources::resolve_git(&git, inputs.cache_root, inputs.offline)
                            .map_err(|e| format!("git crate {} {}: {e:#}", locked.name, locked.version))?;
                        git_commits.insert(key, resolved.hash.clone());
                        resolved.hash
                    }
                };
                git_hashes.insert(format!("{}-{}", locked.name, locked.version), hash);
            }
            py2nix_source::CrateSource::Other { source } => {
                return Err(format!(
                    "crate {} {} of its Cargo.lock comes from `{source}`; py2nix vendors only crates of the default crate registry and git crates",
                    locked.name, locked.version
                ))
            }
        }
    }
    plan.cargo = Some(py2nix_plan::CargoPlan {
        lock: lock.text.clone(),
        root: lock.root.clone(),
        crates: planned,
        git_hashes,
    });
    Ok(())
}

/// A minimal locked package, for looking a build package up in the override database.
fn build_package_as_locked(name: &str, version: &Version) -> Option<py2nix_lock::LockedPackage> {
    let name: py2nix_lock::PackageName = name.parse().ok()?;
    Some(py2nix_lock::LockedPackage {
        name,
        version: version.clone(),
        requires_python: py2nix_lock::VersionConstraint::any(),
        marker: None,
        files: Vec::new(),
        dependencies: Vec::new(),
        extras: BTreeMap::new(),
        source: py2nix_lock::PackageSource::DefaultIndex,
        dependencies_known: true,
        requested_extras: Vec::new(),
        index_hashes: None,
    })
}

/// `sha256-<base64>` from lower-case hex (a hex that does not decode gives a hash nothing
/// matches).
fn sri_of_hex(hex: &str) -> String {
    py2nix_dist::sri_of_hex("sha256", hex).unwrap_or_else(|_| format!("sha256-invalid-{hex}"))
}

/// A download for `Network::download_files` and `download_file`: the file's URL, the index whose
/// credentials it may need (the plan's `src.index`; none means the default index), and the
/// sha256 to check it against.
pub(crate) fn download_request(
    url: &str,
    index: Option<&str>,
    hash: &str,
    default: &IndexChoice,
) -> (String, String, String, Option<String>) {
    let (index_name, index_url) = match index {
        Some(name) if name == default.name => (name.to_string(), default.url.clone()),
        Some(name) => (name.to_string(), String::new()),
        None => (String::new(), default.url.clone()),
    };
    (url.to_string(), index_name, index_url, sha256_hex(hash))
}

/// The hex sha256 of a `sha256-` SRI hash.
pub(crate) fn sha256_hex(sri: &str) -> Option<String> {
    py2nix_dist::hex_of_sri(sri)
        .filter(|(algorithm, _)| *algorithm == "sha256")
        .map(|(_, hex)| hex)
}

/// Checks bytes against an SRI hash (sha256 or sha512).
pub(crate) fn check_sri(bytes: &[u8], sri: &str) -> Result<(), String> {
    let actual = if sri.starts_with("sha256-") {
        py2nix_dist::sri("sha256", &sha2::Sha256::digest(bytes))
    } else if sri.starts_with("sha512-") {
        py2nix_dist::sri("sha512", &sha2::Sha512::digest(bytes))
    } else {
        return Err(format!("the hash `{sri}` is neither sha256 nor sha512"));
    };
    if actual == sri {
        Ok(())
    } else {
        Err(format!(
            "downloaded file has hash {actual}, the plan says {sri}"
        ))
    }
}

fn read_cached_facts(cache_root: Option<&Path>, sri: &str) -> Option<SdistBuildInfo> {
    KeyedCache::new(cache_root).get(SDIST_BUILD, sri)
}

/// Stores facts; a cache that cannot be written only costs a later run a download.
fn write_cached_facts(cache_root: Option<&Path>, sri: &str, facts: &SdistBuildInfo) {
    KeyedCache::new(cache_root).put(SDIST_BUILD, sri, facts);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, requires_python: Option<&str>) -> PageFile {
        PageFile {
            filename: name.to_string(),
            url: format!("https://files.example.org/{name}"),
            sha256: Some("00".repeat(32)),
            requires_python: requires_python.map(str::to_string),
            yanked: false,
            core_metadata: None,
        }
    }

    fn constraint(text: &str, requirer: &str) -> Constraint {
        Constraint {
            dependency: py2nix_lock::pep508_dependency(text).unwrap(),
            requirer: requirer.to_string(),
        }
    }

    fn target() -> Target {
        Target::new(
            py2nix_plan::NixSystem::X86_64Linux,
            py2nix_plan::PythonVersion::new(11),
        )
    }

    #[test]
    fn the_newest_fitting_version_with_a_file_for_the_target_wins() {
        let page = Page {
            files: vec![
                file("setuptools-70.0.0-py3-none-any.whl", Some(">=3.8")),
                file("setuptools-69.5.1.tar.gz", None),
                file("setuptools-80.0.0-py3-none-any.whl", Some(">=3.12")),
                file("setuptools-81.0.0b1-py3-none-any.whl", None),
            ],
        };
        let target = target();
        let tags = TagPriorities::for_target(&target);
        let python = target.python.full_version();
        let chosen = buildenv::choose_candidate(
            "setuptools",
            &page,
            &[constraint("setuptools>=61", "a 1 (to build it)")],
            &tags,
            &python,
        )
        .unwrap();
        assert_eq!(chosen.version.to_string(), "70.0.0");
        assert_eq!(chosen.kind, SourceKind::Wheel);
        let chosen = buildenv::choose_candidate(
            "setuptools",
            &page,
            &[constraint("setuptools<70", "a 1")],
            &tags,
            &python,
        )
        .unwrap();
        assert_eq!(
            (chosen.version.to_string(), chosen.kind),
            ("69.5.1".to_string(), SourceKind::Sdist)
        );
        let none = buildenv::choose_candidate(
            "setuptools",
            &page,
            &[
                constraint("setuptools>=71", "a 1"),
                constraint("setuptools<70", "b 2"),
            ],
            &tags,
            &python,
        );
        assert!(none.is_none());
        let message = buildenv::conflict_message(
            "setuptools",
            &[
                constraint("setuptools>=71", "a 1"),
                constraint("setuptools<70", "b 2"),
            ],
            None,
            &page,
            &python,
            &tags,
        );
        assert!(
            message.contains("a 1 wants `>=71`") && message.contains("b 2 wants `<70`"),
            "{message}"
        );
        // The versions tried: those with a file for the target (80.0.0 needs Python 3.12).
        assert!(
            message.contains("versions tried: 81.0.0b1, 70.0.0, 69.5.1"),
            "{message}"
        );
    }

    #[test]
    fn markers_are_evaluated_for_the_target_and_the_default_is_setuptools() {
        let facts = SdistBuildInfo {
            directory: "a-1".into(),
            requires: Some(vec![
                "wheel".into(),
                "tomli; python_version < '3.11'".into(),
                "pywin32; sys_platform == 'win32'".into(),
            ]),
            build_backend: None,
            cargo_lock: None,
            vcs_version: None,
        };
        let names: Vec<String> = sdist_requirements(&facts, None, &[], &target(), "a 1")
            .unwrap()
            .iter()
            .map(|d| d.name.to_string())
            .collect();
        assert_eq!(names, ["wheel"]);
        let none = SdistBuildInfo {
            requires: None,
            ..facts
        };
        let names: Vec<String> = sdist_requirements(&none, None, &[], &target(), "a 1")
            .unwrap()
            .iter()
            .map(|d| d.name.to_string())
            .collect();
        assert_eq!(names, ["setuptools"]);
    }

    #[test]
    fn the_database_adds_to_or_replaces_the_sdists_build_requirements() {
        let db = OverrideDb::from_files([(
            "ap/app/override.toml",
            "schema-version = 1\n\
             [[rule]]\nversions = \">=2\"\nbuild-requires = [\"cython<3\", \"setuptools>=61\", \"tomli; python_version < '3.11'\"]\n\
             [[rule]]\nversions = \"<2\"\nbuild-requires = [\"hatchling\"]\nbuild-requires-replace = true\n",
        )])
        .unwrap();
        let facts = SdistBuildInfo {
            directory: "app-2".into(),
            requires: Some(vec!["setuptools".into(), "wheel".into()]),
            build_backend: None,
            cargo_lock: None,
            vcs_version: None,
        };
        let names = |version: &str| -> Vec<String> {
            let rule = sdist_rule(&db, "app", version);
            sdist_requirements(&facts, rule, &[], &target(), "app")
                .unwrap()
                .iter()
                .map(|d| format!("{}{}", d.name, d.version))
                .collect()
        };
        // Added: the sdist's own, then the rule's (markers evaluated for the target).
        assert_eq!(
            names("2.1"),
            ["setuptools*", "wheel*", "cython<3", "setuptools>=61"]
        );
        // Replaced.
        assert_eq!(names("1.5"), ["hatchling*"]);
        // No rule: the sdist's alone.
        assert!(sdist_rule(&db, "other", "1").is_none());
        // The project's extra build requirements come last, after the rule's.
        assert_eq!(
            requirement_texts(
                &facts,
                sdist_rule(&db, "app", "1"),
                &["cython>=3".to_string()]
            ),
            ["hatchling", "cython>=3"]
        );
        let none = SdistBuildInfo {
            requires: None,
            ..facts.clone()
        };
        assert_eq!(
            requirement_texts(&none, sdist_rule(&db, "app", "2"), &[]),
            [
                DEFAULT_BUILD_REQUIRES,
                "cython<3",
                "setuptools>=61",
                "tomli; python_version < '3.11'"
            ]
        );
    }

    #[test]
    fn a_trees_own_build_system_version_variable_and_fallback_warning() {
        let tree = |kind: SourceKind| {
            let path = kind == SourceKind::Path;
            let src = if path {
                SourcePlan::Path(py2nix_plan::PathSourcePlan {
                    filename: None,
                    path: "libs/a".into(),
                    format: py2nix_plan::PathFormat::Tree,
                    editable: false,
                })
            } else {
                SourcePlan::Git(py2nix_plan::GitSourcePlan {
                    url: "https://example.org/r.git".into(),
                    hash: "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".into(),
                    rev: "0".repeat(40),
                    submodules: false,
                    subdirectory: None,
                    credentials: None,
                })
            };
            PackagePlan::new("1.2.3".into(), src, Vec::new())
        };
        let mut target = py2nix_plan::TargetPlan {
            system: "x86_64-linux".into(),
            python: "3.12".into(),
            python_full_version: "3.12.12".into(),
            platform: BTreeMap::new(),
            roots: Vec::new(),
            packages: BTreeMap::new(),
            build_packages: BTreeMap::new(),
            selections: None,
        };
        target.packages.insert("scm".into(), tree(SourceKind::Git));
        target.packages.insert("old".into(), tree(SourceKind::Path));
        let mut plan = Plan {
            schema: 1,
            generator: "test".into(),
            inputs: None,
            project: None,
            targets: BTreeMap::from([("x86_64-linux-cp312".to_string(), target)]),
        };
        let mut facts = BTreeMap::new();
        let scm = py2nix_source::tree_build_info(
            Some("[build-system]\nrequires = [\"setuptools>=64\", \"setuptools_scm>=8\"]\n[project]\nname = \"scm\"\ndynamic = [\"version\"]\n"),
            None,
        )
        .unwrap();
        let scm_key = facts_key(&plan.targets["x86_64-linux-cp312"].packages["scm"]).unwrap();
        facts.insert(scm_key, scm);
        let old_key = facts_key(&plan.targets["x86_64-linux-cp312"].packages["old"]).unwrap();
        facts.insert(old_key, py2nix_source::tree_build_info(None, None).unwrap());
        describe_trees(
            &mut plan,
            &facts,
            &OverrideDb::from_files(Vec::<(&str, &str)>::new()).unwrap(),
        );
        let packages = &plan.targets["x86_64-linux-cp312"].packages;
        assert_eq!(
            packages["scm"].build_system,
            ["setuptools", "setuptools-scm"]
        );
        assert_eq!(
            packages["scm"].env,
            BTreeMap::from([(
                "SETUPTOOLS_SCM_PRETEND_VERSION".to_string(),
                "1.2.3".to_string()
            )])
        );
        assert!(packages["scm"].warnings.is_empty());
        assert_eq!(packages["old"].build_system, ["setuptools"]);
        assert!(packages["old"].env.is_empty());
        assert_eq!(packages["old"].warnings.len(), 1);
        assert!(packages["old"].warnings[0].contains("a local directory"));
        assert!(packages["old"].warnings[0].contains("assuming setuptools"));
        // The keys of a git tree and a local tree differ from each other and from SRI hashes.
        assert!(facts.keys().all(|key| !key.starts_with("sha256-")));
    }

    #[test]
    fn hashes() {
        let sri = sri_of_hex(&"00".repeat(32));
        assert_eq!(sha256_hex(&sri).unwrap(), "00".repeat(32));
        assert!(check_sri(b"x", &sri).is_err());
        let good = py2nix_dist::sha256_sri(b"x");
        assert!(check_sri(b"x", &good).is_ok());
    }
}
