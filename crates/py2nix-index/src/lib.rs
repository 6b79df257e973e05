//! Client for a package index's Simple API: PEP 503 HTML pages, PEP 691 JSON when the index
//! offers it, an on-disk cache of what py2nix needs from each page, and concurrent fetching;
//! credentials for private indexes; files' sha256 and core metadata (PEP 658 files, HTTP
//! range requests into wheels, whole downloads as the last resort).

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod cache;
mod client;
mod credentials;
mod download;
mod error;
mod filename;
mod metadata;
mod metadata_cache;
mod netrc;
mod page;
mod ranges;
mod transport;
mod zip_ranges;

pub use cache::Cache;
pub use client::{IndexClient, PageRequest};
pub use credentials::{env_name, resolve, Auth, Credentials};
pub use download::{
    parse_size, read_local_file, FileDigest, FileRequest, Limit, DEFAULT_MAX_DOWNLOAD,
};
pub use error::IndexError;
pub use metadata::{FetchedMetadata, MetadataBytes, MetadataFrom, MetadataRequest};
pub use netrc::netrc_lookup;
pub use page::{
    check_page_filename, parse_html, parse_json, CoreMetadataRef, HtmlStream, Page, PageFile,
};
pub use zip_ranges::{DirectoryStep, MemberStream, RangedZip, ZipDirectory, ZipRequest};

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

/// Whether two URLs have the same origin (scheme, host and port, the default port of the
/// scheme when none is written): credentials are given to their index's origin only.
///
/// ```
/// assert!(py2nix_index::same_origin("https://a.example/simple/", "https://A.example:443/f/x.whl"));
/// assert!(!py2nix_index::same_origin("http://127.0.0.1:8000/simple/", "http://localhost:8000/x.whl"));
/// assert!(!py2nix_index::same_origin("https://a.example/", "http://a.example/x"));
/// assert!(!py2nix_index::same_origin("https://a.example/", "https://a.example:8443/x"));
/// ```
pub fn same_origin(a: &str, b: &str) -> bool {
    match (url::Url::parse(a), url::Url::parse(b)) {
        (Ok(a), Ok(b)) => credentials::same_origin(&a, &b),
        _ => false,
    }
}

/// The URL with any `user:password@` removed, for messages, plans and cache keys.
///
/// ```
/// assert_eq!(py2nix_index::redact_url("https://me:secret@example.org/simple/"), "https://example.org/simple/");
/// assert_eq!(py2nix_index::redact_url("not a url"), "not a url");
/// assert_eq!(
///     py2nix_index::redact_url("error sending request for http://me:secret@h:1/x: refused"),
///     "error sending request for http://h:1/x: refused",
/// );
/// ```
///
/// Text that is not one URL has the `user:password@` of every `scheme://` in it removed.
pub fn redact_url(text: &str) -> String {
    match url::Url::parse(text) {
        Ok(mut parsed) => {
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.to_string()
        }
        Err(_) => redact_text(text),
    }
}

fn redact_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("://") {
        let (before, after) = rest.split_at(start + 3);
        out.push_str(before);
        let authority_end = after
            .find(|c: char| matches!(c, '/' | '?' | '#') || c.is_whitespace())
            .unwrap_or(after.len());
        let authority = &after[..authority_end];
        match authority.rfind('@') {
            Some(at) => out.push_str(&authority[at + 1..]),
            None => out.push_str(authority),
        }
        rest = &after[authority_end..];
    }
    out.push_str(rest);
    out
}
