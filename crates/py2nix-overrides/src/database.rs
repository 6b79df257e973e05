//! The database: entries by package, their origin, the layout and cross-rule checks, lookup
//! and the merge of a user's own entries over the built-in ones.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;
use std::sync::OnceLock;

use pep440_rs::Version;

use crate::ranges::{compare_upper, VersionSet};
use crate::rule::{is_normalized, parse_file, ArtifactKind, Rule};

/// A problem with the database's files.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OverrideError {
    /// One problem with one file (`path` as the origin names it: `overrides/…` for the
    /// built-in database, the user's directory joined with the file otherwise).
    #[error("`{path}`: {message}")]
    File { path: String, message: String },
    /// Several problems, each on its own line.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Many(Vec<OverrideError>),
}

impl OverrideError {
    /// Every single problem.
    pub fn problems(&self) -> Vec<&OverrideError> {
        match self {
            OverrideError::File { .. } => vec![self],
            OverrideError::Many(all) => all.iter().flat_map(OverrideError::problems).collect(),
        }
    }
}

/// Where an entry came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OriginKind {
    /// The database embedded in py2nix (the repository's `overrides/`).
    BuiltIn,
    /// A user's directory (`--overrides DIR`, `[tool.py2nix] overrides`).
    User,
}

/// The file an entry, and so each of its rules, came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub kind: OriginKind,
    /// The entry's `override.toml`: `overrides/<shard>/<name>/override.toml` for the built-in
    /// database, `<user dir>/<shard>/<name>/override.toml` for a user's.
    pub path: String,
}

impl Origin {
    /// The path of a file beside the entry's `override.toml`.
    pub fn sibling(&self, file: &str) -> String {
        match self.path.rsplit_once('/') {
            Some((dir, _)) => format!("{dir}/{file}"),
            None => file.to_string(),
        }
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind {
            OriginKind::BuiltIn => write!(f, "{} (built in)", self.path),
            OriginKind::User => write!(f, "{} (user)", self.path),
        }
    }
}

/// One package's entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The PEP 503 normalised package name.
    pub name: String,
    /// The file's `note`.
    pub note: Option<String>,
    /// The rules in file order.
    pub rules: Vec<Rule>,
    /// Where the entry came from.
    pub origin: Origin,
    /// The built-in entry a user's entry replaced, if any.
    pub replaces: Option<Origin>,
    /// The text of every patch the rules name, by file name.
    pub patches: BTreeMap<String, String>,
}

impl Entry {
    /// The rule for `version` and `kind` (rules do not overlap, so it is the only one), with
    /// its index in [`Entry::rules`].
    pub fn lookup(&self, version: &Version, kind: ArtifactKind) -> Option<(usize, &Rule)> {
        self.rules
            .iter()
            .enumerate()
            .find(|(_, rule)| rule.applies_to.covers(kind) && rule.covers_version(version))
    }

    /// The text of a patch a rule names.
    pub fn patch_text(&self, file: &str) -> Option<&str> {
        self.patches.get(file).map(String::as_str)
    }
}

/// The loaded database: entries by normalised package name.
///
/// Each entry is parsed and checked when the database is loaded ([`OverrideDb::from_files`],
/// [`OverrideDb::from_user_files`]), or, in a database made by
/// [`OverrideDb::from_files_lazily`], when it is first asked for.
#[derive(Debug, Clone, Default)]
pub struct OverrideDb {
    entries: BTreeMap<String, Slot>,
}

impl OverrideDb {
    /// Loads the built-in database from `(path relative to overrides/, text)` pairs: every file
    /// of the directory, so that patches can be checked. Messages name files `overrides/…`.
    ///
    /// Checks the layout (every file in `<shard>/<name>/`, the name normalised and in its
    /// shard, an `override.toml` in each package directory, every other file a patch a rule
    /// names, each named patch present and UTF-8 text), each file's keys and values, and the
    /// rules of each entry (no two overlap for one artifact kind, newest versions first).
    /// Top-level `*.md` and `*.json` files are documentation and the schema, and skipped.
    /// `Err` lists every problem found.
    pub fn from_files<I, P, T>(files: I) -> Result<OverrideDb, OverrideError>
    where
        I: IntoIterator<Item = (P, T)>,
        P: AsRef<str>,
        T: AsRef<str>,
    {
        load(OriginKind::BuiltIn, "overrides", files)
    }

    /// The built-in database of [`OverrideDb::from_files`], but each entry is parsed and
    /// checked only when first asked for ([`OverrideDb::entry`], [`OverrideDb::lookup`],
    /// [`OverrideDb::entries`]), so that a run pays only for the packages it looks up. Where
    /// each file lies and that each package directory has an `override.toml` are checked now,
    /// everything else on an entry's first use, with the same checks and messages. An entry
    /// that fails then counts as absent, and its problems wait for
    /// [`OverrideDb::check_loaded`], which the caller asks after its lookups. Meant for the
    /// database embedded in the binary, which the tests load with [`OverrideDb::from_files`]:
    /// a failure here is a build defect.
    pub fn from_files_lazily<I, P>(files: I) -> Result<OverrideDb, OverrideError>
    where
        I: IntoIterator<Item = (P, &'static str)>,
        P: AsRef<str>,
    {
        let (directories, mut errors) = group("overrides", files);
        // In name order, so the map is built at once.
        let entries = directories
            .into_iter()
            .filter_map(|(name, directory)| {
                if directory.override_toml.is_none() {
                    errors.push(missing_override_toml("overrides", &name));
                    return None;
                }
                let lazy = Lazy {
                    directory,
                    entry: OnceLock::new(),
                };
                Some((name, Slot::Lazy(Box::new(lazy))))
            })
            .collect();
        one_error(errors).map_or(Ok(OverrideDb { entries }), Err)
    }

    /// Loads a user's directory the same way, with every check; `dir` is how messages and
    /// origins name the directory. Whether its nixpkgs names are known is for the caller to
    /// ask ([`crate::NixpkgsNames::unknown_in`]), as warnings.
    pub fn from_user_files<I, P, T>(dir: &str, files: I) -> Result<OverrideDb, OverrideError>
    where
        I: IntoIterator<Item = (P, T)>,
        P: AsRef<str>,
        T: AsRef<str>,
    {
        load(OriginKind::User, dir.trim_end_matches('/'), files)
    }

    /// The built-in database with a user's entries: a user's entry for a package **replaces**
    /// the built-in entry for that package as a whole (its rules are not merged with the
    /// built-in ones), and records the entry it replaced in [`Entry::replaces`]. The built-in
    /// entries are not loaded for this.
    pub fn merge(builtin: OverrideDb, user: OverrideDb) -> OverrideDb {
        let mut entries = builtin.entries;
        for (name, mut slot) in user.entries {
            let replaced = entries.remove(&name).map(|old| old.origin(&name));
            if let Slot::Loaded(entry) = &mut slot {
                entry.replaces = replaced;
            }
            entries.insert(name, slot);
        }
        OverrideDb { entries }
    }

    /// The rule for `name` (PEP 503 normalised) at `version`, for files of `kind`: the first
    /// rule, in file order, whose `applies-to` covers `kind` and whose `versions` contains
    /// `version` (the checks make it the only one).
    pub fn lookup(&self, name: &str, version: &Version, kind: ArtifactKind) -> Option<&Rule> {
        self.entry(name)?
            .lookup(version, kind)
            .map(|(_, rule)| rule)
    }

    /// The entry for `name` (PEP 503 normalised). In a database made by
    /// [`OverrideDb::from_files_lazily`], an entry that fails to load counts as absent (see
    /// [`OverrideDb::try_entry`] and [`OverrideDb::check_loaded`]).
    pub fn entry(&self, name: &str) -> Option<&Entry> {
        let (key, slot) = self.entries.get_key_value(name)?;
        slot.get(key).ok()
    }

    /// The entry for `name` (PEP 503 normalised), or, for an entry of a database made by
    /// [`OverrideDb::from_files_lazily`] that fails to load, its problems.
    pub fn try_entry(&self, name: &str) -> Result<Option<&Entry>, OverrideError> {
        match self.entries.get_key_value(name) {
            None => Ok(None),
            Some((key, slot)) => slot.get(key).map(Some).map_err(Clone::clone),
        }
    }

    /// Whether the database has an entry for `name` at all (without loading it).
    pub fn contains(&self, name: &str) -> bool {
        self.entries.contains_key(name)
    }

    /// The number of packages with an entry.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the database is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every entry, by package name. Loads every entry not loaded yet; one that fails to load
    /// is left out (see [`OverrideDb::check_loaded`]).
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries
            .iter()
            .filter_map(|(name, slot)| slot.get(name).ok())
    }

    /// `Err` with the problems of every entry that failed to load so far, each naming its
    /// file. Only an entry of a database made by [`OverrideDb::from_files_lazily`] can fail
    /// after loading: it is parsed when first asked for and then counts as absent, so a caller
    /// asks this after its lookups (and treats an `Err` as a build defect).
    pub fn check_loaded(&self) -> Result<(), OverrideError> {
        let errors = self
            .entries
            .values()
            .filter_map(|slot| match slot {
                Slot::Lazy(lazy) => lazy.entry.get()?.as_ref().err(),
                Slot::Loaded(_) => None,
            })
            .flat_map(OverrideError::problems)
            .cloned()
            .collect();
        one_error(errors).map_or(Ok(()), Err)
    }

    /// Loads every entry not loaded yet, then [`OverrideDb::check_loaded`]: `Err` with the
    /// problems of every entry that fails.
    pub fn load_all(&self) -> Result<(), OverrideError> {
        for (name, slot) in &self.entries {
            // Failures are kept in the slot, for `check_loaded`.
            let _ = slot.get(name);
        }
        self.check_loaded()
    }
}

/// One package's entry: loaded, or its files, loaded on first use.
#[derive(Debug, Clone)]
enum Slot {
    Loaded(Box<Entry>),
    Lazy(Box<Lazy>),
}

/// A built-in entry's files, parsed and checked on first use.
#[derive(Debug, Clone)]
struct Lazy {
    directory: Directory<'static>,
    entry: OnceLock<Result<Entry, OverrideError>>,
}

impl Slot {
    /// The entry of package `name`, loaded on first use.
    fn get(&self, name: &str) -> Result<&Entry, &OverrideError> {
        match self {
            Slot::Loaded(entry) => Ok(entry),
            Slot::Lazy(lazy) => lazy
                .entry
                .get_or_init(|| {
                    entry(OriginKind::BuiltIn, "overrides", name, &lazy.directory).map_err(combine)
                })
                .as_ref(),
        }
    }

    /// Where the entry comes from (without loading it).
    fn origin(&self, name: &str) -> Origin {
        match self {
            Slot::Loaded(entry) => entry.origin.clone(),
            Slot::Lazy(_) => Origin {
                kind: OriginKind::BuiltIn,
                path: format!("overrides/{}/{name}/override.toml", shard(name)),
            },
        }
    }
}

/// The shard directory of a package: its first two characters.
pub fn shard(name: &str) -> String {
    name.chars().take(2).collect()
}

/// One package directory's files.
#[derive(Debug, Clone, Default)]
struct Directory<'a> {
    override_toml: Option<&'a str>,
    /// The other files, by file name.
    files: BTreeMap<String, &'a str>,
}

/// One problem, or several.
fn combine(mut errors: Vec<OverrideError>) -> OverrideError {
    match errors.len() {
        1 => errors.remove(0),
        _ => OverrideError::Many(errors),
    }
}

/// No problem, one, or several.
fn one_error(errors: Vec<OverrideError>) -> Option<OverrideError> {
    (!errors.is_empty()).then(|| combine(errors))
}

fn file_error(root: &str, path: &str, message: String) -> OverrideError {
    OverrideError::File {
        path: format!("{root}/{path}"),
        message,
    }
}

fn missing_override_toml(root: &str, name: &str) -> OverrideError {
    let dir = format!("{}/{name}", shard(name));
    file_error(root, &dir, "directory has no override.toml".to_string())
}

/// The files by package directory, and the problems with where files lie. Documentation,
/// the schemas and the soname table at the top are left out.
fn group<'a, I, P>(root: &str, files: I) -> (BTreeMap<String, Directory<'a>>, Vec<OverrideError>)
where
    I: IntoIterator<Item = (P, &'a str)>,
    P: AsRef<str>,
{
    let mut errors = Vec::new();
    let mut directories: BTreeMap<String, Directory<'a>> = BTreeMap::new();
    for (path, text) in files {
        let path = path.as_ref();
        let path = match path.contains('\\') {
            true => Cow::Owned(path.replace('\\', "/")),
            false => Cow::Borrowed(path),
        };
        // Documentation and the JSON Schema beside the entries.
        if !path.contains('/') && (path.ends_with(".md") || path.ends_with(".json")) {
            continue;
        }
        // The soname table, read on its own (`crate::SonameTable`).
        if path == crate::sonames::SONAMES_FILE {
            continue;
        }
        match check_location(&path) {
            Ok((name, file)) => {
                let directory = directories.entry(name.to_string()).or_default();
                if file == "override.toml" {
                    directory.override_toml = Some(text);
                } else {
                    directory.files.insert(file.to_string(), text);
                }
            }
            Err(message) => errors.push(file_error(root, &path, message)),
        }
    }
    (directories, errors)
}

fn load<I, P, T>(kind: OriginKind, root: &str, files: I) -> Result<OverrideDb, OverrideError>
where
    I: IntoIterator<Item = (P, T)>,
    P: AsRef<str>,
    T: AsRef<str>,
{
    let files: Vec<(P, T)> = files.into_iter().collect();
    let (directories, mut errors) =
        group(root, files.iter().map(|(path, text)| (path, text.as_ref())));
    let mut entries = BTreeMap::new();
    for (name, directory) in directories {
        match entry(kind, root, &name, &directory) {
            Ok(entry) => {
                entries.insert(name, Slot::Loaded(Box::new(entry)));
            }
            Err(problems) => errors.extend(problems),
        }
    }
    one_error(errors).map_or(Ok(OverrideDb { entries }), Err)
}

/// Parses and checks one package directory; `Err` holds every problem found (never none).
fn entry(
    kind: OriginKind,
    root: &str,
    name: &str,
    directory: &Directory<'_>,
) -> Result<Entry, Vec<OverrideError>> {
    let dir = format!("{}/{name}", shard(name));
    let Some(text) = directory.override_toml else {
        return Err(vec![missing_override_toml(root, name)]);
    };
    let path = format!("{dir}/override.toml");
    let error = |path: &str, message: String| file_error(root, path, message);
    let parsed = parse_file(text).map_err(|problems| {
        problems
            .into_iter()
            .map(|p| error(&path, p))
            .collect::<Vec<_>>()
    })?;
    let mut problems = check_rule_order(&parsed.rules, &parsed.versions_text);
    let mut patches = BTreeMap::new();
    let named: BTreeSet<&str> = parsed
        .rules
        .iter()
        .flat_map(|rule| rule.patches.iter().map(String::as_str))
        .collect();
    for patch in &named {
        match directory.files.get(*patch) {
            None => problems.push(format!("patch `{patch}` is missing beside override.toml")),
            Some(text) if text.trim().is_empty() => {
                problems.push(format!("patch `{patch}` is empty or not UTF-8 text"))
            }
            Some(text) => {
                patches.insert(patch.to_string(), text.to_string());
            }
        }
    }
    let mut errors: Vec<OverrideError> = directory
        .files
        .keys()
        .filter(|file| !named.contains(file.as_str()))
        .map(|file| {
            error(
                &format!("{dir}/{file}"),
                "no rule names this file in `patches`".to_string(),
            )
        })
        .collect();
    errors.extend(problems.into_iter().map(|problem| error(&path, problem)));
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Entry {
        name: name.to_string(),
        note: parsed.note,
        rules: parsed.rules,
        origin: Origin {
            kind,
            path: format!("{root}/{path}"),
        },
        replaces: None,
        patches,
    })
}

/// For each artifact kind, the rules that apply to it must not overlap (no version matches
/// two of them) and must be sorted newest first (by the highest version each covers).
fn check_rule_order(rules: &[Rule], versions_text: &[Option<String>]) -> Vec<String> {
    let sets: Vec<VersionSet> = rules
        .iter()
        .map(|rule| VersionSet::of(rule.versions.as_ref()))
        .collect();
    let describe = |index: usize| match &versions_text[index] {
        Some(text) => format!("rule {} (`{text}`)", index + 1),
        None => format!("rule {} (every version)", index + 1),
    };
    let mut problems = Vec::new();
    for (index, set) in sets.iter().enumerate() {
        if set.is_empty() {
            problems.push(format!("{} matches no version", describe(index)));
        }
    }
    if !problems.is_empty() {
        return problems;
    }
    let mut reported = BTreeSet::new();
    for kind in ArtifactKind::ALL {
        let applying: Vec<usize> = (0..rules.len())
            .filter(|&index| rules[index].applies_to.covers(kind))
            .collect();
        let mut overlap = false;
        for (position, &a) in applying.iter().enumerate() {
            for &b in &applying[position + 1..] {
                let common = sets[a].intersect(&sets[b]);
                if common.is_empty() {
                    continue;
                }
                overlap = true;
                if !reported.insert((a, b)) {
                    continue;
                }
                let example = common
                    .example()
                    .map(|version| format!(" ({version}, say)"))
                    .unwrap_or_default();
                problems.push(format!(
                    "{} and {} overlap for {kind}s: both may match a version{example}; \
                     for each of sdists and wheels, give every version one rule",
                    describe(a),
                    describe(b)
                ));
            }
        }
        if overlap {
            continue;
        }
        for pair in applying.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            let top = |index: usize| sets[index].top().cloned().unwrap_or(Bound::Unbounded);
            if compare_upper(&top(a), &top(b)).is_lt() {
                problems.push(format!(
                    "{} and {} are not sorted newest first (for {kind}s): put {} first",
                    describe(a),
                    describe(b),
                    describe(b)
                ));
            }
        }
    }
    problems
}

fn check_location(path: &str) -> Result<(&str, &str), String> {
    let mut parts = path.split('/');
    let (Some(shard_dir), Some(name), Some(file), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("files belong in `<shard>/<package>/`".to_string());
    };
    if !is_normalized(name) {
        return Err(format!(
            "directory `{name}` is not a PEP 503 normalised name"
        ));
    }
    // A normalised name is ASCII, so its shard is its first two bytes.
    if shard_dir != &name[..name.len().min(2)] {
        return Err(format!("`{name}` belongs in shard `{}`", shard(name)));
    }
    Ok((name, file))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PILLOW: &str = r#"
schema-version = 1
[[rule]]
versions = ">=10"
build-system = ["setuptools"]
native-build-inputs = ["pkg-config"]
build-inputs = ["zlib", "xorg.libxcb"]
[[rule]]
versions = "<10"
build-system = ["setuptools", "wheel"]
"#;

    fn v(text: &str) -> Version {
        text.parse().unwrap()
    }

    #[test]
    fn the_rule_for_the_version_applies() {
        let db = OverrideDb::from_files([("pi/pillow/override.toml", PILLOW)]).unwrap();
        let new = db
            .lookup("pillow", &v("11.1.0"), ArtifactKind::Sdist)
            .unwrap();
        assert_eq!(new.build_inputs, ["zlib", "xorg.libxcb"]);
        let old = db
            .lookup("pillow", &v("9.5.0"), ArtifactKind::Sdist)
            .unwrap();
        assert_eq!(old.build_system, ["setuptools", "wheel"]);
        assert!(db.lookup("pillow", &v("11"), ArtifactKind::Wheel).is_none());
        assert!(db.lookup("flask", &v("1"), ArtifactKind::Sdist).is_none());
    }

    const KINDS: &str = r#"
schema-version = 1
note = "runtime libraries for the wheels"
[[rule]]
applies-to = "wheel"
versions = ">=2"
propagated-build-inputs = ["libGL"]
sonames = { "libGL.so.1" = "libGL" }
[[rule]]
versions = ">=2"
build-system = ["meson-python"]
env = { NPY_BLAS_ORDER = "openblas" }
build-flags = ["-Csetup-args=-Dsystem-freetype=true"]
patches = ["fix.patch"]
[[rule]]
applies-to = "any"
versions = "<2"
build-inputs = ["zlib"]
"#;

    #[test]
    fn rules_apply_to_their_artifact_kind() {
        let db = OverrideDb::from_files([
            ("nu/numpy/override.toml", KINDS),
            ("nu/numpy/fix.patch", "--- a\n+++ b\n"),
        ])
        .unwrap();
        let wheel = db.lookup("numpy", &v("2.1"), ArtifactKind::Wheel).unwrap();
        assert_eq!(wheel.propagated_build_inputs, ["libGL"]);
        assert_eq!(wheel.sonames["libGL.so.1"], "libGL");
        let sdist = db.lookup("numpy", &v("2.1"), ArtifactKind::Sdist).unwrap();
        assert_eq!(sdist.build_flags, ["-Csetup-args=-Dsystem-freetype=true"]);
        assert_eq!(sdist.env["NPY_BLAS_ORDER"], "openblas");
        assert_eq!(sdist.patches, ["fix.patch"]);
        for kind in ArtifactKind::ALL {
            let old = db.lookup("numpy", &v("1.26"), kind).unwrap();
            assert_eq!(old.build_inputs, ["zlib"]);
        }
        let entry = db.entry("numpy").unwrap();
        assert_eq!(
            entry.note.as_deref(),
            Some("runtime libraries for the wheels")
        );
        assert_eq!(entry.patch_text("fix.patch"), Some("--- a\n+++ b\n"));
        assert_eq!(entry.origin.path, "overrides/nu/numpy/override.toml");
        assert_eq!(
            entry.origin.sibling("fix.patch"),
            "overrides/nu/numpy/fix.patch"
        );
    }

    fn errors(files: &[(&str, &str)]) -> Vec<String> {
        OverrideDb::from_files(files.iter().copied())
            .unwrap_err()
            .problems()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    fn error(path: &str, text: &str) -> String {
        let mut all = errors(&[(path, text)]);
        assert_eq!(all.len(), 1, "{all:?}");
        all.remove(0)
    }

    fn rules_error(rules: &str) -> String {
        error(
            "pi/pillow/override.toml",
            &format!("schema-version = 1\n{rules}"),
        )
    }

    #[test]
    fn layout_mistakes_are_named() {
        assert_eq!(
            error("pl/pillow/override.toml", PILLOW),
            "`overrides/pl/pillow/override.toml`: `pillow` belongs in shard `pi`"
        );
        assert_eq!(
            error("Pi/Pillow/override.toml", PILLOW),
            "`overrides/Pi/Pillow/override.toml`: directory `Pillow` is not a PEP 503 normalised name"
        );
        assert_eq!(
            error("pillow.toml", PILLOW),
            "`overrides/pillow.toml`: files belong in `<shard>/<package>/`"
        );
        assert_eq!(
            error("pi/pillow/sub/override.toml", PILLOW),
            "`overrides/pi/pillow/sub/override.toml`: files belong in `<shard>/<package>/`"
        );
        assert_eq!(
            error("pi/pillow/Override.toml", PILLOW),
            "`overrides/pi/pillow`: directory has no override.toml"
        );
        // Documentation and the schema at the top are skipped.
        OverrideDb::from_files([("README.md", "# x"), ("override.schema.json", "{}")]).unwrap();
    }

    #[test]
    fn every_problem_is_reported() {
        let all = errors(&[
            ("pl/pillow/override.toml", PILLOW),
            (
                "nu/numpy/override.toml",
                "schema-version = 1\n[[rule]]\nbuild_inputs = []\n",
            ),
        ]);
        assert_eq!(all.len(), 2, "{all:?}");
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused() {
        let unknown = rules_error("[[rule]]\nbuild_inputs = []\n");
        assert!(
            unknown.contains("unknown field `build_inputs`"),
            "{unknown}"
        );
        let top = rules_error("notes = \"x\"\n[[rule]]\n");
        assert!(top.contains("unknown field `notes`"), "{top}");
        let applies = rules_error("[[rule]]\napplies-to = \"binary\"\n");
        assert!(applies.contains("unknown variant `binary`"), "{applies}");
        let env_value = rules_error("[[rule]]\nenv = { A = 1 }\n");
        assert!(env_value.contains("invalid type: integer"), "{env_value}");
        let schema = error("pi/pillow/override.toml", "schema-version = 2\n[[rule]]\n");
        assert!(schema.ends_with("schema-version 2 is not 1"), "{schema}");
        assert!(rules_error("rule = []").ends_with("no [[rule]]"));
        let missing = rules_error("");
        assert!(missing.contains("missing field `rule`"), "{missing}");

        let cases = [
            ("build-inputs = [\"${x}\"]", "rule 1: `${x}` is not a nixpkgs attribute path"),
            ("propagated-build-inputs = [\"a b\"]", "rule 1: `a b` is not a nixpkgs attribute path"),
            ("build-system = [\"Cython\"]", "rule 1: build-system `Cython` is not a normalised package name"),
            ("build-inputs = [\"zlib\", \"zlib\"]", "rule 1: build-inputs lists `zlib` twice"),
            ("env = { \"1X\" = \"y\" }", "rule 1: env `1X` is not an environment variable name ([A-Za-z_][A-Za-z0-9_]*)"),
            ("patches = [\"../x.patch\"]", "rule 1: patches `../x.patch` is not the name of a file beside override.toml"),
            ("build-flags = [\"\"]", "rule 1: build-flags `` is empty or spans lines"),
            ("versions = \"===1.0\"", "rule 1: versions `===1.0`: `===` is not supported"),
            ("versions = \"==1.0+local\"", "rule 1: versions `==1.0+local`: local version labels (`+…`) are not supported"),
            ("sonames = { \"libz.so.1\" = \"zlib\" }", "rule 1: sonames is for wheels: set `applies-to = \"wheel\"` or `\"any\"`"),
            ("applies-to = \"wheel\"\nsonames = { \"libz\" = \"zlib\" }", "rule 1: sonames `libz` is not a shared library's soname (`libz.so.1`)"),
            ("applies-to = \"wheel\"\nbuild-system = [\"setuptools\"]\nbuild-inputs = [\"zlib\"]", "rule 1: build-system is for builds from source, but the rule applies to wheels only"),
            ("applies-to = \"wheel\"\nbuild-flags = [\"-x\"]\nbuild-inputs = [\"zlib\"]", "rule 1: build-flags is for builds from source, but the rule applies to wheels only"),
            ("applies-to = \"wheel\"", "rule 1: the rule applies to wheels but adds nothing"),
            ("ignore-missing = [\"libx.so.1\"]", "rule 1: ignore-missing is for wheels: set `applies-to = \"wheel\"` or `\"any\"`"),
            ("runpath-packages = [\"nvidia-cublas-cu12\"]", "rule 1: runpath-packages is for wheels: set `applies-to = \"wheel\"` or `\"any\"`"),
            ("applies-to = \"wheel\"\nignore-missing = [\"libx\"]", "rule 1: ignore-missing `libx` is not a shared library's soname (`libz.so.1`)"),
            ("applies-to = \"wheel\"\nsonames = { \"libz.so.1\" = \"zlib\" }\nignore-missing = [\"libz.so.1\"]", "rule 1: ignore-missing `libz.so.1` is also mapped in sonames: keep one of the two"),
            ("applies-to = \"wheel\"\nrunpath-packages = [\"NVIDIA_cublas\"]", "rule 1: runpath-packages `NVIDIA_cublas` is not a normalized package name (`nvidia-cublas-cu12`)"),
            ("applies-to = \"wheel\"\nrunpath-packages = [\"a\", \"a\"]", "rule 1: runpath-packages lists `a` twice"),
        ];
        for (rule, expected) in cases {
            let message = rules_error(&format!("[[rule]]\n{rule}\n"));
            assert_eq!(
                message,
                format!("`overrides/pi/pillow/override.toml`: {expected}"),
                "{rule}"
            );
        }
        let bad_version = rules_error("[[rule]]\nversions = \">=x\"\n");
        assert!(
            bad_version.contains("rule 1: versions `>=x`: "),
            "{bad_version}"
        );
        let empty_note = rules_error("note = \" \"\n[[rule]]\n");
        assert!(empty_note.ends_with("note is empty"), "{empty_note}");
    }

    #[test]
    fn overlapping_rules_are_refused() {
        let cases = [
            (
                "[[rule]]\nversions = \">=1\"\n[[rule]]\nversions = \">=2\"\n",
                "rule 1 (`>=1`) and rule 2 (`>=2`) overlap for sdists: both may match a version (2, say); for each of sdists and wheels, give every version one rule",
            ),
            (
                "[[rule]]\nversions = \">=2\"\n[[rule]]\n",
                "rule 1 (`>=2`) and rule 2 (every version) overlap for sdists: both may match a version (2, say); for each of sdists and wheels, give every version one rule",
            ),
            (
                "[[rule]]\napplies-to = \"any\"\nversions = \"<=2\"\n[[rule]]\napplies-to = \"wheel\"\nversions = \">=2\"\nbuild-inputs = [\"zlib\"]\n",
                "rule 1 (`<=2`) and rule 2 (`>=2`) overlap for wheels: both may match a version (2, say); for each of sdists and wheels, give every version one rule",
            ),
            (
                "[[rule]]\nversions = \"==1.4.*\"\n[[rule]]\nversions = \"~=1.4.2\"\n",
                "rule 1 (`==1.4.*`) and rule 2 (`~=1.4.2`) overlap for sdists: both may match a version (1.4.2, say); for each of sdists and wheels, give every version one rule",
            ),
            (
                "[[rule]]\nversions = \">=2,<1\"\n",
                "rule 1 (`>=2,<1`) matches no version",
            ),
        ];
        for (rules, expected) in cases {
            assert_eq!(
                rules_error(rules),
                format!("`overrides/pi/pillow/override.toml`: {expected}"),
                "{rules}"
            );
        }
    }

    #[test]
    fn rules_of_different_kinds_may_cover_the_same_versions() {
        let text = "schema-version = 1\n\
            [[rule]]\nbuild-system = [\"setuptools\"]\n\
            [[rule]]\napplies-to = \"wheel\"\nbuild-inputs = [\"zlib\"]\n";
        OverrideDb::from_files([("pi/pillow/override.toml", text)]).unwrap();
    }

    #[test]
    fn rules_are_sorted_newest_first() {
        let cases = [
            (
                "[[rule]]\nversions = \"<12\"\n[[rule]]\nversions = \">=12\"\n",
                "rule 1 (`<12`) and rule 2 (`>=12`) are not sorted newest first (for sdists): put rule 2 (`>=12`) first",
            ),
            (
                "[[rule]]\nversions = \"==1.4.*\"\n[[rule]]\nversions = \"!=1.4.*\"\n",
                "rule 1 (`==1.4.*`) and rule 2 (`!=1.4.*`) are not sorted newest first (for sdists): put rule 2 (`!=1.4.*`) first",
            ),
            (
                "[[rule]]\napplies-to = \"any\"\nversions = \"<2\"\n[[rule]]\napplies-to = \"wheel\"\nversions = \">=2\"\nbuild-inputs = [\"zlib\"]\n",
                "rule 1 (`<2`) and rule 2 (`>=2`) are not sorted newest first (for wheels): put rule 2 (`>=2`) first",
            ),
        ];
        for (rules, expected) in cases {
            assert_eq!(
                rules_error(rules),
                format!("`overrides/pi/pillow/override.toml`: {expected}"),
                "{rules}"
            );
        }
        // Each kind is sorted on its own; kinds may interleave.
        let text = "schema-version = 1\n\
            [[rule]]\napplies-to = \"wheel\"\nversions = \"<2\"\nbuild-inputs = [\"zlib\"]\n\
            [[rule]]\nversions = \">=3\"\n\
            [[rule]]\nversions = \"<3\"\n";
        OverrideDb::from_files([("pi/pillow/override.toml", text)]).unwrap();
    }

    #[test]
    fn patches_must_exist_and_be_named() {
        let text = "schema-version = 1\n[[rule]]\npatches = [\"fix.patch\"]\n";
        assert_eq!(
            error("pi/pillow/override.toml", text),
            "`overrides/pi/pillow/override.toml`: patch `fix.patch` is missing beside override.toml"
        );
        assert_eq!(
            errors(&[
                ("pi/pillow/override.toml", text),
                ("pi/pillow/fix.patch", "")
            ]),
            ["`overrides/pi/pillow/override.toml`: patch `fix.patch` is empty or not UTF-8 text"]
        );
        assert_eq!(
            errors(&[
                ("pi/pillow/override.toml", PILLOW),
                ("pi/pillow/stray.patch", "x")
            ]),
            ["`overrides/pi/pillow/stray.patch`: no rule names this file in `patches`"]
        );
        assert_eq!(
            errors(&[("pi/pillow/fix.patch", "x")]),
            ["`overrides/pi/pillow`: directory has no override.toml"]
        );
    }

    #[test]
    fn a_user_entry_replaces_the_builtin_one_whole() {
        let builtin = OverrideDb::from_files([
            ("pi/pillow/override.toml", PILLOW),
            ("nu/numpy/override.toml", KINDS),
            ("nu/numpy/fix.patch", "x"),
        ])
        .unwrap();
        let user_text =
            "schema-version = 1\n[[rule]]\nversions = \">=11\"\nbuild-inputs = [\"libjpeg\"]\n";
        let user = OverrideDb::from_user_files(
            "/home/me/overrides/",
            [("pi/pillow/override.toml", user_text)],
        )
        .unwrap();
        let db = OverrideDb::merge(builtin, user);
        let pillow = db.entry("pillow").unwrap();
        assert_eq!(pillow.origin.kind, OriginKind::User);
        assert_eq!(
            pillow.origin.path,
            "/home/me/overrides/pi/pillow/override.toml"
        );
        assert_eq!(
            pillow.replaces.as_ref().unwrap().to_string(),
            "overrides/pi/pillow/override.toml (built in)"
        );
        // The built-in `<10` rule is gone with its entry.
        assert!(db.lookup("pillow", &v("9"), ArtifactKind::Sdist).is_none());
        assert_eq!(
            db.lookup("pillow", &v("11"), ArtifactKind::Sdist)
                .unwrap()
                .build_inputs,
            ["libjpeg"]
        );
        assert_eq!(db.entry("numpy").unwrap().origin.kind, OriginKind::BuiltIn);
        let user_error =
            OverrideDb::from_user_files("mine", [("pl/pillow/override.toml", user_text)])
                .unwrap_err()
                .to_string();
        assert_eq!(
            user_error,
            "`mine/pl/pillow/override.toml`: `pillow` belongs in shard `pi`"
        );
    }

    #[test]
    fn a_lazy_database_loads_entries_as_the_eager_one_does() {
        let files = [
            ("README.md", "# x"),
            ("SONAMES.toml", "schema-version = 1\n"),
            ("pi/pillow/override.toml", PILLOW),
            ("nu/numpy/override.toml", KINDS),
            ("nu/numpy/fix.patch", "--- a\n+++ b\n"),
        ];
        let eager = OverrideDb::from_files(files).unwrap();
        let lazy = OverrideDb::from_files_lazily(files).unwrap();
        assert_eq!(lazy.len(), 2);
        assert!(lazy.contains("numpy") && !lazy.contains("flask"));
        assert_eq!(lazy.entry("numpy"), eager.entry("numpy"));
        assert_eq!(
            lazy.lookup("pillow", &v("9.5.0"), ArtifactKind::Sdist),
            eager.lookup("pillow", &v("9.5.0"), ArtifactKind::Sdist)
        );
        assert!(lazy.entry("flask").is_none());
        assert_eq!(lazy.try_entry("flask"), Ok(None));
        assert!(lazy.entries().eq(eager.entries()));
        assert_eq!(lazy.load_all(), Ok(()));
    }

    #[test]
    fn a_lazy_entry_that_fails_is_absent_and_reported_with_its_file() {
        let broken = "schema-version = 1\n[[rule]]\nbuild_inputs = []\n";
        let files = [
            ("pi/pillow/override.toml", PILLOW),
            ("nu/numpy/override.toml", broken),
            ("ca/cairo/override.toml", PILLOW),
            ("ca/cairo/stray.patch", "x"),
        ];
        let eager = errors(&files);
        let db = OverrideDb::from_files_lazily(files).unwrap();
        // Nothing is parsed before it is asked for.
        assert_eq!(db.check_loaded(), Ok(()));
        assert!(db.lookup("pillow", &v("11"), ArtifactKind::Sdist).is_some());
        assert_eq!(db.check_loaded(), Ok(()));
        assert!(db.contains("numpy"));
        assert!(db.entry("numpy").is_none());
        assert!(db.lookup("numpy", &v("1"), ArtifactKind::Sdist).is_none());
        let error = db.try_entry("numpy").unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("`overrides/nu/numpy/override.toml`: "),
            "{error}"
        );
        assert!(error.to_string().contains("unknown field `build_inputs`"));
        assert_eq!(db.check_loaded(), Err(error));
        // Every check of the eager load applies, with the same messages.
        let all: Vec<String> = db
            .load_all()
            .unwrap_err()
            .problems()
            .iter()
            .map(ToString::to_string)
            .collect();
        let mut sorted = all.clone();
        sorted.sort();
        let mut eager_sorted = eager.clone();
        eager_sorted.sort();
        assert_eq!(sorted, eager_sorted);
        assert_eq!(db.entries().count(), 1);
        // Layout problems are found at once.
        let layout = OverrideDb::from_files_lazily([
            ("pl/pillow/override.toml", PILLOW),
            ("nu/numpy/fix.patch", "x"),
        ])
        .unwrap_err()
        .problems()
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>();
        assert_eq!(
            layout,
            [
                "`overrides/pl/pillow/override.toml`: `pillow` belongs in shard `pi`",
                "`overrides/nu/numpy`: directory has no override.toml"
            ]
        );
    }

    #[test]
    fn a_user_entry_replaces_a_lazy_builtin_one_without_loading_it() {
        let broken = "schema-version = 1\n[[rule]]\nbuild_inputs = []\n";
        let builtin = OverrideDb::from_files_lazily([
            ("pi/pillow/override.toml", broken),
            ("nu/numpy/override.toml", KINDS),
            ("nu/numpy/fix.patch", "x"),
        ])
        .unwrap();
        let user =
            OverrideDb::from_user_files("mine", [("pi/pillow/override.toml", PILLOW)]).unwrap();
        let db = OverrideDb::merge(builtin, user);
        let pillow = db.entry("pillow").unwrap();
        assert_eq!(pillow.origin.kind, OriginKind::User);
        assert_eq!(
            pillow.replaces.as_ref().unwrap().to_string(),
            "overrides/pi/pillow/override.toml (built in)"
        );
        assert_eq!(db.entry("numpy").unwrap().origin.kind, OriginKind::BuiltIn);
        assert_eq!(db.load_all(), Ok(()));
    }
}
