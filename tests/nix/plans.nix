# Plans shared by the tests and by run.sh (which writes `combined` into a
# generated python.nix).
let
  h = import ./lib.nix;
  inherit (h) wheel sdist;
in
rec {
  # a <-> b, the edge b -> a cut; x -> y -> z -> x, the edge z -> x cut;
  # s depends on itself.
  cyclicPackages = {
    a = { version = "1.0"; src = sdist "a-1.0.tar.gz"; dependencies = [ "b" ]; build-system = [ "hatchling" ]; };
    b = { version = "2.0"; src = sdist "b-2.0.tar.gz"; dependencies = [ "a" ]; cycle-breaks = [ "a" ]; build-system = [ "poetry-core" ]; };
    x = { version = "1"; src = wheel "x-1-py3-none-any.whl"; dependencies = [ "y" ]; };
    y = { version = "1"; src = wheel "y-1-py3-none-any.whl"; dependencies = [ "z" ]; };
    z = { version = "1"; src = sdist "z-1.tar.gz"; dependencies = [ "x" "w" ]; cycle-breaks = [ "x" ]; };
    w = { version = "1"; src = wheel "w-1-py3-none-any.whl"; dependencies = [ ]; };
    s = { version = "1"; src = sdist "s-1.tar.gz"; dependencies = [ "s" ]; cycle-breaks = [ "s" ]; };
  };

  cyclic = h.mkPlan { roots = [ "a" "x" "s" ]; packages = cyclicPackages; };

  # The same without the cuts.
  cyclicUncut = h.mkPlan {
    roots = [ "a" ];
    packages = builtins.mapAttrs (_: p: removeAttrs p [ "cycle-breaks" ]) { inherit (cyclicPackages) a b; };
  };

  combined = {
    schema = 1;
    generator = "py2nix 0.1.0";
    targets = {
      "x86_64-linux-3.11" = {
        system = "x86_64-linux";
        python = "3.11";
        roots = [ "flask" "a" ];
        packages = {
          flask = { version = "3.1.0"; src = wheel "flask-3.1.0-py3-none-any.whl"; dependencies = [ "markupsafe" ]; };
          markupsafe = {
            version = "3.0.2";
            src = sdist "markupsafe-3.0.2.tar.gz";
            dependencies = [ ];
            build-system = [ "setuptools" ];
            native-build-inputs = [ "pkg-config" ];
            build-inputs = [ "xorg.libxcb" ];
            warnings = [ "a warning" ];
          };
          inherit (cyclicPackages) a b;
        };
      };
      "aarch64-darwin-3.12" = {
        system = "aarch64-darwin";
        python = "3.12";
        roots = [ "flask" ];
        packages.flask = { version = "3.1.0"; src = wheel "flask-3.1.0-py3-none-any.whl"; dependencies = [ ]; };
      };
    };
  };
}
