//! A tar reader with bounds: the sdists py2nix reads are untrusted, and a few megabytes of
//! gzip inflate to gigabytes. The `tar` crate reads a GNU long name or a PAX header whole into
//! memory, however large its header says it is; this reader refuses extension headers over
//! [`ArchiveLimits::max_header`], archives of more than [`ArchiveLimits::max_members`]
//! headers and more than [`ArchiveLimits::max_inflated`] bytes in all, and keeps only what its
//! caller asks for.
//!
//! It reads what sdists use: ustar and GNU headers (with `prefix`), GNU long names (`L`),
//! PAX local headers (`x`: `path` and `size`), and skips GNU long link names (`K`), PAX global
//! headers (`g`) and GNU sparse files (`S`, with their extension blocks).

use std::io::Read;

use crate::archive::limits::{ArchiveLimits, LimitKind};
use crate::metadata::MetadataError;

const BLOCK: usize = 512;

/// One member's header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TarEntry {
    /// The path (GNU long name, else PAX `path`, else ustar prefix and name), with invalid
    /// UTF-8 replaced.
    pub(crate) path: String,
    /// A regular file (type `0`, NUL or `7`).
    pub(crate) is_file: bool,
    /// Bytes of data.
    pub(crate) size: u64,
}

/// Reads a tar stream header by header; see the module documentation.
pub(crate) struct TarStream<'a, R> {
    inner: R,
    limits: ArchiveLimits,
    filename: &'a str,
    inflated: u64,
    members: u64,
    /// Data of the current entry not read yet, and the padding after it.
    remaining: u64,
    padding: u64,
    done: bool,
}

impl<'a, R: Read> TarStream<'a, R> {
    pub(crate) fn new(inner: R, filename: &'a str, limits: ArchiveLimits) -> Self {
        TarStream {
            inner,
            limits,
            filename,
            inflated: 0,
            members: 0,
            remaining: 0,
            padding: 0,
            done: false,
        }
    }

    fn error(&self, message: impl Into<String>) -> MetadataError {
        MetadataError::Tar {
            filename: self.filename.to_owned(),
            source: std::io::Error::other(message.into()),
        }
    }

    fn limit(&self, kind: LimitKind, size: u64) -> MetadataError {
        self.limits.exceeded(self.filename, kind, size)
    }

    /// Reads into `buf` as far as the stream goes; how many bytes were read.
    fn read_some(&mut self, buf: &mut [u8]) -> Result<usize, MetadataError> {
        let mut read = 0;
        while read < buf.len() {
            let out = buf.get_mut(read..).unwrap_or_default();
            match self.inner.read(out) {
                Ok(0) => break,
                Ok(n) => read += n,
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
                Err(error) => {
                    return Err(MetadataError::Tar {
                        filename: self.filename.to_owned(),
                        source: error,
                    })
                }
            }
        }
        self.inflated = self.inflated.saturating_add(read as u64);
        if self.inflated > self.limits.max_inflated {
            return Err(self.limit(LimitKind::Inflated, self.inflated));
        }
        Ok(read)
    }

    fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), MetadataError> {
        if self.read_some(buf)? < buf.len() {
            return Err(self.error("the archive ends inside a member"));
        }
        Ok(())
    }

    /// Reads and throws away `len` bytes.
    fn skip(&mut self, len: u64) -> Result<(), MetadataError> {
        let mut scratch = [0u8; 8 * BLOCK];
        let mut left = len;
        while left > 0 {
            let chunk = usize::try_from(left)
                .unwrap_or(usize::MAX)
                .min(scratch.len());
            self.read_exact(scratch.get_mut(..chunk).unwrap_or_default())?;
            left -= chunk as u64;
        }
        Ok(())
    }

    /// The current entry's data, at most `limit` bytes of it (the rest is skipped later).
    pub(crate) fn read_data(&mut self, limit: u64) -> Result<Vec<u8>, MetadataError> {
        let len = self.remaining.min(limit);
        let mut data = vec![0u8; usize::try_from(len).map_err(|_| self.error("too large"))?];
        self.read_exact(&mut data)?;
        self.remaining -= len;
        Ok(data)
    }

    /// The next member, or `None` at the end of the archive (two zero blocks, or the end of
    /// the stream at a block boundary).
    pub(crate) fn next_entry(&mut self) -> Result<Option<TarEntry>, MetadataError> {
        if self.done {
            return Ok(None);
        }
        let rest = self.remaining.saturating_add(self.padding);
        self.skip(rest)?;
        self.remaining = 0;
        self.padding = 0;
        let mut long_name: Option<Vec<u8>> = None;
        let mut pax_path: Option<Vec<u8>> = None;
        let mut pax_size: Option<u64> = None;
        loop {
            let mut block = [0u8; BLOCK];
            let read = self.read_some(&mut block)?;
            if read == 0 || block.iter().all(|&b| b == 0) {
                if read != 0 && read < BLOCK {
                    return Err(self.error("the archive ends inside a header"));
                }
                self.done = true;
                return Ok(None);
            }
            if read < BLOCK {
                return Err(self.error("the archive ends inside a header"));
            }
            self.members += 1;
            if self.members > self.limits.max_members {
                return Err(self.limit(LimitKind::Members, self.members));
            }
            check_checksum(&block).map_err(|message| self.error(message))?;
            let kind = block[156];
            let size = parse_number(&block[124..136])
                .map_err(|message| self.error(format!("a header's size field {message}")))?;
            let block_padding = padding(size);
            if matches!(kind, b'L' | b'K' | b'x' | b'g') {
                if size > self.limits.max_header {
                    return Err(self.limit(LimitKind::Header, size));
                }
                let mut data = vec![0u8; size as usize]; // at most max_header
                self.read_exact(&mut data)?;
                self.skip(block_padding)?;
                match kind {
                    b'L' => {
                        while data.last() == Some(&0) {
                            data.pop();
                        }
                        long_name = Some(data);
                    }
                    b'x' => {
                        for (key, value) in pax_records(&data) {
                            match key {
                                b"path" => pax_path = Some(value.to_vec()),
                                b"size" => {
                                    pax_size = std::str::from_utf8(value)
                                        .ok()
                                        .and_then(|text| text.trim().parse().ok())
                                }
                                _ => {}
                            }
                        }
                    }
                    _ => {}
                }
                continue;
            }
            if kind == b'S' && block[482] != 0 {
                // GNU sparse extension blocks: each says whether another follows.
                loop {
                    let mut extension = [0u8; BLOCK];
                    self.read_exact(&mut extension)?;
                    self.members += 1;
                    if self.members > self.limits.max_members {
                        return Err(self.limit(LimitKind::Members, self.members));
                    }
                    if extension[504] == 0 {
                        break;
                    }
                }
            }
            let size = pax_size.unwrap_or(size);
            let path = match (long_name, pax_path) {
                (Some(name), _) | (None, Some(name)) => name,
                (None, None) => header_path(&block),
            };
            self.remaining = size;
            self.padding = padding(size);
            return Ok(Some(TarEntry {
                path: String::from_utf8_lossy(&path).into_owned(),
                is_file: matches!(kind, b'0' | 0 | b'7'),
                size,
            }));
        }
    }
}

/// Bytes of padding after `size` bytes of data.
fn padding(size: u64) -> u64 {
    (BLOCK as u64 - size % BLOCK as u64) % BLOCK as u64
}

/// A header field up to its first NUL.
fn field(bytes: &[u8]) -> &[u8] {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    bytes.get(..end).unwrap_or_default()
}

/// The path of a header without extensions: ustar's `prefix/name`, else `name`.
fn header_path(block: &[u8; BLOCK]) -> Vec<u8> {
    let name = field(&block[..100]);
    let ustar = &block[257..263] == b"ustar\0" && &block[263..265] == b"00";
    let prefix = field(&block[345..500]);
    if ustar && !prefix.is_empty() {
        [prefix, b"/", name].concat()
    } else {
        name.to_vec()
    }
}

/// An octal number field (spaces and NULs around it), or base-256 when its first byte has the
/// high bit set (GNU).
fn parse_number(bytes: &[u8]) -> Result<u64, String> {
    if let Some((&first, rest)) = bytes.split_first() {
        if first & 0x80 != 0 {
            let mut value: u64 = u64::from(first & 0x7f);
            for &b in rest {
                value = value
                    .checked_mul(256)
                    .and_then(|v| v.checked_add(u64::from(b)))
                    .ok_or("overflows 64 bits")?;
            }
            return Ok(value);
        }
    }
    let text = std::str::from_utf8(field(bytes)).map_err(|_| "is not octal")?;
    u64::from_str_radix(text.trim(), 8).map_err(|_| format!("`{}` is not octal", text.trim()))
}

fn check_checksum(block: &[u8; BLOCK]) -> Result<(), String> {
    let stored = parse_number(&block[148..156]).map_err(|m| format!("a header checksum {m}"))?;
    let sum: u64 = block
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u64::from(b)
            }
        })
        .sum();
    if sum != stored {
        return Err("a header's checksum does not match".to_owned());
    }
    Ok(())
}

/// The `<length> <key>=<value>\n` records of a PAX header; a malformed record ends them.
fn pax_records(data: &[u8]) -> Vec<(&[u8], &[u8])> {
    let mut records = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let Some(space) = rest.iter().position(|&b| b == b' ') else {
            break;
        };
        let Some(len) = std::str::from_utf8(&rest[..space])
            .ok()
            .and_then(|text| text.parse::<usize>().ok())
        else {
            break;
        };
        let Some(record) = rest.get(space + 1..len) else {
            break;
        };
        let record = record.strip_suffix(b"\n").unwrap_or(record);
        if let Some(equals) = record.iter().position(|&b| b == b'=') {
            records.push((&record[..equals], &record[equals + 1..]));
        }
        rest = &rest[len..];
    }
    records
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> ArchiveLimits {
        ArchiveLimits {
            max_header: 4096,
            max_members: 100,
            max_inflated: 1 << 20,
        }
    }

    fn entries(bytes: &[u8], limits: ArchiveLimits) -> Result<Vec<(TarEntry, Vec<u8>)>, String> {
        let mut stream = TarStream::new(bytes, "x-1.tar", limits);
        let mut out = Vec::new();
        while let Some(entry) = stream.next_entry().map_err(|e| e.to_string())? {
            let data = stream.read_data(u64::MAX).map_err(|e| e.to_string())?;
            out.push((entry, data));
        }
        Ok(out)
    }

    fn tar(build: impl FnOnce(&mut tar::Builder<Vec<u8>>)) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        build(&mut builder);
        builder.into_inner().unwrap()
    }

    #[test]
    fn reads_what_the_tar_crate_writes() {
        let long = format!("x-1/{}/PKG-INFO", "d".repeat(300));
        let bytes = tar(|b| {
            let mut header = tar::Header::new_gnu();
            header.set_size(3);
            header.set_mode(0o644);
            b.append_data(&mut header, "x-1/PKG-INFO", &b"abc"[..])
                .unwrap();
            let mut header = tar::Header::new_gnu();
            header.set_size(2);
            b.append_data(&mut header, &long, &b"hi"[..]).unwrap();
            let mut header = tar::Header::new_ustar();
            header.set_size(0);
            header.set_entry_type(tar::EntryType::Directory);
            b.append_data(&mut header, "x-1/src/", &b""[..]).unwrap();
            let mut header = tar::Header::new_ustar();
            header.set_size(1);
            b.append_data(&mut header, format!("x-1/{}/f", "p".repeat(120)), &b"z"[..])
                .unwrap();
            b.append_pax_extensions([("path", &b"x-1/pax-name"[..])])
                .unwrap();
            let mut header = tar::Header::new_ustar();
            header.set_size(1);
            b.append_data(&mut header, "short", &b"q"[..]).unwrap();
        });
        let read = entries(&bytes, limits()).unwrap();
        let summary: Vec<(&str, bool, &[u8])> = read
            .iter()
            .map(|(e, d)| (e.path.as_str(), e.is_file, d.as_slice()))
            .collect();
        let prefixed = format!("x-1/{}/f", "p".repeat(120));
        assert_eq!(
            summary,
            [
                ("x-1/PKG-INFO", true, &b"abc"[..]),
                (long.as_str(), true, &b"hi"[..]),
                ("x-1/src/", false, &b""[..]),
                (prefixed.as_str(), true, &b"z"[..]),
                ("x-1/pax-name", true, &b"q"[..]),
            ]
        );
    }

    /// A header block by hand: `kind`, `size` (as the size field's bytes) and a checksum.
    fn header(name: &str, kind: u8, size_field: &[u8]) -> [u8; BLOCK] {
        let mut block = [0u8; BLOCK];
        block[..name.len()].copy_from_slice(name.as_bytes());
        block[100..107].copy_from_slice(b"0000644");
        block[124..124 + size_field.len()].copy_from_slice(size_field);
        block[156] = kind;
        block[257..263].copy_from_slice(b"ustar ");
        block[263..265].copy_from_slice(b" \0");
        block[148..156].copy_from_slice(b"        ");
        let sum: u64 = block.iter().map(|&b| u64::from(b)).sum();
        let text = format!("{sum:06o}\0 ");
        block[148..156].copy_from_slice(text.as_bytes());
        block
    }

    #[test]
    fn huge_extension_headers_are_refused_before_they_are_read() {
        for kind in [b'L', b'K', b'x', b'g'] {
            // 3 GiB, in octal and in base-256.
            for size in [
                &b"30000000000\0"[..],
                &[0x80, 0, 0, 0, 0, 0, 0, 0, 0xc0, 0, 0, 0],
            ] {
                let bytes = header("././@LongLink", kind, size);
                let error = entries(&bytes, limits()).unwrap_err();
                assert!(
                    error.contains("3221225472") && error.contains("PY2NIX_ARCHIVE_MAX_HEADER"),
                    "{error}"
                );
            }
        }
    }

    #[test]
    fn members_and_inflated_bytes_are_bounded() {
        let mut bytes = Vec::new();
        for i in 0..101 {
            bytes.extend_from_slice(&header(&format!("f{i}"), b'0', b"00000000000\0"));
        }
        let error = entries(&bytes, limits()).unwrap_err();
        assert!(error.contains("PY2NIX_ARCHIVE_MAX_MEMBERS"), "{error}");
        let mut bytes = header("big", b'0', b"00010000000\0").to_vec();
        bytes.resize(BLOCK + (2 << 20), 0);
        let error = entries(&bytes, limits()).unwrap_err();
        assert!(error.contains("PY2NIX_ARCHIVE_MAX_INFLATED"), "{error}");
    }

    #[test]
    fn broken_headers_are_errors() {
        let mut bad = header("f", b'0', b"00000000001\0");
        bad[0] = b'g';
        assert!(entries(&bad, limits()).unwrap_err().contains("checksum"));
        let bad = header("f", b'0', b"zz\0");
        assert!(entries(&bad, limits()).unwrap_err().contains("octal"));
        let bad = header("f", b'0', &[0xff; 12]);
        assert!(entries(&bad, limits()).unwrap_err().contains("64 bits"));
        let cut = header("f", b'0', b"00000000010\0");
        assert!(entries(&cut, limits()).unwrap_err().contains("ends inside"));
        assert!(entries(&cut[..100], limits())
            .unwrap_err()
            .contains("ends inside"));
        assert_eq!(entries(&[], limits()).unwrap(), []);
    }
}
