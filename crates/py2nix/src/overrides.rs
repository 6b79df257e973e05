//! The override database, embedded in the binary from the repository's `overrides/`.

use include_dir::{include_dir, Dir, DirEntry};
use py2nix_overrides::{OverrideDb, OverrideError};

static OVERRIDES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../../overrides");

/// Loads the embedded database (checked by the tests, so a failure here is a build defect).
pub fn embedded() -> Result<OverrideDb, OverrideError> {
    let mut files = Vec::new();
    collect(&OVERRIDES, &mut files);
    OverrideDb::from_files(files)
}

fn collect(dir: &Dir<'static>, out: &mut Vec<(String, &'static str)>) {
    for entry in dir.entries() {
        match entry {
            DirEntry::Dir(sub) => collect(sub, out),
            DirEntry::File(file) => {
                let path = file.path().to_string_lossy().replace('\\', "/");
                // Only text matters for the database; a non-UTF-8 file (a binary patch) is kept
                // as empty text so the layout check still sees it.
                out.push((path, file.contents_utf8().unwrap_or("")));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_embedded_database_loads_and_has_pillow() {
        let db = super::embedded().unwrap();
        let pillow = db.lookup("pillow", &"11.0.0".parse().unwrap()).unwrap();
        for input in [
            "libjpeg", "zlib", "freetype", "lcms2", "libtiff", "libwebp", "openjpeg", "tcl",
        ] {
            assert!(
                pillow.build_inputs.iter().any(|i| i == input),
                "pillow lacks {input}"
            );
        }
        assert!(pillow.native_build_inputs.iter().any(|i| i == "pkg-config"));
    }
}
