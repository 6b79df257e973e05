# flake.nix's outputs, evaluated against a stub nixpkgs input
# (stub-nixpkgs.nix: nixpkgs' python3 is 3.14 there, and python311 to
# python314 exist). The template's flake is evaluated as the checks do, with
# this repository as its py2nix input.
let
  flake = import ../../flake.nix;
  templateFlake = import ../../templates/default/flake.nix;
  h = import ./lib.nix;
  systems = [ "x86_64-linux" "aarch64-linux" "x86_64-darwin" "aarch64-darwin" ];
  nixpkgs = import ./stub-nixpkgs.nix;
  inherit (nixpkgs.lib) genAttrs;
  stubPkgs = system: nixpkgs.legacyPackages.${system};
  outputs = flake.outputs { self = outputs; inherit nixpkgs; };
  drv = outputs.packages.x86_64-linux.default;
  checks = outputs.checks.x86_64-linux;
  template = templateFlake.outputs { self = template; inherit nixpkgs; py2nix = outputs; };
  readJSON = file: builtins.fromJSON (builtins.readFile file);
  targetPackages = plan: id: builtins.attrNames plan.targets.${id}.packages;
  examplePlan = name: readJSON (./examples + "/${name}.json");
  templatePlan = (outputs.lib.fromPythonNix { file = ../../templates/default/python.nix; pkgs = stubPkgs "x86_64-linux"; }).plan;
  # The Python an environment's packages are built for ("3.13").
  pythonOfEnv = env: builtins.head (builtins.match "/nix/store/[a-z0-9]{32}-python(3[.][0-9]+)-.*"
    (builtins.head (builtins.attrValues env.closure)));
in
{
  input = { expr = flake.inputs.nixpkgs.url; expected = "github:NixOS/nixpkgs/nixos-unstable"; };
  systems = {
    expr = map builtins.attrNames [ outputs.packages outputs.apps outputs.checks ];
    expected = [
      [ "aarch64-darwin" "aarch64-linux" "x86_64-darwin" "x86_64-linux" ]
      [ "aarch64-darwin" "aarch64-linux" "x86_64-darwin" "x86_64-linux" ]
      [ "aarch64-darwin" "aarch64-linux" "x86_64-darwin" "x86_64-linux" ]
    ];
  };
  package = {
    expr = {
      inherit (drv) pname version cargoBuildFlags doCheck;
      lock = builtins.baseNameOf drv.cargoLock.lockFile;
      src = builtins.pathExists (drv.src + "/crates/py2nix");
      mainProgram = drv.meta.mainProgram;
    };
    expected = {
      pname = "py2nix";
      version = "0.1.0";
      cargoBuildFlags = [ "-p" "py2nix" ];
      doCheck = false;
      lock = "Cargo.lock";
      src = true;
      mainProgram = "py2nix";
    };
  };
  app = {
    expr = outputs.apps.aarch64-darwin.default // { meta = null; };
    expected = {
      type = "app";
      program = "/nix/store/00000000000000000000000000000000-py2nix-0.1.0-aarch64-darwin/bin/py2nix";
      meta = null;
    };
  };
  overlay = {
    expr = ((outputs.overlays.default (stubPkgs "aarch64-linux") { }).py2nix).outPath;
    expected = "/nix/store/00000000000000000000000000000000-py2nix-0.1.0-aarch64-linux";
  };

  # ---------------------------------------------------------------- lib

  lib-is-nix-lib = {
    expr = builtins.attrNames outputs.lib;
    expected = builtins.attrNames (import ../../nix/lib.nix);
  };
  lib-functions = {
    expr = builtins.attrNames outputs.lib;
    expected = [ "fromPlan" "fromPythonNix" "mkDevShell" "pythonFor" ];
  };

  # ---------------------------------------------------------------- templates

  template-path = {
    expr = {
      path = outputs.templates.default.path == ../../templates/default;
      description = builtins.isString outputs.templates.default.description;
      files = map (f: builtins.pathExists (outputs.templates.default.path + "/${f}"))
        [ "flake.nix" "python.nix" "pyproject.toml" "uv.lock" "README.md" "src/hello/__init__.py" ];
    };
    expected = { path = true; description = true; files = [ true true true true true true ]; };
  };
  template-inputs = {
    expr = templateFlake.inputs;
    expected = {
      nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";
      py2nix.url = "github:OWNER/py2nix";
      py2nix.inputs.nixpkgs.follows = "nixpkgs";
    };
  };
  template-outputs = {
    expr = map builtins.attrNames [ template.packages.x86_64-linux template.devShells.aarch64-darwin template.checks.x86_64-darwin ];
    expected = [ [ "default" "env" ] [ "default" ] [ "default" "devShell" "env" ] ];
  };
  template-application = {
    expr =
      let app = template.packages.x86_64-linux.default; in
      {
        inherit (app) pname version application;
        inherit (app.args) pyproject;
        mainProgram = app.meta.mainProgram;
        build-system = h.pnames app.args.build-system;
        dependencies = app.dependencyNames;
        python = app.pythonModule;
        # The project's own directory, copied without python.nix, flake.nix and flake.lock.
        src = builtins.match "/nix/store/[a-z0-9]{32}-(.*)" app.args.src;
        forced = builtins.isString app.outPath;
      };
    expected = {
      pname = "hello";
      version = "0.1.0";
      application = true;
      pyproject = true;
      mainProgram = "hello";
      # Its own build environment: hatchling and what hatchling needs (`build-closure`).
      build-system = [ "hatchling" "packaging" "pathspec" "pluggy" "tomlkit" "trove-classifiers" ];
      dependencies = [ "click" ];
      python = "cpython-3.14-x86_64-linux";
      src = [ "hello-source" ];
      forced = true;
    };
  };
  template-env = {
    expr = template.packages.aarch64-linux.env.extraLibs;
    expected = templatePlan.targets.aarch64-linux-cp314.selections.main;
  };
  template-dev-shell = {
    expr =
      let shell = template.devShells.x86_64-darwin.default; in
      {
        packages = map (p: p.type or p.name) shell.nativeBuildInputs;
        devEnv = (builtins.head shell.nativeBuildInputs).extraLibs;
        # Its lines, with the store hash of the scripts' derivation left out.
        shellHook = map (line: line + "\n") (builtins.filter (l: builtins.isString l && l != "")
          (builtins.split "\n" (builtins.concatStringsSep "" (map (x: if builtins.isList x then "/nix/store/_-" else x)
            (builtins.split "/nix/store/[a-z0-9]{32}-" shell.shellHook)))));
        forced = builtins.isString shell.outPath;
      };
    expected = {
      packages = [ "python-env" "uv" ];
      devEnv = [ "click" "iniconfig" "packaging" "pluggy" "pygments" "pytest" ];
      shellHook = [
        "export PYTHONPATH=\"$PWD\"/'./src'\"\${PYTHONPATH:+:$PYTHONPATH}\"\n"
        "export PATH='/nix/store/_-hello-editable-scripts/bin'\"\${PATH:+:$PATH}\"\n"
      ];
      forced = true;
    };
  };

  # ---------------------------------------------------------------- checks

  check-names = {
    expr = builtins.attrNames checks;
    expected = [
      "example-poetry-cycle"
      "example-poetry-flask-pillow"
      "example-uv-workspace"
      "py2nix"
      "template"
      "template-dev-shell"
      "template-env"
    ];
  };
  check-py2nix-is-the-package = { expr = checks.py2nix.outPath; expected = drv.outPath; };
  check-template-is-the-template = {
    expr = map (n: checks.${n}.outPath) [ "template" "template-env" "template-dev-shell" ];
    expected = map (d: d.outPath) [
      template.packages.x86_64-linux.default
      template.packages.x86_64-linux.env
      template.devShells.x86_64-linux.default
    ];
  };
  # The examples' plans hold no 3.14 target (requires-python < 3.14) but for
  # the workspace: each is built for a Python it has.
  check-examples = {
    expr = genAttrs [ "poetry-cycle" "poetry-flask-pillow" "uv-workspace" ] (name:
      let env = outputs.checks.aarch64-darwin."example-${name}"; in
      { python = pythonOfEnv env; libs = env.extraLibs; });
    expected = {
      poetry-cycle = { python = "3.13"; libs = targetPackages (examplePlan "poetry-cycle") "aarch64-darwin-cp313"; };
      poetry-flask-pillow = { python = "3.13"; libs = targetPackages (examplePlan "poetry-flask-pillow") "aarch64-darwin-cp313"; };
      uv-workspace = { python = "3.14"; libs = targetPackages (examplePlan "uv-workspace") "aarch64-darwin-cp314"; };
    };
  };
  # Every check of every system evaluates to an output path.
  checks-evaluate = {
    expr = builtins.attrValues (builtins.mapAttrs
      (_: cs: builtins.attrValues (builtins.mapAttrs (_: c: builtins.isString c.outPath) cs))
      outputs.checks);
    expected = map (_: [ true true true true true true true ]) systems;
  };
}
