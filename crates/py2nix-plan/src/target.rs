//! Targets: a Nix system and a CPython version, with the marker environment and wheel
//! baselines that follow from them.

use std::fmt;
use std::str::FromStr;

use pep440_rs::Version;
use pep508_rs::{MarkerEnvironment, MarkerEnvironmentBuilder};

/// The Nix systems py2nix plans for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NixSystem {
    X86_64Linux,
    Aarch64Linux,
    X86_64Darwin,
    Aarch64Darwin,
}

impl NixSystem {
    /// All supported systems, the default set of targets.
    pub const ALL: [NixSystem; 4] = [
        NixSystem::X86_64Linux,
        NixSystem::Aarch64Linux,
        NixSystem::X86_64Darwin,
        NixSystem::Aarch64Darwin,
    ];

    /// The Nix system string, e.g. `x86_64-linux`.
    pub fn as_str(self) -> &'static str {
        match self {
            NixSystem::X86_64Linux => "x86_64-linux",
            NixSystem::Aarch64Linux => "aarch64-linux",
            NixSystem::X86_64Darwin => "x86_64-darwin",
            NixSystem::Aarch64Darwin => "aarch64-darwin",
        }
    }

    pub fn is_linux(self) -> bool {
        matches!(self, NixSystem::X86_64Linux | NixSystem::Aarch64Linux)
    }

    /// `platform.machine()` as CPython reports it on this system.
    pub fn machine(self) -> &'static str {
        match self {
            NixSystem::X86_64Linux | NixSystem::X86_64Darwin => "x86_64",
            NixSystem::Aarch64Linux => "aarch64",
            NixSystem::Aarch64Darwin => "arm64",
        }
    }
}

impl fmt::Display for NixSystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for NixSystem {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        NixSystem::ALL.into_iter().find(|system| system.as_str() == s).ok_or_else(|| {
            format!("unknown system `{s}`; expected one of x86_64-linux, aarch64-linux, x86_64-darwin, aarch64-darwin")
        })
    }
}

/// A CPython version: `3.11` picks a documented patch level for markers, `3.11.7` pins it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PythonVersion {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
}

/// The CPython minors py2nix plans for by default, when the project allows them: the ones
/// nixpkgs packages and CPython still supports.
pub const DEFAULT_PYTHON_MINORS: [u64; 4] = [11, 12, 13, 14];

/// The patch level assumed for `python_full_version` markers when only `3.X` is given:
/// a recent release of each line, close to what nixpkgs ships.
fn default_patch(minor: u64) -> u64 {
    match minor {
        8 => 20,
        9 => 23,
        10 => 19,
        11 => 14,
        12 => 12,
        13 => 9,
        _ => 0,
    }
}

impl PythonVersion {
    pub fn new(minor: u64) -> Self {
        PythonVersion {
            major: 3,
            minor,
            patch: default_patch(minor),
        }
    }

    /// `3.11`, the form Nix's `python.pythonVersion` has.
    pub fn short(&self) -> String {
        format!("{}.{}", self.major, self.minor)
    }

    pub fn full(&self) -> String {
        format!("{}.{}.{}", self.major, self.minor, self.patch)
    }

    pub fn full_version(&self) -> Version {
        Version::new([self.major, self.minor, self.patch])
    }
}

impl FromStr for PythonVersion {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("invalid Python version `{s}`; expected `3.X` or `3.X.Y`");
        let parts: Vec<u64> = s
            .split('.')
            .map(|p| p.parse().map_err(|_| bad()))
            .collect::<Result<_, _>>()?;
        match parts.as_slice() {
            [3, minor] => Ok(PythonVersion::new(*minor)),
            [3, minor, patch] => Ok(PythonVersion {
                major: 3,
                minor: *minor,
                patch: *patch,
            }),
            _ => Err(bad()),
        }
    }
}

/// Which C library Linux wheels are matched against, and its version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinuxLibc {
    Glibc { major: u16, minor: u16 },
    Musl { major: u16, minor: u16 },
}

/// glibc 2.40 is what nixpkgs has shipped since its 24.11 release.
pub const DEFAULT_GLIBC: LinuxLibc = LinuxLibc::Glibc {
    major: 2,
    minor: 40,
};
/// macOS 14 (Sonoma) is the oldest macOS Apple still supports; wheels built for it run on
/// every supported Mac. `--macos` lowers it for older machines.
pub const DEFAULT_MACOS: (u16, u16) = (14, 0);

/// One thing to plan for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub system: NixSystem,
    pub python: PythonVersion,
    pub linux_libc: LinuxLibc,
    pub macos: (u16, u16),
}

impl Target {
    pub fn new(system: NixSystem, python: PythonVersion) -> Self {
        Target {
            system,
            python,
            linux_libc: DEFAULT_GLIBC,
            macos: DEFAULT_MACOS,
        }
    }

    /// The key of this target in the plan, e.g. `x86_64-linux-cp311`.
    pub fn id(&self) -> String {
        format!(
            "{}-cp{}{}",
            self.system, self.python.major, self.python.minor
        )
    }

    /// A short human name, e.g. `x86_64-linux/3.11`.
    pub fn describe(&self) -> String {
        format!("{}/{}", self.system, self.python.short())
    }

    /// The PEP 508 environment CPython reports on this target.
    pub fn marker_environment(&self) -> MarkerEnvironment {
        let full = self.python.full();
        let short = self.python.short();
        let linux = self.system.is_linux();
        let builder = MarkerEnvironmentBuilder {
            implementation_name: "cpython",
            implementation_version: &full,
            os_name: "posix",
            platform_machine: self.system.machine(),
            platform_python_implementation: "CPython",
            platform_release: "",
            platform_system: if linux { "Linux" } else { "Darwin" },
            platform_version: "",
            python_full_version: &full,
            python_version: &short,
            sys_platform: if linux { "linux" } else { "darwin" },
        };
        // Both versions are made of digits and dots, so parsing cannot fail.
        MarkerEnvironment::try_from(builder).unwrap_or_else(|_| unreachable_environment())
    }

    /// The platform baseline, for the plan: `glibc 2.40`, `musl 1.2` or `macos 14.0`.
    pub fn platform_baseline(&self) -> (&'static str, String) {
        match (self.system.is_linux(), self.linux_libc) {
            (true, LinuxLibc::Glibc { major, minor }) => ("glibc", format!("{major}.{minor}")),
            (true, LinuxLibc::Musl { major, minor }) => ("musl", format!("{major}.{minor}")),
            (false, _) => ("macos", format!("{}.{}", self.macos.0, self.macos.1)),
        }
    }
}

#[allow(clippy::panic)]
fn unreachable_environment() -> MarkerEnvironment {
    panic!("a marker environment built from numeric versions failed to parse")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn markers_evaluate_for_the_target() {
        let target = Target::new(NixSystem::Aarch64Darwin, "3.11".parse().unwrap());
        let env = target.marker_environment();
        let yes = pep508_rs::MarkerTree::from_str(
            "sys_platform == 'darwin' and platform_machine == 'arm64' and python_version >= '3.11' and python_full_version < '3.11.99'",
        )
        .unwrap();
        assert!(yes.evaluate(&env, &[]));
        let no = pep508_rs::MarkerTree::from_str(
            "platform_system == 'Windows' or python_version < '3.11'",
        )
        .unwrap();
        assert!(!no.evaluate(&env, &[]));
        assert_eq!(target.id(), "aarch64-darwin-cp311");
    }

    #[test]
    fn python_versions_parse() {
        assert_eq!(PythonVersion::from_str("3.12.1").unwrap().full(), "3.12.1");
        assert_eq!(PythonVersion::from_str("3.11").unwrap().short(), "3.11");
        assert!(PythonVersion::from_str("2.7").is_err());
        assert!(PythonVersion::from_str("3").is_err());
        assert!(PythonVersion::from_str("3.x").is_err());
    }
}
