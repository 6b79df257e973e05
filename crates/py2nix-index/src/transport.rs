//! HTTP plumbing shared by pages, file hashes and metadata: which credentials a URL gets,
//! sending with them, mapping statuses to `IndexError`, and retrying ([`HttpPolicy`]).
//!
//! A URL is always sent without `user:password@` (the credentials go in an `Authorization`
//! header), so no reqwest error or redirect can echo them.
//!
//! What is retried, and for how long:
//! - retried: connections refused or reset, no answer (or a body that stalls) for the timeout,
//!   a body cut short (fewer bytes than its `Content-Length`), HTTP 408, 429, 500, 502, 503
//!   and 504; a `Retry-After` (seconds or an HTTP date) is waited for when it is at most the
//!   longest wait, and a longer one ends the retries at once;
//! - not retried: every other status (401/403 are refused credentials, 404/410 a missing
//!   page or file), too many redirects, a page that is not HTML or PEP 691 JSON;
//! - between attempts py2nix waits the backoff, doubled each time (with jitter), at most the
//!   longest wait; so a request ends after at most `retries + 1` attempts, each bounded by the
//!   timeout (per read);
//! - whatever the reads, one attempt at a request (its answer and its whole body) ends at the
//!   deadline ([`HttpPolicy::deadline`]), and that is final: a server that slow is not asked
//!   again, so a body that drips a byte at a time cannot hold py2nix for ever.
//!
//! The environment sets the numbers: `PY2NIX_HTTP_TIMEOUT` (seconds, default 30),
//! `PY2NIX_HTTP_RETRIES` (default 4), `PY2NIX_HTTP_BACKOFF` (seconds, the first wait, default
//! 0.5), `PY2NIX_HTTP_MAX_WAIT` (seconds, default 60) and `PY2NIX_HTTP_DEADLINE` (seconds,
//! default 600).

use std::future::Future;
use std::time::{Duration, SystemTime};

use url::Url;

use crate::credentials::Auth;
use crate::{redact_url, IndexClient, IndexError};

/// One URL to fetch, the credentials it gets, and what to say when access is refused.
#[derive(Clone)]
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
        let mut request = self.http()?.get(&endpoint.url);
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
            .map_err(|e| self.transport_error(endpoint, &e))
    }

    /// A reqwest error as an `IndexError`: retried unless it is about redirects or the URL.
    pub(crate) fn transport_error(
        &self,
        endpoint: &Endpoint,
        error: &reqwest::Error,
    ) -> IndexError {
        if error.is_redirect() {
            return IndexError::Http {
                url: endpoint.url.clone(),
                message: format!(
                    "more than {} redirects (a redirect loop?): {}",
                    self.policy.max_redirects,
                    without_url(error)
                ),
            };
        }
        if error.is_builder() {
            return IndexError::Http {
                url: endpoint.url.clone(),
                message: without_url(error),
            };
        }
        if error.is_timeout() {
            return transient(
                endpoint,
                format!(
                    "no answer for {} (PY2NIX_HTTP_TIMEOUT)",
                    seconds(self.policy.timeout)
                ),
            );
        }
        if error.is_body() || error.is_decode() {
            return transient(
                endpoint,
                format!("the response broke off: {}", without_url(error)),
            );
        }
        transient(endpoint, without_url(error))
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

    /// One attempt at a request, ended at the policy's deadline (a final [`IndexError::Http`]
    /// naming it): however slowly the bytes trickle in, a request ends in bounded time.
    pub(crate) async fn within_deadline<T>(
        &self,
        endpoint: &Endpoint,
        attempt: impl Future<Output = Result<T, IndexError>>,
    ) -> Result<T, IndexError> {
        let deadline = self.policy.deadline;
        match tokio::time::timeout(deadline, attempt).await {
            Ok(result) => result,
            Err(_) => Err(IndexError::Http {
                url: endpoint.url.clone(),
                message: format!(
                    "it did not arrive whole within {} (PY2NIX_HTTP_DEADLINE); not retried",
                    seconds(deadline)
                ),
            }),
        }
    }

    /// Runs `attempt` until it succeeds, fails for good, or has failed transiently
    /// `retries + 1` times, waiting between attempts as the policy says. A transient error
    /// never leaves this function: the last one becomes [`IndexError::Http`], saying how many
    /// attempts were made.
    pub(crate) async fn retrying<T, F, Fut>(&self, mut attempt: F) -> Result<T, IndexError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, IndexError>>,
    {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let (url, message, retry_after) = match attempt().await {
                Err(IndexError::Transient {
                    url,
                    message,
                    retry_after,
                }) => (url, message, retry_after),
                other => return other,
            };
            let counted = if attempts == 1 {
                "1 attempt".to_string()
            } else {
                format!("{attempts} attempts")
            };
            if attempts > self.policy.retries {
                return Err(IndexError::Http {
                    url,
                    message: format!("{message} (gave up after {counted})"),
                });
            }
            let wait = match retry_after {
                Some(after) if after > self.policy.max_wait => {
                    return Err(IndexError::Http {
                        url,
                        message: format!(
                            "{message}, and the index asks to retry after {}, longer than py2nix waits ({}, PY2NIX_HTTP_MAX_WAIT; gave up after {counted})",
                            seconds(after),
                            seconds(self.policy.max_wait)
                        ),
                    });
                }
                Some(after) => after,
                None => self.policy.backoff_before(attempts),
            };
            tokio::time::sleep(wait).await;
        }
    }
}

/// How py2nix talks HTTP: timeouts, retries, waits and redirects (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HttpPolicy {
    /// Connecting, and the longest silence while waiting for an answer or its next bytes.
    pub timeout: Duration,
    /// Attempts after the first one, for transient failures.
    pub retries: u32,
    /// The wait before the first retry; doubled for each further one.
    pub backoff: Duration,
    /// The longest wait before a retry, from the backoff or from `Retry-After`.
    pub max_wait: Duration,
    pub max_redirects: usize,
    /// The longest one attempt at a request may take, answer and body together.
    pub deadline: Duration,
}

impl Default for HttpPolicy {
    fn default() -> Self {
        HttpPolicy {
            timeout: Duration::from_secs(30),
            retries: 4,
            backoff: Duration::from_millis(500),
            max_wait: Duration::from_secs(60),
            max_redirects: 10,
            deadline: Duration::from_secs(600),
        }
    }
}

impl HttpPolicy {
    /// The defaults with `PY2NIX_HTTP_TIMEOUT`, `PY2NIX_HTTP_RETRIES`, `PY2NIX_HTTP_BACKOFF`
    /// and `PY2NIX_HTTP_MAX_WAIT` from the process environment.
    pub(crate) fn from_env() -> Result<Self, IndexError> {
        Self::from_lookup(|name| std::env::var(name).ok()).map_err(IndexError::Setup)
    }

    pub(crate) fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let mut policy = HttpPolicy::default();
        let secs = |name: &str, positive: bool| -> Result<Option<Duration>, String> {
            let Some(text) = get(name) else {
                return Ok(None);
            };
            match text.trim().parse::<f64>() {
                Ok(value) if (0.0..=86_400.0).contains(&value) && (!positive || value > 0.0) => {
                    Ok(Some(Duration::from_secs_f64(value)))
                }
                _ => Err(format!(
                    "{name} must be a number of seconds{}, not `{text}`",
                    if positive { " above 0" } else { "" }
                )),
            }
        };
        if let Some(timeout) = secs("PY2NIX_HTTP_TIMEOUT", true)? {
            policy.timeout = timeout;
        }
        if let Some(backoff) = secs("PY2NIX_HTTP_BACKOFF", false)? {
            policy.backoff = backoff;
        }
        if let Some(max_wait) = secs("PY2NIX_HTTP_MAX_WAIT", false)? {
            policy.max_wait = max_wait;
        }
        if let Some(deadline) = secs("PY2NIX_HTTP_DEADLINE", true)? {
            policy.deadline = deadline;
        }
        if let Some(text) = get("PY2NIX_HTTP_RETRIES") {
            policy.retries = text
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|&n| n <= 100)
                .ok_or_else(|| {
                    format!(
                        "PY2NIX_HTTP_RETRIES must be a whole number from 0 to 100, not `{text}`"
                    )
                })?;
        }
        Ok(policy)
    }

    /// The wait before retry number `retry` (1 for the first): the backoff doubled each time,
    /// at most the longest wait, then scaled by a random 50–100% so that many requests that
    /// failed together do not come back together.
    fn backoff_before(&self, retry: u32) -> Duration {
        let doubled = self
            .backoff
            .saturating_mul(2u32.saturating_pow(retry.saturating_sub(1).min(30)));
        let capped = doubled.min(self.max_wait);
        capped.mul_f64(0.5 + 0.5 * jitter())
    }

    /// The reqwest client this policy calls for.
    pub(crate) fn client(&self) -> Result<reqwest::Client, String> {
        reqwest::Client::builder()
            .user_agent(concat!("py2nix/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(self.timeout)
            .read_timeout(self.timeout)
            .redirect(reqwest::redirect::Policy::limited(self.max_redirects))
            .build()
            .map_err(|e| e.to_string())
    }
}

/// A number in [0, 1) that differs between calls and processes.
fn jitter() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or_default(),
    );
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// A duration for messages: `0.5 s`, `30 s`.
pub(crate) fn seconds(duration: Duration) -> String {
    let secs = duration.as_secs_f64();
    if secs.fract() == 0.0 {
        format!("{secs:.0} s")
    } else {
        format!("{} s", (secs * 1000.0).round() / 1000.0)
    }
}

/// A failure worth another attempt.
pub(crate) fn transient(endpoint: &Endpoint, message: String) -> IndexError {
    IndexError::Transient {
        url: endpoint.url.clone(),
        message,
        retry_after: None,
    }
}

/// `Retry-After`: delay-seconds, or an HTTP date (as the time from now, zero if past).
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = parse_http_date(value)?;
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the form RFC 9110 requires senders to use.
fn parse_http_date(text: &str) -> Option<SystemTime> {
    let rest = text.split_once(", ")?.1;
    let fields: Vec<&str> = rest.split(' ').collect();
    let [day, month, year, time, "GMT"] = fields.as_slice() else {
        return None;
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| m == month)? as i64 + 1;
    let day: i64 = day.parse().ok()?;
    let year: i64 = year.parse().ok()?;
    let hms: Vec<i64> = time
        .split(':')
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    let [h, m, s] = hms.as_slice() else {
        return None;
    };
    if !(1..=31).contains(&day) || !(1970..=9999).contains(&year) || *h > 23 || *m > 59 || *s > 60 {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + h * 3600 + m * 60 + s;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).ok()?))
}

/// 401/403 are `Unauthorized`, 404/410 `Missing`, 408/429/500/502/503/504 `Transient`
/// (retried, with the index's `Retry-After`), any other failure `Http` (final).
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
        408 | 429 | 500 | 502 | 503 | 504 => Err(IndexError::Transient {
            url: endpoint.url.clone(),
            message: format!("HTTP {status}"),
            retry_after: retry_after(response.headers()),
        }),
        _ => Err(IndexError::Http {
            url: endpoint.url.clone(),
            message: format!("HTTP {status}"),
        }),
    }
}

/// The next body chunk; a failure (a stall past the timeout, a body shorter than its
/// `Content-Length`, a reset) is transient, and so retried.
pub(crate) async fn next_chunk(
    endpoint: &Endpoint,
    response: &mut reqwest::Response,
) -> Result<Option<Vec<u8>>, IndexError> {
    match response.chunk().await {
        Ok(chunk) => Ok(chunk.map(|bytes| bytes.to_vec())),
        Err(e) if e.is_timeout() => Err(transient(
            endpoint,
            "the response stalled past the timeout (PY2NIX_HTTP_TIMEOUT)".to_string(),
        )),
        Err(e) => Err(transient(
            endpoint,
            format!("the response broke off: {}", without_url(&e)),
        )),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(vars: &[(&str, &str)]) -> Result<HttpPolicy, String> {
        HttpPolicy::from_lookup(|name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn the_policy_comes_from_the_environment() {
        assert_eq!(policy(&[]).unwrap(), HttpPolicy::default());
        let set = policy(&[
            ("PY2NIX_HTTP_TIMEOUT", "0.25"),
            ("PY2NIX_HTTP_RETRIES", "0"),
            ("PY2NIX_HTTP_BACKOFF", "0"),
            ("PY2NIX_HTTP_MAX_WAIT", " 5 "),
            ("PY2NIX_HTTP_DEADLINE", "2.5"),
        ])
        .unwrap();
        assert_eq!(set.timeout, Duration::from_millis(250));
        assert_eq!(set.retries, 0);
        assert_eq!(set.backoff, Duration::ZERO);
        assert_eq!(set.max_wait, Duration::from_secs(5));
        assert_eq!(set.deadline, Duration::from_millis(2500));
        for (name, value) in [
            ("PY2NIX_HTTP_TIMEOUT", "0"),
            ("PY2NIX_HTTP_TIMEOUT", "-1"),
            ("PY2NIX_HTTP_TIMEOUT", "NaN"),
            ("PY2NIX_HTTP_TIMEOUT", "1e9"),
            ("PY2NIX_HTTP_MAX_WAIT", "soon"),
            ("PY2NIX_HTTP_DEADLINE", "0"),
            ("PY2NIX_HTTP_RETRIES", "1.5"),
            ("PY2NIX_HTTP_RETRIES", "1000"),
        ] {
            let error = policy(&[(name, value)]).unwrap_err();
            assert!(
                error.starts_with(name) && error.ends_with(&format!("`{value}`")),
                "{error}"
            );
        }
    }

    #[test]
    fn backoff_doubles_up_to_the_longest_wait() {
        let policy = HttpPolicy {
            backoff: Duration::from_secs(1),
            max_wait: Duration::from_secs(5),
            ..HttpPolicy::default()
        };
        for (retry, full) in [(1, 1), (2, 2), (3, 4), (4, 5), (40, 5)] {
            let wait = policy.backoff_before(retry);
            let full = Duration::from_secs(full);
            assert!(wait <= full && wait >= full / 2, "retry {retry}: {wait:?}");
        }
    }

    #[test]
    fn retry_after_in_seconds_and_as_a_date() {
        let headers = |value: &str| {
            let mut map = reqwest::header::HeaderMap::new();
            map.insert(reqwest::header::RETRY_AFTER, value.parse().unwrap());
            map
        };
        assert_eq!(retry_after(&headers("120")), Some(Duration::from_secs(120)));
        assert_eq!(
            retry_after(&headers("Sun, 06 Nov 1994 08:49:37 GMT")),
            Some(Duration::ZERO),
            "a date in the past means now"
        );
        let future = retry_after(&headers("Fri, 31 Dec 9999 23:59:59 GMT")).unwrap();
        assert!(future > Duration::from_secs(86_400 * 365 * 7000));
        assert_eq!(retry_after(&headers("soon")), None);
        assert_eq!(retry_after(&reqwest::header::HeaderMap::new()), None);
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777))
        );
        assert_eq!(
            parse_http_date("Thu, 29 Feb 2024 00:00:00 GMT"),
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_709_164_800))
        );
        assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), None);
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(seconds(Duration::from_secs(30)), "30 s");
        assert_eq!(seconds(Duration::from_millis(500)), "0.5 s");
        assert_eq!(seconds(Duration::from_millis(2500)), "2.5 s");
    }
}
