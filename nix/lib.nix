# py2nix's Nix-side helpers: the `lib` output of flake.nix, for projects that
# consume a generated python.nix or a JSON plan (`py2nix lock --format json`).
#
#   py2nix.lib.fromPlan { plan = ./plan.json; inherit pkgs; }
#   py2nix.lib.fromPythonNix { file = ./python.nix; inherit pkgs; }
#   py2nix.lib.mkDevShell { inherit pkgs python; packages = [ pkgs.ruff ]; }
#
# Every function takes the nixpkgs package set `pkgs` as an argument, so
# `lib` is the same for every system. Only `builtins` is used (no nixpkgs
# `lib`): the functions are tested with Nix alone, against stand-ins for
# nixpkgs (tests/nix/test-lib.nix). A plan is turned into packages by
# nix/python-logic.nix, the very code every python.nix embeds, so a JSON plan
# and the python.nix made from the same lock give the same result.
#
# The "python" these functions return or take is the attribute set a
# python.nix returns (python-logic.nix's header lists it): plan, targetId,
# target, packages, roots, env, python, overridePackages, devEnv and
# editableShellHook.
let
  inherit (builtins) concatStringsSep filter fromJSON functionArgs head intersectAttrs isAttrs isPath
    isString readFile toJSON;

  logic = import ./python-logic.nix;

  # The plan schema this logic reads (docs/plan-schema.md, "Stability").
  schema = 1;

  # A plan given as a file (a path, or a string naming one, such as
  # "${drv}/plan.json"), read lazily, or as an attribute set.
  readPlan = plan:
    if isAttrs plan then plan
    else if isPath plan || isString plan then fromJSON (readFile plan)
    else throw "py2nix.lib: `plan` must be a JSON plan file (a path) or an attribute set, not a ${builtins.typeOf plan}";

  describe = plan: if isAttrs plan then "the plan" else "the plan ${toString plan}";

  # The plan, refused (when used) if its schema is not the one this logic reads.
  checkedPlan = plan:
    let data = readPlan plan; in
    if isAttrs data && (data.schema or null) == schema then data
    else if isAttrs data && data ? schema then
      throw ("py2nix.lib: ${describe plan} has schema ${toJSON data.schema}, but this py2nix reads schema ${toString schema}: "
        + "use the py2nix that wrote it (update the flake input), or regenerate the plan")
    else throw "py2nix.lib: ${describe plan} is not a py2nix plan (it has no `schema`)";

  # The nixpkgs attribute of the CPython of a plan's `python` ("3.13" -> "python313").
  pythonAttr = version: "python" + concatStringsSep "" (filter isString (builtins.split "\\." version));
in
{
  # fromPlan { plan, pkgs, python3 ? pkgs.python3, root ? <the plan file's directory> }
  #
  # The package set and environments of a JSON plan, exactly as a python.nix
  # generated from the same lock gives them (the attributes listed above).
  #
  #   plan     a JSON plan file (`py2nix lock --format json -o plan.json`), as
  #            a path or a string naming a file, or the plan as an attribute
  #            set. A plan whose `schema` is not 1 is refused.
  #   pkgs     a nixpkgs package set (its stdenv and fetchurl are used, and
  #            pkgs.fetchgit and the inputs the plan names).
  #   python3  the nixpkgs Python to build for (pkgs.python312, ...); the
  #            plan's target for stdenv.hostPlatform.system and its version
  #            is used. See `pythonFor` to pick one the plan has.
  #   root     the directory `path` sources are relative to: the plan file's
  #            directory, as `-o` wrote them. For a plan given as an attribute
  #            set there is none by default, and a local path source fails
  #            with a message asking for it.
  #
  #   python = py2nix.lib.fromPlan { plan = ./plan.json; inherit pkgs; };
  #   # python.env, python.packages.requests, python.devEnv, ...
  fromPlan =
    { plan
    , pkgs
    , python3 ? pkgs.python3
    , stdenv ? pkgs.stdenv
    , fetchurl ? pkgs.fetchurl
    , root ? if isAttrs plan then null else dirOf plan
    }:
    logic {
      plan = checkedPlan plan;
      inherit pkgs stdenv fetchurl python3 root;
    };

  # fromPythonNix { file, pkgs, python3 ? pkgs.python3 }
  #
  # A generated python.nix applied the way `pkgs.callPackage file { inherit
  # python3; }` applies it (each argument it asks for taken from pkgs, python3
  # given), without the `override` attributes callPackage adds.
  #
  #   python = py2nix.lib.fromPythonNix { file = ./python.nix; inherit pkgs; python3 = pkgs.python312; };
  fromPythonNix = { file, pkgs, python3 ? pkgs.python3 }:
    let f = import file;
    in f (intersectAttrs (functionArgs f) (pkgs // { inherit pkgs python3; }));

  # mkDevShell { pkgs, python, packages ? [ ], shellHook ? "", ... }
  #
  # A development shell (pkgs.mkShell) with `python.devEnv` (the plan's
  # packages but the editable ones) and `python.editableShellHook` (which
  # puts the editable packages' working trees on PYTHONPATH; start the shell
  # in the directory holding python.nix or the plan file, e.g. the flake's
  # root), followed by your own `packages` and `shellHook`. Any other
  # argument (inputsFrom, env, name, ...) is passed on to mkShell.
  #
  #   devShells.default = py2nix.lib.mkDevShell {
  #     inherit pkgs python;
  #     packages = [ pkgs.ruff ];
  #     shellHook = ''export PYTHONPATH="$PWD/src''${PYTHONPATH:+:$PYTHONPATH}"'';
  #   };
  mkDevShell = { pkgs, python, packages ? [ ], shellHook ? "", ... }@args:
    pkgs.mkShell (removeAttrs args [ "pkgs" "python" ] // {
      packages = [ python.devEnv ] ++ packages;
      shellHook = python.editableShellHook + shellHook;
    });

  # pythonFor { plan, pkgs }
  #
  # A nixpkgs Python the plan has a target for on pkgs' system: pkgs.python3
  # when the plan has its version, else the newest pkgs.python3XX the plan
  # has (pkgs.python3 again when there is none, so that fromPlan stops with
  # its message naming the targets). For a plan made with fewer Python
  # versions than nixpkgs moves through:
  #
  #   python = py2nix.lib.fromPlan { inherit plan pkgs; python3 = py2nix.lib.pythonFor { inherit plan pkgs; }; };
  pythonFor = { plan, pkgs }:
    let
      data = checkedPlan plan;
      system = pkgs.stdenv.hostPlatform.system;
      targets = builtins.attrValues (data.targets or { });
      versions = map (t: t.python) (filter (t: (t.system or null) == system && t ? python) targets);
      available = filter (v: builtins.hasAttr (pythonAttr v) pkgs) versions;
      newest = builtins.foldl' (a: b: if builtins.compareVersions a b >= 0 then a else b) (head available) available;
    in
    if builtins.elem pkgs.python3.pythonVersion versions then pkgs.python3
    else if available == [ ] then pkgs.python3
    else pkgs.${pythonAttr newest};
}
