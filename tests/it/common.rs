//! Shared helpers: paths, a Simple API server on loopback, running py2nix, running Nix.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

pub fn fixture(name: &str) -> PathBuf {
    repo_root().join("fixtures/poetry").join(name)
}

/// Every Poetry fixture's directory name, sorted.
pub fn fixture_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(repo_root().join("fixtures/poetry"))
        .expect("fixtures/poetry")
        .flatten()
        .filter(|e| e.path().join("poetry.lock").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// How the test index answers.
#[derive(Clone)]
pub enum Mode {
    /// The recorded PEP 503 HTML pages.
    Html,
    /// The same pages as PEP 691 JSON, when the client asks for JSON.
    Json,
    /// HTML, but the sha256 of this file is replaced by a wrong one.
    WrongHash(String),
    /// HTML, with this file marked as yanked (PEP 592).
    Yanked(String),
    /// HTML, but only to requests with these Basic credentials; 401 to any other.
    BasicAuth { user: String, password: String },
}

/// A Simple API server on 127.0.0.1 serving `fixtures/index/simple/<name>/index.html`.
pub struct IndexServer {
    pub url: String,
    requests: Arc<AtomicUsize>,
}

impl IndexServer {
    pub fn start(mode: Mode) -> IndexServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let url = format!("http://{}/simple/", listener.local_addr().expect("address"));
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = requests.clone();
        let pages = repo_root().join("fixtures/index/simple");
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                counter.fetch_add(1, Ordering::SeqCst);
                let pages = pages.clone();
                let mode = mode.clone();
                std::thread::spawn(move || serve(stream, &pages, &mode));
            }
        });
        IndexServer { url, requests }
    }

    /// How many connections the server has answered.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

fn serve(mut stream: TcpStream, pages: &Path, mode: &Mode) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut accept = String::new();
    let mut authorization = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some(value) = line.to_ascii_lowercase().strip_prefix("accept:") {
            accept = value.trim().to_string();
        }
        if line.to_ascii_lowercase().starts_with("authorization:") {
            authorization = line["authorization:".len()..].trim().to_string();
        }
    }
    if let Mode::BasicAuth { user, password } = mode {
        let expected = format!("Basic {}", base64(format!("{user}:{password}").as_bytes()));
        if authorization != expected {
            let body = "credentials required";
            let _ = write!(
                stream,
                "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"test index\"\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            return;
        }
    }
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_string();
    let name = path.trim_start_matches("/simple/").trim_end_matches('/');
    // A whole page (`fixtures/index/full/`) when one is recorded: build requirements no lock
    // pins are chosen from every version the index has; else the page filtered to the locks.
    let whole = pages.join("../full").join(name).join("index.html");
    let file = if !name.contains("..") && !name.is_empty() && whole.exists() {
        whole
    } else {
        pages.join(name).join("index.html")
    };
    let (status, content_type, body) = match std::fs::read_to_string(&file) {
        Ok(html) if !name.contains("..") && !name.is_empty() => {
            let page_url = format!("http://127.0.0.1{path}");
            match mode {
                Mode::Json if accept.contains("application/vnd.pypi.simple.v1+json") => (
                    "200 OK",
                    "application/vnd.pypi.simple.v1+json",
                    to_json(&html, &page_url),
                ),
                Mode::WrongHash(filename) => ("200 OK", "text/html", wrong_hash(&html, filename)),
                Mode::Yanked(filename) => {
                    let anchor = format!("data-yanked=\"broken\">{filename}<");
                    (
                        "200 OK",
                        "text/html",
                        html.replace(&format!(">{filename}<"), &anchor),
                    )
                }
                _ => ("200 OK", "text/html", html),
            }
        }
        _ => ("404 Not Found", "text/plain", "not found".to_string()),
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = reader.read(&mut [0; 0]);
}

/// Standard base64 with padding (RFC 4648), for `Authorization: Basic`.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | (u32::from(b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn to_json(html: &str, page_url: &str) -> String {
    let page = py2nix_index::parse_html(html, page_url).expect("recorded page parses");
    let files: Vec<serde_json::Value> = page
        .files
        .iter()
        .map(|f| {
            serde_json::json!({
                "filename": f.filename,
                "url": f.url,
                "hashes": f.sha256.as_ref().map(|h| serde_json::json!({"sha256": h})).unwrap_or(serde_json::json!({})),
                "requires-python": f.requires_python,
                "yanked": f.yanked,
            })
        })
        .collect();
    serde_json::json!({"meta": {"api-version": "1.1"}, "name": "x", "files": files}).to_string()
}

fn wrong_hash(html: &str, filename: &str) -> String {
    html.lines()
        .map(|line| {
            if line.contains(&format!(">{filename}<")) {
                let at = line.find("#sha256=").expect("anchor has a hash") + "#sha256=".len();
                format!("{}{}{}", &line[..at], "0".repeat(64), &line[at + 64..])
            } else {
                line.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs py2nix with the index pointed at `server` and a cache in `cache`.
pub fn py2nix(args: &[&str], server: &IndexServer, cache: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_py2nix"))
        .args(args)
        .env("PY2NIX_INDEX_URL", &server.url)
        .env("PY2NIX_CACHE_DIR", cache)
        .env_remove("XDG_CACHE_HOME")
        .output()
        .expect("run py2nix")
}

/// Runs py2nix with an environment the test controls: the cache in `cache`; no index URL,
/// netrc, index credentials or XDG cache from the caller's environment (`NETRC` points at a
/// file that does not exist, so `~/.netrc` is not read); then `env`; in `cwd` when given.
pub fn py2nix_with_env(
    args: &[&str],
    cache: &Path,
    env: &[(&str, &str)],
    cwd: Option<&Path>,
) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_py2nix"));
    command
        .args(args)
        .env("PY2NIX_CACHE_DIR", cache)
        .env("NETRC", cache.join("no-such-netrc"))
        .env_remove("XDG_CACHE_HOME")
        .env_remove("PY2NIX_INDEX_URL");
    for (key, _) in std::env::vars() {
        if key.starts_with("PY2NIX_INDEX_")
            || key.starts_with("UV_INDEX_")
            || key.starts_with("POETRY_HTTP_BASIC_")
        {
            command.env_remove(key);
        }
    }
    command.envs(env.iter().copied());
    if let Some(cwd) = cwd {
        command.current_dir(cwd);
    }
    command.output().expect("run py2nix")
}

/// A fixture directory by its path under `fixtures/`, e.g. `uv/workspace`.
pub fn fixture_dir(path: &str) -> PathBuf {
    repo_root().join("fixtures").join(path)
}

/// Copies a tree, leaving out `.git` (as Nix's copy of a source tree does).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir").flatten() {
        let name = entry.file_name();
        if name == ".git" {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type().expect("type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// A copy of `fixtures/<path>` (with its subdirectories) in a temporary directory.
pub fn fixture_copy(path: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_tree(&fixture_dir(path), dir.path());
    dir
}

/// The JSON plan py2nix prints for `lock <dir> --format json <extra>`, against `server`.
pub fn json_plan(
    dir: &Path,
    extra: &[&str],
    server: &IndexServer,
    cache: &Path,
) -> serde_json::Value {
    let mut args = vec!["lock", dir.to_str().expect("utf-8"), "--format", "json"];
    args.extend(extra);
    serde_json::from_str(&ok(&py2nix(&args, server, cache))).expect("a JSON plan")
}

/// The packages of one target of a plan.
pub fn packages<'a>(
    plan: &'a serde_json::Value,
    target: &str,
) -> &'a serde_json::Map<String, serde_json::Value> {
    plan["targets"][target]["packages"]
        .as_object()
        .unwrap_or_else(|| panic!("the plan has no target {target}: {plan}"))
}

/// A list of strings in a plan as a sorted `Vec`.
pub fn strings(value: &serde_json::Value) -> Vec<String> {
    let mut out: Vec<String> = value
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|v| v.as_str().expect("a string").to_string())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// The schema's invariants for every target of a plan: roots and dependencies are packages,
/// every package is reachable without the cycle breaks from the roots, the selections (what
/// each group and extra adds) and the project's package, each selection is closed under
/// dependencies, hashes are SRI.
pub fn check_invariants(plan: &serde_json::Value) {
    let project_package = plan["project"]["package"].as_str().map(str::to_string);
    for (id, target) in plan["targets"].as_object().expect("targets") {
        let packages = target["packages"].as_object().expect("packages");
        for root in strings(&target["roots"]) {
            assert!(
                packages.contains_key(&root),
                "{id}: root {root} is not a package"
            );
        }
        let selections = &target["selections"];
        let mut units: Vec<Vec<String>> = vec![strings(&selections["main"])];
        for key in ["groups", "extras"] {
            for (_, names) in selections[key].as_object().into_iter().flatten() {
                units.push(strings(names));
            }
        }
        let main = units[0].clone();
        for unit in &units {
            // main and what a unit adds hold the whole closure of the unit's packages.
            let holds: std::collections::BTreeSet<&String> = main.iter().chain(unit).collect();
            for name in unit {
                let package = packages
                    .get(name)
                    .unwrap_or_else(|| panic!("{id}: selection names {name}, not a package"));
                for dep in strings(&package["dependencies"]) {
                    assert!(
                        holds.contains(&dep),
                        "{id}: {name} depends on {dep}, which its selection lacks"
                    );
                }
            }
        }
        let mut reached = std::collections::BTreeSet::new();
        let mut stack = strings(&target["roots"]);
        stack.extend(units.into_iter().flatten());
        stack.extend(
            project_package
                .iter()
                .filter(|p| packages.contains_key(*p))
                .cloned(),
        );
        while let Some(name) = stack.pop() {
            if reached.insert(name.clone()) {
                let package = &packages[&name];
                let breaks = strings(&package["cycle-breaks"]);
                stack.extend(
                    strings(&package["dependencies"])
                        .into_iter()
                        .filter(|d| !breaks.contains(d)),
                );
            }
        }
        for (name, package) in packages {
            assert!(
                reached.contains(name),
                "{id}: {name} is not reachable from the roots"
            );
            for dep in strings(&package["dependencies"]) {
                assert!(
                    packages.contains_key(&dep),
                    "{id}: {name} depends on {dep}, not planned"
                );
                assert_ne!(&dep, name, "{id}: {name} depends on itself");
            }
            let src = &package["src"];
            let kind = src["kind"].as_str().expect("kind");
            if kind != "path" {
                let hash = src["hash"].as_str().expect("hash");
                assert!(
                    hash.starts_with("sha256-") || hash.starts_with("sha512-"),
                    "{id}: {name}: {hash}"
                );
            }
            let built =
                matches!(kind, "sdist" | "git") || (kind == "path" && src["format"] != "wheel");
            assert_eq!(
                package.get("build-system").is_some(),
                built,
                "{id}: {name}: build-system exactly for packages built from source"
            );
            // What the source states it needs to build, planned on the same target.
            assert_eq!(
                package.get("build-requires").is_some(),
                built,
                "{id}: {name}: build-requires exactly for packages built from source"
            );
            check_build_closure_of(id, name, package, target);
        }
        for (key, package) in target["build-packages"].as_object().into_iter().flatten() {
            check_build_closure_of(id, key, package, target);
        }
    }
}

/// A package's `build-closure`: every key is planned (a build package, else a package), the
/// closure holds every build requirement by name, once per name, and every dependency of its
/// build packages.
fn check_build_closure_of(
    id: &str,
    name: &str,
    package: &serde_json::Value,
    target: &serde_json::Value,
) {
    let closure = strings(&package["build-closure"]);
    let requires = strings(&package["build-requires"]);
    assert_eq!(
        closure.is_empty(),
        requires.is_empty(),
        "{id}: {name}: build-closure exactly when build-requires"
    );
    let key_name = |key: &str| key.split('@').next().unwrap_or_default().to_string();
    let names: Vec<String> = closure.iter().map(|k| key_name(k)).collect();
    let unique: std::collections::BTreeSet<&String> = names.iter().collect();
    assert_eq!(
        unique.len(),
        names.len(),
        "{id}: {name}: one version per name: {closure:?}"
    );
    for requirement in &requires {
        assert!(
            names.contains(requirement),
            "{id}: {name} needs {requirement} to build, not in its closure {closure:?}"
        );
    }
    for key in &closure {
        let planned = target["build-packages"]
            .get(key)
            .or_else(|| target["packages"].get(key))
            .unwrap_or_else(|| panic!("{id}: {name}: {key} of its build closure is not planned"));
        if target["build-packages"].get(key).is_some() {
            for dependency in strings(&planned["dependencies"]) {
                assert!(
                    closure.contains(&dependency),
                    "{id}: {name}: {key} depends on {dependency}, not in the closure {closure:?}"
                );
            }
        }
    }
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("utf-8 stdout")
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("utf-8 stderr")
}

/// Asserts success and returns stdout.
pub fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "py2nix failed ({:?}):\n{}",
        output.status,
        stderr(output)
    );
    stdout(output)
}

/// The standard test targets of the fixtures.
pub const TWO_TARGETS: [&str; 8] = [
    "--system",
    "x86_64-linux",
    "--system",
    "aarch64-darwin",
    "--python",
    "3.11",
    "--python",
    "3.13",
];

/// Extra selection flags a fixture is planned with, so each exercises what it was made for.
pub fn selection_args(name: &str) -> Vec<&'static str> {
    match name {
        "groups" => vec!["--group", "dev", "--group", "docs", "--extra", "pretty"],
        "pep735-groups" => vec!["--group", "dev"],
        "markers-extras" => vec!["--all-extras"],
        _ => vec![],
    }
}

/// Runs a Nix command; panics with a hint when Nix is missing.
pub fn nix(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .env(
            "NIX_CONFIG",
            "build-users-group =\nsandbox = false\nexperimental-features = nix-command flakes",
        )
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run `{program}` ({e}); install Debian's nix-bin (see .ci/run)")
        })
}

/// The JSON plan of a fixture for x86_64-linux / CPython 3.11 from a fresh index and cache,
/// with `extra` flags; panics (with py2nix's stderr) when py2nix fails.
pub fn linux_311_plan(fixture_name: &str, extra: &[&str]) -> serde_json::Value {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let dir = fixture(fixture_name);
    let mut args = vec![
        "lock",
        dir.to_str().expect("utf-8"),
        "--format",
        "json",
        "--system",
        "x86_64-linux",
        "--python",
        "3.11",
    ];
    args.extend(extra);
    serde_json::from_str(&ok(&py2nix(&args, &server, cache.path()))).expect("a JSON plan")
}

/// The text with the override database's hash (in a plan's `inputs`, JSON or Nix) replaced by
/// a placeholder, so that snapshots do not change with every edit to `overrides/`. The hash
/// itself is tested by the drift-check tests.
pub fn mask_overrides_hash(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let is_hash_line = trimmed.starts_with("\"overrides\": \"sha256-")
            || trimmed.starts_with("overrides = \"sha256-");
        match (is_hash_line, line.find("sha256-")) {
            (true, Some(start)) => {
                let end = line[start..].find('"').map_or(line.len(), |e| start + e);
                out.push_str(&line[..start]);
                out.push_str("[overrides hash]");
                out.push_str(&line[end..]);
            }
            _ => out.push_str(line),
        }
    }
    out
}

/// Panics unless the JSON plan `text` fits the published JSON Schema of the plan
/// (`docs/plan.schema.json`), naming every place that does not.
pub fn assert_fits_the_plan_schema(label: &str, text: &str) {
    static VALIDATOR: std::sync::OnceLock<jsonschema::Validator> = std::sync::OnceLock::new();
    let validator = VALIDATOR.get_or_init(|| {
        let path = repo_root().join("docs/plan.schema.json");
        let schema: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("docs/plan.schema.json"))
                .expect("the plan schema is JSON");
        jsonschema::validator_for(&schema).expect("a valid JSON Schema")
    });
    let plan: serde_json::Value = serde_json::from_str(text).expect("a JSON plan");
    let problems: Vec<String> = validator
        .iter_errors(&plan)
        .map(|error| format!("{error} at {}", error.instance_path()))
        .collect();
    assert!(
        problems.is_empty(),
        "{label}: the plan does not fit docs/plan.schema.json:\n{}",
        problems.join("\n")
    );
}

/// Runs a command that must succeed; panics with its output otherwise.
pub fn run_ok(command: &mut std::process::Command) {
    let output = command.output().expect("start command");
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The sources of a package's planned build environment: its `build-closure` and the
/// dependencies of the target's packages in it, each from the target's `build-packages`,
/// else its `packages`.
pub fn build_closure_sources(
    target: &serde_json::Value,
    package: &serde_json::Value,
) -> Vec<serde_json::Value> {
    let mut wanted = strings(&package["build-closure"]);
    assert!(
        !wanted.is_empty(),
        "no build requirements planned: {package}"
    );
    let mut seen = std::collections::BTreeSet::new();
    let mut sources = Vec::new();
    while let Some(name) = wanted.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        let planned = target["build-packages"]
            .get(&name)
            .or_else(|| target["packages"].get(&name))
            .unwrap_or_else(|| panic!("{name} is not planned"));
        sources.push(planned["src"].clone());
        wanted.extend(strings(&planned["dependencies"]));
    }
    sources
}

/// Downloads a planned file into `dir` from its URL (once), checked against its planned
/// hash; returns its path.
pub fn download_checked(src: &serde_json::Value, dir: &Path) -> PathBuf {
    let filename = src["filename"].as_str().expect("filename");
    let path = dir.join(filename);
    if !path.exists() {
        run_ok(
            std::process::Command::new("curl")
                .args(["-fsSL", "--retry", "3", "-o"])
                .arg(&path)
                .arg(src["url"].as_str().expect("url")),
        );
    }
    let bytes = std::fs::read(&path).expect("read");
    let digest = sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix(&bytes));
    let sri = format!("sha256-{}", base64(&digest));
    assert_eq!(sri, src["hash"].as_str().expect("hash"), "{filename}");
    path
}

/// `sha256-<base64>` as lower-case hex; written here independently of py2nix's own code.
pub fn sri_to_hex(sri: &str) -> String {
    let b64 = sri.strip_prefix("sha256-").expect("a sha256 SRI hash");
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits: u32 = 0;
    let mut count = 0;
    let mut bytes = Vec::new();
    for c in b64.bytes().filter(|&c| c != b'=') {
        let value = ALPHABET.iter().position(|&a| a == c).expect("base64 digit") as u32;
        bits = (bits << 6) | value;
        count += 6;
        if count >= 8 {
            count -= 8;
            bytes.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A minimal little-endian ELF64 shared object needing `needed` (and named `soname`): one
/// `PT_LOAD` for the whole file, a `PT_DYNAMIC`, the dynamic entries and the string table.
pub fn shared_object(needed: &[&str], soname: Option<&str>) -> Vec<u8> {
    let mut strtab = vec![0u8];
    let mut name = |text: &str| {
        let at = strtab.len() as u64;
        strtab.extend_from_slice(text.as_bytes());
        strtab.push(0);
        at
    };
    let mut entries: Vec<(u64, u64)> = needed.iter().map(|n| (1, name(n))).collect();
    if let Some(soname) = soname {
        entries.push((14, name(soname)));
    }
    let dynamic_at: u64 = 64 + 2 * 56;
    let strtab_at = dynamic_at + (entries.len() as u64 + 3) * 16;
    entries.push((5, strtab_at));
    entries.push((10, strtab.len() as u64));
    entries.push((0, 0));
    let total = strtab_at + strtab.len() as u64;
    let mut out = Vec::new();
    out.extend_from_slice(b"\x7fELF\x02\x01\x01");
    out.resize(16, 0);
    out.extend_from_slice(&3u16.to_le_bytes()); // ET_DYN
    out.extend_from_slice(&62u16.to_le_bytes()); // x86-64
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(&0u64.to_le_bytes()); // entry
    out.extend_from_slice(&64u64.to_le_bytes()); // phoff
    out.extend_from_slice(&0u64.to_le_bytes()); // shoff
    out.extend_from_slice(&0u32.to_le_bytes());
    for half in [64u16, 56, 2, 64, 0, 0] {
        out.extend_from_slice(&half.to_le_bytes());
    }
    let dynamic_size = (entries.len() as u64) * 16;
    for (kind, offset, size) in [(1u32, 0, total), (2, dynamic_at, dynamic_size)] {
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&6u32.to_le_bytes());
        for word in [offset, offset, offset, size, size, 8] {
            out.extend_from_slice(&word.to_le_bytes());
        }
    }
    for (tag, value) in entries {
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&value.to_le_bytes());
    }
    out.extend_from_slice(&strtab);
    out
}

/// A cp312 manylinux x86_64 wheel of `name` 1.0: `members` (deflated, in order), then its
/// dist-info (`METADATA`, `WHEEL`, an empty `RECORD`).
pub fn linux_wheel(name: &str, members: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let dist_info = [
        (
            "METADATA",
            format!("Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n"),
        ),
        (
            "WHEEL",
            "Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: cp312-cp312-manylinux_2_17_x86_64\n"
                .to_string(),
        ),
        ("RECORD", String::new()),
    ];
    for (member, data) in members {
        zip.start_file(*member, deflated).expect("zip");
        zip.write_all(data).expect("zip");
    }
    for (file, text) in dist_info {
        zip.start_file(format!("{name}-1.0.dist-info/{file}"), deflated)
            .expect("zip");
        zip.write_all(text.as_bytes()).expect("zip");
    }
    zip.finish().expect("zip").into_inner()
}
