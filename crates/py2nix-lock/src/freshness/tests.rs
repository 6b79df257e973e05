//! Tests of the freshness checks against the real locks in fixtures/: each lock is current
//! for its own pyproject.toml, an edit of a dependency makes it stale, a cosmetic edit does not.

use super::*;

macro_rules! fixture {
    ($path:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/",
            $path
        ))
    };
}

/// (name, poetry.lock, pyproject.toml) of every Poetry fixture.
const POETRY: [(&str, &str, &str); 7] = [
    (
        "cycle",
        fixture!("poetry/cycle/poetry.lock"),
        fixture!("poetry/cycle/pyproject.toml"),
    ),
    (
        "data-science",
        fixture!("poetry/data-science/poetry.lock"),
        fixture!("poetry/data-science/pyproject.toml"),
    ),
    (
        "flask-pillow",
        fixture!("poetry/flask-pillow/poetry.lock"),
        fixture!("poetry/flask-pillow/pyproject.toml"),
    ),
    (
        "groups",
        fixture!("poetry/groups/poetry.lock"),
        fixture!("poetry/groups/pyproject.toml"),
    ),
    (
        "lock-1-1",
        fixture!("poetry/lock-1-1/poetry.lock"),
        fixture!("poetry/lock-1-1/pyproject.toml"),
    ),
    (
        "markers-extras",
        fixture!("poetry/markers-extras/poetry.lock"),
        fixture!("poetry/markers-extras/pyproject.toml"),
    ),
    (
        "pep735-groups",
        fixture!("poetry/pep735-groups/poetry.lock"),
        fixture!("poetry/pep735-groups/pyproject.toml"),
    ),
];

const PDM: [(&str, &str, &str); 2] = [
    (
        "flask",
        fixture!("pdm/flask/pdm.lock"),
        fixture!("pdm/flask/pyproject.toml"),
    ),
    (
        "local-path",
        fixture!("pdm/local-path/pdm.lock"),
        fixture!("pdm/local-path/pyproject.toml"),
    ),
];

fn recorded_content_hash(lock: &str, key: &str) -> String {
    let line = lock
        .lines()
        .find(|line| line.starts_with(key))
        .unwrap_or_else(|| panic!("no {key}"));
    line.split('"')
        .nth(1)
        .unwrap()
        .trim_start_matches("sha256:")
        .to_string()
}

fn is_stale(freshness: &LockFreshness) -> bool {
    matches!(freshness, LockFreshness::Stale(_))
}

/// Adds `line` right after the first line that starts with `after`.
fn insert_after(text: &str, after: &str, line: &str) -> String {
    let start = text
        .find(after)
        .unwrap_or_else(|| panic!("no `{after}` in the text"));
    let end = start + text[start..].find('\n').unwrap() + 1;
    format!("{}{line}\n{}", &text[..end], &text[end..])
}

/// Edits or adds a description, authors, a readme and keywords in the project's first table.
fn cosmetic_edit(pyproject: &str) -> String {
    let table = ["[project]", "[tool.poetry]"]
        .into_iter()
        .find(|table| pyproject.contains(&format!("{table}\n")))
        .expect("a [project] or [tool.poetry] table");
    let edited = pyproject.replacen("\ndescription = \"", "\ndescription = \"Edited. ", 1);
    let added: Vec<&str> = [
        ("description", "description = \"Edited.\""),
        ("readme", "readme = \"README.md\""),
        ("keywords", "keywords = [\"x\"]"),
        ("authors", "authors = [\"A <a@example.org>\"]"),
    ]
    .into_iter()
    .filter(|(key, _)| !pyproject.contains(&format!("\n{key} = ")))
    .map(|(_, line)| line)
    .collect();
    let edited = insert_after(&edited, table, &added.join("\n"));
    assert_ne!(edited, pyproject);
    edited
}

#[test]
fn every_poetry_fixture_hashes_to_its_content_hash() {
    for (name, lock, pyproject) in POETRY {
        let recorded = recorded_content_hash(lock, "content-hash");
        let version = poetry_version_of(lock);
        let algorithm = match version {
            Some((1, _, _)) | None => PoetryHashAlgorithm::Poetry1,
            Some(_) => PoetryHashAlgorithm::WithDependencyGroups,
        };
        assert_eq!(
            poetry_content_hash(pyproject, algorithm)
                .unwrap()
                .as_deref(),
            Some(recorded.as_str()),
            "{name}"
        );
        assert_eq!(
            poetry_lock_freshness(lock, pyproject).unwrap(),
            LockFreshness::Current,
            "{name}"
        );
    }
}

#[test]
fn poetry_before_2_3_hashed_without_dependency_groups() {
    // pep735-groups was locked by Poetry 2.5; with the groups left out its hash differs, so
    // only the algorithm of 2.3 and later reproduces it.
    let (_, lock, pyproject) = POETRY[6];
    let recorded = recorded_content_hash(lock, "content-hash");
    let without = poetry_content_hash(pyproject, PoetryHashAlgorithm::WithoutDependencyGroups)
        .unwrap()
        .unwrap();
    assert_ne!(without, recorded);
    // The same file with a header of Poetry 2.2 is current only by the older algorithm.
    let older = lock.replacen("Poetry 2.5.1", "Poetry 2.2.0", 1);
    let relabelled = older.replace(&recorded, &without);
    assert_eq!(
        poetry_lock_freshness(&relabelled, pyproject).unwrap(),
        LockFreshness::Current
    );
}

#[test]
fn poetry_dependency_edits_are_stale_and_cosmetic_edits_are_not() {
    for (name, lock, pyproject) in POETRY {
        let table = if pyproject.contains("[tool.poetry.dependencies]") {
            "[tool.poetry.dependencies]"
        } else {
            "dependencies = ["
        };
        let line = if table.starts_with('[') {
            "tomli = \"^2\""
        } else {
            "    \"tomli>=2\","
        };
        let edited = insert_after(pyproject, table, line);
        let LockFreshness::Stale(staleness) = poetry_lock_freshness(lock, &edited).unwrap() else {
            panic!("{name}: an added dependency is not stale");
        };
        assert!(
            staleness.differences[0].contains("content-hash differs"),
            "{name}"
        );
        let expected = if lock.contains("Poetry 1.") || !lock.starts_with('#') {
            "poetry lock --no-update"
        } else {
            "poetry lock"
        };
        assert_eq!(staleness.relock, expected, "{name}");
        let cosmetic = cosmetic_edit(pyproject);
        assert_eq!(
            poetry_lock_freshness(lock, &cosmetic).unwrap(),
            LockFreshness::Current,
            "{name}"
        );
    }
}

#[test]
fn every_pdm_fixture_hashes_to_its_content_hash() {
    for (name, lock, pyproject) in PDM {
        let recorded = recorded_content_hash(lock, "content_hash");
        assert_eq!(
            pdm_content_hash(pyproject).unwrap().as_deref(),
            Some(recorded.as_str()),
            "{name}"
        );
        assert_eq!(
            pdm_lock_freshness(lock, pyproject).unwrap(),
            LockFreshness::Current
        );
        let edited = pyproject.replacen("dependencies = [", "dependencies = [\n    \"tomli\",", 1);
        let freshness = pdm_lock_freshness(lock, &edited).unwrap();
        assert!(is_stale(&freshness), "{name}: {freshness:?}");
        let LockFreshness::Stale(staleness) = freshness else {
            unreachable!()
        };
        assert_eq!(staleness.relock, "pdm lock");
        let cosmetic = cosmetic_edit(pyproject);
        assert_eq!(
            pdm_lock_freshness(lock, &cosmetic).unwrap(),
            LockFreshness::Current,
            "{name}"
        );
    }
}

struct UvFixture {
    name: &'static str,
    lock: &'static str,
    members: Vec<(&'static str, &'static str)>,
}

fn uv_fixtures() -> Vec<UvFixture> {
    vec![
        UvFixture {
            name: "flask-pillow",
            lock: fixture!("uv/flask-pillow/uv.lock"),
            members: vec![(".", fixture!("uv/flask-pillow/pyproject.toml"))],
        },
        UvFixture {
            name: "forks",
            lock: fixture!("uv/forks/uv.lock"),
            members: vec![(".", fixture!("uv/forks/pyproject.toml"))],
        },
        UvFixture {
            name: "old-revision",
            lock: fixture!("uv/old-revision/uv.lock"),
            members: vec![(".", fixture!("uv/old-revision/pyproject.toml"))],
        },
        UvFixture {
            name: "sdist-build",
            lock: fixture!("uv/sdist-build/uv.lock"),
            members: vec![(".", fixture!("uv/sdist-build/pyproject.toml"))],
        },
        UvFixture {
            name: "virtual-root",
            lock: fixture!("uv/virtual-root/uv.lock"),
            members: vec![
                (".", fixture!("uv/virtual-root/pyproject.toml")),
                (
                    "packages/tool",
                    fixture!("uv/virtual-root/packages/tool/pyproject.toml"),
                ),
            ],
        },
        UvFixture {
            name: "workspace",
            lock: fixture!("uv/workspace/uv.lock"),
            members: vec![
                (".", fixture!("uv/workspace/pyproject.toml")),
                (
                    "packages/app",
                    fixture!("uv/workspace/packages/app/pyproject.toml"),
                ),
                (
                    "packages/lib",
                    fixture!("uv/workspace/packages/lib/pyproject.toml"),
                ),
            ],
        },
    ]
}

fn uv_check(lock: &str, members: &[(&str, &str)]) -> LockFreshness {
    let members: Vec<MemberPyproject> = members
        .iter()
        .map(|(path, text)| MemberPyproject { path, text })
        .collect();
    uv_lock_freshness(lock, &members).unwrap()
}

/// Each uv fixture's pyproject.toml files, with `edit` applied to the one at `path`.
fn uv_edited(
    fixture: &UvFixture,
    path: &str,
    edit: impl Fn(&str) -> String,
) -> Vec<(&'static str, String)> {
    fixture
        .members
        .iter()
        .map(|(p, text)| {
            (
                *p,
                if *p == path {
                    edit(text)
                } else {
                    text.to_string()
                },
            )
        })
        .collect()
}

fn uv_check_owned(lock: &str, members: &[(&'static str, String)]) -> LockFreshness {
    let borrowed: Vec<(&str, &str)> = members.iter().map(|(p, t)| (*p, t.as_str())).collect();
    uv_check(lock, &borrowed)
}

#[test]
fn every_uv_fixture_is_current() {
    for fixture in uv_fixtures() {
        assert_eq!(
            uv_check(fixture.lock, &fixture.members),
            LockFreshness::Current,
            "{}",
            fixture.name
        );
    }
}

/// (fixture, member path, edit, text the difference must contain); each verdict agrees with
/// `uv lock --check --offline` (uv 0.13.10) on the same edit: `scripts/freshness-oracle.py`
/// runs these edits and more through uv, Poetry, PDM and py2nix and compares the verdicts.
#[test]
fn uv_edits_are_named() {
    type Edit = fn(&str) -> String;
    let cases: Vec<(&str, &str, Edit, &str)> = vec![
        (
            "flask-pillow",
            ".",
            |t| t.replace("    \"pillow\",\n", ""),
            "pyproject.toml dependencies: `pillow` removed",
        ),
        (
            "flask-pillow",
            ".",
            |t| t.replace("    \"flask\",\n", "    \"flask\",\n    \"tomli\",\n"),
            "pyproject.toml dependencies: `tomli` added",
        ),
        (
            "flask-pillow",
            ".",
            |t| t.replace("\"flask\",", "\"flask>=3\","),
            "pyproject.toml dependencies: `flask` changed to `flask>=3`",
        ),
        (
            "flask-pillow",
            ".",
            |t| t.replace("dev = [\"pytest\"]", "dev = [\"pytest\", \"ruff\"]"),
            "pyproject.toml group `dev`: `ruff` added",
        ),
        (
            "forks",
            ".",
            |t| t.replace("http = [\"requests[socks]\"]", "http = [\"requests\"]"),
            "`requests[socks]; extra == 'http'` changed to `requests; extra == 'http'`",
        ),
        (
            "flask-pillow",
            ".",
            |t| t.replace("\"flask\",", "\"flask; python_version >= '3.10'\","),
            "`flask` changed to `flask; python_full_version >= '3.10'`",
        ),
        (
            "forks",
            ".",
            |t| t.replace("http = ", "web = "),
            "extra `web` added",
        ),
        (
            "forks",
            ".",
            |t| {
                t.replace(
                    "requires-python = \">=3.10\"",
                    "requires-python = \">=3.11\"",
                )
            },
            "requires-python changed",
        ),
        (
            "workspace",
            "packages/lib",
            |t| t.replace("    \"six\",\n", "    \"six\",\n    \"attrs\",\n"),
            "packages/lib/pyproject.toml dependencies: `attrs` added",
        ),
        (
            "workspace",
            ".",
            |t| t.replace("lint = [\"idna\"]", "lint = [\"idna\", \"six\"]"),
            "pyproject.toml group `lint`: `six` added",
        ),
        (
            "workspace",
            "packages/app",
            |t| t.replace("[tool.uv.sources]\nws-lib = { workspace = true }\n", ""),
            "`ws-lib (path packages/lib)` changed to `ws-lib`",
        ),
        (
            "virtual-root",
            ".",
            |t| t.replace("docs = [\"six\"]", "docs = [\"six\", \"idna\"]"),
            "pyproject.toml group `docs`: `idna` added",
        ),
        (
            "virtual-root",
            "packages/tool",
            |t| t.replace("cli = [\"colorama\"]", "cli = [\"colorama>=0.4\"]"),
            "`colorama; extra == 'cli'` changed to `colorama>=0.4; extra == 'cli'`",
        ),
    ];
    let fixtures = uv_fixtures();
    for (name, path, edit, expected) in cases {
        let fixture = fixtures.iter().find(|f| f.name == name).unwrap();
        let members = uv_edited(fixture, path, edit);
        assert_ne!(
            members.iter().map(|(_, t)| t.as_str()).collect::<Vec<_>>(),
            fixture.members.iter().map(|(_, t)| *t).collect::<Vec<_>>(),
            "the edit for `{expected}` changed nothing"
        );
        match uv_check_owned(fixture.lock, &members) {
            LockFreshness::Stale(staleness) => {
                assert!(
                    staleness.differences.iter().any(|d| d.contains(expected)),
                    "{name}: {:?} does not mention `{expected}`",
                    staleness.differences
                );
                assert_eq!(staleness.relock, "uv lock");
            }
            other => panic!("{name}: `{expected}` gave {other:?}"),
        }
    }
}

#[test]
fn uv_cosmetic_and_equivalent_edits_are_current() {
    type Edit = fn(&str) -> String;
    let cases: Vec<(&str, &str, Edit)> = vec![
        ("flask-pillow", ".", |t| {
            t.replace("description = \"", "description = \"Edited. ")
        }),
        ("flask-pillow", ".", |t| {
            t.replace("\"flask\",", "\"Flask\",")
        }),
        ("forks", ".", |t| {
            t.replace("python_version < '3.11'", "python_full_version < '3.11'")
        }),
        // Always true under requires-python >=3.9: uv simplifies it away.
        ("flask-pillow", ".", |t| {
            t.replace("\"flask\",", "\"flask; python_version >= '3.8'\",")
        }),
        ("workspace", "packages/lib", |t| {
            t.replace("description = \"", "description = \"Edited. ")
        }),
        ("workspace", ".", |t| {
            format!("{t}\n[tool.hatch.metadata]\nallow-direct-references = true\n")
        }),
    ];
    let fixtures = uv_fixtures();
    for (name, path, edit) in cases {
        let fixture = fixtures.iter().find(|f| f.name == name).unwrap();
        let members = uv_edited(fixture, path, edit);
        assert_eq!(
            uv_check_owned(fixture.lock, &members),
            LockFreshness::Current,
            "{name} {path}"
        );
    }
}

#[test]
fn a_new_or_removed_workspace_member_is_named() {
    let fixtures = uv_fixtures();
    let workspace = fixtures.iter().find(|f| f.name == "workspace").unwrap();
    let mut members = uv_edited(workspace, "", |t| t.to_string());
    members.push((
        "packages/extra",
        "[project]\nname = \"ws-extra\"\nversion = \"1\"\nrequires-python = \">=3.11\"\n"
            .to_string(),
    ));
    let LockFreshness::Stale(staleness) = uv_check_owned(workspace.lock, &members) else {
        panic!("a new member is not stale");
    };
    assert!(staleness
        .differences
        .contains(&"workspace member `ws-extra` added".to_string()));
    members.truncate(2);
    let LockFreshness::Stale(staleness) = uv_check_owned(workspace.lock, &members) else {
        panic!("a removed member is not stale");
    };
    assert!(staleness
        .differences
        .contains(&"workspace member `ws-lib` removed".to_string()));
}

#[test]
fn dynamic_dependencies_cannot_be_checked() {
    let fixtures = uv_fixtures();
    let fixture = fixtures.iter().find(|f| f.name == "sdist-build").unwrap();
    let members = uv_edited(fixture, ".", |t| {
        t.replace(
            "version = \"0.1.0\"",
            "version = \"0.1.0\"\ndynamic = [\"dependencies\"]",
        )
    });
    assert!(matches!(
        uv_check_owned(fixture.lock, &members),
        LockFreshness::Unchecked(_)
    ));
}

#[test]
fn plan_relevant_parts_ignore_cosmetic_keys() {
    for (_, _, pyproject) in POETRY.iter().chain(PDM.iter()) {
        let relevant = pyproject_plan_relevant_json(pyproject).unwrap();
        let cosmetic = cosmetic_edit(pyproject);
        assert_eq!(pyproject_plan_relevant_json(&cosmetic).unwrap(), relevant);
        let edited = format!("{pyproject}\n[project.scripts]\nx = \"m:f\"\n");
        assert_ne!(pyproject_plan_relevant_json(&edited).unwrap(), relevant);
    }
    let root = fixture!("uv/workspace/pyproject.toml");
    let relevant = pyproject_plan_relevant_json(root).unwrap();
    for edit in [
        root.replace("\"attrs\",", "\"attrs>=23\","),
        root.replace("requires = [\"hatchling\"]", "requires = [\"setuptools\"]"),
        root.replace(
            "default-groups = [\"dev\", \"lint\"]",
            "default-groups = [\"dev\"]",
        ),
        root.replace("version = \"0.1.0\"", "version = \"0.2.0\""),
        format!("{root}\n[tool.py2nix]\noverrides = \"o\"\n"),
    ] {
        assert_ne!(
            pyproject_plan_relevant_json(&edit).unwrap(),
            relevant,
            "{edit}"
        );
    }
    let description = root.replace("description = \"", "description = \"Edited. ");
    assert_eq!(
        pyproject_plan_relevant_json(&description).unwrap(),
        relevant
    );
}

#[test]
fn poetry_versions_from_the_header() {
    assert_eq!(
        poetry_version_of("# This file is automatically @generated by Poetry 1.8.5 and should not be changed by hand.\n"),
        Some((1, 8, 5))
    );
    assert_eq!(poetry_version_of("[[package]]\n"), None);
}

#[test]
fn python_ranges_compare_by_meaning() {
    assert!(same_python_range(">=3.9, <3.14", &[">=3.9,<3.14"]));
    assert!(same_python_range(">=3.11", &[">=3.9", ">=3.11"]));
    assert!(!same_python_range(">=3.10", &[">=3.11"]));
}

/// Prefixes of the real locks and pyproject.toml files (cut every few bytes) gives an
/// answer or an error, never a panic.
#[test]
fn truncated_inputs_never_panic() {
    fn prefixes(text: &str, step: usize) -> impl Iterator<Item = &str> {
        (0..text.len())
            .step_by(step)
            .filter(|cut| text.is_char_boundary(*cut))
            .map(|cut| &text[..cut])
    }
    for fixture in uv_fixtures() {
        for lock in prefixes(fixture.lock, 997) {
            let _ = uv_lock_freshness(
                lock,
                &fixture
                    .members
                    .iter()
                    .map(|(path, text)| MemberPyproject { path, text })
                    .collect::<Vec<_>>(),
            );
        }
        for (index, (_, text)) in fixture.members.iter().enumerate() {
            for pyproject in prefixes(text, 23) {
                let mut members: Vec<MemberPyproject> = fixture
                    .members
                    .iter()
                    .map(|(path, text)| MemberPyproject { path, text })
                    .collect();
                members[index].text = pyproject;
                let _ = uv_lock_freshness(fixture.lock, &members);
                let _ = pyproject_plan_relevant_json(pyproject);
            }
        }
    }
    for (_, lock, pyproject) in POETRY {
        for cut in prefixes(lock, 331) {
            let _ = poetry_lock_freshness(cut, pyproject);
        }
        for cut in prefixes(pyproject, 7) {
            let _ = poetry_lock_freshness(lock, cut);
        }
    }
    for (_, lock, pyproject) in PDM {
        for cut in prefixes(lock, 331) {
            let _ = pdm_lock_freshness(cut, pyproject);
        }
        for cut in prefixes(pyproject, 7) {
            let _ = pdm_lock_freshness(lock, cut);
        }
    }
}
