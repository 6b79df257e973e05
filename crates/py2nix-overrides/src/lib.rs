//! The curated override database under `overrides/`: loading, validation and matching.
//!
//! Each package has `overrides/<shard>/<name>/override.toml`, where `<name>` is the PEP 503
//! normalised package name and `<shard>` its first two characters, with its patches beside it.
//! A file holds rules, each for sdists, wheels or both ([`AppliesTo`]); for a version and an
//! artifact kind at most one rule applies ([`OverrideDb::lookup`]). A user's directory in the
//! same layout replaces built-in entries whole ([`OverrideDb::merge`]). This crate reads no
//! files: callers hand it `(relative path, text)` pairs, so the database can be embedded in the
//! binary (whose entries are then parsed on first use, [`OverrideDb::from_files_lazily`]).
//! `overrides/README.md` documents the format; `overrides/override.schema.json` is its
//! JSON Schema, generated from [`rule`]'s wire types by this crate's tests.

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod attributes;
mod database;
mod ranges;
mod rule;
#[cfg(test)]
mod schema;
mod sonames;

pub use attributes::{NameKind, NixpkgsNames, UnknownName};
pub use database::{shard, Entry, Origin, OriginKind, OverrideDb, OverrideError};
pub use pep440_rs::{Version, VersionSpecifiers};
pub use rule::{AppliesTo, ArtifactKind, Rule, SCHEMA_VERSION};
pub use sonames::{SonameTable, SONAMES_FILE};
