//! Hashes in the SRI form Nix uses (`sha256-<base64>`), from hex and back.

use base64::Engine;
use sha2::{Digest, Sha256};

const BASE64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// `<algorithm>-<base64 of digest>`, the SRI form.
///
/// ```
/// assert_eq!(py2nix_dist::sri("sha256", &[0; 32]), format!("sha256-{}=", "A".repeat(43)));
/// ```
pub fn sri(algorithm: &str, digest: &[u8]) -> String {
    format!("{algorithm}-{}", BASE64.encode(digest))
}

/// The SRI sha256 of `bytes`.
pub fn sha256_sri(bytes: &[u8]) -> String {
    sri("sha256", &Sha256::digest(bytes))
}

/// `<algorithm>:<hex>` (as locks and indexes write hashes) in SRI form; an error names the
/// hex that does not decode.
pub fn sri_of_hex(algorithm: &str, hex: &str) -> Result<String, String> {
    let digest = hex::decode(hex).map_err(|e| format!("hash `{hex}`: {e}"))?;
    Ok(sri(algorithm, &digest))
}

/// The algorithm and lower-case hex digest of an SRI hash, if it is one (the base64 must
/// decode; its length is not checked against the algorithm).
pub fn hex_of_sri(sri: &str) -> Option<(&str, String)> {
    let (algorithm, base64) = sri.split_once('-')?;
    if algorithm.is_empty() || !algorithm.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let digest = BASE64.decode(base64).ok()?;
    Some((algorithm, hex::encode(digest)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_sri_convert_both_ways() {
        // sha256 of the empty string, as `nix hash to-sri` prints it.
        let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let empty_sri = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
        let cases = [
            ("sha256", empty, empty_sri),
            (
                "sha256",
                &"00".repeat(32),
                &format!("sha256-{}=", "A".repeat(43)),
            ),
            (
                "sha512",
                &"ff".repeat(64),
                &format!("sha512-{}w==", "/".repeat(85)),
            ),
        ];
        for (algorithm, hex, expected) in cases {
            assert_eq!(sri_of_hex(algorithm, hex).as_deref(), Ok(expected), "{hex}");
            assert_eq!(hex_of_sri(expected), Some((algorithm, hex.to_string())));
        }
        assert_eq!(sha256_sri(b""), empty_sri);
        assert_eq!(
            sri_of_hex("sha256", &empty.to_ascii_uppercase()).as_deref(),
            Ok(empty_sri)
        );
    }

    #[test]
    fn bad_hashes_are_refused() {
        assert!(sri_of_hex("sha256", "xyz").unwrap_err().contains("`xyz`"));
        assert!(sri_of_hex("sha256", "abc").is_err());
        for bad in ["sha256", "sha256-not base64!", "-AAAA", "sha 256-AAAA", ""] {
            assert_eq!(hex_of_sri(bad), None, "{bad}");
        }
    }
}
