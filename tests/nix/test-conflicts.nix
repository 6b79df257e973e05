# uv's `conflicts`: `envWith` refuses a choice of groups and extras of which
# two are in one of the plan's `project.conflicts` sets, and allows the others.
let
  h = import ./lib.nix;
  inherit (h) wheel;

  pkg = name: version: {
    inherit version;
    src = wheel "${name}-${version}-py3-none-any.whl";
    dependencies = [ ];
  };

  plan = {
    schema = 1;
    generator = "py2nix 0.1.0";
    project = {
      name = "app";
      groups = [ "group-a" "group-b" "group-c" ];
      dev-groups = [ "group-a" ];
      extras = [ "extra-a" ];
      conflicts = [
        [ { group = "group-a"; } { group = "group-b"; } ]
        [ { group = "group-a"; } { group = "group-c"; } { extra = "extra-a"; } ]
      ];
    };
    targets."x86_64-linux-3.11" = {
      system = "x86_64-linux";
      python = "3.11";
      roots = [ ];
      packages = {
        urllib3 = pkg "urllib3" "2.3.0";
        arpeggio = pkg "arpeggio" "2.0.2";
        tqdm = pkg "tqdm" "4.67.1";
        attrs = pkg "attrs" "23.1.0";
      };
      selections = {
        main = [ ];
        groups = { group-a = [ "urllib3" ]; group-b = [ "arpeggio" ]; group-c = [ "tqdm" ]; };
        extras.extra-a = [ "attrs" ];
      };
    };
  };

  py = h.evalPlan { inherit plan; root = h.localRoot; };
  libs = env: env.extraLibs;
in
{
  two-conflicting-groups-are-refused = {
    expr = py.envWith { groups = [ "group-a" "Group_B" ]; };
    expectError = "py2nix: envWith: group 'group-a' and group 'group-b' cannot be installed together: the project declares them conflicting ([tool.uv] conflicts: group 'group-a', group 'group-b')";
  };
  a-group-and-an-extra-are-refused = {
    expr = py.envWith { groups = [ "group-c" ]; extras = [ "extra-a" ]; };
    expectError = "group 'group-c' and extra 'extra-a' cannot be installed together";
  };
  groups-of-different-sets-go-together = {
    expr = libs (py.envWith { groups = [ "group-b" "group-c" ]; });
    expected = [ "arpeggio" "tqdm" ];
  };
  one-item-of-a-set-is-fine = {
    expr = libs (py.envWith { extras = [ "extra-a" ]; });
    expected = [ "attrs" ];
  };
  dev-env-holds-the-default-group = {
    expr = libs py.devEnv;
    expected = [ "urllib3" ];
  };
}
