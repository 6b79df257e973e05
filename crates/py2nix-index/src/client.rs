//! Fetching project pages: concurrent requests, content negotiation, retries, the cache.

use std::future::Future;

use futures::stream::{self, StreamExt};

use crate::cache::PageEntry;
use crate::filename::matches_version;
use crate::page::{check_page_filename, parse_json, DroppedLinks, HtmlStream, Page, PageFile};
use crate::transport::{next_chunk, HttpPolicy};
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
    /// Built on first use: a run answered from the cache never loads the TLS roots.
    http: std::sync::OnceLock<Result<reqwest::Client, String>>,
    pub(crate) cache: Option<Cache>,
    pub(crate) offline: bool,
    pub(crate) credentials: Credentials,
    pub(crate) policy: HttpPolicy,
    concurrency: usize,
    /// Per origin: open once the first page request there has its answer (see `get_primed`).
    primed: std::sync::Mutex<std::collections::HashMap<String, Gate>>,
    /// The most bytes of a download whose size the lock does not give.
    pub(crate) max_download: u64,
    /// The lock's file sizes, by sha256 (lower-case hex): each file's download limit.
    pub(crate) known_sizes: std::collections::HashMap<String, u64>,
    /// Links dropped from pages for unsafe file names, until [`IndexClient::take_page_warnings`].
    dropped: DroppedLinks,
}

type Gate = std::sync::Arc<tokio::sync::OnceCell<()>>;

impl IndexClient {
    /// A client with credentials from the process environment and netrc file
    /// ([`Credentials::from_environment`]), and timeouts and retries from the environment
    /// (`PY2NIX_HTTP_TIMEOUT`, `PY2NIX_HTTP_RETRIES`, `PY2NIX_HTTP_BACKOFF`,
    /// `PY2NIX_HTTP_MAX_WAIT`, see `transport`; a value that is not a number is an
    /// [`IndexError::Setup`]).
    pub fn new(cache: Option<Cache>, offline: bool) -> Result<Self, IndexError> {
        Ok(IndexClient {
            http: std::sync::OnceLock::new(),
            cache,
            offline,
            credentials: Credentials::from_environment(),
            policy: HttpPolicy::from_env()?,
            concurrency: 16,
            primed: Default::default(),
            max_download: crate::DEFAULT_MAX_DOWNLOAD,
            known_sizes: Default::default(),
            dropped: DroppedLinks::default(),
        })
    }

    /// One warning per index page read since the last call that listed links whose file
    /// names are not safe file names (`/`, `..`, control characters): such links are dropped
    /// when the page is read ([`check_page_filename`]), never cached or planned.
    pub fn take_page_warnings(&self) -> Vec<String> {
        self.dropped.take_warnings()
    }

    /// The HTTP client, built (and the TLS roots loaded) the first time a request is sent.
    pub(crate) fn http(&self) -> Result<&reqwest::Client, IndexError> {
        self.http
            .get_or_init(|| self.policy.client())
            .as_ref()
            .map_err(|e| IndexError::Setup(e.clone()))
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
        self.fetch_pages_counted(requests, &|| {}).await
    }

    /// [`fetch_pages`](Self::fetch_pages), calling `done` as each page arrives (for progress).
    pub async fn fetch_pages_counted(
        &self,
        requests: &[PageRequest],
        done: &(dyn Fn() + Sync),
    ) -> Vec<Result<Page, IndexError>> {
        // The cache answers first, in a plain loop: a warm run needs no futures at all.
        let mut results: Vec<Option<Result<Page, IndexError>>> = Vec::new();
        let mut misses: Vec<(usize, Option<PageEntry>)> = Vec::new();
        for (i, (request, cached)) in requests.iter().zip(self.read_cached(requests)).enumerate() {
            match cached {
                Some(entry) if missing(&entry, request).is_empty() => {
                    results.push(Some(Ok(select(entry.files, request))));
                    done();
                }
                cached => {
                    results.push(None);
                    misses.push((i, cached));
                }
            }
        }
        if !misses.is_empty() {
            let fetched = self
                .all(&misses, |(i, cached)| async move {
                    let result = self.fetch_page(&requests[*i], cached.clone()).await;
                    done();
                    result
                })
                .await;
            for ((i, _), result) in misses.iter().zip(fetched) {
                results[*i] = Some(result);
            }
        }
        results.into_iter().flatten().collect()
    }

    /// The cached entry of every request's page (`None`: not cached, or no cache).
    fn read_cached(&self, requests: &[PageRequest]) -> Vec<Option<PageEntry>> {
        let Some(cache) = &self.cache else {
            return vec![None; requests.len()];
        };
        requests
            .iter()
            .map(|request| cache.read_entry(&request.index_url, &request.package))
            .collect()
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

    /// A page the cache (whose entry for it is `cached`) cannot answer alone: an error under
    /// `--offline`, else fetched from the index, kept in the cache with what it held already.
    async fn fetch_page(
        &self,
        request: &PageRequest,
        cached: Option<PageEntry>,
    ) -> Result<Page, IndexError> {
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
        let cached = cached.unwrap_or_default();
        let (names, versions) = kept(&cached, request);
        let page = self
            .download_kept(request, &|name| {
                wanted(name, &names, &versions, &request.package)
            })
            .await?;
        let entry = merge(cached, &page, request);
        if let Some(cache) = &self.cache {
            // A cache that cannot be written only costs a later run a request.
            let _ = cache.write_entry(&request.index_url, &request.package, &entry);
        }
        Ok(select(page.files, request))
    }

    /// The whole page.
    async fn download(&self, request: &PageRequest) -> Result<Page, IndexError> {
        self.download_kept(request, &|_| true).await
    }

    /// [`IndexClient::get`], but the first request to an origin goes alone: the others wait
    /// until it has its answer, and then share the connection it opened (HTTP/2 multiplexes
    /// them, HTTP/1.1 keeps it alive) instead of each racing a DNS lookup and a TLS handshake
    /// of its own. Sixteen lookups at once also invite a lost reply, which costs the resolver's
    /// five-second timeout.
    async fn get_primed(
        &self,
        endpoint: &crate::transport::Endpoint,
        accept: Option<&str>,
    ) -> Result<reqwest::Response, IndexError> {
        let origin = url::Url::parse(&endpoint.url)
            .map(|url| url.origin().ascii_serialization())
            .unwrap_or_default();
        let gate = self
            .primed
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .entry(origin)
            .or_default()
            .clone();
        let mut first = None;
        gate.get_or_init(|| async {
            first = Some(self.get(endpoint, accept).await);
        })
        .await;
        match first {
            Some(result) => result,
            None => self.get(endpoint, accept).await,
        }
    }

    /// The page's files whose names `keep` accepts. An HTML page is parsed as it arrives
    /// ([`HtmlStream`]), so neither a large body nor its other files are ever held.
    async fn download_kept(
        &self,
        request: &PageRequest,
        keep: &(dyn Fn(&str) -> bool + Sync),
    ) -> Result<Page, IndexError> {
        let url = crate::page_url(&request.index_url, &request.package);
        let endpoint = self.index_endpoint(&url, &request.index_name, &request.index_url);
        let parse_error = |message| IndexError::Parse {
            url: endpoint.url.clone(),
            message,
        };
        // A file name is checked when the page is read, before anything keeps or caches it.
        let shown_url = redact_url(&url);
        let checked = |name: &str| match check_page_filename(name, &request.package) {
            Ok(admitted) => admitted && keep(name),
            Err(reason) => {
                self.dropped.record(&shown_url, reason);
                false
            }
        };
        let keep = &checked;
        let result = self
            .retrying(|| {
                self.within_deadline(&endpoint, async {
                    let mut response = self.get_primed(&endpoint, Some(ACCEPT)).await?;
                    let final_url = response.url().to_string();
                    let json = match page_kind(&response) {
                        Ok(kind) => kind == PageKind::Json,
                        Err(content_type) => return Err(parse_error(format!(
                            "it is served as `{content_type}`, not as a Simple API page (text/html or application/vnd.pypi.simple.v1+json)"
                        ))),
                    };
                    let limit = self.page_limit();
                    if json {
                        let body = crate::metadata::read_all(&endpoint, response, &limit).await?;
                        let body = String::from_utf8_lossy(&body);
                        let mut page = parse_json(&body, &final_url).map_err(parse_error)?;
                        page.files.retain(|file| keep(&file.filename));
                        return Ok(page);
                    }
                    let mut stream = HtmlStream::new(&final_url).map_err(parse_error)?;
                    let mut files = Vec::new();
                    let mut push = |file: PageFile| files.push(file);
                    let mut read = 0u64;
                    while let Some(chunk) = next_chunk(&endpoint, &mut response).await? {
                        read = read.saturating_add(chunk.len() as u64);
                        limit.check(&endpoint, read)?;
                        stream.feed_kept(&chunk, keep, &mut push).map_err(parse_error)?;
                    }
                    stream.finish_kept(keep, &mut push).map_err(parse_error)?;
                    Ok(Page { files })
                })
            })
            .await;
        match result {
            Err(IndexError::Missing { .. }) => Err(IndexError::NotFound {
                package: request.package.clone(),
                index: redact_url(&request.index_url),
            }),
            other => other,
        }
    }
}

/// The cache directory of whole project pages ([`IndexClient::fetch_full_page`]).
const FULL_PAGE_FORMAT: &str = "simple-full-v1";

#[derive(serde::Serialize, serde::Deserialize)]
struct FullPageEntry {
    index_url: String,
    package: String,
    page: Page,
}

impl IndexClient {
    /// A project's whole page (every file of every version), from the cache or the index;
    /// for choosing a version rather than finding a locked file. A cached page is used as long
    /// as it is there (delete the cache to see newer releases).
    pub async fn fetch_full_page(
        &self,
        index_url: &str,
        index_name: &str,
        package: &str,
    ) -> Result<Page, IndexError> {
        let key = format!("{}\n{package}", redact_url(index_url));
        let cached = self.cache.as_ref().and_then(|cache| {
            cache
                .read_keyed::<FullPageEntry>(FULL_PAGE_FORMAT, &key)
                .filter(|entry| {
                    entry.package == package && entry.index_url == redact_url(index_url)
                })
        });
        if let Some(entry) = cached {
            return Ok(entry.page);
        }
        if self.offline {
            return Err(IndexError::NotCached {
                package: package.to_string(),
                index: redact_url(index_url),
            });
        }
        let request = PageRequest {
            index_name: index_name.to_string(),
            index_url: index_url.to_string(),
            package: package.to_string(),
            needed_files: Vec::new(),
            needed_versions: Vec::new(),
        };
        let page = self.download(&request).await?;
        if let Some(cache) = &self.cache {
            let entry = FullPageEntry {
                index_url: redact_url(index_url),
                package: package.to_string(),
                page: page.clone(),
            };
            let _ = cache.write_keyed(FULL_PAGE_FORMAT, &key, &entry);
        }
        Ok(page)
    }
}

/// How a project page is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PageKind {
    Html,
    Json,
}

/// The page's form by its `Content-Type`; the type itself when it is neither PEP 691 JSON nor
/// HTML (an error page, a proxy's login form as `text/plain`, a file): such an answer is no
/// page, and reading it as one would make a page without files. A missing type is read as
/// HTML, as pip does.
fn page_kind(response: &reqwest::Response) -> Result<PageKind, String> {
    let Some(value) = response.headers().get(reqwest::header::CONTENT_TYPE) else {
        return Ok(PageKind::Html);
    };
    let text = String::from_utf8_lossy(value.as_bytes()).into_owned();
    let media = text
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match media.as_str() {
        "application/vnd.pypi.simple.v1+json" | "application/vnd.pypi.simple.latest+json" => {
            Ok(PageKind::Json)
        }
        "text/html"
        | "application/vnd.pypi.simple.v1+html"
        | "application/vnd.pypi.simple.latest+html"
        | "application/xhtml+xml" => Ok(PageKind::Html),
        _ => Err(text.chars().filter(|c| !c.is_control()).take(100).collect()),
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

fn wanted(filename: &str, files: &[String], versions: &[String], package: &str) -> bool {
    files.iter().any(|f| f == filename) || matches_version(filename, package, versions)
}

/// The files of `files` that `request` asks for, in page order.
fn select(mut files: Vec<PageFile>, request: &PageRequest) -> Page {
    files.retain(|f| {
        wanted(
            &f.filename,
            &request.needed_files,
            &request.needed_versions,
            &request.package,
        )
    });
    Page { files }
}

/// The new cache entry: from the fresh `page`, what this request and earlier ones kept.
fn merge(old: PageEntry, page: &Page, request: &PageRequest) -> PageEntry {
    let (names, mut versions) = kept(&old, request);
    // A requested version is remembered as complete only when the page had files of it: a
    // page without them (an index that answered with something else, a page cut short) must
    // not make later runs believe the version has no files without asking again.
    versions.retain(|v| {
        old.versions.iter().any(|o| same_version(o, v))
            || page
                .files
                .iter()
                .any(|f| matches_version(&f.filename, &request.package, std::slice::from_ref(v)))
    });
    let files = page
        .files
        .iter()
        .filter(|f| wanted(&f.filename, &names, &versions, &request.package))
        .cloned()
        .collect();
    PageEntry {
        files,
        versions,
        read_from: old.read_from,
    }
}

/// The file names and versions the new cache entry keeps: the old entry's and the request's.
fn kept(old: &PageEntry, request: &PageRequest) -> (Vec<String>, Vec<String>) {
    let mut versions = old.versions.clone();
    for version in &request.needed_versions {
        if !versions.iter().any(|v| same_version(v, version)) {
            versions.push(version.clone());
        }
    }
    let mut names: Vec<String> = old.files.iter().map(|f| f.filename.clone()).collect();
    names.extend(request.needed_files.iter().cloned());
    (names, versions)
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
            names(&select(page.files.clone(), &first).files),
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
            names(&select(entry.files.clone(), &second).files),
            ["x-2.0.tar.gz"]
        );
    }
}
