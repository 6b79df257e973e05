//! A zip's members through HTTP range requests, for a reader that needs only some members
//! and only the start of each (the binary's scan of wheels' shared objects): the zip's
//! directory from a suffix request (`Range: bytes=-N`, more of it if it starts earlier),
//! then each member's compressed bytes streamed by one `Range: bytes=a-b` request from its
//! local header, read only as far as the reader reads.
//!
//! Bounded as downloads are: the file's length (from `Content-Range`) must be the lock's
//! size of it when the lock records one, and is refused past the download cap; every range
//! asks for a bounded span and no more than it is read; one request (answer and body) ends
//! at the deadline (`PY2NIX_HTTP_DEADLINE`), however slowly the reader takes the bytes.
//! Credentials go where a download of the file sends them (the index's own origin).
//!
//! A server that answers the first, suffix, request with anything but a well-formed 206 is
//! taken not to serve ranges: a 200 is the whole file (its hash checked), anything else is
//! [`ZipDirectory::Unsupported`]. Once ranges were served, an answer that is not the range
//! asked for (another status, another `Content-Range`, a body cut short) is an error, and
//! the caller downloads the file whole.
//!
//! Bytes read by range cannot be checked against the file's sha256, which needs every byte
//! of the file (see docs/security.md): what is learnt from them is only as good as the
//! server that sent them.

use tokio::time::Instant;

use py2nix_source::{zip_tail_request_len, Member};

use crate::ranges::{content_range, Tail};
use crate::transport::{check_status, next_chunk, Endpoint};
use crate::{redact_url, IndexClient, IndexError, Limit, MetadataRequest};

/// Bytes of a zip local file header before its name.
const LOCAL_HEADER_LEN: u64 = 30;
const LOCAL_SIGNATURE: u32 = 0x0403_4b50;
/// The longest extra field a local header may have (its length is 16 bits).
const MAX_LOCAL_EXTRA: u64 = u16::MAX as u64;

/// A zip file (a wheel) to read by ranges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZipRequest {
    /// The file's URL (credentials in it are used, never shown).
    pub url: String,
    /// The index the file belongs to, for credentials; both may be empty for a direct URL.
    pub index_name: String,
    pub index_url: String,
    /// The file's sha256 (hex): checked when the whole file comes, and the key of the lock's
    /// size of it.
    pub expected_sha256: Option<String>,
    /// The file's size, when known otherwise than from the lock.
    pub size: Option<u64>,
}

/// What a reader of the zip's directory made of the bytes it was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirectoryStep<T> {
    /// The directory starts before the bytes given: give it the bytes from `start` on.
    NeedMore { start: u64 },
    /// What it read.
    Done(T),
}

/// What [`IndexClient::zip_directory`] had.
pub enum ZipDirectory<T> {
    /// The server serves ranges: what the reader made of the directory, and the zip to open
    /// members of.
    Ranges { listing: T, zip: RangedZip },
    /// The server sent the whole file instead (its hash checked when the request has one).
    Whole(Vec<u8>),
    /// Ranges are of no use here (why, for `-v`): download the file whole.
    Unsupported(&'static str),
}

/// A zip whose server serves ranges: its members can be opened ([`IndexClient::open_member`]).
#[derive(Clone)]
pub struct RangedZip {
    endpoint: Endpoint,
    len: u64,
    /// The bytes fetched to read its directory.
    directory_bytes: u64,
}

impl RangedZip {
    /// The file's length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the file is empty (never, for a zip read by ranges).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many bytes were fetched to read its directory.
    pub fn directory_bytes(&self) -> u64 {
        self.directory_bytes
    }

    /// The file's URL, without credentials.
    pub fn url(&self) -> &str {
        &self.endpoint.url
    }
}

impl IndexClient {
    /// The directory of the zip `request` names, read by `list` from the file's last bytes
    /// (`list(bytes, file_len)`, the bytes being the file's last `bytes.len()`): a suffix
    /// request, then the bytes before it for as long as `list` asks for more (up to half the
    /// file; a directory that large is cheaper with the file). A `list` error is an
    /// [`IndexError::Http`] naming the file. See the module for what is refused.
    pub async fn zip_directory<T>(
        &self,
        request: &ZipRequest,
        mut list: impl FnMut(&[u8], u64) -> Result<DirectoryStep<T>, String>,
    ) -> Result<ZipDirectory<T>, IndexError> {
        if self.offline {
            return Err(IndexError::NotCachedUrl {
                what: "file",
                url: redact_url(&request.url),
            });
        }
        let endpoint = self.file_endpoint(&request.url, &request.index_name, &request.index_url);
        let whole_request = MetadataRequest {
            url: request.url.clone(),
            filename: String::new(),
            index_name: request.index_name.clone(),
            index_url: request.index_url.clone(),
            expected_sha256: request.expected_sha256.clone(),
            core_metadata: None,
            size: request.size,
        };
        let known = self.known_size(request.expected_sha256.as_deref(), request.size);
        let tail_len = zip_tail_request_len();
        if known.is_some_and(|size| size <= tail_len) {
            return Ok(ZipDirectory::Unsupported("the file is small"));
        }
        let tail = self
            .retrying(|| {
                self.within_deadline(
                    &endpoint,
                    self.fetch_tail(&endpoint, &whole_request, tail_len),
                )
            })
            .await?;
        let (mut tail, len) = match tail {
            Tail::Range { bytes, file_len } => (bytes, file_len),
            Tail::Whole(bytes) => return Ok(ZipDirectory::Whole(bytes)),
            Tail::Unsupported => {
                return Ok(ZipDirectory::Unsupported(
                    "the server did not answer the range request with the range",
                ))
            }
        };
        if known.is_some_and(|size| size != len) {
            return Ok(ZipDirectory::Unsupported(
                "the server gives the file another length than the lock",
            ));
        }
        self.file_limit(request.expected_sha256.as_deref(), request.size)
            .check(&endpoint, len)?;
        loop {
            let tail_start = len - tail.len() as u64;
            let step = list(&tail, len).map_err(|message| IndexError::Http {
                url: endpoint.url.clone(),
                message: format!("its zip directory could not be read: {message}"),
            })?;
            match step {
                DirectoryStep::Done(listing) => {
                    return Ok(ZipDirectory::Ranges {
                        listing,
                        zip: RangedZip {
                            endpoint,
                            len,
                            directory_bytes: tail.len() as u64,
                        },
                    })
                }
                DirectoryStep::NeedMore { start } if start < tail_start => {
                    if tail_start - start > len / 2 {
                        return Ok(ZipDirectory::Unsupported(
                            "its zip directory is more than half of it",
                        ));
                    }
                    let Some(mut more) = self.range(&endpoint, start, tail_start).await? else {
                        return Ok(ZipDirectory::Unsupported(
                            "the server did not answer a range request with the range",
                        ));
                    };
                    more.extend_from_slice(&tail);
                    tail = more;
                }
                DirectoryStep::NeedMore { .. } => {
                    return Err(IndexError::Http {
                        url: endpoint.url.clone(),
                        message:
                            "its zip directory could not be read: it asks for bytes it was given"
                                .to_string(),
                    })
                }
            }
        }
    }

    /// A stream of the zip's bytes from `member`'s local header to the end of its compressed
    /// data, by one range request (the local header checked first: its signature and name,
    /// and that the data it announces lies within the file). Dropping the stream before its
    /// end abandons the request; each call starts a new request, so a reader can start over.
    pub async fn open_member(
        &self,
        zip: &RangedZip,
        member: &Member,
    ) -> Result<MemberStream, IndexError> {
        let endpoint = &zip.endpoint;
        let start = member.local_header_offset;
        let name_len = member.name.len() as u64;
        let end = start
            .saturating_add(LOCAL_HEADER_LEN + name_len + MAX_LOCAL_EXTRA)
            .saturating_add(member.compressed_size)
            .min(zip.len);
        let broken = |message: String| IndexError::Http {
            url: endpoint.url.clone(),
            message: format!("its member `{}`: {message}", member.name),
        };
        if start.saturating_add(LOCAL_HEADER_LEN + name_len) > zip.len {
            return Err(broken(
                "its local header is past the end of the file".into(),
            ));
        }
        let header = format!("bytes={start}-{}", end - 1);
        let limit = Limit::new(end - start, "the range asked for");
        let deadline = Instant::now() + self.policy.deadline;
        let response = self
            .retrying(|| {
                self.within_deadline(endpoint, async {
                    let response = self.send(endpoint, None, Some(&header)).await?;
                    let status = response.status();
                    if status != reqwest::StatusCode::PARTIAL_CONTENT {
                        check_status(endpoint, response)?;
                        return Err(broken(format!(
                            "the server answered a range request with HTTP {status}"
                        )));
                    }
                    if content_range(&response) != Some((start, Some(zip.len))) {
                        return Err(broken(format!(
                            "the server answered a range request for bytes {start}-{} of {} with another range",
                            end - 1,
                            zip.len
                        )));
                    }
                    limit.check_announced(endpoint, &response)?;
                    Ok(response)
                })
            })
            .await?;
        let mut stream = MemberStream {
            endpoint: endpoint.clone(),
            response,
            pending: Vec::new(),
            remaining: member.compressed_size,
            deadline,
            deadline_len: self.policy.deadline,
            received: 0,
            header_len: 0,
            member: member.name.clone(),
        };
        let head = stream.take_exactly(LOCAL_HEADER_LEN as usize).await?;
        let head = head.as_slice();
        let word =
            |at: usize| u32::from_le_bytes([head[at], head[at + 1], head[at + 2], head[at + 3]]);
        let half = |at: usize| u64::from(u16::from_le_bytes([head[at], head[at + 1]]));
        if word(0) != LOCAL_SIGNATURE {
            return Err(broken("no local file header at its offset".into()));
        }
        let (local_name_len, extra_len) = (half(26), half(28));
        let name = stream.take_exactly(local_name_len as usize).await?;
        if name != member.name.as_bytes() {
            return Err(broken(format!(
                "its local header names `{}` instead",
                String::from_utf8_lossy(&name)
            )));
        }
        let header_len = LOCAL_HEADER_LEN + local_name_len + extra_len;
        if (start + header_len).saturating_add(member.compressed_size) > zip.len {
            return Err(broken("its data runs past the end of the file".into()));
        }
        let extra = stream.take_exactly(extra_len as usize).await?;
        let mut replayed = head.to_vec();
        replayed.extend_from_slice(&name);
        replayed.extend_from_slice(&extra);
        replayed.append(&mut stream.pending);
        stream.pending = replayed;
        stream.remaining = header_len + member.compressed_size;
        stream.header_len = header_len;
        Ok(stream)
    }
}

/// A zip member's compressed bytes as they arrive (see [`IndexClient::open_member`]).
pub struct MemberStream {
    endpoint: Endpoint,
    member: String,
    response: reqwest::Response,
    /// Bytes received and not handed out yet.
    pending: Vec<u8>,
    /// The member's compressed bytes not handed out yet.
    remaining: u64,
    /// When the request must be over.
    deadline: Instant,
    deadline_len: std::time::Duration,
    /// Body bytes received so far.
    received: u64,
    /// The local header's length, its name and extra field included.
    header_len: u64,
}

impl MemberStream {
    /// The next bytes (the local header first, then the compressed data), `None` once all
    /// of them were given. A body that
    /// ends early, stalls past the timeout, or is still arriving at the deadline is an
    /// [`IndexError::Http`] (not retried: the caller starts over or downloads the file).
    pub async fn next_bytes(&mut self) -> Result<Option<Vec<u8>>, IndexError> {
        if self.remaining == 0 {
            return Ok(None);
        }
        if self.pending.is_empty() {
            self.pending = self.body_chunk().await?;
        }
        let take = self
            .pending
            .len()
            .min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        let rest = self.pending.split_off(take);
        let out = std::mem::replace(&mut self.pending, rest);
        self.remaining -= out.len() as u64;
        Ok(Some(out))
    }

    /// Body bytes received so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// The local header's length (its name and extra field included): where the member's
    /// compressed data starts in the stream.
    pub fn header_len(&self) -> u64 {
        self.header_len
    }

    /// Exactly `len` bytes from the body (for the local header).
    async fn take_exactly(&mut self, len: usize) -> Result<Vec<u8>, IndexError> {
        while self.pending.len() < len {
            let more = self.body_chunk().await?;
            self.pending.extend_from_slice(&more);
        }
        let rest = self.pending.split_off(len);
        Ok(std::mem::replace(&mut self.pending, rest))
    }

    /// The body's next chunk (never empty).
    async fn body_chunk(&mut self) -> Result<Vec<u8>, IndexError> {
        loop {
            let chunk = self.any_chunk().await?;
            if !chunk.is_empty() {
                return Ok(chunk);
            }
        }
    }

    async fn any_chunk(&mut self) -> Result<Vec<u8>, IndexError> {
        let error = |message: String| IndexError::Http {
            url: self.endpoint.url.clone(),
            message: format!("its member `{}`: {message}", self.member),
        };
        let next = tokio::time::timeout_at(
            self.deadline,
            next_chunk(&self.endpoint, &mut self.response),
        )
        .await;
        match next {
            Err(_) => Err(error(format!(
                "it did not arrive within {} (PY2NIX_HTTP_DEADLINE)",
                crate::transport::seconds(self.deadline_len)
            ))),
            Ok(Err(IndexError::Transient { message, .. })) => Err(error(message)),
            Ok(Err(other)) => Err(other),
            Ok(Ok(None)) => Err(error(format!(
                "the range ended after {} bytes, before the member's data did",
                self.received
            ))),
            Ok(Ok(Some(chunk))) => {
                self.received += chunk.len() as u64;
                Ok(chunk)
            }
        }
    }
}
