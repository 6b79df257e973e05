//! Untrusted sources on the network: a malicious index (or file host, or git server) on
//! 127.0.0.1 tries to get the index's credentials sent elsewhere, to make py2nix hold an
//! endless or huge download in memory, to hold it for ever with a body that drips, to put a
//! git URL's token into the output, and to make py2nix clone repositories the user never
//! named (a Cargo.lock's git crates inside a downloaded sdist). Each test asserts the exit
//! code, the message, that nothing was printed or written, and (for memory) runs py2nix
//! under `ulimit -v` far below the attack's size.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::common::{base64, linux_wheel, shared_object, stderr, stdout};
use crate::network::{files_under, hex, run_bounded, ALPHA, BETA, FAST};

/// One request the server saw.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    /// The `Host` header, e.g. `localhost:4711`.
    host: String,
    authorization: Option<String>,
}

/// How the server answers.
enum Answer {
    /// 200 with this content type and body.
    Bytes(&'static str, Vec<u8>),
    /// 200 without a length, zeros until the client goes away (at most 8 GiB or 100 s).
    Forever,
    /// 200 announcing this `Content-Length`, then zeros until the client goes away.
    Announce(u64),
    /// 200 text/html, a page's first bytes, then one byte every interval (at most 100 s).
    Drip(Duration),
    /// 302 to this absolute URL.
    Redirect(String),
    /// 401 asking for Basic credentials.
    Unauthorized,
    NotFound,
}

type Handler = dyn Fn(&Seen) -> Answer + Send + Sync;

/// A malicious HTTP server on 127.0.0.1 (reachable as `localhost` too, another origin).
struct Hostile {
    port: u16,
    log: Arc<Mutex<Vec<Seen>>>,
    /// Body bytes written to clients so far.
    sent: Arc<AtomicU64>,
}

impl Hostile {
    /// A server whose handler `make` builds knowing the port it listens on.
    fn start<H>(make: impl FnOnce(u16) -> H) -> Hostile
    where
        H: Fn(&Seen) -> Answer + Send + Sync + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().expect("address").port();
        let log: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let sent: Arc<AtomicU64> = Arc::default();
        let handler: Arc<Handler> = Arc::new(make(port));
        let (server_log, server_sent) = (log.clone(), sent.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (log, sent, handler) =
                    (server_log.clone(), server_sent.clone(), handler.clone());
                std::thread::spawn(move || answer(stream, &log, &sent, &*handler));
            }
        });
        Hostile { port, log, sent }
    }

    /// `http://127.0.0.1:PORT`
    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn log(&self) -> Vec<Seen> {
        self.log.lock().expect("log").clone()
    }

    fn count(&self, path: &str) -> usize {
        self.log().iter().filter(|s| s.path == path).count()
    }
}

fn answer(mut stream: TcpStream, log: &Mutex<Vec<Seen>>, sent: &AtomicU64, handler: &Handler) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let (mut host, mut authorization) = (String::new(), None);
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            match name.trim().to_ascii_lowercase().as_str() {
                "host" => host = value.trim().to_string(),
                "authorization" => authorization = Some(value.trim().to_string()),
                _ => {}
            }
        }
    }
    let seen = Seen {
        path,
        host,
        authorization,
    };
    log.lock().expect("log").push(seen.clone());
    let zeros = vec![0u8; 64 * 1024];
    let started = Instant::now();
    let endless = |stream: &mut TcpStream| {
        let mut total = 0u64;
        while total < 8 << 30 && started.elapsed() < Duration::from_secs(100) {
            if stream.write_all(&zeros).is_err() {
                break;
            }
            total += zeros.len() as u64;
            sent.fetch_add(zeros.len() as u64, Ordering::SeqCst);
        }
    };
    match handler(&seen) {
        Answer::Bytes(content_type, body) => {
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(&body);
        }
        Answer::Forever => {
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n"
            );
            endless(&mut stream);
        }
        Answer::Announce(length) => {
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
            );
            endless(&mut stream);
        }
        Answer::Drip(interval) => {
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n<!DOCTYPE html><html><body>"
            );
            while started.elapsed() < Duration::from_secs(100) {
                std::thread::sleep(interval);
                if stream
                    .write_all(b" ")
                    .and_then(|()| stream.flush())
                    .is_err()
                {
                    break;
                }
            }
        }
        Answer::Redirect(location) => {
            let _ = write!(
                stream,
                "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
        Answer::Unauthorized => {
            let _ = write!(
                stream,
                "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
        Answer::NotFound => {
            let _ = write!(
                stream,
                "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found"
            );
        }
    }
    let _ = stream.flush();
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let _ = reader.read(&mut [0; 64]);
}

const USER: &str = "idx-user";
const SECRET: &str = "s3cret-9Qx";

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", base64(format!("{user}:{password}").as_bytes()))
}

/// A py2nix command with the test's environment (fast retries, no credentials or cache from
/// the caller's), run under `ulimit -v` (KiB) when given.
fn py2nix(args: &[&str], cache: &Path, env: &[(&str, &str)], ulimit_kib: Option<u64>) -> Command {
    let binary = env!("CARGO_BIN_EXE_py2nix");
    let mut command = match ulimit_kib {
        Some(kib) => {
            let mut sh = Command::new("sh");
            sh.args([
                "-c",
                &format!("ulimit -v {kib} && exec \"$0\" \"$@\""),
                binary,
            ]);
            sh
        }
        None => Command::new(binary),
    };
    command
        .args(args)
        .env("PY2NIX_CACHE_DIR", cache)
        .env("NETRC", cache.join("no-netrc"))
        .env_remove("XDG_CACHE_HOME")
        .env_remove("PY2NIX_INDEX_URL")
        .env_remove("PY2NIX_MAX_DOWNLOAD_SIZE")
        .env_remove("PY2NIX_CARGO_GIT_HOSTS")
        .envs(FAST);
    for (key, _) in std::env::vars() {
        if key.starts_with("PY2NIX_INDEX_")
            || key.starts_with("PY2NIX_GIT_")
            || key.starts_with("UV_INDEX_")
            || key.starts_with("POETRY_HTTP_BASIC_")
        {
            command.env_remove(key);
        }
    }
    command.envs(env.iter().copied());
    command
}

fn run(command: Command) -> Output {
    run_bounded(command, Duration::from_secs(120))
}

/// Asserts a failed run: `code`, nothing on stdout; returns stderr.
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

fn lock_args<'a>(project: &'a Path, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "lock",
        project.to_str().expect("utf-8"),
        "--system",
        "x86_64-linux",
        "--python",
        "3.12",
    ];
    args.extend(extra);
    if !extra.contains(&"--format") {
        args.extend(["--format", "json"]);
    }
    args
}

/// A uv project whose virtual root depends on the given packages, each `(name, version,
/// the rest of its [[package]] table)`, in uv.lock's syntax.
fn uv_project(packages: &[(&str, &str, String)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let names: Vec<String> = packages.iter().map(|p| format!("\"{}\"", p.0)).collect();
    std::fs::write(
        dir.path().join("pyproject.toml"),
        format!(
            "[project]\nname = \"app\"\nversion = \"0.1.0\"\nrequires-python = \">=3.11\"\ndependencies = [{}]\n\n[tool.uv]\npackage = false\n",
            names.join(", ")
        ),
    )
    .expect("write pyproject.toml");
    let mut lock = String::from(
        "version = 1\nrevision = 3\nrequires-python = \">=3.11\"\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\nsource = { virtual = \".\" }\ndependencies = [\n",
    );
    for (name, _, _) in packages {
        lock.push_str(&format!("    {{ name = \"{name}\" }},\n"));
    }
    lock.push_str("]\n");
    for (name, version, rest) in packages {
        lock.push_str(&format!(
            "\n[[package]]\nname = \"{name}\"\nversion = \"{version}\"\n{rest}\n"
        ));
    }
    std::fs::write(dir.path().join("uv.lock"), lock).expect("write uv.lock");
    dir
}

/// The PEP 503 page of one file at `url`.
fn page(filename: &str, url: &str, sha256: &str) -> Vec<u8> {
    format!("<!DOCTYPE html>\n<html><body>\n<a href=\"{url}#sha256={sha256}\">{filename}</a>\n</body></html>\n")
        .into_bytes()
}

/// The peak virtual memory py2nix may use in the memory tests: far below the attacks' sizes
/// (endless, or 3 GiB announced), far above what a run needs.
const ULIMIT_KIB: u64 = 1536 * 1024;

// ---------------------------------------------------------------- 1: credentials per origin

/// The index of `requirements_project`, only with the right Basic credentials on its own
/// origin (127.0.0.1); alpha's page links its wheel and metadata file on `localhost` (the
/// same server as another origin), and beta's page redirects there when `redirect_beta`.
fn guarded_index(port: u16, redirect_beta: bool) -> impl Fn(&Seen) -> Answer + Send + Sync {
    let index_host = format!("127.0.0.1:{port}");
    let other = format!("http://localhost:{port}");
    move |seen| {
        let on_index = seen.host == index_host;
        if on_index
            && seen.path.starts_with("/simple/")
            && seen.authorization.as_deref() != Some(basic(USER, SECRET).as_str())
        {
            return Answer::Unauthorized;
        }
        if redirect_beta && on_index && seen.path == BETA.page_path() {
            return Answer::Redirect(format!("{other}{}", BETA.page_path()));
        }
        for package in [&ALPHA, &BETA] {
            if seen.path == package.page_path() {
                let mut html = String::from_utf8(package.html()).expect("utf-8");
                if package.name == "alpha" {
                    html = html.replace("href=\"/files/", &format!("href=\"{other}/files/"));
                }
                return Answer::Bytes("text/html", html.into_bytes());
            }
            if seen.path == package.metadata_path() {
                return Answer::Bytes("application/octet-stream", package.metadata());
            }
        }
        Answer::NotFound
    }
}

#[test]
fn index_credentials_go_to_the_index_origin_only() {
    for redirect_beta in [false, true] {
        let server = Hostile::start(|port| guarded_index(port, redirect_beta));
        let project = crate::network::requirements_project();
        let cache = tempfile::tempdir().expect("tempdir");
        let index_url = format!("http://{USER}:{SECRET}@127.0.0.1:{}/simple/", server.port);
        let output = run(py2nix(
            &lock_args(project.path(), &["-v"]),
            cache.path(),
            &[("PY2NIX_INDEX_URL", &index_url)],
            None,
        ));
        assert!(output.status.success(), "{}", stderr(&output));
        let plan: serde_json::Value = serde_json::from_slice(&output.stdout).expect("plan");
        let packages = &plan["targets"]["x86_64-linux-cp312"]["packages"];
        let alpha = &packages["alpha"]["src"];
        assert!(
            alpha["url"]
                .as_str()
                .is_some_and(|u| u.starts_with("http://localhost:")),
            "{alpha}"
        );
        assert!(
            alpha.get("index").is_none(),
            "a file on another origin is fetched without the index's credentials: {alpha}"
        );
        let beta = &packages["beta"]["src"];
        if redirect_beta {
            // Its page was read on localhost, so its file is there too.
            assert!(beta["url"]
                .as_str()
                .is_some_and(|u| u.starts_with("http://localhost:")));
            assert!(beta.get("index").is_none(), "{beta}");
        } else {
            assert_eq!(beta["index"], "default", "{beta}");
        }
        assert_eq!(
            packages["alpha"]["dependencies"],
            serde_json::json!(["beta"])
        );
        // py2nix itself sent the credentials to the index's origin only.
        let log = server.log();
        assert!(
            log.iter().any(|s| s.host.starts_with("localhost:")),
            "{log:?}"
        );
        for seen in &log {
            if seen.host.starts_with("localhost:") {
                assert_eq!(
                    seen.authorization, None,
                    "credentials sent to another origin: {seen:?}"
                );
            }
        }
        for text in [stdout(&output), stderr(&output)] {
            assert!(!text.contains(SECRET), "{text}");
        }
    }
}

// ---------------------------------------------------------------- 2: bounded downloads

/// A uv project of `gamma` 1.0 from an sdist on `base`'s index, with `size` in the lock when
/// given; the sdist's hash is that of `sdist-bytes`.
fn sdist_project(base: &str, size: Option<u64>) -> (tempfile::TempDir, String) {
    let sha256 = hex(&Sha256::digest(b"sdist-bytes"));
    let size = size.map(|s| format!(", size = {s}")).unwrap_or_default();
    let project = uv_project(&[(
        "gamma",
        "1.0",
        format!(
            "source = {{ registry = \"{base}/simple\" }}\nsdist = {{ url = \"{base}/files/gamma-1.0.tar.gz\", hash = \"sha256:{sha256}\"{size} }}\n"
        ),
    )]);
    (project, sha256)
}

/// The index of `sdist_project`: gamma's page, and its sdist answered by `file`.
fn sdist_index(
    port: u16,
    file: impl Fn() -> Answer + Send + Sync + 'static,
) -> impl Fn(&Seen) -> Answer + Send + Sync {
    let base = format!("http://127.0.0.1:{port}");
    let sha256 = hex(&Sha256::digest(b"sdist-bytes"));
    move |seen| match seen.path.as_str() {
        "/simple/gamma/" => Answer::Bytes(
            "text/html",
            page(
                "gamma-1.0.tar.gz",
                &format!("{base}/files/gamma-1.0.tar.gz"),
                &sha256,
            ),
        ),
        "/files/gamma-1.0.tar.gz" => file(),
        _ => Answer::NotFound,
    }
}

/// An sdist that never ends, with no size in the lock: abandoned at the cap, in little memory.
#[test]
fn an_endless_download_is_abandoned_at_the_cap() {
    let server = Hostile::start(|port| sdist_index(port, || Answer::Forever));
    let (project, _) = sdist_project(&server.base(), None);
    let cache = tempfile::tempdir().expect("tempdir");
    let out = tempfile::tempdir().expect("tempdir");
    let target = out.path().join("python.nix");
    let target_arg = target.to_str().expect("utf-8");
    let output = run(py2nix(
        &lock_args(project.path(), &["--format", "nix", "-o", target_arg]),
        cache.path(),
        &[("PY2NIX_MAX_DOWNLOAD_SIZE", "64M")],
        Some(ULIMIT_KIB),
    ));
    let message = failed(&output, 1);
    assert!(
        message.contains("/files/gamma-1.0.tar.gz is larger than 67108864 bytes (--max-download-size or PY2NIX_MAX_DOWNLOAD_SIZE); the download was abandoned"),
        "{message}"
    );
    assert!(!target.exists(), "no output file");
    assert!(!message.contains("memory allocation"), "{message}");
    assert_eq!(server.count("/files/gamma-1.0.tar.gz"), 1, "not retried");
}

/// A download announcing 3 GiB is refused before its body is read; the lock's size, when it
/// has one, is the limit.
#[test]
fn an_announced_or_lock_sized_excess_is_refused_at_once() {
    let server = Hostile::start(|port| sdist_index(port, || Answer::Announce(3 << 30)));
    let (project, _) = sdist_project(&server.base(), None);
    let cache = tempfile::tempdir().expect("tempdir");
    let output = run(py2nix(
        &lock_args(project.path(), &[]),
        cache.path(),
        &[],
        Some(ULIMIT_KIB),
    ));
    let message = failed(&output, 1);
    assert!(
        message.contains(
            "is larger than 2147483648 bytes (--max-download-size or PY2NIX_MAX_DOWNLOAD_SIZE)"
        ),
        "{message}"
    );
    assert!(
        server.sent.load(Ordering::SeqCst) < 64 << 20,
        "the body was read: {} bytes sent",
        server.sent.load(Ordering::SeqCst)
    );

    // The lock says the sdist has 1000 bytes: an endless body is abandoned right after them.
    let server = Hostile::start(|port| sdist_index(port, || Answer::Forever));
    let (project, _) = sdist_project(&server.base(), Some(1000));
    let cache = tempfile::tempdir().expect("tempdir");
    let output = run(py2nix(
        &lock_args(project.path(), &[]),
        cache.path(),
        &[],
        Some(ULIMIT_KIB),
    ));
    let message = failed(&output, 1);
    assert!(
        message.contains("is larger than 1000 bytes (the size the lock records for it)"),
        "{message}"
    );
}

/// A local sdist that is a link to /dev/zero is refused, not read: as a path leading out of
/// the project, and, where the user allows such paths, as a file that is not a regular one.
#[test]
fn a_local_archive_that_is_not_a_regular_file_is_refused() {
    let project = uv_project(&[(
        "gamma",
        "1.0",
        "source = { path = \"gamma-1.0.tar.gz\" }\nsdist = { path = \"gamma-1.0.tar.gz\" }\n"
            .to_string(),
    )]);
    std::os::unix::fs::symlink("/dev/zero", project.path().join("gamma-1.0.tar.gz"))
        .expect("symlink");
    let cache = tempfile::tempdir().expect("tempdir");
    for (extra, expected) in [
        (&[][..], "is outside the project directory"),
        (
            &["--allow-outside-paths"][..],
            "/dev/zero` is not a regular file",
        ),
    ] {
        let output = run(py2nix(
            &lock_args(project.path(), extra),
            cache.path(),
            &[],
            Some(ULIMIT_KIB),
        ));
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        assert!(output.stdout.is_empty());
        let message = stderr(&output);
        assert!(
            message.contains("`gamma`") && message.contains(expected),
            "{message}"
        );
    }
}

// ---------------------------------------------------------------- 11: deadline

/// A page that drips a byte at a time, never stalling long enough for the per-read timeout,
/// ends at the deadline, and is not asked for again.
#[test]
fn a_dripping_page_ends_at_the_deadline() {
    let server = Hostile::start(|_| {
        |seen: &Seen| match seen.path.as_str() {
            "/simple/alpha/" | "/simple/beta/" => Answer::Drip(Duration::from_millis(200)),
            _ => Answer::NotFound,
        }
    });
    let project = crate::network::requirements_project();
    let cache = tempfile::tempdir().expect("tempdir");
    let index_url = format!("{}/simple/", server.base());
    let started = Instant::now();
    let output = run(py2nix(
        &lock_args(project.path(), &[]),
        cache.path(),
        &[
            ("PY2NIX_INDEX_URL", &index_url),
            ("PY2NIX_HTTP_TIMEOUT", "1"),
            ("PY2NIX_HTTP_DEADLINE", "2"),
        ],
        None,
    ));
    let elapsed = started.elapsed();
    let message = failed(&output, 2);
    assert!(
        message.contains("/simple/alpha/ failed: it did not arrive whole within 2 s (PY2NIX_HTTP_DEADLINE); not retried"),
        "{message}"
    );
    assert!(elapsed < Duration::from_secs(30), "{elapsed:?}");
    assert_eq!(server.count("/simple/alpha/"), 1, "not retried");
}

// ---------------------------------------------------------------- 6: credentials in git URLs

fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.org")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.org")
        .output()
        .expect("run git");
    assert!(output.status.success(), "git {args:?}: {}", stderr(&output));
    stdout(&output).trim().to_string()
}

const GIT_TOKEN: &str = "gh-t0ken-Zq81";

/// A bare repository served over git's dumb HTTP protocol, only with Basic credentials
/// `git:<GIT_TOKEN>`; returns its commit.
fn served_repository(root: &Path) -> String {
    let work = root.join("work");
    std::fs::create_dir_all(&work).expect("mkdir");
    std::fs::write(
        work.join("pyproject.toml"),
        "[project]\nname = \"private\"\nversion = \"1.0\"\n\n[build-system]\nrequires = []\nbuild-backend = \"backend\"\n",
    )
    .expect("write");
    git(&work, &["init", "--quiet", "--initial-branch", "main"]);
    git(&work, &["add", "--all"]);
    git(&work, &["commit", "--quiet", "--message", "first"]);
    let commit = git(&work, &["rev-parse", "HEAD"]);
    git(root, &["clone", "--quiet", "--bare", "work", "repo.git"]);
    git(&root.join("repo.git"), &["update-server-info"]);
    commit
}

fn repository_server(root: PathBuf) -> Hostile {
    Hostile::start(move |_| {
        move |seen: &Seen| {
            if seen.authorization.as_deref() != Some(basic("git", GIT_TOKEN).as_str()) {
                return Answer::Unauthorized;
            }
            let relative = seen
                .path
                .split('?')
                .next()
                .unwrap_or_default()
                .trim_start_matches('/');
            if relative.contains("..") {
                return Answer::NotFound;
            }
            match std::fs::read(root.join(relative)) {
                Ok(bytes) => Answer::Bytes("application/octet-stream", bytes),
                Err(_) => Answer::NotFound,
            }
        }
    })
}

#[test]
fn a_git_urls_credentials_reach_no_output_and_python_nix_asks_the_environment() {
    let root = tempfile::tempdir().expect("tempdir");
    let commit = served_repository(root.path());
    let server = repository_server(root.path().to_path_buf());
    let url = format!("http://git:{GIT_TOKEN}@127.0.0.1:{}/repo.git", server.port);
    let project = uv_project(&[(
        "private",
        "1.0",
        format!("source = {{ git = \"{url}?rev={commit}#{commit}\" }}\n"),
    )]);
    let cache = tempfile::tempdir().expect("tempdir");
    let out = tempfile::tempdir().expect("tempdir");
    let json = run(py2nix(
        &lock_args(project.path(), &["-v"]),
        cache.path(),
        &[],
        None,
    ));
    assert!(json.status.success(), "{}", stderr(&json));
    // The repository was cloned with the lock's credentials.
    assert!(server.log().iter().any(|s| s.authorization.is_some()));
    let plan: serde_json::Value = serde_json::from_slice(&json.stdout).expect("plan");
    let src = &plan["targets"]["x86_64-linux-cp312"]["packages"]["private"]["src"];
    assert_eq!(
        src["url"],
        format!("http://127.0.0.1:{}/repo.git", server.port),
        "{src}"
    );
    assert_eq!(src["credentials"], "127.0.0.1", "{src}");
    assert_eq!(src["rev"], commit.as_str());
    let target = out.path().join("python.nix");
    let nix = run(py2nix(
        &lock_args(
            project.path(),
            &[
                "-v",
                "--format",
                "nix",
                "-o",
                target.to_str().expect("utf-8"),
            ],
        ),
        cache.path(),
        &[],
        None,
    ));
    assert!(nix.status.success(), "{}", stderr(&nix));
    let text = std::fs::read_to_string(&target).expect("python.nix");
    // Package sets are JSON strings in python.nix.
    assert!(text.contains(r#"\"credentials\":\"127.0.0.1\""#), "{text}");
    for (what, bytes) in [
        ("the JSON plan", json.stdout.clone()),
        ("stderr with -v", json.stderr.clone()),
        ("stderr with -v (nix)", nix.stderr.clone()),
        ("python.nix", text.into_bytes()),
    ] {
        let shown = String::from_utf8_lossy(&bytes);
        assert!(
            !shown.contains(GIT_TOKEN),
            "{what} holds the token:\n{shown}"
        );
        assert!(
            !shown.contains("git:"),
            "{what} holds the user information:\n{shown}"
        );
    }
    for file in files_under(cache.path()) {
        let bytes = std::fs::read(cache.path().join(&file)).expect("read");
        assert!(
            !String::from_utf8_lossy(&bytes).contains(GIT_TOKEN),
            "{}",
            file.display()
        );
    }
}

// ---------------------------------------------------------------- 10: Cargo git sources

/// An sdist of a maturin project whose Cargo.lock names a git crate at `git_url`; its bytes.
fn rust_sdist(git_url: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("tempdir");
    let top = dir.path().join("rusty-1.0");
    std::fs::create_dir_all(&top).expect("mkdir");
    std::fs::write(
        top.join("pyproject.toml"),
        "[project]\nname = \"rusty\"\nversion = \"1.0\"\n\n[build-system]\nrequires = []\nbuild-backend = \"maturin\"\n",
    )
    .expect("write");
    std::fs::write(
        top.join("PKG-INFO"),
        "Metadata-Version: 2.1\nName: rusty\nVersion: 1.0\n",
    )
    .expect("write");
    std::fs::write(
        top.join("Cargo.lock"),
        format!(
            "version = 3\n\n[[package]]\nname = \"rusty\"\nversion = \"1.0.0\"\ndependencies = [\"sneaky\"]\n\n[[package]]\nname = \"sneaky\"\nversion = \"0.1.0\"\nsource = \"git+{git_url}?rev=main#0123456789abcdef0123456789abcdef01234567\"\n"
        ),
    )
    .expect("write");
    let archive = dir.path().join("rusty-1.0.tar.gz");
    let status = Command::new("tar")
        .args(["czf"])
        .arg(&archive)
        .args(["-C"])
        .arg(dir.path())
        .arg("rusty-1.0")
        .status()
        .expect("tar");
    assert!(status.success());
    std::fs::read(archive).expect("read sdist")
}

#[test]
fn cargo_git_sources_in_an_sdist_need_an_allowed_host_and_never_file() {
    let local = tempfile::tempdir().expect("tempdir");
    let file_url = format!("file://{}", local.path().display());
    for (git_url, allow, expected) in [
        (
            file_url.clone(),
            Some(local.path().display().to_string()),
            format!("rusty: git crate sneaky 0.1.0 of its Cargo.lock: it comes from `{file_url}`, which is not a network repository"),
        ),
        (
            "https://git.attacker.invalid/sneaky".to_string(),
            None,
            "rusty: git crate sneaky 0.1.0 of its Cargo.lock: it comes from the git repository https://git.attacker.invalid/sneaky, on `git.attacker.invalid`, a host you did not allow; pass --allow-cargo-git-host git.attacker.invalid".to_string(),
        ),
    ] {
        let sdist = rust_sdist(&git_url);
        let sha256 = hex(&Sha256::digest(&sdist));
        let served = sdist.clone();
        let page_sha = sha256.clone();
        let server = Hostile::start(move |port| {
            move |seen: &Seen| match seen.path.as_str() {
                "/simple/rusty/" => Answer::Bytes(
                    "text/html",
                    page("rusty-1.0.tar.gz", &format!("http://127.0.0.1:{port}/files/rusty-1.0.tar.gz"), &page_sha),
                ),
                "/files/rusty-1.0.tar.gz" => Answer::Bytes("application/octet-stream", served.clone()),
                _ => Answer::NotFound,
            }
        });
        let base = server.base();
        let project = uv_project(&[(
            "rusty",
            "1.0",
            format!(
                "source = {{ registry = \"{base}/simple\" }}\nsdist = {{ url = \"{base}/files/rusty-1.0.tar.gz\", hash = \"sha256:{sha256}\" }}\n"
            ),
        )]);
        let cache = tempfile::tempdir().expect("tempdir");
        let mut env = vec![("PY2NIX_INDEX_URL", format!("{base}/simple/"))];
        if let Some(host) = &allow {
            // Allowing a name does not make a local repository clonable.
            env.push(("PY2NIX_CARGO_GIT_HOSTS", host.clone()));
        }
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let output = run(py2nix(&lock_args(project.path(), &[]), cache.path(), &env, None));
        let message = failed(&output, 1);
        assert!(message.contains(&expected), "{message}");
        assert_eq!(server.count("/files/rusty-1.0.tar.gz"), 1, "the sdist was read");
    }
}

// ---------------------------------------------------------------- git at lock time, bounded

/// A uv project of `remote` 1.0 from the git repository `url` at `commit`.
fn git_project(url: &str, commit: &str) -> tempfile::TempDir {
    uv_project(&[(
        "remote",
        "1.0",
        format!("source = {{ git = \"{url}?rev={commit}#{commit}\" }}\n"),
    )])
}

/// Asserts that a run that cloned into `tmp` (its `TMPDIR`) left nothing there.
fn assert_empty(tmp: &Path) {
    let left: Vec<_> = std::fs::read_dir(tmp)
        .expect("read TMPDIR")
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// A git server that answers every request with a body that drips a byte every 200 ms, with
/// credentials in the lock's URL: the clone ends at `PY2NIX_GIT_DEADLINE`, git's processes are
/// killed and its directory removed, and the message names the package and the redacted URL.
#[test]
fn a_dripping_git_server_ends_at_the_git_deadline() {
    let server = Hostile::start(|_| |_: &Seen| Answer::Drip(Duration::from_millis(200)));
    let url = format!("http://git:{GIT_TOKEN}@127.0.0.1:{}/repo.git", server.port);
    let commit = "0123456789abcdef0123456789abcdef01234567";
    let project = git_project(&url, commit);
    let cache = tempfile::tempdir().expect("tempdir");
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tempfile::tempdir().expect("tempdir");
    let target = out.path().join("python.nix");
    let tmp_arg = tmp.path().to_str().expect("utf-8");
    let started = Instant::now();
    let output = run(py2nix(
        &lock_args(
            project.path(),
            &["--format", "nix", "-o", target.to_str().expect("utf-8")],
        ),
        cache.path(),
        &[("PY2NIX_GIT_DEADLINE", "2"), ("TMPDIR", tmp_arg)],
        None,
    ));
    let elapsed = started.elapsed();
    let message = failed(&output, 2);
    let shown = format!("http://127.0.0.1:{}/repo.git", server.port);
    assert!(
        message.contains(&format!(
            "`remote`: `git fetch` for `{shown}` was stopped: the git operation did not finish within 2 s (PY2NIX_GIT_DEADLINE)"
        )),
        "{message}"
    );
    assert!(!message.contains(GIT_TOKEN), "{message}");
    assert!(elapsed < Duration::from_secs(20), "{elapsed:?}");
    assert!(!target.exists(), "no output file");
    assert_empty(tmp.path());
    assert!(!server.log().is_empty(), "git asked the server");
}

/// The same server with a long deadline: git's own low-speed abort (below 1 KiB/s for
/// `PY2NIX_HTTP_TIMEOUT` seconds) ends the transfer well before it.
#[test]
fn a_dripping_git_server_is_abandoned_as_too_slow() {
    let server = Hostile::start(|_| |_: &Seen| Answer::Drip(Duration::from_millis(200)));
    let url = format!("http://127.0.0.1:{}/repo.git", server.port);
    let project = git_project(&url, "0123456789abcdef0123456789abcdef01234567");
    let cache = tempfile::tempdir().expect("tempdir");
    let tmp = tempfile::tempdir().expect("tempdir");
    let tmp_arg = tmp.path().to_str().expect("utf-8");
    let started = Instant::now();
    let output = run(py2nix(
        &lock_args(project.path(), &[]),
        cache.path(),
        &[
            ("PY2NIX_GIT_DEADLINE", "100"),
            ("PY2NIX_HTTP_TIMEOUT", "1"),
            ("TMPDIR", tmp_arg),
        ],
        None,
    ));
    let elapsed = started.elapsed();
    let message = failed(&output, 2);
    assert!(
        message.contains(&format!("`remote`: `git fetch` failed for `{url}`"))
            && message.contains("Operation too slow"),
        "{message}"
    );
    assert!(elapsed < Duration::from_secs(30), "{elapsed:?}");
    assert_empty(tmp.path());
}

/// A local repository whose clone is larger than `PY2NIX_GIT_MAX_SIZE`: git is stopped, the
/// clone removed, nothing written.
#[test]
fn a_git_clone_past_the_size_limit_is_stopped() {
    let root = tempfile::tempdir().expect("tempdir");
    let work = root.path().join("work");
    std::fs::create_dir_all(&work).expect("mkdir");
    // 1 MiB that does not compress: a sha256 chain.
    let mut bytes = Vec::with_capacity(1 << 20);
    let mut block = Sha256::digest(b"seed").to_vec();
    while bytes.len() < 1 << 20 {
        block = Sha256::digest(&block).to_vec();
        bytes.extend_from_slice(&block);
    }
    std::fs::write(work.join("blob.bin"), &bytes).expect("write");
    git(&work, &["init", "--quiet", "--initial-branch", "main"]);
    git(&work, &["add", "--all"]);
    git(&work, &["commit", "--quiet", "--message", "big"]);
    let commit = git(&work, &["rev-parse", "HEAD"]);
    let url = format!("file://{}", work.display());
    let project = git_project(&url, &commit);
    let cache = tempfile::tempdir().expect("tempdir");
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tempfile::tempdir().expect("tempdir");
    let target = out.path().join("python.json");
    let tmp_arg = tmp.path().to_str().expect("utf-8");
    let output = run(py2nix(
        &lock_args(project.path(), &["-o", target.to_str().expect("utf-8")]),
        cache.path(),
        &[("PY2NIX_GIT_MAX_SIZE", "256K"), ("TMPDIR", tmp_arg)],
        None,
    ));
    let message = failed(&output, 2);
    assert!(
        message.contains(&format!(
            "`remote`: `git fetch` for `{url}` was stopped: the checkout grew past 262144 bytes (PY2NIX_GIT_MAX_SIZE)"
        )),
        "{message}"
    );
    assert!(!target.exists(), "no output file");
    assert_empty(tmp.path());

    // Under a limit it fits in, the same clone succeeds.
    let output = run(py2nix(
        &lock_args(project.path(), &[]),
        cache.path(),
        &[("PY2NIX_GIT_MAX_SIZE", "8M"), ("TMPDIR", tmp_arg)],
        None,
    ));
    assert!(output.status.success(), "{}", stderr(&output));

    // A limit that is not a size is refused at start.
    let output = run(py2nix(
        &lock_args(project.path(), &[]),
        cache.path(),
        &[("PY2NIX_GIT_MAX_SIZE", "lots")],
        None,
    ));
    let message = failed(&output, 1);
    assert!(
        message.contains("PY2NIX_GIT_MAX_SIZE: `lots` is not a size"),
        "{message}"
    );
    let output = run(py2nix(
        &lock_args(project.path(), &[]),
        cache.path(),
        &[("PY2NIX_GIT_DEADLINE", "0")],
        None,
    ));
    let message = failed(&output, 1);
    assert!(
        message.contains("PY2NIX_GIT_DEADLINE must be a number of seconds above 0, not `0`"),
        "{message}"
    );
}

// ---------------------------------------------------------------- 9: page file names

/// alpha's page with hostile links before its real one, all with the real wheel's hash (so
/// a requirements file's hash would match them): a name with `/` and `..` (twice), one with
/// an escape character, `..` itself, and a legacy installer that is no wheel or sdist.
/// With `only_hostile`, the real link is left out.
fn hostile_alpha_page(only_hostile: bool) -> Vec<u8> {
    let sha256 = ALPHA.sha256();
    let wheel = ALPHA.wheel();
    let meta = hex(&Sha256::digest(ALPHA.metadata()));
    let link = |name: &str| {
        format!("<a href=\"/files/{wheel}#sha256={sha256}\" data-core-metadata=\"sha256={meta}\">{name}</a>\n")
    };
    let mut html = String::from("<!DOCTYPE html>\n<html><body>\n");
    for name in [
        format!("../../{wheel}"),
        format!("../../{wheel}"),
        "alpha-1.0-py3-none-\u{1b}[31many.whl".to_string(),
        "..".to_string(),
        "alpha-1.0.win32.exe".to_string(),
    ] {
        html.push_str(&link(&name));
    }
    if !only_hostile {
        html.push_str(&link(&wheel));
    }
    html.push_str("</body></html>\n");
    html.into_bytes()
}

/// A page's file names are checked when the page is read: links whose names are not one
/// safe file name are dropped with one warning naming the page (deduplicated, escaped), a
/// link that is no wheel or sdist of the project silently, and neither reaches the plan or
/// the cache. Without the real link the run fails, naming the package, with no output.
#[test]
fn unsafe_file_names_on_a_page_are_dropped_when_it_is_read() {
    for only_hostile in [false, true] {
        let server = Hostile::start(move |_| {
            move |seen: &Seen| {
                if seen.path == ALPHA.page_path() {
                    return Answer::Bytes("text/html", hostile_alpha_page(only_hostile));
                }
                if seen.path == BETA.page_path() {
                    return Answer::Bytes("text/html", BETA.html());
                }
                for package in [&ALPHA, &BETA] {
                    if seen.path == package.metadata_path() {
                        return Answer::Bytes("application/octet-stream", package.metadata());
                    }
                }
                Answer::NotFound
            }
        });
        let project = crate::network::requirements_project();
        let cache = tempfile::tempdir().expect("tempdir");
        let out = tempfile::tempdir().expect("tempdir");
        let target = out.path().join("plan.json");
        let index_url = format!("{}/simple/", server.base());
        let run_lock = || {
            run(py2nix(
                &lock_args(project.path(), &["-o", target.to_str().expect("utf-8")]),
                cache.path(),
                &[("PY2NIX_INDEX_URL", &index_url)],
                None,
            ))
        };
        let output = run_lock();
        let text = stderr(&output);
        let page = format!("{}/simple/alpha/", server.base());
        let warnings: Vec<&str> = text
            .lines()
            .filter(|line| line.contains("whose file name is not one safe file name"))
            .collect();
        assert_eq!(warnings.len(), 1, "{text}");
        let warning = warnings[0];
        for fragment in [
            format!("the index page {page} lists 3 links whose file name is not one safe file name, dropped:"),
            "\"../../alpha-1.0-py3-none-any.whl\" holds a `/`".to_string(),
            "\"..\" is a directory name".to_string(),
            "holds a control character".to_string(),
        ] {
            assert!(warning.contains(&fragment), "no `{fragment}` in {warning}");
        }
        assert!(!text.contains('\u{1b}'), "{text:?}");
        assert!(!text.contains("win32"), "{text}");
        if only_hostile {
            let message = failed(&output, 1);
            assert!(
                message.contains("`alpha` 1.0: no file of this version on"),
                "{message}"
            );
            assert!(!target.exists(), "no output file");
            continue;
        }
        assert!(output.status.success(), "{text}");
        let plan: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&target).expect("plan")).expect("json");
        let alpha = &plan["targets"]["x86_64-linux-cp312"]["packages"]["alpha"]["src"];
        assert_eq!(alpha["filename"], ALPHA.wheel(), "{alpha}");
        // The cache kept only the real link: a second run reads it and warns of nothing.
        std::fs::remove_file(&target).expect("remove");
        let asked = server.count(&ALPHA.page_path());
        let output = run_lock();
        assert!(output.status.success(), "{}", stderr(&output));
        assert_eq!(
            server.count(&ALPHA.page_path()),
            asked,
            "the cache answered"
        );
        assert!(
            !stderr(&output).contains("safe file name"),
            "{}",
            stderr(&output)
        );
        for file in files_under(cache.path()) {
            let bytes = std::fs::read(cache.path().join(&file)).expect("read");
            let cached = String::from_utf8_lossy(&bytes);
            assert!(!cached.contains("../"), "{}: {cached}", file.display());
            assert!(!cached.contains("win32"), "{}: {cached}", file.display());
        }
    }
}

/// git asks for no password and reads none of the user's git configuration: a server that
/// wants credentials gets none from an askpass program or a credential helper, and a
/// `url.<base>.insteadOf` in the user's configuration does not send the lock's URL to
/// another server.
#[test]
fn git_never_prompts_nor_reads_the_users_git_configuration() {
    let guarded = Hostile::start(|_| |_: &Seen| Answer::Unauthorized);
    let elsewhere = Hostile::start(|_| |_: &Seen| Answer::NotFound);
    let home = tempfile::tempdir().expect("tempdir");
    let marker = home.path().join("asked");
    let script = home.path().join("askpass.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$0 $*\" >> '{}'\necho password\n",
            marker.display()
        ),
    )
    .expect("write");
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let config = format!(
        "[url \"{}/\"]\n\tinsteadOf = {}/\n[credential]\n\thelper = \"!{}\"\n",
        elsewhere.base(),
        guarded.base(),
        script.display()
    );
    std::fs::write(home.path().join(".gitconfig"), &config).expect("write");
    std::fs::create_dir_all(home.path().join(".config/git")).expect("mkdir");
    std::fs::write(home.path().join(".config/git/config"), &config).expect("write");
    let url = format!("{}/repo.git", guarded.base());
    let project = git_project(&url, "0123456789abcdef0123456789abcdef01234567");
    let cache = tempfile::tempdir().expect("tempdir");
    let script_arg = script.to_str().expect("utf-8");
    let home_arg = home.path().to_str().expect("utf-8");
    let xdg = home.path().join(".config");
    let output = run(py2nix(
        &lock_args(project.path(), &[]),
        cache.path(),
        &[
            ("HOME", home_arg),
            ("XDG_CONFIG_HOME", xdg.to_str().expect("utf-8")),
            ("GIT_ASKPASS", script_arg),
            ("SSH_ASKPASS", script_arg),
            ("SSH_ASKPASS_REQUIRE", "force"),
            ("PY2NIX_GIT_DEADLINE", "60"),
        ],
        None,
    ));
    let message = failed(&output, 2);
    assert!(
        message.contains(&format!("`remote`: `git fetch` failed for `{url}`")),
        "{message}"
    );
    assert!(
        !marker.exists(),
        "git asked: {:?}",
        std::fs::read_to_string(&marker)
    );
    assert!(!guarded.log().is_empty(), "git asked the lock's server");
    assert!(
        elsewhere.log().is_empty(),
        "the user's insteadOf was followed: {:?}",
        elsewhere.log()
    );
    assert!(
        guarded
            .log()
            .iter()
            .all(|seen| seen.authorization.is_none()),
        "{:?}",
        guarded.log()
    );
}

// ---------------------------------------------------------------- 7: small wheel, huge output

/// Finding 7: a small wheel whose two shared objects each list thousands of needed libraries
/// (5,000 of 4 KiB names, as found, or 50,000 short ones) makes no huge python.nix, no flood
/// of warnings and no large memory: the list is refused by its bounds, with one warning.
#[test]
fn a_wheel_listing_thousands_of_libraries_makes_no_huge_output() {
    for (count, name_len, bound) in [
        (5_000, 4096, "longer than 255 bytes"),
        (50_000, 0, "more than 256 needed libraries"),
    ] {
        wheel_listing_libraries(count, name_len, bound);
    }
}

fn wheel_listing_libraries(count: usize, name_len: usize, bound: &str) {
    let needed: Vec<String> = (0..count)
        .map(|i| format!("lib{i}{}.so", "x".repeat(name_len)))
        .collect();
    let needed: Vec<&str> = needed.iter().map(String::as_str).collect();
    let object = shared_object(&needed, None);
    let wheel = linux_wheel(
        "evil",
        &[
            ("evil/_a.cpython-312-x86_64-linux-gnu.so", object.clone()),
            ("evil/_b.cpython-312-x86_64-linux-gnu.so", object),
        ],
    );
    assert!(
        wheel.len() < 4 << 20,
        "a small wheel: {} bytes",
        wheel.len()
    );
    let filename = "evil-1.0-cp312-cp312-manylinux_2_17_x86_64.whl";
    let sha256 = hex(&Sha256::digest(&wheel));
    let served = wheel.clone();
    let page_sha = sha256.clone();
    let server = Hostile::start(move |port| {
        move |seen: &Seen| match seen.path.as_str() {
            "/simple/evil/" => Answer::Bytes(
                "text/html",
                page(
                    filename,
                    &format!("http://127.0.0.1:{port}/files/{filename}"),
                    &page_sha,
                ),
            ),
            path if path == format!("/files/{filename}") => {
                Answer::Bytes("application/octet-stream", served.clone())
            }
            _ => Answer::NotFound,
        }
    });
    let base = server.base();
    let project = uv_project(&[(
        "evil",
        "1.0",
        format!(
            "source = {{ registry = \"{base}/simple\" }}\nwheels = [\n    {{ url = \"{base}/files/{filename}\", hash = \"sha256:{sha256}\", size = {} }},\n]\n",
            wheel.len()
        ),
    )]);
    let cache = tempfile::tempdir().expect("tempdir");
    let out = tempfile::tempdir().expect("tempdir");
    let target = out.path().join("python.nix");
    let target_arg = target.to_str().expect("utf-8");
    let index_url = format!("{base}/simple/");
    let output = run(py2nix(
        &lock_args(project.path(), &["--format", "nix", "-o", target_arg]),
        cache.path(),
        &[("PY2NIX_INDEX_URL", &index_url)],
        Some(ULIMIT_KIB),
    ));
    let message = stderr(&output);
    assert!(
        message.len() < 16 << 10,
        "{} bytes of messages",
        message.len()
    );
    assert!(!message.contains(&format!("lib{}", count - 1)), "{message}");
    assert!(!message.contains("memory allocation"), "{message}");
    assert!(message.contains(bound), "{message}");
    assert_eq!(message.matches("warning:").count(), 1, "{message}");
    match output.status.code() {
        Some(0) => {
            let written = std::fs::metadata(&target).expect("python.nix").len();
            assert!(written < 1 << 20, "{written} bytes of python.nix");
        }
        Some(1) => assert!(!target.exists(), "no output file"),
        other => panic!("exit {other:?}: {message}"),
    }
    assert_eq!(server.count(&format!("/files/{filename}")), 1);
}
