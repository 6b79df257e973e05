# Build systems from the plan: `build-requires` takes the build system from
# the target's `build-packages` (then `packages`), built by the same logic;
# `cargo` gives cargoDeps from importCargoLock.
let
  h = import ./lib.nix;
  inherit (h) sdist wheel;
  plan = {
    schema = 1;
    generator = "py2nix 0.1.0";
    targets.x86_64-linux-311 = {
      system = "x86_64-linux";
      python = "3.11";
      roots = [ "app" "rusty" ];
      packages = {
        app = { version = "1.0"; src = sdist "app-1.0.tar.gz"; dependencies = [ "packaging" ];
                build-system = [ "setuptools" ]; build-requires = [ "packaging" "setuptools" ]; };
        packaging = { version = "24.0"; src = wheel "packaging-24.0-py3-none-any.whl"; dependencies = [ ]; };
        rusty = { version = "0.1"; src = sdist "rusty-0.1.tar.gz"; dependencies = [ ];
                  build-system = [ "setuptools" ]; build-requires = [ "maturin" ];
                  cargo = { lock = "version = 3\n"; root = "rust"; crates = [ ];
                            git-hashes = { "pyo3-0.22.0" = h.fakeHash "P"; }; }; };
        old = { version = "1.0"; src = sdist "old-1.0.tar.gz"; dependencies = [ ]; build-system = [ "hatchling" ]; };
      };
      build-packages = {
        setuptools = { version = "80.0"; src = wheel "setuptools-80.0-py3-none-any.whl"; dependencies = [ "packaging" ]; };
        maturin = { version = "1.8"; src = wheel "maturin-1.8-py3-none-manylinux_2_17_x86_64.whl"; dependencies = [ ];
                    native-build-inputs = [ "autoPatchelfHook" ]; };
      };
    };
  };
  r = h.evalPlan { inherit plan; };
  args = name: r.packages.${name}.args;
in
{
  buildRequiresComeFromThePlan = {
    expr = map (d: "${d.pname}-${d.version}") (args "app").build-system;
    expected = [ "packaging-24.0" "setuptools-80.0" ];
  };
  buildPackagesAreBuiltFromTheirWheels = {
    expr = let s = builtins.elemAt (args "app").build-system 1; in [ s.format s.dependencyNames s.args.src.url ];
    expected = [ "wheel" [ "packaging" ] (h.urlFor "setuptools-80.0-py3-none-any.whl") ];
  };
  withoutBuildRequiresNixpkgsNamesAreUsed = {
    expr = map (d: d.pname) (args "old").build-system;
    expected = [ "hatchling" ];
  };
  cargoDepsFromTheLock = {
    expr = let a = args "rusty"; in [ a.cargoDeps.args.lockFileContents a.cargoDeps.args.outputHashes a.cargoRoot ];
    expected = [ "version = 3\n" { "pyo3-0.22.0" = h.fakeHash "P"; } "rust" ];
  };
  # The Rust tools are added to the native build inputs, each once: an
  # override entry may name them already.
  rustTools =
    let
      stub = (h.stubs { system = "x86_64-linux"; pythonVersion = "3.11"; }).args;
      cargoStub = { name = "cargo"; outPath = builtins.toFile "cargo" "stub cargo"; };
      rustyWith = nativeBuildInputs:
        let
          t = plan.targets.x86_64-linux-311;
          named = h.logic (stub // {
            root = null;
            pkgs = stub.pkgs // { cargo = cargoStub; };
            plan = plan // {
              targets.x86_64-linux-311 = t // {
                packages = t.packages // {
                  rusty = t.packages.rusty // { native-build-inputs = nativeBuildInputs; };
                };
              };
            };
          });
        in
        map (d: d.name) named.packages.rusty.args.nativeBuildInputs;
    in
    {
      expr = [
        (rustyWith [ "pkg-config" ])
        (rustyWith [ "pkg-config" "cargo" "rustc" "rustPlatform.cargoSetupHook" ])
        (rustyWith [ "rustc" ])
      ];
      expected = [
        [ "pkg-config" "cargoSetupHook" "cargo" "rustc" ]
        [ "pkg-config" "cargo" "rustc" "cargoSetupHook" ]
        [ "rustc" "cargoSetupHook" "cargo" ]
      ];
    };
  noCargoDepsWithoutCargo = {
    expr = (args "app") ? cargoDeps;
    expected = false;
  };
  buildPackagesAreNotInstalled = {
    expr = builtins.sort builtins.lessThan (builtins.attrNames r.packages);
    expected = [ "app" "old" "packaging" "rusty" ];
  };
  everythingEvaluates = {
    expr = builtins.deepSeq (map (p: p.outPath) [ r.packages.app r.packages.old r.packages.packaging ]) true;
    expected = true;
  };
}
