# Build environments per package: each package built from source gets exactly
# its own `build-closure` (keys of `build-packages`, else names of `packages`);
# two versions of one build tool coexist under `<name>@<version>` keys, and a
# build package shared by several environments is one derivation.
let
  h = import ./lib.nix;
  inherit (h) sdist wheel;
  plan = {
    schema = 1;
    generator = "py2nix 0.1.0";
    targets.x86_64-linux-311 = {
      system = "x86_64-linux";
      python = "3.11";
      roots = [ "numpy" "pandas" ];
      packages = {
        numpy = { version = "1.26.4"; src = sdist "numpy-1.26.4.tar.gz"; dependencies = [ ];
                  build-requires = [ "meson-python" ];
                  build-closure = [ "meson" "meson-python@0.15.0" "packaging" ]; };
        pandas = { version = "2.1.4"; src = sdist "pandas-2.1.4.tar.gz"; dependencies = [ "numpy" ];
                   build-requires = [ "meson-python" "numpy" ];
                   build-closure = [ "meson" "meson-python@0.13.1" "numpy" "packaging" ]; };
        packaging = { version = "24.0"; src = wheel "packaging-24.0-py3-none-any.whl"; dependencies = [ ]; };
      };
      build-packages = {
        meson = { version = "1.5.0"; src = wheel "meson-1.5.0-py3-none-any.whl"; dependencies = [ ]; };
        "meson-python@0.13.1" = { version = "0.13.1"; src = wheel "meson_python-0.13.1-py3-none-any.whl";
                                  dependencies = [ "meson" "packaging" ]; };
        "meson-python@0.15.0" = { version = "0.15.0"; src = wheel "meson_python-0.15.0-py3-none-any.whl";
                                  dependencies = [ "meson" "packaging" ]; };
      };
    };
  };
  r = h.evalPlan { inherit plan; };
  args = name: r.packages.${name}.args;
  names = name: map (d: "${d.pname}-${d.version}") (args name).build-system;
  meson = name: builtins.head (builtins.filter (d: d.pname == "meson") (args name).build-system);
in
{
  eachPackageGetsItsOwnClosure = {
    expr = [ (names "numpy") (names "pandas") ];
    expected = [
      [ "meson-1.5.0" "meson-python-0.15.0" "packaging-24.0" ]
      [ "meson-1.5.0" "meson-python-0.13.1" "numpy-1.26.4" "packaging-24.0" ]
    ];
  };
  aSharedBuildPackageIsOneDerivation = {
    expr = (meson "numpy").outPath == (meson "pandas").outPath;
    expected = true;
  };
  versionedKeysBuildTheNamedPackage = {
    expr = let m = builtins.elemAt (args "pandas").build-system 1; in [ m.pname m.args.src.url m.dependencyNames ];
    expected = [ "meson-python" (h.urlFor "meson_python-0.13.1-py3-none-any.whl") [ "meson" "packaging" ] ];
  };
  everythingEvaluates = {
    expr = builtins.deepSeq (map (p: p.outPath) [ r.packages.numpy r.packages.pandas ]) true;
    expected = true;
  };
}
