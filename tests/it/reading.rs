//! Reading locks: formats told by content when the name does not say (renamed locks, `/dev/fd`
//! paths), `uv export`'s `-e .` and `-e ./member`, PDM's `${PROJECT_ROOT}` editables, the lock
//! found upward from a workspace member's directory, and the lock a python.nix records used
//! again by `lock` and `check` when another appears beside it.

use std::path::Path;
use std::process::Command;

use crate::common::{fixture_dir, ok, packages, py2nix, stderr, stdout, IndexServer, Mode};

const LINUX_311: [&str; 4] = ["--system", "x86_64-linux", "--python", "3.11"];

fn path_str(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// A copy of `fixtures/<path>` (with its subdirectories) in a temporary directory.
fn fixture_copy(path: &str) -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).expect("mkdir");
        for entry in std::fs::read_dir(from).expect("read fixture") {
            let entry = entry.expect("entry");
            let target = to.join(entry.file_name());
            if entry.path().is_dir() {
                copy(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), target).expect("copy fixture file");
            }
        }
    }
    let dir = tempfile::tempdir().expect("tempdir");
    copy(&fixture_dir(path), dir.path());
    dir
}

#[test]
fn diff_tells_renamed_locks_by_content() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let work = tempfile::tempdir().expect("tempdir");
    // Two different formats under names that say nothing.
    let old = work.path().join("old.lock");
    let new = work.path().join("new.lock");
    std::fs::copy(fixture_dir("poetry/flask-pillow/poetry.lock"), &old).expect("copy");
    std::fs::copy(fixture_dir("uv/flask-pillow/uv.lock"), &new).expect("copy");
    let output = py2nix(
        &["diff", path_str(&old), path_str(&new), "--format", "json"],
        &server,
        cache.path(),
    );
    let json: serde_json::Value = serde_json::from_str(&ok(&output)).expect("JSON");
    assert_eq!(json["old"]["kind"], "poetry.lock", "{json}");
    assert_eq!(json["new"]["kind"], "uv.lock", "{json}");
    // The same lock under another name: nothing differs.
    let same = work.path().join("poetry.lock.orig");
    std::fs::copy(fixture_dir("poetry/flask-pillow/poetry.lock"), &same).expect("copy");
    let text = ok(&py2nix(
        &[
            "diff",
            path_str(&same),
            path_str(&fixture_dir("poetry/flask-pillow/poetry.lock")),
        ],
        &server,
        cache.path(),
    ));
    assert!(text.ends_with("no differences\n"), "{text}");
    assert_eq!(server.requests(), 0);
}

#[test]
fn diff_reads_a_lock_from_a_dev_fd_path() {
    let lock = fixture_dir("pdm/flask/pdm.lock");
    let output = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "\"$0\" diff <(cat '{0}') '{0}' --format json",
            lock.display()
        ))
        .arg(env!("CARGO_BIN_EXE_py2nix"))
        .env("PY2NIX_INDEX_URL", "http://127.0.0.1:9/simple/")
        .output()
        .expect("bash");
    let json: serde_json::Value = serde_json::from_str(&ok(&output)).expect("JSON");
    assert!(
        json["old"]["path"]
            .as_str()
            .unwrap_or("")
            .starts_with("/dev/fd/"),
        "{json}"
    );
    assert_eq!(json["old"]["kind"], "pdm.lock", "{json}");
    assert_eq!(json["summary"], "no differences", "{json}");
}

#[test]
fn a_renamed_lock_named_with_lock_is_planned_as_its_format() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let project = fixture_copy("uv/flask-pillow");
    let renamed = project.path().join("locked.toml");
    std::fs::rename(project.path().join("uv.lock"), &renamed).expect("rename");
    let mut args = vec![
        "lock",
        "--lock",
        path_str(&renamed),
        "--format",
        "json",
        "-v",
    ];
    args.extend(LINUX_311);
    let output = py2nix(&args, &server, cache.path());
    let plan: serde_json::Value = serde_json::from_str(&ok(&output)).expect("JSON plan");
    assert!(
        stderr(&output).contains("locked.toml as uv.lock"),
        "{}",
        stderr(&output)
    );
    assert!(packages(&plan, "x86_64-linux-cp311").contains_key("flask"));
}

#[test]
fn uv_export_editables_are_the_project_and_its_members() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let dir = fixture_dir("requirements/uv-export-workspace");
    let mut args = vec!["lock", path_str(&dir), "--format", "json"];
    args.extend(LINUX_311);
    let plan: serde_json::Value =
        serde_json::from_str(&ok(&py2nix(&args, &server, cache.path()))).expect("JSON plan");
    assert_eq!(plan["project"]["package"], "ws-root", "{}", plan["project"]);
    let packages = packages(&plan, "x86_64-linux-cp311");
    for (name, path) in [
        ("ws-root", "."),
        ("ws-app", "packages/app"),
        ("ws-lib", "packages/lib"),
    ] {
        let package = &packages[name];
        assert_eq!(package["src"]["kind"], "path", "{name}: {package}");
        let planned = package["src"]["path"].as_str().unwrap_or_default();
        assert!(
            Path::new(planned).ends_with(path) || (path == "." && !planned.contains("packages")),
            "{name}: {package}"
        );
        assert_eq!(package["src"]["editable"], true, "{name}: {package}");
    }
    // The members' static versions come from their pyproject.toml files.
    assert_eq!(packages["ws-app"]["version"], "0.2.0");
    for name in ["attrs", "idna", "six"] {
        assert_eq!(packages[name]["src"]["kind"], "wheel", "{name}");
    }
}

#[test]
fn pdm_project_root_editables_are_planned() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let dir = fixture_dir("pdm/local-path");
    let mut args = vec!["lock", path_str(&dir), "--format", "json", "--all-groups"];
    args.extend(LINUX_311);
    let plan: serde_json::Value =
        serde_json::from_str(&ok(&py2nix(&args, &server, cache.path()))).expect("JSON plan");
    let packages = packages(&plan, "x86_64-linux-cp311");
    assert_eq!(packages["devtool"]["src"]["kind"], "path");
    assert_eq!(packages["devtool"]["src"]["editable"], true);
    assert_eq!(packages["helper"]["src"]["kind"], "path");
    assert_eq!(packages["six"]["version"], "1.17.0");
    let dev = &plan["targets"]["x86_64-linux-cp311"]["selections"]["groups"]["dev"];
    assert!(dev.to_string().contains("devtool"), "{dev}");
}

#[test]
fn the_lock_is_found_upward_from_a_workspace_member() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let member = fixture_dir("uv/workspace/packages/app");
    let mut args = vec!["lock", path_str(&member), "--format", "json"];
    args.extend(LINUX_311);
    let output = py2nix(&args, &server, cache.path());
    let plan: serde_json::Value = serde_json::from_str(&ok(&output)).expect("JSON plan");
    assert!(
        stderr(&output).contains("lists it as a member"),
        "{}",
        stderr(&output)
    );
    let packages = packages(&plan, "x86_64-linux-cp311");
    assert!(packages.contains_key("ws-app") && packages.contains_key("ws-lib"));
    // A directory that is not a member is not planned from a lock above it.
    let outside = fixture_dir("uv/workspace/src");
    let output = py2nix(
        &["lock", path_str(&outside), "--format", "json"],
        &server,
        cache.path(),
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("holds no lock file"),
        "{}",
        stderr(&output)
    );
    assert!(
        stderr(&output).contains("hint: make a lock"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn the_recorded_lock_is_used_again_when_another_appears_beside_it() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let project = fixture_copy("uv/flask-pillow");
    let out = project.path().join("python.nix");
    let mut args = vec!["lock", path_str(project.path()), "-o", path_str(&out)];
    args.extend(LINUX_311);
    ok(&py2nix(&args, &server, cache.path()));
    // A requirements.txt appears beside uv.lock (an export, say).
    std::fs::copy(
        fixture_dir("requirements/flask-pillow/requirements.txt"),
        project.path().join("requirements.txt"),
    )
    .expect("copy");
    let check = py2nix(&["check", path_str(project.path())], &server, cache.path());
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}{}",
        stdout(&check),
        stderr(&check)
    );
    let before = std::fs::read_to_string(&out).expect("python.nix");
    ok(&py2nix(&args, &server, cache.path()));
    assert_eq!(std::fs::read_to_string(&out).expect("python.nix"), before);
    // Without a recorded lock, two locks are still a question.
    let fresh = project.path().join("other.nix");
    let mut args = vec!["lock", path_str(project.path()), "-o", path_str(&fresh)];
    args.extend(LINUX_311);
    let output = py2nix(&args, &server, cache.path());
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("hint: choose one with --lock, e.g. `--lock requirements.txt`"),
        "{}",
        stderr(&output)
    );
}
