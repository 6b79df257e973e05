# The override database's keys as the plan carries them: `propagated-build-inputs`
# -> propagatedBuildInputs, `env` -> the derivation's `env`, `patches` -> files
# written with builtins.toFile, `build-flags` -> pypaBuildFlags after
# --skip-dependency-check; for wheels, their inputs and `env` too. Hostile
# names and texts stay data.
let
  h = import ./lib.nix;
  inherit (h) sdist wheel;
  hostileText = "''\${builtins.abort \"no\"} \" \\ $(rm -rf /) `x`\n--- a/x\n+++ b/x\n";
  plan = h.mkPlan {
    roots = [ "app" "glue" "odd" ];
    packages = {
      app = {
        version = "1.0";
        src = sdist "app-1.0.tar.gz";
        dependencies = [ ];
        build-system = [ "setuptools" ];
        propagated-build-inputs = [ "libffi" ];
        env = { APP_USE_SYSTEM = "1"; dontUseCmakeConfigure = "1"; };
        patches = [
          { name = "fix-build.patch"; text = "--- a/setup.py\n+++ b/setup.py\n"; }
          { name = "second.patch"; text = "second\n"; }
        ];
        build-flags = [ "-Csetup-args=-Dsystem-freetype=true" ];
      };
      glue = {
        version = "2.0";
        src = wheel "glue-2.0-cp311-cp311-manylinux_2_17_x86_64.whl";
        dependencies = [ ];
        native-build-inputs = [ "autoPatchelfHook" ];
        build-inputs = [ "pythonManylinuxPackages.manylinux2014" "zlib" ];
        propagated-build-inputs = [ "libGL" ];
        env = { GLUE_HOME = "/opt/glue"; };
      };
      odd = {
        version = "1.0";
        src = sdist "odd-1.0.tar.gz";
        dependencies = [ "glue" ];
        env = { WEIRD = hostileText; EMPTY = ""; };
        patches = [ { name = "../../etc/passwd x.patch"; text = hostileText; } ];
        build-flags = [ "--config-setting=a\"b" "';rm$(x)`#" ];
      };
    };
  };
  r = h.evalPlan { inherit plan; };
  args = name: r.packages.${name}.args;
in
{
  propagatedBuildInputsComeFromPkgs = {
    expr = map (d: d.name) (args "app").propagatedBuildInputs;
    expected = [ "libffi" ];
  };
  envIsTheDerivationsEnv = {
    expr = (args "app").env;
    expected = { APP_USE_SYSTEM = "1"; dontUseCmakeConfigure = "1"; };
  };
  noEnvWithoutEnv = {
    expr = (h.evalPlan { plan = h.mkPlan { roots = [ "a" ]; packages.a = { version = "1"; src = sdist "a-1.tar.gz"; dependencies = [ ]; }; }; }).packages.a.args ? env;
    expected = false;
  };
  patchesAreFilesInTheStore = {
    expr = map (p: [ (builtins.substring 0 11 p) (builtins.substring 33 200 (baseNameOf p)) ]) (args "app").patches;
    expected = [ [ "/nix/store/" "app-fix-build.patch" ] [ "/nix/store/" "app-second.patch" ] ];
  };
  patchTextIsThePlans = {
    expr = (args "app").patches;
    expected = [
      (builtins.toFile "app-fix-build.patch" "--- a/setup.py\n+++ b/setup.py\n")
      (builtins.toFile "app-second.patch" "second\n")
    ];
  };
  buildFlagsFollowSkipDependencyCheck = {
    expr = (args "app").pypaBuildFlags;
    expected = [ "--skip-dependency-check" "-Csetup-args=-Dsystem-freetype=true" ];
  };
  wheelsGetTheirInputsAndEnv = {
    expr = let a = args "glue"; in [
      (map (d: d.name) a.nativeBuildInputs)
      (map (d: d.name) a.buildInputs)
      (map (d: d.name) a.propagatedBuildInputs)
      a.env
      (a ? patches)
      (a ? pypaBuildFlags)
    ];
    expected = [
      [ "autoPatchelfHook" ]
      [ "glibc" "libstdcxx" "zlib" ]
      [ "libGL" ]
      { GLUE_HOME = "/opt/glue"; }
      false
      false
    ];
  };
  propagatedLibrariesAreNoPythonDependencies = {
    expr = r.packages.odd.dependencyNames;
    expected = [ "glue" ];
  };
  hostileEnvValuesArePlainStrings = {
    expr = (args "odd").env;
    expected = { WEIRD = hostileText; EMPTY = ""; };
  };
  hostilePatchNamesAreSanitisedAndTextsKept = {
    expr = let p = builtins.head (args "odd").patches; in [
      (builtins.substring 33 200 (baseNameOf p))
      p
    ];
    expected = [
      "odd-.._.._etc_passwd_x.patch"
      (builtins.toFile "odd-.._.._etc_passwd_x.patch" hostileText)
    ];
  };
  hostileBuildFlagsAreListItems = {
    expr = (args "odd").pypaBuildFlags;
    expected = [ "--skip-dependency-check" "--config-setting=a\"b" "';rm$(x)`#" ];
  };
  aMissingPropagatedInputIsAClearError = {
    expr = (h.evalPlan {
      plan = h.mkPlan {
        roots = [ "a" ];
        packages.a = { version = "1"; src = sdist "a-1.tar.gz"; dependencies = [ ]; propagated-build-inputs = [ "nope.lib" ]; };
      };
    }).packages.a.outPath;
    expectError = "needs propagated build input 'nope.lib', but pkgs.nope.lib does not exist";
  };
  everythingEvaluates = {
    expr = h.forceAll r;
    expected = true;
  };
}
