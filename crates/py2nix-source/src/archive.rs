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
//! A member of a zip held whole can also be inflated only as far as its reader needs
//! (`open_zip_member`, for the shared objects of a wheel).

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
    )?;
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
        .map(|entry| Member {
            name: entry.name,
            local_header_offset: entry.local_header_offset,
            compressed_size: entry.compressed_size,
            uncompressed_size: entry.uncompressed_size,
            method: entry.method,
            flags: entry.flags,
            crc32: entry.crc32,
        })
        .collect())
}

/// One member of a zip held whole in memory, ready to be inflated as far as its reader needs
/// (see [`MemberData`]); at most `limit` bytes.
pub(crate) fn open_zip_member<'a>(
    bytes: &'a [u8],
    member: &Member,
    limit: u64,
) -> Result<MemberData<'a>, MetadataError> {
    let local = usize::try_from(member.local_header_offset)
        .ok()
        .and_then(|offset| bytes.get(offset..))
        .ok_or_else(|| MetadataError::CorruptMember {
            name: member.name.clone(),
            message: "its local header offset is past the end of the file".to_owned(),
        })?;
    let data = member_data(local, member, limit)?;
    let declared = member.uncompressed_size;
    let contents = match member.method {
        METHOD_STORED => {
            if data.len() as u64 != declared {
                return Err(MemberData::wrong_size(member, data.len() as u64));
            }
            check_crc(member, data)?;
            Contents::Stored(data)
        }
        METHOD_DEFLATE => {
            // The size was checked against `limit`.
            let room = usize::try_from(declared.saturating_add(1)).map_err(|_| {
                MetadataError::TooLarge {
                    name: member.name.clone(),
                    size: declared,
                    limit,
                }
            })?;
            Contents::Deflated(Box::new(Inflating {
                decoder: Decoder {
                    input: data,
                    state: flate2::Decompress::new(false),
                    crc: flate2::Crc::new(),
                    inflated: 0,
                    done: false,
                },
                room,
                head: Kept::default(),
                tail: None,
            }))
        }
        method => {
            return Err(MetadataError::UnsupportedCompression {
                name: member.name.clone(),
                method,
            })
        }
    };
    Ok(MemberData {
        member: member.clone(),
        contents,
    })
}

/// A zip member's contents, inflated only as far as asked. [`fill`](Self::fill) inflates
/// more; what is kept is the [`head`](Self::head), the contents from their start, and after
/// a [`skip_to`](Self::skip_to) (which inflates without keeping, up to an offset) the
/// [`tail`](Self::tail) from there on; [`restart`](Self::restart) starts over, keeping
/// everything. [`total`](Self::total) is the length once the end has been reached. A stored
/// member is whole from the start.
///
/// The checks of [`read_member`] that need the whole contents (their length against the
/// central directory's and their CRC-32) are made when the end of the data is reached; a
/// reader that stops earlier does without them (for a wheel whose hash was checked, they add
/// nothing). Inflating never goes past the size the central directory gives (more data is an
/// error), so memory stays bounded by it.
pub(crate) struct MemberData<'a> {
    member: Member,
    contents: Contents<'a>,
}

enum Contents<'a> {
    Stored(&'a [u8]),
    Deflated(Box<Inflating<'a>>),
}

struct Inflating<'a> {
    decoder: Decoder<'a>,
    /// The declared size plus one byte, to notice more data than declared.
    room: usize,
    head: Kept,
    /// After a skip: where the tail starts, and the tail.
    tail: Option<(usize, Kept)>,
}

/// Inflated bytes kept: the buffer is zeroed up to its length, which grows as needed; the
/// first `filled` bytes are inflated.
#[derive(Default)]
struct Kept {
    buffer: Vec<u8>,
    filled: usize,
}

impl Kept {
    fn bytes(&self) -> &[u8] {
        self.buffer.get(..self.filled).unwrap_or_default()
    }

    /// Inflates until `len` bytes are kept or the data end; at most `cap` bytes are ever
    /// kept.
    fn fill(&mut self, decoder: &mut Decoder, len: usize, cap: usize) -> Result<(), String> {
        let len = len.min(cap);
        if self.buffer.len() < len {
            // Grown as needed (doubling), not to the declared size at once: a member may
            // declare far more than is ever kept of it.
            self.buffer.resize(len, 0);
        }
        let out = self.buffer.get_mut(self.filled..len).unwrap_or_default();
        self.filled += decoder.inflate(out)?;
        Ok(())
    }
}

/// The deflate stream, the CRC-32 of what it gave so far, and how much that is.
struct Decoder<'a> {
    input: &'a [u8],
    state: flate2::Decompress,
    crc: flate2::Crc,
    inflated: usize,
    done: bool,
}

impl Decoder<'_> {
    /// Inflates into `out` until it is full or the data end; how many bytes were written.
    fn inflate(&mut self, out: &mut [u8]) -> Result<usize, String> {
        let mut written = 0;
        while !self.done && written < out.len() {
            let (Some(input), Some(output)) = (
                usize::try_from(self.state.total_in())
                    .ok()
                    .and_then(|read| self.input.get(read..)),
                out.get_mut(written..),
            ) else {
                return Err("deflate data: inconsistent state".to_owned());
            };
            let (before_in, before_out) = (self.state.total_in(), self.state.total_out());
            let status = self
                .state
                .decompress(input, output, flate2::FlushDecompress::None)
                .map_err(|error| format!("deflate data: {error}"))?;
            // At most `output.len()`.
            let produced = (self.state.total_out() - before_out) as usize;
            let consumed = self.state.total_in() - before_in;
            self.crc
                .update(out.get(written..written + produced).unwrap_or_default());
            written += produced;
            self.inflated += produced;
            if status == flate2::Status::StreamEnd || (produced == 0 && consumed == 0) {
                // The end of the data, or (stalled) data that end too early: the length check
                // says so.
                self.done = true;
            }
        }
        Ok(written)
    }
}

impl MemberData<'_> {
    /// The contents from their start, as far as they are kept.
    pub(crate) fn head(&self) -> &[u8] {
        match &self.contents {
            Contents::Stored(data) => data,
            Contents::Deflated(inflating) => inflating.head.bytes(),
        }
    }

    /// After a skip, where the tail starts and the tail.
    pub(crate) fn tail(&self) -> Option<(u64, &[u8])> {
        match &self.contents {
            Contents::Stored(_) => None,
            Contents::Deflated(inflating) => inflating
                .tail
                .as_ref()
                .map(|(start, tail)| (*start as u64, tail.bytes())),
        }
    }

    /// The length of the contents, once known (checked).
    pub(crate) fn total(&self) -> Option<u64> {
        match &self.contents {
            Contents::Stored(data) => Some(data.len() as u64),
            Contents::Deflated(inflating) => inflating
                .decoder
                .done
                .then_some(inflating.decoder.inflated as u64),
        }
    }

    /// How many bytes have been inflated (kept or not).
    pub(crate) fn inflated(&self) -> u64 {
        match &self.contents {
            Contents::Stored(data) => data.len() as u64,
            Contents::Deflated(inflating) => inflating.decoder.inflated as u64,
        }
    }

    /// Inflates, into the tail after a skip and the head otherwise, until the contents up to
    /// `end` have been inflated or the end is reached. Reaching the end checks the length and
    /// the CRC-32.
    pub(crate) fn fill(&mut self, end: u64) -> Result<(), MetadataError> {
        let Contents::Deflated(inflating) = &mut self.contents else {
            return Ok(());
        };
        let end = usize::try_from(end)
            .unwrap_or(usize::MAX)
            .min(inflating.room);
        let (decoder, room) = (&mut inflating.decoder, inflating.room);
        let filled = match &mut inflating.tail {
            Some((start, tail)) => tail.fill(decoder, end.saturating_sub(*start), room - *start),
            None => inflating.head.fill(decoder, end, room),
        };
        filled.map_err(|message| self.corrupt(message))?;
        self.check()
    }

    /// Inflates without keeping up to `offset` (or the end); what is inflated from there on
    /// is the tail. Only once, before any tail.
    pub(crate) fn skip_to(&mut self, offset: u64) -> Result<(), MetadataError> {
        let Contents::Deflated(inflating) = &mut self.contents else {
            return Ok(());
        };
        if inflating.tail.is_some() {
            return Ok(());
        }
        let offset = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(inflating.room);
        let decoder = &mut inflating.decoder;
        let mut scratch = vec![0; SKIP_CHUNK.min(offset.saturating_sub(decoder.inflated))];
        while !decoder.done && decoder.inflated < offset {
            let len = (offset - decoder.inflated).min(scratch.len());
            let out = scratch.get_mut(..len).unwrap_or_default();
            decoder
                .inflate(out)
                .map_err(|message| MetadataError::CorruptMember {
                    name: self.member.name.clone(),
                    message,
                })?;
        }
        inflating.tail = Some((decoder.inflated, Kept::default()));
        self.check()
    }

    /// Whether the member is stored: its bytes are borrowed, never copied.
    pub(crate) fn is_stored(&self) -> bool {
        matches!(self.contents, Contents::Stored(_))
    }

    /// Starts inflating over, keeping everything from the start.
    pub(crate) fn restart(&mut self) {
        if let Contents::Deflated(inflating) = &mut self.contents {
            let decoder = &mut inflating.decoder;
            decoder.state.reset(false);
            decoder.crc = flate2::Crc::new();
            decoder.inflated = 0;
            decoder.done = false;
            inflating.head.filled = 0;
            inflating.tail = None;
        }
    }

    /// The length and CRC-32 checks: more data than declared, and at the end, the length
    /// and the CRC-32.
    fn check(&self) -> Result<(), MetadataError> {
        let Contents::Deflated(inflating) = &self.contents else {
            return Ok(());
        };
        let declared = self.member.uncompressed_size;
        let inflated = inflating.decoder.inflated as u64;
        if inflated > declared {
            return Err(self.corrupt(format!(
                "more data than the {declared} bytes the central directory says"
            )));
        }
        if inflating.decoder.done {
            if inflated != declared {
                return Err(Self::wrong_size(&self.member, inflated));
            }
            if inflating.decoder.crc.sum() != self.member.crc32 {
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

    fn wrong_size(member: &Member, len: u64) -> MetadataError {
        MetadataError::CorruptMember {
            name: member.name.clone(),
            message: format!(
                "{len} bytes of data where the central directory says {}",
                member.uncompressed_size
            ),
        }
    }
}

/// How much is inflated at a time when skipping (into a buffer that is thrown away).
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
