//! uv's locker settings (`[tool.uv]` and what uv.lock records of them), on uv2nix's fixtures
//! (`fixtures/uv2nix/`, a peer suite): py2nix plans the files uv2nix's tests expect, and fails
//! where they expect a failure.

use std::path::Path;

use crate::common::{
    check_invariants, copy_tree, fixture_dir, json_plan, ok, packages, py2nix, stderr, stdout,
    IndexServer, Mode,
};

const LINUX_312: [&str; 4] = ["--system", "x86_64-linux", "--python", "3.12"];
const TARGET: &str = "x86_64-linux-cp312";

fn plan_of(fixture: &str, extra: &[&str], server: &IndexServer) -> serde_json::Value {
    let cache = tempfile::tempdir().expect("tempdir");
    let mut args = LINUX_312.to_vec();
    args.extend(extra);
    let plan = json_plan(
        &fixture_dir(&format!("uv2nix/{fixture}")),
        &args,
        server,
        cache.path(),
    );
    check_invariants(&plan);
    plan
}

/// The file name (or kind, for a tree) each package is planned from.
fn planned_file(plan: &serde_json::Value, name: &str) -> String {
    let src = &packages(plan, TARGET)[name]["src"];
    src["filename"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| src["kind"].as_str().unwrap_or_default().to_string())
}

/// Runs `lock` on a fixture and returns (exit code, stdout, stderr).
fn lock_fails(
    fixture: &str,
    extra: &[&str],
    server: &IndexServer,
) -> (Option<i32>, String, String) {
    let cache = tempfile::tempdir().expect("tempdir");
    let dir = fixture_dir(&format!("uv2nix/{fixture}"));
    let mut args = vec!["lock", dir.to_str().expect("utf-8"), "--format", "json"];
    args.extend(extra);
    let output = py2nix(&args, server, cache.path());
    (output.status.code(), stdout(&output), stderr(&output))
}

#[test]
fn no_binary_and_no_build_choose_the_files_uv2nix_expects() {
    let server = IndexServer::start(Mode::Html);
    // uv2nix's testNoBinaryPref*: the sdist, whatever the preference.
    let plan = plan_of("no-binary", &[], &server);
    assert_eq!(planned_file(&plan, "arpeggio"), "Arpeggio-2.0.2.tar.gz");
    // testNoBuildPref*: the wheel.
    let plan = plan_of("no-build", &[], &server);
    assert_eq!(
        planned_file(&plan, "arpeggio"),
        "Arpeggio-2.0.2-py2.py3-none-any.whl"
    );
    // The project itself is still built (uv builds it only to install it; `env` does not).
    assert_eq!(planned_file(&plan, "no-build"), "path");
    // testNoBinaryPackagesPref*: per package.
    let plan = plan_of("no-build-no-binary-packages", &[], &server);
    assert_eq!(
        planned_file(&plan, "arpeggio"),
        "Arpeggio-2.0.2-py2.py3-none-any.whl"
    );
    assert_eq!(planned_file(&plan, "urllib3"), "urllib3-2.2.2.tar.gz");
    // The command line still has the last word: --only-binary takes urllib3 back to its wheel.
    let plan = plan_of(
        "no-build-no-binary-packages",
        &["--only-binary", "urllib3"],
        &server,
    );
    assert_eq!(
        planned_file(&plan, "urllib3"),
        "urllib3-2.2.2-py3-none-any.whl"
    );
}

#[test]
fn no_binary_with_no_build_is_refused_with_uvs_reason() {
    let server = IndexServer::start(Mode::Html);
    // uv2nix's testNoBuildNoBinaryPref*: a failure.
    let (code, out, err) = lock_fails("no-binary-no-build", &LINUX_312, &server);
    assert_eq!(code, Some(1), "{err}");
    assert!(out.is_empty());
    assert!(
        err.contains("`arpeggio` can't be installed because it is marked as both `--no-binary` and `--no-build`"),
        "{err}"
    );
    // A no-build package whose only file for the target is an sdist: uv's no-build reason.
    let (code, _, err) = lock_fails(
        "no-build-no-binary-packages",
        &[&LINUX_312[..], &["--no-binary", "arpeggio"]].concat(),
        &server,
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("`arpeggio` can't be installed because it is marked as both"),
        "{err}"
    );
}

#[test]
fn a_no_build_package_without_a_wheel_is_refused() {
    // urllib3 2.2.2 has a wheel; the project's own tree is exempt; so make a copy whose
    // no-build package has only its sdist in the lock.
    let server = IndexServer::start(Mode::Html);
    let work = tempfile::tempdir().expect("tempdir");
    let from = fixture_dir("uv2nix/no-build-no-binary-packages");
    let pyproject = std::fs::read_to_string(from.join("pyproject.toml")).expect("read");
    std::fs::write(
        work.path().join("pyproject.toml"),
        pyproject.replace(
            "no-build-package = [\"arpeggio\"]\nno-binary-package = [\"urllib3\"]",
            "no-build-package = [\"urllib3\"]",
        ),
    )
    .expect("write");
    let lock = std::fs::read_to_string(from.join("uv.lock")).expect("read");
    let without_wheel: Vec<&str> = lock
        .lines()
        .filter(|line| !line.contains("urllib3-2.2.2-py3-none-any.whl"))
        .collect();
    std::fs::write(work.path().join("uv.lock"), without_wheel.join("\n") + "\n").expect("write");
    let cache = tempfile::tempdir().expect("tempdir");
    let dir = work.path().to_str().expect("utf-8");
    let output = py2nix(
        &[
            "lock",
            dir,
            "--format",
            "json",
            "--frozen",
            "--system",
            "x86_64-linux",
            "--python",
            "3.12",
        ],
        &server,
        cache.path(),
    );
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(
        err.contains("`urllib3` can't be installed because it is marked as `--no-build` but has no binary distribution"),
        "{err}"
    );
}

#[test]
fn conflicting_selections_are_refused_and_recorded() {
    let server = IndexServer::start(Mode::Html);
    for (fixture, flags, message) in [
        (
            "conflicts",
            vec!["--extra", "extra-a", "--extra", "extra-b"],
            "Extras `extra-a` and `extra-b` are incompatible with the conflicts: {`conflicts:extra-a`, `conflicts:extra-b`, `conflicts:group-c`}",
        ),
        ("conflicts", vec!["--all-extras"], "Extras `extra-a` and `extra-b` are incompatible"),
        (
            "conflicts",
            vec!["--extra", "extra-a", "--group", "group-c"],
            "Extra `extra-a` and group `group-c` are incompatible",
        ),
        (
            "dependency-group-conflicts",
            vec!["--group", "group-a", "--group", "group-c"],
            "Groups `group-a` and `group-c` are incompatible",
        ),
        ("dependency-group-conflicts", vec!["--all-groups"], "Groups `group-a` and `group-b` are incompatible"),
    ] {
        let (code, out, err) = lock_fails(fixture, &[&LINUX_312[..], &flags].concat(), &server);
        assert_eq!(code, Some(1), "{fixture} {flags:?}: {err}");
        assert!(out.is_empty());
        assert!(err.contains(message), "{fixture} {flags:?}: {err}");
    }
    // One of a set at a time is fine (uv2nix's conflicts-group-a, dependency-group-conflicts-b
    // and -bc checks), and picks that side's version.
    let plan = plan_of("conflicts", &["--extra", "extra-b"], &server);
    assert_eq!(
        planned_file(&plan, "arpeggio"),
        "Arpeggio-2.0.1-py2.py3-none-any.whl"
    );
    let plan = plan_of(
        "dependency-group-conflicts",
        &["--group", "group-b", "--group", "group-c"],
        &server,
    );
    let mut names: Vec<&String> = packages(&plan, TARGET).keys().collect();
    names.sort();
    assert_eq!(names, ["arpeggio", "dependency-group-conflicts", "tqdm"]);
    // Without names the plan holds what fits together, and records the conflicts for envWith.
    let plan = plan_of("dependency-group-conflicts", &[], &server);
    assert_eq!(
        plan["project"]["conflicts"],
        serde_json::json!([
            [{"group": "group-a"}, {"group": "group-b"}],
            [{"group": "group-a"}, {"group": "group-c"}]
        ])
    );
    assert_eq!(
        plan["project"]["groups"],
        serde_json::json!(["group-a", "group-b", "group-c"])
    );
}

#[test]
fn the_locks_environments_decide_the_targets() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    // `environments = ["sys_platform == 'linux'"]` (uv.lock's supported-markers): by default
    // only the Linux systems.
    let dir = fixture_dir("uv2nix/with-tool-uv-environments");
    let plan = json_plan(&dir, &["--python", "3.12"], &server, cache.path());
    let mut targets: Vec<&String> = plan["targets"]
        .as_object()
        .expect("targets")
        .keys()
        .collect();
    targets.sort();
    assert_eq!(targets, ["aarch64-linux-cp312", "x86_64-linux-cp312"]);
    // Linux and macOS: all four.
    let dir = fixture_dir("uv2nix/with-supported-environments");
    let plan = json_plan(&dir, &["--python", "3.12"], &server, cache.path());
    assert_eq!(plan["targets"].as_object().expect("targets").len(), 4);
    // A system the lock does not support, named on the command line: refused.
    let (code, out, err) = lock_fails(
        "with-tool-uv-environments",
        &["--system", "aarch64-darwin", "--python", "3.12"],
        &server,
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(out.is_empty());
    assert!(
        err.contains("cannot plan aarch64-darwin-cp312: the lock supports only the environments `sys_platform == 'linux'`"),
        "{err}"
    );
}

#[test]
fn build_settings_reach_the_projects_build() {
    let server = IndexServer::start(Mode::Html);
    // uv2nix's with-config-settings check: the global and the per-package settings.
    let plan = plan_of("with-config-settings", &[], &server);
    let project = &packages(&plan, TARGET)["with-config-settings"];
    assert_eq!(
        project["build-flags"],
        serde_json::json!(["-Ceditable_mode=compat", "-Cfoo=bar"])
    );
    // with-extra-build-variables: FOO=BAR in the build's env.
    let plan = plan_of("with-extra-build-variables", &[], &server);
    assert_eq!(
        packages(&plan, TARGET)["with-extra-build-variables"]["env"]["FOO"],
        "BAR"
    );
    // with-extra-build-dependencies: setuptools joins uv_build in the build requirements,
    // and is planned as a build package.
    let plan = plan_of("with-extra-build-dependencies", &[], &server);
    let project = &packages(&plan, TARGET)["with-extra-build-dependencies"];
    assert_eq!(
        project["build-requires"],
        serde_json::json!(["setuptools", "uv-build"])
    );
    assert!(
        plan["targets"][TARGET]["build-packages"]["setuptools"].is_object(),
        "{plan}"
    );
}

#[test]
fn a_local_find_links_directory_is_planned_as_local_files() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let out = tempfile::tempdir().expect("tempdir");
    let dir = fixture_dir("uv2nix/overriden-registry");
    let output_file = out.path().join("plan.json");
    // uv2nix's layout keeps the registry beside the project (`../kitchen-sink`): a local
    // source outside the project directory needs the user's leave.
    ok(&py2nix(
        &[
            "lock",
            dir.to_str().expect("utf-8"),
            "--allow-outside-paths",
            "--format",
            "json",
            "-o",
            output_file.to_str().expect("utf-8"),
            "--system",
            "x86_64-linux",
            "--python",
            "3.12",
        ],
        &server,
        cache.path(),
    ));
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&output_file).expect("read")).expect("json");
    let src = &packages(&plan, TARGET)["urllib3"]["src"];
    assert_eq!(src["kind"], "path");
    assert_eq!(src["format"], "wheel");
    assert_eq!(src["filename"], "urllib3-2.2.3-py3-none-any.whl");
    // Relative to the output file, and the file is there.
    let path = src["path"].as_str().expect("a path");
    assert!(
        Path::new(out.path()).join(path).is_file(),
        "{path} is not the wheel, seen from {}",
        out.path().display()
    );
    // attrs comes from the index as before.
    assert_eq!(packages(&plan, TARGET)["attrs"]["src"]["kind"], "wheel");
}
fn append(path: &Path, text: &str) {
    let mut content = std::fs::read_to_string(path).expect("read");
    content.push_str(text);
    std::fs::write(path, content).expect("write");
}

#[test]
fn workspace_members_settings_are_read_and_conflicting_values_refused() {
    let server = IndexServer::start(Mode::Html);
    let work = tempfile::tempdir().expect("tempdir");
    copy_tree(&fixture_dir("uv/workspace"), work.path());
    let member = work.path().join("packages/app/pyproject.toml");
    append(&member, "\n[tool.uv]\nno-binary-package = [\"six\"]\n");
    let cache = tempfile::tempdir().expect("tempdir");
    let dir = work.path().to_str().expect("utf-8");
    let args = [
        "lock",
        dir,
        "--format",
        "json",
        "--frozen",
        "--system",
        "x86_64-linux",
        "--python",
        "3.12",
    ];
    let plan: serde_json::Value =
        serde_json::from_str(&ok(&py2nix(&args, &server, cache.path()))).expect("json");
    assert_eq!(
        packages(&plan, TARGET)["six"]["src"]["kind"],
        "sdist",
        "{plan}"
    );
    // The root says `no-build = false`, the member `true`: uv's workspace reader refuses that.
    let root = work.path().join("pyproject.toml");
    let text = std::fs::read_to_string(&root).expect("read");
    std::fs::write(
        &root,
        text.replace("[tool.uv]\n", "[tool.uv]\nno-build = false\n"),
    )
    .expect("write");
    append(&member, "no-build = true\n");
    let output = py2nix(&args, &server, cache.path());
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(stdout(&output).is_empty());
    assert!(
        err.contains("packages/app/pyproject.toml: [tool.uv] no-build conflicts with the value another pyproject.toml of the workspace gives it"),
        "{err}"
    );
}

#[test]
fn a_find_links_url_is_planned_with_the_locks_urls_without_an_index() {
    // No index page is fetched for a find-links package (a find-links page is not a Simple
    // API): the server below answers nothing of it, and the host does not exist.
    let server = IndexServer::start(Mode::Html);
    let work = tempfile::tempdir().expect("tempdir");
    let links = "https://links.example.invalid/wheels/";
    std::fs::write(
        work.path().join("pyproject.toml"),
        format!(
            "[project]\nname = \"fl\"\nversion = \"0.1.0\"\nrequires-python = \">=3.11\"\ndependencies = [\"attrs\"]\n\n[tool.uv]\npackage = false\nfind-links = [\"{links}\"]\n"
        ),
    )
    .expect("write");
    std::fs::write(
        work.path().join("uv.lock"),
        format!(
            r#"version = 1
revision = 3
requires-python = ">=3.11"

[[package]]
name = "attrs"
version = "23.1.0"
source = {{ registry = "{links}" }}
wheels = [
    {{ url = "{links}attrs-23.1.0-py3-none-any.whl", hash = "sha256:1f28b4522cdc2fb4256ac1a020c78acf9cba2c6b461ccd2c126f3aa8e8335d04", size = 61160 }},
]

[[package]]
name = "fl"
version = "0.1.0"
source = {{ virtual = "." }}
dependencies = [
    {{ name = "attrs" }},
]
"#
        ),
    )
    .expect("write");
    let cache = tempfile::tempdir().expect("tempdir");
    let dir = work.path().to_str().expect("utf-8");
    let output = py2nix(
        &[
            "lock",
            dir,
            "--format",
            "json",
            "--frozen",
            "--system",
            "x86_64-linux",
            "--python",
            "3.12",
        ],
        &server,
        cache.path(),
    );
    let plan: serde_json::Value = serde_json::from_str(&ok(&output)).expect("json");
    let src = &packages(&plan, TARGET)["attrs"]["src"];
    assert_eq!(src["kind"], "wheel");
    assert_eq!(src["url"], format!("{links}attrs-23.1.0-py3-none-any.whl"));
    assert_eq!(
        src["hash"],
        "sha256-Hyi0UizcL7QlasGgIMeKz5y6LGtGHM0sEm86qOgzXQQ="
    );
    assert_eq!(server.requests(), 0);
}
