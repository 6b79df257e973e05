//! Hashed `requirements.txt` files (pip-compile, `uv pip compile --generate-hashes`).
//!
//! The file is read the way pip reads it: lines ending in `\` are joined (a comment line ends
//! the join), `#` at the start of a line or after whitespace starts a comment, and each line is
//! either options (`-r`, `-c`, `-e`, `-i`, ...) or one requirement followed by its own options
//! (`--hash`). Every package must be pinned (`==`/`===`, or by a constraint file); the result is
//! an install list ([`InstallSet::Flat`]) whose packages carry their hashes in
//! [`LockedPackage::index_hashes`].
//!
//! - **Includes.** `-r FILE` adds FILE's requirements; `-c FILE` adds FILE's entries as
//!   constraints (and so do the files a constraint file includes). A constraint only pins,
//!   narrows or adds hashes to a package named by a requirement; it installs nothing itself.
//!   A requirement that is not pinned takes the pins of its constraints (one package per
//!   constraint entry, the markers ANDed), and a pinned one must agree with them.
//! - **Indexes.** `--index-url` (the last one, as in pip) becomes the index named `index`; each
//!   distinct `--extra-index-url` becomes `extra-1`, `extra-2`, ... in order. When there are
//!   extra indexes but no `--index-url`, `index` is the default index, written with an empty
//!   URL so that it keeps its place in front.
//! - **Direct references.** `name @ URL`, bare URLs and paths, and `-e TARGET` become Git, URL
//!   or path sources. A git reference that is a 40-hex sha is the commit; anything else is a
//!   reference the planner resolves. An editable or bare target's name comes from `#egg=`, else
//!   from its file name (a wheel's or sdist's), else from the path's last component. A direct
//!   reference whose version cannot be read from a file name is read as version `0`.
//! - **Ignored options.** `--find-links`, `--no-index`, `--no-binary`, `--only-binary`,
//!   `--config-settings` and the like are accepted with a warning (their meaning does not
//!   carry over); `--pre`, `--prefer-binary`, `--require-hashes`, `--trusted-host` and
//!   `--use-feature` are accepted silently. `${VAR}` references are kept as written, with a
//!   warning: nothing here reads the environment.
//!
//! Errors name `label:line:column` of the offending text (in a joined line, the physical line
//! the text is on).

use std::collections::HashMap;
use std::str::FromStr;

use pep440_rs::{Operator, Version, VersionSpecifiers};
use pep508_rs::{ExtraName, MarkerTree, PackageName};

use crate::format::{DirectoryProject, LockFiles};
use crate::model::{
    FileHash, GitSource, IndexDecl, InstallSet, Lock, LockFormat, LockedFile, LockedPackage,
    PackageSource, PathKind,
};
use crate::pylock::{ascii_only, name_list, path_basename, percent_decode, url_basename};
use crate::{LockError, VersionConstraint};

/// The include callback of [`parse_requirements`], as the [`LockFiles`] the reader takes.
struct IncludeOnly<'a>(&'a dyn Fn(&str, &str) -> Result<(String, String), String>);

impl LockFiles for IncludeOnly<'_> {
    fn include(&self, name: &str, from: &str) -> Result<(String, String), String> {
        (self.0)(name, from)
    }
}

/// Reads a requirements file. `label` names it in errors (`requirements.txt:12:5`);
/// `include` returns the text of a `-r`/`-c` file named relative to the including file,
/// together with the label to use for it.
#[allow(clippy::type_complexity)]
pub fn parse_requirements(
    text: &str,
    label: &str,
    include: &dyn Fn(&str, &str) -> Result<(String, String), String>,
) -> Result<Lock, LockError> {
    parse_requirements_with(text, label, &IncludeOnly(include))
}

/// [`parse_requirements`] with every file the requirements name besides themselves through
/// `files`: includes, and the projects of the local directories installed (`-e .`).
pub(crate) fn parse_requirements_with(
    text: &str,
    label: &str,
    files: &dyn LockFiles,
) -> Result<Lock, LockError> {
    let mut reader = Reader {
        files,
        stack: Vec::new(),
        requirements: Vec::new(),
        constraints: Vec::new(),
        index_url: None,
        extra_index_urls: Vec::new(),
        warnings: Vec::new(),
    };
    reader.read_file(text, label, false)?;
    reader.finish()
}

/// Where something is: `label:line:column`.
type Location = String;

fn error(location: &str, message: impl Into<String>) -> LockError {
    LockError::Requirements {
        location: location.to_string(),
        message: message.into(),
    }
}

/// How a requirement or constraint pins its package.
#[derive(Debug, Clone)]
enum Pin {
    /// `==1.0` or `===1.0`.
    Version(Version),
    /// Anything else (`>=1`, or nothing): only a constraint can pin it.
    Specifiers(VersionSpecifiers),
    /// A URL, path or VCS reference, with the version its file name gives (else 0).
    Direct {
        source: PackageSource,
        files: Vec<LockedFile>,
        version: Version,
    },
}

/// One requirement or constraint line.
#[derive(Debug, Clone)]
struct Entry {
    location: Location,
    name: PackageName,
    extras: Vec<ExtraName>,
    pin: Pin,
    marker: MarkerTree,
    hashes: Vec<FileHash>,
}

impl Entry {
    fn version(&self) -> Option<&Version> {
        match &self.pin {
            Pin::Version(version) | Pin::Direct { version, .. } => Some(version),
            Pin::Specifiers(_) => None,
        }
    }

    fn source(&self) -> PackageSource {
        match &self.pin {
            Pin::Direct { source, .. } => source.clone(),
            _ => PackageSource::DefaultIndex,
        }
    }
}

struct Reader<'a> {
    files: &'a dyn LockFiles,
    /// Labels of the files being read, outermost first (for include cycles).
    stack: Vec<String>,
    requirements: Vec<Entry>,
    constraints: Vec<Entry>,
    index_url: Option<(String, Location)>,
    extra_index_urls: Vec<String>,
    warnings: Vec<String>,
}

impl Reader<'_> {
    fn warn(&mut self, message: String) {
        if !self.warnings.contains(&message) {
            self.warnings.push(message);
        }
    }

    fn read_file(&mut self, text: &str, label: &str, constraint: bool) -> Result<(), LockError> {
        self.stack.push(label.to_string());
        for line in logical_lines(text, label) {
            self.read_line(&line, constraint)?;
        }
        self.stack.pop();
        Ok(())
    }

    fn read_line(&mut self, line: &LogicalLine, constraint: bool) -> Result<(), LockError> {
        for (offset, var) in env_references(&line.text) {
            let at = line.location(offset);
            self.warn(format!(
                "{at}: `{var}` is kept as written; py2nix does not expand environment variables"
            ));
        }
        let tokens = split_tokens(&line.text);
        let Some(first) = tokens.first() else {
            return Ok(());
        };
        if first.text.starts_with('-') {
            return self.read_options(line, &tokens, constraint);
        }
        let split = tokens
            .iter()
            .position(|t| t.text.starts_with('-'))
            .unwrap_or(tokens.len());
        let end = tokens[split - 1].end;
        let requirement = &line.text[first.start..end];
        let mut entry = parse_requirement(requirement, first.start, line)?;
        self.read_requirement_options(line, &tokens[split..], &mut entry)?;
        self.push(entry, constraint);
        Ok(())
    }

    fn push(&mut self, entry: Entry, constraint: bool) {
        if constraint {
            self.constraints.push(entry);
        } else {
            self.requirements.push(entry);
        }
    }

    /// `--hash` and the other options pip accepts after a requirement.
    fn read_requirement_options(
        &mut self,
        line: &LogicalLine,
        tokens: &[Token],
        entry: &mut Entry,
    ) -> Result<(), LockError> {
        for option in parse_options(line, tokens)? {
            match option.name {
                "--hash" => {
                    let hash = FileHash::parse(option.value)
                        .map_err(|e| error(&option.value_location, e))?;
                    add_hash(&mut entry.hashes, hash);
                }
                "--config-settings" | "--global-option" | "--install-option" => {
                    self.warn(format!(
                        "{}: `{}` is ignored: py2nix builds packages its own way",
                        option.location, option.name
                    ));
                }
                name => {
                    return Err(error(
                        &option.location,
                        format!("`{name}` cannot follow a requirement on the same line"),
                    ))
                }
            }
        }
        if let Pin::Direct { files, .. } = &mut entry.pin {
            if let [file] = files.as_mut_slice() {
                if file.hash.is_none() {
                    file.hash = best_hash(&entry.hashes);
                }
            }
        }
        Ok(())
    }

    /// A line of options: includes, indexes, editables and the options py2nix ignores.
    fn read_options(
        &mut self,
        line: &LogicalLine,
        tokens: &[Token],
        constraint: bool,
    ) -> Result<(), LockError> {
        for option in parse_options(line, tokens)? {
            let value = option.value;
            match option.name {
                "--requirement" => self.read_include(value, &option, constraint)?,
                "--constraint" => self.read_include(value, &option, true)?,
                "--editable" => {
                    let including = self.stack.last().cloned().unwrap_or_default();
                    let files = self.files;
                    let project_in = |path: &str| files.project_in(path, &including);
                    let mut entry = parse_editable(value, &option.value_location, &project_in)?;
                    entry.location = option.location.clone();
                    self.push(entry, constraint);
                }
                "--index-url" => {
                    if let Some((previous, at)) = &self.index_url {
                        if previous != value {
                            let message = format!(
                                "{}: `--index-url {value}` replaces `--index-url {previous}` given at {at}",
                                option.location
                            );
                            self.warn(message);
                        }
                    }
                    self.index_url = Some((value.to_string(), option.location.clone()));
                }
                "--extra-index-url" if !self.extra_index_urls.iter().any(|u| u == value) => {
                    self.extra_index_urls.push(value.to_string());
                }
                "--find-links" | "--no-index" | "--no-binary" | "--only-binary" => {
                    let hint = match option.name {
                        "--find-links" => "py2nix finds files on the indexes only",
                        "--no-index" => "py2nix always reads the indexes",
                        _ => "give py2nix's own `--no-binary`/`--only-binary` instead",
                    };
                    self.warn(format!(
                        "{}: `{}` is ignored: {hint}",
                        option.location, option.name
                    ));
                }
                "--config-settings" | "--global-option" | "--install-option" => {
                    self.warn(format!(
                        "{}: `{}` is ignored: py2nix builds packages its own way",
                        option.location, option.name
                    ));
                }
                "--hash" => {
                    return Err(error(
                        &option.location,
                        "`--hash` must follow the requirement it belongs to",
                    ))
                }
                // Meaningless for a list of pins, or about the transport only.
                _ => {}
            }
        }
        Ok(())
    }

    fn read_include(
        &mut self,
        path: &str,
        option: &ParsedOption,
        constraint: bool,
    ) -> Result<(), LockError> {
        let including = self.stack.last().cloned().unwrap_or_default();
        let (text, label) = self.files.include(path, &including).map_err(|e| {
            error(
                &option.value_location,
                format!("cannot include `{path}`: {e}"),
            )
        })?;
        let key = same_file_key(&label);
        if self.stack.iter().any(|open| same_file_key(open) == key) {
            let mut chain = self.stack.clone();
            chain.push(label);
            return Err(error(
                &option.value_location,
                format!("include cycle: {}", chain.join(" -> ")),
            ));
        }
        if self.stack.len() >= MAX_INCLUDE_DEPTH {
            return Err(error(
                &option.value_location,
                format!("includes nest deeper than {MAX_INCLUDE_DEPTH} files; is there a cycle?"),
            ));
        }
        self.read_file(&text, &label, constraint)
    }

    fn finish(mut self) -> Result<Lock, LockError> {
        let mut constraints: HashMap<PackageName, Vec<&Entry>> = HashMap::new();
        for entry in &self.constraints {
            constraints
                .entry(entry.name.clone())
                .or_default()
                .push(entry);
        }
        let mut pinned = Vec::new();
        for requirement in &self.requirements {
            let of_name = constraints
                .get(&requirement.name)
                .map(Vec::as_slice)
                .unwrap_or_default();
            pinned.extend(apply_constraints(requirement, of_name)?);
        }
        let merged = merge_duplicates(pinned)?;
        let unhashed: Vec<String> = merged
            .iter()
            .filter(|e| matches!(e.pin, Pin::Version(_)) && e.hashes.is_empty())
            .map(|e| e.name.to_string())
            .collect();
        if !unhashed.is_empty() {
            self.warn(format!(
                "{} pinned requirement(s) have no `--hash` ({}): any file of the pinned version on the index is accepted",
                unhashed.len(),
                name_list(&unhashed)
            ));
        }
        let indexes = self.indexes();
        Ok(Lock {
            format: LockFormat::Requirements,
            lock_version: String::new(),
            packages: merged.into_iter().map(locked_package).collect(),
            warnings: self.warnings,
            project: None,
            install: InstallSet::Flat,
            indexes,
        })
    }

    fn indexes(&self) -> Vec<IndexDecl> {
        let mut indexes = Vec::new();
        let main = self.index_url.as_ref().map(|(url, _)| url.clone());
        if main.is_some() || !self.extra_index_urls.is_empty() {
            indexes.push(IndexDecl {
                name: "index".to_string(),
                url: main.clone().unwrap_or_default(),
            });
        }
        let extras = self
            .extra_index_urls
            .iter()
            .filter(|url| Some(*url) != main.as_ref());
        for (number, url) in extras.enumerate() {
            indexes.push(IndexDecl {
                name: format!("extra-{}", number + 1),
                url: url.clone(),
            });
        }
        indexes
    }
}

/// How deep `-r`/`-c` may nest: a cycle whose labels differ (`a/./b.txt`, `a/b.txt`) stops here.
const MAX_INCLUDE_DEPTH: usize = 64;

/// A label with `.` components and repeated separators removed, so that `dir/./a.txt` and
/// `dir//a.txt` are seen to be `dir/a.txt`.
fn same_file_key(label: &str) -> String {
    let absolute = label.starts_with('/');
    let parts: Vec<&str> = label
        .split(['/', '\\'])
        .filter(|part| !part.is_empty() && *part != ".")
        .collect();
    format!("{}{}", if absolute { "/" } else { "" }, parts.join("/"))
}

fn add_hash(hashes: &mut Vec<FileHash>, hash: FileHash) {
    if !hashes.contains(&hash) {
        hashes.push(hash);
    }
}

fn best_hash(hashes: &[FileHash]) -> Option<FileHash> {
    ["sha256", "sha512", "sha384"]
        .iter()
        .find_map(|algorithm| hashes.iter().find(|h| h.algorithm == *algorithm))
        .or_else(|| hashes.first())
        .cloned()
}

/// The pinned entries a requirement stands for once its constraints apply. Constraints whose
/// marker cannot hold together with the requirement's are left out.
fn apply_constraints(requirement: &Entry, constraints: &[&Entry]) -> Result<Vec<Entry>, LockError> {
    let overlapping: Vec<&Entry> = constraints
        .iter()
        .copied()
        .filter(|c| !c.marker.is_disjoint(&requirement.marker))
        .collect();
    match &requirement.pin {
        Pin::Specifiers(specifiers) => pin_by_constraints(requirement, specifiers, &overlapping),
        _ => check_against_constraints(requirement, &overlapping).map(|entry| vec![entry]),
    }
}

/// An unpinned requirement becomes one entry per constraint that pins a version it allows.
fn pin_by_constraints(
    requirement: &Entry,
    specifiers: &VersionSpecifiers,
    constraints: &[&Entry],
) -> Result<Vec<Entry>, LockError> {
    let pins: Vec<&Entry> = constraints
        .iter()
        .copied()
        .filter(|c| c.version().is_some_and(|v| specifiers.contains(v)))
        .collect();
    if pins.is_empty() {
        let what = if specifiers.is_empty() {
            "is not pinned".to_string()
        } else {
            format!("is not pinned (`{specifiers}`)")
        };
        return Err(error(
            &requirement.location,
            format!(
                "`{}` {what}: a lock must pin every package with `==` or a constraint",
                requirement.name
            ),
        ));
    }
    let pinned = |constraint: &Entry| {
        let mut entry = constraint.clone();
        entry.location = requirement.location.clone();
        entry.marker.and(requirement.marker.clone());
        for extra in &requirement.extras {
            if !entry.extras.contains(extra) {
                entry.extras.push(extra.clone());
            }
        }
        if !requirement.hashes.is_empty() {
            entry.hashes = requirement.hashes.clone();
        }
        entry
    };
    Ok(pins.into_iter().map(pinned).collect())
}

/// A pinned requirement must agree with every constraint; without hashes of its own, it takes
/// those of the constraints that pin the same version.
fn check_against_constraints(
    requirement: &Entry,
    constraints: &[&Entry],
) -> Result<Entry, LockError> {
    let mut entry = requirement.clone();
    let Some(version) = requirement.version() else {
        return Ok(entry);
    };
    for constraint in constraints {
        let allowed = match &constraint.pin {
            Pin::Specifiers(specifiers) => specifiers.contains(version),
            Pin::Version(pinned) => pinned == version,
            Pin::Direct { source, .. } => *source == requirement.source(),
        };
        if !allowed {
            return Err(error(
                &requirement.location,
                format!(
                    "`{}` {version} conflicts with the constraint at {}",
                    requirement.name, constraint.location
                ),
            ));
        }
        if requirement.hashes.is_empty() && constraint.version() == Some(version) {
            for hash in &constraint.hashes {
                add_hash(&mut entry.hashes, hash.clone());
            }
        }
    }
    Ok(entry)
}

/// Merges entries of one name, version and source (their markers ORed, hashes and extras
/// united); different versions of one name must have different markers.
fn merge_duplicates(entries: Vec<Entry>) -> Result<Vec<Entry>, LockError> {
    let mut merged: Vec<Entry> = Vec::new();
    for entry in entries {
        let same = merged.iter_mut().find(|m| {
            m.name == entry.name && m.version() == entry.version() && m.source() == entry.source()
        });
        if let Some(existing) = same {
            existing.marker.or(entry.marker);
            for hash in entry.hashes {
                add_hash(&mut existing.hashes, hash);
            }
            for extra in entry.extras {
                if !existing.extras.contains(&extra) {
                    existing.extras.push(extra);
                }
            }
            continue;
        }
        let clash = merged
            .iter()
            .find(|m| m.name == entry.name && m.marker == entry.marker);
        if let Some(other) = clash {
            let describe = |e: &Entry| match e.version() {
                Some(v) if matches!(e.pin, Pin::Version(_)) => format!("{v}"),
                _ => "a direct reference".to_string(),
            };
            return Err(error(
                &entry.location,
                format!(
                    "`{}` is pinned to {} here and to {} at {}, under the same marker",
                    entry.name,
                    describe(&entry),
                    describe(other),
                    other.location
                ),
            ));
        }
        merged.push(entry);
    }
    Ok(merged)
}

fn locked_package(entry: Entry) -> LockedPackage {
    let marker = (!entry.marker.is_true()).then_some(entry.marker);
    let (version, source, files, index_hashes) = match entry.pin {
        Pin::Version(version) => (
            version,
            PackageSource::DefaultIndex,
            Vec::new(),
            Some(entry.hashes),
        ),
        Pin::Direct {
            source,
            files,
            version,
        } => (version, source, files, None),
        // `apply_constraints` leaves no unpinned entry.
        Pin::Specifiers(_) => (
            Version::new([0]),
            PackageSource::DefaultIndex,
            Vec::new(),
            Some(entry.hashes),
        ),
    };
    LockedPackage {
        name: entry.name,
        version,
        requires_python: VersionConstraint::any(),
        marker,
        files,
        dependencies: Vec::new(),
        extras: Default::default(),
        source,
        dependencies_known: false,
        requested_extras: entry.extras,
        index_hashes,
    }
}

// ---------------------------------------------------------------------------------------------
// Lines

/// A line after joining continuations and removing its comment, with where each piece of it
/// came from.
struct LogicalLine {
    text: String,
    label: String,
    /// `(offset in text, physical line, column of that offset)`, ascending by offset.
    segments: Vec<(usize, usize, usize)>,
}

impl LogicalLine {
    /// `label:line:column` of the byte `offset` of `text`.
    fn location(&self, offset: usize) -> Location {
        let (start, line, column) = self
            .segments
            .iter()
            .rev()
            .find(|(start, _, _)| *start <= offset)
            .copied()
            .unwrap_or((0, 1, 1));
        let chars = self
            .text
            .get(start..offset)
            .map_or(0, |piece| piece.chars().count());
        format!("{}:{line}:{}", self.label, column + chars)
    }
}

/// Whether pip treats the physical line as a comment (which also ends a continuation).
fn is_comment_line(line: &str) -> bool {
    line.trim_start().starts_with('#')
}

/// Joins `\` continuations as pip does, then strips comments and surrounding whitespace.
fn logical_lines(text: &str, label: &str) -> Vec<LogicalLine> {
    let mut lines = Vec::new();
    let mut pending: Option<LogicalLine> = None;
    for (index, physical) in text.lines().enumerate() {
        let number = index + 1;
        let line = pending.get_or_insert_with(|| LogicalLine {
            text: String::new(),
            label: label.to_string(),
            segments: Vec::new(),
        });
        line.segments.push((line.text.len(), number, 1));
        let continues = physical.ends_with('\\') && !is_comment_line(physical);
        if continues {
            line.text.push_str(physical.trim_end_matches('\\'));
        } else {
            if is_comment_line(physical) {
                // Keeps a comment that ends a continuation a comment after the join.
                line.text.push(' ');
                if let Some(last) = line.segments.last_mut() {
                    last.0 += 1;
                }
            }
            line.text.push_str(physical);
            lines.extend(pending.take());
        }
    }
    lines.extend(pending);
    lines.into_iter().filter_map(strip_comment).collect()
}

/// Removes the comment (`#` at the start or after whitespace) and trailing whitespace; `None`
/// when nothing is left. Leading whitespace stays, so that offsets keep their columns.
fn strip_comment(mut line: LogicalLine) -> Option<LogicalLine> {
    let bytes = line.text.as_bytes();
    let comment = (0..bytes.len())
        .find(|&i| bytes[i] == b'#' && (i == 0 || bytes[i - 1].is_ascii_whitespace()))
        .unwrap_or(bytes.len());
    let end = line.text[..comment].trim_end().len();
    line.text.truncate(end);
    (!line.text.trim_start().is_empty()).then_some(line)
}

/// `${NAME}` references (pip expands upper-case names made of letters, digits and `_`).
fn env_references(text: &str) -> Vec<(usize, &str)> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(start) = text[from..].find("${").map(|i| i + from) {
        let rest = &text[start + 2..];
        let len = rest
            .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
            .unwrap_or(rest.len());
        if len > 0 && rest[len..].starts_with('}') {
            found.push((start, &text[start..start + 2 + len + 1]));
        }
        from = start + 2;
    }
    found
}

/// A whitespace-separated word of a line, with its byte range.
#[derive(Debug, Clone, Copy)]
struct Token<'a> {
    text: &'a str,
    start: usize,
    end: usize,
}

fn split_tokens(text: &str) -> Vec<Token<'_>> {
    let mut tokens = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices().chain([(text.len(), ' ')]) {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                tokens.push(Token {
                    text: &text[s..i],
                    start: s,
                    end: i,
                });
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    tokens
}

// ---------------------------------------------------------------------------------------------
// Options

struct ParsedOption<'a> {
    /// The long name (`--requirement` for `-r`).
    name: &'static str,
    value: &'a str,
    location: Location,
    value_location: Location,
}

/// pip's requirement-file options: long name, short name, whether it takes a value.
const OPTIONS: &[(&str, Option<&str>, bool)] = &[
    ("--requirement", Some("-r"), true),
    ("--constraint", Some("-c"), true),
    ("--editable", Some("-e"), true),
    ("--index-url", Some("-i"), true),
    ("--extra-index-url", None, true),
    ("--find-links", Some("-f"), true),
    ("--no-index", None, false),
    ("--trusted-host", None, true),
    ("--no-binary", None, true),
    ("--only-binary", None, true),
    ("--prefer-binary", None, false),
    ("--pre", None, false),
    ("--require-hashes", None, false),
    ("--use-feature", None, true),
    ("--hash", None, true),
    ("--config-settings", Some("-C"), true),
    ("--global-option", None, true),
    ("--install-option", None, true),
];

fn parse_options<'a>(
    line: &LogicalLine,
    tokens: &[Token<'a>],
) -> Result<Vec<ParsedOption<'a>>, LockError> {
    let mut options = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let token = tokens[i];
        let location = line.location(token.start);
        let (flag, attached) = split_flag(token.text);
        let (name, takes_value) = OPTIONS
            .iter()
            .find(|(long, short, _)| *long == flag || *short == Some(flag))
            .map(|(long, _, takes)| (*long, *takes))
            .ok_or_else(|| {
                let message = if token.text.starts_with('-') {
                    format!("unknown option `{flag}`")
                } else {
                    format!("unexpected `{}`: expected an option", token.text)
                };
                error(&location, message)
            })?;
        i += 1;
        let (value, value_start) = match (takes_value, attached) {
            (false, Some(_)) => {
                return Err(error(&location, format!("`{name}` takes no value")));
            }
            (false, None) => ("", token.start),
            (true, Some((value, offset))) => (value, token.start + offset),
            (true, None) => {
                let next = tokens
                    .get(i)
                    .ok_or_else(|| error(&location, format!("`{flag}` needs a value")))?;
                i += 1;
                (next.text, next.start)
            }
        };
        let (value, value_start) = unquote(value, value_start);
        options.push(ParsedOption {
            name,
            value,
            location,
            value_location: line.location(value_start),
        });
    }
    Ok(options)
}

/// `--name=value` and `-rFILE` carry their value: `(flag, Some((value, offset in token)))`.
fn split_flag(token: &str) -> (&str, Option<(&str, usize)>) {
    if token.starts_with("--") {
        return match token.split_once('=') {
            Some((flag, value)) => (flag, Some((value, flag.len() + 1))),
            None => (token, None),
        };
    }
    match token.char_indices().nth(2) {
        Some((offset, _)) if token.starts_with('-') => {
            (&token[..offset], Some((&token[offset..], offset)))
        }
        _ => (token, None),
    }
}

/// Removes one pair of matching quotes around a value.
fn unquote(value: &str, start: usize) -> (&str, usize) {
    for quote in ['"', '\''] {
        if value.len() >= 2 && value.starts_with(quote) && value.ends_with(quote) {
            return (&value[1..value.len() - 1], start + 1);
        }
    }
    (value, start)
}

// ---------------------------------------------------------------------------------------------
// Requirements

/// Parses `name[extras] specifiers ; marker`, `name[extras] @ url ; marker`, or a bare URL or
/// path (`url ; marker`). `start` is the requirement's offset in the line.
fn parse_requirement(text: &str, start: usize, line: &LogicalLine) -> Result<Entry, LockError> {
    let at = |offset: usize| line.location(start + offset);
    let name_len = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(text.len());
    let after_name = text[name_len..].trim_start();
    let named = name_len > 0
        && (after_name.is_empty()
            || after_name.starts_with(['[', '@', '=', '<', '>', '!', '~', ';', '(']));
    if !named {
        return parse_bare_target(text, start, line);
    }
    let name = PackageName::from_str(&text[..name_len])
        .map_err(|e| error(&at(0), format!("invalid name `{}`: {e}", &text[..name_len])))?;
    let mut rest_offset = text.len() - after_name.len();
    let mut extras = Vec::new();
    if after_name.starts_with('[') {
        let close = after_name
            .find(']')
            .ok_or_else(|| error(&at(rest_offset), "`[` without a closing `]`"))?;
        extras = parse_extras(&after_name[1..close]).map_err(|e| error(&at(rest_offset), e))?;
        let tail = &after_name[close + 1..];
        rest_offset += close + 1 + (tail.len() - tail.trim_start().len());
    }
    let rest = &text[rest_offset..];
    let (pin, marker_at) = if let Some(url) = rest.strip_prefix('@') {
        let url_offset = rest_offset + 1 + (url.len() - url.trim_start().len());
        let url_text = text[url_offset..].split_whitespace().next().unwrap_or("");
        if url_text.is_empty() {
            return Err(error(&at(url_offset), "`@` without a URL"));
        }
        let (pin, _egg) = direct_pin(url_text).map_err(|e| error(&at(url_offset), e))?;
        (pin, url_offset + url_text.len())
    } else {
        let end = rest.find(';').map_or(text.len(), |i| rest_offset + i);
        let specifiers = text[rest_offset..end].trim();
        let bare = specifiers
            .strip_prefix('(')
            .and_then(|s| s.strip_suffix(')'))
            .unwrap_or(specifiers);
        ascii_only(bare, "version specifiers").map_err(|e| error(&at(rest_offset), e))?;
        let parsed = VersionSpecifiers::from_str(bare).map_err(|e| {
            error(
                &at(rest_offset),
                format!("invalid version specifiers `{bare}`: {e}"),
            )
        })?;
        (pin_of(parsed), end)
    };
    let marker = parse_marker_part(&text[marker_at..], |o| at(marker_at + o))?;
    Ok(Entry {
        location: at(0),
        name,
        extras,
        pin,
        marker,
        hashes: Vec::new(),
    })
}

/// `==V` and `===V` pin; anything else does not.
fn pin_of(specifiers: VersionSpecifiers) -> Pin {
    if let [only] = &*specifiers {
        if matches!(only.operator(), Operator::Equal | Operator::ExactEqual) {
            return Pin::Version(only.version().clone());
        }
    }
    Pin::Specifiers(specifiers)
}

/// What follows the requirement proper: nothing, or `; marker`.
fn parse_marker_part(text: &str, at: impl Fn(usize) -> Location) -> Result<MarkerTree, LockError> {
    let trimmed = text.trim_start();
    let offset = text.len() - trimmed.len();
    if trimmed.is_empty() {
        return Ok(MarkerTree::TRUE);
    }
    let Some(marker) = trimmed.strip_prefix(';') else {
        return Err(error(
            &at(offset),
            format!("unexpected `{trimmed}`: expected `; marker`"),
        ));
    };
    let marker_offset = offset + 1 + (marker.len() - marker.trim_start().len());
    let marker = marker.trim();
    if marker.is_empty() {
        return Err(error(&at(offset), "`;` without a marker"));
    }
    ascii_only(marker, "marker").map_err(|e| error(&at(marker_offset), e))?;
    MarkerTree::from_str(marker).map_err(|e| {
        error(
            &at(marker_offset),
            format!("invalid marker `{marker}`: {e}"),
        )
    })
}

fn parse_extras(text: &str) -> Result<Vec<ExtraName>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|extra| !extra.is_empty())
        .map(|extra| {
            ExtraName::from_str(extra).map_err(|e| format!("invalid extra `{extra}`: {e}"))
        })
        .collect()
}

/// A URL or path without a name in front (`./pkg`, `https://.../x.whl ; marker`).
fn parse_bare_target(text: &str, start: usize, line: &LogicalLine) -> Result<Entry, LockError> {
    let at = |offset: usize| line.location(start + offset);
    let target = text.split_whitespace().next().unwrap_or("");
    let mut entry = target_entry(target, &|_| None).map_err(|e| error(&at(0), e))?;
    entry.location = at(0);
    entry.marker = parse_marker_part(&text[target.len()..], |o| at(target.len() + o))?;
    Ok(entry)
}

/// `-e TARGET`: a directory (or a VCS URL), installed in editable mode. A directory without
/// `#egg=` is named by its own pyproject.toml (`project_in`), as `uv export` writes `-e .`
/// for the project and `-e ./packages/lib` for a workspace member.
fn parse_editable(
    target: &str,
    location: &str,
    project_in: &dyn Fn(&str) -> Option<DirectoryProject>,
) -> Result<Entry, LockError> {
    let mut entry = target_entry(target, project_in).map_err(|e| error(location, e))?;
    match &mut entry.pin {
        Pin::Direct {
            source: PackageSource::Path { kind, editable, .. },
            ..
        } => {
            if *kind == PathKind::Archive {
                return Err(error(
                    location,
                    format!("`{target}` is an archive, which cannot be editable"),
                ));
            }
            *editable = true;
        }
        Pin::Direct { .. } => {}
        _ => return Err(error(location, format!("`{target}` is not a path or URL"))),
    }
    Ok(entry)
}

/// An entry for a nameless target, named by `#egg=`, else for a directory by its project
/// (`project_in`, which also gives its version), else by its file name or its last path
/// component.
fn target_entry(
    target: &str,
    project_in: &dyn Fn(&str) -> Option<DirectoryProject>,
) -> Result<Entry, String> {
    let (path_part, extras) = split_path_extras(target)?;
    let (mut pin, egg) = direct_pin(path_part)?;
    let directory_project = match (&egg, &pin) {
        (
            None,
            Pin::Direct {
                source:
                    PackageSource::Path {
                        path,
                        kind: PathKind::Directory,
                        ..
                    },
                ..
            },
        ) => project_in(path),
        _ => None,
    };
    let (name_text, egg_extras) = match (egg, directory_project) {
        (Some(egg), _) => {
            let (name, extras) = split_path_extras(&egg)?;
            (name.to_string(), extras)
        }
        (None, Some(project)) => {
            if let (Pin::Direct { version, .. }, Some(text)) = (&mut pin, &project.version) {
                *version = Version::from_str(text).map_err(|e| {
                    format!(
                        "`{target}`: its project's version `{text}` is not a PEP 440 version: {e}"
                    )
                })?;
            }
            (project.name, Vec::new())
        }
        (None, None) => (name_from_target(&pin, path_part), Vec::new()),
    };
    let name = PackageName::from_str(&name_text)
        .map_err(|e| format!("cannot name `{target}` (`{name_text}`): {e}; add `#egg=<name>`"))?;
    Ok(Entry {
        location: String::new(),
        name,
        extras: extras.into_iter().chain(egg_extras).collect(),
        pin,
        marker: MarkerTree::TRUE,
        hashes: Vec::new(),
    })
}

/// `./pkg[dev,test]` is the path `./pkg` with extras.
fn split_path_extras(target: &str) -> Result<(&str, Vec<ExtraName>), String> {
    if let (Some(open), true) = (target.rfind('['), target.ends_with(']')) {
        let extras = parse_extras(&target[open + 1..target.len() - 1])?;
        return Ok((&target[..open], extras));
    }
    Ok((target, Vec::new()))
}

fn name_from_target(pin: &Pin, target: &str) -> String {
    if let Pin::Direct { files, .. } = pin {
        if let Some(file) = files.first() {
            if let Some((name, _)) = split_filename(&file.filename) {
                return name;
            }
        }
    }
    let base = target.split(['#', '?']).next().unwrap_or(target);
    let base = base.rsplit_once('@').map_or(
        base,
        |(before, rev)| {
            if rev.contains('/') {
                base
            } else {
                before
            }
        },
    );
    path_basename(base).trim_end_matches(".git").to_string()
}

/// Whether a file name or path ends like an sdist or a wheel.
pub(crate) fn is_archive_name(path: &str) -> bool {
    py2nix_dist::is_distribution_filename(path)
}

/// A wheel's or sdist's name and version from its file name.
fn split_filename(filename: &str) -> Option<(String, Version)> {
    py2nix_dist::unnamed_filename_version(filename)
        .map(|(name, version)| (name.to_string(), version))
}

/// The source a direct reference names, and its `#egg=` name if any.
fn direct_pin(target: &str) -> Result<(Pin, Option<String>), String> {
    let (base, fragment) = target.split_once('#').unwrap_or((target, ""));
    let mut egg = None;
    let mut subdirectory = None;
    let mut hashes = Vec::new();
    for pair in fragment.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "egg" => egg = Some(percent_decode(value)),
            "subdirectory" => subdirectory = Some(percent_decode(value)),
            "sha256" | "sha384" | "sha512" | "md5" => {
                hashes.push(FileHash::parse(&format!("{key}:{value}"))?)
            }
            _ => {}
        }
    }
    let scheme = base.split_once("://").map(|(scheme, _)| scheme);
    let version0 = || Version::new([0]);
    if let Some((vcs, _)) = scheme.and_then(|s| s.split_once('+')) {
        let url = &base[vcs.len() + 1..];
        let source = if vcs == "git" {
            PackageSource::Git(git_source(url, subdirectory))
        } else {
            PackageSource::Unsupported {
                kind: vcs.to_string(),
                url: url.to_string(),
            }
        };
        let pin = Pin::Direct {
            source,
            files: Vec::new(),
            version: version0(),
        };
        return Ok((pin, egg));
    }
    if let Some(rest) = base.strip_prefix("file:") {
        let path = rest.strip_prefix("//").map_or(rest, |after| {
            after.strip_prefix("localhost").unwrap_or(after)
        });
        return Ok((path_pin(&percent_decode(path), hashes), egg));
    }
    if scheme.is_some() {
        let filename = url_basename(base);
        let version = split_filename(&filename).map_or_else(version0, |(_, v)| v);
        let file = LockedFile {
            filename,
            hash: best_hash(&hashes),
            url: Some(base.to_string()),
            size: None,
        };
        let source = PackageSource::Url {
            url: base.to_string(),
            subdirectory,
        };
        return Ok((
            Pin::Direct {
                source,
                files: vec![file],
                version,
            },
            egg,
        ));
    }
    Ok((path_pin(base, hashes), egg))
}

/// A local archive (holding its one file) or a local directory.
fn path_pin(path: &str, hashes: Vec<FileHash>) -> Pin {
    let filename = path_basename(path);
    let archive = split_filename(&filename)
        .map(|(_, v)| v)
        .or_else(|| is_archive_name(&filename).then(|| Version::new([0])));
    match archive {
        Some(version) => Pin::Direct {
            source: PackageSource::Path {
                path: path.to_string(),
                kind: PathKind::Archive,
                editable: false,
            },
            files: vec![LockedFile {
                filename,
                hash: best_hash(&hashes),
                url: None,
                size: None,
            }],
            version,
        },
        None => Pin::Direct {
            source: PackageSource::Path {
                path: path.to_string(),
                kind: PathKind::Directory,
                editable: false,
            },
            files: Vec::new(),
            version: Version::new([0]),
        },
    }
}

/// `https://host/repo.git@rev` (after `git+`): the URL, and the revision as a commit when it is
/// a full sha, else as a reference.
fn git_source(url: &str, subdirectory: Option<String>) -> GitSource {
    let path_start = url
        .find("://")
        .map(|i| i + 3)
        .and_then(|after| url[after..].find('/').map(|i| after + i))
        .unwrap_or(0);
    let (repository, revision) = match url[path_start..].rfind('@') {
        Some(i) => (&url[..path_start + i], Some(&url[path_start + i + 1..])),
        None => (url, None),
    };
    let is_sha = |r: &str| r.len() == 40 && r.bytes().all(|b| b.is_ascii_hexdigit());
    let (reference, commit) = match revision.filter(|r| !r.is_empty()) {
        Some(r) if is_sha(r) => (None, Some(r.to_ascii_lowercase())),
        Some(r) => (Some(r.to_string()), None),
        None => (None, None),
    };
    GitSource {
        url: repository.to_string(),
        reference,
        commit,
        subdirectory,
        submodules: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA_A: &str = "sha256:b4ce2265a7abece45e7cc896e98dbebe6cead56bcf805a3d23136d145f5445bf";
    const SHA_B: &str = "sha256:ba0efaa9080b619ff2f3459d1d500c57bddea4a6b424b60a91141db6fd2f08bc";

    const MESSY: &str = "# c\n-i https://a.example/simple\n--extra-index-url=https://${TOKEN}@b.example/simple\n\
        -r base.txt\n-c constraints.txt\nrequests[socks]\nflask==3.1.3 ; python_version >= '3.9' \\\n    \
        --hash=sha256:b4ce2265a7abece45e7cc896e98dbebe6cead56bcf805a3d23136d145f5445bf # via x\n\
        w @ https://x.example/w-1.0-py3-none-any.whl#sha256=b4ce2265a7abece45e7cc896e98dbebe6cead56bcf805a3d23136d145f5445bf\n\
        -e ./libs/lib[dev]\ng @ git+ssh://git@h.example/o/g@v1#subdirectory=s&egg=g\n./d\n";

    fn no_includes(path: &str, _from: &str) -> Result<(String, String), String> {
        Err(format!("no file `{path}` in this test"))
    }

    fn parse(text: &str) -> Lock {
        parse_requirements(text, "requirements.txt", &no_includes).unwrap()
    }

    fn parse_err(text: &str) -> String {
        parse_requirements(text, "requirements.txt", &no_includes)
            .unwrap_err()
            .to_string()
    }

    fn package<'l>(lock: &'l Lock, name: &str) -> &'l LockedPackage {
        lock.packages
            .iter()
            .find(|p| p.name.as_ref() == name)
            .unwrap()
    }

    #[test]
    fn reads_hashed_pins_with_continuations_and_comments() {
        let text = format!(
            "# header comment\n\
             blinker==1.9.0 \\\n    --hash={SHA_A} \\\n    --hash={SHA_B}\n    # via flask\n\n\
             requests[socks,Security]==2.32.5 ; python_version >= \"3.9\"  # trailing comment\n"
        );
        let lock = parse(&text);
        assert_eq!(
            (lock.format, lock.install, lock.lock_version.as_str()),
            (LockFormat::Requirements, InstallSet::Flat, "")
        );
        assert!(lock.project.is_none() && lock.indexes.is_empty());
        assert_eq!(lock.packages.len(), 2);
        let blinker = &lock.packages[0];
        assert_eq!(blinker.version.to_string(), "1.9.0");
        assert_eq!(blinker.source, PackageSource::DefaultIndex);
        assert!(blinker.files.is_empty() && !blinker.dependencies_known);
        let hashes = blinker.index_hashes.as_ref().unwrap();
        assert_eq!(hashes.len(), 2);
        assert_eq!(hashes[1].hex, SHA_B.trim_start_matches("sha256:"));
        assert!(blinker.marker.is_none());
        let requests = &lock.packages[1];
        let extras: Vec<_> = requests
            .requested_extras
            .iter()
            .map(|e| e.to_string())
            .collect();
        assert_eq!(extras, ["socks", "security"]);
        assert_eq!(requests.index_hashes, Some(Vec::new()));
        assert!(requests.marker.is_some());
        assert_eq!(lock.warnings.len(), 1, "{:?}", lock.warnings);
        assert!(lock.warnings[0].starts_with("1 pinned requirement(s) have no `--hash` (requests)"));
    }

    #[test]
    fn a_comment_line_ends_a_continuation() {
        let lock = parse("idna==3.20 \\\n# via requests\nzipp==3.23.1\n");
        assert_eq!(lock.packages.len(), 2);
    }

    #[test]
    fn unpinned_requirements_are_errors_with_locations() {
        assert_eq!(
            parse_err("# c\n\n  flask>=3\n"),
            "requirements.txt:3:3: `flask` is not pinned (`>=3`): a lock must pin every package with `==` or a constraint"
        );
        assert!(parse_err("flask\n").contains("`flask` is not pinned:"));
        assert!(parse_err("flask==3.*\n").contains("is not pinned (`==3.*`)"));
        assert_eq!(
            parse(" flask===3.1.3\n").packages[0].version.to_string(),
            "3.1.3"
        );
    }

    #[test]
    fn errors_point_at_the_offending_text() {
        assert_eq!(
            parse_err("flask==3.1.3 \\\n    --hash=sha256:xyz\n"),
            "requirements.txt:2:12: hash `sha256:xyz` has a digest that is not hexadecimal"
        );
        assert!(parse_err("flask==3.1.3 ; python_version >> '3'\n")
            .starts_with("requirements.txt:1:16: invalid marker `python_version >> '3'`"));
        assert!(parse_err("flask=>3\n")
            .starts_with("requirements.txt:1:6: invalid version specifiers `=>3`"));
        assert!(parse_err("flask[a!]==1\n").starts_with("requirements.txt:1:6: invalid extra `a!`"));
        assert_eq!(
            parse_err("--frobnicate\n"),
            "requirements.txt:1:1: unknown option `--frobnicate`"
        );
        assert_eq!(
            parse_err("flask==1 -r other.txt\n"),
            "requirements.txt:1:10: `--requirement` cannot follow a requirement on the same line"
        );
        assert_eq!(
            parse_err("--hash=sha256:ab\n"),
            "requirements.txt:1:1: `--hash` must follow the requirement it belongs to"
        );
        assert_eq!(
            parse_err("-i\n"),
            "requirements.txt:1:1: `-i` needs a value"
        );
        assert_eq!(
            parse_err("--pre=yes\n"),
            "requirements.txt:1:1: `--pre` takes no value"
        );
        assert!(parse_err("flask==1 ; \n").contains("`;` without a marker"));
        assert!(parse_err("flask==1 junk\n").contains("1:6: invalid version specifiers `==1 junk`"));
        assert!(parse_err("flask @\n").contains("`@` without a URL"));
    }

    #[test]
    fn same_name_twice() {
        let lock = parse(
            "click==8.1.8 ; python_version < '3.10'\nclick==8.3.0 ; python_version >= '3.10'\n",
        );
        assert_eq!(lock.packages.len(), 2);
        assert_eq!(
            parse_err("click==8.1.8\nclick==8.3.0\n"),
            "requirements.txt:2:1: `click` is pinned to 8.3.0 here and to 8.1.8 at requirements.txt:1:1, under the same marker"
        );
        let merged = parse(&format!(
            "Click==8.1.8 --hash={SHA_A}\nclick[x]==8.1.8 ; os_name == 'nt' --hash={SHA_B}\n"
        ));
        assert_eq!(merged.packages.len(), 1);
        let click = &merged.packages[0];
        assert_eq!(click.index_hashes.as_ref().unwrap().len(), 2);
        assert!(click.marker.is_none(), "TRUE or os_name is TRUE");
        assert_eq!(click.requested_extras.len(), 1);
    }

    #[test]
    fn indexes_and_ignored_options() {
        let lock = parse(
            "-i https://first.example/simple\n--index-url=https://mirror.example/simple\n\
             --extra-index-url https://extra.example/simple\n--extra-index-url https://extra.example/simple\n\
             --extra-index-url 'https://two.example/simple'\n\
             --find-links ./wheels --trusted-host x.example --pre --prefer-binary --require-hashes\n\
             --no-binary :all:\n--only-binary=numpy\n--no-index\n--use-feature=truststore\n",
        );
        let indexes: Vec<(&str, &str)> = lock
            .indexes
            .iter()
            .map(|i| (i.name.as_str(), i.url.as_str()))
            .collect();
        assert_eq!(
            indexes,
            [
                ("index", "https://mirror.example/simple"),
                ("extra-1", "https://extra.example/simple"),
                ("extra-2", "https://two.example/simple"),
            ]
        );
        let warnings = lock.warnings.join("\n");
        assert!(warnings.contains("requirements.txt:2:1: `--index-url https://mirror.example/simple` replaces `--index-url https://first.example/simple` given at requirements.txt:1:1"), "{warnings}");
        assert!(
            warnings.contains("requirements.txt:6:1: `--find-links` is ignored"),
            "{warnings}"
        );
        assert!(
            warnings.contains("7:1: `--no-binary` is ignored: give py2nix's own"),
            "{warnings}"
        );
        assert!(
            warnings.contains("8:1: `--only-binary` is ignored"),
            "{warnings}"
        );
        assert!(
            warnings.contains("9:1: `--no-index` is ignored"),
            "{warnings}"
        );
        assert_eq!(lock.warnings.len(), 5);
    }

    #[test]
    fn extra_indexes_alone_keep_the_default_index_first() {
        let lock = parse("--extra-index-url https://extra.example/simple\n");
        assert_eq!(
            lock.indexes,
            [
                IndexDecl {
                    name: "index".into(),
                    url: String::new()
                },
                IndexDecl {
                    name: "extra-1".into(),
                    url: "https://extra.example/simple".into()
                },
            ]
        );
    }

    #[test]
    fn direct_references() {
        let lock = parse(&format!(
            "wheel @ https://files.example/p/Wheel-0.45.1-py3-none-any.whl#sha256={}\n\
             sdist @ https://files.example/sdist-2.0.tar.gz --hash={SHA_B}\n\
             gitpkg @ git+https://git.example/org/gitpkg.git@v1.2#subdirectory=py\n\
             shapkg @ git+ssh://git@git.example/org/shapkg@0123456789ABCDEF0123456789abcdef01234567\n\
             hgpkg @ hg+https://hg.example/hgpkg\n\
             local @ file:///srv/wheels/local-1.0-py3-none-any.whl\n\
             https://files.example/nameless-3.0.tar.gz ; sys_platform == 'linux'\n\
             ./vendor/tool\n",
            SHA_A.trim_start_matches("sha256:")
        ));
        let wheel = package(&lock, "wheel");
        assert_eq!(wheel.version.to_string(), "0.45.1");
        assert_eq!(
            wheel.source,
            PackageSource::Url {
                url: "https://files.example/p/Wheel-0.45.1-py3-none-any.whl".into(),
                subdirectory: None
            }
        );
        assert_eq!(wheel.files[0].filename, "Wheel-0.45.1-py3-none-any.whl");
        assert_eq!(
            wheel.files[0].hash.as_ref().unwrap().hex,
            SHA_A.trim_start_matches("sha256:")
        );
        assert!(wheel.index_hashes.is_none());
        let sdist = package(&lock, "sdist");
        assert_eq!(sdist.version.to_string(), "2.0");
        assert_eq!(
            sdist.files[0].hash.as_ref().unwrap().hex,
            SHA_B.trim_start_matches("sha256:")
        );
        assert_eq!(
            package(&lock, "gitpkg").source,
            PackageSource::Git(GitSource {
                url: "https://git.example/org/gitpkg.git".into(),
                reference: Some("v1.2".into()),
                commit: None,
                subdirectory: Some("py".into()),
                submodules: false,
            })
        );
        let PackageSource::Git(sha) = &package(&lock, "shapkg").source else {
            panic!("not git")
        };
        assert_eq!(sha.url, "ssh://git@git.example/org/shapkg");
        assert_eq!(
            sha.commit.as_deref(),
            Some("0123456789abcdef0123456789abcdef01234567")
        );
        assert!(sha.reference.is_none());
        assert!(
            matches!(&package(&lock, "hgpkg").source, PackageSource::Unsupported { kind, .. } if kind == "hg")
        );
        let local = package(&lock, "local");
        assert_eq!(
            local.source,
            PackageSource::Path {
                path: "/srv/wheels/local-1.0-py3-none-any.whl".into(),
                kind: PathKind::Archive,
                editable: false
            }
        );
        assert_eq!(local.version.to_string(), "1.0");
        let nameless = package(&lock, "nameless");
        assert_eq!(nameless.version.to_string(), "3.0");
        assert!(nameless.marker.is_some());
        let tool = package(&lock, "tool");
        assert_eq!(tool.version, Version::new([0]));
        assert!(matches!(
            &tool.source,
            PackageSource::Path {
                kind: PathKind::Directory,
                editable: false,
                ..
            }
        ));
        // Only index pins without hashes are warned about.
        assert!(lock.warnings.is_empty(), "{:?}", lock.warnings);
    }

    #[test]
    fn editables() {
        let lock = parse(
            "-e ./libs/My_Lib[dev]\n--editable=../other#egg=renamed\n-e git+https://git.example/r.git@main#egg=fromgit\n",
        );
        let my_lib = package(&lock, "my-lib");
        assert_eq!(
            my_lib.source,
            PackageSource::Path {
                path: "./libs/My_Lib".into(),
                kind: PathKind::Directory,
                editable: true
            }
        );
        assert_eq!(my_lib.requested_extras[0].as_ref(), "dev");
        assert!(
            matches!(&package(&lock, "renamed").source, PackageSource::Path { path, .. } if path == "../other")
        );
        assert!(
            matches!(&package(&lock, "fromgit").source, PackageSource::Git(g) if g.reference.as_deref() == Some("main"))
        );
        let err = parse_err("-e .\n");
        assert!(
            err.starts_with("requirements.txt:1:4: cannot name `.`"),
            "{err}"
        );
        assert!(
            parse_err("-e dist/x-1.0.tar.gz\n").contains("is an archive, which cannot be editable")
        );
    }

    #[test]
    fn env_vars_are_kept_with_a_warning() {
        let lock =
            parse("--extra-index-url https://${USER_NAME}:${TOKEN}@private.example/simple\n");
        assert_eq!(
            lock.indexes[1].url,
            "https://${USER_NAME}:${TOKEN}@private.example/simple"
        );
        assert_eq!(lock.warnings.len(), 2);
        assert!(
            lock.warnings[1].starts_with("requirements.txt:1:40: `${TOKEN}` is kept as written")
        );
    }

    fn files(path: &str, from: &str) -> Result<(String, String), String> {
        let text = match path {
            "base.txt" => format!("-c constraints.txt\nflask==3.1.3 --hash={SHA_A}\n"),
            "constraints.txt" => format!(
                "requests==2.32.5 --hash={SHA_B}\nurllib3==2.6.3 ; python_version < '3.10'\nurllib3==2.8.0 ; python_version >= '3.10'\n-r nested.txt\n"
            ),
            "nested.txt" => "idna==3.20\nonly-constrained==1.0\n".to_string(),
            "loop-a.txt" => "-r loop-b.txt\n".to_string(),
            "self.txt" | "./self.txt" => "-r ./self.txt\n".to_string(),
            deep if deep.starts_with("deep-") => {
                let n: u32 = deep[5..deep.len() - 4].parse().unwrap();
                format!("-r deep-{}.txt\n", n + 1)
            }
            "loop-b.txt" => "-r loop-a.txt\n".to_string(),
            _ => return Err(format!("`{path}` not found (from {from})")),
        };
        Ok((text, format!("dir/{path}")))
    }

    #[test]
    fn includes_and_constraints() {
        let text = "-r base.txt\nrequests[socks]\nurllib3\nidna==3.20\n";
        let lock = parse_requirements(text, "requirements.txt", &files).unwrap();
        let names: Vec<String> = lock
            .packages
            .iter()
            .map(|p| format!("{}=={}", p.name, p.version))
            .collect();
        assert_eq!(
            names,
            [
                "flask==3.1.3",
                "requests==2.32.5",
                "urllib3==2.6.3",
                "urllib3==2.8.0",
                "idna==3.20"
            ]
        );
        let requests = package(&lock, "requests");
        assert_eq!(
            requests.index_hashes.as_ref().unwrap().len(),
            1,
            "from the constraint"
        );
        assert_eq!(requests.requested_extras[0].as_ref(), "socks");
        assert!(lock.packages[2].marker.is_some() && lock.packages[3].marker.is_some());
        assert!(
            lock.warnings[0]
                .starts_with("3 pinned requirement(s) have no `--hash` (urllib3, urllib3, idna)"),
            "{:?}",
            lock.warnings
        );
    }

    #[test]
    fn constraint_conflicts_and_include_errors() {
        let err = parse_requirements("-c constraints.txt\nrequests==2.0\n", "r.txt", &files)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "r.txt:2:1: `requests` 2.0 conflicts with the constraint at dir/constraints.txt:1:1"
        );
        let fork = parse_requirements(
            "-c constraints.txt\nurllib3==2.8.0 ; python_version >= '3.11'\n",
            "r.txt",
            &files,
        )
        .unwrap();
        assert_eq!(
            fork.packages[0].version.to_string(),
            "2.8.0",
            "2.6.3 is for < 3.10"
        );
        let err = parse_requirements("-c constraints.txt\nurllib3==2.8.0\n", "r.txt", &files)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("2.8.0 conflicts with the constraint at dir/constraints.txt:2:1"),
            "{err}"
        );
        let err = parse_requirements("-c constraints.txt\nrequests<2\n", "r.txt", &files)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("r.txt:2:1: `requests` is not pinned (`<2`)"),
            "{err}"
        );
        let err = parse_requirements("-r missing.txt\n", "r.txt", &files)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "r.txt:1:4: cannot include `missing.txt`: `missing.txt` not found (from r.txt)"
        );
        let err = parse_requirements("-r self.txt\n", "r.txt", &files)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "dir/self.txt:1:4: include cycle: r.txt -> dir/self.txt -> dir/./self.txt"
        );
        let err = parse_requirements("-r deep-0.txt\n", "r.txt", &files)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "dir/deep-62.txt:1:4: includes nest deeper than 64 files; is there a cycle?"
        );
        let err = parse_requirements("-rloop-a.txt\n", "r.txt", &files)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "dir/loop-b.txt:1:4: include cycle: r.txt -> dir/loop-a.txt -> dir/loop-b.txt -> dir/loop-a.txt"
        );
    }

    #[test]
    fn logical_lines_track_positions() {
        let lines = logical_lines("a \\\n  b\\\n c # x\n#only\n\n  d", "f");
        let texts: Vec<&str> = lines.iter().map(|l| l.text.trim()).collect();
        assert_eq!(texts, ["a   b c", "d"]);
        let first = &lines[0];
        let b = first.text.find('b').unwrap();
        assert_eq!(first.location(b), "f:2:3");
        assert_eq!(first.location(first.text.find('c').unwrap()), "f:3:2");
        assert_eq!(lines[1].location(2), "f:6:3");
    }

    #[test]
    fn filenames_give_names_and_versions() {
        let check = |file: &str, expected: Option<(&str, &str)>| {
            let got = split_filename(file).map(|(n, v)| (n, v.to_string()));
            assert_eq!(
                got,
                expected.map(|(n, v)| (n.to_string(), v.to_string())),
                "{file}"
            );
        };
        check(
            "torch-2.1.0+cpu-cp311-cp311-linux_x86_64.whl",
            Some(("torch", "2.1.0+cpu")),
        );
        check(
            "python-dateutil-2.9.0.post0.tar.gz",
            Some(("python-dateutil", "2.9.0.post0")),
        );
        check("main.zip", None);
        check("README", None);
    }

    /// `pip-compile --generate-hashes` of Flask, Pillow and requests[socks].
    #[test]
    fn fixture_pip_compile_flask_pillow() {
        let lock = parse_requirements(
            include_str!("../../../fixtures/requirements/flask-pillow/requirements.txt"),
            "requirements.txt",
            &no_includes,
        )
        .unwrap();
        assert!(lock.warnings.is_empty(), "{:?}", lock.warnings);
        assert!(lock.indexes.is_empty());
        assert_eq!(lock.packages.len(), 14);
        assert!(lock
            .packages
            .iter()
            .all(|p| p.marker.is_none() && p.source == PackageSource::DefaultIndex));
        let requests = package(&lock, "requests");
        assert_eq!(requests.version.to_string(), "2.32.5");
        assert_eq!(requests.requested_extras[0].as_ref(), "socks");
        assert_eq!(package(&lock, "click").version.to_string(), "8.1.8");
        let pillow = package(&lock, "pillow").index_hashes.as_ref().unwrap();
        assert!(pillow.len() > 50 && pillow.iter().all(|h| h.algorithm == "sha256"));
        let total: usize = lock
            .packages
            .iter()
            .map(|p| p.index_hashes.as_ref().unwrap().len())
            .sum();
        assert_eq!(total, 452);
    }

    /// `uv pip compile --generate-hashes --universal`: forks with markers, `--index-url`.
    #[test]
    fn fixture_uv_compiled() {
        let lock = parse_requirements(
            include_str!("../../../fixtures/requirements/uv-compiled/requirements.txt"),
            "requirements.txt",
            &no_includes,
        )
        .unwrap();
        assert!(lock.warnings.is_empty(), "{:?}", lock.warnings);
        assert_eq!(
            lock.indexes,
            [IndexDecl {
                name: "index".into(),
                url: "https://pypi.org/simple".into()
            }]
        );
        assert_eq!(lock.packages.len(), 19);
        let clicks: Vec<_> = lock
            .packages
            .iter()
            .filter(|p| p.name.as_ref() == "click")
            .collect();
        assert_eq!(clicks.len(), 2);
        assert_eq!(clicks[0].version.to_string(), "8.1.8");
        assert_eq!(
            clicks[0].marker.as_ref().unwrap().try_to_string().unwrap(),
            "python_full_version < '3.10'"
        );
        let colorama = package(&lock, "colorama").marker.as_ref().unwrap();
        assert!(colorama
            .try_to_string()
            .unwrap()
            .contains("sys_platform == 'win32'"));
        assert!(
            package(&lock, "requests").requested_extras.is_empty(),
            "uv strips extras"
        );
        let total: usize = lock
            .packages
            .iter()
            .map(|p| p.index_hashes.as_ref().unwrap().len())
            .sum();
        assert_eq!(total, 462);
    }

    fn fixture_file(path: &str, _from: &str) -> Result<(String, String), String> {
        let text = match path {
            "base.txt" => include_str!("../../../fixtures/requirements/includes/base.txt"),
            "constraints.txt" => {
                include_str!("../../../fixtures/requirements/includes/constraints.txt")
            }
            _ => return Err(format!("no fixture `{path}`")),
        };
        Ok((text.to_string(), path.to_string()))
    }

    /// `-r`, `--constraint` and both index options around real `uv pip compile` outputs.
    #[test]
    fn fixture_includes() {
        let lock = parse_requirements(
            include_str!("../../../fixtures/requirements/includes/requirements.txt"),
            "requirements.txt",
            &fixture_file,
        )
        .unwrap();
        assert!(lock.warnings.is_empty(), "{:?}", lock.warnings);
        assert_eq!(
            lock.indexes,
            [
                IndexDecl {
                    name: "index".into(),
                    url: "https://pypi.org/simple".into()
                },
                IndexDecl {
                    name: "extra-1".into(),
                    url: "https://packages.example.com/simple".into()
                },
            ]
        );
        let names: Vec<String> = lock.packages.iter().map(|p| p.name.to_string()).collect();
        assert_eq!(
            names,
            [
                "blinker",
                "click",
                "flask",
                "itsdangerous",
                "jinja2",
                "markupsafe",
                "werkzeug",
                "requests",
                "pysocks",
                "certifi",
                "charset-normalizer",
                "idna",
                "urllib3"
            ]
        );
        let requests = package(&lock, "requests");
        assert_eq!(requests.version.to_string(), "2.32.5");
        assert_eq!(requests.requested_extras[0].as_ref(), "socks");
        assert_eq!(requests.index_hashes.as_ref().unwrap().len(), 2);
        let urllib3 = package(&lock, "urllib3");
        assert_eq!(urllib3.version.to_string(), "2.8.0");
        assert_eq!(
            urllib3.index_hashes.as_ref().unwrap().len(),
            2,
            "hashes from the constraint"
        );
    }

    /// Every prefix, and every character replaced by one that matters to the syntax, is read
    /// or refused without a panic.
    #[test]
    fn mangled_input_never_panics() {
        let text = MESSY;
        assert!(
            parse_requirements(text, "r.txt", &files).is_ok(),
            "the unmangled text reads"
        );
        let read = |text: &str| {
            let _ = parse_requirements(text, "r.txt", &files);
        };
        for (i, c) in text.char_indices() {
            read(&text[..i]);
            for replacement in [
                "\"", "'", "[", "]", "\\", "#", "@", ";", " ", "=", "\n", "é", "",
            ] {
                read(&format!(
                    "{}{replacement}{}",
                    &text[..i],
                    &text[i + c.len_utf8()..]
                ));
            }
        }
    }
}
