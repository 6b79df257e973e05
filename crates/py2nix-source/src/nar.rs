//! The sha256 of a file system tree's NAR serialisation, the hash Nix calls `narHash` and that
//! fixed-output derivations such as `fetchgit` declare as `hash = "sha256-…"`.
//!
//! The serialisation is written exactly as Nix's `dumpPath` writes it and streamed into the
//! hasher, a file at a time in small chunks, so nothing is held in memory whole:
//!
//! - every string is its length as a little-endian `u64`, its bytes, and zero bytes up to a
//!   multiple of 8;
//! - the archive is `"nix-archive-1"` followed by the root node;
//! - a node is `"(" "type" <kind> … ")"`: a regular file is `"regular"`, then `"executable" ""`
//!   if its owner may execute it (`S_IXUSR`), then `"contents"` and the bytes as one string; a
//!   symbolic link is `"symlink" "target" <target>` (never followed); a directory is
//!   `"directory"` and, for each entry in the byte order of the names,
//!   `"entry" "(" "name" <name> "node" <node> ")"`.
//!
//! Only those three kinds exist in a NAR; a socket, a FIFO or a device is an error.

use std::fs::{self, File, Metadata};
use std::io::{self, Read};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::SourceError;

/// The sha256 of the NAR serialisation of `path` (a file, a directory or a symbolic link).
pub fn nar_sha256(path: &Path) -> Result<[u8; 32], SourceError> {
    let mut hasher = Sha256::new();
    write_string(&mut hasher, b"nix-archive-1");
    write_node(&mut hasher, path)?;
    Ok(hasher.finalize().into())
}

/// The SRI form (`sha256-<base64>`) of [`nar_sha256`], as `nix hash path` prints it.
pub fn nar_sri(path: &Path) -> Result<String, SourceError> {
    Ok(py2nix_dist::sri("sha256", &nar_sha256(path)?))
}

fn write_node(hasher: &mut Sha256, path: &Path) -> Result<(), SourceError> {
    let metadata =
        fs::symlink_metadata(path).map_err(|error| SourceError::io("read", path, error))?;
    write_string(hasher, b"(");
    write_string(hasher, b"type");
    let file_type = metadata.file_type();
    if file_type.is_symlink() {
        write_symlink(hasher, path)?;
    } else if file_type.is_dir() {
        write_directory(hasher, path)?;
    } else if file_type.is_file() {
        write_regular(hasher, path, &metadata)?;
    } else {
        return Err(SourceError::UnsupportedFileType {
            path: path.to_path_buf(),
        });
    }
    write_string(hasher, b")");
    Ok(())
}

fn write_symlink(hasher: &mut Sha256, path: &Path) -> Result<(), SourceError> {
    let target = fs::read_link(path).map_err(|error| SourceError::io("read", path, error))?;
    write_string(hasher, b"symlink");
    write_string(hasher, b"target");
    write_string(hasher, &os_bytes(target.as_os_str()));
    Ok(())
}

fn write_directory(hasher: &mut Sha256, path: &Path) -> Result<(), SourceError> {
    let read_error = |error| SourceError::io("read", path, error);
    let mut names = fs::read_dir(path)
        .map_err(read_error)?
        .map(|entry| entry.map(|entry| entry.file_name()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(read_error)?;
    names.sort_by(|left, right| os_bytes(left).cmp(&os_bytes(right)));
    write_string(hasher, b"directory");
    for name in names {
        write_string(hasher, b"entry");
        write_string(hasher, b"(");
        write_string(hasher, b"name");
        write_string(hasher, &os_bytes(&name));
        write_string(hasher, b"node");
        write_node(hasher, &path.join(&name))?;
        write_string(hasher, b")");
    }
    Ok(())
}

fn write_regular(hasher: &mut Sha256, path: &Path, metadata: &Metadata) -> Result<(), SourceError> {
    let read_error = |error| SourceError::io("read", path, error);
    let file = File::open(path).map_err(read_error)?;
    // The length written must be the length streamed: take it from the open file.
    let length = file.metadata().map_err(read_error)?.len();
    write_string(hasher, b"regular");
    if is_executable(metadata) {
        write_string(hasher, b"executable");
        write_string(hasher, b"");
    }
    write_string(hasher, b"contents");
    hasher.update(length.to_le_bytes());
    let mut limited = file.take(length);
    let copied = io::copy(&mut limited, hasher).map_err(read_error)?;
    let mut probe = [0u8; 1];
    let grown = limited.into_inner().read(&mut probe).map_err(read_error)? != 0;
    if copied != length || grown {
        return Err(SourceError::FileChanged {
            path: path.to_path_buf(),
        });
    }
    write_padding(hasher, length);
    Ok(())
}

fn write_string(hasher: &mut Sha256, bytes: &[u8]) {
    let length = bytes.len() as u64;
    hasher.update(length.to_le_bytes());
    hasher.update(bytes);
    write_padding(hasher, length);
}

fn write_padding(hasher: &mut Sha256, length: u64) {
    let padding = (8 - length % 8) % 8;
    hasher.update(&[0u8; 8][..padding as usize]);
}

#[cfg(unix)]
fn is_executable(metadata: &Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    metadata.permissions().mode() & 0o100 != 0
}

#[cfg(not(unix))]
fn is_executable(_metadata: &Metadata) -> bool {
    false
}

#[cfg(unix)]
fn os_bytes(name: &std::ffi::OsStr) -> std::borrow::Cow<'_, [u8]> {
    use std::os::unix::ffi::OsStrExt;
    std::borrow::Cow::Borrowed(name.as_bytes())
}

#[cfg(not(unix))]
fn os_bytes(name: &std::ffi::OsStr) -> std::borrow::Cow<'_, [u8]> {
    match name.to_string_lossy() {
        std::borrow::Cow::Borrowed(text) => std::borrow::Cow::Borrowed(text.as_bytes()),
        std::borrow::Cow::Owned(text) => std::borrow::Cow::Owned(text.into_bytes()),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::os::unix::fs::{symlink, PermissionsExt};
    use std::path::Path;
    use std::process::Command;

    use super::*;

    pub(crate) const NIX_CONFIG: &str =
        "build-users-group =\nsandbox = false\nexperimental-features = nix-command flakes";

    /// Runs a Nix command and returns its trimmed stdout; fails the test if Nix is missing.
    pub(crate) fn nix(program: &str, args: &[&str]) -> String {
        nix_with_env(program, args, &[])
    }

    /// [`nix`] with extra environment variables.
    pub(crate) fn nix_with_env(
        program: &str,
        args: &[&str],
        env: &[(&str, &std::ffi::OsStr)],
    ) -> String {
        let output = Command::new(program)
            .args(args)
            .env("NIX_CONFIG", NIX_CONFIG)
            .envs(env.iter().copied())
            .output()
            .unwrap_or_else(|error| panic!("`{program}` is required by this test: {error}"));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "`{program} {args:?}` failed: {stderr}"
        );
        String::from_utf8(output.stdout).unwrap().trim().to_string()
    }

    /// Checks `nar_sha256` against `nix-hash --type sha256` (Nix 2.8's nix-hash has no `--sri`)
    /// and `nar_sri` against `nix hash path`.
    pub(crate) fn assert_matches_nix(path: &Path) {
        let path_text = path.to_str().unwrap();
        let expected_hex = nix("nix-hash", &["--type", "sha256", path_text]);
        assert_eq!(hex::encode(nar_sha256(path).unwrap()), expected_hex);
        let expected_sri = nix("nix", &["hash", "path", "--type", "sha256", path_text]);
        assert_eq!(nar_sri(path).unwrap(), expected_sri);
    }

    fn write(path: &Path, contents: &[u8], mode: u32) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, contents).unwrap();
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
    }

    /// Deterministic, incompressible-looking bytes whose length is not a multiple of 8.
    fn large_contents() -> Vec<u8> {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        (0..(3 << 20) + 5)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect()
    }

    #[test]
    fn tree_of_every_kind_matches_nix_hash() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(&root.join("README"), b"hello\n", 0o644);
        write(&root.join("empty"), b"", 0o644);
        write(&root.join("eight-bytes"), b"12345678", 0o644);
        write(&root.join("bin/run.sh"), b"#!/bin/sh\necho hi\n", 0o755);
        write(&root.join("bin/owner-only-exec"), b"x", 0o700);
        write(&root.join("bin/group-exec-only"), b"x", 0o654);
        write(&root.join("a/b/c/deep.txt"), b"deep", 0o644);
        fs::create_dir_all(root.join("empty-dir/nested-empty")).unwrap();
        symlink("README", root.join("link")).unwrap();
        symlink("a/b", root.join("dir-link")).unwrap();
        symlink("does/not/exist", root.join("dangling")).unwrap();
        write(&root.join("large.bin"), &large_contents(), 0o644);
        assert_matches_nix(root);
    }

    #[test]
    fn names_sort_by_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        // Upper case before `_` before lower case; `a-b` < `a.b` < `ab`; UTF-8 and non-UTF-8
        // bytes after ASCII.
        for name in ["B", "_", "a", "a-b", "a.b", "ab", "Z9", "ä", "é", "10", "9"] {
            write(&root.join(name), name.as_bytes(), 0o644);
        }
        {
            use std::os::unix::ffi::OsStrExt;
            let raw = std::ffi::OsStr::from_bytes(b"\xff\xfe-not-utf8");
            write(&root.join(raw), b"raw", 0o644);
        }
        assert_matches_nix(root);
    }

    #[test]
    fn single_file_and_symlink_roots_match_nix_hash() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file.txt");
        write(&file, b"a single file, not a multiple of eight", 0o644);
        assert_matches_nix(&file);
        let executable = dir.path().join("tool");
        write(&executable, b"#!/bin/sh\n", 0o755);
        assert_matches_nix(&executable);
        let large = dir.path().join("large.bin");
        write(&large, &large_contents(), 0o644);
        assert_matches_nix(&large);
        let link = dir.path().join("link");
        symlink("file.txt", &link).unwrap();
        assert_matches_nix(&link);
    }

    #[test]
    fn known_hash_of_a_small_file() {
        // `echo hi > a; nix hash path a` with Nix 2.8.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a");
        write(&file, b"hi\n", 0o644);
        assert_eq!(
            nar_sri(&file).unwrap(),
            "sha256-EFUdrtf6Rn0LWIJufrmg8q99aT3jGfLvd1//zaJEufY="
        );
    }

    #[test]
    fn socket_is_an_error_naming_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("server.sock");
        let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
        let error = nar_sha256(dir.path()).unwrap_err();
        assert!(matches!(error, SourceError::UnsupportedFileType { .. }));
        assert_eq!(
            error.to_string(),
            format!(
                "`{}` is not a regular file, a directory or a symbolic link, so it has no NAR \
                 serialisation",
                socket.display()
            )
        );
    }

    #[test]
    fn missing_path_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        let error = nar_sri(&missing).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!("failed to read `{}`", missing.display())
        );
    }
}
