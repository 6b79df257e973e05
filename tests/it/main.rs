//! Integration tests: the real `py2nix` binary against real fixtures (Poetry, uv, pylock.toml,
//! requirements files, git repositories made on the fly), a real index server on 127.0.0.1
//! serving recorded pages, real Nix and real pip.

mod common;

mod build_systems;
mod cli;
mod commands;
mod end_to_end;
mod errors;
mod formats;
mod gpu;
mod hostile;
mod index;
mod network;
mod nix;
mod project;
mod reading;
mod secrets;
mod snapshots;
mod sources;
mod stale_locks;
mod tree_builds;
mod untrusted_files;
mod untrusted_net;
mod user_overrides;
mod uv_settings;
mod wheel_ranges;
mod writes;
