//! The `py2nix` command: parses the command line, runs one command, decides the exit code.

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod cli;
mod commands;
mod metadata;
mod network;
mod output;
mod overrides;
mod project;
mod report;
mod sources;

use std::process::ExitCode;

use clap::Parser;

use crate::report::{Failure, Reporter};

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let code = if error.use_stderr() { 1 } else { 0 };
            let _ = error.print();
            return ExitCode::from(code);
        }
    };
    let reporter = Reporter::new(cli.quiet, cli.verbose);
    let result = match cli.command {
        cli::Command::Lock(args) => commands::lock::run(args, &reporter),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::BrokenPipe) => ExitCode::SUCCESS,
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
