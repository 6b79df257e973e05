//! `pylock.toml` (PEP 751), lock-version 1.x.
//!
//! A pylock.toml is an install list: every `[[packages]]` entry whose `marker` holds is
//! installed ([`InstallSet::Flat`]). Its top-level `extras` and `dependency-groups` become the
//! project's (with no edges: the packages' markers say what each one adds).
//!
//! - **Markers.** PEP 751 adds `'name' in extras` and `'group' in dependency_groups` (and
//!   `not in`) to marker syntax. Before the marker is parsed, each is rewritten to
//!   `extra == 'name'` and `extra == '<group_extra(group)>'` (`!=` for `not in`), so one
//!   evaluation with the selected extras plus the selected groups' pseudo-extras decides. The
//!   rewrite works on tokens: text inside other string literals is never touched. The reversed
//!   order (`extras in 'name'`) is read the same way.
//! - **Sources.** `vcs` (git only), `directory` and `archive` are direct sources. Otherwise the
//!   files come from `sdist` and `wheels`: from `index` when the package names one; else a lone
//!   file is a direct URL (or a local archive when it has only a `path`), and several files
//!   are looked up on the default index (`Index` with an empty name and URL), with a warning.
//! - **Dependencies.** `[[packages.dependencies]]` is optional and informational; when present
//!   it becomes the package's edges (`dependencies_known`), otherwise the planner reads them
//!   from the package's metadata.
//! - **Versions.** A source tree may have no `version`; it is read as version `0`.

use std::collections::BTreeMap;
use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifier, VersionSpecifiers};
use pep508_rs::{ExtraName, MarkerTree, PackageName};
use serde::Deserialize;

use crate::model::{
    group_extra, Dependency, FileHash, GitSource, InstallSet, Lock, LockFormat, LockedFile,
    LockedPackage, PackageSource, PathKind, Project,
};
use crate::{normalize_group, LockError, VersionConstraint};

/// The newest minor version of lock-version 1 this reader knows.
const KNOWN_MINOR: u32 = 0;

/// Read first, alone, so that a future format is refused before its shape can confuse.
#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct VersionWire {
    lock_version: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct PylockWire {
    requires_python: Option<String>,
    #[serde(default)]
    extras: Vec<String>,
    #[serde(default)]
    dependency_groups: Vec<String>,
    #[serde(default)]
    default_groups: Vec<String>,
    #[serde(default)]
    packages: Vec<PackageWire>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct PackageWire {
    name: String,
    version: Option<String>,
    marker: Option<String>,
    requires_python: Option<String>,
    dependencies: Option<Vec<DependencyWire>>,
    vcs: Option<VcsWire>,
    directory: Option<DirectoryWire>,
    archive: Option<ArchiveWire>,
    index: Option<String>,
    sdist: Option<FileWire>,
    wheels: Option<Vec<FileWire>>,
}

/// An entry of `[[packages.dependencies]]`: enough keys to find one other package entry.
#[derive(Deserialize)]
struct DependencyWire {
    name: String,
    version: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct VcsWire {
    #[serde(rename = "type")]
    kind: String,
    url: Option<String>,
    path: Option<String>,
    requested_revision: Option<String>,
    commit_id: Option<String>,
    subdirectory: Option<String>,
}

#[derive(Deserialize)]
struct DirectoryWire {
    path: String,
    #[serde(default)]
    editable: bool,
    subdirectory: Option<String>,
}

#[derive(Deserialize)]
struct ArchiveWire {
    url: Option<String>,
    path: Option<String>,
    size: Option<u64>,
    #[serde(default)]
    hashes: BTreeMap<String, String>,
    subdirectory: Option<String>,
}

/// An sdist or a wheel (`upload-time` is not needed).
#[derive(Deserialize)]
struct FileWire {
    name: Option<String>,
    url: Option<String>,
    path: Option<String>,
    size: Option<u64>,
    #[serde(default)]
    hashes: BTreeMap<String, String>,
}

/// Reads a pylock.toml into the model (a flat install set).
pub fn parse_pylock(text: &str) -> Result<Lock, LockError> {
    let version: VersionWire = toml::from_str(text)?;
    let mut warnings = Vec::new();
    check_lock_version(&version.lock_version, &mut warnings)?;
    let wire: PylockWire = toml::from_str(text)?;
    let project = convert_project(&wire)?;
    let mut without_index = Vec::new();
    let mut packages = Vec::with_capacity(wire.packages.len());
    for package in &wire.packages {
        let checked = convert_package(package)?;
        if matches!(&checked.source, PackageSource::Index { url, .. } if url.is_empty())
            && package.index.is_none()
        {
            without_index.push(checked.name.to_string());
        }
        packages.push(checked);
    }
    if !without_index.is_empty() {
        warnings.push(format!(
            "pylock.toml names no index for {} package(s) with several files ({}); their files are looked up on the default index",
            without_index.len(),
            name_list(&without_index)
        ));
    }
    Ok(Lock {
        format: LockFormat::Pylock,
        lock_version: version.lock_version,
        packages,
        warnings,
        project: Some(project),
        install: InstallSet::Flat,
        indexes: Vec::new(),
    })
}

/// `a, b, c` for up to five names, then `and N more`.
pub(crate) fn name_list(names: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut text = names
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        text.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    text
}

fn check_lock_version(version: &str, warnings: &mut Vec<String>) -> Result<(), LockError> {
    let (major, minor) = match version.split_once('.') {
        Some((major, minor)) => (major.parse::<u32>().ok(), minor.parse::<u32>().ok()),
        None => (version.parse::<u32>().ok(), Some(0)),
    };
    let (Some(major), Some(minor)) = (major, minor) else {
        return Err(LockError::InvalidVersion(version.to_string()));
    };
    if major != 1 {
        return Err(LockError::UnsupportedLockVersion {
            file: "pylock.toml",
            version: version.to_string(),
            supported: "lock-version 1.x",
        });
    }
    if minor > KNOWN_MINOR {
        warnings.push(format!(
            "pylock.toml has lock-version {version}, newer than py2nix knows (1.{KNOWN_MINOR}); keys it adds are ignored"
        ));
    }
    Ok(())
}

fn convert_project(wire: &PylockWire) -> Result<Project, LockError> {
    let fail = |message: String| LockError::Project(format!("pylock.toml: {message}"));
    let requires_python = wire
        .requires_python
        .as_deref()
        .map(|text| pep440_constraint(text).map_err(|e| fail(format!("requires-python: {e}"))))
        .transpose()?;
    let mut extras = BTreeMap::new();
    for extra in &wire.extras {
        let name = ExtraName::from_str(extra).map_err(|e| fail(format!("extra `{extra}`: {e}")))?;
        extras.insert(name, Vec::new());
    }
    // A default group is a group of the lock even when `dependency-groups` leaves it out.
    let groups = wire
        .dependency_groups
        .iter()
        .chain(&wire.default_groups)
        .map(|group| (normalize_group(group), Vec::new()))
        .collect();
    Ok(Project {
        name: None,
        requires_python,
        dependencies: Vec::new(),
        groups,
        extras,
        default_groups: wire
            .default_groups
            .iter()
            .map(|g| normalize_group(g))
            .collect(),
        indexes: Vec::new(),
        ..Project::default()
    })
}

/// A PEP 440 specifier set such as `>=3.9, <3.14`.
pub(crate) fn pep440_constraint(text: &str) -> Result<VersionConstraint, String> {
    ascii_only(text, "specifiers")?;
    VersionSpecifiers::from_str(text)
        .map(VersionConstraint::from_pep440)
        .map_err(|e| format!("invalid specifiers `{text}`: {e}"))
}

fn convert_package(wire: &PackageWire) -> Result<LockedPackage, LockError> {
    let fail = |message: String| LockError::package(&wire.name, message);
    let name = PackageName::from_str(&wire.name).map_err(|e| fail(e.to_string()))?;
    let version = match &wire.version {
        Some(text) => {
            Version::from_str(text).map_err(|e| fail(format!("invalid version `{text}`: {e}")))?
        }
        None => Version::new([0]),
    };
    let fail = |message: String| LockError::package(format!("{name} {version}"), message);
    let requires_python = match &wire.requires_python {
        Some(text) => pep440_constraint(text).map_err(|e| fail(format!("requires-python: {e}")))?,
        None => VersionConstraint::any(),
    };
    let marker = wire
        .marker
        .as_deref()
        .map(parse_pylock_marker)
        .transpose()
        .map_err(fail)?;
    let (source, files) = convert_source(wire).map_err(fail)?;
    let (dependencies, dependencies_known) = match &wire.dependencies {
        Some(deps) => (
            deps.iter()
                .map(convert_dependency)
                .collect::<Result<_, _>>()
                .map_err(fail)?,
            true,
        ),
        None => (Vec::new(), false),
    };
    Ok(LockedPackage {
        name,
        version,
        requires_python,
        marker,
        files,
        dependencies,
        extras: BTreeMap::new(),
        source,
        dependencies_known,
        requested_extras: Vec::new(),
        index_hashes: None,
    })
}

fn convert_dependency(wire: &DependencyWire) -> Result<Dependency, String> {
    let fail = |e: String| format!("dependency `{}`: {e}", wire.name);
    let name = PackageName::from_str(&wire.name).map_err(|e| fail(e.to_string()))?;
    let version = match &wire.version {
        Some(text) => {
            let version = Version::from_str(text)
                .map_err(|e| fail(format!("invalid version `{text}`: {e}")))?;
            VersionConstraint::from_pep440(VersionSpecifiers::from(
                VersionSpecifier::equals_version(version),
            ))
        }
        None => VersionConstraint::any(),
    };
    Ok(Dependency {
        name,
        version,
        marker: MarkerTree::TRUE,
        python: None,
        extras: Vec::new(),
        optional: false,
    })
}

/// The package's source and the files the lock names for it.
fn convert_source(wire: &PackageWire) -> Result<(PackageSource, Vec<LockedFile>), String> {
    let direct = [
        wire.vcs.as_ref().map(|_| "vcs"),
        wire.directory.as_ref().map(|_| "directory"),
        wire.archive.as_ref().map(|_| "archive"),
    ];
    let direct: Vec<&str> = direct.into_iter().flatten().collect();
    let has_files = wire.sdist.is_some() || wire.wheels.as_ref().is_some_and(|w| !w.is_empty());
    if direct.len() > 1 || (!direct.is_empty() && has_files) {
        let mut keys = direct.clone();
        if has_files {
            keys.push("sdist/wheels");
        }
        return Err(format!(
            "has more than one source ({}); PEP 751 makes them mutually exclusive",
            keys.join(", ")
        ));
    }
    if let Some(vcs) = &wire.vcs {
        return Ok((vcs_source(vcs)?, Vec::new()));
    }
    if let Some(directory) = &wire.directory {
        let path = match &directory.subdirectory {
            Some(sub) => join_path(&directory.path, sub),
            None => directory.path.clone(),
        };
        let source = PackageSource::Path {
            path,
            kind: PathKind::Directory,
            editable: directory.editable,
        };
        return Ok((source, Vec::new()));
    }
    if let Some(archive) = &wire.archive {
        return archive_source(archive);
    }
    let mut files = Vec::new();
    if let Some(sdist) = &wire.sdist {
        files.push(convert_file(sdist)?);
    }
    for wheel in wire.wheels.iter().flatten() {
        files.push(convert_file(wheel)?);
    }
    if files.is_empty() {
        return Err("has no source: no vcs, directory, archive, sdist or wheels".to_string());
    }
    let source = files_source(wire, &files);
    Ok((source, files))
}

/// Where `sdist`/`wheels` files come from: the package's index, else a lone file's own URL or
/// path, else the default index.
fn files_source(wire: &PackageWire, files: &[LockedFile]) -> PackageSource {
    if let Some(index) = &wire.index {
        return PackageSource::Index {
            name: String::new(),
            url: index.clone(),
        };
    }
    if let [file] = files {
        if let Some(url) = &file.url {
            return PackageSource::Url {
                url: url.clone(),
                subdirectory: None,
            };
        }
        let path = wire
            .sdist
            .iter()
            .chain(wire.wheels.iter().flatten())
            .find_map(|f| f.path.clone());
        if let Some(path) = path {
            return PackageSource::Path {
                path,
                kind: PathKind::Archive,
                editable: false,
            };
        }
    }
    PackageSource::Index {
        name: String::new(),
        url: String::new(),
    }
}

fn vcs_source(vcs: &VcsWire) -> Result<PackageSource, String> {
    let url = vcs
        .url
        .clone()
        .or_else(|| vcs.path.clone())
        .ok_or_else(|| "vcs has neither `url` nor `path`".to_string())?;
    if vcs.kind != "git" {
        return Ok(PackageSource::Unsupported {
            kind: vcs.kind.clone(),
            url,
        });
    }
    Ok(PackageSource::Git(GitSource {
        url,
        reference: vcs.requested_revision.clone(),
        commit: vcs.commit_id.clone(),
        subdirectory: vcs.subdirectory.clone(),
        submodules: false,
    }))
}

fn archive_source(archive: &ArchiveWire) -> Result<(PackageSource, Vec<LockedFile>), String> {
    let file = convert_file(&FileWire {
        name: None,
        url: archive.url.clone(),
        path: archive.path.clone(),
        size: archive.size,
        hashes: archive.hashes.clone(),
    })
    .map_err(|e| format!("archive: {e}"))?;
    let source = match (&archive.path, &archive.url) {
        (Some(path), _) => PackageSource::Path {
            path: match &archive.subdirectory {
                // The model has no subdirectory for a local archive; keep it visible.
                Some(sub) => return Err(format!(
                    "archive `{path}` with subdirectory `{sub}`: a subdirectory inside a local archive is not supported"
                )),
                None => path.clone(),
            },
            kind: PathKind::Archive,
            editable: false,
        },
        (None, Some(url)) => PackageSource::Url {
            url: url.clone(),
            subdirectory: archive.subdirectory.clone(),
        },
        (None, None) => return Err("archive has neither `url` nor `path`".to_string()),
    };
    Ok((source, vec![file]))
}

fn convert_file(wire: &FileWire) -> Result<LockedFile, String> {
    let filename = match &wire.name {
        Some(name) => name.clone(),
        None => wire
            .url
            .as_deref()
            .map(url_basename)
            .or_else(|| wire.path.as_deref().map(path_basename))
            .filter(|name| !name.is_empty())
            .ok_or_else(|| "a file has no `name`, `url` or `path`".to_string())?,
    };
    let hash = pick_hash(&wire.hashes).map_err(|e| format!("file `{filename}`: {e}"))?;
    Ok(LockedFile {
        filename,
        hash,
        url: wire.url.clone(),
        size: wire.size,
    })
}

/// The best hash of a `hashes` table: sha256, else sha512, else sha384, else any other.
pub(crate) fn pick_hash(hashes: &BTreeMap<String, String>) -> Result<Option<FileHash>, String> {
    let lowered: BTreeMap<String, &String> = hashes
        .iter()
        .map(|(algorithm, hex)| (algorithm.to_ascii_lowercase(), hex))
        .collect();
    let chosen = ["sha256", "sha512", "sha384"]
        .iter()
        .find_map(|algorithm| lowered.get_key_value(*algorithm))
        .or_else(|| lowered.iter().next());
    chosen
        .map(|(algorithm, hex)| FileHash::parse(&format!("{algorithm}:{hex}")))
        .transpose()
}

/// The last path segment of a URL, without query or fragment, percent-decoded.
pub(crate) fn url_basename(url: &str) -> String {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    let path = url[..end].trim_end_matches('/');
    percent_decode(path.rsplit('/').next().unwrap_or(path))
}

/// The last component of a POSIX or Windows path.
pub(crate) fn path_basename(path: &str) -> String {
    let trimmed = path.trim_end_matches(['/', '\\']);
    trimmed
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(trimmed)
        .to_string()
}

fn join_path(base: &str, sub: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        sub.trim_start_matches("./")
    )
}

/// Decodes `%XX` escapes; anything malformed is kept as written.
pub(crate) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|pair| std::str::from_utf8(pair).ok())
            .and_then(|pair| u8::from_str_radix(pair, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_string())
}

/// Refuses text with non-ASCII characters: markers, specifiers and requirements are ASCII, and
/// pep508_rs can panic on some non-ASCII input instead of reporting an error. Refuses too
/// parentheses nested deeper than [`MAX_MARKER_NESTING`]: pep508_rs parses markers
/// recursively, and a few thousand `(` overflow the stack (found by fuzzing; a stack overflow
/// aborts the process, no error can be reported).
pub(crate) fn ascii_only(text: &str, what: &str) -> Result<(), String> {
    if let Some(c) = text.chars().find(|c| !c.is_ascii()) {
        return Err(format!(
            "invalid {what} `{text}`: non-ASCII character `{c}`"
        ));
    }
    check_nesting(text, what)
}

/// How deep parentheses may nest in a marker: far beyond any real one.
pub(crate) const MAX_MARKER_NESTING: usize = 32;

/// Refuses parentheses (outside quoted strings) nested deeper than [`MAX_MARKER_NESTING`].
pub(crate) fn check_nesting(text: &str, what: &str) -> Result<(), String> {
    let (mut depth, mut quote) = (0usize, None);
    for c in text.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '(') => {
                depth += 1;
                if depth > MAX_MARKER_NESTING {
                    let shown: String = text.chars().take(60).collect();
                    return Err(format!(
                        "invalid {what} `{shown}...`: parentheses nest deeper than {MAX_MARKER_NESTING}"
                    ));
                }
            }
            (None, ')') => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// A PEP 508 marker, refused rather than parsed when it is not ASCII.
pub(crate) fn parse_ascii_marker(text: &str) -> Result<MarkerTree, String> {
    ascii_only(text, "marker")?;
    MarkerTree::from_str(text).map_err(|e| format!("invalid marker `{text}`: {e}"))
}

/// Parses a package marker after rewriting PEP 751's `extras`/`dependency_groups` clauses.
fn parse_pylock_marker(text: &str) -> Result<MarkerTree, String> {
    ascii_only(text, "marker")?;
    let rewritten = rewrite_marker(text).map_err(|e| format!("invalid marker `{text}`: {e}"))?;
    MarkerTree::from_str(&rewritten).map_err(|e| format!("invalid marker `{text}`: {e}"))
}

/// One lexical piece of a marker: a quoted string (with its quotes), a word, or anything else.
#[derive(Debug, Clone, Copy, PartialEq)]
enum TokenKind {
    Quoted,
    Word,
    Other,
}

#[derive(Debug, Clone, Copy)]
struct Token {
    kind: TokenKind,
    start: usize,
    end: usize,
}

/// Splits a marker into tokens, skipping whitespace.
fn tokenize_marker(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if c.is_whitespace() {
            continue;
        }
        let kind = if c == '\'' || c == '"' {
            let close = text[start + 1..]
                .find(c)
                .ok_or_else(|| format!("unterminated string starting at column {}", start + 1))?;
            let end = start + 1 + close + 1;
            while chars.peek().is_some_and(|&(i, _)| i < end) {
                chars.next();
            }
            tokens.push(Token {
                kind: TokenKind::Quoted,
                start,
                end,
            });
            continue;
        } else if is_word_char(c) {
            TokenKind::Word
        } else {
            TokenKind::Other
        };
        let mut end = start + c.len_utf8();
        if kind == TokenKind::Word {
            while let Some(&(i, next)) = chars.peek() {
                if !is_word_char(next) {
                    break;
                }
                end = i + next.len_utf8();
                chars.next();
            }
        }
        tokens.push(Token { kind, start, end });
    }
    Ok(tokens)
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.'
}

/// Turns a member of a PEP 751 set variable into the `extra` name that stands for it.
type ToExtra = fn(&str) -> Result<ExtraName, String>;

/// The PEP 751 set variables and how a member of each becomes an `extra` name.
fn set_variable(word: &str) -> Option<ToExtra> {
    match word {
        "extras" => Some(|value| ExtraName::from_str(value).map_err(|e| e.to_string())),
        "dependency_groups" => Some(|value| Ok(group_extra(value))),
        _ => None,
    }
}

/// Rewrites `'x' in extras`, `'g' not in dependency_groups` (and the reversed order) into
/// `extra == ...`/`extra != ...` clauses, leaving everything else byte for byte.
fn rewrite_marker(text: &str) -> Result<String, String> {
    let tokens = tokenize_marker(text)?;
    let word = |t: &Token| (t.kind == TokenKind::Word).then(|| &text[t.start..t.end]);
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < tokens.len() {
        let Some((len, negated, string, variable)) = membership_at(&tokens[i..], &word) else {
            i += 1;
            continue;
        };
        let to_extra = set_variable(variable).ok_or("unreachable set variable")?;
        let quoted = &text[string.start..string.end];
        let quote = &quoted[..1];
        let value = &quoted[1..quoted.len() - 1];
        let extra = to_extra(value).map_err(|e| format!("`{value}` in {variable}: {e}"))?;
        let operator = if negated { "!=" } else { "==" };
        out.push_str(&text[copied..tokens[i].start]);
        out.push_str(&format!("extra {operator} {quote}{extra}{quote}"));
        copied = tokens[i + len - 1].end;
        i += len;
    }
    out.push_str(&text[copied..]);
    Ok(out)
}

/// Matches `STRING [not] in SET` or `SET [not] in STRING` at the start of `tokens`: the number
/// of tokens, whether it is negated, the string token and the set variable's name.
fn membership_at<'t>(
    tokens: &[Token],
    word: &impl Fn(&Token) -> Option<&'t str>,
) -> Option<(usize, bool, Token, &'t str)> {
    let first = tokens.first()?;
    let negated = tokens.get(1).and_then(word) == Some("not");
    let operator_len = if negated { 2 } else { 1 };
    if tokens.get(operator_len).and_then(word) != Some("in") {
        return None;
    }
    let last = tokens.get(operator_len + 1)?;
    let (string, variable) = match (first.kind, last.kind) {
        (TokenKind::Quoted, TokenKind::Word) => (*first, word(last)?),
        (TokenKind::Word, TokenKind::Quoted) => (*last, word(first)?),
        _ => return None,
    };
    set_variable(variable)?;
    Some((operator_len + 2, negated, string, variable))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = r#"
lock-version = "1.0"
requires-python = ">=3.9"
extras = ["socks", "Pdf_Export"]
dependency-groups = ["Dev"]
default-groups = ["default"]
created-by = "hand"

[[packages]]
name = "Requests"
version = "2.32.5"
requires-python = ">=3.9"
index = "https://index.example/simple"
dependencies = [{name = "idna"}, {name = "urllib3", version = "2.6.3"}]
sdist = {name = "requests-2.32.5.tar.gz", url = "https://files.example/requests-2.32.5.tar.gz", size = 131517, hashes = {sha256 = "DBBA0BAC56E100853DB0EA71B82B4DFD5FE2BF6D3754A8893C3AF500CEC7D7CF"}}
wheels = [
    {url = "https://files.example/p/requests-2.32.5-py3-none-any.whl", upload-time = 2025-08-18T20:46:00Z, hashes = {sha512 = "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"}},
]

[[packages]]
name = "pysocks"
version = "1.7.1"
marker = "'socks' in extras and python_version >= '3.9'"
wheels = [{url = "https://files.example/PySocks-1.7.1-py3-none-any.whl", hashes = {sha256 = "2725bd0a9925919b9b51739eea5f9e2bae91e83288108a9ad338b2e3a4435ee5"}}]

[[packages]]
name = "pytest"
version = "8.3.5"
marker = '"dev" in dependency_groups'
index = "https://index.example/simple"
wheels = [{name = "pytest-8.3.5-py3-none-any.whl", hashes = {sha256 = "c69214aa47deac29fad6c2a4f590b9c4a9fdb16a403176fe154b79c0b4d4d820"}}]
"#;

    fn extra(name: &str) -> ExtraName {
        ExtraName::from_str(name).unwrap()
    }

    fn evaluates(marker: &MarkerTree, extras: &[&str]) -> bool {
        let extras: Vec<ExtraName> = extras.iter().map(|e| extra(e)).collect();
        marker.evaluate_extras(&extras)
    }

    #[test]
    fn reads_project_packages_files_and_sources() {
        let lock = parse_pylock(SMALL).unwrap();
        assert_eq!(
            (lock.format, lock.lock_version.as_str(), lock.install),
            (LockFormat::Pylock, "1.0", InstallSet::Flat)
        );
        assert!(lock.warnings.is_empty(), "{:?}", lock.warnings);
        let project = lock.project.as_ref().unwrap();
        assert!(project.name.is_none());
        assert!(project
            .requires_python
            .as_ref()
            .unwrap()
            .contains(&"3.9.1".parse().unwrap()));
        let extras: Vec<_> = project.extras.keys().map(|e| e.to_string()).collect();
        assert_eq!(extras, ["pdf-export", "socks"]);
        // `default` is a group too: the file makes it a default group.
        assert_eq!(
            project.groups.keys().collect::<Vec<_>>(),
            ["default", "dev"]
        );
        assert_eq!(project.default_groups, ["default"]);

        let requests = &lock.packages[0];
        assert_eq!(requests.name.as_ref(), "requests");
        assert_eq!(
            requests.source,
            PackageSource::Index {
                name: String::new(),
                url: "https://index.example/simple".to_string()
            }
        );
        assert_eq!(requests.files.len(), 2);
        let sdist = &requests.files[0];
        assert_eq!(sdist.filename, "requests-2.32.5.tar.gz");
        assert_eq!(sdist.size, Some(131517));
        assert_eq!(
            sdist.hash.as_ref().unwrap().hex,
            "dbba0bac56e100853db0ea71b82b4dfd5fe2bf6d3754a8893c3af500cec7d7cf"
        );
        let wheel = &requests.files[1];
        assert_eq!(wheel.filename, "requests-2.32.5-py3-none-any.whl");
        assert_eq!(wheel.hash.as_ref().unwrap().algorithm, "sha512");
        assert!(requests.dependencies_known);
        assert_eq!(requests.dependencies.len(), 2);
        assert!(requests.dependencies[0].version.is_any());
        assert!(requests.dependencies[1]
            .version
            .contains(&"2.6.3".parse().unwrap()));
        assert!(!requests.dependencies[1]
            .version
            .contains(&"2.6.4".parse().unwrap()));
        assert!(requests.index_hashes.is_none() && requests.requested_extras.is_empty());

        let pysocks = &lock.packages[1];
        assert!(!pysocks.dependencies_known && pysocks.dependencies.is_empty());
        assert_eq!(
            pysocks.source,
            PackageSource::Url {
                url: "https://files.example/PySocks-1.7.1-py3-none-any.whl".to_string(),
                subdirectory: None
            }
        );
        let marker = pysocks.marker.as_ref().unwrap();
        assert!(evaluates(marker, &["socks"]) && !evaluates(marker, &[]));

        let pytest = lock.packages[2].marker.as_ref().unwrap();
        assert!(evaluates(pytest, &["py2nix-group-dev"]) && !evaluates(pytest, &["dev"]));
    }

    fn rewritten(text: &str) -> String {
        rewrite_marker(text).unwrap()
    }

    #[test]
    fn marker_extensions_are_rewritten_to_extra_clauses() {
        assert_eq!(rewritten("'socks' in extras"), "extra == 'socks'");
        assert_eq!(rewritten("\"Socks\" not in extras"), "extra != \"socks\"");
        assert_eq!(rewritten("extras in 'socks'"), "extra == 'socks'");
        assert_eq!(
            rewritten("'Dev_Tools' in dependency_groups"),
            "extra == 'py2nix-group-dev-tools'"
        );
        assert_eq!(
            rewritten("dependency_groups not  in \"test\""),
            "extra != \"py2nix-group-test\""
        );
        assert_eq!(
            rewritten(
                "(sys_platform == 'win32' and 'a' in extras) or 'b'  not in  dependency_groups"
            ),
            "(sys_platform == 'win32' and extra == 'a') or extra != 'py2nix-group-b'"
        );
    }

    #[test]
    fn marker_rewrite_leaves_other_text_alone() {
        for text in [
            "platform_release == \"'x' in extras\"",
            "'x' in platform_release",
            "python_version >= '3.9'",
            "extra == 'extras'",
            "'extras' in extras_list",
        ] {
            assert_eq!(rewritten(text), text);
        }
        assert_eq!(
            rewritten("os_name == \"'a' in extras\" and 'a' in extras"),
            "os_name == \"'a' in extras\" and extra == 'a'"
        );
    }

    #[test]
    fn marker_rewrite_errors() {
        assert!(rewrite_marker("'x in extras")
            .unwrap_err()
            .contains("unterminated"));
        assert!(rewrite_marker("'bad name!' in extras")
            .unwrap_err()
            .contains("`bad name!` in extras"));
        let lock = SMALL.replace("'socks' in extras and", "'socks' in extras andd");
        let err = parse_pylock(&lock).unwrap_err().to_string();
        assert!(
            err.starts_with("package `pysocks 1.7.1`: invalid marker `'socks' in extras andd"),
            "{err}"
        );
    }

    #[test]
    fn negated_group_marker_evaluates() {
        let marker = parse_pylock_marker("'dev' not in dependency_groups").unwrap();
        assert!(evaluates(&marker, &[]) && !evaluates(&marker, &["py2nix-group-dev"]));
    }

    fn lock_with(package: &str) -> String {
        format!("lock-version = \"1.0\"\ncreated-by = \"hand\"\n[[packages]]\nname = \"demo\"\n{package}")
    }

    fn source_of(package: &str) -> PackageSource {
        parse_pylock(&lock_with(package)).unwrap().packages[0]
            .source
            .clone()
    }

    #[test]
    fn direct_sources() {
        let git = source_of(
            "vcs = {type = \"git\", url = \"https://git.example/demo.git\", requested-revision = \"main\", commit-id = \"0123456789abcdef0123456789abcdef01234567\", subdirectory = \"py\"}",
        );
        assert_eq!(
            git,
            PackageSource::Git(GitSource {
                url: "https://git.example/demo.git".to_string(),
                reference: Some("main".to_string()),
                commit: Some("0123456789abcdef0123456789abcdef01234567".to_string()),
                subdirectory: Some("py".to_string()),
                submodules: false,
            })
        );
        let hg = source_of(
            "vcs = {type = \"hg\", url = \"https://hg.example/demo\", commit-id = \"abc\"}",
        );
        assert_eq!(
            hg,
            PackageSource::Unsupported {
                kind: "hg".to_string(),
                url: "https://hg.example/demo".to_string()
            }
        );
        let dir = source_of("directory = {path = \"./libs/demo\", editable = true}");
        assert_eq!(
            dir,
            PackageSource::Path {
                path: "./libs/demo".to_string(),
                kind: PathKind::Directory,
                editable: true
            }
        );
        let sub = source_of("directory = {path = \"libs/\", subdirectory = \"demo\"}");
        assert!(
            matches!(sub, PackageSource::Path { path, editable: false, .. } if path == "libs/demo")
        );
    }

    #[test]
    fn archives_keep_their_hash_and_subdirectory() {
        let text = lock_with(
            "version = \"1.0\"\narchive = {url = \"https://x.example/demo-1.0.tar.gz#frag\", size = 10, hashes = {sha256 = \"2725bd0a9925919b9b51739eea5f9e2bae91e83288108a9ad338b2e3a4435ee5\"}, subdirectory = \"src\"}",
        );
        let package = &parse_pylock(&text).unwrap().packages[0];
        assert_eq!(
            package.source,
            PackageSource::Url {
                url: "https://x.example/demo-1.0.tar.gz#frag".to_string(),
                subdirectory: Some("src".to_string())
            }
        );
        assert_eq!(package.files[0].filename, "demo-1.0.tar.gz");
        assert_eq!(package.files[0].size, Some(10));
        assert!(package.files[0].hash.is_some());
        let local = source_of(
            "archive = {path = \"dist/demo-1.0-py3-none-any.whl\", hashes = {sha256 = \"2725bd0a9925919b9b51739eea5f9e2bae91e83288108a9ad338b2e3a4435ee5\"}}",
        );
        assert_eq!(
            local,
            PackageSource::Path {
                path: "dist/demo-1.0-py3-none-any.whl".to_string(),
                kind: PathKind::Archive,
                editable: false
            }
        );
    }

    #[test]
    fn files_without_index() {
        let wheel = source_of("wheels = [{path = \"wheels/demo-1.0-py3-none-any.whl\", hashes = {sha256 = \"2725bd0a9925919b9b51739eea5f9e2bae91e83288108a9ad338b2e3a4435ee5\"}}]");
        assert!(matches!(
            wheel,
            PackageSource::Path {
                kind: PathKind::Archive,
                ..
            }
        ));
        let text = lock_with(
            "version = \"1.0\"\nsdist = {url = \"https://x.example/demo-1.0.tar.gz\", hashes = {md5 = \"0123456789abcdef0123456789abcdef\"}}\nwheels = [{url = \"https://x.example/demo-1.0-py3-none-any.whl\", hashes = {}}]",
        );
        let lock = parse_pylock(&text).unwrap();
        let demo = &lock.packages[0];
        assert_eq!(
            demo.source,
            PackageSource::Index {
                name: String::new(),
                url: String::new()
            }
        );
        assert_eq!(demo.files[0].hash.as_ref().unwrap().algorithm, "md5");
        assert!(demo.files[1].hash.is_none());
        assert_eq!(lock.warnings.len(), 1);
        assert!(lock.warnings[0].contains("(demo)"), "{:?}", lock.warnings);
    }

    #[test]
    fn a_source_tree_without_version_reads_as_zero() {
        let lock = parse_pylock(&lock_with("directory = {path = \".\"}")).unwrap();
        assert_eq!(lock.packages[0].version, Version::new([0]));
    }

    #[test]
    fn bad_packages_are_errors_naming_them() {
        let check = |package: &str, expected: &str| {
            let err = parse_pylock(&lock_with(package)).unwrap_err().to_string();
            assert!(err.contains(expected), "{err}");
        };
        check("version = \"1.0\"", "package `demo 1.0`: has no source");
        check(
            "version = \"1.0\"\ndirectory = {path = \".\"}\nwheels = [{url = \"https://x/demo-1.0-py3-none-any.whl\"}]",
            "more than one source (directory, sdist/wheels)",
        );
        check("version = \"one\"", "package `demo`: invalid version `one`");
        check(
            "version = \"1\"\nrequires-python = \">=banana\"\ndirectory = {path = \".\"}",
            "package `demo 1`: requires-python: invalid specifiers `>=banana`",
        );
        check(
            "version = \"1\"\nwheels = [{url = \"https://x/demo-1-py3-none-any.whl\", hashes = {sha256 = \"xyz\"}}]",
            "file `demo-1-py3-none-any.whl`: hash `sha256:xyz`",
        );
        check(
            "version = \"1\"\nwheels = [{hashes = {}}]",
            "a file has no `name`, `url` or `path`",
        );
        check(
            "vcs = {type = \"git\", commit-id = \"abc\"}",
            "vcs has neither",
        );
    }

    #[test]
    fn lock_versions() {
        let future = lock_with("directory = {path = \".\"}").replace("\"1.0\"", "\"2.0\"");
        assert_eq!(
            parse_pylock(&future).unwrap_err().to_string(),
            "unsupported `pylock.toml` lock-version `2.0`: py2nix reads lock-version 1.x"
        );
        let newer = lock_with("directory = {path = \".\"}").replace("\"1.0\"", "\"1.3\"");
        let lock = parse_pylock(&newer).unwrap();
        assert_eq!(lock.lock_version, "1.3");
        assert!(
            lock.warnings[0].contains("lock-version 1.3"),
            "{:?}",
            lock.warnings
        );
        let bare = lock_with("directory = {path = \".\"}").replace("\"1.0\"", "\"1\"");
        assert!(parse_pylock(&bare).unwrap().warnings.is_empty());
        let junk = lock_with("directory = {path = \".\"}").replace("\"1.0\"", "\"one\"");
        assert_eq!(
            parse_pylock(&junk).unwrap_err().to_string(),
            "invalid lock-version `one`"
        );
        let missing = parse_pylock("created-by = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            missing.contains("missing field `lock-version`"),
            "{missing}"
        );
    }

    #[test]
    fn bad_toml_reports_line_and_column() {
        let err = parse_pylock("lock-version = \"1.0\"\n[[packages]]\nname = 3\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("TOML parse error at line 3, column 8"),
            "{err}"
        );
    }

    #[test]
    fn url_basenames_are_decoded() {
        assert_eq!(
            url_basename("https://x/p/torch-2.1.0%2Bcpu-cp311-none-any.whl?x=1#sha256=ab"),
            "torch-2.1.0+cpu-cp311-none-any.whl"
        );
        assert_eq!(path_basename("C:\\wheels\\demo.whl"), "demo.whl");
        assert_eq!(percent_decode("100%"), "100%");
    }

    /// `uv export --format pylock.toml` of a Flask/Pillow/requests[socks] project.
    #[test]
    fn fixture_uv_flask_pillow() {
        let lock = parse_pylock(include_str!(
            "../../../fixtures/pylock/flask-pillow/pylock.toml"
        ))
        .unwrap();
        assert!(lock.warnings.is_empty(), "{:?}", lock.warnings);
        let project = lock.project.as_ref().unwrap();
        // uv writes a single-use lock: no extras, groups or default groups.
        assert!(project.extras.is_empty() && project.groups.is_empty());
        assert!(project.default_groups.is_empty());
        assert!(!project
            .requires_python
            .as_ref()
            .unwrap()
            .contains(&"3.14".parse().unwrap()));
        assert_eq!(lock.packages.len(), 27);
        // uv records no `dependencies`.
        assert!(lock.packages.iter().all(|p| !p.dependencies_known));
        let default_index = PackageSource::Index {
            name: String::new(),
            url: "https://pypi.org/simple".to_string(),
        };
        assert!(lock.packages.iter().all(|p| p.source == default_index));
        let versions = |name: &str| -> Vec<String> {
            lock.packages
                .iter()
                .filter(|p| p.name.as_ref() == name)
                .map(|p| p.version.to_string())
                .collect()
        };
        assert_eq!(versions("pillow"), ["11.3.0"]);
        assert_eq!(versions("click"), ["8.1.8"]);
        assert_eq!(versions("pysocks"), ["1.7.1"]);
        assert_eq!(versions("iniconfig"), ["2.1.0", "2.3.1"]);
        let colorama = lock
            .packages
            .iter()
            .find(|p| p.name.as_ref() == "colorama")
            .unwrap();
        assert_eq!(
            colorama.marker.as_ref().unwrap().try_to_string().unwrap(),
            "sys_platform == 'win32'"
        );
        let pillow = lock
            .packages
            .iter()
            .find(|p| p.name.as_ref() == "pillow")
            .unwrap();
        assert!(pillow.files.len() > 50);
        assert!(pillow
            .files
            .iter()
            .all(|f| f.url.is_some() && f.hash.as_ref().is_some_and(|h| h.algorithm == "sha256")));
        assert_eq!(pillow.files[0].filename, "pillow-11.3.0.tar.gz");
    }

    /// `uv export --format pylock.toml` of numpy, scipy, pandas and matplotlib: forks by Python.
    #[test]
    fn fixture_uv_data_science() {
        let lock = parse_pylock(include_str!(
            "../../../fixtures/pylock/data-science/pylock.toml"
        ))
        .unwrap();
        assert_eq!(lock.packages.len(), 16);
        let numpy: Vec<_> = lock
            .packages
            .iter()
            .filter(|p| p.name.as_ref() == "numpy")
            .collect();
        assert_eq!(numpy.len(), 2);
        let markers: Vec<String> = numpy
            .iter()
            .map(|p| p.marker.as_ref().unwrap().try_to_string().unwrap())
            .collect();
        assert_eq!(
            markers,
            [
                "python_full_version < '3.12'",
                "python_full_version >= '3.12'"
            ]
        );
        let files: usize = lock.packages.iter().map(|p| p.files.len()).sum();
        assert_eq!(files, 398);
        let tzdata = lock
            .packages
            .iter()
            .find(|p| p.name.as_ref() == "tzdata")
            .unwrap();
        assert_eq!(
            tzdata
                .files
                .iter()
                .map(|f| f.filename.as_str())
                .collect::<Vec<_>>(),
            ["tzdata-2026.6.tar.gz", "tzdata-2026.6-py2.py3-none-any.whl"]
        );
    }

    /// `pdm export -f pylock`: a multi-use lock whose markers use `extras` and
    /// `dependency_groups`, and which names no index.
    #[test]
    fn fixture_pdm_flask() {
        let lock = parse_pylock(include_str!(
            "../../../fixtures/pylock/pdm-flask/pylock.toml"
        ))
        .unwrap();
        let project = lock.project.as_ref().unwrap();
        assert_eq!(
            project
                .extras
                .keys()
                .map(|e| e.to_string())
                .collect::<Vec<_>>(),
            ["yaml"]
        );
        assert_eq!(
            project.groups.keys().collect::<Vec<_>>(),
            ["default", "dev"]
        );
        assert_eq!(project.default_groups, ["default"]);
        assert_eq!(lock.packages.len(), 24);
        assert_eq!(lock.warnings.len(), 1, "{:?}", lock.warnings);
        assert!(
            lock.warnings[0].starts_with("pylock.toml names no index for 24 package(s) with several files (blinker, certifi, charset-normalizer, click, colorama and 19 more)"),
            "{}",
            lock.warnings[0]
        );
        let find = |name: &str| {
            lock.packages
                .iter()
                .find(|p| p.name.as_ref() == name)
                .unwrap()
        };
        let default = extra("py2nix-group-default");
        let dev = extra("py2nix-group-dev");
        let pyyaml = find("pyyaml").marker.clone().unwrap();
        assert!(pyyaml.evaluate_extras(&[extra("yaml")]));
        assert!(!pyyaml.evaluate_extras(&[default.clone(), dev.clone()]));
        let pytest = find("pytest").marker.clone().unwrap();
        assert!(
            pytest.evaluate_extras(std::slice::from_ref(&dev))
                && !pytest.evaluate_extras(std::slice::from_ref(&default))
        );
        let flask = find("flask");
        assert!(flask.marker.as_ref().unwrap().evaluate_extras(&[default]));
        // PDM keeps its edges under `[packages.tool.pdm]`, which is not read.
        assert!(!flask.dependencies_known);
        assert!(flask
            .files
            .iter()
            .all(|f| f.url.is_some() && f.hash.is_some()));
        assert!(find("colorama")
            .marker
            .as_ref()
            .unwrap()
            .try_to_string()
            .unwrap()
            .contains("py2nix-group-dev"));
    }

    /// Every prefix, and every character replaced by one that matters to the syntax, is read
    /// or refused without a panic.
    #[test]
    fn mangled_input_never_panics() {
        let text = "lock-version = '1.0'\nrequires-python = '>=3.9'\nextras = ['x']\n\
            dependency-groups = ['d']\n[[packages]]\nname = 'a'\nversion = '1'\n\
            marker = \"'x' in extras or os_name == 'nt' and 'd' not in dependency_groups\"\n\
            dependencies = [{name = 'b', version = '2'}]\nindex = 'https://i.example/simple'\n\
            wheels = [{url = 'https://f.example/a-1-py3-none-any.whl', hashes = {md5 = '0123456789abcdef0123456789abcdef'}}]\n\
            [[packages]]\nname = 'c'\nvcs = {type = 'git', url = 'u', commit-id = 'c'}\n\
            [[packages]]\nname = 'e'\narchive = {path = 'e.zip', hashes = {}}\n";
        assert!(parse_pylock(text).is_ok(), "the unmangled text reads");
        let read = |text: &str| {
            let _ = parse_pylock(text);
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
