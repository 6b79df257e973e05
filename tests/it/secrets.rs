//! Secrets: credentials from index URLs, the environment and netrc never appear in anything
//! py2nix writes: stdout, stderr at any verbosity, python.nix, the JSON plan, the cache (file
//! names or contents). Each test runs py2nix with credentials, successfully and failing, and
//! searches every byte it wrote for the password, the username, and the encoded forms that
//! could leak them (percent-encoding, the `Authorization` header's base64).

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use crate::common::{base64, stderr};
use crate::network::{
    command, files_under, healthy, requirements_project, run_bounded, FlakyServer, Reply, Request,
    ALPHA, BETA,
};

const USER: &str = "u-3f9c1e";
/// Characters that URLs, netrc and base64 all treat specially.
const PASSWORD: &str = "p@ss:w/rd-7Hq2%#x";
const PASSWORD_IN_URL: &str = "p%40ss%3Aw%2Frd-7Hq2%25%23x";

/// Every form of the credentials that must never be written.
fn forbidden() -> Vec<(String, &'static str)> {
    vec![
        (PASSWORD.to_string(), "the password"),
        (PASSWORD_IN_URL.to_string(), "the percent-encoded password"),
        (
            base64(format!("{USER}:{PASSWORD}").as_bytes()),
            "the Authorization header",
        ),
        ("p@ss".to_string(), "part of the password"),
        ("7Hq2".to_string(), "part of the password"),
        (USER.to_string(), "the username"),
    ]
}

fn assert_clean(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    for (secret, name) in forbidden() {
        assert!(
            !text.contains(&secret),
            "{what} contains {name} (`{secret}`):\n{text}"
        );
    }
}

/// The index: every page and metadata file only with the right Basic credentials; `broken`
/// answers 500 after the credentials check, so error messages are made too.
fn guarded(broken: bool) -> impl Fn(&Request) -> Reply + Send + Sync {
    let expected = format!("Basic {}", base64(format!("{USER}:{PASSWORD}").as_bytes()));
    move |request| {
        if request.header("authorization") != Some(expected.as_str()) {
            return Reply::Status(
                401,
                vec![("WWW-Authenticate", "Basic realm=\"test\"".into())],
            );
        }
        if broken {
            return Reply::Status(500, Vec::new());
        }
        healthy(request)
    }
}

/// Where the credentials come from.
#[derive(Debug, Clone, Copy)]
enum Source {
    /// `user:password@` in `PY2NIX_INDEX_URL`.
    Url,
    /// `PY2NIX_INDEX_INDEX_USERNAME`/`_PASSWORD` for the requirements file's `--index-url`.
    Environment,
    /// A netrc file with a `machine 127.0.0.1` entry.
    Netrc,
}

/// One run of py2nix with `source`'s credentials; every byte it wrote is checked.
fn run_with(source: Source, server: &FlakyServer, extra: &[&str], password: &str) -> Output {
    let project = requirements_project();
    let cache = tempfile::tempdir().expect("tempdir");
    // The working directory py2nix runs in, and, apart, the netrc file (which holds the secret).
    let out = tempfile::tempdir().expect("tempdir");
    let secrets = tempfile::tempdir().expect("tempdir");
    let netrc = secrets.path().join("netrc");
    let host = server.base.trim_start_matches("http://");
    let mut index_url = server.index_url();
    match source {
        Source::Url => {
            let encoded = password
                .replace('%', "%25")
                .replace('@', "%40")
                .replace(':', "%3A")
                .replace('/', "%2F")
                .replace('#', "%23");
            index_url = format!("http://{USER}:{encoded}@{host}/simple/");
        }
        Source::Environment => {
            let requirements = project.path().join("requirements.txt");
            let text = std::fs::read_to_string(&requirements).expect("read");
            std::fs::write(
                &requirements,
                format!("--index-url {}\n{text}", server.index_url()),
            )
            .expect("write");
        }
        Source::Netrc => {
            let quoted = password.replace('\\', "\\\\").replace('"', "\\\"");
            std::fs::write(
                &netrc,
                format!("machine 127.0.0.1\n  login {USER}\n  password \"{quoted}\"\n"),
            )
            .expect("write netrc");
        }
    }
    let mut command = command(project.path(), &index_url, cache.path(), extra);
    command.current_dir(out.path()).env("RUST_BACKTRACE", "1");
    match source {
        Source::Environment => {
            command
                .env("PY2NIX_INDEX_INDEX_USERNAME", USER)
                .env("PY2NIX_INDEX_INDEX_PASSWORD", password);
        }
        Source::Netrc => {
            command.env("NETRC", &netrc);
        }
        Source::Url => {}
    }
    let output = run_bounded(command, Duration::from_secs(120));
    let label = format!("{source:?} {extra:?}");
    assert_clean(&format!("{label}: stdout"), &output.stdout);
    assert_clean(&format!("{label}: stderr"), &output.stderr);
    check_tree(&label, cache.path());
    check_tree(&label, out.path());
    check_tree(&label, project.path());
    output
}

/// Every file under `dir` (names and contents) is free of the credentials.
fn check_tree(label: &str, dir: &Path) {
    for file in files_under(dir) {
        assert_clean(
            &format!("{label}: the name of {}", file.display()),
            file.to_string_lossy().as_bytes(),
        );
        let bytes = std::fs::read(dir.join(&file)).expect("read");
        assert_clean(&format!("{label}: {}", file.display()), &bytes);
    }
}

const VERBOSITIES: [&[&str]; 3] = [&["-v"], &[], &["-q"]];

#[test]
fn credentials_never_reach_output_messages_or_the_cache() {
    for source in [Source::Url, Source::Environment, Source::Netrc] {
        let server = FlakyServer::start(guarded(false));
        for verbosity in VERBOSITIES {
            let output = run_with(source, &server, verbosity, PASSWORD);
            assert!(output.status.success(), "{source:?}: {}", stderr(&output));
            let plan: serde_json::Value = serde_json::from_slice(&output.stdout).expect("plan");
            let alpha = &plan["targets"]["x86_64-linux-cp311"]["packages"]["alpha"];
            assert_eq!(
                alpha["dependencies"],
                serde_json::json!(["beta"]),
                "metadata was read with the credentials"
            );
            assert!(
                alpha["src"]["index"].is_string(),
                "{source:?}: the plan names the index, not its credentials"
            );
        }
        // python.nix through -o, with -v.
        let written = tempfile::tempdir().expect("tempdir");
        let target = written.path().join("python.nix");
        let target = target.to_str().expect("utf-8");
        let output = run_with(
            source,
            &server,
            &["-v", "--format", "nix", "-o", target],
            PASSWORD,
        );
        assert!(output.status.success(), "{source:?}: {}", stderr(&output));
        let text = std::fs::read(target).expect("python.nix");
        assert!(text.starts_with(b"# @generated by py2nix"));
        assert_clean(&format!("{source:?}: python.nix"), &text);
        // The metadata files are on the index's host, so they were fetched with credentials.
        assert!(server.count(&BETA.metadata_path()) >= 1);
        assert!(server.count(&ALPHA.page_path()) >= 4);
    }
}

#[test]
fn credentials_never_reach_error_messages() {
    for source in [Source::Url, Source::Environment, Source::Netrc] {
        // The index fails after accepting the credentials: messages name the URLs.
        let server = FlakyServer::start(guarded(true));
        for verbosity in VERBOSITIES {
            let output = run_with(source, &server, verbosity, PASSWORD);
            assert_eq!(
                output.status.code(),
                Some(2),
                "{source:?}: {}",
                stderr(&output)
            );
            assert!(stderr(&output).contains("HTTP 500"), "{}", stderr(&output));
            assert!(
                stderr(&output).contains(&server.base),
                "the message names the URL"
            );
        }
        // The index refuses these credentials: the hint says where they came from, not what they are.
        let server = FlakyServer::start(guarded(false));
        let wrong = "wr0ng-p@ss:w/rd-7Hq2%#x";
        let output = run_with(source, &server, &["-v"], wrong);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{source:?}: {}",
            stderr(&output)
        );
        let message = stderr(&output);
        assert!(message.contains("refused access"), "{message}");
        assert!(message.contains("were rejected"), "{message}");
        assert!(!message.contains("wr0ng"), "{message}");
    }
}
