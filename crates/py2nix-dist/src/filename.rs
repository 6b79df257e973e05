//! Distribution file names: wheels (PEP 427) and sdists, and the version each carries.

use std::str::FromStr;

use pep440_rs::Version;

use crate::name::names_equal;

/// The file extensions of source distributions (compared ignoring case), in the order an sdist
/// is preferred when a version has several: the one list every crate uses.
pub const SDIST_EXTENSIONS: [&str; 9] = [
    ".tar.gz", ".zip", ".tar.bz2", ".tar.xz", ".tgz", ".tar", ".tbz", ".txz", ".tar.Z",
];

/// `filename` without its suffix if it ends with `suffix`, ignoring ASCII case.
fn strip_suffix_ignore_case<'a>(filename: &'a str, suffix: &str) -> Option<&'a str> {
    let split = filename.len().checked_sub(suffix.len())?;
    let (stem, tail) = (filename.get(..split)?, filename.get(split..)?);
    tail.eq_ignore_ascii_case(suffix).then_some(stem)
}

/// An sdist's stem (`<name>-<version>`) and its extension (as spelt in [`SDIST_EXTENSIONS`]),
/// if `filename` ends with one.
///
/// ```
/// assert_eq!(py2nix_dist::split_sdist_extension("A-1.TGZ"), Some(("A-1", ".tgz")));
/// ```
pub fn split_sdist_extension(filename: &str) -> Option<(&str, &'static str)> {
    SDIST_EXTENSIONS.iter().find_map(|extension| {
        strip_suffix_ignore_case(filename, extension).map(|stem| (stem, *extension))
    })
}

/// The rank of an sdist's extension in [`SDIST_EXTENSIONS`] (lower is preferred), `None` for
/// a file that is not an sdist.
pub fn sdist_preference(filename: &str) -> Option<usize> {
    let (_, extension) = split_sdist_extension(filename)?;
    SDIST_EXTENSIONS.iter().position(|e| *e == extension)
}

/// Whether `filename` ends with `.whl` ignoring case: a zip archive to read as a wheel. (Its
/// name parses as a wheel's only with `.whl` exactly: [`WheelName::parse`].)
pub fn is_wheel(filename: &str) -> bool {
    strip_suffix_ignore_case(filename, ".whl").is_some()
}

/// Whether `filename` (or a path) ends like a wheel or an sdist.
pub fn is_distribution_filename(filename: &str) -> bool {
    is_wheel(filename) || split_sdist_extension(filename).is_some()
}

/// A wheel filename split into its parts, borrowed and unchecked beyond the shape: what
/// choosing among many files needs without allocating (the version is not parsed; tag sets
/// stay dotted, `py2.py3`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WheelName<'a> {
    pub name: &'a str,
    pub version: &'a str,
    pub build: Option<&'a str>,
    pub python: &'a str,
    pub abi: &'a str,
    pub platform: &'a str,
}

impl<'a> WheelName<'a> {
    /// Splits `name-version(-build)?-python-abi-platform.whl`.
    ///
    /// ```
    /// use py2nix_dist::WheelName;
    /// let wheel = WheelName::parse("six-1.17.0-1-py2.py3-none-any.whl").unwrap();
    /// assert_eq!((wheel.version, wheel.build, wheel.python), ("1.17.0", Some("1"), "py2.py3"));
    /// assert!(WheelName::parse("a-1-py3-none.whl").is_none());
    /// ```
    pub fn parse(filename: &'a str) -> Option<WheelName<'a>> {
        // `.whl` exactly, as PEP 427, pip and `packaging` have it.
        let stem = filename.strip_suffix(".whl")?;
        let mut parts = stem.split('-');
        let mut next = || parts.next();
        let (a, b, c, d, e, f) = (next(), next(), next(), next(), next(), next());
        if next().is_some() {
            return None;
        }
        let (name, version, build, python, abi, platform) = match (a, b, c, d, e, f) {
            (Some(n), Some(v), Some(py), Some(abi), Some(plat), None) => {
                (n, v, None, py, abi, plat)
            }
            (Some(n), Some(v), Some(build), Some(py), Some(abi), Some(plat)) => {
                (n, v, Some(build), py, abi, plat)
            }
            _ => return None,
        };
        Some(WheelName {
            name,
            version,
            build,
            python,
            abi,
            platform,
        })
    }
}

/// A parsed wheel filename.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WheelFilename {
    pub name: String,
    pub version: Version,
    pub build: Option<String>,
    pub python_tags: Vec<String>,
    pub abi_tags: Vec<String>,
    pub platform_tags: Vec<String>,
}

impl WheelFilename {
    /// Parses `name-version(-build)?-python-abi-platform.whl`; compressed tag sets (`py2.py3`)
    /// are split.
    ///
    /// ```
    /// use py2nix_dist::WheelFilename;
    /// let wheel = WheelFilename::parse("numpy-2.2.6-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl").unwrap();
    /// assert_eq!(wheel.platform_tags, ["manylinux_2_17_x86_64", "manylinux2014_x86_64"]);
    /// assert!(WheelFilename::parse("numpy-2.2.6.tar.gz").is_none());
    /// assert!(WheelFilename::parse("bad.whl").is_none());
    /// ```
    pub fn parse(filename: &str) -> Option<WheelFilename> {
        let parts = WheelName::parse(filename)?;
        let split = |tag: &str| tag.split('.').map(str::to_string).collect::<Vec<_>>();
        Some(WheelFilename {
            name: parts.name.to_string(),
            version: Version::from_str(parts.version).ok()?,
            build: parts.build.map(str::to_string),
            python_tags: split(parts.python),
            abi_tags: split(parts.abi),
            platform_tags: split(parts.platform),
        })
    }
}

/// Whether `filename` is a wheel with compiled code for Linux: a readable wheel name with a
/// Linux platform tag (`manylinux…`, `musllinux_…`, `linux_…`). These are the wheels that
/// need autoPatchelf on Nix.
///
/// ```
/// assert!(py2nix_dist::is_linux_binary_wheel("a-1-cp311-cp311-manylinux_2_17_x86_64.whl"));
/// assert!(!py2nix_dist::is_linux_binary_wheel("a-1-py3-none-any.whl"));
/// ```
pub fn is_linux_binary_wheel(filename: &str) -> bool {
    WheelFilename::parse(filename).is_some_and(|wheel| {
        wheel.platform_tags.iter().any(|tag| {
            tag.starts_with("manylinux")
                || tag.starts_with("musllinux_")
                || tag.starts_with("linux_")
        })
    })
}

/// The version a file of project `package` carries in its name: a wheel's version field
/// (PEP 427), or for an sdist what follows `<name>-`, where `<name>` is the first prefix
/// ending at a `-` that names `package` (compared normalised, so
/// `python_dateutil-2.9.0.tar.gz` and `Zope.Interface-6.0.zip` read). `None` when the name
/// is not `package`'s, the file is neither a wheel nor an sdist, or the version does not parse.
///
/// The project name is needed: without it `a-1-2.tar.gz` (project `a-1`, version 2) and
/// `x-2.0.0-rc.1.tar.gz` (project `x`, version 2.0.0rc1) cannot both be read.
pub fn filename_version(filename: &str, package: &str) -> Option<Version> {
    if let Some(wheel) = WheelName::parse(filename) {
        return names_equal(wheel.name, package)
            .then(|| Version::from_str(wheel.version).ok())
            .flatten();
    }
    let (stem, _) = split_sdist_extension(filename)?;
    stem.match_indices('-')
        .find(|(at, _)| names_equal(&stem[..*at], package))
        .and_then(|(at, _)| Version::from_str(&stem[at + 1..]).ok())
}

/// Checks that `filename`, a wheel's or an sdist's name from a lock or an index, is one
/// file name that is safe to create: not empty, at most 255 bytes, not `.` or `..`, without
/// `/`, `\\` or control characters (NUL, newlines, escapes). The Nix side unpacks and copies
/// files by these names, so `../../x.whl` would write outside its directory. The message says
/// what is wrong, with the name escaped and cut at 300 characters (its caller names the
/// package or the page).
///
/// ```
/// assert!(py2nix_dist::check_filename("idna-3.10-py3-none-any.whl").is_ok());
/// assert!(py2nix_dist::check_filename("../../x-1.0.tar.gz").is_err());
/// assert!(py2nix_dist::check_filename("x-1.0\n.tar.gz").is_err());
/// ```
pub fn check_filename(filename: &str) -> Result<(), String> {
    let problem = if filename.is_empty() {
        "is empty"
    } else if filename.len() > 255 {
        "is longer than 255 bytes"
    } else if filename == "." || filename == ".." {
        "is a directory name"
    } else if filename.contains(['/', '\\']) {
        "holds a `/` or `\\`: a file name is one path component"
    } else if filename.chars().any(char::is_control) {
        "holds a control character"
    } else {
        return Ok(());
    };
    Err(format!(
        "the file name {:?} {problem}",
        filename.chars().take(300).collect::<String>()
    ))
}

/// The project name and version of a distribution file whose project is not known (a local
/// archive named without `name @`): a wheel's first two fields; for an sdist, the last `-`
/// after which the rest is a version (PEP 625 names hold no `-`, so the last one splits them).
/// Prefer [`filename_version`] whenever the project is known.
pub fn unnamed_filename_version(filename: &str) -> Option<(&str, Version)> {
    if let Some(wheel) = WheelName::parse(filename) {
        return Some((wheel.name, Version::from_str(wheel.version).ok()?));
    }
    let (stem, _) = split_sdist_extension(filename)?;
    stem.rmatch_indices('-')
        .filter(|(at, _)| *at > 0)
        .find_map(|(at, _)| Some((&stem[..at], Version::from_str(&stem[at + 1..]).ok()?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_from_file_names_of_a_known_project() {
        let cases = [
            ("flask-3.1.0-py3-none-any.whl", "flask", Some("3.1.0")),
            ("Flask-3.1.0-py3-none-any.whl", "flask", Some("3.1.0")),
            ("flask-3.1.0-py3-none-any.WHL", "flask", None),
            (
                "numpy-2.0.0-1-cp311-cp311-manylinux_2_17_x86_64.whl",
                "numpy",
                Some("2.0.0"),
            ),
            ("foo_bar-1.0.0-py3-none-any.whl", "foo-bar", Some("1.0.0")),
            ("Flask-3.1.0.tar.gz", "flask", Some("3.1.0")),
            (
                "python-dateutil-2.8.2.tar.gz",
                "python-dateutil",
                Some("2.8.2"),
            ),
            (
                "python_dateutil-2.9.0.post0.tar.gz",
                "python-dateutil",
                Some("2.9.0.post0"),
            ),
            ("zope.interface-6.0.zip", "zope-interface", Some("6.0")),
            ("x-1.0-1.tar.gz", "x", Some("1.0.post1")),
            ("x-2.0.0-rc.1.tar.gz", "x", Some("2.0.0rc1")),
            // A name with a numeric part: reading the first `-` whose rest parses gives 1.post2.
            ("a-1-2.tar.gz", "a-1", Some("2")),
            ("X-1.TAR.GZ", "x", Some("1")),
            ("x-1.tar.bz2", "x", Some("1")),
            ("x-1.tbz", "x", Some("1")),
            ("x-1.txz", "x", Some("1")),
            ("x-1.tar.Z", "x", Some("1")),
            ("x-1.0.egg", "x", None),
            ("x-1.0.exe", "x", None),
            ("y-1.0.tar.gz", "x", None),
            ("y-1.0-py3-none-any.whl", "x", None),
            ("X_Y-1.0-py3-none-any.whl", "x-y", Some("1.0")),
            ("x-notaversion.tar.gz", "x", None),
            ("x-notaversion-py3-none-any.whl", "x", None),
            ("x.whl", "x", None),
            ("x-1-py3-none.whl", "x", None),
            ("", "x", None),
            ("é-1.tar.gz", "x", None),
            (".tar.gz", "x", None),
        ];
        for (filename, package, expected) in cases {
            let got = filename_version(filename, package).map(|v| v.to_string());
            assert_eq!(got.as_deref(), expected, "{filename}");
        }
    }

    #[test]
    fn names_and_versions_of_files_of_an_unknown_project() {
        let cases = [
            (
                "requests-2.32.3-py3-none-any.whl",
                Some(("requests", "2.32.3")),
            ),
            (
                "foo_bar-1.0-1build-cp311-cp311-linux_x86_64.whl",
                Some(("foo_bar", "1.0")),
            ),
            (
                "python-dateutil-2.9.0.post0.tar.gz",
                Some(("python-dateutil", "2.9.0.post0")),
            ),
            ("a-1-2.tar.gz", Some(("a-1", "2"))),
            ("x-2.0.0-rc.1.tar.gz", Some(("x", "2.0.0rc1"))),
            ("demo-1.0.ZIP", Some(("demo", "1.0"))),
            ("-1.0.tar.gz", None),
            ("demo.tar.gz", None),
            ("demo-x.tar.gz", None),
            ("demo-1.0.egg", None),
            ("foo-1.0-py3.whl", None),
        ];
        for (filename, expected) in cases {
            let got = unnamed_filename_version(filename).map(|(n, v)| (n, v.to_string()));
            let expected = expected.map(|(n, v)| (n, v.to_string()));
            assert_eq!(got, expected, "{filename}");
        }
    }

    #[test]
    fn sdist_extensions_and_their_preference() {
        let cases = [
            ("a-1.tar.gz", Some(("a-1", ".tar.gz")), Some(0)),
            ("a-1.zip", Some(("a-1", ".zip")), Some(1)),
            ("a-1.TAR.BZ2", Some(("a-1", ".tar.bz2")), Some(2)),
            ("a-1.tgz", Some(("a-1", ".tgz")), Some(4)),
            ("a-1.tar", Some(("a-1", ".tar")), Some(5)),
            ("a-1.tar.z", Some(("a-1", ".tar.Z")), Some(8)),
            ("a-1-py3-none-any.whl", None, None),
            ("a-1.tar.zst", None, None),
            ("a-1.gz", None, None),
        ];
        for (filename, split, preference) in cases {
            assert_eq!(split_sdist_extension(filename), split, "{filename}");
            assert_eq!(sdist_preference(filename), preference, "{filename}");
            assert_eq!(
                is_distribution_filename(filename),
                split.is_some() || filename.ends_with(".whl"),
                "{filename}"
            );
        }
        assert!(is_wheel("dist/a-1-py3-none-any.WHL") && is_distribution_filename("a.whl"));
        assert!(!is_wheel("a-1.tar.gz"));
    }

    #[test]
    fn wheel_names_split_into_their_parts() {
        let six = WheelName::parse("six-1.17.0-1-py2.py3-none-any.whl");
        assert_eq!(
            six,
            Some(WheelName {
                name: "six",
                version: "1.17.0",
                build: Some("1"),
                python: "py2.py3",
                abi: "none",
                platform: "any",
            })
        );
        for bad in [
            "a-1-py3-none.whl",
            "a-1-2-3-4-5-6.whl",
            "a-1-py3-none-any.tar.gz",
            "a-1-py3-none-any.WHL",
            ".whl",
        ] {
            assert_eq!(WheelName::parse(bad), None, "{bad}");
        }
        // The shape holds but the version does not parse: a name, not a `WheelFilename`.
        assert!(WheelName::parse("a-x_y-py3-none-any.whl").is_some());
        assert_eq!(WheelFilename::parse("a-x_y-py3-none-any.whl"), None);
        let parsed = WheelFilename::parse("a-1-py2.py3-cp311.abi3-any.whl").unwrap();
        assert_eq!(parsed.python_tags, ["py2", "py3"]);
        assert_eq!(parsed.abi_tags, ["cp311", "abi3"]);
    }

    #[test]
    fn linux_binary_wheels() {
        let cases = [
            (
                "a-1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
                true,
            ),
            ("a-1-cp311-cp311-manylinux1_x86_64.whl", true),
            ("a-1-cp312-cp312-musllinux_1_2_aarch64.whl", true),
            ("a-1-cp311-cp311-linux_x86_64.whl", true),
            ("a-1-cp39-abi3-macosx_11_0_arm64.whl", false),
            ("a-1-cp311-cp311-win_amd64.whl", false),
            ("a-1-py3-none-any.whl", false),
            ("a-x_y-cp311-cp311-manylinux1_x86_64.whl", false),
            ("a-1.tar.gz", false),
        ];
        for (filename, expected) in cases {
            assert_eq!(is_linux_binary_wheel(filename), expected, "{filename}");
        }
    }
}
