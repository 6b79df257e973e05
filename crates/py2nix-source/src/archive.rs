//! Core metadata read from distribution files: a wheel's `*.dist-info/METADATA`, whole or
//! through HTTP range requests on its tail, and an sdist's `PKG-INFO` (see `sdist`).
//!
//! Range requests go in three steps, all pure here; the caller does the fetching:
//! 1. fetch the last [`zip_tail_request_len`] bytes and call [`locate_metadata_in_tail`];
//!    on [`TailResult::NeedMore`], fetch from `start` to the end and call it again;
//! 2. on [`TailResult::Member`], fetch [`member_fetch_len`] bytes from the member's
//!    `local_header_offset`;
//! 3. call [`read_member`] and [`parse_core_metadata`] on what it returns.
//!
//! Zips are read with this module's own parser (`zip_directory`), which checks every offset.
//! A member can also be read as a stream from a [`MemberSource`] (the zip in memory, or
//! range requests) and inflated only as far as its reader needs (`MemberStream`, for the
//! shared objects of a wheel).

pub(crate) mod limits;
mod sdist;
pub(crate) mod tar_stream;
mod zip_directory;

use std::io::Read;

use flate2::read::DeflateDecoder;

use crate::metadata::{parse_core_metadata, CoreMetadata, MetadataError};
use zip_directory::{read_directory, read_u16, read_u32, Directory, Entry, Malformed};

pub(crate) use sdist::{sdist_format, SdistFormat};

/// Whether this crate reads an sdist of this file name (`.tar.gz`, `.tgz`, `.tar`, `.zip`):
/// the sdists py2nix can look into for their build systems.
pub fn reads_sdist(filename: &str) -> bool {
    sdist_format(filename).is_some()
}
pub use limits::{archive_limits, configure_archive_limits, ArchiveLimits};
pub use sdist::{sdist_metadata, PyprojectRequirements, SdistMetadata, SdistRequirements};

/// The largest core metadata file read, compressed or not: 16 MiB.
pub const MAX_METADATA_SIZE: u64 = 16 * 1024 * 1024;

/// How many bytes a local file header may hold beyond its name, in [`member_fetch_len`]'s
/// estimate; a larger one makes [`read_member`] return [`MetadataError::MemberTruncated`].
const LOCAL_EXTRA_ALLOWANCE: u64 = 1024;
/// Bytes of a local file header before its name.
const LOCAL_HEADER_LEN: u64 = 30;
const LOCAL_SIGNATURE: u32 = 0x0403_4b50;
const METHOD_STORED: u16 = 0;
const METHOD_DEFLATE: u16 = 8;
const FLAG_ENCRYPTED: u16 = 1;

/// A zip member found in the central directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub name: String,
    pub local_header_offset: u64,
    pub compressed_size: u64,
    pub uncompressed_size: u64,
    /// The compression method: 0 (stored) and 8 (deflate) can be read.
    pub method: u16,
    pub flags: u16,
    pub crc32: u32,
}

/// What [`locate_metadata_in_tail`] learnt from a wheel's tail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TailResult {
    /// The records needed start before the tail given: fetch the bytes from `start` to the end
    /// of the file and call again with them. `start` is always before the previous tail.
    NeedMore { start: u64 },
    /// The wheel's `METADATA`: fetch its bytes (see [`member_fetch_len`]).
    Member(Member),
}

/// How many bytes from a wheel's end to fetch first: 64 KiB, enough for the end records and
/// the central directory of all but the largest wheels.
pub fn zip_tail_request_len() -> u64 {
    64 * 1024
}

/// Finds the wheel's `METADATA` from `tail`, the last `tail.len()` bytes of the wheel
/// `wheel_filename`, which is `file_len` bytes long. The file is chosen as in
/// [`wheel_metadata`]; one larger than [`MAX_METADATA_SIZE`] is refused here, before any fetch.
pub fn locate_metadata_in_tail(
    tail: &[u8],
    file_len: u64,
    wheel_filename: &str,
) -> Result<TailResult, MetadataError> {
    let zip_error = |Malformed(message)| MetadataError::Zip {
        filename: wheel_filename.to_owned(),
        message,
    };
    let entries = match read_directory(tail, file_len).map_err(zip_error)? {
        Directory::NeedMore { start } => return Ok(TailResult::NeedMore { start }),
        Directory::Entries(entries) => check_member_count(entries, wheel_filename)?,
    };
    let entry = choose_wheel_metadata(&entries, wheel_filename)?;
    check_size(entry)?;
    Ok(TailResult::Member(Member {
        name: entry.name.clone(),
        local_header_offset: entry.local_header_offset,
        compressed_size: entry.compressed_size,
        uncompressed_size: entry.uncompressed_size,
        method: entry.method,
        flags: entry.flags,
        crc32: entry.crc32,
    }))
}

/// How many bytes to fetch from `member.local_header_offset`: the local header, the name, an
/// allowance for the extra field and the compressed data. It may reach past the end of the
/// file (a range request is then cut short by the server); clamp it if your client needs to.
pub fn member_fetch_len(member: &Member) -> u64 {
    LOCAL_HEADER_LEN
        .saturating_add(member.name.len() as u64)
        .saturating_add(LOCAL_EXTRA_ALLOWANCE)
        .saturating_add(member.compressed_size)
}

/// Reads `member`'s data from `local`, the bytes of the archive from its local header on:
/// checks the header, skips the name and extra field, inflates and checks the CRC-32. When
/// `local` ends too early the error is [`MetadataError::MemberTruncated`], which says how many
/// bytes are needed.
pub fn read_member(local: &[u8], member: &Member) -> Result<Vec<u8>, MetadataError> {
    read_member_limited(local, member, MAX_METADATA_SIZE)
}

/// [`read_member`] with another bound on the member's size than [`MAX_METADATA_SIZE`].
fn read_member_limited(
    local: &[u8],
    member: &Member,
    limit: u64,
) -> Result<Vec<u8>, MetadataError> {
    let data = member_data(local, member, limit)?;
    let contents = decompress(data, member, limit)?;
    check_crc(member, &contents)?;
    Ok(contents)
}

/// The compressed data of `member` in `local`, the bytes of the archive from its local header
/// on: checks that it is not encrypted, its sizes against `limit`, and the local header.
fn member_data<'a>(
    local: &'a [u8],
    member: &Member,
    limit: u64,
) -> Result<&'a [u8], MetadataError> {
    let corrupt = |message: &str| MetadataError::CorruptMember {
        name: member.name.clone(),
        message: message.to_owned(),
    };
    check_member_readable(member, limit)?;
    let truncated = |needed: u64| MetadataError::MemberTruncated {
        name: member.name.clone(),
        needed,
        have: local.len() as u64,
    };
    let (Some(signature), Some(name_len), Some(extra_len)) =
        (read_u32(local, 0), read_u16(local, 26), read_u16(local, 28))
    else {
        return Err(truncated(member_fetch_len(member)));
    };
    if signature != LOCAL_SIGNATURE {
        return Err(corrupt("no local file header at its offset"));
    }
    let name_end = LOCAL_HEADER_LEN + u64::from(name_len);
    let data_start = name_end + u64::from(extra_len);
    let data_end = data_start + member.compressed_size; // both below 2^33
    let (Ok(name_end), Ok(data_start), Ok(data_end)) = (
        usize::try_from(name_end),
        usize::try_from(data_start),
        usize::try_from(data_end),
    ) else {
        return Err(truncated(data_end));
    };
    let Some(data) = local.get(data_start..data_end) else {
        return Err(truncated(data_end as u64));
    };
    let local_name = String::from_utf8_lossy(local.get(30..name_end).unwrap_or_default());
    if local_name != member.name {
        return Err(corrupt(&format!(
            "its local header names `{local_name}` instead"
        )));
    }
    Ok(data)
}

/// What every read of a zip member checks first, from its central directory entry: that it is
/// not encrypted, and its sizes against `limit`.
fn check_member_readable(member: &Member, limit: u64) -> Result<(), MetadataError> {
    if member.flags & FLAG_ENCRYPTED != 0 {
        return Err(MetadataError::Encrypted {
            name: member.name.clone(),
        });
    }
    check_member_size_limited(
        &member.name,
        member.compressed_size,
        member.uncompressed_size,
        limit,
    )
}

fn check_crc(member: &Member, contents: &[u8]) -> Result<(), MetadataError> {
    let mut crc = flate2::Crc::new();
    crc.update(contents);
    if crc.sum() != member.crc32 {
        return Err(MetadataError::CorruptMember {
            name: member.name.clone(),
            message: "CRC-32 mismatch".to_owned(),
        });
    }
    Ok(())
}

/// Reads the core metadata of the wheel `filename` from its whole bytes. The file read is the
/// top-level `<name>-<version>.dist-info/METADATA` whose name and version match the wheel
/// filename's (names compared normalised, versions case-insensitively); failing that, the only
/// top-level `*.dist-info/METADATA`.
pub fn wheel_metadata(wheel_bytes: &[u8], filename: &str) -> Result<CoreMetadata, MetadataError> {
    let entries = whole_zip_entries(wheel_bytes, filename)?;
    let entry = choose_wheel_metadata(&entries, filename)?;
    let contents = read_entry(wheel_bytes, entry)?;
    parse_core_metadata(&contents)
}

/// The central directory of a zip held whole in memory.
fn whole_zip_entries(bytes: &[u8], filename: &str) -> Result<Vec<Entry>, MetadataError> {
    let zip_error = |message: String| MetadataError::Zip {
        filename: filename.to_owned(),
        message,
    };
    match read_directory(bytes, bytes.len() as u64) {
        Ok(Directory::Entries(entries)) => check_member_count(entries, filename),
        Ok(Directory::NeedMore { start }) => Err(zip_error(format!(
            "a record points before the start of the file ({start})"
        ))),
        Err(Malformed(message)) => Err(zip_error(message)),
    }
}

/// `entries` when they are no more than [`ArchiveLimits::max_members`].
pub(crate) fn check_member_count<T>(
    entries: Vec<T>,
    filename: &str,
) -> Result<Vec<T>, MetadataError> {
    let limits = archive_limits();
    if entries.len() as u64 > limits.max_members {
        return Err(limits.exceeded(
            filename,
            limits::LimitKind::Members,
            entries.len() as u64 + 1,
        ));
    }
    Ok(entries)
}

/// Reads one member of a zip held whole in memory.
fn read_entry(bytes: &[u8], entry: &Entry) -> Result<Vec<u8>, MetadataError> {
    let member = Member {
        name: entry.name.clone(),
        local_header_offset: entry.local_header_offset,
        compressed_size: entry.compressed_size,
        uncompressed_size: entry.uncompressed_size,
        method: entry.method,
        flags: entry.flags,
        crc32: entry.crc32,
    };
    let local = usize::try_from(entry.local_header_offset)
        .ok()
        .and_then(|offset| bytes.get(offset..))
        .ok_or_else(|| MetadataError::CorruptMember {
            name: entry.name.clone(),
            message: "its local header offset is past the end of the file".to_owned(),
        })?;
    read_member(local, &member)
}

fn decompress(data: &[u8], member: &Member, limit: u64) -> Result<Vec<u8>, MetadataError> {
    let corrupt = |message: String| MetadataError::CorruptMember {
        name: member.name.clone(),
        message,
    };
    let contents = match member.method {
        METHOD_STORED => data.to_vec(),
        METHOD_DEFLATE => {
            // The sizes were checked against MAX_METADATA_SIZE, so the capacity is bounded.
            let mut contents = Vec::with_capacity(member.uncompressed_size as usize);
            DeflateDecoder::new(data)
                .take(limit.saturating_add(1))
                .read_to_end(&mut contents)
                .map_err(|error| corrupt(format!("deflate data: {error}")))?;
            contents
        }
        method => {
            return Err(MetadataError::UnsupportedCompression {
                name: member.name.clone(),
                method,
            })
        }
    };
    if contents.len() as u64 != member.uncompressed_size {
        return Err(corrupt(format!(
            "{} bytes of data where the central directory says {}",
            contents.len(),
            member.uncompressed_size
        )));
    }
    Ok(contents)
}

fn check_size(entry: &Entry) -> Result<(), MetadataError> {
    check_member_size(&entry.name, entry.compressed_size, entry.uncompressed_size)
}

fn check_member_size(name: &str, compressed: u64, uncompressed: u64) -> Result<(), MetadataError> {
    check_member_size_limited(name, compressed, uncompressed, MAX_METADATA_SIZE)
}

fn check_member_size_limited(
    name: &str,
    compressed: u64,
    uncompressed: u64,
    limit: u64,
) -> Result<(), MetadataError> {
    let size = compressed.max(uncompressed);
    if size > limit {
        return Err(MetadataError::TooLarge {
            name: name.to_owned(),
            size,
            limit,
        });
    }
    Ok(())
}

/// Every member of a zip held whole in memory, from its central directory.
pub(crate) fn zip_members(bytes: &[u8], filename: &str) -> Result<Vec<Member>, MetadataError> {
    Ok(whole_zip_entries(bytes, filename)?
        .into_iter()
        .map(member_of)
        .collect())
}

/// What the tail of a zip tells of its members (see [`zip_members_in_tail`]).
pub(crate) enum MembersInTail {
    /// The records needed start before the tail given: the bytes from `start` to the end.
    NeedMore { start: u64 },
    /// Every member, from the central directory.
    Members(Vec<Member>),
}

/// Every member of the zip `filename` (`file_len` bytes long) from `tail`, its last
/// `tail.len()` bytes, as [`locate_metadata_in_tail`] reads them.
pub(crate) fn zip_members_in_tail(
    tail: &[u8],
    file_len: u64,
    filename: &str,
) -> Result<MembersInTail, MetadataError> {
    let zip_error = |Malformed(message)| MetadataError::Zip {
        filename: filename.to_owned(),
        message,
    };
    Ok(match read_directory(tail, file_len).map_err(zip_error)? {
        Directory::NeedMore { start } => MembersInTail::NeedMore { start },
        Directory::Entries(entries) => MembersInTail::Members(
            check_member_count(entries, filename)?
                .into_iter()
                .map(member_of)
                .collect(),
        ),
    })
}

fn member_of(entry: Entry) -> Member {
    Member {
        name: entry.name,
        local_header_offset: entry.local_header_offset,
        compressed_size: entry.compressed_size,
        uncompressed_size: entry.uncompressed_size,
        method: entry.method,
        flags: entry.flags,
        crc32: entry.crc32,
    }
}

/// A restartable source of one zip member's bytes, for readers that need only part of a
/// member (the ELF reader): [`open`](Self::open) gives the archive's bytes from the member's
/// local file header on (the member's `local_header_offset`; [`member_fetch_len`] bytes cover
/// the header and the data), and may be called again to start over from there (what the
/// previous call gave is dropped first). A reader stops reading (drops what `open` gave) as
/// soon as it has what it needs, so a source that fetches lazily (HTTP range requests) pays
/// only for what is read.
///
/// The archive's bytes from the local header are a source themselves (`&[u8]`).
pub trait MemberSource {
    /// The bytes from the member's local file header on, from their start each time.
    fn open(&mut self) -> Result<Box<dyn Read + '_>, String>;
}

impl MemberSource for &[u8] {
    fn open(&mut self) -> Result<Box<dyn Read + '_>, String> {
        Ok(Box::new(*self))
    }
}

/// The archive's bytes from `member`'s local header on, for a zip held whole in memory.
pub(crate) fn local_bytes<'a>(bytes: &'a [u8], member: &Member) -> Result<&'a [u8], MetadataError> {
    usize::try_from(member.local_header_offset)
        .ok()
        .and_then(|offset| bytes.get(offset..))
        .ok_or_else(|| MetadataError::CorruptMember {
            name: member.name.clone(),
            message: "its local header offset is past the end of the file".to_owned(),
        })
}

/// The error of an archive `filename` that would give more than `limit` bytes once
/// decompressed (the bound of [`ArchiveLimits::max_inflated`]).
pub(crate) fn inflated_limit_exceeded(limit: u64, filename: &str) -> MetadataError {
    let limits = ArchiveLimits {
        max_inflated: limit,
        ..archive_limits()
    };
    limits.exceeded(
        filename,
        limits::LimitKind::Inflated,
        limit.saturating_add(1),
    )
}

/// How many compressed bytes are read from a source at a time.
const INPUT_CHUNK: usize = 64 * 1024;

/// A zip member's contents as a stream, from a [`MemberSource`]: its local header checked, its
/// data inflated (or copied, when stored) as far as [`read`](Self::read) and
/// [`skip_to`](Self::skip_to) ask; nothing is kept but a buffer of compressed input.
///
/// The checks of [`read_member`] that need the whole contents (their length against the
/// central directory's and their CRC-32) are made when the end of the data is reached; a
/// reader that stops earlier does without them (for a wheel whose hash was checked, they add
/// nothing). More data than the central directory says is an error as soon as it appears.
pub(crate) struct MemberStream<'r> {
    member: Member,
    /// The compressed data (at most `compressed_size` bytes of it).
    input: std::io::Take<Box<dyn Read + 'r>>,
    /// `None` for a stored member.
    inflate: Option<flate2::Decompress>,
    buffer: Vec<u8>,
    /// The unused input is `buffer[start..end]`.
    start: usize,
    end: usize,
    input_done: bool,
    crc: flate2::Crc,
    /// How many bytes of the contents have been given.
    position: u64,
    /// The end of the contents has been reached (and checked).
    done: bool,
}

impl<'r> MemberStream<'r> {
    /// Opens `member` from `source`, at most `limit` bytes of it: checks that it can be read
    /// (not encrypted, stored or deflated, no larger than `limit`) and its local header.
    pub(crate) fn open(
        source: &'r mut dyn MemberSource,
        member: &Member,
        limit: u64,
    ) -> Result<Self, MetadataError> {
        let corrupt = |message: String| MetadataError::CorruptMember {
            name: member.name.clone(),
            message,
        };
        check_member_readable(member, limit)?;
        let inflate = match member.method {
            METHOD_STORED => None,
            METHOD_DEFLATE => Some(flate2::Decompress::new(false)),
            method => {
                return Err(MetadataError::UnsupportedCompression {
                    name: member.name.clone(),
                    method,
                })
            }
        };
        let mut input = source
            .open()
            .map_err(|e| corrupt(format!("cannot read it: {e}")))?;
        let mut header = [0u8; LOCAL_HEADER_LEN as usize];
        input
            .read_exact(&mut header)
            .map_err(|e| corrupt(format!("its local header cannot be read: {e}")))?;
        let (Some(signature), Some(name_len), Some(extra_len)) = (
            read_u32(&header, 0),
            read_u16(&header, 26),
            read_u16(&header, 28),
        ) else {
            return Err(corrupt("its local header is truncated".to_owned()));
        };
        if signature != LOCAL_SIGNATURE {
            return Err(corrupt("no local file header at its offset".to_owned()));
        }
        let mut name = vec![0; usize::from(name_len)];
        input
            .read_exact(&mut name)
            .map_err(|e| corrupt(format!("its local header cannot be read: {e}")))?;
        let local_name = String::from_utf8_lossy(&name);
        if local_name != member.name {
            return Err(corrupt(format!(
                "its local header names `{local_name}` instead"
            )));
        }
        let extra = std::io::copy(
            &mut (&mut input).take(u64::from(extra_len)),
            &mut std::io::sink(),
        )
        .map_err(|e| corrupt(format!("its local header cannot be read: {e}")))?;
        if extra != u64::from(extra_len) {
            return Err(corrupt("its local header is truncated".to_owned()));
        }
        Ok(MemberStream {
            member: member.clone(),
            input: input.take(member.compressed_size),
            inflate,
            buffer: vec![0; INPUT_CHUNK],
            start: 0,
            end: 0,
            input_done: false,
            crc: flate2::Crc::new(),
            position: 0,
            done: false,
        })
    }

    /// How many bytes of the contents have been given.
    pub(crate) fn position(&self) -> u64 {
        self.position
    }

    /// The length of the contents the central directory gives.
    pub(crate) fn declared(&self) -> u64 {
        self.member.uncompressed_size
    }

    /// The length of the contents, once their end has been reached (and checked).
    pub(crate) fn total(&self) -> Option<u64> {
        self.done.then_some(self.position)
    }

    /// Fills `out` with the next bytes of the contents, or as many as there are; how many.
    /// Reaching the end checks the length and the CRC-32.
    pub(crate) fn read(&mut self, out: &mut [u8]) -> Result<usize, MetadataError> {
        let mut written = 0;
        while !self.done && written < out.len() {
            if self.start == self.end && !self.input_done {
                let read = loop {
                    match self.input.read(&mut self.buffer) {
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        other => break other,
                    }
                };
                let read = read.map_err(|e| self.corrupt(format!("reading its data: {e}")))?;
                (self.start, self.end) = (0, read);
                self.input_done = read == 0;
            }
            let (Some(input), Some(output)) = (
                self.buffer.get(self.start..self.end),
                out.get_mut(written..),
            ) else {
                return Err(self.corrupt("inconsistent state".to_owned()));
            };
            let (consumed, produced, end) = match &mut self.inflate {
                None => {
                    let len = input.len().min(output.len());
                    output
                        .get_mut(..len)
                        .unwrap_or_default()
                        .copy_from_slice(input.get(..len).unwrap_or_default());
                    (len, len, false)
                }
                Some(state) => {
                    let (before_in, before_out) = (state.total_in(), state.total_out());
                    let status = state
                        .decompress(input, output, flate2::FlushDecompress::None)
                        .map_err(|error| MetadataError::CorruptMember {
                            name: self.member.name.clone(),
                            message: format!("deflate data: {error}"),
                        })?;
                    // At most `input.len()` and `output.len()`.
                    let consumed = (state.total_in() - before_in) as usize;
                    let produced = (state.total_out() - before_out) as usize;
                    (consumed, produced, status == flate2::Status::StreamEnd)
                }
            };
            self.start += consumed;
            self.crc
                .update(out.get(written..written + produced).unwrap_or_default());
            written += produced;
            self.position += produced as u64;
            let exhausted = self.input_done && self.start == self.end;
            if end || (produced == 0 && consumed == 0 && (exhausted || self.start < self.end)) {
                // The end of the data, or (stalled) data that end too early: the length check
                // says so.
                self.done = true;
            }
            self.check()?;
        }
        Ok(written)
    }

    /// Reads and drops the contents up to `offset` (or their end).
    pub(crate) fn skip_to(&mut self, offset: u64) -> Result<(), MetadataError> {
        let mut scratch = vec![
            0;
            SKIP_CHUNK.min(
                usize::try_from(offset.saturating_sub(self.position)).unwrap_or(SKIP_CHUNK)
            )
        ];
        while !self.done && self.position < offset {
            let len = usize::try_from(offset - self.position)
                .unwrap_or(usize::MAX)
                .min(scratch.len());
            self.read(scratch.get_mut(..len).unwrap_or_default())?;
        }
        Ok(())
    }

    /// More data than the central directory says, and at the end, the length and the CRC-32.
    fn check(&self) -> Result<(), MetadataError> {
        let declared = self.member.uncompressed_size;
        if self.position > declared {
            return Err(self.corrupt(format!(
                "more data than the {declared} bytes the central directory says"
            )));
        }
        if self.done {
            if self.position != declared {
                return Err(self.corrupt(format!(
                    "{} bytes of data where the central directory says {declared}",
                    self.position
                )));
            }
            if self.crc.sum() != self.member.crc32 {
                return Err(self.corrupt("CRC-32 mismatch".to_owned()));
            }
        }
        Ok(())
    }

    fn corrupt(&self, message: String) -> MetadataError {
        MetadataError::CorruptMember {
            name: self.member.name.clone(),
            message,
        }
    }
}

/// How much is read at a time when skipping (into a buffer that is thrown away).
const SKIP_CHUNK: usize = 64 * 1024;

/// The wheel's `METADATA` entry among `entries` (see [`wheel_metadata`]).
fn choose_wheel_metadata<'a>(
    entries: &'a [Entry],
    filename: &str,
) -> Result<&'a Entry, MetadataError> {
    let candidates: Vec<(&Entry, &str)> = entries
        .iter()
        .filter_map(|entry| Some((entry, dist_info_stem(&entry.name)?)))
        .collect();
    let expected = wheel_name_version(filename);
    let matching = candidates.iter().find(|(_, stem)| {
        let Some((name, version)) = stem.rsplit_once('-') else {
            return false;
        };
        expected.is_some_and(|(expected_name, expected_version)| {
            py2nix_dist::names_equal(name, expected_name)
                && version.eq_ignore_ascii_case(expected_version)
        })
    });
    match (matching, candidates.as_slice()) {
        (Some((entry, _)), _) | (None, [(entry, _)]) => Ok(entry),
        (None, []) => Err(MetadataError::NoWheelMetadata {
            filename: filename.to_owned(),
        }),
        (None, _) => Err(MetadataError::AmbiguousWheelMetadata {
            filename: filename.to_owned(),
            candidates: candidates
                .iter()
                .map(|(entry, _)| entry.name.clone())
                .collect(),
        }),
    }
}

/// `<stem>` for a top-level `<stem>.dist-info/METADATA`.
fn dist_info_stem(path: &str) -> Option<&str> {
    let directory = path.strip_suffix("/METADATA")?;
    let stem = directory.strip_suffix(".dist-info")?;
    (!stem.is_empty() && !stem.contains('/')).then_some(stem)
}

/// The name and version parts of a wheel filename or path (PEP 427), or `None` if it is not one.
fn wheel_name_version(filename: &str) -> Option<(&str, &str)> {
    let basename = filename.rsplit('/').next().unwrap_or(filename);
    let wheel = py2nix_dist::WheelName::parse(basename)?;
    Some((wheel.name, wheel.version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wheel_filenames() {
        assert_eq!(
            wheel_name_version("requests-2.32.3-py3-none-any.whl"),
            Some(("requests", "2.32.3"))
        );
        assert_eq!(
            wheel_name_version("dir/foo_bar-1.0-1build-cp311-cp311-linux_x86_64.whl"),
            Some(("foo_bar", "1.0"))
        );
        assert_eq!(wheel_name_version("foo-1.0.tar.gz"), None);
        assert_eq!(wheel_name_version("foo-1.0-py3.whl"), None);
    }

    #[test]
    fn dist_info_stems() {
        assert_eq!(dist_info_stem("a-1.dist-info/METADATA"), Some("a-1"));
        assert_eq!(dist_info_stem("x/a-1.dist-info/METADATA"), None);
        assert_eq!(dist_info_stem("a-1.dist-info/METADATA.bak"), None);
        assert_eq!(dist_info_stem(".dist-info/METADATA"), None);
    }
}
