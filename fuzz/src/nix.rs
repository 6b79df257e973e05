//! Fuzz check for the Nix printer: arbitrary bytes are decoded into a data value (strings and
//! attribute names full of `${`, `''`, `\`, quotes, control and non-ASCII characters), printed
//! with `Expr::to_nix`, parsed back with rnix, and the parsed value must be the same data:
//! nothing in a string can become code, and no string loses or gains a character.
//! `render_python_nix` must accept the same value as a plan ([`check_render`]).
//!
//! (Real Nix evaluation is the property test crates/py2nix-nix/tests/nix_roundtrip.rs; rnix
//! here keeps the fuzz loop fast.)
//!
//! This file is shared: the fuzz crate compiles it as `py2nix_fuzz::nix`, and
//! crates/py2nix-nix/tests/printer_fuzz.rs includes it by path to replay the corpus.

use py2nix_nix::{Expr, NixError};
use rnix::ast::{self, HasEntry};

/// Fragments the decoder favours: everything that has a meaning inside Nix strings or source.
const FRAGMENTS: &[&str] = &[
    "${", "$", "\\", "\"", "''", "'", "''${", "''\\", "\\${", "$${", "\n", "\r", "\t", "{", "}",
    "#", "/*", "*/", ";", "=", " ", "é", "\u{202e}", "\u{feff}", "\u{2028}", "\u{0}", "ℵ", "🦀",
    "inherit", "rec", "or", "null", "true", "1", "-", ".", "a",
];

struct Decoder<'a> {
    data: &'a [u8],
}

impl Decoder<'_> {
    fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    fn string(&mut self) -> String {
        let len = usize::from(self.byte() % 24);
        let mut out = String::new();
        for _ in 0..len {
            if self.data.is_empty() {
                break;
            }
            let b = self.byte();
            if b < 0x40 {
                out.push_str(FRAGMENTS[usize::from(b) % FRAGMENTS.len()]);
            } else if b < 0x80 {
                out.push(char::from(b));
            } else {
                // A code point from the next two bytes, anywhere in Unicode.
                let code = (u32::from(b & 0x1f) << 16)
                    | (u32::from(self.byte()) << 8)
                    | u32::from(self.byte());
                out.push(char::from_u32(code % 0x11_0000).unwrap_or('\u{fffd}'));
            }
        }
        out
    }

    fn expr(&mut self, depth: usize) -> Expr {
        let kind = if depth >= 16 {
            self.byte() % 4
        } else {
            self.byte() % 6
        };
        match kind {
            0 => Expr::Null,
            1 => Expr::Bool(self.byte() & 1 == 1),
            2 => {
                let mut bytes = [0u8; 8];
                let width = usize::from(self.byte() % 9);
                for b in bytes.iter_mut().take(width) {
                    *b = self.byte();
                }
                Expr::Int(i64::from_le_bytes(bytes))
            }
            3 => Expr::Str(self.string()),
            4 => {
                let n = self.byte() % 5;
                Expr::List((0..n).map(|_| self.expr(depth + 1)).collect())
            }
            _ => {
                let n = self.byte() % 5;
                Expr::Attrs(
                    (0..n)
                        .map(|_| (self.string(), self.expr(depth + 1)))
                        .collect(),
                )
            }
        }
    }
}

/// Decodes `data` into a value: the whole input as one string and attribute name, and the
/// input read as a small program of values.
pub fn decode(data: &[u8]) -> Expr {
    let raw = String::from_utf8_lossy(data).into_owned();
    let mut decoder = Decoder { data };
    let structured = decoder.expr(0);
    Expr::Attrs(vec![
        (raw.clone(), Expr::Str(raw)),
        ("v".to_string(), structured),
    ])
}

pub fn nix_printer(data: &[u8]) {
    check(&decode(data));
}

/// Prints `value`, parses it back and compares; a refusal must be for a reason the value has.
pub fn check(value: &Expr) {
    match value.to_nix() {
        Ok(text) => {
            let parsed = parse(&text).unwrap_or_else(|e| panic!("{e}\nprinted:\n{text}"));
            assert_eq!(&parsed, value, "printed:\n{text}");
        }
        Err(NixError::NulByte(_)) => assert!(has_nul(value), "NUL refused without a NUL"),
        Err(NixError::DuplicateAttribute(name)) => {
            assert!(
                has_duplicate(value),
                "`{name}` refused as a duplicate, but is not one"
            )
        }
        Err(other) => panic!("unexpected refusal: {other}"),
    }
}

/// `render_python_nix` accepts the value as a plan (it parses the whole file, with the
/// embedded Nix logic, so this is slow: the replay runs it, the fuzz loop does not).
pub fn check_render(value: &Expr) {
    let json = to_json(value);
    match py2nix_nix::render_python_nix(&json, "0.0.0") {
        Ok(text) => assert!(text.starts_with(py2nix_nix::GENERATED_MARKER)),
        Err(NixError::NulByte(_)) => assert!(has_nul(value)),
        Err(other) => panic!("render_python_nix refused a plan: {other}"),
    }
}

fn has_nul(value: &Expr) -> bool {
    match value {
        Expr::Str(s) => s.contains('\0'),
        Expr::List(items) => items.iter().any(has_nul),
        Expr::Attrs(entries) => entries.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

fn has_duplicate(value: &Expr) -> bool {
    match value {
        Expr::List(items) => items.iter().any(has_duplicate),
        Expr::Attrs(entries) => {
            let mut names: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
            names.sort_unstable();
            names.windows(2).any(|w| w[0] == w[1]) || entries.iter().any(|(_, v)| has_duplicate(v))
        }
        _ => false,
    }
}

fn to_json(value: &Expr) -> serde_json::Value {
    match value {
        Expr::Null => serde_json::Value::Null,
        Expr::Bool(b) => serde_json::Value::Bool(*b),
        Expr::Int(i) => serde_json::Value::from(*i),
        Expr::Str(s) => serde_json::Value::String(s.clone()),
        Expr::List(items) => serde_json::Value::Array(items.iter().map(to_json).collect()),
        Expr::Attrs(entries) => serde_json::Value::Object(
            entries
                .iter()
                .map(|(k, v)| (k.clone(), to_json(v)))
                .collect(),
        ),
    }
}

/// Parses printed Nix back into a value; anything but plain data is an error.
pub fn parse(text: &str) -> Result<Expr, String> {
    let root = rnix::Root::parse(text);
    if let Some(error) = root.errors().first() {
        return Err(format!("the printed Nix does not parse: {error}"));
    }
    let expr = root.tree().expr().ok_or("no expression")?;
    value(expr)
}

fn value(expr: ast::Expr) -> Result<Expr, String> {
    Ok(match expr {
        ast::Expr::Ident(ident) => match ident.to_string().as_str() {
            "null" => Expr::Null,
            "true" => Expr::Bool(true),
            "false" => Expr::Bool(false),
            other => return Err(format!("a variable in data: `{other}`")),
        },
        ast::Expr::Literal(literal) => match literal.kind() {
            ast::LiteralKind::Integer(int) => {
                Expr::Int(int.value().map_err(|e| format!("integer: {e}"))?)
            }
            other => return Err(format!("a non-integer literal: {other:?}")),
        },
        ast::Expr::Str(string) => Expr::Str(literal(&string)?),
        ast::Expr::List(list) => Expr::List(list.items().map(value).collect::<Result<_, _>>()?),
        ast::Expr::AttrSet(set) => {
            if set.rec_token().is_some() {
                return Err("a recursive attribute set".into());
            }
            let mut entries = Vec::new();
            for entry in set.entries() {
                let ast::Entry::AttrpathValue(entry) = entry else {
                    return Err("an `inherit` in data".into());
                };
                let path = entry.attrpath().ok_or("an entry without a name")?;
                let attrs: Vec<ast::Attr> = path.attrs().collect();
                let [attr] = attrs.as_slice() else {
                    return Err(format!("a nested attribute path `{path}`"));
                };
                let name = match attr {
                    ast::Attr::Ident(ident) => ident.to_string(),
                    ast::Attr::Str(string) => literal(string)?,
                    ast::Attr::Dynamic(d) => return Err(format!("a dynamic attribute `{d}`")),
                };
                let v = value(entry.value().ok_or("an entry without a value")?)?;
                entries.push((name, v));
            }
            Expr::Attrs(entries)
        }
        ast::Expr::Paren(paren) => value(paren.expr().ok_or("empty parentheses")?)?,
        ast::Expr::UnaryOp(op) if op.operator() == Some(ast::UnaryOpKind::Negate) => {
            match value(op.expr().ok_or("negation of nothing")?)? {
                Expr::Int(i) => Expr::Int(i.checked_neg().ok_or("negation overflows")?),
                other => return Err(format!("negation of {other:?}")),
            }
        }
        ast::Expr::BinOp(op) if op.operator() == Some(ast::BinOpKind::Sub) => {
            let lhs = value(op.lhs().ok_or("no left side")?)?;
            let rhs = value(op.rhs().ok_or("no right side")?)?;
            match (lhs, rhs) {
                (Expr::Int(a), Expr::Int(b)) => {
                    Expr::Int(a.checked_sub(b).ok_or("subtraction overflows")?)
                }
                other => return Err(format!("subtraction of {other:?}")),
            }
        }
        other => return Err(format!("code in data: `{other}`")),
    })
}

/// A string literal's value; an interpolation is code and an error.
fn literal(string: &ast::Str) -> Result<String, String> {
    let mut out = String::new();
    for part in string.normalized_parts() {
        match part {
            ast::InterpolPart::Literal(text) => out.push_str(&text),
            ast::InterpolPart::Interpolation(code) => {
                return Err(format!("an interpolation in a string: `{code}`"))
            }
        }
    }
    Ok(out)
}
