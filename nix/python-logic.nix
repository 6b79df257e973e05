# py2nix: the Nix logic embedded, verbatim, in every generated python.nix.
#
# A generated file applies this lambda to the pure-data `plan` it holds, to
# the arguments `callPackage` gives it and to `root = ./.`, the directory
# holding python.nix (local `path` sources are relative to it; without it, a
# package from a local path fails with a clear error). Only `builtins` is
# used (no `lib`), so this file can be evaluated and tested without a
# nixpkgs checkout.
#
# Returned attributes (every one but `plan` is lazy, and nothing below forces
# `pkgs`, `stdenv`, `fetchurl` or `python3` until one of them is used, nor
# `pkgs.fetchgit` or `root` until a package from git or a local path, or
# `editableShellHook`, is):
#
#   plan      the plan, unchanged. Needs none of the arguments.
#   targetId  the name of the plan target selected for this machine.
#   target    the plan target whose `system` is stdenv.hostPlatform.system and
#             whose `python` is python3.pythonVersion; a clear error naming
#             the targets the file holds when there is none.
#   packages  attribute set: PEP 503 name -> derivation, one
#             python3.pkgs.buildPythonPackage per package of the target.
#   roots     list of the derivations of the target's roots.
#   env       the Python environment of the main dependencies (the target's
#             `selections.main`: what a deployment runs), without the project
#             itself. A plan from before `selections` holds one choice: all its
#             packages (a package cut out of a dependency cycle is importable
#             because the environment holds it directly). Made by `mkEnv`
#             (below), like every environment here.
#   envWith   { groups ? [ ], extras ? [ ] }: the environment of the main
#             dependencies and the named groups and extras of the project
#             (names compare like PEP 735/685 names); a group or extra the
#             plan does not hold is refused with the list of those it holds.
#   project   the project's own package (present when the plan's `project`
#             has a `package`): buildPythonPackage of its directory with its
#             pinned build system and its main dependencies.
#   app       the project as an application (python3.pkgs.toPythonApplication):
#             its scripts on bin/, wrapped with its runtime closure, and
#             meta.mainProgram when it has exactly one script (`nix run`).
#   members   attribute set: the packages built from the project's own trees
#             (the project and its workspace members), by name; present when
#             the plan's `project` names any.
#   python    python3, the interpreter the packages are built for.
#   overridePackages
#             f: { packages, roots, env, envWith, devEnv, editableShellHook,
#             project, app, members }, the same attributes rebuilt
#             with `f final prev` (an attribute set of replacement
#             derivations) laid over the package set; dependents see the
#             replacements, e.g.
#               overridePackages (final: prev: {
#                 foo = prev.foo.overridePythonAttrs (old: {
#                   buildInputs = old.buildInputs ++ [ pkgs.libffi ];
#                 });
#               })
#
#   devEnv    the environment of the main dependencies and the plan's
#             `project.dev-groups` (uv's default groups, Poetry's non-optional
#             groups, PDM's development groups), except the packages the plan
#             marks `editable` (the project and the local directories it
#             develops), which come from the working tree:
#   editableShellHook
#             shell code putting the editable packages' directories on
#             PYTHONPATH (their `src/` when `root` shows one) and their
#             scripts on PATH (run by devEnv's Python from the working tree),
#             for a development shell started in the directory holding
#             python.nix:
#               mkShell { packages = [ py.devEnv ]; shellHook = py.editableShellHook; }
#
# Environments, in linear time (internal function of the `let` below):
#
#   mkEnv packages
#             the Python environment holding `packages`, a list of derivations
#             of the package set (those of `packages`, or of the set
#             overridePackages rebuilt, replacements included): exactly the
#             derivation `python3.withPackages (_: packages)` gives (same drv
#             path), without nixpkgs' requiredPythonModules, whose nested
#             `lib.unique` over every package's closure is quadratic or worse in
#             the closure's size. It is python3.buildEnv.override with
#             `extraLibs = packages` and a `requiredPythonModules` that, when
#             the list is closed under its Python dependencies (the plan's
#             package sets are), returns what nixpkgs' returns then, the
#             interpreter and the list's modules in order, after checking
#             closure with one builtins.genericClosure over the packages'
#             propagatedBuildInputs. A list that is not closed (a replacement
#             bringing a dependency from elsewhere) gets nixpkgs' own
#             requiredPythonModules, as before. Use it for every environment
#             built from planned packages (env, devEnv, overridePackages'
#             env): `mkEnv (attrValues packages)`. A part of the set stays
#             linear when it is closed too (all the packages some roots
#             depend on, e.g. one group's); devEnv, which leaves out the
#             editable packages, is closed as long as no package it keeps
#             depends on one of them (else nixpkgs' computation decides).
#
#   Each package's own `requiredPythonModules` (what withPackages and
#   makePythonPath read from it) is likewise one genericClosure over its
#   propagated Python modules, so `python3.withPackages (_: [ p ])` on one
#   package is linear in its closure: the same set of modules as nixpkgs'
#   computation, listed breadth first (nixpkgs lists depth first).
#
# How a package is built:
#   - its source comes from the plan's `src`: `wheel` and `sdist` files with
#     fetchurl (with a netrc built from PY2NIX_INDEX_<NAME>_USERNAME and
#     _PASSWORD in the Nix daemon's environment when `src.index` names an
#     index that needs credentials; <NAME> is the index name upper-cased,
#     every other character than an ASCII letter or digit made "_"; only
#     files on the index's origin carry `src.index`), `git` checkouts with
#     pkgs.fetchgit (with a netrc built likewise from
#     PY2NIX_GIT_<HOST>_USERNAME and _PASSWORD when `src.credentials` names
#     the host of a repository whose lock URL carried credentials), and
#     `path` sources (a wheel, an sdist or
#     a source tree) copied with builtins.path from `root`; a source tree
#     leaves out version-control and tool directories (.git, .venv,
#     __pycache__, .tox, ...), bytecode, `result` links and, at its top, the
#     Nix files (python.nix, flake.nix) and flake.lock, so that it is rebuilt
#     only when its sources change; a project in a `subdirectory` of a
#     checkout or archive is built from there;
#   - a file (fetched, or a local wheel or sdist) gets the file's exact name
#     as its store name when the store accepts it: the wheel unpack hook copies the wheel
#     under its store name (hash stripped) and the installer reads the name,
#     version and tags from that file name. Other names are sanitised (the
#     extension is kept) and a wheel is then copied under its real name by
#     an unpack phase of our own;
#   - a wheel is installed as is (format = "wheel"); an sdist, a git
#     checkout or a source tree is built with the PEP 517 hooks
#     (pyproject = true). Its build system is its own build environment,
#     the plan's `build-closure` (else, in older plans, `build-requires`):
#     keys of the target's own `build-packages`, else names of `packages`
#     (built like any other package of the plan, in a second fixed point
#     that sees the first; each build package once, whichever environments
#     share it); without either, its
#     `build-system` names taken from python3.pkgs (setuptools when the
#     plan names none: the PEP 517 fallback for a project without a
#     build-system table). The versions of the build requirements are not
#     checked (the nixpkgs ones need not meet the project's pins);
#   - an sdist with a `cargo` entry gets `cargoDeps` from
#     rustPlatform.importCargoLock (the crates the plan lists, fetched by
#     URL and checked by hash; git crates by `git-hashes`), `cargoRoot`
#     when Cargo.lock is not at the top, and rustPlatform.cargoSetupHook,
#     cargo and rustc as native build inputs (each once);
#   - `native-build-inputs`, `build-inputs` and `propagated-build-inputs`
#     are dotted attribute paths into pkgs ("xorg.libxcb"); a path naming a
#     list of packages (as "pythonManylinuxPackages.manylinux2014" does)
#     contributes each of them; `env` becomes the derivation's `env` (plain
#     strings);
#   - a Linux wheel's `library-providers` (libraries other wheels of its
#     dependency closure install) become build inputs, and a preFixup adds
#     each providing directory of their site-packages to autoPatchelf's
#     search path; its `driver-libraries` (the GPU driver's) become
#     autoPatchelfIgnoreMissingDeps, with the driver's directory
#     (addDriverRunpath.driverLink, /run/opengl-driver) appended to the
#     runpath (appendRunpaths); its `ignored-libraries` join
#     autoPatchelfIgnoreMissingDeps, and its `runpath-providers` (library
#     directories of packages in its closure that it opens at run time) are
#     appended to the runpath before the driver's directory;
#   - a package built from source gets the plan's `patches` (each one's text
#     written to the store with builtins.toFile) and its `build-flags`
#     after --skip-dependency-check in pypaBuildFlags (a flag holding
#     whitespace is an error: nixpkgs' hook would split it);
#   - runtime `dependencies` are the plan's, minus `cycle-breaks`, taken
#     from the same package set (a fixed point, so dependents get the very
#     derivations of `packages`); a package with cycle breaks skips the
#     runtime-dependency check, which would miss the dependencies left out;
#   - tests are not run.
{ plan, pkgs, stdenv, fetchurl, python3, root ? null }:
let
  inherit (builtins)
    attrNames
    attrValues
    concatStringsSep
    elem
    filter
    foldl'
    genList
    hasAttr
    head
    isAttrs
    isList
    isString
    mapAttrs
    match
    replaceStrings
    split
    stringLength
    substring
    ;

  # ---------------------------------------------------------------- names

  # What the store accepts in a path's name (and the name may not start with
  # a dot), and at most 207 characters: the store takes 211, but mkDerivation
  # (so fetchurl) keeps only the last 207 of a longer name
  # (lib.strings.sanitizeDerivationName), which would cut a wheel's name.
  storeNameMaxLength = 207;
  isStoreSafe = s:
    match "[A-Za-z0-9+_?=-][A-Za-z0-9+._?=-]*" s != null
    && stringLength s <= storeNameMaxLength;

  # Replace every character the store refuses by "_", never start with a dot
  # and keep a too long name's beginning and its end (where the extension
  # is, which the unpacker and the unzip check look at).
  sanitiseName = s:
    let
      replaced = concatStringsSep ""
        (map (x: if isList x then "_" else x) (split "[^A-Za-z0-9+._?=-]" s));
      undotted =
        if replaced == "" then "source"
        else if substring 0 1 replaced == "." then "_" + replaced
        else replaced;
      len = stringLength undotted;
      tailLength = 60;
    in
    if len <= storeNameMaxLength then undotted
    else substring 0 (storeNameMaxLength - tailLength) undotted
      + substring (len - tailLength) tailLength undotted;

  storeName = s: if isStoreSafe s then s else sanitiseName s;

  shellQuote = s: "'" + replaceStrings [ "'" ] [ "'\\''" ] s + "'";

  # ---------------------------------------------------------------- credentials

  lowerChars = [ "a" "b" "c" "d" "e" "f" "g" "h" "i" "j" "k" "l" "m" "n" "o" "p" "q" "r" "s" "t" "u" "v" "w" "x" "y" "z" ];
  upperChars = [ "A" "B" "C" "D" "E" "F" "G" "H" "I" "J" "K" "L" "M" "N" "O" "P" "Q" "R" "S" "T" "U" "V" "W" "X" "Y" "Z" ];

  # The UTF-8 continuation bytes (0x80-0xBF): the second bytes of
  # U+0100..U+013F. Nix strings and regexes work on bytes.
  continuationBytes = genList
    (i: substring (2 * i + 1) 1 "ĀāĂăĄąĆćĈĉĊċČčĎďĐđĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĦħĨĩĪīĬĭĮįİıĲĳĴĵĶķĸĹĺĻļĽľĿ")
    64;

  # An index name as environment variables spell it: "my-corp" -> "MY_CORP",
  # one "_" per character (not per byte: "café" -> "CAF_"), as py2nix spells
  # it when it reads the credentials itself. Only [A-Z0-9_] remain.
  envName = name: replaceStrings lowerChars upperChars
    (concatStringsSep "" (map (x: if isList x then "_" else x)
      (split "[^A-Za-z0-9]" (replaceStrings continuationBytes (map (_: "") continuationBytes) name))));

  # The host curl looks up in a netrc: without userinfo, port or (for an
  # IPv6 literal) brackets; "" when the URL has none.
  hostOf = url:
    let
      m = match "[A-Za-z][A-Za-z0-9+.-]*://([^/?#@]*@)?([[]([^]/?#@]*)[]]|([^][/?#:@[:space:]]+))([:/?#].*)?" url;
    in
    if m == null then ""
    else if builtins.elemAt m 2 != null then builtins.elemAt m 2
    else builtins.elemAt m 3;

  # fetchurl arguments that build a netrc at fetch time from the index's
  # credentials in the (daemon's) environment; nothing secret is in the store.
  authFor = pname: src:
    if !(src ? index) then { }
    else
      let
        var = "PY2NIX_INDEX_${envName src.index}";
        user = "${var}_USERNAME";
        password = "${var}_PASSWORD";
        host = hostOf src.url;
      in
      if host == "" then
        throw ("py2nix: package '${pname}' (plan ${targetLabel}) needs the credentials of index '${src.index}', "
          + "but its URL has no host to give them to: ${src.url}")
      else
        {
          netrcImpureEnvVars = [ user password ];
          netrcPhase = ''
            if [ -z "''${${user}:-}" ]; then
              echo ${shellQuote "py2nix: fetching ${pname} needs the credentials of index '${src.index}': set ${user} and ${password} in the environment of the Nix daemon (or of nix, for a single-user install)"} >&2
              exit 1
            fi
            printf 'machine %s\nlogin %s\npassword %s\n' ${shellQuote host} "''$${user}" "''${${password}:-}" > netrc
          '';
        };

  # fetchgit arguments that build a netrc at fetch time for a repository
  # whose lock URL carried credentials (`src.credentials`, its host; the plan
  # holds the URL without them): PY2NIX_GIT_<HOST>_USERNAME and _PASSWORD
  # from the (daemon's) environment, given to that host only.
  gitAuthFor = pname: src:
    if !(src ? credentials) then { }
    else
      let
        var = "PY2NIX_GIT_${envName src.credentials}";
        user = "${var}_USERNAME";
        password = "${var}_PASSWORD";
      in
      {
        netrcImpureEnvVars = [ user password ];
        netrcPhase = ''
          if [ -z "''${${user}:-}" ]; then
            echo ${shellQuote "py2nix: fetching ${pname} from git needs credentials for ${src.credentials}: set ${user} and ${password} in the environment of the Nix daemon (or of nix, for a single-user install)"} >&2
            exit 1
          fi
          printf 'machine %s\nlogin %s\npassword %s\n' ${shellQuote src.credentials} "''$${user}" "''${${password}:-}" > netrc
        '';
      };

  # ---------------------------------------------------------------- target

  targets = plan.targets or { };
  targetIds = attrNames targets;
  hostSystem = stdenv.hostPlatform.system;
  pythonVersion = python3.pythonVersion;
  describeTarget = id:
    let t = targets.${id}; in "${t.system or "?"}/${t.python or "?"}";
  matchingIds = filter
    (id: (targets.${id}.system or null) == hostSystem
      && (targets.${id}.python or null) == pythonVersion)
    targetIds;
  targetId =
    if matchingIds != [ ] then head matchingIds
    else throw ("py2nix: python.nix holds no plan for ${hostSystem} with Python ${pythonVersion}; "
      + "it has: ${if targetIds == [ ] then "none" else concatStringsSep ", " (map describeTarget targetIds)}. "
      + "Regenerate with: py2nix lock --system ${hostSystem} --python ${pythonVersion}");
  target = targets.${targetId};
  targetLabel = "${hostSystem}/${pythonVersion}";

  # ---------------------------------------------------------------- inputs

  # Look up a dotted attribute path ("xorg.libxcb") in `root`, whose name in
  # messages is `rootName`; `what` says what the attribute is for.
  resolvePath = { root, rootName, what, pname }: path:
    let
      parts = filter isString (split "\\." path);
      step = state: part:
        if !state.ok then state
        else if isAttrs state.value && hasAttr part state.value
        then state // { value = state.value.${part}; seen = state.seen ++ [ part ]; }
        else state // { ok = false; missing = part; };
      result = foldl' step { ok = true; value = root; seen = [ ]; } parts;
      where =
        if result.seen == [ ] then rootName
        else "${rootName}.${concatStringsSep "." result.seen}";
    in
    if path != "" && result.ok then result.value
    else throw ("py2nix: package '${pname}' (plan ${targetLabel}) needs ${what} '${path}', "
      + "but ${rootName}.${path} does not exist"
      + (if path == "" then "" else " (${where} has no attribute '${result.missing}')")
      + ". Use a nixpkgs that has it, or change the package's override and regenerate.");

  # Resolve input paths; a path naming a list of packages
  # ("pythonManylinuxPackages.manylinux2014") contributes all of them.
  inputs = resolve: paths:
    builtins.concatMap (path: let value = resolve path; in if isList value then value else [ value ]) paths;

  # What a source tree copied into the store leaves out, so that a rebuild happens only
  # when the sources change: version-control and tool directories, virtual environments,
  # bytecode, `result` links of nix build, and at the tree's top its Nix files
  # (python.nix, flake.nix, ...) and flake.lock.
  ignoredNames = [ ".git" ".hg" ".svn" ".jj" ".venv" "__pycache__" ".direnv" ".mypy_cache"
    ".pytest_cache" ".ruff_cache" ".tox" ".nox" ".eggs" ];
  treeFilter = tree:
    let top = toString tree; in
    path: type:
      let name = baseNameOf path; in
      !(elem name ignoredNames
        || (type == "symlink" && match "result(-.*)?" name != null)
        || match ".*[.]py[co]" name != null
        || (dirOf path == top && (match ".*[.]nix" name != null || name == "flake.lock")));

  # ---------------------------------------------------------------- libraries

  # A directory of a package's installed site-packages: `directory` relative
  # to it, as the plan's `library-providers` and `runpath-providers` give it
  # ("" for site-packages itself).
  siteDirectory = drv: directory:
    "${drv}/${python3.sitePackages}${if directory == "" then "" else "/${directory}"}";

  # Shell code (a preFixup, run before autoPatchelf's postFixup hook) adding
  # each provider's directory to autoPatchelf's search path: `providers` are
  # the plan's `library-providers` entries, each with `drv`, the providing
  # package's derivation. A directory the derivation lacks (a replacement
  # from overridePackages) is reported, and autoPatchelf then names the
  # missing library.
  librarySearchPaths = pname: providers: concatStringsSep "" (map
    (p:
      let
        dir = siteDirectory p.drv p.directory;
      in
      ''
        if [ -d ${shellQuote dir} ]; then
          addAutoPatchelfSearchPath ${shellQuote dir}
        else
          echo ${shellQuote "py2nix: ${pname}: ${p.package} has no ${dir} (for ${concatStringsSep ", " p.sonames})"} >&2
        fi
      '')
    providers);

  # Where the GPU driver's libraries are at run time (nixpkgs' addDriverRunpath).
  driverLink = pkgs.addDriverRunpath.driverLink or "/run/opengl-driver";

  # ---------------------------------------------------------------- packages

  # `final`: the set runtime dependencies are taken from; `buildFinal`: the
  # set build requirements (and, for build packages, dependencies) are
  # taken from, the build packages laid over the runtime packages.
  mkPackage = final: buildFinal: pname: spec:
    let
      src = spec.src or (throw "py2nix: package '${pname}' (plan ${targetLabel}) has no src");
      kind = src.kind or null;
      format = src.format or null;
      isWheel = kind == "wheel" || (kind == "path" && format == "wheel");
      filename = src.filename or "${pname}-source";
      srcName = storeName filename;
      cycleBreaks = spec.cycle-breaks or [ ];
      dependencyNames = filter (d: !(elem d cycleBreaks)) (spec.dependencies or [ ]);
      dependency = d:
        if hasAttr d final then final.${d}
        else throw ("py2nix: package '${pname}' depends on '${d}', which the plan for ${targetLabel} "
          + "does not hold; the plan is inconsistent, regenerate python.nix");
      buildRequirement = d:
        if hasAttr d buildFinal then buildFinal.${d}
        else throw ("py2nix: package '${pname}' needs '${d}' to build, which the plan for ${targetLabel} "
          + "holds neither in its build packages nor in its packages; the plan is inconsistent, regenerate python.nix");
      fromPkgs = what: resolvePath { root = pkgs; rootName = "pkgs"; inherit what pname; };
      fromPythonPkgs = resolvePath {
        root = python3.pkgs;
        rootName = "python3.pkgs";
        what = "build system";
        inherit pname;
      };
      drvName = "${pname}-${spec.version}";

      path = src.path or (throw "py2nix: package '${pname}' (plan ${targetLabel}) has a path source without a path");
      localSource =
        if root == null
        then throw ("py2nix: package '${pname}' comes from the local path '${path}', "
          + "which python.nix finds relative to its own directory: pass `root` (python.nix does)")
        # A wheel keeps its file name as store name (the installer reads it).
        else builtins.path ({
          path = root + "/${path}";
          name = srcName;
        } // (if format == "tree" then { filter = treeFilter (root + "/${path}"); } else { }));
      fetched =
        if kind == "wheel" || kind == "sdist" then
          fetchurl ({ inherit (src) url hash; name = srcName; } // authFor pname src)
        else if kind == "git" then
          pkgs.fetchgit ({
            inherit (src) url rev hash;
            fetchSubmodules = src.submodules or false;
            name = storeName "${pname}-source";
          } // gitAuthFor pname src)
        else localSource;

      common = {
        inherit pname;
        inherit (spec) version;
        src = fetched;
        dependencies = map dependency dependencyNames;
        nativeBuildInputs = inputs (fromPkgs "native build input") (spec.native-build-inputs or [ ]);
        buildInputs = inputs (fromPkgs "build input") (spec.build-inputs or [ ]);
        propagatedBuildInputs = inputs (fromPkgs "propagated build input") (spec.propagated-build-inputs or [ ]);
        doCheck = false;
      }
      # The build's environment variables: plain strings (the database checks the
      # names), set through mkDerivation's `env`.
      // (if (spec.env or { }) == { } then { } else { env = spec.env; })
      # A version the store refuses in a name ("1!2.0") would break the
      # derivation's default name.
      // (if isStoreSafe drvName then { } else { name = sanitiseName drvName; })
      # The dependencies left out would fail the runtime-dependency check.
      // (if cycleBreaks == [ ] then { } else { dontCheckRuntimeDeps = true; })
      # The project lives in a subdirectory of the checkout or archive.
      // (if src ? subdirectory && !isWheel then {
        postUnpack = ''
          sourceRoot="$sourceRoot"/${shellQuote src.subdirectory}
        '';
      } else { });

      wheel = {
        format = "wheel";
      }
      // (if srcName == filename then { } else {
        unpackPhase = ''
          runHook preUnpack
          mkdir -p dist
          cp "$src" dist/${shellQuote filename}
        '';
      });

      # Libraries of other packages' wheels (the plan's `library-providers`):
      # the providing packages as build inputs, and autoPatchelf pointed at the
      # directories of their site-packages that hold them. The GPU driver's
      # libraries (`driver-libraries`) are left missing at build time and
      # found at run time in the driver's directory; libraries its override
      # rule lets stay missing (`ignored-libraries`, an optional plugin's) are
      # left missing too. Library directories of packages whose libraries the
      # wheel opens at run time (`runpath-providers`) are appended to its
      # runpath.
      libraryProviders = spec.library-providers or [ ];
      driverLibraries = spec.driver-libraries or [ ];
      ignoredLibraries = spec.ignored-libraries or [ ];
      runpathProviders = spec.runpath-providers or [ ];
      runpathOf = p: siteDirectory (providerOf p) p.directory;
      providerOf = p:
        if hasAttr p.package final then final.${p.package}
        else throw ("py2nix: package '${pname}' needs libraries of '${p.package}', which the plan for ${targetLabel} "
          + "does not hold; the plan is inconsistent, regenerate python.nix");
      providerNames = attrNames (nameSet (map (p: p.package) libraryProviders));
      libraryAttrs =
        (if libraryProviders == [ ] then { } else {
          buildInputs = common.buildInputs ++ map (package: providerOf { inherit package; }) providerNames;
          preFixup = librarySearchPaths pname (map (p: p // { drv = providerOf p; }) libraryProviders);
        })
        // (if driverLibraries ++ ignoredLibraries == [ ] then { } else {
          autoPatchelfIgnoreMissingDeps = driverLibraries ++ ignoredLibraries;
        })
        // (if driverLibraries == [ ] && runpathProviders == [ ] then { } else {
          appendRunpaths = map runpathOf runpathProviders
            ++ (if driverLibraries == [ ] then [ ] else [ "${driverLink}/lib" ]);
        });

      cargo = spec.cargo or null;
      cargoAttrs =
        if cargo == null then { }
        else {
          cargoDeps = pkgs.rustPlatform.importCargoLock ({
            lockFileContents = cargo.lock;
          } // (if (cargo.git-hashes or { }) == { } then { } else {
            outputHashes = cargo.git-hashes;
          }));
          # Each once: an override entry may name them already.
          nativeBuildInputs = common.nativeBuildInputs ++ filter
            (tool: !(elem tool common.nativeBuildInputs))
            [ pkgs.rustPlatform.cargoSetupHook pkgs.cargo pkgs.rustc ];
        } // (if (cargo.root or ".") == "." then { } else {
          cargoRoot = cargo.root;
        });

      sdist = {
        pyproject = true;
        # Its own build environment: `build-closure` (plans from before it: the
        # requirements alone, which bring their dependencies along).
        build-system =
          if spec ? build-closure then map buildRequirement spec.build-closure
          else if spec ? build-requires then map buildRequirement spec.build-requires
          else map fromPythonPkgs (spec.build-system or [ "setuptools" ]);
        # The build system comes from nixpkgs, whose versions need not meet
        # the pins of the project's build requirements ("setuptools<70"):
        # build anyway rather than fail the requirement check up front.
        pypaBuildFlags = [ "--skip-dependency-check" ] ++ map buildFlag (spec.build-flags or [ ]);
      }
      // (if (spec.patches or [ ]) == [ ] then { } else { patches = map patchFile spec.patches; });

      # nixpkgs' pypa build hook splits pypaBuildFlags on whitespace.
      buildFlag = flag:
        if match "[^[:space:]]+" flag != null then flag
        else throw ("py2nix: package '${pname}' (plan ${targetLabel}) has the build flag '${flag}', "
          + "which nixpkgs' pypa build hook would split at its whitespace; give each argument as a flag of its own");

      # A patch of the plan, written to the store as a file of its own.
      patchFile = patch: builtins.toFile (storeName "${pname}-${patch.name}") patch.text;
    in
    if kind == "wheel" || kind == "sdist" || kind == "git"
      || (kind == "path" && (format == "wheel" || format == "sdist" || format == "tree"))
    then withLinearModules (python3.pkgs.buildPythonPackage (common // (if isWheel then wheel // libraryAttrs else sdist // cargoAttrs)))
    else if kind == "path"
    then throw ("py2nix: package '${pname}' (plan ${targetLabel}) has a local path source of unknown format "
      + "'${if isString format then format else "(none)"}'; this python.nix needs a newer py2nix")
    else throw ("py2nix: package '${pname}' (plan ${targetLabel}) has a source of unknown kind "
      + "'${if isString kind then kind else "(none)"}'; this python.nix needs a newer py2nix");

  # ---------------------------------------------------------------- environments

  # The Python modules among a derivation's propagated inputs, as nixpkgs'
  # requiredPythonModules takes them (hasPythonModule: built for python3).
  propagatedModules = drv: filter python3.pkgs.hasPythonModule (drv.propagatedBuildInputs or [ ]);

  # The closure of `drvs` under propagated Python modules, `interpreter` first,
  # each derivation once (nixpkgs' lib.unique compares derivations by output
  # path, so the key is the output path), breadth first.
  moduleClosure = drvs:
    let
      entry = drv: { key = drv.outPath; inherit drv; };
    in
    map (e: e.drv) (builtins.genericClosure {
      startSet = map entry (interpreter ++ drvs);
      operator = e: map entry (propagatedModules e.drv);
    });

  # nixpkgs' own requiredPythonModules gives `[ python ]` for an empty list:
  # the very interpreter value withPackages puts first.
  interpreter = python3.pkgs.requiredPythonModules [ ];

  # requiredPythonModules for an environment: nixpkgs' result, computed in
  # linear time when `drvs` is closed (the closure adds nothing, no module is
  # twice in the list and the interpreter is not in it): then nixpkgs'
  # lib.unique keeps exactly the interpreter and the modules, in order.
  closedRequiredModules = drvs:
    let
      modules = filter python3.pkgs.hasPythonModule drvs;
    in
    if builtins.length (moduleClosure modules) == 1 + builtins.length modules
    then interpreter ++ modules
    else python3.pkgs.requiredPythonModules drvs;

  # See the header: the environment of a list of planned derivations.
  mkEnv = packages: python3.buildEnv.override {
    extraLibs = packages;
    requiredPythonModules = closedRequiredModules;
  };

  # A package with its requiredPythonModules computed by one genericClosure
  # (nixpkgs' toPythonModule sets it to nested lib.unique calls, which the
  # derivation itself never reads: its drv path does not change).
  withLinearModules = drv:
    let
      required = moduleClosure (propagatedModules drv);
    in
    drv // {
      requiredPythonModules = required;
      passthru = (drv.passthru or { }) // { requiredPythonModules = required; };
    };

  # The package set as a fixed point: dependencies are looked up in the
  # final set, so `extension` replacements reach their dependents.
  # The build packages (`build-packages`) form a second set over the first:
  # their dependencies and build requirements are looked up in it, then in
  # the runtime packages. Each is one derivation, shared by every build
  # environment (`build-closure`) naming its key; a key is the package's name,
  # or `<name>@<version>` (`#<n>` after it) when several are planned.
  mkSet = extension:
    let
      prev = mapAttrs (mkPackage final buildFinal) (target.packages or { });
      final = prev // extension final prev;
      buildPackages = mapAttrs (key: mkPackage buildFinal buildFinal (keyName key)) (target.build-packages or { });
      buildFinal = final // buildPackages;
    in
    final;

  # The package name of a `build-packages` key: what comes before its "@".
  keyName = key: head (split "@" key);

  # ---------------------------------------------------------------- selections

  projectInfo = plan.project or { };
  # Names of `packages`, one attribute each (sorted, without duplicates).
  nameSet = names: builtins.listToAttrs (map (name: { inherit name; value = null; }) names);
  allNames = attrNames (target.packages or { });
  selections = target.selections or null;
  heldGroups = projectInfo.groups or [ ];
  heldExtras = projectInfo.extras or [ ];
  devGroups = projectInfo.dev-groups or [ ];

  # PEP 685 / PEP 735: names compared lower-cased, with runs of "-", "_" and "." as one "-".
  normaliseName = name: replaceStrings upperChars lowerChars
    (concatStringsSep "-" (filter (x: isString x && x != "") (split "[-_.]+" name)));

  describeList = names: if names == [ ] then "none" else concatStringsSep ", " names;

  # The names of the packages a choice of groups and extras installs: the main dependencies'
  # closure and what each chosen group and extra adds to it (the plan's `selections`). A plan
  # from before eval-time choice holds one selection: all its packages.
  chosenNames = choice:
    let
      groups = choice.groups or [ ];
      extras = choice.extras or [ ];
      unknownArgs = removeAttrs choice [ "groups" "extras" ];
      check = kind: held: name:
        let normalised = normaliseName name; in
        if elem normalised held then normalised
        else throw ("py2nix: envWith: this python.nix holds no ${kind} '${name}' "
          + "(it holds: ${describeList held}); every ${kind} the lock has is held "
          + "unless `py2nix lock` was given --group/--extra");
      groupNames = map (check "group" heldGroups) groups;
      extraNames = map (check "extra" heldExtras) extras;
      # uv's `conflicts`: the first set of which the choice holds two items, if any.
      chosenItem = item:
        (item ? group && elem item.group groupNames) || (item ? extra && elem item.extra extraNames);
      describeItem = item: if item ? group then "group '${item.group}'" else "extra '${item.extra}'";
      clashes = filter (set: builtins.length (filter chosenItem set) > 1) (projectInfo.conflicts or [ ]);
    in
    if unknownArgs != { } then
      throw "py2nix: envWith takes { groups = [ ... ]; extras = [ ... ]; }, not ${concatStringsSep ", " (attrNames unknownArgs)}"
    else if clashes != [ ] then
      throw ("py2nix: envWith: "
        + concatStringsSep " and " (map describeItem (filter chosenItem (builtins.head clashes)))
        + " cannot be installed together: the project declares them conflicting ([tool.uv] conflicts: "
        + concatStringsSep ", " (map describeItem (builtins.head clashes)) + ")")
    else if selections == null then
      (if groups == [ ] && extras == [ ] then allNames
      else throw "py2nix: envWith: this python.nix was generated before groups and extras could be chosen at evaluation time; regenerate it with py2nix lock")
    else attrNames (nameSet (selections.main
      ++ builtins.concatMap (g: selections.groups.${g} or [ ]) groupNames
      ++ builtins.concatMap (e: selections.extras.${e} or [ ]) extraNames));

  # ---------------------------------------------------------------- project

  projectName = projectInfo.package or null;
  memberNames = projectInfo.members or [ ];
  packageScripts = spec: (spec.scripts or { }) // (spec.gui-scripts or { });

  # An entry point `module:object.attr` checked again (python.nix may have been edited),
  # since it becomes Python code.
  isEntryPoint = entry: match "[A-Za-z_][A-Za-z0-9_]*([.][A-Za-z_][A-Za-z0-9_]*)*(:[A-Za-z_][A-Za-z0-9_]*([.][A-Za-z_][A-Za-z0-9_]*)*)?" entry != null;
  isScriptName = name: match "[A-Za-z0-9_+][A-Za-z0-9._+-]*" name != null;
  scriptCode = name: entry:
    let
      parts = split ":" entry;
      module = head parts;
      object = if builtins.length parts > 1 then builtins.elemAt parts 2 else null;
      objectHead = head (split "[.]" object);
    in
    if !(isEntryPoint entry && isScriptName name)
    then throw "py2nix: script '${name}' has an entry point py2nix cannot run: '${entry}'"
    else if object == null then ''
      import runpy
      runpy.run_module("${module}", run_name="__main__", alter_sys=True)
    ''
    else ''
      import sys
      from ${module} import ${objectHead}
      if __name__ == "__main__":
          sys.exit(${object}())
    '';

  # The scripts of the editable packages (the project and its members), run by the
  # development environment's Python from the working tree (editableShellHook puts it on
  # PYTHONPATH), as `uv sync` and `poetry install` install them.
  editableScripts = env: names:
    let
      scripts = builtins.concatMap
        (name: map (script: { inherit script; entry = (packageScripts target.packages.${name}).${script}; })
          (attrNames (packageScripts target.packages.${name})))
        names;
      interpreter = env.interpreter or "${env}/bin/python";
      write = { script, entry }: ''
        cat > "$out/bin/"${shellQuote script} <<'PY2NIX_SCRIPT_END'
        #!${interpreter}
        ${scriptCode script entry}
        PY2NIX_SCRIPT_END
        chmod +x "$out/bin/"${shellQuote script}
      '';
    in
    if scripts == [ ] then null
    else pkgs.runCommand "${if projectName != null then projectName else "project"}-editable-scripts" { } (''
      mkdir -p "$out/bin"
    '' + concatStringsSep "" (map write scripts));

  mkOutputs = packages:
    let
      env = envWith { };
      envWith = choice: mkEnv (map (name: packages.${name}) (chosenNames choice));
      devNames = filter (name: !(isEditable name)) (chosenNames { groups = devGroups; });
      devEnv = mkEnv (map (name: packages.${name}) devNames);
      project =
        if projectName != null && hasAttr projectName packages then packages.${projectName}
        else throw ("py2nix: the project has nothing to build"
          + (if projectInfo ? no-package then ": ${projectInfo.no-package}" else "")
          + "; python.nix offers its dependencies as `env`");
      scriptNames = attrNames (packageScripts (target.packages.${projectName} or { }));
      # The application: the project with its scripts on bin/, their Python wrapped with the
      # runtime closure, and `nix run` starting its only script.
      app = (python3.pkgs.toPythonApplication project).overrideAttrs (old: {
        meta = (old.meta or { }) // (if builtins.length scriptNames == 1 then {
          mainProgram = head scriptNames;
        } else { });
      });
      scripts = editableScripts devEnv (filter isEditable (attrNames (target.packages or { })));
    in
    {
      inherit packages env envWith devEnv;
      roots = map
        (r:
          if hasAttr r packages then packages.${r}
          else throw "py2nix: root '${r}' is not a package of the plan for ${targetLabel}; regenerate python.nix")
        (target.roots or [ ]);
      editableShellHook = concatStringsSep "" (map
        (name: "export PYTHONPATH=\"$PWD\"/${shellQuote (editableDir name)}\"\${PYTHONPATH:+:$PYTHONPATH}\"\n")
        editableNames)
      + (if scripts == null then "" else "export PATH=${shellQuote "${scripts}/bin"}\"\${PATH:+:$PATH}\"\n");
    }
    // (if projectName == null then { } else { inherit project app; })
    // (if memberNames == [ ] then { } else {
      members = builtins.listToAttrs (map
        (name: {
          inherit name;
          value = packages.${name} or (throw "py2nix: workspace member '${name}' is not a package of the plan for ${targetLabel}; regenerate python.nix");
        })
        memberNames);
    });

  outputs = mkOutputs (mkSet (_: _: { }));

  # ---------------------------------------------------------------- development

  isEditable = name: (((target.packages or { }).${name}.src or { }).editable or false) == true;
  editableNames = filter isEditable (attrNames (target.packages or { }));
  # An editable directory's import root: its src/ when it has one (the "src
  # layout"), else the directory itself.
  editableDir = name:
    let
      path = target.packages.${name}.src.path;
      hasSrc = root != null && builtins.pathExists (root + "/${path}/src");
    in
    if hasSrc then "${path}/src" else path;
in
{
  inherit plan targetId target;
  inherit (outputs) packages roots env envWith devEnv editableShellHook;
  python = python3;
  overridePackages = extension: mkOutputs (mkSet extension);
}
// (if projectName == null then { } else { inherit (outputs) project app; })
// (if memberNames == [ ] then { } else { inherit (outputs) members; })
