//! Build systems, discovered: the `uv/sdist-build` fixture (psycopg2, sdist only; cryptography
//! and rpds-py, Rust, planned from their sdists; iniconfig, pure Python, from its sdist) gets
//! `build-requires`, `build-packages` and `cargo` from the sdists themselves. The sdists and
//! crates are downloaded from their real URLs; the index is the recorded one.

use std::process::Command;

use crate::common::{
    build_closure_sources, download_checked, fixture_dir, nix, ok, py2nix, run_ok as run, strings,
    IndexServer, Mode,
};

const NO_BINARY: &str = "cryptography,rpds-py,iniconfig";

fn args<'a>(dir: &'a str, format: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "lock",
        dir,
        "--format",
        format,
        "--system",
        "x86_64-linux",
        "--system",
        "aarch64-darwin",
        "--python",
        "3.11",
        "--python",
        "3.13",
        "--no-binary",
        NO_BINARY,
    ];
    args.extend(extra);
    args
}

fn plan_json(server: &IndexServer, cache: &std::path::Path, extra: &[&str]) -> String {
    let dir = fixture_dir("uv/sdist-build");
    ok(&py2nix(
        &args(dir.to_str().expect("utf-8"), "json", extra),
        server,
        cache,
    ))
}

/// Every `build-requires` names a build package or a package; build packages' dependencies
/// stay within both; every package built from an sdist has `build-requires`.
fn check_build_closure(plan: &serde_json::Value) {
    for (id, target) in plan["targets"].as_object().expect("targets") {
        let packages = target["packages"].as_object().expect("packages");
        let build = target["build-packages"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let known = |name: &str| build.contains_key(name) || packages.contains_key(name);
        for (name, package) in packages.iter().chain(build.iter()) {
            if package["src"]["kind"] == "sdist" {
                assert!(
                    package.get("build-requires").is_some(),
                    "{id}: {name} is built from its sdist without build-requires"
                );
            }
            for requirement in strings(&package["build-requires"]) {
                assert!(
                    known(&requirement),
                    "{id}: {name} needs {requirement}, not planned"
                );
            }
        }
        for (name, package) in &build {
            for dependency in strings(&package["dependencies"]) {
                assert!(
                    known(&dependency),
                    "{id}: build package {name} depends on {dependency}, not planned"
                );
            }
            let plain = name.split('@').next().unwrap_or_default();
            assert!(
                !packages
                    .get(plain)
                    .is_some_and(|p| p["version"] == package["version"]),
                "{id}: build package {name} duplicates the package of the same version"
            );
        }
    }
}

#[test]
fn discovered_build_systems_and_crates_are_planned_and_a_warm_run_downloads_nothing() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let text = plan_json(&server, cache.path(), &[]);
    let plan: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    crate::common::check_invariants(&plan);
    crate::common::assert_fits_the_plan_schema("uv/sdist-build", &text);
    check_build_closure(&plan);
    let linux = &plan["targets"]["x86_64-linux-cp311"];
    let packages = &linux["packages"];
    // The sdists say what they need, whatever nixpkgs' names for it are.
    assert_eq!(
        strings(&packages["psycopg2"]["build-requires"]),
        ["setuptools"]
    );
    assert_eq!(strings(&packages["rpds-py"]["build-requires"]), ["maturin"]);
    assert_eq!(
        strings(&packages["cryptography"]["build-requires"]),
        ["cffi", "maturin", "setuptools"]
    );
    // cffi is a package of the target already; maturin is not, and comes as a wheel.
    assert!(linux["build-packages"].get("cffi").is_none());
    assert_eq!(linux["build-packages"]["maturin"]["src"]["kind"], "wheel");
    for name in ["rpds-py", "cryptography"] {
        let cargo = &packages[name]["cargo"];
        assert_eq!(cargo["root"], ".", "{name}");
        assert!(cargo["lock"]
            .as_str()
            .expect("lock")
            .contains("[[package]]"));
        let crates = cargo["crates"].as_array().expect("crates");
        assert!(
            crates.iter().any(|c| c["name"] == "pyo3"),
            "{name}: {crates:?}"
        );
        for krate in crates {
            assert!(krate["hash"].as_str().expect("hash").starts_with("sha256-"));
        }
    }
    assert!(packages["psycopg2"].get("cargo").is_none());
    insta::assert_snapshot!(
        "plan-uv-sdist-build",
        crate::common::mask_overrides_hash(&text)
    );

    // A warm run needs neither the index nor the files: --offline gives the same plan.
    let again = plan_json(&server, cache.path(), &["--offline"]);
    assert_eq!(again, text);
}

/// python.nix for the fixture: its head is snapshotted, its plan is the JSON plan, and the
/// logic evaluates the build packages into the sdists' build systems (against the stubs).
#[test]
fn python_nix_takes_the_build_system_from_the_plan() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let dir = fixture_dir("uv/sdist-build");
    let out = tempfile::tempdir().expect("tempdir");
    let file = out.path().join("python.nix");
    let text = ok(&py2nix(
        &args(dir.to_str().expect("utf-8"), "nix", &[]),
        &server,
        cache.path(),
    ));
    std::fs::write(&file, &text).expect("write python.nix");
    let head = text.split("\nin\n(\n").next().expect("head");
    insta::assert_snapshot!(
        "nix-uv-sdist-build",
        crate::common::mask_overrides_hash(head)
    );
    let stubs = crate::common::repo_root().join("tests/nix/stubs.nix");
    let expr = format!(
        r#"let
  stubs = import {stubs} {{ system = "x86_64-linux"; pythonVersion = "3.11"; }};
  py = import {file} stubs.args;
  names = drv: map (d: d.pname) drv.args.build-system;
in {{
  rpds = names py.packages.rpds-py;
  cryptography = names py.packages.cryptography;
  maturinSource = (builtins.head py.packages.rpds-py.args.build-system).args.src.url;
  cargoDeps = py.packages.rpds-py.args.cargoDeps.args ? lockFileContents;
}}"#,
        stubs = stubs.display(),
        file = file.display()
    );
    let output = nix(
        "nix-instantiate",
        &[
            "--eval",
            "--strict",
            "--json",
            "--readonly-mode",
            "--expr",
            &expr,
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(value["rpds"], serde_json::json!(["maturin"]));
    assert_eq!(
        value["cryptography"],
        serde_json::json!(["cffi", "maturin", "setuptools"])
    );
    assert!(value["maturinSource"]
        .as_str()
        .expect("url")
        .contains("maturin-"));
    assert_eq!(value["cargoDeps"], true);
}

/// A sample of the planned crates, fetched by real Nix by URL and SRI hash.
#[test]
fn a_sample_of_the_planned_crates_verifies_with_nix() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let plan: serde_json::Value =
        serde_json::from_str(&plan_json(&server, cache.path(), &[])).expect("JSON");
    let crates = plan["targets"]["x86_64-linux-cp311"]["packages"]["rpds-py"]["cargo"]["crates"]
        .as_array()
        .expect("crates")
        .clone();
    let sample: Vec<&serde_json::Value> = crates
        .iter()
        .step_by(crates.len().div_ceil(4).max(1))
        .collect();
    assert!(sample.len() >= 3, "{crates:?}");
    let store = tempfile::tempdir().expect("tempdir");
    let store_url = format!("local?root={}", store.path().display());
    for krate in sample {
        let expr = format!(
            "builtins.fetchurl {{ url = \"{}\"; sha256 = \"{}\"; }}",
            krate["url"].as_str().expect("url"),
            krate["hash"].as_str().expect("hash")
        );
        let output = nix(
            "nix-instantiate",
            &["--eval", "--store", &store_url, "--expr", &expr],
        );
        assert!(
            output.status.success(),
            "{} {}: {}",
            krate["name"],
            krate["version"],
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// pip builds iniconfig's sdist with build isolation from the planned artifacts alone (no
/// index): the discovered build system is complete.
#[test]
fn pip_builds_a_planned_sdist_from_the_planned_build_system_alone() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let plan: serde_json::Value =
        serde_json::from_str(&plan_json(&server, cache.path(), &[])).expect("JSON");
    let target = &plan["targets"]["x86_64-linux-cp311"];
    let iniconfig = &target["packages"]["iniconfig"];
    assert_eq!(iniconfig["src"]["kind"], "sdist");
    // The build system's closure, from build-packages first, then packages.
    let work = tempfile::tempdir().expect("tempdir");
    let links = work.path().join("links");
    std::fs::create_dir(&links).expect("mkdir");
    let mut sources = build_closure_sources(target, iniconfig);
    sources.push(iniconfig["src"].clone());
    for src in &sources {
        download_checked(src, &links);
    }
    let venv = work.path().join("venv");
    run(Command::new("python3").args(["-m", "venv"]).arg(&venv));
    let sdist = links.join(iniconfig["src"]["filename"].as_str().expect("filename"));
    run(Command::new(venv.join("bin/python"))
        .args([
            "-m",
            "pip",
            "wheel",
            "--no-index",
            "--no-cache-dir",
            "--no-deps",
            "--find-links",
        ])
        .arg(&links)
        .arg("--wheel-dir")
        .arg(work.path().join("out"))
        .arg(&sdist)
        .env_remove("PIP_INDEX_URL")
        .env_remove("PIP_EXTRA_INDEX_URL")
        .env_remove("PIP_FIND_LINKS"));
    let built: Vec<_> = std::fs::read_dir(work.path().join("out"))
        .expect("out")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        built
            .iter()
            .any(|f| f.starts_with("iniconfig-") && f.ends_with(".whl")),
        "{built:?}"
    );
}

/// A user's override entry corrects what an sdist says: `build-requires` adds a requirement
/// (planned like the sdist's own), `build-requires-replace` makes the rule's list the whole
/// build system.
#[test]
fn the_override_database_adds_to_or_replaces_the_sdists_build_requirements() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let overrides = tempfile::tempdir().expect("tempdir");
    let entry = overrides.path().join("in/iniconfig");
    std::fs::create_dir_all(&entry).expect("mkdir");
    let write = |text: &str| {
        std::fs::write(entry.join("override.toml"), text).expect("write override.toml");
    };
    let dir = overrides.path().to_str().expect("utf-8");
    let plan_with = |text: &str| -> serde_json::Value {
        write(text);
        serde_json::from_str(&plan_json(&server, cache.path(), &["--overrides", dir]))
            .expect("JSON")
    };
    let added = plan_with(
        "schema-version = 1\n[[rule]]\nbuild-system = [\"hatch-vcs\", \"hatchling\"]\n\
         build-requires = [\"flit-core>=3.2\"]\n",
    );
    check_build_closure(&added);
    let linux = &added["targets"]["x86_64-linux-cp311"];
    assert_eq!(
        strings(&linux["packages"]["iniconfig"]["build-requires"]),
        ["flit-core", "setuptools", "setuptools-scm"]
    );
    let flit = &linux["build-packages"]["flit-core"];
    assert_eq!(flit["src"]["kind"], "wheel");
    let major: u32 = flit["version"]
        .as_str()
        .expect("version")
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .expect("a version");
    assert!(major >= 3, "{flit}");
    // Other packages are untouched.
    assert_eq!(
        strings(&linux["packages"]["rpds-py"]["build-requires"]),
        ["maturin"]
    );

    let replaced = plan_with(
        "schema-version = 1\n[[rule]]\nbuild-system = [\"flit-core\"]\n\
         build-requires = [\"flit-core>=3.2\"]\nbuild-requires-replace = true\n",
    );
    check_build_closure(&replaced);
    let linux = &replaced["targets"]["x86_64-linux-cp311"];
    assert_eq!(
        strings(&linux["packages"]["iniconfig"]["build-requires"]),
        ["flit-core"]
    );
    assert_eq!(
        strings(&linux["packages"]["iniconfig"]["build-system"]),
        ["flit-core"]
    );
}
