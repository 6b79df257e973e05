//! The GPU fixtures (`fixtures/gpu/torch-cuda`: torch, torchvision and JAX with their CUDA
//! wheels; `fixtures/gpu/data-science`: the same with ONNX Runtime, OpenCV, Arrow and
//! scikit-learn; both locked by uv): their x86_64-linux plans, made from the wheels' library
//! lists recorded in `wheel-libraries.json` (loaded into the cache, so that no wheel is
//! downloaded), find every library the CUDA wheels need in the wheels they depend on, in the
//! driver, bundled or in the soname table.

use std::collections::BTreeMap;
use std::path::Path;

use sha2::Digest;

use crate::common::{ok, repo_root, sri_to_hex, IndexServer, Mode};

/// One wheel's recorded library lists, keyed in the file by the wheel's sha256 (hex).
#[derive(serde::Deserialize)]
struct Recorded {
    needed: Vec<String>,
    provided: BTreeMap<String, String>,
}

/// Writes the recorded lists into `cache` as py2nix's wheel-library cache entries.
fn load_recorded(dir: &Path, cache: &Path) -> usize {
    let text = std::fs::read_to_string(dir.join("wheel-libraries.json")).expect("recorded lists");
    let recorded: BTreeMap<String, Recorded> = serde_json::from_str(&text).expect("JSON");
    let entries = cache.join("wheel-libraries-v3");
    std::fs::create_dir_all(&entries).expect("cache dir");
    for (sha256, lists) in &recorded {
        let digest: Vec<u8> = (0..sha256.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&sha256[i..i + 2], 16).expect("hex"))
            .collect();
        let sri = format!(
            "sha256-{}",
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, digest)
        );
        let key: String = sha2::Sha256::digest(sri.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let entry = serde_json::json!({
            "key": sri,
            "value": { "needed": lists.needed, "provided": lists.provided },
        });
        std::fs::write(entries.join(format!("{key}.json")), entry.to_string()).expect("write");
    }
    recorded.len()
}

/// The x86_64-linux/3.12 plan (or python.nix) of the GPU fixture `fixture`, with its wheels'
/// library lists taken from its recorded `wheel-libraries.json`.
fn plan_json(format: &str) -> String {
    fixture_plan("torch-cuda", format)
}

fn fixture_plan(fixture: &str, format: &str) -> String {
    let dir = repo_root().join("fixtures/gpu").join(fixture);
    let server = IndexServer::start(Mode::Html);
    let cache = tempfile::tempdir().expect("tempdir");
    assert!(load_recorded(&dir, cache.path()) > 0);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_py2nix"))
        .args([
            "lock",
            dir.to_str().expect("utf-8"),
            "--system",
            "x86_64-linux",
            "--python",
            "3.12",
            "--format",
            format,
            "-v",
        ])
        .env("PY2NIX_INDEX_URL", &server.url)
        .env("PY2NIX_CACHE_DIR", cache.path())
        .env_remove("XDG_CACHE_HOME")
        // A wheel missing from the recorded lists would be downloaded from the real index:
        // fail fast instead.
        .env("HTTPS_PROXY", "http://127.0.0.1:9")
        .env("https_proxy", "http://127.0.0.1:9")
        .env("PY2NIX_HTTP_RETRIES", "0")
        .output()
        .expect("run py2nix");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        !stderr.contains("downloading"),
        "a wheel's libraries are not recorded:\n{stderr}"
    );
    // RAPIDS' wheels open the driver with dlopen (through cuda-bindings) and link none of it.
    if fixture != "rapids" {
        assert!(
            stderr.contains("need libcuda.so.1 from the GPU driver"),
            "-v names the driver libraries:\n{stderr}"
        );
    }
    ok(&output)
}

#[test]
fn the_cuda_wheels_find_their_libraries_in_the_plan() {
    let json = plan_json("json");
    crate::common::assert_fits_the_plan_schema("gpu/torch-cuda", &json);
    let plan: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    let packages = plan["targets"]["x86_64-linux-cp312"]["packages"]
        .as_object()
        .expect("packages");
    let mut unknown = Vec::new();
    for (name, package) in packages {
        for soname in package["unknown-sonames"].as_array().into_iter().flatten() {
            unknown.push(format!("{name}: {soname}"));
        }
    }
    // Every library is found: in a wheel of the plan, the soname table (the HPC libraries
    // of nvshmem and cufile included) or the GPU driver.
    assert!(unknown.is_empty(), "unknown sonames:\n{unknown:#?}");
    let providers = |name: &str| -> Vec<(String, String)> {
        packages[name]["library-providers"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| {
                (
                    p["package"].as_str().unwrap_or_default().to_string(),
                    p["directory"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    };
    assert!(providers("torchvision").contains(&("torch".to_string(), "torch/lib".to_string())));
    assert!(
        providers("torch")
            .iter()
            .any(|(package, dir)| package.starts_with("nvidia-") && dir.starts_with("nvidia/")),
        "{:?}",
        providers("torch")
    );
    // triton bundles a copy of libcupti.so.13 and is nearer to torch than
    // nvidia-cuda-cupti (through cuda-toolkit); NVIDIA's library wheel provides it.
    assert!(
        packages["torch"]["library-providers"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|p| p["package"] == "nvidia-cuda-cupti"
                && p["sonames"] == serde_json::json!(["libcupti.so.13"])),
        "{:?}",
        providers("torch")
    );
    assert!(!providers("torch")
        .iter()
        .any(|(package, _)| package == "triton"));
    assert_eq!(
        packages["torch"]["driver-libraries"],
        serde_json::json!(["libcuda.so.1"])
    );
    insta::assert_snapshot!(
        "gpu-torch-cuda-plan",
        crate::common::mask_overrides_hash(&json)
    );
}

/// A fixture's python.nix without the logic it ends with (the same text in every file).
fn python_nix_head(fixture: &str) -> String {
    let nix = fixture_plan(fixture, "nix");
    let logic = std::fs::read_to_string(repo_root().join("nix/python-logic.nix")).expect("logic");
    let tail = format!(
        "in\n(\n{}\n) {{ inherit plan pkgs stdenv fetchurl python3; root = ./.; }}\n",
        logic.trim_end()
    );
    let head = nix
        .strip_suffix(&tail)
        .expect("python.nix ends with the logic");
    crate::common::mask_overrides_hash(head)
}

#[test]
fn the_cuda_fixtures_python_nix_is_a_reviewed_snapshot() {
    insta::assert_snapshot!("gpu-torch-cuda-nix", python_nix_head("torch-cuda"));
}

/// The data-science fixture's python.nix: onnxruntime-gpu's CUDA 13 inputs from
/// cudaPackages_13, torch's providers (nvidia-cuda-cupti's libcupti, not triton's copy).
#[test]
fn the_data_science_python_nix_is_a_reviewed_snapshot() {
    let head = python_nix_head("data-science");
    assert!(head.contains("cudaPackages_13.cuda_cudart"), "{head}");
    insta::assert_snapshot!("gpu-data-science-nix", head);
}

/// A uv project whose one dependency (nvidia-nvjitlink, from the GPU fixture's index pages) is
/// locked with its x86_64 Linux wheel only; `required` is its required environments.
fn linux_only_project(required: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let (tool, markers) = match required {
        Some(marker) => (
            format!("\n[tool.uv]\nrequired-environments = [\"{marker}\"]\n"),
            format!("required-markers = [\"{marker}\"]\n"),
        ),
        None => (String::new(), String::new()),
    };
    let pyproject = format!(
        "[project]\nname = \"app\"\nversion = \"0.1.0\"\nrequires-python = \"==3.12.*\"\n\
         dependencies = [\"nvidia-nvjitlink\"]\n{tool}"
    );
    std::fs::write(dir.path().join("pyproject.toml"), pyproject).expect("write");
    let fixture = std::fs::read_to_string(repo_root().join("fixtures/gpu/torch-cuda/uv.lock"))
        .expect("fixture lock");
    let wheel = fixture
        .lines()
        .find(|line| line.contains("nvidia_nvjitlink-13.5.37-py3-none-manylinux2010_x86_64"))
        .expect("the x86_64 wheel of nvidia-nvjitlink");
    let lock = format!(
        "version = 1\nrevision = 5\nrequires-python = \"==3.12.*\"\n{markers}\n\
         [[package]]\nname = \"app\"\nversion = \"0.1.0\"\nsource = {{ virtual = \".\" }}\n\
         dependencies = [\n    {{ name = \"nvidia-nvjitlink\" }},\n]\n\n\
         [package.metadata]\nrequires-dist = [{{ name = \"nvidia-nvjitlink\" }}]\n\n\
         [[package]]\nname = \"nvidia-nvjitlink\"\nversion = \"13.5.37\"\n\
         source = {{ registry = \"https://pypi.org/simple\" }}\nwheels = [\n{wheel}\n]\n"
    );
    std::fs::write(dir.path().join("uv.lock"), lock).expect("write");
    dir
}

/// uv's `required-environments`: with them, a default target outside them that a package has
/// no file for (darwin, aarch64-linux) is left out with a warning and the required one is
/// planned; without them the same lock fails on those targets, naming them.
#[test]
fn targets_outside_the_required_environments_without_files_are_left_out() {
    let server = IndexServer::start(Mode::Html);
    let recorded = repo_root().join("fixtures/gpu/torch-cuda");
    let run = |project: &Path| {
        let cache = tempfile::tempdir().expect("tempdir");
        assert!(load_recorded(&recorded, cache.path()) > 0);
        std::process::Command::new(env!("CARGO_BIN_EXE_py2nix"))
            .args(["lock", project.to_str().expect("utf-8"), "--python", "3.12"])
            .args(["--format", "json", "--frozen"])
            .env("PY2NIX_INDEX_URL", &server.url)
            .env("PY2NIX_CACHE_DIR", cache.path())
            .env_remove("XDG_CACHE_HOME")
            .env("HTTPS_PROXY", "http://127.0.0.1:9")
            .env("https_proxy", "http://127.0.0.1:9")
            .env("PY2NIX_HTTP_RETRIES", "0")
            .output()
            .expect("run py2nix")
    };
    let required = linux_only_project(Some(
        "sys_platform == 'linux' and platform_machine == 'x86_64'",
    ));
    let output = run(required.path());
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let plan: serde_json::Value = serde_json::from_str(&ok(&output)).expect("JSON");
    let targets: Vec<&String> = plan["targets"]
        .as_object()
        .expect("targets")
        .keys()
        .collect();
    assert_eq!(targets, ["x86_64-linux-cp312"], "{stderr}");
    for left_out in [
        "aarch64-linux-cp312",
        "x86_64-darwin-cp312",
        "aarch64-darwin-cp312",
    ] {
        assert!(
            stderr.contains(&format!(
                "not planning {left_out}: it is outside the lock's required environments"
            )),
            "{left_out}:\n{stderr}"
        );
    }
    assert!(plan["targets"]["x86_64-linux-cp312"]["packages"]["nvidia-nvjitlink"].is_object());

    let unrequired = linux_only_project(None);
    let output = run(unrequired.path());
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(output.stdout.is_empty());
    assert!(
        stderr.contains("nvidia-nvjitlink") && stderr.contains("darwin"),
        "{stderr}"
    );
}

/// A list of strings in a plan, in its order (absent: empty).
fn strings(value: &serde_json::Value) -> Vec<String> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| s.as_str().expect("string").to_string())
        .collect()
}

/// Checks that every library each Linux wheel of `fixture`'s x86_64-linux/3.12 plan needs, as
/// recorded, comes from the C library, the wheel itself, a provider of its closure (which
/// really holds it, in the directory named), the GPU driver, a nixpkgs attribute that the
/// package's wheel rule or the soname table maps it to and that is among its build inputs,
/// or the wheel rule's `ignore-missing` (then in the plan's `ignored-libraries`). Returns the
/// plan (JSON text), the needs none of these place (`package: soname`) and the ignored ones.
fn check_libraries(fixture: &str) -> (String, Vec<String>, Vec<String>) {
    let json = fixture_plan(fixture, "json");
    crate::common::assert_fits_the_plan_schema(&format!("gpu/{fixture}"), &json);
    let plan: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    let packages = plan["targets"]["x86_64-linux-cp312"]["packages"]
        .as_object()
        .expect("packages");
    let dir = repo_root().join("fixtures/gpu").join(fixture);
    let recorded: BTreeMap<String, Recorded> = serde_json::from_str(
        &std::fs::read_to_string(dir.join("wheel-libraries.json")).expect("recorded lists"),
    )
    .expect("JSON");
    let overrides = repo_root().join("overrides");
    let table = py2nix_overrides::SonameTable::parse(
        &std::fs::read_to_string(overrides.join("SONAMES.toml")).expect("SONAMES.toml"),
    )
    .expect("soname table");
    let mut unknown = Vec::new();
    let mut ignored = Vec::new();
    let mut checked = 0;
    for (name, package) in packages {
        let Some(lists) = package["src"]["hash"]
            .as_str()
            .and_then(|sri| recorded.get(&sri_to_hex(sri)))
        else {
            continue;
        };
        checked += 1;
        let version: py2nix_overrides::Version = package["version"]
            .as_str()
            .expect("version")
            .parse()
            .expect("PEP 440");
        let entry = overrides
            .join(py2nix_overrides::shard(name))
            .join(name)
            .join("override.toml");
        let db = match std::fs::read_to_string(&entry) {
            Ok(text) => py2nix_overrides::OverrideDb::from_files([(
                format!("{}/{name}/override.toml", py2nix_overrides::shard(name)),
                text,
            )])
            .expect("entry"),
            Err(_) => py2nix_overrides::OverrideDb::default(),
        };
        let rule = db.lookup(name, &version, py2nix_overrides::ArtifactKind::Wheel);
        let inputs = strings(&package["build-inputs"]);
        let driver = strings(&package["driver-libraries"]);
        let unknown_here = strings(&package["unknown-sonames"]);
        let ignored_here = strings(&package["ignored-libraries"]);
        for soname in &lists.needed {
            if py2nix_plan::provided_by_libc(soname) || lists.provided.contains_key(soname) {
                continue;
            }
            let provider = package["library-providers"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|p| strings(&p["sonames"]).contains(soname));
            if let Some(provider) = provider {
                let by = provider["package"].as_str().expect("package");
                let holder =
                    &recorded[&sri_to_hex(packages[by]["src"]["hash"].as_str().expect("hash"))];
                assert_eq!(
                    holder.provided.get(soname).map(String::as_str),
                    provider["directory"].as_str(),
                    "{name}: {soname} from {by}"
                );
                continue;
            }
            if driver.contains(soname) {
                continue;
            }
            if rule.is_some_and(|rule| rule.ignore_missing.contains(soname)) {
                assert!(ignored_here.contains(soname), "{name}: {soname}");
                ignored.push(format!("{name}: {soname}"));
                continue;
            }
            let attr = rule
                .and_then(|rule| rule.sonames.get(soname).map(String::as_str))
                .or_else(|| table.get(soname));
            match attr {
                Some(attr) => assert!(
                    inputs.iter().any(|input| input == attr),
                    "{name}: {soname} maps to {attr}, not in {inputs:?}"
                ),
                None => {
                    assert!(unknown_here.contains(soname), "{name}: {soname}");
                    unknown.push(format!("{name}: {soname}"));
                }
            }
        }
    }
    assert_eq!(
        checked,
        recorded.len(),
        "every recorded wheel is in the plan"
    );
    (json, unknown, ignored)
}

/// The issue's own project (`fixtures/gpu/data-science`): every library each Linux wheel of its
/// x86_64-linux/3.12 plan needs, as recorded, comes from the C library, the wheel itself, a
/// provider of its closure (which really holds it, in the directory named), the GPU driver, or
/// a nixpkgs attribute that the package's wheel rule or the soname table maps it to and that
/// is among its build inputs, or one the wheel rule lets stay missing (onnxruntime-gpu's
/// TensorRT provider's TensorRT 10 libraries, which nixpkgs does not have for x86_64-linux,
/// listed in its `ignored-libraries`). Nothing is unknown.
#[test]
fn the_data_science_stack_finds_every_library() {
    let (json, unknown, ignored) = check_libraries("data-science");
    let plan: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    let packages = plan["targets"]["x86_64-linux-cp312"]["packages"]
        .as_object()
        .expect("packages");
    assert!(unknown.is_empty(), "{unknown:?}");
    assert_eq!(
        ignored,
        [
            "onnxruntime-gpu: libnvinfer.so.10",
            "onnxruntime-gpu: libnvonnxparser.so.10"
        ]
    );
    let onnx = &packages["onnxruntime-gpu"];
    assert!(onnx.get("unknown-sonames").is_none());
    assert_eq!(
        strings(&onnx["build-inputs"]),
        [
            "cudaPackages_13.cuda_cudart",
            "cudaPackages_13.cudnn",
            "cudaPackages_13.libcublas",
            "cudaPackages_13.libcurand",
            "stdenv.cc.cc.lib"
        ]
    );
    assert_eq!(strings(&onnx["driver-libraries"]), ["libcuda.so.1"]);
    // OpenCV's bundled FFmpeg and OpenBLAS stay inside its wheel.
    assert_eq!(
        strings(&packages["opencv-python-headless"]["build-inputs"]),
        ["stdenv.cc.cc.lib", "zlib"]
    );
    insta::assert_snapshot!(
        "gpu-data-science-plan",
        crate::common::mask_overrides_hash(&json)
    );
}

/// RAPIDS (`fixtures/gpu/rapids`: cuDF and cuML for CUDA 12, locked by uv): its library
/// wheels (`libcudf-cu12`, `librmm-cu12`, `libraft-cu12`, …) install their libraries under
/// `<name>/lib64` and link each other's and NVIDIA's; every need is placed, each provider from
/// the needing package's closure, and numba's optional TBB threading layer is left missing by
/// its wheel rule while its OpenMP layer gets GCC's libgomp.
#[test]
fn rapids_wheels_find_each_others_libraries() {
    let (json, unknown, ignored) = check_libraries("rapids");
    assert!(unknown.is_empty(), "{unknown:?}");
    assert_eq!(ignored, ["numba: libtbb.so.12"]);
    let plan: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    let packages = &plan["targets"]["x86_64-linux-cp312"]["packages"];
    let providers = |name: &str| -> Vec<(String, String)> {
        packages[name]["library-providers"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| {
                (
                    p["package"].as_str().expect("package").to_string(),
                    p["directory"].as_str().expect("directory").to_string(),
                )
            })
            .collect()
    };
    let pylibcudf = providers("pylibcudf-cu12");
    for expected in [
        ("libcudf-cu12", "libcudf/lib64"),
        ("librmm-cu12", "librmm/lib64"),
        ("rapids-logger", "rapids_logger/lib64"),
    ] {
        assert!(
            pylibcudf.contains(&(expected.0.to_string(), expected.1.to_string())),
            "{pylibcudf:?}"
        );
    }
    assert!(providers("libcudf-cu12").contains(&(
        "nvidia-libnvcomp-cu12".to_string(),
        "nvidia/libnvcomp/lib64".to_string()
    )));
    let numba = &packages["numba"];
    assert_eq!(
        numba["ignored-libraries"],
        serde_json::json!(["libtbb.so.12"])
    );
    assert!(numba.get("unknown-sonames").is_none());
    let inputs = numba["build-inputs"].as_array().expect("build-inputs");
    assert!(inputs.contains(&serde_json::json!("stdenv.cc.cc.lib")));
    assert!(!inputs.contains(&serde_json::json!("pythonManylinuxPackages.manylinux2014")));
}
