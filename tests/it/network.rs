//! Flaky networks: a real HTTP server on 127.0.0.1 that misbehaves on command (error statuses
//! with and without `Retry-After`, resets, stalls, truncated bodies, wrong content types,
//! redirect loops, pages that change, files whose bytes do not match their hash). py2nix must
//! retry what is worth retrying, give up in bounded time naming the URL and what happened,
//! print no plan built on a bad answer, leave no partial output file, and cache nothing bad:
//! a later run against a healthy server succeeds.
//!
//! The server is also used by `secrets.rs` and `writes.rs`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::common::{stderr, stdout};

/// One request the server received.
#[derive(Debug, Clone)]
pub struct Request {
    pub path: String,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    /// How many requests for this path came before this one, plus one.
    pub nth: usize,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// How the server answers one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// 200 with this content type and body.
    Ok(&'static str, Vec<u8>),
    /// This status, with extra headers and a short text body.
    Status(u16, Vec<(&'static str, String)>),
    /// The connection is reset: closed with the request unread.
    Reset,
    /// Nothing is sent for this long, then the connection is closed.
    Stall(Duration),
    /// The headers and the first half of the body, then nothing for this long.
    StallBody(&'static str, Vec<u8>, Duration),
    /// `Content-Length` says the whole body, but only the first half is sent.
    Truncated(&'static str, Vec<u8>),
    /// 302 to this path.
    Redirect(String),
    /// 200 with this content type and body, after waiting this long.
    Slow(Duration, &'static str, Vec<u8>),
}

type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

/// A Simple API server on 127.0.0.1 whose every answer a test decides.
pub struct FlakyServer {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    log: Arc<Mutex<Vec<Request>>>,
    healed: Arc<std::sync::atomic::AtomicBool>,
    answered: Arc<std::sync::atomic::AtomicUsize>,
}

impl FlakyServer {
    pub fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> FlakyServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let log: Arc<Mutex<Vec<Request>>> = Arc::default();
        let healed: Arc<std::sync::atomic::AtomicBool> = Arc::default();
        let is_healed = healed.clone();
        let handler: Arc<Handler> = Arc::new(move |request: &Request| {
            if is_healed.load(std::sync::atomic::Ordering::SeqCst) {
                healthy(request)
            } else {
                handler(request)
            }
        });
        let server_log = log.clone();
        let answered: Arc<std::sync::atomic::AtomicUsize> = Arc::default();
        let server_answered = answered.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let log = server_log.clone();
                let handler = handler.clone();
                let answered = server_answered.clone();
                std::thread::spawn(move || {
                    serve(stream, &log, &*handler);
                    answered.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                });
            }
        });
        FlakyServer {
            base,
            log,
            healed,
            answered,
        }
    }

    /// How many connections have been answered (or given up on) so far.
    pub fn answered(&self) -> usize {
        self.answered.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// From now on, answers as [`healthy`] does (same URL, so the same cache entries).
    pub fn heal(&self) {
        self.healed.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// The index URL py2nix is given.
    pub fn index_url(&self) -> String {
        format!("{}/simple/", self.base)
    }

    /// Every request so far.
    pub fn log(&self) -> Vec<Request> {
        self.log.lock().expect("log").clone()
    }

    /// How many requests asked for `path`.
    pub fn count(&self, path: &str) -> usize {
        self.log().iter().filter(|r| r.path == path).count()
    }
}

fn serve(mut stream: TcpStream, log: &Mutex<Vec<Request>>, handler: &Handler) {
    // Read the request line byte by byte, so that a reset leaves the headers unread.
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while !line.ends_with(b"\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => line.push(byte[0]),
            _ => return,
        }
    }
    let line = String::from_utf8_lossy(&line).into_owned();
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let nth = {
        let log = log.lock().expect("log");
        log.iter().filter(|r| r.path == path).count() + 1
    };
    let peeked = Request {
        path: path.clone(),
        headers: Vec::new(),
        nth,
    };
    // A reset is decided before the headers are read: closing a socket with unread data
    // makes the kernel answer with RST.
    if let Reply::Reset = handler(&peeked) {
        log.lock().expect("log").push(peeked);
        let _ = stream.set_nodelay(true);
        drop(stream);
        return;
    }
    let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    let request = Request { path, headers, nth };
    log.lock().expect("log").push(request.clone());
    let head = |status: &str, content_type: &str, length: usize, extra: &str| {
        format!(
            "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {length}\r\n{extra}Connection: close\r\n\r\n"
        )
    };
    match handler(&request) {
        Reply::Ok(content_type, body) => {
            let _ = stream.write_all(head("200 OK", content_type, body.len(), "").as_bytes());
            let _ = stream.write_all(&body);
        }
        Reply::Status(status, extra) => {
            let body = format!("status {status}");
            let extra: String = extra
                .iter()
                .map(|(name, value)| format!("{name}: {value}\r\n"))
                .collect();
            let status = format!("{status} {}", reason(status));
            let _ = stream.write_all(head(&status, "text/plain", body.len(), &extra).as_bytes());
            let _ = stream.write_all(body.as_bytes());
        }
        Reply::Reset => {}
        Reply::Stall(duration) => std::thread::sleep(duration),
        Reply::StallBody(content_type, body, duration) => {
            let _ = stream.write_all(head("200 OK", content_type, body.len(), "").as_bytes());
            let _ = stream.write_all(&body[..body.len() / 2]);
            let _ = stream.flush();
            std::thread::sleep(duration);
        }
        Reply::Truncated(content_type, body) => {
            let _ = stream.write_all(head("200 OK", content_type, body.len(), "").as_bytes());
            let _ = stream.write_all(&body[..body.len() / 2]);
        }
        Reply::Slow(duration, content_type, body) => {
            std::thread::sleep(duration);
            let _ = stream.write_all(head("200 OK", content_type, body.len(), "").as_bytes());
            let _ = stream.write_all(&body);
        }
        Reply::Redirect(location) => {
            let extra = format!("Location: {location}\r\n");
            let _ = stream.write_all(head("302 Found", "text/plain", 0, &extra).as_bytes());
        }
    }
    let _ = stream.flush();
    let _ = stream.shutdown(std::net::Shutdown::Write);
    // Let the client read everything before the socket closes.
    let _ = reader.read(&mut [0; 64]);
}

fn reason(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        418 => "I'm a teapot",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Whatever",
    }
}

/// A made-up package of the test project: its wheel's name and the hash the lock gives.
pub struct Package {
    pub name: &'static str,
    pub version: &'static str,
    pub requires: &'static [&'static str],
}

pub const ALPHA: Package = Package {
    name: "alpha",
    version: "1.0",
    requires: &["beta"],
};
pub const BETA: Package = Package {
    name: "beta",
    version: "2.0",
    requires: &[],
};

impl Package {
    pub fn wheel(&self) -> String {
        format!("{}-{}-py3-none-any.whl", self.name, self.version)
    }

    /// The wheel's sha256 as the lock and the index give it (the wheel itself is never
    /// downloaded: a plan needs only its URL and hash).
    pub fn sha256(&self) -> String {
        hex(&Sha256::digest(self.wheel().as_bytes()))
    }

    pub fn page_path(&self) -> String {
        format!("/simple/{}/", self.name)
    }

    pub fn metadata_path(&self) -> String {
        format!("/files/{}.metadata", self.wheel())
    }

    /// The wheel's core metadata (PEP 658).
    pub fn metadata(&self) -> Vec<u8> {
        let mut text = format!(
            "Metadata-Version: 2.1\nName: {}\nVersion: {}\n",
            self.name, self.version
        );
        for dependency in self.requires {
            text.push_str(&format!("Requires-Dist: {dependency}\n"));
        }
        text.into_bytes()
    }

    /// The PEP 503 page, with `sha256` as the wheel's hash.
    pub fn html_with(&self, sha256: &str) -> Vec<u8> {
        format!(
            "<!DOCTYPE html>\n<html><body>\n<a href=\"/files/{wheel}#sha256={sha256}\" data-requires-python=\"&gt;=3.8\" data-core-metadata=\"sha256={meta}\">{wheel}</a>\n</body></html>\n",
            wheel = self.wheel(),
            meta = hex(&Sha256::digest(self.metadata())),
        )
        .into_bytes()
    }

    pub fn html(&self) -> Vec<u8> {
        self.html_with(&self.sha256())
    }

    /// The PEP 691 page.
    pub fn json(&self) -> Vec<u8> {
        serde_json::json!({
            "meta": {"api-version": "1.1"},
            "name": self.name,
            "files": [{
                "filename": self.wheel(),
                "url": format!("/files/{}", self.wheel()),
                "hashes": {"sha256": self.sha256()},
                "requires-python": ">=3.8",
            }],
        })
        .to_string()
        .into_bytes()
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What a healthy index answers: both pages as HTML, their metadata files, 404 otherwise.
pub fn healthy(request: &Request) -> Reply {
    for package in [&ALPHA, &BETA] {
        if request.path == package.page_path() {
            return Reply::Ok("text/html", package.html());
        }
        if request.path == package.metadata_path() {
            return Reply::Ok("application/octet-stream", package.metadata());
        }
    }
    Reply::Status(404, Vec::new())
}

/// A Poetry project locking alpha 1.0 (which needs beta) and beta 2.0.
pub fn poetry_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let pyproject = "[project]\nname = \"demo\"\nversion = \"0.1.0\"\nrequires-python = \">=3.11\"\ndependencies = [\"alpha==1.0\"]\n\n[tool.poetry]\npackage-mode = false\n";
    std::fs::write(dir.path().join("pyproject.toml"), pyproject).expect("write pyproject.toml");
    // The hash Poetry records for this pyproject.toml, so that the lock is current.
    let content_hash = py2nix_lock::poetry_content_hash(
        pyproject,
        py2nix_lock::PoetryHashAlgorithm::WithDependencyGroups,
    )
    .expect("pyproject.toml")
    .expect("a content hash");
    let mut lock = String::from("# This file is automatically @generated by Poetry 2.1.3 and should not be changed by hand.\n");
    for package in [&ALPHA, &BETA] {
        lock.push_str(&format!(
            "\n[[package]]\nname = \"{}\"\nversion = \"{}\"\ndescription = \"\"\noptional = false\npython-versions = \">=3.8\"\ngroups = [\"main\"]\nfiles = [\n    {{file = \"{}\", hash = \"sha256:{}\"}},\n]\n",
            package.name,
            package.version,
            package.wheel(),
            package.sha256()
        ));
        if !package.requires.is_empty() {
            lock.push_str("\n[package.dependencies]\n");
            for dependency in package.requires {
                lock.push_str(&format!("{dependency} = \"*\"\n"));
            }
        }
    }
    lock.push_str(&format!("\n[metadata]\nlock-version = \"2.1\"\npython-versions = \">=3.11\"\ncontent-hash = \"{content_hash}\"\n"));
    std::fs::write(dir.path().join("poetry.lock"), lock).expect("write poetry.lock");
    dir
}

/// A hashed requirements file naming alpha and beta: their dependencies come from the
/// index's PEP 658 metadata files.
pub fn requirements_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let text: String = [&ALPHA, &BETA]
        .iter()
        .map(|p| format!("{}=={} --hash=sha256:{}\n", p.name, p.version, p.sha256()))
        .collect();
    std::fs::write(dir.path().join("requirements.txt"), text).expect("write requirements.txt");
    dir
}

/// The environment every run here gets: fast timeouts and retries, no credentials or cache
/// from the caller's environment.
pub const FAST: [(&str, &str); 4] = [
    ("PY2NIX_HTTP_TIMEOUT", "0.5"),
    ("PY2NIX_HTTP_RETRIES", "2"),
    ("PY2NIX_HTTP_BACKOFF", "0.01"),
    ("PY2NIX_HTTP_MAX_WAIT", "2"),
];

/// A py2nix command for `lock <dir>` on x86_64-linux/3.11 against `index_url`, with `cache`
/// and `extra` arguments (`--format json` unless they name a format).
pub fn command(dir: &Path, index_url: &str, cache: &Path, extra: &[&str]) -> Command {
    command_for(dir, index_url, cache, extra, Some("3.11"))
}

/// [`command`] with another CPython version, or none (the defaults `requires-python` allows).
pub fn command_for(
    dir: &Path,
    index_url: &str,
    cache: &Path,
    extra: &[&str],
    python: Option<&str>,
) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_py2nix"));
    command
        .args(["lock", dir.to_str().expect("utf-8")])
        .args(["--system", "x86_64-linux"])
        .args(python.map(|p| ["--python", p]).into_iter().flatten())
        .args(extra)
        .env("PY2NIX_INDEX_URL", index_url)
        .env("PY2NIX_CACHE_DIR", cache)
        .env("NETRC", cache.join("no-netrc"))
        .env_remove("XDG_CACHE_HOME")
        .envs(FAST);
    if !extra.contains(&"--format") {
        command.args(["--format", "json"]);
    }
    for (key, _) in std::env::vars() {
        if key.starts_with("PY2NIX_INDEX_") && key != "PY2NIX_INDEX_URL"
            || key.starts_with("UV_INDEX_")
            || key.starts_with("POETRY_HTTP_BASIC_")
        {
            command.env_remove(key);
        }
    }
    command
}

/// Runs the command, killing it if it has not ended within `limit` (a liveness bound, far
/// above what any run here needs: a py2nix that never gave up would hang the suite).
pub fn run_bounded(mut command: Command, limit: Duration) -> Output {
    use std::process::Stdio;
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run py2nix");
    let id = child.id();
    let (done, wait) = std::sync::mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let output = child.wait_with_output().expect("wait for py2nix");
        let _ = done.send(());
        output
    });
    if wait.recv_timeout(limit).is_err() {
        let _ = Command::new("kill").args(["-9", &id.to_string()]).status();
        panic!("py2nix did not give up within {limit:?}");
    }
    waiter.join().expect("waiter")
}

fn run(server: &FlakyServer, dir: &Path, cache: &Path) -> Output {
    run_bounded(
        command(dir, &server.index_url(), cache, &[]),
        Duration::from_secs(120),
    )
}

/// Asserts a successful run with a plan of alpha and beta, and returns the plan text.
fn planned(output: &Output) -> String {
    assert!(
        output.status.success(),
        "py2nix failed ({:?}):\n{}",
        output.status,
        stderr(output)
    );
    let plan: serde_json::Value = serde_json::from_slice(&output.stdout).expect("a JSON plan");
    let packages = &plan["targets"]["x86_64-linux-cp311"]["packages"];
    assert_eq!(
        packages["alpha"]["dependencies"],
        serde_json::json!(["beta"])
    );
    assert!(packages["beta"]["src"]["url"]
        .as_str()
        .is_some_and(|u| u.ends_with("/files/beta-2.0-py3-none-any.whl")));
    stdout(output)
}

/// Asserts a failed run: `code`, nothing on stdout, and returns stderr.
fn failed(output: &Output, code: i32) -> String {
    assert_eq!(
        output.status.code(),
        Some(code),
        "expected exit {code}; stderr:\n{}",
        stderr(output)
    );
    assert!(output.stdout.is_empty(), "a failed run printed a plan");
    stderr(output)
}

/// Every file under `dir`, relative, sorted.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(next) = stack.pop() {
        for entry in std::fs::read_dir(&next).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path.strip_prefix(dir).expect("under dir").to_path_buf());
            }
        }
    }
    out.sort();
    out
}

/// The cache's page entries of `package` (`simple-v4/<index>/<package>.json`).
fn cached_pages(cache: &Path, package: &str) -> Vec<PathBuf> {
    let name = format!("{package}.json");
    files_under(cache)
        .into_iter()
        .filter(|p| {
            let parts: Vec<_> = p.iter().map(|c| c.to_string_lossy().into_owned()).collect();
            parts.len() == 3 && parts[0] == "simple-v4" && parts[2] == name
        })
        .collect()
}

/// A handler that answers alpha's page with `first` for its first `times` requests and
/// healthily after that.
fn alpha_first(times: usize, first: Reply) -> impl Fn(&Request) -> Reply + Send + Sync {
    move |request| {
        if request.path == ALPHA.page_path() && request.nth <= times {
            first.clone()
        } else {
            healthy(request)
        }
    }
}

#[test]
fn a_healthy_server_gives_the_plan() {
    let server = FlakyServer::start(healthy);
    let (project, cache) = (poetry_project(), tempfile::tempdir().expect("tempdir"));
    planned(&run(&server, project.path(), cache.path()));
    assert_eq!(server.count(&ALPHA.page_path()), 1);
    assert_eq!(cached_pages(cache.path(), "alpha").len(), 1);
    let requirements = requirements_project();
    planned(&run(&server, requirements.path(), cache.path()));
    assert_eq!(server.count(&ALPHA.metadata_path()), 1, "PEP 658 metadata");
}

#[test]
fn retried_statuses_are_retried_and_the_run_succeeds() {
    for status in [408, 429, 500, 502, 503, 504] {
        let server = FlakyServer::start(alpha_first(2, Reply::Status(status, Vec::new())));
        let (project, cache) = (poetry_project(), tempfile::tempdir().expect("tempdir"));
        planned(&run(&server, project.path(), cache.path()));
        assert_eq!(
            server.count(&ALPHA.page_path()),
            3,
            "HTTP {status}: two failures, then the page"
        );
    }
}

#[test]
fn retry_after_is_honoured_up_to_the_longest_wait() {
    // Within the longest wait (2 s here): waited for, then the page.
    for after in ["1", "0"] {
        let reply = Reply::Status(503, vec![("Retry-After", after.to_string())]);
        let server = FlakyServer::start(alpha_first(1, reply));
        let (project, cache) = (poetry_project(), tempfile::tempdir().expect("tempdir"));
        planned(&run(&server, project.path(), cache.path()));
        assert_eq!(server.count(&ALPHA.page_path()), 2);
    }
    let reply = Reply::Status(429, vec![("Retry-After", "1".to_string())]);
    let server = FlakyServer::start(alpha_first(1, reply));
    let (project, cache) = (poetry_project(), tempfile::tempdir().expect("tempdir"));
    planned(&run(&server, project.path(), cache.path()));

    // Longer than the longest wait, in seconds or as an HTTP date: py2nix gives up at once
    // rather than retry early or sleep for an hour.
    for after in ["3600", "Fri, 31 Dec 9999 23:59:59 GMT"] {
        let reply = Reply::Status(503, vec![("Retry-After", after.to_string())]);
        let server = FlakyServer::start(alpha_first(usize::MAX, reply));
        let (project, cache) = (poetry_project(), tempfile::tempdir().expect("tempdir"));
        let message = failed(&run(&server, project.path(), cache.path()), 2);
        let url = format!("{}{}", server.base, ALPHA.page_path());
        assert!(message.contains(&format!("fetching {url} failed: HTTP 503 Service Unavailable, and the index asks to retry after ")), "{message}");
        assert!(
            message.contains(
                "longer than py2nix waits (2 s, PY2NIX_HTTP_MAX_WAIT; gave up after 1 attempt)"
            ),
            "{message}"
        );
        assert_eq!(server.count(&ALPHA.page_path()), 1);
        assert!(cached_pages(cache.path(), "alpha").is_empty());
    }
}

#[test]
fn persistent_failures_give_up_after_the_retries_and_name_the_url() {
    for (label, reply, what) in [
        (
            "503",
            Reply::Status(503, Vec::new()),
            "HTTP 503 Service Unavailable",
        ),
        (
            "429",
            Reply::Status(429, Vec::new()),
            "HTTP 429 Too Many Requests",
        ),
        ("reset", Reply::Reset, ""),
        (
            "stall",
            Reply::Stall(Duration::from_secs(3)),
            "no answer for 0.5 s (PY2NIX_HTTP_TIMEOUT)",
        ),
        (
            "stalled body",
            Reply::StallBody("text/html", ALPHA.html(), Duration::from_secs(3)),
            "the response stalled past the timeout",
        ),
        (
            "truncated HTML",
            Reply::Truncated("text/html", ALPHA.html()),
            "the response broke off",
        ),
        (
            "truncated JSON",
            Reply::Truncated("application/vnd.pypi.simple.v1+json", ALPHA.json()),
            "the response broke off",
        ),
    ] {
        let server = FlakyServer::start(alpha_first(usize::MAX, reply));
        let (project, cache) = (poetry_project(), tempfile::tempdir().expect("tempdir"));
        let message = failed(&run(&server, project.path(), cache.path()), 2);
        let url = format!("{}{}", server.base, ALPHA.page_path());
        assert!(
            message.contains(&format!("fetching {url} failed: {what}")),
            "{label}: {message}"
        );
        assert!(
            message.contains("(gave up after 3 attempts)"),
            "{label}: {message}"
        );
        assert_eq!(
            server.count(&ALPHA.page_path()),
            3,
            "{label}: the first attempt and two retries"
        );
        assert!(
            cached_pages(cache.path(), "alpha").is_empty(),
            "{label}: nothing cached"
        );
        // The same cache with the server healed: nothing bad was kept.
        server.heal();
        planned(&run(&server, project.path(), cache.path()));
    }
}

#[test]
fn transport_failures_are_retried_and_the_run_succeeds() {
    for reply in [
        Reply::Reset,
        Reply::Stall(Duration::from_secs(3)),
        Reply::StallBody("text/html", ALPHA.html(), Duration::from_secs(3)),
        Reply::Truncated("text/html", ALPHA.html()),
        Reply::Truncated("application/vnd.pypi.simple.v1+json", ALPHA.json()),
    ] {
        let server = FlakyServer::start(alpha_first(1, reply.clone()));
        let (project, cache) = (poetry_project(), tempfile::tempdir().expect("tempdir"));
        planned(&run(&server, project.path(), cache.path()));
        assert_eq!(server.count(&ALPHA.page_path()), 2, "{reply:?}");
    }
}

#[test]
fn other_client_and_server_errors_are_not_retried() {
    for status in [400, 418, 501] {
        let server = FlakyServer::start(alpha_first(usize::MAX, Reply::Status(status, Vec::new())));
        let (project, cache) = (poetry_project(), tempfile::tempdir().expect("tempdir"));
        let message = failed(&run(&server, project.path(), cache.path()), 2);
        assert!(
            message.contains(&format!(
                "fetching {}{} failed: HTTP {status} ",
                server.base,
                ALPHA.page_path()
            )),
            "{message}"
        );
        assert_eq!(
            server.count(&ALPHA.page_path()),
            1,
            "HTTP {status} is final"
        );
    }
    let server = FlakyServer::start(alpha_first(usize::MAX, Reply::Status(404, Vec::new())));
    let (project, cache) = (poetry_project(), tempfile::tempdir().expect("tempdir"));
    let message = failed(&run(&server, project.path(), cache.path()), 1);
    assert!(message.contains("`alpha` is not on the index"), "{message}");
    assert_eq!(server.count(&ALPHA.page_path()), 1);
    let server = FlakyServer::start(alpha_first(usize::MAX, Reply::Status(403, Vec::new())));
    let message = failed(&run(&server, project.path(), cache.path()), 1);
    assert!(message.contains("refused access"), "{message}");
    assert_eq!(server.count(&ALPHA.page_path()), 1);
}

#[test]
fn wrong_content_types_are_refused_and_not_cached() {
    for (content_type, body) in [
        (
            "text/plain",
            b"Service temporarily unavailable, try again later".to_vec(),
        ),
        ("application/octet-stream", vec![0x1f, 0x8b, 0, 1, 2, 3]),
        ("application/json", b"{\"error\": \"maintenance\"}".to_vec()),
    ] {
        let server = FlakyServer::start(alpha_first(usize::MAX, Reply::Ok(content_type, body)));
        let (project, cache) = (poetry_project(), tempfile::tempdir().expect("tempdir"));
        let message = failed(&run(&server, project.path(), cache.path()), 2);
        assert!(
            message.contains(&format!(
                "the page {}{} could not be read: it is served as `{content_type}`, not as a Simple API page",
                server.base,
                ALPHA.page_path()
            )),
            "{message}"
        );
        assert!(cached_pages(cache.path(), "alpha").is_empty());
        server.heal();
        planned(&run(&server, project.path(), cache.path()));
    }
    // An install list remembers which versions a page covered: a page that answered without
    // the version's files must not be remembered as covering it.
    let server = FlakyServer::start(alpha_first(
        usize::MAX,
        Reply::Ok("text/html", b"<html>maintenance</html>".to_vec()),
    ));
    let (project, cache) = (
        requirements_project(),
        tempfile::tempdir().expect("tempdir"),
    );
    let message = failed(&run(&server, project.path(), cache.path()), 1);
    assert!(
        message.contains("`alpha` 1.0: no file of this version"),
        "{message}"
    );
    server.heal();
    planned(&run(&server, project.path(), cache.path()));
}

#[test]
fn redirect_loops_end_without_retries() {
    let server = FlakyServer::start(|request| {
        if request.path == ALPHA.page_path() {
            Reply::Redirect("/loop/alpha/".into())
        } else if request.path == "/loop/alpha/" {
            Reply::Redirect(ALPHA.page_path())
        } else {
            healthy(request)
        }
    });
    let (project, cache) = (poetry_project(), tempfile::tempdir().expect("tempdir"));
    let message = failed(&run(&server, project.path(), cache.path()), 2);
    assert!(
        message.contains(&format!(
            "fetching {}{} failed: more than 10 redirects (a redirect loop?)",
            server.base,
            ALPHA.page_path()
        )),
        "{message}"
    );
    let asked = server.count(&ALPHA.page_path()) + server.count("/loop/alpha/");
    assert_eq!(asked, 11, "one request and ten redirects, not retried");
    // A redirect that ends is followed, and the page's links resolve against where it ended.
    let server = FlakyServer::start(|request| {
        if request.path == ALPHA.page_path() {
            Reply::Redirect("/moved/alpha/".into())
        } else if request.path == "/moved/alpha/" {
            Reply::Ok("text/html", ALPHA.html())
        } else {
            healthy(request)
        }
    });
    planned(&run(&server, project.path(), cache.path()));
}

#[test]
fn a_page_that_changes_between_requests_is_read_whole_each_time() {
    // Every other answer lists beta with a wrong hash. py2nix plans from one whole answer
    // per page: the good one gives a plan, the bad one an error naming the file, never a
    // mixture, and a run that saw the bad one leaves nothing that fails a later healthy run.
    let wrong = "0".repeat(64);
    let server = FlakyServer::start(move |request| {
        if request.path == BETA.page_path() && request.nth % 2 == 0 {
            Reply::Ok("text/html", BETA.html_with(&wrong))
        } else {
            healthy(request)
        }
    });
    let project = poetry_project();
    let good_cache = tempfile::tempdir().expect("tempdir");
    let first = planned(&run(&server, project.path(), good_cache.path()));
    let bad_cache = tempfile::tempdir().expect("tempdir");
    let message = failed(&run(&server, project.path(), bad_cache.path()), 1);
    assert!(
        message.contains(&format!("hash mismatch for `{}` of `beta`", BETA.wheel())),
        "{message}"
    );
    assert!(
        message.contains(&format!(
            "the index ({}/files/{}) says sha256:{}",
            server.base,
            BETA.wheel(),
            "0".repeat(64)
        )),
        "{message}"
    );
    // The first run's cache answers without asking again, with the same plan.
    let before = server.log().len();
    assert_eq!(
        planned(&run(&server, project.path(), good_cache.path())),
        first
    );
    assert_eq!(server.log().len(), before);
}

/// A run that saw a page disagree with the lock must not leave that page in the cache: once
/// the index is healthy again, the next run must succeed.
///
/// FAILS TODAY: the page is cached when it is fetched, and the disagreement is found later,
/// by the planner; the binary's `lock` command must drop the cached pages of the packages a
/// hash mismatch names (`Cache::forget_package`) before it reports the error.
#[test]
fn a_page_that_disagreed_with_the_lock_is_not_kept_in_the_cache() {
    let wrong = "0".repeat(64);
    let server = FlakyServer::start(move |request| {
        if request.path == BETA.page_path() {
            Reply::Ok("text/html", BETA.html_with(&wrong))
        } else {
            healthy(request)
        }
    });
    let (project, cache) = (poetry_project(), tempfile::tempdir().expect("tempdir"));
    let message = failed(&run(&server, project.path(), cache.path()), 1);
    assert!(
        message.contains("hash mismatch for `beta-2.0-py3-none-any.whl`"),
        "{message}"
    );
    server.heal();
    planned(&run(&server, project.path(), cache.path()));
}

#[test]
fn a_file_whose_bytes_do_not_match_its_hash_is_refused_and_not_cached() {
    let server = FlakyServer::start(|request| {
        if request.path == BETA.metadata_path() {
            Reply::Ok(
                "application/octet-stream",
                b"Metadata-Version: 2.1\nName: beta\nVersion: 2.0\nRequires-Dist: evil\n".to_vec(),
            )
        } else {
            healthy(request)
        }
    });
    let (project, cache) = (
        requirements_project(),
        tempfile::tempdir().expect("tempdir"),
    );
    let message = failed(&run(&server, project.path(), cache.path()), 2);
    let url = format!("{}{}", server.base, BETA.metadata_path());
    assert!(
        message.contains(&format!("the sha256 of {url} is ")),
        "{message}"
    );
    assert!(
        message.contains(&format!(
            "but {} was expected",
            hex(&Sha256::digest(BETA.metadata()))
        )),
        "{message}"
    );
    assert!(!message.contains("evil"));
    // Nothing about beta's metadata was cached: the healed index is asked and the run succeeds.
    server.heal();
    planned(&run(&server, project.path(), cache.path()));
    assert_eq!(server.count(&BETA.metadata_path()), 2);
}

#[test]
fn a_failed_run_leaves_the_output_file_alone() {
    let server = FlakyServer::start(alpha_first(usize::MAX, Reply::Status(500, Vec::new())));
    let (project, cache) = (poetry_project(), tempfile::tempdir().expect("tempdir"));
    let out = tempfile::tempdir().expect("tempdir");
    let target = out.path().join("plan.json");
    let old = "{\"generator\": \"py2nix 0.0.1\", \"old\": true}\n";
    std::fs::write(&target, old).expect("write");
    let target_arg = target.to_str().expect("utf-8").to_string();
    let output = run_bounded(
        command(
            project.path(),
            &server.index_url(),
            cache.path(),
            &["-o", &target_arg],
        ),
        Duration::from_secs(120),
    );
    failed(&output, 2);
    assert_eq!(std::fs::read_to_string(&target).expect("read"), old);
    assert_eq!(files_under(out.path()), [PathBuf::from("plan.json")]);
}

#[test]
fn bad_settings_are_named() {
    let server = FlakyServer::start(healthy);
    let (project, cache) = (poetry_project(), tempfile::tempdir().expect("tempdir"));
    let mut command = command(project.path(), &server.index_url(), cache.path(), &[]);
    command.env("PY2NIX_HTTP_TIMEOUT", "soon");
    let output = run_bounded(command, Duration::from_secs(120));
    assert!(!output.status.success());
    assert!(output.stdout.is_empty());
    assert!(
        stderr(&output)
            .contains("PY2NIX_HTTP_TIMEOUT must be a number of seconds above 0, not `soon`"),
        "{}",
        stderr(&output)
    );
}
