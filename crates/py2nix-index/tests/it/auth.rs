//! Private indexes: credentials from the environment, netrc and the URL, refusals, and that
//! no secret reaches anything the client returns or caches.

use py2nix_index::{Credentials, IndexError, MetadataRequest, PageRequest};

use crate::support::{client, html_page, sha256_hex, walk, Routes, Server};

const USER: &str = "alice-the-user";
const PASSWORD: &str = "s3cr3t-pw";
const SDIST: &[u8] = b"not really a tarball";
const METADATA: &str = "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nRequires-Dist: idna\n";

fn private_index() -> Server {
    let page = html_page(&[
        ("demo-1.0.tar.gz", &sha256_hex(SDIST), ""),
        (
            "demo-1.0-py3-none-any.whl",
            &"0".repeat(64),
            &format!(
                "data-core-metadata=\"sha256={}\"",
                sha256_hex(METADATA.as_bytes())
            ),
        ),
    ]);
    let routes = Routes {
        auth: Some((USER.into(), PASSWORD.into())),
        ..Routes::default()
    }
    .file("/simple/demo/", "text/html", page)
    .file("/files/demo-1.0.tar.gz", "application/octet-stream", SDIST)
    .file(
        "/files/demo-1.0-py3-none-any.whl.metadata",
        "text/plain",
        METADATA,
    );
    Server::start(routes)
}

fn request(index_name: &str, index_url: &str) -> PageRequest {
    PageRequest {
        index_name: index_name.into(),
        index_url: index_url.into(),
        package: "demo".into(),
        needed_files: vec!["demo-1.0.tar.gz".into(), "demo-1.0-py3-none-any.whl".into()],
        needed_versions: vec![],
    }
}

fn env_credentials() -> Credentials {
    Credentials::new(
        |name| match name {
            "PY2NIX_INDEX_MY_PRIVATE_USERNAME" => Some(USER.into()),
            "PY2NIX_INDEX_MY_PRIVATE_PASSWORD" => Some(PASSWORD.into()),
            _ => None,
        },
        None,
    )
}

/// Fetches the page, the sdist's hash and the wheel's metadata, and checks that nothing
/// returned or cached holds the secrets.
async fn fetch_everything(server: &Server, credentials: Credentials, name: &str, index_url: &str) {
    let cache = tempfile::tempdir().unwrap();
    let client = client(cache.path(), false, credentials);
    let page = client
        .fetch_pages(&[request(name, index_url)])
        .await
        .remove(0)
        .unwrap();
    assert_eq!(page.files.len(), 2);
    let sdist = page.file("demo-1.0.tar.gz").unwrap();
    assert_eq!(sdist.url, format!("{}/files/demo-1.0.tar.gz", server.base));
    let digest = client
        .file_sha256(&sdist.url, name, index_url)
        .await
        .unwrap();
    assert_eq!(
        (digest.sha256_hex.as_str(), digest.size),
        (sha256_hex(SDIST).as_str(), SDIST.len() as u64)
    );
    let wheel = page.file("demo-1.0-py3-none-any.whl").unwrap();
    let metadata = client
        .fetch_core_metadata(&MetadataRequest {
            url: wheel.url.clone(),
            filename: wheel.filename.clone(),
            index_name: name.into(),
            index_url: index_url.into(),
            expected_sha256: None,
            core_metadata: wheel.core_metadata.clone(),
            size: None,
        })
        .await
        .unwrap();
    assert_eq!(metadata.metadata.requires_dist, ["idna"]);
    for served in server.log() {
        assert_eq!(served.status, 200, "{served:?}");
        assert!(served.authorization.is_some());
    }
    let returned = format!("{page:?} {digest:?} {metadata:?}");
    assert!(
        !returned.contains(PASSWORD) && !returned.contains(USER),
        "{returned}"
    );
    let files = walk(cache.path());
    assert_eq!(files.len(), 3, "{files:?}");
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        let text = format!("{} {}", file.display(), String::from_utf8_lossy(&bytes));
        assert!(!text.contains(PASSWORD) && !text.contains(USER), "{text}");
    }
}

#[tokio::test]
async fn credentials_from_the_environment() {
    let server = private_index();
    let index_url = format!("{}/simple/", server.base);
    fetch_everything(&server, env_credentials(), "my.private", &index_url).await;
}

#[tokio::test]
async fn credentials_from_netrc() {
    let server = private_index();
    let netrc = format!(
        "machine example.org login x\nmachine 127.0.0.1\n  login {USER}\n  password {PASSWORD}\n"
    );
    let credentials = Credentials::new(|_| None, Some(netrc));
    fetch_everything(
        &server,
        credentials,
        "",
        &format!("{}/simple/", server.base),
    )
    .await;
}

#[tokio::test]
async fn credentials_from_the_index_url() {
    let server = private_index();
    let index_url = format!("http://{USER}:{PASSWORD}@127.0.0.1:{}/simple", server.port);
    fetch_everything(&server, Credentials::none(), "my.private", &index_url).await;
}

#[tokio::test]
async fn no_credentials_is_a_clear_refusal() {
    let server = private_index();
    let cache = tempfile::tempdir().unwrap();
    let client = client(cache.path(), false, Credentials::none());
    let index_url = format!("{}/simple/", server.base);
    let error = client
        .fetch_pages(&[request("my-private", &index_url)])
        .await
        .remove(0)
        .unwrap_err();
    assert!(
        matches!(error, IndexError::Unauthorized { .. }),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        format!(
            "{index_url}demo/ refused access (index `my-private`); hint: HTTP 401 Unauthorized: set \
             PY2NIX_INDEX_MY_PRIVATE_USERNAME and PY2NIX_INDEX_MY_PRIVATE_PASSWORD, or add \
             `machine 127.0.0.1 login ... password ...` to ~/.netrc"
        )
    );
    assert_eq!(server.log().len(), 1, "a refusal is not retried");
    assert!(walk(cache.path()).is_empty());
}

#[tokio::test]
async fn rejected_credentials_are_named_but_not_shown() {
    let server = private_index();
    let cache = tempfile::tempdir().unwrap();
    let client = client(cache.path(), false, Credentials::none());
    let index_url = format!(
        "http://{USER}:wrong-{PASSWORD}@127.0.0.1:{}/simple/",
        server.port
    );
    let error = client
        .fetch_pages(&[request("", &index_url)])
        .await
        .remove(0)
        .unwrap_err();
    let text = format!("{error} {error:?}");
    assert!(
        text.contains("the credentials from the index URL were rejected"),
        "{text}"
    );
    assert!(!text.contains(PASSWORD) && !text.contains(USER), "{text}");
    assert!(
        text.contains(&format!("{}/simple/demo/", server.base)),
        "{text}"
    );
    let sha = client
        .file_sha256(
            &format!("{index_url}../files/demo-1.0.tar.gz"),
            "",
            &index_url,
        )
        .await;
    let text = format!("{:?}", sha.unwrap_err());
    assert!(!text.contains(PASSWORD) && !text.contains(USER), "{text}");
}

#[tokio::test]
async fn files_on_another_host_get_only_netrc_credentials() {
    let server = private_index();
    let cache = tempfile::tempdir().unwrap();
    let index_url = format!("{}/simple/", server.base);
    let elsewhere = format!("http://localhost:{}/files/demo-1.0.tar.gz", server.port);
    let client = client(cache.path(), false, env_credentials());
    let error = client
        .file_sha256(&elsewhere, "my-private", &index_url)
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("`machine localhost login ... password ...`"),
        "{error}"
    );
    let localhost = server
        .log()
        .into_iter()
        .find(|s| s.host.starts_with("localhost"));
    assert!(localhost.unwrap().authorization.is_none());
    let netrc = format!("machine localhost login {USER} password {PASSWORD}");
    let client =
        crate::support::client(cache.path(), false, Credentials::new(|_| None, Some(netrc)));
    let digest = client
        .file_sha256(&elsewhere, "my-private", &index_url)
        .await
        .unwrap();
    assert_eq!(digest.sha256_hex, sha256_hex(SDIST));
}
