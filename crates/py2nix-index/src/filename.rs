//! Which files of a page are of a needed version (the version in a file name is `py2nix_dist`'s).

use std::str::FromStr;

use pep440_rs::Version;
use py2nix_dist::filename_version;

/// Whether the file's version equals one of `wanted` (PEP 440 equality, so `1.0` is `1.0.0`);
/// a wanted version that does not parse is compared as text.
pub(crate) fn matches_version(filename: &str, package: &str, wanted: &[String]) -> bool {
    // Graph locks want files, not versions: no version to parse for each file of the page.
    if wanted.is_empty() {
        return false;
    }
    let Some(version) = filename_version(filename, package) else {
        return false;
    };
    wanted.iter().any(|w| match Version::from_str(w.trim()) {
        Ok(w) => w == version,
        Err(_) => w.trim() == version.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_by_pep440() {
        let wanted = ["1.0".to_string(), "2.0rc1".to_string()];
        assert!(matches_version("x-1.0.0-py3-none-any.whl", "x", &wanted));
        assert!(matches_version("x-2.0.0-rc.1.tar.gz", "x", &wanted));
        assert!(!matches_version("x-1.0.1.tar.gz", "x", &wanted));
        assert!(!matches_version(
            "x-1.0.tar.gz",
            "x",
            &["bogus!".to_string()]
        ));
    }
}
