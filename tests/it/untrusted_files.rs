//! Untrusted files reach no secret, no file and no unbounded memory (docs/security.md): each
//! test is one attack with a malicious file, run through the real binary, asserting the
//! message, the exit code and that no output file was written.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use crate::common::{fixture, py2nix_with_env, repo_root, stderr, IndexServer, Mode};
use crate::network::run_bounded;

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

fn sha256_hex(bytes: &[u8]) -> String {
    let digest = sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix(bytes));
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A uv project whose virtual root depends on one member with `source` (uv.lock syntax).
fn uv_project(dir: &Path, name: &str, version: &str, source: &str) {
    write(
        &dir.join("pyproject.toml"),
        &format!(
            "[project]\nname = \"app\"\nversion = \"0.1.0\"\nrequires-python = \">=3.11\"\ndependencies = [\"{name}\"]\n\n[tool.uv]\npackage = false\n"
        ),
    );
    write(
        &dir.join("uv.lock"),
        &format!(
            "version = 1\nrevision = 3\nrequires-python = \">=3.11\"\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\nsource = {{ virtual = \".\" }}\ndependencies = [\n    {{ name = \"{name}\" }},\n]\n\n[[package]]\nname = \"{name}\"\nversion = \"{version}\"\nsource = {source}\n"
        ),
    );
}

/// `py2nix lock DIR -o DIR/python.nix` for x86_64-linux and CPython 3.12, under `ulimit -v`
/// of `memory_kib`, bounded in time.
fn lock_limited(project: &Path, server: &IndexServer, memory_kib: u64, extra: &[&str]) -> Output {
    let cache = tempfile::tempdir().expect("tempdir");
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(format!("ulimit -v {memory_kib}; exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_py2nix"))
        .args(["lock", project.to_str().expect("utf-8"), "-o"])
        .arg(project.join("python.nix"))
        .args(["--system", "x86_64-linux", "--python", "3.12"])
        .args(extra)
        .env("PY2NIX_INDEX_URL", &server.url)
        .env("PY2NIX_CACHE_DIR", cache.path())
        .env("NETRC", cache.path().join("none"))
        .env_remove("XDG_CACHE_HOME");
    run_bounded(command, Duration::from_secs(120))
}

fn assert_refused(output: &Output, project: &Path, fragments: &[&str]) {
    let text = stderr(output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    for fragment in fragments {
        assert!(text.contains(fragment), "no `{fragment}` in:\n{text}");
    }
    assert!(
        !project.join("python.nix").exists(),
        "an output file was written"
    );
}

/// A tar header block: `name`, type `kind`, `size` in octal, with its checksum.
fn tar_header(name: &str, kind: u8, size: u64) -> Vec<u8> {
    let mut block = vec![0u8; 512];
    block[..name.len()].copy_from_slice(name.as_bytes());
    block[100..107].copy_from_slice(b"0000644");
    block[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
    block[156] = kind;
    block[257..263].copy_from_slice(b"ustar ");
    block[263..265].copy_from_slice(b" \0");
    block[148..156].copy_from_slice(b"        ");
    let sum: u64 = block.iter().map(|&b| u64::from(b)).sum();
    block[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    block
}

/// Finding 3: a 1 GiB GNU long name (or PAX header) in a 1 MB sdist. It is refused when its
/// header is read, in a process limited to about 300 MB of address space (under a third of
/// the header) and in seconds.
#[test]
fn an_sdist_with_a_huge_long_name_or_pax_header_is_refused_in_bounded_memory() {
    let server = IndexServer::start(Mode::Html);
    for (kind, label) in [(b'L', "long name"), (b'x', "PAX")] {
        let work = tempfile::tempdir().expect("tempdir");
        let project = work.path();
        let header = project.join("header.bin");
        std::fs::write(&header, tar_header("././@LongLink", kind, 1 << 30)).expect("write");
        let sdist = project.join("dist/bomb-1.0.tar.gz");
        std::fs::create_dir_all(sdist.parent().expect("parent")).expect("mkdir");
        let status = Command::new("sh")
            .arg("-c")
            .arg("(cat \"$0\"; head -c 1073741824 /dev/zero) | gzip -1 > \"$1\"")
            .arg(&header)
            .arg(&sdist)
            .status()
            .expect("gzip");
        assert!(status.success());
        let bytes = std::fs::read(&sdist).expect("read");
        assert!(bytes.len() < 8 << 20, "{label}: {} bytes", bytes.len());
        let hex = sha256_hex(&bytes);
        uv_project(
            project,
            "bomb",
            "1.0",
            &format!(
                "{{ path = \"dist/bomb-1.0.tar.gz\" }}\nsdist = {{ hash = \"sha256:{hex}\" }}"
            ),
        );
        let started = std::time::Instant::now();
        let output = lock_limited(project, &server, 300_000, &[]);
        assert_refused(
            &output,
            project,
            &[
                "bomb-1.0.tar.gz",
                "1073741824 bytes",
                "PY2NIX_ARCHIVE_MAX_HEADER",
            ],
        );
        assert!(started.elapsed() < Duration::from_secs(60), "{label}");
    }
}

/// The project of the user-overrides tests (flask and pillow, Poetry), copied to `dir` with
/// `[tool.py2nix] overrides = "<overrides>"`.
fn overrides_project(dir: &Path, overrides: &str) {
    let source = fixture("flask-pillow");
    let pyproject = std::fs::read_to_string(source.join("pyproject.toml")).expect("pyproject");
    write(
        &dir.join("pyproject.toml"),
        &format!("{pyproject}\n[tool.py2nix]\noverrides = \"{overrides}\"\n"),
    );
    std::fs::copy(source.join("poetry.lock"), dir.join("poetry.lock")).expect("copy");
}

const PILLOW_OVERRIDE: &str =
    "schema-version = 1\n[[rule]]\nversions = \">=0\"\npatches = [\"fix.patch\"]\n";

/// Finding 4: an overrides directory cannot reach another file of the machine: a patch that
/// is a link to /etc/passwd, a FIFO, /dev/zero, or a directory outside the project.
#[test]
fn an_overrides_directory_reads_only_its_own_regular_files() {
    let server = IndexServer::start(Mode::Html);
    let attacks: [(&str, &dyn Fn(&Path), &[&str]); 4] = [
        (
            "link to /etc/passwd",
            &|patch| std::os::unix::fs::symlink("/etc/passwd", patch).expect("symlink"),
            &[
                "fix.patch",
                "symbolic link to `/etc/passwd`, outside the overrides directory",
            ],
        ),
        (
            "FIFO",
            &|patch| {
                let status = Command::new("mkfifo").arg(patch).status().expect("mkfifo");
                assert!(status.success());
            },
            &["fix.patch", "is not a regular file"],
        ),
        (
            "/dev/zero",
            &|patch| std::os::unix::fs::symlink("/dev/zero", patch).expect("symlink"),
            &["fix.patch", "outside the overrides directory"],
        ),
        (
            "a huge patch",
            &|patch| {
                std::fs::File::create(patch)
                    .and_then(|f| f.set_len(1 << 30))
                    .expect("sparse file")
            },
            &["fix.patch", "larger than 1048576 bytes"],
        ),
    ];
    for (label, make, fragments) in attacks {
        let work = tempfile::tempdir().expect("tempdir");
        let project = work.path();
        overrides_project(project, "ov");
        write(&project.join("ov/pi/pillow/override.toml"), PILLOW_OVERRIDE);
        make(&project.join("ov/pi/pillow/fix.patch"));
        let started = std::time::Instant::now();
        let output = lock_limited(project, &server, 300_000, &[]);
        assert_refused(&output, project, fragments);
        assert!(!stderr(&output).contains("root:x:0"), "{label}");
        assert!(started.elapsed() < Duration::from_secs(60), "{label}");
    }
    // A directory outside the project, named by the project: refused, named in the message.
    let work = tempfile::tempdir().expect("tempdir");
    let project = work.path().join("app");
    overrides_project(&project, "../../../../../../../../etc/ssl");
    let output = lock_limited(&project, &server, 1_000_000, &[]);
    assert_refused(
        &output,
        &project,
        &[
            "[tool.py2nix] overrides",
            "outside the project directory",
            "--allow-outside-paths",
        ],
    );
}

/// Finding 5: a lock's local path source outside the project is refused unless the user
/// allows it; allowed, it is planned.
#[test]
fn a_local_path_outside_the_project_needs_the_flag() {
    let server = IndexServer::start(Mode::Html);
    let work = tempfile::tempdir().expect("tempdir");
    let secret = work.path().join("home/.ssh");
    write(&secret.join("id_ed25519"), "PRIVATE KEY");
    write(
        &secret.join("pyproject.toml"),
        "[build-system]\nrequires = [\"setuptools\"]\nbuild-backend = \"setuptools.build_meta\"\n\n[project]\nname = \"keys\"\nversion = \"1.0\"\n",
    );
    let project = work.path().join("app");
    uv_project(
        &project,
        "keys",
        "1.0",
        &format!("{{ directory = \"{}\" }}", secret.display()),
    );
    let output = lock_limited(&project, &server, 4_000_000, &[]);
    assert_refused(
        &output,
        &project,
        &[
            "keys",
            "outside the project directory",
            "--allow-outside-paths",
        ],
    );
    let output = lock_limited(&project, &server, 4_000_000, &["--allow-outside-paths"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = std::fs::read_to_string(project.join("python.nix")).expect("python.nix");
    assert!(text.contains("home/.ssh"), "the path is planned");
}

/// Finding 8: control characters and newlines in names from a lock reach stderr escaped, and
/// cannot start a line of their own.
#[test]
fn control_characters_in_names_are_escaped_in_messages() {
    let server = IndexServer::start(Mode::Html);
    let work = tempfile::tempdir().expect("tempdir");
    let project = work.path();
    uv_project(
        project,
        "evil",
        "1.0",
        "{ path = \"dist/\\u001b[31mred\\u0007\\nerror: forged.tar.gz\" }\nsdist = { hash = \"sha256:0000000000000000000000000000000000000000000000000000000000000000\" }",
    );
    let output = lock_limited(project, &server, 4_000_000, &[]);
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "{text:?}"
    );
    assert!(text.contains("\\u{1b}[31mred\\u{7}"), "{text}");
    assert!(
        text.lines().all(|line| !line.starts_with("error: forged")),
        "{text}"
    );
    assert!(!project.join("python.nix").exists());
}

/// Finding 9: a file name with `/` or `..` from the lock is refused, naming the package.
#[test]
fn file_names_that_are_paths_are_refused() {
    let server = IndexServer::start(Mode::Html);
    let corpus = repo_root().join("tests/corpus/poetry");
    let valid = std::fs::read_to_string(corpus.join("valid.lock")).expect("valid.lock");
    for bad in [
        "../../alpha-1.0-py3-none-any.whl",
        "x/alpha-1.0-py3-none-any.whl",
    ] {
        let work = tempfile::tempdir().expect("tempdir");
        let project = work.path();
        std::fs::copy(
            corpus.join("pyproject.toml"),
            project.join("pyproject.toml"),
        )
        .expect("copy");
        write(
            &project.join("poetry.lock"),
            &valid.replace("alpha-1.0-py3-none-any.whl", bad),
        );
        let output = lock_limited(project, &server, 4_000_000, &["--frozen"]);
        assert_refused(
            &output,
            project,
            &["package `alpha`", "a file name is one path component"],
        );
    }
}

/// Finding 11: `check` and `diff` on a python.nix nested 100,000 deep, by each construct rnix's
/// parser recurses on (brackets, keywords, lambdas, prefix and right-associative operators,
/// selection defaults, lists that nest past their brackets), end with exit code 1 and a message
/// naming the file, the line and the column, not a stack overflow (an abort); a long run of
/// path characters (quadratic in rnix's tokenizer) is refused the same way.
#[test]
fn python_nix_nested_100_000_deep_is_a_clear_error() {
    let deep = 100_000;
    let constructs: [(&str, &str, &str); 22] = [
        ("lambda", "a: ", ""),
        ("let", "let a = 1; in ", ""),
        ("let binding", "let a = ", "; in a"),
        ("with", "with a; ", ""),
        ("assert", "assert a; ", ""),
        ("if", "if a then 1 else ", ""),
        ("negation", "- ", ""),
        ("not", "! ", ""),
        ("concatenation", "x ++ ", ""),
        ("update", "x // ", ""),
        ("implication", "x -> ", ""),
        ("pipe", "x <| ", ""),
        ("default", "x.a or ", ""),
        ("parentheses", "(", ")"),
        ("list", "[ ", " ]"),
        ("set", "{ a = ", "; }"),
        ("interpolation", "\"${", "}\""),
        ("dynamic attribute", "{ ${", "} = 1; }"),
        ("pattern default", "{ a ? ", " }: 1"),
        ("inherit from", "{ inherit (", ") a; }"),
        (
            "lists past their brackets",
            "[ ( { x . y } ) ] = 1 ; { x = 1 ; } ; ",
            "",
        ),
        ("path characters", "-", ""),
    ];
    let work = tempfile::tempdir().expect("tempdir");
    let cache = tempfile::tempdir().expect("tempdir");
    for (label, open, close) in constructs {
        let file = work.path().join(format!("{}.nix", label.replace(' ', "-")));
        std::fs::write(
            &file,
            format!(
                "# @generated by py2nix 0.1.0\n{{ pkgs }}: let plan = {{ schema = 1; }}; x = {}1{}; in plan\n",
                open.repeat(deep),
                close.repeat(deep)
            ),
        )
        .expect("write");
        let path = file.to_str().expect("utf-8");
        for args in [vec!["check", "--file", path], vec!["diff", path, path]] {
            let output = py2nix_with_env(&args, cache.path(), &[], None);
            let text = stderr(&output);
            assert_eq!(output.status.code(), Some(1), "{label} {args:?}: {text}");
            assert!(output.stdout.is_empty(), "{label} {args:?}");
            assert!(text.contains(path), "{label} {args:?}: {text}");
            assert!(text.contains("line 2, column "), "{label} {args:?}: {text}");
            assert!(
                [
                    "nests brackets deeper than 256",
                    "nests expressions deeper than 512",
                    "more than 65536 of the tokens",
                    "more than 1024 characters in a row",
                ]
                .iter()
                .any(|limit| text.contains(limit)),
                "{label} {args:?}: {text}"
            );
        }
    }
}

/// Finding 11: a `-r` include of /proc/self/environ echoes no secret.
#[test]
fn pseudo_file_includes_are_clear_errors() {
    let work = tempfile::tempdir().expect("tempdir");
    let cache = tempfile::tempdir().expect("tempdir");
    let project = work.path().join("req");
    write(&project.join("requirements.txt"), "-r /proc/self/environ\n");
    let secret = "s3cret-token-for-the-test";
    let output = py2nix_with_env(
        &["lock", project.to_str().expect("utf-8"), "--offline"],
        cache.path(),
        &[("PY2NIX_TEST_SECRET", secret)],
        None,
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(!stderr(&output).contains(secret), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("is outside the project directory"),
        "{}",
        stderr(&output)
    );
    // Allowed outside the project, it is still refused unread: not a regular file.
    let output = py2nix_with_env(
        &[
            "lock",
            project.to_str().expect("utf-8"),
            "--offline",
            "--allow-outside-paths",
        ],
        cache.path(),
        &[("PY2NIX_TEST_SECRET", secret)],
        None,
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(!stderr(&output).contains(secret), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("is not a regular file"),
        "{}",
        stderr(&output)
    );
}

/// A requirements file's `-r`/`-c` include outside the project (by `..`, an absolute path or
/// a symbolic link) is refused before it is read, so no line of it reaches a message; inside
/// the directory of the file the user named it is read; `--allow-outside-paths` allows the
/// rest, for `lock` and `diff` alike.
#[test]
fn requirements_includes_outside_the_project_need_the_flag() {
    let work = tempfile::tempdir().expect("tempdir");
    let secret = "AKIA-s3cret-line-Zq9";
    write(
        &work.path().join("home/.aws/credentials"),
        &format!("[default]\naws_secret_access_key={secret}\n"),
    );
    let project = work.path().join("app");
    std::fs::create_dir_all(&project).expect("mkdir");
    std::os::unix::fs::symlink("../home/.aws/credentials", project.join("linked.txt"))
        .expect("symlink");
    let absolute = work.path().join("home/.aws/credentials");
    let cache = tempfile::tempdir().expect("tempdir");
    let output_file = project.join("python.nix");
    let project_arg = project.to_str().expect("utf-8");
    let output_arg = output_file.to_str().expect("utf-8");
    for include in [
        "-r ../home/.aws/credentials".to_string(),
        format!("-c {}", absolute.display()),
        "-r linked.txt".to_string(),
    ] {
        write(&project.join("requirements.txt"), &format!("{include}\n"));
        let lock = |extra: &[&str]| {
            let mut args = vec!["lock", project_arg, "--offline", "-o", output_arg];
            args.extend(extra);
            py2nix_with_env(&args, cache.path(), &[], None)
        };
        let output = lock(&[]);
        let text = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{include}: {text}");
        let name = include.split_once(' ').expect("option").1;
        for fragment in [
            format!("requirements.txt:1:4: cannot include `{name}`"),
            "is outside the project directory".to_string(),
            "--allow-outside-paths".to_string(),
        ] {
            assert!(
                text.contains(&fragment),
                "{include}: no `{fragment}` in {text}"
            );
        }
        assert!(!text.contains(secret), "{include}: {text}");
        assert!(!output_file.exists(), "an output file was written");

        // Allowed, the file is read (and, not being a requirements file, fails to parse),
        // and the message names the line without quoting it.
        let output = lock(&["--allow-outside-paths"]);
        let text = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{include}: {text}");
        assert!(
            text.contains(
                ":2:22: this line is not one py2nix reads as it is (its text is not shown"
            ),
            "{include}: {text}"
        );
        assert!(!text.contains(secret), "{include}: {text}");
        assert!(!output_file.exists(), "an output file was written");

        // `diff` reads requirements files by the same rule.
        let requirements = project.join("requirements.txt");
        let requirements = requirements.to_str().expect("utf-8");
        let output = py2nix_with_env(
            &["diff", requirements, requirements],
            cache.path(),
            &[],
            None,
        );
        let text = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{include}: {text}");
        assert!(text.contains("is outside the project directory"), "{text}");
        assert!(!text.contains(secret), "{include}: {text}");
        let output = py2nix_with_env(
            &["diff", requirements, requirements, "--allow-outside-paths"],
            cache.path(),
            &[],
            None,
        );
        let text = stderr(&output);
        assert!(
            text.contains(":2:22: this line is not one"),
            "{include}: {text}"
        );
        assert!(!text.contains(secret), "{include}: {text}");
    }

    // Inside the directory of the file the user named (`--lock`), an include is read, even
    // though that directory is not the project's.
    let elsewhere = work.path().join("elsewhere");
    write(&elsewhere.join("base.txt"), "alpha==1.0\n");
    write(&elsewhere.join("requirements.txt"), "-r base.txt\n");
    let lock_arg = elsewhere.join("requirements.txt");
    let output = py2nix_with_env(
        &[
            "lock",
            project_arg,
            "--lock",
            lock_arg.to_str().expect("utf-8"),
            "--offline",
        ],
        cache.path(),
        &[],
        None,
    );
    let text = stderr(&output);
    assert!(!text.contains("outside the project"), "{text}");
    assert!(text.contains("alpha"), "the include was read: {text}");
}

/// `overrides show` applies `lock`'s rule to ./pyproject.toml's `[tool.py2nix] overrides`: a
/// directory outside the project is refused, unless `--allow-outside-paths`.
#[test]
fn overrides_show_needs_the_flag_for_a_directory_outside_the_project() {
    let work = tempfile::tempdir().expect("tempdir");
    let shared = work.path().join("shared-ov");
    write(&shared.join("pi/pillow/override.toml"), PILLOW_OVERRIDE);
    write(&shared.join("pi/pillow/fix.patch"), "--- a\n+++ b\n");
    let project = work.path().join("app");
    write(
        &project.join("pyproject.toml"),
        "[project]\nname = \"app\"\nversion = \"0.1.0\"\n\n[tool.py2nix]\noverrides = \"../shared-ov\"\n",
    );
    let cache = tempfile::tempdir().expect("tempdir");
    let output = py2nix_with_env(
        &["overrides", "show", "pillow"],
        cache.path(),
        &[],
        Some(&project),
    );
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        output.stdout.is_empty(),
        "printed: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    for fragment in [
        "pyproject.toml's `[tool.py2nix] overrides` directory `../shared-ov` is outside the project directory",
        "--allow-outside-paths",
    ] {
        assert!(text.contains(fragment), "no `{fragment}` in {text}");
    }
    let output = py2nix_with_env(
        &["overrides", "show", "pillow", "--allow-outside-paths"],
        cache.path(),
        &[],
        Some(&project),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let shown = String::from_utf8_lossy(&output.stdout);
    assert!(shown.contains("shared-ov"), "{shown}");
    assert!(shown.contains("fix.patch"), "{shown}");
}
