//! One reviewed snapshot of the JSON plan and one of python.nix per fixture.

use crate::common::{
    fixture, fixture_names, ok, py2nix, selection_args, IndexServer, Mode, TWO_TARGETS,
};

/// Plans a fixture for the two standard targets in the given format.
pub fn plan(name: &str, format: &str, server: &IndexServer, cache: &std::path::Path) -> String {
    let dir = fixture(name);
    let mut args = vec![
        "lock",
        dir.to_str().expect("utf-8 path"),
        "--format",
        format,
    ];
    args.extend(TWO_TARGETS);
    args.extend(selection_args(name));
    ok(&py2nix(&args, server, cache))
}

#[test]
fn json_plans() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    for name in fixture_names() {
        let json = plan(&name, "json", &server, cache.path());
        crate::common::assert_fits_the_plan_schema(&name, &json);
        insta::assert_snapshot!(
            format!("plan-{name}"),
            crate::common::mask_overrides_hash(&json)
        );
    }
}

/// python.nix is the header and plan (snapshotted) followed by the Nix logic verbatim.
#[test]
fn nix_files() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let tail = format!(
        "in\n(\n{}\n) {{ inherit plan pkgs stdenv fetchurl python3; root = ./.; }}\n",
        py2nix_nix_logic().trim_end()
    );
    for name in fixture_names() {
        let nix = plan(&name, "nix", &server, cache.path());
        let head = nix
            .strip_suffix(&tail)
            .unwrap_or_else(|| panic!("{name}: python.nix does not end with the Nix logic"));
        insta::assert_snapshot!(
            format!("nix-{name}"),
            crate::common::mask_overrides_hash(head)
        );
    }
}

fn py2nix_nix_logic() -> String {
    std::fs::read_to_string(crate::common::repo_root().join("nix/python-logic.nix"))
        .expect("nix/python-logic.nix")
}
