//! Fetching project pages: concurrent requests, content negotiation, retries, the cache.

use std::future::Future;
use std::time::Duration;

use futures::stream::{self, StreamExt};

use crate::cache::PageEntry;
use crate::filename::matches_version;
use crate::page::{parse_html, parse_json, Page, PageFile};
use crate::transport::{http_error, without_url};
use crate::{redact_url, Cache, Credentials, IndexError};

const ACCEPT: &str = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01";

/// One page to fetch: a package on an index, and the files the plan needs from it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PageRequest {
    /// The index's name, for credentials from the environment; empty for the default index.
    pub index_name: String,
    pub index_url: String,
    /// The PEP 503 normalised name.
    pub package: String,
    pub needed_files: Vec<String>,
    /// Every file of these versions is kept and returned too (PEP 440 equality with the
    /// version in the filename), for locks that name hashes but not files.
    pub needed_versions: Vec<String>,
}

/// A Simple API client.
pub struct IndexClient {
    pub(crate) http: reqwest::Client,
    pub(crate) cache: Option<Cache>,
    pub(crate) offline: bool,
    pub(crate) credentials: Credentials,
    concurrency: usize,
}

impl IndexClient {
    /// A client with credentials from the process environment and netrc file
    /// ([`Credentials::from_environment`]).
    pub fn new(cache: Option<Cache>, offline: bool) -> Result<Self, IndexError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("py2nix/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(15))
            .read_timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| IndexError::Setup(e.to_string()))?;
        Ok(IndexClient {
            http,
            cache,
            offline,
            credentials: Credentials::from_environment(),
            concurrency: 16,
        })
    }

    /// The same client with credentials from elsewhere.
    pub fn with_credentials(self, credentials: Credentials) -> Self {
        IndexClient {
            credentials,
            ..self
        }
    }

    /// Where this client's credentials come from.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// Fetches every requested page, at most 16 at a time, using the cache where it holds all
    /// the needed files and versions. Results come back in request order; each page holds the
    /// needed files it lists and every file of the needed versions, in page order.
    pub async fn fetch_pages(&self, requests: &[PageRequest]) -> Vec<Result<Page, IndexError>> {
        self.all(requests, |request| self.fetch_page(request)).await
    }

    /// Runs `run` over `items`, at most 16 at a time, with the results in item order.
    pub(crate) async fn all<'a, I, T, F, Fut>(&self, items: &'a [I], run: F) -> Vec<T>
    where
        F: Fn(&'a I) -> Fut,
        Fut: Future<Output = T>,
    {
        let mut results: Vec<(usize, T)> = stream::iter(items.iter().enumerate())
            .map(|(i, item)| {
                let future = run(item);
                async move { (i, future.await) }
            })
            .buffer_unordered(self.concurrency)
            .collect()
            .await;
        results.sort_by_key(|(i, _)| *i);
        results.into_iter().map(|(_, result)| result).collect()
    }

    async fn fetch_page(&self, request: &PageRequest) -> Result<Page, IndexError> {
        let cached = self
            .cache
            .as_ref()
            .and_then(|c| c.read_entry(&request.index_url, &request.package));
        if let Some(entry) = &cached {
            if missing(entry, request).is_empty() {
                return Ok(select(&entry.files, request));
            }
        }
        if self.offline {
            let index = redact_url(&request.index_url);
            return Err(match cached {
                None => IndexError::NotCached {
                    package: request.package.clone(),
                    index,
                },
                Some(entry) => IndexError::CachedPageIncomplete {
                    package: request.package.clone(),
                    index,
                    missing: missing(&entry, request),
                },
            });
        }
        let page = self.download(request).await?;
        let entry = merge(cached.unwrap_or_default(), &page, request);
        if let Some(cache) = &self.cache {
            // A cache that cannot be written only costs a later run a request.
            let _ = cache.write_entry(&request.index_url, &request.package, &entry);
        }
        Ok(select(&page.files, request))
    }

    async fn download(&self, request: &PageRequest) -> Result<Page, IndexError> {
        let url = crate::page_url(&request.index_url, &request.package);
        let endpoint = self.index_endpoint(&url, &request.index_name, &request.index_url);
        let result = self
            .retrying(|| async {
                let response = self.get(&endpoint, Some(ACCEPT)).await?;
                let final_url = response.url().to_string();
                let json = response
                    .headers()
                    .get(reqwest::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| {
                        v.to_ascii_lowercase()
                            .starts_with("application/vnd.pypi.simple.v1+json")
                    });
                let body = response
                    .text()
                    .await
                    .map_err(|e| http_error(&endpoint, &without_url(&e)))?;
                Ok((final_url, json, body))
            })
            .await;
        let (final_url, json, body) = match result {
            Err(IndexError::Missing { .. }) => {
                return Err(IndexError::NotFound {
                    package: request.package.clone(),
                    index: redact_url(&request.index_url),
                })
            }
            other => other?,
        };
        let parsed = if json {
            parse_json(&body, &final_url)
        } else {
            parse_html(&body, &final_url)
        };
        parsed.map_err(|message| IndexError::Parse {
            url: endpoint.url.clone(),
            message,
        })
    }
}

/// The needed files and versions that `entry` does not cover, for messages.
fn missing(entry: &PageEntry, request: &PageRequest) -> Vec<String> {
    let files = request
        .needed_files
        .iter()
        .filter(|f| !entry.files.iter().any(|kept| &kept.filename == *f))
        .cloned();
    let versions = request
        .needed_versions
        .iter()
        .filter(|v| !entry.versions.iter().any(|kept| same_version(kept, v)))
        .map(|v| format!("the files of version {v}"));
    files.chain(versions).collect()
}

fn same_version(a: &str, b: &str) -> bool {
    use std::str::FromStr;
    match (
        pep440_rs::Version::from_str(a.trim()),
        pep440_rs::Version::from_str(b.trim()),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => a.trim() == b.trim(),
    }
}

fn wanted(file: &PageFile, files: &[String], versions: &[String], package: &str) -> bool {
    files.contains(&file.filename) || matches_version(&file.filename, package, versions)
}

/// The files of `files` that `request` asks for, in page order.
fn select(files: &[PageFile], request: &PageRequest) -> Page {
    let files = files
        .iter()
        .filter(|f| {
            wanted(
                f,
                &request.needed_files,
                &request.needed_versions,
                &request.package,
            )
        })
        .cloned()
        .collect();
    Page { files }
}

/// The new cache entry: from the fresh `page`, what this request and earlier ones kept.
fn merge(old: PageEntry, page: &Page, request: &PageRequest) -> PageEntry {
    let mut versions = old.versions;
    for version in &request.needed_versions {
        if !versions.iter().any(|v| same_version(v, version)) {
            versions.push(version.clone());
        }
    }
    let mut names: Vec<String> = old.files.into_iter().map(|f| f.filename).collect();
    names.extend(request.needed_files.iter().cloned());
    let files = page
        .files
        .iter()
        .filter(|f| wanted(f, &names, &versions, &request.package))
        .cloned()
        .collect();
    PageEntry { files, versions }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str) -> PageFile {
        PageFile {
            filename: name.to_string(),
            url: format!("https://example.org/{name}"),
            sha256: None,
            requires_python: None,
            yanked: false,
            core_metadata: None,
        }
    }

    fn request(files: &[&str], versions: &[&str]) -> PageRequest {
        PageRequest {
            index_name: String::new(),
            index_url: "https://example.org/simple/".into(),
            package: "x".into(),
            needed_files: files.iter().map(|f| f.to_string()).collect(),
            needed_versions: versions.iter().map(|v| v.to_string()).collect(),
        }
    }

    fn names(files: &[PageFile]) -> Vec<&str> {
        files.iter().map(|f| f.filename.as_str()).collect()
    }

    #[test]
    fn versions_and_files_are_kept_and_remembered() {
        let page = Page {
            files: [
                "x-1.0.tar.gz",
                "x-1.0-py3-none-any.whl",
                "x-2.0.tar.gz",
                "x-3.0.tar.gz",
            ]
            .map(file)
            .to_vec(),
        };
        let first = request(&["x-3.0.tar.gz"], &["1"]);
        assert_eq!(
            names(&select(&page.files, &first).files),
            ["x-1.0.tar.gz", "x-1.0-py3-none-any.whl", "x-3.0.tar.gz"]
        );
        let entry = merge(PageEntry::default(), &page, &first);
        assert_eq!(entry.versions, ["1"]);
        assert!(missing(&entry, &request(&["x-1.0.tar.gz"], &["1.0.0"])).is_empty());
        let second = request(&[], &["2.0"]);
        assert_eq!(missing(&entry, &second), ["the files of version 2.0"]);
        let entry = merge(entry, &page, &second);
        assert_eq!(entry.versions, ["1", "2.0"]);
        assert_eq!(names(&entry.files), names(&page.files));
        assert_eq!(
            names(&select(&entry.files, &second).files),
            ["x-2.0.tar.gz"]
        );
    }
}
