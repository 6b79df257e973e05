//! HTTP plumbing shared by pages, file hashes and metadata: which credentials a URL gets,
//! sending with them, mapping statuses to `IndexError`, and retrying.
//!
//! A URL is always sent without `user:password@` (the credentials go in an `Authorization`
//! header), so no reqwest error or redirect can echo them.

use std::future::Future;
use std::time::Duration;

use url::Url;

use crate::credentials::Auth;
use crate::{redact_url, IndexClient, IndexError};

const ATTEMPTS: u32 = 3;

/// One URL to fetch, the credentials it gets, and what to say when access is refused.
pub(crate) struct Endpoint {
    /// Without credentials; safe to show.
    pub url: String,
    pub auth: Option<Auth>,
    /// The index's name, or its redacted URL when it has none.
    pub index: String,
    pub hint: String,
}

impl IndexClient {
    /// A project page (or any URL) of index `name` at `index_url`, with the index's credentials.
    pub(crate) fn index_endpoint(&self, url: &str, name: &str, index_url: &str) -> Endpoint {
        Endpoint {
            url: redact_url(url),
            auth: from_url(url).or_else(|| self.credentials.for_index(name, index_url)),
            index: index_label(name, index_url),
            hint: self.credentials.hint(name, index_url),
        }
    }

    /// A file of index `name`: credentials in the file URL itself, else the index's on the
    /// index's host, else a netrc entry for the file's host.
    pub(crate) fn file_endpoint(&self, url: &str, name: &str, index_url: &str) -> Endpoint {
        let auth = from_url(url).or_else(|| self.credentials.for_file(url, name, index_url));
        let hint = if same_origin(url, index_url) {
            self.credentials.hint(name, index_url)
        } else {
            self.credentials.hint("", url)
        };
        Endpoint {
            url: redact_url(url),
            auth,
            index: index_label(name, index_url),
            hint,
        }
    }

    /// Sends one GET, with `range` as the `Range` header if given; transport errors only.
    pub(crate) async fn send(
        &self,
        endpoint: &Endpoint,
        accept: Option<&str>,
        range: Option<&str>,
    ) -> Result<reqwest::Response, IndexError> {
        let mut request = self.http.get(&endpoint.url);
        if let Some(auth) = &endpoint.auth {
            request = request.basic_auth(&auth.username, auth.password.as_ref());
        }
        if let Some(accept) = accept {
            request = request.header(reqwest::header::ACCEPT, accept);
        }
        if let Some(range) = range {
            request = request
                .header(reqwest::header::RANGE, range)
                .header(reqwest::header::ACCEPT_ENCODING, "identity");
        }
        request
            .send()
            .await
            .map_err(|e| http_error(endpoint, &without_url(&e)))
    }

    /// Sends one GET and turns an unsuccessful status into an error.
    pub(crate) async fn get(
        &self,
        endpoint: &Endpoint,
        accept: Option<&str>,
    ) -> Result<reqwest::Response, IndexError> {
        let response = self.send(endpoint, accept, None).await?;
        check_status(endpoint, response)
    }

    /// Runs `attempt` up to three times while it fails with a transient error.
    pub(crate) async fn retrying<T, F, Fut>(&self, mut attempt: F) -> Result<T, IndexError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, IndexError>>,
    {
        let mut tries = 0;
        loop {
            tries += 1;
            match attempt().await {
                Err(error) if error.is_transient() && tries < ATTEMPTS => {
                    tokio::time::sleep(Duration::from_millis(200 * 2u64.pow(tries))).await;
                }
                other => return other,
            }
        }
    }
}

/// 401/403 are `Unauthorized`, 404/410 `Missing`, other failures `Http` (retried).
pub(crate) fn check_status(
    endpoint: &Endpoint,
    response: reqwest::Response,
) -> Result<reqwest::Response, IndexError> {
    let status = response.status();
    match status.as_u16() {
        200..=299 => Ok(response),
        401 | 403 => Err(IndexError::Unauthorized {
            url: endpoint.url.clone(),
            index: endpoint.index.clone(),
            hint: format!("HTTP {status}: {}", endpoint.hint),
        }),
        404 | 410 => Err(IndexError::Missing {
            url: endpoint.url.clone(),
            status: status.as_u16(),
        }),
        _ => Err(http_error(endpoint, &format!("HTTP {status}"))),
    }
}

pub(crate) fn http_error(endpoint: &Endpoint, message: &str) -> IndexError {
    IndexError::Http {
        url: endpoint.url.clone(),
        message: message.to_string(),
    }
}

/// The next body chunk; a failure is an `Http` error (and so retried).
pub(crate) async fn next_chunk(
    endpoint: &Endpoint,
    response: &mut reqwest::Response,
) -> Result<Option<Vec<u8>>, IndexError> {
    match response.chunk().await {
        Ok(chunk) => Ok(chunk.map(|bytes| bytes.to_vec())),
        Err(e) => Err(http_error(endpoint, &without_url(&e))),
    }
}

/// The index's name, else its URL, else `none` (a direct URL).
fn index_label(name: &str, index_url: &str) -> String {
    match (name, index_url) {
        ("", "") => "none".to_string(),
        ("", url) => redact_url(url),
        (name, _) => format!("`{name}`"),
    }
}

/// Credentials written in the URL itself.
fn from_url(url: &str) -> Option<Auth> {
    crate::credentials::resolve("", url, &|_| None, None)
}

fn same_origin(a: &str, b: &str) -> bool {
    match (Url::parse(a), Url::parse(b)) {
        (Ok(a), Ok(b)) => crate::credentials::same_origin(&a, &b),
        _ => false,
    }
}

/// A reqwest error's message without the URL it carries, and with its causes.
pub(crate) fn without_url(error: &reqwest::Error) -> String {
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
    redact_url(text.replace(" ()", "").trim())
}
