//! The repository's `overrides/` directory, read from disk and held to every check: layout,
//! keys, rule order, patches, and the nixpkgs names of `NIXPKGS-ATTRIBUTES.md`.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use py2nix_overrides::{ArtifactKind, NixpkgsNames, OverrideDb, SonameTable, Version};

fn overrides_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../overrides")
}

/// Every file under `dir`, as `(path relative to dir, text)`; non-UTF-8 files as empty text,
/// as the binary embeds them.
fn files(dir: &Path) -> Vec<(String, String)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let relative = path.strip_prefix(root).unwrap();
                let relative = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/");
                let text = String::from_utf8(std::fs::read(&path).unwrap()).unwrap_or_default();
                out.push((relative, text));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn database() -> OverrideDb {
    OverrideDb::from_files(files(&overrides_dir())).unwrap_or_else(|e| panic!("\n{e}\n"))
}

fn sonames() -> SonameTable {
    let text = std::fs::read_to_string(overrides_dir().join("SONAMES.toml")).unwrap();
    SonameTable::parse(&text).unwrap_or_else(|e| panic!("overrides/SONAMES.toml: {}", e.join("\n")))
}

/// The soname table loads and names only listed attribute paths.
#[test]
fn the_soname_table_passes_every_check() {
    let table = sonames();
    for soname in [
        "libstdc++.so.6",
        "libz.so.1",
        "libGL.so.1",
        "libgfortran.so.5",
    ] {
        assert!(table.get(soname).is_some(), "{soname}");
    }
    let unknown = names().unknown_in_sonames(&table);
    assert!(
        unknown.is_empty(),
        "add these attribute paths of overrides/SONAMES.toml to overrides/NIXPKGS-ATTRIBUTES.md: {unknown:?}"
    );
}

/// The libraries GPU wheels link without bundling them (NVSHMEM's bootstraps and transports,
/// cuFile, mpi4py, OpenCV's Qt plugin) map to the nixpkgs packages that build those sonames.
#[test]
fn the_hpc_and_gpu_wheel_libraries_map_to_their_packages() {
    let table = sonames();
    for (soname, attr) in [
        ("libibverbs.so.1", "rdma-core"),
        ("librdmacm.so.1", "rdma-core"),
        ("libmlx5.so.1", "rdma-core"),
        ("libfabric.so.1", "libfabric"),
        ("libucp.so.0", "ucx"),
        ("libucs.so.0", "ucx"),
        ("libuct.so.0", "ucx"),
        ("libpmix.so.2", "pmix"),
        ("libmpi.so.40", "openmpi"),
        ("liboshmem.so.40", "openmpi"),
        ("libmpi.so.12", "mpich"),
        ("libXext.so.6", "libxext"),
        ("libSM.so.6", "libsm"),
        ("libICE.so.6", "libice"),
    ] {
        assert_eq!(table.get(soname), Some(attr), "{soname}");
    }
    // The GPU driver's libraries come from the host's driver, never from nixpkgs, and the
    // CUDA toolkit's from the plan's own nvidia-* wheels: the table maps none of them.
    for soname in [
        "libcuda.so.1",
        "libnvidia-ml.so.1",
        "libcudart.so.12",
        "libcublas.so.13",
    ] {
        assert_eq!(table.get(soname), None, "{soname}");
    }
}

/// The data-science entries apply where they should: PyTorch's wheels (it has no sdists) are
/// kept unstripped; DuckDB's sdists from 1.4 are CMake builds under scikit-build-core, older
/// ones have no rule (and so get the setuptools warning); PyAV links nixpkgs' FFmpeg.
#[test]
fn the_gpu_and_data_science_entries_apply_where_they_should() {
    let db = database();
    let v = |s: &str| s.parse::<Version>().unwrap();
    for name in ["torch", "torchvision", "torchaudio"] {
        let wheel = db.lookup(name, &v("2.15.0"), ArtifactKind::Wheel).unwrap();
        assert_eq!(
            wheel.env.get("dontStrip").map(String::as_str),
            Some("1"),
            "{name}"
        );
        assert!(
            db.lookup(name, &v("2.15.0"), ArtifactKind::Sdist).is_none(),
            "{name}"
        );
    }
    let duckdb = db
        .lookup("duckdb", &v("2.0.1"), ArtifactKind::Sdist)
        .unwrap();
    assert_eq!(
        duckdb.build_system,
        ["scikit-build-core", "pybind11", "setuptools-scm"]
    );
    assert_eq!(duckdb.native_build_inputs, ["cmake", "ninja"]);
    assert!(db
        .lookup("duckdb", &v("1.3.2"), ArtifactKind::Sdist)
        .is_none());
    assert!(db
        .lookup("duckdb", &v("2.0.1"), ArtifactKind::Wheel)
        .is_none());
    let av = db.lookup("av", &v("19.0.2"), ArtifactKind::Sdist).unwrap();
    assert_eq!(av.build_inputs, ["ffmpeg-headless"]);
    for name in ["opencv-python", "opencv-python-headless"] {
        let rule = db
            .lookup(name, &v("5.1.0.95"), ArtifactKind::Sdist)
            .unwrap();
        assert!(rule.build_requires_replace, "{name}");
        assert!(
            db.lookup(name, &v("5.1.0.95"), ArtifactKind::Wheel)
                .is_none(),
            "{name}"
        );
    }
}

fn names() -> NixpkgsNames {
    let text = std::fs::read_to_string(overrides_dir().join("NIXPKGS-ATTRIBUTES.md")).unwrap();
    NixpkgsNames::parse(&text).unwrap_or_else(|e| panic!("overrides/NIXPKGS-ATTRIBUTES.md: {e}"))
}

#[test]
fn the_database_passes_every_check() {
    let db = database();
    assert!(db.len() > 10, "only {} entries", db.len());
    assert!(db.contains("pillow"));
}

#[test]
fn every_nixpkgs_name_used_is_listed() {
    let unknown = names().unknown_in(&database());
    let lines: Vec<String> = unknown.iter().map(ToString::to_string).collect();
    assert!(
        lines.is_empty(),
        "add these names to overrides/NIXPKGS-ATTRIBUTES.md, with the nixpkgs file defining \
         each:\n{}",
        lines.join("\n")
    );
}

#[test]
fn every_listed_nixpkgs_name_is_used() {
    let unused = names().unused_in_all(&database(), &sonames());
    assert!(
        unused.is_empty(),
        "overrides/NIXPKGS-ATTRIBUTES.md lists names no override.toml uses; remove them:\n{}",
        unused
            .iter()
            .map(|(kind, name)| format!("{kind:?}: `{name}`"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// The published schema accepts every real file (the loader's checks are stricter, so this
/// catches a schema that is wrong, not a file).
#[test]
fn every_override_toml_fits_the_json_schema() {
    let dir = overrides_dir();
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("override.schema.json")).unwrap())
            .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let mut problems = Vec::new();
    let mut checked = 0;
    for (path, text) in files(&dir) {
        if !path.ends_with("/override.toml") {
            continue;
        }
        let value: toml::Value = toml::from_str(&text).unwrap();
        let json = serde_json::to_value(value).unwrap();
        for error in validator.iter_errors(&json) {
            problems.push(format!(
                "overrides/{path}: {error} at {}",
                error.instance_path()
            ));
        }
        checked += 1;
    }
    assert!(checked > 10);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // And it is a schema that refuses something.
    let unknown = serde_json::json!({ "schema-version": 1, "rule": [{ "build_inputs": [] }] });
    assert!(!validator.is_valid(&unknown));
    let bad_env = serde_json::json!({ "schema-version": 1, "rule": [{ "env": { "1X": "y" } }] });
    assert!(!validator.is_valid(&bad_env));
}

/// The GPU wheels that link CUDA without depending on NVIDIA's wheels map it to nixpkgs' CUDA
/// package set of the CUDA they were built for: onnxruntime-gpu (from 1.31, CUDA 13) and
/// cupy-cuda12x (CUDA 12, by its name). The soname table itself maps no CUDA soname: cuDNN's,
/// cuRAND's and NCCL's sonames are the same in CUDA 12 and 13.
#[test]
fn gpu_wheels_without_nvidia_dependencies_map_cuda_by_their_own_cuda_version() {
    let db = database();
    let v = |s: &str| s.parse::<Version>().unwrap();
    let onnx = db
        .lookup("onnxruntime-gpu", &v("1.31.1"), ArtifactKind::Wheel)
        .unwrap();
    for (soname, attr) in [
        ("libcudart.so.13", "cudaPackages_13.cuda_cudart"),
        ("libcublasLt.so.13", "cudaPackages_13.libcublas"),
        ("libcudnn.so.9", "cudaPackages_13.cudnn"),
        ("libcurand.so.10", "cudaPackages_13.libcurand"),
    ] {
        assert_eq!(onnx.sonames.get(soname).map(String::as_str), Some(attr));
    }
    // TensorRT 10 is not in nixpkgs for x86_64-linux: left unknown, not mapped to TensorRT 11.
    assert!(!onnx.sonames.contains_key("libnvinfer.so.10"));
    assert!(db
        .lookup("onnxruntime-gpu", &v("1.20.1"), ArtifactKind::Wheel)
        .is_none());
    let cupy = db
        .lookup("cupy-cuda12x", &v("14.2.0"), ArtifactKind::Wheel)
        .unwrap();
    for (soname, attr) in [
        ("libcublas.so.12", "cudaPackages_12.libcublas"),
        ("libcurand.so.10", "cudaPackages_12.libcurand"),
        ("libnccl.so.2", "cudaPackages_12.nccl"),
        ("libcutensorMg.so.2", "cudaPackages_12.libcutensor"),
    ] {
        assert_eq!(cupy.sonames.get(soname).map(String::as_str), Some(attr));
    }
    assert!(db
        .lookup("cupy-cuda12x", &v("14.2.0"), ArtifactKind::Sdist)
        .is_none());
    let table = sonames();
    for soname in [
        "libcudnn.so.9",
        "libcurand.so.10",
        "libnccl.so.2",
        "libcutensor.so.2",
    ] {
        assert_eq!(table.get(soname), None, "{soname}");
    }
}
