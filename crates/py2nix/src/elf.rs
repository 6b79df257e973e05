//! The libraries of Linux binary wheels, read: each chosen Linux wheel with compiled code is
//! downloaded once (hash-checked), and what its shared objects need from outside it and what
//! they install (`py2nix_source::wheel_libraries`) handed to the planner, which maps them
//! (`py2nix_plan::map_target_libraries`: the C library, the GPU driver, the wheels of the
//! package's dependency closure, its wheel rule, the soname table).
//!
//! The result of a wheel (its library lists, not the wheel) is cached by its hash
//! (`wheel-libraries-v3/`), so a warm run downloads nothing.
//!
//! A cold run hashes each wheel as it streams in, and worker threads read the wheels as they
//! arrive while the others download (at most [`HELD`] in memory at once); a wheel with several
//! large shared objects is read by several threads, and each object is inflated only as far
//! as its dynamic section and string table (see `py2nix_source::wheel_libraries`).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::Path;
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock, PoisonError};

use anyhow::anyhow;
use py2nix_overrides::{OverrideDb, SonameTable};
use py2nix_plan::{map_target_libraries, PackagePlan, Plan, SourcePlan, Target, WheelScan};

use crate::cache::{KeyedCache, WHEEL_LIBRARIES};
use crate::network::{Errors, Network, Slot};
use crate::report::{Failure, Reporter};
use crate::sources::IndexChoice;

/// The cache directory of wheels' library lists, by the wheel's hash.
/// The largest shared object read from a wheel.
const MAX_OBJECT_SIZE: u64 = 1 << 30;
/// Wheels downloading or waiting to be read or being read at once, so at most this many are
/// held in memory.
const HELD: usize = 8;

static TABLE_TEXT: &str = include_str!("../../../overrides/SONAMES.toml");

/// The built-in soname table (checked by the database's tests; a failure is a build defect).
pub fn soname_table() -> Result<&'static SonameTable, Failure> {
    static TABLE: OnceLock<Result<SonameTable, String>> = OnceLock::new();
    TABLE
        .get_or_init(|| SonameTable::parse(TABLE_TEXT).map_err(|problems| problems.join("\n")))
        .as_ref()
        .map_err(|e| {
            Failure::Unexpected(anyhow!(
                "the embedded overrides/SONAMES.toml is invalid: {e}"
            ))
        })
}

/// What the step needs from the pipeline.
pub struct Inputs<'a> {
    pub network: &'a Network,
    pub cache_root: Option<&'a Path>,
    /// The default index, for credentials.
    pub index: IndexChoice,
    pub targets: &'a [Target],
    pub overrides: &'a OverrideDb,
}

/// A wheel to read.
#[derive(Debug, Clone)]
pub struct Job {
    filename: String,
    url: String,
    hash: String,
    index: Option<String>,
}

pub use py2nix_plan::is_binary_linux_wheel;

/// Whether a package of `target` is a Linux wheel with compiled code.
fn binary_linux_wheel(target: &Target, package: &PackagePlan) -> Option<Job> {
    let SourcePlan::Wheel(wheel) = &package.src else {
        return None;
    };
    if !is_binary_linux_wheel(target, &wheel.filename) {
        return None;
    }
    Some(Job {
        filename: wheel.filename.clone(),
        url: wheel.url.clone(),
        hash: wheel.hash.clone(),
        index: wheel.index.clone(),
    })
}

/// Reads every Linux binary wheel of the plan and maps what it needs (see the module).
pub fn map_wheel_libraries(
    plan: &mut Plan,
    inputs: &Inputs,
    prefetched: Prefetched,
    reporter: &Reporter,
) -> Result<(), Failure> {
    let table = soname_table()?;
    let mut read = prefetched.0;
    let mut jobs: BTreeMap<String, Job> = BTreeMap::new();
    for (id, target_plan) in &plan.targets {
        let Some(target) = inputs.targets.iter().find(|t| &t.id() == id) else {
            continue;
        };
        for package in target_plan
            .packages
            .values()
            .chain(target_plan.build_packages.values())
        {
            if let Some(job) = binary_linux_wheel(target, package) {
                if !read.contains_key(&job.hash) {
                    jobs.entry(job.hash.clone()).or_insert(job);
                }
            }
        }
    }
    if !jobs.is_empty() {
        read.extend(read_all(jobs, inputs, reporter)?);
    }
    for (id, target_plan) in &mut plan.targets {
        let Some(target) = inputs.targets.iter().find(|t| &t.id() == id) else {
            continue;
        };
        map_target_libraries(target_plan, target, &read, inputs.overrides, table);
    }
    explain_driver_libraries(plan, reporter);
    Ok(())
}

/// With `-v`: which GPU driver libraries the plan's wheels need from the machine.
fn explain_driver_libraries(plan: &Plan, reporter: &Reporter) {
    for (id, target_plan) in &plan.targets {
        let mut needed: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (name, package) in &target_plan.packages {
            for soname in &package.driver_libraries {
                needed.entry(soname).or_default().push(name);
            }
        }
        for (soname, users) in needed {
            reporter.explain(&format!(
                "{id}: {} need {soname} from the GPU driver at run time (on NixOS, /run/opengl-driver/lib)",
                users.join(", ")
            ));
        }
    }
}

/// Wheels read ahead of the plan ([`prefetch`]), by SRI hash: what their shared objects need,
/// or why they cannot be read.
#[derive(Default)]
pub struct Prefetched(BTreeMap<String, Result<WheelScan, String>>);

/// A Linux binary wheel the lock itself gives a URL and a sha256 for (uv.lock does), to read
/// while the index's pages are still being fetched: `(file name, URL, sha256 hex)`.
pub fn prefetch_job(target: &Target, filename: &str, url: &str, sha256_hex: &str) -> Option<Job> {
    if !is_binary_linux_wheel(target, filename) {
        return None;
    }
    let digest = hex::decode(sha256_hex).ok().filter(|d| d.len() == 32)?;
    Some(Job {
        filename: filename.to_string(),
        url: url.to_string(),
        hash: py2nix_dist::sri("sha256", &digest),
        // No index: credentials go only to the default index's own origin.
        index: None,
    })
}

/// Reads the given wheels (from the cache, or by downloading them) before the plan is made,
/// so that the downloads overlap the index lookups. What fails here is left out, not
/// reported: [`map_wheel_libraries`] tries those wheels again from the plan, with the URL
/// and credentials the index gives, and reports then.
pub fn prefetch(jobs: Vec<Job>, inputs: &Inputs) -> Prefetched {
    let mut unique = BTreeMap::new();
    for job in jobs {
        unique.entry(job.hash.clone()).or_insert(job);
    }
    if unique.is_empty() {
        return Prefetched::default();
    }
    let silent = Reporter::new(true, false);
    match read_all(unique, inputs, &silent) {
        Ok(read) => Prefetched(read),
        Err(_) => Prefetched::default(),
    }
}

/// Every job's needed sonames (or why the wheel cannot be read), from the cache or by
/// downloading the wheel. Wheels are read by a few worker threads as they arrive, while the
/// others download (see [`Network::download_each`]); at most [`HELD`] are in memory at once.
fn read_all(
    jobs: BTreeMap<String, Job>,
    inputs: &Inputs,
    reporter: &Reporter,
) -> Result<BTreeMap<String, Result<WheelScan, String>>, Failure> {
    let mut out = BTreeMap::new();
    let mut missing = Vec::new();
    for (hash, job) in jobs {
        match read_cached(inputs.cache_root, &hash) {
            Some(scan) => {
                out.insert(hash, Ok(scan));
            }
            None => missing.push(job),
        }
    }
    if missing.is_empty() {
        return Ok(out);
    }
    reporter.explain(&format!(
        "downloading {} Linux wheels to read the libraries they need",
        missing.len()
    ));
    let mut errors = Errors::default();
    let mut bytes_read: u64 = 0;
    let requests: Vec<(String, String, String, Option<String>)> = missing
        .iter()
        .map(|job| {
            crate::buildsys::download_request(
                &job.url,
                job.index.as_deref(),
                &job.hash,
                &inputs.index,
            )
        })
        .collect();
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let queue = Queue::default();
    let read: Mutex<Vec<(usize, Read)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        // Closed when the downloads end, or if they panic, so that the workers stop.
        let _close = CloseOnDrop(&queue);
        for _ in 0..threads.min(HELD) {
            scope.spawn(|| {
                let _guard = AbandonOnPanic(&queue);
                while let Some(wheel) = queue.pop() {
                    let job = &missing[wheel.position];
                    // `download_file` checked a sha256 SRI hash as the wheel arrived.
                    let verified = requests[wheel.position].3.is_some();
                    let result = read_wheel(&wheel.bytes, job, verified, inputs);
                    lock(&read).push((wheel.position, result));
                }
            });
        }
        inputs
            .network
            .download_each(&requests, HELD, |position, result, slot| match result {
                Ok(bytes) => {
                    bytes_read += bytes.len() as u64;
                    queue.push(Downloaded {
                        position,
                        bytes,
                        _slot: slot,
                    });
                }
                Err(error) => errors.push(error),
            });
    });
    reporter.explain(&format!("read {bytes_read} bytes of Linux wheels"));
    let mut read = read.into_inner().unwrap_or_else(PoisonError::into_inner);
    read.sort_by_key(|(position, _)| *position);
    let mut bad = Vec::new();
    for (position, result) in read {
        let job = &missing[position];
        match result {
            Read::Scanned(scan) => {
                out.insert(job.hash.clone(), Ok(scan));
            }
            Read::Unreadable(problem) => {
                out.insert(job.hash.clone(), Err(problem));
            }
            Read::BadHash(message) => bad.push(format!("`{}`: {message}", job.filename)),
        }
    }
    errors.finish()?;
    if bad.is_empty() {
        Ok(out)
    } else {
        Err(Failure::Input(anyhow!(bad.join("\n"))))
    }
}

/// What became of a downloaded wheel.
enum Read {
    /// What it needs and provides (cached).
    Scanned(WheelScan),
    /// Why its shared objects cannot be read.
    Unreadable(String),
    /// It is not the file the plan names.
    BadHash(String),
}

/// Checks a downloaded wheel's hash (unless `verified`), reads what its shared objects need,
/// and caches the result.
fn read_wheel(bytes: &[u8], job: &Job, verified: bool, inputs: &Inputs) -> Read {
    if !verified {
        if let Err(message) = crate::buildsys::check_sri(bytes, &job.hash) {
            return Read::BadHash(message);
        }
    }
    let limits = py2nix_source::ObjectLimits {
        max_size: MAX_OBJECT_SIZE,
        ..Default::default()
    };
    match py2nix_source::wheel_libraries(bytes, &job.filename, &limits) {
        Ok(libraries) => {
            let scan = WheelScan {
                needed: libraries.needed,
                provided: libraries.provided,
            };
            write_cached(inputs.cache_root, &job.hash, &scan);
            Read::Scanned(scan)
        }
        Err(error) => Read::Unreadable(error.to_string()),
    }
}

/// A downloaded wheel waiting to be read; it holds its download slot until it is dropped.
struct Downloaded {
    position: usize,
    bytes: Vec<u8>,
    _slot: Slot,
}

/// Downloaded wheels waiting for a worker, first come first served.
#[derive(Default)]
struct Queue {
    state: Mutex<QueueState>,
    ready: Condvar,
}

#[derive(Default)]
struct QueueState {
    waiting: VecDeque<Downloaded>,
    /// No more wheels will come.
    closed: bool,
    /// A worker panicked: wheels are dropped rather than kept, so that their download slots
    /// are freed and the downloads finish (the panic then surfaces when the workers are
    /// joined).
    abandoned: bool,
}

impl Queue {
    fn push(&self, wheel: Downloaded) {
        let mut state = lock(&self.state);
        if !state.abandoned {
            state.waiting.push_back(wheel);
            self.ready.notify_one();
        }
    }

    /// The next wheel, waiting for one; `None` once the queue is closed and empty.
    fn pop(&self) -> Option<Downloaded> {
        let mut state = lock(&self.state);
        loop {
            if let Some(wheel) = state.waiting.pop_front() {
                return Some(wheel);
            }
            if state.closed || state.abandoned {
                return None;
            }
            state = self
                .ready
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn close(&self) {
        lock(&self.state).closed = true;
        self.ready.notify_all();
    }
}

/// Closes the queue when dropped.
struct CloseOnDrop<'a>(&'a Queue);

impl Drop for CloseOnDrop<'_> {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// Abandons the queue if the worker holding it panics.
struct AbandonOnPanic<'a>(&'a Queue);

impl Drop for AbandonOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let mut state = lock(&self.0.state);
            state.abandoned = true;
            state.waiting.clear();
            self.0.ready.notify_all();
        }
    }
}

/// A lock that a panicking holder did not leave unusable (what it guards stays consistent).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One cache entry: a wheel's library lists (under its SRI hash, in `cache::WHEEL_LIBRARIES`).
/// Also the value of the recorded lists that tests load into a cache directory.
#[derive(serde::Serialize, serde::Deserialize)]
struct CachedScan {
    needed: BTreeSet<String>,
    provided: BTreeMap<String, String>,
}

fn read_cached(root: Option<&Path>, sri: &str) -> Option<WheelScan> {
    let cached: CachedScan = KeyedCache::new(root).get(WHEEL_LIBRARIES, sri)?;
    Some(WheelScan {
        needed: cached.needed,
        provided: cached.provided,
    })
}

/// Stores a result; a cache that cannot be written only costs a later run a download.
fn write_cached(root: Option<&Path>, sri: &str, scan: &WheelScan) {
    let cached = CachedScan {
        needed: scan.needed.clone(),
        provided: scan.provided.clone(),
    };
    KeyedCache::new(root).put(WHEEL_LIBRARIES, sri, &cached);
}

#[cfg(test)]
mod tests {
    use super::*;
    use py2nix_plan::{NixSystem, PythonVersion, TargetPlan, WheelSourcePlan};

    /// A minimal ELF64 shared object: one `PT_LOAD` for the whole file, a `PT_DYNAMIC`, the
    /// dynamic entries and the string table.
    fn shared_object(needed: &[&str], soname: Option<&str>) -> Vec<u8> {
        let mut strtab = vec![0u8];
        let mut name = |text: &str| {
            let at = strtab.len() as u64;
            strtab.extend_from_slice(text.as_bytes());
            strtab.push(0);
            at
        };
        let mut entries: Vec<(u64, u64)> = needed.iter().map(|n| (1, name(n))).collect();
        if let Some(soname) = soname {
            entries.push((14, name(soname)));
        }
        let dynamic_at: u64 = 64 + 2 * 56;
        let strtab_at = dynamic_at + (entries.len() as u64 + 3) * 16;
        entries.push((5, strtab_at));
        entries.push((10, strtab.len() as u64));
        entries.push((0, 0));
        let total = strtab_at + strtab.len() as u64;
        let mut out = Vec::new();
        out.extend_from_slice(b"\x7fELF\x02\x01\x01");
        out.resize(16, 0);
        out.extend_from_slice(&3u16.to_le_bytes()); // ET_DYN
        out.extend_from_slice(&62u16.to_le_bytes()); // x86-64
        out.extend_from_slice(&1u32.to_le_bytes());
        out.extend_from_slice(&0u64.to_le_bytes()); // entry
        out.extend_from_slice(&64u64.to_le_bytes()); // phoff
        out.extend_from_slice(&0u64.to_le_bytes()); // shoff
        out.extend_from_slice(&0u32.to_le_bytes());
        for half in [64u16, 56, 2, 64, 0, 0] {
            out.extend_from_slice(&half.to_le_bytes());
        }
        let dynamic_size = (entries.len() as u64) * 16;
        for (kind, offset, size) in [(1u32, 0, total), (2, dynamic_at, dynamic_size)] {
            out.extend_from_slice(&kind.to_le_bytes());
            out.extend_from_slice(&6u32.to_le_bytes());
            for word in [offset, offset, offset, size, size, 8] {
                out.extend_from_slice(&word.to_le_bytes());
            }
        }
        for (tag, value) in entries {
            out.extend_from_slice(&tag.to_le_bytes());
            out.extend_from_slice(&value.to_le_bytes());
        }
        out.extend_from_slice(&strtab);
        out
    }

    fn wheel_of(members: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, data) in members {
            zip.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            std::io::Write::write_all(&mut zip, data).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    fn scan(bytes: &[u8], filename: &str) -> WheelScan {
        let limits = py2nix_source::ObjectLimits {
            max_size: MAX_OBJECT_SIZE,
            ..Default::default()
        };
        let read = py2nix_source::wheel_libraries(bytes, filename, &limits).unwrap();
        WheelScan {
            needed: read.needed,
            provided: read.provided,
        }
    }

    fn package(filename: &str, dependencies: &[&str]) -> PackagePlan {
        let mut plan = PackagePlan::new(
            "1.0".into(),
            SourcePlan::Wheel(WheelSourcePlan {
                filename: filename.into(),
                url: format!("https://files.example.org/{filename}"),
                hash: format!("sha256-{filename}"),
                index: None,
            }),
            dependencies.iter().map(|d| d.to_string()).collect(),
        );
        let target = Target::new(NixSystem::X86_64Linux, PythonVersion::new(12));
        py2nix_plan::add_binary_wheel_inputs(&mut plan, &target, filename);
        plan
    }

    /// Small wheels, read and mapped: the app's libraries come from its dependency's wheel,
    /// from its own `.libs` directory (hashed name), from the driver and from the table.
    #[test]
    fn a_library_from_a_dependency_a_bundled_one_and_the_drivers() {
        let app_name = "app-1.0-cp312-cp312-manylinux_2_17_x86_64.whl";
        let dep_name = "dep-1.0-py3-none-manylinux_2_17_x86_64.whl";
        let app = wheel_of(&[
            (
                "app/_core.cpython-312-x86_64-linux-gnu.so",
                shared_object(
                    &[
                        "libdep.so.2",
                        "libcrypto-5409cd36.so.1.1.1k",
                        "libcuda.so.1",
                        "libz.so.1",
                        "libc.so.6",
                    ],
                    None,
                ),
            ),
            (
                "app.libs/libcrypto-5409cd36.so.1.1.1k",
                shared_object(&["libc.so.6"], Some("libcrypto-5409cd36.so.1.1.1k")),
            ),
            ("app/__init__.py", Vec::new()),
        ]);
        let dep = wheel_of(&[
            (
                "dep/lib/libdep.so.2",
                shared_object(&["libstdc++.so.6"], Some("libdep.so.2")),
            ),
            ("dep/__init__.py", Vec::new()),
        ]);
        let scans: BTreeMap<String, Result<WheelScan, String>> = [
            (format!("sha256-{app_name}"), Ok(scan(&app, app_name))),
            (format!("sha256-{dep_name}"), Ok(scan(&dep, dep_name))),
        ]
        .into();
        let mut target_plan: TargetPlan = serde_json::from_value(serde_json::json!({
            "system": "x86_64-linux", "python": "3.12", "python-full-version": "3.12.1",
            "platform": {}, "roots": ["app"], "packages": {}
        }))
        .unwrap();
        target_plan
            .packages
            .insert("app".into(), package(app_name, &["dep"]));
        target_plan
            .packages
            .insert("dep".into(), package(dep_name, &[]));
        let target = Target::new(NixSystem::X86_64Linux, PythonVersion::new(12));
        let table = soname_table().unwrap();
        map_target_libraries(
            &mut target_plan,
            &target,
            &scans,
            &OverrideDb::default(),
            table,
        );
        let app = &target_plan.packages["app"];
        let providers: Vec<_> = app
            .library_providers
            .iter()
            .map(|p| (p.package.as_str(), p.directory.as_str(), p.sonames.clone()))
            .collect();
        assert_eq!(
            providers,
            [("dep", "dep/lib", vec!["libdep.so.2".to_string()])]
        );
        assert_eq!(app.driver_libraries, ["libcuda.so.1"]);
        assert_eq!(app.build_inputs, ["zlib"]);
        assert!(app.unknown_sonames.is_empty(), "{:?}", app.unknown_sonames);
        let dep = &target_plan.packages["dep"];
        assert_eq!(dep.build_inputs, ["stdenv.cc.cc.lib"]);
        assert!(dep.library_providers.is_empty());
    }

    /// The embedded soname table loads, and a cache entry round-trips (and is refused under
    /// another hash).
    #[test]
    fn the_table_loads_and_the_cache_round_trips() {
        assert!(soname_table().unwrap().get("libz.so.1").is_some());
        let dir = tempfile::tempdir().unwrap();
        let scan = WheelScan {
            needed: ["libcudart.so.13".to_string()].into(),
            provided: [("libtorch.so".to_string(), "torch/lib".to_string())].into(),
        };
        write_cached(Some(dir.path()), "sha256-a", &scan);
        assert_eq!(read_cached(Some(dir.path()), "sha256-a"), Some(scan));
        assert_eq!(read_cached(Some(dir.path()), "sha256-b"), None);
        let cache = KeyedCache::new(Some(dir.path()));
        std::fs::copy(
            cache.path(WHEEL_LIBRARIES, "sha256-a").unwrap(),
            cache.path(WHEEL_LIBRARIES, "sha256-b").unwrap(),
        )
        .unwrap();
        assert_eq!(read_cached(Some(dir.path()), "sha256-b"), None);
    }
}
