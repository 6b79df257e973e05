//! Sources beyond an index's files: git repositories checked out and hashed the way Nix's
//! `fetchgit` does (a NAR serialisation's sha256), and a distribution's core metadata read from
//! its wheel or sdist bytes.
//!
//! The metadata readers are pure (bytes in, metadata out); the git functions run the `git`
//! program and read the checkout from disk.

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod archive;
mod build_system;
mod cargo_lock;
mod elf;
mod error;
mod git;
mod metadata;
mod nar;

pub use archive::{
    archive_limits, configure_archive_limits, locate_metadata_in_tail, member_fetch_len,
    read_member, reads_sdist, sdist_metadata, wheel_metadata, zip_tail_request_len, ArchiveLimits,
    Member, MemberSource, PyprojectRequirements, SdistMetadata, SdistRequirements, TailResult,
    MAX_METADATA_SIZE,
};
pub use build_system::{
    requirement_name, sdist_build_info, tree_build_info, CargoLockFile, SdistBuildInfo,
    VcsVersionTool,
};
pub use cargo_lock::{
    parse_cargo_lock, CrateSource, LockedCrate, CRATES_IO_INDEX, CRATES_IO_SPARSE_INDEX,
};
pub use elf::{
    read_object_libraries, wheel_libraries, ElfDynamic, ElfError, ObjectLimits, ObjectsInTail,
    WheelLibraries, WheelObjects,
};
pub use error::SourceError;
pub use git::{checkout, describe_version, hash_git, redact_git_url, resolve_ref, GitHash};
pub use metadata::{parse_core_metadata, CoreMetadata, MetadataError, MetadataOrigin};
pub use nar::{nar_sha256, nar_sri};
