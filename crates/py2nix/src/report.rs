//! Diagnostics on stderr (coloured when allowed, with `hint:` lines that say what to do),
//! progress while py2nix talks to the index, and the failure kinds that decide the exit code.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use anstyle::{AnsiColor, Style};

/// How a command failed: the input or request was wrong (exit 1), something unexpected
/// happened (exit 2), stdout was closed early (exit 0), or the command printed a negative
/// answer (`check` on a stale file: exit 1, nothing more to say).
#[derive(Debug)]
pub enum Failure {
    Input(anyhow::Error),
    Unexpected(anyhow::Error),
    BrokenPipe,
    Answered,
}

/// `.input()?` and `.unexpected()?` classify an error where it happens.
pub trait Classify<T> {
    fn input(self) -> Result<T, Failure>;
    fn unexpected(self) -> Result<T, Failure>;
}

impl<T, E: Into<anyhow::Error>> Classify<T> for Result<T, E> {
    fn input(self) -> Result<T, Failure> {
        self.map_err(|e| Failure::Input(e.into()))
    }
    fn unexpected(self) -> Result<T, Failure> {
        self.map_err(|e| Failure::Unexpected(e.into()))
    }
}

/// An error with advice for the user, printed as `hint: ...` after the error.
#[derive(Debug)]
pub struct Hinted {
    error: anyhow::Error,
    hint: String,
}

impl std::fmt::Display for Hinted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.error, f)
    }
}

impl std::error::Error for Hinted {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error.source()
    }
}

/// `.hint("...")` attaches advice to a failure, keeping its kind.
pub trait Hint<T> {
    fn hint(self, hint: impl Into<String>) -> Result<T, Failure>;
}

impl<T> Hint<T> for Result<T, Failure> {
    fn hint(self, hint: impl Into<String>) -> Result<T, Failure> {
        let wrap = |error: anyhow::Error, hint: String| anyhow::Error::new(Hinted { error, hint });
        self.map_err(|failure| match failure {
            Failure::Input(error) => Failure::Input(wrap(error, hint.into())),
            Failure::Unexpected(error) => Failure::Unexpected(wrap(error, hint.into())),
            other => other,
        })
    }
}

/// `error` with `hint` attached, for errors raised as plain `anyhow::Error`s.
pub fn with_hint(error: anyhow::Error, hint: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Hinted {
        error,
        hint: hint.into(),
    })
}

/// The advice attached to a failure: with [`Hint::hint`] or [`with_hint`] where it was
/// raised, or carried by the error itself (`PlanError::hint`, a `--offline` miss), in the
/// order of the cause chain.
pub fn hints(error: &anyhow::Error) -> Vec<String> {
    let mut out = Vec::new();
    for cause in error.chain() {
        if let Some(hinted) = cause.downcast_ref::<Hinted>() {
            out.push(hinted.hint.clone());
        }
        if let Some(hint) = cause
            .downcast_ref::<py2nix_plan::PlanError>()
            .and_then(py2nix_plan::PlanError::hint)
        {
            out.push(hint);
        }
        if cause
            .downcast_ref::<py2nix_index::IndexError>()
            .is_some_and(crate::network::is_offline_miss)
        {
            out.push(crate::network::OFFLINE_HINT.to_string());
        }
    }
    let text = format!("{error:#}");
    for line in text.lines() {
        if let Some((_, inline)) = line.split_once("; hint: ") {
            out.push(inline.trim().to_string());
        }
    }
    out.dedup();
    out
}

/// Writes warnings, notes, hints and errors to stderr, as `-q` and `-v` allow, and shows
/// progress when stderr is a terminal. Never stdout.
pub struct Reporter {
    quiet: bool,
    verbose: bool,
    color: bool,
    /// Bars are drawn only on a terminal and not with `-q`.
    bars: bool,
    bar: Mutex<Option<indicatif::ProgressBar>>,
}

const ERROR: Style = AnsiColor::Red.on_default().bold();
const WARNING: Style = AnsiColor::Yellow.on_default().bold();
const HINT: Style = AnsiColor::Cyan.on_default().bold();
const NOTE: Style = Style::new().dimmed();

impl Reporter {
    #[allow(dead_code)] // Kept for callers that take the default colour choice.
    pub fn new(quiet: bool, verbose: bool) -> Self {
        Reporter::with_color(quiet, verbose, crate::cli::ColorWhen::Auto)
    }

    pub fn with_color(quiet: bool, verbose: bool, when: crate::cli::ColorWhen) -> Self {
        let terminal = std::io::stderr().is_terminal();
        Reporter {
            quiet,
            verbose,
            color: use_color(when, terminal),
            bars: terminal && !quiet,
            bar: Mutex::new(None),
        }
    }

    pub fn warn(&self, message: &str) {
        if !self.quiet {
            self.line(WARNING, "warning:", message);
        }
    }

    /// A line shown with `-v` only.
    pub fn explain(&self, message: &str) {
        if self.verbose {
            self.line(NOTE, "py2nix:", message);
        }
    }

    pub fn hint(&self, message: &str) {
        if !self.quiet {
            self.line(HINT, "hint:", message);
        }
    }

    pub fn error(&self, error: &anyhow::Error) {
        self.finish_progress();
        self.line(ERROR, "error:", &without_inline_hints(&error.to_string()));
        for cause in error.chain().skip(1) {
            self.line(
                Style::new(),
                "  caused by:",
                &without_inline_hints(&cause.to_string()),
            );
        }
        for hint in hints(error) {
            self.line(HINT, "hint:", &hint);
        }
    }

    /// Whether `-v` was given.
    pub fn is_verbose(&self) -> bool {
        self.verbose
    }

    /// A counted piece of work that talked to the index, once done: one quiet line when
    /// stderr is not a terminal (a terminal had the bar), none with `-q`.
    pub fn done_line(&self, message: &str) {
        if !self.quiet && !self.bars {
            self.line(Style::new(), "py2nix:", message);
        }
    }

    /// What py2nix is doing now: a spinner with `message` on a terminal, else nothing (the
    /// steps that talk to the index explain themselves with `-v`).
    pub fn step(&self, message: &str) {
        self.progress(None, message);
    }

    /// Work of `total` items: a bar with counts on a terminal (advanced by
    /// [`Reporter::advance`]), else nothing.
    pub fn start_count(&self, total: u64, message: &str) {
        self.progress(Some(total), message);
    }

    /// One more item of the counted work done.
    pub fn advance(&self) {
        if let Ok(guard) = self.bar.lock() {
            if let Some(bar) = guard.as_ref() {
                bar.inc(1);
            }
        }
    }

    /// Clears the spinner or bar; call when the work it shows is done.
    pub fn finish_progress(&self) {
        if let Ok(mut guard) = self.bar.lock() {
            if let Some(bar) = guard.take() {
                bar.finish_and_clear();
            }
        }
    }

    fn progress(&self, total: Option<u64>, message: &str) {
        if !self.bars {
            return;
        }
        let bar = match total {
            Some(total) => {
                let bar = indicatif::ProgressBar::new(total);
                if let Ok(style) = indicatif::ProgressStyle::with_template(
                    "{spinner} {msg} [{bar:30}] {pos}/{len} ({elapsed})",
                ) {
                    bar.set_style(style.progress_chars("=> "));
                }
                bar
            }
            None => {
                let bar = indicatif::ProgressBar::new_spinner();
                if let Ok(style) =
                    indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                {
                    bar.set_style(style);
                }
                bar
            }
        };
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        bar.set_message(printable(message).replace('\n', " "));
        bar.enable_steady_tick(Duration::from_millis(120));
        if let Ok(mut guard) = self.bar.lock() {
            if let Some(old) = guard.replace(bar) {
                old.finish_and_clear();
            }
        }
    }

    /// Prints one line, above the progress bar if one is shown. A closed stderr is ignored.
    /// Every message goes through [`printable`].
    fn line(&self, style: Style, label: &str, message: &str) {
        let message = printable(message);
        let text = if self.color {
            format!("{style}{label}{style:#} {message}")
        } else {
            format!("{label} {message}")
        };
        let print = || {
            use std::io::Write;
            let _ = writeln!(std::io::stderr().lock(), "{text}");
        };
        match self.bar.lock().ok().as_ref().and_then(|g| g.as_ref()) {
            Some(bar) => bar.suspend(print),
            None => print(),
        }
    }
}

impl Drop for Reporter {
    fn drop(&mut self) {
        self.finish_progress();
    }
}

/// `message` made safe for a terminal or a log, the one function every diagnostic passes
/// through: control characters (but newlines and tabs), C1 controls, Unicode line and
/// paragraph separators and the bidirectional overrides are written as `\u{..}` escapes, so
/// names from a lock, an index or an archive can neither move the cursor, recolour nor
/// reorder the terminal; and every line after the first is indented by two spaces, so a
/// newline in such a name cannot start a line that looks like one of py2nix's own
/// (`error:`, `warning:`).
pub fn printable(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut line_start = false;
    for c in message.chars() {
        if line_start && c != ' ' && c != '\t' && c != '\n' {
            out.push_str("  ");
        }
        line_start = c == '\n';
        match c {
            '\n' | '\t' => out.push(c),
            c if c.is_control()
                || matches!(
                    c,
                    '\u{2028}'
                        | '\u{2029}'
                        | '\u{200e}'
                        | '\u{200f}'
                        | '\u{202a}'..='\u{202e}'
                        | '\u{2066}'..='\u{2069}'
                ) =>
            {
                out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out
}

/// The message without the `; hint: ...` that some library errors end a line with: the hint
/// is printed on its own `hint:` line instead.
fn without_inline_hints(message: &str) -> String {
    message
        .lines()
        .map(|line| line.split_once("; hint: ").map_or(line, |(head, _)| head))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether to colour stderr: `always`, `never`, or for `auto` a terminal without NO_COLOR
/// (any non-empty value, as no-color.org says).
pub fn use_color(when: crate::cli::ColorWhen, terminal: bool) -> bool {
    match when {
        crate::cli::ColorWhen::Always => true,
        crate::cli::ColorWhen::Never => false,
        crate::cli::ColorWhen::Auto => {
            terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attached_hints_come_first_and_hints_deep_in_the_chain_count() {
        let inner = with_hint(anyhow::anyhow!("`.` holds several lock files"), "inner");
        let failure: Result<(), Failure> = Err(Failure::Input(inner.context("failed to read")));
        let Err(Failure::Input(error)) = failure.hint("first") else {
            panic!("the kind changed");
        };
        assert_eq!(error.to_string(), "failed to read");
        assert_eq!(hints(&error), ["first", "inner"]);
    }

    #[test]
    fn control_characters_are_escaped_and_lines_indented() {
        assert_eq!(
            printable("plain `a-1.0.tar.gz` é"),
            "plain `a-1.0.tar.gz` é"
        );
        assert_eq!(
            printable("a\x1b[31mred\rb\u{7}\u{9b}c\u{202e}d\0"),
            "a\\u{1b}[31mred\\u{d}b\\u{7}\\u{9b}c\\u{202e}d\\u{0}"
        );
        assert_eq!(printable("one\nerror: forged\n"), "one\n  error: forged\n");
        // Lines already indented keep their indentation.
        assert_eq!(printable("stale:\n  - a\n\tb"), "stale:\n  - a\n\tb");
        assert_eq!(printable("tab\there"), "tab\there");
    }

    #[test]
    fn colour_follows_the_flag_and_the_terminal() {
        use crate::cli::ColorWhen;
        assert!(use_color(ColorWhen::Always, false));
        assert!(!use_color(ColorWhen::Never, true));
        assert!(!use_color(ColorWhen::Auto, false));
    }
}
