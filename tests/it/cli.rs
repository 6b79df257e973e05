//! The command line itself: help, defaults, exit codes.

use std::process::Command;

use crate::common::{fixture, linux_311_plan, ok, py2nix, IndexServer, Mode};

#[test]
fn help_explains_the_flags() {
    let output = Command::new(env!("CARGO_BIN_EXE_py2nix"))
        .args(["lock", "--help"])
        .output()
        .expect("run");
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for flag in [
        "--format",
        "--system",
        "--python",
        "--group",
        "--extra",
        "--all-extras",
        "--no-binary",
        "--only-binary",
        "--index-url",
        "--offline",
        "--output",
    ] {
        assert!(help.contains(flag), "help lacks {flag}:\n{help}");
    }
}

#[test]
fn unknown_flags_exit_1() {
    let output = Command::new(env!("CARGO_BIN_EXE_py2nix"))
        .args(["lock", "--frobnicate"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(1));
}

/// Without --system and --python: all four systems, and the CPython versions from 3.11 to 3.14
/// that requires-python (here `>=3.9,<3.14`) allows.
#[test]
fn default_targets() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let dir = fixture("flask-pillow");
    let json = ok(&py2nix(
        &["lock", dir.to_str().expect("utf-8"), "--format", "json"],
        &server,
        cache.path(),
    ));
    let plan: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    let ids: Vec<&String> = plan["targets"]
        .as_object()
        .expect("targets")
        .keys()
        .collect();
    let mut expected = Vec::new();
    for system in [
        "aarch64-darwin",
        "aarch64-linux",
        "x86_64-darwin",
        "x86_64-linux",
    ] {
        for python in ["311", "312", "313"] {
            expected.push(format!("{system}-cp{python}"));
        }
    }
    assert_eq!(ids, expected.iter().collect::<Vec<_>>());
    assert_eq!(
        plan["targets"]["x86_64-linux-cp311"]["platform"]["glibc"],
        "2.40"
    );
    assert_eq!(
        plan["targets"]["aarch64-darwin-cp313"]["platform"]["macos"],
        "14.0"
    );
}

/// --no-binary :all: turns every package into an sdist build with its build system.
#[test]
fn no_binary_all_builds_from_sdists_with_build_systems() {
    let plan = linux_311_plan("flask-pillow", &["--no-binary", ":all:"]);
    let packages = plan["targets"]["x86_64-linux-cp311"]["packages"]
        .as_object()
        .expect("packages");
    for (name, package) in packages {
        assert_eq!(package["src"]["kind"], "sdist", "{name}");
        assert!(
            package["build-system"]
                .as_array()
                .is_some_and(|b| !b.is_empty()),
            "{name} has no build system"
        );
        assert!(
            package.get("warnings").is_none(),
            "{name} is in the override database: {package}"
        );
    }
    let pillow_inputs = packages["pillow"]["build-inputs"]
        .as_array()
        .expect("pillow build-inputs");
    assert!(
        pillow_inputs.iter().any(|i| i == "libjpeg") && pillow_inputs.iter().any(|i| i == "zlib")
    );
    let flask = &packages["flask"];
    assert_eq!(flask["build-system"], serde_json::json!(["flit-core"]));
}
