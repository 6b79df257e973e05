//! The libraries of Linux binary wheels, mapped: given what each wheel's shared objects need
//! from outside it and what they offer (`WheelScan`, read by the binary), decide for every
//! needed soname where it comes from, in this order:
//!
//! 1. the C library or the interpreter (`provided_by_libc`): nothing to add;
//! 2. the GPU driver (`DRIVER_LIBRARIES`): no package may provide it; it is listed in
//!    `driver-libraries`, left unresolved at build time and found at run time in the driver's
//!    directory;
//! 3. the wheel of a package in the needing package's dependency closure (the runtime edges
//!    without `cycle-breaks`): listed in `library-providers` with the directory of that
//!    package's site-packages holding it (`nvidia/cudnn/lib`). When several wheels of the
//!    closure hold the soname, NVIDIA's library wheels (`nvidia-*`, see
//!    [`is_library_distribution`]) come first, then the nearest package, then the first by
//!    name: triton bundles private copies of CUDA's profiling library
//!    (`triton/backends/nvidia/lib/cupti*/libcupti.so.13`) and torch depends on triton
//!    directly, but torch's `libcupti.so.13` is nvidia-cuda-cupti's (`nvidia/cu13/lib`),
//!    the copy torch's own RUNPATH (`$ORIGIN/../../nvidia/…`) finds;
//! 4. the package's own wheel rule in the override database (`sonames`), then the built-in
//!    soname table: a nixpkgs attribute path added to `build-inputs`;
//! 5. the package's wheel rule's `ignore-missing`: an optional part's libraries, listed in
//!    `ignored-libraries` and left unresolved at build time like the driver's;
//! 6. otherwise unknown (`unknown-sonames`), and the wheel keeps the blanket
//!    `pythonManylinuxPackages.manylinux2014`.
//!
//! Besides what the wheel links, its rule's `runpath-packages` name packages whose libraries
//! it opens at run time through RUNPATH entries relative to itself (TensorFlow's
//! `$ORIGIN/../nvidia/cublas/lib`): every library directory of those packages' wheels in its
//! dependency closure is listed in `runpath-providers`, to be appended to its RUNPATH.
//!
//! Pure: the binary downloads and reads the wheels (`crates/py2nix/src/elf.rs`).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use py2nix_overrides::{ArtifactKind, OverrideDb, SonameTable};

use crate::plan::{LibraryProvider, PackagePlan, RunpathProvider, SourcePlan, TargetPlan};
use crate::target::{LinuxLibc, Target};

/// The blanket input of glibc wheels whose libraries are not all known.
pub const MANYLINUX: &str = "pythonManylinuxPackages.manylinux2014";

/// The GPU driver's user-space libraries: installed with the kernel driver, matching it, never
/// by a package (on NixOS in `/run/opengl-driver/lib`, nixpkgs' `addDriverRunpath.driverLink`).
pub const DRIVER_LIBRARIES: &[&str] = &[
    "libcuda.so",
    "libcuda.so.1",
    "libcudadebugger.so.1",
    "libnvcuvid.so.1",
    "libnvidia-encode.so.1",
    "libnvidia-ml.so.1",
    "libnvidia-opticalflow.so.1",
    "libnvidia-ptxjitcompiler.so.1",
];

/// At most this many `needs …` warnings per package; the rest are summed up in one.
const MAX_SONAME_WARNINGS: usize = 10;

/// What one wheel's shared objects need from outside it and what they install.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WheelScan {
    /// Sonames needed and not bundled.
    pub needed: BTreeSet<String>,
    /// Shared objects by file name, with their directory relative to site-packages.
    pub provided: BTreeMap<String, String>,
}

/// Whether `filename` is a wheel with compiled code for Linux `target` (a manylinux,
/// musllinux or linux platform tag): the wheels whose libraries are read.
pub fn is_binary_linux_wheel(target: &Target, filename: &str) -> bool {
    target.system.is_linux() && py2nix_dist::is_linux_binary_wheel(filename)
}

/// The SRI hash of a package's source when it is a Linux binary wheel of `target`.
pub fn binary_linux_wheel_hash<'a>(target: &Target, package: &'a PackagePlan) -> Option<&'a str> {
    match &package.src {
        SourcePlan::Wheel(wheel) if is_binary_linux_wheel(target, &wheel.filename) => {
            Some(&wheel.hash)
        }
        _ => None,
    }
}

/// Whether the C library (glibc or musl) provides `soname`, or the interpreter does: no
/// wheel bundles these, and stdenv brings them. (The manylinux policies list the same glibc
/// libraries; libcrypt.so.1 is not among them, as glibc no longer builds it.)
pub fn provided_by_libc(soname: &str) -> bool {
    const GLIBC: [&str; 10] = [
        "libc.so.6",
        "libm.so.6",
        "libpthread.so.0",
        "libdl.so.2",
        "librt.so.1",
        "libutil.so.1",
        "libresolv.so.2",
        "libnsl.so.1",
        "libanl.so.1",
        "libmvec.so.1",
    ];
    GLIBC.contains(&soname)
        || soname.starts_with("ld-linux")
        || soname.starts_with("ld64.so.")
        || soname.starts_with("ld-musl-")
        || soname.starts_with("libc.musl-")
        || soname.starts_with("libpython3")
}

/// Whether `soname` is one of the GPU driver's libraries ([`DRIVER_LIBRARIES`]).
pub fn is_driver_library(soname: &str) -> bool {
    DRIVER_LIBRARIES.contains(&soname)
}

/// Whether the package `name` is one of NVIDIA's library wheels (`nvidia-cublas`,
/// `nvidia-cuda-cupti-cu12`, `nvidia-cudnn-cu13`, …): wheels published to provide the CUDA
/// libraries to other wheels, which link them where these wheels install them. Another wheel
/// holding the same soname carries a private copy for its own use, so these win a tie
/// between providers (see the module).
pub fn is_library_distribution(name: &str) -> bool {
    name.starts_with("nvidia-")
}

/// Maps the libraries of every Linux binary wheel of one target (see the module). `scans`
/// holds the wheels read, by SRI hash: what they need and provide, or why they could not be
/// read (a warning; the wheel keeps its inputs). Wheels without an entry are left alone.
pub fn map_target_libraries(
    target_plan: &mut TargetPlan,
    target: &Target,
    scans: &BTreeMap<String, Result<WheelScan, String>>,
    overrides: &OverrideDb,
    table: &SonameTable,
) {
    let runtime = decide_all(&target_plan.packages, None, target, scans, overrides, table);
    let build = decide_all(
        &target_plan.build_packages,
        Some(&target_plan.packages),
        target,
        scans,
        overrides,
        table,
    );
    for (packages, decisions) in [
        (&mut target_plan.packages, runtime),
        (&mut target_plan.build_packages, build),
    ] {
        for (name, decision) in decisions {
            if let Some(package) = packages.get_mut(&name) {
                apply(package, decision, target);
            }
        }
    }
}

/// What becomes of one wheel.
enum Decision {
    Mapped(Mapped),
    Unreadable { filename: String, problem: String },
}

#[derive(Default)]
struct Mapped {
    attributes: BTreeSet<String>,
    providers: BTreeMap<(String, String), Vec<String>>,
    driver: Vec<String>,
    ignored: Vec<String>,
    runpaths: BTreeSet<RunpathProvider>,
    unknown: Vec<String>,
}

/// The decisions for the wheels of `packages`, whose dependencies are looked up in
/// `packages`, then in `outer` (build packages lie over the runtime packages).
fn decide_all(
    packages: &BTreeMap<String, PackagePlan>,
    outer: Option<&BTreeMap<String, PackagePlan>>,
    target: &Target,
    scans: &BTreeMap<String, Result<WheelScan, String>>,
    overrides: &OverrideDb,
    table: &SonameTable,
) -> Vec<(String, Decision)> {
    let lookup = |name: &str| {
        packages
            .get(name)
            .or_else(|| outer.and_then(|outer| outer.get(name)))
    };
    let scan_of = |package: &PackagePlan| {
        binary_linux_wheel_hash(target, package).and_then(|hash| scans.get(hash))
    };
    let mut decisions = Vec::new();
    for (name, package) in packages {
        let Some(scan) = scan_of(package) else {
            continue;
        };
        let scan = match scan {
            Ok(scan) => scan,
            Err(problem) => {
                let filename = match &package.src {
                    SourcePlan::Wheel(wheel) => wheel.filename.clone(),
                    _ => name.clone(),
                };
                decisions.push((
                    name.clone(),
                    Decision::Unreadable {
                        filename,
                        problem: problem.clone(),
                    },
                ));
                continue;
            }
        };
        let closure = dependency_closure(name, package, &lookup);
        let rule = package
            .version
            .parse()
            .ok()
            .and_then(|version| overrides.lookup(name, &version, ArtifactKind::Wheel));
        let mut mapped = Mapped::default();
        for soname in &scan.needed {
            if provided_by_libc(soname) {
                continue;
            }
            if is_driver_library(soname) {
                mapped.driver.push(soname.clone());
                continue;
            }
            // The closure is ordered nearest first, then by name: the first of NVIDIA's
            // library wheels holding the soname, else the first wheel holding it.
            let holders = closure.iter().filter_map(|dependency| {
                let Some(Ok(provides)) = lookup(dependency).and_then(scan_of) else {
                    return None;
                };
                provides
                    .provided
                    .get(soname)
                    .map(|directory| (dependency.clone(), directory.clone()))
            });
            let provider =
                holders.min_by_key(|(dependency, _)| !is_library_distribution(dependency));
            if let Some(key) = provider {
                mapped
                    .providers
                    .entry(key)
                    .or_default()
                    .push(soname.clone());
                continue;
            }
            let attr = rule
                .and_then(|rule| rule.sonames.get(soname).map(String::as_str))
                .or_else(|| table.get(soname));
            match attr {
                Some(attr) => {
                    mapped.attributes.insert(attr.to_string());
                }
                None if rule.is_some_and(|rule| rule.ignore_missing.contains(soname)) => {
                    mapped.ignored.push(soname.clone());
                }
                None => mapped.unknown.push(soname.clone()),
            }
        }
        for dependency in rule.map_or(&[][..], |rule| &rule.runpath_packages[..]) {
            if !closure.contains(dependency) {
                continue;
            }
            let Some(Ok(provides)) = lookup(dependency).and_then(scan_of) else {
                continue;
            };
            for directory in provides.provided.values() {
                mapped.runpaths.insert(RunpathProvider {
                    package: dependency.clone(),
                    directory: directory.clone(),
                });
            }
        }
        decisions.push((name.clone(), Decision::Mapped(mapped)));
    }
    decisions
}

/// The packages `name` depends on, directly or not, through its runtime edges without its
/// cycle breaks (so that no provider depends on it: these edges form no cycle), nearest first
/// and by name within a distance; `name` itself is not among them.
fn dependency_closure<'a>(
    name: &str,
    package: &'a PackagePlan,
    lookup: &impl Fn(&str) -> Option<&'a PackagePlan>,
) -> Vec<String> {
    let edges = |package: &PackagePlan| -> Vec<String> {
        let mut next: Vec<String> = package
            .dependencies
            .iter()
            .filter(|dependency| !package.cycle_breaks.contains(dependency))
            .cloned()
            .collect();
        next.sort();
        next
    };
    let mut seen: BTreeSet<String> = BTreeSet::from([name.to_string()]);
    let mut order = Vec::new();
    let mut queue: VecDeque<String> = edges(package).into();
    while let Some(next) = queue.pop_front() {
        if !seen.insert(next.clone()) {
            continue;
        }
        if let Some(dependency) = lookup(&next) {
            queue.extend(edges(dependency));
        }
        order.push(next);
    }
    order
}

/// Writes a decision into the package's plan.
fn apply(package: &mut PackagePlan, decision: Decision, target: &Target) {
    let mapped = match decision {
        Decision::Unreadable { filename, problem } => {
            package.warnings.push(format!(
                "the shared objects of `{filename}` cannot be read ({problem}); its libraries are not known"
            ));
            return;
        }
        Decision::Mapped(mapped) => mapped,
    };
    if mapped.unknown.is_empty() {
        package.build_inputs.retain(|input| input != MANYLINUX);
    }
    for attr in mapped.attributes {
        if !package.build_inputs.contains(&attr) {
            package.build_inputs.push(attr);
        }
    }
    package.library_providers = mapped
        .providers
        .into_iter()
        .map(|((package, directory), sonames)| LibraryProvider {
            package,
            directory,
            sonames,
        })
        .collect();
    package.driver_libraries = mapped.driver;
    package.ignored_libraries = mapped.ignored;
    package.runpath_providers = mapped.runpaths.into_iter().collect();
    let fallback = if matches!(target.linux_libc, LinuxLibc::Glibc { .. }) {
        format!(": keeping {MANYLINUX}")
    } else {
        String::new()
    };
    for soname in mapped.unknown.iter().take(MAX_SONAME_WARNINGS) {
        package.warnings.push(format!(
            "needs {soname}, which the soname table does not map{fallback}"
        ));
    }
    if mapped.unknown.len() > MAX_SONAME_WARNINGS {
        package.warnings.push(format!(
            "needs {} more sonames the soname table does not map (all are listed in unknown-sonames)",
            mapped.unknown.len() - MAX_SONAME_WARNINGS
        ));
    }
    package.unknown_sonames = mapped.unknown;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::WheelSourcePlan;
    use crate::target::{NixSystem, PythonVersion};

    fn table() -> SonameTable {
        SonameTable::parse(
            "schema-version = 1\n[sonames]\n\"libz.so.1\" = \"zlib\"\n\"libstdc++.so.6\" = \"stdenv.cc.cc.lib\"\n\"libgcc_s.so.1\" = \"stdenv.cc.cc.lib\"\n",
        )
        .unwrap()
    }

    fn target() -> Target {
        Target::new(NixSystem::X86_64Linux, PythonVersion::new(12))
    }

    /// A binary wheel package whose hash is `sha256-<name>`, with the inputs every binary
    /// wheel gets.
    fn wheel(name: &str, dependencies: &[&str]) -> PackagePlan {
        let filename = format!(
            "{}-2.0-cp312-cp312-manylinux_2_17_x86_64.whl",
            name.replace('-', "_")
        );
        let mut plan = PackagePlan::new(
            "2.0".into(),
            SourcePlan::Wheel(WheelSourcePlan {
                url: format!("https://files.example.org/{filename}"),
                filename,
                hash: format!("sha256-{name}"),
                index: None,
            }),
            dependencies.iter().map(|d| d.to_string()).collect(),
        );
        plan.native_build_inputs = vec!["autoPatchelfHook".into()];
        plan.build_inputs = vec![MANYLINUX.into()];
        plan
    }

    fn scan(needed: &[&str], provided: &[(&str, &str)]) -> Result<WheelScan, String> {
        Ok(WheelScan {
            needed: needed.iter().map(|s| s.to_string()).collect(),
            provided: provided
                .iter()
                .map(|(name, dir)| (name.to_string(), dir.to_string()))
                .collect(),
        })
    }

    fn target_plan(packages: Vec<(&str, PackagePlan)>) -> TargetPlan {
        let mut plan: TargetPlan = serde_json::from_value(serde_json::json!({
            "system": "x86_64-linux", "python": "3.12", "python-full-version": "3.12.1",
            "platform": {}, "roots": [], "packages": {}
        }))
        .unwrap();
        plan.packages = packages
            .into_iter()
            .map(|(name, package)| (name.to_string(), package))
            .collect();
        plan
    }

    fn providers(package: &PackagePlan) -> Vec<(String, String, Vec<String>)> {
        package
            .library_providers
            .iter()
            .map(|p| (p.package.clone(), p.directory.clone(), p.sonames.clone()))
            .collect()
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    /// torch needs the CUDA runtime from the nvidia wheel it depends on (through another
    /// package), the driver's libcuda, and libstdc++ from the table; torchvision needs torch's
    /// libraries; a wheel that does not depend on the provider does not get it.
    #[test]
    fn libraries_come_from_the_closure_then_the_table_and_the_driver() {
        let mut plan = target_plan(vec![
            ("torch", wheel("torch", &["cuda-toolkit", "filelock"])),
            ("cuda-toolkit", {
                let mut p = wheel("cuda-toolkit", &["nvidia-cuda-runtime"]);
                p.src = SourcePlan::Wheel(WheelSourcePlan {
                    filename: "cuda_toolkit-13.0-py3-none-any.whl".into(),
                    url: "https://files.example.org/x.whl".into(),
                    hash: "sha256-pure".into(),
                    index: None,
                });
                p
            }),
            ("nvidia-cuda-runtime", wheel("nvidia-cuda-runtime", &[])),
            ("torchvision", wheel("torchvision", &["torch"])),
            ("filelock", wheel("filelock", &[])),
            ("other", wheel("other", &[])),
        ]);
        let scans: BTreeMap<String, Result<WheelScan, String>> = [
            (
                "torch",
                scan(
                    &[
                        "libcudart.so.13",
                        "libcuda.so.1",
                        "libstdc++.so.6",
                        "libc.so.6",
                    ],
                    &[("libtorch.so", "torch/lib"), ("libc10.so", "torch/lib")],
                ),
            ),
            (
                "nvidia-cuda-runtime",
                scan(&["libc.so.6"], &[("libcudart.so.13", "nvidia/cu13/lib")]),
            ),
            (
                "torchvision",
                scan(
                    &["libtorch.so", "libc10.so", "libz.so.1"],
                    &[("_C.so", "torchvision")],
                ),
            ),
            ("filelock", scan(&[], &[])),
            (
                "other",
                scan(&["libcudart.so.13", "libnvidia-ml.so.1"], &[]),
            ),
        ]
        .into_iter()
        .map(|(name, scan)| (format!("sha256-{name}"), scan))
        .collect();
        map_target_libraries(
            &mut plan,
            &target(),
            &scans,
            &OverrideDb::default(),
            &table(),
        );
        let torch = &plan.packages["torch"];
        assert_eq!(
            providers(torch),
            [(
                "nvidia-cuda-runtime".to_string(),
                "nvidia/cu13/lib".to_string(),
                strings(&["libcudart.so.13"])
            )]
        );
        assert_eq!(torch.driver_libraries, ["libcuda.so.1"]);
        assert_eq!(torch.build_inputs, ["stdenv.cc.cc.lib"]);
        assert!(torch.unknown_sonames.is_empty() && torch.warnings.is_empty());
        let vision = &plan.packages["torchvision"];
        assert_eq!(
            providers(vision),
            [(
                "torch".to_string(),
                "torch/lib".to_string(),
                strings(&["libc10.so", "libtorch.so"])
            )]
        );
        assert_eq!(vision.build_inputs, ["zlib"]);
        assert!(vision.driver_libraries.is_empty());
        // Not a dependency: the CUDA runtime stays unknown; the driver library is still one.
        let other = &plan.packages["other"];
        assert!(other.library_providers.is_empty());
        assert_eq!(other.unknown_sonames, ["libcudart.so.13"]);
        assert_eq!(other.driver_libraries, ["libnvidia-ml.so.1"]);
        assert_eq!(other.build_inputs, [MANYLINUX]);
        assert_eq!(
            other.warnings,
            ["needs libcudart.so.13, which the soname table does not map: keeping pythonManylinuxPackages.manylinux2014"]
        );
        // Nothing needed: no inputs at all.
        assert!(plan.packages["filelock"].build_inputs.is_empty());
    }

    /// A provider reached through a cycle break is not one (it would depend on its user), and
    /// no package provides a driver library, even one whose wheel holds a stub.
    #[test]
    fn cycle_breaks_and_driver_stubs_provide_nothing() {
        let mut a = wheel("a", &["b"]);
        a.cycle_breaks = vec!["b".into()];
        let b = wheel("b", &["a"]);
        let mut plan = target_plan(vec![("a", a), ("b", b)]);
        let scans: BTreeMap<String, Result<WheelScan, String>> = [
            ("a", scan(&["libb.so", "libcuda.so.1"], &[])),
            (
                "b",
                scan(&[], &[("libb.so", "b"), ("libcuda.so.1", "b/stubs")]),
            ),
        ]
        .into_iter()
        .map(|(name, scan)| (format!("sha256-{name}"), scan))
        .collect();
        map_target_libraries(
            &mut plan,
            &target(),
            &scans,
            &OverrideDb::default(),
            &table(),
        );
        let a = &plan.packages["a"];
        assert!(a.library_providers.is_empty());
        assert_eq!(a.unknown_sonames, ["libb.so"]);
        assert_eq!(a.driver_libraries, ["libcuda.so.1"]);
    }

    /// The nearest provider wins, then the first by name; the package's wheel rule comes
    /// before the table; warnings are capped.
    #[test]
    fn nearest_provider_rule_before_table_and_capped_warnings() {
        let mut plan = target_plan(vec![
            ("app", wheel("app", &["z-near", "a-far"])),
            ("a-far", wheel("a-far", &["deep"])),
            ("z-near", wheel("z-near", &[])),
            ("deep", wheel("deep", &[])),
        ]);
        let mut needed: Vec<String> = (0..15).map(|i| format!("libunknown{i}.so")).collect();
        needed.extend(["libx.so".to_string(), "libz.so.1".to_string()]);
        let needed: Vec<&str> = needed.iter().map(String::as_str).collect();
        let scans: BTreeMap<String, Result<WheelScan, String>> = [
            ("app", scan(&needed, &[])),
            ("a-far", scan(&[], &[])),
            ("z-near", scan(&[], &[("libx.so", "near")])),
            ("deep", scan(&[], &[("libx.so", "deep")])),
        ]
        .into_iter()
        .map(|(name, scan)| (format!("sha256-{name}"), scan))
        .collect();
        let db = OverrideDb::from_files([(
            "ap/app/override.toml",
            "schema-version = 1\n[[rule]]\napplies-to = \"wheel\"\nsonames = { \"libz.so.1\" = \"zlib-ng\" }\n",
        )])
        .unwrap();
        map_target_libraries(&mut plan, &target(), &scans, &db, &table());
        let app = &plan.packages["app"];
        assert_eq!(
            providers(app),
            [(
                "z-near".to_string(),
                "near".to_string(),
                strings(&["libx.so"])
            )]
        );
        assert_eq!(app.build_inputs, [MANYLINUX, "zlib-ng"]);
        assert_eq!(app.unknown_sonames.len(), 15);
        assert_eq!(app.warnings.len(), 11);
        assert_eq!(
            app.warnings[10],
            "needs 5 more sonames the soname table does not map (all are listed in unknown-sonames)"
        );
    }

    /// torch depends on triton directly and on nvidia-cuda-cupti through cuda-toolkit; both
    /// wheels hold libcupti.so.13: NVIDIA's library wheel provides it although it is farther.
    /// A soname only triton holds still comes from triton, and between two wheels that are
    /// not NVIDIA's the nearest wins, whatever the order of their names.
    #[test]
    fn nvidias_library_wheels_win_a_tie_between_providers() {
        let mut plan = target_plan(vec![
            (
                "torch",
                wheel("torch", &["triton", "cuda-toolkit", "a-far"]),
            ),
            ("triton", wheel("triton", &[])),
            (
                "cuda-toolkit",
                wheel("cuda-toolkit", &["nvidia-cuda-cupti"]),
            ),
            ("nvidia-cuda-cupti", wheel("nvidia-cuda-cupti", &[])),
            ("a-far", wheel("a-far", &["b-deep"])),
            ("b-deep", wheel("b-deep", &[])),
        ]);
        let scans: BTreeMap<String, Result<WheelScan, String>> = [
            (
                "torch",
                scan(&["libcupti.so.13", "libproton.so", "libshared.so"], &[]),
            ),
            (
                "triton",
                scan(
                    &[],
                    &[
                        (
                            "libcupti.so.13",
                            "triton/backends/nvidia/lib/cupti-blackwell",
                        ),
                        ("libproton.so", "triton/_C"),
                        ("libshared.so", "triton/lib"),
                    ],
                ),
            ),
            ("cuda-toolkit", scan(&[], &[])),
            (
                "nvidia-cuda-cupti",
                scan(&[], &[("libcupti.so.13", "nvidia/cu13/lib")]),
            ),
            ("a-far", scan(&[], &[])),
            ("b-deep", scan(&[], &[("libshared.so", "b/lib")])),
        ]
        .into_iter()
        .map(|(name, scan)| (format!("sha256-{name}"), scan))
        .collect();
        map_target_libraries(
            &mut plan,
            &target(),
            &scans,
            &OverrideDb::default(),
            &table(),
        );
        assert_eq!(
            providers(&plan.packages["torch"]),
            [
                (
                    "nvidia-cuda-cupti".to_string(),
                    "nvidia/cu13/lib".to_string(),
                    strings(&["libcupti.so.13"])
                ),
                (
                    "triton".to_string(),
                    "triton/_C".to_string(),
                    strings(&["libproton.so"])
                ),
                (
                    "triton".to_string(),
                    "triton/lib".to_string(),
                    strings(&["libshared.so"])
                ),
            ]
        );
        assert!(is_library_distribution("nvidia-cudnn-cu13"));
        assert!(!is_library_distribution("triton"));
        assert!(!is_library_distribution("cuda-toolkit"));
    }

    #[test]
    fn an_unreadable_wheel_keeps_its_inputs_with_a_warning() {
        let mut plan = target_plan(vec![("a", wheel("a", &[]))]);
        let scans = BTreeMap::from([("sha256-a".to_string(), Err("truncated".to_string()))]);
        map_target_libraries(
            &mut plan,
            &target(),
            &scans,
            &OverrideDb::default(),
            &table(),
        );
        let a = &plan.packages["a"];
        assert_eq!(a.build_inputs, [MANYLINUX]);
        assert_eq!(
            a.warnings,
            ["the shared objects of `a-2.0-cp312-cp312-manylinux_2_17_x86_64.whl` cannot be read (truncated); its libraries are not known"]
        );
    }

    /// A wheel rule's `ignore-missing` sonames are left missing (not unknown, so the blanket
    /// input goes), and its `runpath-packages` give every library directory of those
    /// packages' wheels in the closure, and only those: not a package outside the closure,
    /// not a wheel that is not named.
    #[test]
    fn ignored_libraries_and_runpath_packages_come_from_the_wheel_rule() {
        let mut plan = target_plan(vec![
            ("tf", wheel("tf", &["cuda-extra", "numpy"])),
            (
                "cuda-extra",
                wheel("cuda-extra", &["nvidia-cublas-cu12", "nvidia-cudnn-cu12"]),
            ),
            ("nvidia-cublas-cu12", wheel("nvidia-cublas-cu12", &[])),
            ("nvidia-cudnn-cu12", wheel("nvidia-cudnn-cu12", &[])),
            ("nvidia-nccl-cu12", wheel("nvidia-nccl-cu12", &[])),
            ("numpy", wheel("numpy", &[])),
            ("other", wheel("other", &["nvidia-cublas-cu12"])),
        ]);
        let scans: BTreeMap<String, Result<WheelScan, String>> = [
            ("tf", scan(&["libstdc++.so.6", "libnvinfer.so.10"], &[])),
            ("cuda-extra", scan(&[], &[])),
            (
                "nvidia-cublas-cu12",
                scan(
                    &[],
                    &[
                        ("libcublas.so.12", "nvidia/cublas/lib"),
                        ("libcublasLt.so.12", "nvidia/cublas/lib"),
                    ],
                ),
            ),
            (
                "nvidia-cudnn-cu12",
                scan(&[], &[("libcudnn.so.9", "nvidia/cudnn/lib")]),
            ),
            (
                "nvidia-nccl-cu12",
                scan(&[], &[("libnccl.so.2", "nvidia/nccl/lib")]),
            ),
            (
                "numpy",
                scan(&[], &[("libscipy_openblas.so", "numpy.libs")]),
            ),
            ("other", scan(&["libnvinfer.so.10"], &[])),
        ]
        .into_iter()
        .map(|(name, scan)| (format!("sha256-{name}"), scan))
        .collect();
        let db = OverrideDb::from_files([(
            "tf/tf/override.toml",
            "schema-version = 1\n[[rule]]\napplies-to = \"wheel\"\n\
             ignore-missing = [\"libnvinfer.so.10\"]\n\
             runpath-packages = [\"nvidia-cublas-cu12\", \"nvidia-cudnn-cu12\", \"nvidia-nccl-cu12\"]\n",
        )])
        .unwrap();
        map_target_libraries(&mut plan, &target(), &scans, &db, &table());
        let tf = &plan.packages["tf"];
        assert_eq!(tf.ignored_libraries, ["libnvinfer.so.10"]);
        assert!(tf.unknown_sonames.is_empty());
        assert_eq!(tf.build_inputs, ["stdenv.cc.cc.lib"]);
        let runpaths: Vec<(&str, &str)> = tf
            .runpath_providers
            .iter()
            .map(|p| (p.package.as_str(), p.directory.as_str()))
            .collect();
        assert_eq!(
            runpaths,
            [
                ("nvidia-cublas-cu12", "nvidia/cublas/lib"),
                ("nvidia-cudnn-cu12", "nvidia/cudnn/lib"),
            ]
        );
        assert!(tf.library_providers.is_empty());
        // Without the rule, the same soname is unknown and nothing joins the RUNPATH.
        let other = &plan.packages["other"];
        assert_eq!(other.unknown_sonames, ["libnvinfer.so.10"]);
        assert!(other.ignored_libraries.is_empty() && other.runpath_providers.is_empty());
        assert_eq!(other.build_inputs, [MANYLINUX]);
    }

    #[test]
    fn the_c_library_is_not_mapped() {
        for soname in [
            "libc.so.6",
            "ld-linux-aarch64.so.1",
            "libc.musl-x86_64.so.1",
            "libpython3.11.so.1.0",
        ] {
            assert!(provided_by_libc(soname), "{soname}");
        }
        assert!(!provided_by_libc("libstdc++.so.6"));
        assert!(!provided_by_libc("libcrypt.so.1"));
    }
}
