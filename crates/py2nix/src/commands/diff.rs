//! `py2nix diff OLD NEW`: what changed between two locks, two plans or two python.nix files.
//! Locks are compared by package (with the kind of source: index, URL, git, path); plans per
//! target, with the kind of the planned file (wheel, sdist, git, path). Besides versions and
//! kinds, everything else that changes a build is compared too (`Side::details`): a lock's
//! files and hashes, git URL, reference and commit, URL and path; a plan's file, URL, hash,
//! git revision, path, build system, native inputs, patches and the rest of its package.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{anyhow, bail, Context};
use py2nix_lock::{LockFormat, PackageSource};
use py2nix_nix::GENERATED_MARKER;
use py2nix_plan::Plan;

use crate::cli::{DiffArgs, DiffFormat};
use crate::output;
use crate::report::{Classify, Failure, Reporter};

/// One package as one side has it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Side {
    /// The version, or the versions joined by `, ` when a lock holds several (uv forks).
    pub version: String,
    /// Source kind: for plans `wheel`, `sdist`, `git`, `path`; for locks `index`, `url`,
    /// `git`, `path`.
    pub kind: String,
    /// Everything else about the package that changes its build, by name (`rev`, `hash`,
    /// `url`, `path`, `filename`, `build-system`, `native-build-inputs`, `file <name>`, ...).
    pub details: BTreeMap<String, String>,
}

/// What a file holds, for comparison: packages per target (a lock has one, unnamed, target).
pub struct Loaded {
    /// The file read (a directory's lock).
    pub path: PathBuf,
    /// `poetry.lock`, `uv.lock`, ..., `plan` or `python.nix`.
    pub kind: String,
    pub is_plan: bool,
    pub targets: BTreeMap<String, BTreeMap<String, Side>>,
}

/// One change, merged over the targets it happens on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub package: String,
    pub change: ChangeKind,
    pub old: Option<Side>,
    pub new: Option<Side>,
    pub targets: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ChangeKind {
    Added,
    Removed,
    Upgraded,
    Downgraded,
    /// Same version, another kind of source; or versions that do not compare (several).
    Changed,
}

impl ChangeKind {
    fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Upgraded => "upgraded",
            ChangeKind::Downgraded => "downgraded",
            ChangeKind::Changed => "changed",
        }
    }
}

impl Change {
    /// The source kind changed (a wheel that became an sdist, an index package now from git).
    pub fn kind_changed(&self) -> bool {
        matches!((&self.old, &self.new), (Some(a), Some(b)) if a.kind != b.kind)
    }

    /// What changed besides the version and kind, when those two did not: each detail that
    /// differs, with its old and new values (`None` where a side lacks it).
    pub fn details(&self) -> Vec<(&str, Option<&str>, Option<&str>)> {
        let (Some(a), Some(b)) = (&self.old, &self.new) else {
            return Vec::new();
        };
        if a.version != b.version || a.kind != b.kind {
            return Vec::new();
        }
        let keys: BTreeSet<&String> = a.details.keys().chain(b.details.keys()).collect();
        keys.into_iter()
            .filter_map(|key| {
                let (old, new) = (a.details.get(key), b.details.get(key));
                (old != new).then(|| {
                    (
                        key.as_str(),
                        old.map(String::as_str),
                        new.map(String::as_str),
                    )
                })
            })
            .collect()
    }

    /// The details that changed, for people: `rev abc -> def; hash X -> Y`.
    fn details_text(&self) -> String {
        self.details()
            .iter()
            .map(|(key, old, new)| {
                format!(
                    "{key} {} -> {}",
                    old.unwrap_or("(none)"),
                    new.unwrap_or("(none)")
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// The comparison of two files.
pub struct Comparison {
    pub old: Loaded,
    pub new: Loaded,
    pub old_path: PathBuf,
    pub new_path: PathBuf,
    pub changes: Vec<Change>,
    pub targets_added: Vec<String>,
    pub targets_removed: Vec<String>,
    /// The targets both sides have.
    pub common_targets: Vec<String>,
}

pub fn run(args: DiffArgs, _reporter: &Reporter) -> Result<(), Failure> {
    let old = load(&args.old, args.allow_outside_paths).input()?;
    let new = load(&args.new, args.allow_outside_paths).input()?;
    if old.is_plan != new.is_plan {
        return Err(Failure::Input(anyhow!(
            "cannot compare a {} (`{}`) with a {} (`{}`): give two locks or two plans",
            old.kind,
            args.old.display(),
            new.kind,
            args.new.display()
        )));
    }
    let (old_path, new_path) = (old.path.clone(), new.path.clone());
    let comparison = compare(old, new, old_path, new_path);
    let text = match args.format {
        DiffFormat::Text => render_text(&comparison),
        DiffFormat::Markdown => render_markdown(&comparison),
        DiffFormat::Json => {
            let mut text = serde_json::to_string_pretty(&render_json(&comparison))
                .context("failed to serialise the comparison")
                .unexpected()?;
            text.push('\n');
            text
        }
    };
    output::print(&text)
}

/// The plan in a python.nix (told by its first line) or in a JSON plan made by py2nix;
/// `None` when the text is neither. Fields the plan types do not know (from a newer py2nix)
/// are ignored; a plan that lacks a field schema 1 always had, or has a `src.kind` this
/// py2nix does not know, is an error.
pub fn plan_from_text(text: &str) -> anyhow::Result<Option<Plan>> {
    if text.starts_with(GENERATED_MARKER) {
        let value = py2nix_nix::read_plan(text)?;
        let plan = serde_json::from_value(value)
            .context("its `plan` is not a plan of schema 1 as this py2nix reads it")?;
        return Ok(Some(plan));
    }
    #[derive(serde::Deserialize)]
    struct Generator {
        generator: Option<serde_json::Value>,
    }
    let Ok(head) = serde_json::from_str::<Generator>(text) else {
        return Ok(None);
    };
    let ours = head
        .generator
        .as_ref()
        .and_then(|g| g.as_str())
        .is_some_and(|g| g.starts_with("py2nix"));
    if !ours {
        return Ok(None);
    }
    let plan = serde_json::from_str(text)
        .context("it is not a plan of schema 1 as this py2nix reads it")?;
    Ok(Some(plan))
}

/// Reads a lock, a plan or a python.nix; a directory stands for the one lock in it. A
/// requirements file's includes must be inside its directory unless `allow_outside`.
pub fn load(path: &Path, allow_outside: bool) -> anyhow::Result<Loaded> {
    let path = if path.is_dir() {
        crate::project::find_lock(path, None)?
    } else {
        path.to_path_buf()
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("failed to read `{}`", path.display()))?;
    if let Some(plan) =
        plan_from_text(&text).with_context(|| format!("failed to read `{}`", path.display()))?
    {
        let kind = if text.starts_with(GENERATED_MARKER) {
            "python.nix"
        } else {
            "plan"
        };
        return Ok(Loaded {
            path: path.clone(),
            kind: kind.to_string(),
            is_plan: true,
            targets: plan_packages(&plan),
        });
    }
    let format = crate::project::format_of(&path, &text);
    if format == LockFormat::Requirements && text.trim_start().starts_with('{') {
        bail!(
            "`{}` is JSON but not a plan made by py2nix (its `generator` does not name py2nix)",
            path.display()
        );
    }
    let rule = crate::project::IncludeRule::new(&path, None, allow_outside);
    let lock = crate::project::parse_lock_text(format, &path, &text, &rule)?;
    let mut packages: BTreeMap<String, Vec<&py2nix_lock::LockedPackage>> = BTreeMap::new();
    for package in &lock.packages {
        packages
            .entry(package.name.to_string())
            .or_default()
            .push(package);
    }
    let packages = packages
        .into_iter()
        .map(|(name, mut of_name)| {
            of_name.sort_by(|a, b| a.version.cmp(&b.version));
            let mut versions: Vec<String> = of_name.iter().map(|p| p.version.to_string()).collect();
            versions.dedup();
            let kinds: BTreeSet<String> = of_name
                .iter()
                .map(|p| lock_source_kind(&p.source))
                .collect();
            let several = of_name.len() > 1;
            let mut details = BTreeMap::new();
            for package in &of_name {
                let prefix = if several {
                    format!("{} ", package.version)
                } else {
                    String::new()
                };
                for (key, value) in lock_details(package) {
                    details.insert(format!("{prefix}{key}"), value);
                }
            }
            (
                name,
                Side {
                    version: versions.join(", "),
                    kind: kinds.into_iter().collect::<Vec<_>>().join(", "),
                    details,
                },
            )
        })
        .collect();
    Ok(Loaded {
        path: path.clone(),
        kind: format.file_name().to_string(),
        is_plan: false,
        targets: [(String::new(), packages)].into(),
    })
}

/// What a locked package says that changes its build, besides its version and kind of source.
fn lock_details(package: &py2nix_lock::LockedPackage) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut put = |key: &str, value: Option<&str>| {
        if let Some(value) = value {
            out.push((key.to_string(), value.to_string()));
        }
    };
    match &package.source {
        PackageSource::DefaultIndex => {}
        PackageSource::Index { url, .. } => put("index", Some(url)),
        PackageSource::Url { url, subdirectory } => {
            put("url", Some(url));
            put("subdirectory", subdirectory.as_deref());
        }
        PackageSource::Git(git) => {
            put("url", Some(&git.url));
            put("reference", git.reference.as_deref());
            put("rev", git.commit.as_deref());
            put("subdirectory", git.subdirectory.as_deref());
            put("submodules", git.submodules.then_some("true"));
        }
        PackageSource::Path {
            path,
            kind,
            editable,
        } => {
            put("path", Some(path));
            put("path-kind", Some(&format!("{kind:?}").to_lowercase()));
            put("editable", editable.then_some("true"));
        }
        PackageSource::Unsupported { url, .. } => put("url", Some(url)),
    }
    for file in &package.files {
        let hash = file
            .hash
            .as_ref()
            .map(|h| format!("{}:{}", h.algorithm, h.hex))
            .unwrap_or_default();
        put(&format!("file {}", file.filename), Some(&hash));
    }
    if let Some(hashes) = &package.index_hashes {
        let mut hashes: Vec<String> = hashes
            .iter()
            .map(|h| format!("{}:{}", h.algorithm, h.hex))
            .collect();
        hashes.sort();
        put("hashes", Some(&hashes.join(", ")));
    }
    let mut dependencies: Vec<String> = package
        .dependencies
        .iter()
        .map(|d| d.name.to_string())
        .collect();
    dependencies.sort();
    dependencies.dedup();
    put("dependencies", Some(&dependencies.join(", ")));
    out
}

fn lock_source_kind(source: &PackageSource) -> String {
    match source {
        PackageSource::DefaultIndex | PackageSource::Index { .. } => "index".to_string(),
        PackageSource::Url { .. } => "url".to_string(),
        PackageSource::Git(_) => "git".to_string(),
        PackageSource::Path { .. } => "path".to_string(),
        PackageSource::Unsupported { kind, .. } => kind.clone(),
    }
}

/// Packages per target of a plan.
pub fn plan_packages(plan: &Plan) -> BTreeMap<String, BTreeMap<String, Side>> {
    plan.targets
        .iter()
        .map(|(id, target)| {
            let sides = target
                .packages
                .iter()
                .map(|(name, package)| {
                    let side = Side {
                        version: package.version.clone(),
                        kind: package.src.kind_name().to_string(),
                        details: plan_details(package),
                    };
                    (name.clone(), side)
                })
                .collect();
            (id.clone(), sides)
        })
        .collect()
}

/// The fields of a planned package that change its build besides its version and kind, by
/// their names in the plan: the source's (`url`, `hash`, `rev`, `path`, `filename`, ...) and
/// `PLAN_BUILD_FIELDS`. Lists of strings are joined with `, `. (`build-requires` is left
/// out: plans made before it existed lack it, and `build-system` says the same.)
fn plan_details(package: &py2nix_plan::PackagePlan) -> BTreeMap<String, String> {
    fn text(value: &serde_json::Value) -> String {
        match value {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Array(items) if items.iter().all(|i| i.is_string()) => items
                .iter()
                .filter_map(|i| i.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            other => other.to_string(),
        }
    }
    const PLAN_BUILD_FIELDS: [&str; 10] = [
        "dependencies",
        "extras",
        "build-system",
        "native-build-inputs",
        "build-inputs",
        "propagated-build-inputs",
        "patches",
        "build-flags",
        "env",
        "cargo",
    ];
    let mut details = BTreeMap::new();
    let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(package) else {
        return details;
    };
    for (key, value) in &fields {
        if PLAN_BUILD_FIELDS.contains(&key.as_str()) {
            details.insert(key.clone(), text(value));
        }
    }
    if let Some(serde_json::Value::Object(src)) = fields.get("src") {
        for (key, value) in src {
            if key != "kind" {
                details.insert(key.clone(), text(value));
            }
        }
    }
    details
}

fn compare_versions(a: &str, b: &str) -> Option<std::cmp::Ordering> {
    let a = pep440_rs::Version::from_str(a).ok()?;
    let b = pep440_rs::Version::from_str(b).ok()?;
    Some(a.cmp(&b))
}

/// A change before merging over targets: (kind, package, old, new).
type ChangeKey = (ChangeKind, String, Option<Side>, Option<Side>);

pub fn compare(old: Loaded, new: Loaded, old_path: PathBuf, new_path: PathBuf) -> Comparison {
    let old_ids: BTreeSet<&String> = old.targets.keys().collect();
    let new_ids: BTreeSet<&String> = new.targets.keys().collect();
    let common: Vec<String> = old_ids
        .intersection(&new_ids)
        .map(|s| (*s).clone())
        .collect();
    let targets_added = new_ids.difference(&old_ids).map(|s| (*s).clone()).collect();
    let targets_removed = old_ids.difference(&new_ids).map(|s| (*s).clone()).collect();
    // (package, kind, old, new) -> targets
    let mut merged: BTreeMap<ChangeKey, Vec<String>> = BTreeMap::new();
    let empty = BTreeMap::new();
    for id in &common {
        let before = old.targets.get(id).unwrap_or(&empty);
        let after = new.targets.get(id).unwrap_or(&empty);
        let names: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
        for name in names {
            let (a, b) = (before.get(name), after.get(name));
            let kind = match (a, b) {
                (None, Some(_)) => ChangeKind::Added,
                (Some(_), None) => ChangeKind::Removed,
                (Some(a), Some(b)) if a == b => continue,
                (Some(a), Some(b)) => match compare_versions(&a.version, &b.version) {
                    Some(std::cmp::Ordering::Less) => ChangeKind::Upgraded,
                    Some(std::cmp::Ordering::Greater) => ChangeKind::Downgraded,
                    _ => ChangeKind::Changed,
                },
                (None, None) => continue,
            };
            // Details are compared only where version and kind are the same; elsewhere they
            // would keep one change on several targets apart (each target's wheel).
            let (mut a, mut b) = (a.cloned(), b.cloned());
            let same = matches!((&a, &b), (Some(a), Some(b)) if a.version == b.version && a.kind == b.kind);
            if !same {
                for side in [&mut a, &mut b].into_iter().flatten() {
                    side.details.clear();
                }
            }
            merged
                .entry((kind, name.clone(), a, b))
                .or_default()
                .push(id.clone());
        }
    }
    let changes = merged
        .into_iter()
        .map(|((change, package, old, new), targets)| Change {
            package,
            change,
            old,
            new,
            targets,
        })
        .collect();
    Comparison {
        old,
        new,
        old_path,
        new_path,
        changes,
        targets_added,
        targets_removed,
        common_targets: common,
    }
}

impl Comparison {
    /// Where a change happens, for people: `all targets`, or the target ids.
    fn where_(&self, change: &Change) -> Option<String> {
        if !self.old.is_plan {
            return None;
        }
        if change.targets.len() == self.common_targets.len() {
            Some("all targets".to_string())
        } else {
            Some(change.targets.join(", "))
        }
    }

    fn summary(&self) -> String {
        let mut counts: BTreeMap<ChangeKind, usize> = BTreeMap::new();
        let mut packages: BTreeSet<(ChangeKind, &str)> = BTreeSet::new();
        for change in &self.changes {
            if packages.insert((change.change, change.package.as_str())) {
                *counts.entry(change.change).or_default() += 1;
            }
        }
        let mut parts: Vec<String> = counts
            .iter()
            .map(|(kind, n)| format!("{n} {}", kind.as_str()))
            .collect();
        let kind_changes: BTreeSet<&str> = self
            .changes
            .iter()
            .filter(|c| c.kind_changed())
            .map(|c| c.package.as_str())
            .collect();
        if !kind_changes.is_empty() {
            parts.push(format!(
                "{} with another kind of source",
                kind_changes.len()
            ));
        }
        if !self.targets_added.is_empty() {
            parts.push(format!("{} targets added", self.targets_added.len()));
        }
        if !self.targets_removed.is_empty() {
            parts.push(format!("{} targets removed", self.targets_removed.len()));
        }
        if parts.is_empty() {
            "no differences".to_string()
        } else {
            parts.join(", ")
        }
    }
}

fn side_text(side: &Option<Side>, show_kind: bool) -> String {
    match side {
        None => String::new(),
        Some(side) if show_kind => format!("{} ({})", side.version, side.kind),
        Some(side) => side.version.clone(),
    }
}

fn versions_text(change: &Change) -> String {
    let show_kind = change.kind_changed();
    match change.change {
        ChangeKind::Added => side_text(&change.new, false),
        ChangeKind::Removed => side_text(&change.old, false),
        _ => format!(
            "{} -> {}",
            side_text(&change.old, show_kind),
            side_text(&change.new, show_kind)
        ),
    }
}

pub fn render_text(comparison: &Comparison) -> String {
    let mut out = format!(
        "{} ({}) -> {} ({})\n",
        comparison.old_path.display(),
        comparison.old.kind,
        comparison.new_path.display(),
        comparison.new.kind
    );
    for id in &comparison.targets_removed {
        out.push_str(&format!("target removed: {id}\n"));
    }
    for id in &comparison.targets_added {
        out.push_str(&format!("target added: {id}\n"));
    }
    let width = comparison
        .changes
        .iter()
        .map(|c| c.package.len())
        .max()
        .unwrap_or(0);
    for change in &comparison.changes {
        let mut line = format!(
            "  {:<10} {:<width$}  {}",
            change.change.as_str(),
            change.package,
            versions_text(change)
        );
        if change.kind_changed() {
            line.push_str("  [source kind changed]");
        }
        let details = change.details_text();
        if !details.is_empty() {
            line.push_str(&format!("  [{details}]"));
        }
        if let Some(where_) = comparison.where_(change) {
            line.push_str(&format!("  ({where_})"));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out.push_str(&comparison.summary());
    out.push('\n');
    out
}

/// A Markdown cell: `|` and newlines cannot appear raw.
fn cell(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('\n', " ")
}

pub fn render_markdown(comparison: &Comparison) -> String {
    let mut out = format!(
        "**Python dependencies** ({} → {}): {}\n\n",
        comparison.old.kind,
        comparison.new.kind,
        comparison.summary()
    );
    for id in &comparison.targets_removed {
        out.push_str(&format!("- target removed: `{}`\n", cell(id)));
    }
    for id in &comparison.targets_added {
        out.push_str(&format!("- target added: `{}`\n", cell(id)));
    }
    if !comparison.targets_added.is_empty() || !comparison.targets_removed.is_empty() {
        out.push('\n');
    }
    if comparison.changes.is_empty() {
        return out;
    }
    let plans = comparison.old.is_plan;
    out.push_str(if plans {
        "| Package | Change | Old | New | Targets |\n| --- | --- | --- | --- | --- |\n"
    } else {
        "| Package | Change | Old | New |\n| --- | --- | --- | --- |\n"
    });
    for change in &comparison.changes {
        let show_kind = change.kind_changed();
        let details = change.details();
        let what = if show_kind {
            let old = change.old.as_ref().map(|s| s.kind.as_str()).unwrap_or("");
            let new = change.new.as_ref().map(|s| s.kind.as_str()).unwrap_or("");
            format!("{}, **{old} → {new}**", change.change.as_str())
        } else if !details.is_empty() {
            let names: Vec<&str> = details.iter().map(|(key, _, _)| *key).collect();
            format!("{}: {}", change.change.as_str(), names.join(", "))
        } else {
            change.change.as_str().to_string()
        };
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |",
            cell(&change.package),
            what,
            cell(&side_text(&change.old, show_kind)),
            cell(&side_text(&change.new, show_kind)),
        ));
        if let Some(where_) = comparison.where_(change) {
            out.push_str(&format!(" {} |", cell(&where_)));
        }
        out.push('\n');
    }
    out
}

pub fn render_json(comparison: &Comparison) -> serde_json::Value {
    let side = |side: &Option<Side>| {
        side.as_ref()
            .map(|s| serde_json::json!({"version": s.version, "kind": s.kind}))
            .unwrap_or(serde_json::Value::Null)
    };
    let changes: Vec<serde_json::Value> = comparison
        .changes
        .iter()
        .map(|c| {
            let mut value = serde_json::json!({
                "package": c.package,
                "change": c.change.as_str(),
                "old": side(&c.old),
                "new": side(&c.new),
                "source-kind-changed": c.kind_changed(),
            });
            let details = c.details();
            if !details.is_empty() {
                value["details"] = details
                    .iter()
                    .map(|(key, old, new)| {
                        (key.to_string(), serde_json::json!({"old": old, "new": new}))
                    })
                    .collect::<serde_json::Map<_, _>>()
                    .into();
            }
            if comparison.old.is_plan {
                value["targets"] = serde_json::json!(c.targets);
            }
            value
        })
        .collect();
    let mut out = serde_json::json!({
        "old": {"path": comparison.old_path.display().to_string(), "kind": comparison.old.kind},
        "new": {"path": comparison.new_path.display().to_string(), "kind": comparison.new.kind},
        "changes": changes,
        "summary": comparison.summary(),
    });
    if comparison.old.is_plan {
        out["targets"] = serde_json::json!({
            "compared": comparison.common_targets,
            "added": comparison.targets_added,
            "removed": comparison.targets_removed,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (target, [(name, version, kind)])
    type Targets<'a> = [(&'a str, &'a [(&'a str, &'a str, &'a str)])];

    fn loaded(is_plan: bool, targets: &Targets) -> Loaded {
        Loaded {
            path: PathBuf::new(),
            kind: if is_plan { "plan" } else { "uv.lock" }.to_string(),
            is_plan,
            targets: targets
                .iter()
                .map(|(id, packages)| {
                    (
                        id.to_string(),
                        packages
                            .iter()
                            .map(|(n, v, k)| {
                                (
                                    n.to_string(),
                                    Side {
                                        version: v.to_string(),
                                        kind: k.to_string(),
                                        details: BTreeMap::new(),
                                    },
                                )
                            })
                            .collect(),
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn changes_merge_over_targets_and_call_out_kinds() {
        let old = loaded(
            true,
            &[
                (
                    "a-cp311",
                    &[
                        ("x", "1.0", "wheel"),
                        ("y", "2.0", "wheel"),
                        ("gone", "1", "wheel"),
                    ],
                ),
                (
                    "b-cp311",
                    &[
                        ("x", "1.0", "wheel"),
                        ("y", "2.0", "wheel"),
                        ("gone", "1", "wheel"),
                    ],
                ),
            ],
        );
        let new = loaded(
            true,
            &[
                (
                    "a-cp311",
                    &[
                        ("x", "1.10", "wheel"),
                        ("y", "2.0", "sdist"),
                        ("new", "3", "wheel"),
                    ],
                ),
                (
                    "b-cp311",
                    &[
                        ("x", "1.10", "wheel"),
                        ("y", "2.0", "wheel"),
                        ("new", "3", "wheel"),
                    ],
                ),
            ],
        );
        let c = compare(old, new, "old".into(), "new".into());
        let got: Vec<(&str, ChangeKind, usize, bool)> = c
            .changes
            .iter()
            .map(|c| {
                (
                    c.package.as_str(),
                    c.change,
                    c.targets.len(),
                    c.kind_changed(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("new", ChangeKind::Added, 2, false),
                ("gone", ChangeKind::Removed, 2, false),
                ("x", ChangeKind::Upgraded, 2, false),
                ("y", ChangeKind::Changed, 1, true),
            ]
        );
        let markdown = render_markdown(&c);
        assert!(
            markdown.contains(
                "| `y` | changed, **wheel → sdist** | 2.0 (wheel) | 2.0 (sdist) | a-cp311 |"
            ),
            "{markdown}"
        );
        assert!(
            markdown.contains("| `x` | upgraded | 1.0 | 1.10 | all targets |"),
            "{markdown}"
        );
        assert!(render_text(&c).ends_with(
            "1 added, 1 removed, 1 upgraded, 1 changed, 1 with another kind of source\n"
        ));
    }

    #[test]
    fn downgrades_and_equal_sides() {
        let old = loaded(
            false,
            &[("", &[("x", "2.0", "index"), ("same", "1", "index")])],
        );
        let new = loaded(
            false,
            &[("", &[("x", "1.9", "git"), ("same", "1", "index")])],
        );
        let c = compare(old, new, "a".into(), "b".into());
        assert_eq!(c.changes.len(), 1);
        assert_eq!(c.changes[0].change, ChangeKind::Downgraded);
        assert!(c.changes[0].kind_changed());
        assert!(!render_markdown(&c).contains("Targets"));
    }
}
