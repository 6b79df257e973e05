//! Core metadata read from wheels and sdists built in memory and from real files in
//! `tests/data` (see its PROVENANCE.md).

#![allow(clippy::unwrap_used)]

mod real;
mod sdist;
mod support;
mod tail;
mod wheel;
