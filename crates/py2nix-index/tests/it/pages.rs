//! Pages: needed versions, PEP 658 attributes through the cache, file hashes, --offline.

use py2nix_index::{Credentials, FileRequest, IndexError, PageRequest};

use crate::support::{client, sha256_hex, Routes, Server};

/// A PEP 691 page with relative file URLs.
fn json_page() -> String {
    let file = |name: &str, extra: serde_json::Value| {
        let mut file = serde_json::json!({
            "filename": name, "url": format!("../../files/{name}"), "hashes": {"sha256": "ab"}
        });
        file.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        file
    };
    let none = serde_json::json!({});
    serde_json::json!({"meta": {"api-version": "1.1"}, "name": "demo", "files": [
        file("demo-1.0.tar.gz", none.clone()),
        file("demo-1.0-py3-none-any.whl", serde_json::json!({"core-metadata": {"sha256": "CD"}})),
        file("demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl", serde_json::json!({"dist-info-metadata": true})),
        file("Demo-1.0.post1.tar.gz", none.clone()),
        file("demo-2.0.tar.gz", none.clone()),
        file("demo-2.0-py3-none-any.whl", none.clone()),
        file("demo-3.0.tar.gz", none),
    ]})
    .to_string()
}

fn server() -> Server {
    let json = "application/vnd.pypi.simple.v1+json";
    Server::start(
        Routes::default()
            .file("/simple/demo/", json, json_page())
            .file(
                "/files/demo-3.0.tar.gz",
                "application/gzip",
                b"three".to_vec(),
            ),
    )
}

fn request(server: &Server, files: &[&str], versions: &[&str]) -> PageRequest {
    PageRequest {
        index_name: String::new(),
        index_url: format!("{}/simple/", server.base),
        package: "demo".into(),
        needed_files: files.iter().map(|f| f.to_string()).collect(),
        needed_versions: versions.iter().map(|v| v.to_string()).collect(),
    }
}

fn names(page: &py2nix_index::Page) -> Vec<&str> {
    page.files.iter().map(|f| f.filename.as_str()).collect()
}

#[tokio::test]
async fn needed_versions_keep_every_file_of_the_version() {
    let server = server();
    let page_path = "/simple/demo/";
    let cache = tempfile::tempdir().unwrap();
    let client = client(cache.path(), false, Credentials::none());
    let first = request(&server, &["demo-3.0.tar.gz"], &["1.0.0"]);
    let page = client
        .fetch_pages(std::slice::from_ref(&first))
        .await
        .remove(0)
        .unwrap();
    assert_eq!(
        names(&page),
        [
            "demo-1.0.tar.gz",
            "demo-1.0-py3-none-any.whl",
            "demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
            "demo-3.0.tar.gz"
        ]
    );
    assert_eq!(
        page.files[1]
            .core_metadata
            .as_ref()
            .unwrap()
            .sha256
            .as_deref(),
        Some("cd")
    );
    assert!(page.files[2]
        .core_metadata
        .as_ref()
        .unwrap()
        .sha256
        .is_none());
    assert_eq!(
        page.files[3].url,
        format!("{}/files/demo-3.0.tar.gz", server.base)
    );
    assert_eq!(server.requests_to(page_path).len(), 1);
    let again = client.fetch_pages(&[first]).await.remove(0).unwrap();
    assert_eq!(
        again, page,
        "the cache keeps what it returned, PEP 658 entries included"
    );
    assert_eq!(server.requests_to(page_path).len(), 1);
    let subset = client
        .fetch_pages(&[request(&server, &["demo-1.0.tar.gz"], &[])])
        .await
        .remove(0)
        .unwrap();
    assert_eq!(names(&subset), ["demo-1.0.tar.gz"]);
    assert_eq!(server.requests_to(page_path).len(), 1);

    let offline = crate::support::client(cache.path(), true, Credentials::none());
    let error = offline
        .fetch_pages(&[request(&server, &[], &["2"])])
        .await
        .remove(0)
        .unwrap_err();
    assert!(
        matches!(error, IndexError::CachedPageIncomplete { .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().ends_with("lacks the files of version 2"),
        "{error}"
    );

    let second = client
        .fetch_pages(&[request(&server, &[], &["2", "1.0.post1"])])
        .await
        .remove(0)
        .unwrap();
    assert_eq!(
        names(&second),
        [
            "Demo-1.0.post1.tar.gz",
            "demo-2.0.tar.gz",
            "demo-2.0-py3-none-any.whl"
        ]
    );
    assert_eq!(server.requests_to(page_path).len(), 2);
    let both = offline
        .fetch_pages(&[request(&server, &["demo-3.0.tar.gz"], &["1", "2.0"])])
        .await
        .remove(0)
        .unwrap();
    assert_eq!(both.files.len(), 6);
}

#[tokio::test]
async fn offline_without_a_cache_entry_and_missing_pages() {
    let server = server();
    let cache = tempfile::tempdir().unwrap();
    let offline = client(cache.path(), true, Credentials::none());
    let error = offline
        .fetch_pages(&[request(&server, &[], &[])])
        .await
        .remove(0)
        .unwrap_err();
    assert!(matches!(error, IndexError::NotCached { .. }), "{error:?}");
    let online = client(cache.path(), false, Credentials::none());
    let mut missing = request(&server, &[], &[]);
    missing.package = "absent".into();
    let error = online.fetch_pages(&[missing]).await.remove(0).unwrap_err();
    assert!(matches!(error, IndexError::NotFound { .. }), "{error:?}");
    assert!(server.log().len() == 1);
}

#[tokio::test]
async fn file_hashes_are_streamed_and_cached() {
    let server = server();
    let cache = tempfile::tempdir().unwrap();
    let client = client(cache.path(), false, Credentials::none());
    let url = format!("{}/files/demo-3.0.tar.gz", server.base);
    let file = |url: &str| FileRequest {
        url: url.to_string(),
        index_name: String::new(),
        index_url: String::new(),
    };
    let results = client
        .file_sha256_all(&[
            file(&url),
            file(&format!("{}/files/nothing.tar.gz", server.base)),
        ])
        .await;
    let digest = results[0].as_ref().unwrap();
    assert_eq!(
        (digest.sha256_hex.clone(), digest.size),
        (sha256_hex(b"three"), 5)
    );
    assert!(matches!(
        results[1],
        Err(IndexError::Missing { status: 404, .. })
    ));
    let requests = server.log().len();
    assert_eq!(&client.file_sha256(&url, "", "").await.unwrap(), digest);
    let offline = crate::support::client(cache.path(), true, Credentials::none());
    assert_eq!(&offline.file_sha256(&url, "", "").await.unwrap(), digest);
    assert_eq!(server.log().len(), requests, "cached: no request");
    let error = offline
        .file_sha256(&format!("{url}.other"), "", "")
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!("--offline: the cache has no sha256 for {url}.other")
    );
}

/// One call with pages the cache holds and pages it lacks (or holds in part): the cache answers
/// its own, the index the rest, every result in request order and counted once.
#[tokio::test]
async fn cached_and_fetched_pages_come_back_in_request_order() {
    let html = "text/html";
    let page = |name: &str| crate::support::html_page(&[(&format!("{name}-1.0.tar.gz"), "ab", "")]);
    let server = Server::start(
        Routes::default()
            .file("/simple/alpha/", html, page("alpha"))
            .file("/simple/beta/", html, page("beta"))
            .file("/simple/gamma/", html, page("gamma")),
    );
    let request = |package: &str, versions: &[&str]| PageRequest {
        index_name: String::new(),
        index_url: format!("{}/simple/", server.base),
        package: package.into(),
        needed_files: vec![format!("{package}-1.0.tar.gz")],
        needed_versions: versions.iter().map(|v| v.to_string()).collect(),
    };
    let cache = tempfile::tempdir().unwrap();
    let client = client(cache.path(), false, Credentials::none());
    let warm = [request("beta", &[]), request("gamma", &[])];
    assert!(client.fetch_pages(&warm).await.iter().all(Result::is_ok));
    // gamma's entry lacks version 1.0's files (asked now): fetched again, like alpha.
    let requests = [
        request("alpha", &[]),
        request("beta", &[]),
        request("gamma", &["1.0"]),
    ];
    let counted = std::sync::atomic::AtomicUsize::new(0);
    let pages = client
        .fetch_pages_counted(&requests, &|| {
            counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        })
        .await;
    assert_eq!(counted.into_inner(), 3);
    let first_names: Vec<_> = pages
        .iter()
        .map(|page| page.as_ref().unwrap().files[0].filename.clone())
        .collect();
    assert_eq!(
        first_names,
        ["alpha-1.0.tar.gz", "beta-1.0.tar.gz", "gamma-1.0.tar.gz"]
    );
    for (path, times) in [
        ("/simple/alpha/", 1),
        ("/simple/beta/", 1),
        ("/simple/gamma/", 2),
    ] {
        assert_eq!(server.requests_to(path).len(), times, "{path}");
    }
    // Now all three are cached whole: --offline answers them, and names what it lacks.
    let offline = crate::support::client(cache.path(), true, Credentials::none());
    let mut again = requests.to_vec();
    again.push(request("delta", &[]));
    let results = offline.fetch_pages(&again).await;
    assert!(results[..3].iter().all(Result::is_ok));
    assert!(matches!(results[3], Err(IndexError::NotCached { .. })));
}
