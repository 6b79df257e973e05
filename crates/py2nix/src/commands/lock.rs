//! `py2nix lock`: read the project, plan every target, look files up on the index, print the
//! plan with the record of what it was made from (`inputs`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{anyhow, Context};
use py2nix_index::{Cache, Credentials, PageRequest, DEFAULT_INDEX_URL};
use py2nix_lock::{ExtraName, GitSource, InstallSet, Lock, LockFormat, PackageSource, Project};
use py2nix_overrides::OverrideDb;
use py2nix_plan::{
    assemble_plan, chosen_files, resolve_targets, FormatControl, LinuxLibc, NixSystem, PathFormat,
    Plan, PythonVersion, Selection, Target, DEFAULT_PYTHON_MINORS,
};

use crate::network::Network;
use crate::project::ProjectFiles;
use crate::sources::{IndexChoice, Indexes, LocalPaths, LookedUp, Pages};

use crate::cli::{Format, IndexArgs, LockArgs, SelectArgs};
use crate::inputs;
use crate::output::{self, Generated};
use crate::report::{Classify, Failure, Reporter};

/// Everything planning needs, checked (`lock` and `graph` share it).
pub struct LockSettings {
    pub project_dir: PathBuf,
    pub lock: Option<PathBuf>,
    /// Where the result is written (local paths in the plan are relative to it).
    pub output: Option<PathBuf>,
    pub systems: Vec<NixSystem>,
    /// Whether `--system` named the systems (else every system, less those the lock's
    /// environments do not support).
    pub systems_given: bool,
    pub pythons: Vec<PythonVersion>,
    /// Without --python: only the first CPython the project allows (for `graph`).
    pub first_python_only: bool,
    pub selection: Selection,
    pub format_control: FormatControl,
    pub index_url: String,
    pub cache: Option<Cache>,
    pub offline: bool,
    pub linux_libc: Option<LinuxLibc>,
    pub macos: Option<(u16, u16)>,
    /// `--overrides DIR`, merged over the built-in database.
    pub overrides: Option<PathBuf>,
    /// `--frozen`: plan the lock without checking it against pyproject.toml.
    pub frozen: bool,
    /// `--allow-outside-paths`: local sources and pyproject.toml's overrides directory may be
    /// outside the project directory.
    pub allow_outside_paths: bool,
    /// `--max-download-size`: the most bytes of a download whose size the lock does not give.
    pub max_download: u64,
    /// `--allow-cargo-git-host`: hosts whose git crates an sdist's Cargo.lock may name.
    pub cargo_git_hosts: Vec<String>,
}

impl LockSettings {
    pub fn from_args(
        project_dir: PathBuf,
        select: &SelectArgs,
        index: &IndexArgs,
        output: Option<PathBuf>,
    ) -> anyhow::Result<Self> {
        let SelectArgs {
            lock,
            systems,
            pythons,
            groups,
            all_groups,
            no_default_groups,
            extras,
            all_extras,
            no_binary,
            only_binary,
            glibc,
            musl,
            macos,
            overrides,
            allow_outside_paths,
        } = select.clone();
        let IndexArgs {
            index_url,
            cache_dir,
            no_cache,
            offline,
            max_download_size,
            cargo_git_hosts,
        } = index.clone();
        let systems_given = !systems.is_empty();
        let systems = if systems.is_empty() {
            NixSystem::ALL.to_vec()
        } else {
            systems
                .iter()
                .map(|s| NixSystem::from_str(s).map_err(|e| anyhow!(e)))
                .collect::<Result<_, _>>()?
        };
        let pythons = pythons
            .iter()
            .map(|p| PythonVersion::from_str(p).map_err(|e| anyhow!(e)))
            .collect::<Result<_, _>>()?;
        let extras = extras
            .iter()
            .map(|e| ExtraName::from_str(e).map_err(|err| anyhow!("invalid extra `{e}`: {err}")))
            .collect::<Result<_, _>>()?;
        let linux_libc = match (glibc, musl) {
            (Some(v), _) => Some(
                parse_pair(&v, "--glibc")
                    .map(|(major, minor)| LinuxLibc::Glibc { major, minor })?,
            ),
            (None, Some(v)) => Some(
                parse_pair(&v, "--musl").map(|(major, minor)| LinuxLibc::Musl { major, minor })?,
            ),
            (None, None) => None,
        };
        let macos = macos.map(|v| parse_pair(&v, "--macos")).transpose()?;
        let cache = if no_cache {
            None
        } else {
            Some(Cache::new(cache_dir.unwrap_or_else(default_cache_dir)))
        };
        Ok(LockSettings {
            project_dir,
            lock,
            output,
            systems,
            systems_given,
            pythons,
            first_python_only: false,
            selection: Selection {
                groups,
                all_groups,
                extras,
                all_extras,
                no_default_groups,
            },
            format_control: FormatControl::parse(&no_binary, &only_binary)?,
            index_url: index_url.unwrap_or_else(|| DEFAULT_INDEX_URL.to_string()),
            cache,
            offline,
            linux_libc,
            macos,
            overrides,
            frozen: false,
            allow_outside_paths,
            max_download: max_download_size.unwrap_or(py2nix_index::DEFAULT_MAX_DOWNLOAD),
            cargo_git_hosts: cargo_git_hosts
                .iter()
                .map(|host| host.trim().to_ascii_lowercase())
                .filter(|host| !host.is_empty())
                .collect(),
        })
    }
}

fn parse_pair(text: &str, flag: &str) -> anyhow::Result<(u16, u16)> {
    text.split_once('.')
        .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
        .ok_or_else(|| anyhow!("{flag} takes a version `X.Y`, not `{text}`"))
}

fn default_cache_dir() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("py2nix")
}

/// A plan and what it was made from.
pub struct Planned {
    pub plan: Plan,
    /// The directory the lock's relative paths start from (holding pyproject.toml).
    pub dir: PathBuf,
    pub lock_path: PathBuf,
    pub format: LockFormat,
}

pub fn run(args: LockArgs, reporter: &Reporter) -> Result<(), Failure> {
    let LockArgs {
        project_dir,
        format,
        output,
        frozen,
        select,
        index,
    } = args;
    let settings = LockSettings {
        frozen,
        ..LockSettings::from_args(project_dir, &select, &index, output).input()?
    };
    let mut planned = make_plan(&settings, reporter)?;
    let base = inputs::base_dir(settings.output.as_deref()).input()?;
    planned.plan.inputs = Some(record_inputs(&planned, &select, &base).input()?);
    emit(&settings, format, &planned.plan)
}

/// What a lock run read, for `inputs`: the lock (and a requirements file's includes), the
/// pyproject.toml beside it (and every uv workspace member's), the options, and what local
/// source trees said about their build (their pyproject.toml's relevant parts; a local sdist
/// whole).
pub fn record_inputs(
    planned: &Planned,
    select: &SelectArgs,
    base: &Path,
) -> anyhow::Result<inputs::Inputs> {
    let mut recorder = inputs::Recorder::new(base, &planned.lock_path)?;
    for pyproject in crate::freshness::project_pyprojects(planned.format, &planned.dir)? {
        recorder.pyproject(&pyproject)?;
    }
    for (path, is_pyproject) in local_build_inputs(&planned.plan, base) {
        if is_pyproject {
            recorder.pyproject(&path)?;
        } else {
            recorder.file(&path)?;
        }
    }
    if planned.format == LockFormat::Requirements {
        for included in requirements_includes(&planned.lock_path) {
            recorder.file(&included)?;
        }
    }
    if let Some(dir) = user_overrides_dir(select.overrides.as_deref(), &planned.dir) {
        if dir.is_dir() {
            recorder.dir(&dir)?;
        }
    }
    recorder.finish(select)
}

/// The files of local packages whose build system the plan read (`buildsys`): each local
/// directory's pyproject.toml (when it has one) and each local sdist, by the plan's paths
/// (relative to `base`, the generated file's directory).
fn local_build_inputs(plan: &Plan, base: &Path) -> BTreeSet<(PathBuf, bool)> {
    let mut files = BTreeSet::new();
    for target in plan.targets.values() {
        for package in target.packages.values() {
            let py2nix_plan::SourcePlan::Path(local) = &package.src else {
                continue;
            };
            match local.format {
                PathFormat::Tree => {
                    let pyproject = base.join(&local.path).join("pyproject.toml");
                    if pyproject.is_file() {
                        files.insert((pyproject, true));
                    }
                }
                PathFormat::Sdist => {
                    files.insert((base.join(&local.path), false));
                }
                PathFormat::Wheel => {}
            }
        }
    }
    files
}

/// The packages whose index page disagreed with the lock's hash.
fn hash_mismatches(error: &py2nix_plan::PlanError) -> Vec<String> {
    match error {
        py2nix_plan::PlanError::HashMismatch { package, .. } => vec![package.clone()],
        py2nix_plan::PlanError::Many(errors) => errors.iter().flat_map(hash_mismatches).collect(),
        py2nix_plan::PlanError::OnTargets { error, .. } => hash_mismatches(error),
        _ => Vec::new(),
    }
}

/// The user's override directory: `--overrides DIR`, else pyproject.toml's
/// `[tool.py2nix] overrides` (relative to the project directory).
pub fn user_overrides_dir(flag: Option<&Path>, project_dir: &Path) -> Option<PathBuf> {
    if let Some(dir) = flag {
        return Some(dir.to_path_buf());
    }
    let text = std::fs::read_to_string(project_dir.join("pyproject.toml")).ok()?;
    crate::overrides::user_dir_from_pyproject(&text).map(|dir| project_dir.join(dir))
}

/// The files a requirements file includes (`-r`, `-c`), recursively, as the reader opens them.
pub fn requirements_includes(path: &Path) -> Vec<PathBuf> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let opened = std::cell::RefCell::new(Vec::new());
    let include = |name: &str, from: &str| -> Result<(String, String), String> {
        let from_dir = Path::new(from)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| base.clone());
        let included = from_dir.join(name);
        let text = crate::project::read_include(&included)?;
        opened.borrow_mut().push(included.clone());
        Ok((text, included.display().to_string()))
    };
    let _ = py2nix_lock::parse_requirements(&text, &path.display().to_string(), &include);
    let mut files = opened.into_inner();
    files.sort();
    files.dedup();
    files
}

/// Reads the project, plans every target, looks the files up: everything `lock` does before
/// printing. `graph` uses it too. Each step is one of the phases ARCHITECTURE.md numbers.
// The plan crate's errors carry whole messages; they are built once per failed run.
#[allow(clippy::result_large_err)]
pub fn make_plan(settings: &LockSettings, reporter: &Reporter) -> Result<Planned, Failure> {
    // 1. Read.
    let (files, targets, format_control) = read_project(settings, reporter)?;
    let ProjectFiles {
        dir,
        lock_path,
        mut lock,
        project,
        indexes: declared,
    } = files;
    let lock_format = lock.format;
    let indexes = Indexes::new(&settings.index_url, &lock, &declared);
    let credentials = Credentials::from_environment();
    let network = Network::new(settings.cache.clone(), settings.offline, credentials)?
        .with_download_limits(settings.max_download, &lock);
    let default_index = indexes.default_index();
    crate::unlocked::add_poetry_unsafe_packages(
        &mut lock,
        &project,
        &network,
        (&default_index.url, &default_index.name),
        reporter,
    )?;
    // 2. Complete an install list.
    let flat = lock.install == InstallSet::Flat;
    let mut pages = Pages::new();
    if flat {
        pages = complete_install_list(&mut lock, &indexes, &network, &dir, reporter)?;
    }
    // 3. Resolve per target.
    let (resolutions, targets) = resolve(
        settings,
        &lock,
        &project,
        targets,
        &format_control,
        reporter,
    )?;
    let overrides = load_overrides(settings, &dir, reporter)?;
    let elf_inputs = crate::elf::Inputs {
        network: &network,
        cache_root: settings.cache.as_ref().map(|c| c.root()),
        index: indexes.default_index(),
        targets: &targets,
        overrides: &overrides,
    };
    // 4. Look up sources.
    let mut prefetched = crate::elf::Prefetched::default();
    if !flat {
        (pages, prefetched) = fetch_file_pages(
            &lock,
            &resolutions,
            &indexes,
            &network,
            &elf_inputs,
            reporter,
        )?;
    }
    let paths = LocalPaths::new(
        &dir,
        settings.output.as_deref(),
        settings.allow_outside_paths,
    )
    .input()?;
    reporter.step("hashing direct-URL files");
    let url_hashes = network.url_hashes(&lock, &resolutions, reporter)?;
    let gits = resolve_gits(settings, &lock, &resolutions, reporter)?;
    reporter.finish_progress();
    let looked_up = LookedUp {
        indexes: &indexes,
        pages: &pages,
        credentials: network.credentials(),
        url_hashes,
        gits,
        paths: &paths,
    };
    // 5. Assemble.
    let mut plan = assemble(
        settings,
        &lock,
        &project,
        &resolutions,
        &looked_up,
        &overrides,
        reporter,
    )?;
    // 6. Build systems and wheel libraries.
    let discovered = crate::buildsys::discover(
        &mut plan,
        &crate::buildsys::Inputs {
            network: &network,
            cache_root: settings.cache.as_ref().map(|c| c.root()),
            index: indexes.default_index(),
            targets: &targets,
            overrides: &overrides,
            offline: settings.offline,
            paths: &paths,
            cargo_git_hosts: &settings.cargo_git_hosts,
            extra_build_requires: project
                .uv
                .extra_build_dependencies
                .iter()
                .map(|(name, texts)| (name.to_string(), texts.clone()))
                .collect(),
        },
        reporter,
    );
    network.warn_dropped_links(reporter);
    discovered?;
    py2nix_plan::apply_build_settings(&mut plan, &project.uv);
    crate::elf::map_wheel_libraries(&mut plan, &elf_inputs, prefetched, reporter)?;
    // Built-in entries are parsed on first use; one that fails to is a build defect.
    overrides
        .check_loaded()
        .context("the embedded override database is invalid")
        .unexpected()?;
    report_packages(&plan, reporter);
    Ok(Planned {
        plan,
        dir,
        lock_path,
        format: lock_format,
    })
}

/// Phase 1: the project and its lock with its locker's settings, refused when stale, the
/// targets to plan for and the file choice (the command line's, with uv's settings).
#[allow(clippy::result_large_err)]
fn read_project(
    settings: &LockSettings,
    reporter: &Reporter,
) -> Result<(ProjectFiles, Vec<Target>, FormatControl), Failure> {
    reporter.step("reading the lock");
    let recorded = settings
        .output
        .as_deref()
        .and_then(crate::project::recorded_lock);
    let mut files = crate::project::read(
        &settings.project_dir,
        settings.lock.as_deref(),
        recorded.as_deref(),
        settings.allow_outside_paths,
        reporter,
    )
    .input()?;
    let lock_format = files.lock.format;
    crate::uv_settings::gather(lock_format, &files.dir, &mut files.lock, &mut files.project)
        .input()?;
    py2nix_plan::check_selection(&files.project, &settings.selection).input()?;
    let format_control = settings
        .format_control
        .with_uv(
            &files.project.uv,
            files.project.package.as_ref().map(|p| &p.name),
        )
        .input()?;
    let (dir, lock_path, lock) = (&files.dir, &files.lock_path, &files.lock);
    crate::freshness::refuse_stale_lock(lock.format, lock_path, dir, settings.frozen, reporter)?;
    reporter.explain(&format!(
        "{} packages in {}",
        lock.packages.len(),
        lock_path.display()
    ));
    let targets = supported_targets(
        settings,
        &files.project,
        choose_targets(settings, &files.project).input()?,
        reporter,
    )
    .input()?;
    for target in &targets {
        reporter.explain(&format!("target {} ({})", target.id(), target.describe()));
    }
    Ok((files, targets, format_control))
}

/// Phase 2, for an install list: the pages of every package with all files of its version,
/// the files a requirements file names by hash, and dependencies from core metadata.
#[allow(clippy::result_large_err)]
fn complete_install_list(
    lock: &mut Lock,
    indexes: &Indexes,
    network: &Network,
    dir: &Path,
    reporter: &Reporter,
) -> Result<Pages, Failure> {
    let requests = version_page_requests(lock, indexes);
    reporter.step(&format!(
        "reading {} project pages from the index",
        requests.len()
    ));
    let pages = network.fetch_pages(requests, reporter)?;
    fill_files_from_index(lock, indexes, &pages).input()?;
    reporter.step("reading core metadata for dependencies");
    crate::metadata::derive_dependencies(lock, indexes, &pages, network, dir, reporter)?;
    Ok(pages)
}

/// Phase 3: each target's resolution (explained with `-v`), and the targets planned.
///
/// When the lock names required environments (uv's `required-environments`) and the command
/// line names no system, a default target outside them that cannot be resolved (a package
/// without a file for it) is left out with a warning, as uv only promises those environments;
/// a required target that fails fails the run.
#[allow(clippy::result_large_err)]
fn resolve(
    settings: &LockSettings,
    lock: &Lock,
    project: &Project,
    targets: Vec<Target>,
    format_control: &FormatControl,
    reporter: &Reporter,
) -> Result<(Vec<py2nix_plan::TargetResolution>, Vec<Target>), Failure> {
    reporter.step(&match targets.len() {
        1 => "resolving 1 target".to_string(),
        n => format!("resolving {n} targets"),
    });
    let resolve = |targets: &[Target]| {
        resolve_targets(lock, project, &settings.selection, targets, format_control)
    };
    let (resolutions, targets) = match resolve(&targets) {
        Ok(resolutions) => (resolutions, targets),
        Err(error) if settings.systems_given || project.uv.required_environments.is_empty() => {
            return Err(error).input();
        }
        Err(error) => {
            let mut kept = Vec::new();
            for target in targets {
                if py2nix_plan::requires_target(&project.uv, &target) {
                    kept.push(target);
                    continue;
                }
                match resolve(std::slice::from_ref(&target)) {
                    Ok(_) => kept.push(target),
                    Err(reason) => reporter.warn(&format!(
                        "not planning {}: it is outside the lock's required environments and cannot be planned: {}",
                        target.id(),
                        reason
                    )),
                }
            }
            if kept.is_empty() {
                return Err(error).input();
            }
            (resolve(&kept).input()?, kept)
        }
    };
    if reporter.is_verbose() {
        crate::commands::explain::decisions(
            lock,
            project,
            &settings.selection,
            &resolutions,
            format_control,
            reporter,
        );
    }
    Ok((resolutions, targets))
}

/// The override database: the built-in one, or the user's directory merged over it.
#[allow(clippy::result_large_err)]
fn load_overrides(
    settings: &LockSettings,
    dir: &Path,
    reporter: &Reporter,
) -> Result<OverrideDb, Failure> {
    let user_overrides = user_overrides_dir(settings.overrides.as_deref(), dir);
    if let (None, Some(user_dir)) = (&settings.overrides, &user_overrides) {
        if !settings.allow_outside_paths {
            crate::sources::check_inside_project(
                user_dir,
                dir,
                "pyproject.toml's `[tool.py2nix] overrides` directory",
            )
            .input()?;
        }
    }
    let (overrides, override_warnings) = match &user_overrides {
        None => (
            crate::overrides::embedded()
                .context("the embedded override database is invalid")
                .unexpected()?,
            Vec::new(),
        ),
        Some(user_dir) => crate::overrides::load(Some(user_dir)).input()?,
    };
    for warning in &override_warnings {
        reporter.warn(warning);
    }
    Ok(overrides)
}

/// Phase 4, for a graph lock: the index pages of the chosen files, with the Linux binary
/// wheels read while they are fetched.
#[allow(clippy::result_large_err)]
fn fetch_file_pages(
    lock: &Lock,
    resolutions: &[py2nix_plan::TargetResolution],
    indexes: &Indexes,
    network: &Network,
    elf_inputs: &crate::elf::Inputs,
    reporter: &Reporter,
) -> Result<(Pages, crate::elf::Prefetched), Failure> {
    let mut prefetched = crate::elf::Prefetched::default();
    let requests = file_page_requests(lock, resolutions, indexes);
    reporter.step(&format!(
        "reading {} project pages from the index",
        requests.len()
    ));
    // The Linux wheels whose URL the lock gives are read while the pages are fetched.
    // Those it names without a URL (poetry.lock) are read as soon as their own pages,
    // fetched first on a second thread, give it, while the other pages are fetched.
    let mut wheels = prefetch_jobs(lock, resolutions, indexes);
    let wanted = wheels_without_url(lock, resolutions, indexes);
    let total = requests.len();
    let (early, rest): (Vec<_>, Vec<_>) = requests.into_iter().partition(|request| {
        wanted.contains(&(request.index_url.clone(), request.package.clone()))
    });
    let (fetched, early_fetched) = std::thread::scope(|scope| {
        let ahead = (!wheels.is_empty() || !early.is_empty()).then(|| {
            scope.spawn(|| {
                let quiet = Reporter::new(true, false);
                let early_pages = network.fetch_pages_of(early, total, &quiet);
                if let Ok(early_pages) = &early_pages {
                    wheels.extend(page_prefetch_jobs(lock, resolutions, indexes, early_pages));
                }
                (early_pages, crate::elf::prefetch(wheels, elf_inputs))
            })
        });
        let fetched = network.fetch_pages_of(rest, total, reporter);
        let early_fetched = match ahead.map(|handle| handle.join()) {
            Some(Ok((early_pages, read))) => {
                prefetched = read;
                early_pages
            }
            Some(Err(_)) => Err(Failure::Unexpected(anyhow!(
                "reading Linux wheels ahead of the plan failed"
            ))),
            None => Ok(Pages::new()),
        };
        (fetched, early_fetched)
    });
    network.warn_dropped_links(reporter);
    let mut pages = fetched?;
    pages.extend(early_fetched?);
    Ok((pages, prefetched))
}

/// Phase 5: the plan from the resolutions and what was looked up, with the project itself.
#[allow(clippy::result_large_err)]
fn assemble(
    settings: &LockSettings,
    lock: &Lock,
    project: &Project,
    resolutions: &[py2nix_plan::TargetResolution],
    looked_up: &LookedUp,
    overrides: &OverrideDb,
    reporter: &Reporter,
) -> Result<Plan, Failure> {
    let assembled = assemble_plan(lock, resolutions, looked_up, overrides, &generator());
    if let (Err(error), Some(cache)) = (&assembled, &settings.cache) {
        // A page that disagrees with the lock must not answer the next run from the cache.
        for package in hash_mismatches(error) {
            cache.forget_package(&package);
        }
    }
    let mut plan = assembled.input()?;
    let held = resolutions
        .first()
        .map(|r| r.held.clone())
        .unwrap_or_else(|| settings.selection.held());
    for left_out in resolutions
        .first()
        .map(|r| &r.left_out)
        .into_iter()
        .flatten()
    {
        reporter.warn(&format!(
            "the project's groups and extras cannot all be installed together: python.nix leaves out {left_out}; \
             name the ones to hold with --group/--extra"
        ));
    }
    py2nix_plan::add_project(&mut plan, project, &settings.selection, &held).input()?;
    Ok(plan)
}

/// Each package's source with `-v`, and its warnings, each printed once with the targets it
/// holds on.
fn report_packages(plan: &Plan, reporter: &Reporter) {
    // A warning that holds on several targets is printed once, with the targets it holds on.
    let mut warnings: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
    for (id, target) in &plan.targets {
        for (name, package) in &target.packages {
            let from = package
                .src
                .filename()
                .or(package.src.path())
                .or(package.src.url())
                .unwrap_or_default();
            reporter.explain(&format!("{id}: {name} {} from {from}", package.version));
            for warning in &package.warnings {
                warnings
                    .entry((name.as_str(), warning.as_str()))
                    .or_default()
                    .push(id.as_str());
            }
        }
    }
    for ((name, warning), ids) in warnings {
        let on = if ids.len() > 1 && ids.len() == plan.targets.len() {
            "every target".to_string()
        } else {
            ids.join(", ")
        };
        reporter.warn(&format!("{on}: {name}: {warning}"));
    }
}

fn generator() -> String {
    format!("py2nix {}", env!("CARGO_PKG_VERSION"))
}

/// Page requests for an install list: every index package of the lock, with all files of
/// its version (requirements files name hashes, not files).
fn version_page_requests(lock: &Lock, indexes: &Indexes) -> Vec<PageRequest> {
    let mut needed: BTreeMap<(IndexChoice, String), (Vec<String>, Vec<String>)> = BTreeMap::new();
    for package in &lock.packages {
        for index in indexes.candidates(package) {
            let entry = needed.entry((index, package.name.to_string())).or_default();
            entry.0.extend(
                package
                    .files
                    .iter()
                    .map(|f| crate::sources::index_filename(package, f)),
            );
            entry.1.push(package.version.to_string());
        }
    }
    page_requests(needed)
}

/// The chosen Linux binary wheels whose URL and sha256 the lock itself gives, from the index
/// the run uses (not when `--index-url` points elsewhere: then only that index is asked).
fn prefetch_jobs(
    lock: &Lock,
    resolutions: &[py2nix_plan::TargetResolution],
    indexes: &Indexes,
) -> Vec<crate::elf::Job> {
    let mut jobs = Vec::new();
    for (resolution, package, file) in chosen_wheels(lock, resolutions) {
        let PackageSource::Index { url: locked, .. } = &package.source else {
            continue;
        };
        let from_locked_index = indexes
            .candidates(package)
            .first()
            .is_some_and(|choice| crate::sources::same_index(&choice.url, locked));
        let (true, Some(url), Some(hash)) = (from_locked_index, &file.url, &file.hash) else {
            continue;
        };
        if hash.algorithm != "sha256" {
            continue;
        }
        if let Some(job) =
            crate::elf::prefetch_job(&resolution.target, &file.filename, url, &hash.hex)
        {
            jobs.push(job);
        }
    }
    jobs
}

/// The pages (index URL, package) that give the URL of a chosen Linux binary wheel the lock
/// names without one (poetry.lock).
fn wheels_without_url(
    lock: &Lock,
    resolutions: &[py2nix_plan::TargetResolution],
    indexes: &Indexes,
) -> std::collections::BTreeSet<(String, String)> {
    let mut wanted = std::collections::BTreeSet::new();
    for (resolution, package, file) in chosen_wheels(lock, resolutions) {
        if file.url.is_some()
            || !crate::elf::is_binary_linux_wheel(&resolution.target, &file.filename)
        {
            continue;
        }
        for index in indexes.candidates(package) {
            wanted.insert((index.url, package.name.to_string()));
        }
    }
    wanted
}

/// Prefetch jobs for the chosen Linux binary wheels listed on `pages`, with the page's URL
/// and sha256.
fn page_prefetch_jobs(
    lock: &Lock,
    resolutions: &[py2nix_plan::TargetResolution],
    indexes: &Indexes,
    pages: &Pages,
) -> Vec<crate::elf::Job> {
    let mut jobs = Vec::new();
    for (resolution, package, file) in chosen_wheels(lock, resolutions) {
        if file.url.is_some()
            || !crate::elf::is_binary_linux_wheel(&resolution.target, &file.filename)
        {
            continue;
        }
        let listed = indexes.candidates(package).into_iter().find_map(|index| {
            let page = pages.get(&(index.url, package.name.to_string()))?;
            crate::sources::listed_file(page, package, file)
        });
        let Some(listed) = listed else {
            continue;
        };
        let (Some(sha256), false) = (&listed.sha256, listed.url.contains('@')) else {
            continue;
        };
        if let Some(job) =
            crate::elf::prefetch_job(&resolution.target, &file.filename, &listed.url, sha256)
        {
            jobs.push(job);
        }
    }
    jobs
}

/// Every target's chosen wheel files of index packages.
fn chosen_wheels<'a>(
    lock: &'a Lock,
    resolutions: &'a [py2nix_plan::TargetResolution],
) -> impl Iterator<
    Item = (
        &'a py2nix_plan::TargetResolution,
        &'a py2nix_lock::LockedPackage,
        &'a py2nix_lock::LockedFile,
    ),
> + 'a {
    resolutions.iter().flat_map(move |resolution| {
        resolution.files.iter().filter_map(move |(name, chosen)| {
            let py2nix_plan::Chosen::File {
                index,
                format: py2nix_plan::SourceKind::Wheel,
            } = chosen
            else {
                return None;
            };
            let package = &lock.packages[resolution.closure.packages[name].lock_index];
            if !py2nix_plan::is_index_source(&package.source) {
                return None;
            }
            Some((resolution, package, &package.files[*index]))
        })
    })
}

/// Page requests for a graph lock: the chosen files of index packages.
fn file_page_requests(
    lock: &Lock,
    resolutions: &[py2nix_plan::TargetResolution],
    indexes: &Indexes,
) -> Vec<PageRequest> {
    let mut needed: BTreeMap<(IndexChoice, String), (Vec<String>, Vec<String>)> = BTreeMap::new();
    for (package, file) in chosen_files(lock, resolutions) {
        for index in indexes.candidates(package) {
            needed
                .entry((index, package.name.to_string()))
                .or_default()
                .0
                .push(crate::sources::index_filename(package, file));
        }
    }
    page_requests(needed)
}

fn page_requests(
    needed: BTreeMap<(IndexChoice, String), (Vec<String>, Vec<String>)>,
) -> Vec<PageRequest> {
    needed
        .into_iter()
        .map(
            |((index, package), (mut needed_files, mut needed_versions))| {
                needed_files.sort();
                needed_files.dedup();
                needed_versions.sort();
                needed_versions.dedup();
                PageRequest {
                    index_url: index.url,
                    index_name: index.name,
                    package,
                    needed_files,
                    needed_versions,
                }
            },
        )
        .collect()
}

/// For packages the lock names by hash only (requirements files): the index's files of the
/// locked version with one of those hashes, from the first index that has any.
fn fill_files_from_index(lock: &mut Lock, indexes: &Indexes, pages: &Pages) -> anyhow::Result<()> {
    let mut errors = Vec::new();
    for package in &mut lock.packages {
        let Some(hashes) = package.index_hashes.clone() else {
            continue;
        };
        let mut found = Vec::new();
        let mut looked = Vec::new();
        for index in indexes.candidates(package) {
            looked.push(py2nix_index::redact_url(&py2nix_index::page_url(
                &index.url,
                package.name.as_ref(),
            )));
            let Some(page) = pages.get(&(index.url.clone(), package.name.to_string())) else {
                continue;
            };
            for file in &page.files {
                if !py2nix_plan::file_is_version(
                    &file.filename,
                    package.name.as_ref(),
                    &package.version,
                ) {
                    continue;
                }
                let matches = hashes.is_empty()
                    || file.sha256.as_ref().is_some_and(|hex| {
                        hashes
                            .iter()
                            .any(|h| h.algorithm == "sha256" && h.hex.eq_ignore_ascii_case(hex))
                    });
                if matches {
                    if let Err(message) = py2nix_lock::check_distribution_filename(&file.filename) {
                        errors.push(format!(
                            "`{}` {}: the index lists a file that cannot be planned: {message}",
                            package.name, package.version
                        ));
                        continue;
                    }
                    found.push(py2nix_lock::LockedFile {
                        filename: file.filename.clone(),
                        hash: file.sha256.as_ref().map(|hex| py2nix_lock::FileHash {
                            algorithm: "sha256".to_string(),
                            hex: hex.to_ascii_lowercase(),
                        }),
                        url: None,
                        size: None,
                    });
                }
            }
            if !found.is_empty() {
                break;
            }
        }
        if found.is_empty() {
            errors.push(format!(
                "`{}` {}: no file of this version on {} has {}",
                package.name,
                package.version,
                looked.join(" or "),
                match hashes.len() {
                    0 => "any hash".to_string(),
                    1 => "the hash the lock gives".to_string(),
                    n => format!("one of the {n} hashes the lock gives"),
                }
            ));
        }
        package.files = found;
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(anyhow!(errors.join("\n")))
    }
}

/// Every git source of the planned packages, resolved to a commit and hashed.
fn resolve_gits(
    settings: &LockSettings,
    lock: &Lock,
    resolutions: &[py2nix_plan::TargetResolution],
    reporter: &Reporter,
) -> Result<BTreeMap<GitKey, py2nix_plan::ResolvedGit>, Failure> {
    let mut wanted: BTreeMap<GitKey, (&GitSource, String)> = BTreeMap::new();
    for resolution in resolutions {
        for selected in resolution.closure.packages.values() {
            let package = &lock.packages[selected.lock_index];
            if let PackageSource::Git(git) = &package.source {
                wanted
                    .entry(crate::sources::git_key(git))
                    .or_insert((git, package.name.to_string()));
            }
        }
    }
    let cache_root = settings.cache.as_ref().map(|c| c.root().to_path_buf());
    let mut out = BTreeMap::new();
    let mut errors = Vec::new();
    let mut unexpected = false;
    let mut hints: Vec<String> = Vec::new();
    if !wanted.is_empty() {
        reporter.start_count(wanted.len() as u64, "hashing git checkouts");
    }
    for (key, (git, name)) in wanted {
        reporter.advance();
        reporter.explain(&format!(
            "hashing the git checkout of {name} ({})",
            py2nix_source::redact_git_url(&git.url)
        ));
        match crate::sources::resolve_git(git, cache_root.as_deref(), settings.offline) {
            Ok(resolved) => {
                out.insert(key, resolved);
            }
            Err(error) => {
                unexpected |= git_failure_is_unexpected(&error);
                for hint in crate::report::hints(&error) {
                    if !hints.contains(&hint) {
                        hints.push(hint);
                    }
                }
                errors.push(format!("`{name}`: {error:#}"));
            }
        }
    }
    if errors.is_empty() {
        return Ok(out);
    }
    let error = hints
        .into_iter()
        .fold(anyhow!(errors.join("\n")), crate::report::with_hint);
    if unexpected {
        Err(Failure::Unexpected(error))
    } else {
        Err(Failure::Input(error))
    }
}

type GitKey = (String, Option<String>, Option<String>, bool);

/// Whether a git source failed for a reason outside the input (exit 2, as documented for
/// network failures): git itself failed (the network, the server, a missing `git`), was
/// stopped at a bound (`PY2NIX_GIT_DEADLINE`, `PY2NIX_GIT_MAX_SIZE`), or a file
/// could not be read or written. A reference or commit the repository lacks, an invalid URL
/// or commit id, and a `--offline` miss are the input's.
fn git_failure_is_unexpected(error: &anyhow::Error) -> bool {
    use py2nix_source::SourceError;
    error.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<SourceError>(),
            Some(
                SourceError::Git { .. }
                    | SourceError::GitLimit { .. }
                    | SourceError::GitNotRunnable(_)
                    | SourceError::Io { .. }
            )
        )
    })
}

/// The requested targets, or the defaults: every system, and the default CPython minors the
/// project's requires-python allows.
fn choose_targets(settings: &LockSettings, project: &Project) -> anyhow::Result<Vec<Target>> {
    let allowed = |python: &PythonVersion| {
        project
            .requires_python
            .as_ref()
            .is_none_or(|constraint| constraint.contains(&python.full_version()))
    };
    let pythons: Vec<PythonVersion> = if settings.pythons.is_empty() {
        let defaults: Vec<_> = DEFAULT_PYTHON_MINORS
            .iter()
            .map(|&minor| PythonVersion::new(minor))
            .filter(allowed)
            .collect();
        if defaults.is_empty() {
            return Err(anyhow!(
                "requires-python `{}` allows none of the default Python versions (3.11 to 3.14); choose one with --python",
                requires_python_text(project)
            ));
        }
        if settings.first_python_only {
            defaults.into_iter().take(1).collect()
        } else {
            defaults
        }
    } else {
        for python in &settings.pythons {
            if !allowed(python) {
                return Err(anyhow!(
                    "the project's requires-python `{}` excludes Python {}",
                    requires_python_text(project),
                    python.full()
                ));
            }
        }
        settings.pythons.clone()
    };
    let mut targets = Vec::new();
    for &system in &settings.systems {
        for &python in &pythons {
            let mut target = Target::new(system, python);
            if let Some(libc) = settings.linux_libc {
                target.linux_libc = libc;
            }
            if let Some(macos) = settings.macos {
                target.macos = macos;
            }
            if let Some(same) = targets.iter().find(|t: &&Target| t.id() == target.id()) {
                if same != &target {
                    return Err(anyhow!(
                        "--python {} and --python {} name the same target `{}`; give each CPython minor once",
                        same.python.full(),
                        target.python.full(),
                        target.id()
                    ));
                }
                continue;
            }
            targets.push(target);
        }
    }
    Ok(targets)
}

/// The targets the lock supports (uv's `environments`, uv.lock's `supported-markers`): by
/// default the supported ones of `targets`; a system named with `--system` that the lock
/// does not support is refused, as is a choice that leaves no target.
fn supported_targets(
    settings: &LockSettings,
    project: &Project,
    targets: Vec<Target>,
    reporter: &Reporter,
) -> anyhow::Result<Vec<Target>> {
    let uv = &project.uv;
    let (supported, unsupported): (Vec<Target>, Vec<Target>) = targets
        .into_iter()
        .partition(|target| py2nix_plan::supports_target(uv, target));
    if let Some(target) = unsupported.first() {
        if settings.systems_given {
            return Err(anyhow!(
                "cannot plan {}: {}",
                target.id(),
                py2nix_plan::unsupported_reason(uv, target)
            ));
        }
        for target in &unsupported {
            reporter.explain(&format!(
                "not planning {}: the lock does not support it",
                target.id()
            ));
        }
        if supported.is_empty() {
            return Err(anyhow!(
                "the lock supports none of the default targets: {}; name a supported system with --system",
                py2nix_plan::unsupported_reason(uv, target)
            ));
        }
    }
    Ok(supported)
}

fn requires_python_text(project: &Project) -> String {
    project
        .requires_python
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default()
}

fn emit(settings: &LockSettings, format: Format, plan: &Plan) -> Result<(), Failure> {
    // The same value for both formats, so python.nix's `plan` equals the JSON plan.
    let json = serde_json::to_value(plan)
        .context("failed to serialise the plan")
        .unexpected()?;
    let (text, generated) = match format {
        Format::Json => {
            let mut text = serde_json::to_string_pretty(&json)
                .context("failed to serialise the plan")
                .unexpected()?;
            text.push('\n');
            (text, Generated::JsonPlan)
        }
        Format::Nix => (
            py2nix_nix::render_python_nix(&json, env!("CARGO_PKG_VERSION"))
                .context("failed to render python.nix")
                .input()?,
            Generated::NixMarker,
        ),
    };
    match &settings.output {
        Some(path) => output::write_file(path, &text, generated),
        None => output::print(&text),
    }
}
