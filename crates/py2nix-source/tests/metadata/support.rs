//! Builders for wheels and sdists in memory, and the range-request client loop the caller runs.

use std::io::{Cursor, Read, Write};

use py2nix_source::{
    locate_metadata_in_tail, member_fetch_len, parse_core_metadata, read_member, CoreMetadata,
    MetadataError, TailResult,
};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

/// Real-looking wheel METADATA: markers, extras, a folded `Requires-Dist` and a description
/// body whose header-like lines are not headers.
pub const METADATA: &str = "Metadata-Version: 2.1
Name: Demo_Pkg
Version: 1.2.0
Summary: A demonstration package
Home-page: https://example.invalid/demo
License: MIT
Classifier: Programming Language :: Python :: 3
Requires-Python: >=3.8
Requires-Dist: charset-normalizer<4,>=2
Requires-Dist: idna<4,>=2.5
Requires-Dist: PySocks!=1.5.7,>=1.5.6; extra == \"socks\"
Requires-Dist: chardet<6,>=3.0.2; (python_version >= \"3.8\" and
 sys_platform != \"win32\") and extra == \"use-chardet\"
requires-dist: demo-extras[a,b]>=1.0; extra == 'all'
Provides-Extra: socks
Provides-Extra: use-chardet
Provides-Extra: all
Description-Content-Type: text/markdown

# Demo

Requires-Dist: not-a-dependency
Name: not-the-name
";

pub const WHEEL_FILENAME: &str = "demo_pkg-1.2.0-py3-none-any.whl";

/// What Python's `email.parser` reads from [`METADATA`] (line breaks of folded values removed).
pub fn expected_metadata() -> CoreMetadata {
    CoreMetadata {
        metadata_version: "2.1".into(),
        name: "Demo_Pkg".into(),
        version: "1.2.0".into(),
        requires_dist: vec![
            "charset-normalizer<4,>=2".into(),
            "idna<4,>=2.5".into(),
            "PySocks!=1.5.7,>=1.5.6; extra == \"socks\"".into(),
            "chardet<6,>=3.0.2; (python_version >= \"3.8\" and sys_platform != \"win32\") and \
             extra == \"use-chardet\""
                .into(),
            "demo-extras[a,b]>=1.0; extra == 'all'".into(),
        ],
        provides_extra: vec!["socks".into(), "use-chardet".into(), "all".into()],
        requires_python: Some(">=3.8".into()),
        dynamic: vec![],
    }
}

pub fn deflated() -> SimpleFileOptions {
    SimpleFileOptions::default().compression_method(CompressionMethod::Deflated)
}

pub fn stored() -> SimpleFileOptions {
    SimpleFileOptions::default().compression_method(CompressionMethod::Stored)
}

/// A zip of `files`, written by the zip crate.
pub fn zip_of(files: &[(&str, &[u8])], options: SimpleFileOptions, zip64_end: bool) -> Vec<u8> {
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    if zip64_end {
        // A ZIP64 comment, even empty, makes the writer emit the ZIP64 end records.
        writer.set_zip64_comment(Some(""));
    }
    for (name, contents) in files {
        writer.start_file(*name, options).unwrap();
        writer.write_all(contents).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

/// A typical small wheel around [`METADATA`].
pub fn demo_wheel(options: SimpleFileOptions) -> Vec<u8> {
    let module = "def hello():\n    return 'hello'\n".repeat(20);
    zip_of(
        &[
            ("demo_pkg/__init__.py", module.as_bytes()),
            ("demo_pkg-1.2.0.dist-info/METADATA", METADATA.as_bytes()),
            ("demo_pkg-1.2.0.dist-info/WHEEL", b"Wheel-Version: 1.0\n"),
            ("demo_pkg-1.2.0.dist-info/RECORD", b""),
        ],
        options,
        false,
    )
}

/// Reads a zip member with the zip crate, the independent reference.
pub fn zip_crate_read(bytes: &[u8], name: &str) -> Vec<u8> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut contents = Vec::new();
    archive
        .by_name(name)
        .unwrap()
        .read_to_end(&mut contents)
        .unwrap();
    contents
}

/// Where the central directory starts, per the zip crate.
pub fn central_directory_start(bytes: &[u8]) -> u64 {
    zip::ZipArchive::new(Cursor::new(bytes))
        .unwrap()
        .central_directory_start()
}

/// What a range-request client does: starts from the last `tail_len` bytes, follows
/// `NeedMore` (checking that each asks for earlier bytes), fetches the member and reads it.
/// Returns the metadata and how many tail requests were made.
pub fn via_tail(
    bytes: &[u8],
    tail_len: u64,
    filename: &str,
) -> Result<(CoreMetadata, usize), MetadataError> {
    let file_len = bytes.len() as u64;
    let mut start = file_len.saturating_sub(tail_len);
    for requests in 1..10 {
        let tail = &bytes[start as usize..];
        match locate_metadata_in_tail(tail, file_len, filename)? {
            TailResult::NeedMore { start: earlier } => {
                assert!(
                    earlier < start,
                    "NeedMore {earlier} does not precede {start}"
                );
                start = earlier;
            }
            TailResult::Member(member) => {
                let from = member.local_header_offset as usize;
                let to = (from as u64 + member_fetch_len(&member)).min(file_len) as usize;
                let contents = read_member(&bytes[from..to], &member)?;
                return Ok((parse_core_metadata(&contents)?, requests));
            }
        }
    }
    panic!("too many tail requests");
}

/// A stored zip with ZIP64 everywhere, as the format allows: sizes and offsets saturated in
/// the headers and given in ZIP64 extra fields, and the ZIP64 end records.
pub fn hand_made_zip64(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, contents) in files {
        let offset = out.len() as u64;
        let mut crc = flate2::Crc::new();
        crc.update(contents);
        let size = contents.len() as u64;
        out.extend(0x0403_4b50u32.to_le_bytes());
        out.extend([45, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // version, flags, method, time, date
        out.extend(crc.sum().to_le_bytes());
        out.extend(u32::MAX.to_le_bytes());
        out.extend(u32::MAX.to_le_bytes());
        out.extend((name.len() as u16).to_le_bytes());
        out.extend(20u16.to_le_bytes());
        out.extend(name.as_bytes());
        out.extend(1u16.to_le_bytes());
        out.extend(16u16.to_le_bytes());
        out.extend(size.to_le_bytes());
        out.extend(size.to_le_bytes());
        out.extend(*contents);

        central.extend(0x0201_4b50u32.to_le_bytes());
        central.extend([45, 3, 45, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // made by, version, flags, method, time, date
        central.extend(crc.sum().to_le_bytes());
        central.extend(u32::MAX.to_le_bytes());
        central.extend(u32::MAX.to_le_bytes());
        central.extend((name.len() as u16).to_le_bytes());
        central.extend(28u16.to_le_bytes());
        central.extend([0; 10]); // comment length, disk, internal and external attributes
        central.extend(u32::MAX.to_le_bytes());
        central.extend(name.as_bytes());
        central.extend(1u16.to_le_bytes());
        central.extend(24u16.to_le_bytes());
        central.extend(size.to_le_bytes());
        central.extend(size.to_le_bytes());
        central.extend(offset.to_le_bytes());
    }
    let central_start = out.len() as u64;
    let count = files.len() as u64;
    out.extend(&central);
    let record_offset = out.len() as u64;
    out.extend(0x0606_4b50u32.to_le_bytes());
    out.extend(44u64.to_le_bytes());
    out.extend([45, 3, 45, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // made by, version, disks
    out.extend(count.to_le_bytes());
    out.extend(count.to_le_bytes());
    out.extend((central.len() as u64).to_le_bytes());
    out.extend(central_start.to_le_bytes());
    out.extend(0x0706_4b50u32.to_le_bytes());
    out.extend(0u32.to_le_bytes());
    out.extend(record_offset.to_le_bytes());
    out.extend(1u32.to_le_bytes());
    out.extend(0x0605_4b50u32.to_le_bytes());
    out.extend([0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
    out.extend(u32::MAX.to_le_bytes());
    out.extend(u32::MAX.to_le_bytes());
    out.extend([0, 0]);
    out
}

/// An sdist's files as a tar.
pub fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, contents) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(contents.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, path, *contents).unwrap();
    }
    builder.into_inner().unwrap()
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// A deterministic stream of pseudo-random numbers (a 64-bit LCG).
pub fn pseudo_random(seed: u64) -> impl Iterator<Item = u64> {
    let mut state = seed;
    std::iter::repeat_with(move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        state >> 33
    })
}
