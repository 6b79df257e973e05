//! Readers for the Python lock formats (one list of them and one entry point, [`parse`]) and
//! `pyproject.toml`, into one checked, format-independent model.
//!
//! Parsing is two-staged: serde "wire" structs mirror each file exactly, then a conversion
//! checks them into the [`Lock`] and [`Project`] model. This crate reads no files and touches no
//! network: callers hand it text and name the file in their own errors.

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod constraint;
mod error;
mod format;
mod freshness;
mod model;
mod package;
mod parts;
mod pdm_lock;
mod poetry_lock;
mod pylock;
mod pyproject;
mod python_json;
mod requirements;
mod uv_lock;
mod uv_settings;

pub use constraint::{parse_poetry_constraint, VersionConstraint};
pub use error::LockError;
pub use format::{parse, DirectoryProject, LockFiles, NoFiles};
pub use freshness::{
    pdm_content_hash, pdm_lock_freshness, poetry_content_hash, poetry_lock_freshness,
    pyproject_plan_relevant_json, uv_lock_freshness, uv_workspace_globs, LockFreshness,
    MemberPyproject, PoetryHashAlgorithm, Staleness,
};
pub use model::{
    check_distribution_filename, group_extra, Dependency, FileHash, GitSource, IndexDecl,
    InstallSet, Lock, LockFormat, LockedFile, LockedPackage, PackageSource, PathKind, Project,
    ProjectPackage, ProjectRoot, Scripts,
};
pub use package::{entry_point, parse_project_metadata, ProjectMetadata};
pub use pdm_lock::parse_pdm_lock;
pub use pep508_rs::{ExtraName, MarkerTree, PackageName};
pub use poetry_lock::{parse_marker, parse_poetry_lock};
pub use pylock::parse_pylock;
pub use pyproject::{normalize_group, parse_pyproject, pep508_dependency};
pub use requirements::parse_requirements;
pub use uv_lock::{parse_uv_lock, url_filename};
pub use uv_settings::{parse_uv_settings, ConflictItem, ConflictKind, UvSettings};
