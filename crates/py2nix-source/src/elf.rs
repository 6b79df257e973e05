//! The dynamic section of ELF files: which shared libraries an object needs (`DT_NEEDED`) and
//! its own soname (`DT_SONAME`), and the same for every shared object of a wheel.
//!
//! ELF32 and ELF64, little- and big-endian. The dynamic section is found through the program
//! headers (`PT_DYNAMIC`, with `DT_STRTAB`'s address mapped to a file offset through the
//! `PT_LOAD` segments) and, failing that, through the section headers (`SHT_DYNAMIC` and the
//! string table its `sh_link` names). Every offset comes from untrusted bytes: arithmetic is
//! checked and every slice taken with `get`, so no input can panic; what cannot be read is an
//! [`ElfError`].

use std::collections::BTreeSet;

const MAGIC: &[u8; 4] = b"\x7fELF";
const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const SHT_DYNAMIC: u32 = 6;
const DT_NULL: u64 = 0;
const DT_NEEDED: u64 = 1;
const DT_STRTAB: u64 = 5;
const DT_STRSZ: u64 = 10;
const DT_SONAME: u64 = 14;
/// The longest library name read from a string table.
const MAX_NAME_LEN: usize = 4096;

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

/// How the file is laid out: word size and byte order.
#[derive(Clone, Copy)]
struct Layout {
    wide: bool,
    big: bool,
}

impl Layout {
    fn u16(self, bytes: &[u8], at: u64) -> Option<u16> {
        let at = usize::try_from(at).ok()?;
        let b: [u8; 2] = bytes.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(if self.big {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    }

    fn u32(self, bytes: &[u8], at: u64) -> Option<u32> {
        let at = usize::try_from(at).ok()?;
        let b: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if self.big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }

    fn u64(self, bytes: &[u8], at: u64) -> Option<u64> {
        let at = usize::try_from(at).ok()?;
        let b: [u8; 8] = bytes.get(at..at.checked_add(8)?)?.try_into().ok()?;
        Some(if self.big {
            u64::from_be_bytes(b)
        } else {
            u64::from_le_bytes(b)
        })
    }

    /// An address or offset: 8 bytes in ELF64, 4 in ELF32.
    fn word(self, bytes: &[u8], at: u64) -> Option<u64> {
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
    if !is_elf(bytes) {
        return error("not an ELF file");
    }
    let wide = match bytes.get(4) {
        Some(1) => false,
        Some(2) => true,
        _ => return error("unknown ELF class"),
    };
    let big = match bytes.get(5) {
        Some(1) => false,
        Some(2) => true,
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
        for index in 0..phnum {
            let at = index
                .checked_mul(phentsize)
                .and_then(|o| o.checked_add(phoff))
                .ok_or_else(|| ElfError("program header offset overflows".into()))?;
            let p_type = l
                .u32(bytes, at)
                .ok_or_else(|| ElfError("the program headers are truncated".into()))?;
            let field = |wide_at: u64, narrow_at: u64| {
                l.word(bytes, at + if wide { wide_at } else { narrow_at })
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
        let section = |index: u64| -> Result<(u32, u64, u64, u32), ElfError> {
            let at = index
                .checked_mul(shentsize)
                .and_then(|o| o.checked_add(shoff))
                .ok_or_else(|| ElfError("section header offset overflows".into()))?;
            let truncated = || ElfError("the section headers are truncated".into());
            let sh_type = l.u32(bytes, at + 4).ok_or_else(truncated)?;
            let (offset, size, link) = if wide {
                (
                    l.u64(bytes, at + 24),
                    l.u64(bytes, at + 32),
                    l.u32(bytes, at + 40),
                )
            } else {
                (
                    l.u32(bytes, at + 16).map(u64::from),
                    l.u32(bytes, at + 20).map(u64::from),
                    l.u32(bytes, at + 24),
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
    bytes: &[u8],
    l: Layout,
    dynamic: &Dynamic,
) -> Result<Vec<(u64, u64)>, ElfError> {
    let entry_size: u64 = if l.wide { 16 } else { 8 };
    let end = dynamic
        .offset
        .checked_add(dynamic.size)
        .filter(|end| *end <= bytes.len() as u64)
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
    bytes: &[u8],
    entries: &[(u64, u64)],
    strtab: u64,
    size: Option<u64>,
) -> Result<ElfDynamic, ElfError> {
    let table_end = match size {
        Some(size) => strtab
            .checked_add(size)
            .map(|end| end.min(bytes.len() as u64))
            .unwrap_or(bytes.len() as u64),
        None => bytes.len() as u64,
    };
    let string = |offset: u64| -> Result<String, ElfError> {
        let start = strtab
            .checked_add(offset)
            .filter(|start| *start < table_end)
            .ok_or_else(|| ElfError(format!("string {offset} lies outside the string table")))?;
        let (Ok(start), Ok(end)) = (usize::try_from(start), usize::try_from(table_end)) else {
            return error("string table offset overflows");
        };
        let slice = bytes.get(start..end).unwrap_or_default();
        let len = slice
            .iter()
            .take(MAX_NAME_LEN + 1)
            .position(|b| *b == 0)
            .ok_or_else(|| ElfError(format!("string {offset} is not terminated")))?;
        let text = std::str::from_utf8(&slice[..len])
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

/// What a wheel's shared objects need from outside it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WheelLibraries {
    /// Sonames some shared object of the wheel needs that the wheel does not hold: neither
    /// a file of that name anywhere in it (auditwheel's `<name>.libs/` included) nor an object
    /// whose `DT_SONAME` it is. Sorted.
    pub needed: BTreeSet<String>,
    /// How many ELF shared objects the wheel holds.
    pub objects: usize,
}

/// Whether a zip member's name is a shared object's: `*.so` or `*.so.<digits>…`.
pub fn is_shared_object_name(path: &str) -> bool {
    let base = path.rsplit('/').next().unwrap_or(path);
    let Some(at) = base.find(".so") else {
        return false;
    };
    let rest = &base[at + 3..];
    at > 0
        && (rest.is_empty()
            || rest.strip_prefix('.').is_some_and(|numbers| {
                numbers
                    .split('.')
                    .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            }))
}

/// Reads every shared object of a wheel held whole in `bytes` (its zip members named `*.so`
/// or `*.so.N…`; members that are not ELF files are skipped) and returns what they need from
/// outside the wheel. `limit` bounds the size of one member.
pub fn wheel_libraries(
    bytes: &[u8],
    filename: &str,
    limit: u64,
) -> Result<WheelLibraries, ElfError> {
    let members =
        crate::archive::zip_members(bytes, filename).map_err(|e| ElfError(e.to_string()))?;
    let mut bundled = BTreeSet::new();
    let mut needed = BTreeSet::new();
    let mut objects = 0;
    for member in &members {
        if member.name.ends_with('/') || !is_shared_object_name(&member.name) {
            continue;
        }
        let base = member.name.rsplit('/').next().unwrap_or(&member.name);
        bundled.insert(base.to_string());
        let contents = crate::archive::read_zip_member(bytes, member, limit)
            .map_err(|e| ElfError(format!("`{}`: {e}", member.name)))?;
        if !is_elf(&contents) {
            continue;
        }
        objects += 1;
        let dynamic =
            read_elf_dynamic(&contents).map_err(|e| ElfError(format!("`{}`: {e}", member.name)))?;
        if let Some(soname) = dynamic.soname {
            bundled.insert(soname);
        }
        needed.extend(dynamic.needed);
    }
    let needed = needed
        .into_iter()
        .filter(|name| !bundled.contains(name))
        .collect();
    Ok(WheelLibraries { needed, objects })
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
        let phnum = if program { 2 } else { 0 };
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
        let phoff = ehsize;
        let dyn_off = phoff + phnum * phentsize;
        let str_off = dyn_off + dyn_count * dyn_entry;
        let shoff = str_off + strtab.len();
        let vaddr_base: u64 = 0x10000;
        let mut out = Vec::new();
        out.extend(MAGIC);
        out.push(if wide { 2 } else { 1 });
        out.push(if big { 2 } else { 1 });
        out.push(1);
        out.resize(16, 0);
        put(&mut out, 3, 2); // e_type ET_DYN
        put(&mut out, 62, 2); // e_machine
        put(&mut out, 1, 4); // e_version
        put(&mut out, 0, word); // e_entry
        put(&mut out, if program { phoff as u64 } else { 0 }, word);
        put(&mut out, if sections { shoff as u64 } else { 0 }, word);
        put(&mut out, 0, 4); // e_flags
        put(&mut out, ehsize as u64, 2);
        put(&mut out, phentsize as u64, 2);
        put(&mut out, phnum as u64, 2);
        put(&mut out, shentsize as u64, 2);
        put(&mut out, if sections { 3 } else { 0 }, 2);
        put(&mut out, 0, 2);
        assert_eq!(out.len(), ehsize);
        let total = shoff as u64 + if sections { 3 * shentsize as u64 } else { 0 };
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
            phdr(&mut out, u64::from(PT_LOAD), 0, vaddr_base, total);
            phdr(
                &mut out,
                u64::from(PT_DYNAMIC),
                dyn_off as u64,
                vaddr_base + dyn_off as u64,
                (dyn_count * dyn_entry) as u64,
            );
        }
        let dynamic = |out: &mut Vec<u8>, tag: u64, value: u64| {
            put(out, tag, word);
            put(out, value, word);
        };
        for offset in &offsets[..needed.len()] {
            dynamic(&mut out, DT_NEEDED, *offset);
        }
        if soname.is_some() {
            dynamic(&mut out, DT_SONAME, offsets[needed.len()]);
        }
        dynamic(&mut out, DT_STRTAB, vaddr_base + str_off as u64);
        dynamic(&mut out, DT_STRSZ, strtab.len() as u64);
        dynamic(&mut out, DT_NULL, 0);
        out.extend(&strtab);
        if sections {
            let shdr = |out: &mut Vec<u8>, sh_type: u64, offset: u64, size: u64, link: u64| {
                put(out, 0, 4);
                put(out, sh_type, 4);
                put(out, 0, word); // flags
                put(out, 0, word); // addr
                put(out, offset, word);
                put(out, size, word);
                put(out, link, 4);
                put(out, 0, 4);
                put(out, 8, word);
                put(out, 0, word);
            };
            shdr(&mut out, 0, 0, 0, 0);
            shdr(
                &mut out,
                u64::from(SHT_DYNAMIC),
                dyn_off as u64,
                (dyn_count * dyn_entry) as u64,
                2,
            );
            shdr(&mut out, 3, str_off as u64, strtab.len() as u64, 0);
        }
        out
    }

    #[test]
    fn every_class_and_byte_order_through_either_header_table() {
        for wide in [false, true] {
            for big in [false, true] {
                for (sections, program) in [(true, true), (false, true), (true, false)] {
                    let bytes = build(
                        wide,
                        big,
                        &["libz.so.1", "libc.so.6", "libz.so.1"],
                        Some("libfoo.so.2"),
                        sections,
                        program,
                    );
                    let read = read_elf_dynamic(&bytes).unwrap_or_else(|e| {
                        panic!("wide {wide} big {big} sections {sections}: {e}")
                    });
                    assert_eq!(
                        read.needed,
                        ["libz.so.1", "libc.so.6"],
                        "wide {wide} big {big}"
                    );
                    assert_eq!(read.soname.as_deref(), Some("libfoo.so.2"));
                }
            }
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

    /// Every truncation and many single-byte corruptions of valid files: an error or a result,
    /// never a panic.
    #[test]
    fn truncated_and_corrupted_files_never_panic() {
        for wide in [false, true] {
            for big in [false, true] {
                let bytes = build(
                    wide,
                    big,
                    &["libstdc++.so.6", "libm.so.6"],
                    Some("libx.so"),
                    true,
                    true,
                );
                for len in 0..bytes.len() {
                    let _ = read_elf_dynamic(&bytes[..len]);
                }
                let mut seed: u32 = 0x1234_5678;
                for _ in 0..4000 {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    let mut copy = bytes.clone();
                    let at = (seed as usize >> 8) % copy.len();
                    copy[at] = (seed >> 3) as u8;
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    let at2 = (seed as usize >> 8) % copy.len();
                    copy[at2] = 0xff;
                    let _ = read_elf_dynamic(&copy);
                }
            }
        }
    }

    #[test]
    fn a_wheel_needs_what_its_objects_need_minus_what_it_bundles() {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        let mut add = |name: &str, data: &[u8]| {
            zip.start_file(name, options).unwrap();
            std::io::Write::write_all(&mut zip, data).unwrap();
        };
        add(
            "pkg/_core.cpython-311-x86_64-linux-gnu.so",
            &build(
                true,
                false,
                &[
                    "libopenblas-r0.so",
                    "libgfortran-abc.so.5",
                    "libz.so.1",
                    "libc.so.6",
                ],
                None,
                true,
                true,
            ),
        );
        // auditwheel's bundled copies: found by file name and by DT_SONAME.
        add(
            "pkg.libs/libopenblas-r0.so",
            &build(
                true,
                false,
                &["libgfortran-abc.so.5", "libm.so.6"],
                None,
                true,
                true,
            ),
        );
        add(
            "pkg.libs/libgfortran-abc.so.5.0.0",
            &build(
                true,
                false,
                &["libquadmath.so.0"],
                Some("libgfortran-abc.so.5"),
                true,
                true,
            ),
        );
        // Not ELF: skipped.
        add("pkg/linker-script.so", b"INPUT(-lfoo)");
        add("pkg/__init__.py", b"");
        let bytes = zip.finish().unwrap().into_inner();
        let read = wheel_libraries(
            &bytes,
            "pkg-1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
            1 << 20,
        )
        .unwrap();
        assert_eq!(read.objects, 3);
        assert_eq!(
            read.needed.iter().map(String::as_str).collect::<Vec<_>>(),
            ["libc.so.6", "libm.so.6", "libquadmath.so.0", "libz.so.1"]
        );
        assert!(wheel_libraries(b"not a zip", "x.whl", 1 << 20).is_err());
        // A member over the limit is an error, not an allocation.
        assert!(wheel_libraries(&bytes, "x.whl", 16).is_err());
    }

    #[test]
    fn shared_object_names() {
        for good in [
            "a/_x.cpython-311-x86_64-linux-gnu.so",
            "numpy.libs/libgfortran-040039e1.so.5.0.0",
            "libz.so",
        ] {
            assert!(is_shared_object_name(good), "{good}");
        }
        for bad in ["a/x.py", "libz.so.1a", ".so", "x.sox", "a/b.so.d/"] {
            assert!(!is_shared_object_name(bad), "{bad}");
        }
    }
}
