//! Real files from PyPI (tests/data, see PROVENANCE.md). Every expected value below was read
//! from the same file with Python's `zipfile`, `tarfile` and `email.parser`.

use py2nix_source::{
    sdist_metadata, wheel_metadata, zip_tail_request_len, MetadataOrigin, SdistRequirements,
};

use crate::support::{central_directory_start, via_tail};

const REQUESTS_WHEEL: &[u8] = include_bytes!("../data/requests-2.32.3-py3-none-any.whl");
const REQUESTS_FILENAME: &str = "requests-2.32.3-py3-none-any.whl";

#[test]
fn requests_wheel() {
    let metadata = wheel_metadata(REQUESTS_WHEEL, REQUESTS_FILENAME).unwrap();
    assert_eq!(metadata.metadata_version, "2.1");
    assert_eq!(metadata.name, "requests");
    assert_eq!(metadata.version, "2.32.3");
    assert_eq!(metadata.requires_python.as_deref(), Some(">=3.8"));
    assert_eq!(
        metadata.requires_dist,
        [
            "charset-normalizer <4,>=2",
            "idna <4,>=2.5",
            "urllib3 <3,>=1.21.1",
            "certifi >=2017.4.17",
            "PySocks !=1.5.7,>=1.5.6 ; extra == 'socks'",
            "chardet <6,>=3.0.2 ; extra == 'use_chardet_on_py3'",
        ]
    );
    assert_eq!(
        metadata.provides_extra,
        ["security", "socks", "use_chardet_on_py3"]
    );
    assert!(metadata.dynamic.is_empty());
    assert!(metadata.requires_dist_is_reliable(MetadataOrigin::Wheel));
}

#[test]
fn requests_wheel_through_its_tail() {
    // Python's zipfile: the central directory is 1578 bytes at 63328 of 64928.
    assert_eq!(REQUESTS_WHEEL.len(), 64928);
    assert_eq!(central_directory_start(REQUESTS_WHEEL), 63328);
    let whole = wheel_metadata(REQUESTS_WHEEL, REQUESTS_FILENAME).unwrap();
    for (tail_len, requests) in [(zip_tail_request_len(), 1), (1600, 1), (1599, 2), (22, 2)] {
        let (metadata, made) = via_tail(REQUESTS_WHEEL, tail_len, REQUESTS_FILENAME).unwrap();
        assert_eq!(metadata, whole);
        assert_eq!(made, requests, "tail of {tail_len} bytes");
    }
}

#[test]
fn six_sdist_metadata_2_1_without_pyproject() {
    let bytes = include_bytes!("../data/six-1.17.0.tar.gz");
    let metadata = sdist_metadata(bytes, "six-1.17.0.tar.gz").unwrap();
    assert_eq!(metadata.pkg_info.metadata_version, "2.1");
    assert_eq!(metadata.pkg_info.name, "six");
    assert_eq!(metadata.pkg_info.version, "1.17.0");
    assert_eq!(
        metadata.pkg_info.requires_python.as_deref(),
        Some(">=2.7, !=3.0.*, !=3.1.*, !=3.2.*")
    );
    assert!(metadata.pkg_info.requires_dist.is_empty());
    assert!(matches!(
        metadata.requirements,
        SdistRequirements::Unknown { .. }
    ));
}

#[test]
fn annotated_types_sdist_metadata_2_3_is_final() {
    let bytes = include_bytes!("../data/annotated_types-0.7.0.tar.gz");
    let metadata = sdist_metadata(bytes, "annotated_types-0.7.0.tar.gz").unwrap();
    assert_eq!(metadata.pkg_info.metadata_version, "2.3");
    assert_eq!(metadata.pkg_info.name, "annotated-types");
    assert_eq!(metadata.pkg_info.version, "0.7.0");
    assert_eq!(metadata.pkg_info.requires_python.as_deref(), Some(">=3.8"));
    assert_eq!(
        metadata.pkg_info.requires_dist,
        ["typing-extensions>=4.0.0; python_version < '3.9'"]
    );
    assert!(metadata.pkg_info.provides_extra.is_empty());
    assert_eq!(metadata.requirements, SdistRequirements::PkgInfo);
}
