//! The Nix printer's fuzz corpus (`fuzz/corpus/nix_printer/`), replayed through the fuzz
//! target's check (`fuzz/src/nix.rs`: print, parse back with rnix, compare), then a fixed
//! number of deterministic mutants of it; a sample also goes through `render_python_nix`.
//! See docs/fuzzing.md.

#![allow(dead_code)]

use std::path::PathBuf;

#[path = "../../../fuzz/src/mutate.rs"]
mod mutate;
#[path = "../../../fuzz/src/nix.rs"]
mod nix;

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/nix_printer")
}

#[test]
fn fuzz_corpus_nix_printer() {
    let iterations = std::env::var("PY2NIX_FUZZ_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let failed = std::env::temp_dir().join("py2nix-fuzz-failures/nix_printer");
    let ran = mutate::replay_and_mutate(&corpus(), &nix::nix_printer, iterations, 10, &failed);
    eprintln!("nix_printer: {ran} inputs");
}

#[test]
fn corpus_values_render_as_python_nix() {
    for (_, bytes) in mutate::corpus(&corpus()).iter().step_by(25) {
        nix::check_render(&nix::decode(bytes));
    }
}

#[test]
fn the_check_catches_a_printer_that_lets_code_through() {
    // What the check does with a printed text that is code, not data.
    assert!(nix::parse("{ a = \"${builtins.currentTime}\"; }").is_err());
    assert!(nix::parse("{ a = builtins.currentTime; }").is_err());
    assert!(nix::parse("{ a = import ./x.nix; }").is_err());
    assert!(nix::parse("rec { a = 1; }").is_err());
    assert_eq!(
        nix::parse("{ \"a b\" = [ (-1) \"x\\${y}\" null ]; }"),
        Ok(py2nix_nix::Expr::Attrs(vec![(
            "a b".into(),
            py2nix_nix::Expr::List(vec![
                py2nix_nix::Expr::Int(-1),
                py2nix_nix::Expr::Str("x${y}".into()),
                py2nix_nix::Expr::Null,
            ])
        )]))
    );
}
