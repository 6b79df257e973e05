# nix/lib.nix (the flake's `lib`): fromPlan, fromPythonNix, mkDevShell and
# pythonFor, on the shared plans, on real JSON plans py2nix made from fixtures
# (examples/, see examples/update.sh) and on the template's python.nix.
let
  h = import ./lib.nix;
  plans = import ./plans.nix;
  lib = import ../../nix/lib.nix;
  inherit (h) pnames outPaths summary;

  s = h.stubs { };
  pkgs = s.pkgs;

  # A package set with several Pythons, as nixpkgs has (python3 is 3.13).
  pythonOf = system: version: (h.stubs { inherit system; pythonVersion = version; }).python3;
  multiPkgs = system:
    let p = (h.stubs { inherit system; pythonVersion = "3.13"; }).pkgs; in
    p // {
      python311 = pythonOf system "3.11";
      python312 = pythonOf system "3.12";
      python313 = p.python3;
      python314 = pythonOf system "3.14";
    };

  examplePlan = name: ./examples + "/${name}.json";
  readJSON = file: builtins.fromJSON (builtins.readFile file);
  planPackages = plan: python: system:
    let t = builtins.head (builtins.filter (t: t.system == system && t.python == python) (builtins.attrValues plan.targets));
    in builtins.attrNames t.packages;


  direct = h.evalPlan { plan = plans.combined; };
  fromAttrs = lib.fromPlan { plan = plans.combined; inherit pkgs; };

  workspace = lib.fromPlan { plan = examplePlan "uv-workspace"; pkgs = multiPkgs "x86_64-linux"; };
  fixtureDir = sub: builtins.path { path = ../../fixtures/uv/workspace/packages + "/${sub}"; name = "ws-${sub}-source"; };

  templateFile = ../../templates/default/python.nix;
  template = lib.fromPythonNix { file = templateFile; pkgs = multiPkgs "aarch64-darwin"; };

  sources = lib.fromPlan { plan = plans.sources; inherit pkgs; root = h.localRoot; };
  shell = lib.mkDevShell {
    inherit pkgs;
    python = sources;
    packages = [ pkgs.zlib ];
    shellHook = "echo ready\n";
    name = "my-shell";
    inputsFrom = [ pkgs.openssl ];
  };

  refuse = what: throw "the ${what} argument was forced";
in
{
  # ---------------------------------------------------------------- fromPlan

  from-attrs-is-the-logic = { expr = summary fromAttrs; expected = summary direct; };
  from-attrs-plan-is-returned = { expr = fromAttrs.plan == plans.combined; expected = true; };
  from-attrs-uses-pkgs-python3 = { expr = fromAttrs.python.pythonModuleId; expected = "cpython-3.11-x86_64-linux"; };
  # combined has no x86_64-linux/3.12 target: the logic's own message.
  from-attrs-other-python = {
    expr = (lib.fromPlan { plan = plans.combined; inherit pkgs; python3 = pythonOf "x86_64-linux" "3.12"; }).packages;
    expectError = "python.nix holds no plan for x86_64-linux with Python 3.12";
  };
  from-attrs-stdenv-decides-the-system = {
    expr = (lib.fromPlan { plan = plans.combined; inherit pkgs; stdenv = (h.stubs { system = "aarch64-darwin"; }).stdenv; python3 = pythonOf "aarch64-darwin" "3.12"; }).targetId;
    expected = "aarch64-darwin-3.12";
  };
  from-attrs-has-no-root = {
    expr = (lib.fromPlan { plan = plans.sources; inherit pkgs; }).packages.tiny.outPath;
    expectError = "which python.nix finds relative to its own directory: pass `root`";
  };
  from-attrs-with-root-is-the-logic = {
    expr = summary sources;
    expected = summary (h.evalPlan { plan = plans.sources; root = h.localRoot; });
  };
  plan-needs-no-pkgs = {
    expr = (lib.fromPlan { plan = examplePlan "poetry-cycle"; pkgs = refuse "pkgs"; }).plan.schema;
    expected = 1;
  };
  result-attribute-names = {
    expr = builtins.attrNames (lib.fromPlan { plan = plans.combined; pkgs = refuse "pkgs"; });
    expected = [ "devEnv" "editableShellHook" "env" "envWith" "overridePackages" "packages" "plan" "python" "roots" "target" "targetId" ];
  };

  from-file-reads-the-json = {
    expr = workspace.plan == readJSON (examplePlan "uv-workspace");
    expected = true;
  };
  from-file-builds-every-package = {
    expr = { forced = h.forceAll workspace; env = workspace.env.extraLibs; };
    expected = {
      forced = true;
      env = planPackages (readJSON (examplePlan "uv-workspace")) "3.13" "x86_64-linux";
    };
  };
  # Path sources are relative to the plan file's directory by default.
  from-file-root-is-the-plan-directory = {
    expr = [ (workspace.packages.ws-app.args.src == fixtureDir "app") (workspace.packages.ws-lib.args.src == fixtureDir "lib") ];
    expected = [ true true ];
  };
  from-file-root-can-be-given = {
    expr = (lib.fromPlan { plan = examplePlan "uv-workspace"; pkgs = multiPkgs "x86_64-linux"; root = ../nix/examples; }).packages.ws-app.args.src
      == fixtureDir "app";
    expected = true;
  };
  from-file-editable-members = {
    expr = { dev = workspace.devEnv.extraLibs; hook = workspace.editableShellHook; };
    expected = {
      dev = [ "attrs" "idna" "six" ];
      hook = "export PYTHONPATH=\"$PWD\"/'../../../fixtures/uv/workspace/packages/app/src'\"\${PYTHONPATH:+:$PYTHONPATH}\"\n"
        + "export PYTHONPATH=\"$PWD\"/'../../../fixtures/uv/workspace/packages/lib/src'\"\${PYTHONPATH:+:$PYTHONPATH}\"\n";
    };
  };
  # A file named by a string (e.g. "${drv}/plan.json") is the same as a path.
  from-file-as-string = {
    expr = summary (lib.fromPlan { plan = toString (examplePlan "uv-workspace"); pkgs = multiPkgs "x86_64-linux"; });
    expected = summary workspace;
  };
  from-file-cycle-example = {
    expr =
      let r = lib.fromPlan { plan = examplePlan "poetry-cycle"; pkgs = multiPkgs "aarch64-linux"; };
      in { forced = h.forceAll r; cut = r.packages.sphinxcontrib-applehelp.args.dontCheckRuntimeDeps or false; };
    expected = { forced = true; cut = true; };
  };
  from-file-binary-wheels-example = {
    expr =
      let r = lib.fromPlan { plan = examplePlan "poetry-flask-pillow"; pkgs = multiPkgs "aarch64-linux"; };
      in { forced = h.forceAll r; roots = pnames r.roots; pillow = map (d: d.name) r.packages.pillow.args.nativeBuildInputs; };
    expected = { forced = true; roots = [ "flask" "pillow" "requests" ]; pillow = [ "autoPatchelfHook" ]; };
  };

  refuses-another-schema = {
    expr = (lib.fromPlan { plan = plans.combined // { schema = 2; }; inherit pkgs; }).packages;
    expectError = "py2nix.lib: the plan has schema 2, but this py2nix reads schema 1";
  };
  refuses-a-non-plan = {
    expr = (lib.fromPlan { plan = { targets = { }; }; inherit pkgs; }).plan;
    expectError = "is not a py2nix plan (it has no `schema`)";
  };
  refuses-a-non-plan-file = {
    expr = (lib.fromPlan { plan = ../../Cargo.lock; inherit pkgs; }).plan;
    expectError = "parse error";
  };
  refuses-another-type = {
    expr = (lib.fromPlan { plan = 3; inherit pkgs; }).plan;
    expectError = "`plan` must be a JSON plan file (a path) or an attribute set, not a int";
  };

  # ---------------------------------------------------------------- fromPythonNix

  # The template's python.nix, written by py2nix, as callPackage applies it.
  python-nix-is-the-file-applied = {
    expr = summary template;
    expected = summary (import templateFile (h.stubs { system = "aarch64-darwin"; pythonVersion = "3.13"; }).args);
  };
  python-nix-target = { expr = template.targetId; expected = "aarch64-darwin-cp313"; };
  python-nix-builds = { expr = h.forceAll template; expected = true; };
  python-nix-python3-can-be-given = {
    expr = (lib.fromPythonNix { file = templateFile; pkgs = multiPkgs "x86_64-linux"; python3 = pythonOf "x86_64-linux" "3.11"; }).targetId;
    expected = "x86_64-linux-cp311";
  };
  # fromPlan on the same plan (as a file would give it) gives the same.
  python-nix-equals-from-plan = {
    expr = summary (lib.fromPlan { plan = template.plan; pkgs = multiPkgs "aarch64-darwin"; root = ../../templates/default; });
    expected = summary template;
  };
  # Only the arguments the file asks for are passed.
  python-nix-gets-only-its-arguments = {
    expr = lib.fromPythonNix { file = ./probe-args.nix; pkgs = multiPkgs "x86_64-linux"; };
    expected = [ "pkgs" "python3" "stdenv" "zlib" ];
  };

  # ---------------------------------------------------------------- mkDevShell

  dev-shell-packages = {
    expr = map (p: p.outPath) shell.nativeBuildInputs;
    expected = [ sources.devEnv.outPath pkgs.zlib.outPath ];
  };
  dev-shell-dev-env-leaves-out-editables = {
    expr = builtins.elem "flat" (builtins.head shell.nativeBuildInputs).extraLibs;
    expected = false;
  };
  dev-shell-hook = {
    expr = shell.shellHook;
    expected = sources.editableShellHook + "echo ready\n";
  };
  dev-shell-hook-has-the-editables = {
    expr = builtins.length (builtins.filter builtins.isList (builtins.split "export PYTHONPATH=" shell.shellHook));
    expected = 2;
  };
  dev-shell-passes-other-arguments = {
    expr = { inherit (shell) name; args = builtins.attrNames shell.args; inputsFrom = map (p: p.name) shell.args.inputsFrom; };
    expected = { name = "my-shell"; args = [ "inputsFrom" "name" "packages" "shellHook" ]; inputsFrom = [ "openssl" ]; };
  };
  dev-shell-defaults = {
    expr = let d = lib.mkDevShell { inherit pkgs; python = direct; }; in { hook = d.shellHook; n = builtins.length d.nativeBuildInputs; };
    expected = { hook = ""; n = 1; };
  };
  dev-shell-builds = {
    expr = builtins.isString "${shell}";
    expected = true;
  };

  # ---------------------------------------------------------------- pythonFor

  python-for-prefers-python3 = {
    expr = (lib.pythonFor { plan = examplePlan "uv-workspace"; pkgs = multiPkgs "x86_64-linux"; }).pythonVersion;
    expected = "3.13";
  };
  python-for-newest-the-plan-has = {
    expr = (lib.pythonFor {
      plan = examplePlan "poetry-cycle";
      pkgs = multiPkgs "x86_64-linux" // { python3 = pythonOf "x86_64-linux" "3.14"; };
    }).pythonVersion;
    expected = "3.13";
  };
  python-for-only-this-system = {
    expr = (lib.pythonFor { plan = plans.combined; pkgs = multiPkgs "x86_64-linux"; }).pythonVersion;
    expected = "3.11";
  };
  python-for-none-gives-python3 = {
    expr = (lib.pythonFor { plan = plans.combined; pkgs = multiPkgs "aarch64-linux"; }).pythonVersion;
    expected = "3.13";
  };
  python-for-missing-attribute-is-skipped = {
    expr = (lib.pythonFor { plan = plans.combined; pkgs = removeAttrs (multiPkgs "x86_64-linux") [ "python311" ]; }).pythonVersion;
    expected = "3.13";
  };
}
