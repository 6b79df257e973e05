//! A zip's members by range requests: the directory from the file's end, one member's
//! compressed bytes from its local header, and what a server that refuses or lies gets.

use std::io::Read as _;

use py2nix_index::{
    Credentials, DirectoryStep, IndexClient, IndexError, RangedZip, ZipDirectory, ZipRequest,
};
use py2nix_source::Member;

use crate::support::{client, pseudo_random, sha256_hex, Routes, Server, SpanLie};

const ZIP: &str = "/files/app-1.0-cp312-cp312-manylinux_2_17_x86_64.whl";
const LIBRARY: &str = "app/lib/libapp.so.1";

/// A wheel-like zip: 3 MB of stored data, a compressible library deflated, a small file.
fn zip_bytes() -> (Vec<u8>, Vec<u8>) {
    use std::io::Write as _;
    let library: Vec<u8> = (0..200_000u32)
        .flat_map(|i| (i % 251).to_le_bytes())
        .collect();
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("app/data.bin", stored).unwrap();
    zip.write_all(&pseudo_random(3 << 20)).unwrap();
    zip.start_file(LIBRARY, deflated).unwrap();
    zip.write_all(&library).unwrap();
    zip.start_file("app/__init__.py", deflated).unwrap();
    zip.write_all(b"").unwrap();
    (zip.finish().unwrap().into_inner(), library)
}

/// The members of a zip whose last `tail.len()` bytes are `tail` (no zip64, no comment):
/// the test's own small directory reader.
fn list(tail: &[u8], len: u64) -> Result<DirectoryStep<Vec<Member>>, String> {
    let u16_at = |b: &[u8], at: usize| u64::from(u16::from_le_bytes([b[at], b[at + 1]]));
    let u32_at =
        |b: &[u8], at: usize| u64::from(u32::from_le_bytes(b[at..at + 4].try_into().unwrap()));
    let end = tail.len() - 22;
    if tail[end..end + 4] != [0x50, 0x4b, 5, 6] {
        return Err("no end record".into());
    }
    let (size, offset) = (u32_at(tail, end + 12), u32_at(tail, end + 16));
    let tail_start = len - tail.len() as u64;
    if offset < tail_start {
        return Ok(DirectoryStep::NeedMore { start: offset });
    }
    let mut at = (offset - tail_start) as usize;
    let stop = at + size as usize;
    let mut members = Vec::new();
    while at < stop {
        let name_len = u16_at(tail, at + 28) as usize;
        let skip = name_len + u16_at(tail, at + 30) as usize + u16_at(tail, at + 32) as usize;
        members.push(Member {
            name: String::from_utf8(tail[at + 46..at + 46 + name_len].to_vec()).unwrap(),
            local_header_offset: u32_at(tail, at + 42),
            compressed_size: u32_at(tail, at + 20),
            uncompressed_size: u32_at(tail, at + 24),
            method: u16_at(tail, at + 10) as u16,
            flags: u16_at(tail, at + 8) as u16,
            crc32: u32_at(tail, at + 16) as u32,
        });
        at += 46 + skip;
    }
    Ok(DirectoryStep::Done(members))
}

fn serve(bytes: &[u8], ranges: bool, span_lie: Option<SpanLie>) -> Server {
    Server::start(
        Routes {
            ranges,
            span_lie,
            ..Routes::default()
        }
        .file(ZIP, "application/zip", bytes),
    )
}

fn request(server: &Server, bytes: &[u8]) -> ZipRequest {
    ZipRequest {
        url: format!("{}{ZIP}", server.base),
        index_name: String::new(),
        index_url: format!("{}/simple/", server.base),
        expected_sha256: Some(sha256_hex(bytes)),
        size: None,
    }
}

/// The member's compressed bytes, read to the end of the stream.
async fn read_member(
    client: &IndexClient,
    zip: &RangedZip,
    member: &Member,
) -> Result<Vec<u8>, IndexError> {
    let mut stream = client.open_member(zip, member).await?;
    let mut out = Vec::new();
    while let Some(bytes) = stream.next_bytes().await? {
        out.extend(bytes);
    }
    let header = stream.header_len() as usize;
    assert_eq!(
        out[..4],
        [0x50, 0x4b, 3, 4],
        "the stream starts at the local header"
    );
    assert_eq!(header, 30 + member.name.len());
    Ok(out.split_off(header))
}

fn library_member(members: &[Member]) -> &Member {
    members.iter().find(|m| m.name == LIBRARY).unwrap()
}

#[tokio::test]
async fn a_member_is_read_by_ranges_without_the_rest_of_the_file() {
    let (bytes, library) = zip_bytes();
    let server = serve(&bytes, true, None);
    let cache = tempfile::tempdir().unwrap();
    let client = client(cache.path(), false, Credentials::none());
    let ZipDirectory::Ranges { listing, zip } = client
        .zip_directory(&request(&server, &bytes), list)
        .await
        .unwrap()
    else {
        panic!("the server serves ranges")
    };
    assert_eq!(zip.len(), bytes.len() as u64);
    let names: Vec<&str> = listing.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["app/data.bin", LIBRARY, "app/__init__.py"]);
    let member = library_member(&listing);
    let compressed = read_member(&client, &zip, member).await.unwrap();
    assert_eq!(compressed.len() as u64, member.compressed_size);
    let mut inflated = Vec::new();
    flate2::read::DeflateDecoder::new(&compressed[..])
        .read_to_end(&mut inflated)
        .unwrap();
    assert_eq!(inflated, library);
    // Once more: a member can be read again from its start.
    assert_eq!(
        read_member(&client, &zip, member).await.unwrap(),
        compressed
    );
    let log = server.log();
    assert!(log.iter().all(|s| s.status == 206), "{log:?}");
    assert_eq!(log.len(), 3, "{log:?}");
    assert!(
        server.body_bytes() < 200 * 1024,
        "{} bytes served of {}",
        server.body_bytes(),
        bytes.len()
    );
}

#[tokio::test]
async fn a_server_without_ranges_gives_the_whole_file_hash_checked() {
    let (bytes, _) = zip_bytes();
    let server = serve(&bytes, false, None);
    let cache = tempfile::tempdir().unwrap();
    let client = client(cache.path(), false, Credentials::none());
    match client.zip_directory(&request(&server, &bytes), list).await {
        Ok(ZipDirectory::Whole(whole)) => assert!(whole == bytes),
        _ => panic!("the answer to the range request is the file"),
    }
    let wrong = ZipRequest {
        expected_sha256: Some("0".repeat(64)),
        ..request(&server, &bytes)
    };
    let error = client.zip_directory(&wrong, list).await.err().unwrap();
    assert!(matches!(error, IndexError::HashMismatch { .. }), "{error}");
}

#[tokio::test]
async fn a_lying_range_answer_is_an_error_naming_the_member() {
    let (bytes, _) = zip_bytes();
    for (lie, says) in [
        (SpanLie::OtherStart, "with another range"),
        (SpanLie::Short, "the range ended after"),
    ] {
        let server = serve(&bytes, true, Some(lie));
        let cache = tempfile::tempdir().unwrap();
        let client = client(cache.path(), false, Credentials::none());
        let Ok(ZipDirectory::Ranges { listing, zip }) =
            client.zip_directory(&request(&server, &bytes), list).await
        else {
            panic!("the suffix request is answered truly")
        };
        let error = read_member(&client, &zip, library_member(&listing))
            .await
            .unwrap_err();
        let text = error.to_string();
        assert!(
            text.contains(says) && text.contains(LIBRARY) && text.contains(ZIP),
            "{lie:?}: {text}"
        );
    }
}

#[tokio::test]
async fn a_length_other_than_the_locks_is_not_read_by_ranges() {
    let (bytes, _) = zip_bytes();
    let server = serve(&bytes, true, None);
    let cache = tempfile::tempdir().unwrap();
    let client = client(cache.path(), false, Credentials::none());
    let request = ZipRequest {
        size: Some(bytes.len() as u64 + 1),
        ..request(&server, &bytes)
    };
    let answer = client.zip_directory(&request, list).await.unwrap();
    assert!(matches!(answer, ZipDirectory::Unsupported(_)));
    let offline = crate::support::client(cache.path(), true, Credentials::none());
    let error = offline.zip_directory(&request, list).await.err().unwrap();
    assert!(matches!(error, IndexError::NotCachedUrl { .. }), "{error}");
}

/// The index's credentials go with every range request to the index's origin, and with none
/// to another origin (`localhost`, the same server).
#[tokio::test]
async fn credentials_go_to_the_index_origin_only() {
    let (bytes, _) = zip_bytes();
    let server = Server::start(
        Routes {
            ranges: true,
            auth: Some(("idx".into(), "pw-77".into())),
            ..Routes::default()
        }
        .file(ZIP, "application/zip", bytes.clone()),
    );
    let credentials = Credentials::new(
        |name| match name {
            "PY2NIX_INDEX_PRIVATE_USERNAME" => Some("idx".into()),
            "PY2NIX_INDEX_PRIVATE_PASSWORD" => Some("pw-77".into()),
            _ => None,
        },
        None,
    );
    let cache = tempfile::tempdir().unwrap();
    let client = client(cache.path(), false, credentials);
    let on_index = ZipRequest {
        index_name: "private".into(),
        ..request(&server, &bytes)
    };
    let Ok(ZipDirectory::Ranges { listing, zip }) = client.zip_directory(&on_index, list).await
    else {
        panic!("the index's credentials open the file")
    };
    read_member(&client, &zip, library_member(&listing))
        .await
        .unwrap();
    assert!(server
        .log()
        .iter()
        .all(|s| s.status == 206 && s.authorization.is_some()));
    let elsewhere = ZipRequest {
        url: format!("http://localhost:{}{ZIP}", server.port),
        ..on_index
    };
    let error = client.zip_directory(&elsewhere, list).await.err().unwrap();
    assert!(matches!(error, IndexError::Unauthorized { .. }), "{error}");
    let other: Vec<_> = server
        .log()
        .into_iter()
        .filter(|s| s.host.starts_with("localhost"))
        .collect();
    assert!(
        !other.is_empty() && other.iter().all(|s| s.authorization.is_none()),
        "{other:?}"
    );
}
