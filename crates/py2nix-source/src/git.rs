//! Git sources: resolve a reference to a commit, check a commit out, and hash the checkout the
//! way nixpkgs' `fetchgit` does.
//!
//! # What a checkout equals
//!
//! [`checkout`] produces the same tree as nixpkgs' `fetchgit { url; rev; fetchSubmodules; }`
//! with its defaults `leaveDotGit = false`, `deepClone = false`, `fetchLFS = false` and no sparse
//! checkout, which runs `nix-prefetch-git` (`pkgs/build-support/fetchgit/nix-prefetch-git`):
//! `git init`, `origin` set to the URL, a depth-1 fetch (of a ref pointing at the commit, else
//! of the commit, else of all branches and tags), a checkout of the commit, with
//! `fetchSubmodules` `git submodule update --init --recursive` (depth 1 first, then full), and
//! finally `find "$dir" -name .git -print0 | xargs -0 rm -rf`. This module fetches the commit
//! directly (falling back to all branches and tags), which gives the same tree. The result is:
//!
//! - the commit's tree as `git checkout` writes it: file modes 644/755, symbolic links as
//!   links, `.gitattributes` checkout conversions (`eol`, `text`, `ident`) applied, Git LFS
//!   files left as pointer files, and `export-ignore`/`export-subst` NOT applied (those belong
//!   to `git archive`, which `fetchgit` never runs);
//! - each submodule checked out at the commit the tree records, recursively, or, without
//!   submodules, an empty directory where each submodule would be;
//! - with every entry named exactly `.git` removed at any depth (the top directory and each
//!   submodule's `.git` file), while `.gitmodules`, `.gitattributes` and `.gitignore` stay.
//!   (The much older `fetchgit` builder removed everything matching `.git*`; today's does not.)
//!
//! Its NAR hash ([`hash_git`]) is therefore the `hash` such a `fetchgit` call declares.
//!
//! `builtins.fetchGit` agrees only in part. Checked with Nix 2.8 (see the tests): with
//! `submodules = true` it checks out with git and drops `.git`, giving the same `narHash`;
//! without submodules it unpacks `git archive`, so `export-ignore` files are missing (and
//! `export-subst` is expanded), and its `narHash` differs from `fetchgit`'s whenever a
//! `.gitattributes` uses them.
//!
//! # How git is run
//!
//! Always `git` from the `PATH` through [`Command`] (no shell), with stdin closed,
//! `GIT_TERMINAL_PROMPT=0`, `GIT_CONFIG_NOSYSTEM=1` and `GIT_CONFIG_GLOBAL=/dev/null`, so no
//! system or user configuration (an `autocrlf`, a global LFS filter, an identity, a
//! `url.<base>.insteadOf` or credential helper that would reach another host) changes the
//! result, as `nix-prefetch-git` runs with a temporary `HOME`; `~/.netrc` still works.
//! Variables that would redirect git to another repository (`GIT_DIR`, `GIT_WORK_TREE`, …) are
//! removed. Submodules over `file://` are allowed (`protocol.file.allow=always`) only when the
//! repository itself is local.
//!
//! git never asks: no terminal prompt, no askpass program (`GIT_ASKPASS`, `SSH_ASKPASS` removed,
//! `core.askPass` empty), ssh in batch mode unless the user chose the ssh command
//! (`GIT_SSH_COMMAND`, `GIT_SSH`), and the `ext::` transport (which runs a command) is off.
//!
//! Each operation ([`resolve_ref`], [`checkout`] with all the git commands they run) is bounded
//! by [`GitLimits`]: a deadline, git's own low-speed abort of a transfer, and the bytes (and
//! entries) the checkout directory may hold, measured every 250 ms while git runs and once
//! after. git runs in its own process group, killed whole when a bound is passed (and by
//! [`stop_running_git`] when py2nix is interrupted), so its helpers (`git-remote-https`,
//! `index-pack`) stop with it.

use std::ffi::OsStr;
use std::fs;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use crate::{nar_sri, SourceError};

/// A commit and the NAR hash of its checkout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GitHash {
    /// The full commit id, 40 lowercase hexadecimal digits.
    pub commit: String,
    /// The SRI hash (`sha256-…`) of the checkout, as `fetchgit`'s `hash`.
    pub sri: String,
}

/// The full commit id `reference` names in the repository at `url`, asking the server with
/// `git ls-remote`.
///
/// `None` and `"HEAD"` mean the remote's `HEAD`; a full ref (`refs/heads/main`) is looked up as
/// is; a short name is a branch or a tag (an error if it is both, pointing at different
/// commits). An annotated tag resolves to
/// the commit it points to. A 40-digit hexadecimal reference is returned without asking,
/// lowercased.
pub fn resolve_ref(url: &str, reference: Option<&str>) -> Result<String, SourceError> {
    check_url(url)?;
    let reference = reference.unwrap_or("HEAD");
    if is_commit_id(reference) {
        return Ok(reference.to_ascii_lowercase());
    }
    if reference.is_empty() || reference.starts_with('-') {
        return Err(not_found(url, reference));
    }
    let candidates = candidate_refs(reference);
    let mut patterns = Vec::new();
    for candidate in &candidates {
        patterns.push(candidate.clone());
        patterns.push(format!("{candidate}^{{}}"));
    }
    let mut args = vec!["ls-remote", "--"];
    args.push(url);
    args.extend(patterns.iter().map(String::as_str));
    let operation = Operation::new(url, None);
    let listing = run_git(&operation, None, "ls-remote", &args)?;
    let mut found: Vec<String> = candidates
        .iter()
        .filter_map(|candidate| find_in_listing(&listing, candidate))
        .collect();
    found.dedup();
    match found.as_slice() {
        [] => Err(not_found(url, reference)),
        [commit] => Ok(commit.clone()),
        _ => Err(SourceError::AmbiguousRef {
            url: redact_git_url(url),
            reference: reference.to_string(),
        }),
    }
}

/// Checks out exactly `commit` of the repository at `url` into `dest` (missing or empty), with
/// its submodules if `submodules`, and removes every `.git`; see the module documentation for
/// what the result equals. On an error, `dest` may hold a partial repository.
pub fn checkout(url: &str, commit: &str, submodules: bool, dest: &Path) -> Result<(), SourceError> {
    check_url(url)?;
    let commit = check_commit(commit)?;
    check_destination(dest)?;
    let operation = Operation::new(url, Some(dest));
    let dest_arg = dest.as_os_str();
    run_git(
        &operation,
        None,
        "init",
        &[OsStr::new("init"), OsStr::new("--quiet"), dest_arg],
    )?;
    let git = |command: &str, args: &[&str]| run_git(&operation, Some(dest), command, args);
    git("remote add", &["remote", "add", "origin", "--", url])?;
    let shallow = [
        "fetch",
        "--quiet",
        "--no-tags",
        "--depth",
        "1",
        "origin",
        &commit,
    ];
    match git("fetch", &shallow) {
        Ok(_) => {}
        // A bound passed is final: a second fetch would pass it again.
        Err(error @ SourceError::GitLimit { .. }) => return Err(error),
        // The server refuses fetching an unadvertised commit, or cannot fetch shallowly
        // (dumb HTTP): fetch every branch and tag instead.
        Err(_) => {
            git("fetch", &["fetch", "--quiet", "--tags", "origin"])?;
        }
    }
    check_fetched(&operation, dest, &commit)?;
    git("checkout", &["checkout", "--quiet", "--detach", &commit])?;
    if submodules {
        update_submodules(&operation, dest)?;
    }
    remove_dot_git(dest)
}

/// Checks `commit` of `url` out into a temporary directory (see [`checkout`]) and returns its
/// NAR hash: the `hash` of `fetchgit { url; rev = commit; fetchSubmodules = submodules; }`.
pub fn hash_git(url: &str, commit: &str, submodules: bool) -> Result<GitHash, SourceError> {
    let commit = check_commit(commit)?;
    let temporary = tempfile::tempdir()
        .map_err(|error| SourceError::io("create a directory in", std::env::temp_dir(), error))?;
    let dest = temporary.path().join("source");
    checkout(url, &commit, submodules, &dest)?;
    let sri = nar_sri(&dest)?;
    Ok(GitHash { commit, sri })
}

/// `url` without credentials: the user information of a `scheme://` URL (`user:password@` or
/// a token as user name) is removed, and so is a `user:password@` before an scp-like
/// `host:path`. Used for every URL that reaches a message.
///
/// ```
/// use py2nix_source::redact_git_url;
/// assert_eq!(redact_git_url("https://me:secret@example.org/r.git"), "https://example.org/r.git");
/// assert_eq!(redact_git_url("git@github.com:o/r.git"), "git@github.com:o/r.git");
/// ```
pub fn redact_git_url(url: &str) -> String {
    if !url.contains("://") {
        if let Some((userinfo, rest)) = url.split_once('@') {
            if userinfo.contains(':') && !userinfo.contains('/') {
                return rest.to_string();
            }
        }
        return url.to_string();
    }
    redact_text(url)
}

/// Removes the user information of every `scheme://user…@host` in `text` (git's messages).
fn redact_text(text: &str) -> String {
    let mut redacted = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(index) = rest.find("://") {
        let (head, tail) = rest.split_at(index + 3);
        redacted.push_str(head);
        let authority_end = tail
            .find(|c: char| matches!(c, '/' | '?' | '#' | '\'' | '"' | '`') || c.is_whitespace())
            .unwrap_or(tail.len());
        rest = match tail[..authority_end].rfind('@') {
            Some(at) => &tail[at + 1..],
            None => tail,
        };
    }
    redacted.push_str(rest);
    redacted
}

fn candidate_refs(reference: &str) -> Vec<String> {
    if reference == "HEAD" || reference.starts_with("refs/") {
        vec![reference.to_string()]
    } else {
        vec![
            format!("refs/heads/{reference}"),
            format!("refs/tags/{reference}"),
        ]
    }
}

/// The commit `name` points to in `git ls-remote` output, peeled if it is an annotated tag.
fn find_in_listing(listing: &str, name: &str) -> Option<String> {
    let peeled_name = format!("{name}^{{}}");
    let mut direct = None;
    for line in listing.lines() {
        let Some((id, line_name)) = line.split_once('\t') else {
            continue;
        };
        if line_name == peeled_name {
            return Some(id.to_string());
        }
        if line_name == name {
            direct = Some(id.to_string());
        }
    }
    direct
}

fn not_found(url: &str, reference: &str) -> SourceError {
    SourceError::RefNotFound {
        url: redact_git_url(url),
        reference: reference.to_string(),
    }
}

fn is_commit_id(text: &str) -> bool {
    text.len() == 40 && text.bytes().all(|byte| byte.is_ascii_hexdigit())
}

fn check_commit(commit: &str) -> Result<String, SourceError> {
    if is_commit_id(commit) {
        Ok(commit.to_ascii_lowercase())
    } else {
        Err(SourceError::InvalidCommit(commit.to_string()))
    }
}

fn check_url(url: &str) -> Result<(), SourceError> {
    if url.is_empty() || url.starts_with('-') {
        return Err(SourceError::InvalidUrl(redact_git_url(url)));
    }
    Ok(())
}

fn check_destination(dest: &Path) -> Result<(), SourceError> {
    let not_empty = || SourceError::DestinationNotEmpty {
        path: dest.to_path_buf(),
    };
    match fs::read_dir(dest) {
        Ok(mut entries) => match entries.next() {
            None => Ok(()),
            Some(_) => Err(not_empty()),
        },
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(_) if dest.exists() => Err(not_empty()),
        Err(error) => Err(SourceError::io("read", dest, error)),
    }
}

/// Fails unless `commit` was fetched and is a commit (not a tag, tree or blob).
fn check_fetched(operation: &Operation, dest: &Path, commit: &str) -> Result<(), SourceError> {
    let kind = match run_git(
        operation,
        Some(dest),
        "cat-file",
        &["cat-file", "-t", commit],
    ) {
        Ok(kind) => Some(kind),
        Err(error @ SourceError::GitLimit { .. }) => return Err(error),
        Err(_) => None,
    };
    match kind.as_deref().map(str::trim) {
        Some("commit") => Ok(()),
        other => Err(SourceError::CommitNotFound {
            url: redact_git_url(operation.url),
            commit: commit.to_string(),
            kind: other.map(str::to_string),
        }),
    }
}

fn update_submodules(operation: &Operation, dest: &Path) -> Result<(), SourceError> {
    let mut args = Vec::new();
    if is_local(operation.url) {
        args.extend(["-c", "protocol.file.allow=always"]);
    }
    args.extend(["submodule", "--quiet", "update", "--init", "--recursive"]);
    let mut shallow = args.clone();
    shallow.extend(["--depth", "1"]);
    match run_git(operation, Some(dest), "submodule update", &shallow) {
        Ok(_) => Ok(()),
        Err(error @ SourceError::GitLimit { .. }) => Err(error),
        Err(_) => run_git(operation, Some(dest), "submodule update", &args).map(drop),
    }
}

/// Whether git reads `url` from the local file system: `file://` or a path (not `host:path`).
fn is_local(url: &str) -> bool {
    if url.starts_with("file://") {
        return true;
    }
    if url.contains("://") {
        return false;
    }
    match (url.find(':'), url.find('/')) {
        (Some(colon), Some(slash)) => slash < colon,
        (Some(_), None) => false,
        (None, _) => true,
    }
}

/// Removes every entry named `.git` under `dir`, as `find dir -name .git | xargs rm -rf`.
fn remove_dot_git(dir: &Path) -> Result<(), SourceError> {
    let entries = fs::read_dir(dir).map_err(|error| SourceError::io("read", dir, error))?;
    for entry in entries {
        let entry = entry.map_err(|error| SourceError::io("read", dir, error))?;
        let path = entry.path();
        let file_type = entry
            .file_type()
            .map_err(|error| SourceError::io("read", &path, error))?;
        let removed = if entry.file_name() == ".git" {
            if file_type.is_dir() {
                fs::remove_dir_all(&path)
            } else {
                fs::remove_file(&path)
            }
            .map_err(|error| SourceError::io("remove", &path, error))?;
            true
        } else {
            false
        };
        if !removed && file_type.is_dir() {
            remove_dot_git(&path)?;
        }
    }
    Ok(())
}

/// The bounds on git at lock time (docs/security.md, "Limits"): each operation
/// ([`resolve_ref`], [`checkout`], [`hash_git`], with every git command they run) ends by its
/// deadline, a transfer slower than [`GIT_LOW_SPEED_LIMIT`] bytes a second for
/// `low_speed_time` seconds is aborted by git itself, and a checkout directory may hold at
/// most `max_size` bytes (and [`MAX_CHECKOUT_ENTRIES`] entries) while git writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GitLimits {
    /// The longest one operation may take, all its git commands together.
    pub deadline: Duration,
    /// The most bytes (file lengths, `.git` included) a checkout directory may hold.
    pub max_size: u64,
    /// git's `http.lowSpeedTime`, in whole seconds.
    pub low_speed_time: u64,
}

/// git's `http.lowSpeedLimit`: bytes a second below which a transfer counts as stalled.
pub const GIT_LOW_SPEED_LIMIT: u64 = 1024;

/// The most entries (files, directories, links) a checkout directory may hold while git
/// writes it; the walk that measures it stops there.
pub const MAX_CHECKOUT_ENTRIES: u64 = 1_000_000;

/// The most bytes of git's standard output py2nix keeps (`ls-remote`'s listing).
const MAX_GIT_OUTPUT: u64 = 16 << 20;

/// How much of git's standard error is kept for a message (its end).
const GIT_STDERR_KEPT: usize = 64 << 10;

/// How often the checkout directory is measured while git runs.
const SIZE_INTERVAL: Duration = Duration::from_millis(250);

impl Default for GitLimits {
    fn default() -> Self {
        GitLimits {
            deadline: Duration::from_secs(600),
            max_size: 4 << 30,
            low_speed_time: 30,
        }
    }
}

impl GitLimits {
    /// The limits with the environment's overrides, checked (`lookup` reads a variable):
    /// `PY2NIX_GIT_DEADLINE` (seconds, as `PY2NIX_HTTP_DEADLINE`), `PY2NIX_GIT_MAX_SIZE` (read
    /// by `parse_size`, as `PY2NIX_MAX_DOWNLOAD_SIZE`), and `PY2NIX_HTTP_TIMEOUT` (seconds,
    /// rounded up) as the low-speed time, the same patience as with the index.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
        parse_size: impl Fn(&str) -> Result<u64, String>,
    ) -> Result<Self, String> {
        let mut limits = GitLimits::default();
        let seconds = |name: &str| -> Result<Option<Duration>, String> {
            let Some(text) = lookup(name) else {
                return Ok(None);
            };
            match text.trim().parse::<f64>() {
                Ok(value) if value > 0.0 && value <= 86_400.0 => {
                    Ok(Some(Duration::from_secs_f64(value)))
                }
                _ => Err(format!(
                    "{name} must be a number of seconds above 0, not `{text}`"
                )),
            }
        };
        if let Some(deadline) = seconds("PY2NIX_GIT_DEADLINE")? {
            limits.deadline = deadline;
        }
        if let Some(timeout) = seconds("PY2NIX_HTTP_TIMEOUT")? {
            limits.low_speed_time = timeout.as_secs_f64().ceil().max(1.0) as u64;
        }
        if let Some(text) = lookup("PY2NIX_GIT_MAX_SIZE") {
            limits.max_size =
                parse_size(&text).map_err(|error| format!("PY2NIX_GIT_MAX_SIZE: {error}"))?;
        }
        Ok(limits)
    }
}

static GIT_LIMITS: OnceLock<GitLimits> = OnceLock::new();

/// Sets the limits every git operation of this crate uses, once (later calls are ignored);
/// without it they are the defaults.
pub fn configure_git_limits(limits: GitLimits) {
    let _ = GIT_LIMITS.set(limits);
}

/// The limits in force.
pub fn git_limits() -> GitLimits {
    GIT_LIMITS.get().copied().unwrap_or_default()
}

/// The git processes running now: each one's process group, and the checkout directory it
/// writes, for [`stop_running_git`].
static RUNNING: Mutex<Vec<(u32, Option<PathBuf>)>> = Mutex::new(Vec::new());

/// Kills every git process group this crate started that is still running and removes the
/// checkout directories they were writing. For a signal handler that is about to end the
/// process: the git processes are in their own groups, so a terminal's Ctrl-C does not reach
/// them, and they would outlive py2nix.
pub fn stop_running_git() {
    let running = RUNNING.lock().unwrap_or_else(PoisonError::into_inner);
    for (pid, watched) in running.iter() {
        if let Some(pid) = rustix::process::Pid::from_raw(*pid as i32) {
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        }
        if let Some(dir) = watched {
            let _ = fs::remove_dir_all(dir);
        }
    }
}

/// One bounded git operation: the URL it is about, when it must end, and the checkout
/// directory whose size is bounded.
struct Operation<'a> {
    url: &'a str,
    limits: GitLimits,
    deadline: Instant,
    watch: Option<&'a Path>,
}

impl<'a> Operation<'a> {
    fn new(url: &'a str, watch: Option<&'a Path>) -> Self {
        let limits = git_limits();
        Operation {
            url,
            limits,
            deadline: Instant::now() + limits.deadline,
            watch,
        }
    }

    fn limit_error(&self, command: &str, what: String) -> SourceError {
        SourceError::GitLimit {
            command: command.to_string(),
            url: redact_git_url(self.url),
            what,
        }
    }

    /// Fails when the checkout directory holds more than the limits allow.
    fn check_size(&self, command: &str) -> Result<(), SourceError> {
        let Some(dir) = self.watch else {
            return Ok(());
        };
        match measure(dir, self.limits.max_size) {
            Measured::Within => Ok(()),
            Measured::TooLarge => Err(self.limit_error(
                command,
                format!(
                    "the checkout grew past {} bytes (PY2NIX_GIT_MAX_SIZE)",
                    self.limits.max_size
                ),
            )),
            Measured::TooManyEntries => Err(self.limit_error(
                command,
                format!("the checkout grew past {MAX_CHECKOUT_ENTRIES} files and directories"),
            )),
        }
    }
}

enum Measured {
    Within,
    TooLarge,
    TooManyEntries,
}

/// Adds up the lengths of the files and links under `dir` (not following links), stopping
/// as soon as they pass `max_size` or the entries pass [`MAX_CHECKOUT_ENTRIES`]. Entries that
/// vanish while git works are skipped.
fn measure(dir: &Path, max_size: u64) -> Measured {
    let mut total = 0u64;
    let mut entries = 0u64;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(listing) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in listing.flatten() {
            entries += 1;
            if entries > MAX_CHECKOUT_ENTRIES {
                return Measured::TooManyEntries;
            }
            let Ok(metadata) = entry.metadata() else {
                continue;
            };
            if metadata.is_dir() {
                pending.push(entry.path());
            } else {
                total = total.saturating_add(metadata.len());
                if total > max_size {
                    return Measured::TooLarge;
                }
            }
        }
    }
    Measured::Within
}

/// Runs git (in `dir`, if given) under `operation`'s bounds and returns its stdout; a failure
/// carries the redacted URL and the last lines of git's stderr.
fn run_git<S: AsRef<OsStr>>(
    operation: &Operation,
    dir: Option<&Path>,
    command: &str,
    args: &[S],
) -> Result<String, SourceError> {
    let url = operation.url;
    let mut git = Command::new("git");
    if let Some(dir) = dir {
        git.arg("-C").arg(dir);
    }
    git.args([
        "-c",
        "init.defaultBranch=main",
        "-c",
        "advice.detachedHead=false",
        "-c",
        "core.askPass=",
        "-c",
        "protocol.ext.allow=never",
    ])
    .arg("-c")
    .arg(format!("http.lowSpeedLimit={GIT_LOW_SPEED_LIMIT}"))
    .arg("-c")
    .arg(format!(
        "http.lowSpeedTime={}",
        operation.limits.low_speed_time
    ))
    .args(args)
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .process_group(0)
    .env("GIT_TERMINAL_PROMPT", "0")
    .env("GIT_CONFIG_NOSYSTEM", "1")
    .env("GIT_CONFIG_GLOBAL", "/dev/null");
    for variable in REPOSITORY_VARIABLES {
        git.env_remove(variable);
    }
    for variable in ["GIT_ASKPASS", "SSH_ASKPASS", "SSH_ASKPASS_REQUIRE"] {
        git.env_remove(variable);
    }
    if std::env::var_os("GIT_SSH_COMMAND").is_none() && std::env::var_os("GIT_SSH").is_none() {
        git.env("GIT_SSH_COMMAND", "ssh -o BatchMode=yes");
    }
    if Instant::now() >= operation.deadline {
        return Err(deadline_error(operation, command));
    }
    let mut child = {
        // Registered under the lock, so that a signal never finds it unlisted.
        let mut running = RUNNING.lock().unwrap_or_else(PoisonError::into_inner);
        let child = git.spawn().map_err(SourceError::GitNotRunnable)?;
        running.push((child.id(), operation.watch.map(Path::to_path_buf)));
        child
    };
    let result = supervise(operation, command, &mut child);
    RUNNING
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .retain(|(pid, _)| *pid != child.id());
    let (status, stdout, stderr) = result?;
    if status.success() {
        return Ok(String::from_utf8_lossy(&stdout).into_owned());
    }
    Err(SourceError::Git {
        command: command.to_string(),
        url: redact_git_url(url),
        stderr: last_lines(url, &String::from_utf8_lossy(&stderr), status),
    })
}

fn deadline_error(operation: &Operation, command: &str) -> SourceError {
    operation.limit_error(
        command,
        format!(
            "the git operation did not finish within {} (PY2NIX_GIT_DEADLINE)",
            seconds(operation.limits.deadline)
        ),
    )
}

/// `2 s`, `0.5 s`.
fn seconds(duration: Duration) -> String {
    let secs = duration.as_secs_f64();
    if secs.fract() == 0.0 {
        format!("{secs:.0} s")
    } else {
        format!("{} s", (secs * 1000.0).round() / 1000.0)
    }
}

type Finished = (std::process::ExitStatus, Vec<u8>, Vec<u8>);

/// Waits for `child`, reading its output, and kills its process group when the deadline,
/// the size of the checkout or the output limit is passed.
fn supervise(
    operation: &Operation,
    command: &str,
    child: &mut Child,
) -> Result<Finished, SourceError> {
    let stdout = child.stdout.take().map(|pipe| {
        std::thread::spawn(move || {
            // Keeps the first bytes, drains the rest so that git never blocks on the pipe.
            let mut kept = Vec::new();
            let mut pipe = pipe;
            let _ = (&mut pipe).take(MAX_GIT_OUTPUT + 1).read_to_end(&mut kept);
            let _ = std::io::copy(&mut pipe, &mut std::io::sink());
            kept
        })
    });
    let stderr = child.stderr.take().map(|mut pipe| {
        std::thread::spawn(move || {
            // Keeps the last bytes only.
            let mut kept = Vec::new();
            let mut buffer = [0u8; 8192];
            while let Ok(read) = pipe.read(&mut buffer) {
                if read == 0 {
                    break;
                }
                kept.extend_from_slice(&buffer[..read]);
                if kept.len() > 2 * GIT_STDERR_KEPT {
                    kept.drain(..kept.len() - GIT_STDERR_KEPT);
                }
            }
            kept
        })
    });
    let mut next_measure = Instant::now() + SIZE_INTERVAL;
    let mut pause = Duration::from_millis(1);
    let outcome = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) => {}
            Err(error) => break Err(SourceError::GitNotRunnable(error)),
        }
        let now = Instant::now();
        if now >= operation.deadline {
            break Err(deadline_error(operation, command));
        }
        if now >= next_measure {
            if let Err(error) = operation.check_size(command) {
                break Err(error);
            }
            next_measure = Instant::now() + SIZE_INTERVAL;
        }
        std::thread::sleep(pause.min(operation.deadline.saturating_duration_since(now)));
        pause = (pause * 2).min(Duration::from_millis(50));
    };
    if outcome.is_err() {
        kill_group(child);
    }
    let stdout = stdout
        .and_then(|reader| reader.join().ok())
        .unwrap_or_default();
    let stderr = stderr
        .and_then(|reader| reader.join().ok())
        .unwrap_or_default();
    let status = outcome?;
    // git may have written much between two measures, or finished before the first.
    operation.check_size(command)?;
    if stdout.len() as u64 > MAX_GIT_OUTPUT {
        return Err(operation.limit_error(
            command,
            format!("git printed more than {MAX_GIT_OUTPUT} bytes"),
        ));
    }
    Ok((status, stdout, stderr))
}

/// Kills `child`'s whole process group (git and the helpers it started) and reaps `child`.
fn kill_group(child: &mut Child) {
    let group = rustix::process::Pid::from_child(child);
    if rustix::process::kill_process_group(group, rustix::process::Signal::KILL).is_err() {
        let _ = child.kill();
    }
    let _ = child.wait();
}

/// Variables that point git at another repository or inject configuration.
const REPOSITORY_VARIABLES: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_CEILING_DIRECTORIES",
    "GIT_CONFIG",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT",
    "GIT_SHALLOW_FILE",
    "GIT_GRAFT_FILE",
    "GIT_REPLACE_REF_BASE",
    "GIT_NO_REPLACE_OBJECTS",
    "GIT_PREFIX",
];

/// The last five non-empty lines of `stderr`, joined with `; `, credentials removed.
fn last_lines(url: &str, stderr: &str, status: std::process::ExitStatus) -> String {
    let redacted_url = redact_git_url(url);
    let lines: Vec<String> = stderr
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|line| redact_text(&replace_url(line, url, &redacted_url)))
        .collect();
    if lines.is_empty() {
        return format!("git exited with {status}");
    }
    lines[lines.len().saturating_sub(5)..].join("; ")
}

fn replace_url(line: &str, url: &str, redacted_url: &str) -> String {
    if url.is_empty() {
        line.to_string()
    } else {
        line.replace(url, redacted_url)
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::OsStr;
    use std::io::{BufRead, BufReader, Write};
    use std::net::{TcpListener, TcpStream};
    use std::os::unix::fs::{symlink, PermissionsExt};
    use std::path::PathBuf;

    use tempfile::TempDir;

    use super::*;
    use crate::nar::tests::{nix, nix_with_env};

    /// Runs git for a fixture, with a fixed identity and dates and no user configuration.
    fn git(dir: &Path, args: &[&str]) -> String {
        let output = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args([
                "-c",
                "user.name=py2nix test",
                "-c",
                "user.email=test@example.org",
            ])
            .args([
                "-c",
                "init.defaultBranch=main",
                "-c",
                "protocol.file.allow=always",
            ])
            .args(["-c", "advice.detachedHead=false"])
            .args(args)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_DATE", "2024-01-01T00:00:00Z")
            .env("GIT_COMMITTER_DATE", "2024-01-01T00:00:00Z")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "git {args:?} failed: {stderr}");
        String::from_utf8(output.stdout).unwrap().trim().to_string()
    }

    fn write(path: &Path, contents: &str, mode: u32) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, contents).unwrap();
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
    }

    /// A repository `repo` (with its submodule repository `sub`) in a temporary directory:
    ///
    /// - `first`: `README.md`, `.gitignore`, an executable `bin/run.sh`, a symbolic link
    ///   `link -> README.md` and `src/pkg/__init__.py`; branch `release`, lightweight tag `v1`;
    /// - `second` (`main`, `HEAD`): adds `.gitattributes` with `ignored.txt export-ignore`,
    ///   `ignored.txt`, and `sub` as the submodule `vendor/sub` by a `file://` URL; annotated
    ///   tag `v2`; a branch `both` here and a tag `both` at `first`.
    struct Fixture {
        dir: TempDir,
        url: String,
        first: String,
        second: String,
        tag_object: String,
    }

    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("sub");
        fs::create_dir(&sub).unwrap();
        git(&sub, &["init", "--quiet"]);
        write(&sub.join("lib.txt"), "from the submodule\n", 0o644);
        git(&sub, &["add", "-A"]);
        git(&sub, &["commit", "--quiet", "-m", "sub"]);

        let repo = dir.path().join("repo");
        fs::create_dir(&repo).unwrap();
        git(&repo, &["init", "--quiet"]);
        write(&repo.join("README.md"), "# fixture\n", 0o644);
        write(&repo.join(".gitignore"), "*.pyc\n", 0o644);
        write(&repo.join("bin/run.sh"), "#!/bin/sh\necho run\n", 0o755);
        write(&repo.join("src/pkg/__init__.py"), "VERSION = 1\n", 0o644);
        symlink("README.md", repo.join("link")).unwrap();
        git(&repo, &["add", "-A"]);
        git(&repo, &["commit", "--quiet", "-m", "first"]);
        let first = git(&repo, &["rev-parse", "HEAD"]);
        git(&repo, &["branch", "release"]);
        git(&repo, &["tag", "v1"]);

        write(
            &repo.join(".gitattributes"),
            "ignored.txt export-ignore\n",
            0o644,
        );
        write(&repo.join("ignored.txt"), "not in git archive\n", 0o644);
        let sub_url = format!("file://{}", sub.display());
        git(
            &repo,
            &["submodule", "--quiet", "add", &sub_url, "vendor/sub"],
        );
        git(&repo, &["add", "-A"]);
        git(&repo, &["commit", "--quiet", "-m", "second"]);
        let second = git(&repo, &["rev-parse", "HEAD"]);
        git(&repo, &["tag", "-a", "v2", "-m", "version 2"]);
        let tag_object = git(&repo, &["rev-parse", "v2"]);
        git(&repo, &["branch", "both"]);
        git(&repo, &["tag", "both", &first]);
        let url = format!("file://{}", repo.display());
        Fixture {
            dir,
            url,
            first,
            second,
            tag_object,
        }
    }

    /// The second oracle: a checkout made with plain git commands (a full clone), with `.git`
    /// removed by `find` as `nix-prefetch-git` does, hashed by `nix hash path`.
    fn plain_git_hash(fixture: &Fixture, commit: &str, submodules: bool) -> String {
        let out = tempfile::tempdir().unwrap();
        let tree = out.path().join("tree");
        git(
            fixture.dir.path(),
            &["clone", "--quiet", &fixture.url, tree.to_str().unwrap()],
        );
        git(&tree, &["checkout", "--quiet", commit]);
        if submodules {
            git(
                &tree,
                &["submodule", "--quiet", "update", "--init", "--recursive"],
            );
        }
        remove_dot_git_with_find(&tree);
        nix_hash_path(&tree)
    }

    fn remove_dot_git_with_find(tree: &Path) {
        let status = Command::new("find")
            .arg(tree)
            .args(["-name", ".git", "-prune", "-exec", "rm", "-rf", "{}", "+"])
            .status()
            .unwrap();
        assert!(status.success());
    }

    fn nix_hash_path(path: &Path) -> String {
        nix(
            "nix",
            &["hash", "path", "--type", "sha256", path.to_str().unwrap()],
        )
    }

    /// The first oracle: Nix 2.8's own `builtins.fetchGit`, with a private cache and `file://`
    /// submodules allowed.
    fn fetch_git_nar_hash(fixture: &Fixture, commit: &str, submodules: bool) -> String {
        let cache = tempfile::tempdir().unwrap();
        let expression = format!(
            "(builtins.fetchGit {{ url = \"{}\"; rev = \"{commit}\"; submodules = {submodules}; }}).narHash",
            fixture.url
        );
        let env = [
            ("XDG_CACHE_HOME", cache.path().as_os_str()),
            ("GIT_CONFIG_NOSYSTEM", OsStr::new("1")),
            ("GIT_CONFIG_GLOBAL", OsStr::new("/dev/null")),
            ("GIT_CONFIG_COUNT", OsStr::new("1")),
            ("GIT_CONFIG_KEY_0", OsStr::new("protocol.file.allow")),
            ("GIT_CONFIG_VALUE_0", OsStr::new("always")),
        ];
        let args = ["--eval", "--json", "--expr", &expression];
        let json = nix_with_env("nix-instantiate", &args, &env);
        json.trim_matches('"').to_string()
    }

    /// Every path under `dir`, relative, sorted.
    fn all_paths(dir: &Path) -> Vec<String> {
        let mut paths = Vec::new();
        let mut pending = vec![dir.to_path_buf()];
        while let Some(next) = pending.pop() {
            for entry in fs::read_dir(&next).unwrap() {
                let path = entry.unwrap().path();
                let relative = path
                    .strip_prefix(dir)
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .to_string();
                paths.push(relative);
                if fs::symlink_metadata(&path).unwrap().is_dir() {
                    pending.push(path);
                }
            }
        }
        paths.sort();
        paths
    }

    #[test]
    fn resolves_head_branches_and_tags() {
        let fixture = fixture();
        let resolve = |reference| resolve_ref(&fixture.url, reference).unwrap();
        assert_eq!(resolve(None), fixture.second);
        assert_eq!(resolve(Some("HEAD")), fixture.second);
        assert_eq!(resolve(Some("main")), fixture.second);
        assert_eq!(resolve(Some("release")), fixture.first);
        assert_eq!(resolve(Some("refs/heads/release")), fixture.first);
        assert_eq!(resolve(Some("v1")), fixture.first);
        // The annotated tag resolves to its commit, not to the tag object.
        assert_eq!(resolve(Some("v2")), fixture.second);
        assert_eq!(resolve(Some("refs/tags/v2")), fixture.second);
        assert_ne!(fixture.tag_object, fixture.second);
        assert_eq!(resolve(Some("refs/heads/both")), fixture.second);
        // A full commit id is not looked up.
        let upper = fixture.first.to_ascii_uppercase();
        assert_eq!(resolve(Some(&upper)), fixture.first);
        assert_eq!(
            resolve_ref("https://unreachable.invalid/r.git", Some(&fixture.first)).unwrap(),
            fixture.first
        );
    }

    #[test]
    fn unknown_and_ambiguous_references_are_errors() {
        let fixture = fixture();
        let error = resolve_ref(&fixture.url, Some("nope")).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!("`{}` has no reference `nope`", fixture.url)
        );
        let error = resolve_ref(&fixture.url, Some("refs/heads/v1")).unwrap_err();
        assert!(matches!(error, SourceError::RefNotFound { .. }));
        let error = resolve_ref(&fixture.url, Some("both")).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "`both` is both a branch and a tag of `{}`; write `refs/heads/both` or \
                 `refs/tags/both`",
                fixture.url
            )
        );
        let error = resolve_ref("/nonexistent/repository", Some("main")).unwrap_err();
        let message = error.to_string();
        assert!(
            message.starts_with("`git ls-remote` failed for `/nonexistent/repository`: "),
            "{message}"
        );
        assert!(
            message.contains("does not appear to be a git repository"),
            "{message}"
        );
    }

    #[test]
    fn first_commit_matches_fetch_git_and_plain_git() {
        let fixture = fixture();
        let hash = hash_git(&fixture.url, &fixture.first, false).unwrap();
        assert_eq!(hash.commit, fixture.first);
        assert_eq!(
            hash.sri,
            fetch_git_nar_hash(&fixture, &fixture.first, false)
        );
        assert_eq!(hash.sri, plain_git_hash(&fixture, &fixture.first, false));
        // Submodules change nothing where there are none.
        assert_eq!(hash_git(&fixture.url, &fixture.first, true).unwrap(), hash);
    }

    #[test]
    fn export_ignore_is_not_honoured_unlike_fetch_git_without_submodules() {
        let fixture = fixture();
        let hash = hash_git(&fixture.url, &fixture.second, false).unwrap();
        assert_eq!(hash.sri, plain_git_hash(&fixture, &fixture.second, false));
        // Nix 2.8's fetchGit without submodules unpacks `git archive`, which drops
        // `ignored.txt`: that and only that is the difference.
        let fetch_git = fetch_git_nar_hash(&fixture, &fixture.second, false);
        assert_ne!(hash.sri, fetch_git);
        let dest = fixture.dir.path().join("without-ignored");
        checkout(&fixture.url, &fixture.second, false, &dest).unwrap();
        fs::remove_file(dest.join("ignored.txt")).unwrap();
        assert_eq!(fetch_git, nix_hash_path(&dest));
    }

    #[test]
    fn submodules_match_fetch_git_and_plain_git() {
        let fixture = fixture();
        let hash = hash_git(&fixture.url, &fixture.second, true).unwrap();
        assert_eq!(
            hash.sri,
            fetch_git_nar_hash(&fixture, &fixture.second, true)
        );
        assert_eq!(hash.sri, plain_git_hash(&fixture, &fixture.second, true));
        assert_ne!(
            hash,
            hash_git(&fixture.url, &fixture.second, false).unwrap()
        );
    }

    #[test]
    fn checkout_keeps_dot_files_and_removes_every_dot_git() {
        let fixture = fixture();
        let dest = fixture.dir.path().join("checkout");
        checkout(&fixture.url, &fixture.second, true, &dest).unwrap();
        assert_eq!(
            all_paths(&dest),
            [
                ".gitattributes",
                ".gitignore",
                ".gitmodules",
                "README.md",
                "bin",
                "bin/run.sh",
                "ignored.txt",
                "link",
                "src",
                "src/pkg",
                "src/pkg/__init__.py",
                "vendor",
                "vendor/sub",
                "vendor/sub/lib.txt",
            ]
        );
        let mode = fs::metadata(dest.join("bin/run.sh"))
            .unwrap()
            .permissions()
            .mode();
        assert_ne!(mode & 0o100, 0);
        assert_eq!(
            fs::read_link(dest.join("link")).unwrap(),
            PathBuf::from("README.md")
        );

        let without = fixture.dir.path().join("without-submodules");
        checkout(&fixture.url, &fixture.second, false, &without).unwrap();
        assert!(all_paths(&without).contains(&"vendor/sub".to_string()));
        assert_eq!(fs::read_dir(without.join("vendor/sub")).unwrap().count(), 0);
    }

    #[test]
    fn checkout_needs_a_missing_or_empty_destination() {
        let fixture = fixture();
        let empty = fixture.dir.path().join("empty");
        fs::create_dir(&empty).unwrap();
        checkout(&fixture.url, &fixture.first, false, &empty).unwrap();
        let error = checkout(&fixture.url, &fixture.first, false, &empty).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!("`{}` exists and is not an empty directory", empty.display())
        );
    }

    #[test]
    fn missing_commits_and_tag_objects_are_errors() {
        let fixture = fixture();
        let missing = "0123456789abcdef0123456789abcdef01234567";
        let error = hash_git(&fixture.url, missing, false).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!("`{}` has no commit `{missing}`", fixture.url)
        );
        let error = hash_git(&fixture.url, &fixture.tag_object, false).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "`{}` has no commit `{}` (the object is a tag)",
                fixture.url, fixture.tag_object
            )
        );
    }

    #[test]
    fn options_are_never_taken_for_commits_or_urls() {
        let error = hash_git("file:///x", "--upload-pack=touch /tmp/pwned", false).unwrap_err();
        assert!(matches!(error, SourceError::InvalidCommit(_)));
        let error = resolve_ref("--upload-pack=touch /tmp/pwned", None).unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid git URL `--upload-pack=touch /tmp/pwned`"
        );
        let fixture = fixture();
        let error = resolve_ref(&fixture.url, Some("--upload-pack=x")).unwrap_err();
        assert!(matches!(error, SourceError::RefNotFound { .. }));
    }

    /// Serves `root` over plain ("dumb") HTTP, which cannot fetch shallowly, on 127.0.0.1.
    fn serve_dumb_http(root: PathBuf) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let root = root.clone();
                std::thread::spawn(move || respond(stream, &root));
            }
        });
        format!("http://{address}")
    }

    fn respond(mut stream: TcpStream, root: &Path) {
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut request_line = String::new();
        reader.read_line(&mut request_line).unwrap();
        let mut header = String::new();
        while reader.read_line(&mut header).unwrap() > 2 {
            header.clear();
        }
        let target = request_line.split_whitespace().nth(1).unwrap_or("/");
        let path = target.split('?').next().unwrap().trim_start_matches('/');
        let body = match path.contains("..") {
            true => None,
            false => fs::read(root.join(path))
                .ok()
                .filter(|_| root.join(path).is_file()),
        };
        let head = match &body {
            Some(body) => format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            ),
            None => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                .to_string(),
        };
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(&body.unwrap_or_default()).unwrap();
    }

    #[test]
    fn falls_back_to_a_full_fetch_when_the_server_cannot_fetch_a_commit() {
        let fixture = fixture();
        let served = fixture.dir.path().join("served");
        fs::create_dir(&served).unwrap();
        let bare = served.join("repo.git");
        git(
            &served,
            &[
                "clone",
                "--quiet",
                "--bare",
                &fixture.url,
                bare.to_str().unwrap(),
            ],
        );
        git(&bare, &["update-server-info"]);
        let url = format!("{}/repo.git", serve_dumb_http(served));
        assert_eq!(resolve_ref(&url, Some("v2")).unwrap(), fixture.second);
        assert_eq!(
            hash_git(&url, &fixture.first, false).unwrap(),
            hash_git(&fixture.url, &fixture.first, false).unwrap()
        );
    }

    #[test]
    fn credentials_never_appear_in_errors() {
        let fixture = fixture();
        let served = fixture.dir.path().join("served");
        fs::create_dir(&served).unwrap();
        let base = serve_dumb_http(served.clone());
        let with_credentials = base.replace("http://", "http://user:secret@");
        let missing_repository = format!("{with_credentials}/missing.git");
        let errors = [
            resolve_ref(&missing_repository, Some("main")).unwrap_err(),
            hash_git(&missing_repository, &fixture.first, false).unwrap_err(),
            resolve_ref(&format!("{missing_repository}?x=1"), None).unwrap_err(),
        ];
        for error in &errors {
            let message = error.to_string();
            assert!(!message.contains("secret"), "{message}");
            assert!(!message.contains("user"), "{message}");
            assert!(
                message.contains(&format!("`{base}/missing.git")),
                "{message}"
            );
        }

        let bare = served.join("repo.git");
        git(
            &served,
            &[
                "clone",
                "--quiet",
                "--bare",
                &fixture.url,
                bare.to_str().unwrap(),
            ],
        );
        git(&bare, &["update-server-info"]);
        let repository = format!("{with_credentials}/repo.git");
        let error = resolve_ref(&repository, Some("nope")).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!("`{base}/repo.git` has no reference `nope`")
        );
        let error = hash_git(&repository, &"f".repeat(40), false).unwrap_err();
        assert!(!error.to_string().contains("secret"), "{error}");
    }

    #[test]
    fn redacts_credentials_in_urls_and_messages() {
        let cases = [
            (
                "https://user:secret@example.org/r.git",
                "https://example.org/r.git",
            ),
            ("https://ghp_token@github.com/o/r", "https://github.com/o/r"),
            (
                "ssh://git@example.org:22/r.git",
                "ssh://example.org:22/r.git",
            ),
            (
                "https://example.org/a@b/r.git",
                "https://example.org/a@b/r.git",
            ),
            ("git@github.com:o/r.git", "git@github.com:o/r.git"),
            ("user:secret@example.org:o/r.git", "example.org:o/r.git"),
            ("/srv/git/a:b@c", "/srv/git/a:b@c"),
            ("file:///srv/git/r", "file:///srv/git/r"),
        ];
        for (url, expected) in cases {
            assert_eq!(redact_git_url(url), expected, "{url}");
        }
        assert_eq!(
            redact_text("fatal: unable to access 'https://u:p@h/r/': refused; see http://x@y"),
            "fatal: unable to access 'https://h/r/': refused; see http://y"
        );
    }

    #[test]
    fn local_urls() {
        for url in ["file:///srv/r", "/srv/r", "./r", "../r", "r", "/srv/a:b"] {
            assert!(is_local(url), "{url}");
        }
        for url in ["https://h/r", "ssh://h/r", "git@h:r", "h:r"] {
            assert!(!is_local(url), "{url}");
        }
    }
}

/// The version a VCS-versioning build backend (setuptools-scm, hatch-vcs, pdm-backend's scm
/// source, poetry-dynamic-versioning) would compute in the git work tree holding `dir`, as
/// `git describe --tags` tells it: the tag's version (a leading `v` dropped) when HEAD is
/// tagged, else setuptools-scm's default scheme, the next patch release as a development
/// release with the distance and commit (`1.2.3` + 4 commits = `1.2.4.dev4+gabc1234`).
/// `None` outside a work tree, without a tag, or for a tag that is no version. git runs
/// without the repository's hooks or fsmonitor, and without user or system configuration.
pub fn describe_version(dir: &Path) -> Option<String> {
    let output = run_git(
        &Operation::new("", None),
        Some(dir),
        "git describe",
        &[
            "-c",
            "core.fsmonitor=false",
            "-c",
            "core.hooksPath=/dev/null",
            "describe",
            "--tags",
            "--long",
            "--match",
            "*[0-9]*",
        ],
    )
    .ok()?;
    version_from_describe(output.trim())
}

/// `v1.2.3-0-g1000b6d` → `1.2.3`; `v1.2.3-4-gabc1234` → `1.2.4.dev4+gabc1234`.
fn version_from_describe(described: &str) -> Option<String> {
    let mut parts = described.rsplitn(3, '-');
    let commit = parts.next()?;
    let distance: u64 = parts.next()?.parse().ok()?;
    let tag = parts.next()?;
    let version = tag.trim_start_matches(|c: char| !c.is_ascii_digit());
    let release: Vec<u64> = version
        .split('.')
        .map(|part| part.parse().ok())
        .collect::<Option<_>>()?;
    if release.is_empty() || !commit.starts_with('g') {
        return None;
    }
    if distance == 0 {
        return Some(version.to_string());
    }
    let mut next = release;
    if let Some(last) = next.last_mut() {
        *last += 1;
    }
    let next: Vec<String> = next.iter().map(ToString::to_string).collect();
    Some(format!("{}.dev{distance}+{commit}", next.join(".")))
}

#[cfg(test)]
mod describe_tests {
    use super::*;

    #[test]
    fn versions_from_git_describe() {
        assert_eq!(
            version_from_describe("v1.2.3-0-g1000b6d").as_deref(),
            Some("1.2.3")
        );
        assert_eq!(version_from_describe("2.0-0-gabc").as_deref(), Some("2.0"));
        assert_eq!(
            version_from_describe("v1.2.3-4-gabc1234").as_deref(),
            Some("1.2.4.dev4+gabc1234")
        );
        assert_eq!(
            version_from_describe("release-v0.9-12-gdeadbee").as_deref(),
            Some("0.10.dev12+gdeadbee")
        );
        // Not a release number, or not describe's output.
        assert_eq!(version_from_describe("v1.2.3rc1-0-gabc"), None);
        assert_eq!(version_from_describe("nightly"), None);
        assert_eq!(version_from_describe("v1-x-gabc"), None);
    }

    #[test]
    fn a_tagged_work_tree_gives_its_tag() {
        let dir = tempfile::tempdir().unwrap();
        let git = |args: &[&str]| {
            let status = std::process::Command::new("git")
                .arg("-C")
                .arg(dir.path())
                .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
                .args(args)
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .output()
                .unwrap();
            assert!(status.status.success(), "{args:?}: {status:?}");
        };
        assert_eq!(describe_version(dir.path()), None, "not a repository");
        git(&["init", "-q"]);
        std::fs::write(dir.path().join("a"), "a").unwrap();
        git(&["add", "a"]);
        git(&["commit", "-q", "-m", "a"]);
        assert_eq!(describe_version(dir.path()), None, "no tag");
        git(&["tag", "v1.2.3"]);
        assert_eq!(describe_version(dir.path()).as_deref(), Some("1.2.3"));
        std::fs::write(dir.path().join("b"), "b").unwrap();
        git(&["add", "b"]);
        git(&["commit", "-q", "-m", "b"]);
        let next = describe_version(dir.path()).unwrap();
        assert!(next.starts_with("1.2.4.dev1+g"), "{next}");
    }
}

#[cfg(test)]
mod limits_tests {
    use super::*;

    fn size(text: &str) -> Result<u64, String> {
        text.parse::<u64>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("`{text}` is not a size"))
    }

    #[test]
    fn the_environment_sets_the_git_limits() {
        let limits = GitLimits::from_lookup(
            |name| match name {
                "PY2NIX_GIT_DEADLINE" => Some("2.5".to_owned()),
                "PY2NIX_GIT_MAX_SIZE" => Some("1000".to_owned()),
                "PY2NIX_HTTP_TIMEOUT" => Some("0.2".to_owned()),
                _ => None,
            },
            size,
        )
        .unwrap();
        assert_eq!(
            limits,
            GitLimits {
                deadline: Duration::from_millis(2500),
                max_size: 1000,
                low_speed_time: 1,
            }
        );
        assert_eq!(
            GitLimits::from_lookup(|_| None, size).unwrap(),
            GitLimits::default()
        );
        for (name, bad) in [
            ("PY2NIX_GIT_DEADLINE", "0"),
            ("PY2NIX_GIT_DEADLINE", "x"),
            ("PY2NIX_GIT_DEADLINE", "-1"),
            ("PY2NIX_GIT_MAX_SIZE", "0"),
            ("PY2NIX_HTTP_TIMEOUT", "1e9"),
        ] {
            let error =
                GitLimits::from_lookup(|n| (n == name).then(|| bad.to_owned()), size).unwrap_err();
            assert!(error.contains(name) && error.contains(bad), "{error}");
        }
    }

    #[test]
    fn measuring_stops_at_the_first_byte_too_many() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("a/b")).unwrap();
        fs::write(dir.path().join("a/b/f"), [0u8; 600]).unwrap();
        fs::write(dir.path().join("g"), [0u8; 400]).unwrap();
        assert!(matches!(measure(dir.path(), 1000), Measured::Within));
        assert!(matches!(measure(dir.path(), 999), Measured::TooLarge));
        assert!(matches!(
            measure(&dir.path().join("missing"), 1),
            Measured::Within
        ));
    }
}
