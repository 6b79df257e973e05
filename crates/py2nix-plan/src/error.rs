//! Why a plan could not be made.

/// A problem that stops the plan; every variant names the package or the request at fault.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The user's request does not fit the project (unknown group, extra, target).
    #[error("{0}")]
    Request(String),
    #[error("{from} depends on `{package}`, which the lock does not contain; the lock is out of date, re-lock the project")]
    MissingPackage { package: String, from: String },
    #[error("{from} needs `{package}` {constraint} for {target}, but no locked version fits (locked: {locked})")]
    NoMatchingVersion {
        package: String,
        constraint: String,
        from: String,
        target: String,
        locked: String,
    },
    #[error("{from} needs `{package}` {constraint} for {target}, but version {chosen} was already chosen there")]
    Conflict {
        package: String,
        target: String,
        chosen: String,
        from: String,
        constraint: String,
    },
    #[error("no usable file for `{package}` {version} on {target}: {reason}; the lock lists: {}", list_files(.files))]
    NoUsableFile {
        package: String,
        version: String,
        target: String,
        reason: String,
        files: Vec<String>,
    },
    #[error("hash mismatch for `{filename}` of `{package}`: the lock says {lock}, the index ({url}) says {index}")]
    HashMismatch {
        package: String,
        filename: String,
        lock: String,
        index: String,
        url: String,
    },
    #[error("`{package}`: {message}")]
    Source { package: String, message: String },
    #[error("`{package}` comes from a {kind} source ({url}), which py2nix cannot plan yet")]
    UnsupportedSource {
        package: String,
        kind: String,
        url: String,
    },
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
    Many(Vec<PlanError>),
}

fn list_files(files: &[String]) -> String {
    if files.is_empty() {
        "no files".to_string()
    } else {
        files.join(", ")
    }
}

impl PlanError {
    /// One error for a list of them, or `None` when the list is empty.
    pub fn collect(mut errors: Vec<PlanError>) -> Option<PlanError> {
        match errors.len() {
            0 => None,
            1 => errors.pop(),
            _ => Some(PlanError::Many(errors)),
        }
    }
}
