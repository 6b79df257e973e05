# What may be evaluated without the nixpkgs arguments, and what the logic
# must not force.
let
  h = import ./lib.nix;
  plans = import ./plans.nix;
  plan = plans.combined;
  refuse = what: throw "the ${what} argument was forced";
  bare = h.logic {
    inherit plan;
    pkgs = refuse "pkgs";
    stdenv = refuse "stdenv";
    fetchurl = refuse "fetchurl";
    python3 = refuse "python3";
  };
  r = h.evalPlan { inherit plan; };

  # The sources plan with a pkgs whose fetchgit, and a root, may not be forced.
  lazySources =
    let s = h.stubs { };
    in h.logic (s.args // {
      plan = plans.sources;
      pkgs = s.pkgs // { fetchgit = refuse "pkgs.fetchgit"; };
      root = refuse "root";
    });
in
{
  plan-needs-no-arguments = { expr = builtins.deepSeq bare.plan (bare.plan == plan); expected = true; };
  result-attribute-names-need-no-arguments = {
    expr = builtins.attrNames bare;
    expected = [ "devEnv" "editableShellHook" "env" "envWith" "overridePackages" "packages" "plan" "python" "roots" "target" "targetId" ];
  };
  # The same for a plan with git, index and local sources, and a `root`
  # that must not be forced either.
  sources-plan-needs-no-arguments =
    let
      b = h.logic {
        plan = plans.sources;
        pkgs = refuse "pkgs";
        stdenv = refuse "stdenv";
        fetchurl = refuse "fetchurl";
        python3 = refuse "python3";
        root = refuse "root";
      };
    in
    {
      expr = builtins.deepSeq b.plan [ (b.plan == plans.sources) (builtins.length (builtins.attrNames b)) ];
      expected = [ true 11 ];
    };
  sources-package-names-need-only-the-target = {
    expr = builtins.attrNames (h.logic {
      plan = plans.sources;
      pkgs = refuse "pkgs";
      fetchurl = refuse "fetchurl";
      root = refuse "root";
      stdenv.hostPlatform.system = "x86_64-linux";
      python3 = { pythonVersion = "3.11"; pkgs = refuse "python3.pkgs"; withPackages = refuse "withPackages"; };
    }).packages;
    expected = builtins.attrNames plans.sourcePackages;
  };
  # pkgs.fetchgit and root are forced by the packages from git and local
  # paths only (and root by editableShellHook); the others build without.
  index-packages-need-neither-fetchgit-nor-root = {
    expr = map (n: builtins.deepSeq [ lazySources.packages.${n}.outPath lazySources.packages.${n}.args ] true)
      [ "plain" "private-wheel" "private-sdist" ];
    expected = [ true true true ];
  };
  git-package-forces-fetchgit = {
    expr = lazySources.packages.gitpkg.outPath;
    expectError = "the pkgs.fetchgit argument was forced";
  };
  path-package-forces-root = {
    expr = lazySources.packages.tree.outPath;
    expectError = "the root argument was forced";
  };
  editable-shell-hook-forces-root = {
    expr = lazySources.editableShellHook;
    expectError = "the root argument was forced";
  };
  # A git or path package's arguments other than src (and the dependencies,
  # which hold other packages' sources) force neither.
  git-and-path-packages-lazy-in-src = {
    expr = map (n: builtins.deepSeq (removeAttrs lazySources.packages.${n}.args [ "src" "dependencies" ]) lazySources.packages.${n}.pname)
      [ "gitpkg" "gitsub" "tree" "tiny" "flat" ];
    expected = [ "gitpkg" "gitsub" "tree" "tiny" "flat" ];
  };
  no-editable-packages-hook-needs-no-root = {
    expr = (h.logic ((h.stubs { }).args // { inherit plan; root = refuse "root"; })).editableShellHook;
    expected = "";
  };
  # Listing the packages needs the target, not the package set or fetchurl.
  package-names-need-only-the-target = {
    expr = builtins.attrNames (h.logic {
      inherit plan;
      pkgs = refuse "pkgs";
      fetchurl = refuse "fetchurl";
      stdenv.hostPlatform.system = "x86_64-linux";
      python3 = { pythonVersion = "3.11"; pkgs = refuse "python3.pkgs"; withPackages = refuse "withPackages"; };
    }).packages;
    expected = [ "a" "b" "flask" "markupsafe" ];
  };
  # Only the asked-for attributes of pkgs and python3.pkgs are forced (the
  # stubs throw on pkgs.xorg.libX11, pkgs.cargo and python3.pkgs.flit-core).
  only-needed-inputs-forced = { expr = h.forceAll r; expected = true; };
  # A package whose input is missing fails alone.
  broken-package-fails-alone =
    let
      broken = h.evalPlan {
        plan = h.mkPlan {
          roots = [ "good" ];
          packages = {
            good = { version = "1"; src = h.wheel "good-1-py3-none-any.whl"; dependencies = [ ]; };
            bad = { version = "1"; src = h.sdist "bad-1.tar.gz"; dependencies = [ ]; build-inputs = [ "nope" ]; };
          };
        };
      };
    in
    {
      expr = {
        good = (builtins.tryEval broken.packages.good.outPath).success;
        bad = (builtins.tryEval (builtins.deepSeq broken.packages.bad.args.buildInputs null)).success;
      };
      expected = { good = true; bad = false; };
    };
}
