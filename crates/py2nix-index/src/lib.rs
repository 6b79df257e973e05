//! Client for a package index's Simple API: PEP 503 HTML pages, PEP 691 JSON when the index
//! offers it, an on-disk cache of what py2nix needs from each page, and concurrent fetching.

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod cache;
mod client;
mod page;

pub use cache::Cache;
pub use client::{IndexClient, IndexError, PageRequest};
pub use page::{parse_html, parse_json, Page, PageFile};

/// The index py2nix uses when neither `--index-url` nor `PY2NIX_INDEX_URL` names one: PyPI's
/// Simple API. This is the only place the default is written.
pub const DEFAULT_INDEX_URL: &str = "https://pypi.org/simple/";

/// The URL of `package`'s project page on the Simple API at `index_url` (PEP 503: the
/// normalised name and a trailing slash).
///
/// ```
/// assert_eq!(py2nix_index::page_url("https://example.org/simple", "flask"), "https://example.org/simple/flask/");
/// assert_eq!(py2nix_index::page_url("https://example.org/simple/", "flask"), "https://example.org/simple/flask/");
/// ```
pub fn page_url(index_url: &str, package: &str) -> String {
    format!("{}/{package}/", index_url.trim_end_matches('/'))
}

/// The URL with any `user:password@` removed, for messages, plans and cache keys.
///
/// ```
/// assert_eq!(py2nix_index::redact_url("https://me:secret@example.org/simple/"), "https://example.org/simple/");
/// assert_eq!(py2nix_index::redact_url("not a url"), "not a url");
/// ```
pub fn redact_url(text: &str) -> String {
    match url::Url::parse(text) {
        Ok(mut parsed) => {
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.to_string()
        }
        Err(_) => text.to_string(),
    }
}
