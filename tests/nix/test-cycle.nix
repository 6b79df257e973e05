# Dependency cycles: cycle-breaks cut the back edges, so evaluating every
# derivation (whose output path needs its dependencies') terminates, and the
# environment still holds every package.
let
  h = import ./lib.nix;
  plans = import ./plans.nix;
  r = h.evalPlan { plan = plans.cyclic; };
  p = r.packages;
in
{
  everything-evaluates = { expr = h.forceAll r; expected = true; };
  # Everything but `python` (the interpreter, whose package set is not ours).
  whole-result-deeply = { expr = builtins.deepSeq (removeAttrs r [ "python" ]) true; expected = true; };
  env-holds-every-package = { expr = r.env.extraLibs; expected = [ "a" "b" "s" "w" "x" "y" "z" ]; };
  env-closure = { expr = builtins.attrNames r.env.closure; expected = [ "a" "b" "s" "w" "x" "y" "z" ]; };
  cut-edge-not-propagated = {
    expr = { b = p.b.dependencyNames; z = p.z.dependencyNames; s = p.s.dependencyNames; };
    expected = { b = [ ]; z = [ "w" ]; s = [ ]; };
  };
  kept-edges-propagated = {
    expr = { a = p.a.dependencyNames; x = p.x.dependencyNames; y = p.y.dependencyNames; };
    expected = { a = [ "b" ]; x = [ "y" ]; y = [ "z" ]; };
  };
  a-closure-holds-b = { expr = builtins.attrNames p.a.closure; expected = [ "a" "b" ]; };
  runtime-check-off-only-where-cut = {
    expr = builtins.mapAttrs (_: x: x.args.dontCheckRuntimeDeps or false) p;
    expected = { a = false; b = true; s = true; w = false; x = false; y = false; z = true; };
  };
  runtime-check-runs-for-uncut-sdist = {
    expr = builtins.mapAttrs (_: x: x.runsRuntimeDepsCheck) { inherit (p) a b z s; };
    expected = { a = true; b = false; z = false; s = false; };
  };
  roots = { expr = h.pnames r.roots; expected = [ "a" "x" "s" ]; };

  # Control: without the cuts the same packages cannot be evaluated, so the
  # tests above would catch a logic that ignored cycle-breaks.
  uncut-cycle-is-infinite = {
    expr = h.forceAll (h.evalPlan { plan = plans.cyclicUncut; });
    expectError = "infinite recursion";
  };
}
