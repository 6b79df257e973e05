//! The JSON Schema of the plan, generated from the plan types and committed as
//! `docs/plan.schema.json`: what tools validate plans against (docs/plan-schema.md is the prose).

use std::path::PathBuf;

use crate::Plan;

fn committed_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/plan.schema.json")
}

/// The schema as committed: pretty JSON with a final newline.
fn generate() -> String {
    let schema = schemars::schema_for!(Plan);
    let mut text = serde_json::to_string_pretty(&schema).unwrap();
    text.push('\n');
    text
}

#[test]
fn the_committed_schema_is_up_to_date() {
    let path = committed_path();
    let generated = generate();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/plan.schema.json is out of date with the plan types in \
         crates/py2nix-plan/src/plan.rs; regenerate it with\n\n    \
         UPDATE_SCHEMA=1 cargo test -p py2nix-plan schema\n"
    );
}

#[test]
fn the_schema_tolerates_newer_fields_and_tells_sources_by_kind() {
    let schema: serde_json::Value = serde_json::from_str(&generate()).unwrap();
    // Schema 1 only gains fields: no object of the plan refuses one it does not know.
    let text = schema.to_string();
    assert!(!text.contains("\"additionalProperties\":false"), "{text}");
    assert_eq!(
        schema["required"],
        serde_json::json!(["schema", "generator", "targets"])
    );
    let kinds: Vec<&str> = schema["$defs"]["SourcePlan"]["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|variant| variant["properties"]["kind"]["const"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["wheel", "sdist", "git", "path"]);
}

/// One package of each kind of source, with every optional field set somewhere.
fn sample_plan() -> serde_json::Value {
    serde_json::json!({
        "schema": 1,
        "generator": "py2nix 0.1.0",
        "inputs": {
            "py2nix": "0.1.0", "lock": "uv.lock", "files": {"uv.lock": "sha256-AAAA"},
            "overrides": "sha256-BBBB", "options": ["--python", "3.12"]
        },
        "targets": {"x86_64-linux-cp312": {
            "system": "x86_64-linux", "python": "3.12", "python-full-version": "3.12.12",
            "platform": {"glibc": "2.40"},
            "roots": ["a", "b", "c", "d"],
            "packages": {
                "a": {"version": "1", "src": {"kind": "wheel", "filename": "a-1-py3-none-any.whl",
                    "url": "https://files.example.org/a-1-py3-none-any.whl", "hash": "sha256-AAAA",
                    "index": "private"}, "dependencies": []},
                "b": {"version": "1", "src": {"kind": "sdist", "filename": "b-1.tar.gz",
                    "url": "https://files.example.org/b-1.tar.gz", "hash": "sha512-AAAA",
                    "subdirectory": "python"}, "dependencies": ["a"],
                    "build-system": ["setuptools"], "build-requires": ["setuptools"],
                    "env": {"B_FLAG": "1"}, "patches": [{"name": "x.patch", "text": "x"}],
                    "build-flags": ["-Cx=y"],
                    "cargo": {"lock": "", "root": ".", "crates": [{"name": "c", "version": "1",
                        "url": "https://crates.example.org/c", "hash": "sha256-AAAA"}]}},
                "c": {"version": "1", "src": {"kind": "git", "url": "https://git.example.org/c",
                    "hash": "sha256-AAAA", "rev": "0123456789abcdef0123456789abcdef01234567",
                    "submodules": true}, "dependencies": [], "build-system": ["setuptools"]},
                "d": {"version": "1", "src": {"kind": "path", "path": "../d", "format": "tree",
                    "editable": true}, "dependencies": [], "build-system": ["setuptools"]}
            },
            "build-packages": {
                "setuptools": {"version": "80", "src": {"kind": "wheel",
                    "filename": "setuptools-80-py3-none-any.whl",
                    "url": "https://files.example.org/setuptools-80-py3-none-any.whl",
                    "hash": "sha256-AAAA"}, "dependencies": []}
            }
        }}
    })
}

#[test]
fn the_schema_accepts_every_kind_of_source_and_newer_fields_and_refuses_broken_plans() {
    let schema: serde_json::Value = serde_json::from_str(&generate()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let plan = sample_plan();
    let errors: Vec<String> = validator
        .iter_errors(&plan)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    // The sample is a plan as the types read and write it.
    let typed: Plan = serde_json::from_value(plan.clone()).unwrap();
    assert_eq!(serde_json::to_value(&typed).unwrap(), plan);

    let mut newer = plan.clone();
    newer["future"] = serde_json::json!(1);
    newer["targets"]["x86_64-linux-cp312"]["packages"]["a"]["src"]["mirror"] = "m".into();
    newer["targets"]["x86_64-linux-cp312"]["packages"]["b"]["later"] = "x".into();
    assert!(validator.is_valid(&newer));

    let broken: [(&str, &str, serde_json::Value); 5] = [
        ("a", "kind", "egg".into()),
        ("a", "hash", "md5-AAAA".into()),
        ("b", "url", serde_json::Value::Null),
        ("c", "rev", serde_json::Value::Null),
        ("d", "format", "directory".into()),
    ];
    for (package, field, value) in broken {
        let mut bad = plan.clone();
        let src = &mut bad["targets"]["x86_64-linux-cp312"]["packages"][package]["src"];
        match value {
            serde_json::Value::Null => {
                src.as_object_mut().unwrap().remove(field);
            }
            value => src[field] = value,
        }
        assert!(!validator.is_valid(&bad), "{package}.src.{field} accepted");
        // The types refuse what the schema refuses (but for the hash's spelling).
        if field != "hash" {
            assert!(
                serde_json::from_value::<Plan>(bad).is_err(),
                "{package}.{field}"
            );
        }
    }
}

/// Plans of older py2nix versions of schema 1 read: no `inputs`, no `build-requires`, no
/// `build-packages` (fields are only ever added within schema 1).
#[test]
fn an_older_plan_of_schema_1_reads() {
    let mut old = sample_plan();
    old.as_object_mut().unwrap().remove("inputs");
    let target = &mut old["targets"]["x86_64-linux-cp312"];
    target.as_object_mut().unwrap().remove("build-packages");
    let b = target["packages"]["b"].as_object_mut().unwrap();
    for field in ["build-requires", "env", "patches", "build-flags", "cargo"] {
        b.remove(field);
    }
    let plan: Plan = serde_json::from_value(old.clone()).unwrap();
    assert!(plan.inputs.is_none());
    for package in plan.targets["x86_64-linux-cp312"].packages.values() {
        let written = serde_json::to_value(&package.src).unwrap();
        assert_eq!(written["kind"], package.src.kind_name());
        assert_eq!(
            written["kind"],
            serde_json::to_value(package.src.kind()).unwrap()
        );
    }
    assert!(plan.targets["x86_64-linux-cp312"].build_packages.is_empty());
    assert_eq!(serde_json::to_value(&plan).unwrap(), old);
}
