//! `py2nix completions SHELL`: a completion script generated from the clap definitions.

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};
use crate::output;
use crate::report::{Classify, Failure};

pub fn run(args: CompletionsArgs) -> Result<(), Failure> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "py2nix", &mut script);
    let text = String::from_utf8(script)
        .map_err(|e| anyhow::anyhow!("the completion script is not UTF-8: {e}"))
        .unexpected()?;
    output::print(&text)
}
