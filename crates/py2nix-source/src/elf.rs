//! The dynamic section of ELF files: which shared libraries an object needs (`DT_NEEDED`) and
//! its own soname (`DT_SONAME`), and the same for every shared object of a wheel.
//!
//! ELF32 and ELF64, little- and big-endian. The dynamic section is found through the program
//! headers (`PT_DYNAMIC`, with `DT_STRTAB`'s address mapped to a file offset through the
//! `PT_LOAD` segments) and, failing that, through the section headers (`SHT_DYNAMIC` and the
//! string table its `sh_link` names). Every offset comes from untrusted bytes: arithmetic is
//! checked and every slice taken through a bounds-checked `View`, so no input can panic;
//! what cannot be read is an [`ElfError`].
//!
//! A member is read from a [`MemberSource`] (the wheel in memory, or HTTP range requests in
//! the binary) as a stream, inflated only as far as the reader needs, and of what is inflated
//! only the byte ranges the reader asks for are kept (see `read_streaming`): the ELF header,
//! the program headers, the dynamic section, a window per library name in the string table
//! (and failing the program headers, the section headers). The reader runs on what is kept
//! so far; a `View` of it remembers the bytes the reader wanted and it did not hold, and when
//! there are any the result is dropped, they are read (from the start again if they were
//! passed over) and the reader runs again. Since every read of the file goes through the
//! view, a run that wanted nothing saw exactly what it would have seen in the whole file, so
//! the result is the same as reading the whole member. What is kept and what is inflated per
//! member are bounded ([`ObjectLimits`]).
//!
//! Nothing here starts a thread: [`wheel_libraries`] reads a wheel in memory member after
//! member, and a caller that wants to read objects concurrently lists them
//! ([`WheelObjects`]), reads each with [`read_object_libraries`] and hands the results to
//! [`WheelObjects::finish`].

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::archive::{
    archive_limits, local_bytes, zip_members, zip_members_in_tail, Member, MemberSource,
    MemberStream, MembersInTail,
};

const MAGIC: &[u8; 4] = b"\x7fELF";
const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const SHT_DYNAMIC: u32 = 6;
const DT_NULL: u64 = 0;
const DT_NEEDED: u64 = 1;
const DT_STRTAB: u64 = 5;
const DT_STRSZ: u64 = 10;
const DT_SONAME: u64 = 14;
/// The longest library name read from a string table: a library is found by its file name,
/// which Linux file systems keep to 255 bytes.
const MAX_NAME_LEN: usize = 255;
/// The most `DT_NEEDED` entries one object may list (real libraries list a few dozen).
const MAX_NEEDED_PER_OBJECT: usize = 256;
/// The most distinct libraries one wheel may need from outside it.
const MAX_NEEDED_PER_WHEEL: usize = 1024;
/// How many times the reader runs on one member: the header, the program headers, the
/// dynamic section and the names take four; failing the program headers, the section
/// headers, the section and the table they name take three more. A hostile object that asks
/// for one more entry at a time stops here.
const MAX_ROUNDS: usize = 32;
/// How much of a member is read first: enough for the ELF header and the program headers of
/// any ordinary object.
const FIRST_READ: u64 = 4096;
/// The fewest bytes between what is read and the next bytes wanted for part of the first
/// segment to be kept before passing over them (see [`HEAD_KEEP`]).
const MIN_SKIP: u64 = 64 * 1024;
/// Wanted ranges closer than this are read as one.
const MERGE_GAP: u64 = 512;
/// How much of the segment that starts the file is kept before passing over the rest of it
/// the first time: linkers put the dynamic string table there, and keeping it now spares
/// reading the member again from its start once the dynamic section (often far past that
/// segment) names it.
const HEAD_KEEP: u64 = 1 << 20;

/// Why an ELF file's dynamic section cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ElfError(pub String);

fn error<T>(message: impl Into<String>) -> Result<T, ElfError> {
    Err(ElfError(message.into()))
}

/// What an ELF file's dynamic section says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ElfDynamic {
    /// `DT_NEEDED`, in order, each once.
    pub needed: Vec<String>,
    /// `DT_SONAME`.
    pub soname: Option<String>,
}

/// Bounds on reading one shared object of a wheel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectLimits {
    /// The largest member read, compressed or not; a larger one is an error. 4 GiB by
    /// default, which py2nix uses (the largest CUDA libraries are several hundred MiB,
    /// TensorFlow 2.21's `libtensorflow_cc.so.2` 1.05 GiB; what is kept does not grow with the
    /// size, and what a wheel's objects inflate in all is bounded by the archive limits).
    pub max_size: u64,
    /// The most bytes of one member kept in memory at once. 8 MiB by default: what is kept
    /// is the first 4 KiB, up to 1 MiB more of the first segment, the program headers (a few
    /// hundred bytes in real objects), the dynamic section (a few KiB), a 256-byte window per
    /// library name and, only for an object without usable program headers, the section
    /// headers (at most 65,535 entries of 64 bytes: 4 MiB). An object that needs more is
    /// unreadable (an error naming the member), whatever its size.
    pub max_kept: u64,
    /// The most bytes of one member inflated (or read, when stored), passes from its start
    /// again included: this bounds the time one object takes. 8 GiB by default, twice the
    /// default `max_size` (a member is read at most once to its dynamic section and once
    /// more from its start to a string table passed over).
    pub max_inflated: u64,
}

impl Default for ObjectLimits {
    fn default() -> Self {
        ObjectLimits {
            max_size: 4 << 30,
            max_kept: 8 << 20,
            max_inflated: 8 << 30,
        }
    }
}

/// The bytes of a file the reader may look at: ranges of it (all of it, or what has been
/// read of it and kept), and its length once known. Every read goes through
/// [`get`](Self::get) (or [`clamp`](Self::clamp)); one that the bytes
/// kept cannot answer (but the file might) fails and is remembered in
/// [`wanted`](Self::wanted), so the caller knows the result does not stand and what to read
/// before trying again.
struct View<'a> {
    /// Where each range starts, and its bytes.
    ranges: Vec<(u64, &'a [u8])>,
    /// The file's length, when known.
    total: Option<u64>,
    /// How long the file is known to be at least.
    reached: u64,
    /// The ranges of the reads that failed; `(at, at)` when the reader needs to know whether
    /// the file reaches `at`.
    wanted: RefCell<Vec<(u64, u64)>>,
    /// Where the segment that starts the file ends, once read (a hint, see [`HEAD_KEEP`]).
    first_segment_end: Cell<Option<u64>>,
}

impl<'a> View<'a> {
    #[cfg(test)]
    fn whole(bytes: &'a [u8]) -> Self {
        View::new(
            vec![(0, bytes)],
            Some(bytes.len() as u64),
            bytes.len() as u64,
        )
    }

    fn new(ranges: Vec<(u64, &'a [u8])>, total: Option<u64>, reached: u64) -> Self {
        View {
            ranges,
            total,
            reached,
            wanted: RefCell::new(Vec::new()),
            first_segment_end: Cell::new(None),
        }
    }

    /// The bytes from `at` to `at + len`, if the file has them. When they are not kept (and
    /// the file may have them), they are wanted.
    fn get(&self, at: u64, len: u64) -> Option<&'a [u8]> {
        let end = at.checked_add(len)?;
        let found = self.ranges.iter().find_map(|(start, bytes)| {
            let from = usize::try_from(at.checked_sub(*start)?).ok()?;
            let to = usize::try_from(end.checked_sub(*start)?).ok()?;
            bytes.get(from..to)
        });
        if found.is_none() && self.total.is_none_or(|total| end <= total) {
            self.want(at, end);
        }
        found
    }

    /// How far the file is known to reach: its length, or the end of what is read.
    fn known(&self) -> u64 {
        let kept_end = self
            .ranges
            .iter()
            .map(|(start, bytes)| start.saturating_add(bytes.len() as u64))
            .max()
            .unwrap_or(0);
        self.total.unwrap_or_else(|| kept_end.max(self.reached))
    }

    /// `end`, or the file's length if it is shorter. When that is not known, reading up to
    /// `end` is wanted.
    fn clamp(&self, end: u64) -> u64 {
        let known = self.known();
        match self.total {
            Some(total) => end.min(total),
            None if end <= known => end,
            None => {
                self.want(end, end);
                known
            }
        }
    }

    /// Asks for the bytes from `at` to `at + len` at once, when the reader will read them
    /// piecemeal (a table of entries), so that they are read in one round rather than one
    /// entry at a time. Changes no result.
    fn prefetch(&self, at: u64, len: u64) {
        if let Some(end) = at.checked_add(len) {
            let end = self.total.map_or(end, |total| end.min(total));
            if at < end {
                let _ = self.get(at, end - at);
            }
        }
    }

    fn want(&self, start: u64, end: u64) {
        self.wanted.borrow_mut().push((start, end));
    }

    /// The reads that failed: what must be read for the result to stand (none if it stands).
    fn wanted(&self) -> Vec<(u64, u64)> {
        self.wanted.borrow().clone()
    }

    fn is_elf(&self) -> bool {
        self.get(0, 4) == Some(MAGIC.as_slice())
    }
}

/// How the file is laid out: word size and byte order.
#[derive(Clone, Copy)]
struct Layout {
    wide: bool,
    big: bool,
}

impl Layout {
    fn u16(self, bytes: &View, at: u64) -> Option<u16> {
        let b: [u8; 2] = bytes.get(at, 2)?.try_into().ok()?;
        Some(if self.big {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    }

    fn u32(self, bytes: &View, at: u64) -> Option<u32> {
        let b: [u8; 4] = bytes.get(at, 4)?.try_into().ok()?;
        Some(if self.big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }

    fn u64(self, bytes: &View, at: u64) -> Option<u64> {
        let b: [u8; 8] = bytes.get(at, 8)?.try_into().ok()?;
        Some(if self.big {
            u64::from_be_bytes(b)
        } else {
            u64::from_le_bytes(b)
        })
    }

    /// An address or offset: 8 bytes in ELF64, 4 in ELF32.
    fn word(self, bytes: &View, at: u64) -> Option<u64> {
        if self.wide {
            self.u64(bytes, at)
        } else {
            self.u32(bytes, at).map(u64::from)
        }
    }
}

/// A `PT_LOAD` segment: where its file bytes are mapped.
struct Segment {
    vaddr: u64,
    offset: u64,
    filesz: u64,
}

/// Where the dynamic entries are, and the string table if known as a file offset.
struct Dynamic {
    offset: u64,
    size: u64,
}

/// Reads the dynamic section of an ELF file held whole in `bytes`. A file without one (a
/// static executable, an object file) gives an empty [`ElfDynamic`].
#[cfg(test)]
fn read_elf_dynamic(bytes: &[u8]) -> Result<ElfDynamic, ElfError> {
    read_dynamic(&View::whole(bytes))
}

/// [`read_elf_dynamic`] on a [`View`].
fn read_dynamic(bytes: &View) -> Result<ElfDynamic, ElfError> {
    if !bytes.is_elf() {
        return error("not an ELF file");
    }
    let wide = match bytes.get(4, 1) {
        Some([1]) => false,
        Some([2]) => true,
        _ => return error("unknown ELF class"),
    };
    let big = match bytes.get(5, 1) {
        Some([1]) => false,
        Some([2]) => true,
        _ => return error("unknown ELF byte order"),
    };
    let l = Layout { wide, big };
    let short = || ElfError("the ELF header is truncated".to_string());
    let (phoff, shoff, sizes_at) = if wide {
        (l.u64(bytes, 0x20), l.u64(bytes, 0x28), 0x36)
    } else {
        (
            l.u32(bytes, 0x1C).map(u64::from),
            l.u32(bytes, 0x20).map(u64::from),
            0x2A,
        )
    };
    let (phoff, shoff) = (phoff.ok_or_else(short)?, shoff.ok_or_else(short)?);
    let phentsize = u64::from(l.u16(bytes, sizes_at).ok_or_else(short)?);
    let phnum = u64::from(l.u16(bytes, sizes_at + 2).ok_or_else(short)?);
    let shentsize = u64::from(l.u16(bytes, sizes_at + 4).ok_or_else(short)?);
    let shnum = u64::from(l.u16(bytes, sizes_at + 6).ok_or_else(short)?);

    // Program headers: PT_LOAD segments and PT_DYNAMIC.
    let mut segments = Vec::new();
    let mut dynamic = None;
    let min_phentsize = if wide { 56 } else { 32 };
    if phoff != 0 && phnum != 0 {
        if phentsize < min_phentsize {
            return error(format!("program header entries of {phentsize} bytes"));
        }
        bytes.prefetch(phoff, phnum * phentsize);
        for index in 0..phnum {
            let at = index
                .checked_mul(phentsize)
                .and_then(|o| o.checked_add(phoff))
                .ok_or_else(|| ElfError("program header offset overflows".into()))?;
            let p_type = l
                .u32(bytes, at)
                .ok_or_else(|| ElfError("the program headers are truncated".into()))?;
            let field = |wide_at: u64, narrow_at: u64| {
                at.checked_add(if wide { wide_at } else { narrow_at })
                    .and_then(|at| l.word(bytes, at))
                    .ok_or_else(|| ElfError("the program headers are truncated".into()))
            };
            let offset = field(8, 4)?;
            let vaddr = field(16, 8)?;
            let filesz = field(32, 16)?;
            if p_type == PT_LOAD && offset == 0 && bytes.first_segment_end.get().is_none() {
                bytes.first_segment_end.set(Some(filesz));
            }
            match p_type {
                PT_LOAD => segments.push(Segment {
                    vaddr,
                    offset,
                    filesz,
                }),
                PT_DYNAMIC if dynamic.is_none() => {
                    dynamic = Some(Dynamic {
                        offset,
                        size: filesz,
                    })
                }
                _ => {}
            }
        }
    }
    if let Some(found) = &dynamic {
        let entries = dynamic_entries(bytes, l, found)?;
        let strtab = entries
            .iter()
            .find(|(tag, _)| *tag == DT_STRTAB)
            .map(|(_, value)| *value);
        if let Some(address) = strtab {
            if let Some(offset) = map_address(&segments, address) {
                return collect(bytes, &entries, offset, strsz(&entries));
            }
        }
    }
    // Section headers: SHT_DYNAMIC and the string table it links to.
    let min_shentsize = if wide { 64 } else { 40 };
    if shoff != 0 && shnum != 0 {
        if shentsize < min_shentsize {
            return error(format!("section header entries of {shentsize} bytes"));
        }
        bytes.prefetch(shoff, shnum * shentsize);
        let section = |index: u64| -> Result<(u32, u64, u64, u32), ElfError> {
            let at = index
                .checked_mul(shentsize)
                .and_then(|o| o.checked_add(shoff))
                .ok_or_else(|| ElfError("section header offset overflows".into()))?;
            let truncated = || ElfError("the section headers are truncated".into());
            let field = |offset: u64| at.checked_add(offset).ok_or_else(truncated);
            let sh_type = l.u32(bytes, field(4)?).ok_or_else(truncated)?;
            let (offset, size, link) = if wide {
                (
                    l.u64(bytes, field(24)?),
                    l.u64(bytes, field(32)?),
                    l.u32(bytes, field(40)?),
                )
            } else {
                (
                    l.u32(bytes, field(16)?).map(u64::from),
                    l.u32(bytes, field(20)?).map(u64::from),
                    l.u32(bytes, field(24)?),
                )
            };
            Ok((
                sh_type,
                offset.ok_or_else(truncated)?,
                size.ok_or_else(truncated)?,
                link.ok_or_else(truncated)?,
            ))
        };
        for index in 0..shnum {
            let (sh_type, offset, size, link) = section(index)?;
            if sh_type != SHT_DYNAMIC {
                continue;
            }
            let entries = dynamic_entries(bytes, l, &Dynamic { offset, size })?;
            if u64::from(link) >= shnum {
                return error("the dynamic section links to no string table");
            }
            let (_, str_offset, str_size, _) = section(u64::from(link))?;
            return collect(bytes, &entries, str_offset, Some(str_size));
        }
    }
    if dynamic.is_some() {
        return error("the dynamic section's string table is in no segment or section");
    }
    Ok(ElfDynamic::default())
}

fn strsz(entries: &[(u64, u64)]) -> Option<u64> {
    entries
        .iter()
        .find(|(tag, _)| *tag == DT_STRSZ)
        .map(|(_, value)| *value)
}

/// The file offset of a virtual address inside a `PT_LOAD` segment's file bytes.
fn map_address(segments: &[Segment], address: u64) -> Option<u64> {
    segments.iter().find_map(|segment| {
        let delta = address.checked_sub(segment.vaddr)?;
        (delta < segment.filesz).then(|| segment.offset.checked_add(delta))?
    })
}

/// The dynamic entries (tag, value) up to `DT_NULL` or the end of the section.
fn dynamic_entries(
    bytes: &View,
    l: Layout,
    dynamic: &Dynamic,
) -> Result<Vec<(u64, u64)>, ElfError> {
    let entry_size: u64 = if l.wide { 16 } else { 8 };
    bytes.prefetch(dynamic.offset, dynamic.size);
    let end = dynamic
        .offset
        .checked_add(dynamic.size)
        .filter(|end| bytes.clamp(*end) == *end)
        .ok_or_else(|| ElfError("the dynamic section lies past the end of the file".into()))?;
    let mut entries = Vec::new();
    let mut at = dynamic.offset;
    while at.checked_add(entry_size).is_some_and(|next| next <= end) {
        let (tag, value) = if l.wide {
            (l.u64(bytes, at), l.u64(bytes, at + 8))
        } else {
            (
                l.u32(bytes, at).map(u64::from),
                l.u32(bytes, at + 4).map(u64::from),
            )
        };
        let (Some(tag), Some(value)) = (tag, value) else {
            return error("the dynamic section is truncated");
        };
        if tag == DT_NULL {
            break;
        }
        entries.push((tag, value));
        at += entry_size;
    }
    Ok(entries)
}

/// `DT_NEEDED` and `DT_SONAME` read from the string table at `strtab` (of `size` bytes, when
/// known).
fn collect(
    bytes: &View,
    entries: &[(u64, u64)],
    strtab: u64,
    size: Option<u64>,
) -> Result<ElfDynamic, ElfError> {
    // The table's end, as the dynamic section says (none known without DT_STRSZ).
    let table_end = size
        .and_then(|size| strtab.checked_add(size))
        .unwrap_or(u64::MAX);
    // A name is read from a window of the table: up to the first NUL, at most
    // MAX_NAME_LEN + 1 bytes (the table may hold megabytes of symbol names), and not past the
    // table's end or the file's. The windows of every name are asked for at once, before
    // the file's end is looked at, so that they are read in one round.
    let window = |offset: u64| -> Option<(u64, u64)> {
        let start = strtab
            .checked_add(offset)
            .filter(|start| *start < table_end)?;
        Some((
            start,
            table_end.min(start.saturating_add(MAX_NAME_LEN as u64 + 1)),
        ))
    };
    for (_, value) in entries
        .iter()
        .filter(|(tag, _)| *tag == DT_NEEDED || *tag == DT_SONAME)
        .take(MAX_NEEDED_PER_OBJECT + 1)
    {
        if let Some((start, end)) = window(*value) {
            bytes.prefetch(start, end - start);
        }
    }
    let string = |offset: u64| -> Result<String, ElfError> {
        let (start, end) = window(offset)
            .map(|(start, end)| (start, bytes.clamp(end)))
            .filter(|(start, end)| start < end)
            .ok_or_else(|| ElfError(format!("string {offset} lies outside the string table")))?;
        let slice = bytes.get(start, end - start).unwrap_or_default();
        let len = slice
            .iter()
            .take(MAX_NAME_LEN + 1)
            .position(|b| *b == 0)
            .ok_or_else(|| {
                if slice.len() > MAX_NAME_LEN {
                    ElfError(format!(
                        "string {offset} is longer than {MAX_NAME_LEN} bytes"
                    ))
                } else {
                    ElfError(format!("string {offset} is not terminated"))
                }
            })?;
        let text = std::str::from_utf8(slice.get(..len).unwrap_or_default())
            .map_err(|_| ElfError(format!("string {offset} is not UTF-8")))?;
        if text.is_empty() {
            return error(format!("string {offset} is empty"));
        }
        Ok(text.to_string())
    };
    let mut out = ElfDynamic::default();
    for (tag, value) in entries {
        match *tag {
            DT_NEEDED => {
                if out.needed.len() >= MAX_NEEDED_PER_OBJECT {
                    return error(format!(
                        "more than {MAX_NEEDED_PER_OBJECT} needed libraries (DT_NEEDED)"
                    ));
                }
                let name = string(*value)?;
                if !out.needed.contains(&name) {
                    out.needed.push(name);
                }
            }
            DT_SONAME => out.soname = Some(string(*value)?),
            _ => {}
        }
    }
    Ok(out)
}

/// How much of a member was read to read it (inflated, or copied when stored, passes from
/// the start again included), how much of that was kept, and how many times it was read
/// again from its start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Inflated {
    inflated: u64,
    kept: u64,
    restarts: usize,
}

/// The byte ranges of a member kept: sorted, neither overlapping nor touching.
#[derive(Default)]
struct Kept {
    ranges: Vec<(u64, Vec<u8>)>,
    /// Their total length.
    bytes: u64,
}

impl Kept {
    /// Adds the bytes from `start` on, merged with the ranges they overlap or touch.
    fn insert(&mut self, start: u64, bytes: Vec<u8>) {
        let end = start.saturating_add(bytes.len() as u64);
        let range_end = |(at, kept): &(u64, Vec<u8>)| at.saturating_add(kept.len() as u64);
        let first = self
            .ranges
            .partition_point(|range| range_end(range) < start);
        let last = self.ranges.partition_point(|(at, _)| *at <= end);
        if first >= last {
            self.ranges.insert(first, (start, bytes));
        } else {
            let union_start = self
                .ranges
                .get(first)
                .map_or(start, |(at, _)| start.min(*at));
            let union_end = self
                .ranges
                .get(last - 1)
                .map_or(end, |r| end.max(range_end(r)));
            let mut union = vec![0; usize::try_from(union_end - union_start).unwrap_or(0)];
            for (at, kept) in self
                .ranges
                .get(first..last)
                .unwrap_or_default()
                .iter()
                .chain(std::iter::once(&(start, bytes)))
            {
                let from = usize::try_from(at - union_start).unwrap_or(0);
                if let Some(place) = union.get_mut(from..from + kept.len()) {
                    place.copy_from_slice(kept);
                }
            }
            self.ranges.splice(first..last, [(union_start, union)]);
        }
        self.bytes = self.ranges.iter().map(|(_, kept)| kept.len() as u64).sum();
    }

    /// The pieces of the `wanted` ranges (as a [`View`] records them) that must still be
    /// read: sorted, close ones merged, none past `cap` (the declared size plus one byte,
    /// enough to find the end) or the known `total`; `(at, at)` for "read up to `at`".
    fn missing(
        &self,
        wanted: &[(u64, u64)],
        total: Option<u64>,
        reached: u64,
        cap: u64,
    ) -> Vec<(u64, u64)> {
        let limit = total.unwrap_or(cap).min(cap);
        let mut pieces = Vec::new();
        for &(start, end) in wanted {
            if start == end {
                if total.is_none() && start > reached {
                    pieces.push((start.min(cap), start.min(cap)));
                }
                continue;
            }
            let end = end.min(limit);
            if start >= end {
                if total.is_none() {
                    pieces.push((cap, cap));
                }
                continue;
            }
            let mut at = start;
            for (kept_start, kept) in &self.ranges {
                let kept_end = kept_start.saturating_add(kept.len() as u64);
                if kept_end <= at {
                    continue;
                }
                if *kept_start >= end {
                    break;
                }
                if *kept_start > at {
                    pieces.push((at, *kept_start));
                }
                at = kept_end;
                if at >= end {
                    break;
                }
            }
            if at < end {
                pieces.push((at, end));
            }
        }
        pieces.sort_unstable();
        let mut merged: Vec<(u64, u64)> = Vec::with_capacity(pieces.len());
        for (start, end) in pieces {
            match merged.last_mut() {
                Some(last) if start <= last.1.saturating_add(MERGE_GAP) => {
                    last.1 = last.1.max(end);
                }
                _ => merged.push((start, end)),
            }
        }
        merged
    }

    fn view(&self, total: Option<u64>, reached: u64) -> View<'_> {
        let ranges = self
            .ranges
            .iter()
            .map(|(start, bytes)| (*start, bytes.as_slice()))
            .collect();
        View::new(ranges, total, reached)
    }
}

/// Runs `read` on the contents of `member` from `source`, reading only as much as it needs
/// and keeping only the ranges it wants (see the module): first [`FIRST_READ`] bytes, then
/// what the last run wanted, until a run wants nothing that is not kept. Wanted bytes that
/// were passed over are read again from the start. Before passing over the first segment to
/// a far range, up to [`HEAD_KEEP`] bytes of it are kept.
fn read_streaming<T>(
    member: &Member,
    source: &mut dyn MemberSource,
    limits: &ObjectLimits,
    read: impl Fn(&View) -> T,
) -> Result<(T, Inflated), String> {
    let text = |e: crate::MetadataError| e.to_string();
    let size = member.compressed_size.max(member.uncompressed_size);
    if size > limits.max_size {
        return Err(format!(
            "it is {size} bytes; shared objects larger than {} bytes are not read",
            limits.max_size
        ));
    }
    let cap = member.uncompressed_size.saturating_add(1);
    let mut kept = Kept::default();
    let mut total = None;
    let mut reached = 0;
    let mut inflated = 0u64;
    let mut restarts = 0;
    let mut rounds = 0;
    let mut wanted = vec![(0, FIRST_READ)];
    let mut first_segment_end = None;
    let head_keep = HEAD_KEEP.min(limits.max_kept / 8);
    loop {
        // One pass over the member's data, from its start.
        let mut stream = MemberStream::open(source, member, limits.max_size).map_err(text)?;
        loop {
            let pieces = kept.missing(&wanted, total, reached, cap);
            if pieces.is_empty() {
                // Only when the run wanted bytes past the file's end, which it does not.
                return Err("its reader wants bytes it cannot have".to_owned());
            }
            if pieces
                .first()
                .is_some_and(|(start, _)| *start < stream.position())
            {
                restarts += 1;
                break;
            }
            for (start, end) in pieces {
                let from = stream.position();
                let head_end =
                    first_segment_end.map_or(0, |end: u64| end.min(head_keep).min(start));
                if start.saturating_sub(from) >= MIN_SKIP
                    && head_end > from
                    && !kept
                        .missing(&[(from, head_end)], total, reached, cap)
                        .is_empty()
                {
                    fetch(
                        &mut stream,
                        from,
                        head_end,
                        &mut kept,
                        &mut inflated,
                        limits,
                    )?;
                }
                fetch(&mut stream, start, end, &mut kept, &mut inflated, limits)?;
                reached = reached.max(stream.position());
                if let Some(end) = stream.total() {
                    total = Some(end);
                    break;
                }
            }
            rounds += 1;
            if rounds > MAX_ROUNDS {
                return Err(format!(
                    "reading its dynamic section takes more than {MAX_ROUNDS} rounds"
                ));
            }
            let view = kept.view(total, reached);
            let result = read(&view);
            first_segment_end = first_segment_end.or(view.first_segment_end.get());
            wanted = view.wanted();
            if wanted.is_empty() {
                let inflated = Inflated {
                    inflated,
                    kept: kept.bytes,
                    restarts,
                };
                return Ok((result, inflated));
            }
        }
    }
}

/// Reads the contents of `stream` up to `end` and keeps those from `start` on (none past the
/// end of the contents), within the bounds of `limits`.
fn fetch(
    stream: &mut MemberStream,
    start: u64,
    end: u64,
    kept: &mut Kept,
    inflated: &mut u64,
    limits: &ObjectLimits,
) -> Result<(), String> {
    let text = |e: crate::MetadataError| e.to_string();
    let from = stream.position();
    if start < from {
        return Err("its reader went back".to_owned());
    }
    if inflated.saturating_add(end - from) > limits.max_inflated {
        return Err(too_much_inflated(limits.max_inflated));
    }
    let len = end - start;
    if kept.bytes.saturating_add(len) > limits.max_kept {
        return Err(format!(
            "reading its dynamic section would keep more than {} bytes of it",
            limits.max_kept
        ));
    }
    let result = stream.skip_to(start).and_then(|()| {
        if len == 0 || stream.total().is_some() {
            return Ok(());
        }
        // Below `max_kept`, which a caller sets far below the address space.
        let mut bytes = vec![0; usize::try_from(len).unwrap_or(0)];
        let read = stream.read(&mut bytes)?;
        bytes.truncate(read);
        kept.insert(start, bytes);
        Ok(())
    });
    // At the declared end, one byte more finds the end of the data and makes its checks
    // (length, CRC-32), or finds more data than declared.
    let result = result.and_then(|()| match stream.position() == stream.declared() {
        true => stream.skip_to(stream.declared().saturating_add(1)),
        false => Ok(()),
    });
    *inflated += stream.position() - from;
    result.map_err(text)
}

/// Why a member is unreadable when reading it would inflate more than `limit` bytes.
fn too_much_inflated(limit: u64) -> String {
    format!("reading its dynamic section would inflate more than {limit} bytes of it")
}

/// Reads the dynamic section of one shared object of a wheel, `member` (from its central
/// directory), whose bytes `source` gives: `None` when the member is not an ELF file. Only
/// as much of the member is read as its dynamic section needs, and only what the reader
/// wants of that is kept, within `limits`; the result is the same as reading the whole
/// member. Errors name the member. [`WheelObjects::read`] does the same and also counts what
/// is inflated against the wheel's bound.
pub fn read_object_libraries(
    member: &Member,
    source: &mut dyn MemberSource,
    limits: &ObjectLimits,
) -> Result<Option<ElfDynamic>, ElfError> {
    read_object(member, source, limits).map(|(read, _)| read)
}

/// [`read_object_libraries`], and how much of the member was read and kept.
fn read_object(
    member: &Member,
    source: &mut dyn MemberSource,
    limits: &ObjectLimits,
) -> Result<(Option<ElfDynamic>, Inflated), ElfError> {
    let in_member = |e: &dyn std::fmt::Display| ElfError(format!("`{}`: {e}", member.name));
    let (read, inflated) = read_streaming(member, source, limits, |view| {
        view.is_elf().then(|| read_dynamic(view)).transpose()
    })
    .map_err(|e| in_member(&e))?;
    Ok((read.map_err(|e| in_member(&e))?, inflated))
}

/// What a wheel's shared objects need from outside it, and what they offer to other wheels.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WheelLibraries {
    /// Sonames some shared object of the wheel needs that the wheel does not hold: neither
    /// a file of that name anywhere in it (auditwheel's `<name>.libs/` included, whatever its
    /// hashed name) nor an object whose `DT_SONAME` it is. Sorted; at most
    /// 1024 (`MAX_NEEDED_PER_WHEEL`).
    pub needed: BTreeSet<String>,
    /// The ELF shared objects the wheel installs under site-packages, by file name (what the
    /// dynamic loader and autoPatchelf look a library up by), each with its directory
    /// relative to site-packages (`torch/lib`, `nvidia/cudnn/lib`; `""` at the top). A name
    /// in several directories keeps the first in sorted order.
    pub provided: BTreeMap<String, String>,
    /// How many ELF shared objects the wheel holds.
    pub objects: usize,
}

/// Whether a zip member's name is a shared object's: `*.so`, or `*.so.` followed by version
/// parts that start with a digit (`libz.so.1.2.13`, OpenSSL's `libcrypto-5409cd36.so.1.1.1k`).
fn is_shared_object_name(path: &str) -> bool {
    let base = path.rsplit('/').next().unwrap_or(path);
    let Some(at) = base.find(".so") else {
        return false;
    };
    let rest = &base[at + 3..];
    at > 0
        && (rest.is_empty()
            || rest.strip_prefix('.').is_some_and(|numbers| {
                numbers.split('.').all(|n| {
                    n.bytes().next().is_some_and(|b| b.is_ascii_digit())
                        && n.bytes().all(|b| b.is_ascii_alphanumeric())
                })
            }))
}

/// Where a wheel member is installed relative to site-packages: its directory there, or
/// `None` for a member installed elsewhere (`.data/scripts`, `.data/headers`, `.data/data`)
/// or with a path no installer would write (`..`, empty or control characters).
fn site_packages_dir(member: &str) -> Option<String> {
    let mut parts: Vec<&str> = member.split('/').collect();
    parts.pop()?;
    if let Some(first) = parts.first() {
        if first.ends_with(".data") {
            match parts.get(1) {
                Some(&"purelib") | Some(&"platlib") => {
                    parts.drain(..2);
                }
                _ => return None,
            }
        }
    }
    let clean = parts.iter().all(|part| {
        !part.is_empty()
            && *part != "."
            && *part != ".."
            && !part.chars().any(|c| c.is_control() || c == '\\')
    });
    clean.then(|| parts.join("/"))
}

/// Reads every shared object of a wheel held whole in `bytes` (its zip members named `*.so`
/// or `*.so.N…`; members that are not ELF files are skipped), one after the other, and
/// returns what they need from outside the wheel and what they install (see
/// [`read_object_libraries`] for how each is read).
pub fn wheel_libraries(
    bytes: &[u8],
    filename: &str,
    limits: &ObjectLimits,
) -> Result<WheelLibraries, ElfError> {
    let objects = WheelObjects::in_wheel(bytes, filename)?;
    objects.finish(objects.members.iter().enumerate().map(|(index, member)| {
        let mut local =
            local_bytes(bytes, member).map_err(|e| ElfError(format!("`{}`: {e}", member.name)))?;
        objects.read(index, &mut local, limits)
    }))
}

/// The shared objects of a wheel (its members named like shared objects), from its central
/// directory, to be read one by one ([`read`](Self::read), from any thread, in any order)
/// and put together by [`finish`](Self::finish).
#[derive(Debug)]
pub struct WheelObjects {
    /// The wheel's file name.
    filename: String,
    /// In the central directory's order.
    members: Vec<Member>,
    /// The base names of all the wheel's files: the wheel bundles these.
    bundled: BTreeSet<String>,
    /// The most bytes inflated from the wheel's objects in all
    /// ([`ArchiveLimits::max_inflated`](crate::ArchiveLimits::max_inflated)).
    budget: u64,
    /// The bytes inflated so far by [`read`](Self::read).
    inflated: AtomicU64,
}

impl Clone for WheelObjects {
    fn clone(&self) -> Self {
        WheelObjects {
            filename: self.filename.clone(),
            members: self.members.clone(),
            bundled: self.bundled.clone(),
            budget: self.budget,
            inflated: AtomicU64::new(self.inflated.load(Ordering::Relaxed)),
        }
    }
}

/// Two lists of the same wheel's objects are equal (whatever has been read of them).
impl PartialEq for WheelObjects {
    fn eq(&self, other: &Self) -> bool {
        (&self.filename, &self.members, &self.bundled)
            == (&other.filename, &other.members, &other.bundled)
    }
}

impl Eq for WheelObjects {}

/// What the tail of a wheel tells of its shared objects ([`WheelObjects::in_tail`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectsInTail {
    /// The records needed start before the tail given: fetch the bytes from `start` to the
    /// end of the file and call again with them. `start` is always before the previous tail.
    NeedMore { start: u64 },
    /// The wheel's shared objects.
    Objects(WheelObjects),
}

impl WheelObjects {
    /// The shared objects of the wheel `filename`, held whole in `bytes`.
    pub fn in_wheel(bytes: &[u8], filename: &str) -> Result<Self, ElfError> {
        let members = zip_members(bytes, filename).map_err(|e| ElfError(e.to_string()))?;
        Ok(Self::of(filename, members))
    }

    /// The shared objects of the wheel `filename`, `file_len` bytes long, from `tail`, its
    /// last `tail.len()` bytes (start with [`zip_tail_request_len`](crate::zip_tail_request_len)
    /// bytes, as for the metadata).
    pub fn in_tail(tail: &[u8], file_len: u64, filename: &str) -> Result<ObjectsInTail, ElfError> {
        match zip_members_in_tail(tail, file_len, filename).map_err(|e| ElfError(e.to_string()))? {
            MembersInTail::NeedMore { start } => Ok(ObjectsInTail::NeedMore { start }),
            MembersInTail::Members(members) => {
                Ok(ObjectsInTail::Objects(Self::of(filename, members)))
            }
        }
    }

    fn of(filename: &str, all: Vec<Member>) -> Self {
        // Any file of the wheel may be a library it bundles, whatever its name.
        let bundled = all
            .iter()
            .filter(|member| !member.name.ends_with('/'))
            .map(|member| {
                let base = member.name.rsplit('/').next().unwrap_or(&member.name);
                base.to_string()
            })
            .collect();
        let members = all
            .into_iter()
            .filter(|member| !member.name.ends_with('/') && is_shared_object_name(&member.name))
            .collect();
        WheelObjects {
            filename: filename.to_owned(),
            members,
            bundled,
            budget: archive_limits().max_inflated,
            inflated: AtomicU64::new(0),
        }
    }

    /// Reads shared object `index` of [`members`](Self::members) from `source`, as
    /// [`read_object_libraries`] does, and counts what it inflates against the wheel's bound
    /// on bytes inflated in all ([`ArchiveLimits::max_inflated`](crate::ArchiveLimits),
    /// `PY2NIX_ARCHIVE_MAX_INFLATED`): an object that would pass it makes the wheel
    /// unreadable. (Objects read at the same time each see what the others had inflated when
    /// they started.)
    pub fn read(
        &self,
        index: usize,
        source: &mut dyn MemberSource,
        limits: &ObjectLimits,
    ) -> Result<Option<ElfDynamic>, ElfError> {
        let member = self
            .members
            .get(index)
            .ok_or_else(|| ElfError(format!("`{}` has no shared object {index}", self.filename)))?;
        let left = self
            .budget
            .saturating_sub(self.inflated.load(Ordering::Relaxed));
        let allowance = limits.max_inflated.min(left);
        let bounded = ObjectLimits {
            max_inflated: allowance,
            ..*limits
        };
        match read_object(member, source, &bounded) {
            Ok((read, inflated)) => {
                self.inflated
                    .fetch_add(inflated.inflated, Ordering::Relaxed);
                Ok(read)
            }
            Err(error)
                if allowance < limits.max_inflated
                    && error.0
                        == format!("`{}`: {}", member.name, too_much_inflated(allowance)) =>
            {
                let exceeded = crate::archive::inflated_limit_exceeded(self.budget, &self.filename);
                Err(ElfError(format!("`{}`: {exceeded}", member.name)))
            }
            Err(error) => Err(error),
        }
    }

    /// The shared objects to read, in the central directory's order.
    pub fn members(&self) -> &[Member] {
        &self.members
    }

    /// What the wheel needs and installs, from the results of [`read_object_libraries`] for
    /// [`members`](Self::members) in their order. The first error in that order is the
    /// wheel's (results after it are not looked at); a missing result is an error.
    pub fn finish(
        &self,
        read: impl IntoIterator<Item = Result<Option<ElfDynamic>, ElfError>>,
    ) -> Result<WheelLibraries, ElfError> {
        let mut bundled = self.bundled.clone();
        let mut needed = BTreeSet::new();
        let mut provided = BTreeMap::new();
        let mut objects = 0;
        let mut read = read.into_iter();
        for member in &self.members {
            let dynamic = read.next().ok_or_else(|| {
                ElfError(format!("`{}`: the shared object was not read", member.name))
            })?;
            let Some(dynamic) = dynamic? else {
                continue;
            };
            objects += 1;
            if let Some(soname) = dynamic.soname {
                bundled.insert(soname);
            }
            needed.extend(dynamic.needed);
            let base = member.name.rsplit('/').next().unwrap_or(&member.name);
            if let Some(dir) = site_packages_dir(&member.name) {
                provided
                    .entry(base.to_string())
                    .and_modify(|kept: &mut String| {
                        if dir < *kept {
                            kept.clone_from(&dir);
                        }
                    })
                    .or_insert(dir);
            }
        }
        let needed: BTreeSet<String> = needed
            .into_iter()
            .filter(|name| !bundled.contains(name))
            .collect();
        if needed.len() > MAX_NEEDED_PER_WHEEL {
            return error(format!(
                "its shared objects need {} libraries from outside it, more than {MAX_NEEDED_PER_WHEEL}",
                needed.len()
            ));
        }
        Ok(WheelLibraries {
            needed,
            provided,
            objects,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal shared object: ELF header, a PT_LOAD and a PT_DYNAMIC program header, the
    /// dynamic entries, the string table, and (optionally) section headers for both.
    pub(crate) fn build(
        wide: bool,
        big: bool,
        needed: &[&str],
        soname: Option<&str>,
        sections: bool,
        program: bool,
    ) -> Vec<u8> {
        build_with(&Shape {
            wide,
            big,
            needed,
            soname,
            sections,
            program,
            ..Shape::default()
        })
    }

    /// What [`build_with`] makes.
    #[derive(Clone, Copy, Default)]
    pub(crate) struct Shape<'a> {
        wide: bool,
        big: bool,
        needed: &'a [&'a str],
        soname: Option<&'a str>,
        sections: bool,
        program: bool,
        /// Filler bytes (like code) before the dynamic section, and as many at the end or
        /// before the section headers (like debug data).
        padding: usize,
        /// Where the string table is.
        strtab: Strtab,
        /// Two `PT_LOAD` segments, the first this many bytes from the start, rather than one
        /// for the whole file.
        first_segment: Option<usize>,
        /// With [`Strtab::First`], filler bytes between the program headers and the string
        /// table.
        before_strtab: usize,
    }

    /// Where [`build_with`] puts the string table.
    #[derive(Clone, Copy, Default, PartialEq, Eq)]
    pub(crate) enum Strtab {
        /// Right after the dynamic section.
        #[default]
        AfterDynamic,
        /// At the very end, after the section headers, as patchelf leaves it.
        Last,
        /// Right after the program headers, as linkers put it.
        First,
    }

    /// Bytes that deflate cannot shrink much.
    fn filler(len: usize, mut seed: u32) -> Vec<u8> {
        (0..len)
            .map(|_| {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                (seed >> 16) as u8
            })
            .collect()
    }

    /// A shared object laid out as `shape` says: ELF header, program headers, the string
    /// table where `shape.strtab` says, filler, the dynamic section, filler and the section
    /// headers.
    pub(crate) fn build_with(shape: &Shape) -> Vec<u8> {
        let Shape {
            wide,
            big,
            needed,
            soname,
            sections,
            program,
            padding,
            strtab: strtab_at,
            first_segment,
            before_strtab,
        } = *shape;
        let put = |out: &mut Vec<u8>, value: u64, size: usize| {
            let bytes = value.to_le_bytes();
            let mut field: Vec<u8> = bytes[..size].to_vec();
            if big {
                field.reverse();
            }
            out.extend(field);
        };
        let word = if wide { 8 } else { 4 };
        let ehsize = if wide { 64 } else { 52 };
        let phentsize = if wide { 56 } else { 32 };
        let shentsize = if wide { 64 } else { 40 };
        let loads = if first_segment.is_some() { 2 } else { 1 };
        let phnum = if program { loads + 1 } else { 0 };
        // The string table.
        let mut strtab = vec![0u8];
        let mut offsets = Vec::new();
        for name in needed.iter().chain(soname.iter()) {
            offsets.push(strtab.len() as u64);
            strtab.extend(name.as_bytes());
            strtab.push(0);
        }
        let dyn_entry = 2 * word;
        let dyn_count = needed.len() + usize::from(soname.is_some()) + 3; // STRTAB, STRSZ, NULL
        let dyn_size = dyn_count * dyn_entry;
        let shsize = if sections { 3 * shentsize } else { 0 };
        let phoff = ehsize;
        let after_ph = phoff + phnum * phentsize;
        let (str_off, dyn_off, shoff) = match strtab_at {
            Strtab::First => {
                let str_off = after_ph + before_strtab;
                let dyn_off = str_off + strtab.len() + padding;
                (str_off, dyn_off, dyn_off + dyn_size + padding)
            }
            Strtab::AfterDynamic => {
                let dyn_off = after_ph + padding;
                let str_off = dyn_off + dyn_size;
                (str_off, dyn_off, str_off + strtab.len() + padding)
            }
            Strtab::Last => {
                let dyn_off = after_ph + padding;
                let shoff = dyn_off + dyn_size;
                (shoff + shsize, dyn_off, shoff)
            }
        };
        let total = (str_off + strtab.len()).max(shoff + shsize);
        let first_segment = first_segment.map(|first| first.min(total));
        let vaddr_base: u64 = 0x10000;
        let mut out = filler(total, 1);
        let mut place = |at: usize, bytes: Vec<u8>| {
            out[at..at + bytes.len()].copy_from_slice(&bytes);
        };
        let mut header = Vec::new();
        header.extend(MAGIC);
        header.push(if wide { 2 } else { 1 });
        header.push(if big { 2 } else { 1 });
        header.push(1);
        header.resize(16, 0);
        put(&mut header, 3, 2); // e_type ET_DYN
        put(&mut header, 62, 2); // e_machine
        put(&mut header, 1, 4); // e_version
        put(&mut header, 0, word); // e_entry
        put(&mut header, if program { phoff as u64 } else { 0 }, word);
        put(&mut header, if sections { shoff as u64 } else { 0 }, word);
        put(&mut header, 0, 4); // e_flags
        put(&mut header, ehsize as u64, 2);
        put(&mut header, phentsize as u64, 2);
        put(&mut header, phnum as u64, 2);
        put(&mut header, shentsize as u64, 2);
        put(&mut header, if sections { 3 } else { 0 }, 2);
        put(&mut header, 0, 2);
        assert_eq!(header.len(), ehsize);
        place(0, header);
        let phdr = |out: &mut Vec<u8>, p_type: u64, offset: u64, vaddr: u64, size: u64| {
            put(out, p_type, 4);
            if wide {
                put(out, 6, 4); // flags
                put(out, offset, 8);
                put(out, vaddr, 8);
                put(out, vaddr, 8);
                put(out, size, 8);
                put(out, size, 8);
                put(out, 8, 8);
            } else {
                put(out, offset, 4);
                put(out, vaddr, 4);
                put(out, vaddr, 4);
                put(out, size, 4);
                put(out, size, 4);
                put(out, 6, 4);
                put(out, 8, 4);
            }
        };
        if program {
            let mut table = Vec::new();
            match first_segment {
                Some(first) => {
                    phdr(&mut table, u64::from(PT_LOAD), 0, vaddr_base, first as u64);
                    phdr(
                        &mut table,
                        u64::from(PT_LOAD),
                        first as u64,
                        vaddr_base + first as u64,
                        (total - first) as u64,
                    );
                }
                None => phdr(&mut table, u64::from(PT_LOAD), 0, vaddr_base, total as u64),
            }
            phdr(
                &mut table,
                u64::from(PT_DYNAMIC),
                dyn_off as u64,
                vaddr_base + dyn_off as u64,
                dyn_size as u64,
            );
            place(phoff, table);
        }
        let mut dynamic = Vec::new();
        let mut entry = |tag: u64, value: u64| {
            put(&mut dynamic, tag, word);
            put(&mut dynamic, value, word);
        };
        for offset in &offsets[..needed.len()] {
            entry(DT_NEEDED, *offset);
        }
        if soname.is_some() {
            entry(DT_SONAME, offsets[needed.len()]);
        }
        entry(DT_STRTAB, vaddr_base + str_off as u64);
        entry(DT_STRSZ, strtab.len() as u64);
        entry(DT_NULL, 0);
        assert_eq!(dynamic.len(), dyn_size);
        place(dyn_off, dynamic);
        if sections {
            let mut table = Vec::new();
            let mut shdr = |sh_type: u64, offset: u64, size: u64, link: u64| {
                put(&mut table, 0, 4);
                put(&mut table, sh_type, 4);
                put(&mut table, 0, word); // flags
                put(&mut table, 0, word); // addr
                put(&mut table, offset, word);
                put(&mut table, size, word);
                put(&mut table, link, 4);
                put(&mut table, 0, 4);
                put(&mut table, 8, word);
                put(&mut table, 0, word);
            };
            shdr(0, 0, 0, 0);
            shdr(u64::from(SHT_DYNAMIC), dyn_off as u64, dyn_size as u64, 2);
            shdr(3, str_off as u64, strtab.len() as u64, 0);
            place(shoff, table);
        }
        place(str_off, strtab);
        out
    }

    /// Every layout [`build_with`] makes, with two needed libraries and a soname.
    fn shapes(padding: usize) -> Vec<Shape<'static>> {
        let mut shapes = Vec::new();
        for wide in [false, true] {
            for big in [false, true] {
                for (sections, program) in [(true, true), (false, true), (true, false)] {
                    for strtab in [Strtab::AfterDynamic, Strtab::Last, Strtab::First] {
                        for first_segment in [None, Some(300)] {
                            shapes.push(Shape {
                                wide,
                                big,
                                needed: &["libstdc++.so.6", "libm.so.6"],
                                soname: Some("libx.so"),
                                sections,
                                program,
                                padding,
                                strtab,
                                first_segment,
                                before_strtab: 0,
                            });
                        }
                    }
                }
            }
        }
        shapes
    }

    /// Reads `bytes[..len]` as a prefix of `bytes`: either the reader wants more than the
    /// prefix, or its result is the whole file's.
    fn check_prefix(bytes: &[u8], len: usize) {
        let total = (len == bytes.len()).then_some(len as u64);
        check_parts(bytes, parts(&bytes[..len], None, total));
    }

    /// Reads `bytes` through `view`, which holds some of them: either the reader wants bytes
    /// the view does not hold, or its result is the whole file's.
    fn check_parts(bytes: &[u8], view: View) {
        let whole = read_elf_dynamic(bytes);
        let read = read_dynamic(&view);
        let held = |at: u64, end: u64| {
            view.ranges
                .iter()
                .any(|(start, bytes)| at >= *start && end <= start + bytes.len() as u64)
        };
        let wanted = view.wanted();
        for &(start, end) in &wanted {
            if start == end {
                assert!(
                    view.total.is_none() && start > view.known(),
                    "wants to reach {start}, which the view knows"
                );
            } else {
                assert!(
                    !held(start, end),
                    "wants {start}..{end}, which the view holds"
                );
            }
        }
        if wanted.is_empty() {
            assert_eq!(read, whole);
        }
    }

    /// A view of `head` (from the start) and maybe `tail` (from some offset on).
    fn parts<'a>(head: &'a [u8], tail: Option<(u64, &'a [u8])>, total: Option<u64>) -> View<'a> {
        let mut ranges = vec![(0, head)];
        ranges.extend(tail);
        View::new(ranges, total, 0)
    }

    #[test]
    fn every_class_and_byte_order_through_either_header_table() {
        for shape in shapes(0) {
            let bytes = build_with(&Shape {
                needed: &["libz.so.1", "libc.so.6", "libz.so.1"],
                soname: Some("libfoo.so.2"),
                ..shape
            });
            let (wide, big, sections) = (shape.wide, shape.big, shape.sections);
            let read = read_elf_dynamic(&bytes)
                .unwrap_or_else(|e| panic!("wide {wide} big {big} sections {sections}: {e}"));
            assert_eq!(
                read.needed,
                ["libz.so.1", "libc.so.6"],
                "wide {wide} big {big}"
            );
            assert_eq!(read.soname.as_deref(), Some("libfoo.so.2"));
        }
        // Neither table: a static file.
        assert_eq!(
            read_elf_dynamic(&build(true, false, &["libz.so.1"], None, false, false)).unwrap(),
            ElfDynamic::default()
        );
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(read_elf_dynamic(b"").is_err());
        assert!(read_elf_dynamic(b"MZ\x90\x00").is_err());
        assert!(read_elf_dynamic(b"\x7fELF\x03\x01").is_err());
        assert!(read_elf_dynamic(b"\x7fELF\x02\x01\x01").is_err());
        let mut bad_string = build(true, false, &["libz.so.1"], None, false, true);
        let len = bad_string.len();
        bad_string[len - 1] = b'x'; // the last string loses its terminator
        assert!(read_elf_dynamic(&bad_string).is_err());
    }

    /// Every truncation and many single-byte corruptions of valid files, read whole and as
    /// prefixes: an error or a result, never a panic, and a prefix that wants nothing more
    /// gives the whole file's result.
    #[test]
    fn truncated_and_corrupted_files_never_panic() {
        for shape in shapes(0) {
            let bytes = build_with(&shape);
            for len in 0..bytes.len() {
                let _ = read_elf_dynamic(&bytes[..len]);
            }
            let mut seed: u32 = 0x1234_5678;
            for round in 0..500 {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                let mut copy = bytes.clone();
                let at = (seed as usize >> 8) % copy.len();
                copy[at] = (seed >> 3) as u8;
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                let at2 = (seed as usize >> 8) % copy.len();
                copy[at2] = 0xff;
                let _ = read_elf_dynamic(&copy);
                let len = (seed as usize >> 4) % (copy.len() + 1);
                check_prefix(&copy, len);
                let tail_start = (seed as usize >> 12) % (copy.len() + 1);
                let tail_end = tail_start + (seed as usize >> 20) % (copy.len() + 1 - tail_start);
                let total = (seed & 1 == 0).then_some(copy.len() as u64);
                check_parts(
                    &copy,
                    parts(
                        &copy[..len.min(tail_start)],
                        Some((tail_start as u64, &copy[tail_start..tail_end])),
                        total,
                    ),
                );
                if round % 50 == 0 {
                    for len in 0..=copy.len() {
                        check_prefix(&copy, len);
                    }
                }
            }
        }
    }

    /// The reader on every prefix of a file, and on many heads and tails of it, in every
    /// layout: it wants bytes it does not have, or gives the whole file's result.
    #[test]
    fn every_view_gives_the_whole_files_result_or_wants_more() {
        for padding in [0, 100] {
            for shape in shapes(padding) {
                let bytes = build_with(&shape);
                let len = bytes.len();
                for head in 0..=len {
                    check_prefix(&bytes, head);
                }
                for head in [0, 64, 300, len / 3] {
                    for tail_start in (head.min(len)..=len).step_by(23) {
                        for tail_len in [0, 50, 200, len] {
                            let tail_end = (tail_start + tail_len).min(len);
                            for total in [None, Some(len as u64)] {
                                check_parts(
                                    &bytes,
                                    parts(
                                        &bytes[..head.min(len)],
                                        Some((tail_start as u64, &bytes[tail_start..tail_end])),
                                        total,
                                    ),
                                );
                            }
                        }
                    }
                }
            }
        }
        // A file ending exactly at a prefix the reader does not know to be the whole file.
        let bytes = build_with(&shapes(0)[0]);
        let view = parts(&bytes, None, None);
        let _ = read_dynamic(&view);
        assert!(view
            .wanted()
            .iter()
            .all(|(_, end)| *end > bytes.len() as u64));
    }

    /// A zip of `members` (name, contents, deflated or stored).
    fn zip_of(members: &[(&str, &[u8], bool)]) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, data, deflated) in members {
            let method = if *deflated {
                zip::CompressionMethod::Deflated
            } else {
                zip::CompressionMethod::Stored
            };
            let options = zip::write::SimpleFileOptions::default().compression_method(method);
            zip.start_file(*name, options).unwrap();
            std::io::Write::write_all(&mut zip, data).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    /// Sets a 32-bit field of `name`'s central directory entry (`at` bytes into it).
    fn patch_central(zip: &mut [u8], name: &str, at: usize, value: u32) {
        let header = (0..zip.len() - 46)
            .find(|&i| {
                zip[i..].starts_with(b"PK\x01\x02") && {
                    let name_len = usize::from(u16::from_le_bytes([zip[i + 28], zip[i + 29]]));
                    zip.get(i + 46..i + 46 + name_len) == Some(name.as_bytes())
                }
            })
            .unwrap();
        zip[header + at..header + at + 4].copy_from_slice(&value.to_le_bytes());
    }

    #[test]
    fn a_wheel_needs_what_its_objects_need_minus_what_it_bundles() {
        for padding in [0, 600_000] {
            let core = build_with(&Shape {
                wide: true,
                needed: &[
                    "libopenblas-r0.so",
                    "libgfortran-abc.so.5",
                    "libz.so.1",
                    "libc.so.6",
                ],
                sections: true,
                program: true,
                padding,
                ..Shape::default()
            });
            // auditwheel's bundled copies: found by file name and by DT_SONAME.
            let openblas = build_with(&Shape {
                wide: true,
                needed: &["libgfortran-abc.so.5", "libm.so.6"],
                sections: true,
                program: true,
                padding,
                strtab: Strtab::Last,
                first_segment: Some(1000),
                ..Shape::default()
            });
            let gfortran = build_with(&Shape {
                wide: true,
                needed: &["libquadmath.so.0"],
                soname: Some("libgfortran-abc.so.5"),
                sections: true,
                program: true,
                padding,
                strtab: Strtab::Last,
                ..Shape::default()
            });
            let bytes = zip_of(&[
                ("pkg/_core.cpython-311-x86_64-linux-gnu.so", &core, true),
                ("pkg.libs/libopenblas-r0.so", &openblas, true),
                ("pkg.libs/libgfortran-abc.so.5.0.0", &gfortran, false),
                // Not ELF: skipped.
                ("pkg/linker-script.so", b"INPUT(-lfoo)", true),
                ("pkg/__init__.py", b"", true),
            ]);
            let filename = "pkg-1.0-cp311-cp311-manylinux_2_17_x86_64.whl";
            let read = libraries(&bytes, filename, 1 << 24).unwrap();
            assert_eq!(read.objects, 3);
            assert_eq!(
                read.needed.iter().map(String::as_str).collect::<Vec<_>>(),
                ["libc.so.6", "libm.so.6", "libquadmath.so.0", "libz.so.1"]
            );
            assert!(libraries(b"not a zip", "x.whl", 1 << 20).is_err());
            // A member over the limit is an error, not an allocation.
            let error = libraries(&bytes, "x.whl", 16).unwrap_err();
            assert!(
                error
                    .0
                    .starts_with("`pkg/_core.cpython-311-x86_64-linux-gnu.so`: it is ")
                    && error
                        .0
                        .ends_with(" bytes; shared objects larger than 16 bytes are not read"),
                "{error}"
            );
        }
    }

    /// [`wheel_libraries`] with members of at most `max_size` bytes.
    fn libraries(bytes: &[u8], filename: &str, max_size: u64) -> Result<WheelLibraries, ElfError> {
        let limits = ObjectLimits {
            max_size,
            ..ObjectLimits::default()
        };
        wheel_libraries(bytes, filename, &limits)
    }

    /// The only member of a one-member zip, and the zip's bytes from its local header.
    fn only_member(bytes: &[u8]) -> (Member, &[u8]) {
        let members = zip_members(bytes, "a.whl").unwrap();
        assert_eq!(members.len(), 1);
        let local = local_bytes(bytes, &members[0]).unwrap();
        (members[0].clone(), local)
    }

    /// Reads a one-member wheel holding `object`: the result, and how much was inflated and
    /// kept.
    fn read_one(object: &[u8], deflated: bool) -> (ElfDynamic, Inflated) {
        let bytes = zip_of(&[("a/liba.so.1", object, deflated)]);
        let (member, mut local) = only_member(&bytes);
        let (read, inflated) = read_object(&member, &mut local, &ObjectLimits::default()).unwrap();
        let read = read.unwrap();
        assert_eq!(read, read_elf_dynamic(object).unwrap());
        (read, inflated)
    }

    /// A member is inflated up to its string table, and what lies between its first segment
    /// and its dynamic section is not kept.
    #[test]
    fn members_are_inflated_only_as_far_as_needed() {
        let padding = 100_000;
        let shape = Shape {
            wide: true,
            needed: &["libz.so.1", "libc.so.6"],
            soname: Some("liba.so.1"),
            sections: true,
            program: true,
            padding,
            ..Shape::default()
        };
        let object = |strtab, first_segment| {
            build_with(&Shape {
                strtab,
                first_segment,
                ..shape
            })
        };
        // One segment for the whole file: the start of it is kept (up to the dynamic
        // section here), not the filler and the section headers after the string table.
        let one = object(Strtab::AfterDynamic, None);
        for deflated in [true, false] {
            let (_, read) = read_one(&one, deflated);
            assert!(read.inflated < padding as u64 + 1000, "{read:?}");
            assert!(read.kept <= read.inflated, "{read:?}");
            assert_eq!(read.restarts, 0);
        }
        // The string table in a small first segment: the filler before the dynamic section
        // is skipped, the filler after it not inflated at all.
        let first = object(Strtab::First, Some(400));
        let (_, read) = read_one(&first, true);
        assert!(read.inflated < padding as u64 + 1000, "{read:?}");
        assert!(read.kept < 10_000, "{read:?}");
        assert_eq!(read.restarts, 0);
        // The string table after the dynamic section, or at the end (patchelf): inflated up
        // to it, the filler before the dynamic section skipped.
        for (strtab, whole) in [(Strtab::AfterDynamic, false), (Strtab::Last, true)] {
            let after = object(strtab, Some(300));
            let (_, read) = read_one(&after, true);
            assert_eq!(read.inflated >= after.len() as u64, whole, "{read:?}");
            assert!(read.kept < 10_000, "{read:?}");
        }
    }

    /// A string table far before the dynamic section inside a big first segment (as in the
    /// CUDA libraries): read with little memory, from the part of the segment kept on the
    /// way, or by reading the member again from its start when that part is too small.
    #[test]
    fn a_string_table_deep_in_a_big_first_segment_is_read_with_little_memory() {
        let object = build_with(&Shape {
            wide: true,
            needed: &["libcudart.so.12", "libc.so.6"],
            soname: Some("libcublas.so.12"),
            sections: true,
            program: true,
            padding: 1_500_000,
            strtab: Strtab::First,
            before_strtab: 200_000,
            ..Shape::default()
        });
        let whole = read_elf_dynamic(&object).unwrap();
        assert_eq!(whole.needed, ["libcudart.so.12", "libc.so.6"]);
        let bytes = zip_of(&[("a/libcublas.so.12", &object, true)]);
        let (member, local) = only_member(&bytes);
        // The default bounds: the first MiB of the segment is kept, the string table with it.
        let (read, inflated) =
            read_object(&member, &mut &local[..], &ObjectLimits::default()).unwrap();
        assert_eq!(read, Some(whole.clone()));
        assert_eq!(inflated.restarts, 0);
        assert!(inflated.kept < HEAD_KEEP + 10_000, "{inflated:?}");
        assert!(inflated.inflated < object.len() as u64, "{inflated:?}");
        // 64 KiB: 8 KiB of the segment is kept, the string table is passed over and read
        // on a second pass, and what is kept stays small.
        let small = ObjectLimits {
            max_kept: 64 * 1024,
            ..ObjectLimits::default()
        };
        let (read, inflated) = read_object(&member, &mut &local[..], &small).unwrap();
        assert_eq!(read, Some(whole));
        assert_eq!(inflated.restarts, 1);
        assert!(inflated.kept < 20_000, "{inflated:?}");
        assert!(
            inflated.inflated < object.len() as u64 + 210_000,
            "{inflated:?}"
        );
    }

    /// Bytes wanted after they were skipped: the member is inflated again from its start, and
    /// the reader gets them.
    #[test]
    fn skipped_bytes_wanted_later_are_inflated_again() {
        let contents = filler(300_000, 7);
        let bytes = zip_of(&[("a/liba.so", &contents, true)]);
        let (member, mut local) = only_member(&bytes);
        let rounds = Cell::new(0);
        let (read, inflated) =
            read_streaming(&member, &mut local, &ObjectLimits::default(), |view| {
                rounds.set(rounds.get() + 1);
                // Far past the start first (so the bytes before are skipped), then before that.
                let far = view.get(250_000, 100)?;
                let near = view.get(100_000, 100)?;
                Some((far.to_vec(), near.to_vec()))
            })
            .unwrap();
        let (far, near) = read.unwrap();
        assert_eq!(far, contents[250_000..250_100]);
        assert_eq!(near, contents[100_000..100_100]);
        // The first bytes; skip to the far bytes; start again, skip to the near ones.
        assert_eq!(rounds.get(), 3);
        assert_eq!(
            inflated,
            Inflated {
                inflated: 250_100 + 100_100,
                kept: FIRST_READ + 200,
                restarts: 1,
            }
        );
    }

    /// What is kept of a member and how much of it is inflated are bounded: a crafted object
    /// whose dynamic section claims the rest of the file, or lies past the bound on
    /// inflating, is unreadable (an error naming the member), and reads with bounds above
    /// what it needs, as the whole file does.
    #[test]
    fn what_is_kept_and_inflated_of_a_member_is_bounded() {
        let mut object = build_with(&Shape {
            wide: true,
            needed: &["libz.so.1"],
            program: true,
            padding: 100_000,
            ..Shape::default()
        });
        // PT_DYNAMIC's file size (the second program header's) to the end of the file.
        let dyn_off = u64::from_le_bytes(object[64 + 56 + 8..64 + 56 + 16].try_into().unwrap());
        let rest = object.len() as u64 - dyn_off;
        object[64 + 56 + 32..64 + 56 + 40].copy_from_slice(&rest.to_le_bytes());
        let whole = read_elf_dynamic(&object).unwrap();
        assert_eq!(whole.needed, ["libz.so.1"]);
        for deflated in [true, false] {
            let bytes = zip_of(&[("a/liba.so", &object, deflated)]);
            let (member, local) = only_member(&bytes);
            let read =
                |limits: &ObjectLimits| read_object_libraries(&member, &mut &local[..], limits);
            let kept = ObjectLimits {
                max_kept: 64 * 1024,
                ..ObjectLimits::default()
            };
            assert_eq!(
                read(&kept).unwrap_err().0,
                "`a/liba.so`: reading its dynamic section would keep more than 65536 bytes of it"
            );
            let inflated = ObjectLimits {
                max_inflated: 50_000,
                ..ObjectLimits::default()
            };
            assert_eq!(
                read(&inflated).unwrap_err().0,
                "`a/liba.so`: reading its dynamic section would inflate more than 50000 bytes of it"
            );
            assert_eq!(read(&ObjectLimits::default()).unwrap(), Some(whole.clone()));
        }
    }

    /// A source that serves a wheel's bytes from a member's local header as a client of
    /// range requests would, counting how often it is opened and how much it gives.
    struct Ranged<'a> {
        wheel: &'a [u8],
        from: usize,
        opened: usize,
        served: std::rc::Rc<Cell<usize>>,
    }

    /// Counts the bytes read through it.
    struct Counting<'a> {
        bytes: &'a [u8],
        served: std::rc::Rc<Cell<usize>>,
    }

    impl std::io::Read for Counting<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            // Small reads, as from a network.
            let most = out.len().min(1000);
            let len = std::io::Read::read(&mut self.bytes, &mut out[..most])?;
            self.served.set(self.served.get() + len);
            Ok(len)
        }
    }

    impl MemberSource for Ranged<'_> {
        fn open(&mut self) -> Result<Box<dyn std::io::Read + '_>, String> {
            self.opened += 1;
            let bytes = self.wheel.get(self.from..).ok_or("no such range")?;
            Ok(Box::new(Counting {
                bytes,
                served: self.served.clone(),
            }))
        }
    }

    /// A wheel read as the binary reads it with range requests: its shared objects listed
    /// from the tail, each read from its own source (in any order), put together: the same
    /// result as the wheel read whole, a small part of the large member fetched.
    #[test]
    fn a_wheel_read_from_its_tail_and_member_sources() {
        let big = build_with(&Shape {
            wide: true,
            needed: &["libcudart.so.12", "libc.so.6"],
            soname: Some("libcublas.so.12"),
            program: true,
            sections: true,
            padding: 400_000,
            strtab: Strtab::First,
            ..Shape::default()
        });
        let small = build_with(&Shape {
            wide: true,
            needed: &["libcublas.so.12", "libcuda.so.1"],
            program: true,
            ..Shape::default()
        });
        let wheel = zip_of(&[
            ("nvidia/cublas/lib/libcublas.so.12", &big, true),
            ("nvidia/cublas/lib/libnvblas.so.12", &small, true),
            ("nvidia/cublas/lib/notes.txt", b"text", true),
            ("nvidia/cublas/include/cublas.h", b"", true),
        ]);
        let filename = "nvidia_cublas_cu12-12.4-py3-none-manylinux2014_x86_64.whl";
        let whole = wheel_libraries(&wheel, filename, &ObjectLimits::default()).unwrap();
        // A tail too short for the central directory, then the whole directory.
        let file_len = wheel.len() as u64;
        let tail = &wheel[wheel.len() - 30..];
        let ObjectsInTail::NeedMore { start } =
            WheelObjects::in_tail(tail, file_len, filename).unwrap()
        else {
            panic!("a 30-byte tail holds no central directory");
        };
        let tail = &wheel[start as usize..];
        let ObjectsInTail::Objects(objects) =
            WheelObjects::in_tail(tail, file_len, filename).unwrap()
        else {
            panic!("the tail from {start} holds the central directory");
        };
        assert_eq!(objects, WheelObjects::in_wheel(&wheel, filename).unwrap());
        // Shared by a pool's threads.
        fn shared<T: Send + Sync>(_: &T) {}
        shared(&objects);
        let names: Vec<&str> = objects.members().iter().map(|m| m.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "nvidia/cublas/lib/libcublas.so.12",
                "nvidia/cublas/lib/libnvblas.so.12"
            ]
        );
        // Read last first, as a scheduler might.
        let mut results: Vec<Option<Result<Option<ElfDynamic>, ElfError>>> = vec![None, None];
        let mut served = Vec::new();
        for index in [1, 0] {
            let member = &objects.members()[index];
            let counter = std::rc::Rc::new(Cell::new(0));
            let mut source = Ranged {
                wheel: &wheel,
                from: member.local_header_offset as usize,
                opened: 0,
                served: counter.clone(),
            };
            results[index] = Some(read_object_libraries(
                member,
                &mut source,
                &ObjectLimits::default(),
            ));
            assert_eq!(source.opened, 1);
            served.push((counter.get(), member.compressed_size));
        }
        let read = objects
            .finish(results.into_iter().map(Option::unwrap))
            .unwrap();
        assert_eq!(read, whole);
        assert_eq!(
            read.needed.iter().map(String::as_str).collect::<Vec<_>>(),
            ["libc.so.6", "libcuda.so.1", "libcudart.so.12"]
        );
        // The large member: its headers, its string table and its dynamic section, not its
        // section headers and the filler after.
        let (big_served, big_compressed) = served[1];
        assert!(big_served < big_compressed as usize, "{served:?}");
        // A missing result is an error, not a shorter list.
        let error = objects.finish([Ok(None)]).unwrap_err();
        assert_eq!(
            error.0,
            "`nvidia/cublas/lib/libnvblas.so.12`: the shared object was not read"
        );
    }

    /// Real shared objects (the files named in `PY2NIX_REAL_OBJECTS`, separated by `:`),
    /// each zipped and read as a wheel member: the same result as the whole file, and how
    /// much was read and kept (printed). Run by hand:
    /// `PY2NIX_REAL_OBJECTS=/usr/lib/x86_64-linux-gnu/libLLVM-15.so.1 cargo test -p
    /// py2nix-source real_objects -- --ignored --nocapture`.
    #[test]
    #[ignore = "reads files named in PY2NIX_REAL_OBJECTS"]
    fn real_objects_read_as_wheel_members_give_the_whole_files_result() {
        let paths = std::env::var("PY2NIX_REAL_OBJECTS").unwrap();
        for path in paths.split(':').filter(|p| !p.is_empty()) {
            let object = std::fs::read(path).unwrap();
            let whole = read_elf_dynamic(&object).unwrap();
            let bytes = zip_of(&[("a/liba.so", &object, true)]);
            let (member, mut local) = only_member(&bytes);
            let (read, inflated) =
                read_object(&member, &mut local, &ObjectLimits::default()).unwrap();
            assert_eq!(read, Some(whole), "{path}");
            println!("{path}: {} bytes, {inflated:?}", object.len());
        }
    }

    /// What a wheel's objects inflate in all is bounded by the archive limit on bytes
    /// inflated: past it the wheel is unreadable, naming the member and the variable.
    #[test]
    fn what_a_wheels_objects_inflate_in_all_is_bounded() {
        let object = build_with(&Shape {
            wide: true,
            needed: &["libz.so.1"],
            program: true,
            padding: 100_000,
            ..Shape::default()
        });
        let bytes = zip_of(&[("a/one.so", &object, true), ("a/two.so", &object, true)]);
        let read_all = |budget: u64| {
            let mut objects = WheelObjects::in_wheel(&bytes, "a.whl").unwrap();
            objects.budget = budget;
            let results: Vec<_> = objects
                .members()
                .iter()
                .enumerate()
                .map(|(index, member)| {
                    let mut local = local_bytes(&bytes, member).unwrap();
                    objects.read(index, &mut local, &ObjectLimits::default())
                })
                .collect();
            objects.finish(results)
        };
        assert_eq!(read_all(300_000).unwrap().needed.len(), 1);
        let error = read_all(150_000).unwrap_err();
        assert_eq!(
            error.0,
            "`a/two.so`: `a.whl` holds more than 150000 bytes once decompressed: more than \
             py2nix reads (the limit is 150000; PY2NIX_ARCHIVE_MAX_INFLATED changes it)"
        );
        // An index past the list is an error.
        let objects = WheelObjects::in_wheel(&bytes, "a.whl").unwrap();
        let error = objects
            .read(2, &mut &bytes[..], &ObjectLimits::default())
            .unwrap_err();
        assert_eq!(error.0, "`a.whl` has no shared object 2");
    }

    /// A program header table far larger than the first read is inflated in one round, not
    /// one entry per round.
    #[test]
    fn a_long_table_takes_few_rounds() {
        let extra = 3000;
        let mut object = build_with(&Shape {
            wide: true,
            needed: &["libz.so.1"],
            sections: true,
            program: true,
            padding: extra * 56,
            ..Shape::default()
        });
        // The filler after the two program headers becomes PT_NULL entries.
        object[64 + 2 * 56..64 + (2 + extra) * 56].fill(0);
        object[0x38..0x3a].copy_from_slice(&(2 + extra as u16).to_le_bytes());
        let whole = read_elf_dynamic(&object).unwrap();
        assert_eq!(whole.needed, ["libz.so.1"]);
        let bytes = zip_of(&[("a/liba.so", &object, true)]);
        let (member, mut local) = only_member(&bytes);
        let rounds = Cell::new(0);
        let (read, _) = read_streaming(&member, &mut local, &ObjectLimits::default(), |view| {
            rounds.set(rounds.get() + 1);
            read_dynamic(view)
        })
        .unwrap();
        assert_eq!(read.unwrap(), whole);
        // The header, the program headers, the dynamic section, the string table.
        assert_eq!(rounds.get(), 4);
    }

    /// A member that lacks bytes its reader needs, or whose data do not match the central
    /// directory where the reader looks: an error, not a panic.
    #[test]
    fn a_member_missing_what_is_needed_is_an_error() {
        let shape = Shape {
            wide: true,
            needed: &["libz.so.1", "libc.so.6"],
            soname: Some("liba.so.1"),
            sections: true,
            program: true,
            padding: 5000,
            strtab: Strtab::Last,
            ..Shape::default()
        };
        let object = build_with(&shape);
        let name = "a/liba.so.1";
        // The string table cut short; the dynamic section cut short.
        let early = build_with(&Shape {
            strtab: Strtab::AfterDynamic,
            sections: false,
            ..shape
        });
        let strtab_len = 1 + "libz.so.1 libc.so.6 liba.so.1 ".len();
        let dyn_end = early.len() - 5000 - strtab_len;
        assert_eq!(early[dyn_end - 16..dyn_end], [0; 16]); // DT_NULL
        for cut in [&object[..object.len() - 3], &early[..dyn_end - 1]] {
            for deflated in [true, false] {
                let bytes = zip_of(&[(name, cut, deflated)]);
                let error = libraries(&bytes, "a.whl", 1 << 24).unwrap_err();
                assert!(error.0.starts_with("`a/liba.so.1`: "), "{error}");
            }
        }
        let whole = zip_of(&[(name, &object, true)]);
        let len = object.len() as u32;
        // The central directory says more data, or less, or less compressed data.
        let compressed = only_member(&whole).0.compressed_size as u32;
        for (at, value, message) in [
            (
                24,
                len + 10,
                "bytes of data where the central directory says",
            ),
            (24, len - 10, "more data than"),
            (
                20,
                compressed - 100,
                "bytes of data where the central directory says",
            ),
        ] {
            let mut bytes = whole.clone();
            patch_central(&mut bytes, name, at, value);
            let error = libraries(&bytes, "a.whl", 1 << 24).unwrap_err();
            assert!(error.0.contains(message), "{error}");
        }
        // A bad CRC-32 is noticed when the member is read to its end.
        let mut bytes = whole.clone();
        patch_central(&mut bytes, name, 16, 0);
        let error = libraries(&bytes, "a.whl", 1 << 24).unwrap_err();
        assert!(error.0.contains("CRC-32"), "{error}");
    }

    /// Many single-byte corruptions of a wheel, compressed data included: an error or a
    /// result, never a panic.
    #[test]
    fn corrupted_wheels_never_panic() {
        let shape = Shape {
            wide: true,
            needed: &["libz.so.1"],
            soname: Some("liba.so.1"),
            sections: true,
            program: true,
            padding: 300,
            ..Shape::default()
        };
        let first = build_with(&shape);
        let last = build_with(&Shape {
            strtab: Strtab::Last,
            ..shape
        });
        let skipping = build_with(&Shape {
            strtab: Strtab::First,
            first_segment: Some(200),
            padding: 70_000,
            ..shape
        });
        let bytes = zip_of(&[
            ("a/one.so", &first, true),
            ("a/two.so.1", &last, true),
            ("a/three.so", &first, false),
            ("a/four.so", &skipping, true),
        ]);
        let mut seed: u32 = 0x0bad_cafe;
        for _ in 0..3000 {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let mut copy = bytes.clone();
            let at = (seed as usize >> 8) % copy.len();
            copy[at] ^= 1 << (seed % 8);
            let _ = libraries(&copy, "a.whl", 1 << 20);
        }
    }

    /// What a wheel provides: its ELF objects by file name, in their site-packages directory;
    /// a bundled library under auditwheel's hashed OpenSSL-style name is not needed.
    #[test]
    fn a_wheel_provides_its_objects_and_bundles_hashed_names() {
        let object = |needed: &'static [&'static str], soname: Option<&'static str>| {
            build_with(&Shape {
                wide: true,
                needed,
                soname,
                sections: true,
                program: true,
                ..Shape::default()
            })
        };
        let cv2 = object(
            &["libcrypto-5409cd36.so.1.1.1k", "libtorch.so", "libc.so.6"],
            None,
        );
        let crypto = object(&["libc.so.6"], Some("libcrypto-5409cd36.so.1.1.1k"));
        let cudnn = object(&["libcudart.so.13"], Some("libcudnn.so.9"));
        let bytes = zip_of(&[
            ("cv2/cv2.abi3.so", &cv2, true),
            (
                "opencv_python_headless.libs/libcrypto-5409cd36.so.1.1.1k",
                &crypto,
                true,
            ),
            ("nvidia/cudnn/lib/libcudnn.so.9", &cudnn, true),
            ("x-1.0.data/platlib/top/libtop.so", &crypto, false),
            ("x-1.0.data/data/lib/libdata.so", &crypto, false),
            ("nvidia/cudnn/include/cudnn.h", b"", true),
        ]);
        let read = libraries(&bytes, "x.whl", 1 << 24).unwrap();
        assert_eq!(read.objects, 5);
        assert_eq!(
            read.needed.iter().map(String::as_str).collect::<Vec<_>>(),
            ["libc.so.6", "libcudart.so.13", "libtorch.so"]
        );
        let provided: Vec<(&str, &str)> = read
            .provided
            .iter()
            .map(|(name, dir)| (name.as_str(), dir.as_str()))
            .collect();
        assert_eq!(
            provided,
            [
                ("cv2.abi3.so", "cv2"),
                (
                    "libcrypto-5409cd36.so.1.1.1k",
                    "opencv_python_headless.libs"
                ),
                ("libcudnn.so.9", "nvidia/cudnn/lib"),
                ("libtop.so", "top"),
            ]
        );
        for (member, dir) in [
            ("a/b/libx.so", Some("a/b")),
            ("libx.so", Some("")),
            ("x-1.0.data/purelib/a/libx.so", Some("a")),
            ("x-1.0.data/scripts/libx.so", None),
            ("a/../libx.so", None),
            ("a//libx.so", None),
            ("a/\u{1b}b/libx.so", None),
        ] {
            assert_eq!(site_packages_dir(member).as_deref(), dir, "{member}");
        }
    }

    /// The three ways a wheel's library is found, as the scan reports them for the planner:
    /// a library a dependency's wheel provides (in that wheel's `provided`, with its
    /// directory, and needed by the app), a library bundled in `<dist>.libs/` under a hashed
    /// name (not needed from outside), and a GPU driver library (needed: no wheel holds it).
    #[test]
    fn a_dependencys_library_a_bundled_one_and_a_driver_library() {
        let object = |needed: &'static [&'static str], soname: Option<&'static str>| {
            build_with(&Shape {
                wide: true,
                needed,
                soname,
                program: true,
                ..Shape::default()
            })
        };
        let dep = zip_of(&[
            (
                "dep/lib/libdep.so.2",
                &object(&["libstdc++.so.6"], Some("libdep.so.2")),
                true,
            ),
            ("dep/__init__.py", b"", true),
        ]);
        let app = zip_of(&[
            (
                "app/_core.cpython-312-x86_64-linux-gnu.so",
                &object(
                    &[
                        "libdep.so.2",
                        "libcrypto-5409cd36.so.1.1.1k",
                        "libcuda.so.1",
                        "libc.so.6",
                    ],
                    None,
                ),
                true,
            ),
            (
                "app.libs/libcrypto-5409cd36.so.1.1.1k",
                &object(&["libc.so.6"], Some("libcrypto-5409cd36.so.1.1.1k")),
                true,
            ),
            ("app/__init__.py", b"", true),
        ]);
        let dep = libraries(&dep, "dep-1.0-py3-none-manylinux_2_17_x86_64.whl", 1 << 24).unwrap();
        let app = libraries(
            &app,
            "app-1.0-cp312-cp312-manylinux_2_17_x86_64.whl",
            1 << 24,
        )
        .unwrap();
        fn names(set: &BTreeSet<String>) -> Vec<&str> {
            set.iter().map(String::as_str).collect()
        }
        fn dirs(map: &BTreeMap<String, String>) -> Vec<(&str, &str)> {
            map.iter()
                .map(|(name, dir)| (name.as_str(), dir.as_str()))
                .collect()
        }
        assert_eq!(dirs(&dep.provided), [("libdep.so.2", "dep/lib")]);
        assert_eq!(names(&dep.needed), ["libstdc++.so.6"]);
        // The bundled library is not needed; the dependency's and the driver's are.
        assert_eq!(
            names(&app.needed),
            ["libc.so.6", "libcuda.so.1", "libdep.so.2"]
        );
        assert_eq!(
            dirs(&app.provided),
            [
                ("_core.cpython-312-x86_64-linux-gnu.so", "app"),
                ("libcrypto-5409cd36.so.1.1.1k", "app.libs"),
            ]
        );
        assert_eq!((app.objects, dep.objects), (2, 1));
    }

    /// A hostile object's library list is bounded: too many names, or too long a name, make
    /// the wheel unreadable rather than a huge result.
    #[test]
    fn library_lists_are_bounded() {
        let many: Vec<String> = (0..=MAX_NEEDED_PER_OBJECT)
            .map(|i| format!("lib{i}.so"))
            .collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let long = format!("lib{}.so", "x".repeat(MAX_NAME_LEN));
        let just = format!("lib{}.so", "x".repeat(MAX_NAME_LEN - 6));
        for (needed, problem) in [
            (&many[..], Some("more than 256 needed libraries")),
            (&many[..MAX_NEEDED_PER_OBJECT], None),
            (&[long.as_str()][..], Some("longer than 255 bytes")),
            (&[just.as_str()][..], None),
        ] {
            let object = build_with(&Shape {
                wide: true,
                needed,
                sections: true,
                program: true,
                ..Shape::default()
            });
            let bytes = zip_of(&[("a/liba.so", &object, true)]);
            let read = libraries(&bytes, "a.whl", 1 << 24);
            match problem {
                Some(problem) => {
                    let error = read.unwrap_err();
                    assert!(error.0.contains(problem), "{error}");
                }
                None => assert_eq!(read.unwrap().needed.len(), needed.len()),
            }
        }
        // The union over a wheel's objects is bounded too.
        let names: Vec<String> = (0..MAX_NEEDED_PER_WHEEL + 1)
            .map(|i| format!("lib{i}.so"))
            .collect();
        let objects: Vec<Vec<u8>> = names
            .chunks(MAX_NEEDED_PER_OBJECT)
            .map(|chunk| {
                let chunk: Vec<&str> = chunk.iter().map(String::as_str).collect();
                build_with(&Shape {
                    wide: true,
                    needed: &chunk,
                    sections: true,
                    program: true,
                    ..Shape::default()
                })
            })
            .collect();
        let members: Vec<(String, &[u8])> = objects
            .iter()
            .enumerate()
            .map(|(i, object)| (format!("a/lib_{i}.so"), object.as_slice()))
            .collect();
        let members: Vec<(&str, &[u8], bool)> = members
            .iter()
            .map(|(name, object)| (name.as_str(), *object, true))
            .collect();
        let bytes = zip_of(&members);
        let error = libraries(&bytes, "a.whl", 1 << 24).unwrap_err();
        assert!(error.0.contains("more than 1024"), "{error}");
    }

    #[test]
    fn shared_object_names() {
        for good in [
            "opencv_python_headless.libs/libcrypto-5409cd36.so.1.1.1k",
            "a/_x.cpython-311-x86_64-linux-gnu.so",
            "numpy.libs/libgfortran-040039e1.so.5.0.0",
            "libz.so",
        ] {
            assert!(is_shared_object_name(good), "{good}");
        }
        for bad in [
            "a/x.py",
            "libz.so.a1",
            ".so",
            "x.sox",
            "a/b.so.d/",
            "a.so.1.k",
        ] {
            assert!(!is_shared_object_name(bad), "{bad}");
        }
    }
}
