//! Range-request reading: `locate_metadata_in_tail` and `read_member` agree with whole-file
//! reading for any tail length, ask for the right earlier bytes, and never panic.

use py2nix_source::{
    locate_metadata_in_tail, member_fetch_len, read_member, wheel_metadata, zip_tail_request_len,
    Member, MetadataError, TailResult,
};

use crate::support::{
    central_directory_start, deflated, demo_wheel, expected_metadata, hand_made_zip64,
    pseudo_random, stored, via_tail, zip_of, METADATA, WHEEL_FILENAME,
};

#[test]
fn any_tail_length_gives_the_whole_file_result() {
    let wheels = [
        demo_wheel(deflated()),
        demo_wheel(stored()),
        hand_made_zip64(&[
            ("demo_pkg/__init__.py", b"x = 1\n"),
            ("demo_pkg-1.2.0.dist-info/METADATA", METADATA.as_bytes()),
        ]),
        zip_of(
            &[("demo_pkg-1.2.0.dist-info/METADATA", METADATA.as_bytes())],
            deflated().large_file(true),
            true,
        ),
    ];
    for wheel in &wheels {
        let whole = wheel_metadata(wheel, WHEEL_FILENAME).unwrap();
        assert_eq!(whole, expected_metadata());
        for tail_len in (0..=wheel.len() as u64).chain([zip_tail_request_len()]) {
            let (metadata, _) = via_tail(wheel, tail_len, WHEEL_FILENAME).unwrap();
            assert_eq!(metadata, whole, "tail of {tail_len} bytes");
        }
    }
}

#[test]
fn a_tail_shorter_than_the_central_directory_asks_for_its_start() {
    let wheel = demo_wheel(deflated());
    let file_len = wheel.len() as u64;
    let start = central_directory_start(&wheel);
    let tail = &wheel[wheel.len() - 40..];
    assert_eq!(
        locate_metadata_in_tail(tail, file_len, WHEEL_FILENAME).unwrap(),
        TailResult::NeedMore { start }
    );
    let TailResult::Member(member) =
        locate_metadata_in_tail(&wheel[start as usize..], file_len, WHEEL_FILENAME).unwrap()
    else {
        panic!("no member");
    };
    assert_eq!(member.name, "demo_pkg-1.2.0.dist-info/METADATA");
    assert_eq!(member.method, 8);
    assert_eq!(member.uncompressed_size, METADATA.len() as u64);
}

#[test]
fn a_tail_without_the_end_record_asks_for_the_longest_comment() {
    let wheel = demo_wheel(deflated());
    let file_len = wheel.len() as u64;
    let result = locate_metadata_in_tail(&wheel[wheel.len() - 10..], file_len, WHEEL_FILENAME);
    assert_eq!(result.unwrap(), TailResult::NeedMore { start: 0 });
}

#[test]
fn zip64_records_outside_the_tail_are_asked_for_in_turn() {
    let wheel = hand_made_zip64(&[("demo_pkg-1.2.0.dist-info/METADATA", METADATA.as_bytes())]);
    let (_, requests) = via_tail(&wheel, 22, WHEEL_FILENAME).unwrap();
    // End record -> locator -> ZIP64 end record -> central directory -> member.
    assert_eq!(requests, 4);
}

#[test]
fn a_short_member_fetch_says_how_many_bytes_are_needed() {
    let wheel = demo_wheel(deflated());
    let member = locate(&wheel);
    let from = member.local_header_offset as usize;
    let fetched = &wheel[from..];
    let exact = 30 + member.name.len() + member.compressed_size as usize;
    assert!(member_fetch_len(&member) as usize >= exact);
    assert_eq!(
        read_member(&fetched[..exact], &member).unwrap(),
        METADATA.as_bytes()
    );
    let error = read_member(&fetched[..exact - 1], &member).unwrap_err();
    assert!(
        matches!(error, MetadataError::MemberTruncated { needed, have, .. }
            if needed == exact as u64 && have == exact as u64 - 1),
        "{error:?}"
    );
    for cut in 0..exact {
        assert!(read_member(&fetched[..cut], &member).is_err());
    }
}

#[test]
fn a_wrong_offset_or_corrupt_data_is_an_error() {
    let wheel = demo_wheel(stored());
    let member = locate(&wheel);
    let from = member.local_header_offset as usize;
    let error = read_member(&wheel[from + 1..], &member).unwrap_err();
    assert_eq!(
        error.to_string(),
        "`demo_pkg-1.2.0.dist-info/METADATA` is corrupt: no local file header at its offset"
    );
    let mut corrupt = wheel.clone();
    let data_start = from + 30 + member.name.len();
    corrupt[data_start + 3] ^= 0x20;
    let error = read_member(&corrupt[from..], &member).unwrap_err();
    assert_eq!(
        error.to_string(),
        "`demo_pkg-1.2.0.dist-info/METADATA` is corrupt: CRC-32 mismatch"
    );
}

#[test]
fn a_tail_longer_than_the_file_is_an_error() {
    let wheel = demo_wheel(deflated());
    let result = locate_metadata_in_tail(&wheel, wheel.len() as u64 - 1, WHEEL_FILENAME);
    assert!(matches!(result, Err(MetadataError::Zip { .. })));
}

/// Every truncation, and byte flips, of valid wheels give results or errors, never panics.
#[test]
fn truncated_and_damaged_wheels_do_not_panic() {
    let wheels = [
        demo_wheel(deflated()),
        hand_made_zip64(&[("demo_pkg-1.2.0.dist-info/METADATA", METADATA.as_bytes())]),
    ];
    for wheel in &wheels {
        let file_len = wheel.len() as u64;
        for cut in 0..wheel.len() {
            assert!(wheel_metadata(&wheel[..cut], WHEEL_FILENAME).is_err());
            let _ = wheel_metadata(&wheel[cut..], WHEEL_FILENAME);
            let _ = locate_metadata_in_tail(&wheel[cut..], file_len, WHEEL_FILENAME);
            let _ = locate_metadata_in_tail(&wheel[cut..], u64::MAX, WHEEL_FILENAME);
            let _ = locate_metadata_in_tail(&wheel[..cut], file_len, WHEEL_FILENAME);
        }
        let mut random = pseudo_random(7);
        for _ in 0..3000 {
            let mut damaged = wheel.clone();
            for _ in 0..1 + random.next().unwrap() % 4 {
                let at = random.next().unwrap() as usize % damaged.len();
                damaged[at] = random.next().unwrap() as u8;
            }
            let _ = wheel_metadata(&damaged, WHEEL_FILENAME);
            for tail_len in [22, 200, damaged.len() as u64] {
                let _ = try_via_tail(&damaged, tail_len);
            }
        }
    }
}

/// `via_tail` without its assertions, for damaged input.
fn try_via_tail(bytes: &[u8], tail_len: u64) -> Option<Vec<u8>> {
    let file_len = bytes.len() as u64;
    let mut start = file_len.saturating_sub(tail_len);
    for _ in 0..10 {
        match locate_metadata_in_tail(&bytes[start as usize..], file_len, WHEEL_FILENAME).ok()? {
            TailResult::NeedMore { start: earlier } => {
                assert!(earlier < start);
                start = earlier;
            }
            TailResult::Member(member) => {
                let from = usize::try_from(member.local_header_offset)
                    .ok()
                    .filter(|from| *from <= bytes.len())?;
                return read_member(&bytes[from..], &member).ok();
            }
        }
    }
    None
}

fn locate(wheel: &[u8]) -> Member {
    match locate_metadata_in_tail(wheel, wheel.len() as u64, WHEEL_FILENAME).unwrap() {
        TailResult::Member(member) => member,
        TailResult::NeedMore { .. } => panic!("the whole file needs nothing more"),
    }
}
