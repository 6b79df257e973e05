//! Build systems of source trees, read rather than guessed: a git checkout (at the locked
//! commit), a local directory and a local sdist get their `[build-system] requires` resolved
//! from the (recorded) index like an sdist's, pinned into `build-packages`; a tree without one
//! gets PEP 517's setuptools and one warning; a tree whose version comes from version control
//! gets the locked version in its tool's variable; a backend the index lacks fails cleanly.
//! The repositories and trees are made inside each test.

use std::path::Path;

use crate::common::{
    check_invariants, ok, py2nix_with_env, stderr, stdout, strings, IndexServer, Mode,
};
use crate::sources::git;

const ID_312: &str = "x86_64-linux-cp312";

/// A dependency of the test project: its name, version and uv.lock `source` (and any file
/// lines after it).
struct Member {
    name: &'static str,
    version: &'static str,
    source: String,
}

/// A uv project whose virtual root depends on `members`, in uv.lock's real syntax.
fn write_uv_project(dir: &Path, members: &[Member]) {
    std::fs::create_dir_all(dir).expect("mkdir");
    let names: Vec<String> = members.iter().map(|m| format!("\"{}\"", m.name)).collect();
    std::fs::write(
        dir.join("pyproject.toml"),
        format!(
            "[project]\nname = \"app\"\nversion = \"0.1.0\"\nrequires-python = \">=3.11\"\ndependencies = [{}]\n\n[tool.uv]\npackage = false\n",
            names.join(", ")
        ),
    )
    .expect("write pyproject.toml");
    let mut lock = String::from(
        "version = 1\nrevision = 3\nrequires-python = \">=3.11\"\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\nsource = { virtual = \".\" }\ndependencies = [\n",
    );
    for member in members {
        lock.push_str(&format!("    {{ name = \"{}\" }},\n", member.name));
    }
    lock.push_str("]\n");
    for member in members {
        lock.push_str(&format!(
            "\n[[package]]\nname = \"{}\"\nversion = \"{}\"\nsource = {}\n",
            member.name, member.version, member.source
        ));
    }
    std::fs::write(dir.join("uv.lock"), lock).expect("write uv.lock");
}

/// A git repository at `dir` holding `files`, committed; returns its `file://` URL and commit.
fn git_repository(dir: &Path, files: &[(&str, &str)]) -> (String, String) {
    write_files(dir, files);
    git(dir, &["init", "--quiet", "--initial-branch", "main"]);
    git(dir, &["add", "--all"]);
    git(dir, &["commit", "--quiet", "--message", "first"]);
    let commit = git(dir, &["rev-parse", "HEAD"]);
    (format!("file://{}", dir.display()), commit)
}

fn write_files(dir: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
}

fn git_member(name: &'static str, version: &'static str, url: &str, commit: &str) -> Member {
    Member {
        name,
        version,
        source: format!("{{ git = \"{url}?rev={commit}#{commit}\" }}"),
    }
}

/// `py2nix lock` of `project` against the recorded index, for `targets`.
fn lock(
    project: &Path,
    server: &IndexServer,
    cache: &Path,
    targets: &[&str],
    extra: &[&str],
) -> std::process::Output {
    let mut args = vec!["lock", project.to_str().expect("utf-8"), "--format", "json"];
    args.extend(targets);
    args.extend(extra);
    py2nix_with_env(&args, cache, &[("PY2NIX_INDEX_URL", &server.url)], None)
}

const LINUX_312: [&str; 4] = ["--system", "x86_64-linux", "--python", "3.12"];

fn plan_of(output: &std::process::Output) -> serde_json::Value {
    let plan: serde_json::Value = serde_json::from_str(&ok(output)).expect("JSON plan");
    check_invariants(&plan);
    plan
}

/// `name`'s build requirement `requirement` is a pinned build package with a hashed file, or a
/// package of the target.
fn assert_pinned(target: &serde_json::Value, name: &str, requirement: &str) {
    let package = &target["packages"][name];
    assert!(
        strings(&package["build-requires"]).contains(&requirement.to_string()),
        "{name}: {package}"
    );
    let build = target["build-packages"]
        .get(requirement)
        .or_else(|| target["packages"].get(requirement))
        .unwrap_or_else(|| panic!("{requirement} is not planned: {target}"));
    assert!(!build["version"].as_str().expect("version").is_empty());
    let hash = build["src"]["hash"].as_str().expect("a hash");
    assert!(hash.starts_with("sha256-"), "{hash}");
    let filename = build["src"]["filename"].as_str().expect("a file name");
    assert!(
        filename
            .to_ascii_lowercase()
            .replace('_', "-")
            .starts_with(&format!("{requirement}-")),
        "{filename}"
    );
}

#[test]
fn a_hatchling_git_dependency_gets_hatchling_pinned_and_a_warm_run_runs_no_git() {
    let work = tempfile::tempdir().expect("tempdir");
    let cache = tempfile::tempdir().expect("tempdir");
    let server = IndexServer::start(Mode::Html);
    // The project lives in a subdirectory of the repository; the top holds a decoy.
    let (url, commit) = git_repository(
        &work.path().join("repo"),
        &[
            (
                "pyproject.toml",
                "[build-system]\nrequires = [\"flit-core>=3.2\"]\nbuild-backend = \"flit_core.buildapi\"\n",
            ),
            (
                "python/pyproject.toml",
                "[build-system]\nrequires = [\"hatchling>=1.20\"]\nbuild-backend = \"hatchling.build\"\n\n[project]\nname = \"hatchpkg\"\nversion = \"2.0.0\"\n",
            ),
            ("python/hatchpkg/__init__.py", ""),
        ],
    );
    let project = work.path().join("app");
    write_uv_project(
        &project,
        &[Member {
            name: "hatchpkg",
            version: "2.0.0",
            source: format!("{{ git = \"{url}?subdirectory=python&rev={commit}#{commit}\" }}"),
        }],
    );
    let output = lock(&project, &server, cache.path(), &LINUX_312, &[]);
    let plan = plan_of(&output);
    let target = &plan["targets"][ID_312];
    let package = &target["packages"]["hatchpkg"];
    assert_eq!(package["src"]["kind"], "git");
    assert_eq!(package["src"]["subdirectory"], "python");
    assert_eq!(strings(&package["build-requires"]), ["hatchling"]);
    assert_eq!(strings(&package["build-system"]), ["hatchling"]);
    assert_pinned(target, "hatchpkg", "hatchling");
    // hatchling's own dependencies are planned with it.
    for dependency in strings(&target["build-packages"]["hatchling"]["dependencies"]) {
        assert!(
            target["build-packages"].get(&dependency).is_some(),
            "{dependency}"
        );
    }
    assert!(
        !stderr(&output).contains("assuming setuptools"),
        "{}",
        stderr(&output)
    );

    // A warm run: the repository is gone, so any git work would fail; offline, so any page
    // the cache lacks would too. Same plan.
    std::fs::remove_dir_all(work.path().join("repo")).expect("remove the repository");
    let again = lock(&project, &server, cache.path(), &LINUX_312, &["--offline"]);
    assert_eq!(stdout(&again), stdout(&output), "{}", stderr(&again));
}

#[test]
fn a_local_directory_with_flit_core_and_a_local_sdist_are_read_from_disk() {
    let work = tempfile::tempdir().expect("tempdir");
    let cache = tempfile::tempdir().expect("tempdir");
    let server = IndexServer::start(Mode::Html);
    let project = work.path().join("app");
    write_files(
        &project.join("libs/flitpkg"),
        &[
            (
                "pyproject.toml",
                "[build-system]\nrequires = [\"flit_core >=3.2,<4\"]\nbuild-backend = \"flit_core.buildapi\"\n\n[project]\nname = \"flitpkg\"\nversion = \"0.3.0\"\ndescription = \"x\"\n",
            ),
            ("flitpkg/__init__.py", ""),
        ],
    );
    // A local sdist built with hatchling.
    let sdist = project.join("dist/sdistpkg-1.5.tar.gz");
    std::fs::create_dir_all(sdist.parent().expect("parent")).expect("mkdir");
    let staging = work.path().join("staging");
    write_files(
        &staging.join("sdistpkg-1.5"),
        &[
            (
                "pyproject.toml",
                "[build-system]\nrequires = [\"hatchling\"]\nbuild-backend = \"hatchling.build\"\n\n[project]\nname = \"sdistpkg\"\nversion = \"1.5\"\n",
            ),
            (
                "PKG-INFO",
                "Metadata-Version: 2.1\nName: sdistpkg\nVersion: 1.5\n",
            ),
        ],
    );
    let status = std::process::Command::new("tar")
        .arg("-czf")
        .arg(&sdist)
        .arg("-C")
        .arg(&staging)
        .arg("sdistpkg-1.5")
        .status()
        .expect("run tar");
    assert!(status.success());
    let bytes = std::fs::read(&sdist).expect("read sdist");
    let digest = sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix(&bytes));
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    write_uv_project(
        &project,
        &[
            Member {
                name: "flitpkg",
                version: "0.3.0",
                source: "{ directory = \"libs/flitpkg\" }".to_string(),
            },
            Member {
                name: "sdistpkg",
                version: "1.5",
                source: format!(
                    "{{ path = \"dist/sdistpkg-1.5.tar.gz\" }}\nsdist = {{ hash = \"sha256:{hex}\" }}"
                ),
            },
        ],
    );
    let output = lock(&project, &server, cache.path(), &LINUX_312, &[]);
    let plan = plan_of(&output);
    let target = &plan["targets"][ID_312];
    let flit = &target["packages"]["flitpkg"];
    assert_eq!(
        (&flit["src"]["kind"], &flit["src"]["format"]),
        (&"path".into(), &"tree".into())
    );
    assert_eq!(strings(&flit["build-requires"]), ["flit-core"]);
    assert_eq!(strings(&flit["build-system"]), ["flit-core"]);
    assert_pinned(target, "flitpkg", "flit-core");
    let flit_core = &target["build-packages"]["flit-core"];
    let major: u32 = flit_core["version"]
        .as_str()
        .and_then(|v| v.split('.').next())
        .and_then(|m| m.parse().ok())
        .expect("a version");
    assert_eq!(major, 3, "flit_core >=3.2,<4: {flit_core}");
    let local = &target["packages"]["sdistpkg"];
    assert_eq!(
        (&local["src"]["kind"], &local["src"]["format"]),
        (&"path".into(), &"sdist".into())
    );
    assert_eq!(strings(&local["build-requires"]), ["hatchling"]);
    assert_pinned(target, "sdistpkg", "hatchling");
    assert!(
        !stderr(&output).contains("assuming setuptools"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_tree_without_a_build_system_gets_pinned_setuptools_and_one_warning() {
    let work = tempfile::tempdir().expect("tempdir");
    let cache = tempfile::tempdir().expect("tempdir");
    let server = IndexServer::start(Mode::Html);
    let (url, commit) = git_repository(
        &work.path().join("repo"),
        &[
            (
                "setup.py",
                "from setuptools import setup\nsetup(name='oldpkg', version='0.9')\n",
            ),
            ("pyproject.toml", "[tool.black]\nline-length = 100\n"),
        ],
    );
    let project = work.path().join("app");
    write_uv_project(&project, &[git_member("oldpkg", "0.9", &url, &commit)]);
    let targets = [
        "--system",
        "x86_64-linux",
        "--system",
        "aarch64-darwin",
        "--python",
        "3.12",
        "--python",
        "3.13",
    ];
    let output = lock(&project, &server, cache.path(), &targets, &[]);
    let plan = plan_of(&output);
    assert_eq!(plan["targets"].as_object().expect("targets").len(), 4);
    for (id, target) in plan["targets"].as_object().expect("targets") {
        let package = &target["packages"]["oldpkg"];
        assert_eq!(strings(&package["build-requires"]), ["setuptools"], "{id}");
        assert_eq!(strings(&package["build-system"]), ["setuptools"], "{id}");
        assert_pinned(target, "oldpkg", "setuptools");
        let setuptools = &target["build-packages"]["setuptools"];
        let version: Vec<u32> = setuptools["version"]
            .as_str()
            .expect("version")
            .split('.')
            .filter_map(|p| p.parse().ok())
            .collect();
        assert!(version >= vec![40, 8, 0], "{id}: {setuptools}");
        assert!(
            strings(&package["warnings"])
                .iter()
                .any(|w| w.contains("assuming setuptools")),
            "{id}: the plan keeps the warning"
        );
    }
    let log = stderr(&output);
    assert_eq!(log.matches("assuming setuptools").count(), 1, "{log}");
    assert!(log.contains("oldpkg"), "{log}");
}

#[test]
fn a_setuptools_scm_tree_gets_the_locked_version_to_pretend() {
    let work = tempfile::tempdir().expect("tempdir");
    let cache = tempfile::tempdir().expect("tempdir");
    let server = IndexServer::start(Mode::Html);
    let (scm_url, scm_commit) = git_repository(
        &work.path().join("scm-repo"),
        &[
            (
                "pyproject.toml",
                "[build-system]\nrequires = [\"setuptools>=64\", \"setuptools-scm>=8\"]\nbuild-backend = \"setuptools.build_meta\"\n\n[project]\nname = \"scmpkg\"\ndynamic = [\"version\"]\n\n[tool.setuptools_scm]\n",
            ),
            ("scmpkg/__init__.py", ""),
        ],
    );
    // The same tool in the requirements, but a static version: nothing to pretend.
    let (static_url, static_commit) = git_repository(
        &work.path().join("static-repo"),
        &[
            (
                "pyproject.toml",
                "[build-system]\nrequires = [\"setuptools>=64\", \"setuptools-scm>=8\"]\nbuild-backend = \"setuptools.build_meta\"\n\n[project]\nname = \"staticpkg\"\nversion = \"3.0\"\n",
            ),
            ("staticpkg/__init__.py", ""),
        ],
    );
    let project = work.path().join("app");
    write_uv_project(
        &project,
        &[
            git_member("scmpkg", "1.2.3", &scm_url, &scm_commit),
            git_member("staticpkg", "3.0", &static_url, &static_commit),
        ],
    );
    let output = lock(&project, &server, cache.path(), &LINUX_312, &[]);
    let plan = plan_of(&output);
    let target = &plan["targets"][ID_312];
    let scm = &target["packages"]["scmpkg"];
    assert_eq!(
        scm["env"],
        serde_json::json!({ "SETUPTOOLS_SCM_PRETEND_VERSION": "1.2.3" })
    );
    assert_eq!(
        strings(&scm["build-requires"]),
        ["setuptools", "setuptools-scm"]
    );
    assert_pinned(target, "scmpkg", "setuptools-scm");
    assert!(target["packages"]["staticpkg"].get("env").is_none());
}

#[test]
fn a_backend_the_index_lacks_fails_naming_the_package_and_the_requirement() {
    let work = tempfile::tempdir().expect("tempdir");
    let cache = tempfile::tempdir().expect("tempdir");
    let server = IndexServer::start(Mode::Html);
    let project = work.path().join("app");
    write_files(
        &project.join("libs/badpkg"),
        &[(
            "pyproject.toml",
            "[build-system]\nrequires = [\"no-such-backend>=1\"]\nbuild-backend = \"nsb\"\n",
        )],
    );
    write_uv_project(
        &project,
        &[Member {
            name: "badpkg",
            version: "1.0",
            source: "{ directory = \"libs/badpkg\" }".to_string(),
        }],
    );
    let out = work.path().join("python.nix");
    let output = py2nix_with_env(
        &[
            "lock",
            project.to_str().expect("utf-8"),
            "-o",
            out.to_str().expect("utf-8"),
            "--system",
            "x86_64-linux",
            "--python",
            "3.12",
            "--python",
            "3.13",
        ],
        cache.path(),
        &[("PY2NIX_INDEX_URL", &server.url)],
        None,
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stdout(&output).is_empty());
    assert!(!out.exists(), "no output file");
    let log = stderr(&output);
    assert!(log.contains("badpkg"), "{log}");
    assert!(log.contains("no-such-backend"), "{log}");
    assert!(log.contains(">=1"), "{log}");
    // Told once for both targets.
    assert_eq!(
        log.matches("the build requirement `no-such-backend`")
            .count(),
        1,
        "{log}"
    );
    assert!(
        log.contains("x86_64-linux-cp312, x86_64-linux-cp313"),
        "{log}"
    );
    assert!(!log.contains("panicked"), "{log}");
}

/// A local directory's build system is input to the plan: `check` calls the file stale when
/// the directory's pyproject.toml changes.
#[test]
fn check_calls_a_plan_stale_when_a_local_trees_pyproject_changes() {
    let work = tempfile::tempdir().expect("tempdir");
    let cache = tempfile::tempdir().expect("tempdir");
    let server = IndexServer::start(Mode::Html);
    let project = work.path().join("app");
    let pyproject = "[build-system]\nrequires = [\"flit_core>=3.2,<4\"]\nbuild-backend = \"flit_core.buildapi\"\n";
    write_files(
        &project.join("libs/flitpkg"),
        &[("pyproject.toml", pyproject)],
    );
    write_uv_project(
        &project,
        &[Member {
            name: "flitpkg",
            version: "0.3.0",
            source: "{ directory = \"libs/flitpkg\" }".to_string(),
        }],
    );
    let nix = project.join("python.nix");
    let mut args = vec![
        "lock",
        project.to_str().expect("utf-8"),
        "-o",
        nix.to_str().expect("utf-8"),
    ];
    args.extend(LINUX_312);
    ok(&py2nix_with_env(
        &args,
        cache.path(),
        &[("PY2NIX_INDEX_URL", &server.url)],
        None,
    ));
    let check = |cache: &Path| {
        py2nix_with_env(
            &["check", project.to_str().expect("utf-8")],
            cache,
            &[("PY2NIX_INDEX_URL", "http://127.0.0.1:9/simple/")],
            None,
        )
    };
    let current = check(cache.path());
    assert_eq!(current.status.code(), Some(0), "{}", stderr(&current));
    assert!(
        stdout(&current).contains("libs/flitpkg/pyproject.toml"),
        "{}",
        stdout(&current)
    );
    write_files(
        &project.join("libs/flitpkg"),
        &[(
            "pyproject.toml",
            "[build-system]\nrequires = [\"hatchling\"]\nbuild-backend = \"hatchling.build\"\n",
        )],
    );
    let stale = check(cache.path());
    assert_eq!(stale.status.code(), Some(1), "{}", stderr(&stale));
    assert_eq!(
        stdout(&stale),
        "stale: libs/flitpkg/pyproject.toml changed since python.nix was made\n"
    );
}

/// A local sdist `dist/<name>-<version>.tar.gz` under `project` whose `[build-system]
/// requires` is `requires`, as a uv.lock member with its hash.
fn local_sdist(project: &Path, staging: &Path, name: &'static str, requires: &str) -> Member {
    let version = "1.0";
    let stem = format!("{name}-{version}");
    let sdist = project.join(format!("dist/{stem}.tar.gz"));
    std::fs::create_dir_all(sdist.parent().expect("parent")).expect("mkdir");
    write_files(
        &staging.join(&stem),
        &[
            (
                "pyproject.toml",
                &format!("[build-system]\nrequires = [{requires}]\nbuild-backend = \"setuptools.build_meta\"\n\n[project]\nname = \"{name}\"\nversion = \"{version}\"\n"),
            ),
            (
                "PKG-INFO",
                &format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"),
            ),
        ],
    );
    let status = std::process::Command::new("tar")
        .arg("-czf")
        .arg(&sdist)
        .arg("-C")
        .arg(staging)
        .arg(&stem)
        .status()
        .expect("run tar");
    assert!(status.success());
    let bytes = std::fs::read(&sdist).expect("read sdist");
    let digest = sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix(&bytes));
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    Member {
        name,
        version,
        source: format!(
            "{{ path = \"dist/{stem}.tar.gz\" }}\nsdist = {{ hash = \"sha256:{hex}\" }}"
        ),
    }
}

/// Two sdists of one target whose build requirements disagree on setuptools (`>=70` and
/// `<70`) each get their own build environment, both planned: two versions of setuptools
/// under `setuptools@<version>` keys, the hatchling both need once; python.nix gives each
/// sdist exactly its closure (evaluated against the stubs), sharing the one hatchling
/// derivation.
#[test]
fn two_sdists_needing_different_versions_of_one_build_tool_get_their_own_environments() {
    let work = tempfile::tempdir().expect("tempdir");
    let cache = tempfile::tempdir().expect("tempdir");
    let server = IndexServer::start(Mode::Html);
    let project = work.path().join("app");
    let staging = work.path().join("staging");
    let new = local_sdist(
        &project,
        &staging,
        "newtool",
        "\"setuptools>=70\", \"hatchling\"",
    );
    let old = local_sdist(
        &project,
        &staging,
        "oldtool",
        "\"setuptools<70\", \"hatchling\"",
    );
    write_uv_project(&project, &[new, old]);
    let output = lock(&project, &server, cache.path(), &LINUX_312, &[]);
    let plan = plan_of(&output);
    let target = &plan["targets"][ID_312];
    let build = target["build-packages"]
        .as_object()
        .expect("build-packages");
    let closure = |name: &str| strings(&target["packages"][name]["build-closure"]);
    let setuptools_of = |name: &str| -> String {
        let keys: Vec<String> = closure(name)
            .into_iter()
            .filter(|k| k.starts_with("setuptools@"))
            .collect();
        assert_eq!(keys.len(), 1, "{name}: {:?}", closure(name));
        keys[0].clone()
    };
    let (new_key, old_key) = (setuptools_of("newtool"), setuptools_of("oldtool"));
    assert_ne!(new_key, old_key);
    let version = |key: &str| -> Vec<u64> {
        let text = build[key]["version"].as_str().expect("version");
        assert_eq!(key, format!("setuptools@{text}"));
        text.split('.').map(|p| p.parse().unwrap_or(0)).collect()
    };
    assert!(version(&new_key) >= vec![70], "{new_key}");
    assert!(version(&old_key) < vec![70], "{old_key}");
    // No plain `setuptools` key: two versions are planned, each under its version.
    assert!(!build.contains_key("setuptools"));
    // hatchling and its dependencies: one build package each, in both closures.
    assert!(closure("newtool").contains(&"hatchling".to_string()));
    assert!(closure("oldtool").contains(&"hatchling".to_string()));
    for dependency in strings(&build["hatchling"]["dependencies"]) {
        assert!(closure("newtool").contains(&dependency), "{dependency}");
        assert!(closure("oldtool").contains(&dependency), "{dependency}");
    }
    // Every build package is used by some closure.
    for key in build.keys() {
        assert!(
            closure("newtool").contains(key) || closure("oldtool").contains(key),
            "{key} is in no build environment"
        );
    }

    // python.nix: each sdist's build system is exactly its closure; hatchling is one
    // derivation in both.
    let nix_file = project.join("python.nix");
    let output = py2nix_with_env(
        &[
            "lock",
            project.to_str().expect("utf-8"),
            "-o",
            nix_file.to_str().expect("utf-8"),
            "--system",
            "x86_64-linux",
            "--python",
            "3.12",
        ],
        cache.path(),
        &[("PY2NIX_INDEX_URL", &server.url)],
        None,
    );
    ok(&output);
    let stubs = crate::common::repo_root().join("tests/nix");
    let expression = format!(
        "let s = import {stubs}/stubs.nix {{ system = \"x86_64-linux\"; pythonVersion = \"3.12\"; }};
             r = import {file} s.args;
             names = p: map (d: d.pname + \"-\" + d.version) r.packages.${{p}}.args.build-system;
             hatch = p: (builtins.head (builtins.filter (d: d.pname == \"hatchling\") r.packages.${{p}}.args.build-system)).outPath;
         in {{ new = names \"newtool\"; old = names \"oldtool\"; shared = hatch \"newtool\" == hatch \"oldtool\"; }}",
        stubs = stubs.display(),
        file = nix_file.display()
    );
    let evaluated = crate::common::nix(
        "nix-instantiate",
        &[
            "--eval",
            "--strict",
            "--json",
            "--readonly-mode",
            "--expr",
            &expression,
        ],
    );
    assert!(
        evaluated.status.success(),
        "{}",
        String::from_utf8_lossy(&evaluated.stderr)
    );
    let result: serde_json::Value = serde_json::from_slice(&evaluated.stdout).expect("JSON");
    let expected = |name: &str| -> Vec<String> {
        closure(name)
            .iter()
            .map(|key| {
                let package = build.get(key).unwrap_or(&target["packages"][key]);
                format!(
                    "{}-{}",
                    key.split('@').next().expect("name"),
                    package["version"].as_str().expect("version")
                )
            })
            .collect()
    };
    assert_eq!(strings(&result["new"]), expected("newtool"));
    assert_eq!(strings(&result["old"]), expected("oldtool"));
    assert_eq!(result["shared"], true);
}

/// A build requirement no version meets is an error naming the package, the requirement and
/// the versions tried, with nothing written.
#[test]
fn an_unmeetable_build_requirement_names_the_package_the_requirement_and_the_versions_tried() {
    let work = tempfile::tempdir().expect("tempdir");
    let cache = tempfile::tempdir().expect("tempdir");
    let server = IndexServer::start(Mode::Html);
    let project = work.path().join("app");
    let staging = work.path().join("staging");
    let good = local_sdist(&project, &staging, "goodtool", "\"setuptools>=70\"");
    let bad = local_sdist(&project, &staging, "badtool", "\"setuptools>=70,<69\"");
    write_uv_project(&project, &[good, bad]);
    let output = lock(&project, &server, cache.path(), &LINUX_312, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stdout(&output).is_empty());
    let message = stderr(&output);
    for part in [
        "x86_64-linux-cp312",
        "the build requirement `setuptools`",
        "badtool 1.0 (to build it) wants `<69, >=70`",
        "versions tried: ",
    ] {
        assert!(message.contains(part), "{part:?} not in {message}");
    }
    assert!(!message.contains("goodtool"), "{message}");
}
