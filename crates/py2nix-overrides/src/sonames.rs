//! `overrides/SONAMES.toml`: the built-in table of shared libraries (by soname) to the
//! nixpkgs attribute paths providing them, for the ELF files of Linux binary wheels. A
//! package's own wheel rule (`sonames` of an `applies-to = "wheel"` or `"any"` rule) comes
//! first; this table covers the system libraries every wheel may need.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::rule::{is_attribute_path, is_soname, SCHEMA_VERSION};

/// The file's name in `overrides/`.
pub const SONAMES_FILE: &str = "SONAMES.toml";

/// `SONAMES.toml` as written.
#[derive(Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[cfg_attr(
    test,
    schemars(
        title = "py2nix SONAMES.toml",
        description = "py2nix's soname table: `overrides/SONAMES.toml` (see overrides/README.md)."
    )
)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct SonameFileWire {
    /// The format version; must be 1.
    #[cfg_attr(test, schemars(range(min = 1, max = 1)))]
    pub schema_version: u32,
    /// Soname (`libz.so.1`) to the nixpkgs attribute path providing it (`zlib`).
    #[cfg_attr(
        test,
        schemars(extend(
            "propertyNames" = { "pattern": "^[^/\\s]+\\.so(\\.[0-9]+)*$" },
            "additionalProperties" = {
                "type": "string",
                "pattern": "^[A-Za-z_][A-Za-z0-9_'-]*(\\.[A-Za-z_][A-Za-z0-9_'-]*)*$"
            }
        ))
    )]
    pub sonames: BTreeMap<String, String>,
}

/// The checked soname table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SonameTable {
    sonames: BTreeMap<String, String>,
}

impl SonameTable {
    /// Parses and checks `SONAMES.toml`: every key a soname, every value an attribute path.
    /// `Err` lists every problem.
    pub fn parse(text: &str) -> Result<SonameTable, Vec<String>> {
        let wire: SonameFileWire = toml::from_str(text).map_err(|e| vec![e.to_string()])?;
        if wire.schema_version != SCHEMA_VERSION {
            return Err(vec![format!(
                "schema-version {} is not {SCHEMA_VERSION}",
                wire.schema_version
            )]);
        }
        let mut problems = Vec::new();
        for (soname, attr) in &wire.sonames {
            if !is_soname(soname) {
                problems.push(format!(
                    "`{soname}` is not a shared library's soname (`libz.so.1`)"
                ));
            }
            if !is_attribute_path(attr) {
                problems.push(format!(
                    "`{soname}`: `{attr}` is not a nixpkgs attribute path"
                ));
            }
        }
        if problems.is_empty() {
            Ok(SonameTable {
                sonames: wire.sonames,
            })
        } else {
            Err(problems)
        }
    }

    /// The attribute path providing `soname`.
    pub fn get(&self, soname: &str) -> Option<&str> {
        self.sonames.get(soname).map(String::as_str)
    }

    /// Every soname with its attribute path, by soname.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.sonames.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The number of sonames.
    pub fn len(&self) -> usize {
        self.sonames.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.sonames.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_checked() {
        let table = SonameTable::parse(
            "schema-version = 1\n[sonames]\n\"libz.so.1\" = \"zlib\"\n\"libstdc++.so.6\" = \"stdenv.cc.cc.lib\"\n",
        )
        .unwrap();
        assert_eq!(table.get("libz.so.1"), Some("zlib"));
        assert_eq!(table.get("libstdc++.so.6"), Some("stdenv.cc.cc.lib"));
        assert_eq!(table.get("libfoo.so.1"), None);
        let problems = SonameTable::parse(
            "schema-version = 1\n[sonames]\n\"libz\" = \"zlib\"\n\"libm.so.6\" = \"a b\"\n",
        )
        .unwrap_err();
        assert_eq!(
            problems,
            [
                "`libm.so.6`: `a b` is not a nixpkgs attribute path",
                "`libz` is not a shared library's soname (`libz.so.1`)",
            ]
        );
        assert!(SonameTable::parse("schema-version = 1\n[sonames]\n[other]\n").is_err());
        assert!(SonameTable::parse("schema-version = 2\n[sonames]\n").is_err());
    }
}
