//! Version constraints in Poetry's syntax (`^1.2`, `~1.2`, `>=1,<2 || 3.*`) and PEP 440's.

use std::fmt;
use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifier, VersionSpecifiers};

/// A union of PEP 440 specifier sets: a version matches when any member contains it.
/// PEP 440 specifiers are the one-member case; Poetry adds `||`, `^` and `~`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionConstraint {
    any_of: Vec<VersionSpecifiers>,
    text: String,
}

impl VersionConstraint {
    /// The constraint every version satisfies.
    pub fn any() -> Self {
        VersionConstraint {
            any_of: vec![VersionSpecifiers::empty()],
            text: "*".to_string(),
        }
    }

    /// Whether `version` satisfies the constraint.
    pub fn contains(&self, version: &Version) -> bool {
        self.any_of.iter().any(|set| set.contains(version))
    }

    /// Whether this is the constraint that allows everything.
    pub fn is_any(&self) -> bool {
        self.any_of.iter().any(|set| set.is_empty())
    }

    /// `== version`: the constraint only `version` satisfies.
    ///
    /// ```
    /// let v: pep440_rs::Version = "1.2".parse().unwrap();
    /// let c = py2nix_lock::VersionConstraint::exactly(&v);
    /// assert!(c.contains(&"1.2.0".parse().unwrap()) && !c.contains(&"1.2.1".parse().unwrap()));
    /// assert_eq!(c.to_string(), "==1.2");
    /// ```
    pub fn exactly(version: &Version) -> Self {
        Self::from_pep440(VersionSpecifiers::from(VersionSpecifier::equals_version(
            version.clone(),
        )))
    }

    /// A PEP 440 specifier set (no Poetry syntax), as PEP 621 and PEP 508 write them.
    pub fn from_pep440(specifiers: VersionSpecifiers) -> Self {
        let text = specifiers.to_string();
        VersionConstraint {
            any_of: vec![specifiers],
            text,
        }
    }
}

impl fmt::Display for VersionConstraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Parses a constraint in Poetry's syntax, which is a superset of PEP 440 specifiers.
///
/// ```
/// use py2nix_lock::parse_poetry_constraint;
/// let v = |s: &str| s.parse().unwrap();
/// let caret = parse_poetry_constraint("^1.2.3").unwrap();
/// assert!(caret.contains(&v("1.9")) && !caret.contains(&v("2.0")) && !caret.contains(&v("1.2.2")));
/// let zero = parse_poetry_constraint("^0.2").unwrap();
/// assert!(zero.contains(&v("0.2.9")) && !zero.contains(&v("0.3")));
/// let tilde = parse_poetry_constraint("~1.2").unwrap();
/// assert!(tilde.contains(&v("1.2.5")) && !tilde.contains(&v("1.3")));
/// let union = parse_poetry_constraint(">=1.5.6,<1.5.7 || >1.5.7").unwrap();
/// assert!(union.contains(&v("1.6")) && !union.contains(&v("1.5.7")));
/// let spaced = parse_poetry_constraint(">= 2.7, != 3.0.*").unwrap();
/// assert!(spaced.contains(&v("3.1")) && !spaced.contains(&v("3.0.1")));
/// assert!(parse_poetry_constraint("*").unwrap().is_any());
/// assert!(parse_poetry_constraint("1.2.*").unwrap().contains(&v("1.2.7")));
/// assert!(parse_poetry_constraint("3.8 || 3.9").unwrap().contains(&v("3.9")));
/// assert!(parse_poetry_constraint("^").is_err());
/// ```
pub fn parse_poetry_constraint(text: &str) -> Result<VersionConstraint, String> {
    let trimmed = text.trim();
    let mut any_of = Vec::new();
    for alternative in trimmed.split("||").flat_map(split_single_bars) {
        let mut specifiers = Vec::new();
        for atom in split_atoms(alternative) {
            specifiers.extend(
                parse_atom(&atom).map_err(|e| format!("invalid constraint `{text}`: {e}"))?,
            );
        }
        any_of.push(VersionSpecifiers::from_iter(specifiers));
    }
    if any_of.is_empty() {
        any_of.push(VersionSpecifiers::empty());
    }
    Ok(VersionConstraint {
        any_of,
        text: trimmed.to_string(),
    })
}

impl FromStr for VersionConstraint {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_poetry_constraint(s)
    }
}

fn split_single_bars(part: &str) -> impl Iterator<Item = &str> {
    part.split('|')
}

/// Splits `>= 1.0, <2 !=1.5` into `>=1.0`, `<2`, `!=1.5`: commas and spaces separate atoms,
/// except spaces right after an operator.
fn split_atoms(alternative: &str) -> Vec<String> {
    let mut atoms = Vec::new();
    let mut current = String::new();
    for c in alternative.chars() {
        let after_operator = current.chars().all(|c| "<>=!~^".contains(c));
        if c == ',' || (c.is_whitespace() && !after_operator) {
            if !current.is_empty() {
                atoms.push(std::mem::take(&mut current));
            }
        } else if !c.is_whitespace() {
            current.push(c);
        }
    }
    if !current.is_empty() {
        atoms.push(current);
    }
    atoms
}

fn parse_atom(atom: &str) -> Result<Vec<VersionSpecifier>, String> {
    if atom == "*" || atom.is_empty() {
        return Ok(Vec::new());
    }
    if let Some(rest) = atom.strip_prefix('^') {
        return caret(rest);
    }
    if let Some(rest) = atom.strip_prefix("~=") {
        return pep440(&format!("~={rest}"));
    }
    if let Some(rest) = atom.strip_prefix('~') {
        return tilde(rest);
    }
    if atom.starts_with(['<', '>', '!']) || atom.starts_with("==") || atom.starts_with("===") {
        return pep440(atom);
    }
    let bare = atom.strip_prefix('=').unwrap_or(atom);
    if bare.ends_with(".*") && bare.trim_end_matches(".*").is_empty() {
        return Ok(Vec::new());
    }
    pep440(&format!("=={bare}"))
}

fn pep440(text: &str) -> Result<Vec<VersionSpecifier>, String> {
    VersionSpecifier::from_str(text)
        .map(|s| vec![s])
        .map_err(|e| e.to_string())
}

fn release_of(text: &str) -> Result<(Version, Vec<u64>), String> {
    let version = Version::from_str(text).map_err(|e| e.to_string())?;
    let release = version.release().to_vec();
    Ok((version, release))
}

fn range(lower: &Version, upper: Vec<u64>) -> Result<Vec<VersionSpecifier>, String> {
    let upper = Version::new(upper);
    Ok(vec![
        VersionSpecifier::from_str(&format!(">={lower}")).map_err(|e| e.to_string())?,
        VersionSpecifier::from_str(&format!("<{upper}")).map_err(|e| e.to_string())?,
    ])
}

/// `^1.2.3` is `>=1.2.3,<2`; `^0.2.3` is `>=0.2.3,<0.3`; `^0.0.3` is `>=0.0.3,<0.0.4`.
fn caret(text: &str) -> Result<Vec<VersionSpecifier>, String> {
    let (lower, release) = release_of(text)?;
    let first_nonzero = release.iter().position(|&part| part != 0);
    let bump_at = match first_nonzero {
        Some(index) => index,
        None => release.len().saturating_sub(1),
    };
    let mut upper: Vec<u64> = release.iter().take(bump_at + 1).copied().collect();
    if let Some(last) = upper.last_mut() {
        *last += 1;
    }
    range(&lower, upper)
}

/// `~1.2.3` is `>=1.2.3,<1.3`; `~1.2` is `>=1.2,<1.3`; `~1` is `>=1,<2`.
fn tilde(text: &str) -> Result<Vec<VersionSpecifier>, String> {
    let (lower, release) = release_of(text)?;
    let keep = if release.len() >= 2 { 2 } else { 1 };
    let mut upper: Vec<u64> = release.iter().take(keep).copied().collect();
    if let Some(last) = upper.last_mut() {
        *last += 1;
    }
    range(&lower, upper)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(constraint: &str, inside: &[&str], outside: &[&str]) {
        let parsed = parse_poetry_constraint(constraint).unwrap();
        for v in inside {
            assert!(
                parsed.contains(&v.parse().unwrap()),
                "{constraint} should contain {v}"
            );
        }
        for v in outside {
            assert!(
                !parsed.contains(&v.parse().unwrap()),
                "{constraint} should not contain {v}"
            );
        }
    }

    #[test]
    fn real_constraints_from_poetry_locks() {
        check(">=3.8", &["3.8", "3.13.1"], &["3.7.17"]);
        check(
            ">=2.7, !=3.0.*, !=3.1.*, !=3.2.*",
            &["2.7.18", "3.3"],
            &["3.1.4"],
        );
        check("<4.0,>=3.9", &["3.9", "3.13"], &["4.0", "3.8"]);
        check("^3.9", &["3.9.0", "3.13.9"], &["4.0", "3.8.20"]);
        check(">=1.22.4", &["2.2.6"], &["1.22.3"]);
        check("==2.8.2", &["2.8.2"], &["2.8.3"]);
        check("2.8.2", &["2.8.2"], &["2.8.3"]);
        check("~=2.1", &["2.9"], &["3.0"]);
        check("^0", &["0.9"], &["1.0"]);
        check("^0.0.3", &["0.0.3"], &["0.0.4"]);
        check(">=3.9,<3.14", &["3.13.9"], &["3.14.0"]);
        check("!=1.5.7,>=1.5.6", &["1.5.6", "1.6"], &["1.5.7"]);
    }

    #[test]
    fn errors_name_the_constraint() {
        let err = parse_poetry_constraint(">=banana").unwrap_err();
        assert!(err.contains(">=banana"), "{err}");
    }
}
