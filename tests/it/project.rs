//! The project itself (issue: package the project): real projects locked by Poetry 1.8 and 2,
//! uv and PDM (`fixtures/project/`) plan their own package with its scripts and pinned build
//! system, hold the lockers' own package sets per group, pass the Nix checks, and build with
//! pip from their trees, offline, with only the planned build packages; their scripts run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{
    build_closure_sources, check_invariants, copy_tree, download_checked, fixture_dir, ok, py2nix,
    sri_to_hex, stderr, strings, IndexServer, Mode,
};

fn path_str(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

const LINUX_311: [&str; 4] = ["--system", "x86_64-linux", "--python", "3.11"];
const ID: &str = "x86_64-linux-cp311";

/// Each fixture: its directory, the project's package, its scripts, its development groups.
const PROJECTS: [(&str, &str, &[&str], &[&str]); 7] = [
    ("poetry2-imgapp", "imgapp", &["imgapp"], &["dev"]),
    ("poetry18-imgapp", "imgapp", &["imgapp"], &["dev"]),
    ("uv-app", "uvapp", &["uvapp", "uvapp-gui"], &["dev"]),
    ("pdm-app", "pdmapp", &["pdmapp"], &["dev"]),
    ("uv-vcs-version", "vcsapp", &["vcsapp"], &["dev"]),
    ("poetry-dynamic-version", "dynapp", &["dynapp"], &["dev"]),
    ("uv-workspace-app", "wsapp", &["wsapp"], &["dev"]),
];

/// A copy of a project fixture in a fresh directory (a git repository tagged `tag` when
/// given, as the project's own checkout would be), so that plans written beside it have
/// paths relative to it.
fn project_copy(name: &str, tag: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_tree(&fixture_dir(&format!("project/{name}")), dir.path());
    if let Some(tag) = tag {
        let git = |args: &[&str]| {
            let output = Command::new("git")
                .arg("-C")
                .arg(dir.path())
                .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
                .args(["-c", "init.defaultBranch=main"])
                .args(args)
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .output()
                .expect("git");
            assert!(output.status.success(), "git {args:?}: {output:?}");
        };
        git(&["init", "-q"]);
        git(&["add", "-A"]);
        git(&["commit", "-q", "-m", "fixture"]);
        git(&["tag", tag]);
    }
    dir
}

/// The JSON plan of a project copy for x86_64-linux / 3.11, written into the copy.
fn plan_of(dir: &Path, server: &IndexServer, cache: &Path, extra: &[&str]) -> serde_json::Value {
    let out = dir.join("plan.json");
    let mut args = vec![
        "lock",
        path_str(dir),
        "--format",
        "json",
        "-o",
        path_str(&out),
    ];
    args.extend(LINUX_311);
    args.extend(extra);
    ok(&py2nix(&args, server, cache));
    serde_json::from_str(&std::fs::read_to_string(&out).expect("plan")).expect("JSON plan")
}

/// `name==version` lines of a locker's export that apply on x86_64-linux (no Windows
/// markers), without `-e` lines.
fn export_set(path: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(path)
        .expect("export")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#') && !line.starts_with("-e"))
        .filter(|line| !line.contains("win32") && !line.contains("Windows"))
        .map(|line| {
            let requirement = line.split(';').next().expect("line").trim();
            let (name, version) = requirement.split_once("==").expect("a pin");
            (normalise(name), version.trim().to_string())
        })
        .collect()
}

fn normalise(name: &str) -> String {
    let mut out = String::new();
    for c in name.trim().chars() {
        let c = if matches!(c, '_' | '.') {
            '-'
        } else {
            c.to_ascii_lowercase()
        };
        if c != '-' || !out.ends_with('-') {
            out.push(c);
        }
    }
    out
}

/// The index packages of a selection, with their versions.
fn index_versions(target: &serde_json::Value, names: &[String]) -> BTreeMap<String, String> {
    names
        .iter()
        .filter(|name| target["packages"][name.as_str()]["src"]["kind"] != "path")
        .map(|name| {
            let version = target["packages"][name.as_str()]["version"]
                .as_str()
                .expect("version");
            (name.clone(), version.to_string())
        })
        .collect()
}

#[test]
fn every_project_fixture_plans_its_project_and_its_lockers_sets() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    for (fixture, package, scripts, dev_groups) in PROJECTS {
        let tag = match fixture {
            "uv-vcs-version" => Some("v1.2.3"),
            "poetry-dynamic-version" => Some("v0.4.2"),
            _ => None,
        };
        let copy = project_copy(fixture, tag);
        let plan = plan_of(copy.path(), &server, cache.path(), &[]);
        check_invariants(&plan);
        let project = &plan["project"];
        assert_eq!(project["package"], package, "{fixture}");
        assert_eq!(strings(&project["dev-groups"]), dev_groups, "{fixture}");
        let target = &plan["targets"][ID];
        let own = &target["packages"][package];
        assert_eq!(own["src"]["kind"], "path", "{fixture}");
        assert_eq!(own["src"]["format"], "tree", "{fixture}");
        assert_eq!(own["src"]["path"], ".", "{fixture}");
        assert_eq!(own["src"]["editable"], true, "{fixture}");
        let mut planned_scripts: Vec<String> = own["scripts"]
            .as_object()
            .into_iter()
            .chain(own["gui-scripts"].as_object())
            .flat_map(|m| m.keys().cloned())
            .collect();
        planned_scripts.sort();
        assert_eq!(planned_scripts, scripts, "{fixture}");
        // The project is no root and in no selection: `env` is its dependencies.
        assert!(!strings(&target["roots"]).contains(&package.to_string()));
        let main = strings(&target["selections"]["main"]);
        assert!(!main.contains(&package.to_string()), "{fixture}");
        // Its dependencies are the main dependencies that apply.
        for dependency in strings(&own["dependencies"]) {
            assert!(main.contains(&dependency), "{fixture}: {dependency}");
        }
        // The lockers' own exports: the main dependencies, and with the development groups.
        let dir = fixture_dir(&format!("project/{fixture}"));
        assert_eq!(
            index_versions(target, &main),
            export_set(&dir.join("export-main.txt")),
            "{fixture}: main"
        );
        let mut dev = main.clone();
        for group in dev_groups {
            dev.extend(strings(&target["selections"]["groups"][group]));
        }
        assert_eq!(
            index_versions(target, &dev),
            export_set(&dir.join("export-dev.txt")),
            "{fixture}: main and the development groups"
        );
        for (file, kind, name) in [
            ("export-yaml.txt", "extras", "yaml"),
            ("export-docs.txt", "groups", "docs"),
        ] {
            if dir.join(file).is_file() {
                let mut chosen = main.clone();
                chosen.extend(strings(&target["selections"][kind][name]));
                assert_eq!(
                    index_versions(target, &chosen),
                    export_set(&dir.join(file)),
                    "{fixture}: {name}"
                );
            }
        }
    }
}

#[test]
fn a_workspace_plans_every_member_with_its_scripts() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let copy = project_copy("uv-workspace-app", None);
    let plan = plan_of(copy.path(), &server, cache.path(), &[]);
    assert_eq!(
        strings(&plan["project"]["members"]),
        ["ws-core", "ws-util", "wsapp"]
    );
    let target = &plan["targets"][ID];
    for (member, path) in [
        ("ws-core", "packages/ws-core"),
        ("ws-util", "packages/ws-util"),
    ] {
        let package = &target["packages"][member];
        assert_eq!(package["src"]["path"], path);
        assert_eq!(package["src"]["editable"], true);
        assert!(strings(&target["selections"]["main"]).contains(&member.to_string()));
    }
    assert!(
        strings(&target["packages"]["ws-util"]["dependencies"]).contains(&"ws-core".to_string())
    );
    // Each member is built with its own build system, pinned.
    assert_eq!(
        strings(&target["packages"]["ws-core"]["build-requires"]),
        ["hatchling"]
    );
    assert_eq!(
        strings(&target["packages"]["ws-util"]["build-requires"]),
        ["setuptools"]
    );
    assert_eq!(
        strings(&target["packages"]["wsapp"]["build-requires"]),
        ["hatchling"]
    );
}

#[test]
fn a_dynamic_version_comes_from_the_git_tag() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let copy = project_copy("uv-vcs-version", Some("v1.2.3"));
    let plan = plan_of(copy.path(), &server, cache.path(), &[]);
    assert_eq!(
        plan["targets"][ID]["packages"]["vcsapp"]["version"],
        "1.2.3"
    );
    // Without a repository there is no version to find: 0, with a warning.
    let bare = project_copy("uv-vcs-version", None);
    let out = bare.path().join("plan.json");
    let mut args = vec![
        "lock",
        path_str(bare.path()),
        "--format",
        "json",
        "-o",
        path_str(&out),
    ];
    args.extend(LINUX_311);
    let output = py2nix(&args, &server, cache.path());
    ok(&output);
    assert!(
        stderr(&output).contains("the project's version is dynamic and neither the lock, git's tags nor pyproject.toml gives one"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_project_with_nothing_to_build_says_why() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    for (fixture, reason) in [
        (
            "poetry/flask-pillow",
            "`[tool.poetry] package-mode = false`",
        ),
        ("uv/virtual-root", "the workspace root is virtual"),
        ("uv/flask-pillow", "uv.lock records the project as virtual"),
    ] {
        let mut args = vec!["lock", "--format", "json"];
        let dir = fixture_dir(fixture);
        args.insert(1, path_str(&dir));
        args.extend(LINUX_311);
        let plan: serde_json::Value =
            serde_json::from_str(&ok(&py2nix(&args, &server, cache.path()))).expect("JSON");
        assert!(plan["project"].get("package").is_none(), "{fixture}");
        let said = plan["project"]["no-package"].as_str().expect("a reason");
        assert!(said.contains(reason), "{fixture}: {said}");
    }
}

#[test]
fn a_missing_workspace_member_is_refused_without_output() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let copy = project_copy("uv-workspace-app", None);
    std::fs::remove_dir_all(copy.path().join("packages/ws-util")).expect("rm");
    let out = copy.path().join("python.nix");
    let mut args = vec!["lock", path_str(copy.path()), "-o", path_str(&out)];
    args.extend(LINUX_311);
    let output = py2nix(&args, &server, cache.path());
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("the workspace member `ws-util` is missing"),
        "{}",
        stderr(&output)
    );
    assert!(!out.exists(), "no output file");
}

/// The python.nix of every project fixture parses, holds the JSON plan, and its package set,
/// environments, project, app and members evaluate against the stand-ins for nixpkgs.
#[test]
fn project_python_nix_files_evaluate() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let stubs = crate::common::repo_root().join("tests/nix");
    for (fixture, package, scripts, _) in PROJECTS {
        let copy = project_copy(fixture, None);
        let nix_path = copy.path().join("python.nix");
        let mut args = vec!["lock", path_str(copy.path()), "-o", path_str(&nix_path)];
        args.extend(LINUX_311);
        ok(&py2nix(&args, &server, cache.path()));
        let expression = format!(
            "let s = import {stubs}/stubs.nix {{ system = \"x86_64-linux\"; pythonVersion = \"3.11\"; }};
                 r = import {file} s.args; h = import {stubs}/lib.nix;
             in {{
               forced = h.forceAll r;
               project = r.project.pname;
               app = [ r.app.application (r.app.meta.mainProgram or null) ];
               members = builtins.attrNames r.members;
               dev = builtins.deepSeq r.devEnv.outPath r.editableShellHook;
             }}",
            stubs = stubs.display(),
            file = nix_path.display()
        );
        let output = crate::common::nix(
            "nix-instantiate",
            &[
                "--eval",
                "--strict",
                "--json",
                "--readonly-mode",
                "-E",
                &expression,
            ],
        );
        assert!(
            output.status.success(),
            "{fixture}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let result: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
        assert_eq!(result["forced"], true);
        assert_eq!(result["project"], package, "{fixture}");
        let main_program = if scripts.len() == 1 {
            serde_json::json!(scripts[0])
        } else {
            serde_json::Value::Null
        };
        assert_eq!(
            result["app"],
            serde_json::json!([true, main_program]),
            "{fixture}"
        );
        assert!(strings(&result["members"]).contains(&package.to_string()));
        let hook = result["dev"].as_str().expect("hook");
        assert!(hook.contains("-editable-scripts/bin"), "{fixture}: {hook}");
    }
}

/// pip builds the project (and its workspace members) from a copy of its tree without `.git`,
/// offline, from the planned build packages alone, installs the result with the planned
/// wheels of the main dependencies, `pip check` passes and the console script runs.
#[test]
fn projects_build_offline_from_their_planned_build_systems_and_their_scripts_run() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    // Fixture, git tag, script, its arguments, what it prints.
    type Case<'a> = (&'a str, Option<&'a str>, &'a str, &'a [&'a str], &'a str);
    let cases: [Case; 6] = [
        ("poetry2-imgapp", None, "imgapp", &["--version"], "0.3.0"),
        ("poetry18-imgapp", None, "imgapp", &["--version"], "0.3.0"),
        ("uv-app", None, "uvapp", &["--help"], "Usage"),
        ("pdm-app", None, "pdmapp", &["--help"], "usage"),
        (
            "uv-vcs-version",
            Some("v1.2.3"),
            "vcsapp",
            &["--version"],
            "1.2.3",
        ),
        (
            "uv-workspace-app",
            None,
            "wsapp",
            &["--help"],
            "Usage: wsapp",
        ),
    ];
    for (fixture, tag, script, script_args, expected) in cases {
        let copy = project_copy(fixture, tag);
        let plan = plan_of(copy.path(), &server, cache.path(), &[]);
        let target = &plan["targets"][ID];
        let work = tempfile::tempdir().expect("tempdir");
        let links = work.path().join("links");
        let wheels = work.path().join("wheels");
        std::fs::create_dir(&links).expect("mkdir");
        // Every package built from the project's trees, from a copy without `.git`.
        let trees: Vec<String> = strings(&plan["project"]["members"]);
        for tree in &trees {
            let package = &target["packages"][tree.as_str()];
            download_build_closure(target, package, &links);
            let source = work.path().join("src").join(tree);
            copy_tree(
                &copy
                    .path()
                    .join(package["src"]["path"].as_str().expect("path")),
                &source,
            );
            let mut pip = Command::new("python3");
            pip.args([
                "-m",
                "pip",
                "wheel",
                "--no-index",
                "--no-cache-dir",
                "--no-deps",
            ])
            .arg("--find-links")
            .arg(&links)
            .arg("--wheel-dir")
            .arg(&wheels)
            .arg(&source)
            .env_remove("PIP_INDEX_URL")
            .env_remove("PIP_EXTRA_INDEX_URL")
            .env_remove("PIP_FIND_LINKS");
            for (name, value) in package["env"].as_object().into_iter().flatten() {
                pip.env(name, value.as_str().expect("a string"));
            }
            run(&mut pip, &format!("{fixture}: building {tree}"));
        }
        let venv = work.path().join("venv");
        run(
            Command::new("python3").args(["-m", "venv"]).arg(&venv),
            "venv",
        );
        let requirements: String = strings(&target["selections"]["main"])
            .iter()
            .filter(|name| !trees.contains(name))
            .map(|name| {
                let src = &target["packages"][name.as_str()]["src"];
                assert_eq!(src["kind"], "wheel", "{fixture}: {name}");
                format!(
                    "{name} @ {} --hash=sha256:{}\n",
                    src["url"].as_str().expect("url"),
                    sri_to_hex(src["hash"].as_str().expect("hash"))
                )
            })
            .collect();
        let requirements_path = work.path().join("requirements.txt");
        std::fs::write(&requirements_path, requirements).expect("write");
        let venv_python = venv.join("bin/python");
        run(
            Command::new(&venv_python)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--no-deps",
                    "--no-cache-dir",
                    "--no-index",
                ])
                .args(["--require-hashes", "--only-binary", ":all:", "-r"])
                .arg(&requirements_path)
                .env_remove("PIP_FIND_LINKS"),
            &format!("{fixture}: installing the planned wheels"),
        );
        let built: Vec<PathBuf> = std::fs::read_dir(&wheels)
            .expect("wheels")
            .flatten()
            .map(|e| e.path())
            .collect();
        assert_eq!(built.len(), trees.len(), "{fixture}: {built:?}");
        run(
            Command::new(&venv_python)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--no-deps",
                    "--no-cache-dir",
                    "--no-index",
                ])
                .args(&built),
            &format!("{fixture}: installing the project"),
        );
        run(
            Command::new(&venv_python).args(["-m", "pip", "check"]),
            &format!("{fixture}: pip check"),
        );
        let output = Command::new(venv.join("bin").join(script))
            .args(script_args)
            .output()
            .expect("run the script");
        let said = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && said.contains(expected),
            "{fixture}: {script} {script_args:?}: {said}{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// Downloads a package's build closure into `links`, each file checked against its hash.
fn download_build_closure(target: &serde_json::Value, package: &serde_json::Value, links: &Path) {
    for src in build_closure_sources(target, package) {
        download_checked(&src, links);
    }
}

fn run(command: &mut Command, what: &str) {
    let output = command.output().expect("start command");
    assert!(
        output.status.success(),
        "{what}: {command:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_project_whose_backend_the_index_lacks_is_refused_without_output() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let copy = project_copy("uv-app", None);
    let pyproject = copy.path().join("pyproject.toml");
    let text = std::fs::read_to_string(&pyproject).expect("read");
    let broken = text.replace(
        "requires = [\"hatchling\"]",
        "requires = [\"no-such-backend>=1\"]",
    );
    assert_ne!(text, broken, "the fixture names hatchling");
    std::fs::write(&pyproject, broken).expect("write");
    let out = copy.path().join("python.nix");
    let mut args = vec!["lock", path_str(copy.path()), "-o", path_str(&out)];
    args.extend(LINUX_311);
    let output = py2nix(&args, &server, cache.path());
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(
        message.contains("no-such-backend") && message.contains("uvapp"),
        "{message}"
    );
    assert!(!out.exists(), "no output file");
}

/// Reviewed snapshots: the Poetry 2 app and the uv workspace, planned for x86_64-linux / 3.11
/// (the plan's `inputs` left out: they hash the copies' paths and the override database).
#[test]
fn project_plans_are_reviewed_snapshots() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    for fixture in ["poetry2-imgapp", "uv-workspace-app"] {
        let copy = project_copy(fixture, None);
        let mut plan = plan_of(copy.path(), &server, cache.path(), &[]);
        plan.as_object_mut().expect("object").shift_remove("inputs");
        let text = serde_json::to_string_pretty(&plan).expect("JSON");
        insta::assert_snapshot!(format!("plan-project-{fixture}"), text);
    }
}

/// An install list that names the project's own directory (uv's pylock.toml export): that
/// package is the project's, with pyproject.toml's version and scripts, and no selection holds
/// it.
#[test]
fn a_pylock_naming_the_project_directory_packages_the_project() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let copy = project_copy("uv-app-pylock", None);
    let plan = plan_of(copy.path(), &server, cache.path(), &[]);
    check_invariants(&plan);
    assert_eq!(plan["project"]["package"], "uvapp");
    assert!(plan["project"].get("no-package").is_none());
    let target = &plan["targets"][ID];
    let own = &target["packages"]["uvapp"];
    assert_eq!(own["version"], "1.4.0");
    assert_eq!(own["src"]["path"], ".");
    assert_eq!(strings(&own["build-requires"]), ["hatchling"]);
    assert_eq!(own["scripts"]["uvapp"], "uvapp.cli:main");
    let main = strings(&target["selections"]["main"]);
    assert!(!main.contains(&"uvapp".to_string()));
    for dependency in strings(&own["dependencies"]) {
        assert!(main.contains(&dependency), "{dependency}");
    }
}
