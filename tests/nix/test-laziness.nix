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
in
{
  plan-needs-no-arguments = { expr = builtins.deepSeq bare.plan (bare.plan == plan); expected = true; };
  result-attribute-names-need-no-arguments = {
    expr = builtins.attrNames bare;
    expected = [ "env" "overridePackages" "packages" "plan" "python" "roots" "target" "targetId" ];
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
