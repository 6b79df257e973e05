# The environments (env, devEnv, overridePackages' env) are built by the
# logic's mkEnv in linear time; they must be the very derivations
# python3.withPackages gives for the same packages (what the logic built
# before), here under the stubs, whose withPackages and requiredPythonModules
# follow nixpkgs' algorithm. Also: each package's own requiredPythonModules
# holds the modules nixpkgs' computation gives, and a list that is not closed
# (a replacement bringing a module from elsewhere) still gets nixpkgs' result.
let
  h = import ./lib.nix;
  plans = import ./plans.nix;
  inherit (builtins) attrNames attrValues filter listToAttrs map sort lessThan;

  examplePlan = name: builtins.fromJSON (builtins.readFile (./examples + "/${name}.json"));

  # Every target of a plan, evaluated for its own system and Python.
  results = { plan, root ? h.localRoot }: map
    (t: h.evalPlan { inherit plan root; inherit (t) system; pythonVersion = t.python; })
    (attrValues plan.targets);

  withPackagesOf = r: drvs: (r.python.withPackages (_: drvs)).outPath;

  # What the logic gave before: withPackages over the same packages.
  sameAsWithPackages = r:
    let
      editable = filter (n: (r.target.packages.${n}.src.editable or false) == true) (attrNames r.packages);
    in
    r.env.outPath == withPackagesOf r (attrValues r.packages)
    && r.devEnv.outPath == withPackagesOf r (attrValues (removeAttrs r.packages editable));

  # Replace the first package that has dependents by an overridden copy.
  overridden = r:
    let
      name = builtins.head (attrNames r.packages);
    in
    r.overridePackages (final: prev: {
      ${name} = prev.${name}.overridePythonAttrs (old: { version = "0.0.0-overridden"; });
    });

  keys = drvs: sort lessThan (map (d: d.outPath) drvs);

  cyclic = h.evalPlan { plan = plans.cyclic; };
  combined = h.evalPlan { plan = plans.combined; };
in
{
  example-envs-are-the-withpackages-derivations = {
    expr = map (args: map sameAsWithPackages (results args)) [
      { plan = examplePlan "poetry-flask-pillow"; }
      { plan = examplePlan "poetry-cycle"; }
      # Its editable members are local paths, relative to the fixture.
      { plan = examplePlan "uv-workspace"; root = ../../fixtures/uv/workspace; }
    ];
    expected = [ (builtins.genList (_: true) 12) (builtins.genList (_: true) 12) (builtins.genList (_: true) 16) ];
  };

  shared-plan-envs-are-the-withpackages-derivations = {
    expr = map sameAsWithPackages [ cyclic combined (h.evalPlan { plan = plans.sources; root = h.localRoot; }) ];
    expected = [ true true true ];
  };

  overridden-env-is-the-withpackages-derivation = {
    expr = map
      (r: let o = overridden r; in o.env.outPath == withPackagesOf r (attrValues o.packages) && o.env.outPath != r.env.outPath)
      ([ cyclic combined ] ++ results { plan = examplePlan "poetry-flask-pillow"; });
    expected = builtins.genList (_: true) 14;
  };

  # The environment links the interpreter, then the packages in name order.
  env-paths = {
    expr = cyclic.env.paths;
    expected = [ "python" "a" "b" "s" "w" "x" "y" "z" ];
  };

  # A replacement bringing a module the plan does not hold: the list is not
  # closed, nixpkgs' requiredPythonModules decides (and adds it).
  open-list-falls-back-to-nixpkgs = {
    expr =
      let
        o = cyclic.overridePackages (final: prev: {
          a = prev.a.overridePythonAttrs (old: { dependencies = old.dependencies ++ [ cyclic.python.pkgs.setuptools ]; });
        });
      in
      {
        same = o.env.outPath == withPackagesOf cyclic (attrValues o.packages);
        paths = o.env.paths;
      };
    expected = {
      same = true;
      paths = [ "python" "a" "b" "s" "w" "x" "y" "z" "setuptools" ];
    };
  };

  # Each package's requiredPythonModules: the set nixpkgs' algorithm gives.
  package-modules-are-nixpkgs-set = {
    expr = map
      (r: map (p: keys p.requiredPythonModules == keys (r.python.pkgs.requiredPythonModules p.propagatedBuildInputs))
        (attrValues r.packages))
      [ cyclic combined ];
    expected = map (r: map (_: true) (attrValues r.packages)) [ cyclic combined ];
  };

  # ... and so does withPackages over one package.
  one-package-environment-holds-its-closure = {
    expr = (cyclic.python.withPackages (_: [ cyclic.packages.x ])).paths;
    expected = [ "python" "x" "y" "z" "w" ];
  };

  package-modules-also-in-passthru = {
    expr = keys cyclic.packages.a.passthru.requiredPythonModules == keys cyclic.packages.a.requiredPythonModules;
    expected = true;
  };
}
