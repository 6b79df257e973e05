//! What the phase benchmarks share (included by `py2nix-plan`'s and `py2nix-nix`'s benches): the
//! inputs, each phase as the binary runs it, and a `Sources` that answers from the lock itself
//! (the index lookup is I/O, measured by the whole-process benchmark, scripts/bench/).
//!
//! Inputs: the jupyterlab fixture's uv.lock and poetry.lock, plus every synthetic project named
//! in `PY2NIX_BENCH_SYNTH` (comma-separated directories made by `scripts/bench/synth.py`).

#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use py2nix_lock::{GitSource, Lock, LockFormat, LockedFile, LockedPackage, Project};
use py2nix_overrides::OverrideDb;
use py2nix_plan::{
    IndexedFile, NixSystem, Plan, PlanError, PythonVersion, ResolvedGit, Selection, Sources,
    Target, TargetResolution,
};

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Uv,
    Poetry,
}

/// One lock to benchmark, as text (reading the file is not part of any phase).
pub struct Input {
    pub name: String,
    pub kind: Kind,
    pub lock: String,
    pub pyproject: String,
}

impl Input {
    fn load(name: String, kind: Kind, dir: &Path) -> Input {
        let file = match kind {
            Kind::Uv => "uv.lock",
            Kind::Poetry => "poetry.lock",
        };
        let read = |p: PathBuf| {
            std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        };
        Input {
            name,
            kind,
            lock: read(dir.join(file)),
            pyproject: read(dir.join("pyproject.toml")),
        }
    }
}

/// The jupyterlab fixture's two locks, then the synthetic ones from `PY2NIX_BENCH_SYNTH`.
pub fn inputs() -> Vec<Input> {
    let fixture = repo().join("fixtures/bench/jupyterlab");
    let mut out = vec![
        Input::load("jupyterlab/uv.lock".into(), Kind::Uv, &fixture),
        Input::load("jupyterlab/poetry.lock".into(), Kind::Poetry, &fixture),
    ];
    let synth = std::env::var("PY2NIX_BENCH_SYNTH").unwrap_or_default();
    for dir in synth.split(',').filter(|d| !d.is_empty()) {
        let dir = Path::new(dir);
        let label = dir.file_name().unwrap().to_string_lossy().to_string();
        out.push(Input::load(
            format!("{label}/uv.lock"),
            Kind::Uv,
            &dir.join("project"),
        ));
        out.push(Input::load(
            format!("{label}/poetry.lock"),
            Kind::Poetry,
            &dir.join("poetry"),
        ));
    }
    out
}

/// Phase 1, read: the lock and the project it plans for, as `py2nix lock` takes them.
pub fn read(input: &Input) -> (Lock, Project) {
    let pyproject = py2nix_lock::parse_pyproject(&input.pyproject).unwrap();
    let lock = match input.kind {
        Kind::Uv => py2nix_lock::parse_uv_lock(&input.lock).unwrap(),
        Kind::Poetry => py2nix_lock::parse_poetry_lock(&input.lock).unwrap(),
    };
    let project = match (lock.format, &lock.project) {
        (LockFormat::Uv, Some(project)) => project.clone(),
        _ => pyproject,
    };
    (lock, project)
}

/// The one target of the whole-process benchmark: x86_64-linux, CPython 3.12.
pub fn targets() -> Vec<Target> {
    vec![Target::new(NixSystem::X86_64Linux, PythonVersion::new(12))]
}

/// The repository's override database, as the binary embeds it.
pub fn overrides() -> OverrideDb {
    let root = repo().join("overrides");
    let mut files = Vec::new();
    collect(&root, &root, &mut files);
    OverrideDb::from_files(files).unwrap()
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(root, &path, out);
        } else {
            let relative = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            out.push((relative, std::fs::read_to_string(&path).unwrap_or_default()));
        }
    }
}

/// Phase 3, resolve: every target's closure and chosen files.
pub fn resolve(lock: &Lock, project: &Project) -> Vec<TargetResolution> {
    py2nix_plan::resolve_targets(
        lock,
        project,
        &Selection::default(),
        &targets(),
        &py2nix_plan::FormatControl::default(),
    )
    .unwrap()
}

/// Phase 5, assemble: the plan, with files' URLs and hashes from the lock.
pub fn assemble(lock: &Lock, resolutions: &[TargetResolution], overrides: &OverrideDb) -> Plan {
    py2nix_plan::assemble_plan(lock, resolutions, &FromLock, overrides, "py2nix bench").unwrap()
}

/// Answers every index lookup from the lock: its URL (or one made from the file name) and its
/// hash, as an index that agrees with the lock would.
pub struct FromLock;

impl Sources for FromLock {
    fn index_file(
        &self,
        _package: &LockedPackage,
        file: &LockedFile,
    ) -> Result<IndexedFile, PlanError> {
        Ok(IndexedFile {
            url: file
                .url
                .clone()
                .unwrap_or_else(|| format!("https://files.example.org/{}", file.filename)),
            sha256: file.hash.as_ref().map(|h| h.hex.clone()),
            yanked: false,
            auth_index: None,
        })
    }

    fn url_sha256(&self, _package: &LockedPackage, _url: &str) -> Result<String, PlanError> {
        Ok("0".repeat(64))
    }

    fn git(&self, package: &LockedPackage, _git: &GitSource) -> Result<ResolvedGit, PlanError> {
        Err(PlanError::Request(format!(
            "`{}`: the benchmark inputs have no git sources",
            package.name
        )))
    }

    fn local_path(&self, _package: &LockedPackage, path: &str) -> Result<String, PlanError> {
        Ok(path.to_string())
    }
}
