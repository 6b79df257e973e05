//! A small, deterministic mutation fuzzer for the test suite: the committed corpus is
//! replayed, then mutated with a fixed seed for a fixed number of inputs, so every CI run
//! fuzzes a little (the same inputs each time) without libFuzzer or a nightly toolchain.
//! cargo-fuzz (`fuzz/run.sh`) is the real, coverage-guided fuzzer; this keeps its corpus and
//! its findings exercised on every run.
//!
//! This file is shared: the fuzz crate compiles it as `py2nix_fuzz::mutate`, and the main test
//! suite includes it by path.

/// Tokens with a meaning in TOML, requirements files, HTML, JSON, PEP 508 or Nix.
const TOKENS: &[&str] = &[
    "\n",
    "\r\n",
    " ",
    "\"",
    "'",
    "\"\"\"",
    "'''",
    "\\",
    "\\u0000",
    "\\U0010ffff",
    "=",
    "==",
    "===",
    ">=",
    "~=",
    "!=",
    "[",
    "]",
    "[[",
    "]]",
    "{",
    "}",
    ",",
    ".",
    "#",
    ";",
    "@",
    "$",
    "${",
    "${X}",
    "-r ",
    "-c ",
    "-e ",
    "--hash=sha256:",
    "--index-url ",
    "[[package]]\n",
    "[[packages]]\n",
    "[metadata]\n",
    "name = ",
    "version = ",
    "lock-version = \"2.1\"\n",
    "version = 1\n",
    "files = [",
    "wheels = [",
    "sdist = {",
    "hash = \"sha256:",
    "dependencies = [",
    "marker = ",
    "extra == \"x\"",
    "python_version < \"3\"",
    " and ",
    " or ",
    "<a href=\"",
    "\">",
    "</a>",
    "#sha256=",
    "data-yanked",
    "data-core-metadata=\"sha256=",
    "&amp;",
    "&#0;",
    "&#x110000;",
    "<!--",
    "-->",
    "<script>",
    "{\"files\": [",
    "\"url\": ",
    "\"hashes\": {",
    "null",
    "true",
    "1e999",
    "-9223372036854775808",
    "18446744073709551616",
    "é",
    "\u{0}",
    "\u{202e}",
    "\u{feff}",
    "\u{10ffff}",
    "..",
    "../",
    "file:///",
    "http://[::1",
    "https://u:p@h/",
    ".whl",
    ".tar.gz",
    "-py3-none-any",
    "-cp311-cp311-manylinux_2_17_x86_64",
    "1.0",
    "1!2.0rc1.post2.dev3+local",
    "''${",
    "${builtins.abort \"x\"}",
];

/// xorshift64*: tiny, fast and the same everywhere.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// One to four mutations of `input`, maybe spliced with another corpus entry.
pub fn mutate(rng: &mut Rng, input: &[u8], corpus: &[Vec<u8>]) -> Vec<u8> {
    let mut data = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = data.len();
        let at = rng.below(len + 1);
        match rng.below(9) {
            0 if len > 0 => {
                let i = rng.below(len);
                data[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                data[i] = b"\"\\[]={}#$'\n,\0\xff-._<>&;"[rng.below(21)];
            }
            2 => {
                let end = (at + 1 + rng.below(16)).min(len);
                data.drain(at.min(end)..end);
            }
            3 if len > 0 => {
                let start = rng.below(len);
                let end = (start + 1 + rng.below(64)).min(len);
                let copy = data[start..end].to_vec();
                let to = rng.below(data.len() + 1);
                data.splice(to..to, copy);
            }
            4 | 5 => {
                let token = TOKENS[rng.below(TOKENS.len())].as_bytes();
                data.splice(at..at, token.iter().copied());
            }
            6 => data.truncate(at),
            7 if !corpus.is_empty() => {
                let other = &corpus[rng.below(corpus.len())];
                let from = rng.below(other.len() + 1);
                data.truncate(at);
                data.extend_from_slice(&other[from..]);
            }
            _ => {
                let end = (at + 1 + rng.below(8)).min(len);
                for byte in data.iter_mut().take(end).skip(at) {
                    *byte = rng.next() as u8;
                }
            }
        }
    }
    data
}

/// Every file of a corpus directory, sorted by name (an empty list when there is none).
pub fn corpus(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut entries: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().is_file())
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let bytes = std::fs::read(e.path()).unwrap_or_default();
            (name, bytes)
        })
        .collect();
    entries.sort();
    entries
}

/// Replays `dir`'s corpus through `check`, then `iterations` mutants of it (seeded by
/// `seed`); returns how many inputs ran. A panic names the input (the corpus file, or the
/// mutant's bytes written to `failed_dir`, so that it can join the corpus as a regression).
pub fn replay_and_mutate(
    dir: &std::path::Path,
    check: &dyn Fn(&[u8]),
    iterations: usize,
    seed: u64,
    failed_dir: &std::path::Path,
) -> usize {
    let entries = corpus(dir);
    assert!(!entries.is_empty(), "no corpus in {}", dir.display());
    for (name, bytes) in &entries {
        run_one(
            check,
            bytes,
            &format!("{}/{name}", dir.display()),
            failed_dir,
        );
    }
    let inputs: Vec<Vec<u8>> = entries.into_iter().map(|(_, bytes)| bytes).collect();
    let mut rng = Rng::new(seed);
    for i in 0..iterations {
        let base = &inputs[rng.below(inputs.len())];
        let mutant = mutate(&mut rng, base, &inputs);
        run_one(
            check,
            &mutant,
            &format!("mutant {i} (seed {seed})"),
            failed_dir,
        );
    }
    inputs.len() + iterations
}

thread_local! {
    /// Panics on this thread so far, caught or not.
    static PANICS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Counts every panic per thread (then lets the previous hook report it), so that a panic
/// py2nix catches itself still counts: libFuzzer aborts on those, and a user would have seen
/// its message on stderr.
fn count_panics() {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.with(|count| count.set(count.get() + 1));
            previous(info);
        }));
    });
}

fn run_one(check: &dyn Fn(&[u8]), bytes: &[u8], label: &str, failed_dir: &std::path::Path) {
    if std::env::var_os("PY2NIX_FUZZ_TRACE").is_some() {
        // For an input that kills the process (a stack overflow): the last label printed.
        eprintln!("fuzz input: {label}");
    }
    count_panics();
    let before = PANICS.with(|count| count.get());
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(bytes)));
    let caught_inside = PANICS.with(|count| count.get()) > before;
    let outcome = match outcome {
        Ok(()) if caught_inside => Err(Box::new(
            "a panic that py2nix caught itself (its message is above)".to_string(),
        ) as Box<dyn std::any::Any + Send>),
        other => other,
    };
    if let Err(panic) = outcome {
        let _ = std::fs::create_dir_all(failed_dir);
        let digest = bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
        let saved = failed_dir.join(format!("crash-{digest:016x}"));
        let _ = std::fs::write(&saved, bytes);
        let message = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        panic!(
            "{label} fails the check (input saved as {}): {message}",
            saved.display()
        );
    }
}
