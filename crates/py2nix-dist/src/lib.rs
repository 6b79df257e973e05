//! Distribution names, distribution file names and SRI hashes, each decided in one place.
//!
//! A leaf crate (no I/O, nothing of py2nix's model): PEP 503 names ([`normalize_name`]),
//! wheel file names (PEP 427, [`WheelName`], [`WheelFilename`]), sdist file names and the one
//! list of their extensions ([`SDIST_EXTENSIONS`]), the version a file name carries
//! ([`filename_version`]), "is this a Linux binary wheel" ([`is_linux_binary_wheel`]) and the
//! SRI form of hashes Nix uses ([`sri`]). Every other crate calls these instead of keeping a
//! copy, so that two readings of the same name cannot disagree.

mod filename;
mod hash;
mod name;

pub use filename::{
    check_filename, filename_version, is_distribution_filename, is_linux_binary_wheel, is_wheel,
    sdist_preference, split_sdist_extension, unnamed_filename_version, WheelFilename, WheelName,
    SDIST_EXTENSIONS,
};
pub use hash::{hex_of_sri, sha256_sri, sri, sri_of_hex};
pub use name::{is_normalized, names_equal, normalize_name};
