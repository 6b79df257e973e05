//! The command line, as clap definitions; doc comments are the help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Turn a Python project's lock file into a pure Nix expression or a JSON plan.
#[derive(Debug, Parser)]
#[command(name = "py2nix", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// Print only errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Explain decisions on stderr (targets, chosen files, index traffic).
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Plan the project's locked packages and print python.nix (or the JSON plan).
    ///
    /// Finds the lock in PROJECT_DIR (poetry.lock, uv.lock, pylock.toml, pdm.lock or a hashed
    /// requirements.txt; --lock names one), reads pyproject.toml beside it, works out for every
    /// target (a Nix system and a CPython version) exactly which packages to install and which
    /// file of each, looks the files up on the package index, checks their hashes against the
    /// lock, and prints the result on stdout.
    Lock(LockArgs),
}

/// What `py2nix lock` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// python.nix, for `pkgs.callPackage ./python.nix { }`.
    Nix,
    /// The plan as JSON (schema 1), for other builders.
    Json,
}

#[derive(Debug, Args)]
pub struct LockArgs {
    /// The project directory, holding pyproject.toml and the lock.
    #[arg(default_value = ".")]
    pub project_dir: PathBuf,

    /// The lock file to read (its format is told by its name: poetry.lock, uv.lock,
    /// pylock.toml or pylock.NAME.toml, pdm.lock, or any other name for a requirements file).
    /// [default: the one lock in PROJECT_DIR]
    #[arg(long, value_name = "FILE")]
    pub lock: Option<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Nix)]
    pub format: Format,

    /// Write to FILE (atomically) instead of stdout; refuses to overwrite a file py2nix did not generate.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// A Nix system to plan for; repeat for several.
    /// [default: x86_64-linux, aarch64-linux, x86_64-darwin, aarch64-darwin]
    #[arg(long = "system", value_name = "SYSTEM")]
    pub systems: Vec<String>,

    /// A CPython version to plan for, `3.X` (or `3.X.Y` to pin the patch level markers see);
    /// repeat for several. [default: those of 3.11 to 3.14 that requires-python allows]
    #[arg(long = "python", value_name = "VERSION")]
    pub pythons: Vec<String>,

    /// Also install a dependency group; repeat for several.
    #[arg(long = "group", value_name = "NAME")]
    pub groups: Vec<String>,

    /// Install every dependency group.
    #[arg(long)]
    pub all_groups: bool,

    /// Leave out the project's default groups (uv's `dev`, `[tool.uv] default-groups`,
    /// pylock.toml's `default-groups`).
    #[arg(long)]
    pub no_default_groups: bool,

    /// Turn on one of the project's extras; repeat for several.
    #[arg(long = "extra", value_name = "NAME")]
    pub extras: Vec<String>,

    /// Turn on all of the project's extras.
    #[arg(long, conflicts_with = "extras")]
    pub all_extras: bool,

    /// Do not use wheels for these packages (comma-separated names, `:all:` or `:none:`), as pip.
    #[arg(long = "no-binary", value_name = "PACKAGES")]
    pub no_binary: Vec<String>,

    /// Do not use sdists for these packages (comma-separated names, `:all:` or `:none:`), as pip.
    #[arg(long = "only-binary", value_name = "PACKAGES")]
    pub only_binary: Vec<String>,

    /// The Simple API of the default package index. [default: PyPI]
    #[arg(
        long,
        env = "PY2NIX_INDEX_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub index_url: Option<String>,

    /// Where index answers are cached. [default: $XDG_CACHE_HOME/py2nix or ~/.cache/py2nix]
    #[arg(long, env = "PY2NIX_CACHE_DIR", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Neither read nor write the cache.
    #[arg(long, conflicts_with = "offline")]
    pub no_cache: bool,

    /// Use only the cache; fail, naming what is missing, instead of asking the index.
    #[arg(long)]
    pub offline: bool,

    /// The glibc version Linux wheels must be compatible with (manylinux). [default: 2.40]
    #[arg(long, value_name = "X.Y", conflicts_with = "musl")]
    pub glibc: Option<String>,

    /// Plan Linux targets for musl libc X.Y (musllinux wheels) instead of glibc.
    #[arg(long, value_name = "X.Y")]
    pub musl: Option<String>,

    /// The macOS version Darwin wheels must be compatible with. [default: 14.0]
    #[arg(long, value_name = "X.Y")]
    pub macos: Option<String>,
}
