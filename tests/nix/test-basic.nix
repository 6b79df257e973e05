# A plan with wheels and sdists: what reaches buildPythonPackage and fetchurl.
let
  h = import ./lib.nix;
  inherit (h) wheel sdist pnames names outPaths;

  plan = {
    schema = 1;
    generator = "py2nix 0.1.0";
    some-future-field = { ignored = true; };
    targets = {
      "x86_64-linux-3.11" = {
        system = "x86_64-linux";
        python = "3.11";
        roots = [ "flask" "pillow" ];
        future-target-field = [ 1 2 3 ];
        packages = {
          flask = {
            version = "3.1.0";
            src = wheel "flask-3.1.0-py3-none-any.whl";
            dependencies = [ "click" "markupsafe" ];
            warnings = [ "only informational" ];
            future-package-field = "ignored";
          };
          click = {
            version = "8.1.8";
            src = wheel "click-8.1.8-py3-none-any.whl";
            dependencies = [ ];
          };
          markupsafe = {
            version = "3.0.2";
            src = sdist "markupsafe-3.0.2.tar.gz";
            dependencies = [ ];
            build-system = [ "setuptools" "wheel" ];
          };
          pillow = {
            version = "11.1.0";
            src = sdist "pillow-11.1.0.tar.gz";
            dependencies = [ ];
            build-system = [ "setuptools" ];
            native-build-inputs = [ "pkg-config" ];
            build-inputs = [ "libjpeg" "zlib" "xorg.libxcb" ];
          };
          numpy = {
            version = "2.2.6";
            src = wheel "numpy-2.2.6-cp311-cp311-manylinux_2_17_x86_64.whl";
            dependencies = [ ];
            native-build-inputs = [ "autoPatchelfHook" ];
            build-inputs = [ "pythonManylinuxPackages.manylinux2014" "zlib" ];
          };
          legacy = {
            version = "0.9";
            src = sdist "legacy-0.9.zip";
            dependencies = [ "click" ];
          };
        };
      };
      # Same Python, other system; and same system, other Python.
      "aarch64-darwin-3.11" = {
        system = "aarch64-darwin";
        python = "3.11";
        roots = [ "wrong" ];
        packages.wrong = { version = "1"; src = wheel "wrong-1-py3-none-any.whl"; dependencies = [ ]; };
      };
      "x86_64-linux-3.12" = {
        system = "x86_64-linux";
        python = "3.12";
        roots = [ "wrong" ];
        packages.wrong = { version = "1"; src = wheel "wrong-1-py3-none-any.whl"; dependencies = [ ]; };
      };
    };
  };

  r = h.evalPlan { inherit plan; };
  s = (h.stubs { }).python3.pkgs;
  p = r.packages;
in
{
  plan-is-returned = { expr = r.plan == plan; expected = true; };
  selects-target = { expr = r.targetId; expected = "x86_64-linux-3.11"; };
  package-names = {
    expr = builtins.attrNames p;
    expected = [ "click" "flask" "legacy" "markupsafe" "numpy" "pillow" ];
  };
  everything-evaluates = { expr = h.forceAll r; expected = true; };

  wheel-name-version = { expr = [ p.flask.pname p.flask.version p.flask.name ]; expected = [ "flask" "3.1.0" "python3.11-flask-3.1.0" ]; };
  wheel-format = {
    expr = { inherit (p.flask) format hooks; hasPyproject = p.flask.args ? pyproject; };
    expected = { format = "wheel"; hooks = [ "wheelUnpackHook" "pypaInstallHook" ]; hasPyproject = false; };
  };
  wheel-src = {
    expr = { inherit (p.flask.args.src) name url hash; };
    expected = {
      name = "flask-3.1.0-py3-none-any.whl";
      url = "https://files.example.invalid/packages/ab/cd/flask-3.1.0-py3-none-any.whl";
      hash = h.fakeHash "W";
    };
  };
  wheel-src-store-path-ends-with-filename = {
    expr = builtins.match "/nix/store/[a-z0-9]{32}-(.*)" p.flask.args.src.outPath;
    expected = [ "flask-3.1.0-py3-none-any.whl" ];
  };
  wheel-keeps-the-hooks-unpack-phase = { expr = p.flask.args ? unpackPhase; expected = false; };
  wheel-no-build-system = { expr = p.flask.args.build-system or [ ]; expected = [ ]; };
  no-tests = { expr = map (x: x.args.doCheck) (builtins.attrValues p); expected = [ false false false false false false ]; };
  input-lists-are-spliced = {
    expr = [ (names p.numpy.args.nativeBuildInputs) (names p.numpy.args.buildInputs) ];
    expected = [ [ "autoPatchelfHook" ] [ "glibc" "libstdcxx" "zlib" ] ];
  };

  dependencies-are-the-plan-packages = {
    expr = outPaths p.flask.args.dependencies;
    expected = [ p.click.outPath p.markupsafe.outPath ];
  };
  dependency-names = { expr = p.flask.dependencyNames; expected = [ "click" "markupsafe" ]; };
  no-runtime-check-switch-without-cycles = {
    expr = builtins.any (x: x.args ? dontCheckRuntimeDeps) (builtins.attrValues p);
    expected = false;
  };

  sdist-format = {
    expr = { inherit (p.markupsafe) format hooks runsRuntimeDepsCheck; hasFormat = p.markupsafe.args ? format; pyproject = p.markupsafe.args.pyproject; };
    expected = {
      format = "pyproject";
      hooks = [ "pypaBuildHook" "pythonRuntimeDepsCheckHook" "pypaInstallHook" ];
      runsRuntimeDepsCheck = true;
      hasFormat = false;
      pyproject = true;
    };
  };
  sdist-src = {
    expr = { inherit (p.markupsafe.args.src) name url hash; };
    expected = {
      name = "markupsafe-3.0.2.tar.gz";
      url = "https://files.example.invalid/packages/ab/cd/markupsafe-3.0.2.tar.gz";
      hash = h.fakeHash "S";
    };
  };
  sdist-build-system-from-python-pkgs = {
    expr = outPaths p.markupsafe.args.build-system;
    expected = [ s.setuptools.outPath s.wheel.outPath ];
  };
  sdist-skips-build-requirement-check = {
    expr = p.markupsafe.args.pypaBuildFlags;
    expected = [ "--skip-dependency-check" ];
  };
  sdist-without-build-system-gets-setuptools = {
    expr = pnames p.legacy.args.build-system;
    expected = [ "setuptools" ];
  };
  zip-sdist-keeps-its-extension = { expr = p.legacy.args.src.name; expected = "legacy-0.9.zip"; };
  native-build-inputs = { expr = names p.pillow.args.nativeBuildInputs; expected = [ "pkg-config" ]; };
  build-inputs-dotted-paths = { expr = names p.pillow.args.buildInputs; expected = [ "libjpeg" "zlib" "libxcb" ]; };
  no-inputs-means-empty-lists = {
    expr = [ p.flask.args.nativeBuildInputs p.flask.args.buildInputs ];
    expected = [ [ ] [ ] ];
  };

  roots = { expr = pnames r.roots; expected = [ "flask" "pillow" ]; };
  roots-are-the-packages = { expr = outPaths r.roots; expected = [ p.flask.outPath p.pillow.outPath ]; };
  env-holds-every-package = {
    expr = r.env.extraLibs;
    expected = [ "click" "flask" "legacy" "markupsafe" "numpy" "pillow" ];
  };
  env-closure = {
    expr = builtins.attrNames r.env.closure;
    expected = [ "click" "flask" "legacy" "markupsafe" "numpy" "pillow" ];
  };
  python-is-python3 = { expr = r.python.pythonModuleId; expected = "cpython-3.11-x86_64-linux"; };

  other-python-selects-other-target = {
    expr = builtins.attrNames (h.evalPlan { inherit plan; pythonVersion = "3.12"; }).packages;
    expected = [ "wrong" ];
  };
  other-system-selects-other-target = {
    expr = (h.evalPlan { inherit plan; system = "aarch64-darwin"; }).targetId;
    expected = "aarch64-darwin-3.11";
  };

  override-reaches-dependents =
    let
      o = r.overridePackages (final: prev: {
        click = prev.click.overridePythonAttrs (old: { version = "8.1.9"; });
      });
    in
    {
      expr = {
        clickVersion = o.packages.click.version;
        flaskSeesIt = builtins.head (outPaths o.packages.flask.args.dependencies) == o.packages.click.outPath;
        changed = o.packages.click.outPath != p.click.outPath;
        env = o.env.closure.click == o.packages.click.outPath;
      };
      expected = { clickVersion = "8.1.9"; flaskSeesIt = true; changed = true; env = true; };
    };
}
