//! The syntax tree: the few Nix value forms py2nix emits.

/// A Nix expression made only of data (no code), printed by [`Expr::to_nix`].
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
    List(Vec<Expr>),
    /// An attribute set; entries are printed in the order given.
    Attrs(Vec<(String, Expr)>),
}

/// A value that cannot be written as Nix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NixError {
    #[error("a string contains a NUL byte, which Nix strings cannot hold: {0:?}")]
    NulByte(String),
    #[error("the number `{0}` is not an integer; Nix output holds integers only")]
    NotAnInteger(String),
    #[error("the attribute `{0}` appears twice in one attribute set")]
    DuplicateAttribute(String),
    #[error("the Nix does not parse: {0}")]
    Unparsable(String),
    #[error("not a plan py2nix can read back: {0}")]
    NotData(String),
}

impl Expr {
    /// Converts JSON data into the equivalent Nix value (objects keep their key order).
    ///
    /// ```
    /// let json = serde_json::json!({"a": [1, "x"], "b c": null});
    /// let nix = py2nix_nix::Expr::from_json(&json).unwrap().to_nix().unwrap();
    /// assert_eq!(nix, "{\n  a = [\n    1\n    \"x\"\n  ];\n  \"b c\" = null;\n}");
    /// ```
    pub fn from_json(value: &serde_json::Value) -> Result<Expr, NixError> {
        Ok(match value {
            serde_json::Value::Null => Expr::Null,
            serde_json::Value::Bool(b) => Expr::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Expr::Int(i),
                None => return Err(NixError::NotAnInteger(n.to_string())),
            },
            serde_json::Value::String(s) => Expr::Str(s.clone()),
            serde_json::Value::Array(items) => Expr::List(
                items
                    .iter()
                    .map(Expr::from_json)
                    .collect::<Result<_, _>>()?,
            ),
            serde_json::Value::Object(map) => Expr::Attrs(
                map.iter()
                    .map(|(k, v)| Ok((k.clone(), Expr::from_json(v)?)))
                    .collect::<Result<_, NixError>>()?,
            ),
        })
    }

    /// Prints the expression as Nix source, indented by two spaces per level.
    pub fn to_nix(&self) -> Result<String, NixError> {
        self.to_nix_indented(0)
    }

    /// Prints the expression as if it stood `depth` levels deep (nested lines are indented
    /// further; the first line is not).
    pub fn to_nix_indented(&self, depth: usize) -> Result<String, NixError> {
        let mut out = String::new();
        crate::print::write_expr(&mut out, self, depth)?;
        Ok(out)
    }
}
