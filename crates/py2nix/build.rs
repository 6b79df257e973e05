//! Computes the digest of the override database the binary embeds (`overrides/`, see
//! `src/overrides.rs`), so that no run hashes it: `PY2NIX_OVERRIDES_DIGEST`, read by
//! `inputs::overrides_digest`. The definition is `inputs::tree_digest`'s (sha256 over
//! `path NUL length NUL bytes` of every file, paths relative to `overrides/` with `/`, in path
//! order); a unit test recomputes it from the embedded files and compares.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

fn main() {
    let manifest_dir = PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    );
    let root = manifest_dir.join("../../overrides");
    println!("cargo:rerun-if-changed=build.rs");
    let mut files = Vec::new();
    walk(&root, &root, &mut files);
    files.sort();
    let mut hasher = Sha256::new();
    for (path, bytes) in &files {
        hasher.update(path.as_bytes());
        hasher.update([0]);
        hasher.update(bytes.len().to_string().as_bytes());
        hasher.update([0]);
        hasher.update(bytes);
    }
    let digest = py2nix_dist::sri("sha256", &hasher.finalize());
    println!("cargo:rustc-env=PY2NIX_OVERRIDES_DIGEST={digest}");
}

/// Every file under `dir` (following links, as `include_dir!` does) as `(path relative to
/// root with `/`, bytes)`; every directory and file is printed for `rerun-if-changed`, so an
/// edit, a new file or a removed one runs this again.
fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    println!("cargo:rerun-if-changed={}", dir.display());
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("failed to read `{}`: {e}", dir.display()));
    for entry in entries {
        let path = entry
            .unwrap_or_else(|e| panic!("failed to read `{}`: {e}", dir.display()))
            .path();
        if path.is_dir() {
            walk(root, &path, out);
        } else {
            println!("cargo:rerun-if-changed={}", path.display());
            let bytes = std::fs::read(&path)
                .unwrap_or_else(|e| panic!("failed to read `{}`: {e}", path.display()));
            let relative = path
                .strip_prefix(root)
                .expect("a file under the root")
                .components()
                .map(|part| part.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            out.push((relative, bytes));
        }
    }
}
