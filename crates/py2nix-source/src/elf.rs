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
//! A wheel's members are inflated only as far as the reader needs: the ELF header, the program
//! headers, the dynamic section and its string table, wherever they lie (often well before the
//! end; a library patched by patchelf keeps its string table at the very end, and is then
//! inflated whole). Nor is all of that kept: the string table is usually in the first
//! `PT_LOAD` segment, so what lies between that segment and a dynamic section far past it is
//! inflated without being kept (see `read_inflating`). The reader runs on what is kept so far;
//! a `View` of it remembers the bytes the reader wanted and it did not hold, and when there
//! are any the result is dropped, more is inflated and the reader runs again. Since every read
//! of the file goes through the view, a run that wanted nothing saw exactly what it would
//! have seen in the whole file, so the result is the same as reading the whole member. A
//! wheel's objects can also be read by several threads at once (see [`wheel_libraries`]).

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};

use crate::archive::{open_zip_member, Member, MemberData};

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
/// How many times a member is read from what is kept before it is inflated whole: the reader
/// needs the header, the program headers, the dynamic section and the string table (and
/// failing that the section headers, and the section and table they name).
const MAX_ROUNDS: usize = 8;
/// How much of a member is inflated first: enough for the ELF header and the program headers
/// of any ordinary object.
const FIRST_READ: u64 = 4096;
/// The most bytes of one member kept in memory to read it: its headers, the segment holding
/// the string table and the dynamic section. The largest CUDA libraries keep several hundred
/// MiB this way (their first segment holds the string table and GPU code, and the dynamic
/// section lies past it), so the bound is the largest member read at all (the caller's
/// limit, 1 GiB in py2nix); a member wanting more is unreadable instead.
const MAX_KEPT: u64 = 1 << 30;
/// The fewest bytes worth skipping (inflating without keeping them) between the first segment
/// and the dynamic section.
const MIN_SKIP: u64 = 64 * 1024;

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

/// Whether `bytes` start like an ELF file.
pub fn is_elf(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

/// The bytes of a file the reader may look at: the whole file, or what has been inflated of
/// it and kept, a head (from the start) and maybe a tail (from some offset on), and its length
/// once known. Every read goes through [`get`](Self::get) (or [`len`](Self::len) and
/// [`clamp`](Self::clamp)); one that the bytes kept cannot answer (but the file might) fails
/// and is remembered in [`wanted`](Self::wanted), so the caller knows the result does not
/// stand and what to inflate before trying again.
struct View<'a> {
    head: &'a [u8],
    /// Where the tail starts, and the tail.
    tail: Option<(u64, &'a [u8])>,
    /// The file's length, when known.
    total: Option<u64>,
    /// The lowest start and the highest end of the reads that failed.
    wanted: Cell<Option<(u64, u64)>>,
}

impl<'a> View<'a> {
    fn whole(bytes: &'a [u8]) -> Self {
        View::parts(bytes, None, Some(bytes.len() as u64))
    }

    fn parts(head: &'a [u8], tail: Option<(u64, &'a [u8])>, total: Option<u64>) -> Self {
        View {
            head,
            tail,
            total,
            wanted: Cell::new(None),
        }
    }

    /// The bytes from `at` to `at + len`, if the file has them. When they are not kept (and
    /// the file may have them), they are wanted.
    fn get(&self, at: u64, len: u64) -> Option<&'a [u8]> {
        let end = at.checked_add(len)?;
        let slice = |bytes: &'a [u8], start: u64| {
            let from = usize::try_from(at.checked_sub(start)?).ok()?;
            let to = usize::try_from(end.checked_sub(start)?).ok()?;
            bytes.get(from..to)
        };
        if let Some(bytes) = slice(self.head, 0) {
            return Some(bytes);
        }
        if let Some(bytes) = self.tail.and_then(|(start, tail)| slice(tail, start)) {
            return Some(bytes);
        }
        if self.total.is_none_or(|total| end <= total) {
            self.want(at, end);
        }
        None
    }

    /// How far the file is known to reach: its length, or the end of what is kept.
    fn known(&self) -> u64 {
        let tail_end = self
            .tail
            .map_or(0, |(start, tail)| start.saturating_add(tail.len() as u64));
        self.total
            .unwrap_or_else(|| tail_end.max(self.head.len() as u64))
    }

    /// The file's length. When it is not known, all of the file is wanted (and the result
    /// does not stand).
    fn len(&self) -> u64 {
        if self.total.is_none() {
            self.want(0, u64::MAX);
        }
        self.known()
    }

    /// `end`, or the file's length if it is shorter. When that is not known, the file is
    /// wanted up to `end`.
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
    /// piecemeal (a table of entries), so that they are inflated in one round rather than one
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
        let wanted = match self.wanted.get() {
            Some((low, high)) => (low.min(start), high.max(end)),
            None => (start, end),
        };
        self.wanted.set(Some(wanted));
    }

    /// What must be inflated and kept for the result to stand: from the lowest start to the
    /// highest end of the reads that failed, if any did.
    fn wanted(&self) -> Option<(u64, u64)> {
        self.wanted.get()
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
pub fn read_elf_dynamic(bytes: &[u8]) -> Result<ElfDynamic, ElfError> {
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
    if let Some(size) = size {
        bytes.prefetch(strtab, size);
    }
    let table_end = match size.map(|size| strtab.checked_add(size)) {
        Some(Some(end)) => bytes.clamp(end),
        Some(None) | None => bytes.len(),
    };
    let string = |offset: u64| -> Result<String, ElfError> {
        let start = strtab
            .checked_add(offset)
            .filter(|start| *start < table_end)
            .ok_or_else(|| ElfError(format!("string {offset} lies outside the string table")))?;
        let slice = bytes.get(start, table_end - start).unwrap_or_default();
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

/// How much of a member was inflated to read it, and how much of that was kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Inflated {
    inflated: u64,
    kept: u64,
}

/// Runs `read` on the member's contents, inflating only as much as it needs (see the module):
/// first [`FIRST_READ`] bytes, then what the last run wanted, until a run wants nothing that
/// is not kept.
///
/// When the first bytes wanted beyond the head lie far past the first `PT_LOAD` segment (where
/// the string table usually is), the head is filled up to the end of that segment and the
/// bytes between are inflated without being kept; the rest (the dynamic section, and a string
/// table moved to the end by patchelf) is kept as the tail. Should a later run want bytes that
/// were skipped, the member is inflated again from its start, keeping everything.
fn read_inflating<T>(
    data: &mut MemberData,
    max_kept: u64,
    read: impl Fn(&View) -> T,
) -> Result<(T, Inflated), String> {
    let text = |e: crate::MetadataError| e.to_string();
    // What would be kept after inflating up to `end` (the head, and the tail from its start).
    let keep = |data: &MemberData, end: u64| -> Result<(), String> {
        if data.is_stored() {
            return Ok(());
        }
        let kept = match data.tail() {
            Some((tail_start, _)) => {
                (data.head().len() as u64).saturating_add(end.saturating_sub(tail_start))
            }
            None => end.min(data.total().unwrap_or(end)),
        };
        if kept > max_kept {
            return Err(format!(
                "reading its dynamic section would keep more than {max_kept} bytes of it"
            ));
        }
        Ok(())
    };
    data.fill(FIRST_READ).map_err(text)?;
    let mut may_skip = true;
    let mut rounds = 0;
    loop {
        rounds += 1;
        let view = View::parts(data.head(), data.tail(), data.total());
        let result = read(&view);
        let Some((start, end)) = view.wanted() else {
            let kept = data.head().len() + data.tail().map_or(0, |(_, tail)| tail.len());
            let inflated = Inflated {
                inflated: data.inflated(),
                kept: kept as u64,
            };
            return Ok((result, inflated));
        };
        let skipped = data.tail().map(|(tail_start, _)| tail_start);
        if rounds >= MAX_ROUNDS || skipped.is_some_and(|tail_start| start < tail_start) {
            // Past a few rounds, or wanting skipped bytes: everything, from the start.
            if skipped.is_some() {
                data.restart();
            }
            may_skip = false;
            let end = if rounds >= MAX_ROUNDS { u64::MAX } else { end };
            keep(data, end)?;
            data.fill(end).map_err(text)?;
            continue;
        }
        if may_skip && skipped.is_none() {
            let first = first_segment_end(&view).max(FIRST_READ);
            if start.saturating_sub(first.max(data.inflated())) >= MIN_SKIP {
                keep(data, first)?;
                data.fill(first).map_err(text)?;
                data.skip_to(start).map_err(text)?;
            }
        }
        keep(data, end)?;
        // `end` lies past what is inflated (a want below it was in the head or the tail,
        // which are contiguous up to there, or was handled above), so each round inflates
        // more or reaches the end.
        data.fill(end).map_err(text)?;
    }
}

/// Where the `PT_LOAD` segment that starts the file ends (0 if that cannot be read). Wants
/// recorded on `view` by reading it are of no matter.
fn first_segment_end(view: &View) -> u64 {
    let Some(&[class, order]) = view.get(4, 2) else {
        return 0;
    };
    let l = Layout {
        wide: class == 2,
        big: order == 2,
    };
    let (phoff, sizes_at) = if l.wide {
        (l.u64(view, 0x20), 0x36)
    } else {
        (l.u32(view, 0x1C).map(u64::from), 0x2A)
    };
    let (Some(phoff), Some(phentsize), Some(phnum)) = (
        phoff,
        l.u16(view, sizes_at).map(u64::from),
        l.u16(view, sizes_at + 2).map(u64::from),
    ) else {
        return 0;
    };
    (0..phnum)
        .find_map(|index| {
            let at = index.checked_mul(phentsize)?.checked_add(phoff)?;
            let field = |wide_at: u64, narrow_at: u64| {
                l.word(
                    view,
                    at.checked_add(if l.wide { wide_at } else { narrow_at })?,
                )
            };
            let (offset, filesz) = (field(8, 4)?, field(32, 16)?);
            (l.u32(view, at)? == PT_LOAD && offset == 0).then_some(filesz)
        })
        .unwrap_or(0)
}

/// What a wheel's shared objects need from outside it, and what they offer to other wheels.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WheelLibraries {
    /// Sonames some shared object of the wheel needs that the wheel does not hold: neither
    /// a file of that name anywhere in it (auditwheel's `<name>.libs/` included, whatever its
    /// hashed name) nor an object whose `DT_SONAME` it is. Sorted; at most
    /// [`MAX_NEEDED_PER_WHEEL`].
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
pub fn is_shared_object_name(path: &str) -> bool {
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
/// or `*.so.N…`; members that are not ELF files are skipped) and returns what they need from
/// outside the wheel. `limit` bounds the size of one member. Each member is inflated only as
/// far as its dynamic section and string table (see the module).
///
/// Up to `threads` threads (this one included) read the members at once, the largest first,
/// when the wheel holds several large ones; the result is the same as with one (the first
/// error, in the central directory's order, is the wheel's).
pub fn wheel_libraries(
    bytes: &[u8],
    filename: &str,
    limit: u64,
    threads: usize,
) -> Result<WheelLibraries, ElfError> {
    let objects = WheelObjects::list(bytes, filename)?;
    let helpers = objects.helpers(threads);
    if helpers == 0 {
        let mut read = Vec::with_capacity(objects.members.len());
        for index in 0..objects.members.len() {
            let object = objects.read(bytes, index, limit).map(|(read, _)| read);
            let failed = object.is_err();
            read.push(object);
            if failed {
                break;
            }
        }
        return objects.finish(read);
    }
    // The largest members first, so that the last one to finish is small.
    let mut order: Vec<usize> = (0..objects.members.len()).collect();
    order.sort_by_key(|index| std::cmp::Reverse(objects.members[*index].compressed_size));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let slots: Vec<std::sync::OnceLock<Result<Option<ElfDynamic>, ElfError>>> =
        objects.members.iter().map(|_| Default::default()).collect();
    let work = || {
        while let Some(index) = order.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed)) {
            let object = objects.read(bytes, *index, limit).map(|(read, _)| read);
            if let Some(slot) = slots.get(*index) {
                let _ = slot.set(object);
            }
        }
    };
    std::thread::scope(|scope| {
        for _ in 0..helpers {
            // A thread that cannot be started leaves its share to the others.
            let _ = std::thread::Builder::new().spawn_scoped(scope, work);
        }
        work();
    });
    let missing = || Err(ElfError("a shared object was not read".to_string()));
    objects.finish(
        slots
            .into_iter()
            .map(|slot| slot.into_inner().unwrap_or_else(missing)),
    )
}

/// Below this many compressed bytes in its members besides the largest, a wheel is read by one
/// thread: starting another would not pay.
const PARALLEL_MIN_REST: u64 = 1 << 20;

/// The members of a wheel named like shared objects, read one by one.
struct WheelObjects {
    /// In the central directory's order.
    members: Vec<Member>,
    /// Their base names: the wheel bundles these.
    bundled: BTreeSet<String>,
}

impl WheelObjects {
    /// The members of the wheel `filename` (whole in `bytes`) named like shared objects.
    fn list(bytes: &[u8], filename: &str) -> Result<Self, ElfError> {
        let all =
            crate::archive::zip_members(bytes, filename).map_err(|e| ElfError(e.to_string()))?;
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
            .collect::<Vec<_>>();
        Ok(WheelObjects { members, bundled })
    }

    /// How many threads besides this one to read the members with, at most `threads` in all.
    fn helpers(&self, threads: usize) -> usize {
        let largest = self
            .members
            .iter()
            .map(|member| member.compressed_size)
            .max()
            .unwrap_or(0);
        let total = self.members.iter().fold(0u64, |total, member| {
            total.saturating_add(member.compressed_size)
        });
        if total.saturating_sub(largest) < PARALLEL_MIN_REST {
            return 0;
        }
        threads.min(self.members.len()).saturating_sub(1)
    }

    /// Reads member `index` of the wheel whose bytes are `bytes`, at most `limit` bytes of it:
    /// its dynamic section, or `None` when it is not an ELF file; and how much of it was
    /// inflated and kept.
    fn read(
        &self,
        bytes: &[u8],
        index: usize,
        limit: u64,
    ) -> Result<(Option<ElfDynamic>, Inflated), ElfError> {
        let member = self
            .members
            .get(index)
            .ok_or_else(|| ElfError(format!("the wheel has no shared object {index}")))?;
        let in_member = |e: &dyn std::fmt::Display| ElfError(format!("`{}`: {e}", member.name));
        let mut data = open_zip_member(bytes, member, limit).map_err(|e| in_member(&e))?;
        let (read, inflated) = read_inflating(&mut data, MAX_KEPT, |view| {
            view.is_elf().then(|| read_dynamic(view)).transpose()
        })
        .map_err(|e| in_member(&e))?;
        Ok((read.map_err(|e| in_member(&e))?, inflated))
    }

    /// What the wheel needs, from the results of [`read`](Self::read) for its members in
    /// order (the first error is the wheel's; results after it are not looked at).
    fn finish(
        &self,
        read: impl IntoIterator<Item = Result<Option<ElfDynamic>, ElfError>>,
    ) -> Result<WheelLibraries, ElfError> {
        let mut bundled = self.bundled.clone();
        let mut needed = BTreeSet::new();
        let mut provided = BTreeMap::new();
        let mut objects = 0;
        for (member, dynamic) in self.members.iter().zip(read) {
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
                let dyn_off = after_ph + strtab.len() + padding;
                (after_ph, dyn_off, dyn_off + dyn_size + padding)
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
        check_parts(bytes, View::parts(&bytes[..len], None, total));
    }

    /// Reads `bytes` through `view`, which holds some of them: either the reader wants bytes
    /// the view does not hold, or its result is the whole file's.
    fn check_parts(bytes: &[u8], view: View) {
        let whole = read_elf_dynamic(bytes);
        let read = read_dynamic(&view);
        let held = |at: u64, end: u64| {
            end <= view.head.len() as u64
                || view
                    .tail
                    .is_some_and(|(start, tail)| at >= start && end <= start + tail.len() as u64)
        };
        match view.wanted() {
            Some((start, end)) => assert!(
                !held(start, end),
                "wants {start}..{end}, which the view holds"
            ),
            None => assert_eq!(read, whole),
        }
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
                    View::parts(
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
                                    View::parts(
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
        let view = View::parts(&bytes, None, None);
        let _ = read_dynamic(&view);
        assert!(view
            .wanted()
            .is_none_or(|(_, end)| end > bytes.len() as u64));
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
            let objects = WheelObjects::list(&bytes, filename).unwrap();
            assert_eq!(objects.helpers(4), if padding == 0 { 0 } else { 3 });
            for threads in [1, 2, 4] {
                let read = wheel_libraries(&bytes, filename, 1 << 24, threads).unwrap();
                assert_eq!(read.objects, 3);
                assert_eq!(
                    read.needed.iter().map(String::as_str).collect::<Vec<_>>(),
                    ["libc.so.6", "libm.so.6", "libquadmath.so.0", "libz.so.1"]
                );
            }
            assert!(wheel_libraries(b"not a zip", "x.whl", 1 << 20, 2).is_err());
            // A member over the limit is an error, not an allocation.
            assert!(wheel_libraries(&bytes, "x.whl", 16, 1).is_err());
            assert!(wheel_libraries(&bytes, "x.whl", 16, 4).is_err());
        }
    }

    /// Reads a one-member wheel holding `object`: the result, and how much was inflated and
    /// kept.
    fn read_one(object: &[u8], deflated: bool) -> (ElfDynamic, Inflated) {
        let bytes = zip_of(&[("a/liba.so.1", object, deflated)]);
        let objects = WheelObjects::list(&bytes, "a.whl").unwrap();
        let (read, inflated) = objects.read(&bytes, 0, 1 << 24).unwrap();
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
        // One segment for the whole file: the bytes before the string table are kept, but
        // not the filler and the section headers after it.
        let one = object(Strtab::AfterDynamic, None);
        let (_, read) = read_one(&one, true);
        assert!(read.inflated < padding as u64 + 1000, "{read:?}");
        assert_eq!(read.kept, read.inflated);
        // The string table in the first segment: the filler before the dynamic section is
        // skipped, the filler after it not inflated at all.
        let first = object(Strtab::First, Some(400));
        let (_, read) = read_one(&first, true);
        assert!(read.inflated < padding as u64 + 1000, "{read:?}");
        assert!(read.kept < 10_000, "{read:?}");
        // The string table after the dynamic section, or at the end (patchelf): inflated up
        // to it, the filler before the dynamic section skipped.
        for (strtab, whole) in [(Strtab::AfterDynamic, false), (Strtab::Last, true)] {
            let after = object(strtab, Some(300));
            let (_, read) = read_one(&after, true);
            assert_eq!(read.inflated == after.len() as u64, whole, "{read:?}");
            assert!(read.kept < 10_000, "{read:?}");
        }
        // Stored: there is nothing to inflate.
        let (_, read) = read_one(&one, false);
        assert_eq!(read.inflated, one.len() as u64);
    }

    /// Bytes wanted after they were skipped: the member is inflated again from its start, and
    /// the reader gets them.
    #[test]
    fn skipped_bytes_wanted_later_are_inflated_again() {
        let contents = filler(300_000, 7);
        let bytes = zip_of(&[("a/liba.so", &contents, true)]);
        let objects = WheelObjects::list(&bytes, "a.whl").unwrap();
        let mut data = open_zip_member(&bytes, &objects.members[0], 1 << 24).unwrap();
        let rounds = Cell::new(0);
        let (read, inflated) = read_inflating(&mut data, MAX_KEPT, |view| {
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
        // Skip, restart, inflate on to the far bytes, done.
        assert_eq!(rounds.get(), 4);
        assert_eq!(inflated.kept, inflated.inflated);
        assert_eq!(inflated.inflated, 250_100);
    }

    /// What is kept of a member is bounded: a string table at the end of a large member
    /// (patchelf's place) makes it unreadable when keeping it would pass the bound, and the
    /// same member reads with a bound above what it needs.
    #[test]
    fn what_is_kept_of_a_member_is_bounded() {
        let object = build_with(&Shape {
            wide: true,
            needed: &["libz.so.1"],
            sections: true,
            program: true,
            padding: 200_000,
            strtab: Strtab::Last,
            ..Shape::default()
        });
        let bytes = zip_of(&[("a/liba.so", &object, true)]);
        let objects = WheelObjects::list(&bytes, "a.whl").unwrap();
        let read = |max_kept| {
            let mut data = open_zip_member(&bytes, &objects.members[0], 1 << 24).unwrap();
            read_inflating(&mut data, max_kept, |view| read_dynamic(view)).map(|(read, _)| read)
        };
        let error = read(64 * 1024).unwrap_err();
        assert!(
            error.contains("would keep more than 65536 bytes"),
            "{error}"
        );
        assert_eq!(read(1 << 20).unwrap().unwrap().needed, ["libz.so.1"]);
        // Stored, nothing is copied: no bound applies.
        let stored = zip_of(&[("a/liba.so", &object, false)]);
        let objects = WheelObjects::list(&stored, "a.whl").unwrap();
        let mut data = open_zip_member(&stored, &objects.members[0], 1 << 24).unwrap();
        assert!(read_inflating(&mut data, 1024, |view| read_dynamic(view)).is_ok());
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
        let objects = WheelObjects::list(&bytes, "a.whl").unwrap();
        let mut data = open_zip_member(&bytes, &objects.members[0], 1 << 24).unwrap();
        let rounds = Cell::new(0);
        let (read, _) = read_inflating(&mut data, MAX_KEPT, |view| {
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
                let error = wheel_libraries(&bytes, "a.whl", 1 << 24, 1).unwrap_err();
                assert!(error.0.starts_with("`a/liba.so.1`: "), "{error}");
            }
        }
        let whole = zip_of(&[(name, &object, true)]);
        let len = object.len() as u32;
        // The central directory says more data, or less, or less compressed data.
        let compressed = {
            let objects = WheelObjects::list(&whole, "a.whl").unwrap();
            objects.members[0].compressed_size as u32
        };
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
            let error = wheel_libraries(&bytes, "a.whl", 1 << 24, 1).unwrap_err();
            assert!(error.0.contains(message), "{error}");
        }
        // A bad CRC-32 is noticed when the member is read to its end.
        let mut bytes = whole.clone();
        patch_central(&mut bytes, name, 16, 0);
        let error = wheel_libraries(&bytes, "a.whl", 1 << 24, 1).unwrap_err();
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
        for round in 0..3000 {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let mut copy = bytes.clone();
            let at = (seed as usize >> 8) % copy.len();
            copy[at] ^= 1 << (seed % 8);
            let _ = wheel_libraries(&copy, "a.whl", 1 << 20, 1 + round % 3);
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
        let read = wheel_libraries(&bytes, "x.whl", 1 << 24, 1).unwrap();
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
            let read = wheel_libraries(&bytes, "a.whl", 1 << 24, 1);
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
        let error = wheel_libraries(&bytes, "a.whl", 1 << 24, 1).unwrap_err();
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
