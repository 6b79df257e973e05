# Sources other than plain index files: git checkouts, files from indexes
# that need credentials, a project in a subdirectory, local wheels, sdists
# and trees (relative to `root`), editable packages, devEnv and
# editableShellHook. The local sources are the fixtures under local/, with
# root = local/app.
let
  h = import ./lib.nix;
  plans = import ./plans.nix;
  inherit (h) pnames fakeHash fakeRev;
  inherit (builtins) attrNames filter head isString match split;

  r = h.evalPlan { plan = plans.sources; root = h.localRoot; };
  p = r.packages;

  # The same plan without `root`, as when the logic is applied by hand.
  noRoot = h.evalPlan { plan = plans.sources; };

  # One package `pkg` with source `src` (and `attrs`), evaluated with root.
  with1 = src: attrs: (h.evalPlan {
    plan = h.mkPlan {
      roots = [ "pkg" ];
      packages.pkg = { version = "1.0"; inherit src; dependencies = [ ]; } // attrs;
    };
    root = h.localRoot;
  }).packages.pkg;
  force = drv: builtins.deepSeq [ drv.outPath drv.args ] true;

  # A file of an index that needs credentials, at `url`.
  private = index: url: with1 ((h.wheel "pkg-1.0-py3-none-any.whl") // { inherit index url; }) { };
  # The host the netrc phase writes, read back from its printf line.
  netrcHost = drv:
    let
      lines = filter (l: isString l && match "printf .*" l != null) (split "\n" drv.args.src.netrcPhase);
      m = match "printf '[^']*' '([^']*)' .*" (head lines);
    in
    if m == null then null else head m;

  storeName = path: head (match "/nix/store/[a-z0-9]{32}-(.*)" path);
  # What builtins.path gives for the fixture `rel` (relative to local/),
  # named `name`: the store path depends on the contents and the name.
  fixture = rel: name: builtins.path { path = ./local + "/${rel}"; inherit name; };

  editableHook = dir: "export PYTHONPATH=\"$PWD\"/'${dir}'\"\${PYTHONPATH:+:$PYTHONPATH}\"\n";
in
{
  everything-evaluates = { expr = h.forceAll r; expected = true; };
  package-names = {
    expr = attrNames p;
    expected = [ "epoch" "flat" "gitpkg" "gitsub" "hostile" "plain" "private-sdist" "private-wheel" "spaced" "srclayout" "tiny" "tiny-sdist" "tree" ];
  };

  # ------------------------------------------------------------ git

  git-fetchgit-arguments = {
    expr = p.gitpkg.args.src.fetcherArgs;
    expected = {
      url = "https://github.com/example/gitpkg.git";
      rev = fakeRev;
      hash = fakeHash "G";
      # nixpkgs' fetchgit fetches submodules unless told not to.
      fetchSubmodules = false;
      name = "gitpkg-source";
    };
  };
  git-submodules = {
    expr = { inherit (p.gitsub.args.src.fetcherArgs) url fetchSubmodules; };
    expected = { url = "ssh://git@git.example.invalid/mono.git"; fetchSubmodules = true; };
  };
  git-built-with-pep517 = {
    expr = {
      inherit (p.gitpkg) format hooks runsRuntimeDepsCheck;
      hasFormat = p.gitpkg.args ? format;
      inherit (p.gitpkg.args) pyproject pypaBuildFlags;
      build-system = pnames p.gitpkg.args.build-system;
      dependencies = pnames p.gitpkg.args.dependencies;
    };
    expected = {
      format = "pyproject";
      hooks = [ "pypaBuildHook" "pythonRuntimeDepsCheckHook" "pypaInstallHook" ];
      runsRuntimeDepsCheck = true;
      hasFormat = false;
      pyproject = true;
      pypaBuildFlags = [ "--skip-dependency-check" ];
      build-system = [ "hatchling" ];
      dependencies = [ "plain" ];
    };
  };
  git-build-system-and-inputs = {
    expr = { build-system = pnames p.gitsub.args.build-system; buildInputs = h.names p.gitsub.args.buildInputs; };
    expected = { build-system = [ "setuptools" "wheel" ]; buildInputs = [ "zlib" ]; };
  };
  git-without-build-system-gets-setuptools = {
    expr = pnames (with1 (h.git "https://git.example.invalid/x.git") { }).args.build-system;
    expected = [ "setuptools" ];
  };
  git-dependents-get-the-package = {
    expr = p.gitpkg.args.dependencies == [ p.plain ];
    expected = true;
  };
  git-short-rev-refused-by-fetchgit = {
    expr = force (with1 (h.git "https://git.example.invalid/x.git" // { rev = "0123abc"; }) { });
    expectError = "stub fetchgit: not a full commit id: 0123abc";
  };

  # ------------------------------------------------------------ subdirectory

  no-subdirectory-no-post-unpack = {
    expr = map (n: p.${n}.args ? postUnpack) [ "gitpkg" "plain" "private-wheel" "tree" "tiny-sdist" ];
    expected = [ false false false false false ];
  };
  subdirectory-of-a-checkout = {
    expr = p.gitsub.args.postUnpack;
    expected = "sourceRoot=\"$sourceRoot\"/'python/gitsub'\n";
  };
  subdirectory-of-an-sdist = {
    expr = p.private-sdist.args.postUnpack;
    expected = "sourceRoot=\"$sourceRoot\"/'sub dir'\n";
  };
  # run.sh also runs it in bash: nothing is executed, the name is kept.
  hostile-subdirectory-is-shell-quoted = {
    expr = p.hostile.args.postUnpack;
    expected = "sourceRoot=\"$sourceRoot\"/'it'\\''s $(touch pwned) `touch pwned2` \"q\" \${HOME} \\ end'\n";
  };
  wheel-ignores-subdirectory = {
    expr = (with1 (h.wheel "pkg-1.0-py3-none-any.whl" // { subdirectory = "x"; }) { }).args ? postUnpack;
    expected = false;
  };

  # ------------------------------------------------------------ index credentials

  index-env-vars = {
    expr = p.private-wheel.args.src.impureEnvVars;
    expected = [ "PY2NIX_INDEX_MY_CORP_INTERNAL_USERNAME" "PY2NIX_INDEX_MY_CORP_INTERNAL_PASSWORD" ];
  };
  index-netrc-phase = {
    expr = p.private-wheel.args.src.netrcPhase;
    expected = ''
      if [ -z "''${PY2NIX_INDEX_MY_CORP_INTERNAL_USERNAME:-}" ]; then
        echo 'py2nix: fetching private-wheel needs the credentials of index '\'''my-corp.internal'\''': set PY2NIX_INDEX_MY_CORP_INTERNAL_USERNAME and PY2NIX_INDEX_MY_CORP_INTERNAL_PASSWORD in the environment of the Nix daemon (or of nix, for a single-user install)' >&2
        exit 1
      fi
      printf 'machine %s\nlogin %s\npassword %s\n' 'pkgs.corp.example' "$PY2NIX_INDEX_MY_CORP_INTERNAL_USERNAME" "''${PY2NIX_INDEX_MY_CORP_INTERNAL_PASSWORD:-}" > netrc
    '';
  };
  index-file-otherwise-unchanged = {
    expr = { inherit (p.private-wheel.args.src) name url hash; };
    expected = {
      name = "private_wheel-1.0-py3-none-any.whl";
      url = "https://pkgs.corp.example:8443/simple/private_wheel-1.0-py3-none-any.whl";
      hash = fakeHash "W";
    };
  };
  no-index-no-netrc = {
    expr = map (n: p.${n}.args.src.fetcherArgs ? netrcPhase || p.${n}.args.src.fetcherArgs ? netrcImpureEnvVars) [ "plain" ];
    expected = [ false ];
  };
  # Only [A-Z0-9_] reach the variable names; the rest of the phase quotes
  # the index name (run.sh runs it in bash).
  hostile-index-env-vars = {
    expr = p.private-sdist.args.src.impureEnvVars;
    expected = [
      "PY2NIX_INDEX_EVIL__TOUCH_PWNED__NAME___X____HOME__USERNAME"
      "PY2NIX_INDEX_EVIL__TOUCH_PWNED__NAME___X____HOME__PASSWORD"
    ];
  };
  hostile-index-message-is-quoted = {
    expr = builtins.elemAt (split "\n" p.private-sdist.args.src.netrcPhase) 2;
    expected = "  echo 'py2nix: fetching private-sdist needs the credentials of index '\\''evil$(touch pwned);name'\\'' \"x\" \${HOME}'\\'': set PY2NIX_INDEX_EVIL__TOUCH_PWNED__NAME___X____HOME__USERNAME and PY2NIX_INDEX_EVIL__TOUCH_PWNED__NAME___X____HOME__PASSWORD in the environment of the Nix daemon (or of nix, for a single-user install)' >&2";
  };
  # As py2nix spells them: one "_" per character, also a non-ASCII one.
  index-env-names-per-character = {
    expr = map (i: head (private i "https://h.example/x.whl").args.src.impureEnvVars)
      [ "corp" "my-corp" "Corp_2" "café-ñ" "日本" "a😀b" "" ];
    expected = [
      "PY2NIX_INDEX_CORP_USERNAME"
      "PY2NIX_INDEX_MY_CORP_USERNAME"
      "PY2NIX_INDEX_CORP_2_USERNAME"
      "PY2NIX_INDEX_CAF____USERNAME"
      "PY2NIX_INDEX____USERNAME"
      "PY2NIX_INDEX_A_B_USERNAME"
      "PY2NIX_INDEX__USERNAME"
    ];
  };
  netrc-host = {
    expr = map (url: netrcHost (private "corp" url)) [
      "https://pkgs.corp.example/simple/x.whl"
      "https://pkgs.corp.example:8443/simple/x.whl"
      "https://user:secret@pkgs.corp.example:8443/x.whl"
      "https://token@pkgs.corp.example/x.whl"
      "http://pkgs.corp.example?x=1"
      "https://pkgs.corp.example#frag"
      "https://Pkgs.Corp.Example"
      "https://10.0.0.7:8080/x.whl"
      "https://[::1]:8080/x.whl"
    ];
    expected = [
      "pkgs.corp.example"
      "pkgs.corp.example"
      "pkgs.corp.example"
      "pkgs.corp.example"
      "pkgs.corp.example"
      "pkgs.corp.example"
      "Pkgs.Corp.Example"
      "10.0.0.7"
      "::1"
    ];
  };
  index-url-without-host = {
    expr = force (private "corp" "https:///x.whl");
    expectError = "py2nix: package 'pkg' (plan x86_64-linux/3.11) needs the credentials of index 'corp', but its URL has no host to give them to: https:///x.whl";
  };
  index-url-with-a-space-in-the-host = {
    expr = force (private "corp" "https://a b/x.whl");
    expectError = "but its URL has no host to give them to";
  };

  # ------------------------------------------------------------ local paths

  path-wheel = {
    expr = {
      src = p.tiny.args.src;
      storeName = storeName p.tiny.args.src;
      inherit (p.tiny) format hooks;
      hasPyproject = p.tiny.args ? pyproject;
      hasUnpackPhase = p.tiny.args ? unpackPhase;
      build-system = p.tiny.args.build-system or [ ];
    };
    expected = {
      src = fixture "app/dist/tiny-1.0-py3-none-any.whl" "tiny-1.0-py3-none-any.whl";
      # The wheel installer reads the name, version and tags from it.
      storeName = "tiny-1.0-py3-none-any.whl";
      format = "wheel";
      hooks = [ "wheelUnpackHook" "pypaInstallHook" ];
      hasPyproject = false;
      hasUnpackPhase = false;
      build-system = [ ];
    };
  };
  # A file name the store refuses: sanitised store name, copied back under
  # its real name for the installer.
  path-wheel-with-an-unsafe-name = {
    expr = { inherit (p.epoch.args) src unpackPhase; inherit (p.epoch) name format; };
    expected = {
      src = fixture "app/dist/epoch-1!2.0-py3-none-any.whl" "epoch-1_2.0-py3-none-any.whl";
      unpackPhase = "runHook preUnpack\nmkdir -p dist\ncp \"$src\" dist/'epoch-1!2.0-py3-none-any.whl'\n";
      name = "python3.11-epoch-1_2.0";
      format = "wheel";
    };
  };
  path-sdist = {
    expr = {
      inherit (p.tiny-sdist.args) src pyproject;
      inherit (p.tiny-sdist) format;
      build-system = pnames p.tiny-sdist.args.build-system;
    };
    expected = {
      src = fixture "app/dist/tiny_sdist-1.0.tar.gz" "tiny_sdist-1.0.tar.gz";
      pyproject = true;
      format = "pyproject";
      build-system = [ "setuptools" ];
    };
  };
  path-tree = {
    expr = {
      inherit (p.tree.args) src pyproject;
      inherit (p.tree) format;
      build-system = pnames p.tree.args.build-system;
      dependencies = p.tree.args.dependencies == [ p.tiny ];
    };
    expected = {
      src = fixture "app/tree" "tree-source";
      pyproject = true;
      format = "pyproject";
      build-system = [ "hatchling" ];
      dependencies = true;
    };
  };
  # "../dir with space/pkg" from local/app.
  path-with-dot-dot-and-spaces = {
    expr = p.spaced.args.src;
    expected = fixture "dir with space/pkg" "spaced-source";
  };
  # The fixtures differ, so a wrong path would give another store path.
  path-fixtures-differ = {
    expr = fixture "app/tree" "x" == fixture "dir with space/pkg" "x";
    expected = false;
  };
  path-root-as-a-string = {
    expr = (h.evalPlan { plan = plans.sources; root = toString h.localRoot; }).packages.spaced.args.src;
    expected = fixture "dir with space/pkg" "spaced-source";
  };
  path-tree-with-subdirectory = {
    expr = (with1 (h.localTree "libs" // { subdirectory = "flat"; }) { }).args.postUnpack;
    expected = "sourceRoot=\"$sourceRoot\"/'flat'\n";
  };
  path-without-root = {
    expr = force noRoot.packages.tiny;
    expectError = "py2nix: package 'tiny' comes from the local path 'dist/tiny-1.0-py3-none-any.whl', which python.nix finds relative to its own directory: pass `root`";
  };
  path-without-root-others-still-evaluate = {
    expr = {
      names = attrNames noRoot.packages == attrNames p;
      others = map (n: noRoot.packages.${n}.outPath == p.${n}.outPath)
        [ "plain" "gitpkg" "gitsub" "hostile" "private-wheel" "private-sdist" ];
    };
    expected = { names = true; others = [ true true true true true true ]; };
  };
  path-without-root-is-catchable = {
    expr = (builtins.tryEval noRoot.packages.tree.outPath).success;
    expected = false;
  };
  path-unknown-format = {
    expr = force (with1 (h.localTree "tree" // { format = "egg"; }) { });
    expectError = "py2nix: package 'pkg' (plan x86_64-linux/3.11) has a local path source of unknown format 'egg'; this python.nix needs a newer py2nix";
  };
  path-without-format = {
    expr = force (with1 (removeAttrs (h.localTree "tree") [ "format" ]) { });
    expectError = "has a local path source of unknown format '(none)'; this python.nix needs a newer py2nix";
  };
  path-without-path = {
    expr = force (with1 (removeAttrs (h.localTree "tree") [ "path" ]) { });
    expectError = "py2nix: package 'pkg' (plan x86_64-linux/3.11) has a path source without a path";
  };

  # ------------------------------------------------------------ development

  editable-packages-are-built-and-in-env = {
    expr = {
      format = map (n: p.${n}.format) [ "flat" "srclayout" ];
      src = p.flat.args.src == fixture "app/libs/flat" "flat-source";
      env = r.env.extraLibs;
    };
    expected = {
      format = [ "pyproject" "pyproject" ];
      src = true;
      env = [ "epoch" "flat" "gitpkg" "gitsub" "hostile" "plain" "private-sdist" "private-wheel" "spaced" "srclayout" "tiny" "tiny-sdist" "tree" ];
    };
  };
  dev-env-leaves-out-editable-packages = {
    expr = { libs = r.devEnv.extraLibs; closure = attrNames r.devEnv.closure; type = r.devEnv.type; };
    expected = {
      libs = [ "epoch" "gitpkg" "gitsub" "hostile" "plain" "private-sdist" "private-wheel" "spaced" "tiny" "tiny-sdist" "tree" ];
      closure = [ "epoch" "gitpkg" "gitsub" "hostile" "plain" "private-sdist" "private-wheel" "spaced" "tiny" "tiny-sdist" "tree" ];
      type = "python-env";
    };
  };
  # libs/srclayout has a src/ directory, libs/flat does not.
  editable-shell-hook = {
    expr = r.editableShellHook;
    expected = editableHook "libs/flat" + editableHook "libs/srclayout/src";
  };
  editable-shell-hook-quotes-paths = {
    expr = (h.evalPlan {
      plan = h.mkPlan {
        roots = [ "spaced" ];
        packages.spaced = { version = "1"; src = h.localTree "../dir with space/pkg" // { editable = true; }; dependencies = [ ]; };
      };
      root = h.localRoot;
    }).editableShellHook;
    expected = "export PYTHONPATH=\"$PWD\"/'../dir with space/pkg'\"\${PYTHONPATH:+:$PYTHONPATH}\"\n";
  };
  editable-false-is-not-editable = {
    expr = (h.evalPlan {
      plan = h.mkPlan {
        roots = [ "tree" ];
        packages.tree = { version = "1"; src = h.localTree "tree" // { editable = false; }; dependencies = [ ]; };
      };
      root = h.localRoot;
    }).editableShellHook;
    expected = "";
  };
  no-editable-packages = {
    expr =
      let c = h.evalPlan { plan = plans.combined; };
      in { hook = c.editableShellHook; devEnv = c.devEnv.extraLibs == c.env.extraLibs; };
    expected = { hook = ""; devEnv = true; };
  };
}
