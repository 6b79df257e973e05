//! `py2nix lock`: read the project, plan every target, look files up on the index, print.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{anyhow, Context};
use py2nix_index::{Cache, IndexClient, Page, PageRequest, DEFAULT_INDEX_URL};
use py2nix_lock::{ExtraName, Lock, LockedFile, LockedPackage, PackageSource, Project};
use py2nix_plan::{
    assemble_plan, chosen_files, resolve_targets, FormatControl, IndexedFile, LinuxLibc, NixSystem,
    Plan, PlanError, PythonVersion, Selection, Target, DEFAULT_PYTHON_MINORS,
};

use crate::cli::{Format, LockArgs};
use crate::output::{self, Generated};
use crate::report::{Classify, Failure, Reporter};

/// Everything `lock` needs, checked.
struct LockSettings {
    project_dir: PathBuf,
    format: Format,
    output: Option<PathBuf>,
    systems: Vec<NixSystem>,
    pythons: Vec<PythonVersion>,
    selection: Selection,
    format_control: FormatControl,
    index_url: String,
    cache: Option<Cache>,
    offline: bool,
    linux_libc: Option<LinuxLibc>,
    macos: Option<(u16, u16)>,
}

impl LockSettings {
    fn from_args(args: LockArgs) -> anyhow::Result<Self> {
        let LockArgs {
            project_dir,
            format,
            output,
            systems,
            pythons,
            groups,
            all_groups,
            extras,
            all_extras,
            no_binary,
            only_binary,
            index_url,
            cache_dir,
            no_cache,
            offline,
            glibc,
            musl,
            macos,
        } = args;
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
            format,
            output,
            systems,
            pythons,
            selection: Selection {
                groups,
                all_groups,
                extras,
                all_extras,
            },
            format_control: FormatControl::parse(&no_binary, &only_binary)?,
            index_url: index_url.unwrap_or_else(|| DEFAULT_INDEX_URL.to_string()),
            cache,
            offline,
            linux_libc,
            macos,
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

// The plan crate's errors carry whole messages; they are built once per failed run.
#[allow(clippy::result_large_err)]
pub fn run(args: LockArgs, reporter: &Reporter) -> Result<(), Failure> {
    let settings = LockSettings::from_args(args).input()?;
    let (project, lock) = read_project(&settings.project_dir, reporter).input()?;
    let targets = choose_targets(&settings, &project).input()?;
    for target in &targets {
        reporter.explain(&format!("target {} ({})", target.id(), target.describe()));
    }
    let resolutions = resolve_targets(
        &lock,
        &project,
        &settings.selection,
        &targets,
        &settings.format_control,
    )
    .input()?;
    let pages = fetch_pages(&settings, &lock, &resolutions, reporter)?;
    let lookup =
        |package: &LockedPackage, file: &LockedFile| lookup_file(&settings, &pages, package, file);
    let overrides = crate::overrides::embedded()
        .context("the embedded override database is invalid")
        .unexpected()?;
    let plan = assemble_plan(&lock, &resolutions, &lookup, &overrides, &generator()).input()?;
    for (id, target) in &plan.targets {
        for (name, package) in &target.packages {
            reporter.explain(&format!(
                "{id}: {name} {} from {}",
                package.version, package.src.filename
            ));
            for warning in &package.warnings {
                reporter.warn(&format!("{id}: {name}: {warning}"));
            }
        }
    }
    emit(&settings, &plan)
}

fn generator() -> String {
    format!("py2nix {}", env!("CARGO_PKG_VERSION"))
}

fn read_text(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("failed to read `{}`", path.display()))
}

fn read_project(dir: &Path, reporter: &Reporter) -> anyhow::Result<(Project, Lock)> {
    let pyproject_path = dir.join("pyproject.toml");
    let lock_path = dir.join("poetry.lock");
    let project = py2nix_lock::parse_pyproject(&read_text(&pyproject_path)?)
        .with_context(|| format!("failed to parse `{}`", pyproject_path.display()))?;
    let lock = py2nix_lock::parse_poetry_lock(&read_text(&lock_path)?)
        .with_context(|| format!("failed to parse `{}`", lock_path.display()))?;
    for warning in &lock.warnings {
        reporter.warn(&format!("{}: {warning}", lock_path.display()));
    }
    Ok((project, lock))
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
        defaults
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

fn requires_python_text(project: &Project) -> String {
    project
        .requires_python
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default()
}

fn index_url_of<'a>(settings: &'a LockSettings, package: &'a LockedPackage) -> &'a str {
    match &package.source {
        PackageSource::Index { url, .. } => url,
        _ => &settings.index_url,
    }
}

type Pages = BTreeMap<(String, String), Page>;

fn fetch_pages(
    settings: &LockSettings,
    lock: &Lock,
    resolutions: &[py2nix_plan::TargetResolution],
    reporter: &Reporter,
) -> Result<Pages, Failure> {
    let mut needed: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for (package, file) in chosen_files(lock, resolutions) {
        let key = (
            index_url_of(settings, package).to_string(),
            package.name.to_string(),
        );
        needed.entry(key).or_default().push(file.filename.clone());
    }
    let requests: Vec<PageRequest> = needed
        .into_iter()
        .map(|((index_url, package), needed_files)| PageRequest {
            index_url,
            package,
            needed_files,
        })
        .collect();
    reporter.explain(&format!("looking up {} project pages", requests.len()));
    let client = IndexClient::new(settings.cache.clone(), settings.offline).unexpected()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("failed to start the async runtime")
        .unexpected()?;
    let results = runtime.block_on(client.fetch_pages(&requests));
    let mut pages = BTreeMap::new();
    let mut input_errors = Vec::new();
    let mut other_errors = Vec::new();
    for (request, result) in requests.into_iter().zip(results) {
        match result {
            Ok(page) => {
                pages.insert((request.index_url, request.package), page);
            }
            Err(
                error @ (py2nix_index::IndexError::NotFound { .. }
                | py2nix_index::IndexError::NotCached { .. }
                | py2nix_index::IndexError::CachedPageIncomplete { .. }),
            ) => input_errors.push(error.to_string()),
            Err(error) => other_errors.push(error.to_string()),
        }
    }
    if !other_errors.is_empty() {
        other_errors.extend(input_errors);
        return Err(Failure::Unexpected(anyhow!(other_errors.join("\n"))));
    }
    if !input_errors.is_empty() {
        return Err(Failure::Input(anyhow!(input_errors.join("\n"))));
    }
    Ok(pages)
}

#[allow(clippy::result_large_err)]
fn lookup_file(
    settings: &LockSettings,
    pages: &Pages,
    package: &LockedPackage,
    file: &LockedFile,
) -> Result<IndexedFile, PlanError> {
    let index_url = index_url_of(settings, package);
    let source_error = |message: String| PlanError::Source {
        package: package.name.to_string(),
        message,
    };
    let page = pages
        .get(&(index_url.to_string(), package.name.to_string()))
        .ok_or_else(|| source_error("no index page was fetched".to_string()))?;
    let listed = page.file(&file.filename).ok_or_else(|| {
        source_error(format!(
            "`{}` is not listed on the index page {}",
            file.filename,
            py2nix_index::redact_url(&py2nix_index::page_url(index_url, package.name.as_ref()))
        ))
    })?;
    Ok(IndexedFile {
        url: listed.url.clone(),
        sha256: listed.sha256.clone(),
        yanked: listed.yanked,
    })
}

fn emit(settings: &LockSettings, plan: &Plan) -> Result<(), Failure> {
    let json = serde_json::to_value(plan)
        .context("failed to serialise the plan")
        .unexpected()?;
    let (text, generated) = match settings.format {
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
