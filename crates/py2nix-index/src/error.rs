//! `IndexError`: why a page, a file's hash or a file's metadata could not be had.
//!
//! Every URL in an error has its credentials removed (`redact_url`), and no variant holds a
//! password.

/// Why a page, a file's hash or a file's metadata could not be had.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("`{package}` is not on the index {index}")]
    NotFound { package: String, index: String },
    /// A request that failed for good: after its retries, or in a way no retry mends (a
    /// redirect loop, an HTTP status other than the retried ones).
    #[error("fetching {url} failed: {message}")]
    Http { url: String, message: String },
    /// A failure another attempt may mend: a connection refused or reset, no answer within
    /// the timeout, a body cut short, HTTP 408, 429, 500, 502, 503 or 504 (with the wait the
    /// index asked for in `Retry-After`). Retried; what is left after the last attempt is
    /// [`IndexError::Http`].
    #[error("fetching {url} failed: {message}")]
    Transient {
        url: String,
        message: String,
        retry_after: Option<std::time::Duration>,
    },
    #[error("the page {url} could not be read: {message}")]
    Parse { url: String, message: String },
    #[error("--offline: the cache has no page for `{package}` from {index}")]
    NotCached { package: String, index: String },
    #[error("--offline: the cached page of `{package}` from {index} lacks {}", .missing.join(", "))]
    CachedPageIncomplete {
        package: String,
        index: String,
        missing: Vec<String>,
    },
    #[error("the HTTP client could not be set up: {0}")]
    Setup(String),
    /// HTTP 401 or 403. `index` is the index's name, or its URL for the unnamed default.
    #[error("{url} refused access (index {index}); hint: {hint}")]
    Unauthorized {
        url: String,
        index: String,
        hint: String,
    },
    /// HTTP 404 or 410 for a file or a metadata file.
    #[error("{url} does not exist (HTTP {status})")]
    Missing { url: String, status: u16 },
    /// `--offline`, and the cache lacks something other than a page.
    #[error("--offline: the cache has no {what} for {url}")]
    NotCachedUrl { what: &'static str, url: String },
    /// A downloaded file's or metadata file's sha256 is not the expected one.
    #[error("the sha256 of {url} is {actual}, but {expected} was expected")]
    HashMismatch {
        url: String,
        expected: String,
        actual: String,
    },
    /// A download (or a page) longer than it may be: abandoned at the first byte too many,
    /// or at once when it announced more.
    #[error("{url} is larger than {limit} bytes ({why}); the download was abandoned")]
    TooLarge {
        url: String,
        limit: u64,
        why: String,
    },
    /// The file was downloaded but its core metadata could not be read from it.
    #[error("the core metadata of {url} could not be read: {message}")]
    Metadata { url: String, message: String },
}
