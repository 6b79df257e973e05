//! The bounds on reading an untrusted archive (docs/security.md, "Limits"): the largest
//! extension header (GNU long name, PAX), the most members, the most bytes inflated in all.
//! Defaults here; the binary sets others from `PY2NIX_ARCHIVE_MAX_HEADER`,
//! `PY2NIX_ARCHIVE_MAX_MEMBERS` and `PY2NIX_ARCHIVE_MAX_INFLATED` once at start
//! ([`configure_archive_limits`]), and every reader of this crate uses them.

use std::sync::OnceLock;

use crate::metadata::MetadataError;

/// Bounds on one archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchiveLimits {
    /// The largest extension header (a GNU long name or link, a PAX header), in bytes.
    pub max_header: u64,
    /// The most members (headers) of one archive.
    pub max_members: u64,
    /// The most bytes read from one archive after decompression.
    pub max_inflated: u64,
}

impl Default for ArchiveLimits {
    fn default() -> Self {
        ArchiveLimits {
            max_header: 1 << 20,
            max_members: 500_000,
            max_inflated: 4 << 30,
        }
    }
}

/// Which bound an archive broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LimitKind {
    Header,
    Members,
    Inflated,
}

impl ArchiveLimits {
    /// The limits with the environment's overrides, checked (`lookup` reads a variable).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let mut limits = ArchiveLimits::default();
        for (name, slot) in [
            ("PY2NIX_ARCHIVE_MAX_HEADER", &mut limits.max_header),
            ("PY2NIX_ARCHIVE_MAX_MEMBERS", &mut limits.max_members),
            ("PY2NIX_ARCHIVE_MAX_INFLATED", &mut limits.max_inflated),
        ] {
            if let Some(text) = lookup(name) {
                *slot = text
                    .trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|value| *value > 0)
                    .ok_or_else(|| {
                        format!("{name} must be a positive whole number, not `{text}`")
                    })?;
            }
        }
        Ok(limits)
    }

    pub(crate) fn exceeded(&self, filename: &str, kind: LimitKind, size: u64) -> MetadataError {
        let (what, limit, variable) = match kind {
            LimitKind::Header => (
                format!("an extension header (long name or PAX) of {size} bytes"),
                self.max_header,
                "PY2NIX_ARCHIVE_MAX_HEADER",
            ),
            LimitKind::Members => (
                format!("more than {} members", size - 1),
                self.max_members,
                "PY2NIX_ARCHIVE_MAX_MEMBERS",
            ),
            LimitKind::Inflated => (
                format!(
                    "more than {limit} bytes once decompressed",
                    limit = self.max_inflated
                ),
                self.max_inflated,
                "PY2NIX_ARCHIVE_MAX_INFLATED",
            ),
        };
        MetadataError::ArchiveLimit {
            filename: filename.to_owned(),
            what,
            limit,
            variable,
        }
    }
}

static LIMITS: OnceLock<ArchiveLimits> = OnceLock::new();

/// Sets the limits every archive reader of this crate uses, once (later calls are ignored);
/// without it they are the defaults.
pub fn configure_archive_limits(limits: ArchiveLimits) {
    let _ = LIMITS.set(limits);
}

/// The limits in force.
pub fn archive_limits() -> ArchiveLimits {
    LIMITS.get().copied().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_sets_the_limits() {
        let limits = ArchiveLimits::from_lookup(|name| {
            (name == "PY2NIX_ARCHIVE_MAX_MEMBERS").then(|| "12".to_owned())
        })
        .unwrap();
        assert_eq!(limits.max_members, 12);
        assert_eq!(limits.max_header, ArchiveLimits::default().max_header);
        for bad in ["0", "-1", "x", "1e9", ""] {
            let error = ArchiveLimits::from_lookup(|_| Some(bad.to_owned())).unwrap_err();
            assert!(error.contains("positive whole number"), "{error}");
        }
    }
}
