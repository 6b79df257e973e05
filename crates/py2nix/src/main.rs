//! The `py2nix` command: parses the command line, runs one command, decides the exit code.
//!
//! Exit codes (docs/cli.md): 0 success, also when stdout is closed early and for `check` on a
//! current file; 1 bad input or request, a usage error, or `check` on a stale file; 2 anything
//! unexpected (network failures, I/O errors).

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod buildenv;
mod buildsys;
mod cache;
mod cli;
mod commands;
mod elf;
mod freshness;
mod inputs;
mod metadata;
mod network;
mod output;
mod overrides;
mod packaging;
mod project;
mod report;
mod sources;
mod unlocked;
mod uv_settings;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

/// mimalloc: reading a lock allocates and frees many small strings and tables, and this
/// allocator does that faster than the C library's (measured in docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use crate::report::{Failure, Reporter};

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let command = cli::Cli::command().color(clap_color(color_from_args(&args)));
    let cli = match command
        .try_get_matches_from(&args)
        .and_then(|matches| cli::Cli::from_arg_matches(&matches))
    {
        Ok(cli) => cli,
        Err(error) => {
            let code = if error.use_stderr() { 1 } else { 0 };
            // A closed stdout (`py2nix --help | head -1`) is not an error.
            let _ = error.print();
            return ExitCode::from(code);
        }
    };
    let reporter = Reporter::with_color(cli.quiet, cli.verbose, cli.color);
    match py2nix_source::ArchiveLimits::from_lookup(|name| std::env::var(name).ok()) {
        Ok(limits) => py2nix_source::configure_archive_limits(limits),
        Err(message) => {
            reporter.error(&anyhow::anyhow!(message));
            return ExitCode::from(1);
        }
    }
    match py2nix_source::GitLimits::from_lookup(
        |name| std::env::var(name).ok(),
        py2nix_index::parse_size,
    ) {
        Ok(limits) => py2nix_source::configure_git_limits(limits),
        Err(message) => {
            reporter.error(&anyhow::anyhow!(message));
            return ExitCode::from(1);
        }
    }
    output::remove_temporary_files_on_signals();
    let result = match cli.command {
        cli::Command::Lock(args) => commands::lock::run(args, &reporter),
        cli::Command::Check(args) => commands::check::run(args, &reporter),
        cli::Command::Diff(args) => commands::diff::run(args, &reporter),
        cli::Command::Graph(args) => commands::graph::run(args, &reporter),
        cli::Command::Overrides {
            command: cli::OverridesCommand::Show(args),
        } => commands::overrides::show(args, &reporter),
        cli::Command::Completions(args) => commands::completions::run(args),
        cli::Command::GenerateDocs(args) => commands::docs::run(args, &reporter),
    };
    reporter.finish_progress();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::BrokenPipe) => ExitCode::SUCCESS,
        Err(Failure::Answered) => ExitCode::from(1),
        Err(Failure::Input(error)) => {
            reporter.error(&error);
            ExitCode::from(1)
        }
        Err(Failure::Unexpected(error)) => {
            reporter.error(&error);
            ExitCode::from(2)
        }
    }
}

/// `--color` as given on the command line, read before clap parses it so that clap's own
/// messages (usage errors, help) follow it too.
fn color_from_args(args: &[std::ffi::OsString]) -> cli::ColorWhen {
    let mut when = cli::ColorWhen::Auto;
    let mut iter = args.iter().map(|a| a.to_string_lossy());
    while let Some(arg) = iter.next() {
        if arg == "--" {
            break;
        }
        let value = if arg == "--color" {
            iter.next().map(|v| v.into_owned())
        } else {
            arg.strip_prefix("--color=").map(str::to_string)
        };
        match value.as_deref() {
            Some("always") => when = cli::ColorWhen::Always,
            Some("never") => when = cli::ColorWhen::Never,
            Some("auto") => when = cli::ColorWhen::Auto,
            _ => {}
        }
    }
    when
}

fn clap_color(when: cli::ColorWhen) -> clap::ColorChoice {
    match when {
        cli::ColorWhen::Auto => clap::ColorChoice::Auto,
        cli::ColorWhen::Always => clap::ColorChoice::Always,
        cli::ColorWhen::Never => clap::ColorChoice::Never,
    }
}
