//! A file's sha256 and size, for sources the lock gives no hash for: streamed (never held
//! whole in memory), retried, and cached by URL. Whole files for callers that read them
//! ([`IndexClient::download_file`]), and local archives ([`read_local_file`]).
//!
//! # How much is read
//!
//! Every download is streamed, hashed as it streams and counted: it is abandoned at the first
//! byte past its [`Limit`] (or at once when its `Content-Length` announces more). The limit
//! is the lock's size of the file when the lock records one (uv.lock and pylock.toml do;
//! [`IndexClient::with_known_sizes`] takes them, by sha256), else the client's cap
//! ([`IndexClient::with_max_download`], `--max-download-size` / `PY2NIX_MAX_DOWNLOAD_SIZE`,
//! [`DEFAULT_MAX_DOWNLOAD`] by default). Local archives are read under the same cap, and
//! only when they are regular files.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::cache::SHA256_FORMAT;
use crate::transport::{next_chunk, Endpoint};
use crate::{redact_url, IndexClient, IndexError};

/// The most bytes one download (or local archive) may have when the lock gives no size:
/// 2 GiB, above the largest wheels the index serves (GPU builds of about 1 GB).
pub const DEFAULT_MAX_DOWNLOAD: u64 = 2 * 1024 * 1024 * 1024;

/// How many bytes a download may have, and what says so (for the message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    pub bytes: u64,
    pub why: String,
}

impl Limit {
    pub(crate) fn new(bytes: u64, why: impl Into<String>) -> Self {
        Limit {
            bytes,
            why: why.into(),
        }
    }

    /// An error once `read` bytes are more than the limit.
    pub(crate) fn check(&self, endpoint: &Endpoint, read: u64) -> Result<(), IndexError> {
        if read <= self.bytes {
            return Ok(());
        }
        Err(IndexError::TooLarge {
            url: endpoint.url.clone(),
            limit: self.bytes,
            why: self.why.clone(),
        })
    }

    /// An error when the response announces more bytes than the limit.
    pub(crate) fn check_announced(
        &self,
        endpoint: &Endpoint,
        response: &reqwest::Response,
    ) -> Result<(), IndexError> {
        match response.content_length() {
            Some(length) => self.check(endpoint, length),
            None => Ok(()),
        }
    }
}

/// Parses a size for `--max-download-size`: bytes, or a number with `K`, `M`, `G` or `T`
/// (powers of 1024, an optional `i`/`iB`/`B` after the letter).
///
/// ```
/// assert_eq!(py2nix_index::parse_size("1024"), Ok(1024));
/// assert_eq!(py2nix_index::parse_size("512M"), Ok(512 << 20));
/// assert_eq!(py2nix_index::parse_size("2GiB"), Ok(2 << 30));
/// assert!(py2nix_index::parse_size("lots").is_err());
/// assert!(py2nix_index::parse_size("0").is_err());
/// ```
pub fn parse_size(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let digits = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(digits);
    let shift = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KI" | "KIB" => 10,
        "M" | "MB" | "MI" | "MIB" => 20,
        "G" | "GB" | "GI" | "GIB" => 30,
        "T" | "TB" | "TI" | "TIB" => 40,
        _ => u32::MAX,
    };
    number
        .parse::<u64>()
        .ok()
        .filter(|&n| n > 0 && shift != u32::MAX)
        .and_then(|n| n.checked_mul(1u64 << shift.min(63)))
        .ok_or_else(|| {
            format!("`{text}` is not a size (a number of bytes above 0, or with K, M, G or T)")
        })
}

/// A local file's bytes: refused when it is not a regular file (a device, a FIFO, a link to
/// one, or a pseudo-file such as `/proc/self/environ`, whose size the file system does not
/// know) or larger than `limit` bytes (`limit_name` says which limit, for the message), and
/// read no further than that. Nothing of a refused file reaches the message.
pub fn read_local_file(
    path: &std::path::Path,
    limit: u64,
    limit_name: &str,
) -> Result<Vec<u8>, String> {
    use std::io::Read as _;
    let shown = path.display();
    let file = std::fs::File::open(path).map_err(|e| format!("failed to read `{shown}`: {e}"))?;
    let metadata = file
        .metadata()
        .map_err(|e| format!("failed to read `{shown}`: {e}"))?;
    if !metadata.is_file() {
        return Err(format!("`{shown}` is not a regular file"));
    }
    if metadata.len() > limit {
        return Err(format!(
            "`{shown}` is larger than {limit} bytes ({limit_name})"
        ));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0));
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| format!("failed to read `{shown}`: {e}"))?;
    if bytes.len() as u64 > limit {
        return Err(format!(
            "`{shown}` is larger than {limit} bytes ({limit_name})"
        ));
    }
    if bytes.len() as u64 != metadata.len() {
        return Err(format!(
            "`{shown}` is not a regular file on disk (its size changes as it is read)"
        ));
    }
    Ok(bytes)
}

/// A file's lower-case hex sha256 and its length in bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileDigest {
    pub sha256_hex: String,
    pub size: u64,
}

/// One file to hash: its URL and the index it belongs to, for credentials (the index name is
/// empty, and the index URL may be too, for a direct URL).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FileRequest {
    pub url: String,
    pub index_name: String,
    pub index_url: String,
}

/// The cached form: the digest and, for whoever reads the cache, the URL without credentials.
#[derive(Serialize, Deserialize)]
struct DigestEntry {
    url: String,
    #[serde(flatten)]
    digest: FileDigest,
}

impl IndexClient {
    /// The sha256 and size of the file at `url`, from the cache or by downloading it, with
    /// the credentials of index `index_name` at `index_url` when the file is on its host.
    pub async fn file_sha256(
        &self,
        url: &str,
        index_name: &str,
        index_url: &str,
    ) -> Result<FileDigest, IndexError> {
        let key = redact_url(url);
        let cached = self.cache.as_ref().and_then(|cache| {
            cache
                .read_keyed::<DigestEntry>(SHA256_FORMAT, &key)
                .filter(|entry| entry.url == key)
        });
        if let Some(entry) = cached {
            return Ok(entry.digest);
        }
        if self.offline {
            return Err(IndexError::NotCachedUrl {
                what: "sha256",
                url: key,
            });
        }
        let endpoint = self.file_endpoint(url, index_name, index_url);
        let digest = self
            .retrying(|| self.within_deadline(&endpoint, self.hash_once(&endpoint)))
            .await?;
        if let Some(cache) = &self.cache {
            let entry = DigestEntry {
                url: key.clone(),
                digest: digest.clone(),
            };
            let _ = cache.write_keyed(SHA256_FORMAT, &key, &entry);
        }
        Ok(digest)
    }

    /// [`file_sha256`](Self::file_sha256) for every request, 16 at a time, in request order.
    pub async fn file_sha256_all(
        &self,
        requests: &[FileRequest],
    ) -> Vec<Result<FileDigest, IndexError>> {
        self.all(requests, |r| {
            self.file_sha256(&r.url, &r.index_name, &r.index_url)
        })
        .await
    }

    async fn hash_once(&self, endpoint: &Endpoint) -> Result<FileDigest, IndexError> {
        let mut response = self.get(endpoint, None).await?;
        let limit = self.cap();
        limit.check_announced(endpoint, &response)?;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        while let Some(chunk) = next_chunk(endpoint, &mut response).await? {
            size = size.saturating_add(chunk.len() as u64);
            limit.check(endpoint, size)?;
            hasher.update(&chunk);
        }
        Ok(FileDigest {
            sha256_hex: hex::encode(hasher.finalize()),
            size,
        })
    }
}

impl IndexClient {
    /// The whole file at `url`, its sha256 checked against `expected_sha256` (hex) when given
    /// (hashed as the body streams in, so a caller need not hash it again), with the
    /// credentials of index `index_name` at `index_url` when the file is on its origin. Not
    /// cached: callers cache what they learn from the file. Refused under `--offline`.
    ///
    /// Bounded: abandoned past the lock's size of the file (known by its sha256, see
    /// [`IndexClient::with_known_sizes`]) or the cap, and at the deadline (see the module
    /// documentation). This is the one function every whole-file download goes through.
    pub async fn download_file(
        &self,
        url: &str,
        index_name: &str,
        index_url: &str,
        expected_sha256: Option<&str>,
    ) -> Result<Vec<u8>, IndexError> {
        if self.offline {
            return Err(IndexError::NotCachedUrl {
                what: "file",
                url: redact_url(url),
            });
        }
        let endpoint = self.file_endpoint(url, index_name, index_url);
        let request = crate::MetadataRequest {
            url: url.to_string(),
            filename: String::new(),
            index_name: index_name.to_string(),
            index_url: index_url.to_string(),
            expected_sha256: expected_sha256.map(str::to_string),
            core_metadata: None,
            size: None,
        };
        self.download_whole(&endpoint, &request).await
    }

    /// The same client, downloading at most `bytes` bytes of a file whose size the lock does
    /// not give (and of a project page).
    pub fn with_max_download(mut self, bytes: u64) -> Self {
        self.max_download = bytes;
        self
    }

    /// The same client, knowing the sizes of files by their sha256 (lower-case hex): the
    /// lock's, each one the limit of that file's download.
    pub fn with_known_sizes(mut self, sizes: std::collections::HashMap<String, u64>) -> Self {
        self.known_sizes = sizes;
        self
    }

    /// The cap on a download whose size is not known.
    pub fn max_download(&self) -> u64 {
        self.max_download
    }

    pub(crate) fn cap(&self) -> Limit {
        Limit::new(
            self.max_download,
            "--max-download-size or PY2NIX_MAX_DOWNLOAD_SIZE",
        )
    }

    pub(crate) fn page_limit(&self) -> Limit {
        self.cap()
    }

    /// A file's size as the request or the lock gives it (by its sha256, lower-case hex).
    pub(crate) fn known_size(&self, sha256: Option<&str>, size: Option<u64>) -> Option<u64> {
        size.or_else(|| {
            sha256.and_then(|hex| self.known_sizes.get(&hex.to_ascii_lowercase()).copied())
        })
    }

    /// A file's limit: the size the request or the lock gives, else the cap.
    pub(crate) fn file_limit(&self, sha256: Option<&str>, size: Option<u64>) -> Limit {
        match self.known_size(sha256, size) {
            Some(size) => Limit::new(size, "the size the lock records for it"),
            None => self.cap(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_archives_are_bounded_regular_files() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a-1.0.tar.gz");
        std::fs::write(&file, vec![7u8; 100]).unwrap();
        assert_eq!(
            read_local_file(&file, 100, "--max-download-size")
                .unwrap()
                .len(),
            100
        );
        let error = read_local_file(&file, 99, "--max-download-size").unwrap_err();
        assert!(
            error.ends_with("is larger than 99 bytes (--max-download-size)"),
            "{error}"
        );
        let link = dir.path().join("zero.tar.gz");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        let error = read_local_file(&link, 1 << 20, "--max-download-size").unwrap_err();
        assert!(error.ends_with("is not a regular file"), "{error}");
        assert!(read_local_file(dir.path(), 1 << 20, "--max-download-size")
            .unwrap_err()
            .ends_with("is not a regular file"));
        assert!(
            read_local_file(&dir.path().join("missing"), 1, "--max-download-size")
                .unwrap_err()
                .starts_with("failed to read")
        );
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1"), Ok(1));
        assert_eq!(parse_size(" 64M "), Ok(64 << 20));
        assert_eq!(parse_size("3k"), Ok(3 << 10));
        assert_eq!(parse_size("1TiB"), Ok(1 << 40));
        for bad in [
            "",
            "M",
            "-1",
            "1.5G",
            "1X",
            "99999999999999999999",
            "16777216T",
        ] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }
}
