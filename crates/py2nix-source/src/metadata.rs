//! Core metadata: a wheel's `*.dist-info/METADATA`, an sdist's `PKG-INFO` or a PEP 658
//! `.metadata` file, read in the email-header format of the core metadata specification, and
//! the one error type of the metadata readers.
//!
//! The specification defers to what Python's `email.parser` reads with the `compat32` policy;
//! this reader follows it for the header section and ignores the body (the description).

/// The fields of a distribution's core metadata that py2nix needs. Values are unfolded (a line
/// break before a continuation line is removed, as RFC 5322 says) and trimmed; multiple-use
/// fields keep their file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreMetadata {
    pub metadata_version: String,
    pub name: String,
    pub version: String,
    pub requires_dist: Vec<String>,
    pub provides_extra: Vec<String>,
    pub requires_python: Option<String>,
    /// Field names listed as `Dynamic` (PEP 643), as written.
    pub dynamic: Vec<String>,
}

/// Which kind of file core metadata came from: it decides whether `Requires-Dist` is final.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetadataOrigin {
    /// A wheel's `*.dist-info/METADATA`, or the PEP 658 `.metadata` file an index serves for a
    /// wheel: always final.
    Wheel,
    /// An sdist's `PKG-INFO`, or a `.metadata` file served for an sdist: final only from
    /// Metadata-Version 2.2 (PEP 643) on, and only when `Dynamic` does not name `Requires-Dist`.
    Sdist,
}

impl CoreMetadata {
    /// Whether `requires_dist` (and with it `provides_extra`) is what a build of this
    /// distribution would produce, so that no build is needed to learn the dependencies.
    pub fn requires_dist_is_reliable(&self, origin: MetadataOrigin) -> bool {
        match origin {
            MetadataOrigin::Wheel => true,
            MetadataOrigin::Sdist => {
                metadata_version_at_least(&self.metadata_version, (2, 2))
                    && !self.is_dynamic("Requires-Dist")
            }
        }
    }

    /// Whether `Dynamic` lists `field` (field names compare case-insensitively).
    pub fn is_dynamic(&self, field: &str) -> bool {
        self.dynamic
            .iter()
            .any(|name| name.eq_ignore_ascii_case(field))
    }
}

/// Why core metadata, or the archive holding it, could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MetadataError {
    #[error("core metadata has no `{0}` field")]
    MissingField(&'static str),
    #[error("`{filename}` is not a valid zip archive: {message}")]
    Zip { filename: String, message: String },
    #[error("`{filename}` has no `*.dist-info/METADATA`")]
    NoWheelMetadata { filename: String },
    #[error(
        "`{filename}` has several `*.dist-info/METADATA` files and none matches its name and \
         version: {}", candidates.join(", ")
    )]
    AmbiguousWheelMetadata {
        filename: String,
        candidates: Vec<String>,
    },
    #[error("`{name}` is {size} bytes; core metadata larger than {limit} bytes is refused")]
    TooLarge { name: String, size: u64, limit: u64 },
    #[error(
        "`{name}` uses zip compression method {method}; only stored (0) and deflate (8) are \
         supported"
    )]
    UnsupportedCompression { name: String, method: u16 },
    #[error("`{name}` is encrypted")]
    Encrypted { name: String },
    /// The bytes given to `read_member` stop before the member's data ends: fetch `needed` bytes
    /// from its local header and call again.
    #[error(
        "the bytes given for `{name}` end too early: {needed} bytes from its local header are \
         needed, {have} were given"
    )]
    MemberTruncated {
        name: String,
        needed: u64,
        have: u64,
    },
    #[error("`{name}` is corrupt: {message}")]
    CorruptMember { name: String, message: String },
    #[error(
        "unsupported sdist format `{filename}`: py2nix reads `.tar.gz`, `.tgz`, `.tar` and \
         `.zip` sdists"
    )]
    UnsupportedSdist { filename: String },
    #[error("failed to read the tar archive `{filename}`: {source}")]
    Tar {
        filename: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{filename}` holds {what}: more than py2nix reads (the limit is {limit}; {variable} changes it)")]
    ArchiveLimit {
        filename: String,
        what: String,
        limit: u64,
        variable: &'static str,
    },
    #[error("`{filename}` has no top-level `PKG-INFO`")]
    NoPkgInfo { filename: String },
    #[error(
        "`{filename}` has several top-level `PKG-INFO` files and none matches its name: {}",
        candidates.join(", ")
    )]
    AmbiguousPkgInfo {
        filename: String,
        candidates: Vec<String>,
    },
}

/// Parses core metadata bytes (UTF-8; invalid sequences are replaced, not refused). Keys
/// compare case-insensitively; the header section ends at the first empty line or at the
/// first line that is neither a header nor a continuation, as in Python's `email.parser`.
/// `Metadata-Version`, `Name` and `Version` are required; a single-use field given twice keeps
/// its first value, as `email.message.Message.get` does.
pub fn parse_core_metadata(bytes: &[u8]) -> Result<CoreMetadata, MetadataError> {
    let text = String::from_utf8_lossy(bytes);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let headers = header_section(text);
    let first = |key: &str| {
        headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(key))
            .map(|(_, value)| value.clone())
    };
    let all = |key: &str| {
        headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case(key))
            .map(|(_, value)| value.clone())
            .collect::<Vec<_>>()
    };
    let required = |key: &'static str| {
        first(key)
            .filter(|value| !value.is_empty())
            .ok_or(MetadataError::MissingField(key))
    };
    Ok(CoreMetadata {
        metadata_version: required("Metadata-Version")?,
        name: required("Name")?,
        version: required("Version")?,
        requires_dist: all("Requires-Dist"),
        provides_extra: all("Provides-Extra"),
        requires_python: first("Requires-Python"),
        dynamic: all("Dynamic"),
    })
}

/// The headers before the body, in file order, as (name, unfolded and trimmed value).
fn header_section(text: &str) -> Vec<(&str, String)> {
    let mut headers: Vec<(&str, String)> = Vec::new();
    for line in lines(text) {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            // A continuation with no header before it is dropped, as `email.parser` does.
            if let Some((_, value)) = headers.last_mut() {
                value.push_str(line);
            }
            continue;
        }
        let Some((name, value)) = split_header(line) else {
            break;
        };
        headers.push((name, value.to_owned()));
    }
    for (_, value) in &mut headers {
        *value = value.trim().to_owned();
    }
    headers
}

/// Lines without their terminator; `\r\n`, `\n` and a lone `\r` all end a line.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = rest.find(['\r', '\n']).unwrap_or(rest.len());
        let line = &rest[..end];
        let after = &rest[end..];
        rest = after
            .strip_prefix("\r\n")
            .or_else(|| after.strip_prefix(['\r', '\n']))
            .unwrap_or(after);
        Some(line)
    })
}

/// `Name: value` with a name of printable ASCII other than `:`, as `email.parser` accepts.
fn split_header(line: &str) -> Option<(&str, &str)> {
    let (name, value) = line.split_once(':')?;
    let valid = !name.is_empty() && name.bytes().all(|byte| matches!(byte, b'!'..=b'~'));
    valid.then_some((name, value))
}

/// Whether a `major.minor` Metadata-Version is at least `minimum`; an unreadable one is not.
fn metadata_version_at_least(version: &str, minimum: (u64, u64)) -> bool {
    let mut parts = version.trim().split('.');
    let number = |part: Option<&str>| part.unwrap_or("0").parse::<u64>().ok();
    match (number(parts.next()), number(parts.next())) {
        (Some(major), Some(minor)) => (major, minor) >= minimum,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEMO: &str = "Metadata-Version: 2.1\r\n\
        Name: Demo_Pkg\r\n\
        Version: 1.0\r\n\
        Requires-Dist: foo[bar,baz] (>=1.0) ;\r\n  python_version < '3.9'\r\n\
        requires-dist: qux; extra == 'x'\r\n\
        Provides-Extra: x\r\n\
        Description: first\r\n        |  Requires-Dist: not-a-header\r\n\
        \r\n\
        Name: nope\r\n\
        Requires-Dist: body-not-header\r\n";

    #[test]
    fn unfolds_and_stops_at_the_body() {
        // Python's email.parser reads the same bytes as Requires-Dist
        // ["foo[bar,baz] (>=1.0) ;\r\n  python_version < '3.9'", "qux; extra == 'x'"] and
        // Name "Demo_Pkg"; unfolding removes the "\r\n".
        let metadata = parse_core_metadata(DEMO.as_bytes()).unwrap();
        assert_eq!(
            metadata,
            CoreMetadata {
                metadata_version: "2.1".into(),
                name: "Demo_Pkg".into(),
                version: "1.0".into(),
                requires_dist: vec![
                    "foo[bar,baz] (>=1.0) ;  python_version < '3.9'".into(),
                    "qux; extra == 'x'".into(),
                ],
                provides_extra: vec!["x".into()],
                requires_python: None,
                dynamic: vec![],
            }
        );
    }

    #[test]
    fn a_line_that_is_not_a_header_ends_the_headers() {
        let text = "Metadata-Version: 2.1\nName: a\nVersion: 1\nnot a header\nRequires-Dist: b\n";
        assert!(parse_core_metadata(text.as_bytes())
            .unwrap()
            .requires_dist
            .is_empty());
    }

    #[test]
    fn lone_carriage_returns_and_invalid_utf8() {
        let bytes = b"Metadata-Version: 2.2\rName: caf\xe9\rVersion: 1\rRequires-Dist: b\r";
        let metadata = parse_core_metadata(bytes).unwrap();
        assert_eq!(metadata.name, "caf\u{fffd}");
        assert_eq!(metadata.requires_dist, ["b"]);
    }

    #[test]
    fn missing_required_fields() {
        let error = parse_core_metadata(b"Metadata-Version: 2.1\nName: a\n").unwrap_err();
        assert_eq!(error.to_string(), "core metadata has no `Version` field");
        assert!(parse_core_metadata(b"").is_err());
        assert!(parse_core_metadata(b"\xff\xfe\x00garbage").is_err());
    }

    #[test]
    fn reliability() {
        let check = |version: &str, dynamic: &[&str], wheel: bool, sdist: bool| {
            let metadata = CoreMetadata {
                metadata_version: version.into(),
                name: "a".into(),
                version: "1".into(),
                requires_dist: vec![],
                provides_extra: vec![],
                requires_python: None,
                dynamic: dynamic.iter().map(|field| field.to_string()).collect(),
            };
            assert_eq!(
                metadata.requires_dist_is_reliable(MetadataOrigin::Wheel),
                wheel
            );
            assert_eq!(
                metadata.requires_dist_is_reliable(MetadataOrigin::Sdist),
                sdist,
                "{version} {dynamic:?}"
            );
        };
        check("2.1", &[], true, false);
        check("1.0", &[], true, false);
        check("2.2", &[], true, true);
        check("2.4", &["License"], true, true);
        check("2.4", &["requires-dist"], true, false);
        check("3.0", &[], true, true);
        check("2", &[], true, false);
        check("two", &[], true, false);
    }
}
