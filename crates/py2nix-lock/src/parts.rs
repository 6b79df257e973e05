//! Large locks read in parts on several threads.
//!
//! uv.lock and poetry.lock are mostly a long run of `[[package]]` tables. A table header alone
//! on its line can only be a header (a multi-line string or array it seemed to sit in would be
//! left unterminated by the cut, and that piece would fail to parse), and every key after it
//! belongs to that table or to a later header. So cutting the text just before such lines
//! gives pieces that each parse on their own, and whose packages, concatenated in order, are
//! the whole file's. The caller accepts the pieces only if every later piece holds nothing but
//! packages (and the keys the format allows after them) and no key is given twice; on any
//! failure it parses the whole text again, which then gives the error and its position as the
//! whole file has it. The result is the same as one parse; only the wall time differs.

use serde::de::DeserializeOwned;

/// Files smaller than this are parsed whole: below it, a thread costs more than it saves.
const PARALLEL_FROM: usize = 128 * 1024;

/// How many pieces to cut `text` into: one per available core, at most four, and one for a
/// small file.
pub(crate) fn pieces_for(text: &str) -> usize {
    if text.len() < PARALLEL_FROM {
        return 1;
    }
    std::thread::available_parallelism()
        .map(|n| n.get().min(4))
        .unwrap_or(1)
}

/// Offsets at which to cut `text` into about `pieces` equal parts, each just before a line
/// that is exactly `header` (`[[package]]`, with `\n` or `\r\n` after it). Fewer offsets
/// when the text has fewer such lines.
pub(crate) fn cut_points(text: &str, header: &str, pieces: usize) -> Vec<usize> {
    let mut cuts = Vec::new();
    if pieces < 2 {
        return cuts;
    }
    let bytes = text.as_bytes();
    let mut last = 0;
    for k in 1..pieces {
        let mut from = (text.len() * k / pieces).max(last + 1);
        while from < text.len() && !text.is_char_boundary(from) {
            from += 1;
        }
        while let Some(found) = text.get(from..).and_then(|rest| rest.find(header)) {
            let at = from + found;
            let after = &bytes[at + header.len()..];
            let line_start = at > 0 && bytes[at - 1] == b'\n';
            let line_end = after.starts_with(b"\n") || after.starts_with(b"\r\n");
            if line_start && line_end {
                cuts.push(at);
                last = at;
                break;
            }
            from = at + 1;
        }
    }
    cuts
}

/// Whether `text` has a line that is exactly `header`: a head piece whose packages did not
/// come from such lines (an inline `package = [...]`, which a later `[[package]]` may not
/// extend) is not accepted.
pub(crate) fn has_header_line(text: &str, header: &str) -> bool {
    text.match_indices(header).any(|(at, _)| {
        let after = &text.as_bytes()[at + header.len()..];
        (at == 0 || text.as_bytes()[at - 1] == b'\n')
            && (after.is_empty() || after.starts_with(b"\n") || after.starts_with(b"\r\n"))
    })
}

/// Parses `text[..cuts[0]]` as `H` on this thread and each later piece as `R` on its own
/// thread; `None` if any piece fails to parse (the caller then parses the whole text).
pub(crate) fn parse_pieces<H, R>(text: &str, cuts: &[usize]) -> Option<(H, Vec<R>)>
where
    H: DeserializeOwned + Send,
    R: DeserializeOwned + Send,
{
    parse_pieces_then(text, cuts, |head: H| head, |rest: R| rest)
}

/// [`parse_pieces`], each piece then passed through `head`'s or `rest`'s function on the
/// thread that parsed it (so that converting the packages runs in parallel too).
pub(crate) fn parse_pieces_then<H, R, HT, RT>(
    text: &str,
    cuts: &[usize],
    head_then: impl Fn(H) -> HT,
    rest_then: impl Fn(R) -> RT + Sync,
) -> Option<(HT, Vec<RT>)>
where
    H: DeserializeOwned + Send,
    R: DeserializeOwned + Send,
    RT: Send,
{
    let first = cuts.first().copied()?;
    let mut bounds: Vec<(usize, usize)> = cuts.windows(2).map(|w| (w[0], w[1])).collect();
    bounds.push((*cuts.last()?, text.len()));
    std::thread::scope(|scope| {
        let handles: Vec<_> = bounds
            .iter()
            .map(|&(start, end)| {
                let piece = &text[start..end];
                let rest_then = &rest_then;
                scope.spawn(move || toml::from_str::<R>(piece).ok().map(rest_then))
            })
            .collect();
        let head = toml::from_str::<H>(&text[..first]).ok().map(head_then);
        let mut rest = Vec::with_capacity(handles.len());
        for handle in handles {
            rest.push(handle.join().ok()??);
        }
        Some((head?, rest))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_fall_only_before_header_lines() {
        let text = "a = 1\n[[package]]\nx = \"[[package]]\"\n[[package]]\r\ny = 2\n [[package]]\nz = 3\n[[package]]x\n";
        let cuts = cut_points(text, "[[package]]", 4);
        for &cut in &cuts {
            assert!(
                text[cut..].starts_with("[[package]]\n")
                    || text[cut..].starts_with("[[package]]\r\n")
            );
            assert_eq!(&text[cut - 1..cut], "\n");
        }
        assert!(!cuts.is_empty());
        assert!(cuts.windows(2).all(|w| w[0] < w[1]));
        assert!(cut_points(text, "[[package]]", 1).is_empty());
        assert!(cut_points("no headers\n", "[[package]]", 2).is_empty());
        // A middle inside a character is moved past it.
        let wide = format!("{}\n[[package]]\n", "é".repeat(20));
        assert_eq!(cut_points(&wide, "[[package]]", 2), [41]);
        assert!(has_header_line("[[package]]\n", "[[package]]"));
        assert!(has_header_line("a = 1\n[[package]]", "[[package]]"));
        assert!(!has_header_line(
            "package = [{ a = 1 }]\nx = \"[[package]]\"\n",
            "[[package]]"
        ));
    }

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Head {
        a: Option<i64>,
        #[serde(default)]
        package: Vec<toml::Table>,
    }

    #[derive(serde::Deserialize, Debug, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Rest {
        package: Vec<toml::Table>,
    }

    #[test]
    fn pieces_hold_the_whole_files_packages_in_order() {
        let mut text = String::from("a = 1\n");
        for i in 0..200 {
            text.push_str(&format!(
                "[[package]]\nname = \"p{i}\"\n[package.sub]\nv = {i}\n"
            ));
        }
        let cuts = cut_points(&text, "[[package]]", 3);
        assert_eq!(cuts.len(), 2);
        let (head, rest) = parse_pieces::<Head, Rest>(&text, &cuts).unwrap();
        let mut all = head.package;
        for piece in rest {
            all.extend(piece.package);
        }
        let whole: Head = toml::from_str(&text).unwrap();
        assert_eq!(all, whole.package);
        assert_eq!(head.a, Some(1));
    }

    #[test]
    fn a_cut_inside_a_multi_line_string_fails_the_piece() {
        // The header line is text inside a string: the piece before it does not parse.
        let text = "a = 1\n[[package]]\nname = \"x\"\ns = \"\"\"\n[[package]]\n\"\"\"\n";
        let cuts = cut_points(text, "[[package]]", 2);
        assert_eq!(cuts.len(), 1);
        assert!(parse_pieces::<Head, Rest>(text, &cuts).is_none());
    }
}
