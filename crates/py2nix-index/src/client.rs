//! Fetching project pages: concurrent requests, content negotiation, retries, the cache.

use std::time::Duration;

use futures::stream::{self, StreamExt};

use crate::page::{parse_html, parse_json, Page};
use crate::{redact_url, Cache};

const ACCEPT: &str = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01";
const ATTEMPTS: u32 = 3;

/// Why a page could not be had.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("`{package}` is not on the index {index}")]
    NotFound { package: String, index: String },
    #[error("fetching {url} failed: {message}")]
    Http { url: String, message: String },
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
}

/// One page to fetch: a package on an index, and the files the plan needs from it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PageRequest {
    pub index_url: String,
    /// The PEP 503 normalised name.
    pub package: String,
    pub needed_files: Vec<String>,
}

/// A Simple API client.
pub struct IndexClient {
    http: reqwest::Client,
    cache: Option<Cache>,
    offline: bool,
    concurrency: usize,
}

impl IndexClient {
    pub fn new(cache: Option<Cache>, offline: bool) -> Result<Self, IndexError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("py2nix/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(15))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| IndexError::Setup(e.to_string()))?;
        Ok(IndexClient {
            http,
            cache,
            offline,
            concurrency: 16,
        })
    }

    /// Fetches every requested page, at most `concurrency` at a time, using the cache where it
    /// holds all the needed files. Results come back in request order.
    pub async fn fetch_pages(&self, requests: &[PageRequest]) -> Vec<Result<Page, IndexError>> {
        let mut results: Vec<(usize, Result<Page, IndexError>)> =
            stream::iter(requests.iter().enumerate())
                .map(|(i, request)| async move { (i, self.fetch_page(request).await) })
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
            .and_then(|c| c.read(&request.index_url, &request.package));
        if let Some(page) = &cached {
            if missing(page, request).is_empty() {
                return Ok(page.clone());
            }
        }
        if self.offline {
            let index = redact_url(&request.index_url);
            return Err(match cached {
                None => IndexError::NotCached {
                    package: request.package.clone(),
                    index,
                },
                Some(page) => IndexError::CachedPageIncomplete {
                    package: request.package.clone(),
                    index,
                    missing: missing(&page, request),
                },
            });
        }
        let page = self.download(request).await?;
        if let Some(cache) = &self.cache {
            // A cache that cannot be written only costs a later run a request.
            let _ = cache.write(&request.index_url, &request.package, &page);
        }
        Ok(page)
    }

    async fn download(&self, request: &PageRequest) -> Result<Page, IndexError> {
        let url = crate::page_url(&request.index_url, &request.package);
        let shown = redact_url(&url);
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.try_download(&url, &shown, request).await {
                Err(IndexError::Http { .. }) if attempt < ATTEMPTS => {
                    tokio::time::sleep(Duration::from_millis(200 * 2u64.pow(attempt))).await;
                }
                other => return other,
            }
        }
    }

    async fn try_download(
        &self,
        url: &str,
        shown: &str,
        request: &PageRequest,
    ) -> Result<Page, IndexError> {
        let http_error = |message: String| IndexError::Http {
            url: shown.to_string(),
            message,
        };
        let response = self
            .http
            .get(url)
            .header(reqwest::header::ACCEPT, ACCEPT)
            .send()
            .await
            .map_err(|e| http_error(redact_url(&without_url(&e))))?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Err(IndexError::NotFound {
                package: request.package.clone(),
                index: redact_url(&request.index_url),
            });
        }
        if !status.is_success() {
            return Err(http_error(format!("HTTP {status}")));
        }
        let final_url = response.url().to_string();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let body = response
            .text()
            .await
            .map_err(|e| http_error(without_url(&e)))?;
        let parsed = if content_type.starts_with("application/vnd.pypi.simple.v1+json") {
            parse_json(&body, &final_url)
        } else {
            parse_html(&body, &final_url)
        };
        parsed.map_err(|message| IndexError::Parse {
            url: shown.to_string(),
            message,
        })
    }
}

/// A reqwest error's message without the URL it carries (which may hold credentials).
fn without_url(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    if let Some(url) = error.url() {
        text = text.replace(url.as_str(), "");
    }
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text.replace(" ()", "").trim().to_string()
}

fn missing(page: &Page, request: &PageRequest) -> Vec<String> {
    request
        .needed_files
        .iter()
        .filter(|f| page.file(f).is_none())
        .cloned()
        .collect()
}
