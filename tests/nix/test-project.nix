# The project itself: `project`, `app`, `members`, the environments chosen at
# evaluation time (`env`, `devEnv`, `envWith`) and the editable shell hook.
let
  h = import ./lib.nix;
  inherit (h) wheel localTree;

  pkg = name: version: deps: {
    inherit version;
    src = wheel "${name}-${version}-py3-none-any.whl";
    dependencies = deps;
  };

  plan = {
    schema = 1;
    generator = "py2nix 0.1.0";
    project = {
      name = "imgapp";
      package = "imgapp";
      members = [ "imgapp" "imglib" ];
      groups = [ "dev" "docs" ];
      dev-groups = [ "dev" ];
      extras = [ "yaml" ];
    };
    targets."x86_64-linux-3.11" = {
      system = "x86_64-linux";
      python = "3.11";
      roots = [ "click" "imglib" ];
      packages = {
        imgapp = {
          version = "0.3.0";
          src = localTree "." // { editable = true; };
          dependencies = [ "click" "imglib" ];
          build-requires = [ "hatchling" ];
          scripts = { imgapp = "imgapp.cli:main"; };
        };
        imglib = {
          version = "0.1.0";
          src = localTree "tree" // { editable = true; };
          dependencies = [ "pillow" ];
          build-requires = [ "hatchling" ];
          scripts = { imglib-info = "imglib"; };
          gui-scripts = { imglib-view = "imglib.gui:App.run"; };
        };
        click = pkg "click" "8.1.8" [ ];
        pillow = pkg "pillow" "11.1.0" [ ];
        pytest = pkg "pytest" "8.3.4" [ "pluggy" ];
        pluggy = pkg "pluggy" "1.5.0" [ ];
        mkdocs = pkg "mkdocs" "1.6.1" [ "click" ];
        pyyaml = pkg "pyyaml" "6.0.2" [ ];
      };
      build-packages.hatchling = pkg "hatchling" "1.27.0" [ ];
      selections = {
        main = [ "click" "imglib" "pillow" ];
        groups = { dev = [ "pluggy" "pytest" ]; docs = [ "mkdocs" ]; };
        extras.yaml = [ "pyyaml" ];
      };
    };
  };

  py = h.evalPlan { inherit plan; root = h.localRoot; };
  libs = env: env.extraLibs;

  # The same plan as made before `selections` and `project` existed.
  oldPlan = plan // {
    project = null;
    targets."x86_64-linux-3.11" = removeAttrs plan.targets."x86_64-linux-3.11" [ "selections" ];
  };
  old = h.evalPlan { plan = removeAttrs oldPlan [ "project" ]; root = h.localRoot; };
in
{
  env-is-the-main-dependencies = {
    expr = libs py.env;
    expected = [ "click" "imglib" "pillow" ];
  };
  env-with-a-group-and-an-extra = {
    expr = libs (py.envWith { groups = [ "Dev" ]; extras = [ "YAML" ]; });
    expected = [ "click" "imglib" "pillow" "pluggy" "pytest" "pyyaml" ];
  };
  env-with-nothing-is-env = {
    expr = (py.envWith { }).outPath == py.env.outPath;
    expected = true;
  };
  env-with-an-unknown-group-names-the-known-ones = {
    expr = py.envWith { groups = [ "lint" ]; };
    expectError = "py2nix: envWith: this python.nix holds no group 'lint' (it holds: dev, docs)";
  };
  env-with-an-unknown-extra = {
    expr = py.envWith { extras = [ "pdf" ]; };
    expectError = "holds no extra 'pdf' (it holds: yaml)";
  };
  env-with-a-misspelt-argument = {
    expr = py.envWith { group = [ "dev" ]; };
    expectError = "envWith takes { groups = [ ... ]; extras = [ ... ]; }, not group";
  };
  dev-env-has-the-dev-groups-but-not-the-editable-packages = {
    expr = libs py.devEnv;
    expected = [ "click" "pillow" "pluggy" "pytest" ];
  };
  project-is-the-projects-package = {
    expr = [ py.project.pname py.project.version (py.project.outPath == py.packages.imgapp.outPath) ];
    expected = [ "imgapp" "0.3.0" true ];
  };
  project-is-built-from-its-tree-with-its-build-requires = {
    expr = map (d: d.pname) py.project.args.build-system;
    expected = [ "hatchling" ];
  };
  app-runs-the-only-script = {
    expr = [ py.app.application py.app.meta.mainProgram py.app.pname ];
    expected = [ true "imgapp" "imgapp" ];
  };
  members-are-the-packages-of-the-projects-trees = {
    expr = builtins.mapAttrs (_: m: m.pname) py.members;
    expected = { imgapp = "imgapp"; imglib = "imglib"; };
  };
  shell-hook-puts-trees-on-the-path-and-scripts-on-path = {
    expr =
      let
        hook = py.editableShellHook;
        has = s: builtins.match ".*${s}.*" (builtins.replaceStrings [ "\n" ] [ " " ] hook) != null;
      in
      [ (has "PYTHONPATH=\"[$]PWD\"/'[.]'") (has "'tree'") (has "export PATH='/nix/store/[^']*-imgapp-editable-scripts/bin'") ];
    expected = [ true true true ];
  };
  editable-scripts-run-the-entry-points = {
    expr =
      let
        # runCommand's script stands in for its output path, so the hook shows it.
        stubs = (h.stubs { system = "x86_64-linux"; pythonVersion = "3.11"; }).args;
        shown = h.logic ({ inherit plan; root = h.localRoot; } // stubs // {
          pkgs = stubs.pkgs // { runCommand = name: env: script: { outPath = script; }; };
        });
        script = shown.editableShellHook;
        has = s: builtins.match ".*${s}.*" (builtins.replaceStrings [ "\n" ] [ " " ] script) != null;
      in
      [
        (has "from imgapp[.]cli import main")
        (has "sys[.]exit[(]main[(][)][)]")
        (has "from imglib[.]gui import App")
        (has "sys[.]exit[(]App[.]run[(][)][)]")
        (has "runpy[.]run_module[(]\"imglib\"")
        (has "cat > \"[$]out/bin/\"[^<]*imglib-view[^<]*<<")
      ];
    expected = [ true true true true true true ];
  };
  a-hostile-entry-point-is-refused = {
    expr =
      let
        bad = plan // {
          targets."x86_64-linux-3.11" = plan.targets."x86_64-linux-3.11" // {
            packages = plan.targets."x86_64-linux-3.11".packages // {
              imgapp = plan.targets."x86_64-linux-3.11".packages.imgapp // {
                scripts = { imgapp = "os:system('x')"; };
              };
            };
          };
        };
      in
      (h.evalPlan { plan = bad; root = h.localRoot; }).editableShellHook;
    expectError = "py2nix: script 'imgapp' has an entry point py2nix cannot run: 'os:system('x')'";
  };
  overrides-reach-the-app-and-the-environments = {
    expr =
      let
        o = py.overridePackages (final: prev: {
          click = prev.click.overridePythonAttrs (old: { version = "9"; });
        });
      in
      [
        (o.app.outPath != py.app.outPath)
        (o.env.outPath != py.env.outPath)
        ((o.envWith { groups = [ "dev" ]; }).outPath != (py.envWith { groups = [ "dev" ]; }).outPath)
        (o.devEnv.outPath != py.devEnv.outPath)
      ];
    expected = [ true true true true ];
  };
  a-plan-without-selections-puts-everything-in-env = {
    expr = [ (libs old.env) (old ? app) (old ? members) ];
    expected = [ [ "click" "imgapp" "imglib" "mkdocs" "pillow" "pluggy" "pytest" "pyyaml" ] false false ];
  };
  a-plan-without-selections-refuses-a-choice = {
    expr = old.envWith { groups = [ "dev" ]; };
    expectError = "envWith: this python.nix was generated before groups and extras could be chosen";
  };
  nothing-to-build = {
    expr =
      let
        virtual = h.evalPlan {
          plan = plan // { project = { name = "x"; no-package = "`[tool.poetry] package-mode = false`"; }; };
        };
      in
      [ (virtual ? project) (virtual ? app) (virtual ? members) ];
    expected = [ false false false ];
  };
  the-plan-needs-no-argument-to-list-attributes = {
    expr = builtins.attrNames (h.logic {
      inherit plan;
      pkgs = throw "pkgs forced";
      stdenv = throw "stdenv forced";
      fetchurl = throw "fetchurl forced";
      python3 = throw "python3 forced";
    });
    expected = [ "app" "devEnv" "editableShellHook" "env" "envWith" "members" "overridePackages" "packages" "plan" "project" "python" "roots" "target" "targetId" ];
  };
}
