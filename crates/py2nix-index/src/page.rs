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
}

impl Page {
    pub fn file(&self, filename: &str) -> Option<&PageFile> {
        self.files.iter().find(|f| f.filename == filename)
    }
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
    let base = Url::parse(page_url).map_err(|e| format!("invalid page URL: {e}"))?;
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
        let mut url = base
            .join(&href)
            .map_err(|e| format!("invalid link `{href}`: {e}"))?;
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
    let base = Url::parse(page_url).map_err(|e| format!("invalid page URL: {e}"))?;
    let wire: JsonPageWire =
        serde_json::from_str(json).map_err(|e| format!("invalid PEP 691 JSON: {e}"))?;
    let files = wire
        .files
        .into_iter()
        .map(|file| {
            let mut url = base
                .join(&file.url)
                .map_err(|e| format!("invalid URL `{}`: {e}", file.url))?;
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
}
