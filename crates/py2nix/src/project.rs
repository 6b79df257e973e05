//! Finding and reading a project: which lock file, in which format, and what the project asks
//! for (from the lock itself or from pyproject.toml).

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use py2nix_lock::{DirectoryProject, IndexDecl, Lock, LockFiles, LockFormat, Project};

use crate::report::Reporter;

/// A project as read from disk.
pub struct ProjectFiles {
    /// The directory paths in the lock are relative to.
    pub dir: PathBuf,
    pub lock_path: PathBuf,
    pub lock: Lock,
    pub project: Project,
    /// Indexes named by pyproject.toml and the lock, for credentials and names.
    pub indexes: Vec<IndexDecl>,
}

/// The format of the lock at `path` holding `text`: by its name when the name says
/// (`py2nix_lock::LockFormat::from_file_name`), else by its content (a renamed lock, a
/// `/dev/fd/N`).
pub fn format_of(path: &Path, text: &str) -> LockFormat {
    let name = path.file_name().map(|n| n.to_string_lossy());
    LockFormat::detect(name.as_deref(), text)
}

/// The format of the lock file at `path`, read when its name does not say.
pub fn format_of_file(path: &Path) -> anyhow::Result<LockFormat> {
    let name = path.file_name().map(|n| n.to_string_lossy());
    match name.as_deref().and_then(LockFormat::from_file_name) {
        Some(format) => Ok(format),
        None => Ok(LockFormat::from_content(&read_text(path)?)),
    }
}

/// The locks in `dir`, by the names that stand for a format, in name order.
fn locks_in(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("failed to read the project directory `{}`", dir.display()))?;
    let mut found: Vec<PathBuf> = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("failed to read `{}`", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if LockFormat::from_file_name(&name).is_some() && entry.path().is_file() {
            found.push(entry.path());
        }
    }
    found.sort();
    Ok(found)
}

/// The one lock in `dir`: poetry.lock, uv.lock, pdm.lock, pylock.toml, pylock.*.toml or
/// requirements.txt. None is an error naming what was looked for; several is an error asking
/// which (`--lock`), unless one of them is `recorded` (the lock the file being made again
/// was made from).
pub fn find_lock(dir: &Path, recorded: Option<&Path>) -> anyhow::Result<PathBuf> {
    let mut found = locks_in(dir)?;
    if found.len() > 1 {
        if let Some(recorded) = recorded.and_then(|r| r.file_name()) {
            if let Some(at) = found.iter().position(|p| p.file_name() == Some(recorded)) {
                return Ok(found.remove(at));
            }
        }
    }
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(hinted(
            anyhow!(
                "`{}` holds no lock file (looked for {}); name one with --lock",
                dir.display(),
                looked_for()
            ),
            "make a lock with your tool first (`uv lock`, `poetry lock`, `pdm lock`, `pip-compile --generate-hashes`), or name one with --lock FILE",
        )),
        _ => {
            let names: Vec<String> = found
                .iter()
                .map(|p| p.file_name().unwrap_or_default().to_string_lossy().into_owned())
                .collect();
            Err(hinted(
                anyhow!(
                    "`{}` holds several lock files: {}; choose one with --lock FILE",
                    dir.display(),
                    names.join(", ")
                ),
                format!("choose one with --lock, e.g. `--lock {}`", names[0]),
            ))
        }
    }
}

fn looked_for() -> String {
    let mut names: Vec<&str> = LockFormat::ALL.iter().map(|f| f.file_name()).collect();
    names.insert(names.len() - 1, "pylock.*.toml");
    names.join(", ")
}

fn hinted(error: anyhow::Error, hint: impl Into<String>) -> anyhow::Error {
    crate::report::with_hint(error, hint)
}

/// Where the lock of the project in `project_dir` is, and the directory its paths are relative
/// to: the one lock in `project_dir`, else (as uv finds it from a member's directory) the
/// uv.lock of the nearest enclosing workspace whose members include `project_dir`.
pub fn locate(project_dir: &Path, recorded: Option<&Path>) -> anyhow::Result<(PathBuf, PathBuf)> {
    if !locks_in(project_dir)?.is_empty() {
        return Ok((find_lock(project_dir, recorded)?, project_dir.to_path_buf()));
    }
    if let Ok(here) = std::fs::canonicalize(project_dir) {
        for root in here.ancestors().skip(1) {
            if !root.join("uv.lock").is_file() {
                continue;
            }
            let Ok(member) = here.strip_prefix(root) else {
                continue;
            };
            let member = member.to_string_lossy().replace('\\', "/");
            let members = crate::freshness::uv_workspace_pyprojects(root)?;
            if members.iter().any(|(path, _)| *path == member) {
                return Ok((root.join("uv.lock"), root.to_path_buf()));
            }
        }
    }
    Err(find_lock(project_dir, recorded)
        .err()
        .unwrap_or_else(|| anyhow!("`{}` holds no lock file", project_dir.display())))
}

/// The lock the generated file at `output` records it was made from (`inputs.lock`), when
/// the file exists, is py2nix's and records one.
pub fn recorded_lock(output: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(output).ok()?;
    let plan = crate::commands::diff::plan_from_text(&text).ok()??;
    let inputs = plan.inputs?;
    let base = crate::inputs::base_dir(Some(output)).ok()?;
    Some(base.join(inputs.lock))
}

fn read_text(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("failed to read `{}`", path.display()))
}

/// Reads the lock (found or named) and the project beside it.
///
/// `recorded` is the lock the file being made again was made from: it is the one used when
/// the directory holds several.
pub fn read(
    project_dir: &Path,
    lock_arg: Option<&Path>,
    recorded: Option<&Path>,
    allow_outside: bool,
    reporter: &Reporter,
) -> anyhow::Result<ProjectFiles> {
    let (lock_path, dir) = match lock_arg {
        Some(path) => (
            path.to_path_buf(),
            path.parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from(".")),
        ),
        None => {
            if !project_dir.is_dir() {
                bail!(
                    "failed to read the project directory `{}`: it does not exist",
                    project_dir.display()
                );
            }
            let (lock_path, dir) = locate(project_dir, recorded)?;
            if dir != project_dir {
                reporter.warn(&format!(
                    "`{}` holds no lock: planning the workspace's `{}`, which lists it as a member",
                    project_dir.display(),
                    lock_path.display()
                ));
            }
            (lock_path, dir)
        }
    };
    let lock_text = read_text(&lock_path)?;
    let format = format_of(&lock_path, &lock_text);
    reporter.explain(&format!(
        "reading {} as {}",
        lock_path.display(),
        format.file_name()
    ));
    let pyproject_path = dir.join("pyproject.toml");
    let (pyproject, metadata) = if pyproject_path.is_file() {
        let text = read_text(&pyproject_path)?;
        let parse_context = || format!("failed to parse `{}`", pyproject_path.display());
        (
            Some(py2nix_lock::parse_pyproject(&text).with_context(parse_context)?),
            Some(py2nix_lock::parse_project_metadata(&text).with_context(parse_context)?),
        )
    } else {
        (None, None)
    };
    let rule = IncludeRule::new(&lock_path, Some(project_dir), allow_outside);
    let mut lock = parse_lock_text(format, &lock_path, &lock_text, &rule)?;
    for warning in &lock.warnings {
        reporter.warn(&format!("{}: {warning}", lock_path.display()));
    }
    let mut project = project_for(format, &lock, pyproject.clone()).ok_or_else(|| {
        anyhow!(
            "failed to read `{}`: a {} needs the pyproject.toml beside it",
            pyproject_path.display(),
            format.file_name()
        )
    })?;
    crate::packaging::add_project_package(
        format,
        &mut lock,
        &mut project,
        &dir,
        metadata.as_ref(),
        reporter,
    )?;
    let mut indexes = pyproject.map(|p| p.indexes).unwrap_or_default();
    indexes.extend(lock.indexes.iter().cloned());
    Ok(ProjectFiles {
        dir,
        lock_path,
        lock,
        project,
        indexes,
    })
}

/// Where a requirements file's `-r`/`-c` includes (and the local projects it installs) may be
/// read from: inside one of `roots` (the directory of the lock the user named, the project
/// directory), symbolic links followed, unless `allow_outside` (`--allow-outside-paths`).
/// A project you did not write could otherwise include `~/.aws/credentials` and have a parse
/// error quote it.
#[derive(Debug, Clone, Default)]
pub struct IncludeRule {
    pub roots: Vec<PathBuf>,
    pub allow_outside: bool,
}

impl IncludeRule {
    /// The rule for a lock at `lock_path` in the project `project_dir`.
    pub fn new(lock_path: &Path, project_dir: Option<&Path>, allow_outside: bool) -> Self {
        let lock_dir = match lock_path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let mut roots = vec![lock_dir];
        roots.extend(project_dir.map(Path::to_path_buf));
        IncludeRule {
            roots,
            allow_outside,
        }
    }

    /// `path`, resolved, when it may be read, and whether it is outside the project (allowed
    /// by `allow_outside`); an error naming it and the way out when it is outside every root
    /// and not allowed. A path that does not resolve (missing) is returned as it is, for the
    /// reader to report.
    fn check(&self, path: &Path) -> Result<(PathBuf, bool), String> {
        let Ok(resolved) = path.canonicalize() else {
            return Ok((path.to_path_buf(), false));
        };
        let roots: Vec<PathBuf> = self
            .roots
            .iter()
            .filter_map(|root| root.canonicalize().ok())
            .collect();
        if roots.iter().any(|root| resolved.starts_with(root)) {
            return Ok((resolved, false));
        }
        if self.allow_outside {
            return Ok((resolved, true));
        }
        let shown = roots
            .first()
            .map(|root| format!(" `{}`", root.display()))
            .unwrap_or_default();
        Err(format!(
            "`{}` is outside the project directory{shown}; refusing to read it (a project's requirements file may not make py2nix read, or quote in a message, files elsewhere on the machine); hint: pass --allow-outside-paths if you trust this project's paths",
            path.display()
        ))
    }
}

/// What a lock names besides itself, read from disk: a requirements file's includes (relative
/// to the file that names them) and the projects of the local directories it installs.
struct DiskFiles<'a> {
    /// The lock's directory.
    base: PathBuf,
    rule: &'a IncludeRule,
    /// The labels of the includes read from outside the project (`--allow-outside-paths`):
    /// messages about them do not quote their lines.
    outside: std::cell::RefCell<Vec<String>>,
}

impl DiskFiles<'_> {
    fn dir_of(&self, from: &str) -> PathBuf {
        Path::new(from)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| self.base.clone())
    }
}

/// The largest file a `-r`/`-c` include may be: 16 MiB.
const MAX_INCLUDE_SIZE: u64 = 16 * 1024 * 1024;

/// Reads a requirements file's `-r`/`-c` include. Only a regular file of at most
/// [`MAX_INCLUDE_SIZE`] bytes whose size the file system knows is read: a device, a FIFO or a
/// pseudo-file such as `/proc/self/environ` (which says it is empty and is not) is refused
/// without being echoed, so an include can neither hang the run nor put the environment's
/// secrets in a message.
pub fn read_include(path: &Path) -> Result<String, String> {
    let bytes = py2nix_index::read_local_file(
        path,
        MAX_INCLUDE_SIZE,
        "the most a requirements file may be",
    )?;
    String::from_utf8(bytes).map_err(|_| format!("`{}` is not UTF-8 text", path.display()))
}

impl LockFiles for DiskFiles<'_> {
    fn include(&self, name: &str, from: &str) -> Result<(String, String), String> {
        let included = self.dir_of(from).join(name);
        let (resolved, outside) = self.rule.check(&included)?;
        let text = read_include(&resolved)?;
        let label = included.display().to_string();
        if outside {
            self.outside.borrow_mut().push(label.clone());
        }
        Ok((text, label))
    }

    fn project_in(&self, path: &str, from: &str) -> Option<DirectoryProject> {
        let pyproject = self.dir_of(from).join(path).join("pyproject.toml");
        // Outside the project, the local source itself is refused later, naming it.
        let (resolved, _) = self.rule.check(&pyproject).ok()?;
        let text = read_include(&resolved).ok()?;
        let metadata = py2nix_lock::parse_project_metadata(&text).ok()?;
        Some(DirectoryProject {
            name: metadata.name?.to_string(),
            version: metadata.version.filter(|_| !metadata.dynamic_version),
        })
    }
}

/// Reads `text`, the lock at `path`, as `format` (`py2nix_lock::parse`); a requirements
/// file's `-r`/`-c` includes are read relative to the file that names them, where `rule`
/// allows.
pub fn parse_lock_text(
    format: LockFormat,
    path: &Path,
    text: &str,
    rule: &IncludeRule,
) -> anyhow::Result<Lock> {
    let files = DiskFiles {
        base: path.parent().map(Path::to_path_buf).unwrap_or_default(),
        rule,
        outside: Default::default(),
    };
    let context = || format!("failed to parse `{}`", path.display());
    let parsed = py2nix_lock::parse(format, text, &path.display().to_string(), &files);
    let outside = files.outside.into_inner();
    let mut lock = parsed
        .map_err(|error| unquoted(error, &outside))
        .with_context(context)?;
    for warning in &mut lock.warnings {
        if let Some(label) = outside_label(warning, &outside) {
            *warning = format!("{label}: {OUTSIDE_NOT_QUOTED}");
        }
    }
    lock.check_file_names().with_context(context)?;
    Ok(lock)
}

/// What a message says of a line of an include outside the project instead of quoting it.
const OUTSIDE_NOT_QUOTED: &str = "this line is not one py2nix reads as it is (its text is not shown: the file is outside the project, read because of --allow-outside-paths)";

/// The label of `outside` that `message` (`label:line:column: …`) is about, with its line and
/// column.
fn outside_label<'a>(message: &'a str, outside: &[String]) -> Option<&'a str> {
    outside.iter().find_map(|label| {
        let rest = message.strip_prefix(label.as_str())?.strip_prefix(':')?;
        let position = rest.find(": ").unwrap_or(rest.len());
        let numbers = &rest[..position];
        numbers
            .split(':')
            .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            .then(|| &message[..label.len() + 1 + position])
    })
}

/// A requirements error located in an include outside the project, without the line's text.
fn unquoted(error: py2nix_lock::LockError, outside: &[String]) -> py2nix_lock::LockError {
    match error {
        py2nix_lock::LockError::Requirements { location, message }
            if outside_label(&format!("{location}: "), outside).is_some() =>
        {
            let _ = message;
            py2nix_lock::LockError::Requirements {
                location,
                message: OUTSIDE_NOT_QUOTED.to_string(),
            }
        }
        other => other,
    }
}

/// What the project asks for: the lock's own record where it has one (uv.lock, pylock.toml),
/// with pyproject.toml's default groups for uv; else pyproject.toml, which Poetry and PDM
/// locks need and requirements files may do without. `None` when pyproject.toml is needed
/// and missing.
fn project_for(format: LockFormat, lock: &Lock, pyproject: Option<Project>) -> Option<Project> {
    match (format, &lock.project, pyproject) {
        (LockFormat::Uv, Some(from_lock), pyproject) => {
            let mut project = from_lock.clone();
            if let Some(pyproject) = pyproject {
                project.default_groups = pyproject.default_groups;
            }
            Some(project)
        }
        (LockFormat::Pylock, Some(from_lock), pyproject) => {
            let mut project = from_lock.clone();
            // The project's direct dependencies only name the plan's roots.
            if let Some(pyproject) = pyproject {
                project.dependencies = pyproject.dependencies;
                project.name = pyproject.name;
            }
            Some(project)
        }
        // A development install takes Poetry's non-optional groups (`poetry install`) and
        // every PDM development group (`pdm install`).
        (LockFormat::Poetry, _, pyproject) => pyproject.map(|mut p| {
            p.default_groups = p
                .groups
                .keys()
                .filter(|g| !p.optional_groups.contains(g))
                .cloned()
                .collect();
            p
        }),
        (LockFormat::Pdm, _, pyproject) => pyproject.map(|mut p| {
            p.default_groups = p.groups.keys().cloned().collect();
            p
        }),
        (_, _, pyproject) => Some(
            pyproject
                .map(|mut p| {
                    p.default_groups.clear();
                    p
                })
                .unwrap_or_default(),
        ),
    }
}
