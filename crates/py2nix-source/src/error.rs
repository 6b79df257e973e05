//! The error type of the NAR hashing and git functions.

use std::path::PathBuf;

/// Why a tree could not be hashed or a git repository could not be resolved or checked out.
///
/// Every URL in a message has gone through [`redact_git_url`](crate::redact_git_url), and every
/// piece of git's output through the same redaction: no message carries credentials.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// A file system operation failed; `action` is a verb such as "read" or "remove".
    #[error("failed to {action} `{}`", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A NAR holds regular files, directories and symbolic links only.
    #[error(
        "`{}` is not a regular file, a directory or a symbolic link, so it has no NAR serialisation",
        path.display()
    )]
    UnsupportedFileType { path: PathBuf },
    /// A file's length changed between reading its metadata and reading its contents.
    #[error("`{}` changed while it was being hashed", path.display())]
    FileChanged { path: PathBuf },
    /// The `git` program could not be started.
    #[error("failed to run `git`; is git installed and on the `PATH`?")]
    GitNotRunnable(#[source] std::io::Error),
    /// A git command exited unsuccessfully; `stderr` holds its last lines, redacted.
    #[error("`git {command}` failed for `{url}`: {stderr}")]
    Git {
        command: String,
        url: String,
        stderr: String,
    },
    /// A git operation passed one of its bounds ([`GitLimits`](crate::GitLimits)) and git was
    /// stopped; `what` says which.
    #[error("`git {command}` for `{url}` was stopped: {what}")]
    GitLimit {
        command: String,
        url: String,
        what: String,
    },
    /// The repository has no branch or tag of that name.
    #[error("`{url}` has no reference `{reference}`")]
    RefNotFound { url: String, reference: String },
    /// A short name matches both a branch and a tag.
    #[error(
        "`{reference}` is both a branch and a tag of `{url}`; write \
         `refs/heads/{reference}` or `refs/tags/{reference}`"
    )]
    AmbiguousRef { url: String, reference: String },
    /// The commit could not be fetched, or the object is not a commit.
    #[error("`{url}` has no commit `{commit}`{}", found_kind(kind))]
    CommitNotFound {
        url: String,
        commit: String,
        /// The kind of object found under that id instead (`tag`, `tree`, `blob`), if any.
        kind: Option<String>,
    },
    /// A commit id must be a full SHA-1: 40 hexadecimal digits.
    #[error("invalid commit id `{0}`: expected 40 hexadecimal digits")]
    InvalidCommit(String),
    /// The URL is empty or starts with `-` (which git would read as an option).
    #[error("invalid git URL `{0}`")]
    InvalidUrl(String),
    /// A checkout goes into a missing or empty directory only.
    #[error("`{}` exists and is not an empty directory", path.display())]
    DestinationNotEmpty { path: PathBuf },
}

fn found_kind(kind: &Option<String>) -> String {
    match kind {
        Some(kind) => format!(" (the object is a {kind})"),
        None => String::new(),
    }
}

impl SourceError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        SourceError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
