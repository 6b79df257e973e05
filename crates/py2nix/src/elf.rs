//! The libraries of Linux binary wheels, read: what each chosen Linux wheel with compiled
//! code needs from outside it and what it installs (its shared objects' `DT_NEEDED` and
//! `DT_SONAME`, read by `py2nix_source::WheelObjects::read`) handed to the planner, which
//! maps them (`py2nix_plan::map_target_libraries`: the C library, the GPU driver, the wheels
//! of the package's dependency closure, its wheel rule, the soname table).
//!
//! The result of a wheel (its library lists, not the wheel) is cached by its hash
//! (`wheel-libraries-v3/`), so a warm run downloads nothing.
//!
//! A cold run reads the wheels with one pool of [`WORKERS`] threads, each taking a wheel at a
//! time and reading it on its own thread. A wheel on an http(s) URL is read by range requests
//! first: its zip directory, then each shared object from its local header only as far as
//! its dynamic section and string table (the network's blocking reader over the async
//! client, `Network::open_member`). When the server does not serve ranges, or anything about
//! them fails, the wheel is downloaded whole (hash-checked as it streams) and read from
//! memory, so at most [`WORKERS`] wheels are held at once. Bytes read by ranges cannot be
//! checked against the wheel's hash (docs/security.md).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

use anyhow::anyhow;
use py2nix_index::{DirectoryStep, IndexError, RangedZip, ZipDirectory, ZipRequest};
use py2nix_overrides::{OverrideDb, SonameTable};
use py2nix_plan::{map_target_libraries, PackagePlan, Plan, SourcePlan, Target, WheelScan};
use py2nix_source::{Member, MemberSource, ObjectLimits, ObjectsInTail, WheelObjects};

use crate::cache::{KeyedCache, WHEEL_LIBRARIES};
use crate::network::{Errors, Network};
use crate::report::{Failure, Reporter};
use crate::sources::IndexChoice;

/// The threads reading wheels, each one wheel at a time: so at most this many wheels are
/// being read, and held in memory when downloaded whole, at once.
const WORKERS: usize = 8;

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
    let Prefetched { mut read, notes } = prefetched;
    for note in notes {
        reporter.explain(&note);
    }
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
        let mut notes = Vec::new();
        let result = read_all(jobs, inputs, reporter, &mut notes);
        for note in notes {
            reporter.explain(&note);
        }
        read.extend(result?);
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
/// or why they cannot be read; and what `-v` says of the reading.
#[derive(Default)]
pub struct Prefetched {
    read: BTreeMap<String, Result<WheelScan, String>>,
    notes: Vec<String>,
}

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
    let mut notes = Vec::new();
    match read_all(unique, inputs, &silent, &mut notes) {
        Ok(read) => Prefetched { read, notes },
        Err(_) => Prefetched::default(),
    }
}

/// Every job's needed sonames (or why the wheel cannot be read), from the cache or from the
/// network: [`WORKERS`] threads take the wheels one by one and read each whole on their own
/// thread (see [`scan`]), so at most that many wheels are in memory at once. `notes` gets
/// what `-v` says of it: the bytes that came, and why a wheel was downloaded whole.
fn read_all(
    jobs: BTreeMap<String, Job>,
    inputs: &Inputs,
    reporter: &Reporter,
    notes: &mut Vec<String>,
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
        "downloading the shared objects of {} Linux wheels (by range requests where the server serves them) to read the libraries they need",
        missing.len()
    ));
    let next = AtomicUsize::new(0);
    let counts = Counts::default();
    let done: Mutex<Vec<(usize, Scanned)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..WORKERS.min(missing.len()) {
            scope.spawn(|| loop {
                let position = next.fetch_add(1, Ordering::Relaxed);
                let Some(job) = missing.get(position) else {
                    break;
                };
                let scanned = scan(job, inputs, &counts);
                lock(&done).push((position, scanned));
            });
        }
    });
    notes.push(format!(
        "read {} bytes of Linux wheels by range requests and {} bytes of whole wheels",
        counts.ranges.load(Ordering::Relaxed),
        counts.whole.load(Ordering::Relaxed)
    ));
    let mut done = done.into_inner().unwrap_or_else(PoisonError::into_inner);
    done.sort_by_key(|(position, _)| *position);
    let mut errors = Errors::default();
    let mut bad = Vec::new();
    for (position, scanned) in done {
        let job = &missing[position];
        if let Some(why) = scanned.whole_because {
            notes.push(format!("`{}`: read whole: {why}", job.filename));
        }
        match scanned.read {
            Ok(Read::Scanned(scan)) => {
                out.insert(job.hash.clone(), Ok(scan));
            }
            Ok(Read::Unreadable(problem)) => {
                out.insert(job.hash.clone(), Err(problem));
            }
            Ok(Read::BadHash(message)) => bad.push(format!("`{}`: {message}", job.filename)),
            Err(error) => errors.push(error),
        }
    }
    errors.finish()?;
    if bad.is_empty() {
        Ok(out)
    } else {
        Err(Failure::Input(anyhow!(bad.join("\n"))))
    }
}

/// Bytes that came from the network.
#[derive(Default)]
struct Counts {
    /// By range requests (zip directories, shared objects' headers and data).
    ranges: AtomicU64,
    /// As whole wheels.
    whole: AtomicU64,
}

/// What became of a wheel to read, and why it was downloaded whole if it was.
struct Scanned {
    read: Result<Read, IndexError>,
    whole_because: Option<String>,
}

/// What became of a wheel read.
enum Read {
    /// What it needs and provides (cached).
    Scanned(WheelScan),
    /// Why its shared objects cannot be read.
    Unreadable(String),
    /// It is not the file the plan names.
    BadHash(String),
}

/// Reads one wheel: on an http(s) URL by range requests first ([`by_ranges`]); when the
/// server does not serve them, or anything about them fails, the whole wheel, hash-checked.
fn scan(job: &Job, inputs: &Inputs, counts: &Counts) -> Scanned {
    let request =
        crate::buildsys::download_request(&job.url, job.index.as_deref(), &job.hash, &inputs.index);
    let mut whole_because = None;
    let url = job.url.to_ascii_lowercase();
    if url.starts_with("https://") || url.starts_with("http://") {
        match by_ranges(job, &request, inputs, counts) {
            Ok(read) => {
                return Scanned {
                    read: Ok(read),
                    whole_because: None,
                }
            }
            // Under --offline nothing is downloaded, whole or not.
            Err(Whole::No(error)) => {
                return Scanned {
                    read: Err(error),
                    whole_because: None,
                }
            }
            Err(Whole::Because(why)) => whole_because = Some(why),
        }
    }
    let (url, index_name, index_url, sha256) = &request;
    let read = inputs
        .network
        .download_file(url, index_name, index_url, sha256.as_deref())
        .map(|bytes| {
            counts
                .whole
                .fetch_add(bytes.len() as u64, Ordering::Relaxed);
            // `download_file` checked a sha256 SRI hash as the wheel arrived.
            read_wheel(&bytes, job, sha256.is_some(), inputs)
        });
    Scanned {
        read,
        whole_because,
    }
}

/// Reads a wheel by range requests: its zip directory, then each shared object from its
/// local header as far as the ELF reader needs. `Err` says why the wheel is to be
/// downloaded whole instead: the server does not serve ranges, or serves them wrongly, or a
/// shared object could not be read this way (read whole, it may be, or its error is then
/// the hash-checked file's); or, under `--offline`, that it cannot be. A server that sends
/// the whole wheel instead of the first range has it read from there (hash-checked).
fn by_ranges(
    job: &Job,
    request: &(String, String, String, Option<String>),
    inputs: &Inputs,
    counts: &Counts,
) -> Result<Read, Whole> {
    let (url, index_name, index_url, sha256) = request;
    let zip_request = ZipRequest {
        url: url.clone(),
        index_name: index_name.clone(),
        index_url: index_url.clone(),
        expected_sha256: sha256.clone(),
        size: None,
    };
    let directory = inputs
        .network
        .zip_directory(&zip_request, |tail, len| {
            match WheelObjects::in_tail(tail, len, &job.filename).map_err(|e| e.0)? {
                ObjectsInTail::NeedMore { start } => Ok(DirectoryStep::NeedMore { start }),
                ObjectsInTail::Objects(objects) => Ok(DirectoryStep::Done(objects)),
            }
        })
        .map_err(|error| {
            if crate::network::is_offline_miss(&error) {
                Whole::No(error)
            } else {
                Whole::Because(error.to_string())
            }
        })?;
    let (objects, zip) = match directory {
        ZipDirectory::Ranges { listing, zip } => (listing, zip),
        ZipDirectory::Whole(bytes) => {
            counts
                .whole
                .fetch_add(bytes.len() as u64, Ordering::Relaxed);
            return Ok(read_wheel(&bytes, job, sha256.is_some(), inputs));
        }
        ZipDirectory::Unsupported(why) => return Err(Whole::Because(why.to_string())),
    };
    counts
        .ranges
        .fetch_add(zip.directory_bytes(), Ordering::Relaxed);
    let limits = ObjectLimits::default();
    let mut read = Vec::with_capacity(objects.members().len());
    for (index, member) in objects.members().iter().enumerate() {
        let mut source = RangeSource {
            network: inputs.network,
            zip: &zip,
            member,
            received: &counts.ranges,
        };
        let object = objects
            .read(index, &mut source, &limits)
            .map_err(|error| Whole::Because(error.to_string()))?;
        read.push(Ok(object));
    }
    let libraries = objects
        .finish(read)
        .map_err(|error| Whole::Because(error.to_string()))?;
    let scan = WheelScan {
        needed: libraries.needed,
        provided: libraries.provided,
    };
    write_cached(inputs.cache_root, &job.hash, &scan);
    Ok(Read::Scanned(scan))
}

/// Why a wheel was not read by ranges.
enum Whole {
    /// Download it whole: this is why.
    Because(String),
    /// Do not: nothing may be downloaded (`--offline`).
    No(IndexError),
}

/// A shared object's bytes by range requests, from its local header; each `open` a new
/// request.
struct RangeSource<'a> {
    network: &'a Network,
    zip: &'a RangedZip,
    member: &'a Member,
    received: &'a AtomicU64,
}

impl MemberSource for RangeSource<'_> {
    fn open(&mut self) -> Result<Box<dyn std::io::Read + '_>, String> {
        let reader = self
            .network
            .open_member(self.zip, self.member, self.received)
            .map_err(|error| error.to_string())?;
        Ok(Box::new(reader))
    }
}

/// Checks a downloaded wheel's hash (unless `verified`), reads what its shared objects need,
/// and caches the result.
fn read_wheel(bytes: &[u8], job: &Job, verified: bool, inputs: &Inputs) -> Read {
    if !verified {
        if let Err(message) = crate::buildsys::check_sri(bytes, &job.hash) {
            return Read::BadHash(message);
        }
    }
    match py2nix_source::wheel_libraries(bytes, &job.filename, &ObjectLimits::default()) {
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
        let read =
            py2nix_source::wheel_libraries(bytes, filename, &ObjectLimits::default()).unwrap();
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
