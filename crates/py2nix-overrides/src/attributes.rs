//! `overrides/NIXPKGS-ATTRIBUTES.md`: the nixpkgs names the database may use.
//!
//! The file's Markdown tables are read row by row. A table belongs to the section (`## `
//! heading) above it: a heading that names `build-system` lists names in nixpkgs' Python
//! package set, one that names `build-inputs` lists attribute paths into `pkgs` (used by
//! `native-build-inputs`, `build-inputs`, `propagated-build-inputs` and the values of
//! `sonames`). The first column of a row is the name in backticks, the second the nixpkgs file
//! defining it (not empty); further columns are free. A table under any other heading is an
//! error, so that a new section is a deliberate change here.

use std::collections::BTreeSet;

use crate::database::{Entry, OverrideDb};
use crate::rule::Rule;
use crate::sonames::SonameTable;

/// Which namespace a name lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NameKind {
    /// `python3.pkgs.<name>` (`build-system`).
    Python,
    /// An attribute path into `pkgs` (the input lists and `sonames` values).
    Pkgs,
}

/// The names listed in `NIXPKGS-ATTRIBUTES.md`.
#[derive(Debug, Clone, Default)]
pub struct NixpkgsNames {
    python: BTreeSet<String>,
    pkgs: BTreeSet<String>,
}

/// A name an entry uses that `NIXPKGS-ATTRIBUTES.md` does not list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownName {
    /// The entry's `override.toml`, as its origin names it.
    pub path: String,
    /// The key naming it (`build-system`, `build-inputs`, `sonames`…).
    pub key: &'static str,
    pub name: String,
}

impl std::fmt::Display for UnknownName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let namespace = if self.key == "build-system" {
            "python3.pkgs"
        } else {
            "pkgs"
        };
        write!(
            f,
            "`{}`: {} `{}` is not listed in overrides/NIXPKGS-ATTRIBUTES.md ({namespace})",
            self.path, self.key, self.name
        )
    }
}

impl NixpkgsNames {
    /// Reads the tables of `NIXPKGS-ATTRIBUTES.md`; `Err` names the line at fault.
    pub fn parse(markdown: &str) -> Result<NixpkgsNames, String> {
        let mut names = NixpkgsNames::default();
        let mut section: Option<NameKind> = None;
        let mut heading = String::new();
        let mut in_table = false;
        for (number, line) in markdown.lines().enumerate() {
            let number = number + 1;
            let line = line.trim();
            if let Some(title) = line.strip_prefix("## ") {
                heading = title.to_string();
                section = if title.contains("`build-system`") {
                    Some(NameKind::Python)
                } else if title.contains("build-inputs`") {
                    Some(NameKind::Pkgs)
                } else {
                    None
                };
                in_table = false;
                continue;
            }
            if !line.starts_with('|') {
                in_table = false;
                continue;
            }
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            if !in_table {
                // The header row; the separator row follows.
                in_table = true;
                continue;
            }
            if cells
                .iter()
                .all(|cell| cell.chars().all(|c| matches!(c, '-' | ':' | ' ')))
            {
                continue;
            }
            let Some(kind) = section else {
                return Err(format!(
                    "line {number}: a table under `## {heading}`, which names neither \
                     `build-system` nor `build-inputs`"
                ));
            };
            let name = cells
                .first()
                .and_then(|cell| cell.strip_prefix('`'))
                .and_then(|cell| cell.strip_suffix('`'))
                .filter(|name| !name.is_empty() && !name.contains('`'))
                .ok_or_else(|| format!("line {number}: the first column is not a `name`"))?;
            if cells.get(1).is_none_or(|file| file.is_empty()) {
                return Err(format!(
                    "line {number}: `{name}` has no nixpkgs file in the second column"
                ));
            }
            let set = match kind {
                NameKind::Python => &mut names.python,
                NameKind::Pkgs => &mut names.pkgs,
            };
            if !set.insert(name.to_string()) {
                return Err(format!("line {number}: `{name}` is listed twice"));
            }
        }
        Ok(names)
    }

    /// Whether `name` is listed in `kind`'s tables.
    pub fn contains(&self, kind: NameKind, name: &str) -> bool {
        match kind {
            NameKind::Python => self.python.contains(name),
            NameKind::Pkgs => self.pkgs.contains(name),
        }
    }

    /// Every name an entry of `db` uses that is not listed, in package order.
    pub fn unknown_in(&self, db: &OverrideDb) -> Vec<UnknownName> {
        db.entries()
            .flat_map(|entry| self.unknown_in_entry(entry))
            .collect()
    }

    /// Every name `entry` uses that is not listed (each once, in rule order).
    pub fn unknown_in_entry(&self, entry: &Entry) -> Vec<UnknownName> {
        let mut seen = BTreeSet::new();
        let mut unknown = Vec::new();
        for (kind, key, name) in entry.rules.iter().flat_map(names_of) {
            if !self.contains(kind, name) && seen.insert((key, name)) {
                unknown.push(UnknownName {
                    path: entry.origin.path.clone(),
                    key,
                    name: name.to_string(),
                });
            }
        }
        unknown
    }

    /// The attribute paths of the soname table that are not listed, as `(soname, path)`.
    pub fn unknown_in_sonames<'a>(&self, table: &'a SonameTable) -> Vec<(&'a str, &'a str)> {
        table
            .iter()
            .filter(|(_, attr)| !self.contains(NameKind::Pkgs, attr))
            .collect()
    }

    /// Listed names that no entry of `db` uses.
    pub fn unused_in(&self, db: &OverrideDb) -> Vec<(NameKind, String)> {
        self.unused_in_all(db, &SonameTable::default())
    }

    /// Listed names that neither an entry of `db` nor the soname table uses.
    pub fn unused_in_all(&self, db: &OverrideDb, table: &SonameTable) -> Vec<(NameKind, String)> {
        let used: BTreeSet<(NameKind, &str)> = db
            .entries()
            .flat_map(|entry| entry.rules.iter().flat_map(names_of))
            .map(|(kind, _, name)| (kind, name))
            .chain(table.iter().map(|(_, attr)| (NameKind::Pkgs, attr)))
            .collect();
        let python = self.python.iter().map(|name| (NameKind::Python, name));
        let pkgs = self.pkgs.iter().map(|name| (NameKind::Pkgs, name));
        python
            .chain(pkgs)
            .filter(|(kind, name)| !used.contains(&(*kind, name.as_str())))
            .map(|(kind, name)| (kind, name.clone()))
            .collect()
    }
}

/// Every nixpkgs name a rule uses, with its namespace and key.
fn names_of(rule: &Rule) -> impl Iterator<Item = (NameKind, &'static str, &str)> {
    let python = rule
        .build_system
        .iter()
        .map(|name| (NameKind::Python, "build-system", name.as_str()));
    let pkgs = rule
        .attribute_paths()
        .map(|(key, name)| (NameKind::Pkgs, key, name));
    python.chain(pkgs)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: &str = "\
# names

## `build-system`: names in nixpkgs' Python package set

| name | defined in | used by |
| --- | --- | --- |
| `setuptools` | pkgs/development/python-modules/setuptools/default.nix | many |
| `cython` | pkgs/development/python-modules/cython/default.nix | numpy |

Not packaged: `coherent.licensed`.

## `native-build-inputs` and `build-inputs`: attribute paths into `pkgs`

| attribute path | defined in | used by |
| --- | --- | --- |
| `zlib` | pkgs/development/libraries/zlib/default.nix | pillow |
| `pkg-config` | pkgs/top-level/all-packages.nix | pillow |
| `xorg.libxcb` | pkgs/servers/x11/xorg/default.nix | pillow |
";

    #[test]
    fn tables_are_read_by_section() {
        let names = NixpkgsNames::parse(LIST).unwrap();
        assert!(names.contains(NameKind::Python, "setuptools"));
        assert!(names.contains(NameKind::Pkgs, "xorg.libxcb"));
        assert!(!names.contains(NameKind::Pkgs, "setuptools"));
        assert!(!names.contains(NameKind::Python, "coherent.licensed"));
    }

    #[test]
    fn malformed_lists_are_refused() {
        let twice = format!("{LIST}| `zlib` | pkgs/x.nix | again |\n");
        assert!(NixpkgsNames::parse(&twice)
            .unwrap_err()
            .ends_with("`zlib` is listed twice"));
        let no_file = format!("{LIST}| `openssl` |  | x |\n");
        assert!(NixpkgsNames::parse(&no_file)
            .unwrap_err()
            .ends_with("`openssl` has no nixpkgs file in the second column"));
        let bare = format!("{LIST}| openssl | pkgs/x.nix | x |\n");
        assert!(NixpkgsNames::parse(&bare)
            .unwrap_err()
            .ends_with("the first column is not a `name`"));
        let other = "## Other\n\n| a | b |\n| - | - |\n| `x` | y |\n";
        assert!(NixpkgsNames::parse(other)
            .unwrap_err()
            .starts_with("line 5: a table under `## Other`"));
    }

    #[test]
    fn unknown_and_unused_names_are_found() {
        let names = NixpkgsNames::parse(LIST).unwrap();
        let db = OverrideDb::from_files([(
            "pi/pillow/override.toml",
            "schema-version = 1\n[[rule]]\nbuild-system = [\"setuptools\", \"hatchling\"]\n\
             build-inputs = [\"zlib\", \"libjpeg\"]\n\
             [[rule]]\napplies-to = \"wheel\"\nsonames = { \"libfoo.so.1\" = \"libfoo\" }\n",
        )])
        .unwrap();
        let unknown: Vec<String> = names
            .unknown_in(&db)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            unknown,
            [
                "`overrides/pi/pillow/override.toml`: build-system `hatchling` is not listed in overrides/NIXPKGS-ATTRIBUTES.md (python3.pkgs)",
                "`overrides/pi/pillow/override.toml`: build-inputs `libjpeg` is not listed in overrides/NIXPKGS-ATTRIBUTES.md (pkgs)",
                "`overrides/pi/pillow/override.toml`: sonames `libfoo` is not listed in overrides/NIXPKGS-ATTRIBUTES.md (pkgs)",
            ]
        );
        let unused = names.unused_in(&db);
        assert_eq!(
            unused,
            [
                (NameKind::Python, "cython".to_string()),
                (NameKind::Pkgs, "pkg-config".to_string()),
                (NameKind::Pkgs, "xorg.libxcb".to_string()),
            ]
        );
    }
}
