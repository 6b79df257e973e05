//! Diagnostics on stderr, and the failure kinds that decide the exit code.

/// How a command failed: the input or request was wrong (exit 1), something unexpected
/// happened (exit 2), or stdout was closed early (exit 0).
#[derive(Debug)]
pub enum Failure {
    Input(anyhow::Error),
    Unexpected(anyhow::Error),
    BrokenPipe,
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

/// Writes warnings, notes and errors to stderr, as `-q` and `-v` allow. Never stdout.
pub struct Reporter {
    quiet: bool,
    verbose: bool,
}

impl Reporter {
    pub fn new(quiet: bool, verbose: bool) -> Self {
        Reporter { quiet, verbose }
    }

    pub fn warn(&self, message: &str) {
        if !self.quiet {
            eprintln!("warning: {message}");
        }
    }

    /// A line shown with `-v` only.
    pub fn explain(&self, message: &str) {
        if self.verbose {
            eprintln!("py2nix: {message}");
        }
    }

    pub fn error(&self, error: &anyhow::Error) {
        eprintln!("error: {error}");
        for cause in error.chain().skip(1) {
            eprintln!("  caused by: {cause}");
        }
    }
}
