//! The version in a distribution's filename, for keeping every file of a needed version.

use std::str::FromStr;

use pep440_rs::Version;

/// The file extensions of source distributions, longest first.
const SDIST_EXTENSIONS: [&str; 8] = [
    ".tar.gz", ".tar.bz2", ".tar.xz", ".tar.Z", ".tar", ".tgz", ".tbz", ".zip",
];

/// The PEP 503 normalised form of a project name: lower case, runs of `-`, `_`, `.` as one `-`.
pub(crate) fn normalize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut separator = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            separator = true;
            continue;
        }
        if separator && !out.is_empty() {
            out.push('-');
        }
        separator = false;
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// The version of a file of project `package` (normalised): a wheel's second field (PEP 427),
/// or what follows `<name>-` in an sdist's name, where `<name>` normalises to `package`.
/// `None` for other files and unparsable versions.
pub(crate) fn filename_version(filename: &str, package: &str) -> Option<Version> {
    if let Some(stem) = filename.strip_suffix(".whl") {
        let fields: Vec<&str> = stem.split('-').collect();
        return match fields.as_slice() {
            [_, version, _, _, _] | [_, version, _, _, _, _] => Version::from_str(version).ok(),
            _ => None,
        };
    }
    let stem = SDIST_EXTENSIONS
        .iter()
        .find_map(|extension| strip_suffix_ignore_case(filename, extension))?;
    let package = normalize_name(package);
    stem.match_indices('-')
        .find(|(i, _)| normalize_name(&stem[..*i]) == package)
        .and_then(|(i, _)| Version::from_str(&stem[i + 1..]).ok())
}

fn strip_suffix_ignore_case<'a>(text: &'a str, suffix: &str) -> Option<&'a str> {
    let split = text.len().checked_sub(suffix.len())?;
    let (stem, tail) = (text.get(..split)?, text.get(split..)?);
    tail.eq_ignore_ascii_case(suffix).then_some(stem)
}

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

    fn check(filename: &str, package: &str, expected: Option<&str>) {
        let got = filename_version(filename, package).map(|v| v.to_string());
        assert_eq!(got.as_deref(), expected, "{filename}");
    }

    #[test]
    fn versions_from_filenames() {
        check("flask-3.1.0-py3-none-any.whl", "flask", Some("3.1.0"));
        check(
            "numpy-2.0.0-1-cp311-cp311-manylinux_2_17_x86_64.whl",
            "numpy",
            Some("2.0.0"),
        );
        check("Flask-3.1.0.tar.gz", "flask", Some("3.1.0"));
        check(
            "python-dateutil-2.8.2.tar.gz",
            "python-dateutil",
            Some("2.8.2"),
        );
        check("zope.interface-6.0.zip", "zope-interface", Some("6.0"));
        check("x-1.0-1.tar.gz", "x", Some("1.0.post1"));
        check("x-1.0.egg", "x", None);
        check("y-1.0.tar.gz", "x", None);
        check("x-notaversion.tar.gz", "x", None);
        check("x.whl", "x", None);
        check("", "x", None);
        check("é-1.tar.gz", "x", None);
    }

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

    #[test]
    fn names_normalise() {
        assert_eq!(normalize_name("Zope.Interface__x"), "zope-interface-x");
        assert_eq!(normalize_name("_a"), "a");
    }
}
