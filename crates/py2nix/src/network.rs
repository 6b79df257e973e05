//! The index client and its async runtime behind blocking calls: project pages, files'
//! hashes, core metadata. Errors are classified here: an index that does not know a package
//! or a cache that lacks an answer under `--offline` is the input's fault (exit 1); a network
//! failure is not (exit 2).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{anyhow, Context};
use py2nix_index::{
    Credentials, DirectoryStep, FetchedMetadata, FileRequest, IndexClient, IndexError,
    MemberStream, MetadataRequest, PageRequest, RangedZip, ZipDirectory, ZipRequest,
};
use py2nix_lock::{Lock, PackageSource};

use crate::report::{Classify, Failure, Reporter};
use crate::sources::Pages;

pub struct Network {
    client: IndexClient,
    runtime: tokio::runtime::Runtime,
}

impl Network {
    pub(crate) fn new(
        cache: Option<py2nix_index::Cache>,
        offline: bool,
        credentials: Credentials,
    ) -> Result<Self, Failure> {
        let client = IndexClient::new(cache, offline)
            .unexpected()?
            .with_credentials(credentials);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .context("failed to start the async runtime")
            .unexpected()?;
        Ok(Network { client, runtime })
    }

    /// Downloads bounded by the lock's file sizes (by sha256), else by `max_download` bytes.
    pub(crate) fn with_download_limits(mut self, max_download: u64, lock: &Lock) -> Self {
        let sizes = lock
            .packages
            .iter()
            .flat_map(|package| &package.files)
            .filter_map(|file| {
                let hash = file.hash.as_ref().filter(|h| h.algorithm == "sha256")?;
                Some((hash.hex.to_ascii_lowercase(), file.size?))
            })
            .collect();
        self.client = self
            .client
            .with_max_download(max_download)
            .with_known_sizes(sizes);
        self
    }

    /// The most bytes of a download (or local archive) whose size the lock does not give.
    pub fn max_download(&self) -> u64 {
        self.client.max_download()
    }

    /// Where credentials come from (the same as the client's).
    pub fn credentials(&self) -> &Credentials {
        self.client.credentials()
    }

    pub fn fetch_pages(
        &self,
        requests: Vec<PageRequest>,
        reporter: &Reporter,
    ) -> Result<Pages, Failure> {
        let total = requests.len();
        let pages = self.fetch_pages_of(requests, total, reporter);
        self.warn_dropped_links(reporter);
        pages
    }

    /// Warns, once per page, of the links the pages read so far dropped because their file
    /// names are not safe file names (`py2nix_index::check_page_filename`).
    pub fn warn_dropped_links(&self, reporter: &Reporter) {
        for warning in self.client.take_page_warnings() {
            reporter.warn(&warning);
        }
    }

    /// [`Network::fetch_pages`] for part of a lookup whose other part runs elsewhere at the
    /// same time, unreported: messages name `total` pages.
    pub fn fetch_pages_of(
        &self,
        requests: Vec<PageRequest>,
        total: usize,
        reporter: &Reporter,
    ) -> Result<Pages, Failure> {
        if requests.is_empty() {
            return Ok(Pages::new());
        }
        reporter.explain(&format!("looking up {total} project pages"));
        reporter.start_count(requests.len() as u64, "looking up project pages");
        let advance = || reporter.advance();
        let results = self
            .runtime
            .block_on(self.client.fetch_pages_counted(&requests, &advance));
        reporter.finish_progress();
        reporter.done_line(&format!("looked up {total} project pages"));
        let mut pages = Pages::new();
        let mut errors = Errors::default();
        // A requirements file's package may be on only one of several indexes (pip asks them
        // all): a failure on one index is no error as long as another has the page.
        let mut found_somewhere: BTreeMap<String, bool> = BTreeMap::new();
        let mut failed = Vec::new();
        for (request, result) in requests.into_iter().zip(results) {
            let found = found_somewhere.entry(request.package.clone()).or_default();
            match result {
                Ok(page) => {
                    *found = true;
                    pages.insert((request.index_url, request.package), page);
                }
                Err(error) => failed.push((request.package, error)),
            }
        }
        for (package, error) in failed {
            if found_somewhere.get(&package).copied().unwrap_or(false) {
                reporter.explain(&format!("{error} (another index has `{package}`)"));
            } else {
                errors.push(error);
            }
        }
        errors.finish()?;
        Ok(pages)
    }

    /// The sha256 (hex) of each direct-URL file the planned packages need and the lock gives
    /// no usable hash for, by URL.
    pub fn url_hashes(
        &self,
        lock: &Lock,
        resolutions: &[py2nix_plan::TargetResolution],
        reporter: &Reporter,
    ) -> Result<BTreeMap<String, String>, Failure> {
        let mut urls = std::collections::BTreeSet::new();
        for resolution in resolutions {
            for (name, chosen) in &resolution.files {
                let package = &lock.packages[resolution.closure.packages[name].lock_index];
                let (PackageSource::Url { url, .. }, py2nix_plan::Chosen::File { index, .. }) =
                    (&package.source, chosen)
                else {
                    continue;
                };
                let usable = package.files[*index]
                    .hash
                    .as_ref()
                    .is_some_and(|h| matches!(h.algorithm.as_str(), "sha256" | "sha512"));
                if !usable {
                    urls.insert(url.clone());
                }
            }
        }
        if urls.is_empty() {
            return Ok(BTreeMap::new());
        }
        reporter.explain(&format!(
            "hashing {} direct-URL files the lock gives no hash for",
            urls.len()
        ));
        let requests: Vec<FileRequest> = urls
            .iter()
            .map(|url| FileRequest {
                url: url.clone(),
                index_name: String::new(),
                index_url: String::new(),
            })
            .collect();
        let results = self
            .runtime
            .block_on(self.client.file_sha256_all(&requests));
        let mut out = BTreeMap::new();
        let mut errors = Errors::default();
        for (url, result) in urls.into_iter().zip(results) {
            match result {
                Ok(digest) => {
                    out.insert(url, digest.sha256_hex);
                }
                Err(error) => errors.push(error),
            }
        }
        errors.finish()?;
        Ok(out)
    }

    /// Core metadata for each request, in order; a failure is returned per request.
    pub fn core_metadata(
        &self,
        requests: &[MetadataRequest],
    ) -> Vec<Result<FetchedMetadata, IndexError>> {
        self.runtime
            .block_on(self.client.fetch_core_metadata_all(requests))
    }
}

impl Network {
    /// Whole project pages (every version), in request order: `(index URL, index name,
    /// package)`.
    pub fn full_pages(
        &self,
        requests: &[(String, String, String)],
    ) -> Vec<Result<py2nix_index::Page, IndexError>> {
        self.runtime
            .block_on(futures::future::join_all(requests.iter().map(
                |(index_url, index_name, package)| {
                    self.client.fetch_full_page(index_url, index_name, package)
                },
            )))
    }

    /// Whole files, hash-checked, in request order: `(URL, index name, index URL, sha256)`.
    /// Four at a time, so that large sdists do not all sit in memory at once.
    pub fn download_files(
        &self,
        requests: &[(String, String, String, Option<String>)],
    ) -> Vec<Result<Vec<u8>, IndexError>> {
        let mut out = Vec::with_capacity(requests.len());
        for chunk in requests.chunks(4) {
            out.extend(
                self.runtime
                    .block_on(futures::future::join_all(chunk.iter().map(
                        |(url, index_name, index_url, sha256)| {
                            self.client
                                .download_file(url, index_name, index_url, sha256.as_deref())
                        },
                    ))),
            );
        }
        out
    }
}

impl Network {
    /// The directory of a zip by range requests, read by `list` (see
    /// [`IndexClient::zip_directory`]). Blocks: not for the runtime's own threads.
    pub fn zip_directory<T>(
        &self,
        request: &ZipRequest,
        list: impl FnMut(&[u8], u64) -> Result<DirectoryStep<T>, String>,
    ) -> Result<ZipDirectory<T>, IndexError> {
        self.runtime
            .handle()
            .block_on(self.client.zip_directory(request, list))
    }

    /// One whole file, hash-checked (see [`IndexClient::download_file`]). Blocks: not for
    /// the runtime's own threads.
    pub fn download_file(
        &self,
        url: &str,
        index_name: &str,
        index_url: &str,
        sha256: Option<&str>,
    ) -> Result<Vec<u8>, IndexError> {
        self.runtime.handle().block_on(
            self.client
                .download_file(url, index_name, index_url, sha256),
        )
    }

    /// The zip's bytes from `member`'s local header to the end of its data, by one range
    /// request, as a blocking reader (see [`IndexClient::open_member`]); `received` counts
    /// the bytes that arrived. Blocks: not for the runtime's own threads.
    pub fn open_member<'a>(
        &'a self,
        zip: &RangedZip,
        member: &py2nix_source::Member,
        received: &'a AtomicU64,
    ) -> Result<MemberReader<'a>, IndexError> {
        let stream = self
            .runtime
            .handle()
            .block_on(self.client.open_member(zip, member))?;
        Ok(MemberReader {
            network: self,
            stream,
            chunk: Vec::new(),
            at: 0,
            received,
        })
    }
}

/// A member's bytes by range, read on the calling thread: each read that needs more waits
/// for the stream's next bytes on the runtime (the calling thread is not one of its own).
pub struct MemberReader<'a> {
    network: &'a Network,
    stream: MemberStream,
    chunk: Vec<u8>,
    at: usize,
    received: &'a AtomicU64,
}

impl std::io::Read for MemberReader<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.chunk.len() {
            match self
                .network
                .runtime
                .handle()
                .block_on(self.stream.next_bytes())
            {
                Ok(Some(bytes)) => {
                    self.chunk = bytes;
                    self.at = 0;
                }
                Ok(None) => return Ok(0),
                Err(error) => return Err(std::io::Error::other(error.to_string())),
            }
        }
        let n = out.len().min(self.chunk.len() - self.at);
        out[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

impl Drop for MemberReader<'_> {
    fn drop(&mut self) {
        self.received
            .fetch_add(self.stream.received(), Ordering::Relaxed);
    }
}

/// Index errors gathered, then classified together.
#[derive(Default)]
pub struct Errors {
    input: Vec<String>,
    other: Vec<String>,
    /// Whether one of them is a `--offline` miss (for the hint).
    offline_miss: bool,
}

impl Errors {
    pub fn push(&mut self, error: IndexError) {
        self.offline_miss |= is_offline_miss(&error);
        if is_input_error(&error) {
            self.input.push(error.to_string());
        } else {
            self.other.push(error.to_string());
        }
    }

    pub fn finish(mut self) -> Result<(), Failure> {
        if !self.other.is_empty() {
            self.other.append(&mut self.input);
            return Err(Failure::Unexpected(anyhow!(self.other.join("\n"))));
        }
        if !self.input.is_empty() {
            let error = anyhow!(self.input.join("\n"));
            return Err(Failure::Input(if self.offline_miss {
                crate::report::with_hint(error, OFFLINE_HINT)
            } else {
                error
            }));
        }
        Ok(())
    }
}

/// What to do about a `--offline` miss.
pub const OFFLINE_HINT: &str =
    "run once without --offline to fill the cache (PY2NIX_CACHE_DIR or --cache-dir says where it is)";

/// A page, file or URL the cache lacks under `--offline`.
pub fn is_offline_miss(error: &IndexError) -> bool {
    matches!(
        error,
        IndexError::NotCached { .. }
            | IndexError::CachedPageIncomplete { .. }
            | IndexError::NotCachedUrl { .. }
    )
}

/// Errors that the user fixes by changing the input or the request, not by retrying.
pub fn is_input_error(error: &IndexError) -> bool {
    matches!(
        error,
        IndexError::NotFound { .. }
            | IndexError::NotCached { .. }
            | IndexError::CachedPageIncomplete { .. }
            | IndexError::Unauthorized { .. }
            | IndexError::NotCachedUrl { .. }
            | IndexError::TooLarge { .. }
    )
}
