# Stand-ins for the nixpkgs arguments of a generated python.nix, built from
# builtins only. They copy the behaviour of nixpkgs that matters to
# nix/python-logic.nix, so that a mistake there fails a test:
#
#   fetchurl      names its output after `name` (default: the url's last
#                 part) and lets Nix itself check the name: builtins.toFile
#                 refuses what the store refuses; a leading dot, which newer
#                 Nix refuses, is refused here too. The hash must be SRI.
#                 Like nixpkgs' it takes no argument it does not know; the
#                 netrc arguments are checked (a list of variable names, a
#                 string) and kept, as every argument, in `fetcherArgs`.
#   fetchgit      pkgs.fetchgit: the url must be set, `rev` a full commit id
#                 (40 hex digits), the hash SRI; fetchSubmodules defaults to
#                 true, as in nixpkgs. Arguments kept in `fetcherArgs`.
#   buildPythonPackage
#                 refuses `pyproject` together with `format` and a call with
#                 neither (as nixpkgs' mk-python-derivation does), refuses
#                 dependencies built for another Python, computes an output
#                 path from its inputs' output paths (so a dependency cycle
#                 is an infinite recursion, as with real derivations) and the
#                 closure of Python modules (like requiredPythonModules), with
#                 the duplicate check of catchConflicts. The arguments it got
#                 are kept in `args`.
#   requiredPythonModules, hasPythonModule (python3.pkgs)
#                 nixpkgs' algorithm: the interpreter, the modules of the
#                 list, then each module's own `requiredPythonModules`
#                 (computed the same way from its propagatedBuildInputs,
#                 which end with the interpreter as in nixpkgs: here a
#                 small derivation of its own, not python3), with
#                 duplicates removed by output path (lib.unique compares
#                 derivations so), keeping the first.
#   buildEnv      python3.buildEnv: overridable (`override`) with extraLibs
#                 and requiredPythonModules as nixpkgs' wrapper.nix; the
#                 environment's output path depends on the output paths of
#                 `requiredPythonModules extraLibs`, in order, as the real
#                 environment's derivation does (its `paths`).
#   withPackages  buildEnv.override { extraLibs = f python3.pkgs; }, as
#                 nixpkgs' with-packages.nix.
#   buildPythonApplication
#                 buildPythonPackage (nixpkgs' differs only in what it
#                 propagates, which these stubs do not model).
#   mkShell       takes nixpkgs' arguments (packages, shellHook, ...; the
#                 others are kept in `args`), puts `packages` first in
#                 nativeBuildInputs as nixpkgs does, and has an output path
#                 depending on every package's and on the shellHook.
#
# Run with `nix-instantiate --readonly-mode` so that builtins.toFile only
# computes store paths.
{ system ? "x86_64-linux", pythonVersion ? "3.11" }:
let
  inherit (builtins)
    all
    attrNames
    concatStringsSep
    elem
    foldl'
    hasAttr
    isAttrs
    isList
    isString
    match
    toFile
    ;

  interpreterId = "cpython-${pythonVersion}-${system}";
  namePrefix = "python${pythonVersion}-";

  # Something in pkgs: only its name and output path matter here.
  mkPkg = name: { inherit name; outPath = toFile name "stub ${name}"; };

  isSriHash = hash: match "sha256-[A-Za-z0-9+/]{43}=" hash != null;

  fetchurl = { url, hash, name ? baseNameOf url, netrcPhase ? null, netrcImpureEnvVars ? [ ] }@args:
    assert match "https?://.+" url != null
      || throw "stub fetchurl: bad url ${url}";
    assert isSriHash hash
      || throw "stub fetchurl: not an SRI sha256 hash: ${hash}";
    assert match "[.].*" name == null
      || throw "stub fetchurl: store names may not start with a dot: ${name}";
    assert isList netrcImpureEnvVars
      && all (v: isString v && match "[A-Za-z_][A-Za-z0-9_]*" v != null) netrcImpureEnvVars
      || throw "stub fetchurl: netrcImpureEnvVars must be environment variable names";
    assert netrcPhase == null || isString netrcPhase
      || throw "stub fetchurl: netrcPhase must be a string";
    {
      inherit url hash name netrcPhase;
      impureEnvVars = netrcImpureEnvVars;
      fetcherArgs = args;
      # builtins.toFile fails on a name the store refuses.
      outPath = toFile name "fetchurl ${url} ${hash}";
    };

  fetchgit = { url, rev, hash, fetchSubmodules ? true, name ? "source" }@args:
    assert isString url && url != "" || throw "stub fetchgit: no url";
    assert match "[0-9a-f]{40}" rev != null
      || throw "stub fetchgit: not a full commit id: ${rev}";
    assert isSriHash hash
      || throw "stub fetchgit: not an SRI sha256 hash: ${hash}";
    assert builtins.isBool fetchSubmodules || throw "stub fetchgit: fetchSubmodules must be a bool";
    assert match "[.].*" name == null
      || throw "stub fetchgit: store names may not start with a dot: ${name}";
    {
      inherit url rev hash name fetchSubmodules;
      fetcherArgs = args;
      outPath = toFile name "fetchgit ${url} ${rev} ${hash}";
    };

  checkPythonModule = pname: where: d:
    if isAttrs d && d ? pythonModule && d.pythonModule != interpreterId
    then throw "stub: ${pname}: ${where} holds ${d.name} built for ${d.pythonModule}"
    else d;

  # Merge closures (name -> output path), failing on two different outputs
  # for one name when `check` is set, as pythonCatchConflictsHook would.
  mergeClosures = check: pname: foldl'
    (acc: c: foldl'
      (acc': n:
        if check && hasAttr n acc' && acc'.${n} != c.${n}
        then throw "stub: ${pname}: duplicated package in closure: ${n}"
        else acc' // { ${n} = c.${n}; })
      acc
      (attrNames c))
    { };

  formats = [ "setuptools" "pyproject" "wheel" "egg" "other" ];

  buildPythonPackage =
    { pname
    , version
    , src
    , format ? null
    , pyproject ? null
    , build-system ? [ ]
    , dependencies ? [ ]
    , nativeBuildInputs ? [ ]
    , buildInputs ? [ ]
    , propagatedBuildInputs ? [ ]
    , catchConflicts ? true
    , env ? { }
    , patches ? [ ]
    , pypaBuildFlags ? [ ]
    , ...
    }@args:
    assert (pyproject != null) -> (format == null)
      || throw "stub: ${pname}: pyproject and format are both set";
    # mkDerivation's `env`: an attribute set of strings (or booleans, numbers,
    # derivations), none of them also an argument of the derivation.
    assert isAttrs env && all (n: isString env.${n}) (attrNames env)
      || throw "stub: ${pname}: env must map names to strings";
    assert all (n: !(hasAttr n args)) (attrNames env)
      || throw "stub: ${pname}: env holds an attribute that is also a derivation argument";
    assert isList patches && all (p: builtins.isPath p || (isString p && match "/nix/store/.+" p != null)) patches
      || throw "stub: ${pname}: patches must be paths or store paths";
    assert isList pypaBuildFlags && all isString pypaBuildFlags
      || throw "stub: ${pname}: pypaBuildFlags must be a list of strings";
    let
      format' =
        if pyproject != null then (if pyproject then "pyproject" else "other")
        else if format != null then format
        else throw "stub: ${pname} does not configure a `format`";
      checkedFormat =
        if elem format' formats then format' else throw "stub: ${pname}: unknown format ${format'}";
      # Like requiredPythonModules: only Python modules among the propagated
      # inputs are dependencies; the others (libraries) are inputs.
      deps = map (checkPythonModule pname "dependencies")
        (dependencies ++ builtins.filter (d: isAttrs d && d ? pythonModule) propagatedBuildInputs);
      otherPropagated = builtins.filter (d: !(isAttrs d && d ? pythonModule)) propagatedBuildInputs;
      buildSystem = map (checkPythonModule pname "build-system") build-system;
      name = namePrefix + (args.name or "${pname}-${version}");
      hooks =
        (if checkedFormat == "pyproject" then [ "pypaBuildHook" "pythonRuntimeDepsCheckHook" ] else [ ])
        ++ (if checkedFormat == "wheel" then [ "wheelUnpackHook" ] else [ ])
        ++ (if checkedFormat != "other" then [ "pypaInstallHook" ] else [ ]);
      inputs = [ src ] ++ buildSystem ++ nativeBuildInputs ++ buildInputs ++ otherPropagated ++ deps ++ patches;
      self = {
        inherit name pname version args hooks;
        # As nixpkgs' mk-python-derivation: the propagated inputs, the
        # dependencies, then the interpreter.
        propagatedBuildInputs = propagatedBuildInputs ++ dependencies ++ [ interpreter ];
        requiredPythonModules = requiredPythonModules self.propagatedBuildInputs;
        format = checkedFormat;
        pythonModule = interpreterId;
        runsRuntimeDepsCheck = elem "pythonRuntimeDepsCheckHook" hooks
          && !(args.dontCheckRuntimeDeps or false);
        dependencyNames = map (d: d.pname) deps;
        # Like a derivation's, this path depends on every input's path.
        outPath = toFile name (concatStringsSep "\n" (map (i: "${i}") inputs));
        closure = mergeClosures catchConflicts pname
          ([ { ${pname} = self.outPath; } ] ++ map (d: d.closure) deps);
        overridePythonAttrs = f: buildPythonPackage (args // f args);
      };
    in
    self;

  mkPythonPkg = pname: buildPythonPackage {
    inherit pname;
    version = "1.0";
    format = "wheel";
    src = fetchurl {
      url = "https://example.invalid/${pname}-1.0-py3-none-any.whl";
      hash = "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    };
  };

  # The interpreter's derivation (python3 stands for it and its passthru):
  # what packages propagate and an environment links first.
  interpreter = { name = "python${pythonVersion}"; outPath = toFile "python${pythonVersion}" "stub interpreter ${interpreterId}"; };

  hasPythonModule = d: isAttrs d && d ? pythonModule && d.pythonModule == interpreterId;

  # nixpkgs' requiredPythonModules (python-packages-base.nix), its lib.unique
  # comparing by output path.
  requiredPythonModules = drvs:
    let
      modules = builtins.filter hasPythonModule drvs;
      all = [ interpreter ] ++ modules ++ builtins.concatLists (builtins.catAttrs "requiredPythonModules" modules);
    in
    (foldl'
      (acc: d: let key = "${d}"; in if elem key acc.keys then acc else { keys = acc.keys ++ [ key ]; list = acc.list ++ [ d ]; })
      { keys = [ ]; list = [ ]; }
      all).list;

  # nixpkgs' wrapper.nix as python3.buildEnv: callPackage'd, so overridable.
  mkPythonEnv = { extraLibs ? [ ], requiredPythonModules ? pythonPackages.requiredPythonModules }@envArgs:
    assert isList extraLibs || throw "stub buildEnv: extraLibs must be a list";
    let
      paths = requiredPythonModules extraLibs;
    in
    {
      type = "python-env";
      extraLibs = map (d: d.pname) extraLibs;
      # What the environment links, in its order: "python" for the interpreter.
      paths = map (d: d.pname or "python") paths;
      closure = mergeClosures true "env" (map (d: d.closure) extraLibs);
      outPath = toFile "python${pythonVersion}-env" (concatStringsSep "\n" (map (d: "${d}") paths));
      override = newArgs: mkPythonEnv (envArgs // newArgs);
    };

  pythonPackages = {
    inherit buildPythonPackage requiredPythonModules hasPythonModule;
    buildPythonApplication = buildPythonPackage;
    # nixpkgs' toPythonApplication: the same package, no longer a Python module.
    toPythonApplication = drv: drv // {
      application = true;
      overrideAttrs = f: drv // { application = true; } // f drv;
    };
    setuptools = mkPythonPkg "setuptools";
    wheel = mkPythonPkg "wheel";
    hatchling = mkPythonPkg "hatchling";
    poetry-core = mkPythonPkg "poetry-core";
    meson-python = mkPythonPkg "meson-python";
    # Forcing this would be a bug: nothing asks for it.
    flit-core = throw "stub: python3.pkgs.flit-core must not be forced";
  };

  python3 = {
    inherit pythonVersion;
    pythonModuleId = interpreterId;
    executable = "python${pythonVersion}";
    sitePackages = "lib/python${pythonVersion}/site-packages";
    pkgs = pythonPackages;
    buildEnv = mkPythonEnv { };
    withPackages = f:
      let libs = f pythonPackages;
      in
      assert isList libs || throw "stub withPackages: the function must return a list";
      python3.buildEnv.override { extraLibs = libs; };
  };

  mkShell = { name ? "nix-shell", packages ? [ ], nativeBuildInputs ? [ ], shellHook ? "", ... }@args:
    assert isList packages || throw "stub mkShell: packages must be a list";
    assert isString shellHook || throw "stub mkShell: shellHook must be a string";
    {
      inherit name shellHook args;
      nativeBuildInputs = packages ++ nativeBuildInputs;
      outPath = toFile name (concatStringsSep "\n" (map (p: "${p}") (packages ++ nativeBuildInputs)) + "\n" + shellHook);
    };

  stdenv = {
    # stdenv's compiler; `cc.cc.lib` is GCC's run-time libraries (libstdc++, libgcc_s).
    cc.cc.lib = mkPkg "gcc-lib";
    hostPlatform = { inherit system; };
    buildPlatform = { inherit system; };
    mkDerivation = throw "stub: stdenv.mkDerivation is not expected to be used";
  };

  pkgs = {
    pkg-config = mkPkg "pkg-config";
    zlib = mkPkg "zlib";
    libjpeg = mkPkg "libjpeg";
    openssl = mkPkg "openssl";
    libGL = mkPkg "libGL";
    libffi = mkPkg "libffi";
    # The other attribute paths of overrides/SONAMES.toml, for generated plans.
    gfortran.cc.lib = mkPkg "gfortran-lib";
    bzip2 = mkPkg "bzip2";
    xz = mkPkg "xz";
    libx11 = mkPkg "libx11";
    libxcb = mkPkg "libxcb";
    glib = mkPkg "glib";
    expat = mkPkg "expat";
    libuuid = mkPkg "libuuid";
    sqlite = mkPkg "sqlite";
    libxml2 = mkPkg "libxml2";
    libxslt = mkPkg "libxslt";
    libjpeg8 = mkPkg "libjpeg8";
    libpng = mkPkg "libpng";
    freetype = mkPkg "freetype";
    dbus = mkPkg "dbus";
    alsa-lib = mkPkg "alsa-lib";
    autoPatchelfHook = mkPkg "autoPatchelfHook";
    # In nixpkgs, each attribute here is a list of packages.
    pythonManylinuxPackages.manylinux2014 = [ (mkPkg "glibc") (mkPkg "libstdcxx") ];
    xorg = {
      libxcb = mkPkg "libxcb";
      # Forcing this would be a bug: nothing asks for it.
      libX11 = throw "stub: pkgs.xorg.libX11 must not be forced";
    };
    cargo = throw "stub: pkgs.cargo must not be forced";
    rustc = mkPkg "rustc";
    # nixpkgs' importCargoLock: exactly one of lockFile and lockFileContents,
    # outputHashes for git crates; nothing else is accepted.
    rustPlatform = {
      importCargoLock = { lockFile ? null, lockFileContents ? null, outputHashes ? { }, allowBuiltinFetchGit ? false, extraRegistries ? { } }@args:
        assert (lockFile == null) != (lockFileContents == null)
          || throw "stub importCargoLock: give exactly one of lockFile and lockFileContents";
        assert isAttrs outputHashes && all (n: isSriHash outputHashes.${n}) (attrNames outputHashes)
          || throw "stub importCargoLock: outputHashes must map names to SRI hashes";
        mkPkg "cargo-vendor-dir" // { inherit args; };
      cargoSetupHook = mkPkg "cargoSetupHook";
    };
    inherit stdenv fetchurl fetchgit python3 mkShell;
    # trivial-builders' runCommand: the script decides the output.
    runCommand = name: env: script:
      assert isString script || throw "stub runCommand: the script must be a string";
      { inherit name env script; outPath = toFile name script; };
  };
in
{
  inherit pkgs stdenv fetchurl fetchgit python3;
  # The four arguments of a generated python.nix.
  args = { inherit pkgs stdenv fetchurl python3; };
}
