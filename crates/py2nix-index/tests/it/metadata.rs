//! Core metadata: PEP 658 files, range requests into wheels, whole downloads, the cache.

use py2nix_index::{CoreMetadataRef, Credentials, IndexError, MetadataFrom, MetadataRequest};
use py2nix_source::SdistRequirements;

use crate::support::{client, sha256_hex, wheel, Routes, Server};

const METADATA: &str =
    "Metadata-Version: 2.1\nName: big\nVersion: 2.0\nRequires-Dist: numpy>=1\n\nA description.\n";
const WHEEL: &str = "big-2.0-py3-none-any.whl";
const PAD: usize = 3 * 1024 * 1024;

fn serve(wheel_bytes: &[u8], ranges: bool) -> Server {
    Server::start(
        Routes {
            ranges,
            ..Routes::default()
        }
        .file(&format!("/files/{WHEEL}"), "application/zip", wheel_bytes),
    )
}

fn request(server: &Server, expected_sha256: Option<String>) -> MetadataRequest {
    MetadataRequest {
        url: format!("{}/files/{WHEEL}", server.base),
        filename: WHEEL.into(),
        index_name: String::new(),
        index_url: format!("{}/simple/", server.base),
        expected_sha256,
        core_metadata: None,
        size: None,
    }
}

#[tokio::test]
async fn range_requests_read_a_fraction_of_a_large_wheel() {
    let bytes = wheel("big", "2.0", METADATA, PAD, 0);
    let server = serve(&bytes, true);
    let cache = tempfile::tempdir().unwrap();
    let client = client(cache.path(), false, Credentials::none());
    let request = request(&server, Some(sha256_hex(&bytes)));
    let fetched = client.fetch_core_metadata(&request).await.unwrap();
    assert_eq!(fetched.from, MetadataFrom::WheelRange);
    assert_eq!(fetched.metadata.requires_dist, ["numpy>=1"]);
    assert_eq!(fetched.requirements, SdistRequirements::PkgInfo);
    assert!(server
        .log()
        .iter()
        .all(|s| s.range.is_some() && s.status == 206));
    assert!(
        server.body_bytes() < 100 * 1024,
        "{} of {}",
        server.body_bytes(),
        bytes.len()
    );
    let requests = server.log().len();
    assert!(requests <= 2, "{:?}", server.log());
    assert_eq!(client.fetch_core_metadata(&request).await.unwrap(), fetched);
    assert_eq!(
        server.log().len(),
        requests,
        "the second fetch comes from the cache"
    );
    let offline = crate::support::client(cache.path(), true, Credentials::none());
    assert_eq!(
        offline.fetch_core_metadata(&request).await.unwrap(),
        fetched
    );
    let other = MetadataRequest {
        expected_sha256: None,
        ..request
    };
    let error = offline.fetch_core_metadata(&other).await.unwrap_err();
    assert!(matches!(error, IndexError::NotCachedUrl { .. }), "{error}");
    assert_eq!(server.log().len(), requests);
}

#[tokio::test]
async fn a_central_directory_beyond_the_first_range_takes_more_requests() {
    let bytes = wheel("big", "2.0", METADATA, PAD, 3000);
    let server = serve(&bytes, true);
    let cache = tempfile::tempdir().unwrap();
    let client = client(cache.path(), false, Credentials::none());
    let fetched = client
        .fetch_core_metadata(&request(&server, None))
        .await
        .unwrap();
    assert_eq!(fetched.from, MetadataFrom::WheelRange);
    assert_eq!(fetched.metadata.name, "big");
    assert!(server.log().len() >= 3, "{:?}", server.log());
    assert!(server.body_bytes() < bytes.len() / 4);
}

#[tokio::test]
async fn a_server_without_ranges_gives_the_whole_wheel_checked() {
    let bytes = wheel("big", "2.0", METADATA, 256 * 1024, 0);
    let server = serve(&bytes, false);
    let cache = tempfile::tempdir().unwrap();
    let client = client(cache.path(), false, Credentials::none());
    let fetched = client
        .fetch_core_metadata(&request(&server, Some(sha256_hex(&bytes))))
        .await
        .unwrap();
    assert_eq!(fetched.from, MetadataFrom::WheelDownload);
    assert_eq!(fetched.metadata.version, "2.0");
    assert_eq!(
        server.log().len(),
        1,
        "the answer to the range request is the download"
    );
    let wrong = "ab".repeat(32);
    let error = client
        .fetch_core_metadata(&request(&server, Some(wrong.clone())))
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(
        matches!(error, IndexError::HashMismatch { .. }),
        "{error:?}"
    );
    assert!(
        text.contains(&format!("{}/files/{WHEEL}", server.base)),
        "{text}"
    );
    assert!(
        text.contains(&wrong) && text.contains(&sha256_hex(&bytes)),
        "{text}"
    );
}

#[tokio::test]
async fn a_small_wheel_is_downloaded() {
    let bytes = wheel("big", "2.0", METADATA, 0, 0);
    let server = serve(&bytes, true);
    let cache = tempfile::tempdir().unwrap();
    let client = client(cache.path(), false, Credentials::none());
    let request = MetadataRequest {
        size: Some(bytes.len() as u64),
        ..request(&server, None)
    };
    let fetched = client.fetch_core_metadata(&request).await.unwrap();
    assert_eq!(fetched.from, MetadataFrom::WheelDownload);
    assert!(server.log()[0].range.is_none());
}

#[tokio::test]
async fn pep_658_metadata_is_used_when_advertised() {
    let bytes = wheel(
        "big",
        "2.0",
        "Metadata-Version: 2.1\nName: big\nVersion: 0\n",
        PAD,
        0,
    );
    let server = Server::start(
        Routes::default()
            .file(&format!("/files/{WHEEL}"), "application/zip", bytes)
            .file(&format!("/files/{WHEEL}.metadata"), "text/plain", METADATA),
    );
    let cache = tempfile::tempdir().unwrap();
    let client = client(cache.path(), false, Credentials::none());
    let advertised = |sha256: Option<String>| MetadataRequest {
        core_metadata: Some(CoreMetadataRef { sha256 }),
        ..request(&server, None)
    };
    let error = client
        .fetch_core_metadata(&advertised(Some("00".repeat(32))))
        .await
        .unwrap_err();
    assert!(
        matches!(error, IndexError::HashMismatch { .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains(&format!("{WHEEL}.metadata")),
        "{error}"
    );
    let fetched = client
        .fetch_core_metadata(&advertised(Some(sha256_hex(METADATA.as_bytes()))))
        .await
        .unwrap();
    assert_eq!(fetched.from, MetadataFrom::Pep658);
    assert_eq!(fetched.metadata.version, "2.0");
    assert!(server.requests_to(&format!("/files/{WHEEL}")).is_empty());
}

#[tokio::test]
async fn a_missing_pep_658_file_falls_back_to_the_wheel() {
    let bytes = wheel("big", "2.0", METADATA, 0, 0);
    let server = serve(&bytes, true);
    let cache = tempfile::tempdir().unwrap();
    let client = client(cache.path(), false, Credentials::none());
    let request = MetadataRequest {
        core_metadata: Some(CoreMetadataRef::default()),
        ..request(&server, None)
    };
    let fetched = client.fetch_core_metadata(&request).await.unwrap();
    assert_eq!(fetched.metadata.version, "2.0");
    assert_eq!(
        server
            .requests_to(&format!("/files/{WHEEL}.metadata"))
            .len(),
        1
    );
}

fn sdist(pkg_info: &str, pyproject: Option<&str>) -> Vec<u8> {
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    let mut add = |path: &str, text: &str| {
        let mut header = tar::Header::new_gnu();
        header.set_size(text.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, path, text.as_bytes()).unwrap();
    };
    add("small-1.0/PKG-INFO", pkg_info);
    if let Some(pyproject) = pyproject {
        add("small-1.0/pyproject.toml", pyproject);
    }
    tar.into_inner().unwrap().finish().unwrap()
}

#[tokio::test]
async fn sdists_are_downloaded_whole_and_many_at_once() {
    let final_sdist = sdist(
        "Metadata-Version: 2.2\nName: small\nVersion: 1.0\nRequires-Dist: a\n",
        None,
    );
    let dynamic = sdist(
        "Metadata-Version: 2.1\nName: small\nVersion: 1.0\n",
        Some("[project]\nname = \"small\"\nversion = \"1.0\"\ndependencies = [\"b\"]\n"),
    );
    let server = Server::start(
        Routes::default()
            .file(
                "/files/small-1.0.tar.gz",
                "application/gzip",
                final_sdist.clone(),
            )
            .file("/other/small-1.0.tar.gz", "application/gzip", dynamic),
    );
    let cache = tempfile::tempdir().unwrap();
    let client = client(cache.path(), false, Credentials::none());
    let at = |path: &str, expected: Option<String>| MetadataRequest {
        url: format!("{}{path}", server.base),
        filename: "small-1.0.tar.gz".into(),
        index_name: String::new(),
        index_url: String::new(),
        expected_sha256: expected,
        core_metadata: None,
        size: None,
    };
    let results = client
        .fetch_core_metadata_all(&[
            at("/files/small-1.0.tar.gz", Some(sha256_hex(&final_sdist))),
            at("/other/small-1.0.tar.gz", None),
            at("/missing/small-1.0.tar.gz", None),
        ])
        .await;
    let first = results[0].as_ref().unwrap();
    assert_eq!(
        (first.from, &first.requirements),
        (MetadataFrom::SdistDownload, &SdistRequirements::PkgInfo)
    );
    assert_eq!(first.metadata.requires_dist, ["a"]);
    match &results[1].as_ref().unwrap().requirements {
        SdistRequirements::Pyproject(p) => assert_eq!(p.dependencies, ["b"]),
        other => panic!("{other:?}"),
    }
    let error = results[2].as_ref().unwrap_err();
    assert!(
        matches!(error, IndexError::Missing { status: 404, .. }),
        "{error:?}"
    );
    let again = client
        .fetch_core_metadata(&at("/other/small-1.0.tar.gz", None))
        .await
        .unwrap();
    assert_eq!(
        &again,
        results[1].as_ref().unwrap(),
        "the cache keeps pyproject requirements"
    );
}
