//! Finding and reading a project: which lock file, in which format, and what the project asks
//! for (from the lock itself or from pyproject.toml).

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use py2nix_lock::{IndexDecl, Lock, LockFormat, Project};

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

/// The lock format a file name stands for.
///
/// `poetry.lock`, `uv.lock`, `pdm.lock`, `pylock.toml` and `pylock.<name>.toml` (PEP 751)
/// are told by name; any other name is read as a requirements file.
pub fn format_of(path: &Path) -> LockFormat {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match name.as_str() {
        "poetry.lock" => LockFormat::Poetry,
        "uv.lock" => LockFormat::Uv,
        "pdm.lock" => LockFormat::Pdm,
        "pylock.toml" => LockFormat::Pylock,
        _ if name.starts_with("pylock.") && name.ends_with(".toml") => LockFormat::Pylock,
        _ => LockFormat::Requirements,
    }
}

/// The one lock in `dir`: poetry.lock, uv.lock, pdm.lock, pylock.toml, pylock.*.toml or
/// requirements.txt. None is an error naming what was looked for; several is an error asking
/// which (`--lock`).
pub fn find_lock(dir: &Path) -> anyhow::Result<PathBuf> {
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("failed to read the project directory `{}`", dir.display()))?;
    let mut found: Vec<PathBuf> = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("failed to read `{}`", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_lock = matches!(
            name.as_str(),
            "poetry.lock" | "uv.lock" | "pdm.lock" | "pylock.toml" | "requirements.txt"
        ) || (name.starts_with("pylock.") && name.ends_with(".toml"));
        if is_lock && entry.path().is_file() {
            found.push(entry.path());
        }
    }
    found.sort();
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => bail!(
            "`{}` holds no lock file (looked for poetry.lock, uv.lock, pylock.toml, pylock.*.toml, pdm.lock and requirements.txt); name one with --lock",
            dir.display()
        ),
        _ => bail!(
            "`{}` holds several lock files: {}; choose one with --lock FILE",
            dir.display(),
            found
                .iter()
                .map(|p| p.file_name().unwrap_or_default().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn read_text(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("failed to read `{}`", path.display()))
}

/// Reads the lock (found or named) and the project beside it.
pub fn read(
    project_dir: &Path,
    lock_arg: Option<&Path>,
    reporter: &Reporter,
) -> anyhow::Result<ProjectFiles> {
    let lock_path = match lock_arg {
        Some(path) => path.to_path_buf(),
        None => {
            if !project_dir.is_dir() {
                bail!(
                    "failed to read the project directory `{}`: it does not exist",
                    project_dir.display()
                );
            }
            find_lock(project_dir)?
        }
    };
    let format = format_of(&lock_path);
    let dir = match lock_arg {
        Some(path) => path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from(".")),
        None => project_dir.to_path_buf(),
    };
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
    let mut lock = parse_lock(format, &lock_path)?;
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

fn parse_lock(format: LockFormat, path: &Path) -> anyhow::Result<Lock> {
    parse_lock_text(format, path, &read_text(path)?)
}

/// Reads `text`, the lock at `path`, as `format`; a requirements file's `-r`/`-c` includes are
/// read relative to the file that names them.
pub fn parse_lock_text(format: LockFormat, path: &Path, text: &str) -> anyhow::Result<Lock> {
    let context = || format!("failed to parse `{}`", path.display());
    let lock = match format {
        LockFormat::Poetry => py2nix_lock::parse_poetry_lock(text).with_context(context)?,
        LockFormat::Uv => py2nix_lock::parse_uv_lock(text).with_context(context)?,
        LockFormat::Pylock => py2nix_lock::parse_pylock(text).with_context(context)?,
        LockFormat::Pdm => py2nix_lock::parse_pdm_lock(text).with_context(context)?,
        LockFormat::Requirements => {
            let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
            let include = |name: &str, from: &str| -> Result<(String, String), String> {
                let from_dir = Path::new(from)
                    .parent()
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| base.clone());
                let included = from_dir.join(name);
                read_include(&included).map(|text| (text, included.display().to_string()))
            };
            py2nix_lock::parse_requirements(text, &path.display().to_string(), &include)
                .with_context(context)?
        }
    };
    lock.check_file_names().with_context(context)?;
    Ok(lock)
}

/// The largest file a `-r`/`-c` include may be: 16 MiB.
const MAX_INCLUDE_SIZE: u64 = 16 * 1024 * 1024;

/// Reads a requirements file's `-r`/`-c` include. Only a regular file of at most
/// [`MAX_INCLUDE_SIZE`] bytes whose size the file system knows is read: a device, a FIFO or a
/// pseudo-file such as `/proc/self/environ` (which says it is empty and is not) is refused
/// without being echoed, so an include can neither hang the run nor put the environment's
/// secrets in a message.
pub fn read_include(path: &Path) -> Result<String, String> {
    use std::io::Read;
    let shown = path.display();
    let file = std::fs::File::open(path).map_err(|e| format!("failed to read `{shown}`: {e}"))?;
    let metadata = file
        .metadata()
        .map_err(|e| format!("failed to read `{shown}`: {e}"))?;
    if !metadata.is_file() {
        return Err(format!("`{shown}` is not a regular file"));
    }
    if metadata.len() > MAX_INCLUDE_SIZE {
        return Err(format!(
            "`{shown}` is larger than {MAX_INCLUDE_SIZE} bytes; a requirements file is not"
        ));
    }
    let mut bytes = Vec::new();
    file.take(metadata.len() + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("failed to read `{shown}`: {e}"))?;
    if bytes.len() as u64 != metadata.len() {
        return Err(format!(
            "`{shown}` is not a regular file on disk (its size changes as it is read)"
        ));
    }
    String::from_utf8(bytes).map_err(|_| format!("`{shown}` is not UTF-8 text"))
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
