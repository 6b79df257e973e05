//! Sources other than a public index: git repositories (hashed as Nix hashes them), local
//! workspace members (paths relative to the generated file), and a private index that wants
//! credentials (which must never show up in any output or in the cache).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{
    base64, check_invariants, copy_tree, fixture, fixture_dir, nix, ok, packages, py2nix_with_env,
    stderr, stdout, strings, IndexServer, Mode,
};

const LINUX_312: [&str; 4] = ["--system", "x86_64-linux", "--python", "3.12"];
const ID_312: &str = "x86_64-linux-cp312";

fn path_str(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

fn nix_ok(program: &str, args: &[&str]) -> String {
    let output = nix(program, args);
    assert!(
        output.status.success(),
        "{program} {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8")
}

/// `nix-instantiate --eval --strict --json` of an expression, parsed.
fn eval_json(expression: &str) -> serde_json::Value {
    let text = nix_ok(
        "nix-instantiate",
        &["--eval", "--strict", "--json", "--expr", expression],
    );
    serde_json::from_str(&text).expect("nix printed JSON")
}

/// The `plan` attribute of a generated python.nix, evaluated by Nix without any argument.
fn python_nix_plan(file: &Path) -> serde_json::Value {
    let parse = nix("nix-instantiate", &["--parse", path_str(file)]);
    assert!(
        parse.status.success(),
        "{}",
        String::from_utf8_lossy(&parse.stderr)
    );
    // A string, not a path literal: the path may hold a space.
    eval_json(&format!(
        "let f = import \"{}\"; in (f (builtins.mapAttrs (_: _: throw \"plan must not need arguments\") (builtins.functionArgs f))).plan",
        file.display()
    ))
}

// ---------------------------------------------------------------------------------------------
// git

/// Runs git with no user or system configuration; returns trimmed stdout.
pub(crate) fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=py2nix test",
            "-c",
            "user.email=test@example.invalid",
        ])
        .args(["-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"])
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
        .output()
        .expect("run git");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("utf-8")
        .trim()
        .to_string()
}

/// A tiny setuptools project in a git repository: a commit tagged `v1` (an annotated tag, so
/// the tag object and the commit differ), then a later commit on the branch. Holds an
/// executable file and a symlink, which the NAR serialisation must get right. Returns the
/// repository and the tagged commit.
fn git_project(root: &Path) -> (PathBuf, String) {
    let repo = root.join("gitpkg-repo");
    std::fs::create_dir_all(repo.join("src/gitpkg")).expect("mkdir");
    std::fs::write(
        repo.join("pyproject.toml"),
        "[build-system]\nrequires = [\"setuptools>=61\"]\nbuild-backend = \"setuptools.build_meta\"\n\n[project]\nname = \"gitpkg\"\nversion = \"1.0.0\"\nrequires-python = \">=3.9\"\n",
    )
    .expect("write");
    std::fs::write(repo.join("src/gitpkg/__init__.py"), "VERSION = \"1.0.0\"\n").expect("write");
    let script = repo.join("run.sh");
    std::fs::write(&script, "#!/bin/sh\necho gitpkg\n").expect("write");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    std::os::unix::fs::symlink("src/gitpkg/__init__.py", repo.join("version.py")).expect("symlink");
    git(&repo, &["init", "--quiet", "--initial-branch", "main"]);
    git(&repo, &["add", "--all"]);
    git(&repo, &["commit", "--quiet", "--message", "gitpkg 1.0.0"]);
    git(&repo, &["tag", "--annotate", "v1", "--message", "v1"]);
    let commit = git(&repo, &["rev-parse", "HEAD"]);
    std::fs::write(repo.join("CHANGES"), "after v1\n").expect("write");
    git(&repo, &["add", "--all"]);
    git(&repo, &["commit", "--quiet", "--message", "later"]);
    assert_ne!(git(&repo, &["rev-parse", "HEAD"]), commit);
    assert_ne!(git(&repo, &["rev-parse", "v1"]), commit, "an annotated tag");
    (repo, commit)
}

/// The oracle: the NAR hash of the commit checked out with plain git, `.git` removed.
fn nar_hash_of_checkout(repo: &Path, commit: &str, work: &Path) -> String {
    let checkout = work.join("checkout");
    let output = Command::new("git")
        .arg("clone")
        .arg("--quiet")
        .arg(repo)
        .arg(&checkout)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("git clone");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    git(&checkout, &["checkout", "--quiet", commit]);
    std::fs::remove_dir_all(checkout.join(".git")).expect("remove .git");
    let hash = nix_ok(
        "nix",
        &[
            "hash",
            "path",
            "--type",
            "sha256",
            "--sri",
            path_str(&checkout),
        ],
    );
    hash.trim().to_string()
}

/// A uv.lock (in uv's real syntax) whose virtual root depends on `gitpkg` from the repository
/// at tag v1, and the pyproject.toml that goes with it.
fn write_uv_project(dir: &Path, repo_url: &str, commit: &str) {
    std::fs::create_dir_all(dir).expect("mkdir");
    std::fs::write(
        dir.join("pyproject.toml"),
        format!(
            "[project]\nname = \"app\"\nversion = \"0.1.0\"\nrequires-python = \">=3.11\"\ndependencies = [\"gitpkg\"]\n\n[tool.uv]\npackage = false\n\n[tool.uv.sources]\ngitpkg = {{ git = \"{repo_url}\", tag = \"v1\" }}\n"
        ),
    )
    .expect("write");
    std::fs::write(
        dir.join("uv.lock"),
        format!(
            r#"version = 1
revision = 3
requires-python = ">=3.11"

[[package]]
name = "app"
version = "0.1.0"
source = {{ virtual = "." }}
dependencies = [
    {{ name = "gitpkg" }},
]

[package.metadata]
requires-dist = [{{ name = "gitpkg", git = "{repo_url}?tag=v1" }}]

[[package]]
name = "gitpkg"
version = "1.0.0"
source = {{ git = "{repo_url}?tag=v1#{commit}" }}
"#
        ),
    )
    .expect("write");
}

#[test]
fn a_git_source_is_planned_with_the_nar_hash_nix_computes() {
    let work = tempfile::tempdir().expect("tempdir");
    let cache = tempfile::tempdir().expect("tempdir");
    // The checkout's build system (setuptools) is resolved on the recorded index.
    let server = IndexServer::start(Mode::Html);
    let index = [("PY2NIX_INDEX_URL", server.url.as_str())];
    let (repo, commit) = git_project(work.path());
    let repo_url = format!("file://{}", repo.display());
    let project = work.path().join("app");
    write_uv_project(&project, &repo_url, &commit);

    let mut args = vec!["lock", path_str(&project), "--format", "json"];
    args.extend(LINUX_312);
    let json = ok(&py2nix_with_env(&args, cache.path(), &index, None));
    let plan: serde_json::Value = serde_json::from_str(&json).expect("JSON plan");
    check_invariants(&plan);
    assert_eq!(strings(&plan["targets"][ID_312]["roots"]), ["gitpkg"]);
    let package = &packages(&plan, ID_312)["gitpkg"];
    let src = &package["src"];
    assert_eq!(src["kind"], "git");
    assert_eq!(src["url"], repo_url.as_str());
    assert_eq!(src["rev"], commit.as_str());
    assert!(src.get("submodules").is_none() && src.get("subdirectory").is_none());
    assert_eq!(package["version"], "1.0.0");
    assert_eq!(package["build-system"], serde_json::json!(["setuptools"]));
    // Read from the checkout (`setuptools>=61`), not assumed: pinned, and no warning.
    assert_eq!(strings(&package["build-requires"]), ["setuptools"]);
    let setuptools = &plan["targets"][ID_312]["build-packages"]["setuptools"];
    assert!(setuptools["src"]["hash"].is_string(), "{setuptools}");
    assert!(package.get("warnings").is_none(), "{package}");

    // Oracle 1: a plain git checkout hashed by `nix hash path`.
    let hash = src["hash"].as_str().expect("hash");
    assert_eq!(hash, nar_hash_of_checkout(&repo, &commit, work.path()));
    // Oracle 2: what Nix's own git fetcher makes of the commit.
    let nar_hash = eval_json(&format!(
        "(builtins.fetchGit {{ url = \"{repo_url}\"; rev = \"{commit}\"; }}).narHash"
    ));
    assert_eq!(nar_hash, hash);

    // python.nix parses, and its plan is the JSON plan written to the same directory.
    let nix_file = project.join("python.nix");
    let json_file = project.join("plan.json");
    for (format, file) in [("nix", &nix_file), ("json", &json_file)] {
        let mut args = vec![
            "lock",
            path_str(&project),
            "--format",
            format,
            "-o",
            path_str(file),
        ];
        args.extend(LINUX_312);
        ok(&py2nix_with_env(&args, cache.path(), &index, None));
    }
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json_file).expect("read")).expect("JSON");
    assert_eq!(written["targets"], plan["targets"]);
    assert_eq!(python_nix_plan(&nix_file), written);
}

/// A requirements file naming the repository at the tag (not a commit): the tag is resolved
/// to the commit it points at (not the annotated tag object, not the branch head).
#[test]
fn a_git_requirement_at_a_tag_resolves_to_its_commit() {
    let work = tempfile::tempdir().expect("tempdir");
    let cache = tempfile::tempdir().expect("tempdir");
    let server = IndexServer::start(Mode::Html);
    let index = [("PY2NIX_INDEX_URL", server.url.as_str())];
    let (repo, commit) = git_project(work.path());
    let repo_url = format!("file://{}", repo.display());
    let project = work.path().join("app");
    std::fs::create_dir_all(&project).expect("mkdir");
    std::fs::write(
        project.join("requirements.txt"),
        format!("gitpkg @ git+{repo_url}@v1\n"),
    )
    .expect("write");
    let mut args = vec!["lock", path_str(&project), "--format", "json"];
    args.extend(LINUX_312);
    let output = py2nix_with_env(&args, cache.path(), &index, None);
    let plan: serde_json::Value = serde_json::from_str(&ok(&output)).expect("JSON plan");
    let src = &packages(&plan, ID_312)["gitpkg"]["src"];
    assert_eq!(src["kind"], "git");
    assert_eq!(src["url"], repo_url.as_str());
    assert_eq!(src["rev"], commit.as_str());
    assert_eq!(
        src["hash"].as_str().expect("hash"),
        nar_hash_of_checkout(&repo, &commit, work.path())
    );
    assert!(
        stderr(&output).contains("gitpkg") && stderr(&output).contains("dependencies unknown"),
        "a git source's dependencies are not read, and py2nix says so: {}",
        stderr(&output)
    );
}

// ---------------------------------------------------------------------------------------------
// Workspace members: paths relative to the generated file

/// The `path` of each workspace member, checked to be a tree installed editable.
fn member_paths(plan: &serde_json::Value) -> Vec<(String, String)> {
    let planned = packages(plan, ID_312);
    ["ws-app", "ws-lib"]
        .iter()
        .map(|name| {
            let package = &planned[*name];
            let src = &package["src"];
            assert_eq!(src["kind"], "path", "{name}");
            assert_eq!(src["format"], "tree", "{name}");
            assert_eq!(src["editable"], true, "{name}");
            assert!(
                src.get("url").is_none() && src.get("hash").is_none(),
                "{name}"
            );
            assert!(package.get("build-system").is_some(), "{name} is built");
            (
                name.to_string(),
                src["path"].as_str().expect("path").to_string(),
            )
        })
        .collect()
}

fn assert_paths_resolve(plan: &serde_json::Value, base: &Path, workspace: &Path) {
    for (name, path) in member_paths(plan) {
        let member = name.trim_start_matches("ws-");
        let expected = workspace
            .join("packages")
            .join(member)
            .canonicalize()
            .expect("member");
        assert!(!path.starts_with('/'), "{name}: `{path}` is relative");
        let resolved = base.join(&path).canonicalize().unwrap_or_else(|e| {
            panic!(
                "{name}: `{path}` from {} does not resolve: {e}",
                base.display()
            )
        });
        assert_eq!(
            resolved,
            expected,
            "{name}: `{path}` from {}",
            base.display()
        );
    }
}

#[test]
fn workspace_member_paths_are_relative_to_the_generated_file() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let work = tempfile::tempdir().expect("tempdir");
    let index = [("PY2NIX_INDEX_URL", server.url.as_str())];
    let workspace = fixture_dir("uv/workspace");

    // To stdout: relative to the working directory.
    let cwd = work.path().join("elsewhere");
    std::fs::create_dir_all(&cwd).expect("mkdir");
    let mut args = vec!["lock", path_str(&workspace), "--format", "json"];
    args.extend(LINUX_312);
    let plan: serde_json::Value = serde_json::from_str(&ok(&py2nix_with_env(
        &args,
        cache.path(),
        &index,
        Some(&cwd),
    )))
    .expect("JSON plan");
    assert_paths_resolve(&plan, &cwd, &workspace);

    // -o into a directory whose name has a space, two levels down.
    let out_dir = work.path().join("out dir").join("nested");
    std::fs::create_dir_all(&out_dir).expect("mkdir");
    let out = out_dir.join("plan.json");
    let mut args = vec![
        "lock",
        path_str(&workspace),
        "--format",
        "json",
        "-o",
        path_str(&out),
    ];
    args.extend(LINUX_312);
    assert!(stdout(&py2nix_with_env(&args, cache.path(), &index, None)).is_empty());
    let from_file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("read -o")).expect("JSON");
    assert_paths_resolve(&from_file, &out_dir, &workspace);
    assert_ne!(
        member_paths(&from_file),
        member_paths(&plan),
        "-o moves the base"
    );

    // A copy of the workspace under a directory with a space, and python.nix beside it in
    // another: the path itself has the space, and Nix reads it back unchanged.
    let project_root = work.path().join("my project");
    copy_tree(&workspace, &project_root.join("ws"));
    let nix_dir = project_root.join("nix files");
    std::fs::create_dir_all(&nix_dir).expect("mkdir");
    let nix_file = nix_dir.join("python.nix");
    let copied = project_root.join("ws");
    let mut args = vec!["lock", path_str(&copied), "-o", path_str(&nix_file)];
    args.extend(LINUX_312);
    ok(&py2nix_with_env(
        &args,
        cache.path(),
        &index,
        Some(work.path()),
    ));
    let nix_plan = python_nix_plan(&nix_file);
    assert_paths_resolve(&nix_plan, &nix_dir, &copied);
    let paths = member_paths(&nix_plan);
    assert_eq!(paths[0].1, "../ws/packages/app");
    assert_eq!(paths[1].1, "../ws/packages/lib");
    let mut json_args = vec!["lock", path_str(&copied), "--format", "json"];
    json_args.extend(LINUX_312);
    let from_nix_dir: serde_json::Value = serde_json::from_str(&ok(&py2nix_with_env(
        &json_args,
        cache.path(),
        &index,
        Some(&nix_dir),
    )))
    .expect("JSON");
    assert_eq!(nix_plan, from_nix_dir, "python.nix's plan is the JSON plan");
}
// ---------------------------------------------------------------------------------------------
// A private index

const USER: &str = "alice";
const PASSWORD: &str = "Zq8-vault-pw-31337";

fn private_index() -> IndexServer {
    IndexServer::start(Mode::BasicAuth {
        user: USER.into(),
        password: PASSWORD.into(),
    })
}

/// `http://user:password@127.0.0.1:…/simple/`
fn with_userinfo(url: &str, user: &str, password: &str) -> String {
    url.replacen("http://", &format!("http://{user}:{password}@"), 1)
}

fn flask_pillow_args<'a>(index_url: &'a str, dir: &'a Path) -> Vec<&'a str> {
    let mut args = vec!["lock", path_str(dir), "--index-url", index_url];
    args.extend(LINUX_312);
    args
}

#[test]
fn a_private_index_without_credentials_is_refused_with_a_hint() {
    let server = private_index();
    let cache = tempfile::tempdir().expect("tempdir");
    let dir = fixture("flask-pillow");
    let output = py2nix_with_env(
        &flask_pillow_args(&server.url, &dir),
        cache.path(),
        &[],
        None,
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(output.stdout.is_empty());
    let message = stderr(&output);
    assert!(
        message.contains(&format!("{}flask/ refused access", server.url)),
        "{message}"
    );
    assert!(message.contains("HTTP 401"), "{message}");
    assert!(
        message.contains("put the credentials in the URL")
            && message.contains("machine 127.0.0.1 login ... password ...")
            && message.contains("$NETRC"),
        "{message}"
    );

    // A wrong password in the URL: refused, the URL shown without it.
    let wrong = with_userinfo(&server.url, USER, "not-the-password");
    let output = py2nix_with_env(&flask_pillow_args(&wrong, &dir), cache.path(), &[], None);
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.contains("the credentials from the index URL were rejected"),
        "{message}"
    );
    assert!(
        message.contains(&format!("{}flask/", server.url)),
        "{message}"
    );
    assert!(!message.contains("not-the-password"), "{message}");
}

/// Every file below `dir`, as text (lossy), with its path.
fn files_below(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_below(&path));
        } else {
            let bytes = std::fs::read(&path).expect("read");
            out.push((path, String::from_utf8_lossy(&bytes).into_owned()));
        }
    }
    out
}

/// With credentials in the URL or in a netrc file, planning succeeds; the plan marks no file
/// on another origin as needing the default index's credentials (`src.index`; see
/// `untrusted_net.rs` for files on the index's origin), and neither the
/// password nor the userinfo appears in stdout, stderr (with -v), python.nix, the JSON plan or
/// the cache.
#[test]
fn a_private_index_with_credentials_plans_and_nothing_leaks_them() {
    let server = private_index();
    let dir = fixture("flask-pillow");
    let netrc_dir = tempfile::tempdir().expect("tempdir");
    let netrc = netrc_dir.path().join("netrc");
    std::fs::write(
        &netrc,
        format!("machine 127.0.0.1\n  login {USER}\n  password {PASSWORD}\n"),
    )
    .expect("write netrc");
    let url_with_credentials = with_userinfo(&server.url, USER, PASSWORD);
    let netrc_env = [("NETRC", path_str(&netrc))];
    type Way<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);
    let ways: [Way; 2] = [
        ("URL userinfo", url_with_credentials.as_str(), &[]),
        ("netrc", server.url.as_str(), &netrc_env),
    ];
    let secrets = [
        PASSWORD.to_string(),
        format!("{USER}:{PASSWORD}@"),
        base64(format!("{USER}:{PASSWORD}").as_bytes()),
    ];
    let mut plans = Vec::new();
    for (way, index_url, env) in ways {
        let cache = tempfile::tempdir().expect("tempdir");
        let out = tempfile::tempdir().expect("tempdir");
        let mut texts: Vec<(String, String)> = Vec::new();

        let mut args = vec!["-v"];
        args.extend(flask_pillow_args(index_url, &dir));
        args.extend(["--format", "json"]);
        let output = py2nix_with_env(&args, cache.path(), env, None);
        let json = ok(&output);
        texts.push(("stdout".into(), json.clone()));
        texts.push(("stderr".into(), stderr(&output)));
        assert!(
            stderr(&output).contains("looking up"),
            "-v explains the index traffic: {}",
            stderr(&output)
        );
        let plan: serde_json::Value = serde_json::from_str(&json).expect("JSON plan");
        check_invariants(&plan);
        let planned = packages(&plan, ID_312);
        assert!(planned.len() > 10, "{way}");
        // The recorded pages link their files on the file host, another origin than the
        // index's: credentials belong to the index's origin, so no file carries them.
        let origin = server.url.trim_end_matches("/simple/");
        for (name, package) in planned {
            let on_index = package["src"]["url"]
                .as_str()
                .is_some_and(|url| url.starts_with(&format!("{origin}/")));
            assert!(!on_index, "{way}: {name}");
            assert!(package["src"].get("index").is_none(), "{way}: {name}");
        }

        // The same into files, side by side: python.nix and the JSON plan.
        for (format, file) in [("nix", "python.nix"), ("json", "plan.json")] {
            let path = out.path().join(file);
            let mut args = vec!["-v"];
            args.extend(flask_pillow_args(index_url, &dir));
            args.extend(["--format", format, "-o", path_str(&path)]);
            let output = py2nix_with_env(&args, cache.path(), env, None);
            ok(&output);
            texts.push((format!("stderr of -o {file}"), stderr(&output)));
            texts.push((file.into(), std::fs::read_to_string(&path).expect("read")));
        }
        let written: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(out.path().join("plan.json")).expect("read"),
        )
        .expect("JSON");
        assert_eq!(written["targets"], plan["targets"], "{way}");
        assert_eq!(
            python_nix_plan(&out.path().join("python.nix")),
            written,
            "{way}: python.nix carries the same plan"
        );
        let cached = files_below(cache.path());
        assert!(!cached.is_empty(), "{way}: the pages are cached");
        for (path, text) in cached {
            texts.push((path.display().to_string(), text));
        }
        for (what, text) in &texts {
            for secret in &secrets {
                assert!(
                    !text.contains(secret.as_str()),
                    "{way}: {what} contains `{secret}`"
                );
            }
        }
        plans.push(plan);
    }
    assert_eq!(plans[0], plans[1], "the URL and netrc give the same plan");
    assert!(
        !plans[0]["inputs"].to_string().contains("--index-url"),
        "{}",
        plans[0]["inputs"]
    );
}

/// A server on 127.0.0.1 that answers every GET with `body`, counting requests.
fn file_server(body: Vec<u8>) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                line.clear();
            }
            let mut stream = stream;
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(&body);
        }
    });
    (url, count)
}

fn write_url_project(dir: &Path, url: &str, hash: Option<&str>) {
    let hash = hash.map_or(String::new(), |h| format!(", hash = \"sha256:{h}\""));
    std::fs::write(
        dir.join("uv.lock"),
        format!(
            r#"version = 1
revision = 3
requires-python = ">=3.11"

[[package]]
name = "app"
version = "0.1.0"
source = {{ virtual = "." }}
dependencies = [{{ name = "demo" }}]

[[package]]
name = "demo"
version = "1.0"
source = {{ url = "{url}" }}
wheels = [{{ url = "{url}"{hash} }}]
"#
        ),
    )
    .expect("write uv.lock");
    std::fs::write(
        dir.join("pyproject.toml"),
        "[project]\nname = \"app\"\nversion = \"0.1.0\"\nrequires-python = \">=3.11\"\ndependencies = [\"demo\"]\n",
    )
    .expect("write pyproject.toml");
}

#[test]
fn a_direct_url_without_a_hash_is_hashed_by_downloading_it() {
    use sha2::Digest;
    let body = b"not really a wheel, but bytes with a known sha256".to_vec();
    let expected = format!("sha256-{}", base64_standard(&sha2::Sha256::digest(&body)));
    let (base, count) = file_server(body.clone());
    let url = format!("{base}/files/demo-1.0-py3-none-any.whl");
    let project = tempfile::tempdir().expect("tempdir");
    write_url_project(project.path(), &url, None);
    let cache = tempfile::tempdir().expect("tempdir");
    let args = [
        "lock",
        path_str(project.path()),
        "--format",
        "json",
        "--system",
        "x86_64-linux",
        "--python",
        "3.12",
    ];
    let out = crate::common::ok(&crate::common::py2nix_with_env(
        &args,
        cache.path(),
        &[],
        None,
    ));
    let plan: serde_json::Value = serde_json::from_str(&out).expect("plan");
    let src = &plan["targets"]["x86_64-linux-cp312"]["packages"]["demo"]["src"];
    assert_eq!(src["kind"], "wheel");
    assert_eq!(src["url"], url.as_str());
    assert_eq!(src["hash"], expected.as_str());
    let after_first = count.load(std::sync::atomic::Ordering::SeqCst);
    assert!(after_first >= 1);
    // The hash is cached: a second run downloads nothing.
    let again = crate::common::ok(&crate::common::py2nix_with_env(
        &args,
        cache.path(),
        &[],
        None,
    ));
    assert_eq!(again, out);
    assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), after_first);

    // With the lock's hash, nothing is downloaded and the lock's hash is planned.
    let hex = "ab".repeat(32);
    let locked = tempfile::tempdir().expect("tempdir");
    write_url_project(locked.path(), &url, Some(&hex));
    let before = count.load(std::sync::atomic::Ordering::SeqCst);
    let args = [
        "lock",
        path_str(locked.path()),
        "--format",
        "json",
        "--system",
        "x86_64-linux",
        "--python",
        "3.12",
    ];
    let fresh = tempfile::tempdir().expect("tempdir");
    let out = crate::common::ok(&crate::common::py2nix_with_env(
        &args,
        fresh.path(),
        &[],
        None,
    ));
    let plan: serde_json::Value = serde_json::from_str(&out).expect("plan");
    let src = &plan["targets"]["x86_64-linux-cp312"]["packages"]["demo"]["src"];
    assert_eq!(
        src["hash"],
        "sha256-q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s="
    );
    assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), before);
}

fn base64_standard(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
