//! Bad input: each gets a clear message naming the file and place or the package, exit code
//! 1, and no output.

use std::path::Path;

use crate::common::{fixture, py2nix, stderr, IndexServer, Mode};

const LINUX_311: [&str; 4] = ["--system", "x86_64-linux", "--python", "3.11"];

/// A copy of a fixture in a temporary directory, with `edit` applied to its poetry.lock.
fn edited_fixture(name: &str, edit: impl Fn(String) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for file in ["pyproject.toml", "poetry.lock"] {
        let text = std::fs::read_to_string(fixture(name).join(file)).expect("read fixture");
        let text = if file == "poetry.lock" {
            edit(text)
        } else {
            text
        };
        std::fs::write(dir.path().join(file), text).expect("write fixture copy");
    }
    dir
}

fn fails(dir: &Path, extra: &[&str], mode: Mode) -> String {
    let server = IndexServer::start(mode);
    let cache = tempfile::tempdir().expect("tempdir");
    let mut args = vec!["lock", dir.to_str().expect("utf-8")];
    args.extend(LINUX_311);
    args.extend(extra);
    let output = py2nix(&args, &server, cache.path());
    assert_eq!(
        output.status.code(),
        Some(1),
        "expected exit 1; stderr:\n{}",
        stderr(&output)
    );
    assert!(output.stdout.is_empty(), "no partial output on stdout");
    stderr(&output)
}

/// The `[[package]]` block of `name` removed.
fn without_package(lock: String, name: &str) -> String {
    let blocks: Vec<&str> = lock.split("\n[[package]]\n").collect();
    let kept: Vec<&str> = blocks
        .into_iter()
        .filter(|b| !b.starts_with(&format!("name = \"{name}\"\n")))
        .collect();
    kept.join("\n[[package]]\n")
}

#[test]
fn truncated_toml_names_file_line_and_column() {
    let dir = edited_fixture("flask-pillow", |lock| {
        lock[..lock.find("[package.extras]").expect("extras") + 9].to_string()
    });
    let message = fails(dir.path(), &[], Mode::Html);
    assert!(message.starts_with("error: failed to parse `"), "{message}");
    assert!(message.contains("poetry.lock`"), "{message}");
    assert!(message.contains("TOML parse error at line"), "{message}");
    assert!(message.contains("column"), "{message}");
    assert!(
        message.contains('^'),
        "the offending line is shown with a caret: {message}"
    );
}

#[test]
fn a_package_missing_from_the_lock_is_named() {
    let dir = edited_fixture("flask-pillow", |lock| without_package(lock, "blinker"));
    let message = fails(dir.path(), &[], Mode::Html);
    assert!(
        message.contains("flask 3.1.3 depends on `blinker`, which the lock does not contain"),
        "{message}"
    );
}

#[test]
fn a_hash_mismatch_with_the_index_is_an_error() {
    let dir = fixture("flask-pillow");
    let message = fails(
        &dir,
        &[],
        Mode::WrongHash("flask-3.1.3-py3-none-any.whl".into()),
    );
    assert!(
        message.contains("hash mismatch for `flask-3.1.3-py3-none-any.whl` of `flask`"),
        "{message}"
    );
    let lock_hash = std::fs::read_to_string(dir.join("poetry.lock"))
        .expect("lock")
        .lines()
        .find(|line| line.contains("\"flask-3.1.3-py3-none-any.whl\""))
        .and_then(|line| line.split("sha256:").nth(1))
        .map(|rest| rest[..64].to_string())
        .expect("the lock's hash of the flask wheel");
    assert!(
        message.contains(&format!("the lock says sha256:{lock_hash}")),
        "{message}"
    );
    assert!(
        message.contains(&format!("says sha256:{}", "0".repeat(64))),
        "{message}"
    );
}

#[test]
fn no_usable_file_names_package_target_and_files() {
    // click without its sdist, and wheels forbidden for it.
    let dir = edited_fixture("flask-pillow", |lock| {
        lock.lines()
            .filter(|line| !line.contains("\"click-8.1.8.tar.gz\""))
            .collect::<Vec<_>>()
            .join("\n")
    });
    let message = fails(dir.path(), &["--no-binary", "click"], Mode::Html);
    assert!(
        message.contains(
            "no usable file for `click` 8.1.8 on x86_64-linux/3.11: --no-binary forbids wheels and there is no sdist; the lock lists: click-8.1.8-py3-none-any.whl"
        ),
        "{message}"
    );
}

#[test]
fn an_unknown_lock_major_version_is_refused() {
    let dir = edited_fixture("flask-pillow", |lock| {
        lock.replace("lock-version = \"2.0\"", "lock-version = \"3.0\"")
    });
    let message = fails(dir.path(), &[], Mode::Html);
    assert!(
        message.contains("unsupported `poetry.lock` lock-version `3.0`"),
        "{message}"
    );
}

#[test]
fn requests_that_do_not_fit_the_project_are_refused() {
    let dir = fixture("groups");
    let message = fails(&dir, &["--group", "nope"], Mode::Html);
    assert!(
        message.contains("the project has no group `nope` (it has: dev, docs)"),
        "{message}"
    );
    let message = fails(&dir, &["--extra", "nope"], Mode::Html);
    assert!(
        message.contains("the project has no extra `nope` (it has: pretty)"),
        "{message}"
    );
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let output = py2nix(
        &["lock", dir.to_str().expect("utf-8"), "--python", "3.8"],
        &server,
        cache.path(),
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("requires-python `>=3.9,<3.14` excludes Python 3.8"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_missing_project_directory_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let message = fails(&dir.path().join("nowhere"), &[], Mode::Html);
    assert!(
        message.contains("failed to read the project directory `")
            && message.contains("nowhere`: it does not exist"),
        "{message}"
    );
}

#[test]
fn two_patch_levels_of_one_minor_are_refused() {
    let message = fails(
        &fixture("flask-pillow"),
        &["--python", "3.11.2"],
        Mode::Html,
    );
    assert!(
        message.contains(
            "--python 3.11.14 and --python 3.11.2 name the same target `x86_64-linux-cp311`"
        ),
        "{message}"
    );
}

#[test]
fn yanked_files_are_planned_with_a_warning() {
    let server = IndexServer::start(Mode::Yanked("click-8.1.8-py3-none-any.whl".into()));
    let cache = tempfile::tempdir().expect("tempdir");
    let dir = fixture("flask-pillow");
    let mut args = vec!["lock", dir.to_str().expect("utf-8"), "--format", "json"];
    args.extend(LINUX_311);
    let output = py2nix(&args, &server, cache.path());
    assert!(output.status.success(), "{}", stderr(&output));
    let plan: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(
        plan["targets"]["x86_64-linux-cp311"]["packages"]["click"]["warnings"],
        serde_json::json!(["the index marks `click-8.1.8-py3-none-any.whl` as yanked"])
    );
    assert!(
        stderr(&output).contains("warning: x86_64-linux-cp311: click: the index marks"),
        "{}",
        stderr(&output)
    );
}
