//! Reading a plan back from a python.nix: the `plan` literal is parsed with rnix and turned into
//! the JSON value it was printed from. Only the data forms [`Expr`](crate::Expr) prints are
//! accepted (attribute sets without `rec` or `inherit`, lists, strings without interpolation,
//! integers, booleans, `null`) and `builtins.fromJSON` applied to a string literal (how
//! python.nix holds each target's package sets), whose JSON is parsed; anything else is an
//! error, never evaluated. Files of both shapes (package sets as Nix data, as py2nix wrote them
//! before, or as JSON strings) read back to the same plan.

use rnix::ast::{self, HasEntry};
use rnix::{NodeOrToken, SyntaxKind, SyntaxNode};
use rowan::ast::AstNode;

use crate::NixError;

/// The plan held by a python.nix that py2nix generated: the value bound to `plan` in the
/// file's top-level `let`, as JSON (object keys in the file's order).
///
/// ```
/// let plan = serde_json::json!({"schema": 1, "targets": {"x86_64-linux-cp311": {"roots": ["${x}"]}}});
/// let text = py2nix_nix::render_python_nix(&plan, "0.1.0").unwrap();
/// assert_eq!(py2nix_nix::read_plan(&text).unwrap(), plan);
/// ```
pub fn read_plan(text: &str) -> Result<serde_json::Value, NixError> {
    on_a_large_stack(|| read_plan_here(text))
}

/// The deepest bracket nesting (`{`, `[`, `(`, `${`) a file read back may have. A python.nix
/// py2nix writes nests about 20 deep; rnix's parser and the reading here recurse once per
/// level, so a file nested 20,000 deep would overflow the stack and abort.
pub const MAX_NESTING: usize = 256;

/// Refuses text nested deeper than [`MAX_NESTING`] brackets, by its tokens (no recursion).
fn check_nesting(text: &str) -> Result<(), NixError> {
    use SyntaxKind::*;
    let mut depth = 0usize;
    for (kind, _) in rnix::tokenizer::Tokenizer::new(text) {
        match kind {
            TOKEN_L_BRACE | TOKEN_L_BRACK | TOKEN_L_PAREN | TOKEN_INTERPOL_START => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(NixError::Unparsable(format!(
                        "the file nests brackets deeper than {MAX_NESTING} levels; a python.nix py2nix writes does not"
                    )));
                }
            }
            TOKEN_R_BRACE | TOKEN_R_BRACK | TOKEN_R_PAREN | TOKEN_INTERPOL_END => {
                depth = depth.saturating_sub(1)
            }
            _ => {}
        }
    }
    Ok(())
}

/// Runs `read` after the nesting check, on a thread with a 256 MiB stack (reserved, not
/// used): nesting that brackets do not show (`a: a: …`, `with x; with x; …`) still recurses
/// in rnix's parser.
fn on_a_large_stack<T: Send>(
    read: impl FnOnce() -> Result<T, NixError> + Send,
) -> Result<T, NixError> {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("read-nix".to_owned())
            .stack_size(256 << 20)
            .spawn_scoped(scope, read)
            .map_err(|e| NixError::Unparsable(format!("cannot start a reader thread: {e}")))?
            .join()
            .map_err(|_| NixError::Unparsable("the reader failed".to_owned()))?
    })
}

fn read_plan_here(text: &str) -> Result<serde_json::Value, NixError> {
    check_nesting(text)?;
    let parsed = rnix::Root::parse(text);
    if let Some(error) = parsed.errors().first() {
        return Err(NixError::Unparsable(error.to_string()));
    }
    let not_ours = || {
        NixError::NotData(
            "the file is not shaped like a python.nix py2nix generates (a function whose body is `let plan = ...; in ...`)"
                .to_string(),
        )
    };
    let root = parsed.tree();
    let Some(ast::Expr::Lambda(lambda)) = root.expr() else {
        return Err(not_ours());
    };
    let Some(ast::Expr::LetIn(let_in)) = lambda.body() else {
        return Err(not_ours());
    };
    for entry in let_in.attrpath_values() {
        let names = entry
            .attrpath()
            .map(|path| path.attrs().map(attr_text).collect::<Result<Vec<_>, _>>())
            .transpose()?
            .unwrap_or_default();
        if names == ["plan"] {
            let value = entry.value().ok_or_else(not_ours)?;
            return to_json(&value);
        }
    }
    Err(not_ours())
}

/// Converts a data-only Nix expression (as [`Expr::to_nix`](crate::Expr::to_nix) prints it)
/// into JSON.
///
/// ```
/// let value = py2nix_nix::nix_to_json(r#"{ a = [ 1 (-2) "x\ny" ]; "b c" = null; d = true; }"#).unwrap();
/// assert_eq!(value, serde_json::json!({"a": [1, -2, "x\ny"], "b c": null, "d": true}));
/// assert!(py2nix_nix::nix_to_json("{ a = builtins.abort \"x\"; }").is_err());
/// ```
pub fn nix_to_json(text: &str) -> Result<serde_json::Value, NixError> {
    on_a_large_stack(|| nix_to_json_here(text))
}

fn nix_to_json_here(text: &str) -> Result<serde_json::Value, NixError> {
    check_nesting(text)?;
    let parsed = rnix::Root::parse(text);
    if let Some(error) = parsed.errors().first() {
        return Err(NixError::Unparsable(error.to_string()));
    }
    let expr = parsed
        .tree()
        .expr()
        .ok_or_else(|| NixError::NotData("the text holds no expression".to_string()))?;
    to_json(&expr)
}

fn to_json(expr: &ast::Expr) -> Result<serde_json::Value, NixError> {
    use serde_json::Value;
    Ok(match expr {
        ast::Expr::AttrSet(set) => {
            if set.rec_token().is_some() || set.inherits().next().is_some() {
                return Err(not_data(expr.syntax()));
            }
            let mut map = serde_json::Map::new();
            for entry in set.attrpath_values() {
                let path = entry.attrpath().ok_or_else(|| not_data(entry.syntax()))?;
                let names = path.attrs().map(attr_text).collect::<Result<Vec<_>, _>>()?;
                let [name] = names.as_slice() else {
                    return Err(not_data(entry.syntax()));
                };
                let value = entry.value().ok_or_else(|| not_data(entry.syntax()))?;
                if map.insert(name.clone(), to_json(&value)?).is_some() {
                    return Err(NixError::DuplicateAttribute(name.clone()));
                }
            }
            Value::Object(map)
        }
        ast::Expr::List(list) => Value::Array(
            list.items()
                .map(|item| to_json(&item))
                .collect::<Result<_, _>>()?,
        ),
        ast::Expr::Str(string) => Value::String(string_text(string)?),
        ast::Expr::Literal(_) => integer(expr.syntax(), false)?,
        ast::Expr::Paren(paren) => match paren.expr() {
            // How the printer writes i64::MIN, which has no literal.
            Some(ast::Expr::BinOp(op)) if op.syntax().text() == "-9223372036854775807 - 1" => {
                Value::from(i64::MIN)
            }
            Some(inner) => to_json(&inner)?,
            None => return Err(not_data(expr.syntax())),
        },
        ast::Expr::UnaryOp(op) if op.operator() == Some(ast::UnaryOpKind::Negate) => {
            match op.expr() {
                Some(ast::Expr::Literal(literal)) => integer(literal.syntax(), true)?,
                _ => return Err(not_data(expr.syntax())),
            }
        }
        // How python.nix holds a target's package sets: JSON text, read as data.
        ast::Expr::Apply(apply) if is_from_json(apply) => match apply.argument() {
            Some(ast::Expr::Str(string)) => {
                let text = string_text(&string)?;
                serde_json::from_str(&text).map_err(|error| {
                    NixError::NotData(format!(
                        "the JSON of a `builtins.fromJSON` string does not parse: {error}"
                    ))
                })?
            }
            _ => return Err(not_data(expr.syntax())),
        },
        ast::Expr::Ident(ident) => match ident.syntax().text().to_string().as_str() {
            "null" => Value::Null,
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(not_data(expr.syntax())),
        },
        _ => return Err(not_data(expr.syntax())),
    })
}

/// Whether `apply` applies exactly `builtins.fromJSON` (to anything).
fn is_from_json(apply: &ast::Apply) -> bool {
    matches!(apply.lambda(), Some(ast::Expr::Select(select))
        if select.syntax().text() == "builtins.fromJSON")
}

fn integer(node: &SyntaxNode, negative: bool) -> Result<serde_json::Value, NixError> {
    let text = node.text().to_string();
    let value: i64 = text
        .trim()
        .parse()
        .map_err(|_| NixError::NotData(format!("`{text}` is not an integer")))?;
    Ok(serde_json::Value::from(if negative {
        -value
    } else {
        value
    }))
}

fn attr_text(attr: ast::Attr) -> Result<String, NixError> {
    match attr {
        ast::Attr::Ident(ident) => Ok(ident.syntax().text().to_string()),
        ast::Attr::Str(string) => string_text(&string),
        ast::Attr::Dynamic(dynamic) => Err(not_data(dynamic.syntax())),
    }
}

/// The value of a double-quoted string without interpolation.
fn string_text(string: &ast::Str) -> Result<String, NixError> {
    let mut out = String::new();
    for child in string.syntax().children_with_tokens() {
        match child {
            NodeOrToken::Token(token) => match token.kind() {
                SyntaxKind::TOKEN_STRING_START | SyntaxKind::TOKEN_STRING_END
                    if token.text() == "\"" => {}
                SyntaxKind::TOKEN_STRING_CONTENT => unescape(token.text(), &mut out),
                _ => return Err(not_data(string.syntax())),
            },
            NodeOrToken::Node(_) => return Err(not_data(string.syntax())),
        }
    }
    Ok(out)
}

/// Undoes [`escape_string`](crate::escape_string): `\n`, `\r`, `\t`, and `\c` for any other `c`.
fn unescape(text: &str, out: &mut String) {
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
}

fn not_data(node: &SyntaxNode) -> NixError {
    let text = node.text().to_string();
    let short: String = text.chars().take(60).collect();
    let ellipsis = if short.len() < text.len() { "…" } else { "" };
    NixError::NotData(format!("`{short}{ellipsis}` is not plain data"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Expr;

    #[test]
    fn everything_the_printer_prints_reads_back() {
        let value = serde_json::json!({
            "schema": 1,
            "inherit": "keyword as a name",
            "x86_64-linux-cp311": {"roots": ["${evil}", "a\"b\\c", "line\nnext\t\r", "$${x}", "cost: $5", "✓"]},
            "empty": {}, "none": [], "nums": [-1, 7, i64::MIN, i64::MAX], "flags": [true, false, null],
        });
        let printed = Expr::from_json(&value).unwrap().to_nix().unwrap();
        assert_eq!(nix_to_json(&printed).unwrap(), value);
    }

    #[test]
    fn code_is_refused_not_evaluated() {
        for code in [
            "{ a = \"${builtins.currentTime}\"; }",
            "rec { a = 1; b = a; }",
            "{ inherit x; }",
            "{ a.b = 1; }",
            "{ ${\"a\"} = 1; }",
            "[ (import ./x.nix) ]",
            "{ a = ''multi''; }",
            "{ a = 1; a = 2; }",
            "{ a = 1.5; }",
            "./path",
            "{ a = builtins.fromJSON (builtins.readFile ./x.json); }",
            "{ a = builtins.fromJSON \"{\\\"a\\\": ${x}}\"; }",
            "{ a = builtins.fromJSON \"not json\"; }",
            "{ a = builtins.fromJSON; }",
            "{ a = builtins.fromTOML \"a = 1\"; }",
            "{ a = fromJSON \"{}\"; }",
        ] {
            assert!(nix_to_json(code).is_err(), "accepted: {code}");
        }
    }

    #[test]
    fn json_strings_read_as_the_data_they_hold() {
        let as_json = nix_to_json(
            r#"{ p = builtins.fromJSON "{\"a\":[1,-2,\"\${x}\"],\"b\":{\"c\":null}}"; }"#,
        )
        .unwrap();
        let as_nix =
            nix_to_json(r#"{ p = { a = [ 1 (-2) "\${x}" ]; b = { c = null; }; }; }"#).unwrap();
        assert_eq!(as_json, as_nix);
        assert_eq!(
            as_json,
            serde_json::json!({"p": {"a": [1, -2, "${x}"], "b": {"c": null}}})
        );
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = 20_000;
        for (open, close) in [("[", "]"), ("{ a = ", "; }"), ("(", ")"), ("\"${", "}\"")] {
            let text = format!("{}1{}", open.repeat(deep), close.repeat(deep));
            let error = nix_to_json(&text).unwrap_err().to_string();
            assert!(error.contains("deeper than 256"), "{error}");
            let file = format!("{{ pkgs }}: let plan = {text}; in plan");
            assert!(read_plan(&file)
                .unwrap_err()
                .to_string()
                .contains("deeper than 256"));
        }
        // Nesting without brackets is read on the large stack: an error, no crash.
        for chain in ["a: ", "with a; ", "let a = 1; in ", "- ", "assert true; "] {
            let text = format!("{{ pkgs }}: let plan = {}1; in plan", chain.repeat(deep));
            assert!(read_plan(&text).is_err(), "{chain}");
        }
        let fine = format!("{}1{}", "[".repeat(200), "]".repeat(200));
        assert!(nix_to_json(&fine).is_ok());
    }

    #[test]
    fn a_python_nix_that_is_not_ours_is_refused() {
        assert!(read_plan("{ }").is_err());
        assert!(read_plan("{ pkgs }: let x = 1; in x").is_err());
        assert!(read_plan("{ pkgs }: let plan = ").is_err());
    }
}
