//! The everyday commands around `lock`: `check` (drift), `diff` (update bots), `graph`
//! (pictures), `completions`, the generated docs, and the command line's manners (hints,
//! colour, -q/-v, broken pipes, TOML diagnostics).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::common::{
    fixture, fixture_dir, ok, py2nix, py2nix_with_env, repo_root, stderr, stdout, IndexServer, Mode,
};

const LINUX_311: [&str; 4] = ["--system", "x86_64-linux", "--python", "3.11"];

fn path_str(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// A copy of a Poetry fixture's project files in a temporary directory.
fn project_copy(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for file in ["pyproject.toml", "poetry.lock"] {
        std::fs::copy(fixture(name).join(file), dir.path().join(file)).expect("copy fixture");
    }
    dir
}

/// Runs py2nix with no index reachable (a closed port), to show a command needs no network.
fn offline_py2nix(args: &[&str], cwd: Option<&Path>) -> Output {
    let cache = tempfile::tempdir().expect("tempdir");
    py2nix_with_env(
        args,
        cache.path(),
        &[("PY2NIX_INDEX_URL", "http://127.0.0.1:9/simple/")],
        cwd,
    )
}

fn lock_into(project: &Path, output: &Path, extra: &[&str], server: &IndexServer, cache: &Path) {
    let mut args = vec!["lock", path_str(project), "-o", path_str(output)];
    args.extend(extra);
    ok(&py2nix(&args, server, cache));
}

fn append(path: &Path, text: &str) {
    let mut content = std::fs::read_to_string(path).expect("read");
    content.push_str(text);
    std::fs::write(path, content).expect("write");
}

// ---------------------------------------------------------------- check

#[test]
fn check_is_current_after_lock_and_stale_after_the_lock_changes() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let project = project_copy("flask-pillow");
    let nix = project.path().join("python.nix");
    lock_into(project.path(), &nix, &LINUX_311, &server, cache.path());
    let requests = server.requests();

    let current = offline_py2nix(&["check", path_str(project.path())], None);
    assert_eq!(current.status.code(), Some(0), "{}", stderr(&current));
    let answer = stdout(&current);
    assert!(answer.starts_with("current: "), "{answer}");
    assert!(answer.contains("poetry.lock, pyproject.toml"), "{answer}");

    append(&project.path().join("poetry.lock"), "\n");
    let stale = offline_py2nix(&["check", path_str(project.path())], None);
    assert_eq!(stale.status.code(), Some(1));
    assert_eq!(
        stdout(&stale),
        "stale: poetry.lock changed since python.nix was made\n"
    );
    // The hint repeats the recorded options, so the regenerated file is made the same way.
    let hint = stderr(&stale);
    assert!(
        hint.contains("hint: regenerate it with `cd ")
            && hint.contains("py2nix lock --system x86_64-linux --python 3.11 -o python.nix`"),
        "{hint}"
    );
    assert_eq!(server.requests(), requests, "check must not ask the index");

    // pyproject.toml counts by the parts that change the plan: a blank line does not.
    append(&project.path().join("pyproject.toml"), "\n");
    let both = offline_py2nix(&["check", path_str(project.path())], None);
    assert_eq!(
        stdout(&both),
        "stale: poetry.lock changed since python.nix was made\n"
    );
}

#[test]
fn check_compares_options_only_when_given_and_names_the_difference() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let project = project_copy("flask-pillow");
    let nix = project.path().join("python.nix");
    lock_into(
        project.path(),
        &nix,
        &[
            "--python",
            "3.11",
            "--system",
            "x86_64-linux",
            "--system",
            "x86_64-linux",
        ],
        &server,
        cache.path(),
    );
    let dir = path_str(project.path());
    // The same options in another order are the same options.
    let same = offline_py2nix(
        &["check", dir, "--system", "x86_64-linux", "--python", "3.11"],
        None,
    );
    assert_eq!(same.status.code(), Some(0), "{}", stdout(&same));
    let other = offline_py2nix(
        &[
            "check",
            dir,
            "--system",
            "aarch64-linux",
            "--python",
            "3.11",
        ],
        None,
    );
    assert_eq!(other.status.code(), Some(1));
    assert_eq!(
        stdout(&other),
        "stale: options changed (python.nix has `--system x86_64-linux --python 3.11`, asked for `--system aarch64-linux --python 3.11`)\n"
    );
}

#[test]
fn check_tells_another_py2nix_and_answers_json() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let project = project_copy("cycle");
    let nix = project.path().join("python.nix");
    lock_into(project.path(), &nix, &LINUX_311, &server, cache.path());
    let version = env!("CARGO_PKG_VERSION");
    let text = std::fs::read_to_string(&nix).expect("python.nix");
    let recorded = format!("py2nix = \"{version}\";");
    assert_eq!(text.matches(&recorded).count(), 1, "one recorded version");
    std::fs::write(&nix, text.replace(&recorded, "py2nix = \"0.0.9\";")).expect("write");

    let output = offline_py2nix(&["check", "--file", path_str(&nix)], None);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stdout(&output),
        format!("stale: made by py2nix 0.0.9, this is {version}\n")
    );

    let json = offline_py2nix(
        &["check", "--file", path_str(&nix), "--format", "json"],
        None,
    );
    assert_eq!(json.status.code(), Some(1));
    let answer: serde_json::Value = serde_json::from_str(&stdout(&json)).expect("JSON");
    assert_eq!(answer["status"], "stale");
    assert_eq!(
        answer["reasons"],
        serde_json::json!([format!("made by py2nix 0.0.9, this is {version}")])
    );
    assert_eq!(answer["recorded"]["lock"], "poetry.lock");
    assert_eq!(answer["recorded"]["options"], serde_json::json!(LINUX_311));
}

#[test]
fn check_reads_json_plans_and_the_plan_records_its_inputs() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let project = project_copy("flask-pillow");
    let plan_path = project.path().join("plan.json");
    let mut extra = vec!["--format", "json"];
    extra.extend(LINUX_311);
    lock_into(project.path(), &plan_path, &extra, &server, cache.path());
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&plan_path).expect("plan")).expect("JSON");
    let keys: Vec<&String> = plan.as_object().expect("object").keys().collect();
    assert_eq!(
        keys,
        ["schema", "generator", "inputs", "project", "targets"]
    );
    let inputs = &plan["inputs"];
    assert_eq!(inputs["py2nix"], env!("CARGO_PKG_VERSION"));
    assert_eq!(inputs["lock"], "poetry.lock");
    let lock_bytes = std::fs::read(project.path().join("poetry.lock")).expect("lock");
    assert_eq!(inputs["files"]["poetry.lock"], sri(&lock_bytes));
    assert!(inputs["overrides"]
        .as_str()
        .expect("string")
        .starts_with("sha256-"));

    let json = offline_py2nix(
        &["check", "--file", path_str(&plan_path), "--format", "json"],
        None,
    );
    assert_eq!(json.status.code(), Some(0), "{}", stdout(&json));
    let answer: serde_json::Value = serde_json::from_str(&stdout(&json)).expect("JSON");
    assert_eq!(answer["status"], "current");
    assert_eq!(answer["reasons"], serde_json::json!([]));

    std::fs::remove_file(project.path().join("poetry.lock")).expect("remove");
    std::fs::copy(
        fixture("cycle").join("poetry.lock"),
        project.path().join("poetry.lock"),
    )
    .expect("copy");
    // Another project's lock is also out of date with this pyproject.toml, unless --frozen.
    let changed = offline_py2nix(&["check", "--file", path_str(&plan_path)], None);
    assert_eq!(
        stdout(&changed),
        "stale: poetry.lock changed since plan.json was made; poetry.lock is out of date with pyproject.toml (pyproject.toml's dependencies changed since poetry.lock was written (its content-hash differs)); lock again with `poetry lock`\n"
    );
    let frozen = offline_py2nix(&["check", "--frozen", "--file", path_str(&plan_path)], None);
    assert_eq!(
        stdout(&frozen),
        "stale: poetry.lock changed since plan.json was made\n"
    );
    // The hint names the JSON format, so following it remakes a JSON plan.
    assert!(
        stderr(&changed).contains("--format json -o plan.json"),
        "{}",
        stderr(&changed)
    );
}

/// Paths in the record are relative to the generated file, so a python.nix written
/// elsewhere still finds its lock, and a new lock beside the old one is noticed.
#[test]
fn check_follows_paths_from_the_generated_file() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let project = project_copy("flask-pillow");
    let out = tempfile::tempdir().expect("tempdir");
    let nix = out.path().join("nested/python.nix");
    std::fs::create_dir_all(nix.parent().expect("parent")).expect("mkdir");
    lock_into(project.path(), &nix, &LINUX_311, &server, cache.path());
    let current = offline_py2nix(&["check", "--file", path_str(&nix)], Some(Path::new("/")));
    assert_eq!(current.status.code(), Some(0), "{}", stdout(&current));

    // Another lock beside the recorded one: the record says which one the file was made from.
    std::fs::write(project.path().join("uv.lock"), "version = 1\n").expect("write");
    let two = offline_py2nix(&["check", "--file", path_str(&nix)], None);
    assert_eq!(two.status.code(), Some(0), "{}", stdout(&two));
    assert!(stdout(&two).contains("poetry.lock"), "{}", stdout(&two));
    // The recorded lock gone, the other one is the project's lock now.
    std::fs::remove_file(project.path().join("poetry.lock")).expect("remove");
    let other = offline_py2nix(&["check", "--file", path_str(&nix)], None);
    assert_eq!(other.status.code(), Some(1));
    assert!(
        stdout(&other).contains("the project's lock is now uv.lock"),
        "{}",
        stdout(&other)
    );
}

#[test]
fn check_without_a_file_is_an_error_with_a_hint() {
    let empty = tempfile::tempdir().expect("tempdir");
    let output = offline_py2nix(&["check", path_str(empty.path())], None);
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).is_empty());
    let message = stderr(&output);
    assert!(message.contains("python.nix` does not exist"), "{message}");
    assert!(
        message.contains("hint: make it with `py2nix lock -o "),
        "{message}"
    );

    let foreign = empty.path().join("python.nix");
    std::fs::write(&foreign, "{ pkgs }: { }\n").expect("write");
    let output = offline_py2nix(&["check", path_str(empty.path())], None);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("is neither a python.nix nor a JSON plan made by py2nix"),
        "{}",
        stderr(&output)
    );
}

pub fn sri(bytes: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(bytes);
    format!("sha256-{}", crate::common::base64(&digest))
}

// ---------------------------------------------------------------- diff

fn diff_fixture(side: &str) -> PathBuf {
    fixture_dir("diff/web-app").join(side)
}

#[test]
fn diff_of_two_real_uv_locks_of_one_project() {
    let old = diff_fixture("old").join("uv.lock");
    let new = diff_fixture("new").join("uv.lock");
    let text = ok(&offline_py2nix(
        &["diff", path_str(&old), path_str(&new)],
        None,
    ));
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines.contains(&"  added      pytokens            0.4.1"),
        "{text}"
    );
    assert!(
        lines.contains(&"  removed    sniffio             1.3.1"),
        "{text}"
    );
    assert!(
        lines.contains(&"  upgraded   anyio               4.9.0 -> 4.13.0"),
        "{text}"
    );
    assert_eq!(lines.last(), Some(&"1 added, 1 removed, 23 upgraded"));

    // JSON: the same, per package.
    let json: serde_json::Value = serde_json::from_str(&ok(&offline_py2nix(
        &["diff", path_str(&old), path_str(&new), "--format", "json"],
        None,
    )))
    .expect("JSON");
    let by_change = changes_by_kind(&json);
    assert_eq!(by_change["added"], ["pytokens"]);
    assert_eq!(by_change["removed"], ["sniffio"]);
    assert_eq!(by_change["upgraded"].len(), 23);
    assert!(!by_change.contains_key("downgraded"));
    let anyio = json["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|c| c["package"] == "anyio")
        .expect("anyio");
    assert_eq!(
        anyio["old"],
        serde_json::json!({"version": "4.9.0", "kind": "index"})
    );
    assert_eq!(
        anyio["new"],
        serde_json::json!({"version": "4.13.0", "kind": "index"})
    );
    assert_eq!(json["old"]["kind"], "uv.lock");

    // Reversed, upgrades are downgrades; directories stand for their lock.
    let reversed: serde_json::Value = serde_json::from_str(&ok(&offline_py2nix(
        &[
            "diff",
            path_str(&diff_fixture("new")),
            path_str(&diff_fixture("old")),
            "--format",
            "json",
        ],
        None,
    )))
    .expect("JSON");
    let by_change = changes_by_kind(&reversed);
    assert_eq!(by_change["downgraded"].len(), 23);
    assert_eq!(by_change["added"], ["sniffio"]);
}

fn changes_by_kind(json: &serde_json::Value) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for change in json["changes"].as_array().expect("changes") {
        out.entry(change["change"].as_str().expect("change").to_string())
            .or_default()
            .push(change["package"].as_str().expect("package").to_string());
    }
    out
}

/// A Markdown table as rows of trimmed cells (header and separator left out).
fn markdown_rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .filter(|l| l.starts_with('|'))
        .skip(2)
        .map(|l| {
            l.trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().to_string())
                .collect()
        })
        .collect()
}

#[test]
fn diff_markdown_is_a_table_for_a_pull_request() {
    let text = ok(&offline_py2nix(
        &[
            "diff",
            path_str(&diff_fixture("old")),
            path_str(&diff_fixture("new")),
            "--format",
            "markdown",
        ],
        None,
    ));
    assert!(text.starts_with("**Python dependencies** (uv.lock → uv.lock): 1 added, 1 removed, 23 upgraded\n\n| Package | Change | Old | New |\n| --- | --- | --- | --- |\n"), "{text}");
    let rows = markdown_rows(&text);
    assert_eq!(rows.len(), 25);
    assert!(rows.iter().all(|r| r.len() == 4), "{rows:?}");
    assert!(rows.contains(&vec![
        "`pillow`".to_string(),
        "upgraded".to_string(),
        "11.2.1".to_string(),
        "12.2.0".to_string()
    ]));
}

#[test]
fn diff_of_plans_per_target_calls_out_a_wheel_that_became_an_sdist() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let out = tempfile::tempdir().expect("tempdir");
    let dir = fixture("flask-pillow");
    let two_targets = [
        "--system",
        "x86_64-linux",
        "--system",
        "aarch64-darwin",
        "--python",
        "3.11",
    ];
    let old = out.path().join("old.nix");
    let new = out.path().join("new.json");
    lock_into(&dir, &old, &two_targets, &server, cache.path());
    let mut extra = two_targets.to_vec();
    extra.extend(["--no-binary", "pillow", "--format", "json"]);
    lock_into(&dir, &new, &extra, &server, cache.path());

    let json: serde_json::Value = serde_json::from_str(&ok(&offline_py2nix(
        &["diff", path_str(&old), path_str(&new), "--format", "json"],
        None,
    )))
    .expect("JSON");
    assert_eq!(json["old"]["kind"], "python.nix");
    assert_eq!(json["new"]["kind"], "plan");
    assert_eq!(
        json["targets"]["compared"],
        serde_json::json!(["aarch64-darwin-cp311", "x86_64-linux-cp311"])
    );
    let changes = json["changes"].as_array().expect("changes");
    assert_eq!(changes.len(), 1, "{json}");
    let pillow = &changes[0];
    assert_eq!(pillow["package"], "pillow");
    assert_eq!(pillow["change"], "changed");
    assert_eq!(pillow["old"]["kind"], "wheel");
    assert_eq!(pillow["new"]["kind"], "sdist");
    assert_eq!(pillow["source-kind-changed"], true);
    assert_eq!(
        pillow["targets"],
        serde_json::json!(["aarch64-darwin-cp311", "x86_64-linux-cp311"])
    );

    let markdown = ok(&offline_py2nix(
        &[
            "diff",
            path_str(&old),
            path_str(&new),
            "--format",
            "markdown",
        ],
        None,
    ));
    let rows = markdown_rows(&markdown);
    assert_eq!(rows.len(), 1, "{markdown}");
    assert_eq!(rows[0][0], "`pillow`");
    assert_eq!(rows[0][1], "changed, **wheel → sdist**");
    assert_eq!(rows[0][4], "all targets");

    // A third target only in the new plan is listed as added.
    let three = out.path().join("three.json");
    let mut extra = two_targets.to_vec();
    extra.extend(["--python", "3.12", "--format", "json"]);
    lock_into(&dir, &three, &extra, &server, cache.path());
    let text = ok(&offline_py2nix(
        &["diff", path_str(&old), path_str(&three)],
        None,
    ));
    assert!(
        text.contains("target added: aarch64-darwin-cp312\n"),
        "{text}"
    );
    assert!(
        text.ends_with("no differences\n") || text.contains("2 targets added"),
        "{text}"
    );
}

#[test]
fn diff_refuses_a_lock_against_a_plan_and_unreadable_files() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let out = tempfile::tempdir().expect("tempdir");
    let plan = out.path().join("plan.json");
    let mut extra = vec!["--format", "json"];
    extra.extend(LINUX_311);
    lock_into(&fixture("cycle"), &plan, &extra, &server, cache.path());
    let lock = fixture("cycle").join("poetry.lock");
    let mixed = offline_py2nix(&["diff", path_str(&lock), path_str(&plan)], None);
    assert_eq!(mixed.status.code(), Some(1));
    assert!(stdout(&mixed).is_empty());
    assert!(
        stderr(&mixed).contains("cannot compare a poetry.lock"),
        "{}",
        stderr(&mixed)
    );

    let missing = offline_py2nix(&["diff", path_str(&lock), "/no/such/uv.lock"], None);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains("/no/such/uv.lock"),
        "{}",
        stderr(&missing)
    );

    let json = out.path().join("other.json");
    std::fs::write(&json, "{\"generator\": \"someone else\"}").expect("write");
    let foreign = offline_py2nix(&["diff", path_str(&json), path_str(&plan)], None);
    assert_eq!(foreign.status.code(), Some(1));
    assert!(
        stderr(&foreign).contains("not a plan made by py2nix"),
        "{}",
        stderr(&foreign)
    );
}

// ---------------------------------------------------------------- graph

/// A DOT graph as written by `py2nix graph`: nodes with attributes, edges with attributes.
struct Dot {
    name: String,
    nodes: BTreeMap<String, BTreeMap<String, String>>,
    edges: BTreeMap<(String, String), BTreeMap<String, String>>,
}

/// A small DOT reader for the subset py2nix writes: `digraph "id" {`, statements
/// `"a" [k=v, ...];` and `"a" -> "b" [k=v, ...];`, and `key=value;` graph attributes.
fn parse_dot(text: &str) -> Dot {
    let mut tokens = dot_tokens(text).into_iter().peekable();
    assert_eq!(tokens.next().as_deref(), Some("digraph"));
    let name = tokens.next().expect("graph name");
    assert_eq!(tokens.next().as_deref(), Some("{"));
    let mut dot = Dot {
        name,
        nodes: BTreeMap::new(),
        edges: BTreeMap::new(),
    };
    loop {
        let first = tokens.next().expect("a statement or `}`");
        if first == "}" {
            break;
        }
        let mut target = None;
        if tokens.peek().map(String::as_str) == Some("->") {
            tokens.next();
            target = Some(tokens.next().expect("edge target"));
        }
        let mut attrs = BTreeMap::new();
        if tokens.peek().map(String::as_str) == Some("[") {
            tokens.next();
            loop {
                let key = tokens.next().expect("attribute");
                if key == "]" {
                    break;
                }
                if key == "," {
                    continue;
                }
                assert_eq!(tokens.next().as_deref(), Some("="), "after {key}");
                attrs.insert(key, tokens.next().expect("value"));
            }
        } else if tokens.peek().map(String::as_str) == Some("=") {
            tokens.next();
            tokens.next();
            assert_eq!(tokens.next().as_deref(), Some(";"));
            continue;
        }
        assert_eq!(tokens.next().as_deref(), Some(";"), "statement end");
        match target {
            Some(to) => {
                dot.edges.insert((first, to), attrs);
            }
            None if first == "node" || first == "edge" || first == "graph" => {}
            None => {
                dot.nodes.insert(first, attrs);
            }
        }
    }
    assert!(tokens.next().is_none(), "text after the graph");
    dot
}

/// DOT tokens: quoted strings (unescaped), identifiers, `->` and punctuation.
fn dot_tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '"' => {
                let mut s = String::new();
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => match chars.next() {
                            Some('n') => s.push('\n'),
                            Some(other) => s.push(other),
                            None => panic!("unterminated escape"),
                        },
                        other => s.push(other),
                    }
                }
                out.push(s);
            }
            '-' if chars.peek() == Some(&'>') => {
                chars.next();
                out.push("->".to_string());
            }
            '{' | '}' | '[' | ']' | '=' | ';' | ',' => out.push(c.to_string()),
            _ => {
                let mut s = c.to_string();
                while let Some(&c) = chars.peek() {
                    if c.is_alphanumeric() || c == '_' || c == '#' || c == '.' {
                        s.push(c);
                        chars.next();
                    } else {
                        break;
                    }
                }
                out.push(s);
            }
        }
    }
    out
}

fn plan_of(dir: &Path, extra: &[&str], server: &IndexServer, cache: &Path) -> serde_json::Value {
    let mut args = vec!["lock", path_str(dir), "--format", "json"];
    args.extend(extra);
    serde_json::from_str(&ok(&py2nix(&args, server, cache))).expect("JSON plan")
}

fn plan_edges(target: &serde_json::Value) -> BTreeSet<(String, String)> {
    let mut edges = BTreeSet::new();
    for (name, package) in target["packages"].as_object().expect("packages") {
        for dep in package["dependencies"].as_array().expect("dependencies") {
            edges.insert((name.clone(), dep.as_str().expect("name").to_string()));
        }
    }
    edges
}

/// Plans of schema 1 from another py2nix read: an older one lacks the fields added since
/// (`inputs`, `build-requires`), a newer one has fields this py2nix does not know, at every
/// level. A `src.kind` it does not know is refused, naming it.
#[test]
fn graph_diff_and_check_read_older_and_newer_plans_of_schema_1() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let mut extra = LINUX_311.to_vec();
    extra.extend(["--no-binary", "markupsafe"]);
    let plan = plan_of(&fixture("flask-pillow"), &extra, &server, cache.path());
    let out = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, value: &serde_json::Value| {
        let path = out.path().join(name);
        std::fs::write(&path, serde_json::to_string_pretty(value).expect("JSON")).expect("write");
        path
    };
    let mut older = plan.clone();
    older["generator"] = "py2nix 0.0.9".into();
    older.as_object_mut().expect("plan").remove("inputs");
    let target = &mut older["targets"]["x86_64-linux-cp311"];
    let markupsafe = target["packages"]["markupsafe"]
        .as_object_mut()
        .expect("markupsafe");
    assert!(markupsafe.remove("build-requires").is_some(), "{plan}");
    let mut newer = plan.clone();
    newer["generator"] = "py2nix 9.0.0".into();
    newer["future"] = serde_json::json!({"x": 1});
    let target = &mut newer["targets"]["x86_64-linux-cp311"];
    target["future-target-field"] = serde_json::json!([1]);
    target["packages"]["flask"]["future-package-field"] = "yes".into();
    target["packages"]["flask"]["src"]["mirrors"] = serde_json::json!(["https://m.example/"]);
    target["packages"]["markupsafe"]["src"]["future"] = true.into();
    let (older, newer) = (write("older.json", &older), write("newer.json", &newer));

    for file in [&older, &newer] {
        let text = ok(&offline_py2nix(
            &["graph", "--plan", path_str(file), "--format", "text"],
            None,
        ));
        assert!(text.contains("root flask "), "{text}");
        assert!(text.contains("flask -> werkzeug"), "{text}");
    }
    let diff = ok(&offline_py2nix(
        &["diff", path_str(&older), path_str(&newer)],
        None,
    ));
    assert!(diff.ends_with("no differences\n"), "{diff}");
    let check = offline_py2nix(&["check", "--file", path_str(&older)], None);
    assert_eq!(check.status.code(), Some(1));
    assert!(
        stdout(&check).contains("records no inputs (made by py2nix 0.0.9"),
        "{}",
        stdout(&check)
    );

    let mut unknown = plan.clone();
    unknown["targets"]["x86_64-linux-cp311"]["packages"]["flask"]["src"]["kind"] = "egg".into();
    let unknown = write("unknown.json", &unknown);
    let refused = offline_py2nix(&["graph", "--plan", path_str(&unknown)], None);
    assert_eq!(refused.status.code(), Some(1));
    assert!(stdout(&refused).is_empty());
    let message = stderr(&refused);
    assert!(
        message.contains("not a plan of schema 1 as this py2nix reads it")
            && message.contains("unknown variant `egg`"),
        "{message}"
    );
}

#[test]
fn graph_dot_parses_back_to_the_plan_with_cycles_and_sdists_marked() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let dir = fixture("cycle");
    let mut extra = LINUX_311.to_vec();
    extra.extend(["--no-binary", "requests,markupsafe"]);
    let plan = plan_of(&dir, &extra, &server, cache.path());
    let target = &plan["targets"]["x86_64-linux-cp311"];
    let mut args = vec!["graph", path_str(&dir)];
    args.extend(&extra);
    let dot = parse_dot(&ok(&py2nix(&args, &server, cache.path())));
    assert_eq!(dot.name, "x86_64-linux-cp311");
    let packages = target["packages"].as_object().expect("packages");
    assert_eq!(
        dot.nodes.keys().collect::<Vec<_>>(),
        packages.keys().collect::<Vec<_>>()
    );
    assert_eq!(
        dot.edges.keys().cloned().collect::<BTreeSet<_>>(),
        plan_edges(target)
    );
    let roots: BTreeSet<&str> = target["roots"]
        .as_array()
        .expect("roots")
        .iter()
        .map(|r| r.as_str().expect("root"))
        .collect();
    let mut breaks = 0;
    let mut built_count = 0;
    for (name, package) in packages {
        let attrs = &dot.nodes[name];
        let style = attrs.get("style").map(String::as_str).unwrap_or("");
        assert_eq!(
            style.contains("bold"),
            roots.contains(name.as_str()),
            "{name}"
        );
        let built = package.get("build-system").is_some();
        assert_eq!(style.contains("filled"), built, "{name}: {attrs:?}");
        built_count += usize::from(built);
        let label = &attrs["label"];
        let head = format!("{name}\n{}", package["version"].as_str().expect("v"));
        if built {
            let kind = package["src"]["kind"].as_str().expect("kind");
            assert_eq!(label, &format!("{head}\n({kind}, built)"));
        } else {
            assert_eq!(label, &head);
        }
        for broken in package
            .get("cycle-breaks")
            .and_then(|b| b.as_array())
            .into_iter()
            .flatten()
        {
            breaks += 1;
            let edge = &dot.edges[&(name.clone(), broken.as_str().expect("name").to_string())];
            assert_eq!(edge.get("style").map(String::as_str), Some("dashed"));
            assert_eq!(edge.get("label").map(String::as_str), Some("cycle"));
            assert_eq!(
                attrs.get("color").map(String::as_str),
                Some("red"),
                "{name} is on a cycle"
            );
        }
    }
    assert!(breaks > 0, "the cycle fixture breaks a cycle");
    assert_eq!(
        built_count, 2,
        "requests and markupsafe are built from their sdists"
    );
}

/// `nX["label"]` nodes, `nA --> nB` and `nA -. cycle .-> nB` edges, `class ids name` lines.
struct Mermaid {
    labels: BTreeMap<String, String>,
    edges: BTreeMap<(String, String), bool>,
    classes: BTreeMap<String, BTreeSet<String>>,
}

fn parse_mermaid(text: &str) -> Mermaid {
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("flowchart LR"));
    let mut ids = BTreeMap::new();
    let mut edges = BTreeMap::new();
    let mut classes: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in lines {
        let line = line.trim();
        if let Some((id, rest)) = line.split_once("[\"") {
            let label = rest.strip_suffix("\"]").expect("label ends the line");
            ids.insert(id.to_string(), label.to_string());
        } else if let Some((from, to)) = line.split_once(" --> ") {
            edges.insert((from.to_string(), to.to_string()), false);
        } else if let Some((from, to)) = line.split_once(" -. cycle .-> ") {
            edges.insert((from.to_string(), to.to_string()), true);
        } else if let Some(rest) = line.strip_prefix("class ") {
            let (members, class) = rest.split_once(' ').expect("class line");
            classes
                .entry(class.to_string())
                .or_default()
                .extend(members.split(',').map(str::to_string));
        } else {
            assert!(line.starts_with("classDef "), "unexpected line: {line}");
        }
    }
    // Name the nodes by package: the label's first word.
    let name = |id: &String| ids[id].split(' ').next().expect("name").to_string();
    Mermaid {
        labels: ids.iter().map(|(id, l)| (name(id), l.clone())).collect(),
        edges: edges
            .iter()
            .map(|((a, b), c)| ((name(a), name(b)), *c))
            .collect(),
        classes: classes
            .into_iter()
            .map(|(class, members)| (class, members.iter().map(name).collect()))
            .collect(),
    }
}

#[test]
fn graph_mermaid_and_why_from_a_python_nix() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let out = tempfile::tempdir().expect("tempdir");
    let nix = out.path().join("python.nix");
    let extra = [
        "--system",
        "x86_64-linux",
        "--system",
        "aarch64-darwin",
        "--python",
        "3.11",
    ];
    lock_into(
        &fixture("flask-pillow"),
        &nix,
        &extra,
        &server,
        cache.path(),
    );
    let plan = plan_of(&fixture("flask-pillow"), &extra, &server, cache.path());
    let target = &plan["targets"]["aarch64-darwin-cp311"];

    // Several targets: one must be chosen.
    let several = offline_py2nix(&["graph", "--plan", path_str(&nix)], None);
    assert_eq!(several.status.code(), Some(1));
    assert!(
        stderr(&several).contains("hint: choose one with --target ID"),
        "{}",
        stderr(&several)
    );

    let text = ok(&offline_py2nix(
        &[
            "graph",
            "--plan",
            path_str(&nix),
            "--target",
            "aarch64-darwin-cp311",
            "--format",
            "mermaid",
        ],
        None,
    ));
    let mermaid = parse_mermaid(&text);
    let packages = target["packages"].as_object().expect("packages");
    assert_eq!(
        mermaid.labels.keys().collect::<Vec<_>>(),
        packages.keys().collect::<Vec<_>>()
    );
    assert_eq!(
        mermaid.edges.keys().cloned().collect::<BTreeSet<_>>(),
        plan_edges(target)
    );
    let roots: BTreeSet<String> = target["roots"]
        .as_array()
        .expect("roots")
        .iter()
        .map(|r| r.as_str().expect("root").to_string())
        .collect();
    assert_eq!(mermaid.classes["root"], roots);
    assert_eq!(
        mermaid.labels["flask"],
        format!(
            "flask {}",
            packages["flask"]["version"].as_str().expect("v")
        )
    );

    // --why: every path starts at a root, follows edges, ends at the package.
    let why = ok(&offline_py2nix(
        &[
            "graph",
            "--plan",
            path_str(&nix),
            "--target",
            "aarch64-darwin-cp311",
            "--why",
            "MarkupSafe",
        ],
        None,
    ));
    let edges = plan_edges(target);
    let paths: Vec<Vec<&str>> = why.lines().map(|l| l.split(" -> ").collect()).collect();
    assert!(!paths.is_empty());
    for path in &paths {
        assert!(roots.contains(path[0]), "{path:?}");
        assert_eq!(path.last(), Some(&"markupsafe"));
        for pair in path.windows(2) {
            assert!(
                edges.contains(&(pair[0].to_string(), pair[1].to_string())),
                "{path:?}"
            );
        }
    }
    assert!(
        paths.contains(&vec!["flask", "werkzeug", "markupsafe"]),
        "{why}"
    );
    assert!(
        paths.contains(&vec!["flask", "jinja2", "markupsafe"]),
        "{why}"
    );

    // --why with a drawing format draws only the paths.
    let dot = parse_dot(&ok(&offline_py2nix(
        &[
            "graph",
            "--plan",
            path_str(&nix),
            "--target",
            "aarch64-darwin-cp311",
            "--why",
            "markupsafe",
            "--format",
            "dot",
        ],
        None,
    )));
    let on_paths: BTreeSet<String> = paths.iter().flatten().map(|s| s.to_string()).collect();
    assert_eq!(dot.nodes.keys().cloned().collect::<BTreeSet<_>>(), on_paths);

    let unknown = offline_py2nix(
        &[
            "graph",
            "--plan",
            path_str(&nix),
            "--target",
            "aarch64-darwin-cp311",
            "--why",
            "numpy",
        ],
        None,
    );
    assert_eq!(unknown.status.code(), Some(1));
    assert!(stderr(&unknown).contains("`numpy` is not installed on aarch64-darwin-cp311"));
}

/// Without --system and --python, graph plans one target: this machine's system (or
/// x86_64-linux) with the first CPython the project allows.
#[test]
fn graph_defaults_to_one_target() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let text = ok(&py2nix(
        &[
            "graph",
            path_str(&fixture("flask-pillow")),
            "--format",
            "text",
        ],
        &server,
        cache.path(),
    ));
    assert!(text.lines().any(|l| l == "flask -> werkzeug"), "{text}");
    let system = match (std::env::consts::ARCH, std::env::consts::OS) {
        ("aarch64", "linux") => "aarch64-linux",
        ("x86_64", "macos") => "x86_64-darwin",
        ("aarch64", "macos") => "aarch64-darwin",
        _ => "x86_64-linux",
    };
    let dot = parse_dot(&ok(&py2nix(
        &["graph", path_str(&fixture("flask-pillow"))],
        &server,
        cache.path(),
    )));
    assert_eq!(dot.name, format!("{system}-cp311"));
}

// ---------------------------------------------------------------- completions and docs

#[test]
fn completions_for_every_shell() {
    for (shell, marker) in [
        ("bash", "_py2nix()"),
        ("zsh", "#compdef py2nix"),
        ("fish", "complete -c py2nix"),
        ("elvish", "edit:completion:arg-completer[py2nix]"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let script = ok(&offline_py2nix(&["completions", shell], None));
        assert!(script.contains(marker), "{shell}: {marker}");
        for word in ["lock", "check", "diff", "graph", "no-binary"] {
            assert!(script.contains(word), "{shell} lacks {word}");
        }
    }
    let bad = offline_py2nix(&["completions", "tcsh"], None);
    assert_eq!(bad.status.code(), Some(1));
}

/// docs/cli.md and the man pages are generated from the clap definitions; this fails when
/// the committed files are out of date.
#[test]
fn the_generated_docs_are_up_to_date() {
    let docs = repo_root().join("docs");
    let output = offline_py2nix(&["generate-docs", "--check", path_str(&docs)], None);
    assert!(
        output.status.success(),
        "{}\nRegenerate with: cargo run -p py2nix -- generate-docs docs",
        stderr(&output)
    );
    let cli = std::fs::read_to_string(docs.join("cli.md")).expect("docs/cli.md");
    for heading in [
        "## Exit codes",
        "## py2nix lock",
        "## py2nix check",
        "## py2nix diff",
        "## py2nix graph",
    ] {
        assert!(cli.contains(heading), "docs/cli.md lacks {heading}");
    }
    let man = std::fs::read_to_string(docs.join("py2nix.1")).expect("docs/py2nix.1");
    assert!(
        man.starts_with(".ie \\n(.g .ds Aq \\(aq") || man.contains(".TH py2nix 1"),
        "{man}"
    );

    // And the check notices a stale file.
    let stale = tempfile::tempdir().expect("tempdir");
    ok(&offline_py2nix(
        &["generate-docs", path_str(stale.path())],
        None,
    ));
    append(&stale.path().join("cli.md"), "edited\n");
    let output = offline_py2nix(&["generate-docs", "--check", path_str(stale.path())], None);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("cli.md"), "{}", stderr(&output));
    assert!(stderr(&output)
        .contains("hint: regenerate them with `cargo run -p py2nix -- generate-docs"));
}

// ---------------------------------------------------------------- manners

#[test]
fn several_locks_give_a_hint_naming_one() {
    let dir = project_copy("flask-pillow");
    std::fs::write(dir.path().join("uv.lock"), "version = 1\n").expect("write");
    let output = offline_py2nix(&["lock", path_str(dir.path())], None);
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.contains("holds several lock files: poetry.lock, uv.lock"),
        "{message}"
    );
    assert!(
        message.contains("hint: choose one with --lock, e.g. `--lock poetry.lock`"),
        "{message}"
    );
}

#[test]
fn unknown_groups_and_offline_misses_give_hints() {
    let cache = tempfile::tempdir().expect("tempdir");
    let dir = fixture("groups");
    let output = py2nix_with_env(
        &["lock", path_str(&dir), "--group", "nope", "--offline"],
        cache.path(),
        &[],
        None,
    );
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.contains("the project has no group `nope`"),
        "{message}"
    );
    assert!(
        message.contains("hint: name one of the groups it has, or take them all with --all-groups"),
        "{message}"
    );

    let output = py2nix_with_env(
        &["lock", path_str(&dir), "--offline"],
        cache.path(),
        &[],
        None,
    );
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.contains("--offline: the cache has no page"),
        "{message}"
    );
    assert!(
        message.contains("hint: run once without --offline to fill the cache"),
        "{message}"
    );
}

#[test]
fn colour_follows_the_flag_and_no_color() {
    let missing = "/no/such/project";
    let never = offline_py2nix(&["lock", missing, "--color", "never"], None);
    assert!(!stderr(&never).contains('\u{1b}'));
    assert!(stderr(&never).starts_with("error: "));
    let always = offline_py2nix(&["lock", missing, "--color", "always"], None);
    assert!(stderr(&always).contains("\u{1b}["), "{}", stderr(&always));
    // auto: stderr is a pipe here, and NO_COLOR is set besides.
    let cache = tempfile::tempdir().expect("tempdir");
    let auto = py2nix_with_env(&["lock", missing], cache.path(), &[("NO_COLOR", "1")], None);
    assert!(!stderr(&auto).contains('\u{1b}'));
    // A usage error follows --color too.
    let usage = offline_py2nix(&["lock", "--color", "always", "--frobnicate"], None);
    assert_eq!(usage.status.code(), Some(1));
    assert!(stderr(&usage).contains("\u{1b}["), "{}", stderr(&usage));
}

#[test]
fn quiet_hides_warnings_and_verbose_explains_markers_and_wheels() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let dir = fixture("markers-extras");
    let mut args = vec!["lock", path_str(&dir), "--format", "json", "-v"];
    args.extend(LINUX_311);
    let output = py2nix(&args, &server, cache.path());
    let log = stderr(&ok_output(output));
    assert!(
        log.contains("x86_64-linux-cp311: colorama left out: the project needs it only when `platform_system == 'Windows'`, which does not hold here"),
        "{log}"
    );
    assert!(
        log.contains("x86_64-linux-cp311: pywin32 left out:"),
        "{log}"
    );
    assert!(
        log.lines().any(
            |l| l.starts_with("py2nix: x86_64-linux-cp311: requests: requests-")
                && l.contains(", the best of the 1 wheels (of 1) whose tags fit")
        ),
        "{log}"
    );
    // Not a terminal: no progress bars, no control characters.
    assert!(!log.contains('\r') && !log.contains('\u{1b}'), "{log:?}");

    // -q: nothing on stderr for a successful run with warnings.
    let flask = fixture("flask-pillow");
    let mut args = vec!["lock", path_str(&flask), "--no-binary", "pillow", "-q"];
    args.extend(LINUX_311);
    let quiet = py2nix(&args, &server, cache.path());
    assert!(quiet.status.success());
    assert_eq!(stderr(&quiet), "");
    // Without -q and -v, a successful run on a pipe prints quiet lines, no bar.
    let mut args = vec!["lock", path_str(&flask)];
    args.extend(LINUX_311);
    let plain = py2nix(&args, &server, cache.path());
    let plain_err = stderr(&plain);
    let lines: Vec<&str> = plain_err.lines().collect();
    assert!(!lines.is_empty(), "no quiet lines");
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with("py2nix: looked up ") && l.ends_with(" project pages")),
        "{plain_err:?}"
    );
    assert!(!plain_err.contains('\r') && !plain_err.contains('\u{1b}'));
}

fn ok_output(output: Output) -> Output {
    assert!(output.status.success(), "{}", stderr(&output));
    output
}

/// Closing stdout early is not an error: exit 0, no message.
#[test]
fn a_broken_pipe_is_not_an_error() {
    for args in [
        vec!["completions".to_string(), "zsh".to_string()],
        vec![
            "diff".to_string(),
            diff_fixture("old").display().to_string(),
            diff_fixture("new").display().to_string(),
        ],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_py2nix"))
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        drop(child.stdout.take());
        let output = child.wait_with_output().expect("wait");
        assert_eq!(
            output.status.code(),
            Some(0),
            "{args:?}: {}",
            stderr(&output)
        );
        assert_eq!(stderr(&output), "", "{args:?}");
    }
}

/// A TOML syntax error in any lock shows the line and a caret under the fault.
#[test]
fn toml_errors_show_the_line_and_a_caret() {
    for (name, pyproject) in [
        ("poetry.lock", true),
        ("uv.lock", false),
        ("pdm.lock", true),
        ("pylock.toml", false),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        if pyproject {
            std::fs::copy(
                fixture("flask-pillow").join("pyproject.toml"),
                dir.path().join("pyproject.toml"),
            )
            .expect("copy");
        }
        std::fs::write(
            dir.path().join(name),
            "# a lock\n[[package]]\nname = \"flask\"\nversion = 3.0\"\n",
        )
        .expect("write");
        let output = offline_py2nix(&["lock", path_str(dir.path())], None);
        assert_eq!(output.status.code(), Some(1), "{name}");
        assert!(stdout(&output).is_empty());
        let message = stderr(&output);
        assert!(
            message.contains(&format!(
                "failed to parse `{}",
                dir.path().join(name).display()
            )),
            "{name}: {message}"
        );
        assert!(message.contains("4 | version = 3.0\""), "{name}: {message}");
        assert!(
            message
                .lines()
                .any(|l| l.trim_start().starts_with('|') && l.contains('^')),
            "{name}: {message}"
        );
    }
}

/// On a terminal, looking up pages shows a bar with counts (`script` gives py2nix a pty).
#[test]
fn a_terminal_gets_a_progress_bar_with_counts() {
    let server = crate::common::IndexServer::start(crate::common::Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let log = cache.path().join("tty.log");
    let command = format!(
        "PY2NIX_INDEX_URL={} '{}' lock '{}' --cache-dir '{}' --system x86_64-linux --python 3.11 > /dev/null",
        server.url,
        env!("CARGO_BIN_EXE_py2nix"),
        crate::common::fixture("flask-pillow").display(),
        cache.path().join("cache").display(),
    );
    let status = std::process::Command::new("script")
        .args(["-qec", &command])
        .arg(&log)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("run script(1)");
    assert!(status.success());
    let text = String::from_utf8_lossy(&std::fs::read(&log).expect("log")).replace('\r', "\n");
    let bar = text
        .lines()
        .rfind(|l| l.contains("looking up project pages"))
        .unwrap_or_else(|| panic!("no progress bar in {text:?}"));
    let counts = bar
        .split_whitespace()
        .find(|w| w.contains('/') && w.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .unwrap_or_else(|| panic!("no count in {bar:?}"));
    let (done, total) = counts.split_once('/').expect("n/m");
    assert!(total.parse::<u32>().expect("total") > 0, "{bar}");
    assert!(done.parse::<u32>().expect("done") <= total.parse::<u32>().expect("total"));
}
