//! Credentials for private indexes: where they come from, and the netrc format.
//!
//! For an index (its name from the lock or pyproject, and its URL), the first of these that
//! supplies a username wins:
//!
//! 1. `user:password@` in the index URL itself (percent-decoded);
//! 2. the environment: `PY2NIX_INDEX_<NAME>_USERNAME` / `PY2NIX_INDEX_<NAME>_PASSWORD`, then
//!    uv's `UV_INDEX_<NAME>_USERNAME` / `_PASSWORD`, then Poetry's
//!    `POETRY_HTTP_BASIC_<NAME>_USERNAME` / `_PASSWORD`. `<NAME>` is the index name upper-cased
//!    with every character that is not an ASCII letter or digit replaced by `_` (index
//!    `my-corp` reads `PY2NIX_INDEX_MY_CORP_USERNAME`). The default index has no name and so
//!    no variables;
//! 3. a netrc file (`$NETRC`, else `~/.netrc`): the `machine` entry for the URL's host, else
//!    the `default` entry.
//!
//! A URL with a username but no password takes its password from the first of 2 and 3 that
//! names the same username. Files on another host than the index get only netrc credentials.
//!
//! Secrets never leave this module except as an HTTP `Authorization` header: `Auth`'s `Debug`
//! hides the password, and nothing here formats one.

use url::Url;

use crate::netrc::{netrc_lookup, netrc_machine};

/// Basic-auth credentials for one host.
#[derive(Clone, PartialEq, Eq)]
pub struct Auth {
    pub username: String,
    pub password: Option<String>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Where a credential was found; used in hints, never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AuthSource {
    Url,
    Environment(String),
    Netrc,
}

/// Looks up an environment variable.
type Environment = std::sync::Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Where a client looks for credentials: an environment and a netrc file's text, read once.
#[derive(Clone)]
pub struct Credentials {
    env: Environment,
    netrc: Option<String>,
    /// How hints name the netrc file.
    netrc_path: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("netrc_path", &self.netrc_path)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// The process environment and `$NETRC`, else `~/.netrc` (a missing file is no error).
    pub fn from_environment() -> Self {
        let (path, shown) = match std::env::var_os("NETRC") {
            Some(path) => (Some(std::path::PathBuf::from(&path)), "$NETRC".to_string()),
            None => (
                std::env::var_os("HOME").map(|home| std::path::Path::new(&home).join(".netrc")),
                "~/.netrc".to_string(),
            ),
        };
        let netrc = path.and_then(|p| std::fs::read_to_string(p).ok());
        Credentials {
            env: std::sync::Arc::new(|name| std::env::var(name).ok()),
            netrc,
            netrc_path: shown,
        }
    }

    /// A given environment and netrc text, for tests and embedders.
    pub fn new(
        env: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
        netrc: Option<String>,
    ) -> Self {
        Credentials {
            env: std::sync::Arc::new(env),
            netrc,
            netrc_path: "~/.netrc".to_string(),
        }
    }

    /// No credentials from anywhere but index URLs.
    pub fn none() -> Self {
        Credentials::new(|_| None, None)
    }

    /// The credentials for index `name` at `url`.
    pub fn for_index(&self, name: &str, url: &str) -> Option<Auth> {
        self.for_index_with_source(name, url).map(|(auth, _)| auth)
    }

    pub(crate) fn for_index_with_source(
        &self,
        name: &str,
        url: &str,
    ) -> Option<(Auth, AuthSource)> {
        resolve_with_source(name, url, &*self.env, self.netrc.as_deref())
    }

    /// The credentials for a file of index `name` at `index_url`: the index's on the index's
    /// host (scheme, host and port), else only a netrc `machine` entry naming the file's host.
    pub fn for_file(&self, file_url: &str, index_name: &str, index_url: &str) -> Option<Auth> {
        let file = Url::parse(file_url).ok()?;
        if Url::parse(index_url).is_ok_and(|index| same_origin(&file, &index)) {
            return self.for_index(index_name, index_url);
        }
        netrc_machine(self.netrc.as_deref()?, file.host_str()?)
    }

    /// What would supply credentials for the index, and what was rejected, for
    /// `IndexError::Unauthorized`.
    pub(crate) fn hint(&self, name: &str, url: &str) -> String {
        let advice = advice(name, url, &self.netrc_path);
        match self.for_index_with_source(name, url) {
            None => advice,
            Some((_, source)) => {
                let source = match source {
                    AuthSource::Url => "the index URL".to_string(),
                    AuthSource::Environment(variable) => variable,
                    AuthSource::Netrc => self.netrc_path.clone(),
                };
                format!("the credentials from {source} were rejected; {advice}")
            }
        }
    }
}

pub(crate) fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// The environment variable prefixes checked, in order, before `<NAME>_USERNAME`.
const ENV_PREFIXES: [&str; 3] = ["PY2NIX_INDEX_", "UV_INDEX_", "POETRY_HTTP_BASIC_"];

/// An index name as it appears in environment variable names: `my-corp` -> `MY_CORP`.
///
/// ```
/// assert_eq!(py2nix_index::env_name("my-corp.internal"), "MY_CORP_INTERNAL");
/// ```
pub fn env_name(index_name: &str) -> String {
    index_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// The credentials for index `name` at `url`, from the URL, `env` and the netrc text (see the
/// module documentation for the order). Pure: the caller supplies the environment and file.
pub fn resolve(
    name: &str,
    url: &str,
    env: &dyn Fn(&str) -> Option<String>,
    netrc: Option<&str>,
) -> Option<Auth> {
    resolve_with_source(name, url, env, netrc).map(|(auth, _)| auth)
}

pub(crate) fn resolve_with_source(
    name: &str,
    url: &str,
    env: &dyn Fn(&str) -> Option<String>,
    netrc: Option<&str>,
) -> Option<(Auth, AuthSource)> {
    let parsed = Url::parse(url).ok();
    let host = parsed.as_ref().and_then(|u| u.host_str()).unwrap_or("");
    let from_env = from_environment(name, env);
    let from_netrc = netrc.and_then(|text| netrc_lookup(text, host));
    if let Some(mut auth) = parsed.as_ref().and_then(from_url) {
        if auth.password.is_none() {
            auth.password = [from_env.as_ref().map(|(a, _)| a), from_netrc.as_ref()]
                .into_iter()
                .flatten()
                .find(|other| other.username == auth.username)
                .and_then(|other| other.password.clone());
        }
        return Some((auth, AuthSource::Url));
    }
    if let Some((auth, variable)) = from_env {
        return Some((auth, AuthSource::Environment(variable)));
    }
    from_netrc.map(|auth| (auth, AuthSource::Netrc))
}

fn from_url(url: &Url) -> Option<Auth> {
    if url.username().is_empty() {
        return None;
    }
    Some(Auth {
        username: percent_decode(url.username()),
        password: url.password().map(percent_decode),
    })
}

/// The first prefix whose `_USERNAME` variable is set, with the name of that variable.
fn from_environment(name: &str, env: &dyn Fn(&str) -> Option<String>) -> Option<(Auth, String)> {
    if name.is_empty() {
        return None;
    }
    let name = env_name(name);
    ENV_PREFIXES.iter().find_map(|prefix| {
        let variable = format!("{prefix}{name}_USERNAME");
        let username = env(&variable).filter(|u| !u.is_empty())?;
        let password = env(&format!("{prefix}{name}_PASSWORD"));
        Some((Auth { username, password }, variable))
    })
}

/// The environment variables or netrc entry that would supply credentials for index `name`.
fn advice(name: &str, url: &str, netrc_path: &str) -> String {
    let host = Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    let netrc = format!("add `machine {host} login ... password ...` to {netrc_path}");
    if name.is_empty() {
        return format!("put the credentials in the URL, or {netrc}");
    }
    let name = env_name(name);
    format!("set PY2NIX_INDEX_{name}_USERNAME and PY2NIX_INDEX_{name}_PASSWORD, or {netrc}")
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    fn check(
        name: &str,
        url: &str,
        pairs: &'static [(&'static str, &'static str)],
        netrc: Option<&str>,
        expected: Option<(&str, Option<&str>)>,
    ) {
        let got = resolve(name, url, &env(pairs), netrc);
        let got = got
            .as_ref()
            .map(|a| (a.username.as_str(), a.password.as_deref()));
        assert_eq!(got, expected, "{name} {url}");
    }

    const URL: &str = "https://pkgs.example.com/simple/";
    const NETRC: &str = "machine pkgs.example.com login netrc-user password netrc-pass";

    #[test]
    fn the_url_wins() {
        let vars = &[("PY2NIX_INDEX_CORP_USERNAME", "env-user")];
        let url = "https://u%40x:p%3As@pkgs.example.com/simple/";
        check("corp", url, vars, Some(NETRC), Some(("u@x", Some("p:s"))));
    }

    #[test]
    fn a_url_username_takes_its_password_from_the_environment_or_netrc() {
        let vars = &[
            ("PY2NIX_INDEX_CORP_USERNAME", "token"),
            ("PY2NIX_INDEX_CORP_PASSWORD", "env-pass"),
        ];
        let url = "https://token@pkgs.example.com/simple/";
        check("corp", url, vars, None, Some(("token", Some("env-pass"))));
        let url = "https://netrc-user@pkgs.example.com/simple/";
        check(
            "corp",
            url,
            &[],
            Some(NETRC),
            Some(("netrc-user", Some("netrc-pass"))),
        );
        check(
            "corp",
            "https://other@pkgs.example.com/",
            &[],
            Some(NETRC),
            Some(("other", None)),
        );
    }

    #[test]
    fn environment_variables_in_order() {
        let all = &[
            ("PY2NIX_INDEX_MY_CORP_USERNAME", "a"),
            ("PY2NIX_INDEX_MY_CORP_PASSWORD", "pa"),
            ("UV_INDEX_MY_CORP_USERNAME", "b"),
            ("POETRY_HTTP_BASIC_MY_CORP_USERNAME", "c"),
        ];
        check("my-corp", URL, all, Some(NETRC), Some(("a", Some("pa"))));
        let uv = &[
            ("UV_INDEX_MY_CORP_USERNAME", "b"),
            ("UV_INDEX_MY_CORP_PASSWORD", "pb"),
            ("POETRY_HTTP_BASIC_MY_CORP_USERNAME", "c"),
        ];
        check("my-corp", URL, uv, None, Some(("b", Some("pb"))));
        let poetry = &[
            ("POETRY_HTTP_BASIC_MY_CORP_USERNAME", "c"),
            ("POETRY_HTTP_BASIC_MY_CORP_PASSWORD", "pc"),
        ];
        check("my-corp", URL, poetry, None, Some(("c", Some("pc"))));
        check("My.Corp", URL, poetry, None, Some(("c", Some("pc"))));
        let empty = &[("PY2NIX_INDEX_MY_CORP_USERNAME", "")];
        check("my-corp", URL, empty, None, None);
    }

    #[test]
    fn the_default_index_has_no_variables() {
        let vars = &[("PY2NIX_INDEX__USERNAME", "a")];
        check("", URL, vars, None, None);
        check(
            "",
            URL,
            vars,
            Some(NETRC),
            Some(("netrc-user", Some("netrc-pass"))),
        );
    }

    #[test]
    fn netrc_syntax() {
        let text = "# a comment line\nmachine other.example\n  login o password op\n\
                    macdef init\ncd /\nmachine pkgs.example.com login trap\n\n\
                    machine\npkgs.example.com # trailing comment\nlogin\n\"me too\"\npassword \"p\\\"w d\"\n\
                    default login anon password anonpass";
        check("", URL, &[], Some(text), Some(("me too", Some("p\"w d"))));
        check(
            "",
            "https://nowhere.example/",
            &[],
            Some(text),
            Some(("anon", Some("anonpass"))),
        );
        check(
            "",
            "https://other.example/",
            &[],
            Some(text),
            Some(("o", Some("op"))),
        );
        check(
            "",
            URL,
            &[],
            Some("machine pkgs.example.com password p"),
            None,
        );
        check("", URL, &[], Some("login x password y"), None);
        check("", URL, &[], Some("\"unterminated"), None);
        check("", URL, &[], Some("macdef"), None);
        check(
            "",
            "not a url",
            &[],
            Some("default login d"),
            Some(("d", None)),
        );
    }

    #[test]
    fn debug_hides_the_password() {
        let auth = Auth {
            username: "me".into(),
            password: Some("hunter2".into()),
        };
        let text = format!("{auth:?}");
        assert!(text.contains("me") && !text.contains("hunter2"), "{text}");
        let credentials = Credentials::new(|_| Some("hunter2".into()), Some(NETRC.into()));
        assert!(!format!("{credentials:?}").contains("pass"));
    }

    #[test]
    fn files_get_the_index_credentials_only_on_its_host() {
        let credentials = Credentials::new(
            env(&[
                ("PY2NIX_INDEX_CORP_USERNAME", "e"),
                ("PY2NIX_INDEX_CORP_PASSWORD", "ep"),
            ]),
            Some("machine files.example login f password fp\ndefault login d password dp".into()),
        );
        let user = |url: &str| credentials.for_file(url, "corp", URL).map(|a| a.username);
        assert_eq!(
            user("https://pkgs.example.com/f/x.whl").as_deref(),
            Some("e")
        );
        assert_eq!(
            user("https://pkgs.example.com:443/x.whl").as_deref(),
            Some("e")
        );
        assert_eq!(user("http://pkgs.example.com/x.whl"), None);
        assert_eq!(user("https://pkgs.example.com:8443/x.whl"), None);
        assert_eq!(user("https://files.example/x.whl").as_deref(), Some("f"));
        assert_eq!(user("https://elsewhere.example/x.whl"), None);
        let direct = credentials.for_file("https://files.example/y.whl", "", "");
        assert_eq!(direct.map(|a| a.username).as_deref(), Some("f"));
    }

    #[test]
    fn hints_name_the_variables_and_what_was_rejected() {
        let none = Credentials::none();
        assert_eq!(
            none.hint("private", URL),
            "set PY2NIX_INDEX_PRIVATE_USERNAME and PY2NIX_INDEX_PRIVATE_PASSWORD, or add \
             `machine pkgs.example.com login ... password ...` to ~/.netrc"
        );
        let from_env = Credentials::new(env(&[("UV_INDEX_PRIVATE_USERNAME", "u")]), None);
        assert!(from_env
            .hint("private", URL)
            .starts_with("the credentials from UV_INDEX_PRIVATE_USERNAME were rejected; set"));
        let from_url = none.hint("", "https://u:secret@pkgs.example.com/simple/");
        assert!(from_url.starts_with("the credentials from the index URL were rejected; put"));
        assert!(!from_url.contains("secret"));
    }
}
