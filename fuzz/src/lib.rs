//! The checks behind the fuzz targets: each takes arbitrary bytes, feeds them to one of
//! py2nix's parsers (or its Nix printer), and panics only when a property py2nix promises is
//! broken. A parser may refuse any input with an error; it may not panic, hang or accept
//! something it then misreports.
//!
//! The main test suite includes these files by path and replays the committed corpus through
//! them, so every finding stays a regression test.

pub mod archives;
pub mod mutate;
pub mod nix;
pub mod readers;
