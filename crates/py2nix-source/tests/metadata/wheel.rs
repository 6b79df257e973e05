//! Whole-wheel reading: which METADATA is chosen, the size cap, and the zip crate's reading of
//! the same bytes as a reference.

use py2nix_source::{
    parse_core_metadata, wheel_metadata, MetadataError, MetadataOrigin, MAX_METADATA_SIZE,
};

use crate::support::{
    deflated, demo_wheel, expected_metadata, hand_made_zip64, stored, zip_crate_read, zip_of,
    METADATA, WHEEL_FILENAME,
};

#[test]
fn reads_deflated_and_stored_wheels_as_the_zip_crate_does() {
    for options in [deflated(), stored()] {
        let wheel = demo_wheel(options);
        let metadata = wheel_metadata(&wheel, WHEEL_FILENAME).unwrap();
        assert_eq!(metadata, expected_metadata());
        let reference =
            parse_core_metadata(&zip_crate_read(&wheel, "demo_pkg-1.2.0.dist-info/METADATA"))
                .unwrap();
        assert_eq!(metadata, reference);
        assert!(metadata.requires_dist_is_reliable(MetadataOrigin::Wheel));
    }
}

#[test]
fn reads_zip64_wheels() {
    let files: &[(&str, &[u8])] = &[
        ("demo_pkg/__init__.py", b"x = 1\n"),
        ("demo_pkg-1.2.0.dist-info/METADATA", METADATA.as_bytes()),
    ];
    let written_by_zip_crate = zip_of(files, deflated().large_file(true), true);
    assert!(
        contains(&written_by_zip_crate, &0x0706_4b50u32.to_le_bytes()),
        "the zip crate wrote no ZIP64 locator"
    );
    let by_hand = hand_made_zip64(files);
    assert_eq!(
        zip_crate_read(&by_hand, "demo_pkg-1.2.0.dist-info/METADATA"),
        METADATA.as_bytes()
    );
    for wheel in [written_by_zip_crate, by_hand] {
        assert_eq!(
            wheel_metadata(&wheel, WHEEL_FILENAME).unwrap(),
            expected_metadata()
        );
    }
}

fn metadata_of(name: &str, version: &str) -> String {
    format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
}

#[test]
fn chooses_the_dist_info_named_by_the_filename() {
    let ours = metadata_of("Foo.Bar", "1.0");
    let vendored = metadata_of("other", "2.0");
    let nested = metadata_of("nested", "3.0");
    let wheel = zip_of(
        &[
            ("other-2.0.dist-info/METADATA", vendored.as_bytes()),
            ("foo_bar/x-3.0.dist-info/METADATA", nested.as_bytes()),
            ("Foo.Bar-1.0.dist-info/METADATA", ours.as_bytes()),
        ],
        deflated(),
        false,
    );
    let name = |filename| wheel_metadata(&wheel, filename).map(|metadata| metadata.name);
    assert_eq!(name("foo_bar-1.0-py3-none-any.whl").unwrap(), "Foo.Bar");
    assert_eq!(name("other-2.0-1-py3-none-any.whl").unwrap(), "other");
    let error = name("baz-1.0-py3-none-any.whl").unwrap_err();
    assert_eq!(
        error.to_string(),
        "`baz-1.0-py3-none-any.whl` has several `*.dist-info/METADATA` files and none matches \
         its name and version: other-2.0.dist-info/METADATA, Foo.Bar-1.0.dist-info/METADATA"
    );
}

#[test]
fn falls_back_to_the_only_dist_info() {
    let metadata = metadata_of("foo", "1.0");
    let wheel = zip_of(
        &[("foo-1.0.post0.dist-info/METADATA", metadata.as_bytes())],
        deflated(),
        false,
    );
    let read = wheel_metadata(&wheel, "foo-1.0-py3-none-any.whl").unwrap();
    assert_eq!(read.version, "1.0");
    assert_eq!(
        wheel_metadata(&wheel, "not a wheel name").unwrap().name,
        "foo"
    );
}

#[test]
fn a_wheel_without_metadata_is_an_error() {
    let wheel = zip_of(&[("foo/__init__.py", b"")], deflated(), false);
    let error = wheel_metadata(&wheel, "foo-1.0-py3-none-any.whl").unwrap_err();
    assert!(matches!(error, MetadataError::NoWheelMetadata { .. }));
}

#[test]
fn refuses_metadata_over_the_size_cap() {
    let mut huge = metadata_of("foo", "1.0").into_bytes();
    huge.resize(MAX_METADATA_SIZE as usize + 1, b' ');
    let wheel = zip_of(&[("foo-1.0.dist-info/METADATA", &huge)], deflated(), false);
    let error = wheel_metadata(&wheel, "foo-1.0-py3-none-any.whl").unwrap_err();
    assert_eq!(
        error.to_string(),
        "`foo-1.0.dist-info/METADATA` is 16777217 bytes; core metadata larger than 16777216 \
         bytes is refused"
    );
}

#[test]
fn not_a_zip() {
    let error = wheel_metadata(b"hello", WHEEL_FILENAME).unwrap_err();
    assert_eq!(
        error.to_string(),
        "`demo_pkg-1.2.0-py3-none-any.whl` is not a valid zip archive: no end of central \
         directory record"
    );
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}
