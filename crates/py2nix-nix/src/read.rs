//! Reading a plan back from a python.nix: the `plan` literal is parsed with rnix and turned into
//! the JSON value it was printed from. Only the data forms [`Expr`](crate::Expr) prints are
//! accepted (attribute sets without `rec` or `inherit`, lists, strings without interpolation,
//! integers, booleans, `null`) and `builtins.fromJSON` applied to a string literal (how
//! python.nix holds each target's package sets), whose JSON is parsed; anything else is an
//! error, never evaluated. Files of both shapes (package sets as Nix data, as py2nix wrote them
//! before, or as JSON strings) read back to the same plan.

use rnix::ast::{self, HasEntry};
use rnix::parser::ParseError;
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

/// The deepest bracket nesting (`{`, `[`, `(`, `${`) a file read back may have, and the
/// deepest data its `plan` may hold. A python.nix py2nix writes nests about 20 deep.
pub const MAX_NESTING: usize = 256;

/// The most tokens of the kinds rnix's parser nests on without counting (see
/// [`bounded_parse`]) a file read back may hold: `[`, `-`, `!`, `++`, `//`, `->`, `<|` and
/// `or`. A python.nix py2nix writes holds a few hundred (its package sets are JSON strings).
pub const MAX_NESTING_TOKENS: usize = 65_536;

/// The longest run of characters that may make a path (letters, digits, `/`, `_`, `.`, `+`,
/// `-`) a file read back may hold. rnix's tokenizer looks through the whole run at each token
/// it starts in it, so `------…` took time quadratic in its length (20,000 took 14 s); with
/// this bound each token costs at most this many steps. py2nix writes runs of about 200 (file
/// URLs).
pub const MAX_PATH_RUN: usize = 1024;

/// How deep rnix's parser (0.12) lets expressions nest: `parse_expr` counts its own frames and
/// stops with "recursion limit exceeded" at this depth.
const EXPRESSION_LEVELS: usize = 512;

/// The stack the reader runs on (reserved address space; only what is touched is used).
const READER_STACK: usize = 256 << 20;

// Why reading a python.nix cannot overflow the reader's stack, whatever the file holds.
//
// Everything that recurses while a file is read, and what bounds it:
//
// 1. rnix's parser (0.12.0, parser.rs) is recursive descent. `parse_expr` counts its frames
//    and refuses to go deeper than EXPRESSION_LEVELS (512): that bounds `let … in`, `with`,
//    `assert`, `if`, lambdas (`a:`, `{ a ? … }:`), parentheses, attribute sets, `${…}` in
//    strings, paths and attribute names, `inherit (…)` — every path that comes back to
//    `parse_expr`. Between two `parse_expr` frames the call chain is fixed (the precedence
//    ladder `parse_pipe_left` … `parse_simple`, then at most `parse_set`/`parse_attrpath`/
//    `parse_attr`/`parse_string`), except for five self-recursions that do not count:
//    `parse_negate` (after each `-`), `parse_invert` (after each `!`), `parse_right_assoc`
//    (after each `++`, `//`, `->`, `<|`), and `parse_simple` for a list's item (after `[`)
//    and for a selection's default (after `or`). Each of those frames is entered right after
//    the parser consumed one such token, a different one per frame, so there are at most as
//    many of them on the stack as the file holds those tokens: `check_nesting` refuses a file
//    with more than MAX_NESTING_TOKENS (65,536) of them, by its tokens, before parsing. (The
//    bracket limit does not bound lists by itself: rnix's error recovery can leave a list
//    open past its `]`, e.g. `[ ( { x . y } ) ] = 1 ; { x = 1 ; } ;` repeated nests lists
//    while the brackets balance.)
//
//    Measured stack, debug build (release is smaller: 1,440 and 128 bytes): one expression
//    level at most 2,432 bytes (`{ ${…} = 1; }`, through set, attribute path and dynamic
//    attribute; parentheses 2,144, lambdas 2,144, `let`/`with`/`if`/`assert` 192); one
//    uncounted frame at most 480 bytes (list items and `or`; `-`/`!` 96, `++` 80). So the
//    parser needs at most 512 × 2,432 + 65,536 × 480 bytes ≈ 1.2 MiB + 30 MiB ≈ 32 MiB.
//
// 2. rowan's tree builder hashes a node it deduplicates (a node of at most three children)
//    recursively over its cached children, again whenever its table grows: a chain of such
//    nodes (`f x x x …`, `1+1+1…`, `- - -…`, `[[[…]]]`) made that recursion as deep as the
//    chain and its time quadratic (10,000 applications took 13 s). The parser is fed the
//    file's tokens with two empty whitespace tokens before each code token (see `Spaced`),
//    which the parser skips like any whitespace and which change no text or position, but
//    which give every node that holds another node more than three children: no such node
//    is cached, so the hashing never recurses more than a level or two, and its time is
//    linear.
//
// 3. Dropping a rowan tree frees a node's children recursively, however they nest (a chain
//    of applications is as deep as it is long, with no parser recursion at all): the tree is
//    freed by `drop_iteratively`, one node at a time.
//
// 4. Our own walk (`to_json`) recurses into sets, lists and parentheses only, and refuses
//    data nested deeper than MAX_NESTING (256); serde_json stops at 128. Everything else
//    (`text()`, `descendants()`, the tokenizer) iterates.
//
// Total: about 32 MiB in the worst case against the 256 MiB READER_STACK, a margin of 8.
// `the_worst_files_at_the_limits_fit_in_a_quarter_of_the_stack` reads them with 64 MiB.

/// Refuses, by its tokens and without recursion, a file that nests brackets deeper than
/// [`MAX_NESTING`] or holds more than [`MAX_NESTING_TOKENS`] tokens that rnix nests on
/// without counting, naming the line and column where the limit was crossed.
fn check_nesting(text: &str) -> Result<(), NixError> {
    use SyntaxKind::*;
    let mut run = 0usize;
    for (offset, c) in text.char_indices() {
        if matches!(c, 'a'..='z' | 'A'..='Z' | '0'..='9' | '/' | '_' | '.' | '+' | '-') {
            run += 1;
            if run > MAX_PATH_RUN {
                return Err(NixError::Unparsable(format!(
                    "{}: more than {MAX_PATH_RUN} characters in a row that could be a path (letters, digits, `/`, `_`, `.`, `+`, `-`); a python.nix py2nix writes has a few hundred at most",
                    line_column(text, offset)
                )));
            }
        } else {
            run = 0;
        }
    }
    let mut depth = 0usize;
    let mut nesting_tokens = 0usize;
    let mut offset = 0usize;
    for (kind, token) in rnix::tokenizer::Tokenizer::new(text) {
        if matches!(
            kind,
            TOKEN_L_BRACK
                | TOKEN_SUB
                | TOKEN_INVERT
                | TOKEN_CONCAT
                | TOKEN_UPDATE
                | TOKEN_IMPLICATION
                | TOKEN_PIPE_LEFT
                | TOKEN_OR
        ) {
            nesting_tokens += 1;
            if nesting_tokens > MAX_NESTING_TOKENS {
                return Err(NixError::Unparsable(format!(
                    "{}: the file holds more than {MAX_NESTING_TOKENS} of the tokens `[`, `-`, `!`, `++`, `//`, `->`, `<|` and `or` (each can nest the parser one level deeper); a python.nix py2nix writes holds a few hundred",
                    line_column(text, offset)
                )));
            }
        }
        match kind {
            TOKEN_L_BRACE | TOKEN_L_BRACK | TOKEN_L_PAREN | TOKEN_INTERPOL_START => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(NixError::Unparsable(format!(
                        "{}: the file nests brackets deeper than {MAX_NESTING} levels; a python.nix py2nix writes does not",
                        line_column(text, offset)
                    )));
                }
            }
            TOKEN_R_BRACE | TOKEN_R_BRACK | TOKEN_R_PAREN | TOKEN_INTERPOL_END => {
                depth = depth.saturating_sub(1)
            }
            _ => {}
        }
        offset += token.len();
    }
    Ok(())
}

/// `line L, column C` (both from 1, the column in characters) of a byte offset of `text`.
fn line_column(text: &str, offset: usize) -> String {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map_or(0, |last| last.chars().count())
        + 1;
    format!("line {line}, column {column}")
}

/// The tokens of a file as rnix's tokenizer makes them, with two empty whitespace tokens
/// before each token that can start a node or follow one inside it (point 2 above). Inside
/// strings and paths (their contents, ends and `${`), where the parser reads raw tokens or a
/// string's value is read from its children, nothing is added.
struct Spaced<'a> {
    tokens: rnix::tokenizer::Tokenizer<'a>,
    held: Option<rnix::tokenizer::Token<'a>>,
    spaces: u8,
}

impl<'a> Spaced<'a> {
    fn new(text: &'a str) -> Self {
        Spaced {
            tokens: rnix::tokenizer::Tokenizer::new(text),
            held: None,
            spaces: 0,
        }
    }
}

impl<'a> Iterator for Spaced<'a> {
    type Item = rnix::tokenizer::Token<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        use SyntaxKind::*;
        if self.spaces > 0 {
            self.spaces -= 1;
            return Some((TOKEN_WHITESPACE, ""));
        }
        if let Some(token) = self.held.take() {
            return Some(token);
        }
        let token = self.tokens.next()?;
        if token.0.is_trivia()
            || matches!(
                token.0,
                TOKEN_STRING_CONTENT | TOKEN_STRING_END | TOKEN_PATH | TOKEN_INTERPOL_START
            )
        {
            return Some(token);
        }
        self.held = Some(token);
        self.spaces = 1;
        Some((TOKEN_WHITESPACE, ""))
    }
}

/// Parses `text` within the bounds above and hands its tree to `read`; the tree is freed
/// iteratively afterwards. A parse error is an error (the one of the nesting limit, with
/// its line and column, before any other).
fn bounded_parse<T>(
    text: &str,
    read: impl FnOnce(&SyntaxNode) -> Result<T, NixError>,
) -> Result<T, NixError> {
    check_nesting(text)?;
    let (green, errors) = rnix::parser::parse(Spaced::new(text));
    let result = if errors.is_empty() {
        read(&SyntaxNode::new_root(green.clone()))
    } else {
        Err(parse_error(text, &green, &errors))
    };
    drop_iteratively(green);
    result
}

/// The error to report for a failed parse: the nesting limit's, located, when it was hit,
/// else the first.
fn parse_error(text: &str, green: &rowan::GreenNode, errors: &[ParseError]) -> NixError {
    let Some(limit) = errors
        .iter()
        .position(|e| matches!(e, ParseError::RecursionLimitExceeded))
    else {
        return NixError::Unparsable(errors.first().map_or_else(String::new, ToString::to_string));
    };
    // The parser makes one error node for each error of these kinds, in the same order (it
    // pushes the error when it finishes the node, and makes no other error node meanwhile).
    let error_nodes_before = errors[..limit]
        .iter()
        .filter(|e| {
            matches!(
                e,
                ParseError::Unexpected(_)
                    | ParseError::UnexpectedExtra(_)
                    | ParseError::UnexpectedWanted(..)
                    | ParseError::UnexpectedDoubleBind(_)
            )
        })
        .count();
    let place = SyntaxNode::new_root(green.clone())
        .descendants()
        .filter(|node| node.kind() == SyntaxKind::NODE_ERROR)
        .nth(error_nodes_before)
        .map(|node| format!("{}: ", line_column(text, node.text_range().start().into())))
        .unwrap_or_default();
    NixError::Unparsable(format!(
        "{place}the file nests expressions deeper than {EXPRESSION_LEVELS} levels (the parser's limit); a python.nix py2nix writes nests about 20"
    ))
}

/// Frees a syntax tree one node at a time: every node is held once more, parents before
/// their children, so that letting go of the tree frees nothing, and each later release
/// frees one node whose children are still held (rowan frees children recursively).
fn drop_iteratively(root: rowan::GreenNode) {
    let mut held = Vec::new();
    let mut todo = vec![root];
    while let Some(node) = todo.pop() {
        todo.extend(node.children().filter_map(|child| match child {
            NodeOrToken::Node(child) => Some(child.to_owned()),
            NodeOrToken::Token(_) => None,
        }));
        held.push(node);
    }
    // Vec drops its elements first to last: each parent before its children.
    drop(held);
}

/// Runs `read` on a thread with a [`READER_STACK`] stack (reserved, not used); see above for
/// why that is enough for any file.
fn on_a_large_stack<T: Send>(
    read: impl FnOnce() -> Result<T, NixError> + Send,
) -> Result<T, NixError> {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("read-nix".to_owned())
            .stack_size(READER_STACK)
            .spawn_scoped(scope, read)
            .map_err(|e| NixError::Unparsable(format!("cannot start a reader thread: {e}")))?
            .join()
            .map_err(|_| NixError::Unparsable("the reader failed".to_owned()))?
    })
}

fn read_plan_here(text: &str) -> Result<serde_json::Value, NixError> {
    bounded_parse(text, read_plan_in)
}

fn read_plan_in(tree: &SyntaxNode) -> Result<serde_json::Value, NixError> {
    let not_ours = || {
        NixError::NotData(
            "the file is not shaped like a python.nix py2nix generates (a function whose body is `let plan = ...; in ...`)"
                .to_string(),
        )
    };
    let root = ast::Root::cast(tree.clone()).ok_or_else(not_ours)?;
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
            return to_json(&value, 0);
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
    bounded_parse(text, |tree| {
        let expr = ast::Root::cast(tree.clone())
            .and_then(|root| root.expr())
            .ok_or_else(|| NixError::NotData("the text holds no expression".to_string()))?;
        to_json(&expr, 0)
    })
}

/// `expr` as JSON; `depth` is how many sets, lists and parentheses hold it.
fn to_json(expr: &ast::Expr, depth: usize) -> Result<serde_json::Value, NixError> {
    use serde_json::Value;
    if depth > MAX_NESTING {
        return Err(NixError::NotData(format!(
            "the data nests deeper than {MAX_NESTING} levels"
        )));
    }
    let depth = depth + 1;
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
                if map.insert(name.clone(), to_json(&value, depth)?).is_some() {
                    return Err(NixError::DuplicateAttribute(name.clone()));
                }
            }
            Value::Object(map)
        }
        ast::Expr::List(list) => Value::Array(
            list.items()
                .map(|item| to_json(&item, depth))
                .collect::<Result<_, _>>()?,
        ),
        ast::Expr::Str(string) => Value::String(string_text(string)?),
        ast::Expr::Literal(_) => integer(expr.syntax(), false)?,
        ast::Expr::Paren(paren) => match paren.expr() {
            // How the printer writes i64::MIN, which has no literal.
            Some(ast::Expr::BinOp(op)) if op.syntax().text() == "-9223372036854775807 - 1" => {
                Value::from(i64::MIN)
            }
            Some(inner) => to_json(&inner, depth)?,
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

    /// A python.nix whose `plan` is small and whose other binding `x` is `code`.
    fn with_code(code: &str) -> String {
        format!("{{ pkgs }}: let plan = {{ schema = 1; }}; x = {code}; in plan")
    }

    /// Every way rnix's parser nests, `n` levels deep.
    fn nested(n: usize) -> Vec<(&'static str, String)> {
        let wrap = |open: &str, inner: &str, close: &str| {
            format!("{}{inner}{}", open.repeat(n), close.repeat(n))
        };
        vec![
            ("lambda", wrap("a: ", "1", "")),
            ("pattern default", wrap("{ a ? ", "1", " }: 1")),
            ("let body", wrap("let a = 1; in ", "1", "")),
            ("let binding", wrap("let a = ", "1", "; in a")),
            ("with", wrap("with a; ", "1", "")),
            ("assert", wrap("assert a; ", "1", "")),
            ("if then", wrap("if a then ", "1", " else 1")),
            ("if else", wrap("if a then 1 else ", "1", "")),
            ("negation", wrap("- ", "1", "")),
            ("not", wrap("! ", "1", "")),
            ("concatenation", wrap("x ++ ", "1", "")),
            ("update", wrap("x // ", "1", "")),
            ("implication", wrap("x -> ", "1", "")),
            ("pipe", wrap("x <| ", "1", "")),
            ("default", wrap("x.a or ", "1", "")),
            ("parentheses", wrap("(", "1", ")")),
            ("lists", wrap("[ ", "1", " ]")),
            ("sets", wrap("{ a = ", "1", "; }")),
            ("recursive sets", wrap("rec { a = ", "1", "; }")),
            ("interpolation", wrap("\"${", "1", "}\"")),
            ("indented strings", wrap("''${", "1", "}''")),
            ("dynamic attribute", wrap("{ ${", "1", "} = 1; }")),
            ("selection", wrap("x.${", "1", "}")),
            ("inherit from", wrap("{ inherit (", "1", ") a; }")),
            ("path", wrap("./a/${", "1", "}")),
        ]
    }

    fn is_nesting_error(error: &NixError) -> bool {
        let text = error.to_string();
        text.contains("line 1, column ")
            && (text.contains(&format!("brackets deeper than {MAX_NESTING}"))
                || text.contains(&format!("more than {MAX_NESTING_TOKENS} of the tokens"))
                || text.contains(&format!("expressions deeper than {EXPRESSION_LEVELS}")))
    }

    #[test]
    fn every_nesting_at_a_modest_depth_reads() {
        for (label, code) in nested(50) {
            let parsed = rnix::Root::parse(&code);
            assert!(parsed.errors().is_empty(), "{label}: {:?}", parsed.errors());
            assert_eq!(
                read_plan(&with_code(&code)).unwrap(),
                serde_json::json!({"schema": 1}),
                "{label}"
            );
        }
    }

    #[test]
    fn every_nesting_100_000_deep_is_an_error_naming_the_place() {
        for (label, code) in nested(100_000) {
            let t = std::time::Instant::now();
            let error = read_plan(&with_code(&code)).unwrap_err();
            assert!(is_nesting_error(&error), "{label}: {error}");
            if code.starts_with('[') {
                assert!(nix_to_json(&code).is_err(), "{label}");
            }
            assert!(t.elapsed() < std::time::Duration::from_secs(20), "{label}");
        }
        // Where: the 257th bracket, the 65,537th `-`, the first token past 512 lambdas.
        let error = read_plan(&with_code(&format!("x\n  {}1", "(".repeat(300)))).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("line 2, column 259: the file nests brackets"),
            "{error}"
        );
        let prefix = "{ pkgs }: let plan = { schema = 1; }; x = ".len();
        let error = read_plan(&with_code(&"- ".repeat(70_000))).unwrap_err();
        let column = prefix + 2 * MAX_NESTING_TOKENS + 1;
        assert!(
            error.to_string().contains(&format!(
                "line 1, column {column}: the file holds more than"
            )),
            "{error}"
        );
        let error = read_plan(&with_code(&"a: ".repeat(1000))).unwrap_err();
        // The file itself (its lambda, its `let`) opens two expression levels.
        let column = prefix + 3 * (EXPRESSION_LEVELS - 2) + 1;
        assert!(
            error.to_string().contains(&format!(
                "line 1, column {column}: the file nests expressions deeper than 512"
            )),
            "{error}"
        );
        // A long run of path characters (which rnix's tokenizer looks through once per token).
        let error = read_plan(&with_code(&format!("x\n{}", "-".repeat(70_000)))).unwrap_err();
        assert!(
            error.to_string().contains(&format!(
                "line 2, column {}: more than {MAX_PATH_RUN} characters",
                MAX_PATH_RUN + 1
            )),
            "{error}"
        );
    }

    /// Lists can nest past their brackets when the parser recovers from errors: counted, not
    /// bracket-bounded.
    #[test]
    fn lists_that_nest_past_their_brackets_are_counted() {
        let trick = "[ ( { x . y } ) ] = 1 ; { x = 1 ; } ; ";
        let error = read_plan(&with_code(&trick.repeat(70_000))).unwrap_err();
        assert!(
            error.to_string().contains("more than 65536 of the tokens"),
            "{error}"
        );
        // Below the count, the parse ends in an error (at any depth), not a crash.
        let error = read_plan(&with_code(&trick.repeat(20_000))).unwrap_err();
        assert!(error.to_string().contains("does not parse"), "{error}");
    }

    /// Chains that make deep trees without parser recursion (applications, left-associative
    /// operators) read in linear time and are freed without recursion.
    #[test]
    fn long_chains_read_quickly() {
        let started = std::time::Instant::now();
        for chain in ["f ", "1 + ", "x && ", "x || ", "a * ", "x |> ", "f (x) "] {
            let code = format!("{}1", chain.repeat(200_000));
            assert_eq!(
                read_plan(&with_code(&code)).unwrap(),
                serde_json::json!({"schema": 1}),
                "{chain}"
            );
        }
        let has = format!("x{}", " ? a".repeat(200_000));
        assert!(read_plan(&with_code(&has)).is_ok());
        // Unspaced, 10,000 applications took 13 s (quadratic).
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "{:?}",
            started.elapsed()
        );
    }

    /// The bound of the comment above, checked: the deepest files the limits let through
    /// read on a quarter of the reader's stack.
    #[test]
    fn the_worst_files_at_the_limits_fit_in_a_quarter_of_the_stack() {
        let worst = [
            // 509 lambdas (the file's own lambda, `let` and `x =` make 512), then every
            // uncounted frame the file may hold, of the largest kind.
            with_code(&format!(
                "{}{}1",
                "a: ".repeat(509),
                "x.a or ".repeat(MAX_NESTING_TOKENS)
            )),
            with_code(&format!(
                "{}{}1",
                "a: ".repeat(509),
                "[ ".repeat(MAX_NESTING)
            )),
            // Dynamic attributes, the largest expression level, as deep as brackets allow.
            with_code(&format!(
                "{}1{}",
                "{ ${".repeat(MAX_NESTING / 2),
                "} = 1; }".repeat(MAX_NESTING / 2)
            )),
            // Data as deep as the walk allows.
            format!(
                "{{ pkgs }}: let plan = {}1{}; in plan",
                "[ ".repeat(MAX_NESTING),
                " ]".repeat(MAX_NESTING)
            ),
        ];
        for text in worst {
            let result = std::thread::Builder::new()
                .stack_size(READER_STACK / 4)
                .spawn(move || read_plan_here(&text).map(|_| ()))
                .expect("thread")
                .join()
                .expect("no panic");
            if let Err(error) = result {
                assert!(!is_nesting_error(&error), "{error}");
            }
        }
    }

    /// The parser sees the spaced tokens as the file's own: the same nodes over the same text
    /// ranges, and the same errors; and no token soup makes the reader panic.
    mod soups {
        use super::*;
        use proptest::prelude::*;

        const WORDS: &[&str] = &[
            "{",
            "}",
            "[",
            "]",
            "(",
            ")",
            "${",
            "\"",
            "''",
            "a",
            "1",
            "=",
            ";",
            ":",
            "?",
            "@",
            ",",
            "...",
            ".",
            "or",
            "let",
            "in",
            "with",
            "assert",
            "if",
            "then",
            "else",
            "rec",
            "inherit",
            "-",
            "!",
            "++",
            "//",
            "->",
            "<|",
            "|>",
            "+",
            "*",
            "/",
            "==",
            "&&",
            "||",
            "./p",
            "x.${",
            "<nixpkgs>",
            "http://x",
            " ",
            "\n",
            "# c\n",
            "/* c */",
            "'",
            "\\",
        ];

        fn nodes(tree: &SyntaxNode) -> Vec<(SyntaxKind, rowan::TextRange)> {
            tree.descendants()
                .map(|n| (n.kind(), n.text_range()))
                .collect()
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]
            #[test]
            fn soups_parse_as_rnix_parses_them(words in proptest::collection::vec(0..WORDS.len(), 0..200)) {
                let text: String = words.iter().map(|&i| WORDS[i]).collect::<Vec<_>>().join(" ");
                let plain = rnix::Root::parse(&text);
                let (green, errors) = rnix::parser::parse(Spaced::new(&text));
                let spaced = SyntaxNode::new_root(green);
                prop_assert_eq!(spaced.text().to_string(), text.clone());
                prop_assert_eq!(nodes(&spaced), nodes(&plain.syntax()));
                prop_assert_eq!(errors.as_slice(), plain.errors());
                let _ = read_plan(&text);
                let _ = read_plan(&format!("{{ pkgs }}: let plan = {text}; in plan"));
                let _ = nix_to_json(&text);
            }
        }
    }

    #[test]
    fn a_python_nix_that_is_not_ours_is_refused() {
        assert!(read_plan("{ }").is_err());
        assert!(read_plan("{ pkgs }: let x = 1; in x").is_err());
        assert!(read_plan("{ pkgs }: let plan = ").is_err());
    }
}
