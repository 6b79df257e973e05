//! The format-independent heart of py2nix: targets, marker evaluation, the closure walk,
//! wheel choice and the plan (schema 1).
//!
//! Planning runs in two steps so that this crate stays free of I/O: [`resolve_targets`] finds
//! each target's packages and chosen files; the caller looks those files up on the index;
//! [`assemble_plan`] checks the hashes, applies the override database and builds the [`Plan`].

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod error;
mod libraries;
mod plan;
mod resolve;
#[cfg(test)]
mod schema;
mod select;
mod tags;
mod target;
mod uv;

pub use error::PlanError;
pub use libraries::{
    binary_linux_wheel_hash, is_binary_linux_wheel, is_driver_library, map_target_libraries,
    provided_by_libc, WheelScan, DRIVER_LIBRARIES, MANYLINUX,
};
pub use plan::{
    add_binary_wheel_inputs, add_project, apply_overrides, apply_wheel_overrides, assemble_plan,
    chosen_files, git_url_without_credentials, is_index_source, resolve_targets, sri, CargoCrate,
    CargoPlan, Chosen, GitSourcePlan, IndexedFile, LibraryProvider, PackagePlan, PatchPlan,
    PathFormat, PathSourcePlan, Plan, PlanInputs, ProjectPlan, ResolvedGit, RunpathProvider,
    SdistSourcePlan, SelectionsPlan, SourcePlan, Sources, TargetPlan, TargetResolution,
    UnitClosures, WheelSourcePlan, PLAN_SCHEMA,
};
pub use resolve::{
    cycle_breaks, flat_marker_extras, flat_plan_roots, flat_roots, root_dependencies, walk_closure,
    Closure, ClosurePackage, Selection,
};
pub use select::{choose_file, file_is_version, FormatControl, SourceKind};
pub use tags::{platform_tags, TagPriorities, WheelFilename, WheelName};
pub use target::{
    LinuxLibc, NixSystem, PythonVersion, Target, DEFAULT_GLIBC, DEFAULT_MACOS,
    DEFAULT_PYTHON_MINORS,
};
pub use uv::{
    apply_build_settings, check_selection, conflicts_plan, requires_target, supports_target,
    unsupported_reason, ConflictPlan,
};
