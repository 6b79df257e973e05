//! Reading locks: formats told by content when the name does not say (renamed locks, `/dev/fd`
//! paths), `uv export`'s `-e .` and `-e ./member`, PDM's `${PROJECT_ROOT}` editables, the lock
//! found upward from a workspace member's directory, and the lock a python.nix records used
//! again by `lock` and `check` when another appears beside it.

use std::path::Path;
use std::process::Command;

use crate::common::{
    fixture_copy, fixture_dir, ok, packages, py2nix, stderr, stdout, IndexServer, Mode,
};

const LINUX_311: [&str; 4] = ["--system", "x86_64-linux", "--python", "3.11"];

fn path_str(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
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

/// `diff` of two requirements files (locks) that differ only in `edit`: its JSON changes.
fn lock_diff(old: &str, new: &str) -> serde_json::Value {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let work = tempfile::tempdir().expect("tempdir");
    let (a, b) = (work.path().join("a.txt"), work.path().join("b.txt"));
    std::fs::write(&a, old).expect("write");
    std::fs::write(&b, new).expect("write");
    let output = py2nix(
        &["diff", path_str(&a), path_str(&b), "--format", "json"],
        &server,
        cache.path(),
    );
    serde_json::from_str(&ok(&output)).expect("JSON")
}

/// The one change of a diff, with the names of the details that changed.
fn only_change(diff: &serde_json::Value) -> (&str, &str, Vec<String>) {
    let changes = diff["changes"].as_array().expect("changes");
    assert_eq!(changes.len(), 1, "{diff}");
    let change = &changes[0];
    let details = change["details"]
        .as_object()
        .map(|d| d.keys().cloned().collect())
        .unwrap_or_default();
    (
        change["package"].as_str().expect("package"),
        change["change"].as_str().expect("change"),
        details,
    )
}

const SIX: &str =
    "six==1.17.0 --hash=sha256:4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274\n";

#[test]
fn diff_of_locks_reports_git_commit_url_path_and_hash_changes() {
    let git = |rev: &str| format!("{SIX}dep @ git+https://git.example/dep.git@{rev}\n");
    let diff = lock_diff(&git(&"a".repeat(40)), &git(&"b".repeat(40)));
    assert_eq!(
        only_change(&diff),
        ("dep", "changed", vec!["rev".to_string()])
    );
    assert_eq!(diff["changes"][0]["details"]["rev"]["new"], "b".repeat(40));
    assert_ne!(diff["summary"], "no differences");

    let url = |host: &str| format!("{SIX}dep @ https://{host}/dep-1.0.tar.gz\n");
    let diff = lock_diff(&url("a.example"), &url("b.example"));
    assert_eq!(
        only_change(&diff),
        ("dep", "changed", vec!["url".to_string()])
    );

    let path = |dir: &str| format!("{SIX}-e ./{dir}#egg=dep\n");
    let diff = lock_diff(&path("one"), &path("two"));
    assert_eq!(
        only_change(&diff),
        ("dep", "changed", vec!["path".to_string()])
    );

    let hashed = |hash: &str| format!("six==1.17.0 --hash=sha256:{hash}\n");
    let diff = lock_diff(&hashed(&"1".repeat(64)), &hashed(&"2".repeat(64)));
    let (package, change, _) = only_change(&diff);
    assert_eq!((package, change), ("six", "changed"), "{diff}");

    // Nothing that changes the build: no differences.
    let diff = lock_diff(&git(&"a".repeat(40)), &git(&"a".repeat(40)));
    assert_eq!(diff["summary"], "no differences");
}

/// A JSON plan of uv/flask-pillow for x86_64-linux/CPython 3.11, as text.
fn flask_plan() -> serde_json::Value {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let dir = fixture_dir("uv/flask-pillow");
    let mut args = vec!["lock", path_str(&dir), "--format", "json"];
    args.extend(LINUX_311);
    serde_json::from_str(&ok(&py2nix(&args, &server, cache.path()))).expect("JSON plan")
}

fn plan_diff(old: &serde_json::Value, new: &serde_json::Value) -> (serde_json::Value, String) {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let work = tempfile::tempdir().expect("tempdir");
    let (a, b) = (work.path().join("a.json"), work.path().join("b.json"));
    std::fs::write(&a, old.to_string()).expect("write");
    std::fs::write(&b, new.to_string()).expect("write");
    let json = py2nix(
        &["diff", path_str(&a), path_str(&b), "--format", "json"],
        &server,
        cache.path(),
    );
    let text = py2nix(&["diff", path_str(&a), path_str(&b)], &server, cache.path());
    (serde_json::from_str(&ok(&json)).expect("JSON"), ok(&text))
}

#[test]
fn diff_of_plans_reports_what_changes_a_build() {
    let plan = flask_plan();
    let target = "x86_64-linux-cp311";
    let edits: [(&str, &[&str], fn(&mut serde_json::Value)); 6] = [
        ("file", &["filename", "hash", "url"], |p| {
            p["src"]["filename"] = "flask-0-py3-none-any.whl".into();
            p["src"]["url"] = "https://files.example/flask-0-py3-none-any.whl".into();
            p["src"]["hash"] = format!("sha256-{}=", "A".repeat(43)).into();
        }),
        ("url", &["url"], |p| {
            p["src"]["url"] = "https://mirror.example/flask.whl".into();
        }),
        ("build system", &["build-system"], |p| {
            p["build-system"] = serde_json::json!(["flit-core"]);
        }),
        ("native inputs", &["native-build-inputs"], |p| {
            p["native-build-inputs"] = serde_json::json!(["pkgs.pkg-config"]);
        }),
        ("build inputs", &["build-inputs"], |p| {
            p["build-inputs"] = serde_json::json!(["pkgs.zlib"]);
        }),
        ("kind", &[], |p| {
            p["src"]["kind"] = "sdist".into();
        }),
    ];
    for (what, expected, edit) in edits {
        let mut new = plan.clone();
        edit(&mut new["targets"][target]["packages"]["flask"]);
        let (diff, text) = plan_diff(&plan, &new);
        let (package, change, details) = only_change(&diff);
        assert_eq!((package, change), ("flask", "changed"), "{what}: {diff}");
        assert_eq!(details, expected.to_vec(), "{what}: {diff}");
        assert!(text.contains("flask"), "{what}: {text}");
        assert!(!text.contains("no differences"), "{what}: {text}");
    }
    // A git source moved to another commit.
    let git = |rev: &str, hash: &str| {
        let mut p = plan.clone();
        p["targets"][target]["packages"]["flask"]["src"] = serde_json::json!({
            "kind": "git", "url": "https://git.example/flask.git", "rev": rev, "hash": hash,
        });
        p
    };
    let old = git(&"a".repeat(40), &format!("sha256-{}=", "A".repeat(43)));
    let new = git(&"b".repeat(40), &format!("sha256-{}=", "B".repeat(43)));
    let (diff, text) = plan_diff(&old, &new);
    assert_eq!(
        only_change(&diff),
        (
            "flask",
            "changed",
            vec!["hash".to_string(), "rev".to_string()]
        )
    );
    assert!(
        text.contains(&format!("rev {} -> {}", "a".repeat(40), "b".repeat(40))),
        "{text}"
    );
    // A path source moved.
    let path = |to: &str| {
        let mut p = plan.clone();
        p["targets"][target]["packages"]["flask"]["src"] =
            serde_json::json!({"kind": "path", "path": to, "format": "tree"});
        p
    };
    let (diff, _) = plan_diff(&path("./a"), &path("./b"));
    assert_eq!(
        only_change(&diff),
        ("flask", "changed", vec!["path".to_string()])
    );
    let (diff, _) = plan_diff(&plan, &plan);
    assert_eq!(diff["summary"], "no differences");
}

/// A uv project whose one dependency is a git source at `repo_url`, commit `commit`.
fn write_git_project(dir: &Path, repo_url: &str, commit: &str) {
    std::fs::write(
        dir.join("pyproject.toml"),
        format!(
            "[project]\nname = \"app\"\nversion = \"0.1.0\"\nrequires-python = \">=3.11\"\ndependencies = [\"gitpkg\"]\n\n[tool.uv]\npackage = false\n\n[tool.uv.sources]\ngitpkg = {{ git = \"{repo_url}\", tag = \"v1\" }}\n"
        ),
    )
    .expect("write");
    std::fs::write(
        dir.join("uv.lock"),
        format!(
            "version = 1\nrevision = 3\nrequires-python = \">=3.11\"\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\nsource = {{ virtual = \".\" }}\ndependencies = [\n    {{ name = \"gitpkg\" }},\n]\n\n[package.metadata]\nrequires-dist = [{{ name = \"gitpkg\", git = \"{repo_url}?tag=v1\" }}]\n\n[[package]]\nname = \"gitpkg\"\nversion = \"1.0.0\"\nsource = {{ git = \"{repo_url}?tag=v1#{commit}\" }}\n"
        ),
    )
    .expect("write");
}

#[test]
fn a_git_network_failure_exits_2_and_an_offline_miss_exits_1() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let project = tempfile::tempdir().expect("tempdir");
    // Nothing listens on port 9 of the loopback: git cannot connect.
    write_git_project(
        project.path(),
        "http://127.0.0.1:9/repo.git",
        &"a".repeat(40),
    );
    let mut args = vec!["lock", path_str(project.path()), "--format", "json"];
    args.extend(LINUX_311);
    let output = py2nix(&args, &server, cache.path());
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(output.stdout.is_empty());
    assert!(stderr(&output).contains("`gitpkg`"), "{}", stderr(&output));
    args.push("--offline");
    let output = py2nix(&args, &server, cache.path());
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("--offline"), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("hint: run once without --offline"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn one_bad_hash_is_one_message_naming_its_targets() {
    let server = IndexServer::start(Mode::WrongHash(
        "six-1.17.0-py2.py3-none-any.whl".to_string(),
    ));
    let cache = tempfile::tempdir().expect("tempdir");
    let dir = fixture_dir("pdm/local-path");
    let output = py2nix(
        &[
            "lock",
            path_str(&dir),
            "--system",
            "x86_64-linux",
            "--system",
            "aarch64-darwin",
            "--python",
            "3.11",
            "--python",
            "3.12",
        ],
        &server,
        cache.path(),
    );
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{message}");
    assert_eq!(message.matches("hash mismatch").count(), 1, "{message}");
    assert!(message.contains("(on all 4 targets)"), "{message}");
}

#[test]
fn poetrys_unlocked_setuptools_is_planned_from_the_index_with_a_warning() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let dir = fixture_dir("poetry-legacy/gunicorn20");
    let mut args = vec!["lock", path_str(&dir), "--format", "json"];
    args.extend(LINUX_311);
    let output = py2nix(&args, &server, cache.path());
    let plan: serde_json::Value = serde_json::from_str(&ok(&output)).expect("JSON plan");
    let message = stderr(&output);
    assert!(
        message.contains("poetry.lock does not lock `setuptools`")
            && message.contains("needed by gunicorn 20.0.4 (`>=3.0`)")
            && message.contains("setuptools 84.2.1"),
        "{message}"
    );
    let packages = packages(&plan, "x86_64-linux-cp311");
    let setuptools = &packages["setuptools"];
    assert_eq!(setuptools["version"], "84.2.1", "{setuptools}");
    assert_eq!(
        setuptools["src"]["filename"],
        "setuptools-84.2.1-py3-none-any.whl"
    );
    assert!(setuptools["src"]["hash"]
        .as_str()
        .is_some_and(|h| h.starts_with("sha256-")));
    let gunicorn = &packages["gunicorn"];
    assert!(
        gunicorn["dependencies"].to_string().contains("setuptools"),
        "{gunicorn}"
    );
    // Only those four names: any other package the lock lacks is still a stale lock.
    let project = fixture_copy("poetry-legacy/gunicorn20");
    let lock = project.path().join("poetry.lock");
    let text = std::fs::read_to_string(&lock).expect("read");
    std::fs::write(
        &lock,
        text.replacen(
            "setuptools = \">=3.0\"",
            "setuptools = \">=3.0\"\nmissing = \"*\"",
            1,
        ),
    )
    .expect("write");
    let mut args = vec![
        "lock",
        path_str(project.path()),
        "--format",
        "json",
        "--frozen",
    ];
    args.extend(LINUX_311);
    let output = py2nix(&args, &server, cache.path());
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("`missing`, which the lock does not contain"),
        "{}",
        stderr(&output)
    );
}
