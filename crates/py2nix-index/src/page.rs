//! Simple API pages: parsing PEP 503 HTML and PEP 691 JSON into the few facts py2nix keeps.

use serde::{Deserialize, Serialize};
use url::Url;

/// What py2nix keeps of a project page: its files.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page {
    pub files: Vec<PageFile>,
}

/// One file of a project page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct PageFile {
    pub filename: String,
    /// Absolute URL, without the hash fragment.
    pub url: String,
    /// Lower-case hex sha256, when the index gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires_python: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub yanked: bool,
    /// Present when the index serves the file's core metadata at `<url>.metadata` (PEP 658,
    /// with PEP 714's attribute names and the older ones).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub core_metadata: Option<CoreMetadataRef>,
}

/// The index offers a file's `METADATA` separately, at the file's URL plus `.metadata`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoreMetadataRef {
    /// Lower-case hex sha256 of the metadata file, when the index gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

impl CoreMetadataRef {
    /// From an HTML attribute value: `true`, or `<algorithm>=<hex>` (pip's reading: any
    /// other value still means the file exists, without a hash); `false` means none.
    fn from_html(value: &str) -> Option<CoreMetadataRef> {
        match value.trim() {
            "false" => None,
            value => Some(CoreMetadataRef {
                sha256: value
                    .split_once('=')
                    .filter(|(algorithm, _)| algorithm.eq_ignore_ascii_case("sha256"))
                    .map(|(_, hex)| hex.to_ascii_lowercase()),
            }),
        }
    }

    /// From a PEP 691 value: `true`, `false`, or a map of hashes.
    fn from_json(value: &serde_json::Value) -> Option<CoreMetadataRef> {
        match value {
            serde_json::Value::Bool(true) => Some(CoreMetadataRef::default()),
            serde_json::Value::Object(hashes) => Some(CoreMetadataRef {
                sha256: hashes
                    .get("sha256")
                    .and_then(|h| h.as_str())
                    .map(str::to_ascii_lowercase),
            }),
            _ => None,
        }
    }
}

impl Page {
    pub fn file(&self, filename: &str) -> Option<&PageFile> {
        self.files.iter().find(|f| f.filename == filename)
    }
}

/// Whether a page's file named `filename` is kept for `package` (normalised), decided when
/// the page is read: `Err` (the reason) for a name that is not one safe file name
/// ([`py2nix_dist::check_filename`]: `/`, `..`, control characters, …), dropped with a
/// warning, since only a malicious or broken index writes one; `Ok(false)` for a safe name
/// that is not a wheel or sdist of `package` with a version (an `.egg`, an `.exe`, another
/// project's file), dropped silently as pip and uv ignore such links; `Ok(true)` otherwise.
///
/// ```
/// use py2nix_index::check_page_filename;
/// assert_eq!(check_page_filename("Flask-3.1.0-py3-none-any.whl", "flask"), Ok(true));
/// assert_eq!(check_page_filename("flask-3.1.0.tar.gz", "flask"), Ok(true));
/// assert_eq!(check_page_filename("flask-0.1.win32.exe", "flask"), Ok(false));
/// assert_eq!(check_page_filename("jinja2-3.1.4.tar.gz", "flask"), Ok(false));
/// assert!(check_page_filename("../flask-3.1.0.tar.gz", "flask").is_err());
/// ```
pub fn check_page_filename(filename: &str, package: &str) -> Result<bool, String> {
    py2nix_dist::check_filename(filename)?;
    Ok(py2nix_dist::filename_version(filename, package).is_some())
}

/// The links dropped from pages as they were read because their file names are not safe
/// ([`check_page_filename`]), per page, for one warning per page: the names are deduplicated
/// and at most [`DroppedLinks::KEPT`] are kept per page.
#[derive(Debug, Default)]
pub(crate) struct DroppedLinks {
    pages: std::sync::Mutex<std::collections::BTreeMap<String, std::collections::BTreeSet<String>>>,
}

impl DroppedLinks {
    /// Names kept per page.
    const KEPT: usize = 100;
    /// Names a warning shows.
    const SHOWN: usize = 3;
    /// Pages warned about one by one; the others are counted in one more warning.
    const PAGES: usize = 20;

    pub(crate) fn record(&self, page: &str, reason: String) {
        let mut pages = self
            .pages
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let names = pages.entry(page.to_string()).or_default();
        if names.len() < Self::KEPT {
            names.insert(reason);
        }
    }

    /// One warning per page that had dropped links (at most [`DroppedLinks::PAGES`], then one
    /// counting the rest), forgetting them.
    pub(crate) fn take_warnings(&self) -> Vec<String> {
        let pages = std::mem::take(
            &mut *self
                .pages
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        let mut warnings: Vec<String> = pages
            .iter()
            .take(Self::PAGES)
            .map(|(page, reasons)| {
                let count = if reasons.len() >= Self::KEPT {
                    format!("{} or more links", Self::KEPT)
                } else if reasons.len() == 1 {
                    "a link".to_string()
                } else {
                    format!("{} links", reasons.len())
                };
                let mut shown: Vec<&str> =
                    reasons.iter().take(Self::SHOWN).map(String::as_str).collect();
                let more = reasons.len().saturating_sub(Self::SHOWN);
                let more_text = if reasons.len() >= Self::KEPT {
                    "others".to_string()
                } else {
                    format!("{more} more")
                };
                if more > 0 {
                    shown.push(&more_text);
                }
                format!(
                    "the index page {page} lists {count} whose file name is not one safe file name, dropped: {}",
                    shown.join("; ")
                )
            })
            .collect();
        if pages.len() > Self::PAGES {
            warnings.push(format!(
                "{} more index pages list links whose file names are not safe file names; they were dropped",
                pages.len() - Self::PAGES
            ));
        }
        warnings
    }
}

/// `base` joined with `link`, without credentials (an index must never pass them on).
fn resolve_link(base: &Url, link: &str) -> Result<Url, String> {
    let mut url = base
        .join(link)
        .map_err(|e| format!("invalid link `{}`: {e}", crate::redact_url(link)))?;
    let _ = url.set_username("");
    let _ = url.set_password(None);
    Ok(url)
}

/// The page URL as the base for links, without credentials.
fn base_url(page_url: &str) -> Result<Url, String> {
    Url::parse(&crate::redact_url(page_url)).map_err(|e| format!("invalid page URL: {e}"))
}

/// Splits `https://host/f.whl#sha256=abc` into the URL without fragment and the sha256.
fn split_hash(url: &mut Url) -> Option<String> {
    let fragment = url.fragment().map(str::to_string);
    url.set_fragment(None);
    let (algorithm, hex) = fragment?
        .split_once('=')
        .map(|(a, h)| (a.to_string(), h.to_string()))?;
    (algorithm == "sha256").then(|| hex.to_ascii_lowercase())
}

/// Parses a PEP 503 HTML page; relative links are resolved against `page_url`.
///
/// ```
/// let html = r#"<a href="../../f/flask-3.1.0-py3-none-any.whl#sha256=AB" data-requires-python="&gt;=3.9">flask-3.1.0-py3-none-any.whl</a>"#;
/// let page = py2nix_index::parse_html(html, "https://example.org/simple/flask/").unwrap();
/// assert_eq!(page.files[0].url, "https://example.org/f/flask-3.1.0-py3-none-any.whl");
/// assert_eq!(page.files[0].sha256.as_deref(), Some("ab"));
/// assert_eq!(page.files[0].requires_python.as_deref(), Some(">=3.9"));
/// ```
pub fn parse_html(html: &str, page_url: &str) -> Result<Page, String> {
    let mut stream = HtmlStream::new(page_url)?;
    let mut files = Vec::new();
    stream.feed(html.as_bytes(), &mut |file| files.push(file))?;
    stream.finish(&mut |file| files.push(file))?;
    Ok(Page { files })
}

/// A PEP 503 page parsed as it arrives: [`HtmlStream::feed`] takes the body chunk by chunk and
/// hands over each file as soon as its anchor is complete, so a large page (numpy's is over a
/// megabyte) is never held whole; only the unfinished anchor at the end of a chunk is kept.
///
/// Only what PEP 503 pages use is understood: `<a>` elements with their attributes (quoted,
/// unquoted or bare, names in any case) and text, and comments, which are skipped.
///
/// ```
/// let mut stream = py2nix_index::HtmlStream::new("https://example.org/simple/x/").unwrap();
/// let mut names = Vec::new();
/// for chunk in ["<a href=\"x-1.tar.gz\">x-1", ".tar.gz</a><a href=x-2.tar.gz>x-2.tar.gz</a>"] {
///     stream.feed(chunk.as_bytes(), &mut |f| names.push(f.filename)).unwrap();
/// }
/// stream.finish(&mut |f| names.push(f.filename)).unwrap();
/// assert_eq!(names, ["x-1.tar.gz", "x-2.tar.gz"]);
/// ```
pub struct HtmlStream {
    base: Url,
    pending: Vec<u8>,
}

impl HtmlStream {
    pub fn new(page_url: &str) -> Result<HtmlStream, String> {
        Ok(HtmlStream {
            base: base_url(page_url)?,
            pending: Vec::new(),
        })
    }

    /// Takes the next bytes of the page and passes on every file completed by them.
    pub fn feed(&mut self, chunk: &[u8], out: &mut dyn FnMut(PageFile)) -> Result<(), String> {
        self.feed_kept(chunk, &|_| true, out)
    }

    /// [`HtmlStream::feed`], passing on only the files whose names `keep` accepts; the others
    /// cost no URL parsing.
    pub fn feed_kept(
        &mut self,
        chunk: &[u8],
        keep: &dyn Fn(&str) -> bool,
        out: &mut dyn FnMut(PageFile),
    ) -> Result<(), String> {
        if self.pending.is_empty() {
            // The usual case: the chunk is scanned where it is, and only an unfinished
            // anchor at its end is kept.
            let consumed = scan(&self.base, chunk, false, keep, out)?;
            self.pending.extend_from_slice(&chunk[consumed..]);
            return Ok(());
        }
        self.pending.extend_from_slice(chunk);
        let consumed = scan(&self.base, &self.pending, false, keep, out)?;
        self.pending.drain(..consumed);
        Ok(())
    }

    /// The end of the page: an anchor still open ends here.
    pub fn finish(self, out: &mut dyn FnMut(PageFile)) -> Result<(), String> {
        self.finish_kept(&|_| true, out)
    }

    /// [`HtmlStream::finish`] with a filter, as [`HtmlStream::feed_kept`].
    pub fn finish_kept(
        mut self,
        keep: &dyn Fn(&str) -> bool,
        out: &mut dyn FnMut(PageFile),
    ) -> Result<(), String> {
        scan(&self.base, &self.pending, true, keep, out)?;
        self.pending.clear();
        Ok(())
    }
}

/// Passes on the complete anchors in `bytes`; returns how many bytes are done with.
fn scan(
    base: &Url,
    bytes: &[u8],
    eof: bool,
    keep: &dyn Fn(&str) -> bool,
    out: &mut dyn FnMut(PageFile),
) -> Result<usize, String> {
    let mut pos = 0;
    while let Some(offset) = memchr::memchr(b'<', &bytes[pos..]) {
        let start = pos + offset;
        let rest = &bytes[start..];
        if rest.len() < 4 && !eof {
            return Ok(start);
        }
        if rest.starts_with(b"<!--") {
            match find(rest, b"-->") {
                Some(end) => pos = start + end + 3,
                None if eof => return Ok(bytes.len()),
                None => return Ok(start),
            }
            continue;
        }
        if !is_anchor_start(rest) {
            pos = start + 1;
            continue;
        }
        match Anchor::parse(rest, eof) {
            None if eof => return Ok(bytes.len()),
            None => return Ok(start),
            Some(anchor) => {
                if let Some(file) = anchor.file(base, keep)? {
                    out(file);
                }
                pos = start + anchor.len;
            }
        }
    }
    Ok(bytes.len())
}

/// `<a` followed by whitespace, `>` or `/`, in any case.
fn is_anchor_start(bytes: &[u8]) -> bool {
    bytes.len() >= 3
        && bytes[0] == b'<'
        && bytes[1].eq_ignore_ascii_case(&b'a')
        && (bytes[2].is_ascii_whitespace() || bytes[2] == b'>' || bytes[2] == b'/')
}

/// `</a` followed by whitespace or `>`, in any case.
fn is_anchor_end(bytes: &[u8]) -> bool {
    bytes.len() >= 4
        && bytes.starts_with(b"</")
        && bytes[2].eq_ignore_ascii_case(&b'a')
        && (bytes[3].is_ascii_whitespace() || bytes[3] == b'>')
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

/// One `<a ...>text</a>`, borrowed from the page: its attributes (names as written, raw
/// values; `None` for a bare attribute), its raw text and its length in bytes. Nothing is
/// copied or decoded until the file is known to be wanted.
struct Anchor<'a> {
    attributes: Vec<(&'a [u8], Option<&'a [u8]>)>,
    text: &'a [u8],
    len: usize,
}

impl<'a> Anchor<'a> {
    /// Parses the anchor at the start of `bytes`; `None` when it is not complete yet (or,
    /// at the end of the page, when its start tag never ends).
    fn parse(bytes: &'a [u8], eof: bool) -> Option<Anchor<'a>> {
        let mut i = 2;
        let mut attributes = Vec::new();
        loop {
            while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
                i += 1;
            }
            if *bytes.get(i)? == b'>' {
                break;
            }
            let name_start = i;
            while i < bytes.len()
                && !bytes[i].is_ascii_whitespace()
                && !matches!(bytes[i], b'=' | b'>' | b'/')
            {
                i += 1;
            }
            let name = &bytes[name_start..i];
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            let mut value = None;
            if *bytes.get(i)? == b'=' {
                i += 1;
                while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                    i += 1;
                }
                let quote = *bytes.get(i)?;
                let raw = if quote == b'"' || quote == b'\'' {
                    let end = i + 1 + memchr::memchr(quote, &bytes[i + 1..])?;
                    let raw = &bytes[i + 1..end];
                    i = end + 1;
                    raw
                } else {
                    let start = i;
                    while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'>' {
                        i += 1;
                    }
                    if i == bytes.len() {
                        return None;
                    }
                    &bytes[start..i]
                };
                value = Some(raw);
            }
            attributes.push((name, value));
        }
        // `i` is at the start tag's `>`; the text runs to `</a>`, or to the next anchor of a
        // page that forgot to close this one.
        let text_start = i + 1;
        let mut j = text_start;
        let (text_end, len) = loop {
            match memchr::memchr(b'<', &bytes[j..]) {
                Some(offset) => {
                    let at = j + offset;
                    let rest = &bytes[at..];
                    if rest.len() < 4 && !eof {
                        return None;
                    }
                    if is_anchor_end(rest) {
                        let close = at
                            + memchr::memchr(b'>', rest)
                                .or_else(|| eof.then_some(rest.len() - 1))?;
                        break (at, close + 1);
                    }
                    if is_anchor_start(rest) {
                        break (at, at);
                    }
                    j = at + 1;
                }
                None if eof => break (bytes.len(), bytes.len()),
                None => return None,
            }
        };
        Some(Anchor {
            attributes,
            text: &bytes[text_start..text_end],
            len,
        })
    }

    /// Whether the anchor has the attribute `name` (lower-case), with a value or bare.
    fn has(&self, name: &str) -> bool {
        self.attributes
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
    }

    /// The attribute's value with HTML entities decoded; `None` when absent or bare.
    fn attribute(&self, name: &str) -> Option<String> {
        self.attributes
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .and_then(|(_, value)| *value)
            .map(|value| decode(value).into_owned())
    }

    /// The file this anchor links to; `None` for an anchor without `href` or a file `keep`
    /// refuses (its URL is parsed only when the text does not name it).
    fn file(&self, base: &Url, keep: &dyn Fn(&str) -> bool) -> Result<Option<PageFile>, String> {
        if !self.has("href") {
            return Ok(None);
        }
        let text = decode_text(self.text);
        let text = text.trim();
        if !text.is_empty() && !keep(text) {
            return Ok(None);
        }
        let Some(href) = self.attribute("href") else {
            return Ok(None);
        };
        let mut url = resolve_link(base, &href)?;
        let sha256 = split_hash(&mut url);
        let filename = if text.is_empty() {
            last_segment(&url)
        } else {
            text.to_string()
        };
        if !keep(&filename) {
            return Ok(None);
        }
        Ok(Some(PageFile {
            filename,
            url: url.to_string(),
            sha256,
            requires_python: self
                .attribute("data-requires-python")
                .filter(|s| !s.is_empty()),
            yanked: self.has("data-yanked"),
            core_metadata: self
                .attribute("data-core-metadata")
                .or_else(|| self.attribute("data-dist-info-metadata"))
                .and_then(|value| CoreMetadataRef::from_html(&value)),
        }))
    }
}

/// Bytes of the page as text with HTML entities decoded, borrowed when there is nothing to
/// decode (the usual case).
fn decode(raw: &[u8]) -> std::borrow::Cow<'_, str> {
    let text = match std::str::from_utf8(raw) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(raw),
    };
    if !text.contains('&') {
        return text;
    }
    std::borrow::Cow::Owned(html_escape::decode_html_entities(&text).into_owned())
}

/// An anchor's text: without the tags inside it (it may hold markup such as `<b>`), decoded.
fn decode_text(raw: &[u8]) -> std::borrow::Cow<'_, str> {
    if !raw.contains(&b'<') {
        return decode(raw);
    }
    std::borrow::Cow::Owned(
        decode(strip_tags(&String::from_utf8_lossy(raw)).as_bytes()).into_owned(),
    )
}

/// Text without the tags inside it.
fn strip_tags(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

fn last_segment(url: &Url) -> String {
    url.path_segments()
        .and_then(|mut s| s.next_back())
        .unwrap_or_default()
        .to_string()
}

#[derive(Deserialize)]
struct JsonPageWire {
    files: Vec<JsonFileWire>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct JsonFileWire {
    filename: String,
    url: String,
    #[serde(default)]
    hashes: std::collections::BTreeMap<String, String>,
    requires_python: Option<String>,
    #[serde(default)]
    yanked: serde_json::Value,
    #[serde(default)]
    core_metadata: serde_json::Value,
    #[serde(default)]
    dist_info_metadata: serde_json::Value,
}

/// Parses a PEP 691 JSON page; relative URLs are resolved against `page_url`.
///
/// ```
/// let json = r#"{"meta": {"api-version": "1.1"}, "name": "flask", "files": [
///   {"filename": "flask-3.1.0.tar.gz", "url": "/f/flask-3.1.0.tar.gz", "hashes": {"sha256": "CD"}, "yanked": "broken"}]}"#;
/// let page = py2nix_index::parse_json(json, "https://example.org/simple/flask/").unwrap();
/// assert_eq!(page.files[0].url, "https://example.org/f/flask-3.1.0.tar.gz");
/// assert_eq!(page.files[0].sha256.as_deref(), Some("cd"));
/// assert!(page.files[0].yanked);
/// ```
pub fn parse_json(json: &str, page_url: &str) -> Result<Page, String> {
    let base = base_url(page_url)?;
    let wire: JsonPageWire =
        serde_json::from_str(json).map_err(|e| format!("invalid PEP 691 JSON: {e}"))?;
    let files = wire
        .files
        .into_iter()
        .map(|file| {
            let mut url = resolve_link(&base, &file.url)?;
            let fragment_hash = split_hash(&mut url);
            let yanked = match &file.yanked {
                serde_json::Value::Bool(b) => *b,
                serde_json::Value::String(_) => true,
                _ => false,
            };
            Ok(PageFile {
                filename: file.filename,
                url: url.to_string(),
                sha256: file
                    .hashes
                    .get("sha256")
                    .map(|h| h.to_ascii_lowercase())
                    .or(fragment_hash),
                requires_python: file.requires_python.filter(|s| !s.is_empty()),
                yanked,
                core_metadata: if file.core_metadata.is_null() {
                    CoreMetadataRef::from_json(&file.dist_info_metadata)
                } else {
                    CoreMetadataRef::from_json(&file.core_metadata)
                },
            })
        })
        .collect::<Result<_, String>>()?;
    Ok(Page { files })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_full_page_parses() {
        let html = include_str!("../../../fixtures/index/full/flask/index.html");
        let page = parse_html(html, "https://example.org/simple/flask/").unwrap();
        assert_eq!(page.files.len(), html.matches("<a ").count());
        assert!(page
            .files
            .iter()
            .all(|f| f.sha256.as_ref().is_some_and(|h| h.len() == 64)));
        assert!(page
            .files
            .iter()
            .all(|f| f.url.ends_with(&f.filename) && !f.url.contains('#')));
        let wheel = page.file("flask-3.1.0-py3-none-any.whl").unwrap();
        assert_eq!(wheel.requires_python.as_deref(), Some(">=3.9"));
    }

    #[test]
    fn pages_parse_the_same_in_any_chunks() {
        let html = include_str!("../../../fixtures/index/full/flask/index.html");
        let url = "https://example.org/simple/flask/";
        let whole = parse_html(html, url).unwrap();
        assert!(whole.files.len() > 10);
        for size in [1, 2, 3, 5, 17, 64, 1000, 16384] {
            let mut stream = HtmlStream::new(url).unwrap();
            let mut files = Vec::new();
            for chunk in html.as_bytes().chunks(size) {
                stream.feed(chunk, &mut |f| files.push(f)).unwrap();
                // Only the unfinished anchor is held between chunks.
                assert!(
                    stream.pending.len() < 2048,
                    "{size}: {}",
                    stream.pending.len()
                );
            }
            stream.finish(&mut |f| files.push(f)).unwrap();
            assert_eq!(files, whole.files, "chunks of {size} bytes");
        }
        let keep = |name: &str| name.ends_with(".whl");
        let mut stream = HtmlStream::new(url).unwrap();
        let mut wheels = Vec::new();
        for chunk in html.as_bytes().chunks(100) {
            stream
                .feed_kept(chunk, &keep, &mut |f| wheels.push(f))
                .unwrap();
        }
        stream.finish_kept(&keep, &mut |f| wheels.push(f)).unwrap();
        let expected: Vec<_> = whole
            .files
            .into_iter()
            .filter(|f| keep(&f.filename))
            .collect();
        assert!(!expected.is_empty());
        assert_eq!(wheels, expected);
    }

    #[test]
    fn comments_markup_case_and_unclosed_anchors() {
        let html = "<!-- <a href=\"c-0.tar.gz\">c-0.tar.gz</a> -->\
            <A HREF='a-1.tar.gz' Data-Yanked>a-<b>1</b>.tar.gz</A >\
            <a href=b-1.tar.gz data-requires-python=&gt;=3.8>b-1.tar.gz\
            <a href=\"d-1.tar.gz\"></a>\
            <a href=\"e-1.tar.gz\">e-1.tar.gz";
        let page = parse_html(html, "https://example.org/simple/x/").unwrap();
        let names: Vec<_> = page.files.iter().map(|f| f.filename.as_str()).collect();
        assert_eq!(
            names,
            ["a-1.tar.gz", "b-1.tar.gz", "d-1.tar.gz", "e-1.tar.gz"]
        );
        assert!(page.files[0].yanked && !page.files[1].yanked);
        assert_eq!(page.files[1].requires_python.as_deref(), Some(">=3.8"));
    }

    #[test]
    fn yanked_and_entities() {
        let html = r#"<html><body><a href="x-1.0.tar.gz#sha256=00&amp;" data-yanked="">x-1.0.tar.gz</a><a>no href</a></body></html>"#;
        let page = parse_html(html, "https://example.org/simple/x/").unwrap();
        assert_eq!(page.files.len(), 1);
        assert!(page.files[0].yanked);
        assert_eq!(
            page.files[0].url,
            "https://example.org/simple/x/x-1.0.tar.gz"
        );
    }

    #[test]
    fn core_metadata_attributes() {
        let html = r#"
            <a href="a-1-py3-none-any.whl" data-core-metadata="sha256=AB" data-dist-info-metadata="true">a</a>
            <a href="b-1-py3-none-any.whl" data-dist-info-metadata="sha256=cd">b</a>
            <a href="c-1-py3-none-any.whl" data-core-metadata="true">c</a>
            <a href="d-1-py3-none-any.whl" data-core-metadata="md5=00">d</a>
            <a href="e-1-py3-none-any.whl" data-core-metadata="false">e</a>
            <a href="f-1-py3-none-any.whl">f</a>"#;
        let page = parse_html(html, "https://example.org/simple/x/").unwrap();
        let got: Vec<_> = page.files.iter().map(|f| f.core_metadata.clone()).collect();
        let with = |sha: Option<&str>| {
            Some(CoreMetadataRef {
                sha256: sha.map(str::to_string),
            })
        };
        assert_eq!(
            got,
            [
                with(Some("ab")),
                with(Some("cd")),
                with(None),
                with(None),
                None,
                None
            ]
        );
        let json = r#"{"files": [
            {"filename": "a", "url": "a", "core-metadata": {"sha256": "AB"}, "dist-info-metadata": true},
            {"filename": "b", "url": "b", "dist-info-metadata": {"sha256": "cd"}},
            {"filename": "c", "url": "c", "core-metadata": true},
            {"filename": "d", "url": "d", "core-metadata": false, "dist-info-metadata": true},
            {"filename": "e", "url": "e"}]}"#;
        let page = parse_json(json, "https://example.org/simple/x/").unwrap();
        let got: Vec<_> = page.files.iter().map(|f| f.core_metadata.clone()).collect();
        assert_eq!(
            got,
            [with(Some("ab")), with(Some("cd")), with(None), None, None]
        );
    }

    #[test]
    fn credentials_never_reach_file_urls() {
        let html = r#"<a href="../../f/x-1.tar.gz">x</a><a href="https://u:p@other.example/x-2.tar.gz">y</a>"#;
        let page = parse_html(html, "https://me:secret@example.org/simple/x/").unwrap();
        assert_eq!(page.files[0].url, "https://example.org/f/x-1.tar.gz");
        assert_eq!(page.files[1].url, "https://other.example/x-2.tar.gz");
        let json = r#"{"files": [{"filename": "x-1.tar.gz", "url": "/f/x-1.tar.gz"}]}"#;
        let page = parse_json(json, "https://me:secret@example.org/simple/x/").unwrap();
        assert_eq!(page.files[0].url, "https://example.org/f/x-1.tar.gz");
        let error = parse_html(
            "<a href='http://[bad'>x</a>",
            "https://me:secret@example.org/",
        )
        .unwrap_err();
        assert!(!error.contains("secret"), "{error}");
    }

    #[test]
    fn dropped_links_make_one_capped_warning_per_page() {
        let dropped = DroppedLinks::default();
        for _ in 0..2 {
            dropped.record(
                "http://i/simple/a/",
                "the file name \"..\" is a directory name".into(),
            );
        }
        for n in 0..150 {
            dropped.record("http://i/simple/b/", format!("reason {n:03}"));
        }
        for page in 0..25 {
            dropped.record(&format!("http://i/simple/p{page:02}/"), "r".into());
        }
        let warnings = dropped.take_warnings();
        assert_eq!(warnings.len(), 21, "{warnings:#?}");
        assert_eq!(
            warnings[0],
            "the index page http://i/simple/a/ lists a link whose file name is not one safe file name, dropped: the file name \"..\" is a directory name"
        );
        assert_eq!(
            warnings[1],
            "the index page http://i/simple/b/ lists 100 or more links whose file name is not one safe file name, dropped: reason 000; reason 001; reason 002; others"
        );
        assert_eq!(
            warnings[20],
            "7 more index pages list links whose file names are not safe file names; they were dropped"
        );
        assert!(dropped.take_warnings().is_empty(), "taken once");
    }
}
