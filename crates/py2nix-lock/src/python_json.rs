//! TOML values serialised exactly as Python's `json.dumps(value, sort_keys=True)` prints them,
//! the text Poetry and PDM hash into their locks' content hashes.

use toml::Value;

/// `json.dumps(value, sort_keys=True)` of the value Python's `tomllib` reads from `value`:
/// `", "` and `": "` separators, keys sorted by code point, non-ASCII escaped as `\uXXXX`,
/// floats as Python's `repr`. `None` for a TOML date or time, which `json.dumps` refuses.
pub(crate) fn python_json_dumps(value: &Value) -> Option<String> {
    let mut out = String::new();
    write_value(value, &mut out)?;
    Some(out)
}

fn write_value(value: &Value, out: &mut String) -> Option<()> {
    match value {
        Value::String(text) => write_string(text, out),
        Value::Integer(number) => out.push_str(&number.to_string()),
        Value::Float(number) => out.push_str(&python_float_repr(*number)),
        Value::Boolean(true) => out.push_str("true"),
        Value::Boolean(false) => out.push_str("false"),
        Value::Datetime(_) => return None,
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                write_value(item, out)?;
            }
            out.push(']');
        }
        Value::Table(table) => {
            let mut entries: Vec<(&String, &Value)> = table.iter().collect();
            // Rust orders strings by UTF-8 bytes, which is Python's code point order.
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (index, (key, item)) in entries.into_iter().enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                write_string(key, out);
                out.push_str(": ");
                write_value(item, out)?;
            }
            out.push('}');
        }
    }
    Some(())
}

/// A JSON string with `ensure_ascii=True`.
fn write_string(text: &str, out: &mut String) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if !(' '..='~').contains(&c) => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Python's `repr(float)`: the shortest digits that read back, in positional notation for
/// exponents from -4 to 15 and scientific (`1e+16`) otherwise; `NaN` and `Infinity` as
/// `json.dumps` writes them.
fn python_float_repr(number: f64) -> String {
    if number.is_nan() {
        return "NaN".to_string();
    }
    if number.is_infinite() {
        return if number > 0.0 {
            "Infinity"
        } else {
            "-Infinity"
        }
        .to_string();
    }
    // `{:e}` gives the shortest round-trip digits: `-1.25e-7`, `1e16`.
    let scientific = format!("{number:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if (-4..16).contains(&exponent) {
        let point = exponent + 1;
        let text = if point <= 0 {
            format!("0.{}{digits}", "0".repeat((-point) as usize))
        } else if point as usize >= digits.len() {
            format!("{digits}{}.0", "0".repeat(point as usize - digits.len()))
        } else {
            let (whole, fraction) = digits.split_at(point as usize);
            format!("{whole}.{fraction}")
        };
        format!("{sign}{text}")
    } else {
        let (first, rest) = digits.split_at(1);
        let mantissa = if rest.is_empty() {
            first.to_string()
        } else {
            format!("{first}.{rest}")
        };
        let exponent_sign = if exponent < 0 { '-' } else { '+' };
        format!("{sign}{mantissa}e{exponent_sign}{:02}", exponent.abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dumps(toml_text: &str) -> String {
        python_json_dumps(&Value::Table(toml::from_str(toml_text).unwrap())).unwrap()
    }

    /// Expected texts are what CPython 3.11's `json.dumps(tomllib.loads(text), sort_keys=True)`
    /// printed for the same input.
    #[test]
    fn matches_python_json_dumps() {
        assert_eq!(
            dumps("b = 1\na = [\"x\", true, 1.5]\n[c]\nz = \"é\\n\\\"\"\ny = {}"),
            r#"{"a": ["x", true, 1.5], "b": 1, "c": {"y": {}, "z": "\u00e9\n\""}}"#
        );
        assert_eq!(
            dumps("a = \"\u{1F600}\\u007f\""),
            r#"{"a": "\ud83d\ude00\u007f"}"#
        );
    }

    #[test]
    fn floats_as_python_repr() {
        for (number, repr) in [
            (1.0, "1.0"),
            (0.1, "0.1"),
            (-2.5, "-2.5"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (123456789012345.0, "123456789012345.0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (f64::INFINITY, "Infinity"),
        ] {
            assert_eq!(python_float_repr(number), repr, "{number}");
        }
    }

    #[test]
    fn dates_cannot_be_dumped() {
        let value = Value::Table(toml::from_str("a = 1979-05-27").unwrap());
        assert_eq!(python_json_dumps(&value), None);
    }
}
