//! A small Nix syntax tree and its printer.
//!
//! This crate is the only place in py2nix that turns text into Nix source. Every string goes
//! through [`escape_string`], every attribute name through [`attr_name`], so nothing a lock file
//! contains can become Nix code.

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod expr;
mod print;
mod python_nix;
mod read;

pub use expr::{Expr, NixError};
pub use print::{attr_name, escape_string, is_identifier};
pub use python_nix::{render_python_nix, GENERATED_MARKER, PYTHON_LOGIC};
pub use read::{nix_to_json, read_plan};
