//! Phase 6, emit: the plan as python.nix (`render_python_nix`: the JSON value printed as a Nix
//! literal, the logic appended, the whole checked to parse), with its parts on their own, and
//! the JSON output for comparison.
//!
//! `cargo bench -p py2nix-nix --bench emit`; synthetic locks too with
//! `PY2NIX_BENCH_SYNTH=target/bench/synth-1000,...`.

#![allow(clippy::unwrap_used)]

#[path = "../../py2nix-plan/benches/common/mod.rs"]
mod common;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use py2nix_nix::Expr;

fn emit(c: &mut Criterion) {
    let overrides = common::overrides();
    let mut group = c.benchmark_group("emit");
    group.sample_size(20);
    for input in common::inputs() {
        let (lock, project) = common::read(&input);
        let resolutions = common::resolve(&lock, &project);
        let plan = common::assemble(&lock, &resolutions, &overrides);
        let json = serde_json::to_value(&plan).unwrap();
        let text = py2nix_nix::render_python_nix(&json, "0.0.0").unwrap();
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(BenchmarkId::new("python.nix", &input.name), &(), |b, ()| {
            b.iter(|| {
                let json = serde_json::to_value(&plan).unwrap();
                py2nix_nix::render_python_nix(&json, "0.0.0").unwrap()
            })
        });
        group.bench_with_input(BenchmarkId::new("print", &input.name), &(), |b, ()| {
            b.iter(|| Expr::from_json(&json).unwrap().to_nix_indented(1).unwrap())
        });
        group.bench_with_input(
            BenchmarkId::new("parse-check", &input.name),
            &(),
            |b, ()| b.iter(|| rnix::Root::parse(&text).errors().is_empty()),
        );
        group.bench_with_input(BenchmarkId::new("json", &input.name), &(), |b, ()| {
            b.iter(|| serde_json::to_string_pretty(&json).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, emit);
criterion_main!(benches);
