//! Hostile and broken input.
//!
//! - The broken-input corpus, `tests/corpus/<reader>/`: each case is a file run through the
//!   real binary in a project directory of its own, with the message fragments and exit code
//!   its directory's `expect.toml` gives (see `tests/corpus/README.md`).
//! - Inputs made here because they are too big to commit: files of many megabytes and deeply
//!   nested tables.
//! - The fuzz corpus, `fuzz/corpus/<target>/`: replayed through the fuzz targets' checks
//!   (`fuzz/src/readers.rs`), then a fixed number of deterministic mutants of it, so every
//!   run of the suite fuzzes each reader a little and every finding stays a regression test.
//!   (The Nix printer's corpus is replayed in crates/py2nix-nix/tests/printer_fuzz.rs.)

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

use crate::common::{repo_root, stderr};
use crate::network::{command_for, healthy, run_bounded, FlakyServer};

#[path = "../../fuzz/src/archives.rs"]
mod archives;
#[path = "../../fuzz/src/mutate.rs"]
mod mutate;
#[path = "../../fuzz/src/readers.rs"]
mod readers;

/// One case of `expect.toml`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    /// The name the case's file gets in the project directory.
    #[serde(rename = "as")]
    name: Option<String>,
    /// Other files of the project: their name there, and the file of this directory.
    #[serde(default)]
    with: BTreeMap<String, String>,
    /// Arguments after `lock DIR` (the target is x86_64-linux, CPython 3.11).
    #[serde(default)]
    args: Vec<String>,
    /// Plan the default CPython versions (those `requires-python` allows) instead of 3.11.
    #[serde(default)]
    default_pythons: bool,
    exit: Option<i32>,
    /// Fragments stderr must contain.
    #[serde(default)]
    stderr: Vec<String>,
    /// For a plan: the packages of its x86_64-linux-cp311 target.
    packages: Option<Vec<String>>,
    /// Why the case is here (documentation only).
    #[serde(default)]
    why: String,
}

impl Case {
    /// This case with the directory's defaults filled in.
    fn or(self, defaults: &Case) -> Case {
        let mut with = defaults.with.clone();
        with.extend(self.with);
        Case {
            name: self.name.or_else(|| defaults.name.clone()),
            with,
            args: if self.args.is_empty() {
                defaults.args.clone()
            } else {
                self.args
            },
            default_pythons: self.default_pythons || defaults.default_pythons,
            exit: self.exit.or(defaults.exit),
            stderr: self.stderr,
            packages: self.packages,
            why: self.why,
        }
    }
}

fn corpus_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(repo_root().join("tests/corpus"))
        .expect("tests/corpus")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("expect.toml").is_file())
        .collect();
    dirs.sort();
    dirs
}

/// Runs py2nix in a fresh project directory holding `files` (name there, content), on
/// x86_64-linux with CPython 3.11 or (`default_pythons`) the default versions.
fn run_project(
    files: &[(String, Vec<u8>)],
    args: &[String],
    default_pythons: bool,
    server: &FlakyServer,
) -> Output {
    let project = tempfile::tempdir().expect("tempdir");
    for (name, content) in files {
        let path = project.path().join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, content).expect("write case");
    }
    let cache = tempfile::tempdir().expect("tempdir");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let python = (!default_pythons).then_some("3.11");
    let command = command_for(
        project.path(),
        &server.index_url(),
        cache.path(),
        &args,
        python,
    );
    run_bounded(command, Duration::from_secs(120))
}

#[test]
fn every_broken_input_has_its_message_and_exit_code() {
    let server = FlakyServer::start(healthy);
    let mut problems = Vec::new();
    let mut ran = 0;
    for dir in corpus_dirs() {
        let text = std::fs::read_to_string(dir.join("expect.toml")).expect("expect.toml");
        let mut table: BTreeMap<String, Case> = toml::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.join("expect.toml").display()));
        let defaults = table.remove("defaults").unwrap_or_default();
        let listed: Vec<String> = std::fs::read_dir(&dir)
            .expect("list")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|name| name != "expect.toml")
            .collect();
        let support: Vec<&String> = defaults
            .with
            .values()
            .chain(table.values().flat_map(|c| c.with.values()))
            .collect();
        for name in &listed {
            if !table.contains_key(name) && !support.contains(&name) {
                problems.push(format!("{}/{name}: no case in expect.toml", dir.display()));
            }
        }
        for (file, case) in table {
            let case = case.or(&defaults);
            let label = format!(
                "{}/{file}",
                dir.file_name().expect("name").to_string_lossy()
            );
            let Some(exit) = case.exit else {
                problems.push(format!("{label}: no exit code"));
                continue;
            };
            assert!(!case.why.is_empty(), "{label}: say why the case is there");
            let mut files = vec![(
                case.name.clone().unwrap_or_else(|| file.clone()),
                std::fs::read(dir.join(&file)).unwrap_or_else(|e| panic!("{label}: {e}")),
            )];
            for (name, source) in &case.with {
                files.push((
                    name.clone(),
                    std::fs::read(dir.join(source)).expect("support file"),
                ));
            }
            let output = run_project(&files, &case.args, case.default_pythons, &server);
            ran += 1;
            let message = stderr(&output);
            if output.status.code() != Some(exit) {
                problems.push(format!(
                    "{label}: exit {:?}, expected {exit}:\n{message}",
                    output.status.code()
                ));
                continue;
            }
            if exit != 0 && !output.stdout.is_empty() {
                problems.push(format!("{label}: a failure printed a plan"));
            }
            if exit == 0 {
                let plan: serde_json::Value = serde_json::from_slice(&output.stdout)
                    .unwrap_or_else(|e| panic!("{label}: not a plan: {e}"));
                let planned: Vec<String> = plan["targets"]["x86_64-linux-cp311"]["packages"]
                    .as_object()
                    .map(|p| p.keys().cloned().collect())
                    .unwrap_or_default();
                match &case.packages {
                    Some(expected) if expected != &planned => problems.push(format!(
                        "{label}: planned {planned:?}, expected {expected:?}"
                    )),
                    None => problems.push(format!("{label}: a plan, but no `packages` to check")),
                    _ => {}
                }
            }
            for fragment in &case.stderr {
                if !message.contains(fragment.as_str()) {
                    problems.push(format!("{label}: stderr lacks `{fragment}`:\n{message}"));
                }
            }
            if message.contains("panicked") || message.contains("RUST_BACKTRACE") {
                problems.push(format!("{label}: py2nix panicked:\n{message}"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
    assert!(ran >= 40, "only {ran} cases ran");
}

/// A poetry project whose `poetry.lock` is `lock` (beside the corpus's pyproject.toml).
fn poetry_files(lock: Vec<u8>) -> Vec<(String, Vec<u8>)> {
    let corpus = repo_root().join("tests/corpus/poetry");
    vec![
        ("poetry.lock".into(), lock),
        (
            "pyproject.toml".into(),
            std::fs::read(corpus.join("pyproject.toml")).expect("pyproject"),
        ),
    ]
}

fn valid_lock() -> String {
    std::fs::read_to_string(repo_root().join("tests/corpus/poetry/valid.lock")).expect("valid.lock")
}

#[test]
fn files_of_many_megabytes_are_read_or_refused_cleanly() {
    let server = FlakyServer::start(healthy);
    // 32 MiB of comments, then the lock: read whole, the plan as usual.
    let padding =
        "# padding padding padding padding padding padding padding padding\n".repeat(512 * 1024);
    let big = format!("{padding}{}", valid_lock());
    assert!(big.len() > 32 << 20);
    let output = run_project(&poetry_files(big.into_bytes()), &[], false, &server);
    assert!(output.status.success(), "{}", stderr(&output));
    // A 16 MiB string where a package's description goes.
    let description = format!("description = \"{}\"", "x".repeat(16 << 20));
    let big = valid_lock().replacen("description = \"\"", &description, 1);
    let output = run_project(&poetry_files(big.into_bytes()), &[], false, &server);
    assert!(output.status.success(), "{}", stderr(&output));
    // 20,000 packages that nothing needs: read, and left out of the plan.
    let mut many = valid_lock();
    let at = many.find("\n[metadata]").expect("metadata");
    let extra: String = (0..20_000)
        .map(|i| format!("\n[[package]]\nname = \"filler-{i}\"\nversion = \"1.0\"\ndescription = \"\"\noptional = false\npython-versions = \"*\"\ngroups = [\"main\"]\nfiles = []\n"))
        .collect();
    many.insert_str(at, &extra);
    let output = run_project(&poetry_files(many.into_bytes()), &[], false, &server);
    assert!(output.status.success(), "{}", stderr(&output));
    let plan: serde_json::Value = serde_json::from_slice(&output.stdout).expect("plan");
    assert_eq!(
        plan["targets"]["x86_64-linux-cp311"]["packages"]
            .as_object()
            .expect("packages")
            .len(),
        2
    );
    // A requirements file of 8 MiB of one line continued with `\`: refused or read, never a hang.
    let requirements = format!("{}alpha==1.0\n", "\\\n".repeat(4 << 20));
    let output = run_project(
        &[("requirements.txt".into(), requirements.into_bytes())],
        &[],
        false,
        &server,
    );
    let message = stderr(&output);
    assert!(!message.contains("panicked"), "{message}");
    assert!(matches!(output.status.code(), Some(0 | 1)), "{message}");
}

#[test]
fn deeply_nested_tables_are_refused_without_a_crash() {
    let server = FlakyServer::start(healthy);
    let depth = 100_000;
    let nested = [
        (
            "arrays",
            format!("x = {}{}\n", "[".repeat(depth), "]".repeat(depth)),
        ),
        (
            "inline tables",
            format!("x = {}1{}\n", "{a = ".repeat(depth), "}".repeat(depth)),
        ),
        (
            "dotted keys",
            format!("{} = 1\n", vec!["a"; depth].join(".")),
        ),
        (
            "table headers",
            format!("[{}]\n", vec!["a"; depth].join(".")),
        ),
    ];
    for (what, text) in nested {
        for (name, with_lock) in [
            ("poetry.lock", true),
            ("pyproject.toml", false),
            ("uv.lock", true),
            ("pylock.toml", true),
            ("pdm.lock", true),
        ] {
            let mut files = if with_lock && name == "poetry.lock" {
                poetry_files(format!("{text}{}", valid_lock()).into_bytes())
            } else if name == "pyproject.toml" {
                let mut files = poetry_files(valid_lock().into_bytes());
                files[1].1 = format!("{text}\n[project]\nname = \"x\"\n").into_bytes();
                files
            } else {
                vec![(
                    name.to_string(),
                    format!("{text}{}", "version = 1\n").into_bytes(),
                )]
            };
            if name == "pdm.lock" {
                files.push((
                    "pyproject.toml".into(),
                    b"[project]\nname = \"x\"\n".to_vec(),
                ));
            }
            let output = run_project(&files, &[], false, &server);
            let message = stderr(&output);
            assert_eq!(output.status.code(), Some(1), "{what} in {name}: {message}");
            assert!(
                message.contains("failed to parse"),
                "{what} in {name}: {message}"
            );
            assert!(output.stdout.is_empty());
        }
    }
}

/// How many mutants each reader gets per run of the suite: `PY2NIX_FUZZ_ITERATIONS`, else
/// 20,000 (a few seconds a reader in a debug build).
fn iterations() -> usize {
    std::env::var("PY2NIX_FUZZ_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000)
}

/// Replays `target`'s corpus and mutants on a thread with the stack py2nix's main thread has
/// (8 MiB, where libtest gives a test 2 MiB).
fn fuzz_replay(target: &'static str, check: fn(&[u8]), seed: u64) {
    fuzz_replay_n(target, check, seed, iterations());
}

fn fuzz_replay_n(target: &'static str, check: fn(&[u8]), seed: u64, iterations: usize) {
    let dir = repo_root().join("fuzz/corpus").join(target);
    let failed = std::env::temp_dir()
        .join("py2nix-fuzz-failures")
        .join(target);
    let ran = std::thread::Builder::new()
        .name(format!("fuzz {target}"))
        .stack_size(8 << 20)
        .spawn(move || mutate::replay_and_mutate(&dir, &check, iterations, seed, &failed))
        .expect("spawn")
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    eprintln!("{target}: {ran} inputs");
}

#[test]
fn fuzz_corpus_poetry_lock() {
    fuzz_replay("poetry_lock", readers::poetry_lock, 1);
}

#[test]
fn fuzz_corpus_uv_lock() {
    fuzz_replay("uv_lock", readers::uv_lock, 2);
}

#[test]
fn fuzz_corpus_pylock() {
    fuzz_replay("pylock", readers::pylock, 3);
}

#[test]
fn fuzz_corpus_pdm_lock() {
    fuzz_replay("pdm_lock", readers::pdm_lock, 4);
}

#[test]
fn fuzz_corpus_requirements() {
    fuzz_replay("requirements", readers::requirements, 5);
}

#[test]
fn fuzz_corpus_pyproject() {
    fuzz_replay("pyproject", readers::pyproject, 6);
}

#[test]
fn fuzz_corpus_filename() {
    fuzz_replay("filename", readers::filename, 7);
}

#[test]
fn fuzz_corpus_simple_html() {
    fuzz_replay("simple_html", readers::simple_html, 8);
}

#[test]
fn fuzz_corpus_simple_json() {
    fuzz_replay("simple_json", readers::simple_json, 9);
}

/// The archive readers: each input also runs with its header size fields rewritten (up to
/// eight to twelve variants, see fuzz/src/archives.rs), so an eighth of the mutants covers as
/// many reads as the other targets.
#[test]
fn fuzz_corpus_tar() {
    fuzz_replay_n("tar", archives::tar, 11, iterations() / 8);
}

#[test]
fn fuzz_corpus_zip() {
    fuzz_replay_n("zip", archives::zip, 12, iterations() / 8);
}

#[test]
fn the_fuzz_checks_catch_what_they_claim_to() {
    // A wheel name and its version agree; a page never keeps the password of its URL.
    readers::filename(b"x-1.0-py3-none-any.whl");
    readers::simple_html(b"<a href=\"https://other:pw@example.org/f.whl#sha256=AB\">f.whl</a>");
    let corpus = repo_root().join("fuzz/corpus/filename");
    let failed = std::env::temp_dir().join("py2nix-fuzz-failures/self-test");
    // A check that fails, and one whose panic the code under test catches itself (as
    // py2nix-lock does around pep508_rs): both are reported.
    type Check<'a> = &'a (dyn Fn(&[u8]) + Sync);
    let planted: [Check; 2] = [&|_: &[u8]| panic!("planted"), &|_: &[u8]| {
        let _ = std::panic::catch_unwind(|| panic!("planted and caught"));
    }];
    for check in planted {
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            mutate::replay_and_mutate(&corpus, check, 0, 0, &failed)
        }));
        assert!(caught.is_err(), "a failing check is reported");
    }
    let _ = std::fs::remove_dir_all(&failed);
}

/// Markers nested 50,000 deep, in every reader: pep508_rs parses markers recursively, and the
/// stack overflowed (an abort: no message, no exit code) before py2nix refused such markers.
#[test]
fn deeply_nested_markers_are_refused_without_a_crash() {
    let server = FlakyServer::start(healthy);
    let deep = format!(
        "{}python_version > '3'{}",
        "(".repeat(50_000),
        ")".repeat(50_000)
    );
    let corpus = repo_root().join("tests/corpus");
    let read = |path: &str| std::fs::read_to_string(corpus.join(path)).expect("corpus file");
    let replace = |path: &str, from: &str, to: &str| {
        let text = read(path);
        assert!(text.contains(from), "{path}: {from}");
        text.replacen(from, to, 1).into_bytes()
    };
    let pyproject = |dir: &str| {
        (
            "pyproject.toml".to_string(),
            read(&format!("{dir}/pyproject.toml")).into_bytes(),
        )
    };
    type Files = Vec<(String, Vec<u8>)>;
    let cases: Vec<(&str, Files)> = vec![
        (
            "poetry.lock",
            vec![
                (
                    "poetry.lock".into(),
                    replace(
                        "poetry/valid.lock",
                        "beta = \"*\"",
                        &format!("beta = {{version = \"*\", markers = \"{deep}\"}}"),
                    ),
                ),
                pyproject("poetry"),
            ],
        ),
        (
            "pyproject.toml",
            vec![
                ("poetry.lock".into(), read("poetry/valid.lock").into_bytes()),
                (
                    "pyproject.toml".into(),
                    replace(
                        "poetry/pyproject.toml",
                        "\"alpha==1.0\"",
                        &format!("\"alpha==1.0; {deep}\""),
                    ),
                ),
            ],
        ),
        (
            "uv.lock",
            vec![
                (
                    "uv.lock".into(),
                    replace(
                        "uv/valid.lock",
                        "{ name = \"beta\" }",
                        &format!("{{ name = \"beta\", marker = \"{deep}\" }}"),
                    ),
                ),
                pyproject("uv"),
            ],
        ),
        (
            "pylock.toml",
            vec![(
                "pylock.toml".into(),
                replace(
                    "pylock/valid.toml",
                    "version = \"2.0\"\n",
                    &format!("version = \"2.0\"\nmarker = \"{deep}\"\n"),
                ),
            )],
        ),
        (
            "pdm.lock",
            vec![
                (
                    "pdm.lock".into(),
                    replace(
                        "pdm/valid.lock",
                        "\"beta>=2\"",
                        &format!("\"beta>=2; {deep}\""),
                    ),
                ),
                pyproject("pdm"),
            ],
        ),
        (
            "requirements.txt",
            vec![(
                "requirements.txt".into(),
                replace(
                    "requirements/valid.txt",
                    "beta==2.0 ",
                    &format!("beta==2.0 ; {deep} "),
                ),
            )],
        ),
    ];
    for (what, files) in cases {
        let output = run_project(&files, &[], false, &server);
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{what}: {message}");
        assert!(
            message.contains("parentheses nest deeper than 32"),
            "{what}: {message}"
        );
    }
}
