//! What a plan was made from (`inputs` in the JSON plan and in python.nix's `plan`): the
//! hashes of the files read, the built-in override database, py2nix's version and the
//! normalised selection options. `lock` records it; `check` recomputes it without the network.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use anyhow::Context;
#[cfg(test)]
use include_dir::{include_dir, Dir, DirEntry};
use sha2::{Digest, Sha256};

use crate::cli::SelectArgs;

/// The override database as embedded (the same directory `overrides.rs` loads), for the test
/// of its hash.
#[cfg(test)]
static OVERRIDES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../../overrides");

/// The four systems planned by default, for recognising `--system` lists that name them all.
const ALL_SYSTEMS: [&str; 4] = [
    "aarch64-darwin",
    "aarch64-linux",
    "x86_64-darwin",
    "x86_64-linux",
];

/// The record, as it appears in the plan (its type is the plan's).
pub use py2nix_plan::PlanInputs as Inputs;

/// The directory paths in the record are relative to: the generated file's, or the working
/// directory for stdout (the same rule as local paths in the plan).
pub fn base_dir(output: Option<&Path>) -> anyhow::Result<PathBuf> {
    let dir = match output.and_then(Path::parent) {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    absolute(&dir)
}

/// What a `lock` run read, recorded relative to `base`.
pub struct Recorder {
    base: PathBuf,
    lock: String,
    files: BTreeMap<String, String>,
    pyprojects: BTreeMap<String, String>,
}

impl Recorder {
    pub fn new(base: &Path, lock_path: &Path) -> anyhow::Result<Recorder> {
        let mut recorder = Recorder {
            base: base.to_path_buf(),
            lock: relative_to(base, lock_path)?,
            files: BTreeMap::new(),
            pyprojects: BTreeMap::new(),
        };
        recorder.file(lock_path)?;
        Ok(recorder)
    }

    /// Records a file (its hash).
    pub fn file(&mut self, path: &Path) -> anyhow::Result<()> {
        let bytes =
            std::fs::read(path).with_context(|| format!("failed to read `{}`", path.display()))?;
        self.files
            .insert(relative_to(&self.base, path)?, sri(&bytes));
        Ok(())
    }

    /// Records a pyproject.toml (the hash of the parts that change a plan).
    pub fn pyproject(&mut self, path: &Path) -> anyhow::Result<()> {
        self.pyprojects
            .insert(relative_to(&self.base, path)?, pyproject_digest(path)?);
        Ok(())
    }

    /// Records a directory (the hash of its tree), e.g. an overrides directory.
    pub fn dir(&mut self, path: &Path) -> anyhow::Result<()> {
        let digest = dir_digest(path)?;
        let mut key = relative_to(&self.base, path)?;
        if !key.ends_with('/') {
            key.push('/');
        }
        self.files.insert(key, digest);
        Ok(())
    }

    pub fn finish(self, select: &SelectArgs) -> anyhow::Result<Inputs> {
        Ok(Inputs {
            py2nix: env!("CARGO_PKG_VERSION").to_string(),
            lock: self.lock,
            files: self.files,
            pyprojects: self.pyprojects,
            overrides: overrides_digest(),
            options: normalised_options(select, &self.base)?,
        })
    }
}

/// The selection options as command-line arguments in a fixed order: values sorted where
/// order does not matter, names normalised, paths relative to `base`, defaults left out.
pub fn normalised_options(select: &SelectArgs, base: &Path) -> anyhow::Result<Vec<String>> {
    let SelectArgs {
        lock,
        systems,
        pythons,
        groups,
        all_groups,
        no_default_groups,
        extras,
        all_extras,
        no_binary,
        only_binary,
        glibc,
        musl,
        macos,
        overrides,
        // It refuses or allows; it changes no plan.
        allow_outside_paths: _,
    } = select;
    let mut out = Vec::new();
    let mut push = |flag: &str, value: Option<String>| {
        out.push(flag.to_string());
        out.extend(value);
    };
    if let Some(lock) = lock {
        push("--lock", Some(relative_to(base, lock)?));
    }
    let sorted = |values: &[String], normalise: fn(&str) -> String| {
        let mut values: Vec<String> = values.iter().map(|v| normalise(v)).collect();
        values.sort();
        values.dedup();
        values
    };
    let systems = sorted(systems, |s| s.to_string());
    if systems != ALL_SYSTEMS {
        for system in systems {
            push("--system", Some(system));
        }
    }
    for python in sorted(pythons, |p| p.to_string()) {
        push("--python", Some(python));
    }
    for group in sorted(groups, py2nix_lock::normalize_group) {
        push("--group", Some(group));
    }
    if *all_groups {
        push("--all-groups", None);
    }
    if *no_default_groups {
        push("--no-default-groups", None);
    }
    for extra in sorted(extras, py2nix_lock::normalize_group) {
        push("--extra", Some(extra));
    }
    if *all_extras {
        push("--all-extras", None);
    }
    // pip's semantics depend on the order of these.
    for value in no_binary {
        push("--no-binary", Some(value.clone()));
    }
    for value in only_binary {
        push("--only-binary", Some(value.clone()));
    }
    for (flag, value) in [("--glibc", glibc), ("--musl", musl), ("--macos", macos)] {
        if let Some(value) = value {
            push(flag, Some(value.clone()));
        }
    }
    if let Some(dir) = overrides {
        push("--overrides", Some(relative_to(base, dir)?));
    }
    Ok(out)
}

/// Whether any selection option is given.
pub fn any_given(select: &SelectArgs) -> bool {
    select != &SelectArgs::default()
}

/// The SRI sha256 of the parts of a pyproject.toml that change a plan (its dependency tables,
/// build system, `[tool.uv]`, `[tool.py2nix]`, the project's name, version and scripts; not
/// its description, authors, readme, classifiers, URLs, keywords or license).
pub fn pyproject_digest(path: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("failed to read `{}`", path.display()))?;
    let relevant = py2nix_lock::pyproject_plan_relevant_json(&text)
        .with_context(|| format!("failed to parse `{}`", path.display()))?;
    Ok(sri(relevant.as_bytes()))
}

/// `sha256-<base64>`, the SRI form Nix uses.
pub fn sri(bytes: &[u8]) -> String {
    py2nix_dist::sha256_sri(bytes)
}

/// The hash of the embedded override database: [`tree_digest`] of every file of `overrides/`,
/// by path, in path order. Computed at build time by `build.rs` (a test recomputes it from the
/// embedded files).
pub fn overrides_digest() -> String {
    env!("PY2NIX_OVERRIDES_DIGEST").to_string()
}

/// [`overrides_digest`] recomputed from the embedded files (for the test that compares them).
#[cfg(test)]
fn embedded_overrides_digest() -> String {
    let mut files = Vec::new();
    collect_embedded(&OVERRIDES, &mut files);
    files.sort();
    tree_digest(files.iter().map(|(path, bytes)| (path.as_str(), *bytes)))
}

#[cfg(test)]
fn collect_embedded(dir: &'static Dir<'static>, out: &mut Vec<(String, &'static [u8])>) {
    for entry in dir.entries() {
        match entry {
            DirEntry::Dir(sub) => collect_embedded(sub, out),
            DirEntry::File(file) => out.push((
                file.path().to_string_lossy().replace('\\', "/"),
                file.contents(),
            )),
        }
    }
}

/// The hash of a directory tree on disk: every file, by relative path, in path order.
pub fn dir_digest(root: &Path) -> anyhow::Result<String> {
    let mut files = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir)
            .with_context(|| format!("failed to read the directory `{}`", dir.display()))?;
        for entry in entries {
            let entry = entry.with_context(|| format!("failed to read `{}`", dir.display()))?;
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let bytes = std::fs::read(&path)
                    .with_context(|| format!("failed to read `{}`", path.display()))?;
                let relative = path
                    .strip_prefix(root)
                    .unwrap_or(&path)
                    .to_string_lossy()
                    .replace('\\', "/");
                files.push((relative, bytes));
            }
        }
    }
    files.sort();
    Ok(tree_digest(
        files
            .iter()
            .map(|(path, bytes)| (path.as_str(), bytes.as_slice())),
    ))
}

/// sha256 over `path NUL length NUL bytes` of each file, in the order given.
fn tree_digest<'a>(files: impl Iterator<Item = (&'a str, &'a [u8])>) -> String {
    let mut hasher = Sha256::new();
    for (path, bytes) in files {
        hasher.update(path.as_bytes());
        hasher.update([0]);
        hasher.update(bytes.len().to_string().as_bytes());
        hasher.update([0]);
        hasher.update(bytes);
    }
    py2nix_dist::sri("sha256", &hasher.finalize())
}

/// `path` made absolute against the working directory, with `.` and `..` resolved lexically.
pub fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .context("failed to read the working directory")?
            .join(path)
    };
    let mut out = PathBuf::new();
    for component in joined.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    Ok(out)
}

/// `path` relative to the directory `base`, `/`-separated (`../x` when it is outside).
pub fn relative_to(base: &Path, path: &Path) -> anyhow::Result<String> {
    let base = absolute(base)?;
    let path = absolute(path)?;
    let base_parts: Vec<Component> = base.components().collect();
    let path_parts: Vec<Component> = path.components().collect();
    let common = base_parts
        .iter()
        .zip(&path_parts)
        .take_while(|(a, b)| a == b)
        .count();
    let mut parts: Vec<String> = Vec::new();
    for _ in common..base_parts.len() {
        parts.push("..".to_string());
    }
    for part in &path_parts[common..] {
        parts.push(part.as_os_str().to_string_lossy().into_owned());
    }
    if parts.is_empty() {
        Ok(".".to_string())
    } else {
        Ok(parts.join("/"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        let base = Path::new("/a/b");
        assert_eq!(
            relative_to(base, Path::new("/a/b/uv.lock")).unwrap(),
            "uv.lock"
        );
        assert_eq!(
            relative_to(base, Path::new("/a/c/uv.lock")).unwrap(),
            "../c/uv.lock"
        );
        assert_eq!(relative_to(base, Path::new("/a/b/./x/../y")).unwrap(), "y");
        assert_eq!(relative_to(base, Path::new("/a/b")).unwrap(), ".");
    }

    #[test]
    fn options_are_normalised() {
        let select = SelectArgs {
            systems: vec![
                "x86_64-linux".into(),
                "aarch64-darwin".into(),
                "x86_64-linux".into(),
            ],
            groups: vec!["Dev_Tools".into()],
            no_binary: vec!["b".into(), "a".into()],
            ..SelectArgs::default()
        };
        assert_eq!(
            normalised_options(&select, Path::new("/p")).unwrap(),
            [
                "--system",
                "aarch64-darwin",
                "--system",
                "x86_64-linux",
                "--group",
                "dev-tools",
                "--no-binary",
                "b",
                "--no-binary",
                "a"
            ]
        );
        let all = SelectArgs {
            systems: ALL_SYSTEMS.iter().rev().map(|s| s.to_string()).collect(),
            ..SelectArgs::default()
        };
        assert!(normalised_options(&all, Path::new("/p"))
            .unwrap()
            .is_empty());
    }

    #[test]
    fn the_record_reads_back_and_sits_after_the_generator() {
        let inputs = Inputs {
            py2nix: "0.1.0".into(),
            lock: "uv.lock".into(),
            files: [("uv.lock".to_string(), sri(b"x"))].into(),
            pyprojects: [("pyproject.toml".to_string(), sri(b"{}"))].into(),
            overrides: overrides_digest(),
            options: vec!["--group".into(), "dev".into()],
        };
        let plan = py2nix_plan::Plan {
            schema: 1,
            generator: "py2nix 0.1.0".into(),
            inputs: Some(inputs.clone()),
            project: None,
            targets: BTreeMap::new(),
        };
        let with = serde_json::to_value(&plan).unwrap();
        let keys: Vec<&String> = with.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["schema", "generator", "inputs", "targets"]);
        let keys: Vec<&String> = with["inputs"].as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "py2nix",
                "lock",
                "files",
                "pyprojects",
                "overrides",
                "options"
            ]
        );
        let back: py2nix_plan::Plan = serde_json::from_value(with.clone()).unwrap();
        assert_eq!(back.inputs, Some(inputs.clone()));
        assert!(overrides_digest().starts_with("sha256-"));
        // A plan made before `pyprojects` existed still reads back.
        let mut old = with["inputs"].clone();
        old.as_object_mut().unwrap().remove("pyprojects");
        let read: Inputs = serde_json::from_value(old).unwrap();
        assert!(read.pyprojects.is_empty());
        assert_eq!(read.files, inputs.files);
    }

    /// `build.rs` hashes `overrides/` as the binary embeds it.
    #[test]
    fn the_build_time_digest_is_that_of_the_embedded_files() {
        assert_eq!(overrides_digest(), embedded_overrides_digest());
    }
}
