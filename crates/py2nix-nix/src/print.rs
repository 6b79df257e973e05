//! The printer, with the single escaping function for strings and attribute names.

use std::collections::HashSet;

use crate::{Expr, NixError};

const KEYWORDS: &[&str] = &[
    "assert", "else", "if", "in", "inherit", "let", "or", "rec", "then", "with",
];

/// Escapes `text` as the body of a double-quoted Nix string (without the quotes).
///
/// `\`, `"` and `${` are escaped, as are newline, carriage return and tab, so the string reads
/// back unchanged and can never start an interpolation. A NUL byte cannot be represented in Nix.
///
/// ```
/// use py2nix_nix::escape_string;
/// assert_eq!(escape_string("plain").unwrap(), "plain");
/// assert_eq!(escape_string(r#"a"b\c"#).unwrap(), r#"a\"b\\c"#);
/// assert_eq!(escape_string("${evil}").unwrap(), r"\${evil}");
/// assert_eq!(escape_string("$${x}").unwrap(), r"$\${x}");
/// assert_eq!(escape_string("line\nnext\t\r").unwrap(), r"line\nnext\t\r");
/// assert_eq!(escape_string("cost: $5").unwrap(), "cost: $5");
/// assert!(escape_string("nul\0").is_err());
/// ```
pub fn escape_string(text: &str) -> Result<String, NixError> {
    let mut out = String::with_capacity(text.len() + 2);
    escape_into(&mut out, text)?;
    Ok(out)
}

/// [`escape_string`] appending to `out`: runs of plain text are copied whole, so printing a
/// plan allocates nothing per string.
pub(crate) fn escape_into(out: &mut String, text: &str) -> Result<(), NixError> {
    let bytes = text.as_bytes();
    let mut plain = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escaped = match b {
            b'\\' => "\\\\",
            b'"' => "\\\"",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            b'\0' => return Err(NixError::NulByte(text.to_string())),
            b'$' if bytes.get(i + 1) == Some(&b'{') => "\\$",
            _ => continue,
        };
        // Every byte matched above is ASCII, so `plain..i` lies on character boundaries.
        out.push_str(&text[plain..i]);
        out.push_str(escaped);
        plain = i + 1;
    }
    out.push_str(&text[plain..]);
    Ok(())
}

/// Whether `name` can stand bare as a Nix attribute name: an identifier that is not a keyword.
///
/// ```
/// use py2nix_nix::is_identifier;
/// assert!(is_identifier("typing-extensions"));
/// assert!(is_identifier("_x'"));
/// assert!(!is_identifier("1password"));
/// assert!(!is_identifier("zope.interface"));
/// assert!(!is_identifier("inherit"));
/// assert!(!is_identifier(""));
/// ```
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    let starts_well = matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_');
    starts_well
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '\'' | '-'))
        && !KEYWORDS.contains(&name)
}

/// Prints an attribute name: bare when it is an identifier, else as an escaped string.
///
/// ```
/// use py2nix_nix::attr_name;
/// assert_eq!(attr_name("flask").unwrap(), "flask");
/// assert_eq!(attr_name("x86_64-linux/3.11").unwrap(), "\"x86_64-linux/3.11\"");
/// assert_eq!(attr_name("${x}").unwrap(), "\"\\${x}\"");
/// ```
pub fn attr_name(name: &str) -> Result<String, NixError> {
    let mut out = String::with_capacity(name.len() + 2);
    write_attr_name(&mut out, name)?;
    Ok(out)
}

/// [`attr_name`] appending to `out`.
pub(crate) fn write_attr_name(out: &mut String, name: &str) -> Result<(), NixError> {
    if is_identifier(name) {
        out.push_str(name);
    } else {
        out.push('"');
        escape_into(out, name)?;
        out.push('"');
    }
    Ok(())
}

pub(crate) fn write_expr(out: &mut String, expr: &Expr, depth: usize) -> Result<(), NixError> {
    match expr {
        Expr::Null => out.push_str("null"),
        Expr::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Expr::Int(i) => write_int(out, *i),
        Expr::Str(s) => write_string(out, s)?,
        Expr::List(items) if items.is_empty() => out.push_str("[ ]"),
        Expr::List(items) => {
            out.push('[');
            for item in items {
                newline(out, depth + 1);
                write_list_item(out, item, depth + 1)?;
            }
            newline(out, depth);
            out.push(']');
        }
        Expr::Attrs(entries) if entries.is_empty() => out.push_str("{ }"),
        Expr::Attrs(entries) => write_attrs(out, entries, depth)?,
    }
    Ok(())
}

fn write_attrs(out: &mut String, entries: &[(String, Expr)], depth: usize) -> Result<(), NixError> {
    let mut seen = HashSet::with_capacity(entries.len());
    out.push('{');
    for (name, value) in entries {
        if !seen.insert(name.as_str()) {
            return Err(NixError::DuplicateAttribute(name.clone()));
        }
        newline(out, depth + 1);
        write_attr_name(out, name)?;
        out.push_str(" = ");
        write_expr(out, value, depth + 1)?;
        out.push(';');
    }
    newline(out, depth);
    out.push('}');
    Ok(())
}

fn write_string(out: &mut String, text: &str) -> Result<(), NixError> {
    out.push('"');
    escape_into(out, text)?;
    out.push('"');
    Ok(())
}

/// Prints JSON data as Nix exactly as [`Expr::from_json`] followed by [`write_expr`] would,
/// without building the tree or copying a string: the plan goes straight into `out`.
pub(crate) fn write_json(
    out: &mut String,
    value: &serde_json::Value,
    depth: usize,
) -> Result<(), NixError> {
    use serde_json::Value;
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => match n.as_i64() {
            Some(i) => write_int(out, i),
            None => return Err(NixError::NotAnInteger(n.to_string())),
        },
        Value::String(s) => write_string(out, s)?,
        Value::Array(items) if items.is_empty() => out.push_str("[ ]"),
        Value::Array(items) => {
            out.push('[');
            for item in items {
                newline(out, depth + 1);
                match item.as_i64() {
                    Some(i) if i < 0 => {
                        out.push('(');
                        write_int(out, i);
                        out.push(')');
                    }
                    _ => write_json(out, item, depth + 1)?,
                }
            }
            newline(out, depth);
            out.push(']');
        }
        // A JSON object cannot hold a key twice.
        Value::Object(map) if map.is_empty() => out.push_str("{ }"),
        Value::Object(map) => {
            out.push('{');
            for (name, value) in map {
                newline(out, depth + 1);
                write_attr_name(out, name)?;
                out.push_str(" = ");
                write_json(out, value, depth + 1)?;
                out.push(';');
            }
            newline(out, depth);
            out.push('}');
        }
    }
    Ok(())
}

/// Prints JSON data as `builtins.fromJSON "<the data as JSON>"`: the same Nix value as
/// [`write_json`] prints, but Nix's parser only scans one string for it, and the value is built
/// when (and only if) it is used. An object is printed one entry per line (its name, then its
/// value as compact JSON), indented to sit at `depth`, so a changed package shows in a diff as
/// its line (pretty-printing every field made Nix's parse a third slower). Refuses what
/// [`write_json`] refuses (a number that is not an integer, a NUL byte in a string or a name),
/// so both forms hold the same values.
pub(crate) fn write_json_string(
    out: &mut String,
    value: &serde_json::Value,
    depth: usize,
) -> Result<(), NixError> {
    check_printable(value)?;
    let compact = |value: &serde_json::Value| {
        serde_json::to_string(value).map_err(|error| {
            NixError::NotData(format!("the data cannot be written as JSON: {error}"))
        })
    };
    // The newlines are raw newlines in the Nix string, between JSON tokens, where whitespace
    // changes nothing; compact JSON holds none (a JSON string escapes its newlines).
    out.push_str("builtins.fromJSON \"");
    match value {
        serde_json::Value::Object(map) if !map.is_empty() => {
            out.push('{');
            for (i, (name, entry)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, depth + 1);
                escape_into(out, &compact(&serde_json::Value::String(name.clone()))?)?;
                out.push_str(": ");
                escape_into(out, &compact(entry)?)?;
            }
            newline(out, depth);
            out.push('}');
        }
        other => escape_into(out, &compact(other)?)?,
    }
    out.push('"');
    Ok(())
}

/// What [`write_json`] would refuse in `value`, without printing it.
fn check_printable(value: &serde_json::Value) -> Result<(), NixError> {
    use serde_json::Value;
    let refuse_nul = |text: &str| {
        if text.contains('\0') {
            Err(NixError::NulByte(text.to_string()))
        } else {
            Ok(())
        }
    };
    match value {
        Value::Null | Value::Bool(_) => Ok(()),
        Value::Number(n) if n.as_i64().is_some() => Ok(()),
        Value::Number(n) => Err(NixError::NotAnInteger(n.to_string())),
        Value::String(s) => refuse_nul(s),
        Value::Array(items) => items.iter().try_for_each(check_printable),
        Value::Object(map) => map.iter().try_for_each(|(name, value)| {
            refuse_nul(name)?;
            check_printable(value)
        }),
    }
}

/// Negative numbers are parenthesised in lists, where `[ -1 ]` would still parse but
/// `[ a -1 ]` means subtraction; keeping one rule is simpler.
fn write_list_item(out: &mut String, item: &Expr, depth: usize) -> Result<(), NixError> {
    match item {
        Expr::Int(i) if *i < 0 => {
            out.push('(');
            write_int(out, *i);
            out.push(')');
            Ok(())
        }
        other => write_expr(out, other, depth),
    }
}

fn write_int(out: &mut String, value: i64) {
    if value == i64::MIN {
        // `-9223372036854775808` overflows as a literal; Nix reads it as an expression.
        out.push_str("(-9223372036854775807 - 1)");
    } else {
        use std::fmt::Write;
        // Writing to a String cannot fail.
        let _ = write!(out, "{value}");
    }
}

pub(crate) fn newline(out: &mut String, depth: usize) {
    out.push('\n');
    for _ in 0..depth {
        out.push_str("  ");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parses(source: &str) -> bool {
        rnix::Root::parse(source).errors().is_empty()
    }

    #[test]
    fn hostile_strings_print_as_single_literals() {
        let hostile = [
            "\"; builtins.abort \"x\"; \"",
            "${builtins.currentTime}",
            "\\${x}",
            "''${x}",
            "a\\",
            "\u{202e}unicode ✓",
        ];
        for text in hostile {
            let printed = Expr::Attrs(vec![(text.to_string(), Expr::Str(text.to_string()))])
                .to_nix()
                .unwrap();
            assert!(parses(&printed), "does not parse: {printed}");
            // One attribute, one string: the printed form has exactly one ` = `
            // outside the escaped text, which the parser confirms above.
            let tree = rnix::Root::parse(&printed).tree();
            let expr = tree.expr().unwrap();
            let set = match expr {
                rnix::ast::Expr::AttrSet(set) => set,
                other => panic!("not an attribute set: {other:?}"),
            };
            use rnix::ast::HasEntry;
            assert_eq!(set.attrpath_values().count(), 1, "{printed}");
        }
    }

    #[test]
    fn json_prints_as_its_expr_does() {
        let json = serde_json::json!({
            "schema": 1,
            "in": ["${x}", "a\"b\\c\n", -1, i64::MIN, 7, true, null, [], {}],
            "é x": {"nested": [{"k": "v"}, "$${y}"], "": "plain"},
        });
        for depth in [0, 1, 3] {
            let mut direct = String::new();
            write_json(&mut direct, &json, depth).unwrap();
            let via_expr = Expr::from_json(&json)
                .unwrap()
                .to_nix_indented(depth)
                .unwrap();
            assert_eq!(direct, via_expr);
        }
        let mut out = String::new();
        assert_eq!(
            write_json(&mut out, &serde_json::json!([1.5]), 0),
            Err(NixError::NotAnInteger("1.5".into()))
        );
    }

    #[test]
    fn json_strings_hold_the_data_and_refuse_what_nix_data_refuses() {
        let json =
            serde_json::json!({"a": ["${x}", "q\"\\\n", -1, i64::MIN, true, null, {}], "é": "✓"});
        let mut out = String::new();
        write_json_string(&mut out, &json, 2).unwrap();
        assert_eq!(out.lines().count(), 4, "{out}");
        assert!(
            out.starts_with("builtins.fromJSON \"{\n      \\\"a\\\": [\\\"\\${x}\\\","),
            "{out}"
        );
        assert!(
            out.ends_with(",\n      \\\"é\\\": \\\"✓\\\"\n    }\""),
            "{out}"
        );
        let mut scalar = String::new();
        write_json_string(&mut scalar, &serde_json::json!([1, "a"]), 2).unwrap();
        assert_eq!(scalar, "builtins.fromJSON \"[1,\\\"a\\\"]\"");
        assert!(parses(&out), "{out}");
        assert!(out.contains("\\${x}"), "{out}");
        for bad in [
            serde_json::json!({"a": [1.5]}),
            serde_json::json!({"a\u{0}": 1}),
            serde_json::json!(["\u{0}"]),
        ] {
            let mut out = String::new();
            let mut direct = String::new();
            assert!(write_json_string(&mut out, &bad, 0).is_err(), "{bad}");
            assert!(write_json(&mut direct, &bad, 0).is_err(), "{bad}");
        }
    }

    #[test]
    fn duplicate_attributes_are_refused() {
        let attrs = Expr::Attrs(vec![("a".into(), Expr::Null), ("a".into(), Expr::Null)]);
        assert_eq!(
            attrs.to_nix(),
            Err(NixError::DuplicateAttribute("a".into()))
        );
    }

    #[test]
    fn numbers_print_so_nix_reads_them_back() {
        let list = Expr::List(vec![Expr::Int(-1), Expr::Int(i64::MIN), Expr::Int(7)]);
        let printed = list.to_nix().unwrap();
        assert!(parses(&printed), "{printed}");
        assert!(printed.contains("(-1)"));
    }
}
