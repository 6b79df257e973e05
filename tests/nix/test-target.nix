# Choosing the plan target for stdenv.hostPlatform.system and
# python3.pythonVersion, and the error when the file holds none.
let
  h = import ./lib.nix;
  plans = import ./plans.nix;
  plan = plans.combined;
  missing = h.evalPlan { inherit plan; system = "x86_64-linux"; pythonVersion = "3.12"; };
  empty = h.evalPlan { plan = { schema = 1; targets = { }; }; };
in
{
  missing-target-throws = { expr = (builtins.tryEval missing.target).success; expected = false; };
  missing-target-throws-for-packages = { expr = (builtins.tryEval missing.packages).success; expected = false; };
  missing-target-throws-for-env = {
    expr = (builtins.tryEval (builtins.deepSeq missing.env.extraLibs null)).success;
    expected = false;
  };
  missing-target-message = {
    expr = missing.target;
    expectError = "py2nix: python.nix holds no plan for x86_64-linux with Python 3.12; it has: aarch64-darwin/3.12, x86_64-linux/3.11. Regenerate with: py2nix lock --system x86_64-linux --python 3.12";
  };
  no-targets-message = {
    expr = empty.packages;
    expectError = "python.nix holds no plan for x86_64-linux with Python 3.11; it has: none.";
  };
  # The plan is still there when the target is not.
  plan-without-target = { expr = missing.plan == plan; expected = true; };
  found-target = {
    expr = with (h.evalPlan { inherit plan; system = "aarch64-darwin"; pythonVersion = "3.12"; }); [ targetId target.system target.python ];
    expected = [ "aarch64-darwin-3.12" "aarch64-darwin" "3.12" ];
  };
  # Python versions compare as strings: 3.1 is not 3.11.
  no-prefix-match = {
    expr = (builtins.tryEval (h.evalPlan { inherit plan; pythonVersion = "3.1"; }).targetId).success;
    expected = false;
  };
}
