//! The one error type of this crate.

/// Why a lock file or pyproject.toml could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// The text is not valid TOML or does not have the expected shape; the message carries the
    /// line, the column and a caret under the offending text.
    #[error(transparent)]
    Toml(#[from] toml::de::Error),
    #[error(
        "unsupported `poetry.lock` lock-version `{0}`: py2nix reads lock-versions 1.x and 2.x"
    )]
    UnsupportedVersion(String),
    #[error("unsupported `uv.lock` version `{0}`: py2nix reads version 1")]
    UnsupportedUvLockVersion(String),
    /// A pylock.toml or pdm.lock version py2nix cannot read.
    #[error("unsupported `{file}` lock-version `{version}`: py2nix reads {supported}")]
    UnsupportedLockVersion {
        file: &'static str,
        version: String,
        supported: &'static str,
    },
    /// A requirements file problem; `location` is `label:line:column`.
    #[error("{location}: {message}")]
    Requirements { location: String, message: String },
    #[error("invalid lock-version `{0}`")]
    InvalidVersion(String),
    #[error("package `{package}`: {message}")]
    Package { package: String, message: String },
    #[error("package `{name}` {version} appears twice in the lock")]
    DuplicatePackage { name: String, version: String },
    #[error("{0}")]
    Project(String),
}

impl LockError {
    pub(crate) fn package(package: impl Into<String>, message: impl Into<String>) -> Self {
        LockError::Package {
            package: package.into(),
            message: message.into(),
        }
    }
}
