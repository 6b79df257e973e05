//! A zip archive's end records and central directory, read from the archive's tail alone.
//!
//! Every offset comes from untrusted bytes: arithmetic on them is checked and every slice is
//! taken with `get`, so no input can panic.

/// Bytes of the end of central directory record without its comment.
const EOCD_LEN: usize = 22;
/// Bytes of the ZIP64 end of central directory locator.
const LOCATOR_LEN: usize = 20;
/// Bytes of the ZIP64 end of central directory record up to its extensible data.
const EOCD64_LEN: usize = 56;
/// Bytes of a central directory header before its name.
const CENTRAL_HEADER_LEN: usize = 46;
/// The longest comment an end of central directory record can carry.
const MAX_COMMENT_LEN: usize = u16::MAX as usize;

const EOCD_SIGNATURE: u32 = 0x0605_4b50;
const LOCATOR_SIGNATURE: u32 = 0x0706_4b50;
const EOCD64_SIGNATURE: u32 = 0x0606_4b50;
const CENTRAL_SIGNATURE: u32 = 0x0201_4b50;
const ZIP64_EXTRA_ID: u16 = 0x0001;

/// Why the end records or the central directory cannot be read.
#[derive(Debug)]
pub(crate) struct Malformed(pub(crate) String);

/// One central directory entry.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// The name, decoded as UTF-8 with invalid sequences replaced (names py2nix looks for are
    /// ASCII, which CP437 and UTF-8 agree on).
    pub(crate) name: String,
    pub(crate) flags: u16,
    pub(crate) method: u16,
    pub(crate) crc32: u32,
    pub(crate) compressed_size: u64,
    pub(crate) uncompressed_size: u64,
    pub(crate) local_header_offset: u64,
}

/// What the tail of an archive tells.
#[derive(Debug)]
pub(crate) enum Directory {
    /// The records needed start before the tail: bytes from `start` to the end are needed.
    NeedMore { start: u64 },
    /// The whole central directory.
    Entries(Vec<Entry>),
}

/// Reads the central directory from `tail`, the last `tail.len()` bytes of an archive of
/// `file_len` bytes. A `NeedMore` start is always before the tail's start.
pub(crate) fn read_directory(tail: &[u8], file_len: u64) -> Result<Directory, Malformed> {
    let tail_start = file_len.checked_sub(tail.len() as u64).ok_or_else(|| {
        malformed(format!(
            "{} bytes of tail for a {file_len}-byte file",
            tail.len()
        ))
    })?;
    let Some(eocd_at) = find_eocd(tail) else {
        let searched_all = tail.len() >= EOCD_LEN + MAX_COMMENT_LEN || tail_start == 0;
        if searched_all {
            return Err(malformed("no end of central directory record".into()));
        }
        let start = file_len.saturating_sub((EOCD_LEN + MAX_COMMENT_LEN) as u64);
        return Ok(Directory::NeedMore { start });
    };
    let end = match end_record(tail, tail_start, eocd_at)? {
        Located::NeedMore(start) => return Ok(Directory::NeedMore { start }),
        Located::Found(end) => end,
    };
    let cd_end = end
        .offset
        .checked_add(end.size)
        .filter(|cd_end| *cd_end <= end.limit)
        .ok_or_else(|| {
            malformed(format!(
                "central directory at {} overruns its end record",
                end.offset
            ))
        })?;
    let Some(relative) = end.offset.checked_sub(tail_start) else {
        return Ok(Directory::NeedMore { start: end.offset });
    };
    let bytes = usize::try_from(relative)
        .ok()
        .zip(usize::try_from(cd_end - tail_start).ok())
        .and_then(|(from, to)| tail.get(from..to))
        .ok_or_else(|| malformed("central directory outside the bytes given".into()))?;
    let entries = central_entries(bytes, end.entries)?;
    Ok(Directory::Entries(entries))
}

/// Where the central directory is, from the (ZIP64) end of central directory record.
struct EndRecord {
    entries: u64,
    size: u64,
    offset: u64,
    /// The central directory must end at or before this offset: the start of the end records.
    limit: u64,
}

enum Located {
    NeedMore(u64),
    Found(EndRecord),
}

/// The end of central directory record's position in `tail`: the last signature whose comment
/// reaches exactly to the end, else the last one whose comment fits.
fn find_eocd(tail: &[u8]) -> Option<usize> {
    let last = tail.len().checked_sub(EOCD_LEN)?;
    let first = last.saturating_sub(MAX_COMMENT_LEN);
    let candidates = (first..=last)
        .rev()
        .filter(|at| read_u32(tail, *at) == Some(EOCD_SIGNATURE));
    let comment_end = |at: usize| {
        let comment_len = usize::from(read_u16(tail, at + 20)?);
        at.checked_add(EOCD_LEN)?.checked_add(comment_len)
    };
    let mut fitting = None;
    for at in candidates {
        match comment_end(at) {
            Some(end) if end == tail.len() => return Some(at),
            Some(end) if end < tail.len() && fitting.is_none() => fitting = Some(at),
            _ => {}
        }
    }
    fitting
}

/// Reads the end of central directory record at `eocd_at`, and the ZIP64 one when a ZIP64
/// locator precedes it.
fn end_record(tail: &[u8], tail_start: u64, eocd_at: usize) -> Result<Located, Malformed> {
    let field16 = |offset: usize| read_u16(tail, eocd_at + offset).unwrap_or(u16::MAX);
    let field32 = |offset: usize| read_u32(tail, eocd_at + offset).unwrap_or(u32::MAX);
    let (disk, entries, size, offset) = (field16(4), field16(10), field32(12), field32(16));
    let saturated = entries == u16::MAX || size == u32::MAX || offset == u32::MAX;
    let eocd_offset = tail_start + eocd_at as u64;
    let locator_at = eocd_at.checked_sub(LOCATOR_LEN);
    let has_locator = locator_at.and_then(|at| read_u32(tail, at)) == Some(LOCATOR_SIGNATURE);
    if let (Some(locator_at), true) = (locator_at, has_locator) {
        return zip64_end_record(tail, tail_start, locator_at);
    }
    if saturated {
        return match (locator_at, eocd_offset.checked_sub(LOCATOR_LEN as u64)) {
            (None, Some(start)) if tail_start > 0 => Ok(Located::NeedMore(start)),
            _ => Err(malformed("ZIP64 archive without a ZIP64 locator".into())),
        };
    }
    if disk != 0 {
        return Err(malformed("multi-disk archives are not supported".into()));
    }
    Ok(Located::Found(EndRecord {
        entries: entries.into(),
        size: size.into(),
        offset: offset.into(),
        limit: eocd_offset,
    }))
}

/// Follows the ZIP64 locator at `locator_at` to the ZIP64 end of central directory record.
fn zip64_end_record(tail: &[u8], tail_start: u64, locator_at: usize) -> Result<Located, Malformed> {
    let record_offset = read_u64(tail, locator_at + 8).unwrap_or(u64::MAX);
    let locator_offset = tail_start + locator_at as u64;
    let fits = record_offset
        .checked_add(EOCD64_LEN as u64)
        .is_some_and(|end| end <= locator_offset);
    if !fits {
        return Err(malformed(format!(
            "ZIP64 end record offset {record_offset} is out of place"
        )));
    }
    let Some(relative) = record_offset.checked_sub(tail_start) else {
        return Ok(Located::NeedMore(record_offset));
    };
    // `relative + EOCD64_LEN <= locator_at`, so it fits in usize and in `tail`.
    let at = usize::try_from(relative).map_err(|_| malformed("ZIP64 end record offset".into()))?;
    if read_u32(tail, at) != Some(EOCD64_SIGNATURE) {
        return Err(malformed(
            "bad ZIP64 end of central directory signature".into(),
        ));
    }
    let field = |offset: usize| read_u64(tail, at + offset).unwrap_or(u64::MAX);
    if read_u32(tail, at + 16) != Some(0) {
        return Err(malformed("multi-disk archives are not supported".into()));
    }
    Ok(Located::Found(EndRecord {
        entries: field(32),
        size: field(40),
        offset: field(48),
        limit: record_offset,
    }))
}

/// Parses `count` central directory headers from `bytes`.
fn central_entries(bytes: &[u8], count: u64) -> Result<Vec<Entry>, Malformed> {
    let mut entries = Vec::new();
    let mut at = 0usize;
    for index in 0..count {
        let (entry, next) = central_entry(bytes, at)
            .ok_or_else(|| malformed(format!("central directory entry {index} is malformed")))?;
        entries.push(entry);
        at = next;
    }
    Ok(entries)
}

/// The central directory header at `at`, and where the next one starts.
fn central_entry(bytes: &[u8], at: usize) -> Option<(Entry, usize)> {
    if read_u32(bytes, at)? != CENTRAL_SIGNATURE {
        return None;
    }
    let u16_at = |offset: usize| read_u16(bytes, at.checked_add(offset)?);
    let u32_at = |offset: usize| read_u32(bytes, at.checked_add(offset)?);
    let name_len = usize::from(u16_at(28)?);
    let extra_len = usize::from(u16_at(30)?);
    let comment_len = usize::from(u16_at(32)?);
    let name_start = at.checked_add(CENTRAL_HEADER_LEN)?;
    let extra_start = name_start.checked_add(name_len)?;
    let extra_end = extra_start.checked_add(extra_len)?;
    let next = extra_end.checked_add(comment_len)?;
    bytes.get(extra_end..next)?;
    let name = String::from_utf8_lossy(bytes.get(name_start..extra_start)?).into_owned();
    let mut entry = Entry {
        name,
        flags: u16_at(8)?,
        method: u16_at(10)?,
        crc32: u32_at(16)?,
        compressed_size: u32_at(20)?.into(),
        uncompressed_size: u32_at(24)?.into(),
        local_header_offset: u32_at(42)?.into(),
    };
    apply_zip64_extra(&mut entry, bytes.get(extra_start..extra_end)?)?;
    Some((entry, next))
}

/// Replaces the saturated 32-bit fields of `entry` by the ZIP64 extra field's 64-bit values,
/// which appear in the order uncompressed size, compressed size, local header offset.
fn apply_zip64_extra(entry: &mut Entry, extra: &[u8]) -> Option<()> {
    let saturated = u64::from(u32::MAX);
    let mut at = 0usize;
    while at + 4 <= extra.len() {
        let id = read_u16(extra, at)?;
        let len = usize::from(read_u16(extra, at + 2)?);
        let data = extra.get(at + 4..at.checked_add(4 + len)?)?;
        if id == ZIP64_EXTRA_ID {
            let mut values = data.chunks_exact(8).map(|chunk| read_u64(chunk, 0));
            for field in [
                &mut entry.uncompressed_size,
                &mut entry.compressed_size,
                &mut entry.local_header_offset,
            ] {
                if *field == saturated {
                    *field = values.next()??;
                }
            }
            return Some(());
        }
        at += 4 + len;
    }
    let needs_zip64 = [
        entry.uncompressed_size,
        entry.compressed_size,
        entry.local_header_offset,
    ]
    .contains(&saturated);
    (!needs_zip64).then_some(())
}

fn malformed(message: String) -> Malformed {
    Malformed(message)
}

pub(crate) fn read_u16(bytes: &[u8], at: usize) -> Option<u16> {
    let slice = bytes.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes(slice.try_into().ok()?))
}

pub(crate) fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let slice = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes(slice.try_into().ok()?))
}

fn read_u64(bytes: &[u8], at: usize) -> Option<u64> {
    let slice = bytes.get(at..at.checked_add(8)?)?;
    Some(u64::from_le_bytes(slice.try_into().ok()?))
}
