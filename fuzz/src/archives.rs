//! Fuzz checks for the archive readers (docs/security.md, "Downloads and archives"): sdists
//! as tar and zip, wheels as zip, through every public reader of `py2nix-source`.
//!
//! Besides the bytes as given, each check reads variants whose **header size fields** are
//! rewritten (with valid checksums for tar): tar size fields of each header block (octal and
//! base-256, up to 3 GiB and beyond), zip sizes, name lengths and entry counts. Byte-level
//! mutation rarely produces a consistent huge size, and a huge size is what a header bomb is;
//! the readers must refuse them without allocating what they declare (libFuzzer's RSS limit
//! and the binary's `ulimit -v` test, tests/it/untrusted_files.rs, catch that).
//!
//! This file is shared: the fuzz crate compiles it as `py2nix_fuzz::archives`, and the main
//! test suite includes it by path (tests/it/hostile.rs) to replay the corpus.

/// Sizes a rewritten header declares.
const SIZES: &[u64] = &[
    0,
    1,
    511,
    512,
    1 << 20,
    (1 << 20) + 1,
    1 << 30,
    3 << 30,
    0o77_777_777_777,
    u64::MAX,
];

/// The sdist and zip readers on `bytes` read as a tar; errors must say something.
fn read_tar(bytes: &[u8]) {
    message(py2nix_source::sdist_metadata(bytes, "x-1.0.tar"));
    message(py2nix_source::sdist_build_info(bytes, "x-1.0.tar"));
}

fn read_zip(bytes: &[u8]) {
    message(py2nix_source::wheel_metadata(
        bytes,
        "x-1.0-py3-none-any.whl",
    ));
    message(py2nix_source::sdist_metadata(bytes, "x-1.0.zip"));
    message(py2nix_source::sdist_build_info(bytes, "x-1.0.zip"));
    // The range-request path: the tail, then as far back as asked (each step goes back).
    let len = bytes.len() as u64;
    let mut start = len.saturating_sub(py2nix_source::zip_tail_request_len());
    for _ in 0..4 {
        let tail = bytes.get(start as usize..).unwrap_or_default();
        match py2nix_source::locate_metadata_in_tail(tail, len, "x-1.0-py3-none-any.whl") {
            Ok(py2nix_source::TailResult::NeedMore { start: earlier }) => {
                assert!(
                    earlier < start,
                    "NeedMore does not go back: {earlier} >= {start}"
                );
                start = earlier;
            }
            Ok(py2nix_source::TailResult::Member(member)) => {
                let from = usize::try_from(member.local_header_offset).unwrap_or(usize::MAX);
                if let Some(local) = bytes.get(from..) {
                    message(py2nix_source::read_member(local, &member));
                }
                break;
            }
            Err(error) => {
                assert!(!error.to_string().is_empty());
                break;
            }
        }
    }
}

fn message<T, E: std::fmt::Display>(result: Result<T, E>) {
    if let Err(error) = result {
        assert!(
            !error.to_string().trim().is_empty(),
            "an error without a message"
        );
    }
}

/// A deterministic choice from the input (the same input gives the same variants).
fn pick(data: &[u8], salt: usize, n: usize) -> usize {
    let hash = data
        .iter()
        .fold(0xcbf2_9ce4_8422_2325u64 ^ salt as u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
    (hash % n as u64) as usize
}

/// `block`'s size field set to `size` (octal when it fits, else base-256), checksum redone.
fn set_tar_size(block: &mut [u8], size: u64) {
    let field = &mut block[124..136];
    if size < 0o77_777_777_777 {
        field.copy_from_slice(format!("{size:011o}\0").as_bytes());
    } else {
        field[0] = 0x80;
        field[1..4].fill(0);
        field[4..12].copy_from_slice(&size.to_be_bytes());
    }
    block[148..156].copy_from_slice(b"        ");
    let sum: u64 = block.iter().map(|&b| u64::from(b)).sum();
    block[148..156].copy_from_slice(format!("{:06o}\0 ", sum & 0o777_777).as_bytes());
}

pub fn tar(data: &[u8]) {
    read_tar(data);
    // One variant per header-looking block (a non-zero block) among the first eight: its
    // size rewritten, and its type made an extension header (`L`, `x`) or kept.
    let blocks = (data.len() / 512).min(8);
    for index in 0..blocks {
        let at = index * 512;
        if data[at..at + 512].iter().all(|&b| b == 0) {
            continue;
        }
        let mut variant = data.to_vec();
        let block = &mut variant[at..at + 512];
        match pick(data, index, 3) {
            0 => block[156] = b'L',
            1 => block[156] = b'x',
            _ => {}
        }
        set_tar_size(block, SIZES[pick(data, index + 8, SIZES.len())]);
        read_tar(&variant);
    }
}

pub fn zip(data: &[u8]) {
    read_zip(data);
    // Rewrite the size-like fields of every record found: central directory entries, local
    // headers, the end of central directory record.
    let fields: &[(&[u8], &[(usize, usize)])] = &[
        (
            b"PK\x01\x02",
            &[(20, 4), (24, 4), (28, 2), (30, 2), (42, 4)],
        ),
        (b"PK\x03\x04", &[(18, 4), (22, 4), (26, 2), (28, 2)]),
        (b"PK\x05\x06", &[(8, 2), (10, 2), (12, 4), (16, 4)]),
        (b"PK\x06\x06", &[(24, 8), (32, 8), (40, 8), (48, 8)]),
    ];
    let mut variants = 0;
    for (signature, offsets) in fields {
        let mut from = 0;
        while let Some(found) = find(&data[from..], signature) {
            let at = from + found;
            from = at + 4;
            if variants >= 12 {
                return;
            }
            let (offset, width) = offsets[pick(data, at, offsets.len())];
            let size = SIZES[pick(data, at + 1, SIZES.len())];
            let mut variant = data.to_vec();
            if let Some(field) = variant.get_mut(at + offset..at + offset + width) {
                let bytes = size.to_le_bytes();
                field.copy_from_slice(&bytes[..width]);
                if width < 8 && size >> (8 * width) != 0 {
                    field.fill(0xff); // saturated: "see the ZIP64 record"
                }
                read_zip(&variant);
                variants += 1;
            }
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
