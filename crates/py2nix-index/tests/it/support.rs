//! A small HTTP/1.1 server on 127.0.0.1 for the tests: static files, optional basic auth,
//! optional range support, and a log of every request with the bytes of body served.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use base64::Engine;
use py2nix_index::{Cache, Credentials, IndexClient};

/// What the server holds and how it answers.
#[derive(Clone, Default)]
pub struct Routes {
    /// Path (with leading `/`) to content type and body.
    pub files: HashMap<String, (String, Vec<u8>)>,
    /// Basic-auth credentials every request must carry.
    pub auth: Option<(String, String)>,
    /// Whether `Range` is honoured (else ignored, the whole body served with 200).
    pub ranges: bool,
    /// How a range `bytes=a-b` (not a suffix) is answered wrongly, if it is.
    pub span_lie: Option<SpanLie>,
}

/// A wrong answer to a range request `bytes=a-b`.
#[derive(Clone, Copy, Debug)]
pub enum SpanLie {
    /// The bytes from `a + 1` on, said to be from `a + 1` on.
    OtherStart,
    /// The right `Content-Range`, but only half the bytes.
    Short,
}

impl Routes {
    pub fn file(mut self, path: &str, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        self.files
            .insert(path.to_string(), (content_type.to_string(), body.into()));
        self
    }
}

/// One request the server answered.
#[derive(Debug, Clone)]
pub struct Served {
    pub path: String,
    pub range: Option<String>,
    /// The raw `Authorization` header, if any.
    pub authorization: Option<String>,
    /// The `Host` header.
    pub host: String,
    pub status: u16,
    pub body_bytes: usize,
}

pub struct Server {
    /// `http://127.0.0.1:<port>`
    pub base: String,
    pub port: u16,
    log: Arc<Mutex<Vec<Served>>>,
}

impl Server {
    pub fn start(routes: Routes) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let shared = log.clone();
        let routes = Arc::new(routes);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (routes, log) = (routes.clone(), shared.clone());
                std::thread::spawn(move || serve(stream, &routes, &log));
            }
        });
        Server {
            base: format!("http://127.0.0.1:{port}"),
            port,
            log,
        }
    }

    pub fn log(&self) -> Vec<Served> {
        self.log.lock().unwrap().clone()
    }

    pub fn requests_to(&self, path: &str) -> Vec<Served> {
        self.log().into_iter().filter(|s| s.path == path).collect()
    }

    pub fn body_bytes(&self) -> usize {
        self.log().iter().map(|s| s.body_bytes).sum()
    }
}

fn serve(mut stream: TcpStream, routes: &Routes, log: &Mutex<Vec<Served>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut headers = HashMap::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
        }
    }
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_string();
    let authorized = routes.auth.as_ref().is_none_or(|(user, password)| {
        let expected =
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        headers.get("authorization") == Some(&format!("Basic {expected}"))
    });
    let range = headers.get("range").cloned();
    let (status, content_type, body, extra) = if !authorized {
        let extra = "WWW-Authenticate: Basic realm=\"test\"\r\n".to_string();
        (
            401,
            "text/plain".to_string(),
            b"unauthorized".to_vec(),
            extra,
        )
    } else {
        match routes.files.get(&path) {
            None => (
                404,
                "text/plain".to_string(),
                b"not found".to_vec(),
                String::new(),
            ),
            Some((content_type, body)) => match range.as_deref().filter(|_| routes.ranges) {
                Some(range) => lie(routes.span_lie, range, ranged(range, content_type, body)),
                None => (200, content_type.clone(), body.clone(), String::new()),
            },
        }
    };
    log.lock().unwrap().push(Served {
        path,
        range,
        authorization: headers.get("authorization").cloned(),
        host: headers.get("host").cloned().unwrap_or_default(),
        status,
        body_bytes: body.len(),
    });
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&body);
    let _ = stream.flush();
}

/// `answer` to `range`, made wrong as `span_lie` says when the range is `bytes=a-b`.
fn lie(
    span_lie: Option<SpanLie>,
    range: &str,
    answer: (u16, String, Vec<u8>, String),
) -> (u16, String, Vec<u8>, String) {
    let (status, content_type, body, extra) = answer;
    let span = !range.trim_start_matches("bytes=").starts_with('-');
    match span_lie.filter(|_| span && status == 206 && body.len() > 2) {
        Some(SpanLie::OtherStart) => {
            let spec = extra.trim_start_matches("Content-Range: bytes ");
            let (first, rest) = spec.split_once('-').unwrap();
            let start: u64 = first.parse().unwrap();
            let extra = format!("Content-Range: bytes {}-{rest}", start + 1);
            (status, content_type, body[1..].to_vec(), extra)
        }
        Some(SpanLie::Short) => {
            let half = body.len() / 2;
            (status, content_type, body[..half].to_vec(), extra)
        }
        None => (status, content_type, body, extra),
    }
}

/// A 206 for `bytes=a-b`, `bytes=a-` or `bytes=-n`; 416 when it is past the end.
fn ranged(range: &str, content_type: &str, body: &[u8]) -> (u16, String, Vec<u8>, String) {
    let len = body.len() as u64;
    let spec = range.trim_start_matches("bytes=");
    let (start, end) = match spec.split_once('-').unwrap() {
        ("", n) => (len.saturating_sub(n.parse().unwrap()), len - 1),
        (a, "") => (a.parse().unwrap(), len - 1),
        (a, b) => (a.parse().unwrap(), b.parse::<u64>().unwrap().min(len - 1)),
    };
    if start >= len {
        let extra = format!("Content-Range: bytes */{len}\r\n");
        return (416, "text/plain".to_string(), Vec::new(), extra);
    }
    let extra = format!("Content-Range: bytes {start}-{end}/{len}\r\n");
    let slice = body[start as usize..=end as usize].to_vec();
    (206, content_type.to_string(), slice, extra)
}

/// A client with a cache in `dir` and exactly these credentials.
pub fn client(dir: &Path, offline: bool, credentials: Credentials) -> IndexClient {
    IndexClient::new(Some(Cache::new(dir)), offline)
        .unwrap()
        .with_credentials(credentials)
}

/// Every file under `dir`, recursively.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// A wheel of `name` `version` holding `METADATA` and the given other members; `pad` bytes of
/// uncompressible data are stored in a dummy member.
pub fn wheel(name: &str, version: &str, metadata: &str, pad: usize, small_files: usize) -> Vec<u8> {
    use std::io::Write as _;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.start_file(format!("{name}/__init__.py"), deflated)
        .unwrap();
    zip.write_all(b"").unwrap();
    zip.start_file(format!("{name}/padding.bin"), stored)
        .unwrap();
    zip.write_all(&pseudo_random(pad)).unwrap();
    for i in 0..small_files {
        zip.start_file(
            format!("{name}/data/a-rather-long-file-name-to-grow-the-directory-{i:06}.txt"),
            stored,
        )
        .unwrap();
        zip.write_all(b"x").unwrap();
    }
    let dist_info = format!("{name}-{version}.dist-info");
    zip.start_file(format!("{dist_info}/METADATA"), deflated)
        .unwrap();
    zip.write_all(metadata.as_bytes()).unwrap();
    zip.start_file(format!("{dist_info}/WHEEL"), deflated)
        .unwrap();
    zip.write_all(b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        .unwrap();
    zip.start_file(format!("{dist_info}/RECORD"), deflated)
        .unwrap();
    zip.write_all(b"").unwrap();
    zip.finish().unwrap().into_inner()
}

/// Deterministic bytes that do not compress.
pub fn pseudo_random(len: usize) -> Vec<u8> {
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

/// A PEP 503 page linking `files` (name, sha256, extra attributes) relative to the page.
pub fn html_page(files: &[(&str, &str, &str)]) -> String {
    let mut html = String::from("<!DOCTYPE html><html><body>\n");
    for (name, sha256, attributes) in files {
        html.push_str(&format!(
            "<a href=\"../../files/{name}#sha256={sha256}\" {attributes}>{name}</a><br/>\n"
        ));
    }
    html.push_str("</body></html>\n");
    html
}
