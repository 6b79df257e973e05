//! A wheel's `METADATA` through HTTP range requests, with the pure zip readers of
//! `py2nix_source`: the last [`zip_tail_request_len`] bytes (`Range: bytes=-N`), more of the
//! central directory if it starts earlier, then the member itself unless the tail holds it.
//!
//! A server that answers anything but 206 to the first request is taken not to serve ranges:
//! a 200 is read as the whole file (its hash checked), other answers lead to a plain download.

use py2nix_source::{
    locate_metadata_in_tail, member_fetch_len, read_member, zip_tail_request_len, Member,
    MetadataError, TailResult,
};

use crate::metadata::{metadata_error, read_all, MetadataRequest};
use crate::transport::{check_status, Endpoint};
use crate::{IndexClient, IndexError, Limit};

/// What the range requests gave.
pub(crate) enum RangeOutcome {
    /// The raw bytes of the wheel's `METADATA`.
    Member(Vec<u8>),
    /// The server sent the whole wheel instead (its hash already checked).
    Whole(Vec<u8>),
    /// The server does not serve ranges usefully: download the wheel.
    Unsupported,
}

/// The answer to the first, suffix, request.
pub(crate) enum Tail {
    Range { bytes: Vec<u8>, file_len: u64 },
    Whole(Vec<u8>),
    Unsupported,
}

impl IndexClient {
    pub(crate) async fn wheel_by_ranges(
        &self,
        endpoint: &Endpoint,
        request: &MetadataRequest,
    ) -> Result<RangeOutcome, IndexError> {
        let tail_len = zip_tail_request_len();
        if request.size.is_some_and(|size| size <= tail_len) {
            return Ok(RangeOutcome::Unsupported);
        }
        let tail = self
            .retrying(|| {
                self.within_deadline(endpoint, self.fetch_tail(endpoint, request, tail_len))
            })
            .await?;
        let (mut tail, file_len) = match tail {
            Tail::Range { bytes, file_len } => (bytes, file_len),
            Tail::Whole(bytes) => return Ok(RangeOutcome::Whole(bytes)),
            Tail::Unsupported => return Ok(RangeOutcome::Unsupported),
        };
        let url = &endpoint.url;
        let member = loop {
            let tail_start = file_len - tail.len() as u64;
            match locate_metadata_in_tail(&tail, file_len, &request.filename)
                .map_err(|e| metadata_error(url, e))?
            {
                TailResult::Member(member) => break member,
                TailResult::NeedMore { start } if start < tail_start => {
                    if tail_start - start > file_len / 2 {
                        return Ok(RangeOutcome::Unsupported);
                    }
                    let Some(mut more) = self.range(endpoint, start, tail_start).await? else {
                        return Ok(RangeOutcome::Unsupported);
                    };
                    more.extend_from_slice(&tail);
                    tail = more;
                }
                TailResult::NeedMore { .. } => return Err(corrupt(url, "no progress")),
            }
        };
        self.member(endpoint, &member, &tail, file_len).await
    }

    /// The member's bytes, from the tail when it holds them, else by one or two requests.
    async fn member(
        &self,
        endpoint: &Endpoint,
        member: &Member,
        tail: &[u8],
        file_len: u64,
    ) -> Result<RangeOutcome, IndexError> {
        let url = &endpoint.url;
        let offset = member.local_header_offset;
        let tail_start = file_len - tail.len() as u64;
        let mut wanted = member_fetch_len(member);
        for _ in 0..2 {
            let end = offset.saturating_add(wanted).min(file_len);
            let local = match offset.checked_sub(tail_start) {
                Some(within) => tail.get(within as usize..).unwrap_or_default().to_vec(),
                None => match self.range(endpoint, offset, end).await? {
                    Some(bytes) => bytes,
                    None => return Ok(RangeOutcome::Unsupported),
                },
            };
            match read_member(&local, member) {
                Ok(bytes) => return Ok(RangeOutcome::Member(bytes)),
                Err(MetadataError::MemberTruncated { needed, have, .. })
                    if needed > have && end < file_len && offset < tail_start =>
                {
                    wanted = needed;
                }
                Err(error) => return Err(metadata_error(url, error)),
            }
        }
        Err(corrupt(url, "the member's local header keeps growing"))
    }

    /// Bytes `start..end` (end exclusive), or `None` if the server answers without a range.
    pub(crate) async fn range(
        &self,
        endpoint: &Endpoint,
        start: u64,
        end: u64,
    ) -> Result<Option<Vec<u8>>, IndexError> {
        if end <= start {
            return Ok(Some(Vec::new()));
        }
        let header = format!("bytes={start}-{}", end - 1);
        // However large a range the zip's directory asks for, no more than the cap is read.
        let limit = Limit::new(
            (end - start).min(self.max_download),
            "the range asked for, at most --max-download-size",
        );
        self.retrying(|| {
            self.within_deadline(endpoint, async {
                let response = self.send(endpoint, None, Some(&header)).await?;
                if response.status() != reqwest::StatusCode::PARTIAL_CONTENT {
                    return check_status(endpoint, response).map(|_| None);
                }
                let served = content_range(&response);
                let bytes = read_all(endpoint, response, &limit).await?;
                match served {
                    Some((first, _)) if first == start && bytes.len() as u64 == end - start => {
                        Ok(Some(bytes))
                    }
                    _ => Ok(None),
                }
            })
        })
        .await
    }

    pub(crate) async fn fetch_tail(
        &self,
        endpoint: &Endpoint,
        request: &MetadataRequest,
        tail_len: u64,
    ) -> Result<Tail, IndexError> {
        let header = format!("bytes=-{tail_len}");
        let response = self.send(endpoint, None, Some(&header)).await?;
        match response.status().as_u16() {
            206 => {
                let served = content_range(&response);
                let limit = Limit::new(tail_len, "the range asked for");
                let bytes = read_all(endpoint, response, &limit).await?;
                Ok(match served {
                    Some((start, Some(total)))
                        if start.checked_add(bytes.len() as u64) == Some(total) =>
                    {
                        Tail::Range {
                            bytes,
                            file_len: total,
                        }
                    }
                    _ => Tail::Unsupported,
                })
            }
            200 => {
                let limit = self.file_limit(request.expected_sha256.as_deref(), request.size);
                let bytes = read_all(endpoint, response, &limit).await?;
                self.check_whole(endpoint, request, &bytes)?;
                Ok(Tail::Whole(bytes))
            }
            416 => Ok(Tail::Unsupported),
            _ => check_status(endpoint, response).map(|_| Tail::Unsupported),
        }
    }
}

/// `Content-Range: bytes <first>-<last>/<total or *>` as the first byte and the total.
pub(crate) fn content_range(response: &reqwest::Response) -> Option<(u64, Option<u64>)> {
    let value = response
        .headers()
        .get(reqwest::header::CONTENT_RANGE)?
        .to_str()
        .ok()?;
    parse_content_range(value)
}

fn parse_content_range(value: &str) -> Option<(u64, Option<u64>)> {
    let (range, total) = value.trim().strip_prefix("bytes ")?.split_once('/')?;
    let (first, _last) = range.split_once('-')?;
    let total = match total.trim() {
        "*" => None,
        total => Some(total.parse().ok()?),
    };
    Some((first.trim().parse().ok()?, total))
}

fn corrupt(url: &str, message: &str) -> IndexError {
    IndexError::Metadata {
        url: url.to_string(),
        message: format!("the zip directory could not be read through range requests: {message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ranges() {
        assert_eq!(
            parse_content_range("bytes 10-19/100"),
            Some((10, Some(100)))
        );
        assert_eq!(parse_content_range("bytes 0-0/*"), Some((0, None)));
        assert_eq!(parse_content_range("bytes */100"), None);
        assert_eq!(parse_content_range("items 1-2/3"), None);
        assert_eq!(parse_content_range("bytes a-b/c"), None);
    }
}
