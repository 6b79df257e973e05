//! The libraries of a Linux wheel read by range requests: a wheel with one small shared
//! object and 5 MB of data, served from 127.0.0.1 by a server that honours ranges (only a
//! small part of the wheel is sent), refuses them (200 with the whole wheel), cannot serve
//! them (501), or lies about them (another `Content-Range`, a body cut short): the plan is
//! the same each time, the wheel downloaded whole when ranges fail, and a warm run sends
//! nothing.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::common::{linux_wheel, ok, shared_object, stderr};
use crate::network::{hex, run_bounded, FAST};

const WHEEL: &str = "app-1.0-cp312-cp312-manylinux_2_17_x86_64.whl";
const DATA: usize = 5 << 20;

/// How the server answers a request with a `Range` header.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Ranges {
    Honour,
    /// 200 with the whole file.
    Refuse,
    /// 501 to any range request.
    Fail,
    /// The suffix request answered truly; `bytes=a-b` with the bytes (and the
    /// `Content-Range`) from `a + 1` on.
    OtherStart,
    /// The suffix request answered truly; `bytes=a-b` with the right `Content-Range` but
    /// only its first 40 bytes.
    Short,
}

struct Server {
    base: String,
    /// Body bytes written to clients.
    sent: Arc<AtomicU64>,
    /// Requests for the wheel, and how many had a `Range` header.
    wheel_requests: Arc<AtomicUsize>,
}

impl Server {
    fn start(wheel: Vec<u8>, ranges: Ranges) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let base = format!(
            "http://127.0.0.1:{}",
            listener.local_addr().expect("addr").port()
        );
        let sent: Arc<AtomicU64> = Arc::default();
        let wheel_requests: Arc<AtomicUsize> = Arc::default();
        let page = format!(
            "<!DOCTYPE html><html><body><a href=\"{base}/files/{WHEEL}#sha256={}\">{WHEEL}</a></body></html>",
            hex(&Sha256::digest(&wheel))
        );
        let wheel = Arc::new(wheel);
        let (counter, requests) = (sent.clone(), wheel_requests.clone());
        std::thread::spawn(move || {
            // Bounded: no test here makes more than a few dozen requests.
            for stream in listener.incoming().take(200).flatten() {
                let (wheel, page, counter, requests) = (
                    wheel.clone(),
                    page.clone(),
                    counter.clone(),
                    requests.clone(),
                );
                std::thread::spawn(move || {
                    answer(stream, &wheel, &page, ranges, &counter, &requests)
                });
            }
        });
        Server {
            base,
            sent,
            wheel_requests,
        }
    }

    fn sent(&self) -> u64 {
        self.sent.load(Ordering::SeqCst)
    }
}

fn answer(
    mut stream: TcpStream,
    wheel: &[u8],
    page: &str,
    ranges: Ranges,
    sent: &AtomicU64,
    wheel_requests: &AtomicUsize,
) {
    let _ = stream.set_write_timeout(Some(Duration::from_secs(30)));
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let mut range = None;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.trim().eq_ignore_ascii_case("range") {
                range = Some(value.trim().to_string());
            }
        }
    }
    let len = wheel.len() as u64;
    let (status, extra, body): (&str, String, &[u8]) = if path == "/simple/app/" {
        (
            "200 OK",
            "Content-Type: text/html\r\n".to_string(),
            page.as_bytes(),
        )
    } else if path == format!("/files/{WHEEL}") {
        wheel_requests.fetch_add(1, Ordering::SeqCst);
        match (range, ranges) {
            (None, _) | (Some(_), Ranges::Refuse) => ("200 OK", String::new(), wheel),
            (Some(_), Ranges::Fail) => ("501 Not Implemented", String::new(), &b""[..]),
            (Some(range), _) => {
                let spec = range.trim_start_matches("bytes=");
                let (a, b) = spec.split_once('-').expect("a range");
                let suffix = a.is_empty();
                let (mut start, end) = if suffix {
                    (len - b.parse::<u64>().expect("n").min(len), len - 1)
                } else {
                    let a: u64 = a.parse().expect("a");
                    (a, b.parse::<u64>().expect("b").min(len - 1))
                };
                let mut stop = end + 1;
                match ranges {
                    Ranges::OtherStart if !suffix => start += 1,
                    Ranges::Short if !suffix => stop = stop.min(start + 40),
                    _ => {}
                }
                (
                    "206 Partial Content",
                    format!("Content-Range: bytes {start}-{end}/{len}\r\n"),
                    &wheel[start as usize..stop as usize],
                )
            }
        }
    } else {
        ("404 Not Found", String::new(), &b""[..])
    };
    let content_type = if extra.starts_with("Content-Type") {
        ""
    } else {
        "Content-Type: application/octet-stream\r\n"
    };
    let head = format!(
        "HTTP/1.1 {status}\r\n{content_type}Content-Length: {}\r\n{extra}Connection: close\r\n\r\n",
        body.len()
    );
    if stream.write_all(head.as_bytes()).is_err() {
        return;
    }
    for chunk in body.chunks(16 * 1024) {
        if stream.write_all(chunk).is_err() {
            return;
        }
        sent.fetch_add(chunk.len() as u64, Ordering::SeqCst);
    }
    let _ = stream.flush();
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let _ = reader.read(&mut [0; 64]);
}

/// Bytes that do not compress.
fn noise(len: usize) -> Vec<u8> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// The test wheel: an extension module needing zlib, a library it bundles (hashed name)
/// and one nothing maps; the bundled library; 5 MB of data; the dist-info.
fn wheel() -> Vec<u8> {
    linux_wheel(
        "app",
        &[
            ("app/__init__.py", b"".to_vec()),
            ("app/data/weights.bin", noise(DATA)),
            (
                "app/_core.cpython-312-x86_64-linux-gnu.so",
                shared_object(
                    &[
                        "libz.so.1",
                        "libcrypto-5409cd36.so.1.1.1k",
                        "libmystery.so.7",
                        "libc.so.6",
                    ],
                    None,
                ),
            ),
            (
                "app.libs/libcrypto-5409cd36.so.1.1.1k",
                shared_object(&["libc.so.6"], Some("libcrypto-5409cd36.so.1.1.1k")),
            ),
        ],
    )
}

/// A uv project depending on `app` from the server's index.
fn project(base: &str, wheel: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("pyproject.toml"),
        "[project]\nname = \"root\"\nversion = \"0.1.0\"\nrequires-python = \">=3.12\"\ndependencies = [\"app\"]\n\n[tool.uv]\npackage = false\n",
    )
    .expect("write");
    let lock = format!(
        "version = 1\nrevision = 3\nrequires-python = \">=3.12\"\n\n[[package]]\nname = \"root\"\nversion = \"0.1.0\"\nsource = {{ virtual = \".\" }}\ndependencies = [\n    {{ name = \"app\" }},\n]\n\n[[package]]\nname = \"app\"\nversion = \"1.0\"\nsource = {{ registry = \"{base}/simple\" }}\nwheels = [\n    {{ url = \"{base}/files/{WHEEL}\", hash = \"sha256:{}\", size = {} }},\n]\n",
        hex(&Sha256::digest(wheel)),
        wheel.len()
    );
    std::fs::write(dir.path().join("uv.lock"), lock).expect("write");
    dir
}

/// Plans the project against the server with a cache in `cache`: the `app` package's plan
/// and py2nix's `-v` messages.
fn plan(
    server: &Server,
    project: &std::path::Path,
    cache: &std::path::Path,
) -> (serde_json::Value, String) {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_py2nix"));
    command
        .args(["lock", project.to_str().expect("utf-8")])
        .args([
            "--system",
            "x86_64-linux",
            "--python",
            "3.12",
            "--format",
            "json",
            "-v",
        ])
        .env("PY2NIX_INDEX_URL", format!("{}/simple/", server.base))
        .env("PY2NIX_CACHE_DIR", cache)
        .env("NETRC", cache.join("no-netrc"))
        .env_remove("XDG_CACHE_HOME")
        .envs(FAST);
    let output = run_bounded(command, Duration::from_secs(120));
    let json: serde_json::Value = serde_json::from_str(&ok(&output)).expect("a JSON plan");
    let app = json["targets"]["x86_64-linux-cp312"]["packages"]["app"].clone();
    assert!(app.is_object(), "{json}");
    (app, stderr(&output))
}

/// What the scan put in the plan: zlib from the table, the bundled library found (not
/// unknown), the unmapped library named (so the manylinux set is kept).
fn assert_scanned(app: &serde_json::Value) {
    assert_eq!(
        app["build-inputs"],
        serde_json::json!(["pythonManylinuxPackages.manylinux2014", "zlib"]),
        "{app}"
    );
    assert_eq!(
        app["unknown-sonames"],
        serde_json::json!(["libmystery.so.7"]),
        "{app}"
    );
}

#[test]
fn a_server_that_honours_ranges_sends_a_small_part_of_the_wheel() {
    let wheel = wheel();
    let server = Server::start(wheel.clone(), Ranges::Honour);
    let project = project(&server.base, &wheel);
    let cache = tempfile::tempdir().expect("tempdir");
    let (app, messages) = plan(&server, project.path(), cache.path());
    assert_scanned(&app);
    let sent = server.sent();
    assert!(
        sent < 256 * 1024 && (sent as usize) < wheel.len() / 20,
        "{sent} bytes sent of a {} byte wheel:\n{messages}",
        wheel.len()
    );
    assert!(!messages.contains("read whole"), "{messages}");
    // Warm: the cache has the wheel's lists.
    let (warm, _) = plan(&server, project.path(), cache.path());
    assert_eq!(warm, app);
    assert_eq!(server.sent(), sent, "a warm run sends nothing");
    // Offline without the wheel's lists: an error naming the wheel, no request, no whole
    // download tried.
    std::fs::remove_dir_all(cache.path().join("wheel-libraries-v3")).expect("remove");
    let requests = server.wheel_requests.load(Ordering::SeqCst);
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_py2nix"));
    command
        .args([
            "lock",
            project.path().to_str().expect("utf-8"),
            "--offline",
            "-v",
        ])
        .args([
            "--system",
            "x86_64-linux",
            "--python",
            "3.12",
            "--format",
            "json",
        ])
        .env("PY2NIX_INDEX_URL", format!("{}/simple/", server.base))
        .env("PY2NIX_CACHE_DIR", cache.path())
        .env("NETRC", cache.path().join("no-netrc"))
        .env_remove("XDG_CACHE_HOME")
        .envs(FAST);
    let output = run_bounded(command, Duration::from_secs(120));
    let messages = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{messages}");
    assert!(output.stdout.is_empty());
    assert!(
        messages.contains(&format!(
            "--offline: the cache has no file for {}/files/{WHEEL}",
            server.base
        )) && !messages.contains("read whole"),
        "{messages}"
    );
    assert_eq!(server.wheel_requests.load(Ordering::SeqCst), requests);
}

#[test]
fn a_server_without_ranges_gives_the_same_plan_from_the_whole_wheel() {
    let wheel = wheel();
    let mut plans = Vec::new();
    for ranges in [
        Ranges::Honour,
        Ranges::Refuse,
        Ranges::Fail,
        Ranges::OtherStart,
        Ranges::Short,
    ] {
        let server = Server::start(wheel.clone(), ranges);
        let project = project(&server.base, &wheel);
        let cache = tempfile::tempdir().expect("tempdir");
        let (app, messages) = plan(&server, project.path(), cache.path());
        assert_scanned(&app);
        if ranges != Ranges::Honour {
            // The whole wheel was sent once (twice at most: the answer to the range request
            // when it is the wheel, then nothing more is asked).
            assert!(
                server.sent() >= wheel.len() as u64,
                "{ranges:?}: {} bytes sent:\n{messages}",
                server.sent()
            );
            assert!(
                server.wheel_requests.load(Ordering::SeqCst) <= 8,
                "{ranges:?}: bounded requests"
            );
        }
        let why = match ranges {
            Ranges::Honour | Ranges::Refuse => None,
            Ranges::Fail => Some("HTTP 501"),
            Ranges::OtherStart => Some("answered a range request for bytes"),
            Ranges::Short => Some("the range ended after"),
        };
        if let Some(why) = why {
            let line = messages
                .lines()
                .find(|line| line.contains(&format!("`{WHEEL}`: read whole: ")))
                .unwrap_or_else(|| {
                    panic!("{ranges:?}: -v says why the wheel was read whole:\n{messages}")
                });
            assert!(line.contains(why), "{ranges:?}: {line}");
        }
        let mut app = app;
        // Each server has its own port.
        app["src"]["url"] = serde_json::Value::Null;
        plans.push(app);
    }
    assert!(plans.windows(2).all(|pair| pair[0] == pair[1]), "{plans:?}");
}
