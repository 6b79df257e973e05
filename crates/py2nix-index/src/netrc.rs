//! The netrc file format, as curl and Python's `netrc` module read it: `machine`, `default`,
//! `login`, `password`, `account`, `macdef`; tokens separated by any whitespace, across lines.

use crate::credentials::Auth;

/// The netrc entry for `host` (the first `machine` that names it), else the `default` entry.
///
/// ```
/// let netrc = "machine a.example login me password\n  \"s e\\\"cret\"\ndefault login anon";
/// let auth = py2nix_index::netrc_lookup(netrc, "a.example").unwrap();
/// assert_eq!((auth.username.as_str(), auth.password.as_deref()), ("me", Some("s e\"cret")));
/// assert_eq!(py2nix_index::netrc_lookup(netrc, "b.example").unwrap().username, "anon");
/// ```
///
/// Tokens are separated by any whitespace, across lines; `"..."` quotes a token (with `\`
/// escaping the next character); `#` starts a comment to the end of the line; a `macdef`
/// body runs to the next empty line and is skipped.
pub fn netrc_lookup(text: &str, host: &str) -> Option<Auth> {
    let entries = parse_netrc(text);
    let matching = entries
        .iter()
        .find(|e| e.machine.as_deref() == Some(host))
        .or_else(|| entries.iter().find(|e| e.machine.is_none()))?;
    Some(Auth {
        username: matching.login.clone()?,
        password: matching.password.clone(),
    })
}

/// Only a `machine` entry naming `host`; the `default` entry does not count.
pub(crate) fn netrc_machine(text: &str, host: &str) -> Option<Auth> {
    let entry = parse_netrc(text)
        .into_iter()
        .find(|e| e.machine.as_deref() == Some(host))?;
    Some(Auth {
        username: entry.login?,
        password: entry.password,
    })
}

#[derive(Default)]
struct NetrcEntry {
    /// `None` for the `default` entry.
    machine: Option<String>,
    login: Option<String>,
    password: Option<String>,
}

fn parse_netrc(text: &str) -> Vec<NetrcEntry> {
    let mut tokens = Tokens { rest: text };
    let mut entries: Vec<NetrcEntry> = Vec::new();
    while let Some(token) = tokens.next_token() {
        match token.as_str() {
            "machine" => entries.push(NetrcEntry {
                machine: Some(tokens.next_token().unwrap_or_default()),
                ..NetrcEntry::default()
            }),
            "default" => entries.push(NetrcEntry::default()),
            "macdef" => {
                tokens.next_token();
                tokens.skip_macro_body();
            }
            key @ ("login" | "password" | "account" | "port") => {
                let value = tokens.next_token();
                if let Some(entry) = entries.last_mut() {
                    match key {
                        "login" => entry.login = value,
                        "password" => entry.password = value,
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    entries
}

struct Tokens<'a> {
    rest: &'a str,
}

impl<'a> Tokens<'a> {
    fn next_token(&mut self) -> Option<String> {
        loop {
            self.rest = self.rest.trim_start();
            if !self.rest.starts_with('#') {
                break;
            }
            self.rest = self.rest.split_once('\n').map_or("", |(_, after)| after);
        }
        if self.rest.is_empty() {
            return None;
        }
        if let Some(quoted) = self.rest.strip_prefix('"') {
            return Some(self.quoted(quoted));
        }
        let end = self
            .rest
            .find(char::is_whitespace)
            .unwrap_or(self.rest.len());
        let (token, rest) = self.rest.split_at(end);
        self.rest = rest;
        Some(token.to_string())
    }

    fn quoted(&mut self, text: &'a str) -> String {
        let mut out = String::new();
        let mut chars = text.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.rest = &text[i + 1..];
                    return out;
                }
                '\\' => out.extend(chars.next().map(|(_, escaped)| escaped)),
                c => out.push(c),
            }
        }
        self.rest = "";
        out
    }

    /// Skips the rest of the `macdef` line and its body, up to and including an empty line.
    fn skip_macro_body(&mut self) {
        let mut lines = self.rest.split_inclusive('\n');
        let mut consumed = lines.next().map_or(0, str::len);
        for line in lines {
            consumed += line.len();
            if line.trim_end_matches(['\r', '\n']).is_empty() {
                break;
            }
        }
        self.rest = &self.rest[consumed.min(self.rest.len())..];
    }
}
