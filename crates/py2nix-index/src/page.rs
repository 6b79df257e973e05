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
    let base = base_url(page_url)?;
    let dom =
        tl::parse(html, tl::ParserOptions::default()).map_err(|e| format!("invalid HTML: {e}"))?;
    let parser = dom.parser();
    let mut files = Vec::new();
    let anchors = dom.query_selector("a").into_iter().flatten();
    for handle in anchors {
        let Some(tag) = handle.get(parser).and_then(|node| node.as_tag()) else {
            continue;
        };
        let attributes = tag.attributes();
        let attribute = |name: &str| {
            attributes
                .get(name)
                .flatten()
                .map(|value| html_escape::decode_html_entities(&value.as_utf8_str()).into_owned())
        };
        let Some(href) = attribute("href") else {
            continue;
        };
        let mut url = resolve_link(&base, &href)?;
        let sha256 = split_hash(&mut url);
        let text = html_escape::decode_html_entities(&tag.inner_text(parser))
            .trim()
            .to_string();
        let filename = if text.is_empty() {
            last_segment(&url)
        } else {
            text
        };
        files.push(PageFile {
            filename,
            url: url.to_string(),
            sha256,
            requires_python: attribute("data-requires-python").filter(|s| !s.is_empty()),
            yanked: attributes.get("data-yanked").is_some(),
            core_metadata: attribute("data-core-metadata")
                .or_else(|| attribute("data-dist-info-metadata"))
                .and_then(|value| CoreMetadataRef::from_html(&value)),
        });
    }
    Ok(Page { files })
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
}
