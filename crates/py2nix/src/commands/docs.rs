//! `py2nix generate-docs DIR` (hidden): docs/cli.md and the man pages, generated from the clap
//! definitions so they cannot drift from `--help`. A test runs it with `--check`.

use std::path::Path;

use anyhow::Context;
use clap::{Arg, ArgAction, Command, CommandFactory};

use crate::cli::{Cli, GenerateDocsArgs};
use crate::report::{Classify, Failure, Hint, Reporter};

/// Exit codes, as main.rs decides them.
pub const EXIT_CODES: &str = "\
| code | meaning |
| --- | --- |
| 0 | success; also when stdout is closed early (`py2nix lock | head`), `check` on a current file, and `diff` whether or not the files differ |
| 1 | bad input or request: an unreadable or inconsistent lock, an unknown group, extra or target, a package the index lacks, a hash mismatch, a page missing from the cache under `--offline`, a usage error; and `check` on a stale file |
| 2 | anything unexpected: network failures, I/O errors, an invalid built-in override database |
";

const INTRO: &str = "\
Generated from the clap definitions in `crates/py2nix/src/cli.rs` by
`cargo run -p py2nix -- generate-docs docs`; a test fails when this file is out of date.
The same text is `py2nix help COMMAND` and the man pages `docs/py2nix*.1`.
";

const STREAMS: &str = "\
Data (python.nix, plans, diffs, graphs, `check`'s answer) goes to stdout; everything else to
stderr: `warning:` lines (hidden by `-q`), `py2nix:` explanations (only with `-v`: targets,
the markers that leave packages out, why each package gets a wheel or its sdist, index
traffic), and `error:` with its `caused by:` chain and `hint:` lines that say what to do.

On a terminal, stderr shows a progress spinner or bar (with counts) while py2nix reads the
lock, talks to the index and hashes git checkouts. When stderr is not a terminal (CI logs,
pipes) progress is quiet lines instead (`py2nix: looked up 18 project pages`); `-v` adds
the steps that talk to the index as plain lines. `-q` silences progress and warnings.

Messages are coloured when stderr is a terminal and `NO_COLOR` is unset (`--color auto`);
`--color always` and `--color never` decide regardless.
";

/// Every generated file: (name, contents).
pub fn generate() -> anyhow::Result<Vec<(String, String)>> {
    let mut command = Cli::command().disable_help_subcommand(true);
    command.build();
    let mut files = vec![("cli.md".to_string(), markdown(&command))];
    files.push(("py2nix.1".to_string(), man(command.clone())?));
    for (words, sub) in all_subcommands(&command) {
        let name = format!("py2nix-{}.1", words.join("-"));
        files.push((name, man(sub.clone())?));
    }
    Ok(files)
}

pub fn run(args: GenerateDocsArgs, reporter: &Reporter) -> Result<(), Failure> {
    let files = generate().unexpected()?;
    if args.check {
        let stale: Vec<String> = files
            .iter()
            .filter(|(name, text)| {
                std::fs::read_to_string(args.dir.join(name)).ok().as_deref() != Some(text)
            })
            .map(|(name, _)| name.clone())
            .collect();
        if stale.is_empty() {
            return Ok(());
        }
        return Err(Failure::Input(anyhow::anyhow!(
            "out of date in `{}`: {}",
            args.dir.display(),
            stale.join(", ")
        )))
        .hint(format!(
            "regenerate them with `cargo run -p py2nix -- generate-docs {}`",
            args.dir.display()
        ));
    }
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("failed to create `{}`", args.dir.display()))
        .input()?;
    for (name, text) in &files {
        write(&args.dir.join(name), text).unexpected()?;
        reporter.explain(&format!("wrote {}", args.dir.join(name).display()));
    }
    Ok(())
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("failed to write `{}`", path.display()))
}

fn visible_subcommands(command: &Command) -> impl Iterator<Item = &Command> {
    command
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
}

/// Every visible subcommand, nested ones after their parent, with its words
/// (`["overrides", "show"]`).
fn all_subcommands(command: &Command) -> Vec<(Vec<String>, &Command)> {
    let mut out = Vec::new();
    for sub in visible_subcommands(command) {
        out.push((vec![sub.get_name().to_string()], sub));
        for (mut words, nested) in all_subcommands(sub) {
            words.insert(0, sub.get_name().to_string());
            out.push((words, nested));
        }
    }
    out
}

fn man(command: Command) -> anyhow::Result<String> {
    let mut out = Vec::new();
    clap_mangen::Man::new(command)
        .source(format!("py2nix {}", env!("CARGO_PKG_VERSION")))
        .render(&mut out)
        .context("failed to render a man page")?;
    String::from_utf8(out).context("a man page is not UTF-8")
}

fn markdown(command: &Command) -> String {
    let mut out = String::from("# The py2nix command line\n\n");
    out.push_str(INTRO);
    out.push('\n');
    if let Some(about) = command.get_about() {
        out.push_str(&format!("{about}\n\n"));
    }
    out.push_str("```text\n");
    out.push_str(&command.clone().render_usage().to_string());
    out.push_str("\n```\n\n");
    out.push_str("Commands:\n\n");
    for (words, sub) in all_subcommands(command) {
        out.push_str(&format!(
            "- [`py2nix {}`](#py2nix-{}): {}\n",
            words.join(" "),
            words.join("-"),
            sub.get_about().map(|a| a.to_string()).unwrap_or_default()
        ));
    }
    out.push_str("\n## Global options\n\nThese work with every command.\n\n");
    for arg in command.get_arguments().filter(|a| !a.is_hide_set()) {
        out.push_str(&argument(arg));
    }
    out.push_str("\n## Output, progress and colour\n\n");
    out.push_str(STREAMS);
    out.push_str("\n## Exit codes\n\n");
    out.push_str(EXIT_CODES);
    for (words, sub) in all_subcommands(command) {
        out.push_str(&format!("\n## py2nix {}\n\n", words.join(" ")));
        let about = sub
            .get_long_about()
            .or(sub.get_about())
            .map(|a| a.to_string())
            .unwrap_or_default();
        out.push_str(about.trim_end());
        out.push_str("\n\n```text\n");
        let usage = sub.clone().render_usage().to_string();
        out.push_str(usage.trim_start_matches("Usage: "));
        out.push_str("\n```\n\n");
        let (positionals, options): (Vec<&Arg>, Vec<&Arg>) = sub
            .get_arguments()
            .filter(|a| !a.is_hide_set() && !a.is_global_set())
            .filter(|a| {
                !matches!(
                    a.get_action(),
                    ArgAction::Help
                        | ArgAction::HelpShort
                        | ArgAction::HelpLong
                        | ArgAction::Version
                )
            })
            .partition(|a| a.is_positional());
        if !positionals.is_empty() {
            out.push_str("Arguments:\n\n");
            for arg in positionals {
                out.push_str(&argument(arg));
            }
            out.push('\n');
        }
        if !options.is_empty() {
            out.push_str("Options:\n\n");
            for arg in options {
                out.push_str(&argument(arg));
            }
        }
    }
    out
}

/// One argument as a list item: its spelling, then its help, default, values and variable.
fn argument(arg: &Arg) -> String {
    let values: Vec<String> = arg
        .get_value_names()
        .map(|names| names.iter().map(|n| format!("<{n}>")).collect())
        .unwrap_or_default();
    let takes_value = arg.get_num_args().is_some_and(|n| n.takes_values());
    let spelling = if arg.is_positional() {
        values
            .first()
            .cloned()
            .unwrap_or_else(|| format!("<{}>", arg.get_id().as_str().to_uppercase()))
    } else {
        let mut names = Vec::new();
        if let Some(short) = arg.get_short() {
            names.push(format!("-{short}"));
        }
        if let Some(long) = arg.get_long() {
            names.push(format!("--{long}"));
        }
        let value = if takes_value {
            values.first().map(|v| format!(" {v}")).unwrap_or_default()
        } else {
            String::new()
        };
        format!("{}{value}", names.join(", "))
    };
    let help = arg
        .get_long_help()
        .or(arg.get_help())
        .map(|h| h.to_string())
        .unwrap_or_default();
    let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut extra = Vec::new();
    let defaults: Vec<String> = arg
        .get_default_values()
        .iter()
        .map(|v| v.to_string_lossy().into_owned())
        .collect();
    if !defaults.is_empty() && takes_value {
        extra.push(format!("default: `{}`", defaults.join(" ")));
    }
    let possible: Vec<String> = arg
        .get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| match v.get_help() {
            Some(help) => format!(
                "`{}` ({})",
                v.get_name(),
                help.to_string().trim_end_matches('.')
            ),
            None => format!("`{}`", v.get_name()),
        })
        .collect();
    if !possible.is_empty() && takes_value {
        extra.push(format!("one of {}", possible.join(", ")));
    }
    if let Some(env) = arg.get_env() {
        extra.push(format!("environment: `{}`", env.to_string_lossy()));
    }
    let extra = if extra.is_empty() {
        String::new()
    } else {
        format!(" ({})", extra.join("; "))
    };
    format!("- `{spelling}`: {help}{extra}\n")
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_reference_covers_every_command_and_the_exit_codes() {
        let files = super::generate().unwrap();
        let (_, cli) = &files[0];
        for command in [
            "lock",
            "check",
            "diff",
            "graph",
            "completions",
            "overrides show",
        ] {
            assert!(
                cli.contains(&format!("\n## py2nix {command}\n")),
                "{command}"
            );
            let page = format!("py2nix-{}.1", command.replace(' ', "-"));
            assert!(files.iter().any(|(n, _)| n == &page), "{page}");
        }
        assert!(!cli.contains("## py2nix generate-docs"));
        assert!(cli.contains("## Exit codes"));
        assert!(cli.contains("- `--system <SYSTEM>`:"), "{cli}");
    }
}
