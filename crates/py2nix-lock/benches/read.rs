//! Phase 1, read: parsing a lock (and pyproject.toml) into the model, against the floor of
//! parsing the same text into a generic TOML value.
//!
//! `cargo bench -p py2nix-lock --bench read`; synthetic locks too with
//! `PY2NIX_BENCH_SYNTH=target/bench/synth-1000,...` (directories made by
//! `scripts/bench/synth.py`).

#![allow(clippy::unwrap_used)]

use std::path::Path;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

struct Input {
    name: String,
    uv: bool,
    lock: String,
    pyproject: String,
}

fn inputs() -> Vec<Input> {
    let load = |name: String, uv: bool, dir: &Path| {
        let file = if uv { "uv.lock" } else { "poetry.lock" };
        Input {
            name,
            uv,
            lock: std::fs::read_to_string(dir.join(file)).unwrap(),
            pyproject: std::fs::read_to_string(dir.join("pyproject.toml")).unwrap(),
        }
    };
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/bench/jupyterlab");
    let mut out = vec![
        load("jupyterlab/uv.lock".into(), true, &fixture),
        load("jupyterlab/poetry.lock".into(), false, &fixture),
    ];
    let synth = std::env::var("PY2NIX_BENCH_SYNTH").unwrap_or_default();
    for dir in synth.split(',').filter(|d| !d.is_empty()) {
        let dir = Path::new(dir);
        let label = dir.file_name().unwrap().to_string_lossy().to_string();
        out.push(load(format!("{label}/uv.lock"), true, &dir.join("project")));
        out.push(load(
            format!("{label}/poetry.lock"),
            false,
            &dir.join("poetry"),
        ));
    }
    out
}

fn read(c: &mut Criterion) {
    let mut group = c.benchmark_group("read");
    group.sample_size(20);
    for input in inputs() {
        group.throughput(Throughput::Bytes(input.lock.len() as u64));
        group.bench_with_input(BenchmarkId::new("lock", &input.name), &input, |b, input| {
            b.iter(|| {
                if input.uv {
                    py2nix_lock::parse_uv_lock(&input.lock).unwrap()
                } else {
                    py2nix_lock::parse_poetry_lock(&input.lock).unwrap()
                }
            })
        });
        group.bench_with_input(
            BenchmarkId::new("toml-floor", &input.name),
            &input,
            |b, input| b.iter(|| input.lock.parse::<toml::Table>().unwrap()),
        );
        group.bench_with_input(
            BenchmarkId::new("pyproject", &input.name),
            &input,
            |b, input| b.iter(|| py2nix_lock::parse_pyproject(&input.pyproject).unwrap()),
        );
    }
    group.finish();
}

criterion_group!(benches, read);
criterion_main!(benches);
