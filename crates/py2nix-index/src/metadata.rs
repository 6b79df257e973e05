//! A distribution's core metadata: the index's PEP 658 `.metadata` file when it offers one,
//! else HTTP range requests into a wheel (see `ranges`), else the whole file.
//!
//! The result is parsed ([`FetchedMetadata`]) rather than raw bytes, because an sdist's
//! dependencies may come from its `pyproject.toml` rather than `PKG-INFO` (what
//! `py2nix_source::sdist_metadata` reports), and because the whole-file readers return parsed
//! metadata. The result is cached (see `metadata_cache`), so a warm run downloads nothing.

use sha2::{Digest, Sha256};

use py2nix_source::{parse_core_metadata, sdist_metadata, CoreMetadata, SdistRequirements};

use crate::cache::METADATA_FORMAT;
use crate::metadata_cache::MetadataEntry;
use crate::ranges::RangeOutcome;
use crate::transport::{next_chunk, Endpoint};
use crate::{redact_url, CoreMetadataRef, IndexClient, IndexError, Limit};

/// One distribution file whose core metadata is wanted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataRequest {
    /// The file's URL (credentials in it are used, never shown).
    pub url: String,
    /// The file's name: a wheel (`.whl`) or an sdist.
    pub filename: String,
    /// The index the file belongs to, for credentials; both may be empty for a direct URL.
    pub index_name: String,
    pub index_url: String,
    /// The file's sha256 (hex), checked when the whole file is downloaded.
    pub expected_sha256: Option<String>,
    /// The page's PEP 658 entry for the file, if any.
    pub core_metadata: Option<CoreMetadataRef>,
    /// The file's size, when known; a wheel no larger than one range request is downloaded.
    pub size: Option<u64>,
}

/// How the metadata was had.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MetadataFrom {
    /// The index's `<url>.metadata` file (PEP 658).
    Pep658,
    /// Range requests into the wheel: its tail, maybe more of its directory, and the member.
    WheelRange,
    /// The whole wheel (the server does not serve ranges, or the wheel is small).
    WheelDownload,
    /// The whole sdist.
    SdistDownload,
}

/// A distribution's core metadata and where its dependencies can be learnt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedMetadata {
    /// `METADATA`, `PKG-INFO` or the `.metadata` file, parsed.
    pub metadata: CoreMetadata,
    /// `PkgInfo` when `metadata.requires_dist` is final (always for a wheel); for an sdist,
    /// possibly its `pyproject.toml`'s static dependencies, or `Unknown` (a build would tell).
    pub requirements: SdistRequirements,
    pub from: MetadataFrom,
}

/// The name the first design used; the result is parsed, not raw bytes (see the module docs).
pub type MetadataBytes = FetchedMetadata;

impl IndexClient {
    /// The core metadata of `request`'s file, from the cache or the network.
    pub async fn fetch_core_metadata(
        &self,
        request: &MetadataRequest,
    ) -> Result<FetchedMetadata, IndexError> {
        let key = cache_key(request);
        let shown = redact_url(&request.url);
        let cached = self.cache.as_ref().and_then(|cache| {
            cache
                .read_keyed::<MetadataEntry>(METADATA_FORMAT, &key)
                .filter(|entry| entry.url == shown)
        });
        if let Some(fetched) = cached.and_then(MetadataEntry::into_fetched) {
            return Ok(fetched);
        }
        if self.offline {
            return Err(IndexError::NotCachedUrl {
                what: "core metadata",
                url: shown,
            });
        }
        let fetched = self.fetch_uncached(request).await?;
        if let Some(cache) = &self.cache {
            let entry = MetadataEntry::new(shown, &fetched);
            let _ = cache.write_keyed(METADATA_FORMAT, &key, &entry);
        }
        Ok(fetched)
    }

    /// [`fetch_core_metadata`](Self::fetch_core_metadata) for every request, 16 at a time,
    /// in request order.
    pub async fn fetch_core_metadata_all(
        &self,
        requests: &[MetadataRequest],
    ) -> Vec<Result<FetchedMetadata, IndexError>> {
        self.all(requests, |r| self.fetch_core_metadata(r)).await
    }

    async fn fetch_uncached(
        &self,
        request: &MetadataRequest,
    ) -> Result<FetchedMetadata, IndexError> {
        let wheel = py2nix_dist::is_wheel(&request.filename);
        if let Some(reference) = &request.core_metadata {
            match self.pep658(request, reference, wheel).await {
                Ok(Some(fetched)) => return Ok(fetched),
                // An sdist's `.metadata` without final dependencies: its pyproject.toml may say.
                Ok(None) | Err(IndexError::Missing { .. }) => {}
                Err(error) => return Err(error),
            }
        }
        let endpoint = self.file_endpoint(&request.url, &request.index_name, &request.index_url);
        if !wheel {
            let bytes = self.download_whole(&endpoint, request).await?;
            return sdist(&bytes, request, &endpoint.url);
        }
        let whole = match self.wheel_by_ranges(&endpoint, request).await? {
            RangeOutcome::Member(bytes) => {
                return wheel_from_bytes(&bytes, MetadataFrom::WheelRange, &endpoint.url)
            }
            RangeOutcome::Whole(bytes) => bytes,
            RangeOutcome::Unsupported => self.download_whole(&endpoint, request).await?,
        };
        whole_wheel(&whole, request, &endpoint.url)
    }

    /// The PEP 658 file; `None` for an sdist whose metadata does not make its dependencies final.
    async fn pep658(
        &self,
        request: &MetadataRequest,
        reference: &CoreMetadataRef,
        wheel: bool,
    ) -> Result<Option<FetchedMetadata>, IndexError> {
        let base = request.url.split('#').next().unwrap_or_default();
        let url = format!("{base}.metadata");
        let endpoint = self.file_endpoint(&url, &request.index_name, &request.index_url);
        let limit = Limit::new(MAX_PEP658_SIZE, "the most py2nix reads of a metadata file");
        let bytes = self
            .retrying(|| self.within_deadline(&endpoint, self.read_body(&endpoint, &limit)))
            .await?;
        if let Some(expected) = &reference.sha256 {
            check_hash(
                &endpoint.url,
                expected,
                &hex::encode(Sha256::digest(&bytes)),
            )?;
        }
        let metadata = parse_core_metadata(&bytes).map_err(|e| metadata_error(&endpoint.url, e))?;
        let origin = if wheel {
            py2nix_source::MetadataOrigin::Wheel
        } else {
            py2nix_source::MetadataOrigin::Sdist
        };
        Ok(metadata
            .requires_dist_is_reliable(origin)
            .then_some(FetchedMetadata {
                metadata,
                requirements: SdistRequirements::PkgInfo,
                from: MetadataFrom::Pep658,
            }))
    }

    /// The whole file, its sha256 checked against the request's. The hash is computed as the
    /// body streams in, so the file is hashed once, while it downloads.
    pub(crate) async fn download_whole(
        &self,
        endpoint: &Endpoint,
        request: &MetadataRequest,
    ) -> Result<Vec<u8>, IndexError> {
        let hashing = request.expected_sha256.is_some();
        let limit = self.file_limit(request.expected_sha256.as_deref(), request.size);
        let (bytes, actual) = self
            .retrying(|| {
                self.within_deadline(endpoint, async {
                    let response = self.get(endpoint, None).await?;
                    read_all_hashed(endpoint, response, &limit, hashing).await
                })
            })
            .await?;
        if let (Some(expected), Some(actual)) = (&request.expected_sha256, actual) {
            check_hash(&endpoint.url, expected, &actual)?;
        }
        Ok(bytes)
    }

    /// Checks whole bytes against the request's sha256, when it has one.
    pub(crate) fn check_whole(
        &self,
        endpoint: &Endpoint,
        request: &MetadataRequest,
        bytes: &[u8],
    ) -> Result<(), IndexError> {
        match &request.expected_sha256 {
            Some(expected) => {
                check_hash(&endpoint.url, expected, &hex::encode(Sha256::digest(bytes)))
            }
            None => Ok(()),
        }
    }

    /// A GET's whole body, refused past `limit`.
    async fn read_body(&self, endpoint: &Endpoint, limit: &Limit) -> Result<Vec<u8>, IndexError> {
        let response = self.get(endpoint, None).await?;
        read_all(endpoint, response, limit).await
    }
}

/// The largest `.metadata` file read: the same bound as for a wheel's `METADATA`.
const MAX_PEP658_SIZE: u64 = py2nix_source::MAX_METADATA_SIZE;

/// The largest buffer reserved up front for a body from its `Content-Length`: a larger body
/// grows its buffer as it arrives, so a false length cannot reserve much.
const MAX_PRESIZE: u64 = 64 * 1024 * 1024;

/// A response's body, refused ([`IndexError::TooLarge`]) past `limit`: at once when its
/// `Content-Length` announces more, else at the first byte too many.
pub(crate) async fn read_all(
    endpoint: &Endpoint,
    response: reqwest::Response,
    limit: &Limit,
) -> Result<Vec<u8>, IndexError> {
    Ok(read_all_hashed(endpoint, response, limit, false).await?.0)
}

/// [`read_all`], and the body's sha256 (lower-case hex) when `hash` is set, computed chunk by
/// chunk as the body arrives. The buffer is sized from `Content-Length` (at most `limit` and
/// [`MAX_PRESIZE`]), so a body of the length announced is never copied to grow it.
async fn read_all_hashed(
    endpoint: &Endpoint,
    mut response: reqwest::Response,
    limit: &Limit,
    hash: bool,
) -> Result<(Vec<u8>, Option<String>), IndexError> {
    limit.check_announced(endpoint, &response)?;
    let presize = response
        .content_length()
        .unwrap_or(0)
        .min(limit.bytes)
        .min(MAX_PRESIZE);
    let mut body = Vec::with_capacity(usize::try_from(presize).unwrap_or(0));
    let mut hasher = hash.then(Sha256::new);
    while let Some(chunk) = next_chunk(endpoint, &mut response).await? {
        limit.check(
            endpoint,
            (body.len() as u64).saturating_add(chunk.len() as u64),
        )?;
        if let Some(hasher) = &mut hasher {
            hasher.update(&chunk);
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, hasher.map(|hasher| hex::encode(hasher.finalize()))))
}

fn cache_key(request: &MetadataRequest) -> String {
    let expected = request.expected_sha256.as_deref().unwrap_or_default();
    format!(
        "{}\n{}",
        redact_url(&request.url),
        expected.to_ascii_lowercase()
    )
}

fn check_hash(url: &str, expected: &str, actual: &str) -> Result<(), IndexError> {
    if expected.eq_ignore_ascii_case(actual) {
        return Ok(());
    }
    Err(IndexError::HashMismatch {
        url: url.to_string(),
        expected: expected.to_ascii_lowercase(),
        actual: actual.to_string(),
    })
}

pub(crate) fn metadata_error(url: &str, error: py2nix_source::MetadataError) -> IndexError {
    IndexError::Metadata {
        url: url.to_string(),
        message: redact_url(&error.to_string()),
    }
}

/// Metadata from the raw bytes of a wheel's `METADATA`.
pub(crate) fn wheel_from_bytes(
    bytes: &[u8],
    from: MetadataFrom,
    url: &str,
) -> Result<FetchedMetadata, IndexError> {
    Ok(FetchedMetadata {
        metadata: parse_core_metadata(bytes).map_err(|e| metadata_error(url, e))?,
        requirements: SdistRequirements::PkgInfo,
        from,
    })
}

pub(crate) fn whole_wheel(
    bytes: &[u8],
    request: &MetadataRequest,
    url: &str,
) -> Result<FetchedMetadata, IndexError> {
    let metadata = py2nix_source::wheel_metadata(bytes, &request.filename)
        .map_err(|e| metadata_error(url, e))?;
    Ok(FetchedMetadata {
        metadata,
        requirements: SdistRequirements::PkgInfo,
        from: MetadataFrom::WheelDownload,
    })
}

fn sdist(
    bytes: &[u8],
    request: &MetadataRequest,
    url: &str,
) -> Result<FetchedMetadata, IndexError> {
    let found = sdist_metadata(bytes, &request.filename).map_err(|e| metadata_error(url, e))?;
    Ok(FetchedMetadata {
        metadata: found.pkg_info,
        requirements: found.requirements,
        from: MetadataFrom::SdistDownload,
    })
}
