//! Sources beyond an index's files: git repositories checked out and hashed the way Nix's
//! `fetchgit` does (a NAR serialisation's sha256), and a distribution's core metadata read from
//! its wheel or sdist bytes.
//!
//! The metadata readers are pure (bytes in, metadata out); the git functions run the `git`
//! program and read the checkout from disk.

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod archive;
mod git;
mod metadata;
mod nar;
