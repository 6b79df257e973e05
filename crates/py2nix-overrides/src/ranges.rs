//! Version sets as unions of intervals, for the overlap and order checks of an entry's rules.
//!
//! Each PEP 440 specifier becomes a union of at most two intervals of **public versions**
//! (versions without a local label: specifiers here have none, so a local label never changes
//! a match) that **contains every version the specifier matches** (as
//! [`crate::rule::specifiers_contain`] matches). It may contain more (`>1.0` is `(1.0, ∞)`,
//! though `1.0.post1` does not match it): the model over-approximates and never
//! under-approximates, which the tests check against the matcher on generated versions.
//!
//! | specifier | interval(s) |
//! | --- | --- |
//! | `==V` | `[V, V]` |
//! | `!=V` | `(-∞, V) ∪ (V, ∞)` |
//! | `==P.*` | `[P.dev0, P'.dev0)`, `P'` being `P` with its last number plus one |
//! | `!=P.*` | `(-∞, P.dev0) ∪ [P'.dev0, ∞)` |
//! | `~=V` (release `R.N`) | `[V, R'.dev0)` |
//! | `<V` | `(-∞, V.dev0)` for a final release V (its pre-releases do not match), else `(-∞, V)` |
//! | `<=V`, `>V`, `>=V` | `(-∞, V]`, `(V, ∞)`, `[V, ∞)` |
//!
//! (`P.dev0` is the smallest version whose release starts with `P`, and every version whose
//! release starts with `P` lies below `P'.dev0`, epochs aside.) A specifier set is the
//! intersection of its specifiers' sets. Two intervals intersect unless their bounds exclude
//! it in the version order, which is sound: disjoint models mean disjoint version sets. The
//! price is a rare false alarm for bounds that meet only in a gap of the order (`>1.0` and
//! `<1.0.post0`), which a curator can always rewrite.

use std::cmp::Ordering;
use std::ops::Bound;

use pep440_rs::{Operator, Version, VersionSpecifier, VersionSpecifiers};

/// A union of intervals of versions (possibly overlapping each other; never empty ones).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VersionSet(Vec<Interval>);

#[derive(Debug, Clone, PartialEq, Eq)]
struct Interval {
    lower: Bound<Version>,
    upper: Bound<Version>,
}

impl Interval {
    fn new(lower: Bound<Version>, upper: Bound<Version>) -> Interval {
        Interval { lower, upper }
    }

    fn is_empty(&self) -> bool {
        match (&self.lower, &self.upper) {
            (Bound::Unbounded, _) | (_, Bound::Unbounded) => false,
            (Bound::Included(low), Bound::Included(high)) => low > high,
            (
                Bound::Included(low) | Bound::Excluded(low),
                Bound::Included(high) | Bound::Excluded(high),
            ) => low >= high,
        }
    }

    fn intersect(&self, other: &Interval) -> Interval {
        let lower = match compare_lower(&self.lower, &other.lower) {
            Ordering::Less => other.lower.clone(),
            _ => self.lower.clone(),
        };
        let upper = match compare_upper(&self.upper, &other.upper) {
            Ordering::Greater => other.upper.clone(),
            _ => self.upper.clone(),
        };
        Interval { lower, upper }
    }

    #[cfg(test)]
    fn contains(&self, version: &Version) -> bool {
        let above = match &self.lower {
            Bound::Unbounded => true,
            Bound::Included(low) => version >= low,
            Bound::Excluded(low) => version > low,
        };
        let below = match &self.upper {
            Bound::Unbounded => true,
            Bound::Included(high) => version <= high,
            Bound::Excluded(high) => version < high,
        };
        above && below
    }
}

/// Orders lower bounds: unbounded lowest, `[v` before `(v`.
fn compare_lower(a: &Bound<Version>, b: &Bound<Version>) -> Ordering {
    match (a, b) {
        (Bound::Unbounded, Bound::Unbounded) => Ordering::Equal,
        (Bound::Unbounded, _) => Ordering::Less,
        (_, Bound::Unbounded) => Ordering::Greater,
        (Bound::Included(x), Bound::Included(y)) | (Bound::Excluded(x), Bound::Excluded(y)) => {
            x.cmp(y)
        }
        (Bound::Included(x), Bound::Excluded(y)) => x.cmp(y).then(Ordering::Less),
        (Bound::Excluded(x), Bound::Included(y)) => x.cmp(y).then(Ordering::Greater),
    }
}

/// Orders upper bounds: unbounded highest, `v]` after `v)`.
pub(crate) fn compare_upper(a: &Bound<Version>, b: &Bound<Version>) -> Ordering {
    match (a, b) {
        (Bound::Unbounded, Bound::Unbounded) => Ordering::Equal,
        (Bound::Unbounded, _) => Ordering::Greater,
        (_, Bound::Unbounded) => Ordering::Less,
        (Bound::Included(x), Bound::Included(y)) | (Bound::Excluded(x), Bound::Excluded(y)) => {
            x.cmp(y)
        }
        (Bound::Included(x), Bound::Excluded(y)) => x.cmp(y).then(Ordering::Greater),
        (Bound::Excluded(x), Bound::Included(y)) => x.cmp(y).then(Ordering::Less),
    }
}

impl VersionSet {
    /// Every version.
    pub fn all() -> VersionSet {
        VersionSet(vec![Interval::new(Bound::Unbounded, Bound::Unbounded)])
    }

    /// The set a rule's `versions` covers (`None`: every version).
    pub fn of(specifiers: Option<&VersionSpecifiers>) -> VersionSet {
        let mut set = VersionSet::all();
        for specifier in specifiers.into_iter().flat_map(|s| s.iter()) {
            set = set.intersect(&VersionSet::of_specifier(specifier));
        }
        set
    }

    fn of_specifier(specifier: &VersionSpecifier) -> VersionSet {
        use Bound::{Excluded, Included, Unbounded};
        let version = specifier.version().clone();
        let intervals = match specifier.operator() {
            Operator::Equal => vec![Interval::new(Included(version.clone()), Included(version))],
            Operator::NotEqual => vec![
                Interval::new(Unbounded, Excluded(version.clone())),
                Interval::new(Excluded(version), Unbounded),
            ],
            Operator::EqualStar => {
                let (first, next) = prefix_bounds(&version, version.release());
                vec![Interval::new(Included(first), Excluded(next))]
            }
            Operator::NotEqualStar => {
                let (first, next) = prefix_bounds(&version, version.release());
                vec![
                    Interval::new(Unbounded, Excluded(first)),
                    Interval::new(Included(next), Unbounded),
                ]
            }
            Operator::TildeEqual => {
                let release = version.release();
                let (_, next) = prefix_bounds(&version, &release[..release.len() - 1]);
                vec![Interval::new(Included(version), Excluded(next))]
            }
            Operator::LessThan => {
                let final_release = !version.any_prerelease() && !version.is_post();
                let bound = if final_release {
                    version.with_dev(Some(0))
                } else {
                    version
                };
                vec![Interval::new(Unbounded, Excluded(bound))]
            }
            Operator::LessThanEqual => vec![Interval::new(Unbounded, Included(version))],
            Operator::GreaterThan => vec![Interval::new(Excluded(version), Unbounded)],
            Operator::GreaterThanEqual => vec![Interval::new(Included(version), Unbounded)],
            // Refused when the file is read (`rule::parse_versions`); model it as everything,
            // which is sound.
            #[allow(deprecated)]
            Operator::ExactEqual => vec![Interval::new(Unbounded, Unbounded)],
        };
        VersionSet(intervals)
    }

    /// The versions in both sets.
    pub fn intersect(&self, other: &VersionSet) -> VersionSet {
        let mut intervals = Vec::new();
        for a in &self.0 {
            for b in &other.0 {
                let both = a.intersect(b);
                if !both.is_empty() {
                    intervals.push(both);
                }
            }
        }
        VersionSet(intervals)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The highest upper bound (`None` for the empty set).
    pub fn top(&self) -> Option<&Bound<Version>> {
        self.0
            .iter()
            .map(|interval| &interval.upper)
            .max_by(|a, b| compare_upper(a, b))
    }

    /// A version in the set, where a bound names one.
    pub fn example(&self) -> Option<&Version> {
        self.0
            .iter()
            .find_map(|interval| match (&interval.lower, &interval.upper) {
                (Bound::Included(version), _) | (_, Bound::Included(version)) => Some(version),
                _ => None,
            })
    }

    #[cfg(test)]
    pub fn contains(&self, version: &Version) -> bool {
        self.0.iter().any(|interval| interval.contains(version))
    }
}

/// The smallest version whose release starts with `prefix` (`prefix.dev0`, in `version`'s
/// epoch) and the smallest above all of them (the prefix with its last number plus one, `.dev0`).
fn prefix_bounds(version: &Version, prefix: &[u64]) -> (Version, Version) {
    let first = Version::new(prefix)
        .with_epoch(version.epoch())
        .with_dev(Some(0));
    let mut bumped = prefix.to_vec();
    if let Some(last) = bumped.last_mut() {
        *last = last.saturating_add(1);
    }
    let next = Version::new(bumped)
        .with_epoch(version.epoch())
        .with_dev(Some(0));
    (first, next)
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;
    use crate::rule::specifiers_contain;

    fn set(text: &str) -> VersionSet {
        VersionSet::of(Some(&VersionSpecifiers::from_str(text).unwrap()))
    }

    fn disjoint(a: &str, b: &str) -> bool {
        set(a).intersect(&set(b)).is_empty()
    }

    #[test]
    fn usual_splits_are_disjoint() {
        assert!(disjoint(">=12", "<12"));
        assert!(disjoint(">=1.4.0", "<1.4.0"));
        assert!(disjoint(">=2,<3", "<2"));
        assert!(disjoint(">=2,<3", ">=3"));
        assert!(disjoint("==1.4.*", ">=1.5"));
        assert!(disjoint("==1.4.*", "<1.4"));
        assert!(disjoint("<1.5", "==1.5.*"));
        assert!(disjoint("~=1.4.2", ">=1.5"));
        assert!(disjoint("==1.2.3", "!=1.2.3"));
        assert!(disjoint("!=1.4.*", "==1.4.*"));
        assert!(disjoint("<=1", ">1"));
        // `<1.0` matches no pre-release of 1.0.
        assert!(disjoint(">=1.0rc1", "<1.0"));
    }

    #[test]
    fn overlaps_are_found() {
        assert!(!disjoint(">=1", ">=2"));
        assert!(!disjoint("<=2", ">=2"));
        assert!(!disjoint(">=1,<3", ">=2,<4"));
        assert!(!disjoint("==1.4.*", ">=1.4.5"));
        assert!(!disjoint("~=1.4", "==1.9.2"));
        assert!(!disjoint("!=1.0", ">=0.1,<0.2"));
    }

    #[test]
    fn empty_sets_are_empty() {
        assert!(set(">=2,<1").is_empty());
        assert!(set("==1.4.*,>=1.5").is_empty());
        assert!(!set(">=1,<=1").is_empty());
    }

    fn versions() -> Vec<Version> {
        let mut out = Vec::new();
        let releases: &[&[u64]] = &[
            &[0],
            &[1],
            &[1, 0],
            &[1, 4],
            &[1, 4, 0],
            &[1, 4, 2],
            &[1, 5],
            &[2],
            &[1, 3, 9],
            &[1, 4, 0, 1],
            &[1, 10],
        ];
        for epoch in [0, 1] {
            for release in releases {
                let base = Version::new(*release).with_epoch(epoch);
                let suffixes = [
                    "",
                    ".dev0",
                    ".dev3",
                    "a0",
                    "a1",
                    "b2.dev1",
                    "rc1",
                    ".post0",
                    ".post1",
                    ".post2.dev0",
                    "+local",
                    ".post1+x.1",
                    "rc1+y",
                ];
                for suffix in suffixes {
                    out.push(Version::from_str(&format!("{base}{suffix}")).unwrap());
                }
            }
        }
        out
    }

    fn specifiers() -> Vec<String> {
        let operands = [
            "0",
            "1",
            "1.0",
            "1.4",
            "1.4.0",
            "1.4.2",
            "1.5",
            "2",
            "1.4rc1",
            "1.4.post1",
            "1.4.dev0",
            "1!1.4",
            "1.4.0.1",
            "1.4a1.post2.dev3",
        ];
        let mut out = Vec::new();
        for operand in operands {
            for op in ["==", "!=", "<", "<=", ">", ">="] {
                out.push(format!("{op}{operand}"));
            }
            let version = Version::from_str(operand).unwrap();
            let release: Vec<String> = version.release().iter().map(u64::to_string).collect();
            let prefix = match version.epoch() {
                0 => release.join("."),
                epoch => format!("{epoch}!{}", release.join(".")),
            };
            out.push(format!("=={prefix}.*"));
            out.push(format!("!={prefix}.*"));
            if version.release().len() > 1 {
                out.push(format!("~={operand}"));
            }
        }
        out
    }

    /// The soundness of the overlap check rests on this: the model holds every version the
    /// matcher accepts.
    #[test]
    fn the_model_contains_every_matching_version() {
        let versions = versions();
        for text in specifiers() {
            let specifiers = VersionSpecifiers::from_str(&text).unwrap();
            let model = VersionSet::of(Some(&specifiers));
            for version in &versions {
                if specifiers_contain(&specifiers, version) {
                    assert!(
                        model.contains(&version.clone().without_local()),
                        "`{text}` matches {version}, its model {model:?} does not"
                    );
                }
            }
        }
    }

    /// And the same for pairs: matching both implies the models intersect.
    #[test]
    fn disjoint_models_mean_no_common_version() {
        let versions = versions();
        let specifiers: Vec<(String, VersionSpecifiers)> = specifiers()
            .into_iter()
            .map(|text| {
                let parsed = VersionSpecifiers::from_str(&text).unwrap();
                (text, parsed)
            })
            .collect();
        for (a_text, a) in &specifiers {
            for (b_text, b) in &specifiers {
                let combined = VersionSpecifiers::from_str(&format!("{a_text},{b_text}")).unwrap();
                if VersionSet::of(Some(a))
                    .intersect(&VersionSet::of(Some(b)))
                    .is_empty()
                {
                    for version in &versions {
                        assert!(
                            !specifiers_contain(&combined, version),
                            "`{a_text}` and `{b_text}` both match {version}"
                        );
                    }
                }
            }
        }
    }
}
