//! pip as a real builder: the x86_64-linux / CPython 3.11 plan is downloaded from its URLs,
//! hash-checked, installed with `pip install --no-deps` into a fresh venv, `pip check`ed,
//! and its top-level modules imported.

use std::process::Command;

use crate::common::{
    fixture_dir, json_plan, linux_311_plan, run_ok as run, sri_to_hex, IndexServer, Mode,
};

fn python311() -> Option<String> {
    for candidate in ["python3.11", "python3"] {
        let output = Command::new(candidate).args(["-c", "import sys, platform; print(sys.version_info[:2] == (3, 11) and platform.machine() == 'x86_64' and sys.platform == 'linux')"]).output();
        if let Ok(output) = output {
            if String::from_utf8_lossy(&output.stdout).trim() == "True" {
                return Some(candidate.to_string());
            }
        }
    }
    None
}

fn install_and_import(fixture_name: &str, modules: &[&str]) {
    install_plan_and_import(&linux_311_plan(fixture_name, &[]), modules);
}

/// The x86_64-linux / CPython 3.11 plan of another lock format, from a fresh index and cache.
fn other_format_plan(dir: &str, extra: &[&str]) -> serde_json::Value {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let mut args = vec!["--system", "x86_64-linux", "--python", "3.11"];
    args.extend(extra);
    json_plan(&fixture_dir(dir), &args, &server, cache.path())
}

fn install_plan_and_import(plan: &serde_json::Value, modules: &[&str]) {
    let python = python311()
        .expect("these end-to-end tests need CPython 3.11 on x86_64 Linux (python3.11 or python3)");
    let packages = plan["targets"]["x86_64-linux-cp311"]["packages"]
        .as_object()
        .expect("packages");
    let work = tempfile::tempdir().expect("tempdir");
    // pip downloads each file from the planned URL and refuses it unless its sha256 matches.
    let requirements: String = packages
        .iter()
        .map(|(name, package)| {
            let src = &package["src"];
            assert_eq!(
                src["kind"], "wheel",
                "{name}: the plan for this target should use wheels"
            );
            format!(
                "{name} @ {} --hash=sha256:{}\n",
                src["url"].as_str().expect("url"),
                sri_to_hex(src["hash"].as_str().expect("hash"))
            )
        })
        .collect();
    let requirements_path = work.path().join("requirements.txt");
    std::fs::write(&requirements_path, requirements).expect("write requirements");
    let venv = work.path().join("venv");
    run(Command::new(&python).args(["-m", "venv"]).arg(&venv));
    let venv_python = venv.join("bin/python");
    run(Command::new(&venv_python)
        .args([
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-cache-dir",
            "--no-index",
            "--require-hashes",
            "--only-binary",
            ":all:",
            "-r",
        ])
        .arg(&requirements_path)
        .env_remove("PIP_FIND_LINKS"));
    run(Command::new(&venv_python).args(["-m", "pip", "check"]));
    let imports = modules
        .iter()
        .map(|m| format!("import {m}"))
        .collect::<Vec<_>>()
        .join("; ");
    run(Command::new(&venv_python).args(["-c", &imports]));
}

#[test]
fn the_flask_app_installs_and_imports() {
    install_and_import("flask-pillow", &["flask", "PIL.Image", "requests"]);
}

#[test]
fn the_data_science_stack_installs_and_imports() {
    install_and_import(
        "data-science",
        &["numpy", "scipy.linalg", "pandas", "matplotlib.pyplot"],
    );
}

/// The lock with a dependency cycle (sphinx <-> sphinxcontrib-applehelp) installs whole.
#[test]
fn the_cyclic_lock_installs_and_imports() {
    install_and_import("cycle", &["sphinx", "sphinxcontrib.applehelp"]);
}

/// The uv lock of the Flask app, with its default dev group (pytest).
#[test]
fn the_uv_flask_app_installs_and_imports() {
    let plan = other_format_plan("uv/flask-pillow", &[]);
    install_plan_and_import(&plan, &["flask", "PIL.Image", "requests", "pytest"]);
}

/// The pylock.toml of the Flask app (every extra and group exported), dependencies from core
/// metadata: pip check finds every one of them installed.
#[test]
fn the_pylock_flask_app_installs_and_imports() {
    let lock = fixture_dir("pylock/flask-pillow/pylock.toml");
    let plan = other_format_plan(
        "pylock/flask-pillow",
        &["--lock", lock.to_str().expect("utf-8")],
    );
    install_plan_and_import(
        &plan,
        &["flask", "PIL.Image", "requests", "socks", "yaml", "pytest"],
    );
}
