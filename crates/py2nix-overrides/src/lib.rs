//! The curated override database under `overrides/`: loading, validation and matching.
//!
//! Each package has `overrides/<shard>/<name>/override.toml`, where `<name>` is the PEP 503
//! normalised package name and `<shard>` its first two characters. A file holds rules; the
//! first rule whose `versions` contains the package version applies. This crate reads no files:
//! callers hand it `(relative path, text)` pairs, so the database can be embedded in the binary.

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod database;

pub use database::{OverrideDb, OverrideError, Rule};
