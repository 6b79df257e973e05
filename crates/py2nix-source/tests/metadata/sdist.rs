//! Sdists: the top-level PKG-INFO, its reliability, and the pyproject.toml fallback.

use std::collections::BTreeMap;

use py2nix_source::{
    sdist_metadata, MetadataError, PyprojectRequirements, SdistMetadata, SdistRequirements,
};

use crate::support::{deflated, gzip, pseudo_random, tar_of, zip_of};

const PKG_INFO_2_1: &str = "Metadata-Version: 2.1
Name: demo-sdist
Version: 0.3.0
Requires-Python: >=3.9
Requires-Dist: attrs>=22; python_version >= \"3.9\"
Provides-Extra: cli
Requires-Dist: click>=8; extra == \"cli\"

Long description.
Requires-Dist: not-this
";

const PKG_INFO_2_2: &str = "Metadata-Version: 2.2
Name: demo-sdist
Version: 0.3.0
Dynamic: License
Requires-Dist: attrs>=22; python_version >= \"3.9\"
";

const PKG_INFO_2_2_DYNAMIC: &str = "Metadata-Version: 2.2
Name: demo-sdist
Version: 0.3.0
Dynamic: Requires-Dist
";

const EGG_INFO: &str = "Metadata-Version: 2.1\nName: wrong\nVersion: 9\n";

const PYPROJECT: &str = "[build-system]
requires = [\"setuptools>=61\"]
build-backend = \"setuptools.build_meta\"

[project]
name = \"demo-sdist\"
version = \"0.3.0\"
dependencies = [\"attrs>=22; python_version >= '3.9'\"]
dynamic = [\"readme\"]

[project.optional-dependencies]
cli = [\"click>=8\"]
";

fn sdist_files<'a>(pkg_info: &'a str, pyproject: Option<&'a str>) -> Vec<(&'a str, &'a [u8])> {
    let mut files: Vec<(&str, &[u8])> = vec![
        (
            "demo_sdist-0.3.0/src/demo_sdist.egg-info/PKG-INFO",
            EGG_INFO.as_bytes(),
        ),
        ("demo_sdist-0.3.0/setup.cfg", b"[metadata]\n"),
    ];
    if let Some(pyproject) = pyproject {
        files.push(("demo_sdist-0.3.0/pyproject.toml", pyproject.as_bytes()));
    }
    files.push(("demo_sdist-0.3.0/PKG-INFO", pkg_info.as_bytes()));
    files
}

/// The same sdist in every format read: (filename, bytes).
fn every_format(files: &[(&str, &[u8])]) -> Vec<(&'static str, Vec<u8>)> {
    let tar = tar_of(files);
    vec![
        ("demo_sdist-0.3.0.tar.gz", gzip(&tar)),
        ("demo_sdist-0.3.0.tgz", gzip(&tar)),
        ("demo_sdist-0.3.0.zip", zip_of(files, deflated(), false)),
        ("demo_sdist-0.3.0.tar", tar),
    ]
}

fn read_all(files: &[(&str, &[u8])]) -> SdistMetadata {
    let mut results = every_format(files)
        .into_iter()
        .map(|(filename, bytes)| sdist_metadata(&bytes, filename).unwrap());
    let first = results.next().unwrap();
    for other in results {
        assert_eq!(other, first);
    }
    first
}

#[test]
fn old_pkg_info_falls_back_to_static_pyproject_dependencies() {
    let metadata = read_all(&sdist_files(PKG_INFO_2_1, Some(PYPROJECT)));
    assert_eq!(metadata.pkg_info.name, "demo-sdist");
    assert_eq!(
        metadata.pkg_info.requires_dist,
        [
            "attrs>=22; python_version >= \"3.9\"",
            "click>=8; extra == \"cli\""
        ]
    );
    assert_eq!(metadata.pkg_info.requires_python.as_deref(), Some(">=3.9"));
    assert!(!metadata.requires_dist_is_reliable());
    assert_eq!(
        metadata.requirements,
        SdistRequirements::Pyproject(PyprojectRequirements {
            dependencies: vec!["attrs>=22; python_version >= '3.9'".into()],
            optional_dependencies: Some(BTreeMap::from([("cli".into(), vec!["click>=8".into()])])),
        })
    );
}

#[test]
fn metadata_2_2_pkg_info_is_final() {
    let metadata = read_all(&sdist_files(PKG_INFO_2_2, Some(PYPROJECT)));
    assert_eq!(metadata.requirements, SdistRequirements::PkgInfo);
    assert!(metadata.requires_dist_is_reliable());
    assert_eq!(metadata.pkg_info.dynamic, ["License"]);
}

#[test]
fn dynamic_requires_dist_falls_back_to_pyproject() {
    let metadata = read_all(&sdist_files(PKG_INFO_2_2_DYNAMIC, Some(PYPROJECT)));
    assert!(matches!(
        metadata.requirements,
        SdistRequirements::Pyproject(_)
    ));
}

#[test]
fn without_pyproject_the_requirements_are_unknown() {
    let metadata = read_all(&sdist_files(PKG_INFO_2_1, None));
    assert_eq!(
        metadata.requirements,
        SdistRequirements::Unknown {
            reason: "`PKG-INFO` is not final and there is no `pyproject.toml`".into()
        }
    );
    let dynamic = "[project]\nname = 'demo-sdist'\ndynamic = ['version', 'dependencies']\n";
    let metadata = read_all(&sdist_files(PKG_INFO_2_1, Some(dynamic)));
    assert_eq!(
        metadata.requirements,
        SdistRequirements::Unknown {
            reason: "`pyproject.toml` lists `dependencies` in `[project] dynamic`".into()
        }
    );
}

#[test]
fn the_directory_named_like_the_file_wins() {
    let other = "Metadata-Version: 2.1\nName: other\nVersion: 1\n";
    let files: Vec<(&str, &[u8])> = vec![
        ("other-1/PKG-INFO", other.as_bytes()),
        ("./Demo.Sdist-0.3.0/PKG-INFO", PKG_INFO_2_2.as_bytes()),
    ];
    assert_eq!(read_all(&files).pkg_info.name, "demo-sdist");
    let tar = gzip(&tar_of(&files));
    let error = sdist_metadata(&tar, "unrelated-1.0.tar.gz").unwrap_err();
    assert_eq!(
        error.to_string(),
        "`unrelated-1.0.tar.gz` has several top-level `PKG-INFO` files and none matches its \
         name: Demo.Sdist-0.3.0/PKG-INFO, other-1/PKG-INFO"
    );
}

#[test]
fn errors() {
    let tar = gzip(&tar_of(&[("demo-1.0/setup.py", b"")]));
    let error = sdist_metadata(&tar, "demo-1.0.tar.gz").unwrap_err();
    assert_eq!(
        error.to_string(),
        "`demo-1.0.tar.gz` has no top-level `PKG-INFO`"
    );
    let error = sdist_metadata(&tar, "demo-1.0.tar.bz2").unwrap_err();
    assert!(matches!(error, MetadataError::UnsupportedSdist { .. }));
    assert_eq!(
        error.to_string(),
        "unsupported sdist format `demo-1.0.tar.bz2`: py2nix reads `.tar.gz`, `.tgz`, `.tar` \
         and `.zip` sdists"
    );
    let error = sdist_metadata(b"not gzip", "demo-1.0.tar.gz").unwrap_err();
    assert!(matches!(error, MetadataError::Tar { .. }), "{error:?}");
}

/// Every truncation, and byte flips, of valid sdists give results or errors, never panics.
#[test]
fn truncated_and_damaged_sdists_do_not_panic() {
    for (filename, bytes) in every_format(&sdist_files(PKG_INFO_2_1, Some(PYPROJECT))) {
        for cut in 0..bytes.len() {
            let _ = sdist_metadata(&bytes[..cut], filename);
        }
        let mut random = pseudo_random(11);
        for _ in 0..500 {
            let mut damaged = bytes.clone();
            let at = random.next().unwrap() as usize % damaged.len();
            damaged[at] = random.next().unwrap() as u8;
            let _ = sdist_metadata(&damaged, filename);
        }
    }
}
