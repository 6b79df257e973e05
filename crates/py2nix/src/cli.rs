//! The command line, as clap definitions; doc comments are the help text. docs/cli.md and the
//! man pages in docs/ are generated from these definitions (`py2nix generate-docs docs`).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Turn a Python project's lock file into a pure Nix expression or a JSON plan.
#[derive(Debug, Parser)]
#[command(name = "py2nix", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// Print only errors (no warnings, no progress).
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Explain decisions on stderr: targets, markers that leave packages out, why a wheel or
    /// an sdist was chosen, index traffic.
    #[arg(short, long, global = true)]
    pub verbose: bool,

    /// When to colour messages on stderr; `auto` colours a terminal unless NO_COLOR is set.
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t = ColorWhen::Auto)]
    pub color: ColorWhen,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Plan the project's locked packages and print python.nix (or the JSON plan).
    ///
    /// Finds the lock in PROJECT_DIR (poetry.lock, uv.lock, pylock.toml, pdm.lock or a hashed
    /// requirements.txt; the one the output file was made from when there are several; for a
    /// uv workspace member without a lock, the workspace's uv.lock; --lock names one, of any
    /// name: its content tells the format), reads pyproject.toml beside it, works out for every
    /// target (a Nix system and a CPython version) exactly which packages to install and which
    /// file of each, looks the files up on the package index, checks their hashes against the
    /// lock, and prints the result on stdout. A lock that no longer records what pyproject.toml
    /// declares (a dependency added or removed without locking again) is refused, naming what
    /// differs and the command that locks again; --frozen uses it as it is.
    Lock(LockArgs),

    /// Tell whether python.nix is still current, without the network.
    ///
    /// python.nix (and the JSON plan) records what it was made from: the hashes of the lock and
    /// pyproject.toml, the override database, py2nix's version and the options. `check`
    /// compares that record with the files as they are now and exits 0 when nothing changed,
    /// 1 with the reason when the file is stale. A pyproject.toml (and every uv workspace
    /// member's) counts only by the parts that change the plan, not its description or
    /// authors. The file is also stale when the lock is out of date with pyproject.toml
    /// (unless --frozen). Give it the same selection options as `lock` to also check that the
    /// file was made with them; give none to accept the recorded ones.
    Check(CheckArgs),

    /// Compare two locks, two plans or two python.nix files.
    ///
    /// Lists the packages added, removed, upgraded and downgraded (per target for plans) and
    /// calls out a package whose source kind changed (a wheel that became an sdist), and one
    /// whose build changed otherwise: its file or hash, git commit, URL or path, build system
    /// or native inputs. A directory stands for the one lock in it; a lock of another name
    /// (`old.lock`, `<(git show HEAD:uv.lock)`) is told by its content. The exit code is 0
    /// whether or not they differ.
    Diff(DiffArgs),

    /// Draw the dependency graph of one target as Graphviz DOT or Mermaid.
    ///
    /// Plans the project like `lock` (by default for one target: this machine's system if
    /// it is a Nix system py2nix plans for, else x86_64-linux, with the first CPython the
    /// project allows) or reads a plan with --plan, and prints the graph: roots drawn bold,
    /// packages built from source filled, packages on a dependency cycle and the edges
    /// that break it drawn red and dashed. --why PKG prints every path from a root to PKG.
    Graph(GraphArgs),

    /// Inspect the override database (built-in, merged with a project's overrides directory).
    Overrides {
        #[command(subcommand)]
        command: OverridesCommand,
    },

    /// Print a shell completion script (bash, zsh, fish, elvish or powershell) on stdout.
    Completions(CompletionsArgs),

    /// Write docs/cli.md and the man pages from these definitions.
    #[command(hide = true)]
    GenerateDocs(GenerateDocsArgs),
}

#[derive(Debug, Subcommand)]
pub enum OverridesCommand {
    // `--version` here is a package version, not py2nix's.
    #[command(disable_version_flag = true)]
    Show(crate::commands::overrides::OverridesShowArgs),
}

/// What `py2nix lock` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// python.nix, for `pkgs.callPackage ./python.nix { }`.
    Nix,
    /// The plan as JSON (schema 1), for other builders.
    Json,
}

/// When to use colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    /// When stderr is a terminal and NO_COLOR is not set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

#[derive(Debug, Args)]
pub struct LockArgs {
    /// The project directory, holding pyproject.toml and the lock.
    #[arg(default_value = ".")]
    pub project_dir: PathBuf,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Nix)]
    pub format: Format,

    /// Write to FILE (atomically) instead of stdout; refuses to overwrite a file py2nix did not generate.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Use the lock as it is, without checking that it still records what pyproject.toml
    /// declares (by default a stale lock is refused, naming what differs).
    #[arg(long)]
    pub frozen: bool,

    #[command(flatten)]
    pub select: SelectArgs,

    #[command(flatten)]
    pub index: IndexArgs,
}

/// What is planned: the lock, the targets, the selection and the file choice. python.nix
/// records these (normalised) so that `check` can tell when they change.
#[derive(Debug, Args, Clone, Default, PartialEq, Eq)]
pub struct SelectArgs {
    /// The lock file to read (its format is told by its name: poetry.lock, uv.lock,
    /// pylock.toml or pylock.NAME.toml, pdm.lock, or any other name for a requirements file).
    /// [default: the one lock in PROJECT_DIR]
    #[arg(long, value_name = "FILE")]
    pub lock: Option<PathBuf>,

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

    /// The glibc version Linux wheels must be compatible with (manylinux). [default: 2.40]
    #[arg(long, value_name = "X.Y", conflicts_with = "musl")]
    pub glibc: Option<String>,

    /// Plan Linux targets for musl libc X.Y (musllinux wheels) instead of glibc.
    #[arg(long, value_name = "X.Y")]
    pub musl: Option<String>,

    /// The macOS version Darwin wheels must be compatible with. [default: 14.0]
    #[arg(long, value_name = "X.Y")]
    pub macos: Option<String>,

    /// An overrides directory merged over the built-in database (also [tool.py2nix]
    /// overrides in pyproject.toml).
    #[arg(long, value_name = "DIR")]
    pub overrides: Option<PathBuf>,

    /// Let the lock's local path sources, a requirements file's `-r`/`-c` includes and
    /// pyproject.toml's [tool.py2nix] overrides name files and directories outside the project
    /// directory. Without it they are refused: Nix copies a local source into the store,
    /// readable by every user of the machine, and a project you did not write could name any
    /// file (~/.ssh, ~/.aws/credentials). See docs/security.md.
    #[arg(long)]
    pub allow_outside_paths: bool,
}

/// Where the package index is and how its answers are kept.
#[derive(Debug, Args, Clone, Default)]
pub struct IndexArgs {
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

    /// The most bytes py2nix reads of one download whose size the lock does not record (a
    /// file the lock gives a size for is read up to that size), of a project page, and of a
    /// local archive: bytes, or with K, M, G (powers of 1024). [default: 2G]
    #[arg(
        long,
        env = "PY2NIX_MAX_DOWNLOAD_SIZE",
        value_name = "SIZE",
        value_parser = py2nix_index::parse_size
    )]
    pub max_download_size: Option<u64>,

    /// A host whose git repositories an sdist's Cargo.lock may name (git crates are cloned to
    /// hash them); repeat, or separate with commas. Git crates on other hosts, and `file://`
    /// repositories always, are refused, naming the package and the source.
    #[arg(
        long = "allow-cargo-git-host",
        env = "PY2NIX_CARGO_GIT_HOSTS",
        value_name = "HOST",
        value_delimiter = ','
    )]
    pub cargo_git_hosts: Vec<String>,
}

/// How `check` answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// One line: `current: ...` or `stale: ...`.
    Text,
    /// A JSON object with `status` (`current` or `stale`) and `reasons`.
    Json,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The project directory python.nix was made from.
    #[arg(default_value = ".")]
    pub project_dir: PathBuf,

    /// The generated file to check (python.nix or a JSON plan). [default: PROJECT_DIR/python.nix]
    #[arg(long, value_name = "PATH")]
    pub file: Option<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,

    /// Do not check that the lock still records what pyproject.toml declares (as `lock
    /// --frozen`); without it, a stale lock makes the file stale too.
    #[arg(long)]
    pub frozen: bool,

    #[command(flatten)]
    pub select: SelectArgs,
}

/// How `diff` prints the differences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// Lines for a terminal.
    Text,
    /// A Markdown table, for a pull request's description.
    Markdown,
    /// A JSON object, for tools.
    Json,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The old lock, plan (JSON) or python.nix; a directory stands for the lock in it.
    pub old: PathBuf,

    /// The new one, of the same kind.
    pub new: PathBuf,

    /// Output format.
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    pub format: DiffFormat,

    /// Let a requirements file's `-r`/`-c` includes name files outside its directory
    /// (refused without it, as by `lock`; see docs/security.md).
    #[arg(long)]
    pub allow_outside_paths: bool,
}

/// How `graph` draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// Graphviz DOT (`dot -Tsvg`).
    Dot,
    /// A Mermaid flowchart (renders in Markdown on most forges).
    Mermaid,
    /// Plain lines: `a -> b` for each edge, or with --why one path per line.
    Text,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    /// The project directory, holding pyproject.toml and the lock.
    #[arg(default_value = ".")]
    pub project_dir: PathBuf,

    /// Output format. [default: dot, or text with --why]
    #[arg(long, value_enum)]
    pub format: Option<GraphFormat>,

    /// Print the paths from the roots to this package (with --format dot or mermaid: draw
    /// only them).
    #[arg(long, value_name = "PACKAGE")]
    pub why: Option<String>,

    /// Read the plan from this python.nix or JSON plan instead of planning the project.
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,

    /// The target to draw, e.g. `x86_64-linux-cp312`, when the plan holds several.
    #[arg(long, value_name = "ID")]
    pub target: Option<String>,

    /// Use the lock as it is, without checking that it still records what pyproject.toml
    /// declares (by default a stale lock is refused, naming what differs).
    #[arg(long)]
    pub frozen: bool,

    #[command(flatten)]
    pub select: SelectArgs,

    #[command(flatten)]
    pub index: IndexArgs,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct GenerateDocsArgs {
    /// The directory to write cli.md and the man pages to (the repository's docs/).
    pub dir: PathBuf,

    /// Compare with the files in DIR instead of writing; exit 1 naming the ones out of date.
    #[arg(long)]
    pub check: bool,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_definitions_are_consistent() {
        super::Cli::command().debug_assert();
    }
}
