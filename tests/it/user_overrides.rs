//! Users' own override directories: `--overrides DIR` and `[tool.py2nix] overrides`, merged
//! over the built-in database, and `py2nix overrides show`.

use crate::common::{fixture, linux_311_plan, ok, py2nix, IndexServer, Mode};

/// An override directory with one entry for markupsafe that the built-in database lacks.
fn user_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let entry = dir.path().join("ma/markupsafe");
    std::fs::create_dir_all(&entry).expect("mkdir");
    std::fs::write(
        entry.join("override.toml"),
        "schema-version = 1\n[[rule]]\nbuild-system = [\"setuptools\"]\nbuild-inputs = [\"zlib\"]\nnative-build-inputs = [\"pkg-config\"]\n",
    )
    .expect("write override");
    dir
}

fn markupsafe(plan: &serde_json::Value) -> &serde_json::Value {
    &plan["targets"]["x86_64-linux-cp311"]["packages"]["markupsafe"]
}

#[test]
fn an_overrides_flag_replaces_the_built_in_entry() {
    let user = user_dir();
    let dir = user.path().to_str().expect("utf-8");
    let plain = linux_311_plan("flask-pillow", &["--no-binary", "markupsafe"]);
    let with = linux_311_plan(
        "flask-pillow",
        &["--no-binary", "markupsafe", "--overrides", dir],
    );
    assert_eq!(markupsafe(&plain)["src"]["kind"], "sdist");
    assert!(markupsafe(&plain).get("build-inputs").is_none(), "{plain}");
    assert_eq!(
        markupsafe(&with)["build-inputs"],
        serde_json::json!(["zlib"])
    );
    assert_eq!(
        markupsafe(&with)["native-build-inputs"],
        serde_json::json!(["pkg-config"])
    );
    // The directory is one of the recorded inputs, so `check` sees a change to it.
    let files = with["inputs"]["files"].as_object().expect("inputs.files");
    assert!(files.keys().any(|k| k.ends_with('/')), "{files:?}");
}

#[test]
fn pyproject_names_the_overrides_directory() {
    let user = user_dir();
    let project = tempfile::tempdir().expect("tempdir");
    let source = fixture("flask-pillow");
    let pyproject = std::fs::read_to_string(source.join("pyproject.toml")).expect("pyproject");
    std::fs::write(
        project.path().join("pyproject.toml"),
        format!(
            "{pyproject}\n[tool.py2nix]\noverrides = \"{}\"\n",
            user.path().display()
        ),
    )
    .expect("write pyproject");
    std::fs::copy(
        source.join("poetry.lock"),
        project.path().join("poetry.lock"),
    )
    .expect("copy");
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let out = ok(&py2nix(
        &[
            "lock",
            project.path().to_str().expect("utf-8"),
            "--format",
            "json",
            "--system",
            "x86_64-linux",
            "--python",
            "3.11",
            "--no-binary",
            "markupsafe",
            // The directory is outside the project (untrusted_files.rs: refused without it).
            "--allow-outside-paths",
        ],
        &server,
        cache.path(),
    ));
    let plan: serde_json::Value = serde_json::from_str(&out).expect("plan");
    assert_eq!(
        markupsafe(&plan)["build-inputs"],
        serde_json::json!(["zlib"])
    );
}

#[test]
fn overrides_show_names_where_each_rule_comes_from() {
    let user = user_dir();
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let builtin = ok(&py2nix(
        &["overrides", "show", "pillow"],
        &server,
        cache.path(),
    ));
    assert!(
        builtin.contains("overrides/pi/pillow/override.toml"),
        "{builtin}"
    );
    let user_path = user.path().to_str().expect("utf-8");
    let shown = ok(&py2nix(
        &["overrides", "show", "MarkupSafe", "--overrides", user_path],
        &server,
        cache.path(),
    ));
    assert!(shown.contains("zlib"), "{shown}");
    assert!(shown.contains(user_path), "{shown}");
    // Nothing applies: an answer, not an error.
    let missing = ok(&py2nix(
        &["overrides", "show", "no-such-package"],
        &server,
        cache.path(),
    ));
    assert!(
        missing.contains("no entry in the override database"),
        "{missing}"
    );
}

/// What nixpkgs would refuse or mangle is refused when a user's directory is read, naming the
/// file and the rule: an `env` name that is also a derivation argument (mkDerivation throws)
/// and a build flag with whitespace (the pypa build hook splits it).
#[test]
fn a_user_entry_nixpkgs_cannot_build_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let entry = dir.path().join("ma/markupsafe");
    std::fs::create_dir_all(&entry).expect("mkdir");
    std::fs::write(
        entry.join("override.toml"),
        "schema-version = 1\n[[rule]]\nbuild-system = [\"setuptools\"]\nenv = { LANG = \"C\" }\n\
         build-flags = [\"-Csetup-args=-Dx=a b\"]\n",
    )
    .expect("write override");
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let fixture_dir = fixture("flask-pillow");
    let output = py2nix(
        &[
            "lock",
            fixture_dir.to_str().expect("utf-8"),
            "--format",
            "json",
            "--system",
            "x86_64-linux",
            "--python",
            "3.11",
            "--no-binary",
            "markupsafe",
            "--overrides",
            dir.path().to_str().expect("utf-8"),
        ],
        &server,
        cache.path(),
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty(), "no partial output");
    let stderr = crate::common::stderr(&output);
    let file = entry.join("override.toml");
    for problem in [
        "rule 1: env `LANG` is also an argument of the package's derivation",
        "rule 1: build-flags `-Csetup-args=-Dx=a b` holds whitespace",
    ] {
        assert!(
            stderr.contains(&format!("`{}`: {problem}", file.display())),
            "{stderr}"
        );
    }
}
