//! A file's sha256 and size, for sources the lock gives no hash for: streamed (never held
//! whole in memory), retried, and cached by URL.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::cache::SHA256_FORMAT;
use crate::transport::{next_chunk, Endpoint};
use crate::{redact_url, IndexClient, IndexError};

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
        let digest = self.retrying(|| self.hash_once(&endpoint)).await?;
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
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        while let Some(chunk) = next_chunk(endpoint, &mut response).await? {
            hasher.update(&chunk);
            size += chunk.len() as u64;
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
    /// credentials of index `index_name` at `index_url` when the file is on its host. Not
    /// cached: callers cache what they learn from the file. Refused under `--offline`.
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
}
