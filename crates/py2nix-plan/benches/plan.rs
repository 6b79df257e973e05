//! Phases 3 and 5, plan: the closure walk and file choice for one target (`resolve_targets`),
//! and assembling the plan (`assemble_plan`: hash checks, cycle breaks, overrides), with the
//! index lookups answered from the lock.
//!
//! `cargo bench -p py2nix-plan --bench plan`; synthetic locks too with
//! `PY2NIX_BENCH_SYNTH=target/bench/synth-1000,...`.

#![allow(clippy::unwrap_used)]

mod common;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn plan(c: &mut Criterion) {
    let overrides = common::overrides();
    let mut group = c.benchmark_group("plan");
    group.sample_size(20);
    for input in common::inputs() {
        let (lock, project) = common::read(&input);
        group.throughput(Throughput::Elements(lock.packages.len() as u64));
        group.bench_with_input(BenchmarkId::new("resolve", &input.name), &(), |b, ()| {
            b.iter(|| common::resolve(&lock, &project))
        });
        let resolutions = common::resolve(&lock, &project);
        group.bench_with_input(BenchmarkId::new("assemble", &input.name), &(), |b, ()| {
            b.iter(|| common::assemble(&lock, &resolutions, &overrides))
        });
    }
    group.finish();
}

criterion_group!(benches, plan);
criterion_main!(benches);
