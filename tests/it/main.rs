//! Integration tests: the real `py2nix` binary against real Poetry fixtures, a real index
//! server on 127.0.0.1 serving recorded pages, real Nix and real pip.

mod common;

mod cli;
mod end_to_end;
mod errors;
mod index;
mod nix;
mod snapshots;
