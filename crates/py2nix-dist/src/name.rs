//! Project names as PEP 503 compares them.

/// The PEP 503 normalised form of a project (or dependency-group, PEP 735) name:
/// `re.sub(r"[-_.]+", "-", name).lower()`. Only ASCII letters change case; nothing is trimmed
/// (a name with a leading or trailing separator keeps it as `-`: it is not a valid name, and
/// normalising does not make it one).
///
/// ```
/// assert_eq!(py2nix_dist::normalize_name("Zope.Interface__x"), "zope-interface-x");
/// ```
pub fn normalize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// Whether two names are the same project (equal once normalised), without allocating.
pub fn names_equal(a: &str, b: &str) -> bool {
    let mut a = Normalized::new(a);
    let mut b = Normalized::new(b);
    loop {
        match (a.next(), b.next()) {
            (None, None) => return true,
            (x, y) if x != y => return false,
            _ => {}
        }
    }
}

/// Whether `name` is already in normalised form and a valid name: lower-case ASCII letters,
/// digits and single inner `-`.
pub fn is_normalized(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--")
}

/// The characters of a name's normalised form.
struct Normalized<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
}

impl<'a> Normalized<'a> {
    fn new(name: &'a str) -> Self {
        Normalized {
            chars: name.chars().peekable(),
        }
    }
}

impl Iterator for Normalized<'_> {
    type Item = char;

    fn next(&mut self) -> Option<char> {
        let c = self.chars.next()?;
        if matches!(c, '-' | '_' | '.') {
            while self
                .chars
                .next_if(|c| matches!(c, '-' | '_' | '.'))
                .is_some()
            {}
            return Some('-');
        }
        Some(c.to_ascii_lowercase())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_normalise_as_pep_503_says() {
        let cases = [
            ("PySocks", "pysocks"),
            ("typing_extensions", "typing-extensions"),
            ("zope.interface", "zope-interface"),
            ("Zope.Interface__x", "zope-interface-x"),
            ("a-_.b", "a-b"),
            ("Foo__Bar.-baz", "foo-bar-baz"),
            ("_a", "-a"),
            ("a__", "a-"),
            ("--", "-"),
            ("", ""),
            ("ÉCOLE", "École"),
            ("a1.2", "a1-2"),
        ];
        for (name, expected) in cases {
            assert_eq!(normalize_name(name), expected, "{name}");
            assert!(names_equal(name, expected), "{name}");
            assert!(names_equal(expected, name), "{name}");
        }
    }

    #[test]
    fn names_compare_normalised() {
        let cases = [
            ("Flask", "flask", true),
            ("typing-extensions", "Typing_Extensions", true),
            ("a.b", "a--b", true),
            ("a-b", "ab", false),
            ("a", "a-", false),
            ("a", "", false),
            ("", "", true),
            ("abc", "ab", false),
        ];
        for (a, b, equal) in cases {
            assert_eq!(names_equal(a, b), equal, "{a} {b}");
            assert_eq!(names_equal(b, a), equal, "{b} {a}");
            assert_eq!(normalize_name(a) == normalize_name(b), equal, "{a} {b}");
        }
    }

    #[test]
    fn normalised_names() {
        for good in ["a", "flask", "typing-extensions", "a1-2b"] {
            assert!(is_normalized(good), "{good}");
        }
        for bad in ["", "Flask", "a_b", "a.b", "-a", "a-", "a--b", "a b", "é"] {
            assert!(!is_normalized(bad), "{bad}");
        }
    }
}
