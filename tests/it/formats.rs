//! The lock formats besides poetry.lock: finding the lock in a directory, uv.lock (groups,
//! forks, workspaces), pylock.toml and requirements files (dependencies from the packages'
//! real core metadata), and uv.lock and poetry.lock giving the same plan.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use crate::common::{
    check_invariants, fixture, fixture_dir, json_plan, ok, packages, py2nix, py2nix_with_env,
    repo_root, stderr, strings, IndexServer, Mode,
};

const LINUX_312: [&str; 4] = ["--system", "x86_64-linux", "--python", "3.12"];
const ID_312: &str = "x86_64-linux-cp312";

/// `py2nix lock <dir> <extra>` must fail with exit 1, nothing on stdout; returns stderr.
fn fails(args: &[&str], server: &IndexServer, cache: &Path) -> String {
    let output = py2nix(args, server, cache);
    assert_eq!(
        output.status.code(),
        Some(1),
        "expected exit 1; stderr:\n{}",
        stderr(&output)
    );
    assert!(output.stdout.is_empty(), "no output on failure");
    stderr(&output)
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

// ---------------------------------------------------------------------------------------------
// Finding the lock

#[test]
fn a_directory_with_two_locks_asks_for_lock() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let dir = fixture_dir("pylock/flask-pillow");
    let message = fails(&["lock", path_str(&dir)], &server, cache.path());
    assert!(
        message.contains("several lock files: pylock.toml, uv.lock"),
        "{message}"
    );
    assert!(message.contains("--lock FILE"), "{message}");
    assert_eq!(
        server.requests(),
        0,
        "nothing is looked up before the lock is known"
    );
}

#[test]
fn a_directory_without_a_lock_names_what_was_looked_for() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        fixture_dir("uv/flask-pillow/pyproject.toml"),
        dir.path().join("pyproject.toml"),
    )
    .expect("copy pyproject.toml");
    let message = fails(&["lock", path_str(dir.path())], &server, cache.path());
    assert!(message.contains("holds no lock file"), "{message}");
    for looked_for in [
        "poetry.lock",
        "uv.lock",
        "pylock.toml",
        "pylock.*.toml",
        "requirements.txt",
        "--lock",
    ] {
        assert!(message.contains(looked_for), "{looked_for}: {message}");
    }
}

/// `--lock` picks one of two locks, and `-v` says which file was read in which format: here
/// the uv.lock beside a pylock.toml. It is read as a uv graph: the `dev` group (pytest) and
/// the `yaml` extra (pyyaml) are held, each in its own selection, not in the main one.
#[test]
fn lock_names_the_file_and_verbose_says_which() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let dir = fixture_dir("pylock/flask-pillow");
    let lock = dir.join("uv.lock");
    let mut args = vec!["-v", "lock", path_str(&dir), "--lock", path_str(&lock)];
    args.extend(["--format", "json"]);
    args.extend(LINUX_312);
    let output = py2nix(&args, &server, cache.path());
    let plan: serde_json::Value = serde_json::from_str(&ok(&output)).expect("JSON plan");
    assert!(
        stderr(&output).contains(&format!("reading {} as uv.lock", lock.display())),
        "{}",
        stderr(&output)
    );
    let planned = packages(&plan, ID_312);
    assert!(planned.contains_key("pytest") && planned.contains_key("flask"));
    // Every group and extra is held; pyyaml only comes with the yaml extra, pytest with dev.
    let selections = &plan["targets"][ID_312]["selections"];
    assert!(!strings(&selections["main"]).contains(&"pyyaml".to_string()));
    assert!(strings(&selections["extras"]["yaml"]).contains(&"pyyaml".to_string()));
    assert!(strings(&selections["groups"]["dev"]).contains(&"pytest".to_string()));
    let pylock = std::fs::read_to_string(dir.join("pylock.toml")).expect("pylock.toml");
    assert!(pylock.contains("name = \"pyyaml\""));

    // Found without --lock, -v names the file too.
    for (path, format) in [
        ("uv/flask-pillow", "uv.lock"),
        ("poetry/flask-pillow", "poetry.lock"),
    ] {
        let dir = fixture_dir(path);
        let mut args = vec!["-v", "lock", path_str(&dir), "--format", "json"];
        args.extend(LINUX_312);
        let output = py2nix(&args, &server, cache.path());
        ok(&output);
        assert!(
            stderr(&output).contains(&format!(
                "reading {} as {format}",
                dir.join(format).display()
            )),
            "{}",
            stderr(&output)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// uv.lock

/// Every uv fixture plans for x86_64-linux / 3.12, with the roots the lock's root package (or
/// virtual workspace root) names (its default groups are the plan's development groups, not
/// roots); two plans are reviewed snapshots.
#[test]
fn every_uv_fixture_plans() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let expected_roots: [(&str, &[&str]); 5] = [
        // main dependencies; the default `dev` group is a development group
        ("flask-pillow", &["flask", "pillow", "requests"]),
        // colorama only on Windows, tomli only before 3.11
        ("forks", &["numpy"]),
        // attrs and the member ws-app; default groups dev (six, include lint) and lint (idna)
        ("workspace", &["attrs", "ws-app"]),
        // every member: vr-app (attrs), vr-lib (idna); vr-tool is virtual
        ("virtual-root", &["attrs", "idna"]),
        ("old-revision", &["attrs", "idna"]),
    ];
    for (name, roots) in expected_roots {
        let dir = fixture_dir(&format!("uv/{name}"));
        // Run from the repository root, so the workspace's member paths are stable.
        let mut args = vec!["lock", path_str(&dir), "--format", "json"];
        args.extend(LINUX_312);
        let output = py2nix_with_env(
            &args,
            cache.path(),
            &[("PY2NIX_INDEX_URL", &server.url)],
            Some(&repo_root()),
        );
        let text = ok(&output);
        let plan: serde_json::Value = serde_json::from_str(&text).expect("JSON plan");
        check_invariants(&plan);
        crate::common::assert_fits_the_plan_schema(name, &text);
        assert_eq!(
            plan["targets"].as_object().expect("targets").len(),
            1,
            "{name}"
        );
        assert_eq!(strings(&plan["targets"][ID_312]["roots"]), roots, "{name}");
        // The default groups are held, and are what a development environment adds.
        let project = &plan["project"];
        let dev_groups = strings(&project["dev-groups"]);
        for group in &dev_groups {
            assert!(
                strings(&project["groups"]).contains(group),
                "{name}: {group}"
            );
        }
        let expected_dev: &[&str] = match name {
            "forks" => &[],
            "workspace" => &["dev", "lint"],
            _ => &["dev"],
        };
        assert_eq!(dev_groups, expected_dev, "{name}");
        if name == "flask-pillow" || name == "workspace" {
            // The plan as printed, but for `inputs` (provenance: file and override database
            // hashes), which changes with every edit of the override database.
            insta::assert_snapshot!(format!("plan-uv-{name}"), without_inputs(&text));
        }
    }
}

/// A printed plan without its top-level `inputs` object (two-space indented, as printed).
fn without_inputs(text: &str) -> String {
    let Some(start) = text.find("\n  \"inputs\": {\n") else {
        return text.to_string();
    };
    let end = start + 1 + text[start + 1..].find("\n  },\n").expect("end of inputs") + 6;
    format!("{}{}", &text[..start + 1], &text[end..])
}

#[test]
fn groups_are_held_by_default_and_flags_narrow_them() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let dir = fixture_dir("uv/flask-pillow");
    let held = json_plan(&dir, &LINUX_312, &server, cache.path());
    let target = &held["targets"][ID_312];
    assert_eq!(strings(&target["roots"]), ["flask", "pillow", "requests"]);
    assert_eq!(strings(&held["project"]["groups"]), ["dev"]);
    assert_eq!(strings(&held["project"]["dev-groups"]), ["dev"]);
    let all = packages(&held, ID_312);
    // What the dev group adds: exactly what only pytest's closure reaches.
    let closure = |roots: &[&str]| {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<String> = roots.iter().map(|r| r.to_string()).collect();
        while let Some(name) = stack.pop() {
            if seen.insert(name.clone()) {
                stack.extend(strings(&all[&name]["dependencies"]));
            }
        }
        seen
    };
    let main_closure = closure(&["flask", "pillow", "requests"]);
    let only_dev: BTreeSet<String> = closure(&["pytest"])
        .difference(&main_closure)
        .cloned()
        .collect();
    assert!(
        only_dev.contains("pytest") && only_dev.len() > 1,
        "{only_dev:?}"
    );
    let selections = &target["selections"];
    assert_eq!(
        strings(&selections["main"])
            .into_iter()
            .collect::<BTreeSet<_>>(),
        main_closure
    );
    assert_eq!(
        strings(&selections["groups"]["dev"])
            .into_iter()
            .collect::<BTreeSet<_>>(),
        only_dev
    );

    // --no-default-groups: the same packages, no development group.
    let mut args = LINUX_312.to_vec();
    args.push("--no-default-groups");
    let without = json_plan(&dir, &args, &server, cache.path());
    assert_eq!(without["targets"][ID_312]["packages"], target["packages"]);
    assert!(without["project"].get("dev-groups").is_none());

    // --group dev: the group is held and its requirement a root.
    let mut args = LINUX_312.to_vec();
    args.extend(["--group", "dev"]);
    let asked = json_plan(&dir, &args, &server, cache.path());
    assert_eq!(
        strings(&asked["targets"][ID_312]["roots"]),
        ["flask", "pillow", "pytest", "requests"]
    );
    assert_eq!(asked["targets"][ID_312]["packages"], target["packages"]);

    // An unknown group names the known ones.
    let mut args = vec!["lock", path_str(&dir)];
    args.extend(LINUX_312);
    args.extend(["--group", "lint"]);
    let message = fails(&args, &server, cache.path());
    assert!(
        message.contains("the project has no group `lint` (it has: dev)"),
        "{message}"
    );
}

/// A marker of the form `python_full_version <op> 'X.Y[.Z]'` evaluated for `full`.
fn python_marker_holds(marker: &str, full: &str) -> bool {
    let parse = |v: &str| -> Vec<u32> {
        let mut parts: Vec<u32> = v.split('.').map(|p| p.parse().expect("number")).collect();
        parts.resize(3, 0);
        parts
    };
    let rest = marker
        .strip_prefix("python_full_version ")
        .unwrap_or_else(|| panic!("unexpected marker {marker}"));
    let (op, version) = rest.split_once(' ').expect("op and version");
    let (left, right) = (parse(full), parse(version.trim_matches('\'')));
    match op {
        "<" => left < right,
        "<=" => left <= right,
        ">" => left > right,
        ">=" => left >= right,
        "==" => left == right,
        other => panic!("unexpected operator {other}"),
    }
}

/// forks: the lock holds two numpy versions, each with the resolution markers of its fork;
/// each target gets the one whose markers hold for its Python.
#[test]
fn forks_pick_numpy_by_the_locks_resolution_markers() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let dir = fixture_dir("uv/forks");
    let lock = std::fs::read_to_string(dir.join("uv.lock")).expect("uv.lock");
    // The numpy blocks of the lock: version -> resolution markers.
    let mut forks: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for block in lock.split("\n[[package]]\n") {
        let Some(rest) = block.strip_prefix("name = \"numpy\"\nversion = \"") else {
            continue;
        };
        let version = rest[..rest.find('"').expect("quote")].to_string();
        let markers_at = block.find("resolution-markers = [").expect("markers");
        let markers_end = markers_at + block[markers_at..].find(']').expect("]");
        let markers = block[markers_at..markers_end]
            .lines()
            .skip(1)
            .map(|l| l.trim().trim_end_matches(',').trim_matches('"').to_string())
            .filter(|l| !l.is_empty())
            .collect();
        forks.insert(version, markers);
    }
    assert_eq!(forks.len(), 2, "{forks:?}");
    let plan = json_plan(
        &dir,
        &[
            "--system",
            "x86_64-linux",
            "--python",
            "3.11",
            "--python",
            "3.12",
        ],
        &server,
        cache.path(),
    );
    check_invariants(&plan);
    let mut chosen = BTreeSet::new();
    for id in ["x86_64-linux-cp311", "x86_64-linux-cp312"] {
        let full = plan["targets"][id]["python-full-version"]
            .as_str()
            .expect("full version");
        let expected: Vec<&String> = forks
            .iter()
            .filter(|(_, markers)| markers.iter().any(|m| python_marker_holds(m, full)))
            .map(|(version, _)| version)
            .collect();
        assert_eq!(expected.len(), 1, "{id}: {forks:?}");
        let numpy = &packages(&plan, id)["numpy"];
        assert_eq!(numpy["version"], expected[0].as_str(), "{id}");
        let filename = numpy["src"]["filename"].as_str().expect("filename");
        assert!(
            filename.starts_with(&format!("numpy-{}-", expected[0])),
            "{id}: {filename}"
        );
        chosen.insert(expected[0].clone());
    }
    assert_eq!(
        chosen.len(),
        2,
        "the two targets get different numpy versions"
    );

    // The `http` extra turns on requests with its own `socks` extra.
    let plan = json_plan(
        &dir,
        &[
            "--system",
            "x86_64-linux",
            "--python",
            "3.12",
            "--extra",
            "http",
        ],
        &server,
        cache.path(),
    );
    let planned = packages(&plan, ID_312);
    assert_eq!(planned["requests"]["extras"], serde_json::json!(["socks"]));
    assert!(strings(&planned["requests"]["dependencies"]).contains(&"pysocks".to_string()));
}

/// uv/flask-pillow without its dev group and poetry/flask-pillow (the same project, the uv one
/// constrained to Poetry's versions) plan the same file with the same URL and hash for every
/// package both pin at the same version, on every default target.
#[test]
fn uv_and_poetry_locks_of_one_project_plan_the_same_files() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let uv = json_plan(
        &fixture_dir("uv/flask-pillow"),
        &["--no-default-groups"],
        &server,
        cache.path(),
    );
    let poetry = json_plan(&fixture("flask-pillow"), &[], &server, cache.path());
    let uv_targets = uv["targets"].as_object().expect("targets");
    let poetry_targets = poetry["targets"].as_object().expect("targets");
    assert_eq!(
        uv_targets.keys().collect::<Vec<_>>(),
        poetry_targets.keys().collect::<Vec<_>>()
    );
    assert_eq!(uv_targets.len(), 12, "4 systems x 3.11-3.13");
    // The versions the uv project is constrained to: every package of the Poetry plan named
    // there must be in the overlap.
    let pyproject =
        std::fs::read_to_string(fixture_dir("uv/flask-pillow/pyproject.toml")).expect("read");
    let constrained: BTreeSet<String> = pyproject
        .lines()
        .filter_map(|l| l.trim().strip_prefix('"')?.split_once("=="))
        .map(|(name, _)| name.to_string())
        .collect();
    assert!(constrained.len() > 10, "{constrained:?}");
    let mut compared = 0;
    for (id, target) in uv_targets {
        let uv_packages = target["packages"].as_object().expect("packages");
        let poetry_packages = packages(&poetry, id);
        let mut overlap = Vec::new();
        let mut differing = Vec::new();
        for name in uv_packages.keys().chain(poetry_packages.keys()) {
            match (uv_packages.get(name), poetry_packages.get(name)) {
                (Some(u), Some(p)) if u["version"] == p["version"] => {
                    if !overlap.contains(name) {
                        overlap.push(name.clone());
                    }
                }
                _ => differing.push(name.clone()),
            }
        }
        eprintln!(
            "{id}: {} packages compared, differing: {differing:?}",
            overlap.len()
        );
        for name in &overlap {
            let (u, p) = (&uv_packages[name], &poetry_packages[name]);
            for field in ["filename", "url", "hash", "kind"] {
                assert_eq!(u["src"][field], p["src"][field], "{id}: {name}: {field}");
            }
            assert_eq!(u["dependencies"], p["dependencies"], "{id}: {name}");
            compared += 1;
        }
        for name in poetry_packages.keys() {
            if constrained.contains(name) {
                assert!(overlap.contains(name), "{id}: {name} is pinned by both");
            }
        }
        for root in ["flask", "pillow", "requests", "werkzeug", "markupsafe"] {
            assert!(overlap.contains(&root.to_string()), "{id}: {root}");
        }
        assert_eq!(target["roots"], poetry["targets"][id]["roots"], "{id}");
    }
    assert!(compared >= 12 * 12, "only {compared} packages compared");
}

// ---------------------------------------------------------------------------------------------
// pylock.toml and requirements files: dependencies from core metadata

/// The names in a wheel's `Requires-Dist` without a marker, read independently of py2nix: the
/// whole wheel downloaded with curl, its `*.dist-info/METADATA` read by Python's zipfile.
fn unconditional_requires_dist(wheel_url: &str) -> BTreeSet<String> {
    let work = tempfile::tempdir().expect("tempdir");
    let wheel = work.path().join("file.whl");
    let output = Command::new("curl")
        .args([
            "--silent",
            "--show-error",
            "--fail",
            "--location",
            "--output",
        ])
        .arg(&wheel)
        .arg(wheel_url)
        .output()
        .expect("run curl");
    assert!(
        output.status.success(),
        "curl {wheel_url}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let output = Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nname = next(n for n in z.namelist() if n.endswith('.dist-info/METADATA') and n.count('/') == 1)\nsys.stdout.write(z.read(name).decode())",
        ])
        .arg(&wheel)
        .output()
        .expect("run python3");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata = String::from_utf8(output.stdout).expect("utf-8 metadata");
    let names: BTreeSet<String> = metadata
        .lines()
        .filter_map(|line| line.strip_prefix("Requires-Dist:"))
        .filter(|requirement| !requirement.contains(';'))
        .map(|requirement| {
            let name: String = requirement
                .trim()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                .collect();
            name.to_ascii_lowercase().replace(['_', '.'], "-")
        })
        .collect();
    assert!(
        !names.is_empty(),
        "{wheel_url}: no Requires-Dist in\n{metadata}"
    );
    names
}

/// pylock.toml records no dependencies; py2nix reads them from each package's real core
/// metadata. The roots are the pyproject's direct dependencies. A second run `--offline` from
/// the same cache gives the same plan.
#[test]
fn pylock_plans_with_dependencies_from_core_metadata() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let dir = fixture_dir("pylock/flask-pillow");
    let lock = dir.join("pylock.toml");
    let mut args = vec![
        "lock",
        path_str(&dir),
        "--lock",
        path_str(&lock),
        "--format",
        "json",
    ];
    args.extend(LINUX_312);
    let first = ok(&py2nix(&args, &server, cache.path()));
    let plan: serde_json::Value = serde_json::from_str(&first).expect("JSON plan");
    check_invariants(&plan);
    let planned = packages(&plan, ID_312);

    // Installed: every package whose marker holds on linux/3.12 (the export has every extra and
    // group); not the Windows-only or pre-3.11 ones.
    for name in [
        "flask", "pillow", "requests", "pysocks", "pyyaml", "pytest", "werkzeug",
    ] {
        assert!(planned.contains_key(name), "{name}");
    }
    for name in [
        "colorama",
        "exceptiongroup",
        "tomli",
        "importlib-metadata",
        "zipp",
    ] {
        assert!(!planned.contains_key(name), "{name} is not for linux/3.12");
    }
    // The roots: the pyproject's direct dependencies, then what they do not reach and nothing
    // depends on (the dev group's pytest, the yaml extra's pyyaml, and pysocks: the lock does
    // not record that requests' socks extra is on, so requests' edges do not include it).
    let roots = strings(&plan["targets"][ID_312]["roots"]);
    let depended: BTreeSet<String> = planned
        .values()
        .flat_map(|p| strings(&p["dependencies"]))
        .collect();
    for root in &roots {
        assert!(
            ["flask", "pillow", "requests"].contains(&root.as_str()) || !depended.contains(root),
            "{root} is a root, but a planned package depends on it"
        );
    }
    assert_eq!(
        roots,
        ["flask", "pillow", "pysocks", "pytest", "pyyaml", "requests"]
    );

    // Dependencies are the wheels' real Requires-Dist. For these packages every marked
    // requirement is an extra, Windows-only or for Python < 3.11, so on linux/3.12 the
    // dependencies are exactly the unmarked ones.
    for name in ["flask", "jinja2", "werkzeug", "pytest"] {
        let src = &planned[name]["src"];
        assert_eq!(src["kind"], "wheel", "{name}");
        let expected = unconditional_requires_dist(src["url"].as_str().expect("url"));
        let got: BTreeSet<String> = strings(&planned[name]["dependencies"])
            .into_iter()
            .collect();
        assert_eq!(got, expected, "{name}");
    }
    let requests_expected =
        unconditional_requires_dist(planned["requests"]["src"]["url"].as_str().expect("url"));
    let requests_deps: BTreeSet<String> = strings(&planned["requests"]["dependencies"])
        .into_iter()
        .collect();
    assert!(
        requests_deps.is_superset(&requests_expected),
        "{requests_deps:?}"
    );
    assert!(requests_expected.contains("urllib3") && requests_expected.contains("certifi"));

    // The lock writes pysocks' wheel name normalised (`pysocks-…`); the index lists it as
    // uploaded (`PySocks-…`): it is still the wheel, with the lock's hash.
    let pysocks = &planned["pysocks"]["src"];
    assert_eq!(pysocks["kind"], "wheel");
    assert!(
        pysocks["url"]
            .as_str()
            .expect("url")
            .ends_with("/PySocks-1.7.1-py3-none-any.whl"),
        "{pysocks}"
    );

    // --offline from the same cache: pages and metadata come from it, and the plan is the same.
    let requests_before = server.requests();
    let mut offline = args.clone();
    offline.push("--offline");
    let second = ok(&py2nix(&offline, &server, cache.path()));
    assert_eq!(server.requests(), requests_before, "--offline asks nothing");
    assert_eq!(second, first);
}

/// A pip-compile'd requirements file: the pins and their hashes, dependencies from core
/// metadata (with `requests[socks]`'s extra), and no pyproject.toml needed.
#[test]
fn a_requirements_file_plans_its_pins() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let dir = fixture_dir("requirements/flask-pillow");
    let file = dir.join("requirements.txt");
    let mut args = vec!["-v", "lock", path_str(&dir), "--format", "json"];
    args.extend(LINUX_312);
    let output = py2nix(&args, &server, cache.path());
    let plan: serde_json::Value = serde_json::from_str(&ok(&output)).expect("JSON plan");
    assert!(
        stderr(&output).contains(&format!("reading {} as requirements.txt", file.display())),
        "{}",
        stderr(&output)
    );
    check_invariants(&plan);
    // The file's pins and hashes, read here from its text.
    let text = std::fs::read_to_string(&file).expect("requirements.txt");
    let mut pins: BTreeMap<String, (String, Vec<String>)> = BTreeMap::new();
    let mut current = None;
    for line in text.lines() {
        if let Some((name, rest)) = line.split_once("==") {
            let name = name.split('[').next().expect("name").to_ascii_lowercase();
            let version = rest.trim_end_matches(" \\").trim().to_string();
            pins.insert(name.clone(), (version, Vec::new()));
            current = Some(name);
        } else if let Some(hash) = line.trim().strip_prefix("--hash=sha256:") {
            let hex = hash.trim_end_matches(" \\").trim().to_string();
            pins.get_mut(current.as_ref().expect("a pin"))
                .expect("pin")
                .1
                .push(hex);
        }
    }
    let planned = packages(&plan, ID_312);
    // Every pin applies on linux/3.12 but colorama (Windows), importlib-metadata and zipp (< 3.10).
    let expected: BTreeSet<&String> = pins
        .keys()
        .filter(|n| !["colorama", "importlib-metadata", "zipp"].contains(&n.as_str()))
        .collect();
    assert_eq!(planned.keys().collect::<BTreeSet<_>>(), expected);
    for (name, package) in planned {
        let (version, hashes) = &pins[name];
        assert_eq!(&package["version"], version.as_str(), "{name}");
        let hash = package["src"]["hash"].as_str().expect("hash");
        let hex = sri_sha256_hex(hash);
        assert!(
            hashes.contains(&hex),
            "{name}: {hash} is none of the file's hashes"
        );
    }
    assert_eq!(
        strings(&plan["targets"][ID_312]["roots"]),
        ["flask", "pillow", "requests"],
        "what nothing depends on"
    );
    assert_eq!(
        strings(&planned["flask"]["dependencies"]),
        [
            "blinker",
            "click",
            "itsdangerous",
            "jinja2",
            "markupsafe",
            "werkzeug"
        ]
    );
    assert_eq!(planned["requests"]["extras"], serde_json::json!(["socks"]));
    assert!(strings(&planned["requests"]["dependencies"]).contains(&"pysocks".to_string()));
}

/// `sha256-<base64>` as lower-case hex.
fn sri_sha256_hex(sri: &str) -> String {
    let b64 = sri.strip_prefix("sha256-").expect("a sha256 SRI hash");
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let (mut bits, mut count, mut out) = (0u32, 0, String::new());
    for c in b64.bytes().filter(|&c| c != b'=') {
        bits = (bits << 6) | ALPHABET.iter().position(|&a| a == c).expect("base64") as u32;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push_str(&format!("{:02x}", (bits >> count) as u8));
            bits &= (1 << count) - 1;
        }
    }
    out
}

/// A copy of requirements/flask-pillow/requirements.txt with `edit` applied.
fn edited_requirements(edit: impl Fn(&str) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = std::fs::read_to_string(fixture_dir("requirements/flask-pillow/requirements.txt"))
        .expect("read");
    std::fs::write(dir.path().join("requirements.txt"), edit(&text)).expect("write");
    dir
}

#[test]
fn an_unpinned_requirement_is_named_by_file_and_line() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    let dir = edited_requirements(|text| text.replace("\nclick==8.1.8 ", "\nclick>=8.1 "));
    let file = dir.path().join("requirements.txt");
    let line = std::fs::read_to_string(&file)
        .expect("read")
        .lines()
        .position(|l| l.starts_with("click>=8.1"))
        .expect("the edited line")
        + 1;
    let mut args = vec!["lock", path_str(dir.path())];
    args.extend(LINUX_312);
    let message = fails(&args, &server, cache.path());
    assert!(
        message.contains(&format!("{}:{line}:", file.display())),
        "{message}"
    );
    assert!(message.contains("`click` is not pinned"), "{message}");
    assert_eq!(server.requests(), 0);
}

#[test]
fn a_hash_no_file_on_the_index_has_names_the_package() {
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    // blinker's two hashes (wheel and sdist) replaced by one that no file has.
    let dir = edited_requirements(|text| {
        let start = text.find("\nblinker==1.9.0 \\\n").expect("blinker") + 1;
        let end = start + text[start..].find("    # via").expect("via");
        format!(
            "{}blinker==1.9.0 \\\n    --hash=sha256:{}\n{}",
            &text[..start],
            "ab".repeat(32),
            &text[end..]
        )
    });
    let mut args = vec!["lock", path_str(dir.path())];
    args.extend(LINUX_312);
    let message = fails(&args, &server, cache.path());
    assert!(message.contains("`blinker` 1.9.0"), "{message}");
    assert!(
        message.contains(&format!(
            "no file of this version on {}blinker/",
            server.url
        )),
        "{message}"
    );
    let errors = message
        .lines()
        .filter(|l| !l.starts_with("py2nix: "))
        .count();
    assert_eq!(errors, 1, "only blinker fails: {message}");
}
