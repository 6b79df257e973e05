//! The project itself as a package: whether it has anything to build (by its locker's rules),
//! its name, version and scripts, and its workspace members' scripts. The project becomes a
//! locked package of its own whose source is its directory, so it is planned, hashed and given
//! its build system like any local source tree.

use std::path::Path;
use std::str::FromStr;

use anyhow::{bail, Context};
use pep440_rs::Version;
use py2nix_lock::{
    Lock, LockFormat, LockedPackage, PackageSource, PathKind, Project, ProjectMetadata,
    ProjectPackage, ProjectRoot, Scripts, VersionConstraint,
};

use crate::report::Reporter;

/// Decides whether the project has a package to build and, when it has, adds it to `lock`
/// (a package whose source is the project's directory, editable) and to `project.package`;
/// reads the scripts of the workspace members the lock builds from the project's own trees.
/// A member missing on disk is an error.
pub fn add_project_package(
    format: LockFormat,
    lock: &mut Lock,
    project: &mut Project,
    dir: &Path,
    metadata: Option<&ProjectMetadata>,
    reporter: &Reporter,
) -> anyhow::Result<()> {
    read_members(lock, project, dir)?;
    if let Some(own) = locked_project_directory(lock, project, metadata, dir, reporter)? {
        // The lock installs the project's own directory itself (pylock.toml's or a
        // requirements file's `directory = { path = "." }` / `-e .`): that package is the
        // project's.
        project.package = Some(own);
        return Ok(());
    }
    let decision = match metadata {
        None => Decision::Nothing("there is no pyproject.toml beside the lock".to_string()),
        Some(metadata) => decide(format, project, metadata),
    };
    let (metadata, locked_version) = match decision {
        Decision::Nothing(reason) => {
            reporter.explain(&format!("the project has nothing to build: {reason}"));
            project.no_package = Some(reason);
            return Ok(());
        }
        Decision::Build {
            metadata,
            locked_version,
        } => (metadata, locked_version),
    };
    let Some(name) = metadata.name.clone().or_else(|| project.name.clone()) else {
        project.no_package = Some("pyproject.toml names no project".to_string());
        return Ok(());
    };
    if lock.packages.iter().any(|p| p.name == name) {
        // The lock already builds a package of that name (uv's workspace root as a member of
        // its own, or a dependency named like the project): keep the lock's.
        project.no_package = Some(format!(
            "the lock already holds a package named `{name}`, planned as it locks it"
        ));
        return Ok(());
    }
    let version = project_version(metadata, locked_version, dir, reporter)?;
    let scripts = metadata.scripts.clone();
    lock.packages.push(LockedPackage {
        name: name.clone(),
        version: version.clone(),
        requires_python: VersionConstraint::any(),
        marker: None,
        files: Vec::new(),
        dependencies: project.dependencies.clone(),
        extras: Default::default(),
        source: PackageSource::Path {
            path: ".".to_string(),
            kind: PathKind::Directory,
            editable: true,
        },
        dependencies_known: true,
        requested_extras: Vec::new(),
        index_hashes: None,
    });
    project.package = Some(ProjectPackage {
        name,
        version,
        scripts,
    });
    Ok(())
}

/// The package the lock itself installs from the project's directory (`.`), named like the
/// project, when it has one; a version the lock leaves out (a dynamic one) is found as for a
/// project the lock does not record.
fn locked_project_directory(
    lock: &mut Lock,
    project: &Project,
    metadata: Option<&ProjectMetadata>,
    dir: &Path,
    reporter: &Reporter,
) -> anyhow::Result<Option<ProjectPackage>> {
    let Some(metadata) = metadata else {
        return Ok(None);
    };
    let Some(name) = metadata.name.clone().or_else(|| project.name.clone()) else {
        return Ok(None);
    };
    let Some(package) = lock.packages.iter_mut().find(|p| {
        p.name == name
            && matches!(
                &p.source,
                PackageSource::Path { path, kind: PathKind::Directory, .. }
                    if matches!(path.trim_end_matches('/'), "." | "" | "./")
            )
    }) else {
        return Ok(None);
    };
    if package.version == Version::new([0]) {
        package.version = project_version(metadata, None, dir, reporter)?;
    }
    Ok(Some(ProjectPackage {
        name,
        version: package.version.clone(),
        scripts: metadata.scripts.clone(),
    }))
}

enum Decision<'a> {
    Nothing(String),
    Build {
        metadata: &'a ProjectMetadata,
        locked_version: Option<Version>,
    },
}

/// Whether the project is a package, as its locker decides.
fn decide<'a>(
    format: LockFormat,
    project: &Project,
    metadata: &'a ProjectMetadata,
) -> Decision<'a> {
    let build = |locked_version| Decision::Build {
        metadata,
        locked_version,
    };
    match format {
        LockFormat::Poetry => match metadata.poetry_package_mode {
            Some(false) => Decision::Nothing("`[tool.poetry] package-mode = false`".to_string()),
            _ => build(None),
        },
        LockFormat::Uv => match &project.root {
            ProjectRoot::Virtual if project.name.is_none() => Decision::Nothing(
                "the workspace root is virtual (its pyproject.toml has no `[project]`)"
                    .to_string(),
            ),
            ProjectRoot::Virtual => Decision::Nothing(
                "uv.lock records the project as virtual (`[tool.uv] package = false`, or no `[build-system]`)"
                    .to_string(),
            ),
            ProjectRoot::Package { version } => build(version.clone()),
            ProjectRoot::Unrecorded => match metadata.uv_package {
                Some(false) => Decision::Nothing("`[tool.uv] package = false`".to_string()),
                Some(true) => build(None),
                None if metadata.has_build_system => build(None),
                None => Decision::Nothing("pyproject.toml has no `[build-system]`".to_string()),
            },
        },
        LockFormat::Pdm => match metadata.pdm_distribution {
            Some(false) => Decision::Nothing("`[tool.pdm] distribution = false`".to_string()),
            Some(true) => build(None),
            None if metadata.has_build_system => build(None),
            None => Decision::Nothing(
                "pyproject.toml has no `[build-system]` (PDM does not build the project)"
                    .to_string(),
            ),
        },
        LockFormat::Pylock | LockFormat::Requirements => Decision::Nothing(format!(
            "a {} lists what to install, not a project to build",
            format.file_name()
        )),
    }
}

/// The version to build the project as: the one the lock records, else pyproject.toml's static
/// one; for a dynamic version, the one its VCS-versioning backend would compute from the git
/// tag (`git describe`), else `[tool.setuptools_scm] fallback_version`, else 0 with a warning.
fn project_version(
    metadata: &ProjectMetadata,
    locked: Option<Version>,
    dir: &Path,
    reporter: &Reporter,
) -> anyhow::Result<Version> {
    if let Some(version) = locked {
        return Ok(version);
    }
    let parse = |text: &str| {
        Version::from_str(text)
            .with_context(|| format!("the project's version `{text}` is not a PEP 440 version"))
    };
    if !metadata.dynamic_version {
        if let Some(text) = &metadata.version {
            return parse(text);
        }
    }
    if let Some(text) = py2nix_source::describe_version(dir) {
        reporter.explain(&format!(
            "the project's version is dynamic: {text}, from git's tags (`git describe --tags`)"
        ));
        return parse(&text);
    }
    match metadata
        .fallback_version
        .as_deref()
        .or(metadata.version.as_deref())
    {
        Some(text) => parse(text),
        None => {
            reporter.warn(
                "the project's version is dynamic and neither the lock, git's tags nor pyproject.toml gives one: \
                 it is built as version 0 (tag the commit, or set `[tool.setuptools_scm] fallback_version`)",
            );
            Ok(Version::new([0]))
        }
    }
}

/// The scripts of the workspace members the lock builds from the project's own directories
/// (editable local directories: uv's members, Poetry's and PDM's develop-mode path
/// dependencies). A member whose directory is missing is an error.
fn read_members(lock: &Lock, project: &mut Project, dir: &Path) -> anyhow::Result<()> {
    for package in &lock.packages {
        let PackageSource::Path {
            path,
            kind: PathKind::Directory,
            editable: true,
        } = &package.source
        else {
            continue;
        };
        let member_dir = dir.join(path);
        if !member_dir.is_dir() {
            bail!(
                "the workspace member `{}` is missing: its directory `{}` does not exist (the lock names it)",
                package.name,
                member_dir.display()
            );
        }
        let pyproject = member_dir.join("pyproject.toml");
        let scripts = if pyproject.is_file() {
            let text = std::fs::read_to_string(&pyproject)
                .with_context(|| format!("failed to read `{}`", pyproject.display()))?;
            let metadata = py2nix_lock::parse_project_metadata(&text)
                .with_context(|| format!("failed to parse `{}`", pyproject.display()))?;
            metadata.scripts
        } else {
            Scripts::default()
        };
        project.members.insert(package.name.clone(), scripts);
    }
    Ok(())
}
