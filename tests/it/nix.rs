//! What real Nix can check: every python.nix parses, its plan is the JSON plan, the package
//! set evaluates against stand-ins for nixpkgs, and planned files download with their hashes.

use std::path::Path;

use crate::common::{
    fixture, fixture_names, nix, ok, py2nix, repo_root, selection_args, IndexServer, Mode,
    TWO_TARGETS,
};

fn write_plan_files(
    name: &str,
    server: &IndexServer,
    cache: &Path,
    dir: &Path,
) -> (std::path::PathBuf, serde_json::Value) {
    write_plan_files_of(
        &fixture(name),
        name,
        &selection_args(name),
        server,
        cache,
        dir,
    )
}

/// python.nix (as `<label>.nix` in `dir`) and the JSON plan of the project in `fixture_dir`
/// for the standard targets, with `extra` flags.
fn write_plan_files_of(
    fixture_dir: &Path,
    label: &str,
    extra: &[&str],
    server: &IndexServer,
    cache: &Path,
    dir: &Path,
) -> (std::path::PathBuf, serde_json::Value) {
    let nix_path = dir.join(format!("{}.nix", label.replace('/', "-")));
    let mut args = vec![
        "lock",
        fixture_dir.to_str().expect("utf-8"),
        "-o",
        nix_path.to_str().expect("utf-8"),
    ];
    args.extend(TWO_TARGETS);
    args.extend(extra);
    ok(&py2nix(&args, server, cache));
    // The JSON plan beside python.nix: paths in the plan are relative to the output's directory.
    let json_path = nix_path.with_extension("json");
    let mut json_args = args.clone();
    json_args.splice(
        2..4,
        ["--format", "json", "-o", json_path.to_str().expect("utf-8")],
    );
    ok(&py2nix(&json_args, server, cache));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).expect("read the JSON plan"))
            .expect("JSON plan");
    (nix_path, json)
}

fn eval_json(expression: &str) -> serde_json::Value {
    let output = nix(
        "nix-instantiate",
        &[
            "--eval",
            "--strict",
            "--json",
            "--readonly-mode",
            "--expr",
            expression,
        ],
    );
    assert!(
        output.status.success(),
        "nix-instantiate failed for {expression}:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("nix printed JSON")
}

#[test]
fn every_python_nix_parses_and_its_plan_equals_the_json_plan() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let out = tempfile::tempdir().expect("tempdir");
    for name in fixture_names() {
        let (nix_path, json) = write_plan_files(&name, &server, cache.path(), out.path());
        let parse = nix(
            "nix-instantiate",
            &["--parse", nix_path.to_str().expect("utf-8")],
        );
        assert!(
            parse.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&parse.stderr)
        );
        let plan = eval_json(&format!(
            "let f = import {}; in (f (builtins.mapAttrs (_: _: throw \"plan must not need arguments\") (builtins.functionArgs f))).plan",
            nix_path.display()
        ));
        assert_eq!(
            plan, json,
            "{name}: the python.nix plan differs from the JSON plan"
        );
    }
}

/// The whole package set and environment of every fixture evaluate (no infinite recursion on
/// the cyclic lock), with every dependency edge either propagated or cut.
#[test]
fn package_sets_evaluate_with_stand_ins_for_nixpkgs() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let out = tempfile::tempdir().expect("tempdir");
    for name in fixture_names() {
        let (nix_path, json) = write_plan_files(&name, &server, cache.path(), out.path());
        check_package_sets(&name, &nix_path, &json);
    }
}

/// The package set and environments of both standard targets evaluate against the stubs: `env`
/// holds the main dependencies' closure (every package for a plan without selections), and
/// `envWith` every group and extra held, every package but the project's own.
fn check_package_sets(name: &str, nix_path: &Path, json: &serde_json::Value) {
    let stubs = repo_root().join("tests/nix");
    for (system, python, id) in [
        ("x86_64-linux", "3.11", "x86_64-linux-cp311"),
        ("aarch64-darwin", "3.13", "aarch64-darwin-cp313"),
    ] {
        let Some(target) = json["targets"].get(id) else {
            continue;
        };
        let result = eval_json(&format!(
            "let s = import {stubs}/stubs.nix {{ system = \"{system}\"; pythonVersion = \"{python}\"; }};
                 r = import {file} s.args; h = import {stubs}/lib.nix;
                 project = r.plan.project or {{ }};
                 all = r.envWith {{ groups = project.groups or [ ]; extras = project.extras or [ ]; }};
             in {{ forced = h.forceAll r; env = r.env.extraLibs; all = all.extraLibs; }}",
            stubs = stubs.display(),
            file = nix_path.display()
        ));
        assert_eq!(result["forced"], true, "{name} {id}");
        let sorted = |value: &serde_json::Value| -> Vec<String> {
            let mut names: Vec<String> = value
                .as_array()
                .expect("names")
                .iter()
                .map(|v| v.as_str().expect("name").to_string())
                .collect();
            names.sort();
            names
        };
        let project = json["project"]["package"].as_str();
        let everything: Vec<String> = target["packages"]
            .as_object()
            .expect("packages")
            .keys()
            .filter(|p| Some(p.as_str()) != project)
            .cloned()
            .collect();
        let main = match target.get("selections") {
            Some(selections) => sorted(&selections["main"]),
            None => everything.clone(),
        };
        assert_eq!(
            sorted(&result["env"]),
            main,
            "{name} {id}: env must hold the main dependencies' closure"
        );
        assert_eq!(
            sorted(&result["all"]),
            everything,
            "{name} {id}: every group and extra together must hold every package but the project"
        );
    }
}

#[test]
fn the_nix_logic_unit_tests_pass() {
    let output = std::process::Command::new("bash")
        .arg(repo_root().join("tests/nix/run.sh"))
        .output()
        .expect("run tests/nix/run.sh");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "tests/nix/run.sh failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
}

/// Real downloads through Nix's own fetcher: the planned URL and SRI hash are what Nix accepts,
/// and a wrong hash is refused.
#[test]
fn planned_files_fetch_with_builtins_fetchurl() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let out = tempfile::tempdir().expect("tempdir");
    let (_, json) = write_plan_files("flask-pillow", &server, cache.path(), out.path());
    let packages = &json["targets"]["x86_64-linux-cp311"]["packages"];
    fetch_with_nix(packages, &["blinker", "itsdangerous", "click"]);
    let src = &packages["blinker"]["src"];
    let wrong = "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    let url = src["url"].as_str().expect("url");
    let output = nix(
        "nix-instantiate",
        &[
            "--eval",
            "--expr",
            &format!("builtins.fetchurl {{ url = \"{url}?refetch\"; sha256 = \"{wrong}\"; }}"),
        ],
    );
    assert!(!output.status.success(), "a wrong hash must be refused");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("hash mismatch"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Each named package's planned file, fetched by `builtins.fetchurl` with the planned hash.
fn fetch_with_nix(packages: &serde_json::Value, names: &[&str]) {
    for name in names {
        let src = &packages[name]["src"];
        let (url, hash) = (
            src["url"].as_str().expect("url"),
            src["hash"].as_str().expect("hash"),
        );
        let output = nix(
            "nix-instantiate",
            &[
                "--eval",
                "--json",
                "--expr",
                &format!("builtins.fetchurl {{ url = \"{url}\"; sha256 = \"{hash}\"; }}"),
            ],
        );
        assert!(
            output.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let path: String = serde_json::from_slice(&output.stdout).expect("a store path");
        assert!(Path::new(&path).exists(), "{path}");
    }
}

/// The same Nix checks for one fixture of each other lock format: python.nix parses, its plan
/// is the JSON plan, the package sets evaluate, and sampled files fetch with their hashes.
#[test]
fn other_lock_formats_pass_the_nix_checks() {
    let server = IndexServer::start(Mode::Html);
    let out = tempfile::tempdir().expect("tempdir");
    let pylock = crate::common::fixture_dir("pylock/flask-pillow/pylock.toml");
    let fixtures: [(&str, Vec<&str>, &[&str]); 3] = [
        ("uv/flask-pillow", vec![], &["werkzeug", "iniconfig"]),
        (
            "pylock/flask-pillow",
            vec!["--lock", pylock.to_str().expect("utf-8")],
            // pysocks: the lock spells the wheel's name differently from the index.
            &["pysocks", "jinja2"],
        ),
        ("requirements/flask-pillow", vec![], &["idna", "certifi"]),
    ];
    for (label, extra, sampled) in fixtures {
        let cache = tempfile::tempdir().expect("tempdir");
        let (nix_path, json) = write_plan_files_of(
            &crate::common::fixture_dir(label),
            label,
            &extra,
            &server,
            cache.path(),
            out.path(),
        );
        let parse = nix(
            "nix-instantiate",
            &["--parse", nix_path.to_str().expect("utf-8")],
        );
        assert!(
            parse.status.success(),
            "{label}: {}",
            String::from_utf8_lossy(&parse.stderr)
        );
        let plan = eval_json(&format!(
            "let f = import {}; in (f (builtins.mapAttrs (_: _: throw \"plan must not need arguments\") (builtins.functionArgs f))).plan",
            nix_path.display()
        ));
        assert_eq!(
            plan, json,
            "{label}: the python.nix plan differs from the JSON plan"
        );
        check_package_sets(label, &nix_path, &json);
        fetch_with_nix(&json["targets"]["x86_64-linux-cp311"]["packages"], sampled);
    }
}

/// Whatever text reaches python.nix comes back unchanged when real Nix evaluates the file:
/// quotes, backslashes, `${`, `''`, newlines and non-ASCII cannot inject Nix code.
#[test]
fn hostile_strings_round_trip_through_real_nix() {
    let hostile = [
        "\"; builtins.abort \"injected\"; \"",
        "${builtins.abort \"injected\"}",
        "\\${x}",
        "$${x}",
        "''${x}",
        "a\\",
        "line\nbreak\ttab\rreturn",
        "\u{202e}ünïcødé ✓",
        "inherit",
        "",
    ];
    let mut packages = serde_json::Map::new();
    for (i, text) in hostile.iter().enumerate() {
        packages.insert(
            text.to_string(),
            serde_json::json!({"version": text, "src": {"kind": "wheel", "filename": text, "url": text, "hash": text}, "dependencies": [text], "n": i}),
        );
    }
    let plan = serde_json::json!({"schema": 1, "generator": "test", "targets": {"${x}": {"system": "x86_64-linux", "python": "3.11", "roots": hostile, "packages": packages}}});
    let text = py2nix_nix::render_python_nix(&plan, "0.1.0").expect("render");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("python.nix");
    std::fs::write(&path, text).expect("write");
    let evaluated = eval_json(&format!(
        "let f = import {}; in (f (builtins.mapAttrs (_: _: throw \"plan must not need arguments\") (builtins.functionArgs f))).plan",
        path.display()
    ));
    assert_eq!(evaluated, plan);
}
