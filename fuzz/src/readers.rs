//! Fuzz checks for the readers of untrusted text: the lock readers, pyproject.toml, wheel and
//! sdist file names, and the Simple API pages.
//!
//! Besides "no panic", each check asserts what py2nix relies on:
//! - readers are deterministic: the same text read twice gives the same result or the same
//!   message (no hash-map order leaks into a lock), and a message is never empty;
//! - a wheel name that parses carries the version its parse says;
//! - a page's files have absolute URLs without fragment or credentials, lower-case hashes,
//!   and nothing from the page URL's `user:password@` reaches a file, a URL or a message.
//!
//! This file is shared: the fuzz crate compiles it as `py2nix_fuzz::readers`, and the main
//! test suite includes it by path (tests/it/hostile.rs) to replay the corpus.

/// Text from arbitrary bytes: the binary reads files as UTF-8 and refuses anything else
/// before a reader sees it, so invalid sequences become U+FFFD rather than being skipped.
fn text(data: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(data)
}

/// The result of a reader, as text that two runs can compare; errors must say something.
fn outcome<T: std::fmt::Debug, E: std::fmt::Display>(result: Result<T, E>) -> String {
    match result {
        Ok(value) => format!("ok: {value:?}"),
        Err(error) => {
            let message = error.to_string();
            assert!(!message.trim().is_empty(), "an error without a message");
            format!("error: {message}")
        }
    }
}

/// Runs `read` twice and checks both runs agree.
fn deterministic(read: impl Fn() -> String) {
    let first = read();
    let second = read();
    assert_eq!(
        first, second,
        "the same input read twice gave different results"
    );
}

pub fn poetry_lock(data: &[u8]) {
    let text = text(data);
    deterministic(|| outcome(py2nix_lock::parse_poetry_lock(&text)));
}

pub fn uv_lock(data: &[u8]) {
    let text = text(data);
    deterministic(|| outcome(py2nix_lock::parse_uv_lock(&text)));
}

pub fn pylock(data: &[u8]) {
    let text = text(data);
    deterministic(|| outcome(py2nix_lock::parse_pylock(&text)));
}

pub fn pdm_lock(data: &[u8]) {
    let text = text(data);
    deterministic(|| outcome(py2nix_lock::parse_pdm_lock(&text)));
}

pub fn pyproject(data: &[u8]) {
    let text = text(data);
    deterministic(|| outcome(py2nix_lock::parse_pyproject(&text)));
}

/// A requirements file whose every include (`-r`, `-c`) of a plain file name is the input
/// itself, labelled `./<name>` as the binary labels a file beside the including one: include
/// cycles (`-r a.txt` in `a.txt`, or `./a.txt`) must end in an error, never in unbounded
/// recursion. A name with a directory is missing, as on a file system without it (a path that
/// grows at each level is bounded by the reader's depth limit, tested in its unit tests).
pub fn requirements(data: &[u8]) {
    let text = text(data);
    let include = |name: &str, _from: &str| -> Result<(String, String), String> {
        let name = name.trim_start_matches("./");
        if name.contains(['/', '\\']) || name.contains("missing") {
            return Err(format!("failed to read `{name}`: no such file"));
        }
        Ok((text.to_string(), format!("./{name}")))
    };
    deterministic(|| {
        outcome(py2nix_lock::parse_requirements(
            &text,
            "requirements.txt",
            &include,
        ))
    });
}

/// Wheel and sdist file names: the parse of a wheel name and the version test agree.
pub fn filename(data: &[u8]) {
    let text = text(data);
    let name = text.as_ref();
    if let Some(wheel) = py2nix_plan::WheelFilename::parse(name) {
        assert!(name.ends_with(".whl"));
        assert!(
            py2nix_plan::file_is_version(name, &wheel.name, &wheel.version),
            "`{name}` parses as version {} but is not that version",
            wheel.version
        );
        for priorities in priorities() {
            let _ = priorities.rank(&wheel);
        }
    }
    // The sdist reading, against a version taken from the name's tail and a fixed one (parsed
    // through a wheel name: this file may use only crates both users have).
    for candidate in name.rsplit('-').take(2).chain(["1.0"]) {
        let candidate = candidate
            .trim_end_matches(".tar.gz")
            .trim_end_matches(".zip");
        if candidate.contains('-') {
            continue;
        }
        let probe = format!("x-{candidate}-py3-none-any.whl");
        if let Some(wheel) = py2nix_plan::WheelFilename::parse(&probe) {
            let _ = py2nix_plan::file_is_version(name, "x", &wheel.version);
        }
    }
}

/// The tag priorities of CPython 3.12 on every system, computed once.
fn priorities() -> &'static [py2nix_plan::TagPriorities] {
    use py2nix_plan::{NixSystem, PythonVersion, TagPriorities, Target};
    static PRIORITIES: std::sync::OnceLock<Vec<TagPriorities>> = std::sync::OnceLock::new();
    PRIORITIES.get_or_init(|| {
        NixSystem::ALL
            .iter()
            .map(|&system| TagPriorities::for_target(&Target::new(system, PythonVersion::new(12))))
            .collect()
    })
}

/// The page URL the page checks use, with and without credentials: what a page parses to
/// must not depend on them (so they can never come back out, in a file, a URL or a message).
const PAGE_URL_WITH_CREDENTIALS: &str = "https://fuzz-user:fuzz-secret@example.org/simple/x/";
const PAGE_URL: &str = "https://example.org/simple/x/";

pub fn simple_html(data: &[u8]) {
    let text = text(data);
    check_page(
        py2nix_index::parse_html(&text, PAGE_URL_WITH_CREDENTIALS),
        py2nix_index::parse_html(&text, PAGE_URL),
    );
}

pub fn simple_json(data: &[u8]) {
    let text = text(data);
    check_page(
        py2nix_index::parse_json(&text, PAGE_URL_WITH_CREDENTIALS),
        py2nix_index::parse_json(&text, PAGE_URL),
    );
}

fn check_page(
    with_credentials: Result<py2nix_index::Page, String>,
    plain: Result<py2nix_index::Page, String>,
) {
    assert_eq!(
        with_credentials, plain,
        "the page URL's credentials changed what the page parses to"
    );
    let page = match plain {
        Ok(page) => page,
        Err(message) => {
            assert!(!message.is_empty());
            return;
        }
    };
    for file in &page.files {
        let url = url::Url::parse(&file.url)
            .unwrap_or_else(|e| panic!("file URL `{}` is not absolute: {e}", file.url));
        assert!(
            url.fragment().is_none(),
            "a file URL keeps its fragment: {url}"
        );
        assert!(
            url.username().is_empty() && url.password().is_none(),
            "a file URL carries credentials: {url}"
        );
        if let Some(hash) = &file.sha256 {
            assert_eq!(hash, &hash.to_ascii_lowercase(), "a hash is not lower case");
        }
    }
}
