//! Whatever goes into the Nix printer comes back unchanged when real Nix evaluates the printed
//! file (`nix-instantiate --eval --strict --json`): arbitrary Unicode strings, strings made of
//! the pieces that mean something in Nix (`${`, `''`, `\`, `"`, `$`), package names, versions
//! and URLs, as values and as attribute names. So no lock, and no index page, can put Nix code
//! into python.nix: a string that became code would evaluate to something else, or fail.
//!
//! Needs `nix-instantiate` (scripts/test.sh installs Debian's nix-bin).

use std::io::Write;
use std::process::{Command, Stdio};

use proptest::prelude::*;
use py2nix_nix::Expr;
use serde_json::{json, Map, Value};

/// Pieces with a meaning in Nix source or Nix strings, or that printers get wrong.
const PIECES: &[&str] = &[
    "${",
    "$",
    "$$",
    "\\",
    "\"",
    "''",
    "'",
    "''${",
    "''\\n",
    "\\${",
    "$${",
    "${x}",
    "\n",
    "\r",
    "\t",
    "\r\n",
    "{",
    "}",
    "#",
    "/*",
    "*/",
    ";",
    "=",
    " ",
    "é",
    "\u{202e}",
    "\u{feff}",
    "\u{2028}",
    "\u{1}",
    "\u{7f}",
    "ℵ",
    "🦀",
    "inherit",
    "rec",
    "or",
    "null",
    "true",
    "builtins",
    "import",
    "./.",
    "<nixpkgs>",
    "~/x",
    "a:b",
    "1.0",
    "-",
    ".",
];

/// Attribute names Nix gives a meaning to whatever the value: `outPath` replaces the set in
/// JSON and string coercion, `__toString` and `__functor` make it coercible or callable. The
/// printer prints them like any name, so a set holding one does not come back unchanged; no
/// plan has one (plan keys are fixed by the schema or are PEP 503 names, which are lower
/// case and have no `_`). Left out of the generated names; see `reserved_names_are_not_data`.
const RESERVED: [&str; 3] = ["outPath", "__toString", "__functor"];

fn nix_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        3 => prop::sample::select(PIECES).prop_map(str::to_string),
        2 => any::<char>().prop_map(|c| if c == '\0' { "\u{fffd}".into() } else { c.to_string() }),
        2 => "[a-z0-9]".prop_map(|s: String| s),
    ];
    prop::collection::vec(piece, 0..16).prop_map(|parts| parts.concat())
}

/// Any Unicode text but NUL, which Nix strings cannot hold (the printer refuses it).
fn unicode() -> impl Strategy<Value = String> {
    any::<String>().prop_map(|s| s.replace('\0', "\u{fffd}"))
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![nix_text(), unicode()]
}

fn name() -> impl Strategy<Value = String> {
    let alnum = prop::sample::select(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
            .chars()
            .collect::<Vec<_>>(),
    );
    let inner = prop::sample::select("abcxyzXYZ0189._-".chars().collect::<Vec<_>>());
    (alnum.clone(), prop::collection::vec(inner, 0..20), alnum)
        .prop_map(|(a, middle, b)| format!("{a}{}{b}", middle.into_iter().collect::<String>()))
}

fn version() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(0u32..1000, 1..5),
        prop::option::of(("(a|b|rc)", 0u32..10)),
        prop::option::of(nix_text()),
    )
        .prop_map(|(release, pre, local)| {
            let mut v = release
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(".");
            if let Some((kind, n)) = pre {
                v.push_str(&format!("{kind}{n}"));
            }
            if let Some(local) = local {
                v.push('+');
                v.push_str(&local);
            }
            v
        })
}

fn url() -> impl Strategy<Value = String> {
    (name(), nix_text(), nix_text(), nix_text()).prop_map(|(host, path, query, fragment)| {
        format!("https://{host}.example/{path}?{query}#sha256={fragment}")
    })
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![text(), name()].prop_filter("reserved by Nix", |k| !RESERVED.contains(&k.as_str()))
}

/// A JSON value of the kinds a plan holds: strings everywhere, names as keys, lists, nesting.
fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        text().prop_map(Value::String),
        version().prop_map(Value::String),
        url().prop_map(Value::String),
        any::<i64>().prop_map(Value::from),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Evaluates `expression` with real Nix, strictly, as JSON.
fn nix_eval(expression: &str) -> Result<Value, String> {
    let mut child = Command::new("nix-instantiate")
        .args(["--eval", "--strict", "--json", "-"])
        .env(
            "NIX_CONFIG",
            "build-users-group =\nsandbox = false\nexperimental-features = nix-command flakes",
        )
        .current_dir(std::env::temp_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot run nix-instantiate ({e}); install Debian's nix-bin (see .ci/run)")
        });
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(expression.as_bytes())
        .expect("write the expression");
    let output = child.wait_with_output().expect("wait for nix-instantiate");
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    serde_json::from_slice(&output.stdout).map_err(|e| format!("not JSON: {e}"))
}

fn printed(value: &Value) -> String {
    Expr::from_json(value)
        .and_then(|e| e.to_nix())
        .expect("a value without NUL prints")
}

proptest! {
    // Each case runs Nix once (tens of milliseconds) on a value of up to a few hundred strings.
    #![proptest_config(ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn printed_values_evaluate_to_themselves(values in prop::collection::vec(value(), 1..12)) {
        let value = Value::Array(values);
        let source = printed(&value);
        let evaluated = nix_eval(&source)
            .map_err(|e| TestCaseError::fail(format!("{e}\nprinted:\n{source}")))?;
        prop_assert_eq!(evaluated, value, "printed:\n{}", source);
    }

    /// A whole python.nix, with hostile names, versions, URLs, hashes and warnings in its
    /// plan: its `plan` attribute is the JSON plan, and evaluating it runs none of the text.
    #[test]
    fn python_nix_plans_evaluate_to_the_json_plan(
        packages in prop::collection::btree_map(name(), (version(), url(), text(), prop::collection::vec(text(), 0..3)), 1..6),
        roots in prop::collection::vec(text(), 0..4),
    ) {
        let packages: Map<String, Value> = packages
            .into_iter()
            .map(|(name, (version, url, hash, warnings))| {
                let filename = format!("{name}-{version}-py3-none-any.whl");
                (name, json!({
                    "version": version,
                    "dependencies": [],
                    "src": {"kind": "wheel", "filename": filename, "url": url, "hash": hash},
                    "warnings": warnings,
                }))
            })
            .collect();
        let plan = json!({
            "schema": 1,
            "generator": "py2nix test",
            "targets": {"x86_64-linux-cp311": {
                "system": "x86_64-linux",
                "python": "3.11",
                "python-full-version": "3.11.14",
                "platform": {"glibc": "2.40"},
                "roots": roots,
                "packages": packages,
            }},
        });
        let file = py2nix_nix::render_python_nix(&plan, "0.0.0").expect("renders");
        let expression = format!(
            "(({file}) {{ pkgs = throw \"pkgs\"; stdenv = throw \"stdenv\"; fetchurl = throw \"fetchurl\"; python3 = throw \"python3\"; }}).plan"
        );
        let evaluated = nix_eval(&expression).map_err(TestCaseError::fail)?;
        prop_assert_eq!(evaluated, plan);
    }
}

/// Strings that printers commonly get wrong, each on its own, as values and as names.
#[test]
fn known_hard_strings_evaluate_to_themselves() {
    let hard = [
        "",
        "$",
        "$$",
        "${",
        "$${",
        "$$${",
        "\\${x}",
        "\\\\${x}",
        "''${x}",
        "'''",
        "''",
        "a$",
        "\\",
        "\"",
        "\\\"",
        "${builtins.abort \"injected\"}",
        "\"; x = builtins.abort \"\"; \"",
        "\r\n",
        "\u{85}",
        "\u{2028}",
        "\u{feff}",
        "🦀",
        "\u{10ffff}",
        "\u{1}\u{1f}\u{7f}",
    ];
    let value = Value::Array(
        hard.iter()
            .map(|s| json!({ "value": s, (*s): s }))
            .collect(),
    );
    let source = printed(&value);
    assert_eq!(
        nix_eval(&source).unwrap_or_else(|e| panic!("{e}\n{source}")),
        value
    );
}

/// What `RESERVED` says: these names are printed as data but Nix reads them as more. Should
/// the plan ever take keys from input (not only schema names and PEP 503 names), the printer
/// must refuse them.
#[test]
fn reserved_names_are_not_data() {
    let value = json!({ "outPath": "x", "a": 1 });
    assert_eq!(nix_eval(&printed(&value)).expect("evaluates"), json!("x"));
    let value = json!({ "__toString": "x" });
    assert!(nix_eval(&printed(&value)).is_err());
}
