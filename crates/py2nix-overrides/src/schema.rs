//! The JSON Schema of `override.toml`, generated from the wire types and committed as
//! `overrides/override.schema.json`.

use std::path::PathBuf;

use crate::rule::OverrideFileWire;

fn committed_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../overrides/override.schema.json")
}

/// The schema as committed: pretty JSON with a final newline.
pub(crate) fn generate() -> String {
    let schema = schemars::schema_for!(OverrideFileWire);
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
        "overrides/override.schema.json is out of date with the wire types in \
         crates/py2nix-overrides/src/rule.rs; regenerate it with\n\n    \
         UPDATE_SCHEMA=1 cargo test -p py2nix-overrides\n"
    );
}

#[test]
fn the_schema_describes_the_keys() {
    let schema: serde_json::Value = serde_json::from_str(&generate()).unwrap();
    assert_eq!(schema["additionalProperties"], false);
    assert_eq!(
        schema["required"],
        serde_json::json!(["schema-version", "rule"])
    );
    let rule = &schema["$defs"]["RuleWire"];
    assert_eq!(rule["additionalProperties"], false);
    let keys: Vec<&str> = rule["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "versions",
            "applies-to",
            "build-system",
            "build-requires",
            "build-requires-replace",
            "native-build-inputs",
            "build-inputs",
            "propagated-build-inputs",
            "env",
            "patches",
            "build-flags",
            "sonames",
            "ignore-missing",
            "runpath-packages"
        ]
    );
}

fn committed_sonames_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../overrides/sonames.schema.json")
}

#[test]
fn the_committed_soname_schema_is_up_to_date() {
    let schema = schemars::schema_for!(crate::sonames::SonameFileWire);
    let mut generated = serde_json::to_string_pretty(&schema).unwrap();
    generated.push('\n');
    let path = committed_sonames_path();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "overrides/sonames.schema.json is out of date with crates/py2nix-overrides/src/sonames.rs; \
         regenerate it with\n\n    UPDATE_SCHEMA=1 cargo test -p py2nix-overrides\n"
    );
}
