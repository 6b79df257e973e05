//! The compatible tags of a target in priority order (PEP 425, manylinux per PEP 600 with the
//! legacy aliases, musllinux per PEP 656, macOS); wheel file names are `py2nix_dist`'s.

use std::collections::HashMap;

pub use py2nix_dist::{WheelFilename, WheelName};

use crate::target::{LinuxLibc, NixSystem, Target};

/// The tags a target's CPython accepts, best first, like `packaging.tags.sys_tags()`.
#[derive(Debug, Clone)]
pub struct TagPriorities {
    /// Each tag part's number, so that a lookup takes `&str`s and allocates nothing.
    python: HashMap<String, u32>,
    abi: HashMap<String, u32>,
    platform: HashMap<String, u32>,
    rank: HashMap<(u32, u32, u32), usize>,
}

impl TagPriorities {
    pub fn for_target(target: &Target) -> Self {
        let platforms = platform_tags(target);
        let minor = target.python.minor;
        let interpreter = format!("cp3{minor}");
        let mut priorities = TagPriorities {
            python: HashMap::new(),
            abi: HashMap::new(),
            platform: HashMap::new(),
            rank: HashMap::new(),
        };
        let mut next = 0;
        let mut push_all = |py: &str, abi: &str, plats: &[String]| {
            let py = intern(&mut priorities.python, py);
            let abi = intern(&mut priorities.abi, abi);
            for plat in plats {
                let key = (py, abi, intern(&mut priorities.platform, plat));
                priorities.rank.entry(key).or_insert(next);
                next += 1;
            }
        };
        push_all(&interpreter, &interpreter, &platforms);
        push_all(&interpreter, "abi3", &platforms);
        push_all(&interpreter, "none", &platforms);
        for older in (2..minor).rev() {
            push_all(&format!("cp3{older}"), "abi3", &platforms);
        }
        let generic = generic_python_tags(minor);
        for py in &generic {
            push_all(py, "none", &platforms);
        }
        let any = ["any".to_string()];
        push_all(&interpreter, "none", &any);
        for py in &generic {
            push_all(py, "none", &any);
        }
        priorities
    }

    /// The wheel's best rank (lower is better), or `None` if the target cannot install it.
    pub fn rank(&self, wheel: &WheelFilename) -> Option<usize> {
        let mut best = None;
        for py in &wheel.python_tags {
            for abi in &wheel.abi_tags {
                for plat in &wheel.platform_tags {
                    best = min_rank(best, self.rank_of(py, abi, plat));
                }
            }
        }
        best
    }

    /// [`TagPriorities::rank`] for a wheel name's dotted tag sets.
    pub fn rank_name(&self, wheel: &WheelName) -> Option<usize> {
        let mut best = None;
        for py in wheel.python.split('.') {
            for abi in wheel.abi.split('.') {
                for plat in wheel.platform.split('.') {
                    best = min_rank(best, self.rank_of(py, abi, plat));
                }
            }
        }
        best
    }

    fn rank_of(&self, py: &str, abi: &str, plat: &str) -> Option<usize> {
        let key = (
            *self.python.get(py)?,
            *self.abi.get(abi)?,
            *self.platform.get(plat)?,
        );
        self.rank.get(&key).copied()
    }
}

fn intern(numbers: &mut HashMap<String, u32>, part: &str) -> u32 {
    if let Some(&number) = numbers.get(part) {
        return number;
    }
    let number = numbers.len() as u32;
    numbers.insert(part.to_string(), number);
    number
}

fn min_rank(best: Option<usize>, rank: Option<usize>) -> Option<usize> {
    match (best, rank) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// `py3X`, `py3`, then `py3(X-1)` down to `py30`.
fn generic_python_tags(minor: u64) -> Vec<String> {
    let mut tags = vec![format!("py3{minor}"), "py3".to_string()];
    tags.extend((0..minor).rev().map(|m| format!("py3{m}")));
    tags
}

/// Platform tags, best first.
pub fn platform_tags(target: &Target) -> Vec<String> {
    let arch = target.system.machine();
    match target.system {
        NixSystem::X86_64Linux | NixSystem::Aarch64Linux => {
            linux_platforms(arch, target.linux_libc)
        }
        NixSystem::X86_64Darwin | NixSystem::Aarch64Darwin => mac_platforms(arch, target.macos),
    }
}

fn linux_platforms(arch: &str, libc: LinuxLibc) -> Vec<String> {
    let mut tags = Vec::new();
    match libc {
        LinuxLibc::Glibc { major: 2, minor } => {
            // manylinux1 (glibc 2.5) was defined for x86 only; other arches start at 2.17.
            let oldest = if arch == "x86_64" { 5 } else { 17 };
            for glibc_minor in (oldest..=minor).rev() {
                tags.push(format!("manylinux_2_{glibc_minor}_{arch}"));
                let legacy = match glibc_minor {
                    17 => Some("manylinux2014"),
                    12 if arch == "x86_64" => Some("manylinux2010"),
                    5 if arch == "x86_64" => Some("manylinux1"),
                    _ => None,
                };
                if let Some(legacy) = legacy {
                    tags.push(format!("{legacy}_{arch}"));
                }
            }
        }
        LinuxLibc::Glibc { .. } => {}
        LinuxLibc::Musl { major, minor } => {
            for musl_minor in (0..=minor).rev() {
                tags.push(format!("musllinux_{major}_{musl_minor}_{arch}"));
            }
        }
    }
    tags.push(format!("linux_{arch}"));
    tags
}

fn mac_binary_formats(major: u16, minor: u16, arch: &str) -> Vec<&'static str> {
    let mut formats = Vec::new();
    match arch {
        "x86_64" => {
            if (major, minor) < (10, 4) {
                return formats;
            }
            formats.extend(["x86_64", "intel", "fat64", "fat32"]);
        }
        "arm64" => formats.push("arm64"),
        _ => {}
    }
    formats.push("universal2");
    if arch == "x86_64" {
        formats.push("universal");
    }
    formats
}

fn mac_platforms(arch: &str, (major, minor): (u16, u16)) -> Vec<String> {
    let mut tags = Vec::new();
    let mut push = |maj: u16, min: u16, formats: Vec<&str>| {
        for format in formats {
            tags.push(format!("macosx_{maj}_{min}_{format}"));
        }
    };
    if major == 10 {
        for m in (0..=minor).rev() {
            push(10, m, mac_binary_formats(10, m, arch));
        }
    } else {
        for maj in (11..=major).rev() {
            push(maj, 0, mac_binary_formats(maj, 0, arch));
        }
        // macOS 11 and later run binaries built for 10.x: all formats on Intel, universal2 on Apple silicon.
        for m in (4..=16).rev() {
            let formats = if arch == "x86_64" {
                mac_binary_formats(10, m, arch)
            } else {
                vec!["universal2"]
            };
            push(10, m, formats);
        }
    }
    tags
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::PythonVersion;

    fn target(system: NixSystem, minor: u64) -> Target {
        Target::new(system, PythonVersion::new(minor))
    }

    fn rank(target: &Target, filename: &str) -> Option<usize> {
        TagPriorities::for_target(target).rank(&WheelFilename::parse(filename).unwrap())
    }

    #[test]
    fn linux_prefers_specific_over_generic() {
        let t = target(NixSystem::X86_64Linux, 11);
        let specific = rank(
            &t,
            "numpy-2.2.6-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        )
        .unwrap();
        let newer_glibc = rank(&t, "numpy-2.2.6-cp311-cp311-manylinux_2_28_x86_64.whl").unwrap();
        let abi3 = rank(&t, "cryptography-44-cp39-abi3-manylinux_2_28_x86_64.whl").unwrap();
        let pure = rank(&t, "flask-3.1.0-py3-none-any.whl").unwrap();
        assert!(newer_glibc < specific && specific < abi3 && abi3 < pure);
        assert_eq!(
            rank(&t, "numpy-2.2.6-cp312-cp312-manylinux_2_17_x86_64.whl"),
            None
        );
        assert_eq!(
            rank(&t, "numpy-2.2.6-cp311-cp311-manylinux_2_41_x86_64.whl"),
            None
        );
        assert_eq!(
            rank(&t, "numpy-2.2.6-cp311-cp311-musllinux_1_2_x86_64.whl"),
            None
        );
        assert_eq!(
            rank(&t, "numpy-2.2.6-cp311-cp311-manylinux_2_17_aarch64.whl"),
            None
        );
        assert!(rank(&t, "x-1-cp311-cp311-manylinux1_x86_64.whl").is_some());
        assert!(rank(&t, "x-1-py2.py3-none-any.whl").is_some());
        assert_eq!(rank(&t, "x-1-py2-none-any.whl"), None);
        assert_eq!(rank(&t, "x-1-cp311-cp311-win_amd64.whl"), None);
    }

    #[test]
    fn aarch64_linux_has_no_manylinux1() {
        let t = target(NixSystem::Aarch64Linux, 12);
        assert!(rank(&t, "x-1-cp312-cp312-manylinux2014_aarch64.whl").is_some());
        assert_eq!(rank(&t, "x-1-cp312-cp312-manylinux1_aarch64.whl"), None);
    }

    #[test]
    fn musl_targets_take_musllinux_only() {
        let mut t = target(NixSystem::X86_64Linux, 12);
        t.linux_libc = LinuxLibc::Musl { major: 1, minor: 2 };
        assert!(rank(&t, "x-1-cp312-cp312-musllinux_1_1_x86_64.whl").is_some());
        assert_eq!(rank(&t, "x-1-cp312-cp312-manylinux_2_17_x86_64.whl"), None);
    }

    #[test]
    fn macos_baselines() {
        let mut arm = target(NixSystem::Aarch64Darwin, 11);
        arm.macos = (11, 0);
        assert!(rank(&arm, "x-1-cp311-cp311-macosx_11_0_arm64.whl").is_some());
        assert!(rank(&arm, "x-1-cp311-cp311-macosx_10_9_universal2.whl").is_some());
        assert_eq!(rank(&arm, "x-1-cp311-cp311-macosx_10_9_x86_64.whl"), None);
        assert_eq!(rank(&arm, "x-1-cp311-cp311-macosx_14_0_arm64.whl"), None);
        let intel = target(NixSystem::X86_64Darwin, 11);
        assert!(rank(&intel, "x-1-cp311-cp311-macosx_14_0_x86_64.whl").is_some());
        assert!(rank(
            &target(NixSystem::Aarch64Darwin, 11),
            "x-1-cp311-cp311-macosx_14_0_arm64.whl"
        )
        .is_some());
        let native = rank(&intel, "x-1-cp311-cp311-macosx_10_9_x86_64.whl").unwrap();
        let universal = rank(&intel, "x-1-cp311-cp311-macosx_10_9_universal2.whl").unwrap();
        assert!(native < universal);
        assert_eq!(rank(&intel, "x-1-cp311-cp311-macosx_11_0_arm64.whl"), None);
    }
}
