//! Stale locks: a lock that no longer records what pyproject.toml declares is refused (exit 1,
//! no output, what differs and the command that locks again), `--frozen` plans it as it is,
//! and `check` follows every uv workspace member's pyproject.toml by the parts that change
//! the plan.

use std::path::Path;

use crate::common::{fixture_copy, ok, py2nix, stderr, stdout, IndexServer, Mode};

const LINUX_311: [&str; 4] = ["--system", "x86_64-linux", "--python", "3.11"];

fn path_str(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// Replaces `from` by `to` in the file, which must contain it.
fn edit(file: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(file).expect("read");
    assert!(text.contains(from), "`{from}` is not in {}", file.display());
    std::fs::write(file, text.replacen(from, to, 1)).expect("write");
}

/// Runs `lock DIR -o out/python.nix` and returns stderr after checking the refusal: exit 1,
/// nothing on stdout, no output file, and not one request to the index.
fn refused(project: &Path, extra: &[&str]) -> String {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let out = tempfile::tempdir().expect("tempdir");
    let output_file = out.path().join("python.nix");
    let mut args = vec!["lock", path_str(project), "-o", path_str(&output_file)];
    args.extend(LINUX_311);
    args.extend(extra);
    let output = py2nix(&args, &server, cache.path());
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{message}");
    assert!(output.stdout.is_empty());
    assert!(
        !output_file.exists(),
        "a refused lock wrote {output_file:?}"
    );
    assert_eq!(
        server.requests(),
        0,
        "a stale lock is refused before the index is asked"
    );
    message
}

#[test]
fn a_stale_lock_of_each_format_is_refused_naming_what_differs() {
    // (fixture, file edited, from, to, what the message names, the command that locks again)
    let cases: [(&str, &str, &str, &str, &str, &str); 6] = [
        (
            "uv/flask-pillow",
            "pyproject.toml",
            "    \"pillow\",\n",
            "    \"pillow\",\n    \"tomli>=2\",\n",
            "pyproject.toml dependencies: `tomli>=2` added",
            "uv lock",
        ),
        (
            "uv/flask-pillow",
            "pyproject.toml",
            "    \"requests\",\n",
            "",
            "pyproject.toml dependencies: `requests` removed",
            "uv lock",
        ),
        (
            "uv/workspace",
            "packages/lib/pyproject.toml",
            "    \"six\",\n",
            "    \"six\",\n    \"attrs\",\n",
            "packages/lib/pyproject.toml dependencies: `attrs` added",
            "uv lock",
        ),
        (
            "poetry/flask-pillow",
            "pyproject.toml",
            "requests = \"*\"",
            "requests = \"*\"\ntomli = \"^2\"",
            "its content-hash differs",
            // Written by Poetry 1.8.5, whose `poetry lock` would also upgrade.
            "poetry lock --no-update",
        ),
        (
            "poetry/data-science",
            "pyproject.toml",
            "dependencies = [",
            "dependencies = [\n    \"tomli\",",
            "its content-hash differs",
            "poetry lock",
        ),
        (
            "pdm/flask",
            "pyproject.toml",
            "\"flask==3.1.3\"",
            "\"flask==3.1.2\"",
            "its content_hash differs",
            "pdm lock",
        ),
    ];
    for (fixture, file, from, to, names, relock) in cases {
        let project = fixture_copy(fixture);
        edit(&project.path().join(file), from, to);
        let message = refused(project.path(), &[]);
        let lock = std::fs::read_dir(project.path())
            .expect("list")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .find(|name| name.ends_with(".lock"))
            .expect("a lock");
        assert!(
            message.starts_with(&format!(
                "error: `{}` is out of date with the project's pyproject.toml:\n  - ",
                path_str(&project.path().join(&lock))
            )),
            "{fixture}: {message}"
        );
        assert!(message.contains(names), "{fixture}: {message}");
        assert!(
            message.contains(&format!(
                "hint: lock again with `cd {} && {relock}`, or plan the lock as it is with `--frozen`",
                path_str(project.path())
            )),
            "{fixture}: {message}"
        );
    }
}

#[test]
fn frozen_plans_a_stale_lock_as_it_is() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let project = fixture_copy("uv/flask-pillow");
    edit(
        &project.path().join("pyproject.toml"),
        "    \"pillow\",\n",
        "",
    );
    refused(project.path(), &[]);
    let mut args = vec![
        "lock",
        path_str(project.path()),
        "--format",
        "json",
        "--frozen",
    ];
    args.extend(LINUX_311);
    let plan: serde_json::Value =
        serde_json::from_str(&ok(&py2nix(&args, &server, cache.path()))).expect("a JSON plan");
    // The lock as it is: pillow is still planned.
    assert!(
        plan["targets"]["x86_64-linux-cp311"]["packages"]["pillow"].is_object(),
        "{plan}"
    );
    // `graph` plans like `lock`: it refuses the stale lock too, unless --frozen.
    let graph = |extra: &[&str]| {
        let mut args = vec!["graph", path_str(project.path()), "--format", "text"];
        args.extend(LINUX_311);
        args.extend(extra);
        py2nix(&args, &server, cache.path())
    };
    let refused_graph = graph(&[]);
    assert_eq!(refused_graph.status.code(), Some(1));
    assert!(stderr(&refused_graph).contains("`pillow` removed"));
    assert!(ok(&graph(&["--frozen"])).contains("pillow"));
}

#[test]
fn a_lock_without_project_metadata_is_accepted_and_verbose_says_why() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let project = fixture_copy("uv/old-revision");
    let lock_path = project.path().join("uv.lock");
    // As uv versions before the metadata tables wrote it: no [package.metadata] tables.
    let lock = std::fs::read_to_string(&lock_path).expect("lock");
    let without: Vec<&str> = lock
        .split("\n\n")
        .filter(|block| !block.starts_with("[package.metadata"))
        .collect();
    std::fs::write(&lock_path, without.join("\n\n")).expect("write");
    // A dependency that is not in the lock cannot be noticed then.
    edit(
        &project.path().join("pyproject.toml"),
        "    \"attrs\",\n",
        "    \"attrs\",\n    \"six\",\n",
    );
    let mut args = vec!["lock", path_str(project.path()), "-v", "--format", "json"];
    args.extend(LINUX_311);
    let output = py2nix(&args, &server, cache.path());
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{message}");
    assert!(
        message
            .contains("is not compared with pyproject.toml: uv.lock records no project metadata"),
        "{message}"
    );
}

#[test]
fn check_follows_workspace_members_by_what_changes_the_plan() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let project = fixture_copy("uv/workspace");
    let nix = project.path().join("python.nix");
    let mut args = vec!["lock", path_str(project.path()), "-o", path_str(&nix)];
    args.extend(LINUX_311);
    ok(&py2nix(&args, &server, cache.path()));
    let check = |extra: &[&str]| {
        let mut args = vec!["check", path_str(project.path())];
        args.extend(extra);
        py2nix(&args, &server, cache.path())
    };
    let current = check(&[]);
    assert_eq!(current.status.code(), Some(0), "{}", stderr(&current));
    assert!(
        stdout(&current).contains(
            "packages/app/pyproject.toml, packages/lib/pyproject.toml, pyproject.toml, uv.lock"
        ),
        "{}",
        stdout(&current)
    );

    let member = project.path().join("packages/lib/pyproject.toml");
    edit(&member, "description = \"", "description = \"Edited: ");
    edit(
        &member,
        "[build-system]",
        "authors = [{ name = \"A\" }]\n\n[build-system]",
    );
    let cosmetic = check(&[]);
    assert_eq!(cosmetic.status.code(), Some(0), "{}", stdout(&cosmetic));

    edit(&member, "    \"six\",\n", "    \"six\",\n    \"attrs\",\n");
    let stale = check(&[]);
    assert_eq!(stale.status.code(), Some(1));
    assert_eq!(
        stdout(&stale),
        "stale: packages/lib/pyproject.toml changed since python.nix was made; uv.lock is out of date with pyproject.toml (packages/lib/pyproject.toml dependencies: `attrs` added); lock again with `uv lock`\n"
    );
    let frozen = check(&["--frozen"]);
    assert_eq!(
        stdout(&frozen),
        "stale: packages/lib/pyproject.toml changed since python.nix was made\n"
    );

    // A new member is new input.
    let extra = project.path().join("packages/extra");
    std::fs::create_dir_all(&extra).expect("mkdir");
    std::fs::write(
        extra.join("pyproject.toml"),
        "[project]\nname = \"ws-extra\"\nversion = \"1.0\"\nrequires-python = \">=3.11\"\n",
    )
    .expect("write");
    let grown = check(&["--frozen"]);
    assert!(
        stdout(&grown).contains("packages/extra/pyproject.toml appeared since python.nix was made"),
        "{}",
        stdout(&grown)
    );
}

/// A plan made before `pyprojects` existed records pyproject.toml in `files`, by the hash of
/// the whole file; `check` still reads it so.
#[test]
fn check_reads_plans_with_whole_file_hashes() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let project = fixture_copy("uv/flask-pillow");
    let plan_path = project.path().join("plan.json");
    let mut args = vec![
        "lock",
        path_str(project.path()),
        "--format",
        "json",
        "-o",
        path_str(&plan_path),
    ];
    args.extend(LINUX_311);
    ok(&py2nix(&args, &server, cache.path()));
    let mut plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&plan_path).expect("plan")).expect("JSON");
    let inputs = plan["inputs"].as_object_mut().expect("inputs");
    let pyprojects = inputs.remove("pyprojects").expect("pyprojects");
    assert_eq!(
        pyprojects
            .as_object()
            .expect("object")
            .keys()
            .collect::<Vec<_>>(),
        ["pyproject.toml"]
    );
    let whole = std::fs::read(project.path().join("pyproject.toml")).expect("pyproject");
    inputs["files"]
        .as_object_mut()
        .expect("files")
        .insert("pyproject.toml".into(), crate::commands::sri(&whole).into());
    std::fs::write(
        &plan_path,
        serde_json::to_string_pretty(&plan).expect("JSON"),
    )
    .expect("write");
    let check = || {
        py2nix(
            &["check", "--file", path_str(&plan_path)],
            &server,
            cache.path(),
        )
    };
    let current = check();
    assert_eq!(current.status.code(), Some(0), "{}", stdout(&current));
    edit(
        &project.path().join("pyproject.toml"),
        "description = \"",
        "description = \"Edited: ",
    );
    assert_eq!(
        stdout(&check()),
        "stale: pyproject.toml changed since plan.json was made\n"
    );
}
